/*
 * text.c — remote text to and from the server encoding without catalog access.
 * PostgreSQL's own pg_any_to_server looks the conversion function up in the
 * catalog (and refuses outside a transaction), so bb_driver_prepare caches the
 * UTF-8 <-> database-encoding functions once, inside a transaction, and the
 * drivers call them directly, also with no transaction open.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "driver_int.h"

static bool prepared = false;
static FmgrInfo *utf8_to_server = NULL;	/* NULL: no conversion needed */
static FmgrInfo *server_to_utf8 = NULL;

/* True when the database encoding needs real conversions to and from UTF-8. */
static bool
needs_conversion(void)
{
	int			enc = GetDatabaseEncoding();

	return enc != PG_UTF8 && enc != PG_SQL_ASCII;
}

/* Looks a conversion function up (catalog) and keeps it for the process's lifetime. */
static FmgrInfo *
cache_conversion(int from, int to)
{
	Oid			proc = FindDefaultConversionProc(from, to);
	FmgrInfo   *f;

	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("default conversion function for encoding \"%s\" to \"%s\" does not exist",
						pg_encoding_to_char(from), pg_encoding_to_char(to))));
	f = MemoryContextAllocZero(TopMemoryContext, sizeof(FmgrInfo));
	fmgr_info_cxt(proc, f, TopMemoryContext);
	return f;
}

/* See driver.h: the only catalog lookups the drivers need, done while it is allowed. */
void
bb_driver_prepare(void)
{
	if (prepared)
		return;
	if (needs_conversion())
	{
		if (!IsTransactionState())
			elog(ERROR, "bytebase: bb_driver_prepare must first run inside a transaction");
		utf8_to_server = cache_conversion(PG_UTF8, GetDatabaseEncoding());
		server_to_utf8 = cache_conversion(GetDatabaseEncoding(), PG_UTF8);
	}
	prepared = true;
}

/* Runs a cached conversion; returns the converted text or NULL when some input
 * could not be converted (noError mode: the function stops there). */
static char *
convert(FmgrInfo *f, int from, int to, const char *s, int len)
{
	char	   *out;
	int			done;

	if ((Size) len >= MaxAllocHugeSize / MAX_CONVERSION_GROWTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory"),
				 errdetail("String of %d bytes is too long for encoding conversion.", len)));
	out = MemoryContextAllocHuge(CurrentMemoryContext, (Size) len * MAX_CONVERSION_GROWTH + 1);
	done = DatumGetInt32(FunctionCall6(f, Int32GetDatum(from), Int32GetDatum(to),
									   CStringGetDatum(s), CStringGetDatum(out),
									   Int32GetDatum(len), BoolGetDatum(true)));
	if (done != len)
	{
		pfree(out);
		return NULL;
	}
	return out;
}

/* Fails unless the conversions are ready (a process that never ran bb_driver_prepare). */
static void
check_prepared(void)
{
	if (!prepared)
	{
		if (!IsTransactionState() && needs_conversion())
			elog(ERROR, "bytebase: remote text conversion used before bb_driver_prepare()");
		bb_driver_prepare();
	}
}

/* Remote UTF-8 text in the server encoding: s itself when it needs no conversion
 * (validated), else a palloc'd copy; *outlen gets its length.  Bad text is the
 * target's error. */
const char *
bb_utf8_in(const char *s, int len, int *outlen)
{
	char	   *conv;

	check_prepared();
	if (!pg_verify_mbstr(PG_UTF8, s, len, true))
		ereport_target(ERROR,
					   (errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
						errmsg("invalid byte sequence for encoding \"UTF8\" in text from the remote server"),
						errhint("Binary columns must be converted to text (e.g. hex) by the query.")));
	if (utf8_to_server == NULL)
	{
		*outlen = len;
		return s;
	}
	conv = convert(utf8_to_server, PG_UTF8, GetDatabaseEncoding(), s, len);
	if (conv == NULL)
		ereport_target(ERROR,
					   (errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
						errmsg("text from the remote server has a character with no equivalent in encoding \"%s\"",
							   GetDatabaseEncodingName())));
	*outlen = strlen(conv);
	return conv;
}

/* Remote UTF-8 text as a palloc'd string in the server encoding. */
char *
bb_from_utf8(const char *s, int len)
{
	const char *conv;
	int			outlen;

	if (s == NULL)
		return NULL;
	if (len < 0)
		len = strlen(s);
	conv = bb_utf8_in(s, len, &outlen);
	return conv == s ? pnstrdup(s, len) : (char *) conv;
}

/* For remote messages: nothing may hide the error, so bad or unrepresentable bytes become '?'. */
char *
bb_message_from_utf8(const char *s)
{
	char	   *copy;

	if (s == NULL)
		return pstrdup("");
	check_prepared();
	if (pg_verify_mbstr(PG_UTF8, s, strlen(s), true))
	{
		if (utf8_to_server == NULL)
			return pstrdup(s);
		copy = convert(utf8_to_server, PG_UTF8, GetDatabaseEncoding(), s, strlen(s));
		if (copy != NULL)
			return copy;
	}
	copy = pstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char) *p >= 0x80)
			*p = '?';
	return copy;
}

/* Our text (server encoding, always valid) in UTF-8 for MySQL and ClickHouse. */
char *
bb_to_utf8(const char *s)
{
	char	   *conv;

	check_prepared();
	if (server_to_utf8 == NULL)
		return (char *) s;
	conv = convert(server_to_utf8, GetDatabaseEncoding(), PG_UTF8, s, strlen(s));
	if (conv == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("the command has a character with no equivalent in UTF8")));
	return conv;
}

/* The command text clipped for messages (first 200 characters). */
char *
bb_clip_command(const char *sql)
{
	int			len;

	if (sql == NULL)
		return pstrdup("");
	len = strlen(sql);
	if (pg_mbstrlen_with_len(sql, len) <= 200)
		return pstrdup(sql);
	len = pg_mbcharcliplen(sql, len, 200);
	return psprintf("%.*s...", len, sql);
}
