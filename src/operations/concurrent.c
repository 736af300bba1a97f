/*-------------------------------------------------------------------------
 *
 * concurrent.c
 *	  create_distributed_table_concurrently: distribute a populated table
 *	  while INSERT / UPDATE / DELETE on it keep working.
 *
 * The SQL function runs the work as a background job (jobs.h), because it
 * takes several transactions, and waits for it.  The job, with a session
 * lock in SHARE UPDATE EXCLUSIVE mode on the table for its whole life (no
 * DDL, VACUUM or second distribution of the table meanwhile; reads and
 * writes go on):
 *
 *	1. setup: validates exactly as create_distributed_table does (the same
 *	   code: sf_plan_distribution), creates the new partitioned parent
 *	   "shardfdw_new_<relid>" with its foreign partitions and the shard
 *	   tables on the workers; commits.  Then, in a short transaction of its
 *	   own, a change log table "shardfdw_changes_<relid>" (the key columns of
 *	   the table) and three statement-level AFTER triggers with transition
 *	   tables that log the key of every row inserted, updated (old and new
 *	   key) or deleted; commits.  CREATE TRIGGER waits for every transaction
 *	   writing the table, so once it has committed, no write escapes the log.
 *	2. copy: INSERT INTO new_parent SELECT FROM ONLY t (the FDW streams the
 *	   rows to the shards), one transaction, with a snapshot taken after the
 *	   triggers exist.
 *	3. catch-up: replays the log in REPEATABLE READ transactions, each with
 *	   one snapshot: the distinct logged keys are deleted on their shards,
 *	   the rows of the table with those keys are inserted again through the
 *	   new parent, and the log rows seen are deleted.  Idempotent; repeated
 *	   until a round replays few keys.
 *	4. switch, in one transaction: ACCESS EXCLUSIVE lock on the table, drop
 *	   the triggers, validate again (same checks, same placements), replay
 *	   the rest of the log, then the same final steps as
 *	   create_distributed_table (properties carried over, foreign keys,
 *	   DROP, RENAME, catalog rows) without copying the rows again; the log
 *	   table is dropped; commit.
 *
 * Any error or cancellation before the switch commits leaves the table as
 * it was: the job drops the triggers, the log table, the new parent and the
 * shard tables (in one transaction: the new parent's foreign partitions
 * name the shard tables, so it is the record of what to drop).  On ERROR
 * this runs in the job's PG_CATCH (a cancel reaches the job as SIGINT, a
 * query cancel); when the job's process exits on FATAL (SIGTERM,
 * pg_terminate_backend), in a before_shmem_exit callback.  If even
 * that could not run (coordinator crash, unreachable worker), the next
 * create_distributed_table_concurrently or create_distributed_table of the
 * table drops the leftovers first.
 *
 * The trigger creation and the switch wait for their lock at most
 * SF_CDC_LOCK_WAIT_MS at a time (see sf_cdc_begin_locked), so that a long
 * transaction on the table does not queue everybody behind them.
 *
 * A table without a primary key or replica identity index cannot have its
 * changes replayed by key: it is distributed by the blocking conversion,
 * with a NOTICE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "connection.h"
#include "distribute_internal.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "jobs.h"
#include "lib/stringinfo.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "planner.h"
#include "sf_transaction.h"
#include "shardfdw.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/acl.h"

PG_FUNCTION_INFO_V1(shardfdw_create_distributed_table_concurrently);
PG_FUNCTION_INFO_V1(shardfdw_concurrent_distribution_log);

#define SF_CDC_JOB_KIND "create_distributed_table_concurrently"

/* keys replayed per remote DELETE statement */
#define SF_CDC_DELETE_BATCH 500

/* a catch-up round replaying fewer keys than this ends the catch-up */
#define SF_CDC_SMALL_BACKLOG 1000

/* at most this many catch-up rounds before the switch */
#define SF_CDC_MAX_ROUNDS 20

/*
 * A lock request that waits makes every later conflicting request wait
 * behind it: the trigger creation (SHARE ROW EXCLUSIVE) and the switch
 * (ACCESS EXCLUSIVE) wait at most this long at a time, then let the
 * table's users through and try again; after SF_CDC_LOCK_ATTEMPTS they
 * wait as long as needed.
 */
#define SF_CDC_LOCK_WAIT_MS 1000
#define SF_CDC_LOCK_ATTEMPTS 30

/* The job's state, kept across its transactions (in its own context) */
typedef struct SfCdcState
{
	/* arguments */
	Oid			relid;
	char	   *column;
	char	   *method;
	char	   *colocate_with;
	bool		shardcount_given;
	int			shardcount_arg;

	/* the table */
	char	   *nspname;
	char	   *relname;
	char	   *qualname;
	bool		locked;			/* holds the session lock */

	/* made in the setup */
	char	   *tmpqual;		/* the new parent */
	char	   *logqual;		/* the change log table */
	List	   *keycols;		/* of char *: key column names */
	char	   *keylist;		/* quoted, comma-separated */
	Oid		   *keytypes;		/* per key column */
	int			distkeypos;		/* the distribution column's key position */
	int			shardcount;
	Oid		   *serverids;
	int		   *moduli;			/* see SfDistributePlan */
	int64	   *shardids;
	char	  **shardnames;		/* unqualified */
	bool		cleanup_needed;

	/* for the summary */
	TimestampTz started;
	long		copy_ms;
	int			rounds;
	uint64		replayed;		/* keys replayed before the switch */
	uint64		replayed_last;	/* keys replayed under the lock */
	long		switch_lock_wait_ms;
	long		switch_hold_ms;
} SfCdcState;

static SfCdcState *sf_cdc_active = NULL;

static void sf_cdc_job(int64 jobid, const char *args);

/*
 * Register the job kind (from _PG_init).
 */
void
sf_concurrent_init(void)
{
	sf_job_register_kind(SF_CDC_JOB_KIND, sf_cdc_job);
}

/* ----------------------------------------------------------------
 * Small helpers
 * ----------------------------------------------------------------
 */

/* Names of the objects of a concurrent distribution of relid */
static char *
sf_cdc_parent_name(Oid relid)
{
	return psprintf("shardfdw_new_%u", relid);
}

static char *
sf_cdc_log_name(Oid relid)
{
	return psprintf("shardfdw_changes_%u", relid);
}

static char *
sf_cdc_trigger_name(Oid relid, char event)
{
	return psprintf("shardfdw_changes_%u_%c", relid, event);
}

/*
 * The key columns (names) by which changes of relid can be replayed: its
 * primary key, else its replica identity index; NIL if it has neither (or
 * is not a plain table).  The caller has connected to SPI.
 */
static List *
sf_cdc_key_columns(Oid relid)
{
	sf_spi_exec_count(psprintf("SELECT a.attname::pg_catalog.text"
							   "  FROM (SELECT i.indrelid, i.indkey, i.indnkeyatts FROM pg_catalog.pg_index i"
							   "         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid AND c.relkind = 'r'"
							   "        WHERE i.indrelid = %u AND (i.indisprimary OR i.indisreplident)"
							   "          AND i.indisvalid AND i.indimmediate AND i.indexprs IS NULL"
							   "          AND i.indpred IS NULL"
							   "        ORDER BY i.indisprimary DESC LIMIT 1) x"
							   "  CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::pg_catalog.int2[])"
							   "       WITH ORDINALITY AS k(attnum, n)"
							   "  JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
							   " WHERE k.n <= x.indnkeyatts ORDER BY k.n", relid), -1);
	return sf_spi_strings();
}

/* Append s to buf as an element of a text[] literal */
static void
sf_cdc_append_array_element(StringInfo buf, const char *s)
{
	const char *p;

	appendStringInfoString(buf, buf->len > 1 ? ",\"" : "\"");
	for (p = s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

/* Start a transaction of the job, with a snapshot and SPI */
static void
sf_cdc_begin(bool repeatable_read)
{
	StartTransactionCommand();
	if (repeatable_read)
		XactIsoLevel = XACT_REPEATABLE_READ;
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* ... and commit it */
static void
sf_cdc_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Drop what a concurrent distribution of relid created and left behind:
 * the triggers on the table, the change log, the shard tables named by
 * the new parent's foreign partitions (on their workers, in this
 * transaction's remote transactions) and the new parent.  Returns whether
 * there was anything.  Connected to SPI, in a transaction.
 */
static bool
sf_cdc_drop_leftovers(Oid relid)
{
	bool		found = false;
	List	   *triggers;
	ListCell   *lc;
	Oid			parent;
	uint64		i;

	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		sf_spi_exec_count(psprintf("SELECT pg_catalog.quote_ident(tgname) FROM pg_catalog.pg_trigger"
								   " WHERE tgrelid = %u AND tgname IN (%s, %s, %s)",
								   relid,
								   quote_literal_cstr(sf_cdc_trigger_name(relid, 'i')),
								   quote_literal_cstr(sf_cdc_trigger_name(relid, 'u')),
								   quote_literal_cstr(sf_cdc_trigger_name(relid, 'd'))), -1);
		triggers = sf_spi_strings();
		foreach(lc, triggers)
		{
			sf_spi_exec(psprintf("DROP TRIGGER %s ON %s", (char *) lfirst(lc),
								 sf_qualified_relname(relid)));
			found = true;
		}
	}

	if (sf_spi_exec_count(psprintf("SELECT c.oid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_class c"
								   " WHERE c.relname = %s AND c.relkind = 'r'",
								   quote_literal_cstr(sf_cdc_log_name(relid))), -1) > 0)
	{
		List	   *logs = sf_spi_strings();

		foreach(lc, logs)
			sf_spi_exec(psprintf("DROP TABLE %s", (char *) lfirst(lc)));
		found = true;
	}

	sf_spi_exec_count(psprintf("SELECT c.oid FROM pg_catalog.pg_class c"
							   " WHERE c.relname = %s AND c.relkind = 'p'",
							   quote_literal_cstr(sf_cdc_parent_name(relid))), -1);
	if (SPI_processed == 0)
		return found;
	{
		bool		isnull;

		parent = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	}
	sf_spi_exec_count(psprintf("SELECT ft.ftserver,"
							   "  pg_catalog.format('DROP TABLE IF EXISTS %%I.%%I',"
							   "   (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions)"
							   "     WHERE option_name = 'schema_name'),"
							   "   (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions)"
							   "     WHERE option_name = 'table_name'))"
							   "  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_foreign_table ft"
							   "    ON ft.ftrelid = i.inhrelid"
							   " WHERE i.inhparent = %u ORDER BY i.inhrelid", parent), -1);
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		n = SPI_processed;

		for (i = 0; i < n; i++)
		{
			bool		isnull;
			Oid			serverid = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
			char	   *sql = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);

			sf_exec_on_server(serverid, sql);
		}
	}
	sf_spi_exec(psprintf("DROP TABLE %s", sf_qualified_relname(parent)));
	return true;
}

/*
 * Drop what an interrupted create_distributed_table_concurrently of relid
 * left behind (see sf_cdc_drop_leftovers), for create_distributed_table:
 * it holds an ACCESS EXCLUSIVE lock on relid, so no job of relid runs.
 * Connected to SPI.
 */
bool
sf_concurrent_drop_leftovers(Oid relid)
{
	return sf_cdc_drop_leftovers(relid);
}

/*
 * Take the job's session lock on the table (SHARE UPDATE EXCLUSIVE: no
 * DDL, no second distribution; reads and writes go on), if the table
 * exists.  In a transaction.  An abort releases session locks too.
 */
static void
sf_cdc_lock(SfCdcState *st)
{
	LockRelId	lockid;

	/* (no lock on a table the caller may not distribute: validation says so) */
	if (st->locked || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(st->relid)) ||
		!pg_class_ownercheck(st->relid, GetUserId()))
		return;
	lockid.dbId = MyDatabaseId;
	lockid.relId = st->relid;
	LockRelationIdForSession(&lockid, ShareUpdateExclusiveLock);
	st->locked = true;
}

static void
sf_cdc_unlock(SfCdcState *st)
{
	LockRelId	lockid;

	if (!st->locked)
		return;
	lockid.dbId = MyDatabaseId;
	lockid.relId = st->relid;
	UnlockRelationIdForSession(&lockid, ShareUpdateExclusiveLock);
	st->locked = false;
}

/*
 * Lock relid in mode in the current transaction, waiting at most
 * timeout_ms; false if the lock was not granted in time (or the wait was
 * chosen as a deadlock victim), the transaction still usable.
 */
static bool
sf_cdc_try_lock(Oid relid, LOCKMODE mode, int timeout_ms)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *saved = pstrdup(GetConfigOption("lock_timeout", false, false));
	bool		granted = true;

	SetConfigOption("lock_timeout", psprintf("%d", timeout_ms), PGC_SUSET, PGC_S_SESSION);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		LockRelationOid(relid, mode);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
			edata->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		granted = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	SetConfigOption("lock_timeout", saved, PGC_SUSET, PGC_S_SESSION);
	return granted;
}

/*
 * Start a transaction holding a lock on the table in mode, trying
 * SF_CDC_LOCK_ATTEMPTS times with SF_CDC_LOCK_WAIT_MS waits (between
 * them, a catch-up round if catch_up), then waiting as long as needed.
 */
static void sf_cdc_begin_locked(SfCdcState *st, LOCKMODE mode, bool catch_up);

/*
 * Undo a failed concurrent distribution, in a transaction of its own.
 * Outside any transaction (after an abort, which released the session
 * lock: it is taken again, so that no other attempt runs meanwhile).
 */
static void
sf_cdc_cleanup(SfCdcState *st)
{
	sf_cdc_begin(false);
	sf_cdc_lock(st);
	(void) sf_cdc_drop_leftovers(st->relid);
	sf_cdc_commit();
	st->cleanup_needed = false;
	sf_cdc_unlock(st);
}

/*
 * before_shmem_exit callback: the job's process exits (FATAL, e.g. it was
 * cancelled with SIGTERM) in the middle of a concurrent distribution.
 */
static void
sf_cdc_exit_callback(int code, Datum arg)
{
	SfCdcState *st = sf_cdc_active;

	if (st == NULL || !st->cleanup_needed)
		return;
	AbortOutOfAnyTransaction();
	st->locked = false;
	PG_TRY();
	{
		sf_cdc_cleanup(st);
		ereport(LOG,
				(errmsg("create_distributed_table_concurrently of table \"%s\" was interrupted and undone",
						st->relname)));
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------
 * Replay of the change log
 * ----------------------------------------------------------------
 */

/*
 * Replay the change log once: the distinct keys it holds are deleted on
 * their shards, the table's rows with those keys are inserted again
 * through the new parent, the log rows seen are deleted.  All statements
 * must see one snapshot (REPEATABLE READ, or no concurrent writer).
 * Returns the number of keys replayed.  Connected to SPI.
 */
static uint64
sf_cdc_replay(SfCdcState *st)
{
	SPITupleTable *tt;
	uint64		nkeys;
	uint64		r;
	Relation	parent;
	PartitionKey partkey;
	Oid			hashfn;
	Oid			hashcoll;
	StringInfoData *bufs;
	int		   *counts;
	int			nest;
	int			i;
	char	   *columns;
	char	   *tcols;
	ListCell   *lc;

	sf_spi_exec_count(psprintf("SELECT DISTINCT %s FROM %s", st->keylist, st->logqual), -1);
	tt = SPI_tuptable;
	nkeys = SPI_processed;
	if (nkeys == 0)
		return 0;

	/* route keys exactly as the new parent routes rows */
	parent = table_open(RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(st->tmpqual)),
										 AccessShareLock, false),
						AccessShareLock);
	partkey = RelationGetPartitionKey(parent);
	hashfn = partkey->partsupfunc[0].fn_oid;
	hashcoll = partkey->partcollation[0];
	table_close(parent, NoLock);

	bufs = palloc0(sizeof(StringInfoData) * st->shardcount);
	counts = palloc0(sizeof(int) * st->shardcount);
	for (i = 0; i < st->shardcount; i++)
		initStringInfo(&bufs[i]);

	tcols = NULL;
	{
		StringInfoData cond;

		initStringInfo(&cond);
		i = 0;
		foreach(lc, st->keycols)
		{
			appendStringInfo(&cond, "%ss.%s = v.%s", i++ > 0 ? " AND " : "",
							 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		}
		tcols = cond.data;
	}

	nest = sf_set_transmission_modes();
	for (r = 0; r <= nkeys; r++)
	{
		int			shard = -1;

		if (r < nkeys)
		{
			bool		isnull;
			Datum		value = SPI_getbinval(tt->vals[r], tt->tupdesc, st->distkeypos + 1, &isnull);
			int			k;

			shard = sf_hash_remainder(hashfn, hashcoll, value, isnull, st->shardcount);
			appendStringInfoString(&bufs[shard], counts[shard] > 0 ? ", (" : "(");
			for (k = 0; k < list_length(st->keycols); k++)
			{
				char	   *v = SPI_getvalue(tt->vals[r], tt->tupdesc, k + 1);

				appendStringInfo(&bufs[shard], "%s%s::%s", k > 0 ? ", " : "",
								 v ? quote_literal_cstr(v) : "NULL",
								 format_type_be_qualified(st->keytypes[k]));
			}
			appendStringInfoChar(&bufs[shard], ')');
			counts[shard]++;
		}
		for (i = 0; i < st->shardcount; i++)
		{
			if (counts[i] == 0 || (r < nkeys && (i != shard || counts[i] < SF_CDC_DELETE_BATCH)))
				continue;
			sf_exec_on_server(st->serverids[i],
							  psprintf("DELETE FROM %s AS s USING (VALUES %s) AS v (%s) WHERE %s",
									   quote_qualified_identifier(st->nspname, st->shardnames[i]),
									   bufs[i].data, st->keylist, tcols));
			resetStringInfo(&bufs[i]);
			counts[i] = 0;
		}
	}
	sf_reset_transmission_modes(nest);

	columns = sf_insertable_columns(st->relid);
	sf_spi_exec(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM ONLY %s"
						 " WHERE (%s) IN (SELECT %s FROM %s)",
						 st->tmpqual, columns, columns, st->qualname,
						 st->keylist, st->keylist, st->logqual));
	sf_spi_exec(psprintf("DELETE FROM %s", st->logqual));
	return nkeys;
}

static void
sf_cdc_begin_locked(SfCdcState *st, LOCKMODE mode, bool catch_up)
{
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		StartTransactionCommand();
		if (attempt > SF_CDC_LOCK_ATTEMPTS)
		{
			LockRelationOid(st->relid, mode);
			break;
		}
		if (sf_cdc_try_lock(st->relid, mode, SF_CDC_LOCK_WAIT_MS))
			break;
		CommitTransactionCommand();
		sf_job_report("waiting", psprintf("the lock on table \"%s\" was not granted within %d ms (attempt %d)",
										  st->relname, SF_CDC_LOCK_WAIT_MS, attempt));
		if (catch_up)
		{
			sf_cdc_begin(true);
			st->replayed += sf_cdc_replay(st);
			st->rounds++;
			sf_cdc_commit();
		}
	}
	/* the snapshot is taken once the lock is held */
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* ----------------------------------------------------------------
 * The phases
 * ----------------------------------------------------------------
 */

/* Fill a plan from sf_plan_distribution with the job's arguments */
static void
sf_cdc_plan(SfCdcState *st, SfDistributePlan *plan)
{
	sf_plan_distribution(plan, st->relid, st->column, st->method,
						 st->colocate_with, st->shardcount_given,
						 st->shardcount_arg);
}

/*
 * Phase 1: session lock, leftovers of an earlier attempt, validation, new
 * parent and shards (committed); then the change log and the triggers
 * (committed).
 */
static void
sf_cdc_setup(SfCdcState *st, MemoryContext cxt)
{
	SfDistributePlan plan;
	MemoryContext old;
	List	   *keycols;
	ListCell   *lc;
	int			i;

	/* the session lock, and what an earlier attempt may have left */
	sf_cdc_begin(false);
	sf_cdc_lock(st);
	if (sf_cdc_drop_leftovers(st->relid))
		ereport(LOG,
				(errmsg("dropped what an interrupted create_distributed_table_concurrently of relation %u left behind",
						st->relid)));
	sf_cdc_commit();

	/* validation, new parent and shards */
	sf_job_report("setup", "validating and creating the shards");
	sf_cdc_begin(false);
	sf_cdc_plan(st, &plan);
	sf_distribution_prepare(&plan);

	/* (SPI calls leave SPI's context current: switch after them) */
	keycols = sf_cdc_key_columns(st->relid);
	old = MemoryContextSwitchTo(cxt);
	st->keycols = NIL;
	foreach(lc, keycols)
		st->keycols = lappend(st->keycols, pstrdup(lfirst(lc)));
	MemoryContextSwitchTo(old);
	if (st->keycols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no primary key or replica identity index any more", plan.relname),
				 errhint("Call create_distributed_table_concurrently again.")));

	st->cleanup_needed = true;
	sf_distribution_create_parent(&plan);
	/* the placeholders of pending foreign keys are not the parent's */
	sf_spi_exec_count(psprintf("SELECT pg_catalog.quote_ident(c.conname) FROM pg_catalog.pg_constraint c"
							   " JOIN shardfdw.pending_fkey p ON p.conname = c.conname AND p.relid = c.conrelid"
							   " WHERE c.conrelid = %u AND c.contype = 'c' AND NOT p.created",
							   st->relid), -1);
	foreach(lc, sf_spi_strings())
		sf_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
							 plan.tmpqual, (char *) lfirst(lc)));
	sf_distribution_create_shards(&plan);

	/* keep what the later transactions need */
	old = MemoryContextSwitchTo(cxt);
	st->nspname = pstrdup(plan.nspname);
	st->relname = pstrdup(plan.relname);
	st->qualname = pstrdup(plan.qualname);
	st->tmpqual = pstrdup(plan.tmpqual);
	st->logqual = quote_qualified_identifier(st->nspname, sf_cdc_log_name(st->relid));
	st->shardcount = plan.shardcount;
	st->serverids = palloc(sizeof(Oid) * plan.shardcount);
	st->moduli = palloc(sizeof(int) * plan.shardcount);
	st->shardids = palloc(sizeof(int64) * plan.shardcount);
	st->shardnames = palloc(sizeof(char *) * plan.shardcount);
	for (i = 0; i < plan.shardcount; i++)
	{
		st->serverids[i] = plan.serverids[i];
		st->moduli[i] = plan.moduli[i];
		st->shardids[i] = plan.shardids[i];
		st->shardnames[i] = pstrdup(plan.shardnames[i]);
	}
	{
		StringInfoData keys;

		initStringInfo(&keys);
		st->keytypes = palloc(sizeof(Oid) * list_length(st->keycols));
		st->distkeypos = -1;
		i = 0;
		foreach(lc, st->keycols)
		{
			char	   *name = lfirst(lc);

			appendStringInfo(&keys, "%s%s", i > 0 ? ", " : "", quote_identifier(name));
			st->keytypes[i] = get_atttype(st->relid, get_attnum(st->relid, name));
			if (strcmp(name, plan.distcolumn) == 0)
				st->distkeypos = i;
			i++;
		}
		st->keylist = keys.data;
	}
	MemoryContextSwitchTo(old);
	if (st->distkeypos < 0)
		elog(ERROR, "the key of table \"%s\" does not contain the distribution column", st->relname);
	sf_fault_point("concurrent-setup", true);
	sf_cdc_commit();

	/*
	 * The change log and its triggers, in a short transaction: CREATE
	 * TRIGGER waits for the transactions writing the table, and writes wait
	 * for it until this commits.
	 */
	sf_cdc_begin_locked(st, ShareRowExclusiveLock, false);
	sf_spi_exec(psprintf("CREATE UNLOGGED TABLE %s AS SELECT %s FROM ONLY %s WITH NO DATA",
						 st->logqual, st->keylist, st->qualname));
	sf_spi_exec(psprintf("GRANT INSERT ON %s TO PUBLIC", st->logqual));
	sf_spi_exec(psprintf("CREATE TRIGGER %s AFTER INSERT ON %s"
						 " REFERENCING NEW TABLE AS sf_new FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.concurrent_distribution_log(%s, %s)",
						 quote_identifier(sf_cdc_trigger_name(st->relid, 'i')), st->qualname,
						 quote_literal_cstr(st->logqual), quote_literal_cstr(st->keylist)));
	sf_spi_exec(psprintf("CREATE TRIGGER %s AFTER UPDATE ON %s"
						 " REFERENCING OLD TABLE AS sf_old NEW TABLE AS sf_new FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.concurrent_distribution_log(%s, %s)",
						 quote_identifier(sf_cdc_trigger_name(st->relid, 'u')), st->qualname,
						 quote_literal_cstr(st->logqual), quote_literal_cstr(st->keylist)));
	sf_spi_exec(psprintf("CREATE TRIGGER %s AFTER DELETE ON %s"
						 " REFERENCING OLD TABLE AS sf_old FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.concurrent_distribution_log(%s, %s)",
						 quote_identifier(sf_cdc_trigger_name(st->relid, 'd')), st->qualname,
						 quote_literal_cstr(st->logqual), quote_literal_cstr(st->keylist)));
	sf_fault_point("concurrent-log", true);
	sf_cdc_commit();
}

/* Phase 2: copy a snapshot of the table into the shards */
static void
sf_cdc_copy(SfCdcState *st)
{
	SfDistributePlan plan;

	TimestampTz start = GetCurrentTimestamp();

	sf_job_report("copy", "copying the rows to the shards");
	sf_cdc_begin(false);
	memset(&plan, 0, sizeof(plan));
	plan.relid = st->relid;
	plan.qualname = st->qualname;
	plan.tmpqual = st->tmpqual;
	sf_distribution_copy_rows(&plan);
	sf_fault_point("concurrent-copy", true);
	sf_cdc_commit();
	st->copy_ms = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
}

/* Phase 3: replay the change log until the backlog is small */
static void
sf_cdc_catch_up(SfCdcState *st)
{
	int			round;

	for (round = 1; round <= SF_CDC_MAX_ROUNDS; round++)
	{
		uint64		n;

		CHECK_FOR_INTERRUPTS();
		sf_cdc_begin(true);
		n = sf_cdc_replay(st);
		st->replayed += n;
		st->rounds++;
		sf_fault_point("concurrent-catch-up", true);
		sf_cdc_commit();
		sf_job_report("catch-up", psprintf("round %d replayed " UINT64_FORMAT " changed keys", round, n));
		if (n < SF_CDC_SMALL_BACKLOG)
			break;
	}
}

/* Phase 4: the switch, under an ACCESS EXCLUSIVE lock */
static void
sf_cdc_switch(SfCdcState *st)
{
	SfDistributePlan plan;
	ListCell   *lc;
	int			i;
	char		events[] = {'i', 'u', 'd'};

	TimestampTz start = GetCurrentTimestamp();
	TimestampTz locked;

	sf_job_report("switch", "waiting for the lock");
	sf_cdc_begin_locked(st, AccessExclusiveLock, true);
	/* the switch is durable before anybody uses the shards */
	sf_require_durable_commit();
	locked = GetCurrentTimestamp();
	st->switch_lock_wait_ms = TimestampDifferenceMilliseconds(start, locked);

	/* nothing writes the table now */
	for (i = 0; i < 3; i++)
		sf_spi_exec(psprintf("DROP TRIGGER IF EXISTS %s ON %s",
							 quote_identifier(sf_cdc_trigger_name(st->relid, events[i])),
							 st->qualname));
	CommandCounterIncrement();

	/* the same validation again: nothing may have changed */
	sf_cdc_plan(st, &plan);
	if (plan.shardcount != st->shardcount)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot distribute table \"%s\": its co-location group changed during create_distributed_table_concurrently",
						st->relname),
				 errhint("Call create_distributed_table_concurrently again.")));
	for (i = 0; i < plan.shardcount; i++)
		if (plan.serverids[i] != st->serverids[i] || plan.moduli[i] != st->moduli[i])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot distribute table \"%s\": the placement of shard %d changed during create_distributed_table_concurrently",
							st->relname, i),
					 errhint("Call create_distributed_table_concurrently again.")));
	sf_distribution_prepare(&plan);
	plan.newrelid = get_relname_relid(plan.tmpname, get_rel_namespace(st->relid));
	if (!OidIsValid(plan.newrelid))
		elog(ERROR, "the new parent of table \"%s\" disappeared", st->relname);
	plan.shardids = st->shardids;
	plan.shardnames = st->shardnames;

	/* the rest of the log */
	st->replayed_last = sf_cdc_replay(st);
	sf_spi_exec(psprintf("DROP TABLE %s", st->logqual));

	/* the same final steps as create_distributed_table */
	sf_drop_fkey_placeholders(st->relid);
	sf_carry_over_table_properties(st->relid, plan.newrelid, plan.tmpqual);
	sf_distribution_create_colocation(&plan);
	sf_distribution_switch(&plan);
	(void) lc;

	sf_fault_point("concurrent-switch", true);
	sf_cdc_commit();
	st->cleanup_needed = false;
	st->switch_hold_ms = TimestampDifferenceMilliseconds(locked, GetCurrentTimestamp());
}

/*
 * The job: args is a text[] literal (see the SQL function).
 */
static void
sf_cdc_job(int64 jobid, const char *args)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "create_distributed_table_concurrently",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SfCdcState *st = palloc0(sizeof(SfCdcState));
	List	   *values = NIL;
	uint64		i;

	/* the arguments */
	sf_cdc_begin(false);
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		argvalues[1];

		argvalues[0] = CStringGetTextDatum(args);
		if (SPI_execute_with_args("SELECT x FROM pg_catalog.unnest($1::pg_catalog.text[])"
								  " WITH ORDINALITY AS u (x, n) ORDER BY n",
								  1, argtypes, argvalues, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not parse the arguments of job " INT64_FORMAT, jobid);
		MemoryContextSwitchTo(cxt);
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			values = lappend(values, v ? pstrdup(v) : pstrdup(""));
		}
	}
	sf_cdc_commit();
	MemoryContextSwitchTo(cxt);
	if (list_length(values) != 6)
		elog(ERROR, "bad arguments for job " INT64_FORMAT ": %s", jobid, args);
	st->relid = (Oid) strtoul(list_nth(values, 0), NULL, 10);
	st->column = list_nth(values, 1);
	st->method = list_nth(values, 2);
	st->colocate_with = list_nth(values, 3);
	st->shardcount_given = strcmp(list_nth(values, 4), "t") == 0;
	st->shardcount_arg = atoi(list_nth(values, 5));
	st->relname = psprintf("%u", st->relid);
	MemoryContextSwitchTo(old);

	sf_cdc_active = st;
	st->started = GetCurrentTimestamp();
	before_shmem_exit(sf_cdc_exit_callback, (Datum) 0);

	PG_TRY();
	{
		sf_cdc_setup(st, cxt);
		sf_cdc_copy(st);
		sf_cdc_catch_up(st);
		sf_cdc_switch(st);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		st->locked = false;		/* the abort released it */
		if (st->cleanup_needed)
		{
			PG_TRY();
			{
				sf_cdc_cleanup(st);
			}
			PG_CATCH();
			{
				/* the leftovers stay until the next attempt drops them */
				EmitErrorReport();
				FlushErrorState();
				AbortOutOfAnyTransaction();
				st->locked = false;
			}
			PG_END_TRY();
		}
		sf_cdc_unlock(st);
		sf_cdc_active = NULL;
		ReThrowError(edata);
	}
	PG_END_TRY();

	sf_cdc_unlock(st);
	sf_cdc_active = NULL;
	{
		char	   *summary = psprintf("in %ld ms: copy %ld ms, %d catch-up rounds replayed " UINT64_FORMAT
									   " changed keys, the switch waited %ld ms for its lock and held it %ld ms"
									   " (replaying " UINT64_FORMAT " keys)",
									   TimestampDifferenceMilliseconds(st->started, GetCurrentTimestamp()),
									   st->copy_ms, st->rounds, st->replayed,
									   st->switch_lock_wait_ms, st->switch_hold_ms,
									   st->replayed_last);

		ereport(LOG,
				(errmsg("create_distributed_table_concurrently distributed table \"%s\" %s",
						st->relname, summary)));
		sf_job_report("done", summary);
	}
}

/* ----------------------------------------------------------------
 * SQL functions
 * ----------------------------------------------------------------
 */

/*
 * create_distributed_table_concurrently(table_name regclass,
 *	 distribution_column text, distribution_type text, colocate_with text,
 *	 shard_count int): see the file header.
 */
Datum
shardfdw_create_distributed_table_concurrently(PG_FUNCTION_ARGS)
{
	Oid			relid;
	List	   *keycols;
	StringInfoData args;
	SfJob	   *job;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name and distribution_column must not be NULL")));
	relid = PG_GETARG_OID(0);
	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");
	sf_job_refuse_transaction_block("create_distributed_table_concurrently");

	/* the job's locks would wait for ours, and we for the job */
	if (sf_job_caller_holds_lock(relid))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("create_distributed_table_concurrently cannot distribute table \"%s\" after the same transaction used it",
						get_rel_name(relid)),
				 errhint("Call it in a statement of its own.")));

	SPI_connect();
	keycols = sf_cdc_key_columns(relid);
	SPI_finish();
	if (keycols == NIL)
	{
		/* no key to replay changes by: the blocking conversion */
		sf_create_distributed_table(fcinfo, true);
		PG_RETURN_VOID();
	}

	initStringInfo(&args);
	appendStringInfoChar(&args, '{');
	sf_cdc_append_array_element(&args, psprintf("%u", relid));
	sf_cdc_append_array_element(&args, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	sf_cdc_append_array_element(&args, PG_ARGISNULL(2) ? "hash" : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	sf_cdc_append_array_element(&args, PG_ARGISNULL(3) ? "default" : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	sf_cdc_append_array_element(&args, PG_ARGISNULL(4) ? "f" : "t");
	sf_cdc_append_array_element(&args, PG_ARGISNULL(4) ? "0" : psprintf("%d", PG_GETARG_INT32(4)));
	/* the job runs with the caller's settings (job.c) */
	appendStringInfoChar(&args, '}');

	job = sf_job_launch(SF_CDC_JOB_KIND, args.data, 0);
	sf_job_wait_outcome(job);
	PG_RETURN_VOID();
}

/*
 * Trigger function shardfdw.concurrent_distribution_log(log, keys): a
 * statement-level AFTER trigger with transition tables sf_old / sf_new;
 * logs the key columns (keys, quoted and comma-separated) of every row in
 * them into table log.
 */
Datum
shardfdw_concurrent_distribution_log(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *logqual;
	const char *keys;

	if (!CALLED_AS_TRIGGER(fcinfo) || td->tg_trigger->tgnargs != 2)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("shardfdw.concurrent_distribution_log() must be called as a trigger with two arguments")));
	logqual = td->tg_trigger->tgargs[0];
	keys = td->tg_trigger->tgargs[1];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	if (td->tg_oldtable != NULL)
		sf_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM sf_old", logqual, keys, keys));
	if (td->tg_newtable != NULL)
		sf_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM sf_new", logqual, keys, keys));
	SPI_finish();
	return PointerGetDatum(NULL);
}
