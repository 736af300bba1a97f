/*-------------------------------------------------------------------------
 *
 * fdw.h
 *	  Internal interface of the shardfdw foreign-data wrapper (src/fdw).
 *
 * fdw.c holds the handler, the GUCs, TRUNCATE and ANALYZE; deparse.c
 * decides which expressions may be sent to a worker and builds the SQL
 * text; scan.c runs scans (synchronous and asynchronous); modify.c runs
 * INSERT / UPDATE / DELETE, row by row, COPY-batched or pushed down.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_FDW_H
#define SHARDFDW_FDW_H

#include "connection.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "utils/rel.h"

/*
 * Planner state of a scanned foreign table, kept in RelOptInfo.fdw_private
 * between GetForeignRelSize, GetForeignPaths and GetForeignPlan.
 */
typedef struct SfRelInfo
{
	ForeignTable *table;		/* the foreign table and its options */
	ForeignServer *server;		/* its server */
	List	   *remote_conds;	/* RestrictInfos evaluated by the worker */
	List	   *local_conds;	/* RestrictInfos evaluated locally */
	Bitmapset  *attrs_used;		/* attnos needed, offset by
								 * FirstLowInvalidHeapAttributeNumber */
	int			fetch_size;		/* rows per FETCH */
} SfRelInfo;

/*
 * Items of ForeignScan.fdw_private for a scan.  Parameters of the remote
 * query ($1, $2, ...) are the expressions of ForeignScan.fdw_exprs, in
 * order.
 */
enum SfScanPrivateIndex
{
	SfScanPrivateSelectSql,		/* String: the remote SELECT */
	SfScanPrivateRetrievedAttrs,	/* IntList: attnos of its columns */
	SfScanPrivateFetchSize,		/* Integer: rows per FETCH */
	SfScanPrivateWhereSql,		/* String: " WHERE ..." or "" */
	SfScanPrivateRowLock,		/* Integer: 1 if the SELECT locks its rows */
	SfScanPrivateCount
};

/*
 * Items of ForeignScan.fdw_private once PlanDirectModify turned the scan
 * into a pushed-down UPDATE / DELETE.
 */
enum SfDirectPrivateIndex
{
	SfDirectPrivateSql,			/* String: the remote UPDATE / DELETE */
	SfDirectPrivateCount
};

/*
 * Items of the fdw_private list built by PlanForeignModify.  The SQL is
 * built by BeginForeignModify, which alone knows whether rows can be
 * COPY-batched (no row triggers, no WITH CHECK OPTION).
 */
enum SfModifyPrivateIndex
{
	SfModifyPrivateTargetAttrs, /* IntList: attnos SET by an UPDATE */
	SfModifyPrivateHasReturning,	/* Boolean: statement has RETURNING */
	SfModifyPrivateOnConflictNothing,	/* Boolean: ON CONFLICT DO NOTHING */
	SfModifyPrivateCount
};

/* GUCs (fdw.c) */
extern bool shardfdw_enable_async;

/* in fdw.c */
extern UserMapping *sf_user_mapping_for(Relation rel, Oid userid);

/* in deparse.c */
extern bool sf_text_output_differs_remotely(Oid typid);
extern bool sf_timezone_only_function(Oid funcid);
extern bool sf_is_shippable(Index varno, Oid reloid, Expr *expr,
							Relids outer_relids);
extern char *sf_deparse_expr(Node *expr, Index varno, Oid reloid,
							 List **params);
extern void sf_append_remote_table(StringInfo buf, Relation rel);
extern const char *sf_remote_column(Relation rel, AttrNumber attnum);
extern const char *sf_remote_column_name(Relation rel, AttrNumber attnum);
extern void sf_build_select(StringInfo buf, Relation rel,
							Bitmapset *attrs_used, List **retrieved_attrs);
extern void sf_build_insert(StringInfo buf, Relation rel, List *target_attrs,
							int nrows, bool on_conflict_nothing, bool returning,
							List **retrieved_attrs);
extern void sf_build_copy(StringInfo buf, Relation rel, List *target_attrs);
extern void sf_build_update(StringInfo buf, Relation rel, List *target_attrs,
							bool returning, List **retrieved_attrs);
extern void sf_build_delete(StringInfo buf, Relation rel, bool returning,
							List **retrieved_attrs);
extern void sf_append_returning(StringInfo buf, Relation rel,
								List **retrieved_attrs);

/* in scan.c */
extern void sf_GetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern void sf_GetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
extern ForeignScan *sf_GetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid,
									  ForeignPath *best_path, List *tlist,
									  List *scan_clauses, Plan *outer_plan);
extern void sf_BeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *sf_IterateForeignScan(ForeignScanState *node);
extern void sf_ReScanForeignScan(ForeignScanState *node);
extern void sf_EndForeignScan(ForeignScanState *node);
extern void sf_ExplainForeignScan(ForeignScanState *node,
								  struct ExplainState *es);
extern bool sf_IsForeignPathAsyncCapable(ForeignPath *path);
extern void sf_ForeignAsyncRequest(AsyncRequest *areq);
extern void sf_ForeignAsyncConfigureWait(AsyncRequest *areq);
extern void sf_ForeignAsyncNotify(AsyncRequest *areq);
extern void sf_convert_row(PGresult *res, int row, TupleDesc tupdesc,
						   AttInMetadata *attinmeta, List *retrieved_attrs,
						   Datum *values, bool *nulls, ItemPointer ctid);
extern void sf_check_result(PGresult *res, SfConn *conn, ExecStatusType ok,
							const char *sql);

/* in modify.c */
extern void sf_AddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
									   RangeTblEntry *target_rte,
									   Relation target_relation);
extern List *sf_PlanForeignModify(PlannerInfo *root, ModifyTable *plan,
								  Index resultRelation, int subplan_index);
extern void sf_BeginForeignModify(ModifyTableState *mtstate,
								  ResultRelInfo *rinfo, List *fdw_private,
								  int subplan_index, int eflags);
extern TupleTableSlot *sf_ExecForeignInsert(EState *estate,
											ResultRelInfo *rinfo,
											TupleTableSlot *slot,
											TupleTableSlot *planSlot);
extern TupleTableSlot *sf_ExecForeignUpdate(EState *estate,
											ResultRelInfo *rinfo,
											TupleTableSlot *slot,
											TupleTableSlot *planSlot);
extern TupleTableSlot *sf_ExecForeignDelete(EState *estate,
											ResultRelInfo *rinfo,
											TupleTableSlot *slot,
											TupleTableSlot *planSlot);
extern int	sf_GetForeignModifyBatchSize(ResultRelInfo *rinfo);
extern TupleTableSlot **sf_ExecForeignBatchInsert(EState *estate,
												  ResultRelInfo *rinfo,
												  TupleTableSlot **slots,
												  TupleTableSlot **planSlots,
												  int *numSlots);
extern void sf_EndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void sf_BeginForeignInsert(ModifyTableState *mtstate,
								  ResultRelInfo *rinfo);
extern void sf_EndForeignInsert(EState *estate, ResultRelInfo *rinfo);
extern int	sf_IsForeignRelUpdatable(Relation rel);
extern bool sf_PlanDirectModify(PlannerInfo *root, ModifyTable *plan,
								Index resultRelation, int subplan_index);
extern void sf_BeginDirectModify(ForeignScanState *node, int eflags);
extern TupleTableSlot *sf_IterateDirectModify(ForeignScanState *node);
extern void sf_EndDirectModify(ForeignScanState *node);
extern void sf_ExplainForeignModify(ModifyTableState *mtstate,
									ResultRelInfo *rinfo, List *fdw_private,
									int subplan_index,
									struct ExplainState *es);
extern void sf_ExplainDirectModify(ForeignScanState *node,
								   struct ExplainState *es);

#endif							/* SHARDFDW_FDW_H */
