#!/usr/bin/env bash
# A file unlinked in the view while a program holds it open still stands
# for its BASE file. When a commit deletes that BASE file, ext4 may give
# the freed inode number to the next file made, so the open file takes the
# number of its STORE copy at once, as a copy renamed away does: it must
# not share a number with a file that appears later. Its data stays
# readable and writable through the descriptor. Both for a file with one
# link and for one of two BASE links (copied to meta/index/).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
echo one >"$BASE/one"
echo two >"$BASE/two"
ln "$BASE/two" "$BASE/two-b"
cow_mount

fd_ino() { stat -L -c %i "/proc/$$/fd/$1"; }

exec 3<>"$MNT/one"
echo more >>"$MNT/one" # copied
rm "$MNT/one"
exec 4<>"$MNT/two"
echo more >>"$MNT/two" # copied to meta/index/
rm "$MNT/two" "$MNT/two-b"
one=$(fd_ino 3) two=$(fd_ino 4)
expect_eq "$one" "$(stat -c %i "$BASE/one")" "the open one's number before"
expect_eq "$two" "$(stat -c %i "$BASE/two")" "the open two's number before"

"$COWFS" commit "$MNT" one two two-b >"$T/out" || fail "commit: $(cat "$T/out")"
expect_absent "$BASE/one"
expect_absent "$BASE/two"
expect_absent "$BASE/two-b"
[ "$(fd_ino 3)" != "$one" ] || fail "the open one kept BASE's freed number $one"
[ "$(fd_ino 4)" != "$two" ] || fail "the open two kept BASE's freed number $two"
expect_eq "$(cat /proc/$$/fd/3)" "one
more" "the open one's data"
expect_eq "$(cat /proc/$$/fd/4)" "two
more" "the open two's data"
printf X >&3 # at offset 0
expect_eq "$(cat /proc/$$/fd/3)" "Xne
more" "a write through the open one"
exec 3>&- 4>&-
[ -z "$(ls -A "$STORE/meta/index")" ] || fail "index entries left: $(ls "$STORE/meta/index")"
