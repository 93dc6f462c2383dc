#!/bin/bash
# The smallest IPv6 path, 1280 bytes, carries a tunnel MTU of only
# 1280 - 74 = 1206.  No probe (1334 bytes and up) is answered, so l2tpd
# learns nothing and sets no MTU: the interface keeps the kernel's own
# default for the path, 1206.  Packets up to 1206 bytes cross both ways;
# a 1280-byte ping does not get an answer (the broker's end, which learnt
# nothing either, stays at its 1426 default, so its reply does not fit the
# path).
. "$(dirname "$0")/../lib.sh"
need_l2tp
v6_path_up 1280
sleep 8 # a discovery run, so a late MTU change would be seen
check "client MTU is the kernel's 1280 - 74 = 1206" mtu_is 1206
check "l2tpd set no MTU" count_is 0 ': MTU ' "$T/client.log"
check "DF ping of 1206 bytes passes" ping_c2b -M do -s $((1206 - 28))
check "DF ping of 1206 bytes passes back" ping_b2c -M do -s $((1206 - 28))
frag0=$(snmp6 "$NSC" Ip6FragCreates)
big=0
for i in 1 2 3; do ping_c2b -s $((1280 - 28)) && big=$((big + 1)); done
frag1=$(snmp6 "$NSC" Ip6FragCreates)
log "1280-byte pings across the tunnel: $big of 3 answered; outer fragments created: $((frag1 - frag0))"
check "1280-byte pings get no answer ($big of 3)" test "$big" = 0
finish "1280 path: MTU client $(client_mtu) broker $(broker_mtu); 1280-byte pings $big of 3, $((frag1 - frag0)) fragments"
