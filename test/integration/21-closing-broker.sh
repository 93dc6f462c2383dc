#!/bin/bash
# A broker that closes every tunnel right after making it (ERROR 0x04 after
# 300 ms): l2tpd backs off exponentially, at most 4 tunnels per broker per
# 10 minutes, one log line per back-off step.  A shorter window is
# asserted: whatever the steps, 4 per 10 minutes cannot be more than 4 in
# ${WINDOW_S:-120} s.  Then with a good broker listed second, l2tpd prefers it
# while the first is backed off, and stays there.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
WINDOW_S=${WINDOW_S:-120}
BACKOFF_LINE=${BACKOFF_LINE:-not using this broker for}
start_broker closer -l $BADDR:$PORT -C 300
make_hook
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
check "first tunnel made" wait_for 20 count_at_least 1 'tunnel up' "$T/closer.log"
sleep "$WINDOW_S"
made=$(grep -c 'tunnel up' "$T/closer.log" || true)
steps=$(grep -ci -- "$BACKOFF_LINE" "$T/client.log" || true)
log "$made tunnels in $WINDOW_S s; $steps back-off lines:"
grep -i -- "$BACKOFF_LINE" "$T/client.log" | sed 's/^/      /'
check "at most 4 tunnels in $WINDOW_S s ($made)" test "$made" -le 4
check "a back-off line per step, no more ($steps lines, $made tunnels)" \
	test "$steps" -ge $((made - 1)) -a "$steps" -ge 1 -a "$steps" -le "$made"
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true
inc ip link del l2tp0 2>/dev/null || true

# The closing broker first, a good one second.
start_broker good -l $BADDR:8943
closed0=$(grep -c 'tunnel up' "$T/closer.log" || true)
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -b $BADDR:8943 -s "$HOOK"
check "tunnel at the good broker" wait_for 30 count_at_least 1 'tunnel up' "$T/good.log"
sleep 20
check "it stays there (one tunnel at the good broker)" count_is 1 'tunnel up' "$T/good.log"
check "the good broker's tunnel is still up" eval '! grep -q "tunnel down" "$T/good.log"'
check "the closing broker made at most 2 tunnels meanwhile" test $(( $(grep -c 'tunnel up' "$T/closer.log") - closed0 )) -le 2
finish "$made tunnels in $WINDOW_S s, $steps back-off lines"
