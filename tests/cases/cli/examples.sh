#!/usr/bin/env bash
# The shipped examples work: the fstab line through `mount -T`, and the
# systemd unit's What/Where/Type/Options through mount(8), as systemd would
# run it (systemd itself is not available in the test environment). Paths
# /srv/base, /srv/store and /srv/view are replaced by the case's own.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
printf 'base' >"$BASE/f"
mkdir -p "$T/store/upper" "$T/store/work"
cow_base_snapshot
ex="$ROOT/examples"
subst() { sed -e "s|/srv/base|$BASE|g" -e "s|/srv/store|$T/store|g" -e "s|/srv/view|$MNT|g"; }
# mount(8) runs helpers with a fixed PATH: put the build there for the case
link=
if ! PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v cowfs >/dev/null; then
	link=/usr/local/sbin/cowfs
	ln -s "$COWFS" "$link"
fi
cleanup_link() { [ -z "$link" ] || rm -f "$link"; }

grep -v '^#' "$ex/fstab" | subst >"$T/fstab"
rc=0
mount -T "$T/fstab" "$MNT" || rc=$?
[ "$rc" = 0 ] || { cleanup_link; fail "mount of the example fstab line failed"; }
printf 'via fstab' >"$MNT/f"
umount "$MNT"
expect_file_content "$T/store/upper/f" "via fstab"

unit=$(subst <"$ex/srv-view.mount")
what=$(sed -n 's/^What=//p' <<<"$unit")
where=$(sed -n 's/^Where=//p' <<<"$unit")
type=$(sed -n 's/^Type=//p' <<<"$unit")
options=$(sed -n 's/^Options=//p' <<<"$unit")
rc=0
mount -t "$type" "$what" "$where" -o "$options" || rc=$?
cleanup_link
[ "$rc" = 0 ] || fail "mount with the example unit's fields failed"
expect_file_content "$MNT/f" "via fstab"
umount "$MNT"
