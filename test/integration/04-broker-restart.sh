#!/bin/bash
# The broker is killed (no goodbye) and restarted at once: l2tpd notices the
# silence, builds a new tunnel, and traffic flows again.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
kill -KILL "$broker_PID"; wait "$broker_PID" 2>/dev/null || true
t0=$(now_ms)
start_broker broker2 -l $BADDR:$PORT
check "new tunnel at the restarted broker" wait_for 40 grep -q 'tunnel up' "$T/broker2.log"
t1=$(now_ms)
check "broker end configured" configure_broker_end
check "traffic flows again" tunnel_pings 15
t2=$(now_ms)
crash_ms=$((t2 - t0))
log "recovery: new tunnel after $((t1 - t0)) ms, ping after $crash_ms ms"
check "hook calls paired (down before the new up)" test "$(grep -c '^session.up' "$HOOK_LOG")" = 2 -a "$(grep -c '^session.down' "$HOOK_LOG")" = 1

# A graceful restart: the broker says goodbye, l2tpd reconnects at once.
kill -TERM "$broker2_PID"; wait "$broker2_PID" || true
t0=$(now_ms)
start_broker broker3 -l $BADDR:$PORT
check "new tunnel after a graceful restart" wait_for 20 grep -q 'tunnel up' "$T/broker3.log"
t1=$(now_ms)
log "graceful restart: new tunnel after $((t1 - t0)) ms"
finish "crash recovery $crash_ms ms, graceful $((t1 - t0)) ms"
