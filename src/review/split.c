/*
 * split.c — statement splitter for every dialect.  Plain C, byte-oriented
 * (invalid UTF-8 and binary are just bytes), one pass, no recursion: nesting
 * (PostgreSQL comments, compound bodies) is a counter, so any input is linear.
 */
#include <stdlib.h>
#include <string.h>

#include "review.h"

/* What a dialect's lexer treats specially. */
typedef struct syntax
{
	unsigned	backslash_sq:1;		/* '...' honours backslash escapes */
	unsigned	e_strings:1;		/* E'...' honours backslash escapes (PostgreSQL) */
	unsigned	dq_string:1;		/* "..." is a string (MySQL) */
	unsigned	dq_backslash:1;		/* "..." honours backslash escapes */
	unsigned	backticks:1;		/* `identifier` */
	unsigned	hash_comment:1;		/* # comment */
	unsigned	dashdash_space:1;	/* "--" starts a comment only before white space */
	unsigned	slashslash_comment:1;	/* // comment (Snowflake) */
	unsigned	nested_comments:1;	/* slash-star comments nest (PostgreSQL) */
	unsigned	dollar_tags:1;		/* $tag$ ... $tag$ (PostgreSQL) */
	unsigned	dollar_plain:1;		/* $$ ... $$ only (Snowflake) */
	unsigned	exec_comments:1;	/* slash-star-! and slash-star-+ are statement text (MySQL) */
	unsigned	delimiter_cmd:1;	/* DELIMITER lines (MySQL client) */
	unsigned	routine_bodies:1;	/* CREATE PROCEDURE ... BEGIN ... END without DELIMITER */
	unsigned	begin_atomic:1;		/* CREATE FUNCTION ... BEGIN ATOMIC ... END */
} syntax;

/* The lexical rules of a dialect. */
static syntax
syntax_of(bb_dialect d)
{
	syntax		s;

	memset(&s, 0, sizeof(s));
	switch (d)
	{
		case BB_DIALECT_POSTGRES:
			s.e_strings = s.nested_comments = s.dollar_tags = s.begin_atomic = 1;
			break;
		case BB_DIALECT_MYSQL:
		case BB_DIALECT_TIDB:
			s.backslash_sq = s.dq_string = s.dq_backslash = s.backticks = 1;
			s.hash_comment = s.dashdash_space = s.exec_comments = 1;
			s.delimiter_cmd = s.routine_bodies = 1;
			break;
		case BB_DIALECT_CLICKHOUSE:
			s.backslash_sq = s.dq_backslash = s.backticks = 1;
			break;
		case BB_DIALECT_SNOWFLAKE:
			s.backslash_sq = s.slashslash_comment = s.dollar_plain = 1;
			break;
	}
	return s;
}

/* Growable result array. */
typedef struct spans
{
	bb_stmt_span *v;
	int			n;
	int			cap;
	int			oom;
} spans;

/* Appends a span; remembers an allocation failure instead of failing midway. */
static void
push(spans *sp, size_t start, size_t end, bb_split_error err)
{
	if (sp->oom)
		return;
	if (sp->n == sp->cap)
	{
		int			cap = sp->cap ? sp->cap * 2 : 64;
		bb_stmt_span *v;

		if (cap < 0 || (size_t) cap > ((size_t) -1) / sizeof(bb_stmt_span))
		{
			sp->oom = 1;
			return;
		}
		v = realloc(sp->v, (size_t) cap * sizeof(bb_stmt_span));
		if (v == NULL)
		{
			sp->oom = 1;
			return;
		}
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->n].start = start;
	sp->v[sp->n].end = end;
	sp->v[sp->n].line = 0;
	sp->v[sp->n].column = 0;
	sp->v[sp->n].error = err;
	sp->n++;
}

/* Byte classes (ASCII only: every byte >= 0x80 may be part of an identifier). */
static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Case-insensitive compare of a word with an upper-case ASCII keyword. */
static int
word_is(const char *w, size_t n, const char *kw)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) w[i];

		if (kw[i] == '\0')
			return 0;
		if (c >= 'a' && c <= 'z')
			c -= 32;
		if (c != (unsigned char) kw[i])
			return 0;
	}
	return kw[n] == '\0';
}

/* Skips a quoted run starting at the opening quote; returns the index after
 * the closing quote, or len when unterminated (*bad set). */
static size_t
skip_quoted(const char *s, size_t len, size_t i, char q, int backslash, int *bad)
{
	i++;
	while (i < len)
	{
		char		c = s[i];

		if (backslash && c == '\\')
		{
			i += 2;
			continue;
		}
		if (c == q)
		{
			if (i + 1 < len && s[i + 1] == q)
			{
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	*bad = 1;
	return len;
}

/* Skips a slash-star comment (nested when asked); returns the index after it
 * or len when unterminated (*bad set). */
static size_t
skip_block_comment(const char *s, size_t len, size_t i, int nested, int *bad)
{
	size_t		depth = 1;

	i += 2;
	while (i < len)
	{
		if (s[i] == '*' && i + 1 < len && s[i + 1] == '/')
		{
			i += 2;
			if (--depth == 0)
				return i;
			continue;
		}
		if (nested && s[i] == '/' && i + 1 < len && s[i + 1] == '*')
		{
			depth++;
			i += 2;
			continue;
		}
		i++;
	}
	*bad = 1;
	return len;
}

/* Index of the next newline (a line comment's end), or len. */
static size_t
skip_to_eol(const char *s, size_t len, size_t i)
{
	const char *nl = memchr(s + i, '\n', len - i);

	return nl ? (size_t) (nl - s) : len;
}

/* Length of a dollar-quote opener ($$ or $tag$) at i, 0 when there is none. */
static size_t
dollar_opener(const char *s, size_t len, size_t i, int tags)
{
	size_t		j = i + 1;

	if (j < len && s[j] == '$')
		return 2;
	if (!tags || j >= len || !is_ident_start((unsigned char) s[j]))
		return 0;
	while (j < len && is_ident_char((unsigned char) s[j]) && s[j] != '$')
		j++;
	if (j < len && s[j] == '$')
		return j - i + 1;
	return 0;
}

/* Finds the closing copy of the opener; returns the index after it or len (*bad). */
static size_t
skip_dollar(const char *s, size_t len, size_t i, size_t olen, int *bad)
{
	const char *tag = s + i;
	size_t		j = i + olen;

	while (j < len)
	{
		const char *d = memchr(s + j, '$', len - j);

		if (d == NULL)
			break;
		j = (size_t) (d - s);
		if (len - j >= olen && memcmp(s + j, tag, olen) == 0)
			return j + olen;
		j++;
	}
	*bad = 1;
	return len;
}

/* Statement-level word state: compound bodies (BEGIN ... END) keep ';' inside. */
typedef struct body_state
{
	int			nwords;			/* words seen in this statement */
	int			is_create;		/* first word is CREATE */
	int			routine;		/* a PROCEDURE/FUNCTION/TRIGGER/EVENT keyword was seen */
	int			paren;			/* a '(' was seen (routine keywords come before any) */
	int			prev_begin;		/* previous word was BEGIN (PostgreSQL: ATOMIC follows) */
	int			pending_end;	/* MySQL: END seen, next word may be IF/LOOP/CASE ... */
	long		depth;			/* open compound blocks */
} body_state;

/* Applies one word of a statement to the compound-body state. */
static void
body_word(const syntax *sx, body_state *b, const char *w, size_t n)
{
	int			first = (b->nwords++ == 0);

	if (first)
	{
		b->is_create = word_is(w, n, "CREATE");
		return;
	}
	if (!b->is_create)
		return;
	if (sx->routine_bodies)
	{
		if (b->pending_end)
		{
			/* END IF/LOOP/WHILE/REPEAT closes a block that was not counted */
			b->pending_end = 0;
			if (word_is(w, n, "IF") || word_is(w, n, "LOOP") || word_is(w, n, "WHILE") ||
				word_is(w, n, "REPEAT"))
				return;
			if (b->depth > 0)
				b->depth--;
			if (word_is(w, n, "CASE"))
				return;
		}
		if (!b->routine)
		{
			if (!b->paren && (word_is(w, n, "PROCEDURE") || word_is(w, n, "FUNCTION") ||
				word_is(w, n, "TRIGGER") || word_is(w, n, "EVENT")))
				b->routine = 1;
			return;
		}
		if (word_is(w, n, "BEGIN"))
			b->depth++;
		else if (b->depth > 0 && word_is(w, n, "CASE"))
			b->depth++;
		else if (b->depth > 0 && word_is(w, n, "END"))
			b->pending_end = 1;
	}
	else if (sx->begin_atomic)
	{
		if (b->prev_begin && word_is(w, n, "ATOMIC"))
			b->depth++;
		else if (b->depth > 0 && word_is(w, n, "CASE"))
			b->depth++;
		else if (b->depth > 0 && word_is(w, n, "END"))
			b->depth--;
		b->prev_begin = word_is(w, n, "BEGIN");
	}
}

/* Handles a MySQL "DELIMITER x" line at i (already known to start with the
 * word); updates the delimiter or records a bad-delimiter span.  Returns the
 * index at the end of the line. */
static size_t
delimiter_line(const char *s, size_t len, size_t i, spans *sp, char *delim, size_t *dlen)
{
	size_t		eol = skip_to_eol(s, len, i);
	size_t		j = i + 9;
	size_t		k;
	size_t		e = eol;

	while (j < eol && (s[j] == ' ' || s[j] == '\t'))
		j++;
	while (e > j && is_space((unsigned char) s[e - 1]))
		e--;
	k = j;
	while (k < e && !is_space((unsigned char) s[k]))
		k++;
	/* one non-empty word without backslash, at most 15 bytes, nothing after it */
	if (k == j || k != e || k - j > 15 || memchr(s + j, '\\', k - j) != NULL)
	{
		push(sp, i, eol, BB_SPLIT_BAD_DELIMITER);
		return eol;
	}
	memcpy(delim, s + j, k - j);
	delim[k - j] = '\0';
	*dlen = k - j;
	return eol;
}

/* Fills in 1-based line and column of each span's start in one forward pass. */
static void
number_lines(const char *s, spans *sp)
{
	size_t		pos = 0;
	size_t		line_start = 0;
	int			line = 1;
	int			k;

	for (k = 0; k < sp->n; k++)
	{
		size_t		target = sp->v[k].start;

		if (target < pos)		/* spans are in order; be safe anyway */
		{
			pos = 0;
			line_start = 0;
			line = 1;
		}
		while (pos < target)
		{
			const char *nl = memchr(s + pos, '\n', target - pos);

			if (nl == NULL)
				break;
			line++;
			pos = (size_t) (nl - s) + 1;
			line_start = pos;
		}
		pos = target;
		sp->v[k].line = line;
		sp->v[k].column = (int) (target - line_start) + 1;
	}
}

/* bb_split_ex without a comment callback. */
int
bb_split(bb_dialect dialect, const char *script, size_t len, bb_stmt_span **out)
{
	return bb_split_ex(dialect, script, len, out, NULL, NULL);
}

/* The splitter: one pass over the bytes, statement boundaries at the
 * delimiter outside quotes, comments and compound bodies. */
int
bb_split_ex(bb_dialect dialect, const char *s, size_t len, bb_stmt_span **out,
			bb_comment_fn on_comment, void *arg)
{
	syntax		sx = syntax_of(dialect);
	spans		sp = {NULL, 0, 0, 0};
	const size_t NONE = (size_t) -1;
	size_t		start = NONE;	/* first token of the current statement */
	size_t		last = 0;		/* end of its last token */
	size_t		i = 0;
	char		delim[16] = ";";
	size_t		dlen = 1;
	body_state	b;

	memset(&b, 0, sizeof(b));
	if (out)
		*out = NULL;
	if (s == NULL)
		len = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			bad = 0;
		size_t		tok = i;

		if (is_space(c))
		{
			i++;
			continue;
		}

		/* MySQL client command at the start of a statement */
		if (sx.delimiter_cmd && start == NONE && len - i >= 9 && word_is(s + i, 9, "DELIMITER") &&
			(len - i == 9 || is_space((unsigned char) s[i + 9])))
		{
			i = delimiter_line(s, len, i, &sp, delim, &dlen);
			continue;
		}

		/* end of statement */
		if (len - i >= dlen && memcmp(s + i, delim, dlen) == 0)
		{
			if (b.pending_end)
			{
				b.pending_end = 0;
				if (b.depth > 0)
					b.depth--;
			}
			if (b.depth <= 0 || dlen != 1 || delim[0] != ';')
			{
				if (start != NONE)
					push(&sp, start, last, BB_SPLIT_OK);
				start = NONE;
				memset(&b, 0, sizeof(b));
				i += dlen;
				continue;
			}
		}

		/* comments */
		if ((c == '-' && i + 1 < len && s[i + 1] == '-' &&
			 (!sx.dashdash_space || i + 2 >= len || (unsigned char) s[i + 2] <= ' ')) ||
			(c == '#' && sx.hash_comment) ||
			(c == '/' && sx.slashslash_comment && i + 1 < len && s[i + 1] == '/'))
		{
			i = skip_to_eol(s, len, i);
			if (on_comment)
				on_comment(arg, tok, i);
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*')
		{
			int			exec = sx.exec_comments && i + 2 < len &&
				(s[i + 2] == '!' || s[i + 2] == '+' ||
				 (s[i + 2] == 'T' && i + 3 < len && s[i + 3] == '!'));

			i = skip_block_comment(s, len, i, sx.nested_comments, &bad);
			if (bad)
			{
				push(&sp, start != NONE ? start : tok, len, BB_SPLIT_UNTERMINATED_COMMENT);
				start = NONE;
				break;
			}
			if (exec)
			{
				if (start == NONE)
					start = tok;
				last = i;
			}
			else if (on_comment)
				on_comment(arg, tok, i);
			continue;
		}

		/* a token: the statement starts here if it has not yet */
		if (start == NONE)
		{
			start = tok;
			memset(&b, 0, sizeof(b));
		}

		if (c == '\'')
			i = skip_quoted(s, len, i, '\'', sx.backslash_sq, &bad);
		else if (c == '"')
			i = skip_quoted(s, len, i, '"', sx.dq_backslash, &bad);
		else if (c == '`' && sx.backticks)
			i = skip_quoted(s, len, i, '`', 0, &bad);
		else if (c == '$' && (sx.dollar_tags || sx.dollar_plain) &&
				 dollar_opener(s, len, i, sx.dollar_tags) > 0)
		{
			i = skip_dollar(s, len, i, dollar_opener(s, len, i, sx.dollar_tags), &bad);
			if (bad)
			{
				push(&sp, start, len, BB_SPLIT_UNTERMINATED_DOLLAR);
				start = NONE;
				break;
			}
		}
		else if (is_ident_start(c))
		{
			size_t		w = i;

			while (i < len && is_ident_char((unsigned char) s[i]))
				i++;
			if (sx.e_strings && i - w == 1 && (c == 'E' || c == 'e') && i < len && s[i] == '\'')
				i = skip_quoted(s, len, i, '\'', 1, &bad);
			else if (sx.begin_atomic || sx.routine_bodies)
				body_word(&sx, &b, s + w, i - w);
		}
		else if (c >= '0' && c <= '9')
		{
			while (i < len && is_ident_char((unsigned char) s[i]))
				i++;
		}
		else
		{
			if (c == '(')
				b.paren = 1;
			i++;
		}

		if (bad)
		{
			push(&sp, start, len, BB_SPLIT_UNTERMINATED_QUOTE);
			start = NONE;
			break;
		}
		last = i;
	}
	if (start != NONE)
		push(&sp, start, last, BB_SPLIT_OK);

	if (sp.oom)
	{
		free(sp.v);
		return -1;
	}
	number_lines(s, &sp);
	if (out)
		*out = sp.v;
	else
		free(sp.v);
	return sp.n;
}

/* The message a "syntax-error" finding gives for a splitter error. */
const char *
bb_split_error_message(bb_split_error error)
{
	switch (error)
	{
		case BB_SPLIT_OK:
			return "ok";
		case BB_SPLIT_UNTERMINATED_QUOTE:
			return "unterminated quoted string or identifier";
		case BB_SPLIT_UNTERMINATED_DOLLAR:
			return "unterminated dollar-quoted string";
		case BB_SPLIT_UNTERMINATED_COMMENT:
			return "unterminated /* comment";
		case BB_SPLIT_BAD_DELIMITER:
			return "DELIMITER needs one word without backslash (at most 15 bytes)";
	}
	return "unknown splitter error";
}
