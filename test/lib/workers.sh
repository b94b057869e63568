# test/lib/workers.sh — helpers of the rollout-worker tests (20_workers_*, 21_crash_*), sourced after common.sh.

# pg_ctl of the control cluster (BB_PGCTL_BIN lets a private install stand in for $PGBIN).
ctl_pgctl() {
	local bin=${BB_PGCTL_BIN:-$PGBIN}
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$bin/pg_ctl" -D "$BB_RUN_DIR/control/data" "$@"
	else
		"$bin/pg_ctl" -D "$BB_RUN_DIR/control/data" "$@"
	fi
}

# Waits until the control database answers (after a crash restart or a start), at most 60 s.
wait_control() {
	local i
	for ((i = 0; i < 300; i++)); do
		ctl_psql -c "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# Fresh extension in the control database (every worker test is self-contained).
# (DROP EXTENSION may deadlock with a worker's catalog query: the workers retry, so do we.)
fresh_extension() {
	local i
	for ((i = 0; i < 10; i++)); do
		ctl_psql -c "DROP EXTENSION IF EXISTS bytebase CASCADE" -c "DROP SCHEMA IF EXISTS bb CASCADE" >/dev/null 2>&1 && break
		sleep 0.5
	done
	ctl_psql -c "CREATE EXTENSION IF NOT EXISTS postgres_fdw" -c "CREATE EXTENSION bytebase" >/dev/null
}

# Drops and creates target PostgreSQL databases: recreate_target_dbs NAME...
recreate_target_dbs() {
	local d
	for d in "$@"; do
		target_psql postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" -c "CREATE DATABASE \"$d\"" >/dev/null
	done
}

# Registers the target PostgreSQL cluster as instance $1 in environment $2 and syncs it.
add_target_pg() {
	ctl_psql -c "SELECT bb.add_instance('$1', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$TARGET_PG_PASSWORD', '$2')" \
		-c "SELECT bb.sync_instance('$1')" >/dev/null
}

# A login role allowed to approve (approvals are refused to the issue's creator).
ensure_approver() {
	ctl_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wk_approver') THEN
	               CREATE ROLE wk_approver LOGIN; END IF; END \$\$" -c "GRANT bytebase_approver TO wk_approver" >/dev/null
}

# Polls SQL on the control database until it prints EXPECTED (at most $3 seconds, default 60).
wait_for_value() {
	local sql=$1 expected=$2 secs=${3:-60} i v=
	for ((i = 0; i < secs * 10; i++)); do
		v=$(ctl_psql -c "$sql" 2>/dev/null)
		[ "$v" = "$expected" ] && return 0
		sleep 0.1
	done
	echo "waited ${secs}s for [$sql] = [$expected], last value [$v]" >&2
	return 1
}

# Stops the test early when the control cluster died (a crash must fail loudly, not cascade).
require_control() {
	if ! ctl_psql -c "SELECT 1" >/dev/null 2>&1; then
		_bb_report 1 "control cluster is up" "the control cluster stopped answering"
		done_testing
	fi
}

# ---- crash tests (21_crash_*.sh): a slow migration inserting one row into a counter table on
# five target databases; the caller crashes something mid-rollout; afterwards every target must
# have exactly one row and every task must be done.
CRASH_DBS="wk_crash1 wk_crash2 wk_crash3 wk_crash4 wk_crash5"

# Sets up the five databases and starts the rollout; prints the issue id.
crash_start_rollout() {
	local d targets=""
	fresh_extension
	recreate_target_dbs $CRASH_DBS
	for d in $CRASH_DBS; do target_psql "$d" -c "CREATE TABLE counter (n int)" >/dev/null; done
	ctl_psql -c "SELECT bb.create_environment('dev')" >/dev/null
	add_target_pg pg dev
	ctl_psql -c "SELECT bb.create_project('crash')" >/dev/null
	for d in $CRASH_DBS; do
		ctl_psql -c "SELECT bb.assign_database('pg/$d', 'crash', 'dev')" >/dev/null
		targets="$targets,'pg/$d'"
	done
	ctl_psql -c "SELECT bb.apply('crash', 'INSERT INTO counter VALUES (1); SELECT pg_sleep(2);',
	             targets => ARRAY[${targets#,}], version => 'crash-1')"
}

# Waits until some task of the issue has been running (for real, not a dry run) for a moment;
# prints the executor pid of one of them.
crash_wait_running_task() {
	local issue=$1 i pid=
	for ((i = 0; i < 600; i++)); do
		pid=$(ctl_psql -c "SELECT r.executor_pid FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id
		                    WHERE t.issue_id = $issue AND r.status = 'running' AND r.started_at < now() - interval '0.3 s'
		                    ORDER BY r.id LIMIT 1" 2>/dev/null)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.1
	done
	return 1
}

# After the crash: the rollout settles done, each target has exactly one row.
crash_verify() {
	local issue=$1 d counts=""
	ok "control cluster is back" wait_control
	local st; st=$(ctl_psql -c "SELECT bb.wait($issue, '180 s')")
	is "rollout finishes after recovery" "done" "$st"
	for d in $CRASH_DBS; do counts="$counts$(target_psql "$d" -c "SELECT count(*) FROM counter") "; done
	is "each target applied the change exactly once" "1 1 1 1 1 " "$counts"
	is "every task is done" "5" "$(ctl_psql -c "SELECT count(*) FROM bb.task WHERE issue_id = $issue AND status = 'done'")"
	is "one changelog entry per target" "5" \
		"$(ctl_psql -c "SELECT count(*) FROM bb.changelog_entry WHERE issue_id = $issue AND status = 'done'")"
	is "no task is left running" "0" \
		"$(ctl_psql -c "SELECT count(*) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue AND r.status = 'running'")"
	like "the interrupted attempt says so" "interrupted" \
		"$(ctl_psql -c "SELECT string_agg(r.error, '; ') FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue AND r.status = 'failed'")"
	if [ "$_bb_failed" -gt 0 ]; then  # what happened, for the person reading the failure
		ctl_psql -c "SELECT t.id, t.status, t.error, r.attempt, r.status, r.error, r.executor_pid, r.started_at::time,
		                    r.finished_at::time FROM bb.task t LEFT JOIN bb.task_run r ON r.task_id = t.id
		              WHERE t.issue_id = $issue ORDER BY 1, 4" | sed 's/^/#   /'
		grep -E "bytebase|terminated|ready to accept" "$BB_RUN_DIR/control/server.log" | tail -30 | sed 's/^/#   log: /'
	fi
}

# Worker tests exercise execution, not review: every rule off in every environment.
review_off() {
	ctl_psql -c "SELECT count(bb.set_review_rule(e.name, r.id, 'off'))
	               FROM bb.environments e, (SELECT DISTINCT id FROM bb.review_rules) r" >/dev/null
}
