/*
 * query.c — the C side of bb.query: check, analyse, run read-only on the target, cut, mask.
 *
 * bb._query_c is called by bb.query (sql/0.3/50_portal.sql) after the role, project,
 * environment-policy and access-grant checks, with the limits and masking rules that apply.
 * Order matters: the parse check refuses before any connection exists, so a refused
 * statement never reaches the target; the masking analysis runs before the statement is
 * sent; the statement runs in the engine's read-only mode and is rolled back.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "bytebase.h"
#include "driver.h"
#include "portal.h"
#include "review/review.h"
#include "review/lex.h"

PG_FUNCTION_INFO_V1(bb_query_c);
PG_FUNCTION_INFO_V1(bb_query_check);

#define CURSOR_NAME "bb_portal_query"

/* Relation lookup on the target (inside the read-only transaction): where the target's
 * search_path resolves the name, its kind, and a view's definition. */
static bool
target_lookup(void *arg, const char *schema, const char *name, BBRelInfo *out)
{
	BBConn	   *conn = arg;
	StringInfoData q;
	BBResult   *res;

	initStringInfo(&q);
	appendStringInfo(&q,
					 "SELECT n.nspname, c.relkind, CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END"
					 " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
					 " WHERE c.oid = pg_catalog.to_regclass(%s)",
					 quote_literal_cstr(schema ? quote_qualified_identifier(schema, name) : quote_identifier(name)));
	res = bb_exec(conn, q.data);
	if (res->nrows != 1)
		return false;
	out->schema = pstrdup(BB_VALUE(res, 0, 0));
	out->relkind = BB_VALUE(res, 0, 1)[0];
	out->viewdef = BB_VALUE(res, 0, 2) ? pstrdup(BB_VALUE(res, 0, 2)) : NULL;
	return true;
}

/* MySQL masking is not followed through statements yet: fail-closed, a statement that
 * names a table with masked columns is refused. */
static void
mysql_refuse_masked(const char *sql, List *rules)
{
	bb_lexer	lx;
	bb_lex_token t;
	size_t		len = strlen(sql);

	bb_lex_init(&lx, BB_DIALECT_MYSQL, sql, len);
	for (bb_lex_next(&lx, &t); t.kind != BB_LEX_EOF; bb_lex_next(&lx, &t))
	{
		ListCell   *lc;
		size_t		s = t.start,
					e = t.end;

		if (t.kind != BB_LEX_WORD && t.kind != BB_LEX_QIDENT)
			continue;
		if (t.kind == BB_LEX_QIDENT && e - s >= 2)
			s++, e--;
		foreach(lc, rules)
		{
			BBMaskRule *r = lfirst(lc);

			if (strlen(r->table) == e - s && pg_strncasecmp(sql + s, r->table, e - s) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("bb.query refuses statements naming %s.%s on this database: it has masked columns", r->schema, r->table),
						 errdetail("On MySQL databases masking is not followed through statements yet, so tables with masked columns cannot be queried."),
						 errhint("Ask an admin for a masking exemption.")));
		}
	}
}

/* Sets bytebase.statement_timeout for this call (the GUC nest level undoes it). */
static void
set_timeout(int timeout_ms)
{
	if (timeout_ms > 0 && (bb_statement_timeout_ms == 0 || timeout_ms < bb_statement_timeout_ms))
		(void) set_config_option("bytebase.statement_timeout", psprintf("%d", timeout_ms), PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/* Runs the checked statement read-only on the target; returns at most fetch rows (more
 * may exist when exactly fetch come back). */
static BBResult *
run_readonly(BBConn *conn, BBEngine engine, const char *sql, bool is_select, int fetch,
			 List *rules, List *tables, List **outcols)
{
	static const BBExecOptions one_kept = {.single = true, .keep_rows = true};
	static const BBExecOptions one_dropped = {.single = true, .keep_rows = false};
	BBResult   *res;

	if (engine == BB_ENGINE_POSTGRES)
	{
		(void) bb_exec(conn, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
		if (rules != NIL)
			*outcols = bb_portal_mask_pg(sql, rules, tables, target_lookup, conn);
		if (is_select)
		{
			(void) bb_exec_ex(conn, psprintf("DECLARE " CURSOR_NAME " NO SCROLL CURSOR FOR %s", sql), &one_dropped);
			res = bb_exec_ex(conn, psprintf("FETCH FORWARD %d FROM " CURSOR_NAME, fetch), &one_kept);
		}
		else
			res = bb_exec_ex(conn, sql, &one_kept);
		(void) bb_exec(conn, "ROLLBACK");
	}
	else if (engine == BB_ENGINE_CLICKHOUSE)
	{
		static const BBExecOptions read_only = {.single = true, .keep_rows = true, .read_only = true};

		/* the rows past fetch are the driver's caps' business (bytebase.max_result_rows) */
		res = bb_exec_ex(conn, sql, &read_only);
	}
	else
	{
		(void) bb_exec(conn, psprintf("SET SESSION sql_select_limit = %d", fetch));
		(void) bb_exec(conn, "START TRANSACTION READ ONLY");
		res = bb_exec_ex(conn, sql, &one_kept);
		(void) bb_exec(conn, "ROLLBACK");
	}
	return res;
}

/* Refuses a result that does not look like the analysis predicted (a stale snapshot would
 * mask the wrong columns). */
static void
check_shape(BBResult *res, List *outcols)
{
	ListCell   *lc;
	int			c = 0;

	if (res->ncols != list_length(outcols))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("bb.query refuses the result: it has %d columns where the schema snapshot predicts %d",
						res->ncols, list_length(outcols)),
				 errhint("The database has masked columns and its schema changed; an admin runs bb.sync_instance.")));
	foreach(lc, outcols)
	{
		BBOutCol   *o = lfirst(lc);

		if (o->name && strcmp(o->name, res->colnames[c]) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("bb.query refuses the result: column %d is \"%s\" where the schema snapshot predicts \"%s\"",
							c + 1, res->colnames[c], o->name),
					 errhint("The database has masked columns and its schema changed; an admin runs bb.sync_instance.")));
		c++;
	}
}

/* Result column names made unique for the row objects (a second "id" becomes "id_2"). */
static char **
unique_names(BBResult *res)
{
	char	  **names = palloc(sizeof(char *) * Max(res->ncols, 1));

	for (int c = 0; c < res->ncols; c++)
	{
		int			n = 1;

		names[c] = res->colnames[c];
		for (bool dup = true; dup;)
		{
			dup = false;
			for (int p = 0; p < c; p++)
				if (strcmp(names[p], names[c]) == 0)
					dup = true;
			if (dup)
				names[c] = psprintf("%s_%d", res->colnames[c], ++n);
		}
	}
	return names;
}

/*
 * bb._query_c(instance, database, engine, statement, max_rows, max_bytes, timeout_ms,
 *             rules text[], columns text[], salt) -> jsonb
 * {"columns": [..], "rows": [{column: text value or null}, ..], "truncated": bool,
 *  "cut_by": "max_rows" | "max_bytes" | null, "bytes": n, "masked": {column: algorithm}}
 */
Datum
bb_query_c(PG_FUNCTION_ARGS)
{
	char	   *instance = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *database = text_to_cstring(PG_GETARG_TEXT_PP(1));
	BBEngine	engine = bb_engine_from_name(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			max_rows = PG_GETARG_INT32(4);
	int			max_bytes = PG_GETARG_INT32(5);
	int			timeout_ms = PG_GETARG_INT32(6);
	List	   *rules = bb_portal_rules_from_array(PG_GETARG_ARRAYTYPE_P(7));
	List	   *tables = bb_portal_tables_from_array(PG_GETARG_ARRAYTYPE_P(8));
	char	   *salt = text_to_cstring(PG_GETARG_TEXT_PP(9));
	bool		is_select = false;
	List	   *outcols = NIL;
	BBResult   *res = NULL;
	BBConn	   *conn;
	int			nest;
	int			fetch;
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData out;
	char	  **names;
	BBMaskAlg  *algs;
	int64		bytes = 0;
	int			kept;
	const char *cut_by = NULL;

	if (max_rows < 1 || max_bytes < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max_rows and max_bytes must be positive")));
	/* 1. the parse check, before any connection */
	switch (engine)
	{
		case BB_ENGINE_POSTGRES:
			is_select = bb_portal_check_pg(sql);
			break;
		case BB_ENGINE_MYSQL:
		case BB_ENGINE_TIDB:
			bb_portal_check_mysql(sql);
			if (rules != NIL)
				mysql_refuse_masked(sql, rules);
			break;
		case BB_ENGINE_CLICKHOUSE:
			bb_portal_check_clickhouse(sql);
			if (rules != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("bb.query refuses queries on this ClickHouse database: it has masked columns"),
						 errdetail("On ClickHouse databases masking is not followed through statements yet."),
						 errhint("Ask an admin for a masking exemption.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("bb.query does not support %s databases yet", bb_engine_name(engine))));
	}
	/* 2. run, with the policy's timeout and one row more than kept (to know it was cut) */
	fetch = Min(max_rows, bb_max_result_rows - 1) + 1;
	nest = NewGUCNestLevel();
	set_timeout(timeout_ms);
	conn = bb_connect(bb_instance_conninfo(instance, database, GetSessionUserId()));
	if (rules == NIL)
		res = run_readonly(conn, engine, sql, is_select, fetch, NIL, NIL, &outcols);
	else
	{
		/* a target error may quote a masked value ("invalid input syntax: <value>") */
		PG_TRY();
		{
			res = run_readonly(conn, engine, sql, is_select, fetch, rules, tables, &outcols);
		}
		PG_CATCH();
		{
			ErrorData  *ed;

			MemoryContextSwitchTo(cxt);
			ed = CopyErrorData();
			if (!bb_error_is_target(ed))
				PG_RE_THROW();
			FlushErrorState();
			ereport(ERROR,
					(errcode(ed->sqlerrcode),
					 errmsg("the target refused the statement (SQLSTATE %s); its message is withheld because the database has masked columns",
							unpack_sql_state(ed->sqlerrcode))));
		}
		PG_END_TRY();
	}
	bb_close(conn);
	AtEOXact_GUC(true, nest);

	/* 3. shape, masks, cut */
	if (outcols != NIL)
		check_shape(res, outcols);
	names = unique_names(res);
	algs = palloc0(sizeof(BBMaskAlg) * Max(res->ncols, 1));
	if (outcols != NIL)
	{
		ListCell   *lc;
		int			c = 0;

		foreach(lc, outcols)
			algs[c++] = ((BBOutCol *) lfirst(lc))->alg;
	}
	initStringInfo(&out);
	appendStringInfoString(&out, "{\"columns\": [");
	for (int c = 0; c < res->ncols; c++)
	{
		if (c > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, names[c]);
	}
	appendStringInfoString(&out, "], \"rows\": [");
	kept = 0;
	for (int r = 0; r < res->nrows; r++)
	{
		StringInfoData row;

		CHECK_FOR_INTERRUPTS();
		if (kept >= max_rows)
		{
			cut_by = "max_rows";
			break;
		}
		initStringInfo(&row);
		appendStringInfoChar(&row, '{');
		for (int c = 0; c < res->ncols; c++)
		{
			const char *v = BB_VALUE(res, r, c);

			if (c > 0)
				appendStringInfoString(&row, ", ");
			escape_json(&row, names[c]);
			appendStringInfoString(&row, ": ");
			if (v == NULL)
				appendStringInfoString(&row, "null");
			else
				escape_json(&row, algs[c] == BB_MASK_NONE ? v : bb_portal_mask_value(v, algs[c], salt));
		}
		appendStringInfoChar(&row, '}');
		if (bytes + row.len > max_bytes)
		{
			cut_by = "max_bytes";
			pfree(row.data);
			break;
		}
		bytes += row.len;
		if (kept > 0)
			appendStringInfoString(&out, ", ");
		appendBinaryStringInfo(&out, row.data, row.len);
		pfree(row.data);
		kept++;
	}
	appendStringInfo(&out, "], \"truncated\": %s, \"cut_by\": %s, \"bytes\": " INT64_FORMAT ", \"masked\": {",
					 cut_by ? "true" : "false", cut_by ? psprintf("\"%s\"", cut_by) : "null", bytes);
	{
		bool		first = true;

		for (int c = 0; c < res->ncols; c++)
			if (algs[c] != BB_MASK_NONE)
			{
				if (!first)
					appendStringInfoString(&out, ", ");
				first = false;
				escape_json(&out, names[c]);
				appendStringInfoString(&out, ": ");
				escape_json(&out, bb_portal_alg_name(algs[c]));
			}
	}
	appendStringInfoString(&out, "}}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * bb._query_check(engine, statement, rules text[], columns text[]) -> jsonb: the parse check
 * and (PostgreSQL) the masking analysis on the snapshot alone, as bb.query would do them
 * before running anything: [{"name": .., "masking": .., "origin": ..}] per predicted result
 * column, or the refusal.  For tests and for trying a statement without a target.
 */
Datum
bb_query_check(PG_FUNCTION_ARGS)
{
	BBEngine	engine = bb_engine_from_name(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	List	   *rules = bb_portal_rules_from_array(PG_GETARG_ARRAYTYPE_P(2));
	List	   *tables = bb_portal_tables_from_array(PG_GETARG_ARRAYTYPE_P(3));
	List	   *cols = NIL;
	ListCell   *lc;
	StringInfoData out;

	if (engine == BB_ENGINE_POSTGRES)
	{
		(void) bb_portal_check_pg(sql);
		if (rules != NIL)
			cols = bb_portal_mask_pg(sql, rules, tables, NULL, NULL);
	}
	else if (engine == BB_ENGINE_MYSQL || engine == BB_ENGINE_TIDB)
	{
		bb_portal_check_mysql(sql);
		if (rules != NIL)
			mysql_refuse_masked(sql, rules);
	}
	else if (engine == BB_ENGINE_CLICKHOUSE)
		bb_portal_check_clickhouse(sql);
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	foreach(lc, cols)
	{
		BBOutCol   *o = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"name\": ");
		if (o->name)
			escape_json(&out, o->name);
		else
			appendStringInfoString(&out, "null");
		appendStringInfoString(&out, ", \"masking\": ");
		escape_json(&out, bb_portal_alg_name(o->alg));
		appendStringInfoString(&out, ", \"origin\": ");
		if (o->origin)
			escape_json(&out, o->origin);
		else
			appendStringInfoString(&out, "null");
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoChar(&out, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
