# SPDX-License-Identifier: MIT
# Shared helpers for the scenario scripts: two network namespaces joined by a
# veth pair, the test broker in one, l2tpd in the other.  Every name carries
# the script's PID so runs never collide, and cleanup removes all of it.
#
#   broker ns ($NSB)  veth 10.77.0.1/24  <-->  10.77.0.2/24 veth  client ns ($NSC)
#   tunnel            10.99.0.1/24       <-->  10.99.0.2/24       l2tp0
#
#
# Over IPv6 (setup_net6, or add_underlay6 after setup_net for both families)
# the veths carry fd77::1/64 and fd77::2/64; the tunnel's inner addresses
# stay the IPv4 ones above.
#
# A scenario ends through finish (exit 0 when every check passed, 1 when one
# failed) or through skip (exit 77, SKIP_STATUS): it could not test what it
# is for on this kernel.  test/integration.sh counts the three apart, and
# any other exit status (a crash, the time limit) as failed.

set -eu

: "${L2TPD:?L2TPD must name the l2tpd binary}"
: "${BROKER:?BROKER must name the test broker binary}"
RESULTS=${RESULTS:-/tmp}

ID=$$
NSB=l2b$ID
NSC=l2c$ID
BADDR=10.77.0.1
CADDR=10.77.0.2
BTUN=10.99.0.1
CTUN=10.99.0.2
PORT=8942
BADDR6=fd77::1
CADDR6=fd77::2
T=$(mktemp -d /tmp/l2tpd-test.XXXXXX)
PIDS=()
CHECKS_FAILED=0
NAME=$(basename "$0" .sh)
# Latency targets hold for the plain build; a sanitizer build under
# emulation does the same work several times slower, so its runs check
# them SLOW times as loosely (asserted, not skipped).
SLOW=1
[ -z "${SANITIZED:-}" ] || SLOW=2

inb() { ip netns exec "$NSB" "$@"; }
inc() { ip netns exec "$NSC" "$@"; }

log() { printf '  %s: %s\n' "$NAME" "$*"; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$NSB" 2>/dev/null || true
	ip netns del "$NSC" 2>/dev/null || true
	if [ "$CHECKS_FAILED" != 0 ] || [ -n "${KEEP_LOGS:-}" ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 40 lines)"
			tail -n 40 "$f"
		done
	fi
	mkdir -p "$RESULTS/$NAME" && cp "$T"/*.log "$RESULTS/$NAME/" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# check DESCRIPTION COMMAND...: one assertion; the script fails at the end if
# any failed, so every check's result is printed.
check() {
	local what=$1
	shift
	if "$@"; then
		echo "  ok   $NAME: $what"
	else
		echo "  FAIL $NAME: $what"
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
	fi
}

SKIP_STATUS=77

# skip REASON: nothing was tested; not a pass.
skip() {
	echo "SKIP $NAME: $1"
	exit "$SKIP_STATUS"
}

finish() {
	if [ "$CHECKS_FAILED" = 0 ]; then
		echo "PASS $NAME${1:+: $1}"
		exit 0
	fi
	echo "FAIL $NAME: $CHECKS_FAILED check(s) failed${1:+; $1}"
	exit 1
}

# wait_for SECONDS COMMAND...: polls every 50 ms.
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	until "$@" 2>/dev/null; do
		[ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

need_l2tp() {
	modprobe l2tp_eth 2>/dev/null || true
	modprobe l2tp_netlink 2>/dev/null || true
}

setup_net() {
	ip netns add "$NSB"
	ip netns add "$NSC"
	ip link add vb$ID netns "$NSB" type veth peer name vc$ID netns "$NSC"
	inb ip link set lo up
	inc ip link set lo up
	inb ip addr add $BADDR/24 dev vb$ID
	inc ip addr add $CADDR/24 dev vc$ID
	inb ip link set vb$ID up
	inc ip link set vc$ID up
	VB=vb$ID
	VC=vc$ID
}

# add_underlay6: IPv6 addresses on the veths, usable at once (no duplicate
# address detection to wait for).
add_underlay6() {
	local ns
	for ns in "$NSB" "$NSC"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	inb ip -6 addr add $BADDR6/64 dev $VB nodad
	inc ip -6 addr add $CADDR6/64 dev $VC nodad
	wait_for 5 inc ping -6 -c 1 -W 1 $BADDR6 >/dev/null
}

# setup_net6: the namespaces and veths of setup_net with only IPv6 on the
# underlay.
setup_net6() {
	ip netns add "$NSB"
	ip netns add "$NSC"
	ip link add vb$ID netns "$NSB" type veth peer name vc$ID netns "$NSC"
	inb ip link set lo up
	inc ip link set lo up
	inb ip link set vb$ID up
	inc ip link set vc$ID up
	VB=vb$ID
	VC=vc$ID
	add_underlay6
}

# v6_path_up MTU: an IPv6-only underlay whose veths carry MTU bytes, the
# broker on it, and the tunnel up (checked).
v6_path_up() {
	setup_net6
	inb ip link set $VB mtu "$1"
	inc ip link set $VC mtu "$1"
	start_broker broker -l "[$BADDR6]:$PORT"
	check "tunnel up" bring_up_at "[$BADDR6]:$PORT"
}

# A hook that records its arguments and environment and configures the
# client's end of the tunnel.  l2tpd gives hooks a clean environment, so the
# paths are written into the script.
make_hook() {
	HOOK=$T/hook.sh
	HOOK_LOG=$T/hook.log
	cat >"$HOOK" <<HOOK
#!/bin/sh
echo "\$* mtu_env=\$L2TPD_MTU broker=\$L2TPD_BROKER sockets=\$(ls -l /proc/\$\$/fd | grep -c socket) fds=\$(ls /proc/\$\$/fd | wc -l)" >>$HOOK_LOG
${HOOK_EXTRA:-}
case "\$1" in
session.up)
	ip link set "\$2" up
	ip addr add $CTUN/24 dev "\$2"
	;;
esac
HOOK
	chmod +x "$HOOK"
}

# start_broker NAME ARGS...: the test broker in the broker namespace.
start_broker() {
	local name=$1
	shift
	# not through inb: $! must be the broker itself, for kill
	ip netns exec "$NSB" "$BROKER" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "${name}_PID=$!"
	wait_for 5 grep -q 'listening' "$T/$name.log"
}

# LeakSanitizer cannot work under ptrace: a scenario that attaches strace
# to l2tpd sets STRACED=1, and its l2tpd runs without the leak check (the
# other scenarios keep it).
start_client() {
	local env=()
	[ -z "${STRACED:-}" ] ||
		env=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
	ip netns exec "$NSC" "${env[@]}" "$L2TPD" -f "$@" >>"$T/client.log" 2>&1 &
	PIDS+=($!)
	CLIENT_PID=$!
}

# The broker names its side l2tp<tid>-<sid>: the newest tunnel's, from
# the log of the broker started last.
broker_iface() {
	local log
	log=$(ls -t "$T"/*.log | xargs grep -l 'broker: listening' | head -n 1)
	sed -n 's/.*tunnel up .*ifname=\([^ ]*\).*/\1/p' "$log" | tail -n 1
}

# count_at_least N PATTERN FILE: evaluated afresh on every call, so it can
# be polled with wait_for.
count_at_least() { [ "$(grep -c -- "$2" "$3" 2>/dev/null)" -ge "$1" ]; }
count_is() { [ "$(grep -c -- "$2" "$3" 2>/dev/null)" -eq "$1" ]; }
mtu_is() { [ "$(client_mtu)" = "$1" ]; }
broker_mtu_is() { [ "$(broker_mtu)" = "$1" ]; }

# snmp6_dev NS IFACE FIELD: one IPv6 counter of IFACE in namespace NS, e.g.
# snmp6_dev "$NSC" "$VC" Ip6OutRequests; snmp6 NS FIELD the namespace's own
# (/proc/net/snmp6), e.g. Udp6InDatagrams.
snmp6_dev() { ip netns exec "$1" awk -v f="$3" '$1 == f { print $2 }' "/proc/net/dev_snmp6/$2"; }
snmp6() { ip netns exec "$1" awk -v f="$2" '$1 == f { print $2 }' /proc/net/snmp6; }

# snmp NS PROTO FIELD: one counter of /proc/net/snmp in namespace NS, e.g.
# snmp "$NSC" Ip FragCreates.
snmp() {
	ip netns exec "$1" awk -v p="$2:" -v f="$3" '
		$1 == p && !c { for (i = 2; i <= NF; i++) if ($i == f) c = i; next }
		$1 == p && c { print $c; exit }' /proc/net/snmp
}

# hook_inherited_no_socket: the hook ran, and every call listed its file
# descriptors (at least stdin, stdout and stderr) and found no socket among
# them.  A missing or empty log, or a listing that failed, is a failure.
hook_inherited_no_socket() {
	[ -s "$HOOK_LOG" ] || return 1
	! grep -Eqv ' sockets=0 fds=([3-9]|[1-9][0-9]+)$' "$HOOK_LOG"
}

# l2tp_cmds LOG: the L2TP generic netlink requests in LOG, written by
# `strace -s 256 -xx -e trace=sendto,sendmsg` run in the client namespace
# (strace names the family "l2tp", or prints its number): one line
# "COMMAND TUNNEL_ID" per request, COMMAND being the genl command byte
# (1 TUNNEL_CREATE, 2 TUNNEL_DELETE, 5 SESSION_CREATE, 6 SESSION_DELETE)
# and TUNNEL_ID the value of attribute 9 (CONN_ID), "-" when absent.
l2tp_cmds() {
	local id hex n i len type tid
	local -a b
	id=$(inc genl ctrl get name l2tp 2>/dev/null |
		sed -n 's/.*ID: \(0x[0-9a-f]*\).*/\1/p')
	grep -E "nlmsg_type=(l2tp|${id:-l2tp})[ ,}]" "$1" |
		sed -n 's/.*nlmsg_type=[^}]*}, "\([^"]*\)".*/\1/p' |
		while read -r hex; do
			read -r -a b <<<"${hex//\\x/ }"
			n=${#b[@]}
			[ "$n" -ge 4 ] || continue
			tid=-
			i=4
			while [ $((i + 4)) -le "$n" ]; do
				len=$((16#${b[i + 1]}${b[i]}))
				type=$((16#${b[i + 3]}${b[i + 2]} & 0x3fff))
				[ "$len" -ge 4 ] && [ $((i + len)) -le "$n" ] || break
				[ "$type" != 9 ] || [ "$len" != 8 ] ||
					tid=$((16#${b[i + 7]}${b[i + 6]}${b[i + 5]}${b[i + 4]}))
				i=$((i + (len + 3) / 4 * 4))
			done
			echo "$((16#${b[0]})) $tid"
		done
}

# term_client_traced: SIGTERM to l2tpd with its sends traced; checks that
# it exits 0 having sent SESSION_DELETE then TUNNEL_DELETE for its tunnel.
# Closing the socket alone would also remove the tunnel, so the requests
# themselves are read off l2tpd's system calls.
term_client_traced() {
	local tid rc=0
	tid=$(inc ip l2tp show tunnel | sed -n 's/^Tunnel \([0-9]*\),.*/\1/p' | head -n 1)
	check "found the tunnel id ($tid)" test -n "$tid"
	inc strace -s 256 -xx -e trace=sendto,sendmsg -o "$T/sends.strace" \
		-p "$CLIENT_PID" 2>"$T/strace.log" &
	STRACE_PID=$!
	PIDS+=($STRACE_PID)
	check "strace attached" wait_for 10 grep -q attached "$T/strace.log"
	kill -TERM "$CLIENT_PID"
	wait "$CLIENT_PID" || rc=$?
	wait "$STRACE_PID" || true
	l2tp_cmds "$T/sends.strace" >"$T/cmds.log"
	check "l2tpd exited with 0 (got $rc)" test "$rc" = 0
	check "SESSION_DELETE then TUNNEL_DELETE sent for tunnel $tid ($(tr '\n' ' ' <"$T/cmds.log"))" \
		test "$(grep -E '^(2|6) ' "$T/cmds.log" | tr '\n' ' ')" = "6 $tid 2 $tid "
}

has_broker_iface() { local i; i=$(broker_iface); [ -n "$i" ] && inb ip link show "$i" >/dev/null 2>&1; }

configure_broker_end() {
	local ifc
	wait_for 10 has_broker_iface || return 1
	ifc=$(broker_iface)
	# A tunnel the broker still keeps from before must not own the address.
	for old in $(inb ip -o link show | sed -n 's/^[0-9]*: \(l2tp[0-9]*-[0-9]*\)[:@].*/\1/p'); do
		[ "$old" = "$ifc" ] || inb ip addr flush dev "$old" 2>/dev/null || true
	done
	inb ip link set "$ifc" up
	inb ip addr add $BTUN/24 dev "$ifc" 2>/dev/null || true
	BIF=$ifc
}

client_iface_up() { inc ip -o link show l2tp0 2>/dev/null | grep -q 'UP'; }
client_mtu() { inc cat /sys/class/net/l2tp0/mtu 2>/dev/null; }
broker_mtu() { inb cat /sys/class/net/"$BIF"/mtu 2>/dev/null; }

ping_c2b() { inc ping -c 1 -W 1 "$@" $BTUN >/dev/null 2>&1; }
ping_b2c() { inb ping -c 1 -W 1 "$@" $CTUN >/dev/null 2>&1; }

tunnel_pings() { wait_for "${1:-15}" ping_c2b; }

# bring_up [l2tpd args...]: broker + client + both tunnel ends configured.
bring_up() { bring_up_at $BADDR:$PORT "$@"; }

# bring_up_at BROKER [l2tpd args...]: the same with the broker given, e.g.
# "[$BADDR6]:$PORT".
bring_up_at() {
	local broker=$1
	shift
	make_hook
	start_client -u test-uuid-$ID -i l2tp0 -b "$broker" -s "$HOOK" "$@"
	wait_for 20 client_iface_up || return 1
	configure_broker_end || return 1
	tunnel_pings 15
}

# ---- timing helpers (test/bench.sh) ----

# ms_clock VAR: the wall clock in milliseconds, into VAR, without a fork
# (now_ms forks date, which alone takes milliseconds in the VM).
ms_clock() {
	local _ms_us=${EPOCHREALTIME//[!0-9]/}
	printf -v "$1" '%d' $((_ms_us / 1000))
}

# poll_until MS COMMAND...: runs COMMAND every 10 ms until it succeeds, and
# fails after MS milliseconds.  The pause is a read with a timeout on a FIFO
# nobody writes to, so with a builtin COMMAND a round costs no fork.
poll_until() {
	local limit now
	ms_clock limit
	limit=$((limit + $1))
	shift
	if [ -z "${POLL_FD:-}" ]; then
		[ -p "$T/poll.fifo" ] || mkfifo "$T/poll.fifo" 2>/dev/null || true
		exec {POLL_FD}<>"$T/poll.fifo"
	fi
	until "$@"; do
		ms_clock now
		[ "$now" -lt "$limit" ] || return 1
		read -r -t 0.01 -u "$POLL_FD" || true
	done
}

# lines_at_least N PATTERN FILE: count_at_least without a fork.
lines_at_least() {
	local line n=0
	[ -r "$3" ] || return 1
	while IFS= read -r line; do
		[[ $line != *"$2"* ]] || n=$((n + 1))
	done <"$3"
	[ "$n" -ge "$1" ]
}

# teardown_net: stops every daemon started so far and removes both
# namespaces; a script may then pick a new ID, NSB and NSC and call
# setup_net again for a fresh pair.
teardown_net() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
	ip netns del "$NSB" 2>/dev/null || true
	ip netns del "$NSC" 2>/dev/null || true
}

# ---- recovery scenarios (16-21) and their bench figures ----

# event_at N PATTERN FILE: the at= stamp (wall clock, ms) of the Nth line of
# a broker log FILE that contains PATTERN; fails if there is none.
event_at() {
	local v
	v=$(grep -- "$2" "$3" 2>/dev/null | sed -n "$1{s/.* at=\([0-9]*\).*/\1/p;q}")
	[ -n "$v" ] && echo "$v"
}

# median N...: the middle value (the lower of the two middle ones).
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# start_client_timed L2TPD-ARGS...: start_client, from a shell in the client
# namespace that first writes its wall clock to $T/client.t0 (l2tpd then
# replaces that shell, so CLIENT_PID is l2tpd); a poller started before it
# writes when l2tp0 appears to $T/client.t1.
start_client_timed() {
	rm -f "$T/client.t0" "$T/client.t1"
	export T
	export -f ms_clock poll_until
	ip netns exec "$NSC" bash -c 'poll_until 30000 test -e /sys/class/net/l2tp0 &&
		ms_clock t && echo "$t" >"$T/client.t1"' &
	PIDS+=($!)
	sleep 0.2
	ip netns exec "$NSC" bash -c 'ms_clock t; echo "$t" >"$T/client.t0"; exec "$@"' \
		_ "$L2TPD" -f "$@" >>"$T/client.log" 2>&1 &
	PIDS+=($!)
	CLIENT_PID=$!
}

# start_to_iface_ms: after start_client_timed, the milliseconds from start
# to l2tp0 (waits up to 30 s for it).
start_to_iface_ms() {
	wait_for 30 test -s "$T/client.t1" || return 1
	echo $(( $(cat "$T/client.t1") - $(cat "$T/client.t0") ))
}

# link_up_and_ping IFACE ADDR OUT [UNDERLAY]: in the client namespace, bring
# IFACE up and ping ADDR every 10 ms until the first reply (30 s at most);
# OUT gets "T_UP T_REPLY T_UNDERLAY" on the wall clock.  T_UP is when the
# operstate reads "up": the kernel's link watch may take up to a second
# after "ip link set up" before the device carries anything (and l2tpd
# hears of it).  T_UNDERLAY is the first reply from UNDERLAY (the broker's
# address on that link), pinged alongside: from then on the link itself
# carries traffic, whatever l2tpd does (0 without UNDERLAY).
link_up_and_ping() {
	export -f ms_clock
	ip netns exec "$NSC" bash -c '
		first_reply() {
			for i in $(seq 15); do
				ping -n -q -c 1 -w 2 -i 0.01 "$1" >/dev/null 2>&1 && break
			done
			ms_clock t; echo "$t"
		}
		ip link set dev "$1" up
		until read -r st <"/sys/class/net/$1/operstate" && [ "$st" = up ]; do
			sleep 0.01
		done
		ms_clock up
		u=0
		if [ -n "$4" ]; then
			first_reply "$4" >"$3.underlay" &
		fi
		reply=$(first_reply "$2")
		if [ -n "$4" ]; then
			wait
			read -r u <"$3.underlay"
		fi
		echo "$up $reply $u" >"$3"' _ "$1" "$2" "$3" "${4:-}"
}

# setup_far_link RTT_MS: a second veth pair between the namespaces, with
# RTT_MS round trip (netem, half each way): $FARB (broker) <-> $FARC.  The
# neighbour entries are fixed: a far broker is reached through a nearby
# gateway, so no ARP exchange should pay the round trip.
FARB=10.78.0.1
FARC=10.78.0.2
setup_far_link() {
	modprobe sch_netem 2>/dev/null || true
	ip link add fb$ID netns "$NSB" type veth peer name fc$ID netns "$NSC"
	inb ip addr add $FARB/24 dev fb$ID
	inc ip addr add $FARC/24 dev fc$ID
	inb ip link set fb$ID up
	inc ip link set fc$ID up
	inb ip neigh replace $FARC lladdr "$(inc cat /sys/class/net/fc$ID/address)" dev fb$ID nud permanent
	inc ip neigh replace $FARB lladdr "$(inb cat /sys/class/net/fb$ID/address)" dev fc$ID nud permanent
	inb tc qdisc add dev fb$ID root netem delay "$(($1 / 2))ms"
	inc tc qdisc add dev fc$ID root netem delay "$(($1 - $1 / 2))ms"
}
