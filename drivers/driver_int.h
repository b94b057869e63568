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

/*
 * ereport of an error ABOUT THE TARGET (see bb_error_is_target): every remote
 * error, failed or lost connection, remote timeout and result cap in the drivers
 * goes through it.  Local errors (out of memory, bugs) use plain ereport/elog.
 */
#define BB_TARGET_ERROR_DOMAIN "bytebase-target"
#define ereport_target(elevel, ...) ereport_domain(elevel, BB_TARGET_ERROR_DOMAIN, __VA_ARGS__)

/* One engine's implementation.  Every function may ereport(ERROR) except
 * close and cancel, which run on abort paths and must never throw. */
typedef struct BBDriverOps
{
	void		(*connect) (BBConn *conn);	/* fills conn->state from conn->info */
	/* opt is never NULL here */
	BBResult   *(*exec) (BBConn *conn, const char *sql, const BBExecOptions *opt);
	List	   *(*list_databases) (BBConn *conn);
	char	   *(*schema_snapshot) (BBConn *conn, const char *database);
	char	   *(*server_version) (BBConn *conn);
	void		(*cancel) (BBConn *conn);
	void		(*close) (BBConn *conn);
} BBDriverOps;

extern const BBDriverOps bb_postgres_ops;
extern const BBDriverOps bb_mysql_ops;
extern const BBDriverOps bb_clickhouse_ops;
extern const BBDriverOps bb_snowflake_ops;

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

/* Converts remote text (UTF-8) to the server encoding, validating it; invalid
 * or unrepresentable text is a target error.  Needs no transaction (bb_driver_prepare). */
extern char *bb_from_utf8(const char *s, int len);

/* Same without a copy when none is needed: returns s itself (validated) or a palloc'd
 * conversion; *outlen gets the length. */
extern const char *bb_utf8_in(const char *s, int len, int *outlen);

/* Same for remote error messages, never failing: bad or unrepresentable bytes become '?'. */
extern char *bb_message_from_utf8(const char *s);

/* Converts our text (server encoding) to UTF-8 for engines that take UTF-8;
 * returns s itself when no conversion is needed. */
extern char *bb_to_utf8(const char *s);

/* The command text clipped for messages (first 200 characters). */
extern char *bb_clip_command(const char *sql);

/* Allocates an empty result of ncols columns and nrows rows. */
extern BBResult *bb_result_new(int ncols, int nrows);

/*
 * Collects the rows of one result set as they stream in (rows.c): counts them,
 * and when keeping them checks bytebase.max_result_rows / max_result_bytes
 * BEFORE storing a row, so nothing past the cap is ever buffered.  The result
 * lives in its own context under the caller's (bb_rows_discard frees it).
 */
typedef struct BBRowBuf
{
	BBResult   *res;
	MemoryContext cxt;
	bool		keep;
	bool		from_utf8;		/* values arrive in UTF-8 (MySQL, ClickHouse) */
	int			allocated;		/* rows the values array has room for */
	int64		bytes;			/* memory charged against max_result_bytes */
} BBRowBuf;

extern void bb_rows_start(BBRowBuf *rb, int ncols, bool keep, bool from_utf8);
/* Sets column c's name (copied, converted like the values). */
extern void bb_rows_colname(BBRowBuf *rb, int c, const char *name);
/* Adds one row: vals[c] NULL = SQL NULL; lens[c] = byte length (lens NULL: strlen). */
extern void bb_rows_add(BBRowBuf *rb, const char *const *vals, const unsigned long *lens);
/* Frees the rows collected so far (a later result set replaces them). */
extern void bb_rows_discard(BBRowBuf *rb);
/* The cap errors (54000, naming the setting), for engines that see the cap before rows. */
extern void bb_error_too_many_rows(void) pg_attribute_noreturn();
extern void bb_error_too_many_bytes(int64 rows) pg_attribute_noreturn();	/* rows < 0: unknown */

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
