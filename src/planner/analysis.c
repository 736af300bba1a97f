/*-------------------------------------------------------------------------
 *
 * analysis.c
 *	  Can a statement run on workers, and on which shards: relations and
 *	  co-location, shippable expressions, pinning values of the distribution
 *	  columns (equivalence classes per query level).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "access/hash.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fdw.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

static void analyze_level(Query *q, RouterContext *ctx);

/*
 * Whole-row references.  The deparser prints a whole-row Var as "alias.*",
 * which a worker reads as the whole row of its shard (the shard's columns
 * are the parent's, checked by shard_query.c), except where a "*" would be
 * expanded into columns: an output column of a target list (RETURNING
 * included), an argument of ROW() and a VALUES item, where it adds a cast
 * to the coordinator's row type ("o.*::s.orders"), a type the workers do not
 * have for a distributed table.  So a whole-row Var ships only elsewhere
 * (count(o.*), o IS NOT NULL, a comparison of rows), and only of a table
 * (the row type of a distributed or reference table: the analysis allows no
 * other relation).  A DISTINCT aggregate's argument is not one either: a
 * two-phase aggregate moves it into the workers' target list, as it does
 * GROUP BY, ORDER BY and DISTINCT expressions, which are target entries.
 */
static bool
is_whole_row(Node *node)
{
	return node != NULL && IsA(node, Var) &&
		((Var *) node)->varattno == InvalidAttrNumber;
}

static bool
table_whole_row(Var *v)
{
	Oid			relid = get_typ_typrelid(v->vartype);
	char		relkind;

	if (!OidIsValid(relid))
		return false;
	relkind = get_rel_relkind(relid);
	return relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_FOREIGN_TABLE;
}

static bool
any_whole_row(List *exprs)
{
	ListCell   *lc;

	foreach(lc, exprs)
	{
		if (is_whole_row(lfirst(lc)))
			return true;
	}
	return false;
}

static bool
whole_row_entry(List *tlist)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		if (is_whole_row((Node *) ((TargetEntry *) lfirst(lc))->expr))
			return true;
	}
	return false;
}

static bool
whole_row_output(Query *q)
{
	ListCell   *lc;

	if (whole_row_entry(q->targetList) || whole_row_entry(q->returningList))
		return true;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		ListCell   *lc2;

		if (rte->rtekind != RTE_VALUES)
			continue;
		foreach(lc2, rte->values_lists)
		{
			ListCell   *lc3;

			foreach(lc3, (List *) lfirst(lc2))
			{
				if (is_whole_row(lfirst(lc3)))
					return true;
			}
		}
	}
	return false;
}

/*
 * Extended hash function for a pinning value of the given type, within the
 * partition key's hash opfamily; InvalidOid if there is none.
 */
Oid
sf_pin_hash_function(RouterContext *ctx, Oid type)
{
	if (type == ctx->keytype)
		return ctx->keyhashfn;
	return get_opfamily_proc(ctx->opfamily, type, type, HASHEXTENDED_PROC);
}

/* strip implicit binary-compatible casts */
Node *
sf_strip_relabel(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/* a node that needs a row, a subquery or the executor's own state */
bool
sf_not_pin_walker_base(Node *node)
{
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	return IsA(node, Var) || IsA(node, SubLink) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, Query) || IsA(node, CurrentOfExpr) ||
		IsA(node, SetToDefault) || IsA(node, CaseTestExpr) ||
		IsA(node, CoerceToDomainValue);
}

static bool not_immutable_function(Oid funcid, void *context);

/* walker of sf_is_pin_value: true if node cannot be part of a pinning value */
static bool
not_pin_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (sf_not_pin_walker_base(node) || IsA(node, SQLValueFunction) ||
		IsA(node, NextValueExpr))
		return true;
	if (check_functions_in_node(node, not_immutable_function, NULL))
		return true;
	return expression_tree_walker(node, not_pin_walker, context);
}

/*
 * Is node a value that can pin a shard: a constant, or an expression of
 * external Params and constants with immutable functions, evaluated once
 * (at planning or when the scan starts)?
 */
bool
sf_is_pin_value(Node *node)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return true;
	return !not_pin_walker(node, NULL) && !expression_returns_set(node);
}

/*
 * A pinning value folded to a Const when it has no Params.
 *
 * The most common one, a literal cast to the column's type (an int4
 * literal into a bigint key: int8(5)), is computed by calling the cast
 * function directly, as eval_const_expressions would, without its
 * expression state (a router INSERT of the simple protocol folds one per
 * statement).
 */
Node *
sf_simplify_pin(Node *pin)
{
	if (IsA(pin, Const))
		return pin;
	if (IsA(pin, FuncExpr) && list_length(((FuncExpr *) pin)->args) == 1)
	{
		FuncExpr   *f = (FuncExpr *) pin;
		Const	   *arg = linitial(f->args);
		int16		typlen;
		bool		typbyval;

		/* built-in casts: they never return NULL for a value */
		if (IsA(arg, Const) && !arg->constisnull && !f->funcretset &&
			f->funcid < FirstGenbkiObjectId &&
			(f->funcformat == COERCE_IMPLICIT_CAST ||
			 f->funcformat == COERCE_EXPLICIT_CAST))
		{
			get_typlenbyval(f->funcresulttype, &typlen, &typbyval);
			/* a fixed-size result needs no detoasting or copying */
			if (typlen > 0)
				return (Node *) makeConst(f->funcresulttype, -1, f->funccollid,
										  typlen,
										  OidFunctionCall1Coll(f->funcid,
															   f->inputcollid,
															   arg->constvalue),
										  false, typbyval);
		}
	}
	return eval_const_expressions(NULL, copyObject(pin));
}

/*
 * The distributed (hash) table a range table entry reads, or NULL (other
 * relations, views' own entries, subqueries...).
 */
const SfTable *
sf_rte_distributed_table(RangeTblEntry *rte)
{
	const SfTable *table;

	if (rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_VIEW)
		return NULL;
	table = sf_lookup_table(rte->relid);
	return (table != NULL && table->kind == SF_KIND_HASH) ? table : NULL;
}

/* State of level_rte_walker */
typedef struct LevelRteSearch
{
	bool		(*pred) (RangeTblEntry *rte);
} LevelRteSearch;

static bool
level_rte_walker(Node *node, LevelRteSearch *search)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			if (search->pred(lfirst(lc)))
				return true;
		}
		return query_tree_walker(q, level_rte_walker, search, 0);
	}
	return expression_tree_walker(node, level_rte_walker, search);
}

/*
 * Has any query level of node (a Query, or an expression holding
 * sublinks) a range table entry pred accepts?
 */
bool
sf_any_level_rte(Node *node, bool (*pred) (RangeTblEntry *rte))
{
	LevelRteSearch search = {pred};

	return level_rte_walker(node, &search);
}

/* The same for the levels below q (subqueries, sublinks, CTEs) only */
bool
sf_nested_level_rte(Query *q, bool (*pred) (RangeTblEntry *rte))
{
	LevelRteSearch search = {pred};

	return query_tree_walker(q, level_rte_walker, &search, 0);
}

/* sf_any_level_rte predicates */
bool
sf_rte_is_distributed(RangeTblEntry *rte)
{
	return sf_rte_distributed_table(rte) != NULL;
}

bool
sf_rte_is_reference(RangeTblEntry *rte)
{
	const SfTable *table;

	if (rte->rtekind != RTE_RELATION)
		return false;
	table = sf_lookup_table(rte->relid);
	return table != NULL && table->kind == SF_KIND_REFERENCE;
}

/* a relation the workers do not have whole: distributed or local */
bool
sf_rte_is_not_replicated(RangeTblEntry *rte)
{
	return rte->rtekind == RTE_RELATION && !sf_rte_is_reference(rte);
}

/*
 * Learn the partition key of a distributed table (the first one seen) and
 * note whether the others are co-located with it.
 */
static void
note_distributed_table(RouterContext *ctx, const SfTable *table)
{
	if (!ctx->has_distributed)
	{
		Relation	rel = table_open(table->relid, NoLock);
		PartitionKey key = RelationGetPartitionKey(rel);

		if (key == NULL || key->strategy != PARTITION_STRATEGY_HASH ||
			key->partnatts != 1 || key->partattrs[0] != table->distattnum)
		{
			table_close(rel, NoLock);
			ctx->failed = true;
			return;
		}
		ctx->has_distributed = true;
		ctx->colocationid = table->colocationid;
		ctx->shardcount = table->shardcount;
		ctx->anyrelid = table->relid;
		ctx->opfamily = key->partopfamily[0];
		ctx->keytype = key->partopcintype[0];
		ctx->keycollation = key->partcollation[0];
		ctx->keyhashfn = key->partsupfunc[0].fn_oid;
		table_close(rel, NoLock);
		if (ctx->shardcount <= 0)
			ctx->failed = true;
	}
	else if (table->colocationid != ctx->colocationid ||
			 table->shardcount != ctx->shardcount)
	{
		/*
		 * Not co-located: never one shard nor a shard-by-shard join, but a
		 * broadcast join of one of them may still apply
		 * (sf_plan_broadcast_join); every other strategy declines.
		 */
		ctx->mixed_colocation = true;
		ctx->unpinned = true;
	}
}

/*
 * Walk every node of the statement: each Query level is analysed for pins
 * (analyze_level), every expression is checked for shippability.  Returns
 * true (stop) as soon as the statement cannot be routed.
 */
bool
sf_router_walker(Node *node, RouterContext *ctx)
{
	if (node == NULL)
		return false;
	if (ctx->failed)
		return true;

	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		if (q->utilityStmt != NULL)
		{
			ctx->failed = true;
			return true;
		}
		analyze_level(q, ctx);
		if (ctx->failed)
			return true;
		if (whole_row_output(q))
		{
			ctx->failed = true;
			return true;
		}
		foreach(lc, q->windowClause)
		{
			WindowClause *wc = lfirst(lc);

			if (sf_router_walker(wc->startOffset, ctx) ||
				sf_router_walker(wc->endOffset, ctx))
				return true;
			/* RANGE offsets: each in_range function that is set */
			if (OidIsValid(wc->startInRangeFunc) || OidIsValid(wc->endInRangeFunc))
			{
				if ((OidIsValid(wc->startInRangeFunc) &&
					 sf_unshippable_function(wc->startInRangeFunc, NULL)) ||
					(OidIsValid(wc->endInRangeFunc) &&
					 sf_unshippable_function(wc->endInRangeFunc, NULL)))
				{
					ctx->failed = true;
					return true;
				}
			}
		}
		if (query_tree_walker(q, sf_router_walker, ctx, QTW_EXAMINE_SORTGROUP))
		{
			ctx->failed = true;
			return true;
		}
		return false;
	}

	switch (nodeTag(node))
	{
		case T_SortGroupClause:
			{
				SortGroupClause *sgc = (SortGroupClause *) node;

				if (sgc->eqop >= FirstGenbkiObjectId ||
					sgc->sortop >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				return false;
			}
		case T_Const:
			{
				Const	   *c = (Const *) node;

				if (c->consttype >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				return false;
			}
		case T_Param:
			{
				Param	   *p = (Param *) node;

				/* PARAM_SUBLINK: the output of a SubLink, deparsed with it */
				if ((p->paramkind != PARAM_EXTERN &&
					 p->paramkind != PARAM_SUBLINK) ||
					p->paramtype >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				if (p->paramkind == PARAM_EXTERN)
					ctx->has_params = true;
				return false;
			}
		case T_Aggref:
			{
				Aggref	   *agg = (Aggref *) node;

				if (agg->aggfnoid >= FirstGenbkiObjectId ||
					(agg->aggdistinct != NIL && whole_row_entry(agg->args)))
				{
					ctx->failed = true;
					return true;
				}
				return expression_tree_walker(node, sf_router_walker, ctx);
			}
		case T_WindowFunc:
			{
				WindowFunc *wf = (WindowFunc *) node;

				if (wf->winfnoid >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				return expression_tree_walker(node, sf_router_walker, ctx);
			}
		case T_OnConflictExpr:
			{
				OnConflictExpr *oc = (OnConflictExpr *) node;

				/*
				 * exclRelTlist describes EXCLUDED for the executor (with a
				 * whole-row Var) and is not deparsed: look at what is.
				 */
				return sf_router_walker((Node *) oc->arbiterElems, ctx) ||
					sf_router_walker(oc->arbiterWhere, ctx) ||
					sf_router_walker((Node *) oc->onConflictSet, ctx) ||
					sf_router_walker(oc->onConflictWhere, ctx);
			}
		case T_Var:
			/* system columns differ on workers; whole rows: see is_whole_row */
			if (((Var *) node)->varattno < 0 ||
				(((Var *) node)->varattno == InvalidAttrNumber &&
				 !table_whole_row((Var *) node)))
			{
				ctx->failed = true;
				return true;
			}
			return false;
		case T_CollateExpr:
			if (((CollateExpr *) node)->collOid >= FirstNormalObjectId)
			{
				ctx->failed = true;
				return true;
			}
			break;
		case T_RelabelType:
			if (((RelabelType *) node)->resulttype >= FirstGenbkiObjectId)
			{
				ctx->failed = true;
				return true;
			}
			break;
		case T_RowExpr:
			if (((RowExpr *) node)->row_typeid != RECORDOID ||
				any_whole_row(((RowExpr *) node)->args))
			{
				ctx->failed = true;
				return true;
			}
			break;
		case T_SQLValueFunction:
		case T_NextValueExpr:
		case T_CurrentOfExpr:
		case T_CoerceToDomain:
		case T_CoerceToDomainValue:
		case T_SetToDefault:
		case T_ConvertRowtypeExpr:
		case T_XmlExpr:
		case T_GroupingFunc:
			ctx->failed = true;
			return true;
		case T_RangeTblFunction:
			break;
		case T_CoerceViaIO:
			/* float output under the coordinator's extra_float_digits */
			if (sf_text_output_differs_remotely(exprType((Node *) ((CoerceViaIO *) node)->arg)))
			{
				ctx->failed = true;
				return true;
			}
			break;
		case T_FuncExpr:
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_ScalarArrayOpExpr:
		case T_ArrayCoerceExpr:
		case T_RowCompareExpr:
		case T_MinMaxExpr:
			break;
		default:
			break;
	}

	if (sf_has_unshippable_function(node))
	{
		ctx->failed = true;
		return true;
	}
	if (IsA(node, MinMaxExpr) &&
		((MinMaxExpr *) node)->minmaxtype >= FirstGenbkiObjectId)
	{
		ctx->failed = true;
		return true;
	}
	return expression_tree_walker(node, sf_router_walker, ctx);
}

/*
 * provolatile of built-in functions, looked up once each ('\0': not yet):
 * the walkers ask for every function of every statement.  Any change to
 * pg_proc (ALTER FUNCTION ... IMMUTABLE) forgets them all.
 */
static char builtin_volatility[FirstGenbkiObjectId];
static bool builtin_volatility_callback_set = false;

static void
builtin_volatility_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	memset(builtin_volatility, 0, sizeof(builtin_volatility));
}

/* func_volatile, remembered for built-in functions */
char
sf_func_volatile(Oid funcid)
{
	if (funcid >= FirstGenbkiObjectId)
		return func_volatile(funcid);
	if (!builtin_volatility_callback_set)
	{
		CacheRegisterSyscacheCallback(PROCOID, builtin_volatility_reset,
									  (Datum) 0);
		builtin_volatility_callback_set = true;
	}
	if (builtin_volatility[funcid] == '\0')
		builtin_volatility[funcid] = func_volatile(funcid);
	return builtin_volatility[funcid];
}

/*
 * check_functions_in_node callback: may funcid not be sent to a worker?
 * Built-in immutable functions may, and the stable ones of TimeZone.
 */
bool
sf_unshippable_function(Oid funcid, void *context)
{
	if (funcid >= FirstGenbkiObjectId)
		return true;
	return sf_func_volatile(funcid) != PROVOLATILE_IMMUTABLE &&
		!sf_timezone_only_function(funcid);
}

/*
 * to_char of a timestamp, timestamptz or interval with a constant format
 * without "TM": its output depends on TimeZone alone (English day and month
 * names; only the TM prefix would use lc_time, and "tm" anywhere in the
 * format, even quoted, counts).  PostgreSQL marks to_char stable for lc_time.
 */
static bool
to_char_of_timezone_only(Node *node)
{
	FuncExpr   *f;
	Const	   *fmt;
	char	   *format;
	bool		ok = true;

	if (!IsA(node, FuncExpr))
		return false;
	f = (FuncExpr *) node;
	if ((f->funcid != F_TO_CHAR_TIMESTAMP_TEXT &&
		 f->funcid != F_TO_CHAR_TIMESTAMPTZ_TEXT &&
		 f->funcid != F_TO_CHAR_INTERVAL_TEXT) ||
		list_length(f->args) != 2 || !IsA(lsecond(f->args), Const))
		return false;
	fmt = lsecond(f->args);
	if (fmt->constisnull)
		return true;
	format = TextDatumGetCString(fmt->constvalue);
	for (char *c = format; c[0] != '\0' && ok; c++)
		if (pg_ascii_tolower((unsigned char) c[0]) == 't' &&
			pg_ascii_tolower((unsigned char) c[1]) == 'm')
			ok = false;
	pfree(format);
	return ok;
}

/*
 * Has node itself (not its arguments) a function that may not be sent to a
 * worker (sf_unshippable_function; to_char_of_timezone_only may)?
 */
bool
sf_has_unshippable_function(Node *node)
{
	if (to_char_of_timezone_only(node))
		return false;
	return check_functions_in_node(node, sf_unshippable_function, NULL);
}

/*
 * check_functions_in_node callback: not a built-in immutable function?
 * (Pinning values are folded to constants at planning.)
 */
static bool
not_immutable_function(Oid funcid, void *context)
{
	return funcid >= FirstGenbkiObjectId ||
		sf_func_volatile(funcid) != PROVOLATILE_IMMUTABLE;
}

/*
 * Equivalence classes of one query level: each a List of Vars (of this
 * level) and pinning values, merged by equalities of the key's opfamily.
 */
static List *
merge_items(List *classes, Node *a, Node *b)
{
	List	   *ca = NIL;
	List	   *cb = NIL;
	ListCell   *lc;

	foreach(lc, classes)
	{
		List	   *c = lfirst(lc);

		if (list_member(c, a))
			ca = c;
		if (list_member(c, b))
			cb = c;
	}
	if (ca != NIL && ca == cb)
		return classes;
	if (ca == NIL && cb == NIL)
		return lappend(classes, list_make2(a, b));
	if (ca == NIL)
	{
		classes = list_delete_ptr(classes, cb);
		return lappend(classes, lappend(cb, a));
	}
	if (cb == NIL)
	{
		classes = list_delete_ptr(classes, ca);
		return lappend(classes, lappend(ca, b));
	}
	classes = list_delete_ptr(classes, ca);
	classes = list_delete_ptr(classes, cb);
	return lappend(classes, list_concat(ca, cb));
}

/*
 * Collect the conjuncts of WHERE and of inner JOIN ... ON in a jointree
 * (with outer, those of outer joins' ON too: rows joined through them are
 * equal on both sides, though rows of the preserved side are not
 * restricted by them).  *has_outer is set when there are outer joins.
 */
void
sf_collect_quals(Node *jtnode, List **quals, bool outer, bool *has_outer)
{
	if (jtnode == NULL)
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		ListCell   *lc;

		foreach(lc, f->fromlist)
			sf_collect_quals(lfirst(lc), quals, outer, has_outer);
		*quals = list_concat(*quals,
							 make_ands_implicit((Expr *) f->quals));
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		sf_collect_quals(j->larg, quals, outer, has_outer);
		sf_collect_quals(j->rarg, quals, outer, has_outer);
		if (j->jointype != JOIN_INNER)
			*has_outer = true;
		if (j->jointype == JOIN_INNER || outer)
			*quals = list_concat(*quals,
								 make_ands_implicit((Expr *) j->quals));
	}
}

/*
 * Is node a two-argument equality of the partition key's hash opfamily,
 * under the key's collation?
 */
bool
sf_is_key_equality(Node *node, RouterContext *ctx)
{
	OpExpr	   *op = (OpExpr *) node;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	if (!op_in_opfamily(op->opno, ctx->opfamily) ||
		get_op_opfamily_strategy(op->opno, ctx->opfamily) != HTEqualStrategyNumber)
		return false;
	return !OidIsValid(ctx->keycollation) ||
		op->inputcollid == ctx->keycollation;
}

/*
 * Equivalence classes (see merge_items) from a list of conjuncts: equalities
 * of the partition key's hash opfamily and collation between Vars of this
 * level and pinning values (with outer_vars, Vars of enclosing levels too:
 * the correlations of a subquery).
 */
List *
sf_build_classes(List *quals, RouterContext *ctx, bool outer_vars)
{
	List	   *classes = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		OpExpr	   *op = lfirst(lc);
		Node	   *l;
		Node	   *r;

		if (!sf_is_key_equality((Node *) op, ctx))
			continue;
		l = sf_strip_relabel(linitial(op->args));
		r = sf_strip_relabel(lsecond(op->args));
		if (IsA(l, Var) && ((Var *) l)->varlevelsup == 0 &&
			((IsA(r, Var) && (outer_vars || ((Var *) r)->varlevelsup == 0)) ||
			 sf_is_pin_value(r)))
			classes = merge_items(classes, l, r);
		else if (IsA(r, Var) && ((Var *) r)->varlevelsup == 0 &&
				 ((IsA(l, Var) && outer_vars) || sf_is_pin_value(l)))
			classes = merge_items(classes, r, l);
	}
	return classes;
}

/*
 * Analyse one query level: classify its relations, and find for each
 * distributed table the values its distribution column is pinned to.
 */
static void
analyze_level(Query *q, RouterContext *ctx)
{
	List	   *quals = NIL;
	List	   *classes = NIL;
	ListCell   *lc;
	int			rti = 0;
	bool		has_outer = false;

	/*
	 * WITH CHECK OPTION (of a view, or row-level security) is checked by
	 * the coordinator's executor on each new row: only the standard path
	 * does that.
	 */
	if (q->withCheckOptions != NIL)
	{
		ctx->failed = true;
		return;
	}

	/* first the relations, so that the partition key is known */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;

		switch (rte->rtekind)
		{
			case RTE_RELATION:
				break;
			case RTE_SUBQUERY:
			case RTE_JOIN:
			case RTE_FUNCTION:
			case RTE_VALUES:
			case RTE_CTE:
			case RTE_RESULT:
				continue;
			default:
				ctx->failed = true;
				return;
		}
		if (rte->securityQuals != NIL || rte->tablesample != NULL)
		{
			ctx->failed = true;
			return;
		}
		ctx->relids = lappend_oid(ctx->relids, rte->relid);
		if (q != ctx->top)
			ctx->perm_rtes = lappend(ctx->perm_rtes, rte);

		/*
		 * A relation read through a view is accessed as the view's owner:
		 * on the FDW path with the owner's user mapping, and so on the
		 * workers' statements, which must then read every relation as that
		 * one role (a view of another owner joined with a table read as
		 * the current user takes the FDW path, with a user mapping each).
		 * The plan is only good for the current user (the plan cache
		 * re-plans for another role).
		 */
		if (OidIsValid(rte->checkAsUser))
			ctx->depends_on_role = true;
		if (rte->relkind != RELKIND_VIEW)
		{
			Oid			role = OidIsValid(rte->checkAsUser) ?
				rte->checkAsUser : GetUserId();

			if (!ctx->remote_user_set)
			{
				ctx->remote_user = role == GetUserId() ? InvalidOid : role;
				ctx->remote_user_set = true;
			}
			else if ((OidIsValid(ctx->remote_user) ? ctx->remote_user :
					  GetUserId()) != role)
			{
				ctx->failed = true;
				return;
			}
		}
		if (rte->relkind == RELKIND_VIEW)
		{
			/*
			 * Expanded by the rewriter.  A write through an updatable view
			 * has its base relation twice (the view's own FROM item and
			 * the target): the statement deparsed for a shard would name
			 * the shard twice.  The standard planner and the FDW take it.
			 */
			if (q->commandType != CMD_SELECT)
			{
				ctx->failed = true;
				return;
			}
			continue;
		}
		table = sf_lookup_table(rte->relid);
		if (table == NULL)
		{
			ctx->failed = true;
			return;
		}
		if (table->kind == SF_KIND_HASH)
		{
			/*
			 * ONLY (no inheritance) reads the partitioned parent alone,
			 * which holds no rows: leave that to the standard planner.
			 * (An INSERT's target and ON CONFLICT's EXCLUDED never have
			 * inh set.)
			 */
			if (!rte->inh && rte->relkind != RELKIND_COMPOSITE_TYPE &&
				!(q->commandType == CMD_INSERT &&
				  foreach_current_index(lc) + 1 == q->resultRelation))
			{
				ctx->failed = true;
				return;
			}
			note_distributed_table(ctx, table);
			if (ctx->failed)
				return;
			ctx->dist_levels = list_append_unique_ptr(ctx->dist_levels, q);
		}
		else if (table->kind == SF_KIND_REFERENCE)
			ctx->has_reference = true;
		else
		{
			ctx->failed = true;
			return;
		}
	}

	/*
	 * the top level's conjuncts, outer joins' ON included (their classes
	 * need the partition key: below, or later for a top level that reads
	 * distributed tables only through subqueries)
	 */
	if (q == ctx->top)
	{
		sf_collect_quals((Node *) q->jointree, &ctx->top_quals, true,
						 &has_outer);
		ctx->outer_joins = has_outer;
	}
	if (!ctx->has_distributed)
		return;

	/* equivalence classes from WHERE and inner join conditions */
	sf_collect_quals((Node *) q->jointree, &quals, false, &has_outer);
	classes = sf_build_classes(quals, ctx, false);
	if (q == ctx->top)
		ctx->top_classes = sf_build_classes(ctx->top_quals, ctx, false);

	/* every distributed table of this level must be pinned */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;
		bool		pinned = false;
		ListCell   *lc2;

		rti++;
		table = sf_rte_distributed_table(rte);
		if (table == NULL)
			continue;
		/* ON CONFLICT's EXCLUDED: the row being inserted */
		if (q->onConflict != NULL && rti == q->onConflict->exclRelIndex)
			continue;

		if (q->commandType == CMD_INSERT && rti == q->resultRelation)
		{
			/* INSERT: the value of the distribution column */
			TargetEntry *tle = NULL;
			Node	   *expr;

			foreach(lc2, q->targetList)
			{
				TargetEntry *t = lfirst(lc2);

				if (t->resno == table->distattnum && !t->resjunk)
					tle = t;
			}
			if (tle == NULL || (q->onConflict != NULL &&
								OidIsValid(q->onConflict->constraint)))
			{
				ctx->failed = true;
				return;
			}
			if (q->onConflict && q->onConflict->action == ONCONFLICT_UPDATE)
			{
				foreach(lc2, q->onConflict->onConflictSet)
				{
					TargetEntry *t = lfirst(lc2);

					if (t->resno == table->distattnum)
					{
						ctx->failed = true;
						return;
					}
				}
			}
			expr = sf_strip_relabel((Node *) tle->expr);
			if (sf_is_pin_value(expr))
				ctx->pins = list_append_unique(ctx->pins, sf_simplify_pin(expr));
			else if (IsA(expr, Var) && ((Var *) expr)->varlevelsup == 0 &&
					 rt_fetch(((Var *) expr)->varno, q->rtable)->rtekind == RTE_VALUES)
			{
				RangeTblEntry *vrte = rt_fetch(((Var *) expr)->varno, q->rtable);

				/*
				 * Constants; with ON CONFLICT also expressions of Params,
				 * whose rows are grouped by shard when the scan starts
				 * (insert_values.c)
				 */
				List	   *keys = NIL;

				foreach(lc2, vrte->values_lists)
				{
					List	   *row = lfirst(lc2);
					Node	   *v = sf_strip_relabel(list_nth(row,
														   ((Var *) expr)->varattno - 1));

					if (!sf_is_pin_value(v) ||
						(!IsA((v = sf_simplify_pin(v)), Const) &&
						 q->onConflict == NULL))
					{
						ctx->failed = true;
						return;
					}
					keys = list_append_unique(keys, v);
					ctx->pins = list_append_unique(ctx->pins, v);
				}

				/*
				 * Rows of an upsert with different keys may go to several
				 * shards, each shard's statement with its own rows: a
				 * subquery would read there the shards of the rows' shard,
				 * not the ones its own pins name.
				 */
				if (list_length(keys) > 1 && q->hasSubLinks &&
					q->onConflict != NULL)
				{
					ctx->failed = true;
					return;
				}
			}
			else if (IsA(expr, Var) && ((Var *) expr)->varlevelsup == 0 &&
					 q == ctx->top && ctx->insert_select_rti == 0 &&
					 rt_fetch(((Var *) expr)->varno, q->rtable)->rtekind == RTE_SUBQUERY)
			{
				/* INSERT ... SELECT: see sf_plan_insert_select */
				ctx->insert_select_rti = ((Var *) expr)->varno;
				ctx->insert_select_attno = ((Var *) expr)->varattno;
				ctx->insert_select_type = exprType((Node *) tle->expr);
			}
			else
			{
				ctx->failed = true;
				return;
			}
			continue;
		}

		if (q->commandType == CMD_UPDATE && rti == q->resultRelation)
		{
			/* moving a row to another shard is not a one-shard statement */
			foreach(lc2, q->targetList)
			{
				TargetEntry *t = lfirst(lc2);

				if (t->resno == table->distattnum && !t->resjunk)
				{
					ctx->failed = true;
					return;
				}
			}
		}

		foreach(lc2, classes)
		{
			List	   *c = lfirst(lc2);
			ListCell   *lc3;
			bool		member = false;

			foreach(lc3, c)
			{
				Var		   *v = lfirst(lc3);

				if (IsA(v, Var) && v->varno == rti &&
					v->varattno == table->distattnum)
					member = true;
			}
			if (!member)
				continue;
			foreach(lc3, c)
			{
				Node	   *item = lfirst(lc3);

				if (sf_is_pin_value(item))
				{
					ctx->pins = list_append_unique(ctx->pins,
												   sf_simplify_pin(item));
					pinned = true;
				}
			}
		}
		if (q == ctx->top)
			ctx->top_distvars = lappend(ctx->top_distvars,
										makeVar(rti, table->distattnum,
												InvalidOid, -1, InvalidOid, 0));
		else
			ctx->nested_distributed = true;
		/* not one shard: maybe every shard (multi-shard SELECT) */
		if (!pinned)
		{
			/* a top-level UPDATE / DELETE may run on every shard */
			if (q->commandType != CMD_SELECT &&
				!(q == ctx->top &&
				  (q->commandType == CMD_UPDATE ||
				   q->commandType == CMD_DELETE)))
			{
				ctx->failed = true;
				return;
			}
			ctx->unpinned = true;
		}
	}

	/* DML: only distributed targets (no replication triggers, no others) */
	if (q->commandType != CMD_SELECT && q->resultRelation > 0)
	{
		RangeTblEntry *rte = rt_fetch(q->resultRelation, q->rtable);
		const SfTable *table = sf_lookup_table(rte->relid);
		Relation	rel;
		bool		has_triggers;

		if (table == NULL || table->kind != SF_KIND_HASH)
		{
			ctx->failed = true;
			return;
		}
		rel = table_open(rte->relid, NoLock);
		has_triggers = (rel->trigdesc != NULL);
		table_close(rel, NoLock);
		if (has_triggers)
			ctx->failed = true;
	}
}

