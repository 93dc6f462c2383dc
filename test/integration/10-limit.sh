#!/bin/bash
# -L 1000: the broker gets LIMIT once the tunnel is up, acknowledges it, and
# the client stops retransmitting.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up -L 1000
check "broker got LIMIT 1000" wait_for 5 grep -q 'limit .*bandwidth=1000' "$T/broker.log"
sleep 4
check "LIMIT sent exactly once" test "$(grep -c 'limit .*bandwidth=1000' "$T/broker.log")" = 1
finish
