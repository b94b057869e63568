/*
 * regex.c — naming patterns shared by every checker and by policy validation
 * (plain C): escaping names, {{key}} templates, the safety check, and a small
 * cache of compiled patterns in front of the engine (regex_engine.h), so the
 * pattern a policy accepts is exactly the pattern a checker applies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex_engine.h"

/* A few compiled patterns are kept: naming formats repeat on every statement. */
#define CACHE_SIZE 16

typedef struct cached
{
	char	   *pattern;
	bb_regex_compiled *re;
	unsigned long used;
} cached;

static cached cache[CACHE_SIZE];
static unsigned long clock_tick;
static char last_error[256];

/* Forgets the reason of the previous failure (see review.h). */
void
bb_regex_clear_error(void)
{
	last_error[0] = '\0';
}

/* The reason of the last failed match (see review.h). */
const char *
bb_regex_last_error(void)
{
	return last_error;
}

/* Safety check, then the engine: the one path every pattern takes to be compiled. */
static int
compile_checked(const char *pattern, bb_regex_compiled **out, char *err, size_t errlen)
{
	*out = NULL;
	if (bb_regex_safe(pattern, err, errlen) != 0)
		return BB_REGEX_INVALID;
	return bb_regex_engine_compile(pattern, out, err, errlen);
}

/* Returns the compiled pattern (from the cache when possible) or a BB_REGEX_* code. */
static int
compiled(const char *pattern, bb_regex_compiled **re)
{
	int			k;
	int			victim = 0;
	int			status;
	char	   *copy;

	for (k = 0; k < CACHE_SIZE; k++)
	{
		if (cache[k].pattern && strcmp(cache[k].pattern, pattern) == 0)
		{
			cache[k].used = ++clock_tick;
			*re = cache[k].re;
			return 0;
		}
		if (cache[k].used < cache[victim].used)
			victim = k;
	}
	status = compile_checked(pattern, re, last_error, sizeof(last_error));
	if (status != 0)
		return status;
	copy = strdup(pattern);
	if (copy == NULL)
	{
		bb_regex_engine_free(*re);
		snprintf(last_error, sizeof(last_error), "out of memory");
		return BB_REGEX_TOO_COMPLEX;
	}
	if (cache[victim].pattern)
	{
		bb_regex_engine_free(cache[victim].re);
		free(cache[victim].pattern);
	}
	cache[victim].pattern = copy;
	cache[victim].re = *re;
	cache[victim].used = ++clock_tick;
	return 0;
}

/* Matches with a cached compiled pattern (see review.h). */
int
bb_regex_match(const char *pattern, const char *subject)
{
	bb_regex_compiled *re;
	int			status;

	bb_regex_clear_error();
	if (pattern == NULL)
	{
		snprintf(last_error, sizeof(last_error), "no pattern");
		return BB_REGEX_INVALID;
	}
	status = compiled(pattern, &re);
	if (status != 0)
		return status;
	return bb_regex_engine_exec(re, subject ? subject : "", last_error, sizeof(last_error));
}

/* Safety check and a compilation without caching, to validate a policy (see review.h). */
int
bb_regex_check(const char *pattern, char *err, size_t errlen)
{
	bb_regex_compiled *re;
	char		buf[256];
	int			status;

	if (err == NULL || errlen == 0)
	{
		err = buf;
		errlen = sizeof(buf);
	}
	err[0] = '\0';
	status = compile_checked(pattern ? pattern : "", &re, err, errlen);
	if (status == 0)
		bb_regex_engine_free(re);
	return status;
}

/* Escapes regex metacharacters so a name matches only itself (see review.h). */
char *
bb_regex_escape(const char *s)
{
	size_t		n = s ? strlen(s) : 0;
	char	   *out;
	char	   *o;

	if (n > (((size_t) -1) - 1) / 2)
		return NULL;
	out = malloc(2 * n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (; s && *s; s++)
	{
		if (strchr(".[]{}()\\*+?^$|", *s))
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Substitutes {{key}} templates into a naming format (see review.h). */
char *
bb_template_expand(const char *format, const char *const *keys,
				   const char *const *values, int n)
{
	size_t		cap = strlen(format) + 1;
	size_t		used = 0;
	const char *p = format;
	char	   *out;
	int			k;

	for (k = 0; k < n; k++)
		cap += strlen(values[k]) * 4 + 1;	/* a key may repeat: grow below if needed */
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	while (*p)
	{
		const char *val = NULL;
		size_t		skip = 1;

		if (p[0] == '{' && p[1] == '{')
		{
			for (k = 0; k < n; k++)
			{
				size_t		kl = strlen(keys[k]);

				if (strncmp(p + 2, keys[k], kl) == 0 && p[2 + kl] == '}' && p[3 + kl] == '}')
				{
					val = values[k];
					skip = kl + 4;
					break;
				}
			}
		}
		{
			const char *src = val ? val : p;
			size_t		sl = val ? strlen(val) : 1;

			if (used + sl + 1 > cap)
			{
				char	   *grown;

				cap = (used + sl + 1) * 2;
				grown = realloc(out, cap);
				if (grown == NULL)
				{
					free(out);
					return NULL;
				}
				out = grown;
			}
			memcpy(out + used, src, sl);
			used += sl;
		}
		p += skip;
	}
	out[used] = '\0';
	return out;
}
