/*
 * mysql_raw.h — a plain-C wrapper over libmariadb's non-blocking API.
 * mysql.h cannot meet PostgreSQL headers (ma_list.h's list_* clash with
 * pg_list.h), so mysql_raw.c includes only mysql.h and this file, and the
 * PostgreSQL side (mysql.c) sees only these functions.  Nothing here throws,
 * allocates with palloc or waits: every _start and _cont call returns the events to
 * wait for (BBMY_WAIT_*, 0 = finished) and the caller does the waiting.
 */
#ifndef BB_MYSQL_RAW_H
#define BB_MYSQL_RAW_H

/* same values as libmariadb's MYSQL_WAIT_* (checked in mysql_raw.c) */
#define BBMY_WAIT_READ 1
#define BBMY_WAIT_WRITE 2
#define BBMY_WAIT_EXCEPT 4
#define BBMY_WAIT_TIMEOUT 8

typedef struct BBMy BBMy;		/* one connection plus its current result */

/* malloc's a handle set up for non-blocking use and utf8mb4; NULL when out of memory. */
extern BBMy *bbmy_create(void);

/* Frees the result, closes the connection, wipes and frees the copied strings. */
extern void bbmy_destroy(BBMy *my);

/* Requires TLS for the connection, the server certificate verified against the system CAs. */
extern void bbmy_require_tls(BBMy *my);

/* Connect: the strings are copied (libmariadb keeps the pointers until the end). */
extern int	bbmy_connect_start(BBMy *my, const char *host, int port, const char *user,
							   const char *password, const char *db);
extern int	bbmy_connect_cont(BBMy *my, int ready);
extern int	bbmy_connect_ok(BBMy *my);

/* One statement; then bbmy_query_failed() tells whether it failed. */
extern int	bbmy_query_start(BBMy *my, const char *sql, unsigned long len);
extern int	bbmy_query_cont(BBMy *my, int ready);
extern int	bbmy_query_failed(BBMy *my);

/* Unbuffered results: use_result takes the result set (no I/O; 0 when the statement has none
 * or it failed), then rows are fetched one at a time with the non-blocking fetch below. */
extern int	bbmy_use_result(BBMy *my);
extern unsigned int bbmy_field_count(BBMy *my);
extern unsigned int bbmy_num_fields(BBMy *my);
extern const char *bbmy_field_name(BBMy *my, unsigned int i);
/* Next row: _start/_cont until 0, then bbmy_row gives it (0 at the end or on an error:
 * bbmy_errno tells which).  values[i] NULL = SQL NULL. */
extern int	bbmy_fetch_start(BBMy *my);
extern int	bbmy_fetch_cont(BBMy *my, int ready);
extern int	bbmy_row(BBMy *my, char ***values, unsigned long **lengths);
/* Frees a result read to its end. */
extern void bbmy_free_result(BBMy *my);
/* Frees a result NOT read to its end without reading the rest (libmariadb would read every
 * remaining row, blocking): the connection is then unusable and must be closed. */
extern void bbmy_abandon_result(BBMy *my);

/* Further result sets (a CALL returns one per SELECT plus a status): drained one by one. */
extern int	bbmy_more_results(BBMy *my);
extern int	bbmy_next_start(BBMy *my);
extern int	bbmy_next_cont(BBMy *my, int ready);
extern int	bbmy_next_failed(BBMy *my);

extern int	bbmy_socket(BBMy *my);
extern unsigned int bbmy_timeout_ms(BBMy *my);	/* when a *_start asked for BBMY_WAIT_TIMEOUT */
extern unsigned int bbmy_errno(BBMy *my);
extern const char *bbmy_error(BBMy *my);
extern const char *bbmy_sqlstate(BBMy *my);
extern unsigned long bbmy_thread_id(BBMy *my);
extern long long bbmy_affected_rows(BBMy *my);
extern const char *bbmy_server_info(BBMy *my);

/* Escapes from into to (to has room for 2*len+1), honouring the session's sql_mode. */
extern unsigned long bbmy_escape(BBMy *my, char *to, const char *from, unsigned long len);

#endif
