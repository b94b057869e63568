/*
 * tidb_rules.c — the statements TiDB refuses although MySQL takes them, and
 * the ones its older versions refuse or ignore (ctx->engine_version, from the
 * version detected on the instance; 0 = the newest).  Plain C like the other
 * checkers: no palloc, never throws.
 */
#include "checker.h"
#include "mysql_ast.h"

#define TIDB_V6_2 60200			/* multi-schema change: several changes in one ALTER TABLE */
#define TIDB_V6_6 60600			/* foreign keys enforced */

/* True when the target is a known TiDB older than `version` (an unknown one is the newest). */
static int
older_than(const bb_review_ctx *ctx, int version)
{
	return ctx->engine_version > 0 && ctx->engine_version < version;
}

/* The kind of a key TiDB refuses (FULLTEXT, SPATIAL), NULL for the others. */
static const char *
refused_index(const mysql_index *ix)
{
	if (ix == NULL)
		return NULL;
	if (ix->kind == MYSQL_IDX_FULLTEXT)
		return "FULLTEXT";
	if (ix->kind == MYSQL_IDX_SPATIAL)
		return "SPATIAL";
	return NULL;
}

/* Reports refused keys and (before v6.6) unenforced foreign keys of a list. */
static void
check_indexes(bb_review_ctx *ctx, const mysql_index *ix, const char *table)
{
	for (; ix != NULL; ix = ix->next)
	{
		const char *kind = refused_index(ix);

		if (kind && bb_rule_on(ctx, bb_rules_mysql, BB_DIALECT_TIDB, "tidb.unsupported-statement"))
			ctx->emit(ctx, "tidb.unsupported-statement", ix->pos.line, ix->pos.column,
					  "TiDB does not support %s indexes (table \"%s\")", kind, table ? table : "");
		if (ix->kind == MYSQL_IDX_FOREIGN && older_than(ctx, TIDB_V6_6) &&
			bb_rule_on(ctx, bb_rules_mysql, BB_DIALECT_TIDB, "tidb.foreign-key-unenforced"))
			ctx->emit(ctx, "tidb.foreign-key-unenforced", ix->pos.line, ix->pos.column,
					  "foreign key on table \"%s\": TiDB before v6.6 parses it but does not enforce it",
					  table ? table : "");
	}
}

/* Same for inline REFERENCES of columns. */
static void
check_inline_fks(bb_review_ctx *ctx, const mysql_column *c, const char *table)
{
	for (; c != NULL; c = c->next)
		if (c->fk_inline && older_than(ctx, TIDB_V6_6) &&
			bb_rule_on(ctx, bb_rules_mysql, BB_DIALECT_TIDB, "tidb.foreign-key-unenforced"))
			ctx->emit(ctx, "tidb.foreign-key-unenforced", c->pos.line, c->pos.column,
					  "foreign key on column \"%s\" of \"%s\": TiDB before v6.6 parses it but does not enforce it",
					  c->name ? c->name : "", table ? table : "");
}

/* Reviews one parsed TiDB statement for what TiDB refuses. */
void
bb_review_tidb_limits(bb_review_ctx *ctx, const mysql_stmt *st)
{
	const char *what = NULL;
	int			line = st->pos.line,
				col = st->pos.column;

	switch (st->kind)
	{
		case MYSQL_STMT_CREATE_PROCEDURE:
			what = "stored procedures (CREATE PROCEDURE)";
			break;
		case MYSQL_STMT_CREATE_FUNCTION:
			what = "stored functions (CREATE FUNCTION)";
			break;
		case MYSQL_STMT_CREATE_TRIGGER:
			what = "triggers (CREATE TRIGGER)";
			break;
		case MYSQL_STMT_CREATE_EVENT:
			what = "events (CREATE EVENT)";
			break;
		case MYSQL_STMT_CREATE_TABLE:
			if (st->as_select)
				what = "CREATE TABLE ... AS SELECT (create the table, then INSERT ... SELECT)";
			check_indexes(ctx, st->indexes, st->table);
			check_inline_fks(ctx, st->cols, st->table);
			break;
		case MYSQL_STMT_CREATE_INDEX:
			check_indexes(ctx, st->index, st->table);
			break;
		case MYSQL_STMT_ALTER_TABLE:
			{
				int			n = 0;

				for (const mysql_alter_spec *sp = st->specs; sp != NULL; sp = sp->next)
				{
					n++;
					check_indexes(ctx, sp->index, st->table);
					if (sp->kind == MYSQL_ALTER_ADD_COLUMN)
						check_inline_fks(ctx, sp->cols, st->table);
				}
				if (n > 1 && older_than(ctx, TIDB_V6_2) &&
					bb_rule_on(ctx, bb_rules_mysql, BB_DIALECT_TIDB, "tidb.multi-schema-change"))
					ctx->emit(ctx, "tidb.multi-schema-change", line, col,
							  "ALTER TABLE \"%s\" makes %d changes: TiDB before v6.2 takes one per statement",
							  st->table ? st->table : "", n);
			}
			break;
		default:
			break;
	}
	if (what && bb_rule_on(ctx, bb_rules_mysql, BB_DIALECT_TIDB, "tidb.unsupported-statement"))
		ctx->emit(ctx, "tidb.unsupported-statement", line, col, "TiDB does not support %s", what);
}
