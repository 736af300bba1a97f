/*-------------------------------------------------------------------------
 *
 * rebalance.c
 *	  Running a rebalance plan: rebalance_table_shards, shardfdw_drain_node,
 *	  and the background rebalance (rebalance_start, rebalance_status,
 *	  rebalance_wait, rebalance_stop).
 *
 * A plan (rebalance_plan.c) is a list of shard group moves.  Each move runs
 * as a move job (shard_transfer.h) that commits on its own, so a long
 * rebalance never holds a lock for longer than one cutover and the moves
 * already done stay done when a later one fails.  The scheduler starts
 * moves in plan order, as many at a time as shardfdw.max_parallel_moves
 * allows, skipping a move while its source or target node takes part in a
 * running move (a node copies one shard group at a time: moves in parallel
 * use disjoint node pairs), and starting it as soon as both are free.  When
 * no background worker slot is free, it waits for a running move to end.
 * The first failure stops the rebalance: no new move starts, the running
 * ones finish, and the error is raised.
 *
 * The scheduler runs either in the caller's backend (rebalance_table_shards,
 * shardfdw_drain_node: a NOTICE per move, cancelling the statement cancels
 * the running moves) or in a background job of kind "rebalance"
 * (rebalance_start), launched detached so that it survives the session
 * that started it, which records each move in shardfdw.rebalance_move for
 * rebalance_status().  One rebalance runs at a time per database: it holds
 * the session advisory lock SF_REBALANCE_LOCK_KEY.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "jobs.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "pgstat.h"
#include "rebalance.h"
#include "shard_transfer.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(shardfdw_rebalance_table_shards);
PG_FUNCTION_INFO_V1(shardfdw_drain_node);
PG_FUNCTION_INFO_V1(shardfdw_citus_drain_node);
PG_FUNCTION_INFO_V1(shardfdw_rebalance_start);
PG_FUNCTION_INFO_V1(shardfdw_rebalance_wait);
PG_FUNCTION_INFO_V1(shardfdw_rebalance_stop);

/* advisory lock (bigint form) held by the running rebalance */
#define SF_REBALANCE_LOCK_KEY ((int64) (UINT64CONST(0x5352) << 48))

/* GUCs */
int			shardfdw_max_parallel_moves = 4;
int			shardfdw_rebalance_base_cost = 100 * 1024;

/* A move the scheduler started */
typedef struct RunningMove
{
	SfPlannedMove *move;
	int			moveno;			/* 1-based position in the plan */
	SfJob	   *job;
	int64		jobid;
	TimestampTz started;
	bool		finishing;		/* past its cutover, cleaning up */
} RunningMove;

/* The scheduler's state */
typedef struct RebalanceRun
{
	MemoryContext cxt;			/* lives as long as the run */
	const char *mode;			/* shard_transfer_mode */
	int			max_parallel;
	int64		jobid;			/* the rebalance job, 0 in the foreground */
	int			ntotal;
	int			ndone;
	List	   *pending;		/* of RunningMove, not started yet */
	List	   *running;		/* of RunningMove */
	TimestampTz started;
} RebalanceRun;

static void sf_rebalance_job(int64 jobid, const char *args);

/*
 * GUCs of the rebalancer and the "rebalance" job kind.  Called once from
 * _PG_init.
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
	sf_job_register_kind("rebalance", sf_rebalance_job);
}

/* ---------------------------------------------------------------- helpers */

/*
 * Run fn(arg), catching an ERROR: returns NULL, or the error (copied into
 * cxt).  Inside a transaction fn runs in a subtransaction; outside (in a
 * job) in a transaction of its own, committed on success.  A query cancel
 * is not caught.
 */
static ErrorData *
try_call(void (*fn) (void *), void *arg, MemoryContext cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		own_xact = !IsTransactionState();
	ErrorData  *edata = NULL;

	if (own_xact)
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	else
		BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		fn(arg);
		if (own_xact)
		{
			PopActiveSnapshot();
			CommitTransactionCommand();
		}
		else
		{
			ReleaseCurrentSubTransaction();
			CurrentResourceOwner = oldowner;
		}
		MemoryContextSwitchTo(oldcxt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (own_xact)
			AbortCurrentTransaction();
		else
		{
			RollbackAndReleaseCurrentSubTransaction();
			CurrentResourceOwner = oldowner;
		}
		MemoryContextSwitchTo(oldcxt);
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

/*
 * Run a statement on shardfdw.rebalance_move through SPI, as the bootstrap
 * superuser (the catalog is writable by its owner only; a job runs as whoever
 * started it), in the current transaction.
 */
static void
exec_as_owner(const char *sql)
{
	Oid			saved_userid;
	int			saved_sec;

	GetUserIdAndSecContext(&saved_userid, &saved_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	sf_spi_exec(sql);
	SPI_finish();
	SetUserIdAndSecContext(saved_userid, saved_sec);
}

/* The same in a transaction of its own (in a job, between transactions) */
static void
exec_in_own_xact(const char *sql)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	exec_as_owner(sql);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* "table, table" of a planned move */
static char *
move_tables(SfPlannedMove *move)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, move->shards)
	{
		SfPlannedShard *s = lfirst(lc);
		char	   *name = get_rel_name(s->relid);

		appendStringInfo(&buf, "%s%s", lc == list_head(move->shards) ? "" : ", ",
						 name ? name : "?");
	}
	return buf.data;
}

static double
seconds_since(TimestampTz t)
{
	return (double) (GetCurrentTimestamp() - t) / 1000000.0;
}

/* ---------------------------------------------------------------- scheduler */

typedef struct LaunchArgs
{
	RebalanceRun *run;
	SfPlannedMove *move;
	SfJob	   *job;
} LaunchArgs;

static void
launch_fn(void *arg)
{
	LaunchArgs *la = arg;
	MemoryContext old = MemoryContextSwitchTo(la->run->cxt);

	la->job = sf_move_launch(la->move->shardid, la->move->targetname,
							 la->run->mode, la->run->jobid);
	MemoryContextSwitchTo(old);
}

static void
wait_fn(void *arg)
{
	(void) sf_job_wait((SfJob *) arg, true);
}

/* In a job: record a move's state in shardfdw.rebalance_move */
static void
record_move(RebalanceRun *run, int moveno, const char *state, int64 movejobid,
			const char *error)
{
	if (run->jobid == 0)
		return;
	exec_in_own_xact(psprintf("UPDATE shardfdw.rebalance_move SET state = %s%s%s%s%s"
							  " WHERE job_id = " INT64_FORMAT " AND move_no = %d",
							  quote_literal_cstr(state),
							  movejobid != 0 ? psprintf(", move_job_id = " INT64_FORMAT ", started_at = pg_catalog.clock_timestamp()", movejobid) : "",
							  strcmp(state, "running") != 0 ? ", finished_at = pg_catalog.clock_timestamp()" : "",
							  error != NULL ? ", error = " : "",
							  error != NULL ? quote_literal_cstr(error) : "",
							  run->jobid, moveno));
}

static void
report_progress(RebalanceRun *run)
{
	if (run->jobid == 0)
		return;
	sf_job_report("moving", psprintf("%d of %d moves done, %d running",
									 run->ndone, run->ntotal, list_length(run->running)));
}

/*
 * Mark the running moves that are past their cutover (phase "cleaning up"
 * of the move job: dropping the subscription, slots, publication and the
 * source tables).  Their data is where it goes, so the next move of their
 * nodes may start.
 */
static void
refresh_finishing(RebalanceRun *run)
{
	StringInfoData ids;
	ListCell   *lc;
	bool		own = !IsTransactionState();
	uint64		i;

	initStringInfo(&ids);
	foreach(lc, run->running)
	{
		RunningMove *r = lfirst(lc);

		if (!r->finishing)
			appendStringInfo(&ids, "%s" INT64_FORMAT, ids.len > 0 ? "," : "", r->jobid);
	}
	if (ids.len == 0)
		return;
	if (own)
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT jobid FROM shardfdw.job WHERE jobid IN (%s)"
							   " AND phase = 'cleaning up'", ids.data), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		int64		jobid = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 1));

		foreach(lc, run->running)
		{
			RunningMove *r = lfirst(lc);

			if (r->jobid == jobid)
				r->finishing = true;
		}
	}
	SPI_finish();
	if (own)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
}

/* Does a running move (not yet cleaning up) use the node? */
static bool
node_busy(RebalanceRun *run, int32 nodeid)
{
	ListCell   *lc;

	foreach(lc, run->running)
	{
		RunningMove *r = lfirst(lc);

		if (!r->finishing &&
			(r->move->sourcenode == nodeid || r->move->targetnode == nodeid))
			return true;
	}
	return false;
}

/*
 * After an error or a cancel of the rebalance, with a usable transaction:
 * ask the running moves to stop and wait for them (each leaves its group
 * either moved or where it was), and mark the moves not done as cancelled.
 */
static void
stop_running(RebalanceRun *run)
{
	ListCell   *lc;

	foreach(lc, run->running)
	{
		RunningMove *r = lfirst(lc);

		(void) sf_job_cancel(r->jobid);
	}
	if (run->jobid != 0)
	{
		/* in a job: the transaction was started for the cancels */
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	foreach(lc, run->running)
	{
		RunningMove *r = lfirst(lc);
		bool		ok = sf_job_wait(r->job, false);

		if (ok)
			run->ndone++;
		record_move(run, r->moveno, ok ? "done" : "cancelled", 0, NULL);
	}
	run->running = NIL;
	foreach(lc, run->pending)
		record_move(run, ((RunningMove *) lfirst(lc))->moveno, "cancelled", 0, NULL);
	run->pending = NIL;
}

/*
 * Run the moves of a plan (see the file header).  Raises the first move's
 * error once the running moves are over.
 */
static void
run_moves(RebalanceRun *run, List *moves)
{
	ErrorData  *failure = NULL;
	bool		slots_exhausted = false;
	int			moveno = 0;
	ListCell   *lc;

	foreach(lc, moves)
	{
		RunningMove *r = MemoryContextAllocZero(run->cxt, sizeof(RunningMove));

		r->move = lfirst(lc);
		r->moveno = ++moveno;
		run->pending = lappend(run->pending, r);
	}
	run->ntotal = list_length(moves);
	run->started = GetCurrentTimestamp();

	while (run->pending != NIL || run->running != NIL)
	{
		bool		changed = false;

		CHECK_FOR_INTERRUPTS();

		/* reap finished moves */
		foreach(lc, run->running)
		{
			RunningMove *r = lfirst(lc);
			ErrorData  *edata;

			if (!sf_job_finished(r->job))
				continue;
			edata = try_call(wait_fn, r->job, run->cxt);
			run->running = foreach_delete_current(run->running, lc);
			slots_exhausted = false;
			changed = true;
			if (edata == NULL)
			{
				run->ndone++;
				record_move(run, r->moveno, "done", 0, NULL);
				if (run->jobid == 0)
					ereport(NOTICE,
							(errmsg("moved shard group of shard " INT64_FORMAT " from \"%s\" to \"%s\" in %.1f s (%d of %d)",
									r->move->shardid, r->move->sourcename,
									r->move->targetname, seconds_since(r->started),
									run->ndone, run->ntotal)));
			}
			else
			{
				record_move(run, r->moveno, "failed", 0, edata->message);
				if (failure == NULL)
					failure = edata;
			}
		}

		/* start what can start */
		if (failure == NULL && !slots_exhausted && run->pending != NIL)
		{
			refresh_finishing(run);
			foreach(lc, run->pending)
			{
				RunningMove *r = lfirst(lc);
				LaunchArgs	la;
				ErrorData  *edata;

				if (list_length(run->running) >= run->max_parallel)
					break;
				if (node_busy(run, r->move->sourcenode) ||
					node_busy(run, r->move->targetnode))
					continue;
				la.run = run;
				la.move = r->move;
				la.job = NULL;
				edata = try_call(launch_fn, &la, run->cxt);
				if (edata != NULL)
				{
					/*
					 * Most likely no background worker slot is free: wait
					 * for a running move to end.  With none running, the
					 * error is the rebalance's.
					 */
					if (run->running != NIL)
					{
						slots_exhausted = true;
						break;
					}
					record_move(run, r->moveno, "failed", 0, edata->message);
					run->pending = foreach_delete_current(run->pending, lc);
					failure = edata;
					break;
				}
				r->job = la.job;
				r->jobid = sf_job_id(la.job);
				r->started = GetCurrentTimestamp();
				run->running = lappend(run->running, r);
				run->pending = foreach_delete_current(run->pending, lc);
				changed = true;
				record_move(run, r->moveno, "running", r->jobid, NULL);
				if (run->jobid == 0)
					ereport(NOTICE,
							(errmsg("moving shard group of shard " INT64_FORMAT " (%s) from \"%s\" to \"%s\"",
									r->move->shardid, move_tables(r->move),
									r->move->sourcename, r->move->targetname)));
			}
		}
		if (failure != NULL && run->running == NIL)
			break;
		if (changed)
			report_progress(run);
		if (!changed)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 50, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}

	if (failure != NULL)
		ReThrowError(failure);	/* the caller marks the others cancelled */
}

/* ---------------------------------------------------------------- locking */

/*
 * Take the rebalance lock (session level), or error out naming the running
 * rebalance.  With wait, retry for a few seconds first (a job whose
 * launcher still holds the lock).
 */
static void
take_rebalance_lock(bool wait)
{
	int			tries = wait ? 200 : 1;

	for (;;)
	{
		bool		got;

		got = DatumGetBool(DirectFunctionCall1(pg_try_advisory_lock_int8,
											   Int64GetDatum(SF_REBALANCE_LOCK_KEY)));
		if (got)
			return;
		if (--tries <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 50, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("another rebalance is running in this database"),
			 errhint("See rebalance_status(); wait for it with rebalance_wait() or stop it with rebalance_stop().")));
}

static void
release_rebalance_lock(void)
{
	(void) DirectFunctionCall1(pg_advisory_unlock_int8,
							   Int64GetDatum(SF_REBALANCE_LOCK_KEY));
}

/* ---------------------------------------------------------------- foreground */

/*
 * Plan and run the moves in this backend (rebalance_table_shards,
 * shardfdw_drain_node).
 */
static void
rebalance_foreground(const SfRebalanceOptions *options, const char *funcname)
{
	RebalanceRun run;
	List	   *moves;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	sf_job_refuse_transaction_block(funcname);
	sf_require_nodes("rebalance");
	take_rebalance_lock(false);
	memset(&run, 0, sizeof(run));
	run.cxt = cxt;
	run.mode = options->transfer_mode;
	run.max_parallel = options->max_parallel_moves;

	/*
	 * In a subtransaction, so that after an error or a cancel the running
	 * moves can still be stopped (that needs a healthy transaction).
	 */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		moves = sf_rebalance_plan(options);
		if (moves == NIL)
			ereport(NOTICE,
					(errmsg("no shard group needs to move")));
		else
		{
			TimestampTz start = GetCurrentTimestamp();

			run_moves(&run, moves);
			ereport(NOTICE,
					(errmsg("rebalance done: %d shard group moves in %.1f s",
							run.ndone, seconds_since(start))));
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		PG_TRY();
		{
			stop_running(&run);
		}
		PG_FINALLY();
		{
			release_rebalance_lock();
		}
		PG_END_TRY();
		if (run.ndone > 0)
			edata->detail = psprintf("%s%s%d of the %d planned shard group moves were done and stay done.",
									 edata->detail ? edata->detail : "",
									 edata->detail ? "  " : "",
									 run.ndone, run.ntotal);
		ReThrowError(edata);
	}
	PG_END_TRY();
	release_rebalance_lock();
}

/* The options common to rebalance_table_shards and rebalance_start */
static void
options_from_args(FunctionCallInfo fcinfo, SfRebalanceOptions *options)
{
	sf_rebalance_parse_options(options,
							   PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
							   PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_FLOAT4(1),
							   PG_ARGISNULL(2) ? 1000000 : PG_GETARG_INT32(2),
							   PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
							   PG_ARGISNULL(3),
							   PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5),
							   PG_ARGISNULL(6) ? "by_shard_count" : NameStr(*PG_GETARG_NAME(6)),
							   PG_ARGISNULL(4) ? "auto" : text_to_cstring(PG_GETARG_TEXT_PP(4)));
	options->max_parallel_moves = shardfdw_max_parallel_moves;
}

/*
 * rebalance_table_shards(relation regclass, threshold float4,
 *		max_shard_moves int, excluded_shard_list bigint[],
 *		shard_transfer_mode text, drain_only boolean,
 *		rebalance_strategy name) RETURNS void
 */
Datum
shardfdw_rebalance_table_shards(PG_FUNCTION_ARGS)
{
	SfRebalanceOptions options;

	options_from_args(fcinfo, &options);
	rebalance_foreground(&options, "rebalance_table_shards");
	PG_RETURN_VOID();
}

/*
 * shardfdw_drain_node(server name, shard_transfer_mode text) RETURNS void
 *
 * Marks the node should_have_shards = false (in the caller's transaction)
 * and moves every shard group it holds to the other nodes.
 */
Datum
shardfdw_drain_node(PG_FUNCTION_ARGS)
{
	SfRebalanceOptions options;
	char	   *servername;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server must not be null"),
				 errhint("Name a worker node, see the view shardfdw.nodes.")));
	servername = NameStr(*PG_GETARG_NAME(0));
	sf_job_refuse_transaction_block("shardfdw_drain_node");
	sf_rebalance_parse_options(&options, InvalidOid, true, 0, INT_MAX,
							   (Datum) 0, true, true, "by_shard_count",
							   PG_ARGISNULL(1) ? "auto" : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	options.max_parallel_moves = shardfdw_max_parallel_moves;
	sf_set_should_have_shards(servername, false);
	rebalance_foreground(&options, "shardfdw_drain_node");
	PG_RETURN_VOID();
}

/*
 * citus_drain_node(nodename text, nodeport int, shard_transfer_mode text)
 *
 * shardfdw_drain_node for the SERVER whose host (or hostaddr) and port are
 * given.
 */
Datum
shardfdw_citus_drain_node(PG_FUNCTION_ARGS)
{
	char	   *host;
	int			port;
	char	   *server = NULL;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("nodename and nodeport must not be null")));
	host = text_to_cstring(PG_GETARG_TEXT_PP(0));
	port = PG_GETARG_INT32(1);
	SPI_connect();
	n = sf_spi_exec_count(psprintf("SELECT server_name FROM shardfdw.nodes"
								   " WHERE host = %s AND port = %d",
								   quote_literal_cstr(host), port), -1);
	if (n == 1)
		server = MemoryContextStrdup(CurTransactionContext,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	if (server == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg(n == 0 ? "no worker node has host \"%s\" and port %d" :
						"several worker nodes have host \"%s\" and port %d", host, port),
				 errhint("Nodes are SERVERs in shardfdw: see the view shardfdw.nodes, and use shardfdw_drain_node(server).")));
	return DirectFunctionCall2(shardfdw_drain_node,
							   DirectFunctionCall1(namein, CStringGetDatum(server)),
							   PG_ARGISNULL(2) ? CStringGetTextDatum("auto") : PG_GETARG_DATUM(2));
}

/* ---------------------------------------------------------------- background */

/*
 * The "rebalance" job: args are the options (sf_rebalance_options_to_string).
 * Plans, records the moves in shardfdw.rebalance_move, and runs them.
 */
static void
sf_rebalance_job(int64 jobid, const char *args)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw rebalance",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SfRebalanceOptions options;
	RebalanceRun run;
	List	   *moves;
	ListCell   *lc;
	int			moveno = 0;

	sf_rebalance_options_from_string(&options, args);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	take_rebalance_lock(true);
	if (OidIsValid(options.relid) && !sf_is_distributed_table(options.relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the table to rebalance is no longer a distributed table")));
	moves = sf_rebalance_plan(&options);
	MemoryContextSwitchTo(cxt);
	foreach(lc, moves)
	{
		SfPlannedMove *move = lfirst(lc);

		exec_as_owner(psprintf("INSERT INTO shardfdw.rebalance_move"
							 " (job_id, move_no, shardid, table_names, source_server,"
							 " target_server, shard_size)"
							 " VALUES (" INT64_FORMAT ", %d, " INT64_FORMAT ", %s, %s, %s, " INT64_FORMAT ")",
							 jobid, ++moveno, move->shardid,
							 quote_literal_cstr(move_tables(move)),
							 quote_literal_cstr(move->sourcename),
							 quote_literal_cstr(move->targetname),
							 move->size));
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	memset(&run, 0, sizeof(run));
	run.cxt = cxt;
	run.mode = options.transfer_mode;
	run.max_parallel = options.max_parallel_moves;
	run.jobid = jobid;
	PG_TRY();
	{
		report_progress(&run);
		run_moves(&run, moves);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(cxt);
		stop_running(&run);
		ReThrowError(edata);
	}
	PG_END_TRY();
	report_progress(&run);

	/* the lock goes with the session */
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * rebalance_start(same arguments as rebalance_table_shards) RETURNS bigint
 *
 * Starts a background rebalance and returns its job id, or NULL (with a
 * NOTICE) when nothing needs to move.  Errors in the options, or another
 * rebalance running, are reported here.
 */
Datum
shardfdw_rebalance_start(PG_FUNCTION_ARGS)
{
	SfRebalanceOptions options;
	SfJob	   *job;
	int64		jobid = 0;
	bool		busy;
	bool		nothing = false;

	options_from_args(fcinfo, &options);
	sf_job_refuse_transaction_block("rebalance_start");
	sf_require_nodes("rebalance");

	/*
	 * While this session holds the lock, no other rebalance can start; the
	 * job takes it over once it is released (its row is committed by then,
	 * so a rebalance_start in between sees it running).
	 */
	take_rebalance_lock(false);
	PG_TRY();
	{
		SPI_connect();
		sf_spi_exec_count("SELECT 1 FROM shardfdw.jobs"
						  " WHERE kind = 'rebalance' AND state = 'running'", -1);
		busy = SPI_processed > 0;
		SPI_finish();
		if (busy)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("another rebalance is running in this database"),
					 errhint("See rebalance_status(); wait for it with rebalance_wait() or stop it with rebalance_stop().")));
		if (sf_rebalance_plan(&options) == NIL)
			nothing = true;
		else
		{
			job = sf_job_launch("rebalance", sf_rebalance_options_to_string(&options), 0);
			jobid = sf_job_id(job);
			sf_job_detach(job);
		}
	}
	PG_FINALLY();
	{
		release_rebalance_lock();
	}
	PG_END_TRY();
	if (nothing)
	{
		ereport(NOTICE,
				(errmsg("no shard group needs to move")));
		PG_RETURN_NULL();
	}
	PG_RETURN_INT64(jobid);
}

/*
 * The given rebalance job (error if it is not one), or the latest one (0
 * if there is none); with running_only, the latest running one.
 */
static int64
find_rebalance_job(bool given, int64 jobid, bool running_only)
{
	int64		result = 0;

	SPI_connect();
	if (given)
		sf_spi_exec_count(psprintf("SELECT jobid FROM shardfdw.job"
								   " WHERE kind = 'rebalance' AND jobid = " INT64_FORMAT, jobid), -1);
	else
		sf_spi_exec_count(psprintf("SELECT jobid FROM shardfdw.jobs WHERE kind = 'rebalance'%s"
								   " ORDER BY jobid DESC LIMIT 1",
								   running_only ? " AND state = 'running'" : ""), -1);
	if (SPI_processed > 0)
		result = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	if (given && result == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("rebalance job " INT64_FORMAT " does not exist", jobid),
				 errhint("See rebalance_status().")));
	return result;
}

/* the live state of a job (shardfdw.jobs), palloc'd */
static char *
job_state(int64 jobid)
{
	char	   *state;

	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT state FROM shardfdw.jobs"
							   " WHERE jobid = " INT64_FORMAT, jobid), 1);
	state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	state = MemoryContextStrdup(CurTransactionContext, state ? state : "");
	SPI_finish();
	return state;
}

/*
 * rebalance_wait(job_id bigint DEFAULT NULL) RETURNS void
 *
 * Waits until the rebalance job (default: the latest) is over; raises its
 * error if it failed or was interrupted, a WARNING if it was stopped.
 */
Datum
shardfdw_rebalance_wait(PG_FUNCTION_ARGS)
{
	int64		jobid = find_rebalance_job(!PG_ARGISNULL(0),
										   PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
										   false);

	if (jobid == 0)
	{
		ereport(NOTICE,
				(errmsg("there is no rebalance to wait for")));
		PG_RETURN_VOID();
	}
	if (sf_job_wait_id(jobid, false))
		PG_RETURN_VOID();
	if (strcmp(job_state(jobid), "cancelled") == 0)
		ereport(WARNING,
				(errmsg("rebalance job " INT64_FORMAT " was stopped", jobid),
				 errdetail("The moves done before it stopped stay done; see rebalance_status().")));
	else
		(void) sf_job_wait_id(jobid, true);
	PG_RETURN_VOID();
}

/*
 * rebalance_stop(job_id bigint DEFAULT NULL) RETURNS void
 *
 * Stops a running rebalance (default: the running one): the job cancels
 * its running moves, each of which leaves its group either moved or where
 * it was.  The moves of an interrupted rebalance job are cancelled here.
 */
Datum
shardfdw_rebalance_stop(PG_FUNCTION_ARGS)
{
	int64		jobid = find_rebalance_job(!PG_ARGISNULL(0),
										   PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
										   true);
	List	   *children = NIL;
	ListCell   *lc;
	uint64		i;

	if (jobid == 0 || strcmp(job_state(jobid), "running") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no running rebalance to stop"),
				 errhint("See rebalance_status().")));
	(void) sf_job_cancel(jobid);

	/* moves the job does not stop itself (if it was killed) */
	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT jobid FROM shardfdw.job"
							   " WHERE parent_jobid = " INT64_FORMAT " AND state = 'running'",
							   jobid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		int64	   *child = palloc(sizeof(int64));

		*child = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		children = lappend(children, child);
	}
	SPI_finish();
	foreach(lc, children)
		(void) sf_job_cancel(*(int64 *) lfirst(lc));
	(void) sf_job_wait_id(jobid, false);
	PG_RETURN_VOID();
}
