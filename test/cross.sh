#!/bin/bash
# Runs the cross-built unit tests and corpus replays under qemu-user, one
# architecture after another; each closes with "NAME: N passed, N failed",
# where a replayed corpus input counts as a pass and a replay that does not
# finish cleanly as a failure.  Exits 1 if anything failed anywhere.
# Arguments: NAME:TRIPLET:QEMU ...; FUZZERS names the replays.
set -u
cd "$(dirname "$0")/.."
status=0
for spec in "$@"; do
	IFS=: read -r name triplet qemu <<<"$spec"
	dir=build/rel/host-$triplet-gcc
	passed=0
	failed=0
	if ! command -v "$qemu" >/dev/null; then
		echo "$name: $qemu missing (make deps installs it)"
		echo "$name: 0 passed, 1 failed"
		status=1
		continue
	fi
	echo "== $name ($triplet, $qemu)"
	# emulation is several times slower: linear-time bounds stretch
	out=$(L2TPD_TEST_TIME_SCALE=10 "$qemu" "$dir/unit_tests" 2>&1)
	rc=$?
	summary=$(tail -n 1 <<<"$out")
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=${BASH_REMATCH[1]}
		failed=${BASH_REMATCH[2]}
		grep -E '^(FAIL|  )' <<<"$out" | head -n 40
		echo "unit tests: $summary"
		[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
	else
		tail -n 20 <<<"$out"
		echo "unit tests: no summary (exit $rc)"
		failed=$((failed + 1))
	fi
	for f in ${FUZZERS:-}; do
		# every input of the corpus, or it is a failure
		want=$(find "test/fuzz/corpus/$f" -maxdepth 1 -type f ! -name '.*' | wc -l)
		out=$("$qemu" "$dir/replay/fuzz_$f" "test/fuzz/corpus/$f" 2>&1)
		rc=$?
		if [ "$rc" -eq 0 ] && [[ $out =~ replayed\ ([0-9]+)\ inputs ]] &&
			[ "${BASH_REMATCH[1]}" -eq "$want" ] && [ "$want" -gt 0 ]; then
			passed=$((passed + BASH_REMATCH[1]))
			echo "replay $f: ${BASH_REMATCH[1]} inputs"
		else
			tail -n 20 <<<"$out"
			echo "replay $f: failed (exit $rc, $want inputs in the corpus)"
			failed=$((failed + 1))
		fi
	done
	echo "$name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] || status=1
done
exit $status
