/* gitops_fetch.c — one fetch: start the libgit2 helper, collect what it writes, record it.
 *
 * The helper (bytebase-git-fetch, next to the postgres binary) is a process of its own: no
 * PostgreSQL state is touched between fork and exec, the token travels on its stdin (never in
 * argv or the environment), it dies with the worker (PR_SET_PDEATHSIG), and no transaction is
 * open while it works.  Its answer is recorded in one short transaction (bb._gitops_record or
 * bb._gitops_failed).
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "gitops.h"
#include "gitops_int.h"
#include "wire.h"
#include "worker_spi.h"

extern char **environ;

#define READ_CHUNK 65536

/* The job as records on the helper's stdin. */
static void
job_records(StringInfo buf, const GitopsJob *job)
{
	const struct
	{
		char		tag;
		const char *value;
	}			f[] = {
		{'u', job->url}, {'b', job->branch}, {'p', job->path}, {'w', job->workdir},
		{'c', job->last_commit}, {'U', job->user}, {'T', job->token},
		{'m', psprintf("%d", bb_git_max_file_bytes)}, {'M', psprintf("%d", bb_git_max_fetch_bytes)},
		{'q', job->quick ? "1" : NULL}, {'.', NULL}
	};

	for (int i = 0; i < lengthof(f); i++)
	{
		uint32		n = f[i].value ? strlen(f[i].value) : 0;
		char		head[5];

		head[0] = f[i].tag;
		head[1] = (char) (n >> 24);
		head[2] = (char) (n >> 16);
		head[3] = (char) (n >> 8);
		head[4] = (char) n;
		appendBinaryStringInfo(buf, head, 5);
		if (n > 0)
			appendBinaryStringInfo(buf, f[i].value, n);
	}
}

/* The child between fork and exec: async-signal-safe calls only, then the helper. */
static void
exec_helper(const char *helper, int in, int out, pid_t parent)
{
	char	   *argv[2];

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(1);
	/* none of the server's descriptors (sockets, pipes, files) reaches the helper */
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 4096; fd++)
			(void) close(fd);
	argv[0] = (char *) helper;
	argv[1] = NULL;
	{
		sigset_t	none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execve(helper, argv, environ);
	_exit(127);
}

/* Starts the helper for f->job; false with *error when it could not be started. */
bool
gitops_spawn(GitopsFetch *f, const char *helper, char **error)
{
	int			in[2] = {-1, -1};
	int			out[2] = {-1, -1};
	sigset_t	all,
				old;
	StringInfoData job;
	pid_t		pid;
	pid_t		me = getpid();
	ssize_t		w;

	initStringInfo(&job);
	job_records(&job, &f->job);
	if (f->job.token)
		explicit_bzero(f->job.token, strlen(f->job.token));
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
	{
		*error = psprintf("could not create a pipe for the git helper: %m");
		goto fail;
	}
	(void) fcntl(out[0], F_SETPIPE_SZ, 1 << 20);	/* fewer wake-ups for big files */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		exec_helper(helper, in[0], out[1], me);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
	{
		*error = psprintf("could not start the git helper: %m");
		goto fail;
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	/* the job is a few kB, far below the pipe's capacity: this write does not wait */
	w = write(in[1], job.data, job.len);
	explicit_bzero(job.data, job.len);
	close(in[1]);
	in[1] = -1;
	if (w != job.len)
		ereport(LOG, (errmsg("bytebase gitops: could not pass the job to the git helper: %m")));
	(void) fcntl(out[0], F_SETFL, O_NONBLOCK);
	f->pid = pid;
	f->fd = out[0];
	f->started = GetCurrentTimestamp();
	f->deadline = TimestampTzPlusMilliseconds(f->started, bb_git_timeout_ms);
	initStringInfo(&f->out);
	pfree(job.data);
	return true;

fail:
	explicit_bzero(job.data, job.len);
	pfree(job.data);
	for (int i = 0; i < 2; i++)
	{
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return false;
}

/* Reaps the helper (killing it when it is still there) and closes its pipe. */
static void
reap(GitopsFetch *f, bool kill_it)
{
	if (f->fd >= 0)
	{
		close(f->fd);
		f->fd = -1;
	}
	if (f->pid > 0)
	{
		if (kill_it || waitpid(f->pid, &f->status, WNOHANG) == 0)
		{
			(void) kill(f->pid, SIGKILL);
			while (waitpid(f->pid, &f->status, 0) < 0 && errno == EINTR)
				;
		}
		f->pid = 0;
	}
	f->ended = true;
}

/* Reads what the helper wrote until the pipe is empty; at its end the helper is reaped. */
void
gitops_drain(GitopsFetch *f)
{
	MemoryContext old = MemoryContextSwitchTo(f->cxt);
	uint64		cap = (uint64) bb_git_max_fetch_bytes + 16 * 1024 * 1024;	/* content + records */

	while (f->fd >= 0)
	{
		ssize_t		r;

		enlargeStringInfo(&f->out, READ_CHUNK);
		r = read(f->fd, f->out.data + f->out.len, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0)
		{
			reap(f, false);
			break;
		}
		f->out.len += r;
		f->out.data[f->out.len] = '\0';
		if ((uint64) f->out.len > cap)
		{
			f->overflow = true;
			reap(f, true);
		}
	}
	MemoryContextSwitchTo(old);
}

/* Ends a helper that ran out of time (or every helper, when the worker exits). */
void
gitops_stop(GitopsFetch *f, bool timed_out)
{
	f->timed_out = f->timed_out || timed_out;
	reap(f, true);
}

/* Text as the catalog takes it: invalid UTF-8 bytes (git allows any in names) become '?'. */
static char *
clean_text(const char *s, size_t len)
{
	char	   *t = palloc(len + 1);
	size_t		i = 0;

	while (i < len)
	{
		int			ok = pg_encoding_verifymbstr(PG_UTF8, s + i, (int) (len - i));

		memcpy(t + i, s + i, ok);
		i += ok;
		if (i < len)
			t[i++] = '?';
	}
	t[len] = '\0';
	return t;
}

/* The next field of a record as catalog text (see clean_text); NULL when there is none. */
static char *
field_text(const BBWireRecord *rec, size_t *off)
{
	const char *s;
	size_t		n;

	return bbw_field(rec, off, &s, &n) ? clean_text(s, n) : NULL;
}

/* The parsed answer of the helper, as the arrays bb._gitops_record takes. */
typedef struct Answer
{
	char	   *head;
	char	   *rewritten_from;
	StringInfoData warnings;
	char	   *error;
	char	   *error_code;
	bool		complete;		/* the closing '.' record arrived */
	bool		malformed;
	int			n;
	int			cap;
	Datum	   *paths,
			   *contents,
			   *notes,
			   *blobs,
			   *sizes,
			   *commits,
			   *authors,
			   *committed;
	bool	   *contents_null,
			   *notes_null,
			   *commits_null;
} Answer;

/* An F record: one file of the answer, its content NULL (with the note) when the helper did
 * not read it; a name that is not UTF-8 is listed with a note and never applied. */
static void
add_file(Answer *a, const BBWireRecord *rec)
{
	size_t		off = 0;
	const char *raw;
	size_t		rawlen;
	bool		name_ok;
	char	   *path;
	char	   *blob;
	char	   *size;
	char	   *note;
	char	   *commit;
	char	   *author;
	char	   *when;
	bytea	   *content;

	if (!bbw_field(rec, &off, &raw, &rawlen))
	{
		a->malformed = true;
		return;
	}
	name_ok = pg_encoding_verifymbstr(PG_UTF8, raw, (int) rawlen) == (int) rawlen;
	path = clean_text(raw, rawlen);
	blob = field_text(rec, &off);
	size = field_text(rec, &off);
	note = field_text(rec, &off);
	commit = field_text(rec, &off);
	author = field_text(rec, &off);
	when = field_text(rec, &off);
	if (blob == NULL || size == NULL || note == NULL || commit == NULL || author == NULL || when == NULL)
	{
		a->malformed = true;
		return;
	}
	if (!name_ok)
		note = "the file name is not valid UTF-8";	/* listed, never applied */
	if (a->n == a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 64;
#define GROW(x, T) a->x = a->x ? repalloc(a->x, sizeof(T) * a->cap) : palloc(sizeof(T) * a->cap)
		GROW(paths, Datum); GROW(contents, Datum); GROW(notes, Datum); GROW(blobs, Datum);
		GROW(sizes, Datum); GROW(commits, Datum); GROW(authors, Datum); GROW(committed, Datum);
		GROW(contents_null, bool); GROW(notes_null, bool); GROW(commits_null, bool);
#undef GROW
	}
	content = palloc(VARHDRSZ + rec->len - off);
	SET_VARSIZE(content, VARHDRSZ + rec->len - off);
	memcpy(VARDATA(content), rec->data + off, rec->len - off);
	a->paths[a->n] = CStringGetTextDatum(path);
	a->blobs[a->n] = CStringGetTextDatum(blob);
	a->sizes[a->n] = Int64GetDatum(strtoll(size, NULL, 10));
	a->notes_null[a->n] = note[0] == '\0';
	a->notes[a->n] = CStringGetTextDatum(note);
	a->contents_null[a->n] = note[0] != '\0';
	a->contents[a->n] = PointerGetDatum(content);
	/* who changed it: known when it changed in the commits the helper searched */
	a->commits_null[a->n] = commit[0] == '\0';
	a->commits[a->n] = CStringGetTextDatum(commit);
	a->authors[a->n] = CStringGetTextDatum(author);
	a->committed[a->n] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) strtoll(when, NULL, 10)));
	a->n++;
}

/* Reads the helper's records; anything out of place marks the answer malformed (it is then
 * recorded as a failed fetch, never half-applied). */
static void
parse_answer(const StringInfo out, Answer *a)
{
	BBWireRecord rec;
	size_t		pos = 0;
	int			rc = 0;

	memset(a, 0, sizeof(*a));
	initStringInfo(&a->warnings);
	while (!a->complete && (rc = bbw_next(out->data, out->len, &pos, &rec)) == 1)
	{
		size_t		off = 0;

		switch (rec.tag)
		{
			case 'H':
				a->head = clean_text(rec.data, rec.len);
				break;
			case 'R':
				a->rewritten_from = clean_text(rec.data, rec.len);
				break;
			case 'W':
				appendStringInfo(&a->warnings, "%s%s", a->warnings.len ? "; " : "", clean_text(rec.data, rec.len));
				break;
			case 'F':
				add_file(a, &rec);
				break;
			case 'E':
				a->error_code = field_text(&rec, &off);
				a->error = clean_text(rec.data + off, rec.len - off);
				break;
			case '.':
				a->complete = true;
				break;
			default:
				a->malformed = true;
		}
	}
	if (rc < 0)
		a->malformed = true;
}

/* A one-dimensional SQL array of n datums of a type, for bb._gitops_record's parameters. */
static ArrayType *
array_of(Datum *v, bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	if (n == 0)
		return construct_empty_array(type);
	return construct_md_array(v, nulls, 1, dims, lbs, type, typlen, typbyval, typalign);
}

/* Why a fetch has no answer to record: timeout, overflow, a helper that died. */
static char *
failure_of(GitopsFetch *f, const Answer *a, const char **code)
{
	*code = "58000";
	if (f->spawn_error)
		return f->spawn_error;
	if (f->timed_out)
	{
		*code = "08006";
		return psprintf("the fetch did not finish within bytebase.git_timeout (%d ms)", bb_git_timeout_ms);
	}
	if (f->overflow)
	{
		*code = "54000";
		return psprintf("the fetch returned more than bytebase.git_max_fetch_size (%d bytes) allows", bb_git_max_fetch_bytes);
	}
	if (a->error)
	{
		*code = a->error_code ? a->error_code : "58000";
		return a->error;
	}
	if (WIFEXITED(f->status) && WEXITSTATUS(f->status) == 127)
		return psprintf("the git helper %s could not be run (is it installed?)", BB_GITOPS_HELPER);
	if (WIFSIGNALED(f->status))
		return psprintf("the git helper ended by signal %d", WTERMSIG(f->status));
	if (!a->complete || a->malformed || a->head == NULL)
		return psprintf("the git helper ended without an answer (exit status %d)",
						WIFEXITED(f->status) ? WEXITSTATUS(f->status) : -1);
	return NULL;
}

/* One short transaction: bb._gitops_record with the helper's answer, or bb._gitops_failed. */
static int64
record_answer(GitopsFetch *f, Answer *a, const char *failure, const char *code)
{
	const char *trigger = f->job.requested ? "request" : "poll";
	int64		sync_id = 0;
	bool		isnull = true;

	wx_begin("bytebase gitops: recording a fetch");
	if (failure != NULL)
	{
		const char *args[5];

		args[0] = wx_itoa(f->job.repository_id);
		args[1] = trigger;
		args[2] = DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(f->started)));
		args[3] = failure;
		args[4] = code;
		if (wx_exec("SELECT bb._gitops_failed($1::bigint, $2, $3::timestamptz, $4, $5)", 5, args) == 1)
		{
			char	   *v = wx_get(0, 1);

			sync_id = v ? strtoll(v, NULL, 10) : 0;
		}
	}
	else
	{
		Oid			types[14] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, BOOLOID, TEXTOID,
								 TEXTARRAYOID, BYTEAARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID,
								 TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID};
		Datum		v[14];
		char		n[15] = "              ";
		MemoryContext cxt = CurrentMemoryContext;
		int			rc;

		v[0] = Int64GetDatum(f->job.repository_id);
		v[1] = CStringGetTextDatum(trigger);
		v[2] = TimestampTzGetDatum(f->started);
		v[3] = CStringGetTextDatum(a->head);
		v[4] = BoolGetDatum(a->rewritten_from != NULL);
		v[5] = a->rewritten_from || a->warnings.len
			? CStringGetTextDatum(a->rewritten_from
								  ? psprintf("branch %s was rewritten (force-push): the previous commit %.12s is no longer in its history; "
											 "applied files keep their changelog, nothing is reverted%s%s",
											 f->job.branch, a->rewritten_from, a->warnings.len ? "; " : "", a->warnings.data)
								  : a->warnings.data)
			: (Datum) 0;
		n[5] = (a->rewritten_from || a->warnings.len) ? ' ' : 'n';
		v[6] = PointerGetDatum(array_of(a->paths, NULL, a->n, TEXTOID));
		v[7] = PointerGetDatum(array_of(a->contents, a->contents_null, a->n, BYTEAOID));
		v[8] = PointerGetDatum(array_of(a->notes, a->notes_null, a->n, TEXTOID));
		v[9] = PointerGetDatum(array_of(a->blobs, NULL, a->n, TEXTOID));
		v[10] = PointerGetDatum(array_of(a->sizes, NULL, a->n, INT8OID));
		v[11] = PointerGetDatum(array_of(a->commits, a->commits_null, a->n, TEXTOID));
		v[12] = PointerGetDatum(array_of(a->authors, a->commits_null, a->n, TEXTOID));
		v[13] = PointerGetDatum(array_of(a->committed, a->commits_null, a->n, TIMESTAMPTZOID));
		rc = SPI_execute_with_args("SELECT bb._gitops_record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
								   14, types, v, n, false, 1);
		MemoryContextSwitchTo(cxt);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "bb._gitops_record failed (SPI code %d)", rc);
		if (SPI_processed == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			sync_id = isnull ? 0 : DatumGetInt64(d);
		}
	}
	wx_commit();
	return sync_id;
}

/* Records an ended fetch and answers its bb.sync_repository callers.  An error while recording
 * (e.g. the extension is being dropped) is itself recorded, in a transaction of its own. */
void
gitops_record(GitopsFetch *f)
{
	MemoryContext old = MemoryContextSwitchTo(f->cxt);
	Answer		a;
	const char *code;
	char	   *failure;
	int64		sync_id = 0;

	parse_answer(&f->out, &a);
	failure = failure_of(f, &a, &code);
	PG_TRY();
	{
		sync_id = record_answer(f, &a, failure, code);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(f->cxt);
		e = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG, (errmsg("bytebase gitops: could not record the fetch of repository " INT64_FORMAT ": %s",
							 f->job.repository_id, e->message)));
		PG_TRY();
		{
			sync_id = record_answer(f, &a, psprintf("could not record the fetch: %s", e->message),
									unpack_sql_state(e->sqlerrcode));
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	bb_gitops_finish_requests(f->job.repository_id, sync_id);
}
