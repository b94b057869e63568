/*
 * fuzz_split.c — libFuzzer target for bb_split and the shared lexer (every
 * dialect; the first byte picks the dialect, the rest is the script).  Checks
 * the span invariants and that the splitter, the lexer and the checkers'
 * tokenizer agree: each statement starts and ends on a lexer token, the
 * tokenizer finds its tokens inside it, an uncertain statement has a reason.
 * Build and run: make -C test/fuzz; test/fuzz/run.sh (see test/fuzz/Makefile).
 */
#include <stdint.h>
#include <stdlib.h>

#include "lex.h"
#include "review.h"
#include "token.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lexer's view of a statement alone: it starts on a token, which the
 * splitter saw too. */
static void
check_span_tokens(bb_dialect d, const char *script, const bb_stmt_span *s)
{
	bb_lexer	lx;
	bb_lex_token t;
	size_t		first = (size_t) -1;
	size_t		last = 0;

	bb_lex_init(&lx, d, script, s->end);
	bb_lex_seek(&lx, s->start);
	for (;;)
	{
		bb_lex_next(&lx, &t);
		if (t.kind == BB_LEX_EOF)
			break;
		if (t.end > s->end || t.end <= t.start)
			abort();
		if (t.kind == BB_LEX_SPACE || (t.kind == BB_LEX_COMMENT && t.error == BB_SPLIT_OK))
			continue;
		if (first == (size_t) -1)
			first = t.start;
		last = t.end;
	}
	/* the end may differ: lexed alone, "--" right before the cut is at the end
	 * of the input (a MySQL comment there) — as for the server, which gets
	 * the statement alone; a statement that is only "--" is then empty (the
	 * server answers "query was empty": an error, never another statement) */
	if (first == (size_t) -1 && (d == BB_DIALECT_MYSQL || d == BB_DIALECT_TIDB) &&
		s->end - s->start == 2 && script[s->start] == '-' && script[s->start + 1] == '-')
		return;
	if (first != s->start || last == 0 || last > s->end)
		abort();
}

/* The checkers' tokens of a statement stay inside it and are terminated. */
static void
check_tokenizer(bb_dialect d, const char *script, size_t len, const bb_stmt_span *s)
{
	bb_cursor	cur;
	bb_tokens	toks = {NULL, 0, 0};
	int			k;

	bb_cursor_init(&cur, script, len);
	if (bb_tokenize(d, &cur, s->start, s->end, &toks) < 0)
		return;
	for (k = 0; k < toks.n; k++)
	{
		const bb_token *t = &toks.v[k];

		if (t->p < script + s->start || t->p + t->len > script + s->end || t->len == 0 ||
			t->unterminated || t->line < s->line)
			abort();
	}
	bb_tokens_free(&toks);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bb_stmt_span *spans = NULL;
	bb_dialect	d;
	const char *script;
	size_t		len;
	int			n;
	int			k;
	size_t		prev_end = 0;

	if (size < 1)
		return 0;
	d = (bb_dialect) (data[0] % 5);
	script = (const char *) data + 1;
	len = size - 1;
	n = bb_split(d, script, len, &spans);
	if (n < 0)
		return 0;
	for (k = 0; k < n; k++)
	{
		const bb_stmt_span *s = &spans[k];

		/* spans are ordered, inside the script, and start at a 1-based position */
		if (s->start > s->end || s->end > len || s->start < prev_end ||
			s->line < 1 || s->column < 1)
			abort();
		/* an unterminated quote or comment ends the script */
		if (s->error != BB_SPLIT_OK && s->error != BB_SPLIT_BAD_DELIMITER &&
			s->error != BB_SPLIT_UNCERTAIN && k != n - 1)
			abort();
		if (s->error == BB_SPLIT_UNCERTAIN &&
			bb_split_uncertain_reason(d, script, len, s->start, NULL) == NULL)
			abort();
		if (s->error == BB_SPLIT_OK)
		{
			check_span_tokens(d, script, s);
			check_tokenizer(d, script, len, s);
		}
		prev_end = s->end;
	}
	free(spans);
	return 0;
}
