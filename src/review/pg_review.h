/*
 * pg_review.h — internals of the PostgreSQL checker (backend code): the state
 * of one script's review and the helpers the rule files share.
 */
#ifndef BB_PG_REVIEW_H
#define BB_PG_REVIEW_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

#include "review/review.h"

/* A table created in the script, for checks made at the end of the script. */
typedef struct pg_created_table
{
	char		key[NAMEDATALEN * 2];	/* hash key: the folded name (truncated) */
	char	   *name;			/* folded name */
	bool		altered;		/* an ALTER TABLE on it was seen */
	bool		created;		/* created by this script (else only altered) */
	bool		pk_unknown;		/* LIKE / INHERITS / PARTITION OF: cannot tell */
	char	   *spelled;		/* as written */
	size_t		offset;			/* script offset of CREATE TABLE */
	bool		has_pk;
	bool		has_comment;
	List	   *columns;		/* pg_created_column * */
	int			nindexes;
	bool		index_limit_reported;
} pg_created_table;

typedef struct pg_created_column
{
	char	   *name;
	size_t		offset;
	bool		has_comment;
	const char *type;			/* canonical type name */
	struct pg_created_column *twin; /* the next column of the table with this name */
} pg_created_column;

/* One script under review. */
typedef struct pg_review
{
	bb_review_ctx *ctx;
	const char *script;
	size_t		len;
	size_t	   *line_starts;	/* offset of each line's first byte */
	int			nlines;
	MemoryContext script_cxt;	/* lives for the whole script */

	/* the statement being checked */
	const char *stmt;			/* NUL-terminated copy of its text */
	size_t		stmt_len;		/* its length (rules look up names per column: no strlen) */
	size_t		stmt_off;		/* its offset in the script */

	/* script-wide state */
	bool		in_transaction;
	bool		lock_timeout_set;
	bool		lock_timeout_reported;
	bool		seen_ddl;
	bool		seen_dml;
	bool		mix_reported;
	List	   *tables;			/* pg_created_table *, in order of appearance */
	HTAB	   *table_hash;		/* the same, by folded name */
	HTAB	   *column_hash;	/* (table, column name) -> first such column */
} pg_review;

/* pg_review.c */
extern const bb_payload *pgr_rule(pg_review *r, const char *id);
extern void pgr_emit(pg_review *r, const char *id, int location, const char *fmt,...) pg_attribute_printf(4, 5);
extern char *pgr_spelled(pg_review *r, int location, const char *folded);
extern void pgr_check_naming(pg_review *r, const char *id, const bb_payload *p, const char *name,
							 int location, const char *what, const char *const *keys,
							 const char *const *vals, int nkeys);
extern bool pgr_in_list(const bb_payload *p, const char *s);
extern pg_created_table *pgr_table(pg_review *r, const char *name);
extern pg_created_table *pgr_table_entry(pg_review *r, const char *name, const char *spelled, bool created);
extern pg_created_column *pgr_column(pg_review *r, pg_created_table *t, const char *name);
extern void pgr_add_column(pg_review *r, pg_created_table *t, pg_created_column *c);
extern void pgr_walk_dml(pg_review *r, Node *node);
extern char *pgr_join_names(List *names, const char *sep);
extern const char *pgr_type_name(TypeName *t);
extern bool pgr_is_volatile_expr(Node *expr);
extern void pgr_lock_ddl(pg_review *r, const char *table, int location);

/* pg_rules_ddl.c: CREATE/ALTER TABLE, columns, constraints, indexes */
extern void pgr_create_table(pg_review *r, CreateStmt *s);
extern void pgr_alter_table(pg_review *r, AlterTableStmt *s);
extern void pgr_create_index(pg_review *r, IndexStmt *s);
extern void pgr_finish_tables(pg_review *r);

/* pg_rules_misc.c: DML, DROP, TRUNCATE, transactions, routines, ... */
extern void pgr_check_stmt(pg_review *r, Node *stmt);

#endif
