/* wire.c — reading and writing the worker/helper records (see wire.h); plain C */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/* Bounds are checked before every read: the buffer may end anywhere. */
int
bbw_next(const char *buf, size_t len, size_t *pos, BBWireRecord *rec)
{
	const unsigned char *p;
	uint32_t	n;

	if (*pos == len)
		return 0;
	if (*pos > len || len - *pos < 5)
		return -1;
	p = (const unsigned char *) buf + *pos;
	n = ((uint32_t) p[1] << 24) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 8) | (uint32_t) p[4];
	if (n > BBW_MAX_PAYLOAD || len - *pos - 5 < n)
		return -1;
	rec->tag = (char) p[0];
	rec->data = buf + *pos + 5;
	rec->len = n;
	*pos += 5 + (size_t) n;
	return 1;
}

/* Fields end at a NUL byte; the last field of a record may hold any byte and is not split. */
int
bbw_field(const BBWireRecord *rec, size_t *off, const char **field, size_t *flen)
{
	const char *nul;

	if (*off >= rec->len)
		return 0;
	nul = memchr(rec->data + *off, '\0', rec->len - *off);
	if (nul == NULL)
		return 0;
	*field = rec->data + *off;
	*flen = (size_t) (nul - *field);
	*off += *flen + 1;
	return 1;
}

/* A pipe accepts what it can: write until all is out. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0)
	{
		ssize_t		w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* The payload length is written first, so the reader never scans for an end. */
int
bbw_write(int fd, char tag, int nparts, const char *const *parts, const size_t *lens)
{
	unsigned char head[5];
	size_t		total = 0;

	for (int i = 0; i < nparts; i++)
	{
		if (lens[i] >= BBW_MAX_PAYLOAD || total + lens[i] + 1 > BBW_MAX_PAYLOAD)
		{
			errno = EMSGSIZE;
			return -1;
		}
		total += lens[i] + (i + 1 < nparts ? 1 : 0);
	}
	head[0] = (unsigned char) tag;
	head[1] = (unsigned char) (total >> 24);
	head[2] = (unsigned char) (total >> 16);
	head[3] = (unsigned char) (total >> 8);
	head[4] = (unsigned char) total;
	if (write_all(fd, (const char *) head, 5) < 0)
		return -1;
	for (int i = 0; i < nparts; i++)
	{
		if (write_all(fd, parts[i], lens[i]) < 0)
			return -1;
		if (i + 1 < nparts && write_all(fd, "", 1) < 0)
			return -1;
	}
	return 0;
}

/* A record of one string field (the common case: H, W, R, '.'). */
int
bbw_write_str(int fd, char tag, const char *s)
{
	size_t		n = s ? strlen(s) : 0;
	const char *parts[1];

	parts[0] = s ? s : "";
	return bbw_write(fd, tag, 1, parts, &n);
}
