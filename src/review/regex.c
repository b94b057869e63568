/*
 * regex.c — POSIX extended regular expressions and naming templates shared by
 * every checker and by policy validation (plain C, no PostgreSQL headers, so
 * the pattern a policy accepts is exactly the pattern a checker applies).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "review.h"

/* A few compiled patterns are kept: naming formats repeat on every statement. */
#define CACHE_SIZE 16

typedef struct cached
{
	char	   *pattern;
	regex_t		re;
	unsigned long used;
} cached;

static cached cache[CACHE_SIZE];
static unsigned long clock_tick;

/* Returns the compiled pattern (from the cache when possible) or NULL. */
static regex_t *
compiled(const char *pattern, int *status)
{
	int			k;
	int			victim = 0;
	regex_t		re;
	char	   *copy;

	*status = 0;
	for (k = 0; k < CACHE_SIZE; k++)
	{
		if (cache[k].pattern && strcmp(cache[k].pattern, pattern) == 0)
		{
			cache[k].used = ++clock_tick;
			return &cache[k].re;
		}
		if (cache[k].used < cache[victim].used)
			victim = k;
	}
	*status = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (*status != 0)
		return NULL;
	copy = strdup(pattern);
	if (copy == NULL)
	{
		regfree(&re);
		*status = REG_ESPACE;
		return NULL;
	}
	if (cache[victim].pattern)
	{
		regfree(&cache[victim].re);
		free(cache[victim].pattern);
	}
	cache[victim].pattern = copy;
	cache[victim].re = re;
	cache[victim].used = ++clock_tick;
	return &cache[victim].re;
}

/* Matches with a cached compiled pattern (see review.h). */
int
bb_regex_match(const char *pattern, const char *subject)
{
	int			status;
	regex_t    *re = compiled(pattern, &status);

	if (re == NULL)
		return -1;
	return regexec(re, subject, 0, NULL, 0) == 0 ? 1 : 0;
}

/* Compiles once without caching, to validate a policy (see review.h). */
int
bb_regex_check(const char *pattern, char *err, size_t errlen)
{
	regex_t		re;
	int			status = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);

	if (status == 0)
	{
		regfree(&re);
		return 0;
	}
	if (err && errlen)
		regerror(status, &re, err, errlen);
	return -1;
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
