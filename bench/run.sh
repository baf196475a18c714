#!/usr/bin/env bash
# cowfs benchmark (issue 5): the same workloads, in one run, on native ext4,
# kernel overlayfs, fuse-overlayfs, unionfs-fuse and cowfs, over one
# generated BASE tree; prints medians with ratios to native and to kernel
# overlayfs, checks the issue's targets, and writes a TSV. Runs as root
# (mounts, drops caches). See docs/performance.md.
#
# Usage: bench/run.sh [-n RUNS] [-w WORKDIR] [-t "TOOL..."] [-W "WORKLOAD..."] [-q]
#   -n  runs per workload and tool (default 3); the median is reported
#   -w  work directory (default /var/tmp/cowfs-bench-run); the BASE tree
#       is generated there once and kept while its sizes do not change
#   -t  tools (default "native overlayfs fuse-overlayfs unionfs cowfs")
#   -W  only these workloads (names as printed in the table)
#   -q  quick: 256 MiB file, 4,000 small files, 20,000 touched files
# Sizes (environment): BIG_MIB=1024 SMALL_DIRS=400 SMALL_PER_DIR=25
#   TOUCH_FILES=100000; COWFS=path of the binary (default: COWFS_BUILD,
#   build-bench, built with meson and ninja when missing); COWFS_OPTS=
#   mount options for cowfs (default none).
set -eEuo pipefail
cd "$(dirname "$0")/.."
RUNS=3 WORK=/var/tmp/cowfs-bench-run ONLY=
TOOLS="native overlayfs fuse-overlayfs unionfs cowfs"
BIG_MIB=${BIG_MIB:-1024} SMALL_DIRS=${SMALL_DIRS:-400}
SMALL_PER_DIR=${SMALL_PER_DIR:-25} TOUCH_FILES=${TOUCH_FILES:-100000}
while getopts n:w:t:W:q o; do
	case $o in
	n) RUNS=$OPTARG ;;
	w) WORK=$OPTARG ;;
	t) TOOLS=$OPTARG ;;
	W) ONLY=$OPTARG ;;
	q) BIG_MIB=256 SMALL_DIRS=160 TOUCH_FILES=20000 ;;
	*) sed -n '8,19p' "$0" >&2; exit 2 ;;
	esac
done
fail() { echo "bench/run.sh: $*" >&2; exit 1; }
trap 'echo "bench/run.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
[ "$(id -u)" = 0 ] || fail "run as root"
[ $((TOUCH_FILES % 100)) = 0 ] || fail "TOUCH_FILES must be a multiple of 100"
TOUCH_DIRS=$((TOUCH_FILES / 10))

BUILD=${COWFS_BUILD:-build-bench}
if [ -z "${COWFS:-}" ]; then
	COWFS=$PWD/$BUILD/cowfs
	[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
	ninja -C "$BUILD" cowfs >/dev/null
fi
[ -x "$COWFS" ] || fail "no cowfs binary at $COWFS"
for p in fuse-overlayfs unionfs-fuse git meson ninja-build bc; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done

mkdir -p "$WORK"
TOOL="$WORK/benchtool"
cc -O2 -Wall -Wextra -Werror -o "$TOOL" bench/benchtool.c
B="$WORK/base" N="$WORK/native" V="$WORK/view" U="$WORK/upper"
K="$WORK/kwork" S="$WORK/store" LOG="$WORK/mount.log"
STAMP="$WORK/.tree2-$BIG_MIB-$SMALL_DIRS-$SMALL_PER_DIR-$TOUCH_FILES"
APP_DIRS=50 APP_PER_DIR=100 REN=2000 BUSY=40

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# The BASE tree: big (one large file), small/ (read and stat), app/ (5,000
# files to append to), ren/ (4,000 files to rename and unlink), busy/ (40
# files of 3 MiB, copied up whole while small/ is looked up), many/
# (empty files, 10 a directory, touched for the daemons' footprint), src/ (a git repository
# of cowfs' sources at HEAD, built in the view) and src.tar.
make_tree() { # DIR
	local i
	mkdir -p "$1/small" "$1/app" "$1/ren" "$1/busy/d0000" "$1/many" "$1/src"
	for i in $(seq 0 $((BUSY - 1))); do
		"$TOOL" fill "$(printf '%s/busy/d0000/f%05d' "$1" "$i")" 3
	done
	"$TOOL" fill "$1/big" "$BIG_MIB"
	"$TOOL" mkfiles "$1/small" "$SMALL_DIRS" "$SMALL_PER_DIR" 1024 8191
	"$TOOL" mkfiles "$1/app" "$APP_DIRS" "$APP_PER_DIR" 100 4000
	"$TOOL" mkfiles "$1/ren" 1 $((2 * REN)) 10 100
	"$TOOL" mkfiles "$1/many" "$TOUCH_DIRS" 10 0 0
	git archive --format=tar HEAD | tar -x -C "$1/src"
	tar -C "$1" -cf "$1/src.tar" src
	(cd "$1/src" && git init -q && git add -A &&
		git -c user.name=bench -c user.email=bench@localhost commit -qm base)
}

if [ ! -e "$STAMP" ]; then
	echo "generating the BASE tree in $B (once)" >&2
	rm -rf "$B" "$N" "$WORK"/.tree-* "$WORK"/.tree2-*
	make_tree "$B"
	cp -a "$B" "$N"
	touch "$STAMP"
fi

# What a run leaves (uppers, stores, the native copy's changes) is moved to
# $TRASH and deleted only when the bench ends. On ext4 without a journal
# (as on the development machine), a new inode skips the slots of inodes
# deleted in its group during the last minute or more, so deleting 10,000
# files between runs made the next tool's creates slower, and the tools
# measured later (cowfs last) paid for the deletions of those before:
# 10,000 creates took 1.79 s on a quiet group, 2.45-2.50 s right after
# 30,000 deletions there.
TRASH="$WORK/trash"
discard() { # PATH...: out of the way now, deleted at the end
	local p
	for p; do
		[ ! -e "$p" ] || mv "$p" "$(mktemp -u "$TRASH/t.XXXXXXXX")"
	done
}
if [ -e "$TRASH" ]; then
	echo "deleting what an earlier run left in $TRASH" >&2
	rm -rf "$TRASH"
fi
mkdir -p "$TRASH"

CUR= # the tool whose view is mounted at $V
mount_tool() { # TOOL: the view of BASE at $V, on a fresh upper/store
	discard "$U" "$K" "$S"
	mkdir -p "$V" "$U" "$K"
	case $1 in
	native) return ;;
	overlayfs) mount -t overlay overlay -o "lowerdir=$B,upperdir=$U,workdir=$K" "$V" ;;
	fuse-overlayfs) fuse-overlayfs -o "lowerdir=$B,upperdir=$U,workdir=$K" "$V" 2>"$LOG" ;;
	unionfs) unionfs -o cow,use_ino,suid,dev "$U=RW:$B=RO" "$V" 2>"$LOG" ;;
	cowfs) "$COWFS" mount "$B" "$S" "$V" ${COWFS_OPTS:+-o "$COWFS_OPTS"} 2>"$LOG" ;;
	*) fail "unknown tool $1" ;;
	esac
	CUR=$1
	mountpoint -q "$V" || fail "$1 did not mount: $(cat "$LOG")"
}

umount_view() {
	[ -n "$CUR" ] || return 0
	case $CUR in
	cowfs) "$COWFS" umount "$V" ;;
	overlayfs) umount "$V" ;;
	*) fusermount3 -u "$V" ;;
	esac
	CUR=
}

cleanup() {
	if [ -n "$CUR" ] && mountpoint -q "$V"; then
		umount_view || umount -l "$V" || true
	fi
	echo "deleting the uppers and stores of the runs" >&2
	rm -rf "$U" "$K" "$S" "$TRASH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The native copy is put back after each workload that changed it.
reset_native() { # WORKLOAD
	case $1 in
	create_10k) discard "$N/created" ;;
	tar_extract) discard "$N/tarx" ;;
	build) discard "$N/src/builddir" ;;
	append_5k) discard "$N/app" && cp -a "$B/app" "$N/app" ;;
	stat_busy) discard "$N/busy" && cp -a "$B/busy" "$N/busy" ;;
	rename_unlink_4k) discard "$N/ren" && cp -a "$B/ren" "$N/ren" ;;
	esac
}

store_kib() { # TOOL: KiB allocated in its upper directory or store
	case $1 in
	native) echo 0 ;;
	cowfs) du -sk "$S" | cut -f1 ;;
	*) du -sk "$U" | cut -f1 ;;
	esac
}

# Workloads: each prints its figures on one line (seconds unless the name
# says MiB/s, microseconds or KiB). $1 is the root of the view, $2 the tool.
w_seq_cold() { drop; "$TOOL" read "$1/big"; }
w_seq_warm() { cat "$1/big" >/dev/null; "$TOOL" read "$1/big"; }
w_rand_cold() { drop; "$TOOL" randread "$1/big" 4000; }
w_rand_warm() { cat "$1/big" >/dev/null; "$TOOL" randread "$1/big" 20000; }
w_mmap_cold() { drop; "$TOOL" mmapread "$1/big"; }
# warm for a mapping: the pages are cached and have been mapped once
w_mmap_warm() { cat "$1/big" >/dev/null; "$TOOL" mmapread "$1/big" >/dev/null; "$TOOL" mmapread "$1/big"; }
w_first_write() {
	local before us off=$(((RANDOM * 32768 + RANDOM) % (BIG_MIB * 256) * 4096))
	cat "$1/big" >/dev/null # warm, as for an application using the file
	before=$(store_kib "$2")
	us=$("$TOOL" write "$1/big" "$off")
	sync
	echo "$us $(($(store_kib "$2") - before))"
}
w_stat_cold() { local t; drop; t=$(now); find "$1/small" -printf '%s\n' >/dev/null; since "$t"; }
w_stat_warm() { local t; find "$1/small" -printf '%s\n' >/dev/null; t=$(now); find "$1/small" -printf '%s\n' >/dev/null; since "$t"; }
# stat by name of small/'s files, cold, while another process appends a
# byte to each file of busy/ (a copy-up of 3 MiB each): how much copy-ups
# hold up lookups elsewhere in the view
w_stat_busy() {
	local t ap
	drop
	"$TOOL" append "$1/busy" 1 "$BUSY" & ap=$!
	t=$(now)
	"$TOOL" statfiles "$1/small" "$SMALL_DIRS" "$SMALL_PER_DIR"
	since "$t"
	wait "$ap"
	sync
}
w_read_small_cold() { local t; drop; t=$(now); find "$1/small" -type f -exec cat {} + >/dev/null; since "$t"; }
w_create_10k() {
	local t; t=$(now); mkdir "$1/created"
	"$TOOL" mkfiles "$1/created" 100 100 1024 1024; sync; since "$t"
}
w_append_5k() { local t; t=$(now); "$TOOL" append "$1/app" "$APP_DIRS" "$APP_PER_DIR"; sync; since "$t"; }
w_rename_unlink_4k() { local t; t=$(now); "$TOOL" renunlink "$1/ren/d0000" "$REN"; sync; since "$t"; }
w_git_status_cold() { local t; drop; t=$(now); git -C "$1/src" status --porcelain >/dev/null; since "$t"; }
w_git_status_warm() { local t; git -C "$1/src" status >/dev/null; t=$(now); git -C "$1/src" status --porcelain >/dev/null; since "$t"; }
w_tar_extract() { local t; t=$(now); mkdir "$1/tarx"; tar -C "$1/tarx" -xf "$1/src.tar"; sync; since "$t"; }
w_build() {
	local t; t=$(now)
	(cd "$1/src" && meson setup builddir >/dev/null && ninja -C builddir >/dev/null)
	since "$t"
}

WORKLOADS="seq_cold seq_warm rand_cold rand_warm mmap_cold mmap_warm first_write
stat_cold stat_warm stat_busy read_small_cold create_10k append_5k rename_unlink_4k
git_status_cold git_status_warm tar_extract build"
[ -z "$ONLY" ] || WORKLOADS=$ONLY
declare -A UNIT=([seq_cold]=MiB/s [seq_warm]=MiB/s [mmap_cold]=MiB/s
	[mmap_warm]=MiB/s [first_write]=us [first_write_kib]=KiB)
# The figures of a workload: first_write prints its latency and its growth.
figures() { [ "$1" = first_write ] && echo "first_write first_write_kib" || echo "$1"; }

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
TSV="$WORK/results.tsv"
printf 'workload\ttool\tunit\tmedian\truns\tvalues\n' >"$TSV"
declare -A RES
FAILED=
start=$(now)
for w in $WORKLOADS; do
	declare -F "w_$w" >/dev/null || fail "unknown workload $w"
	for tool in $TOOLS; do
		: >"$WORK/runs"
		for _ in $(seq 1 "$RUNS"); do
			mount_tool "$tool"
			root=$V
			[ "$tool" = native ] && root=$N
			# a failing workload is reported and left out; the run goes on
			set +e
			(set -e; "w_$w" "$root" "$tool") >>"$WORK/runs"
			rc=$?
			set -e
			umount_view
			[ "$tool" != native ] || reset_native "$w"
			if [ "$rc" != 0 ]; then
				echo "bench/run.sh: $w FAILED on $tool (exit $rc)" >&2
				FAILED+=" $w/$tool"
				echo FAIL >"$WORK/runs"
				break
			fi
		done
		col=1
		for f in $(figures "$w"); do
			RES[$f.$tool]=FAIL
			grep -q FAIL "$WORK/runs" ||
				RES[$f.$tool]=$(cut -d' ' -f$col "$WORK/runs" | median)
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$tool" "${UNIT[$f]:-s}" \
				"${RES[$f.$tool]}" "$RUNS" "$(cut -d' ' -f$col "$WORK/runs" | paste -sd,)" >>"$TSV"
			col=$((col + 1))
		done
	done
	printf 'done: %-18s (%.0f s so far)\n' "$w" "$(since "$start")" >&2
done

# Daemon footprint: RSS and descriptors of each FUSE daemon after a stat,
# by name, of 10% and then all of many/ (TOUCH_FILES files, 10 a directory).
daemon_pid() {
	case $1 in
	cowfs) pgrep -f -- "$COWFS mount $B $S $V" ;;
	fuse-overlayfs) pgrep -f -- "fuse-overlayfs .*$V" ;;
	unionfs) pgrep -f -- "unionfs .*$V" ;;
	esac | head -n1
}
footprint() { # PID: "RSS_KIB FDS"
	echo "$(awk '/VmRSS/ {print $2}' "/proc/$1/status") $(ls "/proc/$1/fd" | wc -l)"
}
FOOT=
for tool in $TOOLS; do
	case $tool in native | overlayfs) continue ;; esac
	mount_tool "$tool"
	pid=$(daemon_pid "$tool")
	[ -n "$pid" ] || fail "no daemon found for $tool"
	read -r rss0 fd0 <<<"$(footprint "$pid")"
	"$TOOL" statfiles "$V/many" $((TOUCH_DIRS / 10)) 10
	read -r rss1 fd1 <<<"$(footprint "$pid")"
	"$TOOL" statfiles "$V/many" "$TOUCH_DIRS" 10
	sleep 2 # cowfs forgets the coldest directories once a second
	read -r rss2 fd2 <<<"$(footprint "$pid")"
	umount_view
	per=$(((rss2 - rss0) * 1024 / TOUCH_FILES))
	FOOT+=$(printf '%-15s RSS %6s -> %6s -> %6s KiB (%4s bytes per file), descriptors %4s -> %4s -> %4s' \
		"$tool" "$rss0" "$rss1" "$rss2" "$per" "$fd0" "$fd1" "$fd2")$'\n'
	printf 'daemon_rss_kib\t%s\tKiB\t%s\t1\t%s,%s,%s\n' "$tool" "$rss2" "$rss0" "$rss1" "$rss2" >>"$TSV"
	printf 'daemon_fds\t%s\tfds\t%s\t1\t%s,%s,%s\n' "$tool" "$fd2" "$fd0" "$fd1" "$fd2" >>"$TSV"
	printf 'daemon_bytes_per_file\t%s\tbytes\t%s\t1\t%s\n' "$tool" "$per" "$per" >>"$TSV"
	RES[per.$tool]=$per RES[fd1.$tool]=$fd1 RES[fd2.$tool]=$fd2
done

# ratio A B: A's cost over B's (for MiB/s figures, B's throughput over A's),
# so that above 1 always means A is slower.
ratio() {
	local inv=0
	[ "${UNIT[$3]:-s}" = MiB/s ] && inv=1
	awk -v a="$1" -v b="$2" -v inv=$inv 'BEGIN {
		if (a == "" || b == "" || a == 0 || b == 0) print "-";
		else printf "%.2f", inv ? b / a : a / b }'
}
r() { # TOOL FIGURE OTHER
	case "${RES[$2.$1]:-} ${RES[$2.$3]:-}" in
	*FAIL*) echo - ;;
	*) ratio "${RES[$2.$1]:-}" "${RES[$2.$3]:-}" "$2" ;;
	esac
}

echo
printf '%-16s %6s' workload unit
for tool in $TOOLS; do printf ' %9.9s' "$tool"; done
printf ' %9s %9s\n' cow/nat cow/ovl
for w in $WORKLOADS; do
	for f in $(figures "$w"); do
		printf '%-16s %6s' "$f" "${UNIT[$f]:-s}"
		for tool in $TOOLS; do
			printf ' %9s' "$(awk -v v="${RES[$f.$tool]}" 'BEGIN {
				if (v == "FAIL") print v; else if (v >= 100) printf "%.0f", v; else if (v >= 1) printf "%.2f", v;
				else printf "%.3f", v }')"
		done
		printf ' %9s %9s\n' "$(r cowfs "$f" native)" "$(r cowfs "$f" overlayfs)"
	done
done
echo "medians of $RUNS runs; ratios are cowfs's cost over the other's (time, or"
echo "the other's throughput over cowfs's): below 1 means cowfs is faster."
echo "sizes: big file $BIG_MIB MiB, $((SMALL_DIRS * SMALL_PER_DIR)) small files in $SMALL_DIRS directories"
echo
echo "daemon footprint after a stat of 0, $((TOUCH_FILES / 10)) and $TOUCH_FILES files:"
printf '%s' "$FOOT"

# The issue-5 targets, checked on this run's medians.
verdict() { # LABEL AWK-CONDITION VALUES...
	local label=$1 cond=$2
	shift 2
	if [[ " $* " == *" - "* ]]; then
		printf '  %-58s %s\n' "$label" "n/a"
	elif awk -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" "BEGIN {exit !($cond)}"; then
		printf '  %-58s met\n' "$label"
	else
		printf '  %-58s NOT MET\n' "$label"
	fi
}
echo
echo "targets (issue 5):"
for w in $WORKLOADS; do
	for f in $(figures "$w"); do
		[ "$f" != first_write_kib ] || continue
		verdict "$f: at least as fast as fuse-overlayfs$(
			[ "$(r fuse-overlayfs "$f" native)" != - ] &&
				awk -v x="$(r fuse-overlayfs "$f" native)" 'BEGIN {exit !(x > 2)}' &&
				echo ', 2x faster')" \
			'(a <= 1) && (b <= 2 || a <= 0.5)' \
			"$(r cowfs "$f" fuse-overlayfs)" "$(r fuse-overlayfs "$f" native)"
	done
done
for f in seq_warm rand_warm mmap_warm stat_warm; do
	verdict "$f: within 1.15x of native" 'a <= 1.15' "$(r cowfs "$f" native)"
done
for f in read_small_cold create_10k stat_cold; do
	verdict "$f: within 1.5x of native" 'a <= 1.5' "$(r cowfs "$f" native)"
done
for f in append_5k rename_unlink_4k; do
	verdict "$f: at most overlayfs' ratio to native" 'a <= b' \
		"$(r cowfs "$f" native)" "$(r overlayfs "$f" native)"
done
verdict "daemon: under 1 KiB per touched file" 'a < 1024' "${RES[per.cowfs]:--}"
# cowfs keeps at most max_dirs (4096 by default) directories, two
# descriptors each at most: bounded once the walk goes past that many.
if [ "$TOUCH_DIRS" -gt 4096 ]; then
	verdict "daemon: descriptors bounded ($TOUCH_DIRS dirs, <= 2 x 4096 + 64 fds)" \
		'a <= 2 * 4096 + 64' "${RES[fd2.cowfs]:--}"
else
	verdict "daemon: descriptors bounded (needs more than 4096 dirs)" 'a' -
fi
echo "TSV: $TSV ($(since "$start" | cut -d. -f1) s)"
[ -z "$FAILED" ] || fail "workloads that failed (see above):$FAILED"
