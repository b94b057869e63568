/*
 * audit.c — the audit log's C side.
 *
 * bb._audit (called first thing by every state-changing API function) writes an 'ok' row in
 * the caller's transaction and remembers the call in backend memory.  When the call fails,
 * that row rolls back with it, so the outcome must be recorded from outside the transaction:
 *
 *   1. Every API function is SECURITY DEFINER with a pinned search_path, so the function
 *      manager calls fmgr_hook when it starts, when it returns, and when an error leaves it
 *      (FHET_ABORT, while the error is still the current one).  The hook counts the depth of
 *      such calls; bb._audit notes the depth of the API function that called it, and the
 *      abort event at that depth copies the error's SQLSTATE and message into the call.
 *   2. The (sub)transaction abort callbacks queue every call whose row was rolled back (and
 *      the commit callback the rare one whose row was lost while its function went on) in a
 *      ring in shared memory, then set the launcher's latch.
 *   3. The launcher calls bb_audit_drain() on every wake-up and writes the queued entries.
 *
 * A full ring never blocks a caller: the entry goes to the server log and is counted, and the
 * drain records how many were lost.  Without shared_preload_libraries there is no ring: such
 * entries go to the server log only.  Arguments arrive redacted (passwords) from the callers.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "worker_shmem.h"
#include "worker_spi.h"

PG_FUNCTION_INFO_V1(bb_audit);

#define RING_SLOTS 128			/* queued entries; more are logged and counted as lost */
#define ARGS_MAX 4096			/* bytes of JSON arguments a queued entry keeps */
#define ERROR_MAX 1024			/* bytes of error message kept */
#define FRAME_OIDS 256			/* function oids remembered for the innermost frames */
#define DRAIN_BATCH 32
#define DRAIN_RETRIES 3			/* failed writes of one entry before it is logged and dropped */

typedef enum CallState
{
	CALL_RUNNING,
	CALL_RETURNED,
	CALL_FAILED
} CallState;

/* An audited call of this backend whose outcome is not durable yet. */
typedef struct AuditCall
{
	TimestampTz at;
	char	   *who;
	char	   *function;
	char	   *arguments;		/* JSON text as queued (NULL until computed) */
	int			frame;			/* hook depth of the calling API function; 0 = not tracked */
	SubTransactionId subxid;	/* subtransaction that holds (or held) its ok row */
	bool		row_written;	/* the ok row exists in subxid */
	CallState	state;
	char		sqlstate[6];
	char	   *error;
} AuditCall;

/* A queued entry: fixed size, no pointers (shared memory). */
typedef struct AuditSlot
{
	Oid			database;
	TimestampTz at;
	char		who[NAMEDATALEN];
	char		function[NAMEDATALEN];
	char		outcome[12];
	char		sqlstate[6];
	char		error[ERROR_MAX];
	char		arguments[ARGS_MAX];
} AuditSlot;

typedef struct AuditRing
{
	LWLock	   *lock;
	uint64		head;			/* entries queued, ever */
	uint64		tail;			/* entries taken, ever (only the launcher moves it) */
	uint64		lost;			/* entries dropped because the ring was full */
	uint64		lost_recorded;	/* of those, reported in bb.audit_entry */
	AuditSlot	slots[RING_SLOTS];
} AuditRing;

static AuditRing *ring = NULL;
static MemoryContext audit_cxt = NULL;
static AuditCall **calls = NULL;
static int	n_calls = 0;
static int	max_calls = 0;
static int	frame_depth = 0;
static Oid	frame_oids[FRAME_OIDS];

static fmgr_hook_type prev_fmgr_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Copies src into dst of size bytes, cut at a character boundary: no broken encoding. */
static void
copy_clipped(char *dst, const char *src, int size)
{
	int			len = src ? (int) strlen(src) : 0;

	if (len >= size)
		len = pg_mbcliplen(src, len, size - 1);
	if (len > 0)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A palloc'd copy of src cut to fit max bytes (with its NUL). */
static char *
strdup_clipped(const char *src, int max)
{
	char	   *dst = palloc(Min((int) strlen(src) + 1, max));

	copy_clipped(dst, src, Min((int) strlen(src) + 1, max));
	return dst;
}

/* Arguments that fit a queue slot: the JSON itself, or a JSON object holding its clipped text. */
static char *
slot_arguments(const char *json)
{
	StringInfoData buf;
	int			keep = ARGS_MAX - 64;

	if (strlen(json) < ARGS_MAX)
		return pstrdup(json);
	for (;;)
	{
		char	   *prefix = pnstrdup(json, pg_mbcliplen(json, strlen(json), keep));

		initStringInfo(&buf);
		appendStringInfoString(&buf, "{\"clipped\": ");
		escape_json(&buf, prefix);
		appendStringInfoChar(&buf, '}');
		if (buf.len < ARGS_MAX)
			return buf.data;
		keep /= 2;				/* escaping grew it past the slot: keep less */
	}
}

/* Fills a queue entry from a call; callable in transaction callbacks (no allocation). */
static void
fill_slot(AuditSlot *s, const AuditCall *c, const char *outcome, const char *sqlstate, const char *error)
{
	s->database = MyDatabaseId;
	s->at = c->at;
	copy_clipped(s->who, c->who, sizeof(s->who));
	copy_clipped(s->function, c->function, sizeof(s->function));
	copy_clipped(s->outcome, outcome, sizeof(s->outcome));
	copy_clipped(s->sqlstate, sqlstate, sizeof(s->sqlstate));
	copy_clipped(s->error, error, sizeof(s->error));
	copy_clipped(s->arguments, c->arguments ? c->arguments : "{}", sizeof(s->arguments));
}

/* The last resort of an entry that cannot reach the table: the server log. */
static void
log_slot(const AuditSlot *s, const char *why)
{
	ereport(LOG,
			(errmsg("bytebase: audit entry not written to bb.audit_entry: %s", why),
			 errdetail("At %s, \"%s\" called %s: outcome %s%s%s%s%s, arguments %s.",
					   timestamptz_to_str(s->at), s->who, s->function, s->outcome,
					   s->sqlstate[0] ? " " : "", s->sqlstate,
					   s->error[0] ? ": " : "", s->error, s->arguments)));
}

/* Queues the entry of a call for the launcher; never waits for room. */
static void
queue_call(const AuditCall *c, const char *outcome, const char *sqlstate, const char *error)
{
	AuditSlot	local;
	bool		queued = false;

	if (ring == NULL)
	{
		fill_slot(&local, c, outcome, sqlstate, error);
		log_slot(&local, "bytebase is not loaded with shared_preload_libraries, so failed calls are only logged");
		return;
	}
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	if (ring->head - ring->tail < RING_SLOTS)
	{
		fill_slot(&ring->slots[ring->head % RING_SLOTS], c, outcome, sqlstate, error);
		ring->head++;
		queued = true;
	}
	else
		ring->lost++;
	LWLockRelease(ring->lock);

	if (!queued)
	{
		fill_slot(&local, c, outcome, sqlstate, error);
		log_slot(&local, "the audit queue is full");
	}
	else if (bb_worker_shmem != NULL && bb_worker_shmem->launcher_latch != NULL)
		SetLatch(bb_worker_shmem->launcher_latch);
}

/* Queues a call whose ok row was rolled back, with what is known of its outcome. */
static void
queue_rolled_back(const AuditCall *c)
{
	switch (c->state)
	{
		case CALL_FAILED:
			queue_call(c, "error", c->sqlstate, c->error);
			break;
		case CALL_RETURNED:
			queue_call(c, "rolled_back", NULL, "the call returned, but its changes were rolled back");
			break;
		case CALL_RUNNING:
			queue_call(c, "error", NULL, proc_exit_inprogress
					   ? "the session ended during the call"
					   : "the call was rolled back before it returned; its error was not captured");
			break;
	}
}

/* Forgets every call (end of the top-level transaction). */
static void
forget_calls(void)
{
	n_calls = 0;
	max_calls = 0;
	calls = NULL;
	if (audit_cxt != NULL)
		MemoryContextReset(audit_cxt);
}

/* Copies the error leaving an API function into its call (we are in its PG_CATCH). */
static void
capture_error(AuditCall *c)
{
	MemoryContext old = MemoryContextSwitchTo(audit_cxt);
	ErrorData  *e = CopyErrorData();

	c->state = CALL_FAILED;
	strlcpy(c->sqlstate, unpack_sql_state(e->sqlerrcode), sizeof(c->sqlstate));
	c->error = strdup_clipped(e->message ? e->message : "(no message)", ERROR_MAX);
	FreeErrorData(e);
	MemoryContextSwitchTo(old);
}

/* The function at the current depth returned or failed: its calls learn their outcome. */
static void
settle_frame(bool failed)
{
	for (int i = 0; i < n_calls; i++)
	{
		AuditCall  *c = calls[i];

		if (c->state != CALL_RUNNING || c->frame != frame_depth)
			continue;
		if (failed)
			capture_error(c);
		else
			c->state = CALL_RETURNED;
	}
}

/* Tracks the nesting of SECURITY DEFINER / SET functions, the API functions among them. */
static void
audit_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	switch (event)
	{
		case FHET_START:
			frame_depth++;
			if (frame_depth <= FRAME_OIDS)
				frame_oids[frame_depth - 1] = flinfo->fn_oid;
			break;
		case FHET_END:
		case FHET_ABORT:
			/* at depth 0 a function that started before this library was loaded ends */
			if (n_calls > 0)
				settle_frame(event == FHET_ABORT);
			if (frame_depth > 0)
				frame_depth--;
			break;
	}
}

/* A savepoint or exception block ended: the calls whose ok row it held follow it. */
static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			kept = 0;

	if (n_calls == 0)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = 0; i < n_calls; i++)
			if (calls[i]->subxid == mySubid)
				calls[i]->subxid = parentSubid;
		return;
	}
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (int i = 0; i < n_calls; i++)
	{
		AuditCall  *c = calls[i];

		if (c->subxid == mySubid)
		{
			c->row_written = false;
			if (c->state != CALL_RUNNING || c->frame == 0 || c->frame > frame_depth)
			{
				queue_rolled_back(c);
				continue;
			}
			/* its API function caught the error itself and goes on: it is still running */
			c->subxid = parentSubid;
		}
		calls[kept++] = c;
	}
	n_calls = kept;
}

/* End of the top-level transaction: committed ok rows are done, the rest is queued. */
static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT)
		frame_depth = 0;		/* every frame has unwound (FATAL skips the hook) */
	if (n_calls == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			/* ROLLBACK PREPARED would drop the ok rows after this session could see the calls'
			 * results (a remote query's rows): audited calls settle in their own session */
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that called bytebase API functions"),
					 errhint("Commit or roll back such a transaction in its session.")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			for (int i = 0; i < n_calls; i++)
			{
				AuditCall  *c = calls[i];

				if (c->state == CALL_FAILED)
					queue_call(c, "error", c->sqlstate, c->error);
				else if (!c->row_written)
					queue_call(c, "ok", NULL, NULL);
			}
			break;
		case XACT_EVENT_ABORT:
			for (int i = 0; i < n_calls; i++)
				queue_rolled_back(calls[i]);
			break;
		default:
			return;
	}
	forget_calls();
}

/* Remembers a call before its row is written, so a failure of the write is recorded too. */
static AuditCall *
remember_call(const char *function, Oid self)
{
	MemoryContext old;
	AuditCall  *c;

	if (audit_cxt == NULL)
		audit_cxt = AllocSetContextCreate(TopMemoryContext, "bytebase audit", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(audit_cxt);
	if (n_calls == max_calls)
	{
		max_calls = max_calls ? max_calls * 2 : 8;
		calls = calls ? repalloc(calls, max_calls * sizeof(AuditCall *))
			: palloc(max_calls * sizeof(AuditCall *));
	}
	c = palloc0(sizeof(AuditCall));
	c->at = GetCurrentTimestamp();
	c->who = GetUserNameFromId(GetSessionUserId(), false);
	c->function = strdup_clipped(function, NAMEDATALEN);
	c->subxid = GetCurrentSubTransactionId();
	c->state = CALL_RUNNING;
	/* bb._audit's own frame is the innermost one; its caller is the one below */
	c->frame = frame_depth;
	if (c->frame > 0 && c->frame <= FRAME_OIDS && frame_oids[c->frame - 1] == self)
		c->frame--;
	calls[n_calls++] = c;
	MemoryContextSwitchTo(old);
	return c;
}

/* bb._audit(function, arguments): the ok row now, the call remembered for its outcome. */
Datum
bb_audit(PG_FUNCTION_ARGS)
{
	Oid			types[4] = {TIMESTAMPTZOID, NAMEOID, TEXTOID, TEXTOID};
	Datum		values[4];
	Oid			jsonb_type = JSONBOID;
	Datum		raw;
	char		raw_null;
	char	   *function;
	char	   *arguments;
	AuditCall  *c;
	MemoryContext old;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audited function name must not be NULL"),
				 errhint("Call bb._audit('<function>', <arguments>).")));
	function = text_to_cstring(PG_GETARG_TEXT_PP(0));
	c = remember_call(function, fcinfo->flinfo->fn_oid);

	raw = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	raw_null = PG_ARGISNULL(1) ? 'n' : ' ';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT bb._audit_arguments($1)::text", 1, &jsonb_type, &raw, &raw_null,
							  true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not prepare the audit arguments");
	arguments = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	old = MemoryContextSwitchTo(audit_cxt);
	c->arguments = slot_arguments(arguments);
	MemoryContextSwitchTo(old);

	values[0] = TimestampTzGetDatum(c->at);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(c->who));
	values[2] = CStringGetTextDatum(function);
	values[3] = CStringGetTextDatum(arguments);
	if (SPI_execute_with_args("INSERT INTO bb.audit_entry (at, who, \"function\", arguments, outcome) "
							  "VALUES ($1, $2, $3, $4::pg_catalog.jsonb, 'ok')",
							  4, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the audit entry");
	c->row_written = true;
	SPI_finish();
	PG_RETURN_VOID();
}

/* Asks for the ring before shared memory is sized. */
static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(AuditRing)));
	RequestNamedLWLockTranche("bytebase audit", 1);
}

/* Creates the ring (postmaster, after a crash restart too) or attaches to it. */
static void
audit_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ring = ShmemInitStruct("bytebase audit", sizeof(AuditRing), &found);
	if (!found)
	{
		memset(ring, 0, sizeof(AuditRing));
		ring->lock = &(GetNamedLWLockTranche("bytebase audit"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The hook and callbacks work in every backend; the ring needs shared_preload_libraries. */
void
bb_audit_init(void)
{
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = audit_fmgr_hook;
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = audit_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = audit_shmem_startup;
	}
}

#define INSERT_ENTRY_SQL \
	"INSERT INTO bb.audit_entry (at, who, \"function\", arguments, outcome, sqlstate, error) " \
	"VALUES ($1::pg_catalog.timestamptz, $2::pg_catalog.name, $3, $4::pg_catalog.jsonb, $5, $6, $7)"

/* Writes entries (and the count of lost ones) in one transaction of the launcher. */
static void
write_entries(const AuditSlot *batch, int n, uint64 lost)
{
	const char *args[7];

	wx_begin("bytebase audit");
	/* give way at once to DROP EXTENSION or DDL on the table (well before deadlock_timeout) */
	wx_exec("SET LOCAL lock_timeout = '100ms'", 0, NULL);
	if (wx_exec("SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'bytebase' "
				"AND pg_catalog.to_regclass('bb.audit_entry') IS NOT NULL", 0, NULL) == 0)
	{
		for (int i = 0; i < n; i++)
			log_slot(&batch[i], "the extension's audit log does not exist");
		if (lost > 0)
			ereport(LOG, (errmsg("bytebase: " UINT64_FORMAT " audit entries were lost: the queue was full", lost)));
		wx_commit();
		return;
	}
	for (int i = 0; i < n; i++)
	{
		const AuditSlot *s = &batch[i];

		if (s->database != MyDatabaseId)
		{
			log_slot(s, "it comes from a database other than bytebase.database");
			continue;
		}
		args[0] = pstrdup(timestamptz_to_str(s->at));
		args[1] = s->who;
		args[2] = s->function;
		args[3] = s->arguments;
		args[4] = s->outcome;
		args[5] = s->sqlstate[0] ? s->sqlstate : NULL;
		args[6] = s->error[0] ? s->error : NULL;
		wx_exec(INSERT_ENTRY_SQL, 7, args);
	}
	if (lost > 0)
	{
		args[0] = pstrdup(timestamptz_to_str(GetCurrentTimestamp()));
		args[1] = GetUserNameFromId(GetSessionUserId(), false);
		args[2] = "audit_queue";
		args[3] = "{}";
		args[4] = "error";
		args[5] = "54000";
		args[6] = psprintf(UINT64_FORMAT " audit entries were lost: the queue was full (the server log has each one)", lost);
		wx_exec(INSERT_ENTRY_SQL, 7, args);
	}
	wx_commit();
}

/* The launcher's part: takes queued entries in batches, removes them once written. */
void
bb_audit_drain(void)
{
	static int	failures = 0;
	MemoryContext cxt = CurrentMemoryContext;
	AuditSlot  *batch = NULL;

	if (ring == NULL || RecoveryInProgress())
		return;
	for (int round = 0; round <= RING_SLOTS / DRAIN_BATCH; round++)
	{
		int			limit = failures > 0 ? 1 : DRAIN_BATCH;
		uint64		tail;
		uint64		lost;
		int			n;
		volatile bool written = false;
		volatile bool busy = false;

		/* an unlocked look first: the usual case is an empty ring */
		if (ring->head == ring->tail && ring->lost == ring->lost_recorded)
			break;
		if (batch == NULL)
			batch = palloc(DRAIN_BATCH * sizeof(AuditSlot));
		LWLockAcquire(ring->lock, LW_SHARED);
		tail = ring->tail;
		n = (int) Min(ring->head - tail, (uint64) limit);
		lost = ring->lost - ring->lost_recorded;
		for (int i = 0; i < n; i++)
			batch[i] = ring->slots[(tail + i) % RING_SLOTS];
		LWLockRelease(ring->lock);

		PG_TRY();
		{
			write_entries(batch, n, lost);
			written = true;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			busy = (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE);
			if (!busy)
				EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(cxt);

		if (busy)
			break;				/* the table is locked: the entries wait for the next wake-up */
		if (!written)
		{
			if (++failures < DRAIN_RETRIES)
				break;			/* again on the next wake-up, one entry at a time */
			for (int i = 0; i < n; i++)
				log_slot(&batch[i], "it could not be inserted");
			if (lost > 0)
				ereport(LOG, (errmsg("bytebase: " UINT64_FORMAT " audit entries were lost: the queue was full", lost)));
		}
		failures = 0;
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		ring->tail = tail + n;
		ring->lost_recorded += lost;
		LWLockRelease(ring->lock);
	}
	if (batch != NULL)
		pfree(batch);
}
