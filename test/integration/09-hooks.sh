#!/bin/bash
# Hooks get the documented arguments and a clean environment; a hook that
# sleeps for a minute delays nothing.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -v -l $BADDR:$PORT
HOOK_EXTRA='[ "$1" = session.mtu-changed ] && { echo "$*" >>'$T'/slow.log; sleep 60; }'
check "tunnel up" bring_up
check "session.up l2tp0, first" sh -c "head -n 1 $HOOK_LOG | grep -q \"^session.up l2tp0 \""
check "session.mtu-changed l2tp0 1446 with L2TPD_MTU" wait_for 10 grep -q '^session.mtu-changed l2tp0 1446 mtu_env=1446' "$HOOK_LOG"
check "hook ran $(wc -l <"$HOOK_LOG" 2>/dev/null || echo 0) times, inheriting no socket" hook_inherited_no_socket
check "slow hook is running" test -s "$T/slow.log"
n0=$(grep -c 'keepalive-rx' "$T/broker.log" || true)
sleep 12
n1=$(grep -c 'keepalive-rx' "$T/broker.log" || true)
check "keepalives kept flowing while the hook sleeps ($n0 -> $n1)" test $((n1 - n0)) -ge 2
check "tunnel still pings" ping_c2b
finish
