#!/usr/bin/env bash
# -o volatile: nothing of the store outlives the view, after an unmount or
# after the daemon is killed; a store with kept changes is not made volatile.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base' >"$BASE/a"
head -c 600000 /dev/urandom >"$BASE/big"
cow_base_snapshot

# A store this mount creates is removed at unmount.
cow_mount -o volatile,chunk_threshold=256K,chunk_size=64K
printf 'changed' >"$MNT/a"
printf 'new' >"$MNT/n"
printf 'x' | dd of="$MNT/big" bs=1 seek=1000 conv=notrunc status=none
expect_file_content "$MNT/a" changed
cow_umount
expect_absent "$STORE"

# An existing empty directory is emptied again, not removed.
mkdir "$STORE"
cow_mount -o volatile
printf 'changed' >"$MNT/a"
cow_umount
[ -d "$STORE" ] || fail "an existing STORE directory was removed"
[ -z "$(ls -A "$STORE/upper")" ] || fail "volatile changes survived the unmount"

# Killed: the next mount, volatile or not, starts from BASE.
cow_mount -o volatile
printf 'changed' >"$MNT/a"
mkdir "$MNT/d"
sync
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
umount -l "$MNT"
[ -f "$(upper_path a)" ] || fail "the killed view left nothing to clear (test is void)"
cow_mount
expect_file_content "$MNT/a" base
expect_absent "$MNT/d"
printf 'kept' >"$MNT/a"
cow_umount

# A store with kept changes: refused, and nothing lost.
out=$("$COWFS" mount "$BASE" "$STORE" "$MNT" -o volatile 2>&1) && fail "volatile over kept changes"
grep -q '^cowfs: STORE holds changes that are kept' <<<"$out" || fail "refusal: $out"
cow_mount
expect_file_content "$MNT/a" kept
