/* task_exec.h — running one task's change on its target, per engine */
#ifndef BB_TASK_EXEC_H
#define BB_TASK_EXEC_H

#include "postgres.h"

/* Everything an executor knows about the task it claimed, and what running it produced. */
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
	char	   *body;			/* the statement text */
	char	   *hash;			/* sha256 of body (statement_hash and checksum) */
	char	   *version;		/* may be NULL */
	char	   *control_id;		/* identifies this control plane in the target's history */

	/* results */
	bool		connected;		/* the target answered (an error after this is the statement's) */
	bool		by_statement;	/* ran statement by statement (progress counts statements) */
	int			stmts_total;
	int			stmts_done;
	int64		affected;		/* -1 when unknown */
	bool		already_applied;	/* the target's history already had this task */
	bool		remote_committed;	/* something was committed on the target */
	char	   *schema_after;	/* JSON text or NULL (best effort) */

	/* called after each statement that committed on the target (may be NULL) */
	void		(*progress) (struct BBTaskWork *w);
} BBTaskWork;

/* Connects to the target and applies the change; ereports the remote error on failure
 * with stmts_done telling how far it got. */
extern void bb_task_execute(BBTaskWork *w);

/* Dry run on a PostgreSQL target: BEGIN; script; ROLLBACK.  Returns NULL when it ran clean,
 * else why it was not run (non-transactional script); remote errors are ereported
 * (w->connected tells whether the statement or the connection failed). */
extern char *bb_task_dry_run(BBTaskWork *w);

/* Name of the history table on PostgreSQL targets (schema-qualified). */
#define BB_TARGET_HISTORY "bytebase.history"

#endif
