-- Tenants: bb.schema_consistency (which tenants' schemas differ from their group's majority,
-- and how) and bb.database_versions (where each tenant stands), on databases and snapshots
-- inserted directly in the shape of drivers/driver.h (no engine needed).
\set roles '{regress_bb_ten_admin,regress_bb_ten_appr,regress_bb_ten_dev,regress_bb_ten_out,regress_bb_ten_nobody}'
\i sql/governance_setup.inc
GRANT bytebase_admin TO regress_bb_ten_admin;
GRANT bytebase_approver TO regress_bb_ten_appr;
GRANT bytebase_developer TO regress_bb_ten_dev, regress_bb_ten_out;

SELECT bb.create_environment('staging'), bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pg-a', 'postgres', '127.0.0.1', 5432, 'app', 'pw', 'prod', verify => false),
       bb.add_instance('pg-b', 'postgres', '127.0.0.1', 5433, 'app', 'pw', 'prod', verify => false),
       bb.add_instance('my-a', 'mysql', '127.0.0.1', 3306, 'app', 'pw', 'prod', verify => false);
SELECT bb.create_project('saas'), bb.create_project('other');
SELECT bb.grant_project('saas', 'regress_bb_ten_dev'), bb.grant_project('other', 'regress_bb_ten_out');

-- the schemas every tenant of an engine shares
CREATE TEMP TABLE base (engine text PRIMARY KEY, snap jsonb);
INSERT INTO base VALUES ('postgres', $${"tables": [
  {"schema": "public", "name": "accounts",
   "columns": [{"name": "id", "type": "bigint", "nullable": false, "default": "nextval('accounts_id_seq'::regclass)"},
               {"name": "email", "type": "text", "nullable": false, "default": null},
               {"name": "status", "type": "mood", "nullable": true, "default": "'active'::mood"},
               {"name": "created_at", "type": "timestamp with time zone", "nullable": false, "default": "now()"}],
   "indexes": [{"name": "accounts_email_key", "columns": ["email"], "unique": true, "primary": false},
               {"name": "accounts_pkey", "columns": ["id"], "unique": true, "primary": true}]},
  {"schema": "public", "name": "orders",
   "columns": [{"name": "id", "type": "bigint", "nullable": false, "default": null},
               {"name": "account_id", "type": "bigint", "nullable": false, "default": null},
               {"name": "total", "type": "numeric(12,2)", "nullable": true, "default": "0"},
               {"name": "note", "type": "text", "nullable": true, "default": null}],
   "indexes": [{"name": "orders_account_idx", "columns": ["account_id", "id"], "unique": false, "primary": false},
               {"name": "orders_lower_note_idx", "columns": ["lower(note)"], "unique": false, "primary": false},
               {"name": "orders_pkey", "columns": ["id"], "unique": true, "primary": true}]}]}$$),
  ('mysql', $${"tables": [
  {"schema": "DB", "name": "accounts",
   "columns": [{"name": "id", "type": "int(11)", "nullable": false, "default": "auto_increment"},
               {"name": "email", "type": "varchar(200)", "nullable": false, "default": "'x''y'"},
               {"name": "kind", "type": "enum('A','b')", "nullable": true, "default": null},
               {"name": "code", "type": "int(5) unsigned zerofill", "nullable": true, "default": null},
               {"name": "created_at", "type": "timestamp", "nullable": true, "default": "current_timestamp()"}],
   "indexes": [{"name": "PRIMARY", "columns": ["id"], "unique": true, "primary": true},
               {"name": "email", "columns": ["email(10)", "kind"], "unique": false, "primary": false}]}]}$$);

-- MySQL snapshots name the database itself as the schema
CREATE FUNCTION pg_temp.snap(engine text, db text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT CASE WHEN engine = 'mysql' THEN replace(b.snap::text, '"DB"', to_jsonb(db)::text)::jsonb ELSE b.snap END
    FROM base b WHERE b.engine = snap.engine
$$;

-- 200 PostgreSQL tenants on two instances, 5 MySQL ones; a vanished tenant; the other project
INSERT INTO bb.database (instance_id, name, project_id, environment_id, labels, schema_snapshot, synced_at)
SELECT bb._instance_id(CASE WHEN k <= 100 THEN 'pg-a' ELSE 'pg-b' END), format('t%s', lpad(k::text, 3, '0')),
       bb._project_id('saas'), bb._environment_id('prod'), '{"tier": "tenant"}', pg_temp.snap('postgres', NULL),
       now() - interval '1 hour'
  FROM generate_series(1, 200) k;
INSERT INTO bb.database (instance_id, name, project_id, environment_id, labels, schema_snapshot, synced_at)
SELECT bb._instance_id('my-a'), format('m%s', k), bb._project_id('saas'), bb._environment_id('prod'),
       '{"tier": "tenant"}', pg_temp.snap('mysql', format('m%s', k)), now()
  FROM generate_series(1, 5) k;
INSERT INTO bb.database (instance_id, name, project_id, labels, schema_snapshot, vanished_at)
VALUES (bb._instance_id('pg-a'), 'gone', bb._project_id('saas'), '{"tier": "tenant"}', '{"tables": []}', now()),
       (bb._instance_id('pg-a'), 'o1', bb._project_id('other'), '{}', pg_temp.snap('postgres', NULL), NULL);
SELECT bb.create_database_group('saas', 'tenants', '{"tier": "tenant"}'),
       bb.create_database_group('saas', 'my-pair', '{"tier": "tenant"}', '^m[12]$'),
       bb.create_database_group('saas', 'nobody', '{"tier": "none"}'),
       bb.create_database_group('other', 'all');

-- shorthands: the report of saas/tenants, and a change to one tenant's snapshot
CREATE VIEW pg_temp.r AS
  SELECT * FROM bb.schema_consistency('saas', 'tenants');
CREATE FUNCTION pg_temp.set(db text, path text[], value jsonb) RETURNS void LANGUAGE sql AS $$
  UPDATE bb.database d SET schema_snapshot = jsonb_set(d.schema_snapshot, path, value) WHERE d.name = db
$$;
CREATE FUNCTION pg_temp.del(db text, path text[]) RETURNS void LANGUAGE sql AS $$
  UPDATE bb.database d SET schema_snapshot = d.schema_snapshot #- path WHERE d.name = db
$$;

---------------------------------------------------------------------------
-- An unchanged fleet: no row, whatever the spelling a snapshot session chose
---------------------------------------------------------------------------
SELECT * FROM pg_temp.r;
BEGIN;
-- t007's snapshot session had another search_path: qualified sequence, type and cast
SELECT pg_temp.set('t007', '{tables,0,columns,0,default}', '"nextval(''public.accounts_id_seq''::regclass)"'),
       pg_temp.set('t007', '{tables,0,columns,2,type}', '"public.mood"'),
       pg_temp.set('t007', '{tables,0,columns,2,default}', '"''active''::public.mood"'),
       pg_temp.set('t007', '{tables,1,indexes,1,columns}', '["public.lower(note)"]');
-- t008 lists its tables, columns and indexes in another order
UPDATE bb.database d SET schema_snapshot = jsonb_build_object('tables', (
    SELECT jsonb_agg(jsonb_build_object('schema', t->'schema', 'name', t->'name',
             'columns', (SELECT jsonb_agg(c ORDER BY o DESC) FROM jsonb_array_elements(t->'columns') WITH ORDINALITY x(c, o)),
             'indexes', (SELECT jsonb_agg(i ORDER BY o DESC) FROM jsonb_array_elements(t->'indexes') WITH ORDINALITY x(i, o)))
           ORDER BY n DESC)
      FROM jsonb_array_elements(d.schema_snapshot->'tables') WITH ORDINALITY y(t, n)))
 WHERE d.name = 't008';
-- m2 is a MySQL 8 server: no integer display width, unquoted string default, CURRENT_TIMESTAMP
SELECT pg_temp.set('m2', '{tables,0,columns,0,type}', '"INT"'),
       pg_temp.set('m2', '{tables,0,columns,1,default}', '"x''y"'),
       pg_temp.set('m2', '{tables,0,columns,4,default}', '"CURRENT_TIMESTAMP"');
SELECT * FROM pg_temp.r;
ROLLBACK;

---------------------------------------------------------------------------
-- One tenant changed: exactly that tenant and object
---------------------------------------------------------------------------
BEGIN;   -- a column added
UPDATE bb.database d SET schema_snapshot = jsonb_insert(d.schema_snapshot, '{tables,1,columns,4}',
  '{"name": "discount", "type": "numeric(5,2)", "nullable": true, "default": null}') WHERE d.name = 't050';
SELECT * FROM pg_temp.r;
ROLLBACK;
BEGIN;   -- a type, a nullability and a default changed, on two tenants
SELECT pg_temp.set('t060', '{tables,0,columns,1,type}', '"character varying(200)"'),
       pg_temp.set('t061', '{tables,1,columns,2,nullable}', 'false'),
       pg_temp.set('t061', '{tables,1,columns,2,default}', 'null');
SELECT * FROM pg_temp.r;
ROLLBACK;
BEGIN;   -- a table missing, a table extra, a column missing
SELECT pg_temp.del('t070', '{tables,1}'),
       pg_temp.del('t072', '{tables,1,columns,3}');
UPDATE bb.database d SET schema_snapshot = jsonb_insert(d.schema_snapshot, '{tables,2}',
  '{"schema": "audit", "name": "log", "columns": [{"name": "at", "type": "timestamp with time zone", "nullable": false, "default": null}], "indexes": []}')
 WHERE d.name = 't071';
SELECT * FROM pg_temp.r;
ROLLBACK;
BEGIN;   -- indexes: one missing, one extra, key columns reordered, uniqueness changed, renamed
SELECT pg_temp.del('t080', '{tables,0,indexes,0}'),
       pg_temp.set('t082', '{tables,1,indexes,0,columns}', '["id", "account_id"]'),
       pg_temp.set('t083', '{tables,1,indexes,0,unique}', 'true'),
       pg_temp.set('t084', '{tables,1,indexes,1,name}', '"orders_note_idx"');
UPDATE bb.database d SET schema_snapshot = jsonb_insert(d.schema_snapshot, '{tables,1,indexes,0}',
  '{"name": "orders_total_idx", "columns": ["total"], "unique": false, "primary": false}') WHERE d.name = 't081';
SELECT * FROM pg_temp.r;
ROLLBACK;
BEGIN;   -- MySQL: enum values and ZEROFILL widths are part of the type; the PostgreSQL tenants are not involved
SELECT pg_temp.set('m3', '{tables,0,columns,2,type}', '"enum(''a'',''b'')"'),
       pg_temp.set('m4', '{tables,0,columns,3,type}', '"int(6) unsigned zerofill"'),
       pg_temp.set('m5', '{tables,0,indexes,1,columns}', '["email(12)", "kind"]');
SELECT * FROM pg_temp.r;
-- two tenants that differ: no majority, both sides listed
SELECT * FROM bb.schema_consistency('saas', 'my-pair');
UPDATE bb.database SET schema_snapshot = schema_snapshot #- '{tables,0,columns,4}' WHERE name = 'm1';
SELECT * FROM bb.schema_consistency('saas', 'my-pair');
ROLLBACK;

---------------------------------------------------------------------------
-- Databases without a (readable) snapshot are listed, not compared; vanished ones not at all
---------------------------------------------------------------------------
BEGIN;
UPDATE bb.database SET schema_snapshot = NULL, sync_error = 'could not connect: connection refused' WHERE name = 't090';
UPDATE bb.database SET schema_snapshot = NULL WHERE name = 't091';
UPDATE bb.database SET schema_snapshot = '{"tables": 3}' WHERE name = 't092';
UPDATE bb.database SET schema_snapshot = '{"tables": []}' WHERE name = 't093';   -- empty: every table missing
SELECT * FROM pg_temp.r;
ROLLBACK;

---------------------------------------------------------------------------
-- Bad input, visibility, no audit
---------------------------------------------------------------------------
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('nope', 'tenants')$$);
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('saas', 'nope')$$);
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency(NULL, 'tenants')$$);
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('saas', NULL)$$);
SELECT * FROM bb.schema_consistency('saas', 'nobody');     -- a NOTICE, no row
SET SESSION AUTHORIZATION regress_bb_ten_dev;              -- a member of saas
SELECT count(*) FROM bb.schema_consistency('saas', 'tenants');
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('other', 'all')$$);
SELECT pg_temp.try($$SELECT * FROM bb._schema_consistency(ARRAY[1::bigint])$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_ten_out;              -- a developer outside saas
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('saas', 'tenants')$$);
SELECT count(*) FROM bb.schema_consistency('other', 'all');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_ten_appr;
SELECT count(*) FROM bb.schema_consistency('saas', 'tenants');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_ten_nobody;           -- no bytebase role
SELECT pg_temp.try($$SELECT * FROM bb.schema_consistency('saas', 'tenants')$$);
RESET SESSION AUTHORIZATION;
SELECT count(*) AS audited FROM bb.audit_entry WHERE "function" = 'schema_consistency';

---------------------------------------------------------------------------
-- The normal form of types, defaults and index columns
---------------------------------------------------------------------------
SELECT e, a, v, bb._schema_norm(e, a, v) AS norm
  FROM (VALUES ('postgres', 'type', 'public.mood'), ('postgres', 'type', '"My Types"."Mood"[]'),
               ('postgres', 'type', 'character  varying(20)'), ('postgres', 'type', '"Mood"'),
               ('postgres', 'default', 'nextval(''"Sales".orders_id_seq''::regclass)'),
               ('postgres', 'default', '''public.x''::text'), ('postgres', 'default', '(1.5 * app.f(x))'),
               ('postgres', 'index', '(lower(email), public.f(a))'),
               ('mysql', 'type', 'BIGINT(20) UNSIGNED'), ('mysql', 'type', 'tinyint(1)'),
               ('mysql', 'type', 'enum(''A'',''int(3)'')'), ('mysql', 'type', 'int(5) zerofill'),
               ('mysql', 'default', '''it''''s'''), ('mysql', 'default', 'CURRENT_TIMESTAMP(3)'),
               ('mysql', 'default', 'NOW'), ('mysql', 'default', 'b''1'''),
               ('clickhouse', 'type', 'Nullable(String)'), ('mysql', 'type', NULL)) v(e, a, v);

---------------------------------------------------------------------------
-- bb._snapshot_tables: a table's digest depends on its definition alone, not on where it sits
-- in the snapshot, nor (drop_schema) on the database a MySQL snapshot names as its schema
---------------------------------------------------------------------------
SELECT x.ord, x.schema, x.name,
       x.digest = (SELECT y.digest FROM bb._snapshot_tables(pg_temp.snap('mysql', 'm1'), true) y) AS same_as_m1,
       x.digest = (SELECT y.digest FROM bb._snapshot_tables(pg_temp.snap('mysql', 'm1'), false) y) AS same_with_schema
  FROM bb._snapshot_tables(jsonb_build_object('tables', jsonb_build_array(42, 'x',
         '{"schema": "abcde", "name": "t", "columns": [{"n": 1.25}], "indexes": []}'::jsonb,
         pg_temp.snap('mysql', 'a_longer_name')->'tables'->0)), true) x;
SELECT s, x.* FROM (VALUES ('{}'), ('{"tables": {}}'), ('[]'), ('"x"'), ('{"tables": []}'), ('{"tables": [1, null]}')) v(s),
       LATERAL bb._snapshot_tables(s::jsonb, false) x;

---------------------------------------------------------------------------
-- bb.database_versions: one row per database of a project
---------------------------------------------------------------------------
-- history of t001 (inserted directly): versions applied out of time order, a failed change,
-- an issue waiting for approval, a failed one, a done one, a canceled one with a failed task
INSERT INTO bb.statement (hash, body)
SELECT encode(sha256(convert_to(b, 'UTF8')), 'hex'), b FROM (VALUES ('ALTER TABLE a ADD b int')) v(b);
INSERT INTO bb.changelog_entry (database_id, version, checksum, statement_hash, status, applied_by, applied_at)
SELECT bb._database_id('pg-a/t001'), v, s.hash, s.hash, st, 'regress', at::timestamptz
  FROM bb.statement s,
       (VALUES ('1.10', 'done', '2026-01-01'), ('1.9', 'done', '2026-02-01'), ('1.2', 'done', '2026-03-01'),
               ('2.0', 'failed', '2026-04-01'), (NULL, 'done', '2026-05-01')) v(v, st, at);
INSERT INTO bb.issue (project_id, statement_hash, status, title)
SELECT bb._project_id('saas'), s.hash, st, t FROM bb.statement s,
       (VALUES ('open', 'waits'), ('failed', 'broke'), ('done', 'ran'), ('canceled', 'stopped')) v(st, t)
 ORDER BY t DESC;
INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
SELECT i.id, bb._environment_id('prod'), 1, true FROM bb.issue i;
INSERT INTO bb.task (issue_id, stage_id, database_id, status)
SELECT i.id, s.id, bb._database_id('pg-a/t001'),
       CASE i.title WHEN 'waits' THEN 'pending_approval' WHEN 'ran' THEN 'done' ELSE 'failed' END
  FROM bb.issue i JOIN bb.stage s ON s.issue_id = i.id;
SELECT id, title, status FROM bb.issue ORDER BY id;
SELECT project, database, engine, environment, labels, version, applied_at, changes, pending_issues, failed_issues,
       snapshot_at IS NOT NULL AS snapshot_known, snapshot_age > interval '59 minutes' AS hour_old
  FROM bb.database_versions WHERE database IN ('pg-a/t001', 'pg-a/t002', 'my-a/m1', 'pg-a/o1', 'pg-a/gone');
SELECT count(*) FROM bb.database_versions;
-- as a developer: only the projects they belong to
SET SESSION AUTHORIZATION regress_bb_ten_out;
SELECT project, database, version, pending_issues FROM bb.database_versions;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_ten_dev;
SELECT project, count(*), count(version) AS versioned FROM bb.database_versions GROUP BY project;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_ten_nobody;
SELECT pg_temp.try($$SELECT * FROM bb.database_versions$$);
RESET SESSION AUTHORIZATION;

-- every function of this part is commented and pins its search_path
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'bb' AND (obj_description(p.oid, 'pg_proc') IS NULL
                             OR NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false));
SELECT obj_description('bb.database_versions'::regclass, 'pg_class') IS NOT NULL AS view_commented;

\i sql/governance_teardown.inc
