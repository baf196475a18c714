#!/usr/bin/env bash
# readdir of merged directories while they change: entries that exist
# throughout are listed exactly once, whiteouts never show, and listings
# taken while another process creates and deletes stay whole.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/d" "$BASE/only"
for i in $(seq 1 600); do : >"$BASE/d/b$i"; done
for i in $(seq 1 300); do : >"$BASE/only/o$i"; done
cow_base_snapshot
cow_mount

# Make d a merged directory: some entries deleted, some copied up, some new.
for i in $(seq 1 50); do rm "$MNT/d/b$i"; done
for i in $(seq 51 100); do echo x >>"$MNT/d/b$i"; done
for i in $(seq 1 100); do : >"$MNT/d/n$i"; done
expect_eq "$(ls "$MNT/d" | wc -l)" 650 "merged listing size"
ls -a "$MNT/d" | grep -qx b1 && fail "deleted entry listed"
expect_whiteout d/b1

"$COWTOOL" dirscan "$MNT/d" >/dev/null
"$COWTOOL" dirscan "$MNT/only" >/dev/null
drop_caches
"$COWTOOL" dirscan "$MNT/d" >/dev/null

# Another process creates and removes entries while this one lists.
(
	for i in $(seq 1 400); do
		: >"$MNT/d/tmp$i"
		if [ $((i % 3)) = 0 ]; then rm "$MNT/d/tmp$((i - 1))"; fi
	done
) &
writer=$!
stable=$( (ls "$MNT/d" | grep -v '^tmp\|^scan-new') | LC_ALL=C sort)
round=0
while [ "$round" -lt 30 ] || kill -0 "$writer" 2>/dev/null; do
	round=$((round + 1))
	got=$(ls -f "$MNT/d" | grep -v '^\.\{1,2\}$' | grep -v '^tmp\|^scan-new' | LC_ALL=C sort)
	[ "$got" = "$stable" ] || fail "listing $round under concurrent creation differs"
	dups=$(ls -f "$MNT/d" | LC_ALL=C sort | uniq -d)
	[ -z "$dups" ] || fail "duplicates listed: $dups"
done
wait "$writer"
expect_eq "$(ls "$MNT/d" | grep -c '^tmp')" 267 "entries the writer left"

cow_remount
expect_eq "$(ls "$MNT/d" | grep -c '^tmp')" 267 "entries after remount"
expect_eq "$(ls "$MNT/d" | grep -c '^b')" 550 "BASE entries after remount"
