/*
 * mysql_parser.c — recursive-descent parser for the MySQL/TiDB DDL and the
 * DML shapes the review rules look at.  Works on the token array of one
 * statement; all nodes go to the statement's arena; errors unwind with
 * longjmp (nothing but arena memory is live, so nothing leaks).  Parenthesis
 * nesting is checked up front (MYSQL_MAX_DEPTH) and everything that walks
 * nested input is iterative, so deep input cannot overflow the stack.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checker.h"
#include "mysql_ast.h"

#define MYSQL_MAX_DEPTH 1000
#define MYSQL_MAX_COLUMNS 4096		/* MySQL's own limit per table */
#define MYSQL_MAX_KEY_PARTS 64		/* MySQL allows 16 */
#define MYSQL_MAX_INDEXES 1024		/* MySQL allows 64 */
#define POLL_EVERY 4096				/* token looks between interrupt polls */

typedef struct parser
{
	bb_arena   *a;
	const bb_token *t;
	int			n;
	int			i;
	char	   *err;
	size_t		errlen;
	mysql_pos	errpos;
	jmp_buf		jb;
	bb_review_ctx *ctx;			/* polled for interrupts */
	int			budget;			/* token looks left before the next poll */
	int			interrupted;
} parser;

/* ---- token helpers ------------------------------------------------------ */

/* Every few thousand token looks: unwinds when the run must stop (a 4 MB
 * statement is millions of tokens). */
static void
poll(parser *p)
{
	if (--p->budget > 0)
		return;
	p->budget = POLL_EVERY;
	if (bb_review_interrupted(p->ctx))
	{
		p->interrupted = 1;
		longjmp(p->jb, 1);
	}
}

/* The token k ahead of the cursor, or NULL past the end. */
static const bb_token *
peek(parser *p, int k)
{
	int			j = p->i + k;

	poll(p);
	return (j >= 0 && j < p->n) ? &p->t[j] : NULL;
}

/* Position of the current token (the end of the statement when past it). */
static mysql_pos
here(parser *p)
{
	mysql_pos	r = {0, 0};
	const bb_token *t = peek(p, 0);

	if (t == NULL && p->n > 0)
		t = &p->t[p->n - 1];
	if (t)
	{
		r.line = t->line;
		r.column = t->column;
	}
	return r;
}

/* Unwinds to mysql_parse with a message naming the offending token. */
static void
fail(parser *p, const char *what)
{
	const bb_token *t = peek(p, 0);

	p->errpos = here(p);
	if (t)
		snprintf(p->err, p->errlen, "%s at \"%.*s\"", what, (int) (t->len > 40 ? 40 : t->len), t->p);
	else
		snprintf(p->err, p->errlen, "%s at end of statement", what);
	longjmp(p->jb, 1);
}

/* Arena allocation that unwinds when memory runs out. */
static void *
palloc0_(parser *p, size_t n)
{
	void	   *r = bb_arena_alloc(p->a, n);

	if (r == NULL)
	{
		snprintf(p->err, p->errlen, "out of memory");
		p->errpos = here(p);
		longjmp(p->jb, 1);
	}
	return r;
}

/* Is the current token this keyword (any case)? */
static int
is_kw(parser *p, const char *kw)
{
	return bb_tok_kw(peek(p, 0), kw);
}

/* Is the current token this operator? */
static int
is_op(parser *p, const char *op)
{
	return bb_tok_op(peek(p, 0), op);
}

/* Consumes the keyword when it is next. */
static int
accept_kw(parser *p, const char *kw)
{
	if (is_kw(p, kw))
	{
		p->i++;
		return 1;
	}
	return 0;
}

/* Consumes the operator when it is next. */
static int
accept_op(parser *p, const char *op)
{
	if (is_op(p, op))
	{
		p->i++;
		return 1;
	}
	return 0;
}

/* Consumes a required keyword, else a syntax error naming it. */
static void
expect_kw(parser *p, const char *kw)
{
	char		msg[64];

	if (!accept_kw(p, kw))
	{
		snprintf(msg, sizeof(msg), "expected %s", kw);
		fail(p, msg);
	}
}

/* Consumes a required operator, else a syntax error naming it. */
static void
expect_op(parser *p, const char *op)
{
	char		msg[64];

	if (!accept_op(p, op))
	{
		snprintf(msg, sizeof(msg), "expected \"%s\"", op);
		fail(p, msg);
	}
}

/* Past the last token of the statement? */
static int
at_end(parser *p)
{
	return p->i >= p->n;
}

/* MariaDB's IF [NOT] EXISTS before an object name. */
static void
accept_if_exists(parser *p)
{
	if (is_kw(p, "IF") && (bb_tok_kw(peek(p, 1), "EXISTS") ||
						   (bb_tok_kw(peek(p, 1), "NOT") && bb_tok_kw(peek(p, 2), "EXISTS"))))
		p->i += bb_tok_kw(peek(p, 1), "EXISTS") ? 2 : 3;
}

/* Text of the current token (unquoted), advancing past it. */
static char *
take_text(parser *p, int fold)
{
	char	   *s = bb_tok_text(p->a, peek(p, 0), fold);

	if (s == NULL)
		fail(p, "out of memory");
	p->i++;
	return s;
}

/* An identifier, possibly qualified (db.tbl): returns its last part. */
static char *
parse_name(parser *p, mysql_pos *pos)
{
	char	   *s;

	if (!bb_tok_is_name(peek(p, 0)))
		fail(p, "expected a name");
	if (pos)
		*pos = here(p);
	s = take_text(p, 0);
	while (is_op(p, ".") && bb_tok_is_name(peek(p, 1)))
	{
		p->i++;
		if (pos)
			*pos = here(p);
		s = take_text(p, 0);
	}
	return s;
}

/* A value token of an option (name, number or string). */
static char *
parse_value(parser *p)
{
	const bb_token *t = peek(p, 0);

	if (t == NULL || t->kind == BB_TOK_OP)
		fail(p, "expected a value");
	return take_text(p, 0);
}

/* Skips a balanced ( ... ) group starting at the cursor (iteratively). */
static void
skip_parens(parser *p)
{
	int			depth = 0;

	if (!is_op(p, "("))
		fail(p, "expected \"(\"");
	do
	{
		if (at_end(p))
			fail(p, "unbalanced parentheses");
		if (is_op(p, "("))
			depth++;
		else if (is_op(p, ")"))
			depth--;
		p->i++;
	} while (depth > 0);
}

/* Skips to the next ',' or ')' at this nesting level, or to the end. */
static void
skip_to_comma(parser *p)
{
	while (!at_end(p) && !is_op(p, ",") && !is_op(p, ")"))
	{
		if (is_op(p, "("))
			skip_parens(p);
		else
			p->i++;
	}
}

/* A numeric option value (0x.. allowed); -1 when absent. */
static long
to_long(const char *s)
{
	return s ? strtol(s, NULL, 0) : -1;
}

/* Appends a string to a name list (capacity doubles: linear in total). */
static void
names_add(parser *p, mysql_names *l, char *s)
{
	if (l->n == l->cap)
	{
		int			ncap = l->cap ? l->cap * 2 : 8;
		char	  **nv = palloc0_(p, sizeof(char *) * (size_t) ncap);

		if (l->n > 0)
			memcpy(nv, l->v, sizeof(char *) * (size_t) l->n);
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = s;
}

/* ---- DML shape scanning -------------------------------------------------- */

/* Records SELECT blocks and LIKE patterns of tokens [from, n) (token.c). */
static void
scan_queries(parser *p, mysql_stmt *st, int from)
{
	bb_query_block **bt = &st->blocks;
	bb_like   **lt = &st->likes;

	while (*bt)
		bt = &(*bt)->next;
	while (*lt)
		lt = &(*lt)->next;
	if (bb_scan_queries(p->a, p->t, p->n, from, bt, lt) < 0)
		fail(p, "out of memory");
}

/* ---- column definitions -------------------------------------------------- */

/* Is the current token one that ends a column definition? */
static int
column_end(parser *p)
{
	return at_end(p) || is_op(p, ",") || is_op(p, ")");
}

/* DEFAULT / ON UPDATE value: a literal, a function call, or (expr). */
static void
parse_default_value(parser *p, mysql_column *c, int on_update)
{
	const bb_token *t;

	while (is_op(p, "-") || is_op(p, "+"))
		p->i++;
	t = peek(p, 0);
	if (t == NULL || column_end(p))
		fail(p, "expected a default value");
	if (is_op(p, "("))
	{
		skip_parens(p);
		return;
	}
	if (bb_tok_kw(t, "CURRENT_TIMESTAMP") || bb_tok_kw(t, "NOW") || bb_tok_kw(t, "LOCALTIME") ||
		bb_tok_kw(t, "LOCALTIMESTAMP") || bb_tok_kw(t, "CURRENT_TIME") || bb_tok_kw(t, "CURDATE") ||
		bb_tok_kw(t, "CURRENT_DATE") || bb_tok_kw(t, "SYSDATE") || bb_tok_kw(t, "UTC_TIMESTAMP"))
	{
		if (on_update)
			c->on_update_now = 1;
		else
			c->default_now = 1;
	}
	else if (bb_tok_kw(t, "NULL") && !on_update)
		c->default_null = 1;
	else if (t->kind == BB_TOK_OP)
		fail(p, "expected a default value");
	p->i++;
	if (t->kind == BB_TOK_IDENT && is_op(p, "("))
		skip_parens(p);			/* function call */
	while (peek(p, 0) && peek(p, 0)->kind == BB_TOK_STRING)
		p->i++;					/* _utf8mb4'x', b'01', 'a' 'b' */
}

/* ON DELETE / ON UPDATE actions after REFERENCES t (cols). */
static void
parse_reference(parser *p, char **ref_table, mysql_names *ref_cols, int *cascade, mysql_pos *cpos)
{
	expect_kw(p, "REFERENCES");
	*ref_table = parse_name(p, NULL);
	if (is_op(p, "("))
	{
		p->i++;
		while (!at_end(p) && !is_op(p, ")"))
		{
			if (ref_cols->n >= MYSQL_MAX_KEY_PARTS)
				fail(p, "too many referenced columns");
			if (bb_tok_is_name(peek(p, 0)))
				names_add(p, ref_cols, take_text(p, 0));
			skip_to_comma(p);
			accept_op(p, ",");
		}
		expect_op(p, ")");
	}
	if (accept_kw(p, "MATCH"))
		parse_value(p);
	while (is_kw(p, "ON"))
	{
		int			del;

		p->i++;
		del = is_kw(p, "DELETE");
		if (!accept_kw(p, "DELETE") && !accept_kw(p, "UPDATE"))
			fail(p, "expected DELETE or UPDATE");
		if (is_kw(p, "CASCADE"))
		{
			if (del)
			{
				*cascade = 1;
				*cpos = here(p);
			}
			p->i++;
		}
		else if (accept_kw(p, "RESTRICT"))
			;
		else if (accept_kw(p, "SET"))
		{
			if (!accept_kw(p, "NULL") && !accept_kw(p, "DEFAULT"))
				fail(p, "expected NULL or DEFAULT");
		}
		else if (accept_kw(p, "NO"))
			expect_kw(p, "ACTION");
		else
			fail(p, "expected a referential action");
	}
}

/* The written type (tokens [from, cursor)), lower-cased, blanks only
 * between words: "int(11) unsigned", "varchar(20)", "enum('a','b')". */
static void
type_text(parser *p, mysql_column *c, int from)
{
	size_t		n = 1;
	int			k;
	char	   *s;

	for (k = from; k < p->i; k++)
		n += p->t[k].len + 1;
	s = palloc0_(p, n);
	n = 0;
	for (k = from; k < p->i; k++)
	{
		size_t		j;

		if (k > from && p->t[k].kind == BB_TOK_IDENT && p->t[k - 1].kind != BB_TOK_OP)
			s[n++] = ' ';
		for (j = 0; j < p->t[k].len; j++)
			s[n++] = p->t[k].kind == BB_TOK_STRING ? p->t[k].p[j] : (char) tolower((unsigned char) p->t[k].p[j]);
	}
	s[n] = '\0';
	c->type_full = s;
}

/* Type name, arguments and type attributes of a column. */
static void
parse_type(parser *p, mysql_column *c)
{
	const bb_token *t = peek(p, 0);
	int			from = p->i;

	if (t == NULL || t->kind != BB_TOK_IDENT)
		fail(p, "expected a data type");
	if (bb_tok_kw(t, "NATIONAL") || bb_tok_kw(t, "LONG"))
		p->i++;
	if (peek(p, 0) == NULL || peek(p, 0)->kind != BB_TOK_IDENT)
		fail(p, "expected a data type");
	c->type = take_text(p, 'l');
	c->length = -1;
	if ((strcmp(c->type, "double") == 0 && accept_kw(p, "PRECISION")) ||
		((strcmp(c->type, "character") == 0 || strcmp(c->type, "char") == 0) && accept_kw(p, "VARYING")))
	{
		if (strcmp(c->type, "double") != 0)
			c->type = "varchar";
	}
	if (strcmp(c->type, "character") == 0)
		c->type = "char";
	if (strcmp(c->type, "serial") == 0)
	{
		c->type = "bigint";
		c->is_unsigned = 1;
		c->auto_increment = 1;
		c->null_state = MYSQL_NULL_NO;
		c->unique_key = 1;
	}
	if (is_op(p, "("))
	{
		const bb_token *a = peek(p, 1);

		if (a && a->kind == BB_TOK_NUMBER)
			c->length = to_long(bb_tok_text(p->a, a, 0));
		skip_parens(p);
	}
	for (;;)
	{
		if (accept_kw(p, "UNSIGNED"))
			c->is_unsigned = 1;
		else if (accept_kw(p, "SIGNED") || accept_kw(p, "ZEROFILL") || accept_kw(p, "BINARY") ||
				 accept_kw(p, "ASCII") || accept_kw(p, "UNICODE"))
			;
		else if (is_kw(p, "CHARACTER") || is_kw(p, "CHARSET"))
		{
			if (accept_kw(p, "CHARACTER"))
				expect_kw(p, "SET");
			else
				p->i++;
			c->charset = parse_value(p);
		}
		else
			break;
	}
	type_text(p, c, from);
}

/* A column definition after its name (shared by CREATE and ALTER). */
static mysql_column *
parse_column_def(parser *p, char *name, mysql_pos pos, int in_alter)
{
	mysql_column *c = palloc0_(p, sizeof(mysql_column));

	c->name = name;
	c->pos = pos;
	parse_type(p, c);
	while (!column_end(p))
	{
		if (in_alter && (is_kw(p, "FIRST") || is_kw(p, "AFTER")))
		{
			c->order_pos = here(p);
			if (accept_kw(p, "FIRST"))
				c->first = 1;
			else
			{
				p->i++;
				c->after = parse_name(p, NULL);
			}
		}
		else if (accept_kw(p, "NOT"))
		{
			expect_kw(p, "NULL");
			c->null_state = MYSQL_NULL_NO;
		}
		else if (accept_kw(p, "NULL"))
			c->null_state = MYSQL_NULL_YES;
		else if (accept_kw(p, "DEFAULT"))
		{
			c->has_default = 1;
			parse_default_value(p, c, 0);
		}
		else if (is_kw(p, "ON") && bb_tok_kw(peek(p, 1), "UPDATE"))
		{
			p->i += 2;
			parse_default_value(p, c, 1);
		}
		else if (accept_kw(p, "AUTO_INCREMENT"))
			c->auto_increment = 1;
		else if (accept_kw(p, "AUTO_RANDOM"))
		{
			c->auto_random = 1;
			if (is_op(p, "("))
				skip_parens(p);
		}
		else if (accept_kw(p, "UNIQUE"))
		{
			c->unique_key = 1;
			accept_kw(p, "KEY");
		}
		else if (accept_kw(p, "PRIMARY"))
		{
			expect_kw(p, "KEY");
			c->primary_key = 1;
		}
		else if (accept_kw(p, "KEY"))
			c->primary_key = 1;
		else if (accept_kw(p, "COMMENT"))
			c->comment = parse_value(p);
		else if (accept_kw(p, "COLLATE"))
			c->collate = parse_value(p);
		else if (is_kw(p, "CHARACTER") || is_kw(p, "CHARSET"))
		{
			if (accept_kw(p, "CHARACTER"))
				expect_kw(p, "SET");
			else
				p->i++;
			c->charset = parse_value(p);
		}
		else if (is_kw(p, "GENERATED") || is_kw(p, "AS"))
		{
			if (accept_kw(p, "GENERATED"))
				expect_kw(p, "ALWAYS");
			expect_kw(p, "AS");
			skip_parens(p);
			c->generated = 1;
			if (!accept_kw(p, "VIRTUAL"))
				accept_kw(p, "STORED");
		}
		else if (is_kw(p, "REFERENCES"))
		{
			char	   *rt;
			mysql_names rc = {0};

			c->fk_inline = 1;
			parse_reference(p, &rt, &rc, &c->on_delete_cascade, &c->cascade_pos);
		}
		else if (accept_kw(p, "CONSTRAINT"))
		{
			if (!is_kw(p, "CHECK"))
				parse_name(p, NULL);
		}
		else if (accept_kw(p, "CHECK"))
		{
			skip_parens(p);
			accept_kw(p, "NOT");
			accept_kw(p, "ENFORCED");
		}
		else if (accept_kw(p, "VISIBLE") || accept_kw(p, "INVISIBLE"))
			;
		else if (accept_kw(p, "SERIAL"))
		{
			expect_kw(p, "DEFAULT");
			expect_kw(p, "VALUE");
		}
		else if (accept_kw(p, "COLUMN_FORMAT") || accept_kw(p, "STORAGE") || accept_kw(p, "SRID"))
			parse_value(p);
		else if (accept_kw(p, "ENGINE_ATTRIBUTE") || accept_kw(p, "SECONDARY_ENGINE_ATTRIBUTE"))
		{
			accept_op(p, "=");
			parse_value(p);
		}
		else
			fail(p, "unexpected token in the definition of a column");
	}
	return c;
}

/* ---- index definitions --------------------------------------------------- */

/* ( key_part, ... ): column names (prefix lengths and ASC/DESC dropped);
 * a functional key part is recorded as "(expression)". */
static void
parse_key_parts(parser *p, mysql_names *cols)
{
	expect_op(p, "(");
	do
	{
		if (cols->n >= MYSQL_MAX_KEY_PARTS)
			fail(p, "too many key parts (MySQL allows 16)");
		if (is_op(p, "("))
		{
			skip_parens(p);
			names_add(p, cols, "(expression)");
		}
		else
			names_add(p, cols, parse_name(p, NULL));
		if (is_op(p, "("))
			skip_parens(p);
		if (!accept_kw(p, "ASC"))
			accept_kw(p, "DESC");
	} while (accept_op(p, ","));
	expect_op(p, ")");
}

/* USING BTREE, COMMENT '...', VISIBLE, TiDB's CLUSTERED ... */
static void
parse_index_options(parser *p, mysql_index *ix)
{
	for (;;)
	{
		if (accept_kw(p, "USING") || accept_kw(p, "TYPE"))
			parse_value(p);
		else if (accept_kw(p, "KEY_BLOCK_SIZE"))
		{
			accept_op(p, "=");
			parse_value(p);
		}
		else if (accept_kw(p, "COMMENT"))
			parse_value(p);
		else if (accept_kw(p, "WITH"))
		{
			expect_kw(p, "PARSER");
			parse_value(p);
		}
		else if (accept_kw(p, "VISIBLE") || accept_kw(p, "INVISIBLE") || accept_kw(p, "GLOBAL") ||
				 accept_kw(p, "LOCAL"))
			;
		else if (accept_kw(p, "CLUSTERED"))
			ix->clustered = 1;
		else if (accept_kw(p, "NONCLUSTERED"))
			ix->clustered = 2;
		else
			break;
	}
}

/* An index/constraint definition, at the keyword after [CONSTRAINT [sym]]. */
static mysql_index *
parse_index_def(parser *p, char *symbol, mysql_pos pos)
{
	mysql_index *ix = palloc0_(p, sizeof(mysql_index));

	ix->pos = pos;
	ix->name = symbol;
	if (accept_kw(p, "PRIMARY"))
	{
		expect_kw(p, "KEY");
		ix->kind = MYSQL_IDX_PRIMARY;
	}
	else if (accept_kw(p, "UNIQUE"))
	{
		if (!accept_kw(p, "INDEX"))
			accept_kw(p, "KEY");
		ix->kind = MYSQL_IDX_UNIQUE;
	}
	else if (accept_kw(p, "INDEX") || accept_kw(p, "KEY"))
		ix->kind = MYSQL_IDX_PLAIN;
	else if (is_kw(p, "FULLTEXT") || is_kw(p, "SPATIAL"))
	{
		ix->kind = is_kw(p, "FULLTEXT") ? MYSQL_IDX_FULLTEXT : MYSQL_IDX_SPATIAL;
		p->i++;
		if (!accept_kw(p, "INDEX"))
			accept_kw(p, "KEY");
	}
	else if (accept_kw(p, "FOREIGN"))
	{
		expect_kw(p, "KEY");
		ix->kind = MYSQL_IDX_FOREIGN;
	}
	else if (accept_kw(p, "CHECK"))
	{
		ix->kind = MYSQL_IDX_CHECK;
		skip_parens(p);
		accept_kw(p, "NOT");
		accept_kw(p, "ENFORCED");
		return ix;
	}
	else
		fail(p, "expected an index or constraint");

	/* optional index name (the CONSTRAINT symbol is the fallback) */
	accept_if_exists(p);
	if (bb_tok_is_name(peek(p, 0)) && !is_kw(p, "USING") && !is_kw(p, "TYPE"))
		ix->name = parse_name(p, NULL);
	parse_index_options(p, ix);
	parse_key_parts(p, &ix->cols);
	if (ix->kind == MYSQL_IDX_FOREIGN)
		parse_reference(p, &ix->ref_table, &ix->ref_cols, &ix->on_delete_cascade, &ix->cascade_pos);
	else
		parse_index_options(p, ix);
	return ix;
}

/* Is the cursor at the start of a table constraint (not a column)? */
static int
at_constraint(parser *p)
{
	return is_kw(p, "CONSTRAINT") || is_kw(p, "PRIMARY") || is_kw(p, "UNIQUE") ||
		is_kw(p, "INDEX") || is_kw(p, "KEY") || is_kw(p, "FULLTEXT") ||
		is_kw(p, "SPATIAL") || is_kw(p, "FOREIGN") || is_kw(p, "CHECK");
}

/* [CONSTRAINT [sym]] then the index definition. */
static mysql_index *
parse_constraint(parser *p)
{
	mysql_pos	pos = here(p);
	char	   *sym = NULL;

	if (accept_kw(p, "CONSTRAINT"))
	{
		if (!is_kw(p, "PRIMARY") && !is_kw(p, "UNIQUE") && !is_kw(p, "FOREIGN") && !is_kw(p, "CHECK"))
			sym = parse_name(p, NULL);
	}
	return parse_index_def(p, sym, pos);
}

/* ---- table options ------------------------------------------------------- */

/* One table option (ENGINE=, CHARSET=, ...); returns 0 when none is next. */
static int
parse_table_option(parser *p, mysql_table_opts *o)
{
	mysql_pos	pos = here(p);
	const bb_token *t = peek(p, 0);

	if (t == NULL || t->kind != BB_TOK_IDENT || is_kw(p, "PARTITION") || is_kw(p, "SELECT") ||
		is_kw(p, "AS") || is_kw(p, "IGNORE") || is_kw(p, "REPLACE") || is_kw(p, "WITH") ||
		is_kw(p, "TABLE") || is_kw(p, "VALUES"))
		return 0;
	accept_kw(p, "DEFAULT");
	if (accept_kw(p, "ENGINE") || accept_kw(p, "TYPE"))
	{
		accept_op(p, "=");
		o->engine = parse_value(p);
		o->engine_pos = pos;
	}
	else if (is_kw(p, "CHARACTER") || is_kw(p, "CHARSET"))
	{
		if (accept_kw(p, "CHARACTER"))
			expect_kw(p, "SET");
		else
			p->i++;
		accept_op(p, "=");
		o->charset = parse_value(p);
		o->charset_pos = pos;
	}
	else if (accept_kw(p, "COLLATE"))
	{
		accept_op(p, "=");
		o->collate = parse_value(p);
		o->collate_pos = pos;
	}
	else if (accept_kw(p, "COMMENT"))
	{
		accept_op(p, "=");
		o->comment = parse_value(p);
	}
	else if (accept_kw(p, "AUTO_INCREMENT"))
	{
		accept_op(p, "=");
		o->auto_increment = to_long(parse_value(p));
		o->auto_increment_pos = pos;
	}
	else if (accept_kw(p, "SHARD_ROW_ID_BITS"))
	{
		accept_op(p, "=");
		o->shard_row_id_bits = to_long(parse_value(p));
	}
	else if (accept_kw(p, "PRE_SPLIT_REGIONS"))
	{
		accept_op(p, "=");
		o->pre_split_regions = to_long(parse_value(p));
		o->pre_split_pos = pos;
	}
	else if (accept_kw(p, "UNION"))
	{
		accept_op(p, "=");
		skip_parens(p);
	}
	else if (accept_kw(p, "DATA") || accept_kw(p, "INDEX"))
	{
		expect_kw(p, "DIRECTORY");
		accept_op(p, "=");
		parse_value(p);
	}
	else if (accept_kw(p, "TABLESPACE"))
	{
		parse_value(p);
		if (accept_kw(p, "STORAGE"))
			parse_value(p);
	}
	else if (accept_kw(p, "PLACEMENT"))
	{
		expect_kw(p, "POLICY");
		accept_op(p, "=");
		parse_value(p);
	}
	else
	{
		/* ROW_FORMAT, KEY_BLOCK_SIZE, STATS_*, MAX_ROWS, AUTO_ID_CACHE, TTL ... */
		p->i++;
		accept_op(p, "=");
		if (is_op(p, "("))
			skip_parens(p);
		else
			parse_value(p);
	}
	return 1;
}

/* Table options separated by blanks or commas. */
static void
parse_table_options(parser *p, mysql_table_opts *o)
{
	while (parse_table_option(p, o))
		accept_op(p, ",");
}

/* Numeric table options start as "not given". */
static void
init_opts(mysql_table_opts *o)
{
	o->auto_increment = -1;
	o->shard_row_id_bits = -1;
	o->pre_split_regions = -1;
}

/* ---- statements ---------------------------------------------------------- */

/* CREATE [TEMPORARY] TABLE ... (cursor after TABLE). */
static void
parse_create_table(parser *p, mysql_stmt *st)
{
	mysql_column **ctail = &st->cols;
	mysql_index **itail = &st->indexes;
	int			nelems = 0;

	st->kind = MYSQL_STMT_CREATE_TABLE;
	init_opts(&st->opts);
	if (accept_kw(p, "IF"))
	{
		expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
		st->if_not_exists = 1;
	}
	st->table = parse_name(p, &st->table_pos);
	if (accept_kw(p, "LIKE") || (is_op(p, "(") && bb_tok_kw(peek(p, 1), "LIKE")))
	{
		if (accept_op(p, "("))
		{
			expect_kw(p, "LIKE");
			parse_name(p, NULL);
			expect_op(p, ")");
		}
		else
			parse_name(p, NULL);
		st->like = 1;
		return;
	}
	if (is_op(p, "(") && !bb_tok_kw(peek(p, 1), "SELECT") && !bb_tok_kw(peek(p, 1), "WITH"))
	{
		p->i++;
		do
		{
			if (++nelems > MYSQL_MAX_COLUMNS + MYSQL_MAX_INDEXES)
				fail(p, "too many columns and indexes (MySQL allows 4096 columns, 64 indexes)");
			if (at_constraint(p))
			{
				*itail = parse_constraint(p);
				itail = &(*itail)->next;
			}
			else
			{
				mysql_pos	pos = here(p);
				char	   *name = parse_name(p, NULL);

				*ctail = parse_column_def(p, name, pos, 0);
				ctail = &(*ctail)->next;
			}
		} while (accept_op(p, ","));
		expect_op(p, ")");
	}
	parse_table_options(p, &st->opts);
	if (is_kw(p, "PARTITION"))
	{
		st->opts.partition = 1;
		st->opts.partition_pos = here(p);
		while (!at_end(p) && !is_kw(p, "SELECT") && !is_kw(p, "AS"))
		{
			if (is_op(p, "("))
				skip_parens(p);
			else
				p->i++;
		}
	}
	if (!accept_kw(p, "IGNORE"))
		accept_kw(p, "REPLACE");
	accept_kw(p, "AS");
	if (is_kw(p, "SELECT") || is_kw(p, "WITH") || is_kw(p, "TABLE") || is_kw(p, "VALUES") ||
		(is_op(p, "(") && bb_tok_kw(peek(p, 1), "SELECT")))
	{
		st->as_select = 1;
		scan_queries(p, st, p->i);
		p->i = p->n;
	}
	if (st->cols == NULL && st->indexes == NULL && !st->as_select)
		fail(p, "CREATE TABLE needs column definitions, LIKE or AS SELECT");
}

/* ADD ... inside ALTER TABLE (cursor after ADD). */
static void
parse_alter_add(parser *p, mysql_alter_spec *sp)
{
	if (accept_kw(p, "PARTITION"))
	{
		sp->kind = MYSQL_ALTER_OTHER;
		skip_to_comma(p);
		return;
	}
	if (at_constraint(p))
	{
		sp->kind = MYSQL_ALTER_ADD_INDEX;
		sp->index = parse_constraint(p);
		return;
	}
	sp->kind = MYSQL_ALTER_ADD_COLUMN;
	accept_kw(p, "COLUMN");
	if (accept_kw(p, "IF"))
	{
		expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
	}
	if (accept_op(p, "("))
	{
		mysql_column **tail = &sp->cols;
		int			ncols = 0;

		do
		{
			mysql_pos	pos = here(p);
			char	   *name;

			if (++ncols > MYSQL_MAX_COLUMNS)
				fail(p, "too many columns (MySQL allows 4096)");
			name = parse_name(p, NULL);
			*tail = parse_column_def(p, name, pos, 0);
			tail = &(*tail)->next;
		} while (accept_op(p, ","));
		expect_op(p, ")");
	}
	else
	{
		mysql_pos	pos = here(p);
		char	   *name = parse_name(p, NULL);

		sp->cols = parse_column_def(p, name, pos, 1);
	}
}

/* One alter specification. */
static mysql_alter_spec *
parse_alter_spec(parser *p, mysql_stmt *st)
{
	mysql_alter_spec *sp = palloc0_(p, sizeof(mysql_alter_spec));

	sp->pos = here(p);
	if (accept_kw(p, "ADD"))
		parse_alter_add(p, sp);
	else if (accept_kw(p, "DROP"))
	{
		if (accept_kw(p, "PRIMARY"))
		{
			expect_kw(p, "KEY");
			sp->kind = MYSQL_ALTER_DROP_PRIMARY;
		}
		else if (accept_kw(p, "INDEX") || accept_kw(p, "KEY"))
		{
			sp->kind = MYSQL_ALTER_DROP_INDEX;
			accept_if_exists(p);
			sp->name = parse_name(p, NULL);
		}
		else if (accept_kw(p, "FOREIGN"))
		{
			expect_kw(p, "KEY");
			sp->kind = MYSQL_ALTER_DROP_FOREIGN;
			accept_if_exists(p);
			sp->name = parse_name(p, NULL);
		}
		else if (accept_kw(p, "CHECK") || accept_kw(p, "CONSTRAINT") || accept_kw(p, "PARTITION"))
		{
			sp->kind = MYSQL_ALTER_OTHER;
			skip_to_comma(p);
		}
		else
		{
			accept_kw(p, "COLUMN");
			if (accept_kw(p, "IF"))
				expect_kw(p, "EXISTS");
			sp->kind = MYSQL_ALTER_DROP_COLUMN;
			sp->name = parse_name(p, NULL);
			if (!accept_kw(p, "RESTRICT"))
				accept_kw(p, "CASCADE");
		}
	}
	else if (accept_kw(p, "MODIFY"))
	{
		mysql_pos	pos;
		char	   *name;

		accept_kw(p, "COLUMN");
		accept_if_exists(p);
		pos = here(p);
		name = parse_name(p, NULL);
		sp->kind = MYSQL_ALTER_MODIFY_COLUMN;
		sp->name = name;
		sp->cols = parse_column_def(p, name, pos, 1);
	}
	else if (accept_kw(p, "CHANGE"))
	{
		mysql_pos	pos;
		char	   *name;

		accept_kw(p, "COLUMN");
		accept_if_exists(p);
		sp->kind = MYSQL_ALTER_CHANGE_COLUMN;
		sp->name = parse_name(p, NULL);
		pos = here(p);
		name = parse_name(p, NULL);
		sp->new_name = name;
		sp->cols = parse_column_def(p, name, pos, 1);
	}
	else if (accept_kw(p, "RENAME"))
	{
		if (accept_kw(p, "COLUMN"))
		{
			sp->kind = MYSQL_ALTER_RENAME_COLUMN;
			sp->name = parse_name(p, NULL);
			expect_kw(p, "TO");
			sp->new_name = parse_name(p, NULL);
		}
		else if (accept_kw(p, "INDEX") || accept_kw(p, "KEY"))
		{
			sp->kind = MYSQL_ALTER_RENAME_INDEX;
			sp->name = parse_name(p, NULL);
			expect_kw(p, "TO");
			sp->new_name = parse_name(p, NULL);
		}
		else
		{
			if (!accept_kw(p, "TO"))
				accept_kw(p, "AS");
			sp->kind = MYSQL_ALTER_RENAME_TABLE;
			sp->new_name = parse_name(p, NULL);
		}
	}
	else if (accept_kw(p, "ALTER"))
	{
		if (accept_kw(p, "INDEX") || accept_kw(p, "CHECK") || accept_kw(p, "CONSTRAINT"))
		{
			sp->kind = MYSQL_ALTER_OTHER;
			skip_to_comma(p);
		}
		else
		{
			accept_kw(p, "COLUMN");
			sp->kind = MYSQL_ALTER_COLUMN_DEFAULT;
			sp->name = parse_name(p, NULL);
			if (accept_kw(p, "SET"))
			{
				if (accept_kw(p, "DEFAULT"))
				{
					mysql_column tmp;

					memset(&tmp, 0, sizeof(tmp));
					parse_default_value(p, &tmp, 0);
				}
				else if (!accept_kw(p, "VISIBLE") && !accept_kw(p, "INVISIBLE"))
					fail(p, "expected DEFAULT, VISIBLE or INVISIBLE");
			}
			else
			{
				expect_kw(p, "DROP");
				expect_kw(p, "DEFAULT");
			}
		}
	}
	else if (accept_kw(p, "CONVERT"))
	{
		expect_kw(p, "TO");
		sp->kind = MYSQL_ALTER_CONVERT_CHARSET;
		if (accept_kw(p, "CHARACTER"))
			expect_kw(p, "SET");
		else
			expect_kw(p, "CHARSET");
		st->opts.charset = parse_value(p);
		st->opts.charset_pos = sp->pos;
		if (accept_kw(p, "COLLATE"))
		{
			st->opts.collate = parse_value(p);
			st->opts.collate_pos = sp->pos;
		}
	}
	else if (is_kw(p, "PARTITION") && bb_tok_kw(peek(p, 1), "BY"))
	{
		sp->kind = MYSQL_ALTER_OPTIONS;
		st->opts.partition = 1;
		st->opts.partition_pos = here(p);
		p->i = p->n;
	}
	else if (is_kw(p, "ALGORITHM") || is_kw(p, "LOCK") || is_kw(p, "FORCE") || is_kw(p, "ORDER") ||
			 is_kw(p, "ENABLE") || is_kw(p, "DISABLE") || is_kw(p, "DISCARD") || is_kw(p, "IMPORT") ||
			 is_kw(p, "COALESCE") || is_kw(p, "REORGANIZE") || is_kw(p, "EXCHANGE") ||
			 is_kw(p, "ANALYZE") || is_kw(p, "CHECK") || is_kw(p, "OPTIMIZE") || is_kw(p, "REBUILD") ||
			 is_kw(p, "REPAIR") || is_kw(p, "REMOVE") || is_kw(p, "TRUNCATE") || is_kw(p, "WITH") ||
			 is_kw(p, "WITHOUT") || is_kw(p, "UPGRADE") || is_kw(p, "VALIDATION") || is_kw(p, "CACHE"))
	{
		sp->kind = MYSQL_ALTER_OTHER;
		skip_to_comma(p);
	}
	else if (parse_table_option(p, &st->opts))
	{
		sp->kind = MYSQL_ALTER_OPTIONS;
		parse_table_options(p, &st->opts);
	}
	else
		fail(p, "unknown ALTER TABLE action");
	return sp;
}

/* ALTER [ONLINE] [IGNORE] TABLE name spec, spec ... */
static void
parse_alter_table(parser *p, mysql_stmt *st)
{
	mysql_alter_spec **tail = &st->specs;
	int			nspecs = 0;

	st->kind = MYSQL_STMT_ALTER_TABLE;
	init_opts(&st->opts);
	st->table = parse_name(p, &st->table_pos);
	if (at_end(p))
		fail(p, "ALTER TABLE needs an action");
	do
	{
		if (++nspecs > MYSQL_MAX_COLUMNS)
			fail(p, "too many ALTER TABLE actions in one statement");
		*tail = parse_alter_spec(p, st);
		tail = &(*tail)->next;
	} while (accept_op(p, ","));
	if (!at_end(p))
		fail(p, "unexpected token after an ALTER TABLE action");
}

/* Appends a table name and where it is written (positions grow with the
 * names: name_pos has room for names.cap entries). */
static void
names_add_pos(parser *p, mysql_stmt *st, char *n, mysql_pos pos)
{
	int			oldcap = st->names.cap;

	names_add(p, &st->names, n);
	if (st->names.cap != oldcap)
	{
		mysql_pos  *np = palloc0_(p, sizeof(mysql_pos) * (size_t) st->names.cap);

		if (st->names.n > 1)
			memcpy(np, st->name_pos, sizeof(mysql_pos) * (size_t) (st->names.n - 1));
		st->name_pos = np;
	}
	st->name_pos[st->names.n - 1] = pos;
}

/* A comma-separated list of table names (DROP TABLE). */
static void
parse_name_list(parser *p, mysql_stmt *st)
{
	do
	{
		mysql_pos	pos;
		char	   *n = parse_name(p, &pos);

		names_add_pos(p, st, n, pos);
	} while (accept_op(p, ","));
}

/* INSERT/REPLACE shapes (cursor after the keyword). */
static void
parse_insert(parser *p, mysql_stmt *st)
{
	int			from = p->i;

	st->kind = MYSQL_STMT_INSERT;
	while (accept_kw(p, "LOW_PRIORITY") || accept_kw(p, "DELAYED") || accept_kw(p, "HIGH_PRIORITY") ||
		   accept_kw(p, "IGNORE"))
		;
	accept_kw(p, "INTO");
	st->table = parse_name(p, &st->table_pos);
	if (accept_kw(p, "PARTITION"))
		skip_parens(p);
	if (is_op(p, "(") && !bb_tok_kw(peek(p, 1), "SELECT") && !bb_tok_kw(peek(p, 1), "WITH"))
	{
		st->has_column_list = !bb_tok_op(peek(p, 1), ")");
		skip_parens(p);
	}
	if (accept_kw(p, "VALUES") || accept_kw(p, "VALUE"))
	{
		do
		{
			accept_kw(p, "ROW");
			skip_parens(p);
			st->nrows++;
		} while (accept_op(p, ","));
	}
	else if (is_kw(p, "SET"))
		st->insert_set = 1;
	else if (is_kw(p, "SELECT") || is_kw(p, "WITH") || is_kw(p, "TABLE") || is_op(p, "("))
		st->insert_select = 1;
	else
		fail(p, "expected VALUES, SELECT or SET");
	scan_queries(p, st, from);
	p->i = p->n;
}

/* Notes WHERE / ORDER BY / LIMIT at the top level of UPDATE or DELETE. */
static void
scan_top_clauses(parser *p, mysql_stmt *st, int from, const char *required)
{
	int			depth = 0;
	int			seen_required = 0;
	int			k;

	for (k = from; k < p->n; k++)
	{
		const bb_token *t = &p->t[k];

		poll(p);
		if (bb_tok_op(t, "("))
			depth++;
		else if (bb_tok_op(t, ")"))
			depth--;
		else if (depth == 0)
		{
			if (bb_tok_kw(t, required))
				seen_required = 1;
			else if (bb_tok_kw(t, "WHERE"))
				st->has_where = 1;
			else if (bb_tok_kw(t, "ORDER") && k + 1 < p->n && bb_tok_kw(&p->t[k + 1], "BY"))
			{
				st->has_order_by = 1;
				st->order_by_pos.line = t->line;
				st->order_by_pos.column = t->column;
			}
			else if (bb_tok_kw(t, "LIMIT"))
			{
				st->has_limit = 1;
				st->limit_pos.line = t->line;
				st->limit_pos.column = t->column;
			}
		}
	}
	if (!seen_required)
	{
		p->i = p->n;
		fail(p, strcmp(required, "SET") == 0 ? "UPDATE without SET" : "DELETE without FROM");
	}
	scan_queries(p, st, from);
	p->i = p->n;
}

/* First parenthesis problem in the statement, checked before parsing. */
static void
check_parens(parser *p)
{
	int			depth = 0;
	int			k;

	for (k = 0; k < p->n; k++)
	{
		poll(p);
		if (bb_tok_op(&p->t[k], "("))
		{
			if (++depth > MYSQL_MAX_DEPTH)
			{
				p->i = k;
				fail(p, "parentheses nested deeper than 1000 levels");
			}
		}
		else if (bb_tok_op(&p->t[k], ")") && --depth < 0)
		{
			p->i = k;
			fail(p, "unbalanced parentheses");
		}
		if (p->t[k].unterminated)
		{
			p->i = k;
			fail(p, "unterminated quoted string or identifier");
		}
	}
	if (depth != 0)
	{
		p->i = p->n;
		fail(p, "unbalanced parentheses");
	}
}

/* Skips DEFINER=..., ALGORITHM=..., SQL SECURITY ... before a CREATE object. */
static void
skip_create_prefix(parser *p)
{
	for (;;)
	{
		if (accept_kw(p, "DEFINER") || accept_kw(p, "ALGORITHM"))
		{
			accept_op(p, "=");
			if (!at_end(p))
				p->i++;
			while (is_op(p, "@") || (peek(p, 0) && peek(p, 0)->kind == BB_TOK_VAR))
				p->i++;
			if (is_op(p, "(") && bb_tok_op(peek(p, 1), ")"))
				p->i += 2;		/* CURRENT_USER() */
		}
		else if (accept_kw(p, "SQL"))
		{
			expect_kw(p, "SECURITY");
			parse_value(p);
		}
		else if (accept_kw(p, "OR"))
			expect_kw(p, "REPLACE");
		else if (accept_kw(p, "AGGREGATE") || accept_kw(p, "ONLINE") || accept_kw(p, "OFFLINE") ||
				 accept_kw(p, "IGNORE"))
			;
		else
			break;
	}
}

/* WITH cte AS (...) [, ...] then the main verb: its index at depth 0, or -1. */
static int
with_main_verb(parser *p)
{
	int			depth = 0,
				k;

	for (k = p->i + 1; k < p->n; k++)
	{
		const bb_token *t = &p->t[k];

		if (bb_tok_op(t, "("))
			depth++;
		else if (bb_tok_op(t, ")"))
			depth--;
		else if (depth == 0 && (bb_tok_kw(t, "SELECT") || bb_tok_kw(t, "UPDATE") ||
								bb_tok_kw(t, "DELETE") || bb_tok_kw(t, "INSERT") ||
								bb_tok_kw(t, "REPLACE")))
			return k;
	}
	return -1;
}

/* Classifies and parses one statement. */
static void
parse_statement(parser *p, mysql_stmt *st)
{
	if (is_kw(p, "WITH"))
	{
		int			k = with_main_verb(p);

		/* WITH ... UPDATE/DELETE is checked as that UPDATE/DELETE */
		if (k > 0 && (bb_tok_kw(&p->t[k], "UPDATE") || bb_tok_kw(&p->t[k], "DELETE")))
			p->i = k;
	}
	if (accept_kw(p, "CREATE"))
	{
		int			temporary;

		skip_create_prefix(p);
		temporary = accept_kw(p, "TEMPORARY");
		if (accept_kw(p, "TABLE"))
		{
			st->temporary = temporary;
			check_parens(p);
			parse_create_table(p, st);
		}
		else if (is_kw(p, "UNIQUE") || is_kw(p, "FULLTEXT") || is_kw(p, "SPATIAL") || is_kw(p, "INDEX"))
		{
			mysql_pos	pos = here(p);
			mysql_index *ix = palloc0_(p, sizeof(mysql_index));

			check_parens(p);
			ix->kind = accept_kw(p, "UNIQUE") ? MYSQL_IDX_UNIQUE :
				accept_kw(p, "FULLTEXT") ? MYSQL_IDX_FULLTEXT :
				accept_kw(p, "SPATIAL") ? MYSQL_IDX_SPATIAL : MYSQL_IDX_PLAIN;
			expect_kw(p, "INDEX");
			st->kind = MYSQL_STMT_CREATE_INDEX;
			ix->pos = pos;
			accept_if_exists(p);
			ix->name = parse_name(p, NULL);
			parse_index_options(p, ix);
			expect_kw(p, "ON");
			st->table = parse_name(p, &st->table_pos);
			parse_key_parts(p, &ix->cols);
			parse_index_options(p, ix);
			st->index = ix;
		}
		else if (accept_kw(p, "VIEW"))
		{
			st->kind = MYSQL_STMT_CREATE_VIEW;
			st->table = parse_name(p, &st->table_pos);
			check_parens(p);
			scan_queries(p, st, p->i);
		}
		else if (accept_kw(p, "FUNCTION"))
			st->kind = MYSQL_STMT_CREATE_FUNCTION;
		else if (accept_kw(p, "PROCEDURE"))
			st->kind = MYSQL_STMT_CREATE_PROCEDURE;
		else if (accept_kw(p, "EVENT"))
			st->kind = MYSQL_STMT_CREATE_EVENT;
		else if (accept_kw(p, "TRIGGER"))
			st->kind = MYSQL_STMT_CREATE_TRIGGER;
	}
	else if (accept_kw(p, "ALTER"))
	{
		skip_create_prefix(p);
		if (accept_kw(p, "TABLE"))
		{
			check_parens(p);
			parse_alter_table(p, st);
		}
	}
	else if (accept_kw(p, "DROP"))
	{
		accept_kw(p, "TEMPORARY");
		if (accept_kw(p, "TABLE") || accept_kw(p, "TABLES"))
		{
			st->kind = MYSQL_STMT_DROP_TABLE;
			if (accept_kw(p, "IF"))
			{
				expect_kw(p, "EXISTS");
				st->if_exists = 1;
			}
			parse_name_list(p, st);
			if (!accept_kw(p, "RESTRICT"))
				accept_kw(p, "CASCADE");
			if (!at_end(p))
				fail(p, "unexpected token after DROP TABLE");
		}
		else if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA"))
		{
			st->kind = MYSQL_STMT_DROP_DATABASE;
			if (accept_kw(p, "IF"))
			{
				expect_kw(p, "EXISTS");
				st->if_exists = 1;
			}
			st->table = parse_name(p, &st->table_pos);
		}
		else if (accept_kw(p, "INDEX"))
		{
			st->kind = MYSQL_STMT_DROP_INDEX;
			st->index = palloc0_(p, sizeof(mysql_index));
			accept_if_exists(p);
			st->index->name = parse_name(p, NULL);
			expect_kw(p, "ON");
			st->table = parse_name(p, &st->table_pos);
		}
	}
	else if (accept_kw(p, "RENAME"))
	{
		if (accept_kw(p, "TABLE") || accept_kw(p, "TABLES"))
		{
			st->kind = MYSQL_STMT_RENAME_TABLE;
			do
			{
				mysql_pos	pos;
				char	   *old = parse_name(p, &pos);

				if (st->table == NULL)
				{
					st->table = old;
					st->table_pos = pos;
				}
				expect_kw(p, "TO");
				old = parse_name(p, &pos);
				names_add_pos(p, st, old, pos);
			} while (accept_op(p, ","));
		}
	}
	else if (accept_kw(p, "TRUNCATE"))
	{
		st->kind = MYSQL_STMT_TRUNCATE;
		accept_kw(p, "TABLE");
		st->table = parse_name(p, &st->table_pos);
	}
	else if (accept_kw(p, "INSERT") || accept_kw(p, "REPLACE"))
	{
		check_parens(p);
		parse_insert(p, st);
	}
	else if (accept_kw(p, "UPDATE"))
	{
		st->kind = MYSQL_STMT_UPDATE;
		check_parens(p);
		while (accept_kw(p, "LOW_PRIORITY") || accept_kw(p, "IGNORE"))
			;
		st->table = parse_name(p, &st->table_pos);
		scan_top_clauses(p, st, 0, "SET");
	}
	else if (accept_kw(p, "DELETE"))
	{
		st->kind = MYSQL_STMT_DELETE;
		check_parens(p);
		while (accept_kw(p, "LOW_PRIORITY") || accept_kw(p, "QUICK") || accept_kw(p, "IGNORE"))
			;
		accept_kw(p, "FROM");
		st->table = parse_name(p, &st->table_pos);
		scan_top_clauses(p, st, 0, "FROM");
	}
	else if (is_kw(p, "SELECT") || is_kw(p, "WITH") || is_op(p, "("))
	{
		st->kind = MYSQL_STMT_SELECT;
		check_parens(p);
		scan_queries(p, st, 0);
	}
	else if (accept_kw(p, "COMMIT"))
		st->kind = MYSQL_STMT_COMMIT;
	else if (is_kw(p, "BEGIN") || (is_kw(p, "START") && bb_tok_kw(peek(p, 1), "TRANSACTION")))
		st->kind = MYSQL_STMT_BEGIN;
	else if (is_kw(p, "SET"))
		st->kind = MYSQL_STMT_SET;
	else if (is_kw(p, "LOCK") && (bb_tok_kw(peek(p, 1), "TABLES") || bb_tok_kw(peek(p, 1), "TABLE")))
		st->kind = MYSQL_STMT_LOCK_TABLES;
}

/* Entry point (see mysql_ast.h). */
int
mysql_parse(bb_arena *a, const bb_tokens *toks, mysql_stmt *out,
			char *errbuf, size_t errlen, mysql_pos *errpos, bb_review_ctx *ctx)
{
	parser		p;

	memset(out, 0, sizeof(*out));
	init_opts(&out->opts);
	memset(&p, 0, sizeof(p));
	p.a = a;
	p.t = toks->v;
	p.n = toks->n;
	p.err = errbuf;
	p.errlen = errlen;
	p.ctx = ctx;
	p.budget = POLL_EVERY;
	if (errlen > 0)
		errbuf[0] = '\0';
	if (p.n > 0)
	{
		out->pos.line = p.t[0].line;
		out->pos.column = p.t[0].column;
	}
	if (setjmp(p.jb) != 0)
	{
		*errpos = p.errpos;
		return p.interrupted ? -2 : -1;
	}
	parse_statement(&p, out);
	return 0;
}
