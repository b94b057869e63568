#!/usr/bin/env bash
# max_worker_processes exhausted: the launcher logs it once and the rollout still finishes with
# the executors that could start; SIGHUP reloads bytebase.max_workers.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

LOG=$BB_RUN_DIR/control/server.log
restore() {
	ctl_psql -c "ALTER SYSTEM RESET max_worker_processes" -c "ALTER SYSTEM RESET bytebase.max_workers" >/dev/null 2>&1
	ctl_pgctl -l "$LOG" -m fast -w restart >/dev/null 2>&1
	wait_control
}
trap restore EXIT

fresh_extension
recreate_target_dbs wk_s1 wk_s2 wk_s3 wk_s4 wk_s5 wk_s6
# the launcher, the gitops worker and PostgreSQL's logical replication launcher take three of
# the four slots: one executor can run, five cannot start
ctl_psql -c "ALTER SYSTEM SET max_worker_processes = 4" -c "ALTER SYSTEM SET bytebase.max_workers = 6" >/dev/null
ok "control cluster restarts with 4 worker slots" ctl_pgctl -l "$LOG" -m fast -w restart
wait_control
ctl_psql -c "SELECT bb.create_environment('dev')" >/dev/null
review_off
add_target_pg pg dev
ctl_psql -c "SELECT bb.create_project('slots')" >/dev/null
for d in wk_s1 wk_s2 wk_s3 wk_s4 wk_s5 wk_s6; do ctl_psql -c "SELECT bb.assign_database('pg/$d', 'slots', 'dev')" >/dev/null; done
before=$(wc -l <"$LOG")
issue=$(ctl_psql -c "SELECT bb.apply('slots', 'CREATE TABLE s(id int); SELECT pg_sleep(0.3);')")
is "rollout finishes although workers could not all start" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '120 s')")"
n=$(tail -n +"$before" "$LOG" | grep -c "could not start an executor worker: no background worker slot is free" || true)
ok "the exhausted slots are logged ($n line(s) for this episode)" test "$n" -ge 1 -a "$n" -le 2
like "the log line says what to do" "max_worker_processes" "$(tail -n +"$before" "$LOG" | grep -A2 'no background worker slot' | head -3)"

# SIGHUP: bytebase.max_workers = 1 takes effect without a restart
ctl_psql -c "ALTER SYSTEM SET bytebase.max_workers = 1" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
for d in wk_s1 wk_s2 wk_s3; do target_psql "$d" -c "DROP TABLE s" >/dev/null; done
issue=$(ctl_psql -c "SELECT bb.apply('slots', 'CREATE TABLE s(id int); SELECT pg_sleep(0.3);', targets => ARRAY['pg/wk_s1','pg/wk_s2','pg/wk_s3'])")
is "rollout with one worker finishes" "done" "$(ctl_psql -c "SELECT bb.wait($issue, '120 s')")"
is "one worker at a time after reload" "t" \
	"$(ctl_psql -c "SELECT coalesce(max(c), 0) <= 1 FROM (SELECT (SELECT count(*) FROM bb.task_run r2 JOIN bb.task t2 ON t2.id = r2.task_id
	                  WHERE t2.issue_id = $issue AND r2.started_at <= r.started_at AND r2.finished_at > r.started_at) c
	                FROM bb.task_run r JOIN bb.task t ON t.id = r.task_id WHERE t.issue_id = $issue) x")"
done_testing
