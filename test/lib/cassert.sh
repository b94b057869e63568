#!/usr/bin/env bash
# test/lib/cassert.sh — the assert-enabled PostgreSQL of test/run_all.sh's assert leg: PostgreSQL 15
# built from Debian's source package of the installed server version (or, when the repositories no
# longer serve that one, the newest 15.x they do) with --enable-cassert (freed memory is clobbered,
# memory contexts are checked, Assert() is live), and the extension built against it with
# -DUSE_ASSERT_CHECKING in a copy of the checkout (the checkout's own build is left alone).  Same
# major version, same on-disk format: the Debian-built control cluster restarts on these binaries.
#
#   bash test/lib/cassert.sh packages          the Debian packages the build needs
#   bash test/lib/cassert.sh build DIR         source, configure, make, install into DIR/postgresql
#   bash test/lib/cassert.sh extension DIR     make ASSERTS=1 WERROR=1 in DIR/ext, install into DIR/postgresql
#   bash test/lib/cassert.sh env DIR           prints the environment of that installation (eval it)
#
# Settings: BB_CASSERT_JOBS (make -j; default: cores + 1), BB_CASSERT_REUSE=1 keeps an existing
# build of the same version (local runs; CI always builds afresh under /tmp).
# Needs root for the packages and the Debian source (fetched with a private apt state under DIR,
# so the machine's apt configuration is not changed).  Step output goes to DIR/*.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JOBS=${BB_CASSERT_JOBS:-$(($(nproc) + 1))}
# bison/flex regenerate a parser a Debian patch touches; dpkg-dev unpacks and patches the source;
# libssl-dev: libpq with SSL, as Debian's (the drivers' sslmode behaviour is tested).
BUILD_PACKAGES=(bison flex dpkg-dev gcc make libc6-dev perl tzdata libssl-dev)
# -Og: half the compile time of -O2 (the build is most of the leg's time) and still optimized.
CONFIGURE_OPTS=(--enable-cassert --with-openssl --without-readline --without-zlib --without-icu
                --with-system-tzdata=/usr/share/zoneinfo CFLAGS=-Og)
# What the tests use: the server (with its loadable parts), initdb, pg_ctl, psql, pg_isready,
# pg_basebackup, pg_config, plpgsql, pg_regress, postgres_fdw; headers and makefiles for PGXS.
BUILD_DIRS=(src/port src/common src/backend src/backend/utils/mb/conversion_procs src/backend/snowball
            src/backend/replication/libpqwalreceiver src/timezone src/interfaces/libpq src/bin/initdb
            src/bin/pg_ctl src/bin/psql src/bin/scripts src/bin/pg_basebackup src/bin/pg_config
            src/pl/plpgsql contrib/postgres_fdw)
INSTALL_DIRS=("${BUILD_DIRS[@]}" src/include src/makefiles config)

say() { echo "cassert: $*"; }
die() { echo "cassert: ERROR: $*" >&2; exit 1; }

# CPU seconds (user + system) of the finished children, from the output of `times` in FILE.
cpu_of() { awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } } END { printf "%d", t }' "$1"; }

# Runs a step with its output in LOG; on failure shows the end of the log and stops.  Says how
# long it took (wall clock, and CPU: on a busy machine the CPU figure is the comparable one).
step() {
	local what=$1 log=$2 t0=$SECONDS c0 f; shift 2
	f=$(mktemp)
	times >"$f"; c0=$(cpu_of "$f")
	if ! "$@" >>"$log" 2>&1; then
		echo "---- last lines of $log ----" >&2; tail -n 40 "$log" >&2
		die "$what failed (log: $log)"
	fi
	times >"$f"
	say "$what: $((SECONDS - t0)) s (CPU $(($(cpu_of "$f") - c0)) s)"
	rm -f "$f"
}

server_version() { dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || die "postgresql-15 is not installed"; }

# apt-get on a private state under DIR/apt that knows only deb-src entries.
apt_private() {
	local a=$DIR/apt
	apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$a/sources.list.d" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o APT::Sandbox::User=root "$@"
}

# A deb-src entry for each repository that serves some version of postgresql-15 (apt-cache madison
# says which), signed by Debian's archive key.
write_src_entries() {
	local uri dist suite comp keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	apt-cache madison postgresql-15 | awk -F' [|] ' '{print $3}' | sort -u |
		while read -r uri dist _; do
			suite=${dist%%/*}; comp=${dist#*/}
			[ "$comp" != "$dist" ] || comp=main
			printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n' "$uri" "$suite" "$comp"
			[ -f "$keyring" ] && printf 'Signed-By: %s\n' "$keyring"
			echo
		done
}

# Downloads and unpacks (with Debian's patches) the source of the installed version; when the
# repositories do not serve that one, the newest other 15.x they serve (a minor release of the same
# major version: same catalog and WAL format, so the control cluster's data directory still fits).
# Writes the version it unpacked to DIR/source.version.
fetch_source() {
	local ver=$1 v
	rm -rf "$DIR/apt" "$DIR/src"
	mkdir -p "$DIR/apt/sources.list.d" "$DIR/apt/lists/partial" "$DIR/src"
	write_src_entries >"$DIR/apt/sources.list.d/bb-cassert-src.sources"
	[ -s "$DIR/apt/sources.list.d/bb-cassert-src.sources" ] || die "no configured repository serves postgresql-15"
	apt_private update || return
	for v in "$ver" $(apt-cache madison postgresql-15 | awk -F' [|] ' -v v="$ver" '$2 != v && $2 ~ /^15\./ {print $2}' | sort -rV -u); do
		if (cd "$DIR/src" && apt_private source "postgresql-15=$v"); then
			echo "$v" >"$DIR/source.version"; return 0
		fi
		echo "cassert: the source of postgresql-15 $v could not be fetched"
		rm -rf "${DIR:?}/src"/*
	done
	return 1
}

do_configure() { (cd "$1" && ./configure --prefix="$PREFIX" "${CONFIGURE_OPTS[@]}"); }

# Every installation directory must lie under PREFIX: Debian's 50-per-version-dirs patch moves
# pkglibdir to /usr/lib/postgresql/15/lib unless the prefix names postgres (ours does), and
# installing there would overwrite the system's server modules.
check_install_dirs() {
	local dirs d
	dirs=$(make -s -C "$1/src" --no-print-directory \
		--eval='bb-dirs: ; @echo $(bindir) $(pkglibdir) $(pgxsdir) $(datadir) $(includedir_server) $(libdir)' bb-dirs) \
		&& [ -n "$dirs" ] || die "could not read the installation directories of $1"
	for d in $dirs; do
		case $d in "$PREFIX"/*) ;; *) die "installation directory $d is outside $PREFIX: not installing" ;; esac
	done
}

# The generated headers first (a parallel make in src/backend alone would race for them).
do_make() {
	local d
	make -C "$1/src/backend" generated-headers || return
	for d in "${BUILD_DIRS[@]}"; do make -j"$JOBS" -C "$1/$d" || return; done
	make -C "$1/src/test/regress" pg_regress  # not its test modules
}

do_install() {
	local d pgxs
	for d in "${INSTALL_DIRS[@]}"; do make -C "$1/$d" install || return; done
	make -C "$1/src" install-local || return  # Makefile.global and friends, for PGXS
	pgxs=$("$PREFIX/bin/pg_config" --pgxs) || return
	install -D -m 755 "$1/src/test/regress/pg_regress" "${pgxs%/makefiles/pgxs.mk}/test/regress/pg_regress"
}

cmd_build() {
	local ver srcver src t0=$SECONDS
	ver=$(server_version)
	if [ "${BB_CASSERT_REUSE:-0}" = 1 ] && [ "$(cat "$PREFIX/.built" 2>/dev/null)" = "$ver ${CONFIGURE_OPTS[*]}" ]; then
		say "reusing the build of $ver in $PREFIX (BB_CASSERT_REUSE=1)"; return 0
	fi
	bash "$ROOT/test/lib/engines.sh" install-packages "${BUILD_PACKAGES[@]}"
	# DIR's subdirectories are deleted and rebuilt: only in a directory this script made
	if [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$DIR/.bb-cassert-dir" ]; then
		die "$DIR exists and was not made by test/lib/cassert.sh: not deleting anything in it"
	fi
	mkdir -p "$DIR"; touch "$DIR/.bb-cassert-dir"
	rm -rf "$PREFIX" "$DIR"/*.log "$DIR/source.version"
	say "postgresql-15 $ver from Debian's source package, make -j$JOBS, logs in $DIR"
	step "source" "$DIR/source.log" fetch_source "$ver"
	srcver=$(cat "$DIR/source.version")
	[ "$srcver" = "$ver" ] || say "WARNING: the repositories do not serve the source of $ver; built $srcver (same major version, same on-disk format)"
	src=$(find "$DIR/src" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-15-*' | head -n 1)
	[ -n "$src" ] || die "apt-get source left no postgresql-15-* directory in $DIR/src"
	step "configure" "$DIR/configure.log" do_configure "$src"
	step "make" "$DIR/make.log" do_make "$src"
	check_install_dirs "$src"
	step "install" "$DIR/install.log" do_install "$src"
	"$PREFIX/bin/pg_config" --configure | grep -q -- --enable-cassert || die "the build has no --enable-cassert"
	echo "$ver ${CONFIGURE_OPTS[*]}" >"$PREFIX/.built"
	chmod 755 "$DIR"
	say "PostgreSQL $srcver with assertions built in $((SECONDS - t0)) s: $PREFIX"
}

# Builds the checkout's extension against the assert build in a copy of the sources.
cmd_extension() {
	local cfg=$PREFIX/bin/pg_config
	[ -x "$cfg" ] || die "$cfg missing: run 'cassert.sh build $DIR' first"
	rm -rf "$DIR/ext" "$DIR/extension.log"; mkdir -p "$DIR/ext"
	(cd "$ROOT" && tar -cf - --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude='*.d' --exclude='cli/bb' \
		Makefile bytebase.control src drivers cli sql expected) | tar -xf - -C "$DIR/ext"
	step "extension (make ASSERTS=1 WERROR=1)" "$DIR/extension.log" \
		make -C "$DIR/ext" -j"$JOBS" ASSERTS=1 WERROR=1 PG_CONFIG="$cfg"
	step "extension install" "$DIR/extension.log" make -C "$DIR/ext" install PG_CONFIG="$cfg"
}

cmd_env() {
	echo "export BB_PGBIN='$PREFIX/bin' PG_CONFIG='$PREFIX/bin/pg_config'"
}

case ${1:-} in
	packages) echo "${BUILD_PACKAGES[*]}" ;;
	build | extension | env)
		DIR=${2:?usage: cassert.sh $1 DIR}
		case $DIR in /*) ;; *) die "DIR must be an absolute path" ;; esac
		PREFIX=$DIR/postgresql
		"cmd_$1" ;;
	*) echo "usage: $0 packages | build DIR | extension DIR | env DIR" >&2; exit 2 ;;
esac
