/*
 * postgres.c — PostgreSQL driver over libpq, never blocking interrupts:
 * PQconnectStartParams/PQconnectPoll and PQsendQuery/PQconsumeInput in
 * non-blocking and single-row mode, every wait through bb_wait_socket with the
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

/* The password rule (as postgres_fdw's): a role that is not a superuser must not reach a
 * server that lets this cluster's own OS user in without a password (trust, peer, a
 * socket of this very cluster), or it would act as that server's superuser. */
static void
pg_refuse_no_password(BBConn *conn)
{
	ereport_target(ERROR,
				   (errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					errmsg("instance \"%s\" has no password", conn->info.instance),
					errdetail("Only superusers may use PostgreSQL instances without a password."),
					errhint("Give the instance a user with a password, or have a superuser set its option "
							"\"password_required\" to false.")));
}

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
	/* the server must lex strings as our splitter does, whatever its own or the
	 * database's/role's setting (a client option wins over both) */
	keys[n] = "options", vals[n++] = "-c standard_conforming_strings=on";
	keys[n] = NULL, vals[n] = NULL;

	if (info->require_password && (info->password == NULL || info->password[0] == '\0'))
		pg_refuse_no_password(conn);

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
			ereport_target(ERROR,
			/* libpq gives no SQLSTATE for a failed connect; this one users look for */
						   (errcode(strstr(PQerrorMessage(pg), "password authentication failed") != NULL
									? ERRCODE_INVALID_PASSWORD
									: ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
							errmsg("could not connect to instance \"%s\"", info->instance),
							errdetail_internal("%s", pchomp(PQerrorMessage(pg))),
							errhint("Check host, port, user and password of the instance (bb.instances).")));
		if (info->require_password && !PQconnectionUsedPassword(pg))
			ereport_target(ERROR,
						   (errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
							errmsg("instance \"%s\" did not ask for the password", info->instance),
							errdetail("Only superusers may use PostgreSQL servers that accept connections without a password."),
							errhint("Require password authentication for this user in the server's pg_hba.conf, "
									"or have a superuser set the instance option \"password_required\" to false.")));
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

/* Throws a remote error with its SQLSTATE, message, detail and hint; frees res.
 * A FATAL one (e.g. 57P01, the server shutting down) leaves the connection unusable. */
static void
pg_error_result(BBConn *conn, PGresult *res)
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
	if ((f = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED)) != NULL &&
		(strcmp(f, "FATAL") == 0 || strcmp(f, "PANIC") == 0))
		conn->broken = true;
	PQclear(res);
	if (PQstatus(PGCONN(conn)) == CONNECTION_BAD)
		conn->broken = true;
	ereport_target(ERROR,
				   (errcode(code),
					errmsg_internal("%s", msg),
					detail ? errdetail_internal("%s", detail) : 0,
					hint ? errhint("%s", hint) : 0));
}

/* Throws the connection-level error (lost connection, protocol failure).  When the
 * server said why before it went away (FATAL 57P01 ...), that error is thrown instead. */
static void
pg_error_conn(BBConn *conn, PGresult *volatile *failed)
{
	PGresult   *res = *failed;

	conn->broken = true;
	if (res != NULL && PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL)
	{
		*failed = NULL;			/* pg_error_result frees it */
		pg_error_result(conn, res);
	}
	ereport_target(ERROR,
				   (errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("lost connection to instance \"%s\"", conn->info.instance),
					errdetail_internal("%s", pchomp(PQerrorMessage(PGCONN(conn))))));
}

/* Starts collecting a new result set (the last one of a multi-statement string wins). */
static void
pg_new_set(BBRowBuf *rb, bool *started, PGresult *r, bool keep)
{
	if (*started)
		bb_rows_discard(rb);
	bb_rows_start(rb, PQnfields(r), keep, false);
	for (int c = 0; c < PQnfields(r); c++)
		bb_rows_colname(rb, c, PQfname(r, c));
	*started = true;
}

/* Adds the one row of a PGRES_SINGLE_TUPLE result. */
static void
pg_add_row(BBRowBuf *rb, PGresult *r)
{
	int			ncols = PQnfields(r);
	const char **vals = palloc(sizeof(char *) * Max(ncols, 1));
	unsigned long *lens = palloc(sizeof(unsigned long) * Max(ncols, 1));

	for (int c = 0; c < ncols; c++)
	{
		vals[c] = PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
		lens[c] = PQgetlength(r, 0, c);
	}
	bb_rows_add(rb, vals, lens);
	pfree(vals);
	pfree(lens);
}

/*
 * Sends sql and collects its results row by row (single-row mode: libpq never
 * buffers a whole result); returns the last result set.  opt->single sends it
 * with the extended protocol, where the server refuses more than one statement.
 * A timeout, an interrupt or a cap cancels the remote query, marks the
 * connection broken and rethrows.
 */
static BBResult *
pg_exec(BBConn *conn, const char *sql, const BBExecOptions *opt)
{
	PGconn	   *pg = PGCONN(conn);
	TimestampTz deadline = bb_deadline_after(bb_statement_timeout_ms);
	PGresult   *volatile r = NULL;
	PGresult   *volatile failed = NULL;
	BBRowBuf	rb;
	bool		started = false;
	bool		set_done = false;
	int			sent;

	conn->command = sql;
	sent = opt->single ? PQsendQueryParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0) : PQsendQuery(pg, sql);
	if (!sent)
		pg_error_conn(conn, &failed);
	if (!PQsetSingleRowMode(pg))
		elog(ERROR, "bytebase: could not select single-row mode");
	conn->in_flight = true;
	PG_TRY();
	{
		int			rc;

		while ((rc = PQflush(pg)) == 1)
		{
			if (bb_wait_socket(PQsocket(pg), BB_IO_READ | BB_IO_WRITE, deadline, -1, true) == 0)
				bb_error_statement_timeout(conn);
			if (!PQconsumeInput(pg))
				pg_error_conn(conn, &failed);
		}
		if (rc < 0)
			pg_error_conn(conn, &failed);
		for (;;)
		{
			while (PQisBusy(pg))
			{
				if (bb_wait_socket(PQsocket(pg), BB_IO_READ, deadline, -1, true) == 0)
					bb_error_statement_timeout(conn);
				if (!PQconsumeInput(pg))
					pg_error_conn(conn, &failed);
			}
			r = PQgetResult(pg);
			if (r == NULL)
				break;
			switch (PQresultStatus(r))
			{
				case PGRES_SINGLE_TUPLE:
					if (!started || set_done)
						pg_new_set(&rb, &started, r, opt->keep_rows);
					set_done = false;
					pg_add_row(&rb, r);
					break;
				case PGRES_TUPLES_OK:
					if (!started || set_done)
						pg_new_set(&rb, &started, r, opt->keep_rows);
					set_done = true;
					/* INSERT/UPDATE/DELETE ... RETURNING: rows and a count */
					if (strncmp(PQcmdStatus(r), "SELECT", 6) != 0 && *PQcmdTuples(r))
						rb.res->affected = pg_strtoint64(PQcmdTuples(r));
					break;
				case PGRES_COMMAND_OK:
					pg_new_set(&rb, &started, r, opt->keep_rows);
					set_done = true;
					if (*PQcmdTuples(r))
						rb.res->affected = pg_strtoint64(PQcmdTuples(r));
					break;
				case PGRES_FATAL_ERROR:
					if (failed == NULL)
					{
						failed = r;
						r = NULL;
					}
					break;
				case PGRES_COPY_IN:
				case PGRES_COPY_OUT:
				case PGRES_COPY_BOTH:
					conn->broken = true;
					ereport_target(ERROR,
								   (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									errmsg("COPY to or from the client is not supported in remote commands")));
					break;
				default:
					break;
			}
			PQclear(r);
			r = NULL;
		}
		conn->in_flight = false;
		if (PQstatus(pg) == CONNECTION_BAD)
			pg_error_conn(conn, &failed);
	}
	PG_CATCH();
	{
		PQclear(r);
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
		if (started)
			bb_rows_discard(&rb);
		pg_error_result(conn, failed);
	}
	if (!started)
		return bb_result_new(0, 0);
	return rb.res;
}

/* The options of the driver's own catalog queries: one statement, rows kept (within the caps). */
static const BBExecOptions pg_own_query = {.single = true, .keep_rows = true};

/* User databases: not templates, not the "postgres" maintenance database. */
static List *
pg_list_databases(BBConn *conn)
{
	BBResult   *res = pg_exec(conn,
							  "SELECT datname FROM pg_catalog.pg_database "
							  "WHERE NOT datistemplate AND datallowconn AND datname <> 'postgres' "
							  "ORDER BY datname COLLATE \"C\"", &pg_own_query);
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
		BBResult   *cols = pg_exec(conn, pg_columns_sql, &pg_own_query);
		BBResult   *idx = pg_exec(conn, pg_indexes_sql, &pg_own_query);

		conn->command = NULL;
		return bb_snapshot_json(cols, idx);
	}
	/* a PostgreSQL session is bound to one database: open one to the other (closed
	 * here on every path: outside a transaction no abort would close it) */
	{
		BBConnInfo	info = conn->info;

		info.database = database;
		other = bb_connect(&info);
	}
	PG_TRY();
	{
		json = bb_schema_snapshot(other, database);
	}
	PG_FINALLY();
	{
		bb_close(other);
	}
	PG_END_TRY();
	return json;
}

static char *
pg_server_version(BBConn *conn)
{
	BBResult   *res = pg_exec(conn, "SELECT pg_catalog.version()", &pg_own_query);

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
