-- Waves: a project's deployment orders each stage's databases into waves (match, parallel,
-- on_error); what may run, when a wave starts, what stops an issue, bb.issue_waves; bad input.
\i sql/rollout_setup.inc
ALTER EXTENSION bytebase DROP FUNCTION bb._review(text, text, text);
DROP FUNCTION bb._review(text, text, text);
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text)
LANGUAGE sql AS $$ SELECT NULL::int, NULL::text, NULL::text, NULL::text, NULL::text WHERE false $$;

-- ten tenants in dev: one canary, four in eu, five elsewhere
SELECT bb.create_project('saas');
INSERT INTO bb.database (instance_id, name, project_id, environment_id, labels)
SELECT bb._instance_id('my-dev'), format('tenant%s', lpad(n::text, 2, '0')), bb._project_id('saas'), bb._environment_id('dev'),
       CASE WHEN n = 1 THEN '{"tier": "tenant", "canary": "true", "region": "eu"}'
            WHEN n <= 5 THEN '{"tier": "tenant", "region": "eu"}'
            ELSE '{"tier": "tenant", "region": "us"}' END::jsonb
  FROM generate_series(1, 10) n;
SELECT bb.create_database_group('saas', 'all-tenants', '{"tier": "tenant"}');

-- bad deployments: a clear error each, nothing stored
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '{"wave": "a"}')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[1]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "speed": 3}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a"}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"parallel": 2}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 0}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1.5}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": "4"}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "on_error": "retry"}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "on_error": {"stop_after_failed_percent": 120}}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "on_error": {"stop_after": 2}}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "match": ["canary"]}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "match": {"labels": "canary"}}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "match": {"tags": {}}}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1, "match": {"name_pattern": "("}}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "a", "parallel": 1}, {"wave": "a", "parallel": 2}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "default", "parallel": 1}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[{"wave": "bad name", "parallel": 1}]')$$);
SELECT pg_temp.try($$SELECT bb.set_deployment('nope', '[]')$$);
SET SESSION AUTHORIZATION regress_bb_alice;
SELECT pg_temp.try($$SELECT bb.set_deployment('saas', '[]')$$);
RESET SESSION AUTHORIZATION;
SELECT deployment FROM bb.project WHERE name = 'saas';

-- a wave that matches nothing is allowed (shown empty), with a notice
SELECT bb.set_deployment('saas', $$[
  {"wave": "canary", "match": {"labels": {"canary": "true"}}, "parallel": 1, "on_error": "stop"},
  {"wave": "eu",     "match": {"labels": {"region": "eu"}},   "parallel": 2, "on_error": "continue"},
  {"wave": "apac",   "match": {"labels": {"region": "apac"}}, "parallel": 2},
  {"wave": "rest",                                            "parallel": 3, "on_error": {"stop_after_failed_percent": 40}}
]$$);

BEGIN;
SELECT bb.apply('saas', 'ALTER TABLE invoice ADD COLUMN tax_id text', ARRAY['all-tenants'], version => '2026.12.01') AS issue \gset
SELECT database, wave, status, blocked_by FROM bb.tasks WHERE issue = :issue ORDER BY id;
SELECT position, wave, parallel, on_error, databases, pending, state, waiting_for FROM bb.issue_waves WHERE issue = :issue;
-- only the canary may run; parallel 1
SELECT array_agg(d.name ORDER BY d.name) AS runnable FROM bb._runnable_tasks r JOIN bb.database d ON d.id = r.database_id WHERE r.issue_id = :issue;
-- the canary fails: on_error stop stops the issue (nothing else starts); bb.wait would say failed
UPDATE bb.task SET status = 'running' WHERE issue_id = :issue AND wave = 1;
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 1), 'failed', 'boom');
SELECT count(*) AS runnable FROM bb._runnable_tasks WHERE issue_id = :issue;
SELECT status, waiting_for FROM bb.issues WHERE id = :issue;
SELECT bb._issue_state(:issue);
SELECT wave, state, waiting_for FROM bb.issue_waves WHERE issue = :issue;
SELECT DISTINCT blocked_by FROM bb.tasks WHERE issue = :issue AND status = 'pending';
-- fixed and retried: the canary runs again, then the eu wave with two at a time
SELECT bb.retry(:issue);
SELECT array_agg(d.name ORDER BY d.name) AS runnable FROM bb._runnable_tasks r JOIN bb.database d ON d.id = r.database_id WHERE r.issue_id = :issue;
UPDATE bb.task SET status = 'running' WHERE issue_id = :issue AND wave = 1;
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 1), 'done');
SELECT count(*) AS runnable_eu FROM bb._runnable_tasks WHERE issue_id = :issue;
-- two running in eu: the parallel cap leaves the other two waiting
UPDATE bb.task SET status = 'running' WHERE id IN (SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 2 ORDER BY id LIMIT 2);
SELECT count(*) AS runnable_eu_at_cap FROM bb._runnable_tasks WHERE issue_id = :issue;
SELECT wave, running, pending, state FROM bb.issue_waves WHERE issue = :issue AND wave = 'eu';
-- an eu failure (on_error continue) does not stop anything
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 2 AND status = 'running' ORDER BY id LIMIT 1), 'failed', 'eu broke');
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 2 AND status = 'running'), 'done');
UPDATE bb.task SET status = 'running' WHERE issue_id = :issue AND wave = 2 AND status = 'pending';
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 2 AND status = 'running'), 'done');
-- the empty apac wave is passed over; rest: 3 at a time, stops at 40 % failed (2 of 5)
SELECT count(*) AS runnable_rest FROM bb._runnable_tasks WHERE issue_id = :issue;
UPDATE bb.task SET status = 'running' WHERE id IN (SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 4 ORDER BY id LIMIT 3);
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 4 AND status = 'running' ORDER BY id LIMIT 1), 'failed', 'rest broke 1');
SELECT bb._issue_stop_reason(:issue) AS stopped_after_one;
SELECT bb._task_transition(ARRAY(SELECT id FROM bb.task WHERE issue_id = :issue AND wave = 4 AND status = 'running' ORDER BY id LIMIT 1), 'failed', 'rest broke 2');
SELECT bb._issue_stop_reason(:issue) AS stopped_after_two;
SELECT count(*) AS runnable_after_threshold FROM bb._runnable_tasks WHERE issue_id = :issue;
SELECT position, wave, databases, done, failed, running, pending, state, waiting_for FROM bb.issue_waves WHERE issue = :issue;
ROLLBACK;

-- the deployment is frozen into the issue; a project without one has a single wave "all"
BEGIN;
SELECT bb.apply('saas', 'SELECT 1', ARRAY['all-tenants']) AS frozen \gset
SELECT bb.set_deployment('saas', NULL);
SELECT count(DISTINCT wave) AS waves_of_frozen FROM bb.tasks WHERE issue = :frozen;
SELECT bb.apply('saas', 'SELECT 2', ARRAY['all-tenants']) AS plain \gset
-- (its databases run the earlier issue first)
SELECT count(*) AS runnable_behind_frozen FROM bb._runnable_tasks WHERE issue_id = :plain;
SELECT bb.cancel(:frozen);
SELECT wave, parallel, on_error, databases, state FROM bb.issue_waves WHERE issue = :plain;
SELECT count(*) AS all_runnable FROM bb._runnable_tasks WHERE issue_id = :plain;
ROLLBACK;

-- the waiting issue of the example above, as a developer of another project sees it: nothing
SET SESSION AUTHORIZATION regress_bb_bob;
SELECT count(*) AS waves_seen FROM bb.issue_waves;
RESET SESSION AUTHORIZATION;

\i sql/rollout_teardown.inc
