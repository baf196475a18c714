#!/usr/bin/env bash
# A partial copy reads its missing chunks from BASE at the name it was
# copied from. A commit that deletes or moves that name in BASE completes
# such copies first: a renamed big file survives the commit of its old
# name's deletion, and one inside a renamed directory the commit of the
# rename; both then read whole, also after a remount, and BASE holds what
# was committed. So does one whose old name became a directory in the view,
# when a commit of a file inside makes BASE's name a directory too. A
# completed copy shows its new inode number at once, and one that was only
# renamed keeps BASE's mtime. Run it a few times:
# the bug it also guards against (a
# completed copy keeping the inode number BASE gave to a committed file)
# showed only when ext4 reused the number.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir "$BASE/dd"
head -c $((8 << 20)) /dev/urandom >"$BASE/big"
head -c $((6 << 20)) /dev/urandom >"$BASE/dd/big3"
head -c $((8 << 20)) /dev/urandom >"$BASE/big4"
head -c $((8 << 20)) /dev/urandom >"$BASE/big5"
touch -d '2002-03-04 05:06:07.891' "$BASE/big5"
mtime5=$(stat -c %y "$BASE/big5")
echo keep >"$BASE/keep"
cp "$BASE/big" "$T/ref"
cp "$BASE/dd/big3" "$T/ref3"
cp "$BASE/big4" "$T/ref4"
cp "$BASE/big5" "$T/ref5"
cow_mount -o completer=off

mv "$MNT/big" "$MNT/big2"
printf x | dd of="$MNT/big2" bs=1 seek=100 conv=notrunc status=none
printf x | dd of="$T/ref" bs=1 seek=100 conv=notrunc status=none
mv "$MNT/dd" "$MNT/ee"
printf y | dd of="$MNT/ee/big3" bs=1 seek=5000000 conv=notrunc status=none
printf y | dd of="$T/ref3" bs=1 seek=5000000 conv=notrunc status=none
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big2")" \
	"partial 1%" "big2 before the commit"

"$COWFS" commit "$MNT" big >"$T/out" || fail "commit big: $(cat "$T/out")"
# the kernel is told at once (before a read would refresh the attributes):
# its inode number is its copy's now, as after a remount
ino=$(stat -c %i "$MNT/big2")
expect_eq "$ino" "$(stat -c %i "$STORE/upper/big2")" "big2's inode number"
expect_absent "$BASE/big"
cmp "$MNT/big2" "$T/ref" || fail "big2 after its old name's deletion was committed"
# completed, and no copy of a BASE file any more: BASE's is gone, and its
# inode number may come back for another file (which used to shadow it)
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big2")" \
	new "big2 completed by the commit"
"$COWFS" commit "$MNT" ee >"$T/out" || fail "commit ee: $(cat "$T/out")"
cmp "$MNT/ee/big3" "$T/ref3" || fail "ee/big3 after the rename was committed"
cmp "$BASE/ee/big3" "$T/ref3" || fail "BASE's ee/big3"
expect_absent "$BASE/dd"

mv "$MNT/big4" "$MNT/moved4"
printf z | dd of="$MNT/moved4" bs=1 seek=2000000 conv=notrunc status=none
printf z | dd of="$T/ref4" bs=1 seek=2000000 conv=notrunc status=none
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/moved4")" \
	"partial 1%" "moved4 before the commit"
mkdir "$MNT/big4"
echo inside >"$MNT/big4/f"
"$COWFS" commit "$MNT" big4/f >"$T/out" || fail "commit big4/f: $(cat "$T/out")"
[ -d "$BASE/big4" ] || fail "BASE's big4 is not a directory"
expect_file_content "$BASE/big4/f" inside
cmp "$MNT/moved4" "$T/ref4" || fail "moved4 after its old name became a directory"
mv "$MNT/big5" "$MNT/moved5"
"$COWFS" commit "$MNT" big5 >"$T/out" || fail "commit big5: $(cat "$T/out")"
expect_absent "$BASE/big5"
cmp "$MNT/moved5" "$T/ref5" || fail "moved5 after its old name's deletion"
expect_eq "$(stat -c %y "$(upper_path moved5)")" "$mtime5" "moved5's mtime in STORE"
cow_remount -o completer=off
cmp "$MNT/big2" "$T/ref" || fail "big2 after remount"
expect_eq "$(stat -c %i "$MNT/big2")" "$ino" "big2's inode number after remount"
cmp "$MNT/ee/big3" "$T/ref3" || fail "ee/big3 after remount"
cmp "$MNT/moved4" "$T/ref4" || fail "moved4 after remount"
cmp "$MNT/moved5" "$T/ref5" || fail "moved5 after remount"
expect_eq "$(stat -c %y "$MNT/moved5")" "$mtime5" "moved5's mtime after remount"
expect_file_content "$MNT/keep" keep
expect_file_content "$BASE/keep" keep
[ -z "$(ls "$STORE/meta/chunks")" ] || fail "chunk maps left: $(ls "$STORE/meta/chunks")"
