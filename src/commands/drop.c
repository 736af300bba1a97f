/*-------------------------------------------------------------------------
 *
 * drop.c
 *	  Dropping distributed and reference tables: their shards / replicas go
 *	  from the workers and their rows from the catalog, in the dropping
 *	  transaction.
 *
 * The work is done by the sql_drop event trigger shardfdw.drop_trigger(),
 * which sees every dropped relation whatever the statement (DROP TABLE,
 * DROP SCHEMA ... CASCADE, DROP OWNED BY).  By then the coordinator's
 * parent and foreign partitions are gone from pg_class, so the names of the
 * worker tables come from pg_event_trigger_dropped_objects(): a shard's
 * worker table has the qualified name of its foreign partition, a replica
 * that of its reference table.
 *
 * Foreign keys between distributed tables (and from distributed to
 * reference tables) live only on the workers, so PostgreSQL cannot see
 * them: for DROP TABLE ... RESTRICT the utility hook checks
 * shardfdw.pending_fkey first (sf_check_drop_table), and the workers drop
 * their shards with CASCADE, which removes the keys of the referencing
 * shards as DROP ... CASCADE does on the coordinator.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(shardfdw_drop_trigger);

/*
 * DROP TABLE / DROP FOREIGN TABLE without CASCADE: error out, as
 * PostgreSQL would, when a foreign key that lives on the workers (or a
 * pending one) references a table of the statement from a table that the
 * statement does not drop.  Called before anything is dropped.
 */
void
sf_check_drop_table(DropStmt *stmt)
{
	List	   *relids = NIL;
	ListCell   *lc;

	if (stmt->behavior == DROP_CASCADE)
		return;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid))
			relids = lappend_oid(relids, relid);
	}

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		ListCell   *fc;

		if (sf_lookup_table(relid) == NULL)
			continue;
		SPI_connect();
		foreach(fc, sf_load_foreign_keys(relid))
		{
			SfForeignKey *fk = lfirst(fc);

			if (fk->refrelid != relid || list_member_oid(relids, fk->relid))
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop table %s because other objects depend on it",
							get_rel_name(relid)),
					 errdetail("%s foreign key \"%s\" of table %s depends on table %s.",
							   fk->created ? "The" : "The pending",
							   fk->conname, get_rel_name(fk->relid),
							   get_rel_name(relid)),
					 errhint("Use DROP ... CASCADE to drop the dependent objects too.")));
		}
		SPI_finish();
	}
}

/*
 * DROP EXTENSION shardfdw while distributed or reference tables exist:
 * refused, CASCADE or not.  Dropping the extension would drop the foreign
 * partitions and the catalog but not the shards on the workers, which hold
 * the only copy of the rows, and would leave empty partitioned parents
 * behind; the user decides first what happens to each table.
 */
void
sf_check_drop_extension(DropStmt *stmt)
{
	ListCell   *lc;
	bool		ours = false;

	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "shardfdw") == 0)
			ours = true;
	}
	if (!ours)
		return;

	SPI_connect();
	if (SPI_execute("SELECT count(*), pg_catalog.string_agg(relid::text, ', ' ORDER BY relid::text)"
					" FROM shardfdw.distributed_table", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read shardfdw.distributed_table");
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "0") != 0)
	{
		char	   *n = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		char	   *names = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));

		SPI_finish();
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop extension shardfdw because %s distributed or reference tables exist", n),
				 errdetail("Tables: %s.  Their rows live on the workers, which dropping the extension would not clean up.", names),
				 errhint("Drop them with DROP TABLE, or turn them back into local tables with undistribute_table(), first.")));
	}
	SPI_finish();
}

/*
 * Event trigger on sql_drop: for every dropped distributed or reference
 * table, drop its shards / replicas on the workers (in the current remote
 * transactions) and delete its catalog rows (shards, placements, shard_ddl
 * by cascade; foreign keys; an emptied co-location group).  Dropping a
 * shard's foreign partition alone is refused.  A restore (sf_restoring:
 * pg_restore --clean) leaves the worker tables alone and may drop the
 * foreign partitions first.
 */
Datum
shardfdw_drop_trigger(PG_FUNCTION_ARGS)
{
	List	   *relids = NIL;
	List	   *colocationids = NIL;
	StringInfoData list;
	uint64		i;
	uint64		n;
	SPITupleTable *tuptable;
	ListCell   *lc;
	bool		restoring = sf_restoring();

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("shardfdw.drop_trigger() must be called as an event trigger")));
	if (sf_commands_bypassed() || !sf_extension_present())
		PG_RETURN_NULL();

	SPI_connect();
	sf_spi_exec_count("WITH d AS (SELECT objid, schema_name, object_name"
					  "   FROM pg_catalog.pg_event_trigger_dropped_objects()"
					  "   WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND objsubid = 0)"
					  " SELECT t.relid::pg_catalog.oid, t.kind, t.colocationid, n.server_name,"
					  "  COALESCE(ds.schema_name, dt.schema_name),"
					  "  COALESCE(ds.object_name, dt.object_name),"
					  "  dt.objid IS NOT NULL, s.shard_relid IS NULL OR ds.objid IS NOT NULL,"
					  "  pg_catalog.quote_ident(dt.schema_name) || '.' || pg_catalog.quote_ident(dt.object_name)"
					  " FROM shardfdw.shard s"
					  " JOIN shardfdw.distributed_table t ON t.relid = s.relid"
					  " JOIN shardfdw.placement p ON p.shardid = s.shardid"
					  " JOIN shardfdw.node n ON n.nodeid = p.nodeid"
					  " LEFT JOIN d dt ON dt.objid = t.relid::pg_catalog.oid"
					  " LEFT JOIN d ds ON ds.objid = s.shard_relid::pg_catalog.oid"
					  " WHERE dt.objid IS NOT NULL OR ds.objid IS NOT NULL"
					  " ORDER BY s.relid, s.shard_index, n.nodeid", -1);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = tuptable->vals[i];
		TupleDesc	desc = tuptable->tupdesc;
		Oid			relid = atooid(SPI_getvalue(tup, desc, 1));
		char	   *colocationid = SPI_getvalue(tup, desc, 3);
		char	   *servername = SPI_getvalue(tup, desc, 4);
		char	   *nspname = SPI_getvalue(tup, desc, 5);
		char	   *relname = SPI_getvalue(tup, desc, 6);
		bool		parent_dropped = strcmp(SPI_getvalue(tup, desc, 7), "t") == 0;
		bool		name_known = strcmp(SPI_getvalue(tup, desc, 8), "t") == 0;
		ForeignServer *server;

		if (restoring)
		{
			/*
			 * pg_restore --clean drops the foreign partitions, then their
			 * parent: the worker tables stay, and the catalog rows go with
			 * the parent.
			 */
			if (parent_dropped && !list_member_oid(relids, relid))
			{
				relids = lappend_oid(relids, relid);
				if (colocationid != NULL)
					colocationids = lappend_int(colocationids, atoi(colocationid));
				sf_restore_keeps_notice(psprintf("every shard or replica of dropped table %s",
												 SPI_getvalue(tup, desc, 9)));
			}
			continue;
		}
		if (!parent_dropped)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot drop shard %s of distributed table %s",
							quote_qualified_identifier(nspname, relname),
							get_rel_name(relid)),
					 errdetail("Shards are the partitions of their distributed table and are managed by shardfdw."),
					 errhint("Drop the distributed table itself, or turn it back into a local table with undistribute_table first.")));
		if (!name_known)
			elog(ERROR, "foreign partition of a shard of dropped table %u was not dropped",
				 relid);

		if (!list_member_oid(relids, relid))
		{
			relids = lappend_oid(relids, relid);
			if (colocationid != NULL)
				colocationids = lappend_int(colocationids, atoi(colocationid));
		}
		server = GetForeignServerByName(servername, true);
		if (server == NULL)
		{
			ereport(WARNING,
					(errmsg("shard %s was not dropped: server \"%s\" no longer exists",
							quote_qualified_identifier(nspname, relname), servername)));
			continue;
		}
		sf_exec_on_server(server->serverid,
						  psprintf("DROP TABLE IF EXISTS %s CASCADE",
								   quote_qualified_identifier(nspname, relname)));
	}

	if (relids == NIL)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}

	initStringInfo(&list);
	foreach(lc, relids)
		appendStringInfo(&list, "%s%u", list.len > 0 ? ", " : "", lfirst_oid(lc));

	/* placeholders of pending keys from surviving local tables */
	sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid, conname FROM shardfdw.pending_fkey"
							   " WHERE NOT created AND refrelid::pg_catalog.oid IN (%s)"
							   " AND relid::pg_catalog.oid NOT IN (%s)", list.data, list.data), -1);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		Oid			from = atooid(SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 1));
		char	   *conname = SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2);

		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(from)) &&
			sf_lookup_table(from) == NULL)
			sf_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
								 sf_qualified_relname(from), quote_identifier(conname)));
	}

	sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid::pg_catalog.oid IN (%s)"
						 " OR refrelid::pg_catalog.oid IN (%s)", list.data, list.data));
	sf_spi_exec(psprintf("DELETE FROM shardfdw.distributed_table WHERE relid::pg_catalog.oid IN (%s)",
						 list.data));
	foreach(lc, colocationids)
		sf_spi_exec(psprintf("DELETE FROM shardfdw.colocation c WHERE colocationid = %d"
							 " AND NOT EXISTS (SELECT 1 FROM shardfdw.distributed_table t"
							 "   WHERE t.colocationid = c.colocationid)", lfirst_int(lc)));
	foreach(lc, relids)
		sf_invalidate_table(lfirst_oid(lc));
	SPI_finish();
	PG_RETURN_NULL();
}
