#!/bin/bash
# l2tp_netlink unloaded and loaded again under a running l2tpd: it gets a
# new genl family id, and l2tpd's next tunnel uses that one.
. "$(dirname "$0")/../lib.sh"
need_l2tp
family_id() { genl ctrl get name l2tp 2>/dev/null | sed -n 's/.*ID: *\(0x[0-9a-f]*\).*/\1/p'; }
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
fam0=$(family_id)
kill -KILL "$broker_PID"; wait "$broker_PID" 2>/dev/null || true
# l2tp_eth is in use while an interface of it exists
for s in $(inc ip l2tp show session | sed -n 's/^Session \([0-9]*\) in tunnel \([0-9]*\)/\2:\1/p'); do
	inc ip l2tp del session tunnel_id "${s%:*}" session_id "${s#*:}" || true
done
if ! modprobe -r l2tp_eth l2tp_netlink 2>"$T/modprobe.log"; then
	cat "$T/modprobe.log"
	echo "SKIP $NAME: l2tp_netlink cannot be unloaded here"
	exit 0
fi
check "family gone" test ! -d /sys/module/l2tp_netlink
modprobe l2tp_eth
fam1=$(family_id)
check "family back under a new id ($fam0 -> $fam1)" test -n "$fam1" -a "$fam1" != "$fam0"
start_broker broker2 -l $BADDR:$PORT
check "new tunnel at the restarted broker" wait_for 60 grep -q 'tunnel up' "$T/broker2.log"
check "client interface back" wait_for 20 client_iface_up
check "no TUNNEL_CREATE failed" eval '! grep -q "TUNNEL_CREATE.*No such file" "$T/client.log"'
check "broker end configured" configure_broker_end
check "traffic flows again" tunnel_pings 15
finish "genl family $fam0 -> $fam1"
