/*-------------------------------------------------------------------------
 *
 * constraints.c
 *	  Constraints of distributed and reference tables for ALTER TABLE:
 *	  PRIMARY KEY / UNIQUE (also USING INDEX) and FOREIGN KEY of distributed
 *	  tables, which live on the shards and in the catalog (shard_ddl,
 *	  pending_fkey); constraints the coordinator has (CHECK, and everything
 *	  of reference tables) sent to shards and replicas; DROP / RENAME
 *	  CONSTRAINT; keeping the catalog in step with what the workers dropped
 *	  or renamed along; foreign keys from local tables to distributed tables
 *	  refused.
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


/* OIDs of the constraints of relid, for before / after comparisons */
List *
sf_constraint_oids(Oid relid)
{
	List	   *result = NIL;
	uint64		i;

	sf_spi_exec_count(psprintf("SELECT oid FROM pg_catalog.pg_constraint WHERE conrelid = %u", relid), -1);
	for (i = 0; i < SPI_processed; i++)
		result = lappend_oid(result, atooid(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)));
	return result;
}

/*
 * Send the constraints of relid created since before to the targets, but
 * not to those that have the same constraint already (a restore replays
 * ALTER TABLE ... ADD CONSTRAINT for the objects of a reference table, whose
 * replicas were restored too, or kept).
 */
void
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

			/* replayed by a restore: already there */
			if (sf_target_has_object(t, SF_DDL_CONSTRAINT, name, def))
				continue;
			sf_exec_on_server(t->serverid,
							  psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", t->qualname,
									   sf_target_name(t, name), def));
		}
	}
	sf_pop_search_path(nestlevel);
}

/*
 * After DROP COLUMN or DROP CONSTRAINT ... CASCADE on the shards of
 * distributed table relid: forget the shard_ddl rows of relid and the
 * foreign keys from or to relid that the workers dropped along (looked up
 * on the first shard of the table that holds each).
 */
void
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
void
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
void
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
void
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
void
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
bool
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

/*
 * RENAME CONSTRAINT on a distributed table: a constraint recorded in
 * shard_ddl (with its primary key marker on the parent), a foreign key, or
 * a CHECK constraint of the parent; renamed on every shard too.
 */
void
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
void
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
