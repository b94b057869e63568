#!/usr/bin/env bash
# Statement-by-statement execution (PostgreSQL scripts that cannot run in a transaction, MariaDB,
# ClickHouse) with big (400 kB) and many small statements: every task ends done and every effect
# is on the target.  Regression test of a use-after-free: the statement list lived in SPI's
# procedure context, which the progress commit after each statement freed while the loop still
# walked it, so freed bytes were sent to the target ("statement 2 of 3: invalid message format").
# The assert leg of test/run_all.sh (cassert build: freed memory is clobbered) catches it for sure.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

N_SMALL=30

# Waits for the issue; anything but done shows each task's error under the failed check.
expect_done() {
	local st
	st=$(ctl_psql -c "SELECT bb.wait($2, '120 s')" 2>&1)
	is "$1" "done" "$st"
	[ "$st" = done ] || ctl_psql -c "SELECT 'task ' || id || ' ' || status || ': ' || coalesce(left(error, 300), '')
	                                 FROM bb.task WHERE issue_id = $2" 2>&1 | sed 's/^/#   /'
}

# Before each case: a crash in the previous one restarted the control cluster (counted by
# test/run_all.sh from its log); wait for it, so the remaining engines are still tested.
next_case() {
	wait_control || true
	require_control
}

# How many statements the issue's task recorded as run (its last attempt).
stmts_done() {
	ctl_psql -c "SELECT r.statements_done FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id
	             WHERE t.issue_id = $1 ORDER BY r.id DESC LIMIT 1" 2>&1
}

# The first row of SQL on a remote instance, columns joined by '|': remote_cols INSTANCE DATABASE SQL COLUMN...
remote_cols() {
	local inst=$1 db=$2 sql=$3 cols; shift 3
	cols=$(printf "r->>'%s'," "$@")
	ctl_psql -v inst="$inst" -v db="$db" -v sql="$sql" 2>&1 <<SQL
SELECT concat_ws('|', ${cols%,}) FROM bb.remote_query(:'inst', :'db', :'sql') r LIMIT 1
SQL
}

# Plans SCRIPT for TARGET; %1$s in SCRIPT stands for the 400 kB literal (quoted). Prints the issue id.
apply_script() {
	ctl_psql -v target="$1" -v script="$2" <<'SQL'
SELECT bb.apply('mem', format(:'script', quote_literal(wk_big())), targets => ARRAY[:'target'])
SQL
}

# N_SMALL small statements on TARGET after PREFIX (a table, then one row per statement): the task
# is done and every row is there.  small_case LABEL TARGET PREFIX TABLE_DDL ROWS_CMD...
# (ROWS_CMD prints "count|max(id)" of small_t)
small_case() {
	local label=$1 target=$2 script="$3$4;" i issue; shift 4
	for ((i = 1; i < N_SMALL; i++)); do script="$script INSERT INTO small_t VALUES ($i);"; done
	issue=$(apply_script "$target" "$script")
	expect_done "$label: $N_SMALL small statements are done" "$issue"
	is "$label: every small statement's row is there" "$((N_SMALL - 1))|$((N_SMALL - 1))" "$("$@" 2>&1)"
}

fresh_extension
# 400,000 characters that differ all along (a clobbered or shifted byte changes the md5).
ctl_psql -c "CREATE OR REPLACE FUNCTION public.wk_big() RETURNS text LANGUAGE sql IMMUTABLE AS
             \$\$ SELECT string_agg(md5(i::text), '' ORDER BY i) FROM generate_series(1, 12500) i \$\$" >/dev/null
BIG_MD5=$(ctl_psql -c "SELECT md5(wk_big())")
recreate_target_dbs wk_mem_pg
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('pg', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$TARGET_PG_PASSWORD', 'dev');
SELECT bb.add_instance('my', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev');
SELECT bb.add_instance('ch', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', '$CH_PASSWORD', 'dev');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS wk_mem_my');
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE wk_mem_my');
SELECT bb.remote_query('ch', NULL, 'DROP DATABASE IF EXISTS wk_mem_ch');
SELECT bb.remote_query('ch', NULL, 'CREATE DATABASE wk_mem_ch');
SELECT bb.sync_instance('pg'), bb.sync_instance('my'), bb.sync_instance('ch');
SELECT bb.create_project('mem');
SELECT bb.assign_database('pg/wk_mem_pg', 'mem', 'dev');
SELECT bb.assign_database('my/wk_mem_my', 'mem', 'dev');
SELECT bb.assign_database('ch/wk_mem_ch', 'mem', 'dev');
SQL
review_off
is "the 400 kB literal" "400000" "$(ctl_psql -c "SELECT length(wk_big())")"

next_case
# ---- PostgreSQL, non-transactional (VACUUM first): the reported script, then big and small statements
issue=$(apply_script pg/wk_mem_pg 'VACUUM; SELECT length(%1$s); SELECT 3;')
expect_done "PostgreSQL: the reported script (VACUUM; a 400 kB SELECT; SELECT 3) is done" "$issue"
is "PostgreSQL: its three statements ran" "3" "$(stmts_done "$issue")"

next_case
issue=$(apply_script pg/wk_mem_pg "VACUUM; CREATE TABLE big_t (id int, t text); INSERT INTO big_t VALUES (1, %1\$s);
SELECT length(%1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id int);")
expect_done "PostgreSQL: big statements between small ones are done" "$issue"
is "PostgreSQL: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(target_psql wk_mem_pg -c "SELECT count(*) || '|' || max(length(t)) || '|' || max(md5(t)) FILTER (WHERE id = 1) FROM big_t" 2>&1)"
is "PostgreSQL: the last statement ran" "after_big" "$(target_psql wk_mem_pg -c "SELECT to_regclass('after_big')" 2>&1)"
is "PostgreSQL: six statements recorded" "6" "$(stmts_done "$issue")"

next_case
small_case PostgreSQL pg/wk_mem_pg "VACUUM; " 'CREATE TABLE small_t (id int)' \
	target_psql wk_mem_pg -c "SELECT count(*) || '|' || max(id) FROM small_t"

next_case
# ---- MariaDB
issue=$(apply_script my/wk_mem_my "CREATE TABLE big_t (id int PRIMARY KEY, t longtext); INSERT INTO big_t VALUES (1, %1\$s);
SELECT length(%1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id int);")
expect_done "MariaDB: big statements between small ones are done" "$issue"
is "MariaDB: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(remote_cols my wk_mem_my 'SELECT count(*) AS n, max(length(t)) AS l, md5(max(CASE WHEN id = 1 THEN t END)) AS h FROM big_t' n l h)"
is "MariaDB: the last statement ran" "1" \
	"$(remote_cols my wk_mem_my "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'wk_mem_my' AND table_name = 'after_big'" n)"
is "MariaDB: five statements recorded" "5" "$(stmts_done "$issue")"

next_case
small_case MariaDB my/wk_mem_my "" 'CREATE TABLE small_t (id int)' \
	remote_cols my wk_mem_my 'SELECT count(*) AS n, max(id) AS m FROM small_t' n m

next_case
# ---- ClickHouse (a 400 kB SELECT would exceed its max_query_size; INSERT data does not count)
issue=$(apply_script ch/wk_mem_ch "CREATE TABLE big_t (id UInt32, t String) ENGINE = MergeTree ORDER BY id;
INSERT INTO big_t VALUES (1, %1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id UInt32) ENGINE = Memory;")
expect_done "ClickHouse: big statements between small ones are done" "$issue"
is "ClickHouse: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(remote_cols ch wk_mem_ch 'SELECT count() AS n, max(length(t)) AS l, lower(hex(MD5(anyIf(t, id = 1)))) AS h FROM big_t' n l h)"
is "ClickHouse: the last statement ran" "1" \
	"$(remote_cols ch wk_mem_ch "SELECT count() AS n FROM system.tables WHERE database = 'wk_mem_ch' AND name = 'after_big'" n)"
is "ClickHouse: four statements recorded" "4" "$(stmts_done "$issue")"

next_case
small_case ClickHouse ch/wk_mem_ch "" 'CREATE TABLE small_t (id UInt32) ENGINE = Memory' \
	remote_cols ch wk_mem_ch 'SELECT count() AS n, max(id) AS m FROM small_t' n m

done_testing
