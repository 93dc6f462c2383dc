#!/bin/bash
# A tunnel flapping every few seconds while every hook hangs: no event is
# dropped unpaired; the hooks that ran alternate up and down, before and
# after l2tpd stops.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
HOOK_LOG=$T/hook.log
HOOK=$T/hook.sh
cat >"$HOOK" <<HOOK
#!/bin/sh
echo "\$1" >>$HOOK_LOG
[ "\$1" = session.up ] && ip link set "\$2" up
exec sleep 30
HOOK
chmod +x "$HOOK"
start_broker broker0 -l $BADDR:$PORT
start_client -u u-$ID -i l2tp0 -b $BADDR:$PORT -s "$HOOK"
check "first tunnel up" wait_for 20 grep -q 'tunnel up' "$T/broker0.log"
for i in 1 2 3 4 5 6; do
	sleep 3
	eval "pid=\$broker$((i - 1))_PID"
	kill -TERM "$pid"; wait "$pid" || true
	start_broker broker$i -l $BADDR:$PORT
	wait_for 20 grep -q 'tunnel up' "$T/broker$i.log" || true
done
ups=$(cat "$T"/broker*.log | grep -c 'tunnel up' || true)
check "the tunnel flapped ($ups ups)" test "$ups" -ge 6
kill -TERM "$CLIENT_PID"
check "l2tpd exits once its hooks are started" wait_for 120 eval '! kill -0 $CLIENT_PID'
check "no hook skipped" eval '! grep -q "skipped" "$T/client.log"'
seq=$(grep -v mtu-changed "$HOOK_LOG" | tr '\n' ' ')
log "hooks run: $seq"
alternate() {
	local e want=session.up
	for e in $seq; do
		[ "$e" = "$want" ] || return 1
		[ $want = session.up ] && want=session.down || want=session.up
	done
	[ $want = session.up ]
}
check "ups and downs alternate and pair" alternate
finish "$(grep -c . "$HOOK_LOG") hooks run for $ups ups"
