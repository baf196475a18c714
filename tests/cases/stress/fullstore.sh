#!/usr/bin/env bash
# A full store: STORE on a small tmpfs. Writes that do not fit fail with
# ENOSPC, a copy-up that does not fit fails cleanly (the file still shows
# BASE, nothing half-copied shows, work/ is left empty), nothing written
# before is lost, and the view works again once space is freed. Under the
# writeback cache (the default) the copy-up runs when the page is written
# back, so its error reaches fsync() and close(), not write(): the appends
# here use dd conv=fsync, which reports it.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c 6000000 /dev/urandom >"$BASE/big"       # above 4 MiB: by chunks
head -c 3000000 /dev/urandom >"$BASE/whole"     # below: whole-file copy
printf 'small' >"$BASE/s"
cow_base_snapshot
mkdir -p "$STORE"
mount -t tmpfs -o size=4m tmpfs "$STORE"
cleanup() {
	local rc=$?
	if findmnt --mountpoint "$MNT" >/dev/null; then (cow_umount) || rc=1; fi
	umount -l "$STORE" 2>/dev/null || true
	(exit "$rc")
	_cow_exit
}
trap cleanup EXIT
cow_mount -o completer=off

put() { head -c "$2" /dev/zero | tr '\0' "$3" | dd of="$MNT/$1" bs=64k conv=fsync status=none; }
put one 2500000 a
cp "$MNT/one" "$T/one.ref"
out=$(put two 2000000 b 2>&1) && fail "a write past a full store succeeded"
grep -q 'No space left on device' <<<"$out" || fail "full store: $out"
cmp "$MNT/one" "$T/one.ref" || fail "data written before changed"

# Copy-ups that cannot fit: whole file, then chunk fill.
rm "$MNT/two"
put pad 1000000 c
append() { printf "$2" | dd of="$MNT/$1" oflag=append conv=notrunc,fsync status=none; }
out=$(append whole x 2>&1) && fail "a whole-file copy-up into a full store succeeded"
grep -q 'No space left on device' <<<"$out" || fail "copy-up into a full store: $out"
# (the kernel's mtime update may leave a metadata-only copy: no data)
state=$(getfattr --only-values -n user.cowfs.state "$MNT/whole")
[ "$state" = base ] || [ "$state" = metadata ] || fail "whole is '$state' after a refused copy-up"
[ -z "$(ls -A "$STORE/work")" ] || fail "work/ kept a half copy: $(ls -A "$STORE/work")"
chunk_ok=yes # one chunk may fit or not: either way the view must be right
printf 'y' | dd of="$MNT/big" bs=1 seek=5000000 conv=notrunc,fsync status=none 2>/dev/null ||
	chunk_ok=no
cmp "$MNT/one" "$T/one.ref" || fail "data written before changed (2)"
# The kernel keeps the size it extended a file to even when its writeback
# failed; a remount shows what the store holds: BASE, or the chunk write.
cow_remount -o completer=off
cmp "$MNT/whole" "$BASE/whole" || fail "a refused copy-up changed the view"
if [ "$chunk_ok" = yes ]; then
	expect_eq "$(dd if="$MNT/big" bs=1 skip=5000000 count=1 status=none)" y "the chunk write"
else
	cmp "$MNT/big" "$BASE/big" || fail "a refused chunk write changed the view"
fi

# Space freed through the view: the copy-up goes through.
rm "$MNT/one" "$MNT/pad"
append whole x || fail "copy-up after freeing space"
expect_eq "$(stat -c %s "$MNT/whole")" 3000001 "size after the copy-up"
cow_remount -o completer=off
expect_eq "$(stat -c %s "$MNT/whole")" 3000001 "size after remount"
cow_umount
umount "$STORE"
