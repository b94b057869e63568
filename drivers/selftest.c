/*
 * selftest.c — test hooks for the driver interface, reachable only through C
 * functions a superuser creates (the integration tests do, from
 * test/lib/driver_hooks.sh); the extension's SQL never declares them.
 *
 *   bb_test_exec(instance, database, sql, single, keep_rows, acting_role)
 *       runs bb_exec_ex as acting_role would (NULL: the session user) and
 *       returns what came back: rows_returned, rows kept, affected, first value.
 *   bb_test_detached(dbname)
 *       starts a background worker in dbname that takes the jobs of its table
 *       bbt_detached_job in one transaction, runs them with NO transaction
 *       open (connect, exec / snapshot / version, close), and records the
 *       outcomes in a last transaction: the executors' way of working.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "conninfo.h"
#include "driver.h"

PG_FUNCTION_INFO_V1(bb_test_exec);
PG_FUNCTION_INFO_V1(bb_test_detached);
extern PGDLLEXPORT void bb_test_detached_main(Datum arg);

/* What a test reads back from one bb_exec_ex. */
static char *
describe(BBResult *res)
{
	const char *first = res->nrows > 0 && res->ncols > 0 ? BB_VALUE(res, 0, 0) : NULL;

	return psprintf("rows_returned=" INT64_FORMAT " kept=%d affected=" INT64_FORMAT " first=%s",
					res->rows_returned, res->nrows, res->affected, first ? first : "(none)");
}

/* bb_test_exec(instance text, database text, sql text, single bool, keep_rows bool,
 *              acting_role oid) RETURNS text — not STRICT: database and acting_role may be NULL. */
Datum
bb_test_exec(PG_FUNCTION_ARGS)
{
	BBExecOptions opt;
	BBConnInfo *info;
	BBConn	   *conn;
	BBResult   *res;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("only database and acting_role may be NULL")));
	opt.single = PG_GETARG_BOOL(3);
	opt.keep_rows = PG_GETARG_BOOL(4);
	info = bb_instance_conninfo(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
								PG_ARGISNULL(5) ? GetSessionUserId() : PG_GETARG_OID(5));
	conn = bb_connect(info);
	res = bb_exec_ex(conn, text_to_cstring(PG_GETARG_TEXT_PP(2)), &opt);
	bb_close(conn);
	PG_RETURN_TEXT_P(cstring_to_text(describe(res)));
}

/* bb_test_detached(dbname text) RETURNS text: runs the worker and waits for it to exit. */
Datum
bb_test_detached(PG_FUNCTION_ARGS)
{
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	char	   *dbname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pid_t		pid;

	if (strlen(dbname) >= BGW_EXTRALEN)
		ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("database name too long")));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "bytebase");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bb_test_detached_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bytebase driver self-test");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bytebase driver self-test");
	strlcpy(worker.bgw_extra, dbname, BGW_EXTRALEN);
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_RESOURCES), errmsg("could not start the self-test worker")));
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_RESOURCES), errmsg("the self-test worker did not start")));
	if (WaitForBackgroundWorkerShutdown(handle) != BGWH_STOPPED)
		ereport(ERROR, (errcode(ERRCODE_ADMIN_SHUTDOWN), errmsg("postmaster died")));
	PG_RETURN_TEXT_P(cstring_to_text("done"));
}

/* One job of bbt_detached_job. */
typedef struct DetachedJob
{
	int			id;
	BBConnInfo	info;
	char	   *mode;			/* exec | exec_single | count | snapshot | version */
	char	   *sql;
	char	   *result;
} DetachedJob;

/* Column col of SPI row r as a string in cxt (NULL for SQL NULL). */
static char *
col(int r, int c, MemoryContext cxt)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c);

	return v ? MemoryContextStrdup(cxt, v) : NULL;
}

/* First transaction: the jobs, and the driver's catalog lookups done while allowed. */
static DetachedJob *
load_jobs(MemoryContext cxt, int *njobs)
{
	DetachedJob *jobs;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT id, engine, host, port, username, password, database, options, mode, sql "
					"FROM bbt_detached_job WHERE result IS NULL ORDER BY id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading bbt_detached_job failed");
	*njobs = (int) SPI_processed;
	jobs = MemoryContextAllocZero(cxt, sizeof(DetachedJob) * Max(*njobs, 1));
	for (int r = 0; r < *njobs; r++)
	{
		DetachedJob *j = &jobs[r];

		j->id = pg_strtoint32(col(r, 1, cxt));
		j->info.engine = bb_engine_from_name(col(r, 2, cxt));
		j->info.instance = "selftest";
		j->info.host = col(r, 3, cxt);
		j->info.port = pg_strtoint32(col(r, 4, cxt));
		j->info.user = col(r, 5, cxt);
		j->info.password = col(r, 6, cxt);
		j->info.database = col(r, 7, cxt);
		j->info.options_json = col(r, 8, cxt);
		j->mode = col(r, 9, cxt);
		j->sql = col(r, 10, cxt);
	}
	bb_driver_prepare();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return jobs;
}

/* Runs one job with no transaction open; the outcome (or the error) becomes its result. */
static void
run_job(DetachedJob *j, MemoryContext cxt)
{
	BBConn	   *volatile conn = NULL;
	char	   *out = NULL;

	PG_TRY();
	{
		if (IsTransactionState())
			elog(ERROR, "self-test: a transaction is open");
		conn = bb_connect(&j->info);
		if (strcmp(j->mode, "snapshot") == 0)	/* sql: the database to read, NULL = the connection's */
			out = bb_schema_snapshot(conn, j->sql ? j->sql : j->info.database);
		else if (strcmp(j->mode, "version") == 0)
			out = bb_server_version(conn);
		else
		{
			BBExecOptions opt = {.single = strcmp(j->mode, "exec") != 0,
			.keep_rows = strcmp(j->mode, "count") != 0};

			out = describe(bb_exec_ex(conn, j->sql, &opt));
		}
		bb_close(conn);
		conn = NULL;
		if (IsTransactionState())
			elog(ERROR, "self-test: the driver opened a transaction");
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		bb_close(conn);			/* detached: nobody else would */
		out = psprintf("error %s%s: %s", unpack_sql_state(edata->sqlerrcode),
					   bb_error_is_target(edata) ? " (target)" : " (local)", edata->message);
	}
	PG_END_TRY();
	j->result = MemoryContextStrdup(cxt, out);
}

/* Last transaction: the outcomes. */
static void
store_results(DetachedJob *jobs, int njobs)
{
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	for (int i = 0; i < njobs; i++)
	{
		Oid			types[2] = {INT4OID, TEXTOID};
		Datum		values[2] = {Int32GetDatum(jobs[i].id), CStringGetTextDatum(jobs[i].result)};

		if (SPI_execute_with_args("UPDATE bbt_detached_job SET result = $2 WHERE id = $1",
								  2, types, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "updating bbt_detached_job failed");
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* The worker: jobs in, remote work with no transaction, results out. */
void
bb_test_detached_main(Datum arg)
{
	MemoryContext cxt;
	DetachedJob *jobs;
	int			njobs;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(MyBgworkerEntry->bgw_extra, NULL, 0);
	pgstat_report_appname("bytebase driver self-test");
	cxt = AllocSetContextCreate(TopMemoryContext, "bytebase self-test", ALLOCSET_DEFAULT_SIZES);
	jobs = load_jobs(cxt, &njobs);
	for (int i = 0; i < njobs; i++)
	{
		MemoryContextSwitchTo(cxt);
		run_job(&jobs[i], cxt);
	}
	store_results(jobs, njobs);
	proc_exit(0);
}
