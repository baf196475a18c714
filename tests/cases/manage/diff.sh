#!/usr/bin/env bash
# cowfs diff: unified diff for text, byte ranges for binary data, changed
# metadata fields, added and deleted files; the same on a mounted view and
# on an unmounted store (partial copies included); exit status as diff(1).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'one\ntwo\nthree\n' >"$BASE/t"
head -c 700000 /dev/urandom >"$BASE/bin"
printf 'same' >"$BASE/same"
printf 'meta' >"$BASE/m"
printf 'bye\n' >"$BASE/gone"
ln -s target "$BASE/l"
cow_base_snapshot
cow_mount -o chunk_threshold=256K,chunk_size=64K,completer=off
printf 'one\nTWO\nthree\n' >"$MNT/t"
touch -d '2001-01-01 00:00:00 UTC' "$MNT/t"
printf 'zz' | dd of="$MNT/bin" bs=1 seek=300000 conv=notrunc status=none
printf 'q' | dd of="$MNT/bin" bs=1 seek=5 conv=notrunc status=none
chmod 600 "$MNT/m"
setfattr -n user.k -v val "$MNT/m"
printf 'hello\n' >"$MNT/new"
rm "$MNT/gone"
ln -sfn other "$MNT/l"

check_all() { # TARGET
	local tgt=$1 out rc
	rc=0
	out=$("$COWFS" diff "$tgt" t) || rc=$?
	expect_eq "$rc" 1 "diff status for a changed file"
	grep -qx -- '-two' <<<"$out" && grep -qx -- '+TWO' <<<"$out" || fail "text diff: $out"
	grep -qx -- '--- base/t' <<<"$out" || fail "text diff labels: $out"
	grep -q '^mtime: .* -> 2001-01-01 00:00:00.000000000 UTC$' <<<"$out" || fail "mtime: $out"
	out=$("$COWFS" diff "$tgt" bin) || true
	grep -qx 'bytes 5-5 differ' <<<"$out" || fail "binary ranges: $out"
	grep -qx 'bytes 300000-300001 differ' <<<"$out" || fail "binary ranges: $out"
	out=$("$COWFS" diff "$tgt" m) || true
	expect_eq "$out" "mode: 0644 -> 0600
xattr user.k: added (val)" "metadata diff"
	out=$("$COWFS" diff "$tgt" new) || true
	grep -qx 'new: new in the view (file)' <<<"$out" && grep -qx '+hello' <<<"$out" || fail "added: $out"
	out=$("$COWFS" diff "$tgt" gone) || true
	grep -qx 'gone: deleted in the view' <<<"$out" && grep -qx -- '-bye' <<<"$out" || fail "deleted: $out"
	out=$("$COWFS" diff "$tgt" l) || true
	grep -qx 'target: target -> other' <<<"$out" || fail "symlink: $out"
	rc=0
	out=$("$COWFS" diff "$tgt" same) || rc=$?
	expect_eq "$rc:$out" "0:" "unchanged file"
	rc=0
	"$COWFS" diff "$tgt" nothing-here 2>/dev/null || rc=$?
	expect_eq "$rc" 2 "status for a path in neither"
}

check_all "$MNT"
rc=0
"$COWFS" diff "$MNT" /etc/passwd 2>/dev/null || rc=$?
expect_eq "$rc" 2 "path outside the view"
cow_umount
check_all "$STORE"
