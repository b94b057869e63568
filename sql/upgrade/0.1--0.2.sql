-- bytebase 0.1 -> 0.2, head of the upgrade script: the re-runnable fragments of 0.2
-- (sql/0.2/05_* and 20_* onwards: functions, views, policies, grants) follow it.
\echo Use "ALTER EXTENSION bytebase UPDATE" to load this file. \quit

-- 1. Every function and view of 0.1 goes (they are all redefined by 0.2), but for the ones the
--    catalog itself depends on: bb._caller (column defaults), the credentials wrapper's
--    validator and the database check.  CASCADE takes the triggers along.
DO $drop$
DECLARE
  views text[] := ARRAY(SELECT c.oid::regclass::text FROM pg_catalog.pg_class c
                         WHERE c.relnamespace = 'bb'::regnamespace AND c.relkind = 'v');
  funcs text[] := ARRAY(SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                         WHERE p.pronamespace = 'bb'::regnamespace
                           AND p.proname NOT IN ('_caller', '_fdw_validator', '_check_database'));
  x text;
BEGIN
  FOREACH x IN ARRAY views LOOP
    EXECUTE pg_catalog.format('DROP VIEW IF EXISTS %s CASCADE', x);
  END LOOP;
  FOREACH x IN ARRAY funcs LOOP
    EXECUTE pg_catalog.format('DROP FUNCTION IF EXISTS %s CASCADE', x);
  END LOOP;
END
$drop$;
ALTER FUNCTION bb._check_database() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION bb._fdw_validator(text[], oid) SET search_path = pg_catalog, pg_temp;

-- 2. Engines become a table (filled from the C engine table by 20_catalog_api.sql).
CREATE TABLE bb.engine (
  name               text PRIMARY KEY,
  dialect            text NOT NULL,
  transactional_ddl  boolean NOT NULL,
  resumable          boolean NOT NULL,
  has_driver         boolean NOT NULL
);
COMMENT ON TABLE bb.engine IS
  'The engines the extension knows, from its C engine table: review dialect, whether DDL is transactional (a change and its history row commit together), whether a failed script resumes at its failed statement, whether a driver exists.';
INSERT INTO bb.engine
SELECT e, e, false, false, false
  FROM unnest(ARRAY['postgres', 'mysql', 'tidb', 'clickhouse', 'snowflake']) e;
ALTER TABLE bb.instance DROP CONSTRAINT instance_engine_check;
ALTER TABLE bb.instance ADD CONSTRAINT instance_engine_fkey FOREIGN KEY (engine) REFERENCES bb.engine;

-- 3. Project members, review options.
CREATE TABLE bb.project_member (
  project_id  bigint NOT NULL REFERENCES bb.project ON DELETE CASCADE,
  role        name NOT NULL,
  granted_by  name NOT NULL DEFAULT bb._caller(),
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, role)
);
COMMENT ON TABLE bb.project_member IS
  'Project membership: members of role (directly or through role membership) see the project and may apply changes to it.';
SELECT pg_catalog.pg_extension_config_dump('bb.project_member', '');

CREATE TABLE bb.review_option (
  environment_id bigint NOT NULL REFERENCES bb.environment ON DELETE CASCADE,
  option         text NOT NULL CHECK (option IN ('allow_suppressions', 'dry_run')),
  value          boolean NOT NULL,
  updated_by     name NOT NULL DEFAULT bb._caller(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment_id, option)
);
COMMENT ON TABLE bb.review_option IS
  'Review options set explicitly for an environment (allow_suppressions, dry_run); see bb.review_options for the effective values.';
SELECT pg_catalog.pg_extension_config_dump('bb.review_option', '');

-- 4. Rollout: out-of-order versions, resume points, the per-database queue.
ALTER TABLE bb.issue ADD COLUMN out_of_order boolean NOT NULL DEFAULT false;
ALTER TABLE bb.task ADD COLUMN resume_from int NOT NULL DEFAULT 0 CHECK (resume_from >= 0);
COMMENT ON TABLE bb.task IS 'The change applied to one database; state changes only through bb._task_* functions; claimed with FOR NO KEY UPDATE SKIP LOCKED.';
CREATE INDEX task_database_queue ON bb.task (database_id, issue_id)
  WHERE status IN ('pending_approval', 'pending', 'running', 'failed');
ALTER TABLE bb.task_run ADD COLUMN first_statement int NOT NULL DEFAULT 0;

-- 5. Review results shared by the tasks of one engine and environment; findings reference them.
CREATE TABLE bb.review_result (
  id              bigserial PRIMARY KEY,
  issue_id        bigint NOT NULL REFERENCES bb.issue ON DELETE CASCADE,
  engine          text NOT NULL,
  environment_id  bigint NOT NULL REFERENCES bb.environment,
  status          text NOT NULL CHECK (status IN ('done', 'failed')),
  error           text,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz NOT NULL
);
COMMENT ON TABLE bb.review_result IS
  'One SQL review of an issue''s statement under one engine and environment policy; its findings are stored once, whatever the number of tasks that share it.';
CREATE INDEX review_result_issue ON bb.review_result (issue_id);
SELECT pg_catalog.pg_extension_config_dump('bb.review_result', '');
SELECT pg_catalog.pg_extension_config_dump('bb.review_result_id_seq', '');

ALTER TABLE bb.plan_check ADD COLUMN review_id bigint REFERENCES bb.review_result ON DELETE CASCADE;
COMMENT ON TABLE bb.plan_check IS
  'Checks of a task before it runs: SQL review (in bb.apply, a reference to the shared review result) and dry runs (by the workers, where the environment allows them).';
CREATE INDEX plan_check_review ON bb.plan_check (review_id);

ALTER TABLE bb.plan_check_finding DROP CONSTRAINT plan_check_finding_task_id_kind_fkey;
ALTER TABLE bb.plan_check_finding ALTER COLUMN task_id DROP NOT NULL;
ALTER TABLE bb.plan_check_finding ADD CONSTRAINT plan_check_finding_task_id_fkey
  FOREIGN KEY (task_id) REFERENCES bb.task ON DELETE CASCADE;
ALTER TABLE bb.plan_check_finding ADD COLUMN review_id bigint REFERENCES bb.review_result ON DELETE CASCADE;
ALTER TABLE bb.plan_check_finding ADD CONSTRAINT plan_check_finding_kind_check CHECK (kind IN ('review', 'dry_run'));
ALTER TABLE bb.plan_check_finding ADD COLUMN suppression text CHECK (suppression IN ('honoured', 'refused'));
ALTER TABLE bb.plan_check_finding DROP COLUMN blocking;   -- takes the partial index along
ALTER TABLE bb.plan_check_finding ADD COLUMN blocking boolean
  GENERATED ALWAYS AS (level = 'error' AND rule <> 'syntax-error' AND suppression IS DISTINCT FROM 'honoured') STORED;
COMMENT ON TABLE bb.plan_check_finding IS
  'What a plan check found: review findings once per review result, dry-run findings per task; an error-level finding blocks, warnings never do.';

-- each 0.1 review check becomes a review result of its own, its findings move to it
ALTER TABLE bb.review_result ADD COLUMN migrated_task bigint;
INSERT INTO bb.review_result (issue_id, engine, environment_id, status, error, started_at, finished_at, migrated_task)
SELECT t.issue_id, i.engine, s.environment_id, CASE WHEN c.status = 'failed' THEN 'failed' ELSE 'done' END,
       c.error, coalesce(c.started_at, now()), coalesce(c.finished_at, now()), c.task_id
  FROM bb.plan_check c JOIN bb.task t ON t.id = c.task_id JOIN bb.stage s ON s.id = t.stage_id
  JOIN bb.database d ON d.id = t.database_id JOIN bb.instance i ON i.id = d.instance_id
 WHERE c.kind = 'review';
UPDATE bb.plan_check c SET review_id = r.id FROM bb.review_result r WHERE r.migrated_task = c.task_id AND c.kind = 'review';
UPDATE bb.plan_check_finding f SET review_id = r.id, task_id = NULL
  FROM bb.review_result r WHERE r.migrated_task = f.task_id AND f.kind = 'review';
ALTER TABLE bb.review_result DROP COLUMN migrated_task;
ALTER TABLE bb.plan_check_finding ADD CONSTRAINT plan_check_finding_check CHECK ((task_id IS NULL) <> (review_id IS NULL));
CREATE INDEX plan_check_finding_task ON bb.plan_check_finding (task_id);
CREATE INDEX plan_check_finding_review ON bb.plan_check_finding (review_id);

-- 6. The audit log.
CREATE TABLE bb.audit_entry (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  who         name NOT NULL,
  "function"  text NOT NULL,
  arguments   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(arguments) = 'object'),
  outcome     text NOT NULL CHECK (outcome IN ('ok', 'error', 'rolled_back')),
  sqlstate    text CHECK (sqlstate ~ '^[0-9A-Z]{5}$'),
  error       text,
  CHECK ((outcome = 'ok') = (error IS NULL))
);
COMMENT ON TABLE bb.audit_entry IS
  'Append-only audit log behind bb.audit_log: who (session user) called which API function when, with which arguments (secrets redacted), and the outcome.';
CREATE INDEX audit_entry_at ON bb.audit_entry (at);
SELECT pg_catalog.pg_extension_config_dump('bb.audit_entry', '');
SELECT pg_catalog.pg_extension_config_dump('bb.audit_entry_id_seq', '');

-- 7. Waves: the project's deployment, the issue's frozen copy, each task's wave, stage waves.
ALTER TABLE bb.project ADD COLUMN deployment jsonb CHECK (deployment IS NULL OR jsonb_typeof(deployment) = 'array');
COMMENT ON TABLE bb.project IS 'Projects group databases that change together; deployment orders a stage''s databases into waves.';
ALTER TABLE bb.issue ADD COLUMN deployment jsonb;
ALTER TABLE bb.task ADD COLUMN wave int NOT NULL DEFAULT 1 CHECK (wave >= 1);
CREATE INDEX task_wave_open ON bb.task (stage_id, wave) WHERE status IN ('pending_approval', 'pending', 'running');
CREATE INDEX task_wave_failed ON bb.task (stage_id, wave) WHERE status = 'failed';
CREATE TABLE bb.stage_wave (
  stage_id        bigint NOT NULL REFERENCES bb.stage ON DELETE CASCADE,
  wave            int NOT NULL CHECK (wave >= 1),
  name            text NOT NULL,
  parallel        int CHECK (parallel IS NULL OR parallel >= 1),   -- NULL: bytebase.max_workers
  on_error        text NOT NULL CHECK (on_error IN ('stop', 'continue', 'threshold')),
  stop_after_failed_percent numeric CHECK (stop_after_failed_percent BETWEEN 0 AND 100),
  size            int NOT NULL CHECK (size >= 0),
  PRIMARY KEY (stage_id, wave)
);
COMMENT ON TABLE bb.stage_wave IS
  'Waves of a stage: a wave starts when the one before is finished, runs at most parallel tasks at once; on_error stop (a failure stops the issue), continue, or threshold (stops past stop_after_failed_percent of its size).';
SELECT pg_catalog.pg_extension_config_dump('bb.stage_wave', '');
-- the stages of 0.1 issues: one wave holding all their tasks
INSERT INTO bb.stage_wave (stage_id, wave, name, parallel, on_error, size)
SELECT s.id, 1, 'all', NULL, 'continue', (SELECT count(*) FROM bb.task t WHERE t.stage_id = s.id) FROM bb.stage s;
