/*
 * engine.h — the one table of engines: name, review dialect, driver and
 * capabilities.  Everything that branches on an engine looks it up here
 * (drivers, splitter, SQL review, executors); the SRF bb_engines() exposes
 * the same rows to SQL (the bb.engine catalog table is filled from it).
 */
#ifndef BB_ENGINE_H
#define BB_ENGINE_H

#include "postgres.h"

#include "driver.h"
#include "review/review.h"

struct BBDriverOps;				/* drivers/driver_int.h */

typedef struct BBEngineDef
{
	BBEngine	engine;
	const char *name;			/* as in bb.instance.engine */
	bb_dialect	dialect;		/* splitter and review rules */
	const struct BBDriverOps *ops;	/* NULL: no driver yet */
	/* the engine rolls DDL back with its transaction: a script can run atomically
	 * together with the history row (PostgreSQL only) */
	bool		transactional_ddl;
	/* a script can run statement by statement and resume at statement k (MySQL, TiDB,
	 * ClickHouse; PostgreSQL for scripts that cannot run in one transaction) */
	bool		resumable;
} BBEngineDef;

/* The engines in a stable order (the order of BBEngine). */
extern const BBEngineDef bb_engine_table[];
extern const int bb_engine_count;

/* The engine of a name ("postgresql" is accepted for postgres); NULL when unknown. */
extern const BBEngineDef *bb_engine_lookup(const char *name);

/* Same, but an unknown or NULL name is a user error (22023 / 22004, listing the engines). */
extern const BBEngineDef *bb_engine_by_name(const char *name);

/* The row of an enum value (never NULL for a valid one). */
extern const BBEngineDef *bb_engine_def(BBEngine engine);

/* True when the engine has a driver (bb_connect works). */
#define BB_ENGINE_HAS_DRIVER(def) ((def)->ops != NULL)

#endif
