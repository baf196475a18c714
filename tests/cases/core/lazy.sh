#!/usr/bin/env bash
# Lazy, minimal copy-up: opening for write copies nothing; chmod, chown,
# utimes and setxattr copy metadata only (a metacopy file without data);
# the first data change copies data; st_ino never changes; O_TRUNC copies
# nothing of the old data.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base data\n' >"$BASE/f"
printf 'other\n' >"$BASE/g"
printf 'truncate me\n' >"$BASE/t"
cow_base_snapshot
cow_mount
ino=$(stat -c %i "$MNT/f")
exec 3>>"$MNT/f"
exec 3>&-
: <"$MNT/f"
expect_no_upper f
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/f")" base "state"
chmod 600 "$MNT/f"
expect_eq "$(stat -c %a "$MNT/f")" 600 "mode in the view"
expect_eq "$(stat -c %b "$(upper_path f)")" 0 "metadata copy holds no data"
getfattr -n "$OVL.metacopy" "$(upper_path f)" >/dev/null 2>&1 ||
	fail "no metacopy marker"
expect_eq "$(cat "$MNT/f")" "base data" "data still from BASE"
touch -d '2020-02-02 02:02:02' "$MNT/g"
setfattr -n user.note -v hi "$MNT/g"
expect_eq "$(getfattr --only-values -n user.note "$MNT/g")" hi "user xattr"
expect_eq "$(stat -c %Y "$MNT/g")" "$(date -d '2020-02-02 02:02:02' +%s)" "mtime"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/g")" metadata "state"
echo more >>"$MNT/f"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/f")" store "state"
expect_file_content "$(upper_path f)" "$(printf 'base data\nmore')"
expect_eq "$(stat -c %i "$MNT/f")" "$ino" "st_ino across copy-up"
expect_eq "$(stat -c %a "$MNT/f")" 600 "mode kept by the data copy"
echo new >"$MNT/t"
expect_file_content "$MNT/t" new
cow_remount
expect_eq "$(stat -c %i "$MNT/f")" "$ino" "st_ino after remount"
expect_file_content "$MNT/f" "$(printf 'base data\nmore')"
expect_eq "$(getfattr --only-values -n user.note "$MNT/g")" hi "xattr after remount"
