/* executor.c — executor workers: claim a runnable task, run it on its target, record the outcome */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "executor.h"
#include "task_exec.h"
#include "worker_shmem.h"
#include "worker_spi.h"

#define EXECUTOR_LINGER_MS 5000		/* idle executors wait this long for new work before exiting */

static int	my_slot = -1;

/* Marks the slot free when the process ends for any reason, and tells the launcher. */
static void
executor_detach(int code, Datum arg)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	BBExecutorSlot *s = &sh->slots[DatumGetInt32(arg)];

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	if (s->pid == MyProcPid)
	{
		s->state = BB_SLOT_FREE;
		s->pid = 0;
		s->latch = NULL;
		s->task_id = 0;
		s->since = GetCurrentTimestamp();
	}
	LWLockRelease(sh->lock);
	if (sh->launcher_latch)
		SetLatch(sh->launcher_latch);
}

/* Takes the slot the launcher reserved for us; refuses a stale reservation. */
static bool
executor_attach(int slotno, uint32 generation)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	BBExecutorSlot *s = &sh->slots[slotno];
	bool		ok = false;

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	if (s->state == BB_SLOT_STARTING && s->generation == generation)
	{
		s->state = BB_SLOT_RUNNING;
		s->pid = MyProcPid;
		s->latch = MyLatch;
		s->task_id = 0;
		s->since = GetCurrentTimestamp();
		ok = true;
	}
	LWLockRelease(sh->lock);
	if (ok)
		before_shmem_exit(executor_detach, Int32GetDatum(slotno));
	return ok;
}

/* The issue's status is derived by the API's function, in the same transaction as the change. */
void
bb_refresh_issue(int64 issue_id)
{
	const char *arg[1];

	arg[0] = wx_itoa(issue_id);
	wx_exec("SELECT bb._refresh_issue($1::bigint)", 1, arg);
}

/* Loads what running or dry-running a task needs (the target, the script). */
static void
load_task(BBTaskWork *w)
{
	const char *arg[1];

	arg[0] = wx_itoa(w->task_id);
	if (wx_exec("SELECT t.issue_id, t.database_id, d.name, ins.name, ins.engine, st.body, st.hash, iss.version, "
				"       (SELECT system_identifier::text FROM pg_control_system()) || '/' || "
				"       (SELECT oid FROM pg_database WHERE datname = current_database()) || '/' || "
				"       (SELECT oid FROM pg_extension WHERE extname = 'bytebase') "
				"FROM bb.task t JOIN bb.database d ON d.id = t.database_id "
				"JOIN bb.instance ins ON ins.id = d.instance_id JOIN bb.issue iss ON iss.id = t.issue_id "
				"JOIN bb.statement st ON st.hash = iss.statement_hash WHERE t.id = $1::bigint", 1, arg) != 1)
		elog(ERROR, "bytebase: task " INT64_FORMAT " vanished", w->task_id);
	w->issue_id = wx_get_int(0, 1);
	w->database_id = wx_get_int(0, 2);
	w->database = wx_get(0, 3);
	w->instance = wx_get(0, 4);
	w->engine = wx_get(0, 5);
	w->body = wx_get(0, 6);
	w->hash = wx_get(0, 7);
	w->version = wx_get(0, 8);
	w->control_id = wx_get(0, 9);
}

/* Shows the task in bb.workers() and lets bb._cancel_task / recovery find it. */
static void
slot_set(int64 task_id, bool dry_run)
{
	BBExecutorSlot *s = &bb_worker_shmem->slots[my_slot];

	LWLockAcquire(bb_worker_shmem->lock, LW_EXCLUSIVE);
	s->task_id = task_id;
	s->dry_run = dry_run;
	s->since = GetCurrentTimestamp();
	LWLockRelease(bb_worker_shmem->lock);
}

/* Claims one piece of work in one short transaction: a due dry run first (dry runs gate their
 * tasks), else a runnable task whose attempt is opened at once, so the claim is visible (and
 * recoverable) while the change runs.  The slot names the work before the claim commits, so
 * recovery never mistakes it for an orphan.  NULL when nothing is due. */
static BBTaskWork *
claim_work(void)
{
	const char *arg[1];
	BBTaskWork *w;

	wx_begin("bytebase executor: claiming");
	if (wx_exec("WITH pick AS (" BB_DUE_DRY_RUNS_SQL " ORDER BY c.task_id LIMIT 1 FOR NO KEY UPDATE OF c SKIP LOCKED) "
				"UPDATE bb.plan_check p SET status = 'running', started_at = clock_timestamp() FROM pick "
				"WHERE p.task_id = pick.task_id AND p.kind = 'dry_run' RETURNING p.task_id", 0, NULL) > 0)
	{
		w = wx_alloc(sizeof(BBTaskWork));
		w->dry_run = true;
		w->task_id = wx_get_int(0, 1);
	}
	else
	{
		arg[0] = wx_itoa(MyProcPid);
		if (wx_exec("WITH c AS (" BB_RUNNABLE_TASKS_SQL " ORDER BY t.id LIMIT 1 FOR NO KEY UPDATE OF t SKIP LOCKED), "
					"u AS (UPDATE bb.task t SET status = 'running', attempts = t.attempts + 1, started_at = clock_timestamp(), "
					"      finished_at = NULL, error = NULL FROM c WHERE t.id = c.id AND t.status = 'pending' "
					"      RETURNING t.id, t.attempts, t.issue_id), "
					"r AS (INSERT INTO bb.task_run (task_id, attempt, status, executor_pid, started_at) "
					"      SELECT id, attempts, 'running', $1::int, clock_timestamp() FROM u RETURNING id, task_id) "
					"SELECT u.id, r.id, u.attempts, u.issue_id FROM u JOIN r ON r.task_id = u.id", 1, arg) == 0)
		{
			wx_commit();
			return NULL;
		}
		w = wx_alloc(sizeof(BBTaskWork));
		w->task_id = wx_get_int(0, 1);
		w->run_id = wx_get_int(0, 2);
		w->attempt = (int) wx_get_int(0, 3);
	}
	load_task(w);
	/* no bb._refresh_issue: a claimable task belongs to an open issue, and running keeps it open */
	slot_set(w->task_id, w->dry_run);
	bb_wake_enabled = false;	/* a claim makes nothing new runnable */
	wx_commit();
	bb_wake_enabled = true;
	return w;
}

/* Success: task done, attempt finished, changelog row, fresh schema snapshot — one transaction. */
static void
record_success(BBTaskWork *w)
{
	const char *a[8];
	char	   *duration;

	a[0] = wx_itoa(w->run_id);
	a[1] = wx_itoa(w->stmts_done);
	a[2] = w->affected >= 0 ? wx_itoa(w->affected) : NULL;
	wx_exec("UPDATE bb.task_run SET status = 'done', finished_at = clock_timestamp(), "
			"statements_done = $2::int, affected_rows = $3::bigint WHERE id = $1::bigint "
			"RETURNING finished_at - started_at", 3, a);
	duration = w->already_applied ? NULL : wx_get(0, 1);

	a[0] = wx_itoa(w->task_id);
	a[1] = w->already_applied ? "already applied: found in the target's history (an earlier attempt committed it)" : NULL;
	wx_exec("UPDATE bb.task SET status = 'done', finished_at = clock_timestamp(), error = $2 "
			"WHERE id = $1::bigint AND status IN ('running', 'canceled')", 2, a);

	a[0] = wx_itoa(w->database_id);
	a[1] = wx_itoa(w->issue_id);
	a[2] = wx_itoa(w->task_id);
	a[3] = w->version;
	a[4] = w->hash;
	a[5] = duration;
	a[6] = w->schema_after;
	wx_exec("INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, version, checksum, statement_hash, "
			"  status, duration, schema_before, schema_after, applied_by) "
			"SELECT d.id, iss.id, $3::bigint, $4, $5, $5, 'done', $6::interval, d.schema_snapshot, $7::jsonb, iss.created_by "
			"FROM bb.database d, bb.issue iss WHERE d.id = $1::bigint AND iss.id = $2::bigint "
			"ON CONFLICT (database_id, version) WHERE status = 'done' AND version IS NOT NULL DO NOTHING", 7, a);
	if (w->schema_after)
	{
		a[1] = w->schema_after;
		wx_exec("UPDATE bb.database SET schema_snapshot = $2::jsonb, synced_at = now() WHERE id = $1::bigint", 2, a);
	}
	bb_refresh_issue(w->issue_id);
}

/* The remote error as people read it: where in the script, the message and its SQLSTATE. */
static char *
failure_text(BBTaskWork *w, ErrorData *edata)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (w->by_statement && w->stmts_total > 1 && w->stmts_done < w->stmts_total)
		appendStringInfo(&buf, "statement %d of %d: ", w->stmts_done + 1, w->stmts_total);
	appendStringInfoString(&buf, edata->message ? edata->message : "unknown error");
	if (edata->detail)
		appendStringInfo(&buf, " (%s)", edata->detail);
	appendStringInfo(&buf, " [SQLSTATE %s]", unpack_sql_state(edata->sqlerrcode));
	return buf.data;
}

/* Failure: attempt and task failed with the reason; a partly run script leaves a failed changelog row. */
static void
record_failure(BBTaskWork *w, const char *error)
{
	const char *a[8];

	wx_begin("bytebase executor: recording a failure");
	a[0] = wx_itoa(w->run_id);
	a[1] = wx_itoa(w->stmts_done);
	a[2] = error;
	a[3] = wx_itoa(w->task_id);
	wx_exec("UPDATE bb.task_run SET finished_at = clock_timestamp(), statements_done = $2::int, error = $3, "
			"status = CASE WHEN (SELECT i.status FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id "
			"                    WHERE t.id = $4::bigint) = 'canceled' "
			"              THEN 'canceled' ELSE 'failed' END "
			"WHERE id = $1::bigint", 4, a);
	a[0] = wx_itoa(w->task_id);
	a[1] = error;
	wx_exec("UPDATE bb.task t SET status = CASE WHEN i.status = 'canceled' THEN 'canceled' ELSE 'failed' END, "
			"finished_at = clock_timestamp(), error = $2 "
			"FROM bb.issue i WHERE i.id = t.issue_id AND t.id = $1::bigint AND t.status = 'running'", 2, a);
	if (w->remote_committed)
	{
		a[0] = wx_itoa(w->database_id);
		a[1] = wx_itoa(w->issue_id);
		a[2] = wx_itoa(w->task_id);
		a[3] = w->version;
		a[4] = w->hash;
		wx_exec("INSERT INTO bb.changelog_entry (database_id, issue_id, task_id, version, checksum, statement_hash, "
				"  status, schema_before, applied_by) "
				"SELECT d.id, iss.id, $3::bigint, $4, $5, $5, 'failed', d.schema_snapshot, iss.created_by "
				"FROM bb.database d, bb.issue iss WHERE d.id = $1::bigint AND iss.id = $2::bigint", 5, a);
	}
	bb_refresh_issue(w->issue_id);
	wx_commit();
}

/* Commits how many statements ran, so a crash later still says how far the script got. */
static void
record_progress(BBTaskWork *w)
{
	const char *a[2];

	a[0] = wx_itoa(w->run_id);
	a[1] = wx_itoa(w->stmts_done);
	wx_exec("UPDATE bb.task_run SET statements_done = $2::int WHERE id = $1::bigint", 2, a);
	bb_wake_enabled = false;
	wx_commit();
	bb_wake_enabled = true;
	wx_begin(psprintf("bytebase executor: task " INT64_FORMAT " on %s/%s", w->task_id, w->instance, w->database));
}

/* Runs a claimed task.  The driver closes its connection when the transaction aborts, so an
 * error anywhere leaves the target as the driver left it (PostgreSQL: rolled back). */
static void
run_task(BBTaskWork *w)
{
	MemoryContext taskcxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;

	w->progress = record_progress;
	PG_TRY();
	{
		wx_begin(psprintf("bytebase executor: task " INT64_FORMAT " on %s/%s", w->task_id, w->instance, w->database));
		bb_task_execute(w);
		record_success(w);
		wx_commit();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(taskcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(taskcxt);
	}
	PG_END_TRY();
	if (edata != NULL)
	{
		char	   *error = failure_text(w, edata);

		if (w->remote_committed && !w->by_statement)
			error = psprintf("the change was committed on the target but recording it failed: %s", error);
		/* a cancel or shutdown request must not be swallowed by the recording below */
		if (edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			proc_exit(1);
		record_failure(w, error);
	}
	slot_set(0, false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Reports a dry run's outcome through the API (which fails the task on an error finding). */
static void
finish_dry_run(BBTaskWork *w, const char *status, const char *message, const char *level, const char *rule)
{
	const char *a[5];

	a[0] = wx_itoa(w->task_id);
	a[1] = status;
	a[2] = message;
	a[3] = level;
	a[4] = rule;
	wx_exec("SELECT bb._finish_plan_check($1::bigint, 'dry_run', $2, $3, NULL, $4, $5)", 5, a);
}

/* Dry run: a clean run, a remote error (blocks the task), or a reason it could not be checked. */
static void
run_dry_run(BBTaskWork *w)
{
	MemoryContext taskcxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;

	PG_TRY();
	{
		char	   *skipped;

		wx_begin(psprintf("bytebase executor: dry run of task " INT64_FORMAT " on %s/%s",
						  w->task_id, w->instance, w->database));
		skipped = bb_task_dry_run(w);
		if (skipped)
			finish_dry_run(w, "done", skipped, "warning", "dry-run.skipped");
		else
			finish_dry_run(w, "done", NULL, "error", "dry-run.error");
		wx_commit();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(taskcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(taskcxt);
	}
	PG_END_TRY();
	if (edata != NULL)
	{
		char	   *error = failure_text(w, edata);

		PG_TRY();
		{
			wx_begin("bytebase executor: recording a dry run");
			if (w->connected)
				finish_dry_run(w, "done", error, "error", "dry-run.error");
			else
				finish_dry_run(w, "failed", error, "error", "dry-run.error");
			wx_commit();
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
	}
	slot_set(0, false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Executor process: claims until nothing is runnable, lingers for new work, then exits. */
void
bb_executor_main(Datum arg)
{
	int			slotno = DatumGetInt32(arg);
	BBExecutorArgs args;
	MemoryContext taskcxt;
	TimestampTz idle_since;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	if (bb_worker_shmem == NULL || slotno < 0 || slotno >= BB_MAX_EXECUTORS)
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(args.database, InvalidOid, 0);
	if (!executor_attach(slotno, args.generation))
		proc_exit(0);
	my_slot = slotno;
	pgstat_report_appname("bytebase executor");

	taskcxt = AllocSetContextCreate(TopMemoryContext, "bytebase task", ALLOCSET_DEFAULT_SIZES);
	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		BBTaskWork *volatile w = NULL;
		long		idle_ms;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		bb_wake_enabled = true;	/* in case an error skipped its reset */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(taskcxt);
		MemoryContextSwitchTo(taskcxt);
		PG_TRY();
		{
			w = claim_work();
		}
		PG_CATCH();
		{
			/* e.g. the extension is being dropped: report, stop; the launcher starts a new one later */
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			proc_exit(0);
		}
		PG_END_TRY();
		if (w != NULL)
		{
			if (w->dry_run)
				run_dry_run(w);
			else
				run_task(w);
			idle_since = GetCurrentTimestamp();
			continue;
		}
		idle_ms = (long) ((GetCurrentTimestamp() - idle_since) / 1000);
		if (idle_ms >= EXECUTOR_LINGER_MS)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 EXECUTOR_LINGER_MS - idle_ms, PG_WAIT_EXTENSION);
	}
	LWLockAcquire(bb_worker_shmem->lock, LW_EXCLUSIVE);
	bb_worker_shmem->slots[slotno].state = BB_SLOT_EXITING;
	LWLockRelease(bb_worker_shmem->lock);
	proc_exit(0);
}
