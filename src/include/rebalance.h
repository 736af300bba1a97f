/*-------------------------------------------------------------------------
 *
 * rebalance.h
 *	  Rebalancing shard groups across worker nodes: the plan
 *	  (src/operations/rebalance_plan.c) and its execution by move jobs,
 *	  in the foreground or as a background job (src/operations/rebalance.c).
 *
 * A *shard group* is the unit a move moves: the shards of one co-location
 * group that have the same shard index (hash REMAINDER), one per table of
 * the group.  It is identified by any of its shard ids; the plan names it
 * by its lowest one.
 *
 * The plan is computed from the catalog alone (plus the shard sizes the
 * workers report, for the by_disk_size strategy) and is deterministic: the
 * same catalog gives the same moves in the same order.  Every group moves
 * at most once in a plan, so the moves can run in any order (in parallel
 * across disjoint node pairs) and still end in the planned placement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_REBALANCE_H
#define SHARDFDW_REBALANCE_H

#include "nodes/pg_list.h"

/* rebalance strategies */
typedef enum SfRebalanceStrategy
{
	SF_REBALANCE_BY_SHARD_COUNT,	/* even out the number of groups */
	SF_REBALANCE_BY_DISK_SIZE	/* even out bytes (+ a base cost per group) */
} SfRebalanceStrategy;

/* What to plan (the arguments of get_rebalance_plan & co) */
typedef struct SfRebalanceOptions
{
	Oid			relid;			/* a table of the one co-location group to
								 * balance, or InvalidOid for every group */
	double		threshold;		/* < 0: the strategy's default */
	int			max_shard_moves;	/* at most this many group moves */
	int			nexcluded;		/* groups containing these shards stay */
	int64	   *excluded;
	bool		drain_only;		/* only move groups off draining nodes */
	SfRebalanceStrategy strategy;
	char	   *transfer_mode;	/* shard_transfer_mode given to each move */
	int			max_parallel_moves; /* shardfdw.max_parallel_moves */
} SfRebalanceOptions;

/* One shard of a planned group move */
typedef struct SfPlannedShard
{
	Oid			relid;			/* the distributed table */
	int64		shardid;
	int64		size;			/* bytes on the source (0 if not fetched) */
} SfPlannedShard;

/* One planned move of a shard group */
typedef struct SfPlannedMove
{
	int64		shardid;		/* lowest shard id of the group */
	int32		colocationid;
	int			shardindex;
	int32		sourcenode;
	int32		targetnode;
	char	   *sourcename;		/* SERVER names */
	char	   *targetname;
	int64		size;			/* bytes of the group (0 if not fetched) */
	List	   *shards;			/* of SfPlannedShard, by shard id */
} SfPlannedMove;

/* GUCs (rebalance.c) */
extern int	shardfdw_max_parallel_moves;
extern int	shardfdw_rebalance_base_cost;

/* in rebalance.c */
extern void sf_rebalance_init(void);

/* in rebalance_plan.c */
extern void sf_rebalance_parse_options(SfRebalanceOptions *options,
									   Oid relid, bool threshold_null,
									   float4 threshold, int max_shard_moves,
									   Datum excluded, bool excluded_null,
									   bool drain_only, const char *strategy,
									   const char *transfer_mode);
extern List *sf_rebalance_plan(const SfRebalanceOptions *options);
extern char *sf_rebalance_options_to_string(const SfRebalanceOptions *options);
extern void sf_rebalance_options_from_string(SfRebalanceOptions *options,
											 const char *text);
extern void sf_set_should_have_shards(const char *servername, bool value);

#endif							/* SHARDFDW_REBALANCE_H */
