# PGXS build of the bytebase extension (src/ core, drivers/ engine drivers)
EXTENSION   = bytebase
EXT_VERSION = 0.1
MODULE_big  = bytebase

SRCS = $(sort $(wildcard src/*.c src/*/*.c drivers/*.c))
OBJS = $(SRCS:.c=.o)

# The install script of a version is assembled from its fragments in sql/<version>/.
# A version that has landed on main is frozen: later changes ship as
# sql/bytebase--X--Y.sql upgrade scripts.
DATA_built = bytebase--$(EXT_VERSION).sql
DATA       = $(wildcard sql/bytebase--*--*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9][0-9]_*.sql)))
REGRESS_OPTS   = --inputdir=. --use-existing

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/drivers -I$(shell $(PG_CONFIG) --includedir) \
              -I/usr/include/mariadb
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-clobbered $(if $(WERROR),-Werror) $(if $(ASSERTS),-DUSE_ASSERT_CHECKING) \
              -MMD -MP
SHLIB_LINK  = -lpq -lmariadb -lcurl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# objects are rebuilt when a header they include changes
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)

# regression tests run in the control database itself (bytebase.database)
CONTRIB_TESTDB = $(or $(BB_REGRESS_DB),bbtest)

bytebase--$(EXT_VERSION).sql: $(sort $(wildcard sql/$(EXT_VERSION)/*.sql))
	cat $^ > $@

.PHONY: check-all
check-all:
	bash test/run_all.sh
