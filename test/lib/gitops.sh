# test/lib/gitops.sh — helpers of the GitOps tests (40_gitops, 41_cli), sourced after common.sh
# and workers.sh: source repositories made by the test, commits by a named author, pushes.
#
# The server runs as postgres and libgit2 refuses repositories of another user, so the test's
# repositories are made and changed as the server's user (as_server); GIT_WORK is theirs.

GIT_WORK=${GIT_WORK:-$BB_RUN_DIR/gitops.$$}

# Runs a command as the server's operating-system user (root runs it via runuser).
as_server() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A bare repository NAME.git with a clone NAME (branch main), both the server user's.
git_init_repo() {
	local name=$1
	mkdir -p "$GIT_WORK"
	[ "$(id -u)" = 0 ] && chown postgres: "$GIT_WORK"
	chmod 755 "$GIT_WORK"
	as_server git init -q --bare -b main "$GIT_WORK/$name.git"
	as_server git -c init.defaultBranch=main clone -q "$GIT_WORK/$name.git" "$GIT_WORK/$name" 2>/dev/null
	as_server mkdir -p "$GIT_WORK/$name/migrations"
}

# git in the clone of NAME as AUTHOR ("Name <email>"): git_as NAME AUTHOR ARGS...
git_as() {
	local name=$1 author=$2; shift 2
	local who=${author% <*} mail=${author#*<}
	mail=${mail%>}
	as_server env HOME="$GIT_WORK" GIT_AUTHOR_NAME="$who" GIT_AUTHOR_EMAIL="$mail" \
		GIT_COMMITTER_NAME="$who" GIT_COMMITTER_EMAIL="$mail" git -C "$GIT_WORK/$name" "$@"
}

# Writes stdin to FILE of the clone of NAME: put_file NAME migrations/V1__x.sql
put_file() {
	as_server tee "$GIT_WORK/$1/$2" >/dev/null
}

# Commits everything in the clone of NAME as AUTHOR with MESSAGE and pushes; prints the commit.
commit_push() {
	local name=$1 author=$2 message=$3
	git_as "$name" "$author" add -A
	git_as "$name" "$author" commit -q -m "$message"
	git_as "$name" "$author" push -q origin main 2>/dev/null
	git_as "$name" "$author" rev-parse HEAD
}

# A login role ROLE (created when missing) that is a member of each GRANT: ensure_role ROLE GRANT...
ensure_role() {
	local role=$1 g; shift
	ctl_psql -c "SET client_min_messages = warning" \
		-c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
		      CREATE ROLE $role LOGIN; END IF; END \$\$" >/dev/null
	for g in "$@"; do ctl_psql -c "SET client_min_messages = warning" -c "GRANT $g TO $role" >/dev/null; done
}

# A fresh extension with project shop over the target databases PREFIX_dev, PREFIX_stg and
# PREFIX_prod (instance pg) in dev, staging and prod (protected), every review rule off (these
# tests are about files and rollouts); MEMBER, a developer, belongs to the project.
shop_pipeline() {
	local prefix=$1 member=$2
	fresh_extension 2>/dev/null
	recreate_target_dbs "${prefix}_dev" "${prefix}_stg" "${prefix}_prod" 2>/dev/null
	ctl_psql -c "SELECT bb.create_environment('dev')" -c "SELECT bb.create_environment('staging')" \
		-c "SELECT bb.create_environment('prod', protected => true)" >/dev/null
	add_target_pg pg dev
	review_off
	ctl_psql -c "SELECT bb.create_project('shop')" -c "SELECT bb.assign_database('pg/${prefix}_dev', 'shop', 'dev')" \
		-c "SELECT bb.assign_database('pg/${prefix}_stg', 'shop', 'staging')" \
		-c "SELECT bb.assign_database('pg/${prefix}_prod', 'shop', 'prod')" \
		-c "SELECT bb.grant_project('shop', '$member')" >/dev/null
}
