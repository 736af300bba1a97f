/*-------------------------------------------------------------------------
 *
 * shard_query.c
 *	  Build the SQL a worker runs for one shard from the statement's Query.
 *
 * The SQL comes from PostgreSQL's own deparser: pg_get_querydef(), exported
 * by ruleutils.h since PostgreSQL 15 (get_query_def itself is static).  It
 * prints names qualified exactly when they are not visible in the current
 * search_path, so we deparse with search_path = pg_catalog, the setting of
 * every remote session (sf_set_transmission_modes), together with the
 * DateStyle / IntervalStyle / extra_float_digits used for literals.
 *
 * Before deparsing, a copy of the Query is rewritten: every distributed
 * table (a hash-partitioned parent) is replaced by its shard, the foreign
 * table that has the same qualified name as the real table on the worker,
 * keeping the parent's name as alias; external Params are replaced by
 * Consts holding their current values (the worker gets literals with
 * explicit types, so it never has to infer a parameter type).  Reference
 * tables keep their name, which is also the name of the workers' replicas.
 *
 * The deparser names columns of a relation by attribute number from the
 * relation it is given, so a shard is only usable when its attributes match
 * the parent's one for one (checked here).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "connection.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "planner.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

typedef struct ShardRewriteContext
{
	int			shardindex;		/* the shard to use */
	Oid			serverid;		/* its server, once known */
	bool		for_plan;		/* failures return NULL instead of ERROR */
	bool		failed;
	ParamListInfo params;		/* values of external Params, or NULL */
} ShardRewriteContext;

static bool rewrite_rtes_walker(Node *node, ShardRewriteContext *ctx);
static Node *replace_params_mutator(Node *node, ShardRewriteContext *ctx);

/*
 * Do a shard's attributes match its parent's (number, names, dropped)?
 */
static bool
shard_matches_parent(Oid parentid, Oid shardid)
{
	Relation	parent = table_open(parentid, NoLock);
	Relation	shard = table_open(shardid, AccessShareLock);
	TupleDesc	pd = RelationGetDescr(parent);
	TupleDesc	sd = RelationGetDescr(shard);
	bool		ok = (pd->natts == sd->natts);
	int			i;

	for (i = 0; ok && i < pd->natts; i++)
	{
		Form_pg_attribute pa = TupleDescAttr(pd, i);
		Form_pg_attribute sa = TupleDescAttr(sd, i);

		if (pa->attisdropped != sa->attisdropped ||
			(!pa->attisdropped &&
			 strcmp(NameStr(pa->attname), NameStr(sa->attname)) != 0))
			ok = false;
	}
	table_close(shard, NoLock);
	table_close(parent, NoLock);
	return ok;
}

/* Replace the distributed tables of every query level by their shard. */
static bool
rewrite_rtes_walker(Node *node, ShardRewriteContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);
			const SfTable *table;
			const SfShard *shard = NULL;
			int			owner;
			int			i;

			if (rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_VIEW)
				continue;
			table = sf_lookup_table(rte->relid);
			if (table == NULL || table->kind != SF_KIND_HASH)
				continue;
			owner = sf_shard_index_owner(table, ctx->shardindex);
			for (i = 0; i < table->nplacements; i++)
				if (table->placements[i].shardindex == owner)
					shard = &table->placements[i];
			if (shard == NULL || !OidIsValid(shard->shardrelid) ||
				(OidIsValid(ctx->serverid) && shard->serverid != ctx->serverid) ||
				!shard_matches_parent(rte->relid, shard->shardrelid))
			{
				if (ctx->for_plan)
				{
					ctx->failed = true;
					return true;
				}
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("shard %d of table \"%s\" cannot run this statement",
								ctx->shardindex, get_rel_name(rte->relid)),
						 errdetail("The shard is missing, lives on another server than the shards of the tables co-located with it, or its columns differ from the table's."),
						 errhint("Set shardfdw.enable_router to off to run the statement through the foreign tables.")));
			}
			ctx->serverid = shard->serverid;
			if (rte->alias == NULL)
				rte->alias = makeAlias(get_rel_name(rte->relid), NIL);
			rte->relid = shard->shardrelid;
			rte->relkind = RELKIND_FOREIGN_TABLE;
			rte->inh = true;
		}
		return query_tree_walker(q, rewrite_rtes_walker, ctx, 0);
	}
	return expression_tree_walker(node, rewrite_rtes_walker, ctx);
}

/* Replace external Params by Consts with their values. */
static Node *
replace_params_mutator(Node *node, ShardRewriteContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node,
										   replace_params_mutator, ctx, 0);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) node;
		ParamListInfo params = ctx->params;
		ParamExternData *prm = NULL;
		ParamExternData workspace;
		int16		typlen;
		bool		typbyval;

		if (params != NULL && p->paramid > 0 && p->paramid <= params->numParams)
		{
			if (params->paramFetch != NULL)
				prm = params->paramFetch(params, p->paramid, false, &workspace);
			else
				prm = &params->params[p->paramid - 1];
		}
		if (prm == NULL || !OidIsValid(prm->ptype) || prm->ptype != p->paramtype)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_PARAMETER),
					 errmsg("no value found for parameter %d", p->paramid)));
		get_typlenbyval(p->paramtype, &typlen, &typbyval);
		return (Node *) makeConst(p->paramtype, p->paramtypmod, p->paramcollid,
								  typlen,
								  prm->isnull ? (Datum) 0 :
								  datumCopy(prm->value, typbyval, typlen),
								  prm->isnull, typbyval);
	}
	return expression_tree_mutator(node, replace_params_mutator, ctx);
}

/*
 * The SQL text of query for shard index shardindex (for the shard holding
 * that index, see metadata.h), with the values of
 * params (may be NULL when the query has no Params) as literals.  Sets
 * *serverid to the server holding the shard.  With for_plan, returns NULL
 * when the shard cannot be used (the planner then declines); otherwise
 * that is an ERROR.
 */
char *
sf_shard_query_sql(Query *query, int shardindex, ParamListInfo params,
				   Oid *serverid, bool for_plan)
{
	ShardRewriteContext ctx;
	Query	   *q = copyObject(query);
	char	   *sql;
	int			nestlevel;

	ctx.shardindex = shardindex;
	ctx.serverid = InvalidOid;
	ctx.for_plan = for_plan;
	ctx.failed = false;
	ctx.params = params;

	(void) rewrite_rtes_walker((Node *) q, &ctx);
	if (ctx.failed || !OidIsValid(ctx.serverid))
	{
		if (for_plan)
			return NULL;
		elog(ERROR, "no shard found for shard index %d", shardindex);
	}
	if (!for_plan)
		q = (Query *) replace_params_mutator((Node *) q, &ctx);

	nestlevel = sf_set_transmission_modes();
	PG_TRY();
	{
		sql = pg_get_querydef(q, false);
	}
	PG_FINALLY();
	{
		sf_reset_transmission_modes(nestlevel);
	}
	PG_END_TRY();

	*serverid = ctx.serverid;
	return sql;
}
