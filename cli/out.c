/* out.c — escaping for the output formats and for SQL array parameters; plain C, unit-tested
 * and fuzzed under ASan (test/gitops) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* A JSON string literal: quotes, backslashes and control characters escaped (UTF-8 passes). */
void
json_str(FILE *f, const char *s)
{
	if (s == NULL)
	{
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					fprintf(f, "\\u%04x", *p);
				else
					fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* GitHub workflow commands: data escapes %, CR, LF; property values also ':' and ','. */
char *
gh_escape(const char *s, bool property)
{
	Buf			b = {0};

	buf_str(&b, "");
	for (const char *p = s ? s : ""; *p; p++)
	{
		if (*p == '%')
			buf_str(&b, "%25");
		else if (*p == '\r')
			buf_str(&b, "%0D");
		else if (*p == '\n')
			buf_str(&b, "%0A");
		else if (property && *p == ':')
			buf_str(&b, "%3A");
		else if (property && *p == ',')
			buf_str(&b, "%2C");
		else
			buf_add(&b, p, 1);
	}
	return b.data;
}

/* A stable id for a GitLab Code Quality issue: two 64-bit FNV-1a hashes of its parts, in hex. */
void
fingerprint(const char *const *parts, int n, char out[33])
{
	uint64_t	h1 = 1469598103934665603ULL;
	uint64_t	h2 = 7809847782465536322ULL;

	for (int i = 0; i < n; i++)
	{
		for (const unsigned char *p = (const unsigned char *) (parts[i] ? parts[i] : ""); *p; p++)
		{
			h1 = (h1 ^ *p) * 1099511628211ULL;
			h2 = (h2 ^ *p) * 1099511628211ULL + 0x9e3779b97f4a7c15ULL;
		}
		h1 = (h1 ^ 0xff) * 1099511628211ULL;	/* a separator: ("ab","c") differs from ("a","bc") */
		h2 = (h2 ^ 0xff) * 1099511628211ULL;
	}
	snprintf(out, 33, "%016llx%016llx", (unsigned long long) h1, (unsigned long long) h2);
}

/* Text array literal: every element quoted, '"' and '\' escaped. */
void
pg_array_text(Buf *b, const char *const *items, int n)
{
	buf_str(b, "{");
	for (int i = 0; i < n; i++)
	{
		buf_str(b, i ? ",\"" : "\"");
		for (const char *p = items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				buf_add(b, "\\", 1);
			buf_add(b, p, 1);
		}
		buf_str(b, "\"");
	}
	buf_str(b, "}");
}

/* A comma-separated option value (--targets a,b) as a text array literal; blanks trimmed. */
void
pg_array_list(Buf *b, const char *list)
{
	const char **items = NULL;
	char	   *copy = strdup(list ? list : "");
	int			n = 0;

	for (char *p = copy, *t; p != NULL; p = t)
	{
		char	   *end;

		t = strchr(p, ',');
		if (t)
			*t++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		items = realloc(items, sizeof(char *) * (size_t) (n + 1));
		if (items == NULL)
		{
			fputs("bb: out of memory\n", stderr);
			exit(EXIT_USAGE);
		}
		items[n++] = p;
	}
	pg_array_text(b, items, n);
	free(items);
	free(copy);
}

/* bytea array literal in hex: {"\\x414243",...} (the array parser turns \\ into \). */
void
pg_array_bytea(Buf *b, const char *const *items, const size_t *lens, int n)
{
	static const char hex[] = "0123456789abcdef";

	buf_str(b, "{");
	for (int i = 0; i < n; i++)
	{
		buf_str(b, i ? ",\"\\\\x" : "\"\\\\x");
		for (size_t k = 0; k < lens[i]; k++)
		{
			char		pair[2];

			pair[0] = hex[((const unsigned char *) items[i])[k] >> 4];
			pair[1] = hex[((const unsigned char *) items[i])[k] & 15];
			buf_add(b, pair, 2);
		}
		buf_str(b, "\"");
	}
	buf_str(b, "}");
}

/* The length of the longest valid UTF-8 prefix (shortest forms, no surrogates, no NUL). */
size_t
utf8_valid_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		size_t		len;
		uint32_t	cp;

		if (c == 0)
			return i;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return i;
		if (n - i < len)
			return i;
		for (size_t k = 1; k < len; k++)
		{
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += len;
	}
	return i;
}

/* 1-based line of a byte offset. */
int
line_of(const char *s, size_t offset)
{
	int			line = 1;

	for (size_t i = 0; i < offset; i++)
		if (s[i] == '\n')
			line++;
	return line;
}
