#!/usr/bin/env bash
# Hot standby: the launcher of a standby of the control cluster stays idle (no rollout runs
# there); after promotion it serves the control database and rollouts run.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

BIN=${BB_PGCTL_BIN:-$PGBIN}
SB=$BB_RUN_DIR/wk_standby
SB_PORT=$((CONTROL_PORT + 9))
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sb_psql() { "$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$SB_PORT" -U postgres -d "$CONTROL_DB" "$@"; }
cleanup() { as_pg "$BIN/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$SB"; }
trap cleanup EXIT

fresh_extension
recreate_target_dbs wk_sb1
ctl_psql >/dev/null <<SQL
SELECT bb.create_environment('dev');
SELECT bb.add_instance('pg', 'postgres', '127.0.0.1', $TARGET_PG_PORT, '$TARGET_PG_USER', '$TARGET_PG_PASSWORD', 'dev');
SELECT bb.sync_instance('pg');
SELECT bb.create_project('sb');
SELECT bb.assign_database('pg/wk_sb1', 'sb', 'dev');
SQL
review_off

cleanup
mkdir -p "$SB" && chmod 777 "$SB"
ok "standby made with pg_basebackup" as_pg "$BIN/pg_basebackup" -D "$SB/data" -R -X stream -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres
printf "port = %s\nlisten_addresses = ''\n" "$SB_PORT" | as_pg tee -a "$SB/data/postgresql.conf" >/dev/null
ok "standby starts" as_pg "$BIN/pg_ctl" -D "$SB/data" -l "$SB/log" -w start
sleep 3
is "the standby is in recovery" "t" "$(sb_psql -c "SELECT pg_is_in_recovery()")"
is "its launcher runs" "1" "$(sb_psql -c "SELECT count(*) FROM bb.workers() WHERE kind = 'launcher' AND pid IS NOT NULL")"
is "and stays idle (serves nothing while in recovery)" "0" "$(grep -c 'bytebase launcher serving' "$SB/log" || true)"
is "no executor runs on the standby" "0" "$(sb_psql -c "SELECT count(*) FROM bb.workers() WHERE kind = 'executor'")"

ok "promotion" as_pg "$BIN/pg_ctl" -D "$SB/data" -w promote
ok "the launcher starts serving after promotion" bash -c "for i in \$(seq 1 100); do grep -q 'bytebase launcher serving' '$SB/log' && exit 0; sleep 0.1; done; exit 1"
issue=$(sb_psql -c "SELECT bb.apply('sb', 'CREATE TABLE after_promotion (id int)')")
is "a rollout runs on the promoted server" "done" "$(sb_psql -c "SELECT bb.wait($issue, '60 s')")"
is "the target changed" "after_promotion" "$(target_psql wk_sb1 -c "SELECT to_regclass('after_promotion')")"
done_testing
