/* common_rules.c — rules every engine has: syntax errors, unused suppressions,
 * and the two findings of the review itself (check failed, findings cut). */
#include "review.h"

#define ALL_ENGINES (BB_ENGINE_BIT(BB_DIALECT_POSTGRES) | BB_ENGINE_BIT(BB_DIALECT_MYSQL) | \
					 BB_ENGINE_BIT(BB_DIALECT_TIDB) | BB_ENGINE_BIT(BB_DIALECT_CLICKHOUSE) | \
					 BB_ENGINE_BIT(BB_DIALECT_SNOWFLAKE))

const bb_rule_def bb_rules_common[] = {
	{BB_RULE_SYNTAX_ERROR, ALL_ENGINES, "statement",
		"A statement that cannot be split or parsed; the rest of the script is still checked.",
	BB_LEVEL_ERROR, BB_LEVEL_ERROR, BB_PAYLOAD_NONE},
	{BB_RULE_UNUSED_SUPPRESSION, ALL_ENGINES, "review",
		"A \"-- bb:ignore rule.id\" comment that suppressed no finding.",
	BB_LEVEL_WARNING, BB_LEVEL_WARNING, BB_PAYLOAD_NONE},
	{BB_RULE_CHECK_FAILED, ALL_ENGINES, "review",
		"A check could not run (out of memory, a naming format too complex for a name): the script is not known to pass. Always an error; not configurable.",
	BB_LEVEL_ERROR, BB_LEVEL_ERROR, BB_PAYLOAD_NONE},
	{BB_RULE_FINDINGS_TRUNCATED, ALL_ENGINES, "review",
		"More findings than bytebase.max_findings: one finding says how many more there are; an error when any of them is. Not configurable.",
	BB_LEVEL_ERROR, BB_LEVEL_ERROR, BB_PAYLOAD_NONE},
	{0}
};
