/*-------------------------------------------------------------------------
 *
 * router.c
 *	  Executor of router plans: a CustomScan that sends the whole statement
 *	  to the worker holding its shard and returns the worker's rows.
 *
 * The statement is sent once, as one simple-protocol query with literals
 * (no cursor, no FETCH), on the connection the FDW uses for that server, so
 * it runs in the same remote transaction and sees the transaction's own
 * writes.  The whole result is read at the first call; rows are converted
 * from text with the input functions of the scan's output columns.
 *
 * The shard is known from the plan when the statement pinned it with
 * constants; when it pinned it with a parameter, the parameter's value picks
 * the shard when the scan starts and the SQL is deparsed then, with every
 * parameter as a literal.
 *
 * Under EXPLAIN ANALYZE, before the statement itself, the worker runs
 * EXPLAIN ANALYZE of the same SQL inside a savepoint that is rolled back, so
 * the worker's plan can be shown while the statement takes effect once.
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
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "planner.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/*
 * Execution state of a router scan.
 */
typedef struct SfRouterScanState
{
	CustomScanState css;
	Query	   *query;			/* the statement (parent tables, Params) */
	char	   *sql;			/* worker SQL, once known */
	int			shardindex;		/* the shard, once known */
	Oid			serverid;		/* its server, once known */
	Expr	   *pin;			/* expression of Params picking the shard */
	ExprState  *pin_state;		/* its evaluation */
	Oid			hashfn;			/* extended hash function of the pin */
	Oid			collation;		/* partition key collation */
	int			shardcount;		/* number of shards */
	bool		executed;		/* the statement ran */
	PGresult   *res;			/* its result (freed with the query context) */
	int			nrows;			/* rows in res */
	int			next;			/* next row to return */
	FmgrInfo   *infuncs;		/* input functions of the output columns */
	Oid		   *typioparams;	/* their type I/O parameters */
	int32	   *typmods;		/* their typmods */
	char	   *worker_plan;	/* EXPLAIN ANALYZE text from the worker */
	MemoryContextCallback res_cleanup;	/* frees res on error */
} SfRouterScanState;

static Node *router_create_state(CustomScan *cscan);
static void router_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *router_exec(CustomScanState *node);
static void router_end(CustomScanState *node);
static void router_rescan(CustomScanState *node);
static void router_explain(CustomScanState *node, List *ancestors,
						   ExplainState *es);

const CustomScanMethods sf_router_scan_methods = {
	.CustomName = "shardfdw Router",
	.CreateCustomScanState = router_create_state,
};

static const CustomExecMethods router_exec_methods = {
	.CustomName = "shardfdw Router",
	.BeginCustomScan = router_begin,
	.ExecCustomScan = router_exec,
	.EndCustomScan = router_end,
	.ReScanCustomScan = router_rescan,
	.ExplainCustomScan = router_explain,
};

/* Make the scan methods known by name (plans are copied and serialised). */
void
sf_register_router_scan(void)
{
	RegisterCustomScanMethods(&sf_router_scan_methods);
}

static Node *
router_create_state(CustomScan *cscan)
{
	SfRouterScanState *state = palloc0(sizeof(SfRouterScanState));
	List	   *priv = cscan->custom_private;
	List	   *hash = list_nth(priv, SfRouterHash);
	char	   *sql = strVal(list_nth(priv, SfRouterSql));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &router_exec_methods;
	state->query = list_nth(priv, SfRouterQuery);
	state->sql = sql[0] != '\0' ? sql : NULL;
	state->shardindex = intVal(list_nth(priv, SfRouterShardIndex));
	state->serverid = (Oid) intVal(list_nth(priv, SfRouterServer));
	state->pin = list_nth(priv, SfRouterPin);
	state->hashfn = linitial_oid(hash);
	state->collation = lsecond_oid(hash);
	state->shardcount = intVal(list_nth(priv, SfRouterShardCount));
	return (Node *) state;
}

/* Free the result when the query's memory goes (also on error). */
static void
router_free_result(void *arg)
{
	SfRouterScanState *state = arg;

	if (state->res)
		PQclear(state->res);
	state->res = NULL;
}

static void
router_begin(CustomScanState *node, EState *estate, int eflags)
{
	SfRouterScanState *state = (SfRouterScanState *) node;
	TupleDesc	tupdesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	int			i;

	/* a parameter picks the shard */
	if (state->shardindex < 0)
	{
		Datum		value;
		bool		isnull;

		/* hashfn is the opfamily's function for the pin's type */
		state->pin_state = ExecInitExpr(state->pin, &node->ss.ps);
		value = ExecEvalExprSwitchContext(state->pin_state,
										  node->ss.ps.ps_ExprContext,
										  &isnull);
		state->shardindex = sf_hash_remainder(state->hashfn, state->collation,
											  value, isnull,
											  state->shardcount);
	}
	if (state->sql == NULL)
		state->sql = sf_shard_query_sql(state->query, state->shardindex,
										estate->es_param_list_info,
										&state->serverid, false);

	state->infuncs = palloc(sizeof(FmgrInfo) * tupdesc->natts);
	state->typioparams = palloc(sizeof(Oid) * tupdesc->natts);
	state->typmods = palloc(sizeof(int32) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Oid			infunc;

		getTypeInputInfo(att->atttypid, &infunc, &state->typioparams[i]);
		fmgr_info(infunc, &state->infuncs[i]);
		state->typmods[i] = att->atttypmod;
	}

	state->res_cleanup.func = router_free_result;
	state->res_cleanup.arg = state;
	MemoryContextRegisterResetCallback(estate->es_query_cxt,
									   &state->res_cleanup);
	(void) eflags;
}

/*
 * Run EXPLAIN ANALYZE of the worker SQL in a savepoint rolled back
 * afterwards, and keep its text.
 */
static void
router_fetch_worker_plan(SfRouterScanState *state, SfConn *conn)
{
	Instrumentation *instr = state->css.ss.ps.instrument;
	StringInfoData buf;
	PGresult   *res;
	int			i;

	sf_exec_command(conn, "SAVEPOINT shardfdw_explain");
	initStringInfo(&buf);
	appendStringInfo(&buf, "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING %s, BUFFERS %s) %s",
					 instr->need_timer ? "ON" : "OFF",
					 instr->need_bufusage ? "ON" : "OFF",
					 state->sql);
	res = sf_exec_query(conn, buf.data, 0, NULL);
	resetStringInfo(&buf);
	for (i = 0; i < PQntuples(res); i++)
	{
		appendStringInfoString(&buf, PQgetvalue(res, i, 0));
		appendStringInfoChar(&buf, '\n');
	}
	PQclear(res);
	sf_exec_command(conn, "ROLLBACK TO SAVEPOINT shardfdw_explain; RELEASE SAVEPOINT shardfdw_explain");
	state->worker_plan = buf.data;
}

/* Send the statement and read its whole result. */
static void
router_run(SfRouterScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	SfConn	   *conn = sf_get_connection_for_server(state->serverid);
	PGresult   *res;
	TupleDesc	tupdesc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;

	if (state->css.ss.ps.instrument != NULL)
		router_fetch_worker_plan(state, conn);

	res = sf_exec_query(conn, state->sql, 0, NULL);
	state->res = res;
	state->executed = true;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (PQnfields(res) != tupdesc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("worker returned %d columns, expected %d",
							PQnfields(res), tupdesc->natts),
					 errcontext("while executing on server \"%s\": %s",
								sf_conn_server_name(conn), state->sql)));
		state->nrows = PQntuples(res);
	}
	else
		state->nrows = 0;
	if (state->query->commandType != CMD_SELECT)
	{
		const char *n = PQcmdTuples(res);

		if (n && n[0])
			estate->es_processed += strtou64(n, NULL, 10);
	}
	state->next = 0;
}

static TupleTableSlot *
router_next(ScanState *ss)
{
	SfRouterScanState *state = (SfRouterScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	int			natts = slot->tts_tupleDescriptor->natts;
	int			i;

	if (!state->executed)
		router_run(state);

	ExecClearTuple(slot);
	if (state->next >= state->nrows)
		return slot;
	for (i = 0; i < natts; i++)
	{
		if (PQgetisnull(state->res, state->next, i))
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
		else
		{
			slot->tts_values[i] =
				InputFunctionCall(&state->infuncs[i],
								  PQgetvalue(state->res, state->next, i),
								  state->typioparams[i], state->typmods[i]);
			slot->tts_isnull[i] = false;
		}
	}
	state->next++;
	return ExecStoreVirtualTuple(slot);
}

static bool
router_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
router_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, router_next, router_recheck);
}

static void
router_end(CustomScanState *node)
{
	router_free_result(node);
}

static void
router_rescan(CustomScanState *node)
{
	((SfRouterScanState *) node)->next = 0;
}

static void
router_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	SfRouterScanState *state = (SfRouterScanState *) node;
	ForeignServer *server = GetForeignServer(state->serverid);

	ExplainPropertyText("Strategy", "router", es);
	ExplainPropertyInteger("Task Count", NULL, 1, es);
	ExplainPropertyInteger("Shards Pruned", NULL, state->shardcount - 1, es);
	ExplainPropertyText("Node", server->servername, es);
	ExplainPropertyText("Worker SQL", state->sql + strspn(state->sql, " "), es);
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
