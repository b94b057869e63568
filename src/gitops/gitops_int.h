/* gitops_int.h — the gitops worker's fetches (gitops_worker.c schedules, gitops_fetch.c runs) */
#ifndef BB_GITOPS_INT_H
#define BB_GITOPS_INT_H

#include "postgres.h"

#include <sys/types.h>

#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#define BB_GITOPS_MAX_FETCHES 4		/* helpers running at once: one slow repository never stalls the others */

/* What one fetch needs, copied out of the catalog (the token too: it goes to the helper's
 * stdin and is wiped as soon as it is written). */
typedef struct GitopsJob
{
	int64		repository_id;
	bool		requested;		/* bb.sync_repository waits for it */
	bool		quick;			/* a poll: no files needed when the branch has not moved */
	char	   *url;
	char	   *branch;
	char	   *path;
	char	   *last_commit;	/* NULL before the first successful fetch */
	char	   *workdir;		/* absolute path of the working copy */
	char	   *user;
	char	   *token;
} GitopsJob;

/* A running (or just ended) helper and what it wrote so far. */
typedef struct GitopsFetch
{
	bool		in_use;
	GitopsJob	job;
	MemoryContext cxt;			/* everything of this fetch; deleted when it is recorded */
	pid_t		pid;			/* 0 once reaped */
	int			fd;				/* its stdout, non-blocking; -1 once closed */
	StringInfoData out;
	TimestampTz started;
	TimestampTz deadline;
	bool		ended;			/* stdout closed and the process reaped */
	bool		timed_out;
	bool		overflow;		/* wrote more than bytebase.git_max_fetch_size allows */
	int			status;			/* waitpid status */
	char	   *spawn_error;	/* why the helper could not be started */
} GitopsFetch;

/* gitops_fetch.c */
extern bool gitops_spawn(GitopsFetch *f, const char *helper, char **error);
extern void gitops_drain(GitopsFetch *f);
extern void gitops_stop(GitopsFetch *f, bool timed_out);
extern void gitops_record(GitopsFetch *f);

#endif
