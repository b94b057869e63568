-- Stage gating (bb._runnable_tasks), the psql views, bb.wait, and LISTEN bytebase notifications.
\i sql/rollout_setup.inc
-- dry runs are off by default; these tests follow them where they may run
SELECT bb.set_review_option('dev', 'dry_run', true), bb.set_review_option('staging', 'dry_run', true);
-- no review here (43_plan_check tests the gate): the plan checks' review finds nothing
ALTER EXTENSION bytebase DROP FUNCTION bb._review(text, text, text);
DROP FUNCTION bb._review(text, text, text);
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text)
LANGUAGE sql AS $$ SELECT NULL::int, NULL::text, NULL::text, NULL::text, NULL::text WHERE false $$;

-- a worker finishing a task, as the workers do it: task row first, then the issue
CREATE FUNCTION pg_temp.finish(db text, iss bigint, st text, err text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bb.task SET status = st, error = err, attempts = attempts + 1,
                     started_at = coalesce(started_at, now()), finished_at = now()
   WHERE issue_id = iss AND database_id = bb._database_id(db);
  RETURN bb._refresh_issue(iss);
END $$;
-- a worker's dry run that found nothing
CREATE FUNCTION pg_temp.dry_run_ok(iss bigint) RETURNS void LANGUAGE sql AS $$
  SELECT bb._finish_plan_check(c.task_id, 'dry_run', 'done')
    FROM bb.plan_check c JOIN bb.task t ON t.id = c.task_id
   WHERE t.issue_id = iss AND c.kind = 'dry_run' AND c.status = 'pending';
$$;
CREATE FUNCTION pg_temp.runnable(iss bigint) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(i.name || '/' || d.name, ', ' ORDER BY i.name, d.name), '-')
    FROM bb._runnable_tasks r JOIN bb.database d ON d.id = r.database_id JOIN bb.instance i ON i.id = d.instance_id
   WHERE r.issue_id = iss;
$$;

-- stage by stage: dev, then staging, then prod once approved
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'ALTER TABLE orders ADD COLUMN note text', version => '2026.11.25-01',
                targets => '{pg-dev/shop, my-dev/shop, pg-stg/shop, pg-prod/shop, tenants}') AS issue \gset
RESET SESSION AUTHORIZATION;
SELECT pg_temp.runnable(:issue);                      -- dev, but pg-dev/shop waits for its dry run
SELECT id, stage, database, status, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT pg_temp.dry_run_ok(:issue);
SELECT pg_temp.runnable(:issue);
SELECT pg_temp.finish('pg-dev/shop', :issue, 'running');
SELECT pg_temp.runnable(:issue);
SELECT pg_temp.finish('pg-dev/shop', :issue, 'done'), pg_temp.finish('my-dev/shop', :issue, 'done');
SELECT pg_temp.runnable(:issue);                      -- staging
SELECT pg_temp.finish('pg-stg/shop', :issue, 'done');
SELECT pg_temp.runnable(:issue);                      -- prod waits for approval
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT stage, database, status, blocked_by FROM bb.tasks WHERE issue = :issue AND stage = 'prod';
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.approve(:issue, 'ship it');
RESET SESSION AUTHORIZATION;
SELECT pg_temp.runnable(:issue);
SELECT pg_temp.finish('pg-prod/shop', :issue, 'done'), pg_temp.finish('pg-prod/t1', :issue, 'done'),
       pg_temp.finish('pg-prod/t2', :issue, 'failed', 'ERROR:  column "note" already exists');
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT pg_temp.finish('pg-prod/t3', :issue, 'done');
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT database, status, attempts, started_at IS NOT NULL AS started, error FROM bb.tasks WHERE issue = :issue;
-- the workers record each applied change in the changelog; bb.changelog shows it
INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, version, checksum, statement_hash, status,
                                duration, applied_by)
SELECT t.database_id, t.issue_id, t.id, i.version, i.statement_hash, i.statement_hash, 'done', '42 ms', i.created_by
  FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE t.issue_id = :issue AND t.status = 'done';
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT database, version, left(checksum, 12) AS checksum, statement, status, duration, applied_by
  FROM bb.changelog WHERE database = 'pg-prod/shop';
SELECT count(*) AS entries FROM bb.changelog;
RESET SESSION AUTHORIZATION;
ROLLBACK;

-- approval can come ahead of time; a protected first stage waits from the start
BEGIN;
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-prod/t1, my-prod/shop}') AS issue \gset
SELECT pg_temp.runnable(:issue), bb._issue_state(:issue);
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.approve(:issue);
RESET SESSION AUTHORIZATION;
-- a protected stage has no dry run: both run once approved
SELECT pg_temp.runnable(:issue), bb._issue_state(:issue);
-- a canceled issue runs nothing more
SELECT bb.cancel(:issue);
SELECT pg_temp.runnable(:issue), bb._issue_state(:issue);
ROLLBACK;

-- after the finishing commit, the lock-free refresh settles the issue as well
BEGIN;
SELECT bb.apply('shop', 'SELECT 1', targets => '{my-dev/shop}') AS issue \gset
UPDATE bb.task SET status = 'done' WHERE issue_id = :issue;
SELECT bb._refresh_issue(:issue, after_commit => true) AS settled, bb._refresh_issue(:issue, true) AS again;
ROLLBACK;

-- the views are readable by every bytebase role; the workers' view is not
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT count(*) FROM bb.issues;
SELECT count(*) FROM bb.tasks;
SELECT count(*) FROM bb.changelog;
SELECT count(*) FROM bb.plan_checks;
SELECT count(*) FROM bb.approvals;
SELECT pg_temp.try('SELECT count(*) FROM bb._runnable_tasks');
RESET SESSION AUTHORIZATION;

-- bb.wait: bad input
SELECT pg_temp.try('SELECT bb.wait(424242)');
SELECT pg_temp.try('SELECT bb.wait(NULL)');
BEGIN;
SELECT bb.apply('shop', 'SELECT 1', targets => '{my-prod/shop}') AS issue \gset
SELECT pg_temp.try(format('SELECT bb.wait(%s)', :issue));                          -- not committed yet
SELECT pg_temp.try(format('SELECT bb.wait(%s, %L)', :issue, '-1 s'));
ROLLBACK;

-- LISTEN bytebase in another session: an issue is created (waiting for approval: nothing runs) and canceled
\setenv PGHOST :HOST
\setenv PGPORT :PORT
\setenv PGUSER :USER
\setenv PGDATABASE :DBNAME
\! /usr/lib/postgresql/15/bin/psql -X -q -At -c 'LISTEN bytebase' -c "SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN n int', targets => '{my-prod/shop}', title => 'notify me')" -c "SELECT bb.cancel(max(id)) FROM bb.issue" 2>&1 | sed -E 's/PID [0-9]+/PID n/'
SELECT max(id) AS notified FROM bb.issue \gset
SELECT bb.wait(:notified, '0 s');
SELECT status, progress FROM bb.issues WHERE id = :notified;

-- bb.wait on a committed issue: waiting_approval at once; running until the timeout; settled states
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN w int', targets => '{my-prod/shop}') AS issue \gset
SELECT bb.wait(:issue);
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT bb.wait(:issue, '1 s');
RESET SESSION AUTHORIZATION;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.try(format('SELECT bb.wait(%s)', :issue));
ROLLBACK;
BEGIN;
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.approve(:issue);
RESET SESSION AUTHORIZATION;
SELECT bb.wait(:issue, '30 ms');
SELECT pg_temp.finish('my-prod/shop', :issue, 'failed', 'boom');
SELECT bb.wait(:issue, '30 ms');
ROLLBACK;
BEGIN;
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.approve(:issue);
RESET SESSION AUTHORIZATION;
SELECT pg_temp.finish('my-prod/shop', :issue, 'done');
SELECT bb.wait(:issue, '30 ms');
ROLLBACK;
SELECT bb.cancel(:issue);
SELECT bb.wait(:issue);

\i sql/rollout_teardown.inc
