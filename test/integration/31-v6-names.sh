#!/bin/bash
# Broker names over a dual-stack underlay, from a hosts file: a name with
# only an IPv6 address, and names with one address of each family where
# the first is dead, so the tunnel comes up at the other: every address of
# the name is asked at once, so the dead one costs no resend (2 s) before
# the live one is asked.  With both addresses alive under -g, exactly one
# broker gets the tunnel.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
add_underlay6
stop_client() { kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true; inc ip link del l2tp0 2>/dev/null || true; }
cat >"$T/hosts" <<HOSTS
127.0.0.1 localhost
$BADDR6 v6only.l2tpd.test
10.77.0.9 dead4-live6.l2tpd.test
$BADDR6 dead4-live6.l2tpd.test
fd77::9 dead6-live4.l2tpd.test
$BADDR dead6-live4.l2tpd.test
$BADDR both.l2tpd.test
$BADDR6 both.l2tpd.test
HOSTS
echo "nameserver 10.77.0.99" >"$T/resolv.conf"
export L2TPD_HOSTS=$T/hosts L2TPD_RESOLV_CONF=$T/resolv.conf

start_broker b6 -l "[$BADDR6]:$PORT"
start_broker b4 -l $BADDR:$PORT
check "name with only an IPv6 address: tunnel up" bring_up_at v6only.l2tpd.test:$PORT
check "... with the IPv6 broker" grep -q "tunnel up .*from=\[$CADDR6\]:" "$T/b6.log"
check "... none with the IPv4 one" eval '! grep -q "tunnel up" "$T/b4.log"'
stop_client

# tunnel_ms N LOG: from t0 to the N-th "tunnel up" in LOG (the broker's
# own wall-clock stamp).
tunnel_ms() { echo $(( $(event_at "$1" 'tunnel up' "$2" || echo 999999999999999) - t0 )); }
FAST=$((1500 * SLOW))

t0=$(now_ms)
check "name with a dead IPv4 and a live IPv6 address: tunnel up" bring_up_at dead4-live6.l2tpd.test:$PORT
d=$(tunnel_ms 2 "$T/b6.log")
log "dead IPv4, live IPv6: tunnel after $d ms, usable after $(( $(now_ms) - t0 )) ms"
check "... tunnel within $FAST ms (both addresses asked at once)" test "$d" -le $FAST
check "... with the IPv6 broker" test "$(grep -c "tunnel up .*from=\[$CADDR6\]:" "$T/b6.log")" = 2
check "... none with the IPv4 one" eval '! grep -q "tunnel up" "$T/b4.log"'
stop_client

t0=$(now_ms)
check "name with a dead IPv6 and a live IPv4 address: tunnel up" bring_up_at dead6-live4.l2tpd.test:$PORT
d=$(tunnel_ms 1 "$T/b4.log")
log "dead IPv6, live IPv4: tunnel after $d ms, usable after $(( $(now_ms) - t0 )) ms"
check "... tunnel within $FAST ms (both addresses asked at once)" test "$d" -le $FAST
check "... with the IPv4 broker" grep -q "tunnel up .*from=$CADDR:" "$T/b4.log"
check "... no new one with the IPv6 broker" test "$(grep -c "tunnel up" "$T/b6.log")" = 2
stop_client

check "name with both addresses alive, -g: tunnel up" bring_up_at both.l2tpd.test:$PORT -g
n4=$(grep -c "tunnel up" "$T/b4.log"); n6=$(grep -c "tunnel up" "$T/b6.log")
log "both alive: tunnels IPv4 broker $n4 (1 before), IPv6 broker $n6 (2 before)"
check "... exactly one new tunnel, at one of the two" test $((n4 + n6)) = 4
finish
