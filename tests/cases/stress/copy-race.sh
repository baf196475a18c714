#!/usr/bin/env bash
# A file's data copy-up is made outside the namespace lock and published
# after it (copyup_file.c: copy_early, copy_late). Names and metadata may
# change in between; the copy must then be made again, and nothing of
# either change may be lost. `cowtool copyrace` holds BASE files open for
# appending and appends a byte to each, which copies it up when the
# descriptor closes; meanwhile a second process renames, links, chmods or
# chowns that file. Whatever the order, each file must end with BASE's
# data plus that byte under its new name, with its new metadata, also
# after a remount; STORE holds that data, and BASE is unchanged. Files of
# 3.5 MiB (below chunk_threshold): a copy takes milliseconds, a change
# microseconds.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

N=48
cow_setup
for i in $(seq 0 $((N - 1))); do
	head -c $((3584 * 1024 + i * 97)) /dev/urandom >"$BASE/f$i"
done
cow_base_snapshot

check() { # I: what cowtool_race.c's change(I) and the appended byte made
	local name=f$1 want
	case $(($1 % 4)) in
	0) name=g$1 ;;
	1) [ "$MNT/f$1" -ef "$MNT/h$1" ] || fail "f$1 and h$1 are not one file" ;;
	2) expect_eq "$(stat -c %a "$MNT/f$1")" 600 "mode of f$1" ;;
	3) expect_eq "$(stat -c %u:%g "$MNT/f$1")" 1:1 "owner of f$1" ;;
	esac
	want=$( (cat "$BASE/f$1" && printf W) | sha256sum)
	expect_eq "$(sha256sum <"$MNT/$name")" "$want" "data of $name"
	expect_eq "$(sha256sum <"$STORE/upper/$name")" "$want" "STORE's $name"
}

for round in 1 2 3; do
	rm -rf "$STORE"
	cow_mount
	out=$("$COWTOOL" copyrace "$MNT" "$N") || fail "round $round: $out"
	for i in $(seq 0 $((N - 1))); do check "$i"; done
	cow_remount
	for i in $(seq 0 $((N - 1))); do check "$i"; done
	cow_umount
done
