/*
 * lint.c — backend glue of SQL review: effective policy (template defaults +
 * an environment's rows), the bb_review_ctx callbacks, dispatch per engine,
 * suppression comments, and the bb._lint() SQL function.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

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

/* One run's state behind bb_review_ctx.arg. */
typedef struct lint_run
{
	MemoryContext cxt;			/* findings and policy live here */
	HTAB	   *rules;
	List	   *findings;		/* bb_finding * (unsorted) */
	int			seq;
} lint_run;

typedef struct seq_finding
{
	bb_finding	f;
	int			seq;
	bool		dropped;		/* covered by a suppression comment */
} seq_finding;

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
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
							errmsg("environment \"%s\" does not exist", environment),
							errhint("See SELECT name FROM bb.environments; create one with bb.create_environment().")));
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

static void ctx_emit(bb_review_ctx *ctx, const char *rule_id, int line, int column,
					 const char *fmt,...) pg_attribute_printf(5, 6);

/* Collects a finding (in the run's context) at its rule's effective level. */
static void
ctx_emit(bb_review_ctx *ctx, const char *rule_id, int line, int column, const char *fmt,...)
{
	lint_run   *run = ctx->arg;
	MemoryContext old;
	effective_rule *e = NULL;
	seq_finding *sf;
	size_t		len = 128;
	char	   *msg;
	va_list		ap;

	if (rule_id == NULL)
		return;
	if (strlen(rule_id) < RULE_ID_LEN)
		e = hash_search(run->rules, rule_id, HASH_FIND, NULL);
	if (e != NULL && e->level == BB_LEVEL_OFF)
		return;
	old = MemoryContextSwitchTo(run->cxt);
	for (;;)
	{
		size_t		need;

		msg = palloc(len);
		va_start(ap, fmt);
		need = pvsnprintf(msg, len, fmt, ap);
		va_end(ap);
		if (need < len)			/* pvsnprintf returns the length when it fits */
			break;
		pfree(msg);
		len = need;
	}
	make_valid(msg);
	sf = palloc(sizeof(seq_finding));
	sf->f.line = line;
	sf->f.column = column;
	sf->f.rule = pstrdup(rule_id);
	make_valid((char *) sf->f.rule);
	sf->f.level = bb_level_name(e ? e->level : BB_LEVEL_WARNING);
	sf->f.message = msg;
	sf->seq = run->seq++;
	sf->dropped = false;
	run->findings = lappend(run->findings, sf);
	MemoryContextSwitchTo(old);
}

/* ---- suppression comments -------------------------------------------- */

typedef struct suppression
{
	size_t		offset;			/* of the comment */
	int			line;
	List	   *rules;			/* char * */
	List	   *used;			/* parallel: bool as int */
} suppression;

typedef struct comment_scan
{
	const char *script;
	List	   *found;			/* suppression * */
} comment_scan;

/* Collects "bb:ignore id, id" from a comment the splitter skipped. */
static void
on_comment(void *arg, size_t start, size_t end)
{
	comment_scan *cs = arg;
	const char *s = cs->script + start;
	size_t		n = end - start;
	size_t		i = 0;
	suppression *sup;

	while (i < n && (s[i] == '-' || s[i] == '#' || s[i] == '/' || s[i] == '*' || s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 9 || strncmp(s + i, "bb:ignore", 9) != 0)
		return;
	i += 9;
	sup = palloc0(sizeof(suppression));
	sup->offset = start;
	for (;;)
	{
		size_t		b;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		b = i;
		while (i < n && (isalnum((unsigned char) s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_'))
			i++;
		if (i == b)
			break;
		sup->rules = lappend(sup->rules, pnstrdup(s + b, i - b));
		sup->used = lappend_int(sup->used, 0);
	}
	if (sup->rules != NIL)
		cs->found = lappend(cs->found, sup);
}

/* Order of findings: line, rule, then emission order. */
static int
finding_cmp(const ListCell *a, const ListCell *b)
{
	const seq_finding *x = lfirst(a);
	const seq_finding *y = lfirst(b);
	int			c;

	if (x->f.line != y->f.line)
		return x->f.line < y->f.line ? -1 : 1;
	c = strcmp(x->f.rule, y->f.rule);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Marks the findings of a suppression's rules on lines [lo, hi] (findings sorted). */
static void
cover(lint_run *run, suppression *sup, int lo, int hi)
{
	int			n = list_length(run->findings);
	int			a = 0;
	int			b = n;

	while (a < b)				/* first finding with line >= lo */
	{
		int			mid = a + (b - a) / 2;

		if (((seq_finding *) list_nth(run->findings, mid))->f.line < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < n; a++)
	{
		seq_finding *sf = list_nth(run->findings, a);
		ListCell   *rc;
		ListCell   *uc;

		if (sf->f.line > hi)
			break;
		if (sf->dropped)
			continue;
		forboth(rc, sup->rules, uc, sup->used)
		{
			if (strcmp(lfirst(rc), sf->f.rule) == 0)
			{
				lfirst_int(uc) = 1;
				sf->dropped = true;
				break;
			}
		}
	}
}

/* Drops findings covered by suppressions; reports the suppressions that were unused. */
static void
apply_suppressions(lint_run *run, bb_review_ctx *ctx, bb_dialect dialect,
				   const char *script, size_t len)
{
	comment_scan cs = {script, NIL};
	bb_stmt_span *spans = NULL;
	int			nspans;
	size_t	   *line_starts;
	int			nlines = 0;
	size_t		cap = 1024;
	size_t		pos = 0;
	ListCell   *lc;

	if (len < 9 || memmem(script, len, "bb:ignore", 9) == NULL)
		return;
	nspans = bb_split_ex(dialect, script, len, &spans, on_comment, &cs);
	if (nspans < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	PG_TRY();
	{
		line_starts = palloc(cap * sizeof(size_t));
		line_starts[nlines++] = 0;
		while (pos < len)
		{
			const char *nl = memchr(script + pos, '\n', len - pos);

			if (nl == NULL)
				break;
			pos = (size_t) (nl - script) + 1;
			if ((size_t) nlines == cap)
			{
				cap *= 2;
				line_starts = repalloc_huge(line_starts, cap * sizeof(size_t));
			}
			line_starts[nlines++] = pos;
		}

		/* findings by line, so each covered line range is a binary search away */
		list_sort(run->findings, finding_cmp);
		foreach(lc, cs.found)
		{
			suppression *sup = lfirst(lc);
			int			col;
			int			lo = 0;
			int			hi = nspans - 1;
			int			k;

			CHECK_FOR_INTERRUPTS();
			bb_offset_position(line_starts, nlines, sup->offset, &sup->line, &col);
			/* the last statement starting on or before the next line ... */
			while (lo <= hi)
			{
				int			mid = lo + (hi - lo) / 2;

				if (spans[mid].line <= sup->line + 1)
					lo = mid + 1;
				else
					hi = mid - 1;
			}
			/* ... and the ones before it that still reach the comment's line */
			for (k = hi; k >= 0; k--)
			{
				int			first = spans[k].line;
				int			last;

				bb_offset_position(line_starts, nlines, spans[k].end, &last, &col);
				if (first != sup->line + 1 && last < sup->line)
					break;
				if (first == sup->line + 1 || first <= sup->line)
					cover(run, sup, Min(first, sup->line), Max(last, sup->line));
			}
		}
	}
	PG_FINALLY();
	{
		free(spans);
	}
	PG_END_TRY();

	{
		List	   *kept = NIL;

		foreach(lc, run->findings)
			if (!((seq_finding *) lfirst(lc))->dropped)
				kept = lappend(kept, lfirst(lc));
		run->findings = kept;
	}
	foreach(lc, cs.found)
	{
		suppression *sup = lfirst(lc);
		ListCell   *rc;
		ListCell   *uc;

		forboth(rc, sup->rules, uc, sup->used)
			if (!lfirst_int(uc))
				ctx->emit(ctx, BB_RULE_UNUSED_SUPPRESSION, sup->line, 1,
						  "suppression of \"%s\" matched no finding", (char *) lfirst(rc));
	}
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
	PG_TRY();
	{
		for (k = 0; k < n; k++)
			if (spans[k].error != BB_SPLIT_OK)
				ctx->emit(ctx, BB_RULE_SYNTAX_ERROR, spans[k].line, spans[k].column, "%s",
						  bb_split_error_message(spans[k].error));
	}
	PG_FINALLY();
	{
		free(spans);
	}
	PG_END_TRY();
}

/* Reviews a script under an environment's policy (see lint.h). */
List *
bb_review_script(const char *engine, const char *script, const char *environment)
{
	bb_dialect	dialect = bb_parse_engine(engine);
	MemoryContext caller = CurrentMemoryContext;
	lint_run	run;
	bb_review_ctx ctx;
	size_t		len = script ? strlen(script) : 0;
	List	   *result = NIL;
	ListCell   *lc;

	memset(&run, 0, sizeof(run));
	run.cxt = AllocSetContextCreate(caller, "bb lint", ALLOCSET_DEFAULT_SIZES);
	ctx.rule = ctx_rule;
	ctx.emit = ctx_emit;
	ctx.arg = &run;
	load_policy(&run, dialect, environment);
	if (script == NULL)
		script = "";

	switch (dialect)
	{
		case BB_DIALECT_POSTGRES:
			bb_review_postgres(&ctx, script, len);
			break;
		case BB_DIALECT_MYSQL:
		case BB_DIALECT_TIDB:
			if (bb_review_mysql)
				bb_review_mysql(&ctx, dialect, script, len);
			else
				split_only(&ctx, dialect, script, len);
			break;
		case BB_DIALECT_CLICKHOUSE:
			if (bb_review_clickhouse)
				bb_review_clickhouse(&ctx, script, len);
			else
				split_only(&ctx, dialect, script, len);
			break;
		case BB_DIALECT_SNOWFLAKE:
			if (bb_review_snowflake)
				bb_review_snowflake(&ctx, script, len);
			else
				split_only(&ctx, dialect, script, len);
			break;
	}
	MemoryContextSwitchTo(run.cxt);
	apply_suppressions(&run, &ctx, dialect, script, len);
	list_sort(run.findings, finding_cmp);

	/* hand the findings over in the caller's context, then drop the run */
	MemoryContextSwitchTo(caller);
	foreach(lc, run.findings)
	{
		seq_finding *sf = lfirst(lc);
		bb_finding *f = palloc(sizeof(bb_finding));

		f->line = sf->f.line;
		f->column = sf->f.column;
		f->rule = pstrdup(sf->f.rule);
		f->level = sf->f.level;	/* static string */
		f->message = pstrdup(sf->f.message);
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
			char	   *text = pnstrdup(script + spans[k].start, spans[k].end - spans[k].start);

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
