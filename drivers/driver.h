/*
 * driver.h — the one interface every engine driver implements.
 *
 * Callers (sync_instance, plan checks, executors) see only this header (and
 * src/conninfo.h, which says where and as whom to connect).  Every call may
 * ereport(ERROR): remote errors keep their SQLSTATE (or the engine's code
 * mapped to one) and message, and the error context names the instance and
 * the remote command.  No call blocks interrupts: waits go through
 * WaitLatchOrSocket/CHECK_FOR_INTERRUPTS, and every connect and statement is
 * bounded by bytebase.connect_timeout / bytebase.statement_timeout.
 * A password never appears in an error, a log line or a returned value.
 *
 * Drivers never read the catalog.  Connections may be opened and used with
 * no transaction open (an executor does its remote work that way, holding no
 * snapshot), provided bb_driver_prepare() ran once in this process inside a
 * transaction (bb_instance_conninfo and bb_connect inside a transaction do it).
 */
#ifndef BB_DRIVER_H
#define BB_DRIVER_H

#include "postgres.h"
#include "nodes/pg_list.h"

typedef enum BBEngine
{
	BB_ENGINE_POSTGRES,
	BB_ENGINE_MYSQL,
	BB_ENGINE_TIDB,
	BB_ENGINE_CLICKHOUSE,
	BB_ENGINE_SNOWFLAKE
} BBEngine;

/* Where and as whom to connect; strings are palloc'd by the caller.
 * Filled by bb_instance_conninfo (src/conninfo.h). */
typedef struct BBConnInfo
{
	BBEngine	engine;
	const char *instance;		/* instance name, used in error messages */
	const char *host;
	int			port;
	const char *user;			/* may be NULL */
	const char *password;		/* may be NULL; never printed */
	const char *database;		/* may be NULL: the engine's default */
	const char *options_json;	/* instance options (jsonb text), may be NULL */
	/* PostgreSQL: refuse a missing password and a server that did not ask for it
	 * (trust/peer would let the acting role act as this server's OS user) */
	bool		require_password;
} BBConnInfo;

/* Rows of a query, all values as text (NULL pointer = SQL NULL). */
typedef struct BBResult
{
	int			ncols;
	int			nrows;			/* rows kept in values (0 when keep_rows was false) */
	char	  **colnames;		/* ncols */
	char	  **values;			/* nrows * ncols, row-major */
	int64		affected;		/* rows affected by a DML command, -1 if unknown */
	int64		rows_returned;	/* rows the command returned, kept or not (0 for none) */
} BBResult;

#define BB_VALUE(res, row, col) ((res)->values[(row) * (res)->ncols + (col)])

/* How bb_exec_ex runs a command. */
typedef struct BBExecOptions
{
	/* the target refuses a string holding more than one statement (PostgreSQL:
	 * extended protocol; MySQL/TiDB: no CLIENT_MULTI_STATEMENTS; ClickHouse: one
	 * statement per request, always) */
	bool		single;
	/* false: rows are counted (rows_returned) and dropped as they arrive, never
	 * stored; true: kept, within bytebase.max_result_rows / max_result_bytes */
	bool		keep_rows;
	/* the engine refuses writes for this command where it has a per-request mode for it
	 * (ClickHouse: readonly=2, settings may still change); others ignore it (callers use a
	 * read-only transaction) */
	bool		read_only;
} BBExecOptions;

typedef struct BBConn BBConn;	/* opaque, one per connection */

/* engine name <-> enum (src/engine.h has the full table); bb_engine_from_name
 * ereports on an unknown name */
extern BBEngine bb_engine_from_name(const char *name);
extern const char *bb_engine_name(BBEngine engine);

/* Caches what drivers must not look up later (encoding conversion functions):
 * call inside a transaction before using connections outside one.  Idempotent. */
extern void bb_driver_prepare(void);

/* Opens a connection.  Inside a transaction it is closed by bb_close, or at the
 * end of the current (sub)transaction / on ERROR if the caller forgot: a handle
 * never leaks.  Outside a transaction it is detached (see bb_conn_detach).
 * The session is pinned to the lexing rules of our splitter: PostgreSQL
 * standard_conforming_strings=on; MySQL/TiDB sql_mode without ANSI_QUOTES and
 * NO_BACKSLASH_ESCAPES (and without the modes that imply ANSI_QUOTES). */
extern BBConn *bb_connect(const BBConnInfo *info);

/* Runs one command and keeps its rows (PostgreSQL: may be a multi-statement
 * string, the last result is returned).  Same as bb_exec_ex(conn, sql, NULL). */
extern BBResult *bb_exec(BBConn *conn, const char *sql);

/* Runs one command as opt says (NULL = {single = false, keep_rows = true}).
 * Kept rows exceeding bytebase.max_result_rows / bytebase.max_result_bytes
 * fail with 54000 naming the setting; nothing past the cap is buffered. */
extern BBResult *bb_exec_ex(BBConn *conn, const char *sql, const BBExecOptions *opt);

/* Names of the user databases on the instance (system databases excluded), sorted.
 * Excluded: PostgreSQL template0, template1 and postgres; MySQL/TiDB
 * information_schema, performance_schema, mysql, sys (TiDB: metrics_schema);
 * ClickHouse system (and information_schema); ClickHouse's "default" is kept:
 * it is where users create tables when they name no database. */
extern List *bb_list_databases(BBConn *conn);

/* Normalized schema metadata of one database as JSON text (PostgreSQL: every
 * non-system schema of that database; MySQL/TiDB/ClickHouse: "schema" is the
 * database itself); tables sorted by (schema, name), columns in table order,
 * indexes by name, index columns in key order:
 * {"tables":[{"schema":..,"name":..,"columns":[{"name":..,"type":..,"nullable":..,"default":..}],
 *             "indexes":[{"name":..,"columns":[..],"unique":..,"primary":..}]}]}
 * (same shape for every engine, so snapshots can be compared). */
extern char *bb_schema_snapshot(BBConn *conn, const char *database);

/* Asks the server to stop the running command (safe from an interrupt path). */
extern void bb_cancel(BBConn *conn);

extern void bb_close(BBConn *conn);

/* The server's version string (e.g. for bb.test_connection). */
extern char *bb_server_version(BBConn *conn);

/* Lets a connection outlive the current (sub)transaction (e.g. an executor that
 * commits between statements); the caller must then bb_close it itself, also
 * on ERROR (PG_TRY/PG_FINALLY).  At process exit (even FATAL) every connection
 * is closed and a command still running on it is canceled remotely. */
extern void bb_conn_detach(BBConn *conn);

/*
 * True when an error is ABOUT THE TARGET: a remote error (with the remote
 * SQLSTATE), a failed or lost connection, bytebase.connect_timeout or
 * bytebase.statement_timeout expiry, a result over the bytebase.max_result_*
 * caps, remote text the server encoding cannot hold.  False for a LOCAL one:
 * query cancel or terminate of this backend, its own statement_timeout, out of
 * memory, bugs.  The mark travels with the error itself (its domain), so it
 * survives CopyErrorData/ReThrowError and never goes stale:
 *     edata = CopyErrorData(); if (!bb_error_is_target(edata)) ReThrowError(edata);
 */
extern bool bb_error_is_target(const ErrorData *edata);

/* Transitional (src/conninfo.c): bb_instance_conninfo(instance, database,
 * GetSessionUserId()).  New code includes conninfo.h and names the acting role. */
extern BBConnInfo *bb_conninfo_for_instance(const char *instance, const char *database);
/* TEMPORARY shim until the drivers branch lands: the connection acts with acting_role's rights. */
extern BBConnInfo *bb_instance_conninfo(const char *instance, const char *database, Oid acting_role);

#endif
