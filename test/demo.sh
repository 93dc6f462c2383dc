#!/bin/bash
# The demo: the test broker and l2tpd in two namespaces, a tunnel between
# them, pings across it, and a clean stop.
. "$(dirname "$0")/lib.sh"
need_l2tp
setup_net
echo "== broker on $BADDR:$PORT (namespace $NSB), l2tpd in $NSC"
start_broker broker -l $BADDR:$PORT
t0=$(now_ms)
make_hook
start_client -v -u demo-0000-4000-8000-000000000001 -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
wait_for 20 client_iface_up
echo "== l2tp0 up after $(( $(now_ms) - t0 )) ms"
configure_broker_end
wait_for 15 ping_c2b
wait_for 10 mtu_is 1446 || true
echo "== l2tpd log so far:"
sed 's/^/   /' "$T/client.log"
echo "== ping across the tunnel ($CTUN -> $BTUN), MTU $(client_mtu)"
inc ping -c 3 -i 0.3 $BTUN | sed 's/^/   /'
echo "== stopping l2tpd (SIGTERM)"
kill -TERM "$CLIENT_PID"
wait "$CLIENT_PID" && echo "   l2tpd exited with 0"
grep -E 'error|tunnel' "$T/broker.log" | sed 's/^/   broker: /'
echo "== kernel tunnels left in the client namespace: $(inc ip l2tp show tunnel | wc -l)"
echo "PASS demo"
