/*-------------------------------------------------------------------------
 *
 * insert_values.c
 *	  A multi-row INSERT ... VALUES ... ON CONFLICT whose rows are grouped
 *	  by shard when the scan starts.
 *
 * The unique indexes of a distributed table live on its shards, so an
 * INSERT ... ON CONFLICT runs there: one statement per shard with that
 * shard's rows.  With constant keys the planner groups the rows
 * (sf_plan_multi_shard_insert); here the key of a row is an expression of
 * Params (a prepared batch upsert from a driver, pgbench -M prepared) or
 * of values computed on the coordinator, or the statement is
 * DO UPDATE ... WHERE with RETURNING: the executor evaluates the keys when
 * the scan starts, groups the rows by shard and makes the statements
 * (src/executor/router.c, router_group_values).
 *
 * RETURNING rows come back in the order of the VALUES rows.  DO UPDATE
 * without WHERE returns one row per VALUES row: one statement per shard,
 * the shards' rows interleaved by the coordinator (SfRouterReturnOrder).
 * With DO NOTHING or DO UPDATE ... WHERE a row may return nothing, so each
 * row is a statement of its own (each worker still gets its statements in
 * one round trip).  Statements of their own do not fail where one
 * statement does ("ON CONFLICT DO UPDATE command cannot affect row a
 * second time": a row whose conflicting row an earlier row of the same
 * statement inserted or updated); the executor checks that from the rows
 * each statement returned (a row is returned exactly when it was inserted
 * or updated) and the conflict target values of the rows, compared on the
 * coordinator (SfValuesArbiters).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opclass.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* context of values_var_walker */
typedef struct ValuesVarContext
{
	Index		values_rti;		/* the VALUES RTE */
	bool		other;			/* saw another Var (or a nested level) */
} ValuesVarContext;

/* walker: does node refer to anything but columns of the VALUES RTE? */
static bool
values_var_walker(Node *node, ValuesVarContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) &&
		(((Var *) node)->varno != ctx->values_rti ||
		 ((Var *) node)->varlevelsup != 0))
		ctx->other = true;
	else if (IsA(node, Query) || IsA(node, SubLink))
		ctx->other = true;
	if (ctx->other)
		return true;
	return expression_tree_walker(node, values_var_walker, ctx);
}

/*
 * The conflict target of a DO UPDATE ... WHERE run one statement per row:
 * for each inferred column, its value in terms of the VALUES row (the
 * INSERT's target list entry), the function comparing two of them as the
 * unique index does (the inference element's opclass, or the type's default
 * btree equality) and the collation; a List of (Expr, Integer, Integer).
 * *ok is false when the rows cannot be compared on the coordinator
 * (expressions in the conflict target, a partial index's predicate, values
 * that are not constants or Params).
 */
static List *
arbiter_values(Query *parse, RangeTblEntry *values_rte, Index values_rti,
			   bool *ok)
{
	OnConflictExpr *oc = parse->onConflict;
	List	   *result = NIL;
	ListCell   *lc;

	*ok = false;
	if (oc->arbiterElems == NIL || oc->arbiterWhere != NULL)
		return NIL;
	foreach(lc, oc->arbiterElems)
	{
		InferenceElem *ie = lfirst(lc);
		Var		   *var = (Var *) ie->expr;
		TargetEntry *tle = NULL;
		ValuesVarContext vctx;
		ListCell   *lc2;
		Oid			type;
		Oid			eqop = InvalidOid;
		Oid			collation;

		if (!IsA(ie, InferenceElem) || var == NULL || !IsA(var, Var) ||
			var->varno != parse->resultRelation || var->varlevelsup != 0 ||
			var->varattno <= 0)
			return NIL;
		foreach(lc2, parse->targetList)
		{
			TargetEntry *t = lfirst(lc2);

			if (t->resno == var->varattno && !t->resjunk)
				tle = t;
		}
		/* a column the INSERT does not set takes its default: NULL here */
		if (tle == NULL)
			return NIL;
		vctx.values_rti = values_rti;
		vctx.other = false;
		(void) values_var_walker((Node *) tle->expr, &vctx);
		if (vctx.other || contain_mutable_functions((Node *) tle->expr))
			return NIL;
		/* the values it takes from every row must be known here */
		foreach(lc2, pull_var_clause((Node *) tle->expr, 0))
		{
			AttrNumber	col = ((Var *) lfirst(lc2))->varattno;
			ListCell   *lc3;

			if (col <= 0)
				return NIL;
			foreach(lc3, values_rte->values_lists)
				if (!sf_is_pin_value(list_nth((List *) lfirst(lc3), col - 1)))
					return NIL;
		}

		type = exprType((Node *) tle->expr);
		if (OidIsValid(ie->inferopclass))
		{
			HeapTuple	tup = SearchSysCache1(CLAOID,
											  ObjectIdGetDatum(ie->inferopclass));
			Form_pg_opclass opc;

			if (!HeapTupleIsValid(tup))
				return NIL;
			opc = (Form_pg_opclass) GETSTRUCT(tup);
			/* unique indexes are btree indexes */
			if (opc->opcmethod == BTREE_AM_OID)
				eqop = get_opfamily_member(opc->opcfamily, type, type,
										   BTEqualStrategyNumber);
			ReleaseSysCache(tup);
		}
		else
		{
			TypeCacheEntry *tce;

			tce = lookup_type_cache(type,
									TYPECACHE_BTREE_OPFAMILY | TYPECACHE_EQ_OPR);

			if (OidIsValid(tce->btree_opf))
				eqop = tce->eq_opr;
		}
		if (!OidIsValid(eqop))
			return NIL;
		/* the index's collation: the one named, or the column's */
		collation = OidIsValid(ie->infercollid) ? ie->infercollid :
			var->varcollid;
		result = lappend(result,
						 list_make3(copyObject(tle->expr),
									makeInteger((int) get_opcode(eqop)),
									makeInteger((int) collation)));
	}
	*ok = true;
	return result;
}


/*
 * The VALUES list of a multi-row INSERT and the column of it that gives
 * the distribution column of table (*rti, *col), or NULL when the
 * distribution column is not a plain column of a VALUES list.
 */
RangeTblEntry *
sf_values_key_column(Query *parse, const SfTable *table, Index *rti,
					 AttrNumber *col)
{
	RangeTblEntry *values_rte = NULL;
	ListCell   *lc;

	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = sf_strip_relabel((Node *) tle->expr);

		if (tle->resno != table->distattnum || tle->resjunk)
			continue;
		if (!IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
			return NULL;
		*rti = ((Var *) expr)->varno;
		*col = ((Var *) expr)->varattno;
		values_rte = rt_fetch(*rti, parse->rtable);
	}
	if (values_rte == NULL || values_rte->rtekind != RTE_VALUES)
		return NULL;
	return values_rte;
}

/*
 * Plan a multi-row INSERT ... VALUES ... ON CONFLICT whose rows the
 * analysis (ctx) found pinned to several values (ctx->pins) that the
 * planner cannot group by shard: keys with Params (or values computed on
 * the coordinator), or DO UPDATE ... WHERE with RETURNING.  Returns NULL
 * to decline (other statements: sf_plan_multi_shard_insert plans those
 * with constant keys; the rest gets check_on_conflict's error).
 */
PlannedStmt *
sf_plan_insert_values(Query *parse, RouterContext *ctx, List *preeval)
{
	RangeTblEntry *target;
	const SfTable *table;
	RangeTblEntry *values_rte;
	Index		values_rti;
	AttrNumber	values_col;
	List	   *scan_tlist;
	List	   *colnames = NIL;
	List	   *arbiters = NIL;
	List	   *private;
	Oid			hashfn;
	bool		ok;
	bool		by_row;
	bool		where_returning;

	if (parse->commandType != CMD_INSERT || parse->onConflict == NULL ||
		preeval != NIL || !shardfdw_enable_multi_shard_dml ||
		parse->cteList != NIL || parse->hasModifyingCTE ||
		list_length(ctx->pins) < 2)
		return NULL;
	target = rt_fetch(parse->resultRelation, parse->rtable);
	table = sf_lookup_table(target->relid);
	if (table == NULL || table->kind != SF_KIND_HASH)
		return NULL;

	where_returning = parse->returningList != NIL &&
		parse->onConflict->action == ONCONFLICT_UPDATE &&
		parse->onConflict->onConflictWhere != NULL;
	/* constant keys otherwise: grouped at planning (multi_shard.c) */
	if (!ctx->has_params && ctx->stable_exprs == NIL && !where_returning)
		return NULL;
	by_row = parse->returningList != NIL &&
		(parse->onConflict->action == ONCONFLICT_NOTHING || where_returning);

	values_rte = sf_values_key_column(parse, table, &values_rti, &values_col);
	if (values_rte == NULL)
		return NULL;
	/* the keys are hashed as the VALUES column's type */
	hashfn = sf_pin_hash_function(ctx, list_nth_oid(values_rte->coltypes,
													values_col - 1));
	if (!OidIsValid(hashfn))
		return NULL;

	if (by_row && parse->onConflict->action == ONCONFLICT_UPDATE)
	{
		arbiters = arbiter_values(parse, values_rte, values_rti, &ok);
		if (!ok)
			return NULL;
	}

	scan_tlist = sf_scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;

	private = sf_make_private(parse, "", -1, InvalidOid, NULL, hashfn, ctx,
							  SF_STRATEGY_INSERT_VALUES, NIL, NIL, NIL);
	private = lappend(private, makeInteger((int) values_rti));
	private = lappend(private, makeInteger((int) values_col));
	private = lappend(private, makeInteger(by_row ? 1 : 0));
	private = lappend(private, arbiters);
	return sf_make_distributed_stmt(parse, ctx, scan_tlist, colnames,
									private, NULL, NULL);
}
