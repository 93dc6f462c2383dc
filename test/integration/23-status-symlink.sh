#!/bin/bash
# Symlinks planted in the run directory, as the temporary status file and
# as the status file: root writes through neither.
. "$(dirname "$0")/../lib.sh"
need_l2tp
setup_net
RUN=/var/run/l2tpd
rm -rf "$RUN"
mkdir -m 0755 "$RUN"
echo victim >"$T/victim"
echo victim2 >"$T/victim2"
ln -s "$T/victim" "$RUN/l2tp0.state.tmp"
ln -s "$T/victim2" "$RUN/l2tp0.state"
start_broker broker -l $BADDR:$PORT
check "tunnel up" bring_up
check "status file says keepalive" wait_for 5 grep -q '^state=keepalive$' "$RUN/l2tp0.state"
check "status file is a regular file" test -f "$RUN/l2tp0.state" -a ! -L "$RUN/l2tp0.state"
check "no temporary file left" test ! -e "$RUN/l2tp0.state.tmp" -a ! -L "$RUN/l2tp0.state.tmp"
check "file behind the planted .tmp untouched" test "$(cat "$T/victim")" = victim
check "file behind the planted status file untouched" test "$(cat "$T/victim2")" = victim2
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || true
check "status file removed at exit" test ! -e "$RUN/l2tp0.state"
finish
