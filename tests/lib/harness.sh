# shellcheck shell=bash
# Test harness for cowfs scenario cases: sourced by every tests/cases/*/*.sh.
# Each case gets a private BASE, STORE and mount point, a daemon in the
# foreground whose log is checked for sanitizer reports, and an EXIT trap
# that unmounts, checks the BASE hash (when a snapshot was taken) and
# cleans up. A case passes by exiting 0.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COWFS_BUILD=${COWFS_BUILD:-build}
case "$COWFS_BUILD" in /*) ;; *) COWFS_BUILD="$ROOT/$COWFS_BUILD" ;; esac
COWFS="$COWFS_BUILD/cowfs"
PROBES="$COWFS_BUILD/tests/probes"
COWTOOL="$COWFS_BUILD/tests/lib/cowtool"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

T= BASE= STORE= MNT= LOG= DAEMON_PID= BASE_SNAPSHOT=
# COWFS_AS_USER=1 (tests/run-tests.sh --user): the daemon runs as an
# unprivileged user, mounted with allow_other so that the case (root) can
# use the view; markers are then user.overlay.* (OVL below).
AS_USER=${COWFS_AS_USER:-}
OVL=trusted.overlay
[ -z "$AS_USER" ] || OVL=user.overlay

fail() {
	echo "FAIL: $* (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]})" >&2
	exit 1
}

expect_eq() { # ACTUAL EXPECTED MSG
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

expect_file_content() { # PATH CONTENT
	[ -f "$1" ] || fail "$1 is missing"
	expect_eq "$(cat "$1")" "$2" "content of $1"
}

expect_absent() {
	[ ! -e "$1" ] && [ ! -L "$1" ] || fail "$1 exists"
}

# expect_errno ERRNAME CMD...: CMD must fail and say strerror(ERRNAME)
expect_errno() {
	local want=$1 msg out
	shift
	case "$want" in
	ENOENT) msg="No such file or directory" ;;
	EEXIST) msg="File exists" ;;
	EACCES) msg="Permission denied" ;;
	EPERM) msg="Operation not permitted" ;;
	ENOTEMPTY) msg="Directory not empty" ;;
	ENOTDIR) msg="Not a directory" ;;
	EISDIR) msg="Is a directory" ;;
	EXDEV) msg="Invalid cross-device link" ;;
	ENODATA) msg="No data available|No such attribute" ;;
	EIO) msg="Input/output error|I/O error" ;;
	*) msg=$want ;;
	esac
	if out=$("$@" 2>&1); then
		fail "'$*' succeeded, expected $want"
	fi
	grep -Eq "$msg" <<<"$out" || fail "'$*' failed with '$out', expected $want"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

upper_path() { echo "$STORE/upper/$1"; }

expect_no_upper() {
	[ ! -e "$STORE/upper/$1" ] && [ ! -L "$STORE/upper/$1" ] ||
		fail "$1 was copied into the store"
}

expect_whiteout() {
	local p="$STORE/upper/$1"
	[ -c "$p" ] && [ "$(stat -c '%t:%T' "$p")" = 0:0 ] ||
		fail "$1 is not a whiteout in the store"
}

expect_opaque() {
	[ "$(getfattr --only-values -n "$OVL.opaque" \
		"$STORE/upper/$1" 2>/dev/null)" = y ] ||
		fail "$1 is not an opaque directory in the store ($(getfattr -d -m - "$STORE/upper/$1" 2>&1 | tr "\n" " "))"
}

# base_hash DIR: data and metadata of every entry (not atime), xattrs too.
base_hash() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %m %U %G %s %T@ %C@ %n %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z |
			xargs -0 -r sha256sum
		# (getfattr fails on dangling symlinks; what it printed counts)
		getfattr -R -P -d -m - -e hex --absolute-names . 2>/dev/null || true
	) | sha256sum | cut -d' ' -f1
}

# view_tree DIR: types, modes, owners, sizes, link targets and content
# hashes of a tree, to compare two trees.
view_tree() {
	(
		cd "$1" || exit 1
		find . -printf '%P %y %m %U %G %s %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

# test_user: an unprivileged user for the case (made when missing):
# sets TEST_USER; as_user CMD... runs a command as that user.
test_user() {
	TEST_USER=cowfs-perm
	id "$TEST_USER" >/dev/null 2>&1 ||
		useradd -M -r -s /usr/sbin/nologin "$TEST_USER" ||
		fail "cannot create the test user"
}
as_user() {
	setpriv --reuid="$(id -u "$TEST_USER")" --regid="$(id -g "$TEST_USER")" \
		--clear-groups -- "$@"
}

# wait_mounted DIR: until a cowfs view is mounted at DIR (10 s at most).
wait_mounted() {
	local i
	for i in $(seq 1 100); do
		[ "$(findmnt -n -o FSTYPE --mountpoint "$1")" = fuse.cowfs ] && return 0
		sleep 0.1
	done
	fail "no cowfs view at $1"
}

cow_base_snapshot() { BASE_SNAPSHOT=$(base_hash "$BASE"); }

cow_base_check() {
	[ -n "$BASE_SNAPSHOT" ] || return 0
	[ "$(base_hash "$BASE")" = "$BASE_SNAPSHOT" ] ||
		fail "BASE changed (data or metadata)"
}

_daemon_alive() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

_check_log() {
	[ -f "$LOG" ] || return 0
	if grep -Eq "ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer" "$LOG"; then
		cat "$LOG" >&2
		fail "sanitizer report in the daemon log"
	fi
	# the daemon's guard against a node left under a freed inode number
	# (node.c) keeps the view right, but the node should not exist
	if grep -q "outlived its object" "$LOG"; then
		cat "$LOG" >&2
		fail "a node outlived its object (daemon log)"
	fi
}

cow_mount() { # [extra cowfs mount arguments]
	[ -c /dev/fuse ] || fail "/dev/fuse is missing: FUSE cannot work here"
	[ -x "$COWFS" ] || fail "$COWFS is not built"
	if [ -n "$AS_USER" ]; then
		chown "$TEST_USER:" "$MNT" "$T"
		[ -e "$STORE" ] || { mkdir "$STORE" && chown "$TEST_USER:" "$STORE"; }
		as_user "$COWFS" mount "$BASE" "$STORE" "$MNT" -f -o allow_other \
			"$@" >>"$LOG" 2>&1 &
	else
		"$COWFS" mount "$BASE" "$STORE" "$MNT" -f "$@" >>"$LOG" 2>&1 &
	fi
	DAEMON_PID=$!
	local i
	for i in $(seq 1 100); do
		if [ "$(findmnt -n -o FSTYPE --mountpoint "$MNT" 2>/dev/null)" = fuse.cowfs ]; then
			return 0
		fi
		_daemon_alive || break
		sleep 0.1
	done
	cat "$LOG" >&2
	fail "cowfs did not mount $MNT"
}

cow_umount() {
	local i status=0
	for i in $(seq 1 50); do
		findmnt --mountpoint "$MNT" >/dev/null 2>&1 || break
		fusermount3 -u "$MNT" 2>/dev/null && break
		sleep 0.1
	done
	if findmnt --mountpoint "$MNT" >/dev/null 2>&1; then
		umount -l "$MNT" 2>/dev/null || true
		fail "$MNT stayed busy"
	fi
	if [ -n "$DAEMON_PID" ]; then
		for i in $(seq 1 100); do
			_daemon_alive || break
			sleep 0.1
		done
		_daemon_alive && fail "cowfs daemon did not exit after unmount"
		wait "$DAEMON_PID" 2>/dev/null || status=$?
		DAEMON_PID=
		[ "$status" -lt 128 ] || fail "cowfs daemon died by signal $((status - 128))"
	fi
	_check_log
}

cow_remount() {
	cow_umount
	cow_mount "$@"
}

_cow_exit() {
	local rc=$?
	trap - EXIT
	set +e
	if findmnt --mountpoint "$MNT" >/dev/null 2>&1; then
		(cow_umount) || rc=1
	fi
	_check_log || rc=1
	if [ "$rc" = 0 ]; then
		(cow_base_check) || rc=1
	fi
	if [ "$rc" != 0 ] && [ -f "$LOG" ] && [ -s "$LOG" ]; then
		echo "--- daemon log ($LOG)" >&2
		tail -n 30 "$LOG" >&2
	fi
	findmnt --mountpoint "$MNT" >/dev/null 2>&1 && umount -l "$MNT"
	rm -rf "$T"
	exit "$rc"
}

cow_setup() {
	[ "$(id -u)" = 0 ] || fail "the suite runs as root (it mounts and drops caches)"
	T=$(mktemp -d "${TMPDIR:-/tmp}/cowfs-test.XXXXXX")
	BASE="$T/base"
	STORE="$T/store"
	MNT="$T/mnt"
	LOG="$T/daemon.log"
	mkdir -p "$BASE" "$MNT"
	: >"$LOG"
	if [ -n "$AS_USER" ]; then
		test_user
		chmod 755 "$T"
	fi
	trap _cow_exit EXIT
}
