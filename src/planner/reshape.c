/*-------------------------------------------------------------------------
 *
 * reshape.c
 *	  A statement the strategies declined, rewritten into an equivalent one
 *	  they may take.
 *
 * sf_reshape_query makes, on a copy, two rewrites PostgreSQL's planner
 * makes itself later (the hook sees the statement before them), and that
 * change no result:
 *
 * - outer joins whose NULL-extended rows their query level's WHERE (or
 *   the ON of an inner join above them) rejects become inner joins (a FULL JOIN
 *   a LEFT or RIGHT one when only one side's rows are rejected), as
 *   reduce_outer_joins does: a strict condition on a column of the
 *   nullable side is never true for a row whose columns there are all
 *   NULL.  `codes r LEFT JOIN orders o ON ... WHERE o.qty > 2` preserves
 *   a reference table, which keeps it off the workers; as an inner join it
 *   runs per shard;
 * - a SELECT that only returns the columns of its one FROM subquery, in
 *   order (`SELECT * FROM (subquery) s`, a view or a CTE inlined so:
 *   sf_inline_ctes runs first), is that subquery, its columns named as
 *   the SELECT names them: a subquery with aggregates, DISTINCT, LIMIT or
 *   a window, which PostgreSQL does not pull up, is then planned as a
 *   statement of its own.
 *
 * The result goes through the same subtransaction as a flattened
 * statement (planner.c), and the statement as written goes to the
 * standard planner when it declines too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "parser/parsetree.h"
#include "planner_internal.h"

/* the range table indexes of a jointree node's relations and joins */
static Relids
jointree_relids(Node *jtnode)
{
	if (jtnode == NULL)
		return NULL;
	if (IsA(jtnode, RangeTblRef))
		return bms_make_singleton(((RangeTblRef *) jtnode)->rtindex);
	if (IsA(jtnode, FromExpr))
	{
		Relids		result = NULL;
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			result = bms_join(result, jointree_relids(lfirst(lc)));
		return result;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		Relids		result = bms_join(jointree_relids(j->larg),
									  jointree_relids(j->rarg));

		/*
		 * A join's alias columns are columns of its inputs (or COALESCE of
		 * them): NULL when all of its inputs' columns are.
		 */
		if (j->rtindex > 0)
			result = bms_add_member(result, j->rtindex);
		return result;
	}
	return NULL;
}

/*
 * Reduce the outer joins below jtnode whose NULL-extended rows a condition
 * applied above rejects: nonnull holds the relations of which a condition
 * above rejects every row whose columns are all NULL
 * (find_nonnullable_rels).  Only conditions that filter the rows of the
 * whole statement count: WHERE, an inner join's ON, and going down into
 * the preserved side of a remaining outer join.
 */
static void
reduce_walk(Query *q, Node *jtnode, Relids nonnull, bool *changed)
{
	if (jtnode == NULL || IsA(jtnode, RangeTblRef))
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		Relids		below = bms_union(nonnull,
									  find_nonnullable_rels(f->quals));
		ListCell   *lc;

		foreach(lc, f->fromlist)
			reduce_walk(q, lfirst(lc), below, changed);
		return;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		JoinType	jointype = j->jointype;

		/*
		 * USING of a RIGHT or FULL join: its merged column is the right
		 * input's column or COALESCE of both, and an inner join's is the
		 * left one's (equal, but maybe not identical: numeric scales, case
		 * insensitive collations); keep those.
		 */
		if ((jointype == JOIN_LEFT || j->usingClause == NIL) &&
			(jointype == JOIN_LEFT || jointype == JOIN_RIGHT ||
			 jointype == JOIN_FULL))
		{
			bool		left_rejected = bms_overlap(nonnull,
													jointree_relids(j->larg));
			bool		right_rejected = bms_overlap(nonnull,
													 jointree_relids(j->rarg));

			if (jointype == JOIN_LEFT && right_rejected)
				jointype = JOIN_INNER;
			else if (jointype == JOIN_RIGHT && left_rejected)
				jointype = JOIN_INNER;
			else if (jointype == JOIN_FULL && left_rejected && right_rejected)
				jointype = JOIN_INNER;
			else if (jointype == JOIN_FULL && left_rejected)
				jointype = JOIN_LEFT;
			else if (jointype == JOIN_FULL && right_rejected)
				jointype = JOIN_RIGHT;
			if (jointype != j->jointype)
			{
				j->jointype = jointype;
				if (j->rtindex > 0)
					rt_fetch(j->rtindex, q->rtable)->jointype = jointype;
				*changed = true;
			}
		}
		switch (jointype)
		{
			case JOIN_INNER:
				{
					Relids		below = bms_union(nonnull,
												  find_nonnullable_rels(j->quals));

					reduce_walk(q, j->larg, below, changed);
					reduce_walk(q, j->rarg, below, changed);
				}
				break;
			case JOIN_LEFT:
				reduce_walk(q, j->larg, nonnull, changed);
				reduce_walk(q, j->rarg, NULL, changed);
				break;
			case JOIN_RIGHT:
				reduce_walk(q, j->larg, NULL, changed);
				reduce_walk(q, j->rarg, nonnull, changed);
				break;
			default:
				reduce_walk(q, j->larg, NULL, changed);
				reduce_walk(q, j->rarg, NULL, changed);
				break;
		}
	}
}

/* reduce_walk at every nested query level (each has its own WHERE) */
static bool
reduce_nested_walker(Node *node, bool *changed)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		reduce_walk(q, (Node *) q->jointree, NULL, changed);
		return query_tree_walker(q, reduce_nested_walker, changed, 0);
	}
	return expression_tree_walker(node, reduce_nested_walker, changed);
}

/*
 * The subquery a SELECT only renames: q's one FROM item is a subquery
 * (not LATERAL) and q returns its output columns in order, each once,
 * with nothing else (no WHERE, grouping, DISTINCT, ordering, limits, set
 * operations, CTEs, row locks).  Returns a copy of the subquery with q's
 * column names and statement fields, or NULL.
 */
static Query *
unwrap_projection(Query *q)
{
	RangeTblRef *ref;
	RangeTblEntry *rte;
	Query	   *sub;
	ListCell   *lc;
	ListCell   *inner;
	int			attno = 0;

	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL ||
		q->setOperations != NULL || q->cteList != NIL ||
		q->rowMarks != NIL || q->hasAggs || q->hasWindowFuncs ||
		q->hasTargetSRFs || q->hasSubLinks || q->hasForUpdate ||
		q->groupClause != NIL || q->groupingSets != NIL ||
		q->havingQual != NULL || q->windowClause != NIL ||
		q->distinctClause != NIL || q->sortClause != NIL ||
		q->limitCount != NULL || q->limitOffset != NULL ||
		q->jointree == NULL || q->jointree->quals != NULL ||
		list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		return NULL;
	ref = linitial(q->jointree->fromlist);
	rte = rt_fetch(ref->rtindex, q->rtable);
	if (rte->rtekind != RTE_SUBQUERY || rte->lateral ||
		rte->subquery->commandType != CMD_SELECT ||
		rte->subquery->utilityStmt != NULL)
		return NULL;
	sub = rte->subquery;

	/* the outer columns: the subquery's non-junk columns in order */
	inner = list_head(sub->targetList);
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;

		if (tle->resjunk || !IsA(var, Var) || var->varlevelsup != 0 ||
			var->varno != ref->rtindex || var->varattno != ++attno)
			return NULL;
		while (inner != NULL &&
			   ((TargetEntry *) lfirst(inner))->resjunk)
			inner = lnext(sub->targetList, inner);
		if (inner == NULL ||
			((TargetEntry *) lfirst(inner))->resno != attno)
			return NULL;
		inner = lnext(sub->targetList, inner);
	}
	while (inner != NULL && ((TargetEntry *) lfirst(inner))->resjunk)
		inner = lnext(sub->targetList, inner);
	if (inner != NULL)
		return NULL;

	sub = copyObject(sub);
	forboth(lc, q->targetList, inner, sub->targetList)
	{
		TargetEntry *outer_tle = lfirst(lc);
		TargetEntry *inner_tle = lfirst(inner);

		inner_tle->resname = outer_tle->resname ?
			pstrdup(outer_tle->resname) : NULL;
	}
	sub->canSetTag = q->canSetTag;
	sub->querySource = q->querySource;
	sub->queryId = q->queryId;
	sub->stmt_location = q->stmt_location;
	sub->stmt_len = q->stmt_len;
	return sub;
}

/*
 * parse rewritten as described above, or NULL when nothing changed.
 */
Query *
sf_reshape_query(Query *parse)
{
	Query	   *q;
	bool		changed = false;

	if (parse->utilityStmt != NULL ||
		(parse->commandType != CMD_SELECT &&
		 parse->commandType != CMD_UPDATE &&
		 parse->commandType != CMD_DELETE))
		return NULL;

	q = sf_inline_ctes(parse);
	if (q->commandType == CMD_SELECT)
	{
		Query	   *sub;

		/* SELECT * FROM (SELECT * FROM (...) a) b: each level in turn */
		while ((sub = unwrap_projection(q)) != NULL)
		{
			q = sf_inline_ctes(sub);
			changed = true;
		}
	}
	if (q == parse)
		q = copyObject(parse);
	(void) reduce_nested_walker((Node *) q, &changed);
	return changed ? q : NULL;
}
