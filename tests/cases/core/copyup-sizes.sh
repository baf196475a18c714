#!/usr/bin/env bash
# Whole-file copy-ups of sizes around the edges of the direct-I/O copy
# (small copies are written with O_DIRECT in 4 KiB blocks, then cut to
# size; bigger ones are copied and fdatasynced): the copy holds BASE's
# bytes exactly, for an append, a truncation (a copy of the head only)
# and an extension, in the view, in STORE, and after a remount. BASE is
# unchanged.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
sizes="0 1 4095 4096 4097 262143 262144 262145 300000"
for s in $sizes; do
	head -c "$s" /dev/urandom >"$BASE/a$s"
	cp "$BASE/a$s" "$BASE/t$s"
	cp "$BASE/a$s" "$BASE/x$s"
done
cow_base_snapshot
cow_mount

for s in $sizes; do
	printf tail >>"$MNT/a$s"
	{ cat "$BASE/a$s"; printf tail; } >"$T/a$s"
	half=$((s / 2))
	truncate -s "$half" "$MNT/t$s"
	head -c "$half" "$BASE/t$s" >"$T/t$s"
	truncate -s $((s + 5000)) "$MNT/x$s"
	{ cat "$BASE/x$s"; head -c 5000 /dev/zero; } >"$T/x$s"
done
check() { # WHEN
	local s f
	for s in $sizes; do
		for f in a t x; do
			cmp "$MNT/$f$s" "$T/$f$s" || fail "$f$s in the view $1"
			cmp "$STORE/upper/$f$s" "$T/$f$s" || fail "$f$s in STORE $1"
		done
	done
}
check "after the copies"
drop_caches
check "with cold caches"
cow_remount
check "after remount"
