#!/usr/bin/env bash
# 12_drivers_clickhouse — the ClickHouse HTTP driver against clickhouse-server 18.16: sync registers
# the databases with their snapshots and marks dropped ones vanished; HTTP errors show "Code: N";
# wrong password, closed port and a server that never answers fail clearly (no password anywhere,
# not even in a URL); statement timeout and pg_cancel_backend stop the remote query (KILL QUERY);
# one statement per request, results capped or only counted, and connections work with no
# transaction open (a background worker, as executors do).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/driver_hooks.sh"
LOG_START=$(stat -c %s "$BB_RUN_DIR/control/server.log" 2>/dev/null || echo 0)

HOLE_PORT=$((${BB_PORT_BASE:-55000} + 7))	# accepts TCP connections, never answers
CLOSED_PORT=$((${BB_PORT_BASE:-55000} + 8))	# nothing listens
BAD_PW="Wr0ng_pw_$$_secret"
hole_pid=""

ch_sql() {
	curl -sS --fail-with-body --max-time 20 -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" \
		"http://127.0.0.1:$CH_HTTP_PORT/" --data-binary "$1"
}
cleanup() {
	[ -n "$hole_pid" ] && kill "$hole_pid" 2>/dev/null
	ch_sql "DROP DATABASE IF EXISTS bbt_shop" >/dev/null 2>&1
	ch_sql "DROP DATABASE IF EXISTS bbt_crm" >/dev/null 2>&1
	drop_driver_hooks
	ctl_psql -c "DROP TABLE IF EXISTS public.bbt_detached_job" >/dev/null 2>&1
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
snap() { ctl_psql -c "SELECT string_agg($1, '|') FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t $2
                      WHERE d.instance_id = bb._instance_id('ch-t') AND d.name = 'bbt_shop' $3"; }
# Count of running queries whose text starts with $1.
ch_running() { ch_sql "SELECT count() FROM system.processes WHERE startsWith(query, '$1')"; }

ok "fresh extension" ctl_psql -c "
  DO \$\$ DECLARE s name; BEGIN
    FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
      EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION bytebase;"

cleanup
ok "database bbt_shop created" ch_sql "CREATE DATABASE bbt_shop"
ok "database bbt_crm created" ch_sql "CREATE DATABASE bbt_crm"
ok "MergeTree table created" ch_sql "CREATE TABLE bbt_shop.events (id UInt64, ts DateTime, user Nullable(String),
  kind String DEFAULT 'click', day Date MATERIALIZED toDate(ts)) ENGINE = MergeTree ORDER BY (id, ts)"
ok "Memory table created" ch_sql "CREATE TABLE bbt_shop.buffer (x Int32) ENGINE = Memory"
ok "view created" ch_sql "CREATE VIEW bbt_shop.v AS SELECT 1 AS one"

ok "instance registered" ctl_psql -v pw="$CH_PASSWORD" <<EOF
SELECT bb.create_environment('prod', protected => true);
SELECT bb.add_instance('ch-t', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', 'prod');
EOF

expected=$(ch_sql "SELECT count() FROM system.databases WHERE name NOT IN ('system')")
is "sync_instance returns the number of databases (default included)" "$expected" \
	"$(ctl_psql -c "SELECT bb.sync_instance('ch-t')")"
is "system is not registered, default is" "default" \
	"$(ctl_psql -c "SELECT string_agg(database, ',') FROM bb.databases WHERE instance = 'ch-t' AND database IN ('system', 'default')")"
is "new databases: instance's environment, ok" "ch-t/bbt_shop|prod||ok|2" \
	"$(ctl_psql -c "SELECT ref, environment, project, status, tables FROM bb.databases WHERE ref = 'ch-t/bbt_shop'")"
is "snapshot: tables only, sorted" "bbt_shop.buffer,bbt_shop.events" \
	"$(snap "(t->>'schema') || '.' || (t->>'name')" "" "" | tr '|' ',')"
is "snapshot: columns in order with type, nullability, default" \
	"id:UInt64:false|ts:DateTime:false|user:Nullable(String):true|kind:String:false:'click'|day:Date:false:MATERIALIZED toDate(ts)" \
	"$(snap "concat_ws(':', c->>'name', c->>'type', c->>'nullable', c->>'default')" \
	        ", jsonb_array_elements(t->'columns') c" "AND t->>'name' = 'events'")"
is "snapshot: the primary key as an index" 'PRIMARY:["id", "ts"]:false:true' \
	"$(snap "concat_ws(':', i->>'name', i->'columns', i->>'unique', i->>'primary')" \
	        ", jsonb_array_elements(t->'indexes') i" "AND t->>'name' = 'events'")"

ok "database dropped remotely" ch_sql "DROP DATABASE bbt_crm"
ctl_psql -c "SELECT bb.sync_instance('ch-t')" >/dev/null
is "dropped database is marked vanished" "vanished" "$(ctl_psql -c "SELECT status FROM bb.databases WHERE ref = 'ch-t/bbt_crm'")"

is "remote_query returns rows as jsonb (TSV escapes decoded)" '{"a": "1", "b": null, "c": "x\ty\\z"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('ch-t', 'bbt_shop', E'SELECT 1 AS a, NULL AS b, ''x\\\\ty\\\\\\\\z'' AS c')")"
is "remote_query runs in the given database" '{"n": "0"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('ch-t', 'bbt_shop', 'SELECT count() AS n FROM buffer')")"
like "test_connection returns the server version" "^[0-9]+\.[0-9]+" "$(ctl_psql -c "SELECT bb.test_connection('ch-t')")"
out=$(ctl_err "SELECT bb.remote_query('ch-t', 'bbt_shop', 'SELEC 1')")
like "HTTP error shows Code: N with a mapped SQLSTATE" "ERROR:  42601: Code: 62\. DB::Exception: Syntax error" "$out"
like "HTTP error names instance and command" 'remote command on instance "ch-t": SELEC 1' "$out"
out=$(ctl_err "SELECT bb.remote_query('ch-t', 'bbt_shop', 'SELECT * FROM no_such_table')")
like "unknown table: Code: 60" "42P01: Code: 60\." "$out"

out=$(ctl_err "SET bytebase.max_result_rows = 10000000; SELECT count(*) FROM bb.remote_query('ch-t', NULL, 'SELECT throwIf(number = 3000000) FROM numbers(4000000)')")
like "an error after the first rows is still an error" "ERROR:  [0-9A-Z]{5}: Code: [0-9]+\. DB::Exception: Value passed to 'throwIf'" "$out"

out=$(ctl_err "SELECT bb.remote_query('ch-t', NULL, 'SELECT ''' || repeat('x', 5000000) || ''' AS c')")
like "a 5 MB statement: the server's clear limit error" "42601: Code: 62\..*Max query size exceeded" "$out"
like "a 5 MB statement: the command is clipped in the context" \
	"remote command on instance \"ch-t\": SELECT 'x{190,200}\.\.\.$" "$out"

# ---- one statement per request; results kept within the caps, or only counted
ok "driver test hooks installed" install_driver_hooks
out=$(ctl_err "SELECT bb.remote_query('ch-t', NULL, 'SELECT 1; SELECT 2')")
like "one statement per request: the server refuses a second one" "42601: Code: 62.*Multi-statements are not allowed" "$out"
is "keep_rows=false: ten million rows are counted, none kept" "rows_returned=10000000 kept=0 affected=-1 first=(none)" \
	"$(ctl_psql -c "SELECT bbt_exec('ch-t', NULL, 'SELECT toString(number) FROM numbers(10000000)', keep_rows => false)")"
is "kept rows" "rows_returned=3 kept=3 affected=-1 first=0" \
	"$(ctl_psql -c "SELECT bbt_exec('ch-t', NULL, 'SELECT number FROM numbers(3)')")"
out=$(ctl_err "SET bytebase.max_result_rows = 1000; SELECT count(*) FROM bb.remote_query('ch-t', NULL, 'SELECT number FROM numbers(3000000000)');")
like "row cap: a 3-billion-row result fails with the setting named" \
	"54000: remote result has more than bytebase.max_result_rows \(1000\) rows" "$out"
like "row cap: names instance and command" 'remote command on instance "ch-t": SELECT number FROM numbers\(3000000000\)' "$out"
WIDE="SELECT concat(toString(number), '$(printf 'x%.0s' $(seq 200))') FROM numbers(3000000000)"
out=$(ctl_err "SET bytebase.max_result_bytes = '32MB'; SELECT count(*) FROM bb.remote_query('ch-t', NULL, \$q\$$WIDE\$q\$);")
like "byte cap: a huge result fails with the setting named" \
	"54000: remote result is larger than bytebase.max_result_bytes \(33554432 bytes\)" "$out"
for _ in $(seq 30); do [ "$(ch_running "SELECT concat(toString(number)")" = 0 ] && break; sleep 0.1; done
is "the capped query stopped on the server" "0" "$(ch_running "SELECT concat(toString(number)")"
out=$(ctl_err "SET bytebase.max_result_rows = 1000; SELECT count(*) FROM bb.remote_query('ch-t', NULL, 'SELECT count() FROM (SELECT number FROM numbers(100000))');")
is "the cap is on the result, not on subqueries" "1" "$out"

# ---- no transaction open (a background worker, as executors will)
ok "job table" detached_jobs "$CONTROL_DB"
ok "jobs queued" ctl_psql -v pw="$CH_PASSWORD" <<EOF
INSERT INTO bbt_detached_job (engine, host, port, username, password, database, mode, sql) VALUES
 ('clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT name FROM system.tables WHERE database = ''bbt_shop'' ORDER BY name'),
 ('clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', NULL, 'count', 'SELECT number FROM numbers(100000)'),
 ('clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', 'bbt_shop', 'snapshot', NULL),
 ('clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', NULL, 'version', NULL),
 ('clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'pw', NULL, 'exec_single', 'SELECT * FROM no_such_table');
EOF
ok "worker ran" ctl_psql -c "SELECT bbt_detached(current_database())"
job() { ctl_psql -c "SELECT result FROM bbt_detached_job WHERE id = $1"; }
is "no transaction: rows kept" "rows_returned=3 kept=3 affected=-1 first=buffer" "$(job 1)"
is "no transaction: rows counted" "rows_returned=100000 kept=0 affected=-1 first=(none)" "$(job 2)"
like "no transaction: schema snapshot" '"name":"events"' "$(job 3)"
like "no transaction: server version" "^18\." "$(job 4)"
like "no transaction: a remote error is a target error with its SQLSTATE" \
	'^error 42P01 \(target\): Code: 60\. DB::Exception: Table default.no_such_table' "$(job 5)"

# ---- bad input
ctl_psql -c "SELECT bb.add_instance('ch-badpw', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', '$BAD_PW', verify => false)" \
	-c "SELECT bb.add_instance('ch-closed', 'clickhouse', '127.0.0.1', $CLOSED_PORT, 'u', 'p', verify => false)" \
	-c "SELECT bb.add_instance('ch-hole', 'clickhouse', '127.0.0.1', $HOLE_PORT, 'u', 'p', verify => false)" >/dev/null
out=$(ctl_err "SELECT bb.sync_instance('ch-badpw')")
like "wrong password: clear error naming the instance" '28P01: could not connect to instance "ch-badpw"' "$out"
like "wrong password: Code: 193" 'Code: 193' "$out"
if printf '%s' "$out" | grep -q "$BAD_PW"; then _bb_report 1 "wrong password: password not in the error" "$out"
else _bb_report 0 "wrong password: password not in the error"; fi
is "failed sync registers nothing" "0" "$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE instance = 'ch-badpw'")"

out=$(ctl_err "SELECT bb.sync_instance('ch-closed')")
like "closed port: clear error" '08001: could not connect to instance "ch-closed"' "$out"

perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	Listen => 5, ReuseAddr => 1) or die "listen: $!"; sleep 300' "$HOLE_PORT" &
hole_pid=$!
sleep 0.3
t0=$(date +%s%3N)
out=$(ctl_err "SET bytebase.connect_timeout = '1s'; SELECT bb.sync_instance('ch-hole');")
t1=$(date +%s%3N)
like "server that never answers: connect timeout" '08001: could not connect to instance "ch-hole": timeout expired' "$out"
echo "# never-answering server failed after $((t1 - t0)) ms (connect_timeout 1 s)"
ok "connect timeout returns within 10 s" test $((t1 - t0)) -lt 10000

out=$(ctl_err "SET bytebase.statement_timeout = '1s'; SELECT bb.remote_query('ch-t', NULL, 'SELECT sleep(3)');")
like "statement timeout: 57014 with a clear message" '57014: canceling statement due to bytebase.statement_timeout' "$out"
like "statement timeout: names instance and command" 'remote command on instance "ch-t": SELECT sleep\(3\)' "$out"

LONG="SELECT sum(number) FROM numbers(200000000000)"
out=$(ctl_err "SET bytebase.statement_timeout = '1s'; SELECT bb.remote_query('ch-t', NULL, '$LONG');")
like "statement timeout on a long scan" '57014: canceling statement due to bytebase.statement_timeout' "$out"
for _ in $(seq 30); do [ "$(ch_running "$LONG")" = 0 ] && break; sleep 0.1; done
is "statement timeout killed the remote query" "0" "$(ch_running "$LONG")"

out_file=$BB_RUN_DIR/drivers_ch_cancel.out
( ctl_psql -c "SELECT bb.remote_query('ch-t', NULL, '$LONG')" >"$out_file" 2>&1 ) &
bg=$!
for _ in $(seq 150); do [ "$(ch_running "$LONG")" = 1 ] && break; sleep 0.1; done
t0=$(date +%s%3N)
ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''ch-t''%numbers(200000000000)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
t1=$(date +%s%3N)
echo "# pg_cancel_backend -> backend free after $((t1 - t0)) ms"
ok "canceled backend returns within 10 s" test $((t1 - t0)) -lt 10000
like "cancel: user-request error" 'canceling statement due to user request' "$(cat "$out_file")"
for _ in $(seq 30); do [ "$(ch_running "$LONG")" = 0 ] && break; sleep 0.1; done
is "cancel killed the remote query too" "0" "$(ch_running "$LONG")"

# pg_terminate_backend: FATAL skips every PG_CATCH; closing the connection at exit kills the query
LONG2="SELECT sum(number) FROM numbers(300000000000)"
( ctl_psql -c "SELECT bb.remote_query('ch-t', NULL, '$LONG2')" >/dev/null 2>&1 ) &
bg=$!
for _ in $(seq 150); do [ "$(ch_running "$LONG2")" = 1 ] && break; sleep 0.1; done
ctl_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''ch-t''%numbers(300000000000)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
for _ in $(seq 30); do [ "$(ch_running "$LONG2")" = 0 ] && break; sleep 0.1; done
is "terminate killed the remote query too" "0" "$(ch_running "$LONG2")"

is "the server log never shows the passwords" "0" \
	"$(tail -c +$((LOG_START + 1)) "$BB_RUN_DIR/control/server.log" | grep -c -e "$BAD_PW" -e "$CH_PASSWORD" || true)"

done_testing
