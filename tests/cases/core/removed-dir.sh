#!/usr/bin/env bash
# A BASE directory removed from the view while a descriptor of it is open
# can still have its metadata changed through that descriptor, as on
# ext4: xattrs, mode and times, read back through the same descriptor.
# Before, cowfs had no name to copy it up to and answered ENOENT.
# Nothing of it stays in STORE or shows at its old name.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir "$BASE/dd" "$BASE/keep"
cow_base_snapshot
cow_mount

exec 3<"$MNT/dd"
rmdir "$MNT/dd"
fd=/proc/$$/fd/3
setfattr -n user.k -v v1 "$fd" || fail "setxattr on the removed directory"
expect_eq "$(getfattr --only-values -n user.k "$fd")" v1 "its xattr"
chmod 0701 "$fd" || fail "chmod of the removed directory"
expect_eq "$(stat -L -c %a "$fd")" 701 "its mode"
touch -d @1200000000 "$fd" || fail "utimens of the removed directory"
expect_eq "$(stat -L -c %Y "$fd")" 1200000000 "its mtime"
exec 3<&-
expect_absent "$MNT/dd"
expect_whiteout dd
[ -z "$(ls -A "$STORE/work")" ] || fail "left in work/: $(ls -A "$STORE/work")"
cow_remount
expect_absent "$MNT/dd"
[ -d "$MNT/keep" ] || fail "keep is gone"
