/*-------------------------------------------------------------------------
 *
 * split.c
 *	  shardfdw_split_shard and shardfdw_isolate_tenant: replace the hash
 *	  partition (MODULUS m, REMAINDER r) of every table of a co-location
 *	  group by two, (2m, r) and (2m, r + m), on the same worker.
 *
 * The model (see metadata.h): shard indexes run from 0 to the group's
 * shard_count, which is the largest MODULUS in the group; a shard of
 * MODULUS m holds shard_count / m of them.  PostgreSQL accepts a hash
 * partitioned parent whose partitions have different moduli as long as each
 * divides the next larger one, which doubling a modulus keeps true.
 *
 * A split runs in the caller's transaction.  In the 'block_writes' mode
 * (also 'auto'):
 *	1. lock the parent of every table of the group in EXCLUSIVE mode (writes
 *	   wait, reads go on), in OID order, and validate;
 *	2. on the worker, in the remote transaction: lock the old shard tables
 *	   (EXCLUSIVE, with a lock_timeout: an in-doubt prepared transaction
 *	   that wrote them must be resolved first), create the new shard tables,
 *	   copy the rows worker-locally with INSERT ... SELECT filtered by
 *	   satisfies_hash_partition() on a helper hash-partitioned table with
 *	   the same key type and collation (dropped again before commit), check
 *	   that every row landed in exactly one half and that a sample of keys
 *	   hashes, on the coordinator, to the half that holds it; then create
 *	   the foreign keys of the new shards;
 *	3. on the coordinator: detach and drop the old foreign partitions,
 *	   create the new ones, update the catalog (every shard's modulus made
 *	   explicit, the group's shard_count raised), invalidate the caches;
 *	4. after the commit, drop the old shard tables on the worker over a
 *	   connection opened beforehand (a failure there only leaves an unused
 *	   table behind, and says so in a WARNING).
 *
 * Any error before the commit aborts the local and the remote transaction
 * together, so the old shards keep serving and nothing new is left behind.
 * The old shard tables are dropped only after the commit because the
 * remote commit of a transaction that wrote to one worker precedes the
 * local commit: dropping them in it could lose them if the coordinator
 * failed in between.
 *
 * In the online mode ('force_logical', split_online()), step 1 takes SHARE
 * UPDATE EXCLUSIVE locks instead and step 2 runs over a dedicated
 * autocommit connection: a capture trigger logs the keys written to the old
 * shards, the copy runs in its own REPEATABLE READ transaction, catch-up
 * rounds apply the logged keys while writes go on, and only the last round
 * runs under EXCLUSIVE locks (coordinator parents and worker tables).
 * What it created on the worker is dropped if the transaction aborts; a
 * crash leaves it behind (no cleanup records yet), which is why 'auto' is
 * still the offline mode.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/string.h"
#include "commands.h"
#include "commands/defrem.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "partitioning/partdesc.h"
#include "planner.h"
#include "sf_transaction.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(shardfdw_split_shard);
PG_FUNCTION_INFO_V1(shardfdw_isolate_tenant);

/* largest MODULUS a split may create */
#define SF_SPLIT_MAX_MODULUS	(1 << 17)

/*
 * First key of the worker-side advisory lock an online split holds while
 * its capture triggers must log (the second one: the old shard id)
 */
#define SF_SPLIT_LOCK_CLASS		0x53504c54

/* keys per new shard whose hash the coordinator checks */
#define SF_SPLIT_SAMPLE			100

/* One table of the group being split */
typedef struct SplitTable
{
	Oid			relid;
	char	   *nspname;		/* of the shards (where the old one is) */
	char	   *relname;
	char	   *parentqual;		/* the distributed table, qualified */
	char	   *oldremote;		/* the old shard's table on the worker */
	char	   *distcolumn;
	SfShard		old;			/* its shard being split */
	int64		newids[2];		/* (2m, r) and (2m, r + m) */
	char	   *newnames[2];
	/* online mode only: */
	char	   *newquals[2];	/* the new shard tables, qualified */
	char	   *columns;		/* split_columns() */
	char	   *logqual;		/* change log table on the worker */
	char	   *capturefn;		/* its trigger function, "name()" */
} SplitTable;

/*
 * Commands to run on a worker once the transaction ended: the old shard
 * tables to drop after a commit; in the online mode also what the split
 * created on the worker (new tables, change log, trigger) to drop after an
 * abort.
 */
typedef struct SplitDrop
{
	PGconn	   *conn;			/* opened before the commit */
	char	   *servername;
	char	   *sql;			/* after a commit (DROP TABLE ...), or NULL */
	char	   *abort_sql;		/* after an abort, or NULL */
} SplitDrop;

static List *pending_drops = NIL;	/* of SplitDrop *, in TopMemoryContext */
static bool split_callback_registered = false;

static void split_xact_callback(XactEvent event, void *arg);
static char *split_sample_query(const char *qualname, const char *distcolumn);
static void split_check_sample_result(PGresult *res, Relation parent,
									  const char *qualname, int modulus,
									  int remainder);

/*
 * After the commit, drop the old shard tables; after an abort, just close
 * the connections.  Never throws (the transaction is over).
 */
static void
split_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (pending_drops == NIL ||
		(event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		 event != XACT_EVENT_PARALLEL_COMMIT &&
		 event != XACT_EVENT_PARALLEL_ABORT))
		return;

	foreach(lc, pending_drops)
	{
		SplitDrop  *drop = lfirst(lc);

		if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) &&
			drop->sql != NULL)
		{
			PGresult   *res;

			sf_fault_point("split-before-drop-old", false);
			res = sf_raw_exec(drop->conn, drop->sql);
			if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
				ereport(WARNING,
						(errmsg("old shard tables were not dropped on server \"%s\"",
								drop->servername),
						 errdetail("%s failed: %s", drop->sql,
								   res ? PQresultErrorMessage(res) :
								   PQerrorMessage(drop->conn)),
						 errhint("The split succeeded; run the command on the worker to free the space.")));
			if (res)
				PQclear(res);
		}
		else if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) &&
				 drop->abort_sql != NULL)
		{
			PGresult   *res;

			/* cancel a command the error interrupted, end its transaction */
			if (PQtransactionStatus(drop->conn) == PQTRANS_ACTIVE)
			{
				PGcancel   *cancel = PQgetCancel(drop->conn);
				char		errbuf[256];

				if (cancel != NULL)
				{
					(void) PQcancel(cancel, errbuf, sizeof(errbuf));
					PQfreeCancel(cancel);
				}
				while ((res = PQgetResult(drop->conn)) != NULL)
					PQclear(res);
			}
			res = sf_raw_exec(drop->conn, "ROLLBACK");
			if (res)
				PQclear(res);
			res = sf_raw_exec(drop->conn, drop->abort_sql);
			if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
				ereport(WARNING,
						(errmsg("the objects of a failed split were not dropped on server \"%s\"",
								drop->servername),
						 errdetail("%s failed: %s", drop->abort_sql,
								   res ? PQresultErrorMessage(res) :
								   PQerrorMessage(drop->conn)),
						 errhint("Run the command on the worker: its trigger logs every change of the shard.")));
			if (res)
				PQclear(res);
		}
		PQfinish(drop->conn);
		if (drop->sql)
			pfree(drop->sql);
		if (drop->abort_sql)
			pfree(drop->abort_sql);
		pfree(drop->servername);
		pfree(drop);
	}
	list_free(pending_drops);
	pending_drops = NIL;
}

/*
 * Register conn (a dedicated connection to serverid) to be closed when the
 * transaction ends, after running the commands its SplitDrop will hold;
 * returns that SplitDrop, allocated in TopMemoryContext.
 */
static SplitDrop *
split_pending(PGconn *conn, Oid serverid)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	SplitDrop  *drop = palloc0(sizeof(SplitDrop));

	if (!split_callback_registered)
	{
		RegisterXactCallback(split_xact_callback, NULL);
		split_callback_registered = true;
	}
	drop->conn = conn;
	drop->servername = pstrdup(GetForeignServer(serverid)->servername);
	pending_drops = lappend(pending_drops, drop);
	MemoryContextSwitchTo(old);
	return drop;
}

/*
 * Open a connection to serverid now, and drop the tables named in sql
 * (DROP TABLE ...) over it once the current transaction committed.
 */
static void
split_drop_after_commit(Oid serverid, const char *sql)
{
	char	   *why = NULL;
	PGconn	   *conn = sf_connect_raw(serverid, &why);
	PGresult   *res;
	MemoryContext old;
	SplitDrop  *drop;

	if (conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to server \"%s\"",
						GetForeignServer(serverid)->servername),
				 errdetail("%s", why ? why : "unknown reason")));
	/* never wait long for a lock there: leave the table and warn instead */
	res = sf_raw_exec(conn, "SET lock_timeout = '10s'");
	if (res)
		PQclear(res);

	old = MemoryContextSwitchTo(TopMemoryContext);
	drop = split_pending(conn, serverid);
	drop->sql = pstrdup(sql);
	MemoryContextSwitchTo(old);
}

/* The table of shard shardid, or an error naming it */
static const SfTable *
split_shard_table(int64 shardid)
{
	Oid			relid = sf_shard_owner(shardid);
	const SfTable *table = sf_lookup_table(relid);

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("shard " INT64_FORMAT " does not exist", shardid),
				 errhint("The shard ids are in view shardfdw.shards.")));
	if (table->kind != SF_KIND_HASH)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot split the shard of reference table \"%s\"",
						get_rel_name(relid)),
				 errdetail("A reference table has a single shard, copied to every node.")));
	return table;
}

/*
 * Error out unless the workers hash the distribution column of relid like
 * the coordinator: a built-in type (enum hashes depend on OIDs, which differ
 * between servers; other user-defined types on functions the workers may
 * not have) and a deterministic collation.
 */
static void
split_check_key(Oid relid, PartitionKey key)
{
	Oid			type = getBaseType(key->parttypid[0]);
	Oid			collation = key->partcollation[0];

	if (type >= FirstNormalObjectId ||
		key->partsupfunc[0].fn_oid >= FirstNormalObjectId ||
		type_is_enum(type))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot split shards of table \"%s\": its distribution column has type %s",
						get_rel_name(relid), format_type_be(key->parttypid[0])),
				 errdetail("Rows are moved by hashing them on the worker, which is only guaranteed to agree with the coordinator for built-in types.")));
	if (OidIsValid(collation) && collation != DEFAULT_COLLATION_OID &&
		!get_collation_isdeterministic(collation))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot split shards of table \"%s\": its distribution column has a nondeterministic collation",
						get_rel_name(relid)),
				 errdetail("Rows are moved by hashing them on the worker, which is only guaranteed to agree with the coordinator for deterministic collations.")));
}

/* " COLLATE schema.name" for a column's collation when it is not the type's */
static char *
split_collate_clause(Oid type, Oid collation)
{
	HeapTuple	tup;
	Form_pg_collation coll;
	char	   *result;

	if (!OidIsValid(collation) || collation == get_typcollation(type))
		return "";
	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for collation %u", collation);
	coll = (Form_pg_collation) GETSTRUCT(tup);
	result = psprintf(" COLLATE %s",
					  quote_qualified_identifier(get_namespace_name(coll->collnamespace),
												 NameStr(coll->collname)));
	ReleaseSysCache(tup);
	return result;
}

/*
 * The columns of a table's shards: every column of the parent that is not
 * dropped, generated ones included (the shards store their values).
 */
static char *
split_columns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	return buf.data;
}

/*
 * The names of table st's old shard: the schema of its foreign partition
 * (the new shards go there too, on both sides: a table moved with ALTER
 * TABLE SET SCHEMA keeps its shards where they were) and the qualified name
 * of its table on the worker (the foreign table's options).
 */
static void
split_old_shard_names(SplitTable *st)
{
	ForeignTable *ft = GetForeignTable(st->old.shardrelid);
	char	   *remote_schema = NULL;
	char	   *remote_table = NULL;
	ListCell   *lc;

	st->nspname = get_namespace_name(get_rel_namespace(st->old.shardrelid));
	foreach(lc, ft->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "schema_name") == 0)
			remote_schema = defGetString(def);
		else if (strcmp(def->defname, "table_name") == 0)
			remote_table = defGetString(def);
	}
	st->oldremote = quote_qualified_identifier(remote_schema ? remote_schema : st->nspname,
											   remote_table ? remote_table :
											   get_rel_name(st->old.shardrelid));
}

/* Name of the owner of relation relid */
static char *
split_owner_name(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	char	   *name;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	name = GetUserNameFromId(((Form_pg_class) GETSTRUCT(tup))->relowner, false);
	ReleaseSysCache(tup);
	return name;
}

/* Run a query in the remote transaction and return its first value as int64 */
static int64
split_remote_count(SfConn *conn, const char *sql)
{
	PGresult   *res = sf_exec_query(conn, sql, 0, NULL);
	int64		n = 0;

	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		n = pg_strtoint64(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/*
 * Check on the coordinator that up to SF_SPLIT_SAMPLE keys of new shard
 * table qualname hash to remainder with modulus: a safety net against a
 * worker hashing differently.
 */
static void
split_check_sample(SfConn *conn, Relation parent, const char *qualname,
				   const char *distcolumn, int modulus, int remainder)
{
	PGresult   *res;

	res = sf_exec_query(conn, split_sample_query(qualname, distcolumn), 0, NULL);
	split_check_sample_result(res, parent, qualname, modulus, remainder);
}

/* The query of the keys split_check_sample_result checks */
static char *
split_sample_query(const char *qualname, const char *distcolumn)
{
	return psprintf("SELECT %s FROM %s LIMIT %d",
					quote_identifier(distcolumn), qualname, SF_SPLIT_SAMPLE);
}

/*
 * Check that the keys in res (a result of split_sample_query()) hash to
 * remainder with modulus; clears res.
 */
static void
split_check_sample_result(PGresult *res, Relation parent, const char *qualname,
						  int modulus, int remainder)
{
	PartitionKey key = RelationGetPartitionKey(parent);
	Oid			infunc;
	Oid			ioparam;
	int			i;

	getTypeInputInfo(key->parttypid[0], &infunc, &ioparam);
	for (i = 0; i < PQntuples(res); i++)
	{
		bool		isnull = PQgetisnull(res, i, 0);
		Datum		value = isnull ? (Datum) 0 :
			OidInputFunctionCall(infunc, PQgetvalue(res, i, 0), ioparam,
								 key->parttypmod[0]);

		if (sf_hash_remainder(key->partsupfunc[0].fn_oid,
							  key->partcollation[0], value, isnull,
							  modulus) != remainder)
		{
			PQclear(res);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the worker hashes the distribution column of table \"%s\" differently from the coordinator",
							RelationGetRelationName(parent)),
					 errdetail("A row of new shard %s does not belong to REMAINDER %d of MODULUS %d on the coordinator.",
							   qualname, remainder, modulus),
					 errhint("The shard was not split.")));
		}
	}
	PQclear(res);
}

/*
 * The commands creating the foreign keys of the new shards of tables (of
 * SplitTable *), to run once all of them are filled.
 */
static List *
split_fkey_commands(List *tables)
{
	List	   *commands = NIL;
	ListCell   *lc;
	int			h;

	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		List	   *fkeys = sf_load_foreign_keys(st->relid);
		ListCell   *lc2;

		foreach(lc2, fkeys)
		{
			SfForeignKey *fk = lfirst(lc2);
			SplitTable *ref = NULL;
			ListCell   *lc3;

			if (!fk->created || fk->relid != st->relid)
				continue;
			foreach(lc3, tables)
				if (((SplitTable *) lfirst(lc3))->relid == fk->refrelid)
					ref = lfirst(lc3);
			if (ref == NULL && !sf_is_reference_table(fk->refrelid))
				elog(ERROR, "foreign key \"%s\" references table %u outside the co-location group",
					 fk->conname, fk->refrelid);
			for (h = 0; h < 2; h++)
				commands = lappend(commands,
								   sf_foreign_key_shard_command(fk,
																quote_qualified_identifier(st->nspname, st->newnames[h]),
																ref != NULL ?
																quote_qualified_identifier(ref->nspname, ref->newnames[h]) :
																sf_qualified_relname(fk->refrelid),
																st->newids[h]));
		}
	}
	return commands;
}

/*
 * Run sql over rc, a dedicated connection to server servername; returns the
 * result (PGRES_COMMAND_OK or PGRES_TUPLES_OK), or throws the worker's
 * error.
 */
static PGresult *
split_rc(PGconn *rc, const char *servername, const char *sql)
{
	PGresult   *res = sf_raw_exec(rc, sql);
	char	   *state;
	int			code = ERRCODE_CONNECTION_FAILURE;
	char	   *message;

	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
						PQresultStatus(res) == PGRES_TUPLES_OK))
		return res;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strlen(state) == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
	message = pstrdup(res ? PQresultErrorMessage(res) : PQerrorMessage(rc));
	if (res)
		PQclear(res);
	ereport(ERROR,
			(errcode(code),
			 errmsg("split failed on server \"%s\": %s", servername,
					pg_strip_crlf(message) > 0 ? message : "no message"),
			 errdetail("The command was: %s", sql)));
	return NULL;				/* keep the compiler quiet */
}

/* split_rc for a query whose first value is an int64 */
static int64
split_rc_count(PGconn *rc, const char *servername, const char *sql)
{
	PGresult   *res = split_rc(rc, servername, sql);
	int64		n = 0;

	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		n = pg_strtoint64(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* The number of rows a command of split_rc affected */
static int64
split_rc_rows(PGconn *rc, const char *servername, const char *sql)
{
	PGresult   *res = split_rc(rc, servername, sql);
	int64		n = 0;

	if (PQcmdTuples(res)[0] != '\0')
		n = pg_strtoint64(PQcmdTuples(res));
	PQclear(res);
	return n;
}

/*
 * Apply the changes logged by the capture triggers to the new shard tables:
 * replace, in both halves, the rows of every logged key by the source's
 * rows of that key, then empty the log; returns how many log entries were
 * applied.  Run in a REPEATABLE READ transaction (all statements see the
 * same snapshot, so the entries deleted are exactly the ones applied and an
 * entry committed later stays for the next round), or with the source
 * tables locked against writes.
 */
static int64
split_online_replay(PGconn *rc, const char *servername, List *tables,
					const char *helper, int modulus, int shardindex)
{
	ListCell   *lc;
	int64		entries = 0;
	int			h;

	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		const char *col = quote_identifier(st->distcolumn);
		char	   *cond = psprintf("(%s IN (SELECT k FROM %s) OR (%s IS NULL AND EXISTS (SELECT FROM %s WHERE k IS NULL)))",
									col, st->logqual, col, st->logqual);

		for (h = 0; h < 2; h++)
			PQclear(split_rc(rc, servername,
							 psprintf("DELETE FROM %s WHERE %s", st->newquals[h], cond)));
		for (h = 0; h < 2; h++)
			PQclear(split_rc(rc, servername,
							 psprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s"
									  " AND pg_catalog.satisfies_hash_partition(%s::pg_catalog.regclass::pg_catalog.oid, %d, %d, %s)",
									  st->newquals[h], st->columns, st->columns,
									  st->oldremote, cond, quote_literal_cstr(helper),
									  modulus * 2, shardindex + h * modulus, col)));
		entries += split_rc_rows(rc, servername, psprintf("DELETE FROM %s", st->logqual));
	}
	return entries;
}

/*
 * The worker part of an online split (shard_transfer_mode 'force_logical'),
 * over a dedicated autocommit connection, while the coordinator holds the
 * group's parents in SHARE UPDATE EXCLUSIVE mode (writes go on):
 *	1. a capture trigger on every old shard table logs the distribution key
 *	   of every row written into a log table (created and committed first:
 *	   CREATE TRIGGER waits for the writers in progress, so every write
 *	   committed later is logged);
 *	2. the new shard tables are created, and filled in one REPEATABLE READ
 *	   transaction by INSERT ... SELECT filtered with
 *	   satisfies_hash_partition() (its snapshot holds every unlogged write);
 *	3. catch-up rounds apply the log (split_online_replay) while writes go
 *	   on;
 *	4. the group's parents are locked EXCLUSIVE on the coordinator (writes
 *	   wait from here), the old shard tables EXCLUSIVE on the worker (a
 *	   prepared transaction must end first), the rest of the log is
 *	   applied, the row counts compared, the foreign keys created.
 * The triggers log only while the connection holds a session advisory
 * lock (SF_SPLIT_LOCK_CLASS, old shard id): a trigger left behind by a
 * crash stops logging.
 * Returns the SplitDrop of the connection: its abort_sql drops everything
 * created here if the coordinator's transaction aborts; the caller sets
 * its sql (the old tables, the log, the trigger) for after the commit.
 */
static SplitDrop *
split_online(List *tables, Oid serverid, int64 shardid, int modulus,
			 int shardindex)
{
	char	   *servername = GetForeignServer(serverid)->servername;
	char	   *why = NULL;
	PGconn	   *rc = sf_connect_raw(serverid, &why);
	SplitDrop  *drop;
	SplitTable *first = linitial(tables);
	char	   *helper;
	char	   *lockkey;
	StringInfoData undo;
	StringInfoData olds;
	ListCell   *lc;
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz copied_at;
	TimestampTz locked_at;
	int64		rows = 0;
	int64		entries = 0;
	int			rounds = 0;
	int			h;

	if (rc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to server \"%s\"", servername),
				 errdetail("%s", why ? why : "unknown reason")));
	drop = split_pending(rc, serverid);

	/* names, and what an abort drops: registered before creating anything */
	helper = quote_qualified_identifier(first->nspname,
										psprintf("shardfdw_split_key_" INT64_FORMAT,
												 first->newids[0]));
	initStringInfo(&undo);
	initStringInfo(&olds);
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		Relation	rel = table_open(st->relid, NoLock);

		st->columns = split_columns(rel);
		table_close(rel, NoLock);
		for (h = 0; h < 2; h++)
			st->newquals[h] = quote_qualified_identifier(st->nspname, st->newnames[h]);
		st->logqual = quote_qualified_identifier(st->nspname,
												 psprintf("shardfdw_split_log_" INT64_FORMAT,
														  st->old.shardid));
		st->capturefn = psprintf("%s()",
								 quote_qualified_identifier(st->nspname,
															psprintf("shardfdw_split_capture_" INT64_FORMAT,
																	 st->old.shardid)));
		appendStringInfo(&undo, "DROP FUNCTION IF EXISTS %s CASCADE; DROP TABLE IF EXISTS %s, %s, %s; ",
						 st->capturefn, st->logqual, st->newquals[0], st->newquals[1]);
		appendStringInfo(&olds, "%s%s", olds.len > 0 ? ", " : "", st->oldremote);
	}
	appendStringInfo(&undo, "DROP TABLE IF EXISTS %s", helper);
	drop->abort_sql = MemoryContextStrdup(TopMemoryContext, undo.data);

	PQclear(split_rc(rc, servername,
					 "SET lock_timeout = '10s'; SET client_min_messages = warning"));

	/*
	 * The capture triggers log only while this session holds this lock: if
	 * the split dies with its connection (a crash of the coordinator or of
	 * the worker), a trigger left behind stops logging.
	 */
	lockkey = psprintf("%d, %d", SF_SPLIT_LOCK_CLASS,
					   (int) (first->old.shardid & 0x7fffffff));
	PQclear(split_rc(rc, servername,
					 psprintf("SELECT pg_catalog.pg_advisory_lock(%s)", lockkey)));

	/* 1. capture triggers (replacing those of an interrupted split) */
	PQclear(split_rc(rc, servername, "BEGIN"));
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		Relation	rel = table_open(st->relid, NoLock);
		PartitionKey key = RelationGetPartitionKey(rel);
		const char *col = quote_identifier(st->distcolumn);
		char	   *body;

		PQclear(split_rc(rc, servername,
						 psprintf("CREATE SCHEMA IF NOT EXISTS %s",
								  quote_identifier(st->nspname))));
		PQclear(split_rc(rc, servername,
						 psprintf("DROP FUNCTION IF EXISTS %s CASCADE; DROP TABLE IF EXISTS %s",
								  st->capturefn, st->logqual)));
		PQclear(split_rc(rc, servername,
						 psprintf("CREATE TABLE %s (k %s%s)", st->logqual,
								  format_type_extended(key->parttypid[0], key->parttypmod[0],
													   FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
								  split_collate_clause(key->parttypid[0],
													   key->partcollation[0]))));
		table_close(rel, NoLock);
		body = psprintf("BEGIN"
						" IF pg_catalog.pg_try_advisory_xact_lock_shared(%s) THEN RETURN NULL; END IF;"
						" IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.%s IS DISTINCT FROM NEW.%s) THEN"
						" INSERT INTO %s VALUES (OLD.%s); END IF;"
						" IF TG_OP <> 'DELETE' THEN INSERT INTO %s VALUES (NEW.%s); END IF;"
						" RETURN NULL; END",
						lockkey, col, col, st->logqual, col, st->logqual, col);
		PQclear(split_rc(rc, servername,
						 psprintf("CREATE FUNCTION %s RETURNS trigger LANGUAGE plpgsql"
								  " SECURITY DEFINER SET search_path = pg_catalog AS %s",
								  st->capturefn, quote_literal_cstr(body))));
		PQclear(split_rc(rc, servername,
						 psprintf("CREATE TRIGGER shardfdw_split_capture AFTER INSERT OR UPDATE OR DELETE"
								  " ON %s FOR EACH ROW EXECUTE FUNCTION %s; "
								  "ALTER TABLE %s ENABLE ALWAYS TRIGGER shardfdw_split_capture",
								  st->oldremote, st->capturefn, st->oldremote)));
	}
	PQclear(split_rc(rc, servername, "COMMIT"));

	/* 2. new shard tables, the helper, the snapshot copy */
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		List	   *ddl = NIL;
		ListCell   *lc2;
		uint64		i;

		sf_spi_exec_count(psprintf("SELECT name, kind, definition FROM shardfdw.shard_ddl"
								   " WHERE relid = %u ORDER BY kind, name", st->relid), -1);
		for (i = 0; i < SPI_processed; i++)
		{
			SfShardDdl *d = palloc(sizeof(SfShardDdl));

			d->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			d->kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)[0];
			d->definition = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
			ddl = lappend(ddl, d);
		}
		for (h = 0; h < 2; h++)
			foreach(lc2, sf_shard_create_commands(st->relid, ddl, st->nspname,
												  st->newnames[h], st->newids[h]))
				PQclear(split_rc(rc, servername, lfirst(lc2)));
	}
	{
		Relation	rel = table_open(first->relid, NoLock);
		PartitionKey key = RelationGetPartitionKey(rel);

		PQclear(split_rc(rc, servername,
						 psprintf("CREATE TABLE %s (k %s%s) PARTITION BY HASH (k)",
								  helper,
								  format_type_extended(key->parttypid[0], key->parttypmod[0],
													   FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
								  split_collate_clause(key->parttypid[0],
													   key->partcollation[0]))));
		table_close(rel, NoLock);
	}
	sf_fault_point("split-after-create", true);

	PQclear(split_rc(rc, servername, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		Relation	rel = table_open(st->relid, NoLock);
		int64		total;
		int64		copied = 0;

		total = split_rc_count(rc, servername,
							   psprintf("SELECT pg_catalog.count(*) FROM %s", st->oldremote));
		for (h = 0; h < 2; h++)
		{
			copied += split_rc_rows(rc, servername,
									psprintf("INSERT INTO %s (%s) SELECT %s FROM %s"
											 " WHERE pg_catalog.satisfies_hash_partition(%s::pg_catalog.regclass::pg_catalog.oid, %d, %d, %s)",
											 st->newquals[h], st->columns, st->columns,
											 st->oldremote, quote_literal_cstr(helper),
											 modulus * 2, shardindex + h * modulus,
											 quote_identifier(st->distcolumn)));
			split_check_sample_result(split_rc(rc, servername,
											   split_sample_query(st->newquals[h], st->distcolumn)),
									  rel, st->newquals[h], modulus * 2,
									  shardindex + h * modulus);
		}
		if (copied != total)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("cannot split shard " INT64_FORMAT " of table \"%s\": " INT64_FORMAT " of its " INT64_FORMAT " rows were copied",
							st->old.shardid, st->relname, copied, total),
					 errhint("The shard was not split.")));
		rows += total;
		table_close(rel, NoLock);
	}
	PQclear(split_rc(rc, servername, "COMMIT"));
	copied_at = GetCurrentTimestamp();
	sf_fault_point("split-after-copy", true);

	/* 3. catch up while writes go on, until little is left */
	for (rounds = 0; rounds < 5; rounds++)
	{
		int64		n;

		PQclear(split_rc(rc, servername, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
		n = split_online_replay(rc, servername, tables, helper, modulus, shardindex);
		PQclear(split_rc(rc, servername, "COMMIT"));
		entries += n;
		if (n < 1000)
		{
			rounds++;
			break;
		}
	}

	/* 4. writes wait from here: the last changes, checks, foreign keys */
	foreach(lc, tables)
		LockRelationOid(((SplitTable *) lfirst(lc))->relid, ExclusiveLock);
	locked_at = GetCurrentTimestamp();
	PQclear(split_rc(rc, servername, "BEGIN"));
	{
		PGresult   *res = sf_raw_exec(rc, psprintf("LOCK TABLE %s IN EXCLUSIVE MODE", olds.data));

		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			char	   *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

			if (state != NULL && strcmp(state, "55P03") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("cannot split shard " INT64_FORMAT ": its tables are locked on worker \"%s\"",
								shardid, servername),
						 errdetail("%s", PQresultErrorMessage(res)),
						 errhint("A prepared transaction left by a failure may hold the lock: run SELECT recover_prepared_transactions(), then retry.")));
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("split failed on server \"%s\": %s", servername,
							res ? PQresultErrorMessage(res) : PQerrorMessage(rc))));
		}
		PQclear(res);
	}
	entries += split_online_replay(rc, servername, tables, helper, modulus, shardindex);
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		int64		before = split_rc_count(rc, servername,
											psprintf("SELECT pg_catalog.count(*) FROM %s",
													 st->oldremote));
		int64		after = split_rc_count(rc, servername,
										   psprintf("SELECT (SELECT pg_catalog.count(*) FROM %s) + (SELECT pg_catalog.count(*) FROM %s)",
													st->newquals[0], st->newquals[1]));

		if (before != after)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("cannot split shard " INT64_FORMAT " of table \"%s\": its new shards hold " INT64_FORMAT " of its " INT64_FORMAT " rows",
							st->old.shardid, st->relname, after, before),
					 errhint("The shard was not split.")));
	}
	foreach(lc, split_fkey_commands(tables))
		PQclear(split_rc(rc, servername, lfirst(lc)));
	PQclear(split_rc(rc, servername, psprintf("DROP TABLE %s", helper)));
	PQclear(split_rc(rc, servername, "COMMIT"));

	ereport(DEBUG1,
			(errmsg("online split of shard " INT64_FORMAT ": " INT64_FORMAT " rows copied in %ld ms, " INT64_FORMAT " logged changes applied in %d catch-up rounds and a final one, writes blocked from %ld ms before the end of the worker part",
					shardid, rows,
					(long) (TimestampDifferenceMilliseconds(start, copied_at)),
					entries, rounds,
					(long) TimestampDifferenceMilliseconds(locked_at, GetCurrentTimestamp()))));
	return drop;
}

/*
 * Split shard shardid and the shards of the same index of every table
 * co-located with it, in the current transaction; returns the two new shard
 * ids of shardid's table.  The caller has connected to SPI and commits
 * soon: the group's tables stay locked against writes until then.  The old
 * shard tables are dropped on their worker once the transaction commits.
 */
int64 *
sf_split_shard(int64 shardid, bool online)
{
	const SfTable *table = split_shard_table(shardid);
	int32		colocationid = table->colocationid;
	int			shardindex = -1;
	int			modulus = 0;
	int			oldcount;
	Oid			serverid = InvalidOid;
	int32		nodeid = 0;
	List	   *relids = NIL;
	List	   *tables = NIL;
	ListCell   *lc;
	SfConn	   *conn;
	char	   *helper = NULL;
	StringInfoData drops;
	MemoryContext cxt = CurrentMemoryContext;
	SplitDrop  *online_drop = NULL;
	int64	   *result = NULL;
	uint64		i;
	bool		isnull;
	int			h;

	/* the group's tables, locked against writes in OID order */
	sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid FROM shardfdw.distributed_table"
							   " WHERE colocationid = %d ORDER BY 1", colocationid), -1);
	for (i = 0; i < SPI_processed; i++)
		relids = lappend_oid(relids,
							 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1,
															&isnull)));
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		LockRelationOid(relid, online ? ShareUpdateExclusiveLock : ExclusiveLock);
		if (!pg_class_ownercheck(relid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	}

	/* with the locks held, the catalog cannot change: look again */
	table = split_shard_table(shardid);
	if (table->colocationid != colocationid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the co-location group of shard " INT64_FORMAT " changed during the split",
						shardid),
				 errhint("Retry.")));
	for (h = 0; h < table->nplacements; h++)
		if (table->placements[h].shardid == shardid)
		{
			shardindex = table->placements[h].shardindex;
			modulus = table->placements[h].modulus;
			serverid = table->placements[h].serverid;
			nodeid = table->placements[h].nodeid;
		}
	oldcount = table->shardcount;
	if (shardindex < 0)
		elog(ERROR, "shard " INT64_FORMAT " has no placement", shardid);
	if (!OidIsValid(serverid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the server of shard " INT64_FORMAT " does not exist", shardid),
				 errhint("Recreate the SERVER of node %d.", nodeid)));
	if (modulus * 2 > SF_SPLIT_MAX_MODULUS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot split shard " INT64_FORMAT ": its MODULUS %d is already the largest supported",
						shardid, modulus),
				 errdetail("Splitting doubles the MODULUS, which may not exceed %d.",
						   SF_SPLIT_MAX_MODULUS)));

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		const SfTable *t = sf_lookup_table(relid);
		SplitTable *st = palloc0(sizeof(SplitTable));
		Relation	rel;
		TupleDesc	desc;

		st->relid = relid;
		st->relname = get_rel_name(relid);
		st->parentqual = sf_qualified_relname(relid);
		if (t == NULL || t->kind != SF_KIND_HASH)
			elog(ERROR, "table %u of co-location group %d is not distributed",
				 relid, colocationid);
		st->distcolumn = get_attname(relid, t->distattnum, false);
		for (h = 0; h < t->nplacements; h++)
			if (t->placements[h].shardindex == shardindex)
				st->old = t->placements[h];
		if (st->old.shardid == 0 || st->old.modulus != modulus ||
			!OidIsValid(st->old.shardrelid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" has no shard with MODULUS %d and REMAINDER %d",
							st->relname, modulus, shardindex),
					 errdetail("The tables of a co-location group must have the same shards.")));
		split_old_shard_names(st);
		if (st->old.nodeid != nodeid)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot split shard " INT64_FORMAT ": shard " INT64_FORMAT " of co-located table \"%s\" is on another node",
							shardid, st->old.shardid, st->relname),
					 errhint("Move the shards of the co-location group together first.")));

		rel = table_open(relid, NoLock);
		desc = RelationGetDescr(rel);
		split_check_key(relid, RelationGetPartitionKey(rel));
		for (h = 0; h < desc->natts; h++)
			if (TupleDescAttr(desc, h)->attisdropped)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot split shards of table \"%s\": it has dropped columns",
								st->relname),
						 errdetail("New shards would not number their columns like the table's other shards."),
						 errhint("Recreate the table with undistribute_table() and create_distributed_table() first.")));
		table_close(rel, NoLock);

		for (h = 0; h < 2; h++)
		{
			sf_spi_exec_count("SELECT pg_catalog.nextval('shardfdw.shardid_seq')", 1);
			st->newids[h] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1,
														&isnull));
			st->newnames[h] = sf_shard_relname(st->relname, st->newids[h]);
		}
		tables = lappend(tables, st);
	}

	initStringInfo(&drops);
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);

		appendStringInfo(&drops, "%s%s", drops.len > 0 ? ", " : "",
						 st->oldremote);
	}
	if (online)
	{
		online_drop = split_online(tables, serverid, shardid, modulus, shardindex);
		goto cutover;
	}

	/* --- the worker: new shard tables, rows --- */
	conn = sf_get_connection_for_server(serverid);
	sf_exec_command(conn, "SET LOCAL lock_timeout = '10s'");
	PG_TRY();
	{
		sf_exec_command(conn, psprintf("LOCK TABLE %s IN EXCLUSIVE MODE", drops.data));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();

		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("cannot split shard " INT64_FORMAT ": its tables are locked on worker \"%s\"",
						shardid, sf_conn_server_name(conn)),
				 errdetail("%s", edata->message),
				 errhint("A prepared transaction left by a failure may hold the lock: run SELECT recover_prepared_transactions(), then retry.")));
	}
	PG_END_TRY();
	sf_exec_command(conn, "SET LOCAL lock_timeout = 0");

	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);

		sf_exec_command(conn, psprintf("CREATE SCHEMA IF NOT EXISTS %s",
									   quote_identifier(st->nspname)));
	}
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		Relation	rel = table_open(st->relid, NoLock);
		PartitionKey key = RelationGetPartitionKey(rel);
		List	   *ddl = NIL;
		char	   *columns = split_columns(rel);
		char	   *oldqual = st->oldremote;
		int64		total;
		int64		copied = 0;

		/* the helper: a hash-partitioned table with the same key */
		if (helper == NULL)
		{
			helper = quote_qualified_identifier(st->nspname,
												psprintf("shardfdw_split_key_" INT64_FORMAT,
														 st->newids[0]));
			sf_exec_command(conn,
							psprintf("CREATE TABLE %s (k %s%s) PARTITION BY HASH (k)",
									 helper,
									 format_type_extended(key->parttypid[0], key->parttypmod[0],
														  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
									 split_collate_clause(key->parttypid[0],
														  key->partcollation[0])));
		}

		sf_spi_exec_count(psprintf("SELECT name, kind, definition FROM shardfdw.shard_ddl"
								   " WHERE relid = %u ORDER BY kind, name", st->relid), -1);
		for (i = 0; i < SPI_processed; i++)
		{
			SfShardDdl *d = palloc(sizeof(SfShardDdl));

			d->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			d->kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)[0];
			d->definition = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
			ddl = lappend(ddl, d);
		}

		total = split_remote_count(conn, psprintf("SELECT pg_catalog.count(*) FROM %s", oldqual));
		for (h = 0; h < 2; h++)
		{
			List	   *commands = sf_shard_create_commands(st->relid, ddl, st->nspname,
															st->newnames[h], st->newids[h]);
			char	   *newqual = quote_qualified_identifier(st->nspname, st->newnames[h]);
			ListCell   *lc2;
			PGresult   *res;
			char	   *sql;

			foreach(lc2, commands)
				sf_exec_command(conn, lfirst(lc2));
			sf_fault_point("split-after-create", true);
			sql = psprintf("INSERT INTO %s (%s) SELECT %s FROM %s"
						   " WHERE pg_catalog.satisfies_hash_partition(%s::pg_catalog.regclass::pg_catalog.oid, %d, %d, %s)",
						   newqual, columns, columns, oldqual,
						   quote_literal_cstr(helper), modulus * 2,
						   shardindex + h * modulus,
						   quote_identifier(st->distcolumn));
			res = sf_exec_query(conn, sql, 0, NULL);
			copied += pg_strtoint64(PQcmdTuples(res));
			PQclear(res);
			split_check_sample(conn, rel, newqual, st->distcolumn,
							   modulus * 2, shardindex + h * modulus);
		}
		if (copied != total)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("cannot split shard " INT64_FORMAT " of table \"%s\": " INT64_FORMAT " of its " INT64_FORMAT " rows were copied",
							st->old.shardid, st->relname, copied, total),
					 errhint("The shard was not split.")));
		table_close(rel, NoLock);
	}
	sf_fault_point("split-after-copy", true);
	if (helper != NULL)
		sf_exec_command(conn, psprintf("DROP TABLE %s", helper));

	/* foreign keys of the new shards, now that all of them are filled */
	foreach(lc, split_fkey_commands(tables))
		sf_exec_command(conn, lfirst(lc));

	/* --- the coordinator: foreign partitions and catalog --- */
cutover:
	sf_fault_point("split-before-cutover", true);
	sf_commands_bypass_begin();
	sf_spi_exec(psprintf("UPDATE shardfdw.shard SET modulus = %d"
						 " WHERE modulus IS NULL AND relid IN"
						 " (SELECT relid FROM shardfdw.distributed_table WHERE colocationid = %d)",
						 oldcount, colocationid));
	sf_spi_exec(psprintf("UPDATE shardfdw.colocation SET shard_count = %d"
						 " WHERE colocationid = %d AND shard_count < %d",
						 modulus * 2, colocationid, modulus * 2));
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);
		char	   *parent = st->parentqual;
		char	   *oldqual = sf_qualified_relname(st->old.shardrelid);
		char	   *ownername = split_owner_name(st->relid);
		char	   *servername = GetForeignServer(serverid)->servername;

		sf_spi_exec(psprintf("DELETE FROM shardfdw.shard WHERE shardid = " INT64_FORMAT,
							 st->old.shardid));
		sf_spi_exec(psprintf("ALTER TABLE %s DETACH PARTITION %s", parent, oldqual));
		sf_spi_exec(psprintf("DROP FOREIGN TABLE %s", oldqual));
		for (h = 0; h < 2; h++)
		{
			char	   *newqual = quote_qualified_identifier(st->nspname, st->newnames[h]);

			sf_spi_exec(psprintf("CREATE FOREIGN TABLE %s PARTITION OF %s"
								 " FOR VALUES WITH (MODULUS %d, REMAINDER %d)"
								 " SERVER %s OPTIONS (schema_name %s, table_name %s)",
								 newqual, parent, modulus * 2, shardindex + h * modulus,
								 quote_identifier(servername),
								 quote_literal_cstr(st->nspname),
								 quote_literal_cstr(st->newnames[h])));
			sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OWNER TO %s", newqual,
								 quote_identifier(ownername)));
			sf_spi_exec(psprintf("INSERT INTO shardfdw.shard VALUES (" INT64_FORMAT ", %u, %d, %s::pg_catalog.regclass, %d)",
								 st->newids[h], st->relid, shardindex + h * modulus,
								 quote_literal_cstr(newqual), modulus * 2));
			sf_spi_exec(psprintf("INSERT INTO shardfdw.placement VALUES (" INT64_FORMAT ", %d)",
								 st->newids[h], nodeid));
		}
		if (st->relid == table->relid)
		{
			result = palloc(sizeof(int64) * 2);
			result[0] = st->newids[0];
			result[1] = st->newids[1];
		}
	}
	sf_commands_bypass_end();
	foreach(lc, relids)
		sf_invalidate_table(lfirst_oid(lc));
	CommandCounterIncrement();
	sf_fault_point("split-after-cutover", true);

	/* the old shard tables go once this commits */
	if (online_drop != NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "DROP TABLE IF EXISTS %s CASCADE", drops.data);
		foreach(lc, tables)
		{
			SplitTable *st = lfirst(lc);

			appendStringInfo(&sql, "; DROP FUNCTION IF EXISTS %s CASCADE; DROP TABLE IF EXISTS %s",
							 st->capturefn, st->logqual);
		}
		online_drop->sql = MemoryContextStrdup(TopMemoryContext, sql.data);
	}
	else
		split_drop_after_commit(serverid, psprintf("DROP TABLE IF EXISTS %s CASCADE", drops.data));
	return result;
}

/* Error out in a transaction block: the split's locks must end with it */
static void
split_refuse_transaction_block(const char *funcname)
{
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s cannot run inside a transaction block", funcname),
				 errdetail("It blocks writes to the co-location group until it commits."),
				 errhint("Call it on its own, outside BEGIN ... COMMIT.")));
}

/*
 * Check shard_transfer_mode; true for the online mode ('force_logical'),
 * false for 'block_writes' and 'auto' ('auto' stays offline until an
 * interrupted online split is cleaned up by cleanup records).
 */
static bool
split_check_mode(const char *mode)
{
	if (pg_strcasecmp(mode, "force_logical") == 0)
		return true;
	if (pg_strcasecmp(mode, "auto") != 0 && pg_strcasecmp(mode, "block_writes") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard_transfer_mode \"%s\" is not supported for splits", mode),
				 errhint("Use 'auto', 'block_writes' (both block writes to the co-location group during the split) or 'force_logical' (writes wait only for the cutover).")));
	return false;
}

/*
 * shardfdw_split_shard(shard_id bigint, shard_transfer_mode text):
 * bigint[] of the two new shard ids of the shard's table.
 */
Datum
shardfdw_split_shard(PG_FUNCTION_ARGS)
{
	int64		shardid = PG_GETARG_INT64(0);
	int64	   *ids;
	Datum		elems[2];
	bool		online;

	split_refuse_transaction_block("shardfdw_split_shard()");
	online = split_check_mode(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");

	SPI_connect();
	ids = sf_split_shard(shardid, online);
	SPI_finish();

	elems[0] = Int64GetDatum(ids[0]);
	elems[1] = Int64GetDatum(ids[1]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, 2, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * shardfdw_isolate_tenant(table_name regclass, tenant text,
 * shard_transfer_mode text): split the shard holding the rows whose
 * distribution column equals tenant until they are the only value in it
 * (or the MODULUS limit is reached); returns that shard's id.
 */
Datum
shardfdw_isolate_tenant(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const SfTable *table;
	Relation	rel;
	PartitionKey key;
	Oid			infunc;
	Oid			ioparam;
	Datum		value;
	Oid			hashfn;
	Oid			collation;
	char	   *distcolumn;
	int64		shardid = 0;
	int			splits;

	split_refuse_transaction_block("shardfdw_isolate_tenant()");
	/* a tenant is isolated in block_writes mode whatever the mode */
	(void) split_check_mode(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	table = sf_lookup_table(relid);
	if (table == NULL || table->kind != SF_KIND_HASH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is not a distributed table", get_rel_name(relid)),
				 errhint("Tenants can only be isolated in tables distributed with create_distributed_table().")));
	distcolumn = get_attname(relid, table->distattnum, false);

	rel = table_open(relid, AccessShareLock);
	key = RelationGetPartitionKey(rel);
	getTypeInputInfo(key->parttypid[0], &infunc, &ioparam);
	value = OidInputFunctionCall(infunc, tenant, ioparam, key->parttypmod[0]);
	hashfn = key->partsupfunc[0].fn_oid;
	collation = key->partcollation[0];
	table_close(rel, NoLock);

	SPI_connect();
	for (splits = 0;; splits++)
	{
		int			index;
		int			h;
		const SfShard *shard = NULL;
		SfConn	   *conn;
		int64		others;

		table = sf_lookup_table(relid);
		index = sf_shard_index_owner(table,
									 sf_hash_remainder(hashfn, collation, value,
													   false, table->shardcount));
		for (h = 0; h < table->nplacements; h++)
			if (table->placements[h].shardindex == index)
				shard = &table->placements[h];
		if (shard == NULL || !OidIsValid(shard->serverid))
			elog(ERROR, "no shard for shard index %d of table %u", index, relid);
		shardid = shard->shardid;

		/* other values in that shard? */
		conn = sf_get_connection_for_server(shard->serverid);
		others = split_remote_count(conn,
									psprintf("SELECT pg_catalog.count(*) FROM (SELECT FROM %s WHERE %s IS DISTINCT FROM %s LIMIT 1) o",
											 sf_qualified_relname(shard->shardrelid),
											 quote_identifier(distcolumn),
											 quote_literal_cstr(tenant)));
		if (others == 0)
			break;
		if (shard->modulus * 2 > SF_SPLIT_MAX_MODULUS || splits >= 16)
		{
			ereport(NOTICE,
					(errmsg("tenant %s shares shard " INT64_FORMAT " with other values after %d splits",
							quote_literal_cstr(tenant), shardid, splits),
					 errdetail("Their hashes agree on too many bits to separate them.")));
			break;
		}
		(void) sf_split_shard(shardid, false);
		CommandCounterIncrement();
	}
	SPI_finish();
	PG_RETURN_INT64(shardid);
}
