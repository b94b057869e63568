/* conn.c — connecting the libpq way, checking the SQL API, running queries, Ctrl-C */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

volatile int interrupted = 0;
static PGcancel *volatile cancel_handle = NULL;

/* Ctrl-C: cancel the running statement (PQcancel is async-signal-safe) and remember it. */
static void
on_sigint(int sig)
{
	char		errbuf[256];
	PGcancel   *c = cancel_handle;

	(void) sig;
	interrupted = 1;
	if (c != NULL)
		(void) PQcancel(c, errbuf, sizeof(errbuf));
}

/* A password on the command line is visible to every user of the machine (ps, /proc). */
static bool
has_password(const char *conninfo)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	bool		found = false;

	if (opts == NULL)
	{
		fprintf(stderr, "bb: invalid connection string: %s", err ? err : "\n");
		PQfreemem(err);
		exit(EXIT_USAGE);
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
			found = true;
	PQconninfoFree(opts);
	return found;
}

/* Numeric comparison of "major.minor[.patch]" versions. */
static int
compare_versions(const char *a, const char *b)
{
	char	   *ea;
	char	   *eb;

	while (*a || *b)
	{
		long		x = strtol(a, &ea, 10);
		long		y = strtol(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if ((*ea && *ea != '.') || (*eb && *eb != '.'))
			return strcmp(ea, eb);
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
	}
	return 0;
}

/* SQL API versions only grow: a server at or above the one bb needs has what bb calls. */
bool
api_supported(const char *server)
{
	return compare_versions(server, BB_API_NEEDED) >= 0;
}

/* The version of the bytebase extension in the connected database, NULL when it has none. */
char *
server_version(PGconn *c)
{
	PGresult   *r = PQexec(c, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'bytebase'");
	char	   *v = NULL;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* PG* variables, service files and ~/.pgpass are libpq's: bb only adds -d and a default
 * connect timeout.  check_api: the database must have the extension, at a version whose SQL
 * API this bb knows. */
PGconn *
connect_or_exit(const Options *o, bool check_api)
{
	const char *keys[4];
	const char *vals[4];
	int			k = 0;
	PGconn	   *c;
	char	   *v;

	if (o->conninfo && has_password(o->conninfo))
	{
		fputs("bb: refusing a password on the command line (other users can read it in the process list)\n"
			  "hint: use ~/.pgpass, PGPASSFILE, a service file (PGSERVICE) or PGPASSWORD\n", stderr);
		exit(EXIT_USAGE);
	}
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
	{
		keys[k] = "connect_timeout";
		vals[k++] = "10";
	}
	keys[k] = "fallback_application_name";
	vals[k++] = "bb";
	if (o->conninfo)
	{
		keys[k] = "dbname";
		vals[k++] = o->conninfo;
	}
	keys[k] = NULL;
	vals[k] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK)
	{
		fprintf(stderr, "bb: could not connect: %s", c ? PQerrorMessage(c) : "out of memory\n");
		PQfinish(c);
		exit(EXIT_USAGE);
	}
	cancel_handle = PQgetCancel(c);
	signal(SIGINT, on_sigint);
	if (!check_api)
		return c;
	v = server_version(c);
	if (v == NULL)
	{
		fprintf(stderr, "bb: database \"%s\" on %s:%s has no bytebase extension\n"
				"hint: connect to the control database (the one in bytebase.database) with -d or PGDATABASE\n",
				PQdb(c), PQhost(c), PQport(c));
		finish(c);
		exit(EXIT_USAGE);
	}
	if (!api_supported(v))
	{
		fprintf(stderr, "bb: this bb (%s) needs the bytebase SQL API %s or later, but the server's extension is version %s\n"
				"hint: update the extension (ALTER EXTENSION bytebase UPDATE) or use a bb of version %s\n",
				BB_VERSION, BB_API_NEEDED, v, v);
		free(v);
		finish(c);
		exit(EXIT_USAGE);
	}
	free(v);
	return c;
}

/* Closes the connection and the cancel handle the Ctrl-C handler uses. */
void
finish(PGconn *c)
{
	PGcancel   *h = cancel_handle;

	cancel_handle = NULL;
	if (h)
		PQfreeCancel(h);
	PQfinish(c);
}

/* The server's error as psql shows it (message, SQLSTATE, detail, hint), with a clearer word
 * for a function this bb needs that the server lacks. */
void
print_server_error(const PGresult *r)
{
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);

	if (state && strcmp(state, "42883") == 0 && msg && strstr(msg, "bb."))
	{
		/* the server's extension lacks a function this bb calls: say which API is needed */
		fprintf(stderr, "bb: the server's bytebase extension lacks a function this bb needs (%s)\n"
				"hint: bb %s needs the SQL API %s; update the extension (ALTER EXTENSION bytebase UPDATE)\n",
				msg, BB_VERSION, BB_API_NEEDED);
		return;
	}
	if (state && strcmp(state, "57014") == 0 && interrupted)
	{
		fputs("bb: interrupted\n", stderr);
		return;
	}
	fprintf(stderr, "bb: %s", msg ? msg : PQresultErrorMessage(r));
	if (state)
		fprintf(stderr, " [SQLSTATE %s]", state);
	fputc('\n', stderr);
	if (detail)
		fprintf(stderr, "detail: %s\n", detail);
	if (hint)
		fprintf(stderr, "hint: %s\n", hint);
}

/* A parameterized query (text parameters); NULL after printing the error. */
PGresult *
query_try(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	if (PQstatus(c) != CONNECTION_OK)
		fprintf(stderr, "bb: lost the connection: %s", PQerrorMessage(c));
	else
		print_server_error(r);
	PQclear(r);
	return NULL;
}

/* A query whose failure ends the command with exit 2 (the server's error is printed). */
PGresult *
query(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult   *r = query_try(c, sql, n, params);

	if (r == NULL)
	{
		finish(c);
		exit(EXIT_USAGE);
	}
	return r;
}
