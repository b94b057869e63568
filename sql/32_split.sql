-- 32_split: statement splitting, exact lines, and bad input that must give
-- findings (never an exception, never a crash).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;

-- empty script, only comments
SELECT count(*) FROM bb.lint('');
SELECT count(*) FROM bb.lint(E'   -- nothing here\n/* nor /* here */ */\n');

-- semicolons inside quotes, dollar quotes, E'' strings, nested comments and
-- quoted identifiers do not split; each finding is on its statement's line
SELECT line, rule FROM bb.lint($q$SELECT 'a;b' AS x;
SELECT $tag$ ; $tag$;
SELECT E'it\'s;'; /* c ; /* nested ; */ */
UPDATE "we;ird" SET a = 1;
  -- comment ;
    DELETE FROM t
    ;
SELECT "a""b" FROM t WHERE a = 1; UPDATE t SET b = 2$q$);

-- BEGIN ATOMIC bodies stay one statement
SELECT line, rule FROM bb.lint($q$CREATE FUNCTION f() RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT 1;
  SELECT CASE WHEN true THEN 2 END;
END;
DELETE FROM t;$q$);

-- the splitter itself, per dialect: line and column (bytes) of each statement's first token
SELECT * FROM bb.split_statements($q$  SELECT 1; SELECT 'it''s;' ;
/* a /* nested; */ comment */ SELECT E'\';', "x;y", $f$;$f$, $1 FROM t;;
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
SELECT 2 -- trailing; comment
$q$);
SELECT * FROM bb.split_statements(E'DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND//\nDELIMITER ;\n  SELECT `a;b` # c\n; /*!40101 SET x=1 */;\n'
  'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF 1 THEN SET @a = 1; END IF; END;\n'
  'SELECT "x;\\"y" -- c\n, 1;--not a comment;\nCREATE TABLE t (event int, begin int);', 'mysql');
SELECT * FROM bb.split_statements(E'DELIMITER\nSELECT 1;\nDELIMITER a b\nSELECT 2;', 'tidb');
SELECT * FROM bb.split_statements(E'SELECT \'a\\\';\' FROM t; -- c;\nALTER TABLE t DELETE WHERE `x;` = "y;";\n/* c; */ SELECT 1', 'clickhouse');
SELECT * FROM bb.split_statements(E'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$;\n// c;\nSELECT \'a;\', "b;" FROM t; -- c;\nSELECT 3', 'snowflake');
SELECT * FROM bb.split_statements('SELECT 1', 'oracle');

-- unterminated quote, dollar quote, comment: a finding at the statement's line
SELECT * FROM bb.lint(E'SELECT 1;\nSELECT \'abc;\nSELECT 2;');
SELECT * FROM bb.lint(E'SELECT 1;\n\nSELECT $x$ abc');
SELECT * FROM bb.lint(E'UPDATE t SET a = 1 WHERE b = 2;\n/* open');
SELECT * FROM bb.lint(E'SELECT "abc');

-- a syntax error does not stop the review; its line is exact
SELECT * FROM bb.lint(E'SELECT 1;\nCREATE TABLE x (\n  a bigint,\n  b in t\n);\nDELETE FROM t;');

-- other dialects: unterminated constructs and DELIMITER misuse
SELECT line, rule, message FROM bb.lint(E'SELECT 1;\nSELECT `abc', 'mysql') WHERE rule = 'syntax-error';
SELECT line, rule, message FROM bb.lint(E'SELECT 1;\nDELIMITER\nSELECT 2;', 'mysql') WHERE rule = 'syntax-error';
SELECT line, rule, message FROM bb.lint(E'SELECT 1;\n/* x', 'clickhouse') WHERE rule = 'syntax-error';
SELECT line, rule, message FROM bb.lint(E'SELECT 1;\nSELECT $$ x', 'snowflake') WHERE rule = 'syntax-error';
SELECT line, rule, message FROM bb.lint(E'SELECT 1;\nSELECT \'x', 'tidb') WHERE rule = 'syntax-error';

-- control characters and other binary-looking text
SELECT rule, count(*) FROM bb.lint(E'\x01\x02\x03 SELECT \x7f;\x1b[0m;\x08') GROUP BY rule;

-- deeply nested parentheses: a finding, no stack overflow
SELECT rule, left(message, 30) AS message
  FROM bb.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000));
SELECT rule, left(message, 30) AS message
  FROM bb.lint('UPDATE t SET a = ' || repeat('(1+', 3000) || '1' || repeat(')', 3000) || ' WHERE b = 1');

-- every engine survives garbage and deep nesting (findings vary by engine: count only)
SELECT e AS engine,
       (SELECT count(*) >= 0 FROM bb.lint(E'\x01\x02\x03 SELECT \x7f;\x1b[0m;\x08 \\ '' ` " # -- /*', e)) AS garbage_ok,
       (SELECT count(*) >= 0 FROM bb.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000), e)) AS nesting_ok
  FROM unnest(ARRAY['postgres', 'mysql', 'tidb', 'clickhouse', 'snowflake']) e;

-- a 10 MB script (every finding kept: past bytebase.max_findings only a count would be)
SET bytebase.max_findings = 500000;
SELECT count(*), min(line), max(line) FROM bb.lint(repeat(E'UPDATE t SET a = 1;\n', 500000));
RESET bytebase.max_findings;
