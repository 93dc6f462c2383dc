#!/bin/bash
# The first broker refuses PREPARE (ERROR), the second is 100 ms away
# (netem, round trip): l2tpd goes on with the second broker's answers from
# the same round, so its first datagram to tunnel interface is <= 250 ms
# (median of the runs; the second broker's round trip alone is 100 ms,
# and two are needed: usage+cookie, then PREPARE).  The first datagram is
# stamped by the refusing broker (next to the client, no delay), the
# interface by a poller in the client namespace, both on the VM's one
# clock.  The process start before it (exec under emulation: about 50 ms
# here) is reported too, from the shell that then becomes l2tpd.
# The binaries are run once first, so that no run reads them over 9p.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
setup_far_link 100
start_broker refuser -l $BADDR:$PORT -E -v
start_broker far -l $FARB:$PORT -v
# stamp_after T0 PATTERN FILE: the first at= stamp at or after T0 on a
# line with PATTERN (T0 itself if none).
stamp_after() {
	grep -- "$2" "$3" | sed -n 's/.* at=\([0-9]*\).*/\1/p' |
		awk -v t0="$1" '$1 >= t0 { print; found = 1; exit } END { if (!found) print t0 }'
}
inc "$L2TPD" -V >/dev/null 2>&1 || true
inc bash -c 'test -e /sys/class/net/lo' || true
stop_client() { kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true; wait_for 10 eval '! inc test -e /sys/class/net/l2tp0'; }
times=()
starts=()
for i in $(seq "${RUNS:-5}"); do
	start_client_timed -u u-$ID -i l2tp0 -b $BADDR:$PORT -b $FARB:$PORT
	d=$(start_to_iface_ms || echo timeout)
	check "run $i: tunnel via the far broker ($d ms from start)" count_is "$i" 'tunnel up' "$T/far.log"
	t0=$(cat "$T/client.t0")
	first=$(stamp_after "$t0" 'rx from' "$T/refuser.log")
	case $d in
	timeout) times+=(timeout) ;;
	*) times+=($((t0 + d - first))); starts+=("$d") ;;
	esac
	# The brokers log every datagram (-v), stamped: where the time went.
	log "run $i, ms after start: refuser's first rx $(( $(stamp_after "$t0" 'rx from' "$T/refuser.log") - t0 )), its refusal rx" \
		"$(( $(stamp_after "$t0" 'type=PREPARE' "$T/refuser.log") - t0 )); far broker's first rx" \
		"$(( $(stamp_after "$t0" 'rx from' "$T/far.log") - t0 )), PREPARE rx $(( $(stamp_after "$t0" 'type=PREPARE' "$T/far.log") - t0 ))," \
		"tunnel up $(( $(stamp_after "$t0" 'tunnel up' "$T/far.log") - t0 ))"
	stop_client
	sleep 0.5
done
check "the refusing broker was asked each run" count_at_least "${RUNS:-5}" 'refused' "$T/refuser.log"
log "start to tunnel interface: ${starts[*]} ms"
log "first datagram to tunnel interface: ${times[*]} ms"
med=$(median "${times[@]}")
check "median first datagram to tunnel interface $med ms (target 250)" test "$med" -le $((250 * SLOW)) 2>/dev/null
finish "first datagram to tunnel ${times[*]} ms (median $med); from start ${starts[*]} ms"
