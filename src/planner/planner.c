/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  The planner hook, the GUCs, and what every strategy's plan is made of.
 *
 * The hook looks at the Query before PostgreSQL plans it.  The analysis
 * (analysis.c) decides whether the whole statement may go to workers and
 * which shards it is pinned to; then the router (single_shard.c), the
 * multi-shard strategy (multi_shard.c, with two_phase_agg.c) plan a single
 * CustomScan, executed by src/executor.  Any statement that does not
 * qualify, for any reason, goes to the standard planner unchanged (the FDW
 * path), so declining is always safe.
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
#include "access/xact.h"
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
#include "fdw.h"
#include "foreign/fdwapi.h"
#include "optimizer/clauses.h"
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
#include "utils/resowner.h"
#include "access/table.h"
#include "planner_internal.h"

bool		shardfdw_enable_router = true;
bool		shardfdw_enable_multi_shard = true;
bool		shardfdw_enable_two_phase_agg = true;
bool		shardfdw_enable_distinct_merge = true;
bool		shardfdw_float_partial_aggregates = true;
bool		shardfdw_enable_multi_shard_dml = true;
bool		shardfdw_parameterize_literals = true;
bool		shardfdw_enable_coordinator_subqueries = true;

/* test hook: planning a flattened statement fails (see plan_flattened) */
static bool shardfdw_test_flattened_error = false;

static planner_hook_type prev_planner_hook = NULL;

static PlannedStmt *sf_planner(Query *parse, const char *query_string,
							   int cursorOptions, ParamListInfo boundParams);
static PlannedStmt *sf_plan_distributed(Query *parse, bool *one_shard);

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

	DefineCustomBoolVariable("shardfdw.enable_distinct_merge",
							 "Counts DISTINCT values of two-phase aggregates by merging sorted, de-duplicated streams from the workers.",
							 "When off, the workers return the values per shard and the coordinator's aggregate sorts them.",
							 &shardfdw_enable_distinct_merge,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.float_partial_aggregates",
							 "Splits sum, avg, variance and stddev of float4 and float8 into worker partials and a coordinator combine.",
							 "Floating-point addition is not associative: the result may differ from a plan that adds the rows in another order in the last digits, as a parallel plan of PostgreSQL's may.  When off, such aggregates take the standard path.",
							 &shardfdw_float_partial_aggregates,
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

	DefineCustomBoolVariable("shardfdw.enable_coordinator_subqueries",
							 "Computes an uncorrelated subquery that keeps a statement off the workers on the coordinator first, and sends its result to the workers.",
							 "x IN (SELECT ...), EXISTS (SELECT ...) or a scalar subquery over tables the statement's shards cannot join with. When off, such statements are planned by the standard planner and run through the FDW.",
							 &shardfdw_enable_coordinator_subqueries,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.parameterize_literals",
							 "Sends the constants of router statements to workers as parameters.",
							 "Router statements that differ only in their constants then share one prepared statement on each worker connection (shardfdw.max_cached_remote_statements), so the worker parses and plans it once.",
							 &shardfdw_parameterize_literals,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.verify_shape_cache",
							 "Checks every router worker statement taken from the shape cache against the deparsed one (for tests).",
							 "A difference is an ERROR.  Costs the planning time the cache saves.",
							 &shardfdw_verify_shape_cache,
							 false,
							 PGC_USERSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardfdw.test_flattened_error",
							 "Makes the planning of every flattened statement fail (for tests).",
							 "Shows that a statement whose views or FROM subqueries were pulled up falls back to its plan as written when the flattened one cannot be planned.",
							 &shardfdw_test_flattened_error,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							 NULL, NULL, NULL);
	sf_broadcast_join_init();
	sf_shard_query_init();

	sf_register_router_scan();
	sf_register_merge_scan();

	prev_planner_hook = planner_hook;
	planner_hook = sf_planner;
}

/*
 * INSERT ... ON CONFLICT with a conflict target on a distributed table runs
 * only through the router (on one shard, where the unique index is, or,
 * for VALUES rows whose keys are constants or parameters, one statement
 * per shard or per row): the coordinator's parent has no unique index and
 * PostgreSQL allows no ON CONFLICT DO UPDATE on foreign partitions.  Say
 * so instead of letting the standard planner complain that no constraint
 * matches.
 */
static void
check_on_conflict(Query *parse)
{
	RangeTblEntry *rte;

	if (parse->commandType != CMD_INSERT || parse->onConflict == NULL ||
		(parse->onConflict->action == ONCONFLICT_NOTHING &&
		 parse->onConflict->arbiterElems == NIL &&
		 !OidIsValid(parse->onConflict->constraint)) ||
		!sf_extension_present())
		return;
	rte = rt_fetch(parse->resultRelation, parse->rtable);
	if (!sf_is_distributed_table(rte->relid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("INSERT ... ON CONFLICT on distributed table \"%s\" cannot run on its shards",
					get_rel_name(rte->relid)),
			 errdetail("The unique indexes of a distributed table live on its shards, so the conflict can only be checked by sending the statement to the shards whole: one statement, or one per shard (or per row) for the rows of a multi-row INSERT ... VALUES."),
			 errhint("Give the distribution column of each row a constant or a parameter, use only built-in immutable functions and no subqueries, name the conflict target columns instead of a constraint and, with DO UPDATE ... WHERE and RETURNING over several shards, name plain columns without an index predicate%s.",
					 !shardfdw_enable_router ? ", and turn shardfdw.enable_router on" :
					 !shardfdw_enable_multi_shard_dml ? ", and turn shardfdw.enable_multi_shard_dml on" : "")));
}

/*
 * Does an error of this code stop the statement whatever the planner would
 * do next?  Cancels, shutdowns, lack of memory or disk, corruption.
 */
static bool
error_ends_statement(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_INSUFFICIENT_RESOURCES ||
		category == ERRCODE_OPERATOR_INTERVENTION ||
		category == ERRCODE_SYSTEM_ERROR ||
		sqlerrcode == ERRCODE_DATA_CORRUPTED ||
		sqlerrcode == ERRCODE_INDEX_CORRUPTED;
}

/*
 * sf_plan_distributed of a statement flattened by sf_flatten_subqueries.
 * pull_up_subqueries can make trees that no statement written by hand has
 * (and that the deparser might not take); an error while planning one makes
 * it decline, in a subtransaction that undoes what the attempt did, so the
 * statement keeps its plan as written (or the standard planner's) instead
 * of failing.  The error is logged at DEBUG1.  In parallel mode, where no
 * subtransaction can start, flattened statements are not planned.
 */
static PlannedStmt *
plan_flattened(Query *flat, bool *one_shard)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	PlannedStmt *stmt = NULL;

	if (IsInParallelMode())
		return NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (shardfdw_test_flattened_error)
			elog(ERROR, "planning of flattened statement failed (shardfdw.test_flattened_error)");
		stmt = sf_plan_distributed(flat, one_shard);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (error_ends_statement(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ereport(DEBUG1,
				(errmsg_internal("shardfdw: statement planned as written: its flattened form failed: %s",
								 edata->message)));
		FreeErrorData(edata);
		stmt = NULL;
	}
	PG_END_TRY();
	return stmt;
}

/*
 * Plans of the shardfdw FDW's foreign scans that compute a SubPlan (a
 * correlated subquery in their output or filter) run synchronously: the
 * asynchronous Append fetches a scan's rows while it waits for the others,
 * and the SubPlan's own scans would use the same worker connections in the
 * middle of that ("epoll_ctl() failed: File exists" when a connection's
 * socket ends up in the wait set twice).  The path cannot tell: PostgreSQL
 * adds the SubPlan to the scan's projection after choosing async plans.
 */
static void
sync_subplan_scans(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	switch (nodeTag(plan))
	{
		case T_ForeignScan:
			if (plan->async_capable &&
				(contain_subplans((Node *) plan->targetlist) ||
				 contain_subplans((Node *) plan->qual) ||
				 contain_subplans((Node *) ((ForeignScan *) plan)->fdw_exprs)) &&
				GetFdwRoutineByServerId(((ForeignScan *) plan)->fs_server)->ForeignAsyncConfigureWait ==
				sf_ForeignAsyncConfigureWait)
				plan->async_capable = false;
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				sync_subplan_scans(lfirst(lc));
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				sync_subplan_scans(lfirst(lc));
			break;
		case T_SubqueryScan:
			sync_subplan_scans(((SubqueryScan *) plan)->subplan);
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				sync_subplan_scans(lfirst(lc));
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				sync_subplan_scans(lfirst(lc));
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				sync_subplan_scans(lfirst(lc));
			break;
		default:
			break;
	}
	sync_subplan_scans(plan->lefttree);
	sync_subplan_scans(plan->righttree);
}

static PlannedStmt *sf_planner_choose(Query *parse, const char *query_string,
									  int cursorOptions,
									  ParamListInfo boundParams);

/*
 * The planner hook: the router when it applies, else the standard planner
 * (sf_planner_choose); then sync_subplan_scans over the plan.
 */
static PlannedStmt *
sf_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	PlannedStmt *stmt = sf_planner_choose(parse, query_string, cursorOptions,
										  boundParams);
	ListCell   *lc;

	if (stmt->planTree != NULL)
	{
		sync_subplan_scans(stmt->planTree);
		foreach(lc, stmt->subplans)
			sync_subplan_scans(lfirst(lc));
	}
	return stmt;
}

static PlannedStmt *
sf_planner_choose(Query *parse, const char *query_string, int cursorOptions,
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
		bool		one_shard;
		PlannedStmt *stmt = sf_plan_distributed(parse, &one_shard);

		/*
		 * Views and FROM subqueries keep their tables in nested levels:
		 * pulled up, the statement may qualify, or be pinned to one shard
		 * (the router's one round trip beats a multi-shard plan pruned to
		 * one task).  The original goes to the standard planner when
		 * neither qualifies.  (Statements of local tables only are not
		 * copied and flattened for nothing.)
		 */
		if (stmt == NULL ? sf_reads_distributed((Node *) parse) : !one_shard)
		{
			Query	   *flat = sf_flatten_subqueries(parse);

			if (flat != NULL)
			{
				bool		flat_one_shard;
				PlannedStmt *flat_stmt = plan_flattened(flat, &flat_one_shard);

				if (flat_stmt != NULL && (stmt == NULL || flat_one_shard))
					stmt = flat_stmt;
			}
		}
		/*
		 * Outer joins that WHERE reduces to inner joins, a SELECT that only
		 * returns its FROM subquery's columns (reshape.c), planned like a
		 * flattened statement
		 */
		if (stmt == NULL && sf_reads_distributed((Node *) parse))
		{
			Query	   *reshaped = sf_reshape_query(parse);

			if (reshaped != NULL)
			{
				bool		reshaped_one_shard;
				Query	   *flat;

				stmt = plan_flattened(reshaped, &reshaped_one_shard);
				if (stmt == NULL &&
					(flat = sf_flatten_subqueries(reshaped)) != NULL)
					stmt = plan_flattened(flat, &reshaped_one_shard);
			}
		}
		/* an uncorrelated subquery computed first on the coordinator */
		if (stmt == NULL && shardfdw_enable_coordinator_subqueries &&
			parse->hasSubLinks && sf_reads_distributed((Node *) parse))
			stmt = sf_plan_sublink_params(parse);
		/* self-contained subqueries run as distributed plans */
		if (stmt == NULL && parse->commandType == CMD_SELECT &&
			sf_reads_distributed((Node *) parse))
			stmt = sf_plan_grafted_subqueries(parse, cursorOptions,
											  boundParams,
											  prev_planner_hook ?
											  prev_planner_hook :
											  standard_planner);
		if (stmt != NULL)
			return stmt;
	}

	check_on_conflict(parse);

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
 * Shard index of a constant pinning value (co-location numbering, before
 * splits are taken into account), or -1 when its type has no hash function
 * in the partition key's hash opfamily.
 */
int
sf_const_shard_index(RouterContext *ctx, Const *c)
{
	Oid			fn = sf_pin_hash_function(ctx, c->consttype);

	if (!OidIsValid(fn))
		return -1;
	return sf_hash_remainder(fn, ctx->keycollation, c->constvalue,
							 c->constisnull, ctx->shardcount);
}

/*
 * The output columns of the scan: the statement's non-junk target list (or
 * RETURNING list), as Vars of the scan's own RTE.  NIL with *ok = false when
 * a column cannot come back as text.
 */
List *
sf_scan_output_columns(Query *parse, List **colnames, bool *ok)
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
 * A plan's copy of range table entries: what the executor and EXPLAIN read
 * (kind, relation, names, permissions), without the subqueries, functions,
 * VALUES lists and the like that only planning needs, as the standard
 * planner's flattened range table has them.  The entries are new; what
 * they point to is shared with the statement, as there.
 */
static List *
flat_rtable(List *rtable)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = palloc(sizeof(RangeTblEntry));

		memcpy(rte, lfirst(lc), sizeof(RangeTblEntry));
		rte->tablesample = NULL;
		rte->subquery = NULL;
		rte->joinaliasvars = NIL;
		rte->joinleftcols = NIL;
		rte->joinrightcols = NIL;
		rte->join_using_alias = NULL;
		rte->functions = NIL;
		rte->tablefunc = NULL;
		rte->values_lists = NIL;
		rte->coltypes = NIL;
		rte->coltypmods = NIL;
		rte->colcollations = NIL;
		rte->securityQuals = NIL;
		result = lappend(result, rte);
	}
	return result;
}

/*
 * The CustomScan of a distributed plan and the PlannedStmt around it (with
 * top, the nodes above the scan, if any).  private is the custom_private
 * list (SfRouterPrivateIndex).
 */
PlannedStmt *
sf_make_distributed_stmt(Query *parse, RouterContext *ctx, List *scan_tlist,
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
	rtable = list_concat(flat_rtable(parse->rtable),
						 flat_rtable(ctx->perm_rtes));
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
	stmt->dependsOnRole = ctx->depends_on_role;
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

/* numbers the plans of this backend (SfRouterPlanId) */
static uint64 sf_plan_counter = 0;

/* The custom_private list of a distributed scan (see SfRouterPrivateIndex) */
List *
sf_make_private(Query *query, const char *sql, int shardindex, Oid serverid,
			 Node *pin, Oid pinhashfn, RouterContext *ctx, int strategy,
			 List *tasks, List *preeval, List *shards)
{
	List	   *private;

	/* the router hands its trees over: nothing changes them afterwards */
	bool		copy = (strategy != SF_STRATEGY_ROUTER);


	private = list_make5(copy ? copyObject(query) : query,
						 makeString(pstrdup(sql)),
						 makeInteger(shardindex),
						 makeInteger((int) serverid),
						 copy ? copyObject(pin) : pin);
	private = lappend(private, list_make4_oid(pinhashfn, ctx->keycollation,
											  ctx->anyrelid, ctx->remote_user));
	private = lappend(private, makeInteger(ctx->shardcount));
	private = lappend(private, makeInteger(strategy));
	private = lappend(private, tasks);
	private = lappend(private, shards);
	private = lappend(private, copy ? copyObject(preeval) : preeval);
	private = lappend(private, copy ? copyObject(ctx->stable_exprs) :
					  ctx->stable_exprs);
	private = lappend(private, makeInteger(ctx->stable_base));
	private = lappend(private, copy ? copyObject(ctx->prune_exprs) :
					  ctx->prune_exprs);
	private = lappend(private, makeString(pstrdup("")));
	private = lappend(private, NIL);
	private = lappend(private, NIL);	/* SfRouterReturnOrder */
	private = lappend(private,
					  makeString(psprintf(UINT64_FORMAT, ++sf_plan_counter)));
	return private;
}

/*
 * Try to plan parse for the workers: the router when one shard is pinned
 * (*one_shard is then true), else a multi-shard statement.  Returns NULL
 * to decline.
 */
static PlannedStmt *
sf_plan_distributed(Query *parse, bool *one_shard)
{
	return sf_plan_distributed_with(parse, one_shard, NIL, 0);
}

/*
 * sf_plan_distributed with expressions the coordinator computes when the
 * scan starts already in parse (pre_stable, as external Params numbered
 * from pre_base on; Params of the stable expressions found here follow
 * them): see sublink_params.c.
 */
PlannedStmt *
sf_plan_distributed_with(Query *parse, bool *one_shard, List *pre_stable,
						 int pre_base)
{
	RouterContext ctx;
	List	   *preeval = NIL;

	memset(&ctx, 0, sizeof(ctx));
	*one_shard = false;

	/* a one-row INSERT: values the coordinator computes at run time */
	if (parse->commandType == CMD_INSERT)
		parse = sf_prepare_insert_values(parse, &preeval);
	/* a multi-row one: defaults of unnamed columns into its VALUES lists */
	if (!sf_fold_defaults_into_values(parse))
		return NULL;
	/* CTEs over distributed tables: subqueries, as the planner makes them */
	parse = sf_inline_ctes(parse);
	/* stable Var-free expressions (now() ...): computed on the coordinator */
	parse = sf_prepare_stable_exprs(parse, &ctx);
	if (pre_stable != NIL)
	{
		ctx.stable_exprs = list_concat(list_copy(pre_stable),
									   ctx.stable_exprs);
		ctx.stable_base = pre_base;
		/* a broadcast join would merge a second coordinator plan */
		ctx.no_broadcast = true;
	}
	ctx.top = parse;

	(void) sf_router_walker((Node *) parse, &ctx);
	if (ctx.failed || !ctx.has_distributed)
		return NULL;
	if (ctx.insert_select_rti > 0)
		return shardfdw_enable_multi_shard_dml ?
			sf_plan_insert_select(parse, &ctx) : NULL;
	if (ctx.unpinned)
		return shardfdw_enable_multi_shard ?
			sf_plan_multi_shard(parse, &ctx) : NULL;
	if (!shardfdw_enable_router || ctx.pins == NIL)
		return NULL;
	{
		PlannedStmt *stmt = sf_plan_single_shard(parse, &ctx, preeval);

		*one_shard = (stmt != NULL);
		/* INSERT ... VALUES ... ON CONFLICT with rows for several shards */
		if (stmt == NULL && parse->commandType == CMD_INSERT &&
			parse->onConflict != NULL && preeval == NIL &&
			list_length(ctx.pins) > 1)
			stmt = sf_plan_multi_shard_insert(parse, &ctx);
		return stmt;
	}
}
