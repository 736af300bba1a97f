/*-------------------------------------------------------------------------
 *
 * foreign_keys.c
 *	  Foreign keys of distributed and reference tables.
 *
 * A foreign key from or to a distributed table cannot stay on the
 * coordinator (its partitions are foreign tables): it is recorded in
 * shardfdw.pending_fkey and created on the workers, between co-located
 * shards or from shards to the replicas of a reference table, once both
 * sides are distributed (created = true).  A local table whose key
 * references a distributed table keeps a placeholder CHECK (true) NOT VALID
 * constraint of the same name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "utils/inval.h"
#include "catalog/pg_type.h"
#include "catalog/pg_am.h"
#include "commands.h"
#include "commands/defrem.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

/* ----------------------------------------------------------------
 * Foreign keys
 * ----------------------------------------------------------------
 */

/*
 * " MATCH FULL ON UPDATE ... ON DELETE ... DEFERRABLE INITIALLY DEFERRED":
 * the clauses after REFERENCES t (cols) of a foreign key, from its
 * FKCONSTR_* match type and actions (as in pg_constraint and Constraint).
 */
char *
sf_foreign_key_actions(char matchtype, char updaction, char delaction,
					   bool deferrable, bool deferred)
{
	StringInfoData buf;
	char		types[2] = {updaction, delaction};
	const char *words[2] = {"UPDATE", "DELETE"};
	int			i;

	initStringInfo(&buf);
	if (matchtype == FKCONSTR_MATCH_FULL)
		appendStringInfoString(&buf, " MATCH FULL");
	for (i = 0; i < 2; i++)
	{
		const char *action = NULL;

		switch (types[i])
		{
			case FKCONSTR_ACTION_RESTRICT:
				action = "RESTRICT";
				break;
			case FKCONSTR_ACTION_CASCADE:
				action = "CASCADE";
				break;
			case FKCONSTR_ACTION_SETNULL:
				action = "SET NULL";
				break;
			case FKCONSTR_ACTION_SETDEFAULT:
				action = "SET DEFAULT";
				break;
			default:
				break;
		}
		if (action)
			appendStringInfo(&buf, " ON %s %s", words[i], action);
	}
	if (deferrable)
		appendStringInfoString(&buf, " DEFERRABLE");
	if (deferred)
		appendStringInfoString(&buf, " INITIALLY DEFERRED");
	return buf.data;
}

/* The clauses after REFERENCES of a pg_constraint row */
static char *
sf_fkey_actions(HeapTuple contup)
{
	Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(contup);

	return sf_foreign_key_actions(con->confmatchtype, con->confupdtype, con->confdeltype,
								  con->condeferrable, con->condeferred);
}

/*
 * The foreign keys of pg_constraint from or to relid, as SfForeignKey.
 */
List *
sf_constraint_foreign_keys(Oid relid)
{
	List	   *result = NIL;
	Relation	conrel = table_open(ConstraintRelationId, AccessShareLock);
	TableScanDesc scan = table_beginscan_catalog(conrel, 0, NULL);
	HeapTuple	tup;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		SfForeignKey *fk;
		Datum		d;
		bool		isnull;
		ArrayType  *arr;
		int16	   *keys;
		int			n;
		int			i;

		if (con->contype != CONSTRAINT_FOREIGN ||
			(con->conrelid != relid && con->confrelid != relid))
			continue;
		fk = palloc0(sizeof(SfForeignKey));
		fk->conname = pstrdup(NameStr(con->conname));
		fk->relid = con->conrelid;
		fk->refrelid = con->confrelid;
		fk->actions = sf_fkey_actions(tup);
		d = heap_getattr(tup, Anum_pg_constraint_conkey, RelationGetDescr(conrel), &isnull);
		arr = DatumGetArrayTypeP(d);
		n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
		keys = (int16 *) ARR_DATA_PTR(arr);
		for (i = 0; i < n; i++)
			fk->columns = lappend(fk->columns,
								  makeString(get_attname(fk->relid, keys[i], false)));
		d = heap_getattr(tup, Anum_pg_constraint_confkey, RelationGetDescr(conrel), &isnull);
		arr = DatumGetArrayTypeP(d);
		n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
		keys = (int16 *) ARR_DATA_PTR(arr);
		for (i = 0; i < n; i++)
			fk->refcolumns = lappend(fk->refcolumns,
									 makeString(get_attname(fk->refrelid, keys[i], false)));
		result = lappend(result, fk);
	}
	table_endscan(scan);
	table_close(conrel, AccessShareLock);
	return result;
}

/*
 * The rows of shardfdw.pending_fkey from or to relid.  The caller has
 * connected to SPI.
 */
List *
sf_load_foreign_keys(Oid relid)
{
	List	   *result = NIL;
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT conname, relid::pg_catalog.oid, refrelid::pg_catalog.oid,"
							   " pg_catalog.array_to_string(columns, chr(1)),"
							   " pg_catalog.array_to_string(refcolumns, chr(1)), actions, created"
							   " FROM shardfdw.pending_fkey WHERE relid = %u OR refrelid = %u"
							   " ORDER BY relid, conname", relid, relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		SfForeignKey *fk = palloc0(sizeof(SfForeignKey));
		char	   *cols;
		char	   *tok;

		fk->conname = SPI_getvalue(t, d, 1);
		fk->relid = atooid(SPI_getvalue(t, d, 2));
		fk->refrelid = atooid(SPI_getvalue(t, d, 3));
		cols = SPI_getvalue(t, d, 4);
		for (tok = strtok(cols, "\001"); tok; tok = strtok(NULL, "\001"))
			fk->columns = lappend(fk->columns, makeString(pstrdup(tok)));
		cols = SPI_getvalue(t, d, 5);
		for (tok = strtok(cols, "\001"); tok; tok = strtok(NULL, "\001"))
			fk->refcolumns = lappend(fk->refcolumns, makeString(pstrdup(tok)));
		fk->actions = SPI_getvalue(t, d, 6);
		fk->created = strcmp(SPI_getvalue(t, d, 7), "t") == 0;
		result = lappend(result, fk);
	}
	return result;
}

/*
 * Error out unless foreign key fk between two hash-distributed tables can
 * be created shard by shard: same co-location group, and the referencing
 * distribution column references the referenced distribution column.
 */
void
sf_check_fkey_pair(SfForeignKey *fk, int32 colocationid,
				   Oid relid, AttrNumber attnum,
				   Oid refrelid, AttrNumber refattnum)
{
	char	   *distcol = get_attname(relid, attnum, false);
	char	   *refdistcol = get_attname(refrelid, refattnum, false);
	int32		refcolocation = (refrelid == relid) ? colocationid : sf_colocation_id(refrelid);
	ListCell   *lc1;
	ListCell   *lc2;
	bool		ok = false;

	if (refcolocation != colocationid)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
						fk->conname, get_rel_name(fk->relid)),
				 errdetail("Table \"%s\" is not co-located with table \"%s\".",
						   get_rel_name(fk->relid), get_rel_name(fk->refrelid)),
				 errhint("Distribute both tables on the referencing columns with colocate_with, or make \"%s\" a reference table.",
						 get_rel_name(fk->refrelid))));
	forboth(lc1, fk->columns, lc2, fk->refcolumns)
	{
		if (strcmp(strVal(lfirst(lc1)), distcol) == 0 &&
			strcmp(strVal(lfirst(lc2)), refdistcol) == 0)
			ok = true;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
						fk->conname, get_rel_name(fk->relid)),
				 errdetail("Foreign keys between distributed tables must map distribution column \"%s\" to distribution column \"%s\".",
						   distcol, refdistcol),
				 errhint("Include the distribution columns in the foreign key, or make \"%s\" a reference table.",
						 get_rel_name(fk->refrelid))));
}

/* ALTER TABLE shard ADD CONSTRAINT ... FOREIGN KEY ... REFERENCES refshard */
char *
sf_foreign_key_shard_command(SfForeignKey *fk, const char *shard,
							 const char *refshard, int64 shardid)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (", shard,
					 quote_identifier(shardid != 0 ? sf_shard_relname(fk->conname, shardid) : fk->conname));
	foreach(lc, fk->columns)
		appendStringInfo(&buf, "%s%s", lc == list_head(fk->columns) ? "" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	appendStringInfo(&buf, ") REFERENCES %s (", refshard);
	foreach(lc, fk->refcolumns)
		appendStringInfo(&buf, "%s%s", lc == list_head(fk->refcolumns) ? "" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	appendStringInfo(&buf, ")%s", fk->actions);
	return buf.data;
}

/*
 * Create on the workers the pending foreign keys from or to relid whose
 * both sides are now distributed or reference tables, and mark them
 * created.  Errors out for a foreign key that can never be created.  The
 * caller has connected to SPI and made the catalog rows of relid visible.
 */
void
sf_create_ready_foreign_keys(Oid relid)
{
	List	   *fkeys = sf_load_foreign_keys(relid);
	ListCell   *lc;

	foreach(lc, fkeys)
	{
		SfForeignKey *fk = lfirst(lc);
		const SfTable *from;
		const SfTable *to;
		List	   *fromshards;
		List	   *toshards;
		ListCell   *lc2;

		if (fk->created)
			continue;
		from = sf_lookup_table(fk->relid);
		to = sf_lookup_table(fk->refrelid);
		if (from == NULL || to == NULL)
			continue;
		if (from->kind == SF_KIND_REFERENCE)
		{
			if (to->kind == SF_KIND_HASH)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot create foreign key \"%s\" from reference table \"%s\" to distributed table \"%s\"",
								fk->conname, get_rel_name(fk->relid), get_rel_name(fk->refrelid)),
						 errdetail("A reference table has rows on every node, a distributed table only on one."),
						 errhint("Drop the foreign key, or make \"%s\" a reference table too.",
								 get_rel_name(fk->refrelid))));
			/* reference to reference: kept on the coordinator tables */
			continue;
		}

		fromshards = sf_shard_list(fk->relid);
		toshards = sf_shard_list(fk->refrelid);
		if (to->kind == SF_KIND_HASH)
			sf_check_fkey_pair(fk, from->colocationid, fk->relid, from->distattnum,
							   fk->refrelid, to->distattnum);

		foreach(lc2, fromshards)
		{
			SfShard    *s = lfirst(lc2);
			char	   *refname = NULL;
			ListCell   *lc3;

			if (to->kind == SF_KIND_REFERENCE)
				refname = sf_qualified_relname(fk->refrelid);
			else
			{
				foreach(lc3, toshards)
				{
					SfShard    *t = lfirst(lc3);

					if (t->shardindex == s->shardindex)
					{
						if (t->nodeid != s->nodeid)
							ereport(ERROR,
									(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
									 errmsg("cannot create foreign key \"%s\": shards %lld and %lld are on different nodes",
											fk->conname, (long long) s->shardid, (long long) t->shardid),
									 errhint("Move the shards of the co-location group together first.")));
						refname = sf_qualified_relname(t->shardrelid);
					}
				}
			}
			if (refname == NULL)
				elog(ERROR, "no shard %d for table %u", s->shardindex, fk->refrelid);
			sf_exec_on_server(s->serverid,
							  sf_foreign_key_shard_command(fk, sf_qualified_relname(s->shardrelid),
														   refname, s->shardid));
		}
		sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET created = true"
							 " WHERE relid = %u AND conname = %s",
							 fk->relid, quote_literal_cstr(fk->conname)));
	}
}

/*
 * A foreign key of local table relid whose referenced table becomes
 * distributed cannot stay on the coordinator.  In its place relid gets a
 * CHECK (true) NOT VALID constraint of the same name, so that the user can
 * still see it and drop it (ALTER TABLE ... DROP CONSTRAINT name): a pending
 * foreign key whose placeholder is gone is forgotten, not created.
 */
void
sf_add_fkey_placeholder(Oid relid, const char *conname, const char *refname)
{
	char	   *qualname = sf_qualified_relname(relid);

	sf_spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (true) NOT VALID",
						 qualname, quote_identifier(conname)));
	sf_spi_exec(psprintf("COMMENT ON CONSTRAINT %s ON %s IS %s",
						 quote_identifier(conname), qualname,
						 quote_literal_cstr(psprintf("shardfdw: foreign key to distributed table %s, created on the shards when this table is distributed; drop this constraint to drop the foreign key",
													 refname))));
}

/* Is the placeholder of pending foreign key conname of relid still there? */
bool
sf_fkey_placeholder_exists(Oid relid, const char *conname)
{
	return sf_spi_exec_count(psprintf("SELECT 1 FROM pg_catalog.pg_constraint"
									  " WHERE conrelid = %u AND conname = %s AND contype = 'c'",
									  relid, quote_literal_cstr(conname)), -1) > 0;
}

/*
 * Delete the pending foreign keys of relid (referencing side, not yet
 * created) whose placeholder the user dropped.
 */
void
sf_forget_dropped_pending_fkeys(Oid relid)
{
	sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey p"
						 " WHERE p.relid = %u AND NOT p.created AND NOT EXISTS"
						 " (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conrelid = %u"
						 "  AND c.conname = p.conname AND c.contype = 'c')",
						 relid, relid));
}

/* Drop the placeholders of the pending foreign keys of relid. */
void
sf_drop_fkey_placeholders(Oid relid)
{
	List	   *names;
	ListCell   *lc;

	sf_spi_exec_count(psprintf("SELECT pg_catalog.quote_ident(c.conname) FROM pg_catalog.pg_constraint c"
							   " JOIN shardfdw.pending_fkey p ON p.conname = c.conname AND p.relid = c.conrelid"
							   " WHERE c.conrelid = %u AND c.contype = 'c' AND NOT p.created",
							   relid), -1);
	names = sf_spi_strings();
	foreach(lc, names)
		sf_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
							 sf_qualified_relname(relid), (char *) lfirst(lc)));
}

