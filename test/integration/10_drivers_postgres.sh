#!/usr/bin/env bash
# 10_drivers_postgres — the PostgreSQL driver against the target cluster: sync registers the
# databases with their schema snapshots and marks dropped ones vanished; remote errors keep their
# SQLSTATE and name the command; wrong password, closed port and a server that never answers fail
# clearly (no password anywhere); statement timeout and pg_cancel_backend stop the remote query;
# one statement per request, results capped (bounded memory) or only counted, sessions pinned to
# standard_conforming_strings=on, a remote 57P01 keeps its SQLSTATE, and connections work with no
# transaction open (a background worker, as executors do).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/driver_hooks.sh"
LOG_START=$(stat -c %s "$BB_RUN_DIR/control/server.log" 2>/dev/null || echo 0)

HOLE_PORT=$((${BB_PORT_BASE:-55000} + 7))	# accepts TCP connections, never answers
CLOSED_PORT=$((${BB_PORT_BASE:-55000} + 8))	# nothing listens
BAD_PW="Wr0ng_pw_$$_secret"
hole_pid=""
cleanup() {
	[ -n "$hole_pid" ] && kill "$hole_pid" 2>/dev/null
	target_psql postgres -c "DROP DATABASE IF EXISTS bbt_shop" -c "DROP DATABASE IF EXISTS bbt_crm" >/dev/null 2>&1
	drop_driver_hooks
	ctl_psql -c "DROP TABLE IF EXISTS public.bbt_detached_job" -c "DROP ROLE IF EXISTS bbt_drv_admin" >/dev/null 2>&1
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

# Runs SQL on the control db, printing the verbose error (with SQLSTATE) on failure.
ctl_err() { printf '\\set VERBOSITY verbose\n%s\n' "$1" | ctl_psql 2>&1; }

ok "fresh extension" ctl_psql -c "
  DO \$\$ DECLARE s name; BEGIN
    FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
      EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION bytebase;"

ok "target databases created" target_psql postgres -c "DROP DATABASE IF EXISTS bbt_shop" \
	-c "DROP DATABASE IF EXISTS bbt_crm" -c "CREATE DATABASE bbt_shop" -c "CREATE DATABASE bbt_crm"
ok "target tables created" target_psql bbt_shop -c "
  CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL, note text DEFAULT 'none',
                       amount numeric(10,2));
  CREATE UNIQUE INDEX orders_customer_note ON orders (customer, lower(note));
  CREATE SCHEMA billing;
  CREATE TABLE billing.invoice (no int, order_id bigint REFERENCES orders);
  CREATE INDEX invoice_order ON billing.invoice (order_id);"

ok "instance registered" ctl_psql -v pw="$TARGET_PG_PASSWORD" <<EOF
SELECT bb.create_environment('dev');
SELECT bb.add_instance('pg-t', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'dev');
EOF

expected=$(target_psql postgres -c "SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'")
is "sync_instance returns the number of user databases" "$expected" "$(ctl_psql -c "SELECT bb.sync_instance('pg-t')")"
is "postgres and templates are not registered" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE database IN ('postgres', 'template0', 'template1')")"
is "new databases: instance's environment, no project, ok" "pg-t/bbt_shop|dev||ok|2" \
	"$(ctl_psql -c "SELECT ref, environment, project, status, tables FROM bb.databases WHERE database = 'bbt_shop'")"
is "created_by is the caller" "postgres" \
	"$(ctl_psql -c "SELECT created_by FROM bb.database WHERE name = 'bbt_shop'")"
is "snapshot: tables sorted by schema" "billing.invoice,public.orders" \
	"$(ctl_psql -c "SELECT string_agg((t->>'schema') || '.' || (t->>'name'), ',')
	                FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t WHERE d.name = 'bbt_shop'")"
is "snapshot: columns in order with type, nullability, default" \
	'id:bigint:false:nextval('"'"'orders_id_seq'"'"'::regclass)|customer:text:false|note:text:true:'"'"'none'"'"'::text|amount:numeric(10,2):true' \
	"$(ctl_psql -c "SELECT string_agg(concat_ws(':', c->>'name', c->>'type', c->>'nullable', c->>'default'), '|')
	                FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t,
	                     jsonb_array_elements(t->'columns') c
	               WHERE d.name = 'bbt_shop' AND t->>'name' = 'orders'")"
is "snapshot: indexes with columns, unique, primary" \
	'orders_customer_note:["customer", "lower(note)"]:true:false|orders_pkey:["id"]:true:true' \
	"$(ctl_psql -c "SELECT string_agg(concat_ws(':', i->>'name', i->'columns', i->>'unique', i->>'primary'), '|')
	                FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t,
	                     jsonb_array_elements(t->'indexes') i
	               WHERE d.name = 'bbt_shop' AND t->>'name' = 'orders'")"

ok "database dropped remotely" target_psql postgres -c "DROP DATABASE bbt_crm"
ctl_psql -c "SELECT bb.sync_instance('pg-t')" >/dev/null
is "dropped database is marked vanished" "vanished" \
	"$(ctl_psql -c "SELECT status FROM bb.databases WHERE ref = 'pg-t/bbt_crm'")"
ok "database created again" target_psql postgres -c "CREATE DATABASE bbt_crm"
ctl_psql -c "SELECT bb.sync_instance('pg-t'); SELECT bb.sync_instance('pg-t')" >/dev/null
is "reappeared database is ok again, registered once" "ok|1" \
	"$(ctl_psql -c "SELECT max(status), count(*) FROM bb.databases WHERE ref = 'pg-t/bbt_crm'")"

is "remote_query returns rows as jsonb" '{"a": "1", "b": null, "c": "x"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('pg-t', 'bbt_shop', 'SELECT 1 AS a, NULL::text AS b, ''x'' AS c')")"
like "test_connection returns the server version" "^PostgreSQL 15" "$(ctl_psql -c "SELECT bb.test_connection('pg-t')")"
out=$(ctl_err "SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT * FROM no_such_table')")
like "remote error keeps its SQLSTATE" "ERROR:  42P01: relation \"no_such_table\" does not exist" "$out"
like "remote error names instance and command" 'remote command on instance "pg-t": SELECT \* FROM no_such_table' "$out"

is "a 5 MB statement goes through" "5000000" \
	"$(ctl_psql -c "SELECT length(r->>'c') FROM bb.remote_query('pg-t', NULL, 'SELECT ''' || repeat('x', 5000000) || ''' AS c') r")"

# ---- one statement per request; results kept within the caps, or only counted
ok "driver test hooks installed" install_driver_hooks
out=$(ctl_err "SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT 1; SELECT 2')")
like "single: the server refuses a second statement" "42601: cannot insert multiple commands into a prepared statement" "$out"
is "bb_exec (not single) keeps taking a script and returns its last result" "rows_returned=1 kept=1 affected=-1 first=2" \
	"$(ctl_psql -c "SELECT bbt_exec('pg-t', 'bbt_shop', 'SELECT 1; SELECT 2', single => false)")"
is "DML reports the affected rows" "rows_returned=0 kept=0 affected=3 first=(none)" \
	"$(ctl_psql -c "SELECT bbt_exec('pg-t', 'bbt_shop', 'CREATE TEMP TABLE t (a int); INSERT INTO t SELECT generate_series(1, 3)', single => false)")"
is "keep_rows=false: a million rows of 1 kB are counted, none kept" "rows_returned=1000000 kept=0 affected=-1 first=(none)" \
	"$(ctl_psql -c "SELECT bbt_exec('pg-t', NULL, 'SELECT repeat(''x'', 1000), generate_series(1, 1000000)', keep_rows => false)")"
is "default caps" "1000000|256MB" \
	"$(ctl_psql -c "SELECT current_setting('bytebase.max_result_rows') || '|' || current_setting('bytebase.max_result_bytes')")"
ok "a non-superuser role" ctl_psql -c "DROP ROLE IF EXISTS bbt_drv_admin" -c "CREATE ROLE bbt_drv_admin IN ROLE bytebase_admin"
sql_error "only superusers may change the caps" "42501: permission denied to set parameter \"bytebase.max_result_rows\"" \
	"SET ROLE bbt_drv_admin; SET bytebase.max_result_rows = 10;"
out=$(ctl_err "SET bytebase.max_result_rows = 1000; SELECT count(*) FROM bb.remote_query('pg-t', NULL, 'SELECT generate_series(1, 3000000000)');")
like "row cap: a 3-billion-row result fails with the setting named" \
	"54000: remote result has more than bytebase.max_result_rows \(1000\) rows" "$out"
like "row cap: the hint says what to do" "HINT:  .*raise bytebase.max_result_rows" "$out"
like "row cap: names instance and command" 'remote command on instance "pg-t": SELECT generate_series' "$out"
remote_active() { target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = '$1' AND state = 'active'"; }
for _ in $(seq 50); do [ "$(remote_active 'SELECT generate_series(1, 3000000000)')" = 0 ] && break; sleep 0.1; done
is "row cap: the remote query was canceled" "0" "$(remote_active 'SELECT generate_series(1, 3000000000)')"
out=$(ctl_err "SET bytebase.max_result_bytes = '32MB'; SELECT count(*) FROM bb.remote_query('pg-t', NULL, 'SELECT repeat(''x'', 1000), generate_series(1, 3000000)');")
like "byte cap: a 3 GB result fails with the setting named" \
	"54000: remote result is larger than bytebase.max_result_bytes \(33554432 bytes\)" "$out"
# peak memory of one session that got the 3 GB result against a 32 MB cap and counted 1 GB without keeping it
hwm=$(peak_rss <<'EOF'
SET bytebase.max_result_bytes = '32MB';
SELECT count(*) FROM bb.remote_query('pg-t', NULL, 'SELECT repeat(''x'', 1000), generate_series(1, 3000000)');
SELECT bbt_exec('pg-t', NULL, 'SELECT repeat(''x'', 1000), generate_series(1, 1000000)', keep_rows => false) IS NULL;
EOF
)
echo "# peak RSS of that backend: ${hwm} kB"
ok "bounded memory: the backend's peak RSS stays under 160 MB" test "${hwm:-999999}" -lt 163840

# ---- sessions lex as the splitter does, whatever the server or database says
ok "bbt_shop set to standard_conforming_strings = off" \
	target_psql postgres -c "ALTER DATABASE bbt_shop SET standard_conforming_strings = off"
is "our session has standard_conforming_strings on" '{"standard_conforming_strings": "on"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('pg-t', 'bbt_shop', 'SHOW standard_conforming_strings')")"
is "a backslash in a string is an ordinary character" '{"n": "3"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('pg-t', 'bbt_shop', \$q\$SELECT length('a\b') AS n\$q\$)")"
ok "setting reset" target_psql postgres -c "ALTER DATABASE bbt_shop RESET standard_conforming_strings"

# ---- a remote FATAL keeps its SQLSTATE (the executor must not take it for its own shutdown)
out_file=$BB_RUN_DIR/drivers_pg_fatal.out
( ctl_err "SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT pg_sleep(62)')" >"$out_file" 2>&1 ) &
bg=$!
for _ in $(seq 150); do [ "$(remote_active 'SELECT pg_sleep(62)')" = 1 ] && break; sleep 0.1; done
ok "remote backend terminated" target_psql postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(62)'"
wait $bg
like "remote termination: 57P01 with the remote message" "ERROR:  57P01: terminating connection due to administrator command" "$(cat "$out_file")"

# ---- no transaction open: a background worker takes its jobs in one transaction, then connects,
# runs and closes with none open (as executors will)
ok "job table" detached_jobs "$CONTROL_DB"
ok "jobs queued" ctl_psql -v pw="$TARGET_PG_PASSWORD" <<EOF
INSERT INTO bbt_detached_job (engine, host, port, username, password, database, mode, sql) VALUES
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_shop', 'exec', 'SELECT 1; SELECT 2'),
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_shop', 'exec_single', 'SHOW standard_conforming_strings'),
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_shop', 'count', 'SELECT generate_series(1, 100000)'),
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_crm', 'snapshot', 'bbt_shop'),
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_crm', 'version', NULL),
 ('postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT * FROM no_such_table'),
 ('postgres', '127.0.0.1', $CLOSED_PORT, '$TARGET_PG_USER', :'pw', 'bbt_shop', 'version', NULL);
EOF
ok "worker ran" ctl_psql -c "SELECT bbt_detached(current_database())"
job() { ctl_psql -c "SELECT result FROM bbt_detached_job WHERE id = $1"; }
is "no transaction: a script, last result" "rows_returned=1 kept=1 affected=-1 first=2" "$(job 1)"
is "no transaction: one statement, pinned setting" "rows_returned=1 kept=1 affected=-1 first=on" "$(job 2)"
is "no transaction: rows counted" "rows_returned=100000 kept=0 affected=-1 first=(none)" "$(job 3)"
like "no transaction: schema snapshot (of another database: a second connection)" '"name":"orders"' "$(job 4)"
like "no transaction: server version" "^PostgreSQL 15" "$(job 5)"
is "no transaction: a remote error is a target error with its SQLSTATE" \
	'error 42P01 (target): relation "no_such_table" does not exist' "$(job 6)"
is "no transaction: a failed connect is a target error" \
	'error 08001 (target): could not connect to instance "selftest"' "$(job 7)"
is "no transaction: nothing left connected" "0" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bytebase'")"

# ---- bad input
ctl_psql -c "SELECT bb.add_instance('pg-badpw', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$BAD_PW', verify => false)" \
	-c "SELECT bb.add_instance('pg-closed', 'postgres', '127.0.0.1', $CLOSED_PORT, 'u', 'p', verify => false)" \
	-c "SELECT bb.add_instance('pg-hole', 'postgres', '127.0.0.1', $HOLE_PORT, 'u', 'p', verify => false)" >/dev/null
out=$(ctl_err "SELECT bb.sync_instance('pg-badpw')")
like "wrong password: clear error naming the instance" '28P01: could not connect to instance "pg-badpw"' "$out"
like "wrong password: the reason is shown" 'password authentication failed' "$out"
if printf '%s' "$out" | grep -q "$BAD_PW"; then _bb_report 1 "wrong password: password not in the error" "$out"
else _bb_report 0 "wrong password: password not in the error"; fi
is "failed sync registers nothing" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE instance = 'pg-badpw'")"

out=$(ctl_err "SELECT bb.sync_instance('pg-closed')")
like "closed port: clear error" '08001: could not connect to instance "pg-closed".*' "$out"
like "closed port: reason" 'Connection refused' "$out"

perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	Listen => 5, ReuseAddr => 1) or die "listen: $!"; sleep 300' "$HOLE_PORT" &
hole_pid=$!
sleep 0.3
t0=$(date +%s%3N)
out=$(ctl_err "SET bytebase.connect_timeout = '1s'; SELECT bb.sync_instance('pg-hole');")
t1=$(date +%s%3N)
like "server that never answers: connect timeout" '08001: could not connect to instance "pg-hole": timeout expired' "$out"
echo "# never-answering server failed after $((t1 - t0)) ms (connect_timeout 1 s)"
ok "connect timeout returns within 10 s" test $((t1 - t0)) -lt 10000

out=$(ctl_err "SET bytebase.statement_timeout = '1s'; SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT pg_sleep(20)');")
like "statement timeout: 57014 with a clear message" '57014: canceling statement due to bytebase.statement_timeout' "$out"
like "statement timeout: names instance and command" 'remote command on instance "pg-t": SELECT pg_sleep\(20\)' "$out"
sleep 0.5
is "statement timeout canceled the remote query" "0" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'")"

# pg_cancel_backend of a backend waiting on the remote server
out_file=$BB_RUN_DIR/drivers_pg_cancel.out
( ctl_psql -c "SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT pg_sleep(60)')" >"$out_file" 2>&1 ) &
bg=$!
for _ in $(seq 150); do
	[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")" = 1 ] && break
	sleep 0.1
done
t0=$(date +%s%3N)
ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''pg-t''%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
t1=$(date +%s%3N)
echo "# pg_cancel_backend -> backend free after $((t1 - t0)) ms"
ok "canceled backend returns within 10 s" test $((t1 - t0)) -lt 10000
like "cancel: user-request error" 'canceling statement due to user request' "$(cat "$out_file")"
sleep 0.3
is "cancel stopped the remote query too" "0" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")"

# pg_terminate_backend: FATAL skips every PG_CATCH; closing the connection at exit cancels the query
( ctl_psql -c "SELECT bb.remote_query('pg-t', 'bbt_shop', 'SELECT pg_sleep(61)')" >/dev/null 2>&1 ) &
bg=$!
for _ in $(seq 150); do
	[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(61)'")" = 1 ] && break
	sleep 0.1
done
ctl_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''pg-t''%pg_sleep(61)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
for _ in $(seq 30); do
	[ "$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(61)' AND state = 'active'")" = 0 ] && break
	sleep 0.1
done
is "terminate stopped the remote query too" "0" \
	"$(target_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(61)' AND state = 'active'")"

is "the server log never shows the passwords" "0" \
	"$(tail -c +$((LOG_START + 1)) "$BB_RUN_DIR/control/server.log" | grep -c -e "$BAD_PW" -e "$TARGET_PG_PASSWORD" || true)"

done_testing
