#!/usr/bin/env bash
# STORE on a 6 MiB tmpfs, BASE with an 8 MB file copied by chunks. When
# the store is full: a write through a shared mapping reports ENOSPC from
# msync() and, after a remount, the file shows BASE; the copy of a
# hard-linked file fails for all its names; the completer cannot finish
# the big file and says so, leaving it partial and correct. Once space is
# freed through the view, the completer must not take it all for a copy
# that cannot fit (it would leave the view no room): the mapped write and
# the hard-linked copy succeed. When the tmpfs grows, a remount completes
# the big file. The daemon never dies; BASE is untouched.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c 8000000 /dev/urandom >"$BASE/big"
head -c 500000 /dev/urandom >"$BASE/mm"
head -c 1000000 /dev/urandom >"$BASE/hl1"
ln "$BASE/hl1" "$BASE/hl2"
cow_base_snapshot
mkdir "$T/fs"
mount -t tmpfs -o size=6m tmpfs "$T/fs"
STORE="$T/fs/store"
cleanup() {
	local rc=$?
	if findmnt --mountpoint "$MNT" >/dev/null; then (cow_umount) || rc=1; fi
	umount "$T/fs" 2>/dev/null || umount -l "$T/fs"
	(exit "$rc")
	_cow_exit
}
trap cleanup EXIT
CHUNKS=chunk_threshold=1M,chunk_size=256K
state() { getfattr --absolute-names --only-values -n user.cowfs.state "$MNT/$1"; }
put() { printf '%s' "$3" | dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc,fsync status=none; }
# wait_for CMD...: until CMD succeeds, 30 s at most; polls once a second,
# as the completer runs only after half a second without a request
wait_for() {
	local i
	for i in $(seq 1 30); do "$@" && return 0; sleep 1; done
	fail "waited in vain for: $*"
}

cow_mount -o "writeback=off,$CHUNKS,completer=off"
cp "$BASE/big" "$T/big.ref"
put "$MNT/big" 100 X && put "$T/big.ref" 100 X
out=$("$COWTOOL" fill "$MNT/fill" 65536 $((32 << 20)))
case "$out" in *"errno ENOSPC close ok") ;; *) fail "filling the store: $out" ;; esac
expect_eq "$("$COWTOOL" mapwrite "$MNT/mm" 1000 HELLO)" "errno ENOSPC" "a mapped write into a full store"
expect_errno "No space left on device" put "$MNT/hl1" 10 Y
cmp "$MNT/hl1" "$BASE/hl1" && cmp "$MNT/hl2" "$BASE/hl2" || fail "a refused copy of a linked file shows"
[ -z "$(ls -A "$STORE/meta/index" "$STORE/work" | grep -v ':$' | grep .)" ] ||
	fail "a refused copy left something: $(ls -A "$STORE/meta/index" "$STORE/work")"

# The completer cannot finish big: it says so and big stays right.
cow_remount -o "$CHUNKS,completer=64M"
cmp "$MNT/mm" "$BASE/mm" || fail "the mapped write that failed shows after a remount"
wait_for grep -q "completing a partial copy failed: No space left on device" "$LOG"
cmp "$MNT/big" "$T/big.ref" || fail "big after the completer failed"
case "$(state big)" in "partial "*) ;; *) fail "big is '$(state big)'" ;; esac

# Space freed: the writes of the view get it, not a copy that cannot fit.
rm "$MNT/fill"
state big >/dev/null # (a lookup puts big back in the completer's queue)
sleep 1              # idle: the completer would run now
case "$(state big)" in "partial "*) ;; *) fail "big is '$(state big)'" ;; esac
expect_eq "$("$COWTOOL" mapwrite "$MNT/mm" 1000 HELLO)" ok "a mapped write once space is free"
put "$MNT/hl1" 10 Y
expect_eq "$(dd if="$MNT/hl2" bs=1 skip=10 count=1 status=none)" Y "the other name of hl1"
expect_eq "$(dd if="$MNT/mm" bs=1 skip=1000 count=5 status=none)" HELLO "the mapped write"

# Room for big: a remount completes it.
mount -o remount,size=16m "$T/fs"
cow_remount -o "$CHUNKS,completer=64M"
complete() { [ "$(state big)" = store ]; }
wait_for complete
cmp "$MNT/big" "$T/big.ref" || fail "big after completion"
cow_remount -o "$CHUNKS,completer=off"
cmp "$MNT/big" "$T/big.ref" || fail "big after completion and a remount"
expect_eq "$(dd if="$MNT/mm" bs=1 skip=1000 count=5 status=none)" HELLO "the mapped write after a remount"
expect_eq "$(dd if="$MNT/hl2" bs=1 skip=10 count=1 status=none)" Y "hl2 after a remount"
kill -0 "$DAEMON_PID" || fail "the daemon died"
