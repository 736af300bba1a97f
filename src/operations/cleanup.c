/*-------------------------------------------------------------------------
 *
 * cleanup.c
 *	  Cleanup records (shardfdw.cleanup) and the cleanup pass:
 *	  shardfdw_cleanup_orphaned_resources() and
 *	  citus_cleanup_orphaned_resources.
 *
 * An operation that creates objects on workers outside the coordinator's
 * transaction (shard tables, publications, replication slots,
 * subscriptions) first commits one record per object.  Records of policy
 * on_failure are deleted by the transaction that makes the operation
 * succeed (the cutover of a move), which also inserts on_success records
 * for what became garbage (the source shards); always records are dropped
 * whatever happens.  So once an operation is over, every record left names
 * an object to drop: the pass drops it (idempotently: IF EXISTS) and
 * deletes the record, or leaves it for the next pass if a worker could not
 * be reached.
 *
 * An operation is over when its session-level advisory lock
 * (SF_OPERATION_LOCK_KEY) is free: the job holds it while it runs, and a
 * killed job or coordinator releases it.  As a last safeguard a shard table
 * is never dropped on a server where the catalog places that shard.
 *
 * Remote commands run on dedicated autocommit connections (sf_connect_raw)
 * with the current user's user mapping, never in the caller's remote
 * transactions: DROP SUBSCRIPTION and slot functions need that.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "common/hashfn.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "shard_transfer.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "pgstat.h"

PG_FUNCTION_INFO_V1(shardfdw_cleanup_orphaned_resources);

/* A raw connection per server during one pass */
typedef struct SfCleanupConn
{
	char	   *server;
	PGconn	   *conn;			/* NULL: could not connect */
} SfCleanupConn;

/* One record being resolved */
typedef struct SfCleanupRecord
{
	int64		recordid;
	int64		opid;			/* its operation */
	char	   *object_type;
	char	   *server;
	char	   *object_name;
	int64		shardid;		/* 0 if none */
	bool		placed_there;	/* the catalog places shardid on server */
} SfCleanupRecord;

/*
 * Make the current transaction commit synchronously (see operations.h).
 *
 * A cleanup record is committed before the worker object it describes is
 * created, so that a crash never leaves an object nobody knows about; the
 * cutover of a move or split (and the switch of a concurrent distribution)
 * makes other sessions use the new shards; an operation in the caller's
 * transaction (create_distributed_table, undistribute_table, reference
 * table replicas) has the workers commit their part (COMMIT PREPARED)
 * right after the coordinator's commit.  Each is only as good as that
 * commit's durability: with synchronous_commit = off (a job takes it from
 * its caller's session like any other setting) the commit returns before
 * its WAL is flushed, the operation goes on on the workers, and a
 * coordinator crash in between loses the record (an orphan on a worker),
 * the switch, or the catalog change the workers already committed to.
 *
 * Two things, both undone at the transaction's end:
 *	- ForceSyncCommit(): the commit record is flushed before the commit
 *	  returns and before the transaction's effects become visible (so not
 *	  an XLogFlush() after the commit, which would let other sessions use a
 *	  cutover before it is durable).  A flag of the transaction: nothing
 *	  the caller sets afterwards (a function's SET clause ending) undoes it;
 *	- SET LOCAL synchronous_commit = on when the session has less, so the
 *	  commit also waits for synchronous standbys, if any (ForceSyncCommit
 *	  alone flushes only locally: a failover could lose the record).  This
 *	  part lasts until the end of the transaction, or of the function SET
 *	  clause the caller runs in.
 */
void
sf_require_durable_commit(void)
{
	ForceSyncCommit();
	if (synchronous_commit < SYNCHRONOUS_COMMIT_ON)
		(void) set_config_option("synchronous_commit", "on", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * Record an object (see shard_transfer.h).
 */
void
sf_cleanup_record(int64 opid, const char *object_type, const char *server,
				  const char *object_name, int64 shardid, const char *policy)
{
	/* the record must be on disk before the object exists */
	sf_require_durable_commit();
	SPI_connect();
	sf_spi_exec(psprintf("INSERT INTO shardfdw.cleanup (operation_id, object_type, server_name,"
						 " object_name, shardid, policy) VALUES (" INT64_FORMAT ", %s, %s, %s, %s, %s)",
						 opid, quote_literal_cstr(object_type), quote_literal_cstr(server),
						 quote_literal_cstr(object_name),
						 shardid != 0 ? psprintf(INT64_FORMAT, shardid) : "NULL",
						 quote_literal_cstr(policy)));
	SPI_finish();
}

/* Workers' notices (drop cascades to ...) are of no interest */
static void
cleanup_ignore_notice(void *arg, const char *message)
{
}

/* The pass's connection to a server (opened on first use), or NULL */
static PGconn *
cleanup_conn(List **conns, const char *server)
{
	ListCell   *lc;
	SfCleanupConn *c;
	ForeignServer *fs;
	char	   *why = NULL;

	foreach(lc, *conns)
	{
		c = lfirst(lc);
		if (strcmp(c->server, server) == 0)
			return c->conn;
	}
	c = palloc0(sizeof(SfCleanupConn));
	c->server = pstrdup(server);
	fs = GetForeignServerByName(server, true);
	if (fs != NULL)
	{
		c->conn = sf_connect_raw(fs->serverid, &why);
		if (c->conn != NULL)
			PQsetNoticeProcessor(c->conn, cleanup_ignore_notice, NULL);
		else
			ereport(LOG,
					(errmsg("shardfdw cleanup: could not connect to server \"%s\": %s",
							server, why ? why : "unknown reason")));
	}
	*conns = lappend(*conns, c);
	return c->conn;
}

/* Run one command; true if it succeeded (failures logged at LOG) */
static bool
cleanup_exec(PGconn *conn, const char *server, const char *sql)
{
	PGresult   *res = sf_raw_exec(conn, sql);
	bool		ok = res != NULL &&
		(PQresultStatus(res) == PGRES_COMMAND_OK ||
		 PQresultStatus(res) == PGRES_TUPLES_OK);

	if (!ok)
		ereport(LOG,
				(errmsg("shardfdw cleanup: command failed on server \"%s\": %s",
						server, res ? pchomp(PQresultErrorMessage(res)) : "connection lost"),
				 errdetail("Command: %s", sql)));
	if (res)
		PQclear(res);
	return ok;
}

/*
 * Run query (a count) on conn: 1 if it returned 0, 0 if it returned more,
 * -1 if it failed.
 */
static int
cleanup_count_is_zero(PGconn *conn, const char *query)
{
	PGresult   *res = sf_raw_exec(conn, query);
	int			result;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		result = -1;
	else
		result = strcmp(PQgetvalue(res, 0, 0), "0") == 0 ? 1 : 0;
	if (res)
		PQclear(res);
	return result;
}

/*
 * The coordinator tag (see shard_transfer.h): a hash of the system
 * identifier and the database OID.  Two coordinator databases get the same
 * tag with probability 2^-32; a copy of a coordinator (a promoted standby,
 * a restored base backup) gets its original's, but also its shards.
 */
const char *
sf_coordinator_tag(void)
{
	static char tag[9] = "";
	static Oid	tag_db = InvalidOid;

	if (tag[0] == '\0' || tag_db != MyDatabaseId)
	{
		uint64		key[2];

		key[0] = GetSystemIdentifier();
		key[1] = (uint64) MyDatabaseId;
		snprintf(tag, sizeof(tag), "%08x",
				 hash_bytes((const unsigned char *) key, sizeof(key)));
		tag_db = MyDatabaseId;
	}
	return tag;
}

/* Wait 100 ms between two attempts of a cleanup step (interruptible) */
static void
cleanup_pause(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 100, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Drop the replication slots of server whose name matches (op is "=" or
 * "LIKE", lit a quoted literal), terminating the walsenders still using
 * them, and those of the same application_name (a subscription's workers
 * connect under their slot's name): one caught creating its slot would
 * otherwise create it after the drop.  Retries for a few seconds while a
 * terminated walsender is exiting.
 */
static bool
cleanup_drop_slots(PGconn *conn, const char *server, const char *op, const char *lit)
{
	int			attempt;
	char	   *condition = psprintf("slot_name::pg_catalog.text %s %s", op, lit);

	for (attempt = 0; attempt < 50; attempt++)
	{
		PGresult   *res;
		int			done;

		if (!cleanup_exec(conn, server,
						  psprintf("SELECT pg_catalog.pg_terminate_backend(pid)"
								   " FROM pg_catalog.pg_stat_activity"
								   " WHERE backend_type = 'walsender' AND (application_name %s %s"
								   "  OR pid IN (SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE %s))",
								   op, lit, condition)))
			return false;
		res = sf_raw_exec(conn,
						  psprintf("SELECT pg_catalog.count(pg_catalog.pg_drop_replication_slot(slot_name))"
								   " FROM pg_catalog.pg_replication_slots WHERE %s AND NOT active",
								   condition));
		if (res)
			PQclear(res);
		done = cleanup_count_is_zero(conn,
									 psprintf("SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_replication_slots WHERE %s)"
											  " + (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity"
											  "    WHERE backend_type = 'walsender' AND application_name %s %s)",
											  condition, op, lit));
		if (done != 0)
			return done > 0;
		cleanup_pause();
	}
	ereport(LOG,
			(errmsg("shardfdw cleanup: replication slots still in use on server \"%s\"", server)));
	return false;
}

/*
 * End the sessions of server whose application_name is lit (a quoted
 * literal): an operation's worker connection (a split's), which may still
 * run a command after the operation died, and commit an object after the
 * pass looked for it.  True once none is left (waits a few seconds for
 * terminated backends to exit).
 */
static bool
cleanup_end_sessions(PGconn *conn, const char *server, const char *lit)
{
	int			attempt;

	for (attempt = 0; attempt < 50; attempt++)
	{
		int			done;

		done = cleanup_count_is_zero(conn,
									 psprintf("SELECT pg_catalog.count(*) FILTER (WHERE NOT pg_catalog.pg_terminate_backend(pid))"
											  " + pg_catalog.count(*) FROM pg_catalog.pg_stat_activity"
											  " WHERE application_name = %s AND pid <> pg_catalog.pg_backend_pid()",
											  lit));
		if (done != 0)
			return done > 0;
		cleanup_pause();
	}
	ereport(LOG,
			(errmsg("shardfdw cleanup: session %s on server \"%s\" did not end", lit, server)));
	return false;
}

/* Drop one recorded object; true if it is gone */
static bool
cleanup_drop(PGconn *conn, SfCleanupRecord *r)
{
	const char *lit = quote_literal_cstr(r->object_name);

	if (strcmp(r->object_type, "subscription") == 0)
	{
		PGresult   *res = sf_raw_exec(conn,
									  psprintf("SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = %s"
											   " AND subdbid = (SELECT oid FROM pg_catalog.pg_database"
											   "  WHERE datname = pg_catalog.current_database())", lit));
		bool		exists;
		const char *ident = quote_identifier(r->object_name);

		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			if (res)
				PQclear(res);
			return false;
		}
		exists = PQntuples(res) > 0;
		PQclear(res);
		if (!exists)
		{
			/*
			 * Gone, unless its CREATE SUBSCRIPTION is still running (its
			 * job died while waiting for it): cancel that and look again
			 * at the next pass.
			 */
			res = sf_raw_exec(conn,
							  psprintf("SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_stat_activity"
									   " WHERE pid <> pg_catalog.pg_backend_pid()"
									   " AND query LIKE %s",
									   quote_literal_cstr(psprintf("CREATE SUBSCRIPTION %s %%", ident))));
			if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
			{
				if (res)
					PQclear(res);
				return false;
			}
			exists = PQntuples(res) > 0;
			PQclear(res);
			if (exists)
				ereport(LOG,
						(errmsg("shardfdw cleanup: subscription %s on server \"%s\" is still being created, cancelled",
								r->object_name, r->server)));
			return !exists;
		}
		return cleanup_exec(conn, r->server, psprintf("ALTER SUBSCRIPTION %s DISABLE", ident)) &&
			cleanup_exec(conn, r->server, psprintf("ALTER SUBSCRIPTION %s SET (slot_name = NONE)", ident)) &&
			cleanup_exec(conn, r->server, psprintf("DROP SUBSCRIPTION IF EXISTS %s", ident));
	}
	if (strcmp(r->object_type, "slot") == 0)
		return cleanup_drop_slots(conn, r->server, "=", lit);
	if (strcmp(r->object_type, "sync_slots") == 0)
		return cleanup_drop_slots(conn, r->server, "LIKE", lit);
	if (strcmp(r->object_type, "publication") == 0)
		return cleanup_exec(conn, r->server,
							psprintf("DROP PUBLICATION IF EXISTS %s", quote_identifier(r->object_name)));
	if (strcmp(r->object_type, "replica_identity") == 0)
		return cleanup_exec(conn, r->server,
							psprintf("ALTER TABLE IF EXISTS %s REPLICA IDENTITY DEFAULT", r->object_name));
	if (strcmp(r->object_type, "session") == 0)
		return cleanup_end_sessions(conn, r->server, lit);
	if (strcmp(r->object_type, "function") == 0)
		return cleanup_exec(conn, r->server,
							psprintf("SET LOCAL lock_timeout = '10s'; DROP FUNCTION IF EXISTS %s CASCADE",
									 r->object_name));
	if (strcmp(r->object_type, "table") == 0)
		return cleanup_exec(conn, r->server,
							psprintf("SET LOCAL lock_timeout = '10s'; DROP TABLE IF EXISTS %s CASCADE",
									 r->object_name));
	if (strcmp(r->object_type, "shard") == 0)
	{
		if (r->placed_there)
		{
			ereport(LOG,
					(errmsg("shardfdw cleanup: shard table %s on server \"%s\" is in use, not dropped",
							r->object_name, r->server)));
			return true;
		}
		return cleanup_exec(conn, r->server,
							psprintf("DROP TABLE IF EXISTS %s CASCADE", r->object_name));
	}
	elog(LOG, "shardfdw cleanup: unknown object type \"%s\"", r->object_type);
	return false;
}

/*
 * Orphans: objects named after an operation whose operation is not running
 * (or is opid), recorded or not, on any node: subscriptions, slots and
 * publications of moves (shardfdw_move_<operation id>_<tag>), capture
 * functions (shardfdw_split_capture_<operation id>_<shard id>_<tag>) and
 * helper tables (shardfdw_split_log_<operation id>_<shard id>_<tag>,
 * shardfdw_split_key_<operation id>_<tag>) of splits, where tag is this
 * coordinator's (sf_coordinator_tag): objects of another coordinator
 * sharing the worker are not ours to judge.  A job that died while its
 * CREATE SUBSCRIPTION (or slot, or publication) was still running on a
 * worker (coordinator killed, job terminated) could not wait for it: the
 * command may have committed after the job's records were resolved.  The
 * nodes are scanned before the running operations are read: an object a
 * running operation created is then always seen as its.  Subscriptions are
 * dropped first on every node (a table of a subscription whose table
 * synchronization has not finished cannot be dropped), then slots, then
 * publications, then the split objects.  Returns how many objects were
 * dropped.  SPI is connected.
 */
static int
cleanup_orphans(List **conns, int64 opid)
{
	static const char *const types[] = {"subscription", "slot", "publication", "function", "table"};
	List	   *servers = NIL;
	List	   *found = NIL;
	List	   *running = NIL;
	ListCell   *lc;
	int			dropped = 0;
	int			t;
	uint64		i;

	sf_spi_exec_count("SELECT server_name FROM shardfdw.node ORDER BY nodeid", -1);
	for (i = 0; i < SPI_processed; i++)
		servers = lappend(servers, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));

	foreach(lc, servers)
	{
		char	   *server = lfirst(lc);
		PGconn	   *conn;
		PGresult   *res;
		int			j;

		if (GetForeignServerByName(server, true) == NULL ||
			(conn = cleanup_conn(conns, server)) == NULL)
			continue;
		res = sf_raw_exec(conn,
						  psprintf("SELECT 'subscription', subname::pg_catalog.text,"
								   "  pg_catalog.substring(subname, '^shardfdw_move_([0-9]+)_')"
								   " FROM pg_catalog.pg_subscription"
								   " WHERE subname ~ '^shardfdw_move_[0-9]+_%1$s$' AND subdbid ="
								   "  (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
								   " UNION ALL SELECT 'slot', slot_name::pg_catalog.text,"
								   "  pg_catalog.substring(slot_name, '^shardfdw_move_([0-9]+)_')"
								   " FROM pg_catalog.pg_replication_slots"
								   " WHERE slot_name ~ '^shardfdw_move_[0-9]+_%1$s$' AND database = pg_catalog.current_database()"
								   " UNION ALL SELECT 'publication', pubname::pg_catalog.text,"
								   "  pg_catalog.substring(pubname, '^shardfdw_move_([0-9]+)_')"
								   " FROM pg_catalog.pg_publication"
								   " WHERE pubname ~ '^shardfdw_move_[0-9]+_%1$s$'"
								   " UNION ALL SELECT 'function', p.oid::pg_catalog.regprocedure::pg_catalog.text,"
								   "  pg_catalog.substring(p.proname, '^shardfdw_split_capture_([0-9]+)_')"
								   " FROM pg_catalog.pg_proc p WHERE p.proname ~ '^shardfdw_split_capture_[0-9]+_[0-9]+_%1$s$'"
								   " UNION ALL SELECT 'table', c.oid::pg_catalog.regclass::pg_catalog.text,"
								   "  pg_catalog.substring(c.relname, '^shardfdw_split_(?:log|key)_([0-9]+)_')"
								   " FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p')"
								   " AND c.relname ~ '^shardfdw_split_(log_[0-9]+_[0-9]+|key_[0-9]+)_%1$s$'",
								   sf_coordinator_tag()));
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			if (res)
				PQclear(res);
			continue;
		}
		for (j = 0; j < PQntuples(res); j++)
		{
			SfCleanupRecord *r = palloc0(sizeof(SfCleanupRecord));

			r->object_type = pstrdup(PQgetvalue(res, j, 0));
			r->server = server;
			r->object_name = pstrdup(PQgetvalue(res, j, 1));
			r->opid = pg_strtoint64(PQgetvalue(res, j, 2));
			found = lappend(found, r);
		}
		PQclear(res);
	}
	if (found == NIL)
		return 0;

	/* the operations running now (after the scan) */
	sf_spi_exec_count("SELECT ((l.classid::pg_catalog.int8 << 32) | l.objid::pg_catalog.int8)"
					  "  & x'FFFFFFFFFFFF'::pg_catalog.int8"
					  " FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
					  " AND l.objsubid = 1 AND l.granted AND l.database ="
					  "  (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
					  " AND (l.classid::pg_catalog.int8 >> 16) = x'5346'::pg_catalog.int8", -1);
	for (i = 0; i < SPI_processed; i++)
	{
		int64	   *id = palloc(sizeof(int64));

		*id = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		running = lappend(running, id);
	}

	for (t = 0; t < lengthof(types); t++)
	{
		foreach(lc, found)
		{
			SfCleanupRecord *r = lfirst(lc);
			bool		is_running = false;
			ListCell   *lc2;

			if (strcmp(r->object_type, types[t]) != 0)
				continue;
			foreach(lc2, running)
				if (*(int64 *) lfirst(lc2) == r->opid)
					is_running = true;
			if (is_running && r->opid != opid)
				continue;
			CHECK_FOR_INTERRUPTS();
			if (cleanup_drop(cleanup_conn(conns, r->server), r))
			{
				ereport(LOG,
						(errmsg("shardfdw cleanup: dropped %s %s on server \"%s\"",
								r->object_type, r->object_name, r->server)));
				dropped++;
			}
		}
	}
	return dropped;
}

/* Is r's operation's session on r's server in sessions (unresolved)? */
static bool
cleanup_session_alive(List *sessions, SfCleanupRecord *r)
{
	ListCell   *lc;

	foreach(lc, sessions)
	{
		SfCleanupRecord *s = lfirst(lc);

		if (s->opid == r->opid && strcmp(s->server, r->server) == 0)
			return true;
	}
	return false;
}

/*
 * The cleanup pass (see shard_transfer.h).
 */
int
sf_cleanup_pass(int64 opid)
{
	List	   *records = NIL;
	List	   *conns = NIL;
	List	   *live_sessions = NIL;
	ListCell   *lc;
	int			resolved = 0;
	uint64		i;

	if (!OidIsValid(sf_catalog_relid("cleanup")))
		return 0;

	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT c.record_id, c.object_type, c.server_name, c.object_name,"
							   "  COALESCE(c.shardid, 0),"
							   "  EXISTS (SELECT 1 FROM shardfdw.placement p JOIN shardfdw.node n USING (nodeid)"
							   "   WHERE p.shardid = c.shardid AND n.server_name = c.server_name),"
							   "  c.operation_id"
							   " FROM shardfdw.cleanup c"
							   " WHERE c.operation_id = " INT64_FORMAT " OR NOT EXISTS"
							   "  (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
							   "   AND l.objsubid = 1 AND l.granted AND l.database ="
							   "   (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
							   "   AND ((l.classid::pg_catalog.int8 << 32) | l.objid::pg_catalog.int8)"
							   "     = ((x'5346'::pg_catalog.int8 << 48) | c.operation_id))"
							   " ORDER BY CASE c.object_type WHEN 'session' THEN 0 WHEN 'subscription' THEN 1"
							   "  WHEN 'sync_slots' THEN 2 WHEN 'slot' THEN 3 WHEN 'publication' THEN 4"
							   "  WHEN 'replica_identity' THEN 5 WHEN 'function' THEN 6 ELSE 7 END, c.record_id"
							   " FOR UPDATE OF c SKIP LOCKED", opid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		SfCleanupRecord *r = palloc0(sizeof(SfCleanupRecord));

		r->recordid = pg_strtoint64(SPI_getvalue(t, d, 1));
		r->object_type = SPI_getvalue(t, d, 2);
		r->server = SPI_getvalue(t, d, 3);
		r->object_name = SPI_getvalue(t, d, 4);
		r->shardid = pg_strtoint64(SPI_getvalue(t, d, 5));
		r->placed_there = strcmp(SPI_getvalue(t, d, 6), "t") == 0;
		r->opid = pg_strtoint64(SPI_getvalue(t, d, 7));
		records = lappend(records, r);
	}

	PG_TRY();
	{
		resolved += cleanup_orphans(&conns, opid);
		foreach(lc, records)
		{
			SfCleanupRecord *r = lfirst(lc);
			PGconn	   *conn;
			bool		gone;

			CHECK_FOR_INTERRUPTS();

			/*
			 * While a session of the operation may still run on that server
			 * (its session record could not be resolved), it could create
			 * an object after we looked: leave its other records there.
			 */
			if (cleanup_session_alive(live_sessions, r))
				continue;
			if (GetForeignServerByName(r->server, true) == NULL)
			{
				ereport(WARNING,
						(errmsg("%s %s on server \"%s\" was not dropped: the server no longer exists",
								r->object_type, r->object_name, r->server)));
				gone = true;
			}
			else
			{
				conn = cleanup_conn(&conns, r->server);
				gone = conn != NULL && cleanup_drop(conn, r);
			}
			if (gone)
			{
				sf_spi_exec(psprintf("DELETE FROM shardfdw.cleanup WHERE record_id = " INT64_FORMAT,
									 r->recordid));
				resolved++;
			}
			else if (strcmp(r->object_type, "session") == 0)
				live_sessions = lappend(live_sessions, r);
		}
	}
	PG_FINALLY();
	{
		foreach(lc, conns)
		{
			SfCleanupConn *c = lfirst(lc);

			if (c->conn)
				PQfinish(c->conn);
		}
	}
	PG_END_TRY();

	/* progress rows of moves that are over */
	sf_spi_exec("DELETE FROM shardfdw.shard_move_state s WHERE NOT EXISTS"
				" (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
				"  AND l.objsubid = 1 AND l.granted"
				"  AND ((l.classid::pg_catalog.int8 << 32) | l.objid::pg_catalog.int8)"
				"    = ((x'5346'::pg_catalog.int8 << 48) | s.job_id))");
	SPI_finish();
	return resolved;
}

/*
 * For the recovery background worker: one pass in its own transaction, if
 * the extension exists in this database.
 */
void
sf_cleanup_background(void)
{
	int			n;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (sf_extension_present())
	{
		pgstat_report_activity(STATE_RUNNING, "shardfdw_cleanup_orphaned_resources()");
		n = sf_cleanup_pass(0);
		if (n > 0)
			ereport(LOG,
					(errmsg("shardfdw cleanup dropped %d orphaned resources", n)));
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * shardfdw_cleanup_orphaned_resources() returns integer: drop what finished
 * (failed, cancelled or killed) operations left on the workers.
 */
Datum
shardfdw_cleanup_orphaned_resources(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(sf_cleanup_pass(0));
}
