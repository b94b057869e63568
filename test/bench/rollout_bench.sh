#!/usr/bin/env bash
# test/bench/rollout_bench.sh — rollout throughput and dispatch latency of the bytebase workers.
#
#   bash test/bench/rollout_bench.sh [--n 200|1000|10000] [--workers W] [--latency-runs 20] [--keep]
#
# Needs the engines of test/lib/engines.sh (reads $BB_RUN_DIR/env.sh) and the extension built and
# installed.  Recreates the extension in the control database (a benchmark run owns it).
#  1. creates N tenant databases bb_t0001.. and N more base_t0001.. on the target cluster;
#  2. registers bb_t* (bb.database rows inserted directly: sync is not what is measured), in one
#     non-protected environment, and applies a 2-statement migration to all of them with bb.apply,
#     bytebase.max_workers = W; time = commit of bb.apply -> last task finished;
#  3. applies the same migration to base_t* with test/bench/async_baseline.c (plain async libpq,
#     concurrency W); prints both times and the ratio (goal <= 1.3);
#  4. dispatch latency: median over --latency-runs single-task applies of (task run started_at -
#     clock just before COMMIT of bb.apply); goal <= 10 ms.
# Defaults are measured: the review runs (once for all N tasks), dry runs are off (their default).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/test/lib/common.sh"
. "$ROOT/test/lib/workers.sh"

N=200 W=4 RUNS=20 KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
		--n) N=$2; shift 2 ;;
		--workers) W=$2; shift 2 ;;
		--latency-runs) RUNS=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		*) echo "usage: $0 [--n N] [--workers W] [--latency-runs R] [--keep]" >&2; exit 2 ;;
	esac
done
MIGRATION='CREATE TABLE bench_item (id bigint PRIMARY KEY, note text); CREATE INDEX bench_item_note ON bench_item (note);'
BIN=${TMPDIR:-/tmp}/bb_async_baseline.$$
trap 'rm -f "$BIN"' EXIT
gcc -O2 -I"$("${PG_CONFIG:-pg_config}" --includedir)" "$ROOT/test/bench/async_baseline.c" -o "$BIN" -lpq

# Creates or recreates the tenant databases PREFIX0001..PREFIX<N> in one psql session.
make_dbs() {
	local prefix=$1 i
	for ((i = 1; i <= N; i++)); do
		printf 'DROP DATABASE IF EXISTS %s%04d;\nCREATE DATABASE %s%04d;\n' "$prefix" "$i" "$prefix" "$i"
	done | target_psql postgres >/dev/null 2>&1
}

echo "# rollout_bench: N=$N workers=$W ($(date -u +%FT%TZ))"
echo "# creating $N + $N tenant databases ..."
make_dbs bb_t
make_dbs base_t

fresh_extension
ctl_psql -c "ALTER SYSTEM SET bytebase.max_workers = $W" -c "SELECT pg_reload_conf()" >/dev/null
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('bench');
SELECT bb.add_instance('benchpg', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$TARGET_PG_PASSWORD', 'bench');
SELECT bb.create_project('bench');
INSERT INTO bb.database (instance_id, name, project_id, environment_id)
SELECT i.id, format('bb_t%s', lpad(g::text, 4, '0')), p.id, e.id
  FROM bb.instance i, bb.project p, bb.environment e, generate_series(1, $N) g
 WHERE i.name = 'benchpg' AND p.name = 'bench' AND e.name = 'bench';
CREATE TABLE IF NOT EXISTS public.bench_commit (issue bigint PRIMARY KEY, pre_commit timestamptz);
TRUNCATE public.bench_commit;
SQL
sleep 1

# One apply: BEGIN; bb.apply; clock; COMMIT; remember the clock.  Prints the issue id.
apply_one() {  # statement targets-array-sql
	ctl_psql -v stmt="$1" <<SQL
BEGIN;
SELECT bb.apply('bench', :'stmt', $2) AS issue \gset
SELECT clock_timestamp() AS pre_commit \gset
COMMIT;
INSERT INTO public.bench_commit VALUES (:issue, :'pre_commit');
SELECT :issue;
SQL
}

# ---- bytebase rollout to N databases
t_apply0=$(date +%s.%N)
issue=$(apply_one "$MIGRATION" "NULL")
t_apply1=$(date +%s.%N)
status=$(ctl_psql -c "SELECT bb.wait($issue, '2 hours')")
bb_secs=$(ctl_psql -c "SELECT round(extract(epoch FROM max(r.finished_at) - c.pre_commit)::numeric, 3)
                       FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id JOIN public.bench_commit c ON c.issue = t.issue_id
                       WHERE t.issue_id = $issue GROUP BY c.pre_commit")
done_n=$(ctl_psql -c "SELECT count(*) FROM bb.task WHERE issue_id = $issue AND status = 'done'")
apply_secs=$(echo "$t_apply1 - $t_apply0" | bc -l)
printf 'bytebase: status=%s done=%s/%s rollout_seconds=%s (bb.apply itself, planning %s tasks: %.3f s)\n' \
	"$status" "$done_n" "$N" "$bb_secs" "$N" "$apply_secs"

# ---- baseline: plain async libpq, same concurrency
base_line=$(PGPASSWORD=$TARGET_PG_PASSWORD "$BIN" 127.0.0.1 "$TARGET_PG_PORT" "$TARGET_PG_USER" base_t "$N" "$W" "$MIGRATION")
base_secs=${base_line#baseline_seconds=}; base_secs=${base_secs%% *}
echo "baseline: $base_line"
ratio=$(echo "scale=3; $bb_secs / $base_secs" | bc -l)
echo "ratio bytebase/baseline = $ratio (goal <= 1.3)"

# ---- dispatch latency: single-task applies, one at a time
for ((k = 1; k <= RUNS; k++)); do
	i=$(apply_one "CREATE TABLE lat_$k (id int PRIMARY KEY)" "ARRAY['benchpg/bb_t0001']")
	ctl_psql -c "SELECT bb.wait($i, '60 s')" >/dev/null
	sleep 0.2
done
lat=$(ctl_psql -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ms (min ' ||
                          round(min(ms)::numeric, 2) || ', max ' || round(max(ms)::numeric, 2) || ')'
                     FROM (SELECT extract(epoch FROM min(r.started_at) - c.pre_commit) * 1000 AS ms
                             FROM public.bench_commit c JOIN bb.task t ON t.issue_id = c.issue
                             JOIN bb.task_run r ON r.task_id = t.id
                            WHERE c.issue <> $issue GROUP BY c.issue, c.pre_commit) x")
echo "dispatch latency (commit of bb.apply -> task run started), median of $RUNS: $lat (goal <= 10 ms)"

ctl_psql -c "ALTER SYSTEM RESET bytebase.max_workers" -c "SELECT pg_reload_conf()" >/dev/null
if [ "$KEEP" = 0 ]; then
	echo "# dropping the tenant databases ..."
	for p in bb_t base_t; do
		for ((i = 1; i <= N; i++)); do printf 'DROP DATABASE IF EXISTS %s%04d;\n' "$p" "$i"; done | target_psql postgres >/dev/null 2>&1
	done
fi
