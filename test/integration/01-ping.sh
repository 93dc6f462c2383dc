#!/bin/bash
# Tunnel up, ping both ways, and the negotiated MTU is exact: inner packets
# of exactly the MTU cross in outer datagrams that fill the underlay's 1500
# bytes without being fragmented, and with the interface's MTU raised by
# one, a packet of that size no longer fits: the underlay fragments or drops
# its outer datagram.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
t0=$(now_ms)
check "tunnel up and pinging" bring_up
log "tunnel usable after $(( $(now_ms) - t0 )) ms"
check "ping client -> broker" ping_c2b
check "ping broker -> client" ping_b2c
check "client MTU is 1446" wait_for 10 mtu_is 1446
check "broker MTU is 1446" test "$(broker_mtu)" = 1446
mtu=$(client_mtu)

# frag_count: outer datagrams the client namespace fragmented or could not
# (DF), and those the broker namespace had to reassemble.
frag_count() {
	echo $(( $(snmp "$NSC" Ip FragCreates) + $(snmp "$NSC" Ip FragFails) + \
		$(snmp "$NSB" Ip ReasmReqds) ))
}
# At exactly the MTU the outer datagram fills the underlay's 1500 bytes
# without fragments; one byte more and it no longer fits.  (Byte counters
# cannot show the size: l2tpd's path MTU probes cross the underlay too.)
f0=$(frag_count)
check "3 DF pings of $mtu bytes pass" inc ping -c 3 -i 0.3 -W 2 -M do -s $((mtu - 28)) $BTUN
f1=$(frag_count)
check "... with no outer datagram fragmented ($((f1 - f0)) fragment events)" test "$f1" = "$f0"
inc ip link set l2tp0 mtu $((mtu + 1))
f2=$(frag_count)
inc ping -c 3 -i 0.3 -W 2 -M do -s $((mtu - 27)) $BTUN >"$T/ping-big.log" 2>&1 || true
f3=$(frag_count)
check "with MTU $((mtu + 1)), DF pings of $((mtu + 1)) bytes leave the client" \
	eval '! grep -q "message too long" "$T/ping-big.log"'
check "... and the underlay fragments or drops their outer datagrams ($((f3 - f2)) fragment events)" \
	test $((f3 - f2)) -ge 3
inc ip link set l2tp0 mtu "$mtu"
check "MTU $mtu restored, full-size DF ping passes" ping_c2b -M do -s $((mtu - 28))
check "hook saw session.up l2tp0" grep -q '^session.up l2tp0' "$HOOK_LOG"
check "hook saw session.mtu-changed l2tp0 1446" grep -q '^session.mtu-changed l2tp0 1446' "$HOOK_LOG"
second_rc=0
inc "$L2TPD" -f -u other -i l2tp0 -b $BADDR:$PORT >"$T/second.log" 2>&1 || second_rc=$?
check "a second l2tpd for l2tp0 refuses to start (exit $second_rc)" test "$second_rc" = 1
check "... saying why" grep -q 'already running for interface l2tp0' "$T/second.log"
check "first l2tpd unaffected" ping_c2b
check "status file says keepalive" grep -q '^state=keepalive$' /var/run/l2tpd/l2tp0.state
check "status file has the MTU" grep -q '^mtu=1446$' /var/run/l2tpd/l2tp0.state
finish "MTU $mtu"
