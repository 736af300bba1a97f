/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  The planner hook and the router strategy.
 *
 * The hook looks at the Query before PostgreSQL plans it.  A statement that
 * qualifies for the router (see planner.h) gets a PlannedStmt made of a
 * single CustomScan that sends the whole statement to one worker; any
 * statement that does not qualify, for any reason, goes to the standard
 * planner unchanged (the FDW path), so declining is always safe.
 *
 * Assumptions:
 *	- a distributed table is a hash-partitioned parent whose partitions all
 *	  have MODULUS = shard count, so PostgreSQL's own routing
 *	  (compute_partition_hash_value: the partition key's extended hash
 *	  support function with HASH_PARTITION_SEED, combined with
 *	  hash_combine64, modulo the modulus) gives the shard index, which is the
 *	  REMAINDER stored in the catalog;
 *	- co-located tables have shard i on the same server (checked anyway);
 *	- built-in objects (OID below FirstGenbkiObjectId) exist and behave the
 *	  same on workers, which run the same major version.
 *
 * Planning a router statement never opens or expands the shards: the
 * analysis reads the Query and the metadata cache, and only the chosen
 * shard's foreign table is named in the deparsed SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/hash.h"
#include "access/stratnum.h"
#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor.h"
#include "fmgr.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "shardfdw.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "access/table.h"

bool		shardfdw_enable_router = true;

static planner_hook_type prev_planner_hook = NULL;

/*
 * State of the router analysis of one statement (all query levels).
 */
typedef struct RouterContext
{
	bool		failed;			/* the statement cannot be routed */
	bool		has_distributed;	/* saw at least one distributed table */
	bool		has_params;		/* the statement has external Params */
	int32		colocationid;	/* of the distributed tables */
	int			shardcount;		/* of the distributed tables */
	Oid			anyrelid;		/* one distributed table */
	Oid			opfamily;		/* hash opfamily of the partition key */
	Oid			keytype;		/* opclass input type of the key */
	Oid			keycollation;	/* partition key collation */
	Oid			keyhashfn;		/* extended hash function of keytype */
	List	   *pins;			/* distinct Const / Param pinning values */
	List	   *relids;			/* OIDs of every relation (invalidation) */
	List	   *perm_rtes;		/* relation RTEs of nested levels */
	Query	   *top;			/* the statement */
} RouterContext;

static PlannedStmt *sf_planner(Query *parse, const char *query_string,
							   int cursorOptions, ParamListInfo boundParams);
static PlannedStmt *sf_plan_router(Query *parse, int cursorOptions);
static bool router_walker(Node *node, RouterContext *ctx);
static void analyze_level(Query *q, RouterContext *ctx);
static bool unshippable_function(Oid funcid, void *context);
static Node *simplify_pin(Node *pin);
static Oid	pin_hash_function(RouterContext *ctx, Oid type);

/*
 * Register the planner GUCs and install the planner hook.
 */
void
sf_planner_init(void)
{
	DefineCustomBoolVariable("shardfdw.enable_router",
							 "Sends statements pinned to one shard to its worker in one piece.",
							 "When off, such statements are planned by the standard planner and run through the FDW.",
							 &shardfdw_enable_router,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	sf_register_router_scan();

	prev_planner_hook = planner_hook;
	planner_hook = sf_planner;
}

/*
 * The planner hook: the router when it applies, else the standard planner.
 */
static PlannedStmt *
sf_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	if (shardfdw_enable_router &&
		parse->utilityStmt == NULL &&
		(parse->commandType == CMD_SELECT ||
		 parse->commandType == CMD_INSERT ||
		 parse->commandType == CMD_UPDATE ||
		 parse->commandType == CMD_DELETE) &&
		(cursorOptions & CURSOR_OPT_SCROLL) == 0 &&
		sf_extension_present())
	{
		PlannedStmt *stmt = sf_plan_router(parse, cursorOptions);

		if (stmt != NULL)
			return stmt;
	}

	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions,
								 boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/*
 * Shard index (hash partition REMAINDER) of a distribution column value,
 * computed exactly as PostgreSQL routes a row of the hash-partitioned parent
 * (compute_partition_hash_value with one key column): NULL hashes to 0.
 * hashfn is the extended hash support function for the value's type in the
 * partition key's hash opfamily.
 */
int
sf_hash_remainder(Oid hashfn, Oid collation, Datum value, bool isnull,
				  int modulus)
{
	uint64		rowhash = 0;

	if (!isnull)
	{
		Datum		h = OidFunctionCall2Coll(hashfn, collation, value,
											 UInt64GetDatum(HASH_PARTITION_SEED));

		rowhash = hash_combine64(rowhash, DatumGetUInt64(h));
	}
	return (int) (rowhash % (uint64) modulus);
}

/*
 * Try to plan parse as a router statement.  Returns NULL to decline.
 */
static PlannedStmt *
sf_plan_router(Query *parse, int cursorOptions)
{
	RouterContext ctx;
	PlannedStmt *stmt;
	CustomScan *cscan;
	RangeTblEntry *scanrte;
	List	   *tlist = NIL;
	List	   *scan_tlist = NIL;
	List	   *colnames = NIL;
	List	   *rtable;
	ListCell   *lc;
	int			shardindex = -1;
	Oid			serverid = InvalidOid;
	Node	   *pin;
	char	   *sql = "";
	AttrNumber	attno = 0;
	Index		scanrti;
	Oid			pinhashfn = InvalidOid;

	memset(&ctx, 0, sizeof(ctx));
	ctx.top = parse;

	(void) router_walker((Node *) parse, &ctx);
	if (ctx.failed || !ctx.has_distributed || list_length(ctx.pins) != 1)
	{
		/* several constants may still agree on one shard */
		if (ctx.failed || !ctx.has_distributed || ctx.pins == NIL)
			return NULL;
		foreach(lc, ctx.pins)
		{
			Const	   *c = lfirst(lc);
			Oid			fn;
			int			idx;

			if (!IsA(c, Const))
				return NULL;
			fn = pin_hash_function(&ctx, c->consttype);
			if (!OidIsValid(fn))
				return NULL;
			idx = sf_hash_remainder(fn, ctx.keycollation, c->constvalue,
									c->constisnull, ctx.shardcount);
			if (shardindex >= 0 && idx != shardindex)
				return NULL;
			shardindex = idx;
		}
		pin = NULL;
	}
	else
	{
		pin = linitial(ctx.pins);
		if (IsA(pin, Const))
		{
			Const	   *c = (Const *) pin;
			Oid			fn = pin_hash_function(&ctx, c->consttype);

			if (!OidIsValid(fn))
				return NULL;
			shardindex = sf_hash_remainder(fn, ctx.keycollation,
										   c->constvalue, c->constisnull,
										   ctx.shardcount);
			pin = NULL;
		}
		else
		{
			/* the executor hashes the Param's value with this function */
			pinhashfn = pin_hash_function(&ctx, exprType(pin));
			if (!OidIsValid(pinhashfn))
				return NULL;
		}
	}

	/* result columns: the non-junk target list (or RETURNING list) */
	foreach(lc, parse->commandType == CMD_SELECT ? parse->targetList :
			parse->returningList)
	{
		TargetEntry *tle = lfirst(lc);
		Oid			type = exprType((Node *) tle->expr);
		Var		   *var;

		if (tle->resjunk)
			continue;
		/* values come back as text: need a real input function */
		if (type == RECORDOID || type == UNKNOWNOID ||
			get_typtype(type) == TYPTYPE_PSEUDO)
			return NULL;
		attno++;
		colnames = lappend(colnames,
						   makeString(pstrdup(tle->resname ? tle->resname : "?column?")));
		var = makeVar(0, attno, type, exprTypmod((Node *) tle->expr),
					  exprCollation((Node *) tle->expr), 0);
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) var, attno,
											 tle->resname, false));
	}

	/*
	 * With the shard known now, deparse once (and check that the shard can
	 * be used); with Params, the executor deparses with their values.
	 */
	if (shardindex >= 0)
	{
		sql = sf_shard_query_sql(parse, shardindex, NULL, &serverid, true);
		if (sql == NULL)
			return NULL;
		if (ctx.has_params)
			sql = "";
	}

	/*
	 * The range table: the statement's own (so the executor checks
	 * permissions on it), the relation RTEs of nested levels (permissions
	 * again), and one RTE naming the scan's output columns for EXPLAIN.
	 */
	rtable = list_concat(copyObject(parse->rtable),
						 copyObject(ctx.perm_rtes));
	scanrte = makeNode(RangeTblEntry);
	scanrte->rtekind = RTE_RESULT;
	scanrte->eref = makeAlias("remote_scan", colnames);
	scanrte->alias = NULL;
	scanrte->inFromCl = false;
	rtable = lappend(rtable, scanrte);
	scanrti = list_length(rtable);

	attno = 0;
	foreach(lc, scan_tlist)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;
		Var		   *outvar;

		var->varno = scanrti;
		var->varnosyn = scanrti;
		var->varattnosyn = var->varattno;
		outvar = makeVar(INDEX_VAR, var->varattno, var->vartype,
						 var->vartypmod, var->varcollid, 0);
		tlist = lappend(tlist, makeTargetEntry((Expr *) outvar, tle->resno,
											   tle->resname, false));
	}

	cscan = makeNode(CustomScan);
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.startup_cost = 0;
	cscan->scan.plan.total_cost = 1;
	cscan->scan.plan.plan_rows = 1;
	cscan->scan.plan.plan_width = 32;
	cscan->scan.plan.parallel_safe = false;
	cscan->scan.scanrelid = 0;
	cscan->flags = 0;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_relids = bms_make_singleton(scanrti);
	cscan->methods = &sf_router_scan_methods;
	cscan->custom_private = list_make5(copyObject(parse),
									   makeString(sql),
									   makeInteger(shardindex),
									   makeInteger((int) serverid),
									   copyObject(pin));
	cscan->custom_private = lappend(cscan->custom_private,
									list_make3_oid(pinhashfn,
												   ctx.keycollation,
												   ctx.anyrelid));
	cscan->custom_private = lappend(cscan->custom_private,
									makeInteger(ctx.shardcount));

	stmt = makeNode(PlannedStmt);
	stmt->commandType = parse->commandType;
	stmt->queryId = parse->queryId;
	stmt->hasReturning = (parse->returningList != NIL);
	stmt->hasModifyingCTE = parse->hasModifyingCTE;
	stmt->canSetTag = parse->canSetTag;
	stmt->transientPlan = false;
	stmt->dependsOnRole = false;
	stmt->parallelModeNeeded = false;
	stmt->jitFlags = 0;
	stmt->planTree = (Plan *) cscan;
	stmt->rtable = rtable;
	stmt->resultRelations = NIL;
	stmt->appendRelations = NIL;
	stmt->subplans = NIL;
	stmt->rewindPlanIDs = NULL;
	stmt->rowMarks = NIL;
	stmt->relationOids = ctx.relids;
	stmt->invalItems = NIL;
	stmt->paramExecTypes = NIL;
	stmt->utilityStmt = NULL;
	stmt->stmt_location = parse->stmt_location;
	stmt->stmt_len = parse->stmt_len;

	(void) cursorOptions;
	return stmt;
}

/*
 * Extended hash function for a pinning value of the given type, within the
 * partition key's hash opfamily; InvalidOid if there is none.
 */
static Oid
pin_hash_function(RouterContext *ctx, Oid type)
{
	if (type == ctx->keytype)
		return ctx->keyhashfn;
	return get_opfamily_proc(ctx->opfamily, type, type, HASHEXTENDED_PROC);
}

/* strip implicit binary-compatible casts */
static Node *
strip_relabel(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/* walker of is_pin_value: true if node cannot be part of a pinning value */
static bool
not_pin_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	if (IsA(node, Var) || IsA(node, SubLink) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, Query) || IsA(node, SQLValueFunction) ||
		IsA(node, NextValueExpr))
		return true;
	if (check_functions_in_node(node, unshippable_function, NULL))
		return true;
	return expression_tree_walker(node, not_pin_walker, context);
}

/*
 * Is node a value that can pin a shard: a constant, or an expression of
 * external Params and constants with immutable functions, evaluated once
 * (at planning or when the scan starts)?
 */
static bool
is_pin_value(Node *node)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return true;
	return !not_pin_walker(node, NULL) && !expression_returns_set(node);
}

/*
 * A pinning value folded to a Const when it has no Params.
 */
static Node *
simplify_pin(Node *pin)
{
	if (IsA(pin, Const))
		return pin;
	return eval_const_expressions(NULL, copyObject(pin));
}

/*
 * Learn the partition key of a distributed table (the first one seen) and
 * check that the others are co-located with it.
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
		ctx->failed = true;
}

/*
 * Walk every node of the statement: each Query level is analysed for pins
 * (analyze_level), every expression is checked for shippability.  Returns
 * true (stop) as soon as the statement cannot be routed.
 */
static bool
router_walker(Node *node, RouterContext *ctx)
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
		foreach(lc, q->windowClause)
		{
			WindowClause *wc = lfirst(lc);

			if (router_walker(wc->startOffset, ctx) ||
				router_walker(wc->endOffset, ctx))
				return true;
			if (OidIsValid(wc->startInRangeFunc) || OidIsValid(wc->endInRangeFunc))
			{
				if (unshippable_function(wc->startInRangeFunc, NULL) ||
					unshippable_function(wc->endInRangeFunc, NULL))
				{
					ctx->failed = true;
					return true;
				}
			}
		}
		if (query_tree_walker(q, router_walker, ctx, QTW_EXAMINE_SORTGROUP))
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

				if (agg->aggfnoid >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				return expression_tree_walker(node, router_walker, ctx);
			}
		case T_WindowFunc:
			{
				WindowFunc *wf = (WindowFunc *) node;

				if (wf->winfnoid >= FirstGenbkiObjectId)
				{
					ctx->failed = true;
					return true;
				}
				return expression_tree_walker(node, router_walker, ctx);
			}
		case T_Var:
			/* system columns differ on workers; whole rows are not deparsed as one column */
			if (((Var *) node)->varattno <= 0)
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
			if (((RowExpr *) node)->row_typeid != RECORDOID)
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
		case T_FuncExpr:
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_ScalarArrayOpExpr:
		case T_CoerceViaIO:
		case T_ArrayCoerceExpr:
		case T_RowCompareExpr:
		case T_MinMaxExpr:
			break;
		default:
			break;
	}

	if (check_functions_in_node(node, unshippable_function, NULL))
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
	return expression_tree_walker(node, router_walker, ctx);
}

/* check_functions_in_node callback: may funcid not be sent to a worker? */
static bool
unshippable_function(Oid funcid, void *context)
{
	if (funcid >= FirstGenbkiObjectId)
		return true;
	return func_volatile(funcid) != PROVOLATILE_IMMUTABLE;
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

/* Collect the conjuncts of WHERE and of inner JOIN ... ON in a jointree. */
static void
collect_quals(Node *jtnode, List **quals)
{
	if (jtnode == NULL)
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		ListCell   *lc;

		foreach(lc, f->fromlist)
			collect_quals(lfirst(lc), quals);
		*quals = list_concat(*quals,
							 make_ands_implicit((Expr *) f->quals));
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		collect_quals(j->larg, quals);
		collect_quals(j->rarg, quals);
		if (j->jointype == JOIN_INNER)
			*quals = list_concat(*quals,
								 make_ands_implicit((Expr *) j->quals));
	}
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
		if (rte->relkind == RELKIND_VIEW)
			continue;			/* expanded by the rewriter */
		table = sf_lookup_table(rte->relid);
		if (table == NULL)
		{
			ctx->failed = true;
			return;
		}
		if (table->kind == SF_KIND_HASH)
		{
			note_distributed_table(ctx, table);
			if (ctx->failed)
				return;
		}
		else if (table->kind != SF_KIND_REFERENCE)
		{
			ctx->failed = true;
			return;
		}
	}

	if (!ctx->has_distributed)
		return;

	/* equivalence classes from WHERE and inner join conditions */
	collect_quals((Node *) q->jointree, &quals);
	foreach(lc, quals)
	{
		OpExpr	   *op = lfirst(lc);
		Node	   *l;
		Node	   *r;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		l = strip_relabel(linitial(op->args));
		r = strip_relabel(lsecond(op->args));
		if (!op_in_opfamily(op->opno, ctx->opfamily) ||
			get_op_opfamily_strategy(op->opno, ctx->opfamily) != HTEqualStrategyNumber)
			continue;
		if (OidIsValid(ctx->keycollation) &&
			op->inputcollid != ctx->keycollation)
			continue;
		if (IsA(l, Var) && ((Var *) l)->varlevelsup == 0 &&
			((IsA(r, Var) && ((Var *) r)->varlevelsup == 0) || is_pin_value(r)))
			classes = merge_items(classes, l, r);
		else if (IsA(r, Var) && ((Var *) r)->varlevelsup == 0 && is_pin_value(l))
			classes = merge_items(classes, r, l);
	}

	/* every distributed table of this level must be pinned */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;
		Var		   *distvar;
		bool		pinned = false;
		ListCell   *lc2;

		rti++;
		if (rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_VIEW)
			continue;
		table = sf_lookup_table(rte->relid);
		if (table == NULL || table->kind != SF_KIND_HASH)
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
			expr = strip_relabel((Node *) tle->expr);
			if (is_pin_value(expr))
				ctx->pins = list_append_unique(ctx->pins, simplify_pin(expr));
			else if (IsA(expr, Var) && ((Var *) expr)->varlevelsup == 0 &&
					 rt_fetch(((Var *) expr)->varno, q->rtable)->rtekind == RTE_VALUES)
			{
				RangeTblEntry *vrte = rt_fetch(((Var *) expr)->varno, q->rtable);

				foreach(lc2, vrte->values_lists)
				{
					List	   *row = lfirst(lc2);
					Node	   *v = strip_relabel(list_nth(row,
														   ((Var *) expr)->varattno - 1));

					if (!is_pin_value(v) ||
						!IsA((v = simplify_pin(v)), Const))
					{
						ctx->failed = true;
						return;
					}
					ctx->pins = list_append_unique(ctx->pins, v);
				}
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

		distvar = makeVar(rti, table->distattnum, InvalidOid, -1,
						  InvalidOid, 0);
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

				if (is_pin_value(item))
				{
					ctx->pins = list_append_unique(ctx->pins,
												   simplify_pin(item));
					pinned = true;
				}
			}
		}
		pfree(distvar);
		if (!pinned)
		{
			ctx->failed = true;
			return;
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
