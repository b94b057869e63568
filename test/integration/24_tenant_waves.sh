#!/usr/bin/env bash
# One change to 40 tenant databases (37 PostgreSQL, 3 MariaDB) in waves, with the real workers:
# a failing canary (on_error stop) stops the rest; fixed and retried, every tenant gets it, the
# waves in order and within their parallel caps; a failure threshold stops a wave's rollout; a
# tenant added later catches up by re-applying the same version; a tenant that vanished between
# plan and run fails clearly while the others go on.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

N_PG=37
fresh_extension
pg_dbs=""
for ((i = 1; i <= N_PG; i++)); do pg_dbs="$pg_dbs tw_t$(printf %02d "$i")"; done
recreate_target_dbs $pg_dbs
for d in $pg_dbs; do target_psql "$d" -c "CREATE TABLE invoice (id bigint PRIMARY KEY)" >/dev/null; done
target_psql tw_t01 -c "DROP TABLE invoice" >/dev/null      # the canary is broken
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('my', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS tw_m' || n) FROM generate_series(1, 3) n;
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE tw_m' || n) FROM generate_series(1, 3) n;
SELECT bb.remote_query('my', 'tw_m' || n, 'CREATE TABLE invoice (id bigint PRIMARY KEY)') FROM generate_series(1, 3) n;
SELECT bb.sync_instance('my');
SQL
add_target_pg pg dev
ctl_psql >/dev/null <<'SQL'
SELECT bb.create_project('saas');
SELECT bb.assign_database('pg/' || d.name, 'saas', 'dev',
         CASE WHEN d.name = 'tw_t01' THEN '{"tier": "tenant", "canary": "true"}'
              WHEN d.name <= 'tw_t12' THEN '{"tier": "tenant", "region": "eu"}'
              ELSE '{"tier": "tenant", "region": "us"}' END::jsonb)
  FROM bb.database d JOIN bb.instance i ON i.id = d.instance_id WHERE i.name = 'pg' AND d.name LIKE 'tw_t%';
SELECT bb.assign_database('my/tw_m' || n, 'saas', 'dev', '{"tier": "tenant", "region": "eu"}') FROM generate_series(1, 3) n;
SELECT bb.create_database_group('saas', 'all-tenants', '{"tier": "tenant"}');
SELECT bb.set_deployment('saas', $$[
  {"wave": "canary", "match": {"labels": {"canary": "true"}}, "parallel": 1, "on_error": "stop"},
  {"wave": "eu",     "match": {"labels": {"region": "eu"}},   "parallel": 2, "on_error": "continue"},
  {"wave": "rest",                                            "parallel": 4, "on_error": {"stop_after_failed_percent": 10}}
]$$);
SQL
review_off
require_control
is "the group previews 40 tenants" "40" "$(ctl_psql -c "SELECT count(*) FROM bb.database_group_members('saas', 'all-tenants')")"

# ---- the canary fails: nothing else starts
MIG='ALTER TABLE invoice ADD COLUMN tax_id text;'
issue=$(ctl_psql -c "SELECT bb.apply('saas', '$MIG', ARRAY['all-tenants'], version => '2026.12.01')")
is "the canary's failure stops the issue" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '120 s')")"
is "only the canary ran" "1|1" \
	"$(ctl_psql -c "SELECT count(*) FILTER (WHERE attempts > 0) || '|' || count(*) FILTER (WHERE status = 'failed') FROM bb.task WHERE issue_id = $issue")"
like "the issue says why" "wave canary stopped the rollout: 1 of 1 failed \\(on_error stop\\)" \
	"$(ctl_psql -c "SELECT waiting_for FROM bb.issues WHERE id = $issue")"
is "waves at a glance" "canary:1:failed|eu:14:stopped|rest:25:stopped" \
	"$(ctl_psql -c "SELECT string_agg(wave || ':' || databases || ':' || state, '|' ORDER BY position) FROM bb.issue_waves WHERE issue = $issue")"

# ---- fixed and retried: every tenant, wave after wave, never above a wave's parallel cap
target_psql tw_t01 -c "CREATE TABLE invoice (id bigint PRIMARY KEY)" >/dev/null
ok "retry the failed tenants" ctl_psql -c "SELECT bb.retry($issue)"
is "all 40 tenants are done" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '300 s')")"
is "each tenant has the column (PostgreSQL)" "$N_PG" "$(for d in $pg_dbs; do
	target_psql "$d" -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'invoice' AND column_name = 'tax_id'"; done | grep -c '^1$')"
is "each tenant has the column (MariaDB)" "3" "$(ctl_psql -c "SELECT count(*) FROM generate_series(1, 3) n,
	bb.remote_query('my', 'tw_m' || n, 'SELECT count(*) AS c FROM information_schema.columns WHERE table_name = ''invoice'' AND column_name = ''tax_id'' AND table_schema = DATABASE()') r WHERE r->>'c' = '1'")"
is "waves ran in order: each started after the one before finished" "t" "$(ctl_psql -c "
	WITH w AS (SELECT t.wave, min(r.started_at) AS first_start, max(r.finished_at) AS last_end
	             FROM bb.task t JOIN bb.task_run r ON r.task_id = t.id
	            WHERE t.issue_id = $issue AND r.status = 'done' GROUP BY t.wave)
	SELECT bool_and(b.first_start >= a.last_end) FROM w a JOIN w b ON b.wave = a.wave + 1")"
is "no wave ever ran more than its parallel cap" "t" "$(ctl_psql -c "
	SELECT bool_and(peak <= coalesce(sw.parallel, 1000))
	  FROM (SELECT t.stage_id, t.wave, max((SELECT count(*) FROM bb.task_run r2 JOIN bb.task t2 ON t2.id = r2.task_id
	                                         WHERE t2.stage_id = t.stage_id AND t2.wave = t.wave
	                                           AND r2.started_at <= r.started_at AND coalesce(r2.finished_at, now()) > r.started_at)) AS peak
	          FROM bb.task t JOIN bb.task_run r ON r.task_id = t.id WHERE t.issue_id = $issue GROUP BY 1, 2) x
	  JOIN bb.stage_wave sw ON sw.stage_id = x.stage_id AND sw.wave = x.wave")"
is "per tenant: the latest version" "40" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.changelog_entry WHERE version = '2026.12.01' AND status = 'done'")"

# ---- a failure threshold: 10 % of the rest wave (25 tenants) = 3 failures stop it
for d in tw_t20 tw_t21 tw_t22 tw_t23; do target_psql "$d" -c "DROP TABLE invoice" >/dev/null; done
issue=$(ctl_psql -c "SELECT bb.apply('saas', 'ALTER TABLE invoice ADD COLUMN note text;', ARRAY['all-tenants'], version => '2026.12.02')")
is "the threshold stops the rollout" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '300 s')")"
like "it says which wave and why" "wave rest stopped the rollout: [34] of 25 failed \\(on_error stop_after_failed_percent 10\\)" \
	"$(ctl_psql -c "SELECT waiting_for FROM bb.issues WHERE id = $issue")"
is "canary and eu finished before" "canary:done|eu:done" \
	"$(ctl_psql -c "SELECT string_agg(wave || ':' || state, '|' ORDER BY position) FROM bb.issue_waves WHERE issue = $issue AND position < 3")"
is "the rest wave stopped with tenants left" "t" \
	"$(ctl_psql -c "SELECT pending > 0 AND state = 'stopped' FROM bb.issue_waves WHERE issue = $issue AND wave = 'rest'")"
for d in tw_t20 tw_t21 tw_t22 tw_t23; do target_psql "$d" -c "CREATE TABLE invoice (id bigint PRIMARY KEY, tax_id text)" >/dev/null; done
ok "retry" ctl_psql -c "SELECT bb.retry($issue)"
is "then all done" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '300 s')")"

# ---- a tenant added later catches up by applying the same version again; applied ones skip
recreate_target_dbs tw_new
target_psql tw_new -c "CREATE TABLE invoice (id bigint PRIMARY KEY)" >/dev/null
ctl_psql -c "SELECT bb.sync_instance('pg')" -c "SELECT bb.assign_database('pg/tw_new', 'saas', 'dev', '{\"tier\": \"tenant\", \"region\": \"us\"}')" >/dev/null
issue=$(ctl_psql -c "SELECT bb.apply('saas', '$MIG', ARRAY['all-tenants'], version => '2026.12.01', out_of_order => true)")
is "the catch-up finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '120 s')")"
is "40 skipped as applied, the new tenant done" "skipped:40|done:1" \
	"$(ctl_psql -c "SELECT string_agg(status || ':' || n, '|' ORDER BY status DESC) FROM (SELECT status, count(*) n FROM bb.task WHERE issue_id = $issue GROUP BY 1) x")"

# ---- a tenant that vanished between plan and run fails clearly, the others go on (it is dropped
#      while the canary, planned first, runs)
ctl_psql -c "SELECT bb.set_deployment('saas', '[{\"wave\": \"canary\", \"match\": {\"labels\": {\"canary\": \"true\"}}, \"parallel\": 1},
                                              {\"wave\": \"rest\", \"parallel\": 8, \"on_error\": \"continue\"}]')" >/dev/null
ctl_psql -c "SELECT bb.create_database_group('saas', 'pg-tenants', '{\"tier\": \"tenant\"}', '^tw_(t|new)')" >/dev/null
issue=$(ctl_psql -c "SELECT bb.apply('saas', 'SELECT pg_sleep(3); CREATE TABLE later (id int PRIMARY KEY);', ARRAY['pg-tenants'])")
ok "the canary runs" wait_for_value "SELECT status FROM bb.tasks WHERE issue = $issue AND wave = 'canary'" "running" 60
target_psql postgres -c "DROP DATABASE IF EXISTS tw_new WITH (FORCE)" >/dev/null
is "the issue fails because of that tenant only" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '300 s')")"
is "38 PostgreSQL tenants: 37 done, 1 failed" "done:37|failed:1" \
	"$(ctl_psql -c "SELECT string_agg(status || ':' || n, '|' ORDER BY status) FROM (SELECT status, count(*) n FROM bb.task WHERE issue_id = $issue GROUP BY 1) x")"
like "the failed one says its database is gone" 'tw_new.*(does not exist|not exist)' \
	"$(ctl_psql -c "SELECT database || ' ' || error FROM bb.tasks WHERE issue = $issue AND status = 'failed'")"

ctl_psql -c "SELECT bb.cancel(id) FROM bb.issue WHERE status IN ('open', 'failed')" >/dev/null
for d in $pg_dbs; do target_psql postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
done_testing
