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
 * A split runs as a job of kind "split" (jobs.h) that the calling session
 * launches and waits for, in three coordinator transactions:
 *	1. setting up: take the operation's advisory lock, run the cleanup pass,
 *	   validate, take the advisory locks of the shard group (the shard's
 *	   index and that of the new second half, SF_GROUP_LOCK_KEY, which moves
 *	   take too: a second move or split of the group fails at once), validate
 *	   again, choose the new shard ids, and commit the cleanup records of
 *	   everything the split may create on the worker (cleanup.c): the new
 *	   shard tables (on_failure), and online the worker session
 *	   (application_name shardfdw_split_<job id>_<tag>), the change logs, the
 *	   capture functions and the helper table (always);
 *	2. the split: lock the group's parents, in OID order (EXCLUSIVE for
 *	   'block_writes': writes wait, reads go on; SHARE UPDATE EXCLUSIVE for
 *	   the online mode), check that nothing changed since step 1, do the
 *	   worker part (below), then the cutover: detach and drop the old
 *	   foreign partitions, create the new ones, update the catalog (every
 *	   shard's modulus made explicit, the group's shard_count raised),
 *	   invalidate the caches, delete the on_failure records and record the
 *	   old shard tables on_success; commit;
 *	3. cleaning up: the cleanup pass for the job drops the old shard tables,
 *	   the change logs and capture triggers.
 *
 * The worker part, 'block_writes' (split_block_writes()): in the remote
 * transaction, lock the old shard tables (EXCLUSIVE, with a lock_timeout:
 * an in-doubt prepared transaction that wrote them must be resolved first),
 * create the new shard tables, copy the rows worker-locally with INSERT ...
 * SELECT filtered by satisfies_hash_partition() on a helper hash-partitioned
 * table with the same key type and collation (dropped again before
 * commit), check that every row landed in exactly one half and that a
 * sample of keys hashes, on the coordinator, to the half that holds it;
 * then create the foreign keys of the new shards.  It commits or aborts
 * with the coordinator's transaction.
 *
 * The online mode ('auto', 'force_logical', split_online()) runs over a
 * dedicated autocommit connection: a capture trigger logs the keys written
 * to the old shards, the copy runs in its own REPEATABLE READ transaction,
 * catch-up rounds apply the logged keys while writes go on, and only the
 * last round runs under EXCLUSIVE locks (coordinator parents and worker
 * tables); it commits on the worker just before the cutover commits on the
 * coordinator, so a failure in between leaves complete new tables that the
 * catalog does not use (dropped by their on_failure records).
 *
 * The catalog decides which tables serve the data: the old ones until the
 * cutover commits, the new ones from then on.  On an ERROR (a cancel
 * included) the job cancels the worker command in flight, aborts, and runs
 * the cleanup pass for itself; after the cutover committed it succeeds with
 * a WARNING instead.  When the job dies (FATAL, coordinator crash), its
 * records stay for the next cleanup pass, which first ends the split's
 * worker session (it may still run a command that creates an object) and
 * then drops the objects; the capture triggers stop logging as soon as the
 * session is gone (they log only while it holds an advisory lock on the
 * worker).
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
#include "jobs.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "partitioning/partdesc.h"
#include "planner.h"
#include "sf_transaction.h"
#include "shard_transfer.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
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
	char	   *newquals[2];	/* the new shard tables, qualified */
	char	   *columns;		/* split_columns() */
	/* online mode only: */
	char	   *logqual;		/* change log table on the worker */
	char	   *capturefn;		/* its trigger function, "name()" */
} SplitTable;

/* A split, as its job (and the launching session) sees it */
typedef struct SplitOp
{
	MemoryContext cxt;			/* everything below lives there */
	int64		jobid;
	int64		shardid;		/* as given */
	bool		online;
	Oid			relid;			/* the table of shardid */
	int32		colocationid;
	int			shardindex;		/* of the old shards (REMAINDER r) */
	int			modulus;		/* their MODULUS m */
	int			oldcount;		/* the group's shard_count before */
	Oid			serverid;
	int32		nodeid;
	char	   *servername;
	List	   *tables;			/* of SplitTable, by OID */
	char	   *helper;			/* helper table on the worker, qualified */
	char	   *appname;		/* application_name of the worker session */
	PGconn	   *rc;				/* online: the worker session */
	bool		cutover_done;	/* committed: the shard is split */
} SplitOp;

static char *split_sample_query(const char *qualname, const char *distcolumn);
static void split_check_sample_result(PGresult *res, Relation parent,
									  const char *qualname, int modulus,
									  int remainder);

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
 * (the new shards go there too, on both sides: ALTER TABLE SET SCHEMA
 * moves the shards with their table, but older versions left them in the
 * old schema) and the qualified name
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

/* The first value of a one-row result as int64 (0 if NULL); clears res */
static int64
split_first_int64(PGresult *res)
{
	int64		n = 0;

	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		n = pg_strtoint64(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Run a query in the remote transaction and return its first value as int64 */
static int64
split_remote_count(SfConn *conn, const char *sql)
{
	return split_first_int64(sf_exec_query(conn, sql, 0, NULL));
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
	return split_first_int64(split_rc(rc, servername, sql));
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

/* ---------------------------------------------------------------- the job */

/* split_load's modes */
typedef enum SplitLoad
{
	SPLIT_LOAD_CHECK,			/* validate only (the launching session) */
	SPLIT_LOAD_NEW,				/* validate, choose new shard ids and names */
	SPLIT_LOAD_VERIFY			/* validate, and error unless unchanged */
} SplitLoad;

/*
 * Read and check the split of op->shardid (SPI connected): the tables of
 * its co-location group, locked in lockmode in OID order, the shard's place
 * (index, modulus, node), and everything that makes a split impossible.
 * SPLIT_LOAD_NEW also picks the new shard ids and the names of what the
 * split creates; SPLIT_LOAD_VERIFY errors unless the group is still as
 * SPLIT_LOAD_NEW found it.  Allocates in op->cxt.
 */
static void
split_load(SplitOp *op, LOCKMODE lockmode, SplitLoad how)
{
	MemoryContext old = MemoryContextSwitchTo(op->cxt);
	const SfTable *table = split_shard_table(op->shardid);
	int32		colocationid = table->colocationid;
	int			shardindex = -1;
	int			modulus = 0;
	Oid			serverid = InvalidOid;
	int32		nodeid = 0;
	List	   *relids = NIL;
	List	   *tables = NIL;
	ListCell   *lc;
	uint64		i;
	bool		isnull;
	int			h;

	sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid FROM shardfdw.distributed_table"
							   " WHERE colocationid = %d ORDER BY 1", colocationid), -1);
	/* (SPI switches to its own context: everything here goes to op->cxt) */
	MemoryContextSwitchTo(op->cxt);
	for (i = 0; i < SPI_processed; i++)
		relids = lappend_oid(relids,
							 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1,
															&isnull)));
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		/* the job's locks would wait for ours, and we for the job */
		if (how == SPLIT_LOAD_CHECK && sf_job_caller_holds_lock(relid))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("cannot split a shard of table \"%s\" in a statement that already used the table",
							get_rel_name(relid)),
					 errdetail("The split of shard " INT64_FORMAT " runs in a background job that locks the tables of its co-location group, and would wait for the locks of this statement.",
							   op->shardid),
					 errhint("Look the shard up in a statement of its own (in psql: \\gset), then call the function alone.")));
		LockRelationOid(relid, lockmode);
		if (!pg_class_ownercheck(relid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	}

	/* with the locks held, the catalog cannot change: look again */
	table = split_shard_table(op->shardid);
	if (table->colocationid != colocationid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the co-location group of shard " INT64_FORMAT " changed during the split",
						op->shardid),
				 errhint("Retry.")));
	for (h = 0; h < table->nplacements; h++)
		if (table->placements[h].shardid == op->shardid)
		{
			shardindex = table->placements[h].shardindex;
			modulus = table->placements[h].modulus;
			serverid = table->placements[h].serverid;
			nodeid = table->placements[h].nodeid;
		}
	if (shardindex < 0)
		elog(ERROR, "shard " INT64_FORMAT " has no placement", op->shardid);
	if (!OidIsValid(serverid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the server of shard " INT64_FORMAT " does not exist", op->shardid),
				 errhint("Recreate the SERVER of node %d.", nodeid)));
	if (modulus * 2 > SF_SPLIT_MAX_MODULUS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot split shard " INT64_FORMAT ": its MODULUS %d is already the largest supported",
						op->shardid, modulus),
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
							op->shardid, st->old.shardid, st->relname),
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
		st->columns = split_columns(rel);
		table_close(rel, NoLock);
		tables = lappend(tables, st);
	}

	if (how == SPLIT_LOAD_VERIFY)
	{
		bool		same = colocationid == op->colocationid &&
			shardindex == op->shardindex && modulus == op->modulus &&
			serverid == op->serverid &&
			list_length(tables) == list_length(op->tables);
		ListCell   *lc2;

		if (same)
			forboth(lc, tables, lc2, op->tables)
			{
				SplitTable *a = lfirst(lc);
				SplitTable *b = lfirst(lc2);

				if (a->relid != b->relid || a->old.shardid != b->old.shardid ||
					strcmp(a->columns, b->columns) != 0)
					same = false;
			}
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the co-location group of shard " INT64_FORMAT " changed since the split started",
							op->shardid),
					 errhint("Retry.")));
		MemoryContextSwitchTo(old);
		return;
	}

	op->relid = table->relid;
	op->colocationid = colocationid;
	op->shardindex = shardindex;
	op->modulus = modulus;
	op->oldcount = table->shardcount;
	op->serverid = serverid;
	op->nodeid = nodeid;
	op->servername = pstrdup(GetForeignServer(serverid)->servername);
	op->tables = tables;
	if (how == SPLIT_LOAD_CHECK)
	{
		MemoryContextSwitchTo(old);
		return;
	}

	/* new shard ids, and the names of everything created on the worker */
	foreach(lc, tables)
	{
		SplitTable *st = lfirst(lc);

		for (h = 0; h < 2; h++)
		{
			sf_spi_exec_count("SELECT pg_catalog.nextval('shardfdw.shardid_seq')", 1);
			MemoryContextSwitchTo(op->cxt);
			st->newids[h] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1,
														&isnull));
			st->newnames[h] = sf_shard_relname(st->relname, st->newids[h]);
			st->newquals[h] = quote_qualified_identifier(st->nspname, st->newnames[h]);
		}
		st->logqual = quote_qualified_identifier(st->nspname,
												 psprintf("shardfdw_split_log_" INT64_FORMAT "_" INT64_FORMAT "_%s",
														  op->jobid, st->old.shardid, sf_coordinator_tag()));
		st->capturefn = psprintf("%s()",
								 quote_qualified_identifier(st->nspname,
															psprintf("shardfdw_split_capture_" INT64_FORMAT "_" INT64_FORMAT "_%s",
																	 op->jobid, st->old.shardid, sf_coordinator_tag())));
	}
	op->helper = quote_qualified_identifier(((SplitTable *) linitial(tables))->nspname,
											psprintf("shardfdw_split_key_" INT64_FORMAT "_%s", op->jobid, sf_coordinator_tag()));
	op->appname = psprintf("shardfdw_split_" INT64_FORMAT "_%s", op->jobid, sf_coordinator_tag());
	MemoryContextSwitchTo(old);
}

/*
 * Take the advisory locks of the shard group (SF_GROUP_LOCK_KEY) for the
 * job's life: the index of the shard and that of its new second half.  A
 * move or split of the group that holds one makes this split fail at once.
 */
static void
split_lock_group(SplitOp *op)
{
	int			indexes[2];
	int			h;

	indexes[0] = op->shardindex;
	indexes[1] = op->shardindex + op->modulus;
	for (h = 0; h < 2; h++)
	{
		sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_try_advisory_lock(" INT64_FORMAT ")",
								   SF_GROUP_LOCK_KEY(op->colocationid, indexes[h])), 1);
		if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("shard " INT64_FORMAT " is already being moved or split", op->shardid),
					 errdetail("Another move or split of shard index %d of co-location group %d is running.",
							   indexes[h], op->colocationid),
					 errhint("Wait for the other operation to finish (see shardfdw.jobs), then retry.")));
	}
}

/*
 * The cleanup records of everything the split may create on the worker,
 * committed (by the caller) before any of it exists: the new shard tables
 * (on_failure: the cutover deletes these records), and in the online mode
 * the split's worker session, the change logs, the capture functions (with
 * their triggers) and the helper table (always).
 */
static void
split_record(SplitOp *op)
{
	ListCell   *lc;
	int			h;

	if (op->online)
		sf_cleanup_record(op->jobid, "session", op->servername, op->appname, 0, "always");
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);

		for (h = 0; h < 2; h++)
			sf_cleanup_record(op->jobid, "shard", op->servername, st->newquals[h],
							  st->newids[h], "on_failure");
		if (op->online)
		{
			sf_cleanup_record(op->jobid, "function", op->servername, st->capturefn, 0, "always");
			sf_cleanup_record(op->jobid, "table", op->servername, st->logqual, 0, "always");
		}
	}
	sf_cleanup_record(op->jobid, "table", op->servername, op->helper, 0, "always");
}

/* CREATE TABLE of the helper: a hash-partitioned table with the key's type */
static char *
split_helper_command(SplitOp *op)
{
	SplitTable *first = linitial(op->tables);
	Relation	rel = table_open(first->relid, NoLock);
	PartitionKey key = RelationGetPartitionKey(rel);
	char	   *sql;

	sql = psprintf("CREATE TABLE %s (k %s%s) PARTITION BY HASH (k)",
				   op->helper,
				   format_type_extended(key->parttypid[0], key->parttypmod[0],
										FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
				   split_collate_clause(key->parttypid[0], key->partcollation[0]));
	table_close(rel, NoLock);
	return sql;
}

/*
 * The worker part of an online split, over a dedicated autocommit
 * connection (application_name shardfdw_split_<job id>_<tag>, recorded), while
 * the coordinator holds the group's parents in SHARE UPDATE EXCLUSIVE mode
 * (writes go on):
 *	1. a capture trigger on every old shard table logs the distribution key
 *	   of every row written into a log table (created and committed first:
 *	   CREATE TRIGGER waits for the writers in progress, so every write
 *	   committed later is logged);
 *	2. the new shard tables are created (in one transaction), and filled in
 *	   one REPEATABLE READ transaction by INSERT ... SELECT filtered with
 *	   satisfies_hash_partition() (its snapshot holds every unlogged write);
 *	3. catch-up rounds apply the log (split_online_replay) while writes go
 *	   on;
 *	4. the group's parents are locked EXCLUSIVE on the coordinator (writes
 *	   wait from here), the old shard tables EXCLUSIVE on the worker (a
 *	   prepared transaction must end first), the rest of the log is
 *	   applied, the row counts compared, the foreign keys created, the
 *	   helper dropped, and that commits on the worker.
 * The triggers log only while the connection holds a session advisory
 * lock (SF_SPLIT_LOCK_CLASS, old shard id): a trigger left behind by a
 * crash stops logging until the cleanup pass drops it.
 */
static void
split_online(SplitOp *op)
{
	const char *servername = op->servername;
	char	   *why = NULL;
	PGconn	   *rc;
	SplitTable *first = linitial(op->tables);
	char	   *lockkey;
	StringInfoData olds;
	ListCell   *lc;
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz copied_at;
	TimestampTz locked_at;
	int64		rows = 0;
	int64		entries = 0;
	int			rounds = 0;
	int			modulus = op->modulus;
	int			shardindex = op->shardindex;
	int			h;

	op->rc = sf_connect_raw(op->serverid, &why);
	if (op->rc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"", servername),
				 errdetail("%s", why ? why : "unknown reason")));
	rc = op->rc;
	PQsetNoticeProcessor(rc, sf_transfer_ignore_notice, NULL);
	PQclear(split_rc(rc, servername,
					 psprintf("SET application_name = %s; SET lock_timeout = '10s'",
							  quote_literal_cstr(op->appname))));

	initStringInfo(&olds);
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);

		appendStringInfo(&olds, "%s%s", olds.len > 0 ? ", " : "", st->oldremote);
	}

	/*
	 * The capture triggers log only while this session holds this lock: if
	 * the split dies with its connection (a crash of the coordinator or of
	 * the worker), a trigger left behind stops logging.
	 */
	lockkey = psprintf("%d, %d", SF_SPLIT_LOCK_CLASS,
					   (int) (first->old.shardid & 0x7fffffff));
	PQclear(split_rc(rc, servername,
					 psprintf("SELECT pg_catalog.pg_advisory_lock(%s)", lockkey)));

	/* 1. capture triggers (replacing one an interrupted split left) */
	PQclear(split_rc(rc, servername, "BEGIN"));
	foreach(lc, op->tables)
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
		/*
		 * One left by a split whose cleanup could not run yet: dropped here
		 * (only then: DROP TRIGGER locks the table ACCESS EXCLUSIVE, which
		 * would queue the readers behind a long query).
		 */
		if (split_rc_count(rc, servername,
						   psprintf("SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger"
									" WHERE tgrelid = %s::pg_catalog.regclass AND tgname = 'shardfdw_split_capture'",
									quote_literal_cstr(st->oldremote))) > 0)
			PQclear(split_rc(rc, servername,
							 psprintf("DROP TRIGGER shardfdw_split_capture ON %s", st->oldremote)));
		PQclear(split_rc(rc, servername,
						 psprintf("CREATE TRIGGER shardfdw_split_capture AFTER INSERT OR UPDATE OR DELETE"
								  " ON %s FOR EACH ROW EXECUTE FUNCTION %s; "
								  "ALTER TABLE %s ENABLE ALWAYS TRIGGER shardfdw_split_capture",
								  st->oldremote, st->capturefn, st->oldremote)));
	}
	PQclear(split_rc(rc, servername, "COMMIT"));

	/* 2. new shard tables, the helper, the snapshot copy */
	PQclear(split_rc(rc, servername, "BEGIN"));
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);
		List	   *ddl = sf_stored_shard_ddl(st->relid);
		ListCell   *lc2;

		for (h = 0; h < 2; h++)
			foreach(lc2, sf_shard_create_commands(st->relid, ddl, st->nspname,
												  st->newnames[h], st->newids[h]))
				PQclear(split_rc(rc, servername, lfirst(lc2)));
	}
	PQclear(split_rc(rc, servername, split_helper_command(op)));
	PQclear(split_rc(rc, servername, "COMMIT"));
	sf_fault_point("split-after-create", true);

	PQclear(split_rc(rc, servername, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
	foreach(lc, op->tables)
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
											 st->oldremote, quote_literal_cstr(op->helper),
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

		CHECK_FOR_INTERRUPTS();
		PQclear(split_rc(rc, servername, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
		n = split_online_replay(rc, servername, op->tables, op->helper, modulus, shardindex);
		PQclear(split_rc(rc, servername, "COMMIT"));
		entries += n;
		if (n < 1000)
		{
			rounds++;
			break;
		}
	}

	/*
	 * A write committed from here on (after the last round's snapshot) is
	 * in the log for the final round; tests pause here to make one.
	 */
	sf_fault_point("split-after-catch-up", true);

	/* 4. writes wait from here: the last changes, checks, foreign keys */
	foreach(lc, op->tables)
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
								op->shardid, servername),
						 errdetail("%s", PQresultErrorMessage(res)),
						 errhint("A prepared transaction left by a failure may hold the lock: run SELECT recover_prepared_transactions(), then retry.")));
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("split failed on server \"%s\": %s", servername,
							res ? PQresultErrorMessage(res) : PQerrorMessage(rc))));
		}
		PQclear(res);
	}
	entries += split_online_replay(rc, servername, op->tables, op->helper, modulus, shardindex);
	foreach(lc, op->tables)
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
	foreach(lc, split_fkey_commands(op->tables))
		PQclear(split_rc(rc, servername, lfirst(lc)));
	PQclear(split_rc(rc, servername, psprintf("DROP TABLE %s", op->helper)));
	PQclear(split_rc(rc, servername, "COMMIT"));

	ereport(LOG,
			(errmsg("online split of shard " INT64_FORMAT ": " INT64_FORMAT " rows copied in %ld ms, " INT64_FORMAT " logged changes applied in %d catch-up rounds and a final one, writes blocked from %ld ms before the end of the worker part",
					op->shardid, rows,
					(long) (TimestampDifferenceMilliseconds(start, copied_at)),
					entries, rounds,
					(long) TimestampDifferenceMilliseconds(locked_at, GetCurrentTimestamp()))));
}

/*
 * The worker part of a block_writes split, in the remote transaction of the
 * coordinator's (which holds the parents in EXCLUSIVE mode): see the file
 * header.  Nothing it creates survives an abort.
 */
static void
split_block_writes(SplitOp *op)
{
	SfConn	   *conn = sf_get_connection_for_server(op->serverid);
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData olds;
	ListCell   *lc;
	int			modulus = op->modulus;
	int			shardindex = op->shardindex;
	int			h;

	initStringInfo(&olds);
	foreach(lc, op->tables)
		appendStringInfo(&olds, "%s%s", olds.len > 0 ? ", " : "",
						 ((SplitTable *) lfirst(lc))->oldremote);

	sf_exec_command(conn, "SET LOCAL lock_timeout = '10s'");
	PG_TRY();
	{
		sf_exec_command(conn, psprintf("LOCK TABLE %s IN EXCLUSIVE MODE", olds.data));
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
						op->shardid, sf_conn_server_name(conn)),
				 errdetail("%s", edata->message),
				 errhint("A prepared transaction left by a failure may hold the lock: run SELECT recover_prepared_transactions(), then retry.")));
	}
	PG_END_TRY();
	sf_exec_command(conn, "SET LOCAL lock_timeout = 0");

	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);

		sf_exec_command(conn, psprintf("CREATE SCHEMA IF NOT EXISTS %s",
									   quote_identifier(st->nspname)));
	}
	sf_exec_command(conn, split_helper_command(op));
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);
		Relation	rel = table_open(st->relid, NoLock);
		List	   *ddl = sf_stored_shard_ddl(st->relid);
		int64		total;
		int64		copied = 0;

		total = split_remote_count(conn, psprintf("SELECT pg_catalog.count(*) FROM %s", st->oldremote));
		for (h = 0; h < 2; h++)
		{
			List	   *commands = sf_shard_create_commands(st->relid, ddl, st->nspname,
															st->newnames[h], st->newids[h]);
			ListCell   *lc2;
			PGresult   *res;

			foreach(lc2, commands)
				sf_exec_command(conn, lfirst(lc2));
			sf_fault_point("split-after-create", true);
			res = sf_exec_query(conn,
								psprintf("INSERT INTO %s (%s) SELECT %s FROM %s"
										 " WHERE pg_catalog.satisfies_hash_partition(%s::pg_catalog.regclass::pg_catalog.oid, %d, %d, %s)",
										 st->newquals[h], st->columns, st->columns, st->oldremote,
										 quote_literal_cstr(op->helper), modulus * 2,
										 shardindex + h * modulus,
										 quote_identifier(st->distcolumn)),
								0, NULL);
			copied += pg_strtoint64(PQcmdTuples(res));
			PQclear(res);
			split_check_sample(conn, rel, st->newquals[h], st->distcolumn,
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
	sf_exec_command(conn, psprintf("DROP TABLE %s", op->helper));

	/* foreign keys of the new shards, now that all of them are filled */
	foreach(lc, split_fkey_commands(op->tables))
		sf_exec_command(conn, lfirst(lc));
}

/*
 * The cutover, in the coordinator's transaction: the old foreign partitions
 * replaced by the new ones, the catalog (every modulus made explicit, the
 * group's shard_count raised), the caches invalidated; the records of the
 * new shard tables deleted, the old shard tables recorded for dropping.
 */
static void
split_cutover(SplitOp *op)
{
	ListCell   *lc;
	int			modulus = op->modulus;
	int			shardindex = op->shardindex;
	int			h;

	sf_commands_bypass_begin();
	sf_spi_exec(psprintf("UPDATE shardfdw.shard SET modulus = %d"
						 " WHERE modulus IS NULL AND relid IN"
						 " (SELECT relid FROM shardfdw.distributed_table WHERE colocationid = %d)",
						 op->oldcount, op->colocationid));
	sf_spi_exec(psprintf("UPDATE shardfdw.colocation SET shard_count = %d"
						 " WHERE colocationid = %d AND shard_count < %d",
						 modulus * 2, op->colocationid, modulus * 2));
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);
		char	   *parent = st->parentqual;
		char	   *oldqual = sf_qualified_relname(st->old.shardrelid);
		char	   *ownername = split_owner_name(st->relid);

		sf_spi_exec(psprintf("DELETE FROM shardfdw.shard WHERE shardid = " INT64_FORMAT,
							 st->old.shardid));
		sf_spi_exec(psprintf("ALTER TABLE %s DETACH PARTITION %s", parent, oldqual));
		sf_spi_exec(psprintf("DROP FOREIGN TABLE %s", oldqual));
		for (h = 0; h < 2; h++)
		{
			sf_spi_exec(psprintf("CREATE FOREIGN TABLE %s PARTITION OF %s"
								 " FOR VALUES WITH (MODULUS %d, REMAINDER %d)"
								 " SERVER %s OPTIONS (schema_name %s, table_name %s)",
								 st->newquals[h], parent, modulus * 2, shardindex + h * modulus,
								 quote_identifier(op->servername),
								 quote_literal_cstr(st->nspname),
								 quote_literal_cstr(st->newnames[h])));
			sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OWNER TO %s", st->newquals[h],
								 quote_identifier(ownername)));
			sf_spi_exec(psprintf("INSERT INTO shardfdw.shard VALUES (" INT64_FORMAT ", %u, %d, %s::pg_catalog.regclass, %d)",
								 st->newids[h], st->relid, shardindex + h * modulus,
								 quote_literal_cstr(st->newquals[h]), modulus * 2));
			sf_spi_exec(psprintf("INSERT INTO shardfdw.placement VALUES (" INT64_FORMAT ", %d)",
								 st->newids[h], op->nodeid));
		}
	}
	sf_commands_bypass_end();
	foreach(lc, op->tables)
		sf_invalidate_table(((SplitTable *) lfirst(lc))->relid);
	CommandCounterIncrement();

	sf_spi_exec(psprintf("DELETE FROM shardfdw.cleanup WHERE operation_id = " INT64_FORMAT
						 " AND policy = 'on_failure'", op->jobid));
	foreach(lc, op->tables)
	{
		SplitTable *st = lfirst(lc);

		sf_cleanup_record(op->jobid, "shard", op->servername, st->oldremote,
						  st->old.shardid, "on_success");
	}
}

/* Close the worker connection of an online split, if open */
static void
split_disconnect(SplitOp *op)
{
	if (op->rc != NULL)
		sf_transfer_close_conn(op->rc);
	op->rc = NULL;
}

/* The whole split (in the job) */
static void
split_run(SplitOp *op)
{
	/* 1. setting up: validate, lock the group, record, commit */
	sf_job_report("setting up", NULL);
	sf_transfer_xact_begin();
	sf_spi_exec(psprintf("SELECT pg_catalog.pg_advisory_lock(" INT64_FORMAT ")",
						 SF_OPERATION_LOCK_KEY(op->jobid)));
	SPI_finish();
	(void) sf_cleanup_pass(0);
	SPI_connect();
	split_load(op, AccessShareLock, SPLIT_LOAD_CHECK);
	split_lock_group(op);
	/* read again under the group's lock: nothing changes it any more */
	split_load(op, AccessShareLock, SPLIT_LOAD_NEW);
	split_record(op);
	sf_transfer_xact_commit();

	/* 2. the split and its cutover, in one coordinator transaction */
	sf_job_report(op->online ? "splitting online" : "splitting, writes blocked", NULL);
	sf_transfer_xact_begin();
	/* the cutover is durable before anybody uses the new shards */
	sf_require_durable_commit();
	split_load(op, op->online ? ShareUpdateExclusiveLock : ExclusiveLock, SPLIT_LOAD_VERIFY);
	if (op->online)
		split_online(op);
	else
		split_block_writes(op);
	sf_fault_point("split-before-cutover", true);
	split_cutover(op);
	sf_fault_point("split-after-cutover", true);
	sf_transfer_xact_commit();
	op->cutover_done = true;
	split_disconnect(op);

	/* 3. cleaning up: the old shard tables, the change logs, the triggers */
	sf_job_report("cleaning up", NULL);
	sf_fault_point("split-before-drop-old", false);
	sf_transfer_xact_begin();
	SPI_finish();
	(void) sf_cleanup_pass(op->jobid);
	SPI_connect();
	sf_transfer_xact_commit();
}

/*
 * The "split" job: args is "shard id\nonline (0 or 1)"; the fault
 * injection settings are the caller's (the job runs with its settings).
 * On failure the job drops what it created (the cleanup pass retries what
 * it cannot drop) before re-raising the error; a failure after the cutover
 * committed is not one (the shard is split): the job succeeds with a
 * WARNING.
 */
static void
sf_split_job(int64 jobid, const char *args)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw split",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SplitOp    *op = palloc0(sizeof(SplitOp));
	char	   *p = pstrdup(args);
	char	   *nl = strchr(p, '\n');

	if (nl == NULL || strchr(nl + 1, '\n') != NULL)
		elog(ERROR, "invalid split job arguments: %s", args);
	*nl = '\0';
	op->cxt = cxt;
	op->jobid = jobid;
	op->shardid = pg_strtoint64(p);
	op->online = strcmp(nl + 1, "1") == 0;
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		split_run(op);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();

		/*
		 * A second cancel must not interrupt the undoing (it would leave
		 * more for the cleanup pass); termination still does.
		 */
		HOLD_CANCEL_INTERRUPTS();
		split_disconnect(op);
		sf_transfer_cleanup_after_failure(jobid, "split", NULL);
		RESUME_CANCEL_INTERRUPTS();
		if (!op->cutover_done)
			ReThrowError(edata);

		QueryCancelPending = false;
		ereport(WARNING,
				(errmsg("shard " INT64_FORMAT " was split, but what the split left on the worker is not all dropped yet",
						op->shardid),
				 errdetail("Cleaning up after the split failed: %s", edata->message),
				 errhint("The cleanup pass drops the rest later; shardfdw_cleanup_orphaned_resources() runs it now.")));
	}
	PG_END_TRY();
	MemoryContextDelete(cxt);
}

/* ---------------------------------------------------------------- SQL */

/*
 * Check shard_transfer_mode; true for the online mode ('auto',
 * 'force_logical'), false for 'block_writes'.
 */
static bool
split_check_mode(const char *mode)
{
	if (pg_strcasecmp(mode, "auto") == 0 || pg_strcasecmp(mode, "force_logical") == 0)
		return true;
	if (pg_strcasecmp(mode, "block_writes") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard_transfer_mode \"%s\" is not supported for splits", mode),
				 errhint("Use 'auto' or 'force_logical' (online: writes wait only for the cutover) or 'block_writes' (writes to the co-location group wait during the split).")));
	return false;
}

/*
 * Split shard shardid (and the shards at its place in every co-located
 * table) in a job, and wait for it; see operations.h.
 */
int64 *
sf_split_shard(int64 shardid, const char *mode)
{
	SplitOp		op;
	ListCell   *lc;
	SfJob	   *job;
	int64	   *result;
	int			i;

	memset(&op, 0, sizeof(op));
	op.cxt = CurrentMemoryContext;
	op.shardid = shardid;
	op.online = split_check_mode(mode);
	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");

	/* validate here, for errors before anything starts; keep no lock */
	SPI_connect();
	split_load(&op, AccessShareLock, SPLIT_LOAD_CHECK);
	SPI_finish();
	foreach(lc, op.tables)
		UnlockRelationOid(((SplitTable *) lfirst(lc))->relid, AccessShareLock);

	/* the fault injection settings go with the caller's settings (job.c) */
	job = sf_job_launch("split", psprintf(INT64_FORMAT "\n%d", shardid, op.online ? 1 : 0), 0);
	sf_job_wait_outcome(job);

	/* the two new shards of the shard's table */
	result = palloc0(sizeof(int64) * 2);
	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT shardid FROM shardfdw.shard WHERE relid = %u"
							   " AND modulus = %d AND shard_index IN (%d, %d) ORDER BY shard_index",
							   op.relid, op.modulus * 2, op.shardindex,
							   op.shardindex + op.modulus), -1);
	if (SPI_processed != 2)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("shard " INT64_FORMAT " was split, but its new shards changed since", shardid),
				 errhint("See shardfdw.shards.")));
	for (i = 0; i < 2; i++)
		result[i] = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return result;
}

/*
 * shardfdw_split_shard(shard_id bigint, shard_transfer_mode text):
 * bigint[] of the two new shard ids of the shard's table.
 */
Datum
shardfdw_split_shard(PG_FUNCTION_ARGS)
{
	int64		shardid = PG_GETARG_INT64(0);
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64	   *ids;
	Datum		elems[2];

	sf_job_refuse_transaction_block("shardfdw_split_shard()");
	ids = sf_split_shard(shardid, mode);
	elems[0] = Int64GetDatum(ids[0]);
	elems[1] = Int64GetDatum(ids[1]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, 2, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Does shard shardrelid (on serverid) hold a value other than tenant? */
static bool
split_shard_has_others(Oid serverid, Oid shardrelid, const char *distcolumn,
					   const char *tenant)
{
	char	   *why = NULL;
	PGconn	   *conn = sf_connect_raw(serverid, &why);
	PGresult   *res;
	bool		others;
	char	   *sql;

	if (conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"",
						GetForeignServer(serverid)->servername),
				 errdetail("%s", why ? why : "unknown reason")));
	sql = psprintf("SELECT EXISTS (SELECT FROM %s WHERE %s IS DISTINCT FROM %s)",
				   sf_qualified_relname(shardrelid), quote_identifier(distcolumn),
				   quote_literal_cstr(tenant));
	PG_TRY();
	{
		res = sf_raw_exec(conn, sql);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not read shard %s on server \"%s\": %s",
							sf_qualified_relname(shardrelid),
							GetForeignServer(serverid)->servername,
							res ? pchomp(PQresultErrorMessage(res)) : pchomp(PQerrorMessage(conn)))));
		others = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	PG_FINALLY();
	{
		PQfinish(conn);
	}
	PG_END_TRY();
	return others;
}

/*
 * shardfdw_isolate_tenant(table_name regclass, tenant text,
 * shard_transfer_mode text): split the shard holding the rows whose
 * distribution column equals tenant until they are the only value in it
 * (or the MODULUS limit is reached); returns that shard's id.  Each split
 * is a job (in the given mode); no lock is kept in between.
 */
Datum
shardfdw_isolate_tenant(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(2));
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

	sf_job_refuse_transaction_block("shardfdw_isolate_tenant()");
	(void) split_check_mode(mode);
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
	/* the split jobs lock the table: keep no lock on it here */
	table_close(rel, AccessShareLock);

	for (splits = 0;; splits++)
	{
		int			index;
		int			h;
		const SfShard *shard = NULL;

		AcceptInvalidationMessages();
		table = sf_lookup_table(relid);
		if (table == NULL)
			elog(ERROR, "table %u is no longer distributed", relid);
		index = sf_shard_index_owner(table,
									 sf_hash_remainder(hashfn, collation, value,
													   false, table->shardcount));
		for (h = 0; h < table->nplacements; h++)
			if (table->placements[h].shardindex == index)
				shard = &table->placements[h];
		if (shard == NULL || !OidIsValid(shard->serverid))
			elog(ERROR, "no shard for shard index %d of table %u", index, relid);
		shardid = shard->shardid;

		if (!split_shard_has_others(shard->serverid, shard->shardrelid, distcolumn, tenant))
			break;
		if (shard->modulus * 2 > SF_SPLIT_MAX_MODULUS || splits >= 16)
		{
			ereport(NOTICE,
					(errmsg("tenant %s shares shard " INT64_FORMAT " with other values after %d splits",
							quote_literal_cstr(tenant), shardid, splits),
					 errdetail("Their hashes agree on too many bits to separate them.")));
			break;
		}
		(void) sf_split_shard(shardid, mode);
	}
	PG_RETURN_INT64(shardid);
}

/* The job kind; called from _PG_init */
void
sf_split_init(void)
{
	sf_job_register_kind("split", sf_split_job);
}
