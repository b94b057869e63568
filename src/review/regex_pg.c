/*
 * regex_pg.c — the regex engine of the extension: PostgreSQL's own
 * (pg_regcomp/pg_regexec, POSIX ERE mode, C collation, on pg_wchar).  Unlike
 * the C library's it polls for query cancel and reports REG_CANCEL, bounds
 * its memory and stack (REG_ETOOBIG/REG_ESPACE) and never throws: every
 * failure is a return code, so the plain-C checkers can call it with their
 * malloc'd memory live.  PostgreSQL 15's engine allocates with malloc.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"

#include "review/regex_engine.h"

struct bb_regex_compiled
{
	regex_t		re;
};

/* Converts text in the database encoding to a malloc'd pg_wchar array (NULL
 * when out of memory or not valid in the encoding: *why says which). */
static pg_wchar *
to_wchar(const char *s, int *wlen, const char **why)
{
	size_t		len = strlen(s);
	pg_wchar   *w;

	if (len >= (size_t) INT_MAX / sizeof(pg_wchar))
	{
		*why = "text too long";
		return NULL;
	}
	if (!pg_verifymbstr(s, (int) len, true))
	{
		*why = "text not valid in the database encoding";
		return NULL;
	}
	w = malloc((len + 1) * sizeof(pg_wchar));
	if (w == NULL)
	{
		*why = "out of memory";
		return NULL;
	}
	*wlen = pg_mb2wchar_with_len(s, w, (int) len);
	return w;
}

/* Maps an engine status to a BB_REGEX_* code with its message. */
static int
status_code(int status, char *err, size_t errlen)
{
	if (err && errlen)
		pg_regerror(status, NULL, err, errlen);
	if (status == REG_CANCEL)
		return BB_REGEX_CANCELED;
	if (status == REG_ETOOBIG || status == REG_ESPACE || status == REG_ECOLORS)
		return BB_REGEX_TOO_COMPLEX;
	return BB_REGEX_INVALID;
}

/* Compiles with pg_regcomp (see regex_engine.h). */
int
bb_regex_engine_compile(const char *pattern, bb_regex_compiled **out, char *err, size_t errlen)
{
	const char *why = NULL;
	int			wlen = 0;
	pg_wchar   *w = to_wchar(pattern, &wlen, &why);
	bb_regex_compiled *c;
	int			status;

	*out = NULL;
	if (w == NULL)
	{
		snprintf(err, errlen, "%s", why);
		return strcmp(why, "out of memory") == 0 ? BB_REGEX_TOO_COMPLEX : BB_REGEX_INVALID;
	}
	c = malloc(sizeof(bb_regex_compiled));
	if (c == NULL)
	{
		free(w);
		snprintf(err, errlen, "out of memory");
		return BB_REGEX_TOO_COMPLEX;
	}
	status = pg_regcomp(&c->re, w, wlen, REG_EXTENDED | REG_NOSUB, C_COLLATION_OID);
	free(w);
	if (status != REG_OKAY)
	{
		free(c);				/* a failed pg_regcomp holds nothing */
		return status_code(status, err, errlen);
	}
	*out = c;
	return 0;
}

/* Searches with pg_regexec (see regex_engine.h). */
int
bb_regex_engine_exec(bb_regex_compiled *re, const char *subject, char *err, size_t errlen)
{
	const char *why = NULL;
	int			wlen = 0;
	pg_wchar   *w = to_wchar(subject, &wlen, &why);
	int			status;

	if (w == NULL)
	{
		snprintf(err, errlen, "%s", why);
		return strcmp(why, "out of memory") == 0 ? BB_REGEX_TOO_COMPLEX : BB_REGEX_INVALID;
	}
	status = pg_regexec(&re->re, w, wlen, 0, NULL, 0, NULL, 0);
	free(w);
	if (status == REG_OKAY)
		return BB_REGEX_MATCH;
	if (status == REG_NOMATCH)
		return BB_REGEX_NOMATCH;
	return status_code(status, err, errlen);
}

/* Releases a compiled pattern. */
void
bb_regex_engine_free(bb_regex_compiled *re)
{
	if (re == NULL)
		return;
	pg_regfree(&re->re);
	free(re);
}
