/*-------------------------------------------------------------------------
 *
 * broadcast_join.c
 *	  Joins of distributed tables that are not joined on the distribution
 *	  column: the small side is computed once on the coordinator and shipped
 *	  to every shard's task as arrays, the rest runs as a multi-shard (or
 *	  two-phase aggregate) statement.
 *
 * A SELECT whose distributed tables are not all in one equivalence class
 * of the distribution column cannot run shard by shard as it is.  When one
 * of them, S, is small once its own conditions are applied (the planner's
 * estimate from the parent's statistics, at most
 * shardfdw.broadcast_join_limit rows), and every other distributed table is
 * co-located and joined on the distribution column:
 *
 *	- the coordinator runs "SELECT the columns of S the statement uses FROM S
 *	  WHERE S's own conditions" (planned by the planner like any statement,
 *	  so it is usually a multi-shard scan itself) once per execution and
 *	  collects each column into an array (an Agg with array_agg over it);
 *	- S is replaced in the statement by the subquery (SELECT unnest($a1) AS
 *	  c1, NULL::t2 AS c2, ...) over those arrays (S's columns in place, the
 *	  unused ones NULL), which the executor computes when the scan starts
 *	  (as the stable expressions of coordinator_values.c: an initplan-like
 *	  SubPlan that fills one PARAM_EXEC value per column from its one row,
 *	  then one Param per column) and sends as literals;
 *	- the statement without S is planned by the multi-shard strategy: one
 *	  task per shard of the other tables, each joining its shard with all of
 *	  S, aggregates combined on the coordinator.
 *
 * Each row of the other tables lives in one shard and meets every row of S
 * there, so the joined rows are exactly those of the whole join.  S must
 * therefore be reachable from the top of the join tree through inner joins
 * only (S on the preserved side of an outer join would come back once per
 * shard).  S's columns are shipped only with built-in types that have an
 * array type, and their default collation; S may not be referenced from
 * subqueries.  S's conditions that mention S alone move to the coordinator's
 * query (they would be true of every shipped row anyway).
 *
 * The estimate needs statistics: a distributed table never analysed is
 * never broadcast.  Tables of another co-location group than the others
 * may be S (analysis.c marks such statements mixed_colocation).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "partitioning/partdesc.h"
#include "planner.h"
#include "planner_internal.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* GUC: largest estimated row count of a broadcast side; 0 turns it off */
int			shardfdw_broadcast_join_limit = 10000;

/*
 * What is known about the candidate small side.
 */
typedef struct BroadcastSide
{
	Index		rti;			/* S in the statement's range table */
	List	   *quals;			/* S's own conjuncts that move (pointers in
								 * the statement) */
	List	   *attnos;			/* S's columns shipped, in output order */
	double		rows;			/* estimated rows of S after quals */
} BroadcastSide;

/*
 * Register the GUC of broadcast joins (called by sf_planner_init).
 */
void
sf_broadcast_join_init(void)
{
	DefineCustomIntVariable("shardfdw.broadcast_join_limit",
							"Largest estimated row count of a table that is broadcast to every shard of a non-co-located join.",
							"A distributed table joined to others on a column that is not the distribution column is read once on the coordinator and sent to each shard's task when the planner estimates at most this many rows of it after its own conditions; 0 turns broadcast joins off.",
							&shardfdw_broadcast_join_limit,
							10000, 0, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/* Does a conjunct use Vars of rti only (at least one), at level 0? */
typedef struct OnlyRelContext
{
	Index		rti;
	int			parambase;		/* external Params below it are the
								 * statement's own */
	bool		other;
	bool		seen;
} OnlyRelContext;

static bool
only_rel_walker(Node *node, OnlyRelContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup == 0 && v->varno == ctx->rti)
			ctx->seen = true;
		else
			ctx->other = true;
		return false;
	}
	if (IsA(node, Param))
	{
		/* the statement's parameters, not the stable expressions' */
		if (((Param *) node)->paramkind != PARAM_EXTERN ||
			((Param *) node)->paramid >= ctx->parambase)
			ctx->other = true;
		return false;
	}
	if (IsA(node, SubLink) || IsA(node, Query) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, PlaceHolderVar))
	{
		ctx->other = true;
		return false;
	}
	return expression_tree_walker(node, only_rel_walker, ctx);
}

/* walker: Vars of rti at level 0 (or any level above: sublevels) */
typedef struct VarUseContext
{
	Index		rti;
	int			sublevels;
	bool		deep;			/* referenced from a subquery */
	Bitmapset  *attnos;			/* columns used at level 0 */
	List	   *skip;			/* conjuncts not to look into */
	Query	   *top;			/* the statement */
} VarUseContext;

static bool
var_use_walker(Node *node, VarUseContext *ctx)
{
	if (node == NULL)
		return false;
	if (ctx->sublevels == 0 && list_member_ptr(ctx->skip, node))
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup != ctx->sublevels)
			return false;
		if (v->varno == ctx->rti)
		{
			if (ctx->sublevels > 0)
				ctx->deep = true;
			else
				ctx->attnos = bms_add_member(ctx->attnos, v->varattno);
		}
		else if (rt_fetch(v->varno, ctx->top->rtable)->rtekind == RTE_JOIN)
		{
			/* a column of a join: what it stands for */
			RangeTblEntry *jrte = rt_fetch(v->varno, ctx->top->rtable);
			Node	   *alias;
			int			save = ctx->sublevels;
			bool		r;

			if (v->varattno <= 0 ||
				v->varattno > list_length(jrte->joinaliasvars))
			{
				ctx->deep = true;
				return false;
			}
			alias = list_nth(jrte->joinaliasvars, v->varattno - 1);
			if (ctx->sublevels > 0)
			{
				OnlyRelContext oc = {ctx->rti, 0, false, false};

				(void) only_rel_walker(alias, &oc);
				if (oc.seen)
					ctx->deep = true;
				return false;
			}
			ctx->sublevels = 0;
			r = var_use_walker(alias, ctx);
			ctx->sublevels = save;
			return r;
		}
		return false;
	}
	if (IsA(node, Query))
	{
		bool		r;

		ctx->sublevels++;
		r = query_tree_walker((Query *) node, var_use_walker, ctx,
							  QTW_IGNORE_JOINALIASES);
		ctx->sublevels--;
		return r;
	}
	return expression_tree_walker(node, var_use_walker, ctx);
}

/*
 * Find rti in the join tree; true if it is reached through inner joins
 * (and FROM lists) only.  *quals gets the conjuncts of the inner-only path
 * (WHERE, inner ON) that mention S alone; *found whether rti is there.
 */
static bool
inner_path(Node *jtnode, Index rti, int parambase, List **quals, bool *found)
{
	List	   *conj = NIL;
	ListCell   *lc;

	if (jtnode == NULL)
		return true;
	if (IsA(jtnode, RangeTblRef))
	{
		if ((Index) ((RangeTblRef *) jtnode)->rtindex == rti)
			*found = true;
		return true;
	}
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		bool		here = false;

		foreach(lc, f->fromlist)
		{
			bool		sub = false;

			if (!inner_path(lfirst(lc), rti, parambase, quals, &sub))
				return false;
			here = here || sub;
		}
		if (!here)
			return true;
		*found = true;
		conj = make_ands_implicit((Expr *) f->quals);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		bool		l = false;
		bool		r = false;

		if (!inner_path(j->larg, rti, parambase, quals, &l) ||
			!inner_path(j->rarg, rti, parambase, quals, &r))
			return false;
		if (!l && !r)
			return true;
		*found = true;
		if (j->jointype != JOIN_INNER)
			return false;
		conj = make_ands_implicit((Expr *) j->quals);
	}
	else
		return false;

	foreach(lc, conj)
	{
		OnlyRelContext oc = {rti, parambase, false, false};

		(void) only_rel_walker(lfirst(lc), &oc);
		if (oc.seen && !oc.other &&
			!contain_volatile_functions(lfirst(lc)))
			*quals = lappend(*quals, lfirst(lc));
	}
	return true;
}

/*
 * Remove the conjuncts in drop (pointer identity) from the quals of the
 * join tree.
 */
static Node *
drop_quals(Node *quals, List *drop)
{
	List	   *keep = NIL;
	ListCell   *lc;

	if (quals == NULL)
		return NULL;
	if (IsA(quals, BoolExpr) && ((BoolExpr *) quals)->boolop == AND_EXPR)
	{
		foreach(lc, ((BoolExpr *) quals)->args)
			if (!list_member_ptr(drop, lfirst(lc)))
				keep = lappend(keep, lfirst(lc));
		if (keep == NIL)
			return NULL;
		if (list_length(keep) == 1)
			return linitial(keep);
		return (Node *) makeBoolExpr(AND_EXPR, keep, -1);
	}
	if (IsA(quals, List))
	{
		foreach(lc, (List *) quals)
			if (!list_member_ptr(drop, lfirst(lc)))
				keep = lappend(keep, lfirst(lc));
		return (Node *) keep;
	}
	return list_member_ptr(drop, quals) ? NULL : quals;
}

static void
drop_quals_jointree(Node *jtnode, List *drop)
{
	ListCell   *lc;

	if (jtnode == NULL || IsA(jtnode, RangeTblRef))
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;

		foreach(lc, f->fromlist)
			drop_quals_jointree(lfirst(lc), drop);
		f->quals = drop_quals(f->quals, drop);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		drop_quals_jointree(j->larg, drop);
		drop_quals_jointree(j->rarg, drop);
		j->quals = drop_quals(j->quals, drop);
	}
}

/*
 * Estimated rows of relation rte (a distributed table, whose parent has
 * inherited statistics from ANALYZE) under quals (Vars of varno rti), from
 * the parent's reltuples and the selectivity of the quals.  -1 when the
 * parent was never analysed.
 */
static double
estimate_rows(Query *parse, Index rti, List *quals)
{
	RangeTblEntry *rte = rt_fetch(rti, parse->rtable);
	HeapTuple	tuple;
	double		reltuples;
	PlannerGlobal *glob;
	PlannerInfo *root;
	RelOptInfo *rel;
	Selectivity sel;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
	if (!HeapTupleIsValid(tuple))
		return -1;
	reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
	ReleaseSysCache(tuple);
	if (reltuples < 0)
		return -1;
	if (quals == NIL)
		return reltuples;

	/* just enough planner state for clauselist_selectivity on one rel */
	glob = makeNode(PlannerGlobal);
	root = makeNode(PlannerInfo);
	root->parse = parse;
	root->glob = glob;
	root->query_level = 1;
	root->planner_cxt = CurrentMemoryContext;
	root->wt_param_id = -1;
	setup_simple_rel_arrays(root);
	rel = build_simple_rel(root, rti, NULL);
	rel->tuples = reltuples;
	sel = clauselist_selectivity(root,
								 (List *) eval_const_expressions(root,
																 (Node *) copyObject(quals)),
								 0, JOIN_INNER, NULL);
	if (glob->partition_directory != NULL)
		DestroyPartitionDirectory(glob->partition_directory);
	return clamp_row_est(reltuples * sel);
}

/* Can values of a column of this type and collation go as an array literal? */
static bool
shippable_column(Oid type, Oid collation)
{
	if (type >= FirstGenbkiObjectId || !OidIsValid(get_array_type(type)) ||
		type_is_rowtype(type) || get_typtype(type) == TYPTYPE_PSEUDO)
		return false;
	return collation == get_typcollation(type);
}

/*
 * Choose the small side: a distributed table of the top level that is
 * reached by inner joins only and without which the other distributed
 * tables are in one class of the distribution column; the one with the
 * fewest estimated rows, at most the limit.  false if there is none.
 */
static bool
choose_side(Query *parse, RouterContext *ctx, int parambase,
			BroadcastSide *side)
{
	ListCell   *lc;
	bool		found = false;

	foreach(lc, ctx->top_distvars)
	{
		Var		   *dv = lfirst(lc);
		List	   *quals = NIL;
		List	   *attnos = NIL;
		bool		in_tree = false;
		List	   *distclass = NIL;
		ListCell   *lc2;
		VarUseContext vu;
		RangeTblEntry *rte = rt_fetch(dv->varno, parse->rtable);
		double		rows;
		int			attno;
		bool		ok = true;

		/* a FROM subquery's key column (shard_local.c) is no table */
		if (rte->rtekind != RTE_RELATION)
			continue;

		/* the others: one class */
		foreach(lc2, ctx->top_distvars)
		{
			Var		   *ov = lfirst(lc2);
			List	   *cls = NIL;
			ListCell   *lc3;

			if (ov == dv)
				continue;
			foreach(lc3, ctx->top_classes)
			{
				List	   *c = lfirst(lc3);
				ListCell   *lc4;

				foreach(lc4, c)
				{
					Var		   *v = lfirst(lc4);

					if (IsA(v, Var) && v->varno == ov->varno &&
						v->varattno == ov->varattno)
						cls = c;
				}
			}
			if (cls == NIL)
				cls = list_make1(ov);
			if (distclass != NIL && cls != distclass)
				ok = false;
			distclass = cls;
		}
		if (!ok || distclass == NIL)
			continue;

		if (!inner_path((Node *) parse->jointree, dv->varno, parambase,
						&quals, &in_tree) || !in_tree)
			continue;

		/* columns used elsewhere than in the moving conjuncts */
		memset(&vu, 0, sizeof(vu));
		vu.rti = dv->varno;
		vu.skip = quals;
		vu.top = parse;
		(void) query_tree_walker(parse, var_use_walker, &vu,
								 QTW_IGNORE_JOINALIASES);
		if (vu.deep)
			continue;
		attno = -1;
		while ((attno = bms_next_member(vu.attnos, attno)) >= 0)
		{
			Oid			type;
			int32		typmod;
			Oid			collation;

			if (attno <= 0)
			{
				ok = false;
				break;
			}
			get_atttypetypmodcoll(rte->relid, attno, &type, &typmod,
								  &collation);
			if (!shippable_column(type, collation))
			{
				ok = false;
				break;
			}
			attnos = lappend_int(attnos, attno);
		}
		/* every column keeps its place (NULL::type when not shipped) */
		for (attno = 1; ok && attno <= list_length(rte->eref->colnames);
			 attno++)
		{
			Oid			type;
			int32		typmod;
			Oid			collation;

			if (get_rte_attribute_is_dropped(rte, attno))
				ok = false;
			else
			{
				get_atttypetypmodcoll(rte->relid, attno, &type, &typmod,
									  &collation);
				if (type >= FirstGenbkiObjectId)
					ok = false;
			}
		}
		if (!ok)
			continue;
		/* nothing used (a cross join for the row count): the key column */
		if (attnos == NIL)
			attnos = list_make1_int(dv->varattno);

		rows = estimate_rows(parse, dv->varno, quals);
		if (rows < 0 || rows > shardfdw_broadcast_join_limit)
			continue;
		if (!found || rows < side->rows)
		{
			side->rti = dv->varno;
			side->quals = quals;
			side->attnos = attnos;
			side->rows = rows;
			found = true;
		}
	}
	return found;
}

/*
 * Plan a SELECT whose distributed tables are not all joined on the
 * distribution column as a broadcast join (see the file header), or
 * return NULL.  ctx is the analysis of parse (unpinned; its tables may be
 * of several co-location groups).
 */
PlannedStmt *
sf_plan_broadcast_join(Query *parse, RouterContext *ctx)
{
	BroadcastSide side;
	RangeTblEntry *srte;
	RangeTblEntry *frte;
	Query	   *sub;
	Query	   *worker;
	PlannedStmt *substmt;
	PlannedStmt *stmt;
	RouterContext wctx;
	StableContext sc;
	List	   *shipped = NIL;	/* Params of the shipped columns, in
								 * side.attnos order */
	List	   *colnames = NIL;
	Query	   *values;
	List	   *aggtlist = NIL;
	List	   *setparams = NIL;
	List	   *stable;
	ListCell   *lc;
	Plan	   *agg;
	SubPlan    *subplan;
	int			base;
	int			nparamexec;
	int			i;

	if (shardfdw_broadcast_join_limit <= 0 || ctx->no_broadcast ||
		parse->commandType != CMD_SELECT)
		return NULL;
	/* Params from base on are the stable expressions', then ours */
	if (ctx->stable_exprs != NIL)
		base = ctx->stable_base;
	else
	{
		memset(&sc, 0, sizeof(sc));
		(void) sf_max_param_walker((Node *) parse, &sc);
		base = sc.maxparam + 1;
	}
	memset(&side, 0, sizeof(side));
	if (!choose_side(parse, ctx, base, &side))
		return NULL;
	srte = rt_fetch(side.rti, parse->rtable);

	/*
	 * The coordinator's query: SELECT the shipped columns FROM S WHERE S's
	 * conjuncts.  Its planning goes through the planner hook again (so S,
	 * distributed, is read by a multi-shard scan).
	 */
	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = list_make1(copyObject(srte));
	{
		List	   *quals = copyObject(side.quals);

		ChangeVarNodes((Node *) quals, side.rti, 1, 0);
		sub->jointree = makeFromExpr(list_make1(makeNode(RangeTblRef)),
									 (Node *) make_ands_explicit(quals));
		((RangeTblRef *) linitial(sub->jointree->fromlist))->rtindex = 1;
		if (quals == NIL)
			sub->jointree->quals = NULL;
	}
	i = 0;
	foreach(lc, side.attnos)
	{
		AttrNumber	attno = lfirst_int(lc);
		Oid			type;
		int32		typmod;
		Oid			collation;
		char	   *name = get_attname(srte->relid, attno, false);

		get_atttypetypmodcoll(srte->relid, attno, &type, &typmod, &collation);
		i++;
		sub->targetList = lappend(sub->targetList,
								  makeTargetEntry((Expr *) makeVar(1, attno, type, typmod,
																   collation, 0),
												  i, name, false));
	}
	substmt = planner(sub, NULL, 0, NULL);

	/*
	 * The statement without S: S becomes ROWS FROM (unnest($a1), ...) of
	 * the arrays, Params numbered after the statement's own and its stable
	 * expressions'.
	 */
	stable = list_copy(ctx->stable_exprs);
	nparamexec = list_length(substmt->paramExecTypes);

	worker = copyObject(parse);
	{
		/* the moved conjuncts, found again in the copy by position */
		List	   *wquals = NIL;
		bool		found = false;

		(void) inner_path((Node *) worker->jointree, side.rti, base,
						  &wquals, &found);
		if (list_length(wquals) != list_length(side.quals))
			return NULL;
		drop_quals_jointree((Node *) worker->jointree, wquals);
	}
	frte = rt_fetch(side.rti, worker->rtable);

	/* the SubPlan filling the PARAM_EXEC values, then one Param each */
	stable = lappend(stable, NULL);	/* its trigger, set below */
	i = 0;
	foreach(lc, substmt->planTree->targetlist)
	{
		TargetEntry *tle = lfirst(lc);
		Oid			type = exprType((Node *) tle->expr);
		Oid			arraytype = get_array_type(type);
		Param	   *pexec = makeNode(Param);
		Param	   *pext = makeNode(Param);

		if (tle->resjunk)
			continue;
		aggtlist = lappend(aggtlist, sf_array_agg_entry(tle, i));
		pexec->paramkind = PARAM_EXEC;
		pexec->paramid = nparamexec + i;
		pexec->paramtype = arraytype;
		pexec->paramtypmod = -1;
		pexec->paramcollid = InvalidOid;
		pexec->location = -1;
		setparams = lappend_int(setparams, pexec->paramid);
		stable = lappend(stable, pexec);

		pext->paramkind = PARAM_EXTERN;
		pext->paramid = base + list_length(stable) - 1;
		pext->paramtype = arraytype;
		pext->paramtypmod = -1;
		pext->paramcollid = InvalidOid;
		pext->location = -1;
		shipped = lappend(shipped, pext);
		substmt->paramExecTypes = lappend_oid(substmt->paramExecTypes,
											  arraytype);
		i++;
	}
	if (i != list_length(side.attnos))
		return NULL;

	/*
	 * (SELECT unnest($a1) AS c1, NULL::t2 AS c2, ...) with S's columns in
	 * place (so that join RTEs and Vars keep their attribute numbers): the
	 * shipped ones from their Params (target-list set-returning functions
	 * run in lockstep), the others NULL.
	 */
	values = makeNode(Query);
	values->commandType = CMD_SELECT;
	values->querySource = QSRC_ORIGINAL;
	values->canSetTag = true;
	values->jointree = makeFromExpr(NIL, NULL);
	values->hasTargetSRFs = true;
	for (i = 1; i <= list_length(srte->eref->colnames); i++)
	{
		Oid			type;
		int32		typmod;
		Oid			collation;
		Node	   *arg = NULL;
		Node	   *expr;
		ListCell   *lc2;
		char	   *name = strVal(list_nth(srte->eref->colnames, i - 1));

		get_atttypetypmodcoll(srte->relid, i, &type, &typmod, &collation);
		forboth(lc, side.attnos, lc2, shipped)
			if (lfirst_int(lc) == i)
				arg = lfirst(lc2);
		if (arg != NULL)
		{
			FuncExpr   *unnest = makeFuncExpr(F_UNNEST_ANYARRAY, type,
											  list_make1(arg), collation,
											  InvalidOid,
											  COERCE_EXPLICIT_CALL);

			unnest->funcretset = true;
			expr = (Node *) unnest;
		}
		else
			expr = (Node *) makeNullConst(type, -1, collation);
		values->targetList = lappend(values->targetList,
									 makeTargetEntry((Expr *) expr, i,
													 pstrdup(name), false));
		colnames = lappend(colnames, makeString(pstrdup(name)));
	}

	frte->rtekind = RTE_SUBQUERY;
	frte->subquery = values;
	frte->relid = InvalidOid;
	frte->relkind = 0;
	frte->rellockmode = 0;
	frte->inh = false;
	frte->requiredPerms = 0;
	frte->selectedCols = NULL;
	frte->insertedCols = NULL;
	frte->updatedCols = NULL;
	frte->extraUpdatedCols = NULL;
	frte->alias = makeAlias(srte->alias ? srte->alias->aliasname :
							srte->eref->aliasname, NIL);
	frte->eref = makeAlias(frte->alias->aliasname, colnames);

	/* the coordinator's array_agg over the small side's rows */
	agg = sf_array_agg_plan(substmt->planTree, aggtlist);
	subplan = sf_make_initplan(substmt, agg, EXPR_SUBLINK, setparams,
							   BOOLOID,
							   psprintf("broadcast of %s",
										frte->alias->aliasname));
	lfirst(list_nth_cell(stable, list_length(ctx->stable_exprs))) =
		sf_initplan_trigger(subplan);

	/* the statement without S: multi-shard, or one shard */
	memset(&wctx, 0, sizeof(wctx));
	wctx.stable_exprs = stable;
	wctx.stable_base = base;
	wctx.top = worker;
	wctx.no_broadcast = true;
	(void) sf_router_walker((Node *) worker, &wctx);
	if (wctx.failed || !wctx.has_distributed || !wctx.unpinned)
		return NULL;
	stmt = sf_plan_multi_shard(worker, &wctx);
	if (stmt == NULL)
		return NULL;

	/* one statement: the small side's plan runs on the coordinator */
	sf_merge_coordinator_plan(stmt, substmt, agg);
	stmt->relationOids = list_append_unique_oid(stmt->relationOids,
												srte->relid);
	return stmt;
}
