/*
 * test_ctx.h — a standalone bb_review_ctx for the unit tests and fuzzers:
 * every rule of the dialect tables (and "syntax-error") is on with its
 * default payload unless a test overrides it; findings are collected.
 */
#ifndef BB_TEST_CTX_H
#define BB_TEST_CTX_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review.h"

#define TC_MAX_FINDINGS 4096

typedef struct tc_finding
{
	char		rule[64];
	int			line;
	int			column;
	char		msg[256];
} tc_finding;

typedef struct test_ctx
{
	bb_review_ctx ctx;
	tc_finding	f[TC_MAX_FINDINGS];
	int			n;
	long		total;			/* findings, also those not kept */
	const char *override_id;	/* one rule with a test payload */
	const bb_payload *override_pl;
	const char *off_id;			/* one rule switched off */
	bb_dialect	dialect;		/* whose table answers first */
	long		interrupt_at;	/* interrupted from this poll on (1-based); 0 = never */
	long		polls;			/* interrupt polls so far */
} test_ctx;

/* The default payload of a rule from any table, NULL when unknown. */
static const bb_payload *
tc_rule(bb_review_ctx *ctx, const char *id)
{
	test_ctx   *t = (test_ctx *) ctx->arg;
	const bb_rule_def *tables[4];
	int			k;

	tables[0] = t->dialect == BB_DIALECT_CLICKHOUSE ? bb_rules_clickhouse :
		t->dialect == BB_DIALECT_SNOWFLAKE ? bb_rules_snowflake : bb_rules_mysql;
	tables[1] = bb_rules_common;
	tables[2] = NULL;
	tables[3] = NULL;
	if (t->off_id && strcmp(t->off_id, id) == 0)
		return NULL;
	if (t->override_id && strcmp(t->override_id, id) == 0)
		return t->override_pl;
	for (k = 0; k < 4; k++)
	{
		const bb_rule_def *d;

		for (d = tables[k]; d && d->id; d++)
			if (strcmp(d->id, id) == 0)
				return &d->default_payload;
	}
	return NULL;
}

/* Records a finding (formats the message, which also exercises the format). */
static void
tc_emit(bb_review_ctx *ctx, const char *rule_id, int line, int column, const char *fmt,...)
{
	test_ctx   *t = (test_ctx *) ctx->arg;
	va_list		ap;
	tc_finding *f;

	t->total++;
	if (t->n >= TC_MAX_FINDINGS)
		return;
	f = &t->f[t->n++];
	snprintf(f->rule, sizeof(f->rule), "%s", rule_id);
	f->line = line;
	f->column = column;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

/* A cancel that arrives at the interrupt_at-th poll and stays pending. */
static int
tc_interrupted(bb_review_ctx *ctx)
{
	test_ctx   *t = (test_ctx *) ctx->arg;

	t->polls++;
	return t->interrupt_at > 0 && t->polls >= t->interrupt_at;
}

static void
tc_init(test_ctx *t)
{
	memset(t, 0, sizeof(*t));
	t->ctx.rule = tc_rule;
	t->ctx.emit = tc_emit;
	t->ctx.interrupted = tc_interrupted;
	t->ctx.arg = t;
}

#endif
