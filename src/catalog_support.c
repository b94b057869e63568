/* catalog_support.c — small C helpers the SQL catalog and API functions rely on */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "bytebase.h"

PG_FUNCTION_INFO_V1(bb_caller);
PG_FUNCTION_INFO_V1(bb_check_database);
PG_FUNCTION_INFO_V1(bb_fdw_validator);

/*
 * The role that called the API, as SET ROLE left it: inside a SECURITY
 * DEFINER function current_user is the owner, so role checks and "created_by"
 * use the outer user instead.
 */
Datum
bb_caller(PG_FUNCTION_ARGS)
{
	char	   *name = GetUserNameFromId(GetOuterUserId(), false);

	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(name)));
}

/* Refuses CREATE EXTENSION outside bytebase.database, where no launcher would serve it. */
Datum
bb_check_database(PG_FUNCTION_ARGS)
{
	char	   *here = get_database_name(MyDatabaseId);

	if (bb_database == NULL || here == NULL || strcmp(here, bb_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("can only create extension \"bytebase\" in database \"%s\"",
						bb_database ? bb_database : "postgres"),
				 errdetail("The control plane lives in one database per cluster, the one the launcher worker serves."),
				 errhint("Set bytebase.database = '%s' in postgresql.conf and restart to use this database.",
						 here ? here : "")));
	PG_RETURN_VOID();
}

/* Options a bytebase foreign server / user mapping may carry. */
static const char *const server_options[] = {"host", "port", "dbname", "engine", NULL};
static const char *const mapping_options[] = {"user", "password", NULL};

static bool
option_allowed(const char *name, const char *const *allowed)
{
	for (int i = 0; allowed[i] != NULL; i++)
		if (strcmp(name, allowed[i]) == 0)
			return true;
	return false;
}

/*
 * Validator of the bytebase foreign-data wrapper, which holds the address and
 * credentials of MySQL, TiDB and ClickHouse instances (dblink does the same):
 * credentials then live where Postgres keeps remote credentials already.
 */
Datum
bb_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		bool		ok = false;

		if (catalog == ForeignServerRelationId)
			ok = option_allowed(def->defname, server_options);
		else if (catalog == UserMappingRelationId)
			ok = option_allowed(def->defname, mapping_options);
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for the bytebase wrapper", def->defname),
					 errhint("Servers take host, port, dbname and engine; user mappings take user and password.")));
	}
	PG_RETURN_VOID();
}
