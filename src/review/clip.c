/*
 * clip.c — message formatting that never echoes a user-supplied name in
 * full: a 10 MB identifier in a finding or an error would cost memory and
 * bury the message (plain C, used by the backend glue and the checkers).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"

/* Bytes of s to keep so that at most `clip` bytes remain, not cutting a UTF-8 character. */
static size_t
clip_length(const char *s, size_t n, size_t clip)
{
	if (n <= clip)
		return n;
	n = clip;
	while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* The text being built; 4 bytes stay reserved for "..." and the NUL. */
typedef struct outbuf
{
	char	   *buf;
	size_t		cap;
	size_t		used;
	int			truncated;
} outbuf;

/* Appends n bytes, or what fits. */
static void
put(outbuf *o, const char *s, size_t n)
{
	size_t		room = o->used + 4 < o->cap ? o->cap - 4 - o->used : 0;

	if (n > room)
	{
		n = room;
		o->truncated = 1;
	}
	memcpy(o->buf + o->used, s, n);
	o->used += n;
}

/* Formats one %s argument: precision, clipping, width. */
static void
put_string(outbuf *o, const char *s, int width, int prec, int left, size_t clip)
{
	size_t		limit = clip + 1;
	size_t		n;
	size_t		keep;
	int			cut;
	int			pad;

	if (s == NULL)
		s = "(null)";
	if (prec >= 0 && (size_t) prec < limit)
		limit = (size_t) prec;
	n = strnlen(s, limit);		/* never walks a huge name */
	keep = clip_length(s, n, clip);
	cut = keep < n;
	pad = width - (int) (keep + (cut ? 3 : 0));
	while (!left && pad-- > 0)
		put(o, " ", 1);
	put(o, s, keep);
	if (cut)
		put(o, "...", 3);
	while (left && pad-- > 0)
		put(o, " ", 1);
}

/* Formats a single non-string conversion with the C library. */
static void
put_number(outbuf *o, const char *spec, char conv, const char *lenmod,
		   va_list *ap)
{
	char		tmp[512];
	int			w = 0;

	switch (conv)
	{
		case 'd':
		case 'i':
			if (strcmp(lenmod, "l") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long));
			else if (strcmp(lenmod, "ll") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long long));
			else if (strcmp(lenmod, "z") == 0 || strcmp(lenmod, "t") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, ptrdiff_t));
			else if (strcmp(lenmod, "j") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, intmax_t));
			else
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, int));
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (strcmp(lenmod, "l") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned long));
			else if (strcmp(lenmod, "ll") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned long long));
			else if (strcmp(lenmod, "z") == 0 || strcmp(lenmod, "t") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, size_t));
			else if (strcmp(lenmod, "j") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, uintmax_t));
			else
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned int));
			break;
		case 'c':
			w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, int));
			break;
		case 'p':
			w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, void *));
			break;
		default:				/* e f g a and capitals */
			if (strcmp(lenmod, "L") == 0)
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long double));
			else
				w = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, double));
			break;
	}
	if (w < 0)
		return;
	put(o, tmp, (size_t) w < sizeof(tmp) ? (size_t) w : sizeof(tmp) - 1);
}

/* Reads a decimal number at *q (advancing), -1 when there is none. */
static int
read_number(const char **q)
{
	int			n = -1;

	while (**q >= '0' && **q <= '9')
	{
		n = (n < 0 ? 0 : n);
		if (n < 100000)
			n = n * 10 + (**q - '0');
		(*q)++;
	}
	return n;
}

/* Formats with clipped %s arguments (see checker.h). */
size_t
bb_vformat_clipped(char *buf, size_t cap, size_t clip, const char *fmt, va_list ap)
{
	outbuf		o = {buf, cap, 0, 0};
	const char *p = fmt;
	va_list		args;

	if (buf == NULL || cap < 8)
		return 0;
	va_copy(args, ap);
	while (*p && !o.truncated)
	{
		const char *q;
		char		flags[8];
		size_t		nflags = 0;
		char		lenmod[3] = "";
		char		spec[48];
		int			width;
		int			prec = -1;
		char		conv;

		if (*p != '%')
		{
			put(&o, p++, 1);
			continue;
		}
		if (p[1] == '%')
		{
			put(&o, "%", 1);
			p += 2;
			continue;
		}
		q = p + 1;
		while (*q && strchr("-+ #0", *q))
		{
			if (nflags < sizeof(flags) - 1)
				flags[nflags++] = *q;
			q++;
		}
		flags[nflags] = '\0';
		if (*q == '*')
		{
			width = va_arg(args, int);
			if (width < 0)
			{
				width = -width;
				if (nflags < sizeof(flags) - 1)
				{
					flags[nflags++] = '-';
					flags[nflags] = '\0';
				}
			}
			q++;
		}
		else
			width = read_number(&q);
		if (*q == '.')
		{
			q++;
			if (*q == '*')
			{
				prec = va_arg(args, int);
				q++;
			}
			else
			{
				prec = read_number(&q);
				if (prec < 0)
					prec = 0;
			}
		}
		if ((q[0] == 'h' && q[1] == 'h') || (q[0] == 'l' && q[1] == 'l'))
		{
			lenmod[0] = q[0];
			lenmod[1] = q[1];
			lenmod[2] = '\0';
			q += 2;
		}
		else if (*q && strchr("hlzjtL", *q))
		{
			lenmod[0] = *q++;
			lenmod[1] = '\0';
		}
		conv = *q;
		if (conv == '\0' || !strchr("diuxXocspeEfFgGaA", conv))
			break;				/* unknown conversion: the argument types are unknown, stop */
		q++;
		if (conv == 's')
			put_string(&o, va_arg(args, const char *), width, prec,
					   strchr(flags, '-') != NULL, clip);
		else
		{
			int			n = snprintf(spec, sizeof(spec), "%%%s", flags);

			if (width >= 0)
				n += snprintf(spec + n, sizeof(spec) - n, "%d", width < 400 ? width : 400);
			if (prec >= 0)
				n += snprintf(spec + n, sizeof(spec) - n, ".%d", prec < 400 ? prec : 400);
			snprintf(spec + n, sizeof(spec) - n, "%s%c", lenmod, conv);
			put_number(&o, spec, conv, lenmod, &args);
		}
		p = q;
	}
	va_end(args);
	if (o.truncated)
	{
		memcpy(buf + o.used, "...", 3);
		o.used += 3;
	}
	buf[o.used] = '\0';
	return o.used;
}

/* Clips a single string for an error message (see checker.h). */
const char *
bb_clip(const char *s, size_t clip, char *buf, size_t cap)
{
	size_t		n;
	size_t		keep;

	if (s == NULL)
		return "";
	if (cap < 8)
		return "";
	if (clip > cap - 4)
		clip = cap - 4;
	n = strnlen(s, clip + 1);
	keep = clip_length(s, n, clip);
	memcpy(buf, s, keep);
	if (keep < n)
	{
		memcpy(buf + keep, "...", 3);
		keep += 3;
	}
	buf[keep] = '\0';
	return buf;
}
