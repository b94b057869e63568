/*
 * snowflake_int.h — what snowflake.c (requests) and snowflake_json.c (reading
 * the SQL API's JSON answers) share.
 */
#ifndef BB_SNOWFLAKE_INT_H
#define BB_SNOWFLAKE_INT_H

#include "driver_int.h"

/* The fields of one SQL API answer that the driver uses (everything but "data"). */
typedef struct SfAnswer
{
	char	   *code;			/* Snowflake's code, e.g. "002003"; NULL when absent */
	char	   *sqlstate;		/* "sqlState" */
	char	   *message;
	char	   *handle;			/* "statementHandle" */
	int64		num_rows;		/* resultSetMetaData.numRows; -1 when absent */
	int			ncols;			/* entries of resultSetMetaData.rowType; -1 when absent */
	char	  **colnames;		/* ncols names (UTF-8, NULL when a column had none) */
	int			npartitions;	/* entries of resultSetMetaData.partitionInfo */
	bool		has_stats;		/* a DML answer: "stats" with the rows it changed */
	int64		affected;		/* numRowsInserted + numRowsUpdated + numRowsDeleted */
	bool		has_data;		/* the answer has a "data" member */
} SfAnswer;

/* Reads an answer's fields (not its rows).  False when the body is not a JSON object:
 * *why then says what is wrong with it (for the error's detail). */
extern bool sf_parse_answer(const char *body, size_t len, SfAnswer *out, char **why);

/* Streams the rows of the answer's "data" (arrays of ncols strings or nulls) into rb;
 * returns the number of rows.  A row of another width or invalid JSON is a target error
 * naming the instance. */
extern int64 sf_parse_rows(BBConn *conn, const char *body, size_t len, BBRowBuf *rb, int ncols);

#endif
