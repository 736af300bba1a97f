/*-------------------------------------------------------------------------
 *
 * alter.c
 *	  ALTER TABLE and RENAME on distributed and reference tables.
 *
 * Every subcommand is checked first: an unsupported one fails before
 * anything changes, with a hint.  Then each subcommand runs on its own:
 * PostgreSQL applies it to the coordinator (the parent and, by recursion,
 * the foreign partitions; or the reference table), and the same change,
 * deparsed from the coordinator's catalog after the fact (every name
 * qualified), is sent to every shard or replica.  Constraint and index
 * names get the suffix _<shardid> on shards and stay as they are on
 * replicas.  Constraints that cannot exist on the parent (PRIMARY KEY,
 * UNIQUE, FOREIGN KEY of a distributed table) are applied to the shards
 * and recorded in the catalog (shard_ddl, pending_fkey) without PostgreSQL.
 *
 * Column defaults stay on the coordinator (as at distribution); ADD COLUMN
 * with a default sends it along so that the existing rows on the workers
 * get it, then drops it there.
 *
 * RENAME of a distributed table keeps the shard names (the foreign
 * partitions keep pointing at them); RENAME of a reference table renames
 * the replicas.
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

#define SF_ALTER_HINT "Turn the table back into a local table with undistribute_table, alter it, then distribute it again."

/* A shard or replica: where to send the DDL, and the names to use */
typedef struct SfTarget
{
	Oid			serverid;
	char	   *qualname;		/* the worker table */
	int64		shardid;		/* 0 for replicas: names unchanged */
} SfTarget;

static List *
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
static SfTarget *
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
static const char *
sf_target_name(SfTarget *t, const char *name)
{
	return quote_identifier(t->shardid != 0 ? sf_shard_relname(name, t->shardid) : name);
}

/* "ALTER TABLE <target> " || fmt-expanded rest, on every target */
static void
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
static char *
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

static void
sf_alter_unsupported(Oid relid, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on %s table \"%s\"", what,
					sf_is_reference_table(relid) ? "reference" : "distributed",
					get_rel_name(relid)),
			 errhint(SF_ALTER_HINT)));
}

/* Names of the columns of a key list (of String) contain column name? */
static bool
sf_names_contain(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	return false;
}

/*
 * Check one subcommand before anything changes: unsupported ones error out.
 */
static void
sf_check_alter_cmd(Oid relid, const SfTable *table, AlterTableCmd *cmd)
{
	bool		distributed = table->kind == SF_KIND_HASH;

	switch (cmd->subtype)
	{
		case AT_AddColumn:
			{
				ColumnDef  *def = (ColumnDef *) cmd->def;
				ListCell   *lc;

				if (def->identity || def->generated || def->collClause)
					sf_alter_unsupported(relid, "ADD COLUMN with IDENTITY, GENERATED or COLLATE");
				foreach(lc, def->constraints)
				{
					Constraint *con = lfirst(lc);

					if (con->contype != CONSTR_NOTNULL && con->contype != CONSTR_NULL &&
						con->contype != CONSTR_DEFAULT)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("ADD COLUMN with a constraint is not supported on %s table \"%s\"",
										distributed ? "distributed" : "reference", get_rel_name(relid)),
								 errhint("Add the column first, then the constraint with ALTER TABLE ... ADD CONSTRAINT.")));
				}
			}
			break;
		case AT_AlterColumnType:
			break;
		case AT_DropColumn:
		case AT_ColumnDefault:
		case AT_SetNotNull:
		case AT_DropNotNull:
		case AT_DropConstraint:
		case AT_ChangeOwner:
			break;
		case AT_AddConstraint:
			{
				Constraint *con = (Constraint *) cmd->def;

				if (con->contype == CONSTR_CHECK)
					break;
				if (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE)
				{
					/* USING INDEX: a unique index has the distribution column */
					if (distributed && con->indexname == NULL)
					{
						char	   *distcol = get_attname(relid, table->distattnum, false);

						if (!sf_names_contain(con->keys, distcol))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("cannot create constraint on distributed table \"%s\" without its distribution column",
											get_rel_name(relid)),
									 errdetail("Each shard enforces PRIMARY KEY and UNIQUE constraints for its own rows only, so they must contain the distribution column \"%s\".",
											   distcol),
									 errhint("Add column \"%s\" to the constraint.", distcol)));
					}
					break;
				}
				if (con->contype == CONSTR_FOREIGN)
				{
					Oid			refrelid = RangeVarGetRelid(con->pktable, NoLock, false);
					const SfTable *ref = sf_lookup_table(refrelid);

					if (ref == NULL)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create foreign key from %s table \"%s\" to local table \"%s\"",
										distributed ? "distributed" : "reference",
										get_rel_name(relid), get_rel_name(refrelid)),
								 errhint("Make \"%s\" a reference table (create_reference_table) or distribute it co-located with \"%s\" first.",
										 get_rel_name(refrelid), get_rel_name(relid))));
					if (!distributed && ref->kind == SF_KIND_HASH)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create foreign key from reference table \"%s\" to distributed table \"%s\"",
										get_rel_name(relid), get_rel_name(refrelid)),
								 errdetail("A reference table has rows on every node, a distributed table only on one."),
								 errhint("Make \"%s\" a reference table too.", get_rel_name(refrelid))));
					if (con->fk_attrs == NIL)
						elog(ERROR, "foreign key without columns");
					break;
				}
				sf_alter_unsupported(relid, "this kind of constraint");
			}
			break;
		default:
			sf_alter_unsupported(relid, "this ALTER TABLE subcommand");
	}
}

/*
 * The USING expression of ALTER COLUMN TYPE, analyzed against relid as it
 * is now and deparsed with every name qualified (column names bare), to be
 * evaluated by the workers on each row.  A volatile expression would give
 * replicas different values: refused for reference tables.
 */
static char *
sf_deparse_using(Oid relid, Node *raw, bool distributed)
{
	ParseState *pstate = make_parsestate(NULL);
	Relation	rel = relation_open(relid, NoLock);
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	char	   *result;
	int			nestlevel;

	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	expr = transformExpr(pstate, copyObject(raw), EXPR_KIND_ALTER_COL_TRANSFORM);
	relation_close(rel, NoLock);
	if (!distributed && contain_volatile_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ALTER COLUMN TYPE with a volatile USING expression is not supported on reference table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Every replica would compute its own values.")));
	nestlevel = sf_push_qualified_search_path();
	result = deparse_expression(expr, deparse_context_for(get_rel_name(relid), relid), false, false);
	sf_pop_search_path(nestlevel);
	return result;
}

/* OIDs of the constraints of relid, for before / after comparisons */
static List *
sf_constraint_oids(Oid relid)
{
	List	   *result = NIL;
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT oid FROM pg_catalog.pg_constraint WHERE conrelid = %u", relid), -1);
	for (i = 0; i < SPI_processed; i++)
		result = lappend_oid(result, atooid(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)));
	return result;
}

/* Send the constraints of relid created since before to the targets */
static void
sf_send_new_constraints(Oid relid, List *before, List *targets)
{
	List	   *after = sf_constraint_oids(relid);
	ListCell   *lc;
	int			nestlevel = sf_push_qualified_search_path();

	foreach(lc, after)
	{
		Oid			conoid = lfirst_oid(lc);
		char	   *name;
		char	   *def;
		ListCell   *lt;

		if (list_member_oid(before, conoid))
			continue;
		sf_spi_exec_count(psprintf("SELECT conname, pg_catalog.pg_get_constraintdef(oid)"
								   " FROM pg_catalog.pg_constraint WHERE oid = %u", conoid), 1);
		name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		def = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		foreach(lt, targets)
		{
			SfTarget   *t = lfirst(lt);

			sf_exec_on_server(t->serverid,
							  psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", t->qualname,
									   sf_target_name(t, name), def));
		}
	}
	sf_pop_search_path(nestlevel);
}

/* Names of the constraints and indexes of worker table t */
static List *
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

static bool
sf_string_member(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * After DROP COLUMN or DROP CONSTRAINT ... CASCADE on the shards of
 * distributed table relid: forget the shard_ddl rows of relid and the
 * foreign keys from or to relid that the workers dropped along (looked up
 * on the first shard of the table that holds each).
 */
static void
sf_resync_shard_objects(Oid relid)
{
	SfTarget   *t = sf_first_target(relid);
	List	   *present;
	uint64		j;
	uint64		n;
	SPITupleTable *tuptable;

	if (t == NULL)
		return;
	present = sf_target_objects(t);

	sf_spi_exec_count(psprintf("SELECT name FROM shardfdw.shard_ddl WHERE relid = %u", relid), -1);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (j = 0; j < n; j++)
	{
		char	   *name = SPI_getvalue(tuptable->vals[j], tuptable->tupdesc, 1);

		if (!sf_string_member(present, sf_shard_relname(name, t->shardid)))
			sf_spi_exec(psprintf("DELETE FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s",
								 relid, quote_literal_cstr(name)));
	}

	sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid, conname FROM shardfdw.pending_fkey"
							   " WHERE created AND (relid = %u OR refrelid = %u)", relid, relid), -1);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (j = 0; j < n; j++)
	{
		Oid			from = atooid(SPI_getvalue(tuptable->vals[j], tuptable->tupdesc, 1));
		char	   *name = SPI_getvalue(tuptable->vals[j], tuptable->tupdesc, 2);
		SfTarget   *f = sf_first_target(from);

		if (f != NULL &&
			!sf_string_member(sf_target_objects(f), f->shardid != 0 ? sf_shard_relname(name, f->shardid) : name))
			sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
								 from, quote_literal_cstr(name)));
	}
}

/*
 * After RENAME COLUMN: the definitions recorded in shardfdw.shard_ddl
 * (read back from the first shard, which the workers have already
 * rewritten) and the column names of foreign keys from or to relid.
 */
static void
sf_refresh_shard_ddl(Oid relid, const char *oldname, const char *newname)
{
	SfTarget   *t = sf_first_target(relid);
	SPITupleTable *tuptable;
	uint64		n;
	uint64		j;

	sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET columns = pg_catalog.array_replace(columns, %s::pg_catalog.name, %s::pg_catalog.name)"
						 " WHERE relid = %u", quote_literal_cstr(oldname), quote_literal_cstr(newname), relid));
	sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET refcolumns = pg_catalog.array_replace(refcolumns, %s::pg_catalog.name, %s::pg_catalog.name)"
						 " WHERE refrelid = %u", quote_literal_cstr(oldname), quote_literal_cstr(newname), relid));
	if (t == NULL || t->shardid == 0)
		return;					/* reference tables: nothing recorded */

	sf_spi_exec_count(psprintf("SELECT name, kind FROM shardfdw.shard_ddl WHERE relid = %u", relid), -1);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (j = 0; j < n; j++)
	{
		char	   *name = SPI_getvalue(tuptable->vals[j], tuptable->tupdesc, 1);
		char		kind = SPI_getvalue(tuptable->vals[j], tuptable->tupdesc, 2)[0];
		char	   *shardname = quote_literal_cstr(sf_shard_relname(name, t->shardid));
		char	   *sql;
		PGresult   *res;
		char	   *def;

		if (kind == SF_DDL_CONSTRAINT)
			sql = psprintf("SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint"
						   " WHERE conrelid = %s::pg_catalog.regclass AND conname = %s",
						   quote_literal_cstr(t->qualname), shardname);
		else
			sql = psprintf("SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i"
						   " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
						   " WHERE i.indrelid = %s::pg_catalog.regclass AND c.relname = %s",
						   quote_literal_cstr(t->qualname), shardname);
		res = sf_exec_query(sf_get_connection_for_server(t->serverid), sql, 0, NULL);
		if (PQntuples(res) != 1)
		{
			PQclear(res);
			continue;
		}
		def = pstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (kind != SF_DDL_CONSTRAINT)
		{
			char	   *using = strstr(def, " USING ");

			if (using == NULL)
				continue;
			def = using + 1;
		}
		sf_spi_exec(psprintf("UPDATE shardfdw.shard_ddl SET definition = %s WHERE relid = %u AND name = %s",
							 quote_literal_cstr(def), relid, quote_literal_cstr(name)));
	}
}

/* PRIMARY KEY / UNIQUE on a distributed table: shards + shard_ddl */
static void
sf_add_shard_key(Oid relid, Constraint *con, List *targets)
{
	bool		primary = con->contype == CONSTR_PRIMARY;
	char	   *relname = get_rel_name(relid);
	char	   *name;
	StringInfoData def;
	ListCell   *lc;

	if (con->conname != NULL)
		name = con->conname;
	else if (primary)
		name = psprintf("%s_pkey", relname);
	else
		name = psprintf("%s_%s_key", relname, strVal(linitial(con->keys)));

	if (primary &&
		sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl WHERE relid = %u"
								   " AND kind = 'c' AND definition LIKE 'PRIMARY KEY%%'", relid), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("multiple primary keys for table \"%s\" are not allowed", relname)));
	if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl d JOIN pg_catalog.pg_class c"
								   " ON c.oid = d.relid WHERE d.name = %s AND c.relnamespace = %u",
								   quote_literal_cstr(name), get_rel_namespace(relid)), -1) > 0 ||
		OidIsValid(get_relname_relid(name, get_rel_namespace(relid))))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name)));
	foreach(lc, con->keys)
		if (get_attnum(relid, strVal(lfirst(lc))) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" named in key does not exist", strVal(lfirst(lc)))));

	initStringInfo(&def);
	appendStringInfoString(&def, primary ? "PRIMARY KEY (" : "UNIQUE (");
	foreach(lc, con->keys)
		appendStringInfo(&def, "%s%s", lc == list_head(con->keys) ? "" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	appendStringInfoChar(&def, ')');
	if (con->including != NIL)
	{
		appendStringInfoString(&def, " INCLUDE (");
		foreach(lc, con->including)
			appendStringInfo(&def, "%s%s", lc == list_head(con->including) ? "" : ", ",
							 quote_identifier(strVal(lfirst(lc))));
		appendStringInfoChar(&def, ')');
	}

	foreach(lc, targets)
	{
		SfTarget   *t = lfirst(lc);

		sf_exec_on_server(t->serverid,
						  psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", t->qualname,
								   sf_target_name(t, name), def.data));
	}
	sf_spi_exec(psprintf("INSERT INTO shardfdw.shard_ddl (relid, name, kind, definition)"
						 " VALUES (%u, %s, 'c', %s)", relid, quote_literal_cstr(name),
						 quote_literal_cstr(def.data)));
	if (primary)
		sf_add_primary_key_marker(relid, name, con->keys);
}

/*
 * ADD CONSTRAINT ... PRIMARY KEY / UNIQUE USING INDEX on a distributed
 * table: the shard index becomes the shards' constraint (and takes its
 * name, as in PostgreSQL); the catalog row of the index is replaced by the
 * constraint's, read back from a shard.
 */
static void
sf_add_shard_key_using_index(Oid relid, Constraint *con, List *targets)
{
	bool		primary = con->contype == CONSTR_PRIMARY;
	const char *name = con->conname ? con->conname : con->indexname;
	SfTarget   *first;
	PGresult   *res;
	char	   *def;
	List	   *columns = NIL;
	ListCell   *lc;
	int			i;

	if (sf_spi_exec_count(psprintf("SELECT kind FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s",
								   relid, quote_literal_cstr(con->indexname)), -1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("index \"%s\" does not exist", con->indexname)));
	if (SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)[0] != SF_DDL_UNIQUE_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a unique index", con->indexname),
				 errdetail("Cannot create a primary key or unique constraint using such an index.")));
	if (primary &&
		sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl WHERE relid = %u"
								   " AND kind = 'c' AND definition LIKE 'PRIMARY KEY%%'", relid), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("multiple primary keys for table \"%s\" are not allowed", get_rel_name(relid))));
	if (strcmp(name, con->indexname) != 0 &&
		sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl d JOIN pg_catalog.pg_class c ON c.oid = d.relid"
								   " WHERE d.name = %s AND c.relnamespace = %u",
								   quote_literal_cstr(name), get_rel_namespace(relid)), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name)));

	foreach(lc, targets)
	{
		SfTarget   *t = lfirst(lc);

		sf_exec_on_server(t->serverid,
						  psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s", t->qualname,
								   sf_target_name(t, name), primary ? "PRIMARY KEY" : "UNIQUE",
								   sf_target_name(t, con->indexname)));
	}

	first = linitial(targets);
	res = sf_exec_query(sf_get_connection_for_server(first->serverid),
						psprintf("SELECT pg_catalog.pg_get_constraintdef(k.oid), a.attname"
								 " FROM pg_catalog.pg_constraint k"
								 " CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, n)"
								 " JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum"
								 " WHERE k.conrelid = %s::pg_catalog.regclass AND k.conname = %s ORDER BY u.n",
								 quote_literal_cstr(first->qualname),
								 quote_literal_cstr(sf_shard_relname(name, first->shardid))),
						0, NULL);
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		elog(ERROR, "constraint \"%s\" not found on shard %s", name, first->qualname);
	}
	def = pstrdup(PQgetvalue(res, 0, 0));
	for (i = 0; i < PQntuples(res); i++)
		columns = lappend(columns, makeString(pstrdup(PQgetvalue(res, i, 1))));
	PQclear(res);

	sf_spi_exec(psprintf("DELETE FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s",
						 relid, quote_literal_cstr(con->indexname)));
	sf_spi_exec(psprintf("INSERT INTO shardfdw.shard_ddl (relid, name, kind, definition)"
						 " VALUES (%u, %s, 'c', %s)", relid, quote_literal_cstr(name),
						 quote_literal_cstr(def)));
	if (primary)
		sf_add_primary_key_marker(relid, name, columns);
}

/* FOREIGN KEY of a distributed table: a pending_fkey row, then created */
static void
sf_add_shard_foreign_key(Oid relid, Constraint *con)
{
	Oid			refrelid = RangeVarGetRelid(con->pktable, ShareRowExclusiveLock, false);
	List	   *refcols = con->pk_attrs;
	char	   *name = con->conname;
	char	   *actions;

	if (refcols == NIL)
	{
		uint64		j;

		/* the referenced table's primary key (or its marker) */
		sf_spi_exec_count(psprintf("SELECT a.attname FROM pg_catalog.pg_constraint k,"
								   " LATERAL pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, n)"
								   " JOIN pg_catalog.pg_attribute a ON a.attrelid = %u AND a.attnum = u.attnum"
								   " WHERE k.conrelid = %u AND k.contype = 'p' ORDER BY u.n",
								   refrelid, refrelid), -1);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("there is no primary key for referenced table \"%s\"",
							get_rel_name(refrelid))));
		for (j = 0; j < SPI_processed; j++)
			refcols = lappend(refcols, makeString(SPI_getvalue(SPI_tuptable->vals[j],
															   SPI_tuptable->tupdesc, 1)));
	}
	if (list_length(refcols) != list_length(con->fk_attrs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("number of referencing and referenced columns for foreign key disagree")));
	if (name == NULL)
		name = psprintf("%s_%s_fkey", get_rel_name(relid), strVal(linitial(con->fk_attrs)));

	actions = sf_foreign_key_actions(con->fk_matchtype, con->fk_upd_action,
									 con->fk_del_action, con->deferrable,
									 con->initdeferred);

	if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
								   relid, quote_literal_cstr(name)), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("constraint \"%s\" for relation \"%s\" already exists",
						name, get_rel_name(relid))));
	sf_spi_exec(psprintf("INSERT INTO shardfdw.pending_fkey (conname, relid, refrelid, columns, refcolumns, actions)"
						 " VALUES (%s, %u, %u, %s, %s, %s)",
						 quote_literal_cstr(name), relid, refrelid,
						 sf_name_array(con->fk_attrs), sf_name_array(refcols),
						 quote_literal_cstr(actions)));
	CommandCounterIncrement();
	sf_create_ready_foreign_keys(relid);
}

/*
 * DROP CONSTRAINT of a constraint that lives on the shards only (shard_ddl
 * or a foreign key).  Returns false when name is none of those.
 */
static bool
sf_drop_shard_constraint(Oid relid, AlterTableCmd *cmd, List *targets)
{
	const char *cascade = cmd->behavior == DROP_CASCADE ? " CASCADE" : "";
	bool		is_fkey;
	ListCell   *lc;

	if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s AND kind = 'c'",
								   relid, quote_literal_cstr(cmd->name)), -1) > 0)
		is_fkey = false;
	else if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
										relid, quote_literal_cstr(cmd->name)), -1) > 0)
		is_fkey = true;
	else
		return false;

	if (!is_fkey && cmd->behavior != DROP_CASCADE &&
		sf_spi_exec_count(psprintf("SELECT conname, relid::pg_catalog.regclass::text FROM shardfdw.pending_fkey"
								   " WHERE created AND refrelid = %u ORDER BY 1 LIMIT 1", relid), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop constraint %s on table %s because other objects depend on it",
						cmd->name, get_rel_name(relid)),
				 errdetail("The foreign key \"%s\" of table %s references table %s.",
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
						   get_rel_name(relid)),
				 errhint("Use DROP ... CASCADE to drop the dependent objects too.")));

	foreach(lc, targets)
	{
		SfTarget   *t = lfirst(lc);

		sf_exec_on_server(t->serverid,
						  psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s%s", t->qualname,
								   sf_target_name(t, cmd->name), cascade));
	}
	if (is_fkey)
		sf_spi_exec(psprintf("DELETE FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
							 relid, quote_literal_cstr(cmd->name)));
	else
	{
		Oid			marker = get_relation_constraint_oid(relid, cmd->name, true);

		sf_spi_exec(psprintf("DELETE FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s",
							 relid, quote_literal_cstr(cmd->name)));
		if (OidIsValid(marker))
		{
			ObjectAddress obj;

			ObjectAddressSet(obj, ConstraintRelationId, marker);
			performDeletion(&obj, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
		}
		if (cmd->behavior == DROP_CASCADE)
			sf_resync_shard_objects(relid);
	}
	return true;
}

/* Run one subcommand through PostgreSQL, as its own ALTER TABLE */
static void
sf_alter_local(SfUtilityCall *call, AlterTableStmt *stmt, AlterTableCmd *cmd)
{
	AlterTableStmt *one = copyObject(stmt);

	one->cmds = list_make1(copyObject(cmd));
	sf_standard_utility(call, (Node *) one);
	CommandCounterIncrement();
}

/*
 * A foreign key of local table relname (being created or altered) must not
 * reference a distributed table, whose rows live on the workers.
 */
static void
sf_check_local_foreign_key(const char *relname, Node *node)
{
	Constraint *con;
	Oid			refrelid;

	if (!IsA(node, Constraint))
		return;
	con = (Constraint *) node;
	if (con->contype != CONSTR_FOREIGN)
		return;
	refrelid = RangeVarGetRelid(con->pktable, NoLock, true);
	if (sf_is_distributed_table(refrelid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create foreign key from local table \"%s\" to distributed table \"%s\"",
						relname, get_rel_name(refrelid)),
				 errdetail("The rows of a distributed table live on the workers."),
				 errhint("Distribute \"%s\" co-located with \"%s\" and add the foreign key then, or make \"%s\" a reference table.",
						 relname, get_rel_name(refrelid), get_rel_name(refrelid))));
}

/* Foreign keys of a local table's ALTER TABLE */
static void
sf_check_local_alter_table(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		ListCell   *lc2;

		if (cmd->subtype == AT_AddConstraint)
			sf_check_local_foreign_key(stmt->relation->relname, cmd->def);
		else if (cmd->subtype == AT_AddColumn)
			foreach(lc2, ((ColumnDef *) cmd->def)->constraints)
				sf_check_local_foreign_key(stmt->relation->relname, lfirst(lc2));
	}
}

/* Foreign keys of CREATE TABLE */
void
sf_check_create_table(CreateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->tableElts)
	{
		Node	   *elt = lfirst(lc);
		ListCell   *lc2;

		if (IsA(elt, ColumnDef))
			foreach(lc2, ((ColumnDef *) elt)->constraints)
				sf_check_local_foreign_key(stmt->relation->relname, lfirst(lc2));
		else
			sf_check_local_foreign_key(stmt->relation->relname, elt);
	}
	foreach(lc, stmt->constraints)
		sf_check_local_foreign_key(stmt->relation->relname, lfirst(lc));
}

/*
 * ALTER TABLE on a distributed or reference table.  Returns false when the
 * table is neither (after checking a local table's new foreign keys).
 */
bool
sf_process_alter_table(SfUtilityCall *call, AlterTableStmt *stmt)
{
	Oid			relid;
	const SfTable *cached;
	SfTable		table;
	List	   *targets;
	bool		distributed;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	cached = sf_lookup_table(relid);
	if (cached == NULL)
	{
		if (OidIsValid(relid))
			sf_check_local_alter_table(stmt);
		return false;
	}
	table = *cached;
	distributed = table.kind == SF_KIND_HASH;

	foreach(lc, stmt->cmds)
		sf_check_alter_cmd(relid, &table, lfirst(lc));

	LockRelationOid(relid, AccessExclusiveLock);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	SPI_connect();
	targets = sf_targets(relid, &table);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				{
					ColumnDef  *def = (ColumnDef *) cmd->def;
					AttrNumber	attnum;
					const char *col = quote_identifier(def->colname);
					char	   *rest;
					bool		notnull;

					if (get_attnum(relid, def->colname) != InvalidAttrNumber)
					{
						sf_alter_local(call, stmt, cmd);	/* error or notice */
						break;
					}
					sf_alter_local(call, stmt, cmd);
					attnum = get_attnum(relid, def->colname);
					notnull = sf_spi_exec_count(psprintf("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = %u"
														 " AND attnum = %d AND attnotnull", relid, attnum), -1) > 0;
					rest = psprintf("ADD COLUMN %s %s", col, sf_column_type(relid, attnum));
					if (sf_spi_exec_count(psprintf("SELECT d.adbin::text FROM pg_catalog.pg_attrdef d"
												   " WHERE d.adrelid = %u AND d.adnum = %d", relid, attnum), -1) > 0)
					{
						Node	   *expr = stringToNode(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
						int			nestlevel;

						if (contain_volatile_functions(expr))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("ADD COLUMN with a volatile default is not supported on %s table \"%s\"",
											distributed ? "distributed" : "reference", get_rel_name(relid)),
									 errhint("Add the column without a default, set the default with ALTER COLUMN ... SET DEFAULT, then fill the existing rows with UPDATE.")));
						nestlevel = sf_push_qualified_search_path();
						sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d"
												   " WHERE d.adrelid = %u AND d.adnum = %d", relid, attnum), 1);
						rest = psprintf("%s DEFAULT %s", rest,
										SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
						sf_pop_search_path(nestlevel);
						if (notnull)
							rest = psprintf("%s NOT NULL", rest);
						sf_alter_targets(targets, rest);
						rest = psprintf("ALTER COLUMN %s DROP DEFAULT", col);
					}
					else if (notnull)
						rest = psprintf("%s NOT NULL", rest);
					sf_alter_targets(targets, rest);
				}
				break;
			case AT_DropColumn:
				if (get_attnum(relid, cmd->name) == InvalidAttrNumber)
				{
					sf_alter_local(call, stmt, cmd);	/* error or notice */
					break;
				}
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("DROP COLUMN IF EXISTS %s%s", quote_identifier(cmd->name),
												   cmd->behavior == DROP_CASCADE ? " CASCADE" : ""));
				if (distributed)
					sf_resync_shard_objects(relid);
				break;
			case AT_AlterColumnType:
				{
					Node	   *using = ((ColumnDef *) cmd->def)->raw_default;
					char	   *usingsql = NULL;

					/* deparsed against the old column types, before the change */
					if (using != NULL)
						usingsql = sf_deparse_using(relid, using, distributed);
					if (using != NULL && distributed)
					{
						/*
						 * PostgreSQL refuses USING on foreign partitions:
						 * the parent changes by assignment cast (it has no
						 * rows), the shards with the USING expression.
						 */
						AlterTableCmd *local = copyObject(cmd);
						ColumnDef  *def = (ColumnDef *) local->def;
						Oid			newtype;
						int32		newtypmod;
						AttrNumber	attnum = get_attnum(relid, cmd->name);

						typenameTypeIdAndMod(NULL, def->typeName, &newtype, &newtypmod);
						if (attnum != InvalidAttrNumber &&
							!can_coerce_type(1, (Oid[]) {get_atttype(relid, attnum)}, &newtype, COERCION_ASSIGNMENT))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("ALTER COLUMN TYPE with USING is not supported on distributed table \"%s\" from type %s to type %s",
											get_rel_name(relid), format_type_be(get_atttype(relid, attnum)),
											format_type_be(newtype)),
									 errdetail("Only type changes with an assignment cast between the types can use USING on a distributed table."),
									 errhint("Add a column of the new type, fill it with UPDATE, drop the old column and rename the new one.")));
						def->raw_default = NULL;
						sf_alter_local(call, stmt, local);
					}
					else
						sf_alter_local(call, stmt, cmd);
					sf_alter_targets(targets, psprintf("ALTER COLUMN %s TYPE %s%s%s", quote_identifier(cmd->name),
													   sf_column_type(relid, get_attnum(relid, cmd->name)),
													   usingsql ? " USING " : "", usingsql ? usingsql : ""));
				}
				break;
			case AT_ColumnDefault:
				/* defaults stay on the coordinator */
				sf_alter_local(call, stmt, cmd);
				break;
			case AT_SetNotNull:
			case AT_DropNotNull:
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("ALTER COLUMN %s %s NOT NULL", quote_identifier(cmd->name),
												   cmd->subtype == AT_SetNotNull ? "SET" : "DROP"));
				break;
			case AT_ChangeOwner:
				sf_alter_local(call, stmt, cmd);
				if (distributed)
				{
					ListCell   *ls;

					/* the foreign partitions follow their parent's owner */
					sf_commands_bypass_begin();
					foreach(ls, sf_shard_list(relid))
					{
						SfShard    *s = lfirst(ls);

						sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OWNER TO %s",
											 sf_qualified_relname(s->shardrelid),
											 quote_identifier(get_rolespec_name(cmd->newowner))));
					}
					sf_commands_bypass_end();
				}
				break;
			case AT_AddConstraint:
				{
					Constraint *con = (Constraint *) cmd->def;

					if (distributed && con->indexname != NULL)
						sf_add_shard_key_using_index(relid, con, targets);
					else if (distributed && (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE))
						sf_add_shard_key(relid, con, targets);
					else if (con->indexname != NULL)
					{
						/* reference table: the same statement on the replicas */
						sf_alter_local(call, stmt, cmd);
						sf_alter_targets(targets, psprintf("ADD CONSTRAINT %s %s USING INDEX %s",
														   quote_identifier(con->conname ? con->conname : con->indexname),
														   con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
														   quote_identifier(con->indexname)));
					}
					else if (distributed && con->contype == CONSTR_FOREIGN)
						sf_add_shard_foreign_key(relid, con);
					else
					{
						/* CHECK; PK, UNIQUE, FK of a reference table */
						List	   *before = sf_constraint_oids(relid);

						sf_alter_local(call, stmt, cmd);
						sf_send_new_constraints(relid, before, targets);
					}
				}
				break;
			case AT_DropConstraint:
				if (distributed && sf_drop_shard_constraint(relid, cmd, targets))
					break;
				if (!OidIsValid(get_relation_constraint_oid(relid, cmd->name, true)))
				{
					sf_alter_local(call, stmt, cmd);	/* error or notice */
					break;
				}
				sf_alter_local(call, stmt, cmd);
				{
					ListCell   *lt;

					foreach(lt, targets)
					{
						SfTarget   *t = lfirst(lt);

						sf_exec_on_server(t->serverid,
										  psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s%s", t->qualname,
												   sf_target_name(t, cmd->name),
												   cmd->behavior == DROP_CASCADE ? " CASCADE" : ""));
					}
				}
				break;
			default:
				elog(ERROR, "unexpected ALTER TABLE subcommand %d", cmd->subtype);
		}
	}
	sf_invalidate_table(relid);
	SPI_finish();
	return true;
}

/*
 * RENAME CONSTRAINT on a distributed table: a constraint recorded in
 * shard_ddl (with its primary key marker on the parent), a foreign key, or
 * a CHECK constraint of the parent; renamed on every shard too.
 */
static void
sf_rename_shard_constraint(SfUtilityCall *call, RenameStmt *stmt, Oid relid, List *targets)
{
	const char *oldname = stmt->subname;
	const char *newname = stmt->newname;
	bool		in_ddl;
	bool		in_fkey;
	bool		on_parent = OidIsValid(get_relation_constraint_oid(relid, oldname, true));
	ListCell   *lc;

	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	in_ddl = sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s AND kind = 'c'",
										relid, quote_literal_cstr(oldname)), -1) > 0;
	in_fkey = sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
										 relid, quote_literal_cstr(oldname)), -1) > 0;
	if (!in_ddl && !in_fkey && !on_parent)
	{
		sf_standard_utility(call, (Node *) stmt);	/* its error */
		return;
	}
	if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard_ddl d JOIN pg_catalog.pg_class c ON c.oid = d.relid"
								   " WHERE d.name = %s AND (d.relid = %u OR c.relnamespace = %u)"
								   " UNION ALL SELECT 1 FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s",
								   quote_literal_cstr(newname), relid, get_rel_namespace(relid),
								   relid, quote_literal_cstr(newname)), -1) > 0 ||
		OidIsValid(get_relation_constraint_oid(relid, newname, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("constraint \"%s\" for relation \"%s\" already exists",
						newname, get_rel_name(relid))));

	if (on_parent)
	{
		sf_standard_utility(call, (Node *) stmt);
		CommandCounterIncrement();
	}
	if (in_ddl)
		sf_spi_exec(psprintf("UPDATE shardfdw.shard_ddl SET name = %s WHERE relid = %u AND name = %s",
							 quote_literal_cstr(newname), relid, quote_literal_cstr(oldname)));
	if (in_fkey)
	{
		sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET conname = %s WHERE relid = %u AND conname = %s",
							 quote_literal_cstr(newname), relid, quote_literal_cstr(oldname)));
		if (sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.pending_fkey WHERE relid = %u AND conname = %s AND created",
									   relid, quote_literal_cstr(newname)), -1) == 0)
			return;				/* pending: nothing on the shards yet */
	}
	foreach(lc, targets)
	{
		SfTarget   *t = lfirst(lc);

		sf_exec_on_server(t->serverid,
						  psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", t->qualname,
								   sf_target_name(t, oldname), sf_target_name(t, newname)));
	}
}

/*
 * ALTER TABLE ... RENAME [COLUMN | CONSTRAINT] on a distributed or
 * reference table.  Returns false when the statement is about neither.
 */
bool
sf_process_rename(SfUtilityCall *call, RenameStmt *stmt)
{
	Oid			relid;
	const SfTable *cached;
	SfTable		table;
	List	   *targets;

	if (stmt->relation == NULL ||
		(stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN &&
		 stmt->renameType != OBJECT_TABCONSTRAINT))
		return false;
	if (stmt->renameType == OBJECT_COLUMN && stmt->relationType != OBJECT_TABLE)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	cached = sf_lookup_table(relid);
	if (cached == NULL)
		return false;
	table = *cached;

	SPI_connect();
	targets = sf_targets(relid, &table);
	if (stmt->renameType == OBJECT_TABCONSTRAINT && table.kind == SF_KIND_HASH)
	{
		sf_rename_shard_constraint(call, stmt, relid, targets);
		sf_invalidate_table(relid);
		SPI_finish();
		return true;
	}
	sf_standard_utility(call, (Node *) stmt);
	CommandCounterIncrement();
	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
			/* shards keep their names; replicas follow */
			if (table.kind == SF_KIND_REFERENCE)
				sf_alter_targets(targets, psprintf("RENAME TO %s", quote_identifier(stmt->newname)));
			break;
		case OBJECT_COLUMN:
			sf_alter_targets(targets, psprintf("RENAME COLUMN %s TO %s", quote_identifier(stmt->subname),
											   quote_identifier(stmt->newname)));
			sf_refresh_shard_ddl(relid, stmt->subname, stmt->newname);
			break;
		default:
			sf_alter_targets(targets, psprintf("RENAME CONSTRAINT %s TO %s", quote_identifier(stmt->subname),
											   quote_identifier(stmt->newname)));
			break;
	}
	sf_invalidate_table(relid);
	SPI_finish();
	return true;
}

/* ALTER TABLE ... SET SCHEMA: refused for distributed and reference tables */
void
sf_check_alter_schema(AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType != OBJECT_TABLE || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (sf_lookup_table(relid) != NULL)
		sf_alter_unsupported(relid, "SET SCHEMA");
}
