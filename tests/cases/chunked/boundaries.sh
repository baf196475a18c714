#!/usr/bin/env bash
# Chunked copy-up: writes inside a chunk, across chunk boundaries, partial
# chunks at both ends and past EOF agree with the same writes on ext4, the
# store grows only by the chunks touched, and BASE is untouched; also after
# a cold cache and a remount. Default chunk size (64 KiB).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((10 << 20)) /dev/urandom >"$BASE/big"
cow_base_snapshot
ref="$T/ref"
cp "$BASE/big" "$ref"
cow_mount -o completer=off

# write DATA OFFSET into both the view and the ext4 reference
both() {
	printf '%s' "$1" | dd of="$MNT/big" bs=1 seek="$2" conv=notrunc \
		status=none
	printf '%s' "$1" | dd of="$ref" bs=1 seek="$2" conv=notrunc status=none
}

expect_no_upper big
both "first" 100                       # inside chunk 0
state=$(getfattr --only-values -n user.cowfs.state "$MNT/big")
expect_eq "$state" "partial 1%" "state after one chunk of 160"
expect_eq "$(du -k "$(upper_path big)" | cut -f1)" 64 "store holds one chunk"
both "$(head -c 9000 /dev/zero | tr '\0' 'a')" $(((3 << 20) - 4000)) # 47, 48
both "tail" $(((7 << 20) - 6))         # crosses from chunk 111 into 112
both "unaligned-both-ends" 8400000     # mid chunk 128
both "past-eof" $(((10 << 20) + 10))   # extends the file
cmp "$MNT/big" "$ref" || fail "view differs from ext4 after writes"
growth=$(du -k "$(upper_path big)" | cut -f1)
[ "$growth" -le $((6 * 64 + 8)) ] ||
	fail "store grew by $growth KiB for 6 chunks touched"
drop_caches
cmp "$MNT/big" "$ref" || fail "view differs from ext4 with a cold cache"
cow_remount -o completer=off
cmp "$MNT/big" "$ref" || fail "view differs from ext4 after remount"
state=$(getfattr --only-values -n user.cowfs.state "$MNT/big")
case "$state" in partial*) ;; *) fail "state after remount: $state" ;; esac
