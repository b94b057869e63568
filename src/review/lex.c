/*
 * lex.c — the lexer of every dialect (see lex.h).  One table says what each
 * dialect's scanner does; every branch below names the server rule it mirrors:
 *   scan.l    PostgreSQL 15 src/backend/parser/scan.l
 *   sql_lex   MySQL 8 sql/sql_lex.cc lex_one_token (MariaDB 10.11's is the same
 *             function; where they differ the text says "MariaDB")
 *   tidb      TiDB pkg/parser/lexer.go
 *   ch        ClickHouse src/Parsers/Lexer.cpp, 18.16 and current
 *   sf        Snowflake documentation (no server here to test against)
 *
 * Settings the executor pins at connect, so that one reading is right:
 *   PostgreSQL standard_conforming_strings = on: a plain '...' has no
 *     backslash escapes (only E'...' has them).
 *   MySQL/TiDB sql_mode without ANSI_QUOTES and NO_BACKSLASH_ESCAPES ("..." is a
 *     string, backslashes escape) and a client character set without ASCII
 *     trail bytes (utf8mb4).  A script that changes them is uncertain (split.c).
 *
 * Where servers or versions read the same text differently, the token carries
 * BB_SPLIT_UNCERTAIN and the reason: such a script is refused, not guessed.
 */
#include <string.h>

#include "lex.h"

enum dash_rule
{
	DASH_ALWAYS,				/* "--" always starts a comment */
	DASH_MYSQL,					/* only before white space or a control byte (sql_lex) */
	DASH_TIDB					/* only before white space (tidb startWithDash) */
};

enum hash_rule
{
	HASH_NONE,
	HASH_ALWAYS,				/* sql_lex: '#' is MY_LEX_COMMENT */
	HASH_SPACE_BANG				/* ch: "# " and "#!" only (current; 18.16 rejects '#') */
};

enum block_rule
{
	BLOCK_FLAT,					/* ends at the first star-slash */
	BLOCK_NESTED,				/* scan.l xc state with xcdepth */
	BLOCK_CH					/* nests in current ClickHouse, not in 18.16: nesting is uncertain */
};

enum exec_rule
{
	EXEC_NONE,
	EXEC_MYSQL,					/* slash-star-! is code on MySQL and MariaDB (versioned: see below) */
	EXEC_TIDB					/* slash-star-! always code, slash-star-T! feature comments */
};

enum quote_rule
{
	Q_OP,						/* not a quote in this dialect: an operator byte */
	Q_STRING,					/* string, doubled quote only */
	Q_STRING_BS,				/* string, doubled quote and backslash escapes */
	Q_IDENT,					/* quoted identifier, doubled quote only */
	Q_IDENT_BS					/* quoted identifier, doubled quote and backslash escapes */
};

enum dollar_rule
{
	DOLLAR_WORD,				/* '$' is an identifier byte (sql_lex, tidb) */
	DOLLAR_PG,					/* scan.l dolqdelim / param */
	DOLLAR_SF,					/* $$...$$ strings, $1 / $name variables */
	DOLLAR_CH					/* current ClickHouse heredocs $x$...$x$ */
};

enum number_rule
{
	NUM_PG,						/* scan.l integer/decimal/real, trailing junk is an error */
	NUM_MYSQL,					/* sql_lex MY_LEX_NUMBER_IDENT: 1abc is an identifier */
	NUM_CH,						/* ch: sign after e/p always taken, "1e-" is one number */
	NUM_SF
};

struct bb_lex_syntax
{
	unsigned char vtab_space;	/* \v is white space (scan.l of PostgreSQL 15: it is not) */
	unsigned char high_space;	/* tidb: bytes 0x85 and 0xA0 are white space (unicode.IsSpace) */
	unsigned char dash;
	unsigned char dash_ends_at_cr;	/* scan.l: newline is [\n\r] */
	unsigned char lone_cr_uncertain;	/* sf: undocumented whether \r ends a line comment */
	unsigned char hash;
	unsigned char slash_slash;	/* "//" line comments (ch, sf) */
	unsigned char block;
	unsigned char exec;
	unsigned char sq;			/* '...' */
	unsigned char dq;			/* "..." */
	unsigned char bq;			/* `...` */
	unsigned char dollar;
	unsigned char e_strings;	/* scan.l xestart: E'...' honours backslash escapes */
	unsigned char number;
	unsigned char at_var;		/* @x @@x @'x' variables */
	unsigned char qmark_var;	/* ? placeholders */
	unsigned char colon_var;	/* sf :name binds */
};

/* The rule table, indexed by bb_dialect. */
static const struct bb_lex_syntax syntaxes[] = {
	/* BB_DIALECT_POSTGRES */
	{.vtab_space = 0, .dash = DASH_ALWAYS, .dash_ends_at_cr = 1, .hash = HASH_NONE,
		.block = BLOCK_NESTED, .exec = EXEC_NONE, .sq = Q_STRING, .dq = Q_IDENT, .bq = Q_OP,
	.dollar = DOLLAR_PG, .e_strings = 1, .number = NUM_PG},
	/* BB_DIALECT_MYSQL */
	{.vtab_space = 1, .dash = DASH_MYSQL, .hash = HASH_ALWAYS, .block = BLOCK_FLAT,
		.exec = EXEC_MYSQL, .sq = Q_STRING_BS, .dq = Q_STRING_BS, .bq = Q_IDENT,
	.dollar = DOLLAR_WORD, .number = NUM_MYSQL, .at_var = 1, .qmark_var = 1},
	/* BB_DIALECT_TIDB */
	{.vtab_space = 1, .high_space = 1, .dash = DASH_TIDB, .hash = HASH_ALWAYS,
		.block = BLOCK_FLAT, .exec = EXEC_TIDB, .sq = Q_STRING_BS, .dq = Q_STRING_BS,
	.bq = Q_IDENT, .dollar = DOLLAR_WORD, .number = NUM_MYSQL, .at_var = 1, .qmark_var = 1},
	/* BB_DIALECT_CLICKHOUSE */
	{.vtab_space = 1, .dash = DASH_ALWAYS, .hash = HASH_SPACE_BANG, .slash_slash = 1,
		.block = BLOCK_CH, .sq = Q_STRING_BS, .dq = Q_IDENT_BS, .bq = Q_IDENT_BS,
	.dollar = DOLLAR_CH, .number = NUM_CH, .at_var = 1, .qmark_var = 1},
	/* BB_DIALECT_SNOWFLAKE */
	{.vtab_space = 1, .dash = DASH_ALWAYS, .lone_cr_uncertain = 1, .slash_slash = 1,
		.block = BLOCK_FLAT, .sq = Q_STRING_BS, .dq = Q_IDENT, .bq = Q_OP,
	.dollar = DOLLAR_SF, .number = NUM_SF, .at_var = 1, .qmark_var = 1, .colon_var = 1},
};

/* ---- byte classes --------------------------------------------------------- */

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_xdigit(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* scan.l ident_start / sql_lex ident_map: letters, '_' and every byte >= 0x80. */
static int
ident_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

/* scan.l ident_cont, sql_lex ident_map, ch word bytes plus '$'. */
static int
ident_cont(unsigned char c)
{
	return ident_start(c) || is_digit(c) || c == '$';
}

/* The dialect's white space (scan.l space, sql_lex MY_LEX_SKIP, ch isWhitespaceASCII). */
static int
is_space(const struct bb_lex_syntax *sx, unsigned char c)
{
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
		return 1;
	if (c == '\v')
		return sx->vtab_space;
	if (c == 0x85 || c == 0xA0)
		return sx->high_space;
	return 0;
}

/* ---- the pieces ----------------------------------------------------------- */

static void
set_uncertain(bb_lex_token *t, const char *why)
{
	if (t->error == BB_SPLIT_OK)
	{
		t->error = BB_SPLIT_UNCERTAIN;
		t->why = why;
	}
}

/* A quoted run from the opening quote: doubled quotes always, backslash
 * escapes when asked (scan.l xq/xe/xd, sql_lex get_text, ch quotedString).
 * Returns the index after the closing quote, or len when unterminated. */
static size_t
scan_quoted(const char *s, size_t len, size_t i, char q, int backslash, int *open)
{
	i++;
	while (i < len)
	{
		if (backslash && s[i] == '\\')
			i += 2;
		else if (s[i] != q)
			i++;
		else if (i + 1 < len && s[i + 1] == q)
			i += 2;
		else
			return i + 1;
	}
	*open = 1;
	return len;
}

/* End of a line comment from its first byte: scan.l ends "--" at \n or \r,
 * sql_lex, tidb and ch at \n only. */
static size_t
line_comment_end(const bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;

	for (; i < len; i++)
	{
		if (s[i] == '\n')
			return i;
		if (s[i] == '\r')
		{
			if (lx->sx->dash_ends_at_cr)
				return i;
			if (lx->sx->lone_cr_uncertain && (i + 1 >= len || s[i + 1] != '\n'))
				set_uncertain(t, "a line comment holds a carriage return: whether it ends the "
							  "comment is not documented for Snowflake");
		}
	}
	return len;
}

/* Does "--" at i start a comment?  scan.l and ch: always; sql_lex: before
 * white space or a control byte or at the end; tidb: before white space
 * or at the end.  Bytes >= 0x80 depend on the connection character set. */
static int
dash_comment(const bb_lexer *lx, size_t i, bb_lex_token *t)
{
	unsigned char n;

	if (lx->sx->dash == DASH_ALWAYS || i + 2 >= lx->len)
		return 1;
	n = (unsigned char) lx->s[i + 2];
	if (lx->sx->dash == DASH_MYSQL)
	{
		if (n <= ' ' || n == 0x7f)
			return 1;
		if (n >= 0x80)
			set_uncertain(t, "'--' before a non-ASCII byte is a comment or two minus signs "
						  "depending on the server's character set");
		return 0;
	}
	if (n == ' ' || n == '\t' || n == '\n' || n == '\v' || n == '\f' || n == '\r')
		return 1;
	if (n == 0x85 || n == 0xA0)
		set_uncertain(t, "'--' before byte 0x85 or 0xA0: TiDB reads white space, MySQL does not");
	return 0;
}

/* Number of ASCII digits at i (at most max). */
static size_t
count_digits(const char *s, size_t len, size_t i, size_t max)
{
	size_t		n = 0;

	while (i + n < len && n < max && is_digit((unsigned char) s[i + n]))
		n++;
	return n;
}

/* TiDB feature ids that every TiDB version we support knows (tidb features.go). */
static int
tidb_known_feature(const char *p, size_t n)
{
	static const char *const known[] = {
		"auto_rand", "auto_id_cache", "auto_rand_base", "clustered_index", "force_inc", NULL
	};
	int			k;

	for (k = 0; known[k]; k++)
		if (strlen(known[k]) == n && memcmp(known[k], p, n) == 0)
			return 1;
	return 0;
}

/* tidb scanFeatureIDs: "[id,id]" right after slash-star-T!.  Returns the index
 * after ']' (0 when there is no such list) and whether every id is known. */
static size_t
tidb_features(const char *s, size_t len, size_t i, int *all_known)
{
	*all_known = 1;
	if (i >= len || s[i] != '[')
		return 0;
	i++;
	for (;;)
	{
		size_t		w = i;

		while (i < len && (ident_cont((unsigned char) s[i]) && s[i] != '$'))
			i++;
		if (i == w || i >= len)
			return 0;
		if (!tidb_known_feature(s + w, i - w))
			*all_known = 0;
		if (s[i] == ']')
			return i + 1;
		if (s[i] != ',')
			return 0;
		i++;
	}
}

/* Kind of slash-star comment at i in MySQL/TiDB: returns the opener length
 * when the comment is executable (its body is code), 0 for a plain comment. */
static size_t
exec_opener(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;
	unsigned char c = (i + 2 < len) ? (unsigned char) s[i + 2] : 0;
	size_t		d;

	if (c == '!')
	{
		d = count_digits(s, len, i + 3, 6);
		if (lx->sx->exec == EXEC_TIDB)
			return 3 + (d >= 5 ? 5 : 0);	/* tidb scanVersionDigits(5, 5): version ignored */
		if (d >= 6)
			set_uncertain(t, "a 6-digit versioned comment: MariaDB reads 6 digits, MySQL 5 "
						  "(the 6th is then code)");
		else if (d == 5)
		{
			long		v = 0;
			size_t		k;

			for (k = 0; k < 5; k++)
				v = v * 10 + (s[i + 3 + k] - '0');
			/* sql_lex: code when version <= the server's; MariaDB also skips 50700-99999 */
			if (v >= 50700)
				set_uncertain(t, "a versioned comment /*!NNNNN runs only on some servers "
							  "(MySQL at or above that version; MariaDB skips 50700-99999)");
		}
		return 3 + (d >= 5 ? 5 : 0);
	}
	if (c == 'M' && i + 3 < len && s[i + 3] == '!')
	{
		if (lx->sx->exec == EXEC_TIDB)
			return 0;			/* tidb: "no special treatment" */
		set_uncertain(t, "a /*M! comment runs on MariaDB and is ignored by MySQL");
		d = count_digits(s, len, i + 4, 6);
		return 4 + (d >= 5 ? d : 0);
	}
	if (c == 'T' && i + 3 < len && s[i + 3] == '!' && lx->sx->exec == EXEC_TIDB)
	{
		int			known;
		size_t		after = tidb_features(s, len, i + 4, &known);

		if (after == 0)
			return 4;			/* no feature list: tidb runs the text */
		if (!known)
			set_uncertain(t, "a /*T![feature] comment runs only on TiDB versions that know "
						  "the feature");
		return after - i;
	}
	return 0;
}

/* A slash-star comment at i (not executable); sets t->end / error. */
static void
block_comment(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;
	size_t		depth = 1;
	int			hint = (lx->sx->exec == EXEC_MYSQL && i + 2 < len && s[i + 2] == '+');
	int			nest = (lx->sx->block != BLOCK_FLAT);

	t->kind = BB_LEX_COMMENT;
	i += 2;
	while (i < len)
	{
		/* scan.l <xc>{xcstop}, sql_lex consume_comment, ch: star-slash ends one level */
		if (s[i] == '*' && i + 1 < len && s[i + 1] == '/')
		{
			i += 2;
			if (--depth == 0)
			{
				t->end = i;
				return;
			}
			continue;
		}
		/* scan.l <xc>{xcstart}: slash-star nests; ch nests only in newer versions */
		if (nest && s[i] == '/' && i + 1 < len && s[i + 1] == '*')
		{
			if (lx->sx->block == BLOCK_CH)
				set_uncertain(t, "a nested /* comment: ClickHouse 18.16 ends it at the first */, "
							  "newer versions nest");
			depth++;
			i += 2;
			continue;
		}
		/* MySQL 8's hint scanner skips quoted text inside an optimizer hint */
		if (hint && (s[i] == '\'' || s[i] == '"' || s[i] == '`'))
			set_uncertain(t, "a quote inside an optimizer hint /*+ ... */: MySQL 8 skips quoted "
						  "text there, MariaDB does not");
		i++;
	}
	t->end = len;
	t->error = BB_SPLIT_UNTERMINATED_COMMENT;
}

/* scan.l dolqdelim: length of "$$" or "$tag$" at i, 0 when none. */
static size_t
pg_dollar_tag(const char *s, size_t len, size_t i)
{
	size_t		j = i + 1;

	if (j < len && s[j] == '$')
		return 2;
	if (j >= len || !ident_start((unsigned char) s[j]))
		return 0;
	while (j < len && ident_cont((unsigned char) s[j]) && s[j] != '$')
		j++;
	return (j < len && s[j] == '$') ? j - i + 1 : 0;
}

/* First occurrence of needle in s[from, len) (memmem without GNU extensions). */
static const char *
find_bytes(const char *s, size_t len, size_t from, const char *needle, size_t n)
{
	while (from < len && len - from >= n)
	{
		const char *d = memchr(s + from, needle[0], len - from);

		if (d == NULL || (size_t) (s + len - d) < n)
			return NULL;
		if (memcmp(d, needle, n) == 0)
			return d;
		from = (size_t) (d - s) + 1;
	}
	return NULL;
}

/* ClickHouse heredoc at i: "$" + anything + "$" repeated later (current ch).
 * Returns the end of the heredoc or 0.  The search is bounded by a budget
 * proportional to the input so that many '$' stay linear. */
static size_t
ch_heredoc(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;
	const char *d = (i + 1 < len) ? memchr(s + i + 1, '$', len - i - 1) : NULL;
	size_t		n;
	const char *close;

	if (d == NULL)
		return 0;
	n = (size_t) (d - (s + i)) + 1;
	if (lx->budget < len - i)
	{
		set_uncertain(t, "too many '$' signs to check every ClickHouse heredoc");
		return 0;
	}
	lx->budget -= len - i;
	close = find_bytes(s, len, i + n, s + i, n);
	return close ? (size_t) (close - s) + n : 0;
}

/* ---- numbers -------------------------------------------------------------- */

/* Index after the ASCII digits at j. */
static size_t
digits_end(const char *s, size_t len, size_t j)
{
	while (j < len && is_digit((unsigned char) s[j]))
		j++;
	return j;
}

/* "[eE][+-]?digits" at j: the index after it, or 0 when the digits are
 * missing; *after_sign gets the index after the e and its sign. */
static size_t
exponent_end(const char *s, size_t len, size_t j, size_t *after_sign)
{
	size_t		k = j + 1;

	if (j >= len || (s[j] != 'e' && s[j] != 'E'))
		return 0;
	if (k < len && (s[k] == '+' || s[k] == '-'))
		k++;
	*after_sign = k;
	if (k >= len || !is_digit((unsigned char) s[k]))
		return 0;
	return digits_end(s, len, k);
}

/* scan.l: {integer} {decimal} {real}; "1..2" stops before ".." (decimalfail),
 * an exponent needs digits (realfail); an identifier byte right after is
 * trailing junk, a lexical error, consumed with the number.  '$' is not an
 * identifier start: "1$a$" is 1 followed by a dollar quote. */
static size_t
pg_number(const char *s, size_t len, size_t i)
{
	size_t		j = digits_end(s, len, i);
	size_t		e,
				sign = 0;

	if (j < len && s[j] == '.' && !(j + 1 < len && s[j + 1] == '.'))
		j = digits_end(s, len, j + 1);
	if ((e = exponent_end(s, len, j, &sign)) > 0)
		j = e;
	if (j < len && ident_start((unsigned char) s[j]))
		while (j < len && ident_cont((unsigned char) s[j]) && s[j] != '$')
			j++;
	return j;
}

/* sql_lex MY_LEX_NUMBER_IDENT / MY_LEX_REAL: sets *kind; *plain is set when the
 * next byte is read as a single character (a real without exponent digits). */
static size_t
mysql_number(const char *s, size_t len, size_t i, bb_lex_kind *kind, int *plain)
{
	size_t		j = i;
	size_t		e,
				sign = 0;

	*kind = BB_LEX_NUMBER;
	if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'b'))
	{
		int			hex = (s[i + 1] == 'x');

		j = i + 2;
		while (j < len && (hex ? is_xdigit((unsigned char) s[j]) : (s[j] == '0' || s[j] == '1')))
			j++;
		if (j - i >= 3 && !(j < len && ident_cont((unsigned char) s[j])))
			return j;
		*kind = BB_LEX_WORD;	/* 0xZZ, 0b12: an identifier */
		j = i;
		while (j < len && ident_cont((unsigned char) s[j]))
			j++;
		return j;
	}
	if (s[i] != '.')
		j = digits_end(s, len, j);
	if (s[i] != '.' && j < len && ident_cont((unsigned char) s[j]))
	{
		/* 1e5 is a float; 1e, 1ex, 1e-x are identifiers (then '-' ...) */
		if ((e = exponent_end(s, len, j, &sign)) > 0)
			return e;
		*kind = BB_LEX_WORD;
		while (j < len && ident_cont((unsigned char) s[j]))
			j++;
		return j;
	}
	if (j < len && s[j] == '.')
	{
		j = digits_end(s, len, j + 1);
		if ((e = exponent_end(s, len, j, &sign)) > 0)
			return e;
		if (j < len && (s[j] == 'e' || s[j] == 'E'))
		{
			/* MY_LEX_REAL without exponent digits: the next byte is MY_LEX_CHAR */
			*plain = 1;
			return sign;
		}
	}
	return j;
}

/* ch: digits (0x / 0b prefixes), '.', exponent with its sign always taken;
 * after a '.' token only an integer (tuple access x.1.1).  Word bytes right
 * after make a BareWord (current) or a wrong number (18.16). */
static size_t
ch_number(const char *s, size_t len, size_t i, int after_dot, bb_lex_kind *kind)
{
	size_t		j = i;
	int			hex = 0;

	*kind = BB_LEX_NUMBER;
	if (after_dot)
	{
		j++;
		while (j < len && is_digit((unsigned char) s[j]))
			j++;
	}
	else
	{
		if (s[j] == '.')
			j++;
		else if (j + 2 < len && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X') &&
				 is_xdigit((unsigned char) s[j + 2]))
		{
			hex = 1;
			j += 2;
		}
		else if (j + 2 < len && s[j] == '0' && (s[j + 1] == 'b' || s[j + 1] == 'B') &&
				 (s[j + 2] == '0' || s[j + 2] == '1'))
			j += 2;
		while (j < len && (hex ? is_xdigit((unsigned char) s[j]) : is_digit((unsigned char) s[j])))
			j++;
		if (s[i] != '.' && j < len && s[j] == '.')
		{
			j++;
			while (j < len && (hex ? is_xdigit((unsigned char) s[j]) : is_digit((unsigned char) s[j])))
				j++;
		}
		if (j + 1 < len && (hex ? (s[j] == 'p' || s[j] == 'P') : (s[j] == 'e' || s[j] == 'E')))
		{
			j++;
			if (j + 1 < len && (s[j] == '-' || s[j] == '+'))
				j++;
			while (j < len && is_digit((unsigned char) s[j]))
				j++;
		}
	}
	if (s[i] != '.' && j < len && (is_alpha((unsigned char) s[j]) || is_digit((unsigned char) s[j]) || s[j] == '_'))
	{
		*kind = BB_LEX_WORD;
		while (j < len && (is_alpha((unsigned char) s[j]) || is_digit((unsigned char) s[j]) || s[j] == '_'))
			j++;
	}
	return j;
}

/* Snowflake (and the former tokenizer): digits, letters and dots, a signed exponent. */
static size_t
sf_number(const char *s, size_t len, size_t i, bb_lex_kind *kind)
{
	size_t		j = i;

	*kind = BB_LEX_NUMBER;
	while (j < len && (is_alpha((unsigned char) s[j]) || is_digit((unsigned char) s[j]) || s[j] == '.'))
	{
		if ((s[j] == 'e' || s[j] == 'E') && j + 2 < len && (s[j + 1] == '+' || s[j + 1] == '-') &&
			is_digit((unsigned char) s[j + 2]))
			j++;
		j++;
	}
	if (j < len && ident_cont((unsigned char) s[j]))
	{
		*kind = BB_LEX_WORD;
		while (j < len && ident_cont((unsigned char) s[j]))
			j++;
	}
	return j;
}

/* ch: '.' before a digit is a Dot (not a number) after ')' ']' a word, a
 * quoted identifier or a number, so that x.1.1 is tuple access. */
static int
ch_dot(const bb_lexer *lx, size_t i)
{
	if (lx->sx->number != NUM_CH || i == 0)
		return 0;
	switch (lx->prev_kind)
	{
		case BB_LEX_WORD:
		case BB_LEX_QIDENT:
		case BB_LEX_NUMBER:
			return 1;
		case BB_LEX_OP:
			return lx->prev_byte == ')' || lx->prev_byte == ']';
		default:
			return 0;
	}
}

/* ---- the lexer ------------------------------------------------------------ */

void
bb_lex_init(bb_lexer *lx, bb_dialect dialect, const char *s, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	if ((unsigned) dialect > BB_DIALECT_SNOWFLAKE)
		dialect = BB_DIALECT_POSTGRES;
	lx->dialect = dialect;
	lx->sx = &syntaxes[dialect];
	lx->s = s ? s : "";
	lx->len = s ? len : 0;
	/* heredoc search: 64 passes over the input, plus 1 MB */
	lx->budget = (lx->len < ((size_t) -1) / 128) ? 64 * lx->len + (1u << 20) : (size_t) -1;
}

void
bb_lex_seek(bb_lexer *lx, size_t pos)
{
	lx->pos = pos < lx->len ? pos : lx->len;
	lx->plain_next = 0;
	lx->prev_kind = BB_LEX_EOF;
	lx->prev_byte = 0;
}

/* Case-insensitive compare of n bytes with an upper-case ASCII keyword. */
int
bb_lex_keyword(const char *w, size_t n, const char *kw)
{
	size_t		k;

	for (k = 0; k < n; k++)
	{
		unsigned char c = (unsigned char) w[k];

		if (kw[k] == '\0')
			return 0;
		if (c >= 'a' && c <= 'z')
			c -= 32;
		if (c != (unsigned char) kw[k])
			return 0;
	}
	return kw[n] == '\0';
}

/* A word token equal to a keyword. */
int
bb_lex_word_is(const char *s, const bb_lex_token *t, const char *kw)
{
	return t->kind == BB_LEX_WORD && bb_lex_keyword(s + t->start, t->end - t->start, kw);
}

/* Multi-byte operators the checkers look for (longest first). */
static size_t
operator_len(const char *s, size_t len, size_t i)
{
	static const char *const ops[] = {
		"<=>", "->>", "<=", ">=", "<>", "!=", ":=", "||", "&&", "<<", ">>",
		"->", "::", "=>", NULL
	};
	int			k;

	for (k = 0; ops[k]; k++)
	{
		size_t		n = strlen(ops[k]);

		if (len - i >= n && memcmp(s + i, ops[k], n) == 0)
			return n;
	}
	return 1;
}

/* scan.l {quotecontinue}: after a closing quote at p, white space holding a
 * newline ([ \t\f\n\r] and "--" comments, no slash-star) and another quote
 * continue the same literal.  Returns the index of that quote, or 0. */
static size_t
quote_continues(const char *s, size_t len, size_t p)
{
	size_t		j = p;
	int			newline = 0;

	while (j < len)
	{
		if (s[j] == ' ' || s[j] == '\t' || s[j] == '\f')
			j++;
		else if (s[j] == '\n' || s[j] == '\r')
		{
			newline = 1;
			j++;
		}
		else if (s[j] == '-' && j + 1 < len && s[j + 1] == '-')
		{
			while (j < len && s[j] != '\n' && s[j] != '\r')
				j++;
		}
		else
			break;
	}
	return (newline && j < len && s[j] == '\'') ? j : 0;
}

/* A word, with scan.l's E'...' (only a lone e/E before the quote) folded in. */
static void
word(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;
	size_t		j = i + 1;

	while (j < len && ident_cont((unsigned char) s[j]))
		j++;
	t->kind = BB_LEX_WORD;
	t->end = j;
	if (lx->sx->e_strings && j == i + 1 && (s[i] == 'e' || s[i] == 'E') && j < len && s[j] == '\'')
	{
		int			open = 0;

		/* scan.l xestart, xeinside, xeescape, xqdouble; a continuation
		 * ('...' after white space with a newline) stays in state xe */
		t->kind = BB_LEX_STRING;
		t->end = scan_quoted(s, len, j, '\'', 1, &open);
		while (!open && (j = quote_continues(s, len, t->end)) > 0)
			t->end = scan_quoted(s, len, j, '\'', 1, &open);
		if (open)
			t->error = BB_SPLIT_UNTERMINATED_QUOTE;
	}
}

/* A quote of the dialect at i (rule from the table). */
static void
quoted(bb_lexer *lx, size_t i, unsigned char rule, bb_lex_token *t)
{
	int			open = 0;

	t->kind = (rule == Q_IDENT || rule == Q_IDENT_BS) ? BB_LEX_QIDENT : BB_LEX_STRING;
	t->end = scan_quoted(lx->s, lx->len, i, lx->s[i], rule == Q_STRING_BS || rule == Q_IDENT_BS, &open);
	if (open)
		t->error = BB_SPLIT_UNTERMINATED_QUOTE;
}

/* '$' at i by dialect. */
static void
dollar(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const char *s = lx->s;
	size_t		len = lx->len;
	size_t		n;

	t->kind = BB_LEX_OP;
	t->end = i + 1;
	switch (lx->sx->dollar)
	{
		case DOLLAR_PG:
			if ((n = pg_dollar_tag(s, len, i)) > 0)
			{
				/* scan.l xdolq: opaque until the same delimiter */
				const char *close = find_bytes(s, len, i + n, s + i, n);

				t->kind = BB_LEX_STRING;
				t->end = close ? (size_t) (close - s) + n : len;
				if (!close)
					t->error = BB_SPLIT_UNTERMINATED_DOLLAR;
			}
			else if (i + 1 < len && is_digit((unsigned char) s[i + 1]))
			{
				/* scan.l param: $ and digits only */
				t->kind = BB_LEX_VAR;
				t->end = i + 1 + count_digits(s, len, i + 1, (size_t) -1);
			}
			/* else scan.l dolqfailed / other: a lone '$' */
			break;
		case DOLLAR_SF:
			if (i + 1 < len && s[i + 1] == '$')
			{
				const char *close = find_bytes(s, len, i + 2, "$$", 2);

				t->kind = BB_LEX_STRING;
				t->end = close ? (size_t) (close - s) + 2 : len;
				if (!close)
					t->error = BB_SPLIT_UNTERMINATED_DOLLAR;
			}
			else
			{
				t->kind = BB_LEX_VAR;
				while (t->end < len && ident_cont((unsigned char) s[t->end]) && s[t->end] != '$')
					t->end++;
			}
			break;
		case DOLLAR_CH:
			if ((n = ch_heredoc(lx, i, t)) > 0)
			{
				t->kind = BB_LEX_STRING;
				t->end = n;
			}
			else if (i + 1 < len && ident_cont((unsigned char) s[i + 1]))
				word(lx, i, t);
			break;
		default:
			word(lx, i, t);
			break;
	}
}

/* Variables: @x @@x @'x' ? :x (the checkers' VAR tokens). */
static int
variable(bb_lexer *lx, size_t i, bb_lex_token *t)
{
	const struct bb_lex_syntax *sx = lx->sx;
	const char *s = lx->s;
	size_t		len = lx->len;
	unsigned char c = (unsigned char) s[i];
	size_t		j = i + 1;

	if (c == '?' && sx->qmark_var)
	{
		t->kind = BB_LEX_VAR;
		t->end = j;
		return 1;
	}
	if (c == ':' && sx->colon_var && j < len && ident_cont((unsigned char) s[j]))
	{
		t->kind = BB_LEX_VAR;
		while (j < len && (ident_cont((unsigned char) s[j]) || s[j] == '.'))
			j++;
		t->end = j;
		return 1;
	}
	if (c != '@' || !sx->at_var)
		return 0;
	t->kind = BB_LEX_VAR;
	if (j < len && s[j] == '@')
		j++;
	if (j < len && (s[j] == '`' || s[j] == '\'' || s[j] == '"'))
	{
		unsigned char rule = s[j] == '\'' ? sx->sq : s[j] == '"' ? sx->dq : sx->bq;
		int			open = 0;

		j = scan_quoted(s, len, j, s[j], rule == Q_STRING_BS || rule == Q_IDENT_BS, &open);
		if (open)
			t->error = BB_SPLIT_UNTERMINATED_QUOTE;
	}
	else
		while (j < len && (ident_cont((unsigned char) s[j]) || s[j] == '.'))
			j++;
	t->end = j;
	return 1;
}

void
bb_lex_next(bb_lexer *lx, bb_lex_token *t)
{
	const struct bb_lex_syntax *sx = lx->sx;
	const char *s = lx->s;
	size_t		len = lx->len;
	size_t		i = lx->pos;
	unsigned char c;
	unsigned char n;
	size_t		k;

	memset(t, 0, sizeof(*t));
	t->start = t->end = i;
	if (i >= len)
	{
		t->kind = BB_LEX_EOF;
		return;
	}
	c = (unsigned char) s[i];
	n = (i + 1 < len) ? (unsigned char) s[i + 1] : 0;

	if (lx->plain_next)
	{
		/* sql_lex MY_LEX_CHAR after a real without exponent digits: one
		 * character, never a quote or '#' comment; "-- " is still a comment */
		lx->plain_next = 0;
		if (c == '-' && n == '-' && dash_comment(lx, i, t))
		{
			t->kind = BB_LEX_COMMENT;
			t->end = line_comment_end(lx, i, t);
		}
		else
		{
			t->kind = BB_LEX_OP;
			t->end = i + 1;
		}
	}
	else if (is_space(sx, c))
	{
		t->kind = BB_LEX_SPACE;
		t->end = i + 1;
		while (t->end < len && is_space(sx, (unsigned char) s[t->end]))
			t->end++;
	}
	/* line comments: scan.l {comment}; sql_lex/tidb "-- " and '#'; ch "--" "//" "# "; sf "--" "//" */
	else if ((c == '-' && n == '-' && dash_comment(lx, i, t)) ||
			 (c == '#' && (sx->hash == HASH_ALWAYS ||
						   (sx->hash == HASH_SPACE_BANG && (n == ' ' || n == '!')))) ||
			 (c == '/' && n == '/' && sx->slash_slash))
	{
		t->kind = BB_LEX_COMMENT;
		t->end = line_comment_end(lx, i, t);
	}
	else if (c == '/' && n == '*')
	{
		if (sx->exec != EXEC_NONE && (k = exec_opener(lx, i, t)) > 0)
		{
			/* sql_lex: the body of an executable comment is lexed as code */
			t->kind = BB_LEX_EXEC_OPEN;
			t->end = i + k;
			lx->in_exec = 1;
		}
		else
			block_comment(lx, i, t);
	}
	else if (c == '*' && n == '/' && lx->in_exec)
	{
		/* sql_lex MY_LEX_END_LONG_COMMENT, tidb startWithStar */
		t->kind = BB_LEX_EXEC_CLOSE;
		t->end = i + 2;
		lx->in_exec = 0;
	}
	else if (c == '\'' && sx->sq != Q_OP)
		quoted(lx, i, sx->sq, t);
	else if (c == '"' && sx->dq != Q_OP)
		quoted(lx, i, sx->dq, t);
	else if (c == '`' && sx->bq != Q_OP)
		quoted(lx, i, sx->bq, t);
	else if (c == '$')
		dollar(lx, i, t);
	else if (is_digit(c) || (c == '.' && is_digit(n) && !ch_dot(lx, i)))
	{
		int			plain = 0;

		t->kind = BB_LEX_NUMBER;
		switch (sx->number)
		{
			case NUM_PG:
				t->end = pg_number(s, len, i);
				break;
			case NUM_MYSQL:
				t->end = mysql_number(s, len, i, &t->kind, &plain);
				break;
			case NUM_CH:
				t->end = ch_number(s, len, i, lx->prev_kind == BB_LEX_OP && lx->prev_byte == '.',
								   &t->kind);
				break;
			default:
				t->end = sf_number(s, len, i, &t->kind);
				break;
		}
		lx->plain_next = plain;
	}
	else if (ident_start(c))
		word(lx, i, t);
	else if (variable(lx, i, t))
		;
	else
	{
		t->kind = BB_LEX_OP;
		t->end = i + operator_len(s, len, i);
	}
	if (t->end <= i)
		t->end = i + 1;
	if (t->end > len)
		t->end = len;
	lx->pos = t->end;
	if (t->kind != BB_LEX_SPACE && t->kind != BB_LEX_COMMENT)
	{
		lx->prev_kind = t->kind;
		lx->prev_byte = s[i];
	}
}
