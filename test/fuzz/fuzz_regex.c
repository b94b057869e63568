/*
 * fuzz_regex.c — libFuzzer target for the naming-pattern path: the input is a
 * pattern and a subject (split at the first NUL).  Whatever bb_regex_safe
 * accepts must compile and run quickly even in the C library's backtracking
 * engine (libFuzzer's -timeout catches a blowup); an escaped subject must be
 * safe and match itself; clipping must stay in bounds.  Built by test/fuzz/Makefile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "regex_engine.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	const char *pattern;
	const char *subject;
	size_t		plen;
	char		err[256];
	char	   *esc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	pattern = buf;
	plen = strlen(pattern);
	subject = plen < size ? buf + plen + 1 : "";

	if (bb_regex_check(pattern, err, sizeof(err)) == 0)
	{
		int			rc = bb_regex_match(pattern, subject);

		if (rc != BB_REGEX_MATCH && rc != BB_REGEX_NOMATCH && rc != BB_REGEX_TOO_COMPLEX)
			abort();			/* a checked pattern must apply */
	}
	esc = bb_regex_escape(subject);
	if (esc)
	{
		size_t		el = strlen(esc);
		char	   *anchored = malloc(el + 3);

		if (anchored)
		{
			anchored[0] = '^';
			memcpy(anchored + 1, esc, el);
			anchored[el + 1] = '$';
			anchored[el + 2] = '\0';
			if (strlen(subject) * 2 + 2 <= BB_REGEX_MAX_PATTERN &&
				bb_regex_match(anchored, subject) != BB_REGEX_MATCH)
				abort();		/* an escaped name matches itself */
			free(anchored);
		}
		free(esc);
	}
	{
		char		small[64];

		bb_clip(subject, 20, small, sizeof(small));
		if (strlen(small) > 23)
			abort();
	}
	free(buf);
	return 0;
}
