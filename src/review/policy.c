/*
 * policy.c — the rule catalog across every linked rule table, and validation
 * of review policies (rule id, level, payload keys and types, regexes).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "review/checker.h"
#include "engine.h"
#include "review/lint.h"

PG_FUNCTION_INFO_V1(bb_review_rules);
PG_FUNCTION_INFO_V1(bb_review_validate);

/* Every rule table that is linked in (dialect tables may still be missing). */
static int
all_tables(const bb_rule_def **tables)
{
	int			n = 0;

	tables[n++] = bb_rules_common;
	tables[n++] = bb_rules_postgres;
	if (bb_rules_mysql)
		tables[n++] = bb_rules_mysql;
	if (bb_rules_clickhouse)
		tables[n++] = bb_rules_clickhouse;
	if (bb_rules_snowflake)
		tables[n++] = bb_rules_snowflake;
	return n;
}

/* Calls fn for every definition of every linked rule table. */
void
bb_visit_rules(bb_rule_visitor fn, void *arg)
{
	const bb_rule_def *tables[8];
	int			n = all_tables(tables);
	int			t;
	const bb_rule_def *d;

	for (t = 0; t < n; t++)
		for (d = tables[t]; d->id; d++)
			fn(d, arg);
}

/* The rule tables that apply to one dialect: common, then its own (when linked). */
int
bb_rule_tables(bb_dialect dialect, const bb_rule_def **tables, int max)
{
	int			n = 0;
	const bb_rule_def *own = NULL;

	if (max < 2)
		return 0;
	tables[n++] = bb_rules_common;
	switch (dialect)
	{
		case BB_DIALECT_POSTGRES:
			own = bb_rules_postgres;
			break;
		case BB_DIALECT_MYSQL:
		case BB_DIALECT_TIDB:
			own = bb_rules_mysql;
			break;
		case BB_DIALECT_CLICKHOUSE:
			own = bb_rules_clickhouse;
			break;
		case BB_DIALECT_SNOWFLAKE:
			own = bb_rules_snowflake;
			break;
	}
	if (own)
		tables[n++] = own;
	return n;
}

/* Engine name -> dialect; a clear error for anything else. */
bb_dialect
bb_parse_engine(const char *engine)
{
	return bb_engine_by_name(engine)->dialect;
}

/* The level as users write it. */
const char *
bb_level_name(bb_level level)
{
	switch (level)
	{
		case BB_LEVEL_ERROR:
			return "error";
		case BB_LEVEL_WARNING:
			return "warning";
		case BB_LEVEL_OFF:
			return "off";
	}
	return "off";
}

/* The payload shape as users read it in bb.review_rules. */
static const char *
payload_shape(bb_payload_kind kind)
{
	switch (kind)
	{
		case BB_PAYLOAD_NAMING:
			return "{\"format\": regex (templates {{table}} ...), \"max_length\": int}";
		case BB_PAYLOAD_NUMBER:
			return "{\"number\": int}";
		case BB_PAYLOAD_LIST:
			return "{\"list\": [string, ...]}";
		case BB_PAYLOAD_STRING:
			return "{\"string\": string}";
		case BB_PAYLOAD_NONE:
			break;
	}
	return NULL;
}

/* The default payload as JSON text (NULL when the rule takes none). */
static char *
payload_json(const bb_rule_def *d)
{
	StringInfoData b;
	int			k;

	initStringInfo(&b);
	switch (d->payload_kind)
	{
		case BB_PAYLOAD_NAMING:
			appendStringInfoString(&b, "{\"format\": ");
			escape_json(&b, d->default_payload.format ? d->default_payload.format : "");
			appendStringInfo(&b, ", \"max_length\": %d}", d->default_payload.max_length);
			break;
		case BB_PAYLOAD_NUMBER:
			appendStringInfo(&b, "{\"number\": %ld}", d->default_payload.number);
			break;
		case BB_PAYLOAD_LIST:
			appendStringInfoString(&b, "{\"list\": [");
			for (k = 0; k < d->default_payload.nlist; k++)
			{
				if (k)
					appendStringInfoString(&b, ", ");
				escape_json(&b, d->default_payload.list[k] ? d->default_payload.list[k] : "");
			}
			appendStringInfoString(&b, "]}");
			break;
		case BB_PAYLOAD_STRING:
			appendStringInfoString(&b, "{\"string\": ");
			escape_json(&b, d->default_payload.string ? d->default_payload.string : "");
			appendStringInfoChar(&b, '}');
			break;
		case BB_PAYLOAD_NONE:
			return NULL;
	}
	return b.data;
}

/* Catalog rows: one per rule id; engines of definitions with the same id merge. */
typedef struct catalog_row
{
	const bb_rule_def *def;
	unsigned	engines;
} catalog_row;

typedef struct catalog
{
	catalog_row *rows;
	int			n;
	int			cap;
} catalog;

/* Visitor: merges one definition into the catalog (same id: engines united). */
static void
collect_row(const bb_rule_def *def, void *arg)
{
	catalog    *c = arg;
	int			k;

	for (k = 0; k < c->n; k++)
		if (strcmp(c->rows[k].def->id, def->id) == 0)
		{
			c->rows[k].engines |= def->engines;
			return;
		}
	if (c->n == c->cap)
	{
		c->cap = c->cap ? c->cap * 2 : 256;
		c->rows = c->rows ? repalloc(c->rows, c->cap * sizeof(catalog_row)) : palloc(c->cap * sizeof(catalog_row));
	}
	c->rows[c->n].def = def;
	c->rows[c->n].engines = def->engines;
	c->n++;
}

/* bb._review_rules(): the rule catalog behind the bb.review_rules view. */
Datum
bb_review_rules(PG_FUNCTION_ARGS)
{
	static const char *const engine_names[] = {"postgres", "mysql", "tidb", "clickhouse", "snowflake"};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	catalog		c = {NULL, 0, 0};
	int			k;

	InitMaterializedSRF(fcinfo, 0);
	bb_visit_rules(collect_row, &c);
	for (k = 0; k < c.n; k++)
	{
		const bb_rule_def *d = c.rows[k].def;
		Datum		values[8];
		bool		nulls[8] = {0};
		Datum		engines[5];
		int			ne = 0;
		int			e;
		const char *shape = payload_shape(d->payload_kind);
		char	   *dflt = payload_json(d);

		for (e = 0; e < 5; e++)
			if (c.rows[k].engines & BB_ENGINE_BIT(e))
				engines[ne++] = CStringGetTextDatum(engine_names[e]);
		values[0] = CStringGetTextDatum(d->id);
		values[1] = PointerGetDatum(construct_array(engines, ne, TEXTOID, -1, false, TYPALIGN_INT));
		values[2] = CStringGetTextDatum(d->category ? d->category : "");
		values[3] = CStringGetTextDatum(d->description ? d->description : "");
		values[4] = CStringGetTextDatum(bb_level_name(d->default_basic));
		values[5] = CStringGetTextDatum(bb_level_name(d->default_strict));
		if (shape)
			values[6] = CStringGetTextDatum(shape);
		else
			nulls[6] = true;
		if (dflt)
			values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(dflt));
		else
			nulls[7] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* The definitions of a rule id in every table (kinds must agree to be set). */
static const bb_rule_def *
find_rule(const char *id)
{
	const bb_rule_def *tables[8];
	int			n = all_tables(tables);
	int			t;
	const bb_rule_def *d;

	for (t = 0; t < n; t++)
		for (d = tables[t]; d->id; d++)
			if (strcmp(d->id, id) == 0)
				return d;
	return NULL;
}

/* Integer value of a JSON number, or ERROR naming the key. */
static long
json_int(JsonbValue *v, const char *rule, const char *key)
{
	char	   *s;
	char	   *end;
	long		n;

	if (v->type != jbvNumeric)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("payload key \"%s\" of rule \"%s\" must be an integer", key, rule)));
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	n = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0 || n > INT_MAX)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("payload key \"%s\" of rule \"%s\" must be an integer between 0 and %d, not %s",
							   key, rule, INT_MAX, s)));
	return n;
}

/* Checks a naming format for safety and compiles it with the engine that
 * applies it.  Each template stands for ".." (any two characters): a name
 * is a literal at least that flexible, so a format accepted here is accepted
 * with every name later, and templates inside a repetition are refused. */
static void
check_format(const char *rule, const char *format)
{
	static const char *const keys[] = {"table", "column_list", "referencing_table",
		"referencing_column", "referencing_column_list", "referenced_table",
	"referenced_column", "referenced_column_list"};
	static const char *const vals[] = {"..", "..", "..", "..", "..", "..", "..", ".."};
	char		err[256];
	char		clipped[BB_CLIP_NAME + 4];
	char	   *expanded;
	int			bad;

	if (strlen(format) > BB_REGEX_MAX_FORMAT)
		ereport(ERROR, (errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						errmsg("format of rule \"%s\" is longer than %d bytes", rule, BB_REGEX_MAX_FORMAT),
						errdetail("Pattern: %s", bb_clip(format, BB_CLIP_NAME, clipped, sizeof(clipped)))));
	expanded = bb_template_expand(format, keys, vals, lengthof(keys));
	if (expanded == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	bad = bb_regex_check(expanded, err, sizeof(err));
	free(expanded);
	if (bad == BB_REGEX_CANCELED)
		bb_review_raise_interrupt();
	if (bad)
		ereport(ERROR, (errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						errmsg("format of rule \"%s\" is not a safe regular expression: %s", rule, err),
						errdetail("Pattern: %s", bb_clip(format, BB_CLIP_NAME, clipped, sizeof(clipped))),
						errhint("Formats are POSIX extended regular expressions without back-references, "
								"backslash-letter escapes or repetitions of what can match the same text in several ways; "
								"templates ({{table}}, {{column_list}}, {{referencing_table}}, {{referencing_column}}, "
								"{{referenced_table}}, {{referenced_column}}) cannot be repeated.")));
}

/* Validates one payload against a rule's payload kind (ERROR on the first problem). */
static void
validate_payload(const bb_rule_def *d, Jsonb *jb)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	const char *allowed = payload_shape(d->payload_kind);
	char		clipped[BB_CLIP_NAME + 4];

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("payload of rule \"%s\" must be a JSON object", d->id),
						allowed ? errhint("Expected %s.", allowed) : errhint("This rule takes no payload.")));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (d->payload_kind == BB_PAYLOAD_NAMING && strcmp(key, "format") == 0)
		{
			if (v.type != jbvString)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("payload key \"format\" of rule \"%s\" must be a string", d->id)));
			check_format(d->id, pnstrdup(v.val.string.val, v.val.string.len));
		}
		else if (d->payload_kind == BB_PAYLOAD_NAMING && strcmp(key, "max_length") == 0)
			(void) json_int(&v, d->id, key);
		else if (d->payload_kind == BB_PAYLOAD_NUMBER && strcmp(key, "number") == 0)
			(void) json_int(&v, d->id, key);
		else if (d->payload_kind == BB_PAYLOAD_STRING && strcmp(key, "string") == 0)
		{
			if (v.type != jbvString)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("payload key \"string\" of rule \"%s\" must be a string", d->id)));
		}
		else if (d->payload_kind == BB_PAYLOAD_LIST && strcmp(key, "list") == 0)
		{
			JsonbIterator *ai;
			JsonbValue	e;
			JsonbIteratorToken at;

			if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("payload key \"list\" of rule \"%s\" must be an array of strings", d->id)));
			ai = JsonbIteratorInit(v.val.binary.data);
			while ((at = JsonbIteratorNext(&ai, &e, true)) != WJB_DONE)
				if (at == WJB_ELEM && e.type != jbvString)
					ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									errmsg("payload key \"list\" of rule \"%s\" must be an array of strings", d->id)));
		}
		else
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("unknown payload key \"%s\" for rule \"%s\"",
								   bb_clip(key, BB_CLIP_NAME, clipped, sizeof(clipped)), d->id),
							allowed ? errhint("Expected %s.", allowed) : errhint("This rule takes no payload.")));
	}
}

/* bb._review_validate(rule, level, payload): raises a clear error for a bad policy. */
Datum
bb_review_validate(PG_FUNCTION_ARGS)
{
	char	   *rule;
	char	   *level;
	char		clipped[BB_CLIP_NAME + 4];
	const bb_rule_def *tables[8];
	int			n = all_tables(tables);
	int			t;
	const bb_rule_def *d;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("rule must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("level must not be NULL")));
	rule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	level = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(rule, BB_RULE_CHECK_FAILED) == 0 || strcmp(rule, BB_RULE_FINDINGS_TRUNCATED) == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("\"%s\" is an outcome of the review, not a rule: it cannot be configured", rule),
						errdetail("The review reports with it that a check could not run or that findings were cut: it is always an error.")));
	if (find_rule(rule) == NULL)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("unknown review rule \"%s\"", bb_clip(rule, BB_CLIP_NAME, clipped, sizeof(clipped))),
						errhint("See SELECT id FROM bb.review_rules;")));
	if (strcmp(level, "error") != 0 && strcmp(level, "warning") != 0 && strcmp(level, "off") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid review level \"%s\"", bb_clip(level, BB_CLIP_NAME, clipped, sizeof(clipped))),
						errhint("Levels: error, warning, off.")));
	if (PG_ARGISNULL(2))
		PG_RETURN_VOID();
	/* every engine's definition of the id must accept the payload */
	for (t = 0; t < n; t++)
		for (d = tables[t]; d->id; d++)
			if (strcmp(d->id, rule) == 0)
				validate_payload(d, PG_GETARG_JSONB_P(2));
	PG_RETURN_VOID();
}
