#!/bin/bash
# SIGTERM: ERROR 0x11 to the broker, session.down to the hook, SESSION_DELETE
# and TUNNEL_DELETE sent for our tunnel, nothing of ours left in the kernel,
# exit status 0.  Closing the socket alone would also remove the tunnel, so
# the requests themselves are read off l2tpd's system calls.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
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
check "broker got ERROR 0x11" wait_for 5 grep -q 'error .*reason=0x11' "$T/broker.log"
check "hook saw session.down l2tp0" wait_for 5 grep -q '^session.down l2tp0' "$HOOK_LOG"
check "no L2TP tunnel left in the client namespace" test -z "$(inc ip l2tp show tunnel)"
check "no l2tp0 left" eval '! inc ip link show l2tp0 >/dev/null 2>&1'
check "hook calls paired" test "$(grep -c '^session.up' "$HOOK_LOG")" = "$(grep -c '^session.down' "$HOOK_LOG")"
finish
