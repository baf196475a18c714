#!/usr/bin/env bash
# The daemon is killed (SIGKILL) at random moments while a workload copies
# small and large files up, writes with fsync, renames files and
# directories and creates and deletes; after each kill and remount, every
# file holds either the last content its writer saw committed or the one
# being written, every renamed directory sits at exactly one of its names,
# nothing of the interrupted work shows, work/ is empty, and BASE is as
# it was. Many iterations, each with its own moment.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

ROUNDS=${CRASH_ROUNDS:-6}
cow_setup
for k in 0 1 2 3; do printf 'base-%s' "$k" >"$BASE/s$k"; done
for k in 0 1; do head -c 1500000 /dev/urandom >"$BASE/big$k"; done
mkdir -p "$BASE/dirA/inner"
printf 'in' >"$BASE/dirA/inner/f"
cow_base_snapshot
J="$T/journal" # what the workload saw complete, one line per step
: >"$J"

content() { printf '%s-%s' "$1" "$2"; } # file, step

workload() { # ROUND
	local r=$1 i k
	for i in $(seq 1 1000); do
		k=$((i % 4))
		content "s$k" "$r.$i" | dd of="$MNT/s$k" conv=fsync status=none 2>/dev/null || return
		echo "s$k $r.$i" >>"$J"
		k=$((i % 2))
		printf '%08d' "$i" | dd of="$MNT/big$k" bs=1 seek=$(((i * 65536 + 17) % 1400000)) \
			conv=notrunc,fsync status=none 2>/dev/null || return
		echo "big$k $i $(((i * 65536 + 17) % 1400000))" >>"$J"
		if [ -d "$MNT/dirA" ]; then
			mv "$MNT/dirA" "$MNT/dirB" 2>/dev/null || return
		else
			mv "$MNT/dirB" "$MNT/dirA" 2>/dev/null || return
		fi
		echo "dir" >>"$J"
		mkdir -p "$MNT/tmp$r" && : >"$MNT/tmp$r/x$i" && rm -f "$MNT/tmp$r/x$((i - 1))" 2>/dev/null || return
	done
}

check_view() {
	local f last want now
	for f in s0 s1 s2 s3; do
		last=$(awk -v f="$f" '$1 == f { v = $2 } END { print v }' "$J")
		now=$(cat "$MNT/$f")
		[ -n "$last" ] || continue
		want=$(content "$f" "$last")
		if [ "$now" != "$want" ]; then
			# the step being written when the daemon died may show
			# (empty: the step had truncated the file, not written it)
			case "$now" in "$f-"* | "") ;; *) fail "$f holds '$now'" ;; esac
			[ -z "$now" ] || [ "$(awk -v f="$f" -v v="${now#"$f"-}" '$1 == f && $2 == v' "$J")" = "" ] ||
				fail "$f went back to an older step: '$now' (last '$want')"
		fi
	done
	# every fsynced chunk write is there (unless a later one overwrote it)
	awk '$1 ~ /^big/ { print $1, $2, $3 }' "$J" | sort -k1,1 -k3,3n -k2,2n |
		awk '{ key = $1 " " $3; last[key] = $2 } END { for (k in last) print k, last[k] }' |
		while read -r f off i; do
			now=$(dd if="$MNT/$f" bs=1 skip="$off" count=8 status=none)
			[ "$now" -ge "$i" ] 2>/dev/null || fail "$f at $off holds '$now', fsynced $i"
		done
	if [ -d "$MNT/dirA" ] && [ -d "$MNT/dirB" ]; then fail "directory at both names"; fi
	if [ ! -d "$MNT/dirA" ] && [ ! -d "$MNT/dirB" ]; then fail "directory at neither name"; fi
	[ "$(cat "$MNT"/dir?/inner/f)" = in ] || fail "renamed directory lost its content"
	[ -z "$(ls -A "$STORE/work")" ] || fail "work/ not emptied at mount"
}

for r in $(seq 1 "$ROUNDS"); do
	opts=completer=off
	[ $((r % 2)) = 0 ] && opts=completer=1000
	cow_mount -o "chunk_threshold=256K,chunk_size=64K,$opts"
	[ "$r" = 1 ] || check_view
	workload "$r" &
	wpid=$!
	sleep "0.$((RANDOM % 8 + 1))"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	wait "$wpid" 2>/dev/null || true
	umount -l "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
done
cow_mount
check_view
