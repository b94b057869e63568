/* launcher.c — the static launcher worker: wakes at commit, recovers orphans, sizes the executor pool */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "audit.h"
#include "bytebase.h"
#include "executor.h"
#include "worker_shmem.h"
#include "worker_spi.h"

#define LAUNCHER_TICK_MS 1000		/* retries, executor exits we were not told about, absent extension */
#define STANDBY_TICK_MS 5000		/* re-check for promotion */
#define STALE_START_MS 30000		/* a reservation whose worker never attached */

static BackgroundWorkerHandle *handles[BB_MAX_EXECUTORS];
static bool slots_exhausted_logged = false;

/* Registers the launcher; shared memory comes with it (both only under shared_preload_libraries). */
void
bb_launcher_register(void)
{
	BackgroundWorker worker;

	bb_worker_shmem_init();
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "bytebase");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bb_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bytebase launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bytebase launcher");
	RegisterBackgroundWorker(&worker);
}

/* Leaves the shared state as if no launcher ran, so bb._wake() stops signalling us. */
static void
launcher_detach(int code, Datum arg)
{
	LWLockAcquire(bb_worker_shmem->lock, LW_EXCLUSIVE);
	if (bb_worker_shmem->launcher_pid == MyProcPid)
	{
		bb_worker_shmem->launcher_pid = 0;
		bb_worker_shmem->launcher_latch = NULL;
	}
	LWLockRelease(bb_worker_shmem->lock);
}

/* Frees reservations whose worker ended (or never started) without attaching. */
static void
reap_stale_slots(void)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
	{
		BBExecutorSlot *s = &sh->slots[i];
		pid_t		pid;

		if (s->state != BB_SLOT_STARTING)
			continue;
		if (handles[i] != NULL ? GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED
			: TimestampDifferenceExceeds(s->since, now, STALE_START_MS))
		{
			s->state = BB_SLOT_FREE;
			s->pid = 0;
		}
	}
	LWLockRelease(sh->lock);
}

/* Reserves a slot and asks the postmaster for an executor; false when none can start now. */
static bool
start_executor(void)
{
	BBWorkerShmem *sh = bb_worker_shmem;
	BackgroundWorker worker;
	BBExecutorArgs args;
	int			slot = -1;
	MemoryContext oldcxt;
	bool		registered;

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	for (int i = 0; i < BB_MAX_EXECUTORS && slot < 0; i++)
		if (sh->slots[i].state == BB_SLOT_FREE)
			slot = i;
	if (slot >= 0)
	{
		sh->slots[slot].state = BB_SLOT_STARTING;
		sh->slots[slot].generation++;
		sh->slots[slot].pid = 0;
		sh->slots[slot].since = GetCurrentTimestamp();
		args.generation = sh->slots[slot].generation;
	}
	LWLockRelease(sh->lock);
	if (slot < 0)
		return false;

	args.database = MyDatabaseId;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "bytebase");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bb_executor_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bytebase executor %d", slot);
	snprintf(worker.bgw_type, BGW_MAXLEN, "bytebase executor");
	worker.bgw_main_arg = Int32GetDatum(slot);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &args, sizeof(args));

	if (handles[slot] != NULL)
	{
		pfree(handles[slot]);
		handles[slot] = NULL;
	}
	/* the handle outlives this tick's memory context */
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	registered = RegisterDynamicBackgroundWorker(&worker, &handles[slot]);
	MemoryContextSwitchTo(oldcxt);
	if (!registered)
	{
		LWLockAcquire(sh->lock, LW_EXCLUSIVE);
		sh->slots[slot].state = BB_SLOT_FREE;
		LWLockRelease(sh->lock);
		if (!slots_exhausted_logged)
			ereport(LOG,
					(errmsg("bytebase: could not start an executor worker: no background worker slot is free"),
					 errdetail("Tasks wait until a slot frees up; they are retried every %d ms.", LAUNCHER_TICK_MS),
					 errhint("Raise max_worker_processes (it must exceed bytebase.max_workers plus other workers).")));
		slots_exhausted_logged = true;
		return false;
	}
	if (slots_exhausted_logged)
		ereport(LOG, (errmsg("bytebase: executor workers start again")));
	slots_exhausted_logged = false;
	return true;
}

/* Executors that count toward bytebase.max_workers (starting or attached, not leaving). */
static int
live_executors(void)
{
	int			n = 0;

	LWLockAcquire(bb_worker_shmem->lock, LW_SHARED);
	for (int i = 0; i < BB_MAX_EXECUTORS; i++)
		if (bb_worker_shmem->slots[i].state == BB_SLOT_STARTING ||
			bb_worker_shmem->slots[i].state == BB_SLOT_RUNNING)
			n++;
	LWLockRelease(bb_worker_shmem->lock);
	return n;
}

/* A big bb.apply changes thousands of task rows at once; until autovacuum gets to them the
 * claim query is planned with stale statistics (tens of ms per claim instead of ~1 ms at
 * 10,000 tasks), so the launcher refreshes them itself, at most every few seconds. */
static void
refresh_task_statistics(void)
{
	static TimestampTz last = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (last != 0 && !TimestampDifferenceExceeds(last, now, 5000))
		return;
	if (wx_exec("SELECT 1 FROM pg_stat_user_tables WHERE relid = 'bb.task'::regclass "
				"AND n_mod_since_analyze > 200 + n_live_tup / 5", 0, NULL) == 0)
		return;
	last = now;
	wx_exec("ANALYZE bb.task, bb.stage, bb.plan_check", 0, NULL);
}

/* The worker calls the catalog's SQL functions of its own version: after a package upgrade
 * and until ALTER EXTENSION bytebase UPDATE, the installed catalog is older than this library,
 * so the launcher idles (logging why once) rather than fail on functions that do not exist. */
static bool
catalog_matches_module(void)
{
	static bool logged = false;
	const char *arg[1] = {"bytebase"};
	char	   *installed = NULL;

	if (wx_exec("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = $1", 1, arg) == 1)
		installed = wx_get(0, 1);
	if (installed != NULL && strcmp(installed, BB_EXT_VERSION) == 0)
	{
		if (logged)
			ereport(LOG, (errmsg("bytebase: catalog updated to version %s; workers resume", BB_EXT_VERSION)));
		logged = false;
		return true;
	}
	if (!logged)
		ereport(LOG,
				(errmsg("bytebase: workers wait: the catalog is at version %s, this library is version %s",
						installed ? installed : "?", BB_EXT_VERSION),
				 errhint("Run ALTER EXTENSION bytebase UPDATE in database \"%s\".", bb_database)));
	logged = true;
	return false;
}

/* One pass: recover orphans, count runnable tasks, start executors up to the limit.
 * Returns true when executors could not all be started (retry on the timer). */
static bool
launcher_tick(void)
{
	int			limit = Min(bb_max_workers, BB_MAX_EXECUTORS);
	const char *arg[1];
	int			runnable;
	int			need;

	wx_begin("bytebase launcher");
	if (!OidIsValid(get_extension_oid("bytebase", true)) || !catalog_matches_module())
	{
		wx_commit();
		return false;
	}
	bb_recover_orphans();
	refresh_task_statistics();
	arg[0] = psprintf("%d", limit);
	wx_exec("SELECT bb._due_work($1::int)", 1, arg);
	runnable = (int) wx_get_int(0, 1);
	wx_commit();

	reap_stale_slots();
	need = Min(runnable, limit) - live_executors();
	for (int i = 0; i < need; i++)
		if (!start_executor())
			return true;
	return false;
}

/* Launcher process: sleeps on its latch (set by bb._wake() at commit, executor exits, the timer). */
void
bb_launcher_main(Datum arg)
{
	MemoryContext tickcxt;
	bool		announced = false;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(bb_database, NULL, 0);
	pgstat_report_appname("bytebase launcher");
	/* every name the workers use is qualified; nothing a user creates can shadow one */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);

	LWLockAcquire(bb_worker_shmem->lock, LW_EXCLUSIVE);
	bb_worker_shmem->launcher_pid = MyProcPid;
	bb_worker_shmem->launcher_latch = MyLatch;
	LWLockRelease(bb_worker_shmem->lock);
	before_shmem_exit(launcher_detach, (Datum) 0);

	tickcxt = AllocSetContextCreate(TopMemoryContext, "bytebase launcher tick", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		timeout = LAUNCHER_TICK_MS;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (RecoveryInProgress())
			timeout = STANDBY_TICK_MS;	/* hot standby: idle until promoted */
		else
		{
			if (!announced)
				ereport(LOG, (errmsg("bytebase launcher serving database \"%s\"", bb_database)));
			announced = true;
			MemoryContextReset(tickcxt);
			MemoryContextSwitchTo(tickcxt);
			bb_audit_drain();	/* audit entries of failed calls (handles its own errors) */
			PG_TRY();
			{
				(void) launcher_tick();
			}
			PG_CATCH();
			{
				/* e.g. the extension is being dropped or recreated: report and try again later */
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
			}
			PG_END_TRY();
			MemoryContextSwitchTo(TopMemoryContext);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout, PG_WAIT_EXTENSION);
	}
}
