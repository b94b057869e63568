# test/lib/common.sh — sourced by every integration test (test/integration/*.sh).
# Output is TAP-like: one "ok N - desc" / "not ok N - desc" line per check;
# the script exits non-zero when any check failed.  test/run_all.sh counts them.
#
# Needs the environment written by `test/lib/engines.sh start` ($BB_RUN_DIR/env.sh):
#   PGBIN CONTROL_SOCK CONTROL_PORT CONTROL_DB
#   TARGET_PG_PORT TARGET_PG_USER TARGET_PG_PASSWORD
#   MYSQL_PORT MYSQL_USER MYSQL_PASSWORD   CH_HTTP_PORT CH_USER CH_PASSWORD
set -u
BB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BB_RUN_DIR:=/tmp/bb-test-${BB_PORT_BASE:-55000}}"
if [ -f "$BB_RUN_DIR/env.sh" ]; then . "$BB_RUN_DIR/env.sh"; fi
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
_bb_n=0
_bb_failed=0

# psql on the control database, quiet, unaligned, stops on the first error.
ctl_psql() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CONTROL_SOCK" -p "$CONTROL_PORT" \
		-U postgres -d "$CONTROL_DB" "$@"
}

# psql on the target PostgreSQL cluster as the superuser (database: $1).
target_psql() {
	local db=$1; shift
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TARGET_PG_PORT" \
		-U postgres -d "$db" "$@"
}

_bb_report() {  # status desc [detail]
	_bb_n=$((_bb_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_bb_n - $2"
	else
		_bb_failed=$((_bb_failed + 1))
		echo "not ok $_bb_n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
	return 0
}

# ok DESC CMD...: passes when CMD exits 0.
ok() {
	local desc=$1; shift
	local out
	out=$("$@" 2>&1); _bb_report $? "$desc" "$out"
}

# is DESC EXPECTED ACTUAL: passes when the strings are equal.
is() {
	if [ "$2" = "$3" ]; then _bb_report 0 "$1"
	else _bb_report 1 "$1" "expected: $2
got:      $3"; fi
}

# like DESC PATTERN ACTUAL: passes when ACTUAL matches the extended regex PATTERN.
like() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then _bb_report 0 "$1"
	else _bb_report 1 "$1" "pattern: $2
got:     $3"; fi
}

# sql_error DESC SQLSTATE_OR_REGEX SQL: passes when SQL fails on the control db and
# the error (shown with its SQLSTATE) matches.
sql_error() {
	local desc=$1 pat=$2 sql=$3 out rc
	out=$(printf '\\set VERBOSITY verbose\n%s\n' "$sql" | ctl_psql 2>&1); rc=$?
	if [ $rc -ne 0 ] && printf '%s' "$out" | grep -Eq -- "$pat"; then _bb_report 0 "$desc"
	else _bb_report 1 "$desc" "rc=$rc, wanted error matching: $pat
$out"; fi
}

# done_testing: prints the count and exits non-zero when a check failed.
done_testing() {
	echo "# $_bb_n checks, $_bb_failed failed"
	[ "$_bb_failed" -eq 0 ]
	exit $?
}
