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
 * A split runs in the caller's transaction, in the 'block_writes' mode:
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

PG_FUNCTION_INFO_V1(shardfdw_split_shard);
PG_FUNCTION_INFO_V1(shardfdw_isolate_tenant);

/* largest MODULUS a split may create */
#define SF_SPLIT_MAX_MODULUS	(1 << 17)

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
} SplitTable;

/* Old shard tables to drop on a worker once the transaction committed */
typedef struct SplitDrop
{
	PGconn	   *conn;			/* opened before the commit */
	char	   *servername;
	char	   *sql;			/* DROP TABLE ... */
} SplitDrop;

static List *pending_drops = NIL;	/* of SplitDrop *, in TopMemoryContext */
static bool split_callback_registered = false;

static void split_xact_callback(XactEvent event, void *arg);

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

		if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
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
		PQfinish(drop->conn);
		pfree(drop->sql);
		pfree(drop->servername);
		pfree(drop);
	}
	list_free(pending_drops);
	pending_drops = NIL;
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

	if (!split_callback_registered)
	{
		RegisterXactCallback(split_xact_callback, NULL);
		split_callback_registered = true;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	drop = palloc(sizeof(SplitDrop));
	drop->conn = conn;
	drop->servername = pstrdup(GetForeignServer(serverid)->servername);
	drop->sql = pstrdup(sql);
	pending_drops = lappend(pending_drops, drop);
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
	PartitionKey key = RelationGetPartitionKey(parent);
	Oid			infunc;
	Oid			ioparam;
	PGresult   *res;
	int			i;

	getTypeInputInfo(key->parttypid[0], &infunc, &ioparam);
	res = sf_exec_query(conn,
						psprintf("SELECT %s FROM %s LIMIT %d",
								 quote_identifier(distcolumn), qualname,
								 SF_SPLIT_SAMPLE), 0, NULL);
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
 * Split shard shardid and the shards of the same index of every table
 * co-located with it, in the current transaction; returns the two new shard
 * ids of shardid's table.  The caller has connected to SPI and commits
 * soon: the group's tables stay locked against writes until then.  The old
 * shard tables are dropped on their worker once the transaction commits.
 */
int64 *
sf_split_shard(int64 shardid)
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

		LockRelationOid(relid, ExclusiveLock);
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

	/* --- the worker: new shard tables, rows --- */
	conn = sf_get_connection_for_server(serverid);
	sf_exec_command(conn, "SET LOCAL lock_timeout = '10s'");
	initStringInfo(&drops);
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);

		appendStringInfo(&drops, "%s%s", drops.len > 0 ? ", " : "",
						 st->oldremote);
	}
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
				sf_exec_command(conn,
								sf_foreign_key_shard_command(fk,
															 quote_qualified_identifier(st->nspname, st->newnames[h]),
															 ref != NULL ?
															 quote_qualified_identifier(ref->nspname, ref->newnames[h]) :
															 sf_qualified_relname(fk->refrelid),
															 st->newids[h]));
		}
	}

	/* --- the coordinator: foreign partitions and catalog --- */
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

/* Check shard_transfer_mode: only 'auto' and 'block_writes' so far */
static void
split_check_mode(const char *mode)
{
	if (pg_strcasecmp(mode, "auto") != 0 && pg_strcasecmp(mode, "block_writes") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard_transfer_mode \"%s\" is not supported for splits", mode),
				 errhint("Use 'auto' or 'block_writes' (both block writes to the co-location group during the split).")));
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

	split_refuse_transaction_block("shardfdw_split_shard()");
	split_check_mode(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");

	SPI_connect();
	ids = sf_split_shard(shardid);
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
	split_check_mode(text_to_cstring(PG_GETARG_TEXT_PP(2)));
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
		(void) sf_split_shard(shardid);
		CommandCounterIncrement();
	}
	SPI_finish();
	PG_RETURN_INT64(shardid);
}
