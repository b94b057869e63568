/* gitops_worker.c — the GitOps watcher: polls repositories, serves bb.sync_repository, runs at
 * most BB_GITOPS_MAX_FETCHES libgit2 helpers at once and records what they found.
 *
 * Each pass: record the fetches that ended, take the requests of bb.sync_repository, ask
 * bb._gitops_due() what else is due, start helpers; then sleep on the latch (set at commit by
 * the repository API and by bb.sync_repository), the helpers' pipes and the next due poll.  A
 * repository that cannot be reached only delays itself: the others have their own helpers. */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "gitops.h"
#include "gitops_int.h"
#include "worker_spi.h"

#define IDLE_TICK_MS 5000			/* nothing due: look again (the extension may appear) */

static GitopsFetch fetches[BB_GITOPS_MAX_FETCHES];
static char helper_path[MAXPGPATH];

/* Helpers end with the worker (they also get SIGKILL from the kernel: PR_SET_PDEATHSIG); its
 * requests go back to waiting for the next worker. */
static void
gitops_detach(int code, Datum arg)
{
	BBGitopsShmem *sh = bb_gitops_shmem;

	for (int i = 0; i < BB_GITOPS_MAX_FETCHES; i++)
		if (fetches[i].in_use && !fetches[i].ended)
			gitops_stop(&fetches[i], false);
	SpinLockAcquire(&sh->mutex);
	if (sh->worker_pid == MyProcPid)
	{
		sh->worker_pid = 0;
		sh->worker_latch = NULL;
	}
	for (int i = 0; i < BB_GITOPS_MAX_REQUESTS; i++)
		if (sh->req[i].state == BB_REQ_RUNNING)
			sh->req[i].state = BB_REQ_WAITING;
		else if (sh->req[i].state == BB_REQ_ABANDONED)
			sh->req[i].state = BB_REQ_FREE;
	SpinLockRelease(&sh->mutex);
}

/* The folder of the working copies, absolute; created (0700) when missing. NULL with *error
 * when it cannot be used (then every fetch fails with that reason). */
static char *
working_copies(char **error)
{
	char	   *dir;
	struct stat st;

	if (bb_git_directory == NULL || bb_git_directory[0] == '\0')
		dir = psprintf("%s/bytebase_git", DataDir);
	else if (bb_git_directory[0] != '/')
		dir = psprintf("%s/%s", DataDir, bb_git_directory);
	else
		dir = pstrdup(bb_git_directory);
	if (stat(dir, &st) != 0 && (errno != ENOENT || mkdir(dir, S_IRWXU) != 0 || stat(dir, &st) != 0))
	{
		*error = psprintf("working copy directory \"%s\" cannot be used: %m", dir);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
	{
		*error = psprintf("working copy directory \"%s\" is not a directory owned by the server's user", dir);
		return NULL;
	}
	return dir;
}

/* Removes the working copies of repositories that are gone (names the worker made only); a
 * readdir of a few entries per pass. */
static void
remove_unused(const char *dir)
{
	DIR		   *d;
	struct dirent *e;
	List	   *keep = NIL;
	uint64		n;

	n = wx_exec("SELECT w FROM bb._gitops_workdirs() w", 0, NULL);
	for (uint64 i = 0; i < n; i++)
		keep = lappend(keep, wx_get(i, 1));
	d = AllocateDir(dir);
	while (d != NULL && (e = ReadDir(d, dir)) != NULL)
	{
		bool		used = false;
		ListCell   *lc;
		size_t		len = strlen(e->d_name);

		if (len < 4 || e->d_name[0] != 'r' || strspn(e->d_name + 1, "0123456789") == 0 ||
			strspn(e->d_name, "r0123456789-abcdef") != len)
			continue;
		foreach(lc, keep)
			used = used || strcmp((char *) lfirst(lc), e->d_name) == 0;
		for (int i = 0; i < BB_GITOPS_MAX_FETCHES && !used; i++)
			used = fetches[i].in_use && fetches[i].job.workdir && strstr(fetches[i].job.workdir, e->d_name) != NULL;
		if (!used)
		{
			char	   *path = psprintf("%s/%s", dir, e->d_name);

			if (!rmtree(path, true))
				ereport(LOG, (errmsg("bytebase gitops: could not remove unused working copy \"%s\"", path)));
			else
				ereport(DEBUG1, (errmsg("bytebase gitops: removed unused working copy \"%s\"", path)));
		}
	}
	if (d != NULL)
		FreeDir(d);
}

/* Records every fetch that ended, each in its own transaction. */
static void
record_ended(void)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < BB_GITOPS_MAX_FETCHES; i++)
	{
		GitopsFetch *f = &fetches[i];

		if (!f->in_use)
			continue;
		if (!f->ended && now >= f->deadline)
			gitops_stop(f, true);
		if (!f->ended)
			continue;
		gitops_record(f);
		MemoryContextDelete(f->cxt);
		memset(f, 0, sizeof(*f));
		f->fd = -1;
	}
}

/* A catalog value copied into a fetch's own context (it outlives the pass). */
static char *
copy_or_null(MemoryContext cxt, const char *s)
{
	return s ? MemoryContextStrdup(cxt, s) : NULL;
}

/* One pass: record ended fetches, start the due and requested ones; the time to sleep. */
static long
gitops_tick(void)
{
	int64		busy[BB_GITOPS_MAX_FETCHES];
	int			nbusy = 0;
	int64		requested[BB_GITOPS_MAX_FETCHES];
	int			nrequested;
	char	   *dir;
	char	   *dir_error = NULL;
	StringInfoData ids;
	const char *arg[1];
	uint64		n;
	long		sleep_ms = IDLE_TICK_MS;
	char	   *next;

	record_ended();
	for (int i = 0; i < BB_GITOPS_MAX_FETCHES; i++)
		if (fetches[i].in_use)
			busy[nbusy++] = fetches[i].job.repository_id;
	nrequested = bb_gitops_take_requests(requested, BB_GITOPS_MAX_FETCHES - nbusy, busy, nbusy);

	wx_begin("bytebase gitops: looking for due repositories");
	/* no extension, or one of a version without GitOps (before ALTER EXTENSION UPDATE): idle */
	if (!OidIsValid(get_extension_oid("bytebase", true)) ||
		(wx_exec("SELECT to_regprocedure('bb._gitops_due(bigint[])') IS NOT NULL", 0, NULL) == 1 &&
		 strcmp(wx_get(0, 1), "t") != 0))
	{
		wx_commit();
		for (int i = 0; i < nrequested; i++)
			bb_gitops_finish_requests(requested[i], 0);
		return IDLE_TICK_MS;
	}
	dir = working_copies(&dir_error);
	initStringInfo(&ids);
	appendStringInfoChar(&ids, '{');
	for (int i = 0; i < nrequested; i++)
		appendStringInfo(&ids, "%s" INT64_FORMAT, i ? "," : "", requested[i]);
	appendStringInfoChar(&ids, '}');
	arg[0] = ids.data;
	n = wx_exec("SELECT id, url, branch, path, last_commit, workdir, username, token, requested, quick "
				"FROM bb._gitops_due($1::bigint[])", 1, arg);
	for (uint64 r = 0; r < n && nbusy < BB_GITOPS_MAX_FETCHES; r++)
	{
		int64		id = wx_get_int(r, 1);
		GitopsFetch *f = NULL;
		bool		skip = false;
		char	   *error = NULL;

		for (int i = 0; i < nbusy && !skip; i++)
			skip = busy[i] == id;
		if (skip)
			continue;
		for (int i = 0; i < BB_GITOPS_MAX_FETCHES && f == NULL; i++)
			if (!fetches[i].in_use)
				f = &fetches[i];
		f->in_use = true;
		f->fd = -1;
		f->cxt = AllocSetContextCreate(TopMemoryContext, "bytebase gitops fetch", ALLOCSET_DEFAULT_SIZES);
		f->job.repository_id = id;
		f->job.requested = strcmp(wx_get(r, 9), "t") == 0;
		f->job.quick = strcmp(wx_get(r, 10), "t") == 0;
		f->job.url = copy_or_null(f->cxt, wx_get(r, 2));
		f->job.branch = copy_or_null(f->cxt, wx_get(r, 3));
		f->job.path = copy_or_null(f->cxt, wx_get(r, 4));
		f->job.last_commit = copy_or_null(f->cxt, wx_get(r, 5));
		f->job.workdir = dir ? MemoryContextStrdup(f->cxt, psprintf("%s/%s", dir, wx_get(r, 6))) : NULL;
		f->job.user = copy_or_null(f->cxt, wx_get(r, 7));
		{
			char	   *token = wx_get(r, 8);

			f->job.token = copy_or_null(f->cxt, token);	/* wiped once written to the helper */
			if (token)
				explicit_bzero(token, strlen(token));
		}
		busy[nbusy++] = id;
		if (dir == NULL)
			error = dir_error;
		else
		{
			MemoryContext old = MemoryContextSwitchTo(f->cxt);

			if (!gitops_spawn(f, helper_path, &error))
				error = MemoryContextStrdup(f->cxt, error);
			MemoryContextSwitchTo(old);
		}
		if (error != NULL)
		{
			/* recorded as the fetch's answer at the next pass */
			MemoryContext old = MemoryContextSwitchTo(f->cxt);

			initStringInfo(&f->out);
			f->spawn_error = pstrdup(error);
			MemoryContextSwitchTo(old);
			f->ended = true;
			f->started = GetCurrentTimestamp();
			f->deadline = f->started;
			ereport(LOG, (errmsg("bytebase gitops: repository " INT64_FORMAT ": %s", id, error)));
			sleep_ms = 0;
		}
	}
	/* requested repositories that no longer exist: their callers learn it now */
	for (int i = 0; i < nrequested; i++)
	{
		bool		started = false;

		for (int k = 0; k < BB_GITOPS_MAX_FETCHES && !started; k++)
			started = fetches[k].in_use && fetches[k].job.repository_id == requested[i];
		if (!started)
			bb_gitops_finish_requests(requested[i], 0);
	}
	/* NULL when no repository is enabled (greatest() would turn that into 0: a busy loop) */
	if (wx_exec("SELECT ceil(extract(epoch FROM bb._gitops_next_due() - clock_timestamp()) * 1000)::bigint",
				0, NULL) == 1 && (next = wx_get(0, 1)) != NULL)
		sleep_ms = Min(sleep_ms, (long) Max(0, Min(strtoll(next, NULL, 10), IDLE_TICK_MS)));
	if (dir != NULL)
		remove_unused(dir);
	wx_commit();
	return sleep_ms;
}

/* Sleeps until the latch, a helper's output, the deadline of a helper or sleep_ms; reads the
 * helpers' output as it comes.  True when the next pass is due (not just more output). */
static bool
gitops_wait(long sleep_ms)
{
	WaitEventSet *set;
	WaitEvent	events[BB_GITOPS_MAX_FETCHES + 2];
	TimestampTz now = GetCurrentTimestamp();
	int			n;
	bool		pass = false;

	set = CreateWaitEventSet(CurrentMemoryContext, BB_GITOPS_MAX_FETCHES + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < BB_GITOPS_MAX_FETCHES; i++)
	{
		GitopsFetch *f = &fetches[i];

		if (!f->in_use || f->ended)
			continue;
		if (f->fd >= 0)
			AddWaitEventToSet(set, WL_SOCKET_READABLE, f->fd, NULL, f);
		sleep_ms = Min(sleep_ms, Max(0, (long) ((f->deadline - now) / 1000) + 1));
	}
	n = WaitEventSetWait(set, sleep_ms, events, lengthof(events), PG_WAIT_EXTENSION);
	if (n == 0)
		pass = true;
	for (int i = 0; i < n; i++)
	{
		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			pass = true;
		}
		if ((events[i].events & WL_SOCKET_READABLE) && events[i].user_data != NULL)
		{
			GitopsFetch *f = events[i].user_data;

			gitops_drain(f);
			pass = pass || f->ended;
		}
	}
	FreeWaitEventSet(set);
	return pass;
}

/* Worker process: sleeps between passes; an error in a pass is logged and retried. */
void
bb_gitops_main(Datum arg)
{
	BBGitopsShmem *sh = bb_gitops_shmem;
	MemoryContext tickcxt;
	long		sleep_ms = 0;
	TimestampTz wake_at;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(bb_database, NULL, 0);
	pgstat_report_appname("bytebase gitops");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);

	for (int i = 0; i < BB_GITOPS_MAX_FETCHES; i++)
		fetches[i].fd = -1;
	strlcpy(helper_path, my_exec_path, sizeof(helper_path));
	get_parent_directory(helper_path);
	strlcat(helper_path, "/" BB_GITOPS_HELPER, sizeof(helper_path));

	SpinLockAcquire(&sh->mutex);
	sh->worker_pid = MyProcPid;
	sh->worker_latch = MyLatch;
	for (int i = 0; i < BB_GITOPS_MAX_REQUESTS; i++)
		if (sh->req[i].state == BB_REQ_RUNNING)
			sh->req[i].state = BB_REQ_WAITING;	/* a previous worker died during their fetch */
	SpinLockRelease(&sh->mutex);
	before_shmem_exit(gitops_detach, (Datum) 0);
	ereport(LOG, (errmsg("bytebase gitops worker serving database \"%s\" (git helper %s)", bb_database, helper_path)));

	tickcxt = AllocSetContextCreate(TopMemoryContext, "bytebase gitops pass", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(tickcxt);
		MemoryContextSwitchTo(tickcxt);
		PG_TRY();
		{
			sleep_ms = gitops_tick();
		}
		PG_CATCH();
		{
			/* e.g. the extension is being dropped: report, try again later */
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			sleep_ms = IDLE_TICK_MS;
		}
		PG_END_TRY();
		MemoryContextSwitchTo(tickcxt);
		/* helpers' output alone does not need a pass: keep sleeping until the pass is due */
		wake_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), sleep_ms);
		while (!gitops_wait(Max(0, (long) ((wake_at - GetCurrentTimestamp()) / 1000))))
			CHECK_FOR_INTERRUPTS();
	}
}
