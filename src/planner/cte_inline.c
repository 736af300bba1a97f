/*-------------------------------------------------------------------------
 *
 * cte_inline.c
 *	  Common table expressions of a statement over distributed tables
 *	  written as the subqueries PostgreSQL would make of them.
 *
 * PostgreSQL's planner replaces a CTE that is not recursive, reads only
 * (a SELECT without volatile functions) and is referenced once (or is NOT
 * MATERIALIZED) by a subquery in place of its reference; the statement's
 * result is the same.  The planner hook sees the statement before that, so
 * a CTE reading distributed tables would be a separate query level the
 * strategies cannot push down as a whole.  sf_inline_ctes makes the same
 * replacement first, on a copy, for the top level's CTEs that read
 * distributed tables, so that the router and the multi-shard strategy see
 * FROM subqueries (src/planner/shard_local.c).  A MATERIALIZED CTE
 * referenced once is inlined too: the keyword only keeps PostgreSQL from
 * pushing conditions into it, and the one reference reads the same rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "planner_internal.h"
#include "rewrite/rewriteManip.h"

/* State of inline_walker */
typedef struct InlineContext
{
	CommonTableExpr *cte;		/* the CTE being inlined */
	int			depth;			/* level of the query walked, top = 0 */
} InlineContext;

/* Can cte be inlined as PostgreSQL's planner would? */
static bool
inlinable(CommonTableExpr *cte)
{
	Query	   *q = (Query *) cte->ctequery;

	if (cte->cterecursive || q->commandType != CMD_SELECT ||
		q->hasModifyingCTE || q->rowMarks != NIL)
		return false;

	/*
	 * MATERIALIZED, referenced once: the rows are the subquery's, computed
	 * once either way (the keyword only keeps PostgreSQL from pushing
	 * conditions into it, which the workers may do)
	 */
	if (cte->cterefcount != 1 &&
		cte->ctematerialized != CTEMaterializeNever)
		return false;
	return !contain_volatile_functions(cte->ctequery) &&
		sf_reads_distributed(cte->ctequery);
}

/* Replace the references to context->cte, at every level, by subqueries */
static bool
inline_walker(Node *node, InlineContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		bool		result;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);
			Query	   *sub;
			ListCell   *lc2;
			ListCell   *name;

			if (rte->rtekind != RTE_CTE ||
				rte->ctelevelsup != context->depth ||
				strcmp(rte->ctename, context->cte->ctename) != 0)
				continue;

			/*
			 * The subquery, its output columns named as the CTE's (a
			 * column list of WITH c (a, b) renames them), its references
			 * to enclosing levels moved as far out as the reference is.
			 */
			sub = copyObject((Query *) context->cte->ctequery);
			if (context->depth > 0)
				IncrementVarSublevelsUp((Node *) sub, context->depth, 1);
			name = list_head(context->cte->ctecolnames);
			foreach(lc2, sub->targetList)
			{
				TargetEntry *tle = lfirst(lc2);

				if (tle->resjunk || name == NULL)
					continue;
				tle->resname = pstrdup(strVal(lfirst(name)));
				name = lnext(context->cte->ctecolnames, name);
			}
			rte->rtekind = RTE_SUBQUERY;
			rte->subquery = sub;
			rte->security_barrier = false;
			rte->ctename = NULL;
			rte->ctelevelsup = 0;
			rte->self_reference = false;
			rte->coltypes = NIL;
			rte->coltypmods = NIL;
			rte->colcollations = NIL;
		}
		context->depth++;
		result = query_tree_walker(q, inline_walker, context, 0);
		context->depth--;
		return result;
	}
	return expression_tree_walker(node, inline_walker, context);
}

/*
 * parse, or a copy of it whose top level's CTEs reading distributed tables
 * are inlined where PostgreSQL's planner would inline them (SELECT, UPDATE
 * and DELETE; an INSERT ... SELECT keeps its CTEs).
 */
Query *
sf_inline_ctes(Query *parse)
{
	List	   *kept = NIL;
	ListCell   *lc;
	bool		any = false;

	if (parse->cteList == NIL || parse->commandType == CMD_INSERT)
		return parse;
	foreach(lc, parse->cteList)
		if (inlinable(lfirst(lc)))
			any = true;
	if (!any)
		return parse;

	parse = copyObject(parse);
	foreach(lc, parse->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);
		InlineContext context;

		if (!inlinable(cte))
		{
			kept = lappend(kept, cte);
			continue;
		}
		context.cte = cte;
		context.depth = 0;
		(void) inline_walker((Node *) parse, &context);
	}
	parse->cteList = kept;
	return parse;
}
