/* gitops.h — the GitOps watcher: settings, the worker, the shared state bb.sync_repository uses */
#ifndef BB_GITOPS_H
#define BB_GITOPS_H

#include "postgres.h"
#include "storage/latch.h"
#include "storage/spin.h"

/* settings (gitops_shmem.c) */
extern char *bb_git_directory;		/* bytebase.git_directory: working copies ('' = $PGDATA/bytebase_git) */
extern int	bb_git_timeout_ms;		/* bytebase.git_timeout: one fetch, connect to last byte */
extern int	bb_git_max_file_bytes;	/* bytebase.git_max_file_size: larger files are listed, not read */
extern int	bb_git_max_fetch_bytes; /* bytebase.git_max_fetch_size: all files of one fetch together */

#define BB_GITOPS_MAX_REQUESTS 32	/* bb.sync_repository calls waiting at once */
#define BB_GITOPS_HELPER "bytebase-git-fetch"	/* the libgit2 helper, next to the postgres binary */

typedef enum BBGitopsRequestState
{
	BB_REQ_FREE = 0,
	BB_REQ_WAITING,				/* asked for, the worker has not started its fetch */
	BB_REQ_RUNNING,				/* the worker's fetch for it is under way */
	BB_REQ_DONE,				/* sync_id holds the result; the caller frees the slot */
	BB_REQ_ABANDONED			/* the caller gave up while running; the worker frees it */
} BBGitopsRequestState;

typedef struct BBGitopsRequest
{
	BBGitopsRequestState state;
	int64		repository_id;
	Latch	   *caller_latch;	/* the waiting backend's process latch */
	int64		sync_id;		/* bb.repository_sync row of the fetch (0: none) */
} BBGitopsRequest;

typedef struct BBGitopsShmem
{
	slock_t		mutex;			/* protects everything below; held for a few instructions */
	pid_t		worker_pid;
	Latch	   *worker_latch;
	BBGitopsRequest req[BB_GITOPS_MAX_REQUESTS];
} BBGitopsShmem;

extern BBGitopsShmem *bb_gitops_shmem;	/* NULL unless preloaded */

/* from _PG_init: settings always; shared memory and the worker when preloading */
extern void bb_gitops_init(void);

/* the worker's side of the requests: take the waiting ones for repositories not in flight
 * (returns how many ids were written to out), and hand back the result of a fetch */
extern int	bb_gitops_take_requests(int64 *out, int max, const int64 *busy, int nbusy);
extern void bb_gitops_finish_requests(int64 repository_id, int64 sync_id);

/* gitops_worker.c */
extern PGDLLEXPORT void bb_gitops_main(Datum arg);

#endif
