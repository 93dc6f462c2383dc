#!/bin/bash
# Runs the kernel scenarios (test/integration/*.sh, or those named), each in
# its own namespaces with a time limit, and closes with
# "N passed, N failed, N skipped".
#
# A scenario's exit status says how it went: 0 passed, 77 skipped (it could
# not test what it is for here, e.g. L2TP built into the kernel; see skip in
# test/lib.sh), anything else failed, including the time limit.  Skips are
# not passes; the run fails only if a scenario failed.
set -u
cd "$(dirname "$0")/.."
export RESULTS=${RESULTS:-/tmp/l2tpd-results}
mkdir -p "$RESULTS"
SKIP_STATUS=77

if [ $# -gt 0 ]; then
	scripts=("$@")
else
	scripts=(test/integration/[0-9]*.sh)
fi

passed=0
failed=0
skipped=0
failed_names=()
skipped_names=()
for s in "${scripts[@]}"; do
	start=$(date +%s)
	rc=0
	timeout -k 5 "${SCENARIO_TIMEOUT:-420}" bash "$s" || rc=$?
	name=$(basename "$s" .sh)
	case $rc in
	0) passed=$((passed + 1)) ;;
	"$SKIP_STATUS")
		skipped=$((skipped + 1))
		skipped_names+=("$name")
		;;
	*)
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
	echo "     ($name: $(( $(date +%s) - start )) s)"
done
[ $skipped -eq 0 ] || echo "skipped: ${skipped_names[*]}"
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
