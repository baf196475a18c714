#!/usr/bin/env bash
# Runs the scenario cases under tests/cases/ (discovered, not registered),
# two at a time, each with a time limit, against real cowfs mounts.
# Usage: tests/run-tests.sh [--user] [AREA|AREA/NAME ...]
#        (COWFS_BUILD=build-asan ...)
# --user: the daemons run as an unprivileged user (created when missing),
# through fusermount3, each case in a private mount namespace whose
# /dev/fuse is usable by that user and whose /etc/fuse.conf allows
# allow_other, so that the cases (root) can use the views.
# Ends with "N passed, N failed"; exits non-zero if any failed or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${TEST_JOBS:-2}
LIMIT=${TEST_TIMEOUT:-240}

if [ "$(id -u)" != 0 ]; then
	echo "tests/run-tests.sh: run as root: cases mount filesystems and drop caches" >&2
	exit 1
fi
if [ ! -c /dev/fuse ]; then
	echo "tests/run-tests.sh: /dev/fuse is missing: FUSE cannot work here" >&2
	exit 1
fi

USER_MODE=
if [ "${1:-}" = --user ]; then
	USER_MODE=1
	shift
fi

cases=()
if [ $# -eq 0 ]; then
	mapfile -t cases < <(find tests/cases -name '*.sh' | LC_ALL=C sort)
else
	for sel in "$@"; do
		sel=${sel%.sh}
		if [ -d "tests/cases/$sel" ]; then
			mapfile -t -O "${#cases[@]}" cases < <(find "tests/cases/$sel" -name '*.sh' | LC_ALL=C sort)
		elif [ -f "tests/cases/$sel.sh" ]; then
			cases+=("tests/cases/$sel.sh")
		else
			echo "tests/run-tests.sh: no case or area '$sel'" >&2
			exit 1
		fi
	done
fi
[ "${#cases[@]}" -gt 0 ] || { echo "no test cases found" >&2; exit 1; }

out=$(mktemp -d "${TMPDIR:-/tmp}/cowfs-run.XXXXXX")
trap 'rm -rf "$out"' EXIT
if [ -n "$USER_MODE" ]; then
	printf 'user_allow_other\n' >"$out/fuse.conf"
	mknod -m 0666 "$out/fuse" c 10 229
	export COWFS_AS_USER=1
fi


run_one() { # CASE INDEX
	local c=$1 i=$2 start rc=0
	start=$(date +%s)
	if [ -n "$USER_MODE" ]; then
		timeout -k 10 "$LIMIT" unshare -m bash -c \
			'mount --bind "$1/fuse.conf" /etc/fuse.conf &&
			 mount --bind "$1/fuse" /dev/fuse && exec bash "$2"' \
			sh "$out" "$c" >"$out/$i.log" 2>&1 || rc=$?
	else
		timeout -k 10 "$LIMIT" bash "$c" >"$out/$i.log" 2>&1 || rc=$?
	fi
	echo "$rc $(($(date +%s) - start))" >"$out/$i.rc"
}

pass=0 failed=0 i=0
running=()
report() { # INDEX
	local j=$1 name rc secs
	name=${cases[$j]#tests/cases/}
	name=${name%.sh}
	read -r rc secs <"$out/$j.rc"
	if [ "$rc" = 0 ]; then
		echo "PASS $name (${secs}s)"
		pass=$((pass + 1))
	else
		[ "$rc" = 124 ] && echo "FAIL $name (timed out after ${LIMIT}s)" ||
			echo "FAIL $name (exit $rc, ${secs}s)"
		sed 's/^/    | /' "$out/$j.log"
		failed=$((failed + 1))
	fi
}

for i in "${!cases[@]}"; do
	run_one "${cases[$i]}" "$i" &
	running+=("$!:$i")
	while [ "${#running[@]}" -ge "$JOBS" ]; do
		wait -n || true
		still=()
		for r in "${running[@]}"; do
			if kill -0 "${r%%:*}" 2>/dev/null; then
				still+=("$r")
			else
				wait "${r%%:*}" 2>/dev/null || true
				report "${r##*:}"
			fi
		done
		running=("${still[@]}")
	done
done
for r in "${running[@]}"; do
	wait "${r%%:*}" 2>/dev/null || true
	report "${r##*:}"
done
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
