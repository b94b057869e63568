-- 31_review_policy: templates per environment, explicit policies, validation,
-- suppression comments and roles.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', true);

-- the catalog
SELECT count(*) >= 45 AS enough_pg_rules FROM bb.review_rules
 WHERE 'postgres' = ANY (engines) AND category <> 'review' AND id <> 'syntax-error';
SELECT id, category, basic_level, strict_level, payload, default_payload
  FROM bb.review_rules
 WHERE id IN ('migration.require-lock-timeout', 'naming.index.idx', 'statement.insert.row-limit',
              'syntax-error', 'review.unused-suppression')
 ORDER BY id;

-- templates: dev (not protected) gets the basic one, prod (protected) the strict one
SELECT * FROM bb.lint('ALTER TABLE t ALTER COLUMN a TYPE bigint;', 'postgres', 'dev');
SELECT * FROM bb.lint('ALTER TABLE t ALTER COLUMN a TYPE bigint;', 'postgres', 'prod');
-- no environment = the basic template
SELECT * FROM bb.lint('ALTER TABLE t ALTER COLUMN a TYPE bigint;');

-- explicit policies change results in their environment only
SELECT bb.set_review_rule('dev', 'naming.table', 'error', '{"format": "^[a-z_]+$", "max_length": 10}');
SELECT * FROM bb.lint('CREATE TABLE very_long_name (id bigint PRIMARY KEY)', 'postgres', 'dev');
SELECT * FROM bb.lint('CREATE TABLE very_long_name (id bigint PRIMARY KEY)', 'postgres', 'prod')
 WHERE rule = 'naming.table';
SELECT bb.set_review_rule('dev', 'table.require-pk', 'off');
SELECT * FROM bb.lint('CREATE TABLE t (a bigint)', environment => 'dev') WHERE rule = 'table.require-pk';
SELECT * FROM bb.lint('CREATE TABLE t (a bigint)', environment => 'prod') WHERE rule = 'table.require-pk';
SELECT bb.set_review_rule('prod', 'statement.where.require-update-delete', 'warning');
SELECT bb.set_review_rule('prod', 'statement.where.require-update-delete', 'error');
SELECT * FROM bb.lint('DELETE FROM t', environment => 'prod') WHERE rule LIKE 'statement.%';
-- a payload overrides only the keys it names
SELECT bb.set_review_rule('prod', 'naming.column', 'warning', '{"max_length": 3}');
SELECT * FROM bb.lint('CREATE TABLE t (id bigint PRIMARY KEY, abcd bigint, "Ab" bigint)', environment => 'prod')
 WHERE rule = 'naming.column';
SELECT environment, rule, level, payload, explicit FROM bb.review_policies
 WHERE rule IN ('naming.table', 'table.require-pk', 'naming.column') ORDER BY environment, rule;

-- bad input: a clear error and nothing written
SELECT count(*) AS policies FROM bb.review_policy;
SELECT bb.set_review_rule('dev', 'no.such-rule', 'error');
SELECT bb.set_review_rule('dev', 'naming.table', 'fatal');
SELECT bb.set_review_rule('dev', 'naming.table', 'error', '{"format": "^[a-z"}');
SELECT bb.set_review_rule('dev', 'naming.index.idx', 'error', '{"format": "^idx_{{table}}_(a$"}');
SELECT bb.set_review_rule('dev', 'naming.table', 'error', '{"pattern": "x"}');
SELECT bb.set_review_rule('dev', 'naming.table', 'error', '{"max_length": "ten"}');
SELECT bb.set_review_rule('dev', 'statement.insert.row-limit', 'error', '{"number": -1}');
SELECT bb.set_review_rule('dev', 'statement.insert.row-limit', 'error', '{"number": 1.5}');
SELECT bb.set_review_rule('dev', 'column.required', 'error', '{"list": [1, 2]}');
SELECT bb.set_review_rule('dev', 'column.required', 'error', '{"list": "id"}');
SELECT bb.set_review_rule('dev', 'table.require-pk', 'error', '{"x": 1}');
SELECT bb.set_review_rule('dev', 'table.require-pk', 'error', '[1]');
SELECT bb.set_review_rule('nowhere', 'table.require-pk', 'error');
SELECT bb.set_review_rule('dev', NULL, 'error');
SELECT bb.set_review_rule('dev', 'table.require-pk', NULL);
SELECT count(*) AS policies FROM bb.review_policy;
SELECT * FROM bb.lint('SELECT 1', environment => 'nowhere');
SELECT * FROM bb.lint('SELECT 1', engine => 'oracle');
SELECT * FROM bb.lint('SELECT 1', engine => NULL);
SELECT * FROM bb.lint(NULL);

-- suppression comments: the line before or the same line; unused ones are reported
SELECT * FROM bb.lint($$
-- bb:ignore table.require-pk
CREATE TABLE t (a bigint);
CREATE TABLE u (a bigint); -- bb:ignore table.require-pk, migration.ban-char
UPDATE t SET a = 1; /* bb:ignore statement.where.require-update-delete */
-- bb:ignore statement.select.no-select-all
SELECT 1;
DELETE FROM t;
$$);

-- roles: developers lint; only admins set policies; others may do neither
DROP ROLE IF EXISTS lint_dev;
DROP ROLE IF EXISTS lint_nobody;
CREATE ROLE lint_dev LOGIN;
GRANT bytebase_developer TO lint_dev;
CREATE ROLE lint_nobody LOGIN;
SET SESSION AUTHORIZATION lint_dev;
SELECT count(*) FROM bb.lint('DELETE FROM t');
SELECT count(*) FROM bb.review_rules WHERE id = 'table.require-pk';
SELECT bb.set_review_rule('dev', 'table.require-pk', 'error');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION lint_nobody;
SELECT count(*) FROM bb.lint('DELETE FROM t');
RESET SESSION AUTHORIZATION;
DROP ROLE lint_dev;
DROP ROLE lint_nobody;
