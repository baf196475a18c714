#!/usr/bin/env bash
# The completer fills a partial copy while a read-only handle opened
# before the first write stays open: the handle keeps seeing the current
# bytes, the copy ends as a plain upper file with no map left, and BASE
# is untouched.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((8 << 20)) /dev/urandom >"$BASE/big"
cow_base_snapshot
cp "$BASE/big" "$T/ref"
cow_mount -o completer=256
exec 3<"$MNT/big"                   # opened before any write
printf 'NEWBYTES' | dd of="$MNT/big" bs=1 seek=4194000 conv=notrunc status=none
printf 'NEWBYTES' | dd of="$T/ref" bs=1 seek=4194000 conv=notrunc status=none
for _ in $(seq 1 100); do
	state=$(getfattr --only-values -n user.cowfs.state "$MNT/big")
	[ "$state" = store ] && break
	sleep 0.1
done
expect_eq "$state" store "state once the completer is done"
[ -z "$(ls -A "$STORE/meta/chunks")" ] || fail "chunk map left behind"
getfattr -d -m - "$(upper_path big)" 2>/dev/null | grep -q partial &&
	fail "upper copy still marked partial"
cmp <(cat <&3) "$T/ref" || fail "handle opened before copy-up disagrees"
exec 3<&-
drop_caches
cmp "$MNT/big" "$T/ref" || fail "view differs after completion (cold)"
cmp "$(upper_path big)" "$T/ref" || fail "store copy is not the view"
