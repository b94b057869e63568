#!/usr/bin/env bash
# 31_tenants_report — bb.schema_consistency on real fleets: 200 PostgreSQL tenant databases made
# from one template (one with another search_path, so its snapshot spells types and sequences
# qualified; one with rows, statistics and advanced sequences) and 4 MariaDB ones (one with an
# advanced AUTO_INCREMENT counter), synced with bb.sync_instance: an unchanged fleet reports
# nothing; after one PostgreSQL tenant gets a column and a type change and one MariaDB tenant a
# column, the report names exactly those; a dropped tenant (vanished) is no longer compared;
# bb.database_versions lists every live tenant with its snapshot.
. "$(dirname "$0")/../lib/common.sh"

N=200
PREFIX=bbt_ten_
my_sql() {
	mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B "$@"
}
pg_names() { for i in $(seq 1 "$N"); do printf '%s%03d\n' "$PREFIX" "$i"; done; }
cleanup() {
	{ pg_names; echo "${PREFIX}tpl"; } | sed 's/.*/DROP DATABASE IF EXISTS &;/' | target_psql postgres >/dev/null 2>&1
	my_sql -e "DROP DATABASE IF EXISTS ${PREFIX}my1; DROP DATABASE IF EXISTS ${PREFIX}my2;
	           DROP DATABASE IF EXISTS ${PREFIX}my3; DROP DATABASE IF EXISTS ${PREFIX}my4" >/dev/null 2>&1
}
# At exit: no extension and no instance servers left behind (postgres_fdw servers outlive
# DROP EXTENSION bytebase), so the tests that follow start from a clean control database.
leave_control_clean() {
	ctl_psql -c "DO \$\$ DECLARE s name; BEGIN
	  FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
	    EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
	  DROP EXTENSION IF EXISTS bytebase CASCADE;" >/dev/null 2>&1
}
trap 'cleanup; leave_control_clean' EXIT
report() { ctl_psql -c "SELECT * FROM bb.schema_consistency('saas', 'tenants')"; }
sync_all() { ctl_psql -c "SELECT bb.sync_instance('pg-t') > 0 AND bb.sync_instance('my-t') > 0"; }

cleanup
ok "fresh extension" ctl_psql -c "
  DO \$\$ DECLARE s name; BEGIN
    FOR s IN SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'bytebase\_%' LOOP
      EXECUTE format('DROP SERVER %I CASCADE', s); END LOOP; END \$\$;
  DROP EXTENSION IF EXISTS bytebase CASCADE;
  CREATE EXTENSION bytebase;"

# ---- the fleets
ok "template database" target_psql postgres -c "CREATE DATABASE ${PREFIX}tpl"
ok "template schema" target_psql "${PREFIX}tpl" <<'EOF'
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL UNIQUE, status mood DEFAULT 'ok',
                       created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts,
                     total numeric(12,2) DEFAULT 0, note text);
CREATE INDEX orders_account_idx ON orders (account_id, id);
CREATE INDEX ON orders (lower(note));
EOF
create_tenants() { pg_names | sed "s/.*/CREATE DATABASE & TEMPLATE ${PREFIX}tpl STRATEGY FILE_COPY;/" | target_psql postgres; }
ok "$N tenant databases" create_tenants
# what is not schema must not count: a tenant whose sessions have another search_path (its
# snapshot spells public.mood and 'public.accounts_id_seq'), a tenant with rows and statistics
ok "tenant 042 has another search_path" target_psql postgres -c "ALTER DATABASE ${PREFIX}042 SET search_path = pg_catalog"
ok "tenant 005 has rows and statistics" target_psql "${PREFIX}005" -c "
  INSERT INTO accounts (email) SELECT 'u' || g || '@x' FROM generate_series(1, 500) g;
  INSERT INTO orders (account_id, total) SELECT id, id FROM accounts; ANALYZE"
ok "MariaDB tenants" my_sql -e "
  CREATE DATABASE ${PREFIX}my1; CREATE DATABASE ${PREFIX}my2; CREATE DATABASE ${PREFIX}my3; CREATE DATABASE ${PREFIX}my4;
  CREATE TABLE ${PREFIX}my1.accounts (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL DEFAULT 'x',
    kind ENUM('A','b'), created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP, UNIQUE KEY uq_email (email), KEY k_kind (kind, email(10)));
  CREATE TABLE ${PREFIX}my2.accounts LIKE ${PREFIX}my1.accounts;
  CREATE TABLE ${PREFIX}my3.accounts LIKE ${PREFIX}my1.accounts;
  CREATE TABLE ${PREFIX}my4.accounts LIKE ${PREFIX}my1.accounts;
  INSERT INTO ${PREFIX}my2.accounts (email) VALUES ('a'), ('b'), ('c');"

ok "instances registered" ctl_psql -v pw="$TARGET_PG_PASSWORD" -v mpw="$MYSQL_PASSWORD" <<EOF
SELECT bb.create_environment('prod');
SELECT bb.add_instance('pg-t', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', :'pw', 'prod');
SELECT bb.add_instance('my-t', 'mysql', '127.0.0.1', $MYSQL_PORT, '$MYSQL_USER', :'mpw', 'prod');
SELECT bb.create_project('saas');
EOF
ok "instances synced" sync_all
ok "tenants assigned to project saas" ctl_psql -c "
  SELECT count(bb.assign_database(i.name || '/' || d.name, 'saas', 'prod', '{\"tier\": \"tenant\"}'))
    FROM bb.database d JOIN bb.instance i ON i.id = d.instance_id WHERE d.name LIKE '${PREFIX}%' AND d.name <> '${PREFIX}tpl';
  SELECT bb.create_database_group('saas', 'tenants', '{\"tier\": \"tenant\"}', '^${PREFIX}');"
is "the group holds every tenant" "$((N + 4))" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.database_group_members('saas', 'tenants')")"
is "every tenant has a snapshot" "$((N + 4))" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.database_versions WHERE project = 'saas' AND snapshot_at IS NOT NULL")"
like "tenant 042's snapshot spells its types qualified" "public\.mood.*public\.accounts_id_seq|public\.accounts_id_seq.*public\.mood" \
	"$(ctl_psql -c "SELECT schema_snapshot::text FROM bb.database WHERE name = '${PREFIX}042'")"
like "MariaDB tenant my2's table has an advanced AUTO_INCREMENT" "^4$" \
	"$(my_sql -e "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${PREFIX}my2'")"

# ---- an unchanged fleet: nothing to report
start=$(date +%s%N)
out=$(report)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "unchanged fleet of $N PostgreSQL and 4 MariaDB tenants: no row" "" "$out"
echo "# report over $((N + 4)) tenants: ${ms} ms"

# ---- one tenant of each engine changed: exactly those objects
ok "tenant 137 gets a column and a type change" target_psql "${PREFIX}137" -c "
  ALTER TABLE orders ADD COLUMN discount numeric(5,2); ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200)"
ok "MariaDB tenant my3 gets a column" my_sql -e "ALTER TABLE ${PREFIX}my3.accounts ADD COLUMN note TEXT"
ok "instances synced again" sync_all
is "the report names exactly the changed objects" \
"my-t/${PREFIX}my3|mysql|column|accounts.note|extra|absent|present|3|4
pg-t/${PREFIX}137|postgres|column|public.accounts.email|type differs|text|character varying(200)|$((N - 1))|$N
pg-t/${PREFIX}137|postgres|column|public.orders.discount|extra|absent|present|$((N - 1))|$N" "$(report)"

# ---- a tenant dropped on the server: vanished, no longer compared or listed
ok "tenant 200 dropped" target_psql postgres -c "DROP DATABASE ${PREFIX}200"
ok "instances synced after the drop" sync_all
is "the vanished tenant is not compared" \
"my-t/${PREFIX}my3|mysql|column|accounts.note|extra|absent|present|3|4
pg-t/${PREFIX}137|postgres|column|public.accounts.email|type differs|text|character varying(200)|$((N - 2))|$((N - 1))
pg-t/${PREFIX}137|postgres|column|public.orders.discount|extra|absent|present|$((N - 2))|$((N - 1))" "$(report)"
is "bb.database_versions lists the live tenants" "$((N + 3))" \
	"$(ctl_psql -c "SELECT count(*) FROM bb.database_versions WHERE project = 'saas'")"

done_testing
