/*-------------------------------------------------------------------------
 *
 * subquery_graft.c
 *	  A SELECT the strategies declined, planned by PostgreSQL's planner with
 *	  its self-contained subqueries over distributed tables run as
 *	  distributed plans.
 *
 * When no strategy takes a SELECT as a whole (a LIMIT subquery in FROM,
 * whole rows of subqueries, aggregates over an ordered or DISTINCT
 * subquery, a CTE referenced twice...), its parts may still qualify: a
 * FROM subquery (or CTE) that refers to nothing outside itself is a
 * statement of its own.  sf_plan_grafted_subqueries, on a copy:
 *
 * - plans each such subquery (a FROM subquery at any level reached
 *   through FROM subqueries, not LATERAL, not a set operation's branch,
 *   reading distributed tables, no references to enclosing levels or
 *   their CTEs; not one PostgreSQL would pull up, nor one with a condition
 *   on it alone that PostgreSQL would push into it: better_inlined) with
 *   planner(), which runs the hook's strategies on it (and not this
 *   file again); one whose plan is a shardfdw scan (with the coordinator's
 *   Sort / Limit / Agg above it, without SubPlans or PARAM_EXEC values of
 *   its own) is kept, and the subquery becomes a MATERIALIZED CTE of its
 *   level (a top-level CTE over distributed tables stays a CTE, made
 *   MATERIALIZED), named "shardfdw_subquery_N": PostgreSQL plans a
 *   materialized CTE once, as a subplan, without pushing conditions into
 *   it or dropping its unused columns, so that subplan computes exactly
 *   the subquery's rows;
 * - plans the statement with the standard planner, then puts each kept
 *   plan in place of the subplan of its CTE (found through the CTE Scans'
 *   range table entries): its range table appended, its scan's indexes
 *   shifted, its plan node ids renumbered, its relations added to the
 *   plan's dependencies.
 *
 * The rest of the statement runs on the coordinator as before (the FDW
 * reads any other table); the CTE's rows come from the workers through
 * the distributed plan.  The result is the same: a materialized CTE
 * returns its query's rows, and the distributed plan returns the same
 * rows as PostgreSQL's plan of that query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "planner_internal.h"

/* a subquery kept: its CTE's name and its distributed plan */
typedef struct Graft
{
	char	   *ctename;
	PlannedStmt *stmt;
	bool		done;
} Graft;

typedef struct GraftState
{
	ParamListInfo boundParams;
	int			maxparam;		/* the statement's highest external Param */
	List	   *grafts;
} GraftState;

/* true while planning a subquery here: no grafts inside grafts */
static bool in_graft = false;

/* state of self_contained_walker */
typedef struct ContainedContext
{
	int			depth;
	bool		bad;
} ContainedContext;

/* does node refer to a query level above the subquery it is in? */
static bool
self_contained_walker(Node *node, ContainedContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup > ctx->depth)
		ctx->bad = true;
	else if (IsA(node, Aggref) && ((Aggref *) node)->agglevelsup > ctx->depth)
		ctx->bad = true;
	else if (IsA(node, GroupingFunc) &&
			 ((GroupingFunc *) node)->agglevelsup > ctx->depth)
		ctx->bad = true;
	else if (IsA(node, PlaceHolderVar) &&
			 ((PlaceHolderVar *) node)->phlevelsup > ctx->depth)
		ctx->bad = true;
	else if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_CTE && rte->ctelevelsup > ctx->depth)
			ctx->bad = true;
		return false;
	}
	if (ctx->bad)
		return true;
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, self_contained_walker,
								   ctx, QTW_EXAMINE_RTES_BEFORE);
		ctx->depth--;
		return result;
	}
	return expression_tree_walker(node, self_contained_walker, ctx);
}

static bool
self_contained(Query *sub)
{
	ContainedContext ctx;

	ctx.depth = 0;
	ctx.bad = false;
	(void) query_tree_walker(sub, self_contained_walker, &ctx,
							 QTW_EXAMINE_RTES_BEFORE);
	return !ctx.bad;
}

/* the shardfdw scan at the bottom of a distributed plan, or NULL */
static CustomScan *
distributed_scan(Plan *plan)
{
	while (plan != NULL && !IsA(plan, CustomScan))
	{
		if (plan->righttree != NULL || plan->initPlan != NIL ||
			!(IsA(plan, Sort) || IsA(plan, IncrementalSort) ||
			  IsA(plan, Limit) || IsA(plan, Agg) || IsA(plan, Unique) ||
			  IsA(plan, Result)))
			return NULL;
		plan = plan->lefttree;
	}
	if (plan == NULL ||
		strcmp(((CustomScan *) plan)->methods->CustomName, "shardfdw") != 0 ||
		((CustomScan *) plan)->custom_plans != NIL)
		return NULL;
	return (CustomScan *) plan;
}

/*
 * The distributed plan of sub (a copy is planned), or NULL when the
 * strategies decline it or its plan is not one this file can graft.
 */
static PlannedStmt *
plan_subquery(Query *sub, GraftState *st)
{
	PlannedStmt *stmt;
	StableContext sc;

	if (sub->commandType != CMD_SELECT || sub->utilityStmt != NULL ||
		sub->rowMarks != NIL || sub->hasModifyingCTE ||
		!sf_reads_distributed((Node *) sub) || !self_contained(sub))
		return NULL;

	/*
	 * Values the scan computes when it starts are Params numbered after
	 * the subquery's own: after the statement's too, as the scan's Params
	 * extend the statement's.
	 */
	memset(&sc, 0, sizeof(sc));
	(void) sf_max_param_walker((Node *) sub, &sc);
	if (sc.maxparam != st->maxparam)
		return NULL;

	in_graft = true;
	PG_TRY();
	{
		stmt = planner(copyObject(sub), NULL, 0, st->boundParams);
	}
	PG_FINALLY();
	{
		in_graft = false;
	}
	PG_END_TRY();
	if (stmt->subplans != NIL || stmt->paramExecTypes != NIL ||
		stmt->rowMarks != NIL || distributed_scan(stmt->planTree) == NULL)
		return NULL;
	return stmt;
}

/* the CTE of a kept subquery, at the level of q */
static CommonTableExpr *
make_cte(Query *sub, const char *name)
{
	CommonTableExpr *cte = makeNode(CommonTableExpr);
	ListCell   *lc;

	cte->ctename = pstrdup(name);
	cte->ctematerialized = CTEMaterializeAlways;
	cte->ctequery = (Node *) sub;
	cte->location = -1;
	cte->cterecursive = false;
	cte->cterefcount = 1;
	foreach(lc, sub->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		cte->ctecolnames = lappend(cte->ctecolnames,
								   makeString(pstrdup(tle->resname ? tle->resname : "?column?")));
		cte->ctecoltypes = lappend_oid(cte->ctecoltypes,
									   exprType((Node *) tle->expr));
		cte->ctecoltypmods = lappend_int(cte->ctecoltypmods,
										 exprTypmod((Node *) tle->expr));
		cte->ctecolcollations = lappend_oid(cte->ctecolcollations,
											exprCollation((Node *) tle->expr));
	}
	return cte;
}

/* state of rename_walker */
typedef struct RenameContext
{
	const char *from;
	const char *to;
	int			depth;
} RenameContext;

/* rename the references to a top-level CTE */
static bool
rename_walker(Node *node, RenameContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_CTE && rte->ctelevelsup == ctx->depth &&
			strcmp(rte->ctename, ctx->from) == 0)
			rte->ctename = pstrdup(ctx->to);
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, rename_walker, ctx,
								   QTW_EXAMINE_RTES_BEFORE);
		ctx->depth--;
		return result;
	}
	return expression_tree_walker(node, rename_walker, ctx);
}

/* conditions of a jointree (WHERE, every ON) naming only rti */
static bool
quals_on_rte_walk(Node *jtnode, Index rti)
{
	List	   *quals = NIL;
	ListCell   *lc;

	if (jtnode == NULL || IsA(jtnode, RangeTblRef))
		return false;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;

		foreach(lc, f->fromlist)
			if (quals_on_rte_walk(lfirst(lc), rti))
				return true;
		quals = make_ands_implicit((Expr *) f->quals);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		if (quals_on_rte_walk(j->larg, rti) || quals_on_rte_walk(j->rarg, rti))
			return true;
		quals = make_ands_implicit((Expr *) j->quals);
	}
	foreach(lc, quals)
	{
		Relids		varnos = pull_varnos(NULL, lfirst(lc));

		if (bms_is_member(rti, varnos) && bms_num_members(varnos) == 1)
			return true;
	}
	return false;
}

/*
 * Would PostgreSQL's planner read fewer rows of the subquery rti of q than
 * its materialized CTE gives?  A simple subquery is pulled up (conditions
 * and joins apply to its tables); conditions on it alone are pushed into
 * it, except below LIMIT / OFFSET.  Such subqueries are not grafted: the
 * FDW path with the conditions may read less than the whole subquery.
 */
static bool
better_inlined(Query *q, Index rti, Query *sub)
{
	if (!(sub->hasAggs || sub->groupClause != NIL ||
		  sub->groupingSets != NIL || sub->havingQual != NULL ||
		  sub->distinctClause != NIL || sub->hasWindowFuncs ||
		  sub->limitCount != NULL || sub->limitOffset != NULL ||
		  sub->setOperations != NULL || sub->hasTargetSRFs))
		return true;
	if (sub->limitCount != NULL || sub->limitOffset != NULL)
		return false;
	return quals_on_rte_walk((Node *) q->jointree, rti);
}

/* a new Graft for stmt, its CTE named shardfdw_subquery_N */
static Graft *
add_graft(GraftState *st, PlannedStmt *stmt)
{
	Graft	   *g = palloc0(sizeof(Graft));

	g->ctename = psprintf("shardfdw_subquery_%d", list_length(st->grafts) + 1);
	g->stmt = stmt;
	st->grafts = lappend(st->grafts, g);
	return g;
}

/*
 * The branch of a set operation whose CTE is cte (of the set operation's
 * level): SELECT its columns FROM that CTE, one level up.  The set
 * operation refers to its branches as subqueries, so the branch stays one.
 */
static Query *
branch_of_cte(CommonTableExpr *cte)
{
	Query	   *wrap = makeNode(Query);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	ListCell   *lt,
			   *lm,
			   *lc,
			   *ln;
	AttrNumber	attno = 0;

	rte->rtekind = RTE_CTE;
	rte->ctename = pstrdup(cte->ctename);
	rte->ctelevelsup = 1;
	rte->self_reference = false;
	rte->coltypes = cte->ctecoltypes;
	rte->coltypmods = cte->ctecoltypmods;
	rte->colcollations = cte->ctecolcollations;
	rte->eref = makeAlias(cte->ctename, list_copy(cte->ctecolnames));
	rte->inh = false;
	rte->inFromCl = true;

	wrap->commandType = CMD_SELECT;
	wrap->querySource = QSRC_ORIGINAL;
	wrap->canSetTag = true;
	wrap->rtable = list_make1(rte);
	wrap->jointree = makeFromExpr(list_make1(makeNode(RangeTblRef)), NULL);
	((RangeTblRef *) linitial(wrap->jointree->fromlist))->rtindex = 1;
	forfour(lt, cte->ctecoltypes, lm, cte->ctecoltypmods,
			lc, cte->ctecolcollations, ln, cte->ctecolnames)
	{
		attno++;
		wrap->targetList =
			lappend(wrap->targetList,
					makeTargetEntry((Expr *) makeVar(1, attno, lfirst_oid(lt),
													 lfirst_int(lm),
													 lfirst_oid(lc), 0),
									attno, pstrdup(strVal(lfirst(ln))),
									false));
	}
	return wrap;
}

/*
 * Turn the kept subqueries of q's level (and below) into CTEs.  A set
 * operation's branches (branches_ok: nothing of an enclosing level would
 * be pushed into them, as at the top level, in a set operation's branch
 * or in a FROM subquery without conditions on it alone; a top-level CTE
 * graft_ctes would graft) become SELECT * FROM their CTE.
 */
static void
graft_level(Query *q, GraftState *st, bool branches_ok)
{
	ListCell   *lc;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		Index		rti = foreach_current_index(lc) + 1;
		PlannedStmt *stmt;
		CommonTableExpr *cte;
		Graft	   *g;
		ListCell   *lc2;

		if (rte->rtekind != RTE_SUBQUERY)
			continue;
		if (q->setOperations != NULL)
		{
			/* a branch: grafted whole, else its own parts */
			if (!branches_ok || rte->lateral ||
				(stmt = plan_subquery(rte->subquery, st)) == NULL)
			{
				graft_level(rte->subquery, st,
							branches_ok && rte->subquery->setOperations != NULL);
				continue;
			}
			g = add_graft(st, stmt);
			cte = make_cte(rte->subquery, g->ctename);
			q->cteList = lappend(q->cteList, cte);
			rte->subquery = branch_of_cte(cte);
			continue;
		}
		if (rte->lateral ||
			better_inlined(q, rti, rte->subquery) ||
			(stmt = plan_subquery(rte->subquery, st)) == NULL)
		{
			graft_level(rte->subquery, st,
						!rte->lateral && rte->subquery->setOperations != NULL &&
						!quals_on_rte_walk((Node *) q->jointree, rti));
			continue;
		}
		g = add_graft(st, stmt);
		cte = make_cte(rte->subquery, g->ctename);
		q->cteList = lappend(q->cteList, cte);
		rte->rtekind = RTE_CTE;
		rte->ctename = pstrdup(g->ctename);
		rte->ctelevelsup = 0;
		rte->self_reference = false;
		rte->coltypes = cte->ctecoltypes;
		rte->coltypmods = cte->ctecoltypmods;
		rte->colcollations = cte->ctecolcollations;
		rte->subquery = NULL;
		rte->security_barrier = false;
		foreach(lc2, cte->ctecolnames)
			if (list_length(rte->eref->colnames) < foreach_current_index(lc2) + 1)
				rte->eref->colnames = lappend(rte->eref->colnames, lfirst(lc2));
	}
}

/*
 * A CTE referenced once, which PostgreSQL inlines: graftable when that
 * reference is in the top level's FROM and the subquery it becomes would
 * be grafted (better_inlined).
 */
static bool
inlined_cte_graftable(Query *q, CommonTableExpr *cte)
{
	ListCell   *lc;

	if (q->setOperations != NULL)
		return false;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0 &&
			strcmp(rte->ctename, cte->ctename) == 0)
			return !rte->lateral &&
				!better_inlined(q, foreach_current_index(lc) + 1,
								(Query *) cte->ctequery);
	}
	return false;
}

/* the top level's CTEs over distributed tables, each planned as above */
static void
graft_ctes(Query *q, GraftState *st)
{
	ListCell   *lc;

	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);
		PlannedStmt *stmt;
		Graft	   *g;
		RenameContext rc;

		/*
		 * A CTE PostgreSQL inlines is a subquery (above): only when the
		 * top level refers to it and it would be grafted as a subquery
		 */
		if (cte->cterecursive || cte->cterefcount == 0 ||
			!IsA(cte->ctequery, Query) ||
			(cte->cterefcount == 1 &&
			 cte->ctematerialized != CTEMaterializeAlways &&
			 !inlined_cte_graftable(q, cte)) ||
			cte->ctematerialized == CTEMaterializeNever)
			continue;
		if ((stmt = plan_subquery((Query *) cte->ctequery, st)) == NULL)
		{
			/*
			 * A set operation declined as a whole: its branches, into which
			 * nothing is pushed here either
			 */
			if (((Query *) cte->ctequery)->setOperations != NULL)
				graft_level((Query *) cte->ctequery, st, true);
			continue;
		}
		g = add_graft(st, stmt);
		rc.from = cte->ctename;
		rc.to = g->ctename;
		rc.depth = -1;
		(void) rename_walker((Node *) q, &rc);
		cte->ctename = pstrdup(g->ctename);
		cte->ctematerialized = CTEMaterializeAlways;
	}
}

/* the highest plan_node_id in a plan tree */
static void
plan_ids(Plan *plan, int *maxid, PlannedStmt *stmt, List *grafts,
		 bool *ok);

static void
plan_list_ids(List *plans, int *maxid, PlannedStmt *stmt, List *grafts,
			  bool *ok)
{
	ListCell   *lc;

	foreach(lc, plans)
		plan_ids(lfirst(lc), maxid, stmt, grafts, ok);
}

/*
 * Walk a plan tree: the highest plan_node_id, and for each CTE Scan of a
 * kept subquery, its subplan replaced (grafts non-NIL).  *ok is false when
 * a node of an unknown kind with children is met.
 */
static void
plan_ids(Plan *plan, int *maxid, PlannedStmt *stmt, List *grafts, bool *ok)
{
	if (plan == NULL)
		return;
	*maxid = Max(*maxid, plan->plan_node_id);
	switch (nodeTag(plan))
	{
		case T_Append:
			plan_list_ids(((Append *) plan)->appendplans, maxid, stmt, grafts, ok);
			break;
		case T_MergeAppend:
			plan_list_ids(((MergeAppend *) plan)->mergeplans, maxid, stmt, grafts, ok);
			break;
		case T_BitmapAnd:
			plan_list_ids(((BitmapAnd *) plan)->bitmapplans, maxid, stmt, grafts, ok);
			break;
		case T_BitmapOr:
			plan_list_ids(((BitmapOr *) plan)->bitmapplans, maxid, stmt, grafts, ok);
			break;
		case T_SubqueryScan:
			plan_ids(((SubqueryScan *) plan)->subplan, maxid, stmt, grafts, ok);
			break;
		case T_CustomScan:
			plan_list_ids(((CustomScan *) plan)->custom_plans, maxid, stmt, grafts, ok);
			break;
		case T_ModifyTable:
			*ok = false;
			break;
		case T_CteScan:
			if (grafts != NIL)
			{
				CteScan    *cs = (CteScan *) plan;
				RangeTblEntry *rte = rt_fetch(cs->scan.scanrelid, stmt->rtable);
				ListCell   *lc;

				foreach(lc, grafts)
				{
					Graft	   *g = lfirst(lc);

					if (rte->rtekind == RTE_CTE && !g->done &&
						strcmp(rte->ctename, g->ctename) == 0)
					{
						int			offset = list_length(stmt->rtable);
						PlannedStmt *sub = g->stmt;

						sf_shift_scan_rtindexes(sub->planTree, offset);
						stmt->rtable = list_concat(stmt->rtable, sub->rtable);
						stmt->relationOids = list_concat(stmt->relationOids,
														 sub->relationOids);
						stmt->invalItems = list_concat(stmt->invalItems,
													   sub->invalItems);
						stmt->transientPlan |= sub->transientPlan;
						stmt->dependsOnRole |= sub->dependsOnRole;
						list_nth_cell(stmt->subplans, cs->ctePlanId - 1)->ptr_value =
							sub->planTree;
						g->done = true;
					}
				}
			}
			break;
		default:
			break;
	}
	plan_ids(plan->lefttree, maxid, stmt, grafts, ok);
	plan_ids(plan->righttree, maxid, stmt, grafts, ok);
}

/* renumber the plan node ids of a grafted plan (a chain) after *next */
static void
renumber(Plan *plan, int *next)
{
	for (; plan != NULL; plan = plan->lefttree)
		plan->plan_node_id = ++(*next);
}

/*
 * Plan parse (a SELECT the strategies declined) with its self-contained
 * subqueries over distributed tables as distributed plans, or return NULL
 * (nothing to graft; the caller plans the statement as it is).
 */
PlannedStmt *
sf_plan_grafted_subqueries(Query *parse, int cursorOptions,
						   ParamListInfo boundParams,
						   planner_hook_type std_planner)
{
	GraftState st;
	StableContext sc;
	Query	   *q;
	PlannedStmt *stmt;
	ListCell   *lc;
	int			maxid = 0;
	bool		ok = true;

	if (in_graft || parse->commandType != CMD_SELECT ||
		parse->utilityStmt != NULL || parse->rowMarks != NIL ||
		parse->hasModifyingCTE || IsInParallelMode())
		return NULL;

	memset(&st, 0, sizeof(st));
	st.boundParams = boundParams;
	memset(&sc, 0, sizeof(sc));
	(void) sf_max_param_walker((Node *) parse, &sc);
	st.maxparam = sc.maxparam;

	q = copyObject(parse);
	graft_ctes(q, &st);
	graft_level(q, &st, true);
	if (st.grafts == NIL)
		return NULL;

	stmt = std_planner(q, NULL, cursorOptions, boundParams);

	/* the highest plan node id, then the grafts (ids after it) */
	plan_ids(stmt->planTree, &maxid, stmt, NIL, &ok);
	plan_list_ids(stmt->subplans, &maxid, stmt, NIL, &ok);
	if (!ok)
		return NULL;
	foreach(lc, st.grafts)
		renumber(((Graft *) lfirst(lc))->stmt->planTree, &maxid);
	plan_ids(stmt->planTree, &maxid, stmt, st.grafts, &ok);
	plan_list_ids(list_copy(stmt->subplans), &maxid, stmt, st.grafts, &ok);
	return stmt;
}
