#!/bin/bash
# Brokers given by name: resolved by a real dnsmasq in its own namespace
# through the stub resolver, and through a hosts file.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
command -v dnsmasq >/dev/null || { echo "FAIL $NAME: dnsmasq missing"; exit 1; }
NSD=l2d$ID
ip netns add "$NSD"
trap 'ip netns del "$NSD" 2>/dev/null || true; cleanup' EXIT
ip link add vd$ID netns "$NSD" type veth peer name vdc$ID netns "$NSC"
ip netns exec "$NSD" ip link set lo up
ip netns exec "$NSD" ip addr add 10.78.0.1/24 dev vd$ID
ip netns exec "$NSD" ip link set vd$ID up
inc ip addr add 10.78.0.2/24 dev vdc$ID
inc ip link set vdc$ID up
ip netns exec "$NSD" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.78.0.1 --pid-file= --user=root \
	--host-record=broker.l2tpd.test,$BADDR --log-queries >"$T/dnsmasq.log" 2>&1 &
PIDS+=($!)
wait_for 5 sh -c "ip netns exec $NSD ss -lun | grep -q 10.78.0.1:53"
echo "nameserver 10.78.0.1" >"$T/resolv.conf"
echo "# no entry for the broker here" >"$T/hosts"

start_broker broker -l $BADDR:$PORT
make_hook
L2TPD_RESOLV_CONF=$T/resolv.conf L2TPD_HOSTS=$T/hosts \
	start_client -u u-$ID -i l2tp0 -b broker.l2tpd.test:$PORT -s "$HOOK"
check "tunnel up via DNS" wait_for 20 grep -q 'tunnel up' "$T/broker.log"
check "dnsmasq answered the query" grep -q 'broker.l2tpd.test' "$T/dnsmasq.log"
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true

printf '127.0.0.1 localhost\n%s\tbroker.hosts.test other-alias\n' $BADDR >"$T/hosts"
echo "nameserver 10.78.0.99" >"$T/resolv.conf"
L2TPD_RESOLV_CONF=$T/resolv.conf L2TPD_HOSTS=$T/hosts \
	start_client -u u-$ID -i l2tp0 -b broker.hosts.test:$PORT -s "$HOOK"
check "tunnel up via the hosts file" wait_for 20 count_is 2 'tunnel up' "$T/broker.log"
finish
