/* subxact.c — the one try/catch-in-a-subtransaction of the extension (see subxact.h) */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "subxact.h"

/* BeginInternalSubTransaction switches context and owner; both come back on either path. */
bool
bb_try_in_subxact(void (*fn) (void *arg), void *arg, ErrorData **err)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	if (err != NULL)
		*err = NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	if (edata == NULL)
		return true;
	if (err != NULL)
		*err = edata;
	else
		FreeErrorData(edata);
	return false;
}
