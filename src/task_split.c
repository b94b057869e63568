/* task_split.c — statement splitting for execution and the non-transactional keyword scan */
#include "postgres.h"

#include <ctype.h>

#include "task_split.h"

/* Length of a dollar-quote tag at s ("$tag$" or "$$"), 0 when s does not start one. */
static int
dollar_tag_len(const char *s)
{
	int			i = 1;

	if (s[0] != '$')
		return 0;
	if (isdigit((unsigned char) s[1]))
		return 0;
	while (isalnum((unsigned char) s[i]) || s[i] == '_')
		i++;
	return s[i] == '$' ? i + 1 : 0;
}

/* Appends [start,end) when it holds more than whitespace and comments. */
static List *
add_stmt(List *out, const char *start, const char *end, bool has_token)
{
	if (!has_token)
		return out;
	while (start < end && isspace((unsigned char) *start))
		start++;
	while (end > start && isspace((unsigned char) end[-1]))
		end--;
	return lappend(out, pnstrdup(start, end - start));
}

/* One pass over the script tracking quotes and comments; ';' at top level ends a statement. */
List *
bb_task_split(const char *script, bool mysql)
{
	List	   *out = NIL;
	const char *p = script;
	const char *start = script;
	bool		has_token = false;

	while (*p)
	{
		if (*p == ';')
		{
			out = add_stmt(out, start, p, has_token);
			start = ++p;
			has_token = false;
		}
		else if ((p[0] == '-' && p[1] == '-') || (mysql && p[0] == '#'))
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (!mysql && p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
		}
		else if (*p == '\'' || *p == '"' || (mysql && *p == '`'))
		{
			char		q = *p++;

			has_token = true;
			while (*p)
			{
				if (mysql && *p == '\\' && p[1])
					p += 2;
				else if (*p == q && p[1] == q)
					p += 2;
				else if (*p == q)
				{
					p++;
					break;
				}
				else
					p++;
			}
		}
		else if (!mysql && *p == '$' && dollar_tag_len(p) > 0)
		{
			int			n = dollar_tag_len(p);
			const char *close;
			char	   *tag = pnstrdup(p, n);

			has_token = true;
			close = strstr(p + n, tag);
			p = close ? close + n : p + strlen(p);
			pfree(tag);
		}
		else
		{
			if (!isspace((unsigned char) *p))
				has_token = true;
			p++;
		}
	}
	return add_stmt(out, start, p, has_token);
}

/* Upper-cased leading words of a statement (comments skipped), at most max of them. */
static int
leading_words(const char *s, char words[][24], int max)
{
	int			n = 0;

	while (*s && n < max)
	{
		if (isspace((unsigned char) *s) || *s == '(' || *s == ',')
			s++;
		else if (s[0] == '-' && s[1] == '-')
			while (*s && *s != '\n')
				s++;
		else if (s[0] == '/' && s[1] == '*')
		{
			const char *e = strstr(s + 2, "*/");

			s = e ? e + 2 : s + strlen(s);
		}
		else
		{
			int			len = 0;

			while (*s && !isspace((unsigned char) *s) && *s != '(' && *s != ',' && *s != ';')
			{
				if (len < 23)
					words[n][len++] = toupper((unsigned char) *s);
				s++;
			}
			words[n][len] = '\0';
			n++;
		}
	}
	return n;
}

/* A keyword scan is enough: the forms that refuse a transaction block start recognisably. */
bool
bb_stmt_is_nontransactional(const char *stmt)
{
	char		w[8][24];
	int			n = leading_words(stmt, w, 8);

	if (n == 0)
		return false;
	/* the script's own transaction control would break the change + history atomicity */
	if (strcmp(w[0], "BEGIN") == 0 || strcmp(w[0], "START") == 0 || strcmp(w[0], "COMMIT") == 0 ||
		strcmp(w[0], "END") == 0 || strcmp(w[0], "ROLLBACK") == 0 || strcmp(w[0], "ABORT") == 0)
		return true;
	if (strcmp(w[0], "VACUUM") == 0 || (strcmp(w[0], "CLUSTER") == 0 && n == 1))
		return true;
	if (n >= 2 && strcmp(w[0], "ALTER") == 0 && strcmp(w[1], "SYSTEM") == 0)
		return true;
	if (n >= 2 && (strcmp(w[0], "CREATE") == 0 || strcmp(w[0], "DROP") == 0) &&
		(strcmp(w[1], "DATABASE") == 0 || strcmp(w[1], "TABLESPACE") == 0 ||
		 strcmp(w[1], "SUBSCRIPTION") == 0))
		return true;
	if (n >= 2 && strcmp(w[0], "REINDEX") == 0 &&
		(strcmp(w[1], "SYSTEM") == 0 || strcmp(w[1], "DATABASE") == 0))
		return true;
	/* CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY */
	if (strcmp(w[0], "CREATE") == 0 || strcmp(w[0], "DROP") == 0 || strcmp(w[0], "REINDEX") == 0)
	{
		for (int i = 1; i < n; i++)
			if (strcmp(w[i], "CONCURRENTLY") == 0)
				return true;
	}
	return false;
}

/* One non-transactional statement makes the whole script run statement by statement. */
bool
bb_script_is_nontransactional(const char *script)
{
	List	   *stmts = bb_task_split(script, false);
	ListCell   *lc;
	bool		res = false;

	foreach(lc, stmts)
		if (bb_stmt_is_nontransactional((const char *) lfirst(lc)))
			res = true;
	list_free_deep(stmts);
	return res;
}
