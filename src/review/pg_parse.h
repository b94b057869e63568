/* pg_parse.h — the server's raw parser with the lexing the executor pins on targets. */
#ifndef BB_PG_PARSE_H
#define BB_PG_PARSE_H

#include "nodes/pg_list.h"

extern List *bb_raw_parse(const char *text);

#endif
