/* cmd_lint.c — bb lint FILE|DIR...: the server's SQL review (bb.lint) of each file */
#include <stdlib.h>
#include <string.h>

#include "bb.h"
#include "report.h"

/* The review of one script, or an encoding finding when it cannot be sent as text. */
static void
lint_file(PGconn *c, const Options *o, const File *f, Findings *fs)
{
	size_t		ok = utf8_valid_prefix(f->data, f->len);
	const char *params[3];
	PGresult   *r;

	if (ok < f->len)
	{
		findings_add(fs, f->path, line_of(f->data, ok), "file.encoding", "error",
					 "not valid UTF-8 (or a NUL byte): the file cannot be reviewed or applied");
		return;
	}
	params[0] = f->data;
	params[1] = o->engine ? o->engine : "postgres";
	params[2] = o->environment;
	r = query(c, "SELECT line, rule, level, message FROM bb.lint($1, $2, $3)", 3, params);
	for (int i = 0; i < PQntuples(r); i++)
		findings_add(fs, f->path, PQgetisnull(r, i, 0) ? 0 : atoi(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1),
					 PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
	PQclear(r);
}

/* bb lint: every file is read before connecting, so a missing file fails fast (exit 2). */
int
cmd_lint(Options *o, int argc, char **argv)
{
	FileSet		set = {0};
	Findings	fs = {0};
	PGconn	   *c;
	bool		ok = true;
	int			status;

	if (argc == 0)
		return usage_error("lint", "give at least one file or folder");
	for (int i = 0; i < argc; i++)
		ok = collect(&set, argv[i], true) && ok;
	if (!ok)
	{
		fileset_free(&set);
		return EXIT_USAGE;
	}
	c = connect_or_exit(o, true);
	for (int i = 0; i < set.n; i++)
		lint_file(c, o, &set.files[i], &fs);
	finish(c);

	switch (o->format)
	{
		case FMT_JSON:
			printf("{\"files\": %d, \"errors\": %d, \"warnings\": %d, \"findings\": ", set.n, fs.errors, fs.warnings);
			findings_json(&fs, stdout);
			puts("}");
			break;
		case FMT_GITHUB:
			findings_github(&fs, stdout);
			break;
		case FMT_GITLAB:
			findings_gitlab(&fs, stdout);
			break;
		default:
			findings_text(&fs, stdout);
			printf("%d file%s: %d error%s, %d warning%s\n", set.n, set.n == 1 ? "" : "s",
				   fs.errors, fs.errors == 1 ? "" : "s", fs.warnings, fs.warnings == 1 ? "" : "s");
	}
	status = fs.errors > 0 || (o->strict && fs.warnings > 0) ? EXIT_FINDINGS : EXIT_OK;
	findings_free(&fs);
	fileset_free(&set);
	return status;
}
