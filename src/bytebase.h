/* bytebase.h — settings (GUCs) and entry points shared by the extension's rooms */
#ifndef BYTEBASE_H
#define BYTEBASE_H

#include "postgres.h"

/* GUCs, defined in bytebase.c */
extern char *bb_database;            /* bytebase.database: the control database */
extern int	bb_connect_timeout_ms;   /* bytebase.connect_timeout */
extern int	bb_statement_timeout_ms; /* bytebase.statement_timeout */
extern int	bb_max_workers;          /* bytebase.max_workers */
extern int	bb_max_result_rows;      /* bytebase.max_result_rows: rows a kept remote result may have */
extern int	bb_max_result_bytes;     /* bytebase.max_result_bytes: memory a kept remote result may take */
extern bool bb_trace_tasks;          /* bytebase.trace_tasks: executors log the phases of each task */

/* launcher.c: registers the static launcher worker (only under shared_preload_libraries) */
extern void bb_launcher_register(void);

#endif
