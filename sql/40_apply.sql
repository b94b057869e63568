-- bb.apply: targets (refs, groups, all), stages in pipeline order, tasks, content-addressed
-- statements, Flyway-style version validation, and bad input that leaves nothing behind.
\i sql/rollout_setup.inc
-- the review is the subject of 43_plan_check; here every rule is off
INSERT INTO bb.review_policy (environment_id, rule, level)
SELECT e.id, r.id, 'off' FROM bb.environment e, bb.review_rules r;

-- Everything that could run is planned in transactions that roll back (workers may be up).
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', $$ALTER TABLE orders ADD COLUMN note text;$$,
                version => '2026.11.25-01', title => 'add note') AS issue \gset
RESET SESSION AUTHORIZATION;
SELECT id, project, title, version, status, progress, waiting_for, created_by FROM bb.issues;
-- one stage per environment with targets, in pipeline order; prod is protected
SELECT s.position, e.name AS environment, s.needs_approval, s.approved_by
  FROM bb.stage s JOIN bb.environment e ON e.id = s.environment_id WHERE s.issue_id = :issue ORDER BY 1;
-- one task per database of the project (not the vanished one); prod waits for approval
SELECT id, stage, database, status, attempts, blocked_by FROM bb.tasks WHERE issue = :issue;
-- the statement is stored once, addressed by its sha256
SELECT count(*) AS statements, bool_and(hash = encode(sha256(convert_to(body, 'UTF8')), 'hex')) AS addressed
  FROM bb.statement;
SELECT bb.apply('shop', $$ALTER TABLE orders ADD COLUMN note text;$$, targets => '{pg-dev/shop}') IS NOT NULL AS again;
SELECT count(*) AS statements FROM bb.statement;
-- the title defaults to the first line of the statement
SELECT bb.apply('shop', E'\n  CREATE INDEX i ON t (c);\nSELECT 1;', targets => '{pg-dev/shop}') AS i2 \gset
SELECT title FROM bb.issues WHERE id = :i2;
ROLLBACK;

-- groups and refs, deduplicated; only environments with targets become stages
BEGIN;
SELECT bb.apply('shop', 'SELECT 1', targets => '{tenants, eu, pg-prod/t1}') AS issue \gset
SELECT stage, database, status FROM bb.tasks WHERE issue = :issue;
SELECT bb.apply('shop', 'SELECT 1', targets => '{eu}') AS issue \gset
SELECT stage, database FROM bb.tasks WHERE issue = :issue;
SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-stg/shop, pg-dev/shop, my-dev/shop}') AS issue \gset
SELECT stage, database, status FROM bb.tasks WHERE issue = :issue;
SELECT count(*) AS stages FROM bb.stage WHERE issue_id = :issue;
-- a database without an environment of its own takes its instance's
UPDATE bb.database SET environment_id = bb._environment_id('staging') WHERE id = bb._database_id('pg-prod/t2');
SELECT bb.apply('shop', 'SELECT 1', targets => '{tenants}') AS issue \gset
SELECT stage, database, status FROM bb.tasks WHERE issue = :issue;
ROLLBACK;

-- Flyway validate: an applied version is skipped; the same version with another checksum is refused
BEGIN;
INSERT INTO bb.statement (hash, body)
VALUES (encode(sha256(convert_to('CREATE TABLE a ()', 'UTF8')), 'hex'), 'CREATE TABLE a ()');
INSERT INTO bb.changelog_entry (database_id, version, checksum, statement_hash, status, applied_by)
SELECT bb._database_id('pg-dev/shop'), 'v1', hash, hash, 'done', 'postgres' FROM bb.statement;
SELECT bb.apply('shop', 'CREATE TABLE a ()', targets => '{pg-dev/shop, pg-stg/shop}', version => 'v1') AS issue \gset
SELECT database, status, skip_reason, finished_at IS NOT NULL AS finished FROM bb.tasks WHERE issue = :issue;
SELECT status, progress FROM bb.issues WHERE id = :issue;
SELECT pg_temp.try($$SELECT bb.apply('shop', 'CREATE TABLE b ()', targets => '{pg-dev/shop}', version => 'v1')$$);
-- the same version already being applied by an open issue
SELECT pg_temp.try($$SELECT bb.apply('shop', 'CREATE TABLE a ()', targets => '{pg-stg/shop}', version => 'v1')$$);
SELECT count(*) AS issues FROM bb.issue;
-- every target already has it: the issue is done at once
SELECT bb.apply('shop', 'CREATE TABLE a ()', targets => '{pg-dev/shop}', version => 'v1') AS issue \gset
SELECT status, progress, waiting_for FROM bb.issues WHERE id = :issue;
-- a failed changelog entry does not count as applied
UPDATE bb.changelog_entry SET status = 'failed';
SELECT bb.apply('shop', 'CREATE TABLE b ()', targets => '{pg-dev/shop}', version => 'v1') AS issue \gset
SELECT database, status FROM bb.tasks WHERE issue = :issue;
ROLLBACK;

-- bad input: a clear error, nothing created
SELECT pg_temp.try($$SELECT bb.apply('nope', 'SELECT 1')$$);                                   -- unknown project
SELECT pg_temp.try($$SELECT bb.apply(NULL, 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', NULL)$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', '')$$);                                          -- empty
SELECT pg_temp.try($$SELECT bb.apply('shop', E'  \n\t  \r\n')$$);                              -- whitespace only
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/nope}')$$);       -- unknown database
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{nope/shop}')$$);         -- unknown instance
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{/shop}')$$);             -- malformed ref
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{nogroup}')$$);           -- unknown group
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop, pg-dev/other}')$$);  -- outside project
SELECT pg_temp.try($$SELECT bb.apply('other', 'SELECT 1', targets => '{tenants}')$$);          -- another project's group
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/gone}')$$);       -- vanished
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => ARRAY['pg-dev/shop', NULL])$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{}')$$);                  -- no targets
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{nobody}')$$);            -- group matches none
SELECT pg_temp.try($$SELECT bb.apply('loose', 'SELECT 1')$$);                                  -- no environment
SELECT bb.create_project('empty');
SELECT pg_temp.try($$SELECT bb.apply('empty', 'SELECT 1')$$);                                  -- project without databases
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', version => '  ')$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', version => E'v1\nv2')$$);
-- roles: approvers do not create issues
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1')$$);
RESET SESSION AUTHORIZATION;
SELECT (SELECT count(*) FROM bb.issue) AS issues, (SELECT count(*) FROM bb.stage) AS stages,
       (SELECT count(*) FROM bb.task) AS tasks, (SELECT count(*) FROM bb.statement) AS statements,
       (SELECT count(*) FROM bb.plan_check) AS checks;

\i sql/rollout_teardown.inc
