#!/bin/bash
# -I: the bind interface goes down for 20 s and comes back; l2tpd holds
# the tunnel meanwhile (the broker keeps it for 120 s), so the same tunnel
# carries traffic again, and while down l2tpd logs little and uses almost
# no CPU.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up -I $VC
inc ip link set $VC down
ticks0=$(awk '{print $14 + $15}' /proc/$CLIENT_PID/stat)
lines0=$(wc -l <"$T/client.log")
sleep 20
ticks1=$(awk '{print $14 + $15}' /proc/$CLIENT_PID/stat)
lines1=$(wc -l <"$T/client.log")
t0=$(now_ms)
inc ip link set $VC up
check "traffic flows again" tunnel_pings 15
log "traffic again $(( $(now_ms) - t0 )) ms after link up"
check "the same tunnel: one tunnel made at the broker" count_is 1 'tunnel up' "$T/broker.log"
check "no second session.up hook" count_is 1 '^session.up' "$HOOK_LOG"
# a spinning loop would burn 2000 ticks; sanitizer builds under TCG need a
# few for each back-off retry
check "CPU while down: $((ticks1 - ticks0)) ticks" test $((ticks1 - ticks0)) -le 30
check "log lines while down: $((lines1 - lines0))" test $((lines1 - lines0)) -le 12
finish "down 20 s: $((ticks1 - ticks0)) ticks, $((lines1 - lines0)) log lines"
