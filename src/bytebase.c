/* bytebase.c — module entry: settings and, when preloaded, the launcher worker */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "bytebase.h"
#include "review/lint.h"

PG_MODULE_MAGIC;

char	   *bb_database = NULL;
int			bb_connect_timeout_ms = 10000;
int			bb_statement_timeout_ms = 30 * 60 * 1000;
int			bb_max_workers = 4;
bool		bb_dry_run = true;

void		_PG_init(void);

/* Defines the settings; the launcher exists only when loaded at server start. */
void
_PG_init(void)
{
	DefineCustomStringVariable("bytebase.database",
							   "Database in which the bytebase extension (the control plane) lives.",
							   "CREATE EXTENSION bytebase is refused elsewhere; the launcher connects here.",
							   &bb_database, "postgres",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.connect_timeout",
							"Time allowed to connect to a target instance.",
							NULL, &bb_connect_timeout_ms, 10000, 100, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.statement_timeout",
							"Time allowed for one statement on a target instance (0 = none).",
							NULL, &bb_statement_timeout_ms, 30 * 60 * 1000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.max_workers",
							"Most executor workers running tasks at once.",
							NULL, &bb_max_workers, 4, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("bytebase.dry_run",
							 "Run each PostgreSQL change in a rolled-back transaction on its target before rollout.",
							 "Read by bb.apply when it plans the checks of a new issue.",
							 &bb_dry_run, true, PGC_USERSET, 0, NULL, NULL, NULL);
	bb_review_define_settings();
	MarkGUCPrefixReserved("bytebase");

	if (process_shared_preload_libraries_in_progress)
		bb_launcher_register();
}
