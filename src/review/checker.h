/*
 * checker.h — what every review checker shares to stay interruptible,
 * bounded and fail-closed (plain C, no PostgreSQL headers): interrupt polls,
 * "review.check-failed" findings, naming checks that report why a pattern
 * could not be applied, the one statement loop of the checkers, and
 * printf-style formatting that clips names.
 */
#ifndef BB_REVIEW_CHECKER_H
#define BB_REVIEW_CHECKER_H

#include <stdarg.h>

#include "token.h"

#define BB_CLIP_NAME 100		/* bytes of a %s argument echoed in a message */
#define BB_CLIP_MESSAGE 1000	/* bytes of a message passed whole as "%s" */

/* checker.c ---------------------------------------------------------------- */

/* Statements longer than this many bytes are not parsed (a check-failed
 * finding says so): parse trees and token arrays take tens of bytes per
 * byte of input.  The variable of bytebase.review_max_statement_size. */
extern int	bb_review_max_statement_size;

/* When the statement of span sp is over the limit: reports it (check-failed)
 * and returns 1; the caller skips the statement. */
extern int	bb_review_statement_too_big(bb_review_ctx *ctx, const bb_stmt_span *sp);

/* Non-zero when the run must stop (ctx->interrupted; NULL means never). */
extern int	bb_review_interrupted(bb_review_ctx *ctx);

/* Reports that a check could not run (an error-level "review.check-failed"
 * finding: the script is not known to pass).  printf-style. */
extern void bb_review_fail(bb_review_ctx *ctx, int line, int column, const char *fmt,...)
#ifdef __GNUC__
			__attribute__((format(printf, 4, 5)))
#endif
			;

/* bb_naming_check with its failures made visible: when the format cannot be
 * applied to the name (unsafe or too complex for it, out of memory) a
 * review.check-failed finding names the rule and the reason, unless the run
 * was interrupted.  Same results: 0 ok, 1 no match (*expanded: malloc'd
 * pattern, caller frees), 2 too long, -1 not checked. */
extern int	bb_review_naming(bb_review_ctx *ctx, const char *rule, const bb_payload *pl,
							 const char *name, const bb_naming_vars *vars, int line, int column,
							 char **expanded);

/* Checks one statement's tokens (n > 0) with the checker's own state arg;
 * arena a (for the statement) is freed after the call. */
typedef void (*bb_token_stmt_fn) (bb_review_ctx *ctx, void *arg, bb_arena *a, const bb_token *t, int n);

/* The statement loop of the plain-C checkers (MySQL/TiDB, ClickHouse,
 * Snowflake): splits the script, reports split errors as "syntax-error",
 * skips statements over bb_review_max_statement_size, tokenizes each
 * statement and hands it to fn; polls for interrupts per statement; out of
 * memory anywhere gives a review.check-failed finding instead of silence.
 * Frees everything. */
extern void bb_review_token_script(bb_review_ctx *ctx, bb_dialect dialect, const char *script,
								   size_t len, bb_token_stmt_fn fn, void *arg);

/* clip.c ------------------------------------------------------------------- */

/* vsnprintf into buf[cap] with every %s argument cut to `clip` bytes (at a
 * UTF-8 character boundary, "..." appended) and the whole text to cap-1
 * bytes ("..." at the end when cut).  Supports the conversions of C99
 * printf.  Returns the length written. */
extern size_t bb_vformat_clipped(char *buf, size_t cap, size_t clip, const char *fmt, va_list ap);

/* A copy of s in buf[cap] cut to `clip` bytes with "..." (for error messages). */
extern const char *bb_clip(const char *s, size_t clip, char *buf, size_t cap);

#endif
