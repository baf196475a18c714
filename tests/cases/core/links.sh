#!/usr/bin/env bash
# Hard links and symlinks as on ext4: new links share data and st_ino; a
# BASE file with two names stays linked after one name is written (also
# after a remount, looking the other name up first); unlink keeps the link
# count right; symlinks in BASE and new ones read back.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/x"
echo orig >"$BASE/a"
ln "$BASE/a" "$BASE/x/b"
echo solo >"$BASE/solo"
ln -s solo "$BASE/sl"
echo two >"$BASE/m1"
ln "$BASE/m1" "$BASE/x/m2"
echo ro >"$BASE/r1"
ln "$BASE/r1" "$BASE/x/r2"
cow_base_snapshot
cow_mount
expect_eq "$(stat -c '%i %h' "$MNT/a")" "$(stat -c '%i %h' "$MNT/x/b")" "BASE links"
echo more >>"$MNT/a"
expect_file_content "$MNT/x/b" "$(printf 'orig\nmore')"
expect_eq "$(stat -c %h "$MNT/x/b")" 2 "link count"
ln "$MNT/solo" "$MNT/solo2"
expect_eq "$(stat -c '%i %h' "$MNT/solo")" "$(stat -c '%i %h' "$MNT/solo2")" "new link"
echo changed >>"$MNT/solo2"
expect_file_content "$MNT/solo" "$(printf 'solo\nchanged')"
expect_eq "$(readlink "$MNT/sl")" solo "BASE symlink"
ln -s ../a "$MNT/x/up"
expect_eq "$(readlink "$MNT/x/up")" ../a "new symlink"
expect_file_content "$MNT/x/up" "$(printf 'orig\nmore')"
cow_remount
expect_file_content "$MNT/x/b" "$(printf 'orig\nmore')"
expect_eq "$(stat -c '%i %h' "$MNT/x/b")" "$(stat -c '%i %h' "$MNT/a")" "after remount"
rm "$MNT/a"
expect_eq "$(stat -c %h "$MNT/x/b")" 1 "link count after unlink"
expect_file_content "$MNT/x/b" "$(printf 'orig\nmore')"
expect_eq "$(stat -c %h "$MNT/solo")" 2 "new links after remount"

stat "$MNT/x/m2" >/dev/null
chmod 600 "$MNT/m1"
drop_caches
echo more >>"$MNT/m1"
drop_caches
expect_file_content "$MNT/x/m2" "$(printf 'two\nmore')"
expect_eq "$(stat -c '%a %h' "$MNT/x/m2")" "600 2" "metacopy's other name"
expect_eq "$(stat -c '%i' "$MNT/x/m2")" "$(stat -c '%i' "$MNT/m1")" "one inode"
exec 5<>"$MNT/r1"
chmod 444 "$MNT/r1"
drop_caches
echo new >&5
exec 5>&-
drop_caches
expect_file_content "$MNT/x/r2" new
expect_eq "$(stat -c '%a %h' "$MNT/x/r2")" "444 2" "read-only metacopy's name"
cow_remount
expect_file_content "$MNT/x/m2" "$(printf 'two\nmore')"
expect_file_content "$MNT/r1" new
