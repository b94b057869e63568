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
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "executor.h"
#include "task_exec.h"
#include "task_split.h"
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

/* Loads what running or dry-running a task needs (the target, the script, whose rights the
 * connection uses) inside the claim transaction; the script is split after it commits. */
static void
load_task(BBTaskWork *w)
{
	const char *arg[1];
	char	   *created_by;
	Oid			acting_role;

	arg[0] = wx_itoa(w->task_id);
	if (wx_exec("SELECT issue_id, database_id, database, instance, engine, body, hash, version, "
				"control_id, created_by, resumable, transactional_ddl FROM bb._task_context($1::bigint)", 1, arg) != 1)
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
	created_by = wx_get(0, 10);
	w->resumable = strcmp(wx_get(0, 11), "t") == 0;
	w->transactional_ddl = strcmp(wx_get(0, 12), "t") == 0;
	/* the change runs with the rights of the person who asked for it: a developer's change
	 * never uses a connection that only a superuser may make (password rule); a dropped
	 * role has no rights at all */
	acting_role = created_by ? get_role_oid(created_by, true) : InvalidOid;
	w->conninfo = bb_instance_conninfo(w->instance, w->database, acting_role);
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

/* Claims one piece of work in one short transaction (bb._task_claim: a due dry run first, else
 * a runnable task whose attempt is opened at once, so the claim is visible and recoverable
 * while the change runs).  The slot names the work before the claim commits, so recovery
 * never mistakes it for an orphan.  NULL when nothing is due.  Allocates in the caller's
 * (per-task) context. */
static BBTaskWork *
claim_work(void)
{
	const char *arg[1];
	BBTaskWork *w;

	wx_begin("bytebase executor: claiming");
	arg[0] = wx_itoa(MyProcPid);
	if (wx_exec("SELECT task_id, run_id, attempt, dry_run, first_statement FROM bb._task_claim($1::int)",
				1, arg) == 0)
	{
		wx_commit();
		return NULL;
	}
	w = palloc0(sizeof(BBTaskWork));
	w->task_id = wx_get_int(0, 1);
	w->run_id = wx_get_int(0, 2);
	w->attempt = (int) wx_get_int(0, 3);
	w->dry_run = strcmp(wx_get(0, 4), "t") == 0;
	w->first_statement = (int) wx_get_int(0, 5);
	load_task(w);
	slot_set(w->task_id, w->dry_run);
	bb_wake_enabled = false;	/* a claim makes nothing new runnable */
	wx_commit();
	bb_wake_enabled = true;
	return w;
}

/* Commits how many statements ran, so a crash later still says how far the script got and a
 * retry resumes after them.  A short transaction of its own: none is open while the target works. */
static void
record_progress(BBTaskWork *w)
{
	const char *a[2];

	a[0] = wx_itoa(w->run_id);
	a[1] = wx_itoa(w->stmts_done);
	bb_wake_enabled = false;
	wx_begin("bytebase executor: recording progress");
	wx_exec("SELECT bb._task_progress($1::bigint, $2::int)", 2, a);
	wx_commit();
	bb_wake_enabled = true;
	pgstat_report_activity(STATE_RUNNING, psprintf("bytebase executor: task " INT64_FORMAT " on %s/%s",
												   w->task_id, w->instance, w->database));
}

/* The remote error as people read it: where in the script, the message and its SQLSTATE. */
static char *
failure_text(BBTaskWork *w, ErrorData *edata)
{
	StringInfoData buf;
	int			total = list_length(w->stmts);

	initStringInfo(&buf);
	if (w->by_statement && total > 1 && w->stmts_done < total)
		appendStringInfo(&buf, "statement %d of %d: ", w->stmts_done + 1, total);
	appendStringInfoString(&buf, edata->message ? edata->message : "unknown error");
	if (edata->detail)
		appendStringInfo(&buf, " (%s)", edata->detail);
	appendStringInfo(&buf, " [SQLSTATE %s]", unpack_sql_state(edata->sqlerrcode));
	return buf.data;
}

/* Records the end of an attempt through bb._task_finish, in one short transaction. */
static void
record_outcome(BBTaskWork *w, const char *outcome, const char *error)
{
	const char *a[8];

	wx_begin("bytebase executor: recording the outcome");
	a[0] = wx_itoa(w->run_id);
	a[1] = outcome;
	a[2] = wx_itoa(w->stmts_done);
	a[3] = w->affected >= 0 ? wx_itoa(w->affected) : NULL;
	a[4] = error;
	a[5] = w->already_applied ? "true" : "false";
	a[6] = w->remote_committed ? "true" : "false";
	a[7] = w->schema_after;
	wx_exec("SELECT bb._task_finish($1::bigint, $2, $3::int, $4::bigint, $5, $6::boolean, $7::boolean, $8::jsonb)",
			8, a);
	wx_commit();
}

/* Runs a claimed task with no control transaction open, then records the outcome.  An error
 * about the target (even its 57P01) fails the task; a local cancel (bb.cancel) is recorded too
 * (canceled when its issue was); a local terminate ends the process (recovery resolves it). */
static void
run_task(BBTaskWork *w)
{
	MemoryContext taskcxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;
	bool		target = false;

	w->progress = record_progress;
	pgstat_report_activity(STATE_RUNNING, psprintf("bytebase executor: task " INT64_FORMAT " on %s/%s",
												   w->task_id, w->instance, w->database));
	PG_TRY();
	{
		w->stmts = bb_task_split(w->body, w->engine);
		bb_phase_end(w, BB_PHASE_SPLIT);
		bb_task_execute(w);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(taskcxt);
		edata = CopyErrorData();
		target = bb_error_is_target(edata);
		FlushErrorState();
		AbortCurrentTransaction();	/* a progress transaction may have been open */
		MemoryContextSwitchTo(taskcxt);
	}
	PG_END_TRY();
	if (edata != NULL && !target && edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		proc_exit(1);

	PG_TRY();
	{
		if (edata == NULL)
			record_outcome(w, "done", NULL);
		else
			record_outcome(w, "failed", failure_text(w, edata));
	}
	PG_CATCH();
	{
		ErrorData  *rec;

		MemoryContextSwitchTo(taskcxt);
		rec = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(taskcxt);
		if (rec->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			proc_exit(1);
		/* the change may be on the target: say so; if this fails too, recovery takes over */
		record_outcome(w, "failed",
					   psprintf("%s but recording it failed: %s",
								w->remote_committed ? "the change was committed on the target" : "the task ended",
								rec->message));
	}
	PG_END_TRY();
	bb_phase_end(w, BB_PHASE_FINISH);
	bb_trace_task(w);
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
	wx_begin("bytebase executor: recording a dry run");
	wx_exec("SELECT bb._finish_plan_check($1::bigint, 'dry_run', $2, $3, NULL, $4, $5)", 5, a);
	wx_commit();
}

/* Dry run (unprotected environments only): a clean run, a remote error (blocks the task), or
 * a reason it could not be checked.  No control transaction is open while the target works. */
static void
run_dry_run(BBTaskWork *w)
{
	MemoryContext taskcxt = CurrentMemoryContext;
	ErrorData  *edata = NULL;
	char	   *volatile skipped = NULL;
	bool		target = false;

	pgstat_report_activity(STATE_RUNNING, psprintf("bytebase executor: dry run of task " INT64_FORMAT " on %s/%s",
												   w->task_id, w->instance, w->database));
	PG_TRY();
	{
		w->stmts = bb_task_split(w->body, w->engine);
		skipped = bb_task_dry_run(w);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(taskcxt);
		edata = CopyErrorData();
		target = bb_error_is_target(edata);
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(taskcxt);
	}
	PG_END_TRY();
	if (edata != NULL && !target && edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		proc_exit(1);
	PG_TRY();
	{
		if (edata == NULL)
			finish_dry_run(w, "done", skipped, skipped ? "warning" : "error",
						   skipped ? "dry-run.skipped" : "dry-run.error");
		else
			finish_dry_run(w, w->connected && target ? "done" : "failed", failure_text(w, edata),
						   "error", "dry-run.error");
	}
	PG_CATCH();
	{
		/* e.g. the task was deleted meanwhile: report; recovery re-queues a check left running */
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
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
	/* every name the workers use is qualified; nothing a user creates can shadow one */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);

	taskcxt = AllocSetContextCreate(TopMemoryContext, "bytebase task", ALLOCSET_DEFAULT_SIZES);
	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		BBTaskWork *volatile w = NULL;
		long		idle_ms;
		TimestampTz claim_start;

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
		claim_start = GetCurrentTimestamp();
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
			w->phase_mark = claim_start;
			bb_phase_end(w, BB_PHASE_CLAIM);
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
