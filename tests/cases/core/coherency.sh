#!/usr/bin/env bash
# One file, one truth: a read-only descriptor and a shared read-only
# mapping opened before another descriptor's first write see every later
# change (warm and cold cache), in small files and in files copied by
# chunks; shared mappings in two processes agree; MAP_PRIVATE writes reach
# neither STORE nor BASE; O_DIRECT sees buffered writes; growth and
# truncation under a mapping behave as on ext4. The changes land in STORE.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
for f in small cold two direct grow; do
	printf 'hello, world\n%4096s' "" >"$BASE/$f"
done
head -c $((8 << 20)) /dev/urandom >"$BASE/big"
printf 'ABCD' | dd of="$BASE/big" conv=notrunc status=none
cp "$BASE/small" "$BASE/private"
cow_base_snapshot
cow_mount -o completer=off

"$COWTOOL" coherent "$MNT/small"
"$COWTOOL" coherent "$MNT/cold" cold
"$COWTOOL" coherent "$MNT/big" cold
"$COWTOOL" twoproc "$MNT/two"
"$COWTOOL" private "$MNT/private"
"$COWTOOL" direct "$MNT/direct"
"$COWTOOL" grow "$MNT/grow"
expect_no_upper private
for f in small cold big; do
	expect_eq "$(head -c 4 "$(upper_path $f)")" 4321 "STORE copy of $f"
done
expect_eq "$(head -c 4 "$BASE/small")" hell "BASE small untouched"
expect_eq "$(head -c 4 "$(upper_path two)")" PRNT "STORE copy of two"
cow_remount -o completer=off
for f in small cold big; do
	expect_eq "$(head -c 4 "$MNT/$f")" 4321 "$f after remount"
done
expect_eq "$(head -c 4 "$BASE/big")" ABCD "BASE big untouched"
