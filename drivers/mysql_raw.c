/*
 * mysql_raw.c — the only file that includes mysql.h (and no PostgreSQL
 * header): a thin non-blocking wrapper, see mysql_raw.h.  Plain C: malloc,
 * no longjmp, nothing here may call into the server.
 */
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "mysql_raw.h"

_Static_assert(BBMY_WAIT_READ == MYSQL_WAIT_READ && BBMY_WAIT_WRITE == MYSQL_WAIT_WRITE &&
			   BBMY_WAIT_EXCEPT == MYSQL_WAIT_EXCEPT && BBMY_WAIT_TIMEOUT == MYSQL_WAIT_TIMEOUT,
			   "wait flags must match libmariadb");

struct BBMy
{
	MYSQL	   *mysql;
	MYSQL_RES  *res;
	MYSQL_ROW	row;			/* of the last fetch */
	MYSQL	   *connect_ret;
	int			query_ret;
	int			next_ret;
	char	   *host;			/* copies kept alive while connecting */
	char	   *user;
	char	   *password;
	char	   *db;
};

/* strdup that keeps NULL. */
static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Overwrites then frees a secret. */
static void
free_secret(char *s)
{
	if (s)
	{
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
bbmy_abandon_result(BBMy *my)
{
	if (my->res)
	{
		/* an unread remainder: without its handle, mysql_free_result only frees memory */
		my->res->handle = NULL;
		mysql_free_result(my->res);
	}
	my->res = NULL;
	my->row = NULL;
}

BBMy *
bbmy_create(void)
{
	BBMy	   *my = calloc(1, sizeof(BBMy));

	if (my == NULL)
		return NULL;
	my->mysql = mysql_init(NULL);
	if (my->mysql == NULL)
	{
		free(my);
		return NULL;
	}
	mysql_options(my->mysql, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(my->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* a hostile server must not be able to read files of the PostgreSQL host */
	{
		unsigned int off = 0;

		mysql_options(my->mysql, MYSQL_OPT_LOCAL_INFILE, &off);
	}
	/* nor make us send the password in clear (mysql_clear_password, dialog) */
	mysql_optionsv(my->mysql, MARIADB_OPT_RESTRICTED_AUTH,
				   "mysql_native_password,caching_sha2_password,sha256_password,client_ed25519");
	return my;
}

void
bbmy_destroy(BBMy *my)
{
	if (my == NULL)
		return;
	bbmy_abandon_result(my);	/* never read the rest of a result: the connection goes */
	if (my->mysql)
		mysql_close(my->mysql);
	free(my->host);
	free(my->user);
	free_secret(my->password);
	free(my->db);
	free(my);
}

void
bbmy_require_tls(BBMy *my)
{
	my_bool		on = 1;

	/* Connector/C 3.3 enforces TLS only together with certificate verification */
	mysql_optionsv(my->mysql, MYSQL_OPT_SSL_ENFORCE, &on);
	mysql_optionsv(my->mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
}

int
bbmy_connect_start(BBMy *my, const char *host, int port, const char *user,
				   const char *password, const char *db)
{
	my->host = dup_or_null(host);
	my->user = dup_or_null(user);
	my->password = dup_or_null(password);
	my->db = dup_or_null(db);
	if ((host && !my->host) || (user && !my->user) || (password && !my->password) || (db && !my->db))
		return -1;
	return mysql_real_connect_start(&my->connect_ret, my->mysql, my->host, my->user,
									my->password, my->db, (unsigned int) port, NULL, 0);
}

int
bbmy_connect_cont(BBMy *my, int ready)
{
	return mysql_real_connect_cont(&my->connect_ret, my->mysql, ready);
}

int
bbmy_connect_ok(BBMy *my)
{
	return my->connect_ret != NULL;
}

int
bbmy_query_start(BBMy *my, const char *sql, unsigned long len)
{
	bbmy_abandon_result(my);	/* never blocks reading a forgotten remainder */
	return mysql_real_query_start(&my->query_ret, my->mysql, sql, len);
}

int
bbmy_query_cont(BBMy *my, int ready)
{
	return mysql_real_query_cont(&my->query_ret, my->mysql, ready);
}

int
bbmy_query_failed(BBMy *my)
{
	return my->query_ret != 0;
}

int
bbmy_use_result(BBMy *my)
{
	if (my->res)
		mysql_free_result(my->res);
	my->res = mysql_use_result(my->mysql);
	return my->res != NULL;
}

unsigned int
bbmy_field_count(BBMy *my)
{
	return mysql_field_count(my->mysql);
}

unsigned int
bbmy_num_fields(BBMy *my)
{
	return my->res ? mysql_num_fields(my->res) : 0;
}

const char *
bbmy_field_name(BBMy *my, unsigned int i)
{
	MYSQL_FIELD *f;

	if (my->res == NULL || i >= mysql_num_fields(my->res))
		return "";
	f = mysql_fetch_field_direct(my->res, i);
	return f && f->name ? f->name : "";
}

int
bbmy_fetch_start(BBMy *my)
{
	my->row = NULL;
	if (my->res == NULL)
		return 0;
	return mysql_fetch_row_start(&my->row, my->res);
}

int
bbmy_fetch_cont(BBMy *my, int ready)
{
	return mysql_fetch_row_cont(&my->row, my->res, ready);
}

int
bbmy_row(BBMy *my, char ***values, unsigned long **lengths)
{
	if (my->res == NULL || my->row == NULL)
		return 0;
	*values = my->row;
	*lengths = mysql_fetch_lengths(my->res);
	return 1;
}

void
bbmy_free_result(BBMy *my)
{
	if (my->res)
		mysql_free_result(my->res);
	my->res = NULL;
	my->row = NULL;
}

int
bbmy_more_results(BBMy *my)
{
	return mysql_more_results(my->mysql) ? 1 : 0;
}

int
bbmy_next_start(BBMy *my)
{
	bbmy_abandon_result(my);
	return mysql_next_result_start(&my->next_ret, my->mysql);
}

int
bbmy_next_cont(BBMy *my, int ready)
{
	return mysql_next_result_cont(&my->next_ret, my->mysql, ready);
}

int
bbmy_next_failed(BBMy *my)
{
	return my->next_ret > 0;
}

int
bbmy_socket(BBMy *my)
{
	return (int) mysql_get_socket(my->mysql);
}

unsigned int
bbmy_timeout_ms(BBMy *my)
{
	return mysql_get_timeout_value_ms(my->mysql);
}

unsigned int
bbmy_errno(BBMy *my)
{
	return mysql_errno(my->mysql);
}

const char *
bbmy_error(BBMy *my)
{
	return mysql_error(my->mysql);
}

const char *
bbmy_sqlstate(BBMy *my)
{
	return mysql_sqlstate(my->mysql);
}

unsigned long
bbmy_thread_id(BBMy *my)
{
	return mysql_thread_id(my->mysql);
}

long long
bbmy_affected_rows(BBMy *my)
{
	my_ulonglong n = mysql_affected_rows(my->mysql);

	return n == (my_ulonglong) -1 ? -1 : (long long) n;
}

const char *
bbmy_server_info(BBMy *my)
{
	const char *s = mysql_get_server_info(my->mysql);

	return s ? s : "";
}

unsigned long
bbmy_escape(BBMy *my, char *to, const char *from, unsigned long len)
{
	return mysql_real_escape_string(my->mysql, to, from, len);
}
