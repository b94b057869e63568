/*
 * token.h — the tokenizer, arena and naming-template matcher shared by the
 * MySQL/TiDB parser and the ClickHouse and Snowflake token-level checkers.
 * Plain C (no PostgreSQL headers): builds into the extension and into the
 * standalone fuzz/unit-test programs.
 */
#ifndef BB_REVIEW_TOKEN_H
#define BB_REVIEW_TOKEN_H

#include <stddef.h>
#include "review.h"

typedef enum bb_tok_kind
{
	BB_TOK_IDENT = 0,			/* bare word: keyword or identifier */
	BB_TOK_QIDENT,				/* `quoted` or "quoted" identifier */
	BB_TOK_STRING,				/* 'string', $$body$$, MySQL "string" */
	BB_TOK_NUMBER,
	BB_TOK_VAR,					/* @x @@x :x $1 ? */
	BB_TOK_OP					/* punctuation / operator */
} bb_tok_kind;

typedef struct bb_token
{
	bb_tok_kind kind;
	const char *p;				/* raw text (points into the script) */
	size_t		len;
	int			line;			/* 1-based position in the whole script */
	int			column;
	int			unterminated;	/* a quote that runs to the end of the input */
} bb_token;

typedef struct bb_tokens
{
	bb_token   *v;
	int			n;
	int			cap;
} bb_tokens;

/* A running line/column position over a script (statements come in order). */
typedef struct bb_cursor
{
	const char *script;
	size_t		len;
	size_t		pos;
	int			line;
	int			column;
} bb_cursor;

void		bb_cursor_init(bb_cursor *c, const char *script, size_t len);
void		bb_cursor_advance(bb_cursor *c, size_t to);

/* Tokenizes script[start, end) (positions taken from the cursor, which is
 * advanced to end).  Returns 0, or -1 when out of memory. */
int			bb_tokenize(bb_dialect dialect, bb_cursor *cur, size_t start, size_t end,
						bb_tokens *out);
void		bb_tokens_free(bb_tokens *t);

/* token tests */
int			bb_tok_kw(const bb_token *t, const char *kw);	/* bare word, any case */
int			bb_tok_op(const bb_token *t, const char *op);
int			bb_tok_is_name(const bb_token *t);	/* IDENT or QIDENT */

/* With t[i] at "(": the index after its matching ")" (n when unclosed). */
int			bb_tok_skip_parens(const bb_token *t, int n, int i);

/* A possibly qualified name (a.b.c) starting at t[i]: returns the index
 * after it and sets *last to its last part (-1 and i when no name is there). */
int			bb_tok_qualified_name(const bb_token *t, int n, int i, int *last);

/* A bump allocator freed as a whole (one per statement). */
typedef struct bb_arena_chunk bb_arena_chunk;
typedef struct bb_arena
{
	bb_arena_chunk *head;
	int			oom;
} bb_arena;

void	   *bb_arena_alloc(bb_arena *a, size_t n);	/* zeroed; NULL when out of memory */
char	   *bb_arena_strndup(bb_arena *a, const char *s, size_t n);
void		bb_arena_free(bb_arena *a);

/* Name text of an identifier/string token without quotes (doubled quotes and,
 * for strings, backslash escapes undone); fold: 0 keep, 'l' lower, 'u' upper. */
char	   *bb_tok_text(bb_arena *a, const bb_token *t, int fold);

/* Naming check of `name` against a NAMING payload: max_length first, then
 * the format with its templates ({{table}}, {{column_list}},
 * {{referencing_table}}, {{referencing_column}}, {{referenced_table}},
 * {{referenced_column}}, {{referenced_column_list}}) replaced by the
 * regex-escaped values, searched as a POSIX extended regex (bb_regex_match;
 * anchor with ^...$ in the format, as the defaults do).
 * Returns 0 ok, 1 no match (*expanded, when asked, gets the malloc'd pattern
 * for the message; caller frees), 2 longer than max_length, -1 skipped (no
 * name, bad regex or out of memory). */
typedef struct bb_naming_vars
{
	const char *table;
	const char *column_list;	/* columns joined with '_' */
	const char *referenced_table;
	const char *referenced_column_list;
} bb_naming_vars;

int			bb_naming_check(const bb_payload *pl, const char *name, const bb_naming_vars *vars,
							char **expanded);

/* 1 when `s` equals (case-insensitively) one entry of a LIST payload. */
int			bb_payload_has(const bb_payload *pl, const char *s);

/* One SELECT query block seen anywhere in a statement. */
typedef struct bb_query_block
{
	int			line;			/* the SELECT keyword */
	int			column;
	int			has_from;
	int			has_where;
	int			has_limit;
	int			select_all;		/* '*' or t.* in the select list */
	int			star_line;
	int			star_column;
	int			order_by_rand;
	int			rand_line;
	int			rand_column;
	int			for_update;
	int			final;			/* FROM t FINAL (ClickHouse) */
	int			final_line;
	int			final_column;
	struct bb_query_block *next;
} bb_query_block;

/* A LIKE whose pattern starts with a wildcard. */
typedef struct bb_like
{
	int			line;
	int			column;
	char	   *pattern;
	struct bb_like *next;
} bb_like;

/* Appends the SELECT blocks and leading-wildcard LIKEs of tokens [from, n) to
 * the lists (nodes in the arena); iterative, any nesting depth.  0, or -1
 * when out of memory. */
int			bb_scan_queries(bb_arena *a, const bb_token *t, int n, int from,
							bb_query_block **blocks, bb_like **likes);

/* Looks a rule up in a NULL-terminated table. */
const bb_rule_def *bb_rule_find(const bb_rule_def *table, const char *id);

/* Per-run rule view: the payload when the rule is on for this dialect. */
const bb_payload *bb_rule_on(bb_review_ctx *ctx, const bb_rule_def *table,
							 bb_dialect dialect, const char *id);

#endif
