#!/bin/bash
# A second l2tpd with the same tunnel id and another interface exits 1
# naming the id and the interface that has it; the first one's tunnel
# survives.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "first tunnel up" bring_up -t 7
rc=0
inc timeout 20 "$L2TPD" -f -u second-$ID -i l2tp1 -t 7 -b $BADDR:$PORT >"$T/second.log" 2>&1 || rc=$?
check "second l2tpd exits 1 (got $rc)" test "$rc" = 1
check "  ... naming tunnel id 7 and l2tp0" grep -q 'tunnel id 7 is in use by the l2tpd of interface l2tp0' "$T/second.log"
check "  ... and no second tunnel at the broker" test "$(grep -c 'tunnel up' "$T/broker.log")" = 1
check "first tunnel still in the kernel" eval 'inc ip l2tp show tunnel | grep -q "^Tunnel 7,"'
check "first interface still there" inc ip link show l2tp0
check "first tunnel still pings" tunnel_pings 5
# another id is fine
start_client -u third-$ID -i l2tp2 -t 8 -b $BADDR:$PORT
check "l2tpd with another id comes up" wait_for 20 eval 'inc ip l2tp show tunnel | grep -q "^Tunnel 8,"'
check "first tunnel still pings" tunnel_pings 5
finish
