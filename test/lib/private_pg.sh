#!/usr/bin/env bash
# test/lib/private_pg.sh DIR — a private copy of the Debian PostgreSQL 15 installation under DIR
# (binaries, share, server headers), so that several checkouts can `make install` and run their
# tests at once without overwriting each other's bytebase.so.  PostgreSQL is relocatable: the
# copy finds its share and lib directories relative to its bin directory.
# Prints the environment to use (source it):  eval "$(bash test/lib/private_pg.sh /tmp/pg-mine)"
set -euo pipefail
DIR=${1:?usage: private_pg.sh DIR}
if [ ! -x "$DIR/usr/lib/postgresql/15/bin/postgres" ]; then
	mkdir -p "$DIR/usr/lib/postgresql" "$DIR/usr/share/postgresql" "$DIR/usr/include"
	cp -a /usr/lib/postgresql/15 "$DIR/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$DIR/usr/share/postgresql/"
	ln -sfn /usr/include/postgresql "$DIR/usr/include/postgresql"
	chmod 755 "$DIR"
fi
BIN=$DIR/usr/lib/postgresql/15/bin
echo "export BB_PGBIN='$BIN' PG_CONFIG='$BIN/pg_config' PATH='$BIN':\"\$PATH\""
