#!/usr/bin/env bash
# Passwords never reach the server log, an error, a view, or another role's pg_stat_activity.
. "$(dirname "$0")/../lib/common.sh"
LOG="$BB_RUN_DIR/control/server.log"
PW="pw-$RANDOM-leakcheck"

ctl_psql -c "SET client_min_messages = warning; DROP EXTENSION IF EXISTS bytebase CASCADE;
             CREATE EXTENSION IF NOT EXISTS postgres_fdw; CREATE EXTENSION bytebase;" >/dev/null

# a failing call that carries a password: the error names the problem, not the password
out=$(ctl_psql -c "SELECT bb.add_instance('leak1', 'oracle', '127.0.0.1', 1521, 'app', '$PW')" 2>&1)
like "bad engine is refused" 'unknown engine "oracle"' "$out"
is "the error does not show the password" "" "$(printf '%s' "$out" | grep -F -- "$PW")"
out=$(ctl_psql -c "SELECT bb.add_instance('leak2', 'mysql', '127.0.0.1', 99999, 'app', '$PW')" 2>&1)
like "bad port is refused" 'out of range' "$out"
ctl_psql -c "SELECT bb.add_instance('leak3', 'mysql', '127.0.0.1', 3306, 'app', '$PW', verify => false)" >/dev/null
out=$(ctl_psql -c "SELECT bb.add_instance('leak3', 'mysql', '127.0.0.1', 3306, 'app', '$PW', verify => false)" 2>&1)
like "duplicate instance is refused" 'already exists' "$out"

# views and catalog tables readable by the roles show no password
views=$(ctl_psql -c "SELECT row_to_json(i) FROM bb.instances i; SELECT row_to_json(d) FROM bb.databases d;")
is "views do not show the password" "" "$(printf '%s' "$views" | grep -F -- "$PW")"

# another role's view of pg_stat_activity while the call with a password is running
ctl_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bb_leak_dev') THEN
             CREATE ROLE bb_leak_dev LOGIN; END IF; END \$\$; GRANT bytebase_developer TO bb_leak_dev;" >/dev/null
ctl_psql -c "SELECT bb.add_instance('leak4', 'mysql', '127.0.0.1', 3306, 'app', '$PW', verify => false), pg_sleep(2)" >/dev/null &
bg=$!
sleep 0.7
seen=$("$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U bb_leak_dev -d "$CONTROL_DB" \
	-c "SELECT coalesce(query, '') FROM pg_stat_activity")
wait $bg
is "a developer does not see the password in pg_stat_activity" "" "$(printf '%s' "$seen" | grep -F -- "$PW")"
umo=$("$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U bb_leak_dev -d "$CONTROL_DB" \
	-c "SELECT coalesce(umoptions::text, '') FROM pg_user_mappings" 2>&1)
is "a developer does not see credentials in pg_user_mappings" "" "$(printf '%s' "$umo" | grep -F -- "$PW")"

# the drivers' own refusals and failures do not show it either: a server that never asks for the
# password (the target trusts postgres on loopback) refused for a non-superuser admin, a closed port
ctl_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bb_leak_admin') THEN
             CREATE ROLE bb_leak_admin LOGIN; END IF; END \$\$; GRANT bytebase_admin TO bb_leak_admin;" \
	-c "SELECT bb.add_instance('leak5', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', '$PW', verify => false)" \
	-c "SELECT bb.add_instance('leak6', 'mysql', '127.0.0.1', $((${BB_PORT_BASE:-55000} + 8)), 'app', '$PW', verify => false)" >/dev/null
out=$("$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U bb_leak_admin -d "$CONTROL_DB" \
	-c "SELECT bb.test_connection('leak5')" 2>&1)
like "a server that did not ask for the password is refused for a non-superuser" 'did not ask for the password' "$out"
is "that error does not show the password" "" "$(printf '%s' "$out" | grep -F -- "$PW")"
out=$(ctl_psql -c "SELECT bb.sync_instance('leak6')" 2>&1)
like "a failed connect is refused clearly" 'could not connect to instance "leak6"' "$out"
is "that error does not show the password" "" "$(printf '%s' "$out" | grep -F -- "$PW")"

sleep 0.3
is "the server log does not contain the password" "0" "$(grep -cF -- "$PW" "$LOG")"

ctl_psql -c "SET client_min_messages = warning; DROP EXTENSION bytebase CASCADE; DROP ROLE bb_leak_dev; DROP ROLE bb_leak_admin;" >/dev/null
for s in leak3 leak4 leak5 leak6; do ctl_psql -c "DROP SERVER IF EXISTS \"bytebase_$s\" CASCADE" >/dev/null 2>&1; done
done_testing
