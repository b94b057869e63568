/*
 * tap.h — what the standalone review tests share: TAP output ("ok N - ..."),
 * one checker run into the global test_ctx T (its overrides kept), and
 * counting the findings of a rule.  Include once per test program.
 */
#ifndef BB_TAP_H
#define BB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "test_ctx.h"

static test_ctx T;
static int	ntest;
static int	nfail;

/* One TAP line; on failure the findings of the last run are shown. */
static void
ok(int cond, const char *fmt,...)
{
	va_list		ap;
	int			k;
	char		desc[512];
	char	   *p;

	ntest++;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	for (p = desc; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '#')
			*p = ' ';
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ntest, desc);
	if (!cond)
	{
		nfail++;
		for (k = 0; k < T.n; k++)
			printf("#   got %s at %d:%d: %s\n", T.f[k].rule, T.f[k].line, T.f[k].column, T.f[k].msg);
	}
}

/* Runs a checker on a script (findings land in T; overrides and the interrupt point stay). */
static void
run_len(bb_dialect d, const char *sql, size_t len)
{
	test_ctx	keep = T;

	tc_init(&T);
	T.override_id = keep.override_id;
	T.override_pl = keep.override_pl;
	T.off_id = keep.off_id;
	T.interrupt_at = keep.interrupt_at;
	T.dialect = d;
	if (d == BB_DIALECT_CLICKHOUSE)
		bb_review_clickhouse(&T.ctx, sql, len);
	else if (d == BB_DIALECT_SNOWFLAKE)
		bb_review_snowflake(&T.ctx, sql, len);
	else
		bb_review_mysql(&T.ctx, d, sql, len);
}

static void
run(bb_dialect d, const char *sql)
{
	run_len(d, sql, strlen(sql));
}

/* Findings of a rule at a line (0 = any line). */
static int
count(const char *rule, int line)
{
	int			k,
				c = 0;

	for (k = 0; k < T.n; k++)
		if (strcmp(T.f[k].rule, rule) == 0 && (line == 0 || T.f[k].line == line))
			c++;
	return c;
}

/* The plan line; the exit status of the test program. */
static int
tap_done(void)
{
	printf("1..%d\n", ntest);
	if (nfail)
		printf("# %d of %d failed\n", nfail, ntest);
	return nfail ? 1 : 0;
}

#endif
