#!/usr/bin/env bash
# test/run_all.sh — the one test command: build, start the engines, run every test, print
# "N passed, N failed" as the last line and exit non-zero when anything failed.
#
# Steps: install missing Debian packages (test/lib/engines.sh); make WERROR=1 && make install;
# test/lib/engines.sh start (stopped again on any exit); make installcheck (pg_regress: each "... ok"/"... FAILED" line is one test); then, in this order,
# every test/integration/*.sh, every test/suites/*.sh, every test/*/run_tests.sh and test/fuzz/run.sh
# (each one's TAP "ok"/"not ok" lines are counted; a script that exits non-zero without a
# "not ok" line counts as one failure, so does one that runs longer than BB_TEST_TIMEOUT seconds).
# Finally a server process of the control cluster killed by SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL
# during the run (its log) is one more failure.
#
# Settings: BB_PORT_BASE (55000), BB_RUN_DIR (/tmp/bb-test-$BB_PORT_BASE), BB_TEST_TIMEOUT (900),
#   BB_REUSE_ENGINES=1 keeps engines running between runs (restarts only the control cluster to
#   load the freshly installed library), BB_ONLY=<regex> runs only the scripts whose path matches.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export BB_PORT_BASE=${BB_PORT_BASE:-55000}
export BB_RUN_DIR=${BB_RUN_DIR:-/tmp/bb-test-$BB_PORT_BASE}
BB_TEST_TIMEOUT=${BB_TEST_TIMEOUT:-900}
BB_REUSE_ENGINES=${BB_REUSE_ENGINES:-0}
BB_ONLY=${BB_ONLY:-}
# The engines (fd 9, the run lock, is not passed on: servers must not hold it).
engines() { bash "$ROOT/test/lib/engines.sh" "$@" 9>&-; }

passed=0
failed=0
failures=()
engines_up=0

section() { printf '\n===== %s =====\n' "$*"; }

# Records one failed step that produced no test lines of its own.
fail_step() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }

# Stops the engines unless the caller wants to keep them for the next run.
cleanup() {
	if [ "$engines_up" = 1 ] && [ "$BB_REUSE_ENGINES" != 1 ]; then
		engines stop || echo "warning: could not stop every engine in $BB_RUN_DIR" >&2
	fi
	engines_up=0
}

# Prints the summary as the very last line and exits with the verdict.
finish() {
	cleanup
	trap - EXIT
	if [ ${#failures[@]} -gt 0 ]; then
		section "failures"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# Ctrl-C / TERM: stop the running test (its own session), then the engines.
on_signal() {
	echo "interrupted" >&2
	if [ -n "$current_pid" ] && [ -f "$current_pid" ]; then
		kill -TERM -- -"$(cat "$current_pid")" 2>/dev/null
		sleep 1
	fi
	cleanup
	exit "$1"
}

current_pid=""
# Runs CMD in its own session with its output shown and saved to OUT; sets rc. The shell waits
# with `wait`, which a signal interrupts, so on_signal runs at once and kills the session.
run_logged() {
	local out=$1; shift
	current_pid=$out.pid
	rm -f "$out.rc" "$current_pid"
	( setsid bash -c 'echo $$ >"$0"; exec "$@"' "$current_pid" "$@" </dev/null 2>&1 9>&-; echo $? >"$out.rc" ) | tee "$out" &
	wait $!
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	rm -f "$out.rc" "$current_pid"
	current_pid=""
}

# One run per port base at a time: a second one would wipe the first one's engines.
exec 9>"$BB_RUN_DIR.lock"
if ! flock -n 9; then
	echo "another test/run_all.sh is using BB_PORT_BASE=$BB_PORT_BASE ($BB_RUN_DIR); set another BB_PORT_BASE" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# ---- packages (only when some are missing), then build
section "packages"
if ! engines install-packages; then fail_step "install Debian packages (needs root)"; finish; fi
echo "all present: $(engines packages)"

section "build"
if ! make -j"$(nproc)" WERROR=1; then fail_step "build (make WERROR=1)"; finish; fi
if ! make install >/dev/null; then fail_step "make install (needs root)"; finish; fi

# ---- engines
section "engines ($BB_RUN_DIR)"
if [ "$BB_REUSE_ENGINES" != 1 ]; then
	engines stop >/dev/null 2>&1
	if [ -e "$BB_RUN_DIR" ] && [ ! -f "$BB_RUN_DIR/.bb-run-dir" ]; then
		fail_step "$BB_RUN_DIR exists and was not made by test/lib/engines.sh: not deleting it"; finish
	fi
	rm -rf "$BB_RUN_DIR"
fi
engines_up=1
if ! engines start; then fail_step "engines start"; finish; fi
if [ "$BB_REUSE_ENGINES" = 1 ] && ! engines restart-control; then fail_step "restart control cluster"; finish; fi
. "$BB_RUN_DIR/env.sh"
CONTROL_LOG=$BB_RUN_DIR/control/server.log
log_start=$(stat -c %s "$CONTROL_LOG" 2>/dev/null || echo 0)

# ---- pg_regress
section "pg_regress (make installcheck)"
if ! compgen -G "sql/[0-9][0-9]_*.sql" >/dev/null; then
	echo "no sql/NN_*.sql regression tests: skipped"
elif [ -n "$BB_ONLY" ] && ! [[ installcheck =~ $BB_ONLY ]]; then
	echo "skipped (BB_ONLY=$BB_ONLY)"
else
	out=$(mktemp)
	rm -f regression.diffs
	run_logged "$out" make installcheck PGHOST="$CONTROL_SOCK" PGPORT="$CONTROL_PORT" PGUSER=postgres \
		BB_REGRESS_DB="$CONTROL_DB"
	ok_n=$(grep -cE '\.\.\. ok( |$)' "$out")
	bad_n=$(grep -cE '\.\.\. FAILED( |$)' "$out")
	passed=$((passed + ok_n)); failed=$((failed + bad_n))
	[ "$bad_n" -gt 0 ] && failures+=("pg_regress: $(grep -E '\.\.\. FAILED' "$out" | awk '{print ($1 == "test" ? $2 : $1)}' | tr '\n' ' ')")
	if [ "$rc" -ne 0 ] && [ "$bad_n" -eq 0 ]; then fail_step "make installcheck (exit $rc, no test reported FAILED)"; fi
	if [ -f regression.diffs ] && { [ "$rc" -ne 0 ] || [ "$bad_n" -gt 0 ]; }; then
		section "regression.diffs"
		head -n 2000 regression.diffs
	fi
	rm -f "$out"
fi

# ---- TAP scripts
scripts=()
for f in test/integration/*.sh test/suites/*.sh test/*/run_tests.sh test/fuzz/run.sh; do
	[ -f "$f" ] || continue
	[ -n "$BB_ONLY" ] && ! [[ $f =~ $BB_ONLY ]] && continue
	scripts+=("$f")
done

for f in "${scripts[@]}"; do
	section "$f"
	out=$(mktemp)
	run_logged "$out" timeout -k 10 "$BB_TEST_TIMEOUT" bash "$f"
	ok_n=$(grep -cE '^ok( |$)' "$out")
	bad_n=$(grep -cE '^not ok( |$)' "$out")
	passed=$((passed + ok_n)); failed=$((failed + bad_n))
	[ "$bad_n" -gt 0 ] && failures+=("$f: $bad_n check(s) not ok")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail_step "$f: timed out after ${BB_TEST_TIMEOUT}s"
	elif [ "$rc" -ne 0 ] && [ "$bad_n" -eq 0 ]; then
		fail_step "$f: exited $rc without a 'not ok' line"
	fi
	echo "# $f: $ok_n ok, $bad_n not ok, exit $rc"
	rm -f "$out"
done

# ---- crashes: a crash of the extension restarts the whole cluster, whatever the tests said.
# SIGKILL is left out: tests kill workers on purpose to prove recovery.
section "control cluster log: crashes"
crashes=$(tail -c +$((log_start + 1)) "$CONTROL_LOG" 2>/dev/null \
	| grep -E 'terminated by signal (4|6|7|8|11)([^0-9]|$)' -A1 || true)
if [ -n "$crashes" ]; then
	printf '%s\n' "$crashes"
	fail_step "control cluster: a server process crashed ($(printf '%s\n' "$crashes" | grep -c 'terminated by signal') time(s), see $CONTROL_LOG)"
else
	echo "none"
fi

section "summary"
finish
