/* worker_shmem.c — shared memory of the workers, the commit-time wake-up and bb.workers() */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include <signal.h>
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "worker_shmem.h"

PG_FUNCTION_INFO_V1(bb_wake);
PG_FUNCTION_INFO_V1(bb_workers);
PG_FUNCTION_INFO_V1(bb_cancel_task);

#define MAX_PENDING_CANCELS 256

BBWorkerShmem *bb_worker_shmem = NULL;
bool		bb_wake_enabled = true;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool wake_at_commit = false;
static bool xact_callback_registered = false;
static int64 pending_cancels[MAX_PENDING_CANCELS];
static int	n_pending_cancels = 0;

/* Asks the postmaster for our segment and lock before shared memory is sized. */
static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(BBWorkerShmem)));
	RequestNamedLWLockTranche("bytebase workers", 1);
}

/* Creates (postmaster, after a crash restart too) or attaches the segment. */
static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bb_worker_shmem = ShmemInitStruct("bytebase workers", sizeof(BBWorkerShmem), &found);
	if (!found)
	{
		memset(bb_worker_shmem, 0, sizeof(BBWorkerShmem));
		bb_worker_shmem->lock = &(GetNamedLWLockTranche("bytebase workers"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Hooks are installed only when preloaded: without them the workers do not exist. */
void
bb_worker_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;
}

/* Sets latches without the lock: a stale pointer is a PGPROC latch, always valid memory. */
void
bb_wake_workers(void)
{
	BBWorkerShmem *sh = bb_worker_shmem;

	if (sh == NULL)
		return;
	if (sh->launcher_latch != NULL)
		SetLatch(sh->launcher_latch);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
	{
		Latch	   *l = sh->slots[i].latch;

		if (sh->slots[i].state == BB_SLOT_RUNNING && l != NULL)
			SetLatch(l);
	}
}

/* New work becomes visible only at commit: wake the workers then, not before. */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			for (int i = 0; i < n_pending_cancels; i++)
				(void) bb_cancel_task_now(pending_cancels[i]);
			if (wake_at_commit && bb_wake_enabled)
				bb_wake_workers();
			wake_at_commit = false;
			n_pending_cancels = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_at_commit = false;
			n_pending_cancels = 0;
			break;
		default:
			break;
	}
}

/* Only our own executors are signalled (never an arbitrary pid); SIGINT is a query cancel:
 * the driver stops the remote statement and the executor records the task as canceled. */
bool
bb_cancel_task_now(int64 task_id)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	bool		sent = false;

	if (sh == NULL || task_id == 0)
		return false;
	LWLockAcquire(sh->lock, LW_SHARED);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
	{
		BBExecutorSlot *s = &sh->slots[i];

		if (s->state == BB_SLOT_RUNNING && s->pid != 0 && s->task_id == task_id && !s->dry_run)
			sent = (kill(s->pid, SIGINT) == 0) || sent;
	}
	LWLockRelease(sh->lock);
	return sent;
}

/* One callback serves wake-ups and cancels; registered on first use in this backend. */
static void
ensure_xact_callback(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		xact_callback_registered = true;
	}
}

/* bb._cancel_task(task): the executor running it is interrupted when this transaction commits
 * (so it already sees the issue canceled when it records the outcome). */
Datum
bb_cancel_task(PG_FUNCTION_ARGS)
{
	ensure_xact_callback();
	if (n_pending_cancels < MAX_PENDING_CANCELS)
		pending_cancels[n_pending_cancels++] = PG_GETARG_INT64(0);
	PG_RETURN_VOID();
}

/* bb._wake(): the launcher looks for runnable tasks right after this transaction commits. */
Datum
bb_wake(PG_FUNCTION_ARGS)
{
	ensure_xact_callback();
	wake_at_commit = true;
	PG_RETURN_VOID();
}

/* Name of a slot state for bb.workers(). */
static const char *
slot_state_name(BBSlotState s)
{
	switch (s)
	{
		case BB_SLOT_STARTING:
			return "starting";
		case BB_SLOT_RUNNING:
			return "running";
		case BB_SLOT_EXITING:
			return "exiting";
		default:
			return "free";
	}
}

/* bb.workers(): what the launcher and each executor are doing, for psql. */
Datum
bb_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BBWorkerShmem *sh = bb_worker_shmem;

	InitMaterializedSRF(fcinfo, 0);
	if (sh == NULL)
		PG_RETURN_VOID();
	LWLockAcquire(sh->lock, LW_SHARED);
	{
		Datum		v[5];
		bool		n[5] = {false, false, true, true, true};

		v[0] = CStringGetTextDatum("launcher");
		v[1] = Int32GetDatum((int32) sh->launcher_pid);
		n[1] = (sh->launcher_pid == 0);
		v[2] = CStringGetTextDatum(sh->launcher_pid ? "running" : "stopped");
		n[2] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
	{
		BBExecutorSlot *s = &sh->slots[i];
		Datum		v[5];
		bool		n[5] = {false, false, false, false, false};

		if (s->state == BB_SLOT_FREE)
			continue;
		v[0] = CStringGetTextDatum("executor");
		v[1] = Int32GetDatum((int32) s->pid);
		n[1] = (s->pid == 0);
		v[2] = CStringGetTextDatum(s->task_id ? (s->dry_run ? "dry run" : "busy") : slot_state_name(s->state));
		v[3] = Int64GetDatum(s->task_id);
		n[3] = (s->task_id == 0);
		v[4] = TimestampTzGetDatum(s->since);
		n[4] = (s->since == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	LWLockRelease(sh->lock);
	PG_RETURN_VOID();
}
