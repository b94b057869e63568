-- 35_lint_snowflake: SQL review of Snowflake scripts through bb.lint
-- (every rule is tested in test/unit/review_dialects.c).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', true);

SELECT count(*) >= 8 AS enough_snowflake_rules FROM bb.review_rules
 WHERE 'snowflake' = ANY (engines) AND category <> 'review' AND id <> 'syntax-error';

SELECT * FROM bb.lint($sf$
CREATE OR REPLACE TABLE "Orders" (ID NUMBER, "noteText" VARCHAR);
create table orders_ok (id number primary key, note varchar not null);
UPDATE ORDERS SET NOTE = 'x';
DELETE FROM ORDERS USING OTHER;
SELECT * FROM ORDERS WHERE NOTE ILIKE '%x';
INSERT INTO ORDERS VALUES (1, 'a');
CREATE FUNCTION F() RETURNS NUMBER AS $$ SELECT 1; $$;
TRUNCATE TABLE ORDERS;
DROP TABLE ORDERS;
COMMIT;
$sf$, engine => 'snowflake');

SELECT line, rule, level FROM bb.lint($$CREATE TRANSIENT TABLE t (a NUMBER PRIMARY KEY);
SELECT a FROM t;$$, 'snowflake', 'prod');
SELECT bb.set_review_rule('dev', 'naming.table', 'error', '{"format": "^T_[A-Z]+$"}');
SELECT * FROM bb.lint($$CREATE TABLE t_orders (a NUMBER PRIMARY KEY);
CREATE TABLE orders (a NUMBER PRIMARY KEY);$$, 'snowflake', 'dev') WHERE rule = 'naming.table';

-- bad input
SELECT * FROM bb.lint($$SELECT 1;
CREATE FUNCTION f() RETURNS NUMBER AS $$ || '$$' || $$ SELECT 1;$$, engine => 'snowflake');
