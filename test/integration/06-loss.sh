#!/bin/bash
# 30 % loss on the control path in both directions: the tunnel still comes up.
# When the TUNNEL reply with features is lost and only a repeat without them
# arrives, l2tpd ends that tunnel and asks again from a new port, so the
# broker may have made more than one tunnel: the client says which is up.
. "$(dirname "$0")/../lib.sh"
need_l2tp
modprobe sch_netem 2>/dev/null || true
setup_net
inb tc qdisc add dev $VB root netem loss 30%
inc tc qdisc add dev $VC root netem loss 30%
start_broker broker -l $BADDR:$PORT
t0=$(now_ms)
make_hook
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
check "tunnel up despite 30 % loss" wait_for 60 grep -q 'tunnel up' "$T/client.log"
log "tunnel up after $(( $(now_ms) - t0 )) ms; tunnels made at the broker: $(grep -c 'tunnel up' "$T/broker.log")"
check "client interface up" wait_for 10 client_iface_up
inb tc qdisc del dev $VB root
inc tc qdisc del dev $VC root
check "broker end configured" configure_broker_end
check "traffic flows" tunnel_pings 20
finish
