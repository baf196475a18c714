#!/usr/bin/env bash
# SIGKILL of the daemon while files are partially copied: a remount shows
# every fsynced byte, never BASE data where fsynced bytes were written, and
# the completer's interrupted work changes nothing; BASE is untouched.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
head -c $((12 << 20)) /dev/urandom >"$BASE/big"
cow_base_snapshot
cp "$BASE/big" "$T/ref"

kill_daemon() {
	local pid
	pid=$(pgrep -f -- "mount $BASE $STORE $MNT" | head -n1)
	[ -n "$pid" ] || fail "no daemon to kill"
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
}

for round in 1 2 3 4 5; do
	cow_mount -o completer=512
	off=$(((RANDOM * 331 + round * 1000003) % (12 << 20)))
	head -c 5000 /dev/urandom >"$T/chunk"
	dd if="$T/chunk" of="$MNT/big" bs=5000 count=1 seek="$off" \
		oflag=seek_bytes conv=notrunc,fsync status=none
	dd if="$T/chunk" of="$T/ref" bs=5000 count=1 seek="$off" \
		oflag=seek_bytes conv=notrunc status=none
	sleep "0.$((RANDOM % 6))"    # let the completer run for a while
	kill_daemon
	cow_mount -o completer=off
	cmp "$MNT/big" "$T/ref" || fail "round $round: view lost fsynced bytes"
	cow_umount
done
