#!/bin/bash
# Path MTU 1400 between the namespaces: both tunnel ends settle at
# 1400 - 54.  Then a broker in fixed-MTU mode: the client follows its value.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
inb ip link set $VB mtu 1400
inc ip link set $VC mtu 1400
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
check "client MTU is 1346" wait_for 15 mtu_is 1346
check "broker MTU is 1346" wait_for 15 broker_mtu_is 1346
check "DF ping of 1346 bytes passes" ping_c2b -M do -s $((1346 - 28))
log "path 1400: client $(client_mtu), broker $(broker_mtu)"
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true
kill -TERM "$broker_PID"; wait "$broker_PID" || true

inb ip link set $VB mtu 1500
inc ip link set $VC mtu 1500
start_broker fixed -l $BADDR:$PORT -m 1360
check "tunnel up with a fixed-MTU broker" bring_up
check "client MTU follows the broker's 1360" wait_for 15 mtu_is 1360
log "fixed 1360: client $(client_mtu)"
finish
