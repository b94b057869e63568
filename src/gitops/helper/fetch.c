/* fetch.c — one fetch with libgit2: working copy, remote branch, history check, the files */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

#define MAX_FILES 20000			/* files under the path one fetch reports */
#define BRANCH_LIST 10			/* branches named when the asked one does not exist */

/* SQLSTATEs of the E record (bb.repository_sync.error_code) */
#define ST_UNREACHABLE "08006"
#define ST_AUTH "28000"
#define ST_NOT_FOUND "42704"
#define ST_OWNER "42501"
#define ST_LIMIT "54000"
#define ST_GIT "58000"

typedef struct Credentials
{
	const HelperJob *job;
	int			tries;
} Credentials;

/* https: the token as password; asked once per connection, a second ask means it was refused. */
static int
credentials_cb(git_credential **out, const char *url, const char *username_from_url,
			   unsigned int allowed_types, void *payload)
{
	Credentials *c = payload;

	(void) url;
	(void) username_from_url;
	if (c->job->token == NULL || !(allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) || c->tries++ > 0)
		return GIT_EAUTH;
	return git_credential_userpass_plaintext_new(out, c->job->user ? c->job->user : "x-access-token",
												 c->job->token);
}

/* The working copy's folder must be the server user's own (libgit2's ownership check refuses
 * a repository of another user; say so before it does, with the path). */
static int
check_workdir_parent(const HelperJob *job)
{
	char	   *parent = strdup(job->workdir);
	char	   *slash;
	struct stat st;
	int			rc = 0;

	if (parent == NULL)
	{
		out_error(ST_GIT, 0, "out of memory");
		return -1;
	}
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent)
		*slash = '\0';
	if (stat(parent, &st) != 0)
	{
		out_error(ST_GIT, 0, "working copy directory \"%s\" is not accessible: %s", parent, strerror(errno));
		rc = -1;
	}
	else if (st.st_uid != geteuid())
	{
		out_error(ST_OWNER, 0, "working copy directory \"%s\" is owned by uid %u, not by the server's user (uid %u)",
				  parent, (unsigned) st.st_uid, (unsigned) geteuid());
		rc = -1;
	}
	free(parent);
	return rc;
}

/* Opens the bare working copy, creating it on the first fetch. */
static int
open_workdir(const HelperJob *job, git_repository **repo)
{
	int			rc;

	if (check_workdir_parent(job) < 0)
		return -1;
	rc = git_repository_open_bare(repo, job->workdir);
	if (rc == GIT_ENOTFOUND)
		rc = git_repository_init(repo, job->workdir, 1);
	if (rc == GIT_EOWNER)
	{
		out_error(ST_OWNER, rc, "working copy \"%s\" is not owned by the server's user", job->workdir);
		return -1;
	}
	if (rc < 0)
	{
		out_error(ST_GIT, rc, "could not open the working copy \"%s\"", job->workdir);
		return -1;
	}
	return 0;
}

/* After a failed connect: a local repository that exists but belongs to another user (libgit2
 * 1.5 reports its ownership check as a missing safe.directory setting). */
static int
foreign_local_repository(const char *url, uid_t *owner)
{
	const char *path = strncmp(url, "file://", 7) == 0 ? url + 7 : url;
	struct stat st;

	*owner = 0;
	if (path[0] != '/' || stat(path, &st) != 0 || st.st_uid == geteuid())
		return 0;
	*owner = st.st_uid;
	return 1;
}

/* The branches the remote has, for the error that says the asked one is not among them. */
static void
branch_list(const git_remote_head **heads, size_t n, char *buf, size_t size)
{
	size_t		used = 0;
	int			shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
	{
		const char *name = heads[i]->name;

		if (strncmp(name, "refs/heads/", 11) != 0)
			continue;
		if (shown == BRANCH_LIST)
		{
			snprintf(buf + used, size - used, ", ...");
			return;
		}
		used += snprintf(buf + used, size - used, "%s%s", shown ? ", " : "", name + 11);
		if (used >= size)
			return;
		shown++;
	}
}

/* Connects, checks that the branch exists (naming the ones that do), fetches it into
 * refs/bytebase/head (forced: a rewritten history is taken, and reported by the caller). */
static int
fetch_branch(const HelperJob *job, git_repository *repo, git_oid *head)
{
	git_remote *remote = NULL;
	git_remote_callbacks cb;
	git_fetch_options opts;
	Credentials creds = {job, 0};
	const git_remote_head **heads = NULL;
	size_t		nheads = 0;
	char		want[512];
	char		spec[600];
	char	   *specs[1] = {spec};
	git_strarray refspecs = {specs, 1};
	git_reference *ref = NULL;
	int			found = 0;
	int			rc;
	int			result = -1;

	snprintf(want, sizeof(want), "refs/heads/%s", job->branch);
	snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/bytebase/head", job->branch);
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb.credentials = credentials_cb;
	cb.payload = &creds;

	rc = git_remote_create_anonymous(&remote, repo, job->url);
	if (rc < 0)
	{
		out_error(ST_GIT, rc, "invalid repository URL");
		goto done;
	}
	rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL);
	if (rc < 0)
	{
		uid_t		owner = 0;

		if (rc == GIT_EOWNER || foreign_local_repository(job->url, &owner))
			out_error(ST_OWNER, 0, "repository %s is owned by uid %u, not by the server's user (uid %u): "
					  "libgit2 refuses a repository of another user; make the server's user its owner, "
					  "or list it in safe.directory of the server user's git configuration",
					  job->url, (unsigned) owner, (unsigned) geteuid());
		else if (rc == GIT_EAUTH || creds.tries > 1)
			out_error(ST_AUTH, rc, "authentication to %s failed", job->url);
		else
			out_error(ST_UNREACHABLE, rc, "could not reach %s", job->url);
		goto done;
	}
	rc = git_remote_ls(&heads, &nheads, remote);
	if (rc < 0)
	{
		out_error(ST_UNREACHABLE, rc, "could not list the branches of %s", job->url);
		goto done;
	}
	for (size_t i = 0; i < nheads && !found; i++)
		found = strcmp(heads[i]->name, want) == 0;
	if (!found)
	{
		char		list[600];

		branch_list(heads, nheads, list, sizeof(list));
		if (list[0] == '\0')
			out_error(ST_NOT_FOUND, 0, "branch \"%s\" does not exist in %s: the repository has no branches yet",
					  job->branch, job->url);
		else
			out_error(ST_NOT_FOUND, 0, "branch \"%s\" does not exist in %s (branches: %s)", job->branch, job->url, list);
		goto done;
	}
	git_remote_disconnect(remote);

	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	opts.callbacks = cb;
	creds.tries = 0;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	opts.update_fetchhead = 0;
	opts.prune = GIT_FETCH_NO_PRUNE;
	rc = git_remote_fetch(remote, &refspecs, &opts, NULL);
	if (rc < 0)
	{
		out_error(rc == GIT_EAUTH ? ST_AUTH : ST_UNREACHABLE, rc, "could not fetch branch \"%s\" of %s", job->branch, job->url);
		goto done;
	}
	rc = git_reference_lookup(&ref, repo, "refs/bytebase/head");
	if (rc < 0 || git_reference_target(ref) == NULL)
	{
		out_error(ST_GIT, rc, "branch \"%s\" was fetched but cannot be read", job->branch);
		goto done;
	}
	git_oid_cpy(head, git_reference_target(ref));
	result = 0;
done:
	git_reference_free(ref);
	git_remote_free(remote);
	return result;
}

/* R when the previous commit is no longer in the branch's history (a force-push), W when it
 * cannot be told; *ancestor set when previous may bound the history walk. */
static void
check_history(const HelperJob *job, git_repository *repo, const git_oid *head, git_oid *prev, int *ancestor)
{
	git_commit *c = NULL;

	*ancestor = 0;
	if (job->previous == NULL)
		return;
	if (git_oid_fromstr(prev, job->previous) < 0 || git_commit_lookup(&c, repo, prev) < 0)
	{
		out_str('W', "the previous commit is not in the working copy (it was recreated): a rewritten history cannot be detected this time");
		return;
	}
	git_commit_free(c);
	if (git_oid_equal(prev, head) || git_graph_descendant_of(repo, head, prev) == 1)
		*ancestor = 1;
	else
		out_str('R', job->previous);
}

typedef struct Walk
{
	const HelperJob *job;
	git_repository *repo;
	const AuthorMap *authors;
	uint64_t	total;
	int			files;
	int			failed;
} Walk;

/* One file under the path: name, blob, size, why it has no content (a link, too large), the
 * commit that last changed it and its author (when that is among the new commits), content. */
static int
walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	Walk	   *w = payload;
	git_filemode_t mode = git_tree_entry_filemode(entry);
	char		path[4096];
	char		blobid[GIT_OID_HEXSZ + 1];
	char		size[32] = "";
	const char *note = "";
	git_blob   *blob = NULL;
	const Author *who;
	char		when[32] = "";
	const char *parts[8];
	size_t		lens[8];

	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE)
		return 0;
	if (++w->files > MAX_FILES)
	{
		out_error(ST_LIMIT, 0, "more than %d files under path \"%s\"", MAX_FILES, w->job->path);
		w->failed = 1;
		return -1;
	}
	/* root is the folder relative to the walked tree (the path), "" or "sub/" */
	if ((size_t) snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(entry)) >= sizeof(path))
	{
		out_error(ST_LIMIT, 0, "a file name under path \"%s\" is longer than %zu bytes", w->job->path, sizeof(path) - 1);
		w->failed = 1;
		return -1;
	}
	git_oid_tostr(blobid, sizeof(blobid), git_tree_entry_id(entry));
	parts[7] = "";
	lens[7] = 0;
	if (mode == GIT_FILEMODE_LINK)
		note = "a symbolic link, not a file";
	else if (mode == GIT_FILEMODE_COMMIT)
		note = "a submodule, not a file";
	else if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry)) < 0)
	{
		out_error(ST_GIT, -1, "could not read \"%s\"", path);
		w->failed = 1;
		return -1;
	}
	else
	{
		uint64_t	n = (uint64_t) git_blob_rawsize(blob);

		snprintf(size, sizeof(size), "%llu", (unsigned long long) n);
		if (n > w->job->max_file)
			note = "larger than bytebase.git_max_file_size";
		else if (w->total + n > w->job->max_total)
		{
			out_error(ST_LIMIT, 0, "the files under path \"%s\" exceed bytebase.git_max_fetch_size (%llu bytes)",
					  w->job->path, (unsigned long long) w->job->max_total);
			git_blob_free(blob);
			w->failed = 1;
			return -1;
		}
		else
		{
			w->total += n;
			parts[7] = git_blob_rawcontent(blob);
			lens[7] = (size_t) n;
		}
	}
	who = author_of(w->authors, path);
	if (who)
		snprintf(when, sizeof(when), "%lld", who->when);
	parts[0] = path;
	parts[1] = blobid;
	parts[2] = size;
	parts[3] = note;
	parts[4] = who ? who->commit : "";
	parts[5] = who ? who->author : "";
	parts[6] = when;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(parts[i]);
	out_record('F', 8, parts, lens);
	git_blob_free(blob);
	return 0;
}

/* F records for every file under the path at the head commit. */
static int
write_files(const HelperJob *job, git_repository *repo, const git_oid *head, const AuthorMap *authors)
{
	git_commit *commit = NULL;
	git_tree   *root = NULL;
	git_tree   *tree = NULL;
	git_tree_entry *entry = NULL;
	Walk		w = {job, repo, authors, 0, 0, 0};
	char		hex[GIT_OID_HEXSZ + 1];
	int			rc;
	int			result = -1;

	git_oid_tostr(hex, sizeof(hex), head);
	if ((rc = git_commit_lookup(&commit, repo, head)) < 0 || (rc = git_commit_tree(&root, commit)) < 0)
	{
		out_error(ST_GIT, rc, "could not read commit %s", hex);
		goto done;
	}
	if (job->path[0] == '\0')
		tree = root, root = NULL;
	else
	{
		rc = git_tree_entry_bypath(&entry, root, job->path);
		if (rc == GIT_ENOTFOUND)
		{
			out_error(ST_NOT_FOUND, 0, "path \"%s\" does not exist on branch \"%s\" (commit %.12s)", job->path, job->branch, hex);
			goto done;
		}
		if (rc < 0)
		{
			out_error(ST_GIT, rc, "could not read path \"%s\"", job->path);
			goto done;
		}
		if (git_tree_entry_type(entry) != GIT_OBJECT_TREE)
		{
			out_error(ST_NOT_FOUND, 0, "path \"%s\" on branch \"%s\" is a file, not a folder", job->path, job->branch);
			goto done;
		}
		if ((rc = git_tree_lookup(&tree, repo, git_tree_entry_id(entry))) < 0)
		{
			out_error(ST_GIT, rc, "could not read path \"%s\"", job->path);
			goto done;
		}
	}
	rc = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w);
	if (rc < 0 && !w.failed)
		out_error(ST_GIT, rc, "could not list the files under path \"%s\"", job->path);
	else if (rc >= 0)
		result = 0;
done:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_tree_free(root);
	git_commit_free(commit);
	return result;
}

/* One fetch, in the order the worker reads the answer: H, then R/W, then the F records. */
int
run_fetch(const HelperJob *job)
{
	git_repository *repo = NULL;
	git_oid		head;
	git_oid		prev;
	int			ancestor = 0;
	char		hex[GIT_OID_HEXSZ + 1];
	AuthorMap	authors = {NULL, 0, 0};
	int			result = -1;

	if (open_workdir(job, &repo) < 0)
		goto done;
	if (fetch_branch(job, repo, &head) < 0)
		goto done;
	git_oid_tostr(hex, sizeof(hex), &head);
	out_str('H', hex);
	if (job->quick && job->previous && strcmp(job->previous, hex) == 0)
	{
		result = 0;				/* a poll, nothing new: the worker needs the head only */
		goto done;
	}
	check_history(job, repo, &head, &prev, &ancestor);
	if (collect_authors(repo, &head, ancestor ? &prev : NULL, job, &authors) < 0)
		goto done;
	if (write_files(job, repo, &head, &authors) < 0)
		goto done;
	result = 0;
done:
	free_authors(&authors);
	git_repository_free(repo);
	return result;
}
