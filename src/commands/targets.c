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
