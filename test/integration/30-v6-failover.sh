#!/bin/bash
# Dual-stack underlay, brokers of both families: a dead IPv6 first broker
# and a live IPv4 one, then a dead IPv4 first broker and a live IPv6 one.
# Each time the tunnel comes up with the live one, in its family, and
# carries pings.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
add_underlay6
stop_client() { kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true; inc ip link del l2tp0 2>/dev/null || true; }

# fd77::9 does not exist: the first broker never answers.
start_broker good4 -l $BADDR:8943
t0=$(now_ms)
check "dead IPv6 first broker: tunnel via the IPv4 one" \
	bring_up_at "[fd77::9]:$PORT" -b $BADDR:8943
log "dead IPv6 first broker: tunnel usable after $(( $(now_ms) - t0 )) ms"
check "... from the client's IPv4 address" grep -q "tunnel up .*from=$CADDR:" "$T/good4.log"
check "... kernel tunnel over IPv4" eval 'inc ip l2tp show tunnel | grep -q "From $CADDR to $BADDR"'
check "... ping broker -> client" ping_b2c
stop_client
kill -TERM "$good4_PID"; wait "$good4_PID" || true

start_broker good6 -l "[$BADDR6]:8943"
t0=$(now_ms)
check "dead IPv4 first broker: tunnel via the IPv6 one" \
	bring_up_at 10.77.0.9:$PORT -b "[$BADDR6]:8943"
log "dead IPv4 first broker: tunnel usable after $(( $(now_ms) - t0 )) ms"
check "... from the client's IPv6 address" grep -q "tunnel up .*from=\[$CADDR6\]:" "$T/good6.log"
check "... kernel tunnel over IPv6" eval 'inc ip l2tp show tunnel | grep -q "From $CADDR6 to $BADDR6"'
check "... ping broker -> client" ping_b2c
check "... MTU 1426" wait_for 15 mtu_is 1426
finish
