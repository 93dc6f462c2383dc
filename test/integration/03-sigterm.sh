#!/bin/bash
# SIGTERM: ERROR 0x11 to the broker, session.down to the hook, SESSION_DELETE
# and TUNNEL_DELETE sent for our tunnel, nothing of ours left in the kernel,
# exit status 0.  Closing the socket alone would also remove the tunnel, so
# the requests themselves are read off l2tpd's system calls.
. "$(dirname "$0")/../lib.sh"
STRACED=1
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
term_client_traced
check "broker got ERROR 0x11" wait_for 5 grep -q 'error .*reason=0x11' "$T/broker.log"
check "hook saw session.down l2tp0" wait_for 5 grep -q '^session.down l2tp0' "$HOOK_LOG"
check "no L2TP tunnel left in the client namespace" test -z "$(inc ip l2tp show tunnel)"
check "no l2tp0 left" eval '! inc ip link show l2tp0 >/dev/null 2>&1'
check "hook calls paired" test "$(grep -c '^session.up' "$HOOK_LOG")" = "$(grep -c '^session.down' "$HOOK_LOG")"
finish
