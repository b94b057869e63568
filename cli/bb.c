/* bb.c — the bb CLI's entry: global options, the command and its options, dispatch */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

enum
{
	OPT_ENGINE = 1000, OPT_ENVIRONMENT, OPT_STRICT, OPT_PROJECT, OPT_TARGETS, OPT_VERSION, OPT_TITLE,
	OPT_COMMENT, OPT_TIMEOUT, OPT_WAIT, OPT_OUT_OF_ORDER, OPT_FORMAT
};

static const struct option long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{"engine", required_argument, NULL, OPT_ENGINE},
	{"environment", required_argument, NULL, OPT_ENVIRONMENT},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"project", required_argument, NULL, OPT_PROJECT},
	{"targets", required_argument, NULL, OPT_TARGETS},
	{"version", required_argument, NULL, OPT_VERSION},
	{"title", required_argument, NULL, OPT_TITLE},
	{"comment", required_argument, NULL, OPT_COMMENT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"wait", no_argument, NULL, OPT_WAIT},
	{"out-of-order", no_argument, NULL, OPT_OUT_OF_ORDER},
	{NULL, 0, NULL, 0}
};

typedef struct Command
{
	const char *name;
	int			(*run) (Options *o, int argc, char **argv);
	const int  *options;		/* the command options it takes, 0-terminated */
	bool		annotations;	/* takes --format github / gitlab */
} Command;

static const int lint_opts[] = {OPT_ENGINE, OPT_ENVIRONMENT, OPT_STRICT, 0};
static const int check_opts[] = {OPT_PROJECT, OPT_TARGETS, OPT_STRICT, 0};
static const int rollout_opts[] = {OPT_PROJECT, OPT_TARGETS, OPT_OUT_OF_ORDER, OPT_WAIT, OPT_TIMEOUT, 0};
static const int apply_opts[] = {OPT_PROJECT, OPT_TARGETS, OPT_VERSION, OPT_TITLE, OPT_OUT_OF_ORDER, 0};
static const int wait_opts[] = {OPT_TIMEOUT, 0};
static const int approve_opts[] = {OPT_COMMENT, 0};
static const int no_opts[] = {0};

static const Command command_table[] = {
	{"lint", cmd_lint, lint_opts, true},
	{"check", cmd_check, check_opts, true},
	{"rollout", cmd_rollout, rollout_opts, true},
	{"apply", cmd_apply, apply_opts, false},
	{"status", cmd_status, no_opts, false},
	{"wait", cmd_wait, wait_opts, false},
	{"approve", cmd_approve, approve_opts, false},
	{"cancel", cmd_cancel, no_opts, false},
};

/* The long name of an option id, for "does not apply" messages. */
static const char *
option_name(int id)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/* "90", "90s", "15m", "1h", "1.5 min": seconds; -1 when it is none of these. */
static double
parse_duration(const char *s)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcmp(end, "s") == 0 || strcmp(end, "sec") == 0 || strcmp(end, "seconds") == 0)
		return v;
	if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0 || strcmp(end, "minutes") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0 || strcmp(end, "hours") == 0)
		return v * 3600;
	return -1;
}

/* --format's value; false for anything but the four formats. */
static bool
parse_format(const char *s, Format *f)
{
	if (strcmp(s, "text") == 0)
		*f = FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = FMT_JSON;
	else if (strcmp(s, "github") == 0)
		*f = FMT_GITHUB;
	else if (strcmp(s, "gitlab") == 0)
		*f = FMT_GITLAB;
	else
		return false;
	return true;
}

/* Global options come before the command so that bb --version and bb apply --version V
 * can both exist. */
int
main(int argc, char **argv)
{
	Options		o;
	const Command *cmd = NULL;
	int			first;
	int			c;
	const char *name;

	memset(&o, 0, sizeof(o));
	o.timeout = -1;
	/* global options come before the command: -d, --format, --help, --version */
	for (first = 1; first < argc && argv[first][0] == '-'; first++)
	{
		const char *a = argv[first];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return help(NULL, stdout);
		else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
			return cmd_version(&o);
		else if (strcmp(a, "--format") == 0 && first + 1 < argc)
		{
			if (!parse_format(argv[++first], &o.format))
				return usage_error(NULL, "--format takes text, json, github or gitlab, not \"%s\"", argv[first]);
		}
		else if ((strcmp(a, "-d") == 0 || strcmp(a, "--dbname") == 0) && first + 1 < argc)
			o.conninfo = argv[++first];
		else if (strncmp(a, "--format=", 9) == 0)
		{
			if (!parse_format(a + 9, &o.format))
				return usage_error(NULL, "--format takes text, json, github or gitlab, not \"%s\"", a + 9);
		}
		else if (strncmp(a, "--dbname=", 9) == 0)
			o.conninfo = a + 9;
		else if (strncmp(a, "-d", 2) == 0 && a[2])
			o.conninfo = a + 2;
		else
			return usage_error(NULL, "unknown option \"%s\" (before the command: -d, --format, --help, --version)", a);
	}
	if (first >= argc)
	{
		help(NULL, stderr);
		return EXIT_USAGE;
	}
	name = argv[first];
	if (strcmp(name, "help") == 0)
		return help(first + 1 < argc ? argv[first + 1] : NULL, stdout);
	for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++)
		if (strcmp(command_table[i].name, name) == 0)
			cmd = &command_table[i];
	if (cmd == NULL)
		return usage_error(NULL, "unknown command \"%s\"", name);

	argc -= first;
	argv += first;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:h", long_options, NULL)) != -1)
	{
		bool		allowed = c == 'd' || c == 'h' || c == OPT_FORMAT;

		for (const int *k = cmd->options; *k && !allowed; k++)
			allowed = *k == c;
		if (c == '?')
			return usage_error(cmd->name, "unknown option \"%s\"", argv[optind - 1]);
		if (c == ':')
			return usage_error(cmd->name, "option \"%s\" needs a value", argv[optind - 1]);
		if (!allowed)
			return usage_error(cmd->name, "option --%s does not apply to %s", option_name(c), cmd->name);
		switch (c)
		{
			case 'h': return help(cmd->name, stdout);
			case 'd': o.conninfo = optarg; break;
			case OPT_FORMAT:
				if (!parse_format(optarg, &o.format))
					return usage_error(cmd->name, "--format takes text, json, github or gitlab, not \"%s\"", optarg);
				break;
			case OPT_ENGINE: o.engine = optarg; break;
			case OPT_ENVIRONMENT: o.environment = optarg; break;
			case OPT_STRICT: o.strict = true; break;
			case OPT_PROJECT: o.project = optarg; break;
			case OPT_TARGETS: o.targets = optarg; break;
			case OPT_VERSION: o.version = optarg; break;
			case OPT_TITLE: o.title = optarg; break;
			case OPT_COMMENT: o.comment = optarg; break;
			case OPT_WAIT: o.wait = true; break;
			case OPT_OUT_OF_ORDER: o.out_of_order = true; break;
			case OPT_TIMEOUT:
				o.timeout = parse_duration(optarg);
				if (o.timeout < 0)
					return usage_error(cmd->name, "--timeout takes a duration such as 90, 90s, 15m or 1h, not \"%s\"", optarg);
				break;
		}
	}
	if ((o.format == FMT_GITHUB || o.format == FMT_GITLAB) && !cmd->annotations)
		return usage_error(cmd->name, "--format github and gitlab apply to lint, check and rollout; use text or json");
	return cmd->run(&o, argc - optind, argv + optind);
}
