/*-------------------------------------------------------------------------
 *
 * distinct_merge.c
 *	  Executor of merged distinct values: a CustomScan that sends each
 *	  worker one statement returning the non-NULL values of an expression
 *	  over all its shards, sorted, and returns the union of those sorted
 *	  streams, each value once, in order (a k-way merge).
 *
 * The planner (two_phase_agg.c, multi_shard.c) uses it below a plain Agg
 * for DISTINCT aggregates of one expression without GROUP BY: the Agg then
 * aggregates the values without DISTINCT, as each arrives once, and nothing
 * on the coordinator sorts.  The merge compares values with the comparison
 * function of the btree operator the workers sorted with (the type's
 * default "<", under the C collation for collatable types), which the
 * planner only allows for built-in types whose order is the same on every
 * server.  A worker's stream may repeat a value (its shards' values are
 * sorted together, not de-duplicated: a sort is cheaper than grouping when
 * most values are distinct) but must never decrease in that order; a
 * worker result that does is an ERROR, never a wrong count.
 *
 * custom_private is the router's (SfRouterPrivateIndex, for EXPLAIN: the
 * shards, a distributed table) followed by SfMergePrivateIndex items.
 * The statements are fixed at planning (no Params); they are sent to every
 * worker before any result is read, so the workers run concurrently, and
 * the workers' results are read concurrently (sf_wait_results), each
 * whole before merging.  Values travel in
 * binary format (except text types, see merge_begin).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "connection.h"
#include "executor.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "planner.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/sortsupport.h"

/* One worker's sorted result. */
typedef struct MergeStream
{
	PGresult   *res;			/* the worker's rows (one column) */
	Oid			serverid;		/* the worker */
	int			nrows;			/* PQntuples(res) */
	int			next;			/* next row to convert */
	bool		has_head;		/* head holds the current value */
	bool		consumed;		/* head was returned: advance first */
	Datum		head;			/* current value */
	MemoryContext cxt[2];		/* values are converted into cxt[cur] */
	int			cur;
	int			nvalues;		/* values converted into cxt[cur] */
	int			head_cxt;		/* the context holding head */
} MergeStream;

/*
 * A stream converts MERGE_BATCH values into one context, then resets the
 * other (after copying the head out of it if it is there) and continues
 * there: no reset per value.  The value a call returned need only live
 * until the next call (the executor's rule for a node's result).
 */
#define MERGE_BATCH 1024

typedef struct SfMergeScanState
{
	CustomScanState css;
	List	   *statements;		/* (Integer server, String SQL) per worker */
	Oid			sortop;			/* the order the workers sorted by */
	Oid			collation;		/* its collation (C) or InvalidOid */
	List	   *shards;			/* shard indexes of the tasks (EXPLAIN) */
	Oid			relid;			/* a distributed table (EXPLAIN) */
	Oid			remote_user;	/* the role whose user mappings to use
								 * (InvalidOid: the current user) */
	int			shardcount;		/* its shard count (EXPLAIN) */
	bool		executed;
	int			nstreams;
	MergeStream *streams;
	SortSupportData ssup;
	bool		binary;			/* values in binary format */
	FmgrInfo	infunc;			/* input or receive function */
	Oid			typioparam;
	int32		typmod;
	int16		typlen;
	bool		typbyval;
	char	   *worker_plan;	/* EXPLAIN ANALYZE of the first statement */
	MemoryContextCallback res_cleanup;	/* frees the results on error */
} SfMergeScanState;

static Node *merge_create_state(CustomScan *cscan);
static void merge_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *merge_exec(CustomScanState *node);
static void merge_end(CustomScanState *node);
static void merge_rescan(CustomScanState *node);
static void merge_explain(CustomScanState *node, List *ancestors,
						  ExplainState *es);

const CustomScanMethods sf_merge_scan_methods = {
	.CustomName = "shardfdw merge",
	.CreateCustomScanState = merge_create_state,
};

static const CustomExecMethods merge_exec_methods = {
	.CustomName = "shardfdw merge",
	.BeginCustomScan = merge_begin,
	.ExecCustomScan = merge_exec,
	.EndCustomScan = merge_end,
	.ReScanCustomScan = merge_rescan,
	.ExplainCustomScan = merge_explain,
};

/* Make the scan methods known by name (plans are copied and serialised). */
void
sf_register_merge_scan(void)
{
	RegisterCustomScanMethods(&sf_merge_scan_methods);
}

static Node *
merge_create_state(CustomScan *cscan)
{
	SfMergeScanState *state = palloc0(sizeof(SfMergeScanState));
	List	   *priv = cscan->custom_private;

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &merge_exec_methods;
	state->statements = list_nth(priv, SfMergeStatements);
	state->sortop = (Oid) intVal(list_nth(priv, SfMergeSortOp));
	state->collation = (Oid) intVal(list_nth(priv, SfMergeCollation));
	state->shards = list_nth(priv, SfRouterShards);
	state->relid = lthird_oid((List *) list_nth(priv, SfRouterHash));
	state->remote_user = lfourth_oid((List *) list_nth(priv, SfRouterHash));
	state->shardcount = intVal(list_nth(priv, SfRouterShardCount));
	return (Node *) state;
}

/* Free the results when the query's memory goes (also on error). */
static void
merge_free_results(void *arg)
{
	SfMergeScanState *state = arg;
	int			i;

	for (i = 0; i < state->nstreams; i++)
	{
		if (state->streams[i].res)
			PQclear(state->streams[i].res);
		state->streams[i].res = NULL;
	}
	state->nstreams = 0;
}

static void
merge_begin(CustomScanState *node, EState *estate, int eflags)
{
	SfMergeScanState *state = (SfMergeScanState *) node;
	TupleDesc	tupdesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	Form_pg_attribute att = TupleDescAttr(tupdesc, 0);
	Oid			infunc;

	Assert(tupdesc->natts == 1);

	/*
	 * Binary transfer saves parsing text, except for text types, whose
	 * receive functions convert from the local session's client_encoding.
	 */
	state->binary = !type_is_collatable(att->atttypid);
	if (state->binary)
		getTypeBinaryInputInfo(att->atttypid, &infunc, &state->typioparam);
	else
		getTypeInputInfo(att->atttypid, &infunc, &state->typioparam);
	fmgr_info(infunc, &state->infunc);
	state->typmod = att->atttypmod;
	state->typlen = att->attlen;
	state->typbyval = att->attbyval;

	memset(&state->ssup, 0, sizeof(SortSupportData));
	state->ssup.ssup_cxt = CurrentMemoryContext;
	state->ssup.ssup_collation = state->collation;
	state->ssup.ssup_nulls_first = false;
	state->ssup.ssup_attno = 1;
	state->ssup.abbreviate = false;
	PrepareSortSupportFromOrderingOp(state->sortop, &state->ssup);

	state->res_cleanup.func = merge_free_results;
	state->res_cleanup.arg = state;
	MemoryContextRegisterResetCallback(estate->es_query_cxt,
									   &state->res_cleanup);
	(void) eflags;
}

/*
 * Run EXPLAIN ANALYZE of the first worker's statement (a read-only SELECT)
 * and keep its text.
 */
static void
merge_fetch_worker_plan(SfMergeScanState *state, SfConn *conn,
						const char *sql)
{
	Instrumentation *instr = state->css.ss.ps.instrument;
	StringInfoData buf;
	PGresult   *res;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING %s, BUFFERS %s) %s",
					 instr->need_timer ? "ON" : "OFF",
					 instr->need_bufusage ? "ON" : "OFF", sql);
	res = sf_exec_query(conn, buf.data, 0, NULL);
	resetStringInfo(&buf);
	for (i = 0; i < PQntuples(res); i++)
	{
		appendStringInfoString(&buf, PQgetvalue(res, i, 0));
		appendStringInfoChar(&buf, '\n');
	}
	PQclear(res);
	state->worker_plan = buf.data;
}

/*
 * Send every worker its statement, then read the results: the workers run
 * concurrently.
 */
static void
merge_run(SfMergeScanState *state)
{
	int			n = list_length(state->statements);
	SfConn	  **conns = palloc(sizeof(SfConn *) * Max(n, 1));
	ListCell   *lc;
	int			i;

	state->streams = palloc0(sizeof(MergeStream) * Max(n, 1));
	state->nstreams = 0;
	foreach(lc, state->statements)
	{
		List	   *st = lfirst(lc);

		i = foreach_current_index(lc);
		conns[i] = sf_get_connection_for_user((Oid) intVal(linitial(st)),
											   state->remote_user);
		if (i == 0 && state->css.ss.ps.instrument != NULL)
			merge_fetch_worker_plan(state, conns[i], strVal(lsecond(st)));
	}
	foreach(lc, state->statements)
	{
		const char *sql = strVal(lsecond((List *) lfirst(lc)));

		i = foreach_current_index(lc);
		if (state->binary)
			sf_send_query_binary(conns[i], sql);
		else
			sf_send_query(conns[i], sql, 0, NULL);
	}
	/* read every worker's result as it comes, not one after the other */
	sf_wait_results(conns, n);
	foreach(lc, state->statements)
	{
		const char *sql = strVal(lsecond((List *) lfirst(lc)));
		PGresult   *res;
		MergeStream *s;

		i = foreach_current_index(lc);
		res = sf_get_result(conns[i], sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			sf_report_error(ERROR, res, conns[i], true, sql);
		s = &state->streams[state->nstreams++];
		s->res = res;
		s->serverid = (Oid) intVal(linitial((List *) lfirst(lc)));
		if (PQnfields(res) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("worker returned %d columns, expected 1",
							PQnfields(res)),
					 errcontext("while executing on server \"%s\": %s",
								sf_conn_server_name(conns[i]), sql)));
		s->nrows = PQntuples(res);
		s->next = 0;
		s->has_head = false;
		s->consumed = true;
		s->cxt[0] = AllocSetContextCreate(CurrentMemoryContext,
										  "shardfdw merge value",
										  ALLOCSET_SMALL_SIZES);
		s->cxt[1] = AllocSetContextCreate(CurrentMemoryContext,
										  "shardfdw merge value",
										  ALLOCSET_SMALL_SIZES);
		s->cur = 0;
		s->nvalues = 0;
	}
	state->executed = true;
}

/*
 * Move stream s to its next value, skipping values equal to the current
 * one (a worker's shards may share values), or to its end; the values must
 * not decrease (the worker sorted them).
 */
static void
merge_advance(SfMergeScanState *state, MergeStream *s)
{
	s->consumed = false;
	for (; s->next < s->nrows; s->next++)
	{
		MemoryContext old;
		Datum		value;
		int			cmp;

		CHECK_FOR_INTERRUPTS();
		if (PQgetisnull(s->res, s->next, 0))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("worker returned a NULL among distinct values")));
		if (s->nvalues >= MERGE_BATCH)
		{
			if (s->has_head && s->head_cxt != s->cur)
			{
				old = MemoryContextSwitchTo(s->cxt[s->cur]);
				s->head = datumCopy(s->head, state->typbyval, state->typlen);
				MemoryContextSwitchTo(old);
				s->head_cxt = s->cur;
			}
			s->cur = 1 - s->cur;
			MemoryContextReset(s->cxt[s->cur]);
			s->nvalues = 0;
		}
		s->nvalues++;
		old = MemoryContextSwitchTo(s->cxt[s->cur]);
		if (state->binary)
		{
			StringInfoData buf;

			buf.data = PQgetvalue(s->res, s->next, 0);
			buf.len = PQgetlength(s->res, s->next, 0);
			buf.maxlen = buf.len + 1;
			buf.cursor = 0;
			value = ReceiveFunctionCall(&state->infunc, &buf,
										state->typioparam, state->typmod);
		}
		else
			value = InputFunctionCall(&state->infunc,
									  PQgetvalue(s->res, s->next, 0),
									  state->typioparam, state->typmod);
		MemoryContextSwitchTo(old);
		cmp = s->has_head ?
			ApplySortComparator(s->head, false, value, false, &state->ssup) : -1;
		if (cmp > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("worker returned distinct values out of order"),
					 errdetail("Server \"%s\", row %d.",
							   GetForeignServer(s->serverid)->servername,
							   s->next + 1)));
		if (cmp < 0)
		{
			s->head = value;
			s->head_cxt = s->cur;
			s->has_head = true;
			s->next++;
			return;
		}
	}
	s->has_head = false;
}

static TupleTableSlot *
merge_next(ScanState *ss)
{
	SfMergeScanState *state = (SfMergeScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	MergeStream *min = NULL;
	int			i;

	if (!state->executed)
		merge_run(state);

	ExecClearTuple(slot);
	for (i = 0; i < state->nstreams; i++)
	{
		MergeStream *s = &state->streams[i];

		if (s->consumed)
			merge_advance(state, s);
		if (s->has_head &&
			(min == NULL ||
			 ApplySortComparator(s->head, false, min->head, false,
								 &state->ssup) < 0))
			min = s;
	}
	if (min == NULL)
		return slot;

	/*
	 * Every stream at this value moves on at the next call (the value
	 * stays valid in the stream's memory until then).
	 */
	for (i = 0; i < state->nstreams; i++)
	{
		MergeStream *s = &state->streams[i];

		if (s->has_head &&
			(s == min ||
			 ApplySortComparator(s->head, false, min->head, false,
								 &state->ssup) == 0))
			s->consumed = true;
	}
	slot->tts_values[0] = min->head;
	slot->tts_isnull[0] = false;
	return ExecStoreVirtualTuple(slot);
}

static bool
merge_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
merge_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, merge_next, merge_recheck);
}

static void
merge_end(CustomScanState *node)
{
	merge_free_results(node);
}

static void
merge_rescan(CustomScanState *node)
{
	SfMergeScanState *state = (SfMergeScanState *) node;
	int			i;

	for (i = 0; i < state->nstreams; i++)
	{
		state->streams[i].next = 0;
		state->streams[i].has_head = false;
		state->streams[i].consumed = true;
	}
}

static void
merge_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	SfMergeScanState *state = (SfMergeScanState *) node;
	const SfTable *table = sf_lookup_table(state->relid);
	int			nshards = table != NULL && table->index_owner != NULL ?
		table->nshards : state->shardcount;
	int			ntasks = list_length(state->shards);
	List	   *first = linitial(state->statements);

	ExplainPropertyText("Strategy", "two-phase aggregate, merged distinct values", es);
	ExplainPropertyInteger("Task Count", NULL, ntasks, es);
	ExplainPropertyInteger("Shards Pruned", NULL, nshards - ntasks, es);
	ExplainPropertyText("Tasks Shown",
						psprintf("One statement of %d (one per node)",
								 list_length(state->statements)), es);
	ExplainPropertyText("Node",
						GetForeignServer((Oid) intVal(linitial(first)))->servername,
						es);
	ExplainPropertyText("Worker SQL", strVal(lsecond(first)), es);
	if (state->worker_plan != NULL)
	{
		if (es->format == EXPLAIN_FORMAT_TEXT)
		{
			char	   *line = state->worker_plan;

			appendStringInfoSpaces(es->str, es->indent * 2);
			appendStringInfoString(es->str, "Worker Plan:\n");
			while (*line)
			{
				char	   *end = strchr(line, '\n');
				int			len = end ? end - line : strlen(line);

				appendStringInfoSpaces(es->str, es->indent * 2 + 2);
				appendBinaryStringInfo(es->str, line, len);
				appendStringInfoChar(es->str, '\n');
				line += len + (end ? 1 : 0);
			}
		}
		else
			ExplainPropertyText("Worker Plan", state->worker_plan, es);
	}
}
