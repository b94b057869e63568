#!/usr/bin/env bash
# Rollout workers against the target PostgreSQL: stages per environment, approval of a protected
# stage, changelog and target history, a syntax error stopping the rollout, an unreachable target
# failing alone, more tasks than workers.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
recreate_target_dbs wk_dev1 wk_dev2 wk_prod1 wk_m1 wk_m2 wk_m3 wk_m4 wk_m5 wk_m6
ensure_approver
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', true);
SQL
review_off
add_target_pg pg dev
ctl_psql >/dev/null <<SQL
SELECT bb.create_project('shop');
SELECT bb.assign_database('pg/wk_dev1', 'shop', 'dev');
SELECT bb.assign_database('pg/wk_dev2', 'shop', 'dev');
SELECT bb.assign_database('pg/wk_prod1', 'shop', 'prod');
SQL

is "launcher is running" "1" "$(ctl_psql -c "SELECT count(*) FROM bb.workers() WHERE kind = 'launcher' AND pid IS NOT NULL")"

require_control
# ---- two stages, the protected one waits for approval
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREATE TABLE note(id int PRIMARY KEY); INSERT INTO note VALUES (1);',
                     targets => ARRAY['pg/wk_dev1', 'pg/wk_dev2', 'pg/wk_prod1'], version => 'v1', title => 'note')")
is "dev stage done, prod waits for approval" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "dev databases changed" "1|1" "$(target_psql wk_dev1 -c "SELECT count(*) FROM note")|$(target_psql wk_dev2 -c "SELECT count(*) FROM note")"
is "prod database untouched before approval" "" "$(target_psql wk_prod1 -c "SELECT to_regclass('note')")"
is "prod task pending approval, never attempted" "pending_approval|0" \
	"$(ctl_psql -c "SELECT t.status || '|' || t.attempts FROM bb.task t JOIN bb.database d ON d.id = t.database_id WHERE t.issue_id = $issue AND d.name = 'wk_prod1'")"
ctl_psql -c "SET SESSION AUTHORIZATION wk_approver; SELECT bb.approve($issue, 'looks fine')" >/dev/null
is "approved issue finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "prod database changed once" "1" "$(target_psql wk_prod1 -c "SELECT count(*) FROM note")"
is "one changelog entry per database, with checksum and duration" "3" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.changelog_entry WHERE issue_id = $issue AND status = 'done' AND version = 'v1'
	                AND checksum ~ '^[0-9a-f]{64}$' AND duration IS NOT NULL AND applied_by = 'postgres'")"
is "each task ran once, by an executor" "3" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue
	                AND r.attempt = 1 AND r.status = 'done' AND r.executor_pid > 0 AND r.finished_at >= r.started_at")"
is "target history records the task" "1" \
	"$(target_psql wk_prod1 -c "SELECT count(*) FROM bytebase.history WHERE version = 'v1'")"
like "schema after the change is recorded" '"note"' \
	"$(ctl_psql -c "SELECT schema_after::text FROM bb.changelog_entry e JOIN bb.database d ON d.id = e.database_id WHERE e.issue_id = $issue AND d.name = 'wk_dev1'")"

require_control
# ---- a syntax error fails the task with the remote error; the later stage never starts
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREAT TABLE broken(id int);', targets => ARRAY['pg/wk_dev1', 'pg/wk_prod1'])")
is "syntax error fails the issue" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "the task says why, with SQLSTATE" 'syntax error at or near "CREAT".*42601' \
	"$(ctl_psql -c "SELECT t.error FROM bb.task t JOIN bb.database d ON d.id = t.database_id WHERE t.issue_id = $issue AND d.name = 'wk_dev1'")"
# (its dry run may already have failed it for the same error: either way it never ran)
is "the prod stage never started" "0|0" \
	"$(ctl_psql -c "SELECT t.attempts || '|' || (SELECT count(*) FROM bb.task_run r WHERE r.task_id = t.id) FROM bb.task t JOIN bb.database d ON d.id = t.database_id WHERE t.issue_id = $issue AND d.name = 'wk_prod1'")"

require_control
# ---- an unreachable target fails with the reason; the others proceed
ctl_psql >/dev/null <<SQL
SELECT bb.add_instance('deadpg', 'postgres', '127.0.0.1', 1, 'nobody', 'secret-pw-xyz', 'dev', verify => false);
INSERT INTO bb.database (instance_id, name, project_id, environment_id)
SELECT i.id, 'gone', p.id, e.id FROM bb.instance i, bb.project p, bb.environment e
 WHERE i.name = 'deadpg' AND p.name = 'shop' AND e.name = 'dev';
SET bytebase.connect_timeout = '2s';
SQL
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREATE TABLE reach(id int);', targets => ARRAY['deadpg/gone', 'pg/wk_dev2'])")
is "issue with an unreachable target fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "the reachable target is done" "done" \
	"$(ctl_psql -c "SELECT t.status FROM bb.task t JOIN bb.database d ON d.id = t.database_id WHERE t.issue_id = $issue AND d.name = 'wk_dev2'")"
err=$(ctl_psql -c "SELECT t.error FROM bb.task t JOIN bb.database d ON d.id = t.database_id WHERE t.issue_id = $issue AND d.name = 'gone'")
like "the unreachable target fails with the reason" 'deadpg|connect|refused' "$err"
is "no password in the error" "" "$(printf '%s' "$err" | grep -o 'secret-pw-xyz')"
is "no password in task runs" "0" "$(ctl_psql -c "SELECT count(*) FROM bb.task_run WHERE error LIKE '%secret-pw-xyz%'")"

require_control
# ---- bb.cancel stops a running task: the executor interrupts the remote statement
# (slow only in the real run, whose history row of now() exists: the dry run passes quickly)
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREATE TABLE cancelled_one(id int);
  SELECT pg_sleep(CASE WHEN EXISTS (SELECT 1 FROM bytebase.history WHERE applied_at = now()) THEN 60 ELSE 0 END);',
  targets => ARRAY['pg/wk_dev2'])")
for i in $(seq 1 300); do
	[ "$(ctl_psql -c "SELECT count(*) FROM bb.task WHERE issue_id = $issue AND status = 'running'")" = 1 ] && break
	sleep 0.1
done
ctl_psql -c "SELECT bb.cancel($issue)" >/dev/null
is "canceled issue settles canceled" "canceled" "$(ctl_psql -c "SELECT bb.wait($issue, '30 s')")"
ok "the running task is stopped and recorded canceled" wait_for_value \
	"SELECT t.status || '|' || r.status FROM bb.task t JOIN bb.task_run r ON r.task_id = t.id WHERE t.issue_id = $issue" "canceled|canceled" 30
is "nothing of the canceled change is on the target" "" "$(target_psql wk_dev2 -c "SELECT to_regclass('cancelled_one')")"

require_control
# ---- more tasks than workers: max_workers = 2, six slow tasks
ctl_psql -c "ALTER SYSTEM SET bytebase.max_workers = 2" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
for d in wk_m1 wk_m2 wk_m3 wk_m4 wk_m5 wk_m6; do ctl_psql -c "SELECT bb.assign_database('pg/$d', 'shop', 'dev')" >/dev/null; done
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREATE TABLE slow(id int); SELECT pg_sleep(0.5);',
                     targets => ARRAY['pg/wk_m1','pg/wk_m2','pg/wk_m3','pg/wk_m4','pg/wk_m5','pg/wk_m6'])")
peak=0
for i in $(seq 1 40); do
	n=$(ctl_psql -c "SELECT count(*) FROM bb.workers() WHERE kind = 'executor' AND state IN ('busy', 'dry run', 'running', 'starting')")
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.1
done
is "six tasks with two workers all finish" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '120 s')")"
ok "never more than two executors at once (peak $peak)" test "$peak" -le 2
is "task runs never overlapped more than twice" "t" \
	"$(ctl_psql -c "SELECT coalesce(max(c), 0) <= 2 FROM (SELECT (SELECT count(*) FROM bb.task_run r2 JOIN bb.task t2 ON t2.id = r2.task_id
	                  WHERE t2.issue_id = $issue AND r2.started_at <= r.started_at AND r2.finished_at > r.started_at) c
	                FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue) x")"
ctl_psql -c "ALTER SYSTEM RESET bytebase.max_workers" -c "SELECT pg_reload_conf()" >/dev/null

done_testing
