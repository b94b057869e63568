#!/usr/bin/env bash
# 02_upgrade — upgrade-script discipline: for every older version of bytebase installed in the
# extension dir (bytebase--X.sql / bytebase--X--Y.sql), CREATE EXTENSION at that version followed
# by ALTER EXTENSION UPDATE must give exactly the objects of a fresh CREATE EXTENSION.
. "$(dirname "$0")/../lib/common.sh"

EXTDIR=$("${PG_CONFIG:-pg_config}" --sharedir)/extension
DEFAULT=$(sed -nE "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'([^']+)'.*/\1/p" "$EXTDIR/bytebase.control")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Every object of the extension, as text that does not depend on OIDs or creation order.
DEFINITION_SQL=$(cat <<'EOF'
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'bytebase')
SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
UNION ALL
SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
       || E'\nacl ' || coalesce(p.proacl::text, '-') || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
  FROM pg_proc p WHERE p.pronamespace = 'bb'::regnamespace AND p.prokind IN ('f', 'p')
UNION ALL
SELECT 'relation ' || c.relname || ' kind ' || c.relkind::text || ' acl ' || coalesce(c.relacl::text, '-')
       || ' rls ' || c.relrowsecurity::text || ' options ' || coalesce(c.reloptions::text, '-')
       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
  FROM pg_class c WHERE c.relnamespace = 'bb'::regnamespace
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
       || coalesce(' COMMENT ' || col_description(c.oid, a.attnum), '')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
 WHERE c.relnamespace = 'bb'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'bb'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'bb'::regnamespace
UNION ALL
SELECT 'view ' || c.relname || E'\n' || pg_get_viewdef(c.oid) FROM pg_class c
 WHERE c.relnamespace = 'bb'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'bb'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'config dump ' || x.cfg::regclass || ' where ' || coalesce(x.cond, '')
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond) WHERE e.extname = 'bytebase'
UNION ALL
SELECT 'type ' || t.typname || ' ' || t.typtype::text || coalesce(' ' || (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
       FROM pg_enum WHERE enumtypid = t.oid), '')
  FROM pg_type t WHERE t.typnamespace = 'bb'::regnamespace AND t.typtype IN ('e', 'd', 'c')
UNION ALL
SELECT 'policy ' || p.tablename || ' ' || p.policyname || ' ' || p.cmd || ' ' || p.roles::text
       || ' using ' || coalesce(p.qual, '-') || ' check ' || coalesce(p.with_check, '-')
  FROM pg_policies p WHERE p.schemaname = 'bb'
UNION ALL
SELECT 'schema acl ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'bb'
ORDER BY 1;
EOF
)

# Passes when two definition files are equal; shows the start of the difference otherwise.
same_definition() {
	diff -u "$1" "$2" >"$WORK/diff" && return 0
	head -n 150 "$WORK/diff"
	[ "$(wc -l <"$WORK/diff")" -le 150 ] || echo "... ($(wc -l <"$WORK/diff") diff lines)"
	return 1
}

# The control cluster's server log: its size now, and a wait for a line written after an offset.
CONTROL_LOG="$BB_RUN_DIR/control/server.log"
log_size() { stat -c %s "$CONTROL_LOG" 2>/dev/null || echo 0; }
wait_log() {
	local from=$1 text=$2 i
	for ((i = 0; i < ${BB_WAIT_SECONDS:-60} * 5; i++)); do
		tail -c +"$((from + 1))" "$CONTROL_LOG" | grep -qF -- "$text" && return 0
		sleep 0.2
	done
	echo "not in $CONTROL_LOG: $text"; return 1
}

# Recreates the extension at a version (empty = the default version).
install_at() {
	local version=$1 clause=""
	[ -n "$version" ] && clause="VERSION '$version'"
	ctl_psql -c "DROP EXTENSION IF EXISTS bytebase CASCADE" -c "CREATE EXTENSION bytebase $clause"
}

ok "default version $DEFAULT has an install path" test -n "$DEFAULT"
ok "fresh CREATE EXTENSION bytebase" install_at ""
ctl_psql -c "$DEFINITION_SQL" >"$WORK/fresh.txt" 2>&1
like "fresh definition lists the catalog" "relation environment kind r" "$(cat "$WORK/fresh.txt")"

# Older versions: every version named by an install or upgrade script, except the default.
mapfile -t versions < <(ls "$EXTDIR" | sed -nE 's/^bytebase--(.+)\.sql$/\1/p' | sed 's/--/\n/g' \
	| grep -v '^$' | grep -vxF "$DEFAULT" | sort -uV)
oldest=$(printf '%s\n' "${versions[@]}" "$DEFAULT" | sort -V | head -n 1)
echo "# default version $DEFAULT; older versions: ${versions[*]:-none}; oldest: $oldest"

for v in "${versions[@]}"; do
	# Versions newer than the default (work in progress) are not upgrade sources.
	[ "$(printf '%s\n%s\n' "$v" "$DEFAULT" | sort -V | tail -n 1)" = "$DEFAULT" ] || continue
	log_from=$(log_size)
	ok "CREATE EXTENSION bytebase VERSION '$v'" install_at "$v"
	ok "workers wait while the catalog ($v) is older than the library ($DEFAULT)" \
		wait_log "$log_from" "workers wait: the catalog is at version $v, this library is version $DEFAULT"
	if [ "$v" = 0.1 ]; then
		# data written by 0.1 (an issue waiting for approval with review findings) survives the update
		ok "0.1 data: an issue with review findings" ctl_psql -c "
			SELECT bb.create_environment('prod', protected => true);
			SELECT bb.add_instance('my-up', 'mysql', '127.0.0.1', 1, environment => 'prod');
			SELECT bb.create_project('up');
			INSERT INTO bb.database (instance_id, name, project_id) VALUES (bb._instance_id('my-up'), 'd1', bb._project_id('up'));
			SELECT bb.apply('up', 'CREATE TABLE Bad (a int); DELETE FROM x;', version => '1.9');"
		old_findings=$(ctl_psql -c "SELECT count(*) FROM bb.plan_check_finding")
	fi
	log_from=$(log_size)
	ok "ALTER EXTENSION bytebase UPDATE from $v" ctl_psql -c "ALTER EXTENSION bytebase UPDATE"
	ok "workers resume after the update from $v" wait_log "$log_from" "catalog updated to version $DEFAULT; workers resume"
	if [ "$v" = 0.1 ]; then
		is "0.1 review findings moved to review results" "$old_findings|$old_findings|0" "$(ctl_psql -c "
			SELECT count(*), count(review_id), count(task_id) FROM bb.plan_check_finding")"
		is "bb.plan_checks still shows them" "$old_findings" "$(ctl_psql -c "
			SELECT count(*) FROM bb.plan_checks WHERE \"check\" = 'review' AND rule IS NOT NULL")"
		is "a lower version is now refused on that database" "ok" "$(ctl_psql -c "
			SELECT CASE WHEN bb._version_key('1.10') > bb._version_key('1.9') THEN 'ok' END")"
		ctl_psql -c "SELECT bb.cancel(1)" -c "DO \$\$ BEGIN EXECUTE 'DROP SERVER IF EXISTS bytebase_my-up CASCADE'; EXCEPTION WHEN OTHERS THEN NULL; END \$\$" >/dev/null 2>&1
	fi
	is "version after update from $v" "$DEFAULT" "$(ctl_psql -c "SELECT extversion FROM pg_extension WHERE extname = 'bytebase'")"
	ctl_psql -c "$DEFINITION_SQL" >"$WORK/upgraded-$v.txt" 2>&1
	ok "objects after upgrade from $v equal a fresh install" same_definition "$WORK/fresh.txt" "$WORK/upgraded-$v.txt"
done

# With no older version the discipline still holds: updating the default is a no-op.
if [ "$oldest" = "$DEFAULT" ]; then
	ok "ALTER EXTENSION bytebase UPDATE on a fresh install" ctl_psql -c "ALTER EXTENSION bytebase UPDATE"
	ctl_psql -c "$DEFINITION_SQL" >"$WORK/noop.txt" 2>&1
	ok "objects unchanged by a no-op update" same_definition "$WORK/fresh.txt" "$WORK/noop.txt"
fi

ok "control database cleaned up" ctl_psql -c "DROP EXTENSION bytebase CASCADE"
done_testing
