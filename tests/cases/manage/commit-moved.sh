#!/usr/bin/env bash
# A copy renamed away from its BASE file keeps that file's inode number as
# its identity. A commit that deletes the BASE file frees the number, and
# ext4 gives it to the next file made; the renamed copy must not share it
# (it used to: reading it showed the new file's content). Also for a BASE
# directory deleted by a commit with a file moved out of it. BASE holds
# exactly what was committed; the view is the same after a remount. A file
# linked in the view is not committed by one name; committing an entry
# keeps its directory's times.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
echo AAA >"$BASE/a"
mkdir "$BASE/dd"
echo FFF >"$BASE/dd/f"
echo keep >"$BASE/keep"
cow_mount

mv "$MNT/a" "$MNT/b"
mv "$MNT/dd/f" "$MNT/g"
rm -r "$MNT/dd"
"$COWFS" commit "$MNT" a dd >"$T/out" || fail "commit a dd: $(cat "$T/out")"
expect_absent "$BASE/a"
expect_absent "$BASE/dd"
for i in 1 2 3 4; do echo "new$i" >"$MNT/c$i"; done
"$COWFS" commit "$MNT" c1 c2 c3 c4 >"$T/out" || fail "commit c*: $(cat "$T/out")"

check() { # WHEN
	expect_file_content "$MNT/b" AAA
	expect_file_content "$MNT/g" FFF
	local i inos
	for i in 1 2 3 4; do
		expect_file_content "$MNT/c$i" "new$i"
		expect_file_content "$BASE/c$i" "new$i"
	done
	inos=$(stat -c %i "$MNT/b" "$MNT/g" "$MNT"/c? | sort | uniq -d)
	[ -z "$inos" ] || fail "$1: two files share inode number $inos"
}
check "live view"
expect_file_content "$(upper_path b)" AAA
expect_file_content "$(upper_path g)" FFF
expect_file_content "$BASE/keep" keep
[ "$(ls "$BASE" | tr '\n' ' ')" = "c1 c2 c3 c4 keep " ] ||
	fail "BASE holds $(ls "$BASE" | tr '\n' ' ')"
ino_b=$(stat -c %i "$MNT/b")
cow_remount
check "after remount"
expect_eq "$(stat -c %i "$MNT/b")" "$ino_b" "b's inode number across the remount"

# A file linked in the view has one inode for both names: committing one
# name would split them, so it is refused and nothing changes.
echo LLL >"$MNT/keep"
ln "$MNT/keep" "$MNT/keep2"
"$COWFS" commit "$MNT" keep >"$T/out" 2>&1 && fail "a linked file was committed"
grep -q "hard-linked files cannot be committed" "$T/out" || fail "refusal: $(cat "$T/out")"
expect_file_content "$BASE/keep" keep
expect_eq "$(stat -c '%i %h' "$MNT/keep")" "$(stat -c '%i %h' "$MNT/keep2")" "links after the refusal"
expect_file_content "$MNT/keep2" LLL
# Committing an entry leaves the times the view shows for its directory.
mkdir "$MNT/td"
echo t >"$MNT/td/t"
echo u >"$MNT/td/u"
touch -d '2001-02-03 04:05:06' "$MNT/td"
"$COWFS" commit "$MNT" td/t >"$T/out" || fail "commit td/t: $(cat "$T/out")"
expect_eq "$(stat -c %Y "$MNT/td")" "$(date -d '2001-02-03 04:05:06' +%s)" "td's mtime after committing td/t"
