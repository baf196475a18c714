#!/usr/bin/env bash
# Shortens the operations of an exerciser failure to a few that still fail
# the same way (delta debugging over the logged operations, each attempt
# replayed with `exerciser --replay` on a fresh BASE copy, STORE and mount).
#   tests/exerciser/reduce.sh [-b BUILD] [-o MOUNT_OPTIONS] REPORT [GROUP]
# REPORT is the exerciser's output; GROUP (w0, w1, p) the failing group when
# several failed. Prints the shortest list found, also left in REPORT.min.
# Run as root; BUILD defaults to build, the options to those of the CI case.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=build
OPTS=chunk_threshold=256K,chunk_size=64K
while getopts b:o: o; do
	case $o in
	b) BUILD=$OPTARG ;;
	o) OPTS=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,8s/^# //p' "$0"; exit 2; }
REPORT=$1
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
EX="$BUILD/tests/exerciser/exerciser"
COWFS="$BUILD/cowfs"
GROUP=${2:-$(sed -n 's/^exerciser: MISMATCH in \([^ ]*\) at.*/\1/p' "$REPORT" |
	head -1)}
GROUP=${GROUP%%.*}
# the check that failed, without numbers
want=$(grep -m1 "MISMATCH in $GROUP" "$REPORT" | sed 's/.* at operation [0-9]*: //; s/[0-9]//g')
[ -n "$want" ] || { echo "reduce: no mismatch of group $GROUP in $REPORT" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cowfs-reduce.XXXXXX")
trap 'fusermount3 -u "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT
case "$GROUP" in w*) jobs=$((${GROUP#w} + 1)) ;; *) jobs=1 ;; esac
through=()
case ",$OPTS," in *,writeback=off,* | *,store_limit=*) through=(--writethrough) ;; esac

awk -v g="$GROUP" '/^exerciser: MISMATCH in / { on = ($4 == g || $4 ~ "^" g "\\.") }
	on && $2 ~ "^" g "(\\.[ab])?:$" { sub(/^ +/, ""); print }' "$REPORT" >"$T/all"
[ -s "$T/all" ] || { echo "reduce: no operations of $GROUP in $REPORT" >&2; exit 2; }

# fails FILE: replaying FILE shows the same mismatch
fails() {
	local i out
	rm -rf "$T/base" "$T/oracle" "$T/store"
	mkdir -p "$T/base" "$T/mnt"
	"$EX" --make-base "$T/base" -j "$jobs" --pair
	cp -a "$T/base" "$T/oracle"
	"$COWFS" mount "$T/base" "$T/store" "$T/mnt" -o "$OPTS" >"$T/log" 2>&1
	for i in $(seq 1 100); do
		findmnt "$T/mnt" >/dev/null && break
		sleep 0.05
	done
	out=$("$EX" --view "$T/mnt" --oracle "$T/oracle" --commit "$COWFS" \
		"${through[@]}" --replay "$1" 2>&1) || true
	fusermount3 -u "$T/mnt"
	for i in $(seq 1 100); do
		findmnt "$T/mnt" >/dev/null || break
		sleep 0.05
	done
	grep -m1 "MISMATCH" <<<"$out" | sed 's/.* at operation [0-9]*: //; s/[0-9]//g' |
		grep -qxF -- "$want"
}

fails "$T/all" || { echo "reduce: the replay does not fail the same way" \
	"(the failure may depend on timing)" >&2; exit 1; }
mapfile -t ops <"$T/all"
n=2
while [ "${#ops[@]}" -ge 2 ]; do
	len=${#ops[@]}
	size=$(( (len + n - 1) / n ))
	reduced=
	for ((start = 0; start < len; start += size)); do
		printf '%s\n' "${ops[@]:0:start}" "${ops[@]:start+size}" |
			grep . >"$T/try" || continue
		if fails "$T/try"; then
			mapfile -t ops <"$T/try"
			n=$(( n > 2 ? n - 1 : 2 ))
			reduced=1
			echo "reduce: ${#ops[@]} operations" >&2
			break
		fi
	done
	[ -n "$reduced" ] && continue
	[ "$n" -ge "$len" ] && break
	n=$(( n * 2 > len ? len : n * 2 ))
done
printf '%s\n' "${ops[@]}" | tee "$REPORT.min"
