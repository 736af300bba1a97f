/*-------------------------------------------------------------------------
 *
 * rebalance.c
 *	  Running a rebalance plan: rebalance_table_shards, shardfdw_drain_node,
 *	  and the background rebalance (rebalance_start, rebalance_status,
 *	  rebalance_wait, rebalance_stop).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "rebalance.h"
#include "utils/guc.h"

/* GUCs */
int			shardfdw_max_parallel_moves = 4;
int			shardfdw_rebalance_base_cost = 100 * 1024;

/*
 * GUCs of the rebalancer.  Called once from _PG_init.
 */
void
sf_rebalance_init(void)
{
	DefineCustomIntVariable("shardfdw.max_parallel_moves",
							"Most shard group moves a rebalance runs at the same time.",
							"A node takes part in at most one move at a time, and each move needs a free background worker slot (max_worker_processes).",
							&shardfdw_max_parallel_moves,
							4, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("shardfdw.rebalance_base_cost",
							"Cost of a shard group for the by_disk_size rebalance strategy, added to its size.",
							"Keeps many empty or tiny shard groups from piling up on one node.",
							&shardfdw_rebalance_base_cost,
							100 * 1024, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
}
