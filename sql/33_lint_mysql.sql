-- 33_lint_mysql: SQL review of MySQL/TiDB scripts through bb.lint (the
-- parser and rules are tested rule by rule in test/unit/review_dialects.c).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', true);

-- the catalog
SELECT count(*) >= 40 AS enough_mysql_rules FROM bb.review_rules
 WHERE 'mysql' = ANY (engines) AND category <> 'review' AND id <> 'syntax-error';
SELECT count(*) >= 4 AS tidb_rules FROM bb.review_rules WHERE id LIKE 'tidb.%' AND engines = '{tidb}';

-- the issue's example
SELECT * FROM bb.lint('ALTER TABLE t ADD COLUMN c INT FIRST', engine => 'mysql');

-- a representative migration: basic template (no environment)
SELECT * FROM bb.lint($$
CREATE TABLE Orders (
  id bigint AUTO_INCREMENT,
  note varchar(5000),
  created_at datetime NOT NULL
) ENGINE=MyISAM DEFAULT CHARSET=latin1;
CREATE INDEX orders_note ON Orders (note);
ALTER TABLE Orders ADD COLUMN amount decimal(10,2) NOT NULL DEFAULT 0 AFTER id;
ALTER TABLE Orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id)
  REFERENCES customer (id) ON DELETE CASCADE;
INSERT INTO Orders VALUES (1, 'x', NOW());
UPDATE Orders SET note = 'y' LIMIT 10;
DELETE FROM Orders;
SELECT * FROM Orders WHERE note LIKE '%y' ORDER BY RAND();
TRUNCATE TABLE Orders;
DROP TABLE Orders;
COMMIT;
$$, engine => 'mysql');

-- the same script line by line in the strict template: more rules, higher levels
SELECT line, rule, level FROM bb.lint($$CREATE TABLE orders (id bigint unsigned AUTO_INCREMENT PRIMARY KEY, note text);
SELECT id FROM orders;
CREATE VIEW v AS SELECT id FROM orders;$$, 'mysql', 'prod');

-- policies per environment
SELECT bb.set_review_rule('dev', 'column.disallow-changing-order', 'off');
SELECT * FROM bb.lint('ALTER TABLE t ADD COLUMN c INT FIRST', 'mysql', 'dev') WHERE rule LIKE 'column.%';
SELECT * FROM bb.lint('ALTER TABLE t ADD COLUMN c INT FIRST', 'mysql', 'prod') WHERE rule LIKE 'column.%';
SELECT bb.set_review_rule('dev', 'naming.index.idx', 'error', '{"format": "^ix_{{table}}_{{column_list}}$"}');
SELECT * FROM bb.lint($$CREATE INDEX ix_orders_a_b ON orders (a, b);
CREATE INDEX idx_orders_a ON orders (a);$$, 'mysql', 'dev') WHERE rule LIKE 'naming.%';
SELECT bb.set_review_rule('dev', 'statement.insert.row-limit', 'error', '{"number": 2}');
SELECT * FROM bb.lint('INSERT INTO t (a) VALUES (1), (2), (3)', 'mysql', 'dev');

-- TiDB: its own rules, and TiDB feature comments are read
SELECT * FROM bb.lint($$CREATE TABLE t1 (id int AUTO_RANDOM PRIMARY KEY);
CREATE TABLE t2 (id bigint unsigned AUTO_INCREMENT, PRIMARY KEY (id) /*T![clustered_index] CLUSTERED */);
CREATE TABLE t3 (a int) PRE_SPLIT_REGIONS = 2;$$, engine => 'tidb') WHERE rule LIKE 'tidb.%';
-- ... which MySQL does not have
SELECT count(*) AS tidb_findings_for_mysql FROM bb.lint('CREATE TABLE t1 (id int AUTO_RANDOM PRIMARY KEY)', engine => 'mysql')
 WHERE rule LIKE 'tidb.%';

-- DELIMITER and stored programs: the body stays one statement
SELECT * FROM bb.lint($$DELIMITER //
CREATE PROCEDURE p()
BEGIN
  UPDATE t SET a = 1;
END //
DELIMITER ;
UPDATE t SET a = 2;$$, 'mysql', 'prod') WHERE rule <> 'statement.merge-alter-table';

-- bad input: a finding, never an exception; the rest is still checked
SELECT * FROM bb.lint($$CREATE TABLE (;
UPDATE t SET a = 1;
ALTER TABLE t ADD COLUMN a int BOGUS;$$, engine => 'mysql');
SELECT * FROM bb.lint($$DELIMITER
UPDATE t SET a = 1;$$, engine => 'mysql');
SELECT * FROM bb.lint('SELECT ''unterminated', engine => 'mysql');
SELECT * FROM bb.lint('/* unterminated', engine => 'mysql');
SELECT * FROM bb.lint('', engine => 'mysql');
SELECT * FROM bb.lint('-- only a comment', engine => 'mysql');
SELECT line, rule FROM bb.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000), engine => 'mysql');
-- 50,000 findings: bytebase.max_findings (1000) are shown, one more counts the rest
SELECT count(*) AS findings, max(line) AS last_line,
       min(message) FILTER (WHERE rule = 'review.findings-truncated') AS summary
  FROM bb.lint(repeat(E'UPDATE t SET a = 1;\n', 50000), engine => 'mysql');
SELECT count(*) >= 0 AS survived FROM bb.lint(E'\x01\x02\x7f SELECT * FROM \x03', engine => 'mysql');
SELECT * FROM bb.lint('SELECT 1', engine => 'oracle');
