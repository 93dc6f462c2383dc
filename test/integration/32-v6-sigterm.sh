#!/bin/bash
# SIGTERM over an IPv6-only underlay: ERROR 0x11 reaches the broker over
# IPv6, SESSION_DELETE and TUNNEL_DELETE are sent for our tunnel, nothing
# of ours is left in the kernel, the broker takes its tunnel down, exit 0.
. "$(dirname "$0")/../lib.sh"
STRACED=1
need_l2tp
setup_net6
start_broker broker -l "[$BADDR6]:$PORT"
check "tunnel up" bring_up_at "[$BADDR6]:$PORT"
check "client's kernel tunnel over IPv6" eval 'inc ip l2tp show tunnel | grep -q "From $CADDR6 to $BADDR6"'
term_client_traced
check "broker got ERROR 0x11 from the client's IPv6 address" wait_for 5 grep -q "error from=\[$CADDR6\]:.*reason=0x11" "$T/broker.log"
check "broker took its tunnel down" wait_for 5 grep -q "tunnel down .*from=\[$CADDR6\]:" "$T/broker.log"
no_broker_tunnel() { [ -z "$(inb ip l2tp show tunnel)" ]; }
check "no L2TP tunnel left in the broker namespace" wait_for 5 no_broker_tunnel
check "hook saw session.down l2tp0" wait_for 5 grep -q '^session.down l2tp0' "$HOOK_LOG"
check "no L2TP tunnel left in the client namespace" test -z "$(inc ip l2tp show tunnel)"
check "no l2tp0 left" eval '! inc ip link show l2tp0 >/dev/null 2>&1'
finish
