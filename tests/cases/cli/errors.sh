#!/usr/bin/env bash
# Every bad invocation is refused with one line "cowfs: ..." and a non-zero
# exit, and leaves BASE, STORE and the mount point exactly as they were.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/sub" "$T/other" "$T/s2"
echo data >"$BASE/f"
echo x >"$T/plainfile"
cow_base_snapshot

tree_state() { # DIR...: listing with xattrs, or "absent"
	local d
	for d in "$@"; do
		if [ -e "$d" ]; then
			find "$d" -printf '%p %y %m %s %T@\n' | LC_ALL=C sort
			getfattr -R -P -d -m - --absolute-names "$d" 2>/dev/null
		else
			echo "$d absent"
		fi
	done | sha256sum
}

# refused WHAT-PATTERN CMD...: one line matching the pattern, exit != 0
refused() {
	local pat=$1 out rc=0 before
	shift
	before=$(tree_state "$BASE" "$STORE" "$MNT" "$T/s2")
	mounts=$(grep -c " $MNT " /proc/self/mountinfo || true)
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "'$*' succeeded"
	[ "$(wc -l <<<"$out")" = 1 ] || fail "'$*' printed more than one line: $out"
	grep -Eq "^cowfs: .*($pat)" <<<"$out" || fail "'$*' said '$out', expected /$pat/"
	expect_eq "$(grep -c " $MNT " /proc/self/mountinfo || true)" "$mounts" "mounts after '$*'"
	expect_eq "$(tree_state "$BASE" "$STORE" "$MNT" "$T/s2")" "$before" "trees after '$*'"
}

refused "not exist|No such" "$COWFS" mount "$T/nope" "$STORE" "$MNT"
refused "not a directory|Not a directory" "$COWFS" mount "$T/plainfile" "$STORE" "$MNT"
refused "inside" "$COWFS" mount "$BASE" "$BASE/sub/store" "$MNT"
refused "inside" "$COWFS" mount "$BASE/sub" "$T/base" "$MNT"
refused "not a directory|Not a directory" "$COWFS" mount "$BASE" "$STORE" "$T/plainfile"
refused "not exist|No such" "$COWFS" mount "$BASE" "$STORE" "$T/nomnt"
refused "unknown.*bogus" "$COWFS" mount "$BASE" "$STORE" "$MNT" -o bogus
refused "unknown.*chunk_size=3000" "$COWFS" mount "$BASE" "$STORE" "$MNT" -o chunk_size=3000
refused "unknown option '-z'" "$COWFS" mount "$BASE" "$STORE" "$MNT" -z
refused "needs BASE STORE MOUNTPOINT" "$COWFS" mount "$BASE" "$STORE"
refused "unknown command|unexpected|expected" "$COWFS" frobnicate
refused "umount" "$COWFS" umount
refused "overlay-style form needs" "$COWFS" src "$MNT" -o lowerdir="$BASE"
refused "only one lowerdir" "$COWFS" src "$MNT" -o lowerdir="$BASE:$T/other",upperdir="$T/u",workdir="$T/w"

# A store that is not empty and not a cowfs store is not taken over.
echo mine >"$T/s2/file"
refused "store" "$COWFS" mount "$BASE" "$T/s2" "$MNT"

# A store of a different BASE, or of an unknown format, is refused.
cow_mount
echo changed >"$MNT/f"
cow_umount
refused "different BASE|belongs to" "$COWFS" mount "$T/other" "$STORE" "$MNT"
cp "$STORE/meta/format" "$T/format.saved"
sed -i '1s/.*/cowfs-store 99/' "$STORE/meta/format"
refused "format" "$COWFS" mount "$BASE" "$STORE" "$MNT"
cp "$T/format.saved" "$STORE/meta/format"

# Already mounted: the second mount is refused, the first keeps working.
cow_mount
refused "already" "$COWFS" mount "$BASE" "$T/s3" "$MNT"
expect_file_content "$MNT/f" changed
expect_absent "$T/s3"
cow_umount

# No /dev/fuse: in a private mount namespace where it is a plain file.
if unshare -m true 2>/dev/null; then
	out=$(unshare -m sh -c 'mount --bind "$1" /dev/fuse && exec "$2" mount "$3" "$4" "$5"' \
		sh "$T/plainfile" "$COWFS" "$BASE" "$T/s4" "$MNT" 2>&1) &&
		fail "mount without /dev/fuse succeeded"
	grep -q '^cowfs: .*/dev/fuse' <<<"$out" || fail "no /dev/fuse: said '$out'"
	expect_absent "$T/s4"
else
	fail "unshare -m is not available: cannot check the /dev/fuse error"
fi

# --help and --version succeed and say what they should.
"$COWFS" --help | grep -q '^usage: cowfs mount' || fail "--help"
"$COWFS" --version | grep -Eq '^cowfs [0-9]' || fail "--version"
[ -z "$(ls -A "$MNT")" ] || fail "mount point gained entries"
