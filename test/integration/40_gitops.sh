#!/usr/bin/env bash
# GitOps end to end (issue 10): a local bare repository made by the test, the gitops worker
# fetching it with libgit2 (in its helper process), issues per migration file in version order
# through dev, staging and an approval on prod; a modified applied file, an out-of-order file,
# a repeatable file changed, broken files, a deleted file, a force-push; unreachable URLs,
# missing branches and paths, a repository of another user, a hanging server; secrets; libgit2
# never in a server process.  The dispatch time from a push to a started task is printed (no
# timed assertion): test/bench/gitops_dispatch.sh measures it properly.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"
. "$(dirname "$0")/../lib/gitops.sh"
trap 'rm -rf "$GIT_WORK"; [ -n "${hang_pid:-}" ] && kill "$hang_pid" 2>/dev/null' EXIT

ensure_role go_admin bytebase_admin pg_read_server_files
ensure_role go_appr bytebase_approver
ensure_role go_dev bytebase_developer
ensure_role go_out bytebase_developer
shop_pipeline go go_dev
require_control
as_go_admin() { ctl_psql -c "SET SESSION AUTHORIZATION go_admin" -c "$1"; }
as_go_dev() { ctl_psql -c "SET SESSION AUTHORIZATION go_dev" -c "$1"; }
sync() { as_go_dev "SELECT bb.sync_repository('$1')"; }
files() { ctl_psql -c "SELECT string_agg(file || ':' || state, ' ' ORDER BY file) FROM bb.repository_files WHERE repository = '${2:-shop-migrations}' AND ($1)"; }
ADA="Ada Lovelace <ada@example.com>"
BOB="Bob Builder <bob@example.com>"

is "the gitops worker runs" "1" \
	"$(ctl_psql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'bytebase gitops'")"

# ---- an empty repository: the first fetch finds no branch
git_init_repo shop
as_go_admin "SELECT bb.add_repository('shop', 'shop-migrations', url => 'file://$GIT_WORK/shop.git', branch => 'main',
             path => 'migrations/', poll => '1 hour')" >/dev/null
ok "the first fetch reports the missing branch" \
	wait_for_value "SELECT last_error LIKE 'branch \"main\" does not exist%no branches yet' FROM bb.repositories" t 30

# ---- V1 and V2 in one commit: two issues, in version order, through dev and staging to prod's approval
printf 'CREATE TABLE customers (id bigint PRIMARY KEY);\n' | put_file shop migrations/V1__init.sql
printf 'CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint REFERENCES customers);\n' | put_file shop migrations/V2__orders.sql
printf '# shop migrations\n' | put_file shop migrations/README.md
c1=$(commit_push shop "$ADA" "V1 and V2")
issues=$(sync shop-migrations)
like "sync_repository returns the two issues" '^\{[0-9]+,[0-9]+\}$' "$issues"
i1=$(echo "$issues" | tr -d '{}' | cut -d, -f1)
i2=$(echo "$issues" | tr -d '{}' | cut -d, -f2)
is "issues titled by file, versioned, created by the repository's adder" "V1__init.sql|1|go_admin V2__orders.sql|2|go_admin" \
	"$(ctl_psql -c "SELECT string_agg(title || '|' || version || '|' || created_by, ' ' ORDER BY id) FROM bb.issues WHERE id IN ($i1, $i2)")"
is "V2 waits for prod's approval" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($i2, '60 s')")"
is "both applied to dev and staging, waiting on prod" \
	"V1__init.sql pg/go_dev done|V1__init.sql pg/go_stg done|V1__init.sql pg/go_prod pending_approval|V2__orders.sql pg/go_dev done|V2__orders.sql pg/go_stg done|V2__orders.sql pg/go_prod pending_approval" \
	"$(ctl_psql -c "SELECT string_agg(i.title || ' ' || t.database || ' ' || t.status, '|' ORDER BY i.id, t.id)
	                FROM bb.tasks t JOIN bb.issues i ON i.id = t.issue WHERE i.id IN ($i1, $i2)")"
is "in version order on each database" "1 2" \
	"$(ctl_psql -c "SELECT string_agg(version, ' ' ORDER BY applied_at, task) FROM bb.changelog WHERE database = 'pg/go_dev'")"
is "the tables exist on dev" "2" "$(target_psql go_dev -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('customers', 'orders')")"
is "prod is untouched before approval" "0" "$(target_psql go_prod -c "SELECT count(*) FROM pg_tables WHERE tablename = 'customers'")"
is "each file records its commit and author" "V1__init.sql $c1 $ADA|V2__orders.sql $c1 $ADA" \
	"$(ctl_psql -c "SELECT string_agg(file || ' ' || commit || ' ' || author, '|' ORDER BY file) FROM bb.repository_files WHERE kind = 'versioned'")"
is "the README is listed as ignored, with why" "ignored: not a .sql file" \
	"$(ctl_psql -c "SELECT state || ': ' || why FROM bb.repository_files WHERE file = 'README.md'")"
is "the repository shows the commit seen, no error" "$c1|" \
	"$(ctl_psql -c "SELECT last_commit || '|' || coalesce(last_error, '') FROM bb.repositories WHERE name = 'shop-migrations'")"
ctl_psql -c "SET SESSION AUTHORIZATION go_appr" -c "SELECT bb.approve($i1)" -c "SELECT bb.approve($i2)" >/dev/null
is "approved: both done" "done done" "$(ctl_psql -c "SELECT bb.wait($i1, '60 s')") $(ctl_psql -c "SELECT bb.wait($i2, '60 s')")"
is "both files applied" "V1__init.sql:applied V2__orders.sql:applied" "$(files "kind = 'versioned'")"

# ---- V1 modified (and V3 added): reported with both checksums, never applied; V3 held back
printf 'CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n' | put_file shop migrations/V1__init.sql
printf 'ALTER TABLE orders ADD COLUMN note text;\n' | put_file shop migrations/V3__note.sql
commit_push shop "$BOB" "edit V1, add V3" >/dev/null
is "the sync creates no issue" "{}" "$(sync shop-migrations 2>/dev/null)"
is "V1 modified-after-apply, V3 held back" "V1__init.sql:modified-after-apply V2__orders.sql:applied V3__note.sql:pending" \
	"$(files "kind = 'versioned'")"
is "both checksums reported" "true|true" \
	"$(ctl_psql -c "SELECT (checksum <> applied_checksum) || '|' || (why LIKE '%applied checksum ' || applied_checksum || ', now ' || checksum || '%')
	                FROM bb.repository_files WHERE file = 'V1__init.sql'")"
like "V3 says what holds it back" "held back by V1__init.sql" "$(ctl_psql -c "SELECT why FROM bb.repository_files WHERE file = 'V3__note.sql'")"
is "the modified V1 ran nowhere" "0" \
	"$(target_psql go_dev -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'name'")"
like "sync_repository says files need attention" "need attention" "$(sync shop-migrations 2>&1 >/dev/null)"

# ---- V1 restored: V3 goes
printf 'CREATE TABLE customers (id bigint PRIMARY KEY);\n' | put_file shop migrations/V1__init.sql
commit_push shop "$BOB" "restore V1" >/dev/null
i3=$(sync shop-migrations | tr -d '{}')
like "V3 becomes an issue" '^[0-9]+$' "$i3"
is "V3 rolls out to dev and staging" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($i3, '60 s')")"
is "V1 is applied again (same checksum)" "applied" "$(ctl_psql -c "SELECT state FROM bb.repository_files WHERE file = 'V1__init.sql'")"

# ---- V0_5: out of order, not applied
printf 'CREATE TABLE early (id int PRIMARY KEY);\n' | put_file shop migrations/V0_5__x.sql
commit_push shop "$ADA" "an old version" >/dev/null
is "no issue for an out-of-order file" "{}" "$(sync shop-migrations 2>/dev/null)"
is "V0_5 is out-of-order" "out-of-order" "$(ctl_psql -c "SELECT state FROM bb.repository_files WHERE file = 'V0_5__x.sql'")"
is "and was applied nowhere" "0|0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.issues WHERE version = '0.5'")|$(target_psql go_dev -c "SELECT count(*) FROM pg_tables WHERE tablename = 'early'")"

# ---- R__views: applied, and applied again when it changes
printf 'CREATE OR REPLACE VIEW customer_count AS SELECT count(*) AS n FROM customers;\n' | put_file shop migrations/R__views.sql
commit_push shop "$ADA" "views" >/dev/null
r1=$(sync shop-migrations 2>/dev/null | tr -d '{}')
is "the repeatable file is an issue" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($r1, '60 s')")"
printf 'CREATE OR REPLACE VIEW customer_count AS SELECT count(*) AS n, 2 AS revision FROM customers;\n' | put_file shop migrations/R__views.sql
commit_push shop "$ADA" "views v2" >/dev/null
r2=$(sync shop-migrations 2>/dev/null | tr -d '{}')
like "changed: another issue" '^[0-9]+$' "$r2"
is "it is re-applied" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($r2, '60 s')")"
is "dev's changelog has both contents of R__views" "2" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.changelog c JOIN bb.issues i ON i.id = c.issue WHERE c.database = 'pg/go_dev' AND i.title = 'R__views.sql' AND c.version IS NULL")"
is "dev has the new view" "1" "$(target_psql go_dev -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'customer_count'::regclass AND attname = 'revision'")"
is "an unchanged repeatable file is not applied again" "{}" "$(sync shop-migrations 2>/dev/null)"

# ---- broken files: not UTF-8, empty, the same version twice; they hold back later versions
printf 'SELECT 1;\n\xff\xfe\n' | put_file shop migrations/V4__bad.sql
printf '' | put_file shop migrations/V5__empty.sql
printf 'SELECT 6;\n' | put_file shop migrations/V6__a.sql
printf 'SELECT 60;\n' | put_file shop migrations/V6.0__b.sql
printf 'CREATE TABLE later (id int PRIMARY KEY);\n' | put_file shop migrations/V7__later.sql
commit_push shop "$BOB" "broken files" >/dev/null
is "no issue while broken files hold back V7" "{}" "$(sync shop-migrations 2>/dev/null)"
is "each broken file is ignored with why" \
	"V4__bad.sql:not valid UTF-8 (line 2)|V5__empty.sql:empty file|V6.0__b.sql:version 6.0 is also the version of V6__a.sql: rename one of them|V6__a.sql:version 6 is also the version of V6.0__b.sql: rename one of them|V7__later.sql:held back by V4__bad.sql (ignored)" \
	"$(ctl_psql -c "SELECT string_agg(file || ':' || why, '|' ORDER BY file) FROM bb.repository_files WHERE version::numeric >= 4")"
as_go_admin "SELECT bb.alter_repository('shop-migrations', block_on_error => false)" >/dev/null
i7=$(sync shop-migrations 2>/dev/null | tr -d '{}')
is "block_on_error => false: V7 goes" "V7__later.sql" "$(ctl_psql -c "SELECT title FROM bb.issues WHERE id = ${i7:-0}")"
ctl_psql -c "SELECT bb.wait(${i7:-0}, '60 s')" >/dev/null

# ---- a deleted applied file is reported, not reverted
git_as shop "$BOB" rm -q migrations/V2__orders.sql migrations/V4__bad.sql migrations/V5__empty.sql migrations/V6.0__b.sql
commit_push shop "$BOB" "drop V2 and the broken files" >/dev/null
sync shop-migrations >/dev/null 2>&1
is "V2 is deleted, its table stays" "deleted|1" \
	"$(ctl_psql -c "SELECT state FROM bb.repository_files WHERE file = 'V2__orders.sql'")|$(target_psql go_dev -c "SELECT count(*) FROM pg_tables WHERE tablename = 'orders'")"
is "never-applied files that went are forgotten" "0" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.repository_files WHERE file IN ('V4__bad.sql', 'V5__empty.sql', 'V6.0__b.sql')")"

# ---- a force-push rewrites history: reported; applied files keep their changelog
changelog_before=$(ctl_psql -c "SELECT count(*) FROM bb.changelog")
printf 'SELECT 8;\n' | put_file shop migrations/V8__after_rewrite.sql
git_as shop "$BOB" add -A
git_as shop "$BOB" commit -q --amend -m "drop V2 and the broken files, add V8"
git_as shop "$BOB" push -q --force origin main 2>/dev/null
sync shop-migrations >/dev/null 2>&1
like "the rewrite is reported" "was rewritten \(force-push\)" "$(ctl_psql -c "SELECT last_warning FROM bb.repositories WHERE name = 'shop-migrations'")"
is "the sync is marked rewritten" "t" "$(ctl_psql -c "SELECT rewritten FROM bb.repository_syncs ORDER BY id DESC LIMIT 1")"
is "the changelog keeps what was applied" "$changelog_before" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.changelog WHERE version IS DISTINCT FROM '8'")"

# ---- libgit2 runs in the helper only; the working copy is the server user's, under the data directory
pids=$(ctl_psql -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type IN ('bytebase gitops', 'bytebase launcher')")
mapped=0
for p in $pids $(ctl_psql -c "SELECT pg_backend_pid()"); do grep -q libgit2 "/proc/$p/maps" 2>/dev/null && mapped=$((mapped + 1)); done
is "no server process (worker, launcher, backend) maps libgit2" "0" "$mapped"
wc_dir=$BB_RUN_DIR/control/data/bytebase_git
ok "the working copies are in the data directory" test -d "$wc_dir"
is "owned by the server's user, mode 700" "postgres 700" "$(stat -c '%U %a' "$wc_dir")"

# ---- bad input and faults: each a clear error, the others go on
as_go_admin "SELECT bb.add_repository('shop', 'gone', url => 'file:///nonexistent/x.git', poll => '1 s')" >/dev/null
sql_error "an unreachable repository: the fetch error" "08006.*could not reach file:///nonexistent/x.git" \
	"SET SESSION AUTHORIZATION go_dev; SELECT bb.sync_repository('gone')"
like "it is kept in last_error" "could not reach" "$(ctl_psql -c "SELECT last_error FROM bb.repositories WHERE name = 'gone'")"
as_go_admin "SELECT bb.add_repository('shop', 'nobranch', url => 'file://$GIT_WORK/shop.git', branch => 'release', poll => '1 hour')" >/dev/null
sql_error "a branch that does not exist: named, with the branches there are" '42704.*branch "release" does not exist .*\(branches: main\)' \
	"SELECT bb.sync_repository('nobranch')"
as_go_admin "SELECT bb.add_repository('shop', 'nopath', url => 'file://$GIT_WORK/shop.git', path => 'nowhere', poll => '1 hour')" >/dev/null
sql_error "a path that does not exist" '42704.*path "nowhere" does not exist on branch "main"' "SELECT bb.sync_repository('nopath')"
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$GIT_WORK/foreign" && git init -q --bare -b main "$GIT_WORK/foreign/root.git" && chmod -R a+rX "$GIT_WORK/foreign"
	as_go_admin "SELECT bb.add_repository('shop', 'foreign', url => '$GIT_WORK/foreign/root.git', poll => '1 hour')" >/dev/null
	sql_error "a repository of another user: libgit2's ownership check, explained" "42501.*owned by uid 0, not by the server's user" \
		"SELECT bb.sync_repository('foreign')"
fi
# a server that accepts and never answers: the fetch is stopped at bytebase.git_timeout
hang_port=$((BB_PORT_BASE + 9))
python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $hang_port)); s.listen(16); kept = []
while True: kept.append(s.accept())" &
hang_pid=$!
ok "a server that never answers listens" bash -c "for i in \$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$hang_port) 2>/dev/null && exit 0; sleep 0.1; done; exit 1"
ctl_psql -c "ALTER SYSTEM SET bytebase.git_timeout = '2s'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
as_go_admin "SELECT bb.add_repository('shop', 'hang', url => 'https://127.0.0.1:$hang_port/x.git', poll => '1 hour')" >/dev/null
sql_error "a hanging server: the fetch ends at bytebase.git_timeout" "08006.*did not finish within bytebase.git_timeout" \
	"SELECT bb.sync_repository('hang', timeout => '30 s')"
# bb.sync_repository waits interruptibly
ctl_psql -c "ALTER SYSTEM SET bytebase.git_timeout = '20s'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
( ctl_psql -c "SET application_name = 'go_waiter'" -c "SELECT bb.sync_repository('hang', timeout => '60 s')" >/dev/null 2>&1; echo $? >"$GIT_WORK/waiter.rc" ) &
waiter=$!
ok "the waiting call is there" wait_for_value "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'go_waiter' AND state = 'active'" 1 10
ctl_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'go_waiter'" >/dev/null
ok "a canceled bb.sync_repository returns at once" wait_for_value "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'go_waiter'" 0 5
wait "$waiter"
kill "$hang_pid" 2>/dev/null; wait "$hang_pid" 2>/dev/null; hang_pid=
ctl_psql -c "ALTER SYSTEM RESET bytebase.git_timeout" -c "SELECT pg_reload_conf()" >/dev/null
as_go_admin "SELECT bb.drop_repository('hang')" >/dev/null

# a failing repository does not hold up the others: the poll alone dispatches (push to started task)
as_go_admin "SELECT bb.alter_repository('shop-migrations', poll => '1 s')" >/dev/null
sleep 1.5
printf 'SELECT 9;\n' | put_file shop migrations/V9__polled.sql
commit_push shop "$ADA" "polled" >/dev/null
t0=$(date +%s.%N)
ok "the poll creates the issue while 'gone' keeps failing" \
	wait_for_value "SELECT count(*) > 0 FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE i.title = 'V9__polled.sql' AND t.started_at IS NOT NULL" t 30
started=$(ctl_psql -c "SELECT extract(epoch FROM min(t.started_at)) FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE i.title = 'V9__polled.sql'")
echo "# dispatch (push -> first task started, poll 1 s): $(awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.0f ms", (b - a) * 1000 }')"
is "'gone' went on failing meanwhile, backing off" "true|true" \
	"$(ctl_psql -c "SELECT (failed_fetches >= 2) || '|' || (next_fetch > last_fetch + interval '1 s') FROM bb.repositories WHERE name = 'gone'")"
as_go_admin "SELECT bb.drop_repository('gone')" >/dev/null

# ---- secrets and roles
as_go_admin "SELECT bb.add_repository('shop', 'remote', url => 'https://127.0.0.1:1/acme/shop.git', token => 'tok_S3CRET_value', poll => '1 hour')" >/dev/null
sql_error "an https repository that cannot be reached" "08006.*could not reach https://127.0.0.1:1/acme/shop.git" \
	"SELECT bb.sync_repository('remote')"
is "the token is in no view, sync row or audit entry" "0" \
	"$(ctl_psql -c "SELECT (SELECT count(*) FROM bb.repositories r WHERE r::text LIKE '%S3CRET%')
	                     + (SELECT count(*) FROM bb.repository_syncs s WHERE s::text LIKE '%S3CRET%')
	                     + (SELECT count(*) FROM bb.audit_log a WHERE a::text LIKE '%S3CRET%')")"
is "nor in the server log" "0" "$(grep -c S3CRET "$BB_RUN_DIR/control/server.log")"
is "the view says a token is there" "t" "$(ctl_psql -c "SELECT has_token FROM bb.repositories WHERE name = 'remote'")"
sql_error "an admin's role cannot read the token" "42501" "SET SESSION AUTHORIZATION go_admin; SELECT umoptions FROM pg_user_mapping"
sql_error "a developer cannot add a repository" "42501.*may not do this" \
	"SET SESSION AUTHORIZATION go_dev; SELECT bb.add_repository('shop', 'x', 'https://example.com/x.git')"
sql_error "nor an admin a local one without pg_read_server_files" "42501.*server's file system" \
	"REVOKE pg_read_server_files FROM go_admin; SET SESSION AUTHORIZATION go_admin; SELECT bb.add_repository('shop', 'x', 'file:///tmp/x.git')"
ctl_psql -c "GRANT pg_read_server_files TO go_admin" >/dev/null
sql_error "a developer outside the project does not see the repository" '42704.*repository "shop-migrations" does not exist' \
	"SET SESSION AUTHORIZATION go_out; SELECT bb.sync_repository('shop-migrations')"

# ---- dropping a repository takes its working copy along
workdir=$(ctl_psql -c "SELECT bb._gitops_workdir(r) FROM bb.repository r WHERE name = 'nobranch'")
ok "the working copy of 'nobranch' exists" test -d "$wc_dir/$workdir"
as_go_admin "SELECT bb.drop_repository('nobranch')" >/dev/null
ctl_psql -c "SELECT bb.sync_repository('nopath')" >/dev/null 2>&1   # a pass of the worker
ok "and is removed once the repository is dropped" test ! -e "$wc_dir/$workdir"

if [ "$_bb_failed" -gt 0 ]; then
	ctl_psql -c "SELECT name, last_commit, last_error, last_warning FROM bb.repositories" | sed 's/^/#   /'
	ctl_psql -c "SELECT file, state, why FROM bb.repository_files" | sed 's/^/#   /'
	grep -E "gitops" "$BB_RUN_DIR/control/server.log" | tail -20 | sed 's/^/#   log: /'
fi
done_testing
