/*-------------------------------------------------------------------------
 *
 * shard_ddl.c
 *	  The definitions of shards and reference table replicas on the
 *	  workers: columns, CHECK constraints, and the primary keys, unique and
 *	  exclusion constraints and indexes that live on the shards only
 *	  (shardfdw.shard_ddl); user-defined column types created on workers.
 *
 * Everything is deparsed with search_path = pg_catalog, so that the text
 * runs unchanged in the workers' sessions.
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

/*
 * The constraints and indexes recorded for distributed table relid in
 * shardfdw.shard_ddl, as SfShardDdl, by kind and name: what a new shard of
 * it gets (moves and splits).  The caller has connected to SPI.
 */
List *
sf_stored_shard_ddl(Oid relid)
{
	List	   *result = NIL;
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT name, kind, definition FROM shardfdw.shard_ddl"
							   " WHERE relid = %u ORDER BY kind, name", relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		SfShardDdl *d = palloc(sizeof(SfShardDdl));

		d->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		d->kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)[0];
		d->definition = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		result = lappend(result, d);
	}
	return result;
}

/*
 * Definitions of the primary keys, unique and exclusion constraints and
 * indexes of relid (a plain table), as SfShardDdl, in name order.  Their
 * texts are deparsed with every name qualified.  The caller has connected
 * to SPI.
 */
List *
sf_collect_shard_ddl(Oid relid)
{
	List	   *result = NIL;
	int			nestlevel = sf_push_qualified_search_path();
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT conname, pg_catalog.pg_get_constraintdef(oid)"
							   " FROM pg_catalog.pg_constraint"
							   " WHERE conrelid = %u AND contype IN ('p', 'u', 'x')"
							   " ORDER BY conname", relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		SfShardDdl *ddl = palloc(sizeof(SfShardDdl));

		ddl->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		ddl->kind = SF_DDL_CONSTRAINT;
		ddl->definition = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		result = lappend(result, ddl);
	}

	sf_spi_exec_count(psprintf("SELECT c.relname, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid)"
							   " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
							   " WHERE i.indrelid = %u AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
							   "   WHERE k.conindid = i.indexrelid AND k.conrelid = %u)"
							   " ORDER BY c.relname", relid, relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		SfShardDdl *ddl = palloc(sizeof(SfShardDdl));
		char	   *def = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		char	   *using = strstr(def, " USING ");

		if (using == NULL)
			elog(ERROR, "unexpected index definition: %s", def);
		ddl->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		ddl->kind = strcmp(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2), "t") == 0
			? SF_DDL_UNIQUE_INDEX : SF_DDL_INDEX;
		ddl->definition = pstrdup(using + 1);
		result = lappend(result, ddl);
	}
	sf_pop_search_path(nestlevel);
	return result;
}

/*
 * The commands that create shard (or replica) nspname.shard_relname of
 * table relid on a worker: CREATE TABLE with relid's columns (types and
 * collations, NOT NULL) and CHECK constraints, the columns' statistics
 * settings (SET STATISTICS, n_distinct), then the constraints and indexes
 * of ddl.  With shardid != 0 every constraint and index name gets
 * the suffix _<shardid>; with 0 they keep their names (replicas).  Column
 * defaults and generated expressions stay on the coordinator.  The caller
 * has connected to SPI.
 */
List *
sf_shard_create_commands(Oid relid, List *ddl, const char *nspname,
						 const char *shard_relname, int64 shardid)
{
	List	   *result = NIL;
	StringInfoData buf;
	Relation	rel;
	TupleDesc	desc;
	int			i;
	bool		first = true;
	char	   *target = quote_qualified_identifier(nspname, shard_relname);
	int			nestlevel = sf_push_qualified_search_path();
	ListCell   *lc;
	uint64		j;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE TABLE %s (", target);
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		appendStringInfo(&buf, "%s %s", quote_identifier(NameStr(att->attname)),
						 format_type_extended(att->atttypid, att->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(att->attcollation) &&
			att->attcollation != get_typcollation(att->atttypid))
		{
			HeapTuple	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(att->attcollation));
			Form_pg_collation coll;

			if (!HeapTupleIsValid(tup))
				elog(ERROR, "cache lookup failed for collation %u", att->attcollation);
			coll = (Form_pg_collation) GETSTRUCT(tup);
			appendStringInfo(&buf, " COLLATE %s",
							 quote_qualified_identifier(get_namespace_name(coll->collnamespace),
														NameStr(coll->collname)));
			ReleaseSysCache(tup);
		}
		if (att->attnotnull)
			appendStringInfoString(&buf, " NOT NULL");
	}
	table_close(rel, AccessShareLock);

	sf_spi_exec_count(psprintf("SELECT conname, pg_catalog.pg_get_constraintdef(oid)"
							   " FROM pg_catalog.pg_constraint"
							   " WHERE conrelid = %u AND contype = 'c' ORDER BY conname", relid), -1);
	for (j = 0; j < SPI_processed; j++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1);
		char	   *def = SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 2);

		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		appendStringInfo(&buf, "CONSTRAINT %s %s",
						 quote_identifier(shardid != 0 ? sf_shard_relname(name, shardid) : name),
						 def);
	}
	appendStringInfoChar(&buf, ')');
	result = lappend(result, buf.data);
	sf_pop_search_path(nestlevel);

	/* the columns' planner statistics settings (ALTER COLUMN ... SET) */
	sf_spi_exec_count(psprintf("SELECT pg_catalog.quote_ident(attname), attstattarget,"
							   "  pg_catalog.array_to_string(ARRAY("
							   "    SELECT pg_catalog.quote_ident(pg_catalog.split_part(o, '=', 1)) || ' = ' ||"
							   "           pg_catalog.quote_literal(pg_catalog.substr(o, pg_catalog.strpos(o, '=') + 1))"
							   "      FROM pg_catalog.unnest(attoptions) o"
							   "     WHERE o OPERATOR(pg_catalog.!~~) 'pg\\_attver=%%'), ', ')"
							   " FROM pg_catalog.pg_attribute"
							   " WHERE attrelid = %u AND attnum > 0 AND NOT attisdropped"
							   "   AND (attstattarget >= 0 OR attoptions IS NOT NULL)"
							   " ORDER BY attnum", relid), -1);
	for (j = 0; j < SPI_processed; j++)
	{
		HeapTuple	tup = SPI_tuptable->vals[j];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		char	   *col = SPI_getvalue(tup, tupdesc, 1);
		int			target_stats = atoi(SPI_getvalue(tup, tupdesc, 2));
		char	   *options = SPI_getvalue(tup, tupdesc, 3);

		if (target_stats >= 0)
			result = lappend(result, psprintf("ALTER TABLE %s ALTER COLUMN %s SET STATISTICS %d",
											  target, col, target_stats));
		if (options != NULL && options[0] != '\0')
			result = lappend(result, psprintf("ALTER TABLE %s ALTER COLUMN %s SET (%s)",
											  target, col, options));
	}

	foreach(lc, ddl)
	{
		SfShardDdl *d = lfirst(lc);
		char	   *name = shardid != 0 ? sf_shard_relname(d->name, shardid) : d->name;

		if (d->kind == SF_DDL_CONSTRAINT)
			result = lappend(result, psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
											  target, quote_identifier(name), d->definition));
		else
			result = lappend(result, psprintf("CREATE %sINDEX %s ON %s %s",
											  d->kind == SF_DDL_UNIQUE_INDEX ? "UNIQUE " : "",
											  quote_identifier(name), target, d->definition));
	}
	return result;
}

/*
 * Make sure a user-defined type exists on a worker: enums, domains and
 * composite types are created there when missing (with their schema);
 * other types must already exist.
 */
static void
sf_ensure_type(Oid typid, Oid serverid, int depth)
{
	HeapTuple	tup;
	Form_pg_type typ;
	char	   *nspname;
	char	   *qualname;
	SfConn	   *conn;
	PGresult   *res;
	const char *values[1];
	bool		exists;
	Oid			elem;

	if (depth > 16)
		return;
	elem = get_element_type(typid);
	if (OidIsValid(elem))
	{
		sf_ensure_type(elem, serverid, depth + 1);
		return;
	}
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tup);
	if (typ->typnamespace == PG_CATALOG_NAMESPACE ||
		typid < FirstNormalObjectId)
	{
		ReleaseSysCache(tup);
		return;
	}
	nspname = get_namespace_name(typ->typnamespace);
	qualname = quote_qualified_identifier(nspname, NameStr(typ->typname));

	conn = sf_get_connection_for_server(serverid);
	values[0] = qualname;
	res = sf_exec_query(conn, "SELECT pg_catalog.to_regtype($1) IS NOT NULL", 1, values);
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists)
	{
		ReleaseSysCache(tup);
		return;
	}

	if (typ->typtype == TYPTYPE_ENUM || typ->typtype == TYPTYPE_DOMAIN ||
		(typ->typtype == TYPTYPE_COMPOSITE && get_rel_relkind(typ->typrelid) == RELKIND_COMPOSITE_TYPE))
	{
		StringInfoData buf;
		int			nestlevel;
		uint64		i;

		initStringInfo(&buf);
		sf_exec_command(conn, psprintf("CREATE SCHEMA IF NOT EXISTS %s", quote_identifier(nspname)));
		SPI_connect();
		nestlevel = sf_push_qualified_search_path();
		if (typ->typtype == TYPTYPE_ENUM)
		{
			sf_spi_exec_count(psprintf("SELECT pg_catalog.quote_literal(enumlabel) FROM pg_catalog.pg_enum"
									   " WHERE enumtypid = %u ORDER BY enumsortorder", typid), -1);
			appendStringInfo(&buf, "CREATE TYPE %s AS ENUM (", qualname);
			for (i = 0; i < SPI_processed; i++)
				appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
								 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
			appendStringInfoChar(&buf, ')');
		}
		else if (typ->typtype == TYPTYPE_DOMAIN)
		{
			sf_ensure_type(typ->typbasetype, serverid, depth + 1);
			appendStringInfo(&buf, "CREATE DOMAIN %s AS %s", qualname,
							 format_type_extended(typ->typbasetype, typ->typtypmod,
												  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
			if (typ->typnotnull)
				appendStringInfoString(&buf, " NOT NULL");
			sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint"
									   " WHERE contypid = %u ORDER BY conname", typid), -1);
			for (i = 0; i < SPI_processed; i++)
				appendStringInfo(&buf, " %s",
								 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		}
		else
		{
			Relation	crel = relation_open(typ->typrelid, AccessShareLock);
			TupleDesc	cdesc = RelationGetDescr(crel);
			int			k;
			bool		first = true;

			appendStringInfo(&buf, "CREATE TYPE %s AS (", qualname);
			for (k = 0; k < cdesc->natts; k++)
			{
				Form_pg_attribute att = TupleDescAttr(cdesc, k);

				if (att->attisdropped)
					continue;
				sf_ensure_type(att->atttypid, serverid, depth + 1);
				appendStringInfo(&buf, "%s%s %s", first ? "" : ", ",
								 quote_identifier(NameStr(att->attname)),
								 format_type_extended(att->atttypid, att->atttypmod,
													  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
				first = false;
			}
			appendStringInfoChar(&buf, ')');
			relation_close(crel, AccessShareLock);
		}
		sf_pop_search_path(nestlevel);
		SPI_finish();
		sf_exec_command(conn, buf.data);
		ReleaseSysCache(tup);
		return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("type %s does not exist on worker \"%s\"", qualname,
					sf_conn_server_name(conn)),
			 errdetail("shardfdw creates enum, domain and composite types on workers, but not types of kind '%c'.",
					   typ->typtype),
			 errhint("Create the type on every worker (for a type from an extension, CREATE EXTENSION there), then retry.")));
}

/*
 * Make sure the types of relid's columns exist on a worker (see
 * sf_ensure_type).
 */
void
sf_ensure_column_types(Oid relid, Oid serverid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped)
			sf_ensure_type(att->atttypid, serverid, 0);
	}
	table_close(rel, AccessShareLock);
}

