/*-------------------------------------------------------------------------
 *
 * modify.c
 *	  INSERT, UPDATE and DELETE on shardfdw foreign tables.
 *
 * Three ways to change remote rows:
 *	- COPY batching: an INSERT (or a row routed into a foreign partition,
 *	  which is how every INSERT into a distributed table arrives) with no
 *	  RETURNING, no ON CONFLICT, no row triggers and no WITH CHECK OPTION
 *	  buffers its rows as COPY text and sends them with one
 *	  "COPY tbl (cols) FROM STDIN" every batch_size rows or ~1 MB, and at
 *	  the end of the statement.  Rows therefore reach the worker at the
 *	  latest when the statement ends, which SQL cannot observe: a statement
 *	  does not see its own changes.
 *	- Row by row: a parameterized INSERT / UPDATE / DELETE per row, rows
 *	  located by the remote ctid that the scan fetches as junk column
 *	  "ctid".  Used with RETURNING, row triggers or WITH CHECK OPTION;
 *	  RETURNING sends back every column.  INSERT ... ON CONFLICT DO NOTHING
 *	  without those goes through the executor's batch API as multi-row
 *	  INSERTs of batch_size rows.
 *	- Direct modification: UPDATE / DELETE whose WHERE and SET are all
 *	  shippable runs as one remote statement per foreign table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "fdw.h"
#include "fdw_option.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/inherit.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"

/* Flush the COPY buffer when it grows past this many bytes. */
#define SF_COPY_FLUSH_BYTES (1024 * 1024)

/* Rows per COPY batch when the batch_size option is not set. */
#define SF_COPY_DEFAULT_BATCH_SIZE 10000

/* How a modification state sends its rows. */
typedef enum SfModifyMode
{
	SF_MODIFY_COPY,				/* buffered COPY FROM STDIN */
	SF_MODIFY_ROW				/* one parameterized statement per row */
} SfModifyMode;

/* Execution state of a modified foreign table (ResultRelInfo.ri_FdwState). */
typedef struct SfModifyState
{
	Relation	rel;			/* the foreign table */
	TupleDesc	tupdesc;		/* its descriptor */
	AttInMetadata *attinmeta;	/* input functions, for RETURNING rows */
	CmdType		operation;		/* INSERT, UPDATE or DELETE */
	SfModifyMode mode;			/* COPY batching or row by row */
	SfConn	   *conn;			/* connection; NULL under EXPLAIN only */
	const char *server_name;	/* for messages */
	char	   *sql;			/* per-row statement or the COPY command */
	List	   *target_attrs;	/* attnos sent, in order */
	bool		has_returning;	/* per-row statement has RETURNING */
	bool		on_conflict_nothing;	/* INSERT ... ON CONFLICT DO NOTHING */
	char	   *batch_sql;		/* multi-row INSERT for batch_rows rows */
	int			batch_rows;		/* rows of batch_sql (0: none built) */
	List	   *retrieved_attrs;	/* attnos RETURNING gives */
	AttrNumber	ctid_attno;		/* junk "ctid" in the subplan's output */
	FmgrInfo   *outfuncs;		/* output functions, indexed by attno - 1 */
	const char **values;		/* text parameters of one row */
	StringInfoData copybuf;		/* COPY lines not yet sent */
	int			buffered;		/* rows in copybuf */
	/* (transaction layer, COPY errors) input line of each buffered row */
	void	   *copy_cstate;	/* the local COPY FROM feeding us, or NULL */
	bool		copy_passthrough;	/* forward copy_cstate's raw input
									 * lines instead of re-formatting */
	uint64	   *linenos;		/* its input line per buffered row */
	int			linenos_size;	/* allocated entries */
	/* (transaction layer, COPY pipelining) the batch sent, verdict unread */
	int			sent_rows;		/* its rows (0: none pending) */
	uint64	   *sent_linenos;	/* their input lines */
	int			sent_linenos_size;	/* allocated entries */
	int			flush_at;		/* rows that trigger the next flush */
	int			batch_size;		/* flush every that many rows */
	bool		defer_flush;	/* send buffered rows only at the end */
	MemoryContext row_cxt;		/* memory of one row */
	ModifyTableState *mtstate;	/* UPDATE: the node, to route moved rows */
	char	   *move_delete_sql;	/* UPDATE: DELETE of a row that moves */
	struct SfModifyState *moved;	/* UPDATE: COPY state of rows moved into
									 * this table by the same statement */
} SfModifyState;

/* State of a direct modification (ForeignScanState.fdw_state). */
typedef struct SfDirectState
{
	char	   *sql;			/* the remote UPDATE / DELETE */
	SfConn	   *conn;			/* connection to the worker */
	List	   *param_exprs;	/* ExprStates of the $n parameters */
	FmgrInfo   *param_out;		/* their output functions */
	const char **param_values;	/* their text values */
	int			num_params;		/* how many */
	bool		done;			/* statement already run? */
} SfDirectState;

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/*
 * sf_AddForeignUpdateTargets
 *		UPDATE and DELETE locate remote rows by ctid: ask the scan for it as
 *		the junk column "ctid".
 */
void
sf_AddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
						   RangeTblEntry *target_rte,
						   Relation target_relation)
{
	Var		   *var = makeVar(rtindex, SelfItemPointerAttributeNumber,
							  TIDOID, -1, InvalidOid, 0);

	add_row_identity_var(root, var, rtindex, "ctid");
}

/*
 * Attnos of the columns an UPDATE of relation rtindex changes, including
 * the stored generated columns recomputed from them (BeginForeignModify
 * leaves out those the worker computes itself).
 */
static List *
updated_attrs(PlannerInfo *root, Index rtindex, Relation rel)
{
	RelOptInfo *baserel = find_base_rel(root, rtindex);
	Bitmapset  *cols = get_rel_all_updated_cols(root, baserel);
	List	   *result = NIL;
	int			col = -1;

	while ((col = bms_next_member(cols, col)) >= 0)
	{
		AttrNumber	attnum = col + FirstLowInvalidHeapAttributeNumber;

		if (attnum <= 0)
			continue;
		result = lappend_int(result, attnum);
	}
	return result;
}

/*
 * sf_PlanForeignModify
 *		Record what BeginForeignModify needs: the updated columns, whether
 *		there is RETURNING, and ON CONFLICT DO NOTHING.
 */
List *
sf_PlanForeignModify(PlannerInfo *root, ModifyTable *plan,
					 Index resultRelation, int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	List	   *target_attrs = NIL;
	bool		has_returning;
	bool		on_conflict_nothing = false;

	if (plan->onConflictAction == ONCONFLICT_UPDATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT DO UPDATE is not supported on shardfdw foreign tables"),
				 errhint("Use ON CONFLICT DO NOTHING, or UPDATE the conflicting rows separately.")));
	on_conflict_nothing = (plan->onConflictAction == ONCONFLICT_NOTHING);
	has_returning = (plan->returningLists != NIL &&
					 list_nth(plan->returningLists, subplan_index) != NIL);

	if (plan->operation == CMD_UPDATE)
	{
		Relation	rel = table_open(rte->relid, NoLock);

		target_attrs = updated_attrs(root, resultRelation, rel);
		table_close(rel, NoLock);
	}

	return list_make3(target_attrs, makeBoolean(has_returning),
					  makeBoolean(on_conflict_nothing));
}

/* ---------------------------------------------------------------------
 * Row-by-row and COPY execution
 * ---------------------------------------------------------------------
 */

/*
 * Error context of a COPY batch of nrows rows (input lines linenos, or
 * NULL): which shard, which server and, when the worker rejected a row of
 * a local COPY FROM, which input line (transaction layer).
 */
static void
copy_error_context(SfModifyState *st, int nrows, const uint64 *linenos)
{
	int64		row = sf_copy_remote_error_line(sf_last_remote_error_context());

	if (linenos != NULL && row > 0 && row <= nrows && linenos[row - 1] > 0)
	{
		/* the local COPY's own context names that line too */
		sf_copy_input_blame(st->copy_cstate, linenos[row - 1]);
		errcontext("input line " UINT64_FORMAT ", row %d of %d sent by COPY to shard table \"%s.%s\" on server \"%s\"",
				   linenos[row - 1], (int) row, nrows,
				   get_namespace_name(RelationGetNamespace(st->rel)),
				   RelationGetRelationName(st->rel), st->server_name);
		return;
	}
	errcontext("COPY of %d rows into shard table \"%s.%s\" on server \"%s\"",
			   nrows,
			   get_namespace_name(RelationGetNamespace(st->rel)),
			   RelationGetRelationName(st->rel), st->server_name);
}

/* Error context while a batch is sent. */
static void
flush_error_callback(void *arg)
{
	SfModifyState *st = (SfModifyState *) arg;

	copy_error_context(st, st->buffered, st->linenos);
}

/* Error context while the worker's verdict on a sent batch is read. */
static void
sent_error_callback(void *arg)
{
	SfModifyState *st = (SfModifyState *) arg;

	copy_error_context(st, st->sent_rows, st->sent_linenos);
}

/*
 * Drain callback of a sent batch (transaction layer: COPY pipelining):
 * read the worker's verdict.  Runs when anyone next uses the connection,
 * at the latest at the end of the statement (modify_wait).
 */
static void
copy_result_callback(void *arg)
{
	SfModifyState *st = (SfModifyState *) arg;
	ErrorContextCallback errcb;

	errcb.callback = sent_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	sf_copy_check_result(st->conn, st->sql);
	error_context_stack = errcb.previous;
	st->sent_rows = 0;
}

/*
 * Send the buffered COPY rows, if any.  The worker's verdict is read later
 * (copy_result_callback), so that it stores this batch while the
 * coordinator routes the next rows.
 */
static void
modify_flush(SfModifyState *st)
{
	ErrorContextCallback errcb;
	uint64	   *swap;
	int			swap_size;

	if (st->buffered == 0)
		return;
	/* the verdict on an earlier batch on this connection, in its context */
	sf_conn_drain(st->conn);

	errcb.callback = flush_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	sf_copy_begin(st->conn, st->sql);
	sf_copy_send(st->conn, st->copybuf.data, st->copybuf.len);
	sf_copy_end_async(st->conn);

	error_context_stack = errcb.previous;

	/* the sent batch keeps its input lines until its verdict is read */
	swap = st->sent_linenos;
	swap_size = st->sent_linenos_size;
	st->sent_linenos = st->linenos;
	st->sent_linenos_size = st->linenos_size;
	st->linenos = swap;
	st->linenos_size = swap_size;
	st->sent_rows = st->buffered;
	sf_conn_set_pending(st->conn, copy_result_callback, st);

	resetStringInfo(&st->copybuf);
	st->buffered = 0;
	st->flush_at = st->batch_size;
}

/* Wait for the verdict on this state's last batch, if still pending. */
static void
modify_wait(SfModifyState *st)
{
	if (st->conn != NULL && sf_conn_pending_owner(st->conn) == st)
		sf_conn_drain(st->conn);
}

/* The user whose mapping a modification uses. */
static Oid
modify_user(EState *estate, ResultRelInfo *rinfo)
{
	Index		rti = rinfo->ri_RangeTableIndex;

	if (rti == 0 && rinfo->ri_RootResultRelInfo)
		rti = rinfo->ri_RootResultRelInfo->ri_RangeTableIndex;
	return rti ? exec_rt_fetch(rti, estate)->checkAsUser : InvalidOid;
}

/*
 * The stored generated columns of rel whose values must be sent: those that
 * are plain columns on the worker.  Shard tables are created without
 * generation expressions (the coordinator computes the values); a remote
 * table that computes a column itself refuses values for it.  The worker is
 * asked only if rel has stored generated columns; without a connection
 * (EXPLAIN) they are all sent.
 */
static Bitmapset *
generated_attrs_to_send(SfConn *conn, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Bitmapset  *result = NULL;
	StringInfoData sql;
	PGresult   *res;
	int			i;
	int			row;

	if (tupdesc->constr == NULL || !tupdesc->constr->has_generated_stored)
		return NULL;
	for (i = 1; i <= tupdesc->natts; i++)
		if (TupleDescAttr(tupdesc, i - 1)->attgenerated &&
			!TupleDescAttr(tupdesc, i - 1)->attisdropped)
			result = bms_add_member(result, i);
	if (conn == NULL)
		return result;

	initStringInfo(&sql);
	sf_append_remote_table(&sql, rel);
	res = sf_exec_query(conn,
						psprintf("SELECT attname FROM pg_catalog.pg_attribute"
								 " WHERE attrelid = %s::pg_catalog.regclass"
								 " AND attnum > 0 AND NOT attisdropped"
								 " AND attgenerated <> ''",
								 quote_literal_cstr(sql.data)),
						0, NULL);
	for (row = 0; row < PQntuples(res); row++)
	{
		const char *name = PQgetvalue(res, row, 0);

		i = -1;
		while ((i = bms_next_member(result, i)) >= 0)
			if (strcmp(sf_remote_column_name(rel, i), name) == 0)
				result = bms_del_member(result, i);
	}
	PQclear(res);
	pfree(sql.data);
	return result;
}

/*
 * Rows per multi-row INSERT ... ON CONFLICT DO NOTHING: batch_size, within
 * the protocol's limit of 65535 parameters; 1 when rows are not batched
 * that way (COPY batching, RETURNING, triggers, check options).
 */
static int
sf_batch_rows(SfModifyState *st)
{
	int			ncols = list_length(st->target_attrs);

	if (st->operation != CMD_INSERT || st->mode != SF_MODIFY_ROW ||
		!st->on_conflict_nothing || st->has_returning || ncols == 0)
		return 1;
	return Max(1, Min(st->batch_size, 65535 / ncols));
}

/*
 * Set up the state of a modified (or routed-into) foreign table.  Decides
 * between COPY batching and per-row statements and builds the SQL.
 */
static SfModifyState *
modify_begin(EState *estate, ResultRelInfo *rinfo, CmdType operation,
			 List *target_attrs, bool has_returning, bool on_conflict_nothing,
			 Plan *subplan, bool explain_only, bool force_copy)
{
	SfModifyState *st = palloc0(sizeof(SfModifyState));
	Relation	rel = rinfo->ri_RelationDesc;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	ForeignServer *server = GetForeignServer(table->serverid);
	TriggerDesc *trig = rinfo->ri_TrigDesc;
	bool		row_triggers = false;
	Bitmapset  *generated;
	StringInfoData sql;
	int			i;

	st->rel = rel;
	st->tupdesc = tupdesc;
	st->operation = operation;
	st->server_name = server->servername;
	st->attinmeta = TupleDescGetAttInMetadata(tupdesc);
	st->batch_size = sf_option_int(server->options, "batch_size",
								   SF_DEFAULT_BATCH_SIZE);
	st->batch_size = sf_option_int(table->options, "batch_size",
								   st->batch_size);

	if (!explain_only)
		st->conn = sf_get_connection(sf_user_mapping_for(rel,
														 modify_user(estate,
																	 rinfo)));
	generated = generated_attrs_to_send(st->conn, rel);

	if (operation == CMD_INSERT)
	{
		/* every column, except generated ones the worker computes */
		target_attrs = NIL;
		for (i = 1; i <= tupdesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i - 1);

			if (!att->attisdropped &&
				(!att->attgenerated || bms_is_member(i, generated)))
				target_attrs = lappend_int(target_attrs, i);
		}
		if (trig)
			row_triggers = trig->trig_insert_before_row ||
				trig->trig_insert_after_row || trig->trig_insert_instead_row;
	}
	else
	{
		List	   *sent = NIL;
		ListCell   *lc;

		foreach(lc, target_attrs)
		{
			int			attnum = lfirst_int(lc);

			if (!TupleDescAttr(tupdesc, attnum - 1)->attgenerated ||
				bms_is_member(attnum, generated))
				sent = lappend_int(sent, attnum);
		}
		target_attrs = sent;
	}
	st->target_attrs = target_attrs;
	st->on_conflict_nothing = on_conflict_nothing;

	initStringInfo(&sql);
	if (operation == CMD_INSERT && target_attrs != NIL &&
		(force_copy ||
		 (!has_returning && !on_conflict_nothing && !row_triggers &&
		  rinfo->ri_WithCheckOptions == NIL)))
	{
		st->mode = SF_MODIFY_COPY;
		/*
		 * (transaction layer) COPY batches are larger than INSERT batches
		 * unless batch_size is set: fewer round trips per row (see
		 * bench/RESULTS.md); SF_COPY_FLUSH_BYTES still bounds the memory.
		 */
		if (sf_option_string(server->options, "batch_size", NULL) == NULL &&
			sf_option_string(table->options, "batch_size", NULL) == NULL)
			st->batch_size = SF_COPY_DEFAULT_BATCH_SIZE;

		/*
		 * The shards of a table fill at the same rate: a first batch of
		 * between half and all of batch_size rows, different per shard,
		 * spreads their flushes so that workers store one batch while the
		 * coordinator routes the next (see modify_flush).
		 */
		st->flush_at = st->batch_size / 2 + 1 +
			(int) ((RelationGetRelid(rel) * UINT64CONST(2654435761)) %
				   (uint64) (st->batch_size / 2 + 1));
		st->flush_at = Min(st->flush_at, st->batch_size);
		sf_build_copy(&sql, rel, target_attrs);
		initStringInfo(&st->copybuf);
		/* (transaction layer) rows from a local COPY FROM keep their line */
		st->copy_cstate = sf_copy_input_state();

		/*
		 * (transaction layer) Rows of a COPY FROM that reach this table
		 * unchanged (no row triggers, every column from the input, types
		 * read the same on the worker) are forwarded as their input lines,
		 * in the input's format: the coordinator parses them only to route
		 * them.
		 */
		if (st->copy_cstate != NULL && rinfo->ri_TrigDesc == NULL &&
			operation == CMD_INSERT)
		{
			char	   *options = sf_copy_passthrough_options(st->copy_cstate,
															  rel, target_attrs);

			if (options != NULL)
			{
				appendStringInfoString(&sql, options);
				st->copy_passthrough = true;
			}
		}
	}
	else
	{
		/* triggers and check options need the row as the worker stored it */
		bool		returning = has_returning || row_triggers ||
			rinfo->ri_WithCheckOptions != NIL;

		st->mode = SF_MODIFY_ROW;
		st->has_returning = returning;
		if (operation == CMD_INSERT)
			sf_build_insert(&sql, rel, target_attrs, 1, on_conflict_nothing,
							returning, &st->retrieved_attrs);
		else if (operation == CMD_UPDATE)
			sf_build_update(&sql, rel, target_attrs, returning,
							&st->retrieved_attrs);
		else
			sf_build_delete(&sql, rel, returning, &st->retrieved_attrs);
	}
	st->sql = sql.data;

	if (explain_only)
		return st;

	st->outfuncs = palloc0(sizeof(FmgrInfo) * (tupdesc->natts + 1));
	for (i = 1; i <= tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i - 1);
		Oid			outfunc;
		bool		isvarlena;

		if (att->attisdropped)
			continue;
		getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
		fmgr_info(outfunc, &st->outfuncs[i - 1]);
	}
	st->values = palloc0(sizeof(char *) *
						 (Max(list_length(target_attrs), 1) *
						  Max(sf_batch_rows(st), 1) + 1));
	if (operation != CMD_INSERT && subplan != NULL)
	{
		st->ctid_attno = ExecFindJunkAttributeInTlist(subplan->targetlist,
													  "ctid");
		if (!AttributeNumberIsValid(st->ctid_attno))
			elog(ERROR, "could not find junk ctid column");
	}
	st->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										"shardfdw modify row",
										ALLOCSET_SMALL_SIZES);
	return st;
}

/*
 * Run the per-row statement with the row's values (and ctid); store what
 * RETURNING gives into slot.  Returns NULL if no row was affected.
 */
static TupleTableSlot *
modify_row(SfModifyState *st, TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	MemoryContext old = MemoryContextSwitchTo(st->row_cxt);
	PGresult   *res;
	ListCell   *lc;
	int			nparams = 0;
	int			level;
	bool		affected;

	MemoryContextReset(st->row_cxt);
	MemoryContextSwitchTo(st->row_cxt);
	level = sf_set_transmission_modes();
	if (st->operation != CMD_DELETE)
	{
		slot_getallattrs(slot);
		foreach(lc, st->target_attrs)
		{
			int			attnum = lfirst_int(lc);

			st->values[nparams++] = slot->tts_isnull[attnum - 1] ? NULL :
				OutputFunctionCall(&st->outfuncs[attnum - 1],
								   slot->tts_values[attnum - 1]);
		}
	}
	if (st->operation != CMD_INSERT)
	{
		bool		isnull;
		Datum		ctid = ExecGetJunkAttribute(planSlot, st->ctid_attno,
												&isnull);

		if (isnull)
			elog(ERROR, "ctid is NULL");
		st->values[nparams++] = DatumGetCString(DirectFunctionCall1(tidout,
																	ctid));
	}
	sf_reset_transmission_modes(level);

	res = sf_exec_query(st->conn, st->sql, nparams, st->values);
	PG_TRY();
	{
		if (st->has_returning)
		{
			affected = PQntuples(res) > 0;
			if (affected)
			{
				ExecClearTuple(slot);
				sf_convert_row(res, 0, st->tupdesc, st->attinmeta,
							   st->retrieved_attrs, slot->tts_values,
							   slot->tts_isnull, NULL);
				ExecStoreVirtualTuple(slot);
			}
		}
		else
			affected = strcmp(PQcmdTuples(res), "0") != 0;
	}
	PG_FINALLY();
	{
		PQclear(res);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return affected ? slot : NULL;
}

/*
 * Add a row to the COPY buffer; send the buffer when it is full (unless
 * the rows must wait for the end of the statement).
 */
static void
modify_buffer_row(SfModifyState *st, TupleTableSlot *slot)
{
	MemoryContext old;

	MemoryContextReset(st->row_cxt);
	old = MemoryContextSwitchTo(st->row_cxt);
	if (st->copy_passthrough)
		sf_copy_append_input_line(&st->copybuf, st->copy_cstate);
	else
	{
		slot_getallattrs(slot);
		sf_copy_append_row(&st->copybuf, slot, st->outfuncs, st->target_attrs);
	}
	MemoryContextSwitchTo(old);
	/* (transaction layer) remember the input line for error messages */
	if (st->copy_cstate != NULL)
	{
		if (st->buffered >= st->linenos_size)
		{
			int			n = Max(st->linenos_size * 2, 1024);

			st->linenos = st->linenos ?
				repalloc(st->linenos, n * sizeof(uint64)) :
				MemoryContextAlloc(GetMemoryChunkContext(st), n * sizeof(uint64));
			st->linenos_size = n;
		}
		st->linenos[st->buffered] = sf_copy_input_line(st->copy_cstate);
	}
	st->buffered++;
	if (!st->defer_flush &&
		(st->buffered >= st->flush_at ||
		 st->copybuf.len >= SF_COPY_FLUSH_BYTES))
		modify_flush(st);
}

/*
 * sf_BeginForeignModify
 *		Set up INSERT / UPDATE / DELETE on a foreign table named by the
 *		statement.
 */
void
sf_BeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
					  List *fdw_private, int subplan_index, int eflags)
{
	rinfo->ri_FdwState =
		modify_begin(mtstate->ps.state, rinfo, mtstate->operation,
					 (List *) list_nth(fdw_private, SfModifyPrivateTargetAttrs),
					 boolVal(list_nth(fdw_private, SfModifyPrivateHasReturning)),
					 boolVal(list_nth(fdw_private,
									  SfModifyPrivateOnConflictNothing)),
					 outerPlanState(mtstate)->plan,
					 (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0, false);
	((SfModifyState *) rinfo->ri_FdwState)->mtstate = mtstate;
}

/*
 * sf_BeginForeignInsert
 *		Set up rows routed into a foreign partition (INSERT or COPY on a
 *		distributed table).
 */
void
sf_BeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	ModifyTable *plan = (ModifyTable *) mtstate->ps.plan;
	bool		on_conflict_nothing = false;

	if (plan != NULL && plan->onConflictAction == ONCONFLICT_UPDATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT DO UPDATE is not supported on shardfdw foreign tables"),
				 errhint("Use ON CONFLICT DO NOTHING, or UPDATE the conflicting rows separately.")));
	if (plan != NULL)
		on_conflict_nothing = (plan->onConflictAction == ONCONFLICT_NOTHING);

	/*
	 * A partition that is also a target of the running UPDATE receives the
	 * rows that the UPDATE moves out of other shards.  Its cursor may still
	 * be read, so those rows are kept until the end of the statement: the
	 * scan must not see them (and update them again).
	 */
	if (rinfo->ri_FdwState != NULL)
	{
		SfModifyState *update = (SfModifyState *) rinfo->ri_FdwState;

		if (update->moved == NULL)
		{
			update->moved = modify_begin(mtstate->ps.state, rinfo, CMD_INSERT,
										 NIL, false, false, NULL, false, true);
			update->moved->defer_flush = true;
		}
		return;
	}

	rinfo->ri_FdwState =
		modify_begin(mtstate->ps.state, rinfo, CMD_INSERT, NIL,
					 rinfo->ri_returningList != NIL, on_conflict_nothing,
					 NULL, false, false);
}

/*
 * sf_GetForeignModifyBatchSize
 *		INSERT ... ON CONFLICT DO NOTHING without RETURNING is sent as
 *		multi-row statements; everything else row by row or by COPY.
 */
int
sf_GetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;

	if (st == NULL || st->conn == NULL)
		return 1;
	return sf_batch_rows(st);
}

/*
 * sf_ExecForeignBatchInsert
 *		Send *numSlots rows as one INSERT ... ON CONFLICT DO NOTHING; set
 *		*numSlots to the number of rows the worker inserted.
 */
TupleTableSlot **
sf_ExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
						  TupleTableSlot **slots, TupleTableSlot **planSlots,
						  int *numSlots)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;
	MemoryContext old;
	PGresult   *res;
	int			nparams = 0;
	int			level;
	int			i;

	if (*numSlots == 1 || st->mode == SF_MODIFY_COPY)
	{
		int			inserted = 0;

		for (i = 0; i < *numSlots; i++)
			if (sf_ExecForeignInsert(estate, rinfo, slots[i], planSlots[i]))
				slots[inserted++] = slots[i];
		*numSlots = inserted;
		return slots;
	}

	if (st->batch_rows != *numSlots)
	{
		StringInfoData sql;
		List	   *unused;

		initStringInfo(&sql);
		sf_build_insert(&sql, st->rel, st->target_attrs, *numSlots,
						st->on_conflict_nothing, false, &unused);
		if (st->batch_sql)
			pfree(st->batch_sql);
		st->batch_sql = MemoryContextStrdup(GetMemoryChunkContext(st),
											sql.data);
		pfree(sql.data);
		st->batch_rows = *numSlots;
	}

	MemoryContextReset(st->row_cxt);
	old = MemoryContextSwitchTo(st->row_cxt);
	level = sf_set_transmission_modes();
	for (i = 0; i < *numSlots; i++)
	{
		ListCell   *lc;

		slot_getallattrs(slots[i]);
		foreach(lc, st->target_attrs)
		{
			int			attnum = lfirst_int(lc);

			st->values[nparams++] = slots[i]->tts_isnull[attnum - 1] ? NULL :
				OutputFunctionCall(&st->outfuncs[attnum - 1],
								   slots[i]->tts_values[attnum - 1]);
		}
	}
	sf_reset_transmission_modes(level);
	MemoryContextSwitchTo(old);

	res = sf_exec_query(st->conn, st->batch_sql, nparams, st->values);
	*numSlots = (int) strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return slots;
}

/*
 * sf_ExecForeignInsert
 *		Buffer the row for COPY (returning it unchanged), or insert it now.
 */
TupleTableSlot *
sf_ExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
					 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;

	if (st->mode == SF_MODIFY_ROW)
		return modify_row(st, slot, planSlot);

	modify_buffer_row(st, slot);
	return slot;
}

/* The error for a row that cannot leave its shard. */
static void
cannot_move_row(Relation rel, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot move a row out of shard \"%s\" by UPDATE",
					RelationGetRelationName(rel)),
			 errdetail("%s", detail),
			 errhint("DELETE the row and INSERT it with the new value.")));
}

/*
 * An UPDATE gave a row of a foreign partition a partition key that belongs
 * to another partition.  PostgreSQL leaves that to the FDW, so do what it
 * does for local partitions: delete the row here, route it through the
 * partitioned table, insert it there.  Returns slot (the new row), or NULL
 * if the row was already gone.
 */
static TupleTableSlot *
move_row(EState *estate, ResultRelInfo *rinfo, SfModifyState *st,
		 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	ModifyTableState *mtstate = st->mtstate;
	ResultRelInfo *root;
	ResultRelInfo *dest;
	TupleConversionMap *map;
	TupleTableSlot *rootslot = slot;
	TupleTableSlot *destslot;
	SfModifyState *dst;
	PGresult   *res;
	const char *ctid_value;
	Datum		ctid;
	bool		isnull;
	bool		deleted;

	if (mtstate == NULL || mtstate->rootResultRelInfo == NULL ||
		mtstate->rootResultRelInfo == rinfo ||
		mtstate->rootResultRelInfo->ri_RelationDesc->rd_rel->relkind !=
		RELKIND_PARTITIONED_TABLE)
		cannot_move_row(rinfo->ri_RelationDesc,
						"The new row violates the partition constraint, and the UPDATE does not name the partitioned table.");
	root = mtstate->rootResultRelInfo;

	/* delete the old row from this shard */
	if (st->move_delete_sql == NULL)
	{
		StringInfoData sql;
		List	   *unused;

		initStringInfo(&sql);
		sf_build_delete(&sql, rinfo->ri_RelationDesc, false, &unused);
		st->move_delete_sql = MemoryContextStrdup(estate->es_query_cxt,
												  sql.data);
	}
	ctid = ExecGetJunkAttribute(planSlot, st->ctid_attno, &isnull);
	if (isnull)
		elog(ERROR, "ctid is NULL");
	ctid_value = DatumGetCString(DirectFunctionCall1(tidout, ctid));
	res = sf_exec_query(st->conn, st->move_delete_sql, 1, &ctid_value);
	deleted = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!deleted)
		return NULL;

	/* route the new row, as PostgreSQL does for local partitions */
	if (mtstate->mt_partition_tuple_routing == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

		mtstate->mt_partition_tuple_routing =
			ExecSetupPartitionTupleRouting(estate, root->ri_RelationDesc);
		if (mtstate->mt_root_tuple_slot == NULL)
			mtstate->mt_root_tuple_slot =
				table_slot_create(root->ri_RelationDesc, NULL);
		MemoryContextSwitchTo(old);
	}
	map = ExecGetChildToRootMap(rinfo);
	if (map != NULL)
		rootslot = execute_attr_map_slot(map->attrMap, slot,
										 mtstate->mt_root_tuple_slot);
	dest = ExecFindPartition(mtstate, root,
							 mtstate->mt_partition_tuple_routing,
							 rootslot, estate);
	if (dest->ri_FdwRoutine == NULL ||
		dest->ri_FdwRoutine->ExecForeignInsert != sf_ExecForeignInsert ||
		dest->ri_FdwState == NULL)
		cannot_move_row(rinfo->ri_RelationDesc,
						"The new partition of the row is not a shardfdw foreign table.");
	destslot = rootslot;
	if (dest->ri_RootToPartitionMap != NULL)
		destslot = execute_attr_map_slot(dest->ri_RootToPartitionMap->attrMap,
										 rootslot, dest->ri_PartitionTupleSlot);

	dst = (SfModifyState *) dest->ri_FdwState;
	if (dst->moved != NULL)
		modify_buffer_row(dst->moved, destslot);	/* sent at the end */
	else if (dst->operation == CMD_INSERT)
		(void) sf_ExecForeignInsert(estate, dest, destslot, NULL);
	else
		elog(ERROR, "no insert state for moved rows");
	return slot;
}

/*
 * sf_ExecForeignUpdate
 *		Update the row located by the junk ctid; a row whose partition key
 *		changed moves to its new shard.
 */
TupleTableSlot *
sf_ExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
					 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;

	if (rinfo->ri_RelationDesc->rd_rel->relispartition &&
		!ExecPartitionCheck(rinfo, slot, estate, false))
		return move_row(estate, rinfo, st, slot, planSlot);
	return modify_row(st, slot, planSlot);
}

/*
 * sf_ExecForeignDelete
 *		Delete the row located by the junk ctid.
 */
TupleTableSlot *
sf_ExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
					 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	return modify_row((SfModifyState *) rinfo->ri_FdwState, slot, planSlot);
}

/*
 * sf_EndForeignModify
 *		Send the rows still buffered.
 */
void
sf_EndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;

	if (st == NULL || st->conn == NULL)
		return;
	if (st->mode == SF_MODIFY_COPY)
		modify_flush(st);
	if (st->moved != NULL)
		modify_flush(st->moved);
	/* (transaction layer) every batch's verdict within the statement */
	if (st->mode == SF_MODIFY_COPY)
		modify_wait(st);
	if (st->moved != NULL)
		modify_wait(st->moved);
}

/*
 * sf_EndForeignInsert
 *		Send the rows still buffered (routed inserts).
 */
void
sf_EndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	sf_EndForeignModify(estate, rinfo);
}

/*
 * sf_IsForeignRelUpdatable
 *		INSERT, UPDATE and DELETE are all supported.
 */
int
sf_IsForeignRelUpdatable(Relation rel)
{
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

/*
 * sf_ExplainForeignModify
 *		VERBOSE shows the server and the statement sent (COPY or per row).
 */
void
sf_ExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						List *fdw_private, int subplan_index,
						ExplainState *es)
{
	SfModifyState *st = (SfModifyState *) rinfo->ri_FdwState;

	if (!es->verbose || st == NULL)
		return;
	ExplainPropertyText("Server", st->server_name, es);
	ExplainPropertyText("Remote SQL", st->sql, es);
	if (st->mode == SF_MODIFY_COPY)
		ExplainPropertyInteger("Batch Size", NULL, st->batch_size, es);
	else if (sf_batch_rows(st) > 1)
		ExplainPropertyInteger("Batch Size", NULL, sf_batch_rows(st), es);
}

/* ---------------------------------------------------------------------
 * Direct modification
 * ---------------------------------------------------------------------
 */

/* The ForeignScan of relation rtindex below a ModifyTable, or NULL. */
static ForeignScan *
find_target_scan(Plan *subplan, Index rtindex)
{
	ListCell   *lc;

	if (subplan == NULL)
		return NULL;
	if (IsA(subplan, ForeignScan))
		return ((ForeignScan *) subplan)->scan.scanrelid == rtindex ?
			(ForeignScan *) subplan : NULL;
	if (IsA(subplan, Append))
	{
		foreach(lc, ((Append *) subplan)->appendplans)
		{
			Plan	   *child = (Plan *) lfirst(lc);

			if (IsA(child, ForeignScan) &&
				((ForeignScan *) child)->scan.scanrelid == rtindex)
				return (ForeignScan *) child;
		}
	}
	return NULL;
}

/*
 * sf_PlanDirectModify
 *		Turn the scan of an UPDATE / DELETE into one remote statement when
 *		everything can be evaluated remotely: all quals pushed down, SET
 *		expressions shippable, no RETURNING, no row triggers, no WITH CHECK
 *		OPTION, and no change to a partition key column (that would move
 *		rows between shards).
 */
bool
sf_PlanDirectModify(PlannerInfo *root, ModifyTable *plan,
					Index resultRelation, int subplan_index)
{
	CmdType		operation = plan->operation;
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	ForeignScan *fscan;
	Relation	rel;
	TriggerDesc *trig;
	List	   *params;
	StringInfoData sql;
	bool		ok = true;

	if (operation != CMD_UPDATE && operation != CMD_DELETE)
		return false;
	if (plan->returningLists != NIL || plan->withCheckOptionLists != NIL)
		return false;
	fscan = find_target_scan(outerPlan(plan), resultRelation);
	if (fscan == NULL || fscan->scan.plan.qual != NIL ||
		fscan->operation != CMD_SELECT)
		return false;

	rel = table_open(rte->relid, NoLock);
	trig = rel->trigdesc;
	if (trig && (trig->trig_update_before_row || trig->trig_update_after_row ||
				 trig->trig_delete_before_row || trig->trig_delete_after_row ||
				 trig->trig_update_instead_row ||
				 trig->trig_delete_instead_row))
		ok = false;

	params = list_copy(fscan->fdw_exprs);
	initStringInfo(&sql);
	/* generated columns may have to be recomputed and sent: row by row */
	if (operation == CMD_UPDATE && rel->rd_att->constr &&
		rel->rd_att->constr->has_generated_stored)
		ok = false;
	if (ok && operation == CMD_UPDATE)
	{
		List	   *tlist = NIL;
		List	   *colnos = NIL;
		Bitmapset  *keyattrs = NULL;
		ListCell   *lc1;
		ListCell   *lc2;

		get_translated_update_targetlist(root, resultRelation, &tlist, &colnos);
		if (rel->rd_rel->relispartition)
			pull_varattnos((Node *) RelationGetPartitionQual(rel), 1,
						   &keyattrs);

		appendStringInfoString(&sql, "UPDATE ");
		sf_append_remote_table(&sql, rel);
		appendStringInfoString(&sql, " SET ");
		forboth(lc1, tlist, lc2, colnos)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc1);
			AttrNumber	attnum = lfirst_int(lc2);

			if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber,
							  keyattrs) ||
				TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attgenerated ||
				!sf_is_shippable(resultRelation, rte->relid, tle->expr, NULL))
			{
				ok = false;
				break;
			}
			appendStringInfo(&sql, "%s%s = %s",
							 foreach_current_index(lc1) ? ", " : "",
							 sf_remote_column(rel, attnum),
							 sf_deparse_expr((Node *) tle->expr, resultRelation,
											 rte->relid, &params));
		}
		if (tlist == NIL)
			ok = false;
	}
	else if (ok)
	{
		appendStringInfoString(&sql, "DELETE FROM ");
		sf_append_remote_table(&sql, rel);
	}
	table_close(rel, NoLock);
	if (!ok)
		return false;

	appendStringInfoString(&sql, strVal(list_nth(fscan->fdw_private,
												 SfScanPrivateWhereSql)));
	fscan->operation = operation;
	fscan->resultRelation = resultRelation;
	fscan->fdw_exprs = params;
	fscan->fdw_private = list_make1(makeString(sql.data));
	/* a direct modification is not a stream of rows to read concurrently */
	fscan->scan.plan.async_capable = false;
	return true;
}

/*
 * sf_BeginDirectModify
 *		Prepare the parameters of the remote UPDATE / DELETE.
 */
void
sf_BeginDirectModify(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	SfDirectState *st;
	ListCell   *lc;
	int			i = 0;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	st = palloc0(sizeof(SfDirectState));
	node->fdw_state = st;
	st->sql = strVal(list_nth(fsplan->fdw_private, SfDirectPrivateSql));
	st->conn = sf_get_connection(sf_user_mapping_for(node->ss.ss_currentRelation,
													 exec_rt_fetch(fsplan->resultRelation, estate)->checkAsUser));
	st->num_params = list_length(fsplan->fdw_exprs);
	st->param_exprs = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	st->param_out = palloc0(sizeof(FmgrInfo) * (st->num_params + 1));
	st->param_values = palloc0(sizeof(char *) * (st->num_params + 1));
	foreach(lc, fsplan->fdw_exprs)
	{
		Oid			outfunc;
		bool		isvarlena;

		getTypeOutputInfo(exprType(lfirst(lc)), &outfunc, &isvarlena);
		fmgr_info(outfunc, &st->param_out[i++]);
	}
}

/*
 * sf_IterateDirectModify
 *		Run the remote statement once; count the rows it changed.
 */
TupleTableSlot *
sf_IterateDirectModify(ForeignScanState *node)
{
	SfDirectState *st = (SfDirectState *) node->fdw_state;
	EState	   *estate = node->ss.ps.state;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (!st->done)
	{
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		PGresult   *res;
		ListCell   *lc;
		int			level;
		uint64		count;

		level = sf_set_transmission_modes();
		foreach(lc, st->param_exprs)
		{
			bool		isnull;
			Datum		value = ExecEvalExpr((ExprState *) lfirst(lc), econtext,
											 &isnull);
			int			i = foreach_current_index(lc);

			st->param_values[i] = isnull ? NULL :
				OutputFunctionCall(&st->param_out[i], value);
		}
		sf_reset_transmission_modes(level);
		res = sf_exec_query(st->conn, st->sql, st->num_params,
							st->param_values);
		count = strtoul(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		MemoryContextSwitchTo(old);
		ResetExprContext(econtext);

		estate->es_processed += count;
		if (node->ss.ps.instrument)
			node->ss.ps.instrument->tuplecount += count;
		st->done = true;
	}
	return ExecClearTuple(node->ss.ss_ScanTupleSlot);
}

/*
 * sf_EndDirectModify
 *		Nothing to release: the result was consumed at once.
 */
void
sf_EndDirectModify(ForeignScanState *node)
{
}

/*
 * sf_ExplainDirectModify
 *		VERBOSE shows the server and the remote statement.
 */
void
sf_ExplainDirectModify(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (!es->verbose)
		return;
	ExplainPropertyText("Server",
						GetForeignServer(fsplan->fs_server)->servername, es);
	ExplainPropertyText("Remote SQL",
						strVal(list_nth(fsplan->fdw_private,
										SfDirectPrivateSql)), es);
}
