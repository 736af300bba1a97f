/*-------------------------------------------------------------------------
 *
 * rebalance_plan.c
 *	  The rebalance plan: which shard groups move where
 *	  (get_rebalance_plan, get_rebalance_table_shards_plan), and the
 *	  should_have_shards property of nodes (shardfdw_set_node_property).
 *
 * The plan is greedy and deterministic.  Each co-location group is
 * balanced on its own (a group's shard i must stay with the shard i of the
 * other tables of the group; groups of different co-location groups are
 * independent), in co-location id order:
 *
 *	1. Drain: every shard group on an active node with should_have_shards =
 *	   false moves to the least loaded node that should have shards.
 *	2. Balance (unless drain_only): repeatedly take the least loaded node T
 *	   and, from the most loaded node S downwards, the group of S whose move
 *	   to T leaves the two closest together; a move is made only if it
 *	   strictly narrows the gap (cost < load(S) - load(T)), and balancing
 *	   stops when the gap is at most threshold x average load.  By shard
 *	   count every group costs 1, so balancing ends when counts differ by at
 *	   most 1; by disk size a group costs its bytes on the worker plus
 *	   shardfdw.rebalance_base_cost.
 *
 * Ties are broken by the node's number of shard groups over all
 * co-location groups (so that several small groups spread over the
 * nodes), then by node id; among a node's groups, by co-location id and
 * shard index.  A group moves at most once; groups holding an excluded
 * shard, or spread over several nodes (an interrupted operation), stay.
 * Nodes that are not active, or whose SERVER is gone, take no part.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "rebalance.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(shardfdw_get_rebalance_plan);
PG_FUNCTION_INFO_V1(shardfdw_set_node_property);

/* A node, as the planner sees it */
typedef struct RbNode
{
	int32		nodeid;
	char	   *name;
	Oid			serverid;
	bool		eligible;		/* active, SERVER exists, should have shards */
	bool		draining;		/* active, SERVER exists, should not */
	int64		load;			/* cost of its groups in the current
								 * co-location group */
	int64		global;			/* its shard groups, all co-location groups */
} RbNode;

/* A shard group, as the planner sees it */
typedef struct RbGroup
{
	int32		colocationid;
	int			shardindex;
	int			node;			/* index into the node array, -1: unknown */
	bool		pinned;			/* may not move */
	bool		moved;
	int64		bytes;
	int64		cost;
	List	   *shards;			/* of SfPlannedShard */
	List	   *shardrelids;	/* coordinator's foreign partitions (Oid) */
} RbGroup;

typedef struct RbPlanState
{
	const SfRebalanceOptions *options;
	int			nnodes;
	RbNode   *nodes;
	List	   *moves;			/* of SfPlannedMove, the result */
	int			nmoves;
} RbPlanState;

static const char *const transfer_modes[] = {"auto", "force_logical", "block_writes", NULL};

/*
 * Fill options from the SQL arguments shared by get_rebalance_plan,
 * rebalance_table_shards and rebalance_start, checking each.  relid is
 * InvalidOid for every co-location group; threshold_null selects the
 * strategy's default (0 by shard count, 0.1 by disk size).
 */
void
sf_rebalance_parse_options(SfRebalanceOptions *options,
						   Oid relid, bool threshold_null, float4 threshold,
						   int max_shard_moves,
						   Datum excluded, bool excluded_null,
						   bool drain_only, const char *strategy,
						   const char *transfer_mode)
{
	int			i;

	memset(options, 0, sizeof(*options));

	if (OidIsValid(relid))
	{
		const SfTable *table = sf_lookup_table(relid);

		if (table == NULL || table->kind != SF_KIND_HASH)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("table \"%s\" is not a distributed table",
							get_rel_name(relid) ? get_rel_name(relid) : "?"),
					 table != NULL ?
					 errdetail("Reference tables have a replica on every node and are never rebalanced.") : 0,
					 errhint("Name a distributed table (its whole co-location group is rebalanced), or pass NULL to rebalance every co-location group.")));
	}
	options->relid = relid;

	if (strcmp(strategy, "by_shard_count") == 0)
		options->strategy = SF_REBALANCE_BY_SHARD_COUNT;
	else if (strcmp(strategy, "by_disk_size") == 0)
		options->strategy = SF_REBALANCE_BY_DISK_SIZE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown rebalance strategy \"%s\"", strategy),
				 errhint("Valid strategies are by_shard_count and by_disk_size.")));

	if (threshold_null)
		options->threshold = options->strategy == SF_REBALANCE_BY_DISK_SIZE ? 0.1 : 0;
	else if (isnan(threshold) || threshold < 0 || threshold >= 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rebalance threshold must be at least 0 and less than 1"),
				 errdetail("The threshold is the tolerated gap between the most and the least loaded node, as a fraction of the average load.")));
	else
		options->threshold = threshold;

	if (max_shard_moves < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_shard_moves must not be negative")));
	options->max_shard_moves = max_shard_moves;

	if (!excluded_null)
	{
		ArrayType  *arr = DatumGetArrayTypeP(excluded);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, &nulls, &n);
		options->excluded = palloc(sizeof(int64) * Max(n, 1));
		for (i = 0; i < n; i++)
			if (!nulls[i])
				options->excluded[options->nexcluded++] = DatumGetInt64(elems[i]);
	}
	options->drain_only = drain_only;

	for (i = 0; transfer_modes[i] != NULL; i++)
		if (strcmp(transfer_mode, transfer_modes[i]) == 0)
			break;
	if (transfer_modes[i] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid shard_transfer_mode \"%s\"", transfer_mode),
				 errhint("Valid modes are auto, force_logical and block_writes.")));
	options->transfer_mode = pstrdup(transfer_mode);
	options->max_parallel_moves = 1;
}

/*
 * The options as one line of text (the args of a background rebalance
 * job), read back by sf_rebalance_options_from_string.
 */
char *
sf_rebalance_options_to_string(const SfRebalanceOptions *options)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "relid=%u threshold=%.17g max_shard_moves=%d max_parallel_moves=%d drain_only=%d strategy=%d mode=%s excluded=",
					 options->relid, options->threshold, options->max_shard_moves,
					 options->max_parallel_moves,
					 options->drain_only ? 1 : 0, (int) options->strategy,
					 options->transfer_mode);
	for (i = 0; i < options->nexcluded; i++)
		appendStringInfo(&buf, "%s" INT64_FORMAT, i > 0 ? "," : "",
						 options->excluded[i]);
	return buf.data;
}

void
sf_rebalance_options_from_string(SfRebalanceOptions *options, const char *text)
{
	char	   *copy = pstrdup(text);
	char	   *save = NULL;
	char	   *word;

	memset(options, 0, sizeof(*options));
	options->transfer_mode = "auto";
	for (word = strtok_r(copy, " ", &save); word != NULL;
		 word = strtok_r(NULL, " ", &save))
	{
		char	   *eq = strchr(word, '=');
		char	   *value;

		if (eq == NULL)
			elog(ERROR, "malformed rebalance options: %s", text);
		*eq = '\0';
		value = eq + 1;
		if (strcmp(word, "relid") == 0)
			options->relid = (Oid) strtoul(value, NULL, 10);
		else if (strcmp(word, "threshold") == 0)
			options->threshold = strtod(value, NULL);
		else if (strcmp(word, "max_shard_moves") == 0)
			options->max_shard_moves = atoi(value);
		else if (strcmp(word, "max_parallel_moves") == 0)
			options->max_parallel_moves = atoi(value);
		else if (strcmp(word, "drain_only") == 0)
			options->drain_only = atoi(value) != 0;
		else if (strcmp(word, "strategy") == 0)
			options->strategy = (SfRebalanceStrategy) atoi(value);
		else if (strcmp(word, "mode") == 0)
			options->transfer_mode = pstrdup(value);
		else if (strcmp(word, "excluded") == 0)
		{
			int			n = 1;
			char	   *p;
			char	   *save2 = NULL;

			for (p = value; *p; p++)
				if (*p == ',')
					n++;
			options->excluded = palloc(sizeof(int64) * n);
			for (p = strtok_r(value, ",", &save2); p != NULL;
				 p = strtok_r(NULL, ",", &save2))
				options->excluded[options->nexcluded++] = pg_strtoint64(p);
		}
		else
			elog(ERROR, "malformed rebalance options: %s", text);
	}
}

static bool
is_excluded(const SfRebalanceOptions *options, int64 shardid)
{
	int			i;

	for (i = 0; i < options->nexcluded; i++)
		if (options->excluded[i] == shardid)
			return true;
	return false;
}

/*
 * The bytes of the given shards on one worker (qualified names, in the
 * order given), through a short-lived connection of its own: the plan must
 * leave no remote transaction open while the moves run.
 */
static int64 *
fetch_shard_sizes(RbNode *node, List *names)
{
	int64	   *sizes = palloc0(sizeof(int64) * Max(list_length(names), 1));
	StringInfoData sql;
	ListCell   *lc;
	char	   *why = NULL;
	PGconn	   *pgconn;
	PGresult   *res;
	int			i;

	if (names == NIL)
		return sizes;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT COALESCE(pg_catalog.pg_total_relation_size(pg_catalog.to_regclass(n)), 0)"
						   " FROM pg_catalog.unnest(ARRAY[");
	foreach(lc, names)
	{
		if (lc != list_head(names))
			appendStringInfoString(&sql, ", ");
		appendStringInfoString(&sql, quote_literal_cstr(lfirst(lc)));
	}
	appendStringInfoString(&sql, "]::pg_catalog.text[]) WITH ORDINALITY AS u(n, i) ORDER BY i");

	pgconn = sf_connect_raw(node->serverid, &why);
	if (pgconn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to server \"%s\" to read its shard sizes", node->name),
				 errdetail_internal("%s", why ? why : ""),
				 errhint("The by_disk_size strategy needs every node that holds shards; use by_shard_count, or bring the node back.")));
	PG_TRY();
	{
		res = sf_raw_exec(pgconn, sql.data);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
			PQntuples(res) != list_length(names))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not read the shard sizes on server \"%s\"", node->name),
					 errdetail_internal("%s", res ? PQresultErrorMessage(res) : PQerrorMessage(pgconn))));
		for (i = 0; i < PQntuples(res); i++)
			sizes[i] = pg_strtoint64(PQgetvalue(res, i, 0));
		PQclear(res);
	}
	PG_FINALLY();
	{
		PQfinish(pgconn);
	}
	PG_END_TRY();
	return sizes;
}

/*
 * Read the nodes and the shard groups into the plan state; returns the
 * groups (RbGroup *) ordered by co-location id and shard index.
 */
static List *
load_groups(RbPlanState *ps)
{
	const SfRebalanceOptions *options = ps->options;
	List	   *nodes = sf_node_list(false);
	List	   *groups = NIL;
	RbGroup  *group = NULL;
	ListCell   *lc;
	int			i;
	int32		colocationid = 0;
	uint64		r;
	MemoryContext callercxt = CurrentMemoryContext;
	int32		lastcoloc = 0;
	int			lastindex = 0;

	ps->nnodes = list_length(nodes);
	ps->nodes = palloc0(sizeof(RbNode) * Max(ps->nnodes, 1));
	i = 0;
	foreach(lc, nodes)
	{
		SfNode	   *n = lfirst(lc);
		RbNode   *pn = &ps->nodes[i++];
		bool		usable = n->active && OidIsValid(n->serverid);

		pn->nodeid = n->nodeid;
		pn->name = n->servername;
		pn->serverid = n->serverid;
		pn->eligible = usable && n->shouldhaveshards;
		pn->draining = usable && !n->shouldhaveshards;
	}

	if (OidIsValid(options->relid))
		colocationid = sf_colocation_id(options->relid);

	SPI_connect();
	sf_spi_exec_count("SELECT t.colocationid, s.shard_index, s.shardid,"
					  " s.relid::pg_catalog.oid, s.shard_relid::pg_catalog.oid,"
					  " p.nodeid"
					  " FROM shardfdw.shard s"
					  " JOIN shardfdw.distributed_table t USING (relid)"
					  " JOIN shardfdw.placement p USING (shardid)"
					  " WHERE t.kind = 'h'"
					  " ORDER BY t.colocationid, s.shard_index, s.shardid, p.nodeid", -1);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		coloc = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		int			shardindex = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));
		int64		shardid = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
		Oid			relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 4, &isnull));
		Oid			shardrelid = DatumGetObjectId(SPI_getbinval(tuple, desc, 5, &isnull));
		int32		nodeid = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
		int			node = -1;
		MemoryContext oldcxt;
		SfPlannedShard *shard;

		for (i = 0; i < ps->nnodes; i++)
			if (ps->nodes[i].nodeid == nodeid)
				node = i;

		if (r == 0 || coloc != lastcoloc || shardindex != lastindex)
		{
			lastcoloc = coloc;
			lastindex = shardindex;
			/* every shard group counts for the tie-breaks, planned or not */
			if (node >= 0)
				ps->nodes[node].global++;
			if (colocationid != 0 && coloc != colocationid)
			{
				group = NULL;
				continue;
			}
			oldcxt = MemoryContextSwitchTo(callercxt);
			group = palloc0(sizeof(RbGroup));
			group->colocationid = coloc;
			group->shardindex = shardindex;
			group->node = node;
			groups = lappend(groups, group);
			MemoryContextSwitchTo(oldcxt);
		}
		else if (group == NULL)
			continue;			/* a shard group of another co-location group */
		else if (group->node != node)
		{
			/* placed on two nodes: leave it to whoever is handling it */
			group->pinned = true;
		}
		if (is_excluded(options, shardid))
			group->pinned = true;
		oldcxt = MemoryContextSwitchTo(callercxt);
		shard = palloc0(sizeof(SfPlannedShard));
		shard->relid = relid;
		shard->shardid = shardid;
		group->shards = lappend(group->shards, shard);
		group->shardrelids = lappend_oid(group->shardrelids, shardrelid);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();

	/* groups that cannot move */
	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);

		if (g->node < 0)
			g->pinned = true;	/* on a node that is not registered */
		else if (!ps->nodes[g->node].eligible && !ps->nodes[g->node].draining)
			g->pinned = true;	/* on an inactive node */
	}

	/* costs */
	if (options->strategy == SF_REBALANCE_BY_DISK_SIZE)
	{
		for (i = 0; i < ps->nnodes; i++)
		{
			RbNode   *pn = &ps->nodes[i];
			List	   *names = NIL;
			int64	   *sizes;
			int			k = 0;

			if (!pn->eligible && !pn->draining)
				continue;
			foreach(lc, groups)
			{
				RbGroup  *g = lfirst(lc);
				ListCell   *lc2;

				if (g->node != i)
					continue;
				foreach(lc2, g->shardrelids)
					names = lappend(names, sf_qualified_relname(lfirst_oid(lc2)));
			}
			sizes = fetch_shard_sizes(pn, names);
			foreach(lc, groups)
			{
				RbGroup  *g = lfirst(lc);
				ListCell   *lc2;

				if (g->node != i)
					continue;
				foreach(lc2, g->shards)
				{
					SfPlannedShard *s = lfirst(lc2);

					s->size = sizes[k++];
					g->bytes += s->size;
				}
			}
		}
	}
	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);

		g->cost = options->strategy == SF_REBALANCE_BY_DISK_SIZE ?
			g->bytes + (int64) shardfdw_rebalance_base_cost * 1024 : 1;
	}
	return groups;
}

/* Record the move of group g to node target */
static void
plan_move(RbPlanState *ps, RbGroup *g, int target)
{
	SfPlannedMove *move = palloc0(sizeof(SfPlannedMove));
	RbNode   *src = &ps->nodes[g->node];
	RbNode   *dst = &ps->nodes[target];

	move->shardid = ((SfPlannedShard *) linitial(g->shards))->shardid;
	move->colocationid = g->colocationid;
	move->shardindex = g->shardindex;
	move->sourcenode = src->nodeid;
	move->targetnode = dst->nodeid;
	move->sourcename = src->name;
	move->targetname = dst->name;
	move->size = g->bytes;
	move->shards = g->shards;
	ps->moves = lappend(ps->moves, move);
	ps->nmoves++;

	src->load -= g->cost;
	src->global--;
	dst->load += g->cost;
	dst->global++;
	g->node = target;
	g->moved = true;
}

/* Is node a less loaded than node b (load, then all groups, then id)? */
static bool
less_loaded(RbNode *a, RbNode *b)
{
	if (a->load != b->load)
		return a->load < b->load;
	if (a->global != b->global)
		return a->global < b->global;
	return a->nodeid < b->nodeid;
}

/* Is node a more loaded than node b (load, then all groups, then lower id)? */
static bool
more_loaded(RbNode *a, RbNode *b)
{
	if (a->load != b->load)
		return a->load > b->load;
	if (a->global != b->global)
		return a->global > b->global;
	return a->nodeid < b->nodeid;
}

/* The least loaded eligible node, or -1 */
static int
least_loaded(RbPlanState *ps)
{
	int			best = -1;
	int			i;

	for (i = 0; i < ps->nnodes; i++)
		if (ps->nodes[i].eligible &&
			(best < 0 || less_loaded(&ps->nodes[i], &ps->nodes[best])))
			best = i;
	return best;
}

/* Plan the moves of one co-location group (groups: its PlanGroups) */
static void
plan_colocation_group(RbPlanState *ps, List *groups)
{
	const SfRebalanceOptions *options = ps->options;
	ListCell   *lc;
	int			i;
	int			neligible = 0;
	int64		total = 0;
	int		   *order;

	for (i = 0; i < ps->nnodes; i++)
	{
		ps->nodes[i].load = 0;
		if (ps->nodes[i].eligible)
			neligible++;
	}
	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);

		if (g->node >= 0)
			ps->nodes[g->node].load += g->cost;
	}

	/* 1. drain */
	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);
		int			target;

		if (g->pinned || !ps->nodes[g->node].draining)
			continue;
		target = least_loaded(ps);
		if (target < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no node can receive the shards of server \"%s\"",
							ps->nodes[g->node].name),
					 errdetail("Every active node has should_have_shards = false."),
					 errhint("Add a node, or allow one to have shards with shardfdw_set_node_property(server, 'shouldhaveshards', true).")));
		if (ps->nmoves >= options->max_shard_moves)
			return;
		plan_move(ps, g, target);
	}
	if (options->drain_only || neligible < 2)
		return;

	/* 2. balance the eligible nodes */
	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);

		if (g->node >= 0 && ps->nodes[g->node].eligible)
			total += g->cost;
	}
	order = palloc(sizeof(int) * ps->nnodes);
	while (ps->nmoves < options->max_shard_moves)
	{
		int			target = least_loaded(ps);
		double		tolerated = options->threshold * ((double) total / neligible);
		int			nsources = 0;
		bool		moved = false;
		int			k;

		/* sources: eligible nodes, most loaded first */
		for (i = 0; i < ps->nnodes; i++)
		{
			int			j;

			if (!ps->nodes[i].eligible || i == target)
				continue;
			for (j = nsources; j > 0 && more_loaded(&ps->nodes[i], &ps->nodes[order[j - 1]]); j--)
				order[j] = order[j - 1];
			order[j] = i;
			nsources++;
		}
		for (k = 0; k < nsources && !moved; k++)
		{
			int			source = order[k];
			int64		gap = ps->nodes[source].load - ps->nodes[target].load;
			RbGroup  *best = NULL;
			int64		bestscore = -1;

			if (gap <= 0 || (double) gap <= tolerated)
				break;			/* the others are even less loaded */
			foreach(lc, groups)
			{
				RbGroup  *g = lfirst(lc);
				int64		score;

				if (g->node != source || g->pinned || g->moved || g->cost >= gap)
					continue;
				score = Min(g->cost, gap - g->cost);
				if (score > bestscore)
				{
					best = g;
					bestscore = score;
				}
			}
			if (best != NULL)
			{
				plan_move(ps, best, target);
				moved = true;
			}
		}
		if (!moved)
			break;
	}
}

/*
 * The moves (SfPlannedMove *) that balance the shard groups according to
 * options, in the order they were planned.  Reads the catalog through SPI
 * and, by disk size, the workers through connections of its own.
 */
List *
sf_rebalance_plan(const SfRebalanceOptions *options)
{
	RbPlanState	ps;
	List	   *groups;
	List	   *colocated = NIL;
	ListCell   *lc;

	memset(&ps, 0, sizeof(ps));
	ps.options = options;
	groups = load_groups(&ps);

	foreach(lc, groups)
	{
		RbGroup  *g = lfirst(lc);

		if (colocated != NIL &&
			((RbGroup *) linitial(colocated))->colocationid != g->colocationid)
		{
			plan_colocation_group(&ps, colocated);
			colocated = NIL;
		}
		colocated = lappend(colocated, g);
	}
	if (colocated != NIL)
		plan_colocation_group(&ps, colocated);
	return ps.moves;
}

/*
 * get_rebalance_plan(relation, threshold, max_shard_moves,
 *		excluded_shard_list, drain_only, rebalance_strategy)
 *	RETURNS TABLE (table_name regclass, shardid bigint, shard_size bigint,
 *				   sourcename text, targetname text)
 *
 * One row per shard of every shard group to move, in plan order (the
 * shards of a group by shard id).  shard_size is 0 unless the strategy is
 * by_disk_size.  Also get_rebalance_table_shards_plan.
 */
Datum
shardfdw_get_rebalance_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfRebalanceOptions options;
	List	   *moves;
	ListCell   *lc;

	sf_require_nodes("plan a rebalance");
	sf_rebalance_parse_options(&options,
							   PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
							   PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_FLOAT4(1),
							   PG_ARGISNULL(2) ? 1000000 : PG_GETARG_INT32(2),
							   PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
							   PG_ARGISNULL(3),
							   PG_ARGISNULL(4) ? false : PG_GETARG_BOOL(4),
							   PG_ARGISNULL(5) ? "by_shard_count" : NameStr(*PG_GETARG_NAME(5)),
							   "auto");
	moves = sf_rebalance_plan(&options);

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, moves)
	{
		SfPlannedMove *move = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, move->shards)
		{
			SfPlannedShard *shard = lfirst(lc2);
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			values[0] = ObjectIdGetDatum(shard->relid);
			values[1] = Int64GetDatum(shard->shardid);
			values[2] = Int64GetDatum(shard->size);
			values[3] = CStringGetTextDatum(move->sourcename);
			values[4] = CStringGetTextDatum(move->targetname);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * Set shardfdw.node.should_have_shards of a node, in the caller's
 * transaction.
 */
void
sf_set_should_have_shards(const char *servername, bool value)
{
	SfNode	   *node = sf_worker_node_by_name(servername);

	SPI_connect();
	sf_spi_exec_count(psprintf("UPDATE shardfdw.node SET should_have_shards = %s"
							   " WHERE nodeid = %d",
							   value ? "true" : "false", node->nodeid), 1);
	SPI_finish();
	sf_invalidate_nodes();
	CommandCounterIncrement();
}

/*
 * shardfdw_set_node_property(server name, property text, value boolean)
 *
 * The one property is shouldhaveshards (Citus's name; should_have_shards
 * is accepted too): whether new shards and rebalanced shard groups may be
 * placed on the node.  Setting it to false does not move anything: see
 * shardfdw_drain_node.
 */
Datum
shardfdw_set_node_property(PG_FUNCTION_ARGS)
{
	char	   *servername = NameStr(*PG_GETARG_NAME(0));
	char	   *property = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		value = PG_GETARG_BOOL(2);

	if (strcmp(property, "shouldhaveshards") != 0 &&
		strcmp(property, "should_have_shards") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown node property \"%s\"", property),
				 errhint("The only property is shouldhaveshards.")));
	sf_set_should_have_shards(servername, value);
	PG_RETURN_VOID();
}
