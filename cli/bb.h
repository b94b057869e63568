/* bb.h — the bb CLI: shared declarations (libpq only; every rule lives in the SQL API) */
#ifndef BB_CLI_H
#define BB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#ifndef BB_VERSION
#define BB_VERSION "0.4"
#endif
#define BB_API_NEEDED "0.4"		/* the oldest extension version whose SQL API bb uses */

/* exit statuses (bb --help, EXIT STATUS) */
#define EXIT_OK 0
#define EXIT_FINDINGS 1			/* findings, a refused file, a rollout not done */
#define EXIT_USAGE 2			/* usage, files, connection, server errors */

typedef enum Format
{
	FMT_TEXT,
	FMT_JSON,
	FMT_GITHUB,
	FMT_GITLAB
} Format;

/* Options of every command (each command uses what it needs). */
typedef struct Options
{
	const char *conninfo;		/* -d: a connection string or URI, never with a password */
	Format		format;
	const char *engine;
	const char *environment;
	const char *project;
	const char *targets;		/* comma-separated databases or groups */
	const char *version;
	const char *title;
	const char *comment;
	double		timeout;		/* seconds; < 0 = the command's default */
	bool		strict;
	bool		wait;
	bool		out_of_order;
} Options;

/* a growable string (buf.c) */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

extern void buf_add(Buf *b, const char *s, size_t n);
extern void buf_str(Buf *b, const char *s);
extern void buf_fmt(Buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void buf_free(Buf *b);

/* output (out.c) */
extern void json_str(FILE *f, const char *s);	/* a JSON string literal, or null */
extern char *gh_escape(const char *s, bool property);	/* GitHub workflow command escaping; malloc'd */
extern void fingerprint(const char *const *parts, int n, char out[33]);	/* GitLab issue id */
extern void pg_array_text(Buf *b, const char *const *items, int n);		/* {"a","b"} */
extern void pg_array_bytea(Buf *b, const char *const *items, const size_t *lens, int n);
extern void pg_array_list(Buf *b, const char *list);	/* "a, b" -> {"a","b"} */
extern size_t utf8_valid_prefix(const char *s, size_t n);	/* bytes of valid UTF-8 (no NUL) */
extern int	line_of(const char *s, size_t offset);

/* files (files.c) */
typedef struct File
{
	char	   *path;			/* as given or found (for messages and annotations) */
	char	   *rel;			/* relative to the folder given (check, rollout) */
	char	   *data;
	size_t		len;
} File;

typedef struct FileSet
{
	File	   *files;
	int			n;
	int			cap;
} FileSet;

/* adds the files of a path: a file as is, a folder's files recursively (only *.sql when
 * sql_only), sorted by name; false (with a message) when it does not exist or cannot be read */
extern bool collect(FileSet *set, const char *path, bool sql_only);
extern void fileset_free(FileSet *set);

/* connection and queries (conn.c) */
extern PGconn *connect_or_exit(const Options *o, bool check_api);
extern PGresult *query(PGconn *c, const char *sql, int n, const char *const *params);	/* exits on error */
extern PGresult *query_try(PGconn *c, const char *sql, int n, const char *const *params);	/* NULL on error, printed */
extern void print_server_error(const PGresult *r);
extern char *server_version(PGconn *c);	/* the extension's version or NULL; malloc'd */
extern bool api_supported(const char *server);	/* the server's version has the SQL API bb needs */
extern void finish(PGconn *c);
extern volatile int interrupted;	/* SIGINT seen while waiting */

/* commands */
extern int	cmd_lint(Options *o, int argc, char **argv);
extern int	cmd_check(Options *o, int argc, char **argv);
extern int	cmd_rollout(Options *o, int argc, char **argv);
extern int	cmd_apply(Options *o, int argc, char **argv);
extern int	cmd_status(Options *o, int argc, char **argv);
extern int	cmd_wait(Options *o, int argc, char **argv);
extern int	cmd_approve(Options *o, int argc, char **argv);
extern int	cmd_cancel(Options *o, int argc, char **argv);
extern int	cmd_version(Options *o);

/* follows issues until they settle (wait.c); EXIT_OK when every one is done */
extern int	follow_issues(PGconn *c, const Options *o, const long long *ids, const char *const *names, int n);

/* help (help.c) */
extern int	help(const char *command, FILE *to);
extern int	usage_error(const char *command, const char *fmt,...) __attribute__((format(printf, 2, 3)));

#endif
