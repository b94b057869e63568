/*
 * mysql_ast.h — what the MySQL/TiDB parser extracts from one statement for
 * the review rules.  Every node lives in the statement's arena.
 */
#ifndef BB_MYSQL_AST_H
#define BB_MYSQL_AST_H

#include "token.h"

typedef struct mysql_pos
{
	int			line;
	int			column;
} mysql_pos;

typedef struct mysql_names
{
	char	  **v;
	int			n;
	int			cap;
} mysql_names;

typedef enum mysql_null_state
{
	MYSQL_NULL_UNSPEC = 0,
	MYSQL_NULL_YES,
	MYSQL_NULL_NO
} mysql_null_state;

typedef struct mysql_column
{
	char	   *name;
	mysql_pos	pos;
	char	   *type;			/* lower-case base type: "int", "varchar", ... */
	char	   *type_full;		/* "varchar(20)", "int unsigned": for type-change checks */
	long		length;			/* first type argument, -1 when none */
	int			is_unsigned;
	mysql_null_state null_state;
	int			has_default;
	int			default_null;	/* DEFAULT NULL */
	int			default_now;	/* DEFAULT CURRENT_TIMESTAMP / NOW() ... */
	int			on_update_now;	/* ON UPDATE CURRENT_TIMESTAMP */
	int			auto_increment;
	int			auto_random;
	int			primary_key;	/* inline PRIMARY KEY */
	int			unique_key;		/* inline UNIQUE */
	int			generated;		/* AS (expr) */
	char	   *comment;		/* NULL when none */
	char	   *charset;
	char	   *collate;
	int			first;			/* ALTER ... FIRST */
	char	   *after;			/* ALTER ... AFTER col */
	mysql_pos	order_pos;		/* where FIRST/AFTER is */
	int			fk_inline;		/* inline REFERENCES */
	int			on_delete_cascade;
	mysql_pos	cascade_pos;
	struct mysql_column *next;
} mysql_column;

typedef enum mysql_index_kind
{
	MYSQL_IDX_PRIMARY,
	MYSQL_IDX_UNIQUE,
	MYSQL_IDX_PLAIN,
	MYSQL_IDX_FULLTEXT,
	MYSQL_IDX_SPATIAL,
	MYSQL_IDX_FOREIGN,
	MYSQL_IDX_CHECK
} mysql_index_kind;

typedef struct mysql_index
{
	mysql_index_kind kind;
	char	   *name;			/* NULL when unnamed */
	mysql_pos	pos;
	mysql_names cols;
	char	   *ref_table;
	mysql_names ref_cols;
	int			on_delete_cascade;
	mysql_pos	cascade_pos;
	int			clustered;		/* TiDB: 1 CLUSTERED, 2 NONCLUSTERED, 0 unspecified */
	struct mysql_index *next;
} mysql_index;

typedef struct mysql_table_opts
{
	char	   *engine;
	mysql_pos	engine_pos;
	char	   *charset;
	mysql_pos	charset_pos;
	char	   *collate;
	mysql_pos	collate_pos;
	char	   *comment;
	long		auto_increment; /* -1 when not given */
	mysql_pos	auto_increment_pos;
	int			partition;
	mysql_pos	partition_pos;
	long		shard_row_id_bits;	/* TiDB; -1 when not given */
	long		pre_split_regions;	/* TiDB; -1 when not given */
	mysql_pos	pre_split_pos;
} mysql_table_opts;

typedef enum mysql_alter_kind
{
	MYSQL_ALTER_ADD_COLUMN,
	MYSQL_ALTER_DROP_COLUMN,
	MYSQL_ALTER_MODIFY_COLUMN,
	MYSQL_ALTER_CHANGE_COLUMN,
	MYSQL_ALTER_RENAME_COLUMN,
	MYSQL_ALTER_COLUMN_DEFAULT,
	MYSQL_ALTER_ADD_INDEX,
	MYSQL_ALTER_DROP_INDEX,
	MYSQL_ALTER_DROP_PRIMARY,
	MYSQL_ALTER_DROP_FOREIGN,
	MYSQL_ALTER_RENAME_INDEX,
	MYSQL_ALTER_RENAME_TABLE,
	MYSQL_ALTER_OPTIONS,
	MYSQL_ALTER_CONVERT_CHARSET,
	MYSQL_ALTER_OTHER
} mysql_alter_kind;

typedef struct mysql_alter_spec
{
	mysql_alter_kind kind;
	mysql_pos	pos;
	mysql_column *cols;			/* ADD (one or a parenthesized list) / MODIFY / CHANGE */
	char	   *name;			/* DROP/RENAME/CHANGE/ALTER COLUMN: the old name; DROP INDEX name */
	char	   *new_name;		/* RENAME ... TO */
	mysql_index *index;			/* ADD INDEX/KEY/UNIQUE/PRIMARY/FOREIGN */
	struct mysql_alter_spec *next;
} mysql_alter_spec;

typedef enum mysql_stmt_kind
{
	MYSQL_STMT_OTHER = 0,
	MYSQL_STMT_CREATE_TABLE,
	MYSQL_STMT_ALTER_TABLE,
	MYSQL_STMT_DROP_TABLE,
	MYSQL_STMT_DROP_DATABASE,
	MYSQL_STMT_CREATE_INDEX,
	MYSQL_STMT_DROP_INDEX,
	MYSQL_STMT_RENAME_TABLE,
	MYSQL_STMT_TRUNCATE,
	MYSQL_STMT_INSERT,
	MYSQL_STMT_UPDATE,
	MYSQL_STMT_DELETE,
	MYSQL_STMT_SELECT,
	MYSQL_STMT_CREATE_FUNCTION,
	MYSQL_STMT_CREATE_PROCEDURE,
	MYSQL_STMT_CREATE_EVENT,
	MYSQL_STMT_CREATE_TRIGGER,
	MYSQL_STMT_CREATE_VIEW,
	MYSQL_STMT_COMMIT,
	MYSQL_STMT_BEGIN,
	MYSQL_STMT_SET,
	MYSQL_STMT_LOCK_TABLES
} mysql_stmt_kind;

typedef struct mysql_stmt
{
	mysql_stmt_kind kind;
	mysql_pos	pos;			/* first token */
	char	   *table;			/* main table (last name part) */
	mysql_pos	table_pos;
	int			temporary;
	int			if_exists;
	int			if_not_exists;

	/* CREATE TABLE */
	mysql_column *cols;
	mysql_index *indexes;		/* table constraints and inline keys */
	mysql_table_opts opts;
	int			like;			/* CREATE TABLE ... LIKE */
	int			as_select;		/* CREATE TABLE ... AS SELECT */

	/* ALTER TABLE */
	mysql_alter_spec *specs;

	/* DROP TABLE, RENAME TABLE (new names) */
	mysql_names names;
	mysql_pos  *name_pos;		/* one per names.v */

	/* CREATE INDEX / DROP INDEX: the index; DROP INDEX name in index->name */
	mysql_index *index;

	/* INSERT */
	int			has_column_list;
	int			insert_set;		/* INSERT ... SET a = 1 */
	int			insert_select;
	int			nrows;

	/* UPDATE / DELETE */
	int			has_where;
	int			has_order_by;
	mysql_pos	order_by_pos;
	int			has_limit;
	mysql_pos	limit_pos;

	/* anything with queries */
	bb_query_block *blocks;
	bb_like    *likes;
} mysql_stmt;

/* Parses one statement's tokens into *out (nodes in arena `a`), polling
 * ctx for interrupts.  Returns 0, -1 with a message in errbuf and the error
 * position, or -2 when interrupted (nothing to report). */
int			mysql_parse(bb_arena *a, const bb_tokens *toks, mysql_stmt *out,
						char *errbuf, size_t errlen, mysql_pos *errpos, bb_review_ctx *ctx);

#endif
