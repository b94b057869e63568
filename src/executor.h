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

/* Pending tasks that may start now: earlier stages of their issue all done or skipped. */
#define BB_RUNNABLE_TASKS_SQL \
	"SELECT t.id FROM bb.task t JOIN bb.stage s ON s.id = t.stage_id JOIN bb.issue i ON i.id = t.issue_id " \
	"WHERE t.status = 'pending' AND i.status <> 'canceled' " \
	"AND NOT EXISTS (SELECT 1 FROM bb.stage s2 JOIN bb.task t2 ON t2.stage_id = s2.id " \
	"WHERE s2.issue_id = t.issue_id AND s2.position < s.position AND t2.status NOT IN ('done', 'skipped')) " \
	"ORDER BY t.id"

/* calls bb._refresh_issue(issue) when the API defines it (inside a wx transaction) */
extern void bb_refresh_issue(int64 issue_id);

/* task_recovery.c: resolves tasks left 'running' by an executor that is gone (launcher, in a wx transaction) */
extern void bb_recover_orphans(void);

/* true when pid is one of the live executors */
extern bool bb_executor_alive(pid_t pid);

#endif
