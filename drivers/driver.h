/*
 * driver.h — the one interface every engine driver implements.
 *
 * Callers (sync_instance, plan checks, executors) see only this header.
 * Every call may ereport(ERROR): remote errors keep their SQLSTATE (or the
 * engine's code mapped to one) and message, and the error context names the
 * instance and the remote command.  No call blocks interrupts: waits go
 * through WaitLatchOrSocket/CHECK_FOR_INTERRUPTS, and every connect and
 * statement is bounded by bytebase.connect_timeout / bytebase.statement_timeout.
 * A password never appears in an error, a log line or a returned value.
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

/* Where and as whom to connect; strings are palloc'd by the caller. */
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
} BBConnInfo;

/* Rows of a query, all values as text (NULL pointer = SQL NULL). */
typedef struct BBResult
{
	int			ncols;
	int			nrows;
	char	  **colnames;		/* ncols */
	char	  **values;			/* nrows * ncols, row-major */
	int64		affected;		/* rows affected by a DML command, -1 if unknown */
} BBResult;

#define BB_VALUE(res, row, col) ((res)->values[(row) * (res)->ncols + (col)])

typedef struct BBConn BBConn;	/* opaque, one per connection */

/* engine name <-> enum; bb_engine_from_name ereports on an unknown name */
extern BBEngine bb_engine_from_name(const char *name);
extern const char *bb_engine_name(BBEngine engine);

/* Opens a connection.  Closed by bb_close, or at the end of the current
 * (sub)transaction / on ERROR if the caller forgot: a handle never leaks. */
extern BBConn *bb_connect(const BBConnInfo *info);

/* Runs one command (PostgreSQL: may be a multi-statement string). */
extern BBResult *bb_exec(BBConn *conn, const char *sql);

/* TEMPORARY (lead's shim until the drivers branch lands): options of bb_exec_ex. */
typedef struct BBExecOptions
{
	bool		single;			/* exactly one statement */
	bool		keep_rows;		/* false: rows counted, not kept */
} BBExecOptions;
extern BBResult *bb_exec_ex(BBConn *conn, const char *sql, const BBExecOptions *opt);

/* TEMPORARY shim: true when the error being handled was raised about the target. */
extern bool bb_error_is_target(void);

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

/* Reads an instance's address from bb.instance and its credentials from the
 * user mapping of its foreign server (needs the extension owner's rights). */
extern BBConnInfo *bb_conninfo_for_instance(const char *instance, const char *database);
/* TEMPORARY shim until the drivers branch lands: the connection acts with acting_role's rights. */
extern BBConnInfo *bb_instance_conninfo(const char *instance, const char *database, Oid acting_role);

#endif
