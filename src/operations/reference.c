/*-------------------------------------------------------------------------
 *
 * reference.c
 *	  Reference tables: create_reference_table, the replicas on the workers
 *	  and the statement trigger that keeps them in sync.
 *
 * The coordinator keeps the table itself.  Every node has a replica with
 * the same qualified name, columns, constraints and indexes, so queries
 * pushed to a worker can join shards with it locally.  One shard row
 * (shard_index 0, no foreign partition) has a placement per node.
 *
 * Replication happens per statement in the same transaction, from AFTER
 * ... FOR EACH STATEMENT triggers with transition tables:
 *	INSERT		COPY the new rows to every replica;
 *	DELETE		delete the old rows by primary key (or a unique index on NOT
 *				NULL columns), in batches of SF_DELETE_BATCH rows;
 *	UPDATE		the same delete, then COPY the new rows;
 *	TRUNCATE	TRUNCATE the replicas.
 * Without such a key, DELETE and UPDATE resynchronise the replicas:
 * TRUNCATE, then COPY the whole table.  That is correct but costs a full
 * copy per statement: give reference tables a primary key.
 *
 * Writers of one reference table run one after the other: a BEFORE ...
 * FOR EACH STATEMENT trigger takes the table's writer lock
 * (sf_lock_reference_writers) and the transaction keeps it to its end.
 * The coordinator's row locks alone do not order the replicas' changes:
 * they are released when the coordinator commits, and the workers commit
 * their part (COMMIT PREPARED) just after.  In between, a second writer
 * of the same rows would proceed on the coordinator and send its changes
 * to replicas where the first one's are still prepared, unseen by its
 * snapshot: its DELETE of a row the first one replaced (DELETE + COPY)
 * would delete nothing, leaving the row on the replicas only, and its
 * COPY would fail on the first one's new row.  The writer lock is held
 * until after COMMIT PREPARED (locks are released after the commit
 * callbacks), so the next writer's statements reach the replicas only
 * once they show every change of the previous one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_inherits.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "catalog/pg_index.h"
#include "commands.h"
#include "commands/trigger.h"
#include "connection.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(shardfdw_create_reference_table);
PG_FUNCTION_INFO_V1(shardfdw_replicate_reference_table);

#define SF_COPY_CHUNK		(64 * 1024)
#define SF_DELETE_BATCH		1000

/*
 * The writer lock of a reference table: an advisory lock tag of
 * shardfdw's own (pg_locks: locktype advisory, objid the table's OID,
 * objsubid SF_REFERENCE_WRITE_LOCK; SQL advisory locks use objsubid 1 and
 * 2 only).
 */
#define SF_REFERENCE_WRITE_LOCK	21318

/* A COPY in progress to one worker */
typedef struct SfCopyTarget
{
	SfConn	   *conn;
	StringInfoData buf;
} SfCopyTarget;

/* Column numbers of the non-dropped columns of a relation */
static List *
sf_column_attnums(TupleDesc desc)
{
	List	   *attnums = NIL;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			attnums = lappend_int(attnums, i + 1);
	return attnums;
}

/* "COPY nsp.rel (cols) FROM STDIN" */
static char *
sf_copy_command(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "COPY %s (", sf_qualified_relname(RelationGetRelid(rel)));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		appendStringInfo(&buf, "%s%s", first ? "" : ", ",
						 quote_identifier(NameStr(att->attname)));
		first = false;
	}
	appendStringInfoString(&buf, ") FROM STDIN");
	return buf.data;
}

/* Output functions of a relation's columns, indexed by attnum - 1 */
static FmgrInfo *
sf_output_functions(TupleDesc desc)
{
	FmgrInfo   *outfuncs = palloc0(sizeof(FmgrInfo) * Max(1, desc->natts));
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			outfunc;
		bool		varlena;

		if (att->attisdropped)
			continue;
		getTypeOutputInfo(att->atttypid, &outfunc, &varlena);
		fmgr_info(outfunc, &outfuncs[i]);
	}
	return outfuncs;
}

/*
 * COPY rows to the replicas of rel on the given servers: the rows of the
 * tuplestore ts if given, else every row of rel (read with a fresh
 * snapshot, so the current statement's changes are included).
 */
static void
sf_copy_rows(Relation rel, List *serverids, Tuplestorestate *ts)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *attnums = sf_column_attnums(desc);
	FmgrInfo   *outfuncs = sf_output_functions(desc);
	char	   *copysql = sf_copy_command(rel);
	int			ntargets = list_length(serverids);
	SfCopyTarget *targets;
	TupleTableSlot *slot;
	TableScanDesc scan = NULL;
	Snapshot	snapshot = NULL;
	StringInfoData line;
	ListCell   *lc;
	int			i;

	if (ntargets == 0)
		return;
	targets = palloc0(sizeof(SfCopyTarget) * ntargets);
	i = 0;
	foreach(lc, serverids)
	{
		targets[i].conn = sf_get_connection_for_server(lfirst_oid(lc));
		initStringInfo(&targets[i].buf);
		i++;
	}
	/* one COPY open per connection: distinct servers never share one */
	for (i = 0; i < ntargets; i++)
		sf_copy_begin(targets[i].conn, copysql);

	initStringInfo(&line);
	if (ts != NULL)
	{
		slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
		tuplestore_rescan(ts);
	}
	else
	{
		CommandCounterIncrement();
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, snapshot, 0, NULL);
	}

	for (;;)
	{
		bool		got;

		if (ts != NULL)
			got = tuplestore_gettupleslot(ts, true, false, slot);
		else
			got = table_scan_getnextslot(scan, ForwardScanDirection, slot);
		if (!got)
			break;
		slot_getallattrs(slot);
		resetStringInfo(&line);
		sf_copy_append_row(&line, slot, outfuncs, attnums);
		for (i = 0; i < ntargets; i++)
		{
			appendBinaryStringInfo(&targets[i].buf, line.data, line.len);
			if (targets[i].buf.len >= SF_COPY_CHUNK)
			{
				sf_copy_send(targets[i].conn, targets[i].buf.data, targets[i].buf.len);
				resetStringInfo(&targets[i].buf);
			}
		}
	}

	if (scan != NULL)
	{
		table_endscan(scan);
		UnregisterSnapshot(snapshot);
	}
	ExecDropSingleTupleTableSlot(slot);

	for (i = 0; i < ntargets; i++)
	{
		sf_copy_send(targets[i].conn, targets[i].buf.data, targets[i].buf.len);
		sf_copy_end(targets[i].conn, copysql);
	}
}

/*
 * Copy every row of relid to its replica on a server, in the current
 * remote transaction.
 */
void
sf_copy_table_to_server(Oid relid, Oid serverid)
{
	Relation	rel = table_open(relid, AccessShareLock);

	sf_copy_rows(rel, list_make1_oid(serverid), NULL);
	table_close(rel, AccessShareLock);
}

/*
 * Create the (empty) replica of reference table relid on a server: schema,
 * types, table, constraints and indexes, and the foreign keys to other
 * reference tables.
 */
void
sf_create_reference_replica(Oid relid, Oid serverid)
{
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));
	List	   *commands;
	ListCell   *lc;

	/* the catalog that records the replica commits durably */
	sf_require_durable_commit();
	SPI_connect();
	sf_exec_on_server(serverid, psprintf("CREATE SCHEMA IF NOT EXISTS %s",
										 quote_identifier(nspname)));
	sf_ensure_column_types(relid, serverid);
	commands = sf_shard_create_commands(relid, sf_collect_shard_ddl(relid),
										nspname, get_rel_name(relid), 0);
	foreach(lc, commands)
		sf_exec_on_server(serverid, lfirst(lc));
	SPI_finish();
}

/* Drop the replica of relid on a server (CASCADE: foreign keys of shards). */
void
sf_drop_reference_replica(Oid relid, Oid serverid)
{
	sf_require_durable_commit();
	sf_exec_on_server(serverid, psprintf("DROP TABLE IF EXISTS %s CASCADE",
										 sf_qualified_relname(relid)));
}

/*
 * The ALTER TABLE ... ADD CONSTRAINT commands that create on a worker the
 * foreign keys of reference table relid to reference tables (itself
 * included) and, unless outgoing_only, those of other reference tables to
 * relid.  Names are qualified for the workers.  The caller has connected to
 * SPI.
 */
List *
sf_reference_fkey_commands(Oid relid, bool outgoing_only)
{
	List	   *result = NIL;
	int			nestlevel = sf_push_qualified_search_path();
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT pg_catalog.format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s',"
							   " conrelid::pg_catalog.regclass, conname, pg_catalog.pg_get_constraintdef(oid))"
							   " FROM pg_catalog.pg_constraint WHERE contype = 'f'"
							   " AND ((conrelid = %u AND (confrelid = %u OR confrelid IN"
							   "   (SELECT relid FROM shardfdw.distributed_table WHERE kind = 'n')))"
							   "  OR (%s AND confrelid = %u AND conrelid <> %u AND conrelid IN"
							   "   (SELECT relid FROM shardfdw.distributed_table WHERE kind = 'n')))"
							   " ORDER BY conname",
							   relid, relid, outgoing_only ? "false" : "true", relid, relid), -1);
	for (i = 0; i < SPI_processed; i++)
		result = lappend(result, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	sf_pop_search_path(nestlevel);
	return result;
}

/*
 * create_reference_table(table_name regclass)
 */
Datum
shardfdw_create_reference_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *relname;
	char	   *qualname;
	List	   *nodes;
	List	   *serverids = NIL;
	ListCell   *lc;
	int64		shardid;
	bool		isnull;
	char		relkind;
	Relation	rel;

	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");
	LockRelationOid(relid, ShareRowExclusiveLock);
	relname = get_rel_name(relid);
	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	qualname = sf_qualified_relname(relid);
	sf_check_not_distributed(relid);
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION || get_rel_relispartition(relid) ||
		get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot make \"%s\" a reference table: it is not a plain permanent table", relname),
				 errhint("Only plain, permanent, unpartitioned tables can be reference tables.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, relname);
	if (find_inheritance_children(relid, NoLock) != NIL || has_superclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot make \"%s\" a reference table: it is part of an inheritance tree", relname),
				 errhint("Remove it from the inheritance tree (ALTER TABLE ... NO INHERIT) first.")));

	SPI_connect();

	/* pending foreign keys: this table may not reference a distributed one */
	sf_forget_dropped_pending_fkeys(relid);
	{
		List	   *fkeys = sf_load_foreign_keys(relid);

		foreach(lc, fkeys)
		{
			SfForeignKey *fk = lfirst(lc);

			if (fk->relid == relid && sf_is_distributed_table(fk->refrelid))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot make \"%s\" a reference table: its foreign key \"%s\" references distributed table \"%s\"",
								relname, fk->conname, get_rel_name(fk->refrelid)),
						 errdetail("A reference table has rows on every node, a distributed table only on one."),
						 errhint("Drop it first: ALTER TABLE %s DROP CONSTRAINT %s.",
								 qualname, quote_identifier(fk->conname))));
		}
	}

	nodes = sf_node_list(true);
	foreach(lc, nodes)
	{
		SfNode	   *node = lfirst(lc);

		serverids = lappend_oid(serverids, node->serverid);
		sf_create_reference_replica(relid, node->serverid);
	}

	/* foreign keys with other reference tables: on the replicas too */
	{
		List	   *fkcmds = NIL;

		fkcmds = sf_reference_fkey_commands(relid, false);

		/* data first (foreign keys are checked by the worker as rows arrive) */
		rel = table_open(relid, AccessShareLock);
		sf_copy_rows(rel, serverids, NULL);
		table_close(rel, AccessShareLock);

		foreach(lc, serverids)
		{
			ListCell   *lc2;

			foreach(lc2, fkcmds)
				sf_exec_on_server(lfirst_oid(lc), lfirst(lc2));
		}
	}

	/* triggers */
	sf_spi_exec(psprintf("CREATE TRIGGER shardfdw_serialize_writers"
						 " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s"
						 " FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.replicate_reference_table()", qualname));
	sf_spi_exec(psprintf("CREATE TRIGGER shardfdw_replicate_insert AFTER INSERT ON %s"
						 " REFERENCING NEW TABLE AS shardfdw_new FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.replicate_reference_table()", qualname));
	sf_spi_exec(psprintf("CREATE TRIGGER shardfdw_replicate_update AFTER UPDATE ON %s"
						 " REFERENCING OLD TABLE AS shardfdw_old NEW TABLE AS shardfdw_new"
						 " FOR EACH STATEMENT EXECUTE FUNCTION shardfdw.replicate_reference_table()",
						 qualname));
	sf_spi_exec(psprintf("CREATE TRIGGER shardfdw_replicate_delete AFTER DELETE ON %s"
						 " REFERENCING OLD TABLE AS shardfdw_old FOR EACH STATEMENT"
						 " EXECUTE FUNCTION shardfdw.replicate_reference_table()", qualname));
	sf_spi_exec(psprintf("CREATE TRIGGER shardfdw_replicate_truncate AFTER TRUNCATE ON %s"
						 " FOR EACH STATEMENT EXECUTE FUNCTION shardfdw.replicate_reference_table()",
						 qualname));

	/* catalog */
	sf_spi_exec_count("SELECT pg_catalog.nextval('shardfdw.shardid_seq')", 1);
	shardid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	sf_spi_exec(psprintf("INSERT INTO shardfdw.distributed_table VALUES (%u, 'n', 0, NULL)", relid));
	sf_spi_exec(psprintf("INSERT INTO shardfdw.shard VALUES (" INT64_FORMAT ", %u, 0, NULL)",
						 shardid, relid));
	foreach(lc, nodes)
	{
		SfNode	   *node = lfirst(lc);

		sf_spi_exec(psprintf("INSERT INTO shardfdw.placement VALUES (" INT64_FORMAT ", %d)",
							 shardid, node->nodeid));
	}
	sf_invalidate_table(relid);
	CommandCounterIncrement();

	/* foreign keys of distributed tables waiting for this one */
	sf_create_ready_foreign_keys(relid);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Back to a plain table: drop the triggers, the replicas and the catalog
 * rows.  The caller has checked that nothing references the replicas.
 */
void
sf_undistribute_reference_table(Oid relid)
{
	char	   *qualname = sf_qualified_relname(relid);
	List	   *shards = sf_shard_list(relid);
	ListCell   *lc;

	SPI_connect();
	sf_spi_exec(psprintf("DROP TRIGGER shardfdw_serialize_writers ON %s", qualname));
	sf_spi_exec(psprintf("DROP TRIGGER shardfdw_replicate_insert ON %s", qualname));
	sf_spi_exec(psprintf("DROP TRIGGER shardfdw_replicate_update ON %s", qualname));
	sf_spi_exec(psprintf("DROP TRIGGER shardfdw_replicate_delete ON %s", qualname));
	sf_spi_exec(psprintf("DROP TRIGGER shardfdw_replicate_truncate ON %s", qualname));
	foreach(lc, shards)
	{
		SfShard    *s = lfirst(lc);

		if (OidIsValid(s->serverid))
			sf_drop_reference_replica(relid, s->serverid);
	}
	/* foreign keys to other tables stayed on the coordinator */
	sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid = %u", relid));
	sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET created = false WHERE refrelid = %u", relid));
	sf_spi_exec(psprintf("DELETE FROM shardfdw.distributed_table WHERE relid = %u", relid));
	sf_invalidate_table(relid);
	SPI_finish();
}

/*
 * A key that identifies rows of rel: the primary key, else a unique,
 * immediate, non-partial index without expressions on NOT NULL columns.
 * Returns the column numbers, or NIL.
 */
static List *
sf_replica_key(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	ListCell   *lc;
	List	   *best = NIL;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index idx;
		List	   *cols = NIL;
		bool		ok;
		int			i;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		ok = idx->indisunique && idx->indimmediate && idx->indisvalid &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
		for (i = 0; ok && i < idx->indnkeyatts; i++)
		{
			AttrNumber	attnum = idx->indkey.values[i];

			if (attnum <= 0 || !TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attnotnull)
				ok = false;
			else
				cols = lappend_int(cols, attnum);
		}
		ReleaseSysCache(tup);
		if (!ok)
			continue;
		if (indexoid == pk)
			return cols;
		if (best == NIL)
			best = cols;
	}
	return best;
}

/*
 * DELETE from the replicas the rows of ts, identified by key columns.
 */
static void
sf_delete_rows(Relation rel, List *serverids, Tuplestorestate *ts, List *key)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *qualname = sf_qualified_relname(RelationGetRelid(rel));
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			nkeys = list_length(key);
	FmgrInfo   *outfuncs = sf_output_functions(desc);
	char	  **typnames = palloc(sizeof(char *) * nkeys);
	StringInfoData prefix;
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;
	int			k;
	int			nestlevel;

	initStringInfo(&prefix);
	appendStringInfo(&prefix, "DELETE FROM %s WHERE (", qualname);
	k = 0;
	foreach(lc, key)
	{
		Form_pg_attribute att = TupleDescAttr(desc, lfirst_int(lc) - 1);

		appendStringInfo(&prefix, "%s%s", k > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
		typnames[k++] = format_type_extended(att->atttypid, att->atttypmod,
											 FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
	}
	appendStringInfoString(&prefix, ") IN (");

	initStringInfo(&buf);
	tuplestore_rescan(ts);
	nestlevel = sf_set_transmission_modes();
	for (;;)
	{
		bool		got = tuplestore_gettupleslot(ts, true, false, slot);

		if (got)
		{
			slot_getallattrs(slot);
			if (n == 0)
				appendStringInfoString(&buf, prefix.data);
			else
				appendStringInfoString(&buf, ", ");
			appendStringInfoChar(&buf, '(');
			k = 0;
			foreach(lc, key)
			{
				int			attnum = lfirst_int(lc);
				char	   *value = OutputFunctionCall(&outfuncs[attnum - 1],
													   slot->tts_values[attnum - 1]);

				appendStringInfo(&buf, "%s%s::%s", k > 0 ? ", " : "",
								 quote_literal_cstr(value), typnames[k]);
				k++;
			}
			appendStringInfoChar(&buf, ')');
			n++;
		}
		if ((!got && n > 0) || n >= SF_DELETE_BATCH)
		{
			appendStringInfoChar(&buf, ')');
			foreach(lc, serverids)
				sf_exec_on_server(lfirst_oid(lc), buf.data);
			resetStringInfo(&buf);
			n = 0;
		}
		if (!got)
			break;
	}
	sf_reset_transmission_modes(nestlevel);
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * Take the writer lock of reference table relid for the rest of the
 * transaction (see the file header).  A subtransaction that rolls back
 * releases it, together with the changes it sent to the replicas.
 */
static void
sf_lock_reference_writers(Oid relid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0, relid, SF_REFERENCE_WRITE_LOCK);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * Trigger function shardfdw.replicate_reference_table(): BEFORE ... FOR
 * EACH STATEMENT, takes the table's writer lock; AFTER ... FOR EACH
 * STATEMENT, replicates the statement that fired it to every replica (see
 * the file header).
 */
Datum
shardfdw_replicate_reference_table(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			relid;
	List	   *shards;
	List	   *serverids = NIL;
	ListCell   *lc;
	TriggerEvent event;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("replicate_reference_table must be called as a trigger")));
	event = trigdata->tg_event;
	if (TRIGGER_FIRED_INSTEAD(event) || !TRIGGER_FIRED_FOR_STATEMENT(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("replicate_reference_table must be fired BEFORE or AFTER ... FOR EACH STATEMENT")));

	rel = trigdata->tg_relation;
	relid = RelationGetRelid(rel);

	/*
	 * Before the statement changes any row, so that a writer waiting here
	 * holds no row lock the one it waits for could need.  The AFTER
	 * trigger takes it too (a no-op then) in case the BEFORE one was
	 * disabled.
	 */
	sf_lock_reference_writers(relid);
	if (TRIGGER_FIRED_BEFORE(event))
		return PointerGetDatum(NULL);
	shards = sf_shard_list(relid);
	foreach(lc, shards)
	{
		SfShard    *s = lfirst(lc);

		if (!OidIsValid(s->serverid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("the server of node %d does not exist", s->nodeid),
					 errdetail("Reference table \"%s\" has a replica on that node.",
							   RelationGetRelationName(rel)),
					 errhint("Recreate the SERVER, or remove the node with shardfdw_remove_node.")));
		serverids = lappend_oid(serverids, s->serverid);
	}
	if (serverids == NIL)
		return PointerGetDatum(NULL);

	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		/*
		 * CASCADE: the shards of distributed tables referencing the replica
		 * must go in the same statement.  It reaches nothing the
		 * coordinator did not truncate: PostgreSQL (keys between reference
		 * tables) and the commands layer (keys from distributed tables)
		 * refuse a TRUNCATE without CASCADE that leaves referencing tables
		 * out, and add them with CASCADE.
		 */
		foreach(lc, serverids)
			sf_exec_on_server(lfirst_oid(lc),
							  psprintf("TRUNCATE %s CASCADE", sf_qualified_relname(relid)));
	}
	else if (TRIGGER_FIRED_BY_INSERT(event))
	{
		/*
		 * The INSERTs of a restore (a dump made with --inserts) stay on the
		 * coordinator, as its COPY does (src/commands/copy.c): the replicas
		 * have the rows.  One statement per row: no NOTICE.
		 */
		if (trigdata->tg_newtable != NULL && !sf_restoring())
			sf_copy_rows(rel, serverids, trigdata->tg_newtable);
	}
	else
	{
		List	   *key = sf_replica_key(rel);

		if (key != NIL && trigdata->tg_oldtable != NULL)
		{
			sf_delete_rows(rel, serverids, trigdata->tg_oldtable, key);
			if (TRIGGER_FIRED_BY_UPDATE(event) && trigdata->tg_newtable != NULL)
				sf_copy_rows(rel, serverids, trigdata->tg_newtable);
		}
		else
		{
			foreach(lc, serverids)
				sf_exec_on_server(lfirst_oid(lc),
								  psprintf("TRUNCATE %s", sf_qualified_relname(relid)));
			sf_copy_rows(rel, serverids, NULL);
		}
	}
	return PointerGetDatum(NULL);
}
