-- bytebase 0.2 — views: what a person reads in psql.  Every view runs with the reader's rights
-- (security_invoker), so the row-level security of 80_security.sql shows a developer only the
-- projects they are a member of; admins and approvers see everything.

CREATE VIEW bb.environments WITH (security_invoker = true) AS
  SELECT name, position, protected, created_by, created_at FROM bb.environment ORDER BY position;
COMMENT ON VIEW bb.environments IS 'The pipeline, in order.';

CREATE VIEW bb.engines WITH (security_invoker = true) AS
  SELECT name, dialect, transactional_ddl, resumable, has_driver FROM bb.engine ORDER BY name;
COMMENT ON VIEW bb.engines IS
  'Engines: review dialect, transactional DDL (change + history commit together), resumable (a failed script resumes at its failed statement), driver present.';

CREATE VIEW bb.instances WITH (security_invoker = true) AS
  SELECT i.name, i.engine, i.host, i.port, e.name AS environment, i.options, i.server_name,
         (SELECT count(*) FROM bb.database d WHERE d.instance_id = i.id AND d.vanished_at IS NULL) AS databases,
         i.created_by, i.created_at
    FROM bb.instance i LEFT JOIN bb.environment e ON e.id = i.environment_id
   ORDER BY i.name;
COMMENT ON VIEW bb.instances IS 'Registered instances (credentials are never shown); databases counts those the reader sees.';

CREATE VIEW bb.projects WITH (security_invoker = true) AS
  SELECT p.name, p.title,
         (SELECT count(*) FROM bb.database d WHERE d.project_id = p.id) AS databases,
         (SELECT array_agg(m.role ORDER BY m.role) FROM bb.project_member m WHERE m.project_id = p.id) AS members,
         p.created_by, p.created_at
    FROM bb.project p ORDER BY p.name;
COMMENT ON VIEW bb.projects IS 'Projects (those the reader may see), how many databases each holds, their member roles.';

CREATE VIEW bb.project_members WITH (security_invoker = true) AS
  SELECT p.name AS project, m.role, m.granted_by, m.granted_at
    FROM bb.project_member m JOIN bb.project p ON p.id = m.project_id
   ORDER BY p.name, m.role;
COMMENT ON VIEW bb.project_members IS 'Project membership (bb.grant_project / bb.revoke_project).';

CREATE VIEW bb.databases WITH (security_invoker = true) AS
  SELECT i.name || '/' || d.name AS ref, i.name AS instance, i.engine, d.name AS database,
         p.name AS project, e.name AS environment, d.labels,
         d.synced_at AS last_sync, d.sync_error,
         CASE WHEN d.vanished_at IS NOT NULL THEN 'vanished' WHEN d.sync_error IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
         (SELECT count(*) FROM jsonb_array_elements(d.schema_snapshot->'tables')) AS tables
    FROM bb.database d
    JOIN bb.instance i ON i.id = d.instance_id
    LEFT JOIN bb.project p ON p.id = d.project_id
    LEFT JOIN bb.environment e ON e.id = d.environment_id
   ORDER BY i.name, d.name;
COMMENT ON VIEW bb.databases IS 'Databases by instance: project, environment, labels, last sync and its error.';

CREATE VIEW bb.database_groups WITH (security_invoker = true) AS
  SELECT p.name AS project, g.name, g.labels, g.name_pattern,
         (SELECT count(*) FROM bb._group_members(g.id)) AS databases,
         g.created_by, g.created_at
    FROM bb.database_group g JOIN bb.project p ON p.id = g.project_id
   ORDER BY p.name, g.name;
COMMENT ON VIEW bb.database_groups IS 'Database groups by project, with how many databases each matches now.';

-- Why a task waits or was stopped before it ran, for bb.tasks.blocked_by.
CREATE FUNCTION bb._task_blocked_by(t bb.task) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN t.status = 'pending_approval' THEN
      'approval of stage ' || (SELECT e.name FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id
                                WHERE s.id = t.stage_id)
    WHEN t.status = 'failed' AND EXISTS (SELECT 1 FROM bb._task_findings f
                                          WHERE f.task_id = t.id AND f.blocking) THEN
      (SELECT string_agg(format('%s: %s error%s', replace(f.kind, '_', ' '), f.n, CASE WHEN f.n > 1 THEN 's' ELSE '' END),
                         ', ' ORDER BY f.kind DESC)
         FROM (SELECT x.kind, count(*) AS n FROM bb._task_findings x
                WHERE x.task_id = t.id AND x.blocking GROUP BY x.kind) f)
    WHEN t.status = 'pending' THEN coalesce(
      (SELECT 'stage ' || e.name
         FROM bb.stage me
         JOIN bb.stage s ON s.issue_id = me.issue_id AND s.position < me.position
         JOIN bb.environment e ON e.id = s.environment_id
        WHERE me.id = t.stage_id
          AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
        ORDER BY s.position LIMIT 1),
      (SELECT bb._issue_stop_reason(t.issue_id)),
      (SELECT 'wave ' || w.name
         FROM bb.stage_wave w
        WHERE w.stage_id = t.stage_id AND w.wave < t.wave
          AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = w.stage_id AND u.wave = w.wave
                         AND u.status IN ('pending_approval', 'pending', 'running'))
        ORDER BY w.wave LIMIT 1),
      (SELECT format('issue %s on %s/%s', q.earlier, i.name, d.name)
         FROM (SELECT bb._earlier_issue_on(t.database_id, t.issue_id) AS earlier) q
         JOIN bb.database d ON d.id = t.database_id JOIN bb.instance i ON i.id = d.instance_id
        WHERE q.earlier IS NOT NULL),
      (SELECT 'dry run' FROM bb.plan_check c
        WHERE c.task_id = t.id AND c.status IN ('pending', 'running') LIMIT 1),
      (SELECT 'issue ' || i.status FROM bb.issue i WHERE i.id = t.issue_id AND i.status <> 'open'))
  END
$$;
COMMENT ON FUNCTION bb._task_blocked_by(bb.task) IS
  'What keeps a task from running: an approval, an earlier stage, a stopped rollout, an earlier wave, an earlier issue on the same database, a dry run, or the error findings that failed it.';

CREATE VIEW bb.issues WITH (security_invoker = true) AS
  SELECT i.id, p.name AS project, i.title, i.version, i.status,
         format('%s/%s done', n.finished, n.total)
           || CASE WHEN n.skipped > 0 THEN format(', %s skipped', n.skipped) ELSE '' END
           || CASE WHEN n.failed > 0 THEN format(', %s failed', n.failed) ELSE '' END
           || CASE WHEN n.running > 0 THEN format(', %s running', n.running) ELSE '' END
           || CASE WHEN n.canceled > 0 THEN format(', %s canceled', n.canceled) ELSE '' END AS progress,
         CASE
           WHEN i.status IN ('done', 'canceled') THEN NULL
           WHEN w.state = 'waiting_approval' THEN 'approval of stage ' || w.stage
           WHEN w.state = 'failed' AND w.stop IS NOT NULL THEN w.stop || '; fix and bb.retry, or bb.cancel'
           WHEN w.state = 'failed' AND n.review_errors > 0 THEN
             format('review: %s error%s', n.review_errors, CASE WHEN n.review_errors > 1 THEN 's' ELSE '' END)
           WHEN w.state = 'failed' AND n.dry_run_failed > 0 THEN
             format('dry run: failed on %s database%s', n.dry_run_failed, CASE WHEN n.dry_run_failed > 1 THEN 's' ELSE '' END)
           WHEN w.state = 'failed' THEN
             format('retry or skip of %s failed task%s', n.failed, CASE WHEN n.failed > 1 THEN 's' ELSE '' END)
           WHEN n.dry_runs > 0 THEN
             format('dry run of %s database%s', n.dry_runs, CASE WHEN n.dry_runs > 1 THEN 's' ELSE '' END)
           WHEN n.queued_behind IS NOT NULL THEN 'issue ' || n.queued_behind
         END AS waiting_for,
         i.out_of_order, i.created_by, i.created_at, i.updated_at
    FROM bb.issue i
    JOIN bb.project p ON p.id = i.project_id
    CROSS JOIN LATERAL (
      SELECT count(*) AS total,
             count(*) FILTER (WHERE t.status IN ('done', 'skipped')) AS finished,
             count(*) FILTER (WHERE t.status = 'skipped') AS skipped,
             count(*) FILTER (WHERE t.status = 'failed') AS failed,
             count(*) FILTER (WHERE t.status = 'running') AS running,
             count(*) FILTER (WHERE t.status = 'canceled') AS canceled,
             (SELECT count(DISTINCT (f.line, f.rule, f.message)) FROM bb._task_findings f JOIN bb.task x ON x.id = f.task_id
               WHERE x.issue_id = i.id AND x.status = 'failed' AND f.kind = 'review' AND f.blocking) AS review_errors,
             (SELECT count(DISTINCT f.task_id) FROM bb.plan_check_finding f JOIN bb.task x ON x.id = f.task_id
               WHERE x.issue_id = i.id AND x.status = 'failed' AND f.kind = 'dry_run' AND f.blocking) AS dry_run_failed,
             (SELECT count(*) FROM bb.plan_check c JOIN bb.task x ON x.id = c.task_id
               WHERE x.issue_id = i.id AND c.status = 'running')
             + (SELECT count(*) FROM bb._due_plan_checks q WHERE q.issue_id = i.id) AS dry_runs,
             (SELECT min(bb._earlier_issue_on(x.database_id, x.issue_id)) FROM bb.task x
               WHERE x.issue_id = i.id AND x.status = 'pending' AND i.status = 'open') AS queued_behind
        FROM bb.task t WHERE t.issue_id = i.id) n
    CROSS JOIN LATERAL (
      SELECT bb._issue_state(i.id) AS state, bb._issue_stop_reason(i.id) AS stop,
             (SELECT e.name FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id
               WHERE s.issue_id = i.id AND s.needs_approval AND s.approved_at IS NULL
                 AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status = 'pending_approval')
               ORDER BY s.position LIMIT 1) AS stage) w
   ORDER BY i.id;
COMMENT ON VIEW bb.issues IS
  'Issues: status, progress (e.g. ''12/200 done, 1 failed'') and what an open or failed issue waits for.';

-- Per issue, environment and wave: the counts a person follows a tenant rollout by.
CREATE VIEW bb.issue_waves WITH (security_invoker = true) AS
  SELECT s.issue_id AS issue, e.name AS environment, w.wave AS position, w.name AS wave, w.parallel,
         CASE w.on_error WHEN 'threshold' THEN format('stop_after_failed_percent %s', w.stop_after_failed_percent)
              ELSE w.on_error END AS on_error,
         w.size AS databases, c.done, c.skipped, c.failed, c.running, c.pending, c.waiting_approval, c.canceled,
         CASE WHEN w.size = 0 THEN 'empty'
              WHEN c.running > 0 THEN 'running'
              WHEN c.pending + c.waiting_approval = 0 AND c.failed = 0 THEN 'done'
              WHEN c.pending + c.waiting_approval = 0 THEN 'failed'
              WHEN q.stop IS NOT NULL THEN 'stopped'
              WHEN c.waiting_approval = 0 AND q.earlier_stage IS NULL AND q.earlier_wave IS NULL
                   AND i.status = 'open' THEN 'ready'
              ELSE 'waiting' END AS state,
         CASE WHEN c.pending + c.waiting_approval = 0 OR c.running > 0 THEN NULL
              WHEN q.stop IS NOT NULL THEN q.stop
              WHEN c.waiting_approval > 0 THEN 'approval of stage ' || e.name
              WHEN q.earlier_stage IS NOT NULL THEN 'stage ' || q.earlier_stage
              WHEN q.earlier_wave IS NOT NULL THEN 'wave ' || q.earlier_wave
              WHEN i.status <> 'open' THEN 'issue ' || i.status
         END AS waiting_for
    FROM bb.stage_wave w
    JOIN bb.stage s ON s.id = w.stage_id
    JOIN bb.issue i ON i.id = s.issue_id
    JOIN bb.environment e ON e.id = s.environment_id
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE t.status = 'done') AS done,
             count(*) FILTER (WHERE t.status = 'skipped') AS skipped,
             count(*) FILTER (WHERE t.status = 'failed') AS failed,
             count(*) FILTER (WHERE t.status = 'running') AS running,
             count(*) FILTER (WHERE t.status = 'pending') AS pending,
             count(*) FILTER (WHERE t.status = 'pending_approval') AS waiting_approval,
             count(*) FILTER (WHERE t.status = 'canceled') AS canceled
        FROM bb.task t WHERE t.stage_id = w.stage_id AND t.wave = w.wave) c
    CROSS JOIN LATERAL (
      SELECT bb._issue_stop_reason(s.issue_id) AS stop,
             (SELECT pe.name FROM bb.stage ps JOIN bb.environment pe ON pe.id = ps.environment_id
               WHERE ps.issue_id = s.issue_id AND ps.position < s.position
                 AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = ps.id AND u.status NOT IN ('done', 'skipped'))
               ORDER BY ps.position LIMIT 1) AS earlier_stage,
             (SELECT pw.name FROM bb.stage_wave pw
               WHERE pw.stage_id = w.stage_id AND pw.wave < w.wave
                 AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = pw.stage_id AND u.wave = pw.wave
                                AND u.status IN ('pending_approval', 'pending', 'running'))
               ORDER BY pw.wave LIMIT 1) AS earlier_wave) q
   ORDER BY s.issue_id, s.position, w.wave;
COMMENT ON VIEW bb.issue_waves IS
  'Per issue, environment and wave: databases, done/skipped/failed/running/pending/waiting-approval/canceled counts, state (empty, waiting, ready, running, stopped, failed, done) and what the wave waits for (ready: its tasks start as workers and their databases'' queues allow).';

CREATE VIEW bb.tasks WITH (security_invoker = true) AS
  SELECT t.id, t.issue_id AS issue, e.name AS stage,
         (SELECT w.name FROM bb.stage_wave w WHERE w.stage_id = t.stage_id AND w.wave = t.wave) AS wave,
         i.name || '/' || d.name AS database, t.status, t.attempts, t.started_at, t.finished_at, t.error,
         bb._task_blocked_by(t) AS blocked_by, t.skip_reason,
         CASE WHEN t.resume_from > 0 THEN t.resume_from + 1 END AS resumes_at
    FROM bb.task t
    JOIN bb.stage s ON s.id = t.stage_id
    JOIN bb.environment e ON e.id = s.environment_id
    JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance i ON i.id = d.instance_id
   ORDER BY t.issue_id, s.position, t.id;
COMMENT ON VIEW bb.tasks IS
  'Tasks per database: stage, status, attempts, timing, error, what blocks a task that has not run, and the statement a retry resumes at.';

CREATE VIEW bb.task_runs WITH (security_invoker = true) AS
  SELECT r.task_id AS task, t.issue_id AS issue, r.attempt, r.status, r.started_at, r.finished_at,
         r.first_statement + 1 AS from_statement, r.statements_done, r.affected_rows, r.error
    FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id
   ORDER BY r.task_id, r.attempt;
COMMENT ON VIEW bb.task_runs IS 'Every attempt of every task: where it started, how far it got, its error.';

CREATE VIEW bb.plan_checks WITH (security_invoker = true) AS
  SELECT t.issue_id AS issue, c.task_id AS task, i.name || '/' || d.name AS database, e.name AS stage,
         c.kind AS "check", c.status, f.line, f.rule, f.level, coalesce(f.message, c.error) AS message,
         f.suppression
    FROM bb.plan_check c
    JOIN bb.task t ON t.id = c.task_id
    JOIN bb.stage s ON s.id = t.stage_id
    JOIN bb.environment e ON e.id = s.environment_id
    JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance i ON i.id = d.instance_id
    LEFT JOIN bb._task_findings f ON f.task_id = c.task_id AND f.kind = c.kind
   ORDER BY t.issue_id, c.task_id, c.kind DESC, f.line NULLS FIRST, f.id;
COMMENT ON VIEW bb.plan_checks IS
  'Plan checks per task (review, dry run) with their findings, one row per finding; suppression says whether a bb:ignore was honoured or refused.';

-- What an approver decides on: the exact statement, its targets and its findings.
CREATE VIEW bb.pending_approvals WITH (security_invoker = true) AS
  SELECT i.id AS issue, p.name AS project, e.name AS stage, i.title, i.version, i.created_by, i.created_at,
         st.body AS statement,
         (SELECT array_agg(ins.name || '/' || d.name ORDER BY ins.name, d.name)
            FROM bb.task t JOIN bb.database d ON d.id = t.database_id JOIN bb.instance ins ON ins.id = d.instance_id
           WHERE t.stage_id = s.id AND t.status = 'pending_approval') AS targets,
         (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('line', f.line, 'rule', f.rule, 'level', f.level,
                                                               'message', f.message, 'suppression', f.suppression,
                                                               'check', f.kind)), '[]')
            FROM bb.task t JOIN bb._task_findings f ON f.task_id = t.id
           WHERE t.issue_id = i.id) AS findings
    FROM bb.stage s
    JOIN bb.issue i ON i.id = s.issue_id
    JOIN bb.project p ON p.id = i.project_id
    JOIN bb.environment e ON e.id = s.environment_id
    JOIN bb.statement st ON st.hash = i.statement_hash
   WHERE i.status IN ('open', 'failed') AND s.needs_approval AND s.approved_at IS NULL
     AND EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = s.id AND t.status = 'pending_approval')
   ORDER BY i.id, s.position;
COMMENT ON VIEW bb.pending_approvals IS
  'Stages waiting for approval: the exact statement, the target databases, and every finding of the issue''s checks (suppressed ones included).';

CREATE VIEW bb.changelog WITH (security_invoker = true) AS
  SELECT i.name || '/' || d.name AS database, c.version, c.checksum, s.body AS statement, c.status,
         c.duration, c.issue_id AS issue, c.applied_by, c.applied_at, c.task_id AS task
    FROM bb.changelog_entry c
    JOIN bb.database d ON d.id = c.database_id
    JOIN bb.instance i ON i.id = d.instance_id
    JOIN bb.statement s ON s.hash = c.statement_hash
   ORDER BY i.name, d.name, c.applied_at, c.id;
COMMENT ON VIEW bb.changelog IS
  'Per-database history of applied changes: version, checksum, statement, status, duration, who and when.';

CREATE VIEW bb.approvals WITH (security_invoker = true) AS
  SELECT a.issue_id AS issue, e.name AS stage, a.decision, a.comment, a.decided_by, a.decided_at
    FROM bb.approval a
    LEFT JOIN bb.stage s ON s.id = a.stage_id
    LEFT JOIN bb.environment e ON e.id = s.environment_id
   ORDER BY a.issue_id, a.decided_at, a.id;
COMMENT ON VIEW bb.approvals IS 'Who approved or rejected which stage of an issue, when, and why.';
