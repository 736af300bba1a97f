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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"

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
 * COPY tbl [(cols)] TO ... on a distributed or reference table: run it as a
 * COPY of a query.  Returns false (not handled) for anything else.
 */
bool
sf_process_copy(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid;
	SelectStmt *select;
	CopyStmt   *copy;

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
