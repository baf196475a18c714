#!/usr/bin/env bash
# First write into a large BASE file: the wall time of open + one 4 KiB
# pwrite at a random offset + close, and the store growth it causes, on
# native ext4, kernel overlayfs, fuse-overlayfs and cowfs, in one run; then
# the sequential read of a half-copied cowfs file against a fully copied one.
#
# Usage: bench/first-write.sh [-s "1024 8192"] [-n RUNS] [-w WORKDIR]
#   -s  BASE file sizes in MiB (default "1024 8192")
#   -n  runs per tool and size (default 5); medians are reported
#   -w  work directory on the filesystem to measure (default
#       /var/tmp/cowfs-bench); the BASE files are kept there between runs
# Prints a table and writes WORKDIR/first-write.tsv. Runs as root (mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="1024 8192" RUNS=5 WORK=/var/tmp/cowfs-bench
while getopts s:n:w: o; do
	case $o in
	s) SIZES=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	w) WORK=$OPTARG ;;
	*) sed -n '2,13p' "$0" >&2; exit 2 ;;
	esac
done
COWFS=${COWFS:-$PWD/build/cowfs}
[ "$(id -u)" = 0 ] || { echo "first-write.sh: run as root" >&2; exit 1; }
[ -x "$COWFS" ] || make build >/dev/null
for p in fuse-overlayfs; do
	command -v "$p" >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done
mkdir -p "$WORK"
TOOL="$WORK/benchtool"
cc -O2 -Wall -Werror -o "$TOOL" bench/benchtool.c
M="$WORK/mnt" U="$WORK/upper" K="$WORK/kwork" S="$WORK/store"

cleanup() {
	for m in "$M"; do
		mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
	rm -rf "$U" "$K" "$S"
}
trap cleanup EXIT

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
kib() { du -sk "$1" | cut -f1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

mount_tool() { # TOOL BASEDIR
	mkdir -p "$M" "$U" "$K"
	case $1 in
	overlayfs) mount -t overlay overlay -o "lowerdir=$2,upperdir=$U,workdir=$K" "$M" ;;
	fuse-overlayfs) fuse-overlayfs -o "lowerdir=$2,upperdir=$U,workdir=$K" "$M" ;;
	cowfs) "$COWFS" mount "$2" "$S" "$M" ;;
	esac
}

umount_tool() {
	case $1 in
	native) ;;
	cowfs) "$COWFS" umount "$M" ;;
	*) umount "$M" ;;
	esac
	rm -rf "$U" "$K" "$S"
}

# one_run TOOL SIZE_MIB: prints "MICROSECONDS GROWTH_KIB"
one_run() {
	local tool=$1 mib=$2 dir="$WORK/base-$1" file off us before after grown
	off=$(( (RANDOM * 32768 + RANDOM) % (mib * 256) * 4096 ))
	if [ "$tool" = native ]; then
		file="$WORK/native-$mib/file"
		before=$(kib "$WORK/native-$mib")
		stat "$file" >/dev/null
		us=$("$TOOL" write "$file" "$off")
		sync
		after=$(kib "$WORK/native-$mib")
		echo "$us $((after - before))"
		return
	fi
	mount_tool "$tool" "$WORK/base-$mib"
	local store=$U
	[ "$tool" = cowfs ] && store=$S
	stat "$M/file" >/dev/null
	before=$(kib "$store")
	us=$("$TOOL" write "$M/file" "$off")
	sync
	after=$(kib "$store")
	umount_tool "$tool"
	echo "$us $((after - before))"
}

prepare() { # SIZE_MIB: BASE file and a native copy, made once
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
printf 'size_mib\ttool\tmedian_us\tmedian_growth_kib\truns\n' >"$TSV"
printf '%-8s %-15s %14s %10s %16s\n' "size" "tool" "first write" "x native" "store growth"
for mib in $SIZES; do
	prepare "$mib"
	# Warm cache for every tool, as an application that works with the
	# file has it (the files fit in memory at the default sizes).
	cat "$WORK/base-$mib/file" "$WORK/native-$mib/file" >/dev/null
	native_us=
	for tool in native overlayfs fuse-overlayfs cowfs; do
		: >"$WORK/runs"
		for _ in $(seq 1 "$RUNS"); do
			one_run "$tool" "$mib" >>"$WORK/runs"
		done
		us=$(cut -d' ' -f1 "$WORK/runs" | median)
		grow=$(cut -d' ' -f2 "$WORK/runs" | median)
		[ -n "$native_us" ] || native_us=$us
		printf '%-8s %-15s %11.0f us %9.1fx %12s KiB\n' "${mib}M" "$tool" "$us" \
			"$(awk -v a="$us" -v b="$native_us" 'BEGIN {print a / b}')" "$grow"
		printf '%s\t%s\t%s\t%s\t%s\n' "$mib" "$tool" "$us" "$grow" "$RUNS" >>"$TSV"
	done
done

# Sequential read, cold: half-copied (every other 1 MiB chunk) vs complete.
mib=${SIZES%% *}
read_mibs() { # completer option, stripe?: prints MiB/s medians of RUNS
	: >"$WORK/runs"
	for _ in $(seq 1 "$RUNS"); do
		"$COWFS" mount "$WORK/base-$mib" "$S" "$M" -o "completer=$1"
		if [ "$2" = half ]; then
			"$TOOL" stripe "$M/file" $((1 << 20))
		else
			"$TOOL" stripe "$M/file" $((1 << 19)) # every chunk
		fi
		drop
		"$TOOL" read "$M/file" >>"$WORK/runs"
		umount_tool cowfs
	done
	median <"$WORK/runs"
}
half=$(read_mibs off half)
full=$(read_mibs off full)
printf '\nsequential cold read of a %d MiB cowfs file: half copied %.0f MiB/s, fully copied %.0f MiB/s (time ratio %.2fx)\n' \
	"$mib" "$half" "$full" "$(awk -v a="$half" -v b="$full" 'BEGIN {print b / a}')"
printf '%s\tcowfs-read-half\t%s\t\t%s\n%s\tcowfs-read-full\t%s\t\t%s\n' \
	"$mib" "$half" "$RUNS" "$mib" "$full" "$RUNS" >>"$TSV"
echo "TSV: $TSV"
