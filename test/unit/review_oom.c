/*
 * review_oom.c — out of memory in the plain-C checkers must fail closed.
 * test/unit/run.sh compiles the review code with malloc/calloc/realloc/strdup
 * routed to the hooks below; each test counts the allocations of a clean run,
 * then makes each one fail in turn (once, and from there on): every run that
 * lost an allocation must report review.check-failed, never just fewer
 * findings; ASan/LeakSanitizer check that nothing crashes or leaks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review.h"
#include "tap.h"

static long nalloc;				/* allocations so far */
static long fail_at;			/* the allocation that fails (1-based), 0 = none */
static int	fail_on;			/* also every later one */
static int	injected;			/* some allocation failed */

void	   *bbt_malloc(size_t n);
void	   *bbt_calloc(size_t n, size_t size);
void	   *bbt_realloc(void *p, size_t n);
char	   *bbt_strdup(const char *s);

/* Whether this allocation is the one to fail. */
static int
fail_now(void)
{
	nalloc++;
	if (fail_at > 0 && (nalloc == fail_at || (fail_on && nalloc > fail_at)))
	{
		injected = 1;
		return 1;
	}
	return 0;
}

void *
bbt_malloc(size_t n)
{
	return fail_now() ? NULL : malloc(n);
}

void *
bbt_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : calloc(n, size);
}

void *
bbt_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : realloc(p, n);
}

char *
bbt_strdup(const char *s)
{
	return fail_now() ? NULL : strdup(s);
}

/* Makes every allocation of a run fail in turn; counts the runs that stayed silent. */
static void
sweep(bb_dialect d, const char *name, const char *sql)
{
	long		total;
	long		k;
	int			mode;
	long		silent = 0;
	long		first_silent = 0;
	long		clean_findings;

	fail_at = 0;
	nalloc = 0;
	run(d, sql);
	total = nalloc;
	clean_findings = T.total;
	ok(total > 0 && count(BB_RULE_CHECK_FAILED, 0) == 0 && clean_findings > 0,
	   "%s: a clean run (%ld allocations, %ld findings, no check-failed)", name, total, clean_findings);
	for (mode = 0; mode < 2; mode++)
		for (k = 1; k <= total; k++)
		{
			fail_at = k;
			fail_on = mode;
			nalloc = 0;
			injected = 0;
			run(d, sql);
			if (injected && count(BB_RULE_CHECK_FAILED, 0) == 0)
			{
				silent++;
				if (first_silent == 0)
					first_silent = k;
			}
		}
	fail_at = 0;
	ok(silent == 0, "%s: each of %ld allocations failing (once, and from there on) gives review.check-failed "
	   "(%ld silent runs, first at allocation %ld)", name, total, silent, first_silent);
}

int
main(void)
{
	sweep(BB_DIALECT_MYSQL, "MySQL",
		  "CREATE TABLE Orders (id int PRIMARY KEY, Note varchar(20), KEY ix (Note));\n"
		  "ALTER TABLE orders ADD COLUMN x int, ADD INDEX idx_orders_x (x);\n"
		  "UPDATE orders SET x = 1;\nSELECT * FROM orders WHERE note LIKE '%a';\n"
		  "DROP TABLE orders;\nRENAME TABLE a TO B;\nSELEC 1;\n");
	sweep(BB_DIALECT_TIDB, "TiDB",
		  "CREATE TABLE t1 (id int AUTO_RANDOM PRIMARY KEY, Bad int);\nDELETE FROM t1;\n");
	sweep(BB_DIALECT_CLICKHOUSE, "ClickHouse",
		  "CREATE TABLE Orders (id UInt64, Bad Nullable(String)) ENGINE = MergeTree ORDER BY id;\n"
		  "ALTER TABLE orders DELETE WHERE 1, ADD COLUMN Y Int32;\nSELECT * FROM orders FINAL WHERE a LIKE '%x';\n"
		  "DROP TABLE orders;\nRENAME TABLE a TO B;\nINSERT INTO t SELECT 1;\n");
	sweep(BB_DIALECT_SNOWFLAKE, "Snowflake",
		  "CREATE OR REPLACE TABLE \"orders\" (id int, \"badName\" text);\n"
		  "ALTER TABLE orders RENAME COLUMN a TO \"b\";\nUPDATE orders SET id = 1;\n"
		  "SELECT * FROM orders WHERE a LIKE '%x';\nDROP TABLE orders;\nINSERT INTO t SELECT 1;\n");
	return tap_done();
}
