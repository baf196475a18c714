#!/usr/bin/env bash
# cowfs benchmark: the same workloads, in one run, on native ext4, kernel
# overlayfs, fuse-overlayfs, unionfs-fuse and cowfs, over one generated
# BASE tree; prints medians with ratios to native and to kernel overlayfs
# and writes a TSV. Runs as root (mounts, drops caches).
#
# Usage: bench/run.sh [-n RUNS] [-w WORKDIR] [-t "TOOL..."] [-q]
#   -n  runs per workload (default 3; the median is reported)
#   -w  work directory (default /var/tmp/cowfs-bench-run); the BASE tree
#       is generated there once and kept
#   -t  tools (default "native overlayfs fuse-overlayfs unionfs cowfs")
#   -q  quick: a smaller tree (256 MiB file, 10,000 small files)
#   -W  only these workloads (names as printed)
# Sizes: BIG_MIB (1024), SMALL_DIRS (2000) x SMALL_PER_DIR (25).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3 WORK=/var/tmp/cowfs-bench-run
TOOLS="native overlayfs fuse-overlayfs unionfs cowfs"
BIG_MIB=${BIG_MIB:-1024} SMALL_DIRS=${SMALL_DIRS:-2000} SMALL_PER_DIR=${SMALL_PER_DIR:-25}
ONLY=
while getopts n:w:t:qW: o; do
	case $o in
	n) RUNS=$OPTARG ;;
	w) WORK=$OPTARG ;;
	t) TOOLS=$OPTARG ;;
	q) BIG_MIB=256 SMALL_DIRS=400 ;;
	W) ONLY=$OPTARG ;;
	*) sed -n '2,15p' "$0" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root" >&2; exit 1; }
COWFS=${COWFS:-$PWD/build/cowfs}
[ -x "$COWFS" ] || make build >/dev/null
for p in fuse-overlayfs unionfs-fuse git meson ninja-build bc; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done
mkdir -p "$WORK"
TOOL="$WORK/benchtool"
cc -O2 -Wall -Werror -o "$TOOL" bench/benchtool.c
B="$WORK/base" N="$WORK/native" V="$WORK/view" U="$WORK/upper" K="$WORK/kwork" S="$WORK/store"
STAMP="$WORK/.tree-$BIG_MIB-$SMALL_DIRS-$SMALL_PER_DIR"

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

make_tree() { # DIR
	local d i j
	mkdir -p "$1/small" "$1/ren" "$1/src"
	"$TOOL" fill "$1/big" "$BIG_MIB"
	for i in $(seq -w 0 $((SMALL_DIRS - 1))); do
		mkdir "$1/small/d$i"
		for j in $(seq -w 0 $((SMALL_PER_DIR - 1))); do
			head -c $((1024 + (10#$j * 277) % 7000)) /dev/urandom >"$1/small/d$i/f$j"
		done
	done
	for i in $(seq -w 0 3999); do printf 'r%s' "$i" >"$1/ren/f$i"; done
	git ls-files -z | xargs -0 cp --parents -t "$1/src"
	tar -C "$1" -cf "$1/src.tar" src
	(cd "$1/src" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm base)
}

if [ ! -e "$STAMP" ]; then
	echo "generating the BASE tree in $B (once)" >&2
	rm -rf "$B" "$N" "$WORK"/.tree-*
	make_tree "$B"
	cp -a "$B" "$N"
	touch "$STAMP"
fi

mount_tool() { # TOOL: the view of BASE at $V
	rm -rf "$U" "$K" "$S"
	mkdir -p "$V" "$U" "$K"
	case $1 in
	native) ;;
	overlayfs) mount -t overlay overlay -o "lowerdir=$B,upperdir=$U,workdir=$K" "$V" ;;
	fuse-overlayfs) fuse-overlayfs -o "lowerdir=$B,upperdir=$U,workdir=$K" "$V" 2>/dev/null ;;
	unionfs) unionfs -o cow,use_ino,suid,dev,nonempty "$U=RW:$B=RO" "$V" ;;
	cowfs) "$COWFS" mount "$B" "$S" "$V" ;;
	esac
}

umount_tool() { # TOOL
	case $1 in
	native) cp -a "$B/ren/." "$N/ren/" ; rm -rf "$N/created" "$N/tarx" "$N/src/builddir" ;;
	cowfs) "$COWFS" umount "$V" ;;
	overlayfs) umount "$V" ;;
	*) fusermount3 -u "$V" ;;
	esac
}

root_of() { [ "$1" = native ] && echo "$N" || echo "$V"; }

# Workloads: each prints one number (seconds, or MiB/s for *_mibs).
w_seq_cold_mibs() { drop; "$TOOL" read "$1/big"; }
w_seq_warm_mibs() { cat "$1/big" >/dev/null; "$TOOL" read "$1/big"; }
w_rand_cold() { drop; local t; t=$(now); "$TOOL" randread "$1/big" 4000; since "$t"; }
w_rand_warm() { local t; cat "$1/big" >/dev/null; t=$(now); "$TOOL" randread "$1/big" 20000; since "$t"; }
w_mmap_mibs() { drop; "$TOOL" mmapread "$1/big"; }
w_first_write_us() { "$TOOL" write "$1/big" $(( (RANDOM * 32768 + RANDOM) % (BIG_MIB * 256) * 4096 )); }
w_stat_cold() { drop; local t; t=$(now); find "$1/small" -printf '%s\n' >/dev/null; since "$t"; }
w_stat_warm() { local t; find "$1/small" >/dev/null; t=$(now); find "$1/small" -printf '%s\n' >/dev/null; since "$t"; }
w_read_small_cold() { drop; local t; t=$(now); find "$1/small" -type f -exec cat {} + >/dev/null; since "$t"; }
w_create_10k() {
	local t i; t=$(now); mkdir -p "$1/created"
	for i in $(seq 1 100); do mkdir "$1/created/d$i" && (cd "$1/created/d$i" && touch $(seq -f 'n%g' 1 100)); done
	sync; since "$t"
}
w_append_5k() {
	local t; t=$(now)
	find "$1/small" -type f >"$WORK/files"
	head -n 5000 "$WORK/files" | while read -r f; do echo x >>"$f"; done
	sync; since "$t"
}
w_rename_unlink_4k() {
	local t i; t=$(now)
	for i in $(seq -w 0 1999); do mv "$1/ren/f$i" "$1/ren/g$i"; done
	for i in $(seq -w 2000 3999); do rm "$1/ren/f$i"; done
	sync; since "$t"
}
w_git_status() { local t; drop; t=$(now); git -C "$1/src" status --porcelain >/dev/null; since "$t"; }
w_tar_extract() { local t; t=$(now); mkdir -p "$1/tarx" && tar -C "$1/tarx" -xf "$1/src.tar"; sync; since "$t"; }
w_build() {
	local t; t=$(now)
	(cd "$1/src" && meson setup builddir >/dev/null && ninja -C builddir >/dev/null)
	since "$t"
}

WORKLOADS="seq_cold_mibs seq_warm_mibs rand_cold rand_warm mmap_mibs first_write_us
stat_cold stat_warm read_small_cold create_10k append_5k rename_unlink_4k git_status
tar_extract build"
[ -z "$ONLY" ] || WORKLOADS=$ONLY

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
TSV="$WORK/results.tsv"
printf 'workload\ttool\tmedian\truns\n' >"$TSV"
declare -A RES
trap 'for t in $TOOLS; do mountpoint -q "$V" && umount_tool "$t" 2>/dev/null; done; true' EXIT
for w in $WORKLOADS; do
	for tool in $TOOLS; do
		: >"$WORK/runs"
		for _ in $(seq 1 "$RUNS"); do
			mount_tool "$tool"
			"w_$w" "$(root_of "$tool")" >>"$WORK/runs"
			umount_tool "$tool"
		done
		RES[$w.$tool]=$(median <"$WORK/runs")
		printf '%s\t%s\t%s\t%s\n' "$w" "$tool" "${RES[$w.$tool]}" "$RUNS" >>"$TSV"
	done
	echo "done: $w" >&2
done

# Daemon memory and descriptors after touching every small file 2x over.
mount_tool cowfs
find "$V/small" -type f -exec stat -c %s {} + >/dev/null
find "$V/small" -type f -exec cat {} + >/dev/null
pid=$(pgrep -f "cowfs mount $B $S $V" | head -n1)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
fds=$(ls "/proc/$pid/fd" | wc -l)
umount_tool cowfs

ratio() { awk -v a="$1" -v b="$2" -v inv="$3" 'BEGIN { if (b == 0 || a == 0) print "-"; else printf "%.2f", inv ? b / a : a / b }'; }
printf '\n%-18s' workload
for tool in $TOOLS; do printf ' %14s' "$tool"; done
printf ' %10s %10s\n' "cowfs/nat" "cowfs/ovl"
for w in $WORKLOADS; do
	inv=0; case $w in *_mibs) inv=1 ;; esac # throughput: higher is better
	printf '%-18s' "$w"
	for tool in $TOOLS; do printf ' %14s' "${RES[$w.$tool]}"; done
	printf ' %10s %10s\n' "$(ratio "${RES[$w.cowfs]:-0}" "${RES[$w.native]:-0}" $inv)" \
		"$(ratio "${RES[$w.cowfs]:-0}" "${RES[$w.overlayfs]:-0}" $inv)"
done
echo "(seconds, or MiB/s for *_mibs, microseconds for first_write_us; ratios are"
echo " cowfs's time over the other's, or the other's throughput over cowfs's)"
echo "cowfs daemon after touching $((SMALL_DIRS * SMALL_PER_DIR)) files: RSS ${rss} KiB, ${fds} descriptors"
printf 'daemon_rss_kib\tcowfs\t%s\t1\ndaemon_fds\tcowfs\t%s\t1\n' "$rss" "$fds" >>"$TSV"
echo "TSV: $TSV"
