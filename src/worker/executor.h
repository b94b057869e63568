/* executor.h — entry points of the worker processes and the queries they share */
#ifndef BB_EXECUTOR_H
#define BB_EXECUTOR_H

#include "postgres.h"
#include "fmgr.h"

/* background worker entry points (bgw_function_name) */
extern PGDLLEXPORT void bb_launcher_main(Datum arg);
extern PGDLLEXPORT void bb_executor_main(Datum arg);

/* What bgw_extra carries to an executor. */
typedef struct BBExecutorArgs
{
	uint32		generation;
	Oid			database;
} BBExecutorArgs;

/* task_recovery.c: resolves tasks left 'running' by an executor that is gone (launcher, in a wx transaction) */
extern void bb_recover_orphans(void);

/* true when pid is one of the live executors */
extern bool bb_executor_alive(pid_t pid);

#endif
