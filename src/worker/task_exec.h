/* task_exec.h — running one task's change on its target, per engine, with no control-database
 * transaction open while the target works */
#ifndef BB_TASK_EXEC_H
#define BB_TASK_EXEC_H

#include "postgres.h"
#include "nodes/pg_list.h"

#include "datatype/timestamp.h"
#include "driver.h"

/* Phases of a task, timed for bytebase.trace_tasks (where the time goes). */
typedef enum BBPhase
{
	BB_PHASE_CLAIM,				/* claim transaction in the control database */
	BB_PHASE_SPLIT,				/* the script cut into statements */
	BB_PHASE_CONNECT,			/* target connection, authentication included */
	BB_PHASE_HISTORY,			/* BEGIN, bytebase.history checked or created, its row */
	BB_PHASE_STATEMENTS,		/* the reviewed statements */
	BB_PHASE_COMMIT,			/* COMMIT on the target */
	BB_PHASE_SNAPSHOT,			/* schema snapshot after the change */
	BB_PHASE_CLOSE,				/* target connection closed */
	BB_PHASE_FINISH,			/* outcome transaction in the control database */
	BB_NPHASES
} BBPhase;

/* Everything an executor knows about the work it claimed, and what running it produced.
 * Lives in the executor's per-task memory context (never in a transaction's). */
typedef struct BBTaskWork
{
	int64		task_id;
	bool		dry_run;		/* a dry-run plan check of the task, not the change itself */
	int64		run_id;
	int64		issue_id;
	int64		database_id;
	int			attempt;
	char	   *instance;		/* bb.instance.name */
	char	   *database;		/* bb.database.name */
	char	   *engine;			/* bb.instance.engine */
	bool		resumable;		/* bb.engine.resumable */
	bool		transactional_ddl;	/* bb.engine.transactional_ddl: atomic change + history row */
	char	   *body;			/* the statement text */
	char	   *hash;			/* sha256 of body (statement_hash and checksum) */
	char	   *version;		/* may be NULL */
	char	   *control_id;		/* identifies this control plane in the target's history */
	BBConnInfo *conninfo;		/* where and as whom to connect (resolved in the claim) */
	List	   *stmts;			/* the script cut by the review splitter (char *) */
	int			first_statement;	/* statements done by earlier attempts: start after them */

	/* results */
	bool		connected;		/* the target answered (an error after this is the statement's) */
	bool		by_statement;	/* ran statement by statement (progress counts statements) */
	int			stmts_done;		/* statements of the script done (absolute, including earlier attempts) */
	int64		affected;		/* -1 when unknown */
	bool		already_applied;	/* the target's history already had this task */
	bool		remote_committed;	/* something was committed on the target */
	char	   *schema_after;	/* JSON text or NULL (best effort) */

	/* bytebase.trace_tasks: time spent per phase, and the end of the last phase */
	int64		phase_us[BB_NPHASES];
	TimestampTz phase_mark;

	/* called after each statement that committed on the target (may be NULL) */
	void		(*progress) (struct BBTaskWork *w);
} BBTaskWork;

/* Connects to the target and applies the change, resuming after first_statement where the
 * engine allows; ereports the remote error on failure with stmts_done telling how far it got.
 * Runs outside any transaction of the control database. */
extern void bb_task_execute(BBTaskWork *w);

/* Dry run on a PostgreSQL target: BEGIN; statements; ROLLBACK.  Returns NULL when it ran
 * clean, else why it was not run (non-transactional script); remote errors are ereported
 * (w->connected tells whether the statement or the connection failed). */
extern char *bb_task_dry_run(BBTaskWork *w);

/* Charges the time since the last mark to phase (bytebase.trace_tasks). */
extern void bb_phase_end(BBTaskWork *w, BBPhase phase);

/* Logs the phases of a task when bytebase.trace_tasks is on. */
extern void bb_trace_task(BBTaskWork *w);

/* True when a task runs atomically (transactional DDL, no statement refusing a transaction block). */
extern bool bb_task_is_atomic(bool transactional_ddl, List *stmts);

#endif
