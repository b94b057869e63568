/*
 * version.c — the order of change versions (Flyway style): a version is cut into segments at
 * '.', '_' and '-'; segments of digits compare as numbers (1.10 > 1.9, 007 = 7), other segments
 * as bytes and after every number; trailing zero segments do not count (1.0 = 1); a version
 * that is a prefix of another sorts first (1.2 < 1.2.1).  Dates written 2026.12.01 or
 * 20261201 therefore sort by date.  bb._version_key(v) maps a version to a bytea whose bytewise
 * order is that order, so the catalog can index, sort and max() versions.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(bb_version_key);

#define SEG_NUMBER 0x01			/* a number: marker, 2-byte digit count, digits */
#define SEG_TEXT   0x02			/* text: marker, bytes, 0x00 (text never holds NUL) */

static bool
is_separator(char c)
{
	return c == '.' || c == '_' || c == '-';
}

/* Appends one segment's key; numbers without leading zeros, so length orders them first. */
static void
append_segment(StringInfo key, const char *s, int len)
{
	bool		digits = len > 0;

	for (int i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			digits = false;
	if (digits)
	{
		while (len > 0 && *s == '0')
			s++, len--;
		if (len > 0xFFFF)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version segment is too long")));
		appendStringInfoChar(key, SEG_NUMBER);
		appendStringInfoChar(key, (char) ((len >> 8) & 0xFF));
		appendStringInfoChar(key, (char) (len & 0xFF));
		appendBinaryStringInfo(key, s, len);
	}
	else
	{
		appendStringInfoChar(key, SEG_TEXT);
		appendBinaryStringInfo(key, s, len);
		appendStringInfoChar(key, '\0');
	}
}

/* True when a key segment starting at p is the number zero (it has no digits left). */
static bool
zero_segment(const char *p)
{
	return p[0] == SEG_NUMBER && p[1] == 0 && p[2] == 0;
}

/* bb._version_key(version text) RETURNS bytea: see the top of this file. */
Datum
bb_version_key(PG_FUNCTION_ARGS)
{
	text	   *v = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	StringInfoData key;
	int		   *starts;
	int			nseg = 0;
	int			i = 0;
	bytea	   *result;

	initStringInfo(&key);
	starts = palloc(sizeof(int) * (len + 1));
	while (i <= len)
	{
		int			b = i;

		while (i < len && !is_separator(s[i]))
			i++;
		starts[nseg++] = key.len;
		append_segment(&key, s + b, i - b);
		i++;					/* past the separator (or the end) */
	}
	/* trailing zero segments do not count: 1.0.0 = 1 */
	while (nseg > 1 && zero_segment(key.data + starts[nseg - 1]))
		key.len = starts[--nseg];
	result = palloc(VARHDRSZ + key.len);
	SET_VARSIZE(result, VARHDRSZ + key.len);
	memcpy(VARDATA(result), key.data, key.len);
	PG_RETURN_BYTEA_P(result);
}
