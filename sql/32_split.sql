-- 32_split: statement splitting, exact lines, and bad input that must give
-- findings (never an exception, never a crash).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
-- bb._split_check(statement, engine): NULL when the split is certain, else
-- "line N: reason".
-- a script's statements (line:column text, \r \n \v shown escaped, [error]) and the verdict
CREATE FUNCTION pg_temp.cut(script text, engine text DEFAULT 'postgres')
RETURNS TABLE (statements text, verdict text) LANGUAGE sql AS $f$
  SELECT (SELECT string_agg(format('%s:%s %s%s', s.line, s.col,
                   replace(replace(replace(s.sql, E'\r', '\r'), E'\n', '\n'), chr(11), '\v'),
                   CASE WHEN s.error IS NULL THEN ''
                        WHEN s.error LIKE 'uncertain%' THEN ' [uncertain]'
                        ELSE ' [' || s.error || ']' END), ' | ' ORDER BY s.o)
            FROM bb.split_statements(script, engine) WITH ORDINALITY s(line, col, sql, error, o)),
         bb._split_check(script, engine)
$f$;

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

-- ==== every lexical rule, per dialect, as the engine's own scanner reads it ====
\x on
-- PostgreSQL (scan.l): "--" ends at \r as well as \n.  This script used to lint
-- as one statement while the server ran the hidden COMMIT and DROP.
SELECT * FROM pg_temp.cut(E'SELECT 1; -- x\rCOMMIT; DROP TABLE victim;\n');
SELECT line, rule FROM bb.lint(E'SELECT 1; -- x\rDELETE FROM victim;\n');
-- an operator stops where "--" or slash-star starts; comments nest
SELECT * FROM pg_temp.cut(E'SELECT 1 +-- c;\n+ 2; SELECT 2 */* c; /* d; */ */ 3; SELECT 4 */ 5');
-- a$b$ is one name, $1 a parameter, then $x$ opens a dollar quote; 1$a$ is 1 and a quote
SELECT * FROM pg_temp.cut('SELECT a$b$ ; SELECT $1$x$ ; $x$ ; SELECT 1$a$ ; $a$; SELECT $$;$$');
-- E'' has backslash escapes (also in its continuation after a newline); '' has
-- none: standard_conforming_strings is on (the executor pins it at connect)
SELECT * FROM pg_temp.cut($q$SELECT E'\''; SELECT 'a\'; SELECT E'a'
'\'; x'; SELECT 2$q$);
SELECT * FROM pg_temp.cut($q$SELECT U&'a;b', U&"c;""d", B'0;1', X'F;F', N'x;''y', "e;f"; SELECT 2$q$);
-- \v is not white space for PostgreSQL 15 (the server reports a syntax error)
SELECT * FROM pg_temp.cut('SELECT 1' || chr(11) || '; SELECT 2');
-- BEGIN ATOMIC bodies keep their ';' (the grammar confirms each one); END after
-- AS, '.' or an expression is a name
SELECT * FROM pg_temp.cut($q$CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS end;
  SELECT CASE WHEN true THEN 2 END end; END; SELECT 3; CREATE TABLE begin (atomic int)$q$);
SELECT * FROM pg_temp.cut($q$CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; oops; END; SELECT 2$q$);
-- lexical errors of the server's scanner make the split uncertain
SELECT * FROM pg_temp.cut($q$SELECT 1; SELECT 'abc$q$);
SELECT * FROM pg_temp.cut($q$SELECT 1; SELECT 1abc$q$);
SELECT * FROM pg_temp.cut($q$SELECT 1; SELECT "" FROM t$q$);
SELECT * FROM pg_temp.cut($q$SELECT 1;
SELECT E'\xff'$q$);
SELECT * FROM pg_temp.cut($q$SELECT E'\uD800'$q$);
-- settings that change how later statements are read
SELECT * FROM pg_temp.cut($q$SET standard_conforming_strings = off; SELECT 'a\'; DROP TABLE t; --'$q$);
SELECT * FROM pg_temp.cut($q$SET standard_conforming_strings = on; SET client_encoding TO 'UTF8'; SET NAMES 'SJIS'$q$);
-- the session's own settings do not change the verdict
SET standard_conforming_strings = off;
SET backslash_quote = off;
SELECT bb._split_check($q$SELECT 'a\'; SELECT E'\''; CREATE FUNCTION f() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT 'a\'; END$q$, 'postgres') AS verdict;
RESET standard_conforming_strings;
RESET backslash_quote;

-- MySQL 8 / MariaDB 10.11 (sql_lex.cc): "-- " needs white space or a control byte,
-- ends at \n only; # comments; comments do not nest
SELECT * FROM pg_temp.cut(E'SELECT 1 -- x\rDROP TABLE t;\nSELECT 2; SELECT 3--x; SELECT 4 --\x01x; y\n; SELECT 5 # c; d\n', 'mysql');
SELECT * FROM pg_temp.cut(E'SELECT 1 --\u00e9; SELECT 1e-- x; y\n; SELECT 1 /* a /* b; */ c', 'mysql');
-- strings with backslash escapes and doubled quotes, "" strings, `` doubling only
SELECT * FROM pg_temp.cut($q$SELECT 'a\';b', "c\";d", 'e'';f', `g``;h`, `i\`; SELECT 2$q$, 'mysql');
-- executable comments are code; a versioned one runs only on some servers:
-- this UPDATE updates every row on MySQL 8, so it is uncertain
SELECT * FROM pg_temp.cut('UPDATE t SET a=1 /*!99999 WHERE id=1 */', 'mysql');
SELECT line, rule, message FROM bb.lint('UPDATE t SET a=1 /*!99999 WHERE id=1 */', 'mysql');
SELECT * FROM pg_temp.cut('/*!40101 SET NAMES utf8mb4 */; SELECT 1 /*! , 2 */; SELECT 1 /*!50700 , 2 */; SELECT 1 /*!100000 , 2 */', 'mysql');
SELECT * FROM pg_temp.cut('SELECT 1 /*M!100000 , 2 */; SELECT 1 /*T! , 2 */; SELECT /*+ SET_VAR(x = ''y'') */ 3', 'mysql');
SELECT * FROM pg_temp.cut(E'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 2', 'mysql');
SELECT * FROM pg_temp.cut('SET sql_mode = ''ANSI_QUOTES''; SET NAMES sjis; SET NAMES utf8mb4', 'mysql');
SELECT * FROM pg_temp.cut('SELECT 1; SELECT `a', 'mysql');
-- TiDB (lexer.go): /*! always runs, /*T![feature] runs when TiDB knows the feature, /*M! is a comment
SELECT * FROM pg_temp.cut('SELECT 1 /*!99999 , 2 */; SELECT 1 /*T![clustered_index] , 2 */; SELECT 1 /*T![x_y] , 2 */; SELECT 1 /*M! , 2 */', 'tidb');

-- ClickHouse (Lexer.cpp, 18.16 and current): -- and // to \n, '# ' comments,
-- backslash escapes in every quote, heredocs; nested comments differ by version
SELECT * FROM pg_temp.cut(E'SELECT 1 -- x\r; y\n; SELECT 2 // c; d\n; SELECT 3 # e; f\n; SELECT 4', 'clickhouse');
SELECT * FROM pg_temp.cut($q$SELECT `a\`;b`, "c\";d", 'e\';f'; SELECT $h$;$h$; SELECT 1 /* a /* b */ c */$q$, 'clickhouse');
SELECT * FROM pg_temp.cut($q$SELECT 1; SELECT 'a$q$, 'clickhouse');

-- Snowflake (documentation): -- and // comments, $$ strings, '' with backslashes, "" names
SELECT * FROM pg_temp.cut($q$SELECT $$a;b$$; // c;
SELECT 'x\';y', "a""b;"; SELECT 1 -- c$q$ || E'\r' || $q$SELECT 2;
SELECT 3$q$, 'snowflake');
\x off

-- _split_check never fails on odd input: NULL, control bytes, deep nesting, 10 MB
SELECT bb._split_check(NULL, 'postgres') IS NULL AS null_is_certain;
SELECT e AS engine,
       bb._split_check(E'\x01\x02\x03 SELECT \x7f;\x1b[0m;\x08 \\ '' ` " # -- /*', e) IS NOT NULL AS garbage_uncertain,
       bb._split_check('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000), e) AS deep
  FROM unnest(ARRAY['postgres', 'mysql', 'tidb', 'clickhouse', 'snowflake']) e;
SELECT bb._split_check(repeat(E'UPDATE t SET a = 1;\n', 500000), 'postgres') AS ten_mb;
SELECT bb._split_check(repeat(E'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n', 20000), 'postgres') AS bodies;
SELECT bb._split_check('SELECT 1', 'oracle');
