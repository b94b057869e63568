#!/usr/bin/env bash
# tenants_bench.sh — bb.schema_consistency and bb.database_versions on a generated fleet of N
# PostgreSQL tenants with T tables each (6 columns, 2 indexes per table; snapshots inserted
# directly, no engine needed), each tenant with C changelog entries and a task in each of 3 open
# issues.  Prints the time of: the report of an unchanged fleet, with one tenant changed, with
# every 10th tenant drifted on one table, with every other tenant drifted on one table; the whole
# bb.database_versions and one tenant's row (and its plan).  No assertions: a measurement.
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
# Prints the wall time of a statement in ms (best of 3, after one warm-up run).
timed() {
	local sql=$1 best=
	for _ in 1 2 3 4; do
		local s e
		s=$(date +%s%N); psql_t -c "$sql" >/dev/null; e=$(date +%s%N)
		local ms=$(( (e - s) / 1000000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	echo "$best"
}

psql_t -v n="$N" -v t="$T" -v c="$C" <<'EOF' >/dev/null
SET client_min_messages = warning;
DO $$ DECLARE s name; BEGIN
  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END $$;
DROP EXTENSION IF EXISTS bytebase CASCADE;
CREATE EXTENSION bytebase;
SELECT bb.create_environment('prod');
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
       bb._environment_id('prod'), '{"tier": "tenant"}', (SELECT s FROM snap), now()
  FROM generate_series(1, :n) k;
SELECT bb.create_database_group('saas', 'tenants', '{"tier": "tenant"}');
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
echo "fleet: $N tenants x $T tables, $C changes and 3 issues each"
echo "report, unchanged fleet:              $(timed "SELECT count(*) FROM bb.schema_consistency('saas', 'tenants')") ms"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_insert(schema_snapshot, '{tables,3,columns,0}',
  '{\"name\": \"note\", \"type\": \"text\", \"nullable\": true, \"default\": null}') WHERE name = 'tenant_00007'" >/dev/null
echo "report, one tenant changed:           $(timed "SELECT count(*) FROM bb.schema_consistency('saas', 'tenants')") ms"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_set(schema_snapshot, '{tables,0,columns,1,default}',
  to_jsonb(format('''%s''::text', name))) WHERE id % 10 = 0" >/dev/null
echo "report, every 10th tenant drifted:    $(timed "SELECT count(*) FROM bb.schema_consistency('saas', 'tenants')") ms"
psql_t -c "UPDATE bb.database SET schema_snapshot = jsonb_set(schema_snapshot, '{tables,0,columns,1,default}',
  to_jsonb(format('''%s''::text', name))) WHERE id % 2 = 0" >/dev/null
echo "report, every other tenant drifted:   $(timed "SELECT count(*) FROM bb.schema_consistency('saas', 'tenants')") ms"
echo "bb.database_versions, all rows:       $(timed "SELECT count(*) FROM (SELECT * FROM bb.database_versions) x") ms"
echo "bb.database_versions, one tenant:     $(timed "SELECT * FROM bb.database_versions WHERE database = 'pg1/tenant_00042'") ms"
psql_t -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM bb.database_versions WHERE project = 'saas'" | sed 's/^/  /'
