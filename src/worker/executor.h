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

/* Work an executor may start now (the launcher counts it; executors claim with bb._task_claim). */
#define BB_DUE_DRY_RUNS_SQL \
	"SELECT c.task_id FROM bb.plan_check c WHERE c.kind = 'dry_run' AND c.status = 'pending' " \
	"AND c.task_id IN (SELECT task_id FROM bb._due_plan_checks)"
/* t.status is tested on t itself: a row locked after another executor's claim committed is
 * re-checked in its new version (the view's own scan of bb.task is not re-checked). */
#define BB_RUNNABLE_TASKS_SQL \
	"SELECT t.id FROM bb.task t WHERE t.status = 'pending' AND t.id IN (SELECT id FROM bb._runnable_tasks)"

/* task_recovery.c: resolves tasks left 'running' by an executor that is gone (launcher, in a wx transaction) */
extern void bb_recover_orphans(void);

/* true when pid is one of the live executors */
extern bool bb_executor_alive(pid_t pid);

#endif
