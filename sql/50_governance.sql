-- Governance: alter/drop instances, drop projects and environments, alter/drop/preview
-- database groups; every bad input's error and nothing half-done, as the roles that call them.
\set roles '{regress_bb_gov_admin,regress_bb_gov_appr,regress_bb_gov_dev,regress_bb_gov_out}'
\i sql/governance_setup.inc
GRANT bytebase_admin TO regress_bb_gov_admin;
GRANT bytebase_approver TO regress_bb_gov_appr;
GRANT bytebase_developer TO regress_bb_gov_dev, regress_bb_gov_out;

-- the catalog these tests change (hosts are fake: verify => false)
SELECT bb.create_environment('dev'), bb.create_environment('qa'), bb.create_environment('staging'),
       bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pg-a', 'postgres', '127.0.0.1', 5432, 'app', 'old-pw', 'dev', verify => false),
       bb.add_instance('my-a', 'mysql', '127.0.0.1', 3306, 'app', 'my-pw', 'prod', verify => false),
       bb.add_instance('my-b', 'mysql', '127.0.0.1', 3307, 'app', 'my-pw', 'prod', verify => false),
       bb.add_instance('ch-a', 'clickhouse', '127.0.0.1', 8123, 'default', NULL, verify => false);
SELECT bb.create_project('shop'), bb.create_project('other'), bb.create_project('empty');
SELECT bb.grant_project('shop', 'regress_bb_gov_dev'), bb.grant_project('empty', 'regress_bb_gov_dev');
INSERT INTO bb.database (instance_id, name, project_id, environment_id, labels)
SELECT bb._instance_id(i), d, bb._project_id(p), bb._environment_id(e), l::jsonb
  FROM (VALUES ('pg-a', 'shop', 'shop', 'dev', '{}'),
               ('my-a', 't1', 'shop', 'prod', '{"tier": "tenant", "region": "eu"}'),
               ('my-a', 't2', 'shop', 'prod', '{"tier": "tenant", "region": "us"}'),
               ('my-b', 't3', 'shop', 'prod', '{"tier": "tenant", "region": "eu"}'),
               ('my-b', 'o1', 'other', 'prod', '{}')) v(i, d, p, e, l);
SELECT bb.create_database_group('shop', 'tenants', '{"tier": "tenant"}'),
       bb.create_database_group('shop', 'eu', '{"region": "eu"}', '^t'),
       bb.create_database_group('empty', 'nobody');

-- what an instance is made of: row, foreign server, user mapping
-- (SECURITY DEFINER: it reads the mapping as the superuser who ran this script)
CREATE FUNCTION pg_temp.instance(name text) RETURNS TABLE(host text, port int, options jsonb, srvoptions text[], umoptions text[])
LANGUAGE sql SECURITY DEFINER AS $$
  SELECT i.host, i.port, i.options, s.srvoptions, m.umoptions
    FROM bb.instance i LEFT JOIN pg_foreign_server s ON s.srvname = i.server_name
    LEFT JOIN pg_user_mappings m ON m.srvname = i.server_name AND m.umuser = 0
   WHERE i.name = instance.name
$$;

---------------------------------------------------------------------------
-- alter_instance
---------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_bb_gov_admin;
-- address, options and password at once; the foreign server and the mapping follow
SELECT bb.alter_instance('pg-a', host => '10.0.0.5', port => 6543, password => 'new-pw',
                         options => '{"database": "shop"}', verify => false);
SELECT * FROM pg_temp.instance('pg-a');
-- NULL keeps: only the user changes, the password stays
SELECT bb.alter_instance('pg-a', username => 'app2', verify => false);
SELECT * FROM pg_temp.instance('pg-a');
-- a MySQL instance (the bytebase wrapper): host and port, no dbname
SELECT bb.alter_instance('my-b', port => 3308, password => 'my-pw2', verify => false);
SELECT * FROM pg_temp.instance('my-b');
-- a ClickHouse instance without credentials gets a password
SELECT bb.alter_instance('ch-a', password => 'ch-pw', verify => false);
SELECT * FROM pg_temp.instance('ch-a');

-- bad input: a clear error, nothing changed (and no password in any message)
SELECT pg_temp.try($$SELECT bb.alter_instance('nope', port => 1, verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance(NULL, port => 1, verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', host => 'a host', password => 'leak-pw', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', host => '', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', port => 0, password => 'leak-pw', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', port => 65536, verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', options => '[1]', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', options => '{"password_required": "no"}', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', options => '{"password_required": false}', verify => false)$$);
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', port => 1, verify => NULL)$$);
-- verify => true: the new address is tried, and its failure undoes everything
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', host => '127.0.0.1', port => 1, password => 'leak-pw')$$);
SELECT * FROM pg_temp.instance('pg-a');    -- unchanged
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT pg_temp.try($$SELECT bb.alter_instance('pg-a', port => 1, verify => false)$$);
RESET SESSION AUTHORIZATION;
SELECT * FROM pg_temp.instance('pg-a');    -- unchanged

---------------------------------------------------------------------------
-- drop_instance
---------------------------------------------------------------------------
-- history on my-a (inserted directly: no engine here): a done issue with its changelog, and
-- an issue waiting for approval
INSERT INTO bb.statement (hash, body)
SELECT encode(sha256(convert_to(b, 'UTF8')), 'hex'), b FROM (VALUES ('ALTER TABLE t ADD c int'), ('DROP TABLE t')) v(b);
INSERT INTO bb.issue (project_id, statement_hash, status, title)
SELECT bb._project_id('shop'), s.hash, st, t
  FROM (VALUES ('ALTER TABLE t ADD c int', 'done', 'done one'), ('DROP TABLE t', 'open', 'waiting one')) v(b, st, t)
  JOIN bb.statement s ON s.body = v.b;
INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
SELECT i.id, bb._environment_id('prod'), 1, true FROM bb.issue i;
INSERT INTO bb.task (issue_id, stage_id, database_id, status)
SELECT i.id, s.id, d.id, CASE i.status WHEN 'done' THEN 'done' ELSE 'pending_approval' END
  FROM bb.issue i JOIN bb.stage s ON s.issue_id = i.id
  JOIN bb.database d ON d.instance_id = bb._instance_id('my-a') AND d.name = 't1';
-- the done issue also ran on my-b/t3: that part of its history stays
INSERT INTO bb.task (issue_id, stage_id, database_id, status)
SELECT i.id, s.id, bb._database_id('my-b/t3'), 'done'
  FROM bb.issue i JOIN bb.stage s ON s.issue_id = i.id WHERE i.title = 'done one';
INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, checksum, statement_hash, status, applied_by)
SELECT t.database_id, t.issue_id, t.id, i.statement_hash, i.statement_hash, 'done', 'regress'
  FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE t.status = 'done';

SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT pg_temp.try($$SELECT bb.drop_instance('my-a')$$);                 -- a task waits for approval
SELECT pg_temp.try($$SELECT bb.drop_instance('my-a', cascade => true)$$);
RESET SESSION AUTHORIZATION;
UPDATE bb.task SET status = 'canceled' WHERE status = 'pending_approval';   -- as bb.cancel would
UPDATE bb.issue SET status = 'canceled' WHERE title = 'waiting one';
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT pg_temp.try($$SELECT bb.drop_instance('my-a')$$);                 -- history needs cascade
SELECT pg_temp.try($$SELECT bb.drop_instance('my-a', cascade => NULL)$$);
SELECT pg_temp.try($$SELECT bb.drop_instance('nope')$$);
SELECT pg_temp.try($$SELECT bb.drop_instance(NULL)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT pg_temp.try($$SELECT bb.drop_instance('my-a', cascade => true)$$);
RESET SESSION AUTHORIZATION;
SELECT name, databases FROM bb.instances ORDER BY name;                 -- still all there
SELECT srvname FROM pg_user_mappings WHERE srvname LIKE 'bytebase\_%' ORDER BY 1;
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.drop_instance('my-a', cascade => true);
RESET SESSION AUTHORIZATION;
SELECT name FROM bb.instances ORDER BY name;
SELECT count(*) AS servers FROM pg_foreign_server WHERE srvname = 'bytebase_my-a';
SELECT count(*) AS mappings FROM pg_user_mappings WHERE srvname = 'bytebase_my-a';
SELECT count(*) AS databases FROM bb.database WHERE instance_id NOT IN (SELECT id FROM bb.instance);
-- the issue that ran only there is gone; the one that also ran on my-b keeps that task and its changelog
SELECT i.title, i.status, n.name || '/' || d.name AS database, t.status AS task
  FROM bb.issue i JOIN bb.task t ON t.issue_id = i.id
  JOIN bb.database d ON d.id = t.database_id JOIN bb.instance n ON n.id = d.instance_id ORDER BY 1;
SELECT n.name || '/' || d.name AS database, c.status
  FROM bb.changelog_entry c JOIN bb.database d ON d.id = c.database_id JOIN bb.instance n ON n.id = d.instance_id;

-- a foreign table on an instance's server: refused until it is dropped
CREATE FOREIGN TABLE regress_bb_ft (a int) SERVER "bytebase_pg-a";
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT pg_temp.try($$SELECT bb.drop_instance('pg-a', cascade => true)$$);
RESET SESSION AUTHORIZATION;
DROP FOREIGN TABLE regress_bb_ft;
-- a second mapping (for one role) goes with the server too
CREATE USER MAPPING FOR regress_bb_gov_admin SERVER "bytebase_pg-a" OPTIONS (user 'x', password 'y');
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.drop_instance('pg-a');            -- no history: no cascade needed
RESET SESSION AUTHORIZATION;
SELECT count(*) AS servers, (SELECT count(*) FROM pg_user_mappings WHERE srvname = 'bytebase_pg-a') AS mappings
  FROM pg_foreign_server WHERE srvname = 'bytebase_pg-a';
SELECT name FROM bb.instances ORDER BY name;

---------------------------------------------------------------------------
-- drop_project
---------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT pg_temp.try($$SELECT bb.drop_project('shop')$$);       -- databases and an issue
SELECT pg_temp.try($$SELECT bb.drop_project('other')$$);      -- a database
SELECT pg_temp.try($$SELECT bb.drop_project('nope')$$);
SELECT pg_temp.try($$SELECT bb.drop_project(NULL)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT pg_temp.try($$SELECT bb.drop_project('empty')$$);
RESET SESSION AUTHORIZATION;
SELECT name FROM bb.projects ORDER BY name;
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.drop_project('empty');            -- its members and groups go with it
RESET SESSION AUTHORIZATION;
SELECT name FROM bb.projects ORDER BY name;
SELECT count(*) AS members FROM bb.project_member WHERE project_id NOT IN (SELECT id FROM bb.project);
SELECT project, name FROM bb.database_groups ORDER BY 1, 2;

---------------------------------------------------------------------------
-- drop_environment
---------------------------------------------------------------------------
INSERT INTO bb.review_policy (environment_id, rule, level) VALUES (bb._environment_id('qa'), 'table.require-pk', 'error');
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT pg_temp.try($$SELECT bb.drop_environment('prod')$$);   -- an instance, databases, an issue
SELECT pg_temp.try($$SELECT bb.drop_environment('nope')$$);
SELECT pg_temp.try($$SELECT bb.drop_environment(NULL)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT pg_temp.try($$SELECT bb.drop_environment('qa')$$);
RESET SESSION AUTHORIZATION;
SELECT name, position FROM bb.environments;
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.drop_environment('qa');           -- its review settings go with it; positions stay dense
SELECT bb.drop_environment('dev');
RESET SESSION AUTHORIZATION;
SELECT name, position FROM bb.environments;
SELECT count(*) AS policies FROM bb.review_policy;
SELECT bb.create_environment('last');
SELECT name, position FROM bb.environments;

---------------------------------------------------------------------------
-- alter_database_group, drop_database_group
---------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.alter_database_group('shop', 'eu', name_pattern => '^t3$');      -- labels kept
SELECT bb.alter_database_group('shop', 'tenants', labels => '{"region": "eu"}');
SELECT project, name, labels, name_pattern, databases FROM bb.database_groups ORDER BY 1, 2;
SELECT bb.alter_database_group('shop', 'eu', name_pattern => '');          -- '' removes the name condition
SELECT bb.alter_database_group('shop', 'eu', labels => '{"region": "mars"}');   -- NOTICE: matches nothing
SELECT project, name, labels, name_pattern, databases FROM bb.database_groups ORDER BY 1, 2;
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', 'eu', labels => '[1]')$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', 'eu', name_pattern => '(unclosed')$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', 'eu', name_pattern => repeat('a', 1001))$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', 'nope', '{}')$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group('nope', 'eu', '{}')$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', NULL, '{}')$$);
SELECT pg_temp.try($$SELECT bb.alter_database_group(NULL, 'eu', '{}')$$);
SELECT pg_temp.try($$SELECT bb.drop_database_group('shop', 'nope')$$);
SELECT pg_temp.try($$SELECT bb.drop_database_group('nope', 'eu')$$);
SELECT pg_temp.try($$SELECT bb.drop_database_group('shop', NULL)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT pg_temp.try($$SELECT bb.alter_database_group('shop', 'eu', '{}')$$);
SELECT pg_temp.try($$SELECT bb.drop_database_group('shop', 'eu')$$);
RESET SESSION AUTHORIZATION;
SELECT project, name, labels, name_pattern FROM bb.database_groups ORDER BY 1, 2;    -- unchanged
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT bb.drop_database_group('shop', 'eu');
RESET SESSION AUTHORIZATION;
SELECT project, name FROM bb.database_groups ORDER BY 1, 2;

---------------------------------------------------------------------------
-- database_group_members: admins and approvers for every project, developers for theirs
---------------------------------------------------------------------------
SELECT bb.create_database_group('other', 'all');
SET SESSION AUTHORIZATION regress_bb_gov_admin;
SELECT * FROM bb.database_group_members('other', 'all');
SELECT pg_temp.try($$SELECT bb.database_group_members('shop', 'nope')$$);
SELECT pg_temp.try($$SELECT bb.database_group_members('nope', 'all')$$);
SELECT pg_temp.try($$SELECT bb.database_group_members('shop', NULL)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_appr;
SELECT * FROM bb.database_group_members('shop', 'tenants');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_dev;
SELECT * FROM bb.database_group_members('shop', 'tenants');
SELECT pg_temp.try($$SELECT bb.database_group_members('other', 'all')$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_gov_out;
SELECT pg_temp.try($$SELECT bb.database_group_members('shop', 'tenants')$$);
RESET SESSION AUTHORIZATION;

-- every governance function is commented
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'bb' AND obj_description(p.oid, 'pg_proc') IS NULL;

-- clean up: the instances' servers (postgres_fdw's outlive the extension) and the roles
\i sql/governance_teardown.inc
