/*
 * async_baseline.c — the benchmark's baseline: applies one SQL script to many PostgreSQL
 * databases with plain asynchronous libpq, at most C at a time, and prints the elapsed time.
 * It is what a hand-written rollout tool would do (connect, run the script, disconnect), with
 * none of bytebase's bookkeeping, so bytebase's time / this time is the overhead ratio.
 *
 *   PGPASSWORD=... async_baseline HOST PORT USER DBPREFIX N CONCURRENCY SQL [DBS]
 * Tenant i (1..N) is database DBPREFIX<((i-1) % DBS) + 1> (4 digits at least, as rollout_bench.sh
 * makes them; DBS defaults to N: one database per tenant).  The connection uses the same
 * parameters as bytebase's driver (password over TCP, application_name, client_encoding,
 * standard_conforming_strings), so both sides pay the same handshake.
 * Prints "baseline_seconds=<s> failed=<k>"; exits 1 when a database failed.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

typedef enum
{
	IDLE,
	CONNECTING,
	QUERYING
} SlotState;

typedef struct
{
	SlotState	state;
	PGconn	   *conn;
	PostgresPollingStatusType poll;
	int			db;
} Slot;

static int	ndbs;				/* distinct databases the tenants map onto */

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts a non-blocking connection to database number db in slot s. */
static void
start_connect(Slot *s, int db, const char *host, const char *port, const char *user, const char *prefix)
{
	char		dbname[256];
	const char *keys[] = {"host", "port", "user", "dbname", "connect_timeout", "application_name",
	"client_encoding", "options", NULL};
	const char *vals[9];

	snprintf(dbname, sizeof(dbname), "%s%04d", prefix, (db - 1) % ndbs + 1);
	vals[0] = host;
	vals[1] = port;
	vals[2] = user;
	vals[3] = dbname;
	vals[4] = "10";
	vals[5] = "baseline";
	vals[6] = "UTF8";
	vals[7] = "-c standard_conforming_strings=on";
	vals[8] = NULL;
	s->conn = PQconnectStartParams(keys, vals, 0);
	s->db = db;
	s->state = CONNECTING;
	s->poll = PGRES_POLLING_WRITING;
	if (s->conn == NULL || PQstatus(s->conn) == CONNECTION_BAD)
		s->poll = PGRES_POLLING_FAILED;
}

/* Ends a slot's database; a failure is reported with the server's message. */
static void
finish(Slot *s, int *failed, const char *err)
{
	if (err)
	{
		fprintf(stderr, "database %d: %s", s->db, err);
		(*failed)++;
	}
	PQfinish(s->conn);
	s->conn = NULL;
	s->state = IDLE;
}

int
main(int argc, char **argv)
{
	const char *host, *port, *user, *prefix, *sql;
	int			n, conc, next = 1, done = 0, failed = 0;
	Slot	   *slots;
	struct pollfd *pfd;
	double		t0;

	if (argc != 8 && argc != 9)
	{
		fprintf(stderr, "usage: PGPASSWORD=... %s HOST PORT USER DBPREFIX N CONCURRENCY SQL [DBS]\n", argv[0]);
		return 2;
	}
	host = argv[1];
	port = argv[2];
	user = argv[3];
	prefix = argv[4];
	n = atoi(argv[5]);
	conc = atoi(argv[6]);
	sql = argv[7];
	ndbs = argc == 9 ? atoi(argv[8]) : n;
	if (n < 1 || conc < 1 || ndbs < 1)
		return 2;
	slots = calloc(conc, sizeof(Slot));
	pfd = calloc(conc, sizeof(struct pollfd));
	if (!slots || !pfd)
		return 2;

	t0 = now_seconds();
	while (done < n)
	{
		int			nfds = 0;

		for (int i = 0; i < conc; i++)
		{
			Slot	   *s = &slots[i];

			if (s->state == IDLE && next <= n)
				start_connect(s, next++, host, port, user, prefix);
			if (s->state == CONNECTING)
			{
				if (s->poll == PGRES_POLLING_FAILED)
				{
					finish(s, &failed, PQerrorMessage(s->conn));
					done++;
					i--;		/* reuse the slot at once */
					continue;
				}
				if (s->poll == PGRES_POLLING_OK)
				{
					if (!PQsendQuery(s->conn, sql))
					{
						finish(s, &failed, PQerrorMessage(s->conn));
						done++;
						i--;
						continue;
					}
					s->state = QUERYING;
				}
			}
			if (s->state == IDLE)
			{
				pfd[i].fd = -1;
				continue;
			}
			pfd[i].fd = PQsocket(s->conn);
			pfd[i].events = (s->state == CONNECTING && s->poll == PGRES_POLLING_WRITING) ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
			nfds++;
		}
		if (nfds == 0)
			break;
		if (poll(pfd, conc, 10000) < 0)
			return 2;
		for (int i = 0; i < conc; i++)
		{
			Slot	   *s = &slots[i];

			if (s->state == IDLE || pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (s->state == CONNECTING)
				s->poll = PQconnectPoll(s->conn);
			else
			{
				const char *err = NULL;
				PGresult   *r;

				if (!PQconsumeInput(s->conn))
				{
					finish(s, &failed, PQerrorMessage(s->conn));
					done++;
					continue;
				}
				if (PQisBusy(s->conn))
					continue;
				while ((r = PQgetResult(s->conn)) != NULL)
				{
					if (PQresultStatus(r) == PGRES_FATAL_ERROR && err == NULL)
						err = strdup(PQresultErrorMessage(r));
					PQclear(r);
				}
				finish(s, &failed, err);
				free((void *) err);
				done++;
			}
		}
	}
	printf("baseline_seconds=%.3f failed=%d\n", now_seconds() - t0, failed);
	return failed ? 1 : 0;
}
