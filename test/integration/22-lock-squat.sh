#!/bin/bash
# No other user can keep l2tpd from starting: nobody holding the old
# abstract-socket name or trying the lock file changes nothing, and a run
# directory another user could write to is refused with a clear error.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
RUN=/var/run/l2tpd
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

rm -rf "$RUN"
# what squatted the lock of earlier versions: an abstract socket name, in
# the client's namespace (not through inc: $! must be the squatter); python
# takes seconds to start under emulation
ip netns exec "$NSC" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0l2tpd/l2tp0")
time.sleep(120)' &
PIDS+=($!)
check "nobody holds the old lock name" wait_for 60 inc grep -q '@l2tpd/l2tp0' /proc/net/unix
start_broker broker -l $BADDR:$PORT
check "tunnel up with nobody squatting" bring_up
check "run directory is root's, 0755" test "$(stat -c '%U %a' $RUN)" = "root 755"
check "lock file only root can open" test "$(stat -c "%U %a" $RUN/l2tp0.net*.lock)" = "root 600"
check "nobody cannot open the lock" eval '! as_nobody flock -n $RUN/l2tp0.net*.lock true 2>/dev/null'
check "nobody cannot create files there" eval '! as_nobody sh -c "echo x >$RUN/x.lock" 2>/dev/null'
check "a second l2tpd for l2tp0 is refused" eval \
	'inc "$L2TPD" -f -u u2 -i l2tp0 -b $BADDR:$PORT >"$T/second.log" 2>&1; test $? = 1'
check "  ... naming the running one" grep -q "already running for interface l2tp0" "$T/second.log"
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true

# a run directory the wrong user owns, or others may write to
refused() { # WHAT: l2tpd exits 1 at once saying WHAT
	inc timeout 10 "$L2TPD" -f -u u3 -i l2tp0 -b $BADDR:$PORT >"$T/refused.log" 2>&1
	local rc=$?
	cat "$T/refused.log" >>"$T/client.log"
	[ $rc = 1 ] && grep -q "refusing $RUN: $1" "$T/refused.log"
}
chown nobody "$RUN"
check "a run directory owned by nobody is refused (exit 1)" refused "owned by another user"
chown root "$RUN"
chmod 0775 "$RUN"
check "group write is refused" refused "group or others may write"
chmod 0757 "$RUN"
check "other write is refused" refused "group or others may write"
chmod 0755 "$RUN"
rm -rf "$RUN"
ln -s /tmp "$RUN"
check "a symlink is refused" refused "not a directory"
rm -f "$RUN"
finish
