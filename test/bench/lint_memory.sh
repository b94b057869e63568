#!/usr/bin/env bash
# lint_memory.sh — peak memory and time of bb._lint on big generated scripts, per dialect.
# Each run is a fresh backend: its peak resident size (VmHWM from /proc, so run this on the
# server's host) is compared with the same backend's peak for only receiving the script
# (SELECT length(script)): the difference is what the review itself needed.
#
# Usage: test/bench/lint_memory.sh [MB] [kind...]   (default 50 MB; kinds: mixed tiny onebig)
#   mixed  : CREATE TABLE / ALTER / UPDATE without WHERE / SELECT * — a few findings per line
#   tiny   : "SELECT 1;" repeated (the most statements per byte)
#   onebig : one INSERT ... VALUES of MB megabytes
# Env: PGHOST PGPORT PGDATABASE (default: the test engines of BB_PORT_BASE), PGBIN.
set -euo pipefail
MB=${1:-50}
shift || true
if [ $# -gt 0 ]; then KINDS=("$@"); else KINDS=(mixed tiny onebig); fi
if [ -z "${PGHOST:-}" ] && [ -f "${BB_RUN_DIR:-/tmp/bb-test-${BB_PORT_BASE:-55000}}/env.sh" ]; then
	. "${BB_RUN_DIR:-/tmp/bb-test-${BB_PORT_BASE:-55000}}/env.sh"
	export PGHOST=$CONTROL_SOCK PGPORT=$CONTROL_PORT PGDATABASE=$CONTROL_DB
fi
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bb-lint-mem.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -U postgres)

# gen DIALECT KIND FILE: a script of MB megabytes
gen() {
	python3 - "$1" "$2" "$MB" "$3" <<'PY'
import sys
d, kind, mb, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
target = int(mb * 1024 * 1024)
def block(k):
    if d == 'mysql':
        return (f"CREATE TABLE t{k} (id int PRIMARY KEY, Bad_Name varchar(20), c{k} text) ENGINE=MyISAM;\n"
                f"ALTER TABLE t{k} ADD COLUMN x int;\nUPDATE t{k} SET x = 1;\nSELECT * FROM t{k};\n")
    if d == 'clickhouse':
        return (f"CREATE TABLE t{k} (id UInt64, Bad_Name Nullable(String)) ENGINE = MergeTree;\n"
                f"ALTER TABLE t{k} DELETE WHERE 1;\nSELECT * FROM t{k} FINAL;\nOPTIMIZE TABLE t{k} FINAL;\n")
    if d == 'snowflake':
        return (f"CREATE OR REPLACE TABLE t{k} (id int, \"badName\" text);\n"
                f"UPDATE t{k} SET id = 1;\nSELECT * FROM t{k};\nTRUNCATE TABLE t{k};\n")
    return (f"CREATE TABLE T{k} (id int, \"Bad_Name\" varchar(20));\n"
            f"CREATE INDEX idx__a{k} ON t{k} (id);\nUPDATE t{k} SET id = 1;\nSELECT * FROM t{k};\n")
with open(out, 'w') as f:
    if kind == 'onebig':
        f.write("INSERT INTO t (a) VALUES " + "(1)," * (target // 4) + "(1);\n")
    elif kind == 'tiny':
        f.write("SELECT 1;\n" * (target // 10))
    else:
        n, k = 0, 0
        while n < target:
            s = block(k); k += 1
            f.write(s); n += len(s)
PY
}

# peak FILE SQL: the backend's VmHWM (kB) after running SQL on :'script', and the time (ms)
peak() {
	"${PSQL[@]}" <<SQL
\\set script \`cat $1\`
SELECT pg_backend_pid() AS pid \\gset
\\setenv BBPID :pid
SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t0 \\gset
\\o /dev/null
$2;
\\o
SELECT round(extract(epoch FROM clock_timestamp()) * 1000 - :t0) AS ms \\gset
\\! awk '/VmHWM/ {print \$2}' /proc/\$BBPID/status | tr '\\n' ' '
\\echo :ms
SQL
}

printf '%-10s %-7s %9s %12s %12s %8s\n' dialect kind script_MB receive_MB review_MB time_s
for kind in "${KINDS[@]}"; do
	for d in postgres mysql clickhouse snowflake; do
		f=$WORK/$d-$kind.sql
		gen "$d" "$kind" "$f"
		read -r base _ < <(peak "$f" "SELECT length(:'script'::text)")
		read -r hwm ms < <(peak "$f" "SELECT count(*) FROM bb._lint(:'script'::text, '$d', NULL)")
		awk -v d="$d" -v k="$kind" -v s="$(stat -c %s "$f")" -v b="$base" -v h="$hwm" -v ms="$ms" \
			'BEGIN { printf "%-10s %-7s %9.1f %12.0f %12.0f %8.1f\n", d, k, s / 1048576, b / 1024, (h - b) / 1024, ms / 1000 }'
		rm -f "$f"
	done
done
