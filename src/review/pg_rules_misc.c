/*
 * pg_rules_misc.c — PostgreSQL rules on DML, DROP, TRUNCATE, RENAME,
 * transactions, routines, views, triggers, databases, domains and comments.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"

#include "review/pg_review.h"

/* Whether an A_Const is the SQL NULL or a string starting with %. */
static bool
const_is_null(Node *n)
{
	return n && IsA(n, A_Const) && ((A_Const *) n)->isnull;
}

/* Whether a constant is a string starting with % (LIKE that cannot use an index). */
static bool
const_leading_wildcard(Node *n)
{
	A_Const    *c = (A_Const *) n;

	return n && IsA(n, A_Const) && !c->isnull && nodeTag(&c->val) == T_String &&
		c->val.sval.sval && c->val.sval.sval[0] == '%';
}

/* Is this ORDER BY item random()? */
static bool
sorts_randomly(List *sortClause)
{
	ListCell   *lc;

	foreach(lc, sortClause)
	{
		SortBy	   *sb = lfirst(lc);

		if (IsA(sb, SortBy) && sb->node && IsA(sb->node, FuncCall))
		{
			const char *fn = strVal(llast(((FuncCall *) sb->node)->funcname));

			if (strcmp(fn, "random") == 0 || strcmp(fn, "rand") == 0)
				return true;
		}
	}
	return false;
}

/* What the DML walker carries: the review, and the SELECT of an EXISTS (whose
 * target list is never read, so "SELECT *" there is the idiom, not a smell). */
typedef struct dml_walk
{
	pg_review  *r;
	Node	   *exists_select;
} dml_walk;

/* Walker over a DML tree: SELECT *, leading-wildcard LIKE, "= NULL". */
static bool
dml_walker(Node *node, void *context)
{
	dml_walk   *w = context;
	pg_review  *r = w->r;

	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, SubLink) && ((SubLink *) node)->subLinkType == EXISTS_SUBLINK)
	{
		Node	   *saved = w->exists_select;
		bool		res;

		w->exists_select = ((SubLink *) node)->subselect;
		res = raw_expression_tree_walker(node, dml_walker, context);
		w->exists_select = saved;
		return res;
	}
	if (IsA(node, SelectStmt) && node != w->exists_select)
	{
		ListCell   *lc;

		foreach(lc, ((SelectStmt *) node)->targetList)
		{
			ResTarget  *rt = lfirst(lc);

			if (IsA(rt, ResTarget) && rt->val && IsA(rt->val, ColumnRef) &&
				IsA(llast(((ColumnRef *) rt->val)->fields), A_Star))
				pgr_emit(r, "statement.select.no-select-all", ((ColumnRef *) rt->val)->location,
						 "SELECT * : list the columns");
		}
	}
	else if (IsA(node, A_Expr))
	{
		A_Expr	   *e = (A_Expr *) node;

		if ((e->kind == AEXPR_LIKE || e->kind == AEXPR_ILIKE) && const_leading_wildcard(e->rexpr))
			pgr_emit(r, "statement.where.no-leading-wildcard-like", e->location,
					 "LIKE pattern '%s' starts with %%: no index can be used",
					 ((A_Const *) e->rexpr)->val.sval.sval);
		else if (e->kind == AEXPR_OP && e->name && list_length(e->name) == 1)
		{
			const char *op = strVal(linitial(e->name));

			if ((strcmp(op, "=") == 0 || strcmp(op, "<>") == 0 || strcmp(op, "!=") == 0) &&
				(const_is_null(e->lexpr) || const_is_null(e->rexpr)))
				pgr_emit(r, "statement.where.no-equal-null", e->location,
						 "comparison with %s NULL is never true: use IS %sNULL",
						 op, strcmp(op, "=") == 0 ? "" : "NOT ");
		}
	}
	return raw_expression_tree_walker(node, dml_walker, context);
}

/* Runs the DML walker over a statement and its subqueries. */
void
pgr_walk_dml(pg_review *r, Node *node)
{
	dml_walk	w = {r, NULL};

	dml_walker(node, &w);
}

/* Last name of a qualified name list. */
static const char *
last_name(List *names)
{
	return names != NIL && IsA(llast(names), String) ? strVal(llast(names)) : "";
}

/* DROP INDEX / DROP TABLE / CASCADE rules. */
static void
check_drop(pg_review *r, DropStmt *s)
{
	ListCell   *lc;

	if (s->behavior == DROP_CASCADE)
		pgr_emit(r, "statement.disallow-cascade", -1, "DROP ... CASCADE also drops dependent objects");
	if (s->removeType == OBJECT_INDEX)
	{
		if (!s->concurrent)
		{
			pgr_emit(r, "migration.drop-index-concurrently", -1,
					 "DROP INDEX without CONCURRENTLY blocks reads and writes of its table");
			pgr_lock_ddl(r, NULL, -1);
		}
		else if (r->in_transaction)
			pgr_emit(r, "migration.concurrently-in-transaction", -1,
					 "DROP INDEX CONCURRENTLY cannot run inside a transaction block");
	}
	else if (s->removeType == OBJECT_TABLE)
	{
		const bb_payload *p = pgr_rule(r, "table.drop-naming-convention");

		foreach(lc, s->objects)
		{
			const char *name = last_name(lfirst(lc));

			pgr_emit(r, "migration.ban-drop-table", -1, "DROP TABLE \"%s\" loses its data", name);
			if (p)
				pgr_check_naming(r, "table.drop-naming-convention", p, name, -1, "dropped table",
								 NULL, NULL, 0);
			pgr_lock_ddl(r, name, -1);
		}
	}
}

/* COMMENT ON TABLE/COLUMN: satisfies table.comment / column.comment, checks length. */
static void
check_comment(pg_review *r, CommentStmt *s)
{
	List	   *names;
	pg_created_table *t;
	const bb_payload *p;

	if ((s->objtype != OBJECT_TABLE && s->objtype != OBJECT_COLUMN) || !IsA(s->object, List))
		return;
	names = (List *) s->object;
	if (s->objtype == OBJECT_TABLE)
	{
		t = pgr_table_entry(r, last_name(names), NULL, false);
		t->has_comment = true;
		p = pgr_rule(r, "table.comment");
		if (p && p->number > 0 && s->comment && strlen(s->comment) > (size_t) p->number)
			pgr_emit(r, "table.comment", -1, "comment of table \"%s\" is longer than %ld bytes",
					 t->spelled, p->number);
	}
	else if (list_length(names) >= 2)
	{
		const char *col = last_name(names);
		pg_created_column *c;

		t = pgr_table_entry(r, strVal(list_nth(names, list_length(names) - 2)), NULL, false);
		for (c = pgr_column(r, t, col); c; c = c->twin)
			c->has_comment = true;
		p = pgr_rule(r, "column.comment");
		if (p && p->number > 0 && s->comment && strlen(s->comment) > (size_t) p->number)
			pgr_emit(r, "column.comment", -1, "comment of column \"%s\" is longer than %ld bytes",
					 col, p->number);
	}
}

/* CREATE DATABASE encoding and collation allow lists. */
static void
check_createdb(pg_review *r, CreatedbStmt *s)
{
	ListCell   *lc;

	foreach(lc, s->options)
	{
		DefElem    *d = lfirst(lc);
		const bb_payload *p;
		const char *v;

		if (d->arg == NULL)
			continue;
		v = IsA(d->arg, String) ? strVal(d->arg) : NULL;
		if (v == NULL)
			continue;
		if (strcmp(d->defname, "encoding") == 0 && (p = pgr_rule(r, "system.charset.allowlist")) != NULL &&
			!pgr_in_list(p, v))
			pgr_emit(r, "system.charset.allowlist", d->location, "encoding %s is not allowed", v);
		if ((strcmp(d->defname, "lc_collate") == 0 || strcmp(d->defname, "locale") == 0) &&
			(p = pgr_rule(r, "system.collation.allowlist")) != NULL && !pgr_in_list(p, v))
			pgr_emit(r, "system.collation.allowlist", d->location, "collation %s is not allowed", v);
	}
}

/* Dispatches the statements that are not CREATE/ALTER TABLE or CREATE INDEX. */
void
pgr_check_stmt(pg_review *r, Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
			{
				SelectStmt *s = (SelectStmt *) stmt;

				if (s->op == SETOP_NONE && s->fromClause != NIL && s->whereClause == NULL)
					pgr_emit(r, "statement.where.require-select", -1, "SELECT without WHERE reads every row");
				pgr_walk_dml(r, stmt);
				break;
			}
		case T_InsertStmt:
			{
				InsertStmt *s = (InsertStmt *) stmt;
				SelectStmt *sel = (SelectStmt *) s->selectStmt;
				const bb_payload *p;

				if (s->cols == NIL)
					pgr_emit(r, "statement.insert.must-specify-column", -1,
							 "INSERT INTO \"%s\" does not list its columns", s->relation->relname);
				if (sel && IsA(sel, SelectStmt))
				{
					p = pgr_rule(r, "statement.insert.row-limit");
					if (p && p->number > 0 && list_length(sel->valuesLists) > p->number)
						pgr_emit(r, "statement.insert.row-limit", -1, "INSERT inserts %d rows (limit %ld)",
								 list_length(sel->valuesLists), p->number);
					if (sorts_randomly(sel->sortClause))
						pgr_emit(r, "statement.insert.disallow-order-by-rand", -1,
								 "INSERT ... SELECT ... ORDER BY random()");
				}
				pgr_walk_dml(r, stmt);
				break;
			}
		case T_UpdateStmt:
			if (((UpdateStmt *) stmt)->whereClause == NULL)
				pgr_emit(r, "statement.where.require-update-delete", -1, "UPDATE without WHERE changes every row");
			pgr_walk_dml(r, stmt);
			break;
		case T_DeleteStmt:
			if (((DeleteStmt *) stmt)->whereClause == NULL)
				pgr_emit(r, "statement.where.require-update-delete", -1, "DELETE without WHERE removes every row");
			pgr_walk_dml(r, stmt);
			break;
		case T_TransactionStmt:
			switch (((TransactionStmt *) stmt)->kind)
			{
				case TRANS_STMT_BEGIN:
				case TRANS_STMT_START:
					r->in_transaction = true;
					break;
				case TRANS_STMT_COMMIT:
				case TRANS_STMT_COMMIT_PREPARED:
					pgr_emit(r, "statement.disallow-commit", -1, "COMMIT in a change script");
					r->in_transaction = false;
					break;
				case TRANS_STMT_ROLLBACK:
				case TRANS_STMT_PREPARE:
					r->in_transaction = false;
					break;
				default:
					break;
			}
			break;
		case T_VariableSetStmt:
			{
				VariableSetStmt *s = (VariableSetStmt *) stmt;

				if (s->name && strcmp(s->name, "lock_timeout") == 0 && s->kind == VAR_SET_VALUE)
					r->lock_timeout_set = true;
				break;
			}
		case T_DropStmt:
			check_drop(r, (DropStmt *) stmt);
			break;
		case T_DropdbStmt:
			pgr_emit(r, "migration.ban-drop-database", -1, "DROP DATABASE \"%s\"", ((DropdbStmt *) stmt)->dbname);
			pgr_emit(r, "database.drop-empty-database", -1,
					 "DROP DATABASE \"%s\": make sure it is empty (cannot be checked here)",
					 ((DropdbStmt *) stmt)->dbname);
			break;
		case T_TruncateStmt:
			{
				TruncateStmt *s = (TruncateStmt *) stmt;

				pgr_emit(r, "statement.disallow-truncate", -1, "TRUNCATE removes every row");
				if (s->behavior == DROP_CASCADE)
					pgr_emit(r, "migration.truncate-cascade", -1,
							 "TRUNCATE ... CASCADE also empties every table that references these");
				if (s->relations != NIL)
					pgr_lock_ddl(r, ((RangeVar *) linitial(s->relations))->relname, -1);
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *s = (RenameStmt *) stmt;
				const bb_payload *p;

				if (s->renameType == OBJECT_COLUMN)
				{
					pgr_emit(r, "migration.rename-column", -1,
							 "renaming column \"%s\" to \"%s\" breaks clients that use the old name",
							 s->subname ? s->subname : "", s->newname);
					if ((p = pgr_rule(r, "naming.column")) != NULL)
						pgr_check_naming(r, "naming.column", p, s->newname, -1, "column", NULL, NULL, 0);
				}
				else if (s->renameType == OBJECT_TABLE)
				{
					pgr_emit(r, "migration.rename-table", -1,
							 "renaming table \"%s\" to \"%s\" breaks clients that use the old name",
							 s->relation ? s->relation->relname : "", s->newname);
					if ((p = pgr_rule(r, "naming.table")) != NULL)
						pgr_check_naming(r, "naming.table", p, s->newname, -1, NULL, NULL, NULL, 0);
				}
				if (s->relation && (s->renameType == OBJECT_COLUMN || s->renameType == OBJECT_TABLE))
					pgr_lock_ddl(r, s->relation->relname, -1);
				break;
			}
		case T_CreateFunctionStmt:
			if (((CreateFunctionStmt *) stmt)->is_procedure)
				pgr_emit(r, "system.procedure.disallow-create", -1, "CREATE PROCEDURE %s",
						 last_name(((CreateFunctionStmt *) stmt)->funcname));
			else
				pgr_emit(r, "system.function.disallow-create", -1, "CREATE FUNCTION %s",
						 last_name(((CreateFunctionStmt *) stmt)->funcname));
			break;
		case T_ViewStmt:
			pgr_emit(r, "system.view.disallow-create", -1, "CREATE VIEW %s", ((ViewStmt *) stmt)->view->relname);
			break;
		case T_CreateTableAsStmt:
			if (((CreateTableAsStmt *) stmt)->objtype == OBJECT_MATVIEW)
				pgr_emit(r, "system.view.disallow-create", -1, "CREATE MATERIALIZED VIEW %s",
						 ((CreateTableAsStmt *) stmt)->into->rel->relname);
			if (IsA(((CreateTableAsStmt *) stmt)->query, SelectStmt))
				pgr_walk_dml(r, ((CreateTableAsStmt *) stmt)->query);
			break;
		case T_CreateTrigStmt:
			pgr_emit(r, "table.disallow-trigger", -1, "CREATE TRIGGER %s", ((CreateTrigStmt *) stmt)->trigname);
			break;
		case T_CreatedbStmt:
			check_createdb(r, (CreatedbStmt *) stmt);
			break;
		case T_CreateDomainStmt:
			if (((CreateDomainStmt *) stmt)->constraints != NIL)
				pgr_emit(r, "migration.ban-create-domain-with-constraint", -1,
						 "domain constraints cannot be added or changed safely later: use column CHECK constraints");
			break;
		case T_AlterDomainStmt:
			if (((AlterDomainStmt *) stmt)->subtype == 'C')
				pgr_emit(r, "migration.ban-alter-domain-with-add-constraint", -1,
						 "ALTER DOMAIN ADD CONSTRAINT validates every column of the domain under lock");
			break;
		case T_CommentStmt:
			check_comment(r, (CommentStmt *) stmt);
			break;
		case T_ReindexStmt:
			{
				ListCell   *lc;

				foreach(lc, ((ReindexStmt *) stmt)->params)
					if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") == 0 && r->in_transaction)
						pgr_emit(r, "migration.concurrently-in-transaction", -1,
								 "REINDEX CONCURRENTLY cannot run inside a transaction block");
				break;
			}
		default:
			break;
	}
}
