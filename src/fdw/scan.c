/*-------------------------------------------------------------------------
 *
 * scan.c
 *	  Scans of shardfdw foreign tables: planning, remote cursors, and the
 *	  asynchronous execution protocol used by Append.
 *
 * Every scan reads through a remote cursor "c<N>" on the connection shared
 * by all scans of the same (server, user): DECLARE once, FETCH fetch_size
 * rows at a time, CLOSE at the end.  A connection carries at most one
 * command in flight; an asynchronous FETCH registers its scan as the
 * connection's pending owner, and whoever needs the connection next first
 * calls the owner's drain callback, which parks the result in the owner's
 * buffer.  So a scan's rows come from one of three places: the buffer
 * (PGresult being read), a parked next result, or the wire.
 *
 * Asynchronous protocol (see executor/execAsync.c and nodeAppend.c): a
 * request is completed at once from the buffer when possible; otherwise it
 * stays pending.  Only the scan whose FETCH is in flight registers the
 * connection's socket with the Append's wait set, so one socket is never
 * registered twice and a wait never happens on a connection with nothing
 * in flight: a pending request whose connection is busy with a sibling of
 * the same Append waits for the sibling; one whose connection is busy with
 * anybody else drains it, then sends its own FETCH.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "commands/explain.h"
#include "executor/execAsync.h"
#include "executor/executor.h"
#include "fdw.h"
#include "fdw_option.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/prep.h"
#include "optimizer/restrictinfo.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Rows assumed when pg_class knows nothing (never analyzed). */
#define SF_DEFAULT_ROWS 1000.0
/* Cost of one round trip to a worker, and of a row over the wire. */
#define SF_STARTUP_COST 100.0
#define SF_ROW_TRANSFER_COST 0.01

/* Execution state of a scan (ForeignScanState.fdw_state). */
typedef struct SfScanState
{
	ForeignScanState *node;		/* the plan node we belong to */
	Relation	rel;			/* the foreign table */
	TupleDesc	tupdesc;		/* its descriptor (the scan slot's) */
	AttInMetadata *attinmeta;	/* input functions of tupdesc */
	char	   *query;			/* remote SELECT */
	List	   *retrieved_attrs;	/* attnos of the SELECT's columns */
	int			fetch_size;		/* rows per FETCH */
	SfConn	   *conn;			/* shared connection to the worker */
	unsigned int cursor_number; /* N of cursor c<N>, when declared */
	bool		cursor_exists;	/* is the cursor declared remotely? */
	bool		scroll;			/* declare it SCROLL (rescans rewind it) */
	char		fetch_sql[64];	/* "FETCH n FROM cN" */
	char	   *inflight_sql;	/* DECLARE + FETCH text, when used */
	const char *flight_sql;		/* text of the command in flight */
	MemoryContext state_cxt;	/* lifetime of the scan (es_query_cxt) */

	int			num_params;		/* number of $n parameters */
	List	   *param_exprs;	/* ExprStates computing them */
	FmgrInfo   *param_out;		/* output functions of their types */
	const char **param_values;	/* their text values (NULL = null) */

	PGresult   *res;			/* batch being returned, or NULL */
	int			next_row;		/* next row of res to return */
	PGresult   *next_res;		/* batch received ahead, or NULL */
	bool		eof;			/* the cursor has no more rows to FETCH */
	bool		in_flight;		/* our FETCH is sent, result not read */
	int			batches;		/* FETCHes done since DECLARE */
	bool		no_wait;		/* Iterate must not fetch: return an empty
								 * slot when the buffer is empty */

	Datum	   *values;			/* scratch: the values of one row */
	bool	   *nulls;			/* scratch: its null flags */
	MemoryContext tuple_cxt;	/* memory of the current row */
} SfScanState;

static void scan_release(void *arg);

/*
 * sf_check_result
 *		Raise the worker's error unless res has status "ok".
 */
void
sf_check_result(PGresult *res, SfConn *conn, ExecStatusType ok,
				const char *sql)
{
	if (res == NULL || PQresultStatus(res) != ok)
		sf_report_error(ERROR, res, conn, true, sql);
}

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/*
 * sf_GetForeignRelSize
 *		Split the restriction clauses into those the worker evaluates and
 *		those evaluated locally; estimate the rows from pg_class.reltuples.
 */
void
sf_GetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	SfRelInfo  *info = palloc0(sizeof(SfRelInfo));
	ListCell   *lc;
	double		tuples;
	Selectivity sel;

	baserel->fdw_private = info;
	info->table = GetForeignTable(foreigntableid);
	info->server = GetForeignServer(info->table->serverid);
	info->fetch_size = sf_option_int(info->server->options, "fetch_size",
									 SF_DEFAULT_FETCH_SIZE);
	info->fetch_size = sf_option_int(info->table->options, "fetch_size",
									 info->fetch_size);

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (sf_is_shippable(baserel->relid, foreigntableid, ri->clause, NULL))
			info->remote_conds = lappend(info->remote_conds, ri);
		else
			info->local_conds = lappend(info->local_conds, ri);
	}

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &info->attrs_used);
	foreach(lc, info->local_conds)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause,
					   baserel->relid, &info->attrs_used);

	tuples = baserel->tuples >= 0 ? baserel->tuples : SF_DEFAULT_ROWS;
	if (tuples <= 0)
		tuples = SF_DEFAULT_ROWS;
	baserel->tuples = tuples;
	sel = clauselist_selectivity(root, baserel->baserestrictinfo, 0,
								 JOIN_INNER, NULL);
	baserel->rows = clamp_row_est(tuples * sel);
}

/* EC callback: is the member a Var of the rel? */
static bool
ec_member_is_rel_var(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
					 EquivalenceMember *em, void *arg)
{
	Expr	   *expr = em->em_expr;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return IsA(expr, Var) && ((Var *) expr)->varno == rel->relid &&
		((Var *) expr)->varlevelsup == 0;
}

/* Cost of a scan returning "rows" rows out of baserel->tuples. */
static void
scan_cost(RelOptInfo *baserel, double rows, Cost *startup, Cost *total)
{
	*startup = SF_STARTUP_COST;
	*total = *startup + baserel->tuples * cpu_tuple_cost * 0.5 +
		rows * (cpu_tuple_cost + SF_ROW_TRANSFER_COST);
}

/*
 * sf_GetForeignPaths
 *		An unparameterized path: a round trip plus a per-row transfer cost,
 *		cheaper the more rows the worker filters out.  Plus one
 *		parameterized path per set of outer rels that a shippable join
 *		clause (e.g. "shard.id = outer.id") references, for nested loops
 *		that look up a few rows.
 */
void
sf_GetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	List	   *clauses = NIL;
	List	   *done = NIL;
	Cost		startup;
	Cost		total;
	ListCell   *lc;

	scan_cost(baserel, baserel->rows, &startup, &total);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup, total, NIL, NULL, NULL, NIL));

	if (!bms_is_empty(baserel->lateral_relids))
		return;
	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (!ri->pseudoconstant && join_clause_is_movable_to(ri, baserel))
			clauses = lappend(clauses, ri);
	}
	if (baserel->has_eclass_joins)
		clauses = list_concat(clauses,
							  generate_implied_equalities_for_column(root, baserel,
																	 ec_member_is_rel_var,
																	 NULL,
																	 baserel->lateral_referencers));

	foreach(lc, clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		Relids		outer = bms_difference(ri->clause_relids, baserel->relids);
		ParamPathInfo *param_info;
		ListCell   *lc2;
		bool		seen = false;

		if (bms_is_empty(outer) ||
			!sf_is_shippable(baserel->relid, foreigntableid, ri->clause, outer))
			continue;
		foreach(lc2, done)
			if (bms_equal(outer, (Relids) lfirst(lc2)))
				seen = true;
		if (seen)
			continue;
		done = lappend(done, outer);

		param_info = get_baserel_parampathinfo(root, baserel, outer);
		scan_cost(baserel, param_info->ppi_rows, &startup, &total);
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL,
										 param_info->ppi_rows, startup, total,
										 NIL, outer, NULL, NIL));
	}
}

/*
 * Lock the rows a scan reads where the statement wants them locked: rows of
 * an UPDATE / DELETE that is not sent whole to the worker (they are then
 * changed through their ctid, so they must not change in between) and rows
 * of SELECT ... FOR UPDATE / SHARE.  The local LockRows node cannot lock a
 * foreign row (its row mark is a copy), so the worker locks it, in the
 * remote transaction that lives until the local one ends.  The wait policy
 * (NOWAIT, SKIP LOCKED) goes along.
 */
static bool
append_row_lock(StringInfo sql, PlannerInfo *root, RelOptInfo *baserel)
{
	PlanRowMark *rc;

	if ((root->parse->commandType == CMD_UPDATE ||
		 root->parse->commandType == CMD_DELETE) &&
		bms_is_member(baserel->relid, root->all_result_relids))
	{
		appendStringInfoString(sql, " FOR UPDATE");
		return true;
	}

	rc = get_plan_rowmark(root->rowMarks, baserel->relid);
	if (rc == NULL)
		return false;
	switch (rc->strength)
	{
		case LCS_NONE:
			return false;
		case LCS_FORKEYSHARE:
			appendStringInfoString(sql, " FOR KEY SHARE");
			break;
		case LCS_FORSHARE:
			appendStringInfoString(sql, " FOR SHARE");
			break;
		case LCS_FORNOKEYUPDATE:
			appendStringInfoString(sql, " FOR NO KEY UPDATE");
			break;
		case LCS_FORUPDATE:
			appendStringInfoString(sql, " FOR UPDATE");
			break;
	}
	if (rc->waitPolicy == LockWaitSkip)
		appendStringInfoString(sql, " SKIP LOCKED");
	else if (rc->waitPolicy == LockWaitError)
		appendStringInfoString(sql, " NOWAIT");
	return true;
}

/*
 * sf_GetForeignPlan
 *		Build the remote SELECT: the needed columns, plus the shippable
 *		clauses as its WHERE.  Params in those clauses go to fdw_exprs.
 */
ForeignScan *
sf_GetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	SfRelInfo  *info = (SfRelInfo *) baserel->fdw_private;
	List	   *local_exprs = NIL;
	List	   *remote_exprs = NIL;
	List	   *params = NIL;
	List	   *retrieved_attrs;
	StringInfoData sql;
	StringInfoData where;
	Relation	rel;
	Relids		outer_relids = PATH_REQ_OUTER(&best_path->path);
	bool		locks_rows;
	Bitmapset  *attrs_used = bms_copy(info->attrs_used);
	ListCell   *lc;

	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (ri->pseudoconstant)
			continue;
		if (list_member_ptr(info->remote_conds, ri))
			remote_exprs = lappend(remote_exprs, ri->clause);
		else if (list_member_ptr(info->local_conds, ri))
			local_exprs = lappend(local_exprs, ri->clause);
		else if (sf_is_shippable(baserel->relid, foreigntableid, ri->clause,
								 outer_relids))
			remote_exprs = lappend(remote_exprs, ri->clause);
		else
			local_exprs = lappend(local_exprs, ri->clause);
	}

	initStringInfo(&where);
	foreach(lc, remote_exprs)
	{
		char	   *clause = sf_deparse_expr(lfirst(lc), baserel->relid,
											 foreigntableid, &params);

		appendStringInfo(&where, "%s(%s)",
						 where.len == 0 ? " WHERE " : " AND ", clause);
	}

	/* needed columns: targetlist, local quals, and ctid for UPDATE/DELETE */
	pull_varattnos((Node *) local_exprs, baserel->relid, &attrs_used);
	initStringInfo(&sql);
	rel = table_open(foreigntableid, NoLock);
	sf_build_select(&sql, rel, attrs_used, &retrieved_attrs);
	table_close(rel, NoLock);
	appendStringInfoString(&sql, where.data);
	locks_rows = append_row_lock(&sql, root, baserel);

	return make_foreignscan(tlist, local_exprs, baserel->relid, params,
							list_make5(makeString(sql.data), retrieved_attrs,
									   makeInteger(info->fetch_size),
									   makeString(where.data),
									   makeInteger(locks_rows ? 1 : 0)),
							NIL, remote_exprs, outer_plan);
}

/* ---------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------
 */

/*
 * sf_convert_row
 *		Convert row "row" of res, whose columns are retrieved_attrs, into
 *		values/nulls for tupdesc (columns not retrieved are null); the ctid,
 *		when retrieved, goes to *ctid.  Allocates in CurrentMemoryContext.
 */
void
sf_convert_row(PGresult *res, int row, TupleDesc tupdesc,
			   AttInMetadata *attinmeta, List *retrieved_attrs,
			   Datum *values, bool *nulls, ItemPointer ctid)
{
	ListCell   *lc;

	memset(values, 0, sizeof(Datum) * tupdesc->natts);
	memset(nulls, true, sizeof(bool) * tupdesc->natts);
	foreach(lc, retrieved_attrs)
	{
		int			attnum = lfirst_int(lc);
		int			col = foreach_current_index(lc);
		char	   *text = PQgetisnull(res, row, col) ? NULL :
			PQgetvalue(res, row, col);

		if (attnum > 0)
		{
			values[attnum - 1] =
				InputFunctionCall(&attinmeta->attinfuncs[attnum - 1], text,
								  attinmeta->attioparams[attnum - 1],
								  attinmeta->atttypmods[attnum - 1]);
			nulls[attnum - 1] = (text == NULL);
		}
		else if (attnum == SelfItemPointerAttributeNumber && text && ctid)
			*ctid = *(ItemPointer) DatumGetPointer(DirectFunctionCall1(tidin,
															 CStringGetDatum(text)));
	}
}

/* Error context while converting a fetched row. */
static void
conversion_error_callback(void *arg)
{
	SfScanState *st = (SfScanState *) arg;

	errcontext("converting a row of foreign table \"%s\" fetched from server \"%s\"",
			   RelationGetRelationName(st->rel), sf_conn_server_name(st->conn));
}

/* Store the next row of the buffer into the scan slot. */
static TupleTableSlot *
scan_store_row(SfScanState *st)
{
	TupleTableSlot *slot = st->node->ss.ss_ScanTupleSlot;
	MemoryContext old;
	HeapTuple	tuple;
	ItemPointerData ctid;
	ErrorContextCallback errcb;

	errcb.callback = conversion_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	MemoryContextReset(st->tuple_cxt);
	old = MemoryContextSwitchTo(st->tuple_cxt);
	ItemPointerSetInvalid(&ctid);
	sf_convert_row(st->res, st->next_row, st->tupdesc, st->attinmeta,
				   st->retrieved_attrs, st->values, st->nulls, &ctid);
	tuple = heap_form_tuple(st->tupdesc, st->values, st->nulls);
	tuple->t_self = ctid;
	tuple->t_tableOid = RelationGetRelid(st->rel);
	MemoryContextSwitchTo(old);
	error_context_stack = errcb.previous;
	st->next_row++;
	ExecStoreHeapTuple(tuple, slot, false);
	return slot;
}

/*
 * Make the buffer hold a row if one is available without waiting: move a
 * parked result in when the current one is used up.  Returns true if a
 * row is ready.
 */
static bool
scan_row_ready(SfScanState *st)
{
	if (st->res != NULL && st->next_row < PQntuples(st->res))
		return true;
	if (st->next_res != NULL)
	{
		PQclear(st->res);
		st->res = st->next_res;
		st->next_res = NULL;
		st->next_row = 0;
		return st->next_row < PQntuples(st->res);
	}
	return false;
}

/* Is the scan over: no row buffered and nothing more to fetch? */
static bool
scan_done(SfScanState *st)
{
	return st->eof && !st->in_flight && st->next_res == NULL &&
		(st->res == NULL || st->next_row >= PQntuples(st->res));
}

/* Park a FETCH result; a short batch means the cursor is exhausted. */
static void
scan_take_result(SfScanState *st, PGresult *res, const char *sql)
{
	sf_check_result(res, st->conn, PGRES_TUPLES_OK, sql);
	if (PQntuples(res) < st->fetch_size)
		st->eof = true;
	st->batches++;
	if (st->res != NULL && st->next_row < PQntuples(st->res))
		st->next_res = res;		/* still reading the current batch */
	else
	{
		PQclear(st->res);
		st->res = res;
		st->next_row = 0;
	}
}

/* Read the result of our FETCH in flight (blocking). */
static void
scan_collect(SfScanState *st)
{
	PGresult   *res;

	Assert(st->in_flight);
	st->in_flight = false;
	sf_conn_clear_pending(st->conn, st);
	res = sf_get_result(st->conn, st->flight_sql);
	scan_take_result(st, res, st->flight_sql);
}

/* Drain callback: someone else needs the connection. */
static void
scan_drain(void *arg)
{
	SfScanState *st = (SfScanState *) arg;

	if (st->in_flight)
		scan_collect(st);
}

/* Compute the parameters' text values for the current execution. */
static void
scan_compute_params(SfScanState *st)
{
	ExprContext *econtext = st->node->ss.ps.ps_ExprContext;
	MemoryContext old;
	ListCell   *lc;
	int			level;

	if (st->num_params == 0)
		return;
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	level = sf_set_transmission_modes();
	foreach(lc, st->param_exprs)
	{
		ExprState  *expr = (ExprState *) lfirst(lc);
		int			i = foreach_current_index(lc);
		bool		isnull;
		Datum		value = ExecEvalExpr(expr, econtext, &isnull);

		st->param_values[i] = isnull ? NULL :
			OutputFunctionCall(&st->param_out[i], value);
	}
	sf_reset_transmission_modes(level);
	MemoryContextSwitchTo(old);
}

/*
 * Name a new cursor (setting fetch_sql) and return its DECLARE command,
 * palloc'd in the current memory context.
 */
static char *
scan_declare_sql(SfScanState *st)
{
	st->cursor_number = sf_conn_next_cursor_number(st->conn);
	snprintf(st->fetch_sql, sizeof(st->fetch_sql), "FETCH %d FROM c%u",
			 st->fetch_size, st->cursor_number);
	return psprintf("DECLARE c%u %sCURSOR FOR %s", st->cursor_number,
					st->scroll ? "SCROLL " : "", st->query);
}

/* The cursor is declared (or about to be): nothing fetched yet. */
static void
scan_cursor_declared(SfScanState *st)
{
	st->cursor_exists = true;
	st->eof = false;
	st->batches = 0;
}

/* DECLARE the cursor with the current parameter values, synchronously. */
static void
scan_declare(SfScanState *st)
{
	char	   *sql = scan_declare_sql(st);
	PGresult   *res;

	scan_compute_params(st);
	res = sf_exec_query(st->conn, sql, st->num_params, st->param_values);
	sf_check_result(res, st->conn, PGRES_COMMAND_OK, sql);
	PQclear(res);
	pfree(sql);
	scan_cursor_declared(st);
	ResetExprContext(st->node->ss.ps.ps_ExprContext);
}

/*
 * The command that brings the next batch: the FETCH, preceded in the same
 * round trip by the DECLARE if the cursor does not exist yet and has no
 * parameters (with parameters, the DECLARE is run first on its own).
 * The text stays valid while the command is in flight.
 */
static const char *
scan_next_command(SfScanState *st)
{
	MemoryContext old;
	char	   *declare;

	if (st->cursor_exists)
		return st->fetch_sql;
	if (st->num_params > 0)
	{
		scan_declare(st);
		return st->fetch_sql;
	}
	old = MemoryContextSwitchTo(st->state_cxt);
	declare = scan_declare_sql(st);
	if (st->inflight_sql)
		pfree(st->inflight_sql);
	st->inflight_sql = psprintf("%s; %s", declare, st->fetch_sql);
	pfree(declare);
	MemoryContextSwitchTo(old);
	scan_cursor_declared(st);
	return st->inflight_sql;
}

/* Send the next FETCH without waiting; the connection must be free. */
static void
scan_send_fetch(SfScanState *st)
{
	const char *sql;

	Assert(!st->in_flight && !st->eof);
	sql = scan_next_command(st);
	sf_send_query(st->conn, sql, 0, NULL);
	st->in_flight = true;
	st->flight_sql = sql;
	sf_conn_set_pending(st->conn, scan_drain, st);
}

/* Get more rows, waiting for them. */
static void
scan_fetch_sync(SfScanState *st)
{
	const char *sql;

	if (st->in_flight)
	{
		scan_collect(st);
		return;
	}
	sql = scan_next_command(st);
	scan_take_result(st, sf_exec_query(st->conn, sql, 0, NULL), sql);
}

/* Forget buffered rows, finish any FETCH in flight, CLOSE the cursor. */
static void
scan_close(SfScanState *st)
{
	char		sql[32];

	if (st->in_flight)
		scan_collect(st);
	PQclear(st->res);
	PQclear(st->next_res);
	st->res = st->next_res = NULL;
	st->next_row = 0;
	if (st->cursor_exists)
	{
		/*
		 * Not deferred: an open cursor keeps the remote table in use, and
		 * DDL later in the transaction (e.g. dropping a shard) would fail.
		 */
		snprintf(sql, sizeof(sql), "CLOSE c%u", st->cursor_number);
		sf_exec_command(st->conn, sql);
		st->cursor_exists = false;
	}
	st->eof = false;
	st->batches = 0;
}

/* Memory context reset callback: free libpq results on any exit path. */
static void
scan_release(void *arg)
{
	SfScanState *st = (SfScanState *) arg;

	PQclear(st->res);
	PQclear(st->next_res);
	st->res = st->next_res = NULL;
}

/* Does the list hold a Param computed at run time (not PARAM_EXTERN)? */
static bool
has_exec_params(List *exprs)
{
	ListCell   *lc;

	foreach(lc, exprs)
	{
		Node	   *expr = (Node *) lfirst(lc);

		if (!IsA(expr, Param) || ((Param *) expr)->paramkind != PARAM_EXTERN)
			return true;
	}
	return false;
}

/*
 * sf_BeginForeignScan
 *		Set up the scan state; the cursor is declared at the first fetch.
 */
void
sf_BeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	SfScanState *st;
	MemoryContextCallback *cb;
	ListCell   *lc;
	int			i;
	bool		locks_rows;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(SfScanState));
	node->fdw_state = st;
	st->node = node;
	st->rel = node->ss.ss_currentRelation;
	st->tupdesc = RelationGetDescr(st->rel);
	st->attinmeta = TupleDescGetAttInMetadata(st->tupdesc);
	st->query = strVal(list_nth(fsplan->fdw_private, SfScanPrivateSelectSql));
	st->retrieved_attrs = (List *) list_nth(fsplan->fdw_private,
											SfScanPrivateRetrievedAttrs);
	st->fetch_size = intVal(list_nth(fsplan->fdw_private,
									 SfScanPrivateFetchSize));
	locks_rows = intVal(list_nth(fsplan->fdw_private,
								 SfScanPrivateRowLock)) != 0;
	st->conn = sf_get_connection(sf_user_mapping_for(st->rel,
													 exec_rt_fetch(fsplan->scan.scanrelid, estate)->checkAsUser));
	st->values = palloc(sizeof(Datum) * st->tupdesc->natts);
	st->nulls = palloc(sizeof(bool) * st->tupdesc->natts);
	st->tuple_cxt = AllocSetContextCreate(estate->es_query_cxt,
										  "shardfdw scan tuple",
										  ALLOCSET_DEFAULT_SIZES);
	/* free the libpq results even if the query fails */
	cb = MemoryContextAlloc(estate->es_query_cxt, sizeof(MemoryContextCallback));
	cb->func = scan_release;
	cb->arg = st;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, cb);

	st->state_cxt = estate->es_query_cxt;
	st->num_params = list_length(fsplan->fdw_exprs);
	if (st->num_params > 0)
	{
		st->param_exprs = ExecInitExprList(fsplan->fdw_exprs,
										   (PlanState *) node);
		st->param_out = palloc0(sizeof(FmgrInfo) * st->num_params);
		st->param_values = palloc0(sizeof(char *) * st->num_params);
		i = 0;
		foreach(lc, fsplan->fdw_exprs)
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(exprType(lfirst(lc)), &outfunc, &isvarlena);
			fmgr_info(outfunc, &st->param_out[i++]);
		}
	}

	/*
	 * In a statement that modifies anything, declare the cursor now, before
	 * any change is made: a cursor declared later in the statement would
	 * see the statement's own changes (rows it inserted, updated or moved)
	 * where PostgreSQL's statement snapshot does not.  Parameters computed
	 * at run time (PARAM_EXEC) are not known yet; such scans stay lazy.
	 */
	if ((estate->es_plannedstmt->commandType != CMD_SELECT ||
		 estate->es_plannedstmt->hasModifyingCTE) &&
		!has_exec_params(fsplan->fdw_exprs))
	{
		/*
		 * A rescan must not see the changes either: it rewinds a SCROLL
		 * cursor.  A cursor that locks its rows cannot scroll; when the
		 * plan may rescan the scan with the same parameters (REWIND), it
		 * is read in one FETCH instead and a rescan reads that result
		 * again.
		 */
		if (!locks_rows)
			st->scroll = true;
		else if (eflags & EXEC_FLAG_REWIND)
			st->fetch_size = INT_MAX;
		scan_declare(st);
	}
}

/*
 * sf_IterateForeignScan
 *		Synchronous iteration: next row, fetching (and waiting) as needed.
 */
TupleTableSlot *
sf_IterateForeignScan(ForeignScanState *node)
{
	SfScanState *st = (SfScanState *) node->fdw_state;

	while (!scan_row_ready(st))
	{
		if (scan_done(st) || st->no_wait)
			return ExecClearTuple(node->ss.ss_ScanTupleSlot);
		scan_fetch_sync(st);
	}
	return scan_store_row(st);
}

/*
 * sf_ReScanForeignScan
 *		Restart the scan.  When the parameters did not change and the whole
 *		result came in one batch, just read the buffer again; a SCROLL
 *		cursor is rewound; otherwise close the cursor, which the next fetch
 *		declares anew.
 */
void
sf_ReScanForeignScan(ForeignScanState *node)
{
	SfScanState *st = (SfScanState *) node->fdw_state;
	char		sql[64];

	if (st == NULL)
		return;
	if (node->ss.ps.chgParam == NULL && st->cursor_exists && st->eof &&
		st->batches == 1 && !st->in_flight && st->res != NULL &&
		st->next_res == NULL)
	{
		st->next_row = 0;
		return;
	}
	if (node->ss.ps.chgParam == NULL && st->cursor_exists && st->scroll)
	{
		/* same rows, same snapshot: rewind */
		if (st->in_flight)
			scan_collect(st);
		PQclear(st->res);
		PQclear(st->next_res);
		st->res = st->next_res = NULL;
		st->next_row = 0;
		snprintf(sql, sizeof(sql), "MOVE BACKWARD ALL IN c%u",
				 st->cursor_number);
		sf_exec_command(st->conn, sql);
		st->eof = false;
		st->batches = 0;
		return;
	}
	scan_close(st);
}

/*
 * sf_EndForeignScan
 *		Finish any FETCH in flight and close the cursor.
 */
void
sf_EndForeignScan(ForeignScanState *node)
{
	SfScanState *st = (SfScanState *) node->fdw_state;

	if (st == NULL)
		return;
	scan_close(st);
	MemoryContextDelete(st->tuple_cxt);
	st->tuple_cxt = NULL;
}

/*
 * sf_ExplainForeignScan
 *		VERBOSE shows the server and the remote SQL.
 */
void
sf_ExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (!es->verbose)
		return;
	ExplainPropertyText("Server",
						GetForeignServer(fsplan->fs_server)->servername, es);
	ExplainPropertyText("Remote SQL",
						strVal(list_nth(fsplan->fdw_private,
										SfScanPrivateSelectSql)), es);
}

/* ---------------------------------------------------------------------
 * Asynchronous execution
 * ---------------------------------------------------------------------
 */

/*
 * sf_IsForeignPathAsyncCapable
 *		Every scan can run asynchronously unless shardfdw.enable_async is
 *		off.
 */
bool
sf_IsForeignPathAsyncCapable(ForeignPath *path)
{
	return shardfdw_enable_async;
}

/*
 * Complete the request if a row is ready or the scan is over; returns
 * false if the request must wait.
 */
static bool
async_complete(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	SfScanState *st = (SfScanState *) node->fdw_state;
	TupleTableSlot *result;

	if (!scan_row_ready(st) && !(scan_done(st) && st->cursor_exists))
		return false;

	/*
	 * Run local quals and projection on buffered rows only.  Call the node's
	 * function directly: ExecAsyncRequest already started its
	 * instrumentation.
	 */
	st->no_wait = true;
	PG_TRY();
	{
		result = node->ss.ps.ExecProcNodeReal((PlanState *) node);
	}
	PG_FINALLY();
	{
		st->no_wait = false;
	}
	PG_END_TRY();

	if (TupIsNull(result) && !(scan_done(st) && st->cursor_exists))
		return false;			/* local quals used up the buffer */

	/* the connection is idle: read ahead while the rows are used */
	if (!TupIsNull(result) && !st->eof && !st->in_flight &&
		st->next_res == NULL && sf_conn_pending_owner(st->conn) == NULL)
		scan_send_fetch(st);
	ExecAsyncRequestDone(areq, result);
	return true;
}

/*
 * Is "owner" the scan of a sibling of areq (same Append) whose request is
 * pending, so that the sibling will wait on the connection's socket?
 */
static bool
owner_is_waiting_sibling(AsyncRequest *areq, void *owner)
{
	AppendState *append = (AppendState *) areq->requestor;
	int			i = -1;

	if (!IsA(append, AppendState))
		return false;
	while ((i = bms_next_member(append->as_asyncplans, i)) >= 0)
	{
		AsyncRequest *other = append->as_asyncrequests[i];

		if (other != areq && other->callback_pending &&
			IsA(other->requestee, ForeignScanState) &&
			((ForeignScanState *) other->requestee)->fdw_state == owner)
			return true;
	}
	return false;
}

/*
 * sf_ForeignAsyncRequest
 *		Complete from the buffer when possible; otherwise send a FETCH if
 *		the connection is free and leave the request pending.
 */
void
sf_ForeignAsyncRequest(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	SfScanState *st = (SfScanState *) node->fdw_state;

	if (async_complete(areq))
		return;
	if (!st->in_flight && sf_conn_pending_owner(st->conn) == NULL)
	{
		scan_send_fetch(st);
		if (async_complete(areq))	/* empty-result corner: cannot happen */
			return;
	}
	ExecAsyncRequestPending(areq);
}

/*
 * sf_ForeignAsyncConfigureWait
 *		Called for a pending request before the Append waits.  Register the
 *		socket only if our FETCH is in flight; complete at once if another
 *		user of the connection parked our rows meanwhile.
 */
void
sf_ForeignAsyncConfigureWait(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	SfScanState *st = (SfScanState *) node->fdw_state;
	AppendState *append = (AppendState *) areq->requestor;
	void	   *owner;

	if (!st->in_flight)
	{
		if (async_complete(areq))
		{
			areq->callback_pending = false;
			ExecAsyncResponse(areq);
			return;
		}
		owner = sf_conn_pending_owner(st->conn);
		if (owner != NULL && owner_is_waiting_sibling(areq, owner))
			return;				/* the sibling waits; our turn comes later */
		if (owner != NULL)
			sf_conn_drain(st->conn);
		scan_send_fetch(st);
	}
	AddWaitEventToSet(append->as_eventset, WL_SOCKET_READABLE,
					  PQsocket(sf_conn_pgconn(st->conn)), NULL, areq);
}

/*
 * sf_ForeignAsyncNotify
 *		The socket is readable: read what arrived, and complete the request
 *		once the whole FETCH result is there.
 */
void
sf_ForeignAsyncNotify(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	SfScanState *st = (SfScanState *) node->fdw_state;

	if (st->in_flight)
	{
		PGconn	   *pgconn = sf_conn_pgconn(st->conn);

		/* on failure, fall through: sf_get_result reports the error */
		if (PQconsumeInput(pgconn) && PQisBusy(pgconn))
		{
			ExecAsyncRequestPending(areq);
			return;
		}
		scan_collect(st);
	}
	if (async_complete(areq))
		return;
	/* nothing buffered and not over: fetch again when the line is free */
	if (!st->in_flight && sf_conn_pending_owner(st->conn) == NULL)
		scan_send_fetch(st);
	ExecAsyncRequestPending(areq);
}
