/*
 * snapshot.c — the one place the normalized schema snapshot JSON is built,
 * from the rows each engine reads out of its own catalog, so snapshots of
 * every engine have the same shape and order and can be compared.
 */
#include "postgres.h"

#include <string.h>

#include "lib/stringinfo.h"
#include "utils/json.h"

#include "driver_int.h"

/* Allocates a result whose values are all NULL until filled. */
BBResult *
bb_result_new(int ncols, int nrows)
{
	BBResult   *res = palloc0(sizeof(BBResult));

	res->ncols = ncols;
	res->nrows = nrows;
	res->colnames = palloc0(sizeof(char *) * Max(ncols, 1));
	res->values = palloc0(sizeof(char *) * Max((Size) ncols * nrows, 1));
	res->affected = -1;
	return res;
}

/* Sort context: qsort has no argument, and snapshot building is not reentrant. */
static BBResult *sort_res;
static int	sort_keys;

/* Orders rows by their first sort_keys columns bytewise, then by row number (stable). */
static int
row_cmp(const void *a, const void *b)
{
	int			ra = *(const int *) a;
	int			rb = *(const int *) b;

	for (int k = 0; k < sort_keys; k++)
	{
		const char *va = BB_VALUE(sort_res, ra, k);
		const char *vb = BB_VALUE(sort_res, rb, k);
		int			c = strcmp(va ? va : "", vb ? vb : "");

		if (c != 0)
			return c;
	}
	return (ra > rb) - (ra < rb);
}

/* Row numbers of res sorted by the first nkeys columns. */
static int *
sorted_rows(BBResult *res, int nkeys)
{
	int		   *rows = palloc(sizeof(int) * Max(res->nrows, 1));

	for (int i = 0; i < res->nrows; i++)
		rows[i] = i;
	sort_res = res;
	sort_keys = nkeys;
	qsort(rows, res->nrows, sizeof(int), row_cmp);
	sort_res = NULL;
	return rows;
}

/* Compares the first n values of two rows of possibly different results. */
static int
keys_cmp(BBResult *a, int ra, BBResult *b, int rb, int n)
{
	for (int k = 0; k < n; k++)
	{
		const char *va = BB_VALUE(a, ra, k);
		const char *vb = BB_VALUE(b, rb, k);
		int			c = strcmp(va ? va : "", vb ? vb : "");

		if (c != 0)
			return c;
	}
	return 0;
}

/* Engines spell booleans differently: t, true, 1, YES. */
static bool
truthy(const char *v)
{
	return v != NULL && (strcmp(v, "t") == 0 || strcmp(v, "true") == 0 ||
						 strcmp(v, "1") == 0 || pg_strcasecmp(v, "yes") == 0);
}

static void
append_json_str(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, s);
}

/* Appends the indexes of one table; *pos walks the sorted index rows. */
static void
append_indexes(StringInfo buf, BBResult *cols, int crow, BBResult *idx, int *irows, int *pos)
{
	bool		first_index = true;

	appendStringInfoString(buf, ",\"indexes\":[");
	/* skip index rows of tables that sort before this one (tables without columns rows) */
	while (*pos < idx->nrows && keys_cmp(idx, irows[*pos], cols, crow, 2) < 0)
		(*pos)++;
	while (*pos < idx->nrows && keys_cmp(idx, irows[*pos], cols, crow, 2) == 0)
	{
		int			r = irows[*pos];
		bool		first_col = true;

		if (!first_index)
			appendStringInfoChar(buf, ',');
		first_index = false;
		appendStringInfoString(buf, "{\"name\":");
		append_json_str(buf, BB_VALUE(idx, r, 2));
		appendStringInfoString(buf, ",\"columns\":[");
		while (*pos < idx->nrows && keys_cmp(idx, irows[*pos], idx, r, 3) == 0)
		{
			const char *col = BB_VALUE(idx, irows[*pos], 5);

			if (col != NULL)
			{
				if (!first_col)
					appendStringInfoChar(buf, ',');
				first_col = false;
				append_json_str(buf, col);
			}
			(*pos)++;
		}
		appendStringInfo(buf, "],\"unique\":%s,\"primary\":%s}",
						 truthy(BB_VALUE(idx, r, 3)) ? "true" : "false",
						 truthy(BB_VALUE(idx, r, 4)) ? "true" : "false");
	}
	appendStringInfoChar(buf, ']');
}

/* See driver_int.h for the input rows; returns the JSON text. */
char *
bb_snapshot_json(BBResult *cols, BBResult *idx)
{
	StringInfoData buf;
	int		   *crows;
	int		   *irows;
	int			ipos = 0;
	int			i = 0;
	bool		first_table = true;

	if (cols->ncols < 6 || idx->ncols < 6)
		elog(ERROR, "bytebase: snapshot query returned %d/%d columns, expected 6",
			 cols->ncols, idx->ncols);
	crows = sorted_rows(cols, 2);
	irows = sorted_rows(idx, 3);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"tables\":[");
	while (i < cols->nrows)
	{
		int			t = crows[i];
		bool		first_col = true;

		if (!first_table)
			appendStringInfoChar(&buf, ',');
		first_table = false;
		appendStringInfoString(&buf, "{\"schema\":");
		append_json_str(&buf, BB_VALUE(cols, t, 0));
		appendStringInfoString(&buf, ",\"name\":");
		append_json_str(&buf, BB_VALUE(cols, t, 1));
		appendStringInfoString(&buf, ",\"columns\":[");
		for (; i < cols->nrows && keys_cmp(cols, crows[i], cols, t, 2) == 0; i++)
		{
			int			r = crows[i];

			if (BB_VALUE(cols, r, 2) == NULL)
				continue;		/* a table without columns */
			if (!first_col)
				appendStringInfoChar(&buf, ',');
			first_col = false;
			appendStringInfoString(&buf, "{\"name\":");
			append_json_str(&buf, BB_VALUE(cols, r, 2));
			appendStringInfoString(&buf, ",\"type\":");
			append_json_str(&buf, BB_VALUE(cols, r, 3));
			appendStringInfo(&buf, ",\"nullable\":%s,\"default\":",
							 truthy(BB_VALUE(cols, r, 4)) ? "true" : "false");
			append_json_str(&buf, BB_VALUE(cols, r, 5));
			appendStringInfoChar(&buf, '}');
		}
		appendStringInfoChar(&buf, ']');
		append_indexes(&buf, cols, t, idx, irows, &ipos);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	pfree(crows);
	pfree(irows);
	return buf.data;
}

/* Appends s quoted as a string literal of the remote dialect. */
void
bb_append_literal(StringInfo buf, const char *s, bool backslash_escapes)
{
	appendStringInfoChar(buf, '\'');
	for (const char *p = s; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoString(buf, backslash_escapes ? "\\'" : "''");
		else if (*p == '\\' && backslash_escapes)
			appendStringInfoString(buf, "\\\\");
		else
			appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}
