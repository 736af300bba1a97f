/*-------------------------------------------------------------------------
 *
 * targets.c
 *	  Where the DDL of a distributed or reference table goes: its shards
 *	  (names suffixed _<shardid>) or replicas (same names), as SfTarget.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "commands.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "operations.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_expr.h"
#include "parser/parse_type.h"
#include "parser/parse_relation.h"
#include "utils/ruleutils.h"
#include "connection.h"
#include "foreign/foreign.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"


List *
sf_targets(Oid relid, const SfTable *table)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, sf_shard_list(relid))
	{
		SfShard    *s = lfirst(lc);
		SfTarget   *t;

		if (!OidIsValid(s->serverid))
			continue;
		t = palloc(sizeof(SfTarget));
		t->serverid = s->serverid;
		if (table->kind == SF_KIND_REFERENCE)
		{
			t->qualname = sf_qualified_relname(relid);
			t->shardid = 0;
		}
		else
		{
			t->qualname = sf_qualified_relname(s->shardrelid);
			t->shardid = s->shardid;
		}
		result = lappend(result, t);
	}
	return result;
}

/* The first shard / replica of relid, or NULL */
SfTarget *
sf_first_target(Oid relid)
{
	const SfTable *cached = sf_lookup_table(relid);
	SfTable		table;
	List	   *targets;

	if (cached == NULL)
		return NULL;
	table = *cached;
	targets = sf_targets(relid, &table);
	return targets != NIL ? linitial(targets) : NULL;
}

/* A constraint or index name as it is on target t */
const char *
sf_target_name(SfTarget *t, const char *name)
{
	return quote_identifier(t->shardid != 0 ? sf_shard_relname(name, t->shardid) : name);
}

/* "ALTER TABLE <target> " || fmt-expanded rest, on every target */
void
sf_alter_targets(List *targets, const char *rest)
{
	ListCell   *lc;

	foreach(lc, targets)
	{
		SfTarget   *t = lfirst(lc);

		sf_exec_on_server(t->serverid, psprintf("ALTER TABLE %s %s", t->qualname, rest));
	}
}

/* Column type (qualified) and non-default collation of attnum */
char *
sf_column_type(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	Form_pg_attribute att;
	StringInfoData buf;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attnum, relid);
	att = (Form_pg_attribute) GETSTRUCT(tup);
	initStringInfo(&buf);
	appendStringInfoString(&buf, format_type_extended(att->atttypid, att->atttypmod,
													  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
	if (OidIsValid(att->attcollation) && att->attcollation != get_typcollation(att->atttypid))
	{
		HeapTuple	ctup = SearchSysCache1(COLLOID, ObjectIdGetDatum(att->attcollation));
		Form_pg_collation coll = (Form_pg_collation) GETSTRUCT(ctup);

		appendStringInfo(&buf, " COLLATE %s",
						 quote_qualified_identifier(get_namespace_name(coll->collnamespace),
													NameStr(coll->collname)));
		ReleaseSysCache(ctup);
	}
	ReleaseSysCache(tup);
	return buf.data;
}

/* Names of the constraints and indexes of worker table t */
List *
sf_target_objects(SfTarget *t)
{
	PGresult   *res;
	List	   *result = NIL;
	int			i;
	char	   *sql;

	sql = psprintf("SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = %s::pg_catalog.regclass"
				   " UNION SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c"
				   " ON c.oid = i.indexrelid WHERE i.indrelid = %s::pg_catalog.regclass",
				   quote_literal_cstr(t->qualname), quote_literal_cstr(t->qualname));
	res = sf_exec_query(sf_get_connection_for_server(t->serverid), sql, 0, NULL);
	for (i = 0; i < PQntuples(res); i++)
		result = lappend(result, pstrdup(PQgetvalue(res, i, 0)));
	PQclear(res);
	return result;
}

bool
sf_string_member(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * Does worker table t already have the constraint (kind SF_DDL_CONSTRAINT)
 * or index (any other kind) named name (its name on t: with the shard
 * suffix on shards) with definition def?  def is pg_get_constraintdef, or
 * pg_get_indexdef as the worker shows it, computed by the coordinator with
 * every name qualified (the workers' sessions run with search_path
 * pg_catalog, so theirs are qualified the same way).
 *
 * A restore of the coordinator's database replays the DDL of objects that
 * the shards and replicas have already (they were restored from the
 * workers' own dumps, or they are the same workers): those are skipped,
 * with a NOTICE.  An object of that name with another definition is not the
 * same object: the caller sends its statement and the worker reports the
 * conflict.
 */
bool
sf_target_has_object(SfTarget *t, char kind, const char *name, const char *def)
{
	PGresult   *res;
	const char *params[2];
	char	   *found = NULL;
	bool		same;

	params[0] = t->qualname;
	params[1] = t->shardid != 0 ? sf_shard_relname(name, t->shardid) : name;
	if (kind == SF_DDL_CONSTRAINT)
		res = sf_exec_query(sf_get_connection_for_server(t->serverid),
							"SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint"
							" WHERE conrelid = pg_catalog.to_regclass($1) AND conname = $2",
							2, params);
	else
		res = sf_exec_query(sf_get_connection_for_server(t->serverid),
							"SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i"
							" JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
							" WHERE i.indrelid = pg_catalog.to_regclass($1) AND c.relname = $2",
							2, params);
	if (PQntuples(res) == 1)
		found = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	same = found != NULL && strcmp(found, def) == 0;
	if (same && kind == SF_DDL_CONSTRAINT)
		ereport(NOTICE,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("constraint \"%s\" for relation %s already exists on server \"%s\", skipping",
						params[1], t->qualname, GetForeignServer(t->serverid)->servername),
				 errdetail("Its definition there is the same.")));
	else if (same)
		ereport(NOTICE,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists on server \"%s\", skipping",
						params[1], GetForeignServer(t->serverid)->servername),
				 errdetail("Its definition there is the same.")));
	return same;
}
