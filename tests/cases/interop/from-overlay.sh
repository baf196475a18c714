#!/usr/bin/env bash
# An upper directory written by kernel overlayfs, and one written by
# fuse-overlayfs (whiteouts, opaque directories, redirects of renamed
# directories, metacopy), mounted by cowfs in the overlay-style form, shows
# the same tree as the tool that wrote it did.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

scenario() { # ROOT: the same changes whatever writes them
	printf 'ONE' >"$1/f"
	printf 'new' >"$1/dir/new"
	rm "$1/merged/k"
	mv "$1/moved" "$1/dir/moved-here"
	rm -r "$1/gone"
	mkdir "$1/gone"
	printf 'fresh' >"$1/gone/fresh"
	chmod 600 "$1/c"
	mv "$1/r" "$1/renamed"
	ln -s f "$1/link"
}

cow_setup
mkdir -p "$BASE/dir" "$BASE/merged" "$BASE/moved/inner" "$BASE/gone/x"
printf 'one' >"$BASE/f"
printf 'keep' >"$BASE/merged/k"
printf 'inner' >"$BASE/moved/inner/i"
printf 'x' >"$BASE/gone/x/y"
printf 'chmod' >"$BASE/c"
printf 'rename me' >"$BASE/r"
cow_base_snapshot
command -v fuse-overlayfs >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fuse-overlayfs >/dev/null ||
	fail "cannot install fuse-overlayfs"

check_upper() { # NAME UPPER WORK VIEW
	"$COWFS" src "$MNT" -f -o "lowerdir=$BASE,upperdir=$2,workdir=$3" >>"$LOG" 2>&1 &
	DAEMON_PID=$!
	wait_mounted "$MNT"
	expect_eq "$(view_tree "$MNT")" "$4" "cowfs view of the upper written by $1"
	cow_umount
}

# kernel overlayfs
mkdir -p "$T/k/upper" "$T/k/work" "$T/k/mnt" "$T/k/cw"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$T/k/upper,workdir=$T/k/work,redirect_dir=on,metacopy=on" "$T/k/mnt"
scenario "$T/k/mnt"
kview=$(view_tree "$T/k/mnt")
umount "$T/k/mnt"
getfattr -R -d -m 'trusted.overlay.redirect' "$T/k/upper" 2>/dev/null | grep -q redirect ||
	fail "kernel overlayfs wrote no redirect (the case would not test them)"
check_upper "kernel overlayfs" "$T/k/upper" "$T/k/cw" "$kview"

# fuse-overlayfs
mkdir -p "$T/fo/upper" "$T/fo/work" "$T/fo/mnt" "$T/fo/cw"
fuse-overlayfs -o "lowerdir=$BASE,upperdir=$T/fo/upper,workdir=$T/fo/work" "$T/fo/mnt" 2>/dev/null
scenario "$T/fo/mnt"
foview=$(view_tree "$T/fo/mnt")
fusermount3 -u "$T/fo/mnt"
check_upper fuse-overlayfs "$T/fo/upper" "$T/fo/cw" "$foview"

# Whiteouts as ".wh.NAME" files and ".wh..wh..opq" (what fuse-overlayfs
# writes where it cannot make device nodes) are honoured and never shown.
mkdir -p "$T/wh/upper/merged" "$T/wh/upper/gone" "$T/wh/cw"
: >"$T/wh/upper/.wh.f"
: >"$T/wh/upper/merged/.wh.k"
: >"$T/wh/upper/gone/.wh..wh..opq"
printf 'fresh' >"$T/wh/upper/gone/fresh"
"$COWFS" src "$MNT" -f -o "lowerdir=$BASE,upperdir=$T/wh/upper,workdir=$T/wh/cw" >>"$LOG" 2>&1 &
DAEMON_PID=$!
	wait_mounted "$MNT"
expect_absent "$MNT/f"
expect_absent "$MNT/merged/k"
expect_absent "$MNT/.wh.f"
expect_eq "$(ls -A "$MNT/gone")" fresh "opaque directory by marker file"
expect_eq "$(ls -A "$MNT/merged")" "" "merged directory listing"
ls -A "$MNT" | grep -q '^\.wh\.' && fail "a marker file is listed"
printf 'again' >"$MNT/f"
expect_file_content "$MNT/f" again
cow_umount
