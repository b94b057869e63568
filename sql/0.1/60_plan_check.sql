-- bytebase 0.1 — plan checks: SQL review and dry runs that gate the tasks of an issue
--
-- Two kinds of check per task, one bb.plan_check row each, findings in bb.plan_check_finding:
--   review   run synchronously by bb.apply / bb.recheck / bb.retry through bb.lint(statement,
--            engine, environment), once per (engine, environment) pair; skipped while bb.lint
--            does not exist.  A lint that raises gives a 'failed' check (never blocks).
--   dry_run  PostgreSQL targets only, created 'pending' by the same functions (unless the
--            setting bytebase.dry_run is off) and run by the workers once the task's stage is
--            the issue's current stage (bb._due_plan_checks).
--
-- Blocking: a task with an error-level finding (but for the review's 'syntax-error', which the
-- target server judges in the dry run or the run itself) does not run: the check marks it 'failed' with
-- error 'review: ...' / 'dry run: ...' (so bb.wait settles and later stages never start).
-- bb.recheck(issue) (after a policy change) or bb.retry(issue) checks it again; bb.cancel
-- drops it.  Warnings never block.  A task is not runnable while one of its checks is
-- 'pending' or 'running' (see bb._runnable_tasks).
--
-- Contract for the workers (dry runs):
--   1. Due checks: SELECT task_id FROM bb._due_plan_checks (columns task_id, issue_id,
--      database_id, statement_hash).  Claim one with
--        UPDATE bb.plan_check SET status = 'running', started_at = now()
--         WHERE (task_id, kind) = ($1, 'dry_run') AND status = 'pending'
--      after SELECT ... FROM bb.plan_check WHERE kind = 'dry_run' AND status = 'pending'
--           AND task_id IN (SELECT task_id FROM bb._due_plan_checks) FOR NO KEY UPDATE SKIP LOCKED;
--      commit.
--   2. On the target: BEGIN; <statement>; ROLLBACK (statement_timeout applies).
--   3. In a new transaction call
--        bb._finish_plan_check(task, 'dry_run', 'done')                     -- ran clean
--        bb._finish_plan_check(task, 'dry_run', 'done', remote_error, line) -- the statement failed:
--                                    error finding, the task becomes 'failed' (remote error kept)
--        bb._finish_plan_check(task, 'dry_run', 'done', msg, NULL, 'warning', 'dry-run.skipped')
--                                 -- cannot run in a transaction (e.g. CREATE INDEX CONCURRENTLY)
--        bb._finish_plan_check(task, 'dry_run', 'failed', reason)           -- could not check
--                                    (unreachable...): does not block, the task itself will tell
--      It wakes the launcher (the task may have become runnable).
--   4. On launcher start, checks left 'running' by a dead worker go back to 'pending'.

CREATE TABLE bb.plan_check (
  task_id     bigint NOT NULL REFERENCES bb.task ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('review', 'dry_run')),
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  started_at  timestamptz,
  finished_at timestamptz,
  error       text,                 -- why the check itself could not run (status failed)
  PRIMARY KEY (task_id, kind)
);
COMMENT ON TABLE bb.plan_check IS
  'Checks of a task before it runs: SQL review (in bb.apply) and dry run on PostgreSQL targets (by the workers).';
CREATE INDEX plan_check_open ON bb.plan_check (task_id) WHERE status IN ('pending', 'running');

CREATE TABLE bb.plan_check_finding (
  id       bigserial PRIMARY KEY,
  task_id  bigint NOT NULL,
  kind     text NOT NULL,
  line     int,
  rule     text NOT NULL,
  level    text NOT NULL CHECK (level IN ('error', 'warning', 'info')),
  message  text NOT NULL,
  -- errors block, except the review's syntax errors: the target server judges syntax (its
  -- version may accept what the control server's parser does not); its error fails the task
  blocking boolean GENERATED ALWAYS AS (level = 'error' AND rule <> 'syntax-error') STORED,
  FOREIGN KEY (task_id, kind) REFERENCES bb.plan_check ON DELETE CASCADE
);
COMMENT ON TABLE bb.plan_check_finding IS
  'What a plan check found for a task; an error-level finding blocks the task, warnings never do.';
CREATE INDEX plan_check_finding_task ON bb.plan_check_finding (task_id) WHERE blocking;

SELECT pg_catalog.pg_extension_config_dump('bb.plan_check', '');
SELECT pg_catalog.pg_extension_config_dump('bb.plan_check_finding', '');
SELECT pg_catalog.pg_extension_config_dump('bb.plan_check_finding_id_seq', '');
GRANT SELECT ON bb.plan_check, bb.plan_check_finding TO bytebase_admin;

-- Whether apply/recheck create dry runs: setting bytebase.dry_run (default on; the benchmark of
-- many tenant databases turns it off to measure the rollout alone).
CREATE FUNCTION bb._dry_run_enabled() RETURNS boolean
LANGUAGE sql STABLE SET search_path = bb, pg_catalog, pg_temp AS $$
  SELECT coalesce(lower(current_setting('bytebase.dry_run', true)), 'on') NOT IN ('off', 'false', '0', 'no')
$$;
COMMENT ON FUNCTION bb._dry_run_enabled() IS 'False when the setting bytebase.dry_run is off.';

-- Marks tasks with error findings failed, with a short summary as their error.
CREATE FUNCTION bb._fail_blocked(tasks bigint[]) RETURNS int
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE n int;
BEGIN
  UPDATE bb.task t
     SET status = 'failed', finished_at = now(),
         error = f.summary
    FROM (SELECT x.task_id,
                 (array_agg(replace(x.kind, '_', ' ') || ': ' || coalesce('line ' || x.line || ' ', '')
                            || x.rule || ': ' || x.message
                            ORDER BY x.kind DESC, x.line NULLS FIRST, x.id))[1]
                 || CASE WHEN count(*) > 1 THEN format(' (and %s more)', count(*) - 1) ELSE '' END AS summary
            FROM bb.plan_check_finding x
           WHERE x.task_id = ANY (tasks) AND x.blocking
           GROUP BY x.task_id) f
   WHERE t.id = f.task_id AND t.status IN ('pending', 'pending_approval');
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION bb._fail_blocked(bigint[]) IS
  'Fails the not-yet-started tasks that have an error finding; their error names the first finding.';

-- Runs the plan checks of some tasks of an issue again from scratch: review now (one bb.lint
-- call per engine and environment), dry runs queued for the workers.
CREATE FUNCTION bb._run_checks(issue bigint, tasks bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  body text;
  pair record;
  found jsonb;
  why text;
  t0 timestamptz;
BEGIN
  IF tasks IS NULL OR cardinality(tasks) = 0 THEN RETURN; END IF;
  DELETE FROM bb.plan_check c WHERE c.task_id = ANY (tasks);
  SELECT s.body INTO body FROM bb.issue i JOIN bb.statement s ON s.hash = i.statement_hash
   WHERE i.id = _run_checks.issue;

  IF to_regprocedure('bb.lint(text,text,text)') IS NOT NULL THEN
    FOR pair IN
      SELECT i.engine, e.name AS environment, array_agg(t.id) AS ids
        FROM bb.task t
        JOIN bb.database d ON d.id = t.database_id
        JOIN bb.instance i ON i.id = d.instance_id
        JOIN bb.stage s ON s.id = t.stage_id
        JOIN bb.environment e ON e.id = s.environment_id
       WHERE t.id = ANY (tasks)
       GROUP BY i.engine, e.name
    LOOP
      t0 := clock_timestamp();
      why := NULL;
      BEGIN
        EXECUTE 'SELECT coalesce(jsonb_agg(to_jsonb(f)), ''[]'') FROM bb.lint($1, $2, $3) f'
          INTO found USING body, pair.engine, pair.environment;
      EXCEPTION
        WHEN query_canceled OR admin_shutdown THEN RAISE;
        WHEN OTHERS THEN why := SQLERRM; found := '[]';
      END;
      INSERT INTO bb.plan_check (task_id, kind, status, started_at, finished_at, error)
      SELECT u, 'review', CASE WHEN why IS NULL THEN 'done' ELSE 'failed' END, t0, clock_timestamp(), why
        FROM unnest(pair.ids) u;
      INSERT INTO bb.plan_check_finding (task_id, kind, line, rule, level, message)
      SELECT u, 'review', f.line, f.rule, f.level, f.message
        FROM unnest(pair.ids) u,
             jsonb_to_recordset(found) AS f(line int, rule text, level text, message text)
       WHERE f.level IN ('error', 'warning', 'info')
       ORDER BY u, f.line;
    END LOOP;
  END IF;

  PERFORM bb._fail_blocked(tasks);

  IF bb._dry_run_enabled() THEN
    INSERT INTO bb.plan_check (task_id, kind, status)
    SELECT t.id, 'dry_run', 'pending'
      FROM bb.task t
      JOIN bb.database d ON d.id = t.database_id
      JOIN bb.instance i ON i.id = d.instance_id
     WHERE t.id = ANY (tasks) AND i.engine = 'postgres' AND t.status IN ('pending', 'pending_approval');
  END IF;
END $$;
COMMENT ON FUNCTION bb._run_checks(bigint, bigint[]) IS
  'Replaces the plan checks of the given tasks: runs the review now and queues dry runs on PostgreSQL targets.';

-- The workers report a finished check here (contract at the top of this file).
CREATE FUNCTION bb._finish_plan_check(task bigint, kind text, status text, message text DEFAULT NULL,
                                      line int DEFAULT NULL, level text DEFAULT 'error',
                                      rule text DEFAULT 'dry-run.error') RETURNS void
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE iss bigint;
BEGIN
  IF status NOT IN ('done', 'failed') OR level NOT IN ('error', 'warning', 'info') THEN
    RAISE EXCEPTION 'invalid plan check result: status %, level %', status, level
      USING ERRCODE = 'invalid_parameter_value', HINT = 'status is done or failed; level error, warning or info.';
  END IF;
  SELECT t.issue_id INTO iss FROM bb.task t WHERE t.id = _finish_plan_check.task FOR NO KEY UPDATE;
  UPDATE bb.plan_check c
     SET status = _finish_plan_check.status, finished_at = now(),
         started_at = coalesce(c.started_at, now()),
         error = CASE WHEN _finish_plan_check.status = 'failed' THEN message END
   WHERE c.task_id = _finish_plan_check.task AND c.kind = _finish_plan_check.kind;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % has no % check', task, kind USING ERRCODE = 'undefined_object';
  END IF;
  IF _finish_plan_check.status = 'done' AND message IS NOT NULL THEN
    INSERT INTO bb.plan_check_finding (task_id, kind, line, rule, level, message)
    VALUES (task, kind, line, rule, level, message);
    IF level = 'error' AND bb._fail_blocked(ARRAY[task]) > 0 THEN
      PERFORM bb._refresh_issue(iss);
    END IF;
  END IF;
  PERFORM bb._wake();
END $$;
COMMENT ON FUNCTION bb._finish_plan_check(bigint, text, text, text, int, text, text) IS
  'Records the result of a plan check run by a worker; an error finding fails the task (it never runs).';

-- Dry runs are due when their task's stage becomes the current one (before its approval, so
-- that the approver sees them): a failure in dev never costs prod a dry run (nor its locks).
CREATE VIEW bb._due_plan_checks AS
  SELECT c.task_id, t.issue_id, t.database_id, i.statement_hash
    FROM bb.issue i
    CROSS JOIN LATERAL (
      SELECT s.id FROM bb.stage s
       WHERE s.issue_id = i.id
         AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
       ORDER BY s.position LIMIT 1) cur
    JOIN bb.task t ON t.stage_id = cur.id AND t.status IN ('pending', 'pending_approval')
    JOIN bb.plan_check c ON c.task_id = t.id AND c.kind = 'dry_run' AND c.status = 'pending'
   WHERE i.status = 'open';
COMMENT ON VIEW bb._due_plan_checks IS
  'Dry runs the workers should run now: pending checks of the not-yet-started tasks of the current stage of open issues.';

-- After a review policy change: the tasks that have not run are judged again.
CREATE FUNCTION bb.recheck(issue bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE r bb.issue; ids bigint[];
BEGIN
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
                       OR (t.status = 'failed' AND EXISTS (SELECT 1 FROM bb.plan_check_finding f
                                                            WHERE f.task_id = t.id AND f.blocking)))
                ORDER BY t.id FOR NO KEY UPDATE);
  IF cardinality(ids) = 0 THEN
    RAISE EXCEPTION 'issue % has no task left to check', r.id USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only tasks that have not run yet are checked.';
  END IF;
  UPDATE bb.task t
     SET status = CASE WHEN s.needs_approval AND s.approved_at IS NULL THEN 'pending_approval' ELSE 'pending' END,
         error = NULL, finished_at = NULL
    FROM bb.stage s
   WHERE s.id = t.stage_id AND t.id = ANY (ids) AND t.status = 'failed';
  PERFORM bb._run_checks(r.id, ids);
  PERFORM bb._refresh_issue(r.id);
  PERFORM bb._wake();
  RETURN cardinality(ids);
END $$;
COMMENT ON FUNCTION bb.recheck(bigint) IS
  'Runs the plan checks of the tasks that have not run yet again (e.g. after a review policy change); tasks that pass are unblocked. Returns how many were checked.';

REVOKE ALL ON FUNCTION bb._run_checks(bigint, bigint[]), bb._fail_blocked(bigint[]),
  bb._finish_plan_check(bigint, text, text, text, int, text, text) FROM PUBLIC;
