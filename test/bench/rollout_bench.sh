#!/usr/bin/env bash
# test/bench/rollout_bench.sh — rollout throughput of the bytebase workers against a plain C
# async-libpq loop, bb.apply planning time, executor memory, dispatch latency.
#
#   bash test/bench/rollout_bench.sh [--n 200|1000|10000] [--dbs M] [--workers W]
#                                    [--latency-runs R] [--keep]
#
# Needs the engines of test/lib/engines.sh (reads $BB_RUN_DIR/env.sh) and the extension built and
# installed.  Recreates the extension in the control database (a benchmark run owns it).
#
# Both sides use the same target cluster with the same settings (engines.sh: fsync = off,
# synchronous_commit = on, the default; the control cluster also has fsync = off), the same
# concurrency W and the same connection parameters (bbuser with its password: scram-sha-256 over
# TCP, as bytebase connects).  Tenants are M databases t0001..tM (default M = min(N, 1000): a
# PostgreSQL database costs 7.4 MB of disk, 10,000 of them do not fit here) cloned from a
# template holding `accounts` with 1,000 rows (vacuumed, frozen, analyzed); every tenant is
# connected to once before the measurement (its relcache init file is built, its pages cached:
# the tenants of a real fleet are databases in use).
#  1. baseline: test/bench/async_baseline.c applies `ALTER TABLE accounts ADD COLUMN email_b1 text;
#     CREATE INDEX accounts_email_b1 ON accounts (email_b1);` to the N tenants, W at a time;
#  2. bytebase: N bb.database rows (inserted directly: sync is not what is measured) in one
#     non-protected environment, all in database group "all"; bb.apply('bench', <the same
#     migration with column email>, targets => ARRAY['all']) at bytebase.max_workers = W with the
#     extension's defaults (review on, dry runs off, one wave); time = commit of bb.apply -> last
#     task finished; planning time = bb.apply itself;
#  3. the baseline again (column email_b2); ratio = bytebase / the faster baseline (goal <= 1.3).
# With N > M each database serves ceil(N/M) tenants through as many instances (benchpg1..)
# naming the same server, and the migration says IF NOT EXISTS (it changes each database once).
#  4. executor memory: anonymous RSS (RssAnon) of each executor sampled every second; growth from
#     the sample after its first 50 tasks to its last (goal < 1 MB over 10,000 tasks);
#  5. dispatch latency: median over R single-task applies of (task run started_at - clock just
#     before COMMIT of bb.apply).
# BB_BENCH_TRACE=1 sets bytebase.trace_tasks: each executor logs the phases of every task, and
# the averages are printed (where the time goes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/test/lib/common.sh"
. "$ROOT/test/lib/workers.sh"

N=200 W=4 RUNS=20 KEEP=0 REUSE=0 M=
while [ $# -gt 0 ]; do
	case "$1" in
		--n) N=$2; shift 2 ;;
		--dbs) M=$2; shift 2 ;;
		--workers) W=$2; shift 2 ;;
		--latency-runs) RUNS=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		--reuse) REUSE=1; KEEP=1; shift ;;
		*) echo "usage: $0 [--n N] [--dbs M] [--workers W] [--latency-runs R] [--keep] [--reuse]" >&2; exit 2 ;;
	esac
done
[ -n "$M" ] || M=$((N < 1000 ? N : 1000))
[ "$M" -le "$N" ] || M=$N
K=$(((N + M - 1) / M))          # instances naming the target server
IFNE=; [ "$K" -gt 1 ] && IFNE='IF NOT EXISTS '
RID=$(date +%s | tail -c 6)     # column names of this run (databases kept by --keep are reused)
migration() { echo "ALTER TABLE accounts ADD COLUMN ${IFNE}$1_$RID text; CREATE INDEX ${IFNE}accounts_$1_$RID ON accounts ($1_$RID);"; }

BIN=${TMPDIR:-/tmp}/bb_async_baseline.$$
SAMPLES=${TMPDIR:-/tmp}/bb_rss.$$
trap 'rm -f "$BIN" "$SAMPLES"; [ -z "${SAMPLER:-}" ] || kill "$SAMPLER" 2>/dev/null || true' EXIT
gcc -O2 -I"$("${PG_CONFIG:-pg_config}" --includedir)" "$ROOT/test/bench/async_baseline.c" -o "$BIN" -lpq
TLOG=$BB_RUN_DIR/control/server.log

echo "# rollout_bench: N=$N tenants on M=$M databases, workers=$W ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "# target: fsync=$(target_psql postgres -c 'SHOW fsync'), synchronous_commit=$(target_psql postgres -c 'SHOW synchronous_commit');" \
	"control: fsync=$(ctl_psql -c 'SHOW fsync'), synchronous_commit=$(ctl_psql -c 'SHOW synchronous_commit')"

# ---- tenants: a template with accounts(1,000 rows), cloned M times (file copy, no WAL), warmed
t0=$(date +%s.%N)
if [ "$REUSE" = 1 ] && [ "$(target_psql postgres -c "SELECT count(*) FROM pg_database WHERE datname ~ '^t[0-9]{4,}$' AND substr(datname, 2)::int <= $M")" = "$M" ]; then
	echo "# --reuse: the $M databases of an earlier run (bytebase.history exists: a fleet bytebase already manages)"
else
target_psql postgres >/dev/null 2>&1 <<'SQL'
DROP DATABASE IF EXISTS bench_tpl;
CREATE DATABASE bench_tpl;
SQL
target_psql bench_tpl >/dev/null <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2) NOT NULL DEFAULT 0,
                       created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO accounts (id, name, balance) SELECT g, 'customer ' || g, g * 1.5 FROM generate_series(1, 1000) g;
VACUUM (FREEZE, ANALYZE) accounts;
SQL
for ((i = 1; i <= M; i++)); do
	printf 'DROP DATABASE IF EXISTS t%04d;\nCREATE DATABASE t%04d TEMPLATE bench_tpl STRATEGY FILE_COPY;\n' "$i" "$i"
done | target_psql postgres >/dev/null 2>&1
fi
target_psql postgres -c "CHECKPOINT" >/dev/null
for ((i = 1; i <= M; i++)); do printf '\\c t%04d\nSELECT count(*) FROM accounts;\n' "$i"; done \
	| PGPASSWORD=$TARGET_PG_PASSWORD "$PGBIN/psql" -X -q -A -t -h 127.0.0.1 -p "$TARGET_PG_PORT" -U "$TARGET_PG_USER" -d postgres >/dev/null
printf '# %s databases made and warmed in %.0f s\n' "$M" "$(echo "$(date +%s.%N) - $t0" | bc -l)"

# CPU seconds a cluster used so far: its postmaster and every process it started (reaped
# children are in the postmaster's cutime/cstime, live ones are read directly).
PM_CTL=$(head -1 "$BB_RUN_DIR/control/data/postmaster.pid")
PM_TGT=$(head -1 "$BB_RUN_DIR/target/data/postmaster.pid")
cluster_cpu() {
	{ awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
	  for c in $(ps --ppid "$1" -o pid=); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
	} | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.2f", s / hz}'
}
cpu_delta() { echo "scale=2; ($2 - $1) / 1" | bc -l; }

run_baseline() {  # column
	local line c0 c1 u0 u1
	c0=$(cluster_cpu "$PM_TGT")
	u0=$(awk '{print $16 + $17}' /proc/$BASHPID/stat)
	line=$(PGPASSWORD=$TARGET_PG_PASSWORD "$BIN" 127.0.0.1 "$TARGET_PG_PORT" "$TARGET_PG_USER" t "$N" "$W" "$(migration "$1")" "$M")
	c1=$(cluster_cpu "$PM_TGT")
	u1=$(awk '{print $16 + $17}' /proc/$BASHPID/stat)
	echo "baseline ($1): $line; CPU s: target $(cpu_delta "$c0" "$c1"), client $(echo "scale=2; ($u1 - $u0) / $(getconf CLK_TCK)" | bc -l)" >&2
	line=${line#baseline_seconds=}
	echo "${line%% *}"
}

# ---- 1. baseline
base1=$(run_baseline email_b1)

# ---- 2. bytebase
fresh_extension
ctl_psql -c "ALTER SYSTEM SET bytebase.max_workers = $W" \
	-c "ALTER SYSTEM SET bytebase.trace_tasks = ${BB_BENCH_TRACE:-0}" -c "SELECT pg_reload_conf()" >/dev/null
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('bench');
SELECT bb.create_project('bench');
SELECT bb.add_instance('benchpg' || k, 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$TARGET_PG_PASSWORD', 'bench')
  FROM generate_series(1, $K) k;
INSERT INTO bb.database (instance_id, name, project_id, environment_id)
SELECT i.id, format('t%s', lpad(g::text, 4, '0')), p.id, e.id
  FROM generate_series(1, $K) k JOIN bb.instance i ON i.name = 'benchpg' || k,
       bb.project p, bb.environment e, generate_series(1, $M) g
 WHERE p.name = 'bench' AND e.name = 'bench' AND (k - 1) * $M + g <= $N;
SELECT bb.create_database_group('bench', 'all');
ANALYZE;
CREATE TABLE IF NOT EXISTS public.bench_commit (issue bigint PRIMARY KEY, pre_commit timestamptz, apply_ms numeric);
TRUNCATE public.bench_commit;
SQL
sleep 1

# One apply: BEGIN; bb.apply (timed); clock; COMMIT; remember the clock.  Prints the issue id.
apply_one() {  # statement targets-array-sql
	ctl_psql -v stmt="$1" <<SQL
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT bb.apply('bench', :'stmt', $2) AS issue \gset
SELECT clock_timestamp() AS pre_commit \gset
COMMIT;
INSERT INTO public.bench_commit VALUES (:issue, :'pre_commit', extract(epoch FROM :'pre_commit'::timestamptz - :'t0'::timestamptz) * 1000);
SELECT :issue;
SQL
}

# executor RSS sampler: children of the control postmaster named "bytebase executor"
( while :; do
	for p in $(ps --ppid "$PM_CTL" -o pid=,args= | awk '/bytebase executor/ {print $1}'); do
		a=$(awk '/^RssAnon:/ {print $2}' "/proc/$p/status" 2>/dev/null) && echo "$(date +%s.%N) $p $a"
	done
	sleep 1
done ) >"$SAMPLES" 2>/dev/null &
SAMPLER=$!

log_from=$(stat -c %s "$TLOG")
ccpu0=$(cluster_cpu "$PM_CTL"); tcpu0=$(cluster_cpu "$PM_TGT")
issue=$(apply_one "$(migration email)" "ARRAY['all']")
status=$(ctl_psql -c "SELECT bb.wait($issue, '2 hours')")
ccpu1=$(cluster_cpu "$PM_CTL"); tcpu1=$(cluster_cpu "$PM_TGT")
kill "$SAMPLER" 2>/dev/null || true; SAMPLER=
bb_secs=$(ctl_psql -c "SELECT round(extract(epoch FROM max(r.finished_at) - c.pre_commit)::numeric, 3)
                       FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id JOIN public.bench_commit c ON c.issue = t.issue_id
                       WHERE t.issue_id = $issue GROUP BY c.pre_commit")
done_n=$(ctl_psql -c "SELECT count(*) FROM bb.task WHERE issue_id = $issue AND status = 'done'")
plan_ms=$(ctl_psql -c "SELECT round(apply_ms, 1) FROM public.bench_commit WHERE issue = $issue")
echo "bytebase: status=$status done=$done_n/$N rollout_seconds=$bb_secs; CPU s: target $(cpu_delta "$tcpu0" "$tcpu1"), control $(cpu_delta "$ccpu0" "$ccpu1") (planning included)"
echo "planning: bb.apply on a $N-database group took $plan_ms ms (goal < 1000 ms at 10,000)"

# ---- 3. baseline again
base2=$(run_baseline email_b2)
base=$(echo "if ($base1 < $base2) $base1 else $base2" | bc -l)
ratio=$(echo "scale=3; $bb_secs / $base" | bc -l)
echo "ratio bytebase/baseline = $bb_secs / $base = $ratio (goal <= 1.3; baselines $base1 s, $base2 s)"

# ---- 4. executor memory
ctl_psql -c "SELECT r.executor_pid, count(*) FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id
             WHERE t.issue_id = $issue GROUP BY 1" | tr '|' ' ' | while read -r pid tasks; do
	awk -v p="$pid" -v n="$tasks" '$2 == p {k++; if (k == 1) first = $3; last = $3; if (k == 3) warm = $3}
		END {if (k) printf "executor %s: %s tasks, RssAnon first %s kB, after warm-up %s kB, last %s kB, growth %+d kB\n",
		                    p, n, first, warm ? warm : first, last, last - (warm ? warm : first)}' "$SAMPLES"
done

# ---- where the time goes (bytebase.trace_tasks)
if [ "${BB_BENCH_TRACE:-0}" = 1 ]; then
	tail -c +"$((log_from + 1))" "$TLOG" | grep -o 'bytebase trace: .*' | awk '
		{for (i = 5; i <= NF; i += 2) {k = $i; v = $(i + 1); sum[k] += v; if (!(k in seen)) {seen[k] = 1; order[++m] = k}}; n++}
		END {if (n) {printf "per task (mean of %d, ms):", n; for (j = 1; j <= m; j++) printf " %s %.2f", order[j], sum[order[j]] / n; printf "\n"}}'
fi

# ---- 5. dispatch latency: single-task applies, one at a time
if [ "$RUNS" -gt 0 ]; then
	for ((k = 1; k <= RUNS; k++)); do
		i=$(apply_one "CREATE TABLE lat_$k (id int PRIMARY KEY)" "ARRAY['benchpg1/t0001']")
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
fi

ctl_psql -c "ALTER SYSTEM RESET bytebase.max_workers" -c "ALTER SYSTEM RESET bytebase.trace_tasks" \
	-c "SELECT pg_reload_conf()" >/dev/null
if [ "$KEEP" = 0 ]; then
	echo "# dropping the tenant databases ..."
	for ((i = 1; i <= M; i++)); do printf 'DROP DATABASE IF EXISTS t%04d;\n' "$i"; done | target_psql postgres >/dev/null 2>&1
	target_psql postgres -c "DROP DATABASE IF EXISTS bench_tpl" >/dev/null 2>&1
fi
