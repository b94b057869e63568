-- sync_instance / test_connection / remote_query without a reachable engine: roles, bad input,
-- engines without a driver, a refused connection; nothing is half-created.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
DROP ROLE IF EXISTS regress_sync_dev;
CREATE ROLE regress_sync_dev IN ROLE bytebase_developer;
RESET client_min_messages;

CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || CASE WHEN hint <> '' THEN ' (' || hint || ')' ELSE '' END;
END $$;

SELECT bb.add_instance('sf-main', 'snowflake', 'example.invalid', 443, 'u', 'secret_pw', verify => false);
SELECT bb.add_instance('my-refused', 'mysql', '127.0.0.1', 1, 'u', 'secret_pw', verify => false);
SELECT bb.add_instance('ch-refused', 'clickhouse', '127.0.0.1', 1, 'u', 'secret_pw', verify => false);

-- bad input
SELECT pg_temp.try($$SELECT bb.sync_instance(NULL)$$);
SELECT pg_temp.try($$SELECT bb.sync_instance('nope')$$);
SELECT pg_temp.try($$SELECT bb.sync_instance('sf-main')$$);
SELECT pg_temp.try($$SELECT bb.remote_query('my-refused', NULL, NULL)$$);
SELECT pg_temp.try($$SELECT bb.test_connection('nope')$$);
-- a refused connection names the instance, never the password
SELECT pg_temp.try($$SELECT bb.sync_instance('my-refused')$$) AS refused_mysql;
SELECT pg_temp.try($$SELECT bb.sync_instance('ch-refused')$$) ~ '^08001: could not connect to instance "ch-refused" \(' AS refused_clickhouse;
SELECT count(*) AS databases_registered FROM bb.database;

-- roles: only bytebase_admin (and superusers); the C bodies are the owner's alone
SET SESSION AUTHORIZATION regress_sync_dev;
SELECT pg_temp.try($$SELECT bb.sync_instance('my-refused')$$);
SELECT pg_temp.try($$SELECT bb.test_connection('my-refused')$$);
SELECT pg_temp.try($$SELECT bb.remote_query('my-refused', NULL, 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT bb._sync_instance_c('my-refused')$$);
RESET SESSION AUTHORIZATION;
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_proc p WHERE p.pronamespace = 'bb'::regnamespace
   AND p.proname IN ('_sync_instance_c', '_test_connection_c', '_remote_query_c',
                     'sync_instance', 'test_connection', 'remote_query')
 ORDER BY 1;

DROP ROLE regress_sync_dev;
