/*-------------------------------------------------------------------------
 *
 * single_shard.c
 *	  The router strategy: a statement pinned to one shard runs whole on it.
 *
 * The analysis (analysis.c) collected the pinning values of the statement:
 * constants that all hash to one shard fix the shard at planning time (and
 * the SQL is deparsed now when there are no parameters); one expression of
 * external Params is hashed by the executor when the scan starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "connection.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "planner.h"
#include "planner_internal.h"

/*
 * May the values a one-row INSERT computes on the coordinator (preeval)
 * become parameters of the worker statement made at planning?  Their types
 * must be built in (and have no typmod: a parameter has none).
 */
static bool
preeval_as_params(List *preeval)
{
	ListCell   *lc;

	foreach(lc, preeval)
	{
		Node	   *expr = (Node *) ((TargetEntry *) lfirst(lc))->expr;

		if (exprType(expr) >= FirstGenbkiObjectId || exprTypmod(expr) != -1)
			return false;
	}
	return true;
}

/*
 * The worker SQL of parse for shard index shardindex, its constants and
 * the values of preeval (Params 1..k, computed when the scan starts) as
 * parameters: see sf_shard_query_sql_params.  NULL if the shard cannot be
 * used.
 */
static char *
params_sql(Query *parse, List *preeval, int shardindex, Oid *serverid,
		   int *nparams, Oid **types, char ***values, int **origin)
{
	Query	   *q = parse;
	ListCell   *lc;
	int			k = list_length(preeval);

	/* the values computed when the scan starts: Params 1..k */
	if (k > 0)
	{
		/* the deparser copies the whole statement: copy what changes */
		q = palloc(sizeof(Query));
		memcpy(q, parse, sizeof(Query));
		q->targetList = list_copy(parse->targetList);
		foreach(lc, q->targetList)
		{
			TargetEntry *tle = lfirst(lc);
			ListCell   *lc2;

			foreach(lc2, preeval)
			{
				TargetEntry *pe = lfirst(lc2);
				Param	   *p;

				if (pe->resno != tle->resno)
					continue;
				p = makeNode(Param);
				p->paramkind = PARAM_EXTERN;
				p->paramid = foreach_current_index(lc2) + 1;
				p->paramtype = exprType((Node *) pe->expr);
				p->paramtypmod = -1;
				p->paramcollid = exprCollation((Node *) pe->expr);
				p->location = -1;
				tle = flatCopyTargetEntry(tle);
				tle->expr = (Expr *) p;
				lfirst(lc) = tle;
			}
		}
	}
	return sf_shard_query_sql_params(q, shardindex, NULL, true, true,
									 serverid, nparams, types, values, k,
									 k > 0 ? origin : NULL);
}

/*
 * shardfdw.verify_shape_cache: the worker statement from the cache must
 * be the one the deparser makes.
 */
static void
verify_cached(const char *sql, Oid server, int n, const Oid *types,
			  char *const *values, const int *origin,
			  const char *want_sql, Oid want_server, int want_n,
			  const Oid *want_types, char *const *want_values,
			  const int *want_origin)
{
	bool		same = strcmp(sql, want_sql) == 0 && server == want_server &&
		n == want_n;
	int			i;

	for (i = 0; same && i < n; i++)
		same = types[i] == want_types[i] &&
			(origin ? origin[i] : 0) == (want_origin ? want_origin[i] : 0) &&
			(values[i] == NULL) == (want_values[i] == NULL) &&
			(values[i] == NULL || strcmp(values[i], want_values[i]) == 0);
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("cached worker statement of a router statement differs from the deparsed one"),
				 errdetail("Cached: %s (%d parameters); deparsed: %s (%d parameters).",
						   sql, n, want_sql, want_n)));
}

/*
 * The router plan of parse, whose analysis (ctx) found every distributed
 * table pinned (ctx->pins not empty); preeval: INSERT values computed on the
 * coordinator (sf_prepare_insert_values).  Returns NULL to decline: the
 * constants hash to several shards, no hash function for a pin's type, an
 * output column without an input function, or a shard that cannot be used.
 * Several pins of a multi-row INSERT ... VALUES ... ON CONFLICT with
 * Params give the plan of insert_values.c (rows grouped by shard when the
 * scan starts; one shard or several).
 */
PlannedStmt *
sf_plan_single_shard(Query *parse, RouterContext *ctx, List *preeval)
{
	List	   *scan_tlist;
	List	   *colnames = NIL;
	ListCell   *lc;
	int			shardindex = -1;
	Oid			serverid = InvalidOid;
	Node	   *pin;
	char	   *sql = "";
	Oid			pinhashfn = InvalidOid;
	bool		ok;
	char	   *remote_sql = NULL;
	List	   *remote_params = NIL;
	List	   *private;

	if (list_length(ctx->pins) != 1)
	{
		/* several constants may still agree on one shard */
		foreach(lc, ctx->pins)
		{
			Const	   *c = lfirst(lc);
			int			idx;

			if (!IsA(c, Const) || (idx = sf_const_shard_index(ctx, c)) < 0 ||
				(shardindex >= 0 && idx != shardindex))
			{
				/*
				 * INSERT ... VALUES ... ON CONFLICT whose rows the
				 * executor groups by shard (Params), or NULL
				 */
				return sf_plan_insert_values(parse, ctx, preeval);
			}
			shardindex = idx;
		}
		pin = NULL;
	}
	else
	{
		pin = linitial(ctx->pins);
		if (IsA(pin, Const))
		{
			shardindex = sf_const_shard_index(ctx, (Const *) pin);
			if (shardindex < 0)
				return NULL;
			pin = NULL;
		}
		else
		{
			/* the executor hashes the pin's value with this function */
			pinhashfn = sf_pin_hash_function(ctx, exprType(pin));
			if (!OidIsValid(pinhashfn))
				return NULL;
		}
	}

	scan_tlist = sf_scan_output_columns(parse, &colnames, &ok);
	if (!ok)
		return NULL;

	/*
	 * With the shard known now, deparse once (and check that the shard can
	 * be used); with Params, the executor deparses with their values.
	 * Without, the constants may become parameters of the statement sent
	 * (remote_sql, remote_params), and the SQL with literals is only made
	 * for EXPLAIN.
	 */
	if (shardindex >= 0)
	{
		if (!ctx->has_params && preeval_as_params(preeval) &&
			shardfdw_parameterize_literals &&
			shardfdw_max_cached_remote_statements > 0)
		{
			int			nparams;
			Oid		   *types;
			char	  **values;
			int		   *origin = NULL;
			void	   *shape;
			int			i;

			remote_sql = sf_shape_cache_lookup(parse, preeval, shardindex,
												&shape, &serverid, &nparams,
												&types, &values, &origin);
			if (remote_sql != NULL)
				ereport(DEBUG1,
						(errmsg_internal("worker statement from the shape cache")));
			if (remote_sql == NULL || shardfdw_verify_shape_cache)
			{
				char	   *cached = remote_sql;
				Oid			cached_server = serverid;
				int			cached_n = nparams;
				Oid		   *cached_types = types;
				char	  **cached_values = values;
				int		   *cached_origin = origin;

				origin = NULL;
				remote_sql = params_sql(parse, preeval, shardindex,
										&serverid, &nparams, &types, &values,
										&origin);
				if (remote_sql == NULL)
					return NULL;
				if (cached != NULL)
					verify_cached(cached, cached_server, cached_n,
								  cached_types, cached_values, cached_origin,
								  remote_sql, serverid, nparams, types,
								  values, origin);
				else if (shape != NULL &&
						 sf_shape_cache_agrees(shape, nparams, types, values,
												origin))
					sf_shape_cache_remember(shape, remote_sql, serverid);
			}
			for (i = 0; i < nparams; i++)
			{
				Node	   *type = (Node *) makeInteger((int) types[i]);

				if (origin != NULL && origin[i] > 0)
					remote_params = lappend(remote_params,
											list_make2(type,
													   makeInteger(origin[i])));
				else if (values[i] == NULL)
					remote_params = lappend(remote_params, list_make1(type));
				else
					remote_params = lappend(remote_params,
											list_make2(type,
													   makeString(values[i])));
			}
		}
		else
		{
			sql = sf_shard_query_sql(parse, shardindex, NULL, &serverid, true);
			if (sql == NULL)
				return NULL;
			if (ctx->has_params || preeval != NIL)
				sql = "";
		}
	}

	private = sf_make_private(parse, sql, shardindex, serverid, pin,
							  pinhashfn, ctx, SF_STRATEGY_ROUTER, NIL,
							  preeval, NIL);
	if (remote_sql != NULL)
	{
		lfirst(list_nth_cell(private, SfRouterRemoteSql)) =
			makeString(remote_sql);
		lfirst(list_nth_cell(private, SfRouterRemoteParams)) = remote_params;
	}
	return sf_make_distributed_stmt(parse, ctx, scan_tlist, colnames,
									private, NULL, NULL);
}

