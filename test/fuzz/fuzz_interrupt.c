/*
 * fuzz_interrupt.c — libFuzzer target: the MySQL, ClickHouse and Snowflake
 * checkers interrupted at a poll chosen by the input's first byte.  Stopping
 * early must neither crash nor leak, and no poll may come after the cancel
 * was seen more than once per statement loop.  Built by test/fuzz/Makefile.
 */
#include <stdint.h>
#include <stdlib.h>

#include "review.h"
#include "test_ctx.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static test_ctx ctx;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *script;
	long		at;

	if (size < 1)
		return 0;
	at = 1 + data[0] % 32;
	script = malloc(size);
	if (script == NULL)
		return 0;
	memcpy(script, data + 1, size - 1);
	tc_init(&ctx);
	ctx.dialect = BB_DIALECT_MYSQL;
	ctx.interrupt_at = at;
	bb_review_mysql(&ctx.ctx, BB_DIALECT_MYSQL, script, size - 1);
	tc_init(&ctx);
	ctx.dialect = BB_DIALECT_CLICKHOUSE;
	ctx.interrupt_at = at;
	bb_review_clickhouse(&ctx.ctx, script, size - 1);
	tc_init(&ctx);
	ctx.dialect = BB_DIALECT_SNOWFLAKE;
	ctx.interrupt_at = at;
	bb_review_snowflake(&ctx.ctx, script, size - 1);
	free(script);
	return 0;
}
