-- bytebase 0.2 — plan checks: SQL review and dry runs that gate the tasks of an issue
--
-- review   run by bb.apply / bb.recheck / bb.retry through bb._review(statement, engine,
--          environment), once per (engine, environment) pair: one bb.review_result with its
--          findings, referenced by the plan_check rows of every task it covers (10,000 tenant
--          tasks share one result).  A review that cannot run fails closed: a 'review.failed'
--          error finding blocks its tasks until bb.recheck.
-- dry_run  targets with transactional DDL (PostgreSQL) in UNPROTECTED environments whose review option dry_run is on
--          (off by default): the workers run the change in a rolled-back transaction once the
--          task's stage is the issue's current stage and no earlier issue is unfinished on the
--          database.  Nothing of an unapproved change ever executes on a protected target.
--
-- Blocking: an error-level finding (but for the review's 'syntax-error', which the target
-- judges, and for suppressions honoured by the environment) fails the task with error
-- 'review: ...' / 'dry run: ...' before it runs.  Warnings never block.
--
-- Workers (dry runs): claim through bb._task_claim, run BEGIN; statements; ROLLBACK, report with
--   bb._finish_plan_check(task, 'dry_run', 'done')                      ran clean
--   bb._finish_plan_check(task, 'dry_run', 'done', remote_error, line)  the change failed: blocks
--   bb._finish_plan_check(task, 'dry_run', 'done', msg, NULL, 'warning', 'dry-run.skipped')
--   bb._finish_plan_check(task, 'dry_run', 'failed', reason)            could not check: no block
-- Checks left 'running' by a dead worker go back to 'pending' at the launcher's next pass.

-- The findings of a task: its review result's (shared) and its own dry run's.
CREATE VIEW bb._task_findings WITH (security_invoker = true) AS
  SELECT c.task_id, f.id, f.kind, f.line, f.rule, f.level, f.message, f.suppression, f.blocking
    FROM bb.plan_check c JOIN bb.plan_check_finding f ON f.review_id = c.review_id
  UNION ALL
  SELECT f.task_id, f.id, f.kind, f.line, f.rule, f.level, f.message, f.suppression, f.blocking
    FROM bb.plan_check_finding f WHERE f.task_id IS NOT NULL;
COMMENT ON VIEW bb._task_findings IS 'Every finding that concerns a task: of its shared review result and of its dry run.';

-- Fails the not-yet-started tasks that have a blocking finding; their error names the first one.
CREATE FUNCTION bb._fail_blocked(tasks bigint[]) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE g record; n int := 0;
BEGIN
  FOR g IN
    SELECT s.summary, array_agg(s.task_id ORDER BY s.task_id) AS ids
      FROM (SELECT x.task_id,
                   (array_agg(replace(x.kind, '_', ' ') || ': ' || coalesce('line ' || x.line || ' ', '')
                              || x.rule || ': ' || bb._clip(x.message, 500)
                              ORDER BY x.kind DESC, x.line NULLS FIRST, x.id))[1]
                   || CASE WHEN count(*) > 1 THEN format(' (and %s more)', count(*) - 1) ELSE '' END AS summary
              FROM bb._task_findings x
             WHERE x.task_id = ANY (tasks) AND x.blocking
             GROUP BY x.task_id) s
     GROUP BY s.summary
  LOOP
    n := n + cardinality(bb._task_transition(
           ARRAY(SELECT t.id FROM bb.task t WHERE t.id = ANY (g.ids) AND t.status IN ('pending', 'pending_approval')),
           'failed', g.summary));
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION bb._fail_blocked(bigint[]) IS
  'Fails the not-yet-started tasks that have a blocking finding; their error names the first finding.';

-- Runs the plan checks of some tasks of an issue again from scratch: review now (one review
-- per engine and environment), dry runs queued where the environment allows them.
CREATE FUNCTION bb._run_checks(issue bigint, tasks bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  body text;
  pair record;
  found jsonb;
  why text;
  t0 timestamptz;
  rid bigint;
BEGIN
  IF tasks IS NULL OR cardinality(tasks) = 0 THEN RETURN; END IF;
  DELETE FROM bb.plan_check c WHERE c.task_id = ANY (tasks);
  DELETE FROM bb.plan_check_finding f WHERE f.task_id = ANY (tasks);
  SELECT s.body INTO body FROM bb.issue i JOIN bb.statement s ON s.hash = i.statement_hash
   WHERE i.id = _run_checks.issue;

  FOR pair IN
    SELECT i.engine, e.id AS environment_id, e.name AS environment, array_agg(t.id) AS ids
      FROM bb.task t
      JOIN bb.database d ON d.id = t.database_id
      JOIN bb.instance i ON i.id = d.instance_id
      JOIN bb.stage s ON s.id = t.stage_id
      JOIN bb.environment e ON e.id = s.environment_id
     WHERE t.id = ANY (tasks)
     GROUP BY i.engine, e.id, e.name
  LOOP
    t0 := clock_timestamp();
    why := NULL;
    BEGIN
      SELECT coalesce(jsonb_agg(to_jsonb(f)), '[]') INTO found
        FROM bb._review(body, pair.engine, pair.environment) f;
    EXCEPTION
      WHEN query_canceled OR admin_shutdown THEN RAISE;
      WHEN OTHERS THEN why := SQLERRM; found := '[]';
    END;
    INSERT INTO bb.review_result (issue_id, engine, environment_id, status, error, started_at, finished_at)
    VALUES (issue, pair.engine, pair.environment_id, CASE WHEN why IS NULL THEN 'done' ELSE 'failed' END,
            why, t0, clock_timestamp())
    RETURNING id INTO rid;
    INSERT INTO bb.plan_check (task_id, kind, status, started_at, finished_at, error, review_id)
    SELECT u, 'review', CASE WHEN why IS NULL THEN 'done' ELSE 'failed' END, t0, clock_timestamp(), why, rid
      FROM unnest(pair.ids) u;
    INSERT INTO bb.plan_check_finding (review_id, kind, line, rule, level, message, suppression)
    SELECT rid, 'review', f.line, f.rule, f.level, f.message, f.suppression
      FROM jsonb_to_recordset(found) AS f(line int, rule text, level text, message text, suppression text)
     WHERE f.level IN ('error', 'warning', 'info')
     ORDER BY f.line;
    IF why IS NOT NULL THEN
      -- fail closed: a review that could not run blocks, it never passes silently
      INSERT INTO bb.plan_check_finding (review_id, kind, rule, level, message)
      VALUES (rid, 'review', 'review.failed', 'error', 'the review could not run: ' || bb._clip(why, 500));
    END IF;
  END LOOP;

  PERFORM bb._fail_blocked(tasks);

  INSERT INTO bb.plan_check (task_id, kind, status)
  SELECT t.id, 'dry_run', 'pending'
    FROM bb.task t
    JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance i ON i.id = d.instance_id
    JOIN bb.engine en ON en.name = i.engine
    JOIN bb.stage s ON s.id = t.stage_id
    JOIN bb.environment e ON e.id = s.environment_id
   WHERE t.id = ANY (tasks) AND en.transactional_ddl AND t.status IN ('pending', 'pending_approval')
     AND NOT s.needs_approval AND NOT e.protected AND bb._review_option(e.id, 'dry_run');
END $$;
COMMENT ON FUNCTION bb._run_checks(bigint, bigint[]) IS
  'Replaces the plan checks of the given tasks: one review per engine and environment now, dry runs queued where the environment allows them.';

-- The workers report a finished dry run here (contract at the top of this file).
CREATE FUNCTION bb._finish_plan_check(task bigint, kind text, status text, message text DEFAULT NULL,
                                      line int DEFAULT NULL, level text DEFAULT 'error',
                                      rule text DEFAULT 'dry-run.error') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF status NOT IN ('done', 'failed') OR level NOT IN ('error', 'warning', 'info') OR kind <> 'dry_run' THEN
    RAISE EXCEPTION 'invalid plan check result: kind %, status %, level %', kind, status, level
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'kind is dry_run; status done or failed; level error, warning or info.';
  END IF;
  PERFORM 1 FROM bb.task t WHERE t.id = _finish_plan_check.task FOR NO KEY UPDATE;
  UPDATE bb.plan_check c
     SET status = _finish_plan_check.status, finished_at = now(),
         started_at = coalesce(c.started_at, now()),
         error = CASE WHEN _finish_plan_check.status = 'failed' THEN bb._clip(message, 2000) END
   WHERE c.task_id = _finish_plan_check.task AND c.kind = _finish_plan_check.kind;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % has no % check', task, kind USING ERRCODE = 'undefined_object';
  END IF;
  IF _finish_plan_check.status = 'done' AND message IS NOT NULL THEN
    INSERT INTO bb.plan_check_finding (task_id, kind, line, rule, level, message)
    VALUES (task, kind, line, rule, level, bb._clip(message, 2000));
    IF level = 'error' THEN
      PERFORM bb._fail_blocked(ARRAY[task]);
    END IF;
  END IF;
  PERFORM bb._wake();
END $$;
COMMENT ON FUNCTION bb._finish_plan_check(bigint, text, text, text, int, text, text) IS
  'Records the result of a dry run run by a worker; an error finding fails the task (it never runs).';

-- Dry runs left running by an executor that is gone go back to pending (they changed nothing).
CREATE FUNCTION bb._requeue_dry_run(task bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  UPDATE bb.plan_check c SET status = 'pending', started_at = NULL
   WHERE c.task_id = task AND c.kind = 'dry_run' AND c.status = 'running'
$$;
COMMENT ON FUNCTION bb._requeue_dry_run(bigint) IS 'Launcher recovery: a dry run whose executor died runs again.';

-- After a review policy change: the tasks that have not run are judged again.
CREATE FUNCTION bb.recheck(issue bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE r bb.issue; ids bigint[];
BEGIN
  PERFORM bb._audit('recheck', jsonb_build_object('issue', issue));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  r := bb._issue(issue);
  PERFORM bb._require_owner(r, 'recheck it');
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only open or failed issues are checked again.';
  END IF;
  -- not yet started tasks, and tasks failed by a check (they never ran)
  ids := ARRAY(SELECT t.id FROM bb.task t
                WHERE t.issue_id = r.id
                  AND (t.status IN ('pending', 'pending_approval')
                       OR (t.status = 'failed' AND EXISTS (SELECT 1 FROM bb._task_findings f
                                                            WHERE f.task_id = t.id AND f.blocking)))
                ORDER BY t.id FOR NO KEY UPDATE);
  IF cardinality(ids) = 0 THEN
    RAISE EXCEPTION 'issue % has no task left to check', r.id USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only tasks that have not run yet are checked.';
  END IF;
  PERFORM bb._task_transition(ARRAY(SELECT t.id FROM bb.task t WHERE t.id = ANY (ids) AND t.status = 'failed'),
                              'queued', refresh => false);
  PERFORM bb._run_checks(r.id, ids);
  PERFORM bb._refresh_issue(r.id);
  PERFORM bb._wake();
  RETURN cardinality(ids);
END $$;
COMMENT ON FUNCTION bb.recheck(bigint) IS
  'Runs the plan checks of the tasks that have not run yet again (e.g. after a review policy change); tasks that pass are unblocked. Returns how many were checked.';

REVOKE ALL ON FUNCTION bb._run_checks(bigint, bigint[]), bb._fail_blocked(bigint[]),
  bb._finish_plan_check(bigint, text, text, text, int, text, text), bb._requeue_dry_run(bigint) FROM PUBLIC;
