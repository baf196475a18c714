#!/usr/bin/env bash
# rename(2) over layers: files from BASE, from STORE, over existing names,
# RENAME_NOREPLACE and RENAME_EXCHANGE; directories that exist only in
# BASE and merged ones keep their contents under the new name (redirects),
# the old name is gone, and all of it survives a remount.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/bdir/inner" "$BASE/mdir" "$BASE/target"
echo a >"$BASE/a"
echo b >"$BASE/b"
echo in >"$BASE/bdir/inner/x"
echo m >"$BASE/mdir/m"
cow_base_snapshot
cow_mount
mv "$MNT/a" "$MNT/a2"
expect_absent "$MNT/a"
expect_whiteout a
expect_file_content "$MNT/a2" a
echo s >"$MNT/s"
mv "$MNT/s" "$MNT/s2"
expect_file_content "$MNT/s2" s
expect_absent "$(upper_path s)"
mv "$MNT/a2" "$MNT/b"
expect_file_content "$MNT/b" a
expect_eq "$("$COWTOOL" rename noreplace "$MNT/s2" "$MNT/b")" "errno EEXIST" "NOREPLACE"
expect_eq "$("$COWTOOL" rename exchange "$MNT/s2" "$MNT/b")" ok "EXCHANGE"
expect_file_content "$MNT/b" s
expect_file_content "$MNT/s2" a
expect_eq "$("$COWTOOL" rename exchange "$MNT/s2" "$MNT/nothing")" "errno ENOENT" "EXCHANGE with a missing name"
mv "$MNT/bdir" "$MNT/moved"
expect_absent "$MNT/bdir"
expect_file_content "$MNT/moved/inner/x" in
[ "$(getfattr --only-values -n "$OVL.redirect" "$(upper_path moved)")" = /bdir ] ||
	fail "no redirect on the renamed BASE directory"
echo new >"$MNT/mdir/new"
mv "$MNT/mdir" "$MNT/target/mdir2"
expect_eq "$(ls "$MNT/target/mdir2" | tr '\n' ' ')" "m new " "merged dir moved"
expect_eq "$("$COWTOOL" rename exchange "$MNT/moved" "$MNT/target")" ok "EXCHANGE dirs"
expect_file_content "$MNT/target/inner/x" in
expect_file_content "$MNT/moved/mdir2/m" m
mkdir "$MNT/empty"
expect_eq "$("$COWTOOL" rename plain "$MNT/empty" "$MNT/moved/mdir2")" \
	"errno ENOTEMPTY" "rename over a non-empty directory"
expect_eq "$("$COWTOOL" rename plain "$MNT/empty" "$MNT/b")" "errno ENOTDIR" \
	"directory over a file"
cow_remount
expect_absent "$MNT/bdir"
expect_absent "$MNT/mdir"
expect_file_content "$MNT/target/inner/x" in
expect_eq "$(ls "$MNT/moved/mdir2" | tr '\n' ' ')" "m new " "after remount"
expect_file_content "$MNT/b" s
expect_file_content "$MNT/s2" a
