-- Audit log: the ok rows of successful calls (who, function, redacted arguments), nothing for a
-- failed call in its own transaction, who may read it, and that nobody may change it.
-- (Failed calls are recorded by the launcher after their transaction rolled back:
-- test/integration/04_audit.sh.  Queries here read ok rows only, which is deterministic.)
\set roles '{regress_bb_aud_admin,regress_bb_aud_appr,regress_bb_aud_dev}'
\i sql/governance_setup.inc
GRANT bytebase_admin TO regress_bb_aud_admin;
GRANT bytebase_approver TO regress_bb_aud_appr;
GRANT bytebase_developer TO regress_bb_aud_dev;

-- successful calls: one ok row each, the session user as who, passwords redacted
SET SESSION AUTHORIZATION regress_bb_aud_admin;
SELECT bb.create_environment('dev');
SELECT bb.add_instance('my-a', 'mysql', '127.0.0.1', 3306, 'app', 'sekret-one', 'dev', verify => false);
SELECT bb.alter_instance('my-a', port => 3307, password => 'sekret-two', verify => false);
SELECT bb.alter_instance('my-a', username => 'app2', verify => false);    -- no password: shown as null
SELECT bb.create_project('shop', 'Online shop');
SELECT bb.create_project('big', repeat('x', 2500));                      -- long values are clipped
SELECT bb.create_database_group('shop', 'all');
SELECT bb.alter_database_group('shop', 'all', name_pattern => '^a');
SELECT bb.drop_database_group('shop', 'all');
SELECT bb.drop_project('big');
SELECT pg_temp.try($$SELECT bb.create_project('bad name')$$);            -- failed: its ok row rolled back
RESET SESSION AUTHORIZATION;
SELECT who, "function", CASE WHEN "function" = 'create_project' AND arguments->>'name' = 'big'
                             THEN jsonb_build_object('title_length', length(arguments->>'title'),
                                                     'title_end', right(arguments->>'title', 5))
                             ELSE arguments END AS arguments, outcome, sqlstate, error
  FROM bb.audit_log WHERE outcome = 'ok' ORDER BY id;
SELECT count(*) AS rows_showing_a_password FROM bb.audit_entry
 WHERE arguments::text LIKE '%sekret%' OR coalesce(error, '') LIKE '%sekret%';
SELECT count(*) AS ok_rows_of_the_failed_call FROM bb.audit_entry
 WHERE arguments->>'name' = 'bad name' AND outcome = 'ok';
SELECT count(*) FILTER (WHERE at > clock_timestamp()) AS rows_from_the_future FROM bb.audit_entry;

-- bb._audit itself: only the extension owner (the API functions) may call it
SET SESSION AUTHORIZATION regress_bb_aud_admin;
SELECT pg_temp.try($$SELECT bb._audit('create_project', '{"name": "forged"}')$$);
RESET SESSION AUTHORIZATION;
SELECT bb._audit('manual', '[1, 2]');                                        -- not an object: wrapped
SELECT bb._audit('manual', NULL);
SELECT bb._audit('manual', '{"password": "x", "api_secret": "y", "private_key": null, "user": "u"}');
SELECT pg_temp.try($$SELECT bb._audit(NULL, '{}')$$);
SELECT who, "function", arguments, outcome FROM bb.audit_log WHERE "function" = 'manual' ORDER BY id;

-- only admins read the log
SET SESSION AUTHORIZATION regress_bb_aud_dev;
SELECT pg_temp.try($$SELECT * FROM bb.audit_log$$);
SELECT pg_temp.try($$SELECT * FROM bb.audit_entry$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_aud_appr;
SELECT pg_temp.try($$SELECT * FROM bb.audit_log$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_aud_admin;
SELECT count(*) > 0 AS admin_reads FROM bb.audit_log;

-- append-only: no grant lets an admin change it ...
SELECT pg_temp.try($$UPDATE bb.audit_entry SET who = 'someone'$$);
SELECT pg_temp.try($$DELETE FROM bb.audit_entry$$);
SELECT pg_temp.try($$TRUNCATE bb.audit_entry$$);
SELECT pg_temp.try($$INSERT INTO bb.audit_entry (at, who, "function", outcome) VALUES (now(), 'x', 'forged', 'ok')$$);
SELECT pg_temp.try($$UPDATE bb.audit_log SET who = 'someone'$$);
SELECT pg_temp.try($$DELETE FROM bb.audit_log$$);
RESET SESSION AUTHORIZATION;
-- ... and a grant given by mistake still does not
GRANT UPDATE, DELETE, TRUNCATE ON bb.audit_entry TO regress_bb_aud_admin;
SET SESSION AUTHORIZATION regress_bb_aud_admin;
SELECT pg_temp.try($$UPDATE bb.audit_entry SET who = 'someone'$$);
SELECT pg_temp.try($$DELETE FROM bb.audit_entry$$);
SELECT pg_temp.try($$TRUNCATE bb.audit_entry$$);
RESET SESSION AUTHORIZATION;
REVOKE UPDATE, DELETE, TRUNCATE ON bb.audit_entry FROM regress_bb_aud_admin;
SELECT count(*) AS changed_rows FROM bb.audit_entry WHERE who = 'someone';

-- the table and the view carry comments; the view shows the contract columns
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'bb' AND c.relname IN ('audit_entry', 'audit_log') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT attname FROM pg_attribute WHERE attrelid = 'bb.audit_log'::regclass AND attnum > 0 ORDER BY attnum;

\i sql/governance_teardown.inc
