-- 34_lint_clickhouse: SQL review of ClickHouse scripts through bb.lint
-- (every rule is tested in test/unit/review_dialects.c).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', true);

SELECT count(*) >= 8 AS enough_clickhouse_rules FROM bb.review_rules
 WHERE 'clickhouse' = ANY (engines) AND category <> 'review' AND id <> 'syntax-error';
SELECT id, basic_level, strict_level, payload FROM bb.review_rules
 WHERE id LIKE 'clickhouse.%' ORDER BY id;

SELECT * FROM bb.lint($$
CREATE TABLE Events (id UInt64, note Nullable(String));
CREATE TABLE events2 (id UInt64, d Date) ENGINE = MergeTree PARTITION BY d;
CREATE TABLE events3 (id UInt64, d Date) ENGINE = MergeTree(d, (id), 8192);
ALTER TABLE events2 DELETE WHERE 1;
ALTER TABLE events2 UPDATE note = '' , id = 2;
ALTER TABLE events2 DELETE WHERE id = 1;
OPTIMIZE TABLE events2 FINAL;
SELECT * FROM events2 FINAL;
INSERT INTO events2 VALUES (1, today());
TRUNCATE TABLE events2;
DROP TABLE events2;
$$, engine => 'clickhouse');

-- strict template: more rules are on
SELECT line, rule, level FROM bb.lint($$CREATE TABLE e (id UInt64, note Nullable(String)) ENGINE = Memory;
SELECT id FROM e;
ALTER TABLE e DROP PARTITION 201901;$$, 'clickhouse', 'prod');
SELECT bb.set_review_rule('dev', 'clickhouse.table.engine-allowlist', 'error', '{"list": ["MergeTree"]}');
SELECT * FROM bb.lint('CREATE TABLE e (id UInt64) ENGINE = Log', 'clickhouse', 'dev');

-- bad input
SELECT * FROM bb.lint($$SELECT 1;
SELECT 'open$$, engine => 'clickhouse');
SELECT count(*) AS findings FROM bb.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000), engine => 'clickhouse');
