/*-------------------------------------------------------------------------
 *
 * transaction.c
 *	  Two-phase commit: gids, commit records, recovery, fault injection.
 *
 * The commit protocol itself lives in the connection layer's transaction
 * callback (src/connection/connection.c, pre_commit_all): this file gives
 * it the names of the prepared transactions, writes the commit records and
 * provides recover_prepared_transactions().
 *
 * Correctness of recovery rests on three facts:
 *	- a commit record is inserted by the local transaction that prepared the
 *	  remote ones, so it becomes visible exactly when (and if) that local
 *	  transaction commits;
 *	- the local transaction has an xid from before the first PREPARE (the
 *	  gid contains it), so while it runs, TransactionIdIsInProgress says so;
 *	  the commit records are written and flushed before the first PREPARE,
 *	  so that xid is in the WAL and is never handed out again after a crash;
 *	- recovery reads the commit records before listing the prepared
 *	  transactions on the workers, so a record it deletes (because its
 *	  prepared transaction is gone) belongs to a prepared transaction that
 *	  was already resolved.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "metadata.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "sf_transaction.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

int			shardfdw_recovery_interval = 10000;
char	   *shardfdw_test_fault_point = NULL;
int			shardfdw_test_fault_action = 0;
int			shardfdw_test_fault_sleep = 5000;

enum
{
	SF_FAULT_ERROR,
	SF_FAULT_SLEEP,
	SF_FAULT_FATAL,
	SF_FAULT_WAIT
};

static const struct config_enum_entry fault_actions[] = {
	{"error", SF_FAULT_ERROR, false},
	{"sleep", SF_FAULT_SLEEP, false},
	{"fatal", SF_FAULT_FATAL, false},
	{"wait", SF_FAULT_WAIT, false},
	{NULL, 0, false}
};

PG_FUNCTION_INFO_V1(recover_prepared_transactions);

/*
 * Define the GUCs of the transaction layer and register the recovery
 * background worker.
 */
void
sf_transaction_init(void)
{
	DefineCustomIntVariable("shardfdw.recovery_interval",
							"Time between two runs of the prepared-transaction recovery background worker.",
							"0 disables the background worker; recover_prepared_transactions() still works.",
							&shardfdw_recovery_interval,
							10000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("shardfdw.test_fault_point",
							   "For testing only: a step of the commit protocol at which to inject a fault.",
							   "One of before-prepare, after-prepare, before-commit-prepared, skip-commit-prepared, discard-remote-statements (the worker session drops its prepared statements before a router statement uses one), or router-row (each row a router scan returns); empty for none.",
							   &shardfdw_test_fault_point,
							   "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomEnumVariable("shardfdw.test_fault_action",
							 "For testing only: what happens at shardfdw.test_fault_point.",
							 "error raises an ERROR, fatal ends the session, sleep waits shardfdw.test_fault_sleep, wait waits until it can take (and then releases) the session advisory lock 1397114452 that a test holds.  Where an error could not undo anything (before-commit-prepared, split-before-drop-old) only sleep applies.",
							 &shardfdw_test_fault_action,
							 SF_FAULT_ERROR, fault_actions,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("shardfdw.test_fault_sleep",
							"For testing only: how long the sleep action of shardfdw.test_fault_point waits.",
							NULL,
							&shardfdw_test_fault_sleep,
							5000, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	sf_register_recovery_worker();
}

/*
 * Does a command sent to a worker leave its remote transaction without
 * writes?  Decided on the first keyword of every ';'-separated piece (a ';'
 * inside a literal only adds pieces, which can only make the answer
 * "writes"): SELECT, DECLARE, FETCH, MOVE, CLOSE, SHOW, SET, RESET,
 * START/BEGIN, SAVEPOINT, RELEASE, ROLLBACK, DEALLOCATE are reads;
 * everything else (INSERT, UPDATE, DELETE, COPY, DDL, WITH, EXPLAIN...) is
 * a possible write.  A SELECT of a function with side effects must be
 * reported with sf_conn_mark_written.
 */
bool
sf_command_is_read_only(const char *sql)
{
	static const char *const reads[] = {
		"select", "declare", "fetch", "move", "close", "show", "set",
		"reset", "start", "begin", "savepoint", "release", "rollback",
		"deallocate", NULL
	};
	const char *p = sql;

	while (*p)
	{
		char		word[16];
		int			n = 0;
		bool		ok = false;

		/* "(SELECT ...) UNION ALL (SELECT ...)" is a read too */
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
			   *p == ';' || *p == '(')
			p++;
		if (*p == '\0')
			break;
		while (n < (int) sizeof(word) - 1 &&
			   ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			word[n++] = pg_ascii_tolower(*p++);
		word[n] = '\0';
		for (int i = 0; reads[i] && n > 0; i++)
			if (strcmp(word, reads[i]) == 0)
				ok = true;
		if (!ok)
			return false;
		while (*p && *p != ';')
			p++;
	}
	return true;
}

/*
 * The gid of the prepared transaction of the current local transaction on
 * a server (assigns the local transaction an xid if it has none yet).
 */
void
sf_make_gid(char *gid, Oid serverid)
{
	FullTransactionId fxid = GetTopFullTransactionId();

	snprintf(gid, SF_GID_MAX, "sf_" UINT64_FORMAT "_%u_" UINT64_FORMAT "_%u",
			 GetSystemIdentifier(), MyDatabaseId,
			 U64FromFullTransactionId(fxid), serverid);
}

/*
 * Parse a gid of this coordinator and database; false if it is not one.
 */
static bool
parse_gid(const char *gid, uint64 *fxid, Oid *serverid)
{
	char		prefix[64];
	int			len;
	unsigned long long x;
	unsigned int s;
	char		extra;

	len = snprintf(prefix, sizeof(prefix), "sf_" UINT64_FORMAT "_%u_",
				   GetSystemIdentifier(), MyDatabaseId);
	if (strncmp(gid, prefix, len) != 0)
		return false;
	if (sscanf(gid + len, "%llu_%u%c", &x, &s, &extra) != 2)
		return false;
	*fxid = (uint64) x;
	*serverid = (Oid) s;
	return true;
}

/*
 * Insert the commit record of a prepared transaction into
 * shardfdw.transaction, in the current local transaction (directly into
 * the heap and its index, whatever the privileges of the current user).
 */
void
sf_insert_commit_record(const char *gid, Oid serverid)
{
	Oid			relid = sf_catalog_relid("transaction");
	Relation	rel;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	HeapTuple	tuple;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table shardfdw.transaction does not exist"),
				 errhint("Update the shardfdw extension in this database.")));
	rel = table_open(relid, RowExclusiveLock);
	if (RelationGetDescr(rel)->natts != 3)
		elog(ERROR, "unexpected layout of shardfdw.transaction");
	values[0] = CStringGetTextDatum(gid);
	values[1] = ObjectIdGetDatum(serverid);
	values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tuple);
	heap_freetuple(tuple);
	table_close(rel, NoLock);
	CommandCounterIncrement();
}

/*
 * The 'wait' fault action: wait in the lock manager (interruptibly; the
 * wait shows in pg_locks and pg_blocking_pids) until the advisory lock
 * SF_FAULT_WAIT_LOCK_KEY is free, take it and release it at once.  A test
 * session that holds the lock thus pauses the process at the point until
 * it unlocks.  The wait runs inside a transaction (one of its own when the
 * caller is between transactions), so that a cancel during the wait is
 * cleaned up by the transaction's abort like any other lock wait, and
 * without lock_timeout (a move's cutover sets one).
 */
static void
fault_wait(void)
{
	LOCKTAG		tag;
	bool		own = !IsTransactionState();
	int			nestlevel;

	if (own)
		StartTransactionCommand();
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("lock_timeout", "0", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (SF_FAULT_WAIT_LOCK_KEY >> 32),
						 (uint32) SF_FAULT_WAIT_LOCK_KEY, 1);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	LockRelease(&tag, ExclusiveLock, true);
	AtEOXact_GUC(true, nestlevel);
	if (own)
		CommitTransactionCommand();
}

/*
 * Fault injection for the tests: if shardfdw.test_fault_point names this
 * point, act as shardfdw.test_fault_action says.  After the local commit
 * (can_throw = false) only the sleep action is honoured: errors there
 * could not undo anything, and neither could a cancel of a 'wait'.  The
 * LOG line lets a test wait for the point.
 */
void
sf_fault_point(const char *name, bool can_throw)
{
	if (shardfdw_test_fault_point == NULL ||
		strcmp(shardfdw_test_fault_point, name) != 0)
		return;

	ereport(LOG,
			(errmsg("shardfdw fault point \"%s\" reached", name)));

	if (shardfdw_test_fault_action == SF_FAULT_WAIT)
	{
		if (!can_throw)
			return;
		fault_wait();
		ereport(LOG,
				(errmsg("shardfdw fault point \"%s\" passed", name)));
		return;
	}
	if (shardfdw_test_fault_action == SF_FAULT_SLEEP || !can_throw)
	{
		TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													  shardfdw_test_fault_sleep);

		if (shardfdw_test_fault_action != SF_FAULT_SLEEP)
			return;
		for (;;)
		{
			long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

			if (ms <= 0)
				break;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (can_throw)
				CHECK_FOR_INTERRUPTS();
		}
		ereport(LOG,
				(errmsg("shardfdw fault point \"%s\" passed", name)));
		return;
	}
	ereport(shardfdw_test_fault_action == SF_FAULT_FATAL ? FATAL : ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("shardfdw fault injected at \"%s\"", name)));
}

/* A prepared transaction found on a worker, or a commit record */
typedef struct SfGid
{
	char	   *gid;
	Oid			serverid;
	uint64		fxid;
	bool		seen;			/* record: its prepared transaction exists */
} SfGid;

/* Is there a commit record for gid in the active snapshot? */
static bool
record_exists(const char *gid)
{
	Datum		arg = CStringGetTextDatum(gid);
	Oid			argtype = TEXTOID;

	/* read_only: use the caller's active snapshot (see decide) */
	if (SPI_execute_with_args("SELECT 1 FROM shardfdw.transaction WHERE gid = $1",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read shardfdw.transaction");
	return SPI_processed > 0;
}

/*
 * Decide the fate of an in-doubt prepared transaction with no commit
 * record in the first snapshot: 1 commit, -1 roll back, 0 leave it (its
 * local transaction still runs).  Once the local transaction is over, the
 * commit log says how it ended (a crash leaves it neither committed nor
 * aborted: not committed); the commit record, read with a new snapshot,
 * decides only for transactions too old for the commit log (the caller's
 * snapshot may predate the commit, e.g. in REPEATABLE READ).
 */
static int
decide(const char *gid, uint64 fxid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	TransactionId xid = XidFromFullTransactionId(FullTransactionIdFromU64(fxid));
	bool		clog_usable;

	if (fxid >= U64FromFullTransactionId(next))
		return -1;				/* never handed out: its owner is gone */
	if (TransactionIdIsInProgress(xid))
		return 0;
	LWLockAcquire(XactTruncationLock, LW_SHARED);
	clog_usable = U64FromFullTransactionId(next) - fxid < (UINT64CONST(1) << 31) &&
		!TransactionIdPrecedes(xid, ShmemVariableCache->oldestClogXid);
	if (clog_usable)
	{
		bool		committed = TransactionIdDidCommit(xid);

		LWLockRelease(XactTruncationLock);
		return committed ? 1 : -1;
	}
	LWLockRelease(XactTruncationLock);
	PushActiveSnapshot(GetLatestSnapshot());
	PG_TRY();
	{
		clog_usable = record_exists(gid);
	}
	PG_FINALLY();
	{
		PopActiveSnapshot();
	}
	PG_END_TRY();
	return clog_usable ? 1 : -1;
}

/*
 * Delete the commit records of a server whose prepared transaction was
 * not seen (resolved, or never prepared there).  Inside SPI.
 */
static void
delete_records(List *records, Oid serverid)
{
	ListCell   *rc;

	foreach(rc, records)
	{
		SfGid	   *r = lfirst(rc);
		Datum		arg;
		Oid			argtype = TEXTOID;

		if (r->serverid != serverid || r->seen)
			continue;
		arg = CStringGetTextDatum(r->gid);
		if (SPI_execute_with_args("DELETE FROM shardfdw.transaction WHERE gid = $1",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete from shardfdw.transaction");
	}
}

/*
 * Resolve the in-doubt prepared transactions of this database on every
 * node (and every SERVER named by a commit record): COMMIT PREPARED those
 * with a commit record, ROLLBACK PREPARED those whose local transaction
 * ended without one, and delete the records whose prepared transaction is
 * gone.  Unreachable servers get a WARNING and are retried next time.
 * Returns the number of prepared transactions resolved.  Needs SPI to be
 * unconnected; runs inside the caller's transaction.
 */
int
sf_recover_prepared_transactions_internal(void)
{
	List	   *records = NIL;
	List	   *servers = NIL;
	ListCell   *lc;
	int			count = 0;
	char		prefix[64];

	if (!sf_extension_present())
		return 0;
	snprintf(prefix, sizeof(prefix), "sf_" UINT64_FORMAT "_%u_",
			 GetSystemIdentifier(), MyDatabaseId);

	SPI_connect();

	/* 1. the commit records, before looking at the workers */
	if (SPI_execute("SELECT gid, server FROM shardfdw.transaction", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read shardfdw.transaction");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		SfGid	   *r = palloc0(sizeof(SfGid));

		r->gid = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		r->serverid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 2, &isnull));
		records = lappend(records, r);
		servers = list_append_unique_oid(servers, r->serverid);
	}
	foreach(lc, sf_node_list(false))
	{
		SfNode	   *node = lfirst(lc);

		if (OidIsValid(node->serverid))
			servers = list_append_unique_oid(servers, node->serverid);
	}

	/* 2. every server's prepared transactions of this database */
	foreach(lc, servers)
	{
		Oid			serverid = lfirst_oid(lc);
		char	   *why = NULL;
		PGconn	   *pgconn;
		PGresult   *res = NULL;
		bool		reached = false;

		if (GetForeignServerExtended(serverid, FSV_MISSING_OK) == NULL)
		{
			/* the SERVER is gone: nothing can be resolved there any more */
			delete_records(records, serverid);
			continue;
		}

		pgconn = sf_connect_raw(serverid, &why);
		if (pgconn == NULL)
		{
			ereport(WARNING,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not recover prepared transactions on server \"%s\"",
							GetForeignServer(serverid)->servername),
					 errdetail_internal("%s", why)));
			continue;
		}
		PG_TRY();
		{
			char	   *sql = psprintf("SELECT gid FROM pg_catalog.pg_prepared_xacts"
									   " WHERE database = pg_catalog.current_database()"
									   " AND pg_catalog.starts_with(gid, '%s')",
									   prefix);

			res = sf_raw_exec(pgconn, sql);
			if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
			{
				reached = true;
				for (int i = 0; i < PQntuples(res); i++)
				{
					const char *gid = PQgetvalue(res, i, 0);
					uint64		fxid;
					Oid			gserver;
					int			verdict = 0;
					SfGid	   *rec = NULL;
					ListCell   *rc2;
					PGresult   *r2;
					char		cmd[SF_GID_MAX + 64];

					if (!parse_gid(gid, &fxid, &gserver) || gserver != serverid)
						continue;
					foreach(rc2, records)
					{
						SfGid	   *r = lfirst(rc2);

						if (strcmp(r->gid, gid) == 0)
						{
							rec = r;
							r->seen = true;
							verdict = 1;
						}
					}
					if (verdict == 0)
						verdict = decide(gid, fxid);
					if (verdict == 0)
						continue;
					snprintf(cmd, sizeof(cmd), "%s '%s'",
							 verdict > 0 ? "COMMIT PREPARED" : "ROLLBACK PREPARED", gid);
					r2 = sf_raw_exec(pgconn, cmd);
					if (r2 && PQresultStatus(r2) == PGRES_COMMAND_OK)
					{
						count++;
						if (rec)
							rec->seen = false;	/* done: delete the record */
						ereport(LOG,
								(errmsg("shardfdw recovery: %s on server \"%s\"",
										cmd, GetForeignServer(serverid)->servername)));
					}
					else if (r2 && PQresultErrorField(r2, PG_DIAG_SQLSTATE) &&
							 (strcmp(PQresultErrorField(r2, PG_DIAG_SQLSTATE), "55000") == 0 ||
							  strcmp(PQresultErrorField(r2, PG_DIAG_SQLSTATE), "42704") == 0))
					{
						/*
						 * "is busy" or "does not exist": the committing
						 * backend or another recovery pass is finishing it
						 * right now.  A busy one keeps its record for the
						 * next pass.
						 */
						if (rec && strcmp(PQresultErrorField(r2, PG_DIAG_SQLSTATE), "42704") == 0)
							rec->seen = false;
						ereport(LOG,
								(errmsg("shardfdw recovery: \"%s\" on server \"%s\" skipped: %s",
										cmd, GetForeignServer(serverid)->servername,
										pchomp(PQresultErrorMessage(r2)))));
					}
					else
						ereport(WARNING,
								(errcode(ERRCODE_CONNECTION_EXCEPTION),
								 errmsg("could not run \"%s\" on server \"%s\"",
										cmd, GetForeignServer(serverid)->servername),
								 errdetail_internal("%s", r2 ? PQresultErrorMessage(r2) :
													PQerrorMessage(pgconn))));
					if (r2)
						PQclear(r2);
				}
			}
			else
				ereport(WARNING,
						(errcode(ERRCODE_CONNECTION_EXCEPTION),
						 errmsg("could not list prepared transactions on server \"%s\"",
								GetForeignServer(serverid)->servername),
						 errdetail_internal("%s", res ? PQresultErrorMessage(res) :
											PQerrorMessage(pgconn))));
		}
		PG_FINALLY();
		{
			if (res)
				PQclear(res);
			PQfinish(pgconn);
		}
		PG_END_TRY();
		if (!reached)
			continue;

		delete_records(records, serverid);
	}

	SPI_finish();
	return count;
}

/*
 * recover_prepared_transactions() RETURNS integer: see
 * sf_recover_prepared_transactions_internal.
 */
Datum
recover_prepared_transactions(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(sf_recover_prepared_transactions_internal());
}
