#!/usr/bin/env bash
# The overlay-style form as mount(8) and fstab use it: `mount -t fuse.cowfs`
# (mount.fuse3 runs `cowfs SOURCE MOUNTPOINT -o ...`), from the command line
# and from an fstab line; UPPER then is a plain overlay upper directory and
# cowfs keeps its own metadata under WORK.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base' >"$BASE/f"
mkdir -p "$BASE/d" "$T/upper" "$T/work" "$T/bin"
printf 'in d' >"$BASE/d/g"
cow_base_snapshot
command -v mount.fuse3 >/dev/null || fail "mount.fuse3 (package fuse3) is missing"
# mount(8) runs helpers with a fixed PATH: name the built cowfs with the
# PROGRAM#SOURCE form, which mount.fuse3 runs exactly as for fuse.cowfs.
src="$COWFS#cowfs-test"

opts="lowerdir=$BASE,upperdir=$T/upper,workdir=$T/work"
mount -t fuse "$src" "$MNT" -o "$opts" || fail "mount -t fuse PROGRAM#SOURCE failed"
expect_eq "$(findmnt -n -o FSTYPE --mountpoint "$MNT")" fuse.cowfs "type"
expect_file_content "$MNT/f" base
printf 'changed' >"$MNT/f"
rm "$MNT/d/g"
umount "$MNT"
expect_file_content "$T/upper/f" changed
expect_whiteout_at() { [ -c "$1" ] && [ "$(stat -c '%t:%T' "$1")" = 0:0 ] || fail "$1 is not a whiteout"; }
expect_whiteout_at "$T/upper/d/g"
[ -f "$T/work/meta/format" ] || fail "cowfs metadata is not under WORK"
[ ! -e "$T/upper/meta" ] || fail "cowfs metadata leaked into UPPER"

# The same through an fstab line.
printf '%s %s fuse %s,noauto 0 0\n' "$src" "$MNT" "$opts" >"$T/fstab"
mount -T "$T/fstab" "$MNT" || fail "mount from an fstab line failed"
expect_file_content "$MNT/f" changed
expect_absent "$MNT/d/g"
umount "$MNT"

# Unknown options are refused there too, with nothing mounted.
out=$(mount -t fuse "$src" "$MNT" -o "$opts,bogus" 2>&1) && fail "bogus option accepted"
grep -q "unknown or malformed option 'bogus'" <<<"$out" || fail "bogus: $out"
findmnt --mountpoint "$MNT" >/dev/null && fail "mounted despite the error"
true

# `-t fuse.cowfs` finds cowfs on mount's fixed PATH: put the build there
# for the mount only, unless a cowfs is installed already.
link=
if ! PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v cowfs >/dev/null; then
	link=/usr/local/sbin/cowfs
	ln -s "$COWFS" "$link"
fi
rc=0
mount -t fuse.cowfs cowfs-test "$MNT" -o "$opts" || rc=$?
[ -z "$link" ] || rm -f "$link"
[ "$rc" = 0 ] || fail "mount -t fuse.cowfs failed"
expect_eq "$(findmnt -n -o FSTYPE --mountpoint "$MNT")" fuse.cowfs "type with -t fuse.cowfs"
expect_file_content "$MNT/f" changed
umount "$MNT"
