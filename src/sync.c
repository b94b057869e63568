/*
 * sync.c — bb.sync_instance and the admin diagnostics on instances
 * (bb.test_connection, bb.remote_query).  The SQL wrappers in
 * sql/0.1/20_sync.sql check the caller's role; these C functions are
 * revoked from PUBLIC and run with the extension owner's rights, acting for
 * the session user (whose superuserness decides the password rule).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "bytebase.h"
#include "conninfo.h"
#include "driver.h"
#include "subxact.h"

PG_FUNCTION_INFO_V1(bb_sync_instance_c);
PG_FUNCTION_INFO_V1(bb_test_connection_c);
PG_FUNCTION_INFO_V1(bb_remote_query_c);

/* Runs one catalog statement through SPI; the statements are ours, so failure is a bug. */
static void
spi_run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc != expect)
		elog(ERROR, "bytebase: catalog statement failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* A text[] of the names, for = ANY / unnest in the catalog statements. */
static Datum
names_array(List *names)
{
	int			n = list_length(names);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, names)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Registers new databases, revives reappeared ones, marks the missing as vanished. */
static void
record_databases(int64 instance_id, List *names)
{
	Oid			types[2] = {INT8OID, TEXTARRAYOID};
	Datum		values[2] = {Int64GetDatum(instance_id), names_array(names)};

	spi_run("INSERT INTO bb.database AS d (instance_id, name, environment_id, created_by) "
			"SELECT $1, n, i.environment_id, bb._caller() "
			"  FROM unnest($2) AS n, bb.instance i WHERE i.id = $1 "
			"ON CONFLICT (instance_id, name) DO UPDATE SET vanished_at = NULL "
			"WHERE d.vanished_at IS NOT NULL",
			2, types, values, SPI_OK_INSERT);
	spi_run("UPDATE bb.database SET vanished_at = now() "
			"WHERE instance_id = $1 AND vanished_at IS NULL AND name <> ALL ($2)",
			2, types, values, SPI_OK_UPDATE);
}

/* Stores one database's snapshot, or its error, keyed by (instance, name). */
static void
store_result(int64 instance_id, const char *name, const char *json, const char *error)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(instance_id), CStringGetTextDatum(name),
	CStringGetTextDatum(json ? json : error)};

	if (json)
		spi_run("UPDATE bb.database SET schema_snapshot = $3::jsonb, synced_at = now(), sync_error = NULL "
				"WHERE instance_id = $1 AND name = $2", 3, types, values, SPI_OK_UPDATE);
	else
		spi_run("UPDATE bb.database SET sync_error = $3 WHERE instance_id = $1 AND name = $2",
				3, types, values, SPI_OK_UPDATE);
}

/* One database's snapshot, run in a subtransaction by snapshot_one. */
typedef struct SnapshotJob
{
	const BBConnInfo *info;		/* the instance's, database replaced */
	int64		instance_id;
	const char *name;
} SnapshotJob;

/* Connects to the database, reads its schema and stores it. */
static void
snapshot_job(void *arg)
{
	SnapshotJob *job = (SnapshotJob *) arg;
	BBConnInfo	info = *job->info;
	BBConn	   *conn;
	char	   *json;

	info.database = job->name;
	conn = bb_connect(&info);
	json = bb_schema_snapshot(conn, job->name);
	bb_close(conn);
	store_result(job->instance_id, job->name, json, NULL);
}

/*
 * Snapshots one database in a subtransaction (as plpgsql's EXCEPTION blocks do): an
 * error about the target (remote error, lost connection, remote timeout) is recorded in
 * that database's sync_error and the others go on; a local one (this backend canceled
 * or terminated, out of memory, a bug) stops the whole call.
 */
static void
snapshot_one(const BBConnInfo *info, int64 instance_id, const char *name)
{
	SnapshotJob job = {info, instance_id, name};
	ErrorData  *edata;

	if (bb_try_in_subxact(snapshot_job, &job, &edata))
		return;
	if (!bb_error_is_target(edata))
		ReThrowError(edata);
	store_result(instance_id, name, NULL,
				 edata->detail ? psprintf("%s: %s", edata->message, edata->detail) : edata->message);
}

/* bb._sync_instance_c(instance): see bb.sync_instance in 20_sync.sql. */
Datum
bb_sync_instance_c(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *instance = text_to_cstring(PG_GETARG_TEXT_PP(0));
	BBConnInfo *info = bb_instance_conninfo(instance, NULL, GetSessionUserId());
	BBConn	   *conn = bb_connect(info);
	List	   *names = bb_list_databases(conn);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(instance)};
	int64		instance_id;
	bool		isnull;
	MemoryContext loop_cxt;
	ListCell   *lc;

	bb_close(conn);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "bytebase: SPI_connect failed");
	/* SPI_finish frees SPI's context: our work data lives in the caller's */
	MemoryContextSwitchTo(caller);
	spi_run("SELECT id FROM bb.instance WHERE name = $1", 1, types, values, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("instance \"%s\" does not exist", instance)));
	instance_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	record_databases(instance_id, names);

	/* per-database work in a context reset every iteration */
	loop_cxt = AllocSetContextCreate(caller, "bytebase sync", ALLOCSET_DEFAULT_SIZES);
	foreach(lc, names)
	{
		MemoryContext old = MemoryContextSwitchTo(loop_cxt);

		snapshot_one(info, instance_id, (char *) lfirst(lc));
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);
	}
	MemoryContextDelete(loop_cxt);
	SPI_finish();
	PG_RETURN_INT32(list_length(names));
}

/* bb._test_connection_c(instance): connects and returns the server's version. */
Datum
bb_test_connection_c(PG_FUNCTION_ARGS)
{
	char	   *instance = text_to_cstring(PG_GETARG_TEXT_PP(0));
	BBConn	   *conn = bb_connect(bb_instance_conninfo(instance, NULL, GetSessionUserId()));
	char	   *version = bb_server_version(conn);

	bb_close(conn);
	PG_RETURN_TEXT_P(cstring_to_text(version));
}

/* One result row as a JSON object text: column name -> text value or null. */
static char *
row_json(BBResult *res, int row)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int c = 0; c < res->ncols; c++)
	{
		const char *v = BB_VALUE(res, row, c);

		if (c > 0)
			appendStringInfoChar(&buf, ',');
		escape_json(&buf, res->colnames[c] ? res->colnames[c] : "");
		appendStringInfoChar(&buf, ':');
		if (v)
			escape_json(&buf, v);
		else
			appendStringInfoString(&buf, "null");
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* bb._remote_query_c(instance, database, sql): the rows of one remote command as jsonb
 * (one statement: the target refuses more; rows within bytebase.max_result_*). */
Datum
bb_remote_query_c(PG_FUNCTION_ARGS)
{
	static const BBExecOptions one_statement = {.single = true, .keep_rows = true};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *instance;
	char	   *database;
	char	   *sql;
	BBConn	   *conn;
	BBResult   *res;
	MemoryContext row_cxt;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("instance and sql must not be NULL")));
	instance = text_to_cstring(PG_GETARG_TEXT_PP(0));
	database = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(2));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	conn = bb_connect(bb_instance_conninfo(instance, database, GetSessionUserId()));
	res = bb_exec_ex(conn, sql, &one_statement);
	bb_close(conn);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "bytebase remote_query row", ALLOCSET_DEFAULT_SIZES);
	for (int r = 0; r < res->nrows; r++)
	{
		MemoryContext old = MemoryContextSwitchTo(row_cxt);
		Datum		value = DirectFunctionCall1(jsonb_in, CStringGetDatum(row_json(res, r)));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);
	}
	MemoryContextDelete(row_cxt);
	return (Datum) 0;
}
