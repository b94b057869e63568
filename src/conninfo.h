/*
 * conninfo.h — where and as whom to connect to an instance, read from the
 * catalog (bb.instance and the user mapping of its foreign server).  Drivers
 * never read the catalog: callers build the BBConnInfo here, inside a
 * transaction, and may then connect with or without one (driver.h).
 */
#ifndef BB_CONNINFO_H
#define BB_CONNINFO_H

#include "postgres.h"

#include "driver.h"

/*
 * The connection info of an instance (database NULL = its default: options.database,
 * else the server's dbname).  acting_role is the role the remote work is done for (the
 * session user of an API call, the creator for an executor): unless it is a
 * superuser, PostgreSQL connections must use a password the server asked for
 * (require_password), unless a superuser set the instance option "password_required"
 * to false.  Needs a transaction and the extension owner's rights (credentials);
 * also runs bb_driver_prepare().  Errors: 42704 unknown instance, 22004 NULL name,
 * 22023 a non-boolean password_required.
 */
extern BBConnInfo *bb_instance_conninfo(const char *instance, const char *database, Oid acting_role);

#endif
