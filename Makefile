# shardfdw: PGXS build.  pg_config is taken from PATH (override with PG_CONFIG=).

MODULE_big = shardfdw
EXTENSION = shardfdw
DATA = shardfdw--1.0.sql
PGFILEDESC = "shardfdw - sharding over foreign data wrappers"

# Every .c file under src/ (one folder per layer) is part of the module.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

PG_CPPFLAGS = -I$(srcdir)/src/include -I$(shell $(PG_CONFIG) --includedir)
PG_CFLAGS = -Wall -Werror -Wmissing-prototypes -Wno-declaration-after-statement
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lpq


PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# pgindent comes with PostgreSQL's source tree (src/tools/pgindent), not with
# Debian's packages.  typedefs.list holds shardfdw's own typedefs; append
# PostgreSQL's src/tools/pgindent/typedefs.list to it when running pgindent.
# PGXS tracks no header dependencies here: rebuild everything when a header
# changes (a stale object could silently plan differently).
$(OBJS): $(wildcard src/include/*.h src/*/*.h)

.PHONY: pgindent
pgindent:
	pgindent --typedefs=typedefs.list src/*.c src/*/*.c src/include/*.h
