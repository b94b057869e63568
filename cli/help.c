/* help.c — bb --help and bb help COMMAND: what each command does, its options, exit status */
#include <stdarg.h>
#include <string.h>

#include "bb.h"

static const char overview[] =
"NAME\n"
"    bb - the bytebase command line: SQL review and GitOps rollouts from CI/CD\n"
"\n"
"SYNOPSIS\n"
"    bb [-d CONNINFO] [--format text|json|github|gitlab] COMMAND [OPTIONS] [ARGS]\n"
"    bb --version | --help | help COMMAND\n"
"\n"
"DESCRIPTION\n"
"    bb talks to the control database of a bytebase installation (the PostgreSQL\n"
"    database with the bytebase extension) through its SQL API; every rule (review,\n"
"    file names, versions, approvals) is the server's. It needs libpq only.\n"
"\n"
"COMMANDS\n"
"    lint FILE|DIR...        review SQL files (bb.lint); exit 1 on an error finding\n"
"    check DIR --project P   what a rollout of DIR would do on each target, and the review\n"
"    rollout DIR --project P apply the pending files of DIR in version order [--wait]\n"
"    apply --project P FILE  one change as an issue (bb.apply)\n"
"    status ISSUE            an issue and its tasks\n"
"    wait ISSUE              follow an issue until it settles\n"
"    approve ISSUE           approve the stage waiting for approval\n"
"    cancel ISSUE            cancel an open or failed issue\n"
"    help [COMMAND]          this text, or a command's\n"
"\n"
"CONNECTION\n"
"    libpq's conventions: PGHOST, PGPORT, PGUSER, PGDATABASE, PGSERVICE (with\n"
"    ~/.pg_service.conf or PGSERVICEFILE), PGSSLMODE, ~/.pgpass (PGPASSFILE), or\n"
"    -d CONNINFO, a connection string or URI ('host=db1 dbname=control' or\n"
"    postgresql://ci@db1/control). A password is never taken on the command line:\n"
"    -d with a password is refused (other users can read command lines); use\n"
"    ~/.pgpass, a service file or PGPASSWORD. PGCONNECT_TIMEOUT defaults to 10 s.\n"
"\n"
"OUTPUT\n"
"    --format text   for people (default)\n"
"    --format json   one JSON document on standard output, for every command\n"
"    --format github GitHub Actions annotations (::error file=F,line=N,title=RULE::message)\n"
"                    for lint, check and rollout\n"
"    --format gitlab a GitLab Code Quality report (JSON) for lint, check and rollout\n"
"    Progress and messages go to standard error.\n"
"\n"
"EXIT STATUS\n"
"    0  success: no error finding, every file applicable, every followed task done\n"
"    1  an error finding (or a warning with --strict), a refused or held file, or a\n"
"       rollout that did not end done (failed, canceled, waiting for approval, timeout)\n"
"    2  usage error, unreadable file, connection or authentication failure, no\n"
"       bytebase extension or an older SQL API, or an error from the server\n"
"\n"
"VERSION\n"
"    bb --version prints bb's version, the SQL API it needs and the server's\n"
"    extension version; a server older than the SQL API bb needs is refused with\n"
"    exit 2 and says which update is needed.\n"
"\n"
"EXAMPLES\n"
"    PGSERVICE=bytebase bb lint migrations/ --environment prod --format github\n"
"    bb check migrations/ --project shop\n"
"    bb rollout migrations/ --project shop --wait --timeout 15m\n"
"    bb -d 'host=control dbname=bytebase user=ci' status 42 --format json\n"
"\n"
"    See bb help COMMAND for each command.\n";

static const struct
{
	const char *name;
	const char *text;
}			commands[] = {
	{"lint",
		"NAME\n    bb lint - review SQL files with the server's SQL review\n\n"
		"SYNOPSIS\n    bb lint FILE|DIR... [--engine E] [--environment ENV] [--strict] [--format F]\n\n"
		"DESCRIPTION\n"
		"    Sends each file (a folder: its *.sql files, recursively, in name order) to\n"
		"    bb.lint and prints the findings: line, rule, level, message. Without\n"
		"    --environment the basic review template applies; with it, that environment's\n"
		"    review policy (levels and payloads set with bb.set_review_rule). A file that\n"
		"    is not valid UTF-8 is an error finding (file.encoding) at its line.\n\n"
		"OPTIONS\n"
		"    --engine E         postgres (default), mysql, tidb, clickhouse or snowflake\n"
		"    --environment ENV  apply the review policy of this environment\n"
		"    --strict           warnings fail too (exit 1)\n"
		"    --format F         text, json, github (workflow annotations), gitlab (Code Quality)\n\n"
		"EXIT STATUS\n    0 clean, 1 an error finding (a warning with --strict), 2 usage, file or connection error\n\n"
		"EXAMPLE\n    bb lint migrations/ --environment prod --format github\n"},
	{"check",
		"NAME\n    bb check - what the GitOps watcher would do with a folder, without applying\n\n"
		"SYNOPSIS\n    bb check DIR --project P [--targets T,...] [--strict] [--format F]\n\n"
		"DESCRIPTION\n"
		"    Reads every file under DIR (recursively; names relative to DIR) and asks the\n"
		"    server (bb.check_files) for each migration file its kind and version and its\n"
		"    state on each target database, from that database's changelog:\n"
		"      pending               not applied yet (or queued by an issue)\n"
		"      applied               applied with the same checksum\n"
		"      modified-after-apply  applied with another checksum: an error\n"
		"      out-of-order          its version sorts below one already applied: an error\n"
		"      ignored               not a migration file, or one that cannot be used (not\n"
		"                            UTF-8, empty, same version as another file, bad\n"
		"                            header option): an error unless it is not a .sql file\n"
		"    and the review findings of each file under each target's engine and\n"
		"    environment policy. File names: V<version>__<desc>.sql, <version>_<desc>.sql,\n"
		"    R__<desc>.sql (repeatable). For pull requests.\n\n"
		"OPTIONS\n"
		"    --project P      the project whose databases are the targets\n"
		"    --targets T,...  databases (instance/database) or groups instead of all of the project's\n"
		"    --strict         review warnings fail too\n"
		"    --format F       text, json, github, gitlab\n\n"
		"EXIT STATUS\n    0 nothing wrong, 1 a problem file or an error finding, 2 usage, file or connection error\n"},
	{"rollout",
		"NAME\n    bb rollout - apply the pending migration files of a folder, in version order\n\n"
		"SYNOPSIS\n    bb rollout DIR --project P [--targets T,...] [--out-of-order] [--wait [--timeout T]] [--format F]\n\n"
		"DESCRIPTION\n"
		"    The merge path in CI: bb.rollout_files creates one issue per migration file\n"
		"    that is pending on some target (versioned files in version order, then\n"
		"    repeatable files whose content changed), titled by the file name, as you (the\n"
		"    connecting role). A file modified after it was applied, a broken file or a\n"
		"    failed one is refused and holds back every file after it; an out-of-order\n"
		"    file is refused unless --out-of-order. Files already applied or already\n"
		"    queued are not applied again. The issues then go through their stages,\n"
		"    reviews and approvals like any other.\n"
		"    With --wait bb follows the issues until they settle: a progress bar on a\n"
		"    terminal, a line per change otherwise; Ctrl-C stops following (not the rollout).\n\n"
		"OPTIONS\n"
		"    --project P      the project\n"
		"    --targets T,...  databases or groups instead of all of the project's\n"
		"    --out-of-order   apply files whose version sorts below an applied one\n"
		"    --wait           follow the issues to their end\n"
		"    --timeout T      how long --wait follows (default 10m; 90, 90s, 15m, 1h)\n"
		"    --format F       text, json, github, gitlab\n\n"
		"EXIT STATUS\n"
		"    0 every file applied or up to date (with --wait: every task done),\n"
		"    1 a refused, held or failed file, or with --wait an issue that is not done\n"
		"      (failed, canceled, waiting for approval, timeout), 2 usage or connection error\n"},
	{"apply",
		"NAME\n    bb apply - create an issue from one SQL file\n\n"
		"SYNOPSIS\n    bb apply --project P [--version V] [--targets T,...] [--title T] [--out-of-order] FILE|-\n\n"
		"DESCRIPTION\n    bb.apply(project, the file, targets, version, title): prints the issue id.\n"
		"    The title defaults to the file name.\n\n"
		"OPTIONS\n"
		"    --project P      the project\n"
		"    --version V      a Flyway-style version (refused when not above the applied ones)\n"
		"    --targets T,...  databases or groups (default: all of the project's)\n"
		"    --title T        the issue's title\n"
		"    --out-of-order   apply a version below an applied one\n\n"
		"EXIT STATUS\n    0 created, 2 usage, file, connection or server error\n"},
	{"status",
		"NAME\n    bb status - an issue and its tasks\n\n"
		"SYNOPSIS\n    bb status ISSUE [--format text|json]\n\n"
		"DESCRIPTION\n    The issue (bb.issues: status, progress, what it waits for) and each task\n"
		"    (bb.tasks: stage, database, status, what blocks it, error).\n\n"
		"EXIT STATUS\n    0 shown, 2 unknown issue, usage or connection error\n"},
	{"wait",
		"NAME\n    bb wait - follow an issue until it settles\n\n"
		"SYNOPSIS\n    bb wait ISSUE [--timeout T] [--format text|json]\n\n"
		"DESCRIPTION\n    Follows the issue (progress bar on a terminal) until it is done, failed,\n"
		"    canceled or waiting for approval, or the timeout passes (default 10m).\n\n"
		"EXIT STATUS\n    0 done, 1 anything else, 2 usage or connection error\n"},
	{"approve",
		"NAME\n    bb approve - approve the stage of an issue that waits for approval\n\n"
		"SYNOPSIS\n    bb approve ISSUE [--comment C] [--format text|json]\n\n"
		"DESCRIPTION\n    bb.approve(issue, comment) as the connecting role (a bytebase_approver who\n"
		"    did not create the issue); prints the environment approved.\n\n"
		"EXIT STATUS\n    0 approved, 2 refused, usage or connection error\n"},
	{"cancel",
		"NAME\n    bb cancel - cancel an open or failed issue\n\n"
		"SYNOPSIS\n    bb cancel ISSUE [--format text|json]\n\n"
		"DESCRIPTION\n    bb.cancel(issue): waiting and failed tasks are canceled, running ones stopped.\n\n"
		"EXIT STATUS\n    0 canceled, 2 refused, usage or connection error\n"},
	{"help",
		"NAME\n    bb help - the manual of bb or of one command\n\n"
		"SYNOPSIS\n    bb help [COMMAND]\n"},
};

/* The overview or one command's page on stdout (exit 0), an unknown command on stderr (exit 2). */
int
help(const char *command, FILE *to)
{
	if (command == NULL)
	{
		fputs(overview, to);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, command) == 0)
		{
			fputs(commands[i].text, to);
			return EXIT_OK;
		}
	fprintf(stderr, "bb: no command \"%s\"; the commands are lint, check, rollout, apply, status, wait, approve, cancel, help\n",
			command);
	return EXIT_USAGE;
}

/* A usage error names the command and where to read about it; always exit 2. */
int
usage_error(const char *command, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "bb%s%s: ", command ? " " : "", command ? command : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"bb help%s%s\".\n", command ? " " : "", command ? command : "");
	return EXIT_USAGE;
}
