#!/usr/bin/env bash
# test/unit/run.sh — builds the standalone review unit tests (no server) with
# clang + AddressSanitizer/UndefinedBehaviorSanitizer and runs them; prints TAP
# ("ok N - ...") and exits non-zero when a test failed or the build broke.
#   review_dialects.c  the MySQL/TiDB, ClickHouse and Snowflake checkers
#   split_lex.c        the splitter and the shared lexer, per dialect rule
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CC=${CLANG:-$(command -v clang-14 || command -v clang)}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bb-unit.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
R=$ROOT/src/review
if [ -z "$CC" ]; then echo "not ok 1 - clang is not installed"; exit 1; fi
REVIEW=("$R/lex.c" "$R/token.c" "$R/mysql_parser.c" "$R/mysql_rules.c" "$R/mysql_rules_def.c"
	"$R/clickhouse_rules.c" "$R/snowflake_rules.c" "$R/split.c" "$R/regex.c" "$R/common_rules.c")
rc=0
for t in review_dialects split_lex; do
	if ! "$CC" -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-Wall -Wno-unused-function -I"$R" -I"$ROOT/test/unit" \
		"$ROOT/test/unit/$t.c" "${REVIEW[@]}" -o "$OUT/$t" 2>"$OUT/build.log"; then
		echo "not ok 1 - build test/unit/$t.c with ASan/UBSan"
		sed 's/^/#   /' "$OUT/build.log"
		rc=1
		continue
	fi
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$OUT/$t" || rc=1
done
exit $rc
