# PGXS build of the bytebase extension (src/ core, drivers/ engine drivers)
EXTENSION   = bytebase
EXT_VERSION = 0.4
MODULE_big  = bytebase

SRCS = $(sort $(wildcard src/*.c src/*/*.c drivers/*.c))
OBJS = $(SRCS:.c=.o)

# The install script of a version is assembled from its fragments in sql/<version>/; a version
# that has landed on main is frozen (sql/0.1, sql/0.2 and sql/0.3 are).  The upgrade script X--Y is its head
# sql/upgrade/X--Y.sql (drops X's functions and views, migrates the tables) followed by the
# re-runnable fragments of Y: everything but 00_prelude (fresh installs only) and 10_catalog
# (the tables, which the head migrates).  test/integration/02_upgrade.sh proves that an update
# from every older version equals a fresh install.
FRAGMENTS_0.1 = $(sort $(wildcard sql/0.1/*.sql))
FRAGMENTS_0.2 = $(sort $(wildcard sql/0.2/*.sql))
CODE_0.2      = $(filter-out sql/0.2/00_% sql/0.2/10_%,$(FRAGMENTS_0.2))
# From 0.3 on a version adds to the one before: its fragments in sql/<version>/ are written to
# run both after the older install script (fresh install) and as the update from it.
FRAGMENTS_0.3 = $(sort $(wildcard sql/0.3/*.sql))
FRAGMENTS_0.4 = $(sort $(wildcard sql/0.4/*.sql))
DATA_built = bytebase--0.1.sql bytebase--0.2.sql bytebase--0.1--0.2.sql bytebase--0.3.sql bytebase--0.2--0.3.sql \
             bytebase--0.4.sql bytebase--0.3--0.4.sql
DATA       = $(wildcard sql/bytebase--*--*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9][0-9]_*.sql)))
REGRESS_OPTS   = --inputdir=. --use-existing

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/worker -I$(srcdir)/src/gitops -I$(srcdir)/drivers \
              -I$(shell $(PG_CONFIG) --includedir) -I/usr/include/mariadb
PG_CPPFLAGS += -DBB_EXT_VERSION='"$(EXT_VERSION)"'
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-clobbered $(if $(WERROR),-Werror) $(if $(ASSERTS),-DUSE_ASSERT_CHECKING) \
              -MMD -MP
SHLIB_LINK  = -lpq -lmariadb -lcurl -lcrypto

# set before pgxs.mk, whose clean rule tests it with ifdef when it is read
EXTRA_CLEAN = $(OBJS:.o=.d) bytebase-git-fetch cli/bb

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# objects are rebuilt when a header they include changes
-include $(OBJS:.o=.d)
# the launcher compares the catalog's version with EXT_VERSION
src/worker/launcher.o: Makefile

# Two programs go to the bin directory of pg_config, next to postgres:
#   bytebase-git-fetch  the gitops worker's libgit2 helper (src/gitops/helper/): libgit2 is linked
#                       into this process only, never into bytebase.so or a server process
#   bb                  the CLI for CI/CD (cli/), libpq only
# CLI_BINDIR=/usr/local/bin puts bb elsewhere (the helper must stay next to postgres).
HELPER      = bytebase-git-fetch
HELPER_SRCS = $(sort $(wildcard src/gitops/helper/*.c)) src/gitops/wire.c
CLI_SRCS    = $(sort $(wildcard cli/*.c))
CLI_BINDIR ?= $(bindir)
PROG_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(if $(WERROR),-Werror)

all: $(HELPER) cli/bb

$(HELPER): $(HELPER_SRCS) $(wildcard src/gitops/helper/*.h) src/gitops/wire.h
	$(CC) $(PROG_CFLAGS) -Isrc/gitops -o $@ $(HELPER_SRCS) -lgit2

cli/bb: $(CLI_SRCS) $(wildcard cli/*.h)
	$(CC) $(PROG_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -DBB_VERSION='"$(EXT_VERSION)"' \
		-o $@ $(CLI_SRCS) -L$(shell $(PG_CONFIG) --libdir) -lpq

install: install-programs
.PHONY: install-programs uninstall-programs
install-programs: $(HELPER) cli/bb
	$(MKDIR_P) '$(DESTDIR)$(bindir)' '$(DESTDIR)$(CLI_BINDIR)'
	$(INSTALL_PROGRAM) $(HELPER) '$(DESTDIR)$(bindir)/$(HELPER)'
	$(INSTALL_PROGRAM) cli/bb '$(DESTDIR)$(CLI_BINDIR)/bb'
uninstall: uninstall-programs
uninstall-programs:
	rm -f '$(DESTDIR)$(bindir)/$(HELPER)' '$(DESTDIR)$(CLI_BINDIR)/bb'

# regression tests run in the control database itself (bytebase.database)
CONTRIB_TESTDB = $(or $(BB_REGRESS_DB),bbtest)

bytebase--0.1.sql: $(FRAGMENTS_0.1)
	cat $^ > $@
bytebase--0.2.sql: $(FRAGMENTS_0.2)
	cat $^ > $@
bytebase--0.1--0.2.sql: sql/upgrade/0.1--0.2.sql $(CODE_0.2)
	cat $^ > $@
bytebase--0.3.sql: $(FRAGMENTS_0.2) $(FRAGMENTS_0.3)
	cat $^ > $@
bytebase--0.2--0.3.sql: sql/upgrade/0.2--0.3.sql $(FRAGMENTS_0.3)
	cat $^ > $@
bytebase--0.4.sql: $(FRAGMENTS_0.2) $(FRAGMENTS_0.3) $(FRAGMENTS_0.4)
	cat $^ > $@
bytebase--0.3--0.4.sql: sql/upgrade/0.3--0.4.sql $(FRAGMENTS_0.4)
	cat $^ > $@

.PHONY: check-all
check-all:
	bash test/run_all.sh
