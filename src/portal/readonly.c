/*
 * readonly.c — the parse checks of the governed query: only reading statements reach a
 * target.  They are the first of two locks; the second is the engine's own read-only mode
 * (a READ ONLY transaction, MySQL START TRANSACTION READ ONLY, ClickHouse readonly=1),
 * which stops what a parse check cannot see (a volatile function that writes).
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/guc.h"

#include "portal.h"
#include "review/review.h"
#include "review/lex.h"

/* Functions refused whatever the transaction mode: they change the session or the server,
 * lock, read files, or run SQL text the check never sees (query_to_xml('...')). */
static const char *const refused_functions[] = {
	"set_config", "pg_advisory*", "pg_try_advisory*", "dblink*", "pg_terminate_backend",
	"pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_read_file", "pg_read_binary_file",
	"pg_ls_*", "pg_stat_file", "lo_*", "query_to_xml*", "query_to_xmlschema", "cursor_to_xml*",
	"table_to_xml*", "schema_to_xml*", "database_to_xml*", "ts_stat", "pg_notify", "pg_logical_*",
	"pg_replication_*", "pg_create_*", "pg_drop_replication_slot", "pg_switch_wal", "pg_promote",
	"pg_import_system_collations", "pg_file_*", "pg_catalog.set_config", NULL
};

/* True when name matches one of the patterns (a trailing * matches any rest). */
static bool
name_refused(const char *name)
{
	for (int i = 0; refused_functions[i]; i++)
	{
		const char *p = refused_functions[i];
		size_t		n = strlen(p);

		if (p[n - 1] == '*' ? pg_strncasecmp(name, p, n - 1) == 0 : pg_strcasecmp(name, p) == 0)
			return true;
	}
	return false;
}

static void
refuse_write(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			 errmsg("bb.query runs reading statements only: %s is refused", what),
			 errhint("Only one reading statement runs here (SELECT and the like, see the README); changes go through bb.apply.")));
}

/* Walks a reading statement and refuses anything that writes, locks or escapes the check. */
static bool
readonly_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			refuse_write("a data-modifying statement inside the query (e.g. in WITH)");
			break;
		case T_SelectStmt:
			{
				SelectStmt *s = (SelectStmt *) node;

				if (s->intoClause)
					refuse_write("SELECT INTO");
				if (s->lockingClause)
					refuse_write("SELECT ... FOR UPDATE/SHARE (a locking read)");
				return readonly_walker((Node *) s->withClause, context) ||
					raw_expression_tree_walker((Node *) s->distinctClause, readonly_walker, context) ||
					raw_expression_tree_walker((Node *) s->targetList, readonly_walker, context) ||
					raw_expression_tree_walker((Node *) s->fromClause, readonly_walker, context) ||
					readonly_walker(s->whereClause, context) ||
					raw_expression_tree_walker((Node *) s->groupClause, readonly_walker, context) ||
					readonly_walker(s->havingClause, context) ||
					raw_expression_tree_walker((Node *) s->windowClause, readonly_walker, context) ||
					raw_expression_tree_walker((Node *) s->valuesLists, readonly_walker, context) ||
					raw_expression_tree_walker((Node *) s->sortClause, readonly_walker, context) ||
					readonly_walker(s->limitOffset, context) ||
					readonly_walker(s->limitCount, context) ||
					readonly_walker((Node *) s->larg, context) ||
					readonly_walker((Node *) s->rarg, context);
			}
		case T_FuncCall:
			{
				FuncCall   *f = (FuncCall *) node;
				const char *name = strVal(llast(f->funcname));

				if (name_refused(name))
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("bb.query refuses the function %s()", name),
							 errdetail("It changes the session or the server, takes locks, reads server files or runs SQL text the check cannot see.")));
				break;
			}
		default:
			break;
	}
	return raw_expression_tree_walker(node, readonly_walker, context);
}

/* raw_parser pinned to the lexing rules of the targets' sessions (the drivers pin
 * standard_conforming_strings=on), whatever the caller's session says. */
List *
bb_portal_raw_parse(const char *sql)
{
	int			nest = NewGUCNestLevel();
	List	   *trees;

	(void) set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("backslash_quote", "safe_encoding", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	trees = raw_parser(sql, RAW_PARSE_DEFAULT);
	AtEOXact_GUC(true, nest);
	return trees;
}

/* PostgreSQL: exactly one SELECT/WITH/TABLE/VALUES, EXPLAIN (of a reading statement when
 * it executes: ANALYZE) or SHOW.  Returns true for a SELECT. */
bool
bb_portal_check_pg(const char *sql)
{
	List	   *trees = bb_portal_raw_parse(sql);
	Node	   *stmt;

	if (list_length(trees) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg(trees == NIL ? "bb.query needs a statement" : "bb.query runs exactly one statement, not %d",
						list_length(trees)),
				 errhint("Send the statements one at a time.")));
	stmt = linitial_node(RawStmt, trees)->stmt;
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
			readonly_walker(stmt, NULL);
			return true;
		case T_VariableShowStmt:
			return false;
		case T_ExplainStmt:
			{
				ExplainStmt *e = (ExplainStmt *) stmt;

				/* only plans of reading statements: EXPLAIN ANALYZE executes what it explains */
				if (!IsA(e->query, SelectStmt))
					refuse_write(psprintf("EXPLAIN of %s", GetCommandTagName(CreateCommandTag(e->query))));
				readonly_walker(e->query, NULL);
				return false;
			}
		default:
			refuse_write(GetCommandTagName(CreateCommandTag(stmt)));
	}
	return false;
}

/* MySQL/TiDB words that write, lock, read server files or wait, refused anywhere in the
 * statement (as unquoted words: a `quoted` identifier may be called anything). */
static const char *const mysql_refused_words[] = {
	"INSERT", "UPDATE", "DELETE", "REPLACE", "INTO", "OUTFILE", "DUMPFILE", "LOCK", "SHARE",
	"LOAD_FILE", "SLEEP", "BENCHMARK", "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS",
	"MASTER_POS_WAIT", "MASTER_GTID_WAIT", "CALL", "HANDLER", "SET", NULL
};

/* MySQL/TiDB: one statement starting with SELECT, WITH, SHOW, EXPLAIN or DESCRIBE, no
 * executable comment (its text would run unchecked), none of the refused words. */
void
bb_portal_check_mysql(const char *sql)
{
	size_t		len = strlen(sql);
	bb_stmt_span *spans = NULL;
	int			n = bb_split(BB_DIALECT_MYSQL, sql, len, &spans);
	bool		bad = n != 1 || spans[0].error != BB_SPLIT_OK;
	bb_lexer	lx;
	bb_lex_token t;
	bool		first = true;

	free(spans);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg(n == 1 ? "bb.query cannot tell where the statement ends (an unterminated quote or comment, or text servers read differently)"
						: "bb.query runs exactly one statement, not %d", n),
				 errhint("Send one complete statement.")));
	bb_lex_init(&lx, BB_DIALECT_MYSQL, sql, len);
	for (bb_lex_next(&lx, &t); t.kind != BB_LEX_EOF; bb_lex_next(&lx, &t))
	{
		if (t.kind == BB_LEX_EXEC_OPEN || t.error != BB_SPLIT_OK)
			refuse_write("an executable comment (/*! ... */)");
		if (t.kind != BB_LEX_WORD)
			continue;
		if (first && !(bb_lex_word_is(sql, &t, "SELECT") || bb_lex_word_is(sql, &t, "WITH") ||
					   bb_lex_word_is(sql, &t, "SHOW") || bb_lex_word_is(sql, &t, "EXPLAIN") ||
					   bb_lex_word_is(sql, &t, "DESCRIBE") || bb_lex_word_is(sql, &t, "DESC")))
			refuse_write(psprintf("a statement starting with %s", pnstrdup(sql + t.start, Min(t.end - t.start, 30))));
		first = false;
		for (int i = 0; mysql_refused_words[i]; i++)
			if (bb_lex_word_is(sql, &t, mysql_refused_words[i]))
				refuse_write(psprintf("%s", mysql_refused_words[i]));
	}
	if (first)
		refuse_write("a statement without a command");
}

/* ClickHouse words that write, export, change settings or reach other servers, refused
 * anywhere in the statement (as unquoted words). */
static const char *const ch_refused_words[] = {
	"INSERT", "INTO", "OUTFILE", "SETTINGS", "FORMAT", "ALTER", "DROP", "TRUNCATE", "KILL",
	"SYSTEM", "OPTIMIZE", "ATTACH", "DETACH", "RENAME", "url", "remote", "remoteSecure",
	"mysql", "postgresql", "jdbc", "odbc", "hdfs", "s3", "file", "input", NULL
};

/* ClickHouse: one statement starting with SELECT, WITH, SHOW, DESCRIBE, DESC, EXPLAIN or
 * EXISTS, none of the refused words; the request itself runs with readonly=2. */
void
bb_portal_check_clickhouse(const char *sql)
{
	size_t		len = strlen(sql);
	bb_stmt_span *spans = NULL;
	int			n = bb_split(BB_DIALECT_CLICKHOUSE, sql, len, &spans);
	bool		bad = n != 1 || spans[0].error != BB_SPLIT_OK;
	bb_lexer	lx;
	bb_lex_token t;
	bool		first = true;

	free(spans);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg(n == 1 ? "bb.query cannot tell where the statement ends (an unterminated quote or comment)"
						: "bb.query runs exactly one statement, not %d", n),
				 errhint("Send one complete statement.")));
	bb_lex_init(&lx, BB_DIALECT_CLICKHOUSE, sql, len);
	for (bb_lex_next(&lx, &t); t.kind != BB_LEX_EOF; bb_lex_next(&lx, &t))
	{
		if (t.kind != BB_LEX_WORD)
			continue;
		if (first && !(bb_lex_word_is(sql, &t, "SELECT") || bb_lex_word_is(sql, &t, "WITH") ||
					   bb_lex_word_is(sql, &t, "SHOW") || bb_lex_word_is(sql, &t, "EXPLAIN") ||
					   bb_lex_word_is(sql, &t, "DESCRIBE") || bb_lex_word_is(sql, &t, "DESC") ||
					   bb_lex_word_is(sql, &t, "EXISTS")))
			refuse_write(psprintf("a statement starting with %s", pnstrdup(sql + t.start, Min(t.end - t.start, 30))));
		first = false;
		for (int i = 0; ch_refused_words[i]; i++)
			if (t.end - t.start == strlen(ch_refused_words[i]) &&
				pg_strncasecmp(sql + t.start, ch_refused_words[i], t.end - t.start) == 0)
				refuse_write(psprintf("%s", ch_refused_words[i]));
	}
	if (first)
		refuse_write("a statement without a command");
}
