#!/usr/bin/env bash
# First write into a large BASE file (issue 3): the wall time of open + one
# 4 KiB pwrite at a random offset + close, and the store growth it causes,
# on native ext4, kernel overlayfs, fuse-overlayfs, unionfs-fuse and cowfs,
# in one run; then the cold sequential read of a half-copied cowfs file
# against a fully copied one and an untouched one. Runs as root.
#
# Usage: bench/first-write.sh [-s "1024 8192"] [-n RUNS] [-w WORKDIR] [-t "TOOL..."]
#   -s  BASE file sizes in MiB (default "1024 8192")
#   -n  runs per tool and size (default 5), each on a fresh upper/store;
#       medians are reported
#   -w  work directory on the filesystem to measure (default
#       /var/tmp/cowfs-bench); the BASE files are kept there between runs
#   -t  tools (default "native overlayfs fuse-overlayfs unionfs cowfs")
# COWFS=path of the binary (default: COWFS_BUILD, build-bench, built with
# meson and ninja when missing). Prints a table, writes WORKDIR/first-write.tsv.
set -eEuo pipefail
cd "$(dirname "$0")/.."
SIZES="1024 8192" RUNS=5 WORK=/var/tmp/cowfs-bench
TOOLS="native overlayfs fuse-overlayfs unionfs cowfs"
while getopts s:n:w:t: o; do
	case $o in
	s) SIZES=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	w) WORK=$OPTARG ;;
	t) TOOLS=$OPTARG ;;
	*) sed -n '8,17p' "$0" >&2; exit 2 ;;
	esac
done
fail() { echo "first-write.sh: $*" >&2; exit 1; }
trap 'echo "first-write.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
[ "$(id -u)" = 0 ] || fail "run as root"
BUILD=${COWFS_BUILD:-build-bench}
if [ -z "${COWFS:-}" ]; then
	COWFS=$PWD/$BUILD/cowfs
	[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
	ninja -C "$BUILD" cowfs >/dev/null
fi
[ -x "$COWFS" ] || fail "no cowfs binary at $COWFS"
for p in fuse-overlayfs unionfs-fuse; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done
mkdir -p "$WORK"
TOOL="$WORK/benchtool"
cc -O2 -Wall -Wextra -Werror -o "$TOOL" bench/benchtool.c
M="$WORK/mnt" U="$WORK/upper" K="$WORK/kwork" S="$WORK/store" LOG="$WORK/mount.log"

CUR= # the tool mounted at $M
mount_tool() { # TOOL BASEDIR [COWFS OPTIONS]
	rm -rf "$U" "$K" "$S"
	mkdir -p "$M" "$U" "$K"
	case $1 in
	overlayfs) mount -t overlay overlay -o "lowerdir=$2,upperdir=$U,workdir=$K" "$M" ;;
	fuse-overlayfs) fuse-overlayfs -o "lowerdir=$2,upperdir=$U,workdir=$K" "$M" 2>"$LOG" ;;
	unionfs) unionfs -o cow,use_ino,suid,dev "$U=RW:$2=RO" "$M" 2>"$LOG" ;;
	cowfs) "$COWFS" mount "$2" "$S" "$M" ${3:+-o "$3"} 2>"$LOG" ;;
	*) fail "unknown tool $1" ;;
	esac
	CUR=$1
	mountpoint -q "$M" || fail "$1 did not mount: $(cat "$LOG")"
}

umount_tool() {
	case $CUR in
	cowfs) "$COWFS" umount "$M" ;;
	overlayfs) umount "$M" ;;
	*) fusermount3 -u "$M" ;;
	esac
	CUR=
	rm -rf "$U" "$K" "$S"
}

cleanup() {
	if [ -n "$CUR" ] && mountpoint -q "$M"; then
		umount_tool || umount -l "$M" || true
	fi
	rm -rf "$U" "$K" "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
kib() { du -sk "$1" | cut -f1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# one_run TOOL SIZE_MIB: prints "MICROSECONDS GROWTH_KIB". The file is in
# the page cache (warm), as for an application that works with it.
one_run() {
	local tool=$1 mib=$2 file store before us
	local off=$(((RANDOM * 32768 + RANDOM) % (mib * 256) * 4096))
	if [ "$tool" = native ]; then
		file="$WORK/native-$mib/file"
		cat "$file" >/dev/null
		before=$(stat -c %b "$file")
		us=$("$TOOL" write "$file" "$off")
		sync
		echo "$us $((($(stat -c %b "$file") - before) / 2))"
		return
	fi
	cat "$WORK/base-$mib/file" >/dev/null
	mount_tool "$tool" "$WORK/base-$mib"
	store=$U
	[ "$tool" = cowfs ] && store=$S
	stat "$M/file" >/dev/null
	before=$(kib "$store")
	us=$("$TOOL" write "$M/file" "$off")
	sync
	echo "$us $(($(kib "$store") - before))"
	umount_tool
}

prepare() { # SIZE_MIB: the BASE file and a native copy, made once
	local mib=$1 d
	for d in "$WORK/base-$mib" "$WORK/native-$mib"; do
		mkdir -p "$d"
		if [ "$(stat -c %s "$d/file" 2>/dev/null)" != $((mib << 20)) ]; then
			echo "making a $mib MiB file in $d" >&2
			"$TOOL" fill "$d/file" "$mib"
		fi
	done
}

TSV="$WORK/first-write.tsv"
printf 'size_mib\ttool\tmedian\tunit\tmedian_growth_kib\truns\tvalues_us\n' >"$TSV"
printf '%-6s %-15s %12s %10s %14s\n' size tool "first write" "x native" "store growth"
for mib in $SIZES; do
	prepare "$mib"
	native_us=
	for tool in $TOOLS; do
		: >"$WORK/runs"
		for _ in $(seq 1 "$RUNS"); do
			one_run "$tool" "$mib" >>"$WORK/runs"
		done
		us=$(cut -d' ' -f1 "$WORK/runs" | median)
		grow=$(cut -d' ' -f2 "$WORK/runs" | median)
		[ "$tool" != native ] || native_us=$us
		printf '%-6s %-15s %9.0f us %10s %10s KiB\n' "${mib}M" "$tool" "$us" \
			"$(awk -v a="$us" -v b="$native_us" 'BEGIN {if (b) printf "%.1fx", a / b; else print "-"}')" "$grow"
		printf '%s\t%s\t%s\tus\t%s\t%s\t%s\n' "$mib" "$tool" "$us" "$grow" "$RUNS" \
			"$(cut -d' ' -f1 "$WORK/runs" | paste -sd,)" >>"$TSV"
	done
done

# Sequential read, cold, of the first size's file through cowfs with the
# completer off: 4 KiB written into every other chunk (half copied), into
# every chunk (fully copied), or nothing (all from BASE). CHUNK: the
# mount's chunk size in bytes (cowfs' default, 64 KiB).
CHUNK=${CHUNK:-65536}
mib=${SIZES%% *}
read_mibs() { # half|full|none: prints the median MiB/s of RUNS
	: >"$WORK/runs"
	for _ in $(seq 1 "$RUNS"); do
		mount_tool cowfs "$WORK/base-$mib" "completer=off,chunk_size=$CHUNK"
		case $1 in
		half) "$TOOL" stripe "$M/file" "$CHUNK" ;;
		full) "$TOOL" stripe "$M/file" $((CHUNK / 2)) ;;
		esac
		drop
		"$TOOL" read "$M/file" >>"$WORK/runs"
		umount_tool
	done
	median <"$WORK/runs"
}
half=$(read_mibs half)
full=$(read_mibs full)
none=$(read_mibs none)
printf '\ncold sequential read of the %d MiB file through cowfs (MiB/s): half copied %.0f, fully copied %.0f, untouched %.0f\n' \
	"$mib" "$half" "$full" "$none"
printf 'time of the half-copied read over the fully copied one: %.2fx (target 1.2x)\n' \
	"$(awk -v a="$half" -v b="$full" 'BEGIN {print b / a}')"
for k in half full none; do
	printf '%s\tcowfs-read-%s\t%s\tMiB/s\t\t%s\t\n' "$mib" "$k" "${!k}" "$RUNS" >>"$TSV"
done
echo "TSV: $TSV"
