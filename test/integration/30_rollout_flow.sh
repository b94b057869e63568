#!/usr/bin/env bash
# The rollout API end to end with the real workers (issue 3's user story): apply as a developer,
# wait for approval of prod, approve as an approver, changelog per database, LISTEN bytebase,
# Flyway-style versions (skip when applied, refuse another checksum), a dry run failing on one
# target, fixed, then bb.retry.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
recreate_target_dbs ro_dev ro_stg ro_prod
for d in ro_dev ro_stg ro_prod; do target_psql "$d" -c "CREATE TABLE orders (id bigint PRIMARY KEY)" >/dev/null; done
ctl_psql >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rapi_dev') THEN CREATE ROLE rapi_dev; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rapi_appr') THEN CREATE ROLE rapi_appr; END IF;
END $$;
GRANT bytebase_developer TO rapi_dev;
GRANT bytebase_approver TO rapi_appr;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('staging');
SELECT bb.create_environment('prod', protected => true);
SQL
add_target_pg pg-main dev
ctl_psql >/dev/null <<'SQL'
SELECT bb.create_project('shop');
SELECT bb.assign_database('pg-main/ro_dev', 'shop', 'dev');
SELECT bb.assign_database('pg-main/ro_stg', 'shop', 'staging');
SELECT bb.assign_database('pg-main/ro_prod', 'shop', 'prod');
SELECT bb.grant_project('shop', 'rapi_dev');
SELECT bb.set_review_option('dev', 'dry_run', true);
SELECT bb.set_review_option('staging', 'dry_run', true);
SQL
require_control

# ---- a listener in another session, until the first issue is done (at most 60 s)
notify_log=$BB_RUN_DIR/rapi_notify.$$
ctl_psql -c "LISTEN bytebase" -c "DO \$\$ BEGIN FOR i IN 1..600 LOOP
                EXIT WHEN EXISTS (SELECT 1 FROM bb.issue WHERE status <> 'open'); PERFORM pg_sleep(0.1);
              END LOOP; END \$\$" >"$notify_log" 2>&1 &
listener=$!
sleep 0.3

# ---- the user story
issue=$(ctl_psql -c "SET SESSION AUTHORIZATION rapi_dev; SELECT bb.apply('shop', \$\$ALTER TABLE orders ADD COLUMN note text;\$\$,
                     version => '2026.11.25-01', title => 'add note')")
like "apply returns the issue id" '^[0-9]+$' "$issue"
is "dev and staging done, prod waits for approval" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "per database: stage and status" "pg-main/ro_dev|dev|done pg-main/ro_stg|staging|done pg-main/ro_prod|prod|pending_approval" \
	"$(ctl_psql -c "SELECT string_agg(database || '|' || stage || '|' || status, ' ') FROM bb.tasks WHERE issue = $issue")"
is "the issue says what it waits for" "open|2/3 done|approval of stage prod" \
	"$(ctl_psql -c "SELECT status || '|' || progress || '|' || waiting_for FROM bb.issues WHERE id = $issue")"
is "prod untouched before approval" "0" \
	"$(target_psql ro_prod -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'note'")"
sql_error "the creator cannot approve" "42501" "SET SESSION AUTHORIZATION rapi_dev; SELECT bb.approve($issue)"
is "an approver approves prod" "prod" "$(ctl_psql -c "SET SESSION AUTHORIZATION rapi_appr; SELECT bb.approve($issue, 'looks fine')")"
is "approved issue finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "prod has the column" "1" \
	"$(target_psql ro_prod -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'note'")"
is "tasks: done, one attempt, timed" "3" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.tasks WHERE issue = $issue AND status = 'done' AND attempts = 1
	                AND finished_at >= started_at AND error IS NULL AND blocked_by IS NULL")"
is "changelog of a database: version, checksum, statement, status, who" \
	"2026.11.25-01|true|ALTER TABLE orders ADD COLUMN note text;|done|true|rapi_dev|$issue" \
	"$(ctl_psql -c "SELECT version || '|' || (checksum ~ '^[0-9a-f]{64}\$') || '|' || statement || '|' || status || '|'
	                || (duration IS NOT NULL) || '|' || applied_by || '|' || issue
	                FROM bb.changelog WHERE database = 'pg-main/ro_prod'")"
is "the approval is recorded" "prod|approve|looks fine|rapi_appr" \
	"$(ctl_psql -c "SELECT stage || '|' || decision || '|' || comment || '|' || decided_by FROM bb.approvals WHERE issue = $issue")"

wait "$listener"
notes=$(grep -o 'payload "[^"]*"[^)]*' "$notify_log" | sed 's/^payload //' | tr '\n' ' ')
# payloads carry ids only: a listener learns nothing it could not read in bb.issues / bb.tasks
like "LISTEN bytebase: the issue was created and changed" "\"id\": $issue, \"type\": \"issue\"}" "$(cat "$notify_log")"
like "LISTEN bytebase: tasks changed" '"type": "task", "issue": '"$issue"'}' "$(cat "$notify_log")"
is "LISTEN bytebase: no status, project or statement in payloads" "" \
	"$(grep -oE '"(status|project|statement)"' "$notify_log" | head -1)"
rm -f "$notify_log"

require_control
# ---- versions: applied again = skipped everywhere; another checksum = refused
again=$(ctl_psql -c "SELECT bb.apply('shop', \$\$ALTER TABLE orders ADD COLUMN note text;\$\$, version => '2026.11.25-01')")
is "the same version again is done at once" "done" "$(ctl_psql -c "SELECT bb.wait($again, '10 s')")"
is "every task skipped as already applied" "3" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.tasks WHERE issue = $again AND status = 'skipped' AND skip_reason = 'version 2026.11.25-01 already applied'")"
is "nothing ran twice" "1" "$(ctl_psql -c "SELECT count(*) FROM bb.changelog WHERE database = 'pg-main/ro_prod'")"
sql_error "another statement under an applied version is refused" "23505.*already applied to \"pg-main/ro_(dev|prod|stg)\" with a different checksum" \
	"SELECT bb.apply('shop', 'ALTER TABLE orders ADD COLUMN other text;', version => '2026.11.25-01')"

require_control
# ---- a dry run fails on staging (the table is missing there): the stage stops, prod never starts;
#      fixed on the target, bb.retry checks it again and the rollout continues
target_psql ro_stg -c "DROP TABLE orders" >/dev/null
issue=$(ctl_psql -c "SET SESSION AUTHORIZATION rapi_dev; SELECT bb.apply('shop', 'ALTER TABLE orders ADD COLUMN qty bigint;', version => 'v2')")
is "the issue fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "staging failed in its dry run with the remote error" '^dry run: .*relation "orders" does not exist' \
	"$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue AND database = 'pg-main/ro_stg'")"
is "staging never ran, prod never started" "0|pending_approval|0" \
	"$(ctl_psql -c "SELECT (SELECT attempts FROM bb.tasks WHERE issue = $issue AND database = 'pg-main/ro_stg') || '|' ||
	                       (SELECT status || '|' || attempts FROM bb.tasks WHERE issue = $issue AND database = 'pg-main/ro_prod')")"
is "the dry run finding is visible" "dry_run|error" \
	"$(ctl_psql -c "SELECT \"check\" || '|' || level FROM bb.plan_checks WHERE issue = $issue AND database = 'pg-main/ro_stg' AND level = 'error'")"
target_psql ro_stg -c "CREATE TABLE orders (id bigint PRIMARY KEY, note text)" >/dev/null
is "retry re-queues the failed task" "1" "$(ctl_psql -c "SET SESSION AUTHORIZATION rapi_dev; SELECT bb.retry($issue)")"
is "staging done, prod waits for approval again" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
ctl_psql -c "SET SESSION AUTHORIZATION rapi_appr; SELECT bb.approve($issue)" >/dev/null
is "the retried issue finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "every target has the column" "1 1 1 " \
	"$(for d in ro_dev ro_stg ro_prod; do printf '%s ' "$(target_psql $d -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'qty'")"; done)"

# postgres_fdw's servers outlive DROP EXTENSION bytebase: leave none behind
ctl_psql -c "DO \$\$ DECLARE s name; BEGIN FOR s IN SELECT server_name FROM bb.instance LOOP
               EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', s); END LOOP; END \$\$" >/dev/null 2>&1
done_testing
