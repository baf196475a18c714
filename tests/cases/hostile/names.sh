#!/usr/bin/env bash
# Hostile names and depths: 255-byte names (renamed directories carry them
# in redirects, whiteouts and hard links too), names with newlines,
# terminal escapes, quotes, backslashes and bytes that are not UTF-8, a
# tree deeper than PATH_MAX changed at its bottom and renamed at its top
# and in its depths. Everything works through the view and after a
# remount; `cowfs status` prints one line per change with such names
# quoted and escaped (a name cannot split a line or drive the terminal),
# and `--json` stays valid UTF-8 JSON (bytes that are not UTF-8 as
# \udcXX). The daemon never dies.
set -euo pipefail
. "$(dirname "$0")/../../lib/harness.sh"

cow_setup
L=$(printf 'n%.0s' $(seq 1 255))
L2=$(printf 'm%.0s' $(seq 1 255))
NL=$(printf 'new\nline')
BAD=$(printf 'bad\xff\xfe')
CTL=$(printf 'c\x01\x1b[31m"q\\')
comp=dddddddddddddddddddddddddddddddddddddddd # 40 bytes: 110 of them > PATH_MAX
mkdir "$BASE/$L" "$BASE/$BAD.d"
printf 'in-long' >"$BASE/$L/f"
printf 'nl' >"$BASE/$NL"
printf 'bad' >"$BASE/$BAD"
printf 'ctl' >"$BASE/$CTL"
printf 'in-bad' >"$BASE/$BAD.d/f"
(cd "$BASE" && mkdir top && cd top && for _ in $(seq 1 110); do mkdir $comp && cd $comp; done && printf deep >f)
cow_base_snapshot
cow_mount
down() { local _; for _ in $(seq 1 "$1"); do cd $comp; done; } # (cd down N levels)

mv "$MNT/$L" "$MNT/$L2"
expect_file_content "$MNT/$L2/f" in-long
printf 'x' >"$MNT/$L2/${L:0:254}y"
ln "$MNT/$L2/f" "$MNT/$L2/${L2:0:254}z"
expect_eq "$(stat -c %h "$MNT/$L2/f")" 2 "links of a file with a 255-byte second name"
expect_errno "File name too long" mkdir "$MNT/${L}x"
rm "$MNT/$NL"
expect_whiteout "$NL"
mv "$MNT/$BAD" "$MNT/$BAD.2"
printf 'C' >>"$MNT/$CTL"
mv "$MNT/$BAD.d" "$MNT/$NL.d"
expect_file_content "$MNT/$NL.d/f" in-bad
setfattr -n user.x -v "$NL" "$MNT/$CTL"
expect_eq "$(getfattr --absolute-names --only-values -n user.x "$MNT/$CTL")" "$NL" "an xattr holding a newline"

# deeper than PATH_MAX: changed at the bottom, renamed at the top and below
(
	cd "$MNT/top" && down 110
	expect_file_content f deep
	printf 'DEEP' >>f
	mkdir -p more && printf 'g' >more/g
) || fail "the bottom of the deep tree"
mv "$MNT/top" "$MNT/top2"
(
	cd "$MNT/top2" && down 100
	# a BASE directory whose BASE path is longer than PATH_MAX: its
	# redirect cannot be written; the rename fails and changes nothing,
	# or succeeds and shows the same tree (either is sane)
	if mv $comp renamed 2>/dev/null; then
		cd renamed && down 9 && expect_file_content f deepDEEP
	else
		[ ! -e renamed ] && cd $comp && down 9 && expect_file_content f deepDEEP
	fi
) || fail "a rename in the depths"
[ -z "$(ls -A "$STORE/work")" ] || fail "work/ holds $(ls -A "$STORE/work")"

# status: one line per change, odd names quoted and escaped
"$COWFS" status "$MNT" >"$T/status"
changes=$(tail -n 1 "$T/status" | cut -d' ' -f1)
expect_eq "$(($(wc -l <"$T/status") - 1))" "$changes" "lines of the status listing"
LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$T/status") && fail "a control character in the status listing"
grep -qF 'deleted            -  "new\nline"' "$T/status" || fail "newline name: $(cat "$T/status")"
grep -qF '"bad\377\376.2"' "$T/status" || fail "bytes that are not UTF-8: $(cat "$T/status")"
grep -qF '"c\001\033[31m\"q\\"' "$T/status" || fail "escapes, quotes and backslashes: $(cat "$T/status")"
grep -qF "renamed      4.0 KiB  \"new\nline.d\"/  (from \"bad\377\376.d\")" "$T/status" ||
	fail "a renamed directory: $(cat "$T/status")"
grep -q "$comp/more/g\$" "$T/status" || fail "the deep file is not listed"
# --json: valid UTF-8, no raw control character, names recoverable
"$COWFS" status --json "$MNT" >"$T/json"
iconv -f UTF-8 -t UTF-8 "$T/json" >/dev/null || fail "status --json is not UTF-8"
LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$T/json") && fail "a control character in the JSON"
grep -qF '{"path": "bad\udcff\udcfe.2", "change": "added"' "$T/json" || fail "json: $(cat "$T/json")"
grep -qF '{"path": "new\u000aline", "change": "deleted"' "$T/json" || fail "json: $(cat "$T/json")"
grep -qF '{"path": "c\u0001\u001b[31m\"q\\", "change": "modified"' "$T/json" || fail "json: $(cat "$T/json")"
kill -0 "$DAEMON_PID" || fail "the daemon died"

cow_remount
expect_file_content "$MNT/$L2/${L:0:254}y" x
expect_absent "$MNT/$L"
expect_absent "$MNT/$NL"
expect_file_content "$MNT/$BAD.2" bad
expect_file_content "$MNT/$CTL" ctlC
expect_file_content "$MNT/$NL.d/f" in-bad
(cd "$MNT/top2" && down 110 2>/dev/null || { cd "$MNT/top2" && down 100 && cd renamed && down 9; } && expect_file_content f deepDEEP) ||
	fail "the deep file after a remount"
