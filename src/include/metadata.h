/*-------------------------------------------------------------------------
 *
 * metadata.h
 *	  The shardfdw catalog (tables in schema shardfdw, created by the
 *	  extension script) and its backend-local cache.
 *
 * The catalog is the single source of truth about nodes, distributed and
 * reference tables, co-location groups, shards and placements.  Readers use
 * the lookup functions below, which answer from a cache keyed by relation
 * OID; writers (the operations layer) change the catalog through the
 * sf_catalog_* functions, which send the relcache invalidations that make
 * every backend reload what changed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_METADATA_H
#define SHARDFDW_METADATA_H

#include "access/attnum.h"
#include "nodes/pg_list.h"

/* kinds of shardfdw.distributed_table.kind */
#define SF_KIND_HASH		'h'
#define SF_KIND_REFERENCE	'n'

/* kinds of shardfdw.shard_ddl.kind */
#define SF_DDL_CONSTRAINT	'c'		/* text of ALTER TABLE ... ADD CONSTRAINT */
#define SF_DDL_INDEX		'i'		/* text after "CREATE INDEX name ON tbl " */
#define SF_DDL_UNIQUE_INDEX 'u'		/* same, for a unique index */

/* GUC shardfdw.shard_count */
extern int	shardfdw_shard_count;

/* A worker node (a row of shardfdw.node) */
typedef struct SfNode
{
	int32		nodeid;
	char	   *servername;
	Oid			serverid;		/* InvalidOid if the SERVER was dropped */
	bool		active;
	bool		shouldhaveshards;
} SfNode;

/* A shard placement: one per shard of a hash table, one per node of a
 * reference table */
typedef struct SfShard
{
	int64		shardid;
	int			shardindex;		/* hash REMAINDER; 0 for reference tables */
	int			modulus;		/* hash MODULUS: the table's shardcount, or
								 * a divisor of it after splits; 1 for
								 * reference tables */
	Oid			shardrelid;		/* coordinator's foreign partition, or
								 * InvalidOid for reference tables */
	int32		nodeid;
	Oid			serverid;
} SfShard;

/* A distributed or reference table, as cached */
typedef struct SfTable
{
	Oid			relid;
	char		kind;			/* SF_KIND_HASH or SF_KIND_REFERENCE */
	AttrNumber	distattnum;		/* InvalidAttrNumber for reference tables */
	int32		colocationid;	/* 0 for reference tables */
	int			shardcount;		/* largest MODULUS of the hash partitions:
								 * the number of shard indexes */
	int			nplacements;
	SfShard    *placements;		/* ordered by shardindex, then nodeid */
	int			nshards;		/* number of distinct shards */
	int		   *index_owner;	/* after a split: per shard index, the
								 * shardindex of the shard holding it; NULL
								 * when every MODULUS is shardcount */
} SfTable;

/*
 * Shard indexes.  A hash value h belongs to shard index h % shardcount (the
 * co-location group's largest MODULUS).  Before any split, shard index i is
 * the shard with REMAINDER i.  Splitting the shard (MODULUS m, REMAINDER r)
 * replaces it by (2m, r) and (2m, r + m), so moduli may differ within a
 * group (each a divisor of shardcount); shard index i then belongs to the
 * shard with i % modulus == remainder, and several indexes may belong to one
 * shard: code that runs something once per shard must map indexes to their
 * owner (sf_shard_index_owner, sf_shard_index_owners) first.  Every table of
 * a co-location group has the same (modulus, remainder) layout.
 */

/* in metadata.c: lookups (answer from the cache) */
extern bool sf_extension_present(void);
extern const SfTable *sf_lookup_table(Oid relid);
extern bool sf_is_distributed_table(Oid relid);
extern bool sf_is_reference_table(Oid relid);
extern AttrNumber sf_distribution_attnum(Oid relid);
extern int32 sf_colocation_id(Oid relid);
extern List *sf_shard_list(Oid relid);
extern Oid	sf_shard_owner(int64 shardid);
extern List *sf_node_list(bool active_only);
extern SfNode *sf_node_by_server(Oid serverid);
extern int	sf_shard_index_owner(const SfTable *table, int shardindex);
extern List *sf_shard_index_owners(Oid relid, List *shardindexes);

/* in metadata.c: catalog relations and writes */
extern Oid	sf_catalog_relid(const char *name);
extern void sf_invalidate_table(Oid relid);
extern void sf_invalidate_nodes(void);

/* in metadata.c: size functions behind the views */
extern int64 sf_remote_relation_size(Oid serverid, List *qualified_names);

/*
 * Monitoring functions (sizes and replication lag in views) must not fail
 * the whole query when a worker is down.  sf_monitor_remote runs
 * fn(serverid, arg), which reads something from the server, and returns
 * true; if that fails with a connection error (SQLSTATE class 08) it
 * returns false after a WARNING naming the server and saying that what
 * (e.g. "shard sizes") is NULL in the result.  A server found unreachable
 * is not tried again in the same statement (one WARNING, one connection
 * timeout at most).  Other errors are raised.  sf_monitor_relation_size is
 * sf_remote_relation_size through it.
 */
typedef void (*SfRemoteProbe) (Oid serverid, void *arg);
extern bool sf_monitor_remote(Oid serverid, const char *what, SfRemoteProbe fn,
							  void *arg);
extern bool sf_monitor_relation_size(Oid serverid, List *qualified_names,
									 int64 *size);

#endif							/* SHARDFDW_METADATA_H */
