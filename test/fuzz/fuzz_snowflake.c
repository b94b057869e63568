/*
 * fuzz_snowflake.c — libFuzzer target for bb_review_snowflake with every rule of its
 * table on (default payloads): any input must neither crash, nor read out of
 * bounds, nor leak (ASan/UBSan/LeakSanitizer).  Built by test/fuzz/Makefile.
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
	/* a copy of exactly size bytes: ASan catches any read past the end */
	char	   *script = malloc(size ? size : 1);

	if (script == NULL)
		return 0;
	if (size)
		memcpy(script, data, size);
	tc_init(&ctx);
	ctx.dialect = BB_DIALECT_SNOWFLAKE;
	bb_review_snowflake(&ctx.ctx, script, size);
	free(script);
	return 0;
}
