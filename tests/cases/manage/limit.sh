#!/usr/bin/env bash
# store_limit=SIZE: writes that would grow the store past it fail with
# ENOSPC (write() itself), copy-ups that would are refused cleanly, nothing
# written before is lost, freeing space lets writes through again, and
# warn=PERCENT thresholds are logged once per crossing.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c 3000000 /dev/urandom >"$BASE/big"
printf 'small' >"$BASE/s"
cow_base_snapshot
cow_mount -o store_limit=2M,warn=50,warn=90

fill() { head -c "$2" /dev/zero | tr '\0' "$3" >"$MNT/$1"; }
fill one 1200000 a
cp "$MNT/one" "$T/one.ref"
grep -c "warning at 50%" "$LOG" | grep -qx 1 || fail "50% warning not logged once"
grep -q 'warning at 90%' "$LOG" && fail "90% warned too early"
out=$(fill two 1000000 b 2>&1) && fail "a write past the limit succeeded"
grep -q 'No space left on device' <<<"$out" || fail "past the limit: $out"
grep -c 'warning at 90%' "$LOG" | grep -qx 1 || fail "90% warning not logged once"
cmp "$MNT/one" "$T/one.ref" || fail "data written before the limit changed"

# A copy-up that does not fit is refused; the file still shows BASE.
out=$( (echo x >>"$MNT/big") 2>&1) && fail "copy-up past the limit succeeded"
cmp "$MNT/big" "$BASE/big" || fail "refused copy-up changed the view"
expect_no_upper big
# Overwriting bytes the store already holds takes no space: allowed.
printf 'A' | dd of="$MNT/one" bs=1 seek=10 conv=notrunc status=none ||
	fail "overwrite in place at the limit refused"

# Space freed through the view is usable again.
rm "$MNT/two"
fill three 500000 c || fail "write after freeing space"
expect_eq "$(stat -c %s "$MNT/three")" 500000 "size after freeing space"
cow_remount -o store_limit=2M
fill four 400000 d 2>/dev/null && fail "limit not enforced after remount (usage not counted)"
"$COWFS" discard "$MNT" one >/dev/null
fill four 400000 d || fail "write after discard freed space"

out=$("$COWFS" mount "$BASE" "$T/s2" "$T" -o warn=50 2>&1) && fail "warn without store_limit"
grep -q 'warn= needs store_limit=' <<<"$out" || fail "warn alone: $out"
expect_absent "$T/s2"
