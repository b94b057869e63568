/* common_rules.c — rules every engine has: syntax errors and unused suppressions. */
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
	{0}
};
