#!/usr/bin/env bash
# A walk over more directories than max_dirs: the daemon's descriptors stay
# bounded (the kernel is asked to forget the coldest directories), and
# nothing a program sees changes: a file held open, a process whose working
# directory was forgotten, changes made before and after, names looked up
# again; the store holds the changes, BASE is untouched.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
for i in $(seq 1 600); do
	mkdir -p "$BASE/d$((i % 30))/e$i"
	echo "$i" >"$BASE/d$((i % 30))/e$i/f"
done
cow_base_snapshot
cow_mount -o max_dirs=64
# the daemon: the mount's process, or its child when run as another user
pid=$(pgrep -P "$DAEMON_PID" -x cowfs || echo "$DAEMON_PID")
fds() { ls "/proc/$pid/fd" | wc -l; }

echo changed >"$MNT/d1/e1/f"
exec 7<>"$MNT/d2/e2/f" # held open across the eviction
(cd "$MNT/d3/e3" && sleep 4 && cat f >"$T/cwd-read" && echo new >g) &
cwd_job=$!
expect_eq "$(find "$MNT" -type f | wc -l)" 600 "files listed"
busy=$(fds)
sleep 2.5 # the evictor runs once a second
after=$(fds)
[ "$after" -le $((64 + 64 + 32)) ] ||
	fail "the daemon holds $after descriptors (max_dirs=64; $busy during the walk)"
[ "$busy" -gt "$after" ] ||
	fail "nothing was forgotten: $busy descriptors, then $after"

echo "via fd" >&7
exec 7>&-
wait "$cwd_job" || fail "a process in a forgotten directory failed"
expect_eq "$(cat "$T/cwd-read")" 3 "read through a forgotten working directory"
expect_file_content "$MNT/d3/e3/g" new
expect_file_content "$MNT/d1/e1/f" changed
expect_file_content "$MNT/d2/e2/f" "via fd"
find "$MNT" -type f -exec cat {} + | wc -l | grep -qx 601 || fail "second walk"
chmod 600 "$MNT/d4/e4/f"
expect_eq "$(stat -c %a "$MNT/d4/e4/f")" 600 "mode after a chmod"
expect_file_content "$(upper_path d1/e1/f)" changed
expect_file_content "$(upper_path d2/e2/f)" "via fd"
expect_file_content "$(upper_path d3/e3/g)" new
cow_remount -o max_dirs=64
expect_file_content "$MNT/d2/e2/f" "via fd"
expect_eq "$(stat -c %a "$MNT/d4/e4/f")" 600 "mode after remount"
expect_file_content "$MNT/d5/e5/f" 5
