/*
 * postgres.c — PostgreSQL driver over libpq, never blocking interrupts:
 * PQconnectStartParams/PQconnectPoll and PQsendQuery/PQconsumeInput in
 * non-blocking mode, every wait through bb_wait_socket with the
 * bytebase.connect_timeout / bytebase.statement_timeout deadlines; on a
 * timeout or a cancel the remote query is canceled before the error goes up.
 */
#include "postgres.h"

#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "bytebase.h"
#include "driver_int.h"

typedef struct PgState
{
	PGconn	   *pg;
} PgState;

#define PGCONN(c) (((PgState *) (c)->state)->pg)

/* Connects and waits for the handshake with the connect deadline. */
static void
pg_connect(BBConn *conn)
{
	const BBConnInfo *info = &conn->info;
	const char *keys[12];
	const char *vals[12];
	char	   *sslmode = bb_instance_option(conn, "sslmode");
	char		port[16];
	int			n = 0;
	PGconn	   *volatile pg;
	TimestampTz deadline = bb_deadline_after(bb_connect_timeout_ms);

	snprintf(port, sizeof(port), "%d", info->port);
	keys[n] = "host", vals[n++] = info->host;
	keys[n] = "port", vals[n++] = port;
	keys[n] = "dbname", vals[n++] = info->database ? info->database : "postgres";
	if (info->user)
		keys[n] = "user", vals[n++] = info->user;
	if (info->password)
		keys[n] = "password", vals[n++] = info->password;
	if (sslmode == NULL && bb_instance_option_bool(conn, "tls"))
		sslmode = "require";
	if (sslmode)
		keys[n] = "sslmode", vals[n++] = sslmode;
	keys[n] = "application_name", vals[n++] = "bytebase";
	/* remote text arrives in our encoding, whatever the target's is */
	keys[n] = "client_encoding", vals[n++] = GetDatabaseEncodingName();
	keys[n] = NULL, vals[n] = NULL;

	/* as postgres_fdw: only superusers may reach servers that ask for no password (trust,
	 * peer, a socket of this very cluster); otherwise an admin role becomes a superuser */
	if (!superuser_arg(GetOuterUserId()) && (info->password == NULL || info->password[0] == '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("instance \"%s\" has no password", info->instance),
				 errdetail("Only superusers may use PostgreSQL instances without a password."),
				 errhint("Register the instance with a user that has a password.")));

	pg = PQconnectStartParams(keys, vals, 0);
	if (pg == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		PostgresPollingStatusType st = PGRES_POLLING_WRITING;

		while (PQstatus(pg) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED)
		{
			int			ev = st == PGRES_POLLING_READING ? BB_IO_READ : BB_IO_WRITE;

			if (bb_wait_socket(PQsocket(pg), ev, deadline, -1, true) == 0)
				bb_error_connect_timeout(conn);
			st = PQconnectPoll(pg);
		}
		if (PQstatus(pg) != CONNECTION_OK)
			ereport(ERROR,
					/* libpq gives no SQLSTATE for a failed connect; this one users look for */
					(errcode(strstr(PQerrorMessage(pg), "password authentication failed") != NULL
							 ? ERRCODE_INVALID_PASSWORD
							 : ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to instance \"%s\"", info->instance),
					 errdetail_internal("%s", pchomp(PQerrorMessage(pg))),
					 errhint("Check host, port, user and password of the instance (bb.instances).")));
		if (!superuser_arg(GetOuterUserId()) && !PQconnectionUsedPassword(pg))
			ereport(ERROR,
					(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					 errmsg("instance \"%s\" did not ask for the password", info->instance),
					 errdetail("Only superusers may use PostgreSQL servers that accept connections without a password."),
					 errhint("Require password authentication for this user in the server's pg_hba.conf.")));
		if (PQsetnonblocking(pg, 1) != 0)
			elog(ERROR, "bytebase: could not make the connection non-blocking");
	}
	PG_CATCH();
	{
		PQfinish(pg);
		PG_RE_THROW();
	}
	PG_END_TRY();
	conn->state = MemoryContextAllocZero(conn->cxt, sizeof(PgState));
	PGCONN(conn) = pg;
}

/* Asks the server to cancel the running query (PQcancel: a short blocking round trip). */
static void
pg_cancel(BBConn *conn)
{
	PGcancel   *cn;
	char		errbuf[256];

	if (PGCONN(conn) == NULL)
		return;
	cn = PQgetCancel(PGCONN(conn));
	if (cn != NULL)
	{
		(void) PQcancel(cn, errbuf, sizeof(errbuf));
		PQfreeCancel(cn);
	}
}

/* Throws the connection-level error (lost connection, protocol failure). */
static void
pg_error_conn(BBConn *conn)
{
	conn->broken = true;
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to instance \"%s\"", conn->info.instance),
			 errdetail_internal("%s", pchomp(PQerrorMessage(PGCONN(conn))))));
}

/* Throws a remote error with its SQLSTATE, message, detail and hint; frees res. */
static void
pg_error_result(PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *f;
	int			code = ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
	char	   *msg;
	char	   *detail = NULL;
	char	   *hint = NULL;

	if (state && strlen(state) == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	msg = f ? pstrdup(f) : pchomp(PQresultErrorMessage(res));
	if ((f = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) != NULL)
		detail = pstrdup(f);
	if ((f = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT)) != NULL)
		hint = pstrdup(f);
	PQclear(res);
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", msg),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/* Copies a PGresult's rows into a palloc'd BBResult. */
static BBResult *
pg_copy_result(PGresult *pr)
{
	BBResult   *res;
	int			ncols = PQnfields(pr);
	int			nrows = PQntuples(pr);

	res = bb_result_new(ncols, nrows);
	for (int c = 0; c < ncols; c++)
		res->colnames[c] = pstrdup(PQfname(pr, c));
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++)
			if (!PQgetisnull(pr, r, c))
				BB_VALUE(res, r, c) = pstrdup(PQgetvalue(pr, r, c));
	if (PQresultStatus(pr) == PGRES_COMMAND_OK && *PQcmdTuples(pr))
		res->affected = pg_strtoint64(PQcmdTuples(pr));
	return res;
}

/*
 * Sends sql and collects its results; returns the last one.  A timeout or an
 * interrupt cancels the remote query, marks the connection broken and rethrows.
 */
static BBResult *
pg_exec(BBConn *conn, const char *sql)
{
	PGconn	   *pg = PGCONN(conn);
	TimestampTz deadline = bb_deadline_after(bb_statement_timeout_ms);
	PGresult   *volatile last = NULL;
	PGresult   *volatile failed = NULL;
	BBResult   *res;

	conn->command = sql;
	if (!PQsendQuery(pg, sql))
		pg_error_conn(conn);
	conn->in_flight = true;
	PG_TRY();
	{
		int			rc;

		while ((rc = PQflush(pg)) == 1)
		{
			if (bb_wait_socket(PQsocket(pg), BB_IO_READ | BB_IO_WRITE, deadline, -1, true) == 0)
				bb_error_statement_timeout(conn);
			if (!PQconsumeInput(pg))
				pg_error_conn(conn);
		}
		if (rc < 0)
			pg_error_conn(conn);
		for (;;)
		{
			PGresult   *r;

			while (PQisBusy(pg))
			{
				if (bb_wait_socket(PQsocket(pg), BB_IO_READ, deadline, -1, true) == 0)
					bb_error_statement_timeout(conn);
				if (!PQconsumeInput(pg))
					pg_error_conn(conn);
			}
			r = PQgetResult(pg);
			if (r == NULL)
				break;
			if (PQresultStatus(r) == PGRES_FATAL_ERROR && failed == NULL)
				failed = r;
			else if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
			{
				PQclear(last);
				last = r;
			}
			else if (PQresultStatus(r) == PGRES_COPY_IN || PQresultStatus(r) == PGRES_COPY_OUT)
			{
				PQclear(r);
				conn->broken = true;
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("COPY to or from the client is not supported in remote commands")));
			}
			else
				PQclear(r);
		}
		conn->in_flight = false;
		if (PQstatus(pg) == CONNECTION_BAD)
			pg_error_conn(conn);
	}
	PG_CATCH();
	{
		PQclear(last);
		PQclear(failed);
		if (PQstatus(pg) != CONNECTION_BAD && PQtransactionStatus(pg) == PQTRANS_ACTIVE)
		{
			pg_cancel(conn);
			conn->broken = true;
		}
		conn->in_flight = false;
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (failed != NULL)
	{
		PQclear(last);
		pg_error_result(failed);
	}
	if (last == NULL)
		return bb_result_new(0, 0);
	PG_TRY();
	{
		res = pg_copy_result(last);
	}
	PG_FINALLY();
	{
		PQclear(last);
	}
	PG_END_TRY();
	return res;
}

/* User databases: not templates, not the "postgres" maintenance database. */
static List *
pg_list_databases(BBConn *conn)
{
	BBResult   *res = pg_exec(conn,
							  "SELECT datname FROM pg_catalog.pg_database "
							  "WHERE NOT datistemplate AND datallowconn AND datname <> 'postgres' "
							  "ORDER BY datname COLLATE \"C\"");
	List	   *names = NIL;

	for (int r = 0; r < res->nrows; r++)
		names = lappend(names, BB_VALUE(res, r, 0));
	return names;
}

/* user schemas: not the system ones, nor "bytebase" where rollouts keep their history */
#define PG_USER_SCHEMAS(nsp) \
	nsp " NOT IN ('pg_catalog', 'information_schema', 'bytebase') AND " nsp " !~ '^pg_(toast|temp_|toast_temp_)'"

static const char pg_columns_sql[] =
"SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
"       NOT a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) "
"  FROM pg_catalog.pg_class c "
"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
"  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
" WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND " PG_USER_SCHEMAS("n.nspname")
" ORDER BY 1, 2, a.attnum";

static const char pg_indexes_sql[] =
"SELECT n.nspname, t.relname, i.relname, x.indisunique, x.indisprimary, "
"       pg_catalog.pg_get_indexdef(x.indexrelid, k.n, true) "
"  FROM pg_catalog.pg_index x "
"  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid "
"  JOIN pg_catalog.pg_class t ON t.oid = x.indrelid "
"  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
"  CROSS JOIN LATERAL pg_catalog.generate_series(1, x.indnkeyatts) AS k(n) "
" WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND " PG_USER_SCHEMAS("n.nspname")
" ORDER BY 1, 2, 3, k.n";

/* Snapshot of the database this connection is on (or of another, over a new connection). */
static char *
pg_schema_snapshot(BBConn *conn, const char *database)
{
	const char *current = conn->info.database ? conn->info.database : "postgres";
	BBConn	   *other;
	char	   *json;

	if (database == NULL || strcmp(database, current) == 0)
	{
		BBResult   *cols = pg_exec(conn, pg_columns_sql);
		BBResult   *idx = pg_exec(conn, pg_indexes_sql);

		conn->command = NULL;
		return bb_snapshot_json(cols, idx);
	}
	/* a PostgreSQL session is bound to one database: open one to the other */
	{
		BBConnInfo	info = conn->info;

		info.database = database;
		other = bb_connect(&info);
	}
	json = bb_schema_snapshot(other, database);
	bb_close(other);
	return json;
}

static char *
pg_server_version(BBConn *conn)
{
	BBResult   *res = pg_exec(conn, "SELECT pg_catalog.version()");

	return res->nrows == 1 && BB_VALUE(res, 0, 0) ? BB_VALUE(res, 0, 0) : pstrdup("");
}

static void
pg_close(BBConn *conn)
{
	if (PGCONN(conn) != NULL)
		PQfinish(PGCONN(conn));
	PGCONN(conn) = NULL;
}

const BBDriverOps bb_postgres_ops = {
	.connect = pg_connect,
	.exec = pg_exec,
	.list_databases = pg_list_databases,
	.schema_snapshot = pg_schema_snapshot,
	.server_version = pg_server_version,
	.cancel = pg_cancel,
	.close = pg_close,
};
