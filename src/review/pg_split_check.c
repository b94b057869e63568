/*
 * pg_split_check.c — bb._split_check(statement text, engine text) RETURNS text:
 * NULL when the statement split of a script is certain, else one line
 * "line N: reason".  bb.apply refuses uncertain scripts.
 *
 * PostgreSQL: a differential check of bb_split against the server's own
 * scanner (core_yylex with the server's keywords, standard_conforming_strings
 * and backslash_quote pinned on as the executor pins them at connect):
 *   - every server token lies inside one of our statements, except the ';'
 *     tokens where we cut (nothing we skip as comment or white space is code);
 *   - every statement starts and ends on server token boundaries;
 *   - a ';' token inside one of our statements is allowed only in a
 *     BEGIN ATOMIC body; a statement with BEGIN ATOMIC must be read by
 *     raw_parser alone as exactly one statement (the grammar decides where
 *     bodies end, so a cut inside or after a body is caught either way).
 * A lexical error of the server's scanner, a syntax error inside such a body
 * or any disagreement makes the split uncertain.
 * MySQL/TiDB, ClickHouse, Snowflake: the splitter's own verdict (uncertain
 * constructs, unterminated quotes and comments, bad DELIMITER lines).
 *
 * Errors of the scanner and of raw_parser are caught: both only palloc in
 * our own memory context and hold no locks, buffers or other resources, so
 * no subtransaction is needed.  Cancels and resource errors are re-thrown.
 */
#include "postgres.h"

#include "common/keywords.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "review/lex.h"
#include "review/lint.h"
#include "review/pg_parse.h"

PG_FUNCTION_INFO_V1(bb_split_check);

static emit_log_hook_type prev_emit_log_hook = NULL;

/* The scanner and the parser warn (NOTICE) about every identifier they
 * truncate: noise for a check, kept from the client and the log while it runs. */
static void
quiet_truncation(ErrorData *edata)
{
	if (edata->elevel < WARNING && edata->sqlerrcode == ERRCODE_NAME_TOO_LONG)
	{
		edata->output_to_client = false;
		edata->output_to_server = false;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* 1-based line of a byte offset (lines end at \n, like bb_split's numbering). */
static int
line_of(const char *s, size_t len, size_t pos)
{
	int			line = 1;
	size_t		i = 0;

	if (pos > len)
		pos = len;
	while (i < pos)
	{
		const char *nl = memchr(s + i, '\n', pos - i);

		if (nl == NULL)
			break;
		line++;
		i = (size_t) (nl - s) + 1;
	}
	return line;
}

/* "line N: why" on one line, at most ~300 bytes of the message kept. */
static char *
reason(const char *s, size_t len, size_t at, const char *why)
{
	char	   *msg = pstrdup(why);
	char	   *p;
	int			keep;

	for (p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	keep = pg_mbcliplen(msg, strlen(msg), 300);
	msg[keep] = '\0';
	return psprintf("line %d: %s", line_of(s, len, at), msg);
}

/* Byte offset of a 1-based character position of an error report. */
static size_t
char_to_byte(const char *s, size_t len, int cursorpos)
{
	size_t		off = 0;

	while (cursorpos-- > 1 && off < len)
	{
		int			l = pg_mblen(s + off);

		off += (l > 0) ? (size_t) l : 1;
	}
	return off < len ? off : len;
}

/* A caught error of the scanner or parser working on buf[0, buflen), which
 * starts at byte `base` of the script, becomes a reason; cancels and lack of
 * resources go on up. */
static char *
caught_error(MemoryContext cxt, const char *s, size_t len, const char *buf, size_t buflen,
			 size_t base, size_t fallback, const char *what)
{
	ErrorData  *ed;
	size_t		at = fallback;

	MemoryContextSwitchTo(cxt);
	ed = CopyErrorData();
	if (ERRCODE_TO_CATEGORY(ed->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
		ERRCODE_TO_CATEGORY(ed->sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES ||
		ed->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
		PG_RE_THROW();
	FlushErrorState();
	if (ed->cursorpos > 0)
		at = base + char_to_byte(buf, buflen, ed->cursorpos);
	return reason(s, len, at, psprintf("%s: %s", what, ed->message ? ed->message : "error"));
}

/* Per-statement state of the scan. */
typedef struct span_scan
{
	bool		cut;			/* a ';' token came since the previous statement */
	bool		seen;			/* a server token started here */
	size_t		last_end;		/* end of its last server token */
	size_t		semicolon;		/* first ';' token inside, or (size_t) -1 */
	bool		prev_begin;
	bool		atomic;			/* BEGIN ATOMIC tokens inside */
} span_scan;

/* Closing check of a statement the scan has left. */
static const char *
span_done(const bb_stmt_span *sp, const span_scan *ss, size_t *at)
{
	*at = sp->start;
	if (!ss->seen)
		return "the splitter sees a statement where the server's scanner sees only comments or white space";
	if (ss->last_end != sp->end)
	{
		*at = ss->last_end;
		return "the statement ends where the server's scanner does not end a token";
	}
	if (ss->semicolon != (size_t) -1 && !ss->atomic)
	{
		*at = ss->semicolon;
		return "the server's scanner ends a statement at this ';' but the splitter does not";
	}
	return NULL;
}

/* Token text equal to an ASCII keyword (lower case), any case. */
static bool
token_is(const char *buf, size_t loc, size_t end, const char *kw)
{
	size_t		n = strlen(kw);

	return end - loc == n && pg_strncasecmp(buf + loc, kw, n) == 0;
}

/*
 * The differential scan.  Sets needs_parse[k] for statements with BEGIN
 * ATOMIC bodies; returns a reason or NULL.
 */
static char *
server_scan(const char *s, size_t len, const bb_stmt_span *sp, int n, bool *needs_parse)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile size_t last_pos = 0;
	char	   *volatile why = NULL;

	PG_TRY();
	{
		core_yy_extra_type yyextra;
		core_yyscan_t yyscanner;
		span_scan	ss;
		int			k = 0;
		size_t		at = 0;

		memset(&ss, 0, sizeof(ss));
		ss.semicolon = (size_t) -1;
		yyscanner = scanner_init(s, &yyextra, &ScanKeywords, ScanKeywordTokens);
		/* the executor pins these at connect */
		yyextra.standard_conforming_strings = true;
		yyextra.backslash_quote = BACKSLASH_QUOTE_ON;
		yyextra.escape_string_warning = false;

		for (;;)
		{
			core_YYSTYPE yylval;
			YYLTYPE		yylloc = -1;
			int			tok;
			size_t		loc,
						end;
			const char *w = NULL;

			CHECK_FOR_INTERRUPTS();
			tok = core_yylex(&yylval, &yylloc, yyscanner);
			if (tok == 0)
				break;
			if (yylloc < 0 || (size_t) yylloc >= len)
			{
				why = reason(s, len, last_pos, "internal: a server token has no place in the script");
				break;
			}
			loc = (size_t) yylloc;
			/* flex leaves a NUL right after the token it returned (as pg_stat_statements relies on) */
			end = loc + strlen(yyextra.scanbuf + loc);
			if (end <= loc || end > len)
			{
				why = reason(s, len, loc, "internal: cannot find the end of a server token");
				break;
			}
			last_pos = end;

			/* statements that end before this token are complete: check them */
			while (k < n && sp[k].end <= loc)
			{
				if ((w = span_done(&sp[k], &ss, &at)) != NULL)
					break;
				needs_parse[k] = ss.atomic;
				k++;
				memset(&ss, 0, sizeof(ss));
				ss.semicolon = (size_t) -1;
			}
			if (w != NULL)
			{
				why = reason(s, len, at, w);
				break;
			}
			if (k < n && loc >= sp[k].start)
			{
				/* inside statement k */
				if (end > sp[k].end)
				{
					why = reason(s, len, loc, "a server token runs past the end of the statement "
								 "the splitter cut here");
					break;
				}
				if (!ss.seen && loc != sp[k].start)
				{
					why = reason(s, len, sp[k].start, "the statement starts inside text the server's "
								 "scanner reads as part of a comment, string or token");
					break;
				}
				if (!ss.seen && k > 0 && !ss.cut)
				{
					why = reason(s, len, sp[k].start, "the splitter starts a statement here but the "
								 "server's scanner sees no ';' before it");
					break;
				}
				ss.seen = true;
				ss.last_end = end;
				if (tok == ';' && ss.semicolon == (size_t) -1)
					ss.semicolon = loc;
				if (ss.prev_begin && token_is(yyextra.scanbuf, loc, end, "atomic"))
					ss.atomic = true;
				ss.prev_begin = token_is(yyextra.scanbuf, loc, end, "begin");
			}
			else if (tok != ';' || (k < n && end > sp[k].start))
			{
				why = reason(s, len, loc, "the server's scanner reads code where the splitter sees "
							 "a comment or white space");
				break;
			}
			else
				ss.cut = true;	/* a ';' between statements */
		}
		if (why == NULL)
		{
			const char *w = NULL;

			for (; k < n && w == NULL; k++)
			{
				if ((w = span_done(&sp[k], &ss, &at)) == NULL)
					needs_parse[k] = ss.atomic;
				memset(&ss, 0, sizeof(ss));
				ss.semicolon = (size_t) -1;
			}
			if (w != NULL)
				why = reason(s, len, at, w);
		}
		scanner_finish(yyscanner);
	}
	PG_CATCH();
	{
		why = caught_error(cxt, s, len, s, len, 0, last_pos, "the server's scanner rejects the script");
	}
	PG_END_TRY();
	return why;
}

/* raw_parser with the settings the executor pins; the number of statements,
 * or -1 with *ed set when it raises an error (cancels go on up). */
static int
parse_count(const char *text, ErrorData **ed)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int count = -1;

	*ed = NULL;
	PG_TRY();
	{
		count = list_length(bb_raw_parse(text));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		*ed = CopyErrorData();
		if (ERRCODE_TO_CATEGORY((*ed)->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
			ERRCODE_TO_CATEGORY((*ed)->sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES ||
			(*ed)->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();
	return count;
}

/* A statement with BEGIN ATOMIC, parsed alone, must be exactly one statement. */
static char *
parse_body(const char *s, size_t len, const bb_stmt_span *sp)
{
	char	   *text = pnstrdup(s + sp->start, sp->end - sp->start);
	ErrorData  *ed;
	ErrorData  *whole;
	int			count = parse_count(text, &ed);
	size_t		at = sp->start;

	if (count == 1)
		return NULL;
	if (count > 1)
		return reason(s, len, sp->start,
					  psprintf("the server reads %d statements where the splitter sees one "
							   "(BEGIN ATOMIC body)", count));
	/* a syntax error alone: a disagreement when the whole script parses */
	if (parse_count(s, &whole) >= 0)
		return reason(s, len, sp->start, "the server's grammar ends this BEGIN ATOMIC statement "
					  "elsewhere (the script parses as a whole, this statement alone does not)");
	if (ed->cursorpos > 0)
		at = sp->start + char_to_byte(text, sp->end - sp->start, ed->cursorpos);
	return reason(s, len, at, psprintf("cannot verify where a BEGIN ATOMIC body ends: %s",
									   ed->message ? ed->message : "syntax error"));
}

/* The PostgreSQL verdict (see the file comment). */
static char *
check_postgres(const char *s, size_t len, const bb_stmt_span *sp, int n)
{
	bool	   *needs_parse = palloc0(sizeof(bool) * (n + 1));
	char	   *why;
	int			k;

	for (k = 0; k < n; k++)
		if (sp[k].error == BB_SPLIT_UNCERTAIN)
		{
			size_t		at = sp[k].start;
			const char *r = bb_split_uncertain_reason(BB_DIALECT_POSTGRES, s, len, sp[k].start, &at);

			return reason(s, len, at, r ? r : bb_split_error_message(sp[k].error));
		}
	if ((why = server_scan(s, len, sp, n, needs_parse)) != NULL)
		return why;
	for (k = 0; k < n; k++)
		if (sp[k].error != BB_SPLIT_OK)
			return reason(s, len, sp[k].start,
						  psprintf("the splitter reports \"%s\" but the server's scanner does not",
								   bb_split_error_message(sp[k].error)));
	for (k = 0; k < n; k++)
		if (needs_parse[k] && (why = parse_body(s, len, &sp[k])) != NULL)
			return why;
	return NULL;
}

/* The splitter's own verdict for the other engines. */
static char *
check_splitter(bb_dialect d, const char *s, size_t len, const bb_stmt_span *sp, int n)
{
	int			k;

	for (k = 0; k < n; k++)
	{
		size_t		at = sp[k].start;
		const char *r = NULL;

		if (sp[k].error == BB_SPLIT_OK)
			continue;
		if (sp[k].error == BB_SPLIT_UNCERTAIN)
			r = bb_split_uncertain_reason(d, s, len, sp[k].start, &at);
		return reason(s, len, at, r ? r : bb_split_error_message(sp[k].error));
	}
	return NULL;
}

/* bb._split_check(statement, engine): NULL when certain, else "line N: reason". */
Datum
bb_split_check(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt;
	bb_dialect	dialect;
	text	   *t;
	char	   *s;
	size_t		len;
	bb_stmt_span *raw = NULL;
	bb_stmt_span *sp;
	int			n;
	char	   *volatile why = NULL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	dialect = bb_parse_engine(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	cxt = AllocSetContextCreate(caller, "bb split check", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	t = PG_GETARG_TEXT_PP(0);
	s = text_to_cstring(t);
	len = strlen(s);			/* a text holds no NUL */

	n = bb_split(dialect, s, len, &raw);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	sp = palloc_extended(sizeof(bb_stmt_span) * (n + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (sp == NULL)
	{
		free(raw);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	}
	if (n > 0)
		memcpy(sp, raw, sizeof(bb_stmt_span) * n);
	free(raw);

	if (dialect == BB_DIALECT_POSTGRES)
	{
		emit_log_hook_type saved = emit_log_hook;

		prev_emit_log_hook = saved;
		emit_log_hook = quiet_truncation;
		PG_TRY();
		{
			why = check_postgres(s, len, sp, n);
		}
		PG_FINALLY();
		{
			emit_log_hook = saved;
		}
		PG_END_TRY();
	}
	else
		why = check_splitter(dialect, s, len, sp, n);

	MemoryContextSwitchTo(caller);
	if (why == NULL)
	{
		MemoryContextDelete(cxt);
		PG_RETURN_NULL();
	}
	why = pstrdup(why);
	MemoryContextDelete(cxt);
	/* a message quoting a broken script must still be valid text */
	if (!pg_verifymbstr(why, strlen(why), true))
	{
		char	   *p;

		for (p = why; *p; p++)
			if ((unsigned char) *p >= 0x80)
				*p = '?';
	}
	PG_RETURN_TEXT_P(cstring_to_text(why));
}
