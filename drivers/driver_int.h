/*
 * driver_int.h — what the engine drivers share behind driver.h: the vtable
 * each engine fills, the connection record driver.c keeps for them, the
 * interruptible socket wait, timeout errors and the schema-snapshot builder.
 * Only the driver sources include this.
 */
#ifndef BB_DRIVER_INT_H
#define BB_DRIVER_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "driver.h"

/* One engine's implementation.  Every function may ereport(ERROR) except
 * close and cancel, which run on abort paths and must never throw. */
typedef struct BBDriverOps
{
	void		(*connect) (BBConn *conn);	/* fills conn->state from conn->info */
	BBResult   *(*exec) (BBConn *conn, const char *sql);
	List	   *(*list_databases) (BBConn *conn);
	char	   *(*schema_snapshot) (BBConn *conn, const char *database);
	char	   *(*server_version) (BBConn *conn);
	void		(*cancel) (BBConn *conn);
	void		(*close) (BBConn *conn);
} BBDriverOps;

extern const BBDriverOps bb_postgres_ops;
extern const BBDriverOps bb_mysql_ops;
extern const BBDriverOps bb_clickhouse_ops;

/* The connection record; lives in its own memory context under TopMemoryContext. */
struct BBConn
{
	const BBDriverOps *ops;
	BBConnInfo	info;			/* deep copy; password wiped at close */
	MemoryContext cxt;			/* holds this record, the copy and engine state */
	void	   *state;			/* engine's own data (allocated in cxt or malloc'd) */
	bool		broken;			/* a timeout/cancel left the session unusable */
	bool		tls;			/* instance option "tls": encrypted connections only */
	bool		in_flight;		/* a remote command is running: close cancels it first
								 * (e.g. pg_terminate_backend: FATAL skips PG_CATCH) */
	bool		fd_acquired;	/* holds one AcquireExternalFD() slot */
	SubTransactionId subxid;	/* closed when this subtransaction aborts */
	const char *command;		/* remote command running now, for errcontext */
	struct BBConn *next;		/* registry of open connections */
};

/* Socket readiness for bb_wait_socket. */
#define BB_IO_READ	1
#define BB_IO_WRITE 2

/* 0 when ms <= 0 (no deadline), else now + ms. */
extern TimestampTz bb_deadline_after(int ms);

/* Milliseconds until deadline (>= 0), or -1 for no deadline. */
extern long bb_ms_left(TimestampTz deadline);

/* Waits for fd to be ready for events (BB_IO_*), honouring interrupts when
 * interruptible; returns the ready events, or 0 once deadline (or
 * max_wait_ms >= 0) has passed. */
extern int	bb_wait_socket(int fd, int events, TimestampTz deadline, long max_wait_ms,
						   bool interruptible);

/* Throws the standard errors, naming the instance (never credentials). */
extern void bb_error_connect_timeout(BBConn *conn) pg_attribute_noreturn();
extern void bb_error_statement_timeout(BBConn *conn) pg_attribute_noreturn();
extern void bb_error_broken(BBConn *conn) pg_attribute_noreturn();

/* Instance options (bb.instance.options): "tls": true asks every engine for an encrypted
 * connection (PostgreSQL sslmode=require unless "sslmode" is given; MySQL TLS with the
 * server certificate verified; ClickHouse https, verified by libcurl); PostgreSQL also
 * takes "sslmode". */
extern char *bb_instance_option(BBConn *conn, const char *key);
extern bool bb_instance_option_bool(BBConn *conn, const char *key);

/* Converts remote text (UTF-8) to the server encoding, validating it. */
extern char *bb_from_utf8(const char *s, int len);

/* Same for remote error messages, never failing: invalid bytes become '?'. */
extern char *bb_message_from_utf8(const char *s);

/* The command text clipped for messages (first 200 characters). */
extern char *bb_clip_command(const char *sql);

/* Allocates an empty result of ncols columns and nrows rows. */
extern BBResult *bb_result_new(int ncols, int nrows);

/*
 * Builds the normalized snapshot JSON (see driver.h) from two result sets
 * every engine produces with its own catalog queries:
 *   cols: schema, table, column, type, nullable (t/true/1/YES), default
 *         (one row per column in column order; column NULL = a table without columns)
 *   idx:  schema, table, index, unique, primary, column (one row per key column, in key order)
 * Tables are sorted by (schema, name) bytewise, indexes by name.
 */
extern char *bb_snapshot_json(BBResult *cols, BBResult *idx);

/* Appends s as a SQL string literal for engines (backslash-escaped for MySQL/ClickHouse
 * when backslash_escapes, else standard doubled quotes). */
extern void bb_append_literal(StringInfo buf, const char *s, bool backslash_escapes);

#endif
