-- bytebase 0.2 — rollout API: apply, approve/reject, cancel/retry/skip, wait
--
-- Identity: who created, approved, canceled, retried or skipped is bb._caller(), the session
-- user.  Rules: the creator never approves their own issue, nor skips a task that needed an
-- approval or that a check blocked; developers act only in projects they are members of.

---------------------------------------------------------------------------
-- Internal helpers
---------------------------------------------------------------------------

-- The issue row, or a clear error when the id is NULL or unknown.
CREATE FUNCTION bb._issue(issue bigint) RETURNS bb.issue
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.issue;
BEGIN
  IF issue IS NULL THEN
    RAISE EXCEPTION 'issue must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO r FROM bb.issue i WHERE i.id = _issue.issue;
  IF NOT FOUND OR NOT bb._sees_project(r.project_id) THEN
    RAISE EXCEPTION 'issue % does not exist', issue USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT id, title, status FROM bb.issues;';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._issue(bigint) IS
  'The issue row by id; raises undefined_object when unknown or in a project the caller does not see.';

-- Creator-or-admin check shared by cancel, retry, recheck and skip.
CREATE FUNCTION bb._require_owner(r bb.issue, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF r.created_by <> bb._caller() AND NOT bb._is_admin() THEN
    RAISE EXCEPTION 'permission denied: only the creator of issue % ("%") or an admin may %',
                    r.id, r.created_by, action
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Ask the creator, or a member of bytebase_admin.';
  END IF;
END $$;
COMMENT ON FUNCTION bb._require_owner(bb.issue, text) IS
  'Raises insufficient_privilege unless the session user created the issue or is an admin.';

-- The stage an approve/reject decides on, after the checks every decision shares.
CREATE FUNCTION bb._decision_stage(issue bigint, action text) RETURNS bb.stage
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
     AND EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = st.id AND t.status = 'pending_approval')
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
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
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

-- The target databases of bb.apply: refs and group names of the project (NULL = all of them).
CREATE FUNCTION bb._apply_targets(proj bigint, project text, targets text[]) RETURNS bigint[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  dbs bigint[] := '{}';
  ref text;
  gid bigint;
BEGIN
  IF targets IS NULL THEN
    RETURN ARRAY(SELECT x.id FROM bb.database x WHERE x.project_id = proj AND x.vanished_at IS NULL ORDER BY x.id);
  END IF;
  -- 'instance/database' refs, resolved together; the first bad one (in list order) is reported
  FOR ref IN
    SELECT r.ref FROM bb._resolve_refs(targets) r
     WHERE r.id IS NULL OR r.project_id IS DISTINCT FROM proj OR r.vanished_at IS NOT NULL
     ORDER BY r.n LIMIT 1
  LOOP
    PERFORM bb._database_id(ref);   -- raises the precise error for an unknown instance or database
    IF (SELECT r.project_id FROM bb._resolve_refs(ARRAY[ref]) r) IS DISTINCT FROM proj THEN
      RAISE EXCEPTION 'database "%" is not in project "%"', bb._clip(ref), project
        USING ERRCODE = 'invalid_parameter_value',
              HINT = format('Target only the project''s databases (see bb.databases), or move it: SELECT bb.assign_database(%L, %L);', ref, project);
    END IF;
    RAISE EXCEPTION 'database "%" has vanished from its instance', bb._clip(ref)
      USING ERRCODE = 'undefined_object',
            HINT = 'bb.sync_instance() no longer finds it; see bb.databases.';
  END LOOP;
  dbs := ARRAY(SELECT r.id FROM bb._resolve_refs(targets) r);
  -- group names
  FOREACH ref IN ARRAY targets LOOP
    CONTINUE WHEN strpos(ref, '/') > 0;
    SELECT g.id INTO gid FROM bb.database_group g WHERE g.project_id = proj AND g.name = ref;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'database group "%" does not exist in project "%"', bb._clip(ref), project
        USING ERRCODE = 'undefined_object',
              HINT = 'A target is ''instance/database'' or the name of one of the project''s groups (see bb.database_groups).';
    END IF;
    dbs := dbs || ARRAY(SELECT bb._group_members(gid));
  END LOOP;
  RETURN ARRAY(SELECT DISTINCT u FROM unnest(dbs) u ORDER BY u);
END $$;
COMMENT ON FUNCTION bb._apply_targets(bigint, text, text[]) IS
  'Resolves bb.apply''s targets (database refs and group names) to database ids; raises for unknown, foreign or vanished ones.';

-- Flyway-style validation of a versioned change against the targets' changelog and queue.
CREATE FUNCTION bb._check_version(dbs bigint[], version text, checksum text, out_of_order boolean) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE c record; k bytea := bb._version_key(version);
BEGIN
  -- a released version never changes
  SELECT i.name || '/' || x.name AS r, ce.checksum INTO c
    FROM bb.changelog_entry ce JOIN bb.database x ON x.id = ce.database_id JOIN bb.instance i ON i.id = x.instance_id
   WHERE ce.database_id = ANY (dbs) AND ce.version = _check_version.version AND ce.status = 'done'
     AND ce.checksum <> _check_version.checksum
   ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'version "%" is already applied to "%" with a different checksum', version, c.r
      USING ERRCODE = 'unique_violation',
            DETAIL = format('applied checksum %s, new checksum %s', c.checksum, checksum),
            HINT = 'An applied version never changes: give this change a new version.';
  END IF;
  -- never applied twice at once
  SELECT i.name || '/' || x.name AS r, t.issue_id INTO c
    FROM bb.task t JOIN bb.issue s ON s.id = t.issue_id
    JOIN bb.database x ON x.id = t.database_id JOIN bb.instance i ON i.id = x.instance_id
   WHERE t.database_id = ANY (dbs) AND s.version = _check_version.version AND s.status IN ('open', 'failed')
     AND t.status IN ('pending_approval', 'pending', 'running', 'failed')
   ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'version "%" is already being applied to "%" by issue %', version, c.r, c.issue_id
      USING ERRCODE = 'unique_violation',
            HINT = format('Wait for issue %s, or cancel it with SELECT bb.cancel(%s);', c.issue_id, c.issue_id);
  END IF;
  IF out_of_order THEN
    RETURN;
  END IF;
  -- versions apply in order: not below the highest applied or queued version of a target
  SELECT i.name || '/' || x.name AS r, m.version AS v, m.applied INTO c
    FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id
    CROSS JOIN LATERAL (
      SELECT q.version, q.applied FROM (
        SELECT ce.version, true AS applied FROM bb.changelog_entry ce
         WHERE ce.database_id = x.id AND ce.status = 'done' AND ce.version IS NOT NULL
        UNION ALL
        SELECT s.version, false FROM bb.task t JOIN bb.issue s ON s.id = t.issue_id
         WHERE t.database_id = x.id AND s.version IS NOT NULL AND s.status IN ('open', 'failed')
           AND t.status IN ('pending_approval', 'pending', 'running', 'failed')) q
       ORDER BY bb._version_key(q.version) DESC LIMIT 1) m
   WHERE x.id = ANY (dbs)
     AND (bb._version_key(m.version) > k OR (bb._version_key(m.version) = k AND m.version <> _check_version.version))
   ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'version "%" is not above version "%" % "%"', version, c.v,
                    CASE WHEN c.applied THEN 'already applied to' ELSE 'queued for' END, c.r
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Versions are compared as numbers per segment (1.10 > 1.9; 2026.12.01 > 2026.11.30); trailing .0 segments do not count.',
            HINT = 'Give the change a higher version, or apply it anyway with out_of_order => true.';
  END IF;
END $$;
COMMENT ON FUNCTION bb._check_version(bigint[], text, text, boolean) IS
  'Raises when a version is applied with another checksum, is being applied, or (unless out_of_order) is not above the highest version applied to or queued for a target.';

---------------------------------------------------------------------------
-- API
---------------------------------------------------------------------------

-- Plans a change into an issue (custom plans: target arrays range from 1 to 10,000 entries).
CREATE FUNCTION bb.apply(project text, statement text, targets text[] DEFAULT NULL,
                         version text DEFAULT NULL, title text DEFAULT NULL,
                         out_of_order boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  proj bigint;
  dbs bigint[];
  h text;
  iss bigint;
  bad text;
  dep jsonb;
BEGIN
  PERFORM bb._audit('apply', jsonb_build_object('project', project, 'targets', targets, 'version', version,
    'title', title, 'out_of_order', out_of_order,
    'statement_sha256', CASE WHEN statement IS NOT NULL THEN encode(sha256(convert_to(statement, 'UTF8')), 'hex') END));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._require_project(proj, project);
  IF statement IS NULL THEN
    RAISE EXCEPTION 'statement must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF statement !~ '\S' THEN
    RAISE EXCEPTION 'statement is empty' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Pass the SQL script to apply, e.g. bb.apply(''shop'', ''ALTER TABLE t ADD COLUMN c int'').';
  END IF;
  IF version IS NOT NULL AND (version !~ '\S' OR version ~ '[\r\n]' OR length(version) > 200) THEN
    RAISE EXCEPTION 'invalid version %', quote_literal(bb._clip(version)) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A version is one line of up to 200 characters, e.g. ''2026.11.25-01''; omit it for an unversioned change.';
  END IF;
  PERFORM bb._not_null('out_of_order', out_of_order);
  IF array_position(targets, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'targets must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;

  dbs := bb._apply_targets(proj, project, targets);
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

  PERFORM bb._check_split(statement, ARRAY(SELECT DISTINCT i.engine FROM bb.database x
                                              JOIN bb.instance i ON i.id = x.instance_id WHERE x.id = ANY (dbs)));

  h := encode(sha256(convert_to(statement, 'UTF8')), 'hex');
  IF version IS NOT NULL THEN
    PERFORM bb._check_version(dbs, version, h, out_of_order);
  END IF;

  INSERT INTO bb.statement (hash, body) VALUES (h, statement) ON CONFLICT (hash) DO NOTHING;
  INSERT INTO bb.issue (project_id, title, version, statement_hash, out_of_order, created_by, deployment)
  VALUES (proj,
          coalesce(apply.title, left(substring(statement FROM '\S[^\n]*'), 80)),
          apply.version, h, apply.out_of_order, bb._caller(),
          (SELECT p.deployment FROM bb.project p WHERE p.id = proj))
  RETURNING id, deployment INTO iss, dep;

  -- one stage per environment with targets, in pipeline order
  INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
  SELECT iss, e.id, row_number() OVER (ORDER BY e.position), e.protected
    FROM bb.environment e
   WHERE e.id IN (SELECT coalesce(x.environment_id, i.environment_id)
                    FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id
                   WHERE x.id = ANY (dbs));

  -- one task per database in its wave (the project's deployment, frozen into the issue); a
  -- version already applied with this checksum is skipped
  INSERT INTO bb.task (issue_id, stage_id, database_id, status, skip_reason, finished_at, wave)
  SELECT iss, s.id, x.id,
         CASE WHEN a.applied THEN 'skipped' WHEN s.needs_approval THEN 'pending_approval' ELSE 'pending' END,
         CASE WHEN a.applied THEN format('version %s already applied', apply.version) END,
         CASE WHEN a.applied THEN now() END,
         w.wave
    FROM bb.database x
    JOIN bb.instance i ON i.id = x.instance_id
    JOIN bb.stage s ON s.issue_id = iss AND s.environment_id = coalesce(x.environment_id, i.environment_id)
    CROSS JOIN LATERAL (SELECT apply.version IS NOT NULL AND EXISTS (
             SELECT 1 FROM bb.changelog_entry ce
              WHERE ce.database_id = x.id AND ce.version = apply.version AND ce.status = 'done') AS applied) a
    CROSS JOIN LATERAL (SELECT CASE WHEN dep IS NULL THEN 1 ELSE bb._wave_of(dep, x.labels, x.name) END AS wave) w
   WHERE x.id = ANY (dbs)
   ORDER BY s.position, w.wave, i.name, x.name;
  PERFORM bb._plan_waves(iss);

  PERFORM bb._run_checks(iss, ARRAY(SELECT t.id FROM bb.task t WHERE t.issue_id = iss AND t.status <> 'skipped'));
  PERFORM bb._refresh_issue(iss);
  PERFORM bb._wake();
  RETURN iss;
END $$;
COMMENT ON FUNCTION bb.apply(text, text, text[], text, text, boolean) IS
  'Creates an issue: the statement for the targets (''instance/database'' refs or group names; NULL = all of the project''s databases), one stage per environment in pipeline order, plan checks run; a version below one already applied is refused unless out_of_order. Returns the issue id.';

-- Lets the first protected stage run; the creator never approves their own change.
CREATE FUNCTION bb.approve(issue bigint, comment text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bb.stage;
BEGIN
  PERFORM bb._audit('approve', jsonb_build_object('issue', issue, 'comment', comment));
  PERFORM bb._require('bytebase_approver', 'bytebase_admin');
  s := bb._decision_stage(issue, 'approve');
  UPDATE bb.stage st SET approved_by = bb._caller(), approved_at = now() WHERE st.id = s.id;
  PERFORM bb._task_transition(ARRAY(SELECT t.id FROM bb.task t WHERE t.stage_id = s.id AND t.status = 'pending_approval'),
                              'queued');
  INSERT INTO bb.approval (issue_id, stage_id, decision, comment, decided_by)
  VALUES (s.issue_id, s.id, 'approve', approve.comment, bb._caller());
  PERFORM bb._wake();
  RETURN (SELECT e.name FROM bb.environment e WHERE e.id = s.environment_id);
END $$;
COMMENT ON FUNCTION bb.approve(bigint, text) IS
  'Approves the first stage of the issue waiting for approval (bytebase_approver or admin; never the issue''s creator); returns its environment.';

-- Stops a change at its approval: there is no editing of an issue, so it is canceled.
CREATE FUNCTION bb.reject(issue bigint, comment text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bb.stage;
BEGIN
  PERFORM bb._audit('reject', jsonb_build_object('issue', issue, 'comment', comment));
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.issue;
BEGIN
  PERFORM bb._audit('cancel', jsonb_build_object('issue', issue));
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
  'Cancels an open or failed issue (its creator or an admin): waiting and failed tasks are canceled, running ones are stopped. Returns the number of tasks canceled.';

-- Shared by retry and retry_task: failed tasks back into the queue, where they resume at the
-- statement that failed (from_start: at the first one); tasks a check failed are checked again.
CREATE FUNCTION bb._retry_tasks(r bb.issue, tasks bigint[], from_start boolean) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE ids bigint[]; rechecks bigint[];
BEGIN
  ids := ARRAY(SELECT t.id FROM bb.task t WHERE t.id = ANY (tasks) AND t.status = 'failed' ORDER BY t.id FOR NO KEY UPDATE);
  IF cardinality(ids) = 0 THEN
    RAISE EXCEPTION 'issue % has no failed task to retry', r.id USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Retry re-queues failed tasks only; see SELECT * FROM bb.tasks WHERE issue = ' || r.id || ';';
  END IF;
  IF from_start THEN
    UPDATE bb.task t SET resume_from = 0 WHERE t.id = ANY (ids);
  END IF;
  PERFORM bb._task_transition(ids, 'queued', refresh => false);
  -- tasks that a plan check failed are checked again, the others just run again
  rechecks := ARRAY(SELECT t.id FROM bb.task t WHERE t.id = ANY (ids)
                       AND EXISTS (SELECT 1 FROM bb._task_findings f WHERE f.task_id = t.id AND f.blocking));
  IF cardinality(rechecks) > 0 THEN
    PERFORM bb._run_checks(r.id, rechecks);
  END IF;
  PERFORM bb._refresh_issue(r.id);
  PERFORM bb._wake();
  RETURN (SELECT count(*) FROM bb.task t WHERE t.id = ANY (ids) AND t.status <> 'failed');
END $$;
COMMENT ON FUNCTION bb._retry_tasks(bb.issue, bigint[], boolean) IS
  'Re-queues failed tasks (resuming at their failed statement unless from_start) and rechecks those a check had failed; returns how many were re-queued.';

CREATE FUNCTION bb.retry(issue bigint, from_start boolean DEFAULT false) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.issue;
BEGIN
  PERFORM bb._audit('retry', jsonb_build_object('issue', issue, 'from_start', from_start));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  r := bb._issue(issue);
  PERFORM bb._require_owner(r, 'retry it');
  PERFORM bb._not_null('from_start', from_start);
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Apply the change again as a new issue.';
  END IF;
  RETURN bb._retry_tasks(r, ARRAY(SELECT t.id FROM bb.task t WHERE t.issue_id = r.id), from_start);
END $$;
COMMENT ON FUNCTION bb.retry(bigint, boolean) IS
  'Re-queues the failed tasks of an issue (its creator or an admin): scripts run statement by statement resume at the statement that failed (from_start => true: at the first); tasks failed by a plan check are checked again. Returns how many were re-queued.';

CREATE FUNCTION bb.retry_task(task bigint, from_start boolean DEFAULT false) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.issue; iss bigint;
BEGIN
  PERFORM bb._audit('retry_task', jsonb_build_object('task', task, 'from_start', from_start));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  PERFORM bb._not_null('task', task);
  PERFORM bb._not_null('from_start', from_start);
  SELECT t.issue_id INTO iss FROM bb.task t WHERE t.id = retry_task.task;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % does not exist', task USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT * FROM bb.tasks WHERE issue = ...;';
  END IF;
  r := bb._issue(iss);
  PERFORM bb._require_owner(r, 'retry its tasks');
  IF r.status IN ('done', 'canceled') THEN
    RAISE EXCEPTION 'issue % is already %', r.id, r.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Apply the change again as a new issue.';
  END IF;
  RETURN bb._retry_tasks(r, ARRAY[task], from_start);
END $$;
COMMENT ON FUNCTION bb.retry_task(bigint, boolean) IS
  'Re-queues one failed task (see bb.retry); returns 1 when it was re-queued.';

-- Lets a rollout go on without one database, with the reason on record.  A task that needed an
-- approval, or that a check blocked, is skipped only by an approver who did not create the issue.
CREATE FUNCTION bb.skip(task bigint, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t bb.task; r bb.issue; guarded boolean;
BEGIN
  PERFORM bb._audit('skip', jsonb_build_object('task', task, 'reason', reason));
  PERFORM bb._require('bytebase_developer', 'bytebase_approver', 'bytebase_admin');
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
  r := bb._issue(t.issue_id);
  IF t.status NOT IN ('pending', 'pending_approval', 'failed') THEN
    RAISE EXCEPTION 'task % is %', t.id, t.status USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'Only pending, pending_approval or failed tasks can be skipped.';
  END IF;
  guarded := (SELECT s.needs_approval FROM bb.stage s WHERE s.id = t.stage_id)
             OR EXISTS (SELECT 1 FROM bb._task_findings f WHERE f.task_id = t.id AND f.blocking);
  IF guarded THEN
    IF NOT bb._has_role('bytebase_approver', 'bytebase_admin') OR r.created_by = bb._caller() THEN
      RAISE EXCEPTION 'task % needs an approver to be skipped', t.id
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'It is in a stage that needs approval or a check blocked it: skipping it would bypass that.',
              HINT = 'A member of bytebase_approver who did not create the issue may skip it.';
    END IF;
  ELSE
    PERFORM bb._require_owner(r, 'skip its tasks');
  END IF;
  PERFORM bb._task_transition(ARRAY[t.id], 'skipped', reason => reason);
  PERFORM bb._wake();
END $$;
COMMENT ON FUNCTION bb.skip(bigint, text) IS
  'Marks a pending, pending_approval or failed task skipped with a reason (the creator or an admin; a task of a stage that needs approval, or one a check blocked, only by an approver other than the creator).';

-- For scripts and CI: blocks until the issue needs a person or is over.
CREATE FUNCTION bb.wait(issue bigint, timeout interval DEFAULT '5 min') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

REVOKE ALL ON FUNCTION bb._decision_stage(bigint, text), bb._retry_tasks(bb.issue, bigint[], boolean) FROM PUBLIC;
