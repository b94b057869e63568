-- Approvals (approve/reject), cancel, retry, skip: who may do what, state changes, bad input.
\i sql/rollout_setup.inc
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
  UPDATE bb.task SET status = st, error = err, attempts = attempts + 1, finished_at = now()
   WHERE issue_id = iss AND database_id = bb._database_id(db);
  RETURN bb._refresh_issue(iss);
END $$;

BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN c int', version => 'v2') AS issue \gset
-- developers neither approve nor reject
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :issue));
SELECT pg_temp.try(format('SELECT bb.reject(%s, %L)', :issue, 'no'));
-- an approver approves the first stage waiting for approval (ahead of time is allowed)
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.approve(:issue, 'looks fine');
SELECT stage, database, status, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT stage, decision, comment, decided_by FROM bb.approvals WHERE issue = :issue;
RESET SESSION AUTHORIZATION;
SELECT e.name, s.approved_by, s.approved_at IS NOT NULL AS approved
  FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id WHERE s.issue_id = :issue ORDER BY s.position;
SET SESSION AUTHORIZATION regress_bb_carol;
-- nothing left to approve; unknown issues
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :issue));
SELECT pg_temp.try('SELECT bb.approve(424242)');
SELECT pg_temp.try('SELECT bb.approve(NULL)');
SELECT pg_temp.try('SELECT bb.reject(424242, ''why'')');
RESET SESSION AUTHORIZATION;
ROLLBACK;

-- nobody approves their own issue, not even a superuser or an admin
BEGIN;
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN c int', targets => '{pg-prod/shop}') AS issue \gset
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :issue));
SET SESSION AUTHORIZATION regress_bb_dave;
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN d int', targets => '{pg-prod/shop}') AS own \gset
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :own));
SELECT pg_temp.try(format('SELECT bb.reject(%s, %L)', :own, 'mine'));
-- an admin approves someone else's issue
SELECT bb.approve(:issue);
RESET SESSION AUTHORIZATION;
SELECT status FROM bb.task WHERE issue_id = :issue;
ROLLBACK;

-- reject: a comment is required; the issue and its pending tasks are canceled
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'DROP TABLE t', targets => '{pg-stg/shop, pg-prod/shop}') AS issue \gset
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT pg_temp.try(format('SELECT bb.reject(%s, NULL)', :issue));
SELECT pg_temp.try(format('SELECT bb.reject(%s, %L)', :issue, '  '));
SELECT bb.reject(:issue, 'drop it in two steps');
SELECT status, waiting_for FROM bb.issues WHERE id = :issue;
SELECT database, status FROM bb.tasks WHERE issue = :issue;
SELECT stage, decision, comment, decided_by FROM bb.approvals WHERE issue = :issue;
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :issue));                    -- already canceled
RESET SESSION AUTHORIZATION;
ROLLBACK;

-- cancel: by the creator or an admin; not twice; not a done issue
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, pg-stg/shop}') AS issue \gset
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :issue));
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :issue));
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.cancel(:issue) AS canceled_tasks;
SELECT status FROM bb.issues WHERE id = :issue;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :issue));
SELECT pg_temp.try('SELECT bb.cancel(424242)');
-- an admin cancels anyone's issue
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop}') AS issue \gset
SET SESSION AUTHORIZATION regress_bb_dave;
SELECT bb.cancel(:issue) AS canceled_tasks;
SET SESSION AUTHORIZATION regress_bb_alice;
-- a running task is left to finish (its result still counts); the issue stays canceled
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, pg-stg/shop}') AS issue \gset
RESET SESSION AUTHORIZATION;
UPDATE bb.task SET status = 'running' WHERE issue_id = :issue AND database_id = bb._database_id('pg-dev/shop');
SELECT bb.cancel(:issue) AS canceled_tasks;
SELECT pg_temp.finish('pg-dev/shop', :issue, 'done');
SELECT database, status FROM bb.tasks WHERE issue = :issue;
-- a done issue cannot be canceled, not even by an admin
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop}') AS issue \gset
SELECT pg_temp.finish('pg-dev/shop', :issue, 'done');
SET SESSION AUTHORIZATION regress_bb_dave;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :issue));
RESET SESSION AUTHORIZATION;
ROLLBACK;

-- a failure stops the stage; later stages never start; retry re-queues failed tasks only
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, my-dev/shop, pg-stg/shop}') AS issue \gset
RESET SESSION AUTHORIZATION;
SELECT pg_temp.try(format('SELECT bb.retry(%s)', :issue));                       -- nothing failed yet
SELECT pg_temp.finish('pg-dev/shop', :issue, 'failed', 'ERROR: relation "t" does not exist');
SELECT id IS NOT NULL AS runnable, database_id = bb._database_id('my-dev/shop') AS is_my_dev
  FROM bb._runnable_tasks WHERE issue_id = :issue;
SELECT pg_temp.finish('my-dev/shop', :issue, 'done');
SELECT count(*) AS runnable FROM bb._runnable_tasks WHERE issue_id = :issue;  -- staging waits
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT database, status, error, blocked_by FROM bb.tasks WHERE issue = :issue;
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.retry(%s)', :issue));                       -- not the creator
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.retry(:issue) AS requeued;
RESET SESSION AUTHORIZATION;
SELECT database, status, error, attempts FROM bb.tasks WHERE issue = :issue;
SELECT status FROM bb.issues WHERE id = :issue;
SELECT pg_temp.try(format('SELECT bb.retry(%s)', :issue));                       -- nothing failed now
SELECT pg_temp.try('SELECT bb.retry(424242)');
ROLLBACK;

-- skip: a reason is required; pending, pending_approval or failed tasks only; the next stage may start
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, pg-stg/shop, pg-prod/shop}') AS issue \gset
SELECT id AS dev_task FROM bb.tasks WHERE issue = :issue AND database = 'pg-dev/shop' \gset
SELECT id AS stg_task FROM bb.tasks WHERE issue = :issue AND database = 'pg-stg/shop' \gset
SELECT id AS prod_task FROM bb.tasks WHERE issue = :issue AND database = 'pg-prod/shop' \gset
SELECT pg_temp.try(format('SELECT bb.skip(%s, NULL)', :dev_task));
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', :dev_task, ''));
SELECT pg_temp.try('SELECT bb.skip(424242, ''x'')');
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', :dev_task, 'not mine'));
RESET SESSION AUTHORIZATION;
UPDATE bb.task SET status = 'running' WHERE id = :dev_task;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', :dev_task, 'too late'));
RESET SESSION AUTHORIZATION;
SELECT pg_temp.finish('pg-dev/shop', :issue, 'failed', 'boom');
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.skip(:dev_task, 'dev is rebuilt tonight');
RESET SESSION AUTHORIZATION;
SELECT database, status, skip_reason, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT count(*) AS runnable_in_staging FROM bb._runnable_tasks WHERE id = :stg_task;
SELECT status, progress FROM bb.issues WHERE id = :issue;
SET SESSION AUTHORIZATION regress_bb_dave;
SELECT bb.skip(:prod_task, 'prod gets it with the next release');
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', :prod_task, 'again'));
RESET SESSION AUTHORIZATION;
SELECT pg_temp.finish('pg-stg/shop', :issue, 'done');
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
-- a finished issue: nothing to approve, cancel or retry
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :issue));
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :issue));
SELECT pg_temp.try(format('SELECT bb.retry(%s)', :issue));
RESET SESSION AUTHORIZATION;
ROLLBACK;

\i sql/rollout_teardown.inc
