-- GitOps, the SQL side: file names and contents, repositories (validation, secrets, roles),
-- what the watcher decides for each file after a fetch (bb._gitops_record, called here
-- directly: the gitops worker and libgit2 are tested in test/integration/40_gitops.sh), and
-- the CLI's check and rollout.  Everything that creates issues runs in transactions that roll
-- back, so no worker ever sees it.
\i sql/rollout_setup.inc
ALTER EXTENSION bytebase DROP FUNCTION bb._review(text, text, text);
DROP FUNCTION bb._review(text, text, text);
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text)
LANGUAGE sql AS $$ SELECT NULL::int, NULL::text, NULL::text, NULL::text, NULL::text WHERE false $$;

-- file names: Flyway, Bytebase, repeatable, everything else ignored with the reason
SELECT n, (bb._migration_file(n)).*
  FROM unnest(ARRAY['V1__init.sql', 'V1_2__orders.sql', 'V1.10__x.sql', 'V0_5__x.sql', 'V007__lead.SQL',
                    '20261201_add_orders.sql', '1.0__double.sql', '2_3_more_words.sql', 'R__views.sql',
                    'R__.sql', 'V1_init.sql', 'V__x.sql', 'Vx__y.sql', '1_2_3.sql', 'README.md',
                    'init.sql', 'v1__lower.sql', 'V1__', NULL]) n;
-- versions sort numerically per segment (bb._version_key)
SELECT n, (bb._migration_file(n)).version
  FROM unnest(ARRAY['V1_10__a.sql', 'V1_9__b.sql', 'V2__c.sql', 'V1__d.sql', '0001_e.sql', 'V1.0.1__f.sql']) n
 ORDER BY bb._version_key((bb._migration_file(n)).version), n;

-- header options: engine and targets; bb:ignore passes through; the rest is refused
SELECT b, (bb._file_options(b)).*
  FROM unnest(ARRAY[E'-- bb:engine mysql\nCREATE TABLE t (id int);',
                    E'\n-- a comment\n-- bb:targets pg-dev/shop, tenants\nSELECT 1;',
                    E'-- bb:ignore table.require-pk\nCREATE TABLE t (id int);',
                    E'-- bb:engine oracle\nSELECT 1;',
                    E'-- bb:engine mysql\n-- bb:engine postgres\nSELECT 1;',
                    E'-- bb:targets\nSELECT 1;',
                    E'-- bb:transaction off\nSELECT 1;',
                    E'SELECT 1;\n-- bb:engine mysql']) b;

-- contents: UTF-8 (a BOM is dropped), empty, invalid bytes with their line, duplicates
SELECT n, path, kind, version, body, left(checksum, 12) AS checksum, engine, targets, why, duplicates
  FROM bb._classify_files(
    ARRAY['V1__a.sql', 'sub/V1.0__b.sql', 'V2__bom.sql', 'V3__empty.sql', 'V4__bad.sql', 'V5__nul.sql',
          'R__r.sql', 'notes.txt', 'V6__big.sql', 'V7__hdr.sql'],
    ARRAY[convert_to('SELECT 1;', 'UTF8'), convert_to('SELECT 2;', 'UTF8'), '\xefbbbf53454c45435420333b'::bytea,
          convert_to(E'  \n\t', 'UTF8'), '\x53454c4543540a0a27ff273b'::bytea, '\x53454c45435400'::bytea,
          convert_to('SELECT 4;', 'UTF8'), convert_to('hello', 'UTF8'), NULL, convert_to(E'-- bb:nope\nSELECT 1;', 'UTF8')],
    ARRAY[NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'larger than bytebase.git_max_file_size', NULL]);
-- the checksum is the changelog's: sha256 of the script as applied
SELECT checksum = encode(sha256('SELECT 3;'::bytea), 'hex') AS same_as_apply
  FROM bb._classify_files(ARRAY['V2__bom.sql'], ARRAY['\xefbbbf53454c45435420333b'::bytea]);
SELECT bb._utf8_error_line('\x610a620ac0af'::bytea) AS overlong, bb._utf8_error_line('\xe282ac'::bytea) AS euro;

-- repositories: who may add them, what a URL, branch, path and poll may be
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/acme/shop.git')$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_bb_dave;
SELECT u, pg_temp.try(format('SELECT bb.add_repository(%L, %L, %L)', 'shop', 'r', u))
  FROM unnest(ARRAY['https://ci:s3cret@git.example.com/acme/shop.git', 'ssh://git@git.example.com/acme/shop.git',
                    'git@github.com:acme/shop.git', 'ssh://git.example.com/x.git', 'ftp://x/y', 'relative/path', E'https://git.example.com/a b',
                    'file:///srv/git/shop.git', '/srv/git/shop.git']) u;
SELECT b, pg_temp.try(format('SELECT bb.add_repository(%L, %L, %L, branch => %L)', 'shop', 'r', 'https://git.example.com/s.git', b))
  FROM unnest(ARRAY['', '-x', 'a..b', 'a b', 'HEAD', 'x.lock', 'feature/', 'release/2026']) b
 WHERE b <> 'release/2026';
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/s.git', path => '../etc')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/s.git', poll => '0.5 s')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/s.git', poll => '2 days')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('nope', 'r', 'https://git.example.com/s.git')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'bad name', 'https://git.example.com/s.git')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/s.git', targets => '{pg-dev/other}')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'https://git.example.com/s.git', targets => '{nogroup}')$$);
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'r', 'http://git.example.com/s.git', token => 'tok')$$);
RESET SESSION AUTHORIZATION;

BEGIN;
-- an https repository with a token: the token is in a user mapping, nowhere else
SET LOCAL SESSION AUTHORIZATION regress_bb_dave;
SELECT bb.add_repository('shop', 'shop-migrations', 'https://git.example.com/acme/shop.git', path => './migrations//',
                         poll => '10 s', targets => '{pg-dev/shop, pg-stg/shop, pg-prod/shop}', token => 'ghp_s3cret');
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'shop-migrations', 'https://git.example.com/acme/shop.git')$$);
SELECT name, project, url, branch, path, poll, targets, allow_out_of_order, block_on_error, enabled, has_token, created_by
  FROM bb.repositories;
-- (the successful call's row; failed calls are written later by the launcher, in any order)
SELECT arguments->>'token' AS token_in_audit FROM bb.audit_log
 WHERE "function" = 'add_repository' AND outcome = 'ok' ORDER BY id DESC LIMIT 1;
SELECT count(*) AS audit_rows_with_the_token FROM bb.audit_log WHERE arguments::text LIKE '%ghp_s3cret%';
RESET SESSION AUTHORIZATION;
SELECT s.srvname, um.umoptions FROM pg_user_mapping um JOIN pg_foreign_server s ON s.oid = um.umserver
 WHERE s.srvname = 'bytebase_repo_shop-migrations';
SELECT count(*) AS rows_holding_the_token FROM bb.repository r WHERE r::text LIKE '%s3cret%';
SET LOCAL SESSION AUTHORIZATION regress_bb_dave;
SELECT pg_temp.try($$SELECT umoptions FROM pg_user_mapping$$);
-- the token rotates and goes; the foreign server goes with it
SELECT bb.alter_repository('shop-migrations', token => 'ghp_n3w', poll => '30 s');
SELECT pg_temp.try($$SELECT bb.alter_repository('shop-migrations', token => 'x', remove_token => true)$$);
SELECT bb.alter_repository('shop-migrations', remove_token => true);
SELECT has_token, poll FROM bb.repositories;
SELECT count(*) AS servers FROM pg_foreign_server WHERE srvname LIKE 'bytebase_repo_%';
-- a developer sees the repositories of their projects only, and cannot change them
SET LOCAL SESSION AUTHORIZATION regress_bb_alice;
SELECT name FROM bb.repositories;
SELECT pg_temp.try($$SELECT bb.drop_repository('shop-migrations')$$);
-- sync_repository needs a committed repository and READ COMMITTED
SELECT pg_temp.try($$SELECT bb.sync_repository('shop-migrations')$$);
SELECT pg_temp.try($$SELECT bb.sync_repository('nope')$$);
SELECT pg_temp.try($$SELECT bb.sync_repository('shop-migrations', timeout => '-1 s')$$);
RESET SESSION AUTHORIZATION;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.try($$SELECT bb.add_repository('shop', 'rr', 'https://git.example.com/s.git')$$);
SELECT pg_temp.try($$SELECT bb.sync_repository('rr')$$);
ROLLBACK;
-- a developer outside the project does not see it
BEGIN;
SELECT bb.create_project('secret');
SELECT bb.add_repository('secret', 'hidden', 'https://git.example.com/h.git');
SET LOCAL SESSION AUTHORIZATION regress_bb_alice;
SELECT count(*) AS visible FROM bb.repositories WHERE name = 'hidden';
SELECT pg_temp.try($$SELECT bb.sync_repository('hidden')$$);
ROLLBACK;

-- what the watcher does with fetches (bb._gitops_record as the worker calls it)
CREATE FUNCTION pg_temp.fetch(repo text, head text, files jsonb, rewritten boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE sid bigint; f text[]; v text[];
BEGIN
  f := ARRAY(SELECT e.key FROM jsonb_each_text(files) e ORDER BY e.key);
  v := ARRAY(SELECT e.value FROM jsonb_each_text(files) e ORDER BY e.key);
  sid := bb._gitops_record((SELECT r.id FROM bb.repository r WHERE r.name = repo), 'request', now(), head, rewritten,
    CASE WHEN rewritten THEN 'history rewritten' END, f,
    ARRAY(SELECT CASE WHEN left(x, 2) = '\x' THEN decode(substr(x, 3), 'hex') ELSE convert_to(x, 'UTF8') END FROM unnest(v) x),
    NULL, ARRAY(SELECT md5(x) FROM unnest(v) x), ARRAY(SELECT length(x)::bigint FROM unnest(v) x),
    ARRAY(SELECT head FROM unnest(f)), ARRAY(SELECT 'Ada <ada@example.com>' FROM unnest(f)),
    ARRAY(SELECT now() FROM unnest(f)));
  RETURN (SELECT cardinality(s.issues) || ' issue(s), warning: ' || coalesce(s.warning, '-')
            FROM bb.repository_sync s WHERE s.id = sid);
END $$;
CREATE FUNCTION pg_temp.files() RETURNS TABLE(file text, kind text, version text, state text, why text, issue_title text,
                                              issue_by name, commit text, author text)
LANGUAGE sql AS $$
  SELECT f.file, f.kind, f.version, f.state, f.why, i.title, i.created_by, f.commit, f.author
    FROM bb.repository_files f LEFT JOIN bb.issue i ON i.id = f.issue
   WHERE f.repository = 'shop-migrations'
$$;

BEGIN;
SET LOCAL SESSION AUTHORIZATION regress_bb_dave;
SELECT bb.add_repository('shop', 'shop-migrations', 'https://git.example.com/acme/shop.git', path => 'migrations',
                         targets => '{pg-dev/shop, pg-stg/shop, pg-prod/shop}');
RESET SESSION AUTHORIZATION;
-- 1. V1 and V2: two issues in version order, created by the role that added the repository
SELECT pg_temp.fetch('shop-migrations', 'c1', '{"V2__orders.sql": "CREATE TABLE orders (id int);", "V1__init.sql": "CREATE TABLE customers (id int);", "README.md": "hi"}');
SELECT * FROM pg_temp.files();
SELECT i.id - min(i.id) OVER () AS n, i.title, i.version, i.created_by, t.database, t.status
  FROM bb.issue i JOIN bb.tasks t ON t.issue = i.id ORDER BY i.id, t.id;
SELECT "function", who, arguments->>'title' AS title FROM bb.audit_log WHERE "function" = 'apply' ORDER BY id;
-- the same commit again: nothing new
SELECT pg_temp.fetch('shop-migrations', 'c1', '{"V2__orders.sql": "CREATE TABLE orders (id int);", "V1__init.sql": "CREATE TABLE customers (id int);", "README.md": "hi"}');
-- a poll that finds the same commit (the helper then sends the head only, no files) records
-- nothing and forgets no file
SELECT bb._gitops_record((SELECT r.id FROM bb.repository r WHERE r.name = 'shop-migrations'), 'poll', now(), 'c1', false,
                         NULL, '{}', '{}', NULL, '{}', '{}', '{}', '{}', '{}') IS NULL AS poll_records_nothing,
       (SELECT count(*) FROM bb.repository_files WHERE deleted_at IS NULL) AS files_kept,
       (SELECT count(*) FROM bb.repository_sync) AS syncs;
-- V1 and V2 applied everywhere (as the workers would record them)
UPDATE bb.task SET status = 'running' WHERE issue_id IN (SELECT id FROM bb.issue WHERE title IN ('V1__init.sql', 'V2__orders.sql'));
INSERT INTO bb.task_run (task_id, attempt, status)
SELECT t.id, 1, 'running' FROM bb.task t WHERE t.issue_id IN (SELECT id FROM bb.issue WHERE title IN ('V1__init.sql', 'V2__orders.sql'));
SELECT count(bb._task_finish(r.id, 'done', 1, 0)) AS applied FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id
 WHERE t.issue_id IN (SELECT id FROM bb.issue WHERE title IN ('V1__init.sql', 'V2__orders.sql'));
-- 2. V1 modified, V3 added: V1 is reported (both checksums), never applied again; V3 is held back
SELECT pg_temp.fetch('shop-migrations', 'c2', '{"V1__init.sql": "CREATE TABLE customers (id int, name text);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;"}');
SELECT file, state, regexp_replace(why, '[0-9a-f]{64}', '<sha256>', 'g') AS why, checksum <> applied_checksum AS both_checksums
  FROM bb.repository_files WHERE repository = 'shop-migrations';
-- 3. V1 restored: V3 goes
SELECT pg_temp.fetch('shop-migrations', 'c3', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;"}');
SELECT file, state, why FROM pg_temp.files();
-- 4. V0_5: out of order, not applied, holds nothing back; R__views: applied, again when it changes
SELECT pg_temp.fetch('shop-migrations', 'c4', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;", "V0_5__x.sql": "SELECT 5;", "R__views.sql": "CREATE VIEW v AS SELECT 1;", "V4__more.sql": "SELECT 4;"}');
SELECT file, version, state, why FROM pg_temp.files();
SELECT pg_temp.fetch('shop-migrations', 'c5', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;", "V0_5__x.sql": "SELECT 5;", "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 2;", "V4__more.sql": "SELECT 4;"}');
SELECT title, version, count(*) AS issues FROM bb.issue WHERE title = 'R__views.sql' GROUP BY 1, 2;
-- out-of-order allowed: dispatched with out_of_order
SELECT bb.alter_repository('shop-migrations', allow_out_of_order => true);
SELECT pg_temp.fetch('shop-migrations', 'c6', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;", "V0_5__x.sql": "SELECT 5;", "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 2;", "V4__more.sql": "SELECT 4;"}');
SELECT version, out_of_order FROM bb.issues WHERE title = 'V0_5__x.sql';
-- 5. broken files: empty, not UTF-8, the same version twice; they hold back later versions
SELECT pg_temp.fetch('shop-migrations', 'c7', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;", "V0_5__x.sql": "SELECT 5;", "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 2;", "V4__more.sql": "SELECT 4;", "V5__empty.sql": " ", "V6__bad.sql": "\\x53454c4543540aff", "V7__a.sql": "SELECT 7;", "V7.0__b.sql": "SELECT 70;", "V8__later.sql": "SELECT 8;"}');
SELECT file, state, why FROM pg_temp.files() WHERE version::numeric >= 5;
-- the same with block_on_error => false: V8 goes, the broken ones stay ignored
SELECT bb.alter_repository('shop-migrations', block_on_error => false);
SELECT pg_temp.fetch('shop-migrations', 'c8', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V2__orders.sql": "CREATE TABLE orders (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;", "V0_5__x.sql": "SELECT 5;", "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 2;", "V4__more.sql": "SELECT 4;", "V5__empty.sql": " ", "V6__bad.sql": "\\x53454c4543540aff", "V7__a.sql": "SELECT 7;", "V7.0__b.sql": "SELECT 70;", "V8__later.sql": "SELECT 8;"}');
SELECT file, state FROM pg_temp.files() WHERE version::numeric >= 5;
-- 6. a force-push that drops V2 (applied) and V8: reported; nothing is reverted
SELECT pg_temp.fetch('shop-migrations', 'c9', '{"V1__init.sql": "CREATE TABLE customers (id int);", "V3__note.sql": "ALTER TABLE orders ADD note text;"}', rewritten => true);
SELECT file, state, regexp_replace(why, '\(seen at [^)]*\)', '(seen at ...)') AS why FROM pg_temp.files() WHERE state = 'deleted';
SELECT last_commit, last_warning FROM bb.repositories;
SELECT count(*) AS changelog_of_v2 FROM bb.changelog WHERE version = '2';
-- a failed fetch keeps the error and backs off
SELECT bb._gitops_failed((SELECT id FROM bb.repository), 'poll', now(), 'could not reach https://git.example.com', '08006') IS NOT NULL AS logged;
SELECT last_error, next_fetch > now() AS backed_off FROM bb.repositories;
SELECT bb._gitops_failed((SELECT id FROM bb.repository), 'poll', now(), 'could not reach https://git.example.com', '08006') IS NULL AS same_error_not_logged_twice;
SELECT trigger, commit_after, cardinality(issues) AS issues, error, error_code FROM bb.repository_syncs ORDER BY id;
-- dropping the repository forgets its files, keeps the issues and the changelog
SELECT bb.drop_repository('shop-migrations');
SELECT (SELECT count(*) FROM bb.repository_file) AS files, (SELECT count(*) > 0 FROM bb.issue) AS issues_kept;
ROLLBACK;

-- the CLI's check and rollout: states from each target's changelog
BEGIN;
INSERT INTO bb.statement (hash, body) VALUES (encode(sha256('CREATE TABLE a ();'::bytea), 'hex'), 'CREATE TABLE a ();');
INSERT INTO bb.changelog_entry (database_id, version, checksum, statement_hash, status, applied_by)
VALUES (bb._database_id('pg-dev/shop'), '1', encode(sha256('CREATE TABLE a ();'::bytea), 'hex'),
        encode(sha256('CREATE TABLE a ();'::bytea), 'hex'), 'done', 'postgres'),
       (bb._database_id('pg-dev/shop'), '3', encode(sha256('CREATE TABLE a ();'::bytea), 'hex'),
        encode(sha256('CREATE TABLE a ();'::bytea), 'hex'), 'done', 'postgres');
SET LOCAL SESSION AUTHORIZATION regress_bb_alice;
SELECT file, kind, version, database, environment, state, why
  FROM bb.check_files('shop', ARRAY['V1__a.sql', 'V2__b.sql', 'V3__c.sql', 'V4__d.sql', 'notes.md', 'V5__e.sql'],
                      ARRAY[convert_to('CREATE TABLE a ();', 'UTF8'), convert_to('CREATE TABLE b ();', 'UTF8'),
                            convert_to('CREATE TABLE c ();', 'UTF8'), convert_to('CREATE TABLE d ();', 'UTF8'),
                            convert_to('x', 'UTF8'), '\xff'::bytea],
                      targets => '{pg-dev/shop, pg-stg/shop}');
SELECT pg_temp.try($$SELECT * FROM bb.check_files('shop', ARRAY['a.sql'], NULL)$$);
SELECT pg_temp.try($$SELECT * FROM bb.check_files('secret-nope', ARRAY['a.sql'], ARRAY['\x00'::bytea])$$);
-- rollout: V2 is out of order on pg-dev/shop (refused), V3 modified there (refused, holds back V4)
SELECT file, version, issue IS NOT NULL AS has_issue, action, why
  FROM bb.rollout_files('shop', ARRAY['V1__a.sql', 'V2__b.sql', 'V3__c.sql', 'V4__d.sql', 'notes.md'],
                        ARRAY[convert_to('CREATE TABLE a ();', 'UTF8'), convert_to('CREATE TABLE b ();', 'UTF8'),
                              convert_to('CREATE TABLE c ();', 'UTF8'), convert_to('CREATE TABLE d ();', 'UTF8'),
                              convert_to('x', 'UTF8')],
                        targets => '{pg-dev/shop, pg-stg/shop}');
-- on staging alone everything is pending: issues in version order; a second run follows them
SELECT file, action, regexp_replace(why, '[0-9]+', 'N') AS why FROM bb.rollout_files('shop', ARRAY['V2__b.sql', 'V1__a.sql', 'R__v.sql'],
  ARRAY[convert_to('CREATE TABLE b ();', 'UTF8'), convert_to('CREATE TABLE a ();', 'UTF8'), convert_to('SELECT 1;', 'UTF8')],
  targets => '{pg-stg/shop}');
SELECT file, action, why IS NOT NULL AS why FROM bb.rollout_files('shop', ARRAY['V2__b.sql', 'V1__a.sql', 'R__v.sql'],
  ARRAY[convert_to('CREATE TABLE b ();', 'UTF8'), convert_to('CREATE TABLE a ();', 'UTF8'), convert_to('SELECT 1;', 'UTF8')],
  targets => '{pg-stg/shop}');
SELECT title, version, created_by FROM bb.issues ORDER BY id;
ROLLBACK;

\i sql/rollout_teardown.inc
