#!/usr/bin/env bash
# tenants_bench.sh — multi-tenant planning and status at scale, each measurement against a
# hand-written baseline run in the same invocation (ratios; absolute times move with the load of
# this shared machine).  A generated fleet of N PostgreSQL tenants with T tables each (6 columns,
# 2 indexes per table; snapshots inserted directly, no engine needed), each tenant with C
# changelog entries and a task in each of 3 issues, a deployment of 3 waves (canary 1 %, eu half,
# rest).  Measured (best of 3 after a warm-up):
#   * bb.apply planning an issue on the N-database group (review included), rolled back, against
#     baseline: INSERT of the same N task rows by hand (goal < 1 s at N = 10,000);
#   * bb.issue_waves / bb.issues of that issue, committed (the environment is protected: its tasks
#     wait for approval, no worker runs them), against baseline: count(*) of its tasks by status;
#   * bb.database_versions, all rows and one tenant, against baseline: the hand-written join of
#     bb.database and bb.changelog_entry (max version per database) a user wrote before it existed;
#   * bb.schema_consistency on an unchanged fleet, one tenant changed, every 10th and every other
#     tenant drifted, against baseline: the cheapest whole-fleet check (distinct snapshot texts:
#     says *whether* tenants differ, not how).
#
# Usage: test/bench/tenants_bench.sh [N] [T] [C]     (default 10000 20 5)
# Needs the control cluster of test/lib/engines.sh (env: BB_PORT_BASE or BB_RUN_DIR); it drops
# and recreates the extension in the control database.
set -euo pipefail
N=${1:-10000}
T=${2:-20}
C=${3:-5}
. "$(dirname "$0")/../lib/common.sh"
psql_t() { ctl_psql -v ON_ERROR_STOP=1 "$@"; }
# Prints the time of a statement in ms, measured in the server (clock_timestamp around it, its
# rows sent to /dev/null) so that psql's start and connection (slow on a loaded machine) are not
# counted: best of 3 after a warm-up, all in one session.  With a second argument "rollback"
# each run is in a transaction that is rolled back (planning leaves no issue behind).
timed() {
	local sql=$1 begin= end=
	[ "${2:-}" = rollback ] && { begin='BEGIN;'; end='ROLLBACK;'; }
	for _ in 1 2 3 4; do
		cat <<SQL
$begin
SELECT clock_timestamp() AS t0 \gset
$sql \g /dev/null
SELECT 'ms=' || round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000);
$end
SQL
	done | psql_t -q -t -A | sed -n 's/^ms=//p' | sed 1d | sort -n | head -1
}
timed_rollback() { timed "$1" rollback; }
# One line: label, measured ms, baseline ms (at least 1), ratio.
report() {  # label ms base_ms
	local b=$3; [ "$b" -gt 0 ] || b=1
	printf '%-38s %6s ms   baseline %6s ms   ratio %s\n' "$1" "$2" "$b" "$(echo "scale=2; $2 / $b" | bc -l)"
}

psql_t -v n="$N" -v t="$T" -v c="$C" <<'EOF' >/dev/null
SET client_min_messages = warning;
DO $$ DECLARE s name; BEGIN
  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END $$;
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pg1', 'postgres', '127.0.0.1', 1, environment => 'prod', verify => false);
SELECT bb.create_project('saas');
CREATE TEMP TABLE snap AS
SELECT jsonb_build_object('tables', jsonb_agg(jsonb_build_object(
         'schema', 'public', 'name', 'table_' || t,
         'columns', jsonb_build_array(
            jsonb_build_object('name', 'id', 'type', 'bigint', 'nullable', false, 'default', format('nextval(''table_%s_id_seq''::regclass)', t)),
            jsonb_build_object('name', 'tenant', 'type', 'text', 'nullable', false, 'default', null),
            jsonb_build_object('name', 'name', 'type', 'character varying(200)', 'nullable', true, 'default', null),
            jsonb_build_object('name', 'amount', 'type', 'numeric(12,2)', 'nullable', false, 'default', '0'),
            jsonb_build_object('name', 'created_at', 'type', 'timestamp with time zone', 'nullable', false, 'default', 'now()'),
            jsonb_build_object('name', 'flags', 'type', 'integer[]', 'nullable', true, 'default', null)),
         'indexes', jsonb_build_array(
            jsonb_build_object('name', 'table_' || t || '_pkey', 'columns', jsonb_build_array('id'), 'unique', true, 'primary', true),
            jsonb_build_object('name', 'table_' || t || '_tenant_idx', 'columns', jsonb_build_array('tenant', 'created_at'), 'unique', false, 'primary', false)))
         ORDER BY t)) AS s
  FROM generate_series(1, :t) t;
INSERT INTO bb.database (instance_id, name, project_id, environment_id, labels, schema_snapshot, synced_at)
SELECT bb._instance_id('pg1'), format('tenant_%s', lpad(k::text, 5, '0')), bb._project_id('saas'),
       bb._environment_id('prod'),
       jsonb_build_object('tier', 'tenant', 'canary', (k % 100 = 1)::text, 'region', CASE WHEN k % 2 = 0 THEN 'eu' ELSE 'us' END),
       (SELECT s FROM snap), now()
  FROM generate_series(1, :n) k;
SELECT bb.create_database_group('saas', 'tenants', '{"tier": "tenant"}');
SELECT bb.set_deployment('saas', $d$[
  {"wave": "canary", "match": {"labels": {"canary": "true"}}, "parallel": 1,  "on_error": "stop"},
  {"wave": "eu",     "match": {"labels": {"region": "eu"}},   "parallel": 16, "on_error": "continue"},
  {"wave": "rest",                                            "parallel": 32, "on_error": {"stop_after_failed_percent": 5}}
]$d$);
-- history: C changelog entries per tenant, 3 open issues (a task waiting for approval, one
-- failed, one done) on every tenant
INSERT INTO bb.statement (hash, body) VALUES (repeat('b', 64), 'ALTER TABLE t ADD c int');
INSERT INTO bb.changelog_entry (database_id, version, checksum, statement_hash, status, applied_by)
SELECT d.id, '1.' || v, repeat('b', 64), repeat('b', 64), 'done', 'bench' FROM bb.database d, generate_series(1, :c) v;
INSERT INTO bb.issue (project_id, statement_hash, status, title)
SELECT bb._project_id('saas'), repeat('b', 64), 'open', 'issue ' || k FROM generate_series(1, 3) k;
INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
SELECT i.id, bb._environment_id('prod'), 1, true FROM bb.issue i;
INSERT INTO bb.task (issue_id, stage_id, database_id, status)
SELECT s.issue_id, s.id, d.id, (ARRAY['pending_approval', 'failed', 'done'])[s.issue_id]
  FROM bb.stage s, bb.database d;
ANALYZE;
EOF
echo "# tenants_bench: $N tenants x $T tables, $C changes and 3 issues each ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
MIG="ALTER TABLE invoice ADD COLUMN tax_id text"
# planning: bb.apply on the whole group vs writing its N task rows by hand
plan=$(timed_rollback "SELECT bb.apply('saas', '$MIG', ARRAY['tenants'], version => '2026.12.01')")
plan_base=$(timed_rollback "WITH i AS (INSERT INTO bb.issue (project_id, statement_hash, status, title)
    SELECT bb._project_id('saas'), repeat('b', 64), 'open', 'by hand' RETURNING id),
  s AS (INSERT INTO bb.stage (issue_id, environment_id, position, needs_approval)
    SELECT i.id, bb._environment_id('prod'), 1, true FROM i RETURNING id, issue_id)
  INSERT INTO bb.task (issue_id, stage_id, database_id, status)
  SELECT s.issue_id, s.id, d.id, 'pending_approval' FROM s, bb.database d")
report "bb.apply planning ($N databases)" "$plan" "$plan_base"
# status of that issue, committed (waits for approval: no worker runs it)
issue=$(psql_t -q -t -A -c "SELECT bb.apply('saas', '$MIG', ARRAY['tenants'], version => '2026.12.01')")
psql_t -c "ANALYZE bb.task" >/dev/null
report "bb.issue_waves (one issue)" \
	"$(timed "SELECT * FROM bb.issue_waves WHERE issue = $issue")" \
	"$(timed "SELECT wave, status, count(*) FROM bb.task WHERE issue_id = $issue GROUP BY 1, 2")"
report "bb.issues (one issue)" \
	"$(timed "SELECT * FROM bb.issues WHERE id = $issue")" \
	"$(timed "SELECT status, count(*) FROM bb.task WHERE issue_id = $issue GROUP BY 1")"
# per-tenant status vs the hand-written join
VBASE="SELECT d.id, max(x.version) FROM bb.database d LEFT JOIN bb.changelog_entry x ON x.database_id = d.id AND x.status = 'done' GROUP BY d.id"
report "bb.database_versions, all rows" \
	"$(timed "SELECT count(*) FROM (SELECT * FROM bb.database_versions) x")" \
	"$(timed "SELECT count(*) FROM ($VBASE) x")"
report "bb.database_versions, one tenant" \
	"$(timed "SELECT * FROM bb.database_versions WHERE database = 'pg1/tenant_00042'")" \
	"$(timed "SELECT max(x.version) FROM bb.changelog_entry x WHERE x.database_id = bb._database_id('pg1/tenant_00042') AND x.status = 'done'")"
# the consistency report vs the cheapest whole-fleet check
RBASE="SELECT count(DISTINCT md5(schema_snapshot::text)) FROM bb.database WHERE vanished_at IS NULL"
REP="SELECT count(*) FROM bb.schema_consistency('saas', 'tenants')"
report "report, unchanged fleet" "$(timed "$REP")" "$(timed "$RBASE")"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_insert(schema_snapshot, '{tables,3,columns,0}',
  '{\"name\": \"note\", \"type\": \"text\", \"nullable\": true, \"default\": null}') WHERE name = 'tenant_00007'" >/dev/null
report "report, one tenant changed" "$(timed "$REP")" "$(timed "$RBASE")"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_set(schema_snapshot, '{tables,0,columns,1,default}',
  to_jsonb(format('''%s''::text', name))) WHERE id % 10 = 0" >/dev/null
report "report, every 10th tenant drifted" "$(timed "$REP")" "$(timed "$RBASE")"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_set(schema_snapshot, '{tables,0,columns,1,default}',
  to_jsonb(format('''%s''::text', name))) WHERE id % 2 = 0" >/dev/null
report "report, every other tenant drifted" "$(timed "$REP")" "$(timed "$RBASE")"
