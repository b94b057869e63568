/*
 * pg_rules_ddl.c — PostgreSQL rules on CREATE TABLE, ALTER TABLE and
 * CREATE INDEX: naming, columns, constraints, keys and migration safety.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/memutils.h"

#include "review/pg_review.h"

/* Whether a payload LIST names a type, accepting the usual aliases. */
static bool
type_in_list(const bb_payload *p, const char *canonical, const char *raw)
{
	static const char *const groups[][5] = {
		{"integer", "int", "int4", NULL},
		{"bigint", "int8", NULL},
		{"smallint", "int2", NULL},
		{"serial", "serial4", NULL},
		{"bigserial", "serial8", NULL},
		{"smallserial", "serial2", NULL},
		{"double precision", "float8", "double", NULL},
		{"real", "float4", NULL},
		{"boolean", "bool", NULL},
		{"char", "character", "bpchar", NULL},
		{"varchar", "character varying", NULL},
		{"timestamptz", "timestamp with time zone", NULL},
		{"timestamp", "timestamp without time zone", NULL},
		{NULL}
	};
	int			g;
	int			k;

	if (pgr_in_list(p, canonical) || pgr_in_list(p, raw))
		return true;
	for (g = 0; groups[g][0]; g++)
	{
		if (strcmp(groups[g][0], canonical) != 0)
			continue;
		for (k = 0; groups[g][k]; k++)
			if (pgr_in_list(p, groups[g][k]))
				return true;
	}
	return false;
}

/* One key column name and its position, for finding duplicates by sorting. */
typedef struct key_name
{
	const char *name;
	int			pos;
} key_name;

static int
key_name_cmp(const void *a, const void *b)
{
	const key_name *x = a;
	const key_name *y = b;
	int			c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Reports names listed twice (the first that has a later twin, found by
 * sorting: an index can list 100,000 columns) and too many key columns. */
static void
check_key_columns(pg_review *r, List *names, int location, const char *what)
{
	const bb_payload *p;

	if (pgr_rule(r, "index.no-duplicate-column") && list_length(names) > 1)
	{
		key_name   *v = palloc_extended(sizeof(key_name) * list_length(names), MCXT_ALLOC_HUGE);
		ListCell   *a;
		int			n = 0;
		int			k;
		int			first = -1;

		foreach(a, names)
		{
			const char *x = IsA(lfirst(a), String) ? strVal(lfirst(a)) : ((IndexElem *) lfirst(a))->name;

			if (x != NULL)
			{
				v[n].name = x;
				v[n].pos = n;
				n++;
			}
		}
		qsort(v, n, sizeof(key_name), key_name_cmp);
		/* in each run of equal names the first position has a later twin */
		for (k = 0; k + 1 < n; k++)
			if (strcmp(v[k].name, v[k + 1].name) == 0 && (k == 0 || strcmp(v[k - 1].name, v[k].name) != 0) &&
				(first < 0 || v[k].pos < v[first].pos))
				first = k;
		if (first >= 0)
			pgr_emit(r, "index.no-duplicate-column", location,
					 "%s lists column \"%s\" more than once", what, v[first].name);
		pfree(v);
	}
	p = pgr_rule(r, "index.key-number-limit");
	if (p && p->number > 0 && list_length(names) > p->number)
		pgr_emit(r, "index.key-number-limit", location, "%s has %d columns (limit %ld)",
				 what, list_length(names), p->number);
}

/* Counts indexes created on a table in this script. */
static void
count_index(pg_review *r, pg_created_table *t, int location)
{
	const bb_payload *p = pgr_rule(r, "index.total-number-limit");

	t->nindexes++;
	if (p && p->number > 0 && t->nindexes > p->number && !t->index_limit_reported)
	{
		t->index_limit_reported = true;
		pgr_emit(r, "index.total-number-limit", location,
				 "table \"%s\" gets %d indexes in this script (limit %ld)",
				 t->spelled, t->nindexes, p->number);
	}
}

/* Rules on a PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK constraint. */
static void
check_constraint(pg_review *r, pg_created_table *t, Constraint *c, List *cols, bool alter)
{
	const char *name = c->conname ? c->conname : "";
	const char *keys[4];
	const char *vals[4];

	switch (c->contype)
	{
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			{
				bool		pk = (c->contype == CONSTR_PRIMARY);
				const char *id = pk ? "naming.index.pk" : "naming.index.uk";
				const bb_payload *p;

				if (pk)
					t->has_pk = true;
				keys[0] = "table";
				vals[0] = t->name;
				keys[1] = "column_list";
				vals[1] = pgr_join_names(cols, "_");
				if ((p = pgr_rule(r, id)) != NULL && c->indexname == NULL)
					pgr_check_naming(r, id, p, name, c->location, pk ? "primary key" : "unique key",
									 keys, vals, 2);
				check_key_columns(r, cols, c->location, pk ? "primary key" : "unique key");
				if (pk && (p = pgr_rule(r, "index.primary-key-type-allowlist")) != NULL)
				{
					ListCell   *lc;

					foreach(lc, cols)
					{
						pg_created_column *col = pgr_column(r, t, strVal(lfirst(lc)));

						if (col && col->type && !type_in_list(p, col->type, col->type))
							pgr_emit(r, "index.primary-key-type-allowlist", c->location,
									 "primary key column \"%s\" has type %s, not one of the allowed types",
									 col->name, col->type);
					}
				}
				if (alter && c->indexname == NULL)
					pgr_emit(r, "migration.unique-constraint-use-index", c->location,
							 "ADD %s on \"%s\" builds an index under an exclusive lock: CREATE UNIQUE INDEX CONCURRENTLY, then ADD ... USING INDEX",
							 pk ? "PRIMARY KEY" : "UNIQUE", t->spelled);
				if (c->indexname == NULL)
					count_index(r, t, c->location);
				break;
			}
		case CONSTR_FOREIGN:
			{
				const bb_payload *p;
				List	   *fk_cols = c->fk_attrs != NIL ? c->fk_attrs : cols;

				pgr_emit(r, "table.no-foreign-key", c->location,
						 "table \"%s\" gets a foreign key", t->spelled);
				if (c->fk_del_action == FKCONSTR_ACTION_CASCADE)
					pgr_emit(r, "statement.disallow-on-delete-cascade", c->location,
							 "foreign key of \"%s\" uses ON DELETE CASCADE", t->spelled);
				if ((p = pgr_rule(r, "naming.index.fk")) != NULL)
				{
					keys[0] = "referencing_table";
					vals[0] = t->name;
					keys[1] = "referencing_column";
					vals[1] = pgr_join_names(fk_cols, "_");
					keys[2] = "referenced_table";
					vals[2] = c->pktable ? c->pktable->relname : "";
					keys[3] = "referenced_column";
					vals[3] = pgr_join_names(c->pk_attrs, "_");
					pgr_check_naming(r, "naming.index.fk", p, name, c->location, "foreign key",
									 keys, vals, 4);
				}
				if (alter && !c->skip_validation)
					pgr_emit(r, "migration.foreign-key-not-valid", c->location,
							 "foreign key on \"%s\" is validated under lock: add it NOT VALID, then VALIDATE CONSTRAINT",
							 t->spelled);
				break;
			}
		case CONSTR_CHECK:
			if (alter && !c->skip_validation)
				pgr_emit(r, "migration.constraint-not-valid", c->location,
						 "CHECK constraint on \"%s\" scans the table under lock: add it NOT VALID, then VALIDATE CONSTRAINT",
						 t->spelled);
			break;
		default:
			break;
	}
}

/* Rules on one column definition (CREATE TABLE or ADD COLUMN). */
static void
check_column(pg_review *r, pg_created_table *t, ColumnDef *cd, bool alter)
{
	const char *type = pgr_type_name(cd->typeName);
	const char *raw = cd->typeName && cd->typeName->names ? strVal(llast(cd->typeName->names)) : "";
	bool		not_null = cd->is_not_null;
	bool		pk = false;
	bool		identity = cd->identity != 0;
	bool		generated = cd->generated != 0;
	bool		serial = strcmp(type, "serial") == 0 || strcmp(type, "bigserial") == 0 ||
		strcmp(type, "smallserial") == 0;
	Node	   *def = cd->raw_default;
	const char *col = cd->colname ? cd->colname : "";
	const bb_payload *p;
	ListCell   *lc;
	pg_created_column *entry;
	MemoryContext old;

	foreach(lc, cd->constraints)
	{
		Constraint *c = lfirst(lc);

		switch (c->contype)
		{
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_DEFAULT:
				def = c->raw_expr;
				break;
			case CONSTR_IDENTITY:
				identity = true;
				break;
			case CONSTR_GENERATED:
				generated = true;
				break;
			case CONSTR_PRIMARY:
				pk = not_null = true;
				break;
			default:
				break;
		}
	}

	old = MemoryContextSwitchTo(r->script_cxt);
	entry = palloc0(sizeof(pg_created_column));
	entry->name = pstrdup(col);
	entry->offset = r->stmt_off + (cd->location >= 0 ? cd->location : 0);
	entry->type = pstrdup(type);
	t->columns = lappend(t->columns, entry);
	pgr_add_column(r, t, entry);
	MemoryContextSwitchTo(old);

	foreach(lc, cd->constraints)
	{
		Constraint *c = lfirst(lc);

		if (c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE ||
			c->contype == CONSTR_FOREIGN || c->contype == CONSTR_CHECK)
			check_constraint(r, t, c, list_make1(makeString(pstrdup(col))), false);
	}

	if ((p = pgr_rule(r, "naming.column")) != NULL)
		pgr_check_naming(r, "naming.column", p, pgr_spelled(r, cd->location, col),
						 cd->location, "column", NULL, NULL, 0);
	if (!not_null)
		pgr_emit(r, "column.no-null", cd->location, "column \"%s\" of \"%s\" is nullable", col, t->spelled);
	if (def == NULL && !pk && !identity && !serial && !generated)
	{
		pgr_emit(r, "column.require-default", cd->location, "column \"%s\" of \"%s\" has no DEFAULT",
				 col, t->spelled);
		if (not_null)
			pgr_emit(r, "column.set-default-for-not-null", cd->location,
					 "NOT NULL column \"%s\" of \"%s\" has no DEFAULT", col, t->spelled);
	}
	if ((p = pgr_rule(r, "column.type-disallow-list")) != NULL && type_in_list(p, type, raw))
		pgr_emit(r, "column.type-disallow-list", cd->location, "column \"%s\" has disallowed type %s",
				 col, type);
	if ((p = pgr_rule(r, "column.maximum-varchar-length")) != NULL &&
		(strcmp(type, "varchar") == 0 || strcmp(raw, "bpchar") == 0) &&
		cd->typeName->typmods != NIL && IsA(linitial(cd->typeName->typmods), A_Const))
	{
		A_Const    *n = linitial(cd->typeName->typmods);

		if (nodeTag(&n->val) == T_Integer && p->number > 0 && intVal(&n->val) > p->number)
			pgr_emit(r, "column.maximum-varchar-length", cd->location,
					 "column \"%s\" is %s(%d), longer than %ld", col, type, intVal(&n->val), p->number);
	}
	if (def && pgr_is_volatile_expr(def))
		pgr_emit(r, "column.default-disallow-volatile", cd->location,
				 "column \"%s\" has a volatile DEFAULT", col);
	if (cd->collClause && (p = pgr_rule(r, "system.collation.allowlist")) != NULL &&
		!pgr_in_list(p, strVal(llast(cd->collClause->collname))))
		pgr_emit(r, "system.collation.allowlist", cd->location, "collation \"%s\" of column \"%s\" is not allowed",
				 strVal(llast(cd->collClause->collname)), col);
	if (strcmp(type, "integer") == 0 || strcmp(type, "smallint") == 0 ||
		strcmp(type, "serial") == 0 || strcmp(type, "smallserial") == 0)
		pgr_emit(r, "migration.prefer-bigint", cd->location, "column \"%s\" is %s: prefer bigint", col, type);
	if (serial)
		pgr_emit(r, "migration.prefer-identity", cd->location,
				 "column \"%s\" is %s: prefer GENERATED ... AS IDENTITY", col, type);
	if (strcmp(type, "varchar") == 0 && cd->typeName->typmods != NIL)
		pgr_emit(r, "migration.prefer-text", cd->location,
				 "column \"%s\" is varchar(n): prefer text with a CHECK on its length", col);
	if (strcmp(type, "timestamp") == 0)
		pgr_emit(r, "migration.prefer-timestamptz", cd->location,
				 "column \"%s\" is timestamp without time zone: prefer timestamptz", col);
	if (strcmp(raw, "bpchar") == 0)
		pgr_emit(r, "migration.ban-char", cd->location, "column \"%s\" is char(n): prefer text", col);

	if (alter)
	{
		if (not_null && def == NULL && !identity && !generated && !serial)
			pgr_emit(r, "migration.add-not-null-column-without-default", cd->location,
					 "adding NOT NULL column \"%s\" to \"%s\" without a DEFAULT fails when the table has rows",
					 col, t->spelled);
		if ((def && pgr_is_volatile_expr(def)) || serial || identity || generated)
			pgr_emit(r, "migration.add-column-volatile-default", cd->location,
					 "adding column \"%s\" with a volatile default, identity, serial or generated value rewrites \"%s\"",
					 col, t->spelled);
	}
}

/* CREATE TABLE: naming, schema, partitions, columns, constraints, required columns. */
void
pgr_create_table(pg_review *r, CreateStmt *s)
{
	RangeVar   *rv = s->relation;
	char	   *spelled = pgr_spelled(r, rv->location, rv->relname);
	pg_created_table *t = pgr_table_entry(r, rv->relname, spelled, true);
	const bb_payload *p;
	ListCell   *lc;

	if ((p = pgr_rule(r, "naming.table")) != NULL)
		pgr_check_naming(r, "naming.table", p, spelled, rv->location, NULL, NULL, NULL, 0);
	if (rv->schemaname == NULL)
		pgr_emit(r, "statement.create-specify-schema", rv->location,
				 "CREATE TABLE \"%s\" does not name its schema", spelled);
	if (s->partspec || s->partbound)
		pgr_emit(r, "table.disallow-partition", rv->location, "table \"%s\" is partitioned", spelled);
	if (s->partbound || s->inhRelations || s->ofTypename)
		t->pk_unknown = true;
	if (rv->relpersistence == RELPERSISTENCE_TEMP)
		t->pk_unknown = true;	/* scratch tables need no primary key */

	foreach(lc, s->tableElts)
	{
		Node	   *e = lfirst(lc);

		if (IsA(e, ColumnDef))
			check_column(r, t, (ColumnDef *) e, false);
		else if (IsA(e, TableLikeClause))
			t->pk_unknown = true;
	}
	foreach(lc, s->tableElts)
	{
		Node	   *e = lfirst(lc);

		if (IsA(e, Constraint))
			check_constraint(r, t, (Constraint *) e, ((Constraint *) e)->keys, false);
	}
	if ((p = pgr_rule(r, "column.required")) != NULL)
	{
		StringInfoData missing;
		int			k;

		initStringInfo(&missing);
		for (k = 0; k < p->nlist; k++)
			if (p->list[k] && pgr_column(r, t, p->list[k]) == NULL)
				appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", p->list[k]);
		if (missing.len > 0 && !t->pk_unknown)
			pgr_emit(r, "column.required", rv->location, "table \"%s\" lacks required columns: %s",
					 spelled, missing.data);
	}
}

/* ALTER TABLE: merge, lock timeout and one check per subcommand. */
void
pgr_alter_table(pg_review *r, AlterTableStmt *s)
{
	RangeVar   *rv = s->relation;
	const char *rel = rv->relname;
	char	   *spelled = pgr_spelled(r, rv->location, rel);
	pg_created_table *t;
	ListCell   *lc;

	if (s->objtype != OBJECT_TABLE)
		return;
	t = pgr_table_entry(r, rel, spelled, false);
	if (t->altered)
		pgr_emit(r, "statement.merge-alter-table", -1,
				 "\"%s\" is already altered earlier in this script: merge the ALTER TABLE statements", spelled);
	t->altered = true;
	pgr_lock_ddl(r, rel, -1);

	foreach(lc, s->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const char *col = cmd->name ? cmd->name : "";

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				check_column(r, t, (ColumnDef *) cmd->def, true);
				break;
			case AT_AlterColumnType:
				pgr_emit(r, "column.disallow-change-type", -1, "column \"%s\" of \"%s\" changes type", col, spelled);
				pgr_emit(r, "migration.column-type-change", -1,
						 "changing the type of \"%s\".\"%s\" may rewrite the table under an exclusive lock",
						 spelled, col);
				break;
			case AT_SetNotNull:
				pgr_emit(r, "migration.set-not-null", -1,
						 "SET NOT NULL on \"%s\".\"%s\" scans the table under an exclusive lock: add CHECK (%s IS NOT NULL) NOT VALID, validate, then SET NOT NULL",
						 spelled, col, col);
				break;
			case AT_DropNotNull:
				pgr_emit(r, "migration.drop-not-null", -1, "DROP NOT NULL on \"%s\".\"%s\"", spelled, col);
				break;
			case AT_AddConstraint:
				{
					Constraint *c = (Constraint *) cmd->def;

					check_constraint(r, t, c, c->keys, true);
					break;
				}
			case AT_DropColumn:
				pgr_emit(r, "migration.ban-drop-column", -1, "dropping column \"%s\" of \"%s\" loses its data",
						 col, spelled);
				break;
			case AT_AttachPartition:
			case AT_DetachPartition:
				pgr_emit(r, "table.disallow-partition", -1, "\"%s\" attaches or detaches a partition", spelled);
				break;
			default:
				break;
		}
		if (cmd->behavior == DROP_CASCADE)
			pgr_emit(r, "statement.disallow-cascade", -1,
					 "ALTER TABLE \"%s\" ... CASCADE also drops dependent objects", spelled);
	}
}

/* CREATE INDEX: concurrency, naming, key columns, access method, count per table. */
void
pgr_create_index(pg_review *r, IndexStmt *s)
{
	const char *rel = s->relation->relname;
	pg_created_table *t = pgr_table_entry(r, rel, pgr_spelled(r, s->relation->location, rel), false);
	const char *id = s->unique ? "naming.index.uk" : "naming.index.idx";
	const bb_payload *p;

	if (!s->concurrent)
	{
		pgr_emit(r, "migration.create-index-concurrently", -1,
				 "CREATE INDEX on \"%s\" without CONCURRENTLY blocks writes while it builds", t->spelled);
		pgr_lock_ddl(r, rel, -1);
	}
	else if (r->in_transaction)
		pgr_emit(r, "migration.concurrently-in-transaction", -1,
				 "CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
	if ((p = pgr_rule(r, id)) != NULL)
	{
		const char *keys[2] = {"table", "column_list"};
		const char *vals[2];

		vals[0] = rel;
		vals[1] = pgr_join_names(s->indexParams, "_");
		pgr_check_naming(r, id, p, s->idxname ? s->idxname : "", -1, "index", keys, vals, 2);
	}
	check_key_columns(r, s->indexParams, -1, "index");
	if ((p = pgr_rule(r, "index.type-allow-list")) != NULL &&
		!pgr_in_list(p, s->accessMethod ? s->accessMethod : "btree"))
		pgr_emit(r, "index.type-allow-list", -1, "index method %s is not allowed",
				 s->accessMethod ? s->accessMethod : "btree");
	count_index(r, t, -1);
}

/* Checks made once the whole script is seen: primary keys and comments. */
void
pgr_finish_tables(pg_review *r)
{
	ListCell   *lc;
	ListCell   *cc;

	foreach(lc, r->tables)
	{
		pg_created_table *t = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (t->created && !t->has_pk && !t->pk_unknown)
			pgr_emit(r, "table.require-pk", (int) t->offset, "table \"%s\" has no primary key", t->spelled);
		if (t->created && !t->has_comment)
			pgr_emit(r, "table.comment", (int) t->offset, "table \"%s\" has no COMMENT", t->spelled);
		foreach(cc, t->columns)
		{
			pg_created_column *c = lfirst(cc);

			if (!c->has_comment)
				pgr_emit(r, "column.comment", (int) c->offset, "column \"%s\".\"%s\" has no COMMENT",
						 t->spelled, c->name);
		}
	}
}
