#!/usr/bin/env bash
# Rollout workers against MariaDB (mysql engine): statement-by-statement execution with
# progress, a failing statement named by its position, changelog rows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('my', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS wk_my1');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS wk_my2');
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE wk_my1');
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE wk_my2');
SELECT bb.sync_instance('my');
SELECT bb.create_project('myshop');
SELECT bb.assign_database('my/wk_my1', 'myshop', 'dev');
SELECT bb.assign_database('my/wk_my2', 'myshop', 'dev');
SQL
review_off
require_control

issue=$(ctl_psql -c "SELECT bb.apply('myshop', 'CREATE TABLE item (id int PRIMARY KEY, note varchar(20));
INSERT INTO item VALUES (1, ''a;b''), (2, ''c'');
ALTER TABLE item ADD COLUMN qty int DEFAULT 0;', version => 'm1')")
is "MariaDB rollout finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "rows and the added column are there" '{"n": "2", "q": "0"}' \
	"$(ctl_psql -c "SELECT bb.remote_query('my', 'wk_my2', 'SELECT count(*) AS n, max(qty) AS q FROM item')")"
is "progress counts the three statements" "3|3" \
	"$(ctl_psql -c "SELECT min(r.statements_done) || '|' || max(r.statements_done) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")"
is "changelog entries" "2" "$(ctl_psql -c "SELECT count(*) FROM bb.changelog_entry WHERE issue_id = $issue AND status = 'done' AND version = 'm1'")"

# a failing second statement: the task names it, the first one stays applied (DDL auto-commits)
issue=$(ctl_psql -c "SELECT bb.apply('myshop', 'CREATE TABLE first_ok (id int);
INSERT INTO no_such_table VALUES (1);
CREATE TABLE never_made (id int);', targets => ARRAY['my/wk_my1'])")
is "failing statement fails the issue" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "error names statement 2 of 3 and the remote error" '^statement 2 of 3: .*no_such_table' \
	"$(ctl_psql -c "SELECT error FROM bb.task WHERE issue_id = $issue")"
is "the run recorded one statement done" "1|failed" \
	"$(ctl_psql -c "SELECT r.statements_done || '|' || r.status FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")"
is "a failed changelog row records the partial run" "1" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.changelog_entry WHERE issue_id = $issue AND status = 'failed'")"
is "the third statement never ran" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.remote_query('my', 'wk_my1', 'SHOW TABLES LIKE ''never_made''')")"

done_testing
