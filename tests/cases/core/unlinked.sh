#!/usr/bin/env bash
# Unlinked-but-open files stay readable and writable until closed, for a
# BASE file (copied on its first write, with no name) and a STORE file,
# and report no links, also without the writeback cache (where the kernel
# asks the daemon for the count).
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base-content' >"$BASE/b"
printf 'base-content' >"$BASE/c"
cow_base_snapshot
cow_mount
printf 'store-content' >"$MNT/s"
trap 'rc=$?; exec 3>&- 4>&- 5<&-; (exit $rc); _cow_exit' EXIT
exec 3<>"$MNT/b" 4<>"$MNT/s"
rm "$MNT/b" "$MNT/s"
expect_absent "$MNT/b"
expect_eq "$(cat /proc/self/fd/3)" base-content "unlinked BASE file"
printf 'NEW' >&3
expect_eq "$(cat /proc/self/fd/3)" NEWe-content "written after unlink"
printf 'XY' >&4
expect_eq "$(cat /proc/self/fd/4)" XYore-content "unlinked STORE file"
exec 3>&- 4>&-
expect_absent "$MNT/b"
expect_whiteout b
expect_absent "$(upper_path s)"

cow_remount -o writeback=off
exec 5<"$MNT/c"
rm "$MNT/c"
expect_eq "$(stat -L -c %h /proc/self/fd/5)" 0 "links of an unlinked BASE file"
expect_eq "$(cat /proc/self/fd/5)" base-content "unlinked BASE file, read"
# (the read made the kernel ask the daemon for fresh attributes)
expect_eq "$(stat -L -c %h /proc/self/fd/5)" 0 "links after a read"
exec 5<&-
