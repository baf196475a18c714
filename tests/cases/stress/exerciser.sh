#!/usr/bin/env bash
# The differential exerciser (tests/exerciser) against a plain copy of
# BASE: two workers in their own directories and a pair of processes
# taking turns on the same files, with small files and files copied by
# chunks (chunk_threshold=256K, chunk_size=64K), every operation compared;
# then a remount and a comparison of the whole trees. Three passes: the
# completer off; the completer at its default; and with commits of random
# names into BASE between the operations (which must change nothing the
# view shows). The last two keep the layers of only 16 files open
# (max_files), so that files are closed and opened again all the time. Seeds are fixed so that CI is repeatable; `make soak` runs
# random seeds for hours.
#   EXERCISER_SEED, EXERCISER_OPS (per group), EXERCISER_TIME (seconds per
#   pass instead of a count), EXERCISER_OPTS (mount options of both passes)
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

EX="$COWFS_BUILD/tests/exerciser/exerciser"
[ -x "$EX" ] || fail "$EX is not built"
OPS=${EXERCISER_OPS:-1500}
SEED=${EXERCISER_SEED:-4242}
LENGTH=(--ops "$OPS")
[ -z "${EXERCISER_TIME:-}" ] || LENGTH=(--time "$EXERCISER_TIME")

# Types, modes, owners, sizes and link counts (not of directories: see
# README), symlink targets, times set explicitly (all before 2017; those the
# run made only as "new"), user xattrs, hard-link groups, data.
tree() {
	(
		cd "$1"
		find . -mindepth 1 -printf '%P %y %m %U %G %s %n %T@ %l\n' | LC_ALL=C sort |
			awk '$2 == "d" { $6 = "-"; $7 = "-" }
			     $8 >= 1500000000 { $8 = "new" } { print }'
		find . ! -type d -printf '%i %P\n' | LC_ALL=C sort -k2 |
			awk '{ if (!($1 in first)) first[$1] = $2
			       print $2, "is", first[$1] }'
		find . -print0 | LC_ALL=C sort -z |
			xargs -0 getfattr -h -d -m '^user\.k' -e hex 2>/dev/null || true
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

cow_setup
"$EX" --make-base "$BASE" -j 2 --pair || fail "cannot make BASE"
cow_base_snapshot
pass=0
for opts in completer=off max_files=16 commit; do
	pass=$((pass + 1))
	extra=()
	if [ "$opts" = commit ]; then
		cow_base_check # the passes before changed nothing in BASE
		extra=(--commit "$COWFS")
		opts=max_files=16
	fi
	mopts="chunk_threshold=256K,chunk_size=64K${opts:+,$opts}${EXERCISER_OPTS:+,$EXERCISER_OPTS}"
	# without the writeback cache, mapped writes change mtime on writeback
	case ",$mopts," in
	*,writeback=off,* | *,store_limit=*) extra+=(--writethrough) ;;
	esac
	rm -rf "$T/oracle" "$STORE"
	cp -a "$BASE" "$T/oracle"
	cow_mount -o "$mopts"
	seed=$((SEED + pass))
	if ! "$EX" --view "$MNT" --oracle "$T/oracle" --seed "$seed" \
		"${LENGTH[@]}" -j 2 --pair --drop-caches "${extra[@]}" \
		>"$T/ex.log" 2>&1; then
		cat "$T/ex.log" >&2
		fail "the exerciser found a difference (pass $pass, -o $mopts;" \
			"rerun: EXERCISER_SEED=$SEED EXERCISER_OPS=$OPS)"
	fi
	cat "$T/ex.log"
	cow_remount -o "$mopts"
	tree "$MNT" >"$T/view.tree"
	tree "$T/oracle" >"$T/oracle.tree"
	diff -u "$T/oracle.tree" "$T/view.tree" >&2 ||
		fail "the trees differ after remount (pass $pass, -o $mopts)"
	cow_umount
done
cow_base_snapshot # what the commits made of BASE is checked above
