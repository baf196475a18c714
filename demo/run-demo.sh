#!/usr/bin/env bash
# run-demo.sh BUILD_DIR: the `make demo` walk-through. Builds a small BASE
# tree in a temporary directory, mounts a cowfs view of it, replays the
# classic copy-on-write failure case (BUILD_DIR/demo/cowfs-demo) on one of
# its files, then shows that BASE is untouched and where the changes went
# in STORE, and unmounts. Exit status: 0 when every check passed.
set -euo pipefail

prog=run-demo.sh
die() {
    echo "$prog: $*" >&2
    exit 1
}

[ $# -eq 1 ] || {
    echo "usage: $prog BUILD_DIR   (normally run as: make demo)" >&2
    exit 2
}
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
for exe in "$build/cowfs" "$build/demo/cowfs-demo"; do
    [ -x "$exe" ] || die "$exe is missing: build first (make build)"
done
# The commands shown below are the ones run: cowfs and cowfs-demo from
# this build, on paths relative to the scratch directory.
PATH=$build:$build/demo:$PATH

# ---- can this user mount a FUSE filesystem? ----
[ -e /dev/fuse ] ||
    die "/dev/fuse does not exist: load the module (modprobe fuse) or, in" \
        "a container, pass the device in (--device /dev/fuse)"
if [ "$(id -u)" != 0 ]; then
    if ! { [ -r /dev/fuse ] && [ -w /dev/fuse ]; }; then
        die "cannot open /dev/fuse as $(id -un): run as root (sudo make" \
            "demo) or give your user read-write access to /dev/fuse"
    fi
    command -v fusermount3 >/dev/null ||
        die "fusermount3 is missing: install the fuse3 package or run as root"
fi
for tool in getfattr mountpoint sha256sum fmt; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing (Debian packages: attr, util-linux," \
            "coreutils); make demo installs them"
done

# ---- presentation ----
if [ -t 1 ]; then
    bold=$'\e[1m' red=$'\e[1;31m' green=$'\e[1;32m' off=$'\e[0m'
else
    bold='' red='' green='' off=''
fi
step=0
heading() {
    step=$((step + 1))
    printf '\n%s== %d. %s ==%s\n' "$bold" "$step" "$*" "$off"
}
note() {
    printf '%s\n' "$*" | fmt -w 76
}
# Prints a command, then runs it.
run() {
    printf '$ %s\n' "$*"
    "$@"
}
good() {
    printf '%sOK:%s %s\n' "$green" "$off" "$*"
}
failures=0
bad() {
    printf '%sFAILED:%s %s\n' "$red" "$off" "$*"
    failures=$((failures + 1))
}

# ---- scratch directory, always cleaned up ----
T=$(mktemp -d "${TMPDIR:-/tmp}/cowfs-demo.XXXXXX")
BASE=$T/base STORE=$T/store MNT=$T/view
cleanup() {
    local rc=$?
    cd /
    if mountpoint -q "$MNT" 2>/dev/null; then
        cowfs umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null ||
            fusermount3 -uz "$MNT" 2>/dev/null || true
    fi
    if mountpoint -q "$MNT" 2>/dev/null; then
        echo "$prog: $MNT is still mounted; left $T in place" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T"

# Data and metadata of every BASE entry (not atime), one line each.
snapshot_base() {
    (
        cd "$BASE"
        find . -printf '%p %y %m %U:%G %s mtime=%T@ ctime=%C@ -> %l\n' |
            LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        getfattr -R -h -d -m - . 2>/dev/null || true
    )
}

sum_of() {
    sha256sum <"$1" | cut -d' ' -f1
}

heading "A small BASE tree: the files to protect"
mkdir -p "$BASE/notes" "$STORE" "$MNT"
printf 'hello, world\n' >"$BASE/greeting.txt"
printf 'water the plants\nbuy milk\n' >"$BASE/notes/todo.txt"
printf 'an old note, soon deleted through the view\n' >"$BASE/notes/old.txt"
printf 'This tree is BASE. cowfs shows it, but never writes it.\n' \
    >"$BASE/README"
ln -s notes/todo.txt "$BASE/todo"
note "Working in $T: base/ is BASE, store/ receives the changes, view/ is" \
    "the mount point."
run ls -lR base
echo
run cat base/greeting.txt
run sha256sum base/greeting.txt
base_before=$(snapshot_base)
greeting_sum=$(sum_of base/greeting.txt)

heading "Mount the view"
run cowfs mount base store view
note "The command returns once the view is ready; the daemon keeps running" \
    "in the background. store/ did not exist: cowfs created it."
run ls -l view view/notes
ino_before=$(stat -c %i view/greeting.txt)

heading "The classic failure case, step by step"
note "A copy-on-write filesystem copies a file into its store when the file" \
    "is first changed. Descriptors and shared mappings made before that" \
    "moment must see every later change, and read() must see what was" \
    "stored through a mapping. Kernel overlayfs and several FUSE tools" \
    "leave such early views on the original. cowfs-demo prints every view" \
    "of the file after each step next to what ext4 would show."
echo
if run cowfs-demo view/greeting.txt; then
    good "the mappings and read() agreed at every step"
else
    bad "cowfs-demo saw views that disagree (see above)"
fi

heading "BASE still holds the original"
run cat base/greeting.txt
echo "sha256 before the demo: $greeting_sum"
echo "sha256 after the demo:  $(sum_of base/greeting.txt)"
if [ "$(sum_of base/greeting.txt)" = "$greeting_sum" ]; then
    good "base/greeting.txt is unchanged"
else
    bad "base/greeting.txt changed"
fi

heading "Where the change lives: STORE"
note "store/upper/ holds the changed tree in the upper-directory format of" \
    "kernel overlayfs. Only the file that was written has been copied."
run find store/upper -ls
echo
run cat store/upper/greeting.txt || true
if [ "$(cat store/upper/greeting.txt 2>/dev/null)" = "4321o, world" ]; then
    good "the store copy holds the final content"
else
    bad "the store copy does not hold \"4321o, world\""
fi
echo
note "The copy records the BASE inode it came from, so the file keeps its" \
    "inode number in the view:"
run getfattr -d -m - store/upper/greeting.txt || true
ino_after=$(stat -c %i view/greeting.txt)
echo "inode number in the view before the first write: $ino_before, now:" \
    "$ino_after"
if [ "$ino_before" = "$ino_after" ]; then
    good "st_ino did not change across the copy"
else
    bad "st_ino changed across the copy"
fi
echo
run cat view/greeting.txt

heading "Delete a file through the view"
run rm view/notes/old.txt
run ls -l view/notes
echo
note "STORE records the deletion as a whiteout: a character device 0:0" \
    "under the deleted name, which hides the BASE entry."
run find store/upper -ls
if [ -c store/upper/notes/old.txt ] &&
    [ "$(stat -c %t:%T store/upper/notes/old.txt)" = 0:0 ]; then
    good "store/upper/notes/old.txt is a whiteout"
else
    bad "no whiteout at store/upper/notes/old.txt"
fi
echo
note "BASE keeps the file:"
run ls -l base/notes
run cat base/notes/old.txt

heading "Unmount"
run cowfs umount view
if mountpoint -q view; then
    bad "view/ is still mounted"
else
    good "view/ is unmounted; store/ keeps the changes for the next mount"
fi

heading "BASE, data and metadata, before and after"
if [ "$(snapshot_base)" = "$base_before" ]; then
    good "every BASE entry kept its content, mode, owner, size, mtime," \
        "ctime and xattrs"
else
    bad "BASE changed:"
    diff <(echo "$base_before") <(snapshot_base) || true
fi

echo
if [ "$failures" -eq 0 ]; then
    printf '%sDemo passed.%s\n' "$green" "$off"
else
    printf '%sDemo failed: %d check(s) did not pass.%s\n' "$red" \
        "$failures" "$off"
    exit 1
fi
