/* bytebase.h — settings (GUCs) and entry points shared by the extension's rooms */
#ifndef BYTEBASE_H
#define BYTEBASE_H

#include "postgres.h"

/* GUCs, defined in bytebase.c */
extern char *bb_database;            /* bytebase.database: the control database */
extern int	bb_connect_timeout_ms;   /* bytebase.connect_timeout */
extern int	bb_statement_timeout_ms; /* bytebase.statement_timeout */
extern int	bb_max_workers;          /* bytebase.max_workers */

/* launcher.c: registers the static launcher worker (only under shared_preload_libraries) */
extern void bb_launcher_register(void);

#endif
