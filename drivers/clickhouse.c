/*
 * clickhouse.c — ClickHouse driver over its HTTP interface (libcurl multi).
 * One statement per POST (18.16 takes no scripts); credentials travel in the
 * X-ClickHouse-User / X-ClickHouse-Key headers, never in the URL, so no error
 * text can show them; results come as TabSeparatedWithNames.  The transfer
 * loop waits at most CH_POLL_MS between interrupt checks, and a timeout or a
 * cancel sends KILL QUERY for the request's query_id.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bytebase.h"
#include "driver_int.h"

#define CH_POLL_MS 50			/* longest wait between interrupt checks */
#define CH_KILL_TIMEOUT_MS 1000 /* cancel path: bounded, not interruptible */
#define CH_ERROR_KEEP 65536		/* body bytes kept when rows are not: room for an error text */

typedef struct ChState
{
	CURL	   *easy;			/* reused: keeps the HTTP connection alive */
	CURLM	   *multi;
	struct curl_slist *headers; /* credentials; built once at connect */
	char		query_id[64];	/* of the request in flight */
} ChState;

#define CH(c) ((ChState *) (c)->state)

/* Response body; malloc'd because curl's callback must not palloc (it may not throw).
 * Rows are lines (TabSeparated escapes line breaks in values) after the names line. */
typedef struct ChBody
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		keep;			/* keep the whole body (else only its first CH_ERROR_KEEP bytes) */
	int64		lines;			/* line breaks seen: rows + the names line */
	size_t		max_len;		/* keep: bytes allowed (bytebase.max_result_bytes) */
	int64		max_lines;		/* keep: lines allowed (bytebase.max_result_rows + 1) */
	bool		too_many_rows;
	bool		too_many_bytes;
	bool		no_memory;
} ChBody;

static bool curl_ready = false;
static uint32 ch_request_seq = 0;	/* makes query ids unique within a backend */

/* Appends to the body, growing it; false when out of memory. */
static bool
ch_append(ChBody *b, const char *ptr, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = Max(Max(b->cap * 2, b->len + n + 1), 8192);
		char	   *p = realloc(b->data, cap);

		if (p == NULL)
			return false;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

/* curl write callback: counts lines, keeps the body within the caps (or just its head when
 * rows are not kept); returning short ends the transfer at the cap. */
static size_t
ch_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	ChBody	   *b = (ChBody *) userdata;
	size_t		n = size * nmemb;
	size_t		keep_n = n;

	for (const char *p = ptr; (p = memchr(p, '\n', n - (p - ptr))) != NULL; p++)
		b->lines++;
	if (b->keep)
	{
		if (b->lines > b->max_lines)
		{
			b->too_many_rows = true;
			return 0;
		}
		if (b->len + n > b->max_len)
		{
			b->too_many_bytes = true;
			return 0;
		}
	}
	else
		keep_n = b->len >= CH_ERROR_KEEP ? 0 : Min(n, CH_ERROR_KEEP - b->len);
	if (keep_n > 0 && !ch_append(b, ptr, keep_n))
	{
		b->no_memory = true;
		return 0;
	}
	return n;
}

/* Appends "name: value"; refuses values that could inject headers.  Frees the list on error. */
static struct curl_slist *
ch_add_header(BBConn *conn, struct curl_slist *list, const char *name, const char *value)
{
	char	   *line;
	struct curl_slist *l;

	if (strpbrk(value, "\r\n") != NULL)
	{
		curl_slist_free_all(list);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the user or password of instance \"%s\" contains a line break", conn->info.instance)));
	}
	line = psprintf("%s: %s", name, value);
	l = curl_slist_append(list, line);
	explicit_bzero(line, strlen(line));
	pfree(line);
	if (l == NULL)
	{
		curl_slist_free_all(list);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	return l;
}

/* The headers every request carries: credentials (never in the URL) and no Expect. */
static struct curl_slist *
ch_build_headers(BBConn *conn)
{
	struct curl_slist *headers = NULL;

	headers = ch_add_header(conn, headers, "Expect", "");
	if (conn->info.user)
	{
		headers = ch_add_header(conn, headers, "X-ClickHouse-User", conn->info.user);
		headers = ch_add_header(conn, headers, "X-ClickHouse-Key",
								conn->info.password ? conn->info.password : "");
	}
	return headers;
}

/* The request URL: address, database, result format and our query id (no credentials);
 * wait_end_of_query buffers the result so an error after the first rows is still an HTTP error,
 * and for kept rows ClickHouse's own result limits stop the query at our caps (it would
 * otherwise buffer the whole result before sending the first byte). */
static char *
ch_url(BBConn *conn, const char *database, bool keep, bool read_only)
{
	StringInfoData url;
	bool		v6 = strchr(conn->info.host, ':') != NULL;

	initStringInfo(&url);
	appendStringInfo(&url, "%s://%s%s%s:%d/?default_format=TabSeparatedWithNames&wait_end_of_query=1&query_id=%s",
					 conn->tls ? "https" : "http", v6 ? "[" : "", conn->info.host, v6 ? "]" : "",
					 conn->info.port, CH(conn)->query_id);
	if (keep)
		appendStringInfo(&url, "&max_result_rows=" INT64_FORMAT "&max_result_bytes=%d&result_overflow_mode=throw",
						 (int64) bb_max_result_rows + 1, bb_max_result_bytes);
	if (read_only)
		appendStringInfoString(&url, "&readonly=2");
	if (database != NULL)
	{
		char	   *esc = curl_easy_escape(CH(conn)->easy, database, 0);

		if (esc == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		appendStringInfo(&url, "&database=%s", esc);
		curl_free(esc);
	}
	return url.data;
}

/* Sets up the easy handle for one POST of body (never throws: usable on cancel paths). */
static void
ch_prepare(BBConn *conn, CURL *easy, const char *url, const char *body, ChBody *out,
		   long connect_ms, long total_ms, char *errbuf)
{
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, conn->tls ? "https" : "http");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, CH(conn)->headers);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ch_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms > 0)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "bytebase");
}

/* "Code: 62, e.displayText() = DB::Exception: X, e.what() = ..." -> "Code: 62. DB::Exception: X". */
static char *
ch_clean_error(const char *body, int *code)
{
	char	   *msg = bb_message_from_utf8(body);
	char	   *p;

	*code = 0;
	if ((p = strstr(msg, "Code: ")) != NULL)
		*code = atoi(p + 6);
	if ((p = strstr(msg, ", e.what() = ")) != NULL)
		*p = '\0';
	if ((p = strstr(msg, ", e.displayText() = ")) != NULL)
		msg = psprintf("%.*s. %s", (int) (p - msg), msg, p + strlen(", e.displayText() = "));
	msg = pchomp(msg);
	if (strlen(msg) > 4000)
		msg[pg_mbcliplen(msg, strlen(msg), 4000)] = '\0';
	return msg;
}

/* A few ClickHouse error codes have a natural SQLSTATE; the rest are 38000. */
static int
ch_errcode(int code)
{
	switch (code)
	{
		case 62:				/* SYNTAX_ERROR */
			return ERRCODE_SYNTAX_ERROR;
		case 47:				/* UNKNOWN_IDENTIFIER */
			return ERRCODE_UNDEFINED_COLUMN;
		case 60:				/* UNKNOWN_TABLE */
			return ERRCODE_UNDEFINED_TABLE;
		case 81:				/* UNKNOWN_DATABASE */
			return ERRCODE_INVALID_CATALOG_NAME;
		case 57:				/* TABLE_ALREADY_EXISTS */
			return ERRCODE_DUPLICATE_TABLE;
		case 82:				/* DATABASE_ALREADY_EXISTS */
			return ERRCODE_DUPLICATE_DATABASE;
		case 159:				/* TIMEOUT_EXCEEDED */
		case 394:				/* QUERY_WAS_CANCELLED */
			return ERRCODE_QUERY_CANCELED;
		case 192:				/* UNKNOWN_USER */
		case 193:				/* WRONG_PASSWORD */
		case 516:				/* AUTHENTICATION_FAILED */
			return ERRCODE_INVALID_PASSWORD;
		case 497:				/* ACCESS_DENIED */
			return ERRCODE_INSUFFICIENT_PRIVILEGE;
	}
	return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
}

/* Sends KILL QUERY for the request in flight (bounded, never throws). */
static void
ch_cancel(BBConn *conn)
{
	CURL	   *easy;
	ChBody		body = {0};
	char		errbuf[CURL_ERROR_SIZE];
	char		sql[160];
	char		url[300];

	if (CH(conn) == NULL || CH(conn)->query_id[0] == '\0')
		return;
	easy = curl_easy_init();
	if (easy == NULL)
		return;
	snprintf(sql, sizeof(sql), "KILL QUERY WHERE query_id = '%s' ASYNC", CH(conn)->query_id);
	snprintf(url, sizeof(url), "%s://%s%s%s:%d/", conn->tls ? "https" : "http",
			 strchr(conn->info.host, ':') ? "[" : "",
			 conn->info.host, strchr(conn->info.host, ':') ? "]" : "", conn->info.port);
	ch_prepare(conn, easy, url, sql, &body, CH_KILL_TIMEOUT_MS, CH_KILL_TIMEOUT_MS, errbuf);
	(void) curl_easy_perform(easy);
	curl_easy_cleanup(easy);
	free(body.data);
}

static BBResult *ch_parse(ChBody *body, bool keep);
static void ch_check_response(BBConn *conn, ChBody *body, CURLcode result, long status,
							  const char *errbuf, bool connecting);

/*
 * POSTs one statement and returns its rows (kept within the caps, or only counted)
 * on HTTP 200; throws the ClickHouse error otherwise.  connecting: errors are
 * "could not connect".
 */
static BBResult *
ch_request(BBConn *conn, const char *sql, const char *database, bool connecting, bool keep,
		   bool read_only)
{
	ChState    *st = CH(conn);
	ChBody		body = {0};
	char		errbuf[CURL_ERROR_SIZE] = "";
	volatile bool added = false;
	volatile bool finished = false;
	char	   *utf8 = bb_to_utf8(sql);
	TimestampTz deadline = connecting ? bb_deadline_after(bb_connect_timeout_ms)
		: bb_deadline_after(bb_statement_timeout_ms);
	CURLcode	result = CURLE_OK;
	long		status = 0;
	BBResult   *res = NULL;
	char	   *url;

	body.keep = keep;
	body.max_len = (size_t) bb_max_result_bytes;
	body.max_lines = (int64) bb_max_result_rows + 1;	/* + the names line */

	/* a fresh id per request, so KILL QUERY hits this one only */
	snprintf(st->query_id, sizeof(st->query_id), "bytebase-%d-" INT64_FORMAT "-%u", MyProcPid,
			 (int64) GetCurrentTimestamp(), ++ch_request_seq);
	url = ch_url(conn, database, keep, read_only);
	conn->command = sql;

	PG_TRY();
	{
		int			running = 1;
		CURLMsg    *msg;
		int			left;

		ch_prepare(conn, st->easy, url, utf8, &body, bb_connect_timeout_ms,
							 connecting ? bb_connect_timeout_ms : 0, errbuf);
		if (curl_multi_add_handle(st->multi, st->easy) != CURLM_OK)
			elog(ERROR, "bytebase: curl_multi_add_handle failed");
		added = true;
		conn->in_flight = true;
		while (running)
		{
			int			numfds;
			long		wait = CH_POLL_MS;

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
		finished = true;
		conn->in_flight = false;
		while ((msg = curl_multi_info_read(st->multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
		curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
	}
	PG_CATCH();
	{
		if (added)
			curl_multi_remove_handle(st->multi, st->easy);
		curl_easy_reset(st->easy);	/* drop pointers to this frame (body, errbuf); keeps the connection */
		if (added && !finished && !connecting)
			ch_cancel(conn);
		conn->in_flight = false;
		st->query_id[0] = '\0';
		free(body.data);
		PG_RE_THROW();
	}
	PG_END_TRY();
	curl_multi_remove_handle(st->multi, st->easy);
	curl_easy_reset(st->easy);
	st->query_id[0] = '\0';

	/* the malloc'd body is freed on every path */
	PG_TRY();
	{
		ch_check_response(conn, &body, result, status, errbuf, connecting);
		res = ch_parse(&body, keep);
	}
	PG_FINALLY();
	{
		free(body.data);
	}
	PG_END_TRY();
	return res;
}

/* Throws the error of a failed request: transport, cap, or ClickHouse's own (non-200). */
static void
ch_check_response(BBConn *conn, ChBody *body, CURLcode result, long status,
				  const char *errbuf, bool connecting)
{
	if (result == CURLE_OPERATION_TIMEDOUT && connecting)
		bb_error_connect_timeout(conn);
	if (result == CURLE_WRITE_ERROR && body->too_many_rows)
		bb_error_too_many_rows();
	if (result == CURLE_WRITE_ERROR && body->too_many_bytes)
		bb_error_too_many_bytes(Max(body->lines - 1, 0));
	if (result == CURLE_WRITE_ERROR && body->no_memory)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (result != CURLE_OK)
	{
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(result);

		if (connecting || result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST)
			ereport_target(ERROR,
						   (errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
							errmsg("could not connect to instance \"%s\"", conn->info.instance),
							errdetail_internal("%s", why),
							errhint("Check host and HTTP port of the instance (bb.instances).")));
		conn->broken = true;
		ereport_target(ERROR,
					   (errcode(ERRCODE_CONNECTION_FAILURE),
						errmsg("HTTP request to instance \"%s\" failed", conn->info.instance),
						errdetail_internal("%s", why)));
	}
	if (status != 200)
	{
		int			code;
		char	   *msg = ch_clean_error(body->data ? body->data : "", &code);

		if (code == 396 && body->keep)	/* TOO_MANY_ROWS_OR_BYTES: our caps, set in the URL */
		{
			if (strstr(msg, "max rows") != NULL)
				bb_error_too_many_rows();
			bb_error_too_many_bytes(-1);
		}
		if (connecting)
			ereport_target(ERROR,
						   (errcode(code ? ch_errcode(code) : ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
							errmsg("could not connect to instance \"%s\"", conn->info.instance),
							errdetail_internal("HTTP %ld: %s", status, msg),
							errhint("Check user, password and database of the instance (bb.instances).")));
		ereport_target(ERROR,
					   (errcode(ch_errcode(code)),
						errmsg_internal("%s", msg),
						errdetail("ClickHouse answered HTTP %ld%s.", status, code ? psprintf(" with Code: %d", code) : "")));
	}
}

/* Decodes one TabSeparated field in place; returns NULL for \N. */
static char *
ch_unescape(char *f)
{
	char	   *r = f;
	char	   *w = f;

	if (strcmp(f, "\\N") == 0)
		return NULL;
	while (*r)
	{
		if (*r == '\\' && r[1])
		{
			r++;
			switch (*r)
			{
				case 'b': *w++ = '\b'; break;
				case 'f': *w++ = '\f'; break;
				case 'r': *w++ = '\r'; break;
				case 'n': *w++ = '\n'; break;
				case 't': *w++ = '\t'; break;
				case '0': *w++ = '\0'; break;
				default: *w++ = *r; break;
			}
			r++;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	return f;
}

/* Splits a line at tabs in place into at most max fields (the last keeps the rest). */
static int
ch_split(char *line, char **out, int max)
{
	int			n = 0;
	char	   *p = line;

	while (n < max)
	{
		char	   *e = strchr(p, '\t');

		out[n++] = p;
		if (e == NULL)
			break;
		*e = '\0';
		p = e + 1;
	}
	return n;
}

/* Cuts the next line off *pos in place; NULL at the end of the text. */
static char *
ch_next_line(char **pos)
{
	char	   *line = *pos;
	char	   *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	nl = strchr(line, '\n');
	if (nl != NULL)
	{
		*nl = '\0';
		*pos = nl + 1;
	}
	else
		*pos = line + strlen(line);
	return line;
}

/* TabSeparatedWithNames into rows (empty body = a command without rows); the body is
 * parsed in place.  Not kept: only the lines are counted. */
static BBResult *
ch_parse(ChBody *body, bool keep)
{
	BBRowBuf	rb;
	char	   *pos = body->data;
	char	   *line;
	char	  **fields;
	int			ncols = 1;

	if (!keep || body->len == 0)
	{
		BBResult   *res = bb_result_new(0, 0);

		res->rows_returned = Max(body->lines - 1, 0);
		return res;
	}
	line = ch_next_line(&pos);
	for (char *p = line; *p; p++)
		ncols += (*p == '\t');
	fields = palloc(sizeof(char *) * ncols);
	bb_rows_start(&rb, ncols, true, true);
	ch_split(line, fields, ncols);
	for (int c = 0; c < ncols; c++)
	{
		char	   *v = ch_unescape(fields[c]);

		bb_rows_colname(&rb, c, v ? v : "");
	}
	while ((line = ch_next_line(&pos)) != NULL)
	{
		int			n;

		memset(fields, 0, sizeof(char *) * ncols);
		n = ch_split(line, fields, ncols);
		for (int c = 0; c < n; c++)
			fields[c] = ch_unescape(fields[c]);
		bb_rows_add(&rb, (const char *const *) fields, NULL);
	}
	return rb.res;
}

/* "Connects": sets up curl and proves address and credentials with SELECT version(). */
static void
ch_connect(BBConn *conn)
{
	ChState    *st;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			elog(ERROR, "bytebase: curl_global_init failed");
		curl_ready = true;
	}
	conn->tls = bb_instance_option_bool(conn, "tls");
	st = MemoryContextAllocZero(conn->cxt, sizeof(ChState));
	conn->state = st;			/* close frees the handles, also on ERROR */
	st->easy = curl_easy_init();
	st->multi = curl_multi_init();
	if (st->easy == NULL || st->multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	st->headers = ch_build_headers(conn);
	(void) ch_request(conn, "SELECT version()", conn->info.database, true, true, false);
	conn->command = NULL;
}

/* One statement per request, always (the HTTP interface refuses multi-statements), so
 * opt->single needs nothing more. */
static BBResult *
ch_exec(BBConn *conn, const char *sql, const BBExecOptions *opt)
{
	return ch_request(conn, sql, conn->info.database, false, opt->keep_rows, opt->read_only);
}

/* The options of the driver's own catalog queries: rows kept (within the caps). */
static const BBExecOptions ch_own_query = {.single = true, .keep_rows = true};

/* Databases but the system ones; "default" is a user database in ClickHouse. */
static List *
ch_list_databases(BBConn *conn)
{
	BBResult   *res = ch_exec(conn, "SELECT name FROM system.databases "
							  "WHERE name NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA') "
							  "ORDER BY name", &ch_own_query);
	List	   *names = NIL;

	for (int r = 0; r < res->nrows; r++)
		names = lappend(names, BB_VALUE(res, r, 0));
	return names;
}

/* Tables (no views, no materialized-view storage), columns in order, primary key as an index. */
static char *
ch_schema_snapshot(BBConn *conn, const char *database)
{
	StringInfoData lit;
	char	   *cols_sql;
	char	   *idx_sql;
	BBResult   *cols;
	BBResult   *idx;

	if (database == NULL)
		database = conn->info.database ? conn->info.database : "default";
	initStringInfo(&lit);
	bb_append_literal(&lit, database, true);
	cols_sql = psprintf("SELECT database, table, name, type, startsWith(type, 'Nullable('), "
						"if(default_kind IN ('', 'DEFAULT'), nullIf(default_expression, ''), "
						"concat(default_kind, ' ', default_expression)) "
						"FROM system.columns WHERE database = %s AND table IN "
						"(SELECT name FROM system.tables WHERE database = %s "
						"AND engine NOT LIKE '%%View' AND NOT startsWith(name, '.inner.'))",
						lit.data, lit.data);
	idx_sql = psprintf("SELECT database, name, 'PRIMARY', 0, 1, "
					   "arrayJoin(splitByString(', ', primary_key)) "
					   "FROM system.tables WHERE database = %s AND primary_key != '' "
					   "AND engine NOT LIKE '%%View' AND NOT startsWith(name, '.inner.')",
					   lit.data);
	cols = ch_exec(conn, cols_sql, &ch_own_query);
	idx = ch_exec(conn, idx_sql, &ch_own_query);
	conn->command = NULL;
	return bb_snapshot_json(cols, idx);
}

static char *
ch_server_version(BBConn *conn)
{
	BBResult   *res = ch_exec(conn, "SELECT version()", &ch_own_query);

	return res->nrows == 1 && BB_VALUE(res, 0, 0) ? BB_VALUE(res, 0, 0) : pstrdup("");
}

static void
ch_close(BBConn *conn)
{
	ChState    *st = CH(conn);

	if (st == NULL)
		return;
	if (st->multi && st->easy)
		curl_multi_remove_handle(st->multi, st->easy);	/* still added after a FATAL */
	if (st->multi)
		curl_multi_cleanup(st->multi);
	if (st->easy)
		curl_easy_cleanup(st->easy);
	for (struct curl_slist *l = st->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));	/* holds the password */
	curl_slist_free_all(st->headers);
	st->headers = NULL;
	st->multi = NULL;
	st->easy = NULL;
}

const BBDriverOps bb_clickhouse_ops = {
	.connect = ch_connect,
	.exec = ch_exec,
	.list_databases = ch_list_databases,
	.schema_snapshot = ch_schema_snapshot,
	.server_version = ch_server_version,
	.cancel = ch_cancel,
	.close = ch_close,
};
