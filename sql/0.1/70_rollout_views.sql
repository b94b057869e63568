-- bytebase 0.1 — rollout views: what the workers may run now, and what a person reads in psql

-- Tasks that may start now: pending, of an open issue, in the issue's current stage (the first
-- stage that still has a task not done or skipped), that stage approved when it needs approval,
-- and no plan check of the task still pending or running.  Index-driven: open issues
-- (issue_open), their few stages (stage_issue_id_position_key + task_unfinished), the stage's
-- pending tasks (task_runnable), the task's open checks (plan_check_open).
-- Workers claim:  SELECT t.id FROM bb.task t WHERE t.id IN (SELECT id FROM bb._runnable_tasks)
--                 ORDER BY t.id FOR NO KEY UPDATE OF t SKIP LOCKED LIMIT n;
CREATE VIEW bb._runnable_tasks AS
  SELECT t.id, t.issue_id, t.stage_id, t.database_id
    FROM bb.issue i
    CROSS JOIN LATERAL (
      SELECT s.id, s.needs_approval, s.approved_at
        FROM bb.stage s
       WHERE s.issue_id = i.id
         AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
       ORDER BY s.position LIMIT 1) cur
    JOIN bb.task t ON t.stage_id = cur.id AND t.status = 'pending'
   WHERE i.status = 'open'
     AND (NOT cur.needs_approval OR cur.approved_at IS NOT NULL)
     AND NOT EXISTS (SELECT 1 FROM bb.plan_check c
                      WHERE c.task_id = t.id AND c.status IN ('pending', 'running'));
COMMENT ON VIEW bb._runnable_tasks IS
  'Ids of the tasks the workers may start now (stage gating, approvals, plan checks); claim them from bb.task with FOR NO KEY UPDATE SKIP LOCKED.';

-- Why a task waits or was stopped before it ran, for bb.tasks.blocked_by.
CREATE FUNCTION bb._task_blocked_by(t bb.task) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN t.status = 'pending_approval' THEN
      'approval of stage ' || (SELECT e.name FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id
                                WHERE s.id = t.stage_id)
    WHEN t.status = 'failed' AND EXISTS (SELECT 1 FROM bb.plan_check_finding f
                                          WHERE f.task_id = t.id AND f.blocking) THEN
      (SELECT string_agg(format('%s: %s error%s', replace(f.kind, '_', ' '), f.n, CASE WHEN f.n > 1 THEN 's' ELSE '' END),
                         ', ' ORDER BY f.kind DESC)
         FROM (SELECT x.kind, count(*) AS n FROM bb.plan_check_finding x
                WHERE x.task_id = t.id AND x.blocking GROUP BY x.kind) f)
    WHEN t.status = 'pending' THEN coalesce(
      (SELECT 'stage ' || e.name
         FROM bb.stage me
         JOIN bb.stage s ON s.issue_id = me.issue_id AND s.position < me.position
         JOIN bb.environment e ON e.id = s.environment_id
        WHERE me.id = t.stage_id
          AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status NOT IN ('done', 'skipped'))
        ORDER BY s.position LIMIT 1),
      (SELECT 'dry run' FROM bb.plan_check c
        WHERE c.task_id = t.id AND c.status IN ('pending', 'running') LIMIT 1),
      (SELECT 'issue ' || i.status FROM bb.issue i WHERE i.id = t.issue_id AND i.status <> 'open'))
  END
$$;
COMMENT ON FUNCTION bb._task_blocked_by(bb.task) IS
  'What keeps a task from running: an approval, an earlier stage, a dry run, or the error findings that failed it.';

CREATE VIEW bb.issues AS
  SELECT i.id, p.name AS project, i.title, i.version, i.status,
         format('%s/%s done', n.finished, n.total)
           || CASE WHEN n.skipped > 0 THEN format(', %s skipped', n.skipped) ELSE '' END
           || CASE WHEN n.failed > 0 THEN format(', %s failed', n.failed) ELSE '' END
           || CASE WHEN n.running > 0 THEN format(', %s running', n.running) ELSE '' END
           || CASE WHEN n.canceled > 0 THEN format(', %s canceled', n.canceled) ELSE '' END AS progress,
         CASE
           WHEN i.status IN ('done', 'canceled') THEN NULL
           WHEN w.state = 'waiting_approval' THEN 'approval of stage ' || w.stage
           WHEN w.state = 'failed' AND n.review_errors > 0 THEN
             format('review: %s error%s', n.review_errors, CASE WHEN n.review_errors > 1 THEN 's' ELSE '' END)
           WHEN w.state = 'failed' AND n.dry_run_failed > 0 THEN
             format('dry run: failed on %s database%s', n.dry_run_failed, CASE WHEN n.dry_run_failed > 1 THEN 's' ELSE '' END)
           WHEN w.state = 'failed' THEN
             format('retry or skip of %s failed task%s', n.failed, CASE WHEN n.failed > 1 THEN 's' ELSE '' END)
           WHEN n.dry_runs > 0 THEN
             format('dry run of %s database%s', n.dry_runs, CASE WHEN n.dry_runs > 1 THEN 's' ELSE '' END)
         END AS waiting_for,
         i.created_by, i.created_at, i.updated_at
    FROM bb.issue i
    JOIN bb.project p ON p.id = i.project_id
    CROSS JOIN LATERAL (
      SELECT count(*) AS total,
             count(*) FILTER (WHERE t.status IN ('done', 'skipped')) AS finished,
             count(*) FILTER (WHERE t.status = 'skipped') AS skipped,
             count(*) FILTER (WHERE t.status = 'failed') AS failed,
             count(*) FILTER (WHERE t.status = 'running') AS running,
             count(*) FILTER (WHERE t.status = 'canceled') AS canceled,
             (SELECT count(DISTINCT (f.line, f.rule, f.message)) FROM bb.plan_check_finding f JOIN bb.task x ON x.id = f.task_id
               WHERE x.issue_id = i.id AND x.status = 'failed' AND f.kind = 'review' AND f.blocking) AS review_errors,
             (SELECT count(DISTINCT f.task_id) FROM bb.plan_check_finding f JOIN bb.task x ON x.id = f.task_id
               WHERE x.issue_id = i.id AND x.status = 'failed' AND f.kind = 'dry_run' AND f.blocking) AS dry_run_failed,
             (SELECT count(*) FROM bb.plan_check c JOIN bb.task x ON x.id = c.task_id
               WHERE x.issue_id = i.id AND c.status = 'running')
             + (SELECT count(*) FROM bb._due_plan_checks q WHERE q.issue_id = i.id) AS dry_runs
        FROM bb.task t WHERE t.issue_id = i.id) n
    CROSS JOIN LATERAL (
      SELECT bb._issue_state(i.id) AS state,
             (SELECT e.name FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id
               WHERE s.issue_id = i.id AND s.needs_approval AND s.approved_at IS NULL
                 AND EXISTS (SELECT 1 FROM bb.task u WHERE u.stage_id = s.id AND u.status = 'pending_approval')
               ORDER BY s.position LIMIT 1) AS stage) w
   ORDER BY i.id;
COMMENT ON VIEW bb.issues IS
  'Issues: status, progress (e.g. ''12/200 done, 1 failed'') and what an open or failed issue waits for.';

CREATE VIEW bb.tasks AS
  SELECT t.id, t.issue_id AS issue, e.name AS stage, i.name || '/' || d.name AS database,
         t.status, t.attempts, t.started_at, t.finished_at, t.error,
         bb._task_blocked_by(t) AS blocked_by, t.skip_reason
    FROM bb.task t
    JOIN bb.stage s ON s.id = t.stage_id
    JOIN bb.environment e ON e.id = s.environment_id
    JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance i ON i.id = d.instance_id
   ORDER BY t.issue_id, s.position, t.id;
COMMENT ON VIEW bb.tasks IS
  'Tasks per database: stage, status, attempts, timing, error, and what blocks a task that has not run.';

CREATE VIEW bb.plan_checks AS
  SELECT t.issue_id AS issue, c.task_id AS task, i.name || '/' || d.name AS database, e.name AS stage,
         c.kind AS "check", c.status, f.line, f.rule, f.level, coalesce(f.message, c.error) AS message
    FROM bb.plan_check c
    JOIN bb.task t ON t.id = c.task_id
    JOIN bb.stage s ON s.id = t.stage_id
    JOIN bb.environment e ON e.id = s.environment_id
    JOIN bb.database d ON d.id = t.database_id
    JOIN bb.instance i ON i.id = d.instance_id
    LEFT JOIN bb.plan_check_finding f ON f.task_id = c.task_id AND f.kind = c.kind
   ORDER BY t.issue_id, c.task_id, c.kind DESC, f.line NULLS FIRST, f.id;
COMMENT ON VIEW bb.plan_checks IS
  'Plan checks per task (review, dry run) with their findings, one row per finding.';

CREATE VIEW bb.changelog AS
  SELECT i.name || '/' || d.name AS database, c.version, c.checksum, s.body AS statement, c.status,
         c.duration, c.issue_id AS issue, c.applied_by, c.applied_at, c.task_id AS task
    FROM bb.changelog_entry c
    JOIN bb.database d ON d.id = c.database_id
    JOIN bb.instance i ON i.id = d.instance_id
    JOIN bb.statement s ON s.hash = c.statement_hash
   ORDER BY i.name, d.name, c.applied_at, c.id;
COMMENT ON VIEW bb.changelog IS
  'Per-database history of applied changes: version, checksum, statement, status, duration, who and when.';

GRANT SELECT ON bb.issues, bb.tasks, bb.plan_checks, bb.changelog
  TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE VIEW bb.approvals AS
  SELECT a.issue_id AS issue, e.name AS stage, a.decision, a.comment, a.decided_by, a.decided_at
    FROM bb.approval a
    LEFT JOIN bb.stage s ON s.id = a.stage_id
    LEFT JOIN bb.environment e ON e.id = s.environment_id
   ORDER BY a.issue_id, a.decided_at, a.id;
COMMENT ON VIEW bb.approvals IS 'Who approved or rejected which stage of an issue, when, and why.';
GRANT SELECT ON bb.approvals TO bytebase_admin, bytebase_approver, bytebase_developer;
