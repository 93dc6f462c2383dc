#!/bin/bash
# The uplink is renumbered under a working tunnel (a PPP or DHCP address
# change): the client's address goes and another one comes on the same
# link, with no link event.  The tunnel's socket keeps its old source
# address and cannot send any more, while a new socket can: l2tpd gives
# the tunnel up at its first probe and makes a new one from the new
# address.  Asserted: a new tunnel from the new address within 7.5 s of
# the change (the next keepalive finds the failure, at most 5 s later, a
# probe 1 s after that; dead-broker detection alone would take 10 s and
# a held tunnel would wait for ever), the hook pair, the log saying why,
# and traffic across the new tunnel.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
NEWADDR=10.77.0.3
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
# Let the first path MTU discovery and its log lines pass.
sleep 3
lines0=$(wc -l <"$T/client.log")
t0=$(now_ms)
inc ip addr del $CADDR/24 dev $VC
inc ip addr add $NEWADDR/24 dev $VC
check "a new tunnel from the new address" \
	wait_for 30 grep -q "tunnel up .*from=$NEWADDR:" "$T/broker.log"
d=$(( $(event_at 2 'tunnel up' "$T/broker.log" || echo 999999999999999) - t0 ))
limit=$((7500 + (SLOW - 1) * 1500))
log "renumbered: new tunnel $d ms after the change; client log:"
sed -n "$((lines0 + 1)),\$p" "$T/client.log" | sed 's/^/      /'
check "... within $limit ms ($d)" test "$d" -le "$limit"
check "the log says why" grep -q "our address is gone" "$T/client.log"
check "session.down, then session.up again" \
	wait_for 10 count_is 2 '^session.up' "$HOOK_LOG"
check "  ... one session.down between" count_is 1 '^session.down' "$HOOK_LOG"
check "client interface up again" wait_for 10 client_iface_up
check "broker end configured" configure_broker_end
check "traffic across the new tunnel" tunnel_pings 15
finish
