#!/bin/bash
# Path MTU 1400 on an IPv6-only underlay: both tunnel ends settle at
# 1400 - 74 = 1326 (probes of S - 48 bytes, acknowledged sizes plus 48).
. "$(dirname "$0")/../lib.sh"
need_l2tp
v6_path_up 1400
check "client MTU is 1326" wait_for 20 mtu_is 1326
check "broker MTU is 1326" wait_for 20 broker_mtu_is 1326
# The broker's own run sends each size 4 times, 1 s apart, largest first:
# the 1400-byte probe is its 17th, about 18 s after the tunnel is made.
check "broker measured 1326 from its own probes" wait_for 40 grep -q 'pmtu id=.* measured=1326' "$T/broker.log"
check "broker's largest acknowledged probe is the 1400-byte packet" grep -q 'probe-ack id=.* size=1400$' "$T/broker.log"
check "DF ping of 1326 bytes passes" ping_c2b -M do -s $((1326 - 28))
check "DF ping of 1326 bytes passes back" ping_b2c -M do -s $((1326 - 28))
log "path 1400 over IPv6: client $(client_mtu), broker $(broker_mtu)"
finish "MTU client $(client_mtu) broker $(broker_mtu)"
