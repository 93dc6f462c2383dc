#!/bin/bash
# A tunnel with our id left in the kernel (a crash): removed, tunnel comes up.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
inc ip l2tp add tunnel tunnel_id 1 peer_tunnel_id 77 encap udp local $CADDR remote $BADDR udp_sport 5000 udp_dport 5000
check "stale tunnel present" test -n "$(inc ip l2tp show tunnel)"
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
check "l2tpd said it removed the stale tunnel" grep -q 'stale kernel tunnel 1' "$T/client.log"
check "only our new tunnel exists" test "$(inc ip l2tp show tunnel | grep -c '^Tunnel')" = 1
finish
