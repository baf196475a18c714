#!/usr/bin/env bash
# By default the kernel sends no OPEN or RELEASE: a data request opens the
# file's backing and a bounded number of files keep it. Reading 3,000 files
# leaves the daemon with far fewer descriptors, every file reads right,
# files unlinked while open keep their data (BASE's and a copy's) while the
# others are evicted, times set through their handles show, and O_TRUNC,
# which then comes as a SETATTR, truncates.
# opens=on (OPEN and RELEASE sent) and writeback=off give the same results.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir "$BASE/many"
for i in $(seq 1 3000); do echo "file $i" >"$BASE/many/f$i"; done
printf 'base-victim' >"$BASE/victim"
printf 'long original text' >"$BASE/t"
cow_base_snapshot
want=$(cd "$BASE/many" && cat $(ls) | sha256sum)
trap 'rc=$?; exec 3<&- 4<&-; (exit $rc); _cow_exit' EXIT

for opts in "" opens=on writeback=off; do
	cow_mount ${opts:+-o "$opts"}
	printf 'copy-victim' >"$MNT/copy"
	exec 3<"$MNT/victim" 4<>"$MNT/copy"
	rm "$MNT/victim" "$MNT/copy"
	got=$(cd "$MNT/many" && cat $(ls) | sha256sum)
	expect_eq "$got" "$want" "3000 files read (${opts:-default})"
	fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
	[ "$fds" -lt 2400 ] ||
		fail "the daemon holds $fds descriptors after 3000 files (${opts:-default})"
	# read again, after the evictions: from the start
	got=$(cd "$MNT/many" && cat $(ls -r) | wc -l)
	expect_eq "$got" 3000 "3000 files read again (${opts:-default})"
	expect_eq "$(cat /proc/self/fd/3)" base-victim "unlinked BASE file (${opts:-default})"
	printf 'NEW' >&4
	expect_eq "$(cat /proc/self/fd/4)" NEWy-victim "unlinked copy (${opts:-default})"
	# a time set through an unlinked file's handle shows (the kernel keeps
	# it under the writeback cache: nothing is copied for it on demand)
	touch -m -d @1000000000 /proc/self/fd/3
	touch -d @1100000000 /proc/self/fd/4
	expect_eq "$(stat -L -c %Y /proc/self/fd/3)" 1000000000 "mtime of unlinked BASE file (${opts:-default})"
	expect_eq "$(stat -L -c %X:%Y /proc/self/fd/4)" 1100000000:1100000000 "times of unlinked copy (${opts:-default})"
	exec 3<&- 4<&-
	expect_whiteout victim
	expect_absent "$(upper_path copy)"

	printf 'ab' >"$MNT/t"
	expect_file_content "$MNT/t" ab
	expect_eq "$(cat "$(upper_path t)")" ab "truncated copy (${opts:-default})"
	cow_umount
	rm -rf "$STORE"
done
cow_base_check
