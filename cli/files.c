/* files.c — the files a command works on: a file as given, a folder's files recursively */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bb.h"

#define MAX_FILE_BYTES (256L * 1024 * 1024)	/* the server refuses far less; say so early */
#define MAX_FILES 10000

/* A whole file (or stdin for "-") in memory, binary safe, at most MAX_FILE_BYTES. */
static bool
read_all(const char *path, char **data, size_t *len)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	Buf			b = {0};
	char		chunk[65536];
	size_t		n;

	if (f == NULL)
	{
		fprintf(stderr, "bb: %s: %s\n", path, strerror(errno));
		return false;
	}
	buf_str(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		if (b.len + n > (size_t) MAX_FILE_BYTES)
		{
			fprintf(stderr, "bb: %s: larger than %ld MB\n", path, MAX_FILE_BYTES / (1024 * 1024));
			buf_free(&b);
			if (f != stdin)
				fclose(f);
			return false;
		}
		buf_add(&b, chunk, n);
	}
	if (ferror(f))
	{
		fprintf(stderr, "bb: %s: %s\n", path, strerror(errno));
		buf_free(&b);
		if (f != stdin)
			fclose(f);
		return false;
	}
	if (f != stdin)
		fclose(f);
	*data = b.data;
	*len = b.len;
	return true;
}

/* Reads one file into the set under its path and its name relative to the folder given. */
static bool
add_file(FileSet *set, const char *path, const char *rel)
{
	File	   *f;

	if (set->n == MAX_FILES)
	{
		fprintf(stderr, "bb: more than %d files\n", MAX_FILES);
		return false;
	}
	if (set->n == set->cap)
	{
		set->cap = set->cap ? set->cap * 2 : 32;
		set->files = realloc(set->files, sizeof(File) * (size_t) set->cap);
		if (set->files == NULL)
		{
			fputs("bb: out of memory\n", stderr);
			exit(EXIT_USAGE);
		}
	}
	f = &set->files[set->n];
	memset(f, 0, sizeof(*f));
	if (!read_all(path, &f->data, &f->len))
		return false;
	f->path = strdup(path);
	f->rel = strdup(rel);
	set->n++;
	return true;
}

/* qsort order of names: bytewise, as git lists a tree. */
static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* lint takes only *.sql files from a folder (a file named on the command line always counts). */
static bool
has_sql_suffix(const char *name)
{
	size_t		n = strlen(name);

	return n > 4 && strcasecmp(name + n - 4, ".sql") == 0;
}

/* A folder's entries in name order (the order of the watcher's listing); hidden ones skipped. */
static bool
walk(FileSet *set, const char *dir, const char *rel, bool sql_only)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char	  **names = NULL;
	int			n = 0;
	int			cap = 0;
	bool		ok = true;

	if (d == NULL)
	{
		fprintf(stderr, "bb: %s: %s\n", dir, strerror(errno));
		return false;
	}
	while ((e = readdir(d)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 32;
			names = realloc(names, sizeof(char *) * (size_t) cap);
			if (names == NULL)
			{
				fputs("bb: out of memory\n", stderr);
				exit(EXIT_USAGE);
			}
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t) n, sizeof(char *), by_name);
	for (int i = 0; i < n && ok; i++)
	{
		Buf			p = {0};
		Buf			r = {0};
		struct stat st;

		buf_fmt(&p, "%s/%s", dir, names[i]);
		buf_fmt(&r, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
		if (stat(p.data, &st) != 0)
		{
			fprintf(stderr, "bb: %s: %s\n", p.data, strerror(errno));
			ok = false;
		}
		else if (S_ISDIR(st.st_mode))
			ok = walk(set, p.data, r.data, sql_only);
		else if (S_ISREG(st.st_mode) && (!sql_only || has_sql_suffix(names[i])))
			ok = add_file(set, p.data, r.data);
		buf_free(&p);
		buf_free(&r);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok;
}

/* A path from the command line: a file as is, a folder recursively; a missing one is named. */
bool
collect(FileSet *set, const char *path, bool sql_only)
{
	struct stat st;
	const char *base;

	if (strcmp(path, "-") == 0)
		return add_file(set, "-", "-");
	if (stat(path, &st) != 0)
	{
		fprintf(stderr, "bb: %s: %s\n", path, strerror(errno));
		return false;
	}
	if (S_ISDIR(st.st_mode))
	{
		char	   *dir = strdup(path);
		size_t		n = strlen(dir);
		bool		ok;

		while (n > 1 && dir[n - 1] == '/')
			dir[--n] = '\0';
		ok = walk(set, dir, "", sql_only);
		free(dir);
		return ok;
	}
	base = strrchr(path, '/');
	return add_file(set, path, base ? base + 1 : path);
}

/* Frees every file of the set. */
void
fileset_free(FileSet *set)
{
	for (int i = 0; i < set->n; i++)
	{
		free(set->files[i].path);
		free(set->files[i].rel);
		free(set->files[i].data);
	}
	free(set->files);
	memset(set, 0, sizeof(*set));
}
