#!/bin/bash
# A broker that makes one new tunnel per 15 s for everyone (the real
# broker's connection_rate_limit; ERROR on PREPARE within it) and loses its
# first TUNNEL reply, so the repeated PREPARE gets a reply without feature
# flags and l2tpd must redo the handshake on a new port: the redo is
# refused for the rate limit.  l2tpd backs off and retries (no hour of
# avoidance for a refusal of this kind): the tunnel is made once the limit
# has passed, with session ids that match the broker's, and pings.  Then a
# reselect (SIGHUP) inside the limit: refused again, and again back once
# the limit passes.  Bound: the limit plus 12 s of back-off slack.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
LIMIT=15
start_broker broker -l $BADDR:$PORT -T -L $LIMIT
make_hook
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
check "first tunnel made (its reply lost)" wait_for 20 count_at_least 1 'tunnel up' "$T/broker.log"
check "a PREPARE refused for the rate limit" wait_for 20 count_at_least 1 'reason=rate-limit' "$T/broker.log"
check "tunnel made once the limit passed" wait_for $((LIMIT + 12)) count_at_least 2 'tunnel up' "$T/broker.log"
t1=$(event_at 1 'tunnel up' "$T/broker.log" || echo 0)
t2=$(event_at 2 'tunnel up' "$T/broker.log" || echo 0)
log "second tunnel $((t2 - t1)) ms after the first (limit $LIMIT s)"
check "client up" wait_for 10 client_iface_up
sid_b=$(inb ip l2tp show session | sed -n 's/.*Session \([0-9]*\) in tunnel.*/\1/p' | tail -n 1)
peer_c=$(inc ip l2tp show session | sed -n 's/.*Peer session \([0-9]*\),.*/\1/p' | head -n 1)
check "client's peer session id ($peer_c) is the broker's session id ($sid_b)" test -n "$sid_b" -a "$sid_b" = "$peer_c"

# At once, while the limit still holds (the checks on the data plane take
# seconds under TCG, so they come after).
refusals=$(grep -c 'reason=rate-limit' "$T/broker.log" || true)
kill -HUP "$CLIENT_PID"
log "reselect $(( $(now_ms) - t2 )) ms after the second tunnel"
check "reselect inside the limit: refused" wait_for 10 count_at_least $((refusals + 1)) 'reason=rate-limit' "$T/broker.log"
check "reselect: tunnel made once the limit passed" wait_for $((LIMIT + 12)) count_at_least 3 'tunnel up' "$T/broker.log"
t3=$(event_at 3 'tunnel up' "$T/broker.log" || echo 0)
log "third tunnel $((t3 - t2)) ms after the second"
check "broker end configured" configure_broker_end
check "traffic flows after the reselect" tunnel_pings 15
sid_b=$(inb ip l2tp show session | sed -n 's/.*Session \([0-9]*\) in tunnel.*/\1/p' | tail -n 1)
peer_c=$(inc ip l2tp show session | sed -n 's/.*Peer session \([0-9]*\),.*/\1/p' | head -n 1)
check "after the reselect: client's peer session id ($peer_c) is the broker's ($sid_b)" test -n "$sid_b" -a "$sid_b" = "$peer_c"
finish "tunnels $((t2 - t1)) and $((t3 - t2)) ms apart (limit $LIMIT s)"
