/*-------------------------------------------------------------------------
 *
 * undistribute.c
 *	  undistribute_table: a distributed table back into a plain local table
 *	  (rows, owner, grants, comment, sequences, constraints and indexes from
 *	  shardfdw.shard_ddl, foreign keys), shards dropped on the workers,
 *	  catalog rows removed.  Reference tables: see reference.c.
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

PG_FUNCTION_INFO_V1(shardfdw_undistribute_table);

/* ----------------------------------------------------------------
 * undistribute_table
 * ----------------------------------------------------------------
 */

/*
 * undistribute_table(table_name regclass, cascade_via_foreign_keys bool)
 */
Datum
shardfdw_undistribute_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		cascade = PG_GETARG_BOOL(1);
	const SfTable *table;
	char	   *relname;
	char	   *nspname;
	char	   *qualname;
	char	   *tmpname;
	char	   *tmpqual;
	Oid			newrelid;
	char	   *columns;
	List	   *shards;
	List	   *fkeys;
	List	   *ddl = NIL;
	List	   *views;
	List	   *identities;
	ListCell   *lc;
	uint64		i;
	int32		colocationid;

	LockRelationOid(relid, AccessExclusiveLock);
	table = sf_lookup_table(relid);
	relname = get_rel_name(relid);
	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is not distributed", relname),
				 errhint("undistribute_table applies to distributed and reference tables.")));

	SPI_connect();
	fkeys = sf_load_foreign_keys(relid);
	foreach(lc, fkeys)
	{
		SfForeignKey *fk = lfirst(lc);

		if (fk->created && fk->relid != relid)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot undistribute table \"%s\": foreign key \"%s\" of table \"%s\" references it",
							relname, fk->conname, get_rel_name(fk->relid)),
					 errdetail("%s", cascade
							   ? "cascade_via_foreign_keys is not supported yet."
							   : "The referencing table is distributed."),
					 errhint("Undistribute table \"%s\" first.", get_rel_name(fk->relid))));
	}

	if (table->kind == SF_KIND_REFERENCE)
	{
		SPI_finish();
		sf_undistribute_reference_table(relid);
		PG_RETURN_VOID();
	}

	/* views are created again over the new table (views.c) */
	sf_check_views(relid, "undistribute");

	nspname = get_namespace_name(get_rel_namespace(relid));
	qualname = sf_qualified_relname(relid);
	colocationid = table->colocationid;
	shards = sf_shard_list(relid);

	/* the new local table, with the rows */
	tmpname = psprintf("shardfdw_new_%u", relid);
	tmpqual = quote_qualified_identifier(nspname, tmpname);
	sf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
						 " INCLUDING COMMENTS INCLUDING GENERATED INCLUDING IDENTITY"
						 " INCLUDING STORAGE INCLUDING COMPRESSION)", tmpqual, qualname));
	CommandCounterIncrement();
	newrelid = get_relname_relid(tmpname, get_rel_namespace(relid));
	sf_carry_over_table_properties(relid, newrelid, tmpqual);
	columns = sf_insertable_columns(relid);
	sf_spi_exec(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
						 tmpqual, columns, columns, qualname));

	/* constraints and indexes from the catalog */
	sf_spi_exec_count(psprintf("SELECT name, kind, definition FROM shardfdw.shard_ddl"
							   " WHERE relid = %u ORDER BY kind, name", relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		SfShardDdl *d = palloc(sizeof(SfShardDdl));

		d->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		d->kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)[0];
		d->definition = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		ddl = lappend(ddl, d);
	}

	/* shards on the workers, dropped once the new table is durable */
	sf_require_durable_commit();
	foreach(lc, shards)
	{
		SfShard    *s = lfirst(lc);

		if (OidIsValid(s->serverid))
			sf_exec_on_server(s->serverid,
							  psprintf("DROP TABLE IF EXISTS %s CASCADE",
									   sf_qualified_relname(s->shardrelid)));
	}

	/*
	 * swap (the shards are gone already: the drop trigger has nothing to
	 * do); the views over the table follow it
	 */
	views = sf_detach_views(relid, "undistribute");
	identities = sf_identity_save(relid);
	sf_commands_bypass_begin();
	sf_spi_exec(psprintf("DROP TABLE %s", qualname));
	sf_commands_bypass_end();
	sf_spi_exec(psprintf("ALTER TABLE %s RENAME TO %s", tmpqual, quote_identifier(relname)));
	CommandCounterIncrement();
	sf_identity_restore(newrelid, identities);
	sf_reattach_views(views);
	foreach(lc, ddl)
	{
		SfShardDdl *d = lfirst(lc);

		if (d->kind == SF_DDL_CONSTRAINT)
			sf_spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", qualname,
								 quote_identifier(d->name), d->definition));
		else
			sf_spi_exec(psprintf("CREATE %sINDEX %s ON %s %s",
								 d->kind == SF_DDL_UNIQUE_INDEX ? "UNIQUE " : "",
								 quote_identifier(d->name), qualname, d->definition));
	}
	CommandCounterIncrement();

	/* foreign keys back to the coordinator where both sides are local */
	foreach(lc, fkeys)
	{
		SfForeignKey *fk = lfirst(lc);
		Oid			from = fk->relid == relid ? newrelid : fk->relid;
		Oid			to = fk->refrelid == relid ? newrelid : fk->refrelid;
		const SfTable *ot = sf_lookup_table(from == newrelid ? to : from);

		if (from == newrelid && to == newrelid)
			ot = NULL;
		if (ot == NULL || ot->kind == SF_KIND_REFERENCE)
		{
			if (fk->refrelid == relid && ot != NULL)
				continue;		/* reference -> us: impossible */
			if (from != newrelid && !fk->created)
			{
				/* a local table referencing us: its placeholder */
				if (!sf_fkey_placeholder_exists(from, fk->conname))
				{
					sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
										 fk->relid, quote_literal_cstr(fk->conname)));
					continue;
				}
				sf_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
									 sf_qualified_relname(from),
									 quote_identifier(fk->conname)));
			}
			sf_spi_exec(sf_foreign_key_shard_command(fk, sf_qualified_relname(from),
													 sf_qualified_relname(to), 0));
			sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
								 fk->relid, quote_literal_cstr(fk->conname)));
		}
		else
		{
			/* the other side is distributed: keep it pending */
			sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET created = false,"
								 " relid = %u, refrelid = %u WHERE relid = %u AND conname = %s",
								 from, to, fk->relid, quote_literal_cstr(fk->conname)));
			if (from == newrelid)
				sf_add_fkey_placeholder(newrelid, fk->conname, get_rel_name(to));
		}
	}

	/* catalog */
	sf_spi_exec(psprintf("DELETE FROM shardfdw.distributed_table WHERE relid = %u", relid));
	sf_spi_exec(psprintf("DELETE FROM shardfdw.colocation c WHERE colocationid = %d AND NOT EXISTS"
						 " (SELECT 1 FROM shardfdw.distributed_table t WHERE t.colocationid = c.colocationid)",
						 colocationid));
	sf_invalidate_table(relid);
	sf_invalidate_table(newrelid);
	SPI_finish();
	PG_RETURN_VOID();
}
