#!/usr/bin/env bash
# Unlinked-but-open files stay readable and writable until closed, for a
# BASE file (copied on its first write, with no name) and a STORE file.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base-content' >"$BASE/b"
cow_base_snapshot
cow_mount
printf 'store-content' >"$MNT/s"
trap 'exec 3>&- 4>&-; _cow_exit' EXIT
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
