/*-------------------------------------------------------------------------
 *
 * copy_hook.c
 *	  COPY ... TO from a distributed or reference table.
 *
 * PostgreSQL refuses COPY TO from a partitioned table (a distributed table
 * is one) and from a foreign table (a reference table is one on the
 * coordinator).  A ProcessUtility hook rewrites "COPY tbl [(cols)] TO ..."
 * on such a table into "COPY (SELECT cols FROM tbl) TO ...", with the same
 * options, before the next hook (or standard_ProcessUtility) runs it.  COPY
 * FROM is untouched: the FDW's insert path already streams it to the
 * shards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "sf_transaction.h"
#include "tcop/utility.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;

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

static void
sf_copy_utility_hook(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, CopyStmt) &&
		((CopyStmt *) parsetree)->relation != NULL &&
		!((CopyStmt *) parsetree)->is_from &&
		sf_extension_present())
	{
		CopyStmt   *stmt = (CopyStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (OidIsValid(relid) &&
			(sf_is_distributed_table(relid) || sf_is_reference_table(relid)))
		{
			SelectStmt *select = makeNode(SelectStmt);
			CopyStmt   *copy = copyObject(stmt);
			PlannedStmt *newpstmt = copyObject(pstmt);

			select->targetList = copy_target_list(stmt->attlist);
			select->fromClause = list_make1(copyObject(stmt->relation));
			copy->relation = NULL;
			copy->attlist = NIL;
			copy->query = (Node *) select;
			newpstmt->utilityStmt = (Node *) copy;
			pstmt = newpstmt;
			readOnlyTree = false;
		}
	}

	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params,
						  queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * Install the hook (from _PG_init, through sf_transaction_init).
 */
void
sf_install_copy_hook(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = sf_copy_utility_hook;
}
