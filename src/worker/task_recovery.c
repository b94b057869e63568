/* task_recovery.c — what the launcher does with a task left 'running' by an executor that is gone */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/pg_list.h"

#include "executor.h"
#include "task_exec.h"
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
 * The update re-checks the row's latest version, so a check finished meanwhile stays done. */
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
		wx_exec("SELECT bb._requeue_dry_run($1::bigint)", 1, a);
	}
}

/* One orphan, decided under its row lock so a finishing executor cannot race us: what the
 * engine guarantees decides (README "Crash safety"). */
static void
recover_one(int64 task_id, int attempts, pid_t pid, int stmts_done, const char *engine, bool transactional_ddl,
			const char *body)
{
	const char *a[4];
	const char *error;
	bool		requeue = false;
	List	   *stmts;

	a[0] = wx_itoa(task_id);
	a[1] = wx_itoa(attempts);
	if (wx_exec("SELECT 1 FROM bb.task WHERE id = $1::bigint AND status = 'running' AND attempts = $2::int "
				"FOR UPDATE", 2, a) == 0)
		return;
	if (bb_executor_alive(pid))
		return;

	stmts = bb_task_split(body, engine);
	if (!bb_task_is_atomic(transactional_ddl, stmts))
		error = psprintf("interrupted after statement %d of %d; verify on the target, then bb.retry "
						 "(resumes at statement %d) or bb.skip",
						 stmts_done, list_length(stmts), stmts_done + 1);
	else if (attempts >= MAX_INTERRUPTED_ATTEMPTS)
		error = psprintf("interrupted %d times; not re-queued again (see bb.task_runs)", attempts);
	else
	{
		/* the change and its history row commit together: rerunning is safe either way */
		error = "interrupted: the executor ended before recording the result; re-queued "
			"(the target's history shows whether it was applied)";
		requeue = true;
	}
	ereport(LOG, (errmsg("bytebase: task " INT64_FORMAT " was left running by executor %d: %s",
						 task_id, (int) pid, error)));
	a[2] = error;
	a[3] = requeue ? "true" : "false";
	wx_exec("SELECT bb._task_recover($1::bigint, $2::int, $3, $4::boolean)", 4, a);
}

/* Startup and every tick: tasks 'running' whose executor is not alive are resolved. */
void
bb_recover_orphans(void)
{
	uint64		n;
	int64	   *task;
	int		   *attempts;
	int		   *pid;
	int		   *done;
	char	  **engine;
	char	  **body;
	bool	   *txddl;
	int			k = 0;

	recover_dry_runs();
	n = wx_exec("SELECT t.id, t.attempts, coalesce(r.executor_pid, 0), coalesce(r.statements_done, 0), "
				"       ins.engine, st.body, en.transactional_ddl "
				"FROM bb.task t LEFT JOIN bb.task_run r ON r.task_id = t.id AND r.attempt = t.attempts "
				"JOIN bb.database d ON d.id = t.database_id JOIN bb.instance ins ON ins.id = d.instance_id "
				"JOIN bb.engine en ON en.name = ins.engine "
				"JOIN bb.issue iss ON iss.id = t.issue_id JOIN bb.statement st ON st.hash = iss.statement_hash "
				"WHERE t.status = 'running' ORDER BY t.id", 0, NULL);
	if (n == 0)
		return;
	task = palloc(n * sizeof(int64));
	attempts = palloc(n * sizeof(int));
	pid = palloc(n * sizeof(int));
	done = palloc(n * sizeof(int));
	engine = palloc(n * sizeof(char *));
	body = palloc(n * sizeof(char *));
	txddl = palloc(n * sizeof(bool));
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
		txddl[k] = strcmp(wx_get(i, 7), "t") == 0;
		k++;
	}
	for (int i = 0; i < k; i++)
		recover_one(task[i], attempts[i], pid[i], done[i], engine[i], txddl[i], body[i]);
}
