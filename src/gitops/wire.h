/* wire.h — the records the gitops worker and its libgit2 helper exchange over pipes.
 *
 * A record is a tag byte, a 4-byte big-endian payload length and the payload; a payload of
 * several fields separates them with NUL bytes (the last one may run to the end and hold any
 * byte, e.g. a file's content).  Plain C (no PostgreSQL, no libgit2): the worker parses with it,
 * the helper writes with it, the fuzz target feeds it anything.
 *
 * worker -> helper (stdin):  u url, b branch, p path ('' = root), w working copy, c previous
 *                            commit, U user, T token, m max file bytes, M max total bytes,
 *                            h history cap (commits), q "1": only the head when it is the
 *                            previous commit (a poll), '.' end
 * helper -> worker (stdout): H head commit, R previous commit that is no longer in the branch's
 *                            history, W warning, F file (path, blob, size, note, commit,
 *                            author, epoch, content; note says why a file has no content;
 *                            commit/author/epoch empty when the file did not change in the
 *                            commits searched), E error (SQLSTATE, message), '.' end (an
 *                            answer without it is a failed fetch)
 */
#ifndef BB_WIRE_H
#define BB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define BBW_MAX_PAYLOAD (1u << 30)

typedef struct BBWireRecord
{
	char		tag;
	const char *data;			/* points into the parsed buffer */
	size_t		len;
} BBWireRecord;

/* The record at *pos of buf[0, len): 1 and *pos advanced; 0 at the exact end; -1 when the
 * rest is not a whole record (truncated or a length past BBW_MAX_PAYLOAD). */
extern int	bbw_next(const char *buf, size_t len, size_t *pos, BBWireRecord *rec);

/* The next NUL-terminated field of a payload from *off: 1 (field, flen, *off past the NUL),
 * 0 when no NUL follows (no more whole fields; the remainder starts at *off). */
extern int	bbw_field(const BBWireRecord *rec, size_t *off, const char **field, size_t *flen);

/* Writes one record whose payload is the given parts, each but the last followed by a NUL
 * byte; retries short writes and EINTR.  0, or -1 with errno set. */
extern int	bbw_write(int fd, char tag, int nparts, const char *const *parts, const size_t *lens);

/* bbw_write of one NUL-free string (or of nothing when s is NULL). */
extern int	bbw_write_str(int fd, char tag, const char *s);

#endif
