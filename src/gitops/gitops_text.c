/* gitops_text.c — the one check a migration file's bytes need before they can become text */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"

PG_FUNCTION_INFO_V1(bb_utf8_error_line);

/*
 * bb._utf8_error_line(bytea) -> int: NULL when the bytes are valid UTF-8 (no NUL byte, which no
 * text may hold), else the line of the first bad byte, so a file is reported as "not valid UTF-8
 * (line 7)" instead of failing with PostgreSQL's encoding error in the middle of a fetch.
 */
Datum
bb_utf8_error_line(PG_FUNCTION_ARGS)
{
	bytea	   *content = PG_GETARG_BYTEA_PP(0);
	const char *s = VARDATA_ANY(content);
	int			len = VARSIZE_ANY_EXHDR(content);
	int			ok = pg_encoding_verifymbstr(PG_UTF8, s, len);
	int			line = 1;

	if (ok >= len)
		PG_RETURN_NULL();
	for (int i = 0; i < ok; i++)
		if (s[i] == '\n')
			line++;
	PG_RETURN_INT32(line);
}
