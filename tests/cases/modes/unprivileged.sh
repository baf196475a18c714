#!/usr/bin/env bash
# Unprivileged: an ordinary user with access to /dev/fuse mounts cowfs over
# directories it owns (through the setuid fusermount3), works in the view,
# remounts, and unmounts with `cowfs umount`. Markers and cowfs' own
# xattrs are in the user.* namespace, and kernel overlayfs mounted with
# -o userxattr shows the same tree from that store.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
[ -u "$(command -v fusermount3)" ] || fail "fusermount3 is not setuid root"
test_user
U=$TEST_USER
fuse_mode=$(stat -c %a /dev/fuse)
trap 'rc=$?; chmod "$fuse_mode" /dev/fuse; (exit $rc); _cow_exit' EXIT
chmod 0666 /dev/fuse
chmod 755 "$T"
H="$T/home"
mkdir -p "$H/base/dir/sub" "$H/mnt"
printf 'one' >"$H/base/f"
printf 'two' >"$H/base/dir/sub/g"
printf 'gone' >"$H/base/del"
chown -R "$U:" "$H"
BASE="$H/base" # the harness checks this BASE's hash at exit
cow_base_snapshot
as_user_env() { as_user env HOME="$H" PATH=/usr/bin:/bin "$@"; }

as_user_env "$COWFS" mount "$H/base" "$H/store" "$H/mnt" || fail "unprivileged mount failed"
MNT="$H/mnt"
as_user_env sh -c "
	umask 022
	printf 'ONE' >$MNT/f
	rm $MNT/del
	mkdir $MNT/new && printf n >$MNT/new/n
	chmod 600 $MNT/f
	ln -s f $MNT/link
	setfattr -n user.mine -v 1 $MNT/new/n
" || fail "the scenario failed as the user"
utree() { as_user_env bash -c "$(declare -f view_tree); view_tree $1"; }
expect_eq "$(as_user_env stat -c %a "$MNT/new" "$MNT/new/n")" "755
644" "modes of new objects (umask 022)"
view=$(utree "$MNT")
as_user_env "$COWFS" umount "$MNT" || fail "cowfs umount as the user"
findmnt --mountpoint "$MNT" >/dev/null && fail "still mounted"

expect_eq "$(stat -c %U "$H/store/upper/f")" "$U" "store files belong to the user"
getfattr -d -m - "$H/store/upper/new" 2>/dev/null | grep -q '^user.overlay.opaque=' &&
	fail "a new directory was marked opaque"
STORE="$H/store"; expect_whiteout del
getfattr -R -d -m '^trusted\.' "$H/store/upper" 2>/dev/null | grep -q . &&
	fail "trusted.* xattrs in an unprivileged store"
grep -qx 'xattr-ns user' "$H/store/meta/format" || fail "format does not record user xattrs"

mkdir -p "$T/kwork" "$T/kmnt"
mount -t overlay overlay -o "userxattr,lowerdir=$H/base,upperdir=$H/store/upper,workdir=$T/kwork" "$T/kmnt" ||
	fail "kernel overlayfs refused the unprivileged store"
kview=$(view_tree "$T/kmnt")
umount "$T/kmnt"
expect_eq "$kview" "$view" "kernel overlayfs -o userxattr view"

# A directory rename is a redirect in user.overlay.* (which cowfs follows;
# kernel overlayfs does not follow redirects under -o userxattr).
as_user_env "$COWFS" mount "$H/base" "$H/store" "$H/mnt"
expect_eq "$(utree "$MNT")" "$view" "view after an unprivileged remount"
expect_eq "$(as_user_env getfattr --only-values -n user.mine "$MNT/new/n")" 1 "user xattr"
as_user_env mv "$MNT/dir" "$MNT/dir2"
as_user_env "$COWFS" umount "$MNT"
getfattr -d -m - "$H/store/upper/dir2" 2>/dev/null | grep -q '^user.overlay.redirect=' ||
	fail "redirect not in user.overlay.*"
as_user_env "$COWFS" mount "$H/base" "$H/store" "$H/mnt"
expect_eq "$(as_user_env cat "$MNT/dir2/sub/g")" two "renamed directory after remount"
as_user_env "$COWFS" umount "$MNT"
