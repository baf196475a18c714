#!/usr/bin/env bash
# SIGKILL of the daemon during a numbered sequence of operations that
# keeps copying BASE files up (small ones, whole 64K ones, 300K ones by
# chunks or whole, hard-linked ones, metadata only, truncated at open),
# renames files and directories (across directories, RENAME_EXCHANGE),
# deletes, creates, truncates, sets xattrs and writes with and without
# fsync. The same numbers run on a plain copy of BASE (the oracle). Half of
# the rounds kill at a random moment, half a fraction of a millisecond
# after a name appears in work/, inside a copy-up or a publication. After
# each kill and remount the whole view (names, types, modes, owners, link
# counts, sizes, data, xattrs) must equal the oracle after the last
# operation that returned, or after the one in flight: never a torn file,
# never a lost step (a killed daemon is not a power loss: what it wrote
# before dying is in STORE), no leftovers in the view, work/ emptied,
# every chunk map with its file. Mount options vary per round: chunked or
# whole copies, completer on or off, fsync on or off, writeback on or off.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

ROUNDS=${CRASH_ROUNDS:-12}
cow_setup
# the files, links and directories the numbered operations work on
"$COWTOOL" opsbase "$BASE"
cow_base_snapshot
ORACLE="$T/oracle"
cp -a "$BASE" "$ORACLE"

tree() { # DIR: everything the view must agree on, times aside
	(
		cd "$1" || exit 1
		local files="$T/${1##*/}.files"
		find . \( -type d -printf '%P d %m %U %G\n' \) -o \
			\( -printf '%P %y %m %U %G %n %s %l\n' -type f -fprint0 "$files" \)
		xargs -0 sha256sum <"$files"
		# (operations set user.t* on s0..s19 only)
		getfattr -m '^user\.t' -d s? s1? 2>/dev/null |
			awk '/^# file: / { f = $3 } /=/ { print f, $0 }'
	) | LC_ALL=C sort
}

J="$T/journal"
# Advances the oracle to the view's state: through LAST, or LAST + 1.
settle() { # LAST
	local view
	[ "$1" -lt "$NEXT" ] || "$COWTOOL" ops "$ORACLE" "$NEXT" "$1" nosync
	NEXT=$(($1 + 1))
	tree "$ORACLE" >"$T/oracle.tree" &
	view=$(tree "$MNT")
	wait $!
	[ "$view" = "$(cat "$T/oracle.tree")" ] && return 0
	"$COWTOOL" ops "$ORACLE" "$NEXT" "$NEXT" nosync
	NEXT=$((NEXT + 1))
	[ "$view" = "$(tree "$ORACLE")" ] && return 0
	diff <(echo "$view") <(tree "$ORACLE") | head -20 >&2
	fail "view after a kill between operations $1 and $(($1 + 1)) matches neither"
}

store_clean() {
	[ -z "$(ls -A "$STORE/work")" ] || fail "work/ not emptied at mount: $(ls -A "$STORE/work")"
	local m
	for m in "$STORE"/meta/chunks/*; do
		[ -e "$m" ] || continue
		case "$m" in
		*.data) [ -e "${m%.data}" ] || fail "${m##*/} without its map" ;;
		*) [ "$(stat -c %h "$m.data" 2>/dev/null)" = 2 ] ||
			fail "chunk map ${m##*/} without its file in upper/" ;;
		esac
	done
}

NEXT=1 last=0
for r in $(seq 1 "$ROUNDS"); do
	opts=fsync=on
	[ $((r % 3)) = 0 ] && opts=fsync=off
	[ $((r % 4)) = 1 ] && opts="$opts,writeback=off"
	case $((RANDOM % 3)) in
	0) opts="$opts,chunk_threshold=0" ;;
	1) opts="$opts,chunk_threshold=256K,chunk_size=64K,completer=off" ;;
	2) opts="$opts,chunk_threshold=256K,chunk_size=64K,completer=4000" ;;
	esac
	# the mount that checks the last round's crash runs the next one
	cow_mount -o "$opts"
	store_clean
	[ "$r" = 1 ] || settle "$last"
	: >"$J"
	if [ $((r % 2)) = 0 ]; then
		# the kill lands inside a copy-up or a publication: up to 0.4 ms
		# after something appears in work/ (a copy, a whiteout, a map;
		# the first 0 to 39 are let through)
		"$COWTOOL" killon "$STORE/work" "$DAEMON_PID" 400 $((RANDOM % 40)) >"$T/killon" &
		kpid=$!
		until [ -s "$T/killon" ]; do sleep 0.01; done
	fi
	"$COWTOOL" ops "$MNT" "$NEXT" 0 "$J" 2>"$T/ops.err" &
	wpid=$!
	if [ $((r % 2)) = 0 ]; then
		wait "$kpid"
		[ "$(sed -n 2p "$T/killon")" != timeout ] || fail "round $r: nothing reached work/"
	else
		sleep "$(printf '0.%02d' $((RANDOM % 30 + 2)))"
		kill -0 "$wpid" 2>/dev/null ||
			fail "round $r: the workload stopped before the kill: $(cat "$T/ops.err")"
		kill -9 "$DAEMON_PID"
	fi
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	wait "$wpid" 2>/dev/null || true
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
	last=$(tail -n1 "$J")
	last=${last:-$((NEXT - 1))}
done
cow_mount -o completer=off
store_clean
settle "$last"
echo "$ROUNDS kills, $((NEXT - 1)) operations"
# the oracle check saw copy-ups of every kind
for f in s7 m0 b0 h0a; do
	[ "$(getfattr --absolute-names --only-values -n user.cowfs.state "$MNT/$f")" != base ] ||
		fail "$f was never copied: too few operations to mean anything"
done
