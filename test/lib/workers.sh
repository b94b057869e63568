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
fresh_extension() {
	ctl_psql -c "DROP EXTENSION IF EXISTS bytebase CASCADE" -c "CREATE EXTENSION IF NOT EXISTS postgres_fdw" \
		-c "CREATE EXTENSION bytebase" >/dev/null 2>&1 || ctl_psql -c "CREATE EXTENSION bytebase"
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

# A login role allowed to approve (approvals are refused to the creator).
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
