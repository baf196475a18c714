#!/usr/bin/env bash
# Hostile input: symlinks out of the tree, to "..", absolute and looping;
# names of 255 bytes, with newlines and invalid UTF-8; a tree deeper than
# PATH_MAX; a store tampered with while unmounted. The daemon never writes
# outside STORE (a canary outside both trees stays as it was), never dies,
# and refuses what it cannot serve with a clear error.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$T/canary" "$BASE/dir/sub"
printf 'canary' >"$T/canary/file"
canary() { (cd "$T/canary" && find . -printf '%p %m %s %T@\n' | sort && cat file) | sha256sum; }
before=$(canary)
ln -s "$T/canary" "$BASE/abs"
ln -s ../../../canary "$BASE/dir/sub/up"
ln -s loop "$BASE/loop"
ln -s .. "$BASE/dir/parent"
printf 'x' >"$BASE/dir/sub/f"
long=$(printf 'n%.0s' $(seq 1 255))
printf 'long' >"$BASE/$long"
printf 'nl' >"$BASE/$(printf 'new\nline')"
printf 'utf' >"$BASE/$(printf 'bad\xff\xfe')"
cow_base_snapshot
cow_mount

# The daemon acts on the links themselves, never on what they name.
chown -h 1:1 "$MNT/abs" "$MNT/dir/sub/up"
setfattr -h -n trusted.t -v 1 "$MNT/loop"
mv "$MNT/abs" "$MNT/abs2"
mv "$MNT/dir/parent" "$MNT/parent2"
rm "$MNT/dir/sub/up"
ln -s /etc "$MNT/etc-link"
ln -s "$T/canary/file" "$MNT/dir/canary-link"
expect_eq "$(readlink "$MNT/abs2")" "$T/canary" "moved link"
expect_eq "$(stat -c %u "$(upper_path abs2)")" 1 "chown -h reached the link in STORE"
[ -L "$(upper_path etc-link)" ] || fail "new symlink not in STORE"
expect_errno "Too many levels of symbolic links" cat "$MNT/loop"
expect_eq "$(canary)" "$before" "canary after link operations"

# Odd names: listed, read, copied up, renamed, removed.
expect_file_content "$MNT/$long" long
printf 'LONG' >"$MNT/$long"
expect_file_content "$(upper_path "$long")" LONG
expect_file_content "$MNT/$(printf 'new\nline')" nl
mv "$MNT/$(printf 'new\nline')" "$MNT/$(printf 'other\nline')"
rm "$MNT/$(printf 'bad\xff\xfe')"
expect_absent "$MNT/$(printf 'bad\xff\xfe')"
touch "$MNT/${long:0:254}x" || fail "a 255-byte name"
expect_errno "File name too long" touch "$MNT/${long}x"

# Deeper than PATH_MAX, created through the view and copied up from BASE.
comp=dddddddddddddddddddddddddddddddddddddddd # 40 bytes
(cd "$BASE/dir" && for _ in $(seq 1 120); do mkdir "$comp" && cd "$comp"; done && printf deep >f)
cow_base_snapshot
(
	cd "$MNT/dir"
	for _ in $(seq 1 120); do cd "$comp"; done
	expect_eq "$(cat f)" deep "deep BASE file"
	printf 'DEEP' >f
	mkdir -p more/more && printf new >more/more/g
) || fail "deep tree through the view"
(cd "$STORE/upper/dir" && for _ in $(seq 1 120); do cd "$comp"; done && [ "$(cat f)" = DEEP ]) ||
	fail "deep copy-up not in STORE"
kill -0 "$DAEMON_PID" || fail "the daemon died"
cow_umount
(cd "$BASE/dir" && for _ in $(seq 1 120); do cd "$comp"; done && [ "$(cat f)" = deep ] && [ ! -e more ]) ||
	fail "the deep BASE file changed" # (beyond what base_hash can read)

# A tampered store, while unmounted.
mkdir -p "$T/outside"
rm "$(upper_path dir/sub/f)" 2>/dev/null || true
ln -s "$T/outside" "$STORE/upper/planted"    # a symlink where a directory might be
setfattr -n trusted.overlay.redirect -v /../../outside "$STORE/upper/parent2" 2>/dev/null || true
mkdir -p "$STORE/upper/redir" && setfattr -n trusted.overlay.redirect -v ../../../outside "$STORE/upper/redir"
cow_mount
expect_eq "$(readlink "$MNT/planted")" "$T/outside" "planted symlink shows as a symlink"
ls "$MNT/redir" >/dev/null 2>&1 || true
printf 'w' >"$MNT/redir/new" 2>/dev/null || true
[ -z "$(ls -A "$T/outside")" ] || fail "a tampered redirect made the daemon write outside"
kill -0 "$DAEMON_PID" || fail "the daemon died on a tampered store"
cow_umount
mv "$STORE/work" "$STORE/work.real" && ln -s "$T/outside" "$STORE/work"
out=$("$COWFS" mount "$BASE" "$STORE" "$MNT" 2>&1) && fail "mounted with work/ a symlink"
grep -q '^cowfs: ' <<<"$out" || fail "no clear refusal: $out"
[ -z "$(ls -A "$T/outside")" ] || fail "the refused mount wrote outside"
rm "$STORE/work" && mv "$STORE/work.real" "$STORE/work"
expect_eq "$(canary)" "$before" "canary at the end"
