#!/usr/bin/env bash
# Environment failures are named, one line each, and change nothing: a
# STORE on a filesystem without extended attributes; for an unprivileged
# user a mount point of someone else, allow_other without user_allow_other
# in /etc/fuse.conf, and no fusermount3. (No /dev/fuse: cli/errors.sh.)
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base' >"$BASE/f"
cow_base_snapshot

refused() { # PATTERN OUTPUT
	[ "$(wc -l <<<"$2")" = 1 ] || fail "more than one line: $2"
	grep -Eq "^cowfs: .*($1)" <<<"$2" || fail "said '$2', expected /$1/"
	findmnt --mountpoint "$MNT" >/dev/null && fail "mounted anyway"
	true
}

# No xattrs: ramfs has none.
mkdir -p "$T/ramfs"
mount -t ramfs ramfs "$T/ramfs"
out=$("$COWFS" mount "$BASE" "$T/ramfs/store" "$MNT" 2>&1) && fail "mount with a STORE on ramfs"
refused "does not support .*extended attributes" "$out"
[ -z "$(ls -A "$T/ramfs")" ] || fail "the refused mount left files on ramfs"
umount "$T/ramfs"

# Unprivileged users.
test_user
U=$TEST_USER
fuse_mode=$(stat -c %a /dev/fuse)
trap 'rc=$?; chmod "$fuse_mode" /dev/fuse; (exit $rc); _cow_exit' EXIT
chmod 0666 /dev/fuse
chmod 755 "$T"
mkdir -p "$T/u/base" "$T/u/mnt"
chown -R "$U:" "$T/u"

out=$(as_user "$COWFS" mount "$T/u/base" "$T/u/store" "$MNT" 2>&1) && fail "mount on someone else's mount point"
refused "belongs to uid 0" "$out"
expect_absent "$T/u/store"

printf '# nothing allowed\n' >"$T/fuse.conf"
out=$(unshare -m sh -c 'mount --bind "$1" /etc/fuse.conf && exec setpriv --reuid="$2" --regid="$3" --clear-groups -- "$4" mount "$5/base" "$5/store" "$5/mnt" -o allow_other' \
	sh "$T/fuse.conf" "$(id -u "$U")" "$(id -g "$U")" "$COWFS" "$T/u" 2>&1) &&
	fail "allow_other without user_allow_other"
refused "user_allow_other" "$out"
expect_absent "$T/u/store"

out=$(unshare -m sh -c 'mount --bind /dev/null /usr/bin/fusermount3 && exec setpriv --reuid="$1" --regid="$2" --clear-groups -- env PATH=/usr/bin:/bin "$3" mount "$4/base" "$4/store" "$4/mnt"' \
	sh "$(id -u "$U")" "$(id -g "$U")" "$COWFS" "$T/u" 2>&1) && fail "mount without fusermount3"
refused "fusermount3" "$out"
expect_absent "$T/u/store"

# ... and with no fusermount3 at all: /usr/bin emptied in the namespace
# (setpriv is copied out first; cowfs' libraries live in /usr/lib).
cp "$(command -v setpriv)" "$T/setpriv"
out=$(unshare -m /bin/bash -c 'mount -t tmpfs none /usr/bin && exec "$1" --reuid="$2" --regid="$3" --clear-groups -- "$4" mount "$5/base" "$5/store" "$5/mnt"' \
	sh "$T/setpriv" "$(id -u "$U")" "$(id -g "$U")" "$COWFS" "$T/u" 2>&1) && fail "mount with no fusermount3"
refused "fusermount3 is not installed" "$out"
expect_absent "$T/u/store"
