#!/usr/bin/env bash
# A STORE written through cowfs is a valid kernel overlayfs upper directory:
# after creates, writes, deletes, file and directory renames (of BASE-only
# and merged directories), chmod, symlinks and a directory replaced by a new
# one, `mount -t overlay` of BASE and STORE/upper shows the same tree as
# cowfs did, and BASE is unchanged.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
mkdir -p "$BASE/dir/sub" "$BASE/merged" "$BASE/moved/inner" "$BASE/gone/x"
printf 'one' >"$BASE/f"
printf 'two' >"$BASE/dir/sub/g"
printf 'keep' >"$BASE/merged/k"
printf 'inner' >"$BASE/moved/inner/i"
printf 'x' >"$BASE/gone/x/y"
printf 'chmod' >"$BASE/c"
printf 'rename me' >"$BASE/r"
head -c 300000 /dev/urandom >"$BASE/big"
cow_base_snapshot
cow_mount -o chunk_threshold=64K,chunk_size=16K,completer=off

printf 'ONE' >"$MNT/f"
printf 'new' >"$MNT/dir/new"
printf 'added' >"$MNT/merged/added"
rm "$MNT/merged/k"
mv "$MNT/moved" "$MNT/dir/sub/moved-here"
mv "$MNT/dir/sub" "$MNT/sub-renamed"
rm -r "$MNT/gone"
mkdir "$MNT/gone"
printf 'fresh' >"$MNT/gone/fresh"
chmod 600 "$MNT/c"
mv "$MNT/r" "$MNT/renamed"
ln -s f "$MNT/link"
mkfifo "$MNT/fifo"
printf 'zz' | dd of="$MNT/big" bs=1 seek=100000 conv=notrunc status=none
view=$(view_tree "$MNT")
cow_umount

# The completer was off: big is still a partial copy, which kernel
# overlayfs cannot read. cowfs completes it when the store is handed over.
cow_mount -o completer=1000
for _ in $(seq 1 100); do
	[ "$(getfattr --only-values -n user.cowfs.state "$MNT/big" 2>/dev/null)" = store ] && break
	sleep 0.1
done
expect_eq "$(getfattr --only-values -n user.cowfs.state "$MNT/big")" store "big completed"
expect_eq "$(view_tree "$MNT")" "$view" "cowfs view after remount"
cow_umount

mkdir -p "$T/kwork" "$T/kmnt"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$STORE/upper,workdir=$T/kwork,redirect_dir=on,metacopy=on" "$T/kmnt" ||
	fail "kernel overlayfs refused the store"
kview=$(view_tree "$T/kmnt")
umount "$T/kmnt"
expect_eq "$kview" "$view" "kernel overlayfs view of the store"
