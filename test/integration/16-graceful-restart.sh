#!/bin/bash
# Graceful broker restart: the broker sends ERROR 0x02 (shutdown), its port
# is closed for a while (ICMP port unreachable), then it listens again.
# l2tpd keeps asking at a short steady interval, so the tunnel is back
# <= 300 ms after the broker answers again (median of the runs; the broker's
# own log stamps both moments, so no polling error).  Each run may take up
# to 800 ms (a 500 ms interval plus a handshake and a TCG stall), since one
# unlucky phase of the jittered interval is no failure of the median.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
backs=()
n=1
for away in ${AWAY_MS_LIST:-2000 5000 20000}; do
	sleep "$((1 + RANDOM % 4)).$((RANDOM % 10))"
	# -A is fixed at start, so each away time is a broker of its own
	# (restarted in place: the old one is told to go first).
	n=$((n + 1))
	kill -TERM "$broker_PID"; wait "$broker_PID" || true
	start_broker broker$n -A "$away" -l $BADDR:$PORT
	broker_PID=$(eval echo \$broker${n}_PID)
	check "away $away ms: tunnel at the new broker" wait_for 20 count_at_least 1 'tunnel up' "$T/broker$n.log"
	kill -USR1 "$broker_PID"
	check "away $away ms: restarted" wait_for $((away / 1000 + 10)) count_at_least 2 'listening' "$T/broker$n.log"
	check "away $away ms: tunnel back" wait_for 20 count_at_least 2 'tunnel up' "$T/broker$n.log"
	back=$(( $(event_at 2 'tunnel up' "$T/broker$n.log" || echo 999999) -
		$(event_at 2 'listening' "$T/broker$n.log" || echo 0) ))
	backs+=("$back")
	log "away $away ms: tunnel back $back ms after the broker listened again"
	check "away $away ms: back within 800 ms ($back ms)" test "$back" -le $((800 * SLOW))
	check "away $away ms: no stale tunnel left in the client namespace" \
		test "$(inc ip l2tp show tunnel | grep -c '^Tunnel')" -le 1
done
configure_broker_end
check "traffic flows after the last restart" tunnel_pings 15
med=$(median "${backs[@]}")
check "median tunnel back after the broker answers again: $med ms (target 300)" test "$med" -le $((300 * SLOW))
finish "back after ${backs[*]} ms (median $med)"
