/*
 * driver.c — the driver interface's front door: engine names, dispatch to the
 * engine vtables, the registry that closes every connection at the end of its
 * (sub)transaction (so an ERROR never leaks a socket or a library handle),
 * the interruptible socket wait and the errors every engine shares.
 */
#include "postgres.h"

#include <string.h>

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "driver_int.h"
#include "engine.h"

static BBConn *open_conns = NULL;	/* registry: every connection not yet closed */
static bool callbacks_registered = false;

/* Maps a user-facing engine name to the enum; unknown names are a user error. */
BBEngine
bb_engine_from_name(const char *name)
{
	return bb_engine_by_name(name)->engine;
}

/* The enum's user-facing name, for messages. */
const char *
bb_engine_name(BBEngine engine)
{
	return bb_engine_def(engine)->name;
}

/* The vtable of an engine (engine.c's table); MySQL and TiDB share one. */
static const BBDriverOps *
ops_for(BBEngine engine)
{
	const BBEngineDef *def = bb_engine_def(engine);
	StringInfoData with;

	if (def->ops != NULL)
		return def->ops;
	initStringInfo(&with);
	for (int i = 0; i < bb_engine_count; i++)
		if (bb_engine_table[i].ops != NULL)
			appendStringInfo(&with, "%s%s", with.len ? ", " : "", bb_engine_table[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("engine \"%s\" has no driver yet", def->name),
			 errhint("Supported engines: %s.", with.data)));
	pg_unreachable();
}

/* See driver.h: the mark is the error's domain, set by ereport_target. */
bool
bb_error_is_target(const ErrorData *edata)
{
	return edata != NULL && edata->domain != NULL &&
		strcmp(edata->domain, BB_TARGET_ERROR_DOMAIN) == 0;
}

/* ---------------------------------------------------------------- registry */

/* Releases everything one connection holds; never throws (runs on abort paths). */
static void
close_conn(BBConn *conn)
{
	BBConn	  **p;

	for (p = &open_conns; *p != NULL; p = &(*p)->next)
		if (*p == conn)
		{
			*p = conn->next;
			break;
		}
	if (conn->ops && conn->state && conn->in_flight)
		conn->ops->cancel(conn);
	if (conn->ops && conn->state)
		conn->ops->close(conn);
	conn->state = NULL;
	if (conn->fd_acquired)
		ReleaseExternalFD();
	conn->fd_acquired = false;
	if (conn->info.password)
		explicit_bzero((char *) conn->info.password, strlen(conn->info.password));
	MemoryContextDelete(conn->cxt);
}

/* Closes the connections a (sub)transaction opened; subid 0 = all but detached ones. */
static void
close_owned_by(SubTransactionId subid)
{
	BBConn	   *c = open_conns;

	while (c != NULL)
	{
		BBConn	   *next = c->next;

		if (c->subxid != InvalidSubTransactionId &&
			(subid == InvalidSubTransactionId || c->subxid == subid))
			close_conn(c);
		c = next;
	}
}

/* Top-level end (commit or abort): no transaction-bound handle survives it. */
static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			close_owned_by(InvalidSubTransactionId);
			break;
		default:
			break;
	}
}

/* Subtransaction end: abort closes what it opened, commit hands it to the parent. */
static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		close_owned_by(mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (BBConn *c = open_conns; c != NULL; c = c->next)
			if (c->subxid == mySubid)
				c->subxid = parentSubid;
	}
}

/* Process exit (also FATAL, e.g. pg_terminate_backend of an executor): close every
 * connection, detached ones included, so a command still running is canceled remotely. */
static void
close_all_at_exit(int code, Datum arg)
{
	while (open_conns != NULL)
		close_conn(open_conns);
}

/* Copies a string into the connection's context (NULL stays NULL). */
static const char *
copy_str(MemoryContext cxt, const char *s)
{
	return s ? MemoryContextStrdup(cxt, s) : NULL;
}

/* Opens a connection registered for cleanup before any network I/O starts. */
BBConn *
bb_connect(const BBConnInfo *info)
{
	const BBDriverOps *ops;
	MemoryContext cxt;
	BBConn	   *conn;

	if (info == NULL || info->host == NULL || info->instance == NULL)
		elog(ERROR, "bb_connect: incomplete connection info");
	ops = ops_for(info->engine);
	if (IsTransactionState())
		bb_driver_prepare();
	if (!callbacks_registered)
	{
		RegisterXactCallback(xact_callback, NULL);
		RegisterSubXactCallback(subxact_callback, NULL);
		before_shmem_exit(close_all_at_exit, (Datum) 0);
		callbacks_registered = true;
	}

	cxt = AllocSetContextCreate(TopMemoryContext, "bytebase connection", ALLOCSET_SMALL_SIZES);
	conn = MemoryContextAllocZero(cxt, sizeof(BBConn));
	conn->cxt = cxt;
	conn->ops = ops;
	conn->info.engine = info->engine;
	conn->info.instance = copy_str(cxt, info->instance);
	conn->info.host = copy_str(cxt, info->host);
	conn->info.port = info->port;
	conn->info.user = copy_str(cxt, info->user);
	conn->info.password = copy_str(cxt, info->password);
	conn->info.database = copy_str(cxt, info->database);
	conn->info.options_json = copy_str(cxt, info->options_json);
	conn->info.require_password = info->require_password;
	/* outside a transaction nothing would close it: it is detached from the start */
	conn->subxid = IsTransactionState() ? GetCurrentSubTransactionId() : InvalidSubTransactionId;

	if (!AcquireExternalFD())
	{
		close_conn(conn);
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to instance \"%s\"", info->instance),
				 errdetail("There are too many open files on the local server."),
				 errhint("Raise max_files_per_process and/or \"ulimit -n\".")));
	}
	conn->fd_acquired = true;
	conn->next = open_conns;
	open_conns = conn;

	PG_TRY();
	{
		ops->connect(conn);
	}
	PG_CATCH();
	{
		close_conn(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return conn;
}

/* True while conn is still in the registry (not closed by bb_close or an abort). */
static bool
is_open(BBConn *conn)
{
	for (BBConn *c = open_conns; c != NULL; c = c->next)
		if (c == conn)
			return true;
	return false;
}

/* Closes conn; a no-op for NULL or a connection an abort already closed. */
void
bb_close(BBConn *conn)
{
	if (conn != NULL && is_open(conn))
		close_conn(conn);
}

/* Lets conn outlive the (sub)transaction; the caller must bb_close it itself. */
void
bb_conn_detach(BBConn *conn)
{
	if (conn != NULL && is_open(conn))
		conn->subxid = InvalidSubTransactionId;
}

/* ---------------------------------------------------------------- dispatch */

typedef struct OpContext
{
	BBConn	   *conn;
	const char *what;
} OpContext;

/* Error context of every remote call: instance and command (or operation). */
static void
op_error_context(void *arg)
{
	OpContext  *oc = (OpContext *) arg;

	if (oc->conn->command)
		errcontext("remote command on instance \"%s\": %s",
				   oc->conn->info.instance, bb_clip_command(oc->conn->command));
	else
		errcontext("%s on instance \"%s\"", oc->what, oc->conn->info.instance);
}

#define BEGIN_OP(conn_, what_) \
	OpContext	oc_ = {(conn_), (what_)}; \
	ErrorContextCallback cb_; \
	check_usable(conn_); \
	(conn_)->command = NULL; \
	cb_.callback = op_error_context; \
	cb_.arg = &oc_; \
	cb_.previous = error_context_stack; \
	error_context_stack = &cb_

#define END_OP(conn_) \
	error_context_stack = cb_.previous; \
	(conn_)->command = NULL

/* Refuses a closed or broken connection with a clear error. */
static void
check_usable(BBConn *conn)
{
	if (conn == NULL || !is_open(conn))
		elog(ERROR, "bytebase: use of a closed remote connection");
	if (conn->broken)
		bb_error_broken(conn);
}

/* Runs one command; see driver.h. */
BBResult *
bb_exec_ex(BBConn *conn, const char *sql, const BBExecOptions *opt)
{
	static const BBExecOptions defaults = {.single = false, .keep_rows = true};
	BBResult   *res;
	BEGIN_OP(conn, "running a command");

	if (sql == NULL)
		elog(ERROR, "bytebase: NULL remote command");
	res = conn->ops->exec(conn, sql, opt ? opt : &defaults);
	END_OP(conn);
	return res;
}

/* Today's behaviour: rows kept, PostgreSQL takes a multi-statement string. */
BBResult *
bb_exec(BBConn *conn, const char *sql)
{
	return bb_exec_ex(conn, sql, NULL);
}

/* Lists the instance's user databases, sorted. */
List *
bb_list_databases(BBConn *conn)
{
	List	   *res;

	BEGIN_OP(conn, "listing databases");
	res = conn->ops->list_databases(conn);
	END_OP(conn);
	return res;
}

/* Snapshot of one database's tables, columns and indexes as JSON text. */
char *
bb_schema_snapshot(BBConn *conn, const char *database)
{
	char	   *res;

	BEGIN_OP(conn, "reading a schema");
	res = conn->ops->schema_snapshot(conn, database);
	END_OP(conn);
	return res;
}

/* The server's version string (for bb.test_connection and diagnostics). */
char *
bb_server_version(BBConn *conn)
{
	char	   *res;

	BEGIN_OP(conn, "reading the server version");
	res = conn->ops->server_version(conn);
	END_OP(conn);
	return res;
}

/* Best-effort remote cancel; never throws. */
void
bb_cancel(BBConn *conn)
{
	if (conn != NULL && is_open(conn) && conn->state != NULL)
		conn->ops->cancel(conn);
}

/* ---------------------------------------------------------------- waiting */

TimestampTz
bb_deadline_after(int ms)
{
	if (ms <= 0)
		return 0;
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
}

long
bb_ms_left(TimestampTz deadline)
{
	long		secs;
	int			usecs;

	if (deadline == 0)
		return -1;
	TimestampDifference(GetCurrentTimestamp(), deadline, &secs, &usecs);
	return secs * 1000 + (usecs + 999) / 1000;
}

/*
 * The only place drivers block on a socket: interrupts (cancel, terminate,
 * postmaster death) are served while waiting, and deadlines are exact.
 * Non-interruptible waits (cancel paths inside PG_CATCH) need a deadline.
 */
int
bb_wait_socket(int fd, int events, TimestampTz deadline, long max_wait_ms, bool interruptible)
{
	TimestampTz cap = max_wait_ms >= 0 ? bb_deadline_after((int) Max(max_wait_ms, 1)) : 0;

	if (fd < 0)
		elog(ERROR, "bytebase: waiting on an invalid socket");
	if (cap != 0 && (deadline == 0 || cap < deadline))
		deadline = cap;
	if (!interruptible && deadline == 0)
		elog(ERROR, "bytebase: a non-interruptible wait needs a deadline");

	for (;;)
	{
		int			flags = WL_EXIT_ON_PM_DEATH;
		long		timeout = bb_ms_left(deadline);
		int			rc;
		int			ready = 0;

		if (deadline != 0)
		{
			if (timeout <= 0)
				return 0;
			flags |= WL_TIMEOUT;
		}
		if (interruptible)
			flags |= WL_LATCH_SET;
		if (events & BB_IO_READ)
			flags |= WL_SOCKET_READABLE;
		if (events & BB_IO_WRITE)
			flags |= WL_SOCKET_WRITEABLE;

		rc = WaitLatchOrSocket(interruptible ? MyLatch : NULL, flags, fd, timeout,
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & WL_SOCKET_READABLE)
			ready |= BB_IO_READ;
		if (rc & WL_SOCKET_WRITEABLE)
			ready |= BB_IO_WRITE;
		if (ready)
			return ready;
	}
}

/* ---------------------------------------------------------------- shared errors */

void
bb_error_connect_timeout(BBConn *conn)
{
	ereport_target(ERROR,
			(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
			 errmsg("could not connect to instance \"%s\": timeout expired", conn->info.instance),
			 errdetail("%s:%d did not complete the connection within %d ms (bytebase.connect_timeout).",
					   conn->info.host, conn->info.port, bb_connect_timeout_ms),
			 errhint("Check that the host, port and engine are right and the server is up.")));
	pg_unreachable();
}

void
bb_error_statement_timeout(BBConn *conn)
{
	ereport_target(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling statement due to bytebase.statement_timeout"),
			 errdetail("The command ran longer than %d ms on instance \"%s\".",
					   bb_statement_timeout_ms, conn->info.instance),
			 errhint("Raise bytebase.statement_timeout (0 = no limit) for long commands.")));
	pg_unreachable();
}

void
bb_error_broken(BBConn *conn)
{
	ereport_target(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("connection to instance \"%s\" is no longer usable", conn->info.instance),
			 errdetail("An earlier command on it was canceled, timed out or lost the connection."),
			 errhint("Open a new connection.")));
	pg_unreachable();
}

/* ---------------------------------------------------------------- instance options */

/* An instance option (bb.instance.options) as text: strings as they are, booleans and
 * numbers spelled out; NULL when absent or null. */
char *
bb_instance_option(BBConn *conn, const char *key)
{
	Jsonb	   *jb;
	JsonbValue *v;

	if (conn->info.options_json == NULL)
		return NULL;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(conn->info.options_json)));
	if (!JB_ROOT_IS_OBJECT(jb))
		return NULL;
	v = getKeyJsonValueFromContainer(&jb->root, key, strlen(key), NULL);
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	return NULL;
}

/* A boolean instance option ("tls": true); absent = false. */
bool
bb_instance_option_bool(BBConn *conn, const char *key)
{
	char	   *v = bb_instance_option(conn, key);
	bool		result = false;

	if (v != NULL && !parse_bool(v, &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of instance \"%s\" must be a boolean", key, conn->info.instance)));
	return result;
}
