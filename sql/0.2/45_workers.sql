-- bytebase 0.2 — workers: commit-time wake-up of the launcher, worker state, cancel of a running task

CREATE FUNCTION bb._wake() RETURNS void
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_wake';
COMMENT ON FUNCTION bb._wake() IS
  'Wakes the launcher and idle executors when the calling transaction commits (new or changed runnable tasks).';

-- Any change of task status or stage approval may make tasks runnable: wake the workers at commit.
CREATE FUNCTION bb._wake_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._wake();
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._wake_trigger() IS 'Statement trigger: bb._wake() after changes that can make tasks runnable.';

CREATE TRIGGER task_wake AFTER INSERT OR UPDATE OF status ON bb.task
  FOR EACH STATEMENT EXECUTE FUNCTION bb._wake_trigger();
COMMENT ON TRIGGER task_wake ON bb.task IS 'Wakes the workers at commit after task inserts and status changes.';
CREATE TRIGGER stage_wake AFTER UPDATE ON bb.stage
  FOR EACH STATEMENT EXECUTE FUNCTION bb._wake_trigger();
COMMENT ON TRIGGER stage_wake ON bb.stage IS 'Wakes the workers at commit after an approval.';

CREATE FUNCTION bb.workers(OUT kind text, OUT pid int, OUT state text, OUT task bigint, OUT since timestamptz)
RETURNS SETOF record
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_workers';
COMMENT ON FUNCTION bb.workers() IS
  'The launcher and the executor workers: pid, state (running, starting, busy, exiting) and the task being run.';

CREATE FUNCTION bb._cancel_task(task bigint) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_cancel_task';
COMMENT ON FUNCTION bb._cancel_task(bigint) IS
  'Interrupts the executor running this task when the calling transaction commits; it records the task canceled.';

REVOKE ALL ON FUNCTION bb.workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bb.workers() TO bytebase_admin, bytebase_approver, bytebase_developer;
REVOKE ALL ON FUNCTION bb._cancel_task(bigint), bb._wake() FROM PUBLIC;
