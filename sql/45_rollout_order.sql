-- Order of changes: one change at a time per database in issue order, versions applied in
-- order (out_of_order to override), and resuming a statement-by-statement script at the
-- statement that failed (retry, retry from_start, retry_task).
\i sql/rollout_setup.inc
ALTER EXTENSION bytebase DROP FUNCTION bb._review(text, text, text);
DROP FUNCTION bb._review(text, text, text);
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text)
LANGUAGE sql AS $$ SELECT NULL::int, NULL::text, NULL::text, NULL::text, NULL::text WHERE false $$;

-- version order: numeric per segment, dates, trailing zeros, text after numbers
SELECT v, rank() OVER (ORDER BY bb._version_key(v)) AS position
  FROM unnest(ARRAY['1.9', '1.10', '1.2', '1.2.0', '1.2.1', '2026.11.30', '2026.12.01', '20261201',
                    '1.10-01', '1.10_02', 'v1', '1.a', '007', '7']) v
 ORDER BY bb._version_key(v), v;

BEGIN;
-- one change at a time per database, in issue order
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN a int', targets => '{pg-dev/shop}') AS first \gset
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN b int', targets => '{pg-dev/shop, pg-stg/shop}') AS second \gset
SELECT t.issue, t.database, t.status, t.blocked_by,
       EXISTS (SELECT 1 FROM bb._runnable_tasks r WHERE r.id = t.id) AS runnable
  FROM bb.tasks t WHERE t.issue IN (:first, :second) ORDER BY t.issue, t.database;
SELECT id, waiting_for FROM bb.issues WHERE id IN (:first, :second) ORDER BY id;
-- the first one done: the second one may go
UPDATE bb.task SET status = 'running' WHERE issue_id = :first;
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :first), 'done');
SELECT t.issue, t.database, t.blocked_by, EXISTS (SELECT 1 FROM bb._runnable_tasks r WHERE r.id = t.id) AS runnable
  FROM bb.tasks t WHERE t.issue = :second ORDER BY t.database;
-- a failed earlier issue holds the database until it is retried, skipped or canceled
SELECT bb.apply('shop', 'ALTER TABLE t ADD COLUMN c int', targets => '{pg-stg/shop}') AS third \gset
UPDATE bb.task SET status = 'running' WHERE issue_id = :second AND database_id = bb._database_id('pg-stg/shop');
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :second AND status = 'running'), 'failed', 'boom');
SELECT t.issue, t.blocked_by FROM bb.tasks t WHERE t.issue = :third;
SELECT bb.cancel(:second);
SELECT t.issue, t.blocked_by, EXISTS (SELECT 1 FROM bb._runnable_tasks r WHERE r.id = t.id) AS runnable
  FROM bb.tasks t WHERE t.issue = :third;
ROLLBACK;

-- versions apply in order on each database
BEGIN;
INSERT INTO bb.statement (hash, body) VALUES (repeat('a', 64), 'CREATE TABLE v ()');
INSERT INTO bb.changelog_entry (database_id, version, checksum, statement_hash, status, applied_by)
VALUES (bb._database_id('pg-dev/shop'), '1.10', repeat('a', 64), repeat('a', 64), 'done', 'postgres');
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 9', targets => '{pg-dev/shop}', version => '1.9')$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 9', targets => '{pg-dev/shop}', version => '1.10.0')$$);
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 9', targets => '{pg-dev/shop}', version => '1.9', out_of_order => NULL)$$);
SELECT bb.apply('shop', 'SELECT 9', targets => '{pg-dev/shop}', version => '1.9', out_of_order => true) IS NOT NULL AS out_of_order_applied;
SELECT version, out_of_order FROM bb.issues WHERE version = '1.9';
SELECT bb.apply('shop', 'SELECT 11', targets => '{pg-dev/shop, pg-stg/shop}', version => '1.11') IS NOT NULL AS above_applied;
-- a queued version counts too: 1.10.5 would run after 1.11
SELECT pg_temp.try($$SELECT bb.apply('shop', 'SELECT 105', targets => '{pg-stg/shop}', version => '1.10.5')$$);
SELECT bb.apply('shop', 'SELECT 20', targets => '{pg-stg/shop}', version => '2') IS NOT NULL AS above_queued;
SELECT count(*) AS issues FROM bb.issue;
ROLLBACK;

-- resume: a statement-by-statement task that failed at statement 3 of 4 resumes at 3
BEGIN;
SELECT bb.apply('shop', 'CREATE TABLE r1 (id int); CREATE TABLE r2 (id int); CREATE TABLE r2 (id int); CREATE TABLE r4 (id int);',
                targets => '{my-dev/shop}') AS issue \gset
SELECT task_id IS NOT NULL AS claimed, attempt, dry_run, first_statement FROM bb._task_claim(4242) \gset claim_
SELECT :'claim_claimed', :'claim_attempt', :'claim_first_statement';
SELECT bb._task_progress(r.id, 1), bb._task_progress(r.id, 2) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = :issue;
SELECT bb._task_finish(r.id, 'failed', 2, NULL, 'statement 3 of 4: table r2 exists [SQLSTATE 42S01]', false, true)
  FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = :issue;
SELECT status, resumes_at, error FROM bb.tasks WHERE issue = :issue;
SELECT from_statement, statements_done, status FROM bb.task_runs WHERE issue = :issue;
SELECT bb.retry(:issue) AS requeued;
SELECT first_statement FROM bb._task_claim(4242);
SELECT bb._task_finish(r.id, 'failed', 2, NULL, 'statement 3 of 4: again', false, false)
  FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = :issue AND r.status = 'running';
SELECT bb.retry(:issue, from_start => true) AS requeued;
SELECT resumes_at FROM bb.tasks WHERE issue = :issue;
SELECT first_statement FROM bb._task_claim(4242);
SELECT bb._task_finish(r.id, 'failed', 1, NULL, 'statement 2 of 4: once more', false, true)
  FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = :issue AND r.status = 'running';
SELECT bb.retry_task((SELECT id FROM bb.task WHERE issue_id = :issue)) AS requeued;
SELECT first_statement FROM bb._task_claim(4242);
SELECT bb._task_finish(r.id, 'done', 4, 0)
  FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = :issue AND r.status = 'running';
SELECT status, resumes_at FROM bb.tasks WHERE issue = :issue;
SELECT attempt, from_statement, statements_done, status FROM bb.task_runs WHERE issue = :issue ORDER BY attempt;
SELECT status FROM bb.changelog WHERE issue = :issue ORDER BY applied_at;
-- bad input
SELECT pg_temp.try('SELECT bb.retry_task(424242)');
SELECT pg_temp.try('SELECT bb.retry_task(NULL)');
SELECT pg_temp.try(format('SELECT bb.retry_task(%s)', (SELECT id FROM bb.task WHERE issue_id = :issue)));
ROLLBACK;

\i sql/rollout_teardown.inc
