/*
 * pg_parse.c — one entry to the server's raw parser for review, the split check and the
 * non-transactional check.  Targets run with standard_conforming_strings = on and
 * backslash_quote = on (pinned at connect); the session calling bb.lint, or a control
 * cluster configured otherwise, must not make the parse see other string literals than the
 * target will, or what is reviewed would differ from what runs.
 */
#include "postgres.h"

#include "parser/parser.h"
#include "utils/guc.h"

#include "review/pg_parse.h"

/* raw_parser under the target's lexing settings; the caller's settings come back on every
 * path (errors propagate: callers decide what a parse error means to them). */
List *
bb_raw_parse(const char *text)
{
	int			nest = NewGUCNestLevel();
	List	   *volatile trees = NIL;

	PG_TRY();
	{
		(void) set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("backslash_quote", "on", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		trees = raw_parser(text, RAW_PARSE_DEFAULT);
	}
	PG_FINALLY();
	{
		AtEOXact_GUC(true, nest);
	}
	PG_END_TRY();
	return trees;
}
