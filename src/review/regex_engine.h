/*
 * regex_engine.h — the seam between regex.c (cache, safety check, templates:
 * plain C, shared) and the engine that compiles and runs patterns.  Exactly
 * one engine is linked: regex_pg.c (PostgreSQL's regex engine) into the
 * extension, test/unit/regex_libc.c (the C library's) into the standalone
 * unit and fuzz builds.  Plain C.
 */
#ifndef BB_REVIEW_REGEX_ENGINE_H
#define BB_REVIEW_REGEX_ENGINE_H

#include <stddef.h>

#include "review.h"

typedef struct bb_regex_compiled bb_regex_compiled;

/* Compiles a pattern bb_regex_safe accepted: 0 with *out set (malloc'd),
 * else a BB_REGEX_* code with the reason in err. */
extern int	bb_regex_engine_compile(const char *pattern, bb_regex_compiled **out,
									char *err, size_t errlen);

/* Searches subject: BB_REGEX_MATCH / BB_REGEX_NOMATCH, or a BB_REGEX_* code
 * with the reason in err. */
extern int	bb_regex_engine_exec(bb_regex_compiled *re, const char *subject,
								 char *err, size_t errlen);

extern void bb_regex_engine_free(bb_regex_compiled *re);

/* regex_safe.c: 0 when the pattern is within the safe subset described in
 * review.h, else -1 with the reason (and position) in err. */
extern int	bb_regex_safe(const char *pattern, char *err, size_t errlen);

#endif
