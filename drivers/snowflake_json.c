/*
 * snowflake_json.c — reads the JSON answers of the Snowflake SQL API with
 * PostgreSQL's own JSON parser (common/jsonapi.h, semantic actions): one
 * pass for the answer's fields, one that streams the rows of "data" into the
 * row buffer (so the caps apply row by row and no parse tree is built).
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "snowflake_int.h"

#define SF_LEVELS 8				/* nesting tracked; deeper values are only skipped */

typedef struct SfJson
{
	int			level;			/* containers open (the top object is level 1) */
	char	   *keys[SF_LEVELS];	/* current member name of the object at each level */
	bool		is_array[SF_LEVELS];
	SfAnswer   *ans;			/* answer pass, else NULL */
	/* rows pass */
	BBRowBuf   *rb;
	int			ncols;
	char	  **vals;
	int			nvals;
	int64		rows;
	bool		nested;			/* a cell that is an array or an object */
	bool		bad_width;
} SfJson;

/* The member name at level l (NULL for arrays and levels beyond the tracked ones). */
static const char *
key_at(SfJson *js, int l)
{
	if (l < 1 || l >= SF_LEVELS || js->is_array[l])
		return NULL;
	return js->keys[l];
}

static bool
key_is(SfJson *js, int l, const char *name)
{
	const char *k = key_at(js, l);

	return k != NULL && strcmp(k, name) == 0;
}

/* Opens a container; an object of rowType is one column. */
static void
open_level(SfJson *js, bool array)
{
	js->level++;
	if (js->level < SF_LEVELS)
	{
		js->keys[js->level] = NULL;
		js->is_array[js->level] = array;
	}
}

static void
close_level(SfJson *js)
{
	if (js->level < SF_LEVELS && js->keys[js->level] != NULL)
	{
		pfree(js->keys[js->level]);
		js->keys[js->level] = NULL;
	}
	js->level--;
}

/* In the rows pass: level 3 under "data" is one row. */
static bool
in_data_row(SfJson *js)
{
	return js->level == 3 && key_is(js, 1, "data");
}

static void
sf_object_start(void *state)
{
	SfJson	   *js = state;

	if (js->rb && in_data_row(js))
		js->nested = true;
	open_level(js, false);
	if (js->ans && js->level == 4 && key_is(js, 1, "resultSetMetaData"))
	{
		if (key_is(js, 2, "rowType"))
		{
			SfAnswer   *a = js->ans;

			if (a->ncols < 0)
				a->ncols = 0;
			a->colnames = a->colnames ? repalloc(a->colnames, sizeof(char *) * (a->ncols + 1))
				: palloc(sizeof(char *));
			a->colnames[a->ncols++] = NULL;
		}
		else if (key_is(js, 2, "partitionInfo"))
			js->ans->npartitions++;
	}
}

static void
sf_object_end(void *state)
{
	close_level(state);
}

static void
sf_array_start(void *state)
{
	SfJson	   *js = state;

	if (js->rb && in_data_row(js))
		js->nested = true;
	open_level(js, true);
	if (js->rb && in_data_row(js))
		js->nvals = 0;
	if (js->ans && js->level == 2 && key_is(js, 1, "data"))
		js->ans->has_data = true;
}

/* The end of a row of "data": it goes to the row buffer (which applies the caps). */
static void
sf_array_end(void *state)
{
	SfJson	   *js = state;

	if (js->rb && in_data_row(js))
	{
		if (js->nvals != js->ncols)
			js->bad_width = true;
		else
		{
			bb_rows_add(js->rb, (const char *const *) js->vals, NULL);
			js->rows++;
		}
		for (int i = 0; i < js->nvals && i < js->ncols; i++)
			if (js->vals[i])
				pfree(js->vals[i]);
		js->nvals = 0;
	}
	close_level(js);
}

static void
sf_field_start(void *state, char *fname, bool isnull)
{
	SfJson	   *js = state;

	if (js->level >= SF_LEVELS)
	{
		pfree(fname);
		return;
	}
	if (js->keys[js->level])
		pfree(js->keys[js->level]);
	js->keys[js->level] = fname;
}

/* An int64 from a number or a numeric string; -1 when it is neither. */
static int64
to_int64(const char *s)
{
	char	   *end;
	long long	v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return (errno == 0 && *end == '\0' && v >= 0) ? (int64) v : -1;
}

/* The answer pass: top-level strings, numRows, column names, DML counts. */
static void
answer_scalar(SfJson *js, char *token, JsonTokenType type)
{
	SfAnswer   *a = js->ans;
	bool		str = (type == JSON_TOKEN_STRING);

	if (js->level == 1 && str)
	{
		const char *k = key_at(js, 1);
		char	  **slot = NULL;

		if (k == NULL)
			return;
		if (strcmp(k, "code") == 0)
			slot = &a->code;
		else if (strcmp(k, "sqlState") == 0)
			slot = &a->sqlstate;
		else if (strcmp(k, "message") == 0)
			slot = &a->message;
		else if (strcmp(k, "statementHandle") == 0)
			slot = &a->handle;
		if (slot)
		{
			*slot = token;
			return;
		}
	}
	else if (js->level == 2 && key_is(js, 1, "resultSetMetaData") && key_is(js, 2, "numRows"))
		a->num_rows = to_int64(token);
	else if (js->level == 2 && key_is(js, 1, "stats"))
	{
		const char *k = key_at(js, 2);
		int64		n = to_int64(token);

		if (k && n >= 0 && (strcmp(k, "numRowsInserted") == 0 || strcmp(k, "numRowsUpdated") == 0 ||
							strcmp(k, "numRowsDeleted") == 0))
		{
			a->has_stats = true;
			a->affected = (a->affected < 0 ? 0 : a->affected) + n;
		}
	}
	else if (js->level == 4 && key_is(js, 1, "resultSetMetaData") && key_is(js, 2, "rowType") &&
			 key_is(js, 4, "name") && str && a->ncols > 0)
	{
		a->colnames[a->ncols - 1] = token;
		return;
	}
	if (token)
		pfree(token);
}

static void
sf_scalar(void *state, char *token, JsonTokenType type)
{
	SfJson	   *js = state;

	if (js->ans)
	{
		answer_scalar(js, token, type);
		return;
	}
	if (in_data_row(js))
	{
		if (js->nvals < js->ncols)
		{
			js->vals[js->nvals] = (type == JSON_TOKEN_NULL) ? NULL : token;
			if (type == JSON_TOKEN_NULL && token)
				pfree(token);
			js->nvals++;
			return;
		}
		js->nvals++;			/* too wide: reported at the row's end */
	}
	if (token)
		pfree(token);
}

/* Runs the parser over body with our actions; returns its result code. */
static JsonParseErrorType
run_parser(SfJson *js, const char *body, size_t len, JsonLexContext **lexp)
{
	JsonSemAction sem;
	JsonLexContext *lex;

	memset(&sem, 0, sizeof(sem));
	sem.semstate = js;
	sem.object_start = sf_object_start;
	sem.object_end = sf_object_end;
	sem.array_start = sf_array_start;
	sem.array_end = sf_array_end;
	sem.object_field_start = sf_field_start;
	sem.scalar = sf_scalar;
	if (len > (size_t) MaxAllocSize)
		return JSON_EXPECTED_END;
	lex = makeJsonLexContextCstringLen((char *) body, (int) len, PG_UTF8, true);
	*lexp = lex;
	return pg_parse_json(lex, &sem);
}

bool
sf_parse_answer(const char *body, size_t len, SfAnswer *out, char **why)
{
	SfJson		js;
	JsonLexContext *lex = NULL;
	JsonParseErrorType rc;
	size_t		i = 0;

	memset(out, 0, sizeof(*out));
	out->num_rows = -1;
	out->ncols = -1;
	out->affected = -1;
	*why = NULL;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i == len || body[i] != '{')
	{
		*why = pstrdup(len == 0 ? "the answer is empty" : "the answer is not a JSON object");
		return false;
	}
	memset(&js, 0, sizeof(js));
	js.ans = out;
	rc = run_parser(&js, body, len, &lex);
	if (rc != JSON_SUCCESS)
	{
		*why = psprintf("the answer is not valid JSON: %s", json_errdetail(rc, lex));
		return false;
	}
	return true;
}

int64
sf_parse_rows(BBConn *conn, const char *body, size_t len, BBRowBuf *rb, int ncols)
{
	SfJson		js;
	JsonLexContext *lex = NULL;
	JsonParseErrorType rc;

	memset(&js, 0, sizeof(js));
	js.rb = rb;
	js.ncols = ncols;
	js.vals = palloc0(sizeof(char *) * Max(ncols, 1));
	rc = run_parser(&js, body, len, &lex);
	if (rc != JSON_SUCCESS)
		ereport_target(ERROR,
					   (errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("instance \"%s\" sent an invalid result", conn->info.instance),
						errdetail("The answer is not valid JSON: %s", json_errdetail(rc, lex))));
	if (js.bad_width || js.nested)
		ereport_target(ERROR,
					   (errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("instance \"%s\" sent an invalid result", conn->info.instance),
						errdetail(js.nested ? "A value of the result is not a string."
								  : "A row of the result does not have the %d columns of its rowType.", ncols)));
	pfree(js.vals);
	return js.rows;
}
