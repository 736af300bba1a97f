/*-------------------------------------------------------------------------
 *
 * shard_local.c
 *	  Nested query levels of a multi-shard SELECT that run inside each
 *	  shard's task: subqueries correlated on the distribution column, FROM
 *	  subqueries that keep the shards apart and are joined on it, and
 *	  "key IN (SELECT key ...)" conjuncts.
 *
 * A multi-shard task runs the whole statement with every distributed
 * table replaced by its shard, at every level.  A nested level gives the
 * same rows there as on the whole table when:
 *
 * - it is correlated: each of its distributed tables' keys is equal (by a
 *   conjunct of its WHERE or inner joins) to the key of a row of an
 *   enclosing level, so it only reads rows of that row's shard, whatever
 *   it does with them (aggregates, LIMIT, DISTINCT...);
 * - it is a FROM subquery (not LATERAL) whose own distributed tables are
 *   joined on the key, whose groups, DISTINCT rows and window partitions
 *   contain the key (so none spans shards) and which has no LIMIT /
 *   OFFSET: each of its rows comes from one shard, and it returns the key
 *   of its rows (a column not on the nullable side of an outer join) for
 *   the enclosing level to join on;
 * - it is the subquery of "key IN (SELECT ...)", a conjunct of the top
 *   level's WHERE, shaped like such a FROM subquery and returning its key:
 *   the key's value is found in the shard of the row or nowhere (NULL and
 *   false filter the row alike);
 * - it is a set operation (there, at the top level, or as one of those
 *   subqueries) whose branches are each shaped like such a FROM subquery
 *   with rows of one shard: UNION ALL concatenates the shards' results;
 *   UNION / INTERSECT / EXCEPT compare whole rows and need the key in the
 *   same output column of every branch they compare, so that equal rows
 *   are rows of one shard (set_operation_branches).
 *
 * A security_barrier view declines: the workers would get its query as a
 * plain subquery, and their planner could push the statement's conditions
 * (leaky functions included) into it.  Anything else below the top level
 * declines the multi-shard strategy.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "planner_internal.h"

/* State of nested_walker */
typedef struct NestedContext
{
	RouterContext *ctx;
	List	   *ancestors;		/* key classes of the enclosing levels,
								 * innermost first */
	List	   *accepted;		/* levels checked another way already */
} NestedContext;

static bool correlated_level(Query *q, List *ancestors, RouterContext *ctx);
static bool independent_subquery(Query *sq, List *ancestors,
								 RouterContext *ctx, List **exposed,
								 bool need_key);
static bool set_operation_branches(Query *sq, List *ancestors,
								   RouterContext *ctx, List **exposed);

/* Does any level of node read a distributed table? */
bool
sf_reads_distributed(Node *node)
{
	return sf_any_level_rte(node, sf_rte_is_distributed);
}

/*
 * The key classes seen from a level below: its own (cls) in front of
 * ancestors, in a new list.  (lcons() would put it into the caller's list
 * itself, and the caller's next subquery would see it as a level above.)
 */
static List *
enter_level(List *cls, List *ancestors)
{
	return lcons(cls, list_copy(ancestors));
}

/* Is Var (varno, attno) of levelsup levels up a member of class cls? */
static bool
var_in_class(List *cls, Index varno, AttrNumber attno, Index levelsup)
{
	ListCell   *lc;

	foreach(lc, cls)
	{
		Var		   *v = lfirst(lc);

		if (IsA(v, Var) && v->varno == varno && v->varattno == attno &&
			v->varlevelsup == levelsup)
			return true;
	}
	return false;
}

/* What a FROM item is to the checks below */
typedef enum SubqueryKind
{
	SUBQUERY_NONE,				/* not a subquery reading distributed tables */
	SUBQUERY_BARRIER,			/* a security_barrier one: declines */
	SUBQUERY_LATERAL,			/* LATERAL: checked as a correlated level */
	SUBQUERY_PLAIN				/* may keep the shards apart on its own */
} SubqueryKind;

/*
 * A security_barrier view declines (see the head of this file) wherever it
 * is; a LATERAL subquery can only be correlated.
 */
static SubqueryKind
subquery_kind(RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_SUBQUERY ||
		!sf_reads_distributed((Node *) rte->subquery))
		return SUBQUERY_NONE;
	if (rte->security_barrier)
		return SUBQUERY_BARRIER;
	return rte->lateral ? SUBQUERY_LATERAL : SUBQUERY_PLAIN;
}

/*
 * The Var (rti, column) through which a level reads the key a FROM
 * subquery returns (exposed: those columns): one in a class of the level's
 * conjuncts when there is one (the level joins on it), else the first.
 */
static Var *
subquery_key_var(Index rti, List *exposed, List *classes)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, exposed)
		foreach(lc2, classes)
			if (var_in_class(lfirst(lc2), rti, lfirst_int(lc), 0))
				return makeVar(rti, lfirst_int(lc), InvalidOid, -1,
							   InvalidOid, 0);
	return makeVar(rti, linitial_int(exposed), InvalidOid, -1, InvalidOid, 0);
}

/*
 * Check the nested levels of q (sublinks, FROM subqueries, CTEs) that read
 * distributed tables, except the accepted ones, as correlated levels.
 */
static bool
nested_walker(Node *node, NestedContext *nc)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		if (list_member_ptr(nc->accepted, node) ||
			!sf_reads_distributed(node))
			return false;
		return !correlated_level((Query *) node, nc->ancestors, nc->ctx);
	}
	return expression_tree_walker(node, nested_walker, nc);
}

static bool
nested_levels_ok(Query *q, List *ancestors, RouterContext *ctx,
				 List *accepted)
{
	NestedContext nc;

	nc.ctx = ctx;
	nc.ancestors = ancestors;
	nc.accepted = accepted;
	return !query_tree_walker(q, nested_walker, &nc, 0);
}

/*
 * Is every distributed table of level q restricted (by q's WHERE and inner
 * join conjuncts) to the key of a row of an enclosing level (or a FROM
 * subquery that keeps the shards apart joined on that key), and every
 * level below it too?  ancestors: the key classes of the enclosing levels,
 * innermost first (NIL for a level that has none).
 */
static bool
correlated_level(Query *q, List *ancestors, RouterContext *ctx)
{
	List	   *quals = NIL;
	List	   *classes;
	List	   *fixed = NIL;
	List	   *accepted = NIL;
	bool		has_outer = false;
	ListCell   *lc;
	int			rti = 0;

	if (q->commandType != CMD_SELECT || q->hasRecursive ||
		q->hasModifyingCTE || q->rowMarks != NIL)
		return false;
	sf_collect_quals((Node *) q->jointree, &quals, false, &has_outer);
	classes = sf_build_classes(quals, ctx, true);

	/* the classes holding the key of an enclosing level's row */
	foreach(lc, classes)
	{
		List	   *c = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, c)
		{
			Var		   *v = lfirst(lc2);

			if (IsA(v, Var) && v->varlevelsup >= 1 &&
				v->varlevelsup <= list_length(ancestors) &&
				var_in_class(list_nth(ancestors, v->varlevelsup - 1),
							 v->varno, v->varattno, 0))
			{
				fixed = list_concat(fixed, c);
				break;
			}
		}
	}

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		SubqueryKind kind = subquery_kind(rte);
		const SfTable *table;

		rti++;
		if (kind == SUBQUERY_BARRIER)
			return false;
		if (kind == SUBQUERY_PLAIN)
		{
			/*
			 * A FROM subquery that keeps the shards apart, joined on the
			 * fixed key; else it must be correlated itself (below).
			 */
			List	   *exposed = NIL;
			ListCell   *lc2;

			if (!independent_subquery(rte->subquery,
									  enter_level(NIL, ancestors),
									  ctx, &exposed, true))
				continue;
			foreach(lc2, exposed)
				if (var_in_class(fixed, rti, lfirst_int(lc2), 0))
				{
					accepted = lappend(accepted, rte->subquery);
					break;
				}
			continue;
		}
		table = sf_rte_distributed_table(rte);
		if (table != NULL && !var_in_class(fixed, rti, table->distattnum, 0))
			return false;
	}
	return nested_levels_ok(q, enter_level(fixed, ancestors), ctx, accepted);
}

/*
 * The key class of a level that reads its distributed tables shard by
 * shard: its own distributed tables' keys and the keys its FROM
 * subqueries (not LATERAL) return, all in one class of its conjuncts
 * (outer joins' ON included: joined rows are equal on the key).  Returns
 * false if there is no such class.  *accepted gets the FROM subqueries
 * checked here, *subkeys the Vars of q that read the keys they return.
 * ancestors: as for correlated_level, for the levels above q.
 */
static bool
level_key_class(Query *q, List *ancestors, RouterContext *ctx, List *classes,
				List **keyclass, List **accepted, List **subkeys)
{
	List	   *members = NIL;
	ListCell   *lc;
	int			rti = 0;

	*keyclass = NIL;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table = sf_rte_distributed_table(rte);
		SubqueryKind kind = subquery_kind(rte);

		rti++;
		if (table != NULL)
			members = lappend(members,
							  makeVar(rti, table->distattnum, InvalidOid,
									  -1, InvalidOid, 0));
		else if (kind == SUBQUERY_BARRIER)
			return false;
		else if (kind == SUBQUERY_PLAIN)
		{
			List	   *exposed = NIL;
			ListCell   *lc2;

			/* it cannot see q's FROM items, only the levels above q */
			if (!independent_subquery(rte->subquery,
									  enter_level(NIL, ancestors),
									  ctx, &exposed, true))
				return false;
			members = lappend(members,
							  subquery_key_var(rti, exposed, classes));
			*accepted = lappend(*accepted, rte->subquery);
			foreach(lc2, exposed)
				*subkeys = lappend(*subkeys,
								   makeVar(rti, lfirst_int(lc2), InvalidOid,
										   -1, InvalidOid, 0));
		}
	}
	if (members == NIL)
		return false;

	/* one class holds them all */
	foreach(lc, members)
	{
		Var		   *m = lfirst(lc);
		List	   *found = NIL;
		ListCell   *lc2;

		foreach(lc2, classes)
			if (var_in_class(lfirst(lc2), m->varno, m->varattno, 0))
				found = lfirst(lc2);
		if (found == NIL)
		{
			if (list_length(members) > 1)
				return false;
			found = list_make1(m);
		}
		if (*keyclass != NIL && found != *keyclass)
			return false;
		*keyclass = found;
	}
	return true;
}

/*
 * Can FROM subquery (or IN subquery, or branch of a set operation) sq run
 * inside each shard's task: its rows each come from one shard, which none
 * of its groups, DISTINCT rows, window partitions or LIMITs spans?
 * *exposed gets the resnos of its output columns that return the key (of
 * a distributed table not on the nullable side of an outer join); with
 * need_key there must be one (the enclosing level joins on it), without,
 * a distributed table's key must be in its key class outside the nullable
 * side of an outer join (each row is made of a row of one shard; a
 * reference table's rows preserved by an outer join would come back once
 * per shard).  A set operation: set_operation_branches.  ancestors: the
 * key classes of the levels above sq, as for correlated_level.
 */
static bool
independent_subquery(Query *sq, List *ancestors, RouterContext *ctx,
					 List **exposed, bool need_key)
{
	List	   *quals = NIL;
	List	   *classes;
	List	   *keyclass;
	List	   *accepted = NIL;
	List	   *subkeys = NIL;
	bool		has_outer = false;
	bool		one_shard_rows = false;
	ListCell   *lc;

	if (sq->commandType != CMD_SELECT ||
		sq->limitCount != NULL || sq->limitOffset != NULL ||
		sq->rowMarks != NIL || sq->groupingSets != NIL ||
		sq->cteList != NIL || sq->hasModifyingCTE)
		return false;
	if (sq->setOperations != NULL)
	{
		*exposed = NIL;
		return set_operation_branches(sq, ancestors, ctx, exposed) &&
			(*exposed != NIL || !need_key);
	}
	sf_collect_quals((Node *) sq->jointree, &quals, true, &has_outer);
	classes = sf_build_classes(quals, ctx, false);
	if (!level_key_class(sq, ancestors, ctx, classes, &keyclass, &accepted,
						 &subkeys))
		return false;

	/* no group, DISTINCT row or window partition spans shards */
	if ((sq->hasAggs || sq->groupClause != NIL || sq->havingQual != NULL) &&
		!sf_clauses_name_dist_column(sq, sq->groupClause, keyclass))
		return false;
	if (sq->distinctClause != NIL &&
		!sf_clauses_name_dist_column(sq, sq->distinctClause, keyclass))
		return false;
	foreach(lc, sq->windowClause)
	{
		WindowClause *wc = lfirst(lc);

		if (!sf_clauses_name_dist_column(sq, wc->partitionClause, keyclass))
			return false;
	}

	/*
	 * the key it returns: a distributed table's or the one a FROM subquery
	 * returns, never NULL-extended
	 */
	*exposed = NIL;
	foreach(lc, sq->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *v = (Var *) sf_strip_relabel((Node *) tle->expr);

		if (tle->resjunk || !IsA(v, Var) || v->varlevelsup != 0 ||
			!var_in_class(keyclass, v->varno, v->varattno, 0) ||
			sf_nullable_rel((Node *) sq->jointree, v->varno, false))
			continue;
		if (rt_fetch(v->varno, sq->rtable)->rtekind == RTE_RELATION ||
			var_in_class(subkeys, v->varno, v->varattno, 0))
			*exposed = lappend_int(*exposed, tle->resno);
	}
	if (*exposed == NIL && need_key)
		return false;
	foreach(lc, keyclass)
	{
		Var		   *v = lfirst(lc);
		const SfTable *table;

		if (!IsA(v, Var) || v->varlevelsup != 0 ||
			sf_nullable_rel((Node *) sq->jointree, v->varno, false))
			continue;
		table = sf_rte_distributed_table(rt_fetch(v->varno, sq->rtable));
		if ((table != NULL && table->distattnum == v->varattno) ||
			var_in_class(subkeys, v->varno, v->varattno, 0))
			one_shard_rows = true;
	}
	if (!one_shard_rows)
		return false;

	/* its other nested levels: correlated with its rows or those above */
	return nested_levels_ok(sq, enter_level(keyclass, ancestors), ctx,
							accepted);
}

/*
 * The range table indexes of the branches of a set operation tree.
 */
static void
set_operation_leaves(Node *node, List **leaves)
{
	if (IsA(node, RangeTblRef))
		*leaves = lappend_int(*leaves, ((RangeTblRef *) node)->rtindex);
	else
	{
		SetOperationStmt *op = castNode(SetOperationStmt, node);

		set_operation_leaves(op->larg, leaves);
		set_operation_leaves(op->rarg, leaves);
	}
}

/* Type and collation of output column col of a set operation tree node */
static void
set_operation_column(Node *node, Query *sq, AttrNumber col, Oid *type,
					 Oid *collation)
{
	*type = InvalidOid;
	*collation = InvalidOid;
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex,
									  sq->rtable);
		TargetEntry *tle = get_tle_by_resno(rte->subquery->targetList, col);

		if (tle != NULL)
		{
			*type = exprType((Node *) tle->expr);
			*collation = exprCollation((Node *) tle->expr);
		}
	}
	else
	{
		SetOperationStmt *op = castNode(SetOperationStmt, node);

		if (list_length(op->colTypes) >= col)
		{
			*type = list_nth_oid(op->colTypes, col - 1);
			*collation = list_nth_oid(op->colCollations, col - 1);
		}
	}
}

/*
 * The output columns of set operation tree node that are, in every branch
 * below it, the key of the branch's rows (leaf_keys, by range table index:
 * each branch's plain Var key columns), with the type and collation of
 * node's column all the way up (no coercion).  A node that compares whole
 * rows (UNION, INTERSECT, EXCEPT, with or without ALL; not UNION ALL)
 * needs one, compared with an equality of the partition key's hash
 * opfamily under the key's collation: rows it finds equal are then equal
 * on the key, so rows of one shard, and it gives the same rows per shard
 * as over the whole tables.  Returns false when such a node has none.
 */
static bool
set_operation_keys(Node *node, Query *sq, List **leaf_keys,
				   RouterContext *ctx, List **keys)
{
	SetOperationStmt *op;
	List	   *left;
	List	   *right;
	ListCell   *lc;

	*keys = NIL;
	if (IsA(node, RangeTblRef))
	{
		*keys = leaf_keys[((RangeTblRef *) node)->rtindex - 1];
		return true;
	}
	op = castNode(SetOperationStmt, node);
	if (!set_operation_keys(op->larg, sq, leaf_keys, ctx, &left) ||
		!set_operation_keys(op->rarg, sq, leaf_keys, ctx, &right))
		return false;
	foreach(lc, list_intersection_int(left, right))
	{
		AttrNumber	col = lfirst_int(lc);
		Oid			type;
		Oid			collation;
		Oid			ltype;
		Oid			lcoll;
		Oid			rtype;
		Oid			rcoll;

		set_operation_column(node, sq, col, &type, &collation);
		set_operation_column(op->larg, sq, col, &ltype, &lcoll);
		set_operation_column(op->rarg, sq, col, &rtype, &rcoll);
		if (!OidIsValid(type) || ltype != type || rtype != type ||
			lcoll != collation || rcoll != collation)
			continue;
		if (op->op != SETOP_UNION || !op->all)
		{
			SortGroupClause *sgc;

			if (list_length(op->groupClauses) < col)
				continue;
			sgc = list_nth(op->groupClauses, col - 1);
			if (!op_in_opfamily(sgc->eqop, ctx->opfamily) ||
				get_op_opfamily_strategy(sgc->eqop, ctx->opfamily) !=
				HTEqualStrategyNumber ||
				(OidIsValid(ctx->keycollation) &&
				 collation != ctx->keycollation))
				continue;
		}
		*keys = lappend_int(*keys, col);
	}
	return *keys != NIL || (op->op == SETOP_UNION && op->all);
}

/*
 * Can set operation sq (UNION / INTERSECT / EXCEPT [ALL]) run inside each
 * shard's task?  Each branch reads distributed tables and each of its rows
 * comes from one shard (independent_subquery: a branch reading no
 * distributed table would return its rows once per shard), so UNION ALL
 * is the concatenation of the shards' results; the other operations need
 * the key in the same column of the branches they compare
 * (set_operation_keys; NULL keys all hash to one shard too).  *exposed
 * gets the output columns that are the key in every branch.  Its LIMIT /
 * ORDER BY are the caller's business.  ancestors: the key classes of the
 * levels above sq.
 */
static bool
set_operation_branches(Query *sq, List *ancestors, RouterContext *ctx,
					   List **exposed)
{
	List	   *leaves = NIL;
	List	   *accepted = NIL;
	List	  **leaf_keys;
	ListCell   *lc;

	set_operation_leaves(sq->setOperations, &leaves);
	leaf_keys = palloc0(sizeof(List *) * list_length(sq->rtable));
	foreach(lc, leaves)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), sq->rtable);
		List	   *leaf_exposed = NIL;
		ListCell   *lc2;

		/* the branches see the levels above sq, and sq has no FROM */
		if (subquery_kind(rte) != SUBQUERY_PLAIN ||
			!independent_subquery(rte->subquery, enter_level(NIL, ancestors),
								  ctx, &leaf_exposed, false))
			return false;
		accepted = lappend(accepted, rte->subquery);

		/* its key columns that are plain Vars (no cast) */
		foreach(lc2, leaf_exposed)
		{
			TargetEntry *tle = get_tle_by_resno(rte->subquery->targetList,
												lfirst_int(lc2));

			if (tle != NULL && IsA(tle->expr, Var))
				leaf_keys[lfirst_int(lc) - 1] =
					lappend_int(leaf_keys[lfirst_int(lc) - 1], tle->resno);
		}
	}
	if (!set_operation_keys(sq->setOperations, sq, leaf_keys, ctx, exposed))
		return false;

	/* anything else below sq reading distributed tables: correlated */
	return nested_levels_ok(sq, enter_level(NIL, ancestors), ctx, accepted);
}

/*
 * A set operation at the top level of a multi-shard SELECT: each shard's
 * task runs it over the shard (set_operation_branches), the coordinator
 * appends the tasks' rows (and sorts / limits them).
 */
bool
sf_set_operation_shard_local(Query *top, RouterContext *ctx)
{
	List	   *exposed = NIL;

	if (top->groupingSets != NIL || top->hasModifyingCTE)
		return false;
	return set_operation_branches(top, NIL, ctx, &exposed);
}

/*
 * The top level's FROM subqueries that read distributed tables (not
 * LATERAL ones): each must be able to run inside each shard's task.
 * *keyvars gets, for each, the Var of the top level that reads its key, to
 * be joined on the distribution column like a distributed table's; the
 * subqueries go to *accepted.  False: the statement is not multi-shard.
 */
bool
sf_from_subqueries_shard_local(Query *top, RouterContext *ctx,
							   List **keyvars, List **accepted)
{
	ListCell   *lc;
	int			rti = 0;

	foreach(lc, top->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		SubqueryKind kind = subquery_kind(rte);
		List	   *exposed = NIL;

		rti++;
		if (kind == SUBQUERY_BARRIER)
			return false;
		if (kind != SUBQUERY_PLAIN)
			continue;			/* LATERAL: checked with the others */
		if (!independent_subquery(rte->subquery, list_make1(NIL), ctx,
								  &exposed, true))
			return false;
		*keyvars = lappend(*keyvars,
						   subquery_key_var(rti, exposed, ctx->top_classes));
		*accepted = lappend(*accepted, rte->subquery);
	}
	return true;
}

/*
 * Is sublink "x IN (SELECT ...)" with x in the top level's key class
 * distclass and a subquery returning its key in the first column?
 */
static bool
key_in_sublink(SubLink *sl, List *distclass, RouterContext *ctx)
{
	OpExpr	   *op = (OpExpr *) sl->testexpr;
	Var		   *x;
	Param	   *p;
	List	   *exposed = NIL;

	if (sl->subLinkType != ANY_SUBLINK || op == NULL ||
		!sf_is_key_equality((Node *) op, ctx))
		return false;
	x = (Var *) sf_strip_relabel(linitial(op->args));
	p = (Param *) sf_strip_relabel(lsecond(op->args));
	if (!IsA(x, Var) || x->varlevelsup != 0 ||
		!var_in_class(distclass, x->varno, x->varattno, 0) ||
		!IsA(p, Param) || p->paramkind != PARAM_SUBLINK)
		return false;
	if (!independent_subquery((Query *) sl->subselect, list_make1(distclass),
							  ctx, &exposed, true))
		return false;
	return list_member_int(exposed, p->paramid);
}

/*
 * After the top level's key class distclass is known: every nested level
 * that reads distributed tables, except the accepted FROM subqueries, is a
 * "key IN (SELECT key ...)" conjunct of the top level's WHERE or is
 * correlated with the key (see the head of this file).
 */
bool
sf_nested_levels_shard_local(Query *top, List *distclass, RouterContext *ctx,
							 List *accepted)
{
	ListCell   *lc;

	if (top->jointree != NULL)
	{
		foreach(lc, make_ands_implicit((Expr *) top->jointree->quals))
		{
			SubLink    *sl = lfirst(lc);

			if (IsA(sl, SubLink) &&
				sf_reads_distributed(sl->subselect) &&
				key_in_sublink(sl, distclass, ctx))
				accepted = lappend(accepted, sl->subselect);
		}
	}
	return nested_levels_ok(top, list_make1(distclass), ctx, accepted);
}
