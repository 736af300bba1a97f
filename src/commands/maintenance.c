/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  VACUUM and ANALYZE of distributed and reference tables.
 *
 * PostgreSQL cannot vacuum foreign tables: VACUUM of a distributed table
 * would only warn once per shard ("skipping ... cannot vacuum non-tables").
 * Instead the statement is sent to every shard (or replica), with the same
 * options and columns, over a short-lived autocommit connection per
 * placement (VACUUM cannot run inside the remote transaction block).
 * ANALYZE also runs on the coordinator, whose planner needs statistics for
 * the parent: the FDW samples the shards for it.  A database-wide VACUUM /
 * ANALYZE (no table named) is forwarded to every distributed and reference
 * table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands.h"
#include "commands/defrem.h"
#include "connection.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "metadata.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* "VACUUM (opts) " / "ANALYZE (opts) " of stmt */
static char *
sf_vacuum_prefix(VacuumStmt *stmt)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, stmt->is_vacuumcmd ? "VACUUM " : "ANALYZE ");
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		appendStringInfoString(&buf, lc == list_head(stmt->options) ? "(" : ", ");
		appendStringInfoString(&buf, quote_identifier(opt->defname));
		if (opt->arg != NULL)
			appendStringInfo(&buf, " %s", quote_literal_cstr(defGetString(opt)));
	}
	if (stmt->options != NIL)
		appendStringInfoString(&buf, ") ");
	return buf.data;
}

/* Send "<prefix><worker table> (cols)" to every placement of relid */
static void
sf_vacuum_placements(Oid relid, const char *prefix, List *va_cols)
{
	const SfTable *cached = sf_lookup_table(relid);
	StringInfoData cols;
	ListCell   *lc;
	List	   *shards;
	bool		reference;

	if (cached == NULL)
		return;
	reference = cached->kind == SF_KIND_REFERENCE;
	shards = sf_shard_list(relid);
	initStringInfo(&cols);
	foreach(lc, va_cols)
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : " (", quote_identifier(strVal(lfirst(lc))));
	if (cols.len)
		appendStringInfoChar(&cols, ')');

	foreach(lc, shards)
	{
		SfShard    *s = lfirst(lc);
		char	   *target;
		char	   *sql;
		char	   *result = NULL;

		if (!OidIsValid(s->serverid))
			continue;
		target = reference ? sf_qualified_relname(relid) : sf_qualified_relname(s->shardrelid);
		sql = psprintf("%s%s%s", prefix, target, cols.data);
		if (!sf_run_command_on_server(s->serverid, sql, &result))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not run %s on server \"%s\"",
							strncmp(prefix, "VACUUM", 6) == 0 ? "VACUUM" : "ANALYZE",
							GetForeignServer(s->serverid)->servername),
					 errdetail("%s", result ? result : "no message"),
					 errcontext("while executing \"%s\"", sql)));
	}
}

/*
 * VACUUM / ANALYZE: handled here when it names a distributed or reference
 * table, or names none (database-wide).
 */
bool
sf_process_vacuum(SfUtilityCall *call, VacuumStmt *stmt)
{
	List	   *local_rels = NIL;
	List	   *dist = NIL;			/* of VacuumRelation, with oid set */
	char	   *prefix = sf_vacuum_prefix(stmt);
	bool		analyze = !stmt->is_vacuumcmd;
	ListCell   *lc;

	foreach(lc, stmt->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "analyze") == 0 &&
			defGetBoolean(lfirst(lc)))
			analyze = true;

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst(lc);
		Oid			relid = vrel->relation ? RangeVarGetRelid(vrel->relation, NoLock, true) : vrel->oid;
		const SfTable *table = sf_lookup_table(relid);

		if (table == NULL)
			local_rels = lappend(local_rels, vrel);
		else
		{
			VacuumRelation *copy = copyObject(vrel);
			ListCell   *lc2;

			foreach(lc2, vrel->va_cols)
				if (get_attnum(relid, strVal(lfirst(lc2))) == InvalidAttrNumber)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("column \"%s\" of relation \"%s\" does not exist",
									strVal(lfirst(lc2)), get_rel_name(relid))));

			copy->oid = relid;
			dist = lappend(dist, copy);
			/* reference tables are plain tables on the coordinator too */
			if (table->kind == SF_KIND_REFERENCE)
				local_rels = lappend(local_rels, vrel);
		}
	}
	if (stmt->rels != NIL && dist == NIL)
		return false;

	if (stmt->is_vacuumcmd)
		PreventInTransactionBlock(call->context == PROCESS_UTILITY_TOPLEVEL, "VACUUM");

	/* the coordinator's part */
	if (stmt->rels == NIL || local_rels != NIL)
	{
		VacuumStmt *copy = copyObject(stmt);

		copy->rels = local_rels;
		sf_standard_utility(call, (Node *) copy);
	}

	/* after a VACUUM, which commits, a fresh transaction is running */
	if (stmt->rels == NIL)
	{
		uint64		i;

		SPI_connect();
		sf_spi_exec_count("SELECT relid::pg_catalog.oid FROM shardfdw.distributed_table t"
						  " JOIN pg_catalog.pg_class c ON c.oid = t.relid ORDER BY 1", -1);
		for (i = 0; i < SPI_processed; i++)
		{
			VacuumRelation *vrel = makeNode(VacuumRelation);

			vrel->oid = atooid(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
			dist = lappend(dist, vrel);
		}
		SPI_finish();
	}

	foreach(lc, dist)
	{
		VacuumRelation *vrel = lfirst(lc);
		const SfTable *table = sf_lookup_table(vrel->oid);

		if (table == NULL)
			continue;
		sf_vacuum_placements(vrel->oid, prefix, vrel->va_cols);
		/* coordinator statistics of the parent, sampled through the FDW */
		if (analyze && table->kind == SF_KIND_HASH && stmt->rels != NIL)
		{
			VacuumStmt *an = makeNode(VacuumStmt);
			VacuumRelation *one = copyObject(vrel);

			an->is_vacuumcmd = false;
			an->rels = list_make1(one);
			sf_standard_utility(call, (Node *) an);
		}
	}
	return true;
}

/*
 * TRUNCATE: foreign keys between distributed tables live on the workers, so
 * PostgreSQL cannot apply its rules; they are applied here, before the FDW
 * truncates the shards.  Without CASCADE, truncating a distributed or
 * reference table referenced by a distributed table that the statement
 * does not truncate is refused, as PostgreSQL does; with CASCADE, the
 * referencing distributed tables are added to the statement (NOTICE).
 * Returns true when it ran the (extended) statement.
 */
bool
sf_process_truncate(SfUtilityCall *call, TruncateStmt *stmt)
{
	List	   *relids = NIL;
	List	   *added = NIL;
	bool		any = false;
	ListCell   *lc;
	int			i;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst(lc), NoLock, true);

		if (!OidIsValid(relid))
			return false;		/* PostgreSQL reports it */
		relids = lappend_oid(relids, relid);
		if (sf_lookup_table(relid) != NULL)
			any = true;
	}
	if (!any)
		return false;

	SPI_connect();
	/* relids grows while we walk it: the keys of added tables count too */
	for (i = 0; i < list_length(relids); i++)
	{
		Oid			relid = list_nth_oid(relids, i);
		ListCell   *fc;

		if (sf_lookup_table(relid) == NULL)
			continue;
		foreach(fc, sf_load_foreign_keys(relid))
		{
			SfForeignKey *fk = lfirst(fc);

			if (!fk->created || fk->refrelid != relid || list_member_oid(relids, fk->relid))
				continue;
			if (stmt->behavior != DROP_CASCADE)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot truncate a table referenced in a foreign key constraint"),
						 errdetail("Table \"%s\" references \"%s\".",
								   get_rel_name(fk->relid), get_rel_name(relid)),
						 errhint("Truncate table \"%s\" at the same time, or use TRUNCATE ... CASCADE.",
								 get_rel_name(fk->relid))));
			ereport(NOTICE,
					(errmsg("truncate cascades to table \"%s\"", get_rel_name(fk->relid))));
			relids = lappend_oid(relids, fk->relid);
			added = lappend_oid(added, fk->relid);
		}
	}
	SPI_finish();
	if (added == NIL)
		return false;
	{
		TruncateStmt *copy = copyObject(stmt);

		foreach(lc, added)
		{
			Oid			relid = lfirst_oid(lc);

			copy->relations = lappend(copy->relations,
									  makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid), -1));
		}
		sf_standard_utility(call, (Node *) copy);
	}
	return true;
}
