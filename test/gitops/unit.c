/* unit.c — the plain-C parsers and escapers of GitOps and the CLI, under ASan/UBSan:
 * the worker/helper records (src/gitops/wire.c), the CLI's output escaping, SQL array
 * literals and UTF-8 check (cli/out.c).  Prints TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb.h"
#include "wire.h"

static int n = 0;
static int failed = 0;

static void
check(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

static void
check_str(const char *got, const char *want, const char *what)
{
	check(got && strcmp(got, want) == 0, what);
	if (!(got && strcmp(got, want) == 0))
		printf("#   got:  [%s]\n#   want: [%s]\n", got ? got : "(null)", want);
}

/* What json_str writes, as a string. */
static char *
json_of(const char *s)
{
	char	   *buf = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&buf, &len);

	json_str(f, s);
	fclose(f);
	return buf;
}

static void
test_escaping(void)
{
	char	   *s;
	Buf			b = {0};
	char		fp1[33], fp2[33], fp3[33];
	const char *parts1[] = {"ab", "c"};
	const char *parts2[] = {"a", "bc"};
	const char *items[] = {"plain", "quo\"te", "back\\slash", ""};
	const char *bytes[] = {"AB", "\xff\x00"};
	size_t		lens[] = {2, 2};

	s = json_of("a\"b\\c\n\t\x01\x7f é");
	check_str(s, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f é\"", "json_str escapes quotes, backslashes, controls");
	free(s);
	s = json_of(NULL);
	check_str(s, "null", "json_str(NULL) is null");
	free(s);
	s = gh_escape("50% done\r\nnext: a,b", false);
	check_str(s, "50%25 done%0D%0Anext: a,b", "GitHub data escaping: %, CR, LF");
	free(s);
	s = gh_escape("dir/a:b,c%.sql", true);
	check_str(s, "dir/a%3Ab%2Cc%25.sql", "GitHub property escaping: also : and ,");
	free(s);
	fingerprint(parts1, 2, fp1);
	fingerprint(parts2, 2, fp2);
	fingerprint(parts1, 2, fp3);
	check(strlen(fp1) == 32 && strcmp(fp1, fp2) != 0 && strcmp(fp1, fp3) == 0,
		  "fingerprints: 32 hex digits, stable, parts are separated");
	pg_array_text(&b, items, 4);
	check_str(b.data, "{\"plain\",\"quo\\\"te\",\"back\\\\slash\",\"\"}", "text array literal");
	buf_free(&b);
	pg_array_bytea(&b, bytes, lens, 2);
	check_str(b.data, "{\"\\\\x4142\",\"\\\\xff00\"}", "bytea array literal in hex");
	buf_free(&b);
	pg_array_list(&b, " pg/a , grp,, pg/b\t");
	check_str(b.data, "{\"pg/a\",\"grp\",\"pg/b\"}", "a comma list: blanks trimmed, empty items dropped");
	buf_free(&b);
	pg_array_list(&b, "");
	check_str(b.data, "{}", "an empty list");
	buf_free(&b);
	buf_fmt(&b, "%s-%d", "x", 42);
	buf_add(&b, "yz", 1);
	check_str(b.data, "x-42y", "buffer formatting and appending");
	buf_free(&b);
}

static void
test_utf8(void)
{
	const struct
	{
		const char *s;
		size_t		len;
		size_t		valid;
		const char *what;
	}			cases[] = {
		{"plain ascii", 11, 11, "ASCII"},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 14, "2, 3 and 4 byte sequences"},
		{"ab\xc0\xaf", 4, 2, "an overlong '/' is invalid"},
		{"ab\xe0\x80\xaf", 5, 2, "an overlong 3-byte sequence is invalid"},
		{"ab\xed\xa0\x80", 5, 2, "a surrogate is invalid"},
		{"ab\xf4\x90\x80\x80", 6, 2, "above U+10FFFF is invalid"},
		{"ab\xe2\x82", 4, 2, "a truncated sequence is invalid"},
		{"ab\x00" "cd", 5, 2, "a NUL byte stops the valid prefix"},
		{"\xff", 1, 0, "0xff is invalid"},
		{"a\x80", 2, 1, "a lone continuation byte is invalid"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(utf8_valid_prefix(cases[i].s, cases[i].len) == cases[i].valid, cases[i].what);
	check(line_of("a\nb\nc", 4) == 3 && line_of("abc", 0) == 1, "line of a byte offset");
}

/* Writes records to a pipe and parses them back. */
static void
test_wire(void)
{
	int			p[2];
	char		buf[4096];
	ssize_t		len;
	size_t		pos = 0;
	size_t		off = 0;
	BBWireRecord rec;
	const char *field;
	size_t		flen;
	const char *parts[3] = {"path/V1__x.sql", "abc123", "content\0with NUL"};
	size_t		lens[3] = {14, 6, 16};
	int			rc;

	if (pipe(p) != 0)
	{
		check(0, "pipe");
		return;
	}
	check(bbw_write_str(p[1], 'H', "0123456789") == 0, "write a string record");
	check(bbw_write(p[1], 'F', 3, parts, lens) == 0, "write a record of fields with a binary last one");
	check(bbw_write_str(p[1], '.', NULL) == 0, "write an empty record");
	close(p[1]);
	len = read(p[0], buf, sizeof(buf));
	close(p[0]);
	check(len == 63, "record sizes: 5-byte header and payload (15 + 43 + 5)");
	check(bbw_next(buf, (size_t) len, &pos, &rec) == 1 && rec.tag == 'H' && rec.len == 10 &&
		  memcmp(rec.data, "0123456789", 10) == 0, "parse the string record");
	check(bbw_next(buf, (size_t) len, &pos, &rec) == 1 && rec.tag == 'F', "parse the field record");
	check(bbw_field(&rec, &off, &field, &flen) == 1 && flen == 14 && memcmp(field, "path/V1__x.sql", 14) == 0,
		  "first field");
	check(bbw_field(&rec, &off, &field, &flen) == 1 && flen == 6, "second field");
	check(rec.len - off == 16 && memcmp(rec.data + off, "content\0with NUL", 16) == 0,
		  "the rest is the binary content, NUL included");
	check(bbw_next(buf, (size_t) len, &pos, &rec) == 1 && rec.tag == '.' && rec.len == 0, "parse the empty record");
	check(bbw_next(buf, (size_t) len, &pos, &rec) == 0, "exact end of the buffer");
	/* every truncation of the buffer is refused, never read past */
	rc = 0;
	for (size_t cut = 1; cut < (size_t) len; cut++)
	{
		char	   *copy = malloc(cut);
		size_t		at = 0;
		int			r;

		memcpy(copy, buf, cut);
		while ((r = bbw_next(copy, cut, &at, &rec)) == 1)
			;
		if (r == 0 && cut != 15 && cut != 58)	/* the ends of the H and F records */
			rc++;
		free(copy);
	}
	check(rc == 0, "a truncated buffer ends in an error, except at record boundaries");
	{
		char		huge[5] = {'F', (char) 0x7f, (char) 0xff, (char) 0xff, (char) 0xff};

		pos = 0;
		check(bbw_next(huge, 5, &pos, &rec) == -1, "a length past the maximum is refused");
	}
}

int
main(void)
{
	test_escaping();
	test_utf8();
	test_wire();
	printf("# %d tests, %d failed\n", n, failed);
	return failed ? 1 : 0;
}
