#!/usr/bin/env bash
# Times of a file written through a shared mapping, under the writeback
# cache (the default), where the kernel keeps a file's times and sends
# them: a page dirtied through the mapping, utimens() to an old time, a
# write to the same page, msync(MS_SYNC). FUSE writes the dirty pages back
# before it sets the times, so the second write faults and the file is
# modified "now"; the exerciser's oracle (ext4, which would leave the old
# time) is made to do the same, and the replay compares each step. The
# time the view shows must then stay what it is with cold caches and
# after a remount: the daemon's own writes of the pages must not give the
# STORE copy another one.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

EX="$COWFS_BUILD/tests/exerciser/exerciser"
cow_setup
"$EX" --make-base "$BASE" || fail "cannot make BASE"
# an unprivileged daemon's copies are its user's: BASE is too, as the oracle
[ -z "$AS_USER" ] || chown -R "$TEST_USER:" "$BASE"
cp -a "$BASE" "$T/oracle"
cow_base_snapshot # checked at exit: BASE stays as it was
cow_mount
cat >"$T/ops" <<'OPS'
0 w0: open a=f1 s=0 flags=02 mode=0644
1 w0: pwrite s=0 off=0 len=20000 d=0x1234
2 w0: map_keep s=0
3 w0: map_write s=0 off=100 len=5000 mode=01 d=0x5678
4 w0: utimens s=0 t0=1100000000 n0=5 t1=1200000000 n1=7 null=0 flags=00
5 w0: map_write s=0 off=200 len=100 mode=04 d=0x9abc
6 w0: close s=0
7 w0: drop_caches
8 w0: open a=f1 s=1 flags=00 mode=0644
9 w0: check
OPS
"$EX" --view "$MNT" --oracle "$T/oracle" --replay "$T/ops" >"$T/ex.log" 2>&1 ||
	fail "the exerciser found a difference: $(cat "$T/ex.log")"
want=$(stat -c %y "$MNT/w0/f1")
[ "$(stat -c %Y "$MNT/w0/f1")" -gt 1500000000 ] ||
	fail "the mapped write after utimens() left the old time: $want"
drop_caches
expect_eq "$(stat -c %y "$MNT/w0/f1")" "$want" "mtime with cold caches"
cow_remount
expect_eq "$(stat -c %y "$MNT/w0/f1")" "$want" "mtime after remount"
cmp "$MNT/w0/f1" "$T/oracle/w0/f1" || fail "data after remount"
