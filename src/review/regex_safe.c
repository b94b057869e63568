/*
 * regex_safe.c — decides whether a naming pattern is in the safe subset of
 * POSIX extended regular expressions before any engine sees it (plain C).
 *
 * Refused: more than BB_REGEX_MAX_PATTERN bytes; back-references and every
 * backslash-letter/digit escape (engines disagree on them; PostgreSQL's
 * "***:" director, "(?" options and lookarounds are refused as quantifiers
 * without an operand); collating elements; empty alternatives;
 * a quantifier after a quantifier or an anchor; bounds over 255; and a
 * repetition whose operand
 *   - can match the empty string                      (a*)*  (|)*  (a?)+
 *   - has alternatives that can start alike           (a|a)*  (a|ab)+
 *   - can be split into iterations in several ways: it starts with a byte
 *     that may also follow inside it AND ends with a byte that may also
 *     precede inside it                              (a+)+  ([a-z]+)*  (a[a-z]*)*
 * so ^[a-z]+(_[a-z0-9]+)*$ and ^([a-z]+_)*[a-z]+$ pass.  This keeps every
 * accepted pattern free of the nested-quantifier blowups of backtracking
 * engines; PostgreSQL's engine additionally stays interruptible and bounded.
 */
#include <stdio.h>
#include <string.h>

#include "regex_engine.h"

#define MAX_DEPTH 32			/* nested groups */
#define MAX_BOUND 255			/* POSIX RE_DUP_MAX */
#define MAX_WEIGHT 20000		/* atoms after expanding bounded repetitions */
#define INF_REPEAT (-1)

/* A set of bytes; every non-ASCII character counts as all bytes 0x80-0xFF. */
typedef struct byteset
{
	unsigned char b[32];
} byteset;

/* What a (sub)pattern can match, as far as the checks need to know. */
typedef struct rx_info
{
	byteset		first;			/* bytes a non-empty match can start with */
	byteset		last;			/* bytes it can end with */
	byteset		nonfirst;		/* bytes that can occur after its first byte */
	byteset		nonlast;		/* bytes that can occur before its last byte */
	int			nullable;		/* can match the empty string */
	int			overlap;		/* contains alternatives that can start alike */
	long		weight;			/* atoms, bounded repetitions expanded */
} rx_info;

typedef struct rx_parser
{
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
	int			depth;
	char	   *err;
	size_t		errlen;
	int			failed;
} rx_parser;

static void parse_alt(rx_parser *ps, rx_info *out);

/* ---- byte sets --------------------------------------------------------- */

static void
set_add(byteset *s, unsigned c)
{
	s->b[(c & 0xFF) >> 3] |= (unsigned char) (1u << (c & 7));
}

/* Adds the byte of an ASCII character, or the non-ASCII block. */
static void
set_add_char(byteset *s, unsigned c)
{
	unsigned	k;

	if (c < 0x80)
	{
		set_add(s, c);
		return;
	}
	for (k = 0x80; k <= 0xFF; k++)
		set_add(s, k);
}

static void
set_union(byteset *d, const byteset *s)
{
	int			k;

	for (k = 0; k < 32; k++)
		d->b[k] |= s->b[k];
}

static int
set_meets(const byteset *a, const byteset *b)
{
	int			k;

	for (k = 0; k < 32; k++)
		if (a->b[k] & b->b[k])
			return 1;
	return 0;
}

/* ---- errors ------------------------------------------------------------ */

/* Records the first problem with its 1-based byte position. */
static void
refuse(rx_parser *ps, const char *why)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s (at position %d)", why, (int) (ps->p - ps->start) + 1);
}

/* ---- atoms ------------------------------------------------------------- */

/* A single character (its bytes already consumed) as an atom. */
static void
char_atom(rx_info *a, unsigned c)
{
	memset(a, 0, sizeof(*a));
	set_add_char(&a->first, c);
	a->last = a->first;
	a->weight = 1;
}

/* Consumes one (possibly multibyte UTF-8) character; returns its first byte. */
static unsigned
take_char(rx_parser *ps)
{
	unsigned	c = *ps->p++;

	if (c >= 0xC0)
		while (ps->p < ps->end && (*ps->p & 0xC0) == 0x80)
			ps->p++;
	return c;
}

/* Adds the ASCII members of a [:class:] to a set (non-ASCII ones always). */
static int
add_class(byteset *s, const char *name, size_t len)
{
	static const char *const names[] = {
		"alpha", "digit", "alnum", "upper", "lower", "space", "blank", "punct",
		"print", "graph", "cntrl", "xdigit", "word", NULL
	};
	int			k;
	unsigned	c;

	for (k = 0; names[k]; k++)
		if (strlen(names[k]) == len && memcmp(names[k], name, len) == 0)
			break;
	if (names[k] == NULL)
		return -1;
	for (c = 1; c < 0x80; c++)
	{
		int			in = 0;

		switch (k)
		{
			case 0:
				in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
				break;
			case 1:
				in = c >= '0' && c <= '9';
				break;
			case 2:
			case 12:
				in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
					(k == 12 && c == '_');
				break;
			case 3:
				in = c >= 'A' && c <= 'Z';
				break;
			case 4:
				in = c >= 'a' && c <= 'z';
				break;
			case 5:
				in = c == ' ' || (c >= '\t' && c <= '\r');
				break;
			case 6:
				in = c == ' ' || c == '\t';
				break;
			default:			/* punct print graph cntrl xdigit: be generous */
				in = 1;
				break;
		}
		if (in)
			set_add(s, c);
	}
	set_add_char(s, 0x80);
	return 0;
}

/* A bracket expression [...] (the '[' consumed). */
static void
bracket(rx_parser *ps, rx_info *a)
{
	byteset		s;
	int			negate = 0;
	int			count = 0;

	memset(&s, 0, sizeof(s));
	if (ps->p < ps->end && *ps->p == '^')
	{
		negate = 1;
		ps->p++;
	}
	for (;;)
	{
		unsigned	lo;

		if (ps->p >= ps->end)
		{
			refuse(ps, "unterminated [ ] bracket expression");
			return;
		}
		if (*ps->p == ']' && count > 0)
		{
			ps->p++;
			break;
		}
		count++;
		if (*ps->p == '[' && ps->p + 1 < ps->end && (ps->p[1] == '.' || ps->p[1] == '='))
		{
			refuse(ps, "collating elements [. .] and equivalence classes [= =] are not supported");
			return;
		}
		if (*ps->p == '[' && ps->p + 1 < ps->end && ps->p[1] == ':')
		{
			const unsigned char *name = ps->p + 2;
			const unsigned char *q = name;

			while (q + 1 < ps->end && !(q[0] == ':' && q[1] == ']'))
				q++;
			if (q + 1 >= ps->end || add_class(&s, (const char *) name, (size_t) (q - name)) != 0)
			{
				refuse(ps, "unknown character class in [: :]");
				return;
			}
			ps->p = q + 2;
			continue;
		}
		lo = take_char(ps);
		if (ps->p + 1 < ps->end && *ps->p == '-' && ps->p[1] != ']')
		{
			unsigned	hi;
			unsigned	c;

			ps->p++;
			if (*ps->p == '[')
			{
				refuse(ps, "a range cannot end with a [ ] item");
				return;
			}
			hi = take_char(ps);
			if (lo < 0x80 && hi < 0x80)
			{
				if (lo > hi)
				{
					refuse(ps, "invalid range in [ ] (start after end)");
					return;
				}
				for (c = lo; c <= hi; c++)
					set_add(&s, c);
			}
			else
			{
				for (c = lo < 0x80 ? lo : 0x80; c < 0x80; c++)
					set_add(&s, c);
				set_add_char(&s, 0x80);
			}
			continue;
		}
		set_add_char(&s, lo);
	}
	memset(a, 0, sizeof(*a));
	if (negate)
	{
		int			k;

		/* the complement of the ASCII part; non-ASCII members stay (sets
		 * only over-approximate, so a complement must not shrink them) */
		for (k = 0; k < 16; k++)
			a->first.b[k] = (unsigned char) ~s.b[k];
		a->first.b[0] &= (unsigned char) ~1u;	/* no NUL */
		set_add_char(&a->first, 0x80);
	}
	else
		a->first = s;
	a->last = a->first;
	a->weight = 1;
}

/* One atom; returns 0 for a character-matching atom, 1 for an anchor. */
static int
atom(rx_parser *ps, rx_info *a)
{
	unsigned	c = *ps->p;

	memset(a, 0, sizeof(*a));
	switch (c)
	{
		case '(':
			ps->p++;
			if (++ps->depth > MAX_DEPTH)
			{
				refuse(ps, "groups nested too deeply");
				return 0;
			}
			parse_alt(ps, a);
			ps->depth--;
			if (ps->failed)
				return 0;
			if (ps->p >= ps->end || *ps->p != ')')
			{
				refuse(ps, "unbalanced ( )");
				return 0;
			}
			ps->p++;
			return 0;
		case '[':
			ps->p++;
			bracket(ps, a);
			return 0;
		case '.':
			ps->p++;
			{
				unsigned	k;

				for (k = 1; k <= 0xFF; k++)
					set_add(&a->first, k);
			}
			a->last = a->first;
			a->weight = 1;
			return 0;
		case '^':
		case '$':
			ps->p++;
			a->nullable = 1;
			return 1;
		case '*':
		case '+':
		case '?':
		case '{':
			refuse(ps, c == '{' ? "quantifier {} without an operand (write \\{ for a literal brace)"
				   : "quantifier without an operand");
			return 0;
		case '\\':
			ps->p++;
			if (ps->p >= ps->end)
			{
				refuse(ps, "trailing backslash");
				return 0;
			}
			c = *ps->p;
			if (c >= '0' && c <= '9')
			{
				refuse(ps, "back-references (\\1 ...) are not allowed");
				return 0;
			}
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			{
				refuse(ps, "\\d, \\w and other letter escapes are not supported: use [0-9], [[:alpha:]] ...");
				return 0;
			}
			c = take_char(ps);
			char_atom(a, c);
			return 0;
		default:
			c = take_char(ps);
			char_atom(a, c);
			return 0;
	}
}

/* ---- quantifiers ------------------------------------------------------- */

/* Reads a decimal bound (at most MAX_BOUND); -2 when there is none. */
static int
bound_number(rx_parser *ps)
{
	int			n = 0;
	int			digits = 0;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
	{
		n = n * 10 + (*ps->p++ - '0');
		if (n > MAX_BOUND)
			return MAX_BOUND + 1;
		digits++;
	}
	return digits ? n : -2;
}

/* Parses a quantifier at the cursor; 0 when there is none. */
static int
quantifier(rx_parser *ps, int *min, int *max)
{
	if (ps->p >= ps->end)
		return 0;
	switch (*ps->p)
	{
		case '*':
			ps->p++;
			*min = 0;
			*max = INF_REPEAT;
			return 1;
		case '+':
			ps->p++;
			*min = 1;
			*max = INF_REPEAT;
			return 1;
		case '?':
			ps->p++;
			*min = 0;
			*max = 1;
			return 1;
		case '{':
			ps->p++;
			*min = bound_number(ps);
			if (*min == -2)
			{
				refuse(ps, "{ must start a bound {n}, {n,} or {n,m} (write \\{ for a literal brace)");
				return 1;
			}
			*max = *min;
			if (ps->p < ps->end && *ps->p == ',')
			{
				ps->p++;
				*max = bound_number(ps);
				if (*max == -2)
					*max = INF_REPEAT;
			}
			if (ps->p >= ps->end || *ps->p != '}')
			{
				refuse(ps, "unterminated bound { }");
				return 1;
			}
			ps->p++;
			if (*min > MAX_BOUND || *max > MAX_BOUND)
				refuse(ps, "bounds above 255 are not allowed");
			else if (*max != INF_REPEAT && *min > *max)
				refuse(ps, "invalid bound {n,m} with n > m");
			return 1;
	}
	return 0;
}

/* Applies a repetition {min,max} to an atom, refusing unsafe operands. */
static void
repeat(rx_parser *ps, rx_info *a, int min, int max)
{
	long		times = (max == INF_REPEAT) ? 2 : (max > min ? max : min);

	if (max == INF_REPEAT || max > 1)
	{
		if (a->nullable)
		{
			refuse(ps, "a repeated part can match the empty string (like (a*)* or (|)*)");
			return;
		}
		if (a->overlap)
		{
			refuse(ps, "repeated alternatives that can start alike (like (a|ab)*)");
			return;
		}
		if (set_meets(&a->first, &a->nonfirst) && set_meets(&a->last, &a->nonlast))
		{
			refuse(ps, "nested repetition matching a text in many ways (like (a+)+, ([a-z]+)*)");
			return;
		}
		set_union(&a->nonfirst, &a->first);
		set_union(&a->nonfirst, &a->nonlast);
		set_union(&a->nonlast, &a->last);
		set_union(&a->nonlast, &a->nonfirst);
	}
	if (min == 0)
		a->nullable = 1;
	a->weight *= times > 0 ? times : 1;
}

/* ---- branches and alternatives ---------------------------------------- */

/* Appends piece b to the concatenation a. */
static void
concat(rx_info *a, const rx_info *b, int first_piece)
{
	byteset		all_a;
	byteset		all_b;

	if (first_piece)
	{
		*a = *b;
		return;
	}
	all_a = a->first;
	set_union(&all_a, &a->nonfirst);
	all_b = b->first;
	set_union(&all_b, &b->nonfirst);
	set_union(&a->nonfirst, &all_b);
	set_union(&a->nonlast, &b->nonlast);
	set_union(&a->nonlast, &all_a);
	if (a->nullable)
		set_union(&a->first, &b->first);
	if (b->nullable)
		set_union(&a->last, &b->last);
	else
		a->last = b->last;
	a->nullable = a->nullable && b->nullable;
	a->overlap |= b->overlap;
	a->weight += b->weight;
}

/* A branch: pieces up to '|' or ')' or the end; returns how many. */
static int
parse_branch(rx_parser *ps, rx_info *out)
{
	int			n = 0;

	memset(out, 0, sizeof(*out));
	out->nullable = 1;
	while (!ps->failed && ps->p < ps->end && *ps->p != '|' && *ps->p != ')')
	{
		rx_info		a;
		int			anchor = atom(ps, &a);
		int			min,
					max;

		if (ps->failed)
			break;
		if (quantifier(ps, &min, &max))
		{
			if (ps->failed)
				break;
			if (anchor)
			{
				refuse(ps, "quantifier after an anchor ^ or $");
				break;
			}
			repeat(ps, &a, min, max);
			if (!ps->failed && quantifier(ps, &min, &max))
				refuse(ps, "a quantifier cannot follow another quantifier");
		}
		concat(out, &a, n == 0);
		n++;
		if (out->weight > MAX_WEIGHT)
			refuse(ps, "pattern too complex (bounded repetitions expand too far)");
	}
	return n;
}

/* Alternatives separated by '|' (until ')' or the end). */
static void
parse_alt(rx_parser *ps, rx_info *out)
{
	int			first_branch = 1;

	memset(out, 0, sizeof(*out));
	for (;;)
	{
		rx_info		b;

		/* an empty group () is harmless; an empty alternative (a|) or (|) is refused */
		if (parse_branch(ps, &b) == 0 && !ps->failed &&
			(!first_branch || (ps->p < ps->end && *ps->p == '|')))
			refuse(ps, "empty alternative (write (a)? instead of (a|))");
		if (ps->failed)
			return;
		if (first_branch)
			*out = b;
		else
		{
			if (set_meets(&out->first, &b.first))
				out->overlap = 1;
			set_union(&out->first, &b.first);
			set_union(&out->last, &b.last);
			set_union(&out->nonfirst, &b.nonfirst);
			set_union(&out->nonlast, &b.nonlast);
			out->nullable |= b.nullable;
			out->overlap |= b.overlap;
			out->weight += b.weight;
		}
		first_branch = 0;
		if (ps->p < ps->end && *ps->p == '|')
		{
			ps->p++;
			continue;
		}
		return;
	}
}

/* Checks a whole pattern (see regex_engine.h). */
int
bb_regex_safe(const char *pattern, char *err, size_t errlen)
{
	rx_parser	ps;
	rx_info		info;
	size_t		len = pattern ? strlen(pattern) : 0;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (len > BB_REGEX_MAX_PATTERN)
	{
		if (err && errlen)
			snprintf(err, errlen, "pattern longer than %d bytes", BB_REGEX_MAX_PATTERN);
		return -1;
	}
	ps.start = ps.p = (const unsigned char *) (pattern ? pattern : "");
	ps.end = ps.p + len;
	if (len == 0)
		return 0;
	parse_alt(&ps, &info);
	if (!ps.failed && ps.p < ps.end)
		refuse(&ps, "unmatched )");
	return ps.failed ? -1 : 0;
}
