-- bytebase 0.4 — the workers' claim, index-driven.  0.2's bb._task_claim picked the lowest
-- runnable task from the view bb._runnable_tasks; with 10,000 tasks in flight its plan, made from
-- statistics gone stale mid-rollout, took seconds per claim.  The claim now walks the open issues
-- in id order, each through one small index probe a step (bb._issue_front, bb._task_may_start,
-- index task_pending), under the same conditions as bb._runnable_tasks: the current stage only,
-- approved or needing no approval, its active wave below its parallel cap, the issue not stopped
-- by its on_error policy, no open plan check, no earlier unfinished issue on the database.  The
-- launcher sizes the executor pool with the same walk (bb._due_work).  Runs after the 0.3
-- install script and as the 0.3 -> 0.4 update.

-- the next task a worker claims in a stage's active wave: lowest id first, at 10,000 tasks too
CREATE INDEX task_pending ON bb.task (stage_id, wave, id) WHERE status = 'pending';

-- Where an open issue may start tasks now: its current stage (the first by position with a task
-- not done or skipped) when approved or needing no approval, its active wave (the lowest with
-- work left) below its parallel cap, the issue not stopped by a wave's on_error policy; no row
-- otherwise.  bb._runnable_tasks walked for one issue, one small index probe a step
-- (stage_issue_id_position_key, task_unfinished, task_wave_open, stage_wave_pkey): the workers'
-- queries stay cheap at 10,000 tasks whatever the statistics of bb.task say mid-rollout (a plan
-- of the whole view made from stale statistics took seconds a claim).
CREATE OR REPLACE FUNCTION bb._issue_front(issue bigint, OUT stage_id bigint, OUT wave int, OUT parallel int)
RETURNS SETOF record
LANGUAGE plpgsql STABLE ROWS 1 SET search_path = pg_catalog, pg_temp AS $$
DECLARE cur record;
BEGIN
  PERFORM 1 FROM bb.issue i WHERE i.id = _issue_front.issue AND i.status = 'open';
  IF NOT FOUND THEN RETURN; END IF;
  SELECT s.id, s.needs_approval, s.approved_at INTO cur FROM bb.stage s
   WHERE s.issue_id = _issue_front.issue
     AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
   ORDER BY s.position LIMIT 1;
  IF NOT FOUND OR (cur.needs_approval AND cur.approved_at IS NULL) THEN RETURN; END IF;
  SELECT min(u.wave) INTO wave FROM bb.task u
   WHERE u.stage_id = cur.id AND u.status IN ('pending_approval', 'pending', 'running');
  SELECT sw.parallel INTO parallel FROM bb.stage_wave sw WHERE sw.stage_id = cur.id AND sw.wave = _issue_front.wave;
  IF NOT FOUND THEN RETURN; END IF;
  IF parallel IS NOT NULL
     AND (SELECT count(*) FROM bb.task r WHERE r.stage_id = cur.id AND r.wave = _issue_front.wave
                                          AND r.status = 'running') >= parallel THEN
    RETURN;
  END IF;
  IF bb._issue_stop_reason(issue) IS NOT NULL THEN RETURN; END IF;
  stage_id := cur.id;
  RETURN NEXT;
END $$;
COMMENT ON FUNCTION bb._issue_front(bigint) IS
  'Workers: the stage and wave in which an open issue may start a task now (bb._runnable_tasks for one issue, index-driven), or no row.';

-- A pending task may start when no plan check of it is open and no earlier issue is unfinished
-- on its database (plan_check_open, task_database_queue).  A function: the workers' queries call
-- it per candidate row in index order, so their plans cannot turn it into a scan of a whole table.
CREATE OR REPLACE FUNCTION bb._task_may_start(task bigint, database_id bigint, issue_id bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM bb.plan_check c WHERE c.task_id = task AND c.status IN ('pending', 'running'))
     AND bb._earlier_issue_on(database_id, issue_id) IS NULL
$$;
COMMENT ON FUNCTION bb._task_may_start(bigint, bigint, bigint) IS
  'Workers: true when no plan check of the pending task is open and no earlier issue is unfinished on its database.';

-- How much work could start now, at most lim: due dry runs and runnable tasks (the launcher
-- sizes the executor pool with it; the same walk as the claim, without locks).
CREATE OR REPLACE FUNCTION bb._due_work(lim int) RETURNS int
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE n int := 0; iss bigint; f record;
BEGIN
  IF EXISTS (SELECT 1 FROM bb.plan_check c WHERE c.kind = 'dry_run' AND c.status = 'pending') THEN
    n := (SELECT count(*) FROM (SELECT 1 FROM bb._due_plan_checks LIMIT lim) d);
  END IF;
  FOR iss IN SELECT i.id FROM bb.issue i WHERE i.status = 'open' ORDER BY i.id LOOP
    EXIT WHEN n >= lim;
    FOR f IN SELECT * FROM bb._issue_front(iss) LOOP
      n := n + (SELECT count(*) FROM (SELECT 1 FROM bb.task t
                                       WHERE t.stage_id = f.stage_id AND t.wave = f.wave AND t.status = 'pending'
                                         AND bb._task_may_start(t.id, t.database_id, t.issue_id)
                                       LIMIT lim - n) x);
    END LOOP;
  END LOOP;
  RETURN least(n, lim);
END $$;
COMMENT ON FUNCTION bb._due_work(int) IS
  'Launcher: how many dry runs and tasks could start now, at most lim (sizes the executor pool).';

-- Claims one piece of work: a due dry run first (dry runs gate their tasks), else a runnable
-- task, whose attempt is opened at once so the claim is visible (and recoverable) while the
-- change runs.  No row when nothing is due.  Tasks are taken issue by issue (lowest id first),
-- each issue's through bb._issue_front and bb._task_may_start: the same conditions as
-- bb._runnable_tasks, index-driven.
CREATE OR REPLACE FUNCTION bb._task_claim(executor_pid int,
                               OUT task_id bigint, OUT run_id bigint, OUT attempt int,
                               OUT dry_run boolean, OUT first_statement int)
RETURNS SETOF record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE chosen bigint; chosen_stage bigint; chosen_wave int; f record; iss bigint; cap int;
BEGIN
  IF EXISTS (SELECT 1 FROM bb.plan_check c WHERE c.kind = 'dry_run' AND c.status = 'pending') THEN
    RETURN QUERY
    WITH pick AS (SELECT c.task_id FROM bb.plan_check c
                   WHERE c.kind = 'dry_run' AND c.status = 'pending'
                     AND c.task_id IN (SELECT q.task_id FROM bb._due_plan_checks q)
                   ORDER BY c.task_id LIMIT 1 FOR NO KEY UPDATE OF c SKIP LOCKED)
    UPDATE bb.plan_check p SET status = 'running', started_at = clock_timestamp() FROM pick
     WHERE p.task_id = pick.task_id AND p.kind = 'dry_run'
    RETURNING p.task_id, NULL::bigint, 0, true, 0;
    IF FOUND THEN RETURN; END IF;
  END IF;

  FOR iss IN SELECT i.id FROM bb.issue i WHERE i.status = 'open' ORDER BY i.id LOOP
    FOR f IN SELECT * FROM bb._issue_front(iss) LOOP
      -- the lowest pending task of the wave that may start (task_pending, in id order); a row
      -- locked after another executor's claim committed is re-checked in its new version
      SELECT t.id, t.stage_id, t.wave INTO chosen, chosen_stage, chosen_wave FROM bb.task t
       WHERE t.stage_id = f.stage_id AND t.wave = f.wave AND t.status = 'pending'
         AND bb._task_may_start(t.id, t.database_id, t.issue_id)
       ORDER BY t.id LIMIT 1 FOR NO KEY UPDATE OF t SKIP LOCKED;
    END LOOP;
    EXIT WHEN chosen IS NOT NULL;
  END LOOP;
  IF chosen IS NULL THEN RETURN; END IF;
  -- a wave's parallel cap holds against concurrent claims: its row is locked (claimers of the
  -- wave queue here) and its running tasks counted again with a fresh snapshot
  SELECT sw.parallel INTO cap FROM bb.stage_wave sw WHERE sw.stage_id = chosen_stage AND sw.wave = chosen_wave;
  IF cap IS NOT NULL THEN
    PERFORM 1 FROM bb.stage_wave sw WHERE sw.stage_id = chosen_stage AND sw.wave = chosen_wave FOR NO KEY UPDATE;
    IF (SELECT count(*) FROM bb.task r WHERE r.stage_id = chosen_stage AND r.wave = chosen_wave
                                         AND r.status = 'running') >= cap THEN
      RETURN;
    END IF;
  END IF;
  RETURN QUERY
  WITH u AS (UPDATE bb.task t SET status = 'running', attempts = t.attempts + 1, started_at = clock_timestamp(),
                                  finished_at = NULL, error = NULL
              WHERE t.id = chosen AND t.status = 'pending'
             RETURNING t.id, t.attempts, t.resume_from),
  r AS (INSERT INTO bb.task_run (task_id, attempt, status, executor_pid, started_at, first_statement, statements_done)
        SELECT u.id, u.attempts, 'running', executor_pid, clock_timestamp(), u.resume_from, u.resume_from FROM u
        RETURNING id, task_run.task_id)
  SELECT u.id, r.id, u.attempts, false, u.resume_from FROM u JOIN r ON r.task_id = u.id;
END $$;
COMMENT ON FUNCTION bb._task_claim(int) IS
  'Workers: claims a due dry run or a runnable task (status running, attempt + 1, a task_run row); no row when nothing is due.';

REVOKE ALL ON FUNCTION bb._issue_front(bigint), bb._task_may_start(bigint, bigint, bigint), bb._due_work(int),
  bb._task_claim(int) FROM PUBLIC;
