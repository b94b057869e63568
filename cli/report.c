/* report.c — findings (review and file problems) in the four output formats */
#include <stdlib.h>
#include <string.h>

#include "bb.h"
#include "report.h"

/* Copies a finding and counts it by level (errors decide the exit status). */
void
findings_add(Findings *fs, const char *file, int line, const char *rule, const char *level, const char *message)
{
	Finding    *f;

	if (fs->n == fs->cap)
	{
		fs->cap = fs->cap ? fs->cap * 2 : 64;
		fs->v = realloc(fs->v, sizeof(Finding) * (size_t) fs->cap);
		if (fs->v == NULL)
		{
			fputs("bb: out of memory\n", stderr);
			exit(EXIT_USAGE);
		}
	}
	f = &fs->v[fs->n++];
	f->file = strdup(file ? file : "");
	f->line = line;
	f->rule = strdup(rule ? rule : "");
	f->level = strdup(level ? level : "error");
	f->message = strdup(message ? message : "");
	if (strcmp(f->level, "error") == 0)
		fs->errors++;
	else if (strcmp(f->level, "warning") == 0)
		fs->warnings++;
}

/* Frees every finding. */
void
findings_free(Findings *fs)
{
	for (int i = 0; i < fs->n; i++)
	{
		free(fs->v[i].file);
		free(fs->v[i].rule);
		free(fs->v[i].level);
		free(fs->v[i].message);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* file:line: level: rule: message */
void
findings_text(const Findings *fs, FILE *to)
{
	for (int i = 0; i < fs->n; i++)
	{
		const Finding *f = &fs->v[i];

		if (f->line > 0)
			fprintf(to, "%s:%d: %s: %s: %s\n", f->file, f->line, f->level, f->rule, f->message);
		else
			fprintf(to, "%s: %s: %s: %s\n", f->file, f->level, f->rule, f->message);
	}
}

/* GitHub Actions workflow commands: annotations on the pull request's files. */
void
findings_github(const Findings *fs, FILE *to)
{
	for (int i = 0; i < fs->n; i++)
	{
		const Finding *f = &fs->v[i];
		const char *cmd = strcmp(f->level, "error") == 0 ? "error"
			: strcmp(f->level, "warning") == 0 ? "warning" : "notice";
		char	   *file = gh_escape(f->file, true);
		char	   *title = gh_escape(f->rule, true);
		char	   *msg = gh_escape(f->message, false);

		if (f->line > 0)
			fprintf(to, "::%s file=%s,line=%d,title=%s::%s\n", cmd, file, f->line, title, msg);
		else
			fprintf(to, "::%s file=%s,title=%s::%s\n", cmd, file, title, msg);
		free(file);
		free(title);
		free(msg);
	}
}

/* GitLab Code Quality report (a JSON array), for artifacts:reports:codequality. */
void
findings_gitlab(const Findings *fs, FILE *to)
{
	fputs("[", to);
	for (int i = 0; i < fs->n; i++)
	{
		const Finding *f = &fs->v[i];
		char		line[16];
		const char *parts[4];
		char		fp[33];
		const char *severity = strcmp(f->level, "error") == 0 ? "major"
			: strcmp(f->level, "warning") == 0 ? "minor" : "info";

		if (strcmp(f->rule, "modified-after-apply") == 0)
			severity = "critical";
		snprintf(line, sizeof(line), "%d", f->line);
		parts[0] = f->file;
		parts[1] = line;
		parts[2] = f->rule;
		parts[3] = f->message;
		fingerprint(parts, 4, fp);
		fputs(i ? ",\n  {" : "\n  {", to);
		fputs("\"description\": ", to);
		json_str(to, f->message);
		fputs(", \"check_name\": ", to);
		json_str(to, f->rule);
		fprintf(to, ", \"fingerprint\": \"%s\", \"severity\": \"%s\", \"location\": {\"path\": ", fp, severity);
		json_str(to, f->file);
		fprintf(to, ", \"lines\": {\"begin\": %d}}}", f->line > 0 ? f->line : 1);
	}
	fputs(fs->n ? "\n]\n" : "]\n", to);
}

/* The findings as a JSON array (inside a command's own JSON document). */
void
findings_json(const Findings *fs, FILE *to)
{
	fputs("[", to);
	for (int i = 0; i < fs->n; i++)
	{
		const Finding *f = &fs->v[i];

		fputs(i ? ", {\"file\": " : "{\"file\": ", to);
		json_str(to, f->file);
		if (f->line > 0)
			fprintf(to, ", \"line\": %d", f->line);
		else
			fputs(", \"line\": null", to);
		fputs(", \"rule\": ", to);
		json_str(to, f->rule);
		fputs(", \"level\": ", to);
		json_str(to, f->level);
		fputs(", \"message\": ", to);
		json_str(to, f->message);
		fputs("}", to);
	}
	fputs("]", to);
}
