-- Security classes attacked from unprivileged roles: shadowing the role checks (temp objects,
-- functions, operators), identity through SET ROLE, self-skip, session settings, project
-- isolation; and what an approver sees.  Every function pins its search_path.
\i sql/rollout_setup.inc
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS regress_evil CASCADE;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_bb_erin') THEN CREATE ROLE regress_bb_erin; END IF;
END $$;
GRANT bytebase_developer TO regress_bb_erin;
RESET client_min_messages;
SELECT bb.grant_project('other', 'regress_bb_erin');
CREATE SCHEMA regress_evil;
GRANT USAGE, CREATE ON SCHEMA regress_evil TO regress_bb_alice;

-- every function of the extension pins search_path with pg_temp last
SELECT p.oid::regprocedure AS unpinned FROM pg_proc p
 WHERE p.pronamespace = 'bb'::regnamespace
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
 ORDER BY 1;

-- an issue of bob's, for alice to attack
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN bob int', targets => '{my-prod/shop}') AS bobs \gset
RESET SESSION AUTHORIZATION;

-- 1. role checks: a developer shadows catalogs with temp views and tables, functions in pg_temp
--    and in a schema of their own, and operators that say yes to everything
SET SESSION AUTHORIZATION regress_bb_alice;
CREATE TEMP VIEW pg_roles AS SELECT 'regress_bb_alice'::name AS rolname, true AS rolsuper, 10::oid AS oid;
CREATE TEMP VIEW pg_auth_members AS SELECT 10::oid AS roleid, 10::oid AS member;
CREATE TEMP TABLE project_member (project_id bigint, role name);
CREATE TEMP TABLE environment (id bigint, name text, protected boolean);
CREATE FUNCTION pg_temp.pg_has_role(name, text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_evil.pg_has_role(name, text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_evil.session_user_is_admin() RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_evil.yes(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_evil.yes(name, name) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_evil.yes(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.yes);
CREATE OPERATOR regress_evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = regress_evil.yes);
CREATE OPERATOR regress_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_evil.yes);
CREATE OPERATOR regress_evil.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.yes);
CREATE OPERATOR regress_evil.<> (LEFTARG = name, RIGHTARG = name, FUNCTION = regress_evil.yes);
SET search_path = regress_evil, pg_temp, pg_catalog;
SELECT pg_temp.try($$SELECT bb.create_environment('evil')$$);
SELECT pg_temp.try($$SELECT bb.add_instance('evil', 'postgres', '127.0.0.1', 5432, verify => false)$$);
SELECT pg_temp.try($$SELECT bb.create_project('evil')$$);
SELECT pg_temp.try($$SELECT bb.grant_project('shop', 'regress_bb_erin')$$);
SELECT pg_temp.try($$SELECT bb.assign_database('pg-dev/other', 'shop')$$);
SELECT pg_temp.try($$SELECT bb.create_database_group('shop', 'evil')$$);
SELECT pg_temp.try($$SELECT bb.set_review_rule('prod', 'table.require-pk', 'off')$$);
SELECT pg_temp.try($$SELECT bb.set_review_option('prod', 'allow_suppressions', true)$$);
SELECT pg_temp.try($$SELECT bb.remote_query('pg-dev', NULL, 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT bb.sync_instance('pg-dev')$$);
SELECT pg_temp.try($$SELECT bb.test_connection('pg-dev')$$);
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :bobs));
SELECT pg_temp.try(format('SELECT bb.reject(%s, %L)', :bobs, 'mine now'));
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :bobs));
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', (SELECT id FROM bb.task WHERE issue_id = :bobs), 'gone'));
SELECT pg_temp.try($$SELECT bb._task_transition('{1}', 'done')$$);
SELECT pg_temp.try($$SELECT bb._cancel_issue(1)$$);
SELECT pg_temp.try($$SELECT bb._sync_instance_c('pg-dev')$$);
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS evil_objects FROM bb.environment WHERE name = 'evil';
SELECT status FROM bb.issue WHERE id = :bobs;
DROP VIEW pg_temp.pg_roles, pg_temp.pg_auth_members;
DROP TABLE pg_temp.project_member, pg_temp.environment;
DROP FUNCTION pg_temp.pg_has_role(name, text, text);

-- 2. identity is the session user: SET ROLE to an approver role does not make anyone somebody else
GRANT bytebase_approver TO regress_bb_alice;
SET SESSION AUTHORIZATION regress_bb_alice;
SET ROLE bytebase_developer;
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN alice int', targets => '{my-prod/shop}') AS alices \gset
SET ROLE bytebase_approver;
SELECT pg_temp.try(format('SELECT bb.approve(%s)', :alices));
RESET ROLE;
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :alices));
RESET SESSION AUTHORIZATION;
SELECT created_by FROM bb.issue WHERE id = :alices;
REVOKE bytebase_approver FROM regress_bb_alice;

-- 3. skipping what needed an approval, or what a check blocked, takes an approver who is not
--    the creator
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', (SELECT id FROM bb.task WHERE issue_id = :alices), 'not needed'));
SELECT bb.apply('shop', 'CREATE TABLE nopk (a int)', targets => '{pg-dev/shop}') AS blocked \gset
SELECT status, blocked_by FROM bb.tasks WHERE issue = :blocked;
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', (SELECT id FROM bb.task WHERE issue_id = :blocked), 'ignore the review'));
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT pg_temp.try(format('SELECT bb.skip(%s, %L)', (SELECT id FROM bb.task WHERE issue_id = :blocked), 'ignore the review'));
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT bb.skip((SELECT id FROM bb.task WHERE issue_id = :blocked), 'the table is dropped tomorrow');
SELECT bb.skip((SELECT id FROM bb.task WHERE issue_id = :alices), 'prod gets it with the next release');
RESET SESSION AUTHORIZATION;
SELECT id, status FROM bb.issue WHERE id IN (:alices, :blocked) ORDER BY id;

-- 4. settings that gate safety are not the caller's: there is no bytebase.dry_run to turn off,
--    and the executor pool is the server's
SELECT pg_temp.try($$SET bytebase.dry_run = off$$);
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try($$SET bytebase.max_workers = 1$$);
SELECT pg_temp.try($$SELECT bb.set_review_option('dev', 'dry_run', true)$$);
RESET SESSION AUTHORIZATION;
SELECT pg_temp.try($$SELECT bb.set_review_option('prod', 'dry_run', true)$$);
SELECT * FROM bb.review_options WHERE environment IN ('dev', 'prod');

-- 5. project isolation: erin belongs to "other" only
SET SESSION AUTHORIZATION regress_bb_erin;
SELECT name FROM bb.projects;
SELECT ref FROM bb.databases;
SELECT count(*) AS shop_issues FROM bb.issues WHERE project = 'shop';
SELECT count(*) AS tasks, (SELECT count(*) FROM bb.task) AS task_rows, (SELECT count(*) FROM bb.statement) AS statements,
       (SELECT count(*) FROM bb.plan_checks) AS checks, (SELECT count(*) FROM bb.plan_check_finding) AS findings,
       (SELECT count(*) FROM bb.changelog) AS changelog, (SELECT count(*) FROM bb.pending_approvals) AS approvals
  FROM bb.tasks;
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 1', targets => '{pg-dev/shop}')$$);
SELECT pg_temp.try(format('SELECT bb.wait(%s, %L)', :bobs, '0 s'));
SELECT pg_temp.try(format('SELECT bb.cancel(%s)', :bobs));
BEGIN;
SELECT bb.apply('other', 'SELECT 1', targets => '{pg-dev/other}') IS NOT NULL AS applied_to_own_project;
SELECT project, count(*) FROM bb.issues GROUP BY 1;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT project, count(*) FROM bb.issues GROUP BY 1 ORDER BY 1;
RESET SESSION AUTHORIZATION;

-- 6. what the approver decides on: the exact statement, the targets, the findings
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', E'SET lock_timeout = \'2s\';\nALTER TABLE orders ADD COLUMN note text;', targets => '{pg-prod/shop, pg-prod/t1}') AS review_me \gset
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT issue, stage, created_by, statement, targets FROM bb.pending_approvals WHERE issue = :review_me;
SELECT f->>'rule' AS rule, f->>'level' AS level FROM bb.pending_approvals, jsonb_array_elements(findings) f
 WHERE issue = :review_me ORDER BY 1;
RESET SESSION AUTHORIZATION;

-- 7. "-- bb:ignore" of an error finding: honoured where the environment allows suppressions
--    (dev), refused in a protected environment (prod): it still blocks, and shows as refused
BEGIN;
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.apply('shop', E'-- bb:ignore table.require-pk\nCREATE TABLE nopk (a int);', targets => '{pg-dev/shop}') AS sup_dev \gset
SELECT status, blocked_by FROM bb.tasks WHERE issue = :sup_dev;
SELECT rule, level, suppression FROM bb.plan_checks WHERE issue = :sup_dev AND rule = 'table.require-pk';
SELECT bb.apply('shop', E'-- bb:ignore table.require-pk\nCREATE TABLE nopk (a int);', targets => '{pg-prod/shop}') AS sup_prod \gset
SELECT status, blocked_by FROM bb.tasks WHERE issue = :sup_prod;
SELECT rule, level, suppression FROM bb.plan_checks WHERE issue = :sup_prod AND rule = 'table.require-pk';
SELECT pg_temp.try($$SELECT bb.set_review_option('prod', 'allow_suppressions', true)$$);
RESET SESSION AUTHORIZATION;
-- an admin may allow them in prod; a recheck then honours it, and the approver sees the suppression
SELECT bb.set_review_option('prod', 'allow_suppressions', true);
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT bb.recheck(:sup_prod);
SELECT status, blocked_by FROM bb.tasks WHERE issue = :sup_prod;
SET SESSION AUTHORIZATION regress_bb_carol;
SELECT f->>'rule' AS rule, f->>'level' AS level, f->>'suppression' AS suppression
  FROM bb.pending_approvals, jsonb_array_elements(findings) f
 WHERE issue = :sup_prod AND f->>'rule' = 'table.require-pk';
RESET SESSION AUTHORIZATION;
ROLLBACK;

SELECT bb.cancel(id) FROM bb.issue WHERE status IN ('open', 'failed') ORDER BY id;
DROP SCHEMA regress_evil CASCADE;
\i sql/rollout_teardown.inc
