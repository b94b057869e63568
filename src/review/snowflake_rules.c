/*
 * snowflake_rules.c — Snowflake review on tokens: the statement splitter
 * ($$ bodies, // comments), the shared tokenizer, and rules on table DDL,
 * identifiers (unquoted names fold to upper case) and query shapes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checker.h"

#define SF_BIT BB_ENGINE_BIT(BB_DIALECT_SNOWFLAKE)
#define OFF BB_LEVEL_OFF
#define WARN BB_LEVEL_WARNING
#define ERR BB_LEVEL_ERROR
#define NONE_PL {0}
#define NAMING(fmt, len) {(fmt), (len), 0, 0, 0, 0}
#define NUMBER(n) {0, 0, (n), 0, 0, 0}

const bb_rule_def bb_rules_snowflake[] = {
	{"naming.table", SF_BIT, "naming",
		"Table names match the format and length; unquoted names are matched upper-cased, as Snowflake stores them.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", 255)},
	{"naming.column", SF_BIT, "naming",
		"Column names match the format and length; unquoted names are matched upper-cased.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", 255)},
	{"snowflake.identifier.quoted-case", SF_BIT, "naming",
		"No quoted identifier with lower-case letters in DDL (\"myTable\" is case-sensitive and must be quoted forever).",
	WARN, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"table.require-pk", SF_BIT, "table",
		"A new table declares a PRIMARY KEY (not enforced by Snowflake, but documents the key for tools and people).",
	WARN, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"snowflake.disallow-create-or-replace-table", SF_BIT, "table",
		"No CREATE OR REPLACE TABLE: it drops the existing table and its data.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"snowflake.table.disallow-transient", SF_BIT, "table",
		"No TRANSIENT tables in this environment (no Fail-safe period).",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"table.comment", SF_BIT, "table",
		"A new table has COMMENT = '...' of at most {number} characters.",
	OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(256)},
	{"table.drop-naming-convention", SF_BIT, "table",
		"Only tables whose (upper-cased) name matches the format may be dropped.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("_DEL$", 0)},
	{"column.no-null", SF_BIT, "column",
		"Columns of a new table are NOT NULL.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.select.no-select-all", SF_BIT, "statement",
		"No SELECT *: list the columns.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.require-update-delete", SF_BIT, "statement",
		"UPDATE and DELETE have a WHERE clause.",
	ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.require-select", SF_BIT, "statement",
		"A SELECT that reads a table has a WHERE clause.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.no-leading-wildcard-like", SF_BIT, "statement",
		"No LIKE/ILIKE '%...' (prevents partition pruning).",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.insert.must-specify-column", SF_BIT, "statement",
		"INSERT INTO lists its target columns.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-truncate", SF_BIT, "statement",
		"No TRUNCATE TABLE.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-commit", SF_BIT, "statement",
		"No COMMIT in a change script (the rollout manages transactions).",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{0}
};

typedef struct chk
{
	bb_review_ctx *ctx;
	bb_arena   *a;
	const bb_token *t;
	int			n;
} chk;

/* Payload of an enabled Snowflake rule. */
static const bb_payload *
on(chk *c, const char *id)
{
	return bb_rule_on(c->ctx, bb_rules_snowflake, BB_DIALECT_SNOWFLAKE, id);
}

/* Token i is this keyword (bounds-checked). */
static int
kw(chk *c, int i, const char *k)
{
	return i >= 0 && i < c->n && bb_tok_kw(&c->t[i], k);
}

/* Token i is this operator (bounds-checked). */
static int
op(chk *c, int i, const char *o)
{
	return i >= 0 && i < c->n && bb_tok_op(&c->t[i], o);
}

/* The name Snowflake stores: unquoted names upper-cased, quoted verbatim. */
static char *
sf_name(chk *c, int i)
{
	const bb_token *t = &c->t[i];

	return bb_tok_text(c->a, t, t->kind == BB_TOK_IDENT ? 'u' : 0);
}

/* Naming rule and quoted-case rule on the identifier at token i. */
static void
check_name(chk *c, const char *rule, const char *what, int i)
{
	const bb_payload *pl = on(c, rule);
	char	   *name;
	char	   *pattern = NULL;
	int			rc;

	if (i < 0 || i >= c->n)
		return;
	name = sf_name(c, i);
	if (name == NULL)
		return;
	if (c->t[i].kind == BB_TOK_QIDENT && on(c, "snowflake.identifier.quoted-case"))
	{
		const char *p;

		for (p = name; *p; p++)
			if (islower((unsigned char) *p))
			{
				c->ctx->emit(c->ctx, "snowflake.identifier.quoted-case", c->t[i].line, c->t[i].column,
							 "quoted %s \"%s\" has lower-case letters: it is case-sensitive", what, name);
				break;
			}
	}
	if (pl == NULL)
		return;
	rc = bb_review_naming(c->ctx, rule, pl, name, NULL, c->t[i].line, c->t[i].column, &pattern);
	if (rc == 1)
		c->ctx->emit(c->ctx, rule, c->t[i].line, c->t[i].column, "%s \"%s\" does not match %s",
					 what, name, pattern ? pattern : pl->format);
	else if (rc == 2)
		c->ctx->emit(c->ctx, rule, c->t[i].line, c->t[i].column, "%s \"%s\" is longer than %d bytes",
					 what, name, pl->max_length);
	free(pattern);
}

/* Index after one comma-separated element at depth 0. */
static int
element_end(chk *c, int i, int end)
{
	while (i < end && !op(c, i, ","))
	{
		if (op(c, i, "("))
			i = bb_tok_skip_parens(c->t, end, i);
		else
			i++;
	}
	return i;
}

/* CREATE ... TABLE (i after TABLE). */
static void
check_create_table(chk *c, int i)
{
	int			last,
				has_pk = 0,
				has_columns = 0;
	const bb_payload *pl;

	if (kw(c, i, "IF") && kw(c, i + 1, "NOT") && kw(c, i + 2, "EXISTS"))
		i += 3;
	i = bb_tok_qualified_name(c->t, c->n, i, &last);
	if (last < 0)
		return;
	check_name(c, "naming.table", "table", last);
	if (op(c, i, "("))
	{
		int			close = bb_tok_skip_parens(c->t, c->n, i);
		int			j = i + 1;

		while (j < close - 1 && !bb_review_interrupted(c->ctx))
		{
			int			e = element_end(c, j, close - 1);
			int			k;

			if (kw(c, j, "CONSTRAINT") || kw(c, j, "PRIMARY") || kw(c, j, "UNIQUE") || kw(c, j, "FOREIGN"))
			{
				for (k = j; k < e; k++)
					if (kw(c, k, "PRIMARY") && kw(c, k + 1, "KEY"))
						has_pk = 1;
			}
			else if (bb_tok_is_name(&c->t[j]))
			{
				int			not_null = 0,
							pk = 0;

				has_columns = 1;
				check_name(c, "naming.column", "column", j);
				for (k = j + 1; k < e; k++)
				{
					if (op(c, k, "("))
					{
						k = bb_tok_skip_parens(c->t, e, k) - 1;
						continue;
					}
					if (kw(c, k, "NOT") && kw(c, k + 1, "NULL"))
						not_null = 1;
					else if (kw(c, k, "PRIMARY") && kw(c, k + 1, "KEY"))
						pk = 1;
				}
				has_pk |= pk;
				if (!not_null && !pk && on(c, "column.no-null"))
					c->ctx->emit(c->ctx, "column.no-null", c->t[j].line, c->t[j].column,
								 "column \"%s\" can be NULL; declare it NOT NULL", sf_name(c, j));
			}
			j = e + 1;
		}
		i = close;
	}
	if (has_columns && !has_pk && on(c, "table.require-pk"))
		c->ctx->emit(c->ctx, "table.require-pk", c->t[last].line, c->t[last].column,
					 "table \"%s\" declares no primary key", sf_name(c, last));
	if ((pl = on(c, "table.comment")) && has_columns)
	{
		int			k,
					found = 0;

		for (k = i; k < c->n; k++)
			if (kw(c, k, "COMMENT"))
			{
				int			v = op(c, k + 1, "=") ? k + 2 : k + 1;
				char	   *text = (v < c->n && c->t[v].kind == BB_TOK_STRING) ? bb_tok_text(c->a, &c->t[v], 0) : NULL;

				found = 1;
				if (text && pl->number > 0 && (long) strlen(text) > pl->number)
					c->ctx->emit(c->ctx, "table.comment", c->t[last].line, c->t[last].column,
								 "COMMENT of table \"%s\" is longer than %ld characters", sf_name(c, last), pl->number);
				break;
			}
		if (!found)
			c->ctx->emit(c->ctx, "table.comment", c->t[last].line, c->t[last].column,
						 "table \"%s\" has no COMMENT", sf_name(c, last));
	}
}

/* Query-shape rules on every SELECT block of the statement. */
static void
check_queries(chk *c, int is_select)
{
	bb_query_block *blocks = NULL,
			   *b;
	bb_like    *likes = NULL,
			   *l;

	if (bb_scan_queries(c->a, c->t, c->n, 0, &blocks, &likes) < 0)
		return;
	for (b = blocks; b; b = b->next)
	{
		if (b->select_all && on(c, "statement.select.no-select-all"))
			c->ctx->emit(c->ctx, "statement.select.no-select-all", b->star_line, b->star_column,
						 "SELECT * selects every column; list the columns");
		if (is_select && b->has_from && !b->has_where && on(c, "statement.where.require-select"))
			c->ctx->emit(c->ctx, "statement.where.require-select", b->line, b->column,
						 "SELECT without WHERE reads every row");
	}
	for (l = likes; l; l = l->next)
		if (on(c, "statement.where.no-leading-wildcard-like"))
			c->ctx->emit(c->ctx, "statement.where.no-leading-wildcard-like", l->line, l->column,
						 "LIKE '%s' starts with a wildcard", l->pattern ? l->pattern : "");
}

/* WHERE at paren depth 0 anywhere in the statement. */
static int
has_top_where(chk *c)
{
	int			i;

	for (i = 0; i < c->n; i++)
	{
		if (op(c, i, "("))
			i = bb_tok_skip_parens(c->t, c->n, i) - 1;
		else if (kw(c, i, "WHERE"))
			return 1;
	}
	return 0;
}

/* One statement's tokens (bb_token_stmt_fn). */
static void
check_statement(bb_review_ctx *ctx, void *arg, bb_arena *a, const bb_token *t, int n)
{
	chk			cc = {ctx, a, t, n};
	chk		   *c = &cc;
	int			i,
				last;
	const bb_token *t0 = &c->t[0];

	if (kw(c, 0, "CREATE"))
	{
		int			replace = 0,
					transient = -1;

		i = 1;
		if (kw(c, i, "OR") && kw(c, i + 1, "REPLACE"))
		{
			replace = 1;
			i += 2;
		}
		while (kw(c, i, "LOCAL") || kw(c, i, "GLOBAL") || kw(c, i, "TEMP") || kw(c, i, "TEMPORARY") ||
			   kw(c, i, "VOLATILE") || kw(c, i, "TRANSIENT"))
		{
			if (kw(c, i, "TRANSIENT"))
				transient = i;
			i++;
		}
		if (kw(c, i, "TABLE"))
		{
			if (replace && on(c, "snowflake.disallow-create-or-replace-table"))
				c->ctx->emit(c->ctx, "snowflake.disallow-create-or-replace-table", t0->line, t0->column,
							 "CREATE OR REPLACE TABLE drops the existing table and its data");
			if (transient >= 0 && on(c, "snowflake.table.disallow-transient"))
				c->ctx->emit(c->ctx, "snowflake.table.disallow-transient", c->t[transient].line,
							 c->t[transient].column, "TRANSIENT table has no Fail-safe");
			check_create_table(c, i + 1);
		}
		check_queries(c, 0);
	}
	else if (kw(c, 0, "ALTER") && kw(c, 1, "TABLE"))
	{
		i = 2;
		if (kw(c, i, "IF") && kw(c, i + 1, "EXISTS"))
			i += 2;
		i = bb_tok_qualified_name(c->t, c->n, i, &last);
		if (kw(c, i, "ADD"))
		{
			i++;
			if (kw(c, i, "COLUMN"))
				i++;
			if (kw(c, i, "IF") && kw(c, i + 1, "NOT") && kw(c, i + 2, "EXISTS"))
				i += 3;
			if (i < c->n && bb_tok_is_name(&c->t[i]) && !kw(c, i, "CONSTRAINT") && !kw(c, i, "PRIMARY"))
				check_name(c, "naming.column", "column", i);
		}
		else if (kw(c, i, "RENAME") && kw(c, i + 1, "TO"))
		{
			bb_tok_qualified_name(c->t, c->n, i + 2, &last);
			if (last >= 0)
				check_name(c, "naming.table", "table", last);
		}
		else if (kw(c, i, "RENAME") && kw(c, i + 1, "COLUMN"))
		{
			int			k;

			for (k = i + 2; k < c->n && !bb_review_interrupted(c->ctx); k++)
				if (kw(c, k, "TO") && k + 1 < c->n && bb_tok_is_name(&c->t[k + 1]))
					check_name(c, "naming.column", "column", k + 1);
		}
	}
	else if (kw(c, 0, "DROP") && kw(c, 1, "TABLE"))
	{
		const bb_payload *pl;

		i = 2;
		if (kw(c, i, "IF") && kw(c, i + 1, "EXISTS"))
			i += 2;
		bb_tok_qualified_name(c->t, c->n, i, &last);
		if (last >= 0 && (pl = on(c, "table.drop-naming-convention")))
		{
			char	   *name = sf_name(c, last);

			if (name && bb_review_naming(c->ctx, "table.drop-naming-convention", pl, name, NULL,
										 c->t[last].line, c->t[last].column, NULL) > 0)
				c->ctx->emit(c->ctx, "table.drop-naming-convention", c->t[last].line, c->t[last].column,
							 "dropped table \"%s\" does not match %s; rename it first", name,
							 pl->format ? pl->format : "");
		}
	}
	else if (kw(c, 0, "TRUNCATE"))
	{
		if (on(c, "statement.disallow-truncate"))
			c->ctx->emit(c->ctx, "statement.disallow-truncate", t0->line, t0->column, "TRUNCATE TABLE");
	}
	else if (kw(c, 0, "COMMIT"))
	{
		if (on(c, "statement.disallow-commit"))
			c->ctx->emit(c->ctx, "statement.disallow-commit", t0->line, t0->column, "COMMIT in a change script");
	}
	else if (kw(c, 0, "UPDATE") || kw(c, 0, "DELETE"))
	{
		if (!has_top_where(c) && on(c, "statement.where.require-update-delete"))
			c->ctx->emit(c->ctx, "statement.where.require-update-delete", t0->line, t0->column,
						 "%s without WHERE changes every row", kw(c, 0, "UPDATE") ? "UPDATE" : "DELETE");
		check_queries(c, 0);
	}
	else if (kw(c, 0, "INSERT"))
	{
		i = 1;
		if (kw(c, i, "OVERWRITE"))
			i++;
		if (kw(c, i, "INTO"))
		{
			i = bb_tok_qualified_name(c->t, c->n, i + 1, &last);
			if (last >= 0 && !op(c, i, "(") && on(c, "statement.insert.must-specify-column"))
				c->ctx->emit(c->ctx, "statement.insert.must-specify-column", t0->line, t0->column,
							 "INSERT INTO \"%s\" does not list its columns", sf_name(c, last));
		}
		check_queries(c, 0);
	}
	else if (kw(c, 0, "SELECT") || kw(c, 0, "WITH") || op(c, 0, "("))
		check_queries(c, 1);
}

/* Checks one Snowflake script (see review.h): the shared statement loop. */
void
bb_review_snowflake(bb_review_ctx *ctx, const char *script, size_t len)
{
	bb_review_token_script(ctx, BB_DIALECT_SNOWFLAKE, script, len, check_statement, NULL);
}
