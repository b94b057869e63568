/*
 * pg_parse.c — one entry to the server's raw parser for review, the split check and the
 * non-transactional check.  Targets run with standard_conforming_strings = on and
 * backslash_quote = on (pinned at connect); the session calling bb.lint, or a control
 * cluster configured otherwise, must not make the parse see other string literals than the
 * target will, or what is reviewed would differ from what runs.
 */
#include "postgres.h"

#include "parser/parser.h"

#include "review/pg_parse.h"

/* raw_parser under the target's lexing settings; the caller's values come back on every path
 * (errors propagate: callers decide what a parse error means to them).  The scanner reads the
 * two variables when it starts, so they are set directly: set_config_option would need a
 * transaction, and executors parse while none is open. */
List *
bb_raw_parse(const char *text)
{
	bool		saved_scs = standard_conforming_strings;
	int			saved_bq = backslash_quote;
	List	   *volatile trees = NIL;

	PG_TRY();
	{
		standard_conforming_strings = true;
		backslash_quote = BACKSLASH_QUOTE_ON;
		trees = raw_parser(text, RAW_PARSE_DEFAULT);
	}
	PG_FINALLY();
	{
		standard_conforming_strings = saved_scs;
		backslash_quote = saved_bq;
	}
	PG_END_TRY();
	return trees;
}
