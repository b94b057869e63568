/* gitops_shmem.c — GitOps settings, the worker's registration, and the shared request slots
 * through which bb.sync_repository asks the worker for a fetch and waits for its result */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "gitops.h"

PG_FUNCTION_INFO_V1(bb_gitops_sync_wait);
PG_FUNCTION_INFO_V1(bb_gitops_wake);

char	   *bb_git_directory = NULL;
int			bb_git_timeout_ms = 60000;
int			bb_git_max_file_bytes = 16 * 1024 * 1024;
int			bb_git_max_fetch_bytes = 256 * 1024 * 1024;

BBGitopsShmem *bb_gitops_shmem = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool wake_at_commit = false;
static bool xact_callback_registered = false;

/* Asks for the request slots before shared memory is sized (preload only). */
static void
gitops_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(BBGitopsShmem)));
}

/* Creates the segment in the postmaster (again after a crash restart: no request survives one). */
static void
gitops_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bb_gitops_shmem = ShmemInitStruct("bytebase gitops", sizeof(BBGitopsShmem), &found);
	if (!found)
	{
		memset(bb_gitops_shmem, 0, sizeof(BBGitopsShmem));
		SpinLockInit(&bb_gitops_shmem->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The watcher is one static worker: it starts once recovery is over (never on a standby) and
 * is restarted 5 s after a crash; libgit2 runs only in the helper processes it starts. */
static void
register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "bytebase");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bb_gitops_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bytebase gitops");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bytebase gitops");
	RegisterBackgroundWorker(&worker);
}

/* Settings first (before MarkGUCPrefixReserved), the worker only when preloaded. */
void
bb_gitops_init(void)
{
	DefineCustomStringVariable("bytebase.git_directory",
							   "Directory of the GitOps working copies (bare clones), owned by the server user.",
							   "Empty: bytebase_git in the data directory. Working copies are caches: deleting them costs a new fetch.",
							   &bb_git_directory, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.git_timeout",
							"Time allowed for one fetch of a GitOps repository.",
							"A fetch that takes longer is stopped and retried at the next poll.",
							&bb_git_timeout_ms, 60000, 1000, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.git_max_file_size",
							"Largest migration file a GitOps fetch reads; larger files are listed as ignored.",
							NULL, &bb_git_max_file_bytes, 16 * 1024 * 1024, 1024, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.git_max_fetch_size",
							"Most bytes of files one GitOps fetch may read under a repository's path.",
							NULL, &bb_git_max_fetch_bytes, 256 * 1024 * 1024, 1024 * 1024, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_BYTE, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = gitops_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = gitops_shmem_startup;
	register_worker();
}

/* The worker takes the requests of repositories it is not fetching already; each id once. */
int
bb_gitops_take_requests(int64 *out, int max, const int64 *busy, int nbusy)
{
	BBGitopsShmem *sh = bb_gitops_shmem;
	int			n = 0;

	SpinLockAcquire(&sh->mutex);
	for (int i = 0; i < BB_GITOPS_MAX_REQUESTS; i++)
	{
		BBGitopsRequest *r = &sh->req[i];
		bool		skip = false;

		if (r->state != BB_REQ_WAITING)
			continue;
		for (int b = 0; b < nbusy && !skip; b++)
			skip = busy[b] == r->repository_id;
		for (int k = 0; k < n && !skip; k++)
			skip = out[k] == r->repository_id;
		if (skip)
		{
			/* a second caller of a repository taken in this pass rides along */
			for (int k = 0; k < n; k++)
				if (out[k] == r->repository_id)
					r->state = BB_REQ_RUNNING;
			continue;
		}
		if (n >= max)
			continue;
		r->state = BB_REQ_RUNNING;
		out[n++] = r->repository_id;
	}
	SpinLockRelease(&sh->mutex);
	return n;
}

/* A fetch of the repository ended (sync_id 0: nothing was recorded): wake its callers. */
void
bb_gitops_finish_requests(int64 repository_id, int64 sync_id)
{
	BBGitopsShmem *sh = bb_gitops_shmem;
	Latch	   *wake[BB_GITOPS_MAX_REQUESTS];
	int			nwake = 0;

	SpinLockAcquire(&sh->mutex);
	for (int i = 0; i < BB_GITOPS_MAX_REQUESTS; i++)
	{
		BBGitopsRequest *r = &sh->req[i];

		if (r->repository_id != repository_id)
			continue;
		if (r->state == BB_REQ_ABANDONED)
			r->state = BB_REQ_FREE;
		else if (r->state == BB_REQ_RUNNING)
		{
			r->state = BB_REQ_DONE;
			r->sync_id = sync_id;
			wake[nwake++] = r->caller_latch;
		}
	}
	SpinLockRelease(&sh->mutex);
	/* process latches are always valid memory, even if their owner left meanwhile */
	for (int i = 0; i < nwake; i++)
		SetLatch(wake[i]);
}

/* Leaves a slot on every path of the caller: a running fetch frees it itself when it ends. */
static void
release_slot(int slot)
{
	BBGitopsShmem *sh = bb_gitops_shmem;

	SpinLockAcquire(&sh->mutex);
	if (sh->req[slot].state == BB_REQ_RUNNING)
		sh->req[slot].state = BB_REQ_ABANDONED;
	else
		sh->req[slot].state = BB_REQ_FREE;
	SpinLockRelease(&sh->mutex);
}

/*
 * bb._gitops_sync_wait(repository, timeout) -> bigint: asks the worker to fetch the repository
 * now and waits (interruptibly) for that fetch, returning its bb.repository_sync id.  The fetch
 * commits in the worker's own transactions: the caller reads the result with a new snapshot.
 */
Datum
bb_gitops_sync_wait(PG_FUNCTION_ARGS)
{
	BBGitopsShmem *sh = bb_gitops_shmem;
	int64		repository = PG_GETARG_INT64(0);
	Interval   *timeout = PG_GETARG_INTERVAL_P(1);
	int64		timeout_ms;
	TimestampTz deadline;
	int			slot = -1;
	int64		result = 0;
	Latch	   *worker_latch;

	if (sh == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the GitOps worker is not running"),
				 errdetail("The bytebase library was not loaded at server start."),
				 errhint("Set shared_preload_libraries = 'bytebase' and restart the server.")));
	timeout_ms = timeout->time / 1000 + (int64) timeout->day * 86400000 + (int64) timeout->month * 30 * 86400000;
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), Max(timeout_ms, 0));

	SpinLockAcquire(&sh->mutex);
	for (int i = 0; i < BB_GITOPS_MAX_REQUESTS && slot < 0; i++)
		if (sh->req[i].state == BB_REQ_FREE)
		{
			slot = i;
			sh->req[i].state = BB_REQ_WAITING;
			sh->req[i].repository_id = repository;
			sh->req[i].caller_latch = MyLatch;
			sh->req[i].sync_id = 0;
		}
	worker_latch = sh->worker_latch;
	SpinLockRelease(&sh->mutex);
	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many bb.sync_repository calls are waiting (%d)", BB_GITOPS_MAX_REQUESTS),
				 errhint("Try again in a moment; the worker also fetches every repository on its poll interval.")));
	if (worker_latch)
		SetLatch(worker_latch);

	PG_TRY();
	{
		for (;;)
		{
			bool		done;
			long		wait_ms;
			TimestampTz now;

			SpinLockAcquire(&sh->mutex);
			done = sh->req[slot].state == BB_REQ_DONE;
			if (done)
			{
				result = sh->req[slot].sync_id;
				sh->req[slot].state = BB_REQ_FREE;
			}
			SpinLockRelease(&sh->mutex);
			if (done)
				break;
			now = GetCurrentTimestamp();
			if (now >= deadline)
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("the GitOps worker did not finish fetching within the timeout"),
						 sh->worker_pid == 0 ? errdetail("The GitOps worker is not running (see the server log).")
						 : errdetail("The fetch goes on; its outcome will be in bb.repositories."),
						 errhint("Pass a longer timeout, e.g. bb.sync_repository(name, timeout => '5 min').")));
			wait_ms = (long) Min((deadline - now) / 1000 + 1, 1000);
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		release_slot(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();
	PG_RETURN_INT64(result);
}

/* Repositories are visible to the worker only once committed: wake it then, not before. */
static void
gitops_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) && wake_at_commit &&
		bb_gitops_shmem != NULL && bb_gitops_shmem->worker_latch != NULL)
		SetLatch(bb_gitops_shmem->worker_latch);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

/* bb._gitops_wake(): the worker rereads the repositories when this transaction commits. */
Datum
bb_gitops_wake(PG_FUNCTION_ARGS)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(gitops_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
	PG_RETURN_VOID();
}
