#!/usr/bin/env bash
# A discard refuses a file some program has open, or only mapped (its
# descriptor closed), and changes nothing; once it is closed the discard
# goes ahead. By default the kernel sends no OPEN or RELEASE and the daemon
# finds the open files in /proc; with opens=on it counts handles.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base-a' >"$BASE/a"
printf 'base-m' >"$BASE/m"
cow_base_snapshot

refused() { # PATH WHAT
	local out
	out=$("$COWFS" discard "$MNT" "$1" 2>&1) && fail "discard of $2 succeeded"
	grep -q "^cowfs: $1: 1 open file" <<<"$out" || fail "refusal said: $out"
	[ -f "$(upper_path "$1")" ] || fail "refused discard dropped $1"
}

for opts in "" opens=on; do
	cow_mount ${opts:+-o "$opts"}
	printf 'view-a' >"$MNT/a"
	printf 'view-m' >"$MNT/m"
	sleep 600 <"$MNT/a" &
	holder=$!
	refused a "a file held open (${opts:-default})"
	kill "$holder"
	wait "$holder" || true
	"$COWFS" discard "$MNT" a >/dev/null
	expect_file_content "$MNT/a" base-a

	coproc MAP { "$COWTOOL" hold "$MNT/m" 6 maponly; }
	map_pid=$MAP_PID
	read -r line <&"${MAP[0]}"
	expect_eq "$line" ready "mapping holder"
	refused m "a mapped file (${opts:-default})"
	echo >&"${MAP[1]}"
	read -r line <&"${MAP[0]}"
	expect_eq "$line" "map=view-m read=" "the mapping after the refusal"
	exec {MAP[1]}>&-
	wait "$map_pid" || true
	"$COWFS" discard "$MNT" m >/dev/null
	expect_file_content "$MNT/m" base-m
	cow_umount
done
cow_base_check
