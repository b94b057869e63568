/* task_exec.c — per-engine execution strategy: atomic with history on PostgreSQL, statement by statement elsewhere */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "driver.h"
#include "task_exec.h"
#include "task_split.h"

/* Created on first use in each target database; cheap no-op afterwards (no NOTICE). */
static const char *const history_ddl =
"DO $bbhist$ BEGIN IF to_regclass('bytebase.history') IS NULL THEN "
"BEGIN "
"CREATE SCHEMA IF NOT EXISTS bytebase; "
"CREATE TABLE IF NOT EXISTS bytebase.history(task_id bigint, attempt int, "
"control_system_identifier text, version text, checksum text, "
"applied_at timestamptz DEFAULT now(), PRIMARY KEY (control_system_identifier, task_id)); "
"COMMENT ON TABLE bytebase.history IS 'Changes applied by bytebase; written in the same transaction as the change.'; "
/* another task of this database created it at the same moment: theirs will do */
"EXCEPTION WHEN unique_violation OR duplicate_object OR duplicate_table OR duplicate_schema THEN NULL; "
"END; "
"END IF; END $bbhist$";

/* The history row of this task; ON CONFLICT makes a second attempt find the first one's row. */
static char *
history_insert_sql(BBTaskWork *w)
{
	return psprintf("INSERT INTO bytebase.history(task_id, attempt, control_system_identifier, version, checksum) "
					"VALUES (" INT64_FORMAT ", %d, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
					w->task_id, w->attempt, quote_literal_cstr(w->control_id),
					w->version ? quote_literal_cstr(w->version) : "NULL",
					quote_literal_cstr(w->hash));
}

/* One transaction on the target holds the change and its history row: after any crash
 * the target itself says whether this task was applied, and a rerun cannot apply it twice
 * (the primary key makes a concurrent or later attempt find the row and roll back). */
static void
exec_pg_atomic(BBConn *conn, BBTaskWork *w)
{
	BBResult   *res;

	w->by_statement = false;
	w->stmts_total = 1;
	res = bb_exec(conn, psprintf("BEGIN; %s; %s", history_ddl, history_insert_sql(w)));
	if (res->nrows == 0)
	{
		bb_exec(conn, "ROLLBACK");
		w->already_applied = true;
		return;
	}
	res = bb_exec(conn, w->body);
	w->affected = res->affected;
	bb_exec(conn, "COMMIT");
	w->remote_committed = true;
	w->stmts_done = 1;
}

/* Statements that refuse a transaction block run one by one in autocommit; the history row
 * follows the last one (so recovery cannot tell a half-run script: the task fails instead). */
static void
exec_pg_nontransactional(BBConn *conn, BBTaskWork *w, List *stmts)
{
	BBResult   *res;
	ListCell   *lc;

	bb_exec(conn, history_ddl);
	res = bb_exec(conn, psprintf("SELECT 1 FROM bytebase.history WHERE control_system_identifier = %s "
								 "AND task_id = " INT64_FORMAT,
								 quote_literal_cstr(w->control_id), w->task_id));
	if (res->nrows > 0)
	{
		w->already_applied = true;
		return;
	}
	foreach(lc, stmts)
	{
		res = bb_exec(conn, (const char *) lfirst(lc));
		w->remote_committed = true;
		if (res->affected > 0)
			w->affected = (w->affected < 0 ? 0 : w->affected) + res->affected;
		w->stmts_done++;
		if (w->progress)
			w->progress(w);
	}
	bb_exec(conn, history_insert_sql(w));
}

/* MySQL/TiDB DDL commits implicitly and ClickHouse takes one statement per request:
 * run them in order and count, so a failure names the statement. */
static void
exec_by_statement(BBConn *conn, BBTaskWork *w, List *stmts)
{
	ListCell   *lc;

	foreach(lc, stmts)
	{
		BBResult   *res = bb_exec(conn, (const char *) lfirst(lc));

		w->remote_committed = true;
		if (res->affected > 0)
			w->affected = (w->affected < 0 ? 0 : w->affected) + res->affected;
		w->stmts_done++;
		if (w->progress)
			w->progress(w);
	}
}

/* The schema after the change is a nicety: a failure to read it must not fail the task. */
static char *
snapshot_best_effort(BBConn *conn, const char *database)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *snap = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		snap = bb_schema_snapshot(conn, database);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(LOG, (errmsg("bytebase: schema snapshot of \"%s\" after the change failed: %s",
							 database, edata->message)));
		snap = NULL;
	}
	PG_END_TRY();
	return snap;
}

/* Picks the strategy by engine.  The connection is detached from the control transaction so
 * progress can be committed between statements; it is closed here on every path. */
void
bb_task_execute(BBTaskWork *w)
{
	BBConnInfo *ci = bb_conninfo_for_instance(w->instance, w->database);
	BBConn	   *volatile conn;
	bool		is_pg = (ci->engine == BB_ENGINE_POSTGRES);
	List	   *stmts = bb_task_split(w->body, w->engine);

	w->affected = -1;
	w->stmts_total = list_length(stmts);
	conn = bb_connect(ci);
	bb_conn_detach(conn);
	w->connected = true;
	PG_TRY();
	{
		if (is_pg && !bb_script_is_nontransactional(w->body))
			exec_pg_atomic(conn, w);
		else
		{
			w->by_statement = true;
			if (is_pg)
				exec_pg_nontransactional(conn, w, stmts);
			else
				exec_by_statement(conn, w, stmts);
		}
		if (!w->already_applied)
			w->schema_after = snapshot_best_effort(conn, w->database);
	}
	PG_FINALLY();
	{
		bb_close(conn);
	}
	PG_END_TRY();
}

/* The statement runs for real inside a transaction that is always rolled back, so the
 * target's own parser, catalog and locks judge it; nothing it did survives. */
char *
bb_task_dry_run(BBTaskWork *w)
{
	BBConnInfo *ci;
	BBConn	   *conn;

	if (strcmp(w->engine, "postgres") != 0)
		return pstrdup("dry runs exist for PostgreSQL targets only");
	if (bb_script_is_nontransactional(w->body))
		return pstrdup("not dry-run: the script has a statement that cannot run inside a transaction "
					   "(e.g. CREATE INDEX CONCURRENTLY) or its own transaction control");
	ci = bb_conninfo_for_instance(w->instance, w->database);
	conn = bb_connect(ci);
	w->connected = true;
	bb_exec(conn, "BEGIN");
	bb_exec(conn, w->body);
	bb_exec(conn, "ROLLBACK");
	bb_close(conn);
	return NULL;
}
