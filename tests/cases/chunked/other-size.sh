#!/usr/bin/env bash
# A partial copy made with one chunk size stays readable, writable and
# completable after a remount with another (its map keeps its own size).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c 3000000 /dev/urandom >"$BASE/f"
cp "$BASE/f" "$T/ref"
cow_base_snapshot
cow_mount -o chunk_threshold=256K,chunk_size=16K,completer=off
printf 'one' | dd of="$MNT/f" bs=1 seek=40000 conv=notrunc status=none
printf 'one' | dd of="$T/ref" bs=1 seek=40000 conv=notrunc status=none
cow_remount -o chunk_threshold=256K,chunk_size=1M,completer=off
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/f" 2>/dev/null)" "partial 1%" "state after remount (one chunk of 80)"
drop_caches
cmp "$MNT/f" "$T/ref" || fail "read across many small chunks after remount"
dd if="$MNT/f" bs=1M iflag=direct status=none | cmp - "$T/ref" || fail "1 MiB direct reads"
printf 'two' | dd of="$MNT/f" bs=1 seek=2000000 conv=notrunc status=none
printf 'two' | dd of="$T/ref" bs=1 seek=2000000 conv=notrunc status=none
cow_remount -o completer=1000
for _ in $(seq 1 100); do
	[ "$(getfattr --only-values -n user.cowfs.state "$MNT/f" 2>/dev/null)" = store ] && break
	sleep 0.1
done
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/f" 2>/dev/null)" store "completed"
drop_caches
cmp "$MNT/f" "$T/ref" || fail "content after completion"
