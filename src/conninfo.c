/*
 * conninfo.c — assembles where and as whom to connect for an instance: the
 * address from bb.instance, the credentials from the PUBLIC user mapping of
 * the instance's foreign server (where Postgres keeps remote credentials and
 * pg_dump carries them), and whether the acting role must use a password.
 * The drivers never read the catalog; this is the one place that does it for
 * them.  The password is only copied into the returned struct, never into a
 * message.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "conninfo.h"

/* Value of a DefElem option list entry, or NULL. */
static char *
option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/* Text of column col of the single SPI row, copied to cxt (NULL for SQL NULL). */
static char *
spi_text(int col, MemoryContext cxt)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);

	return v ? MemoryContextStrdup(cxt, v) : NULL;
}

/* The instance option "password_required" as jsonb text (absent or null = true); only a
 * JSON boolean is accepted. */
static bool
password_required_option(const char *instance, const char *value)
{
	if (value == NULL || strcmp(value, "null") == 0 || strcmp(value, "true") == 0)
		return true;
	if (strcmp(value, "false") == 0)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"password_required\" of instance \"%s\" must be a boolean", instance)));
	pg_unreachable();
}

/* See conninfo.h. */
BBConnInfo *
bb_instance_conninfo(const char *instance, const char *database, Oid acting_role)
{
	MemoryContext cxt = CurrentMemoryContext;
	BBConnInfo *info = palloc0(sizeof(BBConnInfo));
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *engine;
	char	   *port;
	char	   *server_name;
	char	   *default_db;
	char	   *password_required;
	ForeignServer *server;
	UserMapping *mapping;

	if (instance == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("instance name must not be NULL")));
	args[0] = CStringGetTextDatum(instance);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "bytebase: SPI_connect failed");
	if (SPI_execute_with_args("SELECT engine, host, port, options::text, server_name, "
							  "options->>'database', options->'password_required' "
							  "FROM bb.instance WHERE name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "bytebase: reading bb.instance failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("instance \"%s\" does not exist", instance),
				 errhint("See SELECT name FROM bb.instances; register one with bb.add_instance().")));
	engine = spi_text(1, cxt);
	info->host = spi_text(2, cxt);
	port = spi_text(3, cxt);
	info->options_json = spi_text(4, cxt);
	server_name = spi_text(5, cxt);
	default_db = spi_text(6, cxt);
	password_required = spi_text(7, cxt);
	SPI_finish();

	info->engine = bb_engine_from_name(engine);
	info->instance = pstrdup(instance);
	info->port = pg_strtoint32(port);

	server = GetForeignServerByName(server_name, true);
	if (server == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign server \"%s\" of instance \"%s\" does not exist", server_name, instance),
				 errhint("Remove the instance and add it again with bb.add_instance().")));
	if (default_db == NULL)
		default_db = option_value(server->options, "dbname");
	/* InvalidOid: the PUBLIC mapping bb.add_instance creates */
	mapping = GetUserMapping(InvalidOid, server->serverid);
	info->user = option_value(mapping->options, "user");
	info->password = option_value(mapping->options, "password");
	info->database = database ? pstrdup(database) : default_db;
	/* a superuser may act as any server's superuser anyway; nobody else without a password */
	info->require_password = password_required_option(instance, password_required) &&
		!superuser_arg(acting_role);
	bb_driver_prepare();
	return info;
}

/* See driver.h: the transitional form, acting as the session user. */
BBConnInfo *
bb_conninfo_for_instance(const char *instance, const char *database)
{
	return bb_instance_conninfo(instance, database, GetSessionUserId());
}
