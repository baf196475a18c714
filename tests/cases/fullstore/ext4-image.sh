#!/usr/bin/env bash
# STORE on a small loop-mounted ext4 (8 MiB, 64 inodes), BASE with files
# larger than its free space. With writeback=off, write() itself says
# ENOSPC: a new file keeps exactly the bytes acknowledged; a whole-file
# copy-up, a chunk fill of a big file, a rename of a BASE file or
# directory and a mkdir that do not fit fail with ENOSPC and change nothing
# (BASE content still shown, nothing half-copied in the view, work/ empty);
# an in-place overwrite of a copied file still works; out of inodes, a
# metadata copy-up and a whiteout fail the same way. Everything survives a
# remount, and once space is freed through the view every refused
# operation succeeds. The daemon never dies.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c 6000000 /dev/urandom >"$BASE/big" # by chunks (256K)
head -c 1500000 /dev/urandom >"$BASE/mid" # copied whole
head -c 10000 /dev/urandom >"$BASE/ren"
echo s1 >"$BASE/s1"
echo s2 >"$BASE/s2"
mkdir "$BASE/d" && echo f >"$BASE/d/f"
cow_base_snapshot

mkdir "$T/fs"
truncate -s 8M "$T/img"
mkfs.ext4 -q -F -m 0 -N 64 "$T/img"
mount -o loop "$T/img" "$T/fs"
STORE="$T/fs/store" # (the image's root holds lost+found)
cleanup() {
	local rc=$?
	if findmnt --mountpoint "$MNT" >/dev/null; then (cow_umount) || rc=1; fi
	umount "$T/fs" 2>/dev/null || umount -l "$T/fs"
	(exit "$rc")
	_cow_exit
}
trap cleanup EXIT
OPTS=writeback=off,chunk_threshold=2M,chunk_size=256K,completer=off
cow_mount -o "$OPTS"
full() { expect_errno "No space left on device" "$@"; }
work_empty() { [ -z "$(ls -A "$STORE/work")" ] || fail "work/ holds $(ls -A "$STORE/work")"; }
state() { getfattr --absolute-names --only-values -n user.cowfs.state "$MNT/$1"; }

head -c 1000000 /dev/urandom >"$T/keep.ref"
cp "$T/keep.ref" "$MNT/keep"
cp "$BASE/big" "$T/big.ref"
put() { # FILE OFFSET TEXT [dd conv flags]
	printf '%s' "$3" | dd of="$1" bs=1M seek="$2" oflag=seek_bytes \
		conv=notrunc${4:+,$4} status=none
}
append() { printf '%s' "$2" | dd of="$1" oflag=append conv=notrunc status=none; }
put "$MNT/big" 1000 X && put "$T/big.ref" 1000 X
# fills the store; 32 MiB at most, so that a missing mount cannot fill /
out=$("$COWTOOL" fill "$MNT/fill" 4096 $((32 << 20)))
case "$out" in
"wrote "*" errno ENOSPC close ok") ;;
*) fail "filling the store: $out" ;;
esac
filled=$(awk '{ print $2 }' <<<"$out")
[ "$filled" -gt 4000000 ] || fail "the store filled after $filled bytes"

check_refused() {
	cmp "$MNT/mid" "$BASE/mid" || fail "mid changed"
	expect_no_upper mid
	cmp "$MNT/big" "$T/big.ref" || fail "big changed"
	expect_file_content "$MNT/d/f" f
	expect_absent "$MNT/d2"
	expect_absent "$MNT/dd"
	expect_absent "$MNT/ren2"
	cmp "$MNT/ren" "$BASE/ren" || fail "ren changed"
	expect_eq "$(stat -c %s "$MNT/fill")" "$filled" "size of the file that filled the store"
	[ "$(tr -d f <"$MNT/fill" | wc -c)" = 0 ] || fail "fill holds other bytes than its own"
	work_empty
}
full append "$MNT/mid" x               # a whole-file copy-up
full put "$MNT/big" 4000000 Y         # a chunk fill
full mv "$MNT/ren" "$MNT/ren2"        # a copy-up by rename
full mv "$MNT/d" "$MNT/d2"            # a BASE directory renamed
full mkdir "$MNT/dd"
expect_eq "$(state mid)" base "state of mid"
check_refused
# an overwrite in place needs no space
put "$MNT/keep" 4096 KEEP && put "$T/keep.ref" 4096 KEEP
cmp "$MNT/keep" "$T/keep.ref" || fail "data written before the store filled changed"

cow_remount -o "$OPTS"
check_refused
cmp "$MNT/keep" "$T/keep.ref" || fail "keep changed across the remount"

# Space freed through the view: each refused operation goes through.
rm "$MNT/fill"
append "$MNT/mid" x
put "$MNT/big" 4000000 Y && put "$T/big.ref" 4000000 Y
mv "$MNT/ren" "$MNT/ren2"
mv "$MNT/d" "$MNT/d2"
mkdir "$MNT/dd"
expect_eq "$(head -c 1500000 "$MNT/mid" | cmp - "$BASE/mid" && tail -c 1 "$MNT/mid")" x "mid after the copy-up"
cmp "$MNT/big" "$T/big.ref" || fail "big after the chunk fill"
cmp "$MNT/ren2" "$BASE/ren" || fail "renamed ren"
expect_file_content "$MNT/d2/f" f
work_empty

# Out of inodes: a metadata-only copy and a whiteout need one each.
i=0
while [ $i -lt 100 ] && : 2>/dev/null >"$MNT/i$i"; do i=$((i + 1)); done
[ $i -lt 100 ] || fail "100 files fit in a store of 64 inodes"
full touch "$MNT/one-more"
full chmod 600 "$MNT/s1"
full rm "$MNT/s2"
expect_eq "$(stat -c %a "$MNT/s1")" 644 "mode after a refused chmod"
expect_file_content "$MNT/s2" s2
expect_no_upper s1
expect_no_upper s2
work_empty
rm "$MNT/i0" "$MNT/i1" "$MNT/i2"
chmod 600 "$MNT/s1"
rm "$MNT/s2"
expect_eq "$(stat -c %a "$MNT/s1")" 600 "mode after chmod"
expect_absent "$MNT/s2"

# Under the writeback cache (the default) close() and fsync() report it.
rm "$MNT"/i*
"$COWTOOL" fill "$MNT/fill2" 4096 $((32 << 20)) >/dev/null
cow_remount -o chunk_threshold=2M,chunk_size=256K,completer=off
out=$("$COWTOOL" fill "$MNT/fill3" 65536 $((32 << 20)))
case "$out" in *ENOSPC*) ;; *) fail "writeback into a full store: $out" ;; esac
full put "$MNT/ren2" 20000 Z fsync
cow_remount -o "$OPTS"
cmp "$MNT/ren2" "$BASE/ren" || fail "ren2 after a refused write-back"
cmp "$MNT/keep" "$T/keep.ref" || fail "keep at the end"
kill -0 "$DAEMON_PID" || fail "the daemon died"
