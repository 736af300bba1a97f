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
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
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
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "access/table.h"

bool		shardfdw_enable_router = true;
bool		shardfdw_enable_multi_shard = true;
bool		shardfdw_enable_two_phase_agg = true;
bool		shardfdw_enable_multi_shard_dml = true;

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
	bool		unpinned;		/* a distributed table is not pinned */
	bool		nested_distributed; /* a distributed table below the top */
	bool		outer_joins;	/* the top level has outer joins */
	bool		has_reference;	/* the statement reads a reference table */
	List	   *top_classes;	/* top level classes, outer join ON included */
	List	   *top_distvars;	/* top level distribution column Vars */
	List	   *stable_exprs;	/* expressions computed on the coordinator */
	int			stable_base;	/* paramid of the first of them */
	List	   *relids;			/* OIDs of every relation (invalidation) */
	List	   *perm_rtes;		/* relation RTEs of nested levels */
	Query	   *top;			/* the statement */
} RouterContext;

/* State of stable_mutator */
typedef struct StableContext
{
	List	   *exprs;			/* the expressions replaced, in paramid order */
	int			base;			/* paramid of the first */
	int			maxparam;		/* highest external paramid seen */
} StableContext;

static bool max_param_walker(Node *node, StableContext *ctx);
static PlannedStmt *sf_planner(Query *parse, const char *query_string,
							   int cursorOptions, ParamListInfo boundParams);
static PlannedStmt *sf_plan_router(Query *parse, int cursorOptions);
static PlannedStmt *sf_plan_multi_shard(Query *parse, RouterContext *ctx);
static List *prune_shards(Query *parse, RouterContext *ctx);
static PlannedStmt *sf_plan_multi_shard_dml(Query *parse, RouterContext *ctx);
static bool is_pin_value(Node *node);
static void collect_quals(Node *jtnode, List **quals, bool outer,
						  bool *has_outer);
static bool router_walker(Node *node, RouterContext *ctx);
static void analyze_level(Query *q, RouterContext *ctx);
static bool unshippable_function(Oid funcid, void *context);
static Node *simplify_pin(Node *pin);
static Node *strip_relabel(Node *node);
static Query *prepare_insert_values(Query *parse, List **preeval);
static Query *prepare_stable_exprs(Query *parse, RouterContext *rctx);
static bool not_pin_walker_base(Node *node);
static List *build_classes(List *quals, RouterContext *ctx);
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

	DefineCustomBoolVariable("shardfdw.enable_multi_shard",
							 "Runs co-located SELECTs on every shard concurrently and merges the rows.",
							 "When off, such statements are planned by the standard planner and run through the FDW.",
							 &shardfdw_enable_multi_shard,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.enable_two_phase_agg",
							 "Splits aggregates not grouped by the distribution column into worker partials and a coordinator combine.",
							 "When off, such statements are planned by the standard planner and run through the FDW.",
							 &shardfdw_enable_two_phase_agg,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.enable_multi_shard_dml",
							 "Runs UPDATE and DELETE over several shards as one statement per shard on the workers.",
							 "When off, such statements are planned by the standard planner and run through the FDW.",
							 &shardfdw_enable_multi_shard_dml,
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
	if ((shardfdw_enable_router || shardfdw_enable_multi_shard) &&
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
 * The output columns of the scan: the statement's non-junk target list (or
 * RETURNING list), as Vars of the scan's own RTE.  NIL with *ok = false when
 * a column cannot come back as text.
 */
static List *
scan_output_columns(Query *parse, List **colnames, bool *ok)
{
	List	   *scan_tlist = NIL;
	ListCell   *lc;
	AttrNumber	attno = 0;

	*ok = true;
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
		{
			*ok = false;
			return NIL;
		}
		attno++;
		*colnames = lappend(*colnames,
							makeString(pstrdup(tle->resname ? tle->resname : "?column?")));
		var = makeVar(0, attno, type, exprTypmod((Node *) tle->expr),
					  exprCollation((Node *) tle->expr), 0);
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) var, attno,
											 tle->resname, false));
	}
	return scan_tlist;
}

/*
 * A target list of Vars of varno over the columns of scan_tlist (what an
 * upper node passes on unchanged).
 */
static List *
pass_through_tlist(List *scan_tlist, int varno)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	foreach(lc, scan_tlist)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;

		tlist = lappend(tlist,
						makeTargetEntry((Expr *) makeVar(varno, var->varattno,
														 var->vartype,
														 var->vartypmod,
														 var->varcollid, 0),
										tle->resno, tle->resname, false));
	}
	return tlist;
}

/*
 * The CustomScan of a distributed plan and the PlannedStmt around it (with
 * top, the nodes above the scan, if any).  private is the custom_private
 * list (SfRouterPrivateIndex).
 */
static PlannedStmt *
make_distributed_stmt(Query *parse, RouterContext *ctx, List *scan_tlist,
					  List *colnames, List *private,
					  Plan *(*add_top) (Query *, Plan *, List *, void *),
					  void *arg)
{
	PlannedStmt *stmt;
	CustomScan *cscan;
	RangeTblEntry *scanrte;
	List	   *rtable;
	ListCell   *lc;
	Index		scanrti;
	Plan	   *top;

	/*
	 * The range table: the statement's own (so the executor checks
	 * permissions on it), the relation RTEs of nested levels (permissions
	 * again), and one RTE naming the scan's output columns for EXPLAIN.
	 */
	rtable = list_concat(copyObject(parse->rtable),
						 copyObject(ctx->perm_rtes));
	scanrte = makeNode(RangeTblEntry);
	scanrte->rtekind = RTE_RESULT;
	scanrte->eref = makeAlias("remote_scan", colnames);
	scanrte->alias = NULL;
	scanrte->inFromCl = false;
	rtable = lappend(rtable, scanrte);
	scanrti = list_length(rtable);

	foreach(lc, scan_tlist)
	{
		Var		   *var = (Var *) ((TargetEntry *) lfirst(lc))->expr;

		var->varno = scanrti;
		var->varnosyn = scanrti;
		var->varattnosyn = var->varattno;
	}

	cscan = makeNode(CustomScan);
	cscan->scan.plan.targetlist = pass_through_tlist(scan_tlist, INDEX_VAR);
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
	cscan->custom_private = private;

	top = (Plan *) cscan;
	if (add_top)
		top = add_top(parse, top, scan_tlist, arg);

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
	stmt->planTree = top;
	stmt->rtable = rtable;
	stmt->resultRelations = NIL;
	stmt->appendRelations = NIL;
	stmt->subplans = NIL;
	stmt->rewindPlanIDs = NULL;
	stmt->rowMarks = NIL;
	stmt->relationOids = ctx->relids;
	stmt->invalItems = NIL;
	stmt->paramExecTypes = NIL;
	stmt->utilityStmt = NULL;
	stmt->stmt_location = parse->stmt_location;
	stmt->stmt_len = parse->stmt_len;
	return stmt;
}

/* The custom_private list of a distributed scan (see SfRouterPrivateIndex) */
static List *
make_private(Query *query, const char *sql, int shardindex, Oid serverid,
			 Node *pin, Oid pinhashfn, RouterContext *ctx, int strategy,
			 List *tasks, List *preeval, List *shards)
{
	List	   *private;

	private = list_make5(copyObject(query),
						 makeString(pstrdup(sql)),
						 makeInteger(shardindex),
						 makeInteger((int) serverid),
						 copyObject(pin));
	private = lappend(private, list_make3_oid(pinhashfn, ctx->keycollation,
											  ctx->anyrelid));
	private = lappend(private, makeInteger(ctx->shardcount));
	private = lappend(private, makeInteger(strategy));
	private = lappend(private, tasks);
	private = lappend(private, shards);
	private = lappend(private, copyObject(preeval));
	private = lappend(private, copyObject(ctx->stable_exprs));
	private = lappend(private, makeInteger(ctx->stable_base));
	return private;
}

/*
 * Try to plan parse for the workers: the router when one shard is pinned,
 * else a multi-shard SELECT.  Returns NULL to decline.
 */
static PlannedStmt *
sf_plan_router(Query *parse, int cursorOptions)
{
	RouterContext ctx;
	List	   *scan_tlist;
	List	   *colnames = NIL;
	ListCell   *lc;
	int			shardindex = -1;
	Oid			serverid = InvalidOid;
	Node	   *pin;
	char	   *sql = "";
	Oid			pinhashfn = InvalidOid;
	bool		ok;
	List	   *preeval = NIL;

	memset(&ctx, 0, sizeof(ctx));

	/* a one-row INSERT: values the coordinator computes at run time */
	if (parse->commandType == CMD_INSERT)
		parse = prepare_insert_values(parse, &preeval);
	/* stable Var-free expressions (now() ...): computed on the coordinator */
	parse = prepare_stable_exprs(parse, &ctx);
	ctx.top = parse;

	(void) router_walker((Node *) parse, &ctx);
	if (ctx.failed || !ctx.has_distributed)
		return NULL;
	if (ctx.unpinned)
		return shardfdw_enable_multi_shard ?
			sf_plan_multi_shard(parse, &ctx) : NULL;
	if (!shardfdw_enable_router || ctx.pins == NIL)
		return NULL;

	if (list_length(ctx.pins) != 1)
	{
		/* several constants may still agree on one shard */
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
			/* the executor hashes the pin's value with this function */
			pinhashfn = pin_hash_function(&ctx, exprType(pin));
			if (!OidIsValid(pinhashfn))
				return NULL;
		}
	}

	scan_tlist = scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;

	/*
	 * With the shard known now, deparse once (and check that the shard can
	 * be used); with Params, the executor deparses with their values.
	 */
	if (shardindex >= 0)
	{
		sql = sf_shard_query_sql(parse, shardindex, NULL, &serverid, true);
		if (sql == NULL)
			return NULL;
		if (ctx.has_params || preeval != NIL)
			sql = "";
	}

	(void) cursorOptions;
	return make_distributed_stmt(parse, &ctx, scan_tlist, colnames,
								 make_private(parse, sql, shardindex,
											  serverid, pin, pinhashfn,
											  &ctx, SF_STRATEGY_ROUTER, NIL,
											  preeval, NIL),
								 NULL, NULL);
}

/*
 * What add_top_nodes puts above a multi-shard scan.
 */
typedef struct TopNodes
{
	List	   *sortcols;		/* output positions of the ORDER BY keys */
	Agg		   *agg;			/* two-phase: the combining Agg, or NULL */
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
 * The nodes above a multi-shard scan: the combining Agg of a two-phase
 * aggregate, then a Sort (the statement's sort operators, collations and
 * NULLS order) over the rows of all shards (each already limited to its
 * top offset + count rows when LIMIT was pushed) and a Limit.
 */
static Plan *
add_top_nodes(Query *parse, Plan *scan, List *scan_tlist, void *arg)
{
	TopNodes   *nodes = (TopNodes *) arg;
	Plan	   *top = scan;
	List	   *out_tlist = scan_tlist;

	if (nodes->agg != NULL)
	{
		nodes->agg->plan.lefttree = top;
		top = (Plan *) nodes->agg;
		out_tlist = nodes->agg->plan.targetlist;
	}
	if (nodes->sortcols != NIL)
	{
		Sort	   *sort = makeNode(Sort);
		int			n = list_length(parse->sortClause);
		int			i = 0;
		ListCell   *lc;

		sort->plan.targetlist = vars_over_tlist(out_tlist, OUTER_VAR);
		sort->plan.lefttree = top;
		sort->plan.startup_cost = 1;
		sort->plan.total_cost = 2;
		sort->plan.plan_rows = 1;
		sort->plan.plan_width = 32;
		sort->numCols = n;
		sort->sortColIdx = palloc(sizeof(AttrNumber) * n);
		sort->sortOperators = palloc(sizeof(Oid) * n);
		sort->collations = palloc(sizeof(Oid) * n);
		sort->nullsFirst = palloc(sizeof(bool) * n);
		foreach(lc, parse->sortClause)
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
	if (parse->limitCount != NULL || parse->limitOffset != NULL)
	{
		Limit	   *limit = makeNode(Limit);

		limit->plan.targetlist = vars_over_tlist(out_tlist, OUTER_VAR);
		limit->plan.lefttree = top;
		limit->plan.startup_cost = 1;
		limit->plan.total_cost = 2;
		limit->plan.plan_rows = 1;
		limit->plan.plan_width = 32;
		limit->limitOffset = copyObject(parse->limitOffset);
		limit->limitCount = copyObject(parse->limitCount);
		limit->limitOption = LIMIT_OPTION_COUNT;
		top = (Plan *) limit;
	}
	return top;
}

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
static Agg *
plan_two_phase(Query *parse, List **worker_tlist)
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

/* Is expr (a LIMIT or OFFSET) absent or a non-NULL bigint constant? */
static bool
simple_limit(Node *expr, int64 *value)
{
	*value = 0;
	if (expr == NULL)
		return true;
	expr = eval_const_expressions(NULL, copyObject(expr));
	if (!IsA(expr, Const) || ((Const *) expr)->consttype != INT8OID)
		return false;
	if (((Const *) expr)->constisnull)
		return false;
	*value = DatumGetInt64(((Const *) expr)->constvalue);
	return *value >= 0;
}

/*
 * Shard pruning of a multi-shard SELECT: a conjunct of WHERE (or of an
 * inner join's ON) "dist = ANY (constant array)" / "dist IN (constants)" on
 * the distribution column of a distributed table of the top level keeps
 * only rows of the shards those values hash to; every output row is made
 * of rows of one shard (the tables are joined on the distribution column),
 * so the other shards' tasks can be skipped.  Several such conjuncts
 * intersect.  Returns the shard indexes to run (at least one, so that an
 * aggregate without GROUP BY still gets its row), or NIL on failure.
 */
static List *
prune_shards(Query *parse, RouterContext *ctx)
{
	bool	   *keep = palloc(sizeof(bool) * ctx->shardcount);
	List	   *quals = NIL;
	List	   *result = NIL;
	bool		has_outer = false;
	ListCell   *lc;
	int			i;

	for (i = 0; i < ctx->shardcount; i++)
		keep[i] = true;
	collect_quals((Node *) parse->jointree, &quals, false, &has_outer);
	foreach(lc, quals)
	{
		ScalarArrayOpExpr *saop = lfirst(lc);
		Node	   *left;
		Node	   *right;
		bool		is_dist = false;
		ListCell   *lc2;
		ArrayType  *array;
		Oid			elemtype;
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *values;
		bool	   *nulls;
		int			n;
		Oid			hashfn;
		bool	   *hit;

		if (!IsA(saop, ScalarArrayOpExpr) || !saop->useOr ||
			list_length(saop->args) != 2 ||
			!op_in_opfamily(saop->opno, ctx->opfamily) ||
			get_op_opfamily_strategy(saop->opno, ctx->opfamily) != HTEqualStrategyNumber ||
			(OidIsValid(ctx->keycollation) &&
			 saop->inputcollid != ctx->keycollation))
			continue;
		left = strip_relabel(linitial(saop->args));
		if (!IsA(left, Var) || ((Var *) left)->varlevelsup != 0)
			continue;
		foreach(lc2, ctx->top_distvars)
		{
			Var		   *dv = lfirst(lc2);

			if (dv->varno == ((Var *) left)->varno &&
				dv->varattno == ((Var *) left)->varattno)
				is_dist = true;
		}
		if (!is_dist)
			continue;
		right = lsecond(saop->args);
		if (!is_pin_value(right))
			continue;
		right = simplify_pin(right);
		if (!IsA(right, Const) || ((Const *) right)->constisnull)
			continue;
		array = DatumGetArrayTypeP(((Const *) right)->constvalue);
		elemtype = ARR_ELEMTYPE(array);
		hashfn = pin_hash_function(ctx, elemtype);
		if (!OidIsValid(hashfn))
			continue;
		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(array, elemtype, typlen, typbyval, typalign,
						  &values, &nulls, &n);
		hit = palloc0(sizeof(bool) * ctx->shardcount);
		for (i = 0; i < n; i++)
			if (!nulls[i])	/* NULL never equals */
				hit[sf_hash_remainder(hashfn, ctx->keycollation, values[i],
									  false, ctx->shardcount)] = true;
		for (i = 0; i < ctx->shardcount; i++)
			keep[i] = keep[i] && hit[i];
	}
	for (i = 0; i < ctx->shardcount; i++)
		if (keep[i])
			result = lappend_int(result, i);
	if (result == NIL)
		result = list_make1_int(0);
	return result;
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
	List	   *distclass = NIL;
	ListCell   *lc;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	bool		ok;

	if (!shardfdw_enable_multi_shard_dml || ctx->nested_distributed ||
		parse->hasModifyingCTE || parse->cteList != NIL ||
		(ctx->has_reference && ctx->outer_joins))
		return NULL;

	/* one class holds every distribution column of the top level */
	foreach(lc, ctx->top_distvars)
	{
		Var		   *dv = lfirst(lc);
		List	   *found = NIL;
		ListCell   *lc2;

		if (list_length(ctx->top_distvars) == 1)
			break;
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
		if (found == NIL || (distclass != NIL && found != distclass))
			return NULL;
		distclass = found;
	}

	scan_tlist = scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;
	shards = prune_shards(parse, ctx);
	if (shards == NIL)
		return NULL;
	if (!ctx->has_params)
	{
		foreach(lc, shards)
		{
			Oid			server;
			char	   *shardsql = sf_shard_query_sql(parse, lfirst_int(lc), NULL,
													  &server, true);

			if (shardsql == NULL)
				return NULL;
			if (tasks == NIL)
			{
				sql = shardsql;
				serverid = server;
			}
			tasks = lappend(tasks, list_make2(makeInteger((int) server),
											  makeString(shardsql)));
		}
	}
	return make_distributed_stmt(parse, ctx, scan_tlist, colnames,
								 make_private(parse, sql, -1, serverid,
											  NULL, InvalidOid, ctx,
											  SF_STRATEGY_MULTI_SHARD, tasks,
											  NIL, shards),
								 NULL, NULL);
}

/*
 * Multi-shard pushdown of a SELECT: every distributed table at the top
 * level (none below it) co-located and joined on the distribution column
 * (an equivalence class that holds all their distribution columns), so each
 * shard's rows join only with rows of the same shard; reference tables
 * allowed except with outer joins (their unmatched rows would repeat per
 * shard).  Aggregates only when grouped by the distribution column, so that
 * groups do not span shards.  No DISTINCT, window functions, set operations
 * or row locks.  ORDER BY / LIMIT: each shard returns its top offset + count
 * rows, the coordinator sorts and limits.
 */
static PlannedStmt *
sf_plan_multi_shard(Query *parse, RouterContext *ctx)
{
	List	   *scan_tlist;
	List	   *colnames = NIL;
	TopNodes	top = {NIL, NULL};
	List	   *shards;
	List	   *worker_tlist = NIL;
	List	   *distclass = NIL;
	ListCell   *lc;
	Query	   *worker;
	List	   *tasks = NIL;
	char	   *sql = "";
	Oid			serverid = InvalidOid;
	int64		count;
	int64		offset;
	bool		ok;

	if (parse->commandType == CMD_UPDATE || parse->commandType == CMD_DELETE)
		return sf_plan_multi_shard_dml(parse, ctx);
	if (parse->commandType != CMD_SELECT || ctx->nested_distributed ||
		parse->setOperations != NULL || parse->hasWindowFuncs ||
		parse->distinctClause != NIL || parse->rowMarks != NIL ||
		parse->hasModifyingCTE || parse->groupingSets != NIL ||
		parse->hasTargetSRFs ||
		(ctx->has_reference && ctx->outer_joins) ||
		parse->limitOption != LIMIT_OPTION_COUNT ||
		!simple_limit(parse->limitCount, &count) ||
		!simple_limit(parse->limitOffset, &offset))
		return NULL;

	/* one class holds every distribution column of the top level */
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
			return NULL;
		distclass = found;
	}

	/* aggregation: the groups must not span shards */
	if (parse->hasAggs || parse->groupClause != NIL || parse->havingQual)
	{
		bool		by_dist = false;

		foreach(lc, parse->groupClause)
		{
			SortGroupClause *sgc = lfirst(lc);
			TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);
			Node	   *expr = strip_relabel((Node *) tle->expr);
			ListCell   *lc2;

			if (!IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
				continue;
			foreach(lc2, distclass)
			{
				Var		   *v = lfirst(lc2);

				if (IsA(v, Var) && v->varno == ((Var *) expr)->varno &&
					v->varattno == ((Var *) expr)->varattno)
					by_dist = true;
			}
		}
		if (!by_dist)
		{
			if (!shardfdw_enable_two_phase_agg)
				return NULL;
			top.agg = plan_two_phase(parse, &worker_tlist);
			if (top.agg == NULL)
				return NULL;
		}
	}

	/* the coordinator's Agg cannot see the Params of stable expressions */
	if (top.agg != NULL && ctx->stable_exprs != NIL)
	{
		StableContext sc;

		memset(&sc, 0, sizeof(sc));
		(void) max_param_walker((Node *) top.agg->plan.targetlist, &sc);
		(void) max_param_walker((Node *) top.agg->plan.qual, &sc);
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
		worker->sortClause = NIL;
	}

	scan_tlist = scan_output_columns(worker, &colnames, &ok);
	if (!ok)
		return NULL;

	/* ORDER BY: columns of the output, sorted again on the coordinator */
	foreach(lc, parse->sortClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);
		ListCell   *lc2;
		int			pos = 0;
		int			found = 0;

		if (tle->resjunk || !OidIsValid(sgc->sortop))
			return NULL;
		foreach(lc2, parse->targetList)
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
		foreach(lc, shards)
		{
			Oid			server;
			int			i = lfirst_int(lc);
			char	   *shardsql = sf_shard_query_sql(worker, i, NULL,
													  &server, true);

			if (shardsql == NULL)
				return NULL;
			if (tasks == NIL)
			{
				sql = shardsql;
				serverid = server;
			}
			tasks = lappend(tasks, list_make2(makeInteger((int) server),
											  makeString(shardsql)));
		}
	}

	return make_distributed_stmt(parse, ctx, scan_tlist, colnames,
								 make_private(worker, sql, -1, serverid,
											  NULL, InvalidOid, ctx,
											  top.agg ? SF_STRATEGY_TWO_PHASE :
											  SF_STRATEGY_MULTI_SHARD, tasks, NIL,
											  shards),
								 add_top_nodes, &top);
}

/* walker of prepare_insert_values: true if node needs a row or a subquery */
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
 * A one-row INSERT ... VALUES evaluates each value once, so values that may
 * not be sent to a worker (nextval() of a serial default, now(), random(),
 * domain checks, user functions) can be computed on the coordinator when
 * the scan starts, exactly as a local INSERT would, and sent as literals.
 * Returns a copy of parse whose such values are NULL placeholders, and in
 * *preeval the original values (TargetEntry, by resno); or parse itself
 * when there is nothing to do.  The distribution column is left alone (it
 * must pin the shard at planning or from parameters).
 */
static Query *
prepare_insert_values(Query *parse, List **preeval)
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

	copy = copyObject(parse);
	foreach(lc, copy->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;

		if (tle->resjunk || tle->resno == distattnum || IsA(expr, Const) ||
			not_pre_evaluable(expr, NULL) || expression_returns_set(expr))
			continue;
		/* only what the router would refuse to send */
		if (!contain_mutable_functions(expr) &&
			!check_functions_in_node(expr, unshippable_function, NULL) &&
			!IsA(expr, CoerceToDomain) && exprType(expr) < FirstGenbkiObjectId)
		{
			RouterContext probe;

			memset(&probe, 0, sizeof(probe));
			if (!router_walker(expr, &probe))
				continue;
		}
		*preeval = lappend(*preeval, copyObject(tle));
		tle->expr = (Expr *) makeNullConst(exprType(expr), exprTypmod(expr),
										   exprCollation(expr));
	}
	if (*preeval == NIL)
		return parse;
	return copy;
}

/* walker: highest external paramid of a statement */
static bool
max_param_walker(Node *node, StableContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, max_param_walker, ctx, 0);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
		ctx->maxparam = Max(ctx->maxparam, ((Param *) node)->paramid);
	return expression_tree_walker(node, max_param_walker, ctx);
}

/* check_functions_in_node callback: volatile? */
static bool
volatile_function(Oid funcid, void *context)
{
	return func_volatile(funcid) == PROVOLATILE_VOLATILE;
}

/* walker: does an expression need evaluating on the coordinator? */
static bool
needs_coordinator_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SQLValueFunction))
		return true;
	if (check_functions_in_node(node, unshippable_function, NULL))
		return true;
	return expression_tree_walker(node, needs_coordinator_walker, context);
}

/* walker: may never be computed on the coordinator ahead of the rows */
static bool
not_stable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (not_pin_walker_base(node))
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

/*
 * Expressions without column references, subqueries or aggregates whose
 * functions are stable (now(), CURRENT_DATE, to_char of a constant
 * timestamptz...) or not built in (but not volatile) have one value per
 * execution; PostgreSQL itself may compute them once.  They are replaced
 * by extra external Params (numbered after the statement's own) and
 * computed on the coordinator when the scan starts, so the rest of the
 * statement can go to workers.  Returns parse or a rewritten copy.
 */
static Query *
prepare_stable_exprs(Query *parse, RouterContext *rctx)
{
	StableContext ctx;
	Query	   *copy;

	memset(&ctx, 0, sizeof(ctx));
	(void) max_param_walker((Node *) parse, &ctx);
	ctx.base = ctx.maxparam + 1;
	copy = query_tree_mutator(parse, stable_mutator, &ctx, 0);
	if (ctx.exprs == NIL)
		return parse;
	rctx->stable_exprs = ctx.exprs;
	rctx->stable_base = ctx.base;
	return copy;
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

/* a node that needs a row, a subquery or the executor's own state */
static bool
not_pin_walker_base(Node *node)
{
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	return IsA(node, Var) || IsA(node, SubLink) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, Query) || IsA(node, CurrentOfExpr) ||
		IsA(node, SetToDefault) || IsA(node, CaseTestExpr) ||
		IsA(node, CoerceToDomainValue);
}

/* walker of is_pin_value: true if node cannot be part of a pinning value */
static bool
not_pin_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (not_pin_walker_base(node) || IsA(node, SQLValueFunction) ||
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

/*
 * Collect the conjuncts of WHERE and of inner JOIN ... ON in a jointree
 * (with outer, those of outer joins' ON too: rows joined through them are
 * equal on both sides, though rows of the preserved side are not
 * restricted by them).  *has_outer is set when there are outer joins.
 */
static void
collect_quals(Node *jtnode, List **quals, bool outer, bool *has_outer)
{
	if (jtnode == NULL)
		return;
	if (IsA(jtnode, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jtnode;
		ListCell   *lc;

		foreach(lc, f->fromlist)
			collect_quals(lfirst(lc), quals, outer, has_outer);
		*quals = list_concat(*quals,
							 make_ands_implicit((Expr *) f->quals));
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		collect_quals(j->larg, quals, outer, has_outer);
		collect_quals(j->rarg, quals, outer, has_outer);
		if (j->jointype != JOIN_INNER)
			*has_outer = true;
		if (j->jointype == JOIN_INNER || outer)
			*quals = list_concat(*quals,
								 make_ands_implicit((Expr *) j->quals));
	}
}

/*
 * Equivalence classes (see merge_items) from a list of conjuncts: equalities
 * of the partition key's hash opfamily and collation between Vars of this
 * level and pinning values.
 */
static List *
build_classes(List *quals, RouterContext *ctx)
{
	List	   *classes = NIL;
	ListCell   *lc;

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
		else if (table->kind == SF_KIND_REFERENCE)
			ctx->has_reference = true;
		else
		{
			ctx->failed = true;
			return;
		}
	}

	if (!ctx->has_distributed)
		return;

	/* equivalence classes from WHERE and inner join conditions */
	collect_quals((Node *) q->jointree, &quals, false, &has_outer);
	classes = build_classes(quals, ctx);
	if (q == ctx->top)
	{
		List	   *all = NIL;

		collect_quals((Node *) q->jointree, &all, true, &has_outer);
		ctx->top_classes = build_classes(all, ctx);
		ctx->outer_joins = has_outer;
	}

	/* every distributed table of this level must be pinned */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		const SfTable *table;
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
