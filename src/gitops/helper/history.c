/* history.c — who last changed each file under the path, from a walk over the new commits
 * (since the previous head when it is an ancestor, else the last job->history ones); each file
 * gets the newest commit that changed it (against its first parent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"


/* FNV-1a: paths are short and the map small; no need for anything stronger. */
static uint64_t
hash_path(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

/* 1 when added, 0 when the path has an author already, -1 out of memory. */
static int
map_add(AuthorMap *map, const char *path, const char *commit, const char *author, long long when)
{
	size_t		i;
	Author	   *a;

	if (map->count * 2 >= map->size)
	{
		AuthorMap	bigger = {NULL, map->size ? map->size * 2 : 256, 0};

		bigger.slot = calloc(bigger.size, sizeof(Author *));
		if (bigger.slot == NULL)
			return -1;
		for (size_t k = 0; k < map->size; k++)
			if (map->slot[k] != NULL)
			{
				for (i = hash_path(map->slot[k]->path) & (bigger.size - 1); bigger.slot[i]; i = (i + 1) & (bigger.size - 1))
					;
				bigger.slot[i] = map->slot[k];
				bigger.count++;
			}
		free(map->slot);
		*map = bigger;
	}
	for (i = hash_path(path) & (map->size - 1); map->slot[i]; i = (i + 1) & (map->size - 1))
		if (strcmp(map->slot[i]->path, path) == 0)
			return 0;
	a = calloc(1, sizeof(Author));
	if (a == NULL || (a->path = strdup(path)) == NULL || (a->author = strdup(author)) == NULL)
	{
		if (a)
			free(a->path);
		free(a);
		return -1;
	}
	snprintf(a->commit, sizeof(a->commit), "%s", commit);
	a->when = when;
	map->slot[i] = a;
	map->count++;
	return 1;
}

/* The author found for a file, or NULL when it did not change in the commits searched. */
const Author *
author_of(const AuthorMap *map, const char *path)
{
	if (map->size == 0)
		return NULL;
	for (size_t i = hash_path(path) & (map->size - 1); map->slot[i]; i = (i + 1) & (map->size - 1))
		if (strcmp(map->slot[i]->path, path) == 0)
			return map->slot[i];
	return NULL;
}

/* Frees the map and every entry (LeakSanitizer checks it in test/gitops). */
void
free_authors(AuthorMap *map)
{
	for (size_t k = 0; k < map->size; k++)
		if (map->slot[k] != NULL)
		{
			free(map->slot[k]->path);
			free(map->slot[k]->author);
			free(map->slot[k]);
		}
	free(map->slot);
	map->slot = NULL;
	map->size = map->count = 0;
}

/* The authors of the changes one commit made under the path (against its first parent). */
static int
commit_authors(git_repository *repo, const git_oid *oid, const HelperJob *job, const git_diff_options *opts,
			   AuthorMap *map)
{
	git_commit *commit = NULL;
	git_commit *parent = NULL;
	git_tree   *tree = NULL;
	git_tree   *ptree = NULL;
	git_diff   *diff = NULL;
	size_t		plen = strlen(job->path);
	char		hex[GIT_OID_HEXSZ + 1];
	int			rc;

	if ((rc = git_commit_lookup(&commit, repo, oid)) < 0 || (rc = git_commit_tree(&tree, commit)) < 0 ||
		(git_commit_parentcount(commit) > 0 &&
		 ((rc = git_commit_parent(&parent, commit, 0)) < 0 || (rc = git_commit_tree(&ptree, parent)) < 0)) ||
		(rc = git_diff_tree_to_tree(&diff, repo, ptree, tree, opts)) < 0)
	{
		out_error("58000", rc, "could not read the history of branch \"%s\"", job->branch);
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), oid);
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
	{
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const git_signature *who = git_commit_author(commit);
		const char *path = d->new_file.path;
		char		author[1024];

		if (d->status == GIT_DELTA_DELETED || path == NULL)
			continue;
		if (plen > 0)
		{
			if (strncmp(path, job->path, plen) != 0 || path[plen] != '/')
				continue;
			path += plen + 1;
		}
		snprintf(author, sizeof(author), "%s <%s>", who && who->name ? who->name : "",
				 who && who->email ? who->email : "");
		if (map_add(map, path, hex, author, who ? (long long) who->when.time : 0LL) < 0)
		{
			out_error("58000", 0, "out of memory");
			rc = -1;
			goto done;
		}
	}
	rc = 0;
done:
	git_diff_free(diff);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(commit);
	return rc < 0 ? -1 : 0;
}

/* Newest commits first, so the first commit that touches a file is the one that last changed it. */
int
collect_authors(git_repository *repo, const git_oid *head, const git_oid *previous, const HelperJob *job,
				AuthorMap *map)
{
	git_revwalk *walk = NULL;
	git_diff_options opts;
	char	   *spec[1];
	git_oid		oid;
	int			n = 0;
	int			rc;
	int			result = -1;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (job->path[0] != '\0')
	{
		spec[0] = (char *) job->path;
		opts.pathspec.strings = spec;
		opts.pathspec.count = 1;
	}
	if ((rc = git_revwalk_new(&walk, repo)) < 0 ||
		(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME)) < 0 ||
		(rc = git_revwalk_push(walk, head)) < 0 ||
		(previous != NULL && (rc = git_revwalk_hide(walk, previous)) < 0))
	{
		out_error("58000", rc, "could not walk the history of branch \"%s\"", job->branch);
		goto done;
	}
	while (n++ < job->history && git_revwalk_next(&oid, walk) == 0)
		if (commit_authors(repo, &oid, job, &opts, map) < 0)
			goto done;
	result = 0;
done:
	git_revwalk_free(walk);
	return result;
}
