/* task_split.h — how a change script is cut into statements for execution */
#ifndef BB_TASK_SPLIT_H
#define BB_TASK_SPLIT_H

#include "postgres.h"
#include "nodes/pg_list.h"

/* Statements of a script in the engine's dialect (palloc'd strings without the terminator),
 * cut by the review splitter (bb_split): what runs is exactly what was reviewed. */
extern List *bb_task_split(const char *script, const char *engine);

/* True when a PostgreSQL statement cannot run inside a transaction block (CREATE INDEX
 * CONCURRENTLY, VACUUM, CREATE DATABASE, the script's own COMMIT, ...), on the parse tree. */
extern bool bb_stmt_is_nontransactional(const char *stmt);

/* True when any statement of a split PostgreSQL script is non-transactional. */
extern bool bb_script_is_nontransactional(List *stmts);

#endif
