/*
 * mysql.c — MySQL / TiDB driver (PostgreSQL side).  libmariadb is reached
 * only through mysql_raw.h (its headers clash with PostgreSQL's); every
 * operation uses the non-blocking API and waits in bb_wait_socket, so a
 * cancel or terminate is served at once and both timeouts hold.
 *
 * TiDB speaks the MySQL protocol and uses this same code.  Its quirks:
 * KILL QUERY needs the TIDB keyword on versions without global kill
 * ("KILL TIDB QUERY n"), and its system schemas include metrics_schema
 * (upper-case INFORMATION_SCHEMA/METRICS_SCHEMA): handled below.  TiDB is
 * told apart by its version text ("-TiDB-"): an instance registered with the
 * other engine is refused at connect (my_check_engine).
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bytebase.h"
#include "driver_int.h"
#include "mysql_raw.h"

typedef struct MyState
{
	BBMy	   *my;
	unsigned long thread_id;	/* server connection id, for KILL QUERY */
} MyState;

#define MY(c) (((MyState *) (c)->state)->my)

/* How long a cancel path may spend on its own short connection. */
#define MY_KILL_TIMEOUT_MS 2000

typedef int (*my_cont_fn) (BBMy *my, int ready);

/*
 * Drives a started non-blocking operation to its end.  Returns false when
 * the deadline passed first (the operation is then left unfinished).
 */
static bool
my_drive(BBMy *my, int status, my_cont_fn cont, TimestampTz deadline, bool interruptible)
{
	while (status != 0)
	{
		int			events = 0;
		long		lib_wait = -1;
		int			ready;

		if (status & BBMY_WAIT_READ)
			events |= BB_IO_READ;
		if (status & BBMY_WAIT_WRITE)
			events |= BB_IO_WRITE;
		if (events == 0)
			events = BB_IO_READ;
		if (status & BBMY_WAIT_TIMEOUT)
			lib_wait = bbmy_timeout_ms(my);
		if (bbmy_socket(my) < 0)
			return false;
		ready = bb_wait_socket(bbmy_socket(my), events, deadline, lib_wait, interruptible);
		if (ready == 0)
		{
			if (deadline != 0 && bb_ms_left(deadline) <= 0)
				return false;
			status = cont(my, BBMY_WAIT_TIMEOUT);
		}
		else
			status = cont(my, ((ready & BB_IO_READ) ? BBMY_WAIT_READ : 0) |
						  ((ready & BB_IO_WRITE) ? BBMY_WAIT_WRITE : 0));
	}
	return true;
}

/* PostgreSQL errcode of the handle's MySQL SQLSTATE (HY000 = generic: 38000). */
static int
my_errcode(BBMy *my, int fallback)
{
	const char *s = bbmy_sqlstate(my);

	if (s == NULL || strlen(s) != 5 || strcmp(s, "HY000") == 0 || strcmp(s, "00000") == 0)
		return fallback;
	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/* Throws the handle's error; client-side errors (2000-2999) mean the session is gone. */
static void
my_error(BBConn *conn, BBMy *my, bool connecting)
{
	unsigned int err = bbmy_errno(my);
	char	   *msg = bb_message_from_utf8(bbmy_error(my));

	if (connecting)
	{
		int			code = my_errcode(my, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION);

		if (ERRCODE_TO_CATEGORY(code) != ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION)
			code = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
		ereport_target(ERROR,
				(errcode(code),
				 errmsg("could not connect to instance \"%s\"", conn->info.instance),
				 errdetail_internal("MySQL error %u: %s", err, msg),
				 errhint("Check host, port, user and password of the instance (bb.instances).")));
	}
	if (err >= 2000 && err < 3000)
	{
		conn->broken = true;
		ereport_target(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("MySQL error %u: %s", err, msg),
				 errdetail("The connection to instance \"%s\" failed.", conn->info.instance)));
	}
	ereport_target(ERROR,
			(errcode(my_errcode(my, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION)),
			 errmsg("MySQL error %u: %s", err, msg)));
}

/* Opens a raw connection; false on timeout.  The caller destroys *out in every case. */
static bool
my_open(BBConn *conn, BBMy **out, const char *db, TimestampTz deadline, bool interruptible)
{
	BBMy	   *my = bbmy_create();
	int			status;

	*out = my;
	if (my == NULL)
		return false;
	if (conn->tls)
		bbmy_require_tls(my);
	status = bbmy_connect_start(my, conn->info.host, conn->info.port, conn->info.user,
								conn->info.password, db);
	if (status < 0)
		return false;
	return my_drive(my, status, bbmy_connect_cont, deadline, interruptible);
}

static BBResult *my_exec(BBConn *conn, const char *sql, const BBExecOptions *opt);

/* sql_mode names that change how statements are lexed (ANSI_QUOTES: "x" is an identifier;
 * NO_BACKSLASH_ESCAPES: \' ends no string), with the combination modes that imply ANSI_QUOTES. */
static const char *const my_lexing_modes[] = {
	"ANSI_QUOTES", "NO_BACKSLASH_ESCAPES", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL"
};

/* Makes the session lex statements as our splitter does: the server's sql_mode minus the
 * lexing modes, whatever the server, the user or an init_connect configured. */
static void
my_pin_sql_mode(BBConn *conn)
{
	static const BBExecOptions opt = {.single = true, .keep_rows = false};
	StringInfoData sql;
	StringInfoData expr;

	initStringInfo(&expr);
	appendStringInfoString(&expr, "CONCAT(',', @@SESSION.sql_mode, ',')");
	for (int i = 0; i < lengthof(my_lexing_modes); i++)
	{
		char	   *prev = pstrdup(expr.data);

		resetStringInfo(&expr);
		appendStringInfo(&expr, "REPLACE(%s, ',%s,', ',')", prev, my_lexing_modes[i]);
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "SET SESSION sql_mode = TRIM(BOTH ',' FROM %s)", expr.data);
	(void) my_exec(conn, sql.data, &opt);
	conn->command = NULL;
}

/* True when a server version names TiDB ("8.0.11-TiDB-v8.5.0", TiDB Cloud "...-TiDB-CLOUD...");
 * TiDB reports the same text in the handshake and in VERSION(). */
static bool
my_version_is_tidb(const char *version)
{
	return version != NULL && strstr(version, "-TiDB-") != NULL;
}

/* An instance registered as mysql that is TiDB (or the reverse) is refused: the registered
 * engine chooses the review dialect, the plan checks and the KILL syntax, so a wrong one
 * would review and run changes for the wrong server. */
static void
my_check_engine(BBConn *conn)
{
	const char *version = bbmy_server_info(MY(conn));
	bool		tidb = my_version_is_tidb(version);

	if (tidb == (conn->info.engine == BB_ENGINE_TIDB))
		return;
	conn->broken = true;
	ereport_target(ERROR,
				   (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("instance \"%s\" is registered with engine \"%s\" but the server is %s",
						   conn->info.instance, bb_engine_name(conn->info.engine),
						   tidb ? "TiDB" : "not TiDB"),
					errdetail("The server reports version \"%s\".",
							  version ? bb_message_from_utf8(version) : ""),
					errhint("Register the instance with engine \"%s\" (bb.drop_instance, then bb.add_instance): "
							"the engine chooses the SQL review dialect and the plan checks.",
							tidb ? "tidb" : "mysql")));
}

/* Connects with the connect deadline. */
static void
my_connect(BBConn *conn)
{
	MyState    *st = MemoryContextAllocZero(conn->cxt, sizeof(MyState));

	conn->state = st;			/* from here on, close frees the handle, also on ERROR */
	conn->tls = bb_instance_option_bool(conn, "tls");
	if (!my_open(conn, &st->my, conn->info.database, bb_deadline_after(bb_connect_timeout_ms), true))
	{
		if (st->my == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		bb_error_connect_timeout(conn);
	}
	if (!bbmy_connect_ok(st->my))
		my_error(conn, st->my, true);
	st->thread_id = bbmy_thread_id(st->my);
	my_check_engine(conn);
	my_pin_sql_mode(conn);
}

/*
 * Stops the running statement with KILL QUERY over a second short connection
 * (bounded, not interruptible: it runs on error paths).  Never throws.
 */
static void
my_cancel(BBConn *conn)
{
	MyState    *st = (MyState *) conn->state;
	BBMy	   *k = NULL;
	char		sql[64];
	TimestampTz deadline = bb_deadline_after(MY_KILL_TIMEOUT_MS);

	if (st == NULL || st->thread_id == 0)
		return;
	if (my_open(conn, &k, NULL, deadline, false) && bbmy_connect_ok(k))
	{
		snprintf(sql, sizeof(sql), conn->info.engine == BB_ENGINE_TIDB ? "KILL TIDB QUERY %lu" : "KILL QUERY %lu",
				 st->thread_id);
		(void) my_drive(k, bbmy_query_start(k, sql, strlen(sql)), bbmy_query_cont, deadline, false);
	}
	bbmy_destroy(k);
}

/* Reads the next row of the current unbuffered result; false at its end (an error
 * while reading, e.g. the statement was killed, is thrown). */
static bool
my_next_row(BBConn *conn, BBMy *my, TimestampTz deadline, char ***row, unsigned long **lens)
{
	if (!my_drive(my, bbmy_fetch_start(my), bbmy_fetch_cont, deadline, true))
		bb_error_statement_timeout(conn);
	if (bbmy_row(my, row, lens))
		return true;
	if (bbmy_errno(my) != 0)
		my_error(conn, my, false);
	return false;
}

/* Streams the current result set into a row buffer (counted, and kept within the caps). */
static BBResult *
my_read_rows(BBConn *conn, BBMy *my, TimestampTz deadline, bool keep)
{
	BBRowBuf	rb;
	unsigned int ncols;
	char	  **row;
	unsigned long *lens;

	if (!bbmy_use_result(my))
		my_error(conn, my, false);
	ncols = bbmy_num_fields(my);
	bb_rows_start(&rb, ncols, keep, true);
	for (unsigned int c = 0; c < ncols; c++)
		bb_rows_colname(&rb, c, bbmy_field_name(my, c));
	while (my_next_row(conn, my, deadline, &row, &lens))
		bb_rows_add(&rb, (const char *const *) row, lens);
	bbmy_free_result(my);
	return rb.res;
}

/*
 * Reads and drops the result sets after the first (a CALL sends one per SELECT plus a status),
 * so the session stays in sync for the next command; an error in a later one is reported.
 */
static void
my_drain_results(BBConn *conn, BBMy *my, TimestampTz deadline)
{
	while (bbmy_more_results(my))
	{
		if (!my_drive(my, bbmy_next_start(my), bbmy_next_cont, deadline, true))
			bb_error_statement_timeout(conn);
		if (bbmy_next_failed(my))
			my_error(conn, my, false);
		if (bbmy_field_count(my) > 0)
		{
			BBResult   *dropped = my_read_rows(conn, my, deadline, false);

			pfree(dropped);
		}
	}
}

/* Runs one statement (the connection has no CLIENT_MULTI_STATEMENTS: one is all the server
 * takes, whatever opt->single says); rows stream in and are kept or only counted.  A timeout,
 * an interrupt or a cap kills the statement remotely before the error goes up. */
static BBResult *
my_exec(BBConn *conn, const char *sql, const BBExecOptions *opt)
{
	BBMy	   *my = MY(conn);
	TimestampTz deadline = bb_deadline_after(bb_statement_timeout_ms);
	char	   *utf8 = bb_to_utf8(sql);
	BBResult   *res = NULL;

	conn->command = sql;
	PG_TRY();
	{
		conn->in_flight = true;
		if (!my_drive(my, bbmy_query_start(my, utf8, strlen(utf8)), bbmy_query_cont, deadline, true))
			bb_error_statement_timeout(conn);
		conn->in_flight = false;
		if (bbmy_query_failed(my))
			my_error(conn, my, false);	/* the statement is over: the session stays usable */
		conn->in_flight = true;
		if (bbmy_field_count(my) > 0)
			res = my_read_rows(conn, my, deadline, opt->keep_rows);
		else
		{
			res = bb_result_new(0, 0);
			res->affected = bbmy_affected_rows(my);
		}
		my_drain_results(conn, my, deadline);
		conn->in_flight = false;
	}
	PG_CATCH();
	{
		if (conn->in_flight)
		{
			/* mid-statement or mid-result: kill it remotely; the handle is unusable */
			conn->broken = true;
			bbmy_abandon_result(my);
			my_cancel(conn);
			conn->in_flight = false;
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	return res;
}

/* Appends a string literal escaped by the server's own rules (sql_mode aware). */
static void
my_append_literal(BBConn *conn, StringInfo buf, const char *s)
{
	char	   *utf8 = bb_to_utf8(s);
	size_t		len = strlen(utf8);
	char	   *esc = palloc(2 * len + 1);

	bbmy_escape(MY(conn), esc, utf8, len);
	appendStringInfoChar(buf, '\'');
	appendStringInfoString(buf, bb_from_utf8(esc, -1));
	appendStringInfoChar(buf, '\'');
}

/* The options of the driver's own catalog queries: rows kept (within the caps). */
static const BBExecOptions my_own_query = {.single = true, .keep_rows = true};

/* User schemas, system ones excluded (see driver.h), bytewise sorted. */
static List *
my_list_databases(BBConn *conn)
{
	BBResult   *res = my_exec(conn,
							  "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
							  "WHERE LOWER(SCHEMA_NAME) NOT IN ('information_schema', 'performance_schema', "
							  "'mysql', 'sys', 'metrics_schema') ORDER BY BINARY SCHEMA_NAME", &my_own_query);
	List	   *names = NIL;

	for (int r = 0; r < res->nrows; r++)
		names = lappend(names, BB_VALUE(res, r, 0));
	return names;
}

/* Tables (base tables only), columns and indexes of one schema from information_schema. */
static char *
my_schema_snapshot(BBConn *conn, const char *database)
{
	StringInfoData cols;
	StringInfoData idx;
	BBResult   *cres;
	BBResult   *ires;

	if (database == NULL)
		database = conn->info.database;
	if (database == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a MySQL schema snapshot needs a database name")));
	initStringInfo(&cols);
	appendStringInfoString(&cols,
						   "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, "
	/* MariaDB spells "no default" NULL as the word NULL; auto_increment is the default's job in PG */
						   "COALESCE(NULLIF(c.COLUMN_DEFAULT, 'NULL'), "
						   "IF(c.EXTRA LIKE '%auto_increment%', 'auto_increment', NULL)) "
						   "FROM information_schema.TABLES t LEFT JOIN information_schema.COLUMNS c "
						   "ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME "
						   "WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA = ");
	my_append_literal(conn, &cols, database);
	appendStringInfoString(&cols, " ORDER BY BINARY t.TABLE_NAME, c.ORDINAL_POSITION");
	initStringInfo(&idx);
	appendStringInfoString(&idx,
						   "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, "
						   "INDEX_NAME = 'PRIMARY', CONCAT(COLUMN_NAME, IF(SUB_PART IS NULL, '', CONCAT('(', SUB_PART, ')'))) "
						   "FROM information_schema.STATISTICS "
						   "WHERE TABLE_SCHEMA = ");
	my_append_literal(conn, &idx, database);
	appendStringInfoString(&idx, " ORDER BY BINARY TABLE_NAME, BINARY INDEX_NAME, SEQ_IN_INDEX");
	cres = my_exec(conn, cols.data, &my_own_query);
	ires = my_exec(conn, idx.data, &my_own_query);
	conn->command = NULL;
	return bb_snapshot_json(cres, ires);
}

static char *
my_server_version(BBConn *conn)
{
	return bb_from_utf8(bbmy_server_info(MY(conn)), -1);
}

static void
my_close(BBConn *conn)
{
	MyState    *st = (MyState *) conn->state;

	if (st != NULL)
		bbmy_destroy(st->my);
	if (st != NULL)
		st->my = NULL;
}

const BBDriverOps bb_mysql_ops = {
	.connect = my_connect,
	.exec = my_exec,
	.list_databases = my_list_databases,
	.schema_snapshot = my_schema_snapshot,
	.server_version = my_server_version,
	.cancel = my_cancel,
	.close = my_close,
};
