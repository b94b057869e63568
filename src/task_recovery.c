/* task_recovery.c — what the launcher does with a task left 'running' by an executor that is gone */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/pg_list.h"

#include "executor.h"
#include "task_split.h"
#include "worker_shmem.h"
#include "worker_spi.h"

#define MAX_INTERRUPTED_ATTEMPTS 5	/* a task whose executor keeps dying stops being re-queued */

/* True when pid belongs to an executor that still holds its slot. */
bool
bb_executor_alive(pid_t pid)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	bool		alive = false;

	if (sh == NULL || pid == 0)
		return false;
	LWLockAcquire(sh->lock, LW_SHARED);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
		if (sh->slots[i].state != BB_SLOT_FREE && sh->slots[i].pid == pid)
			alive = true;
	LWLockRelease(sh->lock);
	return alive;
}

/* True when a live executor has this dry run in hand. */
static bool
dry_run_in_hand(int64 task_id)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	bool		found = false;

	if (sh == NULL)
		return false;
	LWLockAcquire(sh->lock, LW_SHARED);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
		if (sh->slots[i].state != BB_SLOT_FREE && sh->slots[i].dry_run && sh->slots[i].task_id == task_id)
			found = true;
	LWLockRelease(sh->lock);
	return found;
}

/* Dry runs left 'running' by a dead executor go back to 'pending' (they changed nothing).
 * The UPDATE re-checks the row's latest version, so a check finished meanwhile stays done. */
static void
recover_dry_runs(void)
{
	uint64		n = wx_exec("SELECT task_id FROM bb.plan_check WHERE kind = 'dry_run' AND status = 'running'", 0, NULL);
	int64	   *ids = palloc(Max(n, 1) * sizeof(int64));
	int			k = 0;

	for (uint64 i = 0; i < n; i++)
	{
		int64		id = wx_get_int(i, 1);

		if (!dry_run_in_hand(id))
			ids[k++] = id;
	}
	for (int i = 0; i < k; i++)
	{
		const char *a[1];

		a[0] = wx_itoa(ids[i]);
		wx_exec("UPDATE bb.plan_check SET status = 'pending', started_at = NULL "
				"WHERE task_id = $1::bigint AND kind = 'dry_run' AND status = 'running'", 1, a);
	}
}

/* One orphan, decided under its row lock so a finishing executor cannot race us. */
static void
recover_one(int64 task_id, int attempts, pid_t pid, int stmts_done, const char *engine, const char *body)
{
	const char *a[4];
	const char *error;
	bool		requeue = false;

	a[0] = wx_itoa(task_id);
	a[1] = wx_itoa(attempts);
	if (wx_exec("SELECT 1 FROM bb.task WHERE id = $1::bigint AND status = 'running' AND attempts = $2::int "
				"FOR UPDATE", 2, a) == 0)
		return;
	if (bb_executor_alive(pid))
		return;

	if (strcmp(engine, "postgres") == 0 && bb_script_is_nontransactional(body))
		error = "interrupted during a non-transactional statement; verify on the target and bb.retry or bb.skip";
	else if (strcmp(engine, "postgres") == 0 && attempts >= MAX_INTERRUPTED_ATTEMPTS)
		error = psprintf("interrupted %d times; not re-queued again (see bb.task_run)", attempts);
	else if (strcmp(engine, "postgres") == 0)
	{
		/* the change and its history row commit together: rerunning is safe either way */
		error = "interrupted: the executor ended before recording the result; re-queued "
			"(the target's history shows whether it was applied)";
		requeue = true;
	}
	else
	{
		List	   *stmts = bb_task_split(body, engine);

		error = psprintf("interrupted after statement %d of %d; verify on the target and bb.retry or bb.skip",
						 stmts_done, list_length(stmts));
	}
	ereport(LOG, (errmsg("bytebase: task " INT64_FORMAT " was left running by executor %d: %s",
						 task_id, (int) pid, error)));

	a[2] = error;
	wx_exec("UPDATE bb.task_run SET status = 'failed', finished_at = clock_timestamp(), error = $3 "
			"WHERE task_id = $1::bigint AND attempt = $2::int AND status = 'running'", 3, a);
	if (requeue)
		wx_exec("UPDATE bb.task SET status = 'pending', error = $3 WHERE id = $1::bigint", 3, a);
	else
		wx_exec("UPDATE bb.task SET status = 'failed', finished_at = clock_timestamp(), error = $3 "
				"WHERE id = $1::bigint", 3, a);
}

/* Startup and every tick: tasks 'running' whose executor is not alive are resolved by what
 * the engine guarantees (see README "Crash safety"). */
void
bb_recover_orphans(void)
{
	uint64		n;
	int64	   *task;
	int64	   *issue;
	int		   *attempts;
	int		   *pid;
	int		   *done;
	char	  **engine;
	char	  **body;
	int			k = 0;

	recover_dry_runs();
	n = wx_exec("SELECT t.id, t.attempts, coalesce(r.executor_pid, 0), coalesce(r.statements_done, 0), "
				"       ins.engine, st.body, t.issue_id "
				"FROM bb.task t LEFT JOIN bb.task_run r ON r.task_id = t.id AND r.attempt = t.attempts "
				"JOIN bb.database d ON d.id = t.database_id JOIN bb.instance ins ON ins.id = d.instance_id "
				"JOIN bb.issue iss ON iss.id = t.issue_id JOIN bb.statement st ON st.hash = iss.statement_hash "
				"WHERE t.status = 'running' ORDER BY t.id", 0, NULL);
	if (n == 0)
		return;
	task = palloc(n * sizeof(int64));
	issue = palloc(n * sizeof(int64));
	attempts = palloc(n * sizeof(int));
	pid = palloc(n * sizeof(int));
	done = palloc(n * sizeof(int));
	engine = palloc(n * sizeof(char *));
	body = palloc(n * sizeof(char *));
	for (uint64 i = 0; i < n; i++)
	{
		pid[k] = (int) wx_get_int(i, 3);
		if (bb_executor_alive(pid[k]))
			continue;
		task[k] = wx_get_int(i, 1);
		attempts[k] = (int) wx_get_int(i, 2);
		done[k] = (int) wx_get_int(i, 4);
		engine[k] = wx_get(i, 5);
		body[k] = wx_get(i, 6);
		issue[k] = wx_get_int(i, 7);
		k++;
	}
	for (int i = 0; i < k; i++)
	{
		recover_one(task[i], attempts[i], pid[i], done[i], engine[i], body[i]);
		bb_refresh_issue(issue[i]);
	}
}
