#!/usr/bin/env bash
# 50_query — the governed query (bb.query, issue 11) against the real target PostgreSQL and
# MariaDB, as a developer, a developer of another project, an approver and an admin:
# read-only by construction (refused statements never reach the target: the target logs every
# statement, and the refused ones are not there; what the parse check lets through — nextval,
# a function that writes — is stopped by the READ ONLY transaction), row and byte caps, the
# statement timeout, masking (aliases, expressions, *, views; WHERE/ORDER BY/GROUP BY/JOIN on
# a masked column refused), no masked value in errors or the log, project isolation, access
# grants (self-grant refused, expiry), exemptions, and bb.query_log.
. "$(dirname "$0")/../lib/common.sh"

TLOG="$BB_RUN_DIR/target/server.log"
MARK="bbq_marker_$$"
ROLES="bbt_q_dev bbt_q_other bbt_q_appr bbt_q_admin"

leave_control_clean() {
	ctl_psql -c "DO \$\$ DECLARE s name; BEGIN
	  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
	    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
	  DROP EXTENSION IF EXISTS bytebase CASCADE;" >/dev/null 2>&1
	for r in $ROLES; do ctl_psql -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
	target_psql postgres -c "DROP DATABASE IF EXISTS bbq_shop" -c "DROP DATABASE IF EXISTS bbq_prod" \
		-c "DROP DATABASE IF EXISTS bbq_other" >/dev/null 2>&1
	my_sql "DROP DATABASE IF EXISTS bbq_my" >/dev/null 2>&1
}
my_sql() {
	mariadb --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B -e "$1"
}
trap leave_control_clean EXIT

# as ROLE SQL: runs SQL with ROLE as the session user; prints rows (unaligned) or the error
# with its SQLSTATE.
as() {
	printf 'SET SESSION AUTHORIZATION %s;\nSET client_min_messages = warning;\n\\set VERBOSITY verbose\n%s\n' "$1" "$2" |
		"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CONTROL_SOCK" -p "$CONTROL_PORT" \
			-U postgres -d "$CONTROL_DB" 2>&1
}
# q ROLE DATABASE STATEMENT [MAX_ROWS]: bb.query's rows as "n|row|truncated" lines, or the error.
q() {
	local sql
	sql=$(printf "SELECT n, \"row\", truncated FROM bb.query('%s', \$bbq\$%s\$bbq\$%s)" "$2" "$3" "${4:+, $4}")
	as "$1" "$sql"
}
# refused DESC SQLSTATE ROLE DATABASE STATEMENT: bb.query fails with that SQLSTATE.
refused() {
	local out
	out=$(q "$3" "$4" "$5")
	like "$1" "ERROR:  $2" "$out"
}

leave_control_clean
ok "fresh extension" ctl_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS postgres_fdw" \
	-c "CREATE EXTENSION bytebase"
for r in $ROLES; do ctl_psql -c "CREATE ROLE $r NOLOGIN" >/dev/null; done
ctl_psql -c "GRANT bytebase_developer TO bbt_q_dev, bbt_q_other" -c "GRANT bytebase_approver TO bbt_q_appr" \
	-c "GRANT bytebase_admin TO bbt_q_admin" >/dev/null

ok "target databases" target_psql postgres -c "CREATE DATABASE bbq_shop OWNER $TARGET_PG_USER" \
	-c "CREATE DATABASE bbq_prod OWNER $TARGET_PG_USER" -c "CREATE DATABASE bbq_other OWNER $TARGET_PG_USER"
ok "target tables" target_psql bbq_shop <<EOF
SET ROLE $TARGET_PG_USER;
CREATE TABLE customer (id int PRIMARY KEY, email text, name text, phone text);
INSERT INTO customer SELECT g, 'user' || g || '@example.com', 'Name ' || g, '+1-555-' || lpad(g::text, 4, '0')
  FROM generate_series(1, 2000) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric);
INSERT INTO orders SELECT g, g % 100 + 1, g * 1.5 FROM generate_series(1, 50) g;
CREATE VIEW v_customer AS SELECT id, email AS mail, upper(name) AS uname FROM customer;
CREATE TABLE trap (a int);
CREATE SEQUENCE seq;
CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'INSERT INTO trap VALUES (1) RETURNING a';
EOF
ok "target logs every statement of bbq_shop" target_psql postgres -c "ALTER DATABASE bbq_shop SET log_statement = 'all'"
for d in bbq_prod bbq_other; do target_psql "$d" -c "SET ROLE $TARGET_PG_USER" -c "CREATE TABLE t (a int)" -c "INSERT INTO t VALUES (1), (2)" >/dev/null; done
ok "mariadb database" my_sql "CREATE DATABASE bbq_my; USE bbq_my; CREATE TABLE bbq_my.customer (id int PRIMARY KEY, email varchar(100));
  INSERT INTO bbq_my.customer SELECT seq, CONCAT('my', seq, '@example.com') FROM seq_1_to_300;
  CREATE TABLE bbq_my.plain (id int PRIMARY KEY); INSERT INTO bbq_my.plain SELECT seq FROM seq_1_to_300;"

ok "catalog" ctl_psql -v pw="$TARGET_PG_PASSWORD" -v mpw="$MYSQL_PASSWORD" <<EOF
SELECT bb.create_environment('dev'), bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pgq', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'dev');
SELECT bb.add_instance('myq', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'mpw', 'dev');
SELECT bb.sync_instance('pgq'), bb.sync_instance('myq');
SELECT bb.create_project('shop'), bb.create_project('other');
SELECT bb.grant_project('shop', 'bbt_q_dev'), bb.grant_project('other', 'bbt_q_other'), bb.grant_project('shop', 'bbt_q_appr');
SELECT bb.assign_database('pgq/bbq_shop', 'shop', 'dev'), bb.assign_database('pgq/bbq_prod', 'shop', 'prod'),
       bb.assign_database('pgq/bbq_other', 'other', 'dev'), bb.assign_database('myq/bbq_my', 'shop', 'dev');
SELECT bb.set_column_masking('pgq/bbq_shop', 'public.customer.email', 'partial'),
       bb.set_column_masking('pgq/bbq_shop', 'public.customer.phone', 'hash'),
       bb.set_column_masking('myq/bbq_my', 'bbq_my.customer.email', 'full');
EOF

# --- results, caps and masking (developer of the project) ---------------------------------
out=$(q bbt_q_dev pgq/bbq_shop "SELECT id, email, name FROM customer ORDER BY id" 3)
is "rows as jsonb, email partially masked, cut at max_rows" \
'1|{"id": "1", "name": "Name 1", "email": "use****com"}|t
2|{"id": "2", "name": "Name 2", "email": "use****com"}|t
3|{"id": "3", "name": "Name 3", "email": "use****com"}|t' "$out"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT count(*) AS n FROM customer")
is "an uncut result says so" '1|{"n": "2000"}|f' "$out"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT id FROM customer")
is "default cap: 1000 rows, cut" "1000 t" "$(printf '%s\n' "$out" | awk -F'|' 'END {print NR, $3}')"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT id FROM customer" 5000)
is "max_rows above the policy's cap is held to it" "1000" "$(printf '%s\n' "$out" | wc -l)"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT c.email AS mail, lower(c.email) AS low, c.phone FROM customer c WHERE c.id = 7")
like "alias keeps partial, expression is full, phone hashed (32 hex)" \
	'^1\|\{"low": "\*\*\*\*\*\*", "mail": "use\*\*\*\*com", "phone": "[0-9a-f]{32}"\}\|f$' "$out"
h1=$(q bbt_q_dev pgq/bbq_shop "SELECT phone FROM customer WHERE id = 7" | grep -oE '[0-9a-f]{32}')
h2=$(q bbt_q_dev pgq/bbq_shop "SELECT p FROM (SELECT id, phone AS p FROM customer) s WHERE id = 7" | grep -oE '[0-9a-f]{32}')
is "hash is stable across queries and aliases" "$h1" "$h2"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT * FROM customer WHERE id = 7")
is "SELECT * masks by position" '1|{"id": "7", "name": "Name 7", "email": "use****com", "phone": "'"$h1"'"}|f' "$out"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT * FROM v_customer WHERE id = 2")
is "a view is followed to its masked column" '1|{"id": "2", "mail": "use****com", "uname": "NAME 2"}|f' "$out"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT o.total, c.email FROM orders o JOIN customer c ON c.id = o.customer_id WHERE o.id = 1")
is "a join on unmasked keys, masked output" '1|{"email": "use****com", "total": "1.5"}|f' "$out"
for s in "SELECT id FROM customer WHERE email = 'user1@example.com'" \
	"SELECT id FROM customer ORDER BY email" \
	"SELECT count(*) FROM customer GROUP BY phone" \
	"SELECT o.id FROM orders o JOIN customer c ON c.email = o.id::text" \
	"SELECT id FROM v_customer WHERE mail LIKE 'user1%'" \
	"SELECT mail FROM v_customer ORDER BY 1"; do
	refused "masked column used to choose rows is refused: $s" 42501 bbt_q_dev pgq/bbq_shop "$s"
done
out=$(q bbt_q_dev pgq/bbq_shop "SELECT email::int FROM customer")
like "a target error is withheld on a database with masked columns" "ERROR:  22P02: the target refused the statement" "$out"
if printf '%s' "$out" | grep -q 'example.com'; then _bb_report 1 "no masked value in the error" "$out"; else _bb_report 0 "no masked value in the error"; fi

# --- read-only by construction ---------------------------------------------------------------
for s in "INSERT INTO trap VALUES (1) -- $MARK" \
	"WITH x AS (DELETE FROM customer RETURNING *) SELECT count(*) FROM x -- $MARK" \
	"SELECT * FROM customer FOR UPDATE -- $MARK" \
	"SELECT 1 AS $MARK; DELETE FROM customer" \
	"SELECT 1 /* $MARK */; DROP TABLE trap" \
	"CALL p_$MARK()" \
	"DO \$x\$BEGIN PERFORM 1; END\$x\$ -- $MARK" \
	"SELECT set_config('transaction_read_only', 'off', true) AS $MARK" \
	"COPY customer TO STDOUT -- $MARK" \
	"UPDATE customer SET email = '$MARK'"; do
	out=$(q bbt_q_dev pgq/bbq_shop "$s")
	like "refused before the target: $s" "ERROR:  (25006|42501)" "$out"
done
is "no refused statement reached the target (its log)" "0" "$(grep -c "$MARK" "$TLOG")"
like "a parse-valid write is stopped by the READ ONLY transaction: nextval" "ERROR:  25006" \
	"$(q bbt_q_dev pgq/bbq_shop "SELECT nextval('seq')")"
like "... a function that writes" "ERROR:  25006" "$(q bbt_q_dev pgq/bbq_shop "SELECT bump()")"
is "the target is unchanged" "0|1|2000" \
	"$(target_psql bbq_shop -c "SELECT (SELECT count(*) FROM trap), (SELECT last_value FROM seq), (SELECT count(*) FROM customer)")"

# --- project isolation, grants, policy ---------------------------------------------------------
refused "another project's developer is refused" 42501 bbt_q_other pgq/bbq_shop "SELECT 1"
out=$(q bbt_q_other pgq/bbq_other "SELECT a FROM t ORDER BY a")
is "... and queries their own project" '1|{"a": "1"}|f
2|{"a": "2"}|f' "$out"
refused "a protected environment needs an access grant" 42501 bbt_q_dev pgq/bbq_prod "SELECT a FROM t"
req=$(as bbt_q_dev "SELECT bb.request_access('pgq/bbq_prod', 'incident 7', '2 hours')")
like "access requested" '^[0-9]+$' "$req"
like "the requester cannot grant (developer)" "42501" "$(as bbt_q_dev "SELECT bb.grant_access($req)")"
req_a=$(as bbt_q_appr "SELECT bb.request_access('pgq/bbq_prod', 'mine', '1 hour')")
like "an approver cannot grant their own request" "42501.*own access request" "$(as bbt_q_appr "SELECT bb.grant_access($req_a)")"
ok "an approver grants the developer's request" as bbt_q_appr "SELECT bb.grant_access($req)"
is "with the grant the developer queries" '1|{"a": "1"}|f' "$(q bbt_q_dev pgq/bbq_prod "SELECT a FROM t ORDER BY a LIMIT 1")"
is "bb.access_grants shows it active" "active|bbt_q_appr" \
	"$(as bbt_q_dev "SELECT status || '|' || granted_by FROM bb.access_grants WHERE id = $req")"
ctl_psql -c "UPDATE bb.access_request SET expires_at = now() - interval '1 second' WHERE id = $req" >/dev/null
refused "an expired grant stops working" 42501 bbt_q_dev pgq/bbq_prod "SELECT a FROM t"
is "an admin queries any database, no grant needed" '1|{"a": "1"}|f' "$(q bbt_q_admin pgq/bbq_other "SELECT a FROM t ORDER BY a LIMIT 1")"

# caps from the policy: bytes and timeout
ok "policy: small byte cap, short timeout" ctl_psql -c "SELECT bb.set_query_policy('dev', 'allowed', max_bytes => 2048, timeout => '1 s')"
out=$(q bbt_q_dev pgq/bbq_shop "SELECT id, name FROM customer ORDER BY id")
is "the byte cap cuts the result" "t" "$(printf '%s\n' "$out" | awk -F'|' 'END {print $3}')"
like "... well below 1000 rows" '^[0-9]{1,2}$' "$(printf '%s\n' "$out" | wc -l)"
like "the statement timeout stops a long query" "ERROR:  57014" "$(q bbt_q_dev pgq/bbq_shop "SELECT pg_sleep(5)")"
ok "policy back to defaults" ctl_psql -c "SELECT bb.set_query_policy('dev', 'allowed')"

# exemption
ok "admin exempts the developer" as bbt_q_admin "SELECT bb.grant_masking_exemption('pgq/bbq_shop', 'bbt_q_dev')"
is "exempt: unmasked" '1|{"email": "user3@example.com"}|f' "$(q bbt_q_dev pgq/bbq_shop "SELECT email FROM customer WHERE id = 3")"
ok "exemption revoked" as bbt_q_admin "SELECT bb.revoke_masking_exemption('pgq/bbq_shop', 'bbt_q_dev')"
is "masked again" '1|{"email": "use****com"}|f' "$(q bbt_q_dev pgq/bbq_shop "SELECT email FROM customer WHERE id = 3")"
like "exemptions are audited" "grant_masking_exemption.*revoke_masking_exemption" \
	"$(ctl_psql -c "SELECT string_agg(\"function\", ' ' ORDER BY id) FROM bb.audit_log WHERE \"function\" LIKE '%masking_exemption'")"

# --- export ------------------------------------------------------------------------------------
out=$(as bbt_q_dev "SELECT bb.export('pgq/bbq_shop', 'SELECT id, email, name FROM customer WHERE id <= 2 ORDER BY id', 'csv')")
is "export CSV: header, masked values, CRLF" "$(printf 'id,email,name\r\n1,use****com,Name 1\r\n2,use****com,Name 2\r')" "$out"
out=$(as bbt_q_dev "SELECT bb.export('pgq/bbq_shop', 'SELECT id, email FROM customer WHERE id = 1', 'json')")
is "export JSON" '[{"id": "1", "email": "use****com"}]' "$out"
out=$(as bbt_q_dev "SELECT bb.export('pgq/bbq_shop', 'SELECT id, name FROM customer WHERE id = 1', 'sql')")
is "export SQL" "INSERT INTO exported (id, name) VALUES ('1', 'Name 1');" "$out"
out=$(as bbt_q_dev "SELECT length(bb.export('pgq/bbq_shop', 'SELECT id FROM customer', 'csv'))")
like "export has its own cap (10000 by default): 2000 rows, more than the query's 1000" '^[0-9]{4,}$' "$out"
ok "policy: export cap 100" ctl_psql -c "SELECT bb.set_query_policy('dev', 'allowed', export_max_rows => 100)"
like "an export larger than its cap is refused, not cut" "ERROR:  54000" \
	"$(as bbt_q_dev "SELECT bb.export('pgq/bbq_shop', 'SELECT id FROM customer', 'csv')")"
like "export refuses masked columns in WHERE too" "ERROR:  42501" \
	"$(as bbt_q_dev "SELECT bb.export('pgq/bbq_shop', 'SELECT id FROM customer WHERE email LIKE ''u%''', 'csv')")"
ok "policy back to defaults" ctl_psql -c "SELECT bb.set_query_policy('dev', 'allowed')"

# --- MariaDB ------------------------------------------------------------------------------------
out=$(q bbt_q_dev myq/bbq_my "SELECT id FROM plain ORDER BY id" 4)
is "MariaDB: rows, cut at max_rows" '1|{"id": "1"}|t
2|{"id": "2"}|t
3|{"id": "3"}|t
4|{"id": "4"}|t' "$out"
is "MariaDB: default cap" "1000" "$(q bbt_q_dev myq/bbq_my "SELECT a.id FROM plain a, plain b" | wc -l)"
for s in "INSERT INTO plain VALUES (0)" "SELECT 1; DELETE FROM plain" "SELECT * FROM plain FOR UPDATE" \
	"SELECT 1 /*!99999 ; DELETE FROM plain */" "SELECT id INTO @x FROM plain LIMIT 1" "DELETE FROM plain"; do
	like "MariaDB refused: $s" "ERROR:  25006" "$(q bbt_q_dev myq/bbq_my "$s")"
done
like "MariaDB: a table with masked columns is refused (fail-closed)" "ERROR:  0A000" \
	"$(q bbt_q_dev myq/bbq_my "SELECT email FROM customer")"
is "MariaDB: nothing changed" "300" "$(my_sql "SELECT count(*) FROM bbq_my.plain")"

# --- ClickHouse -------------------------------------------------------------------------------
ch_sql() { curl -sS --fail "http://127.0.0.1:$CH_HTTP_PORT/" -u "$CH_USER:$CH_PASSWORD" --data-binary "$1"; }
ok "clickhouse database" ch_sql "CREATE DATABASE IF NOT EXISTS bbq_ch"
ok "clickhouse table" ch_sql "CREATE TABLE bbq_ch.t (a UInt32) ENGINE = Memory"
ok "clickhouse rows" ch_sql "INSERT INTO bbq_ch.t SELECT number FROM system.numbers LIMIT 1500"
ok "clickhouse instance" ctl_psql -v cpw="$CH_PASSWORD" <<EOF
SELECT bb.add_instance('chq', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', :'cpw', 'dev');
SELECT bb.sync_instance('chq');
SELECT bb.assign_database('chq/bbq_ch', 'shop', 'dev');
EOF
is "ClickHouse: rows, cut at max_rows" '1|{"a": "0"}|t
2|{"a": "1"}|t' "$(q bbt_q_dev chq/bbq_ch "SELECT a FROM t ORDER BY a" 2)"
is "ClickHouse: default cap" "1000" "$(q bbt_q_dev chq/bbq_ch "SELECT a FROM t" | wc -l)"
for s in "INSERT INTO t VALUES (1)" "SELECT 1; DROP TABLE t" "SELECT 1 SETTINGS readonly = 0" "ALTER TABLE t DELETE WHERE 1"; do
	like "ClickHouse refused: $s" "ERROR:  25006" "$(q bbt_q_dev chq/bbq_ch "$s")"
done
is "ClickHouse: nothing changed" "1500" "$(ch_sql "SELECT count() FROM bbq_ch.t")"
ch_sql "DROP DATABASE IF EXISTS bbq_ch" >/dev/null 2>&1

# --- the query log ----------------------------------------------------------------------------
wait_log() {  # DESC ROLE CONDITION
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(as "$2" "SELECT EXISTS (SELECT 1 FROM bb.query_log WHERE $3)")" = t ] && { _bb_report 0 "$1"; return; }
		sleep 0.2
	done
	_bb_report 1 "$1" "$(as "$2" "SELECT * FROM bb.query_log")"
}
wait_log "a refusal is in the log with its reason" bbt_q_dev \
	"outcome = 'error' AND sqlstate = '42501' AND error LIKE '%masked column public.customer.email in WHERE%'"
wait_log "an ok query with rows, bytes, masked columns" bbt_q_dev \
	"outcome = 'ok' AND rows = 3 AND truncated = 'max_rows' AND masked = '{\"email\": \"partial\"}' AND who = 'bbt_q_dev'"
is "the log never holds a value" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.query_log WHERE coalesce(masked::text, '') || coalesce(error, '') LIKE '%example.com%'")"
is "another developer does not see the developer's queries" "0" \
	"$(as bbt_q_other "SELECT count(*) FROM bb.query_log WHERE who = 'bbt_q_dev'")"
like "exports are in the log" '^[1-9]' "$(as bbt_q_dev "SELECT count(*) FROM bb.query_log WHERE kind = 'export' AND outcome = 'ok'")"
like "approvers see everyone's" '^[1-9][0-9]*$' "$(as bbt_q_appr "SELECT count(*) FROM bb.query_log WHERE who = 'bbt_q_dev'")"

done_testing
