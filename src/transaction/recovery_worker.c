/*-------------------------------------------------------------------------
 *
 * recovery_worker.c
 *	  Background worker that resolves in-doubt prepared transactions.
 *
 * A launcher, registered at startup when shardfdw is in
 * shared_preload_libraries, wakes every shardfdw.recovery_interval and, for
 * every database that accepts connections, starts a short-lived dynamic
 * background worker connected to it; that worker runs
 * recover_prepared_transactions() if the extension exists there and exits.
 * The launcher waits for each one before starting the next, so at most one
 * recovery runs at a time.  Recovery connects to the workers with the user
 * mapping of the bootstrap superuser (or the PUBLIC mapping).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "sf_transaction.h"
#include "shard_transfer.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void sf_recovery_launcher_main(Datum arg);
PGDLLEXPORT void sf_recovery_database_main(Datum arg);

/*
 * Register the launcher (from _PG_init, during shared_preload_libraries).
 */
void
sf_register_recovery_worker(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "shardfdw");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "sf_recovery_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "shardfdw recovery launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "shardfdw recovery launcher");
	RegisterBackgroundWorker(&worker);
}

/* The OIDs of the databases that accept connections */
static List *
database_list(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext outer = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!db->datallowconn || db->datconnlimit == -2)
			continue;
		old = MemoryContextSwitchTo(outer);
		result = lappend_oid(result, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/*
 * Launcher main loop.
 */
void
sf_recovery_launcher_main(Datum arg)
{
	MemoryContext cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw recovery launcher",
								ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		wait_ms = shardfdw_recovery_interval > 0 ?
			shardfdw_recovery_interval : 60000;
		ListCell   *lc;
		List	   *dbs;
		MemoryContext old;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (shardfdw_recovery_interval <= 0)
			continue;

		old = MemoryContextSwitchTo(cxt);
		dbs = database_list();
		foreach(lc, dbs)
		{
			BackgroundWorker worker;
			BackgroundWorkerHandle *handle;
			pid_t		pid;

			memset(&worker, 0, sizeof(worker));
			worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
				BGWORKER_BACKEND_DATABASE_CONNECTION;
			worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
			worker.bgw_restart_time = BGW_NEVER_RESTART;
			snprintf(worker.bgw_library_name, BGW_MAXLEN, "shardfdw");
			snprintf(worker.bgw_function_name, BGW_MAXLEN, "sf_recovery_database_main");
			snprintf(worker.bgw_name, BGW_MAXLEN, "shardfdw recovery");
			snprintf(worker.bgw_type, BGW_MAXLEN, "shardfdw recovery");
			worker.bgw_main_arg = ObjectIdGetDatum(lfirst_oid(lc));
			worker.bgw_notify_pid = MyProcPid;
			if (!RegisterDynamicBackgroundWorker(&worker, &handle))
				break;			/* no slot free: try again next time */
			if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
				(void) WaitForBackgroundWorkerShutdown(handle);
			pfree(handle);
			if (ShutdownRequestPending)
				proc_exit(0);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
}

/*
 * One database: run the recovery if the extension is installed.
 */
void
sf_recovery_database_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (OidIsValid(get_extension_oid("shardfdw", true)))
	{
		int			n;

		pgstat_report_activity(STATE_RUNNING, "recover_prepared_transactions()");
		n = sf_recover_prepared_transactions_internal();
		if (n > 0)
			ereport(LOG,
					(errmsg("shardfdw recovery resolved %d prepared transactions", n)));
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	sf_cleanup_background();	/* what failed shard moves left behind */
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
