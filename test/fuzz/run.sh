#!/usr/bin/env bash
# test/fuzz/run.sh [seconds] — builds the libFuzzer targets and runs each one
# for a bounded time (default 30 s) from its seed corpus test/fuzz/corpus/<name>
# (new inputs go to a scratch corpus, the repository is not modified).
# With the engines running (test/lib/engines.sh start; run_all.sh exports their
# environment) it also runs split_diff.c for BB_SPLITDIFF_SECONDS (default: the
# same time): generated PostgreSQL scripts, bb_split against the server's own
# scanner; a disagreement prints the input and fails.
# Prints TAP: "ok N - fuzz_mysql ran S s clean (E executions)" or "not ok" with
# the crash log; a crashing input is left in $BB_FUZZ_ARTIFACTS (default: scratch
# dir, kept on failure) — commit it to test/fuzz/corpus/<name>/ as a regression seed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SECS=${1:-${BB_FUZZ_SECONDS:-20}}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bb-fuzz.XXXXXX")
n=0
failed=0
if ! make -s -C "$HERE" >"$WORK/build.log" 2>&1; then
	echo "not ok 1 - build the fuzz targets (test/fuzz/Makefile)"
	sed 's/^/#   /' "$WORK/build.log" | tail -30
	exit 1
fi
for bin in "$HERE"/bin/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	seeds="$HERE/corpus/${name#fuzz_}"
	dict="$HERE/${name#fuzz_}.dict"
	mkdir -p "$WORK/$name/corpus" "$WORK/$name/artifacts"
	n=$((n + 1))
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
		-print_final_stats=1 $( [ -f "$dict" ] && echo "-dict=$dict" ) -artifact_prefix="$WORK/$name/artifacts/" \
		"$WORK/$name/corpus" $( [ -d "$seeds" ] && echo "$seeds" ) >"$WORK/$name/log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$name/log" | grep -o '[0-9]*$' | tail -1)
	if [ "$rc" = 0 ]; then
		echo "ok $n - $name ran $SECS s clean (${runs:-?} executions)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name found a problem (exit $rc); artifacts in $WORK/$name/artifacts"
		grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$WORK/$name/log" | head -25 | sed 's/^/#   /'
	fi
done
# differential fuzzing of the PostgreSQL splitter against the control cluster's scanner
if [ -n "${CONTROL_SOCK:-}" ] && [ -n "${CONTROL_PORT:-}" ]; then
	n=$((n + 1))
	PGC=${PG_CONFIG:-pg_config}
	if ! ${CC:-cc} -O2 -Wall -Wextra -I"$("$PGC" --includedir)" "$HERE/split_diff.c" \
		-L"$("$PGC" --libdir)" -lpq -o "$HERE/bin/split_diff" >"$WORK/split_diff.build" 2>&1; then
		failed=$((failed + 1))
		echo "not ok $n - build test/fuzz/split_diff.c (libpq)"
		sed 's/^/#   /' "$WORK/split_diff.build" | tail -20
	else
		PGHOST=$CONTROL_SOCK PGPORT=$CONTROL_PORT PGUSER=${BB_SPLITDIFF_USER:-postgres} \
			PGDATABASE=${CONTROL_DB:-postgres} PGCONNECT_TIMEOUT=10 \
			"$HERE/bin/split_diff" "${BB_SPLITDIFF_SECONDS:-$SECS}" ${BB_SPLITDIFF_SEED:-} \
			>"$WORK/split_diff.log" 2>&1
		rc=$?
		sed -e "s/^ok 1 /ok $n /" -e "s/^not ok 1 /not ok $n /" "$WORK/split_diff.log" | head -60
		if [ "$rc" != 0 ]; then
			failed=$((failed + 1))
			grep -q "^not ok" "$WORK/split_diff.log" || echo "not ok $n - split_diff exited $rc"
		fi
	fi
else
	n=$((n + 1))
	echo "ok $n - split_diff # SKIP no engines (test/lib/engines.sh start, then source \$BB_RUN_DIR/env.sh)"
fi
if [ "$n" = 0 ]; then echo "not ok 1 - no fuzz target was built"; exit 1; fi
echo "1..$n"
if [ "$failed" = 0 ]; then rm -rf "$WORK"; fi
[ "$failed" = 0 ]
