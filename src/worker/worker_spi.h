/* worker_spi.h — short catalog transactions for the launcher and executors (SPI, text parameters) */
#ifndef BB_WORKER_SPI_H
#define BB_WORKER_SPI_H

#include "postgres.h"

/* starts a transaction with SPI and a snapshot; the caller's memory context stays current,
 * and results of wx_get land in it */
extern void wx_begin(const char *activity);
/* finishes SPI and commits */
extern void wx_commit(void);
/* runs sql (a string constant: its plan is kept) with text parameters $1..$n
 * (NULL pointer = SQL NULL); returns the row count */
extern uint64 wx_exec(const char *sql, int nargs, const char *const *args);
/* value of a result cell copied into the caller's context, NULL for SQL NULL */
extern char *wx_get(uint64 row, int col);
/* same, as an integer (0 for NULL) */
extern int64 wx_get_int(uint64 row, int col);
/* zeroed memory in the caller's context (outlives the transaction) */
extern void *wx_alloc(Size size);
/* int64 as a palloc'd decimal string, for parameters */
extern char *wx_itoa(int64 v);

#endif
