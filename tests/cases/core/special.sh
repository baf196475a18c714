#!/usr/bin/env bash
# Special files, xattrs, statfs, locks, truncate and holes: mknod of FIFOs
# and devices, user xattrs through the view while cowfs' own are hidden
# and refused, flock between processes, truncate up and down, fallocate
# with hole punching and SEEK_DATA/SEEK_HOLE, copy_file_range.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'abcdefghij' >"$BASE/t"
head -c 65536 /dev/urandom >"$BASE/h"
mkdir -p "$T/ref"
cp "$BASE/h" "$T/ref/h"
cow_base_snapshot
cow_mount
mkfifo "$MNT/fifo"
if [ -n "$AS_USER" ]; then
	# an unprivileged daemon cannot make device nodes (documented)
	expect_errno EPERM mknod "$MNT/null" c 1 3
else
	mknod "$MNT/null" c 1 3
	echo x >"$MNT/null" || fail "device node not usable (nodev)"
	expect_eq "$(stat -c '%F %t:%T' "$MNT/null")" "character special file 1:3" "device"
fi
expect_eq "$(stat -c %F "$MNT/fifo")" fifo "fifo type"
setfattr -n user.a -v 1 "$MNT/t"
expect_eq "$(getfattr --only-values -n user.a "$MNT/t")" 1 "user xattr"
getfattr -d -m - "$MNT/t" 2>/dev/null | grep -Eq 'overlay|cowfs\.origin' &&
	fail "private xattrs listed"
expect_errno EPERM setfattr -n trusted.overlay.opaque -v y "$MNT/t"
expect_errno ENODATA getfattr -n trusted.cowfs.origin "$MNT/t"
setfattr -x user.a "$MNT/t"
expect_errno ENODATA getfattr -n user.a "$MNT/t"
[ "$(stat -f -c %b "$MNT")" -gt 0 ] || fail "statfs"
flock "$MNT/t" sleep 2 &
lockpid=$!
sleep 0.5
flock -n "$MNT/t" true && fail "flock not exclusive between processes"
wait "$lockpid"
truncate -s 4 "$MNT/t"
truncate -s 8 "$MNT/t"
expect_eq "$(od -An -c "$MNT/t" | tr -s ' ')" " a b c d \\0 \\0 \\0 \\0" "truncate"
fallocate -p -o 8192 -l 16384 "$MNT/h"
fallocate -p -o 8192 -l 16384 "$T/ref/h"
cmp "$MNT/h" "$T/ref/h" || fail "punched file differs from ext4"
expect_eq "$("$COWTOOL" seekmap "$MNT/h")" "$("$COWTOOL" seekmap "$T/ref/h")" "SEEK_DATA/SEEK_HOLE"
cp --reflink=never "$MNT/h" "$MNT/h2"
cmp "$MNT/h2" "$T/ref/h" || fail "copy differs"
cow_remount
expect_eq "$(stat -c %F "$MNT/fifo")" fifo "fifo after remount"
cmp "$MNT/h" "$T/ref/h" || fail "punched file after remount"
