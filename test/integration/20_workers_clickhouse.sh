#!/usr/bin/env bash
# Rollout workers against ClickHouse: one statement per HTTP request, failures named by position.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('ch', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, '$CH_USER', '$CH_PASSWORD', 'dev');
SELECT bb.remote_query('ch', NULL, 'DROP DATABASE IF EXISTS wk_ch1');
SELECT bb.remote_query('ch', NULL, 'CREATE DATABASE wk_ch1');
SELECT bb.sync_instance('ch');
SELECT bb.create_project('events');
SELECT bb.assign_database('ch/wk_ch1', 'events', 'dev');
SQL
review_off
require_control

issue=$(ctl_psql -c "SELECT bb.apply('events', 'CREATE TABLE hits (id UInt32, url String) ENGINE = MergeTree ORDER BY id;
INSERT INTO hits VALUES (1, ''/a''), (2, ''/b'');', version => 'c1')")
is "ClickHouse rollout finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "rows are there" '"2"' "$(ctl_psql -c "SELECT bb.remote_query('ch', 'wk_ch1', 'SELECT count() AS n FROM hits')")"
is "progress counts the statements" "2" \
	"$(ctl_psql -c "SELECT r.statements_done FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue")"

issue=$(ctl_psql -c "SELECT bb.apply('events', 'ALTER TABLE hits ADD COLUMN ref String;
SELEC broken;
ALTER TABLE hits ADD COLUMN never String;')")
is "a bad statement fails the issue" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "error names statement 2 of 3 and the ClickHouse error" '^statement 2 of 3: .*(Syntax error|Code: 62)' \
	"$(ctl_psql -c "SELECT error FROM bb.task WHERE issue_id = $issue")"
is "the third statement never ran" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.remote_query('ch', 'wk_ch1', 'SELECT name FROM system.columns WHERE database = ''wk_ch1'' AND table = ''hits'' AND name = ''never''')")"

done_testing
