#!/usr/bin/env bash
# lint_bench.sh — bb.lint vs Squawk on the same generated 10,000-statement
# PostgreSQL migration, in the same run.  Prints statements/s and the ratio.
#
# Usage: test/bench/lint_bench.sh [statements]
# Needs a control cluster with the extension (env: PGHOST PGPORT PGDATABASE,
# default the review cluster /tmp/review:55200/bbtest) and npm (squawk-cli is
# installed into $BENCH_DIR/squawk on first use).
set -euo pipefail
N=${1:-10000}
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PGHOST:=/tmp/review}" "${PGPORT:=55200}" "${PGDATABASE:=bbtest}"
: "${BENCH_DIR:=/tmp/bb-lint-bench}"
: "${RUNS:=5}"
export PGHOST PGPORT PGDATABASE
mkdir -p "$BENCH_DIR"
SQL="$BENCH_DIR/migration.sql"
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -U postgres)

# 1. a varied, realistic migration: tables, indexes, constraints, column changes, DML
python3 - "$N" "$SQL" <<'PY'
import sys, random
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(42)
types = ["bigint", "int", "text", "varchar(64)", "timestamptz", "timestamp", "boolean", "numeric(12,2)", "jsonb", "uuid"]
out, k = [], 0
while len(out) < n:
    k += 1
    t = f"app_table_{k}"
    cols = ",\n  ".join(f"col_{i} {random.choice(types)}{' NOT NULL DEFAULT 0' if random.random() < .2 and i % 2 else ''}"
                         for i in range(random.randint(3, 8)))
    out.append(f"CREATE TABLE {t} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  {cols},\n  created_at timestamptz NOT NULL DEFAULT now()\n);")
    out.append(f"CREATE INDEX CONCURRENTLY idx_{t}_col_0 ON {t} (col_0);")
    out.append(f"CREATE INDEX idx_{t}_created_at ON {t} (created_at);")
    out.append(f"ALTER TABLE {t} ADD COLUMN note text;")
    out.append(f"ALTER TABLE {t} ADD CONSTRAINT {t}_col1_check CHECK (col_1 IS NOT NULL) NOT VALID;")
    out.append(f"ALTER TABLE {t} ALTER COLUMN col_2 SET NOT NULL;")
    out.append(f"COMMENT ON TABLE {t} IS 'table {k} of the benchmark';")
    out.append(f"INSERT INTO {t} (col_0, col_1) VALUES (1, 'a'), (2, 'b'), (3, 'c');")
    out.append(f"UPDATE {t} SET note = 'x' WHERE id = {k};")
    out.append(f"DELETE FROM {t} WHERE created_at < now() - interval '30 days';")
    out.append(f"SELECT id, col_0 FROM {t} WHERE col_1 LIKE 'abc%' ORDER BY id LIMIT 10;")
    out.append(f"ALTER TABLE {t} RENAME COLUMN note TO remark;")
    out.append(f"DROP INDEX IF EXISTS old_idx_{k};")
with open(path, "w") as f:
    f.write("\n".join(out[:n]) + "\n")
PY
stmts=$(grep -c ';$' "$SQL" || true)
echo "script: $SQL ($stmts statements, $(wc -c < "$SQL") bytes)"

# 2. bb.lint: server-side time of the call (best of $RUNS)
best_bb=""
for _ in $(seq "$RUNS"); do
	t=$("${PSQL[@]}" <<PSQL
\\set script \`cat $SQL\`
BEGIN;
SELECT set_config('bench.t0', clock_timestamp()::text, true) \\gset
SELECT count(*) AS findings FROM bb.lint(:'script') \\gset
SELECT extract(epoch FROM clock_timestamp() - current_setting('bench.t0')::timestamptz) || ' ' || :findings;
COMMIT;
PSQL
)
	bb_findings=${t#* }
	t=${t%% *}
	if [ -z "$best_bb" ] || awk "BEGIN{exit !($t < $best_bb)}"; then best_bb=$t; fi
done

# 3. Squawk on the same file (wall time of the process, best of $RUNS)
SQUAWK="$BENCH_DIR/squawk/node_modules/.bin/squawk"
if [ ! -x "$SQUAWK" ]; then
	mkdir -p "$BENCH_DIR/squawk"
	(cd "$BENCH_DIR/squawk" && npm install --silent squawk-cli >/dev/null)
fi
best_sq=""
for _ in $(seq "$RUNS"); do
	s0=$(date +%s.%N)
	"$SQUAWK" --reporter json "$SQL" > "$BENCH_DIR/squawk.json" || true
	s1=$(date +%s.%N)
	t=$(awk "BEGIN{print $s1 - $s0}")
	if [ -z "$best_sq" ] || awk "BEGIN{exit !($t < $best_sq)}"; then best_sq=$t; fi
done
sq_findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$BENCH_DIR/squawk.json" 2>/dev/null || echo "?")

awk -v n="$stmts" -v b="$best_bb" -v s="$best_sq" -v bf="$bb_findings" -v sf="$sq_findings" -v v="$("$SQUAWK" --version)" 'BEGIN {
	printf "bb.lint : %8.3f s  %10.0f statements/s  (%s findings)\n", b, n / b, bf;
	printf "squawk  : %8.3f s  %10.0f statements/s  (%s findings, %s)\n", s, n / s, sf, v;
	printf "ratio   : bb.lint is %.2fx squawk\n", s / b;
}'
