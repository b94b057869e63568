-- Catalog API: environments, instances, projects, databases, groups; bad input and roles.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
-- postgres_fdw servers of instances outlive DROP EXTENSION; start from none
DO $$ DECLARE s name; BEGIN
  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
    EXECUTE format('DROP SERVER %I CASCADE', s);
  END LOOP; END $$;
CREATE EXTENSION bytebase;
RESET client_min_messages;

-- try(sql): runs sql and shows the error as "SQLSTATE: message (hint)", one line per bad input
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || CASE WHEN hint <> '' THEN ' (' || hint || ')' ELSE '' END;
END $$;

-- environments form an ordered pipeline
SELECT bb.create_environment('dev');
SELECT bb.create_environment('staging');
SELECT bb.create_environment('prod', protected => true);
SELECT name, position, protected FROM bb.environments;
SELECT pg_temp.try($$SELECT bb.create_environment('dev')$$);                -- duplicate
SELECT pg_temp.try($$SELECT bb.create_environment(NULL)$$);                 -- NULL name
SELECT pg_temp.try($$SELECT bb.create_environment('bad name')$$);           -- invalid name
SELECT pg_temp.try($$SELECT bb.create_environment('x/y')$$);                -- '/' is reserved for references
SELECT pg_temp.try($$SELECT bb.create_environment('qa', NULL)$$);           -- NULL flag
SELECT count(*) FROM bb.environment;                -- still 3

-- instances: credentials go to a user mapping, never to a view
SELECT bb.add_instance('pg-main', 'postgres', '127.0.0.1', 5433, 'app', 'secret-pw', environment => 'dev', verify => false);
SELECT bb.add_instance('my-main', 'mysql', '127.0.0.1', 3307, 'app', 'secret-pw', verify => false);
SELECT bb.add_instance('ch-main', 'clickhouse', '127.0.0.1', 8124, 'default', NULL, verify => false);
SELECT name, engine, host, port, environment, server_name, databases FROM bb.instances;
SELECT s.srvname, w.fdwname, s.srvoptions
  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
 WHERE s.srvname LIKE 'bytebase\_%' ORDER BY 1;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname LIKE 'bytebase\_%' ORDER BY 1;
SELECT count(*) AS views_showing_password FROM (
  SELECT row_to_json(i)::text AS t FROM bb.instances i
  UNION ALL SELECT row_to_json(d)::text FROM bb.databases d) v WHERE t LIKE '%secret-pw%';

-- bad instances: nothing half-created
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'oracle', '127.0.0.1', 1521)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '127.0.0.1', 0)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '127.0.0.1', 65536)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '127.0.0.1', NULL)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', NULL, '127.0.0.1', 3306)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', NULL, 3306)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '', 3306)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', 'a host', 3306)$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '127.0.0.1', 3306, environment => 'nowhere')$$);
SELECT pg_temp.try($$SELECT bb.add_instance('x1', 'mysql', '127.0.0.1', 3306, options => '[1]')$$);
SELECT pg_temp.try($$SELECT bb.add_instance('pg-main', 'postgres', '127.0.0.1', 5433)$$);
SELECT count(*) AS instances FROM bb.instance;
SELECT count(*) AS servers FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%';

-- projects
SELECT bb.create_project('shop', 'Online shop');
SELECT pg_temp.try($$SELECT bb.create_project('shop')$$);
SELECT pg_temp.try($$SELECT bb.create_project('')$$);
SELECT name, title, databases FROM bb.projects;

-- databases (normally found by bb.sync_instance; inserted here without a network)
INSERT INTO bb.database (instance_id, name, environment_id)
SELECT i.id, n, i.environment_id FROM bb.instance i, unnest(ARRAY['shop_db', 'crm_db']) n
 WHERE i.name = 'pg-main';
SELECT bb.assign_database('pg-main/shop_db', 'shop', 'prod', '{"tenant": "acme"}');
SELECT bb.assign_database('pg-main/crm_db', 'shop');
SELECT ref, project, environment, labels, status FROM bb.databases;
SELECT pg_temp.try($$SELECT bb.assign_database('shop_db', 'shop')$$);                 -- no instance/
SELECT pg_temp.try($$SELECT bb.assign_database('/shop_db', 'shop')$$);
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/', 'shop')$$);
SELECT pg_temp.try($$SELECT bb.assign_database('nope/shop_db', 'shop')$$);            -- unknown instance
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/nope', 'shop')$$);            -- unknown database
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/shop_db', 'nope')$$);         -- unknown project
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/shop_db', NULL)$$);
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/shop_db', 'shop', 'nowhere')$$);
SELECT pg_temp.try($$SELECT bb.assign_database('pg-main/shop_db', 'shop', NULL, '"x"')$$);
SELECT ref, project, environment, labels FROM bb.databases WHERE ref = 'pg-main/shop_db';  -- unchanged

-- database groups
SELECT bb.create_database_group('shop', 'tenants', '{"tenant": "acme"}', '^shop_');
SELECT pg_temp.try($$SELECT bb.create_database_group('shop', 'tenants')$$);
SELECT pg_temp.try($$SELECT bb.create_database_group('nope', 'g')$$);
SELECT pg_temp.try($$SELECT bb.create_database_group('shop', 'g2', NULL)$$);
SELECT pg_temp.try($$SELECT bb.create_database_group('shop', 'g2', '{}', '(unclosed')$$);
SELECT project, name, labels, name_pattern FROM bb.database_groups;

-- roles: developers read status, only admins manage instances or see credentials
CREATE ROLE bb_regress_dev;
GRANT bytebase_developer TO bb_regress_dev;
CREATE ROLE bb_regress_admin;
GRANT bytebase_admin TO bb_regress_admin;
SET SESSION AUTHORIZATION bb_regress_dev;
SELECT pg_temp.try($$SELECT bb.add_instance('x2', 'mysql', '127.0.0.1', 3306)$$);
SELECT pg_temp.try($$SELECT bb.create_environment('x2')$$);
SELECT count(*) FROM bb.databases;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'bytebase_pg-main';
SELECT * FROM pg_catalog.pg_user_mapping;
SELECT name, engine, host, port FROM bb.instance ORDER BY name;  -- addresses, never credentials
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION bb_regress_admin;
SELECT bb.create_environment('qa');
SELECT created_by FROM bb.environment WHERE name = 'qa';
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'bytebase_pg-main';
RESET SESSION AUTHORIZATION;
DROP ROLE bb_regress_dev;
DROP ROLE bb_regress_admin;

-- every table, view and API function carries a comment
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'bb' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'bb' AND obj_description(p.oid, 'pg_proc') IS NULL;

-- CREATE EXTENSION elsewhere than bytebase.database is refused
CREATE DATABASE bb_regress_other;
\c bb_regress_other
\set SHOW_CONTEXT never
CREATE EXTENSION bytebase;
\c bbtest
DROP DATABASE bb_regress_other;
