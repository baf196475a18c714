#!/usr/bin/env bash
# Permissions through the view (-o allow_other) against a plain copy of
# BASE as the oracle: an unprivileged user runs the same commands on both,
# and each must succeed or fail alike, with the same message (EACCES and
# EPERM told apart). Covered: directories without search or read
# permission, the group class taking precedence over others, writes,
# truncates and utimes of files not owned, chmod/chgrp/chown by an owner
# who is not root (set-group-ID dropped when not in the group), set-ID bits
# cleared by a write or a truncate of another user (kept on root's write,
# cleared by root's chown), sticky directories (the directory's owner may
# delete, others not), moving a directory that is not writable to another
# parent, exec bits, protected hard links, user and trusted xattrs,
# set-group-ID directories (group and bit inherited) with a umask. The
# trees must end up identical, and copied-up directories keep BASE's
# owner and mode in STORE.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

test_user
U=$(id -u "$TEST_USER")
G=$(id -g "$TEST_USER")
cow_setup
chmod 755 "$T"
B=$BASE
mkdir -p "$B/noexec" "$B/nolist" "$B/grp" "$B/pubw" "$B/mine" "$B/sgid" \
	"$B/sticky" "$B/sticky2" "$B/movedir/sub" "$B/ro_dir" "$B/exec"
mk() { # PATH MODE OWNER [CONTENT]
	printf '%s' "${4:-x}" >"$B/$1"
	chown "$3" "$B/$1"
	chmod "$2" "$B/$1"
}
mk noexec/f 644 0:0
mk nolist/known 644 0:0
mk grp/g640 640 "0:$G" g640
mk grp/g604 604 "0:$G" g604
mk grp/g646 646 "0:$G"
mk pubw/rootfile 644 0:0
mk pubw/rw666 666 0:0
mk pubw/rootsuid 6777 0:0
mk pubw/rootsuid2 6777 0:0
mk pubw/secret 600 0:0
mk pubw/other000 000 1:1
mk pubw/rootsuid3 6755 0:0
mk mine/own 644 "$U:$G"
mk mine/own2 644 "$U:$G"
mk mine/owngs 755 "$U:0"
mk mine/ro000 000 0:0
mk sticky/others 644 1:1
mk sticky2/others2 644 1:1
mk ro_dir/f 644 0:0
mk exec/script 744 0:0 '#!/bin/sh
echo hi'
mk exec/script2 755 0:0 '#!/bin/sh
echo hi'
chmod 766 "$B/noexec"
chmod 711 "$B/nolist"
chmod 777 "$B/pubw" "$B/movedir"
chown "$U:$G" "$B/mine" "$B/sticky"
chmod 2777 "$B/sgid" && chown 0:1 "$B/sgid"
chmod 1777 "$B/sticky" "$B/sticky2"
mkdir -p "$T/oracle"
cp -a "$B/." "$T/oracle/"
chmod 755 "$T/oracle"
cow_base_snapshot
cow_mount -o allow_other

# same DESCRIPTION COMMAND ({} is the tree): run as the user on the ext4
# copy and on the view; status and message must agree.
same() {
	local what=$1 cmd=$2 a=0 b=0 ea eb
	ea=$(as_user sh -c "umask 027; ${cmd//\{\}/$T/oracle}" 2>&1 >/dev/null) || a=$?
	eb=$(as_user sh -c "umask 027; ${cmd//\{\}/$MNT}" 2>&1 >/dev/null) || b=$?
	ea=${ea//$T\/oracle/\{\}}
	eb=${eb//$MNT/\{\}}
	[ "$a" = "$b" ] && [ "$ea" = "$eb" ] ||
		fail "$what: ext4 $a '$ea', cowfs $b '$eb'"
}
same "list a directory without search permission" 'ls {}/noexec'
same "read in a directory without search permission" 'cat {}/noexec/f'
same "list a directory without read permission" 'ls {}/nolist'
same "read a known name in it" 'cat {}/nolist/known'
same "read with group read" 'cat {}/grp/g640'
same "read with the group class denying what others may" 'cat {}/grp/g604'
same "write with the group class denying what others may" 'echo x >>{}/grp/g646'
same "write a file of root" 'echo x >>{}/pubw/rootfile'
same "truncate a file of root" 'truncate -s 0 {}/pubw/rootfile'
same "write a set-ID file of root that others may write" 'echo x >>{}/pubw/rootsuid'
same "truncate a set-ID file of root that others may write" 'truncate -s 1 {}/pubw/rootsuid2'
same "set times of a writable file not owned" 'touch -d @1 {}/pubw/rw666'
same "touch a writable file not owned" 'touch {}/pubw/rw666'
same "touch a file not writable" 'touch {}/pubw/rootfile'
same "chmod a file not owned" 'chmod 600 {}/pubw/rootfile'
same "set-group-ID on an own file of another group" 'chmod 2755 {}/mine/owngs'
same "chgrp to a group not a member of" 'chgrp 1 {}/mine/own'
same "chgrp to the own group" "chgrp $G {}/mine/own2"
same "chown to oneself" "chown $U {}/mine/own2"
same "chown to another user" 'chown 1 {}/mine/own'
same "delete a mode-000 file of root in an own directory" 'rm -f {}/mine/ro000'
same "delete a file of another user in a writable directory" 'rm -f {}/pubw/other000'
same "delete another's file in an own sticky directory" 'rm -f {}/sticky/others'
same "delete another's file in a sticky directory" 'rm -f {}/sticky2/others2'
same "rename another's file in a sticky directory" 'mv {}/sticky2/others2 {}/sticky2/x'
same "create and delete an own file in a sticky directory" 'touch {}/sticky2/own3 && rm {}/sticky2/own3'
same "move a directory not writable to another parent" 'mv {}/movedir/sub {}/pubw/sub'
same "rename a directory not writable in its parent" 'mv {}/movedir/sub {}/movedir/sub2'
same "move out of a directory not writable" 'mv {}/ro_dir/f {}/pubw/f'
same "run a script without exec permission" '{}/exec/script'
same "run a script with exec permission" '{}/exec/script2'
same "hard link to a file neither owned nor readable" 'ln {}/pubw/secret {}/pubw/secret.ln'
same "set a user xattr on a file not writable" 'setfattr -n user.x -v 1 {}/pubw/rootfile'
same "set a user xattr on a writable file" 'setfattr -n user.x -v 1 {}/pubw/rw666'
same "set a trusted xattr" 'setfattr -n trusted.x -v 1 {}/pubw/rw666'
same "read a user xattr" 'getfattr -n user.x {}/pubw/rw666'
same "create under a set-group-ID directory" 'mkdir {}/sgid/d && touch {}/sgid/f && mkfifo {}/sgid/p && mkdir {}/sgid/d/e'
same "create in a directory of the BASE root" 'touch {}/pubw/made && mkdir {}/pubw/madedir'
# root: a write keeps set-ID bits, a chown drops them
for t in "$T/oracle" "$MNT"; do
	echo x >>"$t/pubw/rootsuid3"
	chown 1:1 "$t/mine/owngs"
	chown 0:0 "$t/pubw/rootsuid3"
done

# A POSIX ACL granting the user read access is honoured by ext4 but not
# through the view (EACCES): cowfs does not enable FUSE_POSIX_ACL, so the
# kernel checks mode bits only. Known bug, left out of this case.

tree() {
	(
		cd "$1" || exit 1
		find . \( -type d -printf '%P d %m %U %G\n' \) -o -printf '%P %y %m %U %G %n %s\n'
		find . -type f ! -perm -u=r -prune -o -type f -exec sha256sum {} + 2>/dev/null
	) | LC_ALL=C sort
}
view=$(tree "$MNT")
[ "$view" = "$(tree "$T/oracle")" ] || {
	diff <(echo "$view") <(tree "$T/oracle") >&2
	fail "the view and the oracle differ after the same operations"
}
for d in pubw sgid mine sticky2; do
	[ -d "$(upper_path "$d")" ] || fail "$d was not copied up"
	expect_eq "$(stat -c '%a %u %g' "$(upper_path "$d")")" "$(stat -c '%a %u %g' "$BASE/$d")" \
		"owner and mode of $d in STORE"
done
expect_eq "$(stat -c '%u %g' "$(upper_path sgid/f)")" "$U 1" "a file made under a set-group-ID directory, in STORE"
cow_remount -o allow_other
view2=$(tree "$MNT")
[ "$view2" = "$view" ] || fail "the view changed across a remount"
