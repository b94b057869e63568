-- Plan checks: the review (bb.lint per engine and environment) and the dry-run contract with the
-- workers; error findings block a task (it fails before it runs), warnings never do; recheck and
-- retry after a policy change.  bb._review is replaced by a stub with a policy table, so that these
-- tests do not move with the rule catalog (43 tests the gate, the review tests test the rules).
\i sql/rollout_setup.inc
-- dry runs are off by default; these tests follow them where they may run
SELECT bb.set_review_option('dev', 'dry_run', true), bb.set_review_option('staging', 'dry_run', true);
ALTER EXTENSION bytebase DROP FUNCTION bb._review(text, text, text);
DROP FUNCTION bb._review(text, text, text);
DROP TABLE IF EXISTS public.lint_calls, public.lint_policy;
CREATE TABLE public.lint_calls (engine text, environment text);
CREATE TABLE public.lint_policy (environment text PRIMARY KEY, level text);
INSERT INTO public.lint_policy VALUES ('dev', 'warning'), ('staging', 'off'), ('prod', 'error');
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.lint_calls VALUES (engine, environment);
  IF statement ~ 'crash' THEN
    RAISE EXCEPTION 'the linter crashed';
  END IF;
  RETURN QUERY
    SELECT 1, 'statement.where.require-update-delete', p.level, 'UPDATE without WHERE changes every row', NULL::text
      FROM public.lint_policy p
     WHERE p.environment = _review.environment AND p.level <> 'off'
       AND statement ~* 'update' AND statement !~* 'where'
    UNION ALL
    SELECT 2, 'statement.select-star', 'warning', 'avoid SELECT *', NULL::text WHERE statement ~* 'select \*'
    UNION ALL
    SELECT 1, 'syntax-error', 'error', 'syntax error at or near "CREAT"', NULL::text WHERE statement ~ '^CREAT ';
END $$;

CREATE FUNCTION pg_temp.finish(db text, iss bigint, st text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bb.task SET status = st, finished_at = now() WHERE issue_id = iss AND database_id = bb._database_id(db);
  RETURN bb._refresh_issue(iss);
END $$;
CREATE FUNCTION pg_temp.task(iss bigint, db text) RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM bb.task WHERE issue_id = iss AND database_id = bb._database_id(db);
$$;

BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', E'UPDATE orders SET note = 1;\nSELECT * FROM orders;') AS issue \gset
RESET SESSION AUTHORIZATION;
-- one review per engine and environment, not per database
SELECT engine, environment, count(*) AS calls FROM public.lint_calls GROUP BY 1, 2 ORDER BY 1, 2;
-- prod's policy makes the UPDATE an error: its tasks fail before they run; warnings never block
SELECT stage, database, status, error, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT database, "check", status, line, rule, level, message FROM bb.plan_checks
 WHERE issue = :issue AND database IN ('pg-dev/shop', 'pg-prod/shop');
-- dry runs only for PostgreSQL targets that can still run
SELECT database, status FROM bb.plan_checks WHERE issue = :issue AND "check" = 'dry_run';
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
-- the workers: a dry run that could not run does not block; one that found an error does
SELECT bb._finish_plan_check(pg_temp.task(:issue, 'pg-dev/shop'), 'dry_run', 'failed', 'could not connect');
SELECT bb._finish_plan_check(pg_temp.task(:issue, 'pg-stg/shop'), 'dry_run', 'done',
                             'relation "orders" does not exist', 1);
SELECT database, "check", status, rule, level, message FROM bb.plan_checks
 WHERE issue = :issue AND "check" = 'dry_run';
SELECT stage, database, status, error, blocked_by FROM bb.tasks WHERE issue = :issue AND stage <> 'prod';
SELECT count(*) AS runnable FROM bb._runnable_tasks WHERE issue_id = :issue;
SELECT pg_temp.finish('pg-dev/shop', :issue, 'done'), pg_temp.finish('my-dev/shop', :issue, 'done');
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
SELECT bb._issue_state(:issue);
-- bad results from a worker
SELECT pg_temp.try(format('SELECT bb._finish_plan_check(%s, %L, %L)', pg_temp.task(:issue, 'pg-dev/shop'), 'dry_run', 'maybe'));
SELECT pg_temp.try(format('SELECT bb._finish_plan_check(%s, %L, %L)', pg_temp.task(:issue, 'my-dev/shop'), 'dry_run', 'done'));

-- a policy change and a recheck unblock the tasks that never ran
UPDATE public.lint_policy SET level = 'warning' WHERE environment = 'prod';
TRUNCATE public.lint_calls;
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.recheck(%s)', :issue));
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.recheck(:issue) AS rechecked;
RESET SESSION AUTHORIZATION;
SELECT engine, environment, count(*) AS calls FROM public.lint_calls GROUP BY 1, 2 ORDER BY 1, 2;
SELECT stage, database, status, error, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
-- stricter again: recheck fails them again
UPDATE public.lint_policy SET level = 'error' WHERE environment = 'prod';
SELECT bb.recheck(:issue) AS rechecked;
SELECT database, status, blocked_by FROM bb.tasks WHERE issue = :issue AND stage = 'prod';
-- retry checks tasks that a check failed again: still failing, nothing re-queued
SELECT bb.retry(:issue) AS requeued;
SELECT database, status, error FROM bb.tasks WHERE issue = :issue AND stage = 'staging';
UPDATE public.lint_policy SET level = 'warning' WHERE environment = 'prod';
SELECT bb.retry(:issue) AS requeued;
SELECT database, status FROM bb.tasks WHERE issue = :issue AND stage = 'prod';
ROLLBACK;

-- a review that cannot run fails closed: a failed check with an error finding blocks the task
BEGIN;
SELECT bb.apply('shop', 'SELECT crash()', targets => '{my-dev/shop}') AS issue \gset
SELECT database, "check", status, message FROM bb.plan_checks WHERE issue = :issue;
SELECT database, status, blocked_by FROM bb.tasks WHERE issue = :issue;
SELECT count(*) AS runnable FROM bb._runnable_tasks WHERE issue_id = :issue;
-- the review's syntax errors do not block: the target server judges syntax (dry run, run)
SELECT bb.apply('shop', 'CREAT TABLE x ()', targets => '{pg-prod/shop}') AS issue \gset
SELECT database, "check", status, rule, level FROM bb.plan_checks WHERE issue = :issue;
SELECT database, status, blocked_by FROM bb.tasks WHERE issue = :issue;
-- a dry run that cannot run in a transaction gives a warning; the task runs
SELECT bb.apply('shop', 'CREATE INDEX CONCURRENTLY i ON t (c)', targets => '{pg-dev/shop}') AS issue \gset
SELECT bb._finish_plan_check(pg_temp.task(:issue, 'pg-dev/shop'), 'dry_run', 'done',
                             'CREATE INDEX CONCURRENTLY cannot run inside a transaction; not dry-run', NULL,
                             'warning', 'dry-run.skipped');
SELECT database, "check", status, rule, level FROM bb.plan_checks WHERE issue = :issue;
SELECT count(*) AS runnable FROM bb._runnable_tasks WHERE issue_id = :issue;
-- the workers' queue of dry runs: checks of tasks that can still run, of open issues, in issue
-- order per database (the issues above go first: cancel them), never in a protected stage
SELECT bb.cancel(id) FROM bb.issue WHERE status IN ('open', 'failed');
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, pg-prod/shop}') AS issue \gset
SELECT bb._instance_id('pg-dev') = d.instance_id AS on_dev, q.statement_hash = i.statement_hash AS same_statement
  FROM bb._due_plan_checks q JOIN bb.database d ON d.id = q.database_id JOIN bb.issue i ON i.id = q.issue_id
 WHERE q.issue_id = :issue ORDER BY 1;
SELECT bb.cancel(:issue);
SELECT count(*) AS due FROM bb._due_plan_checks WHERE issue_id = :issue;
ROLLBACK;

DROP FUNCTION bb._review(text, text, text);
DROP TABLE public.lint_calls, public.lint_policy;

\i sql/rollout_teardown.inc
