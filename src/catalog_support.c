/* catalog_support.c — small C helpers the SQL catalog and API functions rely on */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "bytebase.h"

PG_FUNCTION_INFO_V1(bb_caller);
PG_FUNCTION_INFO_V1(bb_require);
PG_FUNCTION_INFO_V1(bb_has_role);
PG_FUNCTION_INFO_V1(bb_check_database);
PG_FUNCTION_INFO_V1(bb_fdw_validator);

/*
 * The person who called the API: the authenticated session user.  Neither SET ROLE nor a
 * SECURITY DEFINER function changes it, so a member of two bytebase roles cannot approve their
 * own issue by switching roles, and group roles never count as a person.
 */
Datum
bb_caller(PG_FUNCTION_ARGS)
{
	char	   *name = GetUserNameFromId(GetSessionUserId(), false);

	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(name)));
}

/*
 * True when the session user is a superuser or a member of one of the named roles.  Written
 * in C on the role catalogs' caches: no relation, function or operator is looked up by name,
 * so nothing a caller puts in its search_path or temp schema can change the answer.
 */
static bool
session_has_any_role(ArrayType *roles)
{
	Oid			me = GetSessionUserId();
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (superuser_arg(me))
		return true;
	if (roles == NULL)
		return false;
	deconstruct_array(roles, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		Oid			role;

		if (nulls[i])
			continue;
		role = get_role_oid(TextDatumGetCString(elems[i]), true);
		/* membership, not inherited privileges: identity does not depend on SET ROLE */
		if (OidIsValid(role) && is_member_of_role(me, role))
			return true;
	}
	return false;
}

/* bb._has_role(VARIADIC roles text[]): the check without raising (views, owner-or-admin tests). */
Datum
bb_has_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(session_has_any_role(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0)));
}

/* bb._require(VARIADIC roles text[]): the role check at the top of every API function. */
Datum
bb_require(PG_FUNCTION_ARGS)
{
	ArrayType  *roles = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	StringInfoData list;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	char	   *who;

	if (session_has_any_role(roles))
		PG_RETURN_VOID();
	initStringInfo(&list);
	if (roles != NULL)
	{
		deconstruct_array(roles, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				appendStringInfo(&list, "%s%s", list.len ? ", " : "", TextDatumGetCString(elems[i]));
	}
	who = GetUserNameFromId(GetSessionUserId(), false);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied: role \"%s\" may not do this", who),
			 errhint("Grant one of the roles %s to \"%s\".", list.data, who)));
	PG_RETURN_VOID();
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
