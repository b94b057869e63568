-- bytebase 0.2 — rollout state: the one place where task and issue states change.
--
-- Task states: pending_approval -> pending -> running -> done | failed | canceled; skipped and
-- canceled from any state that has not run; failed -> pending/pending_approval (retry).
-- Every status change of bb.task goes through bb._task_transition (API functions), or
-- bb._task_claim / bb._task_finish / bb._task_recover (the workers, src/worker/), which use it.
-- The issue's status is derived from its tasks (bb._issue_state) and stored by
-- bb._refresh_issue after each change.  Lock order everywhere: task rows, then the issue row.
--
-- Order on a database: its tasks run one at a time in issue order — a task waits while a task
-- of an earlier open or failed issue on the same database is not done, skipped or canceled.

---------------------------------------------------------------------------
-- Issue state
---------------------------------------------------------------------------

-- Derived state of an issue from its tasks: the single definition used by bb.wait,
-- bb._refresh_issue and the views.  The current stage is the first (by position) that
-- still has a task that is not done or skipped; later stages never start before it is done.
CREATE FUNCTION bb._issue_state(issue bigint) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE st text; cur bigint;
BEGIN
  SELECT i.status INTO st FROM bb.issue i WHERE i.id = _issue_state.issue;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF st = 'canceled' THEN RETURN 'canceled'; END IF;
  SELECT s.id INTO cur FROM bb.stage s
   WHERE s.issue_id = _issue_state.issue
     AND EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = s.id AND t.status NOT IN ('done', 'skipped'))
   ORDER BY s.position LIMIT 1;
  IF cur IS NULL THEN RETURN 'done'; END IF;
  IF EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = cur AND t.status = 'running') THEN
    RETURN 'running';
  END IF;
  -- a wave's on_error policy stopped the issue: what still waits does not start
  IF bb._issue_stop_reason(issue) IS NOT NULL THEN
    RETURN 'failed';
  END IF;
  IF EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = cur AND t.status = 'pending') THEN
    RETURN 'running';
  END IF;
  IF EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = cur AND t.status NOT IN ('done', 'skipped')
                AND t.status = 'pending_approval') THEN
    RETURN 'waiting_approval';
  END IF;
  RETURN 'failed';   -- only failed (or canceled) tasks hold the current stage
END $$;
COMMENT ON FUNCTION bb._issue_state(bigint) IS
  'Derived issue state: done, failed (also when a wave''s on_error stopped it), canceled, waiting_approval or running (open and progressing); NULL for an unknown issue.';

-- Stores the derived status on the issue.  In the changing transaction (default) it locks the
-- issue row first, so that concurrent finishers serialize and the last one sees the others'
-- commits.  Called again after that commit with after_commit => true it only reads unless the
-- status must change: every finisher's post-commit call sees its own commit, so the last one
-- settles the issue without holding the lock across a commit.
CREATE FUNCTION bb._refresh_issue(issue bigint, after_commit boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE old text; new text;
BEGIN
  IF after_commit THEN
    SELECT i.status INTO old FROM bb.issue i WHERE i.id = _refresh_issue.issue;
    IF NOT FOUND OR old = 'canceled' THEN RETURN old; END IF;
    new := CASE bb._issue_state(issue) WHEN 'done' THEN 'done' WHEN 'failed' THEN 'failed' ELSE 'open' END;
    IF new = old THEN RETURN old; END IF;
  END IF;
  SELECT i.status INTO old FROM bb.issue i WHERE i.id = _refresh_issue.issue FOR NO KEY UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF old = 'canceled' THEN RETURN old; END IF;
  new := CASE bb._issue_state(issue) WHEN 'done' THEN 'done' WHEN 'failed' THEN 'failed' ELSE 'open' END;
  IF new <> old THEN
    UPDATE bb.issue i SET status = new, updated_at = now() WHERE i.id = _refresh_issue.issue;
  END IF;
  RETURN new;
END $$;
COMMENT ON FUNCTION bb._refresh_issue(bigint, boolean) IS
  'Sets the issue status from its tasks (done / failed / open; canceled stays). Call after each task status change, task rows locked first; after_commit => true: the lock-free check after the change committed.';

---------------------------------------------------------------------------
-- Task transitions
---------------------------------------------------------------------------

-- Moves tasks to a new state; only the tasks whose current state allows it move.
--   to_status 'queued'   failed | pending_approval | running -> pending (stage approved or
--                        needing none) or pending_approval (retry, approval, recovery)
--             'failed'   pending | pending_approval (a check blocks it) | running (the worker)
--             'skipped'  pending | pending_approval | failed (reason required)
--             'canceled' pending | pending_approval | failed | running (the issue was canceled)
--             'done'     running (the worker)
-- Returns the ids that moved; refreshes their issues and wakes the workers at commit.
CREATE FUNCTION bb._task_transition(tasks bigint[], to_status text, error text DEFAULT NULL,
                                    reason text DEFAULT NULL, refresh boolean DEFAULT true)
RETURNS bigint[]
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  from_states text[];
  moved bigint[];
  iss bigint;
BEGIN
  from_states := CASE to_status
    WHEN 'queued' THEN ARRAY['failed', 'pending_approval', 'running']
    WHEN 'failed' THEN ARRAY['pending', 'pending_approval', 'running']
    WHEN 'skipped' THEN ARRAY['pending', 'pending_approval', 'failed']
    WHEN 'canceled' THEN ARRAY['pending', 'pending_approval', 'failed', 'running']
    WHEN 'done' THEN ARRAY['running'] END;
  IF from_states IS NULL THEN
    RAISE EXCEPTION 'invalid task transition to "%"', to_status USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH m AS (
    UPDATE bb.task t
       SET status = CASE WHEN to_status <> 'queued' THEN to_status
                         WHEN s.needs_approval AND s.approved_at IS NULL THEN 'pending_approval'
                         ELSE 'pending' END,
           error = CASE WHEN to_status = 'queued' THEN _task_transition.error
                        WHEN to_status IN ('failed', 'canceled') THEN coalesce(_task_transition.error, t.error)
                        ELSE t.error END,
           skip_reason = CASE WHEN to_status = 'skipped' THEN reason ELSE t.skip_reason END,
           started_at = CASE WHEN to_status = 'queued' THEN NULL ELSE t.started_at END,
           finished_at = CASE WHEN to_status = 'queued' THEN NULL ELSE clock_timestamp() END
      FROM bb.stage s
     WHERE s.id = t.stage_id AND t.id = ANY (tasks) AND t.status = ANY (from_states)
    RETURNING t.id, t.issue_id)
  SELECT array_agg(m.id ORDER BY m.id) INTO moved FROM m;
  IF moved IS NULL THEN
    RETURN '{}';
  END IF;
  IF refresh THEN
    FOR iss IN SELECT DISTINCT t.issue_id FROM bb.task t WHERE t.id = ANY (moved) ORDER BY 1 LOOP
      PERFORM bb._refresh_issue(iss);
    END LOOP;
  END IF;
  RETURN moved;
END $$;
COMMENT ON FUNCTION bb._task_transition(bigint[], text, text, text, boolean) IS
  'The one place task statuses change: moves the tasks whose state allows it (queued, failed, skipped, canceled, done), refreshes their issues; returns the ids that moved.';

-- Pending work of an issue ends: waiting and failed tasks canceled, the issue canceled,
-- running tasks stopped at commit (their executors record them canceled).
CREATE FUNCTION bb._cancel_issue(issue bigint) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE n int; t bigint;
BEGIN
  n := cardinality(bb._task_transition(ARRAY(SELECT k.id FROM bb.task k WHERE k.issue_id = _cancel_issue.issue
                                                AND k.status IN ('pending', 'pending_approval', 'failed')
                                              ORDER BY k.id FOR NO KEY UPDATE),
                                       'canceled', refresh => false));
  UPDATE bb.issue i SET status = 'canceled', updated_at = now() WHERE i.id = _cancel_issue.issue;
  FOR t IN SELECT k.id FROM bb.task k WHERE k.issue_id = _cancel_issue.issue AND k.status = 'running' LOOP
    PERFORM bb._cancel_task(t);
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION bb._cancel_issue(bigint) IS
  'Cancels the waiting and failed tasks and the issue; asks the executors of running ones to stop at commit.';

---------------------------------------------------------------------------
-- What the workers may run now
---------------------------------------------------------------------------

-- True while an earlier open or failed issue still has unfinished work on the database.
CREATE FUNCTION bb._earlier_issue_on(database_id bigint, issue_id bigint) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT e.issue_id FROM bb.task e JOIN bb.issue ei ON ei.id = e.issue_id
   WHERE e.database_id = _earlier_issue_on.database_id AND e.issue_id < _earlier_issue_on.issue_id
     AND e.status IN ('pending_approval', 'pending', 'running', 'failed')
     AND ei.status IN ('open', 'failed')
   ORDER BY e.issue_id LIMIT 1
$$;
COMMENT ON FUNCTION bb._earlier_issue_on(bigint, bigint) IS
  'The earliest issue before this one whose task on the database is not finished (it runs first), or NULL.';

-- Tasks that may start now: pending, of an open issue, in the issue's current stage (the first
-- stage that still has a task not done or skipped), that stage approved when it needs approval,
-- in the stage's active wave (the lowest with work left) below its parallel cap, the issue not
-- stopped by a wave's on_error policy, no plan check of the task still pending or running, and
-- no earlier issue unfinished on the same database.  Index-driven: open issues (issue_open),
-- their few stages (stage_issue_id_position_key + task_unfinished), the active wave and its
-- running tasks (task_wave_open), the stage's pending tasks (task_runnable), the task's open
-- checks (plan_check_open), the database's queue (task_database_queue).
CREATE VIEW bb._runnable_tasks WITH (security_invoker = true) AS
  SELECT t.id, t.issue_id, t.stage_id, t.database_id
    FROM bb.issue i
    CROSS JOIN LATERAL (
      SELECT s.id, s.needs_approval, s.approved_at
        FROM bb.stage s
       WHERE s.issue_id = i.id
         AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
       ORDER BY s.position LIMIT 1) cur
    CROSS JOIN LATERAL (
      SELECT min(u.wave) AS wave FROM bb.task u
       WHERE u.stage_id = cur.id AND u.status IN ('pending_approval', 'pending', 'running')) aw
    JOIN bb.stage_wave sw ON sw.stage_id = cur.id AND sw.wave = aw.wave
    JOIN bb.task t ON t.stage_id = cur.id AND t.wave = aw.wave AND t.status = 'pending'
   WHERE i.status = 'open'
     AND (NOT cur.needs_approval OR cur.approved_at IS NOT NULL)
     AND (sw.parallel IS NULL
          OR (SELECT count(*) FROM bb.task r WHERE r.stage_id = cur.id AND r.wave = aw.wave AND r.status = 'running')
             < sw.parallel)
     AND bb._issue_stop_reason(i.id) IS NULL
     AND NOT EXISTS (SELECT 1 FROM bb.plan_check c
                      WHERE c.task_id = t.id AND c.status IN ('pending', 'running'))
     AND NOT EXISTS (SELECT 1 FROM bb.task e JOIN bb.issue ei ON ei.id = e.issue_id
                      WHERE e.database_id = t.database_id AND e.issue_id < t.issue_id
                        AND e.status IN ('pending_approval', 'pending', 'running', 'failed')
                        AND ei.status IN ('open', 'failed'));
COMMENT ON VIEW bb._runnable_tasks IS
  'Ids of the tasks the workers may start now (stage gating, approvals, waves and their parallel caps and on_error policies, plan checks, issue order per database).';

-- Dry runs are due when their task's stage becomes the current one and no earlier issue is
-- unfinished on the database (a dry run before that change would judge the wrong schema).
CREATE VIEW bb._due_plan_checks WITH (security_invoker = true) AS
  SELECT c.task_id, t.issue_id, t.database_id, i.statement_hash
    FROM bb.issue i
    CROSS JOIN LATERAL (
      SELECT s.id FROM bb.stage s
       WHERE s.issue_id = i.id
         AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
       ORDER BY s.position LIMIT 1) cur
    JOIN bb.task t ON t.stage_id = cur.id AND t.status IN ('pending', 'pending_approval')
    JOIN bb.plan_check c ON c.task_id = t.id AND c.kind = 'dry_run' AND c.status = 'pending'
   WHERE i.status = 'open'
     AND NOT EXISTS (SELECT 1 FROM bb.task e JOIN bb.issue ei ON ei.id = e.issue_id
                      WHERE e.database_id = t.database_id AND e.issue_id < t.issue_id
                        AND e.status IN ('pending_approval', 'pending', 'running', 'failed')
                        AND ei.status IN ('open', 'failed'));
COMMENT ON VIEW bb._due_plan_checks IS
  'Dry runs the workers should run now: pending checks of the not-yet-started tasks of the current stage of open issues, in issue order per database.';

---------------------------------------------------------------------------
-- The workers' side (src/worker/executor.c, task_recovery.c)
---------------------------------------------------------------------------

-- Claims one piece of work: a due dry run first (dry runs gate their tasks), else a runnable
-- task, whose attempt is opened at once so the claim is visible (and recoverable) while the
-- change runs.  No row when nothing is due.
CREATE FUNCTION bb._task_claim(executor_pid int,
                               OUT task_id bigint, OUT run_id bigint, OUT attempt int,
                               OUT dry_run boolean, OUT first_statement int)
RETURNS SETOF record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE chosen record; cap int;
BEGIN
  RETURN QUERY
  WITH pick AS (SELECT c.task_id FROM bb.plan_check c
                 WHERE c.kind = 'dry_run' AND c.status = 'pending'
                   AND c.task_id IN (SELECT q.task_id FROM bb._due_plan_checks q)
                 ORDER BY c.task_id LIMIT 1 FOR NO KEY UPDATE OF c SKIP LOCKED)
  UPDATE bb.plan_check p SET status = 'running', started_at = clock_timestamp() FROM pick
   WHERE p.task_id = pick.task_id AND p.kind = 'dry_run'
  RETURNING p.task_id, NULL::bigint, 0, true, 0;
  IF FOUND THEN RETURN; END IF;

  -- t.status is tested on t itself: a row locked after another executor's claim committed is
  -- re-checked in its new version (the view's own scan of bb.task is not re-checked)
  SELECT t.id, t.stage_id, t.wave INTO chosen FROM bb.task t
   WHERE t.status = 'pending' AND t.id IN (SELECT r.id FROM bb._runnable_tasks r)
   ORDER BY t.id LIMIT 1 FOR NO KEY UPDATE OF t SKIP LOCKED;
  IF NOT FOUND THEN RETURN; END IF;
  -- a wave's parallel cap holds against concurrent claims: its row is locked (claimers of the
  -- wave queue here) and its running tasks counted again with a fresh snapshot
  SELECT sw.parallel INTO cap FROM bb.stage_wave sw WHERE sw.stage_id = chosen.stage_id AND sw.wave = chosen.wave;
  IF cap IS NOT NULL THEN
    PERFORM 1 FROM bb.stage_wave sw WHERE sw.stage_id = chosen.stage_id AND sw.wave = chosen.wave FOR NO KEY UPDATE;
    IF (SELECT count(*) FROM bb.task r WHERE r.stage_id = chosen.stage_id AND r.wave = chosen.wave
                                         AND r.status = 'running') >= cap THEN
      RETURN;
    END IF;
  END IF;
  RETURN QUERY
  WITH u AS (UPDATE bb.task t SET status = 'running', attempts = t.attempts + 1, started_at = clock_timestamp(),
                                  finished_at = NULL, error = NULL
              WHERE t.id = chosen.id AND t.status = 'pending'
             RETURNING t.id, t.attempts, t.resume_from),
  r AS (INSERT INTO bb.task_run (task_id, attempt, status, executor_pid, started_at, first_statement, statements_done)
        SELECT u.id, u.attempts, 'running', executor_pid, clock_timestamp(), u.resume_from, u.resume_from FROM u
        RETURNING id, task_run.task_id)
  SELECT u.id, r.id, u.attempts, false, u.resume_from FROM u JOIN r ON r.task_id = u.id;
END $$;
COMMENT ON FUNCTION bb._task_claim(int) IS
  'Workers: claims a due dry run or a runnable task (status running, attempt + 1, a task_run row); no row when nothing is due.';

-- What an executor needs to run or dry-run a claimed task.
CREATE FUNCTION bb._task_context(task bigint,
    OUT issue_id bigint, OUT database_id bigint, OUT database text, OUT instance text,
    OUT engine text, OUT body text, OUT hash text, OUT version text, OUT control_id text,
    OUT created_by name, OUT resumable boolean, OUT transactional_ddl boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT t.issue_id, t.database_id, d.name, ins.name, ins.engine, st.body, st.hash, iss.version,
         (SELECT system_identifier::text FROM pg_control_system()) || '/' ||
         (SELECT oid FROM pg_database WHERE datname = current_database()) || '/' ||
         (SELECT oid FROM pg_extension WHERE extname = 'bytebase'),
         iss.created_by, en.resumable, en.transactional_ddl
    FROM bb.task t JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance ins ON ins.id = d.instance_id JOIN bb.engine en ON en.name = ins.engine
    JOIN bb.issue iss ON iss.id = t.issue_id
    JOIN bb.statement st ON st.hash = iss.statement_hash
   WHERE t.id = task
$$;
COMMENT ON FUNCTION bb._task_context(bigint) IS
  'Workers: target, script, version, the issue creator (whose rights the connection uses) and the control plane''s identity for the target''s history.';

-- Commits how far a statement-by-statement attempt got (absolute statement count).
CREATE FUNCTION bb._task_progress(run bigint, statements_done int) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  UPDATE bb.task_run r SET statements_done = _task_progress.statements_done WHERE r.id = run
$$;
COMMENT ON FUNCTION bb._task_progress(bigint, int) IS 'Workers: records the statements done so far by an attempt.';

-- The end of an attempt, in one transaction: attempt, task, changelog, schema snapshot, issue.
--   outcome 'done': task done, changelog row (version + checksum), snapshot stored;
--   outcome 'failed': task failed (canceled when its issue was canceled meanwhile), resumes at
--   statements_done + 1 on retry; a failed changelog row when something was committed.
CREATE FUNCTION bb._task_finish(run bigint, outcome text, statements_done int, affected bigint,
                                error text DEFAULT NULL, already_applied boolean DEFAULT false,
                                remote_committed boolean DEFAULT false, schema_after jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r bb.task_run;
  t bb.task;
  iss bb.issue;
  canceled boolean;
  took interval;
BEGIN
  SELECT * INTO r FROM bb.task_run x WHERE x.id = run;
  SELECT * INTO t FROM bb.task x WHERE x.id = r.task_id FOR NO KEY UPDATE;
  SELECT * INTO iss FROM bb.issue x WHERE x.id = t.issue_id;
  canceled := iss.status = 'canceled';
  UPDATE bb.task_run x
     SET status = CASE WHEN outcome = 'done' THEN 'done' WHEN canceled THEN 'canceled' ELSE 'failed' END,
         finished_at = clock_timestamp(), statements_done = _task_finish.statements_done,
         affected_rows = affected, error = _task_finish.error
   WHERE x.id = run
  RETURNING x.finished_at - x.started_at INTO took;
  IF outcome = 'done' THEN
    UPDATE bb.task x SET resume_from = 0 WHERE x.id = t.id;
    PERFORM bb._task_transition(ARRAY[t.id], 'done', refresh => false);
    UPDATE bb.task x SET error = CASE WHEN already_applied
      THEN 'already applied: found in the target''s history (an earlier attempt committed it)' END
     WHERE x.id = t.id;
    INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, version, checksum, statement_hash,
                                    status, duration, schema_before, schema_after, applied_by)
    SELECT d.id, iss.id, t.id, iss.version, iss.statement_hash, iss.statement_hash, 'done',
           CASE WHEN NOT already_applied THEN took END, d.schema_snapshot, schema_after, iss.created_by
      FROM bb.database d WHERE d.id = t.database_id
    ON CONFLICT (database_id, version) WHERE status = 'done' AND version IS NOT NULL DO NOTHING;
    IF schema_after IS NOT NULL THEN
      UPDATE bb.database d SET schema_snapshot = schema_after, synced_at = now() WHERE d.id = t.database_id;
    END IF;
  ELSE
    UPDATE bb.task x SET resume_from = _task_finish.statements_done WHERE x.id = t.id;
    PERFORM bb._task_transition(ARRAY[t.id], CASE WHEN canceled THEN 'canceled' ELSE 'failed' END,
                                error, refresh => false);
    IF remote_committed THEN
      INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, version, checksum, statement_hash,
                                      status, schema_before, applied_by)
      SELECT d.id, iss.id, t.id, iss.version, iss.statement_hash, iss.statement_hash, 'failed',
             d.schema_snapshot, iss.created_by
        FROM bb.database d WHERE d.id = t.database_id;
    END IF;
  END IF;
  PERFORM bb._refresh_issue(iss.id);
END $$;
COMMENT ON FUNCTION bb._task_finish(bigint, text, int, bigint, text, boolean, boolean, jsonb) IS
  'Workers: records the end of an attempt (done or failed) with its changelog row and schema snapshot, and refreshes the issue.';

-- A task left running by an executor that is gone: failed with the reason, or queued again
-- (PostgreSQL transactional changes: the target's history tells whether it was applied).
CREATE FUNCTION bb._task_recover(task bigint, attempt int, reason text, requeue boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE done_n int;
BEGIN
  UPDATE bb.task_run r SET status = 'failed', finished_at = clock_timestamp(), error = reason
   WHERE r.task_id = task AND r.attempt = _task_recover.attempt AND r.status = 'running'
  RETURNING r.statements_done INTO done_n;
  IF requeue THEN
    PERFORM bb._task_transition(ARRAY[task], 'queued', reason);
  ELSE
    UPDATE bb.task t SET resume_from = coalesce(done_n, t.resume_from) WHERE t.id = task;
    PERFORM bb._task_transition(ARRAY[task], 'failed', reason);
  END IF;
END $$;
COMMENT ON FUNCTION bb._task_recover(bigint, int, text, boolean) IS
  'Launcher recovery: resolves a task whose executor died (re-queued, or failed with where it stopped).';

---------------------------------------------------------------------------
-- Notifications: LISTEN bytebase (ids only: a listener learns nothing it could not read)
---------------------------------------------------------------------------

CREATE FUNCTION bb._notify_issue() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('bytebase', jsonb_build_object('type', 'issue', 'id', NEW.id)::text);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._notify_issue() IS
  'Sends {"type":"issue","id":..} on channel bytebase when an issue is created or changes status (read the rest from bb.issues).';

CREATE FUNCTION bb._notify_task() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('bytebase', jsonb_build_object('type', 'task', 'id', NEW.id, 'issue', NEW.issue_id)::text);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._notify_task() IS
  'Sends {"type":"task","id":..,"issue":..} on channel bytebase when a task changes status (read the rest from bb.tasks).';

CREATE TRIGGER issue_created AFTER INSERT ON bb.issue
  FOR EACH ROW EXECUTE FUNCTION bb._notify_issue();
COMMENT ON TRIGGER issue_created ON bb.issue IS 'Notifies listeners of channel bytebase of a new issue.';
CREATE TRIGGER issue_status AFTER UPDATE OF status ON bb.issue
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bb._notify_issue();
COMMENT ON TRIGGER issue_status ON bb.issue IS 'Notifies listeners of channel bytebase of an issue status change.';
CREATE TRIGGER task_status AFTER UPDATE OF status ON bb.task
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bb._notify_task();
COMMENT ON TRIGGER task_status ON bb.task IS 'Notifies listeners of channel bytebase of a task status change.';

REVOKE ALL ON FUNCTION bb._refresh_issue(bigint, boolean), bb._cancel_issue(bigint),
  bb._task_transition(bigint[], text, text, text, boolean), bb._task_claim(int), bb._task_context(bigint),
  bb._task_progress(bigint, int), bb._task_finish(bigint, text, int, bigint, text, boolean, boolean, jsonb),
  bb._task_recover(bigint, int, text, boolean) FROM PUBLIC;
