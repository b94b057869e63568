-- Developer portal (issue 11), the in-database part: the read-only check of bb.query per
-- engine, the masking analysis (what is masked, what is refused), who may query where
-- (projects, query policy, access grants), masking and exemption administration.
-- Statements here never reach a target: the instances point at a closed port, so a check
-- that passed shows up as a connection error (08xxx) and a refusal as its own error.
\set roles '{regress_bb_pt_admin,regress_bb_pt_appr,regress_bb_pt_dev,regress_bb_pt_other}'
\i sql/governance_setup.inc
GRANT bytebase_admin TO regress_bb_pt_admin;
GRANT bytebase_approver TO regress_bb_pt_appr;
GRANT bytebase_developer TO regress_bb_pt_dev, regress_bb_pt_other;
-- state(sql): only the SQLSTATE class of the outcome (connection errors vary in wording)
CREATE FUNCTION pg_temp.state(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
  RETURN CASE WHEN st LIKE '08%' THEN 'reached the connection step' ELSE st END;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text), pg_temp.state(text) TO PUBLIC;

-- 1. the read-only check (PostgreSQL): allowed kinds pass, everything else is refused
SELECT s, pg_temp.try(format('SELECT bb._query_check(%L, %L)', 'postgres', s)) AS outcome
  FROM unnest(ARRAY[
    'SELECT 1',
    'WITH x AS (SELECT 1 AS a) SELECT a FROM x',
    'TABLE t',
    'VALUES (1), (2)',
    'SHOW work_mem',
    'EXPLAIN SELECT * FROM t',
    'EXPLAIN ANALYZE SELECT * FROM t',
    'SELECT 1;',
    'SELECT nextval(''s'')',
    'INSERT INTO t VALUES (1)',
    'UPDATE t SET a = 1',
    'DELETE FROM t',
    'MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE',
    'WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x',
    'WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x',
    'SELECT * FROM (WITH y AS (UPDATE t SET a = 2 RETURNING a) SELECT a FROM y) z',
    'SELECT * FROM t FOR UPDATE',
    'SELECT * FROM t FOR KEY SHARE',
    'SELECT * INTO t2 FROM t',
    'SELECT 1; DELETE FROM t',
    'SELECT 1 /* ; DELETE FROM t */',
    'SELECT 1 -- ; DELETE FROM t',
    E'SELECT 1 --\n; DELETE FROM t',
    'SELECT ''; DELETE FROM t''',
    'SELECT $$;$$; DROP TABLE t',
    'CALL p()',
    'DO $$BEGIN END$$',
    'COPY t TO STDOUT',
    'SET work_mem = ''1GB''',
    'SELECT set_config(''default_transaction_read_only'', ''off'', false)',
    'SELECT pg_catalog.set_config(''a.b'', ''c'', false)',
    'SELECT pg_advisory_lock(1)',
    'SELECT pg_terminate_backend(1)',
    'SELECT query_to_xml(''delete from t'', true, true, '''')',
    'SELECT lo_import(''/etc/passwd'')',
    'SELECT dblink_exec(''x'', ''drop table t'')',
    'EXPLAIN ANALYZE DELETE FROM t',
    'EXPLAIN DELETE FROM t',
    'CREATE TABLE t2 AS SELECT 1',
    'BEGIN',
    'COMMIT',
    'LOCK t',
    'LISTEN x',
    'PREPARE p AS SELECT 1',
    'DECLARE c CURSOR FOR SELECT 1',
    '',
    '   -- only a comment',
    'SELEC 1']) s;

-- standard_conforming_strings off in the caller's session changes nothing: the check parses
-- as the target does (on), so the backslash does not hide the DELETE
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT pg_temp.try(format('SELECT bb._query_check(%L, %L)', 'postgres',
                          'SELECT ''' || chr(92) || '''; DELETE FROM t; --''')) AS backslash;
RESET standard_conforming_strings;
RESET escape_string_warning;

-- 2. the read-only check (MySQL): one SELECT/WITH/SHOW/EXPLAIN/DESCRIBE, no executable comment
SELECT s, pg_temp.try(format('SELECT bb._query_check(%L, %L)', 'mysql', s)) AS outcome
  FROM unnest(ARRAY[
    'SELECT 1',
    'SHOW TABLES',
    'DESCRIBE t',
    'EXPLAIN SELECT * FROM t',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SELECT `update` FROM t',
    'SELECT 1; DELETE FROM t',
    'SELECT 1 /*!50000 ; DELETE FROM t */',
    'SELECT 1 /*! , sleep(10) */',
    'INSERT INTO t VALUES (1)',
    'SELECT * FROM t FOR UPDATE',
    'SELECT * FROM t LOCK IN SHARE MODE',
    'SELECT * FROM t INTO OUTFILE ''/tmp/x''',
    'SELECT a INTO @v FROM t',
    'SELECT LOAD_FILE(''/etc/passwd'')',
    'SELECT GET_LOCK(''x'', 1)',
    'SELECT SLEEP(100)',
    'WITH x AS (SELECT 1) DELETE FROM t',
    'SET SESSION transaction_read_only = 0',
    'CALL p()',
    'SELECT ''unterminated',
    '# only a comment']) s;

-- 3. masking analysis on a snapshot: public.customer(id, email, name, phone) with email
--    partial, phone hash; public.orders(id, customer_id, total, email) with email full
\set rules '{public,customer,email,partial, public,customer,phone,hash, public,orders,email,full, public,orders,total,none}'
\set cols '{public,customer,id, public,customer,email, public,customer,name, public,customer,phone, public,orders,id, public,orders,customer_id, public,orders,total, public,orders,email, other,client,secret}'
CREATE TEMP TABLE mk AS SELECT :'rules'::text[] AS rules, :'cols'::text[] AS cols;
CREATE FUNCTION pg_temp.mask(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; r jsonb;
BEGIN
  SELECT bb._query_check('postgres', sql, mk.rules, mk.cols) INTO r FROM pg_temp.mk;
  RETURN (SELECT coalesce(string_agg(format('%s:%s', coalesce(c ->> 'name', '?'), c ->> 'masking'), ' ' ORDER BY i), '(no columns)')
            FROM jsonb_array_elements(r) WITH ORDINALITY AS e(c, i));
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
SELECT s, pg_temp.mask(s) AS columns
  FROM unnest(ARRAY[
    -- plain columns keep their algorithm, through aliases, qualified names, *, subqueries, CTEs
    'SELECT id, email, name, phone FROM customer',
    'SELECT c.email AS mail, c.name FROM public.customer c',
    'SELECT * FROM customer',
    'SELECT c.* FROM customer c',
    'SELECT m FROM (SELECT email AS m FROM customer) s',
    'SELECT x.a FROM (SELECT email FROM customer) x(a)',
    'WITH w AS (SELECT phone FROM customer) SELECT phone AS p FROM w',
    'WITH w(q) AS (SELECT email FROM customer) SELECT * FROM w',
    -- expressions over masked columns are masked in full
    'SELECT lower(email), length(phone), id + 1 AS next FROM customer',
    'SELECT email || name AS both FROM customer',
    'SELECT CASE WHEN email LIKE ''a%'' THEN 1 ELSE 0 END AS flag FROM customer',
    'SELECT substr(email, 1, 3) AS head FROM customer',
    'SELECT email::varchar AS e FROM customer',
    'SELECT (SELECT max(email) FROM customer) AS top',
    'SELECT count(*) AS n, max(email) AS m FROM customer',
    'SELECT row_to_json(c) AS j FROM customer c',
    'SELECT c AS whole FROM customer c',
    'SELECT to_jsonb(c.*) AS j FROM customer c',
    'SELECT string_agg(email, '','') AS all_mails FROM customer',
    -- joins: * merges USING columns; each side keeps its masking
    'SELECT * FROM customer c JOIN orders o ON o.customer_id = c.id',
    'SELECT * FROM customer JOIN orders USING (id)',
    'SELECT o.email, c.email FROM orders o, customer c WHERE o.customer_id = c.id',
    'SELECT j.email FROM (customer JOIN orders o ON o.customer_id = customer.id) AS j(a, email)',
    'SELECT total FROM orders',
    'SELECT secret FROM other.client',
    'SELECT email FROM customer UNION ALL SELECT email FROM orders',
    'SELECT 1 AS one',
    'VALUES (1, ''x'')',
    'EXPLAIN SELECT email FROM customer',
    'SHOW work_mem',
    -- refused: the masked value would decide which rows come back
    'SELECT id FROM customer WHERE email = ''a@b.c''',
    'SELECT id FROM customer WHERE lower(email) LIKE ''a%''',
    'SELECT id FROM customer ORDER BY email',
    'SELECT email AS e FROM customer ORDER BY e',
    'SELECT email FROM customer ORDER BY 1',
    'SELECT count(*) FROM customer GROUP BY phone',
    'SELECT email, count(*) FROM customer GROUP BY 1',
    'SELECT count(*) FROM customer HAVING max(email) > ''m''',
    'SELECT c.id FROM customer c JOIN orders o ON o.email = c.email',
    'SELECT id FROM customer JOIN orders USING (email)',
    'SELECT id FROM customer NATURAL JOIN orders',
    'SELECT DISTINCT email FROM customer',
    'SELECT DISTINCT ON (email) id FROM customer',
    'SELECT row_number() OVER (ORDER BY email) AS r FROM customer',
    'SELECT rank() OVER (PARTITION BY phone) AS r FROM customer',
    'SELECT string_agg(name, '','' ORDER BY email) AS s FROM customer',
    'SELECT count(*) FILTER (WHERE email LIKE ''a%'') AS n FROM customer',
    'SELECT id FROM customer WHERE id IN (SELECT customer_id FROM orders WHERE email LIKE ''x%'')',
    'SELECT id FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.email = c.email)',
    'SELECT id FROM customer WHERE email IN (SELECT ''guess@x'')',
    'SELECT m FROM (SELECT email AS m FROM customer) s WHERE m = ''x''',
    'WITH w AS (SELECT email AS e FROM customer) SELECT 1 FROM w WHERE e > ''m''',
    'SELECT email FROM customer INTERSECT SELECT ''guess@x''',
    'SELECT email FROM customer UNION SELECT ''guess@x''',
    'SELECT email FROM customer EXCEPT SELECT ''guess@x''',
    'SELECT id FROM customer LIMIT (SELECT length(max(email)) FROM customer)',
    'EXPLAIN ANALYZE SELECT id FROM customer WHERE email = ''x''',
    -- refused: origins that cannot be told (fail-closed)
    'SELECT * FROM v_customer',
    'SELECT * FROM pg_stats',
    'SELECT * FROM pg_catalog.pg_statistic',
    'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r',
    'SELECT nosuch FROM customer',
    'SELECT id FROM customer WHERE nosuch = 1',
    'SELECT * FROM generate_series(1, 3) g',
    'SELECT g.* FROM generate_series(1, 3) g']) s;

-- 4. who may query where: projects, the environments' query policy, access grants
SELECT bb.create_environment('dev'), bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pg-x', 'postgres', '127.0.0.1', 1, 'app', 'pw', 'dev', verify => false),
       bb.add_instance('my-x', 'mysql', '127.0.0.1', 1, 'app', 'pw', 'dev', verify => false),
       bb.add_instance('ch-x', 'clickhouse', '127.0.0.1', 1, 'app', 'pw', 'dev', verify => false);
SELECT bb.create_project('shop'), bb.create_project('other');
SELECT bb.grant_project('shop', 'regress_bb_pt_dev'), bb.grant_project('other', 'regress_bb_pt_other');
INSERT INTO bb.database (instance_id, name, project_id, environment_id)
SELECT bb._instance_id(i), d, bb._project_id(p), bb._environment_id(e)
  FROM (VALUES ('pg-x', 'shop_dev', 'shop', 'dev'), ('pg-x', 'shop_prod', 'shop', 'prod'),
               ('my-x', 'shop_my', 'shop', 'dev'), ('ch-x', 'shop_ch', 'shop', 'dev'),
               ('pg-x', 'other_dev', 'other', 'dev')) v(i, d, p, e);

SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.state($$SELECT * FROM bb.query('pg-x/shop_dev', 'SELECT 1')$$) AS own_dev;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_dev', 'DELETE FROM t')$$) AS write_refused_before_connecting;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/other_dev', 'SELECT 1')$$) AS other_project;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_prod', 'SELECT 1')$$) AS protected_needs_grant;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/nosuch', 'SELECT 1')$$) AS unknown_database;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_dev', NULL)$$) AS null_statement;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_dev', 'SELECT 1', 0)$$) AS zero_rows;
SELECT pg_temp.state($$SELECT * FROM bb.query('ch-x/shop_ch', 'SELECT 1')$$) AS clickhouse;
SELECT s, pg_temp.try(format('SELECT bb._query_check(%L, %L)', 'clickhouse', s)) AS outcome
  FROM unnest(ARRAY['SELECT 1', 'SHOW TABLES', 'DESCRIBE t', 'EXISTS t', 'INSERT INTO t VALUES (1)',
                    'SELECT 1; DROP TABLE t', 'SELECT * FROM t INTO OUTFILE ''x''', 'SELECT 1 SETTINGS readonly = 0',
                    'SELECT * FROM url(''http://x'', CSV, ''a int'')', 'ALTER TABLE t DELETE WHERE 1',
                    'SYSTEM SHUTDOWN', 'SELECT ''unterminated']) s;
SELECT pg_temp.state($$SELECT * FROM bb.query('my-x/shop_my', 'SELECT 1')$$) AS mysql_dev;
SELECT pg_temp.try($$SELECT * FROM bb.query('my-x/shop_my', 'SELECT 1; DROP TABLE t')$$) AS mysql_two_statements;
-- export: same checks, its own formats
SELECT pg_temp.try($$SELECT bb.export('pg-x/shop_dev', 'SELECT 1', 'xlsx')$$) AS bad_format;
SELECT pg_temp.try($$SELECT bb.export('pg-x/shop_dev', 'DELETE FROM t')$$) AS export_write;
SELECT pg_temp.try($$SELECT bb.export('pg-x/other_dev', 'SELECT 1', 'json')$$) AS export_other_project;
SELECT pg_temp.state($$SELECT bb.export('pg-x/shop_dev', 'SELECT 1', 'sql')$$) AS export_own;
SELECT v, bb._csv_field(v) FROM unnest(ARRAY['plain', 'a,b', 'say "hi"', E'two\nlines', '', NULL]) v;
-- access requests
SELECT pg_temp.try($$SELECT bb.request_access('pg-x/other_dev', 'debug', '1 hour')$$) AS other_project_request;
SELECT pg_temp.try($$SELECT bb.request_access('pg-x/shop_prod', '', '1 hour')$$) AS no_reason;
SELECT pg_temp.try($$SELECT bb.request_access('pg-x/shop_prod', 'debug', '0')$$) AS zero_duration;
SELECT pg_temp.try($$SELECT bb.request_access('pg-x/shop_prod', 'debug', '31 days')$$) AS too_long;
SELECT bb.request_access('pg-x/shop_prod', 'incident 42', '2 hours') AS req \gset
SELECT bb.request_access('pg-x/shop_prod', 'incident 43', '1 hour') AS req2 \gset
SELECT pg_temp.try(format('SELECT bb.grant_access(%s)', :req)) AS developer_grants;
SELECT database, requested_by, reason, duration, status FROM bb.access_grants ORDER BY id;
RESET SESSION AUTHORIZATION;

-- an approver who also requested cannot grant their own request
SET SESSION AUTHORIZATION regress_bb_pt_appr;
SELECT pg_temp.try($$SELECT bb.grant_access(bb.request_access('pg-x/shop_prod', 'mine', '1 hour'))$$) AS approver_self_grant;
RESET SESSION AUTHORIZATION;
SELECT bb.grant_project('shop', 'regress_bb_pt_appr');
SET SESSION AUTHORIZATION regress_bb_pt_appr;
SELECT bb.request_access('pg-x/shop_prod', 'mine', '1 hour') AS req_appr \gset
SELECT pg_temp.try(format('SELECT bb.grant_access(%s)', :req_appr)) AS approver_self_grant;
SELECT pg_temp.try(format('SELECT bb.grant_access(%s) > now()', :req)) AS approver_grants;
SELECT pg_temp.try(format('SELECT bb.grant_access(%s)', :req)) AS granted_twice;
SELECT pg_temp.try('SELECT bb.grant_access(999999)') AS unknown_request;
SELECT pg_temp.try(format('SELECT bb.revoke_access(%s)', :req2)) AS refuse_pending;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.state($$SELECT * FROM bb.query('pg-x/shop_prod', 'SELECT 1')$$) AS with_grant;
SELECT id = :req AS mine, status, granted_by FROM bb.access_grants ORDER BY id;
RESET SESSION AUTHORIZATION;
-- an expired grant stops working
UPDATE bb.access_request SET expires_at = now() - interval '1 second' WHERE id = :req;
SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_prod', 'SELECT 1')$$) AS expired_grant;
SELECT status FROM bb.access_grants WHERE id = :req;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_other;
SELECT count(*) AS others_see_no_grants FROM bb.access_grants;
RESET SESSION AUTHORIZATION;

-- query policy (admins): denied, grant, allowed and caps
SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.try($$SELECT bb.set_query_policy('dev', 'denied')$$) AS developer_sets_policy;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_admin;
SELECT pg_temp.try($$SELECT bb.set_query_policy('dev', 'sometimes')$$) AS bad_access;
SELECT pg_temp.try($$SELECT bb.set_query_policy('dev', 'allowed', max_rows => 0)$$) AS bad_rows;
SELECT pg_temp.try($$SELECT bb.set_query_policy('nosuch', 'allowed')$$) AS bad_environment;
SELECT bb.set_query_policy('dev', 'denied');
SELECT pg_temp.state($$SELECT * FROM bb.query('pg-x/shop_dev', 'SELECT 1')$$) AS admin_anywhere;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.try($$SELECT * FROM bb.query('pg-x/shop_dev', 'SELECT 1')$$) AS denied_env;
RESET SESSION AUTHORIZATION;
SELECT bb.set_query_policy('dev', 'allowed', max_rows => 5000, timeout => '5 s');
SELECT e.name, p.access, p.max_rows, p.max_bytes, p.timeout FROM bb.query_policy p JOIN bb.environment e ON e.id = p.environment_id;
SELECT * FROM bb._query_policy(bb._database_id('pg-x/shop_prod'));

-- 5. masking administration
SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT pg_temp.try($$SELECT bb.set_column_masking('pg-x/shop_dev', 'public.customer.email', 'full')$$) AS developer_masks;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_admin;
SELECT pg_temp.try($$SELECT bb.set_column_masking('pg-x/shop_dev', 'customer.email', 'full')$$) AS two_parts;
SELECT pg_temp.try($$SELECT bb.set_column_masking('pg-x/shop_dev', 'public.customer.email', 'rot13')$$) AS bad_algorithm;
SELECT pg_temp.try($$SELECT bb.set_column_masking('pg-x/shop_dev', 'public."a.b".email', 'hash')$$) AS quoted;
SELECT bb.set_column_masking('pg-x/shop_dev', 'public.customer.email', 'partial');
SELECT bb.set_column_masking('pg-x/shop_dev', 'public.customer.email', 'full');
SELECT pg_temp.try($$SELECT bb.grant_masking_exemption('pg-x/shop_dev', 'nosuch_role')$$) AS unknown_role;
SELECT bb.grant_masking_exemption('pg-x/shop_dev', 'regress_bb_pt_appr');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_dev;
SELECT database, schema_name, table_name, column_name, algorithm, set_by FROM bb.column_maskings ORDER BY 1, 2, 3, 4;
SELECT database, role FROM bb.masking_exemptions;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_pt_other;
SELECT count(*) AS other_project_sees_no_masking FROM bb.column_maskings;
RESET SESSION AUTHORIZATION;
SELECT "function", arguments, outcome FROM bb.audit_log
 WHERE "function" IN ('set_column_masking', 'grant_masking_exemption', 'grant_access') AND outcome = 'ok' ORDER BY id;

\i sql/governance_teardown.inc
