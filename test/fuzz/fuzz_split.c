/*
 * fuzz_split.c — libFuzzer target for bb_split (every dialect; the first byte
 * picks the dialect, the rest is the script).  Checks the span invariants.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/review \
 *          test/fuzz/fuzz_split.c src/review/split.c -o /tmp/fuzz_split
 * Run:   /tmp/fuzz_split -max_total_time=60 test/fuzz/corpus/split
 */
#include <stdint.h>
#include <stdlib.h>

#include "review.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bb_stmt_span *spans = NULL;
	bb_dialect	d;
	const char *script;
	size_t		len;
	int			n;
	int			k;
	size_t		prev_end = 0;

	if (size < 1)
		return 0;
	d = (bb_dialect) (data[0] % 5);
	script = (const char *) data + 1;
	len = size - 1;
	n = bb_split(d, script, len, &spans);
	if (n < 0)
		return 0;
	for (k = 0; k < n; k++)
	{
		const bb_stmt_span *s = &spans[k];

		/* spans are ordered, inside the script, and start at a 1-based position */
		if (s->start > s->end || s->end > len || s->start < prev_end ||
			s->line < 1 || s->column < 1)
			abort();
		if (s->error != BB_SPLIT_OK && s->error != BB_SPLIT_BAD_DELIMITER && k != n - 1)
			abort();
		prev_end = s->end;
	}
	free(spans);
	return 0;
}
