/*
 * mask.c — which result columns of a PostgreSQL statement come from masked columns.
 *
 * The control server cannot run parse analysis for a target's tables, so this follows
 * columns through the raw parse tree itself: relations resolve to the schema snapshot
 * (tables) or, through the lookup, to the target's catalog (views: their definition is
 * parsed and followed the same way), subqueries and CTEs to their own output, joins to
 * their merged columns.  A result column that is a plain reference keeps the masked
 * column's algorithm; any expression over a masked column is masked in full (a partial or
 * hashed piece of a value would give the value away piece by piece).  A masked column
 * anywhere else — WHERE, JOIN, GROUP BY, HAVING, ORDER BY, DISTINCT, window and aggregate
 * ordering, INTERSECT/EXCEPT/UNION — is refused: its value would be inferable from which
 * rows come back (Bytebase #14379).  Fail-closed: a relation that cannot be resolved, or a
 * column reference that resolves to nothing known, counts as masked.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "catalog/namespace.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "portal.h"

#define MAX_VIEW_DEPTH 8

typedef struct PCol
{
	char	   *name;
	BBMaskAlg	alg;
	char	   *origin;
} PCol;

typedef struct PRel
{
	char	   *refname;		/* NULL: not reachable by a qualified name */
	List	   *cols;			/* PCol * */
	bool		star;			/* part of an unqualified * */
	bool		lookup;			/* searched for unqualified column names */
	bool		opaque;			/* any column name resolves to taint (functions) */
	BBMaskAlg	taint;
	char	   *taint_origin;
} PRel;

typedef struct Scope
{
	List	   *rels;			/* PRel * */
	List	   *ctes;			/* PRel * named by the CTE */
	struct Scope *outer;
} Scope;

typedef struct MaskCtx
{
	List	   *rules;
	List	   *tables;
	BBRelLookup lookup;
	void	   *lookup_arg;
	int			depth;
} MaskCtx;

/* The taint of an expression. */
typedef struct Taint
{
	BBMaskAlg	alg;
	char	   *origin;
} Taint;

typedef struct ExprCtx
{
	MaskCtx    *mc;
	Scope	   *scope;
	List	   *outputs;		/* PCol * of the SELECT (ORDER BY / GROUP BY may name them) */
	Taint		t;
} ExprCtx;

static List *analyze_query(MaskCtx *mc, Node *stmt, Scope *outer);

static void
add_taint(Taint *t, BBMaskAlg alg, const char *origin)
{
	if (alg > t->alg)
	{
		t->alg = alg;
		t->origin = (char *) origin;
	}
}

/* Refuses a statement that uses a masked column where its value decides which rows come back. */
static void
refuse_use(const char *origin, const char *where)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("bb.query refuses to use the masked column %s in %s", origin ? origin : "(unknown)", where),
			 errdetail("Filtering, joining, grouping or sorting on a masked value would reveal it through the rows that come back."),
			 errhint("Select the masked column only in the result list, or ask an admin for a masking exemption.")));
}

static void
refuse_unresolved(const char *what, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("bb.query cannot tell which columns of %s come from masked columns", what),
			 errdetail("%s", why),
			 errhint("This database has masked columns, so statements whose result origins are unknown are refused; run bb.sync_instance if the table is new.")));
}

static PCol *
make_col(const char *name, BBMaskAlg alg, const char *origin)
{
	PCol	   *c = palloc0(sizeof(PCol));

	c->name = name ? pstrdup(name) : NULL;
	c->alg = alg;
	c->origin = (char *) origin;
	return c;
}

static PRel *
make_rel(const char *refname, List *cols)
{
	PRel	   *r = palloc0(sizeof(PRel));

	r->refname = refname ? pstrdup(refname) : NULL;
	r->cols = cols;
	r->star = true;
	r->lookup = true;
	return r;
}

/* The snapshot table's columns with their masking. */
static List *
table_cols(MaskCtx *mc, BBSnapTable *t)
{
	List	   *cols = NIL;
	ListCell   *lc,
			   *lr;

	foreach(lc, t->columns)
	{
		char	   *name = lfirst(lc);
		BBMaskAlg	alg = BB_MASK_NONE;
		char	   *origin = NULL;

		foreach(lr, mc->rules)
		{
			BBMaskRule *r = lfirst(lr);

			if (strcmp(r->schema, t->schema) == 0 && strcmp(r->table, t->name) == 0 &&
				strcmp(r->column, name) == 0)
			{
				alg = r->alg;
				origin = psprintf("%s.%s.%s", r->schema, r->table, r->column);
			}
		}
		cols = lappend(cols, make_col(name, alg, origin));
	}
	return cols;
}

static BBSnapTable *
find_table(MaskCtx *mc, const char *schema, const char *name, int *count)
{
	ListCell   *lc;
	BBSnapTable *found = NULL;

	*count = 0;
	foreach(lc, mc->tables)
	{
		BBSnapTable *t = lfirst(lc);

		if (strcmp(t->name, name) == 0 && (schema == NULL || strcmp(t->schema, schema) == 0))
		{
			found = t;
			(*count)++;
		}
	}
	return found;
}

/* True when a masked rule names a table of that name (any schema): ambiguity matters then. */
static bool
name_has_rules(MaskCtx *mc, const char *name)
{
	ListCell   *lc;

	foreach(lc, mc->rules)
		if (strcmp(((BBMaskRule *) lfirst(lc))->table, name) == 0)
			return true;
	return false;
}

/* Statistics hold sample values of every column, masked or not. */
static bool
is_statistics(const char *name)
{
	return strncmp(name, "pg_stat", 7) == 0 && (strcmp(name, "pg_statistic") == 0 ||
												 strncmp(name, "pg_statistic_ext", 16) == 0 ||
												 strcmp(name, "pg_stats") == 0 ||
												 strncmp(name, "pg_stats_ext", 12) == 0);
}

static PRel *
find_cte(Scope *scope, const char *name)
{
	for (; scope; scope = scope->outer)
	{
		ListCell   *lc;

		foreach(lc, scope->ctes)
			if (strcmp(((PRel *) lfirst(lc))->refname, name) == 0)
				return lfirst(lc);
	}
	return NULL;
}

static List *
copy_cols(List *cols)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, cols)
	{
		PCol	   *c = lfirst(lc);

		out = lappend(out, make_col(c->name, c->alg, c->origin));
	}
	return out;
}

/* Renames the first columns after an alias's column list. */
static void
apply_alias(List *cols, Alias *alias)
{
	ListCell   *lc,
			   *ln;

	if (alias == NULL)
		return;
	forboth(lc, cols, ln, alias->colnames)
		((PCol *) lfirst(lc))->name = pstrdup(strVal(lfirst(ln)));
}

/* A relation named in FROM: CTE, snapshot table, view (followed), or refused. */
static PRel *
range_var(MaskCtx *mc, RangeVar *rv, Scope *scope)
{
	const char *refname = rv->alias ? rv->alias->aliasname : rv->relname;
	char	   *what = rv->schemaname ? psprintf("%s.%s", rv->schemaname, rv->relname) : rv->relname;
	PRel	   *cte = rv->schemaname ? NULL : find_cte(scope, rv->relname);
	BBSnapTable *t;
	BBRelInfo	info = {0};
	int			count;
	PRel	   *rel;

	if (is_statistics(rv->relname))
		refuse_unresolved(what, "Statistics views hold sample values of every column.");
	if (cte)
	{
		rel = make_rel(refname, copy_cols(cte->cols));
		apply_alias(rel->cols, rv->alias);
		return rel;
	}
	if (mc->lookup)
	{
		if (!mc->lookup(mc->lookup_arg, rv->schemaname, rv->relname, &info) || info.relkind == 0)
			refuse_unresolved(what, "The target has no such relation.");
		t = find_table(mc, info.schema, rv->relname, &count);
	}
	else
	{
		t = find_table(mc, rv->schemaname, rv->relname, &count);
		if (count > 1 && name_has_rules(mc, rv->relname))
			refuse_unresolved(what, "Tables of that name exist in several schemas; qualify it with its schema.");
	}
	if (t)
		rel = make_rel(refname, table_cols(mc, t));
	else if (info.viewdef)
	{
		List	   *trees;

		if (mc->depth >= MAX_VIEW_DEPTH)
			refuse_unresolved(what, "Views are nested too deeply.");
		mc->depth++;
		trees = bb_portal_raw_parse(info.viewdef);
		if (list_length(trees) != 1)
			refuse_unresolved(what, "Its definition is not one statement.");
		rel = make_rel(refname, analyze_query(mc, linitial_node(RawStmt, trees)->stmt, NULL));
		mc->depth--;
	}
	else if (info.relkind != 0 && info.schema &&
			 (strcmp(info.schema, "pg_catalog") == 0 || strcmp(info.schema, "information_schema") == 0))
	{
		/* a system relation: nothing masked lives there */
		rel = make_rel(refname, NIL);
		rel->opaque = true;
	}
	else
		refuse_unresolved(what, "It is not a table of the schema snapshot nor a view.");
	apply_alias(rel->cols, rv->alias);
	return rel;
}

static bool expr_walker(Node *node, void *context);

/* The taint of an expression; plain column references keep their algorithm. */
static Taint
expr_taint(MaskCtx *mc, Node *expr, Scope *scope, List *outputs)
{
	ExprCtx		ec = {mc, scope, outputs, {BB_MASK_NONE, NULL}};

	(void) expr_walker(expr, &ec);
	if (ec.t.alg != BB_MASK_NONE && !(expr && IsA(expr, ColumnRef)))
		ec.t.alg = BB_MASK_FULL;
	return ec.t;
}

/* Refuses when the expression decides which rows come back and reads a masked column. */
static void
filter_use(MaskCtx *mc, Node *expr, Scope *scope, List *outputs, const char *where)
{
	Taint		t;

	if (expr == NULL)
		return;
	t = expr_taint(mc, expr, scope, outputs);
	if (t.alg != BB_MASK_NONE)
		refuse_use(t.origin, where);
}

static void
filter_list(MaskCtx *mc, List *exprs, Scope *scope, List *outputs, const char *where)
{
	ListCell   *lc;

	foreach(lc, exprs)
	{
		Node	   *n = lfirst(lc);

		if (n && IsA(n, SortBy))
			n = ((SortBy *) n)->node;
		/* ORDER BY 2 / GROUP BY 2: the second result column */
		if (n && IsA(n, A_Const) && IsA(&((A_Const *) n)->val, Integer) && outputs)
		{
			int			pos = intVal(&((A_Const *) n)->val);

			if (pos >= 1 && pos <= list_length(outputs) &&
				((PCol *) list_nth(outputs, pos - 1))->alg != BB_MASK_NONE)
				refuse_use(((PCol *) list_nth(outputs, pos - 1))->origin, where);
			continue;
		}
		filter_use(mc, n, scope, outputs, where);
	}
}

static void
rel_taint(PRel *rel, Taint *t)
{
	ListCell   *lc;

	foreach(lc, rel->cols)
		add_taint(t, ((PCol *) lfirst(lc))->alg, ((PCol *) lfirst(lc))->origin);
	add_taint(t, rel->taint, rel->taint_origin);
}

/* Finds a column of a relation; opaque relations answer every name. */
static bool
rel_column(PRel *rel, const char *name, Taint *t)
{
	ListCell   *lc;
	bool		found = false;

	foreach(lc, rel->cols)
	{
		PCol	   *c = lfirst(lc);

		if (c->name && strcmp(c->name, name) == 0)
		{
			add_taint(t, c->alg, c->origin);
			found = true;
		}
	}
	if (!found && rel->opaque)
	{
		add_taint(t, rel->taint, rel->taint_origin);
		found = true;
	}
	return found;
}

static PRel *
find_rel(Scope *scope, const char *refname)
{
	for (; scope; scope = scope->outer)
	{
		ListCell   *lc;

		foreach(lc, scope->rels)
		{
			PRel	   *r = lfirst(lc);

			if (r->refname && strcmp(r->refname, refname) == 0)
				return r;
		}
	}
	return NULL;
}

/* Resolves a column reference the way PostgreSQL does, innermost scope first; what
 * resolves to nothing known counts as masked (fail-closed). */
static void
column_ref(ExprCtx *ec, ColumnRef *cr)
{
	int			n = list_length(cr->fields);
	Node	   *last = llast(cr->fields);
	Taint	   *t = &ec->t;

	if (IsA(last, A_Star))
	{
		if (n == 1)
		{
			ListCell   *lc;

			foreach(lc, ec->scope ? ec->scope->rels : NIL)
				if (((PRel *) lfirst(lc))->star)
					rel_taint(lfirst(lc), t);
		}
		else
		{
			PRel	   *r = find_rel(ec->scope, strVal(list_nth(cr->fields, n - 2)));

			if (r)
				rel_taint(r, t);
			else
				add_taint(t, BB_MASK_FULL, "(an unknown relation)");
		}
		return;
	}
	if (n == 1)
	{
		const char *name = strVal(last);
		PRel	   *whole;

		for (Scope *s = ec->scope; s; s = s->outer)
		{
			bool		found = false;
			ListCell   *lc;

			foreach(lc, s->rels)
			{
				PRel	   *r = lfirst(lc);

				if (r->lookup && rel_column(r, name, t))
					found = true;
			}
			if (found)
				return;
		}
		if (ec->outputs)
		{
			ListCell   *lc;
			bool		found = false;

			foreach(lc, ec->outputs)
			{
				PCol	   *c = lfirst(lc);

				if (c->name && strcmp(c->name, name) == 0)
				{
					add_taint(t, c->alg, c->origin);
					found = true;
				}
			}
			if (found)
				return;
		}
		whole = find_rel(ec->scope, name);
		if (whole)
		{
			Taint		w = {BB_MASK_NONE, NULL};

			/* a whole-row reference: the row's text holds every value */
			rel_taint(whole, &w);
			if (w.alg != BB_MASK_NONE)
				add_taint(t, BB_MASK_FULL, w.origin);
			return;
		}
		add_taint(t, BB_MASK_FULL, psprintf("\"%s\" (not a known column)", name));
		return;
	}
	/* rel.col, schema.rel.col, or col.field */
	{
		const char *col = strVal(list_nth(cr->fields, n - 1));
		PRel	   *r = find_rel(ec->scope, strVal(list_nth(cr->fields, n - 2)));

		if (r && rel_column(r, col, t))
			return;
		if (n >= 2 && IsA(linitial(cr->fields), String))
		{
			r = find_rel(ec->scope, strVal(linitial(cr->fields)));
			if (r && IsA(lsecond(cr->fields), String) && rel_column(r, strVal(lsecond(cr->fields)), t))
			{
				t->alg = t->alg == BB_MASK_NONE ? BB_MASK_NONE : BB_MASK_FULL;
				return;
			}
		}
		add_taint(t, BB_MASK_FULL, psprintf("\"%s\" (not a known column)", NameListToString(cr->fields)));
	}
}

static bool
expr_walker(Node *node, void *context)
{
	ExprCtx    *ec = context;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_ColumnRef:
			column_ref(ec, (ColumnRef *) node);
			return false;
		case T_SubLink:
			{
				SubLink    *sl = (SubLink *) node;
				ListCell   *lc;

				foreach(lc, analyze_query(ec->mc, sl->subselect, ec->scope))
					add_taint(&ec->t, ((PCol *) lfirst(lc))->alg, ((PCol *) lfirst(lc))->origin);
				return expr_walker(sl->testexpr, context);
			}
		case T_FuncCall:
			{
				FuncCall   *f = (FuncCall *) node;

				filter_list(ec->mc, f->agg_order, ec->scope, NULL, "an aggregate's ORDER BY");
				filter_use(ec->mc, f->agg_filter, ec->scope, NULL, "an aggregate's FILTER");
				if (f->over)
				{
					filter_list(ec->mc, f->over->partitionClause, ec->scope, NULL, "a window's PARTITION BY");
					filter_list(ec->mc, f->over->orderClause, ec->scope, NULL, "a window's ORDER BY");
				}
				return raw_expression_tree_walker((Node *) f->args, expr_walker, context);
			}
		default:
			return raw_expression_tree_walker(node, expr_walker, context);
	}
}

/* Columns an unqualified * of these relations gives. */
static List *
star_cols(List *rels)
{
	List	   *cols = NIL;
	ListCell   *lc;

	foreach(lc, rels)
		if (((PRel *) lfirst(lc))->star)
			cols = list_concat(cols, copy_cols(((PRel *) lfirst(lc))->cols));
	return cols;
}

static PCol *
find_col(List *cols, const char *name)
{
	ListCell   *lc;

	foreach(lc, cols)
		if (((PCol *) lfirst(lc))->name && strcmp(((PCol *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	return NULL;
}

static List *from_item(MaskCtx *mc, Node *item, Scope *scope);

/* A join: its sides, its condition (refused on masked columns) and the merged columns
 * a * gives (USING/NATURAL columns once, first). */
static List *
join_expr(MaskCtx *mc, JoinExpr *j, Scope *scope)
{
	List	   *l = from_item(mc, j->larg, scope);
	List	   *r = from_item(mc, j->rarg, scope);
	List	   *lcols = star_cols(l),
			   *rcols = star_cols(r);
	List	   *using = NIL,
			   *merged = NIL;
	Scope		both = {list_concat(list_copy(l), r), NIL, scope};
	ListCell   *lc;
	List	   *rels;
	PRel	   *combined;

	if (j->isNatural)
	{
		foreach(lc, lcols)
			if (((PCol *) lfirst(lc))->name && find_col(rcols, ((PCol *) lfirst(lc))->name))
				using = lappend(using, makeString(((PCol *) lfirst(lc))->name));
	}
	else
		using = j->usingClause;
	foreach(lc, using)
	{
		PCol	   *a = find_col(lcols, strVal(lfirst(lc)));
		PCol	   *b = find_col(rcols, strVal(lfirst(lc)));

		if (a && a->alg != BB_MASK_NONE)
			refuse_use(a->origin, "a join condition");
		if (b && b->alg != BB_MASK_NONE)
			refuse_use(b->origin, "a join condition");
		merged = lappend(merged, make_col(strVal(lfirst(lc)), BB_MASK_NONE, NULL));
	}
	filter_use(mc, j->quals, &both, NULL, "a join condition");
	foreach(lc, lcols)
		if (!((PCol *) lfirst(lc))->name || !list_member(using, makeString(((PCol *) lfirst(lc))->name)))
			merged = lappend(merged, lfirst(lc));
	foreach(lc, rcols)
		if (!((PCol *) lfirst(lc))->name || !list_member(using, makeString(((PCol *) lfirst(lc))->name)))
			merged = lappend(merged, lfirst(lc));
	combined = make_rel(j->alias ? j->alias->aliasname : NULL, merged);
	apply_alias(combined->cols, j->alias);
	if (j->alias)
		return list_make1(combined);
	rels = NIL;
	foreach(lc, both.rels)
	{
		((PRel *) lfirst(lc))->star = false;
		rels = lappend(rels, lfirst(lc));
	}
	combined->lookup = false;
	return lappend(rels, combined);
}

/* One FROM item: the relations it brings into scope. */
static List *
from_item(MaskCtx *mc, Node *item, Scope *scope)
{
	switch (nodeTag(item))
	{
		case T_RangeVar:
			return list_make1(range_var(mc, (RangeVar *) item, scope));
		case T_RangeSubselect:
			{
				RangeSubselect *rs = (RangeSubselect *) item;
				PRel	   *rel = make_rel(rs->alias ? rs->alias->aliasname : NULL,
										   analyze_query(mc, rs->subquery, scope));

				apply_alias(rel->cols, rs->alias);
				return list_make1(rel);
			}
		case T_JoinExpr:
			return join_expr(mc, (JoinExpr *) item, scope);
		case T_RangeFunction:
			{
				RangeFunction *rf = (RangeFunction *) item;
				Taint		t = expr_taint(mc, (Node *) rf->functions, scope, NULL);
				PRel	   *rel = make_rel(rf->alias ? rf->alias->aliasname : NULL, NIL);
				ListCell   *lc;

				/* the function's columns: named by the alias, tainted by its arguments */
				if (rf->alias)
					foreach(lc, rf->alias->colnames)
						rel->cols = lappend(rel->cols, make_col(strVal(lfirst(lc)), t.alg, t.origin));
				if (rel->refname == NULL && list_length(rf->functions) == 1)
				{
					Node	   *fn = linitial((List *) linitial(rf->functions));

					if (IsA(fn, FuncCall))
						rel->refname = pstrdup(strVal(llast(((FuncCall *) fn)->funcname)));
				}
				rel->opaque = true;
				rel->taint = t.alg;
				rel->taint_origin = t.origin;
				return list_make1(rel);
			}
		case T_RangeTableSample:
			{
				RangeTableSample *ts = (RangeTableSample *) item;
				List	   *rels = from_item(mc, ts->relation, scope);
				Scope		s = {rels, NIL, scope};

				filter_list(mc, ts->args, &s, NULL, "TABLESAMPLE");
				filter_use(mc, (Node *) ts->repeatable, &s, NULL, "TABLESAMPLE");
				return rels;
			}
		default:
			{
				/* XMLTABLE and the like: opaque, tainted by whatever they read */
				PRel	   *rel = make_rel(NULL, NIL);
				Taint		t = expr_taint(mc, item, scope, NULL);

				rel->opaque = true;
				rel->taint = t.alg;
				rel->taint_origin = t.origin;
				return list_make1(rel);
			}
	}
}

/* The name PostgreSQL gives a result column, when we can tell. */
static char *
result_name(ResTarget *rt)
{
	if (rt->name)
		return rt->name;
	if (IsA(rt->val, ColumnRef) && IsA(llast(((ColumnRef *) rt->val)->fields), String))
		return strVal(llast(((ColumnRef *) rt->val)->fields));
	return NULL;
}

/* A SELECT (or set operation, VALUES) : its result columns, refusing masked columns used
 * to choose, order or compare rows. */
static List *
analyze_query(MaskCtx *mc, Node *stmt_node, Scope *outer)
{
	SelectStmt *stmt;
	Scope	   *scope = palloc0(sizeof(Scope));
	List	   *outputs = NIL;
	ListCell   *lc;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (!IsA(stmt_node, SelectStmt))
		refuse_unresolved("a nested statement", "Only SELECT statements are followed.");
	stmt = (SelectStmt *) stmt_node;
	scope->outer = outer;
	if (stmt->withClause)
	{
		foreach(lc, stmt->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);
			PRel	   *rel;

			if (stmt->withClause->recursive)
				refuse_unresolved(psprintf("the recursive query %s", cte->ctename),
								  "Recursive queries are not followed on databases with masked columns.");
			rel = make_rel(cte->ctename, analyze_query(mc, cte->ctequery, scope));
			if (cte->aliascolnames)
			{
				ListCell   *a,
						   *c;

				forboth(c, rel->cols, a, cte->aliascolnames)
					((PCol *) lfirst(c))->name = pstrdup(strVal(lfirst(a)));
			}
			scope->ctes = lappend(scope->ctes, rel);
		}
	}
	if (stmt->op != SETOP_NONE)
	{
		List	   *l = analyze_query(mc, (Node *) stmt->larg, scope);
		List	   *r = analyze_query(mc, (Node *) stmt->rarg, scope);
		ListCell   *lr;

		forboth(lc, l, lr, r)
		{
			PCol	   *a = lfirst(lc),
					   *b = lfirst(lr);
			Taint		t = {a->alg, a->origin};

			add_taint(&t, b->alg, b->origin);
			if (t.alg != BB_MASK_NONE && !(stmt->op == SETOP_UNION && stmt->all))
				refuse_use(t.origin, "UNION, INTERSECT or EXCEPT (they compare values)");
			if (a->alg != b->alg && a->alg != BB_MASK_NONE && b->alg != BB_MASK_NONE)
				t.alg = BB_MASK_FULL;
			outputs = lappend(outputs, make_col(a->name, t.alg, t.origin));
		}
		filter_list(mc, stmt->sortClause, scope, outputs, "ORDER BY");
		filter_use(mc, stmt->limitCount, scope, outputs, "LIMIT");
		filter_use(mc, stmt->limitOffset, scope, outputs, "OFFSET");
		return outputs;
	}
	if (stmt->valuesLists)
	{
		int			i = 0;

		foreach(lc, linitial(stmt->valuesLists))
		{
			ListCell   *row;
			Taint		t = {BB_MASK_NONE, NULL};

			foreach(row, stmt->valuesLists)
			{
				Taint		v;

				/* rows of other lengths are the target's error; never read past one */
				if (i >= list_length(lfirst(row)))
					continue;
				v = expr_taint(mc, list_nth(lfirst(row), i), scope, NULL);
				add_taint(&t, v.alg, v.origin);
			}
			outputs = lappend(outputs, make_col(psprintf("column%d", ++i), t.alg, t.origin));
		}
		filter_list(mc, stmt->sortClause, scope, outputs, "ORDER BY");
		return outputs;
	}
	foreach(lc, stmt->fromClause)
		scope->rels = list_concat(scope->rels, from_item(mc, lfirst(lc), scope));
	foreach(lc, stmt->targetList)
	{
		ResTarget  *rt = lfirst_node(ResTarget, lc);
		ColumnRef  *cr = IsA(rt->val, ColumnRef) ? (ColumnRef *) rt->val : NULL;

		if (cr && IsA(llast(cr->fields), A_Star))
		{
			if (list_length(cr->fields) == 1)
				outputs = list_concat(outputs, star_cols(scope->rels));
			else
			{
				PRel	   *r = find_rel(scope, strVal(list_nth(cr->fields, list_length(cr->fields) - 2)));

				if (r == NULL || r->opaque)
					refuse_unresolved(NameListToString(cr->fields), "The relation's columns are not known.");
				outputs = list_concat(outputs, copy_cols(r->cols));
			}
			continue;
		}
		{
			Taint		t = expr_taint(mc, rt->val, scope, NULL);

			outputs = lappend(outputs, make_col(result_name(rt), t.alg, t.origin));
		}
	}
	filter_use(mc, stmt->whereClause, scope, NULL, "WHERE");
	filter_list(mc, stmt->groupClause, scope, outputs, "GROUP BY");
	filter_use(mc, stmt->havingClause, scope, outputs, "HAVING");
	filter_list(mc, stmt->sortClause, scope, outputs, "ORDER BY");
	filter_use(mc, stmt->limitCount, scope, NULL, "LIMIT");
	filter_use(mc, stmt->limitOffset, scope, NULL, "OFFSET");
	foreach(lc, stmt->windowClause)
	{
		WindowDef  *w = lfirst_node(WindowDef, lc);

		filter_list(mc, w->partitionClause, scope, outputs, "a window's PARTITION BY");
		filter_list(mc, w->orderClause, scope, outputs, "a window's ORDER BY");
	}
	if (stmt->distinctClause)
	{
		if (linitial(stmt->distinctClause) == NULL)
		{
			foreach(lc, outputs)
				if (((PCol *) lfirst(lc))->alg != BB_MASK_NONE)
					refuse_use(((PCol *) lfirst(lc))->origin, "DISTINCT");
		}
		else
			filter_list(mc, stmt->distinctClause, scope, outputs, "DISTINCT ON");
	}
	return outputs;
}

List *
bb_portal_mask_pg(const char *sql, List *rules, List *tables, BBRelLookup lookup, void *lookup_arg)
{
	MaskCtx		mc = {rules, tables, lookup, lookup_arg, 0};
	List	   *trees = bb_portal_raw_parse(sql);
	Node	   *stmt;
	List	   *cols;
	List	   *out = NIL;
	ListCell   *lc;

	if (list_length(trees) != 1)
		elog(ERROR, "masking analysis of %d statements", list_length(trees));
	stmt = linitial_node(RawStmt, trees)->stmt;
	if (IsA(stmt, ExplainStmt))
	{
		/* a plan shows no values, but ANALYZE row counts of a filter would */
		(void) analyze_query(&mc, ((ExplainStmt *) stmt)->query, NULL);
		return NIL;
	}
	if (!IsA(stmt, SelectStmt))
		return NIL;
	cols = analyze_query(&mc, stmt, NULL);
	foreach(lc, cols)
	{
		PCol	   *c = lfirst(lc);
		BBOutCol   *o = palloc0(sizeof(BBOutCol));

		o->name = c->name;
		o->alg = c->alg;
		o->origin = c->origin;
		out = lappend(out, o);
	}
	return out;
}
