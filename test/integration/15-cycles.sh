#!/bin/bash
# 500 connect/teardown cycles (reselect on SIGHUP, which sends ERROR, and
# broker restarts, which send ERROR to us): descriptors at the end are
# those after the first cycle, resident memory at the end is that after
# the first broker restart (cycle 60).  l2tpd allocates nothing, so its
# memory can only grow by touching pages of its image for the first time,
# the code of a path no cycle took before included (a broker restart's):
# the baseline is taken once every kind of cycle has run, and a leak
# would show over the 440 cycles after it.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
CYCLES=${CYCLES:-500}
start_broker broker -l $BADDR:$PORT
ups() { cat "$T"/broker*.log | grep -c 'tunnel up'; }
ups_at_least() { [ "$(ups)" -ge "$1" ]; }
fds() { ls /proc/$CLIENT_PID/fd | wc -l; }
# smaps_rollup, not VmRSS: the 6.1 kernel's status counters lag behind by
# up to 64 page faults per thread, which is all of a process this small.
rss() { awk '/^Rss:/ {print $2}' /proc/$CLIENT_PID/smaps_rollup; }

start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT
check "first tunnel up" wait_for 20 ups_at_least 1
kill -HUP "$CLIENT_PID"
check "second tunnel up" wait_for 20 ups_at_least 2
fd1=$(fds)
rss0=$(rss)
rss1=
RSS_AT=60
t0=$(now_ms)
n=2
restarts=0
while [ $n -lt "$CYCLES" ]; do
	if [ $((n % 50)) = 0 ]; then
		kill -TERM "$broker_PID"; wait "$broker_PID" || true
		restarts=$((restarts + 1))
		start_broker broker$restarts -l $BADDR:$PORT
		broker_PID=$(eval echo \$broker${restarts}_PID)
	else
		kill -HUP "$CLIENT_PID"
	fi
	n=$((n + 1))
	wait_for 20 ups_at_least $n || break
	[ $n != $RSS_AT ] || rss1=$(rss)
done
[ -n "$rss1" ] || rss1=$rss0 # fewer cycles than that
elapsed=$(( $(now_ms) - t0 ))
fd2=$(fds)
rss2=$(rss)
check "$n cycles completed ($restarts broker restarts) in $elapsed ms" test $n -ge "$CYCLES"
check "descriptors: $fd1 after the first cycle, $fd2 at the end" test "$fd1" = "$fd2"
if [ -n "${SANITIZED:-}" ]; then
	# ASan keeps freed memory in quarantine: RSS says nothing here, and
	# LeakSanitizer checks leaks at exit instead.
	log "resident memory $rss0 -> $rss1 -> $rss2 KiB (sanitizer build, not compared)"
else
	log "resident memory: $rss0 KiB after the first cycle, $rss1 KiB after cycle $RSS_AT"
	check "resident memory: $rss1 KiB after cycle $RSS_AT, $rss2 KiB at the end" test "$rss2" -le "$rss1"
fi
check "no tunnel of ours but the current one" test "$(inc ip l2tp show tunnel | grep -c '^Tunnel')" = 1
finish "$n cycles, fds $fd1 -> $fd2, Rss $rss0 -> $rss1 -> $rss2 KiB"
