#!/usr/bin/env bash
# The rollout engine against real engines: a failed statement-by-statement script resumes at the
# statement that failed (MariaDB, ClickHouse, non-transactional PostgreSQL); two issues on one
# database run in issue order; no control-database snapshot is held while a target works; a
# remote "terminating connection" (57P01) fails the task, not the executor; what runs is what
# was reviewed, one statement at a time.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
recreate_target_dbs eo_pg eo_pg2
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('my', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS eo_my');
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE eo_my');
SELECT bb.add_instance('ch', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', '$CH_PASSWORD', 'dev');
SELECT bb.remote_query('ch', NULL, 'DROP DATABASE IF EXISTS eo_ch');
SELECT bb.remote_query('ch', NULL, 'CREATE DATABASE eo_ch');
SELECT bb.sync_instance('my'), bb.sync_instance('ch');
SQL
add_target_pg pg dev
ctl_psql >/dev/null <<'SQL'
SELECT bb.create_project('eo');
SELECT bb.assign_database(d, 'eo', 'dev') FROM unnest(ARRAY['my/eo_my', 'ch/eo_ch', 'pg/eo_pg', 'pg/eo_pg2']) d;
SQL
review_off
require_control

# ---- MariaDB: statement 3 of 4 fails; after the cause is fixed, retry resumes at statement 3
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'CREATE TABLE a1 (id int);
ALTER TABLE a1 ADD COLUMN c1 int;
INSERT INTO missing_table VALUES (1);
ALTER TABLE a1 ADD COLUMN c2 int;', targets => '{my/eo_my}')")
is "MariaDB: statement 3 of 4 fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "MariaDB: the error names it" '^statement 3 of 4: .*missing_table' "$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
is "MariaDB: the task resumes at statement 3" "3" "$(ctl_psql -c "SELECT resumes_at FROM bb.tasks WHERE issue = $issue")"
ctl_psql -c "SELECT bb.remote_query('my', 'eo_my', 'CREATE TABLE missing_table (id int)')" >/dev/null
ok "MariaDB: retry" ctl_psql -c "SELECT bb.retry($issue)"
is "MariaDB: the retried script finishes (no duplicate column)" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "MariaDB: the second attempt started at statement 3 and ran two" "3|4" \
	"$(ctl_psql -c "SELECT from_statement || '|' || statements_done FROM bb.task_runs WHERE issue = $issue AND attempt = 2")"
is "MariaDB: both columns, one row" '{"c": "2", "n": "1"}' "$(ctl_psql -c "SELECT bb.remote_query('my', 'eo_my',
	'SELECT (SELECT count(*) FROM missing_table) AS n, (SELECT count(*) FROM information_schema.columns WHERE table_schema = ''eo_my'' AND table_name = ''a1'' AND column_name LIKE ''c%'') AS c')")"

# ---- from_start: the whole script again (here it fails at statement 1, which already ran)
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'CREATE TABLE b1 (id int); INSERT INTO missing2 VALUES (1);', targets => '{my/eo_my}')")
is "MariaDB: a second script fails at statement 2" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
ctl_psql -c "SELECT bb.remote_query('my', 'eo_my', 'CREATE TABLE missing2 (id int)')" >/dev/null
ok "MariaDB: retry from the start" ctl_psql -c "SELECT bb.retry($issue, from_start => true)"
is "MariaDB: from the start, statement 1 fails again" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "MariaDB: ... because b1 exists" "^statement 1 of 2: .*b1" "$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
ok "MariaDB: retry_task resumes where it stopped" ctl_psql -c "SELECT bb.retry_task(id) FROM bb.task WHERE issue_id = $issue"
is "MariaDB: ... and fails at statement 1 still (nothing ran)" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
ok "MariaDB: cancel it" ctl_psql -c "SELECT bb.cancel($issue)"

# ---- ClickHouse: the same resume
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'CREATE TABLE eo_ch.t (id UInt32) ENGINE = MergeTree ORDER BY id;
ALTER TABLE eo_ch.t ADD COLUMN c1 UInt32;
INSERT INTO eo_ch.nope VALUES (1);
ALTER TABLE eo_ch.t ADD COLUMN c2 UInt32;', targets => '{ch/eo_ch}')")
is "ClickHouse: statement 3 of 4 fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
ctl_psql -c "SELECT bb.remote_query('ch', NULL, 'CREATE TABLE eo_ch.nope (id UInt32) ENGINE = Memory')" >/dev/null
ok "ClickHouse: retry" ctl_psql -c "SELECT bb.retry($issue)"
is "ClickHouse: finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "ClickHouse: the second attempt resumed at statement 3" "3" \
	"$(ctl_psql -c "SELECT from_statement FROM bb.task_runs WHERE issue = $issue AND attempt = 2")"

# ---- PostgreSQL, non-transactional script: the same resume
target_psql eo_pg -c "CREATE TABLE big (id int)" >/dev/null
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'CREATE INDEX CONCURRENTLY big_id ON big (id);
ALTER TABLE big ADD COLUMN c1 int;
INSERT INTO nope VALUES (1);
ALTER TABLE big ADD COLUMN c2 int;', targets => '{pg/eo_pg}')")
is "PostgreSQL non-transactional: statement 3 of 4 fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "PostgreSQL non-transactional: the error names it" '^statement 3 of 4: .*nope' \
	"$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
target_psql eo_pg -c "CREATE TABLE nope (id int)" >/dev/null
ok "PostgreSQL non-transactional: retry" ctl_psql -c "SELECT bb.retry($issue)"
is "PostgreSQL non-transactional: resumes at 3 and finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "PostgreSQL non-transactional: two columns, one index, one history row" "2|1|1" \
	"$(target_psql eo_pg -c "SELECT (SELECT count(*) FROM information_schema.columns WHERE table_name = 'big' AND column_name LIKE 'c%') || '|' ||
	                               (SELECT count(*) FROM pg_indexes WHERE indexname = 'big_id') || '|' || (SELECT count(*) FROM bytebase.history)")"

# ---- non-transactional statements are found on the parse tree: a column called "concurrently"
#      is no reason to give up atomicity (a failure rolls the whole script back)
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'CREATE TABLE cc (id int); CREATE VIEW cv AS SELECT id AS concurrently FROM cc; SELECT 1/0;', targets => '{pg/eo_pg}')")
is "a column called concurrently: the script fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "... as one transaction (no statement number)" "^division by zero" "$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
is "... and nothing of it stayed on the target" "0" "$(target_psql eo_pg -c "SELECT count(*) FROM pg_class WHERE relname IN ('cc', 'cv')")"
ctl_psql -c "SELECT bb.cancel($issue)" >/dev/null

# ---- two issues on one database run in issue order, one at a time
issue1=$(ctl_psql -c "SELECT bb.apply('eo', 'SELECT pg_sleep(1.5); CREATE TABLE ordered1 (id int);', targets => '{pg/eo_pg2}')")
issue2=$(ctl_psql -c "SELECT bb.apply('eo', 'ALTER TABLE ordered1 ADD COLUMN x int;', targets => '{pg/eo_pg2}')")
like "the later issue waits for the earlier one on that database" "issue $issue1 on pg/eo_pg2|running" \
	"$(ctl_psql -c "SELECT blocked_by FROM bb.tasks WHERE issue = $issue2") $(ctl_psql -c "SELECT status FROM bb.tasks WHERE issue = $issue1")"
is "both finish" "done done" "$(ctl_psql -c "SELECT bb.wait($issue1, '60 s')") $(ctl_psql -c "SELECT bb.wait($issue2, '60 s')")"
is "in issue order: the second started after the first finished" "t" \
	"$(ctl_psql -c "SELECT (SELECT started_at FROM bb.task_runs WHERE issue = $issue2) >= (SELECT finished_at FROM bb.task_runs WHERE issue = $issue1)")"

# ---- no snapshot of the control database is held while the target works
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'SELECT pg_sleep(3);', targets => '{pg/eo_pg2}')")
ok "the task runs" wait_for_value "SELECT status FROM bb.tasks WHERE issue = $issue" "running" 30
sleep 0.5
is "the executor holds no xmin and no transaction during the remote statement" "false|false" \
	"$(ctl_psql -c "SELECT bool_or(backend_xmin IS NOT NULL) || '|' || bool_or(xact_start IS NOT NULL) FROM pg_stat_activity
	                WHERE backend_type = 'bytebase executor' AND query LIKE '%task $(ctl_psql -c "SELECT id FROM bb.task WHERE issue_id = $issue")%'")"
is "and the task finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"

# ---- the target terminates our session (57P01 from the remote): the task fails, the executor lives on
issue=$(ctl_psql -c "SELECT bb.apply('eo', 'SELECT pg_sleep(30);', targets => '{pg/eo_pg2}')")
ok "the long task runs" wait_for_value "SELECT status FROM bb.tasks WHERE issue = $issue" "running" 30
pid=$(ctl_psql -c "SELECT r.executor_pid FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")
sleep 0.5
target_psql eo_pg2 -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bytebase' AND query LIKE '%pg_sleep(30)%'" >/dev/null
is "the task fails with the remote error" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "the error is the target's" "57P01|terminat" "$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
is "the executor was not stopped by it" "1" "$(ctl_psql -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")"
ctl_psql -c "SELECT bb.cancel($issue)" >/dev/null   # a failed issue holds its database

# ---- what runs is what was reviewed: a comment the server ends at \r hides nothing from the
#      splitter, so the review sees the COMMIT and the DROP (and here the COMMIT rule blocks it)
target_psql eo_pg2 -c "CREATE TABLE victim (id int)" >/dev/null
is "the review splits as the server does" "SELECT 1|COMMIT|DROP TABLE victim" \
	"$(ctl_psql -c "SELECT string_agg(sql, '|' ORDER BY col) FROM bb.split_statements(E'SELECT 1; -- x\\rCOMMIT; DROP TABLE victim;\\n')")"
ctl_psql -c "SELECT bb.set_review_rule('dev', 'statement.disallow-commit', 'error')" >/dev/null
issue=$(ctl_psql -c "SELECT bb.apply('eo', E'SELECT 1; -- x\\rCOMMIT; DROP TABLE victim;\\n', targets => '{pg/eo_pg2}')")
is "the hidden COMMIT is an error finding: the task never runs" "failed|0" \
	"$(ctl_psql -c "SELECT status || '|' || attempts FROM bb.tasks WHERE issue = $issue")"
is "the victim table is still there" "1" "$(target_psql eo_pg2 -c "SELECT count(*) FROM pg_tables WHERE tablename = 'victim'")"
ctl_psql -c "SELECT bb.cancel($issue)" -c "SELECT bb.set_review_rule('dev', 'statement.disallow-commit', 'off')" >/dev/null
# a MySQL versioned comment runs on some servers only: the script is refused before anything runs
out=$(ctl_psql -c "SELECT bb.apply('eo', 'UPDATE t SET a = 1 /*!99999 WHERE id = 1 */', targets => '{my/eo_my}')" 2>&1)
like "a MySQL versioned comment is refused at apply" 'cannot be split into statements with certainty.*|versioned comment' "$out"

# ---- the password rule holds in the workers: a developer's change never runs with the trust a
#      target grants this server (postgres is trusted on the target's loopback)
ctl_psql >/dev/null <<SQL
DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eo_dev') THEN CREATE ROLE eo_dev; END IF; END \$\$;
GRANT bytebase_developer TO eo_dev;
SELECT bb.add_instance('pg-trust', 'postgres', '127.0.0.1', $TARGET_PG_PORT, 'postgres', environment => 'dev', verify => false);
SELECT bb.sync_instance('pg-trust');
SELECT bb.create_project('trust');
SELECT bb.grant_project('trust', 'eo_dev');
SELECT bb.assign_database('pg-trust/eo_pg2', 'trust', 'dev');
SQL
target_psql postgres -c "DROP ROLE IF EXISTS eo_hijack" >/dev/null
issue=$(ctl_psql -c "SET SESSION AUTHORIZATION eo_dev; SELECT bb.apply('trust', 'CREATE ROLE eo_hijack SUPERUSER', targets => '{pg-trust/eo_pg2}')")
is "a developer's change through a passwordless instance fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "... with the password rule's reason" 'has no password|did not ask for the password' "$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue")"
is "... and the role was never created on the target" "0" "$(target_psql postgres -c "SELECT count(*) FROM pg_roles WHERE rolname = 'eo_hijack'")"
ctl_psql -c "SELECT bb.cancel($issue)" >/dev/null
ok "a superuser allows it explicitly (password_required => false)" \
	ctl_psql -c "SELECT bb.alter_instance('pg-trust', options => '{\"password_required\": false}', verify => false)"
issue=$(ctl_psql -c "SET SESSION AUTHORIZATION eo_dev; SELECT bb.apply('trust', 'CREATE TABLE trusted_ok (id int)', targets => '{pg-trust/eo_pg2}')")
is "then the developer's change runs" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"

ctl_psql -c "SELECT bb.cancel(id) FROM bb.issue WHERE status IN ('open', 'failed')" >/dev/null
done_testing
