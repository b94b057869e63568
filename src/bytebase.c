/* bytebase.c — module entry: settings and, when preloaded, the launcher worker */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "audit.h"
#include "bytebase.h"
#include "gitops.h"
#include "review/lint.h"

PG_MODULE_MAGIC;

char	   *bb_database = NULL;
int			bb_connect_timeout_ms = 10000;
int			bb_statement_timeout_ms = 30 * 60 * 1000;
int			bb_max_workers = 4;
int			bb_max_result_rows = 1000000;
int			bb_max_result_bytes = 256 * 1024 * 1024;
bool		bb_trace_tasks = false;

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
	DefineCustomIntVariable("bytebase.max_result_rows",
							"Most rows a remote result kept in memory may have (remote_query, schema snapshots).",
							"A larger result fails when the cap is reached; nothing past it is buffered.",
							&bb_max_result_rows, 1000000, 1, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("bytebase.max_result_bytes",
							"Most memory a remote result kept in memory may take (value text plus 9 bytes a value).",
							"A larger result fails when the cap is reached; nothing past it is buffered.",
							&bb_max_result_bytes, 256 * 1024 * 1024, 1024, INT_MAX,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomBoolVariable("bytebase.trace_tasks",
							 "Logs where each task's time went (claim, connect, history, statements, snapshot, outcome).",
							 "One LOG line per task from the executor that ran it (test/bench/rollout_bench.sh reads them).",
							 &bb_trace_tasks, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	bb_review_define_settings();
	bb_gitops_init();			/* GitOps settings; its worker when preloaded */
	MarkGUCPrefixReserved("bytebase");

	bb_audit_init();

	if (process_shared_preload_libraries_in_progress)
		bb_launcher_register();
}
