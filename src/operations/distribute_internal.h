/*-------------------------------------------------------------------------
 *
 * distribute_internal.h
 *	  The steps of create_distributed_table (distribute.c), shared with
 *	  create_distributed_table_concurrently (concurrent.c), which runs them
 *	  in several transactions of a background job.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_DISTRIBUTE_INTERNAL_H
#define SHARDFDW_DISTRIBUTE_INTERNAL_H

#include "fmgr.h"
#include "nodes/pg_list.h"

/* What create_distributed_table decided during validation, and made */
typedef struct SfDistributePlan
{
	Oid			relid;
	char	   *nspname;
	char	   *relname;
	char	   *qualname;
	AttrNumber	distattnum;
	char	   *distcolumn;
	Oid			disttype;
	Oid			distcollation;
	int			shardcount;
	int32		colocationid;	/* 0: create a new group */
	Oid		   *serverids;		/* per shard index */
	int32	   *nodeids;		/* per shard index */
	int		   *moduli;			/* per shard index: MODULUS of the shard
								 * with that REMAINDER, 0 if the index is
								 * held by a split shard (see metadata.h),
								 * whose server, node, id and name the
								 * other arrays repeat at this index */
	List	   *fkeys;			/* of SfForeignKey: from pg_constraint */

	/* filled by sf_distribution_prepare */
	List	   *ddl;			/* of SfShardDdl */
	char	   *ownername;
	char	   *tmpname;		/* the new parent, before the swap */
	char	   *tmpqual;

	/* filled by sf_distribution_create_parent / _create_shards */
	Oid			newrelid;
	int64	   *shardids;		/* per shard index */
	char	  **shardnames;		/* per shard index, unqualified */
} SfDistributePlan;

/*
 * The steps, in the order create_distributed_table runs them.  All run in
 * the caller's transaction, connected to SPI.
 */
extern void sf_plan_distribution(SfDistributePlan *plan, Oid relid,
								 const char *column, const char *method,
								 const char *colocate_with,
								 bool shardcount_given, int shardcount);
extern void sf_distribution_prepare(SfDistributePlan *plan);
extern void sf_distribution_create_parent(SfDistributePlan *plan);
extern void sf_distribution_create_colocation(SfDistributePlan *plan);
extern void sf_distribution_create_shards(SfDistributePlan *plan);
extern void sf_distribution_copy_rows(SfDistributePlan *plan);
extern void sf_distribution_switch(SfDistributePlan *plan);

/* in concurrent.c: leftovers of an interrupted concurrent distribution */
extern bool sf_concurrent_drop_leftovers(Oid relid);

/* the shared entry point (blocking conversion) */
extern void sf_create_distributed_table(FunctionCallInfo fcinfo,
										bool concurrent_fallback);

#endif							/* SHARDFDW_DISTRIBUTE_INTERNAL_H */
