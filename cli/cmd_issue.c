/* cmd_issue.c — thin wrappers over the SQL API: apply, status, wait, approve, cancel, --version */
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* The one issue id argument, as the decimal text the SQL parameter takes; false (after a usage
 * message) when there is none or it is not an id. */
static bool
issue_arg(const char *cmd, int argc, char **argv, char id[32])
{
	char	   *end;
	long long	v;

	if (argc != 1)
	{
		usage_error(cmd, "give one issue id");
		return false;
	}
	v = strtoll(argv[0], &end, 10);
	if (*argv[0] == '\0' || *end != '\0' || v <= 0)
	{
		usage_error(cmd, "\"%s\" is not an issue id", argv[0]);
		return false;
	}
	snprintf(id, 32, "%lld", v);
	return true;
}

/* bb apply: one file (or stdin) as bb.apply; the title defaults to the file name, as GitOps. */
int
cmd_apply(Options *o, int argc, char **argv)
{
	FileSet		set = {0};
	PGconn	   *c;
	PGresult   *r;
	Buf			targets = {0};
	const char *params[6];
	const File *f;

	if (o->project == NULL)
		return usage_error("apply", "--project is required");
	if (argc != 1)
		return usage_error("apply", "give one file (- for standard input)");
	if (!collect(&set, argv[0], false) || set.n != 1)
	{
		if (set.n > 1)
			usage_error("apply", "%s is a folder: bb rollout applies a folder", argv[0]);
		fileset_free(&set);
		return EXIT_USAGE;
	}
	f = &set.files[0];
	if (utf8_valid_prefix(f->data, f->len) < f->len)
	{
		fprintf(stderr, "bb: %s: not valid UTF-8 (or a NUL byte) at line %d\n", f->path,
				line_of(f->data, utf8_valid_prefix(f->data, f->len)));
		fileset_free(&set);
		return EXIT_USAGE;
	}
	if (o->targets)
		pg_array_list(&targets, o->targets);
	c = connect_or_exit(o, true);
	params[0] = o->project;
	params[1] = f->data;
	params[2] = o->targets ? targets.data : NULL;
	params[3] = o->version;
	params[4] = o->title ? o->title : (strcmp(f->rel, "-") == 0 ? NULL : f->rel);
	params[5] = o->out_of_order ? "true" : "false";
	r = query(c, "SELECT bb.apply($1, $2, $3::text[], $4, $5, $6::boolean)", 6, params);
	if (o->format == FMT_JSON)
		printf("{\"issue\": %s}\n", PQgetvalue(r, 0, 0));
	else
		printf("issue %s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	finish(c);
	buf_free(&targets);
	fileset_free(&set);
	return EXIT_OK;
}

/* bb status: bb.issues and bb.tasks of one issue. */
int
cmd_status(Options *o, int argc, char **argv)
{
	char		ids[32];
	const char *params[1] = {ids};
	PGconn	   *c;
	PGresult   *i;
	PGresult   *t;

	if (!issue_arg("status", argc, argv, ids))
		return EXIT_USAGE;
	c = connect_or_exit(o, true);
	i = query(c, "SELECT id, project, title, version, status, progress, waiting_for, created_by, created_at, "
			  "bb.wait(id, '0 s') FROM bb.issues WHERE id = $1::bigint", 1, params);
	if (PQntuples(i) == 0)
	{
		fprintf(stderr, "bb: issue %s does not exist\n", ids);
		PQclear(i);
		finish(c);
		return EXIT_USAGE;
	}
	t = query(c, "SELECT id, stage, database, status, attempts, blocked_by, error, started_at, finished_at "
			  "FROM bb.tasks WHERE issue = $1::bigint", 1, params);
	if (o->format == FMT_JSON)
	{
		static const char *const inames[] = {"id", "project", "title", "version", "status", "progress",
		"waiting_for", "created_by", "created_at", "state"};
		static const char *const tnames[] = {"id", "stage", "database", "status", "attempts", "blocked_by",
		"error", "started_at", "finished_at"};

		printf("{");
		for (int k = 0; k < 10; k++)
		{
			printf("%s\"%s\": ", k ? ", " : "", inames[k]);
			if (k == 0)
				printf("%s", PQgetvalue(i, 0, k));
			else
				json_str(stdout, PQgetisnull(i, 0, k) ? NULL : PQgetvalue(i, 0, k));
		}
		printf(", \"tasks\": [");
		for (int row = 0; row < PQntuples(t); row++)
		{
			printf("%s{", row ? ", " : "");
			for (int k = 0; k < 9; k++)
			{
				printf("%s\"%s\": ", k ? ", " : "", tnames[k]);
				if (k == 0 || k == 4)
					printf("%s", PQgetvalue(t, row, k));
				else
					json_str(stdout, PQgetisnull(t, row, k) ? NULL : PQgetvalue(t, row, k));
			}
			printf("}");
		}
		printf("]}\n");
	}
	else
	{
		printf("issue %s  %s  (project %s%s%s)\n", PQgetvalue(i, 0, 0), PQgetvalue(i, 0, 2), PQgetvalue(i, 0, 1),
			   PQgetisnull(i, 0, 3) ? "" : ", version ", PQgetvalue(i, 0, 3));
		printf("status: %s (%s), %s%s%s\n", PQgetvalue(i, 0, 4), PQgetvalue(i, 0, 9), PQgetvalue(i, 0, 5),
			   PQgetisnull(i, 0, 6) ? "" : ", waiting for ", PQgetvalue(i, 0, 6));
		printf("created by %s at %s\n", PQgetvalue(i, 0, 7), PQgetvalue(i, 0, 8));
		for (int row = 0; row < PQntuples(t); row++)
		{
			printf("  task %-6s %-12s %-32s %-16s", PQgetvalue(t, row, 0), PQgetvalue(t, row, 1),
				   PQgetvalue(t, row, 2), PQgetvalue(t, row, 3));
			if (!PQgetisnull(t, row, 5))
				printf(" waits for %s", PQgetvalue(t, row, 5));
			if (!PQgetisnull(t, row, 6))
				printf(" error: %s", PQgetvalue(t, row, 6));
			printf("\n");
		}
	}
	PQclear(i);
	PQclear(t);
	finish(c);
	return EXIT_OK;
}

/* bb wait: follow one issue (the same loop as rollout --wait). */
int
cmd_wait(Options *o, int argc, char **argv)
{
	char		ids[32];
	long long	id;
	PGconn	   *c;
	int			status;

	if (!issue_arg("wait", argc, argv, ids))
		return EXIT_USAGE;
	id = atoll(ids);
	c = connect_or_exit(o, true);
	if (o->format == FMT_JSON)
		printf("{\"issue\": %lld", id);
	status = follow_issues(c, o, &id, NULL, 1);
	if (o->format == FMT_JSON)
		printf(", \"status\": %d}\n", status);
	finish(c);
	return status;
}

/* bb approve: bb.approve as the connecting role (the server enforces who may). */
int
cmd_approve(Options *o, int argc, char **argv)
{
	char		ids[32];
	const char *params[2] = {ids, o->comment};
	PGconn	   *c;
	PGresult   *r;

	if (!issue_arg("approve", argc, argv, ids))
		return EXIT_USAGE;
	c = connect_or_exit(o, true);
	r = query(c, "SELECT bb.approve($1::bigint, $2)", 2, params);
	if (o->format == FMT_JSON)
	{
		printf("{\"issue\": %s, \"approved\": ", ids);
		json_str(stdout, PQgetvalue(r, 0, 0));
		printf("}\n");
	}
	else
		printf("approved stage %s of issue %s\n", PQgetvalue(r, 0, 0), ids);
	PQclear(r);
	finish(c);
	return EXIT_OK;
}

/* bb cancel: bb.cancel as the connecting role. */
int
cmd_cancel(Options *o, int argc, char **argv)
{
	char		ids[32];
	const char *params[1] = {ids};
	PGconn	   *c;
	PGresult   *r;

	if (!issue_arg("cancel", argc, argv, ids))
		return EXIT_USAGE;
	c = connect_or_exit(o, true);
	r = query(c, "SELECT bb.cancel($1::bigint)", 1, params);
	if (o->format == FMT_JSON)
		printf("{\"issue\": %s, \"canceled_tasks\": %s}\n", ids, PQgetvalue(r, 0, 0));
	else
		printf("canceled issue %s (%s task%s)\n", ids, PQgetvalue(r, 0, 0), strcmp(PQgetvalue(r, 0, 0), "1") ? "s" : "");
	PQclear(r);
	finish(c);
	return EXIT_OK;
}

/* bb --version: this bb, the SQL API it needs, and the server's extension when it connects. */
int
cmd_version(Options *o)
{
	PGconn	   *c;
	char	   *v;
	int			status = EXIT_OK;

	c = connect_or_exit(o, false);
	v = server_version(c);
	if (o->format == FMT_JSON)
	{
		printf("{\"bb\": \"%s\", \"api\": \"%s\", \"extension\": ", BB_VERSION, BB_API_NEEDED);
		json_str(stdout, v);
		printf("}\n");
	}
	else
	{
		printf("bb %s (needs the bytebase SQL API %s or later)\n", BB_VERSION, BB_API_NEEDED);
		if (v)
			printf("extension bytebase %s in database \"%s\" on %s:%s\n", v, PQdb(c), PQhost(c), PQport(c));
		else
			printf("no bytebase extension in database \"%s\" on %s:%s\n", PQdb(c), PQhost(c), PQport(c));
	}
	if (v == NULL)
		status = EXIT_USAGE;
	else if (!api_supported(v))
	{
		fprintf(stderr, "bb: the server's extension (%s) is older than the SQL API this bb needs (%s): "
				"update it with ALTER EXTENSION bytebase UPDATE\n", v, BB_API_NEEDED);
		status = EXIT_USAGE;
	}
	free(v);
	finish(c);
	return status;
}
