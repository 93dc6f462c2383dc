#!/bin/bash
# SIGTERM over an IPv6-only underlay: ERROR 0x11 reaches the broker over
# IPv6, SESSION_DELETE and TUNNEL_DELETE are sent for our tunnel, nothing
# of ours is left in the kernel, the broker takes its tunnel down, exit 0.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net6
start_broker broker -l "[$BADDR6]:$PORT"
check "tunnel up" bring_up_at "[$BADDR6]:$PORT"
check "client's kernel tunnel over IPv6" eval 'inc ip l2tp show tunnel | grep -q "From $CADDR6 to $BADDR6"'
tid=$(inc ip l2tp show tunnel | sed -n 's/^Tunnel \([0-9]*\),.*/\1/p' | head -n 1)
check "found the tunnel id ($tid)" test -n "$tid"
inc strace -s 256 -xx -e trace=sendto,sendmsg -o "$T/sends.strace" \
	-p "$CLIENT_PID" 2>"$T/strace.log" &
STRACE_PID=$!
PIDS+=($STRACE_PID)
check "strace attached" wait_for 10 grep -q attached "$T/strace.log"
kill -TERM "$CLIENT_PID"
rc=0
wait "$CLIENT_PID" || rc=$?
wait "$STRACE_PID" || true
l2tp_cmds "$T/sends.strace" >"$T/cmds.log"
check "l2tpd exited with 0 (got $rc)" test "$rc" = 0
check "SESSION_DELETE then TUNNEL_DELETE sent for tunnel $tid ($(tr '\n' ' ' <"$T/cmds.log"))" \
	test "$(grep -E '^(2|6) ' "$T/cmds.log" | tr '\n' ' ')" = "6 $tid 2 $tid "
check "broker got ERROR 0x11 from the client's IPv6 address" wait_for 5 grep -q "error from=\[$CADDR6\]:.*reason=0x11" "$T/broker.log"
check "broker took its tunnel down" wait_for 5 grep -q "tunnel down .*from=\[$CADDR6\]:" "$T/broker.log"
check "no L2TP tunnel left in the broker namespace" wait_for 5 test -z "$(inb ip l2tp show tunnel)"
check "hook saw session.down l2tp0" wait_for 5 grep -q '^session.down l2tp0' "$HOOK_LOG"
check "no L2TP tunnel left in the client namespace" test -z "$(inc ip l2tp show tunnel)"
check "no l2tp0 left" eval '! inc ip link show l2tp0 >/dev/null 2>&1'
finish
