/* buf.c — a growable string for SQL parameters and messages */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* Out of memory ends the program: a CLI has nothing better to do. */
static void
grow(Buf *b, size_t more)
{
	size_t		need = b->len + more + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
	{
		fputs("bb: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
}

/* Appends n bytes (binary safe) and keeps the data NUL-terminated. */
void
buf_add(Buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Appends a C string. */
void
buf_str(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Appends printf-style output, measured first so nothing is cut. */
void
buf_fmt(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/* Releases the data; the buffer can be used again. */
void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
