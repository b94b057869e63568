/*
 * lint.c — backend glue of SQL review: effective policy (template defaults +
 * an environment's rows), the bb_review_ctx callbacks (findings capped at
 * bytebase.max_findings, names clipped, interrupts polled), dispatch per
 * engine, and the bb._lint() / bb._split() SQL functions.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "review/checker.h"
#include "review/lint.h"

PG_FUNCTION_INFO_V1(bb_lint);

#define RULE_ID_LEN 96

/* A rule's effective setting for one run. */
typedef struct effective_rule
{
	char		id[RULE_ID_LEN];	/* hash key */
	bb_level	level;
	bb_payload	payload;
} effective_rule;

typedef struct seq_finding
{
	bb_finding	f;
	int			seq;			/* emission order */
} seq_finding;

/* One run's state behind bb_review_ctx.arg. */
typedef struct lint_run
{
	MemoryContext cxt;			/* findings and policy live here */
	HTAB	   *rules;
	bb_suppressions *sups;		/* "-- bb:ignore" comments, NULL when none */
	seq_finding **findings;		/* kept findings (unsorted) */
	int			nfindings;
	int			capfindings;
	int			cap;			/* bytebase.max_findings for this run */
	int			seq;
	int64		over;			/* findings past the cap: counted only */
	int			over_line;		/* the first of them */
	bb_level	over_level;		/* the worst of them */
	bool		reporting_unused;	/* unused suppressions are not suppressible */
	bool		keep_suppressed;	/* suppressed findings are kept, marked, not dropped */
	int			nsuppressed;	/* of them kept (capped apart: they never crowd out others) */
	bool		interrupted;	/* the checker saw a pending interrupt */
	bool		oom;			/* a finding could not be kept */
} lint_run;

/* ---- policy ------------------------------------------------------------ */

/* Overrides payload fields with the keys present in a policy row's payload. */
static void
merge_payload(lint_run *run, bb_payload *p, Jsonb *jb)
{
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return;
	if (getKeyJsonValueFromContainer(&jb->root, "format", 6, &v) && v.type == jbvString)
		p->format = MemoryContextStrdup(run->cxt, pnstrdup(v.val.string.val, v.val.string.len));
	if (getKeyJsonValueFromContainer(&jb->root, "max_length", 10, &v) && v.type == jbvNumeric)
		p->max_length = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
	if (getKeyJsonValueFromContainer(&jb->root, "number", 6, &v) && v.type == jbvNumeric)
		p->number = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v.val.numeric)));
	if (getKeyJsonValueFromContainer(&jb->root, "string", 6, &v) && v.type == jbvString)
		p->string = MemoryContextStrdup(run->cxt, pnstrdup(v.val.string.val, v.val.string.len));
	if (getKeyJsonValueFromContainer(&jb->root, "list", 4, &v) && v.type == jbvBinary &&
		JsonContainerIsArray(v.val.binary.data))
	{
		int			n = JsonContainerSize(v.val.binary.data);
		const char **list = MemoryContextAllocZero(run->cxt, sizeof(char *) * (n + 1));
		JsonbIterator *it = JsonbIteratorInit(v.val.binary.data);
		JsonbValue	e;
		JsonbIteratorToken tok;
		int			k = 0;

		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
			if (tok == WJB_ELEM && e.type == jbvString && k < n)
				list[k++] = MemoryContextStrdup(run->cxt, pnstrdup(e.val.string.val, e.val.string.len));
		p->list = list;
		p->nlist = k;
	}
}

/* A policy row's level text as a bb_level (validated on write). */
static bb_level
parse_level(const char *s)
{
	if (strcmp(s, "error") == 0)
		return BB_LEVEL_ERROR;
	if (strcmp(s, "warning") == 0)
		return BB_LEVEL_WARNING;
	return BB_LEVEL_OFF;
}

/* Builds the effective rules: template defaults, then the environment's rows. */
static void
load_policy(lint_run *run, bb_dialect dialect, const char *environment)
{
	const bb_rule_def *tables[4];
	int			nt = bb_rule_tables(dialect, tables, 4);
	HASHCTL		hc;
	bool		strict = false;
	int64		env_id = 0;
	int			t;
	const bb_rule_def *d;

	memset(&hc, 0, sizeof(hc));
	hc.keysize = RULE_ID_LEN;
	hc.entrysize = sizeof(effective_rule);
	hc.hcxt = run->cxt;
	run->rules = hash_create("bb review rules", 256, &hc, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	if (environment)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1];
		bool		isnull;

		SPI_connect();
		args[0] = CStringGetTextDatum(environment);
		if (SPI_execute_with_args("SELECT id, protected FROM bb.environment WHERE name = $1",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read bb.environment");
		if (SPI_processed == 0)
		{
			char		clipped[BB_CLIP_NAME + 4];

			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
							errmsg("environment \"%s\" does not exist",
								   bb_clip(environment, BB_CLIP_NAME, clipped, sizeof(clipped))),
							errhint("See SELECT name FROM bb.environments; create one with bb.create_environment().")));
		}
		env_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		strict = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}

	for (t = 0; t < nt; t++)
		for (d = tables[t]; d->id; d++)
		{
			effective_rule *e;
			bool		found;

			if (!(d->engines & BB_ENGINE_BIT(dialect)) || strlen(d->id) >= RULE_ID_LEN)
				continue;
			e = hash_search(run->rules, d->id, HASH_ENTER, &found);
			if (found)
				continue;
			e->level = strict ? d->default_strict : d->default_basic;
			e->payload = d->default_payload;
		}

	if (environment)
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		args[1];
		uint64		k;

		args[0] = Int64GetDatum(env_id);
		if (SPI_execute_with_args("SELECT rule, level, payload FROM bb.review_policy WHERE environment_id = $1",
								  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read bb.review_policy");
		for (k = 0; k < SPI_processed; k++)
		{
			HeapTuple	tup = SPI_tuptable->vals[k];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			char	   *rule = TextDatumGetCString(SPI_getbinval(tup, td, 1, &isnull));
			char	   *level = TextDatumGetCString(SPI_getbinval(tup, td, 2, &isnull));
			Datum		payload = SPI_getbinval(tup, td, 3, &isnull);
			effective_rule *e;

			if (strlen(rule) >= RULE_ID_LEN)
				continue;
			e = hash_search(run->rules, rule, HASH_FIND, NULL);
			if (e == NULL)
				continue;		/* a rule of another engine */
			e->level = parse_level(level);
			if (!isnull)
				merge_payload(run, &e->payload, DatumGetJsonbP(payload));
		}
		SPI_finish();
	}
}

/* ---- settings ---------------------------------------------------------- */

int			bb_review_max_findings = 1000;

/* Defines bytebase.max_findings and bytebase.review_max_statement_size (from _PG_init). */
void
bb_review_define_settings(void)
{
	DefineCustomIntVariable("bytebase.max_findings",
							"Most findings one SQL review returns; one more finding counts the rest.",
							"Bounds the memory and the output of a review of a huge script.",
							&bb_review_max_findings, 1000, 1, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.review_max_statement_size",
							"Longest statement SQL review parses; a longer one gets a review.check-failed finding.",
							"A parse takes tens of bytes of memory per byte of statement.",
							&bb_review_max_statement_size, 4 * 1024 * 1024, 1024, (int) MaxAllocSize,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
}

/* ---- bb_review_ctx callbacks ----------------------------------------- */

/* bb_review_ctx.rule: the payload of an enabled rule, NULL when off or unknown. */
static const bb_payload *
ctx_rule(bb_review_ctx *ctx, const char *rule_id)
{
	lint_run   *run = ctx->arg;
	effective_rule *e;

	if (rule_id == NULL || strlen(rule_id) >= RULE_ID_LEN)
		return NULL;
	e = hash_search(run->rules, rule_id, HASH_FIND, NULL);
	if (e == NULL || e->level == BB_LEVEL_OFF)
		return NULL;
	return &e->payload;
}

/* bb_review_ctx.interrupted: a query cancel, statement timeout or shutdown is
 * pending.  Only reads flags: the checker frees its memory and returns, then
 * the glue lets CHECK_FOR_INTERRUPTS raise the error. */
static int
ctx_interrupted(bb_review_ctx *ctx)
{
	lint_run   *run = ctx->arg;

	if (InterruptPending && (QueryCancelPending || ProcDiePending))
	{
		run->interrupted = true;
		return 1;
	}
	return 0;
}

/* Replaces bytes that are not valid in the database encoding by '?'. */
static void
make_valid(char *s)
{
	int			enc = GetDatabaseEncoding();
	size_t		len = strlen(s);
	size_t		i = 0;

	while (i < len)
	{
		int			l = pg_encoding_verifymbchar(enc, s + i, (int) Min(len - i, (size_t) INT_MAX));

		if (l <= 0)
		{
			s[i++] = '?';
			continue;
		}
		i += l;
	}
}

/* The review's own outcomes: no policy or comment turns them off (fail closed). */
static bool
unconditional(const char *rule_id)
{
	return strcmp(rule_id, BB_RULE_CHECK_FAILED) == 0 || strcmp(rule_id, BB_RULE_FINDINGS_TRUNCATED) == 0;
}

/* Keeps one finding in the run's context; never throws (plain-C checkers
 * call this with malloc'd memory live): out of memory sets run->oom. */
static void
keep_finding(lint_run *run, const char *rule_id, const effective_rule *e, bb_level level,
			 int line, int column, const char *msg, bool suppressed)
{
	size_t		mlen = strlen(msg);
	size_t		rlen = e ? 0 : strnlen(rule_id, RULE_ID_LEN - 1);
	seq_finding *sf;
	char	   *text;

	if (run->nfindings == run->capfindings)
	{
		int			ncap = Min(Max(run->capfindings * 2, 64), 2 * run->cap + 1);
		seq_finding **n = MemoryContextAllocExtended(run->cxt, sizeof(seq_finding *) * ncap,
													 MCXT_ALLOC_NO_OOM);

		if (n == NULL)
		{
			run->oom = true;
			return;
		}
		if (run->findings)
		{
			memcpy(n, run->findings, sizeof(seq_finding *) * run->nfindings);
			pfree(run->findings);
		}
		run->findings = n;
		run->capfindings = ncap;
	}
	sf = MemoryContextAllocExtended(run->cxt, sizeof(seq_finding) + mlen + 1 + (e ? 0 : rlen + 1),
									MCXT_ALLOC_NO_OOM);
	if (sf == NULL)
	{
		run->oom = true;
		return;
	}
	text = (char *) (sf + 1);
	memcpy(text, msg, mlen + 1);
	make_valid(text);
	sf->f.message = text;
	if (e)
		sf->f.rule = e->id;
	else
	{
		char	   *r = text + mlen + 1;

		memcpy(r, rule_id, rlen);
		r[rlen] = '\0';
		make_valid(r);
		sf->f.rule = r;
	}
	sf->f.line = line;
	sf->f.column = column;
	sf->f.level = bb_level_name(level);
	sf->f.suppressed = suppressed;
	sf->seq = run->seq++;
	run->findings[run->nfindings++] = sf;
}

/* The common path of every finding: policy level, suppression comments, the
 * cap (past it only counted), clipped formatting.  Never throws. */
static void
emit_finding(lint_run *run, const char *rule_id, int line, int column, const char *fmt, va_list ap)
{
	effective_rule *e = NULL;
	bb_level	level = BB_LEVEL_WARNING;
	bool		suppressed = false;
	char		msg[4096];

	if (rule_id == NULL || fmt == NULL)
		return;
	if (strlen(rule_id) < RULE_ID_LEN)
		e = hash_search(run->rules, rule_id, HASH_FIND, NULL);
	if (unconditional(rule_id))
		level = BB_LEVEL_ERROR;
	else
	{
		if (e != NULL)
			level = e->level;
		if (level == BB_LEVEL_OFF)
			return;
		if (!run->reporting_unused && bb_suppressions_cover(run->sups, rule_id, line))
		{
			if (!run->keep_suppressed)
				return;
			suppressed = true;
		}
	}
	if (suppressed)
	{
		if (run->nsuppressed >= run->cap)
			return;				/* a suppressed finding past the cap blocks nothing either way */
		run->nsuppressed++;
	}
	else if (run->nfindings - run->nsuppressed >= run->cap)
	{
		if (run->over++ == 0)
			run->over_line = line;
		run->over_level = Max(run->over_level, level);
		return;
	}
	bb_vformat_clipped(msg, sizeof(msg), strcmp(fmt, "%s") == 0 ? BB_CLIP_MESSAGE : BB_CLIP_NAME, fmt, ap);
	keep_finding(run, rule_id, e, level, line, column, msg, suppressed);
}

static void ctx_emit(bb_review_ctx *ctx, const char *rule_id, int line, int column,
					 const char *fmt,...) pg_attribute_printf(5, 6);

/* bb_review_ctx.emit: collects a finding (see emit_finding). */
static void
ctx_emit(bb_review_ctx *ctx, const char *rule_id, int line, int column, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	emit_finding(ctx->arg, rule_id, line, column, fmt, ap);
	va_end(ap);
}

/* Raises the pending interrupt; if it is held off, a cancel error all the
 * same: a review that stopped early must not look like a clean one. */
void
bb_review_raise_interrupt(void)
{
	CHECK_FOR_INTERRUPTS();
	ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
					errmsg("canceling SQL review because of a pending interrupt")));
}

/* A finding that could not be kept fails the review (after the checker freed its memory). */
static void
raise_if_oom(lint_run *run)
{
	if (run->oom)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory collecting review findings")));
}

/* ---- suppressions ------------------------------------------------------ */

/* Reports one rule name of a "bb:ignore" comment that suppressed nothing. */
static void
report_unused(void *arg, int line, const char *rule, int len)
{
	bb_review_ctx *ctx = arg;

	ctx->emit(ctx, BB_RULE_UNUSED_SUPPRESSION, line, 1, "suppression of \"%.*s\" matched no finding",
			  len, rule);
}

/* ---- entry points ------------------------------------------------------ */

/* Splitting only, for dialects whose checker is not linked in. */
static void
split_only(bb_review_ctx *ctx, bb_dialect dialect, const char *script, size_t len)
{
	bb_stmt_span *spans = NULL;
	int			n = bb_split(dialect, script, len, &spans);
	int			k;

	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	for (k = 0; k < n; k++)
		if (spans[k].error != BB_SPLIT_OK)
			ctx->emit(ctx, BB_RULE_SYNTAX_ERROR, spans[k].line, spans[k].column, "%s",
					  bb_split_error_message(spans[k].error));
	free(spans);
}

/* Runs the dialect's checker; plain-C ones return on an interrupt with
 * their memory freed, so the interrupt is raised here. */
static void
run_checker(bb_review_ctx *ctx, lint_run *run, bb_dialect dialect, const char *script, size_t len)
{
	switch (dialect)
	{
		case BB_DIALECT_POSTGRES:
			bb_review_postgres(ctx, script, len);
			break;
		case BB_DIALECT_MYSQL:
		case BB_DIALECT_TIDB:
			if (bb_review_mysql)
				bb_review_mysql(ctx, dialect, script, len);
			else
				split_only(ctx, dialect, script, len);
			break;
		case BB_DIALECT_CLICKHOUSE:
			if (bb_review_clickhouse)
				bb_review_clickhouse(ctx, script, len);
			else
				split_only(ctx, dialect, script, len);
			break;
		case BB_DIALECT_SNOWFLAKE:
			if (bb_review_snowflake)
				bb_review_snowflake(ctx, script, len);
			else
				split_only(ctx, dialect, script, len);
			break;
	}
	if (run->interrupted || INTERRUPTS_PENDING_CONDITION())
		CHECK_FOR_INTERRUPTS();
	if (run->interrupted)
		bb_review_raise_interrupt();
	raise_if_oom(run);
}

/* Order of findings: line, rule, then emission order. */
static int
finding_cmp(const void *a, const void *b)
{
	const seq_finding *x = *(seq_finding *const *) a;
	const seq_finding *y = *(seq_finding *const *) b;
	int			c;

	if (x->f.line != y->f.line)
		return x->f.line < y->f.line ? -1 : 1;
	c = strcmp(x->f.rule, y->f.rule);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Reviews a script under an environment's policy (see lint.h). */
List *
bb_review_script(const char *engine, const char *script, const char *environment)
{
	return bb_review_script_ex(engine, script, environment, false);
}

/* The review, optionally keeping suppressed findings marked (see lint.h). */
List *
bb_review_script_ex(const char *engine, const char *script, const char *environment,
					bool keep_suppressed)
{
	bb_dialect	dialect = bb_parse_engine(engine);
	MemoryContext caller = CurrentMemoryContext;
	lint_run	run;
	bb_review_ctx ctx;
	size_t		len = script ? strlen(script) : 0;
	List	   *result = NIL;
	int			k;

	memset(&run, 0, sizeof(run));
	run.cxt = AllocSetContextCreate(caller, "bb lint", ALLOCSET_DEFAULT_SIZES);
	run.cap = bb_review_max_findings;
	run.over_level = BB_LEVEL_WARNING;
	run.keep_suppressed = keep_suppressed;
	memset(&ctx, 0, sizeof(ctx));
	ctx.rule = ctx_rule;
	ctx.emit = ctx_emit;
	ctx.interrupted = ctx_interrupted;
	ctx.arg = &run;
	load_policy(&run, dialect, environment);
	if (script == NULL)
		script = "";

	MemoryContextSwitchTo(run.cxt);
	run.sups = bb_suppressions_scan(dialect, script, len);
	MemoryContextSwitchTo(caller);
	run_checker(&ctx, &run, dialect, script, len);

	run.reporting_unused = true;
	bb_suppressions_unused(run.sups, report_unused, &ctx);
	raise_if_oom(&run);
	if (run.over > 0)
	{
		/* past the cap: one finding counts the rest, as severe as the worst of them */
		char		msg[256];

		snprintf(msg, sizeof(msg),
				 INT64_FORMAT " more finding%s not shown (bytebase.max_findings = %d); the first of them is at line %d",
				 run.over, run.over == 1 ? "" : "s", run.cap, run.over_line);
		run.cap++;
		keep_finding(&run, BB_RULE_FINDINGS_TRUNCATED, NULL, run.over_level, run.over_line, 1, msg, false);
		raise_if_oom(&run);
	}
	if (run.nfindings > 1)
		qsort(run.findings, run.nfindings, sizeof(seq_finding *), finding_cmp);

	/* hand the findings over in the caller's context, then drop the run */
	for (k = 0; k < run.nfindings; k++)
	{
		seq_finding *sf = run.findings[k];
		bb_finding *f = palloc(sizeof(bb_finding));

		f->line = sf->f.line;
		f->column = sf->f.column;
		f->rule = pstrdup(sf->f.rule);
		f->level = sf->f.level; /* static string */
		f->message = pstrdup(sf->f.message);
		f->suppressed = sf->f.suppressed;
		result = lappend(result, f);
	}
	MemoryContextDelete(run.cxt);
	return result;
}

/* bb._lint(statement, engine, environment): the C side of bb.lint(). */
Datum
bb_lint(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script;
	char	   *engine;
	char	   *environment = NULL;
	List	   *findings;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("statement must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("engine must not be NULL")));
	script = text_to_cstring(PG_GETARG_TEXT_PP(0));
	engine = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		environment = text_to_cstring(PG_GETARG_TEXT_PP(2));

	InitMaterializedSRF(fcinfo, 0);
	findings = bb_review_script(engine, script, environment);
	foreach(lc, findings)
	{
		bb_finding *f = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(f->line);
		values[1] = CStringGetTextDatum(f->rule);
		values[2] = CStringGetTextDatum(f->level);
		values[3] = CStringGetTextDatum(f->message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bb_lint_all);

/* bb._lint_all(statement, engine, environment): every finding, the suppressed ones marked, for
 * the plan checks (the environment's allow_suppressions decides whether they block). */
Datum
bb_lint_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *findings;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("statement must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("engine must not be NULL")));
	InitMaterializedSRF(fcinfo, 0);
	findings = bb_review_script_ex(text_to_cstring(PG_GETARG_TEXT_PP(1)),
								   text_to_cstring(PG_GETARG_TEXT_PP(0)),
								   PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)), true);
	foreach(lc, findings)
	{
		bb_finding *f = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = Int32GetDatum(f->line);
		values[1] = CStringGetTextDatum(f->rule);
		values[2] = CStringGetTextDatum(f->level);
		values[3] = CStringGetTextDatum(f->message);
		values[4] = BoolGetDatum(f->suppressed);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bb_split_statements);

/* bb._split(script, engine): the splitter's view of a script, for people and tests. */
Datum
bb_split_statements(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script;
	bb_dialect	dialect;
	bb_stmt_span *spans = NULL;
	int			n;
	int			k;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("statement must not be NULL")));
	dialect = bb_parse_engine(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	script = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);
	n = bb_split(dialect, script, strlen(script), &spans);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	PG_TRY();
	{
		for (k = 0; k < n; k++)
		{
			Datum		values[4];
			bool		nulls[4] = {0};
			char	   *text;

			CHECK_FOR_INTERRUPTS();
			text = pnstrdup(script + spans[k].start, spans[k].end - spans[k].start);

			make_valid(text);	/* a span never cuts a character, but be safe */
			values[0] = Int32GetDatum(spans[k].line);
			values[1] = Int32GetDatum(spans[k].column);
			values[2] = CStringGetTextDatum(text);
			if (spans[k].error == BB_SPLIT_OK)
				nulls[3] = true;
			else
				values[3] = CStringGetTextDatum(bb_split_error_message(spans[k].error));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	PG_FINALLY();
	{
		free(spans);
	}
	PG_END_TRY();
	return (Datum) 0;
}
