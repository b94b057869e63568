#!/usr/bin/env bash
# 01_dump_restore — pg_dump of the control database round-trips: the catalog (environments,
# instances with their credentials, projects, databases, groups) restored into a fresh cluster
# with the extension preloaded reads back the same.
. "$(dirname "$0")/../lib/common.sh"

RESTORE_PORT=$((${BB_PORT_BASE:-55000} + 9))
RESTORE_DIR=$BB_RUN_DIR/restore
DUMP=$BB_RUN_DIR/bbtest.dump

# Stops and removes the scratch cluster (also when the script fails half-way).
cleanup() {
	if [ -f "$RESTORE_DIR/data/postmaster.pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RESTORE_DIR/data" -m fast -w stop >/dev/null 2>&1
	fi
	rm -rf "$RESTORE_DIR" "$DUMP"
}
trap cleanup EXIT

restore_psql() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CONTROL_SOCK" -p "$RESTORE_PORT" -U postgres -d "$CONTROL_DB" "$@"
}

# The catalog as a superuser sees it, credentials included; volatile columns left out.
CATALOG_SQL="
SELECT 'env', name, position, protected, created_by FROM bb.environments;
SELECT 'inst', name, engine, host, port, environment, options, server_name, databases, created_by FROM bb.instances;
SELECT 'proj', name, title, databases, created_by FROM bb.projects;
SELECT 'db', ref, instance, engine, database, project, environment, labels, status FROM bb.databases;
SELECT 'grp', project, name, labels, name_pattern FROM bb.database_groups;
SELECT 'srv', s.srvname, w.fdwname, (SELECT array_agg(o ORDER BY o) FROM unnest(s.srvoptions) o)
  FROM pg_foreign_server s
  JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY s.srvname;
SELECT 'um', srvname, usename, (SELECT array_agg(o ORDER BY o) FROM unnest(umoptions) o)
  FROM pg_user_mappings ORDER BY srvname, usename;
SELECT 'seq', last_value FROM bb.environment_id_seq;
SELECT 'seq', last_value FROM bb.instance_id_seq;
SELECT 'seq', last_value FROM bb.project_id_seq;
"

had_fdw=$(ctl_psql -c "SELECT count(*) FROM pg_extension WHERE extname = 'postgres_fdw'")

ok "fresh extension with postgres_fdw" ctl_psql -c "
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION IF NOT EXISTS postgres_fdw;
  CREATE EXTENSION bytebase;"

ok "catalog content created" ctl_psql -v pgpw="$TARGET_PG_PASSWORD" -v mypw="$MYSQL_PASSWORD" <<EOF
SELECT bb.create_environment('dev');
SELECT bb.create_environment('staging');
SELECT bb.create_environment('prod', protected => true);
SELECT bb.add_instance('pg-main', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pgpw', 'dev');
SELECT bb.add_instance('my-main', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'mypw', 'staging', '{"tls": false}');
SELECT bb.add_instance('ch-main', 'clickhouse', '127.0.0.1', $CH_HTTP_PORT, 'default', NULL);
SELECT bb.create_project('shop', 'The shop');
SELECT bb.create_project('crm');
-- databases as sync_instance would register them
INSERT INTO bb.database (instance_id, name, environment_id, schema_snapshot, synced_at)
SELECT i.id, d, i.environment_id, '{"tables": [{"name": "t"}]}', now()
  FROM bb.instance i, unnest(ARRAY['shop_db', 'crm_db']) d WHERE i.name = 'pg-main';
SELECT bb.assign_database('pg-main/shop_db', 'shop', 'prod', '{"tenant": "acme"}');
SELECT bb.assign_database('pg-main/crm_db', 'crm');
SELECT bb.create_database_group('shop', 'tenants', '{"tenant": "acme"}', '^shop_');
EOF

before=$(ctl_psql -c "$CATALOG_SQL" 2>&1)
like "catalog has the credentials of pg-main" "password=$TARGET_PG_PASSWORD" "$before"

ok "pg_dump of $CONTROL_DB" "$PGBIN/pg_dump" -Fc -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -f "$DUMP" "$CONTROL_DB"
chmod 644 "$DUMP"

# A fresh cluster configured like the control one.
mkdir -p "$RESTORE_DIR" && chown postgres: "$RESTORE_DIR"
ok "initdb of a fresh cluster" runuser -u postgres -- "$PGBIN/initdb" -D "$RESTORE_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8
cat >>"$RESTORE_DIR/data/postgresql.conf" <<EOF
port = $RESTORE_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CONTROL_SOCK'
shared_preload_libraries = 'bytebase'
bytebase.database = '$CONTROL_DB'
max_worker_processes = 32
fsync = off
EOF
ok "fresh cluster starts with bytebase preloaded" runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RESTORE_DIR/data" \
	-l "$RESTORE_DIR/server.log" -w start
ok "createdb $CONTROL_DB" "$PGBIN/psql" -X -q -h "$CONTROL_SOCK" -p "$RESTORE_PORT" -U postgres -d postgres \
	-c "CREATE DATABASE \"$CONTROL_DB\""
ok "pg_restore without errors" "$PGBIN/pg_restore" --exit-on-error -h "$CONTROL_SOCK" -p "$RESTORE_PORT" -U postgres \
	-d "$CONTROL_DB" "$DUMP"

after=$(restore_psql -c "$CATALOG_SQL" 2>&1)
ok "restored catalog equals the original" diff <(printf '%s\n' "$before") <(printf '%s\n' "$after")

is "the restored catalog keeps working: a new environment comes after prod" "4" \
	"$(restore_psql -c "DO \$\$BEGIN PERFORM bb.create_environment('qa'); END\$\$" -c "SELECT position FROM bb.environment WHERE name = 'qa'")"
is "restored credentials stay hidden from bytebase_admin" "0" \
	"$(restore_psql -c "SET SESSION AUTHORIZATION bytebase_admin; SELECT count(*) FROM pg_user_mappings WHERE umoptions IS NOT NULL")"

# Leave the control database as we found it: no bytebase, no servers we made.
ok "control database cleaned up" ctl_psql -c "
  DROP EXTENSION bytebase CASCADE;
  DROP SERVER IF EXISTS \"bytebase_pg-main\" CASCADE;"
if [ "$had_fdw" = 0 ]; then ctl_psql -c "DROP EXTENSION IF EXISTS postgres_fdw CASCADE"; fi

done_testing
