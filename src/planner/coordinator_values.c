/*-------------------------------------------------------------------------
 *
 * coordinator_values.c
 *	  Values the coordinator computes when the scan starts and sends as
 *	  literals: one-row INSERT values and stable Var-free expressions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/lsyscache.h"

/* walker of sf_prepare_insert_values: true if node needs a row or a subquery */
static bool
not_pre_evaluable(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	if (IsA(node, Var) || IsA(node, SubLink) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, Query) || IsA(node, SetToDefault) ||
		IsA(node, CurrentOfExpr))
		return true;
	return expression_tree_walker(node, not_pre_evaluable, context);
}

/*
 * A multi-row INSERT ... VALUES into a distributed table whose target list
 * also has entries that do not come from the VALUES lists (the defaults of
 * the columns the statement does not name, added by the rewriter): move
 * each such expression into every row as one more VALUES column, so that
 * the statement deparsed for a shard lists exactly as many values as
 * columns.  Local evaluation is the same: a default is evaluated once per
 * row either way.  Returns false, changing nothing, when an entry refers
 * to the rows themselves or to another relation.
 */
bool
sf_fold_defaults_into_values(Query *parse)
{
	RangeTblEntry *values_rte = NULL;
	Index		values_rti = 0;
	ListCell   *lc;

	if (parse->commandType != CMD_INSERT || parse->resultRelation <= 0 ||
		!sf_is_distributed_table(rt_fetch(parse->resultRelation,
										  parse->rtable)->relid))
		return true;
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;

		if (!tle->resjunk && IsA(var, Var) && var->varlevelsup == 0 &&
			rt_fetch(var->varno, parse->rtable)->rtekind == RTE_VALUES)
		{
			values_rti = var->varno;
			values_rte = rt_fetch(var->varno, parse->rtable);
			break;
		}
	}
	if (values_rte == NULL)
		return true;

	/* first check, then change */
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;

		if (tle->resjunk ||
			(IsA(var, Var) && var->varlevelsup == 0 && var->varno == values_rti))
			continue;
		if (contain_vars_of_level((Node *) tle->expr, 0) ||
			expression_returns_set((Node *) tle->expr))
			return false;
	}
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		Var		   *var = (Var *) expr;
		ListCell   *lr;
		AttrNumber	attno;

		if (tle->resjunk ||
			(IsA(var, Var) && var->varlevelsup == 0 && var->varno == values_rti))
			continue;
		foreach(lr, values_rte->values_lists)
			lfirst(lr) = lappend((List *) lfirst(lr), copyObject(expr));
		values_rte->coltypes = lappend_oid(values_rte->coltypes, exprType(expr));
		values_rte->coltypmods = lappend_int(values_rte->coltypmods,
											 exprTypmod(expr));
		values_rte->colcollations = lappend_oid(values_rte->colcollations,
												exprCollation(expr));
		attno = list_length(values_rte->coltypes);
		values_rte->eref->colnames = lappend(values_rte->eref->colnames,
											 makeString(psprintf("column%d", attno)));
		tle->expr = (Expr *) makeVar(values_rti, attno, exprType(expr),
									 exprTypmod(expr), exprCollation(expr), 0);
	}
	return true;
}

/*
 * A one-row INSERT ... VALUES evaluates each value once, so values that may
 * not be sent to a worker (nextval() of a serial default, now(), random(),
 * domain checks, user functions) can be computed on the coordinator when
 * the scan starts, exactly as a local INSERT would, and sent as literals.
 * Returns a copy of parse whose such values are NULL placeholders, and in
 * *preeval the original values (TargetEntry, by resno); or parse itself
 * when there is nothing to do.  The distribution column is left alone (it
 * must pin the shard at planning or from parameters).
 */
Query *
sf_prepare_insert_values(Query *parse, List **preeval)
{
	Query	   *copy;
	ListCell   *lc;
	AttrNumber	distattnum;
	RangeTblEntry *target;

	*preeval = NIL;
	if (parse->resultRelation <= 0 || parse->jointree == NULL ||
		parse->jointree->fromlist != NIL || parse->cteList != NIL)
		return parse;
	target = rt_fetch(parse->resultRelation, parse->rtable);
	distattnum = sf_distribution_attnum(target->relid);
	if (distattnum == InvalidAttrNumber)
		return parse;

	copy = NULL;
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		TargetEntry *placeholder;

		if (tle->resjunk || tle->resno == distattnum || IsA(expr, Const) ||
			not_pre_evaluable(expr, NULL) || expression_returns_set(expr))
			continue;
		/* only what the router would refuse to send */
		if (!contain_mutable_functions(expr) &&
			!sf_has_unshippable_function(expr) &&
			!IsA(expr, CoerceToDomain) && exprType(expr) < FirstGenbkiObjectId)
		{
			RouterContext probe;

			memset(&probe, 0, sizeof(probe));
			if (!sf_router_walker(expr, &probe))
				continue;
		}

		/*
		 * The planner may keep parts of its input in its plan, but parse
		 * must stay as it is (the standard planner gets it if the router
		 * declines): copy the Query and its target list, not the rest.
		 */
		if (copy == NULL)
		{
			copy = palloc(sizeof(Query));
			memcpy(copy, parse, sizeof(Query));
			copy->targetList = list_copy(parse->targetList);
		}
		*preeval = lappend(*preeval, tle);
		placeholder = flatCopyTargetEntry(tle);
		placeholder->expr = (Expr *) makeNullConst(exprType(expr),
												   exprTypmod(expr),
												   exprCollation(expr));
		lfirst(list_nth_cell(copy->targetList, foreach_current_index(lc))) =
			placeholder;
	}
	return copy ? copy : parse;
}

/* walker: highest external paramid of a statement */
bool
sf_max_param_walker(Node *node, StableContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, sf_max_param_walker, ctx, 0);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
		ctx->maxparam = Max(ctx->maxparam, ((Param *) node)->paramid);
	return expression_tree_walker(node, sf_max_param_walker, ctx);
}

/* check_functions_in_node callback: volatile? */
static bool
volatile_function(Oid funcid, void *context)
{
	return sf_func_volatile(funcid) == PROVOLATILE_VOLATILE;
}

/* walker: does an expression need evaluating on the coordinator? */
static bool
needs_coordinator_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SQLValueFunction))
		return true;
	if (sf_has_unshippable_function(node))
		return true;
	return expression_tree_walker(node, needs_coordinator_walker, context);
}

/* walker: may never be computed on the coordinator ahead of the rows */
static bool
not_stable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (sf_not_pin_walker_base(node))
		return true;
	if (IsA(node, NextValueExpr) ||
		check_functions_in_node(node, volatile_function, NULL))
		return true;
	return expression_tree_walker(node, not_stable_walker, context);
}

static Node *
stable_mutator(Node *node, StableContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, stable_mutator,
										   ctx, 0);
	if ((IsA(node, FuncExpr) || IsA(node, OpExpr) ||
		 IsA(node, DistinctExpr) || IsA(node, NullIfExpr) ||
		 IsA(node, ScalarArrayOpExpr) || IsA(node, SQLValueFunction) ||
		 IsA(node, CoerceViaIO) || IsA(node, ArrayCoerceExpr) ||
		 IsA(node, RelabelType) || IsA(node, CaseExpr) ||
		 IsA(node, CoalesceExpr) || IsA(node, MinMaxExpr) ||
		 IsA(node, BoolExpr) || IsA(node, NullTest) ||
		 IsA(node, BooleanTest) || IsA(node, ArrayExpr)) &&
		!expression_returns_set(node) &&
		needs_coordinator_walker(node, NULL) &&
		!not_stable_walker(node, NULL) &&
		exprType(node) < FirstGenbkiObjectId &&
		get_typtype(exprType(node)) != TYPTYPE_PSEUDO)
	{
		Param	   *p = makeNode(Param);

		p->paramkind = PARAM_EXTERN;
		p->paramid = ctx->base + list_length(ctx->exprs);
		p->paramtype = exprType(node);
		p->paramtypmod = exprTypmod(node);
		p->paramcollid = exprCollation(node);
		p->location = -1;
		ctx->exprs = lappend(ctx->exprs, copyObject(node));
		return (Node *) p;
	}
	return expression_tree_mutator(node, stable_mutator, ctx);
}

/* walker: does any expression of the statement, at any level, qualify? */
static bool
any_needs_coordinator_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, any_needs_coordinator_walker,
								 context, 0);
	if (IsA(node, SQLValueFunction) ||
		sf_has_unshippable_function(node))
		return true;
	return expression_tree_walker(node, any_needs_coordinator_walker, context);
}

/*
 * Expressions without column references, subqueries or aggregates whose
 * functions are stable (now(), CURRENT_DATE, to_char of a constant
 * timestamptz...) or not built in (but not volatile) have one value per
 * execution; PostgreSQL itself may compute them once.  They are replaced
 * by extra external Params (numbered after the statement's own) and
 * computed on the coordinator when the scan starts, so the rest of the
 * statement can go to workers.  Returns parse or a rewritten copy.
 */
Query *
sf_prepare_stable_exprs(Query *parse, RouterContext *rctx)
{
	StableContext ctx;
	Query	   *copy;

	/* most statements have none: do not copy them */
	if (!query_tree_walker(parse, any_needs_coordinator_walker, NULL, 0))
		return parse;

	memset(&ctx, 0, sizeof(ctx));
	(void) sf_max_param_walker((Node *) parse, &ctx);
	ctx.base = ctx.maxparam + 1;
	copy = query_tree_mutator(parse, stable_mutator, &ctx, 0);
	if (ctx.exprs == NIL)
		return parse;
	rctx->stable_exprs = ctx.exprs;
	rctx->stable_base = ctx.base;
	return copy;
}

