/*
 * clickhouse_rules.c — ClickHouse review on tokens: the statement splitter,
 * the shared tokenizer and rules on what tokens show (table engines and
 * keys, mutations, OPTIMIZE FINAL, naming, query shapes).  ClickHouse has no
 * rules in Bytebase; these follow its operational advice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checker.h"

#define CH_BIT BB_ENGINE_BIT(BB_DIALECT_CLICKHOUSE)
#define OFF BB_LEVEL_OFF
#define WARN BB_LEVEL_WARNING
#define ERR BB_LEVEL_ERROR
#define NONE_PL {0}
#define NAMING(fmt, len) {(fmt), (len), 0, 0, 0, 0}
#define LIST(arr) {0, 0, 0, (arr), (int) (sizeof(arr) / sizeof((arr)[0])), 0}

static const char *const ch_engines[] = {
	"MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree",
	"CollapsingMergeTree", "VersionedCollapsingMergeTree", "GraphiteMergeTree",
	"ReplicatedMergeTree", "ReplicatedReplacingMergeTree", "ReplicatedSummingMergeTree",
	"ReplicatedAggregatingMergeTree", "ReplicatedCollapsingMergeTree",
	"ReplicatedVersionedCollapsingMergeTree", "ReplicatedGraphiteMergeTree",
	"Distributed", "Dictionary", "View", "MaterializedView"
};

const bb_rule_def bb_rules_clickhouse[] = {
	{"clickhouse.mutation.require-where", CH_BIT, "statement",
		"ALTER TABLE ... DELETE/UPDATE (a mutation) has a WHERE that is not trivially true (WHERE 1 rewrites every part).",
	ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.disallow-mutation", CH_BIT, "statement",
		"No ALTER TABLE ... DELETE/UPDATE: mutations rewrite whole data parts asynchronously.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.table.require-engine", CH_BIT, "table",
		"CREATE TABLE names its ENGINE (unless it copies another table with AS db.table).",
	ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.mergetree.require-order-by", CH_BIT, "table",
		"A *MergeTree table declared with the new syntax has ORDER BY (its sorting/primary key).",
	ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.table.require-partition-key", CH_BIT, "table",
		"A *MergeTree table declared with the new syntax has PARTITION BY.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.table.engine-allowlist", CH_BIT, "table",
		"Table engines are in the list (keeps Log/Memory/... out of shared environments).",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(ch_engines)},
	{"clickhouse.column.disallow-nullable", CH_BIT, "column",
		"No Nullable(...) columns (an extra bitmap per column; use defaults).",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.disallow-optimize-final", CH_BIT, "statement",
		"No OPTIMIZE TABLE ... FINAL (rewrites every part of the table or partition).",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.select.disallow-final", CH_BIT, "statement",
		"No SELECT ... FROM t FINAL (merges at query time, slow on big tables).",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"clickhouse.disallow-drop-partition", CH_BIT, "statement",
		"No ALTER TABLE ... DROP/DETACH PARTITION in a change script.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.select.no-select-all", CH_BIT, "statement",
		"No SELECT *: columnar storage reads every column.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.require-select", CH_BIT, "statement",
		"A SELECT that reads a table has a WHERE or PREWHERE clause.",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.no-leading-wildcard-like", CH_BIT, "statement",
		"No LIKE/ILIKE '%...' (cannot use the primary key or skip indexes).",
	OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.insert.must-specify-column", CH_BIT, "statement",
		"INSERT lists its target columns.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-truncate", CH_BIT, "statement",
		"No TRUNCATE TABLE.",
	WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"naming.table", CH_BIT, "naming",
		"Table names (CREATE, RENAME) match the format and length.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z][a-z0-9]*(_[a-z0-9]+)*$", 64)},
	{"naming.column", CH_BIT, "naming",
		"Column names (CREATE TABLE, ADD COLUMN) match the format and length.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z][a-z0-9]*(_[a-z0-9]+)*$", 64)},
	{"table.drop-naming-convention", CH_BIT, "table",
		"Only tables whose name matches the format (e.g. _del$) may be dropped.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("_del$", 0)},
	{0}
};

typedef struct chk
{
	bb_review_ctx *ctx;
	bb_arena   *a;
	const bb_token *t;
	int			n;
} chk;

/* Payload of an enabled ClickHouse rule. */
static const bb_payload *
on(chk *c, const char *id)
{
	return bb_rule_on(c->ctx, bb_rules_clickhouse, BB_DIALECT_CLICKHOUSE, id);
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

/* Emits at token i (clamped to the statement). */
static void
emit_at(chk *c, const char *rule, int i, const char *fmt, const char *arg)
{
	const bb_token *t;

	if (c->n == 0)
		return;
	t = &c->t[i < c->n ? (i < 0 ? 0 : i) : c->n - 1];
	c->ctx->emit(c->ctx, rule, t->line, t->column, fmt, arg ? arg : "");
}

/* Naming rule on the name at token i. */
static void
check_name(chk *c, const char *rule, const char *what, int i)
{
	const bb_payload *pl = on(c, rule);
	char	   *name;
	char	   *pattern = NULL;
	int			rc;

	if (pl == NULL || i < 0 || i >= c->n)
		return;
	name = bb_tok_text(c->a, &c->t[i], 0);
	if (name == NULL)
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

/* Nullable(...) anywhere in tokens [i, end). */
static void
check_nullable(chk *c, int col, int i, int end)
{
	for (; i < end; i++)
		if (bb_tok_kw(&c->t[i], "Nullable") && op(c, i + 1, "("))
		{
			if (on(c, "clickhouse.column.disallow-nullable"))
			{
				char	   *name = bb_tok_text(c->a, &c->t[col], 0);

				emit_at(c, "clickhouse.column.disallow-nullable", col, "column \"%s\" is Nullable", name);
			}
			return;
		}
}

/* Index after the end of one comma-separated element at depth 0. */
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

/* Old MergeTree syntax keeps the keys in the engine's arguments:
 * MergeTree(date, (key), 8192), ReplicatedMergeTree('path', 'replica',
 * date, (key), 8192); the new syntax has at most the engine's own
 * parameters (sign, version, ...), never three after the replication pair. */
static int
old_syntax_args(chk *c, int engine)
{
	int			i = engine + 2,
				close,
				nargs = 1;

	if (!op(c, engine + 1, "(") || op(c, engine + 2, ")"))
		return 0;
	close = bb_tok_skip_parens(c->t, c->n, engine + 1) - 1;
	for (; i < close; i++)
	{
		if (op(c, i, "("))
			i = bb_tok_skip_parens(c->t, close, i) - 1;
		else if (op(c, i, ","))
			nargs++;
	}
	if (strncasecmp(c->t[engine].p, "Replicated", 10) == 0 && c->t[engine].len > 10 &&
		c->t[engine + 2].kind == BB_TOK_STRING)
		nargs -= 2;
	return nargs >= 3;
}

/* CREATE [TEMPORARY] TABLE ... (i after TABLE). */
static void
check_create_table(chk *c, int i)
{
	int			last,
				engine = -1,
				engine_args = 0,
				order_by = 0,
				partition_by = 0,
				copies = 0,
				end = c->n;

	if (kw(c, i, "IF") && kw(c, i + 1, "NOT") && kw(c, i + 2, "EXISTS"))
		i += 3;
	i = bb_tok_qualified_name(c->t, c->n, i, &last);
	if (last < 0)
		return;
	check_name(c, "naming.table", "table", last);
	if (kw(c, i, "ON") && kw(c, i + 1, "CLUSTER"))
		i += 3;
	if (op(c, i, "("))
	{
		int			close = bb_tok_skip_parens(c->t, c->n, i);
		int			j = i + 1;

		while (j < close - 1 && !bb_review_interrupted(c->ctx))
		{
			int			e = element_end(c, j, close - 1);

			if (!kw(c, j, "INDEX") && !kw(c, j, "CONSTRAINT") && !kw(c, j, "PROJECTION") &&
				bb_tok_is_name(&c->t[j]))
			{
				check_name(c, "naming.column", "column", j);
				check_nullable(c, j, j + 1, e);
			}
			j = e + 1;
		}
		i = close;
	}
	else if (kw(c, i, "AS") && bb_tok_is_name(&c->t[i + 1 < c->n ? i + 1 : i]) && !kw(c, i + 1, "SELECT") &&
			 !kw(c, i + 1, "WITH"))
		copies = 1;
	for (; i < end; i++)
	{
		if (op(c, i, "("))
		{
			i = bb_tok_skip_parens(c->t, c->n, i) - 1;
			continue;
		}
		if (kw(c, i, "ENGINE") && engine < 0)
		{
			engine = op(c, i + 1, "=") ? i + 2 : i + 1;
			if (engine >= c->n)
				engine = c->n - 1;
			engine_args = old_syntax_args(c, engine);
		}
		else if (kw(c, i, "ORDER") && kw(c, i + 1, "BY"))
			order_by = 1;
		else if (kw(c, i, "PARTITION") && kw(c, i + 1, "BY"))
			partition_by = 1;
		else if (kw(c, i, "AS") && (kw(c, i + 1, "SELECT") || kw(c, i + 1, "WITH")))
			break;
	}
	if (engine < 0)
	{
		if (!copies && on(c, "clickhouse.table.require-engine"))
			emit_at(c, "clickhouse.table.require-engine", last, "table \"%s\" has no ENGINE",
					bb_tok_text(c->a, &c->t[last], 0));
		return;
	}
	{
		char	   *ename = bb_tok_text(c->a, &c->t[engine], 0);
		char	   *tname = bb_tok_text(c->a, &c->t[last], 0);
		const bb_payload *pl;
		size_t		el = ename ? strlen(ename) : 0;
		int			mergetree = el >= 9 && strcasecmp(ename + el - 9, "MergeTree") == 0;

		if (ename == NULL || tname == NULL)
			return;
		if ((pl = on(c, "clickhouse.table.engine-allowlist")) && !bb_payload_has(pl, ename))
			emit_at(c, "clickhouse.table.engine-allowlist", engine, "engine %s is not in the allow list", ename);
		/* MergeTree(date, (key), 8192) is the old syntax: keys are arguments */
		if (mergetree && !engine_args)
		{
			if (!order_by && on(c, "clickhouse.mergetree.require-order-by"))
				emit_at(c, "clickhouse.mergetree.require-order-by", engine, "%s table without ORDER BY", ename);
			if (!partition_by && on(c, "clickhouse.table.require-partition-key"))
				emit_at(c, "clickhouse.table.require-partition-key", engine, "%s table without PARTITION BY", ename);
		}
		(void) tname;
	}
}

/* End of a mutation's WHERE expression: a depth-0 comma followed by an
 * ALTER action keyword, or the end of the statement. */
static int
action_boundary(chk *c, int i)
{
	static const char *const actions[] = {
		"ADD", "DROP", "MODIFY", "CLEAR", "COMMENT", "RENAME", "DELETE", "UPDATE", "DETACH",
		"ATTACH", "FREEZE", "FETCH", "MOVE", "REPLACE", "MATERIALIZE", NULL
	};
	int			k;

	if (!op(c, i, ","))
		return 0;
	for (k = 0; actions[k]; k++)
		if (kw(c, i + 1, actions[k]))
			return 1;
	return 0;
}

/* Is WHERE at w followed by only 1 / true / 1 = 1 up to the action's end? */
static int
trivially_true(chk *c, int w, int end)
{
	int			n = end - (w + 1);
	const bb_token *t = &c->t[w + 1];

	if (n == 1)
		return (t[0].kind == BB_TOK_NUMBER && t[0].len == 1 && t[0].p[0] == '1') || bb_tok_kw(&t[0], "true");
	if (n == 3 && t[0].kind == BB_TOK_NUMBER && t[2].kind == BB_TOK_NUMBER &&
		(bb_tok_op(&t[1], "=") || bb_tok_op(&t[1], "==")))
		return t[0].len == t[2].len && memcmp(t[0].p, t[2].p, t[0].len) == 0;
	return 0;
}

/* ALTER TABLE t [ON CLUSTER c] action, action ... (i after TABLE). */
static void
check_alter_table(chk *c, int i)
{
	int			last;

	i = bb_tok_qualified_name(c->t, c->n, i, &last);
	if (last < 0)
		return;
	if (kw(c, i, "ON") && kw(c, i + 1, "CLUSTER"))
		i += 3;
	while (i < c->n && !bb_review_interrupted(c->ctx))
	{
		int			start = i;
		int			end;

		if (kw(c, i, "DELETE") || kw(c, i, "UPDATE"))
		{
			int			w = -1;

			for (end = i + 1; end < c->n; end++)
			{
				if (op(c, end, "("))
				{
					end = bb_tok_skip_parens(c->t, c->n, end) - 1;
					continue;
				}
				if (w < 0 && kw(c, end, "WHERE"))
					w = end;
				else if (w >= 0 && action_boundary(c, end))
					break;
			}
			if (on(c, "clickhouse.disallow-mutation"))
				emit_at(c, "clickhouse.disallow-mutation", start, "ALTER TABLE ... %s is a mutation",
						kw(c, start, "DELETE") ? "DELETE" : "UPDATE");
			if (on(c, "clickhouse.mutation.require-where"))
			{
				if (w < 0)
					emit_at(c, "clickhouse.mutation.require-where", start, "ALTER TABLE ... %s without WHERE",
							kw(c, start, "DELETE") ? "DELETE" : "UPDATE");
				else if (trivially_true(c, w, end))
					emit_at(c, "clickhouse.mutation.require-where", w,
							"mutation WHERE is always true: it rewrites every row%s", NULL);
			}
		}
		else
		{
			end = element_end(c, i, c->n);
			if (kw(c, i, "ADD") && kw(c, i + 1, "COLUMN"))
			{
				int			j = i + 2;

				if (kw(c, j, "IF") && kw(c, j + 1, "NOT") && kw(c, j + 2, "EXISTS"))
					j += 3;
				if (j < end && bb_tok_is_name(&c->t[j]))
				{
					check_name(c, "naming.column", "column", j);
					check_nullable(c, j, j + 1, end);
				}
			}
			else if (kw(c, i, "MODIFY") && kw(c, i + 1, "COLUMN"))
			{
				int			j = i + 2;

				if (kw(c, j, "IF") && kw(c, j + 1, "EXISTS"))
					j += 2;
				if (j < end && bb_tok_is_name(&c->t[j]))
					check_nullable(c, j, j + 1, end);
			}
			else if ((kw(c, i, "DROP") || kw(c, i, "DETACH")) && kw(c, i + 1, "PARTITION") &&
					 on(c, "clickhouse.disallow-drop-partition"))
				emit_at(c, "clickhouse.disallow-drop-partition", i, "ALTER TABLE ... %s PARTITION",
						kw(c, i, "DROP") ? "DROP" : "DETACH");
		}
		i = end + 1;
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
						 "SELECT * reads every column; list the columns");
		if (is_select && b->has_from && !b->has_where && on(c, "statement.where.require-select"))
			c->ctx->emit(c->ctx, "statement.where.require-select", b->line, b->column,
						 "SELECT without WHERE reads every row");
		if (b->final && on(c, "clickhouse.select.disallow-final"))
			c->ctx->emit(c->ctx, "clickhouse.select.disallow-final", b->final_line, b->final_column,
						 "SELECT ... FINAL merges parts at query time");
	}
	for (l = likes; l; l = l->next)
		if (on(c, "statement.where.no-leading-wildcard-like"))
			c->ctx->emit(c->ctx, "statement.where.no-leading-wildcard-like", l->line, l->column,
						 "LIKE '%s' starts with a wildcard", l->pattern ? l->pattern : "");
}

/* One statement's tokens (bb_token_stmt_fn). */
static void
check_statement(bb_review_ctx *ctx, void *arg, bb_arena *a, const bb_token *t, int n)
{
	chk			cc = {ctx, a, t, n};
	chk		   *c = &cc;
	int			i = 0,
				last;

	if (kw(c, 0, "CREATE"))
	{
		i = 1;
		if (kw(c, i, "OR") && kw(c, i + 1, "REPLACE"))
			i += 2;
		if (kw(c, i, "TEMPORARY"))
			i++;
		if (kw(c, i, "TABLE"))
			check_create_table(c, i + 1);
		check_queries(c, 0);
	}
	else if (kw(c, 0, "ATTACH") && kw(c, 1, "TABLE"))
		return;
	else if (kw(c, 0, "ALTER") && kw(c, 1, "TABLE"))
	{
		check_alter_table(c, 2);
		check_queries(c, 0);
	}
	else if (kw(c, 0, "DROP") && (kw(c, 1, "TABLE") || (kw(c, 1, "TEMPORARY") && kw(c, 2, "TABLE"))))
	{
		const bb_payload *pl;

		i = kw(c, 1, "TABLE") ? 2 : 3;
		if (kw(c, i, "IF") && kw(c, i + 1, "EXISTS"))
			i += 2;
		bb_tok_qualified_name(c->t, c->n, i, &last);
		if (last >= 0 && (pl = on(c, "table.drop-naming-convention")))
		{
			char	   *name = bb_tok_text(c->a, &c->t[last], 0);

			if (name && bb_review_naming(c->ctx, "table.drop-naming-convention", pl, name, NULL,
										 c->t[last].line, c->t[last].column, NULL) > 0)
				c->ctx->emit(c->ctx, "table.drop-naming-convention", c->t[last].line, c->t[last].column,
							 "dropped table \"%s\" does not match %s; rename it first", name,
							 pl->format ? pl->format : "");
		}
	}
	else if (kw(c, 0, "RENAME") && kw(c, 1, "TABLE"))
	{
		for (i = 2; i < c->n && !bb_review_interrupted(c->ctx); i++)
			if (kw(c, i, "TO"))
			{
				bb_tok_qualified_name(c->t, c->n, i + 1, &last);
				if (last >= 0)
					check_name(c, "naming.table", "table", last);
			}
	}
	else if (kw(c, 0, "TRUNCATE"))
	{
		if (on(c, "statement.disallow-truncate"))
			emit_at(c, "statement.disallow-truncate", 0, "TRUNCATE TABLE%s", NULL);
	}
	else if (kw(c, 0, "OPTIMIZE"))
	{
		for (i = 1; i < c->n; i++)
			if (kw(c, i, "FINAL") && on(c, "clickhouse.disallow-optimize-final"))
				emit_at(c, "clickhouse.disallow-optimize-final", i, "OPTIMIZE ... FINAL rewrites every part%s", NULL);
	}
	else if (kw(c, 0, "INSERT"))
	{
		i = 1;
		if (kw(c, i, "INTO"))
			i++;
		if (kw(c, i, "TABLE") && kw(c, i + 1, "FUNCTION"))
			return;
		if (kw(c, i, "TABLE"))
			i++;
		i = bb_tok_qualified_name(c->t, c->n, i, &last);
		if (last >= 0 && !op(c, i, "(") && on(c, "statement.insert.must-specify-column"))
			emit_at(c, "statement.insert.must-specify-column", 0, "INSERT INTO \"%s\" does not list its columns",
					bb_tok_text(c->a, &c->t[last], 0));
		check_queries(c, 0);
	}
	else if (kw(c, 0, "SELECT") || kw(c, 0, "WITH") || op(c, 0, "("))
		check_queries(c, 1);
}

/* Checks one ClickHouse script (see review.h): the shared statement loop. */
void
bb_review_clickhouse(bb_review_ctx *ctx, const char *script, size_t len)
{
	bb_review_token_script(ctx, BB_DIALECT_CLICKHOUSE, script, len, check_statement, NULL);
}
