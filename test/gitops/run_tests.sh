#!/usr/bin/env bash
# test/gitops/run_tests.sh — GitOps and CLI code that runs outside PostgreSQL, under
# AddressSanitizer/UndefinedBehaviorSanitizer (LeakSanitizer on: "memory freed on every path"):
#   unit.c          the worker/helper records (src/gitops/wire.c), the CLI's escaping and UTF-8 check
#   fuzz_wire.c     libFuzzer on the record parser and the escapers (BB_GITOPS_FUZZ_SECONDS, 15)
#   the helper      bytebase-git-fetch built with the sanitizers, run on repositories made here:
#                   a fetch, again, a rewritten history, a missing branch/path, unreachable, limits
# Prints TAP; run by test/run_all.sh (test/*/run_tests.sh).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/test/gitops
CC=${CLANG:-$(command -v clang-14 || command -v clang)}
PGC=${PG_CONFIG:-pg_config}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bb-gitops.XXXXXX")
chmod 755 "$OUT"
trap 'rm -rf "$OUT"' EXIT
SAN=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wall -Wextra -Werror
     -Wno-unused-parameter -Wno-missing-field-initializers)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$HERE/lsan.supp:print_suppressions=0
n=0
failed=0
tap() {  # status description [detail file]
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		failed=$((failed + 1)); echo "not ok $n - $2"
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/#   /' "$3" | tail -25
	fi
}
if [ -z "$CC" ]; then echo "not ok 1 - clang is not installed"; exit 1; fi

# ---- unit tests
if "$CC" "${SAN[@]}" -I"$ROOT/cli" -I"$ROOT/src/gitops" -I"$("$PGC" --includedir)" "$HERE/unit.c" \
	"$ROOT/cli/out.c" "$ROOT/cli/buf.c" "$ROOT/src/gitops/wire.c" -o "$OUT/unit" 2>"$OUT/build.log"; then
	"$OUT/unit" >"$OUT/unit.log" 2>&1
	rc=$?
	grep -q '^not ok' "$OUT/unit.log" && rc=1
	tap $rc "unit tests of wire.c and cli/out.c clean under ASan/UBSan ($(grep -c '^ok' "$OUT/unit.log") checks)" "$OUT/unit.log"
else
	tap 1 "build test/gitops/unit.c" "$OUT/build.log"
fi

# ---- fuzzing the record parser and the escapers
if "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$ROOT/cli" -I"$ROOT/src/gitops" \
	-I"$("$PGC" --includedir)" "$HERE/fuzz_wire.c" "$ROOT/cli/out.c" "$ROOT/cli/buf.c" "$ROOT/src/gitops/wire.c" \
	-o "$OUT/fuzz_wire" 2>"$OUT/build.log"; then
	mkdir -p "$OUT/corpus"
	printf 'H\0\0\0\x04abcdF\0\0\0\x09a\0b\0c\0\0x.\0\0\0\0' >"$OUT/corpus/seed1"
	"$OUT/fuzz_wire" -print_final_stats=1 -max_total_time="${BB_GITOPS_FUZZ_SECONDS:-15}" -max_len=4096 -artifact_prefix="$OUT/" \
		"$OUT/corpus" >"$OUT/fuzz.log" 2>&1
	tap $? "fuzz_wire ran ${BB_GITOPS_FUZZ_SECONDS:-15} s clean ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/fuzz.log" | grep -o '[0-9]*$') executions)" "$OUT/fuzz.log"
else
	tap 1 "build test/gitops/fuzz_wire.c" "$OUT/build.log"
fi

# ---- the libgit2 helper under the sanitizers, every path
if ! "$CC" "${SAN[@]}" -I"$ROOT/src/gitops" "$ROOT"/src/gitops/helper/*.c "$ROOT/src/gitops/wire.c" -lgit2 \
	-o "$OUT/helper" 2>"$OUT/build.log"; then
	tap 1 "build the helper with ASan/UBSan" "$OUT/build.log"
	echo "# $n tests, $failed failed"; exit 1
fi
G=(git -c user.name=Tess -c user.email=tess@example.com -c init.defaultBranch=main -c safe.directory='*')
"${G[@]}" init -q --bare "$OUT/src.git"
"${G[@]}" clone -q "$OUT/src.git" "$OUT/clone" 2>/dev/null
mkdir -p "$OUT/clone/db/sub"
printf 'CREATE TABLE a (id int);\n' >"$OUT/clone/db/V1__a.sql"
printf 'CREATE TABLE b (id int);\n' >"$OUT/clone/db/sub/V2__b.sql"
head -c 4000 /dev/zero | tr '\0' 'x' >"$OUT/clone/db/V3__big.sql"
ln -s V1__a.sql "$OUT/clone/db/link.sql"
printf 'outside\n' >"$OUT/clone/README"
(cd "$OUT/clone" && "${G[@]}" add -A && "${G[@]}" commit -qm one && "${G[@]}" push -q origin main 2>/dev/null)
first=$(cd "$OUT/clone" && git rev-parse HEAD)
helper() { python3 "$HERE/drive_helper.py" "$OUT/helper" "$@" >"$OUT/answer" 2>"$OUT/stderr"; }
W=$OUT/wc/r1
mkdir -p "$OUT/wc"
helper url="file://$OUT/src.git" branch=main path=db workdir="$W" max_file=1000
tap $? "a first fetch: exit 0, no leak" "$OUT/stderr"
tap "$(grep -q "^H $first" "$OUT/answer" && grep -q '^F V1__a.sql|' "$OUT/answer" && grep -q '^F sub/V2__b.sql|' "$OUT/answer" && echo 0 || echo 1)" \
	"the head and the files under the path, subfolders included" "$OUT/answer"
tap "$(grep -q '^F V3__big.sql|[0-9a-f]*|4000|larger than bytebase.git_max_file_size|.*|0 bytes' "$OUT/answer" && echo 0 || echo 1)" \
	"a file above the size limit is listed without content" "$OUT/answer"
tap "$(grep -q '^F link.sql|.*|a symbolic link, not a file|' "$OUT/answer" && ! grep -q README "$OUT/answer" && echo 0 || echo 1)" \
	"a symbolic link is listed with why; files outside the path are not" "$OUT/answer"
tap "$(grep -q "^F V1__a.sql|.*|$first|Tess <tess@example.com>|" "$OUT/answer" && echo 0 || echo 1)" \
	"each file carries its last commit and author" "$OUT/answer"
helper url="file://$OUT/src.git" branch=main path=db workdir="$W" previous="$first"
tap "$(grep -q "^H $first" "$OUT/answer" && ! grep -qE '^(R|E|W)' "$OUT/answer" && echo 0 || echo 1)" "the same commit again: no rewrite" "$OUT/answer"
helper url="file://$OUT/src.git" branch=main path=db workdir="$W" previous="$first" quick=1
rc=$?
tap "$( [ "$rc" = 0 ] && [ "$(cut -c1 "$OUT/answer" | tr -d '\n')" = "H." ] && echo 0 || echo 1)" \
	"a poll of an unmoved branch: the head only, exit 0, no leak" "$OUT/answer"
(cd "$OUT/clone" && printf 'SELECT 4;\n' >db/V4__d.sql && "${G[@]}" add -A && "${G[@]}" commit -q --amend -m rewritten && "${G[@]}" push -qf origin main 2>/dev/null)
helper url="file://$OUT/src.git" branch=main path=db workdir="$W" previous="$first"
tap "$(grep -q "^R $first" "$OUT/answer" && echo 0 || echo 1)" "a force-push: the old head is reported" "$OUT/answer"
helper url="file://$OUT/src.git" branch=main path=db workdir="$W" previous=0123456789012345678901234567890123456789
tap "$(grep -q '^W the previous commit is not in the working copy' "$OUT/answer" && echo 0 || echo 1)" "an unknown previous commit: a warning" "$OUT/answer"
for case in "branch=nope path=db|^E 42704|branch \"nope\" does not exist .*(branches: main)" \
            "branch=main path=nowhere|^E 42704|path \"nowhere\" does not exist" \
            "branch=main path=db/V1__a.sql|^E 42704|is a file, not a folder" \
            "branch=main path=db max_total=10|^E 54000|exceed bytebase.git_max_fetch_size"; do
	IFS='|' read -r params code text <<<"$case"
	# shellcheck disable=SC2086
	helper url="file://$OUT/src.git" workdir="$W" $params
	rc=$?
	tap "$( [ $rc = 0 ] && grep -q "$code" "$OUT/answer" && grep -q -- "$text" "$OUT/answer" && grep -q '^\. ' "$OUT/answer" && echo 0 || echo 1)" \
		"$params: a clear error, exit 0, no leak" "$OUT/answer"
done
helper url="file://$OUT/nothing.git" branch=main path= workdir="$OUT/wc/r2"
tap "$( [ $? = 0 ] && grep -q '^E 08006|could not reach' "$OUT/answer" && echo 0 || echo 1)" "an unreachable repository: exit 0, no leak" "$OUT/answer"
helper url="https://127.0.0.1:1/x.git" branch=main path= workdir="$OUT/wc/r3" user=ci token=secret-token
tap "$( [ $? = 0 ] && grep -q '^E 08006' "$OUT/answer" && ! grep -q secret-token "$OUT/answer" && echo 0 || echo 1)" \
	"an https repository that refuses: the token is in no message" "$OUT/answer"
helper raw=1
tap "$( [ $? = 2 ] && grep -q 'malformed job' "$OUT/stderr" && echo 0 || echo 1)" "a malformed job: exit 2, no leak" "$OUT/stderr"
"$OUT/helper" </dev/null >/dev/null 2>"$OUT/stderr"
tap "$( [ $? = 2 ] && echo 0 || echo 1)" "no job at all: exit 2" "$OUT/stderr"
echo "# $n tests, $failed failed"
[ "$failed" = 0 ]
