/*-------------------------------------------------------------------------
 *
 * sublink_params.c
 *	  An uncorrelated subquery in the WHERE clause that keeps a statement off
 *	  the workers is computed once on the coordinator, and its result sent
 *	  to the workers as a parameter.
 *
 * `x IN (SELECT y FROM other)`, `x NOT IN (...)`, `x > (SELECT avg(y) ...)`
 * or `EXISTS (SELECT ...)` over a distributed table that is not co-located
 * (or not joined on the distribution column, or a local table) makes the
 * analysis decline the whole statement, and the standard planner then
 * reads every shard through the FDW.  The subquery does not depend on the
 * rows of the statement, so PostgreSQL itself computes it once (an
 * initplan).  Here:
 *
 *	- the subquery is planned by the planner like any statement (through
 *	  the planner hook: usually a multi-shard or two-phase plan itself);
 *	- an initplan-like SubPlan over it fills one PARAM_EXEC value when the
 *	  statement's scan starts (as the broadcast join's, see
 *	  broadcast_join.c): the scalar of an expression subquery, the boolean
 *	  of EXISTS, the array of ARRAY(...), and for IN / op ANY / op ALL the
 *	  array of the subquery's values (array_agg, '{}' when it has no rows);
 *	- in the statement, the sublink becomes a Param with that value (for
 *	  ANY / ALL, `x op ANY ($n)` / `x op ALL ($n)`, which have the same
 *	  semantics, NULLs included), computed with the stable expressions of
 *	  coordinator_values.c and sent as a literal; what is left is planned by
 *	  the strategies as usual (router, multi-shard, two-phase aggregate).
 *
 * Only one such subquery per statement (their plans would need their range
 * tables merged), only in the top level's WHERE clause (whose conditions
 * always run on the workers), only when the statement would not run on the
 * workers otherwise, and with results of the default collation or none (a
 * parameter has the default collation on the worker).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_clause.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

/* State of find_sublinks_walker */
typedef struct SublinkSearch
{
	List	   *found;			/* SubLinks to compute on the coordinator */
	bool		bad;			/* a candidate that cannot be computed so */
} SublinkSearch;

/*
 * Is the result of a sublink of this kind computable on the coordinator and
 * sendable as a parameter?
 */
static bool
sublink_computable(SubLink *sublink)
{
	Query	   *sub = (Query *) sublink->subselect;

	/* uncorrelated: no Vars, PlaceHolderVars or aggregates of upper levels */
	if (contain_vars_of_level((Node *) sub, 1) ||
		contain_aggs_of_level((Node *) sub, 1) ||
		sub->commandType != CMD_SELECT || sub->utilityStmt != NULL ||
		sub->rowMarks != NIL || sub->hasModifyingCTE)
		return false;

	switch (sublink->subLinkType)
	{
		case EXISTS_SUBLINK:
			return true;
		case EXPR_SUBLINK:
		case ARRAY_SUBLINK:
			{
				Oid			collation = exprCollation((Node *) sublink);

				return collation == InvalidOid ||
					collation == DEFAULT_COLLATION_OID;
			}
		case ANY_SUBLINK:
		case ALL_SUBLINK:
			{
				OpExpr	   *op = (OpExpr *) sublink->testexpr;
				Param	   *p;

				/* x op (the subquery's one column), nothing else */
				if (op == NULL || !IsA(op, OpExpr) ||
					list_length(op->args) != 2 ||
					!IsA(lsecond(op->args), Param) ||
					(op->inputcollid != InvalidOid &&
					 op->inputcollid != DEFAULT_COLLATION_OID))
					return false;
				p = lsecond(op->args);
				return p->paramkind == PARAM_SUBLINK && p->paramid == 1 &&
					OidIsValid(get_array_type(p->paramtype)) &&
					(p->paramcollid == InvalidOid ||
					 p->paramcollid == DEFAULT_COLLATION_OID);
			}
		default:
			return false;
	}
}

/*
 * Walker over the top level's WHERE: the uncorrelated sublinks that read
 * something the workers do not have (a distributed table, a local table).
 * Sublinks inside them are theirs.
 */
static bool
find_sublinks_walker(Node *node, SublinkSearch *search)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *sublink = (SubLink *) node;

		if (sf_any_level_rte(sublink->subselect, sf_rte_is_not_replicated))
		{
			if (sublink_computable(sublink))
				search->found = lappend(search->found, sublink);
			else
				search->bad = true;
		}
		/* its test expression holds nothing of the subquery's */
		return false;
	}
	return expression_tree_walker(node, find_sublinks_walker, search);
}

/* State of replace_sublink_mutator */
typedef struct SublinkReplace
{
	SubLink    *target;
	Param	   *param;			/* the value computed on the coordinator */
} SublinkReplace;

static Node *
replace_sublink_mutator(Node *node, SublinkReplace *rep)
{
	if (node == NULL)
		return NULL;
	if (node == (Node *) rep->target)
	{
		SubLink    *sublink = rep->target;

		if (sublink->subLinkType == ANY_SUBLINK ||
			sublink->subLinkType == ALL_SUBLINK)
		{
			OpExpr	   *op = (OpExpr *) sublink->testexpr;
			ScalarArrayOpExpr *saop = makeNode(ScalarArrayOpExpr);

			saop->opno = op->opno;
			saop->opfuncid = op->opfuncid;
			saop->hashfuncid = InvalidOid;
			saop->negfuncid = InvalidOid;
			saop->useOr = (sublink->subLinkType == ANY_SUBLINK);
			saop->inputcollid = op->inputcollid;
			saop->args = list_make2(linitial(op->args), rep->param);
			saop->location = -1;
			return (Node *) saop;
		}
		return (Node *) rep->param;
	}
	return expression_tree_mutator(node, replace_sublink_mutator, rep);
}

/*
 * An initplan-like SubPlan (setParam, no parParam) is run by the first
 * evaluation of one of its output Params (ExecSetParamPlan) once
 * initialised: ExecInitExpr of this expression initialises it, and never
 * evaluates it (CASE WHEN false).  The stable expressions computed when the
 * scan starts begin with it.
 */
Expr *
sf_initplan_trigger(SubPlan *subplan)
{
	CaseExpr   *ce = makeNode(CaseExpr);
	CaseWhen   *w = makeNode(CaseWhen);

	w->expr = (Expr *) makeBoolConst(false, false);
	w->result = (Expr *) subplan;
	w->location = -1;
	ce->casetype = exprType((Node *) subplan);
	ce->casecollid = InvalidOid;
	ce->arg = NULL;
	ce->args = list_make1(w);
	ce->defresult = (Expr *) makeNullConst(ce->casetype, -1, InvalidOid);
	ce->location = -1;
	return (Expr *) ce;
}

/*
 * array_agg(the input's column resno) as the target entry resno of an Agg
 * over input; aggno numbers the aggregates of that Agg.
 */
TargetEntry *
sf_array_agg_entry(TargetEntry *input, int aggno)
{
	Oid			type = exprType((Node *) input->expr);
	Aggref	   *a = makeNode(Aggref);

	a->aggfnoid = F_ARRAY_AGG_ANYNONARRAY;
	a->aggtype = get_array_type(type);
	a->aggcollid = InvalidOid;
	a->inputcollid = exprCollation((Node *) input->expr);
	a->aggtranstype = INTERNALOID;
	a->aggargtypes = list_make1_oid(type);
	a->args = list_make1(makeTargetEntry((Expr *) makeVar(OUTER_VAR, input->resno,
														  type,
														  exprTypmod((Node *) input->expr),
														  exprCollation((Node *) input->expr),
														  0),
										 1, NULL, false));
	a->aggkind = AGGKIND_NORMAL;
	a->aggsplit = AGGSPLIT_SIMPLE;
	a->aggno = aggno;
	a->aggtransno = aggno;
	a->location = -1;
	return makeTargetEntry((Expr *) a, aggno + 1,
						   pstrdup(input->resname ? input->resname : "?column?"),
						   false);
}

/* A plain Agg computing tlist (of sf_array_agg_entry) over input */
Plan *
sf_array_agg_plan(Plan *input, List *tlist)
{
	Agg		   *agg = makeNode(Agg);

	agg->aggstrategy = AGG_PLAIN;
	agg->aggsplit = AGGSPLIT_SIMPLE;
	agg->numCols = 0;
	agg->plan.targetlist = tlist;
	agg->plan.lefttree = input;
	agg->plan.startup_cost = input->total_cost;
	agg->plan.total_cost = input->total_cost + 1;
	agg->plan.plan_rows = 1;
	agg->plan.plan_width = 32;
	return (Plan *) agg;
}

/*
 * An initplan-like SubPlan running plan (the last of substmt's subplans,
 * once sf_merge_coordinator_plan added it) that sets the PARAM_EXEC values
 * setparams; firsttype is the type of plan's first column.
 */
SubPlan *
sf_make_initplan(PlannedStmt *substmt, Plan *plan, SubLinkType kind,
				 List *setparams, Oid firsttype, const char *name)
{
	SubPlan    *subplan = makeNode(SubPlan);

	subplan->subLinkType = kind;
	subplan->testexpr = NULL;
	subplan->paramIds = NIL;
	subplan->plan_id = list_length(substmt->subplans) + 1;
	subplan->plan_name = psprintf("SubPlan %d (%s)", subplan->plan_id, name);
	subplan->firstColType = firsttype;
	subplan->firstColTypmod = -1;
	subplan->firstColCollation = InvalidOid;
	subplan->useHashTable = false;
	subplan->unknownEqFalse = false;
	subplan->parallel_safe = false;
	subplan->setParam = setparams;
	subplan->parParam = NIL;
	subplan->args = NIL;
	subplan->startup_cost = plan->total_cost;
	subplan->per_call_cost = plan->total_cost;
	return subplan;
}

/*
 * Shift the range table indexes of a distributed plan's scan by n.
 */
void
sf_shift_scan_rtindexes(Plan *plan, int n)
{
	while (plan != NULL && !IsA(plan, CustomScan))
		plan = plan->lefttree;
	if (plan != NULL)
	{
		CustomScan *cscan = (CustomScan *) plan;
		ListCell   *lc;
		Bitmapset  *relids = NULL;
		int			x = -1;

		foreach(lc, cscan->custom_scan_tlist)
		{
			Var		   *v = (Var *) ((TargetEntry *) lfirst(lc))->expr;

			if (IsA(v, Var))
			{
				v->varno += n;
				v->varnosyn += n;
			}
		}
		while ((x = bms_next_member(cscan->custom_relids, x)) >= 0)
			relids = bms_add_member(relids, x + n);
		cscan->custom_relids = relids;
	}
}

/*
 * One statement of a distributed plan (stmt, its plan a CustomScan under
 * coordinator nodes) and a plan the coordinator runs as a SubPlan (plan,
 * over substmt's): substmt's range table first (its plan's indexes stay
 * valid; its relations keep their permission checks), then stmt's (its
 * scan shifted).  stmt's own PARAM_EXEC numbering must be empty.
 */
void
sf_merge_coordinator_plan(PlannedStmt *stmt, PlannedStmt *substmt, Plan *plan)
{
	int			nsubrt = list_length(substmt->rtable);

	Assert(stmt->paramExecTypes == NIL && stmt->subplans == NIL);
	sf_shift_scan_rtindexes(stmt->planTree, nsubrt);
	stmt->rtable = list_concat(list_copy(substmt->rtable), stmt->rtable);
	stmt->subplans = lappend(list_copy(substmt->subplans), plan);
	stmt->paramExecTypes = substmt->paramExecTypes;
	stmt->relationOids = list_concat(list_copy(substmt->relationOids),
									 stmt->relationOids);
	stmt->invalItems = list_concat(list_copy(substmt->invalItems),
								   stmt->invalItems);
	stmt->appendRelations = substmt->appendRelations;
	stmt->transientPlan = stmt->transientPlan || substmt->transientPlan;
	stmt->dependsOnRole = stmt->dependsOnRole || substmt->dependsOnRole;
}

/*
 * Plan parse (a SELECT, UPDATE or DELETE the strategies declined) with the
 * one uncorrelated subquery of its WHERE clause computed on the
 * coordinator (see the file header), or return NULL.
 */
PlannedStmt *
sf_plan_sublink_params(Query *parse)
{
	SublinkSearch search;
	SublinkReplace rep;
	SubLink    *sublink;
	Query	   *sub;
	Query	   *q;
	PlannedStmt *substmt;
	PlannedStmt *stmt;
	Plan	   *plan;
	SubPlan    *subplan;
	StableContext sc;
	Param	   *pexec;
	Expr	   *value;
	Oid			type;			/* of the value */
	Oid			firsttype;		/* of the SubPlan's first column */
	SubLinkType kind;
	bool		one_shard;
	int			base;

	if ((parse->commandType != CMD_SELECT &&
		 parse->commandType != CMD_UPDATE &&
		 parse->commandType != CMD_DELETE) ||
		!parse->hasSubLinks || parse->jointree->quals == NULL ||
		parse->rowMarks != NIL)
		return NULL;

	/* the statement's copy, whose sublink becomes a Param */
	q = copyObject(parse);
	memset(&search, 0, sizeof(search));
	(void) find_sublinks_walker(q->jointree->quals, &search);
	if (search.bad || list_length(search.found) != 1)
		return NULL;
	sublink = linitial(search.found);

	/* the coordinator's query: the subquery (EXISTS: its first row) */
	sub = copyObject((Query *) sublink->subselect);
	if (sublink->subLinkType == EXISTS_SUBLINK &&
		sub->limitCount == NULL && sub->limitOffset == NULL &&
		sub->setOperations == NULL && !sub->hasAggs && !sub->hasWindowFuncs &&
		sub->groupClause == NIL && sub->havingQual == NULL &&
		!sub->hasTargetSRFs)
	{
		sub->limitCount = (Node *) makeConst(INT8OID, -1, InvalidOid,
											 sizeof(int64), Int64GetDatum(1),
											 false, FLOAT8PASSBYVAL);
		sub->limitOption = LIMIT_OPTION_COUNT;
	}
	else if ((sublink->subLinkType == ANY_SUBLINK ||
			  sublink->subLinkType == ALL_SUBLINK) &&
			 sub->distinctClause == NIL && sub->sortClause == NIL &&
			 sub->limitCount == NULL && sub->limitOffset == NULL &&
			 sub->setOperations == NULL && !sub->hasTargetSRFs &&
			 list_length(sub->targetList) == 1)
	{
		/* IN / ANY / ALL: each value once (the workers group them) */
		TargetEntry *tle = linitial(sub->targetList);
		Oid			lt;
		Oid			eq;
		bool		hashable;

		get_sort_group_operators(exprType((Node *) tle->expr), false, false,
								 false, &lt, &eq, NULL, &hashable);
		if (OidIsValid(eq))
		{
			SortGroupClause *sgc = makeNode(SortGroupClause);

			sgc->tleSortGroupRef = assignSortGroupRef(tle, sub->targetList);
			sgc->eqop = eq;
			sgc->sortop = lt;
			sgc->nulls_first = false;
			sgc->hashable = hashable;
			sub->distinctClause = list_make1(sgc);
		}
	}
	substmt = planner(sub, NULL, 0, NULL);

	/* its value: one PARAM_EXEC set by an initplan-like SubPlan */
	plan = substmt->planTree;
	switch (sublink->subLinkType)
	{
		case EXISTS_SUBLINK:
			kind = EXISTS_SUBLINK;
			type = BOOLOID;
			break;
		case EXPR_SUBLINK:
			kind = EXPR_SUBLINK;
			type = exprType((Node *) sublink);
			break;
		case ARRAY_SUBLINK:
			kind = ARRAY_SUBLINK;
			type = exprType((Node *) sublink);
			firsttype = get_element_type(type);
			break;
		default:
			{
				/* ANY / ALL: the array of the values */
				TargetEntry *first = linitial(plan->targetlist);

				kind = EXPR_SUBLINK;
				type = get_array_type(exprType((Node *) first->expr));
				plan = sf_array_agg_plan(plan,
										 list_make1(sf_array_agg_entry(first, 0)));
				break;
			}
	}
	if (kind != ARRAY_SUBLINK)
		firsttype = type;
	pexec = makeNode(Param);
	pexec->paramkind = PARAM_EXEC;
	pexec->paramid = list_length(substmt->paramExecTypes);
	pexec->paramtype = type;
	pexec->paramtypmod = -1;
	pexec->paramcollid = InvalidOid;
	pexec->location = -1;
	substmt->paramExecTypes = lappend_oid(substmt->paramExecTypes, type);
	subplan = sf_make_initplan(substmt, plan, kind,
							   list_make1_int(pexec->paramid), firsttype,
							   "uncorrelated subquery");
	value = (Expr *) pexec;
	if (sublink->subLinkType == ANY_SUBLINK ||
		sublink->subLinkType == ALL_SUBLINK)
	{
		/* array_agg of no rows is NULL; IN of no rows is false */
		CoalesceExpr *c = makeNode(CoalesceExpr);

		c->coalescetype = type;
		c->coalescecollid = InvalidOid;
		c->args = list_make2(pexec,
							 makeConst(type, -1, InvalidOid, -1,
									   PointerGetDatum(construct_empty_array(get_element_type(type))),
									   false, false));
		c->location = -1;
		value = (Expr *) c;
	}

	/*
	 * The statement: the sublink replaced by an external Param numbered
	 * after the statement's own, computed with the stable expressions
	 * (the trigger of the SubPlan first, then the value).
	 */
	memset(&sc, 0, sizeof(sc));
	(void) sf_max_param_walker((Node *) parse, &sc);
	base = sc.maxparam + 1;
	rep.target = sublink;
	rep.param = makeNode(Param);
	rep.param->paramkind = PARAM_EXTERN;
	rep.param->paramid = base + 1;
	rep.param->paramtype = type;
	rep.param->paramtypmod = -1;
	/* a scalar's or an array's collation; none for EXISTS and ANY's array */
	rep.param->paramcollid = (sublink->subLinkType == EXPR_SUBLINK ||
							  sublink->subLinkType == ARRAY_SUBLINK) ?
		exprCollation((Node *) sublink) : InvalidOid;
	rep.param->location = -1;

	q->jointree->quals = replace_sublink_mutator(q->jointree->quals, &rep);
	q->hasSubLinks = checkExprHasSubLink((Node *) q);

	stmt = sf_plan_distributed_with(q, &one_shard,
									list_make2(sf_initplan_trigger(subplan),
											   value),
									base);
	if (stmt == NULL)
		return NULL;
	sf_merge_coordinator_plan(stmt, substmt, plan);
	return stmt;
}
