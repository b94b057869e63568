/* subxact.h — run a piece of work in a subtransaction and catch its error (as plpgsql's EXCEPTION) */
#ifndef BB_SUBXACT_H
#define BB_SUBXACT_H

#include "postgres.h"

/*
 * Runs fn(arg) in an internal subtransaction.  On success the subtransaction is
 * committed and true returned.  On ERROR it is rolled back (what fn did in the
 * database is undone, connections it opened are closed), the caller's memory
 * context and resource owner are restored, and false is returned with *err set
 * to the copied error (allocated in the caller's memory context; pass NULL to
 * drop it).  fn allocates in the caller's memory context, so what it returns
 * through arg survives the commit.  Errors the caller must not swallow (a query
 * cancel, bb_error_is_target() false ...) are its to rethrow: ReThrowError(*err).
 * Needs a transaction; FATAL and PANIC pass through untouched.
 */
extern bool bb_try_in_subxact(void (*fn) (void *arg), void *arg, ErrorData **err);

#endif
