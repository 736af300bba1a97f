/*-------------------------------------------------------------------------
 *
 * two_phase_agg.c
 *	  Two-phase aggregates: worker partials, a coordinator combine.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"

/* Transition type of an aggregate, InvalidOid if polymorphic. */
static Oid
aggregate_transtype(Oid aggfnoid)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Oid			transtype;

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	transtype = ((Form_pg_aggregate) GETSTRUCT(tuple))->aggtranstype;
	ReleaseSysCache(tuple);
	return IsPolymorphicType(transtype) ? InvalidOid : transtype;
}

/* A coordinator aggregate call over one column of the scan. */
static Aggref *
combine_aggref(Oid aggfnoid, Oid aggtype, Oid collid, Oid inputcollid,
			   Var *arg)
{
	Aggref	   *a = makeNode(Aggref);

	a->aggfnoid = aggfnoid;
	a->aggtype = aggtype;
	a->aggcollid = collid;
	a->inputcollid = inputcollid;
	a->aggtranstype = aggregate_transtype(aggfnoid);
	a->aggargtypes = list_make1_oid(arg->vartype);
	a->args = list_make1(makeTargetEntry((Expr *) arg, 1, NULL, false));
	a->aggkind = AGGKIND_NORMAL;
	a->agglevelsup = 0;
	a->aggsplit = AGGSPLIT_SIMPLE;
	a->location = -1;
	return a;
}

/* Append a partial aggregate to the workers' target list; its resno. */
static AttrNumber
add_partial(List **wtlist, Expr *expr)
{
	AttrNumber	resno = list_length(*wtlist) + 1;

	*wtlist = lappend(*wtlist,
					  makeTargetEntry(expr, resno,
									  psprintf("partial%d", resno), false));
	return resno;
}

/* walker collecting the Aggrefs of an expression */
static bool
collect_aggrefs(Node *node, List **aggs)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		*aggs = lappend(*aggs, node);
		return false;
	}
	return expression_tree_walker(node, collect_aggrefs, aggs);
}

/* numeric sum over a column, as bigint (counts, sums of int2/int4) */
static Expr *
combine_as_int8(Aggref *sum)
{
	return (Expr *) makeFuncExpr(F_INT8_NUMERIC, INT8OID, list_make1(sum),
								 InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

/*
 * The coordinator expression combining the partials of aggregate a, whose
 * partial aggregates are appended to *wtlist (the workers' target list);
 * NULL if a cannot be split.
 */
static Expr *
two_phase_aggref(Aggref *a, List **wtlist_p)
{
	List	   *wtlist = *wtlist_p;
	Expr	   *expr = NULL;
	AttrNumber	resno;
	Aggref	   *partial = copyObject(a);
	Var		   *pvar;

	if (a->aggdistinct != NIL || a->aggorder != NIL ||
		a->aggvariadic || a->aggkind != AGGKIND_NORMAL ||
		a->agglevelsup != 0 || list_length(a->args) > 1)
		return NULL;
	switch (a->aggfnoid)
	{
		case F_COUNT_:
		case F_COUNT_ANY:
		case F_SUM_INT2:
		case F_SUM_INT4:
			resno = add_partial(&wtlist, (Expr *) partial);
			pvar = makeVar(OUTER_VAR, resno, INT8OID, -1, InvalidOid, 0);
			expr = combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID,
												  InvalidOid, InvalidOid,
												  pvar));
			break;
		case F_SUM_INT8:
		case F_SUM_NUMERIC:
			resno = add_partial(&wtlist, (Expr *) partial);
			pvar = makeVar(OUTER_VAR, resno, NUMERICOID, -1, InvalidOid, 0);
			expr = (Expr *) combine_aggref(F_SUM_NUMERIC, NUMERICOID,
										   InvalidOid, InvalidOid, pvar);
			break;
		case F_AVG_INT2:
		case F_AVG_INT4:
		case F_AVG_INT8:
		case F_AVG_NUMERIC:
			{
				Aggref	   *psum = partial;
				Aggref	   *pcount = copyObject(a);
				Oid			sumtype;
				Aggref	   *csum;
				Aggref	   *ccount;

				psum->aggfnoid = a->aggfnoid == F_AVG_INT2 ? F_SUM_INT2 :
					a->aggfnoid == F_AVG_INT4 ? F_SUM_INT4 :
					a->aggfnoid == F_AVG_INT8 ? F_SUM_INT8 : F_SUM_NUMERIC;
				sumtype = (a->aggfnoid == F_AVG_INT2 ||
						   a->aggfnoid == F_AVG_INT4) ? INT8OID : NUMERICOID;
				psum->aggtype = sumtype;
				pcount->aggfnoid = F_COUNT_ANY;
				pcount->aggtype = INT8OID;
				resno = add_partial(&wtlist, (Expr *) psum);
				csum = combine_aggref(sumtype == INT8OID ? F_SUM_INT8 : F_SUM_NUMERIC,
									  NUMERICOID, InvalidOid, InvalidOid,
									  makeVar(OUTER_VAR, resno, sumtype, -1,
											  InvalidOid, 0));
				resno = add_partial(&wtlist, (Expr *) pcount);
				ccount = combine_aggref(F_SUM_INT8, NUMERICOID,
										InvalidOid, InvalidOid,
										makeVar(OUTER_VAR, resno, INT8OID, -1,
												InvalidOid, 0));
				/* numeric_div is strict: no rows gives NULL, as avg */
				expr = (Expr *) makeFuncExpr(F_NUMERIC_DIV, NUMERICOID,
											 list_make2(csum, ccount),
											 InvalidOid, InvalidOid,
											 COERCE_EXPLICIT_CALL);
				break;
			}
		default:
			{
				char	   *name = get_func_name(a->aggfnoid);
				Oid			argtype;

				/*
				 * Aggregates that combine by themselves (min of mins,
				 * bool_and of bool_ands, ...): result type = input type
				 */
				if (name == NULL ||
					(strcmp(name, "min") != 0 && strcmp(name, "max") != 0 &&
					 strcmp(name, "bool_and") != 0 &&
					 strcmp(name, "bool_or") != 0 &&
					 strcmp(name, "every") != 0 &&
					 strcmp(name, "bit_and") != 0 &&
					 strcmp(name, "bit_or") != 0 &&
					 strcmp(name, "bit_xor") != 0) ||
					!OidIsValid(aggregate_transtype(a->aggfnoid)) ||
					list_length(a->args) != 1)
					return NULL;
				argtype = exprType((Node *) ((TargetEntry *) linitial(a->args))->expr);
				if (argtype != a->aggtype)
					return NULL;
				resno = add_partial(&wtlist, (Expr *) partial);
				pvar = makeVar(OUTER_VAR, resno, a->aggtype, -1,
							   a->aggcollid, 0);
				expr = (Expr *) combine_aggref(a->aggfnoid, a->aggtype,
											   a->aggcollid,
											   a->inputcollid, pvar);
				break;
			}
	}
		*wtlist_p = wtlist;
	return expr;
}

/*
 * State of two_phase_mutator: the workers' target list (grouping columns
 * first) as it grows.
 */
typedef struct TwoPhaseContext
{
	List	   *wtlist;
	int			ngroup;
	bool		failed;
} TwoPhaseContext;

/*
 * Rewrite an output or HAVING expression for the coordinator's Agg:
 * grouping expressions become the worker's grouping columns, aggregates
 * their combine over the partials; any other column reference fails.
 */
static Node *
two_phase_mutator(Node *node, TwoPhaseContext *ctx)
{
	int			i;

	if (node == NULL || ctx->failed)
		return node;
	for (i = 0; i < ctx->ngroup; i++)
	{
		TargetEntry *w = list_nth(ctx->wtlist, i);

		if (equal(node, w->expr))
			return (Node *) makeVar(OUTER_VAR, w->resno,
									exprType((Node *) w->expr),
									exprTypmod((Node *) w->expr),
									exprCollation((Node *) w->expr), 0);
	}
	if (IsA(node, Aggref))
	{
		Expr	   *e = two_phase_aggref((Aggref *) node, &ctx->wtlist);

		if (e == NULL)
			ctx->failed = true;
		return (Node *) e;
	}
	if (IsA(node, Var) || IsA(node, SubLink) || IsA(node, WindowFunc) ||
		IsA(node, GroupingFunc) || IsA(node, Query))
	{
		ctx->failed = true;
		return node;
	}
	return expression_tree_mutator(node, two_phase_mutator, ctx);
}

/*
 * Two-phase aggregation: the workers group by the statement's GROUP BY and
 * compute partial aggregates, the coordinator's HashAggregate (or plain
 * Aggregate) combines them: count -> sum of counts, sum -> sum of sums
 * (bigint kept bigint), min / max -> min / max, avg -> sum of sums divided
 * by sum of counts (numeric, exactly what avg computes).  Output columns
 * and HAVING may use GROUP BY expressions and these aggregates (without
 * DISTINCT or ORDER BY inside; FILTER is kept on the workers), combined by
 * any shippable expression evaluated on the coordinator.
 * Sets *worker_tlist (the partial target list) and returns the Agg node, or
 * NULL to decline.
 */
Agg *
sf_plan_two_phase(Query *parse, List **worker_tlist)
{
	Agg		   *agg;
	List	   *wtlist = NIL;
	List	   *final = NIL;
	ListCell   *lc;
	int			ngroup = list_length(parse->groupClause);
	int			i = 0;
	AttrNumber	resno = 0;
	TwoPhaseContext tpc;
	List	   *quals = NIL;

	if (parse->groupingSets != NIL)
		return NULL;
	tpc.wtlist = NIL;
	tpc.ngroup = ngroup;
	tpc.failed = false;

	agg = makeNode(Agg);
	agg->aggstrategy = ngroup > 0 ? AGG_HASHED : AGG_PLAIN;
	agg->aggsplit = AGGSPLIT_SIMPLE;
	agg->numCols = ngroup;
	agg->grpColIdx = palloc(sizeof(AttrNumber) * Max(ngroup, 1));
	agg->grpOperators = palloc(sizeof(Oid) * Max(ngroup, 1));
	agg->grpCollations = palloc(sizeof(Oid) * Max(ngroup, 1));
	agg->numGroups = 100;

	/* the grouping columns come first in the workers' output */
	foreach(lc, parse->groupClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = copyObject(get_sortgroupclause_tle(sgc, parse->targetList));

		if (!sgc->hashable || !OidIsValid(sgc->eqop))
			return NULL;
		tle->resjunk = false;
		tle->resno = ++resno;
		if (tle->resname == NULL)
			tle->resname = psprintf("group%d", resno);
		wtlist = lappend(wtlist, tle);
		agg->grpColIdx[i] = resno;
		agg->grpOperators[i] = sgc->eqop;
		agg->grpCollations[i] = exprCollation((Node *) tle->expr);
		i++;
	}

	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Expr	   *expr = NULL;

		if (tle->resjunk)
			continue;
		tpc.wtlist = wtlist;
		expr = (Expr *) two_phase_mutator((Node *) tle->expr, &tpc);
		wtlist = tpc.wtlist;
		if (tpc.failed)
			return NULL;
		if (expr == NULL)
			return NULL;
		final = lappend(final, makeTargetEntry(expr, list_length(final) + 1,
											 tle->resname, false));
	}

	/* HAVING: evaluated by the coordinator's Agg over the combined values */
	if (parse->havingQual != NULL)
	{
		Node	   *having;

		tpc.wtlist = wtlist;
		having = two_phase_mutator(parse->havingQual, &tpc);
		wtlist = tpc.wtlist;
		if (tpc.failed || having == NULL)
			return NULL;
		quals = make_ands_implicit((Expr *) having);
	}

	/* aggno / aggtransno, as the planner numbers them */
	i = 0;
	foreach(lc, list_concat(list_copy(final), quals))
	{
		List	   *aggs = NIL;
		ListCell   *lc2;

		(void) collect_aggrefs(lfirst(lc), &aggs);
		foreach(lc2, aggs)
		{
			Aggref	   *a = lfirst(lc2);

			a->aggno = i;
			a->aggtransno = i;
			i++;
		}
	}
	agg->plan.targetlist = final;
	agg->plan.qual = quals;
	agg->plan.startup_cost = 1;
	agg->plan.total_cost = 2;
	agg->plan.plan_rows = 100;
	agg->plan.plan_width = 32;
	*worker_tlist = wtlist;
	return agg;
}

