#!/bin/bash
# The broker's first TUNNEL reply is lost: the re-reply carries no features,
# and l2tpd must still end up with session ids that match the broker's.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT -T
check "tunnel up and pinging" bring_up
sid_b=$(inb ip l2tp show session | sed -n 's/.*Session \([0-9]*\) in tunnel.*/\1/p' | tail -n 1)
peer_c=$(inc ip l2tp show session | sed -n 's/.*Peer session \([0-9]*\),.*/\1/p' | head -n 1)
check "client's peer session id ($peer_c) is the broker's session id ($sid_b)" test -n "$sid_b" -a "$sid_b" = "$peer_c"
finish
