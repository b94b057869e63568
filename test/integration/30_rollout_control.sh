#!/usr/bin/env bash
# Steering a rollout with the real workers: the review gate under each environment's policy and
# bb.recheck after a policy change; a syntax error judged by the target (dry run); reject; cancel
# of a running task (MariaDB, no dry run); skip of a failed task letting the next stage start;
# a database group as target.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

fresh_extension
recreate_target_dbs rc_dev rc_prod rc_t1 rc_t2 rc_t3
for d in rc_dev rc_prod rc_t1 rc_t2 rc_t3; do
	target_psql "$d" -c "CREATE TABLE orders (id bigint PRIMARY KEY, note text)" >/dev/null
done
ctl_psql >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rapi_appr') THEN CREATE ROLE rapi_appr; END IF;
END \$\$;
GRANT bytebase_approver TO rapi_appr;
SELECT bb.create_environment('dev');
SELECT bb.create_environment('prod', protected => true);
SELECT bb.add_instance('my', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', '$MYSQL_PASSWORD', 'dev');
SELECT bb.remote_query('my', NULL, 'DROP DATABASE IF EXISTS rc_my');
SELECT bb.remote_query('my', NULL, 'CREATE DATABASE rc_my');
SELECT bb.sync_instance('my');
SQL
add_target_pg pg dev
ctl_psql >/dev/null <<'SQL'
SELECT bb.create_project('shop');
SELECT bb.assign_database('pg/rc_dev', 'shop', 'dev');
SELECT bb.assign_database('pg/rc_prod', 'shop', 'prod');
SELECT bb.assign_database('my/rc_my', 'shop', 'dev');
SELECT bb.create_project('saas');
SELECT bb.assign_database('pg/rc_t' || n, 'saas', 'dev', '{"tier": "tenant"}') FROM generate_series(1, 3) n;
SELECT bb.create_database_group('saas', 'tenants', '{"tier": "tenant"}', '^rc_t');
SELECT bb.set_review_rule('dev', 'statement.where.require-update-delete', 'warning');
SQL
require_control

# ---- the review gate: an UPDATE without WHERE is a warning in dev, an error in prod
issue=$(ctl_psql -c "SELECT bb.apply('shop', \$\$UPDATE orders SET note = 'x';\$\$, targets => '{pg/rc_dev, pg/rc_prod}')")
is "dev runs, prod is blocked by the review" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "per database" "pg/rc_dev|done| pg/rc_prod|failed|review: 1 error|0" \
	"$(ctl_psql -c "SELECT string_agg(database || '|' || status || '|' || coalesce(blocked_by, '') ||
	                CASE WHEN status = 'failed' THEN '|' || attempts ELSE '' END, ' ') FROM bb.tasks WHERE issue = $issue")"
like "the blocked task says which rule" 'review: line 1 statement.where.require-update-delete' \
	"$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue AND database = 'pg/rc_prod'")"
is "the issue waits for the review" "review: 1 error" "$(ctl_psql -c "SELECT waiting_for FROM bb.issues WHERE id = $issue")"
ctl_psql -c "SELECT bb.set_review_rule('prod', 'statement.where.require-update-delete', 'warning')" >/dev/null
is "recheck after the policy change" "1" "$(ctl_psql -c "SELECT bb.recheck($issue)")"
is "prod now waits for approval" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "the warning stays visible" "warning" \
	"$(ctl_psql -c "SELECT level FROM bb.plan_checks WHERE issue = $issue AND database = 'pg/rc_prod' AND rule = 'statement.where.require-update-delete'")"

# ---- reject: nothing runs on prod, the issue is canceled
ctl_psql -c "SET SESSION AUTHORIZATION rapi_appr; SELECT bb.reject($issue, 'update in batches')" >/dev/null
is "rejected issue is canceled" "canceled" "$(ctl_psql -c "SELECT bb.wait($issue, '10 s')")"
is "prod untouched" "0" "$(target_psql rc_prod -c "SELECT count(*) FROM orders WHERE note = 'x'")"
is "the rejection is recorded" "reject|update in batches" \
	"$(ctl_psql -c "SELECT decision || '|' || comment FROM bb.approvals WHERE issue = $issue")"

require_control
# ---- a syntax error: the review reports it, the target judges it (dry run with the remote error)
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'CREAT TABLE broken (id bigint PRIMARY KEY);', targets => '{pg/rc_dev, pg/rc_prod}')")
is "the issue fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
like "dev failed with the target's error" 'syntax error at or near "CREAT"' \
	"$(ctl_psql -c "SELECT error FROM bb.tasks WHERE issue = $issue AND database = 'pg/rc_dev'")"
is "prod never started (and a protected stage never gets a dry run)" "pending_approval|0|0" \
	"$(ctl_psql -c "SELECT t.status || '|' || t.attempts || '|' || (SELECT count(*) FROM bb.plan_checks c
	                WHERE c.task = t.id AND c.\"check\" = 'dry_run') FROM bb.tasks t WHERE t.issue = $issue AND t.database = 'pg/rc_prod'")"
is "cancel a failed issue: its failed and waiting tasks are canceled" "2" "$(ctl_psql -c "SELECT bb.cancel($issue)")"

require_control
# ---- cancel stops a running task (MariaDB: no dry run)
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'DO SLEEP(30);', targets => '{my/rc_my}')")
ok "the task starts" wait_for_value "SELECT status FROM bb.tasks WHERE issue = $issue" "running" 30
ctl_psql -c "SELECT bb.cancel($issue)" >/dev/null
is "the issue is canceled" "canceled" "$(ctl_psql -c "SELECT bb.wait($issue, '1 s')")"
ok "the running task ends canceled" wait_for_value "SELECT status FROM bb.tasks WHERE issue = $issue" "canceled" 20
sql_error "a canceled issue cannot be canceled again" "55000.*already canceled" "SELECT bb.cancel($issue)"

require_control
# ---- skip a failed task: the next stage starts
target_psql rc_dev -c "DROP TABLE orders" >/dev/null
issue=$(ctl_psql -c "SELECT bb.apply('shop', 'ALTER TABLE orders ADD COLUMN qty bigint;', targets => '{pg/rc_dev, pg/rc_prod}')")
is "dev fails" "failed" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
dev_task=$(ctl_psql -c "SELECT id FROM bb.tasks WHERE issue = $issue AND database = 'pg/rc_dev'")
ctl_psql -c "SELECT bb.skip($dev_task, 'dev is rebuilt tonight')" >/dev/null
is "prod waits for approval" "waiting_approval" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
ctl_psql -c "SET SESSION AUTHORIZATION rapi_appr; SELECT bb.approve($issue)" >/dev/null
is "done once prod ran" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "progress counts the skipped task" "2/2 done, 1 skipped" "$(ctl_psql -c "SELECT progress FROM bb.issues WHERE id = $issue")"

require_control
# ---- a database group as target
issue=$(ctl_psql -c "SELECT bb.apply('saas', 'ALTER TABLE orders ADD COLUMN tenant_note text;', targets => '{tenants}')")
is "every tenant changed" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '60 s')")"
is "three tasks" "pg/rc_t1 pg/rc_t2 pg/rc_t3" "$(ctl_psql -c "SELECT string_agg(database, ' ') FROM bb.tasks WHERE issue = $issue")"

# postgres_fdw's servers outlive DROP EXTENSION bytebase: leave none behind
ctl_psql -c "DO \$\$ DECLARE s name; BEGIN FOR s IN SELECT server_name FROM bb.instance LOOP
               EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', s); END LOOP; END \$\$" >/dev/null 2>&1
done_testing
