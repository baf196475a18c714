#!/usr/bin/env bash
# A BASE file with two links, changed in the view, is copied once, to
# meta/index/<its BASE inode number>, and every name of it in the view is
# a link of that copy. Commits that delete both BASE names free that
# number, and ext4 gives it to the next file made: the copy must let go of
# it first. Before, a file created afterwards became one node with the
# copy (it showed the copy's mode and size), and a metacopy (only its mode
# changed) lost its data with its last BASE name. Both kinds, also after
# a remount with cold caches; and directory removals, which count the
# links inside: a group with a name left in BASE stays a group, also when
# that name was never looked up (BASE shows it with one link then, and
# it used to show BASE's old data).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir "$BASE/d"
echo meta-data >"$BASE/m1"
ln "$BASE/m1" "$BASE/d/m2"
echo full-data >"$BASE/f1"
ln "$BASE/f1" "$BASE/d/f2"
mkdir "$BASE/t" "$BASE/t2"
echo tree-data >"$BASE/t/a1"
ln "$BASE/t/a1" "$BASE/t/a2"
echo kept-data >"$BASE/t2/b1"
ln "$BASE/t2/b1" "$BASE/b2"
echo old-data >"$BASE/x1"
ln "$BASE/x1" "$BASE/d/x2"
cow_mount

echo new-data >"$MNT/x1"      # d/x2 not looked up: not linked in upper/
rm "$MNT/x1"
"$COWFS" commit "$MNT" x1 >"$T/out" || fail "commit x1: $(cat "$T/out")"
expect_eq "$(stat -c %h "$BASE/d/x2")" 1 "BASE's d/x2 links"
expect_file_content "$MNT/d/x2" new-data

chmod 0751 "$MNT/m1"          # an indexed metacopy
echo more >>"$MNT/f1"         # an indexed copy with data
mv "$MNT/m1" "$MNT/mm"        # the view keeps them at new names only
mv "$MNT/f1" "$MNT/ff"
rm "$MNT/d/m2" "$MNT/d/f2"
mino=$(stat -c %i "$MNT/mm") fino=$(stat -c %i "$MNT/ff")
chmod 0701 "$MNT/t/a1" "$MNT/t2/b1"
mv "$MNT/t/a1" "$MNT/aa"
mv "$MNT/t2/b1" "$MNT/bb"
rm -r "$MNT/t" "$MNT/t2"
for n in m1 d/m2 f1 d/f2 t t2; do
	"$COWFS" commit "$MNT" "$n" >"$T/out" || fail "commit $n: $(cat "$T/out")"
	expect_absent "$BASE/$n"
done

check() { # WHEN
	expect_eq "$(stat -c '%a %h' "$MNT/mm")" "751 1" "mm $1"
	expect_file_content "$MNT/mm" meta-data
	expect_eq "$(stat -c '%h %s' "$MNT/ff")" "1 15" "ff $1"
	expect_file_content "$MNT/ff" "full-data
more"
	# new files take the freed numbers: none may be one of the copies
	for i in $(seq 1 40); do
		: >"$MNT/d/new$i-$1"
		expect_eq "$(stat -c '%a %s' "$MNT/d/new$i-$1")" "644 0" \
			"new file $i $1"
	done
	expect_eq "$(stat -c '%a %h' "$MNT/mm")" "751 1" "mm after creates $1"
	expect_eq "$(stat -c '%a %h' "$MNT/aa")" "701 1" "aa $1"
	expect_file_content "$MNT/aa" tree-data
	# b2 is still in BASE: bb and b2 are one file
	expect_eq "$(stat -c '%a %h' "$MNT/bb" "$MNT/b2")" "701 2
701 2" "bb and b2 $1"
	expect_eq "$(stat -c %i "$MNT/bb")" "$(stat -c %i "$BASE/b2")" "bb's number $1"
	expect_file_content "$MNT/b2" kept-data
	expect_file_content "$MNT/d/x2" new-data
	expect_eq "$(ls "$STORE/meta/index" | sort -n | tr '\n' ' ')" \
		"$(stat -c %i "$BASE/b2" "$BASE/d/x2" | sort -n | tr '\n' ' ')" \
		"index entries $1"
}
umask 022
check "after the commits"
[ "$(stat -c %i "$MNT/mm")" != "$mino" ] || fail "mm kept its freed number"
[ "$(stat -c %i "$MNT/ff")" != "$fino" ] || fail "ff kept its freed number"
drop_caches
check "with cold caches"
cow_remount
check "after remount"
