#!/usr/bin/env bash
# The completer fills a partial copy while a read-only handle opened
# before the first write stays open: the handle keeps seeing the current
# bytes, the copy ends as a plain upper file with no map left, and BASE
# is untouched. A copy made by a rename alone keeps BASE's mtime when the
# completer fills it: filling is not a change.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((8 << 20)) /dev/urandom >"$BASE/big"
head -c $((6 << 20)) /dev/urandom >"$BASE/moved"
touch -d '2001-02-03 04:05:06.789' "$BASE/moved"
cow_base_snapshot
cp "$BASE/big" "$T/ref"
cow_mount -o completer=256
mtime=$(stat -c %y "$BASE/moved")
mv "$MNT/moved" "$MNT/moved2" # a partial copy of no chunk
exec 3<"$MNT/big"                   # opened before any write
printf 'NEWBYTES' | dd of="$MNT/big" bs=1 seek=4194000 conv=notrunc status=none
printf 'NEWBYTES' | dd of="$T/ref" bs=1 seek=4194000 conv=notrunc status=none
for _ in $(seq 1 100); do
	state=$(getfattr --only-values -n user.cowfs.state "$MNT/big")
	[ "$state" = store ] && break
	sleep 0.1
done
expect_eq "$state" store "state once the completer is done"
[ -z "$(ls -A "$STORE/meta/chunks")" ] || fail "chunk map left behind"
getfattr -d -m - "$(upper_path big)" 2>/dev/null | grep -q partial &&
	fail "upper copy still marked partial"
cmp <(cat <&3) "$T/ref" || fail "handle opened before copy-up disagrees"
exec 3<&-
drop_caches
cmp "$MNT/big" "$T/ref" || fail "view differs after completion (cold)"
cmp "$(upper_path big)" "$T/ref" || fail "store copy is not the view"
cmp "$MNT/moved2" "$BASE/moved" || fail "moved2 differs"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/moved2")" store \
	"moved2 completed"
expect_eq "$(stat -c %y "$(upper_path moved2)")" "$mtime" "moved2's mtime in STORE"
cow_remount
expect_eq "$(stat -c %y "$MNT/moved2")" "$mtime" "moved2's mtime after a remount"
