#!/usr/bin/env bash
# Symlinks that point out of the trees, at "..", at "/", at themselves or
# each other, dangling, with a 4095-byte or multi-line target, in BASE and
# made through the view. Every operation the daemon performs on a link
# (lchown, utimes without following, trusted xattrs, rename, rename over,
# hard link, unlink, copy-up of the directory holding it, rename of that
# directory, discard, commit) acts on the link itself: a canary tree
# outside BASE and STORE keeps its data, modes, owners, times and xattrs,
# and the daemon stays up. A commit below a BASE directory that was
# replaced by a link to the canary while unmounted does not follow it.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
C="$T/canary"
mkdir -p "$C/sub" "$BASE/d/e"
printf 'canary' >"$C/file"
chmod 640 "$C/file"
setfattr -n trusted.c -v 1 "$C/file"
canary() {
	(
		cd "$C" && find . -printf '%p %y %m %U %G %s %T@ %C@ %l\n' | sort
		cat file sub/* 2>/dev/null
		getfattr -R -P -d -m - . 2>/dev/null
	) | sha256sum
}
before=$(canary)
long=$(printf 'L%.0s' $(seq 1 4095))
ln -s "$C/file" "$BASE/abs"
ln -s "$C" "$BASE/absdir"
ln -s ../../canary/file "$BASE/d/rel"   # out through ../..
ln -s .. "$BASE/d/e/up"
ln -s / "$BASE/root"
ln -s self "$BASE/self"
ln -s ping "$BASE/pong" && ln -s pong "$BASE/ping"
ln -s "$T/nowhere" "$BASE/dangling"
ln -s "$long" "$BASE/long"
ln -s "$(printf 'a\nb')" "$BASE/nl"
printf 'f' >"$BASE/d/f"
mkdir "$BASE/cd" && printf 'c' >"$BASE/cd/c"
cow_base_snapshot
cow_mount
after() { # STEP: the canary is as it was and the daemon is up
	expect_eq "$(canary)" "$before" "canary after $1"
	[ -z "$DAEMON_PID" ] || kill -0 "$DAEMON_PID" 2>/dev/null ||
		fail "the daemon died at $1"
}

# what the daemon shows
expect_eq "$(readlink "$MNT/abs")" "$C/file" "readlink abs"
expect_eq "$(readlink "$MNT/long")" "$long" "a 4095-byte target"
expect_eq "$(readlink "$MNT/nl")" "$(printf 'a\nb')" "a two-line target"
expect_errno "Too many levels of symbolic links" cat "$MNT/ping"
expect_errno "Too many levels of symbolic links" cat "$MNT/self"
expect_errno "No such file or directory" cat "$MNT/dangling"
after "lookups"

# metadata of the links themselves: copied up as links
chown -h 1:2 "$MNT/abs" "$MNT/absdir" "$MNT/d/rel" "$MNT/d/e/up" "$MNT/root" "$MNT/self" "$MNT/ping"
for l in abs absdir d/rel d/e/up root self ping; do
	expect_eq "$(stat -c %u:%g "$MNT/$l")" 1:2 "owner of $l"
	[ -L "$(upper_path "$l")" ] || fail "$l is not a link in STORE"
	expect_eq "$(readlink "$(upper_path "$l")")" "$(readlink "$BASE/$l")" "target of $l in STORE"
done
touch -h -d @978307200 "$MNT/abs" "$MNT/dangling" "$MNT/long"
expect_eq "$(stat -c %Y "$MNT/long")" 978307200 "mtime of a link"
setfattr -h -n trusted.t -v 1 "$MNT/absdir"
setfattr -h -n trusted.t -v 2 "$MNT/pong"
expect_eq "$(getfattr --absolute-names -h --only-values -n trusted.t "$MNT/pong")" 2 "xattr of a link"
after "chown, utimes and xattrs of links"

# names: rename, rename over, hard link, unlink
mv "$MNT/abs" "$MNT/abs2"
mv "$MNT/d/rel" "$MNT/rel2"
ln -P "$MNT/absdir" "$MNT/hard"
expect_eq "$(stat -c %h "$MNT/hard")" 2 "links of a hard-linked symlink"
expect_eq "$(readlink "$MNT/hard")" "$C" "target of the hard link"
printf 'x' >"$MNT/plain"
mv -T "$MNT/plain" "$MNT/root"
expect_file_content "$MNT/root" x
mv -T "$MNT/self" "$MNT/d/f"
expect_eq "$(readlink "$MNT/d/f")" self "a link renamed over a file"
rm "$MNT/dangling" "$MNT/ping"
expect_absent "$MNT/ping"
expect_errno "No such file or directory" cat "$MNT/pong"
after "renames and unlinks of links"

# directories holding links: copied up, renamed
chmod 700 "$MNT/d/e"
mv "$MNT/d" "$MNT/d2"
expect_eq "$(readlink "$MNT/d2/e/up")" .. "a link in a renamed directory"
after "copy-up and rename of directories holding links"

# links made through the view, then handled
ln -s "$C" "$MNT/v1"
ln -s .. "$MNT/d2/v2"
ln -s / "$MNT/v3"
ln -s "$long" "$MNT/v4"
ln -s "$(printf 'x\ny')" "$MNT/v5"
expect_errno "File name too long" ln -s "${long}L" "$MNT/v6"
chown -h 3:4 "$MNT/v1" "$MNT/d2/v2" "$MNT/v3"
touch -h -d @978307200 "$MNT/v4"
mv "$MNT/v5" "$MNT/d2/v5"
expect_eq "$(readlink "$(upper_path v4)")" "$long" "a 4095-byte target in STORE"
expect_eq "$(stat -c %u:%g "$(upper_path v1)")" 3:4 "owner of a new link in STORE"
after "links made through the view"

# management commands on a view full of links
"$COWFS" status "$MNT" >"$T/status" || fail "status: $(cat "$T/status")"
grep -q abs2 "$T/status" || fail "status does not list abs2: $(cat "$T/status")"
rc=0 && "$COWFS" diff "$MNT" v1 >"$T/diff" 2>&1 || rc=$?
expect_eq "$rc" 1 "diff of a new link ($(cat "$T/diff"))"
"$COWFS" discard "$MNT" v1 >/dev/null
expect_absent "$MNT/v1"
after "status, diff and discard"

# commit writes links into BASE as links (BASE changes from here on, as
# asked)
printf 'n' >"$MNT/cd/new"
cow_umount
"$COWFS" commit "$STORE" v4 v3 >/dev/null # (a long target, then a short one)
[ -L "$BASE/v3" ] && [ "$(readlink "$BASE/v3")" = / ] || fail "v3 in BASE after commit"
expect_eq "$(readlink "$BASE/v4")" "$long" "v4 in BASE after commit"
# a link with two names (ln in the view) would be split: refused
"$COWFS" commit "$STORE" hard >"$T/out" 2>&1 && fail "hard link committed"
grep -q "hard-linked files cannot be committed" "$T/out" || fail "refusal: $(cat "$T/out")"
[ ! -e "$BASE/hard" ] && [ ! -L "$BASE/hard" ] || fail "hard in BASE after the refusal"
after "commit of links"
# A BASE directory replaced by a link to the canary while unmounted: a
# commit below it does not follow the link; as the view shows a directory
# there, the commit makes one in BASE in place of the link.
mv "$BASE/cd" "$T/cd.real"
ln -s "$C" "$BASE/cd"
"$COWFS" commit "$STORE" cd/new >/dev/null
[ ! -e "$C/new" ] || fail "commit wrote into the canary"
[ -d "$BASE/cd" ] && [ ! -L "$BASE/cd" ] || fail "BASE/cd is not a directory after the commit"
expect_file_content "$BASE/cd/new" n
after "commit below a BASE link"
cow_base_snapshot
cow_mount
expect_file_content "$MNT/cd/new" n
expect_eq "$(readlink "$MNT/v3")" / "v3 after commit"
after "the end"
