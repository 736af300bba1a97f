/*-------------------------------------------------------------------------
 *
 * shard_transfer.h
 *	  Moving shard groups between worker nodes (src/operations/move.c) and
 *	  the cleanup records that make an interrupted move harmless
 *	  (src/operations/cleanup.c).
 *
 * A move of shard index i of a co-location group runs as a job (jobs.h):
 * it records in shardfdw.cleanup every object it is about to create on a
 * worker (committed before the object exists), creates the shard tables on
 * the target, copies the data (worker-to-worker logical replication, or a
 * COPY stream through the coordinator while writes are blocked), switches
 * the coordinator's foreign partitions to the target SERVER in one short
 * transaction, and then drops what is no longer needed.  Whatever the job
 * could not drop (because it was killed, or a worker was down) is dropped
 * by the cleanup pass once the job is over.
 *
 * A running operation holds a session-level advisory lock on
 * SF_OPERATION_LOCK_KEY(operation id) for its whole life; the cleanup pass
 * only touches records of operations whose lock is free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_SHARD_TRANSFER_H
#define SHARDFDW_SHARD_TRANSFER_H

#include "jobs.h"
#include "libpq-fe.h"

/*
 * Advisory lock keys (bigint form) of running operations, and of shard
 * groups being moved or split: a move and a split (moves.c, split.c) hold
 * SF_GROUP_LOCK_KEY(co-location group, shard index) for their whole job,
 * taken with pg_try_advisory_lock (a second operation on the group fails at
 * once); a split takes it for the index of the shard it splits and for the
 * index of its new second half.
 */
#define SF_OPERATION_LOCK_KEY(opid) ((int64) ((UINT64CONST(0x5346) << 48) | ((uint64) (opid) & UINT64CONST(0xFFFFFFFFFFFF))))
#define SF_GROUP_LOCK_KEY(colocationid, shardindex) \
	((int64) ((UINT64CONST(0x5347) << 48) | (((uint64) (uint32) (colocationid)) << 20) | ((uint64) (shardindex) & 0xFFFFF)))

/* GUCs (move.c) */
extern int	shardfdw_move_lock_timeout;
extern int	shardfdw_move_cutover_retries;
extern int	shardfdw_move_catchup_timeout;

/* in move.c */
extern void sf_move_init(void);

/*
 * Close a raw connection (sf_connect_raw) in error recovery: a command
 * still running on it is cancelled and waited for (at most 30 s), so that
 * it cannot create an object after the cleanup pass looked for it.
 */
extern void sf_transfer_close_conn(PGconn *conn);

/*
 * A transaction of a move or split job's own (a snapshot pushed, SPI
 * connected), and its commit.
 */
extern void sf_transfer_xact_begin(void);
extern void sf_transfer_xact_commit(void);

/* A libpq notice processor that drops the workers' notices */
extern void sf_transfer_ignore_notice(void *arg, const char *message);

/*
 * In the error recovery of a move or split job (the error copied and
 * flushed, the transaction aborted): run the cleanup pass of job jobid, and
 * extra_sql (or NULL), in a transaction of its own.  If that fails too, it
 * is logged: what is left stays recorded for a later pass.
 */
extern void sf_transfer_cleanup_after_failure(int64 jobid, const char *kind,
											  const char *extra_sql);

/* in split.c: the "split" job kind */
extern void sf_split_init(void);

/*
 * Validate a move of shard shardid's group to target_server with mode
 * ('auto', 'force_logical' or 'block_writes') and start its job; returns at
 * once.  Errors (unknown shard or server, same node, bad mode, not owner)
 * are raised before anything starts.  Call inside a transaction (it reads
 * the catalog through SPI).  The caller waits with sf_job_wait (or polls
 * sf_job_finished).  Moves of different groups may run in parallel; two
 * moves of one group make the second fail at once.  Each cutover briefly
 * locks the group's tables ACCESS EXCLUSIVE, and a block_writes move locks
 * them EXCLUSIVE while it copies, so parallel block_writes moves of groups
 * of the same tables mostly wait for each other.
 */
extern SfJob *sf_move_launch(int64 shardid, const char *target_server,
							 const char *mode, int64 parent_jobid);

/* in cleanup.c */

/*
 * The coordinator tag: 8 hexadecimal digits derived from the coordinator's
 * system identifier and database OID, ending the name of every object an
 * operation creates on a worker under its job id (a move's publication,
 * replication slot and subscription, a split's capture functions, helper
 * tables and worker session's application_name).  Job ids come from the
 * coordinator database's own sequence (shardfdw.job), so two coordinators,
 * or two databases of one coordinator, that share a worker server number
 * their jobs alike; replication slot names and application_names are
 * server-wide on the worker.  Without the tag the second move with a given
 * job id could not create its slot, and one coordinator's cleanup pass
 * would drop the other's slot and end its walsender or split session.  The
 * orphan scan only takes objects with this coordinator's tag.
 */
extern const char *sf_coordinator_tag(void);


/*
 * Record an object an operation is about to create (or to drop once it
 * succeeds).  object_type: shard, subscription, slot, sync_slots,
 * publication, replica_identity, session (an operation's worker connection,
 * by application_name: ended before the operation's other records on that
 * server are resolved), function (qualified, with its argument types),
 * table (qualified); policy: on_failure, on_success, always.
 * Inserted through SPI in the current transaction: commit it before
 * creating the object.  The transaction then commits synchronously
 * (sf_require_durable_commit).
 */
extern void sf_cleanup_record(int64 opid, const char *object_type,
							  const char *server, const char *object_name,
							  int64 shardid, const char *policy);

/*
 * Drop the recorded objects of every finished operation (and of opid, even
 * though it is running, if opid != 0), deleting each record whose object
 * is gone.  Failures (a worker down) leave the record for the next pass.
 * Must run in a transaction with SPI not connected; returns how many
 * records were resolved.
 */
extern int	sf_cleanup_pass(int64 opid);

/* for the recovery background worker: a pass in its own transaction */
extern void sf_cleanup_background(void);

#endif							/* SHARDFDW_SHARD_TRANSFER_H */
