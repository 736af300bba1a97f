/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  VACUUM and ANALYZE of distributed and reference tables.
 *
 * PostgreSQL cannot vacuum foreign tables: VACUUM of a distributed table
 * would only warn once per shard ("skipping ... cannot vacuum non-tables").
 * Instead the statement is sent to every shard (or replica), with the same
 * options and columns, as one statement listing all of a server's tables
 * over a short-lived autocommit connection per server (VACUUM cannot run
 * inside the remote transaction block; an ANALYZE in a transaction block
 * runs in the remote transactions instead, to see the block's shards).
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

/* One server's share of a forwarded VACUUM / ANALYZE */
typedef struct SfVacuumTargets
{
	Oid			serverid;
	StringInfoData tables;		/* "t1 (cols), t2, ..." */
} SfVacuumTargets;

/*
 * Add the worker tables of relid (with columns va_cols) to the per-server
 * lists in *targets.
 */
static void
sf_vacuum_add_placements(List **targets, Oid relid, List *va_cols)
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
		SfVacuumTargets *t = NULL;
		ListCell   *lt;

		if (!OidIsValid(s->serverid))
			continue;
		foreach(lt, *targets)
			if (((SfVacuumTargets *) lfirst(lt))->serverid == s->serverid)
				t = lfirst(lt);
		if (t == NULL)
		{
			t = palloc(sizeof(SfVacuumTargets));
			t->serverid = s->serverid;
			initStringInfo(&t->tables);
			*targets = lappend(*targets, t);
		}
		appendStringInfo(&t->tables, "%s%s%s", t->tables.len ? ", " : "",
						 reference ? sf_qualified_relname(relid) : sf_qualified_relname(s->shardrelid),
						 cols.data);
	}
}

/*
 * Run the forwarded statement: one autocommit command per server; but an
 * ANALYZE inside a transaction block runs in the remote transactions, which
 * see what the block did to the shards (a table distributed in the same
 * block has shards no other session sees yet).
 */
static void
sf_vacuum_run(List *targets, const char *prefix, bool vacuum)
{
	ListCell   *lc;

	foreach(lc, targets)
	{
		SfVacuumTargets *t = lfirst(lc);
		char	   *sql = psprintf("%s%s", prefix, t->tables.data);
		char	   *result = NULL;

		if (!vacuum && IsTransactionBlock())
		{
			sf_exec_on_server(t->serverid, sql);
			continue;
		}
		if (!sf_run_command_on_server(t->serverid, sql, &result))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not run %s on server \"%s\"", vacuum ? "VACUUM" : "ANALYZE",
							GetForeignServer(t->serverid)->servername),
					 errdetail("%s", result ? result : "no message")));
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

	{
		List	   *targets = NIL;

		foreach(lc, dist)
		{
			VacuumRelation *vrel = lfirst(lc);

			sf_vacuum_add_placements(&targets, vrel->oid, vrel->va_cols);
		}
		sf_vacuum_run(targets, prefix, stmt->is_vacuumcmd);
	}

	/* coordinator statistics of the parents, sampled through the FDW */
	if (analyze && stmt->rels != NIL)
	{
		foreach(lc, dist)
		{
			VacuumRelation *vrel = lfirst(lc);
			const SfTable *table = sf_lookup_table(vrel->oid);

			if (table != NULL && table->kind == SF_KIND_HASH)
			{
				VacuumStmt *an = makeNode(VacuumStmt);

				an->is_vacuumcmd = false;
				an->rels = list_make1(copyObject(vrel));
				sf_standard_utility(call, (Node *) an);
			}
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
 * A reference table whose TRUNCATE trigger is missing is being restored
 * (pg_dump restores triggers last; a parallel pg_restore truncates each
 * table it created before loading its rows): its TRUNCATE stays on the
 * coordinator, so the keys on the workers do not concern it.
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
		if (sf_is_reference_table(relid) &&
			sf_spi_exec_count(psprintf("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = %u"
									   " AND tgname = 'shardfdw_replicate_truncate'", relid), -1) == 0)
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
