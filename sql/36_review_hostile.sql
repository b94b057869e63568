-- 36_review_hostile: SQL review on hostile input.  Regex payloads as names (as a
-- developer) and as policies (as an admin), stored unsafe policies, huge names,
-- the findings cap, oversized statements, and cancels of big scripts in every
-- dialect.  Nothing here may crash the server or pass a check silently.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('prod', true);
SELECT bb.create_environment('dev');
DROP ROLE IF EXISTS hostile_dev;
DROP ROLE IF EXISTS hostile_admin;
CREATE ROLE hostile_dev;
GRANT bytebase_developer TO hostile_dev;
CREATE ROLE hostile_admin;
GRANT bytebase_admin TO hostile_admin;
CREATE TEMP TABLE engines(engine text PRIMARY KEY);
INSERT INTO engines VALUES ('postgres'), ('mysql'), ('tidb'), ('clickhouse'), ('snowflake');
GRANT SELECT ON engines TO hostile_dev, hostile_admin;

-- 1. names are literals in naming patterns: the payload that crashed the cluster,
--    and nested quantifiers, in every dialect, linted by a developer
SET ROLE hostile_dev;
SELECT * FROM bb.lint($$CREATE INDEX idx__a ON "(|)(\1\1)*" (a);$$, 'postgres', 'prod');
SELECT line, rule, level, message FROM bb.lint($$CREATE INDEX idx__a ON "(a+)+$" (a);
CREATE TABLE "(a|a)*" (id bigint PRIMARY KEY);
CREATE TABLE "((((((((((a*)*)*)*)*)*)*)*)*)*)" (id bigint PRIMARY KEY);$$, 'postgres', 'prod')
 WHERE rule LIKE 'naming.%' OR rule LIKE 'review.%' ORDER BY line, rule;
SELECT e.engine, l.line, l.rule, l.level, l.message
  FROM engines e, bb.lint($$CREATE TABLE `(|)(\1\1)*` (id int PRIMARY KEY);
CREATE INDEX idx__a ON `(a+)+$` (a);
DROP TABLE `(a|a)*`;$$, e.engine, 'prod') l
 WHERE e.engine IN ('mysql', 'tidb') AND (l.rule LIKE 'naming.%' OR l.rule LIKE 'review.%' OR l.rule LIKE 'table.drop%')
 ORDER BY 1, 2, 3, 5;
SELECT e.engine, l.line, l.rule, l.level, l.message
  FROM engines e, bb.lint($$CREATE TABLE "(|)(\1\1)*" ("(a+)+" int) ENGINE = MergeTree ORDER BY id;
DROP TABLE "(a|a)*";$$, e.engine, 'prod') l
 WHERE e.engine IN ('clickhouse', 'snowflake') AND (l.rule LIKE 'naming.%' OR l.rule LIKE 'review.%' OR l.rule LIKE 'table.drop%')
 ORDER BY 1, 2, 3, 5;

-- a 10 MB name is clipped in every message (statements up to 64 MB are parsed here)
RESET ROLE;
SET bytebase.review_max_statement_size = '64MB';
SET ROLE hostile_dev;
SELECT e.engine, l.rule, length(l.message) < 300 AS clipped, left(l.message, 40) AS message
  FROM engines e,
       bb.lint('CREATE TABLE ' || CASE WHEN e.engine IN ('mysql', 'tidb') THEN '`' ELSE '"' END ||
               repeat('x', 10000000) || CASE WHEN e.engine IN ('mysql', 'tidb') THEN '`' ELSE '"' END ||
               ' (id int PRIMARY KEY)', e.engine, 'prod') l
 WHERE l.rule LIKE 'naming.%' OR l.rule LIKE '%identifier%' OR l.rule LIKE 'review.%'
 ORDER BY 1, 2;
RESET ROLE;
RESET bytebase.review_max_statement_size;

-- wide statements are checked in linear time: 100,000 key columns, duplicates found by sorting
SELECT rule, message FROM bb.lint('CREATE INDEX i ON t (b, a, c, a, b)', 'postgres', 'prod')
 WHERE rule = 'index.no-duplicate-column';
SELECT rule, message FROM bb.lint((SELECT 'CREATE INDEX i ON t (' || string_agg('c' || g, ', ') || ', c77777, c5)'
                                     FROM generate_series(1, 100000) g), 'postgres', 'prod')
 WHERE rule IN ('index.no-duplicate-column', 'review.check-failed');

-- 2. unsafe naming formats are refused when an admin sets them, with the reason
SET ROLE hostile_admin;
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(|)(\\1\\1)*"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(a+)+"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^([a-z]+)*$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(a|a)*"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^(a|ab)+$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(a*)*b"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^(a?)+$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^(.)\\1$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^\\d+$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "***:(a)\\1"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(?=a)a"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^a{1000}$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "(a{1,255}){1,255}"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "[[.a.]]"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "a**"}');
SELECT bb.set_review_rule('prod', 'naming.index.idx', 'error', '{"format": "^(idx_{{table}})+$"}');
SELECT bb.set_review_rule('prod', 'naming.table', 'error', jsonb_build_object('format', repeat('a', 600)));
RESET ROLE;
SELECT count(*) AS policies FROM bb.review_policy;
SET ROLE hostile_admin;
-- safe ones are accepted and applied
SELECT bb.set_review_rule('prod', 'naming.table', 'error', '{"format": "^([a-z]+_)*[a-z]+$"}');
SELECT bb.set_review_rule('prod', 'naming.index.idx', 'error', '{"format": "^idx_{{table}}_{{column_list}}$"}');
SELECT line, rule, message FROM bb.lint($$CREATE TABLE order_items (id bigint PRIMARY KEY);
CREATE TABLE order__items (id bigint PRIMARY KEY);
CREATE INDEX idx_order_items_id ON order_items (id);
CREATE INDEX idx_other ON order_items (id);$$, 'postgres', 'prod')
 WHERE rule LIKE 'naming.%' ORDER BY line;
-- the review's own findings cannot be configured
SELECT bb.set_review_rule('prod', 'review.check-failed', 'off');
SELECT bb.set_review_rule('prod', 'review.findings-truncated', 'warning');
-- user-supplied names are clipped in errors
SELECT bb.set_review_rule('prod', repeat('r', 1000000), 'error');
SELECT bb.set_review_rule('prod', 'naming.table', repeat('l', 1000000));
SELECT bb.set_review_rule('prod', 'naming.table', 'error', jsonb_build_object(repeat('k', 1000000), 1));
RESET ROLE;
SELECT * FROM bb.lint('SELECT 1', environment => repeat('e', 1000000));
SELECT * FROM bb.lint('SELECT 1', engine => repeat('x', 1000000));

-- 3. an unsafe format stored before validation existed: a check-failed error, never a pass,
--    and a suppression comment cannot hide it
INSERT INTO bb.review_policy (environment_id, rule, level, payload)
SELECT id, r.rule, 'warning', r.payload::jsonb FROM bb.environment,
       (VALUES ('naming.column', '{"format": "(|)(\\1\\1)*"}'),
               ('table.drop-naming-convention', '{"format": "(a+)+$"}')) r(rule, payload)
 WHERE name = 'prod'
ON CONFLICT (environment_id, rule) DO UPDATE SET payload = EXCLUDED.payload;
SET ROLE hostile_dev;
SELECT e.engine, l.line, l.rule, l.level, l.message
  FROM engines e, bb.lint(E'CREATE TABLE aa (bbbbbbbbbbbbbbbbbbbbbbbb int);\nDROP TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaa;', e.engine, 'prod') l
 WHERE l.rule = 'review.check-failed' ORDER BY 1, 2, 5;
SELECT line, rule, level FROM bb.lint(E'-- bb:ignore review.check-failed\nDROP TABLE aaaa;', 'mysql', 'prod')
 WHERE rule LIKE 'review.%' ORDER BY line, rule;
RESET ROLE;
DELETE FROM bb.review_policy;

-- 4. at most bytebase.max_findings findings (superuser setting), then one that counts the rest
SET ROLE hostile_dev;
SET bytebase.max_findings = 1000000;
RESET ROLE;
SET bytebase.max_findings = 5;
SELECT line, rule, level, message FROM bb.lint(repeat(E'DELETE FROM t;\n', 20), 'postgres', 'prod');
SELECT e.engine, count(*) AS findings, max(l.line) AS last_line,
       min(l.message) FILTER (WHERE l.rule = 'review.findings-truncated') AS summary,
       min(l.level) FILTER (WHERE l.rule = 'review.findings-truncated') AS level
  FROM engines e, bb.lint(repeat(E'SELECT * FROM t WHERE a = 1;\n', 20000), e.engine) l
 GROUP BY e.engine ORDER BY 1;
-- honoured suppressions do not count (dev allows suppressions; prod, protected, does not: there
-- the suppressed finding stays, says so, and counts)
SELECT bb.set_review_rule('dev', 'statement.where.require-update-delete', 'error');
SELECT line, rule FROM bb.lint(E'-- bb:ignore statement.where.require-update-delete\nDELETE FROM t;\n' ||
                                repeat(E'SELECT 1;\n', 10) || repeat(E'DELETE FROM u;\n', 6), 'postgres', 'dev')
 ORDER BY line, rule;
SELECT line, rule, message FROM bb.lint(E'-- bb:ignore statement.where.require-update-delete\nDELETE FROM t;\n', 'postgres', 'prod')
 ORDER BY line, rule;
RESET bytebase.max_findings;
-- a 20 MB script with 800,000 findings
SELECT count(*) AS findings, max(line) AS last_line
  FROM bb.lint(repeat(E'UPDATE t SET a = 1;\nDELETE FROM t;\n', 400000), 'mysql');

-- 5. a statement longer than bytebase.review_max_statement_size is not parsed: check-failed
SET bytebase.review_max_statement_size = '64kB';
SELECT e.engine, l.line, l.rule, l.level, l.message
  FROM engines e,
       bb.lint('INSERT INTO t (a) VALUES ' || repeat('(1),', 100000) || E'(1);\nTRUNCATE TABLE t;', e.engine, 'prod') l
 WHERE l.rule IN ('review.check-failed', 'statement.disallow-truncate') ORDER BY 1, 2, 3;
RESET bytebase.review_max_statement_size;
SET ROLE hostile_dev;
SET bytebase.review_max_statement_size = '1GB';
RESET ROLE;

-- 6. a cancel (statement_timeout) stops the review of a 20 MB script in every dialect:
--    SQLSTATE 57014, and the session goes on
CREATE TEMP TABLE big AS
SELECT repeat(E'CREATE TABLE Bad (A int, B int);\nUPDATE t SET a = 1 WHERE b LIKE ''%x'';\n', 250000) AS script;
GRANT SELECT ON big TO hostile_dev;
SET ROLE hostile_dev;
SET statement_timeout = '300ms';
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'postgres');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'mysql');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'tidb');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'clickhouse');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'snowflake');
\echo :LAST_ERROR_SQLSTATE
-- a policy check in an environment too
SELECT count(*) FROM bb.lint((SELECT script FROM big), 'mysql', 'prod');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT count(*) AS findings FROM bb.lint('DELETE FROM t', 'mysql');
RESET ROLE;

-- 7. the caller's lexing settings do not change what is reviewed: with
--    standard_conforming_strings off in the session, 'a\' still ends at the quote the target
--    sees (targets are pinned to on), so the hidden DROP is found; the session keeps its setting
SET ROLE hostile_dev;
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT line, rule, level FROM bb.lint($q$SELECT 'a\';
DROP TABLE victim CASCADE;
SELECT 1;$q$, 'postgres') WHERE level <> 'info' ORDER BY 1, 2;
SHOW standard_conforming_strings;
RESET standard_conforming_strings;
RESET escape_string_warning;
RESET ROLE;

DROP TABLE big, engines;
DROP ROLE hostile_dev;
DROP ROLE hostile_admin;
