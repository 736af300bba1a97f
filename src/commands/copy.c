/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  COPY ... TO from a distributed or reference table.
 *
 * PostgreSQL refuses COPY TO from a partitioned table (a distributed table
 * is one) and from a foreign table.  The utility hook hands such a COPY
 * here, and it runs as "COPY (SELECT cols FROM tbl) TO ..." with the same
 * options, so the rows come through the planner (and the FDW).  COPY FROM
 * is untouched: the FDW's insert path already streams it to the shards in
 * batches (see src/fdw/modify.c and src/transaction).
 *
 * The catalog tables are extension configuration tables, so pg_dump dumps
 * their rows, and a restore loads them with COPY ... FROM stdin.  pg_dump
 * orders them along their foreign keys, but a parallel pg_restore (-j)
 * loads table data in any order (a TOC entry of table data only depends on
 * its table), so the foreign keys between catalog tables would reject rows
 * whose referenced rows another job has not loaded yet.  When a restore
 * (sf_restoring: a superuser session with check_function_bodies off, as
 * pg_restore and pg_dump's SQL scripts set it) loads a catalog table, the
 * COPY runs with session_replication_role = replica, which turns off the
 * foreign key triggers for that statement; the dump is consistent, so the
 * catalog is once every table is loaded.  Other COPYs into the catalog are
 * checked as usual.  After any COPY into a catalog table, every backend's
 * catalog cache is flushed: the restoring session has looked the tables up
 * before their catalog rows existed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

/*
 * The SELECT list of the rewritten COPY: the COPY's column list, or *.
 */
static List *
copy_target_list(List *attlist)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (attlist == NIL)
	{
		ResTarget  *rt = makeNode(ResTarget);
		ColumnRef  *cr = makeNode(ColumnRef);

		cr->fields = list_make1(makeNode(A_Star));
		cr->location = -1;
		rt->val = (Node *) cr;
		rt->location = -1;
		return list_make1(rt);
	}
	foreach(lc, attlist)
	{
		ResTarget  *rt = makeNode(ResTarget);
		ColumnRef  *cr = makeNode(ColumnRef);

		cr->fields = list_make1(makeString(strVal(lfirst(lc))));
		cr->location = -1;
		rt->val = (Node *) cr;
		rt->location = -1;
		result = lappend(result, rt);
	}
	return result;
}

/*
 * COPY ... FROM into a table of schema shardfdw (see the file header).
 * Returns false for other tables.
 */
static bool
sf_copy_into_catalog(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			nspid = get_namespace_oid("shardfdw", true);
	int			nestlevel = -1;

	if (!OidIsValid(relid) || !OidIsValid(nspid) || get_rel_namespace(relid) != nspid)
		return false;
	if (sf_restoring())
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("session_replication_role", "replica",
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	sf_standard_utility(call, (Node *) stmt);
	if (nestlevel >= 0)
		AtEOXact_GUC(true, nestlevel);
	sf_invalidate_nodes();
	return true;
}

/*
 * COPY tbl [(cols)] TO ... on a distributed or reference table: run it as a
 * COPY of a query.  COPY ... FROM into a catalog table: see the file
 * header.  Returns false (not handled) for anything else.
 */
bool
sf_process_copy(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid;
	SelectStmt *select;
	CopyStmt   *copy;

	if (stmt->is_from && stmt->relation != NULL)
		return sf_copy_into_catalog(call, stmt);
	if (stmt->is_from || stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) ||
		!(sf_is_distributed_table(relid) || sf_is_reference_table(relid)))
		return false;

	select = makeNode(SelectStmt);
	select->targetList = copy_target_list(stmt->attlist);
	select->fromClause = list_make1(copyObject(stmt->relation));
	copy = copyObject(stmt);
	copy->relation = NULL;
	copy->attlist = NIL;
	copy->query = (Node *) select;
	sf_standard_utility(call, (Node *) copy);
	return true;
}
