/*
 * split_lex.c — standalone tests (no server) of the statement splitter and
 * the shared lexer: each lexical rule of each dialect gives the expected
 * statements, and the checkers' tokenizer (token.c) agrees with the splitter
 * on hand-written and generated scripts.  TAP output; built with ASan/UBSan
 * by test/unit/run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "review.h"
#include "token.h"

static int	ntest;
static int	nfail;

#define PG BB_DIALECT_POSTGRES
#define MY BB_DIALECT_MYSQL
#define TI BB_DIALECT_TIDB
#define CH BB_DIALECT_CLICKHOUSE
#define SF BB_DIALECT_SNOWFLAKE

/* One case: the script and its statements joined by '|', each followed by
 * " [U]" (uncertain), " [Q]" (unterminated quote), " [D]" (dollar),
 * " [C]" (comment) or " [B]" (bad DELIMITER) when it has an error. */
typedef struct split_case
{
	bb_dialect	d;
	const char *script;
	const char *expect;
	const char *what;
} split_case;

static const split_case cases[] = {
	/* PostgreSQL: scan.l */
	{PG, "SELECT 1; -- x\rCOMMIT; DROP TABLE victim;\n", "SELECT 1|COMMIT|DROP TABLE victim",
	"postgres: -- ends at \\r (the review bypass)"},
	{PG, "SELECT 1 -- a;\r\n; SELECT 2", "SELECT 1|SELECT 2", "postgres: -- ends at \\r\\n"},
	{PG, "SELECT 1 +-- c;\n+ 2; SELECT 3", "SELECT 1 +-- c;\n+ 2|SELECT 3",
	"postgres: an operator stops where -- starts"},
	{PG, "SELECT 2 */* c; */ 3; SELECT 4", "SELECT 2 */* c; */ 3|SELECT 4",
	"postgres: an operator stops where slash-star starts"},
	{PG, "/* a /* b; */ c; */ SELECT 1; SELECT 2 */ 3", "SELECT 1|SELECT 2 */ 3",
	"postgres: comments nest"},
	{PG, "SELECT a$b$ ; SELECT $1$x$ ; $x$ ; SELECT 1$a$ ; $a$",
		"SELECT a$b$|SELECT $1$x$ ; $x$|SELECT 1$a$ ; $a$",
	"postgres: a$b$ is a name, $1 a parameter, 1 then a dollar quote"},
	{PG, "SELECT $a$ $b$ ; $a$; SELECT $$;$$", "SELECT $a$ $b$ ; $a$|SELECT $$;$$",
	"postgres: dollar tags"},
	{PG, "SELECT E'\\''; SELECT 'a\\'; SELECT e'\\\\'; SELECT 2",
		"SELECT E'\\''|SELECT 'a\\'|SELECT e'\\\\'|SELECT 2",
	"postgres: E'' has backslash escapes, '' has not (standard_conforming_strings on)"},
	{PG, "SELECT U&'a;b', U&\"c;\"\"d\", B'0;1', X'F;F', N'x;''y'; SELECT 2",
		"SELECT U&'a;b', U&\"c;\"\"d\", B'0;1', X'F;F', N'x;''y'|SELECT 2",
	"postgres: U&'' U&\"\" B'' X'' N''"},
	{PG, "SELECT 1\v; SELECT 2", "SELECT 1\v|SELECT 2", "postgres 15: \\v is not white space"},
	{PG, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
		"SELECT CASE WHEN true THEN 2 END; END; SELECT 3",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
		"SELECT CASE WHEN true THEN 2 END; END|SELECT 3", "postgres: BEGIN ATOMIC body"},
	{PG, "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN /* c */ ATOMIC SELECT 1 AS end; "
		"SELECT t.end FROM t; END; SELECT 3",
		"CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN /* c */ ATOMIC SELECT 1 AS end; "
		"SELECT t.end FROM t; END|SELECT 3", "postgres: END after AS or '.' is a name"},
	{PG, "CREATE TABLE begin (atomic int); DROP TABLE x", "CREATE TABLE begin (atomic int)|DROP TABLE x",
	"postgres: BEGIN ATOMIC only in CREATE FUNCTION/PROCEDURE"},
	{PG, "SET standard_conforming_strings = off; SELECT 'a\\'; DROP TABLE t; --'",
		"SET standard_conforming_strings = off [U]|SELECT 'a\\'|DROP TABLE t",
	"postgres: turning standard_conforming_strings off is uncertain"},
	{PG, "SET standard_conforming_strings = on; SET client_encoding TO 'UTF8'; RESET client_encoding; "
		"SET NAMES 'sjis'; SELECT set_config('client_encoding', 'SJIS', false)",
		"SET standard_conforming_strings = on|SET client_encoding TO 'UTF8'|RESET client_encoding|"
		"SET NAMES 'sjis' [U]|SELECT set_config('client_encoding', 'SJIS', false) [U]",
	"postgres: client encodings other than UTF8 are uncertain"},
	{PG, "SELECT 1; SELECT 'abc", "SELECT 1|SELECT 'abc [Q]", "postgres: unterminated quote"},
	{PG, "SELECT 1; SELECT $x$ abc", "SELECT 1|SELECT $x$ abc [D]", "postgres: unterminated dollar quote"},
	{PG, "SELECT 1; SELECT /* a /* b */", "SELECT 1|SELECT /* a /* b */ [C]",
	"postgres: unterminated nested comment"},

	/* MySQL 8 / MariaDB 10.11: sql_lex.cc */
	{MY, "SELECT 1 -- x\rDROP TABLE t;\nSELECT 2", "SELECT 1 -- x\rDROP TABLE t;\nSELECT 2",
	"mysql: -- ends at \\n only"},
	{MY, "SELECT 1--x; SELECT 2", "SELECT 1--x|SELECT 2", "mysql: -- needs white space after it"},
	{MY, "SELECT 1 --\x01x; DROP TABLE t\n; SELECT 2", "SELECT 1|SELECT 2",
	"mysql: -- before a control byte is a comment"},
	{MY, "SELECT 1 --\xc3\xa9; SELECT 2", "SELECT 1 --\xc3\xa9 [U]|SELECT 2",
	"mysql: -- before a non-ASCII byte is uncertain"},
	{MY, "SELECT 1 # c; DROP TABLE t\n; SELECT 2", "SELECT 1|SELECT 2", "mysql: # comments"},
	{MY, "SELECT 1e-- x; y\n, 2; SELECT 3", "SELECT 1e-- x; y\n, 2|SELECT 3",
	"mysql: 1e is a name, then a comment"},
	{MY, "SELECT 1.5e'a;b'; SELECT 2", "SELECT 1.5e'a|b'; SELECT 2 [Q]",
	"mysql: after 1.5e a quote is one character"},
	{MY, "SELECT 'a\\';b', \"c\\\";d\", 'e'';f', `g``;h`, `i\\`; SELECT 2",
		"SELECT 'a\\';b', \"c\\\";d\", 'e'';f', `g``;h`, `i\\`|SELECT 2",
	"mysql: quotes with backslashes and doubling, backticks doubling only"},
	{MY, "SELECT 1 /* a /* b; */ c; SELECT 2", "SELECT 1 /* a /* b; */ c|SELECT 2",
	"mysql: comments do not nest"},
	{MY, "UPDATE t SET a=1 /*!99999 WHERE id=1 */", "UPDATE t SET a=1 /*!99999 WHERE id=1 */ [U]",
	"mysql: /*!99999 is uncertain"},
	{MY, "SELECT 1 /*!50700 , 2 */; SELECT 1 /*!100000 , 2 */; SELECT 1 /*!50699 , 2 */; "
		"SELECT 1 /*! , 2 */",
		"SELECT 1 /*!50700 , 2 */ [U]|SELECT 1 /*!100000 , 2 */ [U]|SELECT 1 /*!50699 , 2 */|"
		"SELECT 1 /*! , 2 */", "mysql: versioned comments MariaDB and MySQL both run are certain"},
	{MY, "/*!40101 SET NAMES utf8mb4 */;\nSELECT 1 /*! , 2 /* c; */ , 3 */; SELECT 4",
		"/*!40101 SET NAMES utf8mb4 */|SELECT 1 /*! , 2 /* c; */ , 3 */|SELECT 4",
	"mysql: executable comments are code, a comment inside one ends at its own end"},
	{MY, "SELECT 1 /*M!100000 , 2 */; SELECT 1 /*T! , 2 */", "SELECT 1 /*M!100000 , 2 */ [U]|SELECT 1",
	"mysql: /*M! is uncertain, /*T! a comment"},
	{MY, "SELECT /*+ SET_VAR(sort_buffer_size = '16M') */ 1; SELECT /*+ BKA(t) */ 2",
		"SELECT /*+ SET_VAR(sort_buffer_size = '16M') */ 1 [U]|SELECT /*+ BKA(t) */ 2",
	"mysql: quotes in optimizer hints are uncertain"},
	{MY, "SELECT 1 /*! , 2", "SELECT 1 /*! , 2 [C]", "mysql: unterminated executable comment"},
	{MY, "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 2",
		"CREATE PROCEDURE p() BEGIN SELECT 1; END|SELECT 2", "mysql: DELIMITER $$ and END$$"},
	{MY, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF 1 THEN SET @a = 1; END IF; END; "
		"SELECT 2", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF 1 THEN SET @a = 1; "
		"END IF; END|SELECT 2", "mysql: compound bodies without DELIMITER"},
	{MY, "DELIMITER\nSELECT 1", "DELIMITER [B]|SELECT 1", "mysql: bad DELIMITER"},
	{MY, "SET sql_mode = 'ANSI_QUOTES'; SET SESSION sql_mode = 'TRADITIONAL'; SELECT \"a\"",
		"SET sql_mode = 'ANSI_QUOTES' [U]|SET SESSION sql_mode = 'TRADITIONAL'|SELECT \"a\"",
	"mysql: sql_mode ANSI_QUOTES is uncertain"},
	{MY, "SET NAMES sjis; SET NAMES utf8mb4; SET character_set_client = 'gbk'; "
		"CREATE TABLE t (a text CHARACTER SET sjis)",
		"SET NAMES sjis [U]|SET NAMES utf8mb4|SET character_set_client = 'gbk' [U]|"
		"CREATE TABLE t (a text CHARACTER SET sjis)", "mysql: client character sets with ASCII trail bytes"},

	/* TiDB: lexer.go */
	{TI, "SELECT 1 /*T![clustered_index] , 2 */; SELECT 1 /*T![future_x] , 2 */; SELECT 1 /*M! , 2 */",
		"SELECT 1 /*T![clustered_index] , 2 */|SELECT 1 /*T![future_x] , 2 */ [U]|SELECT 1",
	"tidb: /*T! features, /*M! is a comment"},
	{TI, "SELECT 1 /*!99999 , 2 */; SELECT 1 --\x01x; SELECT 2",
		"SELECT 1 /*!99999 , 2 */|SELECT 1 --\x01x|SELECT 2",
	"tidb: /*! always runs, -- needs white space"},

	/* ClickHouse: Lexer.cpp (18.16 and current) */
	{CH, "SELECT 1 // c; x\n; SELECT 2", "SELECT 1|SELECT 2", "clickhouse: // comments"},
	{CH, "SELECT 1 -- x\r; SELECT 2\n; SELECT 3", "SELECT 1|SELECT 3", "clickhouse: -- ends at \\n only"},
	{CH, "SELECT `a\\`;b`; SELECT \"c\\\";d\"; SELECT 'e\\';f'; SELECT 4",
		"SELECT `a\\`;b`|SELECT \"c\\\";d\"|SELECT 'e\\';f'|SELECT 4",
	"clickhouse: backslash escapes in every quote"},
	{CH, "SELECT 1 /* a /* b */ c */; SELECT 2", "SELECT 1 /* a /* b */ c */ [U]|SELECT 2",
	"clickhouse: nested comments are uncertain (18.16 does not nest)"},
	{CH, "SELECT 1 # c;\n; SELECT 1 #c; SELECT 2", "SELECT 1|SELECT 1 #c|SELECT 2",
	"clickhouse: '# ' comments only"},
	{CH, "SELECT $a$;$a$; SELECT $b; SELECT 1$x$;$x$", "SELECT $a$;$a$|SELECT $b|SELECT 1$x$;$x$",
	"clickhouse: heredocs"},

	/* Snowflake: documentation */
	{SF, "SELECT $$a;b$$; // c;\nSELECT 'x\\';y'; SELECT \"a\"\"b;\"", "SELECT $$a;b$$|SELECT 'x\\';y'|SELECT \"a\"\"b;\"",
	"snowflake: $$, //, backslash strings, doubled identifiers"},
	{SF, "SELECT 1 -- x\rSELECT 2;\nSELECT 3; SELECT 4", "SELECT 1 -- x\rSELECT 2;\nSELECT 3 [U]|SELECT 4",
	"snowflake: a lone \\r in a line comment is uncertain"},
};

/* The statements of a script in the format of split_case.expect. */
static char *
describe(bb_dialect d, const char *script)
{
	bb_stmt_span *sp = NULL;
	int			n = bb_split(d, script, strlen(script), &sp);
	size_t		cap = strlen(script) * 2 + 64;
	char	   *out = malloc(cap);
	size_t		o = 0;
	int			k;

	out[0] = '\0';
	for (k = 0; k < n; k++)
	{
		static const char *const mark[] = {"", " [Q]", " [D]", " [C]", " [B]", " [U]"};

		o += (size_t) snprintf(out + o, cap - o, "%s%.*s%s", k ? "|" : "",
							   (int) (sp[k].end - sp[k].start), script + sp[k].start,
							   mark[sp[k].error]);
	}
	free(sp);
	return out;
}

static void
ok(int cond, const char *what)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ntest, what);
}

/* Significant lexer tokens of s[from, to) lexed as a whole script of length len. */
static int
lex_tokens(bb_dialect d, const char *s, size_t len, size_t from, size_t to, size_t *starts, int max)
{
	bb_lexer	lx;
	bb_lex_token t;
	int			n = 0;

	bb_lex_init(&lx, d, s, len);
	bb_lex_seek(&lx, from);
	while (lx.pos < to)
	{
		bb_lex_next(&lx, &t);
		if (t.kind == BB_LEX_EOF)
			break;
		if (t.kind == BB_LEX_SPACE || t.kind == BB_LEX_COMMENT ||
			t.kind == BB_LEX_EXEC_OPEN || t.kind == BB_LEX_EXEC_CLOSE)
			continue;
		if (n < max)
			starts[n] = t.start;
		n++;
	}
	return n;
}

/* token.c and split.c agree: each statement's tokens are the lexer's tokens
 * of that statement (lexed alone, as the server gets it), inside it. */
static int
agrees(bb_dialect d, const char *script)
{
	size_t		len = strlen(script);
	bb_stmt_span *sp = NULL;
	int			n = bb_split(d, script, len, &sp);
	int			k,
				good = 1;

	for (k = 0; k < n && good; k++)
	{
		bb_cursor	cur;
		bb_tokens	toks = {NULL, 0, 0};
		size_t		want[512];
		int			nw,
					i;

		if (sp[k].error != BB_SPLIT_OK && sp[k].error != BB_SPLIT_UNCERTAIN)
			continue;
		bb_cursor_init(&cur, script, len);
		if (bb_tokenize(d, &cur, sp[k].start, sp[k].end, &toks) < 0)
			return 0;
		nw = lex_tokens(d, script, sp[k].end, sp[k].start, sp[k].end, want, 512);
		if (nw != toks.n)
			good = 0;
		for (i = 0; good && i < toks.n && i < 512; i++)
			if (toks.v[i].p != script + want[i] || toks.v[i].p + toks.v[i].len > script + sp[k].end ||
				toks.v[i].unterminated)
				good = 0;
		bb_tokens_free(&toks);
	}
	free(sp);
	return good;
}

/* A generated script from pieces that stress every dialect's rules. */
static void
generate(unsigned *seed, char *buf, size_t cap)
{
	static const char *const pieces[] = {
		" ", "\n", "\r", "\t", ";", ";", "--", "-- ", "#", "# ", "//", "/*", "*/", "/*!", "/*!50000",
		"/*+", "'", "\"", "`", "\\", "''", "$$", "$a$", "$1", "a$b", "E'", "x", "1", "1e", "1.5e", ".",
		"SELECT", "BEGIN", "ATOMIC", "END", "CASE", "CREATE FUNCTION f() ", "CREATE PROCEDURE p() ",
		"(", ")", "@", "@@", "?", ":", "é", "\x01", "DELIMITER //\n", "DELIMITER ;\n", "//",
	};
	size_t		n = 0;
	int			parts = 1 + (int) ((*seed = *seed * 1103515245u + 12345u) >> 16) % 30;

	while (parts-- > 0)
	{
		const char *p;
		size_t		l;

		*seed = *seed * 1103515245u + 12345u;
		p = pieces[(*seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
		l = strlen(p);
		if (n + l + 1 >= cap)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	buf[n] = '\0';
}

int
main(void)
{
	size_t		k;
	unsigned	seed = 12345;
	int			d,
				bad;
	char		buf[512];

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		char	   *got = describe(cases[k].d, cases[k].script);
		int			same = strcmp(got, cases[k].expect) == 0;

		ok(same, cases[k].what);
		if (!same)
			printf("#   expected: %s\n#   got:      %s\n", cases[k].expect, got);
		ok(agrees(cases[k].d, cases[k].script), "tokenizer agrees with the splitter");
		free(got);
	}

	/* uncertain statements name their reason */
	{
		size_t		at = 0;
		const char *s = "SELECT 1;\nUPDATE t SET a=1 /*!99999 WHERE id=1 */";
		const char *why = bb_split_uncertain_reason(MY, s, strlen(s), 0, &at);

		ok(why != NULL && strstr(why, "versioned comment") != NULL && at == 27,
		   "the reason of an uncertain split names the construct and its place");
	}

	/* generated scripts: tokenizer and splitter agree in every dialect */
	for (d = 0; d <= BB_DIALECT_SNOWFLAKE; d++)
	{
		int			i;

		bad = 0;
		for (i = 0; i < 20000; i++)
		{
			generate(&seed, buf, sizeof(buf));
			if (!agrees((bb_dialect) d, buf))
			{
				if (bad++ == 0)
					printf("#   disagreement on: %s\n", buf);
			}
		}
		ok(bad == 0, "20000 generated scripts: tokenizer and splitter agree");
	}
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
