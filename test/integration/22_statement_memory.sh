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

# A script of N_SMALL small statements: a table, then one row per statement.  $1 is the table DDL.
small_script() {
	local i s="$1;"
	for ((i = 1; i < N_SMALL; i++)); do s="$s INSERT INTO small_t VALUES ($i);"; done
	printf '%s' "$s"
}

# Plans SCRIPT for TARGET in PROJECT; %1$s in SCRIPT is the 400 kB literal (quoted). Prints the issue.
apply_script() {
	local project=$1 target=$2 script=$3
	ctl_psql -v project="$project" -v target="$target" -v script="$script" <<'SQL'
SELECT bb.apply(:'project', format(:'script', quote_literal(wk_big())), targets => ARRAY[:'target'])
SQL
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
issue=$(apply_script mem pg/wk_mem_pg 'VACUUM; SELECT length(%1$s); SELECT 3;')
expect_done "PostgreSQL: the reported script (VACUUM; a 400 kB SELECT; SELECT 3) is done" "$issue"
is "PostgreSQL: its three statements ran" "3" "$(stmts_done "$issue")"

next_case
issue=$(apply_script mem pg/wk_mem_pg "VACUUM; CREATE TABLE big_t (id int, t text); INSERT INTO big_t VALUES (1, %1\$s);
SELECT length(%1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id int);")
expect_done "PostgreSQL: big statements between small ones are done" "$issue"
is "PostgreSQL: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(target_psql wk_mem_pg -c "SELECT count(*) || '|' || max(length(t)) || '|' || max(md5(t)) FILTER (WHERE id = 1) FROM big_t" 2>&1)"
is "PostgreSQL: the last statement ran" "after_big" "$(target_psql wk_mem_pg -c "SELECT to_regclass('after_big')" 2>&1)"
is "PostgreSQL: six statements recorded" "6" "$(stmts_done "$issue")"

next_case
issue=$(apply_script mem pg/wk_mem_pg "VACUUM; $(small_script 'CREATE TABLE small_t (id int)')")
expect_done "PostgreSQL: $((N_SMALL + 1)) small statements are done" "$issue"
is "PostgreSQL: every small statement's row is there" "$((N_SMALL - 1))|$((N_SMALL - 1))" \
	"$(target_psql wk_mem_pg -c "SELECT count(*) || '|' || max(id) FROM small_t" 2>&1)"

next_case
# ---- MariaDB
issue=$(apply_script mem my/wk_mem_my "CREATE TABLE big_t (id int PRIMARY KEY, t longtext); INSERT INTO big_t VALUES (1, %1\$s);
SELECT length(%1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id int);")
expect_done "MariaDB: big statements between small ones are done" "$issue"
is "MariaDB: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(ctl_psql -c "SELECT r->>'n' || '|' || (r->>'l') || '|' || (r->>'h') FROM bb.remote_query('my', 'wk_mem_my',
	   'SELECT count(*) AS n, max(length(t)) AS l, md5(max(CASE WHEN id = 1 THEN t END)) AS h FROM big_t') r" 2>&1)"
is "MariaDB: the last statement ran" "1" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.remote_query('my', 'wk_mem_my', 'SHOW TABLES LIKE ''after_big''')" 2>&1)"
is "MariaDB: five statements recorded" "5" "$(stmts_done "$issue")"

next_case
issue=$(apply_script mem my/wk_mem_my "$(small_script 'CREATE TABLE small_t (id int)')")
expect_done "MariaDB: $N_SMALL small statements are done" "$issue"
is "MariaDB: every small statement's row is there" "$((N_SMALL - 1))|$((N_SMALL - 1))" \
	"$(ctl_psql -c "SELECT (r->>'n') || '|' || (r->>'m') FROM bb.remote_query('my', 'wk_mem_my', 'SELECT count(*) AS n, max(id) AS m FROM small_t') r" 2>&1)"

next_case
# ---- ClickHouse (a 400 kB SELECT would exceed its max_query_size; INSERT data is not counted)
issue=$(apply_script mem ch/wk_mem_ch "CREATE TABLE big_t (id UInt32, t String) ENGINE = MergeTree ORDER BY id;
INSERT INTO big_t VALUES (1, %1\$s); INSERT INTO big_t VALUES (2, 'small'); CREATE TABLE after_big (id UInt32) ENGINE = Memory;")
expect_done "ClickHouse: big statements between small ones are done" "$issue"
is "ClickHouse: the 400 kB value arrived intact, the small one too" "2|400000|$BIG_MD5" \
	"$(ctl_psql -c "SELECT r->>'n' || '|' || (r->>'l') || '|' || (r->>'h') FROM bb.remote_query('ch', 'wk_mem_ch',
	   'SELECT count() AS n, max(length(t)) AS l, lower(hex(MD5(anyIf(t, id = 1)))) AS h FROM big_t') r" 2>&1)"
is "ClickHouse: the last statement ran" "1" \
	"$(ctl_psql -c "SELECT r->>'n' FROM bb.remote_query('ch', 'wk_mem_ch',
	   'SELECT count() AS n FROM system.tables WHERE database = ''wk_mem_ch'' AND name = ''after_big''') r" 2>&1)"
is "ClickHouse: four statements recorded" "4" "$(stmts_done "$issue")"

next_case
issue=$(apply_script mem ch/wk_mem_ch "$(small_script 'CREATE TABLE small_t (id UInt32) ENGINE = Memory')")
expect_done "ClickHouse: $N_SMALL small statements are done" "$issue"
is "ClickHouse: every small statement's row is there" "$((N_SMALL - 1))|$((N_SMALL - 1))" \
	"$(ctl_psql -c "SELECT (r->>'n') || '|' || (r->>'m') FROM bb.remote_query('ch', 'wk_mem_ch', 'SELECT count() AS n, max(id) AS m FROM small_t') r" 2>&1)"

done_testing
