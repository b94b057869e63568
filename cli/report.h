/* report.h — findings as bb lint / check / rollout report them */
#ifndef BB_REPORT_H
#define BB_REPORT_H

#include <stdio.h>

typedef struct Finding
{
	char	   *file;
	int			line;			/* 0 = the whole file */
	char	   *rule;			/* a review rule id, or a file state such as modified-after-apply */
	char	   *level;			/* error, warning, info */
	char	   *message;
} Finding;

typedef struct Findings
{
	Finding    *v;
	int			n;
	int			cap;
	int			errors;
	int			warnings;
} Findings;

extern void findings_add(Findings *fs, const char *file, int line, const char *rule, const char *level,
						 const char *message);
extern void findings_free(Findings *fs);
extern void findings_text(const Findings *fs, FILE *to);
extern void findings_github(const Findings *fs, FILE *to);
extern void findings_gitlab(const Findings *fs, FILE *to);
extern void findings_json(const Findings *fs, FILE *to);

#endif
