#!/usr/bin/env bash
# A damaged chunk map is detected and reported: the file's data is refused
# with EIO (never read as zeros or as stale BASE bytes), the daemon says why
# in its log, other files keep working, and BASE is untouched.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((6 << 20)) /dev/urandom >"$BASE/big"
echo fine >"$BASE/small"
cow_base_snapshot
cow_mount -o completer=off
printf 'X' | dd of="$MNT/big" bs=1 seek=2000000 conv=notrunc status=none
cow_umount
map=$(find "$STORE/meta/chunks" -type f ! -name '*.data')
[ -n "$map" ] || fail "no chunk map in the store"
size=$(stat -c %s "$map")
# flip one byte of the last record (the header is intact)
printf '\x7f' | dd of="$map" bs=1 seek=$((size - 6)) conv=notrunc status=none
cow_mount -o completer=off
if cat "$MNT/big" >/dev/null 2>"$T/err"; then
	fail "a file with a damaged map was readable"
fi
grep -q "Input/output error" "$T/err" || fail "expected EIO, got: $(cat "$T/err")"
grep -q "damaged chunk map" "$LOG" || fail "daemon did not report the damage"
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big")" damaged \
	"state of the damaged file"
expect_eq "$(cat "$MNT/small")" fine "other files still readable"
