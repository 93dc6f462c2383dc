#!/bin/bash
# make bench: what l2tpd costs and how fast it reacts, measured against the
# test broker in network namespaces (inside test/vm's VM when this kernel
# has no L2TP).  Every timing is taken RUNS times (default 10) and reported
# as median, minimum and maximum; the idle figures come from one tunnel left
# alone for BENCH_IDLE_SECONDS (default 300), then strace watches it for
# another 60 s.  Each group of measurements gets a fresh namespace pair.
# BENCH_OUTAGE_SECONDS (default 40) is how long the WAN link is down in each
# outage run, BENCH_LONG_OUTAGES (default 1) how many 130 s outages follow,
# BENCH_AWAY_MS (default 1000) how long the gracefully restarting broker
# keeps its port closed.
#
# Raw samples: $RESULTS/bench/*.txt.  The table: $RESULTS/bench/results.md,
# to which the Makefile adds the binary size and the machine.
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-10}
IDLE=${BENCH_IDLE_SECONDS:-300}
case $RUNS in '' | *[!0-9]*) echo "RUNS must be a number" >&2; exit 2 ;; esac
case $IDLE in '' | *[!0-9]*) echo "BENCH_IDLE_SECONDS must be a number" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] || RUNS=1
[ "$IDLE" -ge 60 ] || IDLE=60
for v in "${BENCH_OUTAGE_SECONDS:-40}" "${BENCH_AWAY_MS:-1000}" "${BENCH_LONG_OUTAGES:-1}"; do
	case $v in '' | *[!0-9]*) echo "BENCH_OUTAGE_SECONDS, BENCH_AWAY_MS and BENCH_LONG_OUTAGES must be numbers" >&2; exit 2 ;; esac
done
STRACE_SECONDS=60
OUT=$RESULTS/bench
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.md
# BENCH_TRACE=1: a shell trace of this script in $RESULTS/bench/trace.log.
if [ -n "${BENCH_TRACE:-}" ]; then
	exec {BASH_XTRACEFD}>"$OUT/trace.log"
	PS4='+ $EPOCHREALTIME ${LINENO}: '
	set -x
fi
# Both daemons run from local copies (tmpfs in the VM): nothing is read
# over 9p while timing, and a rebuild elsewhere cannot change them.
cp "$L2TPD" "$T/l2tpd"
cp "$BROKER" "$T/broker"
L2TPD=$T/l2tpd
BROKER=$T/broker
export T L2TPD BTUN CTUN
need_l2tp
mkfifo "$T/poll.fifo"
# The first run of a program reads it from disk; not part of any figure.
"$L2TPD" -V >/dev/null 2>&1 || true
"$BROKER" -h >/dev/null 2>&1 || true
ping -V >/dev/null 2>&1 || true
ip -V >/dev/null 2>&1 || true
BENCH_T0=$(date +%s)

# ---- run inside the namespaces (exported, called through ip netns exec) ----

# ns_client OUT PING L2TPD-ARGS...: in the client namespace, start l2tpd and
# write to OUT.iface the milliseconds until l2tp0 exists; unless PING is
# "-", wait for the hook's marker OUT.hooked and write to OUT.ping the
# milliseconds until the first ping reply from PING (and to OUT.hook when
# the marker was seen).  OUT.t0 is the start on the wall clock, OUT.pid
# l2tpd's PID.  Then stay l2tpd's parent until SIGTERM, which is passed on.
ns_client() {
	local out=$1 ping=$2 t0 t1
	shift 2
	ms_clock t0
	"$L2TPD" -f "$@" >>"$out.log" 2>&1 &
	CPID=$!
	trap 'kill -TERM $CPID 2>/dev/null; wait $CPID; exit 0' TERM
	echo "$t0" >"$out.t0"
	echo "$CPID" >"$out.pid"
	if poll_until 30000 test -e /sys/class/net/l2tp0; then
		ms_clock t1
		echo $((t1 - t0)) >"$out.iface"
	else
		echo timeout >"$out.iface"
	fi
	if [ "$ping" != - ]; then
		if poll_until 30000 test -e "$out.hooked" && ms_clock t1 &&
			echo $((t1 - t0)) >"$out.hook" &&
			poll_until 30000 ping_once "$ping"; then
			ms_clock t1
			echo $((t1 - t0)) >"$out.ping"
		else
			echo timeout >"$out.ping"
		fi
	fi
	wait $CPID
}

# Up to 2 s of echo requests every 10 ms, done at the first reply.
ping_once() { ping -n -q -c 1 -w 2 -i 0.01 "$1" >/dev/null 2>&1; }

# first_l2tp_iface: IFC becomes the first l2tp* interface, if there is one.
first_l2tp_iface() {
	local f
	for f in /sys/class/net/l2tp*; do
		[ -e "$f" ] || return 1
		IFC=${f##*/}
		return 0
	done
}

# ns_broker_conf: in the broker namespace, configure the broker's end of the
# tunnel as soon as its interface appears.
ns_broker_conf() {
	local t
	poll_until 30000 first_l2tp_iface || return 1
	ip -b - <<-EOF
	addr add $BTUN/24 dev $IFC
	link set dev $IFC up
	EOF
	ms_clock t
	echo "$t" >"$T/run.bconf"
}

export -f ns_client ping_once first_l2tp_iface ns_broker_conf ms_clock poll_until

# ---- in this shell ----

GROUP_NO=0
# group TITLE: stop everything, then a fresh namespace pair.  IPv6 is off in
# both so that router solicitations and DAD do not count as idle traffic.
group() {
	teardown_net
	GROUP_NO=$((GROUP_NO + 1))
	ID=$$g$GROUP_NO
	NSB=l2b$ID
	NSC=l2c$ID
	setup_net
	inb sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	inc sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	log "== $1 ($(( $(date +%s) - BENCH_T0 )) s into the run)"
}

# launch_broker NAME ARGS...: like start_broker, but returns at once (the
# timed restarts must not wait for the broker's "listening").
launch_broker() {
	local name=$1
	shift
	ip netns exec "$NSB" "$BROKER" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	BROKER_PID=$!
}

# A hook that configures the client's end like make_hook's and then leaves
# a marker.  ARP retries every 10 ms instead of every second on l2tp0, so a
# request lost while the broker's end is still being configured costs 10 ms,
# not a second.
make_timing_hook() {
	HOOK=$T/timing-hook.sh
	cat >"$HOOK" <<HOOK
#!/bin/sh
[ "\$1" = session.up ] || exit 0
echo 10 >/proc/sys/net/ipv4/neigh/\$2/retrans_time_ms
echo 100 >/proc/sys/net/ipv4/neigh/\$2/mcast_solicit
ip link set "\$2" up
ip addr add $CTUN/24 dev "\$2"
: >$T/run.hooked
HOOK
	chmod +x "$HOOK"
}

# run_client PING L2TPD-ARGS...: one timed start (see ns_client); the
# results are in $T/run.iface and $T/run.ping.
run_client() {
	local ping=$1
	shift
	rm -f "$T"/run.iface "$T"/run.ping "$T"/run.hook "$T"/run.hooked \
		"$T"/run.t0 "$T"/run.pid "$T"/run.bconf
	ip netns exec "$NSC" bash -c 'ns_client "$@"' _ "$T/run" "$ping" "$@" &
	RUNNER=$!
	PIDS+=($RUNNER)
	wait_for 40 test -s "$T/run.iface" || true
	[ "$ping" = - ] || wait_for 70 test -s "$T/run.ping" || true
}

broker_has_tunnel() { inb bash -c 'first_l2tp_iface'; }

# gone PID: PID has exited (a zombie counts).
gone() {
	local pid comm state
	read -r pid comm state _ 2>/dev/null <"/proc/$1/stat" || return 0
	[ "$state" = Z ]
}

# stop_client_run: l2tpd stopped (SIGTERM) and gone, its tunnel gone at the
# broker too, so the next run starts from the same state.
stop_client_run() {
	kill -TERM "$RUNNER" 2>/dev/null || true
	if ! wait_for 15 gone "$RUNNER"; then
		log "l2tpd did not stop within 15 s; killing it"
		kill -KILL "$(cat "$T/run.pid" 2>/dev/null)" "$RUNNER" 2>/dev/null || true
	fi
	wait "$RUNNER" 2>/dev/null || true
	wait_for 10 eval '! broker_has_tunnel' || log "the broker kept a tunnel"
	inc ip neigh flush all 2>/dev/null || true
	sleep 0.2
}

# sample NAME VALUE: one raw sample.
sample() {
	echo "$2" >>"$OUT/$1.txt"
	log "$1: $2"
}

# show FILE: the samples of one figure, on one line.
show() { log "$1: $(tr '\n' ' ' <"$OUT/$1.txt" 2>/dev/null) ms"; }

# A value from /proc/PID/status, e.g. status_field PID VmHWM.
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
wakeups() { echo $(( $(status_field "$1" voluntary_ctxt_switches) + $(status_field "$1" nonvoluntary_ctxt_switches) )); }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
tx_bytes() { inc cat "/sys/class/net/$VC/statistics/tx_bytes"; }

# random_pause: 1.0 to 5.9 s, so that restarts fall at every point of the
# 5 s keepalive cycle.
random_pause() { sleep "$((1 + RANDOM % 5)).$((RANDOM % 10))"; }

# ---- 1. start to tunnel interface ----
group "start to tunnel interface"
start_broker st_broker -l $BADDR:$PORT
for i in $(seq "$RUNS"); do
	run_client - -u bench-$ID -i l2tp0 -b $BADDR:$PORT
	sample start_iface "$(cat "$T/run.iface" 2>/dev/null || echo timeout)"
	stop_client_run
done
show start_iface

# ---- 2. start to first ping reply ----
group "start to first ping reply across the tunnel"
make_timing_hook
start_broker ping_broker -l $BADDR:$PORT
for i in $(seq "$RUNS"); do
	ip netns exec "$NSB" bash -c ns_broker_conf &
	conf=$!
	PIDS+=($conf)
	run_client $BTUN -u bench-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
	sample start_ping "$(cat "$T/run.ping" 2>/dev/null || echo timeout)"
	wait "$conf" 2>/dev/null || true
	t0=$(cat "$T/run.t0" 2>/dev/null || echo 0)
	bconf=$(cat "$T/run.bconf" 2>/dev/null || echo "$t0")
	echo "iface=$(cat "$T/run.iface") broker_end_configured=$((bconf - t0))" \
		"hook_done=$(cat "$T/run.hook" 2>/dev/null) ping=$(cat "$T/run.ping")" \
		>>"$OUT/start_ping_detail.txt"
	stop_client_run
done
show start_ping

# ---- 3. failover: the first broker never answers ----
group "failover, first broker dead"
start_broker fo_dead_good -l $BADDR:8943
for i in $(seq "$RUNS"); do
	# 10.77.0.9 is on the link but nobody has it.
	run_client - -u bench-$ID -i l2tp0 -b 10.77.0.9:$PORT -b $BADDR:8943
	sample failover_dead "$(cat "$T/run.iface" 2>/dev/null || echo timeout)"
	stop_client_run
done
show failover_dead

# ---- 4. failover: the first broker refuses ----
group "failover, first broker refuses"
start_broker fo_refuser -l $BADDR:$PORT -E
start_broker fo_refused_good -l $BADDR:8943
for i in $(seq "$RUNS"); do
	run_client - -u bench-$ID -i l2tp0 -b $BADDR:$PORT -b $BADDR:8943
	sample failover_refused "$(cat "$T/run.iface" 2>/dev/null || echo timeout)"
	stop_client_run
done
show failover_refused

# ---- 4b. failover: the first broker refuses, the second is 100 ms away ----
group "failover, first broker refuses, second 100 ms away"
setup_far_link 100
start_broker fo_far_refuser -l $BADDR:$PORT -E
start_broker fo_far_good -l $FARB:$PORT
for i in $(seq "$RUNS"); do
	run_client - -u bench-$ID -i l2tp0 -b $BADDR:$PORT -b $FARB:$PORT
	sample failover_refused_far "$(cat "$T/run.iface" 2>/dev/null || echo timeout)"
	stop_client_run
done
show failover_refused_far

# stamp_diff NAME N1 PATTERN1 N2 PATTERN2 FILE: a sample of NAME, the
# milliseconds from the at= stamp of the N1th PATTERN1 line of a broker log
# to that of its N2th PATTERN2 line.
stamp_diff() {
	local a b
	if a=$(event_at "$2" "$3" "$6") && b=$(event_at "$4" "$5" "$6"); then
		sample "$1" $((b - a))
	else
		sample "$1" timeout
	fi
}

# ---- 5. graceful broker restart ----
# In place (SIGUSR1): ERROR 0x02 on the tunnel, the port closed for
# GR_AWAY_MS (ICMP port unreachable meanwhile), then open again; the time
# runs from the broker's "listening" stamp to its "tunnel up" stamp.
GR_AWAY_MS=${BENCH_AWAY_MS:-1000}
group "recovery after a graceful broker restart (port closed $GR_AWAY_MS ms)"
start_broker gr -l $BADDR:$PORT -A "$GR_AWAY_MS"
bring_up || log "no tunnel at the start"
for i in $(seq "$RUNS"); do
	random_pause
	kill -USR1 "$gr_PID"
	poll_until $((GR_AWAY_MS + 60000)) lines_at_least $((i + 1)) 'tunnel up' "$T/gr.log" || true
	stamp_diff recovery_graceful $((i + 1)) 'listening' $((i + 1)) 'tunnel up' "$T/gr.log"
done
show recovery_graceful

# ---- 6. WAN outage: the bind interface down, then up ----
# l2tpd runs with -I on its veth.  Short outage: down for OUTAGE_S (less
# than the broker's 120 s timeout); a watcher in the client namespace sees
# the operstate turn "up" and pings across the tunnel every 10 ms until the
# first reply.  Same tunnel: same l2tp0 ifindex and no new session.up.
# Forgotten: the broker crashes and restarts in place while the link is
# down for 5 s, so it has forgotten the tunnel; the time runs from
# operstate "up" to the broker's next "tunnel up" stamp.  Long: the link
# stays down LONG_OUTAGE_S, longer than the broker's 120 s timeout (the
# broker lets the tunnel go by itself), BENCH_LONG_OUTAGES times (default
# 1: each costs over two minutes); timed like the forgotten one.
OUTAGE_S=${BENCH_OUTAGE_SECONDS:-40}
LONG_OUTAGE_S=130
LONG_OUTAGES=${BENCH_LONG_OUTAGES:-1}

# ns_first_reply ADDR: the wall clock at the first ping reply from ADDR,
# or "timeout" after about 30 s.
ns_first_reply() {
	local t0 t
	ms_clock t0
	until ping_once "$1"; do
		ms_clock t
		[ $((t - t0)) -lt 30000 ] || { echo timeout; return 1; }
	done
	ms_clock t
	echo "$t"
}

# ns_outage_watch IFACE PING-ADDR UNDERLAY-ADDR OUT: in the client
# namespace, once IFACE's operstate is "up", ping PING-ADDR (across the
# tunnel) and UNDERLAY-ADDR (the broker on the link itself) side by side;
# OUT gets "T_UP T_REPLY T_UNDERLAY".
ns_outage_watch() {
	local st t_up t_reply t_under
	until read -r st 2>/dev/null <"/sys/class/net/$1/operstate" && [ "$st" = up ]; do
		read -r -t 0.01 -u "$POLL_FD" || true
	done
	ms_clock t_up
	ns_first_reply "$3" >"$4.underlay" &
	t_reply=$(ns_first_reply "$2") || true
	wait
	read -r t_under <"$4.underlay"
	echo "$t_up $t_reply $t_under" >"$4"
}

# ns_link_up_at IFACE OUT: the operstate "up" stamp, into OUT.
ns_link_up_at() {
	local st t
	until read -r st 2>/dev/null <"/sys/class/net/$1/operstate" && [ "$st" = up ]; do
		read -r -t 0.01 -u "$POLL_FD" || true
	done
	ms_clock t
	echo "$t" >"$2"
}
export -f ns_first_reply ns_outage_watch ns_link_up_at

# in_client_ns FUNCTION ARGS...: an exported function in the client
# namespace, in the background, with a FIFO for its pauses; returns once
# it runs, so that what it watches for cannot happen before it looks.
in_client_ns() {
	rm -f "$T/watch.ready"
	ip netns exec "$NSC" bash -c 'exec {POLL_FD}<>"$T/poll.fifo"; : >"$T/watch.ready"; "$@"' _ "$@" &
	PIDS+=($!)
	WATCHER=$!
	poll_until 10000 test -e "$T/watch.ready" || log "watcher slow to start"
}

# outage_new NAME: the link (down) comes up; a sample of NAME from operstate
# "up" to the broker's next "tunnel up" stamp, then the new tunnel is made
# to carry traffic.
outage_new() {
	local tunnels t1
	tunnels=$(grep -c 'tunnel up' "$T/wan.log" || true)
	rm -f "$T/wan.up"
	in_client_ns ns_link_up_at "$VC" "$T/wan.up"
	inc ip link set "$VC" up
	wait "$WATCHER" || true
	if poll_until 30000 lines_at_least $((tunnels + 1)) 'tunnel up' "$T/wan.log" &&
		t1=$(event_at $((tunnels + 1)) 'tunnel up' "$T/wan.log"); then
		sample "$1" $((t1 - $(cat "$T/wan.up")))
	else
		sample "$1" timeout
	fi
	configure_broker_end || true
	tunnel_pings 15 || log "no traffic after the outage"
	sleep 2
}

group "WAN outage: bind interface down ${OUTAGE_S} s; one the broker forgets; one of ${LONG_OUTAGE_S} s"
start_broker wan -l $BADDR:$PORT
bring_up -I "$VC" || log "no tunnel at the start"
wait_for 15 mtu_is 1446 || true
sleep 2
for i in $(seq "$RUNS"); do
	ups=$(grep -c '^session.up' "$HOOK_LOG")
	tunnels=$(grep -c 'tunnel up' "$T/wan.log" || true)
	idx0=$(inc cat /sys/class/net/l2tp0/ifindex 2>/dev/null)
	lines0=$(wc -l <"$T/client.log")
	inc ip link set "$VC" down
	sleep "$OUTAGE_S"
	rm -f "$T/wan.times"
	in_client_ns ns_outage_watch "$VC" "$BTUN" "$BADDR" "$T/wan.times"
	inc ip link set "$VC" up
	# A new tunnel (l2tpd gave the old one up) needs its broker end set.
	if wait_for 3 count_at_least $((tunnels + 1)) 'tunnel up' "$T/wan.log"; then
		configure_broker_end || true
	fi
	wait "$WATCHER" || true
	read -r t0 t1 t2 2>/dev/null <"$T/wan.times" || t1=timeout
	case $t1$t2 in
	*[!0-9]*) sample outage_ping timeout ;;
	*)
		sample outage_ping $((t1 > t2 ? t1 - t2 : 0))
		echo "operstate up to tunnel ping $((t1 - t0)) ms, to underlay ping $((t2 - t0)) ms" >>"$OUT/outage_link.txt"
		;;
	esac
	sleep 2
	idx1=$(inc cat /sys/class/net/l2tp0/ifindex 2>/dev/null)
	if [ "$idx0" = "$idx1" ] && lines_at_least "$ups" session.up "$HOOK_LOG" &&
		! lines_at_least $((ups + 1)) session.up "$HOOK_LOG"; then
		echo same >>"$OUT/outage_tunnel.txt"
	else
		echo new >>"$OUT/outage_tunnel.txt"
	fi
	echo $(($(wc -l <"$T/client.log") - lines0)) >>"$OUT/outage_lines.txt"

	inc ip link set "$VC" down
	sleep 2
	kill -USR2 "$wan_PID"
	sleep 3
	outage_new outage_forgotten
done
for i in $(seq "$LONG_OUTAGES"); do
	inc ip link set "$VC" down
	sleep "$LONG_OUTAGE_S"
	outage_new outage_long
done
show outage_ping
show outage_forgotten
show outage_long

# ---- 7. broker crash and restart ----
# In place (SIGUSR2): the tunnels gone without a word, the port open again
# at once with a new cookie key.  Each crash comes after the tunnel's first
# keepalive (the broker's is a random 3..14 s after the tunnel is made) and
# a random pause; the time runs from the broker's "restart" stamp to its
# next "tunnel up" stamp.
group "recovery after a broker crash and restart"
start_broker cr -l $BADDR:$PORT
bring_up || log "no tunnel at the start"
for i in $(seq "$RUNS"); do
	first=$(grep 'tunnel up' "$T/cr.log" | tail -n 1 | sed -n 's/.*first_keepalive_ms=\([0-9]*\).*/\1/p')
	sleep "$(( ${first:-14000} / 1000 ))"
	random_pause
	kill -USR2 "$cr_PID"
	poll_until 90000 lines_at_least $((i + 1)) 'tunnel up' "$T/cr.log" || true
	stamp_diff recovery_crash "$i" 'restart mode=crash' $((i + 1)) 'tunnel up' "$T/cr.log"
done
show recovery_crash

# ---- 8. idle: memory, wakeups, CPU, bytes; then syscalls ----
group "idle tunnel: ${IDLE} s, then ${STRACE_SECONDS} s under strace"
start_broker idle_broker -l $BADDR:$PORT
bring_up || log "no tunnel at the start"
# Let the first path MTU discovery finish (its hook call included).
wait_for 15 mtu_is 1446 || true
sleep 1
pid=$CLIENT_PID
hz=$(getconf CLK_TCK)
ms_clock w0
ctx0=$(wakeups "$pid")
tick0=$(cpu_ticks "$pid")
run0=$(run_ns "$pid")
tx0=$(tx_bytes)
sleep 60
ms_clock w1
ctx1=$(wakeups "$pid")
hwm=$(status_field "$pid" VmHWM)
rss=$(status_field "$pid" VmRSS)
walk_rss=$(awk '$1 == "Rss:" { print $2 }' "/proc/$pid/smaps_rollup")
walk_pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup")
# The window's last minute: past the early path MTU rediscoveries when
# the window is long enough (15, 45, 105 and 225 s after the first).
if [ "$IDLE" -ge 180 ]; then
	sleep $((IDLE - 120))
	ms_clock w3
	ctx3=$(wakeups "$pid")
	sleep 60
else
	sleep $((IDLE - 60))
fi
ms_clock w2
ctx2=$(wakeups "$pid")
tick1=$(cpu_ticks "$pid")
run1=$(run_ns "$pid")
tx1=$(tx_bytes)
{
	echo "pid=$pid"
	echo "clk_tck=$hz"
	echo "vmhwm_kib=$hwm"
	echo "vmrss_kib=$rss"
	echo "smaps_rss_kib=$walk_rss"
	echo "smaps_pss_kib=$walk_pss"
	echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "wakeup_window_ms=$((w1 - w0))"
	echo "wakeups=$((ctx1 - ctx0))"
	if [ -n "${ctx3:-}" ]; then
		echo "late_wakeup_window_ms=$((w2 - w3))"
		echo "late_wakeups=$((ctx2 - ctx3))"
		echo "late_window_start_s=$(( (w3 - w0) / 1000 ))"
	fi
	echo "idle_window_ms=$((w2 - w0))"
	echo "cpu_ticks=$((tick1 - tick0))"
	echo "sched_run_ns=$((run1 - run0))"
	echo "tx_bytes=$((tx1 - tx0))"
} >"$OUT/idle.txt"
grep -q '^state=keepalive$' /var/run/l2tpd/l2tp0.state ||
	log "the tunnel was not in keepalive at the end of the idle window"
timeout -s INT "$STRACE_SECONDS" strace -f -c -p "$pid" -o "$OUT/strace.txt" 2>/dev/null || true
sed 's/^/  strace: /' "$OUT/strace.txt"
echo "strace_seconds=$STRACE_SECONDS" >>"$OUT/idle.txt"
echo "syscalls=$(awk '$NF == "total" { print $4 }' "$OUT/strace.txt")" >>"$OUT/idle.txt"
echo "clock_gettime_calls=$(awk '$NF == "clock_gettime" { print $4 }' "$OUT/strace.txt")" >>"$OUT/idle.txt"
ping_c2b || log "the tunnel no longer passes traffic after the idle window"
teardown_net
log "measurements done after $(( $(date +%s) - BENCH_T0 )) s"

# ---- the table ----

# stats NAME: "median min max n failed" of NAME's samples (ms).
stats() {
	local f=$OUT/$1.txt
	grep -E '^[0-9]+$' "$f" 2>/dev/null | sort -n |
		awk -v bad="$(grep -cvE '^[0-9]+$' "$f" 2>/dev/null)" '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "-", "-", "-", 0, bad + 0; exit }
			m = NR % 2 ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2 + 0.5)
			print m, a[1], a[NR], NR, bad + 0
		}'
}

# verdict VALUE LIMIT UNIT: met, or missed by how much.
verdict() {
	case $1 in *[!0-9.-]* | '' | -) echo "no data"; return ;; esac
	awk -v v="$1" -v l="$2" -v u="$3" 'BEGIN {
		if (v <= l) print "met"
		else printf "missed by %g%s (+%.0f%%)\n", v - l, u == "" ? "" : " " u, (v - l) * 100 / l
	}'
}

idle() { sed -n "s/^$1=//p" "$OUT/idle.txt"; }

TABLE=$OUT/results.md
row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$TABLE"; }

# time_row LABEL NAME LIMIT: a timing with an absolute target ("" for none).
time_row() {
	local med min max n bad runs target result
	read -r med min max n bad <<<"$(stats "$2")"
	runs=$n
	[ "$bad" = 0 ] || runs="$n ($bad timed out)"
	if [ -n "$3" ]; then
		target="<= $3 ms"
		result=$(verdict "$med" "$3" ms)
	else
		target="-"
		result="-"
	fi
	row "$1" "$med" "$min" "$max" "$runs" "$target" "$result"
}

# failover_row LABEL NAME: target 150 ms beyond the single-broker start.
failover_row() {
	local med min max n bad runs base extra result
	read -r med min max n bad <<<"$(stats "$2")"
	base=$(stats start_iface | cut -d' ' -f1)
	runs=$n
	[ "$bad" = 0 ] || runs="$n ($bad timed out)"
	if [ "$med" != - ] && [ "$base" != - ]; then
		extra=$((med - base))
		result="$(verdict "$extra" 150 ms); difference $extra ms"
	else
		result="no data"
	fi
	row "$1" "$med" "$min" "$max" "$runs" "<= 150 ms beyond start to interface" "$result"
}

value_row() { row "$1" "$2" - - - "$3" "$4"; }

hwm=$(idle vmhwm_kib)
walk_rss=$(idle smaps_rss_kib)
walk_pss=$(idle smaps_pss_kib)
ww=$(idle wakeup_window_ms)
wpm=$(awk -v n="$(idle wakeups)" -v w="$ww" 'BEGIN { printf "%.1f", n * 60000 / w }')
lww=$(idle late_wakeup_window_ms)
lwpm=
[ -z "$lww" ] ||
	lwpm=$(awk -v n="$(idle late_wakeups)" -v w="$lww" 'BEGIN { printf "%.1f", n * 60000 / w }')
iw=$(idle idle_window_ms)
ticks=$(idle cpu_ticks)
hz=$(idle clk_tck)
cpu_h=$(awk -v t="$ticks" -v hz="$hz" -v w="$iw" 'BEGIN { printf "%.0f", t * 1000 / hz * 3600000 / w }')
run_h=$(awk -v n="$(idle sched_run_ns)" -v w="$iw" 'BEGIN { printf "%.0f", n / 1e6 * 3600000 / w }')
bytes_h=$(awk -v b="$(idle tx_bytes)" -v w="$iw" 'BEGIN { printf "%.0f", b * 3600000 / w }')
calls=$(idle syscalls)
cg=$(idle clock_gettime_calls)
ss=$(idle strace_seconds)
per() { awk -v c="${1:-0}" -v s="$ss" -v p="$2" 'BEGIN { printf "%.1f", c * p / s }'; }
per_ka=$(per "$calls" 5)
per_30=$(per "$calls" 30)
per_30_cg=$(per "$((${calls:-0} - ${cg:-0}))" 30)
# part NAME: the median of one part of the start-to-ping runs.
part() {
	sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" "$OUT/start_ping_detail.txt" 2>/dev/null | sort -n |
		awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }'
}
outages=$(grep -c . "$OUT/outage_tunnel.txt" 2>/dev/null || true)
kept=$(grep -c '^same$' "$OUT/outage_tunnel.txt" 2>/dev/null || true)
outage_lines=$(sort -n "$OUT/outage_lines.txt" 2>/dev/null |
	awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }')
outage_lines_max=$(sort -n "$OUT/outage_lines.txt" 2>/dev/null | tail -n 1)
# outage_part tunnel|underlay: median from operstate up to that first reply.
outage_part() {
	sed -n "s/.* to $1 ping \([0-9-]*\) ms.*/\1/p" "$OUT/outage_link.txt" 2>/dev/null | sort -n |
		awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }'
}

{
	echo "- kernel: $(uname -r), Debian's stock kernel in qemu-system-x86_64 TCG (software emulation, no KVM), $(nproc) vCPUs, clock source $(idle clocksource)"
	echo "- runs per timing: $RUNS; idle window: $IDLE s; strace window: $ss s"
	echo
	echo "| figure | median | min | max | runs | target | result |"
	echo "|---|---:|---:|---:|---:|---|---|"
} >"$TABLE"
value_row "peak resident memory, VmHWM (KiB), 60 s with a tunnel up" "$hwm" "<= 256 KiB" "$(verdict "$hwm" 256 KiB) (under-reported, see notes)"
value_row "resident memory by page-table walk, smaps_rollup Rss (KiB), same moment" "$walk_rss" "<= 256 KiB" "$(verdict "$walk_rss" 256 KiB)"
time_row "start to tunnel interface present (ms)" start_iface 100
time_row "start to first ping reply across the tunnel (ms)" start_ping ""
failover_row "failover, first broker dead: start to tunnel interface (ms)" failover_dead
failover_row "failover, first broker refuses (ERROR on PREPARE): start to tunnel interface (ms)" failover_refused
time_row "failover, first broker refuses, second 100 ms away: start to tunnel interface (ms)" failover_refused_far 250
time_row "broker crash and restart at once: crash to new tunnel (ms)" recovery_crash 10000
time_row "graceful broker restart (ERROR 0x02, port closed $GR_AWAY_MS ms): broker listening again to tunnel back (ms)" recovery_graceful 300
time_row "WAN outage (-I link down $OUTAGE_S s): link carrying traffic again to first ping reply across the tunnel (ms)" outage_ping 300
value_row "WAN outage ($OUTAGE_S s): same tunnel kept (runs)" "$kept of $outages" "all" "$([ "${outages:-0}" -gt 0 ] && [ "$kept" = "$outages" ] && echo met || echo "missed")"
value_row "WAN outage ($OUTAGE_S s): l2tpd log lines per outage (median; max ${outage_lines_max:--})" "$outage_lines" "<= 3" "$(verdict "$outage_lines" 3 "")"
time_row "WAN outage of 5 s the broker forgot (it restarted meanwhile): link up to new tunnel (ms)" outage_forgotten ""
time_row "WAN outage of $LONG_OUTAGE_S s (the broker timed the tunnel out): link up to new tunnel (ms)" outage_long 500
value_row "wakeups per minute, tunnel up and idle, first minute (2 path MTU rediscoveries in it)" "$wpm" "<= 15" "$(verdict "$wpm" 15 "")"
[ -z "$lwpm" ] ||
	value_row "wakeups per minute, tunnel up and idle, from $(idle late_window_start_s) s to $((IDLE)) s (no rediscovery in it)" "$lwpm" "<= 15" "$(verdict "$lwpm" 15 "")"
value_row "CPU time per hour idle (ms, utime+stime over $IDLE s)" "$cpu_h" - "-"
value_row "syscalls per keepalive period (5 s), idle" "$per_ka" "-" "-"
value_row "syscalls per 30 s, idle" "$per_30" "<= 40" "$(verdict "$per_30" 40 "")"
value_row "control bytes sent per hour idle (client veth TX over $IDLE s)" "$bytes_h" - "-"
cat >>"$TABLE" <<EOF

Notes:

- Times are wall-clock milliseconds from bash's \$EPOCHREALTIME (no fork);
  conditions are polled every 10 ms, so a time may be late by about 10 ms.
  Under TCG every guest instruction is emulated, and the host's cores may
  be shared with other work: expect real hardware to be several times
  faster, and read the spread (min, max) as noise as much as l2tpd.
- Start: a shell in the client namespace starts l2tpd; the interface is
  l2tp0 appearing in that namespace's /sys/class/net.  First ping: the
  hook configures the client's end (ip link set up, ip addr add), a poller
  in the broker namespace the broker's end as soon as its interface
  appears, and ping sends every 10 ms until the first reply.  ARP on l2tp0
  retries every 10 ms instead of every second, so a request sent before
  the broker's end has its address does not cost a second.  Medians of the
  parts: l2tp0 present at $(part iface) ms, broker's end configured at
  $(part broker_end_configured) ms, hook done at $(part hook_done) ms, first
  reply at $(part ping) ms.
- Failover: the dead broker is 10.77.0.9, an address on the link that
  nobody has; the refusing one is the test broker with -E.  The working
  broker is listed second.  The target is read as the failover median's
  distance from the single-broker start median.
- Failover with the second broker 100 ms away: a second veth pair with
  netem delay (50 ms each way) leads to it; the refusing one is on the
  first pair, 0 ms away.
- Restarts are in place (the test broker's SIGUSR1/SIGUSR2), and times
  come from the broker's own log stamps (wall clock, ms), so they carry no
  polling error.  Crash: the tunnels vanish without a word and the port is
  open again at once with a new cookie key, so the old tunnel's datagrams
  are dropped silently; the time runs from the crash to "tunnel up".  Each
  crash comes after the tunnel's first keepalive from the broker (random,
  3-14 s after the tunnel is made) and a random 1-6 s pause, so it falls
  anywhere in the 5 s keepalive cycle.  Graceful: ERROR 0x02 on every
  tunnel, the port closed for $GR_AWAY_MS ms (ICMP port unreachable), then
  open again; the time runs from the broker listening again to "tunnel
  up", after a random 1-6 s pause each.
- WAN outage: l2tpd runs with -I on its veth, which goes down for
  $OUTAGE_S s, less than the broker's 120 s timeout.  A watcher in the
  client namespace sees the veth's operstate turn "up" and then pings, every
  10 ms, across the tunnel and, side by side, the broker's own address on
  the link.  The kernel's tunnel needs nothing from l2tpd to carry
  traffic, and nothing crosses the link before the kernel's link watch has
  finished (up to a second after "ip link set up" under TCG), so the time
  runs from the first underlay reply to the first reply across the tunnel
  (0 when the tunnel's came first); from operstate "up", the medians
  were $(outage_part tunnel) ms to the tunnel's reply and
  $(outage_part underlay) ms to the underlay's.  Same tunnel:
  the same l2tp0 ifindex afterwards and no new session.up hook.  Log
  lines: l2tpd's lines from link down to 2 s after the first reply.
  Forgotten: the link goes down, the broker crashes and restarts in place
  2 s later and so forgets the tunnel, the link comes up 3 s after that.
  Long: the link is down $LONG_OUTAGE_S s and the broker times the tunnel
  out by itself ($LONG_OUTAGES run(s)).  Both are timed from operstate
  "up" to the broker's "tunnel up" stamp.
- Idle: one tunnel, set up like the scenarios' (same hook), left alone for
  $IDLE s after its first path MTU discovery.  VmHWM and smaps_rollup are
  read 60 s into that window.  Kernel 6.1 counts RSS per task and folds
  it into VmRSS/VmHWM only every 64 page faults, so for a process this
  small VmHWM under-reports; smaps_rollup walks the page tables and is
  exact (Pss $walk_pss KiB).  Wakeups are voluntary + involuntary context
  switches over the window's first 60 s, and over its last 60 s when it
  is at least 180 s long.  CPU time is utime+stime over
  the whole window ($ticks ticks at $hz Hz, so 10 ms resolution),
  extrapolated to an hour; the scheduler's exact run time for the same
  window (/proc/PID/schedstat) extrapolates to $run_h ms per hour.  The
  window includes path MTU rediscoveries, which start 15 s apart and back
  off to 10 min, so a tunnel that has run for an hour does fewer.  Bytes
  are the client veth's TX counter over the window, extrapolated to an
  hour: keepalives, path MTU probes and ARP; no data crossed the tunnel
  (IPv6 is off in both namespaces, so no router solicitations either).
- Syscalls: strace -f -c attached for $ss s after the idle window, so that
  it disturbs no other figure: $calls calls, ${cg:-0} of them clock_gettime.
EOF
case $(idle clocksource) in
tsc | kvm-clock) ;;
*) cat >>"$TABLE" <<EOF
  With clock source $(idle clocksource) the vDSO cannot read the clock, so
  clock_gettime is a real system call here; with a TSC clock source it
  would not be, which would make $per_30_cg per 30 s.
EOF
esac
echo
cat "$TABLE"
