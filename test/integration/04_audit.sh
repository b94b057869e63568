#!/usr/bin/env bash
# 04_audit — calls that fail (or whose transaction rolls back) are in bb.audit_log although their
# own row rolled back: the launcher writes them after the abort.  A password never shows (row,
# error, server log); a full queue never blocks a caller, and the lost entries are counted.
. "$(dirname "$0")/../lib/common.sh"
LOG="$BB_RUN_DIR/control/server.log"
PW="pw-$RANDOM-auditleak"
launcher=""
trap '[ -n "$launcher" ] && kill -CONT "$launcher" 2>/dev/null' EXIT

# drop_extension: DROP EXTENSION may deadlock with the launcher's catalog reads: retry
drop_extension() {
	local i
	for ((i = 0; i < 10; i++)); do
		ctl_psql -c "SET client_min_messages = warning" -c "DROP SERVER IF EXISTS \"bytebase_pg-t\" CASCADE" \
			-c "DROP EXTENSION IF EXISTS bytebase CASCADE" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
ok "a fresh extension" drop_extension
ctl_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS postgres_fdw" -c "CREATE EXTENSION bytebase"
ctl_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bb_audit_admin') THEN
             CREATE ROLE bb_audit_admin LOGIN; END IF; END \$\$;" -c "GRANT bytebase_admin TO bb_audit_admin" >/dev/null 2>&1

# as_admin SQL: runs SQL with bb_audit_admin as the session user; prints psql's output.
as_admin() {
	printf 'SET SESSION AUTHORIZATION bb_audit_admin;\n%s\n' "$1" | "$PGBIN/psql" -X -q -A -t \
		-h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$CONTROL_DB" 2>&1
}

# wait_row DESC CONDITION: passes once bb.audit_log has a row matching CONDITION (the launcher
# writes entries of failed calls right after the abort; give it up to 30 s).
wait_row() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(ctl_psql -c "SELECT EXISTS (SELECT 1 FROM bb.audit_log WHERE $2)")" = t ] && { _bb_report 0 "$1"; return; }
		sleep 0.1
	done
	_bb_report 1 "$1" "no row WHERE $2; the log has:
$(ctl_psql -c "SELECT who, \"function\", arguments, outcome, sqlstate, error FROM bb.audit_log")"
}

# a failed call at the top level: error, SQLSTATE, message, the session user
out=$(as_admin "SELECT bb.create_project('bad name')")
like "the call fails" 'invalid project name' "$out"
wait_row "a failed call is recorded with its error" "who = 'bb_audit_admin' AND \"function\" = 'create_project'
	AND arguments->>'name' = 'bad name' AND outcome = 'error' AND sqlstate = '42602'
	AND error = 'invalid project name \"bad name\"'"

# a call refused by the role check is recorded too: attempts are what an auditor looks for
ctl_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bb_audit_dev') THEN
             CREATE ROLE bb_audit_dev LOGIN; END IF; END \$\$;" -c "GRANT bytebase_developer TO bb_audit_dev" >/dev/null 2>&1
out=$(printf 'SET SESSION AUTHORIZATION bb_audit_dev;\nSET ROLE bytebase_developer;\nSELECT bb.create_environment(%s);\n' "'sneaky'" \
	| "$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$CONTROL_DB" 2>&1)
like "a developer may not create an environment" 'permission denied' "$out"
wait_row "the refused attempt is recorded with the person, not the role" "who = 'bb_audit_dev' AND \"function\" = 'create_environment'
	AND arguments->>'name' = 'sneaky' AND outcome = 'error' AND sqlstate = '42501'"

# failures caught by an exception block or a savepoint; a call rolled back after it returned
as_admin "DO \$\$ BEGIN PERFORM bb.drop_project('nope'); EXCEPTION WHEN OTHERS THEN NULL; END \$\$;" >/dev/null
wait_row "a failure caught by an exception block is recorded" "\"function\" = 'drop_project'
	AND arguments->>'name' = 'nope' AND outcome = 'error' AND sqlstate = '42704'"
as_admin "BEGIN; SAVEPOINT s; SELECT bb.drop_environment('nowhere'); ROLLBACK TO s;
          SELECT bb.create_project('kept'); COMMIT;" >/dev/null
wait_row "a failure rolled back to a savepoint is recorded" "\"function\" = 'drop_environment'
	AND arguments->>'name' = 'nowhere' AND outcome = 'error' AND sqlstate = '42704'"
is "the rest of that transaction committed with its ok row" "1" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.audit_log WHERE arguments->>'name' = 'kept' AND outcome = 'ok'")"
as_admin "BEGIN; SELECT bb.create_project('undone'); ROLLBACK;" >/dev/null
wait_row "a call whose transaction rolled back is recorded as rolled_back" "\"function\" = 'create_project'
	AND arguments->>'name' = 'undone' AND outcome = 'rolled_back' AND sqlstate IS NULL"
as_admin "BEGIN; SELECT bb.create_project('later'); SELECT 1/0; COMMIT;" >/dev/null
wait_row "so is one undone by a later error in its transaction" "arguments->>'name' = 'later' AND outcome = 'rolled_back'"
out=$(as_admin "BEGIN; SELECT bb.create_project('prepared'); PREPARE TRANSACTION 'bb_audit';")
like "a transaction with audited calls cannot be prepared" 'cannot PREPARE a transaction that called bytebase API functions' "$out"
wait_row "its call is recorded as rolled back" "arguments->>'name' = 'prepared' AND outcome = 'rolled_back'"
is "nothing is recorded twice" "0" "$(ctl_psql -c "SELECT count(*) FROM (SELECT arguments FROM bb.audit_log
	WHERE \"function\" LIKE 'create_%' GROUP BY arguments HAVING count(*) > 1) d")"

# passwords: failed add_instance and alter_instance calls carry one, nothing shows it
out=$(as_admin "SELECT bb.add_instance('leak1', 'oracle', '127.0.0.1', 1521, 'app', '$PW')")
like "add_instance with a bad engine fails" 'unknown engine' "$out"
wait_row "the failed add_instance is recorded, password redacted" "\"function\" = 'add_instance'
	AND arguments->>'name' = 'leak1' AND arguments->>'password' = '<redacted>' AND outcome = 'error'"
as_admin "SELECT bb.add_instance('pg-t', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', 'wrong', verify => false)" >/dev/null
out=$(as_admin "SELECT bb.alter_instance('pg-t', port => 1, password => '$PW')")
like "alter_instance to a dead port fails its check" 'could not verify instance "pg-t"' "$out"
is "its error does not show the password" "" "$(printf '%s' "$out" | grep -F -- "$PW")"
wait_row "the failed alter_instance is recorded, password redacted" "\"function\" = 'alter_instance'
	AND arguments->>'password' = '<redacted>' AND outcome = 'error' AND sqlstate = '08001'"
is "the failed alter_instance changed nothing" "$TARGET_PG_PORT|{user=$TARGET_PG_USER,password=wrong}" \
	"$(ctl_psql -c "SELECT i.port, m.umoptions FROM bb.instance i JOIN pg_user_mappings m ON m.srvname = i.server_name
	                WHERE i.name = 'pg-t'")"
out=$(as_admin "SELECT bb.alter_instance('pg-t', password => '$TARGET_PG_PASSWORD')")
is "alter_instance with the right password passes its check" "" "$out"
like "the rotated credentials connect" 'PostgreSQL' "$(ctl_psql -c "SELECT bb.test_connection('pg-t')" 2>&1)"

# a session that ends during a call (no error reaches the function manager): still recorded
as_admin "SELECT * FROM bb.remote_query('pg-t', 'postgres', 'SELECT pg_sleep(20)')" >/dev/null 2>&1 &
bg=$!
pid=""
for ((i = 0; i < 100; i++)); do
	pid=$(ctl_psql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%remote_query(''pg-t''%' AND pid <> pg_backend_pid()")
	[ -n "$pid" ] && break
	sleep 0.1
done
ok "the remote query runs" test -n "$pid"
ctl_psql -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait $bg
wait_row "a call whose session was terminated is recorded" "\"function\" = 'remote_query'
	AND outcome = 'error' AND error = 'the session ended during the call'"

ok "the password is in no audit row" test "$(ctl_psql -c "SELECT count(*) FROM bb.audit_entry
	WHERE arguments::text LIKE '%$PW%' OR coalesce(error, '') LIKE '%$PW%'")" = 0

# a full queue: with the launcher stopped, 140 failures fill the 128 slots; callers go on, the
# 12 others are logged and counted, and everything queued is written once the launcher resumes
launcher=$(ctl_psql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'bytebase launcher'")
ok "the launcher runs" test -n "$launcher"
for ((i = 0; i < 100; i++)); do   # stop it while it sleeps on its latch (it holds no lock then)
	kill -STOP "$launcher"
	[ "$(ctl_psql -c "SELECT wait_event FROM pg_stat_activity WHERE pid = $launcher")" = Extension ] && break
	kill -CONT "$launcher"
	sleep 0.05
done
log_before=$(grep -c 'the audit queue is full' "$LOG")
ok "140 failing calls do not wait for the stopped launcher" timeout 60 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
	-h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$CONTROL_DB" -c "
	SET SESSION AUTHORIZATION bb_audit_admin;
	DO \$\$ BEGIN FOR i IN 1..140 LOOP
	  BEGIN PERFORM bb.drop_project('burst-' || i); EXCEPTION WHEN undefined_object THEN NULL; END;
	END LOOP; END \$\$;"
is "the 12 entries beyond the queue are in the server log" 12 $(($(grep -c 'the audit queue is full' "$LOG") - log_before))
kill -CONT "$launcher"
launcher=""
wait_row "the launcher reports the lost entries" "\"function\" = 'audit_queue' AND outcome = 'error'
	AND error LIKE '12 audit entries were lost%'"
wait_row "the 128 queued entries are written" "(SELECT count(*) FROM bb.audit_entry
	WHERE \"function\" = 'drop_project' AND arguments->>'name' LIKE 'burst-%') = 128"

sleep 0.3
is "the server log does not contain the password" "0" "$(grep -cF -- "$PW" "$LOG")"

ctl_psql -c "DROP ROLE IF EXISTS bb_audit_dev" >/dev/null 2>&1
ok "clean up" drop_extension
ctl_psql -c "DROP ROLE bb_audit_admin"
done_testing
