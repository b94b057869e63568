/*
 * split.c — statement splitter of every dialect, on the shared lexer (lex.c,
 * where each lexical rule names the server scanner rule it mirrors).  A
 * statement ends at the delimiter outside strings, comments, executable
 * comments and compound bodies.  Statement-level rules here:
 *   PostgreSQL  CREATE FUNCTION/PROCEDURE ... BEGIN ATOMIC ... END keeps its ';'
 *               (gram.y routine bodies; psqlscan.l does the same); a statement
 *               that changes standard_conforming_strings or client_encoding is
 *               uncertain (later statements would be read differently).
 *   MySQL/TiDB  DELIMITER lines and the delimiter anywhere outside quotes and
 *               comments (mysql client); CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT
 *               ... BEGIN ... END bodies without DELIMITER; a statement that
 *               switches sql_mode to ANSI_QUOTES-like modes or the client
 *               character set to one with ASCII trail bytes is uncertain.
 * One pass, no recursion: nesting is a counter, so any input is linear.
 */
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "review.h"

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

/* Case-insensitive substring test (needle in lower case). */
static int
ci_contains(const char *s, size_t n, const char *needle)
{
	size_t		m = strlen(needle);
	size_t		i,
				k;

	for (i = 0; i + m <= n; i++)
	{
		for (k = 0; k < m; k++)
		{
			unsigned char c = (unsigned char) s[i + k];

			if (c >= 'A' && c <= 'Z')
				c += 32;
			if (c != (unsigned char) needle[k])
				break;
		}
		if (k == m)
			return 1;
	}
	return 0;
}

/* Where the first uncertain construct at or after `from` is (for explanations). */
typedef struct explain
{
	size_t		from;
	const char *why;
	size_t		at;
} explain;

/* The first significant tokens of a statement (for the settings checks). */
#define HEAD 6

/* The state of the statement being read. */
typedef struct stmt
{
	size_t		start;			/* first token, NONE before it */
	size_t		last;			/* end of its last token */
	bb_split_error error;		/* OK or UNCERTAIN */
	int			ntok;			/* significant tokens so far */
	int			nwords;
	bb_lex_token head[HEAD];
	/* compound bodies */
	int			is_create;		/* first word is CREATE */
	int			routine;		/* FUNCTION/PROCEDURE/... before any '(' */
	int			paren;			/* a '(' was seen */
	int			prev_begin;		/* previous token was the word BEGIN */
	int			prev_dot_or_as; /* previous token was '.' or AS (END is then a name) */
	int			prev_semi_or_atomic;	/* previous token was ';' or ATOMIC */
	long		cases;			/* PostgreSQL: open CASE expressions in a body */
	int			pending_end;	/* MySQL: END seen, next word may be IF/LOOP/CASE ... */
	long		depth;			/* open compound blocks */
	/* session settings that change how later statements are read */
	int			set_names;		/* SET ... NAMES / CHARSET / CHARACTER */
	int			charset_var;	/* character_set_client */
	int			bad_charset;	/* a charset with ASCII trail bytes is named */
	int			sql_mode;
	int			bad_mode;
	int			pg_setting;		/* standard_conforming_strings / client_encoding / SET NAMES */
} stmt;

#define NONE ((size_t) -1)

static void
stmt_reset(stmt *st)
{
	memset(st, 0, sizeof(*st));
	st->start = NONE;
}

/* Marks the statement uncertain and remembers the first reason asked for. */
static void
uncertain(stmt *st, explain *ex, size_t at, const char *why)
{
	st->error = BB_SPLIT_UNCERTAIN;
	if (ex && ex->why == NULL && at >= ex->from)
	{
		ex->why = why;
		ex->at = at;
	}
}

/* The word of a compound-body statement (MySQL routines, PostgreSQL BEGIN ATOMIC). */
static void
body_word(bb_dialect d, stmt *st, const char *s, const bb_lex_token *t)
{
	const char *w = s + t->start;
	size_t		n = t->end - t->start;
	int			mysql = (d == BB_DIALECT_MYSQL || d == BB_DIALECT_TIDB);

	if (st->nwords++ == 0)
	{
		st->is_create = bb_lex_keyword(w, n, "CREATE");
		return;
	}
	if (!st->is_create)
		return;
	if (!st->routine)
	{
		/* gram.y CreateFunctionStmt; MySQL CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT */
		if (!st->paren && (bb_lex_keyword(w, n, "PROCEDURE") || bb_lex_keyword(w, n, "FUNCTION") ||
						   (mysql && (bb_lex_keyword(w, n, "TRIGGER") || bb_lex_keyword(w, n, "EVENT")))))
			st->routine = 1;
		return;
	}
	if (mysql)
	{
		if (st->pending_end)
		{
			/* END IF/LOOP/WHILE/REPEAT closes a block that was not counted */
			st->pending_end = 0;
			if (bb_lex_keyword(w, n, "IF") || bb_lex_keyword(w, n, "LOOP") || bb_lex_keyword(w, n, "WHILE") ||
				bb_lex_keyword(w, n, "REPEAT"))
				return;
			if (st->depth > 0)
				st->depth--;
			if (bb_lex_keyword(w, n, "CASE"))
				return;
		}
		if (bb_lex_keyword(w, n, "BEGIN"))
			st->depth++;
		else if (st->depth > 0 && bb_lex_keyword(w, n, "CASE"))
			st->depth++;
		else if (st->depth > 0 && bb_lex_keyword(w, n, "END"))
			st->pending_end = 1;
		return;
	}
	/* gram.y: BEGIN_P ATOMIC routine_body_stmt_list END_P, where every body
	 * statement ends with ';': the body's END follows ';' or ATOMIC.  Another
	 * END closes a CASE, or is a name (t.end, AS end, SELECT 1 end). */
	if (st->prev_begin && bb_lex_keyword(w, n, "ATOMIC"))
		st->depth++;
	else if (st->depth > 0 && bb_lex_keyword(w, n, "CASE"))
		st->cases++;
	else if (st->depth > 0 && bb_lex_keyword(w, n, "END"))
	{
		if (st->prev_semi_or_atomic)
		{
			st->depth--;
			st->cases = 0;
		}
		else if (st->cases > 0 && !st->prev_dot_or_as)
			st->cases--;
	}
}

/* Unquoted text of a word or string token starts with a name of the list
 * (followed by its end, '_' or '-'), case-insensitively. */
static int
names_one_of(const char *s, const bb_lex_token *t, const char *const *list)
{
	const char *p = s + t->start;
	size_t		n = t->end - t->start;
	int			k;

	if (t->kind == BB_LEX_STRING || t->kind == BB_LEX_QIDENT)
	{
		if (n < 2)
			return 0;
		p++;
		n -= 2;
	}
	for (k = 0; list[k]; k++)
	{
		size_t		m = strlen(list[k]);

		if (n >= m && ci_contains(p, m, list[k]) &&
			(n == m || p[m] == '_' || p[m] == '-'))
			return 1;
	}
	return 0;
}

/* MySQL client character sets whose multi-byte characters can end in '\\'
 * (0x5C) or another ASCII byte: after SET NAMES sjis the server reads
 * "\xC4\x81\\'" differently from us. */
static const char *const mysql_bad_charsets[] = {"big5", "cp932", "gbk", "sjis", "gb18030", NULL};

/* sql_mode values that change quoting: ANSI_QUOTES, NO_BACKSLASH_ESCAPES and the
 * combination modes that include them (MariaDB ORACLE, MSSQL, DB2, ...). */
static const char *const mysql_bad_modes[] = {
	"ansi", "no_backslash_escapes", "oracle", "mssql", "db2", "postgresql", "maxdb", NULL
};

/* The settings words of a MySQL/TiDB statement. */
static void
mysql_setting_token(stmt *st, const char *s, const bb_lex_token *t)
{
	const char *p = s + t->start;
	size_t		n = t->end - t->start;
	int			k;

	if (t->kind == BB_LEX_WORD || t->kind == BB_LEX_VAR)
	{
		if (ci_contains(p, n, "sql_mode"))
			st->sql_mode = 1;
		if (ci_contains(p, n, "character_set_client"))
			st->charset_var = 1;
		if (st->ntok > 0 && st->head[0].kind == BB_LEX_WORD && bb_lex_keyword(s + st->head[0].start,
																	   st->head[0].end - st->head[0].start, "SET") &&
			(bb_lex_keyword(p, n, "NAMES") || bb_lex_keyword(p, n, "CHARSET") || bb_lex_keyword(p, n, "CHARACTER")))
			st->set_names = 1;
	}
	if (t->kind == BB_LEX_WORD || t->kind == BB_LEX_STRING || t->kind == BB_LEX_QIDENT)
	{
		if (names_one_of(s, t, mysql_bad_charsets))
			st->bad_charset = 1;
		for (k = 0; mysql_bad_modes[k]; k++)
			if (ci_contains(p, n, mysql_bad_modes[k]))
				st->bad_mode = 1;
	}
}

/* Lower-case text of a short word/string token without quotes and '-'/'_'
 * into buf (empty when it does not fit). */
static void
setting_value(const char *s, const bb_lex_token *t, char *buf, size_t cap)
{
	const char *p = s + t->start;
	size_t		n = t->end - t->start;
	size_t		k,
				o = 0;

	buf[0] = '\0';
	if (t->kind == BB_LEX_STRING && n >= 2 && p[0] == '\'')
	{
		p++;
		n -= 2;
	}
	else if (t->kind != BB_LEX_WORD && t->kind != BB_LEX_NUMBER)
		return;
	for (k = 0; k < n; k++)
	{
		unsigned char c = (unsigned char) p[k];

		if (c == '-' || c == '_')
			continue;
		if (o + 1 >= cap)
		{
			buf[0] = '\0';
			return;
		}
		buf[o++] = (char) ((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	buf[o] = '\0';
}

/* PostgreSQL: a statement that names standard_conforming_strings or
 * client_encoding (or SET NAMES) is safe only as SHOW/RESET of it or as
 * SET [SESSION|LOCAL] name {=|TO} <value the executor pins anyway>. */
static int
pg_setting_is_safe(const stmt *st, const char *s)
{
	const bb_lex_token *h = st->head;
	int			k = 1;
	int			scs;
	char		v[32];

#define HW(i, kw) (h[i].kind == BB_LEX_WORD && bb_lex_keyword(s + h[i].start, h[i].end - h[i].start, kw))
	if (st->ntok == 2 && (HW(0, "SHOW") || HW(0, "RESET")))
		return 1;
	if (st->ntok < 3 || !HW(0, "SET"))
		return 0;
	if (HW(1, "SESSION") || HW(1, "LOCAL"))
		k = 2;
	if (HW(k, "NAMES"))
	{
		/* SET NAMES value */
		if (st->ntok != k + 2)
			return 0;
		setting_value(s, &h[k + 1], v, sizeof(v));
		return strcmp(v, "utf8") == 0 || strcmp(v, "unicode") == 0 || strcmp(v, "default") == 0;
	}
	scs = HW(k, "STANDARD_CONFORMING_STRINGS");
	if (st->ntok != k + 3 || (!scs && !HW(k, "CLIENT_ENCODING")))
		return 0;
	if (!(h[k + 1].kind == BB_LEX_OP && s[h[k + 1].start] == '=' && h[k + 1].end == h[k + 1].start + 1) &&
		!HW(k + 1, "TO"))
		return 0;
	setting_value(s, &h[k + 2], v, sizeof(v));
	if (scs)
		return strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
			strcmp(v, "1") == 0 || strcmp(v, "default") == 0;
	return strcmp(v, "utf8") == 0 || strcmp(v, "unicode") == 0 || strcmp(v, "default") == 0;
#undef HW
}

/* Applies one significant token to the statement state. */
static void
stmt_token(bb_dialect d, stmt *st, const char *s, const bb_lex_token *t)
{
	if (t->kind == BB_LEX_EXEC_OPEN || t->kind == BB_LEX_EXEC_CLOSE)
		return;					/* markers around code, not code */
	if (t->kind == BB_LEX_WORD)
		body_word(d, st, s, t);
	else if (t->kind == BB_LEX_OP && s[t->start] == '(')
		st->paren = 1;
	if (d == BB_DIALECT_MYSQL || d == BB_DIALECT_TIDB)
		mysql_setting_token(st, s, t);
	else if (d == BB_DIALECT_POSTGRES &&
			 (t->kind == BB_LEX_WORD || t->kind == BB_LEX_QIDENT || t->kind == BB_LEX_STRING))
	{
		size_t		n = t->end - t->start;

		if (ci_contains(s + t->start, n, "standard_conforming_strings") ||
			ci_contains(s + t->start, n, "client_encoding") ||
			((st->ntok == 1 || st->ntok == 2) && bb_lex_keyword(s + t->start, n, "NAMES") &&
			 bb_lex_keyword(s + st->head[0].start, st->head[0].end - st->head[0].start, "SET")))
			st->pg_setting = 1;
	}
	if (st->ntok < HEAD)
		st->head[st->ntok] = *t;
	st->ntok++;
	st->prev_begin = (t->kind == BB_LEX_WORD && bb_lex_keyword(s + t->start, t->end - t->start, "BEGIN"));
	st->prev_dot_or_as = (t->kind == BB_LEX_OP && s[t->start] == '.') ||
		(t->kind == BB_LEX_WORD && bb_lex_keyword(s + t->start, t->end - t->start, "AS"));
	st->prev_semi_or_atomic = (t->kind == BB_LEX_OP && s[t->start] == ';') ||
		(t->kind == BB_LEX_WORD && bb_lex_keyword(s + t->start, t->end - t->start, "ATOMIC"));
}

/* Ends the statement: settings checks, then its span. */
static void
stmt_end(spans *sp, stmt *st, const char *s, explain *ex)
{
	if (st->start == NONE)
		return;
	if (st->sql_mode && st->bad_mode)
		uncertain(st, ex, st->start, "the statement switches sql_mode to a mode that changes how "
				  "later statements are read (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, ANSI, ORACLE, ...)");
	if ((st->set_names || st->charset_var) && st->bad_charset)
		uncertain(st, ex, st->start, "the statement switches the client character set to one whose "
				  "characters can hide a backslash or quote (big5, cp932, gbk, sjis, gb18030)");
	if (st->pg_setting && !pg_setting_is_safe(st, s))
		uncertain(st, ex, st->start, "the statement changes standard_conforming_strings or "
				  "client_encoding: later statements would be read differently");
	push(sp, st->start, st->last, st->error);
	stmt_reset(st);
}

/* Handles a MySQL "DELIMITER x" line at i (already known to start with the
 * word); updates the delimiter or records a bad-delimiter span.  Returns the
 * index at the end of the line. */
static size_t
delimiter_line(const char *s, size_t len, size_t i, spans *sp, char *delim, size_t *dlen)
{
	const char *nl = memchr(s + i, '\n', len - i);
	size_t		eol = nl ? (size_t) (nl - s) : len;
	size_t		j = i + 9;
	size_t		k;
	size_t		e = eol;

	while (j < eol && (s[j] == ' ' || s[j] == '\t'))
		j++;
	while (e > j && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' ||
					 s[e - 1] == '\f' || s[e - 1] == '\v'))
		e--;
	k = j;
	while (k < e && s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\f' && s[k] != '\v')
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

/* mysql client: "DELIMITER" at the start of a statement, then white space or the end. */
static int
at_delimiter_command(const char *s, size_t len, size_t i)
{
	return len - i >= 9 && bb_lex_keyword(s + i, 9, "DELIMITER") &&
		(len - i == 9 || s[i + 9] == ' ' || s[i + 9] == '\t' || s[i + 9] == '\n' ||
		 s[i + 9] == '\r');
}

/* @'x', @@`x`: a variable whose name is quoted (no delimiter inside). */
static int
quoted_var(const char *s, const bb_lex_token *t)
{
	size_t		k;

	for (k = t->start; k < t->end && k < t->start + 3; k++)
		if (s[k] == '\'' || s[k] == '"' || s[k] == '`')
			return 1;
	return 0;
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

/* The splitter: one pass of the lexer, statement boundaries at the delimiter
 * outside quotes, comments, executable comments and compound bodies. */
static int
split_run(bb_dialect dialect, const char *s, size_t len, bb_stmt_span **out,
		  bb_comment_fn on_comment, void *arg, explain *ex)
{
	int			mysql = (dialect == BB_DIALECT_MYSQL || dialect == BB_DIALECT_TIDB);
	spans		sp = {NULL, 0, 0, 0};
	bb_lexer	lx;
	bb_lex_token t;
	stmt		st;
	char		delim[16] = ";";
	size_t		dlen = 1;

	if (out)
		*out = NULL;
	if (s == NULL)
	{
		s = "";
		len = 0;
	}
	bb_lex_init(&lx, dialect, s, len);
	stmt_reset(&st);
	while (lx.pos < len)
	{
		size_t		i = lx.pos;
		int			custom = !(dlen == 1 && delim[0] == ';');

		/* mysql client: DELIMITER command at the start of a statement */
		if (mysql && st.start == NONE && !lx.in_exec && at_delimiter_command(s, len, i))
		{
			bb_lex_seek(&lx, delimiter_line(s, len, i, &sp, delim, &dlen));
			continue;
		}

		/* end of statement: the delimiter outside quotes and comments */
		if (!lx.in_exec && len - i >= dlen && memcmp(s + i, delim, dlen) == 0)
		{
			if (st.pending_end)
			{
				st.pending_end = 0;
				if (st.depth > 0)
					st.depth--;
			}
			if (st.depth <= 0 || custom)
			{
				stmt_end(&sp, &st, s, ex);
				bb_lex_seek(&lx, i + dlen);
				continue;
			}
		}

		bb_lex_next(&lx, &t);
		if (t.kind == BB_LEX_SPACE)
			continue;
		if (t.kind == BB_LEX_COMMENT && on_comment &&
			(t.error == BB_SPLIT_OK || t.error == BB_SPLIT_UNCERTAIN))
			on_comment(arg, t.start, t.end);
		if (t.kind == BB_LEX_COMMENT && t.error == BB_SPLIT_OK)
			continue;

		/* mysql client: a custom delimiter ends a statement even inside a word (END$$) */
		if (mysql && custom && (t.kind == BB_LEX_WORD || t.kind == BB_LEX_NUMBER ||
								t.kind == BB_LEX_OP || (t.kind == BB_LEX_VAR && !quoted_var(s, &t))) &&
			t.error == BB_SPLIT_OK && t.end - t.start > 1)
		{
			size_t		k;

			for (k = t.start + 1; k < t.end; k++)
				if (len - k >= dlen && memcmp(s + k, delim, dlen) == 0)
				{
					t.end = k;
					bb_lex_seek(&lx, k);
					break;
				}
		}

		/* a token (or an uncertain comment): the statement starts here if it has not yet */
		if (st.start == NONE)
			st.start = t.start;
		if (t.error == BB_SPLIT_UNCERTAIN)
			uncertain(&st, ex, t.start, t.why);
		else if (t.error != BB_SPLIT_OK)
		{
			push(&sp, st.start, len, t.error);
			stmt_reset(&st);
			break;
		}
		if (t.kind != BB_LEX_COMMENT)
			stmt_token(dialect, &st, s, &t);
		st.last = t.end;
	}
	if (lx.in_exec && st.start != NONE)
	{
		/* sql_lex: an executable comment still open at the end is an error */
		push(&sp, st.start, len, BB_SPLIT_UNTERMINATED_COMMENT);
		stmt_reset(&st);
	}
	stmt_end(&sp, &st, s, ex);

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

/* bb_split_ex without a comment callback. */
int
bb_split(bb_dialect dialect, const char *script, size_t len, bb_stmt_span **out)
{
	return split_run(dialect, script, len, out, NULL, NULL, NULL);
}

int
bb_split_ex(bb_dialect dialect, const char *s, size_t len, bb_stmt_span **out,
			bb_comment_fn on_comment, void *arg)
{
	return split_run(dialect, s, len, out, on_comment, arg, NULL);
}

/* Re-runs the splitter to name the first uncertain construct at or after `from`. */
const char *
bb_split_uncertain_reason(bb_dialect dialect, const char *s, size_t len, size_t from, size_t *at)
{
	explain		ex = {from, NULL, 0};

	if (split_run(dialect, s, len, NULL, NULL, NULL, &ex) < 0)
		return NULL;
	if (at)
		*at = ex.at;
	return ex.why;
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
		case BB_SPLIT_UNCERTAIN:
			return "uncertain statement split: servers or their versions read this statement "
				"differently (versioned or server-specific comment, sql_mode, character set or "
				"standard_conforming_strings change, ...); bb._split_check names the cause";
	}
	return "unknown splitter error";
}
