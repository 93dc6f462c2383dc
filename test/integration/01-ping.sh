#!/bin/bash
# Tunnel up, ping both ways, and the negotiated MTU is exact: a full-size
# DF ping passes and one byte more does not.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
t0=$(now_ms)
check "tunnel up and pinging" bring_up
log "tunnel usable after $(( $(now_ms) - t0 )) ms"
check "ping client -> broker" ping_c2b
check "ping broker -> client" ping_b2c
check "client MTU is 1446" wait_for 10 mtu_is 1446
check "broker MTU is 1446" test "$(broker_mtu)" = 1446
mtu=$(client_mtu)
check "DF ping of $mtu bytes passes" ping_c2b -M do -s $((mtu - 28))
check "DF ping of $((mtu + 1)) bytes fails" eval '! ping_c2b -M do -s $((mtu - 27))'
check "hook saw session.up l2tp0" grep -q '^session.up l2tp0' "$HOOK_LOG"
check "hook saw session.mtu-changed l2tp0 1446" grep -q '^session.mtu-changed l2tp0 1446' "$HOOK_LOG"
second_rc=0
inc "$L2TPD" -f -u other -i l2tp0 -b $BADDR:$PORT >"$T/second.log" 2>&1 || second_rc=$?
check "a second l2tpd for l2tp0 refuses to start (exit $second_rc)" test "$second_rc" = 1
check "... saying why" grep -q 'already running for interface l2tp0' "$T/second.log"
check "first l2tpd unaffected" ping_c2b
check "status file says keepalive" grep -q '^state=keepalive$' /var/run/l2tpd/l2tp0.state
check "status file has the MTU" grep -q '^mtu=1446$' /var/run/l2tpd/l2tp0.state
finish "MTU $mtu"
