/*
 * rows.c — collecting a remote result set row by row under the caps
 * bytebase.max_result_rows and bytebase.max_result_bytes.  Every engine feeds
 * its rows here as they stream in (libpq single-row mode, mysql_use_result,
 * ClickHouse's body), so a huge result fails at the cap instead of filling
 * memory, and a result nobody keeps is only counted.
 */
#include "postgres.h"

#include <limits.h>

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bytebase.h"
#include "driver_int.h"

/* Memory charged per value besides its text: the pointer slot and a terminator. */
#define VALUE_OVERHEAD (sizeof(char *) + 1)

void
bb_rows_start(BBRowBuf *rb, int ncols, bool keep, bool from_utf8)
{
	MemoryContext old;

	memset(rb, 0, sizeof(*rb));
	rb->cxt = AllocSetContextCreate(CurrentMemoryContext, "bytebase remote result", ALLOCSET_DEFAULT_SIZES);
	rb->keep = keep;
	rb->from_utf8 = from_utf8;
	old = MemoryContextSwitchTo(rb->cxt);
	rb->res = bb_result_new(ncols, 0);
	MemoryContextSwitchTo(old);
}

void
bb_rows_colname(BBRowBuf *rb, int c, const char *name)
{
	MemoryContext old = MemoryContextSwitchTo(rb->cxt);

	rb->res->colnames[c] = rb->from_utf8 ? bb_from_utf8(name ? name : "", -1) : pstrdup(name ? name : "");
	MemoryContextSwitchTo(old);
}

/* The cap errors: about the target's answer, so they are target errors. */
void
bb_error_too_many_rows(void)
{
	ereport_target(ERROR,
				   (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("remote result has more than bytebase.max_result_rows (%d) rows", bb_max_result_rows),
					errhint("Make the command return fewer rows (e.g. LIMIT), or have a superuser raise bytebase.max_result_rows.")));
}

void
bb_error_too_many_bytes(int64 rows)
{
	ereport_target(ERROR,
				   (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("remote result is larger than bytebase.max_result_bytes (%d bytes)", bb_max_result_bytes),
					rows >= 0 ? errdetail("The cap was reached after " INT64_FORMAT " rows.", rows) : 0,
					errhint("Make the command return fewer or narrower rows, or have a superuser raise bytebase.max_result_bytes.")));
}

/* Makes room for one more row, doubling (huge allocations: the caps, not 1 GB, bound it). */
static void
grow(BBRowBuf *rb)
{
	BBResult   *res = rb->res;
	int			want;

	if (res->nrows < rb->allocated || res->ncols == 0)
		return;
	want = rb->allocated == 0 ? 64 : (rb->allocated > INT_MAX / 2 ? INT_MAX : rb->allocated * 2);
	res->values = repalloc_huge(res->values, (Size) want * res->ncols * sizeof(char *));
	rb->allocated = want;
}

/* Stores one row's values in a single allocation (one chunk header per row, not per value). */
static void
store_row(BBRowBuf *rb, const char *const *vals, const unsigned long *lens)
{
	BBResult   *res = rb->res;
	int			ncols = res->ncols;
	const char **text = palloc(sizeof(char *) * Max(ncols, 1));
	int		   *len = palloc(sizeof(int) * Max(ncols, 1));
	Size		total = 0;
	char	   *chunk;
	char	  **slot = res->values + (Size) res->nrows * ncols;

	for (int c = 0; c < ncols; c++)
	{
		text[c] = vals[c];
		if (vals[c] == NULL)
			continue;
		len[c] = lens ? (int) lens[c] : (int) strlen(vals[c]);
		if (rb->from_utf8)
			text[c] = bb_utf8_in(vals[c], len[c], &len[c]);
		total += len[c] + 1;
	}
	chunk = total > 0 ? MemoryContextAllocHuge(rb->cxt, total) : NULL;
	for (int c = 0; c < ncols; c++)
	{
		slot[c] = NULL;
		if (text[c] == NULL)
			continue;
		memcpy(chunk, text[c], len[c]);
		chunk[len[c]] = '\0';
		slot[c] = chunk;
		chunk += len[c] + 1;
		if (text[c] != vals[c])
			pfree((char *) text[c]);
	}
	pfree(text);
	pfree(len);
}

/* Counts the row; when keeping, charges it against the caps before storing anything. */
void
bb_rows_add(BBRowBuf *rb, const char *const *vals, const unsigned long *lens)
{
	BBResult   *res = rb->res;
	int64		charge = 0;
	MemoryContext old;

	res->rows_returned++;
	if (!rb->keep)
		return;
	if (res->nrows >= bb_max_result_rows)
		bb_error_too_many_rows();
	for (int c = 0; c < res->ncols; c++)
		charge += VALUE_OVERHEAD + (vals[c] ? (lens ? lens[c] : strlen(vals[c])) : 0);
	if (rb->bytes + charge > bb_max_result_bytes)
		bb_error_too_many_bytes(res->nrows);
	rb->bytes += charge;

	old = MemoryContextSwitchTo(rb->cxt);
	grow(rb);
	store_row(rb, vals, lens);
	res->nrows++;
	MemoryContextSwitchTo(old);
}

void
bb_rows_discard(BBRowBuf *rb)
{
	if (rb->cxt != NULL)
		MemoryContextDelete(rb->cxt);
	rb->cxt = NULL;
	rb->res = NULL;
}
