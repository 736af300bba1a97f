/*-------------------------------------------------------------------------
 *
 * jobs.h
 *	  Operations that run in background workers (src/operations/job.c).
 *
 * Moving, splitting and rebalancing shards and distributing a table
 * concurrently take several transactions on the coordinator: a cleanup
 * record must be committed before objects are created on workers, each
 * move's cutover commits on its own so a long rebalance never holds a lock
 * on a table for longer than one cutover, and a background rebalance must
 * survive the session that started it.  A SQL function cannot commit, so
 * these operations run as *jobs*: a dynamic background worker connected to
 * the caller's database as the caller's role, with the caller's settings
 * (the parameters set in its session or for its role or database, see
 * job_collect_settings in job.c), which runs the job's function and may
 * start and commit as many transactions as it needs.
 *
 * Every job has a row in shardfdw.job (committed by the worker before the
 * job function runs), so jobs can be listed, waited for and stopped from
 * any session.  A job that fails records its error there; sf_job_wait()
 * re-raises it in the waiting session with the original SQLSTATE, message,
 * detail and hint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_JOBS_H
#define SHARDFDW_JOBS_H

/*
 * The body of a job kind.  It runs in the background worker, outside any
 * transaction: it starts and commits its own (StartTransactionCommand /
 * CommitTransactionCommand, with a snapshot pushed for SPI).  An ERROR
 * thrown out of it marks the job failed.  args is the text given to
 * sf_job_launch; the job parses it.  It should call
 * CHECK_FOR_INTERRUPTS() often: sf_job_cancel() and rebalance_stop()
 * terminate the worker with SIGTERM, which must leave the operation either
 * done or cleanly undone (cleanup records, see the move code).
 */
typedef void (*SfJobFunction) (int64 jobid, const char *args);

/* A launched job, seen from the session that launched it */
typedef struct SfJob SfJob;

/* called from _PG_init: registers the runner's own job kinds */
extern void sf_jobs_init(void);

/*
 * Job kinds are registered by name (in _PG_init of every process, so the
 * background worker, which loads the library, knows them too).
 */
extern void sf_job_register_kind(const char *kind, SfJobFunction function);

/*
 * Start a background worker running job kind(args) as the current user in
 * the current database, with parent_jobid (0 for none) recorded.  Returns
 * once the worker has committed the job's row; errors if no worker slot is
 * free (hint: max_worker_processes).  Must not be called inside a
 * transaction block by the SQL functions that wait for the job (they check
 * with sf_job_refuse_transaction_block first): the job's locks would wait
 * for the caller's.
 */
extern SfJob *sf_job_launch(const char *kind, const char *args, int64 parent_jobid);
extern int64 sf_job_id(SfJob *job);

/*
 * Wait for the job's worker to exit.  Returns true if the job succeeded.
 * If it failed and rethrow is true, re-raises its error here.  If the
 * waiting session is cancelled, the job is cancelled too (unless it was
 * launched detached, see sf_job_detach) and the cancel is rethrown.
 */
extern bool sf_job_wait(SfJob *job, bool rethrow);

/*
 * Wait for a job that is the whole of the caller's statement (a move, a
 * split, a concurrent distribution): a cancel of the waiting session (or
 * its statement_timeout) is passed on to the job and the session waits on
 * for the job's outcome, so that it reports what really happened.  A job
 * cancelled in time raises its cancel error here; one that could no longer
 * be undone (a move or split that cut over) completes, with a WARNING.  A
 * second cancel stops waiting at once.  Errors are re-raised.
 */
extern void sf_job_wait_outcome(SfJob *job);

/*
 * Wait for a job by id, launched by any session (polls shardfdw.job).
 * Returns true if it succeeded; if it failed, was cancelled or its worker
 * died and rethrow is true, raises an error naming the job.
 */
extern bool sf_job_wait_id(int64 jobid, bool rethrow);

/* non-blocking: true once the job's worker has exited */
extern bool sf_job_finished(SfJob *job);

/*
 * The job keeps running when the launching session goes away or is
 * cancelled.  Afterwards only sf_job_id() may be used on the handle; wait
 * with sf_job_wait_id().  sf_job_wait() frees the handle.
 */
extern void sf_job_detach(SfJob *job);

/* ask a running job (by id, from any session) to stop; returns whether it ran */
extern bool sf_job_cancel(int64 jobid);

/* ereport(ERROR) if in a transaction block, naming the function */
extern void sf_job_refuse_transaction_block(const char *funcname);
extern bool sf_job_caller_holds_lock(Oid relid);

/* inside a job: its id, and a progress line for shardfdw.jobs (own transaction) */
extern int64 sf_current_job_id(void);
extern void sf_job_report(const char *phase, const char *detail);

#endif							/* SHARDFDW_JOBS_H */
