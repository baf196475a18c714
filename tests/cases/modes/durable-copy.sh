#!/usr/bin/env bash
# How a small copy-up is made durable follows STORE's filesystem: on ext4
# with a journal it is written with direct I/O, which the journal orders
# before the rename that publishes it; on ext4 without a journal nothing
# orders them, so it is fdatasynced. On both, copies of sizes around the
# 4 KiB and 256 KiB edges hold BASE's bytes, in the view, in STORE and
# after a remount, and BASE is unchanged. (Root: loop-mounted images.)
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
sizes="0 1 4095 4096 4097 262144 262145"
for s in $sizes; do
	head -c "$s" /dev/urandom >"$BASE/a$s"
done
cow_base_snapshot
mkdir "$T/fs"
cleanup() {
	local rc=$?
	if findmnt --mountpoint "$MNT" >/dev/null; then (cow_umount) || rc=1; fi
	umount "$T/fs" 2>/dev/null || true
	(exit "$rc")
	_cow_exit
}
trap cleanup EXIT

run_on() { # MKFS_FEATURES EXPECTED_LOG_WORDS
	rm -f "$T/img"
	truncate -s 64M "$T/img"
	mkfs.ext4 -q -F $1 "$T/img"
	mount -o loop "$T/img" "$T/fs"
	STORE="$T/fs/store"
	: >"$LOG"
	cow_mount -d
	grep -q "STORE: small copy-ups $2" "$LOG" ||
		fail "mkfs.ext4 $1: $(grep 'STORE: small' "$LOG" || echo 'no STORE line')"
	for s in $sizes; do
		printf tail >>"$MNT/a$s"
		{ cat "$BASE/a$s"; printf tail; } >"$T/a$s"
		cmp "$MNT/a$s" "$T/a$s" || fail "a$s in the view ($1)"
		cmp "$(upper_path "a$s")" "$T/a$s" || fail "a$s in STORE ($1)"
	done
	cow_remount -d
	for s in $sizes; do
		cmp "$MNT/a$s" "$T/a$s" || fail "a$s after remount ($1)"
	done
	cow_umount
	umount "$T/fs"
}

run_on "" "by direct I/O"
run_on "-O ^has_journal" "fdatasynced"
cow_base_check
