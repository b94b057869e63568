/*
 * suppress.c — "-- bb:ignore rule.id, rule.id" comments.  The comments are
 * collected before a checker runs, so each finding is matched when it is
 * emitted: suppressed findings never count against bytebase.max_findings,
 * and the index costs a few bytes per comment (rule names stay in the script).
 * A comment covers the statement that starts on the next line and the
 * statements that reach its own line.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "review/lint.h"

typedef struct sup_rule
{
	uint32		off;			/* of the name in the script */
	uint32		len;
	bool		used;
} sup_rule;

typedef struct suppression
{
	size_t		offset;			/* of the comment */
	int			line;
	uint32		first_rule;		/* index into rules */
	uint32		nrules;
} suppression;

/* Lines [lo, hi] a suppression covers (a comment covers one or two ranges). */
typedef struct sup_range
{
	int			lo;
	int			hi;
	uint32		sup;
} sup_range;

struct bb_suppressions
{
	const char *script;
	suppression *sups;
	int			nsups;
	int			capsups;
	sup_rule   *rules;
	uint32		nrules;
	uint32		caprules;
	sup_range  *ranges;			/* sorted by lo */
	int		   *maxhi;			/* maxhi[k]: highest hi of ranges[0..k] */
	int			nranges;
	int			capranges;
	bool		oom;			/* a comment could not be recorded */
};

/* Grows an array in the current context without throwing (the splitter's
 * callback runs inside plain C): false when out of memory. */
static bool
grow(void **p, int *cap, size_t elem)
{
	int			ncap = *cap ? *cap * 2 : 64;
	void	   *n;

	if (ncap <= *cap || (Size) ncap * elem >= MaxAllocHugeSize)
		return false;
	n = palloc_extended((Size) ncap * elem, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (n == NULL)
		return false;
	if (*p)
	{
		memcpy(n, *p, (Size) *cap * elem);
		pfree(*p);
	}
	*p = n;
	*cap = ncap;
	return true;
}

/* Splitter callback: records "bb:ignore id, id" from a comment. */
static void
on_comment(void *arg, size_t start, size_t end)
{
	bb_suppressions *s = arg;
	const char *c = s->script + start;
	size_t		n = end - start;
	size_t		i = 0;
	uint32		first = s->nrules;

	if (s->oom)
		return;
	while (i < n && (c[i] == '-' || c[i] == '#' || c[i] == '/' || c[i] == '*' || c[i] == ' ' || c[i] == '\t'))
		i++;
	if (n - i < 9 || strncmp(c + i, "bb:ignore", 9) != 0)
		return;
	i += 9;
	for (;;)
	{
		size_t		b;

		while (i < n && (c[i] == ' ' || c[i] == '\t' || c[i] == ','))
			i++;
		b = i;
		while (i < n && (isalnum((unsigned char) c[i]) || c[i] == '.' || c[i] == '-' || c[i] == '_'))
			i++;
		if (i == b)
			break;
		if (s->nrules == s->caprules)
		{
			int			cap = (int) s->caprules;

			if (!grow((void **) &s->rules, &cap, sizeof(sup_rule)))
			{
				s->oom = true;
				return;
			}
			s->caprules = (uint32) cap;
		}
		s->rules[s->nrules].off = (uint32) (start + b);
		s->rules[s->nrules].len = (uint32) (i - b);
		s->rules[s->nrules].used = false;
		s->nrules++;
	}
	if (s->nrules == first)
		return;
	if (s->nsups == s->capsups && !grow((void **) &s->sups, &s->capsups, sizeof(suppression)))
	{
		s->oom = true;
		return;
	}
	s->sups[s->nsups].offset = start;
	s->sups[s->nsups].first_rule = first;
	s->sups[s->nsups].nrules = s->nrules - first;
	s->nsups++;
}

static void
add_range(bb_suppressions *s, int lo, int hi, uint32 sup)
{
	if (s->nranges == s->capranges && !grow((void **) &s->ranges, &s->capranges, sizeof(sup_range)))
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory reading suppression comments")));
	s->ranges[s->nranges].lo = lo;
	s->ranges[s->nranges].hi = hi;
	s->ranges[s->nranges].sup = sup;
	s->nranges++;
}

static int
range_cmp(const void *a, const void *b)
{
	const sup_range *x = a;
	const sup_range *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->sup < y->sup ? -1 : (x->sup > y->sup);
}

/* Lines of the comments and of each statement's end, in one pass over the script. */
static void
number_lines(bb_suppressions *s, size_t len, const bb_stmt_span *spans, int nspans, int *span_last)
{
	size_t		pos = 0;
	int			line = 1;
	int			k = 0;
	int			c = 0;

	while (k < nspans || c < s->nsups)
	{
		size_t		next;
		const char *nl;

		/* the next offset whose line is wanted */
		if (k < nspans && (c >= s->nsups || spans[k].end <= s->sups[c].offset))
			next = spans[k].end;
		else
			next = s->sups[c].offset;
		if (next > len)
			next = len;
		while (pos < next && (nl = memchr(s->script + pos, '\n', next - pos)) != NULL)
		{
			pos = (size_t) (nl - s->script) + 1;
			line++;
		}
		pos = next > pos ? next : pos;
		if (k < nspans && (c >= s->nsups || spans[k].end <= s->sups[c].offset))
			span_last[k++] = line;
		else
			s->sups[c++].line = line;
		if (((k + c) & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* Collects the suppressions of a script (see lint.h). */
bb_suppressions *
bb_suppressions_scan(bb_dialect dialect, const char *script, size_t len)
{
	bb_suppressions *s;
	bb_stmt_span *volatile spans = NULL;
	int			nspans;

	if (len < 9 || memmem(script, len, "bb:ignore", 9) == NULL)
		return NULL;
	if (len > PG_UINT32_MAX)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("script too long for suppression comments")));
	s = palloc0(sizeof(bb_suppressions));
	s->script = script;
	PG_TRY();
	{
		bb_stmt_span *sp = NULL;
		int		   *span_last;
		int			j;

		nspans = bb_split_ex(dialect, script, len, &sp, on_comment, s);
		spans = sp;
		if (nspans < 0 || s->oom)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
							errmsg("out of memory reading the suppression comments of the script")));
		span_last = palloc_extended(sizeof(int) * ((Size) nspans + 1), MCXT_ALLOC_HUGE);
		number_lines(s, len, sp, nspans, span_last);
		for (j = 0; j < s->nsups; j++)
		{
			int			L = s->sups[j].line;
			int			lo = 0;
			int			hi = nspans - 1;
			int			k;

			if ((j & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			/* the last statement starting on or before the next line ... */
			while (lo <= hi)
			{
				int			mid = lo + (hi - lo) / 2;

				if (sp[mid].line <= L + 1)
					lo = mid + 1;
				else
					hi = mid - 1;
			}
			/* ... and the ones before it that still reach the comment's line */
			for (k = hi; k >= 0; k--)
			{
				int			first = sp[k].line;
				int			last = span_last[k];

				if (first != L + 1 && last < L)
					break;
				if (first == L + 1 || first <= L)
					add_range(s, Min(first, L), Max(last, L), (uint32) j);
			}
		}
		pfree(span_last);
	}
	PG_FINALLY();
	{
		free(spans);
	}
	PG_END_TRY();

	if (s->nranges > 0)
	{
		int			k;

		qsort(s->ranges, s->nranges, sizeof(sup_range), range_cmp);
		s->maxhi = palloc_extended(sizeof(int) * (Size) s->nranges, MCXT_ALLOC_HUGE);
		for (k = 0; k < s->nranges; k++)
			s->maxhi[k] = k == 0 ? s->ranges[k].hi : Max(s->maxhi[k - 1], s->ranges[k].hi);
	}
	return s;
}

/* The rule of suppression sup named `rule`, or NULL. */
static sup_rule *
names_rule(bb_suppressions *s, uint32 sup, const char *rule, size_t rlen)
{
	uint32		r;

	for (r = 0; r < s->sups[sup].nrules; r++)
	{
		sup_rule   *sr = &s->rules[s->sups[sup].first_rule + r];

		if (sr->len == rlen && memcmp(s->script + sr->off, rule, rlen) == 0)
			return sr;
	}
	return NULL;
}

/* Whether a finding is suppressed; marks the suppression used.  Never throws
 * (called from plain-C checkers); gives up on a pending interrupt. */
bool
bb_suppressions_cover(bb_suppressions *s, const char *rule, int line)
{
	int			lo = 0;
	int			hi;
	int			k;
	uint32		best = PG_UINT32_MAX;
	sup_rule   *best_rule = NULL;
	size_t		rlen = strlen(rule);
	long		steps = 0;

	if (s == NULL || s->nranges == 0)
		return false;
	/* the last range starting on or before the line */
	hi = s->nranges - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s->ranges[mid].lo <= line)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	/* earlier ones while some may still reach the line; the first comment wins */
	for (k = hi; k >= 0 && s->maxhi[k] >= line; k--)
	{
		if ((++steps & 4095) == 0 && INTERRUPTS_PENDING_CONDITION())
			break;
		if (s->ranges[k].hi >= line && s->ranges[k].sup < best)
		{
			sup_rule   *sr = names_rule(s, s->ranges[k].sup, rule, rlen);

			if (sr)
			{
				best = s->ranges[k].sup;
				best_rule = sr;
			}
		}
	}
	if (best_rule == NULL)
		return false;
	best_rule->used = true;
	return true;
}

/* Calls fn for each rule name of a comment that suppressed nothing, in script order. */
void
bb_suppressions_unused(bb_suppressions *s, bb_unused_fn fn, void *arg)
{
	int			j;
	uint32		r;

	if (s == NULL)
		return;
	for (j = 0; j < s->nsups; j++)
		for (r = 0; r < s->sups[j].nrules; r++)
		{
			sup_rule   *sr = &s->rules[s->sups[j].first_rule + r];

			if (!sr->used)
				fn(arg, s->sups[j].line, s->script + sr->off, (int) sr->len);
		}
}
