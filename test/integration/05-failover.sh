#!/bin/bash
# Several brokers: a dead first broker, a refusing first broker, least usage
# (-a), random (-r) among ready ones only, and avoidance of a broker that
# failed to set up a tunnel.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
stop_client() { kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true; inc ip link del l2tp0 2>/dev/null || true; }

start_broker good -l $BADDR:8943
# 10.77.0.9 does not exist: the first broker never answers.
t0=$(now_ms)
make_hook
start_client -u u-$ID -i l2tp0 -b 10.77.0.9:$PORT -b $BADDR:8943 -s "$HOOK"
check "dead first broker: tunnel via the second" wait_for 20 grep -q 'tunnel up' "$T/good.log"
log "dead first broker: tunnel after $(( $(now_ms) - t0 )) ms"
stop_client

start_broker refuser -l $BADDR:$PORT -E
t0=$(now_ms)
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -b $BADDR:8943 -s "$HOOK"
check "refusing first broker: tunnel via the second" wait_for 20 count_is 2 'tunnel up' "$T/good.log"
log "refusing first broker: tunnel after $(( $(now_ms) - t0 )) ms"
kill -HUP "$CLIENT_PID"   # reselect: the refuser must stay avoided
check "reselected tunnel via the second again" wait_for 20 count_is 3 'tunnel up' "$T/good.log"
check "the refusing broker was asked only once" test "$(grep -c 'refused' "$T/refuser.log")" = 1
stop_client
kill -TERM "$refuser_PID" "$good_PID"; wait "$refuser_PID" "$good_PID" || true

start_broker busy -l $BADDR:$PORT -U 40000
start_broker idle -l $BADDR:8943 -U 100
start_client -a -u u-$ID -i l2tp0 -b $BADDR:$PORT -b $BADDR:8943 -s "$HOOK"
check "-a picks the broker with less usage" wait_for 20 grep -q 'tunnel up' "$T/idle.log"
check "-a did not use the busy broker" eval '! grep -q "tunnel up" "$T/busy.log"'
stop_client
kill -TERM "$busy_PID"; wait "$busy_PID" || true

for i in 1 2 3; do
	start_client -r -u u-$ID -i l2tp0 -b 10.77.0.9:$PORT -b $BADDR:8943 -s "$HOOK"
	check "-r run $i: tunnel via the only ready broker" wait_for 20 count_is $((i + 1)) 'tunnel up' "$T/idle.log"
	stop_client
done
finish
