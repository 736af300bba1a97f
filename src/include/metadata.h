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
	int			shardcount;		/* MODULUS of the hash partitions */
	int			nplacements;
	SfShard    *placements;		/* ordered by shardindex, then nodeid */
} SfTable;

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

/* in metadata.c: catalog relations and writes */
extern Oid	sf_catalog_relid(const char *name);
extern void sf_invalidate_table(Oid relid);
extern void sf_invalidate_nodes(void);

/* in metadata.c: size functions behind the views */
extern int64 sf_remote_relation_size(Oid serverid, List *qualified_names);

#endif							/* SHARDFDW_METADATA_H */
