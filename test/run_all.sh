#!/usr/bin/env bash
# test/run_all.sh — the one test command: build, start the engines, run every test, print
# "N passed, N failed" as the last line and exit non-zero when anything failed.
#
# Steps: install missing Debian packages (test/lib/engines.sh); make WERROR=1 && make install;
# test/lib/engines.sh start (stopped again on any exit); make installcheck (pg_regress: each "... ok"/"... FAILED" line is one test); then, in this order,
# every test/integration/*.sh, every test/suites/*.sh, every test/*/run_tests.sh and test/fuzz/run.sh
# (each one's TAP "ok"/"not ok" lines are counted; a script that exits non-zero without a
# "not ok" line counts as one failure, so does one that runs longer than BB_TEST_TIMEOUT seconds).
# A server process of the control cluster killed by SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL
# during the run (its log) is one more failure.
# Then the assert leg (test/lib/cassert.sh): PostgreSQL built from Debian's source with
# --enable-cassert, the extension against it with -DUSE_ASSERT_CHECKING, the control cluster
# restarted on those binaries; make installcheck and the BB_CASSERT_TESTS scripts run again and are
# counted the same way ("[cassert]" in their names), plus its crashes, failed assertions and
# memory-context check reports; then the control cluster goes back to the normal binaries.
#
# Settings: BB_PORT_BASE (55000), BB_RUN_DIR (/tmp/bb-test-$BB_PORT_BASE), BB_TEST_TIMEOUT (900),
#   BB_REUSE_ENGINES=1 keeps engines running between runs (restarts only the control cluster to
#   load the freshly installed library), BB_ONLY=<regex> runs only the scripts whose path matches,
#   BB_CASSERT=0 skips the assert leg (default 1, which CI uses; 0 when BB_ONLY is set: BB_CASSERT=1
#   BB_ONLY=... runs the matching tests in both builds), BB_CASSERT_DIR (/tmp/bb-cassert-$BB_PORT_BASE),
#   BB_CASSERT_TESTS (regex of the scripts the leg runs), BB_CASSERT_REUSE=1 reuses the assert
#   build found in BB_CASSERT_DIR (local runs), BB_CASSERT_JOBS (its make -j).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export BB_PORT_BASE=${BB_PORT_BASE:-55000}
export BB_RUN_DIR=${BB_RUN_DIR:-/tmp/bb-test-$BB_PORT_BASE}
BB_TEST_TIMEOUT=${BB_TEST_TIMEOUT:-900}
BB_REUSE_ENGINES=${BB_REUSE_ENGINES:-0}
BB_ONLY=${BB_ONLY:-}
# the assert leg: on by default in full runs (CI); a BB_ONLY run includes it only with BB_CASSERT=1
if [ -z "$BB_ONLY" ]; then BB_CASSERT=${BB_CASSERT:-1}; else BB_CASSERT=${BB_CASSERT:-0}; fi
BB_CASSERT_DIR=${BB_CASSERT_DIR:-/tmp/bb-cassert-$BB_PORT_BASE}
BB_CASSERT_TESTS=${BB_CASSERT_TESTS:-^test/integration/(04_audit|1[0-9]_drivers|13_sync|20_workers_(pg|mysql|clickhouse)|21_crash_executor|2[2-3]_|30_rollout_|40_gitops|50_query)}
# The engines (fd 9, the run lock, is not passed on: servers must not hold it).
engines() { bash "$ROOT/test/lib/engines.sh" "$@" 9>&-; }

passed=0
failed=0
failures=()
engines_up=0
cassert_pid=""

section() { printf '\n===== %s =====\n' "$*"; }

# Records one failed step that produced no test lines of its own.
fail_step() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }

# Stops the background assert build, and the engines unless the caller wants to keep them for the next run.
cleanup() {
	if [ -n "$cassert_pid" ]; then
		kill -TERM -- -"$cassert_pid" 2>/dev/null
		cassert_pid=""
	fi
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

# ---- how each kind of test is run and counted (the normal run and the assert leg share them)

# make installcheck in DIR against PG_CONFIG's pg_regress: each "... ok"/"... FAILED" line is one test.
run_installcheck() {
	local label=$1 dir=$2 pg_config=$3 out ok_n bad_n
	out=$(mktemp)
	rm -f "$dir/regression.diffs"
	run_logged "$out" make -C "$dir" installcheck PG_CONFIG="$pg_config" PGHOST="$CONTROL_SOCK" \
		PGPORT="$CONTROL_PORT" PGUSER=postgres BB_REGRESS_DB="$CONTROL_DB"
	ok_n=$(grep -cE '\.\.\. ok( |$)' "$out")
	bad_n=$(grep -cE '\.\.\. FAILED( |$)' "$out")
	passed=$((passed + ok_n)); failed=$((failed + bad_n))
	[ "$bad_n" -gt 0 ] && failures+=("${label}pg_regress: $(grep -E '\.\.\. FAILED' "$out" | awk '{print ($1 == "test" ? $2 : $1)}' | tr '\n' ' ')")
	if [ "$rc" -ne 0 ] && [ "$bad_n" -eq 0 ]; then fail_step "${label}make installcheck (exit $rc, no test reported FAILED)"; fi
	if [ -f "$dir/regression.diffs" ] && { [ "$rc" -ne 0 ] || [ "$bad_n" -gt 0 ]; }; then
		section "${label}regression.diffs"
		head -n 2000 "$dir/regression.diffs"
	fi
	rm -f "$out"
}

# One TAP script: each "ok"/"not ok" line is one test; a silent non-zero exit or a timeout is one failure.
run_tap() {
	local label=$1 f=$2 out ok_n bad_n t0=$SECONDS
	section "$label$f"
	out=$(mktemp)
	run_logged "$out" timeout -k 10 "$BB_TEST_TIMEOUT" bash "$f"
	ok_n=$(grep -cE '^ok( |$)' "$out")
	bad_n=$(grep -cE '^not ok( |$)' "$out")
	passed=$((passed + ok_n)); failed=$((failed + bad_n))
	[ "$bad_n" -gt 0 ] && failures+=("$label$f: $bad_n check(s) not ok")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail_step "$label$f: timed out after ${BB_TEST_TIMEOUT}s"
	elif [ "$rc" -ne 0 ] && [ "$bad_n" -eq 0 ]; then
		fail_step "$label$f: exited $rc without a 'not ok' line"
	fi
	echo "# $label$f: $ok_n ok, $bad_n not ok, exit $rc, $((SECONDS - t0)) s"
	rm -f "$out"
}

# A crash of the extension restarts the whole cluster, whatever the tests said: a control-cluster
# process killed by a signal in the log written since byte FROM is one failure (SIGKILL is left
# out: tests kill workers on purpose).  With MEMCHECK=1 (assert build) the memory-context checks'
# warnings and failed assertions are one more.
check_control_log() {
	local label=$1 from=$2 memcheck=${3:-0} crashes bad
	section "${label}control cluster log: crashes"
	crashes=$(tail -c +$((from + 1)) "$CONTROL_LOG" 2>/dev/null \
		| grep -E 'terminated by signal (4|6|7|8|11)([^0-9]|$)' -A1 || true)
	if [ -n "$crashes" ]; then
		printf '%s\n' "$crashes"
		fail_step "${label}control cluster: a server process crashed ($(printf '%s\n' "$crashes" | grep -c 'terminated by signal') time(s), see $CONTROL_LOG)"
	else
		echo "none"
	fi
	[ "$memcheck" = 1 ] || return 0
	section "${label}control cluster log: assertion failures and memory-context checks"
	bad=$(tail -c +$((from + 1)) "$CONTROL_LOG" 2>/dev/null | grep -E \
		'TRAP: |detected write past chunk end|problem in (alloc set|Generation|slab)' || true)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" | head -n 50
		fail_step "${label}control cluster: $(printf '%s\n' "$bad" | wc -l) assertion/memory-check report(s) in $CONTROL_LOG"
	else
		echo "none"
	fi
}

# The assert build runs in the background while the normal tests run, at nice 19: it only takes
# the CPU they leave idle (they mostly wait on workers and servers).  Its output is shown by the leg.
start_cassert_build() {
	cassert_log=$(mktemp)
	cassert_t0=$SECONDS
	setsid nice -n 19 bash test/lib/cassert.sh build "$BB_CASSERT_DIR" </dev/null >"$cassert_log" 2>&1 9>&- &
	cassert_pid=$!
	echo "assert build started in the background (pid $cassert_pid, $BB_CASSERT_DIR)"
}

# ---- what runs: the TAP scripts, and which tests the assert leg repeats
scripts=()
for f in test/integration/*.sh test/suites/*.sh test/*/run_tests.sh test/fuzz/run.sh; do
	[ -f "$f" ] || continue
	[ -n "$BB_ONLY" ] && ! [[ $f =~ $BB_ONLY ]] && continue
	scripts+=("$f")
done
HAVE_REGRESS=0
compgen -G "sql/[0-9][0-9]_*.sql" >/dev/null && HAVE_REGRESS=1
leg_scripts=()
for f in "${scripts[@]}"; do [[ $f =~ $BB_CASSERT_TESTS ]] && leg_scripts+=("$f"); done
leg_regress=0
[ "$HAVE_REGRESS" = 1 ] && { [ -z "$BB_ONLY" ] || [[ installcheck =~ $BB_ONLY ]]; } && leg_regress=1
run_leg=0
[ "$BB_CASSERT" = 1 ] && { [ ${#leg_scripts[@]} -gt 0 ] || [ "$leg_regress" = 1 ]; } && run_leg=1

# ---- packages (only when some are missing), then build
section "packages"
if ! engines install-packages; then fail_step "install Debian packages (needs root)"; finish; fi
echo "all present: $(engines packages)"

section "build"
# Several checkouts on one machine: a run that installs into the system PostgreSQL while another
# checkout's run uses it would replace the library under that run's servers.  The first run to
# install there holds /tmp/bb-system-pg.owner until it ends; others are refused (use
# test/lib/private_pg.sh).  A clean CI machine has one run, so this never triggers there.
claim_system_pg() {
	local libdir owner=/tmp/bb-system-pg.owner pid dir
	libdir=$("${PG_CONFIG:-pg_config}" --pkglibdir)
	[ "$libdir" = /usr/lib/postgresql/15/lib ] || return 0
	if [ -f "$owner" ]; then
		read -r pid dir <"$owner" || true
		if [ -n "${pid:-}" ] && [ "$pid" != $$ ] && kill -0 "$pid" 2>/dev/null && [ "$dir" != "$PWD" ]; then
			echo "the system PostgreSQL is in use by the test run of $dir (pid $pid); use test/lib/private_pg.sh" >&2
			return 1
		fi
	fi
	echo "$$ $PWD" >"$owner"
	SYSTEM_PG_OWNER=$owner
}
if ! claim_system_pg; then fail_step "make install: the system PostgreSQL is in use by another run"; finish; fi
if ! make -j"$(nproc)" WERROR=1; then fail_step "build (make WERROR=1)"; finish; fi
if ! make install >/dev/null; then fail_step "make install (needs root)"; finish; fi
[ "$run_leg" = 1 ] && start_cassert_build

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
if [ "$HAVE_REGRESS" = 0 ]; then
	echo "no sql/NN_*.sql regression tests: skipped"
elif [ -n "$BB_ONLY" ] && ! [[ installcheck =~ $BB_ONLY ]]; then
	echo "skipped (BB_ONLY=$BB_ONLY)"
else
	run_installcheck "" "$ROOT" "$PG_CONFIG"
fi

# ---- TAP scripts
for f in "${scripts[@]}"; do run_tap "" "$f"; done

check_control_log "" "$log_start"

# ---- the assert leg: PostgreSQL built with --enable-cassert (freed memory clobbered, memory
# contexts checked) and the extension with -DUSE_ASSERT_CHECKING; the control cluster restarts on
# those binaries (same on-disk format), the other engines are reused; then back to the normal ones.
section "assert build (BB_CASSERT=$BB_CASSERT)"
if [ "$BB_CASSERT" != 1 ]; then
	echo "skipped (BB_CASSERT=$BB_CASSERT)"
elif [ "$run_leg" != 1 ]; then
	echo "skipped: no selected test is in the assert leg (BB_CASSERT_TESTS=$BB_CASSERT_TESTS)"
else
	leg_t0=$SECONDS
	echo "waiting for the assert build (started $((SECONDS - cassert_t0)) s ago)"
	wait "$cassert_pid"; rc=$?
	cassert_pid=""
	cat "$cassert_log"; rm -f "$cassert_log"
	echo "assert build: exit $rc, $((SECONDS - cassert_t0)) s since its start, $((SECONDS - leg_t0)) s of them waited for"
	normal_pgbin=$PGBIN normal_pg_config=$PG_CONFIG
	out=$(mktemp)
	[ "$rc" = 0 ] && run_logged "$out" bash test/lib/cassert.sh extension "$BB_CASSERT_DIR"
	rm -f "$out"
	leg_built=$SECONDS
	leg_log_start=$(stat -c %s "$CONTROL_LOG" 2>/dev/null || echo 0)
	if [ "$rc" != 0 ]; then
		fail_step "[cassert] building PostgreSQL with --enable-cassert or the extension against it (logs: $BB_CASSERT_DIR/*.log)"
	elif ! BB_PGBIN=$BB_CASSERT_DIR/postgresql/bin PG_CONFIG=$BB_CASSERT_DIR/postgresql/bin/pg_config engines restart-control; then
		fail_step "[cassert] restarting the control cluster on the assert build"
	else
		. "$BB_RUN_DIR/env.sh"
		echo "control cluster: $("$PGBIN/psql" -X -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d postgres \
			-c "SELECT version() || ', debug_assertions = ' || current_setting('debug_assertions')")"
		if [ "$leg_regress" = 1 ]; then
			section "[cassert] pg_regress (make installcheck)"
			run_installcheck "[cassert] " "$BB_CASSERT_DIR/ext" "$PG_CONFIG"
		fi
		for f in "${leg_scripts[@]}"; do run_tap "[cassert] " "$f"; done
		check_control_log "[cassert] " "$leg_log_start" 1
		section "[cassert] back to the normal build"
		BB_PGBIN=$normal_pgbin PG_CONFIG=$normal_pg_config engines restart-control \
			|| fail_step "[cassert] restarting the control cluster on the normal build"
		. "$BB_RUN_DIR/env.sh"
	fi
	echo "assert leg: waited $((leg_built - leg_t0)) s for the builds, tests $((SECONDS - leg_built)) s"
fi

section "summary"
finish
