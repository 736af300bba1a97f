/*-------------------------------------------------------------------------
 *
 * insert_select.c
 *	  INSERT ... SELECT between co-located distributed tables, one statement
 *	  per shard on the workers.
 *
 * When the value inserted into the target's distribution column is the
 * distribution column of a co-located table read by the SELECT, every row
 * the SELECT produces from shard i belongs in shard i of the target (same
 * hash function, same shard count, same servers), so "INSERT INTO
 * target_i SELECT ... FROM source_i ..." on each shard's worker does the
 * whole statement with no row crossing the network.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"

/* Is v a Var of the class c (a List of Vars and pinning values)? */
static bool
var_in_class(List *c, Var *v)
{
	ListCell   *lc;

	foreach(lc, c)
	{
		Var		   *item = lfirst(lc);

		if (IsA(item, Var) && item->varno == v->varno &&
			item->varattno == v->varattno && item->varlevelsup == 0)
			return true;
	}
	return false;
}

/*
 * expr without the coercions to the target column's type that parse
 * analysis puts above an INSERT's value (implicit format: the worker, given
 * the same SELECT for a column of the same type, applies the same ones).
 */
static Node *
strip_assignment_casts(Node *expr)
{
	for (;;)
	{
		if (IsA(expr, RelabelType) &&
			((RelabelType *) expr)->relabelformat == COERCE_IMPLICIT_CAST)
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceViaIO) &&
				 ((CoerceViaIO *) expr)->coerceformat == COERCE_IMPLICIT_CAST)
			expr = (Node *) ((CoerceViaIO *) expr)->arg;
		else if (IsA(expr, FuncExpr) &&
				 ((FuncExpr *) expr)->funcformat == COERCE_IMPLICIT_CAST &&
				 ((FuncExpr *) expr)->args != NIL)
			expr = linitial(((FuncExpr *) expr)->args);
		else
			return expr;
	}
}

/*
 * A value of an INSERT ... SELECT's target list that is not a column of the
 * SELECT (a column default the rewriter added, now() computed on the
 * coordinator as a Param) and may move into the SELECT: a constant, or a
 * Param, once immutable functions are folded.  NULL otherwise.
 */
static Expr *
movable_value(Expr *expr)
{
	Node	   *e = eval_const_expressions(NULL, (Node *) copyObject(expr));

	if (IsA(e, Const) ||
		(IsA(e, Param) && ((Param *) e)->paramkind == PARAM_EXTERN))
		return (Expr *) e;
	return NULL;
}

/*
 * The worker SQL prints an INSERT ... SELECT as written: target columns
 * (in attribute order) taking the SELECT's output columns (subquery RTE
 * rti) in order.  When parse's target columns take them in another order
 * (INSERT INTO t (b, a) SELECT ...) or some take a value of their own (a
 * default: movable_value), return a copy of parse whose SELECT lists
 * exactly the target columns' values in order, the moved values included,
 * with *key_attno (the output column of the distribution value) moved
 * along; else parse itself.
 */
static Query *
shape_select_output(Query *parse, Index rti, AttrNumber *key_attno)
{
	Query	   *copy;
	Query	   *sq;
	RangeTblEntry *srte;
	List	   *tlist = NIL;
	List	   *colnames = NIL;
	int			nout = 0;
	int			nvars = 0;
	int			n = list_length(parse->targetList);
	int		   *from;			/* output column of each target column, 0
								 * for a moved value */
	Expr	  **values;			/* the moved values */
	bool		changed = false;
	AttrNumber	key;
	int			i;
	ListCell   *lc;

	srte = rt_fetch(rti, parse->rtable);
	if (srte->rtekind != RTE_SUBQUERY || srte->subquery == NULL)
		return parse;
	foreach(lc, srte->subquery->targetList)
	{
		TargetEntry *t = lfirst(lc);

		if (t->resjunk)
			continue;
		/* the non-junk output columns come first, numbered 1..nout */
		if (t->resno != ++nout)
			return parse;
	}
	if (list_length(srte->eref->colnames) != nout)
		return parse;
	from = palloc0(sizeof(int) * (n + 1));
	values = palloc0(sizeof(Expr *) * (n + 1));
	i = 0;
	foreach(lc, parse->targetList)
	{
		TargetEntry *t = lfirst(lc);
		Var		   *v = (Var *) strip_assignment_casts((Node *) t->expr);

		i++;
		if (t->resjunk)
			return parse;
		if (IsA(v, Var) && v->varno == rti && v->varlevelsup == 0 &&
			v->varattno >= 1 && v->varattno <= nout)
		{
			for (int j = 1; j < i; j++)
				if (from[j] == v->varattno)
					return parse;
			from[i] = v->varattno;
			nvars++;
			if (from[i] != i)
				changed = true;
		}
		else if ((values[i] = movable_value(t->expr)) != NULL)
			changed = true;
		else
			return parse;
	}
	/*
	 * Output columns no target column takes: unknown-type literals, which
	 * parse analysis copies up into the INSERT's target list (to coerce
	 * them to the column's type there: INSERT ... SELECT 'x'); they become
	 * hidden columns of the SELECT.
	 */
	if (nvars != nout)
	{
		foreach(lc, srte->subquery->targetList)
		{
			TargetEntry *t = lfirst(lc);
			bool		used = false;

			for (i = 1; i <= n; i++)
				if (from[i] == t->resno)
					used = true;
			if (!t->resjunk && !used &&
				!(IsA(t->expr, Const) &&
				  ((Const *) t->expr)->consttype == UNKNOWNOID))
				return parse;
		}
		changed = true;
	}
	if (!changed)
		return parse;

	copy = copyObject(parse);
	srte = rt_fetch(rti, copy->rtable);
	sq = srte->subquery;
	key = *key_attno;
	i = 0;
	foreach(lc, copy->targetList)
	{
		TargetEntry *ct = lfirst(lc);
		TargetEntry *t;

		i++;
		if (from[i] > 0)
		{
			t = list_nth(sq->targetList, from[i] - 1);
			colnames = lappend(colnames, list_nth(srte->eref->colnames,
												  from[i] - 1));
			if (from[i] == key)
				*key_attno = i;
			((Var *) strip_assignment_casts((Node *) ct->expr))->varattno = i;
		}
		else
		{
			/* the value moves into the SELECT; the INSERT reads it */
			t = makeTargetEntry(values[i], i, pstrdup(ct->resname), false);
			colnames = lappend(colnames, makeString(pstrdup(ct->resname)));
			ct->expr = (Expr *) makeVar(rti, i, exprType((Node *) values[i]),
										exprTypmod((Node *) values[i]),
										exprCollation((Node *) values[i]), 0);
		}
		t->resno = i;
		tlist = lappend(tlist, t);
	}
	/* then the hidden columns: ORDER BY / GROUP BY ones, unused literals */
	foreach(lc, sq->targetList)
	{
		TargetEntry *t = lfirst(lc);

		if (!list_member_ptr(tlist, t))
		{
			t->resjunk = true;
			t->resno = list_length(tlist) + 1;
			tlist = lappend(tlist, t);
		}
	}
	sq->targetList = tlist;
	srte->eref->colnames = colnames;
	return copy;
}

/*
 * Plan parse, an INSERT whose target's distribution column takes output
 * column ctx->insert_select_attno of subquery RTE ctx->insert_select_rti
 * (found by the analysis, which also checked co-location, shippability,
 * triggers and ON CONFLICT), as one INSERT ... SELECT per shard.  Declines
 * (NULL) unless:
 *	- the target columns, in attribute order, take the SELECT's output
 *	  columns in order (how the worker SQL is printed; a SELECT listing
 *	  them in another order is reordered, constant or Param values of the
 *	  target list such as defaults move into it: shape_select_output),
 *	  uncast or with the
 *	  assignment casts to the column's type the worker applies too (the
 *	  distribution column: uncast, below);
 *	- the top level reads only that subquery (no CTEs), and the only
 *	  distributed tables are the target and those of the subquery's own
 *	  level (none deeper);
 *	- that output column is, with the same type as the target's column,
 *	  the distribution column of a distributed table of the subquery;
 *	- all the subquery's distribution columns are in one equivalence class
 *	  (= of WHERE / inner join ON), and it has no outer joins (a NULL-extended
 *	  row would not be on its shard);
 *	- the subquery has no LIMIT / OFFSET, DISTINCT, window functions, set
 *	  operations, grouping sets, target-list SRFs or row locks, and
 *	  aggregates only when grouped by a distribution column of the class.
 */
PlannedStmt *
sf_plan_insert_select(Query *parse, RouterContext *ctx)
{
	RangeTblEntry *srte;
	Query	   *sq;
	List	   *quals = NIL;
	List	   *classes;
	List	   *distvars = NIL;
	List	   *distclass = NIL;
	bool		has_outer = false;
	TargetEntry *stle = NULL;
	Node	   *sexpr;
	ListCell   *lc;
	List	   *scan_tlist;
	List	   *colnames = NIL;
	List	   *shards = NIL;
	List	   *tasks = NIL;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	bool		ok;
	int			i;
	int			rti = 0;
	AttrNumber	key_attno;

	if (ctx->mixed_colocation ||
		parse->cteList != NIL || parse->hasModifyingCTE ||
		parse->jointree == NULL ||
		list_length(parse->jointree->fromlist) != 1 ||
		!IsA(linitial(parse->jointree->fromlist), RangeTblRef) ||
		((RangeTblRef *) linitial(parse->jointree->fromlist))->rtindex !=
		(int) ctx->insert_select_rti)
		return NULL;
	srte = rt_fetch(ctx->insert_select_rti, parse->rtable);
	sq = srte->subquery;
	if (sq == NULL || sq->commandType != CMD_SELECT)
		return NULL;

	/* distributed tables: the target (and EXCLUDED), and the subquery's */
	foreach(lc, ctx->dist_levels)
		if (lfirst(lc) != parse && lfirst(lc) != sq)
			return NULL;

	/* from here on, maybe a copy with the SELECT's columns reordered */
	key_attno = ctx->insert_select_attno;
	parse = shape_select_output(parse, ctx->insert_select_rti, &key_attno);
	srte = rt_fetch(ctx->insert_select_rti, parse->rtable);
	sq = srte->subquery;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;

		rti++;
		if (rte->rtekind != RTE_RELATION || rti == parse->resultRelation ||
			(parse->onConflict && rti == parse->onConflict->exclRelIndex))
			continue;
		table = sf_lookup_table(rte->relid);
		if (table == NULL || table->kind == SF_KIND_HASH)
			return NULL;
	}

	/*
	 * The worker SQL names the target columns in attribute order and prints
	 * the SELECT as it is (ruleutils deparses INSERT ... SELECT as written):
	 * the i-th target column must take the SELECT's i-th output column,
	 * uncast or through the same assignment casts the worker's INSERT will
	 * apply, and nothing else (no rewriter-added defaults).
	 */
	i = 0;
	foreach(lc, parse->targetList)
	{
		TargetEntry *t = lfirst(lc);
		Var		   *v = (Var *) strip_assignment_casts((Node *) t->expr);

		if (t->resjunk)
			return NULL;
		i++;
		if (!IsA(v, Var) || v->varno != ctx->insert_select_rti ||
			v->varlevelsup != 0 || v->varattno != i)
			return NULL;
	}
	foreach(lc, sq->targetList)
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			i--;
	if (i != 0)
		return NULL;

	if (sq->limitCount != NULL || sq->limitOffset != NULL ||
		sq->distinctClause != NIL || sq->hasWindowFuncs ||
		sq->setOperations != NULL || sq->groupingSets != NIL ||
		sq->hasTargetSRFs || sq->rowMarks != NIL || sq->cteList != NIL ||
		sq->hasModifyingCTE)
		return NULL;

	/* the subquery's distribution columns, all in one class */
	rti = 0;
	foreach(lc, sq->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;

		rti++;
		table = sf_rte_distributed_table(rte);
		if (table != NULL)
			distvars = lappend(distvars,
							   makeVar(rti, table->distattnum, InvalidOid, -1,
									   InvalidOid, 0));
	}
	if (distvars == NIL)
		return NULL;
	sf_collect_quals((Node *) sq->jointree, &quals, true, &has_outer);
	if (has_outer)
		return NULL;
	classes = sf_build_classes(quals, ctx, false);
	foreach(lc, distvars)
	{
		Var		   *dv = lfirst(lc);
		List	   *found = NIL;
		ListCell   *lc2;

		foreach(lc2, classes)
			if (var_in_class(lfirst(lc2), dv))
				found = lfirst(lc2);
		if (list_length(distvars) == 1)
		{
			distclass = found ? found : list_make1(dv);
			break;
		}
		if (found == NIL || (distclass != NIL && found != distclass))
			return NULL;
		distclass = found;
	}

	/* the inserted distribution value: a distribution column of sq */
	foreach(lc, sq->targetList)
	{
		TargetEntry *t = lfirst(lc);

		if (t->resno == key_attno)
			stle = t;
	}
	if (stle == NULL)
		return NULL;
	sexpr = sf_strip_relabel((Node *) stle->expr);
	if (!IsA(sexpr, Var) || ((Var *) sexpr)->varlevelsup != 0 ||
		exprType((Node *) stle->expr) != ctx->insert_select_type)
		return NULL;
	ok = false;
	foreach(lc, distvars)
	{
		Var		   *dv = lfirst(lc);

		if (dv->varno == ((Var *) sexpr)->varno &&
			dv->varattno == ((Var *) sexpr)->varattno)
			ok = true;
	}
	if (!ok)
		return NULL;

	/* aggregation: groups must not span shards */
	if (sq->hasAggs || sq->groupClause != NIL || sq->havingQual != NULL)
	{
		bool		by_dist = false;

		foreach(lc, sq->groupClause)
		{
			SortGroupClause *sgc = lfirst(lc);
			TargetEntry *t = get_sortgroupclause_tle(sgc, sq->targetList);
			Node	   *g = sf_strip_relabel((Node *) t->expr);

			if (IsA(g, Var) && ((Var *) g)->varlevelsup == 0 &&
				var_in_class(distclass, (Var *) g))
				by_dist = true;
		}
		if (!by_dist)
			return NULL;
	}

	scan_tlist = sf_scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;
	/* every table of the SELECT pinned by constants to one shard: just it */
	if (!ctx->unpinned && ctx->pins != NIL)
	{
		int			only = -1;

		foreach(lc, ctx->pins)
		{
			Const	   *c = lfirst(lc);
			int			idx;

			if (!IsA(c, Const) || (idx = sf_const_shard_index(ctx, c)) < 0)
			{
				only = -1;
				break;
			}
			if (only >= 0 && idx != only)
			{
				only = -1;
				break;
			}
			only = idx;
		}
		if (only >= 0)
			shards = list_make1_int(only);
	}
	if (shards == NIL)
		for (i = 0; i < ctx->shardcount; i++)
			shards = lappend_int(shards, i);
	/* one task per shard, also when a split shard holds several indexes */
	shards = sf_shard_index_owners(ctx->anyrelid, shards);

	/* with the statement's constants only, the tasks are known now */
	if (!ctx->has_params)
	{
		if (!sf_shard_tasks(parse, shards, &tasks, &sql, &serverid))
			return NULL;
	}
	return sf_make_distributed_stmt(parse, ctx, scan_tlist, colnames,
									sf_make_private(parse, sql, -1, serverid,
													NULL, InvalidOid, ctx,
													SF_STRATEGY_MULTI_SHARD,
													tasks, NIL, shards),
									NULL, NULL);
}
