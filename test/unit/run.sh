#!/usr/bin/env bash
# test/unit/run.sh — builds the standalone review unit tests (no server) with
# clang + AddressSanitizer/UndefinedBehaviorSanitizer and runs them; prints TAP
# ("ok N - ...") and exits non-zero when a test failed or a build broke.
#   review_dialects  every MySQL/TiDB, ClickHouse and Snowflake rule, hostile input
#   review_guard     regex safety and escaping, clipped messages, interrupts, check-failed
#   review_oom       every allocation of the plain-C checkers made to fail once: fail closed
#   split_lex        the splitter and the shared lexer, per dialect rule
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CC=${CLANG:-$(command -v clang-14 || command -v clang)}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bb-unit.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
R=$ROOT/src/review
U=$ROOT/test/unit
if [ -z "$CC" ]; then echo "not ok 1 - clang is not installed"; exit 1; fi
FLAGS=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
       -Wall -Wno-unused-function -I"$R" -I"$U")
# the plain-C review code (the extension links src/review/regex_pg.c instead of regex_libc.c)
REVIEW=("$R/lex.c" "$R/token.c" "$R/mysql_parser.c" "$R/mysql_rules.c" "$R/mysql_rules_def.c" "$R/clickhouse_rules.c"
        "$R/snowflake_rules.c" "$R/split.c" "$R/regex.c" "$R/regex_safe.c" "$U/regex_libc.c" "$R/checker.c"
        "$R/clip.c" "$R/common_rules.c")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0

# build NAME CMD...: runs a compiler command, reporting a broken build as a failed test
build() {
	local name=$1; shift
	if ! "$@" 2>"$OUT/$name.log"; then
		echo "not ok 1 - build test/unit/$name.c with ASan/UBSan"
		sed 's/^/#   /' "$OUT/$name.log"
		rc=1
		return 1
	fi
}

if build review_dialects "$CC" "${FLAGS[@]}" "$U/review_dialects.c" "${REVIEW[@]}" -o "$OUT/review_dialects"; then
	"$OUT/review_dialects" || rc=1
fi
if build split_lex "$CC" "${FLAGS[@]}" "$U/split_lex.c" "${REVIEW[@]}" -o "$OUT/split_lex"; then
	"$OUT/split_lex" || rc=1
fi
if build review_guard "$CC" "${FLAGS[@]}" "$U/review_guard.c" "${REVIEW[@]}" -o "$OUT/review_guard"; then
	"$OUT/review_guard" || rc=1
fi
# review_oom: the review code compiled with malloc/calloc/realloc/strdup routed to a failing hook
mkdir -p "$OUT/oom"
ok_build=1
for f in "${REVIEW[@]}"; do
	build review_oom "$CC" "${FLAGS[@]}" -Dmalloc=bbt_malloc -Dcalloc=bbt_calloc -Drealloc=bbt_realloc \
		-Dstrdup=bbt_strdup -c "$f" -o "$OUT/oom/$(basename "$f" .c).o" || { ok_build=0; break; }
done
if [ "$ok_build" = 1 ] && build review_oom "$CC" "${FLAGS[@]}" "$U/review_oom.c" "$OUT"/oom/*.o -o "$OUT/review_oom"; then
	"$OUT/review_oom" || rc=1
fi
exit $rc
