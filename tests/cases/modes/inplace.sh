#!/usr/bin/env bash
# In place: `cowfs mount --in-place DIR STORE` (and MOUNTPOINT = BASE) puts
# the view over DIR itself. New opens under DIR see the view and changes
# go to STORE; a handle opened before the mount keeps reaching the real
# file; after unmount DIR is as it was, and the next mount shows the
# changes again. A STORE inside DIR is refused.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/etc"
printf 'original' >"$BASE/etc/conf"
printf 'other' >"$BASE/other"
cow_base_snapshot
MNT=$BASE # the harness unmounts DIR itself

exec 7<"$BASE/etc/conf" # opened before the mount
mount_in_place() {
	"$COWFS" mount --in-place "$BASE" "$STORE" -f >>"$LOG" 2>&1 &
	DAEMON_PID=$!
	wait_mounted "$BASE"
}
mount_in_place
printf 'changed' >"$BASE/etc/conf"
rm "$BASE/other"
mkdir "$BASE/new"
expect_file_content "$BASE/etc/conf" changed
expect_absent "$BASE/other"
expect_eq "$(cat <&7)" original "handle opened before the mount"
expect_file_content "$(upper_path etc/conf)" changed
cow_umount
exec 7<&-
expect_file_content "$BASE/etc/conf" original
expect_file_content "$BASE/other" other
expect_absent "$BASE/new"
cow_base_check

# The MOUNTPOINT = BASE spelling is the same mount.
"$COWFS" mount "$BASE" "$STORE" "$BASE" -f >>"$LOG" 2>&1 &
DAEMON_PID=$!
wait_mounted "$BASE"
expect_file_content "$BASE/etc/conf" changed
[ -d "$BASE/new" ] || fail "changes not shown again"
cow_umount

out=$("$COWFS" mount --in-place "$BASE" "$BASE/store" 2>&1) && fail "STORE inside DIR accepted"
grep -q 'inside BASE' <<<"$out" || fail "store inside: $out"
expect_absent "$BASE/store"
out=$("$COWFS" mount --in-place "$BASE" 2>&1) && fail "--in-place without STORE accepted"
grep -q 'needs DIR STORE' <<<"$out" || fail "usage: $out"
