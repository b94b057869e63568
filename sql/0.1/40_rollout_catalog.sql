-- bytebase 0.1 — rollout catalog: statements, issues, stages, tasks, task runs, approvals, changelog

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
  created_by      name NOT NULL DEFAULT bb._caller(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.issue IS 'A requested change: one statement for a set of databases, planned into stages.';

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
  UNIQUE (issue_id, database_id)
);
COMMENT ON TABLE bb.task IS 'The change applied to one database; claimed by executors with FOR UPDATE SKIP LOCKED.';
CREATE INDEX task_runnable ON bb.task (stage_id) WHERE status IN ('pending', 'running');

CREATE TABLE bb.task_run (
  id             bigserial PRIMARY KEY,
  task_id        bigint NOT NULL REFERENCES bb.task ON DELETE CASCADE,
  attempt        int NOT NULL,
  status         text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'canceled')),
  executor_pid   int,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  statements_done int NOT NULL DEFAULT 0,   -- progress for engines that run statement by statement
  affected_rows  bigint,
  error          text,
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

SELECT pg_catalog.pg_extension_config_dump('bb.statement', '');
SELECT pg_catalog.pg_extension_config_dump('bb.issue', '');
SELECT pg_catalog.pg_extension_config_dump('bb.issue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.stage', '');
SELECT pg_catalog.pg_extension_config_dump('bb.stage_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_run', '');
SELECT pg_catalog.pg_extension_config_dump('bb.task_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.approval', '');
SELECT pg_catalog.pg_extension_config_dump('bb.approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.changelog_entry', '');
SELECT pg_catalog.pg_extension_config_dump('bb.changelog_entry_id_seq', '');

GRANT SELECT ON bb.statement, bb.issue, bb.stage, bb.task, bb.task_run, bb.approval, bb.changelog_entry
  TO bytebase_admin;
