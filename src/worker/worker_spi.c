/* worker_spi.c — the few SPI helpers every worker transaction uses, written once */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "worker_spi.h"

static MemoryContext wx_caller_ctx = NULL;

/* Workers have no client: each unit of work is its own short transaction, named in
 * pg_stat_activity.  The caller's memory context stays current inside it (SPI_connect would
 * switch to SPI's procedure context, which SPI_finish frees): work data allocated between
 * wx_begin and wx_commit outlives the transaction; query results are copied out by wx_get. */
void
wx_begin(const char *activity)
{
	Oid			ext;

	wx_caller_ctx = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* DROP EXTENSION locks the extension before its tables: taking the same lock first (shared)
	 * orders every worker transaction against it, where locking the tables in another order
	 * would deadlock with it.  A dropped extension is then seen as gone by the caller's check. */
	ext = get_extension_oid("bytebase", true);
	if (OidIsValid(ext))
		LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(wx_caller_ctx);
	pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the unit of work: no snapshot and no transaction stay open after it (remote work
 * between units never holds back vacuum of the control database). */
void
wx_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(wx_caller_ctx);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Plans of the workers' queries, kept for the life of the process: the same few queries run
 * for every task, and planning them each time costs more than running them. */
#define WX_MAX_PLANS 48
static struct
{
	const char *sql;
	int			nargs;
	SPIPlanPtr	plan;
}			wx_plans[WX_MAX_PLANS];
static int	wx_nplans = 0;

/* The kept plan of sql (prepared on first use; the plan cache revalidates it after DDL). */
static SPIPlanPtr
wx_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan;

	for (int i = 0; i < wx_nplans; i++)
		if (wx_plans[i].sql == sql && wx_plans[i].nargs == nargs)
			return wx_plans[i].plan;
	plan = SPI_prepare(sql, nargs, types);
	MemoryContextSwitchTo(wx_caller_ctx);
	if (plan == NULL)
		elog(ERROR, "worker query could not be prepared (SPI code %d): %s", SPI_result, sql);
	if (wx_nplans < WX_MAX_PLANS)
	{
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		MemoryContextSwitchTo(wx_caller_ctx);
		wx_plans[wx_nplans].sql = sql;
		wx_plans[wx_nplans].nargs = nargs;
		wx_plans[wx_nplans].plan = plan;
		wx_nplans++;
	}
	return plan;
}

/* All parameters are text and cast in the SQL: one calling convention for every query.
 * sql must be a string constant (its address keys the plan cache). */
uint64
wx_exec(const char *sql, int nargs, const char *const *args)
{
	Oid			types[16];
	Datum		values[16];
	char		nulls[16];
	int			rc;

	if (nargs > 16)
		elog(ERROR, "too many worker query parameters");
	memset(nulls, ' ', sizeof(nulls));
	for (int i = 0; i < nargs; i++)
	{
		types[i] = TEXTOID;
		values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
		nulls[i] = args[i] ? ' ' : 'n';
	}
	rc = SPI_execute_plan(wx_plan(sql, nargs, types), values, nulls, false, 0);
	MemoryContextSwitchTo(wx_caller_ctx);	/* SPI calls leave SPI's procedure context current */
	if (rc < 0)
		elog(ERROR, "worker query failed (SPI code %d): %s", rc, sql);
	return SPI_processed;
}

/* Copies out of SPI memory, which SPI_finish frees. */
char *
wx_get(uint64 row, int col)
{
	char	   *v;

	if (SPI_tuptable == NULL || row >= SPI_processed)
		return NULL;
	v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	return v ? MemoryContextStrdup(wx_caller_ctx, v) : NULL;
}

/* Integer cells (ids, counts) parsed once here. */
int64
wx_get_int(uint64 row, int col)
{
	char	   *v = wx_get(row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

/* Parameters are text: ids go through here. */
char *
wx_itoa(int64 v)
{
	return psprintf(INT64_FORMAT, v);
}

/* Results that must outlive SPI_finish (e.g. a claimed task) are allocated here. */
void *
wx_alloc(Size size)
{
	return MemoryContextAllocZero(wx_caller_ctx, size);
}
