# PGXS build of the bytebase extension (src/ core, drivers/ engine drivers)
EXTENSION   = bytebase
EXT_VERSION = 0.3
MODULE_big  = bytebase

SRCS = $(sort $(wildcard src/*.c src/*/*.c drivers/*.c))
OBJS = $(SRCS:.c=.o)

# The install script of a version is assembled from its fragments in sql/<version>/; a version
# that has landed on main is frozen (sql/0.1 and sql/0.2 are).  The upgrade script X--Y is its head
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
DATA_built = bytebase--0.1.sql bytebase--0.2.sql bytebase--0.1--0.2.sql bytebase--0.3.sql bytebase--0.2--0.3.sql
DATA       = $(wildcard sql/bytebase--*--*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9][0-9]_*.sql)))
REGRESS_OPTS   = --inputdir=. --use-existing

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/worker -I$(srcdir)/drivers -I$(shell $(PG_CONFIG) --includedir) \
              -I/usr/include/mariadb
PG_CPPFLAGS += -DBB_EXT_VERSION='"$(EXT_VERSION)"'
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-clobbered $(if $(WERROR),-Werror) $(if $(ASSERTS),-DUSE_ASSERT_CHECKING) \
              -MMD -MP
SHLIB_LINK  = -lpq -lmariadb -lcurl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# objects are rebuilt when a header they include changes
-include $(OBJS:.o=.d)
# the launcher compares the catalog's version with EXT_VERSION
src/worker/launcher.o: Makefile
EXTRA_CLEAN = $(OBJS:.o=.d)

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

.PHONY: check-all
check-all:
	bash test/run_all.sh
