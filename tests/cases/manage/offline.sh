#!/usr/bin/env bash
# commit, discard and reset on an unmounted store: the same results as on a
# live view, a store in use is refused, and the next mount shows the result.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/d" "$BASE/r"
printf 'alpha' >"$BASE/a"
printf 'bravo' >"$BASE/d/b"
printf 'charlie' >"$BASE/c"
printf 'romeo' >"$BASE/r/f"
head -c 600000 /dev/urandom >"$BASE/big"
cow_base_snapshot
cow_mount -o chunk_threshold=256K,chunk_size=64K,completer=off
printf 'ALPHA' >"$MNT/a"
printf 'B' >>"$MNT/d/b"
rm "$MNT/c"
mv "$MNT/r" "$MNT/r2"
printf 'zz' | dd of="$MNT/big" bs=1 seek=300000 conv=notrunc status=none
cp "$MNT/big" "$T/big.view"
mkdir "$MNT/n"
printf 'new' >"$MNT/n/f"

# While mounted, the STORE path reaches the daemon too.
"$COWFS" commit --dry-run "$STORE" a | grep -qx 'would commit a' ||
	fail "dry run through the STORE path"
cow_umount

"$COWFS" commit --dry-run "$STORE" a >/dev/null
cow_base_check
out=$("$COWFS" commit "$STORE" /a 2>&1) && fail "absolute path accepted for a store"
grep -q 'relative to the view' <<<"$out" || fail "absolute: $out"
"$COWFS" commit "$STORE" a big r2 c >/dev/null
expect_file_content "$BASE/a" ALPHA
cmp "$BASE/big" "$T/big.view" || fail "big in BASE after commit"
expect_absent "$BASE/r"
expect_file_content "$BASE/r2/f" romeo
expect_absent "$BASE/c"
expect_no_upper a
expect_no_upper r2
expect_no_upper big
"$COWFS" discard "$STORE" d/b >/dev/null
expect_no_upper d/b
cow_base_snapshot

# A store in use by a mount cannot be opened by another mount.
cow_mount
out=$("$COWFS" mount "$BASE" "$STORE" "$T/other" 2>&1) && fail "second mount of a store"
expect_file_content "$MNT/a" ALPHA
expect_file_content "$MNT/d/b" bravo
expect_file_content "$MNT/n/f" new
cmp "$MNT/big" "$T/big.view" || fail "big in the view after commit"
cow_umount
"$COWFS" reset "$STORE" >/dev/null
cow_mount
expect_absent "$MNT/n"
expect_eq "$(ls "$MNT")" "$(ls "$BASE")" "view after reset"
