#!/bin/bash
# SIGTERM while session.up still runs: session.down starts only after it.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
HOOK_EXTRA='[ "$1" = session.up ] && { echo "up-start $(date +%s%N)" >>'$T'/order.log; sleep 3; echo "up-end $(date +%s%N)" >>'$T'/order.log; }
[ "$1" = session.down ] && echo "down-start $(date +%s%N)" >>'$T'/order.log'
make_hook
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
check "session.up started" wait_for 20 grep -q up-start "$T/order.log"
kill -TERM "$CLIENT_PID"
check "session.down ran" wait_for 20 grep -q down-start "$T/order.log"
wait "$CLIENT_PID" || true
check "order: up-start, up-end, down-start" test "$(cut -d' ' -f1 "$T/order.log" | tr '\n' ' ')" = "up-start up-end down-start "
ue=$(sed -n 's/^up-end //p' "$T/order.log")
ds=$(sed -n 's/^down-start //p' "$T/order.log")
check "down started after up ended" test "${ds:-0}" -ge "${ue:-1}"
finish
