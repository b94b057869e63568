/*
 * review_guard.c — standalone tests (no server) of what keeps review safe on
 * hostile input: the regex safety check and escaping, clipped messages,
 * interrupt polls in every plain-C checker, findings for checks that cannot
 * run (unsafe stored formats, oversized statements).  TAP output; built with
 * ASan/UBSan by test/unit/run.sh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "regex_engine.h"
#include "tap.h"

static const char *
first_msg(const char *rule)
{
	int			k;

	for (k = 0; k < T.n; k++)
		if (strcmp(T.f[k].rule, rule) == 0)
			return T.f[k].msg;
	return "";
}

static const char *
dialect_name(bb_dialect d)
{
	return d == BB_DIALECT_MYSQL ? "MySQL" : d == BB_DIALECT_TIDB ? "TiDB" :
		d == BB_DIALECT_CLICKHOUSE ? "ClickHouse" : "Snowflake";
}

/* ---- the safety check --------------------------------------------------- */

static void
regex_safety(void)
{
	static const char *const safe[] = {
		"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", "_del$", "^$|^idx_t_a$",
		"^([a-z]+_)*[a-z]+$", "^(ab)+$", "^((ab)+c)*$", "^[a-z]{1,63}$", "^x{3}$", "^(a|b)*$",
		"^(a[0-9])+$", "^pk_\\(\\)\\*$", "^[[:alpha:]_][[:alnum:]_]*$", "()", "^()?x$", "a}b]",
		"^[^_][a-z]*$", "^\xc3\xa9[a-z]+$", "", NULL
	};
	static const char *const unsafe[] = {
		"(|)(\\1\\1)*", "(a+)+", "(a|a)*", "(a|ab)+", "(a*)*", "(a?)+", "([a-z]+)*", "(a[a-z]*)*",
		"(x+x+)+y", "\\1", "a\\d", "\\w+", "***:(a)\\1", "(?:a)", "(?=a)", "*a", "a**", "a+*", "^*",
		"a{1000}", "(a{1,255}){1,255}", "(ab{255}){255}", "a{2,1}", "a{,3}", "a{x}", "{1}",
		"[[.a.]]", "[[=a=]]", "[[:nope:]]", "[z-a]", "[a-", "(a", "a)", "a|", "|a", "(a||b)",
		"a\\", "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
		"([^é]+ü)*", NULL
	};
	char		err[256];
	char		big[BB_REGEX_MAX_PATTERN + 2];
	int			k;

	for (k = 0; safe[k]; k++)
		ok(bb_regex_safe(safe[k], err, sizeof(err)) == 0 && bb_regex_check(safe[k], err, sizeof(err)) == 0,
		   "safe pattern accepted: %s (%s)", safe[k], err);
	for (k = 0; unsafe[k]; k++)
	{
		int			rc = bb_regex_check(unsafe[k], err, sizeof(err));

		ok(rc == BB_REGEX_INVALID && err[0] != '\0', "unsafe pattern refused: %s (%s)", unsafe[k], err);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(bb_regex_check(big, err, sizeof(err)) == BB_REGEX_INVALID && strstr(err, "longer") != NULL,
	   "a pattern over %d bytes is refused (%s)", BB_REGEX_MAX_PATTERN, err);
	ok(bb_regex_match("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!") == BB_REGEX_INVALID &&
	   bb_regex_last_error()[0] != '\0', "bb_regex_match refuses an unsafe pattern too (%s)", bb_regex_last_error());
	ok(bb_regex_match("^[a-z]+$", "abc") == BB_REGEX_MATCH && bb_regex_match("^[a-z]+$", "aBc") == BB_REGEX_NOMATCH,
	   "safe patterns match as POSIX EREs");
}

/* Names with metacharacters, escaped, match only themselves. */
static void
regex_escaping(void)
{
	static const char *const names[] = {
		"(|)(\\1\\1)*", "(a+)+$", "a.b", "x{2}", "[a-z]", "^$|", "back\\slash", "", "plain_name", NULL
	};
	int			k;

	for (k = 0; names[k]; k++)
	{
		char	   *esc = bb_regex_escape(names[k]);
		char		pat[512];
		char		err[256];

		snprintf(pat, sizeof(pat), "^%s$", esc ? esc : "");
		ok(esc != NULL && bb_regex_check(pat, err, sizeof(err)) == 0 &&
		   bb_regex_match(pat, names[k]) == BB_REGEX_MATCH &&
		   (names[k][0] == '\0' || bb_regex_match(pat, "zz") == BB_REGEX_NOMATCH),
		   "escaped name %s is a safe literal pattern %s (%s)", names[k], pat, err);
		free(esc);
	}
}

/* ---- clipped formatting ------------------------------------------------- */

static size_t
fmt(char *buf, size_t cap, size_t clip, const char *f,...)
{
	va_list		ap;
	size_t		n;

	va_start(ap, f);
	n = bb_vformat_clipped(buf, cap, clip, f, ap);
	va_end(ap);
	return n;
}

static void
clipping(void)
{
	char		buf[BB_CLIP_MESSAGE];
	char	   *huge = malloc(10u << 20);
	char		small[16];
	size_t		n;

	memset(huge, 'x', (10u << 20) - 1);
	huge[(10u << 20) - 1] = '\0';
	n = fmt(buf, sizeof(buf), BB_CLIP_NAME, "table \"%s\" does not match %s", huge, "^[a-z]+$");
	ok(n < 140 && strstr(buf, "xxx...\" does not match ^[a-z]+$") != NULL,
	   "a 10 MB name is clipped to %d bytes plus ... (%zu bytes)", BB_CLIP_NAME, n);
	fmt(buf, sizeof(buf), 5, "%s|%s", "h\xc3\xa9\xc3\xa9\xc3\xa9", "ab");
	ok(strcmp(buf, "h\xc3\xa9\xc3\xa9...|ab") == 0, "clipping never cuts a UTF-8 character (%s)", buf);
	fmt(buf, sizeof(buf), BB_CLIP_NAME, "%d %ld %zu %.3s %.*s %c %5d|%-4s|%% %u %x", -7, 123456789012L,
		(size_t) 42, "abcdef", 2, "xyz", 'q', 12, "ab", 7u, 255u);
	ok(strcmp(buf, "-7 123456789012 42 abc xy q    12|ab  |% 7 ff") == 0, "printf conversions (%s)", buf);
	n = fmt(small, sizeof(small), BB_CLIP_NAME, "%s and more", "0123456789abcdef");
	ok(n < sizeof(small) && strcmp(small + n - 3, "...") == 0, "a message longer than its buffer ends with ... (%s)", small);
	ok(strcmp(bb_clip(huge, 10, buf, sizeof(buf)), "xxxxxxxxxx...") == 0 && strcmp(bb_clip("ab", 10, buf, sizeof(buf)), "ab") == 0,
	   "bb_clip");
	fmt(buf, sizeof(buf), BB_CLIP_NAME, "%s", (const char *) NULL);
	ok(strcmp(buf, "(null)") == 0, "a NULL %%s argument");
	free(huge);
}

/* ---- checkers ----------------------------------------------------------- */

/* A script with many statements and a finding in each. */
static char *
many_statements(const char *stmt, int n, size_t *len)
{
	size_t		sl = strlen(stmt);
	char	   *s = malloc(sl * (size_t) n + 1);
	int			k;

	for (k = 0; k < n; k++)
		memcpy(s + sl * (size_t) k, stmt, sl);
	s[sl * (size_t) n] = '\0';
	*len = sl * (size_t) n;
	return s;
}

/* A pending interrupt stops every checker within a poll or two; nothing leaks. */
static void
interrupts(void)
{
	static const bb_dialect all[] = {BB_DIALECT_MYSQL, BB_DIALECT_TIDB, BB_DIALECT_CLICKHOUSE, BB_DIALECT_SNOWFLAKE};
	size_t		len;
	char	   *s = many_statements("SELECT * FROM t WHERE a = 1;\nCREATE TABLE Bad (a int, B int, c int);\n", 5000, &len);
	char	   *wide;
	int			di;

	for (di = 0; di < 4; di++)
	{
		long		total;

		T.interrupt_at = 0;
		run_len(all[di], s, len);
		total = T.total;
		T.interrupt_at = 100;
		run_len(all[di], s, len);
		ok(T.polls >= 100 && T.polls <= 102 && T.total < total / 10,
		   "%s: an interrupt stops the checker (polls %ld, %ld of %ld findings)", dialect_name(all[di]),
		   T.polls, T.total, total);
		T.interrupt_at = 1;
		run_len(all[di], s, len);
		ok(T.total == 0, "%s: interrupted before the first statement: no findings", dialect_name(all[di]));
	}
	free(s);

	/* one statement with 4,000 columns: polled inside the statement too */
	{
		size_t		n = 4000,
					k;

		wide = malloc(n * 12 + 64);
		strcpy(wide, "CREATE TABLE t (");
		len = strlen(wide);
		for (k = 0; k < n; k++)
			len += (size_t) sprintf(wide + len, "%sC%zu int", k ? ", " : "", k);
		strcpy(wide + len, ")");
		len++;
		for (di = 0; di < 4; di++)
		{
			if (all[di] == BB_DIALECT_TIDB)
				continue;
			T.interrupt_at = 50;
			run_len(all[di], wide, len);
			ok(T.polls >= 50 && T.polls < 100 && T.total < 500,
			   "%s: a 4,000-column statement is interrupted inside (polls %ld, findings %ld)",
			   dialect_name(all[di]), T.polls, T.total);
		}
		free(wide);
	}

	/* one INSERT of 500,000 rows: the MySQL parser polls too */
	{
		size_t		rows = 500000,
					k;
		char	   *big = malloc(rows * 4 + 64);

		strcpy(big, "INSERT INTO t (a) VALUES ");
		len = strlen(big);
		for (k = 0; k < rows; k++, len += 4)
			memcpy(big + len, "(1),", 4);
		memcpy(big + len - 1, ";", 2);
		T.interrupt_at = 0;
		run_len(BB_DIALECT_MYSQL, big, len);
		ok(T.polls > 50, "MySQL: a 500,000-row INSERT is polled while parsed (%ld polls)", T.polls);
		T.interrupt_at = 3;
		run_len(BB_DIALECT_MYSQL, big, len);
		ok(T.polls == 3 && T.total == 0, "MySQL: ... and stops inside the parser (%ld polls, %ld findings)",
		   T.polls, T.total);
		free(big);
	}
	T.interrupt_at = 0;
}

/* A stored format that is unsafe (or too complex for a name) never passes silently. */
static void
check_failed(void)
{
	static const bb_dialect all[] = {BB_DIALECT_MYSQL, BB_DIALECT_CLICKHOUSE, BB_DIALECT_SNOWFLAKE};
	static const bb_payload evil = {"(|)(\\1\\1)*", 0, 0, NULL, 0, NULL};
	static const bb_payload nested = {"^(a+)+$", 0, 0, NULL, 0, NULL};
	static const bb_payload with_name = {"^x{{table}}$", 0, 0, NULL, 0, NULL};
	int			di;

	for (di = 0; di < 3; di++)
	{
		T.override_id = "naming.table";
		T.override_pl = &evil;
		run(all[di], "CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int PRIMARY KEY);");
		ok(count(BB_RULE_CHECK_FAILED, 0) == 1 && strstr(first_msg(BB_RULE_CHECK_FAILED), "naming.table") != NULL,
		   "%s: a stored (|)(\\1\\1)* format gives a check-failed finding (%s)", dialect_name(all[di]),
		   first_msg(BB_RULE_CHECK_FAILED));
		T.override_pl = &nested;
		run(all[di], "CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int PRIMARY KEY);");
		ok(count(BB_RULE_CHECK_FAILED, 0) == 1, "%s: a stored (a+)+ format gives a check-failed finding",
		   dialect_name(all[di]));
		T.override_id = "table.drop-naming-convention";
		T.override_pl = &evil;
		run(all[di], "DROP TABLE t;");
		ok(count(BB_RULE_CHECK_FAILED, 0) == 1 && count("table.drop-naming-convention", 0) == 0,
		   "%s: an unsafe drop-naming format: check-failed, not a pass", dialect_name(all[di]));
	}
	/* a name of 10 kB in a template: the pattern gets too long */
	{
		char	   *s = malloc(10300);
		size_t		len;

		strcpy(s, "CREATE INDEX idx ON `");
		len = strlen(s);
		memset(s + len, 'q', 10000);
		len += 10000;
		len += (size_t) sprintf(s + len, "` (a);");
		T.override_id = "naming.index.idx";
		T.override_pl = &with_name;
		run_len(BB_DIALECT_MYSQL, s, len);
		ok(count(BB_RULE_CHECK_FAILED, 0) == 1 && strlen(first_msg(BB_RULE_CHECK_FAILED)) < 250,
		   "MySQL: a 10 kB table name in {{table}}: check-failed with a clipped message (%s)",
		   first_msg(BB_RULE_CHECK_FAILED));
		free(s);
	}
	T.override_id = NULL;
	T.override_pl = NULL;
}

/* A statement over bb_review_max_statement_size is reported, not parsed. */
static void
oversized(void)
{
	static const bb_dialect all[] = {BB_DIALECT_MYSQL, BB_DIALECT_CLICKHOUSE, BB_DIALECT_SNOWFLAKE};
	int			keep = bb_review_max_statement_size;
	size_t		len;
	char	   *s = many_statements("(1),", 5000, &len);
	char	   *script = malloc(len + 64);
	int			di;

	len = (size_t) sprintf(script, "INSERT INTO t VALUES %s(1);\nTRUNCATE TABLE t;", s);
	bb_review_max_statement_size = 4096;
	for (di = 0; di < 3; di++)
	{
		run_len(all[di], script, len);
		ok(count(BB_RULE_CHECK_FAILED, 0) == 1 && strstr(first_msg(BB_RULE_CHECK_FAILED), "not checked") &&
		   T.f[T.n - 1].line == 2,
		   "%s: a 20 kB statement over a 4 kB limit: check-failed, the next statement still checked",
		   dialect_name(all[di]));
	}
	bb_review_max_statement_size = keep;
	free(s);
	free(script);
}

/* The review's own outcomes are in no rule table: no policy can turn them off. */
static void
outcomes_are_not_rules(void)
{
	const bb_rule_def *const tables[] = {bb_rules_common, bb_rules_mysql, bb_rules_clickhouse, bb_rules_snowflake};
	const bb_rule_def *d;
	int			k,
				found = 0;

	for (k = 0; k < 4; k++)
		for (d = tables[k]; d && d->id; d++)
			if (strcmp(d->id, BB_RULE_CHECK_FAILED) == 0 || strcmp(d->id, BB_RULE_FINDINGS_TRUNCATED) == 0)
				found++;
	ok(found == 0, "review.check-failed and review.findings-truncated are in no rule table");
}

int
main(void)
{
	regex_safety();
	regex_escaping();
	clipping();
	interrupts();
	check_failed();
	oversized();
	outcomes_are_not_rules();
	return tap_done();
}
