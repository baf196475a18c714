#!/usr/bin/env bash
# Deleting BASE entries leaves whiteouts; a deleted directory re-created
# is opaque (its old children stay hidden); a re-created file replaces the
# whiteout; merged listings hide whiteouts and never list a name twice.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/d/sub" "$BASE/m"
echo 1 >"$BASE/d/a"
echo 2 >"$BASE/d/sub/b"
echo 3 >"$BASE/f"
echo 4 >"$BASE/m/x"
echo 5 >"$BASE/m/y"
cow_base_snapshot
cow_mount
rm "$MNT/f"
expect_absent "$MNT/f"
expect_whiteout f
expect_errno ENOENT cat "$MNT/f"
rm -r "$MNT/d"
expect_absent "$MNT/d"
expect_whiteout d
mkdir "$MNT/d"
expect_opaque d
expect_eq "$(ls -A "$MNT/d")" "" "re-created directory is empty"
echo again >"$MNT/f"
expect_file_content "$MNT/f" again
rm "$MNT/m/x"
echo z >"$MNT/m/z"
echo 5b >"$MNT/m/y"
expect_eq "$(ls "$MNT/m" | tr '\n' ' ')" "y z " "merged listing"
rm "$MNT/m/y" "$MNT/m/z"
rmdir "$MNT/m"
expect_whiteout m
cow_remount
expect_absent "$MNT/m"
expect_eq "$(ls -A "$MNT/d")" "" "opaque after remount"
expect_file_content "$MNT/f" again
expect_eq "$(ls -A "$MNT" | tr '\n' ' ')" "d f " "root listing"
