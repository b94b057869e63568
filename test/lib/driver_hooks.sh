# test/lib/driver_hooks.sh — sourced by the driver tests: declares the driver's test hooks
# (drivers/selftest.c) as functions in schema public of a database of the control cluster.
#   install_driver_hooks [DB]    bbt_exec(...), bbt_detached(dbname), bbt_engines()
#   drop_driver_hooks [DB]
install_driver_hooks() {
	local db=${1:-$CONTROL_DB}
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$db" <<'SQL'
SET client_min_messages = warning;
DROP FUNCTION IF EXISTS public.bbt_exec(text, text, text, boolean, boolean, regrole);
DROP FUNCTION IF EXISTS public.bbt_detached(text);
DROP FUNCTION IF EXISTS public.bbt_engines();
CREATE FUNCTION public.bbt_engines()
  RETURNS TABLE (name text, dialect text, transactional_ddl boolean, resumable boolean, has_driver boolean)
  LANGUAGE c IMMUTABLE AS '$libdir/bytebase', 'bb_engines';
CREATE FUNCTION public.bbt_exec(instance text, database text, sql text, single boolean DEFAULT true,
                                keep_rows boolean DEFAULT true, acting_role regrole DEFAULT NULL)
  RETURNS text LANGUAGE c AS '$libdir/bytebase', 'bb_test_exec';
CREATE FUNCTION public.bbt_detached(dbname text) RETURNS text
  LANGUAGE c STRICT AS '$libdir/bytebase', 'bb_test_detached';
REVOKE ALL ON FUNCTION public.bbt_exec(text, text, text, boolean, boolean, regrole),
                       public.bbt_detached(text) FROM PUBLIC;
SQL
}
drop_driver_hooks() {
	local db=${1:-$CONTROL_DB}
	"$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$db" \
		-c "DROP FUNCTION IF EXISTS public.bbt_exec(text, text, text, boolean, boolean, regrole)" \
		-c "DROP FUNCTION IF EXISTS public.bbt_detached(text)" -c "DROP FUNCTION IF EXISTS public.bbt_engines()" \
		>/dev/null 2>&1
}

# detached_jobs DB: (re)creates the job table of bbt_detached in database DB of the control cluster.
# A job: engine, host, port, username, password, database, options (json text), mode
# (exec | exec_single | count | snapshot | version), sql (snapshot: the database to read);
# bbt_detached(DB) fills result.
detached_jobs() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$1" \
		-c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.bbt_detached_job" \
		-c "CREATE TABLE public.bbt_detached_job (id serial PRIMARY KEY, engine text NOT NULL, host text NOT NULL,
		      port int NOT NULL, username text, password text, database text, options text, mode text NOT NULL,
		      sql text, result text)"
}

# peak_rss: runs the SQL on stdin in one fresh control-database session (errors ignored) and
# prints that backend's peak resident memory in kB (VmHWM).
peak_rss() {
	{ cat; echo "SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') from 'VmHWM:\s*(\d+) kB');"; } |
		"$PGBIN/psql" -X -q -A -t -h "$CONTROL_SOCK" -p "$CONTROL_PORT" -U postgres -d "$CONTROL_DB" 2>/dev/null | tail -n 1
}
