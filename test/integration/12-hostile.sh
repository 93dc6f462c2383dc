#!/bin/bash
# Malformed datagrams from the broker and datagrams from a third address
# sprayed at the client's port: no crash, tunnel stays up, logs bounded.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT -M 500
check "tunnel up" bring_up
inb ip addr add 10.77.0.3/24 dev $VB
cport=$(inc ss -uanp | sed -n 's/.*10\.77\.0\.2:\([0-9]*\) .*l2tpd.*/\1/p' | head -n 1)
check "found the client's port ($cport)" test -n "$cport"
inb "$SPRAY" 10.77.0.3 $CADDR:$cport 3000
inb "$SPRAY" $BADDR $CADDR:$cport 3000 || true
sleep 2
check "l2tpd still running" kill -0 "$CLIENT_PID"
check "tunnel still pings" tunnel_pings 5
lines=$(wc -l <"$T/client.log")
check "log stays bounded ($lines lines)" test "$lines" -lt 40
finish "$lines log lines"
