#!/bin/bash
# Over an IPv6-only underlay: tunnel up, ping both ways, both ends at the
# IPv6 default MTU 1500 - 74 = 1426, DF pings of exactly that size pass
# whole, and the kernel carries the data frames in UDP over IPv6 both ways
# (the veths have no IPv4 address, and their IPv6 counters rise with the
# pings).
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net6
check "no IPv4 address on the underlay" test -z "$(inc ip -4 -o addr show dev $VC)$(inb ip -4 -o addr show dev $VB)"
start_broker broker -l "[$BADDR6]:$PORT"
t0=$(now_ms)
check "tunnel up and pinging" bring_up_at "[$BADDR6]:$PORT"
log "tunnel usable after $(( $(now_ms) - t0 )) ms"
check "broker saw the client at its IPv6 address" grep -q "tunnel up .*from=\[$CADDR6\]:" "$T/broker.log"
check "client's kernel tunnel runs between the IPv6 addresses" \
	eval 'inc ip l2tp show tunnel | grep -q "From $CADDR6 to $BADDR6"'
check "broker's kernel tunnel runs between the IPv6 addresses" \
	eval 'inb ip l2tp show tunnel | grep -q "From $BADDR6 to $CADDR6"'
check "ping client -> broker" ping_c2b
check "ping broker -> client" ping_b2c
check "client MTU is 1426" wait_for 15 mtu_is 1426
check "broker MTU is 1426" wait_for 15 broker_mtu_is 1426
mtu=$(client_mtu)
bmtu=$(broker_mtu)
check "DF pings of $mtu bytes pass client -> broker" inc ping -c 3 -i 0.3 -W 2 -M do -s $((mtu - 28)) $BTUN
check "DF pings of $mtu bytes pass broker -> client" inb ping -c 3 -i 0.3 -W 2 -M do -s $((mtu - 28)) $CTUN

# 20 pings each way are 40 data frames out and 40 in at each end, over
# IPv6 because nothing else exists below the tunnel; keepalives and probes
# only add to the counts.
N=20
c_out0=$(snmp6_dev "$NSC" $VC Ip6OutRequests); c_in0=$(snmp6_dev "$NSC" $VC Ip6InReceives)
b_out0=$(snmp6_dev "$NSB" $VB Ip6OutRequests); b_in0=$(snmp6_dev "$NSB" $VB Ip6InReceives)
c_udp0=$(snmp6 "$NSC" Udp6InDatagrams); b_udp0=$(snmp6 "$NSB" Udp6InDatagrams)
check "$N pings client -> broker" inc ping -c $N -i 0.05 -W 2 -q $BTUN
check "$N pings broker -> client" inb ping -c $N -i 0.05 -W 2 -q $CTUN
c_out=$(( $(snmp6_dev "$NSC" $VC Ip6OutRequests) - c_out0 ))
c_in=$(( $(snmp6_dev "$NSC" $VC Ip6InReceives) - c_in0 ))
b_out=$(( $(snmp6_dev "$NSB" $VB Ip6OutRequests) - b_out0 ))
b_in=$(( $(snmp6_dev "$NSB" $VB Ip6InReceives) - b_in0 ))
c_udp=$(( $(snmp6 "$NSC" Udp6InDatagrams) - c_udp0 ))
b_udp=$(( $(snmp6 "$NSB" Udp6InDatagrams) - b_udp0 ))
log "IPv6 on the veths during the pings: client out $c_out in $c_in, broker out $b_out in $b_in; UDP/IPv6 received: client $c_udp, broker $b_udp"
check "client sent >= $((2 * N)) IPv6 packets on its veth ($c_out)" test "$c_out" -ge $((2 * N))
check "client received >= $((2 * N)) IPv6 packets on its veth ($c_in)" test "$c_in" -ge $((2 * N))
check "broker sent >= $((2 * N)) IPv6 packets on its veth ($b_out)" test "$b_out" -ge $((2 * N))
check "broker received >= $((2 * N)) IPv6 packets on its veth ($b_in)" test "$b_in" -ge $((2 * N))
check "client's kernel received >= $((2 * N)) UDP/IPv6 datagrams ($c_udp)" test "$c_udp" -ge $((2 * N))
check "broker's kernel received >= $((2 * N)) UDP/IPv6 datagrams ($b_udp)" test "$b_udp" -ge $((2 * N))
check "hook saw session.mtu-changed l2tp0 1426" grep -q '^session.mtu-changed l2tp0 1426' "$HOOK_LOG"
check "status file has the MTU" grep -q '^mtu=1426$' /var/run/l2tpd/l2tp0.state
finish "MTU client $mtu broker $bmtu"
