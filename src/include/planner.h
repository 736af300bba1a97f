/*-------------------------------------------------------------------------
 *
 * planner.h
 *	  The distributed planner (src/planner): a planner hook that recognises
 *	  statements a worker can run whole and plans a CustomScan for them.
 *
 * Strategies: the router, multi-shard pushdown and two-phase aggregates
 * (see src/planner/README.md).  A statement is routed when every
 * distributed table in it (at any query level) is co-located with the others
 * and pinned to one shard by an equality on its distribution column (to a
 * constant, or to one parameter, maybe through equalities between columns),
 * reference tables being allowed, and every expression in it is shippable
 * (built-in, immutable).  Everything else gets the standard plan, where the
 * FDW makes every statement correct.
 *
 * The plan hand-off to the executor (src/executor/router.c) is the
 * custom_private list of the CustomScan, indexed by SfRouterPrivateIndex.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_PLANNER_H
#define SHARDFDW_PLANNER_H

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"

/* GUCs (planner.c) */
extern bool shardfdw_enable_router;
extern bool shardfdw_enable_multi_shard;
extern bool shardfdw_enable_two_phase_agg;
extern bool shardfdw_enable_multi_shard_dml;
extern bool shardfdw_parameterize_literals;
extern bool shardfdw_enable_coordinator_subqueries;
extern int	shardfdw_broadcast_join_limit;
extern bool shardfdw_enable_distinct_merge;
extern bool shardfdw_float_partial_aggregates;

/* strategies (SfRouterStrategy) */
#define SF_STRATEGY_ROUTER		0
#define SF_STRATEGY_MULTI_SHARD 1
#define SF_STRATEGY_TWO_PHASE	2
#define SF_STRATEGY_INSERT_VALUES 3 /* multi-row INSERT ... VALUES ... ON
									 * CONFLICT, rows grouped by shard when
									 * the scan starts (SfValuesPrivateIndex):
									 * then multi-shard, or router when they
									 * all go to one shard */

/*
 * Items of CustomScan.custom_private of a router scan.
 */
enum SfRouterPrivateIndex
{
	SfRouterQuery,				/* Query: what workers run (parent tables,
								 * Params); multi-shard: per-shard LIMIT */
	SfRouterSql,				/* String: worker SQL ("" if built at run
								 * time); multi-shard: shard 0's */
	SfRouterShardIndex,			/* Integer: shard index, -1 if from the pin */
	SfRouterServer,				/* Integer: server OID (shard index known) */
	SfRouterPin,				/* Param: pins the shard, or NULL */
	SfRouterHash,				/* OidList: hash function, collation, the
								 * relid of a pinned distributed table, the
								 * role whose user mappings the workers'
								 * statements use (InvalidOid: the current
								 * user) */
	SfRouterShardCount,			/* Integer: number of shards */
	SfRouterStrategy,			/* Integer: SF_STRATEGY_* */
	SfRouterTasks,				/* List of (Integer server OID, String SQL),
								 * one per shard, multi-shard only; NIL when
								 * built at run time (Params) */
	SfRouterShards,				/* IntList: multi-shard: the shard indexes
								 * that can match (IN / = ANY pruning) */
	SfRouterPreEval,			/* List of TargetEntry: INSERT values the
								 * coordinator evaluates when the scan starts
								 * (nextval(), now(), ...), by resno */
	SfRouterStable,				/* List: Var-free expressions with stable or
								 * non-built-in functions (now(), ...), computed
								 * once when the scan starts into extra external
								 * Params numbered from SfRouterStableBase */
	SfRouterStableBase,			/* Integer: paramid of the first of them */
	SfRouterPruneExprs,			/* List of (Expr of Params, Integer hash
								 * function of its (elements') type, Integer
								 * 1 if an array): multi-shard "dist = $1" /
								 * "dist = ANY ($1)" conjuncts, pruning shards
								 * when the scan starts */
	SfRouterRemoteSql,			/* String: router without Params: the worker
								 * SQL with its constants as parameters $n
								 * (shardfdw.parameterize_literals), or "" */
	SfRouterRemoteParams,		/* List of (Integer type OID [, String text
								 * value | Integer k]), one per $n (no value:
								 * NULL; k: the value of the k-th (from 1)
								 * SfRouterPreEval expression) */
	SfRouterReturnOrder,		/* IntList of (task, row) pairs: the order of
								 * RETURNING rows over several tasks' results
								 * (row -1: all rows of the task), or NIL:
								 * results in the order they were stored */
	SfRouterPlanId,				/* String: a number that tells this plan apart
								 * from every other plan of the backend (the
								 * executor keeps worker SQL built at run time
								 * by plan and shard) */
	SfRouterPrivateCount
};

/*
 * Items after the router's in custom_private of a merged distinct values
 * scan (src/executor/distinct_merge.c).
 */
enum SfMergePrivateIndex
{
	SfMergeStatements = SfRouterPrivateCount,	/* List of (Integer server
												 * OID, String SQL), one
												 * per worker */
	SfMergeSortOp,				/* Integer: the "<" the workers sorted by */
	SfMergeCollation			/* Integer: its collation (C) or InvalidOid */
};

/*
 * Items after the router's in custom_private of a multi-row INSERT ...
 * VALUES ... ON CONFLICT whose rows the executor groups by shard
 * (SF_STRATEGY_INSERT_VALUES, src/planner/insert_values.c).
 */
enum SfValuesPrivateIndex
{
	SfValuesRti = SfRouterPrivateCount, /* Integer: range table index of the
										 * VALUES RTE in SfRouterQuery */
	SfValuesKeyColumn,			/* Integer: its column (from 1) giving the
								 * distribution column, hashed with
								 * SfRouterHash's function */
	SfValuesByRow,				/* Integer: 1: one statement per row
								 * (RETURNING with DO NOTHING or DO UPDATE
								 * ... WHERE), 0: one per shard */
	SfValuesArbiters			/* List of (Expr over the VALUES columns,
								 * Integer equality function, Integer
								 * collation), one per conflict target
								 * column: by row with DO UPDATE, to find
								 * a row updated twice; else NIL */
};

/* in planner.c */
extern int	sf_hash_remainder(Oid hashfn, Oid collation, Datum value,
							  bool isnull, int modulus);

/* in shard_query.c */
extern char *sf_shard_query_sql(Query *query, int shardindex,
								ParamListInfo params, Oid *serverid,
								bool for_plan);
extern char *sf_shard_query_sql_keep(Query *query, int shardindex,
									 ParamListInfo params, List *keep,
									 Oid *serverid);
extern List *sf_large_array_params(Query *query, ParamListInfo params);
extern char *sf_shard_query_sql_params(Query *query, int shardindex,
									   ParamListInfo params, bool literals,
									   bool for_plan, Oid *serverid,
									   int *nparams, Oid **types,
									   char ***values, int maxparam,
									   int **origin);
extern bool sf_shard_tasks(Query *q, List *shards, List **tasks,
						   char **first_sql, Oid *first_server);
extern char *sf_output_text(Oid type, Datum value);

#endif							/* SHARDFDW_PLANNER_H */
