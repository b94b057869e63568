/* main.c — bytebase-git-fetch: reads the job from stdin, runs it, answers on stdout (wire.h) */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "wire.h"

#define MAX_JOB_BYTES (64 * 1024)	/* the job is a few short strings */

static int	out_failed = 0;

/* The worker reads everything we write; if it is gone, stop at once. */
void
out_record(char tag, int nparts, const char *const *parts, const size_t *lens)
{
	if (out_failed)
		return;
	if (bbw_write(STDOUT_FILENO, tag, nparts, parts, lens) < 0)
		out_failed = 1;
}

/* A record of one string field. */
void
out_str(char tag, const char *s)
{
	size_t		n = s ? strlen(s) : 0;
	const char *parts[1] = {s ? s : ""};

	out_record(tag, 1, parts, &n);
}

/* The E record: what failed and why, libgit2's own message appended; one line, never a secret
 * (libgit2's messages name URLs and paths, not credentials). */
void
out_error(const char *sqlstate, int git_rc, const char *fmt,...)
{
	char		msg[2048];
	va_list		ap;
	const git_error *e = git_rc < 0 ? git_error_last() : NULL;
	const char *parts[2];
	size_t		lens[2];
	size_t		n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	if (e != NULL && e->message != NULL && n + 3 < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", e->message);
	/* messages are one line: libgit2's may end in a newline */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	parts[0] = sqlstate;
	parts[1] = msg;
	lens[0] = strlen(sqlstate);
	lens[1] = strlen(msg);
	out_record('E', 2, parts, lens);
}

/* The whole job, at most MAX_JOB_BYTES; NULL on a read error or an oversized job. */
static char *
read_job(size_t *len)
{
	char	   *buf = malloc(MAX_JOB_BYTES);
	size_t		n = 0;

	if (buf == NULL)
		return NULL;
	for (;;)
	{
		ssize_t		r = read(STDIN_FILENO, buf + n, MAX_JOB_BYTES - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && n == 0) || (r > 0 && n + (size_t) r >= MAX_JOB_BYTES))
		{
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t) r;
	}
	*len = n;
	return buf;
}

/* A field value as a C string: the payload is copied behind the buffer's records, so it
 * cannot hold a NUL byte (such a value is refused). */
static const char *
job_string(const BBWireRecord *rec, char **arena)
{
	char	   *s;

	if (memchr(rec->data, '\0', rec->len) != NULL)
		return NULL;
	s = *arena;
	memcpy(s, rec->data, rec->len);
	s[rec->len] = '\0';
	*arena += rec->len + 1;
	return s;
}

/* Fills the job from its records; 0, or -1 when a required one is missing or malformed. */
static int
parse_job(const char *buf, size_t len, char *arena, HelperJob *job)
{
	BBWireRecord rec;
	size_t		pos = 0;
	int			rc = 0;
	int			ended = 0;

	memset(job, 0, sizeof(*job));
	job->max_file = 16 * 1024 * 1024;
	job->max_total = 256 * 1024 * 1024;
	job->history = 1000;
	while (!ended && (rc = bbw_next(buf, len, &pos, &rec)) == 1)
	{
		const char *s = job_string(&rec, &arena);

		if (s == NULL)
			return -1;
		switch (rec.tag)
		{
			case 'u': job->url = s; break;
			case 'b': job->branch = s; break;
			case 'p': job->path = s; break;
			case 'w': job->workdir = s; break;
			case 'c': job->previous = *s ? s : NULL; break;
			case 'U': job->user = *s ? s : NULL; break;
			case 'T': job->token = *s ? s : NULL; break;
			case 'm': job->max_file = strtoull(s, NULL, 10); break;
			case 'M': job->max_total = strtoull(s, NULL, 10); break;
			case 'h': job->history = atoi(s); break;
			case 'q': job->quick = *s == '1'; break;
			case '.': ended = 1; break;
			default: return -1;
		}
	}
	if (rc < 0 || !ended || !job->url || !job->branch || !job->path || !job->workdir)
		return -1;
	return 0;
}

/* Reads the whole job before touching libgit2; answers '.' last, so the worker can tell a
 * complete answer from a crash. */
int
main(int argc, char **argv)
{
	size_t		len = 0;
	char	   *buf;
	char	   *arena;
	HelperJob	job;
	int			status = 1;

	(void) argc;
	(void) argv;
	signal(SIGPIPE, SIG_IGN);	/* a vanished reader is a failed write, not a signal */
	buf = read_job(&len);
	if (buf == NULL)
	{
		fprintf(stderr, "bytebase-git-fetch: expected a job on standard input (it is started by the bytebase gitops worker)\n");
		return 2;
	}
	arena = malloc(len + 16);
	if (arena == NULL || parse_job(buf, len, arena, &job) < 0)
	{
		fprintf(stderr, "bytebase-git-fetch: malformed job on standard input\n");
		free(arena);
		free(buf);
		return 2;
	}
	if (git_libgit2_init() < 0)
		out_error("58000", -1, "could not initialize libgit2");
	else
	{
		run_fetch(&job);
		git_libgit2_shutdown();
	}
	out_str('.', NULL);
	if (!out_failed)
		status = 0;
	/* the token is in these buffers: clear them before they go back to the allocator */
	memset(arena, 0, len + 16);
	memset(buf, 0, len);
	free(arena);
	free(buf);
	return status;
}
