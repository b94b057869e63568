/*
 * review.h — SQL review interface.  Plain C (no PostgreSQL headers) so the
 * splitters, the MySQL parser and the non-PostgreSQL rule checkers build
 * both into the extension and into standalone libFuzzer/ASan targets.
 * Memory: everything here uses malloc/free and frees what it allocates
 * before returning (the backend glue copies results into palloc'd memory).
 *
 * Ownership:
 *   lex.c                   the one lexer (rules mirror each server's scanner) — review core
 *   split.c                 bb_split (all dialects), on lex.c   — review core
 *   pg_split_check.c        bb._split_check: bb_split against PostgreSQL's own scanner
 *   regex.c, regex_safe.c, regex_pg.c (engine; test/unit/regex_libc.c in the
 *     standalone builds), checker.c, clip.c (checker.h), common_rules.c:
 *     bb_regex_*, bb_template_expand, bb_rules_common     — review core
 *   pg_*.c, lint.c, policy.c: backend glue, PostgreSQL rules   — review core
 *   mysql_*.c               MySQL/TiDB parser and rules         — dialect rules
 *   clickhouse_rules.c, snowflake_rules.c                      — dialect rules
 */
#ifndef BB_REVIEW_H
#define BB_REVIEW_H

#include <stddef.h>

typedef enum bb_dialect
{
	BB_DIALECT_POSTGRES = 0,
	BB_DIALECT_MYSQL = 1,
	BB_DIALECT_TIDB = 2,
	BB_DIALECT_CLICKHOUSE = 3,
	BB_DIALECT_SNOWFLAKE = 4
} bb_dialect;

#define BB_ENGINE_BIT(d) (1u << (d))
#define BB_ENGINES_MYSQL_LIKE (BB_ENGINE_BIT(BB_DIALECT_MYSQL) | BB_ENGINE_BIT(BB_DIALECT_TIDB))

/* ---- splitting ---------------------------------------------------------- */

typedef enum bb_split_error
{
	BB_SPLIT_OK = 0,
	BB_SPLIT_UNTERMINATED_QUOTE,		/* '...  "...  `... */
	BB_SPLIT_UNTERMINATED_DOLLAR,		/* $tag$ ... */
	BB_SPLIT_UNTERMINATED_COMMENT,		/* slash-star ... */
	BB_SPLIT_BAD_DELIMITER,				/* MySQL DELIMITER misuse */
	BB_SPLIT_UNCERTAIN					/* servers or versions read the statement differently
										 * (e.g. MySQL versioned comment, MariaDB slash-star-M!):
										 * the script must be refused, not guessed */
} bb_split_error;

/* One statement of a script: bytes [start, end) of the script, the 1-based
 * line and column where its first token starts, without the terminator. */
typedef struct bb_stmt_span
{
	size_t		start;
	size_t		end;
	int			line;
	int			column;
	bb_split_error error;
} bb_stmt_span;

/* Splits a script; statements that are only whitespace/comments are not
 * returned.  Returns the count (>= 0) and a malloc'd array in *out (caller
 * frees; NULL when the count is 0), or -1 when out of memory.
 * An unterminated quote/comment gives a last span with error set that
 * extends to the end of the script; a bad DELIMITER line gives a span with
 * error BB_SPLIT_BAD_DELIMITER and splitting goes on; a statement whose text
 * servers read differently gets BB_SPLIT_UNCERTAIN and splitting goes on.
 * Columns count bytes. */
extern int	bb_split(bb_dialect dialect, const char *script, size_t len, bb_stmt_span **out);

/* Called for every comment the splitter skips (bytes [start, end) including
 * the comment markers); used to find "-- bb:ignore rule.id" suppressions. */
typedef void (*bb_comment_fn) (void *arg, size_t start, size_t end);
extern int	bb_split_ex(bb_dialect dialect, const char *script, size_t len, bb_stmt_span **out,
						bb_comment_fn on_comment, void *arg);

/* A human-readable reason for a span's error ("unterminated quoted string"...). */
extern const char *bb_split_error_message(bb_split_error error);

/* ---- regular expressions and naming templates (POSIX extended regex) ----
 * Every checker uses these so that bb.set_review_rule validates a pattern
 * with the very engine that applies it: PostgreSQL's own regex engine in the
 * extension (interruptible, memory-bounded), the C library's in the
 * standalone unit/fuzz builds.  A pattern is checked for safety before it is
 * compiled (at most BB_REGEX_MAX_PATTERN bytes, no back-references or escapes
 * of letters/digits, no repetition of what can match empty or overlaps a
 * repetition inside it: (a+)+, (a|a)*, (|)*, (a*)* are refused). */
#define BB_REGEX_MATCH 1
#define BB_REGEX_NOMATCH 0
#define BB_REGEX_INVALID (-1)		/* does not compile, or is unsafe */
#define BB_REGEX_CANCELED (-2)		/* an interrupt is pending: stop checking */
#define BB_REGEX_TOO_COMPLEX (-3)	/* the engine ran out of memory, states or stack */
#define BB_REGEX_MAX_PATTERN 8192	/* bytes of a pattern after template expansion */
#define BB_REGEX_MAX_FORMAT 512		/* bytes of a naming format in a policy */

/* One of the BB_REGEX_* codes above (search: anchor with ^...$). */
extern int	bb_regex_match(const char *pattern, const char *subject);
/* 0 when pattern is safe and compiles, else a BB_REGEX_* code with the reason in err. */
extern int	bb_regex_check(const char *pattern, char *err, size_t errlen);
/* The reason of the last failed bb_regex_match ("" after bb_regex_clear_error). */
extern const char *bb_regex_last_error(void);
extern void bb_regex_clear_error(void);
/* A malloc'd copy of s with every regex metacharacter backslash-escaped, so it
 * matches itself literally; NULL when out of memory.  Every name spliced into
 * a naming template goes through this. */
extern char *bb_regex_escape(const char *s);
/* Replaces {{key}} by the matching value (verbatim: escape names first);
 * unknown keys stay.  Returns malloc'd text (caller frees) or NULL when out
 * of memory. */
extern char *bb_template_expand(const char *format, const char *const *keys,
								const char *const *values, int n);

/* ---- rules and findings -------------------------------------------------- */

typedef enum bb_level
{
	BB_LEVEL_OFF = 0,
	BB_LEVEL_WARNING = 1,
	BB_LEVEL_ERROR = 2
} bb_level;

/* The payload keys a rule may take (Bytebase's payload shapes). */
typedef enum bb_payload_kind
{
	BB_PAYLOAD_NONE = 0,
	BB_PAYLOAD_NAMING,			/* {"format": regex or template, "max_length": int} */
	BB_PAYLOAD_NUMBER,			/* {"number": int} */
	BB_PAYLOAD_LIST,			/* {"list": [string, ...]} */
	BB_PAYLOAD_STRING			/* {"string": string} */
} bb_payload_kind;

typedef struct bb_payload
{
	const char *format;			/* NAMING; templates {{table}} {{column_list}} {{referenced_table}} ... */
	int			max_length;		/* NAMING; 0 = no limit */
	long		number;			/* NUMBER */
	const char *const *list;	/* LIST */
	int			nlist;
	const char *string;			/* STRING */
} bb_payload;

/* A rule's static definition; ids are stable: "category.subject[.detail]". */
typedef struct bb_rule_def
{
	const char *id;				/* e.g. "table.require-pk" */
	unsigned	engines;		/* BB_ENGINE_BIT(...) mask */
	const char *category;		/* naming, statement, table, column, index, engine, database, system, migration */
	const char *description;
	bb_level	default_basic;	/* level in the basic template (non-protected environments) */
	bb_level	default_strict; /* level in the strict template (protected environments) */
	bb_payload_kind payload_kind;
	bb_payload	default_payload;
} bb_rule_def;

/* What a checker sees: the policy in force and a sink for findings. */
typedef struct bb_review_ctx bb_review_ctx;
struct bb_review_ctx
{
	/* payload of an enabled rule, or NULL when the rule is off for this run */
	const bb_payload *(*rule)(bb_review_ctx *ctx, const char *rule_id);
	/* reports a finding at a 1-based line/column of the script; message is
	 * printf-style; the sink clips every %s argument to about 100 bytes (a
	 * message passed whole as a lone "%s" to about 1000) */
	void		(*emit)(bb_review_ctx *ctx, const char *rule_id, int line, int column,
						const char *fmt,...)
#ifdef __GNUC__
				__attribute__((format(printf, 5, 6)))
#endif
	;
	void	   *arg;			/* the caller's state */
	/* non-zero when the run must stop (query cancel, statement timeout,
	 * shutdown); NULL = never.  Checkers poll it per statement and in every
	 * loop that can be long, then free their memory and return. */
	int			(*interrupted)(bb_review_ctx *ctx);
};

/* The dialect tables and checkers are weak references: until their files are
 * linked in, their address is NULL and the backend glue treats the table as
 * empty and falls back to splitting only. */
#ifdef __GNUC__
#define BB_WEAK __attribute__((weak))
#else
#define BB_WEAK
#endif

/* Rule tables per dialect family (each ends with an entry whose id is NULL). */
extern const bb_rule_def bb_rules_mysql[] BB_WEAK;		/* MySQL and TiDB */
extern const bb_rule_def bb_rules_clickhouse[] BB_WEAK;
extern const bb_rule_def bb_rules_snowflake[] BB_WEAK;
extern const bb_rule_def bb_rules_postgres[];	/* review core: pg_rules_defs.c */

/* Rules of every engine (review core: common_rules.c):
 *   "syntax-error"               a statement that does not parse / split
 *   "review.unused-suppression"  a "-- bb:ignore id" that suppressed nothing */
extern const bb_rule_def bb_rules_common[];
#define BB_RULE_SYNTAX_ERROR "syntax-error"
#define BB_RULE_UNUSED_SUPPRESSION "review.unused-suppression"
/* Outcomes of the review itself, not rules (in no table, so no policy or
 * comment turns them off; fail closed):
 *   "review.check-failed"        always an error: a check could not run (out
 *                                of memory, a naming format unsafe or too
 *                                complex for a name, a statement too long)
 *   "review.findings-truncated"  "N more findings not shown" past
 *                                bytebase.max_findings; an error when any
 *                                finding it counts is one, else a warning */
#define BB_RULE_CHECK_FAILED "review.check-failed"
#define BB_RULE_FINDINGS_TRUNCATED "review.findings-truncated"

/* Checkers for the non-PostgreSQL dialects: split, parse and apply every
 * enabled rule; an unparsable statement gives a "syntax-error" finding and the
 * rest of the script is still checked.  Never crash, never leak. */
extern void bb_review_mysql(bb_review_ctx *ctx, bb_dialect dialect, const char *script, size_t len) BB_WEAK;
extern void bb_review_clickhouse(bb_review_ctx *ctx, const char *script, size_t len) BB_WEAK;
extern void bb_review_snowflake(bb_review_ctx *ctx, const char *script, size_t len) BB_WEAK;

#endif
