#!/usr/bin/env bash
# 14_drivers_snowflake — the Snowflake SQL API v2 driver against a TEST DOUBLE (test/lib/snowflake_double.py,
# an HTTPS server on loopback with a CA this test creates): key-pair JWT accepted only with the registered
# key's fingerprint; sync lists databases and snapshots tables; a rollout runs statement by statement with
# progress and resumes at the failed statement; 202 polling, partitions, 422 with its SQLSTATE, 408, 429
# retries, 500/HTML; statement timeout and pg_cancel_backend during a 202 poll send the cancel request;
# wrong key/account/expired token, encrypted key without passphrase, unknown CA; the private key never in
# the server log, the double's log or a view.  What the double does not prove: see README.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"
LOG_START=$(stat -c %s "$BB_RUN_DIR/control/server.log" 2>/dev/null || echo 0)

SF_PORT=$((${BB_PORT_BASE:-55000} + 9))
SF_PORT2=$((${BB_PORT_BASE:-55000} + 10))	# a second double whose clock runs 2 hours ahead
DIR=$BB_RUN_DIR/snowflake
SF_LOG=$DIR/double.log
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ctl_psql -c "DO \$\$ DECLARE s name; BEGIN
	  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
	    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
	  DROP EXTENSION IF EXISTS bytebase CASCADE;" >/dev/null 2>&1
}
trap cleanup EXIT

# --- keys and certificates (created fresh; readable by the server's user) ------------------------
rm -rf "$DIR" && mkdir -p "$DIR"
{
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/ca.key" -out "$DIR/ca.pem" -days 2 -subj "/CN=bbt test CA"
	openssl req -newkey rsa:2048 -nodes -keyout "$DIR/server.key" -out "$DIR/server.csr" -subj "/CN=127.0.0.1"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$DIR/san.ext"
	openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial \
		-out "$DIR/server.pem" -days 2 -extfile "$DIR/san.ext"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/user.p8"
	openssl pkey -in "$DIR/user.p8" -pubout -out "$DIR/user.pub"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/other.p8"
	openssl pkcs8 -topk8 -v2 aes256 -in "$DIR/user.p8" -passout pass:bbt-pass -out "$DIR/user.enc"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ec.p8"
} >"$DIR/openssl.log" 2>&1 || { echo "Bail out! openssl failed"; cat "$DIR/openssl.log"; exit 1; }
chmod 755 "$DIR" && chmod 644 "$DIR"/*
KEY_LINE=$(sed -n 5p "$DIR/user.p8")	# a line of the private key: must never show up anywhere

start_double() {	# port log [extra args]
	local port=$1 log=$2; shift 2
	python3 -B "$BB_ROOT/test/lib/snowflake_double.py" --port "$port" --cert "$DIR/server.pem" --key "$DIR/server.key" \
		--pubkey "$DIR/user.pub" --account ORG-ACCT --user BB_USER --log "$log" --databases SALES,CRM "$@" &
	pids+=($!)
	local i
	for ((i = 0; i < 100; i++)); do grep -q listening "$log" 2>/dev/null && return 0; sleep 0.1; done
	echo "Bail out! the Snowflake double did not start"; exit 1
}
start_double "$SF_PORT" "$SF_LOG"
start_double "$SF_PORT2" "$DIR/double2.log" --clock-skew 7200

fresh_extension
ok "environment" ctl_psql -c "SELECT bb.create_environment('dev')"
# add_sf NAME KEYFILE [OPTIONS-JSON] [PORT]
SF_OPTS="{\"account\": \"org-acct.us-east-1\", \"warehouse\": \"WH\", \"role\": \"R\", \"ca_file\": \"$DIR/ca.pem\"}"
add_sf() {
	local opts=${3:-}
	[ -n "$opts" ] || opts=$SF_OPTS
	echo "SELECT bb.add_instance('$1', 'snowflake', '127.0.0.1', ${4:-$SF_PORT}, 'bb_user', :'key', 'dev', options => :'opts', verify => ${VERIFY:-true})" |
		ctl_psql -v key="$(cat "$2")" -v opts="$opts"
}
add_sf_unverified() { VERIFY=false add_sf "$@"; }
ok "snowflake instance registered with the private key as its secret" add_sf sf "$DIR/user.p8"

# --- connect, versions, sync ----------------------------------------------------------------------
is "test_connection returns CURRENT_VERSION()" "8.40.1" "$(ctl_psql -c "SELECT bb.test_connection('sf')")"
like "the JWT named the account upper-cased without region, warehouse and role sent" \
	'statement db=None wh=WH role=R timeout=[0-9]+: SELECT CURRENT_VERSION\(\)' "$(cat "$SF_LOG")"
is "sync_instance lists the databases (SHOW DATABASES)" "2" "$(ctl_psql -c "SELECT bb.sync_instance('sf')")"
is "databases registered" "sf/CRM,sf/SALES" \
	"$(ctl_psql -c "SELECT string_agg(ref, ',' ORDER BY ref) FROM bb.databases WHERE instance = 'sf'")"

# --- rollout: statement by statement, progress, failure named, resume at the failed statement ---
ctl_psql >/dev/null <<SQL
SELECT bb.create_project('shop');
SELECT bb.assign_database('sf/SALES', 'shop', 'dev');
SQL
review_off
require_control
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREATE TABLE orders (id INT NOT NULL, note VARCHAR(20));
INSERT INTO items VALUES (1), (2);
ALTER TABLE orders ADD COLUMN qty NUMBER(10,2) DEFAULT 0;', version => 's1')")
is "a failing second statement fails the issue" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "the error names statement 2 of 3 and Snowflake's message" "^statement 2 of 3: Snowflake error 002003: .*Table 'ITEMS' does not exist" \
	"$(ctl_psql -c "SELECT replace(error, E'\\n', ' ') FROM bb.task WHERE issue_id = $issue")"
is "one statement done" "1|failed" \
	"$(ctl_psql -c "SELECT r.statements_done || '|' || r.status FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")"
ok "the missing table is created out of band" ctl_psql -c "SELECT bb.remote_query('sf', 'SALES', 'CREATE TABLE items (id INT)')"
ok "retry" ctl_psql -c "SELECT bb.retry($issue)"
is "the retried rollout finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "the retry resumed at statement 2 (CREATE TABLE orders ran once)" "1" \
	"$(grep -c 'statement db=SALES .*CREATE TABLE orders' "$SF_LOG")"
is "progress: 3 statements done by the last run" "3" \
	"$(ctl_psql -c "SELECT max(r.statements_done) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")"
is "the double's catalog has the rows" '{"COUNT(*)": "2"}' \
	"$(ctl_psql -c "SELECT bb.remote_query('sf', 'SALES', 'SELECT COUNT(*) FROM items')")"
ok "sync again" ctl_psql -c "SELECT bb.sync_instance('sf')"
is "the snapshot has the new tables and columns" \
	"PUBLIC.ITEMS:ID:NUMBER(38,0):true|PUBLIC.ORDERS:ID:NUMBER(38,0):false|PUBLIC.ORDERS:NOTE:TEXT(20):true|PUBLIC.ORDERS:QTY:NUMBER(10,2):true:0" \
	"$(ctl_psql -c "SELECT string_agg(concat_ws(':', (t->>'schema') || '.' || (t->>'name'), c->>'name', c->>'type', c->>'nullable', c->>'default'), '|')
	  FROM bb.database d, jsonb_array_elements(d.schema_snapshot->'tables') t, jsonb_array_elements(t->'columns') c
	  WHERE d.instance_id = bb._instance_id('sf') AND d.name = 'SALES'")"

# --- answers and status codes ---------------------------------------------------------------------
is "202 is polled until the result" '{"SYSTEM$WAIT": "waited 1 seconds"}' \
	"$(ctl_psql -c "SELECT bb.remote_query('sf', NULL, 'SELECT SYSTEM\$WAIT(1)')")"
is "three partitions are fetched and kept in order" "9|0|8" \
	"$(ctl_psql -c "SELECT count(*) || '|' || min((r->>'ID')::int) || '|' || max((r->>'ID')::int) FROM bb.remote_query('sf', NULL, 'SELECT PARTS(3)') r")"
sql_error "a partition failing mid-result is a clear error" "08006: instance \"sf\" failed to send partition 3 of 3" \
	"SELECT bb.remote_query('sf', NULL, 'SELECT BROKEN_PARTS(3)')"
sql_error "422 keeps Snowflake's SQLSTATE and code" "42000: Snowflake error 001003: SQL compilation error" \
	"SELECT bb.remote_query('sf', NULL, 'SELEC 1')"
sql_error "422 with 42S02 keeps its SQLSTATE" "42S02: Snowflake error 002003" \
	"SELECT bb.remote_query('sf', 'SALES', 'DROP TABLE nope')"
sql_error "408 is the statement timeout" "57014" "SELECT bb.remote_query('sf', NULL, 'SELECT TIMEOUT()')"
is "429 is retried with backoff" '{"THROTTLED": "after 2 throttled"}' \
	"$(ctl_psql -c "SELECT bb.remote_query('sf', NULL, 'SELECT THROTTLED(2)')")"
sql_error "a 500 with an HTML page is a clear error" "HTTP 500, not a Snowflake SQL API answer: <html>" \
	"SELECT bb.remote_query('sf', NULL, 'SELECT HTML()')"

# --- statement timeout and cancel during a 202 poll -------------------------------------------------
before=$(grep -c '^cancel ' "$SF_LOG")
sql_error "a 202 that never completes is cancelled at the statement timeout" "57014" \
	"SET bytebase.statement_timeout = '1s'; SELECT bb.remote_query('sf', NULL, 'SELECT SYSTEM\$WAIT(600)')"
is "the double got the cancel request" "$((before + 1))" "$(grep -c '^cancel ' "$SF_LOG")"

ctl_psql -c "SELECT bb.remote_query('sf', NULL, 'SELECT SYSTEM\$WAIT(601)')" >"$DIR/cancel.out" 2>&1 &
qpid=$!
wait_for_value "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SYSTEM\$WAIT(601)%' AND pid <> pg_backend_pid()" 1 30
for ((i = 0; i < 100; i++)); do grep -q 'poll ' "$SF_LOG" && [ "$(grep -c 'SYSTEM\$WAIT(601)' "$SF_LOG")" -ge 1 ] && break; sleep 0.1; done
ok "pg_cancel_backend during the poll" ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%SYSTEM\$WAIT(601)%' AND pid <> pg_backend_pid()"
wait $qpid
like "the query was cancelled (it returned)" "canceling statement due to user request" "$(cat "$DIR/cancel.out")"
is "the double got that cancel request too" "$((before + 2))" "$(grep -c '^cancel ' "$SF_LOG")"

ctl_psql -c "SELECT bb.remote_query('sf', NULL, 'SELECT SLOW(600)')" >"$DIR/slow.out" 2>&1 &
qpid=$!
wait_for_value "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SLOW(600)%' AND pid <> pg_backend_pid()" 1 30
for ((i = 0; i < 100; i++)); do grep -q 'SLOW(600)' "$SF_LOG" && break; sleep 0.1; done
ok "pg_cancel_backend while the server is slow to answer" ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%SLOW(600)%' AND pid <> pg_backend_pid()"
wait $qpid
like "the slow request was interrupted" "canceling statement due to user request" "$(cat "$DIR/slow.out")"

# --- bad credentials and TLS --------------------------------------------------------------------------
ok "instance with another key" add_sf_unverified sf_other "$DIR/other.p8"
sql_error "a key that is not the registered one is refused" "HTTP 401: JWT token is invalid. .iss does not name the registered public key.s fingerprint" \
	"SELECT bb.test_connection('sf_other')"
ok "instance with a wrong account" add_sf_unverified sf_acct "$DIR/user.p8" "{\"account\": \"OTHER\", \"ca_file\": \"$DIR/ca.pem\"}"
sql_error "a wrong account is refused" "HTTP 401: JWT token is invalid. .sub is not" "SELECT bb.test_connection('sf_acct')"
ok "instance on a server whose clock is 2 hours ahead" add_sf_unverified sf_late "$DIR/user.p8" "" "$SF_PORT2"
sql_error "an expired token is refused" "HTTP 401: JWT token is invalid. .JWT expired" "SELECT bb.test_connection('sf_late')"
ok "instance with an encrypted key and no passphrase" add_sf_unverified sf_enc "$DIR/user.enc"
sql_error "encrypted key without passphrase: clear error" "28000.*encrypted and no passphrase" "SELECT bb.test_connection('sf_enc')"
{ cat "$DIR/user.enc"; echo "passphrase: bbt-pass"; } >"$DIR/user.enc+pass"
ok "instance with an encrypted key and its passphrase" add_sf sf_encp "$DIR/user.enc+pass"
is "encrypted key with its passphrase connects" "8.40.1" "$(ctl_psql -c "SELECT bb.test_connection('sf_encp')")"
echo "not a key" >"$DIR/garbage"
ok "instance with a non-key secret" add_sf_unverified sf_garbage "$DIR/garbage"
sql_error "unreadable key: clear error" "28000.*not a PEM private key" "SELECT bb.test_connection('sf_garbage')"
ok "instance with an EC key" add_sf_unverified sf_ec "$DIR/ec.p8"
sql_error "non-RSA key: clear error" "28000.*not an RSA key" "SELECT bb.test_connection('sf_ec')"
ok "instance without ca_file" add_sf_unverified sf_noca "$DIR/user.p8" '{"account": "ORG-ACCT"}'
sql_error "unknown CA is refused with a hint" "HINT: .*TLS certificate was not accepted.*ca_file" "SELECT bb.test_connection('sf_noca')"
ok "instance on a port where nothing listens" add_sf_unverified sf_closed "$DIR/user.p8" "" "$((${BB_PORT_BASE:-55000} + 8))"
sql_error "closed port: could not connect" "08001.*could not connect" "SELECT bb.test_connection('sf_closed')"
add_noacct() {
	echo "SELECT bb.add_instance('sf_noacct', 'snowflake', '127.0.0.1', $SF_PORT, 'bb_user', :'key', 'dev', verify => false)" |
		ctl_psql -v key="$(cat "$DIR/user.p8")"
}
ok "instance without account on an IP address" add_noacct
sql_error "no account: clear error" "22023.*needs the option \"account\"" "SELECT bb.test_connection('sf_noacct')"

# --- the secret stays secret --------------------------------------------------------------------------
is "the key is not in any bb view" "0" "$(ctl_psql -c "SELECT (SELECT count(*) FROM bb.instances i WHERE i::text LIKE '%PRIVATE KEY%')
  + (SELECT count(*) FROM bb.audit_log a WHERE a::text LIKE '%PRIVATE KEY%')")"
is "the key is not in the server log" "0" \
	"$(tail -c +$((LOG_START + 1)) "$BB_RUN_DIR/control/server.log" | grep -cF -e "$KEY_LINE" -e "PRIVATE KEY")"
is "the key is not in the double's log" "0" "$(cat "$SF_LOG" "$DIR/double2.log" | grep -cF -e "$KEY_LINE" -e "Bearer")"

done_testing
