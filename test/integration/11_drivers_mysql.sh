#!/usr/bin/env bash
# 11_drivers_mysql — the MySQL/TiDB driver against MariaDB: sync registers the schemas with their
# snapshots and marks dropped ones vanished; MySQL errors keep errno and SQLSTATE; wrong password,
# closed port and a server that never answers fail clearly (no password anywhere); statement
# timeout and pg_cancel_backend stop the remote statement (KILL QUERY); one statement per request,
# results capped (bounded memory) or only counted, sessions pinned to a sql_mode without
# ANSI_QUOTES / NO_BACKSLASH_ESCAPES, and connections work with no transaction open (a background
# worker, as executors do), also in a LATIN1 database.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/driver_hooks.sh"
LOG_START=$(stat -c %s "$BB_RUN_DIR/control/server.log" 2>/dev/null || echo 0)

HOLE_PORT=$((${BB_PORT_BASE:-55000} + 7))	# accepts TCP connections, never answers
CLOSED_PORT=$((${BB_PORT_BASE:-55000} + 8))	# nothing listens
BAD_PW="Wr0ng_pw_$$_secret"
hole_pid=""

my_sql() {
	mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B "$@"
}
ORIGINAL_MODE=$(my_sql -e "SELECT @@GLOBAL.sql_mode")
cleanup() {
	[ -n "$hole_pid" ] && kill "$hole_pid" 2>/dev/null
	my_sql -e "DROP DATABASE IF EXISTS bbt_shop; DROP DATABASE IF EXISTS bbt_crm" >/dev/null 2>&1
	my_sql -e "SET GLOBAL sql_mode = '$ORIGINAL_MODE'" >/dev/null 2>&1
	drop_driver_hooks
	ctl_psql -c "DROP TABLE IF EXISTS public.bbt_detached_job" -c "DROP DATABASE IF EXISTS bbt_latin1" >/dev/null 2>&1
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
# Rows of a JSON path query on bbt_shop's snapshot.
snap() { ctl_psql -c "SELECT string_agg($1, '|') FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t $2
                      WHERE d.instance_id = bb._instance_id('my-t') AND d.name = 'bbt_shop' $3"; }

ok "fresh extension" ctl_psql -c "
  DO \$\$ DECLARE s name; BEGIN
    FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
      EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION bytebase;"

ok "schemas and tables created" my_sql -e "
  DROP DATABASE IF EXISTS bbt_shop; DROP DATABASE IF EXISTS bbt_crm;
  CREATE DATABASE bbt_shop; CREATE DATABASE bbt_crm;
  CREATE TABLE bbt_shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(100) NOT NULL,
    note TEXT NULL, status VARCHAR(10) NOT NULL DEFAULT 'new',
    UNIQUE KEY uq_customer_status (customer, status), KEY idx_note (note(20)));
  CREATE TABLE bbt_shop.items (id INT);
  CREATE VIEW bbt_shop.v AS SELECT 1 AS one;"

ok "instances registered" ctl_psql -v pw="$MYSQL_PASSWORD" <<EOF
SELECT bb.create_environment('staging');
SELECT bb.add_instance('my-t', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'staging');
SELECT bb.add_instance('tidb-t', 'tidb', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'staging', verify => false);
EOF

expected=$(my_sql -e "SELECT COUNT(*) FROM information_schema.SCHEMATA
                      WHERE SCHEMA_NAME NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys')")
is "sync_instance returns the number of user schemas" "$expected" "$(ctl_psql -c "SELECT bb.sync_instance('my-t')")"
is "system schemas are not registered" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE instance = 'my-t'
	                AND database IN ('information_schema', 'performance_schema', 'mysql', 'sys')")"
is "new databases: instance's environment, ok" "my-t/bbt_shop|staging||ok|2" \
	"$(ctl_psql -c "SELECT ref, environment, project, status, tables FROM bb.databases WHERE ref = 'my-t/bbt_shop'")"
is "snapshot: base tables only, sorted; schema = the database" "bbt_shop.items,bbt_shop.orders" \
	"$(snap "(t->>'schema') || '.' || (t->>'name')" "" "" | tr '|' ',')"
is "snapshot: columns with type, nullability, default" \
	"id:bigint(20):false:auto_increment|customer:varchar(100):false|note:text:true|status:varchar(10):false:'new'" \
	"$(snap "concat_ws(':', c->>'name', c->>'type', c->>'nullable', c->>'default')" \
	        ", jsonb_array_elements(t->'columns') c" "AND t->>'name' = 'orders'")"
is "snapshot: indexes with key columns (prefix length), unique, primary" \
	'PRIMARY:["id"]:true:true|idx_note:["note(20)"]:false:false|uq_customer_status:["customer", "status"]:true:false' \
	"$(snap "concat_ws(':', i->>'name', i->'columns', i->>'unique', i->>'primary')" \
	        ", jsonb_array_elements(t->'indexes') i" "AND t->>'name' = 'orders'")"
sql_error "engine tidb on a server that is not TiDB is refused (15_drivers_tidb tests TiDB)" \
	'22023: instance "tidb-t" is registered with engine "tidb" but the server is not TiDB' "SELECT bb.sync_instance('tidb-t')"

ok "schema dropped remotely" my_sql -e "DROP DATABASE bbt_crm"
ctl_psql -c "SELECT bb.sync_instance('my-t')" >/dev/null
is "dropped schema is marked vanished" "vanished" "$(ctl_psql -c "SELECT status FROM bb.databases WHERE ref = 'my-t/bbt_crm'")"

is "remote_query returns rows as jsonb" '{"a": "1", "b": null, "c": "é"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT 1 AS a, NULL AS b, ''é'' AS c')")"
is "remote_query of DML returns no rows" "" \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'INSERT INTO items VALUES (1), (2)')")"
is "the insert happened" '{"n": "2"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT COUNT(*) AS n FROM items')")"
like "test_connection returns the server version" "MariaDB" "$(ctl_psql -c "SELECT bb.test_connection('my-t')")"
out=$(ctl_err "SELECT bb.remote_query('my-t', 'bbt_shop', 'SELECT * FROM no_such_table')")
like "remote error keeps errno and SQLSTATE" "ERROR:  42S02: MySQL error 1146: Table 'bbt_shop.no_such_table' doesn't exist" "$out"
like "remote error names instance and command" 'remote command on instance "my-t": SELECT \* FROM no_such_table' "$out"
out=$(ctl_err "SELECT bb.remote_query('my-t', 'bbt_shop', 'SELEC 1')")
like "syntax error keeps its SQLSTATE" "42000: MySQL error 1064" "$out"

is "a 5 MB statement goes through" "5000000" \
	"$(ctl_psql -c "SELECT length(r->>'c') FROM bb.remote_query('my-t', NULL, 'SELECT ''' || repeat('x', 5000000) || ''' AS c') r")"

# ---- one statement per request; results kept within the caps, or only counted
ok "driver test hooks installed" install_driver_hooks
out=$(ctl_err "SELECT bb.remote_query('my-t', 'bbt_shop', 'SELECT 1; SELECT 2')")
like "no CLIENT_MULTI_STATEMENTS: the server refuses a second statement" "42000: MySQL error 1064" "$out"
is "not single makes no difference: still one statement" "42000" \
	"$(ctl_psql -c "DO \$\$ BEGIN PERFORM bbt_exec('my-t', 'bbt_shop', 'SELECT 1; SELECT 2', single => false);
	                EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1 | sed 's/NOTICE:  //')"
is "DML reports the affected rows" "rows_returned=0 kept=0 affected=3 first=(none)" \
	"$(ctl_psql -c "SELECT bbt_exec('my-t', 'bbt_shop', 'INSERT INTO items VALUES (3), (4), (5)')")"
ok "a procedure with two result sets" ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop',
	'CREATE PROCEDURE two_sets() BEGIN SELECT 1 AS a; SELECT 2 AS b; END')"
is "CALL: the first result set, the others read and dropped" '{"a": "1"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'CALL two_sets()')")"
is "keep_rows=false: a million rows of 1 kB are counted, none kept" "rows_returned=1000000 kept=0 affected=-1 first=(none)" \
	"$(ctl_psql -c "SELECT bbt_exec('my-t', 'bbt_shop', 'SELECT REPEAT(''x'', 1000) FROM seq_1_to_1000000', keep_rows => false)")"
out=$(ctl_err "SET bytebase.max_result_rows = 1000; SELECT count(*) FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT seq FROM seq_1_to_3000000000');")
like "row cap: a 3-billion-row result fails with the setting named" \
	"54000: remote result has more than bytebase.max_result_rows \(1000\) rows" "$out"
like "row cap: names instance and command" 'remote command on instance "my-t": SELECT seq FROM seq_1_to_3000000000' "$out"
my_running() { my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '$1'"; }
for _ in $(seq 50); do [ "$(my_running 'SELECT seq FROM seq_1_to_3000000000')" = 0 ] && break; sleep 0.1; done
is "row cap: the remote statement was killed" "0" "$(my_running 'SELECT seq FROM seq_1_to_3000000000')"
out=$(ctl_err "SET bytebase.max_result_bytes = '32MB'; SELECT count(*) FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT REPEAT(''x'', 1000) FROM seq_1_to_3000000');")
like "byte cap: a 3 GB result fails with the setting named" \
	"54000: remote result is larger than bytebase.max_result_bytes \(33554432 bytes\)" "$out"
hwm=$(peak_rss <<'EOF'
SET bytebase.max_result_bytes = '32MB';
SELECT count(*) FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT REPEAT(''x'', 1000) FROM seq_1_to_3000000');
SELECT bbt_exec('my-t', 'bbt_shop', 'SELECT REPEAT(''x'', 1000) FROM seq_1_to_1000000', keep_rows => false) IS NULL;
EOF
)
echo "# peak RSS of that backend: ${hwm} kB"
ok "bounded memory: the backend's peak RSS stays under 160 MB" test "${hwm:-999999}" -lt 163840

# ---- sessions lex as the splitter does: sql_mode without ANSI_QUOTES / NO_BACKSLASH_ESCAPES
GLOBAL_MODE=$(my_sql -e "SELECT @@GLOBAL.sql_mode")
ok "server mode with ANSI_QUOTES and NO_BACKSLASH_ESCAPES" \
	my_sql -e "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES')"
is "our session drops them and keeps the rest" "{\"m\": \"$GLOBAL_MODE\"}" \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT @@SESSION.sql_mode AS m')")"
is "a backslash escapes a quote" '{"v": "a'"'"'b"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', \$q\$SELECT 'a\'b' AS v\$q\$)")"
is "double quotes make a string" '{"v": "x"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT \"x\" AS v')")"
ok "server mode ANSI (implies ANSI_QUOTES)" my_sql -e "SET GLOBAL sql_mode = 'ANSI,STRICT_TRANS_TABLES'"
is "our session: ANSI's parts but ANSI_QUOTES" '{"m": "REAL_AS_FLOAT,PIPES_AS_CONCAT,IGNORE_SPACE,STRICT_TRANS_TABLES"}' \
	"$(ctl_psql -c "SELECT * FROM bb.remote_query('my-t', 'bbt_shop', 'SELECT @@SESSION.sql_mode AS m')")"
ok "server mode restored" my_sql -e "SET GLOBAL sql_mode = '$GLOBAL_MODE'"

# ---- no transaction open (a background worker, as executors will), also in a LATIN1 database
ok "job table" detached_jobs "$CONTROL_DB"
ok "jobs queued" ctl_psql -v pw="$MYSQL_PASSWORD" <<EOF
INSERT INTO bbt_detached_job (engine, host, port, username, password, database, mode, sql) VALUES
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT @@SESSION.sql_mode NOT LIKE ''%ANSI_QUOTES%'''),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'count', 'SELECT seq FROM seq_1_to_100000'),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'snapshot', NULL),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', NULL, 'version', NULL),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT * FROM no_such_table');
EOF
ok "worker ran" ctl_psql -c "SELECT bbt_detached(current_database())"
job() { ctl_psql -d "${2:-$CONTROL_DB}" -c "SELECT result FROM bbt_detached_job WHERE id = $1"; }
is "no transaction: one statement, pinned sql_mode" "rows_returned=1 kept=1 affected=-1 first=1" "$(job 1)"
is "no transaction: rows counted" "rows_returned=100000 kept=0 affected=-1 first=(none)" "$(job 2)"
like "no transaction: schema snapshot" '"name":"orders"' "$(job 3)"
like "no transaction: server version" "MariaDB" "$(job 4)"
is "no transaction: a remote error is a target error with its SQLSTATE" \
	"error 42S02 (target): MySQL error 1146: Table 'bbt_shop.no_such_table' doesn't exist" "$(job 5)"
ok "a LATIN1 database" ctl_psql -c "DROP DATABASE IF EXISTS bbt_latin1" \
	-c "CREATE DATABASE bbt_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
ok "its job table" detached_jobs bbt_latin1
ok "jobs queued there" ctl_psql -d bbt_latin1 -v pw="$MYSQL_PASSWORD" <<EOF
INSERT INTO bbt_detached_job (engine, host, port, username, password, database, mode, sql) VALUES
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT ''café'' AS v'),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'exec_single', 'SELECT CHAR(0xE282AC USING utf8mb4) AS v'),
 ('mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'bbt_shop', 'snapshot', NULL);
EOF
ok "worker ran in the LATIN1 database" ctl_psql -c "SELECT bbt_detached('bbt_latin1')"
is "LATIN1, no transaction: text converted both ways" "rows_returned=1 kept=1 affected=-1 first=café" "$(job 1 bbt_latin1)"
is "LATIN1, no transaction: a character LATIN1 lacks is a target error" \
	'error 22P05 (target): text from the remote server has a character with no equivalent in encoding "LATIN1"' \
	"$(job 2 bbt_latin1)"
like "LATIN1, no transaction: schema snapshot" '"name":"orders"' "$(job 3 bbt_latin1)"

# ---- bad input
ctl_psql -c "SELECT bb.add_instance('my-badpw', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$BAD_PW', verify => false)" \
	-c "SELECT bb.add_instance('my-closed', 'mysql', '127.0.0.1', $CLOSED_PORT, 'u', 'p', verify => false)" \
	-c "SELECT bb.add_instance('my-hole', 'mysql', '127.0.0.1', $HOLE_PORT, 'u', 'p', verify => false)" >/dev/null
out=$(ctl_err "SELECT bb.sync_instance('my-badpw')")
like "wrong password: clear error naming the instance" '28000: could not connect to instance "my-badpw"' "$out"
like "wrong password: the reason is shown" 'MySQL error 1045: Access denied' "$out"
if printf '%s' "$out" | grep -q "$BAD_PW"; then _bb_report 1 "wrong password: password not in the error" "$out"
else _bb_report 0 "wrong password: password not in the error"; fi
is "failed sync registers nothing" "0" "$(ctl_psql -c "SELECT count(*) FROM bb.databases WHERE instance = 'my-badpw'")"

out=$(ctl_err "SELECT bb.sync_instance('my-closed')")
like "closed port: clear error with the reason" '08001: could not connect to instance "my-closed"' "$out"
like "closed port: MySQL error 2002" 'MySQL error 2002' "$out"

perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	Listen => 5, ReuseAddr => 1) or die "listen: $!"; sleep 300' "$HOLE_PORT" &
hole_pid=$!
sleep 0.3
t0=$(date +%s%3N)
out=$(ctl_err "SET bytebase.connect_timeout = '1s'; SELECT bb.sync_instance('my-hole');")
t1=$(date +%s%3N)
like "server that never answers: connect timeout" '08001: could not connect to instance "my-hole": timeout expired' "$out"
echo "# never-answering server failed after $((t1 - t0)) ms (connect_timeout 1 s)"
ok "connect timeout returns within 10 s" test $((t1 - t0)) -lt 10000

out=$(ctl_err "SET bytebase.statement_timeout = '1s'; SELECT bb.remote_query('my-t', 'bbt_shop', 'SELECT SLEEP(20)');")
like "statement timeout: 57014 with a clear message" '57014: canceling statement due to bytebase.statement_timeout' "$out"
like "statement timeout: names instance and command" 'remote command on instance "my-t": SELECT SLEEP\(20\)' "$out"
sleep 0.5
is "statement timeout killed the remote query" "0" \
	"$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(20)'")"

out_file=$BB_RUN_DIR/drivers_my_cancel.out
( ctl_psql -c "SELECT bb.remote_query('my-t', 'bbt_shop', 'SELECT SLEEP(60)')" >"$out_file" 2>&1 ) &
bg=$!
for _ in $(seq 150); do
	[ "$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'")" = 1 ] && break
	sleep 0.1
done
t0=$(date +%s%3N)
ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''my-t''%SLEEP(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
t1=$(date +%s%3N)
echo "# pg_cancel_backend -> backend free after $((t1 - t0)) ms"
ok "canceled backend returns within 10 s" test $((t1 - t0)) -lt 10000
like "cancel: user-request error" 'canceling statement due to user request' "$(cat "$out_file")"
sleep 0.3
is "cancel killed the remote query too" "0" \
	"$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'")"

# pg_terminate_backend: FATAL skips every PG_CATCH; closing the connection at exit kills the query
( ctl_psql -c "SELECT bb.remote_query('my-t', 'bbt_shop', 'SELECT SLEEP(61)')" >/dev/null 2>&1 ) &
bg=$!
for _ in $(seq 150); do
	[ "$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(61)'")" = 1 ] && break
	sleep 0.1
done
ctl_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE query LIKE '%remote_query(''my-t''%SLEEP(61)%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg
for _ in $(seq 30); do
	[ "$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(61)'")" = 0 ] && break
	sleep 0.1
done
is "terminate killed the remote query too" "0" \
	"$(my_sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(61)'")"

is "the server log never shows the passwords" "0" \
	"$(tail -c +$((LOG_START + 1)) "$BB_RUN_DIR/control/server.log" | grep -c -e "$BAD_PW" -e "$MYSQL_PASSWORD" || true)"

done_testing
