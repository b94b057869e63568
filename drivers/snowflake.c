/*
 * snowflake.c — Snowflake over its SQL API v2 (HTTPS, libcurl multi) with
 * key-pair authentication (snowflake_jwt.c).  One statement per request
 * (MULTI_STATEMENT_COUNT = 1: the server refuses more); a 200 carries the
 * result's first partition, a 202 is polled at statementStatusUrl with
 * interruptible waits, further partitions are fetched only when rows are kept
 * (a count comes from resultSetMetaData.numRows).  A 429 is retried with
 * backoff within the statement timeout, a 422 is Snowflake's error with its
 * SQLSTATE, a 408 its statement timeout.  A local cancel, our statement
 * timeout or an error while a statement runs sends POST .../cancel for its
 * handle.  The private key (the instance's password) is read once per
 * connection; the JWT is cached until a minute before it expires.
 *
 * Instance options: "account" (default: the host's first label),
 * "warehouse", "role", "schema", "ca_file" (CA certificates for the server's
 * TLS certificate; default the system's).  TLS is always on and verified.
 */
#include "postgres.h"

#include <ctype.h>
#include <time.h>

#include <curl/curl.h>

#include "common/string.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "bytebase.h"
#include "snowflake_int.h"
#include "snowflake_jwt.h"

#define SF_POLL_MS 50			/* longest wait between interrupt checks in a transfer */
#define SF_CANCEL_TIMEOUT_MS 1000	/* cancel path: bounded, not interruptible */
#define SF_TOKEN_LIFETIME 3540	/* seconds; Snowflake takes at most one hour */
#define SF_TOKEN_MARGIN 60		/* a token this close to its expiry is renewed */
#define SF_MAX_ANSWER (64 * 1024 * 1024)	/* an answer whose rows are not kept */
#define SF_MAX_429 20			/* retries of a 429 when there is no statement timeout */

typedef struct SfBody
{
	char	   *data;			/* malloc'd: curl's callback must not palloc */
	size_t		len;
	size_t		cap;
	size_t		max;			/* larger answers stop the transfer */
	bool		too_big;
	bool		no_memory;
} SfBody;

typedef struct SfState
{
	CURL	   *easy;			/* reused: keeps the HTTPS connection alive */
	CURLM	   *multi;
	SfKey	   *key;			/* malloc'd by snowflake_jwt.c */
	char	   *account;		/* as configured (the JWT upper-cases it, drops the region) */
	char	   *warehouse;
	char	   *role;
	char	   *schema;
	char	   *ca_file;
	char	   *base_url;		/* https://host:port */
	char	   *token;			/* malloc'd; wiped at close */
	time_t		token_exp;
	struct curl_slist *headers; /* carry the token; rebuilt with it */
	char		handle[128];	/* statement running now ("" when none known) */
	SfBody		body;			/* the last answer; freed at the next request and at close */
	char	   *version;		/* CURRENT_VERSION() read at connect */
} SfState;

#define SF(c) ((SfState *) (c)->state)

static bool curl_ready = false;

/* ---------------------------------------------------------------- credentials */

/* Frees a malloc'd secret after overwriting it. */
static void
free_secret(char *s)
{
	if (s)
	{
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Frees the header list (it holds the token) after overwriting it. */
static void
free_headers(SfState *st)
{
	for (struct curl_slist *l = st->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(st->headers);
	st->headers = NULL;
}

/* Reads the private key from the instance's secret; a clear error when it cannot. */
static void
sf_load_key(BBConn *conn)
{
	SfState    *st = SF(conn);
	const char *pem = conn->info.password;
	int			code;

	if (pem == NULL || pem[0] == '\0')
		ereport_target(ERROR,
					   (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
						errmsg("instance \"%s\" has no private key", conn->info.instance),
						errhint("Snowflake instances take the user's PEM private key where other engines take a password.")));
	st->key = sfjwt_key_load(pem, strlen(pem), &code);
	if (st->key == NULL)
	{
		if (code == SFJWT_NO_MEMORY)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		ereport_target(ERROR,
					   (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
						errmsg("could not read the private key of instance \"%s\": %s",
							   conn->info.instance, sfjwt_reason(code)),
						errhint(code == SFJWT_NEED_PASSPHRASE || code == SFJWT_BAD_PASSPHRASE
								? "Put the passphrase on a line \"passphrase: ...\" after the PEM block, or store the key unencrypted."
								: "Store the user's PEM private key (PKCS#8 or PKCS#1, RSA) as the instance's password (bb.alter_instance).")));
	}
}

/* A JWT valid for at least SF_TOKEN_MARGIN more seconds, and the headers that carry it. */
static void
sf_ensure_token(BBConn *conn)
{
	SfState    *st = SF(conn);
	time_t		now = time(NULL);
	char	   *auth;
	struct curl_slist *l = NULL;

	if (st->token != NULL && now < st->token_exp - SF_TOKEN_MARGIN)
		return;
	free_headers(st);
	free_secret(st->token);
	st->token = sfjwt_token(st->key, st->account, conn->info.user, (long long) now,
							(long long) now + SF_TOKEN_LIFETIME);
	if (st->token == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not sign the JWT of instance \"%s\"",
																 conn->info.instance)));
	st->token_exp = now + SF_TOKEN_LIFETIME;
	auth = psprintf("Authorization: Bearer %s", st->token);
	l = curl_slist_append(l, auth);
	explicit_bzero(auth, strlen(auth));
	pfree(auth);
	if (l)
		l = curl_slist_append(l, "X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT");
	if (l)
		l = curl_slist_append(l, "Content-Type: application/json");
	if (l)
		l = curl_slist_append(l, "Accept: application/json");
	if (l)
		l = curl_slist_append(l, "Expect:");
	st->headers = l;
	if (l == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

/* ---------------------------------------------------------------- HTTP */

/* Appends to the answer (curl callback: never throws); returning short stops the transfer. */
static size_t
sf_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	SfBody	   *b = (SfBody *) userdata;
	size_t		n = size * nmemb;

	if (b->len + n > b->max)
	{
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = Max(Max(b->cap * 2, b->len + n + 1), 16384);
		char	   *p = realloc(b->data, cap);

		if (p == NULL)
		{
			b->no_memory = true;
			return 0;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Sets up an easy handle for one request (never throws: also used on the cancel path). */
static void
sf_prepare(BBConn *conn, CURL *easy, const char *url, const char *post, SfBody *out,
		   long connect_ms, long total_ms, char *errbuf)
{
	SfState    *st = SF(conn);

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (st->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, st->ca_file);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, st->headers);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");	/* partitions come gzip'd */
	if (post)
	{
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(post));
	}
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sf_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms > 0)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "bytebase");
}

/* The transport error of a failed transfer, with a hint for TLS trouble. */
static void
sf_transport_error(BBConn *conn, CURLcode result, const char *errbuf, bool connecting)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(result);
	bool		tls = (result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CONNECT_ERROR ||
					   result == CURLE_SSL_CACERT_BADFILE || result == CURLE_SSL_CERTPROBLEM);

	if (connecting || result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST || tls)
		ereport_target(ERROR,
					   (errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						errmsg("could not connect to instance \"%s\"", conn->info.instance),
						errdetail_internal("%s", why),
						tls ? errhint("The server's TLS certificate was not accepted: for a private endpoint, give its CA certificate in the instance option \"ca_file\".")
						: errhint("Check host and port of the instance (bb.instances).")));
	conn->broken = true;
	ereport_target(ERROR,
				   (errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("HTTPS request to instance \"%s\" failed", conn->info.instance),
					errdetail_internal("%s", why)));
}

/*
 * Performs one request (POST when post is not NULL, else GET) and returns the HTTP status;
 * the answer is in SF(conn)->body.  Waits at most SF_POLL_MS between interrupt checks; past
 * the deadline it throws the connect or statement timeout (the caller cancels the statement).
 */
static long
sf_http(BBConn *conn, const char *path, const char *post, TimestampTz deadline, bool connecting,
		size_t max_body)
{
	SfState    *st = SF(conn);
	char		errbuf[CURL_ERROR_SIZE] = "";
	volatile bool added = false;
	CURLcode	result = CURLE_OK;
	long		status = 0;
	char	   *url = psprintf("%s%s", st->base_url, path);

	sf_ensure_token(conn);
	free(st->body.data);
	memset(&st->body, 0, sizeof(st->body));
	st->body.max = max_body;
	PG_TRY();
	{
		int			running = 1;
		CURLMsg    *msg;
		int			left;

		sf_prepare(conn, st->easy, url, post, &st->body, bb_connect_timeout_ms,
				   connecting ? bb_connect_timeout_ms : 0, errbuf);
		if (curl_multi_add_handle(st->multi, st->easy) != CURLM_OK)
			elog(ERROR, "bytebase: curl_multi_add_handle failed");
		added = true;
		while (running)
		{
			int			numfds;
			long		wait = SF_POLL_MS;

			if (curl_multi_perform(st->multi, &running) != CURLM_OK)
				elog(ERROR, "bytebase: curl_multi_perform failed");
			if (!running)
				break;
			if (deadline != 0)
			{
				wait = Min(wait, bb_ms_left(deadline));
				if (wait <= 0)
				{
					if (connecting)
						bb_error_connect_timeout(conn);
					bb_error_statement_timeout(conn);
				}
			}
			(void) curl_multi_wait(st->multi, NULL, 0, (int) Max(wait, 1), &numfds);
			CHECK_FOR_INTERRUPTS();
		}
		while ((msg = curl_multi_info_read(st->multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
		curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
	}
	PG_CATCH();
	{
		if (added)
			curl_multi_remove_handle(st->multi, st->easy);
		curl_easy_reset(st->easy);	/* drops pointers into this frame; keeps the connection */
		PG_RE_THROW();
	}
	PG_END_TRY();
	curl_multi_remove_handle(st->multi, st->easy);
	curl_easy_reset(st->easy);
	pfree(url);

	if (result == CURLE_OPERATION_TIMEDOUT && connecting)
		bb_error_connect_timeout(conn);
	if (result == CURLE_WRITE_ERROR && st->body.no_memory)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (result == CURLE_WRITE_ERROR && st->body.too_big)
	{
		conn->broken = true;
		bb_error_too_many_bytes(-1);
	}
	if (result != CURLE_OK)
		sf_transport_error(conn, result, errbuf, connecting);
	return status;
}

/* Sends POST /api/v2/statements/<handle>/cancel (bounded, never throws). */
static void
sf_cancel(BBConn *conn)
{
	SfState    *st = SF(conn);
	CURL	   *easy;
	SfBody		body = {0};
	char		errbuf[CURL_ERROR_SIZE];
	char	   *url;

	if (st == NULL || st->handle[0] == '\0' || st->headers == NULL)
		return;
	easy = curl_easy_init();
	if (easy == NULL)
		return;
	body.max = 65536;
	url = psprintf("%s/api/v2/statements/%s/cancel", st->base_url, st->handle);
	sf_prepare(conn, easy, url, "{}", &body, SF_CANCEL_TIMEOUT_MS, SF_CANCEL_TIMEOUT_MS, errbuf);
	(void) curl_easy_perform(easy);
	curl_easy_cleanup(easy);
	free(body.data);
	pfree(url);
	st->handle[0] = '\0';
}

/* Sleeps ms (bounded by the deadline) with interrupts served; false when the deadline passed. */
static bool
sf_sleep(TimestampTz deadline, long ms)
{
	long		left = bb_ms_left(deadline);

	if (deadline != 0 && left <= 0)
		return false;
	if (left >= 0)
		ms = Min(ms, left);
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1), PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	return true;
}

/* Seconds of a Retry-After header (0 when absent or not a number). */
static long
sf_retry_after(BBConn *conn)
{
	struct curl_header *h;
	long		secs = 0;

	if (curl_easy_header(SF(conn)->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
		secs = strtol(h->value, NULL, 10);
	return secs > 0 ? Min(secs, 60) : 0;
}

/* sf_http, retrying a 429 (too many requests) with backoff within the deadline. */
static long
sf_http_retry(BBConn *conn, const char *path, const char *post, TimestampTz deadline, bool connecting,
			  size_t max_body)
{
	long		backoff = 100;

	for (int attempt = 0;; attempt++)
	{
		long		status = sf_http(conn, path, post, deadline, connecting, max_body);
		long		wait;

		if (status != 429)
			return status;
		if (deadline == 0 && attempt >= SF_MAX_429)
			return status;
		wait = Max(backoff, sf_retry_after(conn) * 1000);
		if (!sf_sleep(deadline, wait))
		{
			if (connecting)
				bb_error_connect_timeout(conn);
			bb_error_statement_timeout(conn);
		}
		backoff = Min(backoff * 2, 4000);
	}
}

/* ---------------------------------------------------------------- answers */

/* The answer's text for an error detail: its first 200 characters, made printable. */
static char *
sf_body_excerpt(SfState *st)
{
	char	   *s = bb_message_from_utf8(st->body.data ? st->body.data : "");
	int			len = strlen(s);

	len = pg_mbcliplen(s, len, 200);
	s[len] = '\0';
	for (char *p = s; *p; p++)
		if ((unsigned char) *p < 0x20)
			*p = ' ';
	return s;
}

/* The SQLSTATE Snowflake named, when it is one (5 digits or upper-case letters). */
static int
sf_errcode(const char *sqlstate, int fallback)
{
	if (sqlstate == NULL || strlen(sqlstate) != 5 || strcmp(sqlstate, "00000") == 0)
		return fallback;
	for (int i = 0; i < 5; i++)
		if (!(isdigit((unsigned char) sqlstate[i]) || (sqlstate[i] >= 'A' && sqlstate[i] <= 'Z')))
			return fallback;
	return MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
}

/* Throws the error of an answer that is not a result (nor a 202). */
static void
sf_answer_error(BBConn *conn, long status, SfAnswer *a, bool json, bool connecting)
{
	SfState    *st = SF(conn);
	char	   *msg = json && a->message ? bb_message_from_utf8(a->message) : NULL;
	char	   *code = json && a->code ? bb_message_from_utf8(a->code) : NULL;

	if (status == 408)
		bb_error_statement_timeout(conn);
	if (status == 401 || status == 403)
		ereport_target(ERROR,
					   (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
						connecting ? errmsg("could not connect to instance \"%s\"", conn->info.instance)
						: errmsg("instance \"%s\" refused the credentials", conn->info.instance),
						errdetail_internal("Snowflake answered HTTP %ld: %s%s%s%s", status,
										   msg ? msg : sf_body_excerpt(st),
										   code ? " (code " : "", code ? code : "", code ? ")" : ""),
						errhint("Check the options \"account\" of the instance, its user and its private key; "
								"the public key registered for the user must be the key's (ALTER USER ... SET RSA_PUBLIC_KEY).")));
	if (json && msg != NULL && (status == 422 || status == 400 || status == 404))
		ereport_target(ERROR,
					   (errcode(sf_errcode(a->sqlstate, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION)),
						errmsg_internal("Snowflake error %s: %s", code ? code : "?", msg),
						errdetail("Snowflake answered HTTP %ld%s%s.", status,
								  a->sqlstate ? " with SQLSTATE " : "", a->sqlstate ? a->sqlstate : "")));
	if (status == 429)
		ereport_target(ERROR,
					   (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						errmsg("instance \"%s\" kept answering 429 Too Many Requests", conn->info.instance),
						errhint("Set bytebase.statement_timeout to bound the retries, or retry later.")));
	ereport_target(ERROR,
				   (errcode(connecting ? ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION : ERRCODE_CONNECTION_FAILURE),
					connecting ? errmsg("could not connect to instance \"%s\"", conn->info.instance)
					: errmsg("instance \"%s\" answered HTTP %ld", conn->info.instance, status),
					json && msg ? errdetail_internal("Snowflake answered HTTP %ld: %s", status, msg)
					: errdetail_internal("HTTP %ld, not a Snowflake SQL API answer: %s", status, sf_body_excerpt(st)),
					errhint("Check that host and port are the account's Snowflake endpoint.")));
}

/* A statement handle is safe in a URL path (Snowflake's are UUIDs). */
static void
sf_take_handle(BBConn *conn, const char *handle)
{
	SfState    *st = SF(conn);
	size_t		n = handle ? strlen(handle) : 0;

	if (n == 0 || n >= sizeof(st->handle) || strspn(handle, "0123456789abcdefABCDEF-_") != n)
		ereport_target(ERROR,
					   (errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("instance \"%s\" answered 202 without a valid statement handle", conn->info.instance)));
	strlcpy(st->handle, handle, sizeof(st->handle));
}

/* A fresh requestId (a random UUID), which also makes a retried POST idempotent. */
static void
sf_uuid(char *out)
{
	uint8		b[16];

	if (!pg_strong_random(b, sizeof(b)))
		elog(ERROR, "bytebase: could not generate a random request id");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The POST body: the statement, its timeout, where it runs, one statement only. */
static char *
sf_request_body(BBConn *conn, const char *sql)
{
	SfState    *st = SF(conn);
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoString(&b, "{\"statement\":");
	escape_json(&b, bb_to_utf8(sql));
	if (bb_statement_timeout_ms > 0)
		appendStringInfo(&b, ",\"timeout\":%d", (bb_statement_timeout_ms + 999) / 1000);
	if (conn->info.database)
	{
		appendStringInfoString(&b, ",\"database\":");
		escape_json(&b, bb_to_utf8(conn->info.database));
	}
	if (st->schema)
	{
		appendStringInfoString(&b, ",\"schema\":");
		escape_json(&b, bb_to_utf8(st->schema));
	}
	if (st->warehouse)
	{
		appendStringInfoString(&b, ",\"warehouse\":");
		escape_json(&b, bb_to_utf8(st->warehouse));
	}
	if (st->role)
	{
		appendStringInfoString(&b, ",\"role\":");
		escape_json(&b, bb_to_utf8(st->role));
	}
	appendStringInfoString(&b, ",\"parameters\":{\"MULTI_STATEMENT_COUNT\":\"1\",\"QUERY_TAG\":\"bytebase\"}}");
	return b.data;
}

/* The rows of a finished statement: its first partition is in the answer, the others are
 * fetched only when kept (a count needs none of them). */
static BBResult *
sf_result(BBConn *conn, SfAnswer *a, bool keep, TimestampTz deadline)
{
	SfState    *st = SF(conn);
	BBRowBuf	rb;
	char		handle[sizeof(st->handle)];

	if (a->has_stats || a->ncols < 0)
	{
		BBResult   *res = bb_result_new(0, 0);

		res->affected = a->has_stats ? a->affected : -1;
		return res;
	}
	bb_rows_start(&rb, a->ncols, keep, true);
	for (int c = 0; c < a->ncols; c++)
		bb_rows_colname(&rb, c, a->colnames[c]);
	if (!keep)
	{
		rb.res->rows_returned = Max(a->num_rows, 0);
		return rb.res;
	}
	(void) sf_parse_rows(conn, st->body.data, st->body.len, &rb, a->ncols);
	strlcpy(handle, a->handle ? a->handle : "", sizeof(handle));
	for (int p = 1; p < a->npartitions; p++)
	{
		char	   *path;
		long		status;

		if (handle[0] == '\0' || strspn(handle, "0123456789abcdefABCDEF-_") != strlen(handle))
			ereport_target(ERROR,
						   (errcode(ERRCODE_PROTOCOL_VIOLATION),
							errmsg("instance \"%s\" sent a partitioned result without a statement handle",
								   conn->info.instance)));
		path = psprintf("/api/v2/statements/%s?partition=%d", handle, p);
		status = sf_http_retry(conn, path, NULL, deadline, false,
							   (size_t) bb_max_result_bytes * 2 + 1024 * 1024);
		if (status != 200)
		{
			SfAnswer	pa;
			char	   *why;
			bool		json = sf_parse_answer(st->body.data, st->body.len, &pa, &why);

			conn->broken = true;
			ereport_target(ERROR,
						   (errcode(ERRCODE_CONNECTION_FAILURE),
							errmsg("instance \"%s\" failed to send partition %d of %d of the result",
								   conn->info.instance, p + 1, a->npartitions),
							json && pa.message
							? errdetail_internal("Snowflake answered HTTP %ld: %s", status, bb_message_from_utf8(pa.message))
							: errdetail_internal("HTTP %ld: %s", status, sf_body_excerpt(st))));
		}
		(void) sf_parse_rows(conn, st->body.data, st->body.len, &rb, a->ncols);
		pfree(path);
	}
	rb.res->rows_returned = rb.res->nrows;
	return rb.res;
}

/*
 * Runs one statement: submit (429 retried), poll while 202, then the result or the error.
 * connecting: errors are "could not connect" and the connect timeout applies.  While the
 * statement may run remotely, an error (interrupt, timeout) cancels it by its handle.
 */
static BBResult *
sf_statement(BBConn *conn, const char *sql, bool keep, bool connecting)
{
	SfState    *st = SF(conn);
	TimestampTz deadline = bb_deadline_after(connecting ? bb_connect_timeout_ms : bb_statement_timeout_ms);
	size_t		max_body = keep ? (size_t) bb_max_result_bytes * 2 + 1024 * 1024 : SF_MAX_ANSWER;
	char		request_id[40];
	char	   *post = sf_request_body(conn, sql);
	char	   *path;
	BBResult   *res = NULL;

	sf_uuid(request_id);
	path = psprintf("/api/v2/statements?requestId=%s", request_id);
	conn->command = sql;
	st->handle[0] = '\0';
	PG_TRY();
	{
		long		status;
		SfAnswer	a;
		char	   *why;
		bool		json;
		long		poll = 50;

		conn->in_flight = true;
		status = sf_http_retry(conn, path, post, deadline, connecting, max_body);
		json = sf_parse_answer(st->body.data, st->body.len, &a, &why);
		while (status == 202 && json)
		{
			if (st->handle[0] == '\0')
				sf_take_handle(conn, a.handle);
			if (!sf_sleep(deadline, poll))
			{
				if (connecting)
					bb_error_connect_timeout(conn);
				bb_error_statement_timeout(conn);
			}
			poll = Min(poll * 2, 1000);
			status = sf_http_retry(conn, psprintf("/api/v2/statements/%s", st->handle), NULL, deadline,
								   connecting, max_body);
			json = sf_parse_answer(st->body.data, st->body.len, &a, &why);
		}
		conn->in_flight = false;	/* the statement is over, one way or another */
		st->handle[0] = '\0';
		if (status != 200 || !json)
			sf_answer_error(conn, status, &a, json, connecting);
		res = sf_result(conn, &a, keep, deadline);
	}
	PG_CATCH();
	{
		if (conn->in_flight)
		{
			/* a local cancel or our timeout while it may still run remotely: stop it there */
			conn->broken = true;
			sf_cancel(conn);
			conn->in_flight = false;
		}
		st->handle[0] = '\0';
		PG_RE_THROW();
	}
	PG_END_TRY();
	free(st->body.data);
	memset(&st->body, 0, sizeof(st->body));
	return res;
}

/* ---------------------------------------------------------------- driver ops */

/* An instance option as palloc'd text in the connection's context (NULL when absent). */
static char *
sf_option(BBConn *conn, const char *key)
{
	char	   *v = bb_instance_option(conn, key);

	return v ? MemoryContextStrdup(conn->cxt, v) : NULL;
}

/* "Connects": reads the key, signs a JWT and proves address, TLS and credentials with
 * SELECT CURRENT_VERSION(). */
static void
sf_connect(BBConn *conn)
{
	SfState    *st;
	bool		v6 = strchr(conn->info.host, ':') != NULL;
	BBResult   *res;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			elog(ERROR, "bytebase: curl_global_init failed");
		curl_ready = true;
	}
	st = MemoryContextAllocZero(conn->cxt, sizeof(SfState));
	conn->state = st;			/* close frees what is set up below, also on ERROR */
	conn->tls = true;
	st->account = sf_option(conn, "account");
	if (st->account == NULL)
	{
		const char *dot = strchr(conn->info.host, '.');

		if (dot == NULL || v6 || strspn(conn->info.host, "0123456789.") == strlen(conn->info.host))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("instance \"%s\" needs the option \"account\"", conn->info.instance),
					 errhint("For example options => '{\"account\": \"ORG-ACCT\"}'; without it the account is the host's first label (ORG-ACCT.snowflakecomputing.com).")));
		st->account = MemoryContextStrdup(conn->cxt, pnstrdup(conn->info.host, dot - conn->info.host));
	}
	if (conn->info.user == NULL || conn->info.user[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("instance \"%s\" has no user", conn->info.instance)));
	st->warehouse = sf_option(conn, "warehouse");
	st->role = sf_option(conn, "role");
	st->schema = sf_option(conn, "schema");
	st->ca_file = sf_option(conn, "ca_file");
	st->base_url = MemoryContextStrdup(conn->cxt, psprintf("https://%s%s%s:%d", v6 ? "[" : "", conn->info.host,
														   v6 ? "]" : "", conn->info.port));
	st->easy = curl_easy_init();
	st->multi = curl_multi_init();
	if (st->easy == NULL || st->multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	sf_load_key(conn);
	res = sf_statement(conn, "SELECT CURRENT_VERSION()", true, true);
	conn->command = NULL;
	st->version = MemoryContextStrdup(conn->cxt, res->nrows == 1 && res->ncols >= 1 && BB_VALUE(res, 0, 0)
									  ? BB_VALUE(res, 0, 0) : "");
}

/* One statement per request, always (MULTI_STATEMENT_COUNT = 1), so opt->single needs nothing more. */
static BBResult *
sf_exec(BBConn *conn, const char *sql, const BBExecOptions *opt)
{
	return sf_statement(conn, sql, opt->keep_rows, false);
}

static const BBExecOptions sf_own_query = {.single = true, .keep_rows = true};

/* The index of a column by name (case-insensitive), -1 when absent. */
static int
sf_column(BBResult *res, const char *name)
{
	for (int c = 0; c < res->ncols; c++)
		if (res->colnames[c] && pg_strcasecmp(res->colnames[c], name) == 0)
			return c;
	return -1;
}

static int
sf_name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/* SHOW DATABASES, without Snowflake's own shared databases, bytewise sorted. */
static List *
sf_list_databases(BBConn *conn)
{
	BBResult   *res = sf_exec(conn, "SHOW DATABASES", &sf_own_query);
	int			col = sf_column(res, "name");
	List	   *names = NIL;

	if (col < 0)
		ereport_target(ERROR,
					   (errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("SHOW DATABASES on instance \"%s\" returned no column \"name\"", conn->info.instance)));
	for (int r = 0; r < res->nrows; r++)
	{
		char	   *n = BB_VALUE(res, r, col);

		if (n && strcmp(n, "SNOWFLAKE") != 0 && strcmp(n, "SNOWFLAKE_SAMPLE_DATA") != 0)
			names = lappend(names, n);
	}
	list_sort(names, sf_name_cmp);
	return names;
}

/* Appends a double-quoted Snowflake identifier. */
static void
sf_append_ident(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

/* Base tables and their columns from the database's INFORMATION_SCHEMA (Snowflake has no
 * indexes: the snapshot has none). */
static char *
sf_schema_snapshot(BBConn *conn, const char *database)
{
	StringInfoData db;
	char	   *sql;
	BBResult   *cols;

	if (database == NULL)
		database = conn->info.database;
	if (database == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a Snowflake schema snapshot needs a database name")));
	initStringInfo(&db);
	sf_append_ident(&db, database);
	sql = psprintf("SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, "
				   "CASE WHEN c.DATA_TYPE = 'NUMBER' THEN 'NUMBER(' || c.NUMERIC_PRECISION || ',' || c.NUMERIC_SCALE || ')' "
				   "WHEN c.CHARACTER_MAXIMUM_LENGTH IS NOT NULL THEN c.DATA_TYPE || '(' || c.CHARACTER_MAXIMUM_LENGTH || ')' "
				   "ELSE c.DATA_TYPE END, c.IS_NULLABLE, c.COLUMN_DEFAULT "
				   "FROM %s.INFORMATION_SCHEMA.COLUMNS c JOIN %s.INFORMATION_SCHEMA.TABLES t "
				   "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
				   "WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA <> 'INFORMATION_SCHEMA' "
				   "ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION", db.data, db.data);
	cols = sf_exec(conn, sql, &sf_own_query);
	conn->command = NULL;
	return bb_snapshot_json(cols, bb_result_new(6, 0));
}

/* CURRENT_VERSION() as read at connect. */
static char *
sf_server_version(BBConn *conn)
{
	return pstrdup(SF(conn)->version ? SF(conn)->version : "");
}

static void
sf_close(BBConn *conn)
{
	SfState    *st = SF(conn);

	if (st == NULL)
		return;
	if (st->multi && st->easy)
		curl_multi_remove_handle(st->multi, st->easy);	/* still added after a FATAL */
	if (st->multi)
		curl_multi_cleanup(st->multi);
	if (st->easy)
		curl_easy_cleanup(st->easy);
	st->multi = NULL;
	st->easy = NULL;
	free_headers(st);
	free_secret(st->token);
	st->token = NULL;
	sfjwt_key_free(st->key);
	st->key = NULL;
	free(st->body.data);
	memset(&st->body, 0, sizeof(st->body));
}

const BBDriverOps bb_snowflake_ops = {
	.connect = sf_connect,
	.exec = sf_exec,
	.list_databases = sf_list_databases,
	.schema_snapshot = sf_schema_snapshot,
	.server_version = sf_server_version,
	.cancel = sf_cancel,
	.close = sf_close,
};
