#!/usr/bin/env bash
# The differential exerciser against a plain copy of BASE: two workers
# (processes), small files and files copied by chunks, every operation
# compared; then a remount and a full comparison of the trees. Two passes:
# completer off, and completer on. Seeds are fixed so that CI is
# repeatable; `make soak` runs random seeds for hours.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

EX="$COWFS_BUILD/tests/exerciser/exerciser"
[ -x "$EX" ] || fail "$EX is not built"
OPS=${EXERCISER_OPS:-1500}

tree() {
	(
		cd "$1"
		find . -printf '%P %y %m %s %n %l\n' | LC_ALL=C sort |
			awk '$2 == "d" { $4 = "-"; $5 = "-" } { print }'
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

make_base() {
	local w d
	for w in w0 w1; do
		d="$BASE/$w"
		mkdir -p "$d/d0" "$d/d1/d2"
		head -c 3000 /dev/urandom >"$d/f0"
		head -c 20000 /dev/urandom >"$d/f1"
		: >"$d/f2"
		head -c 1200000 /dev/urandom >"$d/big0"
		head -c 700000 /dev/urandom >"$d/big1"
		head -c 5000 /dev/urandom >"$d/d0/f0"
		head -c 10 /dev/urandom >"$d/d0/f1"
		head -c 900000 /dev/urandom >"$d/d0/big0"
		head -c 100 /dev/urandom >"$d/d1/f0"
		head -c 100 /dev/urandom >"$d/d1/d2/f0"
		ln -s f0 "$d/l0"
		setfattr -n user.k0 -v base "$d/f1"
	done
}

cow_setup
make_base
cow_base_snapshot
pass=0
for opts in completer=off completer=1000; do
	pass=$((pass + 1))
	rm -rf "$T/oracle" "$STORE"
	cp -a "$BASE" "$T/oracle"
	cow_mount -o "chunk_threshold=256K,chunk_size=64K,$opts"
	"$EX" --view "$MNT" --oracle "$T/oracle" --seed "$((${EXERCISER_SEED:-4242} + pass))" \
		--ops "$OPS" -j 2 --drop-caches >"$T/ex.log" 2>&1 || {
		cat "$T/ex.log" >&2
		fail "the exerciser found a difference (pass $pass, $opts)"
	}
	cow_remount -o "chunk_threshold=256K,chunk_size=64K,$opts"
	expect_eq "$(tree "$MNT")" "$(tree "$T/oracle")" "trees after remount (pass $pass)"
	cow_umount
done
