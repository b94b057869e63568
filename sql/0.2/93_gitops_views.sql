-- bytebase 0.2 — GitOps (4/4): views, grants and row-level security (a developer sees the
-- repositories of their projects; a token is in a user mapping and in no view).

CREATE VIEW bb.repositories WITH (security_invoker = true) AS
  SELECT r.name, p.name AS project, r.url, r.branch, r.path, r.poll, r.targets,
         r.allow_out_of_order, r.block_on_error, r.enabled, r.server_name IS NOT NULL AS has_token,
         r.last_commit, r.last_fetch_at AS last_fetch, r.last_error, r.failures AS failed_fetches, r.last_warning,
         CASE WHEN r.enabled THEN r.next_fetch_at END AS next_fetch,
         (SELECT count(*) FROM bb.repository_file f WHERE f.repository_id = r.id AND f.deleted_at IS NULL) AS files,
         r.created_by, r.created_at
    FROM bb.repository r JOIN bb.project p ON p.id = r.project_id
   ORDER BY r.name;
COMMENT ON VIEW bb.repositories IS
  'Watched git repositories: where, what (branch, path), how often, the last commit seen, the last fetch, its error (and how many fetches failed in a row) and warning (e.g. a rewritten history).';

CREATE VIEW bb.repository_files WITH (security_invoker = true) AS
  SELECT r.name AS repository, f.path AS file, f.kind, f.version, f.checksum, d.checksum AS applied_checksum,
         CASE WHEN f.state <> 'dispatched' THEN f.state
              WHEN i.id IS NULL OR i.status = 'done' THEN 'applied'
              ELSE 'pending' END AS state,
         CASE WHEN f.state <> 'dispatched' THEN f.why
              WHEN i.id IS NULL OR i.status = 'done' THEN NULL
              WHEN i.status = 'canceled' THEN
                format('issue %s was canceled; a file is dispatched once: apply it by hand or put the change in a new version', i.id)
              ELSE format('issue %s %s', i.id, CASE bb._issue_state(i.id) WHEN 'waiting_approval' THEN 'waits for approval'
                                                  WHEN 'failed' THEN 'failed (see bb.tasks; bb.retry)'
                                                  ELSE 'is rolling out' END)
         END AS why,
         d.issue_id AS issue, f.commit, f.author, f.committed_at, d.commit AS applied_commit, d.author AS applied_author,
         f.size, f.seen_at, f.deleted_at
    FROM bb.repository_file f
    JOIN bb.repository r ON r.id = f.repository_id
    LEFT JOIN LATERAL (SELECT x.checksum, x.issue_id, x.commit, x.author FROM bb.repository_dispatch x
                        WHERE x.file_id = f.id ORDER BY x.id DESC LIMIT 1) d ON true
    LEFT JOIN bb.issue i ON i.id = d.issue_id
   ORDER BY r.name, f.kind = 'other', f.kind = 'repeatable', bb._version_key(f.version), f.path;
COMMENT ON VIEW bb.repository_files IS
  'Files of watched repositories: kind (versioned, repeatable, other), version, checksum (and the one applied), state (applied, pending, '
  'modified-after-apply, out-of-order, ignored, deleted) with why, the issue, the commit and author of the content.';

CREATE VIEW bb.repository_syncs WITH (security_invoker = true) AS
  SELECT s.id, r.name AS repository, s.trigger, s.started_at, s.finished_at, s.commit_before, s.commit_after,
         s.rewritten, s.files, s.issues, s.error, s.error_code, s.warning
    FROM bb.repository_sync s JOIN bb.repository r ON r.id = s.repository_id
   ORDER BY s.id;
COMMENT ON VIEW bb.repository_syncs IS
  'Fetches that changed something, failed, warned or were requested (bb.sync_repository): commits before and after, issues created, error.';

GRANT SELECT ON bb.repository, bb.repository_file, bb.repository_dispatch, bb.repository_sync,
  bb.repositories, bb.repository_files, bb.repository_syncs
  TO bytebase_admin, bytebase_approver, bytebase_developer;

ALTER TABLE bb.repository ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_file ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_dispatch ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_sync ENABLE ROW LEVEL SECURITY;

CREATE POLICY visible ON bb.repository FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.repository_file FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository r WHERE r.id = repository_id));
CREATE POLICY visible ON bb.repository_sync FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository r WHERE r.id = repository_id));
CREATE POLICY visible ON bb.repository_dispatch FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository_file f WHERE f.id = file_id));
