#!/usr/bin/env bash
# Chunked copy-up: every size-changing operation on a partially copied
# file behaves as on ext4: truncate down and up, punch hole, zero range,
# fallocate, copy_file_range into it, O_TRUNC.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((9 << 20)) /dev/urandom >"$BASE/big"
head -c $((6 << 20)) /dev/urandom >"$BASE/other"
head -c $((5 << 20)) /dev/urandom >"$BASE/gone"
cow_base_snapshot
mkdir "$T/ref"
cp "$BASE/big" "$BASE/other" "$BASE/gone" "$T/ref/"
cow_mount -o completer=off

# run CMD with FILE replaced by the view's and the reference's path
both() {
	local cmd=$1 f=$2
	eval "${cmd//FILE/\"\$MNT/$f\"}"
	eval "${cmd//FILE/\"\$T/ref/$f\"}"
	cmp "$MNT/$f" "$T/ref/$f" || fail "$f differs from ext4 after: $cmd"
}

both "printf x | dd of=FILE bs=1 seek=5000000 conv=notrunc status=none" big
both "truncate -s 3500000 FILE" big         # below BASE size, mid chunk
both "truncate -s 8000000 FILE" big         # grows again: zeros, not BASE
both "fallocate -p -o 100000 -l 2000000 FILE" big
both "fallocate -z -o 3000000 -l 70000 FILE" big
both "fallocate -o 0 -l 9000000 FILE" big
both "printf Q | dd of=FILE bs=1 seek=1 conv=notrunc status=none" other
both "truncate -s 10 FILE" other            # shrink far below BASE size
both "truncate -s 7000000 FILE" other
cp --reflink=never "$MNT/other" "$MNT/copy"
cp --reflink=never "$T/ref/other" "$T/ref/copy"
cmp "$MNT/copy" "$T/ref/copy" || fail "copy of a partial file differs"
both ": > FILE" gone                        # O_TRUNC
drop_caches
for f in big other gone copy; do
	cmp "$MNT/$f" "$T/ref/$f" || fail "$f differs from ext4 (cold)"
done
cow_remount -o completer=off
for f in big other gone copy; do
	cmp "$MNT/$f" "$T/ref/$f" || fail "$f differs from ext4 (remount)"
done
