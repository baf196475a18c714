#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 20) from its seed corpus. Fails on any crash, leak
# or sanitizer report. Usage: tests/fuzz/run.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-20}
OUT=${FUZZ_BUILD:-build-fuzz}
mkdir -p "$OUT"
command -v clang >/dev/null || {
	echo "tests/fuzz/run.sh: clang is missing (apt-get install clang)" >&2
	exit 1
}
CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc/core -Isrc/fs -Ibuild)

declare -A SRC=(
	[chunkmap]="src/core/chunkmap.c src/core/sys.c"
	[format]="src/core/store.c src/core/sys.c src/core/log.c"
	[control]="src/fs/control_proto.c"
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(chunkmap format control)
for t in "${targets[@]}"; do
	# shellcheck disable=SC2086
	clang "${CFLAGS[@]}" -o "$OUT/fuzz_$t" "tests/fuzz/fuzz_$t.c" ${SRC[$t]}
	corpus="$OUT/corpus-$t"
	mkdir -p "$corpus"
	cp tests/fuzz/seeds/$t/* "$corpus/" 2>/dev/null || true
	echo "fuzz_$t: ${SECS}s"
	"$OUT/fuzz_$t" -max_total_time="$SECS" -max_len=65536 -print_final_stats=0 \
		"$corpus" >"$OUT/fuzz_$t.log" 2>&1 || {
		tail -n 40 "$OUT/fuzz_$t.log" >&2
		echo "fuzz_$t: FAILED (reproducer in $OUT)" >&2
		exit 1
	}
	grep -h '^#.*DONE\|Done' "$OUT/fuzz_$t.log" | tail -n 1
done
echo "fuzzing: ${#targets[@]} targets, no failures"
