/*-------------------------------------------------------------------------
 *
 * sf_transaction.h
 *	  Two-phase commit support: global transaction identifiers, commit
 *	  records, recovery of in-doubt prepared transactions and the fault
 *	  injection points used by the tests.
 *
 * The connection layer (src/connection/connection.c) drives the commit
 * protocol from the local transaction's callbacks; this layer names the
 * prepared transactions, writes the durable commit records into
 * shardfdw.transaction and resolves what a crash left behind.
 *
 * A gid is "sf_<system identifier>_<database OID>_<full xid>_<server OID>":
 * the coordinator cluster, the database holding the commit records, the
 * local (coordinator) transaction that owns it and the SERVER it was
 * prepared on.  Recovery in a database only touches gids naming that
 * database of this coordinator, on the server the gid names.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_SF_TRANSACTION_H
#define SHARDFDW_SF_TRANSACTION_H

/* room for a gid (PostgreSQL's own limit is 200 bytes including the NUL) */
#define SF_GID_MAX 200

/*
 * The fault action 'wait' waits for this session-level advisory lock (the
 * bigint form: pg_advisory_lock(1397114452), "SFFT" in ASCII; in pg_locks
 * classid 0, objid 1397114452, objsubid 1): a test holds it to pause an
 * operation at a fault point and releases it to let the operation go on.
 */
#define SF_FAULT_WAIT_LOCK_KEY	INT64CONST(1397114452)

/* GUCs (transaction.c) */
extern int	shardfdw_recovery_interval;
extern char *shardfdw_test_fault_point;
extern int	shardfdw_test_fault_action;
extern int	shardfdw_test_fault_sleep;

/* in transaction.c */
extern void sf_transaction_init(void);
extern bool sf_command_is_read_only(const char *sql);
extern void sf_make_gid(char *gid, Oid serverid);
extern void sf_insert_commit_record(const char *gid, Oid serverid);
extern void sf_fault_point(const char *name, bool can_throw);
extern int	sf_recover_prepared_transactions_internal(void);



/* in recovery_worker.c */
extern void sf_register_recovery_worker(void);

#endif							/* SHARDFDW_SF_TRANSACTION_H */
