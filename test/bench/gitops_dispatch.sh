#!/usr/bin/env bash
# test/bench/gitops_dispatch.sh — GitOps dispatch: from a push to the first started task.
#
#   bash test/bench/gitops_dispatch.sh [--runs 10] [--poll 1]
#
# Needs the engines of test/lib/engines.sh (reads $BB_RUN_DIR/env.sh) and the extension built and
# installed; recreates the extension in the control database.  One target database in one
# unprotected environment (review off: the review is not what is measured), a bare repository
# made here (the server user's), watched with poll => POLL seconds.
#  baseline  bb.apply of one file's content: task run started - clock before COMMIT (median)
#  poll      a commit with one new migration file pushed, nothing else: task run started - clock
#            when `git push` started; split into the wait for the poll (fetch started - push)
#            and the rest (fetch, record, bb.apply, claim: task started - fetch started)
#  sync      the same with SELECT bb.sync_repository() right after the push
# Prints each median, min and max and the ratio of the rest to the baseline.  Goal: every poll
# dispatch within one poll interval + 1 s.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/test/lib/common.sh"
. "$ROOT/test/lib/workers.sh"
. "$ROOT/test/lib/gitops.sh"
trap 'rm -rf "$GIT_WORK"' EXIT

RUNS=10 POLL=1
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) RUNS=$2; shift 2 ;;
		--poll) POLL=$2; shift 2 ;;
		*) echo "usage: $0 [--runs N] [--poll SECONDS]" >&2; exit 2 ;;
	esac
done
now() { date +%s.%N; }
# the clock starts when the push starts (the watcher may see the new head before git exits)
commit_only() { git_as bench "Bench <bench@example.com>" add -A; git_as bench "Bench <bench@example.com>" commit -q -m "$1"; }
push_only() { git_as bench "Bench <bench@example.com>" push -q origin main 2>/dev/null; }
# min / median / max of the numbers on stdin (ms)
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.0f ms (min %.0f, max %.0f)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }

echo "# gitops_dispatch: runs=$RUNS poll=${POLL}s ($(date -u +%FT%TZ))"
fresh_extension 2>/dev/null
recreate_target_dbs gd_bench 2>/dev/null
ctl_psql -c "SELECT bb.create_environment('dev')" >/dev/null
add_target_pg benchpg dev
review_off
ctl_psql -c "SELECT bb.create_project('bench')" -c "SELECT bb.assign_database('benchpg/gd_bench', 'bench', 'dev')" \
	-c "DROP TABLE IF EXISTS public.gd_commit" -c "CREATE TABLE public.gd_commit (issue bigint, pre_commit timestamptz)" >/dev/null
git_init_repo bench
printf 'SELECT 0;\n' | put_file bench migrations/V0__start.sql
commit_push bench "Bench <bench@example.com>" start >/dev/null
ctl_psql -c "SELECT bb.add_repository('bench', 'bench', url => 'file://$GIT_WORK/bench.git', path => 'migrations', poll => '$POLL s')" >/dev/null
wait_for_value "SELECT count(*) FROM bb.task WHERE status = 'done'" 1 30 >/dev/null

# baseline: bb.apply, commit -> task started
for ((k = 1; k <= RUNS; k++)); do
	ctl_psql >/dev/null <<SQL
BEGIN;
INSERT INTO public.gd_commit SELECT bb.apply('bench', 'SELECT $k;', title => 'direct $k'), clock_timestamp();
COMMIT;
SQL
	wait_for_value "SELECT count(*) FROM bb.issue WHERE title = 'direct $k' AND status = 'done'" 1 30 >/dev/null
done
base=$(ctl_psql -c "SELECT extract(epoch FROM min(r.started_at) - c.pre_commit) * 1000
                    FROM public.gd_commit c JOIN bb.task t ON t.issue_id = c.issue JOIN bb.task_run r ON r.task_id = t.id
                    GROUP BY c.issue, c.pre_commit" | stats)
base_median=$(echo "$base" | awk '{print $2}')
echo "baseline  bb.apply commit -> task started: $base"

# poll: push -> task started, with no other wake-up than the poll
: >"$GIT_WORK/poll.ms"; : >"$GIT_WORK/wait.ms"; : >"$GIT_WORK/rest.ms"
for ((k = 1; k <= RUNS; k++)); do
	sleep "0.$((RANDOM % 10))"		# pushes at random phases of the poll
	printf 'SELECT %d;\n' "$k" | put_file bench "migrations/V${k}__poll.sql"
	commit_only "poll $k"
	t0=$(now)
	push_only
	wait_for_value "SELECT count(*) FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE i.title = 'V${k}__poll.sql' AND t.started_at IS NOT NULL" 1 60 >/dev/null
	read -r started fetched <<<"$(ctl_psql -F ' ' -c "SELECT extract(epoch FROM t.started_at), extract(epoch FROM s.started_at)
	     FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id JOIN bb.repository_dispatch d ON d.issue_id = i.id
	     JOIN bb.repository_sync s ON s.id = d.sync_id WHERE i.title = 'V${k}__poll.sql'")"
	awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$GIT_WORK/poll.ms"
	awk -v a="$t0" -v b="$fetched" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$GIT_WORK/wait.ms"
	awk -v a="$fetched" -v b="$started" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$GIT_WORK/rest.ms"
done
echo "poll      push -> task started:             $(stats <"$GIT_WORK/poll.ms")   (goal: every one <= ${POLL} s + 1 s)"
echo "            of which waiting for the poll:  $(stats <"$GIT_WORK/wait.ms")"
rest=$(stats <"$GIT_WORK/rest.ms")
echo "            fetch, record, apply, claim:    $rest"

# sync: push, then bb.sync_repository at once
ctl_psql -c "SELECT bb.alter_repository('bench', poll => '1 hour')" >/dev/null
sleep 1
: >"$GIT_WORK/sync.ms"
for ((k = 1; k <= RUNS; k++)); do
	printf 'SELECT %d;\n' "$k" | put_file bench "migrations/V$((100 + k))__sync.sql"
	commit_only "sync $k"
	t0=$(now)
	push_only
	ctl_psql -c "SELECT bb.sync_repository('bench')" >/dev/null
	wait_for_value "SELECT count(*) FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE i.title = 'V$((100 + k))__sync.sql' AND t.started_at IS NOT NULL" 1 60 >/dev/null
	started=$(ctl_psql -c "SELECT extract(epoch FROM t.started_at) FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id WHERE i.title = 'V$((100 + k))__sync.sql'")
	awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$GIT_WORK/sync.ms"
done
echo "sync      push -> bb.sync_repository -> task started: $(stats <"$GIT_WORK/sync.ms")"
rest_median=$(echo "$rest" | awk '{print $2}')
echo "ratio     (fetch, record, apply, claim) / baseline: $(awk -v a="$rest_median" -v b="$base_median" 'BEGIN { printf "%.1f", a / b }')"
max=$(sort -n "$GIT_WORK/poll.ms" | tail -1)
awk -v m="$max" -v p="$POLL" 'BEGIN { exit !(m <= (p + 1) * 1000) }' && echo "goal met: the slowest poll dispatch took ${max} ms" \
	|| echo "goal missed: the slowest poll dispatch took ${max} ms"
ctl_psql -c "DROP TABLE public.gd_commit" >/dev/null
