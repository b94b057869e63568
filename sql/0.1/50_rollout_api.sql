-- bytebase 0.1 — rollout API: apply, approve/reject, cancel/retry/skip, wait; issue status derivation
--
-- Contract with the workers (src/launcher.c, src/executor.c):
--   * Claim:   SELECT t.id FROM bb.task t WHERE t.id IN (SELECT id FROM bb._runnable_tasks)
--              FOR NO KEY UPDATE OF t SKIP LOCKED LIMIT n;   then status 'running', attempts + 1,
--              started_at, a bb.task_run row; commit.  (NO KEY: task_run's foreign key keeps working.)
--   * Finish:  UPDATE bb.task SET status = 'done' | 'failed', finished_at, error ...;
--              then, in the same transaction, SELECT bb._refresh_issue(issue_id) (locks the issue
--              row until commit: correct, but finishers of one issue serialize on their commits).
--              Faster alternative: commit the task first, then in a new transaction
--              SELECT bb._refresh_issue(issue_id, after_commit => true) (read-only unless the
--              status changes).  Launcher recovery refreshes issues whose finisher died in between.
--              Lock order everywhere: task rows first, then the issue row.
--   * Versions: a task of an issue with a version writes bb.changelog_entry (version, checksum =
--              issue.statement_hash, status 'done'); if the unique index changelog_version_done says
--              that version is already there with the same checksum, the task is 'skipped'
--              (skip_reason 'version X already applied'), not run twice.
--   * Issue status is derived (bb._issue_state), never set by the workers directly.
--   * bb._cancel_running(issue bigint), when the workers define it, is called by bb.cancel/bb.reject
--     to stop running tasks; without it running tasks finish on their own.
--   * Plan checks (dry runs): see the top of 60_plan_check.sql.

-- Placeholder for the workers' C function (45_workers.sql); only created when they have not defined it.
DO $wake$
BEGIN
  IF to_regprocedure('bb._wake()') IS NULL THEN
    EXECUTE $f$
      CREATE FUNCTION bb._wake() RETURNS void LANGUAGE plpgsql AS 'BEGIN END'$f$;
    EXECUTE $f$
      COMMENT ON FUNCTION bb._wake() IS
        'Placeholder: the launcher worker (45_workers.sql) replaces it with a C function that wakes it at commit.'$f$;
  END IF;
END
$wake$;

-- The current stage of an issue and the open/unfinished tasks are found through this index,
-- so that status derivation stays cheap with 10,000 tasks in a stage.
CREATE INDEX task_unfinished ON bb.task (stage_id, status) WHERE status NOT IN ('done', 'skipped');
CREATE INDEX issue_open ON bb.issue (id) WHERE status = 'open';
CREATE INDEX changelog_database ON bb.changelog_entry (database_id, version);

---------------------------------------------------------------------------
-- Internal helpers
---------------------------------------------------------------------------

-- Admin check without raising: creators and admins may cancel, retry and skip.
CREATE FUNCTION bb._is_admin() RETURNS boolean
LANGUAGE sql STABLE SET search_path = bb, pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = bb._caller()), false)
      OR pg_has_role(bb._caller(), 'bytebase_admin', 'MEMBER')
$$;
COMMENT ON FUNCTION bb._is_admin() IS 'True when the caller is a superuser or a member of bytebase_admin.';

-- The issue row, or a clear error when the id is NULL or unknown.
CREATE FUNCTION bb._issue(issue bigint) RETURNS bb.issue
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE r bb.issue;
BEGIN
  IF issue IS NULL THEN
    RAISE EXCEPTION 'issue must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO r FROM bb.issue i WHERE i.id = _issue.issue;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'issue % does not exist', issue USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT id, title, status FROM bb.issues;';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._issue(bigint) IS 'The issue row by id; raises undefined_object when unknown.';

-- Creator-or-admin check shared by cancel, retry, recheck and skip.
CREATE FUNCTION bb._require_owner(r bb.issue, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  IF r.created_by <> bb._caller() AND NOT bb._is_admin() THEN
    RAISE EXCEPTION 'permission denied: only the creator of issue % ("%") or an admin may %',
                    r.id, r.created_by, action
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Ask the creator, or a member of bytebase_admin.';
  END IF;
END $$;
COMMENT ON FUNCTION bb._require_owner(bb.issue, text) IS
  'Raises insufficient_privilege unless the caller created the issue or is an admin.';

-- Derived state of an issue from its tasks: the single definition used by bb.wait,
-- bb._refresh_issue and the views.  The current stage is the first (by position) that
-- still has a task that is not done or skipped; later stages never start before it is done.
CREATE FUNCTION bb._issue_state(issue bigint) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
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
  IF EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = cur AND t.status NOT IN ('done', 'skipped')
                AND t.status IN ('pending', 'running')) THEN
    RETURN 'running';
  END IF;
  IF EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = cur AND t.status NOT IN ('done', 'skipped')
                AND t.status = 'pending_approval') THEN
    RETURN 'waiting_approval';
  END IF;
  RETURN 'failed';   -- only failed (or canceled) tasks hold the current stage
END $$;
COMMENT ON FUNCTION bb._issue_state(bigint) IS
  'Derived issue state: done, failed, canceled, waiting_approval or running (open and progressing); NULL for an unknown issue.';

-- Called after every task status change (workers and API): stores the derived status on the issue.
-- In the changing transaction (default) it locks the issue row first, so that concurrent
-- finishers serialize and the last one sees the others' commits.  Called again after that
-- commit, in a new transaction, with after_commit => true it only reads unless the status
-- must change (then it locks and re-derives): every finisher's post-commit call sees its own
-- commit, so the last one settles the issue without holding the lock across a commit.
CREATE FUNCTION bb._refresh_issue(issue bigint, after_commit boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
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

-- Pending work of an issue ends: pending tasks canceled, the issue canceled, running tasks
-- stopped when the workers offer bb._cancel_running (else they finish on their own).
CREATE FUNCTION bb._cancel_issue(issue bigint) RETURNS int
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE n int;
BEGIN
  UPDATE bb.task t SET status = 'canceled', finished_at = now()
   WHERE t.issue_id = _cancel_issue.issue AND t.status IN ('pending', 'pending_approval');
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE bb.issue i SET status = 'canceled', updated_at = now() WHERE i.id = _cancel_issue.issue;
  IF to_regprocedure('bb._cancel_running(bigint)') IS NOT NULL THEN
    EXECUTE 'SELECT bb._cancel_running($1)' USING issue;
  END IF;
  RETURN n;
END $$;
COMMENT ON FUNCTION bb._cancel_issue(bigint) IS
  'Cancels the pending tasks and the issue; asks the workers to stop running ones when they can.';

-- The stage an approve/reject decides on, after the checks every decision shares.
CREATE FUNCTION bb._decision_stage(issue bigint, action text) RETURNS bb.stage
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE r bb.issue; s bb.stage;
BEGIN
  r := bb._issue(issue);
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only open or failed issues can be approved or rejected.';
  END IF;
  IF r.created_by = bb._caller() THEN
    RAISE EXCEPTION 'role "%" created issue % and may not % it', r.created_by, r.id, action
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Another member of bytebase_approver (or an admin) must decide.';
  END IF;
  SELECT * INTO s FROM bb.stage st
   WHERE st.issue_id = r.id AND st.needs_approval AND st.approved_at IS NULL
     AND EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = st.id AND t.status NOT IN ('done', 'skipped')
                    AND t.status = 'pending_approval')
   ORDER BY st.position LIMIT 1
   FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'issue % has nothing waiting for approval', r.id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'See SELECT * FROM bb.issues WHERE id = ' || r.id || ';';
  END IF;
  RETURN s;
END $$;
COMMENT ON FUNCTION bb._decision_stage(bigint, text) IS
  'First stage of an issue waiting for approval, locked; raises for unknown/finished issues, self-approval, nothing waiting.';

-- The 'instance/database' entries of a target list, resolved in one go (id NULL when unknown).
-- plpgsql with custom plans: the planner then sees the array's size (a generic plan assumes a
-- few entries and probes the database index by instance only: quadratic for 10,000 targets).
CREATE FUNCTION bb._resolve_refs(refs text[])
RETURNS TABLE(n bigint, ref text, id bigint, project_id bigint, vanished_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  RETURN QUERY
  SELECT u.n, u.ref, x.id, x.project_id, x.vanished_at
    FROM (SELECT r.ref, r.n, left(r.ref, strpos(r.ref, '/') - 1) AS inst,
                 substr(r.ref, strpos(r.ref, '/') + 1) AS db
            FROM unnest(refs) WITH ORDINALITY r(ref, n)
           WHERE strpos(r.ref, '/') > 0) u
    LEFT JOIN bb.instance i ON i.name = u.inst
    LEFT JOIN bb.database x ON x.instance_id = i.id AND x.name = u.db;
END $$;
COMMENT ON FUNCTION bb._resolve_refs(text[]) IS
  'Resolves the ''instance/database'' entries of a target list in one query; id is NULL for unknown ones.';

---------------------------------------------------------------------------
-- Notifications: LISTEN bytebase
---------------------------------------------------------------------------

-- Clients (psql LISTEN, the bb CLI, dashboards) follow issues without polling.
CREATE FUNCTION bb._notify_issue() RETURNS trigger
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('bytebase', jsonb_build_object(
    'type', 'issue', 'id', NEW.id, 'status', NEW.status,
    'project', (SELECT p.name FROM bb.project p WHERE p.id = NEW.project_id))::text);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._notify_issue() IS
  'Sends {"type":"issue","id":..,"status":..,"project":..} on channel bytebase when an issue is created or changes status.';

-- Per-task progress for listeners (a rollout over many tenants).
CREATE FUNCTION bb._notify_task() RETURNS trigger
LANGUAGE plpgsql SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('bytebase', jsonb_build_object(
    'type', 'task', 'id', NEW.id, 'issue', NEW.issue_id, 'status', NEW.status)::text);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._notify_task() IS
  'Sends {"type":"task","id":..,"issue":..,"status":..} on channel bytebase when a task changes status.';

CREATE TRIGGER issue_created AFTER INSERT ON bb.issue
  FOR EACH ROW EXECUTE FUNCTION bb._notify_issue();
COMMENT ON TRIGGER issue_created ON bb.issue IS 'Notifies listeners of channel bytebase of a new issue.';
CREATE TRIGGER issue_status AFTER UPDATE OF status ON bb.issue
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bb._notify_issue();
COMMENT ON TRIGGER issue_status ON bb.issue IS 'Notifies listeners of channel bytebase of an issue status change.';
CREATE TRIGGER task_status AFTER UPDATE OF status ON bb.task
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bb._notify_task();
COMMENT ON TRIGGER task_status ON bb.task IS 'Notifies listeners of channel bytebase of a task status change.';

---------------------------------------------------------------------------
-- API
---------------------------------------------------------------------------

-- Plans a change into an issue (custom plans: target arrays range from 1 to 10,000 entries).
CREATE FUNCTION bb.apply(project text, statement text, targets text[] DEFAULT NULL,
                         version text DEFAULT NULL, title text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  proj bigint;
  dbs bigint[] := '{}';
  ref text;
  d bb.database;
  g bb.database_group;
  h text;
  iss bigint;
  bad text;
  c record;
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  IF statement IS NULL THEN
    RAISE EXCEPTION 'statement must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF statement !~ '\S' THEN
    RAISE EXCEPTION 'statement is empty' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Pass the SQL script to apply, e.g. bb.apply(''shop'', ''ALTER TABLE t ADD COLUMN c int'').';
  END IF;
  IF version IS NOT NULL AND (version !~ '\S' OR version ~ '[\r\n]' OR length(version) > 200) THEN
    RAISE EXCEPTION 'invalid version %', quote_literal(version) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A version is one line of up to 200 characters, e.g. ''2026.11.25-01''; omit it for an unversioned change.';
  END IF;

  -- targets: 'instance/database' refs and group names of the project; NULL = all its databases
  IF targets IS NULL THEN
    dbs := ARRAY(SELECT x.id FROM bb.database x WHERE x.project_id = proj AND x.vanished_at IS NULL);
  ELSE
    IF array_position(targets, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'targets must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- 'instance/database' refs resolved in one query (10,000 targets stay cheap); the first
    -- bad one, in the order given, raises its own clear error
    FOR ref IN SELECT r.ref FROM bb._resolve_refs(targets) r
                WHERE r.id IS NULL OR r.project_id IS DISTINCT FROM proj OR r.vanished_at IS NOT NULL
                ORDER BY r.n LIMIT 1 LOOP
      SELECT * INTO d FROM bb.database x WHERE x.id = bb._database_id(ref);
      IF d.project_id IS DISTINCT FROM proj THEN
        RAISE EXCEPTION 'database "%" is not in project "%"', ref, project
          USING ERRCODE = 'invalid_parameter_value',
                HINT = format('Target only the project''s databases (see bb.databases), or move it: SELECT bb.assign_database(%L, %L);', ref, project);
      END IF;
      RAISE EXCEPTION 'database "%" has vanished from its instance', ref
        USING ERRCODE = 'undefined_object',
              HINT = 'bb.sync_instance() no longer finds it; see bb.databases.';
    END LOOP;
    dbs := ARRAY(SELECT r.id FROM bb._resolve_refs(targets) r);
    -- group names
    FOREACH ref IN ARRAY targets LOOP
      CONTINUE WHEN strpos(ref, '/') > 0;
      SELECT * INTO g FROM bb.database_group x WHERE x.project_id = proj AND x.name = ref;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'database group "%" does not exist in project "%"', ref, project
          USING ERRCODE = 'undefined_object',
                HINT = 'A target is ''instance/database'' or the name of one of the project''s groups (see bb.database_groups).';
      END IF;
      dbs := dbs || ARRAY(SELECT x.id FROM bb.database x
                           WHERE x.project_id = proj AND x.vanished_at IS NULL AND x.labels @> g.labels
                             AND (g.name_pattern IS NULL OR x.name ~ g.name_pattern));
    END LOOP;
  END IF;
  dbs := ARRAY(SELECT DISTINCT u FROM unnest(dbs) u ORDER BY u);
  IF cardinality(dbs) = 0 THEN
    RAISE EXCEPTION 'no target databases' USING ERRCODE = 'no_data_found',
      HINT = CASE WHEN targets IS NULL
                  THEN format('Project "%s" has no databases; add some with bb.assign_database().', project)
                  ELSE 'The targets match none of the project''s databases (see bb.database_groups and bb.databases).' END;
  END IF;

  -- every target needs an environment (its own, or its instance's) to be planned into a stage
  SELECT string_agg(r, ', ') INTO bad FROM (
    SELECT i.name || '/' || x.name AS r
      FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id
     WHERE x.id = ANY (dbs) AND coalesce(x.environment_id, i.environment_id) IS NULL
     ORDER BY 1 LIMIT 5) z;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'target databases without an environment: %', bad
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Place each in an environment: SELECT bb.assign_database(''instance/database'', project, environment => ''dev'');';
  END IF;

  h := encode(sha256(convert_to(statement, 'UTF8')), 'hex');

  -- Flyway-style validate: a released version never changes, and is never applied twice at once
  IF version IS NOT NULL THEN
    SELECT i.name || '/' || x.name AS r, ce.checksum, ce.issue_id INTO c
      FROM bb.changelog_entry ce JOIN bb.database x ON x.id = ce.database_id JOIN bb.instance i ON i.id = x.instance_id
     WHERE ce.database_id = ANY (dbs) AND ce.version = apply.version AND ce.status = 'done' AND ce.checksum <> h
     ORDER BY 1 LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'version "%" is already applied to "%" with a different checksum', version, c.r
        USING ERRCODE = 'unique_violation',
              DETAIL = format('applied checksum %s, new checksum %s', c.checksum, h),
              HINT = 'An applied version never changes: give this change a new version.';
    END IF;
    SELECT i.name || '/' || x.name AS r, t.issue_id INTO c
      FROM bb.task t JOIN bb.issue s ON s.id = t.issue_id
      JOIN bb.database x ON x.id = t.database_id JOIN bb.instance i ON i.id = x.instance_id
     WHERE t.database_id = ANY (dbs) AND s.version = apply.version AND s.status IN ('open', 'failed')
       AND t.status IN ('pending_approval', 'pending', 'running', 'failed')
     ORDER BY 1 LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'version "%" is already being applied to "%" by issue %', version, c.r, c.issue_id
        USING ERRCODE = 'unique_violation',
              HINT = format('Wait for issue %s, or cancel it with SELECT bb.cancel(%s);', c.issue_id, c.issue_id);
    END IF;
  END IF;

  INSERT INTO bb.statement (hash, body) VALUES (h, statement) ON CONFLICT (hash) DO NOTHING;
  INSERT INTO bb.issue (project_id, title, version, statement_hash, created_by)
  VALUES (proj,
          coalesce(apply.title, left(substring(statement FROM '\S[^\n]*'), 80)),
          apply.version, h, bb._caller())
  RETURNING id INTO iss;

  -- one stage per environment with targets, in pipeline order
  INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
  SELECT iss, e.id, row_number() OVER (ORDER BY e.position), e.protected
    FROM bb.environment e
   WHERE e.id IN (SELECT coalesce(x.environment_id, i.environment_id)
                    FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id
                   WHERE x.id = ANY (dbs));

  -- one task per database; a version already applied with this checksum is skipped
  INSERT INTO bb.task (issue_id, stage_id, database_id, status, skip_reason, finished_at)
  SELECT iss, s.id, x.id,
         CASE WHEN a.applied THEN 'skipped' WHEN s.needs_approval THEN 'pending_approval' ELSE 'pending' END,
         CASE WHEN a.applied THEN format('version %s already applied', apply.version) END,
         CASE WHEN a.applied THEN now() END
    FROM bb.database x
    JOIN bb.instance i ON i.id = x.instance_id
    JOIN bb.stage s ON s.issue_id = iss AND s.environment_id = coalesce(x.environment_id, i.environment_id)
    CROSS JOIN LATERAL (SELECT apply.version IS NOT NULL AND EXISTS (
             SELECT 1 FROM bb.changelog_entry ce
              WHERE ce.database_id = x.id AND ce.version = apply.version AND ce.status = 'done') AS applied) a
   WHERE x.id = ANY (dbs)
   ORDER BY s.position, i.name, x.name;

  PERFORM bb._run_checks(iss, ARRAY(SELECT t.id FROM bb.task t WHERE t.issue_id = iss AND t.status <> 'skipped'));
  PERFORM bb._refresh_issue(iss);
  PERFORM bb._wake();
  RETURN iss;
END $$;
COMMENT ON FUNCTION bb.apply(text, text, text[], text, text) IS
  'Creates an issue: the statement for the targets (''instance/database'' refs or group names; NULL = all of the project''s databases), one stage per environment in pipeline order, plan checks run; returns the issue id.';

-- Lets the first protected stage run; the creator never approves their own change.
CREATE FUNCTION bb.approve(issue bigint, comment text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE s bb.stage;
BEGIN
  PERFORM bb._require('bytebase_approver', 'bytebase_admin');
  s := bb._decision_stage(issue, 'approve');
  UPDATE bb.task t SET status = 'pending' WHERE t.stage_id = s.id AND t.status = 'pending_approval';
  UPDATE bb.stage st SET approved_by = bb._caller(), approved_at = now() WHERE st.id = s.id;
  INSERT INTO bb.approval (issue_id, stage_id, decision, comment, decided_by)
  VALUES (s.issue_id, s.id, 'approve', approve.comment, bb._caller());
  PERFORM bb._refresh_issue(s.issue_id);
  PERFORM bb._wake();
  RETURN (SELECT e.name FROM bb.environment e WHERE e.id = s.environment_id);
END $$;
COMMENT ON FUNCTION bb.approve(bigint, text) IS
  'Approves the first stage of the issue waiting for approval (bytebase_approver or admin; never the issue''s creator); returns its environment.';

-- Stops a change at its approval: there is no editing of an issue, so it is canceled.
CREATE FUNCTION bb.reject(issue bigint, comment text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE s bb.stage;
BEGIN
  PERFORM bb._require('bytebase_approver', 'bytebase_admin');
  IF comment IS NULL OR comment !~ '\S' THEN
    RAISE EXCEPTION 'a rejection needs a comment' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Say why, so that the creator can fix the change: bb.reject(issue, ''reason'').';
  END IF;
  s := bb._decision_stage(issue, 'reject');
  INSERT INTO bb.approval (issue_id, stage_id, decision, comment, decided_by)
  VALUES (s.issue_id, s.id, 'reject', reject.comment, bb._caller());
  PERFORM bb._cancel_issue(s.issue_id);
END $$;
COMMENT ON FUNCTION bb.reject(bigint, text) IS
  'Rejects the stage waiting for approval: the issue and its pending tasks are canceled, the comment recorded; the creator applies a corrected change as a new issue.';

-- Abandons a change that has not finished.
CREATE FUNCTION bb.cancel(issue bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE r bb.issue;
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  r := bb._issue(issue);
  PERFORM bb._require_owner(r, 'cancel it');
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only open or failed issues can be canceled.';
  END IF;
  RETURN bb._cancel_issue(r.id);
END $$;
COMMENT ON FUNCTION bb.cancel(bigint) IS
  'Cancels an open or failed issue (its creator or an admin): pending tasks are canceled; running ones are stopped when the workers can, else they finish. Returns the number of tasks canceled.';

-- Runs the failed tasks again after their cause was fixed.
CREATE FUNCTION bb.retry(issue bigint) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE r bb.issue; ids bigint[]; rechecks bigint[];
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  r := bb._issue(issue);
  PERFORM bb._require_owner(r, 'retry it');
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Apply the change again as a new issue.';
  END IF;
  -- failed tasks back into the queue (the error stays in their task runs)
  WITH q AS (
    UPDATE bb.task t
       SET status = CASE WHEN s.needs_approval AND s.approved_at IS NULL THEN 'pending_approval' ELSE 'pending' END,
           error = NULL, started_at = NULL, finished_at = NULL
      FROM bb.stage s
     WHERE s.id = t.stage_id AND t.issue_id = r.id AND t.status = 'failed'
    RETURNING t.id)
  SELECT array_agg(q.id) INTO ids FROM q;
  IF ids IS NULL THEN
    RAISE EXCEPTION 'issue % has no failed task', r.id USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Retry re-queues failed tasks only; see SELECT * FROM bb.tasks WHERE issue = ' || r.id || ';';
  END IF;
  -- tasks that a plan check failed are checked again, the others just run again
  rechecks := ARRAY(SELECT DISTINCT f.task_id FROM bb.plan_check_finding f
                     WHERE f.task_id = ANY (ids) AND f.blocking);
  IF cardinality(rechecks) > 0 THEN
    PERFORM bb._run_checks(r.id, rechecks);
  END IF;
  PERFORM bb._refresh_issue(r.id);
  PERFORM bb._wake();
  RETURN (SELECT count(*) FROM bb.task t WHERE t.id = ANY (ids) AND t.status <> 'failed');
END $$;
COMMENT ON FUNCTION bb.retry(bigint) IS
  'Re-queues the failed tasks of an issue (its creator or an admin); tasks failed by a plan check are checked again. Returns how many were re-queued (a task whose check still fails stays failed).';

-- Lets a rollout go on without one database, with the reason on record.
CREATE FUNCTION bb.skip(task bigint, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE t bb.task;
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  IF task IS NULL THEN
    RAISE EXCEPTION 'task must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF reason IS NULL OR reason !~ '\S' THEN
    RAISE EXCEPTION 'skipping a task needs a reason' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'bb.skip(task, ''why'') records why the database does not get the change.';
  END IF;
  SELECT * INTO t FROM bb.task x WHERE x.id = skip.task FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % does not exist', task USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT * FROM bb.tasks WHERE issue = ...;';
  END IF;
  PERFORM bb._require_owner(bb._issue(t.issue_id), 'skip its tasks');
  IF t.status NOT IN ('pending', 'pending_approval', 'failed') THEN
    RAISE EXCEPTION 'task % is %', t.id, t.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only pending, pending_approval or failed tasks can be skipped.';
  END IF;
  UPDATE bb.task x SET status = 'skipped', skip_reason = reason, finished_at = now() WHERE x.id = t.id;
  PERFORM bb._refresh_issue(t.issue_id);
  PERFORM bb._wake();
END $$;
COMMENT ON FUNCTION bb.skip(bigint, text) IS
  'Marks a pending, pending_approval or failed task skipped with a reason (the issue''s creator or an admin); the next stage may then start.';

-- For scripts and CI: blocks until the issue needs a person or is over.
CREATE FUNCTION bb.wait(issue bigint, timeout interval DEFAULT '5 min') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE
  r bb.issue;
  deadline timestamptz;
  st text;
  nap float8 := 0.005;
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_approver', 'bytebase_admin');
  r := bb._issue(issue);
  IF timeout IS NULL OR timeout < interval '0' THEN
    RAISE EXCEPTION 'timeout must be a non-negative interval' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example bb.wait(7, ''30 s'').';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'bb.wait needs READ COMMITTED isolation' USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'In a REPEATABLE READ or SERIALIZABLE transaction the progress of the workers is never seen.';
  END IF;
  -- created (not just updated) by this transaction: same start time and row version
  IF r.created_at = transaction_timestamp()
     AND (SELECT x.xmin::text FROM bb.issue x WHERE x.id = r.id)
         = (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text THEN
    RAISE EXCEPTION 'issue % was created by this transaction, which has not committed yet', r.id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Commit first: the workers only see committed issues.';
  END IF;
  deadline := clock_timestamp() + timeout;
  LOOP
    st := bb._issue_state(r.id);          -- each statement sees the latest commits
    IF st <> 'running' OR clock_timestamp() >= deadline THEN
      RETURN st;
    END IF;
    PERFORM pg_sleep(least(nap, greatest(extract(epoch FROM deadline - clock_timestamp()), 0)));
    nap := least(nap * 2, 0.1);
  END LOOP;
END $$;
COMMENT ON FUNCTION bb.wait(bigint, interval) IS
  'Waits (interruptibly) until the issue settles: done, failed, canceled or waiting_approval; returns running when the timeout passes first.';

REVOKE ALL ON FUNCTION bb._refresh_issue(bigint, boolean), bb._cancel_issue(bigint), bb._decision_stage(bigint, text)
  FROM PUBLIC;
