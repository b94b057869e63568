/* fuzz_wire.c — libFuzzer target: the worker's parser of helper records (and the fields of
 * each record), the CLI's UTF-8 check and escapers, on any bytes */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"
#include "wire.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BBWireRecord rec;
	size_t		pos = 0;
	char	   *s;
	char	   *e;

	while (bbw_next((const char *) data, size, &pos, &rec) == 1)
	{
		size_t		off = 0;
		const char *field;
		size_t		flen;

		while (bbw_field(&rec, &off, &field, &flen) == 1)
			if (flen > 0 && (field[0] == '\0' || field + flen > rec.data + rec.len))
				abort();
	}
	(void) utf8_valid_prefix((const char *) data, size);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	e = gh_escape(s, size % 2 == 0);
	free(e);
	{
		Buf			b = {0};

		pg_array_list(&b, s);
		buf_free(&b);
	}
	free(s);
	return 0;
}
