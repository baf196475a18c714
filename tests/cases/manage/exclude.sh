#!/usr/bin/env bash
# exclude=PATTERN: changes under matching paths are written through to
# BASE (and BASE changes exactly by them), everything else still goes to the
# store; renames and links across the boundary fail with EXDEV, so that
# programs copy instead; open handles and mappings of written-through files
# see every write.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/logs/old" "$BASE/data"
printf 'line1\n' >"$BASE/logs/a.log"
printf 'gone\n' >"$BASE/logs/old/x"
printf 'data' >"$BASE/data/f"
printf 'tmp' >"$BASE/data/t.tmp"
printf 'keep' >"$BASE/keep"
cp -a "$BASE" "$T/oracle"
cow_mount -o 'exclude=logs,exclude=*.tmp'

# Written through: BASE and the oracle take the same changes.
for root in "$MNT" "$T/oracle"; do
	printf 'line2\n' >>"$root/logs/a.log"
	printf 'new\n' >"$root/logs/b.log"
	mkdir "$root/logs/sub"
	printf 's' >"$root/logs/sub/s"
	rm -r "$root/logs/old"
	mv "$root/logs/b.log" "$root/logs/c.log"
	ln "$root/logs/c.log" "$root/logs/c-link"
	chmod 600 "$root/logs/a.log"
	truncate -s 3 "$root/data/t.tmp"
	printf 'n' >"$root/data/n.tmp"
done
setfattr -n user.tag -v v "$MNT/logs/a.log"
setfattr -n user.tag -v v "$T/oracle/logs/a.log"
# Not excluded: the store takes them, BASE does not.
printf 'changed' >"$MNT/data/f"
rm "$MNT/keep"
expect_file_content "$BASE/data/f" data
[ -f "$BASE/keep" ] || fail "a change outside the exclusions reached BASE"
expect_eq "$(getfattr --only-values -n user.tag "$BASE/logs/a.log")" v "xattr written through"
for p in logs data/t.tmp data/n.tmp; do
	expect_no_upper "$p"
done
[ -f "$(upper_path data/f)" ] || fail "data/f did not go to the store"
expect_whiteout keep

# BASE equals the oracle but for the store's changes (data/f, keep).
printf 'data' >"$T/oracle/data/f"
expect_eq "$(view_tree "$BASE")" "$(view_tree "$T/oracle")" "BASE against the oracle"

# Across the boundary: EXDEV for rename and link; mv falls back to a copy.
expect_eq "$("$COWTOOL" rename plain "$MNT/logs/c.log" "$MNT/data/c.log")" "errno EXDEV" "rename across"
expect_errno EXDEV ln "$MNT/logs/c.log" "$MNT/data/l"
mv "$MNT/logs/c-link" "$MNT/data/moved"
expect_absent "$BASE/logs/c-link"
[ -f "$(upper_path data/moved)" ] || fail "the copied file is not in the store"

# An open handle and a shared mapping follow writes through to BASE.
"$COWTOOL" coherent "$MNT/logs/a.log" >/dev/null
cow_remount -o 'exclude=logs,exclude=*.tmp'
expect_file_content "$MNT/logs/c.log" new
expect_eq "$(cat "$MNT/data/f")" changed "store change after remount"
out=$("$COWFS" mount "$BASE" "$T/s2" "$T" -o exclude=/abs 2>&1) && fail "absolute exclude accepted"
grep -q "unknown or malformed option 'exclude=/abs'" <<<"$out" || fail "absolute: $out"
