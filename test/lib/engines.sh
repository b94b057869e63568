#!/usr/bin/env bash
# test/lib/engines.sh — starts/stops the engines the tests run against, on loopback, in temp dirs.
#
#   bash test/lib/engines.sh start [ENGINE...]   (ENGINE: control target mariadb clickhouse; default all)
#   bash test/lib/engines.sh stop  [ENGINE...]   safe when some are not running
#   bash test/lib/engines.sh status              exit 0 when all four run
#   bash test/lib/engines.sh restart-control     restarts the control cluster on $BB_PGBIN's server (reloads bytebase.so)
#   bash test/lib/engines.sh packages            prints the Debian packages the project needs
#   bash test/lib/engines.sh install-packages [PKG...]  installs the missing ones (root only; default: those)
#
# Settings (environment):  BB_PORT_BASE (55000)  BB_RUN_DIR (/tmp/bb-test-$BB_PORT_BASE)
#   BB_CONTROL_DB (bbtest)  BB_WAIT_SECONDS (60)
# Ports: control +0, target PostgreSQL +1, MariaDB +2, ClickHouse http +3 / tcp +4 / interserver +5.
# `start` writes $BB_RUN_DIR/env.sh, which test/lib/common.sh sources.
set -euo pipefail

BB_PORT_BASE=${BB_PORT_BASE:-55000}
BB_RUN_DIR=${BB_RUN_DIR:-/tmp/bb-test-$BB_PORT_BASE}
BB_CONTROL_DB=${BB_CONTROL_DB:-bbtest}
BB_WAIT_SECONDS=${BB_WAIT_SECONDS:-60}
# BB_PGBIN / PG_CONFIG select another PostgreSQL 15 installation (test/lib/private_pg.sh, the assert build)
PGBIN=${BB_PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-pg_config}
RUN=$BB_RUN_DIR
SOCK=$RUN/sock

CONTROL_PORT=$BB_PORT_BASE
TARGET_PG_PORT=$((BB_PORT_BASE + 1))
MYSQL_PORT=$((BB_PORT_BASE + 2))
CH_HTTP_PORT=$((BB_PORT_BASE + 3))
CH_TCP_PORT=$((BB_PORT_BASE + 4))
CH_INTERSERVER_PORT=$((BB_PORT_BASE + 5))

# The Debian packages needed to build, test and demo the project (postgresql-server-dev-15 first:
# it may upgrade the server binaries, so it must be in place before any cluster starts).
BB_PACKAGES=(postgresql-server-dev-15 postgresql-15 postgresql-contrib libmariadb-dev
             libcurl4-openssl-dev mariadb-server mariadb-client clickhouse-server clang libclang-rt-14-dev
             make gcc curl libssl-dev openssl python3 python3-cryptography libgit2-dev git)

log() { echo "engines: $*" >&2; }
die() { echo "engines: ERROR: $*" >&2; exit 1; }

# Runs a command as a server user (servers refuse root); as-is when we are not root.
as_user() {
	local user=$1; shift
	if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Prints the last lines of a log file so a failed start explains itself.
log_tail() {
	[ -f "$1" ] || return 0
	echo "---- last lines of $1 ----" >&2
	tail -n 30 "$1" >&2
	echo "----" >&2
}

# Waits until CMD succeeds, at most BB_WAIT_SECONDS; prints the log tail on timeout.
wait_for() {
	local what=$1 logfile=$2; shift 2
	local i
	for ((i = 0; i < BB_WAIT_SECONDS * 5; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		# a server that already exited will not become ready: say so at once
		if [ -n "${WAIT_PIDFILE:-}" ] && [ -f "$WAIT_PIDFILE" ] && ! kill -0 "$(cat "$WAIT_PIDFILE")" 2>/dev/null; then
			log_tail "$logfile"
			die "$what exited during start-up"
		fi
		sleep 0.2
	done
	log_tail "$logfile"
	die "$what did not become ready within ${BB_WAIT_SECONDS}s"
}

# Installs the missing ones of the given packages (default: BB_PACKAGES) without letting their
# own services start on default ports.
install_packages() {
	local missing=() p
	[ $# -gt 0 ] || set -- "${BB_PACKAGES[@]}"
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	log "installing ${missing[*]}"
	local policy=/usr/sbin/policy-rc.d had_policy=1
	if [ ! -e "$policy" ]; then
		had_policy=0
		printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"
	fi
	export DEBIAN_FRONTEND=noninteractive
	local rc=0
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
	[ $had_policy = 1 ] || rm -f "$policy"
	[ $rc = 0 ] || die "apt-get install failed"
	stop_debian_services
}

# Stops the services the Debian packages may have started (we run our own copies).
stop_debian_services() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl stop postgresql mariadb clickhouse-server >/dev/null 2>&1 || true
		systemctl disable postgresql mariadb clickhouse-server >/dev/null 2>&1 || true
	fi
	if command -v pg_lsclusters >/dev/null; then
		pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r v c; do
			pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 || true
		done
	fi
}

# Makes a directory owned by a server user (the run dir itself stays world-traversable).
own_dir() {
	local user=$1 dir=$2
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then chown -R "$user:" "$dir"; fi
	chmod 700 "$dir"
}

# The passwords of this run dir: generated once, reused by every later start.
load_passwords() {
	mkdir -p "$RUN"; chmod 755 "$RUN"
	touch "$RUN/.bb-run-dir"  # marks a directory test/run_all.sh and demo.sh may delete
	mkdir -p "$SOCK"; chmod 1777 "$SOCK"
	if [ ! -f "$RUN/passwords" ]; then
		local r; r=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
		umask 077
		printf 'TARGET_PG_PASSWORD=pgpw%s\nMYSQL_PASSWORD=mypw%s\nCH_PASSWORD=chpw%s\n' "$r" "$r" "$r" >"$RUN/passwords"
		umask 022
	fi
	. "$RUN/passwords"
}

write_env() {
	cat >"$RUN/env.sh" <<EOF
# written by test/lib/engines.sh start — engines of $RUN
export BB_RUN_DIR='$RUN' BB_PORT_BASE='$BB_PORT_BASE'
export PGBIN='$PGBIN' PG_CONFIG='$PG_CONFIG'
export CONTROL_SOCK='$SOCK' CONTROL_PORT='$CONTROL_PORT' CONTROL_DB='$BB_CONTROL_DB'
# target PostgreSQL: TARGET_PG_USER needs its password over TCP; postgres is trusted on 127.0.0.1
export TARGET_PG_PORT='$TARGET_PG_PORT' TARGET_PG_USER='bbuser' TARGET_PG_PASSWORD='$TARGET_PG_PASSWORD'
export MYSQL_PORT='$MYSQL_PORT' MYSQL_USER='bbuser' MYSQL_PASSWORD='$MYSQL_PASSWORD' MYSQL_SOCK='$SOCK/mysql.sock'
export CH_HTTP_PORT='$CH_HTTP_PORT' CH_TCP_PORT='$CH_TCP_PORT' CH_USER='bbuser' CH_PASSWORD='$CH_PASSWORD'
EOF
	chmod 644 "$RUN/env.sh"
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() { [ -f "$1/postmaster.pid" ] && as_user postgres "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

# Creates a cluster unless it exists. $1 data dir, $2.. extra initdb args.
pg_init() {
	local data=$1; shift
	[ -f "$data/PG_VERSION" ] && return 0
	own_dir postgres "$(dirname "$data")"
	rm -rf "$data"
	as_user postgres "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 "$@" \
		>"$(dirname "$data")/initdb.log" 2>&1 || { log_tail "$(dirname "$data")/initdb.log"; die "initdb $data failed"; }
}

# Starts a cluster if it is not running and waits until it accepts connections.
pg_start() {
	local name=$1 data=$2 port=$3
	local logfile; logfile=$(dirname "$data")/server.log
	if pg_running "$data"; then return 0; fi
	as_user postgres "$PGBIN/pg_ctl" -D "$data" -l "$logfile" -w -t "$BB_WAIT_SECONDS" start >/dev/null 2>&1 \
		|| { log_tail "$logfile"; die "$name PostgreSQL did not start (port $port)"; }
	wait_for "$name PostgreSQL" "$logfile" "$PGBIN/pg_isready" -q -h "$SOCK" -p "$port" -U postgres -d postgres
}

pg_stop() {
	local data=$1
	if pg_running "$data"; then
		as_user postgres "$PGBIN/pg_ctl" -D "$data" -m fast -w -t "$BB_WAIT_SECONDS" stop >/dev/null 2>&1 \
			|| as_user postgres "$PGBIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
	fi
}

# psql as postgres over the socket dir of this run.
pg_sql() { local port=$1 db=$2; shift 2; "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d "$db" "$@"; }

start_control() {
	local data=$RUN/control/data
	local lib; lib=$("$PG_CONFIG" --pkglibdir)/bytebase.so
	[ -f "$lib" ] || die "$lib is not installed: run 'make && make install' first"
	if [ ! -f "$data/PG_VERSION" ]; then
		pg_init "$data" --auth=trust
		cat >>"$data/postgresql.conf" <<EOF
# --- test/lib/engines.sh: control cluster
port = $CONTROL_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'bytebase'
bytebase.database = '$BB_CONTROL_DB'
max_worker_processes = 32
max_connections = 100
fsync = off
log_line_prefix = '%m [%p] %q%a '
log_min_messages = info
EOF
	fi
	pg_start control "$data" "$CONTROL_PORT"
	if [ -z "$(pg_sql "$CONTROL_PORT" postgres -c "SELECT 1 FROM pg_database WHERE datname = '$BB_CONTROL_DB'")" ]; then
		pg_sql "$CONTROL_PORT" postgres -c "CREATE DATABASE \"$BB_CONTROL_DB\""
	fi
}

start_target() {
	local data=$RUN/target/data
	if [ ! -f "$data/PG_VERSION" ]; then
		pg_init "$data" --auth-local=trust --auth-host=scram-sha-256
		cat >>"$data/postgresql.conf" <<EOF
# --- test/lib/engines.sh: target cluster
port = $TARGET_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
max_connections = 200
fsync = off
password_encryption = 'scram-sha-256'
EOF
		# postgres is trusted on loopback (tests' superuser access); every other role needs its password.
		{ echo "local all all trust"
		  echo "host all postgres 127.0.0.1/32 trust"
		  echo "host all all 127.0.0.1/32 scram-sha-256"; } >"$data/pg_hba.conf"
	fi
	pg_start target "$data" "$TARGET_PG_PORT"
	pg_sql "$TARGET_PG_PORT" postgres -v pw="$TARGET_PG_PASSWORD" <<'EOF'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bbuser') AS missing \gset
\if :missing
CREATE ROLE bbuser LOGIN SUPERUSER;
\endif
ALTER ROLE bbuser PASSWORD :'pw';
EOF
}

# ---------------------------------------------------------------- MariaDB

MY_DIR=$RUN/mariadb
MY_SOCK=$SOCK/mysql.sock
MY_PID=$MY_DIR/mariadb.pid

# Starts CMD in the background in its own session as USER, writing its pid (the server's own,
# since every step execs) to PIDFILE.
spawn_as() {
	local user=$1 pidfile=$2 logfile=$3; shift 3
	local drop=()
	if [ "$(id -u)" = 0 ]; then drop=(setpriv "--reuid=$user" "--regid=$user" --init-groups --); fi
	setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "${drop[@]}" "$@" </dev/null >>"$logfile" 2>&1 &
}

# True when the pid in FILE is alive and is the expected program (a stale pid may be reused).
pid_alive() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}
my_running() { pid_alive "$MY_PID" mariadbd; }
my_root() { mariadb --no-defaults -uroot --socket="$MY_SOCK" "$@"; }

start_mariadb() {
	if [ ! -d "$MY_DIR/data/mysql" ]; then
		own_dir mysql "$MY_DIR"
		rm -rf "$MY_DIR/data"
		mariadb-install-db --no-defaults --user=mysql --datadir="$MY_DIR/data" --skip-test-db \
			--auth-root-authentication-method=socket >"$MY_DIR/install.log" 2>&1 \
			|| { log_tail "$MY_DIR/install.log"; die "mariadb-install-db failed"; }
		if [ "$(id -u)" = 0 ]; then chown -R mysql: "$MY_DIR"; fi
	fi
	if ! my_running; then
		mkdir -p "$MY_DIR/tmp"
		if [ "$(id -u)" = 0 ]; then chown mysql: "$MY_DIR/tmp"; fi
		spawn_as mysql "$MY_DIR/spawn.pid" "$MY_DIR/stdout.log" /usr/sbin/mariadbd --no-defaults --datadir="$MY_DIR/data" \
			--port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$MY_SOCK" --pid-file="$MY_PID" \
			--log-error="$MY_DIR/error.log" --tmpdir="$MY_DIR/tmp" --skip-name-resolve \
			--innodb-buffer-pool-size=64M --innodb-log-file-size=16M --skip-log-bin \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
		WAIT_PIDFILE=$MY_DIR/spawn.pid wait_for MariaDB "$MY_DIR/error.log" my_root -e 'SELECT 1'
	fi
	my_root <<EOF
CREATE USER IF NOT EXISTS 'bbuser'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS 'bbuser'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
ALTER USER 'bbuser'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
ALTER USER 'bbuser'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'bbuser'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'bbuser'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
EOF
	wait_for "MariaDB bbuser over TCP" "$MY_DIR/error.log" \
		mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -ubbuser -p"$MYSQL_PASSWORD" -e 'SELECT 1'
}

stop_mariadb() {
	my_running || return 0
	my_root -e 'SHUTDOWN' >/dev/null 2>&1 || kill "$(cat "$MY_PID")" 2>/dev/null || true
	local i
	for ((i = 0; i < BB_WAIT_SECONDS * 5; i++)); do my_running || return 0; sleep 0.2; done
	kill -9 "$(cat "$MY_PID")" 2>/dev/null || true
}

# ---------------------------------------------------------------- ClickHouse

CH_DIR=$RUN/clickhouse
CH_PID=$CH_DIR/clickhouse.pid

ch_running() { pid_alive "$CH_PID" clickhouse-server; }
ch_query() {
	curl -sS -f --max-time 5 -u "bbuser:$CH_PASSWORD" "http://127.0.0.1:$CH_HTTP_PORT/" --data-binary "$1"
}
ch_ready() { [ "$(ch_query 'SELECT 1')" = 1 ]; }

write_clickhouse_config() {
	local sha; sha=$(printf '%s' "$CH_PASSWORD" | sha256sum | cut -d' ' -f1)
	cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- written by test/lib/engines.sh -->
<yandex>
    <logger>
        <level>information</level>
        <log>$CH_DIR/log/server.log</log>
        <errorlog>$CH_DIR/log/error.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <interserver_http_port>$CH_INTERSERVER_PORT</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
EOF
	cat >"$CH_DIR/users.xml" <<EOF
<?xml version="1.0"?>
<!-- written by test/lib/engines.sh: bbuser needs its password; default has none but only on loopback -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <bbuser>
            <password_sha256_hex>$sha</password_sha256_hex>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </bbuser>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

start_clickhouse() {
	if ch_running; then ch_ready && return 0; fi
	own_dir clickhouse "$CH_DIR"
	mkdir -p "$CH_DIR"/{log,data,tmp,user_files,format_schemas}
	write_clickhouse_config
	if [ "$(id -u)" = 0 ]; then chown -R clickhouse: "$CH_DIR"; fi
	# clickhouse-server writes no pid file in the foreground: record the pid of the exec'd process.
	(cd "$CH_DIR" && spawn_as clickhouse "$CH_PID" "$CH_DIR/log/stdout.log" \
		/usr/sbin/clickhouse-server --config-file="$CH_DIR/config.xml")
	local i
	for ((i = 0; i < BB_WAIT_SECONDS * 5; i++)); do
		ch_ready 2>/dev/null && return 0
		if [ -f "$CH_PID" ] && ! kill -0 "$(cat "$CH_PID")" 2>/dev/null; then break; fi
		sleep 0.2
	done
	log_tail "$CH_DIR/log/error.log"; log_tail "$CH_DIR/log/stdout.log"
	die "ClickHouse did not answer SELECT 1 on http port $CH_HTTP_PORT (exited, or not within ${BB_WAIT_SECONDS}s)"
}

stop_clickhouse() {
	ch_running || return 0
	local pid; pid=$(cat "$CH_PID")
	kill "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < BB_WAIT_SECONDS * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$CH_PID"
}

# ---------------------------------------------------------------- commands

engines_of() { if [ $# -eq 0 ]; then echo control target mariadb clickhouse; else echo "$@"; fi; }

# Starts one engine; retries when its port was taken, which happens when a client connection
# of another test briefly holds that number as its ephemeral local port (32768-60999 here).
start_engine() {
	local e=$1 dir attempt rc
	case $e in
		control | target) dir=$RUN/$e ;;
		mariadb) dir=$MY_DIR ;;
		clickhouse) dir=$CH_DIR ;;
		*) die "unknown engine '$e' (control target mariadb clickhouse)" ;;
	esac
	for attempt in 1 2 3 4; do
		set +e
		( set -e; "start_$e" )
		rc=$?
		set -e
		[ $rc = 0 ] && return 0
		{ tail -q -n 20 "$dir"/*.log "$dir"/log/*.log 2>/dev/null || true; } | grep -q "Address already in use" || exit $rc
		[ $attempt = 4 ] && break
		log "$e: its port is in use (maybe briefly, by a client connection); retrying in 3s"
		sleep 3
	done
	die "$e: its port stayed in use"
}

cmd_start() {
	install_packages
	load_passwords
	local e
	for e in $(engines_of "$@"); do
		start_engine "$e"
		log "$e ready"
	done
	write_env
	log "env: $RUN/env.sh"
}

cmd_stop() {
	[ -d "$RUN" ] || return 0
	local e
	for e in $(engines_of "$@"); do
		case $e in
			control) pg_stop "$RUN/control/data" ;;
			target) pg_stop "$RUN/target/data" ;;
			mariadb) stop_mariadb ;;
			clickhouse) stop_clickhouse ;;
			*) die "unknown engine '$e'" ;;
		esac
	done
}

cmd_status() {
	local all=0
	if [ -d "$RUN" ]; then
		[ -f "$RUN/passwords" ] && . "$RUN/passwords"
	fi
	if pg_running "$RUN/control/data"; then echo "control: running (port $CONTROL_PORT)"; else echo "control: stopped"; all=3; fi
	if pg_running "$RUN/target/data"; then echo "target: running (port $TARGET_PG_PORT)"; else echo "target: stopped"; all=3; fi
	if my_running; then echo "mariadb: running (port $MYSQL_PORT)"; else echo "mariadb: stopped"; all=3; fi
	if ch_running; then echo "clickhouse: running (http port $CH_HTTP_PORT)"; else echo "clickhouse: stopped"; all=3; fi
	return $all
}

# Stop and start (not pg_ctl restart, which would reuse the running server's binary): the control
# cluster comes back on $PGBIN's server, e.g. the assert build's or the normal one again.
cmd_restart_control() {
	local data=$RUN/control/data
	pg_running "$data" || die "the control cluster is not running (start it first)"
	pg_stop "$data"
	pg_running "$data" && die "the control cluster did not stop"
	pg_start control "$data" "$CONTROL_PORT"
	load_passwords
	write_env
}

case ${1:-} in
	start) shift; cmd_start "$@" ;;
	stop) shift; cmd_stop "$@" ;;
	status) cmd_status ;;
	restart-control) cmd_restart_control ;;
	packages) echo "${BB_PACKAGES[*]}" ;;
	install-packages) shift; install_packages "$@" ;;
	*) echo "usage: $0 start|stop [control target mariadb clickhouse] | status | restart-control | packages | install-packages" >&2; exit 2 ;;
esac
