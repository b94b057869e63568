/* task_exec.c — per-engine execution strategy: atomic with history on PostgreSQL, statement by
 * statement (resumable) elsewhere; each reviewed statement is sent on its own */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bytebase.h"

#include "driver.h"
#include "task_exec.h"
#include "task_split.h"

static const char *const phase_names[BB_NPHASES] = {
	"claim", "split", "connect", "history", "statements", "commit", "snapshot", "close", "finish"
};

/* See task_exec.h: one clock read per phase, so it stays on for every task. */
void
bb_phase_end(BBTaskWork *w, BBPhase phase)
{
	TimestampTz now = GetCurrentTimestamp();

	w->phase_us[phase] += now - w->phase_mark;
	w->phase_mark = now;
}

/* See task_exec.h; the line is "bytebase trace: task N phase ms phase ms ...". */
void
bb_trace_task(BBTaskWork *w)
{
	StringInfoData buf;

	if (!bb_trace_tasks)
		return;
	initStringInfo(&buf);
	for (int i = 0; i < BB_NPHASES; i++)
		appendStringInfo(&buf, " %s %.3f", phase_names[i], w->phase_us[i] / 1000.0);
	ereport(LOG, (errmsg_internal("bytebase trace: task " INT64_FORMAT "%s", w->task_id, buf.data),
				  errhidestmt(true)));
	pfree(buf.data);
}

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

/* Sends one reviewed statement: the target refuses a text it would cut into more than one,
 * rows are counted, not kept.  Its result lives in a context reset per statement. */
static int64
run_statement(BBConn *conn, const char *sql, MemoryContext stmtcxt)
{
	MemoryContext old = MemoryContextSwitchTo(stmtcxt);
	BBExecOptions opt = {.single = true,.keep_rows = false};
	int64		affected = bb_exec_ex(conn, sql, &opt)->affected;

	MemoryContextSwitchTo(old);
	MemoryContextReset(stmtcxt);
	return affected;
}

/* Adds a statement's affected rows to the task's count (unknown stays unknown until a count). */
static void
count_affected(BBTaskWork *w, int64 affected)
{
	if (affected > 0)
		w->affected = (w->affected < 0 ? 0 : w->affected) + affected;
}

/* One transaction on the target holds the change and its history row: after any crash
 * the target itself says whether this task was applied, and a rerun cannot apply it twice
 * (the primary key makes a concurrent or later attempt find the row and roll back). */
static void
exec_pg_atomic(BBConn *conn, BBTaskWork *w, MemoryContext stmtcxt)
{
	BBResult   *res;
	ListCell   *lc;

	w->by_statement = false;
	res = bb_exec(conn, psprintf("BEGIN; %s; %s", history_ddl, history_insert_sql(w)));
	bb_phase_end(w, BB_PHASE_HISTORY);
	if (res->nrows == 0)
	{
		bb_exec(conn, "ROLLBACK");
		w->already_applied = true;
		return;
	}
	foreach(lc, w->stmts)
		count_affected(w, run_statement(conn, (const char *) lfirst(lc), stmtcxt));
	bb_phase_end(w, BB_PHASE_STATEMENTS);
	bb_exec(conn, "COMMIT");
	bb_phase_end(w, BB_PHASE_COMMIT);
	w->remote_committed = true;
	w->stmts_done = list_length(w->stmts);
}

/* Runs the statements after first_statement one by one, committing progress after each, so a
 * failure says "statement k of n" and a retry resumes at k. */
static void
exec_from(BBConn *conn, BBTaskWork *w, MemoryContext stmtcxt)
{
	int			k = 0;
	ListCell   *lc;

	w->by_statement = true;
	w->stmts_done = w->first_statement;
	foreach(lc, w->stmts)
	{
		if (k++ < w->first_statement)
			continue;
		count_affected(w, run_statement(conn, (const char *) lfirst(lc), stmtcxt));
		w->remote_committed = true;
		w->stmts_done++;
		if (w->progress)
			w->progress(w);
	}
}

/* Statements that refuse a transaction block run one by one in autocommit; the history row
 * follows the last one (recovery cannot tell a half-run script: the task fails, then resumes). */
static void
exec_pg_nontransactional(BBConn *conn, BBTaskWork *w, MemoryContext stmtcxt)
{
	BBResult   *res;

	bb_exec(conn, history_ddl);
	res = bb_exec(conn, psprintf("SELECT 1 FROM bytebase.history WHERE control_system_identifier = %s "
								 "AND task_id = " INT64_FORMAT,
								 quote_literal_cstr(w->control_id), w->task_id));
	if (res->nrows > 0)
	{
		w->already_applied = true;
		return;
	}
	exec_from(conn, w, stmtcxt);
	bb_exec(conn, history_insert_sql(w));
}

/* The schema after the change is a nicety: a failure to read it must not fail the task.
 * No transaction is open here, so the error is caught and dropped without a rollback. */
static char *
snapshot_best_effort(BBConn *conn, const char *database)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *volatile snap = NULL;

	PG_TRY();
	{
		snap = bb_schema_snapshot(conn, database);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		/* a cancel or terminate of this worker is not swallowed */
		if (!bb_error_is_target(edata))
			PG_RE_THROW();
		FlushErrorState();
		ereport(LOG, (errmsg("bytebase: schema snapshot of \"%s\" after the change failed: %s",
							 database, edata->message)));
		snap = NULL;
	}
	PG_END_TRY();
	return snap;
}

/* True when a task runs atomically: the engine rolls DDL back (one target transaction holds
 * the change and its history row) and no statement refuses a transaction block. */
bool
bb_task_is_atomic(bool transactional_ddl, List *stmts)
{
	return transactional_ddl && !bb_script_is_nontransactional(stmts);
}

/* Picks the strategy by engine.  The connection is opened with no control transaction open
 * (it is detached: closed here on every path, and at process exit). */
void
bb_task_execute(BBTaskWork *w)
{
	BBConn	   *volatile conn;
	MemoryContext stmtcxt = AllocSetContextCreate(CurrentMemoryContext, "bytebase statement",
												  ALLOCSET_DEFAULT_SIZES);

	w->affected = -1;
	w->stmts_done = w->first_statement;
	conn = bb_connect(w->conninfo);
	bb_conn_detach(conn);
	w->connected = true;
	bb_phase_end(w, BB_PHASE_CONNECT);
	PG_TRY();
	{
		if (bb_task_is_atomic(w->transactional_ddl, w->stmts))
			exec_pg_atomic(conn, w, stmtcxt);
		else if (w->transactional_ddl)
			exec_pg_nontransactional(conn, w, stmtcxt);
		else
			exec_from(conn, w, stmtcxt);
		bb_phase_end(w, BB_PHASE_STATEMENTS);
		if (!w->already_applied)
			w->schema_after = snapshot_best_effort(conn, w->database);
		bb_phase_end(w, BB_PHASE_SNAPSHOT);
	}
	PG_FINALLY();
	{
		bb_close(conn);
	}
	PG_END_TRY();
	bb_phase_end(w, BB_PHASE_CLOSE);
	MemoryContextDelete(stmtcxt);
}

/* The statements run for real inside a transaction that is always rolled back, so the
 * target's own parser, catalog and locks judge them; nothing they did survives.  Only ever
 * called for unprotected environments (see 60_plan_check.sql). */
char *
bb_task_dry_run(BBTaskWork *w)
{
	BBConn	   *volatile conn;
	MemoryContext stmtcxt;

	if (!w->transactional_ddl)
		return pstrdup("dry runs exist for engines with transactional DDL (PostgreSQL) only");
	if (!bb_task_is_atomic(w->transactional_ddl, w->stmts))
		return pstrdup("not dry-run: the script has a statement that cannot run inside a transaction "
					   "(e.g. CREATE INDEX CONCURRENTLY) or its own transaction control");
	stmtcxt = AllocSetContextCreate(CurrentMemoryContext, "bytebase statement", ALLOCSET_DEFAULT_SIZES);
	conn = bb_connect(w->conninfo);
	bb_conn_detach(conn);
	w->connected = true;
	PG_TRY();
	{
		ListCell   *lc;

		bb_exec(conn, "BEGIN");
		foreach(lc, w->stmts)
		{
			run_statement(conn, (const char *) lfirst(lc), stmtcxt);
			w->stmts_done++;
		}
		bb_exec(conn, "ROLLBACK");
	}
	PG_FINALLY();
	{
		bb_close(conn);
	}
	PG_END_TRY();
	MemoryContextDelete(stmtcxt);
	return NULL;
}
