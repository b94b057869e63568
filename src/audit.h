/* audit.h — the audit log's C side: call tracking in each backend, the queue of failed calls */
#ifndef BB_AUDIT_H
#define BB_AUDIT_H

/* installs the function-manager hook and transaction callbacks, and (under
 * shared_preload_libraries) the shared-memory queue; called from _PG_init */
extern void bb_audit_init(void);

/* writes the queued entries of failed or rolled-back calls into bb.audit_entry; for the
 * launcher, outside a transaction; a no-op when nothing is queued; never raises an error */
extern void bb_audit_drain(void);

#endif
