/*
 * split_diff.c — differential fuzzing of the PostgreSQL statement splitter
 * against the server's own scanner.  Generates adversarial scripts (\r and \n,
 * line and nested comments, E'' with \', U&'', B'' X'' N'', dollar tags $a$,
 * $1, a$b$, operators such as +-- and star-slash, BEGIN ATOMIC bodies, control
 * and multi-byte characters) and asks bb_split_check (C function of bytebase.so,
 * declared here as a temporary function) whether bb_split agrees with the
 * server.  A lexical error of the server's scanner is fine (the script would
 * fail anyway); any disagreement is a failure that prints the input.
 *
 * Usage: split_diff SECONDS [SEED]   (connection from PG* variables;
 *        BB_SPLITDIFF_RANDOM_ONLY=1 skips the fixed inputs, to measure what
 *        the generator alone finds; BB_SPLITDIFF_VERBOSE=1 prints every
 *        verdict on stderr)
 * Output: TAP lines; exit 1 on a disagreement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpq-fe.h"

#define BATCH 100
#define MAXLEN 4096

static unsigned long long rng;
static long ncertain;			/* verdicts: the split is certain */
static long nbody;				/* BEGIN ATOMIC statements the grammar confirmed */

/* xorshift64*: reproducible from the printed seed. */
static unsigned
rnd(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned) ((rng * 2685821657736338717ULL) >> 33) % (n ? n : 1);
}

/* Pieces the scripts are made of: each one exercises a lexical rule of scan.l. */
static const char *const frags[] = {
	" ", " ", " ", "\n", "\r", "\r\n", "\t", "\f", "\v", ";", ";", ";", ";",
	"--", "-- c", "--\r", "/*", "*/", "/* c */", "/*/", "/**/", "**/", "/* /* */ */",
	"'", "'", "''", "'a'", "'a;b'", "E'", "e'", "E'\\''", "\\'", "\\", "\\\\", "U&'", "U&\"", "u&",
	"B'", "X'", "N'", "b'01'", "x'1F'", "n'x'",
	"\"", "\"\"", "\"a\"", "\"a;b\"",
	"$$", "$$", "$a$", "$a$", "$A$", "$_$", "$a1$", "$1", "$12", "a$b$", "$a", "$", "$é$", "$1$a$",
	"+", "-", "+--", "-+-", "*", "/", "*/", "/*", "<>", "!=", "||", "::", "=", "@", "#", "~", "%",
	"^", "&", "|", "`", "?", "!", "+/*", "*--", "@-", "=>",
	"1", "1.5", "1e5", "1e", "1e+", ".5", "1..2", "0x1F", "1_000", "1a", "5$",
	"SELECT", "select 1", "x", "e", "E", "u", "U", "b", "n", "t.x", "(", ")", ",", ".", "[", "]",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql ", "BEGIN", "ATOMIC", "BEGIN ATOMIC ",
	"END", "END;", "CASE", "WHEN", "THEN", "AS", "END CASE",
	"é", "日本", "\xc2\xa0", "\x01", "\x1b", "\x7f", "\xe2\x80\xa8",
	"COMMIT", "DROP TABLE victim", "UESCAPE '!'",
};

/* Complete lexemes: scripts made of these are lexically valid, so the whole
 * comparison runs (not only the part before a lexical error). */
static const char *const lexemes[] = {
	" ", "\n", "\r", "\r\n", "\t", "\f", ";", ";", ";", "-- c ; x\r", "-- c ; x\n", "--\r", "--;\n",
	"/* c ; */", "/* a /* b ; */ c ; */", "/**/", "/*/ ; */", "/* ' */", "/* -- */",
	"'a;b'", "''", "'it''s;'", "'\\'", "E'\\'; x'", "e'\\\\'", "E'a\\nb'", "U&'a;b'", "U&\"a;\"", "B'01'", "X'1F'",
	"N';'", "'a'\n'b'", "'a' -- c\n'b'", "\"x;y\"", "\"a\"\"b\"",
	"$$;$$", "$a$ ; $b$ ; $a$", "$_$$_$", "$1", "$1$x$;$x$", "a$b$", "x$y", "1$a$;$a$",
	"+", "-", "+-- c;\n", "*", "/", "*/", "<>", "!=", "||", "::", "=", "@", "#", "~", "%", "^", "&",
	"|", "`", "?", "+/* ; */", "*--;\n", "=>", "(", ")", ",", ".", "[", "]",
	"1", "1.5", "1e5", ".5", "1..2", "SELECT", "x", "e", "E", "u", "U&", "b", "t.x", "é", "日本",
	"BEGIN", "ATOMIC", "END", "CASE", "WHEN", "THEN", "AS", "COMMIT", "DROP TABLE victim",
};

/* Bodies that the grammar accepts, so the BEGIN ATOMIC check gets exercised. */
static const char *const bodies[] = {
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
	"CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS \"end\"; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT t.end FROM t; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN /* c */ ATOMIC SELECT 1 AS end; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 end; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END end; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN CASE WHEN false THEN 1 END END; END",
	"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; END",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1",
};

/* Fixed regression inputs: every lexical rule once, each run. */
static const char *const fixed[] = {
	"SELECT 1; -- x\rCOMMIT; DROP TABLE victim;\n",
	"SELECT 1 +-- c\n; SELECT 2",
	"SELECT a$b$ ; SELECT $1$x$ ; $x$ ; SELECT 1$a$ ; $a$",
	"SELECT E'\\''; SELECT 'a\\'; SELECT 2",
	"SELECT U&'\\0041'; SELECT U&\"a\"\"b\"",
	"SELECT B'01', X'1F', N'x'; SELECT 1",
	"/* a /* b; */ c; */ SELECT 1; SELECT */ 2",
	"SELECT 1 */; SELECT 2 /*/ ; */",
	"SELECT 'a'\n'b'; SELECT 'a' -- c\n'b'",
	"SELECT 1\v; SELECT 2",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 end; END; SELECT 2",
	"SELECT $$a;$$; SELECT $_$;$_$",
	"SELECT \"a;\"\"b\"; SELECT 1",
};

/* A random script into buf (NUL-terminated, valid UTF-8). */
static void
generate(char *buf, size_t cap)
{
	size_t		n = 0;
	unsigned	parts = 1 + rnd(40);
	unsigned	k;
	int			valid = rnd(2);		/* half the scripts from complete lexemes only */

	buf[0] = '\0';
	if (rnd(4) == 0)
	{
		const char *b = bodies[rnd(sizeof(bodies) / sizeof(bodies[0]))];

		n = strlen(b) < cap - 1 ? strlen(b) : 0;
		memcpy(buf, b, n);
		if (n + 1 < cap)
			buf[n++] = rnd(2) ? ';' : ' ';
	}
	for (k = 0; k < parts; k++)
	{
		const char *f;
		char		one[2];
		size_t		l;

		if (!valid && rnd(8) == 0)
		{
			one[0] = (char) (1 + rnd(126));
			one[1] = '\0';
			f = one;
		}
		else if (rnd(10) == 0)
			f = bodies[rnd(sizeof(bodies) / sizeof(bodies[0]))];
		else if (valid)
			f = lexemes[rnd(sizeof(lexemes) / sizeof(lexemes[0]))];
		else
			f = frags[rnd(sizeof(frags) / sizeof(frags[0]))];
		l = strlen(f);
		if (n + l + 2 >= cap)
			break;
		memcpy(buf + n, f, l);
		n += l;
		if (rnd(3) < (valid ? 2u : 1u))
			buf[n++] = (valid && rnd(4) == 0) ? ';' : ' ';
	}
	buf[n] = '\0';
}

/* Prints a script as a C string literal on one line. */
static void
print_escaped(const char *s)
{
	printf("#   input: \"");
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x\"\"", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

/* Acceptable verdicts: agreement (NULL) or the server itself rejecting the text. */
static int
acceptable(const char *verdict)
{
	return verdict == NULL ||
		strstr(verdict, "the server's scanner rejects the script") != NULL ||
		strstr(verdict, "cannot verify where a BEGIN ATOMIC body ends") != NULL ||
		strstr(verdict, "changes standard_conforming_strings") != NULL;
}

/* Checks one batch; returns the number of disagreements (printed). */
static int
check_batch(PGconn *conn, char scripts[][MAXLEN], int n)
{
	char		sql[BATCH * 40 + 200];
	const char *params[BATCH];
	size_t		o;
	int			k,
				bad = 0;
	PGresult   *res;

	o = (size_t) snprintf(sql, sizeof(sql), "SELECT x.i, pg_temp.split_check(x.s, 'postgres') FROM (VALUES ");
	for (k = 0; k < n; k++)
	{
		o += (size_t) snprintf(sql + o, sizeof(sql) - o, "%s(%d, $%d::text)", k ? "," : "", k, k + 1);
		params[k] = scripts[k];
	}
	snprintf(sql + o, sizeof(sql) - o, ") x(i, s)");
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		printf("not ok - split_diff: query failed: %s", PQerrorMessage(conn));
		for (k = 0; k < n; k++)
			print_escaped(scripts[k]);
		PQclear(res);
		return n ? n : 1;
	}
	for (k = 0; k < PQntuples(res); k++)
	{
		const char *v = PQgetisnull(res, k, 1) ? NULL : PQgetvalue(res, k, 1);
		int			i = atoi(PQgetvalue(res, k, 0));

		if (v != NULL && getenv("BB_SPLITDIFF_VERBOSE") != NULL)
			fprintf(stderr, "%s\n", v);
		if (v == NULL)
		{
			ncertain++;
			if (strstr(scripts[i], "ATOMIC") != NULL)
				nbody++;
		}
		if (!acceptable(v))
		{
			bad++;
			printf("#   disagreement: %s\n", v);
			print_escaped(scripts[i]);
		}
	}
	PQclear(res);
	return bad;
}

int
main(int argc, char **argv)
{
	static char scripts[BATCH][MAXLEN];
	int			secs = argc > 1 ? atoi(argv[1]) : 20;
	unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 10) : (unsigned long long) time(NULL);
	PGconn	   *conn = PQconnectdb("");
	PGresult   *res;
	time_t		stop;
	long		total = 0;
	int			bad = 0;
	int			k;

	rng = seed ? seed : 88172645463325252ULL;
	if (PQstatus(conn) != CONNECTION_OK)
	{
		printf("not ok 1 - split_diff: cannot connect: %s", PQerrorMessage(conn));
		return 1;
	}
	res = PQexec(conn, "SET client_min_messages = warning; "
				 "CREATE FUNCTION pg_temp.split_check(text, text) RETURNS text LANGUAGE c "
				 "AS '$libdir/bytebase', 'bb_split_check'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		printf("not ok 1 - split_diff: cannot declare the check: %s", PQerrorMessage(conn));
		return 1;
	}
	PQclear(res);

	/* the fixed inputs first */
	if (getenv("BB_SPLITDIFF_RANDOM_ONLY") == NULL)
	{
		for (k = 0; k < (int) (sizeof(fixed) / sizeof(fixed[0])); k++)
			snprintf(scripts[k], MAXLEN, "%s", fixed[k]);
		bad += check_batch(conn, scripts, k);
		total += k;
	}

	stop = time(NULL) + secs;
	while (bad == 0 && time(NULL) < stop)
	{
		for (k = 0; k < BATCH; k++)
			generate(scripts[k], MAXLEN);
		bad += check_batch(conn, scripts, BATCH);
		total += BATCH;
	}
	PQfinish(conn);
	if (bad)
	{
		printf("not ok 1 - split_diff: %d disagreement(s) with the server's scanner in %ld scripts (seed %llu)\n",
			   bad, total, seed);
		return 1;
	}
	printf("ok 1 - split_diff: the server's scanner agrees with bb_split on %ld scripts "
		   "(%ld certain, %ld of them with BEGIN ATOMIC; the rest rejected by the server; seed %llu, %d s)\n",
		   total, ncertain, nbody, seed, secs);
	return 0;
}
