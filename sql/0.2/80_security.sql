-- bytebase 0.2 — who may read what: grants on the catalog and row-level security by project.
--
-- The views run with the reader's rights (security_invoker), so the readers get SELECT on the
-- tables below them, and row-level security decides which rows: admins and approvers see every
-- project; a developer sees the projects whose member roles they belong to (bb.grant_project),
-- their databases, issues, tasks, checks and changelog.  The extension owner (API functions,
-- workers) is not subject to these policies.  Credentials live in user mappings, which only the
-- owner reads; the audit log is for admins.  Nothing here grants INSERT, UPDATE or DELETE:
-- every change goes through the API functions.

GRANT SELECT ON bb.environment, bb.engine, bb.instance, bb.project, bb.project_member, bb.database,
  bb.database_group, bb.review_policy, bb.review_option, bb.statement, bb.issue, bb.stage, bb.task,
  bb.task_run, bb.approval, bb.changelog_entry, bb.review_result, bb.plan_check, bb.plan_check_finding,
  bb.stage_wave
  TO bytebase_admin, bytebase_approver, bytebase_developer;

GRANT SELECT ON bb.environments, bb.engines, bb.instances, bb.projects, bb.project_members, bb.databases,
  bb.database_groups, bb.review_rules, bb.review_policies, bb.review_options, bb.issues, bb.tasks,
  bb.task_runs, bb.plan_checks, bb.pending_approvals, bb.changelog, bb.approvals, bb._task_findings, bb.issue_waves,
  bb._due_plan_checks, bb._runnable_tasks
  TO bytebase_admin, bytebase_approver, bytebase_developer;

ALTER TABLE bb.project ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.project_member ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.database ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.database_group ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.statement ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.issue ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.stage ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.stage_wave ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.task ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.task_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.approval ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.changelog_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.review_result ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.plan_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.plan_check_finding ENABLE ROW LEVEL SECURITY;

-- (SELECT f()) makes each function an init plan: evaluated once per query, not once per row.
CREATE POLICY visible ON bb.project FOR SELECT
  USING ((SELECT bb._sees_all()) OR id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.project_member FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.database FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.database_group FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.issue FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.statement FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.issue i WHERE i.statement_hash = hash));
CREATE POLICY visible ON bb.stage FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.issue i WHERE i.id = issue_id));
CREATE POLICY visible ON bb.stage_wave FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.stage s WHERE s.id = stage_id));
CREATE POLICY visible ON bb.task FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.issue i WHERE i.id = issue_id));
CREATE POLICY visible ON bb.approval FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.issue i WHERE i.id = issue_id));
CREATE POLICY visible ON bb.review_result FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.issue i WHERE i.id = issue_id));
CREATE POLICY visible ON bb.task_run FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.task t WHERE t.id = task_id));
CREATE POLICY visible ON bb.plan_check FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.task t WHERE t.id = task_id));
CREATE POLICY visible ON bb.plan_check_finding FOR SELECT
  USING ((SELECT bb._sees_all())
         OR EXISTS (SELECT 1 FROM bb.task t WHERE t.id = task_id)
         OR EXISTS (SELECT 1 FROM bb.review_result r WHERE r.id = review_id));
CREATE POLICY visible ON bb.changelog_entry FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.database d WHERE d.id = database_id));

-- The audit log is for admins only; nobody gets UPDATE, DELETE or TRUNCATE (bb._audit writes
-- it as the extension owner, and a trigger keeps it append-only).
GRANT SELECT ON bb.audit_entry, bb.audit_log TO bytebase_admin;
