#!/usr/bin/env bash
# Long randomized runs of the exerciser (`make soak`): the CI case
# (tests/cases/stress/exerciser.sh: both completer settings, a remount and a
# comparison of the whole trees after each run) again and again with random
# seeds, SOAK_OPS operations per group and run (default 20000), the writeback
# cache on or off at random, until SOAK_TIME seconds (default 3600) have
# passed. Prints each seed and the running count of operations; stops at the
# first difference, leaving its report in SOAK_LOGS (default /tmp/cowfs-soak).
#   tests/exerciser/soak.sh [BUILD]        (run as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OPS=${SOAK_OPS:-20000}
LOGS=${SOAK_LOGS:-/tmp/cowfs-soak}
end=$(($(date +%s) + ${SOAK_TIME:-3600}))
total=0 runs=0
mkdir -p "$LOGS"
while [ "$(date +%s)" -lt "$end" ]; do
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	extra=
	[ $((seed % 3)) != 0 ] || extra=writeback=off
	log="$LOGS/$seed.log"
	if ! EXERCISER_SEED=$seed EXERCISER_OPS=$OPS EXERCISER_OPTS=$extra \
		COWFS_BUILD=$BUILD bash tests/cases/stress/exerciser.sh \
		>"$log" 2>&1; then
		echo "soak: a difference with seed $seed${extra:+ ($extra)}" \
			"after $runs runs and $total operations; report: $log"
		echo "soak: rerun with EXERCISER_SEED=$seed EXERCISER_OPS=$OPS" \
			"${extra:+EXERCISER_OPTS=$extra }tests/run-tests.sh stress/exerciser"
		exit 1
	fi
	n=$(sed -n 's/^exerciser: [^ ]*: \([0-9]*\) operations, no difference$/\1/p' \
		"$log" | awk '{ s += $1 } END { print s + 0 }')
	total=$((total + n))
	runs=$((runs + 1))
	echo "soak: seed $seed${extra:+ ($extra)}: $n operations, $total in $runs runs"
	rm -f "$log"
done
echo "soak: $total operations in $runs runs, no difference"
