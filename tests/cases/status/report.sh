#!/usr/bin/env bash
# cowfs status names every kind of change, on a mounted view and on the
# unmounted store alike, filters by path, and --json carries the same; it
# changes nothing in BASE or STORE.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/d/e" "$BASE/keep"
echo a >"$BASE/f"
echo b >"$BASE/g"
echo c >"$BASE/d/e/h"
echo k >"$BASE/keep/k"
head -c $((6 << 20)) /dev/zero >"$BASE/big"
cow_base_snapshot
cow_mount -o completer=off
echo x >>"$MNT/f"
chmod 600 "$MNT/g"
rm "$MNT/d/e/h"
mv "$MNT/d" "$MNT/dd"
mkdir "$MNT/nd"
echo n >"$MNT/nd/new"
printf y | dd of="$MNT/big" bs=1 seek=100 conv=notrunc status=none

check_report() { # $1: report text
	local r=$1
	grep -Eq '^modified +.* f$' <<<"$r" || fail "f not modified: $r"
	grep -Eq '^metadata +.* g$' <<<"$r" || fail "g not metadata: $r"
	grep -Eq '^deleted +- +d$' <<<"$r" || fail "d not deleted: $r"
	grep -Eq '^renamed +.* dd/ +\(from d\)$' <<<"$r" ||
		fail "dd not renamed from d: $r"
	grep -Eq '^deleted +- +dd/e/h$' <<<"$r" || fail "dd/e/h: $r"
	grep -Eq '^added +.* nd/$' <<<"$r" || fail "nd/ not added: $r"
	grep -Eq '^added +.* nd/new$' <<<"$r" || fail "nd/new not added: $r"
	grep -Eq '^partial +.* big +\(1% copied\)$' <<<"$r" ||
		fail "big not partial: $r"
	grep -q keep <<<"$r" && fail "unchanged keep/ reported: $r"
	grep -q '^8 changes; STORE uses' <<<"$r" || fail "totals: $r"
}

store_sum() { find "$STORE" -printf '%p %s %T@\n' | sort | sha256sum; }
before=$(store_sum)
check_report "$("$COWFS" status "$MNT")"
expect_eq "$(store_sum)" "$before" "status changed the store"
json=$("$COWFS" status --json "$MNT" dd)
grep -q '"path": "dd", "change": "renamed"' <<<"$json" || fail "json: $json"
grep -q '"from": "d"' <<<"$json" || fail "json from: $json"
grep -q '"totals": {"changes": 2' <<<"$json" || fail "json totals: $json"
grep -q '"f"' <<<"$json" && fail "path filter ignored: $json"
cow_umount
check_report "$("$COWFS" status "$STORE")"
if "$COWFS" status "$BASE" 2>"$T/err"; then
	fail "status accepted a plain directory"
fi
grep -q "neither a cowfs STORE nor a mounted cowfs view" "$T/err" ||
	fail "unclear error: $(cat "$T/err")"
