#!/usr/bin/env bash
# A renamed directory shows its BASE directory under the new name until
# the rename is committed. Commits must not take that content away:
#  - the deletion of its old name is refused while it is uncommitted (and
#    BASE keeps everything); after the rename is committed it goes through;
#  - a new directory made at the old name cannot replace BASE's either;
#  - a commit of their parent commits the rename before the deletion of the
#    old name beside it (that order used to delete the BASE directory and
#    then fail to move it: its files were lost);
#  - a directory renamed inside a renamed one, or moved out of it, follows
#    when the outer rename is committed;
#  - a directory moved into one renamed out of it (N/M to K, then N to
#    K/N): committing K moves BASE's N/M, then N, and the second move must
#    not re-point K, which a hard link left in the store (that cannot be
#    committed yet), at K/N/M: K's BASE files vanished from the view;
#  - the whiteout a rename left at its old name goes when the rename is
#    committed, but not a whiteout at that path in another directory that
#    was renamed there since (U/x to C, U to D, W to U, rm U/x: committing
#    C used to drop the whiteout that hides W/x, which came back).
# BASE ends with exactly what the view shows, also after a remount.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/A/sub" "$BASE/X/D/sub" "$BASE/P/Q/R" "$BASE/N/M" \
	"$BASE/U/x" "$BASE/W/x"
echo a1 >"$BASE/A/a1"
echo s >"$BASE/A/sub/s"
echo f >"$BASE/X/D/f"
echo xs >"$BASE/X/D/sub/xs"
echo r >"$BASE/P/Q/R/r"
echo m >"$BASE/N/M/m"
echo n >"$BASE/N/n"
echo ux >"$BASE/U/x/ux"
echo wx >"$BASE/W/x/wx"
cow_mount

tree_of() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' '); }

# the old name's deletion, then a directory made in its place
mv "$MNT/A" "$MNT/B"
if "$COWFS" commit "$MNT" A >"$T/out" 2>&1; then
	fail "committing the old name of a renamed directory was not refused"
fi
grep -q "renamed directory B shows BASE's A" "$T/out" || fail "refusal: $(cat "$T/out")"
expect_file_content "$BASE/A/a1" a1
expect_file_content "$BASE/A/sub/s" s
mkdir "$MNT/A"
echo z >"$MNT/A/z"
"$COWFS" commit "$MNT" A >"$T/out" 2>&1 && fail "replacing BASE's A was not refused"
expect_file_content "$BASE/A/a1" a1
"$COWFS" commit "$MNT" B A >"$T/out" || fail "commit B A: $(cat "$T/out")"
expect_eq "$(tree_of "$BASE/A")" "./z " "BASE's new A"
expect_eq "$(tree_of "$BASE/B")" "./a1 ./sub ./sub/s " "BASE's B"

# a rename inside the committed directory, and one inside the renamed one
mv "$MNT/X/D" "$MNT/X/C"
mv "$MNT/X/C/sub" "$MNT/X/C/sub2"
"$COWFS" commit "$MNT" X >"$T/out" || fail "commit X: $(cat "$T/out")"
expect_eq "$(tree_of "$BASE/X")" "./C ./C/f ./C/sub2 ./C/sub2/xs " "BASE's X"

# a directory moved out of a renamed one before the outer rename commits
mv "$MNT/P/Q" "$MNT/P/Q2"
mv "$MNT/P/Q2/R" "$MNT/R2"
"$COWFS" commit "$MNT" P/Q2 >"$T/out" 2>&1 || true
expect_file_content "$MNT/R2/r" r
"$COWFS" commit "$MNT" R2 P >"$T/out" || fail "commit R2 P: $(cat "$T/out")"
expect_eq "$(tree_of "$BASE/P")" "./Q2 " "BASE's P"
expect_file_content "$BASE/R2/r" r

# a directory moved into the one renamed out of it
mv "$MNT/N/M" "$MNT/K"
mv "$MNT/N" "$MNT/K/N"
echo h >"$MNT/K/h"
ln "$MNT/K/h" "$MNT/K/h2"
"$COWFS" commit "$MNT" K >"$T/out" 2>&1 && fail "commit K: the hard link went"
grep -q "K/h.*hard-linked" "$T/out" || fail "refusal: $(cat "$T/out")"
expect_eq "$(tree_of "$BASE/K")" "./N ./N/n ./m " "BASE's K"
expect_eq "$(tree_of "$MNT/K")" "./N ./N/n ./h ./h2 ./m " "the view's K"
expect_file_content "$MNT/K/m" m
rm "$MNT/K/h" "$MNT/K/h2"
"$COWFS" commit "$MNT" K >"$T/out" || fail "commit K again: $(cat "$T/out")"

# a whiteout at the old name that another directory's rename brought
mv "$MNT/U/x" "$MNT/C"
mv "$MNT/U" "$MNT/D"
mv "$MNT/W" "$MNT/U"
rm -r "$MNT/U/x"
"$COWFS" commit "$MNT" C >"$T/out" || fail "commit C: $(cat "$T/out")"
drop_caches
expect_eq "$(tree_of "$MNT/U")" "" "the view's U after committing C"
expect_eq "$(tree_of "$MNT/C")" "./ux " "the view's C"
"$COWFS" commit "$MNT" D U W >"$T/out" || fail "commit D U W: $(cat "$T/out")"

view=$(tree_of "$MNT")
expect_eq "$(tree_of "$BASE")" "$view" "BASE against the view"
cow_remount
expect_eq "$(tree_of "$MNT")" "$view" "the view after remount"
expect_file_content "$MNT/R2/r" r
expect_file_content "$MNT/X/C/sub2/xs" xs
expect_file_content "$MNT/K/m" m
