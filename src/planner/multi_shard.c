/*-------------------------------------------------------------------------
 *
 * multi_shard.c
 *	  Multi-shard statements: one task per shard (pruned by IN / = ANY),
 *	  Sort / Limit / combining Agg on the coordinator; UPDATE / DELETE per
 *	  shard.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/hash.h"
#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "executor.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

/*
 * What add_top_nodes puts above a multi-shard scan.
 */
typedef struct TopNodes
{
	List	   *sortclauses;	/* the coordinator's sort keys (SortGroupClause) */
	List	   *sortcols;		/* output positions of those keys */
	List	   *uniqclauses;	/* DISTINCT ON a non-key column: its clauses,
								 * the first keys of sortclauses */
	int			njunk;			/* trailing scan columns that are sort keys
								 * only (the top node marks them resjunk) */
	Agg		   *agg;			/* two-phase: the combining Agg, or NULL */
	bool		merge;			/* the scan merges sorted distinct values */
} TopNodes;

/*
 * A target list of Vars of varno over the columns of tlist.
 */
static List *
vars_over_tlist(List *tlist, int varno)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;

		out = lappend(out,
					  makeTargetEntry((Expr *) makeVar(varno, tle->resno,
													   exprType(expr),
													   exprTypmod(expr),
													   exprCollation(expr), 0),
									  tle->resno, tle->resname, false));
	}
	return out;
}

/*
 * The fields every node above the scan shares: its output (Vars over
 * out_tlist, the columns of the node below), its input, nominal costs.
 */
static void
top_node_header(Plan *plan, List *out_tlist, Plan *below)
{
	plan->targetlist = vars_over_tlist(out_tlist, OUTER_VAR);
	plan->lefttree = below;
	plan->startup_cost = 1;
	plan->total_cost = 2;
	plan->plan_rows = 1;
	plan->plan_width = 32;
}

/*
 * The nodes above a multi-shard scan: the combining Agg of a two-phase
 * aggregate, then a Sort (the statement's sort operators, collations and
 * NULLS order) over the rows of all shards (each already limited to its
 * top offset + count rows when LIMIT was pushed), for DISTINCT ON a
 * non-key column a Unique keeping the first row of each group of the
 * sorted rows, and a Limit.
 */
static Plan *
add_top_nodes(Query *parse, Plan *scan, List *scan_tlist, void *arg)
{
	TopNodes   *nodes = (TopNodes *) arg;
	Plan	   *top = scan;
	List	   *out_tlist = scan_tlist;

	if (nodes->merge)
		((CustomScan *) scan)->methods = &sf_merge_scan_methods;
	if (nodes->agg != NULL)
	{
		/* a Sort the Agg needs below it: over the scan's columns */
		if (nodes->agg->plan.lefttree != NULL)
		{
			Plan	   *sort = nodes->agg->plan.lefttree;

			sort->targetlist = vars_over_tlist(scan_tlist, OUTER_VAR);
			sort->lefttree = top;
			top = sort;
		}
		nodes->agg->plan.lefttree = top;
		top = (Plan *) nodes->agg;
		out_tlist = nodes->agg->plan.targetlist;
	}
	if (nodes->sortcols != NIL)
	{
		Sort	   *sort = makeNode(Sort);
		int			n = list_length(nodes->sortclauses);
		int			i = 0;
		ListCell   *lc;

		top_node_header(&sort->plan, out_tlist, top);
		sort->numCols = n;
		sort->sortColIdx = palloc(sizeof(AttrNumber) * n);
		sort->sortOperators = palloc(sizeof(Oid) * n);
		sort->collations = palloc(sizeof(Oid) * n);
		sort->nullsFirst = palloc(sizeof(bool) * n);
		foreach(lc, nodes->sortclauses)
		{
			SortGroupClause *sgc = lfirst(lc);
			TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);

			sort->sortColIdx[i] = list_nth_int(nodes->sortcols, i);
			sort->sortOperators[i] = sgc->sortop;
			sort->collations[i] = exprCollation((Node *) tle->expr);
			sort->nullsFirst[i] = sgc->nulls_first;
			i++;
		}
		top = (Plan *) sort;
	}
	if (nodes->uniqclauses != NIL)
	{
		Unique	   *uniq = makeNode(Unique);
		int			n = list_length(nodes->uniqclauses);
		int			i = 0;
		ListCell   *lc;

		top_node_header(&uniq->plan, out_tlist, top);
		uniq->numCols = n;
		uniq->uniqColIdx = palloc(sizeof(AttrNumber) * n);
		uniq->uniqOperators = palloc(sizeof(Oid) * n);
		uniq->uniqCollations = palloc(sizeof(Oid) * n);
		foreach(lc, nodes->uniqclauses)
		{
			SortGroupClause *sgc = lfirst(lc);
			TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);

			uniq->uniqColIdx[i] = list_nth_int(nodes->sortcols, i);
			uniq->uniqOperators[i] = sgc->eqop;
			uniq->uniqCollations[i] = exprCollation((Node *) tle->expr);
			i++;
		}
		top = (Plan *) uniq;
	}
	if (parse->limitCount != NULL || parse->limitOffset != NULL)
	{
		Limit	   *limit = makeNode(Limit);

		top_node_header(&limit->plan, out_tlist, top);
		limit->limitOffset = copyObject(parse->limitOffset);
		limit->limitCount = copyObject(parse->limitCount);
		limit->limitOption = LIMIT_OPTION_COUNT;
		top = (Plan *) limit;
	}
	if (nodes->njunk > 0)
	{
		/* sort keys the statement does not return: the junk filter drops them */
		int			n = list_length(top->targetlist);
		int			i = 0;
		ListCell   *lc;

		Assert(top != scan);
		foreach(lc, top->targetlist)
		{
			if (i++ >= n - nodes->njunk)
				((TargetEntry *) lfirst(lc))->resjunk = true;
		}
	}
	return top;
}

/*
 * Is range table entry rtindex on the nullable side of an outer join in the
 * jointree jtnode (nullable: jtnode itself is)?  Its columns are then NULL
 * in rows of every shard, so a group on them can span shards.
 */
bool
sf_nullable_rel(Node *jtnode, int rtindex, bool nullable)
{
	if (jtnode == NULL)
		return false;
	if (IsA(jtnode, RangeTblRef))
		return nullable && ((RangeTblRef *) jtnode)->rtindex == rtindex;
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (sf_nullable_rel(lfirst(lc), rtindex, nullable))
				return true;
		}
		return false;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		if (j->rtindex == rtindex)
			return nullable;
		return sf_nullable_rel(j->larg, rtindex,
							nullable || j->jointype == JOIN_RIGHT ||
							j->jointype == JOIN_FULL) ||
			sf_nullable_rel(j->rarg, rtindex,
						 nullable || j->jointype == JOIN_LEFT ||
						 j->jointype == JOIN_FULL);
	}
	return false;
}

/*
 * Does one of clauses (SortGroupClauses of parse's target list: GROUP BY,
 * DISTINCT, a window's PARTITION BY) name a column of the distribution
 * column's class distclass, outside the nullable side of an outer join?
 * Rows equal on the clauses are then rows of one shard.
 */
bool
sf_clauses_name_dist_column(Query *parse, List *clauses, List *distclass)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);
		Node	   *expr = sf_strip_relabel((Node *) tle->expr);
		ListCell   *lc2;

		if (!IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
			continue;
		foreach(lc2, distclass)
		{
			Var		   *v = lfirst(lc2);

			if (IsA(v, Var) && v->varno == ((Var *) expr)->varno &&
				v->varattno == ((Var *) expr)->varattno &&
				!sf_nullable_rel((Node *) parse->jointree, v->varno, false))
				return true;
		}
	}
	return false;
}

/*
 * SELECT DISTINCT of plain rows (no aggregates, windows or DISTINCT ON) as
 * the GROUP BY of its columns, which it is, so that the workers can group
 * and the coordinator combine the groups (two-phase, without aggregates).
 */
static Query *
distinct_as_group_by(Query *parse)
{
	Query	   *q;

	if (parse->distinctClause == NIL || parse->hasDistinctOn ||
		parse->hasAggs || parse->groupClause != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		parse->groupingSets != NIL)
		return parse;
	q = copyObject(parse);
	q->groupClause = q->distinctClause;
	q->distinctClause = NIL;
	return q;
}

/*
 * DISTINCT ON expressions other than the distribution column: each shard
 * keeps the first row of each of its groups (the worker query keeps the
 * DISTINCT ON and its ORDER BY), and the coordinator sorts the shards' rows
 * the same way and keeps the first row of each group again (a Unique over
 * top->sortclauses, whose first keys are top->uniqclauses): the first row of
 * a group over all shards is the first of its shards' first rows.  With
 * LIMIT, each shard's first offset + count rows suffice: in a shard, the
 * rows before a group's first row are first rows of earlier groups.  The
 * keys: the ORDER BY, then the DISTINCT ON expressions it does not list
 * (the parser puts those it lists first, in its order, with its operators;
 * anything else declines).
 */
static bool
distinct_on_keys(Query *parse, TopNodes *top)
{
	int			nsort = list_length(parse->sortClause);
	int			ndist = list_length(parse->distinctClause);
	int			i;

	for (i = 0; i < Min(nsort, ndist); i++)
	{
		SortGroupClause *s = list_nth(parse->sortClause, i);
		SortGroupClause *d = list_nth(parse->distinctClause, i);

		if (s->tleSortGroupRef != d->tleSortGroupRef || s->eqop != d->eqop ||
			!OidIsValid(d->eqop))
			return false;
	}
	top->sortclauses = list_copy(parse->sortClause);
	for (i = nsort; i < ndist; i++)
	{
		SortGroupClause *d = list_nth(parse->distinctClause, i);

		if (!OidIsValid(d->eqop))
			return false;
		top->sortclauses = lappend(top->sortclauses, d);
	}
	top->uniqclauses = parse->distinctClause;
	return true;
}

/*
 * Is expr (a LIMIT or OFFSET) absent or a bigint constant, not negative?  A
 * NULL one (LIMIT ALL, LIMIT NULL, OFFSET NULL) means no limit or offset, as
 * the executor's Limit reads it: *isnull says so.
 */
static bool
simple_limit(Node *expr, int64 *value, bool *isnull)
{
	*value = 0;
	*isnull = false;
	if (expr == NULL)
		return true;
	expr = eval_const_expressions(NULL, copyObject(expr));
	if (!IsA(expr, Const) || ((Const *) expr)->consttype != INT8OID)
		return false;
	if (((Const *) expr)->constisnull)
	{
		*isnull = true;
		return true;
	}
	*value = DatumGetInt64(((Const *) expr)->constvalue);
	return *value >= 0;
}

/*
 * The conjuncts that every output row satisfies: those of WHERE and of the
 * ON of inner joins, but not those below the nullable side of an outer join
 * (a row preserved by the outer join need not satisfy them).
 */
static void
collect_restricting_quals(Node *jtnode, List **quals)
{
	if (jtnode == NULL)
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		ListCell   *lc;

		foreach(lc, f->fromlist)
			collect_restricting_quals(lfirst(lc), quals);
		*quals = list_concat(*quals, make_ands_implicit((Expr *) f->quals));
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		switch (j->jointype)
		{
			case JOIN_INNER:
				collect_restricting_quals(j->larg, quals);
				collect_restricting_quals(j->rarg, quals);
				*quals = list_concat(*quals,
									 make_ands_implicit((Expr *) j->quals));
				break;
			case JOIN_LEFT:
				collect_restricting_quals(j->larg, quals);
				break;
			case JOIN_RIGHT:
				collect_restricting_quals(j->rarg, quals);
				break;
			default:
				break;
		}
	}
}

/* Is node (below RelabelTypes) a distribution column Var of the top level? */
static bool
is_top_distvar(Node *node, RouterContext *ctx)
{
	ListCell   *lc;

	node = sf_strip_relabel(node);
	if (!IsA(node, Var) || ((Var *) node)->varlevelsup != 0)
		return false;
	foreach(lc, ctx->top_distvars)
	{
		Var		   *dv = lfirst(lc);

		if (dv->varno == ((Var *) node)->varno &&
			dv->varattno == ((Var *) node)->varattno)
			return true;
	}
	return false;
}

/*
 * Shard pruning of a multi-shard statement: a conjunct that every output
 * row satisfies (collect_restricting_quals) of the form "dist = value",
 * "dist = ANY (array)" or "dist IN (values)" on the distribution column of
 * a distributed table of the top level keeps only rows of the shards those
 * values hash to; every output row is made of rows of one shard (the tables
 * are joined on the distribution column), so the other shards' tasks can be
 * skipped.  Several such conjuncts intersect.  Values with Params
 * ("= $1", "= ANY ($1)", "IN ($1, $2)") are noted in ctx->prune_exprs, for
 * the executor to prune with their values.  Returns the shard indexes to
 * run (at least one, so that an aggregate without GROUP BY still gets its
 * row), or NIL on failure.
 */
static List *
prune_shards(Query *parse, RouterContext *ctx)
{
	bool	   *keep = palloc(sizeof(bool) * ctx->shardcount);
	List	   *quals = NIL;
	List	   *result = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < ctx->shardcount; i++)
		keep[i] = true;
	collect_restricting_quals((Node *) parse->jointree, &quals);
	foreach(lc, quals)
	{
		Node	   *qual = lfirst(lc);
		Oid			opno;
		Oid			inputcollid;
		List	   *args;
		bool		is_array;
		Node	   *right;
		Oid			elemtype;
		Oid			hashfn;
		bool	   *hit;

		if (IsA(qual, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) qual)->useOr)
		{
			opno = ((ScalarArrayOpExpr *) qual)->opno;
			inputcollid = ((ScalarArrayOpExpr *) qual)->inputcollid;
			args = ((ScalarArrayOpExpr *) qual)->args;
			is_array = true;
		}
		else if (IsA(qual, OpExpr))
		{
			opno = ((OpExpr *) qual)->opno;
			inputcollid = ((OpExpr *) qual)->inputcollid;
			args = ((OpExpr *) qual)->args;
			is_array = false;
		}
		else
			continue;
		if (list_length(args) != 2 ||
			!op_in_opfamily(opno, ctx->opfamily) ||
			get_op_opfamily_strategy(opno, ctx->opfamily) != HTEqualStrategyNumber ||
			(OidIsValid(ctx->keycollation) && inputcollid != ctx->keycollation))
			continue;
		if (is_top_distvar(linitial(args), ctx))
			right = lsecond(args);
		else if (!is_array && is_top_distvar(lsecond(args), ctx))
			right = linitial(args);
		else
			continue;
		if (!sf_is_pin_value(right))
			continue;
		right = sf_simplify_pin(right);
		elemtype = is_array ? get_element_type(exprType(right)) :
			exprType(right);
		hashfn = OidIsValid(elemtype) ?
			sf_pin_hash_function(ctx, elemtype) : InvalidOid;
		if (!OidIsValid(hashfn))
			continue;
		if (!IsA(right, Const))
		{
			/* Params: pruned when the scan starts (SfRouterPruneExprs) */
			ctx->prune_exprs = lappend(ctx->prune_exprs,
									   list_make3(right,
												  makeInteger((int) hashfn),
												  makeInteger(is_array ? 1 : 0)));
			continue;
		}
		hit = palloc0(sizeof(bool) * ctx->shardcount);
		if (((Const *) right)->constisnull)
		{
			/* = NULL, = ANY (NULL): never true, no shard needed */
		}
		else if (!is_array)
			hit[sf_hash_remainder(hashfn, ctx->keycollation,
								  ((Const *) right)->constvalue, false,
								  ctx->shardcount)] = true;
		else
		{
			ArrayType  *array = DatumGetArrayTypeP(((Const *) right)->constvalue);
			int16		typlen;
			bool		typbyval;
			char		typalign;
			Datum	   *values;
			bool	   *nulls;
			int			n;

			get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
			deconstruct_array(array, elemtype, typlen, typbyval, typalign,
							  &values, &nulls, &n);
			for (i = 0; i < n; i++)
				if (!nulls[i])	/* NULL never equals */
					hit[sf_hash_remainder(hashfn, ctx->keycollation, values[i],
										  false, ctx->shardcount)] = true;
		}
		for (i = 0; i < ctx->shardcount; i++)
			keep[i] = keep[i] && hit[i];
	}
	for (i = 0; i < ctx->shardcount; i++)
		if (keep[i])
			result = lappend_int(result, i);
	if (result == NIL)
		result = list_make1_int(0);
	/* one task per shard, also when a split shard holds several indexes */
	return sf_shard_index_owners(ctx->anyrelid, result);
}

/* The plan of a multi-shard write: one task (statement) per shard */
static PlannedStmt *
dml_stmt(Query *parse, RouterContext *ctx, List *scan_tlist, List *colnames,
		 char *sql, Oid serverid, List *tasks, List *shards,
		 List *return_order)
{
	List	   *private = sf_make_private(parse, sql, -1, serverid, NULL,
										  InvalidOid, ctx,
										  SF_STRATEGY_MULTI_SHARD, tasks, NIL,
										  shards);

	lfirst(list_nth_cell(private, SfRouterReturnOrder)) = return_order;
	return sf_make_distributed_stmt(parse, ctx, scan_tlist, colnames, private,
									NULL, NULL);
}

/*
 * Does every row of a join tree node's result hold a row of a distributed
 * table (a table, or a FROM subquery reading one: shard_local.c keeps its
 * rows in their shards)?  Then, computed shard by shard, each row comes
 * from one shard only.
 */
static bool
anchored(Query *parse, Node *jtnode)
{
	if (IsA(jtnode, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) jtnode)->rtindex,
									  parse->rtable);

		if (rte->rtekind == RTE_RELATION)
			return sf_rte_distributed_table(rte) != NULL;
		return rte->rtekind == RTE_SUBQUERY &&
			sf_reads_distributed((Node *) rte->subquery);
	}
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (anchored(parse, lfirst(lc)))
				return true;
		}
		return false;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		switch (j->jointype)
		{
			case JOIN_INNER:
				return anchored(parse, j->larg) || anchored(parse, j->rarg);
			case JOIN_LEFT:
				return anchored(parse, j->larg);
			case JOIN_RIGHT:
				return anchored(parse, j->rarg);
			case JOIN_FULL:
				return anchored(parse, j->larg) && anchored(parse, j->rarg);
			default:
				return false;
		}
	}
	return false;
}

/*
 * With outer joins, may the reference tables of the top level be read
 * whole in every shard's task?  Each outer join's preserved sides must be
 * anchored: a row of a reference table there would find its matches in
 * one shard and be NULL-extended in all the others.  (D LEFT JOIN R is
 * fine, R LEFT JOIN D is not.)  The result must be anchored too.
 */
static bool
outer_joins_keep_shards_apart(Query *parse, Node *jtnode)
{
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (!outer_joins_keep_shards_apart(parse, lfirst(lc)))
				return false;
		}
		return true;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		if ((j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL) &&
			!anchored(parse, j->larg))
			return false;
		if ((j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL) &&
			!anchored(parse, j->rarg))
			return false;
		return outer_joins_keep_shards_apart(parse, j->larg) &&
			outer_joins_keep_shards_apart(parse, j->rarg);
	}
	return true;
}

/*
 * Reference tables and outer joins together: only as
 * outer_joins_keep_shards_apart allows, and with the reference tables at
 * the top level.
 */
static bool
reference_tables_fit(Query *parse, RouterContext *ctx)
{
	if (!ctx->has_reference || !ctx->outer_joins)
		return true;
	return outer_joins_keep_shards_apart(parse, (Node *) parse->jointree) &&
		anchored(parse, (Node *) parse->jointree) &&
		!sf_nested_level_rte(parse, sf_rte_is_reference);
}

/*
 * State of nullable_side_aggs_walker.
 */
typedef struct NullableAggsContext
{
	Relids		nullable;		/* range table indexes of the nullable side */
	bool		ok;
} NullableAggsContext;

/*
 * Does expr hold a Var of the top level's nullable side (a column or the
 * whole row of one of its tables)?
 */
static bool
nullable_var_walker(Node *node, NullableAggsContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup == 0 &&
			bms_is_member(((Var *) node)->varno, ctx->nullable);
	return expression_tree_walker(node, nullable_var_walker, ctx);
}

/*
 * Every aggregate of the statement ignores the rows where the nullable
 * side is NULL-extended: not count(*), and each argument a strict
 * expression (only strict functions and operators, no CASE, COALESCE...)
 * of a column of the nullable side, so NULL in such a row, which the
 * aggregates that can be split (two_phase_agg.c) skip.
 */
static bool
nullable_side_aggs_walker(Node *node, NullableAggsContext *ctx)
{
	if (node == NULL || !ctx->ok)
		return false;
	if (IsA(node, Aggref))
	{
		Aggref	   *agg = (Aggref *) node;
		ListCell   *lc;

		if (agg->aggstar || agg->args == NIL || agg->agglevelsup != 0)
			ctx->ok = false;
		foreach(lc, agg->args)
		{
			TargetEntry *tle = lfirst(lc);

			if (tle->resjunk)
				continue;
			if (contain_nonstrict_functions((Node *) tle->expr) ||
				!nullable_var_walker((Node *) tle->expr, ctx))
				ctx->ok = false;
		}
		return false;
	}
	if (IsA(node, Query))
	{
		ctx->ok = false;
		return false;
	}
	return expression_tree_walker(node, nullable_side_aggs_walker, ctx);
}

/*
 * A reference table preserved by an outer join with distributed tables,
 * aggregated: "SELECT t.name, count(e.id) FROM types t LEFT JOIN events e ON
 * e.type_id = t.id GROUP BY t.name".  Run shard by shard, each row of t
 * finds its matches in one shard and is NULL-extended in the others, so it
 * comes back once per shard; but a two-phase aggregate over it is exact
 * when
 *
 * - the FROM is the reference table (the preserved side: LEFT or RIGHT
 *   JOIN) outer-joined with a side that keeps the shards apart (anchored),
 *   and WHERE names the reference table only (no sublinks): every row of t
 *   it keeps comes back from every shard, matched or NULL-extended, as it
 *   comes back at least once from the whole tables, so the groups are the
 *   same;
 * - GROUP BY names the reference table only (the nullable side's NULL
 *   would be a group of its own wherever a row of t is NULL-extended);
 * - every aggregate skips the NULL-extended rows (nullable_side_aggs_walker),
 *   so the extra ones change nothing;
 * - no DISTINCT, windows, grouping sets, CTEs or sublinks.
 *
 * The caller then plans it as a two-phase aggregate whatever the GROUP BY
 * (grouping by a column joined with the key does not keep t's rows in one
 * shard).
 */
static bool
preserved_reference_aggregate(Query *parse, RouterContext *ctx)
{
	JoinExpr   *j;
	Node	   *kept;
	Node	   *nullable;
	RangeTblEntry *rte;
	int			keptrti;
	NullableAggsContext nc;
	ListCell   *lc;

	if (!parse->hasAggs || parse->hasWindowFuncs || parse->hasSubLinks ||
		parse->distinctClause != NIL || parse->groupingSets != NIL ||
		parse->cteList != NIL || parse->setOperations != NULL ||
		ctx->nested_distributed || ctx->mixed_colocation ||
		list_length(parse->jointree->fromlist) != 1 ||
		!IsA(linitial(parse->jointree->fromlist), JoinExpr))
		return false;
	j = linitial(parse->jointree->fromlist);
	if (j->alias != NULL || j->usingClause != NIL)
		return false;
	if (j->jointype == JOIN_LEFT)
	{
		kept = j->larg;
		nullable = j->rarg;
	}
	else if (j->jointype == JOIN_RIGHT)
	{
		kept = j->rarg;
		nullable = j->larg;
	}
	else
		return false;
	if (!IsA(kept, RangeTblRef))
		return false;
	keptrti = ((RangeTblRef *) kept)->rtindex;
	rte = rt_fetch(keptrti, parse->rtable);
	if (rte->rtekind != RTE_RELATION || !sf_rte_is_reference(rte) ||
		!anchored(parse, nullable) ||
		!outer_joins_keep_shards_apart(parse, nullable))
		return false;

	/* WHERE and GROUP BY: the reference table's columns only */
	if (!bms_is_subset(pull_varnos(NULL, parse->jointree->quals),
					   bms_make_singleton(keptrti)))
		return false;
	foreach(lc, parse->groupClause)
	{
		TargetEntry *tle = get_sortgroupclause_tle(lfirst(lc),
												   parse->targetList);

		if (!bms_is_subset(pull_varnos(NULL, (Node *) tle->expr),
						   bms_make_singleton(keptrti)))
			return false;
	}

	/* the aggregates: of the nullable side, skipping its NULL rows */
	nc.nullable = get_relids_in_jointree(nullable, false);
	nc.ok = true;
	(void) nullable_side_aggs_walker((Node *) parse->targetList, &nc);
	(void) nullable_side_aggs_walker(parse->havingQual, &nc);
	return nc.ok;
}

/*
 * The class of the top level that holds every distribution column of
 * ctx->top_distvars (for a single one: its class, or the Var alone), NIL
 * when they are not all in one class (not joined on the key).  Nested
 * levels reading distributed tables must then run inside each shard's task
 * (shard_local.c): FROM subqueries returning the key count as distribution
 * columns (ctx->top_distvars gets them, for pruning too), the other levels
 * are checked once the class is known.  *nested_ok is false when they
 * cannot.
 */
static List *
top_dist_class(Query *parse, RouterContext *ctx, bool *nested_ok)
{
	List	   *distclass = NIL;
	List	   *accepted = NIL;
	ListCell   *lc;

	*nested_ok = true;
	/* a top level reading distributed tables only through subqueries */
	if (ctx->top_classes == NIL)
		ctx->top_classes = sf_build_classes(ctx->top_quals, ctx, false);
	if (ctx->nested_distributed)
	{
		List	   *keyvars = NIL;

		if (!sf_from_subqueries_shard_local(parse, ctx, &keyvars, &accepted))
		{
			*nested_ok = false;
			return NIL;
		}
		ctx->top_distvars = list_concat_copy(ctx->top_distvars, keyvars);
	}

	foreach(lc, ctx->top_distvars)
	{
		Var		   *dv = lfirst(lc);
		List	   *found = NIL;
		ListCell   *lc2;

		foreach(lc2, ctx->top_classes)
		{
			List	   *c = lfirst(lc2);
			ListCell   *lc3;

			foreach(lc3, c)
			{
				Var		   *v = lfirst(lc3);

				if (IsA(v, Var) && v->varno == dv->varno &&
					v->varattno == dv->varattno)
					found = c;
			}
		}
		if (list_length(ctx->top_distvars) == 1)
		{
			distclass = found ? found : list_make1(dv);
			break;
		}
		if (found == NIL || (distclass != NIL && found != distclass))
			return NIL;
		distclass = found;
	}
	if (distclass != NIL && ctx->nested_distributed &&
		!sf_nested_levels_shard_local(parse, distclass, ctx, accepted))
	{
		*nested_ok = false;
		return NIL;
	}
	return distclass;
}

/*
 * Multi-shard UPDATE / DELETE: the statement runs on every shard (that
 * pruning keeps), each shard's statement on its own, as many at once as
 * there are workers; row counts add up, RETURNING rows are concatenated.
 * Same co-location rules as a multi-shard SELECT (every distributed table
 * joined to the target on the distribution column, none below the top
 * level); the analysis already refused triggers, a changed distribution
 * column and unshippable expressions.
 */
static PlannedStmt *
sf_plan_multi_shard_dml(Query *parse, RouterContext *ctx)
{
	List	   *scan_tlist;
	List	   *colnames = NIL;
	List	   *shards;
	List	   *tasks = NIL;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	bool		ok;
	bool		nested_ok;

	if (!shardfdw_enable_multi_shard_dml || ctx->mixed_colocation ||
		parse->hasModifyingCTE || parse->cteList != NIL ||
		!reference_tables_fit(parse, ctx))
		return NULL;

	/* one class holds every distribution column (nested levels: see there) */
	if (top_dist_class(parse, ctx, &nested_ok) == NIL)
		return NULL;

	scan_tlist = sf_scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;
	shards = prune_shards(parse, ctx);
	if (shards == NIL)
		return NULL;
	if (!ctx->has_params)
	{
		if (!sf_shard_tasks(parse, shards, &tasks, &sql, &serverid))
			return NULL;
	}
	return dml_stmt(parse, ctx, scan_tlist, colnames, sql, serverid, tasks,
					shards, NIL);
}

/*
 * A multi-row INSERT ... VALUES ... ON CONFLICT whose rows go to several
 * shards: one INSERT per shard with that shard's rows and the same ON
 * CONFLICT clause (the unique indexes live on the shards, and rows that
 * conflict with each other have the same key, so the same shard); row
 * counts add up.  RETURNING rows are returned in the order of the VALUES
 * rows, as applications (ORMs matching generated keys to the objects they
 * inserted) rely on (SfRouterReturnOrder, below).  The
 * distribution column of every row must be a constant (the analysis
 * checked that); statements with parameters or values the coordinator
 * computes at run time (now() defaults) are left to the single-shard
 * router (one shard) or refused with the error of check_on_conflict.
 */
PlannedStmt *
sf_plan_multi_shard_insert(Query *parse, RouterContext *ctx)
{
	RangeTblEntry *target = rt_fetch(parse->resultRelation, parse->rtable);
	const SfTable *table = sf_lookup_table(target->relid);
	RangeTblEntry *values_rte;
	Index		values_rti;
	AttrNumber	values_col;
	List	   *scan_tlist;
	List	   *colnames = NIL;
	List	   *shards = NIL;
	List	  **rows;
	List	   *row_shard = NIL;
	List	   *tasks = NIL;
	List	   *groups = NIL;
	List	   *return_order = NIL;
	List	   *all_rows;
	ListCell   *lc;
	ListCell   *lc2;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	bool		ok;
	bool		by_row;

	/*
	 * (A subquery over distributed tables in the rows would read the
	 * shards of each statement's own rows.)
	 */
	if (!shardfdw_enable_multi_shard_dml || table == NULL ||
		table->kind != SF_KIND_HASH || ctx->has_params ||
		ctx->stable_exprs != NIL || parse->cteList != NIL ||
		parse->hasModifyingCTE || ctx->nested_distributed)
		return NULL;

	/*
	 * RETURNING rows come back in the order of the VALUES rows.  DO UPDATE
	 * without WHERE returns one row per VALUES row, in order within each
	 * shard's statement: the coordinator interleaves them.  With DO NOTHING
	 * a row may return nothing, so each row is a statement of its own (a
	 * worker still gets its statements in one round trip); a row that
	 * conflicts with an earlier one of the statement does nothing there as
	 * it would here.  Not DO UPDATE ... WHERE: rows may return nothing, and
	 * in statements of their own two rows with the same key would update
	 * the row twice where one statement fails ("cannot affect row a second
	 * time").
	 */
	if (parse->returningList != NIL &&
		parse->onConflict->action == ONCONFLICT_UPDATE &&
		parse->onConflict->onConflictWhere != NULL)
		return NULL;
	by_row = (parse->returningList != NIL &&
			  parse->onConflict->action == ONCONFLICT_NOTHING);

	values_rte = sf_values_key_column(parse, table, &values_rti, &values_col);
	if (values_rte == NULL)
		return NULL;

	scan_tlist = sf_scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;

	/* the rows of each shard, by the shard holding their key */
	rows = palloc0(sizeof(List *) * ctx->shardcount);
	foreach(lc, values_rte->values_lists)
	{
		List	   *row = lfirst(lc);
		Node	   *v = sf_strip_relabel(list_nth(row, values_col - 1));
		int			index;

		if (sf_is_pin_value(v))
			v = sf_simplify_pin(v);
		if (!IsA(v, Const) ||
			(index = sf_const_shard_index(ctx, (Const *) v)) < 0)
			return NULL;
		index = sf_shard_index_owner(table, index);
		if (rows[index] == NIL)
			shards = lappend_int(shards, index);
		rows[index] = lappend(rows[index], row);
		row_shard = lappend_int(row_shard, index);
	}
	if (list_length(shards) < 2)
		return NULL;			/* one shard: the router's statement */
	list_sort(shards, list_int_cmp);

	/* the statements: (shard index, its rows), and the RETURNING order */
	if (by_row)
	{
		forboth(lc, values_rte->values_lists, lc2, row_shard)
		{
			groups = lappend(groups, list_make2(makeInteger(lfirst_int(lc2)),
												list_make1(lfirst(lc))));
			return_order = lappend_int(lappend_int(return_order,
												   foreach_current_index(lc)),
									   -1);
		}
	}
	else
	{
		foreach(lc, shards)
			groups = lappend(groups,
							 list_make2(makeInteger(lfirst_int(lc)),
										rows[lfirst_int(lc)]));
		if (parse->returningList != NIL)
		{
			/* each row: (its shard's task, its place in the task's rows) */
			int		   *task_of = palloc0(sizeof(int) * ctx->shardcount);
			int		   *seen = palloc0(sizeof(int) * ctx->shardcount);

			foreach(lc, shards)
				task_of[lfirst_int(lc)] = foreach_current_index(lc);
			foreach(lc, row_shard)
				return_order = lappend_int(lappend_int(return_order,
													   task_of[lfirst_int(lc)]),
										   seen[lfirst_int(lc)]++);
		}
	}

	/* each shard's statement: the same INSERT with that shard's rows */
	all_rows = values_rte->values_lists;
	PG_TRY();
	{
		foreach(lc, groups)
		{
			int			index = intVal(linitial((List *) lfirst(lc)));
			Oid			server;
			char	   *shardsql;

			values_rte->values_lists = lsecond((List *) lfirst(lc));
			shardsql = sf_shard_query_sql(parse, index, NULL, &server, true);
			if (shardsql == NULL)
			{
				tasks = NIL;
				break;
			}
			if (tasks == NIL)
			{
				sql = shardsql;
				serverid = server;
			}
			tasks = lappend(tasks, list_make2(makeInteger((int) server),
											  makeString(shardsql)));
		}
	}
	PG_FINALLY();
	{
		values_rte->values_lists = all_rows;
	}
	PG_END_TRY();
	if (tasks == NIL)
		return NULL;

	return dml_stmt(parse, ctx, scan_tlist, colnames, sql, serverid, tasks,
					shards, return_order);
}

/*
 * The statements of a merge of distinct values (distinct_merge.c), one per
 * worker: the non-NULL values of the shard queries' only column over all
 * the worker's shards, sorted by the column's default order (under the C
 * collation for a collatable type).  Not grouped: each shard's query
 * already groups unless the column is nearly unique, and a worker's sort
 * of nearly unique values is much cheaper than its grouping (a HashAgg
 * then a Sort); the coordinator skips repeated values.  A List of
 * (Integer server OID, String SQL).
 */
static List *
merge_statements(List *tasks, Oid collation)
{
	List	   *servers = NIL;
	List	   *bodies = NIL;
	List	   *stmts = NIL;
	ListCell   *lc;
	const char *coll = OidIsValid(collation) ? " COLLATE pg_catalog.\"C\"" : "";

	foreach(lc, tasks)
	{
		List	   *task = lfirst(lc);
		Oid			server = (Oid) intVal(linitial(task));
		char	   *sql = strVal(lsecond(task));
		ListCell   *lc2;
		StringInfo	body = NULL;

		foreach(lc2, servers)
			if (lfirst_oid(lc2) == server)
				body = list_nth(bodies, foreach_current_index(lc2));
		if (body == NULL)
		{
			body = makeStringInfo();
			servers = lappend_oid(servers, server);
			bodies = lappend(bodies, body);
		}
		else
			appendStringInfoString(body, " UNION ALL ");
		appendStringInfo(body, "(%s)", sql);
	}
	foreach(lc, servers)
	{
		StringInfo	body = list_nth(bodies, foreach_current_index(lc));

		stmts = lappend(stmts,
						list_make2(makeInteger((int) lfirst_oid(lc)),
								   makeString(psprintf("SELECT d.v%s FROM (%s) AS d(v) WHERE d.v IS NOT NULL ORDER BY 1",
													   coll, body->data))));
	}
	return stmts;
}

/*
 * Multi-shard pushdown of a SELECT: every distributed table at the top
 * level (none below it) co-located and joined on the distribution column
 * (an equivalence class that holds all their distribution columns), so each
 * shard's rows join only with rows of the same shard; reference tables
 * allowed except with outer joins (their unmatched rows would repeat per
 * shard).  Aggregates, window functions and DISTINCT run whole on workers
 * when grouped / partitioned / made distinct by the distribution column, so
 * that no group, window partition or duplicate spans shards; other
 * aggregates and DISTINCT of plain rows are two-phase.  A set operation
 * runs whole in each task when its branches do (shard_local.c).  No
 * grouping sets or row locks.  ORDER BY / LIMIT: each shard returns its top
 * offset + count rows, the coordinator sorts and limits.
 */
PlannedStmt *
sf_plan_multi_shard(Query *parse, RouterContext *ctx)
{
	List	   *scan_tlist;
	List	   *colnames = NIL;
	TopNodes	top = {NIL, NIL, NIL, 0, NULL, false};
	SfDistinctMerge merge = {InvalidOid, InvalidOid};
	List	   *private;
	List	   *shards;
	List	   *worker_tlist = NIL;
	List	   *worker_groups = NIL;
	List	   *distclass;
	ListCell   *lc;
	Query	   *worker;
	List	   *tasks = NIL;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	int64		count;
	int64		offset;
	bool		count_null;
	bool		offset_null;
	bool		preserved_reference = false;
	bool		ok;
	bool		nested_ok;

	if (parse->commandType == CMD_UPDATE || parse->commandType == CMD_DELETE)
		return sf_plan_multi_shard_dml(parse, ctx);
	if (parse->commandType != CMD_SELECT || parse->rowMarks != NIL ||
		parse->hasModifyingCTE || parse->groupingSets != NIL ||
		parse->hasTargetSRFs ||
		parse->limitOption != LIMIT_OPTION_COUNT ||
		!simple_limit(parse->limitCount, &count, &count_null) ||
		!simple_limit(parse->limitOffset, &offset, &offset_null))
		return NULL;

	/*
	 * Reference tables with outer joins: where each shard's rows decide, or
	 * aggregated over a reference table preserved by an outer join
	 */
	if (!reference_tables_fit(parse, ctx))
	{
		if (!shardfdw_enable_two_phase_agg ||
			!preserved_reference_aggregate(parse, ctx))
			return NULL;
		preserved_reference = true;
	}

	/* LIMIT ALL / NULL, OFFSET NULL: as if not written */
	if (count_null || offset_null)
	{
		parse = copyObject(parse);
		if (count_null)
			parse->limitCount = NULL;
		if (offset_null)
			parse->limitOffset = NULL;
	}

	/* tables of several co-location groups: a broadcast join or nothing */
	if (ctx->mixed_colocation)
		return sf_plan_broadcast_join(parse, ctx);

	/*
	 * A set operation runs whole in each shard's task when its branches
	 * do (shard_local.c); the top level then has no FROM, aggregates,
	 * windows or DISTINCT of its own, only ORDER BY / LIMIT, done on the
	 * coordinator as for any multi-shard SELECT (below).
	 */
	if (parse->setOperations != NULL)
	{
		if (!sf_set_operation_shard_local(parse, ctx))
			return NULL;
		distclass = NIL;
	}
	else
	{
		/*
		 * one class holds every distribution column of the top level
		 * (nested levels: see top_dist_class); if not, maybe a broadcast
		 * join
		 */
		distclass = top_dist_class(parse, ctx, &nested_ok);
		if (distclass == NIL)
			return nested_ok ? sf_plan_broadcast_join(parse, ctx) : NULL;
	}

	/*
	 * Window functions: each partition must be in one shard, so every
	 * window is partitioned by the distribution column.
	 */
	foreach(lc, parse->windowClause)
	{
		WindowClause *wc = lfirst(lc);

		if (!sf_clauses_name_dist_column(parse, wc->partitionClause, distclass))
			return NULL;
	}

	/*
	 * DISTINCT: equal rows in one shard (the distribution column is one of
	 * them), then each shard removes its duplicates; else plain rows are
	 * grouped on the workers and again on the coordinator (below).  DISTINCT
	 * ON keeps the first row of each group in ORDER BY order: the workers
	 * sort too (below); on other columns, the coordinator does it again
	 * over the shards' rows (distinct_on_keys).
	 */
	if (parse->distinctClause != NIL &&
		!sf_clauses_name_dist_column(parse, parse->distinctClause, distclass))
	{
		if (parse->hasDistinctOn)
		{
			if (!distinct_on_keys(parse, &top))
				return NULL;
		}
		else
		{
			parse = distinct_as_group_by(parse);
			if (parse->distinctClause != NIL)
				return NULL;
		}
	}
	if (top.uniqclauses == NIL)
		top.sortclauses = parse->sortClause;

	/*
	 * aggregation: the groups must not span shards (a distribution column
	 * on the nullable side of an outer join is NULL in rows of any shard)
	 */
	if (parse->hasAggs || parse->groupClause != NIL || parse->havingQual)
	{
		if (preserved_reference ||
			!sf_clauses_name_dist_column(parse, parse->groupClause, distclass))
		{
			if (!shardfdw_enable_two_phase_agg || parse->hasWindowFuncs ||
				parse->distinctClause != NIL)
				return NULL;
			/*
			 * merged distinct values: the statements are built here (no
			 * Params, no values computed when the scan starts)
			 */
			top.agg = sf_plan_two_phase(parse, ctx, distclass,
										&worker_tlist, &worker_groups,
										(shardfdw_enable_distinct_merge &&
										 !ctx->has_params &&
										 ctx->stable_exprs == NIL) ?
										&merge : NULL);
			top.merge = OidIsValid(merge.sortop);
			if (top.agg == NULL)
				return NULL;
		}
	}

	/* the coordinator's Agg cannot see the Params of stable expressions */
	if (top.agg != NULL && ctx->stable_exprs != NIL)
	{
		StableContext sc;

		memset(&sc, 0, sizeof(sc));
		(void) sf_max_param_walker((Node *) top.agg->plan.targetlist, &sc);
		(void) sf_max_param_walker((Node *) top.agg->plan.qual, &sc);
		if (sc.maxparam >= ctx->stable_base)
			return NULL;
	}

	/*
	 * The worker query: with LIMIT, each shard's top offset + count rows;
	 * without, no ORDER BY (the coordinator sorts anyway).  Two-phase: the
	 * partial aggregates, grouped, neither sorted nor limited.
	 */
	worker = copyObject(parse);
	worker->limitOffset = NULL;
	if (top.agg != NULL)
	{
		worker->targetList = worker_tlist;
		worker->groupClause = worker_groups;
		worker->havingQual = NULL;
		worker->sortClause = NIL;
		worker->limitCount = NULL;
	}
	else if (parse->limitCount != NULL)
	{
		if (count > PG_INT64_MAX - offset)
			return NULL;
		worker->limitCount = (Node *) makeConst(INT8OID, -1, InvalidOid, 8,
												Int64GetDatum(count + offset),
												false, FLOAT8PASSBYVAL);
	}
	else
	{
		worker->limitCount = NULL;
		if (!parse->hasDistinctOn)
			worker->sortClause = NIL;
	}

	/*
	 * Sort keys the statement does not return (ORDER BY created_at of
	 * SELECT id ..., a hidden DISTINCT ON expression): the workers return
	 * them too, after the statement's columns (the parser puts resjunk
	 * entries last), and the coordinator sorts on them and drops them (the
	 * executor's junk filter, below the top node's resjunk entries).  Not
	 * with two-phase aggregates, whose Agg makes the output.
	 */
	if (top.agg == NULL && top.sortclauses != NIL)
	{
		bool		junk = false;

		foreach(lc, worker->targetList)
		{
			TargetEntry *tle = lfirst(lc);

			if (tle->resjunk)
				junk = true;
			else if (junk)
				return NULL;
		}
		foreach(lc, top.sortclauses)
		{
			TargetEntry *tle = get_sortgroupclause_tle(lfirst(lc),
													   worker->targetList);

			if (tle->resjunk)
			{
				tle->resjunk = false;
				top.njunk++;
			}
		}
	}

	scan_tlist = sf_scan_output_columns(worker, &colnames, &ok);
	if (!ok)
		return NULL;

	/* ORDER BY: columns of the output, sorted again on the coordinator */
	foreach(lc, top.sortclauses)
	{
		SortGroupClause *sgc = lfirst(lc);
		List	   *tlist = top.agg ? parse->targetList : worker->targetList;
		TargetEntry *tle = get_sortgroupclause_tle(sgc, tlist);
		ListCell   *lc2;
		int			pos = 0;
		int			found = 0;

		if (tle->resjunk || !OidIsValid(sgc->sortop))
			return NULL;
		foreach(lc2, tlist)
		{
			TargetEntry *t = lfirst(lc2);

			if (t->resjunk)
				continue;
			pos++;
			if (t == tle)
				found = pos;
		}
		if (found == 0)
			return NULL;
		top.sortcols = lappend_int(top.sortcols, found);
	}

	/* the shards that can hold matching rows */
	shards = prune_shards(parse, ctx);
	if (shards == NIL)
		return NULL;

	/* with the statement's constants only, the tasks are known now */
	if (!ctx->has_params)
	{
		if (!sf_shard_tasks(worker, shards, &tasks, &sql, &serverid))
			return NULL;
	}

	private = sf_make_private(worker, sql, -1, serverid, NULL, InvalidOid, ctx,
							  top.agg ? SF_STRATEGY_TWO_PHASE :
							  SF_STRATEGY_MULTI_SHARD, tasks, NIL, shards);
	if (top.merge)
	{
		Assert(!ctx->has_params && list_length(private) == SfMergeStatements);
		private = lappend(private, merge_statements(tasks, merge.collation));
		private = lappend(private, makeInteger((int) merge.sortop));
		private = lappend(private, makeInteger((int) merge.collation));
	}
	return sf_make_distributed_stmt(parse, ctx, scan_tlist, colnames, private,
									add_top_nodes, &top);
}

/*
 * The tasks of a statement over the given shards, known at planning time
 * (no parameters): a List of (server as Integer, shard SQL as String) pairs,
 * in shard order, for custom_private.  *first_sql and *first_server get the
 * first task's, for EXPLAIN.  Returns false if a shard's query cannot be
 * built (the statement then runs another way).
 */
bool
sf_shard_tasks(Query *q, List *shards, List **tasks, char **first_sql,
			   Oid *first_server)
{
	ListCell   *lc;

	*tasks = NIL;
	foreach(lc, shards)
	{
		Oid			server;
		char	   *shardsql = sf_shard_query_sql(q, lfirst_int(lc), NULL,
												  &server, true);

		if (shardsql == NULL)
			return false;
		if (*tasks == NIL)
		{
			*first_sql = shardsql;
			*first_server = server;
		}
		*tasks = lappend(*tasks, list_make2(makeInteger((int) server),
											makeString(shardsql)));
	}
	return true;
}
