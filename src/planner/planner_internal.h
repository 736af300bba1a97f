/*-------------------------------------------------------------------------
 *
 * planner_internal.h
 *	  What the files of src/planner share: the analysis state of a statement
 *	  and the functions one strategy borrows from another.  Not for other
 *	  layers (their interface is planner.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_PLANNER_INTERNAL_H
#define SHARDFDW_PLANNER_INTERNAL_H

#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "metadata.h"

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
	List	   *top_quals;		/* top level conjuncts, outer join ON included */
	List	   *top_classes;	/* top level classes of top_quals */
	List	   *top_distvars;	/* top level distribution column Vars */
	List	   *stable_exprs;	/* expressions computed on the coordinator */
	int			stable_base;	/* paramid of the first of them */
	List	   *relids;			/* OIDs of every relation (invalidation) */
	List	   *perm_rtes;		/* relation RTEs of nested levels */
	List	   *dist_levels;	/* Query levels holding distributed tables */
	Index		insert_select_rti;	/* INSERT ... SELECT: the subquery RTE
									 * giving the distribution column */
	AttrNumber	insert_select_attno;	/* its output column */
	Oid			insert_select_type; /* the distribution column's value type */
	List	   *prune_exprs;	/* "dist = $1", "dist = ANY ($1)": see
								 * SfRouterPruneExprs */
	Query	   *top;			/* the statement */
	bool		no_broadcast;	/* already a broadcast join's statement */
	bool		mixed_colocation;	/* distributed tables of several
									 * co-location groups (then unpinned:
									 * only a broadcast join may apply) */
	bool		depends_on_role;	/* a relation is checked as a given
									 * role (a view's owner): the plan
									 * holds for the current user only */
	bool		remote_user_set;	/* remote_user is known */
	Oid			remote_user;	/* the role every relation read on the
								 * workers is accessed as (a view's owner),
								 * whose user mappings the workers'
								 * statements use; InvalidOid: the current
								 * user */
} RouterContext;

/* State of stable_mutator */
typedef struct StableContext
{
	List	   *exprs;			/* the expressions replaced, in paramid order */
	int			base;			/* paramid of the first */
	int			maxparam;		/* highest external paramid seen */
} StableContext;

/* planner.c: a statement planned with coordinator values set up front */
extern PlannedStmt *sf_plan_distributed_with(Query *parse, bool *one_shard,
											 List *pre_stable, int pre_base);

/* sublink_params.c: plans the coordinator runs as initplan-like SubPlans */
extern PlannedStmt *sf_plan_sublink_params(Query *parse);
extern Expr *sf_initplan_trigger(SubPlan *subplan);
extern TargetEntry *sf_array_agg_entry(TargetEntry *input, int aggno);
extern Plan *sf_array_agg_plan(Plan *input, List *tlist);
extern SubPlan *sf_make_initplan(PlannedStmt *substmt, Plan *plan,
								 SubLinkType kind, List *setparams,
								 Oid firsttype, const char *name);
extern void sf_shift_scan_rtindexes(Plan *plan, int n);
extern void sf_merge_coordinator_plan(PlannedStmt *stmt,
									  PlannedStmt *substmt, Plan *plan);

/* planner.c: the parts of every distributed plan */
extern List *sf_scan_output_columns(Query *parse, List **colnames, bool *ok);
extern PlannedStmt *sf_make_distributed_stmt(Query *parse, RouterContext *ctx,
											 List *scan_tlist, List *colnames,
											 List *private,
											 Plan *(*add_top) (Query *, Plan *, List *, void *),
											 void *arg);
extern List *sf_make_private(Query *query, const char *sql, int shardindex,
							 Oid serverid, Node *pin, Oid pinhashfn,
							 RouterContext *ctx, int strategy, List *tasks,
							 List *preeval, List *shards);

/* analysis.c */
extern bool sf_router_walker(Node *node, RouterContext *ctx);
extern const SfTable *sf_rte_distributed_table(RangeTblEntry *rte);
extern bool sf_any_level_rte(Node *node, bool (*pred) (RangeTblEntry *rte));
extern bool sf_nested_level_rte(Query *q, bool (*pred) (RangeTblEntry *rte));
extern bool sf_rte_is_distributed(RangeTblEntry *rte);
extern bool sf_rte_is_reference(RangeTblEntry *rte);
extern bool sf_rte_is_not_replicated(RangeTblEntry *rte);
extern bool sf_unshippable_function(Oid funcid, void *context);
extern char sf_func_volatile(Oid funcid);
extern bool sf_has_unshippable_function(Node *node);
extern bool sf_is_pin_value(Node *node);
extern Node *sf_simplify_pin(Node *pin);
extern Node *sf_strip_relabel(Node *node);
extern Oid	sf_pin_hash_function(RouterContext *ctx, Oid type);
extern int	sf_const_shard_index(RouterContext *ctx, Const *c);
extern bool sf_not_pin_walker_base(Node *node);
extern List *sf_build_classes(List *quals, RouterContext *ctx, bool outer_vars);
extern bool sf_is_key_equality(Node *node, RouterContext *ctx);
extern void sf_collect_quals(Node *jtnode, List **quals, bool outer,
							 bool *has_outer);

/* flatten.c */
extern Query *sf_flatten_subqueries(Query *parse);

/* reshape.c */
extern Query *sf_reshape_query(Query *parse);

/* subquery_graft.c */
extern PlannedStmt *sf_plan_grafted_subqueries(Query *parse, int cursorOptions,
											  ParamListInfo boundParams,
											  planner_hook_type std_planner);

/* coordinator_values.c */
extern Query *sf_prepare_insert_values(Query *parse, List **preeval);
extern bool sf_fold_defaults_into_values(Query *parse);
extern Query *sf_prepare_stable_exprs(Query *parse, RouterContext *rctx);
extern bool sf_max_param_walker(Node *node, StableContext *ctx);

/* single_shard.c */
extern PlannedStmt *sf_plan_single_shard(Query *parse, RouterContext *ctx,
										 List *preeval);

/* insert_values.c */
extern RangeTblEntry *sf_values_key_column(Query *parse, const SfTable *table,
										   Index *rti, AttrNumber *col);
extern PlannedStmt *sf_plan_insert_values(Query *parse, RouterContext *ctx,
										  List *preeval);

/* multi_shard.c */
extern PlannedStmt *sf_plan_multi_shard(Query *parse, RouterContext *ctx);
extern PlannedStmt *sf_plan_multi_shard_insert(Query *parse, RouterContext *ctx);
extern bool sf_nullable_rel(Node *jtnode, int rtindex, bool nullable);
extern bool sf_clauses_name_dist_column(Query *parse, List *clauses,
										List *distclass);

/* shard_local.c */
extern bool sf_from_subqueries_shard_local(Query *top, RouterContext *ctx,
										   List **keyvars, List **accepted);
extern bool sf_nested_levels_shard_local(Query *top, List *distclass,
										 RouterContext *ctx, List *accepted);
extern bool sf_reads_distributed(Node *node);
extern bool sf_set_operation_shard_local(Query *top, RouterContext *ctx);

/* cte_inline.c */
extern Query *sf_inline_ctes(Query *parse);

/* insert_select.c */
extern PlannedStmt *sf_plan_insert_select(Query *parse, RouterContext *ctx);

/* broadcast_join.c */
extern void sf_broadcast_join_init(void);
extern PlannedStmt *sf_plan_broadcast_join(Query *parse, RouterContext *ctx);

/*
 * two_phase_agg.c: a two-phase plan whose DISTINCT values are merged from
 * sorted per-worker streams (src/executor/distinct_merge.c): the order the
 * workers sort by, InvalidOid sortop when the plan is not such a merge
 */
typedef struct SfDistinctMerge
{
	Oid			sortop;			/* the type's default "<" */
	Oid			collation;		/* C for collatable types, else InvalidOid */
} SfDistinctMerge;

extern Agg *sf_plan_two_phase(Query *parse, RouterContext *rctx,
							  List *distclass, List **worker_tlist,
							  List **worker_groups, SfDistinctMerge *merge);

/* shard_query.c */
extern int	shardfdw_large_array_threshold;
extern void sf_shard_query_init(void);
extern bool sf_const_as_param(Const *c);

/* shape_cache.c */
extern bool shardfdw_verify_shape_cache;
extern char *sf_shape_cache_lookup(Query *parse, List *preeval,
									int shardindex, void **shape,
									Oid *serverid, int *nparams, Oid **types,
									char ***values, int **origin);
extern bool sf_shape_cache_agrees(void *shape, int nparams, const Oid *types,
								   char *const *values, const int *origin);
extern void sf_shape_cache_remember(void *shape, const char *sql,
									 Oid serverid);

#endif							/* SHARDFDW_PLANNER_INTERNAL_H */
