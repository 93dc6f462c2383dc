#!/bin/bash
# Broker crash and immediate restart (in place, SIGUSR2: tunnels gone
# without a word, same port at once, new cookie key): the new broker drops
# the old tunnel's datagrams silently.  l2tpd notices the missing
# keepalives (the broker sends one every 5 s once its random 3..14 s first
# one has come) and asks for a new tunnel (its first USAGE of the new
# round) <= 10 s after the crash, in every run; the new tunnel follows one
# handshake later (asserted within 11 s).  Times are all from the broker's
# log stamps.  Each crash comes after the
# first keepalive and a random pause, so it falls anywhere in the 5 s cycle.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT -v
check "tunnel up" bring_up
times=()
for i in $(seq "${CRASHES:-3}"); do
	first=$(grep 'tunnel up' "$T/broker.log" | tail -n 1 | sed -n 's/.*first_keepalive_ms=\([0-9]*\).*/\1/p')
	sleep "$(( ${first:-14000} / 1000 + 1 + RANDOM % 5 )).$((RANDOM % 10))"
	kill -USR2 "$broker_PID"
	check "crash $i: new tunnel" wait_for 40 count_at_least $((i + 1)) 'tunnel up' "$T/broker.log"
	d=$(( $(event_at $((i + 1)) 'tunnel up' "$T/broker.log" || echo 999999999999999) -
		$(event_at "$i" 'restart mode=crash' "$T/broker.log" || echo 0) ))
	crash_at=$(event_at "$i" 'restart mode=crash' "$T/broker.log" || echo 0)
	asked_at=$(grep 'type=USAGE' "$T/broker.log" | sed -n 's/.* at=\([0-9]*\).*/\1/p' |
		awk -v t0="$crash_at" '$1 >= t0 { print; exit }')
	noticed=$(( ${asked_at:-999999999999999} - crash_at ))
	times+=("$noticed/$d")
	log "crash $i (first keepalive after ${first:-?} ms): noticed $noticed ms, new tunnel $d ms after the crash"
	check "crash $i: noticed $noticed ms after the crash (target 10000)" test "$noticed" -le 10000
	check "crash $i: new tunnel $d ms after the crash (bound 11000)" test "$d" -le 11000
done
check "broker end configured" configure_broker_end
check "traffic flows over the new tunnel" tunnel_pings 15
check "hook calls paired" test "$(grep -c '^session.up' "$HOOK_LOG")" = $((${CRASHES:-3} + 1)) -a \
	"$(grep -c '^session.down' "$HOOK_LOG")" = "${CRASHES:-3}"
finish "noticed/new tunnel ${times[*]} ms after each crash"
