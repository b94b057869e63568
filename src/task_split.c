/* task_split.c — statement splitting for execution and the non-transactional keyword scan */
#include "postgres.h"

#include <ctype.h>

#include "review/review.h"
#include "task_split.h"

/* The review splitter's dialect for an engine name of bb.instance. */
static bb_dialect
engine_dialect(const char *engine)
{
	if (engine == NULL)
		return BB_DIALECT_POSTGRES;
	if (strcmp(engine, "mysql") == 0)
		return BB_DIALECT_MYSQL;
	if (strcmp(engine, "tidb") == 0)
		return BB_DIALECT_TIDB;
	if (strcmp(engine, "clickhouse") == 0)
		return BB_DIALECT_CLICKHOUSE;
	if (strcmp(engine, "snowflake") == 0)
		return BB_DIALECT_SNOWFLAKE;
	return BB_DIALECT_POSTGRES;
}

/* One splitter for review and execution; a broken quote still yields its statement (the
 * target reports the syntax error with its own message). */
List *
bb_task_split(const char *script, const char *engine)
{
	bb_stmt_span *spans = NULL;
	List	   *out = NIL;
	int			n = bb_split(engine_dialect(engine), script, strlen(script), &spans);

	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting a script")));
	for (int i = 0; i < n; i++)
		out = lappend(out, pnstrdup(script + spans[i].start, spans[i].end - spans[i].start));
	free(spans);
	return out;
}

/* Upper-cased leading words of a statement (comments skipped), at most max of them. */
static int
leading_words(const char *s, char words[][24], int max)
{
	int			n = 0;

	while (*s && n < max)
	{
		if (isspace((unsigned char) *s) || *s == '(' || *s == ',')
			s++;
		else if (s[0] == '-' && s[1] == '-')
			while (*s && *s != '\n')
				s++;
		else if (s[0] == '/' && s[1] == '*')
		{
			const char *e = strstr(s + 2, "*/");

			s = e ? e + 2 : s + strlen(s);
		}
		else
		{
			int			len = 0;

			while (*s && !isspace((unsigned char) *s) && *s != '(' && *s != ',' && *s != ';')
			{
				if (len < 23)
					words[n][len++] = toupper((unsigned char) *s);
				s++;
			}
			words[n][len] = '\0';
			n++;
		}
	}
	return n;
}

/* A keyword scan is enough: the forms that refuse a transaction block start recognisably. */
bool
bb_stmt_is_nontransactional(const char *stmt)
{
	char		w[8][24];
	int			n = leading_words(stmt, w, 8);

	if (n == 0)
		return false;
	/* the script's own transaction control would break the change + history atomicity */
	if (strcmp(w[0], "BEGIN") == 0 || strcmp(w[0], "START") == 0 || strcmp(w[0], "COMMIT") == 0 ||
		strcmp(w[0], "END") == 0 || strcmp(w[0], "ROLLBACK") == 0 || strcmp(w[0], "ABORT") == 0)
		return true;
	if (strcmp(w[0], "VACUUM") == 0 || (strcmp(w[0], "CLUSTER") == 0 && n == 1))
		return true;
	if (n >= 2 && strcmp(w[0], "ALTER") == 0 && strcmp(w[1], "SYSTEM") == 0)
		return true;
	if (n >= 2 && (strcmp(w[0], "CREATE") == 0 || strcmp(w[0], "DROP") == 0) &&
		(strcmp(w[1], "DATABASE") == 0 || strcmp(w[1], "TABLESPACE") == 0 ||
		 strcmp(w[1], "SUBSCRIPTION") == 0))
		return true;
	if (n >= 2 && strcmp(w[0], "REINDEX") == 0 &&
		(strcmp(w[1], "SYSTEM") == 0 || strcmp(w[1], "DATABASE") == 0))
		return true;
	/* CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY */
	if (strcmp(w[0], "CREATE") == 0 || strcmp(w[0], "DROP") == 0 || strcmp(w[0], "REINDEX") == 0)
	{
		for (int i = 1; i < n; i++)
			if (strcmp(w[i], "CONCURRENTLY") == 0)
				return true;
	}
	return false;
}

/* One non-transactional statement makes the whole script run statement by statement. */
bool
bb_script_is_nontransactional(const char *script)
{
	List	   *stmts = bb_task_split(script, "postgres");
	ListCell   *lc;
	bool		res = false;

	foreach(lc, stmts)
		if (bb_stmt_is_nontransactional((const char *) lfirst(lc)))
			res = true;
	list_free_deep(stmts);
	return res;
}
