#!/usr/bin/env bash
# 11_drivers_mysql — the MySQL/TiDB driver against MariaDB: sync registers the schemas with their
# snapshots and marks dropped ones vanished; MySQL errors keep errno and SQLSTATE; wrong password,
# closed port and a server that never answers fail clearly (no password anywhere); statement
# timeout and pg_cancel_backend stop the remote statement (KILL QUERY).
. "$(dirname "$0")/../lib/common.sh"
LOG_START=$(stat -c %s "$BB_RUN_DIR/control/server.log" 2>/dev/null || echo 0)

HOLE_PORT=$((${BB_PORT_BASE:-55000} + 7))	# accepts TCP connections, never answers
CLOSED_PORT=$((${BB_PORT_BASE:-55000} + 8))	# nothing listens
BAD_PW="Wr0ng_pw_$$_secret"
hole_pid=""

my_sql() {
	mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B "$@"
}
cleanup() {
	[ -n "$hole_pid" ] && kill "$hole_pid" 2>/dev/null
	my_sql -e "DROP DATABASE IF EXISTS bbt_shop; DROP DATABASE IF EXISTS bbt_crm" >/dev/null 2>&1
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
SELECT bb.add_instance('tidb-t', 'tidb', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'pw', 'staging');
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
is "engine tidb uses the same driver (checked on MariaDB)" "$expected" \
	"$(ctl_psql -c "SELECT bb.sync_instance('tidb-t')")"

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

# ---- bad input
ctl_psql -c "SELECT bb.add_instance('my-badpw', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$BAD_PW')" \
	-c "SELECT bb.add_instance('my-closed', 'mysql', '127.0.0.1', $CLOSED_PORT, 'u', 'p')" \
	-c "SELECT bb.add_instance('my-hole', 'mysql', '127.0.0.1', $HOLE_PORT, 'u', 'p')" >/dev/null
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
