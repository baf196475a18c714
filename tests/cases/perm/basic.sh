#!/usr/bin/env bash
# Permissions through the view (-o allow_other), checked against the same
# operations on a plain copy of BASE: an unprivileged user can do exactly
# what ext4 lets it do; what it creates is its own, with its umask applied;
# a write by it clears set-user-ID and set-group-ID bits as on ext4.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

test_user
U=$TEST_USER
uid=$(id -u "$U")
gid=$(id -g "$U")

cow_setup
chmod 755 "$T"
mkdir -p "$BASE/pub" "$BASE/priv" "$BASE/mine" "$BASE/sticky"
printf 'public' >"$BASE/pub/r"
printf 'secret' >"$BASE/priv/s"
printf 'ro' >"$BASE/pub/ro"
printf 'rw' >"$BASE/pub/rw"
printf 'suid' >"$BASE/mine/suid"
printf 'other' >"$BASE/sticky/others"
chmod 755 "$BASE/pub" && chmod 700 "$BASE/priv" && chmod 644 "$BASE/pub/ro"
chmod 666 "$BASE/pub/rw" && chmod 1777 "$BASE/sticky"
chown "$uid:$gid" "$BASE/mine" && chmod 6777 "$BASE/mine/suid"
chown "$uid:$gid" "$BASE/mine/suid" && chmod 6777 "$BASE/mine/suid"
mkdir -p "$T/oracle"
cp -a "$BASE/." "$T/oracle/"
chmod 755 "$T/oracle"
cow_base_snapshot
cow_mount -o allow_other

# Each operation must succeed or fail as on the ext4 copy.
same() { # DESCRIPTION COMMAND (with {} for the tree)
	local what=$1 cmd=$2 a=0 b=0
	as_user sh -c "${cmd//\{\}/$T/oracle}" >/dev/null 2>&1 || a=$?
	as_user sh -c "${cmd//\{\}/$MNT}" >/dev/null 2>&1 || b=$?
	[ "$((a == 0))" = "$((b == 0))" ] ||
		fail "$what: ext4 status $a, cowfs status $b"
}
same "read a public file" 'cat {}/pub/r'
same "read a private directory" 'ls {}/priv'
same "read a file in it" 'cat {}/priv/s'
same "write a read-only file" 'echo x >>{}/pub/ro'
same "write a world-writable file" 'echo x >>{}/pub/rw'
same "create in a read-only directory" 'touch {}/pub/new'
same "delete in a read-only directory" 'rm -f {}/pub/ro'
same "chmod a file of another user" 'chmod 777 {}/pub/ro'
same "chown a file" 'chown 0 {}/mine/suid'
same "create in a sticky directory" 'touch {}/sticky/u'
same "delete another user's file in a sticky directory" 'rm -f {}/sticky/others'
same "rename over another user's file in a sticky directory" 'mv -f {}/sticky/u {}/sticky/others'
same "create in an own directory" 'mkdir {}/mine/d && touch {}/mine/d/f'
expect_file_content "$MNT/pub/ro" ro
expect_file_content "$MNT/priv/s" secret
expect_file_content "$MNT/sticky/others" other

# Ownership and umask of what the user creates.
as_user sh -c "umask 027; echo hi >$MNT/mine/made; mkdir $MNT/mine/dir; ln -s made $MNT/mine/ln"
expect_eq "$(stat -c '%u:%g %a' "$MNT/mine/made")" "$uid:$gid 640" "created file"
expect_eq "$(stat -c '%u:%g %a' "$MNT/mine/dir")" "$uid:$gid 750" "created directory"
expect_eq "$(stat -c '%u:%g' "$MNT/mine/ln")" "$uid:$gid" "created symlink"
expect_eq "$(stat -c '%u:%g %a' "$(upper_path mine/made)")" "$uid:$gid 640" "created file in the store"

# A write clears set-ID bits as on ext4 (root's write through the view too).
as_user sh -c "echo more >>$T/oracle/mine/suid"
as_user sh -c "echo more >>$MNT/mine/suid"
expect_eq "$(stat -c %a "$MNT/mine/suid")" "$(stat -c %a "$T/oracle/mine/suid")" "set-ID bits after a write"
expect_eq "$(stat -c %a "$BASE/mine/suid")" 6777 "BASE mode"

# Without allow_other, other users are kept out entirely.
cow_remount
as_user ls "$MNT" >/dev/null 2>&1 && fail "another user used a view mounted without allow_other"
true
