#!/usr/bin/env bash
# 15_drivers_tidb — TiDB detection and dialect selection.  TiDB cannot run here: a second MariaDB started
# with --version=8.0.11-TiDB-v8.5.0 reports TiDB's version text in the handshake and VERSION(), which is
# what the driver reads.  This proves detection (engine tidb accepted on it, engine mysql refused, and
# the reverse on plain MariaDB) and that TiDB instances are reviewed in the TiDB dialect; it does not
# prove TiDB's own behaviour (its DDL, KILL TIDB QUERY, its errors).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

TI_PORT=$((${BB_PORT_BASE:-55000} + 11))
TI_DIR=$BB_RUN_DIR/tidb-double
TI_SOCK=$TI_DIR/my.sock
TI_VERSION=8.0.11-TiDB-v8.5.0
cleanup() {
	[ -f "$TI_DIR/pid" ] && kill "$(cat "$TI_DIR/pid")" 2>/dev/null
	ctl_psql -c "DO \$\$ DECLARE s name; BEGIN
	  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
	    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
	  DROP EXTENSION IF EXISTS bytebase CASCADE;" >/dev/null 2>&1
}
trap cleanup EXIT

# --- a MariaDB that says it is TiDB (own data directory, stopped at exit) -------------------------
[ -f "$TI_DIR/pid" ] && kill "$(cat "$TI_DIR/pid")" 2>/dev/null && sleep 1
rm -rf "$TI_DIR" && mkdir -p "$TI_DIR"
drop=()
if [ "$(id -u)" = 0 ]; then chown mysql: "$TI_DIR"; drop=(setpriv --reuid=mysql --regid=mysql --init-groups --); fi
mariadb-install-db --no-defaults --user=mysql --datadir="$TI_DIR/data" --skip-test-db \
	--auth-root-authentication-method=socket >"$TI_DIR/install.log" 2>&1 || { echo "Bail out! mariadb-install-db"; exit 1; }
[ "$(id -u)" = 0 ] && chown -R mysql: "$TI_DIR"
setsid "${drop[@]}" /usr/sbin/mariadbd --no-defaults --datadir="$TI_DIR/data" --port="$TI_PORT" \
	--bind-address=127.0.0.1 --socket="$TI_SOCK" --pid-file="$TI_DIR/pid" --log-error="$TI_DIR/error.log" \
	--skip-name-resolve --innodb-buffer-pool-size=16M --skip-log-bin --version="$TI_VERSION" </dev/null >/dev/null 2>&1 &
ti_root() { mariadb --no-defaults -uroot --socket="$TI_SOCK" "$@"; }
for ((i = 0; i < 300; i++)); do ti_root -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
ok "TiDB double started" ti_root -e "CREATE USER 'bbuser'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
  GRANT ALL PRIVILEGES ON *.* TO 'bbuser'@'127.0.0.1'; CREATE DATABASE ti_shop;"
is "the double reports TiDB's version through VERSION()" "$TI_VERSION" "$(ti_root -N -e 'SELECT VERSION()')"

# --- detection ----------------------------------------------------------------------------------
fresh_extension
ok "environment" ctl_psql -c "SELECT bb.create_environment('dev')"
ok "engine tidb on the TiDB server registers (verified)" ctl_psql -v pw="$MYSQL_PASSWORD" <<EOF
SELECT bb.add_instance('ti', 'tidb', '127.0.0.1', $TI_PORT, '$MYSQL_USER', :'pw', 'dev');
EOF
is "test_connection returns TiDB's version" "$TI_VERSION" "$(ctl_psql -c "SELECT bb.test_connection('ti')")"
like "sync_instance works on it" "^[1-9]" "$(ctl_psql -c "SELECT bb.sync_instance('ti')")"
is "its database is registered" "ti/ti_shop" "$(ctl_psql -c "SELECT ref FROM bb.databases WHERE ref = 'ti/ti_shop'")"

sql_error "engine mysql on a TiDB server is refused at registration" \
	'instance "ti_as_my" is registered with engine "mysql" but the server is TiDB' \
	"SELECT bb.add_instance('ti_as_my', 'mysql', '127.0.0.1', $TI_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev')"
ok "registered unverified" ctl_psql -c "SELECT bb.add_instance('ti_as_my', 'mysql', '127.0.0.1', $TI_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev', verify => false)"
sql_error "test_connection reports it with a hint" \
	'22023: instance "ti_as_my" is registered with engine "mysql" but the server is TiDB' "SELECT bb.test_connection('ti_as_my')"
sql_error "the hint names engine tidb" 'HINT:  Register the instance with engine "tidb"' "SELECT bb.sync_instance('ti_as_my')"
ok "plain MariaDB registered as tidb, unverified" ctl_psql -c "SELECT bb.add_instance('my_as_ti', 'tidb', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev', verify => false)"
sql_error "engine tidb on a server that is not TiDB is refused" \
	'22023: instance "my_as_ti" is registered with engine "tidb" but the server is not TiDB' "SELECT bb.test_connection('my_as_ti')"

# --- dialect selection: plan checks on the TiDB instance review in the TiDB dialect -----------------
ctl_psql >/dev/null <<SQL
SELECT bb.create_project('tshop');
SELECT bb.assign_database('ti/ti_shop', 'tshop', 'dev');
SQL
require_control
issue=$(ctl_psql -c "SELECT bb.apply('tshop', 'CREATE TABLE doc (id BIGINT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body));')")
like "a FULLTEXT index is refused by the plan check on the TiDB instance" "tidb.unsupported-statement:error" \
	"$(ctl_psql -c "SELECT string_agg(f.rule || ':' || f.level, ',') FROM bb.plan_check c JOIN bb.task t ON t.id = c.task_id
	                JOIN bb.plan_check_finding f ON f.review_id = c.review_id OR f.task_id = c.task_id WHERE t.issue_id = $issue")"
is "the same script on engine mysql has no TiDB finding" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.lint('CREATE TABLE doc (id BIGINT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body));', 'mysql') WHERE rule LIKE 'tidb.%'")"

# --- the TiDB rules, by version -----------------------------------------------------------------
lint_rules() { ctl_psql -c "SELECT string_agg(line || ':' || rule || ':' || level, ' ' ORDER BY line, rule) FROM bb.lint(\$q\$$1\$q\$, '$2') WHERE rule LIKE 'tidb.%'"; }
SCRIPT='CREATE PROCEDURE p() BEGIN END;
CREATE FUNCTION f() RETURNS INT RETURN 1;
CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1;
CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO SELECT 1;
CREATE TABLE g (id INT PRIMARY KEY, pt POINT NOT NULL, SPATIAL KEY sp (pt));
CREATE TABLE c AS SELECT 1 AS x;
ALTER TABLE g ADD COLUMN a INT, ADD COLUMN b INT;
CREATE TABLE k (id INT PRIMARY KEY, g_id INT, FOREIGN KEY fk_k_g (g_id) REFERENCES g (id));'
is "newest TiDB: what it never supports" \
	"1:tidb.unsupported-statement:error 2:tidb.unsupported-statement:error 3:tidb.unsupported-statement:error 4:tidb.unsupported-statement:error 5:tidb.unsupported-statement:error 6:tidb.unsupported-statement:error" \
	"$(lint_rules "$SCRIPT" tidb)"
is "TiDB v6.1: also one change per ALTER TABLE and unenforced foreign keys" \
	"1:tidb.unsupported-statement:error 2:tidb.unsupported-statement:error 3:tidb.unsupported-statement:error 4:tidb.unsupported-statement:error 5:tidb.unsupported-statement:error 6:tidb.unsupported-statement:error 7:tidb.multi-schema-change:error 8:tidb.foreign-key-unenforced:warning" \
	"$(lint_rules "$SCRIPT" tidb:v6.1.0)"
is "TiDB v6.5 (the server's own version text): multi-schema change allowed, foreign keys not enforced" \
	"2:tidb.foreign-key-unenforced:warning" \
	"$(lint_rules "$(printf '%s' "$SCRIPT" | sed -n 7,8p)" "tidb:8.0.11-TiDB-v6.5.3")"
is "engine mysql: none of them" "" "$(lint_rules "$SCRIPT" mysql)"
sql_error "a version that is not one is a clear error" "22023: engine \"tidb:latest\" does not name a version" \
	"SELECT * FROM bb.lint('SELECT 1', 'tidb:latest')"

done_testing
