/*-------------------------------------------------------------------------
 *
 * router.c
 *	  Executor of router plans: a CustomScan that sends the whole statement
 *	  to the worker holding its shard and returns the worker's rows.
 *
 * The statement is sent once (no cursor, no FETCH), on the connection the
 * FDW uses for that server, so it runs in the same remote transaction and
 * sees the transaction's own writes (or, when it is the whole local
 * transaction, in the worker's implicit transaction).  A router statement
 * goes through the connection's prepared statements (sf_send_statement):
 * its Params, the one-row INSERT values computed here and its constants
 * (shardfdw.parameterize_literals) are parameters $1..$n, so the worker
 * prepares it once per connection.  Under EXPLAIN, and with
 * shardfdw.max_cached_remote_statements = 0, it is sent with literals;
 * multi-shard tasks always are.  The whole result is read at the first
 * call (multi-shard: the results of all workers at once, as they arrive,
 * see router_run), except for a multi-shard SELECT, whose rows are
 * streamed: returned as they arrive, from whichever worker has some,
 * without keeping them (router_start_streams; see src/executor/README.md
 * for cursors, early ends and when it is not done).  Rows are converted
 * from text with the input functions of the scan's output columns, in a
 * memory context reset at every row.
 *
 * The shard is known from the plan when the statement pinned it with
 * constants (the plan then holds the worker SQL); when it pinned it with a
 * parameter, the parameter's value picks the shard when the scan starts and
 * the SQL is deparsed then.  Likewise the rows of a multi-row INSERT ...
 * VALUES ... ON CONFLICT planned by insert_values.c are grouped by the
 * shard of their keys when the scan starts (router_group_values), which
 * makes it a multi-shard scan.
 *
 * Under EXPLAIN ANALYZE, before the statement itself, the worker runs
 * EXPLAIN ANALYZE of the same SQL inside a savepoint that is rolled back, so
 * the worker's plan can be shown while the statement takes effect once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "connection.h"
#include "executor.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "sf_transaction.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"
#include "tcop/pquery.h"

struct SfRouterScanState;

/*
 * A worker's rows of a streamed multi-shard SELECT: read one by one as the
 * scan returns them, or, when another user of the connection needs it
 * first (a cursor's scan between FETCHes), read ahead into the scan's
 * tuplestore.
 */
typedef struct SfRouterStream
{
	struct SfRouterScanState *state;
	SfConn	   *conn;
	const char *sql;
} SfRouterStream;

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
	Oid			remote_user;	/* the role whose user mappings to use
								 * (InvalidOid: the current user) */
	Expr	   *pin;			/* expression of Params picking the shard */
	ExprState  *pin_state;		/* its evaluation */
	Oid			hashfn;			/* extended hash function of the pin */
	Oid			collation;		/* partition key collation */
	Oid			relid;			/* a distributed table of the statement */
	int			shardcount;		/* number of shards */
	int			strategy;		/* SF_STRATEGY_* */
	List	   *tasks;			/* multi-shard: (server, SQL) per shard */
	List	   *preeval;		/* INSERT values computed here, by resno */
	List	   *shards;			/* multi-shard: shard indexes to run */
	List	   *stable_exprs;	/* computed here into extra Params */
	int			stable_base;	/* paramid of the first */
	ParamListInfo params;		/* the statement's Params and the values
								 * computed here: this scan's own (the
								 * other scans of the statement, those of
								 * its coordinator subqueries included,
								 * keep theirs) */
	Bitmapset  *unrun_params;	/* Params of stable_exprs that plain
								 * EXPLAIN leaves NULL (subqueries the
								 * coordinator would run) */
	int			nshared;		/* multi-shard SELECT: Params sent once per
								 * worker as $1..$nshared (large arrays,
								 * sf_large_array_params) */
	char	  **shared_values;	/* their values, as text */
	List	   *prune_exprs;	/* SfRouterPruneExprs */
	bool		executed;		/* the statement ran */
	int			nresults;		/* results: one per server */
	PGresult  **results;		/* (freed with the query context) */
	int			current;		/* result being returned */
	int			next;			/* next row of it to return */
	List	   *return_order;	/* SfRouterReturnOrder */
	int		   *emit;			/* with it: (result, row) pairs, in order */
	int			nemit;			/* number of pairs */
	FmgrInfo   *infuncs;		/* input functions of the output columns */
	Oid		   *typioparams;	/* their type I/O parameters */
	int32	   *typmods;		/* their typmods */
	bool		binary;			/* ask for the rows in binary form
								 * (binary_kind of every column) */
	char	   *binkinds;		/* then each column's binary_kind */
	FmgrInfo   *recvfuncs;		/* and receive functions (kind 'b'; their
								 * typioparams are in typioparams) */
	char	   *worker_plan;	/* EXPLAIN ANALYZE text from the worker */
	char	   *remote_sql;		/* router: the statement sent through the
								 * connection's prepared statements, with
								 * parameters $1..$n, or NULL to send sql
								 * with literals */
	int			nparams;		/* its parameters */
	int		   *param_preeval;	/* by parameter: k when its value is the
								 * k-th (from 1) of preeval, else 0 */
	Oid		   *param_types;	/* their types (built in) */
	char	  **param_values;	/* their values as text, NULL for NULL */
	int32	   *variant;		/* output column types and typmods: tell
								 * statements of the same text apart */
	int			variant_len;	/* its size in bytes */
	MemoryContextCallback res_cleanup;	/* frees res on error */
	uint64		plan_id;		/* SfRouterPlanId */
	bool		stream;			/* multi-shard SELECT: rows streamed */
	int			nstreams;		/* streaming: one per server */
	SfRouterStream *streams;
	SfConn	  **stream_conns;	/* their connections */
	const char **stream_sqls;	/* their statements */
	bool	   *stream_done;	/* their queries ended (rows read) */
	int			stream_next;	/* sf_stream_next's search position */
	bool		stream_cancel;	/* an early end cancels (autocommit) */
	Tuplestorestate *ahead;		/* rows read ahead (work_mem, then disk) */
	int64		nahead;			/* rows in it not returned yet */
	TupleTableSlot *ahead_in;	/* a row going in (virtual) */
	TupleTableSlot *ahead_slot; /* a row coming out (minimal tuple) */
	MemoryContext ahead_cxt;	/* values of the row going in */
	MemoryContext row_cxt;		/* values of the row being returned */
	Portal		portal;			/* the portal that started the scan */
	/* SF_STRATEGY_INSERT_VALUES: see SfValuesPrivateIndex */
	Index		values_rti;		/* the VALUES RTE */
	AttrNumber	values_col;		/* its column giving the key */
	bool		values_by_row;	/* one statement per row */
	List	   *values_arbiters;	/* conflict target values, compared */
	int		   *same_key_before;	/* by row, with values_arbiters: per
									 * row (task), the last earlier row with
									 * the same conflict target values, or
									 * -1 */
} SfRouterScanState;

/*
 * Worker statements of router plans that can only be made when the scan
 * starts (a Param picks the shard; the statement has Params; a one-row
 * INSERT computes values here), kept by plan and shard: a prepared
 * statement's generic plan deparses its worker SQL once per shard, not at
 * every execution.  The SQL has every external Param, every value the
 * INSERT computes and (shardfdw.parameterize_literals) its constants as
 * parameters $1..$n; only their text is made per execution.  A plan is
 * replaced, with a new SfRouterPlanId, whenever the metadata of its tables
 * changes (they are in its relationOids), so an entry never outlives what
 * it was made from; old entries are dropped all at once when there are
 * too many.
 */
typedef struct SfRouterSqlKey
{
	uint64		plan_id;		/* SfRouterPlanId */
	int			shardindex;		/* the shard */
	int			nparams_in;		/* Params of the scan (statement's and
								 * stable expressions') */
	bool		literals;		/* shardfdw.parameterize_literals */
} SfRouterSqlKey;

typedef struct SfRouterSqlEntry
{
	SfRouterSqlKey key;
	char	   *sql;			/* worker SQL, NULL if it cannot be kept */
	Oid			serverid;		/* the shard's server */
	int			nparams;		/* its parameters */
	Oid		   *types;			/* their types */
	int		   *origin;			/* each one's value: 0 the constant in
								 * values, up to nparams_in that Param, above
								 * the (origin - nparams_in)-th INSERT value
								 * computed here */
	char	  **values;			/* constants as text (NULL for NULL) */
} SfRouterSqlEntry;

#define SF_ROUTER_SQL_CACHE_SIZE 1024

static HTAB *router_sql_cache = NULL;
static MemoryContext router_sql_cxt = NULL;

static Node *router_create_state(CustomScan *cscan);
static void router_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *router_exec(CustomScanState *node);
static void router_end(CustomScanState *node);
static void router_rescan(CustomScanState *node);
static void router_explain(CustomScanState *node, List *ancestors,
						   ExplainState *es);
static int	list_index_oid(List *list, Oid value);
static void router_order_returning(SfRouterScanState *state, List *servers);
static void router_group_values(SfRouterScanState *state, EState *estate);
static void router_check_second_update(SfRouterScanState *state,
									   List *servers);
static void router_abandon_streams(SfRouterScanState *state);
static Datum router_binary_value(SfRouterScanState *state, PGresult *res,
								 int row, int col, TupleDesc tupdesc);
static void router_store_row(SfRouterScanState *state, TupleTableSlot *slot,
							 PGresult *res, int row, MemoryContext cxt);
static bool statement_is_whole_transaction(EState *estate);

const CustomScanMethods sf_router_scan_methods = {
	.CustomName = "shardfdw",
	.CreateCustomScanState = router_create_state,
};

static const CustomExecMethods router_exec_methods = {
	.CustomName = "shardfdw",
	.BeginCustomScan = router_begin,
	.ExecCustomScan = router_exec,
	.EndCustomScan = router_end,
	.ReScanCustomScan = router_rescan,
	.ExplainCustomScan = router_explain,
};

bool		shardfdw_binary_results = true;

/*
 * Make the scan methods known by name (plans are copied and serialised),
 * and define the router's GUC.
 */
void
sf_register_router_scan(void)
{
	RegisterCustomScanMethods(&sf_router_scan_methods);
	DefineCustomBoolVariable("shardfdw.binary_results",
							 "Reads the rows of router and streamed multi-shard SELECTs from the workers in binary form.",
							 "Only when every output column has a built-in type whose binary form "
							 "depends on no setting (numbers, date and time types, uuid, inet, bytea, "
							 "money...) or is its text (text, varchar, json...).",
							 &shardfdw_binary_results,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * How a result column of this type is read in binary form: 'b' with
 * the type's receive function (a form no worker setting changes: numbers,
 * date and time types, uuid, network types, bytea, money, where text
 * would depend on the worker's extra_float_digits, IntervalStyle,
 * bytea_output or lc_monetary), 't' with its input function (types whose
 * binary form is their text, in the connection's client_encoding, as the
 * text form is), 'j' jsonb (a version byte, then its text), '\0' not at
 * all (other types: arrays and records carry the worker's type OIDs,
 * user-defined types may have no binary form).
 */
static char
binary_kind(Oid type)
{
	switch (type)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case CASHOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case UUIDOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case BYTEAOID:
			return 'b';
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case JSONOID:
			return 't';
		case JSONBOID:
			return 'j';
		default:
			return '\0';
	}
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
	state->relid = lthird_oid(hash);
	state->remote_user = lfourth_oid(hash);
	state->shardcount = intVal(list_nth(priv, SfRouterShardCount));
	state->strategy = intVal(list_nth(priv, SfRouterStrategy));
	state->tasks = list_nth(priv, SfRouterTasks);
	state->preeval = list_nth(priv, SfRouterPreEval);
	state->shards = list_nth(priv, SfRouterShards);
	state->stable_exprs = list_nth(priv, SfRouterStable);
	state->stable_base = intVal(list_nth(priv, SfRouterStableBase));
	state->prune_exprs = list_nth(priv, SfRouterPruneExprs);
	state->return_order = list_nth(priv, SfRouterReturnOrder);
	state->plan_id = strtou64(strVal(list_nth(priv, SfRouterPlanId)), NULL, 10);
	if (state->strategy == SF_STRATEGY_INSERT_VALUES)
	{
		state->values_rti = (Index) intVal(list_nth(priv, SfValuesRti));
		state->values_col = (AttrNumber) intVal(list_nth(priv, SfValuesKeyColumn));
		state->values_by_row = intVal(list_nth(priv, SfValuesByRow)) != 0;
		state->values_arbiters = list_nth(priv, SfValuesArbiters);
	}
	if (strVal(list_nth(priv, SfRouterRemoteSql))[0] != '\0')
	{
		List	   *params = list_nth(priv, SfRouterRemoteParams);
		ListCell   *lc;
		int			i = 0;

		state->remote_sql = strVal(list_nth(priv, SfRouterRemoteSql));
		state->nparams = list_length(params);
		state->param_types = palloc(sizeof(Oid) * (state->nparams + 1));
		state->param_values = palloc(sizeof(char *) * (state->nparams + 1));
		state->param_preeval = palloc0(sizeof(int) * (state->nparams + 1));
		foreach(lc, params)
		{
			List	   *p = lfirst(lc);

			state->param_types[i] = (Oid) intVal(linitial(p));
			state->param_values[i] = NULL;
			if (list_length(p) > 1 && IsA(lsecond(p), Integer))
				state->param_preeval[i] = intVal(lsecond(p));
			else if (list_length(p) > 1)
				state->param_values[i] = strVal(lsecond(p));
			i++;
		}
	}
	return (Node *) state;
}

/*
 * The scan will not read its streams any more (it failed, or its memory
 * goes): the connections discard the rest of their rows when next used
 * (sf_stream_abandon), never touching the scan's state again.
 */
static void
router_abandon_streams(SfRouterScanState *state)
{
	int			i;

	for (i = 0; i < state->nstreams; i++)
		if (!state->stream_done[i])
		{
			state->stream_done[i] = true;
			sf_stream_abandon(state->streams[i].conn, &state->streams[i]);
		}
}

/* Free the result when the query's memory goes (also on error). */
static void
router_free_result(void *arg)
{
	SfRouterScanState *state = arg;
	int			i;

	/* streams still running lose their owner (a failed cursor, ...) */
	router_abandon_streams(state);

	for (i = 0; i < state->nresults; i++)
	{
		if (state->results[i])
			PQclear(state->results[i]);
		state->results[i] = NULL;
	}
	state->nresults = 0;
}

/*
 * Add a task (the statement sql for server) made when the scan starts; the
 * first one is the one EXPLAIN shows.
 */
static void
router_add_task(SfRouterScanState *state, Oid server, char *sql)
{
	if (state->tasks == NIL)
	{
		state->sql = sql;
		state->serverid = server;
	}
	state->tasks = lappend(state->tasks,
						   list_make2(makeInteger((int) server),
									  makeString(sql)));
}

/* walker: does an expression run a plan (a SubPlan, or its output Param)? */
static bool
runs_subplan_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubPlan) ||
		(IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC))
		return true;
	return expression_tree_walker(node, runs_subplan_walker, context);
}

/* walker: does an expression use one of the external Params in *context? */
static bool
uses_params_walker(Node *node, Bitmapset **params)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		bms_is_member(((Param *) node)->paramid, *params))
		return true;
	return expression_tree_walker(node, uses_params_walker, params);
}

/*
 * Evaluate exprs once and make their values extra external Params numbered
 * from base (the statement's own Params, up to base - 1, are kept), visible
 * to this scan (pin evaluation, deparsing with parameter values).  Plain
 * EXPLAIN (explain_only) runs no subquery: the values of those that need
 * one are NULL, and noted in unrun_params.  (Its plan nodes were not made
 * ready to run, either.)
 */
static void
router_add_params(SfRouterScanState *state, EState *estate, List *exprs,
				  int base, bool explain_only)
{
	ParamListInfo orig = state->params;
	int			norig = orig ? orig->numParams : 0;
	int			n = base - 1 + list_length(exprs);
	ParamListInfo params = makeParamList(n);
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	ListCell   *lc;
	int			i;

	for (i = 0; i < n; i++)
	{
		params->params[i].value = (Datum) 0;
		params->params[i].isnull = true;
		params->params[i].pflags = 0;
		params->params[i].ptype = InvalidOid;
	}
	for (i = 1; i <= norig && i < base; i++)
	{
		ParamExternData workspace;
		ParamExternData *prm = orig->paramFetch ?
			orig->paramFetch(orig, i, false, &workspace) : &orig->params[i - 1];

		if (prm)
			params->params[i - 1] = *prm;
	}
	i = base - 1;
	foreach(lc, exprs)
	{
		Expr	   *expr = lfirst(lc);
		ExprState  *es = ExecInitExpr(expr, &state->css.ss.ps);
		bool		isnull = true;
		Datum		value = (Datum) 0;
		Oid			type = exprType((Node *) expr);
		int16		typlen;
		bool		typbyval;

		if (explain_only && runs_subplan_walker((Node *) expr, NULL))
			state->unrun_params = bms_add_member(state->unrun_params, i + 1);
		else
			value = ExecEvalExprSwitchContext(es, econtext, &isnull);
		get_typlenbyval(type, &typlen, &typbyval);
		params->params[i].value = isnull ? (Datum) 0 :
			datumCopy(value, typbyval, typlen);
		params->params[i].isnull = isnull;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = type;
		i++;
	}
	state->params = params;
	econtext->ecxt_param_list_info = params;
}

/*
 * Compute the statement's stable expressions (now(), ...) once, as extra
 * external Params after the statement's own.
 */
static void
router_compute_stable(SfRouterScanState *state, EState *estate, int eflags)
{
	router_add_params(state, estate, state->stable_exprs, state->stable_base,
					  (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0);
}

/*
 * The values of a one-row INSERT computed here (nextval(), now(), ...):
 * computed once into extra external Params after all others, which replace
 * the expressions in a copy of the statement (plain EXPLAIN computes
 * nothing and shows the expressions).
 */
static void
router_compute_insert_values(SfRouterScanState *state, EState *estate,
							 int eflags)
{
	Query	   *q = copyObject(state->query);
	ParamListInfo orig = state->params;
	int			base = (orig ? orig->numParams : 0) + 1;
	List	   *exprs = NIL;
	ListCell   *lc;

	foreach(lc, state->preeval)
	{
		TargetEntry *pe = lfirst(lc);
		TargetEntry *tle = NULL;
		ListCell   *lc2;

		foreach(lc2, q->targetList)
			if (((TargetEntry *) lfirst(lc2))->resno == pe->resno)
				tle = lfirst(lc2);
		if (tle == NULL)
			elog(ERROR, "INSERT value %d not found", pe->resno);
		if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
			tle->expr = copyObject(pe->expr);
		else
		{
			Param	   *p = makeNode(Param);

			p->paramkind = PARAM_EXTERN;
			p->paramid = base + list_length(exprs);
			p->paramtype = exprType((Node *) pe->expr);
			p->paramtypmod = exprTypmod((Node *) pe->expr);
			p->paramcollid = exprCollation((Node *) pe->expr);
			p->location = -1;
			tle->expr = (Expr *) p;
			exprs = lappend(exprs, pe->expr);
		}
	}
	if (exprs != NIL)
		router_add_params(state, estate, exprs, base, false);
	state->query = q;
}

/*
 * The values of a one-row INSERT computed here (nextval(), now(), ...),
 * once, as the text of the parameters the plan's worker statement has for
 * them (param_preeval).
 */
static void
router_preeval_params(SfRouterScanState *state)
{
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	ListCell   *lc;
	int			nestlevel = -1;

	foreach(lc, state->preeval)
	{
		TargetEntry *pe = lfirst(lc);
		ExprState  *es = ExecInitExpr(pe->expr, &state->css.ss.ps);
		Oid			type = exprType((Node *) pe->expr);
		bool		isnull;
		Datum		value = ExecEvalExprSwitchContext(es, econtext, &isnull);
		char	   *text = NULL;
		int			i;

		if (!isnull)
		{
			/* text that means the same on workers (DateStyle etc.) */
			if (nestlevel < 0 && type != INT8OID && type != INT4OID &&
				type != INT2OID && type != NUMERICOID && type != TEXTOID)
				nestlevel = sf_set_transmission_modes();
			text = sf_output_text(type, value);
		}
		for (i = 0; i < state->nparams; i++)
			if (state->param_preeval[i] == foreach_current_index(lc) + 1)
				state->param_values[i] = text;
	}
	if (nestlevel >= 0)
		sf_reset_transmission_modes(nestlevel);
}

/*
 * Multi-shard pruning by values of Params ("dist = $1", "dist = ANY ($1)"):
 * keep the shards the value, or one of the array's non-NULL elements,
 * hashes to, for every such conjunct (NULL keeps none: the conjunct is
 * never true).
 * At least one shard stays, so that an aggregate without GROUP BY still
 * gets its row from a worker.
 */
static void
router_prune_shards(SfRouterScanState *state)
{
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	bool	   *keep = palloc(sizeof(bool) * state->shardcount);
	const SfTable *table = sf_lookup_table(state->relid);
	List	   *shards = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < state->shardcount; i++)
		keep[i] = true;
	foreach(lc, state->prune_exprs)
	{
		List	   *item = lfirst(lc);
		Expr	   *expr = linitial(item);
		Oid			hashfn = (Oid) intVal(lsecond(item));
		bool		is_array = intVal(lthird(item)) != 0;
		ExprState  *es;
		bool	   *hit;
		bool		isnull;
		Datum		value;

		/* plain EXPLAIN: a value not computed prunes nothing */
		if (uses_params_walker((Node *) expr, &state->unrun_params))
			continue;
		es = ExecInitExpr(expr, &state->css.ss.ps);
		hit = palloc0(sizeof(bool) * state->shardcount);
		value = ExecEvalExprSwitchContext(es, econtext, &isnull);

		if (isnull)
		{
			/* = NULL, = ANY (NULL): never true */
		}
		else if (!is_array)
			hit[sf_hash_remainder(hashfn, state->collation, value, false,
								  state->shardcount)] = true;
		else
		{
			ArrayType  *array = DatumGetArrayTypeP(value);
			Oid			elemtype = ARR_ELEMTYPE(array);
			int16		typlen;
			bool		typbyval;
			char		typalign;
			Datum	   *values;
			bool	   *nulls;
			int			n;

			get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
			deconstruct_array(array, elemtype, typlen, typbyval, typalign,
							  &values, &nulls, &n);
			for (i = 0; i < n; i++)
				if (!nulls[i])
					hit[sf_hash_remainder(hashfn, state->collation, values[i],
										  false, state->shardcount)] = true;
		}
		for (i = 0; i < state->shardcount; i++)
			keep[i] = keep[i] && hit[i];
	}
	/* a shard stays if one of its indexes does (split shards have several) */
	if (table != NULL && table->index_owner != NULL &&
		table->shardcount == state->shardcount)
	{
		bool	   *owned = palloc0(sizeof(bool) * state->shardcount);

		for (i = 0; i < state->shardcount; i++)
			if (keep[i])
				owned[sf_shard_index_owner(table, i)] = true;
		keep = owned;
	}
	foreach(lc, state->shards)
		if (keep[lfirst_int(lc)])
			shards = lappend_int(shards, lfirst_int(lc));
	if (shards == NIL && state->shards != NIL)
		shards = list_make1_int(linitial_int(state->shards));
	state->shards = shards;
}

/*
 * Are all external Params of node of built-in types without typmod,
 * numbered 1..*maxid?  (Those become parameters of the worker statement
 * without their values: see sf_shard_query_sql_params.)
 */
static bool
params_keepable_walker(Node *node, int *maxid)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, params_keepable_walker,
								 maxid, 0);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) node;

		return p->paramtype >= FirstGenbkiObjectId || p->paramtypmod != -1 ||
			p->paramid <= 0 || p->paramid > *maxid;
	}
	return expression_tree_walker(node, params_keepable_walker, maxid);
}

/*
 * Make the kept worker statement of the scan's plan for its shard (entry's
 * key set, the rest filled here, in router_sql_cxt); entry->sql stays NULL
 * when the statement cannot be kept (a Param or INSERT value of a type
 * that is not built in, or with a typmod, is sent as a literal).
 */
static void
router_make_kept_sql(SfRouterScanState *state, SfRouterSqlEntry *entry)
{
	Query	   *q = state->query;
	int			base = entry->key.nparams_in;
	int			maxid = base + list_length(state->preeval);
	ListCell   *lc;
	char	   *sql;
	Oid			serverid;
	int			nparams;
	Oid		   *types;
	char	  **values;
	int		   *origin;
	MemoryContext old;
	int			i;

	if (state->preeval != NIL)
	{
		q = copyObject(q);
		foreach(lc, state->preeval)
		{
			TargetEntry *pe = lfirst(lc);
			Param	   *p;
			ListCell   *lc2;

			if (exprType((Node *) pe->expr) >= FirstGenbkiObjectId ||
				exprTypmod((Node *) pe->expr) != -1)
				return;
			p = makeNode(Param);
			p->paramkind = PARAM_EXTERN;
			p->paramid = base + foreach_current_index(lc) + 1;
			p->paramtype = exprType((Node *) pe->expr);
			p->paramtypmod = -1;
			p->paramcollid = exprCollation((Node *) pe->expr);
			p->location = -1;
			foreach(lc2, q->targetList)
				if (((TargetEntry *) lfirst(lc2))->resno == pe->resno)
					((TargetEntry *) lfirst(lc2))->expr = (Expr *) p;
		}
	}
	if (params_keepable_walker((Node *) q, &maxid))
		return;

	sql = sf_shard_query_sql_params(q, state->shardindex, NULL,
									entry->key.literals, false, &serverid,
									&nparams, &types, &values, maxid,
									&origin);
	old = MemoryContextSwitchTo(router_sql_cxt);
	entry->serverid = serverid;
	entry->nparams = nparams;
	entry->types = palloc(sizeof(Oid) * (nparams + 1));
	entry->origin = palloc(sizeof(int) * (nparams + 1));
	entry->values = palloc(sizeof(char *) * (nparams + 1));
	for (i = 0; i < nparams; i++)
	{
		entry->types[i] = types[i];
		entry->origin[i] = origin[i];
		entry->values[i] = origin[i] == 0 && values[i] != NULL ?
			pstrdup(values[i]) : NULL;
	}
	entry->sql = pstrdup(sql);
	MemoryContextSwitchTo(old);
}

/*
 * The text of an external Param for a worker parameter of type type.
 */
static char *
router_param_text(ParamListInfo params, int paramid, Oid type,
				  int *nestlevel)
{
	ParamExternData workspace;
	ParamExternData *prm = NULL;

	if (params != NULL && paramid > 0 && paramid <= params->numParams)
		prm = params->paramFetch != NULL ?
			params->paramFetch(params, paramid, false, &workspace) :
			&params->params[paramid - 1];
	if (prm == NULL || !OidIsValid(prm->ptype) || prm->ptype != type)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_PARAMETER),
				 errmsg("no value found for parameter %d", paramid)));
	if (prm->isnull)
		return NULL;
	/* text that means the same on workers (DateStyle etc.) */
	if (*nestlevel < 0 && type != INT8OID && type != INT4OID &&
		type != INT2OID && type != NUMERICOID && type != TEXTOID &&
		type != VARCHAROID && type != BOOLOID)
		*nestlevel = sf_set_transmission_modes();
	return sf_output_text(type, prm->value);
}

/*
 * The values (text) of the Params keep (paramids), sent once to each
 * worker as $1..$n of its statement (sf_shard_query_sql_keep).
 */
static void
router_shared_values(SfRouterScanState *state, List *keep)
{
	int			nestlevel = -1;
	ListCell   *lc;

	state->nshared = list_length(keep);
	state->shared_values = palloc(sizeof(char *) * state->nshared);
	ereport(DEBUG1,
			(errmsg_internal("%d array parameter(s) sent once to each worker",
							 state->nshared)));
	PG_TRY();
	{
		foreach(lc, keep)
		{
			int			paramid = lfirst_int(lc);

			state->shared_values[foreach_current_index(lc)] =
				router_param_text(state->params, paramid,
								  state->params->params[paramid - 1].ptype,
								  &nestlevel);
		}
	}
	PG_FINALLY();
	{
		if (nestlevel >= 0)
			sf_reset_transmission_modes(nestlevel);
	}
	PG_END_TRY();
}

/*
 * Use the kept worker statement of the scan's plan and shard (made now if
 * there is none yet): sets remote_sql, serverid and the parameters' types
 * and values.  Returns false when the statement cannot be kept.
 */
static bool
router_use_kept_sql(SfRouterScanState *state, EState *estate)
{
	ParamListInfo params = state->params;
	SfRouterSqlKey key;
	SfRouterSqlEntry *entry;
	int			nestlevel = -1;
	int			i;

	if (state->plan_id == 0)
		return false;
	memset(&key, 0, sizeof(key));
	key.plan_id = state->plan_id;
	key.shardindex = state->shardindex;
	key.nparams_in = params ? params->numParams : 0;
	key.literals = shardfdw_parameterize_literals;

	if (router_sql_cache != NULL &&
		hash_get_num_entries(router_sql_cache) >= SF_ROUTER_SQL_CACHE_SIZE)
	{
		hash_destroy(router_sql_cache);
		router_sql_cache = NULL;
		MemoryContextReset(router_sql_cxt);
	}
	if (router_sql_cache == NULL)
	{
		HASHCTL		ctl;

		if (router_sql_cxt == NULL)
			router_sql_cxt = AllocSetContextCreate(TopMemoryContext,
												   "shardfdw router statements",
												   ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(SfRouterSqlKey);
		ctl.entrysize = sizeof(SfRouterSqlEntry);
		ctl.hcxt = router_sql_cxt;
		router_sql_cache = hash_create("shardfdw router statements", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(router_sql_cache, &key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		SfRouterSqlEntry made;

		/* made apart, so that an error leaves no half-made entry */
		memset(&made, 0, sizeof(made));
		made.key = key;
		router_make_kept_sql(state, &made);
		entry = hash_search(router_sql_cache, &key, HASH_ENTER, NULL);
		*entry = made;
	}
	if (entry->sql == NULL)
		return false;

	/* copied: the cache may be emptied while the scan is open (a cursor) */
	state->remote_sql = pstrdup(entry->sql);
	state->serverid = entry->serverid;
	state->nparams = entry->nparams;
	state->param_types = palloc(sizeof(Oid) * (entry->nparams + 1));
	memcpy(state->param_types, entry->types, sizeof(Oid) * entry->nparams);
	state->param_values = palloc(sizeof(char *) * (entry->nparams + 1));
	state->param_preeval = palloc0(sizeof(int) * (entry->nparams + 1));
	PG_TRY();
	{
		for (i = 0; i < entry->nparams; i++)
		{
			int			origin = entry->origin[i];

			state->param_values[i] = NULL;
			if (origin == 0)
				state->param_values[i] = entry->values[i] ?
					pstrdup(entry->values[i]) : NULL;
			else if (origin > key.nparams_in)
				state->param_preeval[i] = origin - key.nparams_in;
			else
				state->param_values[i] =
					router_param_text(params, origin, entry->types[i],
									  &nestlevel);
		}
	}
	PG_FINALLY();
	{
		if (nestlevel >= 0)
			sf_reset_transmission_modes(nestlevel);
	}
	PG_END_TRY();
	if (state->preeval != NIL)
		router_preeval_params(state);
	return true;
}

static void
router_begin(CustomScanState *node, EState *estate, int eflags)
{
	SfRouterScanState *state = (SfRouterScanState *) node;
	TupleDesc	tupdesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	int			i;

	state->params = estate->es_param_list_info;
	if (state->stable_exprs != NIL)
		router_compute_stable(state, estate, eflags);

	/* INSERT ... VALUES ... ON CONFLICT: its statements, by shard or row */
	if (state->strategy == SF_STRATEGY_INSERT_VALUES)
		router_group_values(state, estate);

	if (state->strategy != SF_STRATEGY_ROUTER)
	{
		if (state->prune_exprs != NIL)
			router_prune_shards(state);
		/* with Params, the shard queries are built now */
		if (state->tasks == NIL)
		{
			List	   *keep = NIL;
			ListCell   *lc;

			/*
			 * A SELECT's shard statements go to each worker as one
			 * statement: a large array (a coordinator subquery's values) is
			 * sent once, as a parameter, not as a literal in every shard's
			 * part.  Not under EXPLAIN, which shows and runs the SQL alone.
			 */
			if (state->query->commandType == CMD_SELECT &&
				!(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
				estate->es_instrument == 0)
				keep = sf_large_array_params(state->query, state->params);
			if (keep != NIL)
				router_shared_values(state, keep);
			foreach(lc, state->shards)
			{
				Oid			server;
				char	   *sql = sf_shard_query_sql_keep(state->query,
														  lfirst_int(lc),
														  state->params,
														  keep, &server);

				router_add_task(state, server, sql);
			}
		}
	}
	else
	{
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
			state->shardindex = sf_hash_remainder(state->hashfn,
												  state->collation,
												  value, isnull,
												  state->shardcount);
		}
		/*
		 * Executed for real (not under EXPLAIN), the statement goes through
		 * the connection's prepared statements, with the Params as
		 * parameters; otherwise with literals.
		 */
		if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) || estate->es_instrument != 0 ||
			shardfdw_max_cached_remote_statements <= 0)
			state->remote_sql = NULL;

		if (state->remote_sql != NULL)
		{
			/* the plan made it: constants (and INSERT values) parameters */
			if (state->preeval != NIL)
				router_preeval_params(state);
		}
		else if (state->sql == NULL &&
				 !(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
				 estate->es_instrument == 0 &&
				 shardfdw_max_cached_remote_statements > 0 &&
				 router_use_kept_sql(state, estate))
		{
			/* made at an earlier execution of the plan, or now */
		}
		else if (state->preeval != NIL)
			/* values of a one-row INSERT computed here */
			router_compute_insert_values(state, estate, eflags);

		if (state->remote_sql != NULL)
		{
			/* done */
		}
		else if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
				 estate->es_instrument != 0 ||
				 shardfdw_max_cached_remote_statements <= 0)
		{
			if (state->sql == NULL)
				state->sql = sf_shard_query_sql(state->query, state->shardindex,
												state->params,
												&state->serverid, false);
		}
		else if (state->sql == NULL)
			state->remote_sql =
				sf_shard_query_sql_params(state->query, state->shardindex,
										  state->params,
										  shardfdw_parameterize_literals,
										  false, &state->serverid,
										  &state->nparams,
										  &state->param_types,
										  &state->param_values, 0, NULL);
		else
			state->remote_sql = state->sql;
	}

	if (state->remote_sql != NULL)
	{
		state->variant = palloc(sizeof(int32) * 2 * tupdesc->natts);
		state->variant_len = sizeof(int32) * 2 * tupdesc->natts;
		for (i = 0; i < tupdesc->natts; i++)
		{
			state->variant[2 * i] = (int32) TupleDescAttr(tupdesc, i)->atttypid;
			state->variant[2 * i + 1] = TupleDescAttr(tupdesc, i)->atttypmod;
		}
	}

	/*
	 * A multi-shard SELECT's rows are streamed, unless the scan is expected
	 * to be rescanned or read backwards, or belongs to a WITH HOLD cursor
	 * (kept at commit by running the plan again from its start: a streamed
	 * scan would run the workers' statement again, which may not see the
	 * same rows), or under EXPLAIN ANALYZE.  ActivePortal is the portal
	 * being started.
	 */
	state->stream = state->strategy != SF_STRATEGY_ROUTER &&
		state->query->commandType == CMD_SELECT &&
		estate->es_instrument == 0 &&
		!(eflags & (EXEC_FLAG_EXPLAIN_ONLY | EXEC_FLAG_REWIND |
					EXEC_FLAG_BACKWARD | EXEC_FLAG_MARK)) &&
		!(ActivePortal != NULL &&
		  (ActivePortal->cursorOptions & CURSOR_OPT_HOLD));

	/*
	 * A router SELECT through the prepared statements, and a streamed
	 * multi-shard SELECT, read their rows in binary form when every column
	 * allows it (binary_kind); the columns read with receive functions need
	 * no input function.
	 */
	state->binary = shardfdw_binary_results &&
		state->query->commandType == CMD_SELECT && tupdesc->natts > 0 &&
		((state->strategy == SF_STRATEGY_ROUTER && state->remote_sql != NULL) ||
		 state->stream);
	if (state->binary)
	{
		state->binkinds = palloc(tupdesc->natts);
		for (i = 0; i < tupdesc->natts && state->binary; i++)
		{
			state->binkinds[i] = binary_kind(TupleDescAttr(tupdesc, i)->atttypid);
			if (state->binkinds[i] == '\0')
				state->binary = false;
		}
	}
	state->infuncs = palloc0(sizeof(FmgrInfo) * tupdesc->natts);
	state->typioparams = palloc0(sizeof(Oid) * tupdesc->natts);
	state->typmods = palloc(sizeof(int32) * tupdesc->natts);
	if (state->binary)
		state->recvfuncs = palloc0(sizeof(FmgrInfo) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Oid			func;

		state->typmods[i] = att->atttypmod;
		if (state->binary && state->binkinds[i] == 'b')
		{
			getTypeBinaryInputInfo(att->atttypid, &func,
								   &state->typioparams[i]);
			fmgr_info(func, &state->recvfuncs[i]);
		}
		else
		{
			getTypeInputInfo(att->atttypid, &func, &state->typioparams[i]);
			fmgr_info(func, &state->infuncs[i]);
		}
	}

	state->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										   "shardfdw router row",
										   ALLOCSET_DEFAULT_SIZES);
	state->portal = ActivePortal;
	if (state->stream)
	{
		state->ahead_cxt = AllocSetContextCreate(CurrentMemoryContext,
												 "shardfdw router read-ahead",
												 ALLOCSET_DEFAULT_SIZES);
		state->ahead_in = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
		state->ahead_slot = MakeSingleTupleTableSlot(tupdesc,
													 &TTSOpsMinimalTuple);
	}

	state->res_cleanup.func = router_free_result;
	state->res_cleanup.arg = state;
	MemoryContextRegisterResetCallback(estate->es_query_cxt,
									   &state->res_cleanup);
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

/*
 * The statements to send, per server (a List of Lists of char *): the
 * router's statement; for a multi-shard SELECT the shard queries of each
 * server joined with UNION ALL (one round trip per worker, which may run the
 * branches in parallel); for a multi-shard UPDATE / DELETE / INSERT ...
 * SELECT each shard's statement (router_run sends a server's statements in
 * one command string: one round trip per worker, not per shard).
 */
static List *
router_server_statements(SfRouterScanState *state, List **servers)
{
	List	   *stmts = NIL;
	ListCell   *lc;
	bool		combine = (state->query->commandType == CMD_SELECT);

	*servers = NIL;
	if (state->strategy == SF_STRATEGY_ROUTER)
	{
		*servers = list_make1_oid(state->serverid);
		return list_make1(list_make1(state->sql));
	}
	foreach(lc, state->tasks)
	{
		List	   *task = lfirst(lc);
		Oid			server = (Oid) intVal(linitial(task));
		char	   *sql = strVal(lsecond(task));
		int			pos = list_index_oid(*servers, server);
		List	   *mine;

		if (pos < 0)
		{
			*servers = lappend_oid(*servers, server);
			stmts = lappend(stmts, NIL);
			pos = list_length(stmts) - 1;
		}
		mine = list_nth(stmts, pos);
		if (combine)
		{
			/* (shard 1) UNION ALL (shard 2) ..., built in a StringInfo */
			StringInfo	buf;

			if (mine == NIL)
			{
				buf = makeStringInfo();
				mine = list_make1(buf);
			}
			else
			{
				buf = linitial(mine);
				appendStringInfoString(buf, " UNION ALL ");
			}
			appendStringInfo(buf, "(%s)", sql);
		}
		else
			mine = lappend(mine, sql);
		list_nth_cell(stmts, pos)->ptr_value = mine;
	}
	if (combine)
		foreach(lc, stmts)
		{
			List	   *mine = lfirst(lc);

			linitial(mine) = ((StringInfo) linitial(mine))->data;
		}
	return stmts;
}

/* list position of an OID, or -1 */
static int
list_index_oid(List *list, Oid value)
{
	ListCell   *lc;

	foreach(lc, list)
		if (lfirst_oid(lc) == value)
			return foreach_current_index(lc);
	return -1;
}

/*
 * Is the statement being executed the whole local transaction: a top-level
 * statement (the active portal's only statement, not one run by a function
 * or a trigger) outside any transaction block?  Then a one-task statement
 * may run in the worker's own implicit transaction
 * (sf_get_connection_single_statement): one round trip instead of three.
 * The planner only routes statements whose every part runs on the worker
 * (no local tables, triggers or volatile functions), so nothing else of the
 * transaction can fail after the worker committed.
 */
static bool
statement_is_whole_transaction(EState *estate)
{
	return !IsTransactionBlock() &&
		ActivePortal != NULL &&
		list_length(ActivePortal->stmts) == 1 &&
		linitial(ActivePortal->stmts) == (void *) estate->es_plannedstmt;
}

/*
 * Check a worker's result (ERROR on failure), keep it and add its row
 * count to es_processed.
 */
static void
router_take_result(SfRouterScanState *state, SfConn *conn, PGresult *res,
				   const char *sql)
{
	EState	   *estate = state->css.ss.ps.state;
	TupleDesc	tupdesc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		sf_report_error(ERROR, res, conn, true, sql);
	state->results[state->nresults++] = res;
	if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		PQnfields(res) != tupdesc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("worker returned %d columns, expected %d",
						PQnfields(res), tupdesc->natts),
				 errcontext("while executing on server \"%s\": %s",
							sf_conn_server_name(conn), sql)));
	if (state->query->commandType != CMD_SELECT)
	{
		const char *cnt = PQcmdTuples(res);

		if (cnt && cnt[0])
			estate->es_processed += strtou64(cnt, NULL, 10);
	}
}

/*
 * The router's statement through the connection's prepared statements
 * (remote_sql with its parameters), in the worker's implicit transaction
 * when the statement is the whole local transaction.
 */
static void
router_run_statement(SfRouterScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	SfConn	   *conn;
	PGresult   *res;
	bool		autocommit;

	if (statement_is_whole_transaction(estate))
		conn = sf_get_connection_single_statement(state->serverid,
												  state->remote_user,
												  &autocommit);
	else
		conn = sf_get_connection_for_user(state->serverid,
										  state->remote_user);
	state->results = palloc0(sizeof(PGresult *));
	state->nresults = 0;
	if (state->binary)
		elog(DEBUG2, "worker rows read in binary form");
	sf_send_statement(conn, state->remote_sql, state->nparams,
					  state->param_types,
					  (const char *const *) state->param_values,
					  state->variant, state->variant_len,
					  state->binary ? 1 : 0);
	res = sf_get_statement_result(conn, state->remote_sql, state->nparams,
								  state->param_types,
								  (const char *const *) state->param_values,
								  state->variant, state->variant_len,
								  state->binary ? 1 : 0);
	router_take_result(state, conn, res, state->remote_sql);
	state->executed = true;
	state->current = 0;
	state->next = 0;
}

/*
 * Another user of a streaming connection needs it (the scan is a cursor's,
 * between two FETCHes, or another scan of the plan uses the same worker):
 * read the stream's remaining rows into its buffer now.
 */
static void
router_stream_drain(void *arg)
{
	SfRouterStream *s = arg;
	SfRouterScanState *state = s->state;
	int			i = s - state->streams;

	/*
	 * A scan whose portal failed (an error, a cancel, in a subtransaction
	 * rolled back since) is never read again, and its resources (those of
	 * the tuplestore) are released: its rows are discarded.
	 */
	if (state->portal != NULL && state->portal->status == PORTAL_FAILED)
	{
		state->stream_done[i] = true;
		sf_conn_clear_pending(s->conn, s);
		router_abandon_streams(state);
		sf_stream_finish(s->conn, false, s->sql);
		return;
	}

	while (!state->stream_done[i])
	{
		int			which;
		int			next = 0;
		PGresult   *res = sf_stream_next(&s->conn, &s->sql, 1,
										 &state->stream_done[i], &which,
										 &next);

		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_SINGLE_TUPLE)
			sf_report_error(ERROR, res, s->conn, true, s->sql);

		/*
		 * Converted in a context of its own: the row being returned (in
		 * row_cxt) may still be in use by the node above.
		 */
		MemoryContextReset(state->ahead_cxt);
		PG_TRY();
		{
			router_store_row(state, state->ahead_in, res, 0,
							 state->ahead_cxt);
		}
		PG_FINALLY();
		{
			PQclear(res);
		}
		PG_END_TRY();
		tuplestore_puttupleslot(state->ahead, state->ahead_in);
		state->nahead++;
	}
}

/*
 * Streaming: send each worker its SELECT, its rows to come one by one
 * (router_next reads them as they arrive, from whichever worker has some).
 * Until its last row is read, the scan owns each connection's command in
 * flight (sf_conn_set_pending: another user first reads the rest into the
 * stream's buffer).
 */
static void
router_start_streams(SfRouterScanState *state, List *stmts, SfConn **conns,
					 int n, bool autocommit)
{
	int			i;

	state->streams = palloc0(sizeof(SfRouterStream) * n);
	state->stream_conns = conns;
	state->stream_done = palloc0(sizeof(bool) * n);
	state->stream_sqls = palloc(sizeof(char *) * n);
	state->stream_next = 0;
	state->stream_cancel = autocommit;
	state->nstreams = 0;

	/*
	 * Created here, with the scan's resource owner (the tuplestore's
	 * temporary files belong to it, whoever makes the tuplestore spill).
	 */
	state->ahead = tuplestore_begin_heap(false, false, work_mem);
	state->nahead = 0;
	if (state->binary)
		elog(DEBUG2, "worker rows read in binary form");
	for (i = 0; i < n; i++)
	{
		SfRouterStream *s = &state->streams[i];

		Assert(list_length(list_nth(stmts, i)) == 1);
		s->state = state;
		s->conn = conns[i];
		s->sql = linitial(list_nth(stmts, i));
		state->stream_sqls[i] = s->sql;
		sf_send_query_rows(conns[i], s->sql, state->nshared,
						   (const char *const *) state->shared_values,
						   state->binary ? 1 : 0);
		state->nstreams++;
		sf_conn_set_pending(conns[i], router_stream_drain, s);
	}
	state->executed = true;
}

/*
 * End the streams whose rows were not all read (LIMIT, a cursor closed, a
 * rescan): cancelled when the statement is the worker's whole implicit
 * transaction, otherwise read to their end (a cancel would abort the
 * remote transaction), so that the connections are free for the next
 * statements.  Rows read ahead are freed.
 */
static void
router_end_streams(SfRouterScanState *state)
{
	int			i;

	for (i = 0; i < state->nstreams; i++)
	{
		SfRouterStream *s = &state->streams[i];

		sf_conn_clear_pending(s->conn, s);
		if (!state->stream_done[i])
		{
			state->stream_done[i] = true;
			sf_stream_finish(s->conn, state->stream_cancel, s->sql);
		}
	}
	if (state->ahead != NULL)
		tuplestore_end(state->ahead);
	state->ahead = NULL;
	state->nahead = 0;
}

/*
 * Send a statement to every server first, then read the results as they
 * arrive (sf_wait_results): the workers run and send concurrently.  Servers
 * with several statements (multi-shard DML) get them in rounds.
 */
static void
router_run(SfRouterScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	List	   *servers;
	List	   *stmts = router_server_statements(state, &servers);
	int			n = list_length(servers);
	SfConn	  **conns;
	SfConn	  **sent;
	char	  **texts;
	int			total = 0;
	int			i;
	bool		autocommit = false;

	if (state->remote_sql != NULL && state->css.ss.ps.instrument == NULL)
	{
		router_run_statement(state);
		return;
	}
	if (state->css.ss.ps.instrument != NULL)
		router_fetch_worker_plan(state,
								 sf_get_connection_for_user(state->serverid,
															state->remote_user));

	conns = palloc(sizeof(SfConn *) * n);
	sent = palloc(sizeof(SfConn *) * n);
	texts = palloc0(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		Oid			serverid = list_nth_oid(servers, i);

		total += list_length(list_nth(stmts, i));
		if (n == 1 && list_length(linitial(stmts)) == 1 &&
			state->css.ss.ps.instrument == NULL &&
			statement_is_whole_transaction(estate))
			conns[i] = sf_get_connection_single_statement(serverid,
														  state->remote_user,
														  &autocommit);
		else
			conns[i] = sf_get_connection_for_user(serverid,
												  state->remote_user);
	}
	if (state->stream)
	{
		router_start_streams(state, stmts, conns, n, autocommit);
		return;
	}
	state->results = palloc0(sizeof(PGresult *) * total);
	state->nresults = 0;

	/*
	 * Each server's statements go in one command string (without
	 * parameters, except a SELECT's, whose shards' statements are one),
	 * so a worker runs its shards' statements one after the other without
	 * waiting for the coordinator in between: one round trip per worker,
	 * which matters as soon as a round trip costs more than a shard's
	 * statement.  Within the worker's transaction block, a failed
	 * statement skips the rest, as the next statement would fail anyway.
	 */
	for (i = 0; i < n; i++)
	{
		List	   *mine = list_nth(stmts, i);

		if (list_length(mine) > 1)
		{
			StringInfoData buf;
			ListCell   *lc;

			initStringInfo(&buf);
			foreach(lc, mine)
				appendStringInfo(&buf, "%s%s", buf.len > 0 ? ";\n" : "",
								 (char *) lfirst(lc));
			texts[i] = buf.data;
		}
		else
			texts[i] = linitial(mine);
		/* a SELECT's parameters: one statement per server */
		Assert(state->nshared == 0 || list_length(mine) == 1);
		sf_send_query(conns[i], texts[i], state->nshared,
					  (const char *const *) state->shared_values);
		sent[i] = conns[i];
	}

	/*
	 * Read every worker's (first) result as its data arrives: reading one
	 * whole result after the other would leave the other workers blocked on
	 * full socket buffers meanwhile.  Errors are reported below, in server
	 * order.
	 */
	if (n > 1)
		sf_wait_results(sent, n);
	for (i = 0; i < n; i++)
	{
		List	   *mine = list_nth(stmts, i);
		List	   *results;
		volatile int handed;

		if (list_length(mine) == 1)
		{
			router_take_result(state, conns[i],
							   sf_get_result(conns[i], texts[i]), texts[i]);
			continue;
		}
		results = sf_get_all_results(conns[i], texts[i]);
		handed = 0;
		PG_TRY();
		{
			/* one result per statement run, up to the first failure */
			if (list_length(results) > list_length(mine))
				elog(ERROR, "server \"%s\" returned %d results for %d statements",
					 sf_conn_server_name(conns[i]),
					 list_length(results), list_length(mine));
			while (handed < list_length(results))
			{
				int			k = handed++;

				router_take_result(state, conns[i], list_nth(results, k),
								   list_nth(mine, k));
			}
			if (list_length(results) < list_length(mine))
				elog(ERROR, "server \"%s\" returned %d results for %d statements",
					 sf_conn_server_name(conns[i]),
					 list_length(results), list_length(mine));
		}
		PG_CATCH();
		{
			int			j;

			for (j = handed; j < list_length(results); j++)
				PQclear(list_nth(results, j));
			PG_RE_THROW();
		}
		PG_END_TRY();
		list_free(results);
	}
	if (state->same_key_before != NULL)
		router_check_second_update(state, servers);
	if (state->return_order != NIL)
		router_order_returning(state, servers);
	state->executed = true;
	state->current = 0;
	state->next = 0;
}

/*
 * The index in state->results of each task's result: the results are
 * stored server by server (servers: as router_server_statements lists
 * them), each server's tasks in task order.
 */
static int *
router_task_results(SfRouterScanState *state, List *servers)
{
	int			nservers = list_length(servers);
	int		   *first = palloc0(sizeof(int) * (nservers + 1));
	int		   *seen = palloc0(sizeof(int) * nservers);
	int		   *result_of = palloc(sizeof(int) * (list_length(state->tasks) + 1));
	ListCell   *lc;
	int			i;

	foreach(lc, state->tasks)
		first[list_index_oid(servers, (Oid) intVal(linitial((List *) lfirst(lc)))) + 1]++;
	for (i = 1; i <= nservers; i++)
		first[i] += first[i - 1];
	foreach(lc, state->tasks)
	{
		int			pos = list_index_oid(servers,
										 (Oid) intVal(linitial((List *) lfirst(lc))));

		result_of[foreach_current_index(lc)] = first[pos] + seen[pos]++;
	}
	return result_of;
}

/*
 * The RETURNING rows of several tasks in the order SfRouterReturnOrder
 * gives (the VALUES order of a multi-shard INSERT): state->emit.
 */
static void
router_order_returning(SfRouterScanState *state, List *servers)
{
	int		   *result_of = router_task_results(state, servers);
	int			total = 0;
	int			i;

	for (i = 0; i < state->nresults; i++)
		if (PQresultStatus(state->results[i]) == PGRES_TUPLES_OK)
			total += PQntuples(state->results[i]);
	state->emit = palloc(sizeof(int) * 2 * (total + 1));
	state->nemit = 0;
	for (i = 0; i + 1 < list_length(state->return_order); i += 2)
	{
		int			t = list_nth_int(state->return_order, i);
		int			row = list_nth_int(state->return_order, i + 1);
		int			r = result_of[t];
		PGresult   *res = state->results[r];
		int			nrows = PQresultStatus(res) == PGRES_TUPLES_OK ?
			PQntuples(res) : 0;
		int			k;

		if (row >= nrows || state->nemit + (row < 0 ? nrows : 1) > total)
			elog(ERROR, "a shard statement of table \"%s\" returned %d RETURNING rows, fewer than expected",
				 get_rel_name(state->relid), nrows);
		for (k = (row < 0 ? 0 : row); k < (row < 0 ? nrows : row + 1); k++)
		{
			state->emit[2 * state->nemit] = r;
			state->emit[2 * state->nemit + 1] = k;
			state->nemit++;
		}
	}
}

/* context of values_row_mutator */
typedef struct ValuesRowContext
{
	Index		values_rti;		/* the VALUES RTE */
	List	   *row;			/* one of its rows */
} ValuesRowContext;

/* columns of the VALUES RTE replaced by the items of one of its rows */
static Node *
values_row_mutator(Node *node, ValuesRowContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varno == ctx->values_rti &&
		((Var *) node)->varlevelsup == 0)
		return copyObject(list_nth(ctx->row, ((Var *) node)->varattno - 1));
	return expression_tree_mutator(node, values_row_mutator, ctx);
}

/* Evaluate an expression without columns once, its value copied here. */
static Datum
router_eval_once(SfRouterScanState *state, Expr *expr, bool *isnull)
{
	ExprState  *es = ExecInitExpr(expr, &state->css.ss.ps);
	Datum		value = ExecEvalExprSwitchContext(es,
												  state->css.ss.ps.ps_ExprContext,
												  isnull);
	int16		typlen;
	bool		typbyval;

	if (*isnull)
		return (Datum) 0;
	get_typlenbyval(exprType((Node *) expr), &typlen, &typbyval);
	return datumCopy(value, typbyval, typlen);
}

/*
 * By row with DO UPDATE ... WHERE: for each row, the last earlier row of
 * the same shard whose conflict target values are equal (compared as the
 * unique index does, SfValuesArbiters; NULL equals nothing), or -1.
 */
static void
router_find_same_keys(SfRouterScanState *state, List *rows,
					  const int *row_shard)
{
	int			nrows = list_length(rows);
	int			narb = list_length(state->values_arbiters);
	Datum	   *values = palloc(sizeof(Datum) * (nrows * narb + 1));
	bool	   *nulls = palloc(sizeof(bool) * (nrows * narb + 1));
	FmgrInfo   *eqfns = palloc(sizeof(FmgrInfo) * (narb + 1));
	Oid		   *colls = palloc(sizeof(Oid) * (narb + 1));
	ListCell   *lc;
	ListCell   *la;
	int			j;
	int			k;

	foreach(la, state->values_arbiters)
	{
		List	   *arb = lfirst(la);
		int			a = foreach_current_index(la);

		fmgr_info((Oid) intVal(lsecond(arb)), &eqfns[a]);
		colls[a] = (Oid) intVal(lthird(arb));
		foreach(lc, rows)
		{
			ValuesRowContext vctx;
			Expr	   *expr;

			vctx.values_rti = state->values_rti;
			vctx.row = lfirst(lc);
			expr = (Expr *) values_row_mutator(linitial(arb), &vctx);
			k = foreach_current_index(lc);
			values[k * narb + a] = router_eval_once(state, expr,
													&nulls[k * narb + a]);
		}
	}

	state->same_key_before = palloc(sizeof(int) * (nrows + 1));
	for (k = 0; k < nrows; k++)
	{
		state->same_key_before[k] = -1;
		for (j = k - 1; j >= 0 && state->same_key_before[k] < 0; j--)
		{
			bool		same = row_shard[j] == row_shard[k];
			int			a;

			for (a = 0; same && a < narb; a++)
				same = !nulls[k * narb + a] && !nulls[j * narb + a] &&
					DatumGetBool(FunctionCall2Coll(&eqfns[a], colls[a],
												   values[k * narb + a],
												   values[j * narb + a]));
			if (same)
				state->same_key_before[k] = j;
		}
	}
}

/*
 * A multi-row INSERT ... VALUES ... ON CONFLICT planned by
 * insert_values.c: evaluate each row's key, group the rows by the shard
 * holding it, make the statements (the same INSERT with one shard's rows,
 * shards in ascending order, or with one row each, in VALUES order) with
 * the Params as literals, and the order of the RETURNING rows (the VALUES
 * order, as SfRouterReturnOrder).  The scan is a multi-shard one then, or,
 * when every row goes to one shard, a router scan of that shard.
 */
static void
router_group_values(SfRouterScanState *state, EState *estate)
{
	Query	   *q = state->query;
	RangeTblEntry *values_rte = rt_fetch(state->values_rti, q->rtable);
	const SfTable *table = sf_lookup_table(rt_fetch(q->resultRelation,
													q->rtable)->relid);
	List	   *all_rows = values_rte->values_lists;
	int			nrows = list_length(all_rows);
	int		   *row_shard = palloc(sizeof(int) * (nrows + 1));
	List	  **rows = palloc0(sizeof(List *) * state->shardcount);
	int		   *task_of = palloc0(sizeof(int) * state->shardcount);
	int		   *seen = palloc0(sizeof(int) * state->shardcount);
	List	   *shards = NIL;
	List	   *groups = NIL;
	List	   *order = NIL;
	ListCell   *lc;
	int			i;

	foreach(lc, all_rows)
	{
		List	   *row = lfirst(lc);
		bool		isnull;
		Datum		value = router_eval_once(state,
											 list_nth(row, state->values_col - 1),
											 &isnull);
		int			index = sf_hash_remainder(state->hashfn, state->collation,
											  value, isnull,
											  state->shardcount);

		/* split shards hold several indexes: one statement per shard */
		if (table != NULL && table->shardcount == state->shardcount)
			index = sf_shard_index_owner(table, index);
		if (rows[index] == NIL)
			shards = lappend_int(shards, index);
		rows[index] = lappend(rows[index], row);
		row_shard[foreach_current_index(lc)] = index;
	}
	list_sort(shards, list_int_cmp);

	/*
	 * All rows on one shard: the statement as it is, as the router sends it
	 * (kept per plan and shard, through the worker's prepared statements);
	 * its RETURNING rows come in VALUES order and the worker raises its
	 * errors as one statement does.
	 */
	if (list_length(shards) == 1)
	{
		state->shardindex = linitial_int(shards);
		state->strategy = SF_STRATEGY_ROUTER;
		return;
	}

	if (state->values_by_row)
	{
		for (i = 0; i < nrows; i++)
		{
			groups = lappend(groups,
							 list_make2(makeInteger(row_shard[i]),
										list_make1(list_nth(all_rows, i))));
			if (q->returningList != NIL)
				order = lappend_int(lappend_int(order, i), -1);
		}
		if (state->values_arbiters != NIL)
			router_find_same_keys(state, all_rows, row_shard);
	}
	else
	{
		foreach(lc, shards)
		{
			task_of[lfirst_int(lc)] = foreach_current_index(lc);
			groups = lappend(groups,
							 list_make2(makeInteger(lfirst_int(lc)),
										rows[lfirst_int(lc)]));
		}
		/* each row: (its shard's task, its place in the task's rows) */
		if (q->returningList != NIL)
			for (i = 0; i < nrows; i++)
				order = lappend_int(lappend_int(order, task_of[row_shard[i]]),
									seen[row_shard[i]]++);
	}

	/* the plan's statement with each group's rows, restored afterwards */
	PG_TRY();
	{
		foreach(lc, groups)
		{
			List	   *group = lfirst(lc);
			Oid			server;
			char	   *sql;

			values_rte->values_lists = lsecond(group);
			sql = sf_shard_query_sql(q, intVal(linitial(group)),
									 state->params, &server,
									 false);
			router_add_task(state, server, sql);
		}
	}
	PG_FINALLY();
	{
		values_rte->values_lists = all_rows;
	}
	PG_END_TRY();
	state->shards = shards;
	state->return_order = order;
	state->strategy = SF_STRATEGY_MULTI_SHARD;
}

/*
 * By row with DO UPDATE ... WHERE: one statement would have failed where
 * statements of their own did not, when a row's conflicting row was
 * inserted or updated by an earlier row of the statement (a row with the
 * same conflict target values that returned a row: RETURNING returns
 * exactly the rows inserted or updated).  Raise PostgreSQL's error then;
 * the (sub)transaction's abort undoes the rows on every worker.
 */
static void
router_check_second_update(SfRouterScanState *state, List *servers)
{
	int		   *result_of = router_task_results(state, servers);
	int			ntasks = list_length(state->tasks);
	int			k;

	for (k = 0; k < ntasks; k++)
	{
		int			j;

		for (j = state->same_key_before[k]; j >= 0;
			 j = state->same_key_before[j])
		{
			PGresult   *res = state->results[result_of[j]];

			if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
				ereport(ERROR,
						(errcode(ERRCODE_CARDINALITY_VIOLATION),
						 errmsg("%s command cannot affect row a second time",
								"ON CONFLICT DO UPDATE"),
						 errhint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")));
		}
	}
}

/*
 * Streaming: the next row (a one-row result the caller clears), rows read
 * ahead first, or NULL when every worker's rows were read.  A worker's
 * error is an ERROR.
 */
static PGresult *
router_stream_row(SfRouterScanState *state)
{
	PGresult   *res;
	int			which;

	res = sf_stream_next(state->stream_conns, state->stream_sqls,
						 state->nstreams, state->stream_done, &which,
						 &state->stream_next);
	if (res == NULL)
		return NULL;
	if (state->stream_done[which])
		sf_conn_clear_pending(state->stream_conns[which],
							  &state->streams[which]);
	if (PQresultStatus(res) != PGRES_SINGLE_TUPLE)
		sf_report_error(ERROR, res, state->stream_conns[which], true,
						state->streams[which].sql);
	return res;
}

/*
 * Value of column col of a binary row (router_begin chose binary_kind for
 * every column).  The worker's column must have the type expected here
 * (built-in types have the same OID everywhere; text types may stand for
 * each other): a binary form is never read as another type's.
 */
static Datum
router_binary_value(SfRouterScanState *state, PGresult *res, int row,
					int col, TupleDesc tupdesc)
{
	Oid			expected = TupleDescAttr(tupdesc, col)->atttypid;
	Oid			got = PQftype(res, col);
	char		kind = state->binkinds[col];
	char	   *data = PQgetvalue(res, row, col);
	int			len = PQgetlength(res, row, col);
	StringInfoData buf;
	Datum		value;

	if (got != expected && !(kind == 't' && binary_kind(got) == 't'))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("worker returned type %s for column %d, expected %s",
						format_type_be(got), col + 1,
						format_type_be(expected)),
				 errhint("Set shardfdw.binary_results to off to read the row as text.")));
	switch (kind)
	{
		case 'b':
			/* libpq ends every value with a NUL, as receive functions expect */
			buf.data = data;
			buf.len = len;
			buf.maxlen = len + 1;
			buf.cursor = 0;
			value = ReceiveFunctionCall(&state->recvfuncs[col], &buf,
										state->typioparams[col],
										state->typmods[col]);
			if (buf.cursor != buf.len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("incorrect binary data format in column %d of a worker's row",
								col + 1)));
			return value;
		case 'j':
			if (len < 1 || data[0] != 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("unsupported jsonb version in column %d of a worker's row",
								col + 1)));
			data++;
			/* FALLTHROUGH */
		default:
			return InputFunctionCall(&state->infuncs[col], data,
									 state->typioparams[col],
									 state->typmods[col]);
	}
}

/* Store row of res in the slot, its values converted in context cxt. */
static void
router_store_row(SfRouterScanState *state, TupleTableSlot *slot,
				 PGresult *res, int row, MemoryContext cxt)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	MemoryContext old;
	int			i;

	if (PQnfields(res) != natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("worker returned %d columns, expected %d",
						PQnfields(res), natts)));
	ExecClearTuple(slot);
	old = MemoryContextSwitchTo(cxt);

	for (i = 0; i < natts; i++)
	{
		if (PQgetisnull(res, row, i))
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
		else if (PQfformat(res, i) == 1)
		{
			slot->tts_values[i] = router_binary_value(state, res, row, i,
													  slot->tts_tupleDescriptor);
			slot->tts_isnull[i] = false;
		}
		else
		{
			slot->tts_values[i] =
				InputFunctionCall(&state->infuncs[i],
								  PQgetvalue(res, row, i),
								  state->typioparams[i], state->typmods[i]);
			slot->tts_isnull[i] = false;
		}
	}
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
}

static TupleTableSlot *
router_next(ScanState *ss)
{
	SfRouterScanState *state = (SfRouterScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	PGresult   *res;
	PGresult   *volatile row;

	if (!state->executed)
		router_run(state);

	ExecClearTuple(slot);
	MemoryContextReset(state->row_cxt);
	if (state->stream)
	{
		/* rows read ahead first */
		if (state->nahead > 0)
		{
			if (!tuplestore_gettupleslot(state->ahead, true, false,
										 state->ahead_slot))
				elog(ERROR, "rows read ahead are missing");
			state->nahead--;
			ExecCopySlot(slot, state->ahead_slot);
			return slot;
		}
		row = NULL;
		PG_TRY();
		{
			row = router_stream_row(state);
			if (row != NULL)
				router_store_row(state, slot, row, 0, state->row_cxt);
		}
		PG_CATCH();
		{
			/*
			 * A failed scan is not read again (its portal may stay, failed,
			 * until the end of the transaction, its resources released):
			 * the other streams are left to the connection layer.
			 */
			if (row != NULL)
				PQclear(row);
			router_abandon_streams(state);
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (row != NULL)
			PQclear(row);
		return slot;
	}
	if (state->emit != NULL)
	{
		/* RETURNING rows in the statement's order (SfRouterReturnOrder) */
		if (state->next >= state->nemit)
			return slot;
		res = state->results[state->emit[2 * state->next]];
		router_store_row(state, slot, res, state->emit[2 * state->next + 1],
						 state->row_cxt);
		state->next++;
		return slot;
	}
	for (;;)
	{
		if (state->current >= state->nresults)
			return slot;
		res = state->results[state->current];
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
			state->next < PQntuples(res))
			break;
		state->current++;
		state->next = 0;
	}
	router_store_row(state, slot, res, state->next, state->row_cxt);
	state->next++;
	return slot;
}

static bool
router_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
router_exec(CustomScanState *node)
{
	TupleTableSlot *slot = ExecScan(&node->ss, router_next, router_recheck);

	/* tests: an error of the node above, after the scan returned a row */
	if (shardfdw_test_fault_point != NULL &&
		shardfdw_test_fault_point[0] != '\0' && !TupIsNull(slot))
		sf_fault_point("router-row", true);
	return slot;
}

static void
router_end(CustomScanState *node)
{
	router_end_streams((SfRouterScanState *) node);
	router_free_result(node);
}

/*
 * Rescan: the rows kept are returned again; streamed rows are not kept, so
 * a streaming scan ends its streams and runs the workers' statement again
 * (in the same remote transactions; streaming is only chosen when the
 * executor does not announce rescans, EXEC_FLAG_REWIND).
 */
static void
router_rescan(CustomScanState *node)
{
	SfRouterScanState *state = (SfRouterScanState *) node;

	if (state->stream && state->executed)
	{
		router_end_streams(state);
		state->nstreams = 0;
		state->executed = false;
	}
	state->current = 0;
	state->next = 0;
}

/* Number of shards of the statement's tables (fewer than indexes after splits) */
static int
router_shard_count(SfRouterScanState *state)
{
	const SfTable *table = sf_lookup_table(state->relid);

	return table != NULL && table->index_owner != NULL ?
		table->nshards : state->shardcount;
}

static void
router_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	SfRouterScanState *state = (SfRouterScanState *) node;
	ForeignServer *server = GetForeignServer(state->serverid);

	if (state->strategy != SF_STRATEGY_ROUTER)
	{
		ExplainPropertyText("Strategy",
							state->strategy == SF_STRATEGY_TWO_PHASE ?
							"two-phase aggregate" : "multi-shard", es);
		int			ntasks = list_length(state->shards);

		ExplainPropertyInteger("Task Count", NULL, ntasks, es);
		ExplainPropertyInteger("Shards Pruned", NULL,
							   router_shard_count(state) - ntasks, es);
		ExplainPropertyText("Tasks Shown",
							psprintf("One of %d", ntasks), es);
	}
	else
	{
		ExplainPropertyText("Strategy", "router", es);
		ExplainPropertyInteger("Task Count", NULL, 1, es);
		ExplainPropertyInteger("Shards Pruned", NULL,
							   router_shard_count(state) - 1, es);
	}
	ExplainPropertyText("Node", server->servername, es);
	if (state->unrun_params != NULL)
		ExplainPropertyText("Coordinator Subqueries",
							"not run without ANALYZE (their values are NULL in the worker SQL)",
							es);
	{
		const char *sql = state->sql ? state->sql : state->remote_sql;

		ExplainPropertyText("Worker SQL", sql + strspn(sql, " "), es);
	}
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
