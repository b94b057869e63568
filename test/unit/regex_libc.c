/*
 * regex_libc.c — the regex engine of the standalone unit and fuzz builds
 * (no server): the C library's POSIX regcomp/regexec in ERE mode.  The
 * extension links src/review/regex_pg.c instead (PostgreSQL's engine); both
 * only ever see patterns src/review/regex_safe.c accepted.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "regex_engine.h"

struct bb_regex_compiled
{
	regex_t		re;
};

/* Compiles with regcomp (see regex_engine.h). */
int
bb_regex_engine_compile(const char *pattern, bb_regex_compiled **out, char *err, size_t errlen)
{
	bb_regex_compiled *c = malloc(sizeof(bb_regex_compiled));
	int			status;

	*out = NULL;
	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return BB_REGEX_TOO_COMPLEX;
	}
	status = regcomp(&c->re, pattern, REG_EXTENDED | REG_NOSUB);
	if (status != 0)
	{
		regerror(status, &c->re, err, errlen);
		free(c);
		return status == REG_ESPACE ? BB_REGEX_TOO_COMPLEX : BB_REGEX_INVALID;
	}
	*out = c;
	return 0;
}

/* Searches with regexec (see regex_engine.h). */
int
bb_regex_engine_exec(bb_regex_compiled *re, const char *subject, char *err, size_t errlen)
{
	int			status = regexec(&re->re, subject, 0, NULL, 0);

	if (status == 0)
		return BB_REGEX_MATCH;
	if (status == REG_NOMATCH)
		return BB_REGEX_NOMATCH;
	regerror(status, &re->re, err, errlen);
	return BB_REGEX_TOO_COMPLEX;
}

/* Releases a compiled pattern. */
void
bb_regex_engine_free(bb_regex_compiled *re)
{
	if (re == NULL)
		return;
	regfree(&re->re);
	free(re);
}
