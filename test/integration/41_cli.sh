#!/usr/bin/env bash
# The bb CLI (issue 10): installed by make install next to pg_config's binaries; every command's
# output formats and exit codes (0 ok, 1 findings / not done, 2 usage / connection / server);
# libpq's conventions (PG* variables, a service file, a password file, -d) and never a password
# on the command line; a server without the extension, an older SQL API, a wrong password;
# check and rollout of a folder, following issues with a progress bar on a terminal.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"
. "$(dirname "$0")/../lib/gitops.sh"
BB=$("${PG_CONFIG:-pg_config}" --bindir)/bb
WORK=$(mktemp -d "$BB_RUN_DIR/cli.XXXXXX")
# the version this checkout builds (bb, its SQL API and the extension are released together)
V=$(sed -nE "s/^default_version = '([^']+)'.*/\1/p" "$BB_ROOT/bytebase.control")
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

ok "make install put bb next to pg_config's binaries" test -x "$BB"
ensure_role cli_dev bytebase_developer
ensure_role cli_appr bytebase_approver
shop_pipeline cli cli_dev
require_control

# the connection comes from libpq's environment only
export PGHOST=$CONTROL_SOCK PGPORT=$CONTROL_PORT PGUSER=cli_dev PGDATABASE=$CONTROL_DB
unset PGPASSWORD PGSERVICE PGSERVICEFILE
# run CMD...: sets out (stdout), err (stderr), rc
run() {
	out=$("$@" 2>"$WORK/stderr"); rc=$?
	err=$(cat "$WORK/stderr")
}

# ---- help and usage
run "$BB" --help
is "bb --help: exit 0" 0 "$rc"
like "bb --help: a manual (synopsis, commands, exit status, environment)" "SYNOPSIS.*COMMANDS.*CONNECTION.*EXIT STATUS" "$(echo "$out" | tr '\n' ' ')"
run "$BB" help rollout
like "bb help rollout" "bb rollout DIR --project P" "$out"
for c in lint check apply status wait approve cancel; do
	run "$BB" help "$c"; [ "$rc" = 0 ] || break
done
is "every command has its page" 0 "$rc"
run "$BB" help frobnicate
is "bb help of an unknown command: exit 2" 2 "$rc"
run "$BB"
is "no command: exit 2" 2 "$rc"
run "$BB" frobnicate
like "unknown command: exit 2 and says so" "^2 .*unknown command \"frobnicate\"" "$rc $err"
run "$BB" lint --wait x.sql
like "an option of another command: exit 2" "^2 .*--wait does not apply to lint" "$rc $err"
run "$BB" status --format github 1
like "github format outside lint/check/rollout: exit 2" "^2 .*apply to lint, check and rollout" "$rc $err"
run "$BB" rollout --timeout soon dir --project shop
like "a bad duration: exit 2" "^2 .*--timeout takes a duration" "$rc $err"

# ---- --version: bb's and the extension's
run "$BB" --version
is "bb --version: exit 0" 0 "$rc"
like "it prints both versions" "bb ${V//./\\.} .*extension bytebase ${V//./\\.}" "$(echo "$out" | tr '\n' ' ')"
run "$BB" --format json --version
is "bb --version as JSON" "{\"bb\": \"$V\", \"api\": \"$V\", \"extension\": \"$V\"}" "$out"

# ---- lint
mkdir -p "$WORK/lint/sub"
printf 'CREATE TABLE t (id int PRIMARY KEY);\n' >"$WORK/lint/clean.sql"
printf -- '-- orders\nUPDATE orders SET note = 1;\n' >"$WORK/lint/update.sql"
printf 'SELECT 1;\nSELECT \xff;\n' >"$WORK/lint/sub/latin1.sql"
printf 'not sql at all\n' >"$WORK/lint/notes.txt"
run "$BB" lint "$WORK/lint/clean.sql"
is "a clean file: exit 0" "0" "$rc"
run "$BB" lint "$WORK/lint/update.sql"
like "an error finding: exit 1, file:line: level: rule: message" \
	"^1 .*update.sql:2: error: statement.where.require-update-delete: UPDATE without WHERE" "$rc $out"
run "$BB" lint --format github "$WORK/lint/update.sql"
is "--format github: a workflow command per finding" \
	"::error file=$WORK/lint/update.sql,line=2,title=statement.where.require-update-delete::UPDATE without WHERE changes every row" "$out"
run "$BB" lint "$WORK/lint"
like "a folder: its *.sql files, recursively" "3 files: 2 errors" "$out"
like "a file that is not UTF-8: an error finding at its line" "latin1.sql:2: error: file.encoding" "$out"
run "$BB" lint --format json "$WORK/lint"
is "--format json" "3 2 latin1.sql,update.sql" \
	"$(echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['files'], d['errors'], ','.join(f['file'].split('/')[-1] for f in d['findings']))")"
run "$BB" lint --format gitlab "$WORK/lint/update.sql"
is "--format gitlab: a Code Quality report" "statement.where.require-update-delete major 2 32" \
	"$(echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin)[0]; print(d['check_name'], d['severity'], d['location']['lines']['begin'], len(d['fingerprint']))")"
printf 'CREATE TABLE Bad (id int PRIMARY KEY);\n' >"$WORK/lint/warn.sql"
run "$BB" lint "$WORK/lint/warn.sql"
like "a warning only: exit 0" "^0 .*warning" "$rc $out"
run "$BB" lint --strict "$WORK/lint/warn.sql"
is "a warning with --strict: exit 1" 1 "$rc"
ctl_psql -c "SELECT bb.set_review_rule('dev', 'table.require-pk', 'error')" >/dev/null
printf 'CREATE TABLE nopk (id int);\n' >"$WORK/lint/nopk.sql"
run "$BB" lint --environment staging "$WORK/lint/nopk.sql"
is "--environment: that environment's policy (staging: every rule off)" "0" "$rc"
run "$BB" lint --environment dev "$WORK/lint/nopk.sql"
like "--environment dev: its error rule" "^1 .*table.require-pk" "$rc $out"
run "$BB" lint --engine mysql "$WORK/lint/clean.sql"
is "--engine mysql" 0 "$rc"
run "$BB" lint "$WORK/lint/none.sql"
like "a file that does not exist: exit 2, named" "^2 .*none.sql: No such file or directory" "$rc $err"

# ---- connection: PG* variables, -d, a service file, a password file, never a password in argv
run "$BB" -d "dbname=postgres" status 1
like "-d overrides PGDATABASE; a database without the extension: exit 2, said clearly" \
	"^2 .*database \"postgres\" .* has no bytebase extension" "$rc $err"
run "$BB" -d "host=$CONTROL_SOCK port=$CONTROL_PORT dbname=$CONTROL_DB password=secret" status 1
like "a password in -d is refused: exit 2" "^2 .*refusing a password on the command line" "$rc $err"
run "$BB" -d "postgresql://cli_dev:secret@localhost/$CONTROL_DB" status 1
like "so is one in a URI" "^2 .*refusing a password" "$rc $err"
printf '[bbtest]\nhost=%s\nport=%s\ndbname=%s\nuser=cli_dev\n' "$CONTROL_SOCK" "$CONTROL_PORT" "$CONTROL_DB" >"$WORK/services"
run env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER PGSERVICEFILE="$WORK/services" PGSERVICE=bbtest "$BB" --version
like "PGSERVICE and a service file" "^0 .*extension bytebase ${V//./\\.}" "$rc $(echo "$out" | tr '\n' ' ')"
run env PGHOST=127.0.0.1 PGPORT="$TARGET_PG_PORT" PGUSER="$TARGET_PG_USER" PGDATABASE=postgres PGPASSWORD=wrong "$BB" status 1
like "a wrong password: libpq's message, exit 2" "^2 .*password authentication failed for user \"$TARGET_PG_USER\"" "$rc $err"
printf '127.0.0.1:%s:*:%s:%s\n' "$TARGET_PG_PORT" "$TARGET_PG_USER" "$TARGET_PG_PASSWORD" >"$WORK/pgpass"
chmod 600 "$WORK/pgpass"
run env PGHOST=127.0.0.1 PGPORT="$TARGET_PG_PORT" PGUSER="$TARGET_PG_USER" PGDATABASE=postgres PGPASSFILE="$WORK/pgpass" "$BB" status 1
like "the password file's password logs in (a server without the extension: exit 2)" "^2 .*has no bytebase extension" "$rc $err"
run env PGHOST=127.0.0.1 PGPORT=$((BB_PORT_BASE + 8)) "$BB" status 1
like "no server there: exit 2" "^2 .*could not connect" "$rc $err"

# ---- check and rollout of a folder
M=$WORK/migrations
mkdir -p "$M"
printf 'CREATE TABLE customers (id bigint PRIMARY KEY);\n' >"$M/V1__init.sql"
printf 'CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint REFERENCES customers);\n' >"$M/V2__orders.sql"
printf 'CREATE OR REPLACE VIEW customer_count AS SELECT count(*) AS n FROM customers;\n' >"$M/R__views.sql"
printf '# migrations of shop\n' >"$M/README.md"
run "$BB" check "$M" --project shop
like "check: every file pending on every target" "^0 .*V1__init.sql: versioned 1 +pg/cli_dev +pending" "$rc $(echo "$out" | tr -s ' ' | tr '\n' ' ')"
like "check: the README is ignored with why" "README.md: other +ignored: not a .sql file" "$(echo "$out" | tr '\n' ' ')"
run "$BB" rollout "$M" --project shop --targets pg/cli_dev,pg/cli_stg --wait --timeout 60
is "rollout --wait on dev and staging: exit 0" 0 "$rc"
like "each file becomes an issue" "V1__init.sql +created \(issue [0-9]+\).*V2__orders.sql +created.*R__views.sql +created" "$(echo "$out" | tr '\n' ' ')"
like "not a terminal: plain progress lines" "issue [0-9]+ V2__orders.sql: done, 2/2 done" "$err"
is "the tables are on staging" "2" "$(target_psql cli_stg -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('customers', 'orders')")"
run "$BB" rollout "$M" --project shop --targets pg/cli_dev,pg/cli_stg
like "again: nothing to apply, exit 0" "^0 .*nothing to apply" "$rc $(echo "$out" | tr '\n' ' ')"
run "$BB" rollout "$M" --project shop --wait --timeout 30 --format json
is "rollout to prod --wait: exit 1 (waiting for approval)" 1 "$rc"
is "json: the issues wait for prod's approval" "waiting_approval waiting_approval waiting_approval" \
	"$(echo "$out" | python3 -c "import json,sys; print(' '.join(i['state'] for i in json.load(sys.stdin)['issues']))")"
prod_issues=$(echo "$out" | python3 -c "import json,sys; print(' '.join(str(f['issue']) for f in json.load(sys.stdin)['files'] if f['issue']))")
run "$BB" approve ${prod_issues%% *}
like "a developer cannot approve: exit 2, the server's reason" "^2 .*permission denied: role \"cli_dev\" may not do this" "$rc $err"
for i in $prod_issues; do PGUSER=cli_appr "$BB" approve "$i" --comment "ok from CI" >/dev/null || echo "approve $i failed"; done
run "$BB" wait "${prod_issues##* }" --timeout 60
like "bb wait: done, exit 0" "^0 .*done" "$rc $out"
run "$BB" check "$M" --project shop --format json
is "check: everything applied" "applied" \
	"$(echo "$out" | python3 -c "import json,sys; print(' '.join(sorted({r['state'] for r in json.load(sys.stdin)['results'] if r['kind'] != 'other'})))")"
# a modified applied file, an out-of-order one
printf 'CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n' >"$M/V1__init.sql"
printf 'CREATE TABLE early (id int PRIMARY KEY);\n' >"$M/V0_5__early.sql"
run "$BB" check "$M" --project shop --format github
is "check of a modified file: exit 1" 1 "$rc"
like "github: modified-after-apply, with both checksums" \
	"::error file=$M/V1__init.sql,title=modified-after-apply::pg/cli_dev: version 1 was applied with checksum [0-9a-f]{64} \(issue [0-9]+\); the file now has checksum [0-9a-f]{64}" "$out"
like "github: out-of-order" "::error file=$M/V0_5__early.sql,title=out-of-order::pg/cli_dev: version 0.5 is below version 2 already applied" "$out"
run "$BB" rollout "$M" --project shop
like "rollout refuses them: exit 1" "^1 .*V0_5__early.sql +refused.*V1__init.sql +refused" "$rc $(echo "$out" | tr '\n' ' ')"
is "nothing ran" "0" "$(target_psql cli_dev -c "SELECT count(*) FROM pg_tables WHERE tablename = 'early'")"
rm "$M/V0_5__early.sql"
printf 'CREATE TABLE customers (id bigint PRIMARY KEY);\n' >"$M/V1__init.sql"
# a terminal gets a progress bar
printf 'CREATE TABLE shipments (id bigint PRIMARY KEY);\n' >"$M/V3__shipments.sql"
script -q -e -c "$BB rollout '$M' --project shop --targets pg/cli_dev --wait --timeout 60" "$WORK/tty.log" >/dev/null 2>&1
is "on a terminal: exit 0" 0 "$?"
like "on a terminal: a progress bar" '\[#+\] 1/1 tasks' "$(tr '\r' '\n' <"$WORK/tty.log")"

# ---- thin wrappers: apply, status, wait, approve, cancel (JSON everywhere)
printf 'CREATE TABLE notes (id bigint PRIMARY KEY);\n' >"$WORK/notes.sql"
run "$BB" apply --project shop --version 10 --targets pg/cli_dev,pg/cli_prod "$WORK/notes.sql" --format json
like "apply --format json: the issue" '^\{"issue": [0-9]+\}$' "$out"
n=$(echo "$out" | tr -dc '0-9')
run "$BB" wait "$n" --timeout 60 --format json
is "wait --format json: waiting for approval, exit 1" "1 waiting_approval" \
	"$rc $(echo "$out" | python3 -c "import json,sys; print(json.load(sys.stdin)['issues'][0]['state'])")"
run "$BB" status "$n" --format json
is "status --format json: the issue and its tasks" "notes.sql 10 pg/cli_dev:done pg/cli_prod:pending_approval" \
	"$(echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['title'], d['version'], ' '.join(t['database'] + ':' + t['status'] for t in d['tasks']))")"
run "$BB" status "$n"
like "status as text" "issue $n +notes.sql" "$out"
run "$BB" cancel "$n" --format json
is "cancel --format json" "{\"issue\": $n, \"canceled_tasks\": 1}" "$out"
run env PGUSER=cli_appr "$BB" approve "$n"
like "approve of a canceled issue: the server's error, exit 2" "^2 .*issue $n is already canceled" "$rc $err"
run "$BB" apply --project shop "$WORK/none.sql"
like "apply of a file that does not exist: exit 2" "^2 .*none.sql: No such file or directory" "$rc $err"
run "$BB" check "$WORK/none" --project shop
like "check of a folder that does not exist: exit 2" "^2 .*none: No such file or directory" "$rc $err"
run "$BB" check "$M"
like "check without --project: exit 2" "^2 .*--project is required" "$rc $err"
run "$BB" status abc
like "status of a non-id: exit 2" "^2 .*not an issue id" "$rc $err"
run "$BB" status 999999
like "status of an unknown issue: exit 2" "^2 .*issue 999999 does not exist" "$rc $err"
printf 'SELECT 1;\n' | "$BB" apply --project shop --targets pg/cli_dev --title "from stdin" - >/dev/null
is "apply - reads standard input" "from stdin" "$(ctl_psql -c "SELECT title FROM bb.issues ORDER BY id DESC LIMIT 1")"

# ---- an older SQL API on the server: said clearly
for i in 1 2 3 4 5 6 7 8 9 10; do   # a worker's catalog query may deadlock with DROP EXTENSION: retry
	ctl_psql -c "DROP EXTENSION bytebase CASCADE" -c "CREATE EXTENSION bytebase VERSION '0.2'" >/dev/null 2>&1 && break
	sleep 0.5
done
is "the extension is at 0.2" "0.2" "$(ctl_psql -c "SELECT extversion FROM pg_extension WHERE extname = 'bytebase'")"
run env PGUSER=postgres "$BB" status 1
like "an extension older than the SQL API bb needs: exit 2, which update" \
	"^2 .*needs the bytebase SQL API ${V//./\\.} or later, but the server's extension is version 0\.2.*ALTER EXTENSION bytebase UPDATE" "$rc $(echo "$err" | tr '\n' ' ')"
run env PGUSER=postgres "$BB" --version
like "--version says so too" "^2 .*older than the SQL API" "$rc $err"
fresh_extension 2>/dev/null

done_testing
