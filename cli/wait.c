/* wait.c — following issues to their end: a progress bar on a terminal, a line per change
 * otherwise; woken by LISTEN bytebase (ids only), with a 1 s poll as the fallback */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "bb.h"

#define DEFAULT_TIMEOUT 600.0	/* seconds */
#define BAR 30

/* Monotonic seconds: the timeout is not fooled by clock changes. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until a notification arrives on the connection or the time passes. */
static void
sleep_or_notify(PGconn *c, double seconds)
{
	int			fd = PQsocket(c);
	fd_set		in;
	struct timeval tv;
	PGnotify   *n;

	if (seconds <= 0)
		return;
	tv.tv_sec = (time_t) seconds;
	tv.tv_usec = (suseconds_t) ((seconds - (double) tv.tv_sec) * 1e6);
	FD_ZERO(&in);
	if (fd >= 0)
		FD_SET(fd, &in);
	if (select(fd >= 0 ? fd + 1 : 0, &in, NULL, NULL, &tv) > 0)
	{
		PQconsumeInput(c);
		while ((n = PQnotifies(c)) != NULL)
			PQfreemem(n);
	}
}

/* One line redrawn in place on a terminal: a bar of tasks done, and the issue rolling out. */
static void
draw_bar(long done, long total, const char *what)
{
	int			fill = total > 0 ? (int) (BAR * done / total) : 0;

	fputs("\r\033[K[", stderr);
	for (int i = 0; i < BAR; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %ld/%ld tasks  %s", done, total, what);
	fflush(stderr);
}

/* Follows issues until each is done, failed, canceled or waiting for approval (settled), Ctrl-C
 * or the timeout; prints the final state of each. */
int
follow_issues(PGconn *c, const Options *o, const long long *ids, const char *const *names, int n)
{
	double		timeout = o->timeout >= 0 ? o->timeout : DEFAULT_TIMEOUT;
	double		start = now_s();
	bool		tty = o->format == FMT_TEXT && isatty(STDERR_FILENO);
	char	  **shown = calloc((size_t) n + 1, sizeof(char *));
	Buf			arr = {0};
	const char *params[1];
	PGresult   *r = NULL;
	PGresult   *l;
	int			status = EXIT_OK;
	bool		timed_out = false;
	bool		final_pass = false;

	buf_str(&arr, "{");
	for (int i = 0; i < n; i++)
		buf_fmt(&arr, "%s%lld", i ? "," : "", ids[i]);
	buf_str(&arr, "}");
	params[0] = arr.data;
	l = PQexec(c, "LISTEN bytebase");
	PQclear(l);
	for (;;)
	{
		long		total = 0;
		long		done = 0;
		bool		settled = true;
		const char *current = "";
		Buf			what = {0};

		PQclear(r);
		r = query(c, "SELECT i.id, bb.wait(i.id, '0 s'), i.progress, i.waiting_for, "
				  "(SELECT count(*) FROM bb.task t WHERE t.issue_id = i.id), "
				  "(SELECT count(*) FROM bb.task t WHERE t.issue_id = i.id AND t.status IN ('done', 'skipped')) "
				  "FROM bb.issues i WHERE i.id = ANY ($1::bigint[]) ORDER BY i.id", 1, params);
		if (PQntuples(r) < n)
		{
			fprintf(stderr, "bb: %s not exist or cannot be seen\n", n == 1 ? "the issue does" : "some issues do");
			status = EXIT_USAGE;
			break;
		}
		for (int i = 0; i < PQntuples(r); i++)
		{
			const char *state = PQgetvalue(r, i, 1);
			const char *name = "";
			Buf			line = {0};

			for (int k = 0; k < n; k++)
				if (ids[k] == atoll(PQgetvalue(r, i, 0)) && names && names[k])
					name = names[k];
			total += atol(PQgetvalue(r, i, 4));
			done += atol(PQgetvalue(r, i, 5));
			if (strcmp(state, "running") == 0)
			{
				settled = false;
				if (!current[0])
					current = PQgetvalue(r, i, 0);
			}
			buf_fmt(&line, "issue %s%s%s: %s, %s%s%s", PQgetvalue(r, i, 0), name[0] ? " " : "", name, state,
					PQgetvalue(r, i, 2), PQgetisnull(r, i, 3) ? "" : ", waiting for ",
					PQgetisnull(r, i, 3) ? "" : PQgetvalue(r, i, 3));
			if (!tty && o->format == FMT_TEXT && (shown[i] == NULL || strcmp(shown[i], line.data) != 0))
				fprintf(stderr, "%s\n", line.data);
			if (current == PQgetvalue(r, i, 0))
				buf_str(&what, line.data);
			free(shown[i]);
			shown[i] = line.data;
		}
		if (tty)
			draw_bar(done, total, what.data ? what.data : "");
		buf_free(&what);
		/* bb.wait reads newer states than the counts' statement snapshot: once settled, one more
		 * pass (its snapshot taken after that state) shows the final counts */
		if (settled && final_pass)
			break;
		if (settled)
		{
			final_pass = true;
			continue;
		}
		if (interrupted)
		{
			if (tty)
				fputc('\n', stderr);
			fputs("bb: interrupted; the rollout goes on (bb status ISSUE shows it)\n", stderr);
			status = 130;
			break;
		}
		if (now_s() - start >= timeout)
		{
			timed_out = true;
			break;
		}
		sleep_or_notify(c, timeout - (now_s() - start) < 1.0 ? timeout - (now_s() - start) : 1.0);
	}
	if (tty)
		fputc('\n', stderr);
	if (r != NULL && status == EXIT_OK)
	{
		for (int i = 0; i < PQntuples(r); i++)
			if (strcmp(PQgetvalue(r, i, 1), "done") != 0)
				status = EXIT_FINDINGS;
		if (timed_out)
			fprintf(stderr, "bb: timed out after %.0f s; the rollout goes on (bb status ISSUE shows it)\n", timeout);
		if (o->format == FMT_TEXT)
			for (int i = 0; i < PQntuples(r); i++)
				printf("%s\n", shown[i]);
		else if (o->format == FMT_JSON)
		{
			printf(", \"issues\": [");
			for (int i = 0; i < PQntuples(r); i++)
			{
				printf("%s{\"id\": %s, \"state\": ", i ? ", " : "", PQgetvalue(r, i, 0));
				json_str(stdout, PQgetvalue(r, i, 1));
				printf(", \"progress\": ");
				json_str(stdout, PQgetvalue(r, i, 2));
				printf(", \"waiting_for\": ");
				json_str(stdout, PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3));
				printf("}");
			}
			printf("], \"timed_out\": %s", timed_out ? "true" : "false");
		}
	}
	l = PQexec(c, "UNLISTEN bytebase");
	PQclear(l);
	PQclear(r);
	for (int i = 0; i < n; i++)
		free(shown[i]);
	free(shown);
	buf_free(&arr);
	return status;
}
