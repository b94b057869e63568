/* worker_shmem.h — shared state of the launcher and its executor pool */
#ifndef BB_WORKER_SHMEM_H
#define BB_WORKER_SHMEM_H

#include "postgres.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#define BB_MAX_EXECUTORS 64		/* hard cap of the slot table; bytebase.max_workers is clamped to it */

typedef enum BBSlotState
{
	BB_SLOT_FREE = 0,
	BB_SLOT_STARTING,			/* reserved by the launcher, worker registered */
	BB_SLOT_RUNNING,			/* the executor attached (pid set) */
	BB_SLOT_EXITING				/* linger expired: leaving, do not count it */
} BBSlotState;

typedef struct BBExecutorSlot
{
	BBSlotState state;
	uint32		generation;		/* bumped on each reservation; the worker checks it */
	pid_t		pid;
	Latch	   *latch;
	int64		task_id;		/* task being executed (or dry-run), 0 when idle */
	bool		dry_run;		/* task_id is a dry-run plan check, not the change itself */
	TimestampTz since;			/* when the state / task last changed */
} BBExecutorSlot;

typedef struct BBWorkerShmem
{
	LWLock	   *lock;			/* protects everything below */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	BBExecutorSlot slots[BB_MAX_EXECUTORS];
} BBWorkerShmem;

extern BBWorkerShmem *bb_worker_shmem;	/* NULL unless preloaded */

/* installs the shmem request/startup hooks (from _PG_init, preload only) */
extern void bb_worker_shmem_init(void);

/* sets the launcher's and every executor's latch (work may be waiting) */
extern void bb_wake_workers(void);

/* false while an executor commits a claim or progress: nothing new became runnable */
extern bool bb_wake_enabled;

/* cancels (SIGINT) the executor running task_id, if any; true when one was signalled */
extern bool bb_cancel_task_now(int64 task_id);

#endif
