/*-------------------------------------------------------------------------
 *
 * shardfdw.c
 *	  Module entry point: checks how the library is loaded and lets every
 *	  layer register its GUCs, hooks and callbacks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "jobs.h"
#include "rebalance.h"
#include "shard_transfer.h"
#include "shardfdw.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The coordinator loads shardfdw through shared_preload_libraries: later
 * layers install planner and utility hooks and a background worker, which
 * must exist in every backend from its start.  Workers need nothing.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("shardfdw must be loaded via shared_preload_libraries"),
				 errhint("Add shardfdw to the shared_preload_libraries setting of the coordinator's postgresql.conf and restart it.  Workers do not need the extension.")));

	sf_connection_init();
	sf_fdw_init();
	sf_metadata_init();
	sf_commands_init();
	sf_planner_init();
	sf_transaction_init();
	/* issue 6: jobs, moves, rebalancing, concurrent distribution, splits */
	sf_jobs_init();
	sf_move_init();
	sf_rebalance_init();
	sf_concurrent_init();
	sf_split_init();

	MarkGUCPrefixReserved("shardfdw");
}
