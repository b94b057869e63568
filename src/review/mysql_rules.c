/*
 * mysql_rules.c — bb_review_mysql: splits a MySQL/TiDB script, parses each
 * statement (mysql_parser.c) and applies the enabled rules of bb_rules_mysql.
 * A small catalog of the tables created/altered by the script lets index and
 * column rules look at types defined in earlier statements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checker.h"
#include "mysql_ast.h"

#define MAX_BUCKETS (1 << 20)		/* hash sizes grow with the script, up to this */
#define CAT_MAX_COLUMNS 4096		/* MySQL's limit: more are not tracked */
#define CAT_MAX_INDEXES 1024

typedef struct cat_table cat_table;

typedef struct cat_col
{
	char	   *name;
	char	   *type;
	char	   *type_full;
	cat_table  *table;
	int			dropped;		/* dropped/renamed: left in place, never matched */
	struct cat_col *next;		/* the table's columns */
	struct cat_col *hnext;		/* hash chain */
} cat_col;

typedef struct cat_index
{
	char	   *name;
	int			btree;			/* not FULLTEXT/SPATIAL */
	mysql_names cols;
	struct cat_index *next;
} cat_index;

struct cat_table
{
	char	   *name;
	int			known;			/* columns come from a CREATE TABLE in the script */
	int			touched_line;	/* line of the CREATE/ALTER that last changed it */
	int			nindex;
	int			ncols;			/* tracked columns */
	int			nstored;		/* tracked indexes */
	cat_col    *cols;
	cat_index  *idx;
	struct cat_table *next;
};

typedef struct review
{
	bb_review_ctx *ctx;
	bb_dialect	dialect;
	bb_arena	cat;			/* script lifetime */
	bb_arena   *a;				/* the current statement's arena */
	cat_table **buckets;		/* table name -> table */
	cat_col   **colhash;		/* (table, column) -> column */
	unsigned	nbuckets;		/* both sizes: a power of two */
} review;

/* ---- small helpers -------------------------------------------------------- */

/* Payload of an enabled MySQL rule, NULL when off. */
static const bb_payload *
on(review *r, const char *id)
{
	return bb_rule_on(r->ctx, bb_rules_mysql, r->dialect, id);
}

/* Integer types (AUTO_INCREMENT, TiDB clustered keys). */
static int
is_int_type(const char *t)
{
	static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", NULL};
	int			i;

	for (i = 0; t && ints[i]; i++)
		if (strcmp(t, ints[i]) == 0)
			return 1;
	return 0;
}

/* BLOB/TEXT/JSON/geometry: no DEFAULT before 8.0.13 and no plain index. */
static int
is_blob_type(const char *t)
{
	return t && (strstr(t, "blob") || strstr(t, "text") || strcmp(t, "json") == 0 ||
				 strcmp(t, "geometry") == 0);
}

/* Names joined with '_' (naming templates). */
static char *
join_names(review *r, const mysql_names *l)
{
	size_t		n = 1;
	int			i;
	char	   *s;

	for (i = 0; i < l->n; i++)
		n += strlen(l->v[i]) + 1;
	s = bb_arena_alloc(r->a, n);
	if (s == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
	{
		if (i > 0)
			strcat(s, "_");
		strcat(s, l->v[i]);
	}
	return s;
}

/* Bucket of a table name (case-insensitive). */
static unsigned
name_hash(review *r, const char *s)
{
	unsigned	h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned) (*s | 0x20);
	return h & (r->nbuckets - 1);
}

/* The catalog entry of a table, created when `create` is set. */
static cat_table *
cat_get(review *r, const char *name, int create)
{
	unsigned	h;
	cat_table  *t;

	if (name == NULL)
		return NULL;
	h = name_hash(r, name);
	for (t = r->buckets[h]; t; t = t->next)
		if (strcasecmp(t->name, name) == 0)
			return t;
	if (!create)
		return NULL;
	t = bb_arena_alloc(&r->cat, sizeof(cat_table));
	if (t == NULL)
		return NULL;
	t->name = bb_arena_strndup(&r->cat, name, strlen(name));
	if (t->name == NULL)
		return NULL;
	t->next = r->buckets[h];
	r->buckets[h] = t;
	return t;
}

/* Bucket of a (table, column name) pair; names compare case-insensitively. */
static unsigned
col_hash(review *r, const cat_table *t, const char *name)
{
	unsigned	h = (unsigned) ((size_t) t >> 4) * 2654435761u;

	for (; *name; name++)
		h = h * 33 + (unsigned) (*name | 0x20);
	return h & (r->nbuckets - 1);
}

/* A live column of a table, in constant time. */
static cat_col *
cat_col_find(review *r, cat_table *t, const char *name)
{
	cat_col    *c;

	if (t == NULL || name == NULL)
		return NULL;
	for (c = r->colhash[col_hash(r, t, name)]; c; c = c->hnext)
		if (c->table == t && !c->dropped && strcasecmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Records (or re-types) a column of a known table. */
static void
cat_col_set(review *r, cat_table *t, const char *name, const char *type, const char *type_full)
{
	cat_col    *c;
	unsigned	h;

	if (t == NULL || !t->known || name == NULL)
		return;
	c = cat_col_find(r, t, name);
	if (c == NULL)
	{
		if (t->ncols >= CAT_MAX_COLUMNS)
			return;
		c = bb_arena_alloc(&r->cat, sizeof(cat_col));
		if (c == NULL)
			return;
		c->name = bb_arena_strndup(&r->cat, name, strlen(name));
		if (c->name == NULL)
			return;
		t->ncols++;
		c->table = t;
		c->next = t->cols;
		t->cols = c;
		h = col_hash(r, t, name);
		c->hnext = r->colhash[h];
		r->colhash[h] = c;
	}
	if (type)
		c->type = bb_arena_strndup(&r->cat, type, strlen(type));
	if (type_full)
		c->type_full = bb_arena_strndup(&r->cat, type_full, strlen(type_full));
}

/* Takes a column out of its hash chain (chains stay short on re-creation). */
static void
col_unlink(review *r, cat_col *c)
{
	cat_col   **pp;

	if (c->dropped)
		return;
	c->dropped = 1;
	for (pp = &r->colhash[col_hash(r, c->table, c->name)]; *pp; pp = &(*pp)->hnext)
		if (*pp == c)
		{
			*pp = c->hnext;
			break;
		}
}

/* Forgets a column (DROP, CHANGE, RENAME). */
static void
cat_col_drop(review *r, cat_table *t, const char *name)
{
	cat_col    *c = cat_col_find(r, t, name);

	if (c)
	{
		col_unlink(r, c);
		t->ncols--;
	}
}

/* Records an index (its columns) of a table. */
static void
cat_index_add(review *r, cat_table *t, const mysql_index *ix)
{
	cat_index  *ci;
	int			i;

	if (t == NULL || ix->kind == MYSQL_IDX_CHECK)
		return;
	t->nindex++;
	if (t->nstored >= CAT_MAX_INDEXES)
		return;
	t->nstored++;
	ci = bb_arena_alloc(&r->cat, sizeof(cat_index));
	if (ci == NULL)
		return;
	ci->name = ix->name ? bb_arena_strndup(&r->cat, ix->name, strlen(ix->name)) : NULL;
	ci->btree = ix->kind != MYSQL_IDX_FULLTEXT && ix->kind != MYSQL_IDX_SPATIAL;
	ci->cols.v = bb_arena_alloc(&r->cat, sizeof(char *) * (size_t) (ix->cols.n + 1));
	if (ci->cols.v == NULL)
		return;
	for (i = 0; i < ix->cols.n; i++)
	{
		ci->cols.v[i] = bb_arena_strndup(&r->cat, ix->cols.v[i], strlen(ix->cols.v[i]));
		if (ci->cols.v[i] == NULL)
			return;
		ci->cols.n = i + 1;
	}
	ci->next = t->idx;
	t->idx = ci;
}

/* Same column list, in order (duplicate indexes). */
static int
same_names(const mysql_names *a, const mysql_names *b)
{
	int			i;

	if (a->n != b->n || a->n == 0)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcasecmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Type of a column: from the catalog when the table is known (the statement's
 * own columns are already recorded there), else this statement's columns. */
static const char *
col_type(review *r, mysql_column *cols, cat_table *t, const char *name)
{
	mysql_column *c;
	cat_col    *cc;

	if (t && t->known)
	{
		cc = cat_col_find(r, t, name);
		return cc ? cc->type : NULL;
	}
	for (c = cols; c; c = c->next)
		if (strcasecmp(c->name, name) == 0)
			return c->type;
	return NULL;
}

/* ---- naming --------------------------------------------------------------- */

/* Emits a naming finding when `name` fails the rule's payload. */
static void
check_name(review *r, const char *rule, const char *what, const char *name, mysql_pos pos,
		   const bb_naming_vars *vars)
{
	const bb_payload *pl = on(r, rule);
	char	   *pattern = NULL;
	int			rc;

	if (pl == NULL || name == NULL)
		return;
	rc = bb_review_naming(r->ctx, rule, pl, name, vars, pos.line, pos.column, &pattern);
	if (rc == 1)
		r->ctx->emit(r->ctx, rule, pos.line, pos.column, "%s \"%s\" does not match %s",
					 what, name, pattern ? pattern : pl->format);
	else if (rc == 2)
		r->ctx->emit(r->ctx, rule, pos.line, pos.column, "%s \"%s\" is longer than %d bytes",
					 what, name, pl->max_length);
	free(pattern);
}

/* Index naming templates by kind. */
static void
check_index_name(review *r, const char *table, const mysql_index *ix)
{
	bb_naming_vars v;
	const char *rule;
	const char *what;

	memset(&v, 0, sizeof(v));
	v.table = table;
	v.column_list = join_names(r, &ix->cols);
	v.referenced_table = ix->ref_table;
	v.referenced_column_list = join_names(r, &ix->ref_cols);
	switch (ix->kind)
	{
		case MYSQL_IDX_PRIMARY:
			rule = "naming.index.pk";
			what = "primary key";
			break;
		case MYSQL_IDX_UNIQUE:
			rule = "naming.index.uk";
			what = "unique key";
			break;
		case MYSQL_IDX_FOREIGN:
			rule = "naming.index.fk";
			what = "foreign key";
			break;
		case MYSQL_IDX_PLAIN:
		case MYSQL_IDX_FULLTEXT:
		case MYSQL_IDX_SPATIAL:
			rule = "naming.index.idx";
			what = "index";
			break;
		default:
			return;
	}
	check_name(r, rule, what, ix->name ? ix->name : "", ix->pos, &v);
}

/* ---- column rules ----------------------------------------------------------- */

/* Charset / collation allow lists for a table or a column. */
static void
check_charset(review *r, const char *charset, const char *collate, mysql_pos pos)
{
	const bb_payload *pl;

	if (charset && (pl = on(r, "system.charset.allowlist")) && !bb_payload_has(pl, charset) &&
		strcasecmp(charset, "binary") != 0)
		r->ctx->emit(r->ctx, "system.charset.allowlist", pos.line, pos.column,
					 "character set \"%s\" is not in the allow list", charset);
	if (collate && (pl = on(r, "system.collation.allowlist")) && !bb_payload_has(pl, collate))
		r->ctx->emit(r->ctx, "system.collation.allowlist", pos.line, pos.column,
					 "collation \"%s\" is not in the allow list", collate);
}

/* Rules on one column definition (CREATE TABLE, ADD/MODIFY/CHANGE COLUMN);
 * `new_name`: the name is chosen here (not MODIFY of an existing column). */
static void
check_column(review *r, mysql_column *c, int is_pk, int new_name)
{
	const bb_payload *pl;
	bb_review_ctx *x = r->ctx;
	int			line = c->pos.line,
				col = c->pos.column;
	int			exempt = is_pk || c->primary_key || c->auto_increment || c->auto_random ||
		is_blob_type(c->type) || c->generated;

	if (new_name)
		check_name(r, "naming.column", "column", c->name, c->pos, NULL);
	if (c->auto_increment)
	{
		check_name(r, "naming.column.auto-increment", "auto-increment column", c->name, c->pos, NULL);
		if (on(r, "column.auto-increment-must-integer") && !is_int_type(c->type))
			x->emit(x, "column.auto-increment-must-integer", line, col,
					"AUTO_INCREMENT column \"%s\" has type %s, not an integer type", c->name, c->type);
		if (on(r, "column.auto-increment-must-unsigned") && !c->is_unsigned)
			x->emit(x, "column.auto-increment-must-unsigned", line, col,
					"AUTO_INCREMENT column \"%s\" is not UNSIGNED", c->name);
	}
	if (on(r, "column.no-null") && c->null_state != MYSQL_NULL_NO && !is_pk && !c->primary_key)
		x->emit(x, "column.no-null", line, col, "column \"%s\" can be NULL; declare it NOT NULL", c->name);
	if (on(r, "column.set-default-for-not-null") && c->null_state == MYSQL_NULL_NO && !c->has_default && !exempt)
		x->emit(x, "column.set-default-for-not-null", line, col,
				"NOT NULL column \"%s\" has no DEFAULT", c->name);
	if (on(r, "column.require-default") && !c->has_default && !exempt)
		x->emit(x, "column.require-default", line, col, "column \"%s\" has no DEFAULT", c->name);
	if ((pl = on(r, "column.type-disallow-list")) && bb_payload_has(pl, c->type))
		x->emit(x, "column.type-disallow-list", line, col, "column \"%s\" uses the disallowed type %s",
				c->name, c->type);
	if ((pl = on(r, "column.maximum-char-length")) && strcmp(c->type, "char") == 0 && c->length > pl->number)
		x->emit(x, "column.maximum-char-length", line, col,
				"CHAR(%ld) column \"%s\" is longer than %ld; use VARCHAR", c->length, c->name, pl->number);
	if ((pl = on(r, "column.maximum-varchar-length")) && strcmp(c->type, "varchar") == 0 && c->length > pl->number)
		x->emit(x, "column.maximum-varchar-length", line, col,
				"VARCHAR(%ld) column \"%s\" is longer than %ld; use TEXT", c->length, c->name, pl->number);
	if ((pl = on(r, "column.comment")))
	{
		if (c->comment == NULL || c->comment[0] == '\0')
			x->emit(x, "column.comment", line, col, "column \"%s\" has no COMMENT", c->name);
		else if (pl->number > 0 && (long) strlen(c->comment) > pl->number)
			x->emit(x, "column.comment", line, col, "COMMENT of column \"%s\" is longer than %ld characters",
					c->name, pl->number);
	}
	if (c->first || c->after)
	{
		if (on(r, "column.disallow-changing-order"))
			x->emit(x, "column.disallow-changing-order", c->order_pos.line, c->order_pos.column,
					"column \"%s\" is placed with %s; changing the column order rewrites the table",
					c->name, c->first ? "FIRST" : "AFTER");
	}
	if (c->charset && on(r, "column.disallow-set-charset"))
		x->emit(x, "column.disallow-set-charset", line, col, "column \"%s\" sets its own character set %s",
				c->name, c->charset);
	check_charset(r, c->charset, c->collate, c->pos);
	if (c->fk_inline && on(r, "table.no-foreign-key"))
		x->emit(x, "table.no-foreign-key", line, col, "column \"%s\" references another table (foreign key)", c->name);
	if (c->on_delete_cascade && on(r, "statement.disallow-on-delete-cascade"))
		x->emit(x, "statement.disallow-on-delete-cascade", c->cascade_pos.line, c->cascade_pos.column,
				"foreign key on \"%s\" uses ON DELETE CASCADE", c->name);
	if (c->auto_random && on(r, "tidb.auto-random-on-bigint-pk") &&
		(strcmp(c->type, "bigint") != 0 || !is_pk))
		x->emit(x, "tidb.auto-random-on-bigint-pk", line, col,
				"AUTO_RANDOM column \"%s\" must be a BIGINT that is the whole primary key", c->name);
}

/* ---- index rules -------------------------------------------------------------- */

/* Rules on one index of `table` (cols: this statement's column definitions). */
static void
check_index(review *r, const char *table, cat_table *ct, mysql_column *cols, const mysql_index *ix)
{
	const bb_payload *pl;
	bb_review_ctx *x = r->ctx;
	int			i,
				j;

	if (ix->kind == MYSQL_IDX_CHECK)
		return;
	check_index_name(r, table, ix);
	if (on(r, "index.no-duplicate-column"))
		for (i = 0; i < ix->cols.n; i++)
			for (j = 0; j < i; j++)
				if (strcasecmp(ix->cols.v[i], ix->cols.v[j]) == 0 && strcmp(ix->cols.v[i], "(expression)") != 0)
				{
					x->emit(x, "index.no-duplicate-column", ix->pos.line, ix->pos.column,
							"index%s%s names column \"%s\" twice", ix->name ? " " : "",
							ix->name ? ix->name : "", ix->cols.v[i]);
					j = i;		/* once per column */
				}
	if ((pl = on(r, "index.key-number-limit")) && ix->kind != MYSQL_IDX_FOREIGN && ix->cols.n > pl->number)
		x->emit(x, "index.key-number-limit", ix->pos.line, ix->pos.column,
				"index has %d columns, more than %ld", ix->cols.n, pl->number);
	if (on(r, "index.type-no-blob") && ix->kind != MYSQL_IDX_FULLTEXT && ix->kind != MYSQL_IDX_FOREIGN)
		for (i = 0; i < ix->cols.n; i++)
		{
			const char *t = col_type(r, cols, ct, ix->cols.v[i]);

			if (is_blob_type(t))
				x->emit(x, "index.type-no-blob", ix->pos.line, ix->pos.column,
						"index on column \"%s\" of type %s", ix->cols.v[i], t);
		}
	if ((pl = on(r, "index.primary-key-type-allowlist")) && ix->kind == MYSQL_IDX_PRIMARY)
		for (i = 0; i < ix->cols.n; i++)
		{
			const char *t = col_type(r, cols, ct, ix->cols.v[i]);

			if (t && !bb_payload_has(pl, t))
				x->emit(x, "index.primary-key-type-allowlist", ix->pos.line, ix->pos.column,
						"primary key column \"%s\" has type %s, not in the allow list", ix->cols.v[i], t);
		}
	if (ix->kind == MYSQL_IDX_FOREIGN)
	{
		if (on(r, "table.no-foreign-key"))
			x->emit(x, "table.no-foreign-key", ix->pos.line, ix->pos.column,
					"foreign key on table \"%s\"", table ? table : "?");
		if (ix->on_delete_cascade && on(r, "statement.disallow-on-delete-cascade"))
			x->emit(x, "statement.disallow-on-delete-cascade", ix->cascade_pos.line, ix->cascade_pos.column,
					"foreign key on table \"%s\" uses ON DELETE CASCADE", table ? table : "?");
	}
	if (on(r, "index.no-duplicate-index") && ct && ix->kind != MYSQL_IDX_FOREIGN)
	{
		cat_index  *ci;

		int			btree = ix->kind != MYSQL_IDX_FULLTEXT && ix->kind != MYSQL_IDX_SPATIAL;

		for (ci = ct->idx; ci; ci = ci->next)
			if (ci->btree == btree && same_names(&ci->cols, &ix->cols))
			{
				x->emit(x, "index.no-duplicate-index", ix->pos.line, ix->pos.column,
						"an index on the same columns of table \"%s\" already exists%s%s",
						table ? table : "?", ci->name ? ": " : "", ci->name ? ci->name : "");
				break;
			}
	}
}

/* The index count limit after adding indexes to a table. */
static void
check_index_total(review *r, cat_table *ct, const char *table, mysql_pos pos)
{
	const bb_payload *pl = on(r, "index.total-number-limit");

	if (pl && ct && ct->nindex > pl->number)
		r->ctx->emit(r->ctx, "index.total-number-limit", pos.line, pos.column,
					 "table \"%s\" has %d indexes, more than %ld", table, ct->nindex, pl->number);
}

/* ---- statements --------------------------------------------------------------- */

/* Table options shared by CREATE and ALTER. */
static void
check_table_options(review *r, mysql_stmt *st)
{
	bb_review_ctx *x = r->ctx;

	if (st->opts.engine && on(r, "engine.mysql.use-innodb") && strcasecmp(st->opts.engine, "innodb") != 0)
		x->emit(x, "engine.mysql.use-innodb", st->opts.engine_pos.line, st->opts.engine_pos.column,
				"table \"%s\" uses engine %s, not InnoDB", st->table, st->opts.engine);
	check_charset(r, st->opts.charset, NULL, st->opts.charset_pos);
	check_charset(r, NULL, st->opts.collate, st->opts.collate_pos);
	if (st->opts.partition && on(r, "table.disallow-partition"))
		x->emit(x, "table.disallow-partition", st->opts.partition_pos.line, st->opts.partition_pos.column,
				"table \"%s\" is partitioned", st->table);
}

/* Notes a CREATE/ALTER of a table for statement.merge-alter-table. */
static void
touch_table(review *r, cat_table *ct, mysql_stmt *st, int is_alter)
{
	if (ct == NULL)
		return;
	if (is_alter && ct->touched_line > 0 && on(r, "statement.merge-alter-table"))
		r->ctx->emit(r->ctx, "statement.merge-alter-table", st->pos.line, st->pos.column,
					 "table \"%s\" was already created or altered at line %d; merge the ALTER TABLE statements",
					 st->table, ct->touched_line);
	ct->touched_line = st->pos.line;
}

/* Every CREATE TABLE rule; records the table in the script catalog. */
static void
review_create_table(review *r, mysql_stmt *st)
{
	bb_review_ctx *x = r->ctx;
	const bb_payload *pl;
	mysql_column *c;
	mysql_index *ix;
	cat_table  *ct;
	int			has_pk = 0,
				ndef_now = 0,
				nupd_now = 0,
				has_auto_random = 0;
	mysql_names pk = {0};
	mysql_index *pkix = NULL;

	check_name(r, "naming.table", "table", st->table, st->table_pos, NULL);
	if (st->like)
		return;
	if (st->as_select && on(r, "statement.disallow-create-table-as-select"))
		x->emit(x, "statement.disallow-create-table-as-select", st->pos.line, st->pos.column,
				"CREATE TABLE \"%s\" ... AS SELECT", st->table);

	ct = cat_get(r, st->table, 1);
	if (ct)
	{
		cat_col    *oc;

		for (oc = ct->cols; oc; oc = oc->next)
			col_unlink(r, oc);	/* re-created: forget the old columns */
		ct->known = 1;
		ct->cols = NULL;
		ct->idx = NULL;
		ct->nindex = 0;
		ct->ncols = 0;
		ct->nstored = 0;
		touch_table(r, ct, st, 0);
	}
	for (ix = st->indexes; ix; ix = ix->next)
		if (ix->kind == MYSQL_IDX_PRIMARY)
		{
			has_pk = 1;
			pk = ix->cols;
			pkix = ix;
		}
	for (c = st->cols; c && !bb_review_interrupted(x); c = c->next)
	{
		int			in_pk = c->primary_key;
		int			i;

		for (i = 0; i < pk.n; i++)
			if (strcasecmp(pk.v[i], c->name) == 0)
				in_pk = (pk.n == 1) ? 1 : 2;
		if (c->primary_key)
			has_pk = 1;
		check_column(r, c, in_pk == 1 || (in_pk == 2 && !c->auto_random), 1);
		if (in_pk == 2 && c->auto_random && on(r, "tidb.auto-random-on-bigint-pk"))
			x->emit(x, "tidb.auto-random-on-bigint-pk", c->pos.line, c->pos.column,
					"AUTO_RANDOM column \"%s\" must be the whole primary key", c->name);
		if (c->default_now)
			ndef_now++;
		if (c->on_update_now)
			nupd_now++;
		if (c->auto_random)
			has_auto_random = 1;
		cat_col_set(r, ct, c->name, c->type, c->type_full);
		if (c->primary_key || c->unique_key)
		{
			mysql_index *inl = bb_arena_alloc(r->a, sizeof(mysql_index));
			char	  **v = bb_arena_alloc(r->a, sizeof(char *));

			if (inl && v)
			{
				inl->kind = c->primary_key ? MYSQL_IDX_PRIMARY : MYSQL_IDX_UNIQUE;
				inl->pos = c->pos;
				v[0] = c->name;
				inl->cols.v = v;
				inl->cols.n = 1;
				if (c->primary_key && pkix == NULL)
					pkix = inl;
				cat_index_add(r, ct, inl);
				if (c->primary_key && (pl = on(r, "index.primary-key-type-allowlist")) &&
					!bb_payload_has(pl, c->type))
					x->emit(x, "index.primary-key-type-allowlist", c->pos.line, c->pos.column,
							"primary key column \"%s\" has type %s, not in the allow list", c->name, c->type);
			}
		}
	}
	for (ix = st->indexes; ix; ix = ix->next)
	{
		check_index(r, st->table, ct, st->cols, ix);
		cat_index_add(r, ct, ix);
	}
	if (ct)
		check_index_total(r, ct, st->table, st->table_pos);

	if (!has_pk && !st->as_select && on(r, "table.require-pk"))
		x->emit(x, "table.require-pk", st->table_pos.line, st->table_pos.column,
				"table \"%s\" has no primary key", st->table);
	if ((pl = on(r, "column.required")) && !st->as_select)
	{
		int			i;

		for (i = 0; i < pl->nlist; i++)
		{
			for (c = st->cols; c; c = c->next)
				if (pl->list[i] && strcasecmp(c->name, pl->list[i]) == 0)
					break;
			if (c == NULL && pl->list[i])
				x->emit(x, "column.required", st->table_pos.line, st->table_pos.column,
						"table \"%s\" lacks the required column \"%s\"", st->table, pl->list[i]);
		}
	}
	if ((pl = on(r, "table.comment")))
	{
		if (st->opts.comment == NULL || st->opts.comment[0] == '\0')
			x->emit(x, "table.comment", st->table_pos.line, st->table_pos.column,
					"table \"%s\" has no COMMENT", st->table);
		else if (pl->number > 0 && (long) strlen(st->opts.comment) > pl->number)
			x->emit(x, "table.comment", st->table_pos.line, st->table_pos.column,
					"COMMENT of table \"%s\" is longer than %ld characters", st->table, pl->number);
	}
	if (on(r, "column.current-time-count-limit") && (ndef_now > 2 || nupd_now > 1))
		x->emit(x, "column.current-time-count-limit", st->table_pos.line, st->table_pos.column,
				"table \"%s\" has %d DEFAULT CURRENT_TIMESTAMP and %d ON UPDATE CURRENT_TIMESTAMP columns (at most 2 and 1)",
				st->table, ndef_now, nupd_now);
	if ((pl = on(r, "column.auto-increment-initial-value")) && st->opts.auto_increment >= 0 &&
		st->opts.auto_increment != pl->number)
		x->emit(x, "column.auto-increment-initial-value", st->opts.auto_increment_pos.line,
				st->opts.auto_increment_pos.column, "AUTO_INCREMENT starts at %ld, not %ld",
				st->opts.auto_increment, pl->number);
	check_table_options(r, st);

	/* TiDB: hotspots and AUTO_RANDOM */
	if (r->dialect == BB_DIALECT_TIDB)
	{
		int			clustered_int = 0;
		int			pk_auto_inc = 0;

		if (pkix && pkix->cols.n == 1 && pkix->clustered != 2)
		{
			const char *t = col_type(r, st->cols, NULL, pkix->cols.v[0]);

			clustered_int = is_int_type(t);
			for (c = st->cols; c; c = c->next)
				if (strcasecmp(c->name, pkix->cols.v[0]) == 0 && c->auto_increment)
					pk_auto_inc = 1;
		}
		if (pk_auto_inc && on(r, "tidb.prefer-auto-random"))
			x->emit(x, "tidb.prefer-auto-random", pkix->pos.line, pkix->pos.column,
					"AUTO_INCREMENT clustered primary key of \"%s\" concentrates writes on one region; use AUTO_RANDOM",
					st->table);
		if (!clustered_int && st->opts.shard_row_id_bits < 0 && !has_auto_random &&
			on(r, "tidb.shard-row-id-bits-for-nonclustered"))
			x->emit(x, "tidb.shard-row-id-bits-for-nonclustered", st->table_pos.line, st->table_pos.column,
					"table \"%s\" has no clustered integer primary key and no SHARD_ROW_ID_BITS", st->table);
		if (st->opts.pre_split_regions >= 0 && st->opts.shard_row_id_bits <= 0 && !has_auto_random &&
			on(r, "tidb.pre-split-requires-shard"))
			x->emit(x, "tidb.pre-split-requires-shard", st->opts.pre_split_pos.line, st->opts.pre_split_pos.column,
					"PRE_SPLIT_REGIONS on \"%s\" needs SHARD_ROW_ID_BITS or an AUTO_RANDOM key", st->table);
	}
}

/* Every ALTER TABLE rule, action by action; keeps the catalog current. */
static void
review_alter_table(review *r, mysql_stmt *st)
{
	bb_review_ctx *x = r->ctx;
	cat_table  *ct = cat_get(r, st->table, 1);
	mysql_alter_spec *sp;
	int			drops_pk = 0,
				adds_pk = 0,
				added_index = 0;
	mysql_pos	drop_pos = {0, 0};

	touch_table(r, ct, st, 1);
	for (sp = st->specs; sp && !bb_review_interrupted(x); sp = sp->next)
	{
		mysql_column *c;
		cat_col    *old;

		switch (sp->kind)
		{
			case MYSQL_ALTER_ADD_COLUMN:
				for (c = sp->cols; c; c = c->next)
				{
					check_column(r, c, c->primary_key, 1);
					cat_col_set(r, ct, c->name, c->type, c->type_full);
					if (c->primary_key)
						adds_pk = 1;
				}
				break;
			case MYSQL_ALTER_MODIFY_COLUMN:
			case MYSQL_ALTER_CHANGE_COLUMN:
				c = sp->cols;
				if (c == NULL)
					break;
				if (sp->kind == MYSQL_ALTER_CHANGE_COLUMN && on(r, "column.disallow-change"))
					x->emit(x, "column.disallow-change", sp->pos.line, sp->pos.column,
							"CHANGE COLUMN \"%s\"; use RENAME COLUMN or MODIFY COLUMN", sp->name);
				old = (ct && ct->known) ? cat_col_find(r, ct, sp->name) : NULL;
				if (on(r, "column.disallow-change-type"))
				{
					if (old && old->type_full && c->type_full && strcmp(old->type_full, c->type_full) != 0)
						x->emit(x, "column.disallow-change-type", sp->pos.line, sp->pos.column,
								"column \"%s\" changes type from %s to %s", sp->name, old->type_full, c->type_full);
					else if (old == NULL)
						x->emit(x, "column.disallow-change-type", sp->pos.line, sp->pos.column,
								"column \"%s\" is redefined as %s; the review cannot see its current type, check it is unchanged",
								sp->name, c->type_full ? c->type_full : c->type);
				}
				check_column(r, c, c->primary_key, sp->kind == MYSQL_ALTER_CHANGE_COLUMN);
				if (ct && ct->known)
				{
					if (sp->kind == MYSQL_ALTER_CHANGE_COLUMN)
						cat_col_drop(r, ct, sp->name);
					cat_col_set(r, ct, c->name, c->type, c->type_full);
				}
				break;
			case MYSQL_ALTER_DROP_COLUMN:
				if (on(r, "column.disallow-drop"))
					x->emit(x, "column.disallow-drop", sp->pos.line, sp->pos.column,
							"DROP COLUMN \"%s\"", sp->name);
				if (ct && on(r, "column.disallow-drop-in-index"))
				{
					cat_index  *ci;
					int			i,
								found = 0;

					for (ci = ct->idx; ci && !found; ci = ci->next)
						for (i = 0; i < ci->cols.n && !found; i++)
							if (strcasecmp(ci->cols.v[i], sp->name) == 0)
							{
								x->emit(x, "column.disallow-drop-in-index", sp->pos.line, sp->pos.column,
										"column \"%s\" is used by index %s", sp->name,
										ci->name ? ci->name : "(unnamed)");
								found = 1;	/* report once */
							}
				}
				cat_col_drop(r, ct, sp->name);
				break;
			case MYSQL_ALTER_RENAME_COLUMN:
				check_name(r, "naming.column", "column", sp->new_name, sp->pos, NULL);
				if (ct && ct->known && sp->name && sp->new_name)
				{
					old = cat_col_find(r, ct, sp->name);
					if (old)
					{
						cat_col_drop(r, ct, sp->name);
						cat_col_set(r, ct, sp->new_name, old->type, old->type_full);
					}
				}
				break;
			case MYSQL_ALTER_ADD_INDEX:
				if (sp->index == NULL)
					break;
				check_index(r, st->table, ct, NULL, sp->index);
				cat_index_add(r, ct, sp->index);
				added_index = 1;
				if (sp->index->kind == MYSQL_IDX_PRIMARY)
					adds_pk = 1;
				break;
			case MYSQL_ALTER_DROP_PRIMARY:
				drops_pk = 1;
				drop_pos = sp->pos;
				break;
			case MYSQL_ALTER_RENAME_TABLE:
				check_name(r, "naming.table", "table", sp->new_name, sp->pos, NULL);
				break;
			case MYSQL_ALTER_DROP_INDEX:
				if (ct && ct->nindex > 0)
					ct->nindex--;
				break;
			default:
				break;
		}
	}
	if (added_index)
		check_index_total(r, ct, st->table, st->pos);
	if (drops_pk && !adds_pk && on(r, "table.require-pk"))
		x->emit(x, "table.require-pk", drop_pos.line, drop_pos.column,
				"DROP PRIMARY KEY leaves table \"%s\" without a primary key", st->table);
	check_table_options(r, st);
}

/* Rules on every SELECT block and LIKE of a statement. */
static void
review_queries(review *r, mysql_stmt *st)
{
	bb_review_ctx *x = r->ctx;
	bb_query_block *b;
	bb_like    *l;

	for (b = st->blocks; b; b = b->next)
	{
		if (b->select_all && on(r, "statement.select.no-select-all"))
			x->emit(x, "statement.select.no-select-all", b->star_line, b->star_column,
					"SELECT * selects every column; list the columns");
		if (b->has_from && !b->has_where && st->kind == MYSQL_STMT_SELECT &&
			on(r, "statement.where.require-select"))
			x->emit(x, "statement.where.require-select", b->line, b->column,
					"SELECT without WHERE reads every row");
		if (b->order_by_rand)
		{
			const char *rule = st->kind == MYSQL_STMT_INSERT ? "statement.insert.disallow-order-by-rand" :
				"statement.disallow-order-by-rand";

			if (on(r, rule))
				x->emit(x, rule, b->rand_line, b->rand_column, "ORDER BY RAND() sorts every row");
		}
		if (b->for_update && on(r, "statement.select.disallow-for-update"))
			x->emit(x, "statement.select.disallow-for-update", b->line, b->column,
					"SELECT ... FOR UPDATE locks rows");
	}
	for (l = st->likes; l; l = l->next)
		if (on(r, "statement.where.no-leading-wildcard-like"))
			x->emit(x, "statement.where.no-leading-wildcard-like", l->line, l->column,
					"LIKE '%s' starts with a wildcard and cannot use an index", l->pattern ? l->pattern : "");
}

/* Rules on statements other than CREATE/ALTER TABLE. */
static void
review_other(review *r, mysql_stmt *st)
{
	bb_review_ctx *x = r->ctx;
	const bb_payload *pl;
	int			i;
	int			line = st->pos.line,
				col = st->pos.column;

	switch (st->kind)
	{
		case MYSQL_STMT_DROP_TABLE:
			if ((pl = on(r, "table.drop-naming-convention")))
				for (i = 0; i < st->names.n && !bb_review_interrupted(x); i++)
					if (bb_review_naming(x, "table.drop-naming-convention", pl, st->names.v[i], NULL,
										 st->name_pos[i].line, st->name_pos[i].column, NULL) > 0)
						x->emit(x, "table.drop-naming-convention", st->name_pos[i].line, st->name_pos[i].column,
								"dropped table \"%s\" does not match %s; rename it first", st->names.v[i],
								pl->format ? pl->format : "");
			break;
		case MYSQL_STMT_DROP_DATABASE:
			if (on(r, "database.drop-empty-database"))
				x->emit(x, "database.drop-empty-database", line, col,
						"DROP DATABASE \"%s\": cannot verify that it is empty; every table in it is dropped",
						st->table);
			break;
		case MYSQL_STMT_CREATE_INDEX:
			if (st->index)
			{
				cat_table  *ct = cat_get(r, st->table, 1);

				check_index(r, st->table, ct, NULL, st->index);
				cat_index_add(r, ct, st->index);
				check_index_total(r, ct, st->table, st->pos);
			}
			break;
		case MYSQL_STMT_DROP_INDEX:
			{
				cat_table  *ct = cat_get(r, st->table, 0);

				if (ct && ct->nindex > 0)
					ct->nindex--;
			}
			break;
		case MYSQL_STMT_RENAME_TABLE:
			for (i = 0; i < st->names.n && !bb_review_interrupted(x); i++)
				check_name(r, "naming.table", "table", st->names.v[i], st->name_pos[i], NULL);
			break;
		case MYSQL_STMT_TRUNCATE:
			if (on(r, "statement.disallow-truncate"))
				x->emit(x, "statement.disallow-truncate", line, col, "TRUNCATE TABLE \"%s\"", st->table);
			break;
		case MYSQL_STMT_INSERT:
			if (!st->has_column_list && !st->insert_set && on(r, "statement.insert.must-specify-column"))
				x->emit(x, "statement.insert.must-specify-column", line, col,
						"INSERT INTO \"%s\" does not list its columns", st->table);
			if ((pl = on(r, "statement.insert.row-limit")) && pl->number > 0 && st->nrows > pl->number)
				x->emit(x, "statement.insert.row-limit", line, col,
						"INSERT inserts %d rows, more than %ld", st->nrows, pl->number);
			break;
		case MYSQL_STMT_UPDATE:
		case MYSQL_STMT_DELETE:
			{
				const char *verb = st->kind == MYSQL_STMT_UPDATE ? "UPDATE" : "DELETE";

				if (!st->has_where && on(r, "statement.where.require-update-delete"))
					x->emit(x, "statement.where.require-update-delete", line, col,
							"%s without WHERE %s every row", verb,
							st->kind == MYSQL_STMT_UPDATE ? "changes" : "deletes");
				if (st->has_limit && on(r, "statement.disallow-limit"))
					x->emit(x, "statement.disallow-limit", st->limit_pos.line, st->limit_pos.column,
							"%s with LIMIT", verb);
				if (st->has_order_by && on(r, "statement.disallow-order-by"))
					x->emit(x, "statement.disallow-order-by", st->order_by_pos.line, st->order_by_pos.column,
							"%s with ORDER BY", verb);
			}
			break;
		case MYSQL_STMT_COMMIT:
			if (on(r, "statement.disallow-commit"))
				x->emit(x, "statement.disallow-commit", line, col, "COMMIT in a change script");
			break;
		case MYSQL_STMT_CREATE_FUNCTION:
			if (on(r, "system.function.disallow-create"))
				x->emit(x, "system.function.disallow-create", line, col, "CREATE FUNCTION is not allowed");
			break;
		case MYSQL_STMT_CREATE_PROCEDURE:
			if (on(r, "system.procedure.disallow-create"))
				x->emit(x, "system.procedure.disallow-create", line, col, "CREATE PROCEDURE is not allowed");
			break;
		case MYSQL_STMT_CREATE_EVENT:
			if (on(r, "system.event.disallow-create"))
				x->emit(x, "system.event.disallow-create", line, col, "CREATE EVENT is not allowed");
			break;
		case MYSQL_STMT_CREATE_VIEW:
			if (on(r, "system.view.disallow-create"))
				x->emit(x, "system.view.disallow-create", line, col, "CREATE VIEW is not allowed");
			break;
		case MYSQL_STMT_CREATE_TRIGGER:
			if (on(r, "table.disallow-trigger"))
				x->emit(x, "table.disallow-trigger", line, col, "CREATE TRIGGER is not allowed");
			break;
		case MYSQL_STMT_LOCK_TABLES:
			if (on(r, "statement.disallow-lock-tables"))
				x->emit(x, "statement.disallow-lock-tables", line, col, "LOCK TABLES in a change script");
			break;
		default:
			break;
	}
}

/* Emits a syntax-error finding (the core's rule in bb_rules_common). */
static void
syntax_error(review *r, int line, int column, const char *msg)
{
	if (r->ctx->rule && r->ctx->rule(r->ctx, BB_RULE_SYNTAX_ERROR))
		r->ctx->emit(r->ctx, BB_RULE_SYNTAX_ERROR, line, column, "%s", msg);
}

/* Reviews one parsed statement. */
static void
review_statement(review *r, mysql_stmt *st)
{
	if (st->kind == MYSQL_STMT_CREATE_TABLE)
	{
		review_create_table(r, st);
		review_queries(r, st);
	}
	else if (st->kind == MYSQL_STMT_ALTER_TABLE)
		review_alter_table(r, st);
	else
	{
		review_other(r, st);
		review_queries(r, st);
	}
}

/* The script-wide state, sized to the script; NULL when out of memory. */
static review *
review_new(bb_review_ctx *ctx, bb_dialect dialect, size_t len)
{
	review	   *r = calloc(1, sizeof(review));

	if (r == NULL)
		return NULL;
	r->ctx = ctx;
	r->dialect = dialect;
	/* small scripts get small tables (a calloc per call), 10 MB ones 64k buckets */
	r->nbuckets = 64;
	while (r->nbuckets < MAX_BUCKETS && r->nbuckets < len / 128)
		r->nbuckets *= 2;
	r->buckets = calloc(r->nbuckets, sizeof(cat_table *));
	r->colhash = calloc(r->nbuckets, sizeof(cat_col *));
	if (r->buckets == NULL || r->colhash == NULL)
	{
		free(r->buckets);
		free(r->colhash);
		free(r);
		return NULL;
	}
	return r;
}

/* Parses and reviews one statement (bb_token_stmt_fn). */
static void
check_statement(bb_review_ctx *ctx, void *arg, bb_arena *a, const bb_token *t, int n)
{
	review	   *r = arg;
	bb_tokens	toks = {(bb_token *) t, n, n};
	mysql_stmt	st;
	char		err[160];
	mysql_pos	epos;
	int			rc;

	r->a = a;
	/* -2: interrupted, the loop stops at its next poll */
	rc = mysql_parse(a, &toks, &st, err, sizeof(err), &epos, ctx);
	if (rc == -1)
	{
		if (!a->oom)			/* out of memory: the loop reports it */
			syntax_error(r, epos.line, epos.column, err);
	}
	else if (rc == 0)
	{
		review_statement(r, &st);
		if (r->cat.oom)
			bb_review_fail(ctx, st.pos.line, st.pos.column,
						   "out of memory recording the tables of the script: some rules did not run");
		r->cat.oom = 0;
	}
	r->a = NULL;
}

/* Checks one MySQL/TiDB script (see review.h): the shared statement loop
 * with a catalog of the tables the script creates. */
void
bb_review_mysql(bb_review_ctx *ctx, bb_dialect dialect, const char *script, size_t len)
{
	review	   *r;

	if (ctx == NULL || ctx->emit == NULL || (script == NULL && len > 0))
		return;
	if (dialect != BB_DIALECT_TIDB)
		dialect = BB_DIALECT_MYSQL;
	r = review_new(ctx, dialect, len);
	if (r == NULL)
	{
		bb_review_fail(ctx, 1, 1, "out of memory preparing the review: nothing was checked");
		return;
	}
	bb_review_token_script(ctx, dialect, script, len, check_statement, r);
	bb_arena_free(&r->cat);
	free(r->buckets);
	free(r->colhash);
	free(r);
}
