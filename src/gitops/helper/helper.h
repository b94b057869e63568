/* helper.h — bytebase-git-fetch, the gitops worker's libgit2 helper: one fetch of one branch
 * of one repository into its working copy, then the files under a path on stdout (wire.h).
 * It runs as its own short-lived process: libgit2 never runs in a PostgreSQL process, a
 * hang is ended by the worker, and every allocation is freed on every path (LeakSanitizer
 * checks it in test/gitops). */
#ifndef BB_GIT_HELPER_H
#define BB_GIT_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

/* What the worker asks for (all strings NUL-terminated, owned by the input buffer). */
typedef struct HelperJob
{
	const char *url;
	const char *branch;
	const char *path;			/* '' = the root, else "a/b" without slashes at the ends */
	const char *workdir;		/* absolute path of the bare working copy */
	const char *previous;		/* last commit seen (hex), NULL on the first fetch */
	const char *user;			/* https credentials, NULL for none */
	const char *token;
	uint64_t	max_file;		/* larger files are listed without content */
	uint64_t	max_total;		/* all contents together */
	int			history;		/* commits searched for the author of each file */
	int			quick;			/* the branch has not moved: the head only, no files */
} HelperJob;

/* output (main.c): one record each; a failed write (worker gone) ends the process */
extern void out_record(char tag, int nparts, const char *const *parts, const size_t *lens);
extern void out_str(char tag, const char *s);
/* an E record: SQLSTATE and the message, with libgit2's last error appended when git_rc < 0 */
extern void out_error(const char *sqlstate, int git_rc, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* fetch.c: fetches the branch and writes H, R/W, F and A records (or an E record); 0 when the
 * job ran to its end, -1 after an E record */
extern int	run_fetch(const HelperJob *job);

/* The newest commit that changed a file, and its author. */
typedef struct Author
{
	char	   *path;			/* relative to the job's path */
	char		commit[GIT_OID_HEXSZ + 1];
	char	   *author;			/* "Name <email>" */
	long long	when;			/* author time, seconds since the epoch */
} Author;

typedef struct AuthorMap
{
	Author	  **slot;			/* open addressing, size a power of two */
	size_t		size;
	size_t		count;
} AuthorMap;

/* history.c: the authors of the files under the path that changed between previous (when it
 * is an ancestor) and head, searching at most job->history commits; 0, or -1 after an E record */
extern int	collect_authors(git_repository *repo, const git_oid *head, const git_oid *previous,
							const HelperJob *job, AuthorMap *map);
extern const Author *author_of(const AuthorMap *map, const char *path);
extern void free_authors(AuthorMap *map);

#endif
