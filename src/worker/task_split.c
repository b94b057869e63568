/* task_split.c — a script as the executor runs it: the review splitter's statements, and which
 * PostgreSQL statements refuse a transaction block (decided on the server's own parse tree) */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/elog.h"

#include "engine.h"
#include "review/pg_parse.h"
#include "review/review.h"
#include "task_split.h"

/* The review splitter's dialect for an engine name (the engine table decides). */
static bb_dialect
engine_dialect(const char *engine)
{
	const BBEngineDef *def = bb_engine_lookup(engine);

	return def ? def->dialect : BB_DIALECT_POSTGRES;
}

/* One splitter for review and execution: the statements executed are exactly the statements
 * reviewed (each sent on its own).  A broken quote still yields its statement (the target
 * reports the syntax error with its own message). */
List *
bb_task_split(const char *script, const char *engine)
{
	bb_stmt_span *spans = NULL;
	List	   *out = NIL;
	int			n = bb_split(engine_dialect(engine), script, strlen(script), &spans);

	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting a script")));
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
			out = lappend(out, pnstrdup(script + spans[i].start, spans[i].end - spans[i].start));
	}
	PG_FINALLY();
	{
		free(spans);
	}
	PG_END_TRY();
	return out;
}

/* True for a DefElem list that holds the option name (REINDEX (CONCURRENTLY) ...). */
static bool
has_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);

		if (d->defname && strcmp(d->defname, name) == 0)
			return true;
	}
	return false;
}

/* The statements PostgreSQL runs only outside a transaction block (PreventInTransactionBlock
 * callers), and the script's own transaction control. */
static bool
node_is_nontransactional(Node *n)
{
	switch (nodeTag(n))
	{
		case T_TransactionStmt:
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterSystemStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
		case T_DropSubscriptionStmt:
			return true;
		case T_VacuumStmt:
			return ((VacuumStmt *) n)->is_vacuumcmd;	/* ANALYZE alone runs in a transaction */
		case T_IndexStmt:
			return ((IndexStmt *) n)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) n)->concurrent;
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) n;

				return has_option(r->params, "concurrently") ||
					r->kind == REINDEX_OBJECT_SYSTEM || r->kind == REINDEX_OBJECT_DATABASE;
			}
		case T_ClusterStmt:
			return ((ClusterStmt *) n)->relation == NULL;
		case T_DiscardStmt:
			return ((DiscardStmt *) n)->target == DISCARD_ALL;
		case T_AlterDatabaseStmt:
			return has_option(((AlterDatabaseStmt *) n)->options, "tablespace");
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) n)->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

					if (cmd->subtype == AT_DetachPartition && cmd->def &&
						IsA(cmd->def, PartitionCmd) && ((PartitionCmd *) cmd->def)->concurrent)
						return true;
				}
				return false;
			}
		default:
			return false;
	}
}

/* Parsed by the server's own grammar.  A statement this server cannot parse (a newer target's
 * syntax, or a plain error) counts as transactional: inside the change's transaction block a
 * statement that refuses one fails, and the whole change rolls back, so nothing is half-done. */
bool
bb_stmt_is_nontransactional(const char *stmt)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool result = false;

	PG_TRY();
	{
		List	   *parsed = bb_raw_parse(stmt);
		ListCell   *lc;

		foreach(lc, parsed)
			if (node_is_nontransactional(((RawStmt *) lfirst(lc))->stmt))
				result = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			class;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		class = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		/* the parser's own complaints only (syntax, bad literals, too deep); nothing else is swallowed */
		if (class != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION && class != ERRCODE_DATA_EXCEPTION &&
			class != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		result = false;
	}
	PG_END_TRY();
	return result;
}

/* One non-transactional statement makes the whole script run statement by statement. */
bool
bb_script_is_nontransactional(List *stmts)
{
	ListCell   *lc;

	foreach(lc, stmts)
		if (bb_stmt_is_nontransactional((const char *) lfirst(lc)))
			return true;
	return false;
}
