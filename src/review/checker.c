/*
 * checker.c — shared by the plain-C checkers so that none of them can run
 * past a cancel, or fail silently: interrupt polls, check-failed findings,
 * naming checks, and the one statement loop of the checkers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "checker.h"

int			bb_review_max_statement_size = 4 * 1024 * 1024;

/* Skips statements too big to parse within bounded memory (see checker.h). */
int
bb_review_statement_too_big(bb_review_ctx *ctx, const bb_stmt_span *sp)
{
	size_t		n = sp->end - sp->start;

	if (bb_review_max_statement_size <= 0 || n <= (size_t) bb_review_max_statement_size)
		return 0;
	bb_review_fail(ctx, sp->line, sp->column,
				   "statement of %zu bytes is longer than bytebase.review_max_statement_size (%d bytes): it was not checked",
				   n, bb_review_max_statement_size);
	return 1;
}

/* Polls the caller's interrupt flag (see checker.h). */
int
bb_review_interrupted(bb_review_ctx *ctx)
{
	return ctx != NULL && ctx->interrupted != NULL && ctx->interrupted(ctx);
}

/* Emits a review.check-failed finding (see checker.h). */
void
bb_review_fail(bb_review_ctx *ctx, int line, int column, const char *fmt,...)
{
	char		msg[BB_CLIP_MESSAGE];
	va_list		ap;

	if (ctx == NULL || ctx->emit == NULL)
		return;
	va_start(ap, fmt);
	bb_vformat_clipped(msg, sizeof(msg), BB_CLIP_NAME, fmt, ap);
	va_end(ap);
	ctx->emit(ctx, BB_RULE_CHECK_FAILED, line, column, "%s", msg);
}

/* bb_naming_check that reports why a format could not be applied (see checker.h). */
int
bb_review_naming(bb_review_ctx *ctx, const char *rule, const bb_payload *pl, const char *name,
				 const bb_naming_vars *vars, int line, int column, char **expanded)
{
	int			rc;
	const char *why;

	if (expanded)
		*expanded = NULL;
	if (pl == NULL || name == NULL)
		return -1;
	bb_regex_clear_error();
	rc = bb_naming_check(pl, name, vars, expanded);
	if (rc >= 0 || bb_review_interrupted(ctx))
		return rc;
	why = bb_regex_last_error();
	bb_review_fail(ctx, line, column, "rule %s could not check the name \"%s\": %s", rule, name,
				   why[0] ? why : "out of memory");
	return -1;
}

/* Reports a split error as a syntax-error finding when that rule is on. */
static void
split_error(bb_review_ctx *ctx, const bb_stmt_span *sp)
{
	if (ctx->rule && ctx->rule(ctx, BB_RULE_SYNTAX_ERROR))
		ctx->emit(ctx, BB_RULE_SYNTAX_ERROR, sp->line, sp->column, "%s",
				  bb_split_error_message(sp->error));
}

/* The checkers' statement loop (see checker.h). */
void
bb_review_token_script(bb_review_ctx *ctx, bb_dialect dialect, const char *script, size_t len,
					   bb_token_stmt_fn fn, void *arg)
{
	bb_stmt_span *spans = NULL;
	bb_cursor	cur;
	bb_tokens	toks = {0};
	int			n,
				i;

	if (ctx == NULL || ctx->emit == NULL || (script == NULL && len > 0))
		return;
	if (script == NULL)
		script = "";
	n = bb_split(dialect, script, len, &spans);
	if (n < 0)
	{
		bb_review_fail(ctx, 1, 1, "out of memory splitting the script: nothing was checked");
		return;
	}
	bb_cursor_init(&cur, script, len);
	for (i = 0; i < n && !bb_review_interrupted(ctx); i++)
	{
		bb_arena	a = {0};

		if (spans[i].error != BB_SPLIT_OK)
		{
			split_error(ctx, &spans[i]);
			continue;
		}
		if (bb_review_statement_too_big(ctx, &spans[i]))
			continue;
		toks.n = 0;
		if (bb_tokenize(dialect, &cur, spans[i].start, spans[i].end, &toks) < 0)
		{
			bb_review_fail(ctx, spans[i].line, spans[i].column,
						   "out of memory tokenizing this statement: it was not checked");
			continue;
		}
		if (toks.n > 0)
			fn(ctx, arg, &a, toks.v, toks.n);
		if (a.oom)
			bb_review_fail(ctx, spans[i].line, spans[i].column,
						   "out of memory checking this statement: some rules did not run");
		bb_arena_free(&a);
	}
	bb_tokens_free(&toks);
	free(spans);
}
