/*
 * lint.h — SQL review entry points for backend code (bb.lint, plan checks).
 * Callers must be inside a transaction (the policy is read with SPI); this
 * works from a background worker as well as from a SQL function.
 */
#ifndef BB_LINT_H
#define BB_LINT_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "review/review.h"

/* One finding, palloc'd in the caller's memory context. */
typedef struct bb_finding
{
	int			line;			/* 1-based line of the script */
	const char *rule;			/* stable rule id */
	const char *level;			/* "error" or "warning" */
	const char *message;
	int			column;			/* 1-based byte column */
	bool		suppressed;		/* a "-- bb:ignore" comment covers it (kept only when asked) */
} bb_finding;

/* Reviews a script: engine is postgres, mysql, tidb, clickhouse or snowflake
 * (else an ERROR); environment NULL = the basic template, else that
 * environment's policy (an unknown one is an ERROR).  Returns a List of
 * bb_finding * ordered by line, then rule (at most bytebase.max_findings,
 * then one review.findings-truncated); NIL when there is nothing to say.
 * A cancel or shutdown during the review is raised (query_canceled ...);
 * out of memory is an ERROR or a review.check-failed finding, never silence. */
extern List *bb_review_script(const char *engine, const char *script, const char *environment);

/* Same, keeping the findings that a "-- bb:ignore" comment covers, marked suppressed (the plan
 * checks decide by the environment's allow_suppressions option whether they count). */
extern List *bb_review_script_ex(const char *engine, const char *script, const char *environment,
								 bool keep_suppressed);

/* The PostgreSQL checker (pg_review.c), same contract as bb_review_mysql & co. */
extern void bb_review_postgres(bb_review_ctx *ctx, const char *script, size_t len);

/* bytebase.max_findings (PGC_SUSET, default 1000): findings kept per review;
 * past it one "review.findings-truncated" finding counts the rest.
 * bb_review_define_settings() defines it; _PG_init calls it. */
extern int	bb_review_max_findings;
extern void bb_review_define_settings(void);

/* Raises the pending interrupt (query_canceled / shutdown); when it is held
 * off, a query_canceled error all the same: a review never ends early in
 * silence. */
extern void bb_review_raise_interrupt(void) pg_attribute_noreturn();

/* suppress.c: "-- bb:ignore rule.id" comments of a script, collected before
 * the checker runs (NULL when the script has none; palloc'd). */
typedef struct bb_suppressions bb_suppressions;
extern bb_suppressions *bb_suppressions_scan(bb_dialect dialect, const char *script, size_t len);
/* Whether a finding of `rule` at `line` is suppressed (marks the comment
 * used); never throws. */
extern bool bb_suppressions_cover(bb_suppressions *s, const char *rule, int line);
/* Calls fn for every rule name of a comment that suppressed nothing. */
typedef void (*bb_unused_fn) (void *arg, int line, const char *rule, int rule_len);
extern void bb_suppressions_unused(bb_suppressions *s, bb_unused_fn fn, void *arg);

/* 1-based line and column of a byte offset given the offsets of line starts. */
extern void bb_offset_position(const size_t *line_starts, int nlines, size_t off,
							   int *line, int *column);

/* policy.c: rule definitions across every linked table. */
typedef void (*bb_rule_visitor) (const bb_rule_def *def, void *arg);
extern void bb_visit_rules(bb_rule_visitor fn, void *arg);
/* The tables that apply to a dialect (common first); NULL-terminated array of tables. */
extern int	bb_rule_tables(bb_dialect dialect, const bb_rule_def **tables, int max);
/* Parses an engine name; ERROR when unknown. */
extern bb_dialect bb_parse_engine(const char *engine);
extern const char *bb_level_name(bb_level level);

#endif
