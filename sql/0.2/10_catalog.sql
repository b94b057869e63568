-- bytebase 0.2 — every catalog table, with its indexes (fresh installs; upgrades migrate the
-- tables in sql/upgrade/X--Y.sql instead).  Functions, views, policies and grants follow in
-- the re-runnable fragments 20_* and later.

---------------------------------------------------------------------------
-- Environments, engines, instances, projects, databases, groups
---------------------------------------------------------------------------

CREATE TABLE bb.environment (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  position    int  NOT NULL UNIQUE,
  protected   boolean NOT NULL DEFAULT false,
  created_by  name NOT NULL DEFAULT bb._caller(),
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.environment IS 'Pipeline of environments (dev -> staging -> prod), ordered by position; changes to a protected one need approval.';

CREATE TABLE bb.engine (
  name               text PRIMARY KEY,
  dialect            text NOT NULL,
  transactional_ddl  boolean NOT NULL,
  resumable          boolean NOT NULL,
  has_driver         boolean NOT NULL
);
COMMENT ON TABLE bb.engine IS
  'The engines the extension knows, from its C engine table: review dialect, whether DDL is transactional (a change and its history row commit together), whether a failed script resumes at its failed statement, whether a driver exists.';

CREATE TABLE bb.instance (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  engine         text NOT NULL REFERENCES bb.engine,
  host           text NOT NULL CHECK (host <> ''),
  port           int  NOT NULL CHECK (port BETWEEN 1 AND 65535),
  environment_id bigint REFERENCES bb.environment,
  options        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
  server_name    name NOT NULL UNIQUE,
  created_by     name NOT NULL DEFAULT bb._caller(),
  created_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.instance IS 'Registered database servers. Credentials are not here: they live in the user mapping of the foreign server named server_name.';

CREATE TABLE bb.project (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  title       text,
  created_by  name NOT NULL DEFAULT bb._caller(),
  created_at  timestamptz NOT NULL DEFAULT now(),
  deployment  jsonb CHECK (deployment IS NULL OR jsonb_typeof(deployment) = 'array')  -- waves (bb.set_deployment)
);
COMMENT ON TABLE bb.project IS 'Projects group databases that change together; deployment orders a stage''s databases into waves.';

CREATE TABLE bb.project_member (
  project_id  bigint NOT NULL REFERENCES bb.project ON DELETE CASCADE,
  role        name NOT NULL,
  granted_by  name NOT NULL DEFAULT bb._caller(),
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, role)
);
COMMENT ON TABLE bb.project_member IS
  'Project membership: members of role (directly or through role membership) see the project and may apply changes to it.';

CREATE TABLE bb.database (
  id              bigserial PRIMARY KEY,
  instance_id     bigint NOT NULL REFERENCES bb.instance ON DELETE CASCADE,
  name            text NOT NULL,
  project_id      bigint REFERENCES bb.project,
  environment_id  bigint REFERENCES bb.environment,
  labels          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  schema_snapshot jsonb,
  synced_at       timestamptz,
  sync_error      text,
  vanished_at     timestamptz,
  created_by      name NOT NULL DEFAULT bb._caller(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (instance_id, name)
);
COMMENT ON TABLE bb.database IS 'Databases discovered on instances by sync_instance; vanished_at is set when a sync no longer finds one.';

CREATE TABLE bb.database_group (
  id           bigserial PRIMARY KEY,
  project_id   bigint NOT NULL REFERENCES bb.project ON DELETE CASCADE,
  name         text NOT NULL,
  labels       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  name_pattern text,
  created_by   name NOT NULL DEFAULT bb._caller(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
COMMENT ON TABLE bb.database_group IS 'A group: the project''s databases whose labels contain labels and whose name matches name_pattern (a regular expression).';

---------------------------------------------------------------------------
-- Review policy
---------------------------------------------------------------------------

CREATE TABLE bb.review_policy (
  environment_id bigint NOT NULL REFERENCES bb.environment ON DELETE CASCADE,
  rule           text NOT NULL,
  level          text NOT NULL CHECK (level IN ('error', 'warning', 'off')),
  payload        jsonb CHECK (payload IS NULL OR jsonb_typeof(payload) = 'object'),
  updated_by     name NOT NULL DEFAULT bb._caller(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment_id, rule)
);
COMMENT ON TABLE bb.review_policy IS
  'Review rules set explicitly for an environment; a rule without a row has its template level (strict when the environment is protected, basic otherwise).';

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

---------------------------------------------------------------------------
-- Rollout: statements, issues, stages, tasks, task runs, approvals, changelog
---------------------------------------------------------------------------

-- Statements are stored once, addressed by their sha256 (hex), not copied per task.
CREATE TABLE bb.statement (
  hash        text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.statement IS 'Change scripts, content-addressed by sha256(body) in hex; issues and changelog refer to them.';

CREATE TABLE bb.issue (
  id              bigserial PRIMARY KEY,
  project_id      bigint NOT NULL REFERENCES bb.project,
  title           text,
  version         text,
  statement_hash  text NOT NULL REFERENCES bb.statement,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'failed', 'canceled')),
  out_of_order    boolean NOT NULL DEFAULT false,
  deployment      jsonb,                   -- the project's waves when the issue was planned
  created_by      name NOT NULL DEFAULT bb._caller(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.issue IS 'A requested change: one statement for a set of databases, planned into stages.';
CREATE INDEX issue_open ON bb.issue (id) WHERE status = 'open';

CREATE TABLE bb.stage (
  id              bigserial PRIMARY KEY,
  issue_id        bigint NOT NULL REFERENCES bb.issue ON DELETE CASCADE,
  environment_id  bigint NOT NULL REFERENCES bb.environment,
  position        int NOT NULL,            -- 1, 2, ... in pipeline order within the issue
  needs_approval  boolean NOT NULL,        -- environment was protected when planned
  approved_by     name,
  approved_at     timestamptz,
  UNIQUE (issue_id, position),
  UNIQUE (issue_id, environment_id)
);
COMMENT ON TABLE bb.stage IS 'One stage per environment with targets, in pipeline order; stage N+1 starts when stage N is done.';

CREATE TABLE bb.task (
  id            bigserial PRIMARY KEY,
  issue_id      bigint NOT NULL REFERENCES bb.issue ON DELETE CASCADE,
  stage_id      bigint NOT NULL REFERENCES bb.stage ON DELETE CASCADE,
  database_id   bigint NOT NULL REFERENCES bb.database,
  status        text NOT NULL CHECK (status IN ('pending_approval', 'pending', 'running', 'done', 'failed', 'skipped', 'canceled')),
  attempts      int NOT NULL DEFAULT 0,
  started_at    timestamptz,
  finished_at   timestamptz,
  error         text,
  skip_reason   text,
  resume_from   int NOT NULL DEFAULT 0 CHECK (resume_from >= 0),  -- statements done by earlier attempts
  wave          int NOT NULL DEFAULT 1 CHECK (wave >= 1),          -- position of its wave in the stage
  UNIQUE (issue_id, database_id)
);
COMMENT ON TABLE bb.task IS 'The change applied to one database; state changes only through bb._task_* functions; claimed with FOR NO KEY UPDATE SKIP LOCKED.';
CREATE INDEX task_runnable ON bb.task (stage_id) WHERE status IN ('pending', 'running');
-- the current stage of an issue and its open tasks: cheap status derivation at 10,000 tasks
CREATE INDEX task_unfinished ON bb.task (stage_id, status) WHERE status NOT IN ('done', 'skipped');
-- one change at a time per database, in issue order: the earlier unfinished task of a database
CREATE INDEX task_database_queue ON bb.task (database_id, issue_id)
  WHERE status IN ('pending_approval', 'pending', 'running', 'failed');
-- the active wave of a stage (lowest with work left), its running tasks, its failures
CREATE INDEX task_wave_open ON bb.task (stage_id, wave) WHERE status IN ('pending_approval', 'pending', 'running');
CREATE INDEX task_wave_failed ON bb.task (stage_id, wave) WHERE status = 'failed';

-- The waves of a stage, frozen when the issue is planned (from the project's deployment).
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

CREATE TABLE bb.task_run (
  id              bigserial PRIMARY KEY,
  task_id         bigint NOT NULL REFERENCES bb.task ON DELETE CASCADE,
  attempt         int NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'canceled')),
  executor_pid    int,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  first_statement int NOT NULL DEFAULT 0,    -- statements of the script done before this attempt
  statements_done int NOT NULL DEFAULT 0,    -- statements of the script done after this attempt (absolute)
  affected_rows   bigint,
  error           text,
  UNIQUE (task_id, attempt)
);
COMMENT ON TABLE bb.task_run IS 'One attempt of a task, written in its own short transactions (started, progress, finished).';

CREATE TABLE bb.approval (
  id          bigserial PRIMARY KEY,
  issue_id    bigint NOT NULL REFERENCES bb.issue ON DELETE CASCADE,
  stage_id    bigint REFERENCES bb.stage ON DELETE CASCADE,
  decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment     text,
  decided_by  name NOT NULL DEFAULT bb._caller(),
  decided_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.approval IS 'Who approved or rejected an issue (or one stage of it), when, and why.';

CREATE TABLE bb.changelog_entry (
  id              bigserial PRIMARY KEY,
  database_id     bigint NOT NULL REFERENCES bb.database,
  issue_id        bigint REFERENCES bb.issue ON DELETE SET NULL,
  task_id         bigint REFERENCES bb.task ON DELETE SET NULL,
  version         text,
  checksum        text NOT NULL,            -- sha256 of the statement, hex
  statement_hash  text NOT NULL REFERENCES bb.statement,
  status          text NOT NULL CHECK (status IN ('done', 'failed')),
  duration        interval,
  schema_before   jsonb,
  schema_after    jsonb,
  applied_by      name NOT NULL,
  applied_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.changelog_entry IS 'Per-database history of applied changes (Flyway-style: version + checksum).';
CREATE UNIQUE INDEX changelog_version_done ON bb.changelog_entry (database_id, version)
  WHERE status = 'done' AND version IS NOT NULL;
CREATE INDEX changelog_database ON bb.changelog_entry (database_id, version);

---------------------------------------------------------------------------
-- Plan checks: review results (shared by the tasks of one engine and environment), dry runs
---------------------------------------------------------------------------

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

CREATE TABLE bb.plan_check (
  task_id     bigint NOT NULL REFERENCES bb.task ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('review', 'dry_run')),
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  started_at  timestamptz,
  finished_at timestamptz,
  error       text,                 -- why the check itself could not run (status failed)
  review_id   bigint REFERENCES bb.review_result ON DELETE CASCADE,  -- kind review: the shared result
  PRIMARY KEY (task_id, kind)
);
COMMENT ON TABLE bb.plan_check IS
  'Checks of a task before it runs: SQL review (in bb.apply, a reference to the shared review result) and dry runs (by the workers, where the environment allows them).';
CREATE INDEX plan_check_open ON bb.plan_check (task_id) WHERE status IN ('pending', 'running');
CREATE INDEX plan_check_review ON bb.plan_check (review_id);

CREATE TABLE bb.plan_check_finding (
  id          bigserial PRIMARY KEY,
  task_id     bigint REFERENCES bb.task ON DELETE CASCADE,             -- dry-run findings: per task
  review_id   bigint REFERENCES bb.review_result ON DELETE CASCADE,    -- review findings: per shared result
  kind        text NOT NULL CHECK (kind IN ('review', 'dry_run')),
  line        int,
  rule        text NOT NULL,
  level       text NOT NULL CHECK (level IN ('error', 'warning', 'info')),
  message     text NOT NULL,
  -- a "-- bb:ignore rule" comment covered it: honoured where the environment allows
  -- suppressions, refused (and still blocking) where it does not
  suppression text CHECK (suppression IN ('honoured', 'refused')),
  -- errors block, except the review's syntax errors: the target server judges syntax (its
  -- version may accept what the control server's parser does not); its error fails the task
  blocking    boolean GENERATED ALWAYS AS (level = 'error' AND rule <> 'syntax-error'
                                           AND suppression IS DISTINCT FROM 'honoured') STORED,
  CHECK ((task_id IS NULL) <> (review_id IS NULL))
);
COMMENT ON TABLE bb.plan_check_finding IS
  'What a plan check found: review findings once per review result, dry-run findings per task; an error-level finding blocks, warnings never do.';
CREATE INDEX plan_check_finding_task ON bb.plan_check_finding (task_id);
CREATE INDEX plan_check_finding_review ON bb.plan_check_finding (review_id);

---------------------------------------------------------------------------
-- Audit log: every state-changing API call (bb._audit; failed calls via the launcher)
---------------------------------------------------------------------------

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

---------------------------------------------------------------------------
-- pg_dump keeps the user data of the catalog (the engine table is the extension's own)
---------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('bb.environment', '');
SELECT pg_catalog.pg_extension_config_dump('bb.environment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.instance', '');
SELECT pg_catalog.pg_extension_config_dump('bb.instance_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.project', '');
SELECT pg_catalog.pg_extension_config_dump('bb.project_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.project_member', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_group', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_group_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.review_policy', '');
SELECT pg_catalog.pg_extension_config_dump('bb.review_option', '');
SELECT pg_catalog.pg_extension_config_dump('bb.statement', '');
SELECT pg_catalog.pg_extension_config_dump('bb.issue', '');
SELECT pg_catalog.pg_extension_config_dump('bb.issue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.stage', '');
SELECT pg_catalog.pg_extension_config_dump('bb.stage_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task', '');
SELECT pg_catalog.pg_extension_config_dump('bb.stage_wave', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_run', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.approval', '');
SELECT pg_catalog.pg_extension_config_dump('bb.approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.changelog_entry', '');
SELECT pg_catalog.pg_extension_config_dump('bb.changelog_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.review_result', '');
SELECT pg_catalog.pg_extension_config_dump('bb.review_result_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.plan_check', '');
SELECT pg_catalog.pg_extension_config_dump('bb.plan_check_finding', '');
SELECT pg_catalog.pg_extension_config_dump('bb.plan_check_finding_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.audit_entry', '');
SELECT pg_catalog.pg_extension_config_dump('bb.audit_entry_id_seq', '');

INSERT INTO bb.engine SELECT * FROM bb._engines();
