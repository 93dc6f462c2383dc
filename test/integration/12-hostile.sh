#!/bin/bash
# Hostile input at a running l2tpd: no crash, the same tunnel stays up, the
# log stays bounded, and l2tpd is not misled.
#  - UDP from a third address and from another port of the broker's host:
#    the client's socket is connected, so the kernel drops these (UDP
#    NoPorts) and l2tpd never reads one.
#  - UDP from the broker's own address and port (bound beside the broker
#    through SO_REUSEPORT), the only source a connected socket accepts:
#    every datagram is one the decoder must reject, and l2tpd reads them.
#  - Netlink to l2tpd's own netlink sockets (-I makes it watch links):
#    refused by the kernel for an unprivileged user; from root, garbage,
#    lying lengths, and a well-formed "bind interface down", which only
#    the kernel may say.
# What reached l2tpd is read off its recvfrom calls (strace).
. "$(dirname "$0")/../lib.sh"
STRACED=1
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT -M 500
check "tunnel up" bring_up -I $VC
tunnel0=$(inc ip l2tp show session)
inb ip addr add 10.77.0.3/24 dev $VB
# the local address reads 10.77.0.2%IFACE:PORT with -I
cport=$(inc ss -uanp | awk '/l2tpd/ && $4 ~ /^10\.77\.0\.2[%:]/ { n = split($4, a, ":"); print a[n]; exit }')
check "found the client's port ($cport)" test -n "$cport"

# l2tpd's netlink sockets: "PROTOCOL PORTID FD" each
for fd in /proc/$CLIENT_PID/fd/*; do
	ino=$(readlink "$fd" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$ino" ] || continue
	inc awk -v ino="$ino" -v fd="${fd##*/}" '$10 == ino { print $2, $3, fd }' /proc/net/netlink
done >"$T/netlink.txt"
link_fd=$(awk '$1 == 0 { print $3 }' "$T/netlink.txt" | head -n 1)
check "found l2tpd's link and genl sockets ($(tr '\n' ' ' <"$T/netlink.txt"))" \
	test -n "$link_fd" -a "$(awk '$1 == 16' "$T/netlink.txt" | wc -l)" -ge 1

inc strace -s 0 -e trace=recvfrom -o "$T/recv.strace" -p "$CLIENT_PID" \
	2>"$T/strace.log" &
STRACE_PID=$!
PIDS+=($STRACE_PID)
check "strace attached" wait_for 10 grep -q attached "$T/strace.log"

log "spraying UDP"
noports0=$(snmp "$NSC" Udp NoPorts)
inb "$SPRAY" udp 10.77.0.3 $CADDR:$cport 1000 >"$T/spray-third.log"
inb "$SPRAY" udp $BADDR:$((PORT + 1)) $CADDR:$cport 1000 >"$T/spray-port.log"
noports1=$(snmp "$NSC" Udp NoPorts)
rcvbuf0=$(snmp "$NSC" Udp RcvbufErrors)
# paced: l2tpd under strace reads slowly, and what its receive buffer
# drops is counted (RcvbufErrors) but not read
inb "$SPRAY" udp $BADDR:$PORT $CADDR:$cport 600 2000 >"$T/spray-broker.log"
sleep 2
rcvbuf1=$(snmp "$NSC" Udp RcvbufErrors)
log "spraying netlink"
# Netlink to l2tpd's sockets: first as nobody, whom the kernel refuses
# (only CAP_NET_ADMIN may send to another process's netlink socket), then
# as root, which reaches l2tpd's parsers.
NL_SPRAY=/tmp/l2tpd-spray-$ID
install -m 755 "$SPRAY" "$NL_SPRAY"
while read -r proto portid fd; do
	ifname=
	[ "$proto" != 0 ] || ifname=$VC
	inc setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NL_SPRAY" netlink "$proto" "$portid" 20 $ifname \
		>>"$T/spray-nobody.log" 2>&1 || true
	# the genl socket is read only during requests: fewer than fill it
	inc "$SPRAY" netlink "$proto" "$portid" $([ "$proto" = 0 ] && echo 300 || echo 100) \
		$ifname >>"$T/spray-netlink.log" 2>&1
done <"$T/netlink.txt"
rm -f "$NL_SPRAY"
sleep 2
kill "$STRACE_PID" 2>/dev/null || true
wait "$STRACE_PID" 2>/dev/null || true

sent_third=$(sed -n 's/^sent //p' "$T/spray-third.log")
sent_port=$(sed -n 's/^sent //p' "$T/spray-port.log")
sent_broker=$(sed -n 's/^sent //p' "$T/spray-broker.log")
sent_nobody=$(awk '$1 == "sent" { n += $2 } END { print n + 0 }' "$T/spray-nobody.log")
sent_nl=$(awk '$1 == "sent" { n += $2 } END { print n + 0 }' "$T/spray-netlink.log")
from_third=$(grep -c 'inet_addr("10.77.0.3")' "$T/recv.strace" || true)
from_port=$(grep -c "sin_port=htons($((PORT + 1)))" "$T/recv.strace" || true)
from_broker=$(grep -c "sin_port=htons($PORT), sin_addr=inet_addr(\"$BADDR\")" "$T/recv.strace" || true)
nl_read=$(grep -cE "^recvfrom\($link_fd, .* = [0-9]+$" "$T/recv.strace" || true)
drops=$((rcvbuf1 - rcvbuf0))
log "sprayed: third $sent_third, other port $sent_port, broker port $sent_broker, netlink $sent_nl"
log "l2tpd read: $from_third, $from_port, $from_broker ($drops dropped, receive buffer full), link socket $nl_read"

check "kernel dropped the datagrams of the third address and other port (NoPorts +$((noports1 - noports0)))" \
	test $((noports1 - noports0)) -ge $((sent_third + sent_port)) -a "$sent_third" -gt 0 -a "$sent_port" -gt 0
check "... and l2tpd read none of them" test "$from_third" = 0 -a "$from_port" = 0
check "l2tpd read the datagrams from the broker's address and port ($from_broker of $sent_broker, $drops dropped)" \
	test "$sent_broker" -gt 0 -a "$from_broker" -ge $((sent_broker - drops)) -a "$from_broker" -ge $((sent_broker / 2))
check "netlink from nobody refused ($sent_nobody sent: $(grep -m1 sendto "$T/spray-nobody.log"))" \
	test "$sent_nobody" = 0 -a "$(grep -c 'Operation not permitted' "$T/spray-nobody.log")" -ge 1
check "l2tpd read the netlink spray on its link socket ($nl_read reads, $sent_nl sent)" \
	test "$nl_read" -ge 100
check "l2tpd still running" kill -0 "$CLIENT_PID"
check "the same tunnel and session" test "$(inc ip l2tp show session)" = "$tunnel0"
check "broker saw one tunnel only" count_is 1 'tunnel up' "$T/broker.log"
# Fails today: the link socket takes messages from any sender, and a
# process with CAP_NET_ADMIN makes l2tpd log and believe "is down".
check "not misled by a forged link message from a process" eval '! grep -q "is down" "$T/client.log"'
check "tunnel still pings" tunnel_pings 5
lines=$(wc -l <"$T/client.log")
check "log stays bounded ($lines lines)" test "$lines" -lt 40
kill -TERM "$CLIENT_PID"
rc=0
wait "$CLIENT_PID" || rc=$?
check "SIGTERM after the netlink spray: exit 0 (got $rc)" test "$rc" = 0
check "... and the tunnel deleted" test -z "$(inc ip l2tp show tunnel)"
finish "$lines log lines"
