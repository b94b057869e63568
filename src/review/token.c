/*
 * token.c — tokenizer (on the splitter's own lexer, lex.c), per-statement
 * arena and naming-template matching shared by the MySQL/TiDB, ClickHouse and
 * Snowflake checkers.  Never reads outside [start, end) and never recurses.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lex.h"
#include "token.h"

/* Starts a position counter at the top of the script. */
void
bb_cursor_init(bb_cursor *c, const char *script, size_t len)
{
	c->script = script;
	c->len = len;
	c->pos = 0;
	c->line = 1;
	c->column = 1;
}

/* Moves the counter forward to `to` (restarting from the top if asked to go
 * back) so that each statement costs only its own length. */
void
bb_cursor_advance(bb_cursor *c, size_t to)
{
	if (to > c->len)
		to = c->len;
	if (to < c->pos)
		bb_cursor_init(c, c->script, c->len);
	while (c->pos < to)
	{
		char		ch = c->script[c->pos++];

		if (ch == '\n')
		{
			c->line++;
			c->column = 1;
		}
		else
			c->column++;		/* columns count bytes, like the splitter */
	}
}

/* Grows the token array; -1 when out of memory. */
static int
tokens_push(bb_tokens *t, const bb_token *tok)
{
	if (t->n == t->cap)
	{
		int			ncap = t->cap ? t->cap * 2 : 64;
		bb_token   *nv;

		if (t->cap > INT_MAX / 4)
			return -1;
		nv = realloc(t->v, (size_t) ncap * sizeof(bb_token));
		if (nv == NULL)
			return -1;
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = *tok;
	return 0;
}

/* Frees the token array. */
void
bb_tokens_free(bb_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Splits script[start, end) into tokens with their script line/column, with
 * the lexer the splitter uses (lex.c): tokens and statements always agree.
 * Executable-comment markers are not tokens; their body is. */
int
bb_tokenize(bb_dialect dialect, bb_cursor *cur, size_t start, size_t end,
			bb_tokens *out)
{
	bb_lexer	lx;
	bb_lex_token lt;

	if (end > cur->len)
		end = cur->len;
	if (start > end)
		start = end;
	bb_lex_init(&lx, dialect, cur->script, end);
	bb_lex_seek(&lx, start);
	for (;;)
	{
		bb_token	tok;

		bb_lex_next(&lx, &lt);
		if (lt.kind == BB_LEX_EOF)
			break;
		switch (lt.kind)
		{
			case BB_LEX_WORD:
				tok.kind = BB_TOK_IDENT;
				break;
			case BB_LEX_QIDENT:
				tok.kind = BB_TOK_QIDENT;
				break;
			case BB_LEX_STRING:
				tok.kind = BB_TOK_STRING;
				break;
			case BB_LEX_NUMBER:
				tok.kind = BB_TOK_NUMBER;
				break;
			case BB_LEX_VAR:
				tok.kind = BB_TOK_VAR;
				break;
			case BB_LEX_OP:
				tok.kind = BB_TOK_OP;
				break;
			default:
				continue;		/* space, comments, executable-comment markers */
		}
		bb_cursor_advance(cur, lt.start);
		tok.p = cur->script + lt.start;
		tok.len = lt.end - lt.start;
		tok.line = cur->line;
		tok.column = cur->column;
		tok.unterminated = (lt.error == BB_SPLIT_UNTERMINATED_QUOTE ||
							lt.error == BB_SPLIT_UNTERMINATED_DOLLAR ||
							lt.error == BB_SPLIT_UNTERMINATED_COMMENT);
		if (tokens_push(out, &tok) < 0)
			return -1;
	}
	bb_cursor_advance(cur, end);
	return 0;
}

/* A bare word equal to kw ignoring case. */
int
bb_tok_kw(const bb_token *t, const char *kw)
{
	size_t		n = strlen(kw);

	return t != NULL && t->kind == BB_TOK_IDENT && t->len == n && strncasecmp(t->p, kw, n) == 0;
}

/* An operator token with exactly this text. */
int
bb_tok_op(const bb_token *t, const char *op)
{
	size_t		n = strlen(op);

	return t != NULL && t->kind == BB_TOK_OP && t->len == n && memcmp(t->p, op, n) == 0;
}

/* Something that can name an object. */
int
bb_tok_is_name(const bb_token *t)
{
	return t != NULL && (t->kind == BB_TOK_IDENT || t->kind == BB_TOK_QIDENT);
}

/* Skips a parenthesized group without recursion. */
int
bb_tok_skip_parens(const bb_token *t, int n, int i)
{
	int			depth = 0;

	for (; i < n; i++)
	{
		if (bb_tok_op(&t[i], "("))
			depth++;
		else if (bb_tok_op(&t[i], ")") && --depth <= 0)
			return i + 1;
	}
	return n;
}

/* Reads name(.name)* and reports its last part. */
int
bb_tok_qualified_name(const bb_token *t, int n, int i, int *last)
{
	*last = -1;
	if (i >= n || !bb_tok_is_name(&t[i]))
		return i;
	*last = i++;
	while (i + 1 < n && bb_tok_op(&t[i], ".") && bb_tok_is_name(&t[i + 1]))
	{
		*last = i + 1;
		i += 2;
	}
	return i;
}

/* ---- arena ------------------------------------------------------------- */

struct bb_arena_chunk
{
	bb_arena_chunk *next;
	size_t		used;
	size_t		size;
	/* payload follows, max-aligned */
};

#define CHUNK_HDR ((sizeof(bb_arena_chunk) + 15) & ~(size_t) 15)

/* Zeroed memory that lives until bb_arena_free. */
void *
bb_arena_alloc(bb_arena *a, size_t n)
{
	bb_arena_chunk *c = a->head;
	void	   *p;

	if (n > SIZE_MAX / 2)
	{
		a->oom = 1;
		return NULL;
	}
	n = (n + 15) & ~(size_t) 15;
	if (c == NULL || c->size - c->used < n)
	{
		size_t		sz = n > 8192 ? n : 8192;

		c = malloc(CHUNK_HDR + sz);
		if (c == NULL)
		{
			a->oom = 1;
			return NULL;
		}
		c->next = a->head;
		c->used = 0;
		c->size = sz;
		a->head = c;
	}
	p = (char *) c + CHUNK_HDR + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

/* A NUL-terminated copy of n bytes. */
char *
bb_arena_strndup(bb_arena *a, const char *s, size_t n)
{
	char	   *d = bb_arena_alloc(a, n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Releases every chunk. */
void
bb_arena_free(bb_arena *a)
{
	while (a->head)
	{
		bb_arena_chunk *n = a->head->next;

		free(a->head);
		a->head = n;
	}
	a->oom = 0;
}

/* Unquoted text of a name or string token, optionally case-folded. */
char *
bb_tok_text(bb_arena *a, const bb_token *t, int fold)
{
	char	   *d;
	size_t		i,
				n = 0,
				from = 0,
				to;
	char		q = 0;

	if (t == NULL)
		return bb_arena_strndup(a, "", 0);
	to = t->len;
	if ((t->kind == BB_TOK_QIDENT || t->kind == BB_TOK_STRING) && t->len >= 1)
	{
		q = t->p[0];
		if (q == '$' && t->len >= 2)
		{
			/* $$...$$ or $tag$...$tag$ (ClickHouse heredoc): strip both tags */
			const char *d = memchr(t->p + 1, '$', t->len - 1);
			size_t		tag = d ? (size_t) (d - t->p) + 1 : t->len;

			from = tag;
			to = (t->len >= 2 * tag && !t->unterminated) ? t->len - tag : t->len;
			q = 0;
		}
		else
		{
			from = 1;
			if (!t->unterminated && t->len >= 2)
				to = t->len - 1;
		}
	}
	d = bb_arena_alloc(a, t->len + 1);
	if (d == NULL)
		return NULL;
	for (i = from; i < to; i++)
	{
		char		c = t->p[i];

		if (q && c == q && i + 1 < to && t->p[i + 1] == q)
			i++;
		else if (q && q != '`' && t->kind == BB_TOK_STRING && c == '\\' && i + 1 < to)
			c = t->p[++i];
		if (fold == 'l')
			c = (char) tolower((unsigned char) c);
		else if (fold == 'u')
			c = (char) toupper((unsigned char) c);
		d[n++] = c;
	}
	d[n] = '\0';
	return d;
}

/* ---- query shapes ------------------------------------------------------ */

typedef struct qframe
{
	bb_query_block *block;
	int			item_start;		/* next token begins a select item */
	int			in_list;		/* inside the select list */
	int			in_order;		/* inside ORDER BY */
} qframe;

/* See token.h: one pass with an explicit stack of parenthesis frames. */
int
bb_scan_queries(bb_arena *a, const bb_token *t, int n, int from,
				bb_query_block **blocks, bb_like **likes)
{
	qframe	   *fr;
	int			d = 0,
				maxd = 0,
				k;

	for (k = from; k < n; k++)
		if (bb_tok_op(&t[k], "("))
			maxd++;
	fr = bb_arena_alloc(a, sizeof(qframe) * ((size_t) maxd + 1));
	if (fr == NULL)
		return -1;
	for (k = from; k < n; k++)
	{
		const bb_token *tk = &t[k];
		const bb_token *nx = (k + 1 < n) ? &t[k + 1] : NULL;
		qframe	   *f = &fr[d];

		if (bb_tok_op(tk, "("))
		{
			f->item_start = 0;
			if (d < maxd)
				d++;
			memset(&fr[d], 0, sizeof(qframe));
			continue;
		}
		if (bb_tok_op(tk, ")"))
		{
			if (d > 0)
				d--;
			fr[d].item_start = 0;
			continue;
		}
		if (bb_tok_kw(tk, "SELECT"))
		{
			bb_query_block *b = bb_arena_alloc(a, sizeof(bb_query_block));

			if (b == NULL)
				return -1;
			b->line = tk->line;
			b->column = tk->column;
			*blocks = b;
			blocks = &b->next;
			f->block = b;
			f->in_list = 1;
			f->item_start = 1;
			f->in_order = 0;
			continue;
		}
		if (bb_tok_kw(tk, "LIKE") || bb_tok_kw(tk, "ILIKE"))
		{
			const bb_token *pt = nx;

			if (pt && pt->kind == BB_TOK_STRING && pt->len >= 2 && pt->p[1] == '%')
			{
				bb_like    *l = bb_arena_alloc(a, sizeof(bb_like));

				if (l == NULL)
					return -1;
				l->line = tk->line;
				l->column = tk->column;
				l->pattern = bb_tok_text(a, pt, 0);
				*likes = l;
				likes = &l->next;
			}
		}
		if (f->block == NULL)
			continue;
		if (f->in_list)
		{
			if (bb_tok_op(tk, "*") && (f->item_start || (k > from && bb_tok_op(&t[k - 1], "."))))
			{
				if (!f->block->select_all)
				{
					f->block->select_all = 1;
					f->block->star_line = tk->line;
					f->block->star_column = tk->column;
				}
			}
			f->item_start = bb_tok_op(tk, ",");
		}
		if (bb_tok_kw(tk, "FROM"))
		{
			f->block->has_from = !bb_tok_kw(nx, "DUAL");	/* FROM DUAL reads no table */
			f->in_list = 0;
		}
		else if (bb_tok_kw(tk, "WHERE") || bb_tok_kw(tk, "PREWHERE"))
		{
			f->block->has_where = 1;
			f->in_list = 0;
			f->in_order = 0;
		}
		else if (bb_tok_kw(tk, "ORDER") && bb_tok_kw(nx, "BY"))
		{
			f->in_list = 0;
			f->in_order = 1;
		}
		else if (bb_tok_kw(tk, "LIMIT") || bb_tok_kw(tk, "TOP") || bb_tok_kw(tk, "FETCH"))
		{
			f->block->has_limit = 1;
			f->in_order = 0;
		}
		else if (bb_tok_kw(tk, "UNION") || bb_tok_kw(tk, "GROUP") || bb_tok_kw(tk, "HAVING"))
			f->in_order = 0;
		else if (f->in_order && (bb_tok_kw(tk, "RAND") || bb_tok_kw(tk, "RANDOM") || bb_tok_kw(tk, "rand64")) &&
				 bb_tok_op(nx, "("))
		{
			f->block->order_by_rand = 1;
			f->block->rand_line = tk->line;
			f->block->rand_column = tk->column;
		}
		else if (bb_tok_kw(tk, "FOR") && bb_tok_kw(nx, "UPDATE"))
			f->block->for_update = 1;
		else if (bb_tok_kw(tk, "FINAL") && f->block->has_from && !f->block->has_where && !f->block->final)
		{
			f->block->final = 1;
			f->block->final_line = tk->line;
			f->block->final_column = tk->column;
		}
	}
	return 0;
}

/* ---- naming ------------------------------------------------------------ */

typedef struct strbuf
{
	char	   *s;
	size_t		n;
	size_t		cap;
	int			oom;
} strbuf;

/* Appends bytes, doubling the buffer as needed. */
static void
sb_put(strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap)
	{
		size_t		ncap = (b->cap ? b->cap * 2 : 128);
		char	   *ns;

		while (ncap < b->n + n + 1)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (ns == NULL)
		{
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Appends a value with every regex metacharacter escaped. */
static void
sb_put_escaped(strbuf *b, const char *v)
{
	for (; v && *v; v++)
	{
		if (strchr(".[]{}()\\*+?^$|", *v))
			sb_put(b, "\\", 1);
		sb_put(b, v, 1);
	}
}

/* Checks a name against a naming payload (see token.h) with the core's
 * template expansion and regex engine, so a pattern behaves as policy
 * validation saw it; template values are regex-escaped first. */
int
bb_naming_check(const bb_payload *pl, const char *name, const bb_naming_vars *vars,
				char **expanded)
{
	static const char *const keys[] = {
		"table", "referencing_table", "column_list", "referencing_column",
		"referencing_column_list", "referenced_table", "referenced_column",
		"referenced_column_list"
	};
	strbuf		esc[4];
	const char *vals[8];
	char	   *pattern;
	int			k,
				rc;

	if (expanded)
		*expanded = NULL;
	if (pl == NULL || name == NULL)
		return -1;
	if (pl->max_length > 0 && strlen(name) > (size_t) pl->max_length)
		return 2;
	if (pl->format == NULL || pl->format[0] == '\0')
		return 0;
	memset(esc, 0, sizeof(esc));
	if (vars)
	{
		sb_put_escaped(&esc[0], vars->table);
		sb_put_escaped(&esc[1], vars->column_list);
		sb_put_escaped(&esc[2], vars->referenced_table);
		sb_put_escaped(&esc[3], vars->referenced_column_list);
	}
	for (k = 0; k < 4; k++)
		sb_put(&esc[k], "", 0);
	vals[0] = vals[1] = esc[0].s;
	vals[2] = vals[3] = vals[4] = esc[1].s;
	vals[5] = esc[2].s;
	vals[6] = vals[7] = esc[3].s;
	pattern = NULL;
	if (!esc[0].oom && !esc[1].oom && !esc[2].oom && !esc[3].oom)
		pattern = bb_template_expand(pl->format, keys, vals, 8);
	for (k = 0; k < 4; k++)
		free(esc[k].s);
	if (pattern == NULL)
		return -1;
	rc = bb_regex_match(pattern, name);
	if (rc == 0 && expanded)
		*expanded = pattern;
	else
		free(pattern);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* Case-insensitive membership in a LIST payload. */
int
bb_payload_has(const bb_payload *pl, const char *s)
{
	int			i;

	if (pl == NULL || pl->list == NULL || s == NULL)
		return 0;
	for (i = 0; i < pl->nlist; i++)
		if (pl->list[i] && strcasecmp(pl->list[i], s) == 0)
			return 1;
	return 0;
}

/* Linear lookup in a rule table (they are short). */
const bb_rule_def *
bb_rule_find(const bb_rule_def *table, const char *id)
{
	for (; table && table->id; table++)
		if (strcmp(table->id, id) == 0)
			return table;
	return NULL;
}

/* The payload of a rule that is defined for this dialect and on in this run. */
const bb_payload *
bb_rule_on(bb_review_ctx *ctx, const bb_rule_def *table, bb_dialect dialect, const char *id)
{
	const bb_rule_def *d = bb_rule_find(table, id);

	if (d == NULL || !(d->engines & BB_ENGINE_BIT(dialect)) || ctx == NULL || ctx->rule == NULL)
		return NULL;
	return ctx->rule(ctx, id);
}
