#!/bin/bash
# Sizes of the stripped l2tpd: static and dynamic, for x86_64 against musl
# and for each cross toolchain against its own C library (Debian's: glibc).
# Fails if the static x86_64 musl binary is over the 64 KiB budget.
# Environment: MAKE, STATIC_BIN (the stripped static binary `make strip`
# made), STATIC_CC (what built it), CROSS (NAME:TRIPLET:QEMU ...).  The
# others are built by the Makefile's own rules into build/size/NAME.
set -eu
cd "$(dirname "$0")/.."
BUDGET=65536
out=build/size
mkdir -p "$out"

# cc strip name static|dynamic: the stripped size, or "-" if cc is missing.
stripped_size() {
	local cc=$1 strip=$2 dir=$out/$3 link=-Wl,--gc-sections
	[ "$4" = static ] && link="-static $link"
	if ! command -v "$cc" >/dev/null; then
		echo -
		return
	fi
	${MAKE:-make} --no-print-directory SAN= CC="$cc" B="$dir" BIN="$dir/l2tpd" \
		STATIC="$link" "$dir/l2tpd" >"$dir.log" 2>&1 || {
		cat "$dir.log" >&2
		return 1
	}
	"$strip" -o "$dir/l2tpd.stripped" "$dir/l2tpd"
	stat -c %s "$dir/l2tpd.stripped"
}

printf '%-8s %-6s %16s %16s\n' arch libc "static stripped" "dynamic stripped"
static=$(stat -c %s "$STATIC_BIN")
musl=no
[ "$(basename "$STATIC_CC")" = musl-gcc ] && [ "$(uname -m)" = x86_64 ] && musl=yes
if [ "$musl" = yes ]; then
	dynamic=$(stripped_size musl-gcc strip x86_64-musl-dynamic dynamic)
	printf '%-8s %-6s %16s %16s\n' x86_64 musl "$static" "$dynamic"
else
	printf '%-8s %-6s %16s %16s\n' "$(uname -m)" "($STATIC_CC)" "$static" -
fi
for spec in $CROSS; do
	IFS=: read -r name triplet _ <<<"$spec"
	s=$(stripped_size "$triplet-gcc" "$triplet-strip" "$name-static" static)
	d=$(stripped_size "$triplet-gcc" "$triplet-strip" "$name-dynamic" dynamic)
	printf '%-8s %-6s %16s %16s\n' "$name" glibc "$s" "$d"
done
if [ "$musl" = yes ]; then
	if [ "$static" -gt "$BUDGET" ]; then
		echo "static x86_64 musl binary: $static bytes, over the budget of $BUDGET by $((static - BUDGET))"
		exit 1
	fi
	echo "static x86_64 musl binary: $static bytes, $((BUDGET - static)) under the budget of $BUDGET"
fi
