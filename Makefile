# shardfdw: PGXS build.  pg_config is taken from PATH (override with PG_CONFIG=).

MODULE_big = shardfdw
EXTENSION = shardfdw
DATA = shardfdw--1.0.sql
PGFILEDESC = "shardfdw - sharding over foreign data wrappers"

OBJS = \
	src/shardfdw.o \
	src/connection/connection.o \
	src/connection/copy.o \
	src/fdw/fdw.o \
	src/fdw/option.o \
	src/fdw/deparse.o \
	src/fdw/scan.o \
	src/fdw/modify.o \
	src/metadata/metadata.o \
	src/operations/node.o \
	src/operations/distribute.o \
	src/operations/reference.o

PG_CPPFLAGS = -I$(srcdir)/src/include -I$(shell $(PG_CONFIG) --includedir)
PG_CFLAGS = -Wall -Werror -Wmissing-prototypes -Wno-declaration-after-statement
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lpq


PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: pgindent
pgindent:
	pgindent --typedefs=typedefs.list src/*.c src/*/*.c src/include/*.h
