#!/usr/bin/env bash
# 13_sync_instance — bb.sync_instance across engines: roles (only bytebase_admin), the password
# rule for non-superuser callers, unknown/NULL instance, one database failing records its
# sync_error while the others sync (also a remote cancel, statement timeout or termination),
# a local cancel stops the whole call, an unreachable instance changes nothing, assignments
# survive a re-sync, the snapshot has one shape for every engine, and failing remote calls
# leave no connection behind.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/driver_hooks.sh"

LIMITED_PW="limited_$$_pw"
cleanup() {
	target_psql postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bbt_locker'" \
		>/dev/null 2>&1
	target_psql postgres -c "DROP DATABASE IF EXISTS bbt_open" -c "DROP DATABASE IF EXISTS bbt_locked" \
		-c "DROP DATABASE IF EXISTS bbt_slow" -c "DROP DATABASE IF EXISTS bbt_term" \
		-c "DROP ROLE IF EXISTS bbt_limited" >/dev/null 2>&1
	drop_driver_hooks
	ctl_psql -c "DROP ROLE IF EXISTS bbt_sync_dev" -c "DROP ROLE IF EXISTS bbt_sync_admin" >/dev/null 2>&1
}
# At exit: no extension and no instance servers left behind (postgres_fdw servers outlive
# DROP EXTENSION bytebase), so the tests that follow start from a clean control database.
leave_control_clean() {
	ctl_psql -c "DO \$\$ DECLARE s name; BEGIN
	  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
	    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
	  DROP EXTENSION IF EXISTS bytebase CASCADE;" >/dev/null 2>&1
}
trap 'cleanup; leave_control_clean' EXIT
ctl_err() { printf '\\set VERBOSITY verbose\n%s\n' "$1" | ctl_psql 2>&1; }
# The same as the login role bbt_sync_admin (a bytebase_admin, not a superuser).
admin_err() {
	printf '\\set VERBOSITY verbose\n%s\n' "$1" | "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U bbt_sync_admin -d "$CONTROL_DB" 2>&1
}

ok "fresh extension" ctl_psql -c "
  DO \$\$ DECLARE s name; BEGIN
    FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
      EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION bytebase;"
cleanup
ok "roles created" ctl_psql -c "CREATE ROLE bbt_sync_dev LOGIN IN ROLE bytebase_developer" \
	-c "CREATE ROLE bbt_sync_admin LOGIN IN ROLE bytebase_admin"
ok "target databases and a limited user" target_psql postgres -v pw="$LIMITED_PW" <<'EOF'
CREATE ROLE bbt_limited LOGIN PASSWORD :'pw';
CREATE DATABASE bbt_open;
CREATE DATABASE bbt_locked;
REVOKE CONNECT ON DATABASE bbt_locked FROM PUBLIC;
EOF
ok "table in bbt_open" target_psql bbt_open -c "CREATE TABLE t (a int PRIMARY KEY)"

ok "instances registered" ctl_psql -v pw="$TARGET_PG_PASSWORD" -v lpw="$LIMITED_PW" \
	-v mpw="$MYSQL_PASSWORD" -v cpw="$CH_PASSWORD" <<EOF
SELECT bb.create_environment('dev');
SELECT bb.add_instance('pg-s', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'dev');
SELECT bb.add_instance('pg-limited', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'bbt_limited', :'lpw');
SELECT bb.add_instance('my-s', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'mpw');
SELECT bb.add_instance('ch-s', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'cpw');
EOF

# ---- roles
for f in "bb.sync_instance('pg-s')" "bb.test_connection('pg-s')" "bb.remote_query('pg-s', NULL, 'SELECT 1')"; do
	sql_error "developer may not call $f" "42501: permission denied" "SET SESSION AUTHORIZATION bbt_sync_dev; SELECT $f;"
done
sql_error "the C body is not callable by others" "42501: permission denied for function _sync_instance_c" \
	"SET SESSION AUTHORIZATION bbt_sync_admin; SELECT bb._sync_instance_c('pg-s');"
n=$(ctl_psql -c "SET SESSION AUTHORIZATION bbt_sync_admin; SELECT bb.sync_instance('pg-s')")
like "an admin role may sync" "^[0-9]+$" "$n"
is "created_by is the calling admin role" "bbt_sync_admin" \
	"$(ctl_psql -c "SELECT DISTINCT created_by FROM bb.database WHERE instance_id = bb._instance_id('pg-s')")"
# ---- the password rule: a server that asks for no password (postgres is trusted on the
# target's loopback) would let a non-superuser act as that server's superuser
ok "trusted instances registered" ctl_psql -c "SELECT bb.add_instance('pg-trust', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', verify => false)" \
	-c "SELECT bb.add_instance('pg-trust-pw', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', 'ignored', verify => false)" \
	-c "SELECT bb.add_instance('pg-trust-ok', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', options => '{\"password_required\": false}', verify => false)"
sql_error "password_required must be a boolean" '22023: option password_required must be true or false' \
	"SELECT bb.add_instance('pg-trust-bad', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', options => '{\"password_required\": \"no\"}', verify => false);"
like "only a superuser may set password_required to false" '42501: only a superuser may set password_required to false' \
	"$(admin_err "SELECT bb.add_instance('pg-trust-no', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', options => '{\"password_required\": false}', verify => false);")"
out=$(admin_err "SELECT bb.sync_instance('pg-trust');")
like "admin login role: an instance without a password is refused" '2F003: instance "pg-trust" has no password' "$out"
like "admin login role: the hint says what to do" 'HINT:  .*password_required.* to false' "$out"
is "nothing was registered" "0" "$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE instance = 'pg-trust'")"
out=$(admin_err "SELECT bb.test_connection('pg-trust-pw');")
like "admin login role: a server that never asked for the password is refused" \
	'2F003: instance "pg-trust-pw" did not ask for the password' "$out"
like "admin login role: that hint names pg_hba.conf and the option" 'HINT:  .*pg_hba.conf.*password_required' "$out"
like "admin login role: password_required=false lets it through" "^PostgreSQL" "$(admin_err "SELECT bb.test_connection('pg-trust-ok');")"
like "admin login role: and sync works with it" "^[0-9]+$" "$(admin_err "SELECT bb.sync_instance('pg-trust-ok');")"
like "a superuser may use them" "^PostgreSQL" "$(ctl_psql -c "SELECT bb.test_connection('pg-trust')")"
like "a superuser may use them (password not asked)" "^PostgreSQL" "$(ctl_psql -c "SELECT bb.test_connection('pg-trust-pw')")"
# the acting role, not the caller, decides (an executor acts for the issue's creator)
ok "driver test hooks installed" install_driver_hooks
sql_error "acting role that is not a superuser: refused" '2F003: instance "pg-trust" has no password' \
	"SELECT bbt_exec('pg-trust', NULL, 'SELECT 1', acting_role => 'bbt_sync_admin');"
like "acting role that is a superuser: allowed" "rows_returned=1 " \
	"$(ctl_psql -c "SELECT bbt_exec('pg-trust', NULL, 'SELECT 1', acting_role => 'postgres')")"
like "acting role with password_required=false: allowed" "rows_returned=1 " \
	"$(ctl_psql -c "SELECT bbt_exec('pg-trust-ok', NULL, 'SELECT 1', acting_role => 'bbt_sync_admin')")"

# ---- the one table of engines (bb_engines() fills the bb.engine catalog table)
is "engines: name, dialect, transactional DDL, resumable, driver" \
	"postgres:postgres:t:t:t clickhouse:clickhouse:f:t:t mysql:mysql:f:t:t snowflake:snowflake:f:t:t tidb:tidb:f:t:t" \
	"$(ctl_psql -c "SELECT string_agg(concat_ws(':', name, dialect, transactional_ddl, resumable, has_driver), ' '
	                ORDER BY name <> 'postgres', name) FROM bbt_engines()")"
sql_error "a Snowflake instance whose secret is not a private key says so (14_drivers_snowflake tests the driver)" \
	'28000: could not read the private key of instance "sf": it is not a PEM private key' \
	"SELECT bb.add_instance('sf', 'snowflake', 'example.invalid', 443, 'u', 'p', verify => false); SELECT bb.test_connection('sf');"
sql_error "unknown instance" "42704: instance \"nope\" does not exist" "SELECT bb.sync_instance('nope');"
sql_error "NULL instance" "22004: instance must not be NULL" "SELECT bb.sync_instance(NULL);"

# ---- one database fails, the others sync
n=$(ctl_psql -c "SELECT bb.sync_instance('pg-limited')")
is "sync counts every database, also one it cannot read" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'")" "$n"
is "the unreadable database has status error and keeps the reason" "error|t" \
	"$(ctl_psql -c "SELECT status, sync_error LIKE '%permission denied for database \"bbt_locked\"%' FROM bb.databases WHERE ref = 'pg-limited/bbt_locked'")"
is "the others synced" "ok|1" \
	"$(ctl_psql -c "SELECT status, tables FROM bb.databases WHERE ref = 'pg-limited/bbt_open'")"
ok "connect granted" target_psql postgres -c "GRANT CONNECT ON DATABASE bbt_locked TO bbt_limited"
ctl_psql -c "SELECT bb.sync_instance('pg-limited')" >/dev/null
is "a later successful sync clears sync_error" "ok|" \
	"$(ctl_psql -c "SELECT status, sync_error FROM bb.databases WHERE ref = 'pg-limited/bbt_locked'")"

# ---- errors about the target are one database's sync_error; a local cancel stops the call.
# A session holding pg_attrdef exclusively makes the snapshot query of its database wait.
ok "databases for the error cases" target_psql postgres -c "DROP DATABASE IF EXISTS bbt_slow" \
	-c "DROP DATABASE IF EXISTS bbt_term" -c "CREATE DATABASE bbt_slow" -c "CREATE DATABASE bbt_term" \
	-c "ALTER DATABASE bbt_slow SET statement_timeout = '300ms'"
lock_catalog() {
	( PGAPPNAME=bbt_locker PGOPTIONS="-c statement_timeout=0" target_psql "$1" -c "BEGIN;
	  LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);" >/dev/null 2>&1 & )
	for _ in $(seq 150); do
		[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bbt_locker'
		                             AND wait_event = 'PgSleep'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
unlock_catalog() {
	target_psql postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bbt_locker'" >/dev/null
	for _ in $(seq 50); do
		[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bbt_locker'")" = 0 ] && return 0
		sleep 0.1
	done
}
# Waits until our snapshot query in database $1 waits for the lock.
snapshot_waiting() {
	for _ in $(seq 150); do
		[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bytebase'
		                             AND datname = '$1' AND wait_event_type = 'Lock'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
sync_bg_out=$BB_RUN_DIR/sync_bg.out
# Starts bb.sync_instance('pg-s') in the background (output in $sync_bg_out).
sync_in_background() {
	( ctl_err "SELECT bb.sync_instance('pg-s');" >"$sync_bg_out" 2>&1 ) &
	sync_pid=$!
}
expected_dbs=$(target_psql postgres -c "SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'")
open_synced() { ctl_psql -c "SELECT synced_at > '$1' FROM bb.database WHERE instance_id = bb._instance_id('pg-s') AND name = 'bbt_open'"; }

ok "catalog locked in bbt_slow" lock_catalog bbt_slow
t0=$(ctl_psql -c "SELECT now()")
is "remote statement timeout (57014): the sync goes on" "$expected_dbs" "$(ctl_psql -c "SELECT bb.sync_instance('pg-s')")"
is "remote statement timeout: that database keeps the reason" "error|t" \
	"$(ctl_psql -c "SELECT status, sync_error LIKE 'canceling statement due to statement timeout%' FROM bb.databases WHERE ref = 'pg-s/bbt_slow'")"
is "remote statement timeout: the others synced" "t" "$(open_synced "$t0")"
unlock_catalog

# A sync while the snapshot of bbt_term waits; pg_$1_backend hits that remote backend: the sync
# goes on, that database records the remote error $3, the others sync.
remote_interrupt() {
	local fn=$1 what=$2 reason=$3
	t0=$(ctl_psql -c "SELECT now()")
	sync_in_background
	ok "$what: the snapshot of bbt_term waits for the lock" snapshot_waiting bbt_term
	ok "$what: pg_${fn}_backend on the target" target_psql postgres -c "SELECT pg_${fn}_backend(pid)
	   FROM pg_stat_activity WHERE application_name = 'bytebase' AND datname = 'bbt_term'"
	wait $sync_pid
	is "$what: the sync goes on" "$expected_dbs" "$(cat "$sync_bg_out")"
	is "$what: that database keeps the reason" "error|$reason" \
		"$(ctl_psql -c "SELECT status, sync_error FROM bb.databases WHERE ref = 'pg-s/bbt_term'")"
	is "$what: the others synced" "t" "$(open_synced "$t0")"
}
ok "catalog locked in bbt_term" lock_catalog bbt_term
remote_interrupt cancel "remote cancel (57014, same text as a local one)" "canceling statement due to user request"
remote_interrupt terminate "remote termination (57P01)" "terminating connection due to administrator command"

t0=$(ctl_psql -c "SELECT now()")
sync_in_background
ok "snapshot of bbt_term waits for the lock once more" snapshot_waiting bbt_term
ok "the sync's own backend canceled" ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                                                  WHERE query LIKE '%bb.sync_instance(''pg-s'')%' AND pid <> pg_backend_pid()"
wait $sync_pid
like "local cancel: the whole call stops" "ERROR:  57014: canceling statement due to user request" "$(cat "$sync_bg_out")"
is "local cancel: nothing of it is kept" "f|terminating connection due to administrator command" \
	"$(open_synced "$t0")|$(ctl_psql -c "SELECT sync_error FROM bb.databases WHERE ref = 'pg-s/bbt_term'")"
for _ in $(seq 50); do
	[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bytebase' AND datname = 'bbt_term'")" = 0 ] && break
	sleep 0.1
done
is "local cancel: the remote query was canceled too" "0" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bytebase' AND datname = 'bbt_term'")"
unlock_catalog
ctl_psql -c "SELECT bb.sync_instance('pg-s')" >/dev/null
is "with the lock gone both sync again" "ok|ok" \
	"$(ctl_psql -c "SELECT string_agg(status, '|' ORDER BY database) FROM bb.databases WHERE ref IN ('pg-s/bbt_slow', 'pg-s/bbt_term')")"

# ---- assignments survive, an unreachable instance changes nothing
ok "database assigned" ctl_psql -c "SELECT bb.create_project('shop')" \
	-c "SELECT bb.assign_database('pg-s/bbt_open', 'shop', labels => '{\"tenant\": \"acme\"}')"
ctl_psql -c "SELECT bb.sync_instance('pg-s')" >/dev/null
is "re-sync keeps project and labels" 'shop|{"tenant": "acme"}|ok' \
	"$(ctl_psql -c "SELECT project, labels, status FROM bb.databases WHERE ref = 'pg-s/bbt_open'")"
before=$(ctl_psql -c "SELECT string_agg(database || ':' || status, ',') FROM bb.databases WHERE instance = 'pg-s'")
ok "credentials broken" ctl_psql -c "ALTER USER MAPPING FOR PUBLIC SERVER \"bytebase_pg-s\" OPTIONS (SET password 'wrong')"
sql_error "unreachable instance: clear error" 'could not connect to instance "pg-s"' "SELECT bb.sync_instance('pg-s');"
is "a failed sync changes nothing" "$before" \
	"$(ctl_psql -c "SELECT string_agg(database || ':' || status, ',') FROM bb.databases WHERE instance = 'pg-s'")"
ok "credentials restored" ctl_psql -v pw="$TARGET_PG_PASSWORD" <<'EOF'
ALTER USER MAPPING FOR PUBLIC SERVER "bytebase_pg-s" OPTIONS (SET password :'pw');
EOF

# ---- one snapshot shape for all engines
ok "mysql and clickhouse synced" ctl_psql -c "SELECT bb.sync_instance('my-s'), bb.sync_instance('ch-s')"
ok "a mysql table" ctl_psql -c "SELECT * FROM bb.remote_query('my-s', NULL, 'CREATE DATABASE IF NOT EXISTS bbt_shape')" \
	-c "SELECT * FROM bb.remote_query('my-s', 'bbt_shape', 'CREATE TABLE IF NOT EXISTS t (a INT PRIMARY KEY, b TEXT)')"
ok "a clickhouse table" ctl_psql -c "SELECT * FROM bb.remote_query('ch-s', NULL, 'CREATE DATABASE IF NOT EXISTS bbt_shape')" \
	-c "SELECT * FROM bb.remote_query('ch-s', 'bbt_shape', 'CREATE TABLE IF NOT EXISTS t (a Int32, b String) ENGINE = MergeTree ORDER BY a')"
ctl_psql -c "SELECT bb.sync_instance('my-s'), bb.sync_instance('ch-s')" >/dev/null
SHAPE="SELECT DISTINCT (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(t) k) || '/' ||
              (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_array_elements(t->'columns') c, jsonb_object_keys(c) k
                WHERE c = t->'columns'->0) || '/' ||
              (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_array_elements(t->'indexes') i, jsonb_object_keys(i) k
                WHERE i = t->'indexes'->0)
         FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t
        WHERE (d.instance_id, d.name) IN ((bb._instance_id('pg-s'), 'bbt_open'), (bb._instance_id('my-s'), 'bbt_shape'),
                                          (bb._instance_id('ch-s'), 'bbt_shape'))"
is "tables, columns and indexes have the same keys on every engine" \
	"columns,indexes,name,schema/default,name,nullable,type/columns,name,primary,unique" "$(ctl_psql -c "$SHAPE")"
ctl_psql -c "SELECT * FROM bb.remote_query('my-s', NULL, 'DROP DATABASE bbt_shape')" \
	-c "SELECT * FROM bb.remote_query('ch-s', NULL, 'DROP DATABASE bbt_shape')" >/dev/null

# ---- database names with a quote and a backslash are quoted right in every catalog query
WEIRD_SQL=$(cat <<'EOF'
SELECT * FROM bb.remote_query('my-s', NULL, $q$CREATE DATABASE `bbt_we'ird\x`$q$);
SELECT * FROM bb.remote_query('my-s', $q$bbt_we'ird\x$q$, 'CREATE TABLE t (a int)');
SELECT * FROM bb.remote_query('ch-s', NULL, $q$CREATE DATABASE `bbt_we'ird\\x`$q$);
SELECT * FROM bb.remote_query('ch-s', $q$bbt_we'ird\x$q$, 'CREATE TABLE t (a Int8) ENGINE = Memory');
SELECT count(*) FROM (SELECT bb.sync_instance('my-s'), bb.sync_instance('ch-s')) s;
SELECT string_agg(ref || ':' || status || ':' || tables, ',' ORDER BY ref) FROM bb.databases WHERE database LIKE 'bbt_we%';
SELECT * FROM bb.remote_query('my-s', NULL, $q$DROP DATABASE `bbt_we'ird\x`$q$);
SELECT * FROM bb.remote_query('ch-s', NULL, $q$DROP DATABASE `bbt_we'ird\\x`$q$);
EOF
)
is "names with a quote and a backslash sync on MySQL and ClickHouse" \
	"1
ch-s/bbt_we'ird\\x:ok:1,my-s/bbt_we'ird\\x:ok:1" "$(printf '%s\n' "$WEIRD_SQL" | ctl_psql 2>&1)"

# ---- option "tls": every engine insists on an encrypted connection (the test servers offer none)
ok "tls instances registered" ctl_psql -v pw="$TARGET_PG_PASSWORD" -v mpw="$MYSQL_PASSWORD" -v cpw="$CH_PASSWORD" <<EOF
SELECT bb.add_instance('pg-tls', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', options => '{"tls": true}', verify => false);
SELECT bb.add_instance('my-tls', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'mpw', options => '{"tls": true}', verify => false);
SELECT bb.add_instance('ch-tls', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'cpw', options => '{"tls": true}', verify => false);
SELECT bb.add_instance('pg-tls-bad', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', options => '{"tls": "maybe"}', verify => false);
SELECT bb.add_instance('pg-sslmode', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', options => '{"tls": true, "sslmode": "prefer"}', verify => false);
EOF
sql_error "postgres: tls refused by a server without SSL" 'could not connect to instance "pg-tls"' \
	"SELECT bb.test_connection('pg-tls');"
sql_error "postgres: the reason" 'server does not support SSL, but SSL was required' "SELECT bb.test_connection('pg-tls');"
sql_error "mysql: tls refused by a server without SSL" 'could not connect to instance "my-tls"' "SELECT bb.test_connection('my-tls');"
sql_error "mysql: the reason" 'MySQL error 2026' "SELECT bb.test_connection('my-tls');"
sql_error "clickhouse: https refused by a plain HTTP port" 'could not connect to instance "ch-tls"' "SELECT bb.test_connection('ch-tls');"
sql_error "a tls option that is not a boolean" '22023: option "tls" of instance "pg-tls-bad" must be a boolean' \
	"SELECT bb.test_connection('pg-tls-bad');"
like "postgres: an explicit sslmode wins over tls" "^PostgreSQL" "$(ctl_psql -c "SELECT bb.test_connection('pg-sslmode')")"

# ---- no leaked connections after errors: in one session, ten caught failures, then count the
# bytebase sessions on the target from that same session (the counting one is the only one left)
LEAK_SQL=$(cat <<'EOF'
DO $$ BEGIN FOR i IN 1..10 LOOP
  BEGIN PERFORM bb.remote_query('pg-s', 'bbt_open', 'SELECT 1/0');
  EXCEPTION WHEN division_by_zero THEN NULL; END;
END LOOP; END $$;
SELECT * FROM bb.remote_query('pg-s', 'postgres',
  'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ''bytebase''');
EOF
)
is "failed remote calls leave no connection open" '{"n": "1"}' "$(printf '%s\n' "$LEAK_SQL" | ctl_psql 2>&1)"

done_testing
