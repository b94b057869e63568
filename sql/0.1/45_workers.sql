-- bytebase 0.1 — workers: commit-time wake-up of the launcher, worker state

CREATE FUNCTION bb._wake() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'bb_wake';
COMMENT ON FUNCTION bb._wake() IS
  'Wakes the launcher and idle executors when the calling transaction commits (new or changed runnable tasks).';

-- Any change of task status or stage approval may make tasks runnable: wake the workers at commit.
CREATE FUNCTION bb._wake_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bb._wake();
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._wake_trigger() IS 'Statement trigger: bb._wake() after changes that can make tasks runnable.';

CREATE TRIGGER task_wake AFTER INSERT OR UPDATE OF status ON bb.task
  FOR EACH STATEMENT EXECUTE FUNCTION bb._wake_trigger();
CREATE TRIGGER stage_wake AFTER UPDATE ON bb.stage
  FOR EACH STATEMENT EXECUTE FUNCTION bb._wake_trigger();

CREATE FUNCTION bb.workers(OUT kind text, OUT pid int, OUT state text, OUT task bigint, OUT since timestamptz)
RETURNS SETOF record
    LANGUAGE c AS 'MODULE_PATHNAME', 'bb_workers';
COMMENT ON FUNCTION bb.workers() IS
  'The launcher and the executor workers: pid, state (running, starting, busy, exiting) and the task being run.';
REVOKE ALL ON FUNCTION bb.workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bb.workers() TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE FUNCTION bb._cancel_task(task bigint) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'bb_cancel_task';
COMMENT ON FUNCTION bb._cancel_task(bigint) IS
  'Interrupts the executor running this task when the calling transaction commits; it records the task canceled.';

-- Called by bb.cancel / bb.reject (50_rollout_api.sql) for the issue's running tasks.
CREATE FUNCTION bb._cancel_running(issue bigint) RETURNS int
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE t bigint; n int := 0;
BEGIN
  FOR t IN SELECT k.id FROM bb.task k WHERE k.issue_id = _cancel_running.issue AND k.status = 'running' LOOP
    PERFORM bb._cancel_task(t);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION bb._cancel_running(bigint) IS
  'Stops the running tasks of an issue at commit (their executors record them canceled); returns how many.';
REVOKE ALL ON FUNCTION bb._cancel_task(bigint), bb._cancel_running(bigint), bb._wake() FROM PUBLIC;
