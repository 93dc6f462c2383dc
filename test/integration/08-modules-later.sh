#!/bin/bash
# The L2TP modules are missing at start: one clear error naming them, no
# busy retrying, and the tunnel comes up once they are loaded.
. "$(dirname "$0")/../lib.sh"
modprobe -r l2tp_eth l2tp_netlink l2tp_core 2>/dev/null || true
[ ! -d /sys/module/l2tp_netlink ] ||
	skip "L2TP is built in or in use: cannot start without it"
modprobe veth   # needed below, while autoloading is off
old_modprobe=$(cat /proc/sys/kernel/modprobe)
echo /bin/false >/proc/sys/kernel/modprobe   # no autoloading behind our back
trap 'echo "$old_modprobe" >/proc/sys/kernel/modprobe; cleanup' EXIT
setup_net
start_broker broker -K -l $BADDR:$PORT
make_hook
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
sleep 2
ticks0=$(awk '{print $14 + $15}' /proc/$CLIENT_PID/stat)
sleep 10
ticks=$(( $(awk '{print $14 + $15}' /proc/$CLIENT_PID/stat) - ticks0 ))
check "one clear error naming the modules" test "$(grep -c 'load the modules l2tp_core, l2tp_netlink and l2tp_eth' "$T/client.log")" = 1
# a spinning loop would burn all 1000 ticks; sanitizer builds under TCG
# need a few for each of the two retries
check "no busy retrying (cpu ticks in 10 s: $ticks)" test "$ticks" -lt 30
check "no broker contacted without a kernel" eval '! grep -q prepare "$T/broker.log"'
echo "$old_modprobe" >/proc/sys/kernel/modprobe
modprobe l2tp_eth
kill -TERM "$broker_PID"; wait "$broker_PID" || true
start_broker broker2 -l $BADDR:$PORT
check "tunnel up after loading" wait_for 15 grep -q 'tunnel up' "$T/broker2.log"
finish
