#!/bin/bash
# Runs the kernel scenarios (test/integration/*.sh, or those named), each in
# its own namespaces with a time limit, and closes with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export RESULTS=${RESULTS:-/tmp/l2tpd-results}
mkdir -p "$RESULTS"

if [ $# -gt 0 ]; then
	scripts=("$@")
else
	scripts=(test/integration/[0-9]*.sh)
fi

passed=0
failed=0
failed_names=()
for s in "${scripts[@]}"; do
	start=$(date +%s)
	if timeout -k 5 "${SCENARIO_TIMEOUT:-420}" bash "$s"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names+=("$(basename "$s" .sh)")
	fi
	echo "     ($(basename "$s" .sh): $(( $(date +%s) - start )) s)"
done
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
