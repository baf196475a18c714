#!/usr/bin/env bash
# commit, discard and reset on a mounted view: BASE changes exactly as
# asked and only on commit, the view does not change on commit, shows BASE
# again on discard, and handles and shared mappings opened before a commit
# follow it. Discard of an open file is refused and changes nothing.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/d" "$BASE/r/sub" "$BASE/gone"
printf 'alpha' >"$BASE/a"
printf 'charlie' >"$BASE/c"
printf 'echo' >"$BASE/e"
printf 'xray' >"$BASE/x"
printf 'bravo' >"$BASE/d/b"
printf 'romeo' >"$BASE/r/sub/f"
printf 'golf' >"$BASE/gone/g"
head -c 1048576 /dev/urandom >"$BASE/big"
printf 'h' >"$BASE/h1"
ln "$BASE/h1" "$BASE/h2"
cow_base_snapshot
cow_mount -o chunk_threshold=256K,chunk_size=64K,completer=off

printf 'ALPHA' >"$MNT/a"
printf 'big!' | dd of="$MNT/big" bs=1 seek=100000 conv=notrunc status=none
chmod 600 "$MNT/e"
rm "$MNT/c"
mv "$MNT/r" "$MNT/r2"
rm -r "$MNT/gone"
mkdir "$MNT/gone"
printf 'new' >"$MNT/gone/n"
mkdir -p "$MNT/newdir/deep"
printf 'deep' >"$MNT/newdir/deep/f"
printf 'H' >"$MNT/h1"
printf 'XRAY' >"$MNT/x"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big")" "partial 6%" "big is partial"
view=$(view_tree "$MNT")

# --dry-run names what it would do and does nothing.
out=$("$COWFS" commit --dry-run "$MNT" a newdir)
grep -qx 'would commit a' <<<"$out" || fail "dry run: $out"
grep -qx 'would commit newdir/deep/f' <<<"$out" || fail "dry run: $out"
cow_base_check
[ -f "$(upper_path a)" ] || fail "dry run touched the store"

# A handle and a shared mapping of big, opened before its commit.
coproc HOLD { "$COWTOOL" hold "$MNT/big" 100004; }
hold_pid=$HOLD_PID
read -r line <&"${HOLD[0]}"
expect_eq "$line" ready "hold"

cp -a "$BASE" "$T/expect"
cp "$MNT/a" "$T/expect/a"
cp "$MNT/big" "$T/expect/big"
chmod 600 "$T/expect/e"
rm "$T/expect/c"
mv "$T/expect/r" "$T/expect/r2"
rm -r "$T/expect/gone"
cp -a "$MNT/gone" "$T/expect/gone"
cp -a "$MNT/newdir" "$T/expect/newdir"
out=$("$COWFS" commit "$MNT" a big e c r2 gone newdir "$MNT/x")
grep -qx 'committed big' <<<"$out" || fail "commit output: $out"
cp "$MNT/x" "$T/expect/x"
expect_eq "$(view_tree "$BASE")" "$(view_tree "$T/expect")" "BASE after commit"
expect_eq "$(view_tree "$MNT")" "$view" "view after commit"
for p in a big e c r2 gone newdir x; do
	expect_no_upper "$p"
done
[ -f "$(upper_path h1)" ] || fail "h1 left the store without being asked"
[ -z "$(ls "$STORE/meta/chunks")" ] || fail "chunk map of big left behind"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big")" base "big after commit"

echo >&"${HOLD[1]}"
read -r line <&"${HOLD[0]}"
want=$(head -c 100004 "$MNT/big" | tr -c ' -~' '.')
expect_eq "$line" "map=$want read=$want" "early handle and mapping after commit"
# Writes after the commit copy up again; the early views follow.
printf 'NEXT' | dd of="$MNT/big" bs=1 seek=100000 conv=notrunc status=none
echo >&"${HOLD[1]}"
read -r line <&"${HOLD[0]}"
[[ "$line" == *"NEXT read="*NEXT ]] || fail "early views after the next write: ${line: -20}"
cmp -s "$BASE/big" "$T/expect/big" || fail "a write after commit reached BASE"

# Discard of an open file is refused, and changes nothing.
cow_base_snapshot
out=$("$COWFS" discard "$MNT" big 2>&1) && fail "discard of an open file succeeded"
grep -q '^cowfs: big: 1 open file' <<<"$out" || fail "refusal said: $out"
[ -f "$(upper_path big)" ] || fail "refused discard dropped the change"
exec {HOLD[1]}>&-
wait "$hold_pid" || true

# Discard: the view shows BASE again.
"$COWFS" discard "$MNT" big >/dev/null
cmp "$MNT/big" "$BASE/big" || fail "big after discard"
"$COWFS" discard "$MNT" h1 >/dev/null
expect_file_content "$MNT/h1" h
expect_file_content "$MNT/h2" h
rm "$MNT/d/b"
printf 'added' >"$MNT/d/added"
"$COWFS" discard "$MNT" d/b d/added >/dev/null
expect_file_content "$MNT/d/b" bravo
expect_absent "$MNT/d/added"
out=$("$COWFS" discard "$MNT" d/none)
expect_eq "$out" "d/none: no changes" "discard of an unchanged path"

# Reset drops everything; errors change nothing.
printf 'again' >"$MNT/a"
"$COWFS" reset "$MNT" >/dev/null
expect_eq "$(view_tree "$MNT")" "$(view_tree "$BASE")" "view after reset"
[ -z "$(ls -A "$STORE/upper")" ] || fail "store not empty after reset"
printf 'z' >"$MNT/a"
out=$("$COWFS" commit "$MNT" /etc/passwd 2>&1) && fail "path outside the view accepted"
grep -q 'outside the view' <<<"$out" || fail "outside: $out"
out=$("$COWFS" commit "$MNT" ../x 2>&1) && fail "'..' accepted"
out=$("$COWFS" commit "$T" a 2>&1) && fail "a TARGET that is no store accepted"
grep -q 'neither a cowfs STORE nor a mounted cowfs view' <<<"$out" || fail "target: $out"
printf 'H2' >"$MNT/h2"
out=$("$COWFS" commit "$MNT" h2 2>&1) && fail "hard-linked commit accepted"
grep -q 'hard-linked' <<<"$out" || fail "hard link: $out"
cow_base_check
expect_file_content "$MNT/a" z

# Another user is not served: the socket is the mounting user's.
test_user
chmod 755 "$T" "$STORE" # readable, so that the socket check is reached
out=$(as_user "$COWFS" discard "$STORE" a 2>&1) && fail "another user's discard went through"
grep -q 'control socket .* belongs to another user' <<<"$out" || fail "other user: $out"
expect_file_content "$MNT/a" z
cow_remount
expect_file_content "$MNT/a" z
