/* engine.c — the table of engines (see engine.h) and the SRF that shows it to SQL */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "driver_int.h"
#include "engine.h"

PG_FUNCTION_INFO_V1(bb_engines);

const BBEngineDef bb_engine_table[] = {
	{BB_ENGINE_POSTGRES, "postgres", BB_DIALECT_POSTGRES, &bb_postgres_ops, true, true},
	{BB_ENGINE_MYSQL, "mysql", BB_DIALECT_MYSQL, &bb_mysql_ops, false, true},
	{BB_ENGINE_TIDB, "tidb", BB_DIALECT_TIDB, &bb_mysql_ops, false, true},
	{BB_ENGINE_CLICKHOUSE, "clickhouse", BB_DIALECT_CLICKHOUSE, &bb_clickhouse_ops, false, true},
	{BB_ENGINE_SNOWFLAKE, "snowflake", BB_DIALECT_SNOWFLAKE, NULL, false, true},
};
const int	bb_engine_count = lengthof(bb_engine_table);

/* Review dialect names, for bb_engines() (the dialect enum is plain C in review.h). */
static const char *const dialect_names[] = {
	[BB_DIALECT_POSTGRES] = "postgres",
	[BB_DIALECT_MYSQL] = "mysql",
	[BB_DIALECT_TIDB] = "tidb",
	[BB_DIALECT_CLICKHOUSE] = "clickhouse",
	[BB_DIALECT_SNOWFLAKE] = "snowflake",
};

/* Linear search: five rows, and callers look up once per operation. */
const BBEngineDef *
bb_engine_lookup(const char *name)
{
	if (name == NULL)
		return NULL;
	if (strcmp(name, "postgresql") == 0)
		name = "postgres";
	for (int i = 0; i < bb_engine_count; i++)
		if (strcmp(name, bb_engine_table[i].name) == 0)
			return &bb_engine_table[i];
	return NULL;
}

/* The list of names for hints, built from the table so it never goes stale. */
static char *
engine_list(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < bb_engine_count; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", bb_engine_table[i].name);
	return buf.data;
}

const BBEngineDef *
bb_engine_by_name(const char *name)
{
	const BBEngineDef *def;

	if (name == NULL)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("engine must not be NULL")));
	def = bb_engine_lookup(name);
	if (def == NULL)
	{
		int			len = strlen(name);
		int			clip = pg_mbcliplen(name, len, 100);	/* a huge name is not echoed */

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown engine \"%.*s%s\"", clip, name, clip < len ? "..." : ""),
				 errhint("Engines: %s.", engine_list())));
	}
	return def;
}

const BBEngineDef *
bb_engine_def(BBEngine engine)
{
	for (int i = 0; i < bb_engine_count; i++)
		if (bb_engine_table[i].engine == engine)
			return &bb_engine_table[i];
	elog(ERROR, "bytebase: invalid engine %d", (int) engine);
	pg_unreachable();
}

/* bb_engines() RETURNS TABLE(name, dialect, transactional_ddl, resumable, has_driver). */
Datum
bb_engines(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < bb_engine_count; i++)
	{
		const BBEngineDef *e = &bb_engine_table[i];
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = CStringGetTextDatum(e->name);
		values[1] = CStringGetTextDatum(dialect_names[e->dialect]);
		values[2] = BoolGetDatum(e->transactional_ddl);
		values[3] = BoolGetDatum(e->resumable);
		values[4] = BoolGetDatum(BB_ENGINE_HAS_DRIVER(e));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
