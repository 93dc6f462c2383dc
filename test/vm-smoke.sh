#!/bin/bash
# Proves the test rig: network namespaces, a veth pair, an unmanaged L2TPv3
# Ethernet pseudowire over UDP between them, netem, and the results
# directory. Run as: test/vm test/vm-smoke.sh
#
#   n0: veth0 10.200.0.1/24 --- veth1 10.200.0.2/24 :n1
#       l2tpeth0 10.200.1.1/24 === l2tpeth0 10.200.1.2/24  (UDP 1701 <-> 1701)

set -e

n0=l2tpd-smoke0-$$
n1=l2tpd-smoke1-$$
RESULTS=${RESULTS:-$PWD/build/results}
passed=0
failed=0

# Runs a command as an assertion: its output is kept quiet unless it fails.
check() {
	local what=$1 out; shift
	if out=$("$@" 2>&1); then
		echo "PASS: $what"
		passed=$((passed + 1))
	else
		echo "FAIL: $what"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

ifup() {
	ip -n "$1" addr add "$2" dev l2tpeth0 && ip -n "$1" link set l2tpeth0 up
}

# Also runs when set -e stops the script halfway, so the summary is always
# printed and namespaces never outlive the run.
cleanup() {
	local rc=$?
	ip netns del "$n0" 2>/dev/null || true
	ip netns del "$n1" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		echo "FAIL: setup command failed (exit $rc)"
		failed=$((failed + 1))
	fi
	echo "$passed passed, $failed failed"
	[ $failed -eq 0 ] || exit 1
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

ip netns add "$n0"
ip netns add "$n1"
ip -n "$n0" link set lo up
ip -n "$n1" link set lo up
ip -n "$n0" link add veth0 type veth peer name veth1 netns "$n1"
ip -n "$n0" addr add 10.200.0.1/24 dev veth0
ip -n "$n1" addr add 10.200.0.2/24 dev veth1
ip -n "$n0" link set veth0 up
ip -n "$n1" link set veth1 up

check "ping over veth" ip netns exec "$n0" ping -c 1 -W 5 10.200.0.2

check "modprobe l2tp_eth" modprobe l2tp_eth

# Both ends are configured by hand (no control protocol): tunnel ids and
# session ids mirror each other.
check "l2tp tunnel in $n0" ip -n "$n0" l2tp add tunnel tunnel_id 1 \
	peer_tunnel_id 2 encap udp local 10.200.0.1 remote 10.200.0.2 \
	udp_sport 1701 udp_dport 1701
check "l2tp tunnel in $n1" ip -n "$n1" l2tp add tunnel tunnel_id 2 \
	peer_tunnel_id 1 encap udp local 10.200.0.2 remote 10.200.0.1 \
	udp_sport 1701 udp_dport 1701
check "l2tp session in $n0" ip -n "$n0" l2tp add session name l2tpeth0 \
	tunnel_id 1 session_id 10 peer_session_id 20
check "l2tp session in $n1" ip -n "$n1" l2tp add session name l2tpeth0 \
	tunnel_id 2 session_id 20 peer_session_id 10
check "l2tpeth0 up in $n0" ifup "$n0" 10.200.1.1/24
check "l2tpeth0 up in $n1" ifup "$n1" 10.200.1.2/24

check "ping over l2tp" ip netns exec "$n0" ping -c 3 -i 0.2 -W 5 10.200.1.2

# Loss only on n0's egress: each lost echo request is a lost ping. With 30%
# over 100 pings, seeing none or all lost is vanishingly unlikely.
check "netem qdisc" tc -n "$n0" qdisc add dev veth0 root netem loss 30%
loss=$(ip netns exec "$n0" ping -q -c 100 -i 0.01 -W 1 10.200.1.2 |
	sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
check "netem drops some pings, not all (${loss:-?}% lost)" \
	test "${loss%.*}" -gt 0 -a "${loss%.*}" -lt 100

{
	echo "kernel $(uname -r)"
	ip -n "$n0" -d link show l2tpeth0
	ip -n "$n0" l2tp show tunnel
	ip -n "$n0" l2tp show session
	tc -n "$n0" qdisc show dev veth0
	echo "loss ${loss}%"
} >"$RESULTS/vm-smoke.txt" 2>&1 || true
check "results written" test -s "$RESULTS/vm-smoke.txt"
