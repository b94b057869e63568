/* cmd_files.c — bb check DIR and bb rollout DIR: a folder of migration files against the
 * project's databases (bb.check_files, bb.rollout_files: the watcher's rules, on the server) */
#include <stdlib.h>
#include <string.h>

#include "bb.h"
#include "report.h"

/* The folder's files as the three array parameters of bb.check_files / bb.rollout_files. */
typedef struct FileParams
{
	Buf			paths;
	Buf			contents;
	Buf			targets;
	bool		has_targets;
} FileParams;

/* The folder's files as SQL array literals: paths (text[]), contents (bytea[] in hex: any
 * encoding reaches the server, which reports it) and the --targets list. */
static void
file_params(const FileSet *set, const Options *o, FileParams *p)
{
	const char **rels = calloc((size_t) set->n + 1, sizeof(char *));
	const char **datas = calloc((size_t) set->n + 1, sizeof(char *));
	size_t	   *lens = calloc((size_t) set->n + 1, sizeof(size_t));
	char	  **clean = calloc((size_t) set->n + 1, sizeof(char *));

	if (rels == NULL || datas == NULL || lens == NULL || clean == NULL)
	{
		fputs("bb: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < set->n; i++)
	{
		/* a name that is not UTF-8 cannot be sent as text: its bad bytes become '?' */
		size_t		n = strlen(set->files[i].rel);

		clean[i] = strdup(set->files[i].rel);
		for (size_t k = utf8_valid_prefix(clean[i], n); k < n; k = k + 1 + utf8_valid_prefix(clean[i] + k + 1, n - k - 1))
			clean[i][k] = '?';
		rels[i] = clean[i];
		datas[i] = set->files[i].data;
		lens[i] = set->files[i].len;
	}
	pg_array_text(&p->paths, rels, set->n);
	pg_array_bytea(&p->contents, datas, lens, set->n);
	if (o->targets)
	{
		pg_array_list(&p->targets, o->targets);
		p->has_targets = true;
	}
	for (int i = 0; i < set->n; i++)
		free(clean[i]);
	free(clean);
	free(rels);
	free(datas);
	free(lens);
}

/* Frees the three literals. */
static void
file_params_free(FileParams *p)
{
	buf_free(&p->paths);
	buf_free(&p->contents);
	buf_free(&p->targets);
}

/* Runs bb.check_files or bb.rollout_files on the folder's files (the SQL takes $1 project,
 * $2 paths, $3 contents, $4 targets and, for rollout, $5 out_of_order). */
static PGresult *
files_query(PGconn *c, const Options *o, const FileSet *set, const char *sql, int nparams)
{
	FileParams	p;
	const char *params[5];
	PGresult   *r;

	file_params(set, o, &p);
	params[0] = o->project;
	params[1] = p.paths.data;
	params[2] = p.contents.data;
	params[3] = p.has_targets ? p.targets.data : NULL;
	params[4] = o->out_of_order ? "true" : "false";
	r = query(c, sql, nparams, params);
	file_params_free(&p);
	return r;
}

/* The start of a file command's JSON document: {"project": P, "<key>": [ */
static void
json_open(const Options *o, const char *key)
{
	printf("{\"project\": ");
	json_str(stdout, o->project);
	printf(", \"%s\": [", key);
}

/* Reads the folder and checks the options every file command needs. */
static int
prepare(const char *cmd, Options *o, int argc, char **argv, FileSet *set)
{
	if (argc != 1)
		return usage_error(cmd, "give exactly one folder of migration files");
	if (o->project == NULL)
		return usage_error(cmd, "--project is required");
	if (!collect(set, argv[0], false))
	{
		fileset_free(set);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The path of a file as CI shows it (the folder given + its relative name). */
static char *
shown_path(const char *dir, const char *rel)
{
	Buf			b = {0};
	size_t		n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	buf_add(&b, dir, n);
	buf_fmt(&b, "/%s", rel);
	return b.data;
}

/* Review findings of a file under one engine and environment, merged over environments. */
static void
review(PGconn *c, const char *path, const File *f, const char *engine, const char *environment, Findings *fs)
{
	const char *params[3] = {f->data, engine, environment};
	PGresult   *r;

	if (utf8_valid_prefix(f->data, f->len) < f->len)
		return;					/* the server already reported it ignored */
	r = query(c, "SELECT line, rule, level, message FROM bb.lint($1, $2, $3)", 3, params);
	for (int i = 0; i < PQntuples(r); i++)
	{
		Buf			msg = {0};
		bool		merged = false;
		int			line = PQgetisnull(r, i, 0) ? 0 : atoi(PQgetvalue(r, i, 0));

		for (int k = 0; k < fs->n && !merged; k++)
		{
			Finding    *x = &fs->v[k];
			size_t		mlen = strlen(PQgetvalue(r, i, 3));

			if (strcmp(x->file, path) == 0 && x->line == line && strcmp(x->rule, PQgetvalue(r, i, 1)) == 0 &&
				strcmp(x->level, PQgetvalue(r, i, 2)) == 0 && strncmp(x->message, PQgetvalue(r, i, 3), mlen) == 0 &&
				strncmp(x->message + mlen, " [", 2) == 0)
			{
				/* same finding in another environment: one annotation naming both */
				size_t		n = strlen(x->message);
				char	   *grown = malloc(n + strlen(environment) + 3);

				memcpy(grown, x->message, n - 1);
				sprintf(grown + n - 1, ", %s]", environment);
				free(x->message);
				x->message = grown;
				merged = true;
			}
		}
		if (!merged)
		{
			buf_fmt(&msg, "%s [%s]", PQgetvalue(r, i, 3), environment);
			findings_add(fs, path, line, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), msg.data);
			buf_free(&msg);
		}
	}
	PQclear(r);
}

/* The file of a relative name (check reviews the content the server classified). */
static const File *
file_named(const FileSet *set, const char *rel)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->files[i].rel, rel) == 0)
			return &set->files[i];
	return NULL;
}

/* bb check: the server's verdict per file and target, the review per engine and environment;
 * problems and error findings make exit 1. */
int
cmd_check(Options *o, int argc, char **argv)
{
	FileSet		set = {0};
	Findings	problems = {0};
	Findings	reviews = {0};
	PGconn	   *c;
	PGresult   *r;
	int			pending_files = 0;
	bool		pending = false;
	int			status = prepare("check", o, argc, argv, &set);

	if (status != EXIT_OK)
		return status;
	c = connect_or_exit(o, true);
	r = files_query(c, o, &set, "SELECT file, kind, version, checksum, database, engine, environment, state, why "
					"FROM bb.check_files($1, $2::text[], $3::bytea[], $4::text[])", 4);
	if (o->format == FMT_JSON)
		json_open(o, "results");
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *file = PQgetvalue(r, i, 0);
		const char *kind = PQgetvalue(r, i, 1);
		const char *state = PQgetvalue(r, i, 7);
		const char *why = PQgetisnull(r, i, 8) ? NULL : PQgetvalue(r, i, 8);
		const char *db = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
		bool		first = i == 0 || strcmp(PQgetvalue(r, i - 1, 0), file) != 0;
		bool		last = i + 1 == PQntuples(r) || strcmp(PQgetvalue(r, i + 1, 0), file) != 0;
		char	   *path = shown_path(argv[0], file);

		if (strcmp(state, "modified-after-apply") == 0 || strcmp(state, "out-of-order") == 0 ||
			(strcmp(state, "ignored") == 0 && strcmp(kind, "other") != 0))
		{
			Buf			msg = {0};

			buf_fmt(&msg, "%s%s%s", db ? db : "", db ? ": " : "", why ? why : state);
			findings_add(&problems, path, 0, state, "error", msg.data);
			buf_free(&msg);
		}
		pending = (first ? false : pending) || strcmp(state, "pending") == 0;
		if (last && pending)
			pending_files++;
		if (o->format == FMT_TEXT)
		{
			if (first)
				printf("%s: %s%s%s\n", file, kind, PQgetisnull(r, i, 2) ? "" : " ", PQgetvalue(r, i, 2));
			if (db)
				printf("  %-32s %-20s %s\n", db, state, why ? why : "");
			else
				printf("  %s%s%s\n", state, why ? ": " : "", why ? why : "");
		}
		else if (o->format == FMT_JSON)
		{
			printf("%s{\"file\": ", i ? ", " : "");
			json_str(stdout, file);
			printf(", \"kind\": ");
			json_str(stdout, kind);
			printf(", \"version\": ");
			json_str(stdout, PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
			printf(", \"checksum\": ");
			json_str(stdout, PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3));
			printf(", \"database\": ");
			json_str(stdout, db);
			printf(", \"engine\": ");
			json_str(stdout, PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5));
			printf(", \"environment\": ");
			json_str(stdout, PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
			printf(", \"state\": ");
			json_str(stdout, state);
			printf(", \"why\": ");
			json_str(stdout, why);
			printf("}");
		}
		/* the review, once per engine and environment of the file's targets */
		if (db && strcmp(state, "ignored") != 0)
		{
			bool		seen = false;

			for (int k = 0; k < i && !seen; k++)
				seen = strcmp(PQgetvalue(r, k, 0), file) == 0 && strcmp(PQgetvalue(r, k, 5), PQgetvalue(r, i, 5)) == 0 &&
					strcmp(PQgetvalue(r, k, 6), PQgetvalue(r, i, 6)) == 0;
			if (!seen && file_named(&set, file))
				review(c, path, file_named(&set, file), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), &reviews);
		}
		free(path);
	}

	switch (o->format)
	{
		case FMT_JSON:
			printf("], \"problems\": ");
			findings_json(&problems, stdout);
			printf(", \"findings\": ");
			findings_json(&reviews, stdout);
			printf(", \"errors\": %d, \"warnings\": %d}\n", problems.errors + reviews.errors, reviews.warnings);
			break;
		case FMT_GITHUB:
			findings_github(&problems, stdout);
			findings_github(&reviews, stdout);
			break;
		case FMT_GITLAB:
			{
				Findings	all = {0};

				for (int k = 0; k < problems.n + reviews.n; k++)
				{
					const Finding *x = k < problems.n ? &problems.v[k] : &reviews.v[k - problems.n];

					findings_add(&all, x->file, x->line, x->rule, x->level, x->message);
				}
				findings_gitlab(&all, stdout);
				findings_free(&all);
			}
			break;
		default:
			if (reviews.n > 0)
			{
				printf("review:\n");
				findings_text(&reviews, stdout);
			}
			printf("%d file%s: %d to apply, %d problem%s; review: %d error%s, %d warning%s\n",
				   set.n, set.n == 1 ? "" : "s", pending_files, problems.n, problems.n == 1 ? "" : "s",
				   reviews.errors, reviews.errors == 1 ? "" : "s", reviews.warnings, reviews.warnings == 1 ? "" : "s");
	}
	status = problems.n > 0 || reviews.errors > 0 || (o->strict && reviews.warnings > 0) ? EXIT_FINDINGS : EXIT_OK;
	PQclear(r);
	finish(c);
	findings_free(&problems);
	findings_free(&reviews);
	fileset_free(&set);
	return status;
}

/* bb rollout: one call to bb.rollout_files (the server decides), then optionally follow the
 * issues it created or found queued. */
int
cmd_rollout(Options *o, int argc, char **argv)
{
	FileSet		set = {0};
	Findings	fs = {0};
	PGconn	   *c;
	PGresult   *r;
	long long  *ids;
	const char **names;
	int			nids = 0;
	int			status = prepare("rollout", o, argc, argv, &set);

	if (status != EXIT_OK)
		return status;
	c = connect_or_exit(o, true);
	r = files_query(c, o, &set, "SELECT file, version, issue, action, why "
					"FROM bb.rollout_files($1, $2::text[], $3::bytea[], $4::text[], $5::boolean)", 5);
	ids = calloc((size_t) PQntuples(r) + 1, sizeof(long long));
	names = calloc((size_t) PQntuples(r) + 1, sizeof(char *));
	if (o->format == FMT_JSON)
		json_open(o, "files");
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *file = PQgetvalue(r, i, 0);
		const char *action = PQgetvalue(r, i, 3);
		const char *why = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
		bool		has_issue = !PQgetisnull(r, i, 2);

		if (has_issue)
		{
			ids[nids] = atoll(PQgetvalue(r, i, 2));
			names[nids++] = file;
		}
		if (strcmp(action, "refused") == 0 || strcmp(action, "failed") == 0 || strcmp(action, "held") == 0)
		{
			char	   *path = shown_path(argv[0], file);

			findings_add(&fs, path, 0, action, "error", why);
			free(path);
		}
		if (o->format == FMT_JSON)
		{
			printf("%s{\"file\": ", i ? ", " : "");
			json_str(stdout, file);
			printf(", \"version\": ");
			json_str(stdout, PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1));
			printf(", \"action\": ");
			json_str(stdout, action);
			printf(", \"issue\": %s, \"why\": ", has_issue ? PQgetvalue(r, i, 2) : "null");
			json_str(stdout, why);
			printf("}");
		}
		else if (o->format == FMT_TEXT)
		{
			printf("%-40s %s", file, action);
			if (has_issue)
				printf(" (issue %s)", PQgetvalue(r, i, 2));
			if (why && !has_issue)
				printf(": %s", why);
			printf("\n");
		}
	}
	if (o->format == FMT_GITHUB)
		findings_github(&fs, stdout);
	else if (o->format == FMT_GITLAB)
		findings_gitlab(&fs, stdout);
	status = fs.errors > 0 ? EXIT_FINDINGS : EXIT_OK;
	if (o->format == FMT_JSON)
		printf("]");
	if (o->wait && nids > 0)
	{
		int			st;

		fflush(stdout);
		st = follow_issues(c, o, ids, names, nids);
		if (st != EXIT_OK)
			status = st;
	}
	if (o->format == FMT_JSON)
		printf(", \"status\": %d}\n", status);
	else if (o->format == FMT_TEXT && nids == 0 && fs.errors == 0)
		printf("nothing to apply: every file is up to date\n");
	PQclear(r);
	free(ids);
	free(names);
	finish(c);
	findings_free(&fs);
	fileset_free(&set);
	return status;
}
