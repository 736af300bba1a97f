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
 * A WHERE conjunct `x = ANY (array)` whose array (a coordinator subquery's
 * values, a parameter, a literal, an IN list of constants) has more than
 * shardfdw.large_array_threshold elements is sent as `x IN (SELECT
 * unnest(array))`.  A worker's planner estimates a ScalarArrayOpExpr
 * element by element, about half a microsecond each, in every shard's
 * statement: 300k values cost 150-300 ms of planning per shard, whatever
 * its size (measured: 32 small shards, 11 s against 4 s with the semi join).
 * The semi join plans in a millisecond but hashes the values for each
 * shard (the worker cannot know they are distinct: a HashAggregate sized
 * for 200 groups, which spills), which costs more than the hashed
 * ScalarArrayOpExpr on large shards (850k rows: 1.3 s against 0.6 s), hence
 * the high default (10000).  The two forms are equal for a non-NULL array,
 * NULL elements included; only top-level conjuncts of a WHERE clause change
 * (elsewhere the IN would become a SubPlan, whose hash table must fit in
 * hash_mem), only with an equality operator that can hash and a collation
 * both sides agree on.
 *
 * A multi-shard SELECT sends each worker its shards' statements as one
 * UNION ALL; an array Param of at least SHARED_ARRAY_MIN_ITEMS elements goes
 * with it once, as a parameter (sf_shard_query_sql_keep), instead of one
 * literal per shard that the worker would lex and parse again each time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "connection.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

typedef struct ShardRewriteContext
{
	int			shardindex;		/* the shard to use */
	Oid			serverid;		/* its server, once known */
	bool		for_plan;		/* failures return NULL instead of ERROR */
	bool		failed;
	ParamListInfo params;		/* values of external Params, or NULL */
	List	   *keep;			/* paramids of the Params sent as $1..$n
								 * (their position + 1), not as literals */
} ShardRewriteContext;

int			shardfdw_large_array_threshold = 10000;

/*
 * A Param holding an array of at least this many elements is sent once per
 * worker by a multi-shard SELECT (sf_large_array_params), not as a literal
 * in each shard's part of the statement.
 */
#define SHARED_ARRAY_MIN_ITEMS 100

/* State of keep_params_mutator */
typedef struct KeepParamsContext
{
	ShardRewriteContext *shard;	/* values of external Params */
	bool		literals;		/* constants become parameters too */
	bool		no_values;		/* Params have no values yet: origin says
								 * which Param each parameter is */
	int		   *origin;			/* by new paramid - 1: original paramid, or
								 * 0 for a constant (with no_values) */
	int		   *newid;			/* by original paramid - 1: new paramid or 0 */
	int			maxid;			/* size of newid */
	List	   *consts;			/* constants made parameters, by new
								 * paramid - 1 (NULL for Params) */
	int			nparams;		/* parameters of the statement sent */
	int			size;			/* room in types and values */
	Oid		   *types;			/* their types */
	char	  **values;			/* their values as text (NULL: NULL) */
} KeepParamsContext;

static bool rewrite_rtes_walker(Node *node, ShardRewriteContext *ctx);
static Node *replace_params_mutator(Node *node, ShardRewriteContext *ctx);
static Node *keep_params_mutator(Node *node, KeepParamsContext *ctx);
static void disambiguate_output_names(Query *q);
static int	list_index_int(List *list, int value);
static char *shard_query_sql(Query *query, int shardindex,
							 ParamListInfo params, List *keep,
							 Oid *serverid, bool for_plan);
static ParamExternData *fetch_param(Param *p, ParamListInfo params,
									ParamExternData *workspace);

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

			table = sf_rte_distributed_table(rte);
			if (table == NULL)
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
		ParamExternData workspace;
		ParamExternData *prm;
		int16		typlen;
		bool		typbyval;
		int			pos = list_index_int(ctx->keep, p->paramid);

		if (pos >= 0)
		{
			/* $n, with its type spelt out: ($n)::type */
			Param	   *np = copyObject(p);

			np->paramid = pos + 1;
			return (Node *) makeRelabelType((Expr *) np, p->paramtype,
											p->paramtypmod, p->paramcollid,
											COERCE_EXPLICIT_CAST);
		}
		prm = fetch_param(p, ctx->params, &workspace);
		get_typlenbyval(p->paramtype, &typlen, &typbyval);
		return (Node *) makeConst(p->paramtype, p->paramtypmod, p->paramcollid,
								  typlen,
								  prm->isnull ? (Datum) 0 :
								  datumCopy(prm->value, typbyval, typlen),
								  prm->isnull, typbyval);
	}
	return expression_tree_mutator(node, replace_params_mutator, ctx);
}

/* The value of external Param p (ERROR if there is none). */
static ParamExternData *
fetch_param(Param *p, ParamListInfo params, ParamExternData *workspace)
{
	ParamExternData *prm = NULL;

	if (params != NULL && p->paramid > 0 && p->paramid <= params->numParams)
	{
		if (params->paramFetch != NULL)
			prm = params->paramFetch(params, p->paramid, false, workspace);
		else
			prm = &params->params[p->paramid - 1];
	}
	if (prm == NULL || !OidIsValid(prm->ptype) || prm->ptype != p->paramtype)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_PARAMETER),
				 errmsg("no value found for parameter %d", p->paramid)));
	return prm;
}

/*
 * Append a parameter of the statement sent; returns its number.
 */
static int
add_param(KeepParamsContext *ctx, Oid type, bool isnull, Datum value,
		  Const *c)
{
	int			i = ctx->nparams++;

	if (ctx->nparams > ctx->size)
	{
		ctx->size = Max(8, ctx->size * 2);
		ctx->types = ctx->types ? repalloc(ctx->types, sizeof(Oid) * ctx->size) :
			palloc(sizeof(Oid) * ctx->size);
		ctx->values = ctx->values ?
			repalloc(ctx->values, sizeof(char *) * ctx->size) :
			palloc(sizeof(char *) * ctx->size);
	}
	if (ctx->no_values)
	{
		ctx->origin = ctx->origin ?
			repalloc(ctx->origin, sizeof(int) * ctx->size) :
			palloc(sizeof(int) * ctx->size);
		ctx->origin[i] = 0;
	}
	ctx->types[i] = type;
	if (isnull)
		ctx->values[i] = NULL;
	else
		ctx->values[i] = sf_output_text(type, value);
	ctx->consts = lappend(ctx->consts, c);
	return ctx->nparams;
}

/* output functions of built-in types, by type OID (they never change) */
typedef struct OutputCacheEntry
{
	Oid			type;
	FmgrInfo	flinfo;
} OutputCacheEntry;

#define SF_OUTPUT_CACHE_SIZE 32

/*
 * The text of a non-NULL value of a type, as OidOutputFunctionCall gives it
 * (under the caller's settings), without looking up the output function of
 * a built-in type each time: router statements turn several values into
 * parameter text per statement.
 */
char *
sf_output_text(Oid type, Datum value)
{
	static OutputCacheEntry cache[SF_OUTPUT_CACHE_SIZE];
	static int	ncached = 0;
	Oid			outfunc;
	bool		isvarlena;
	int			i;

	if (type < FirstGenbkiObjectId)
	{
		for (i = 0; i < ncached; i++)
			if (cache[i].type == type)
				return OutputFunctionCall(&cache[i].flinfo, value);
		if (ncached < SF_OUTPUT_CACHE_SIZE)
		{
			getTypeOutputInfo(type, &outfunc, &isvarlena);
			fmgr_info_cxt(outfunc, &cache[ncached].flinfo, TopMemoryContext);
			cache[ncached].type = type;
			return OutputFunctionCall(&cache[ncached++].flinfo, value);
		}
	}
	getTypeOutputInfo(type, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, value);
}

/*
 * May this constant travel as a parameter?  Only when the worker's
 * statement means exactly the same with a parameter of the constant's
 * type: a built-in type (its OID is the same on workers), no typmod (a
 * parameter has none), not unknown, not boolean (true / false shape the
 * worker's plan and never vary much).
 */
bool
sf_const_as_param(Const *c)
{
	/* typtype of built-in types never changes: looked up once each */
	static char builtin_typtype[FirstGenbkiObjectId];

	if (c->consttype >= FirstGenbkiObjectId || c->consttypmod != -1 ||
		c->consttype == UNKNOWNOID || c->consttype == BOOLOID)
		return false;
	if (builtin_typtype[c->consttype] == '\0')
		builtin_typtype[c->consttype] = get_typtype(c->consttype);
	return builtin_typtype[c->consttype] != TYPTYPE_PSEUDO;
}

/*
 * Renumber the external Params $1..$n in order of first appearance and
 * collect their types and text values; with literals, constants become
 * parameters too (equal constants share one, so that expressions the
 * worker must find equal, such as a GROUP BY expression and its use in
 * the target list or HAVING, stay equal).  A Param whose type a worker may
 * not know by OID (not built in) or that has a typmod becomes a literal, as
 * in replace_params_mutator.  Constants stay literals where the deparser
 * or the worker's parser need one: arguments of functions printed in SQL
 * syntax (EXTRACT(field FROM ...), ...), all but the first argument of a
 * function printed as a cast (the typmod of a length coercion such as
 * ::varchar(2)), and the ON CONFLICT clause (a partial unique index is
 * inferred from its predicate's constants).
 */
static Node *
keep_params_mutator(Node *node, KeepParamsContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		OnConflictExpr *onconflict = q->onConflict;
		bool		literals = ctx->literals;

		q->onConflict = NULL;
		q = query_tree_mutator(q, keep_params_mutator, ctx, 0);
		if (onconflict != NULL)
		{
			ctx->literals = false;
			q->onConflict = (OnConflictExpr *)
				keep_params_mutator((Node *) onconflict, ctx);
			ctx->literals = literals;
		}
		return (Node *) q;
	}
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *p = (Param *) node;
		Param	   *np;

		if (p->paramtype >= FirstGenbkiObjectId || p->paramtypmod != -1 ||
			p->paramid <= 0 || p->paramid > ctx->maxid)
			return replace_params_mutator(node, ctx->shard);
		if (ctx->newid[p->paramid - 1] == 0 && ctx->no_values)
		{
			int			id = add_param(ctx, p->paramtype, true, (Datum) 0,
									   NULL);

			ctx->origin[id - 1] = p->paramid;
			ctx->newid[p->paramid - 1] = id;
		}
		else if (ctx->newid[p->paramid - 1] == 0)
		{
			ParamExternData workspace;
			ParamExternData *prm = fetch_param(p, ctx->shard->params,
											   &workspace);

			ctx->newid[p->paramid - 1] =
				add_param(ctx, p->paramtype, prm->isnull, prm->value, NULL);
		}
		np = (Param *) copyObject(p);
		np->paramid = ctx->newid[p->paramid - 1];
		return (Node *) np;
	}
	if (IsA(node, Const) && ctx->literals && sf_const_as_param((Const *) node))
	{
		Const	   *c = (Const *) node;
		Param	   *np = makeNode(Param);
		ListCell   *lc;
		int			id = 0;

		foreach(lc, ctx->consts)
			if (lfirst(lc) != NULL && equal(lfirst(lc), c))
				id = foreach_current_index(lc) + 1;
		if (id == 0)
			id = add_param(ctx, c->consttype, c->constisnull, c->constvalue,
						   c);
		np->paramkind = PARAM_EXTERN;
		np->paramid = id;
		np->paramtype = c->consttype;
		np->paramtypmod = -1;
		np->paramcollid = c->constcollid;
		np->location = -1;
		return (Node *) np;
	}
	if (IsA(node, FuncExpr) &&
		((FuncExpr *) node)->funcformat != COERCE_EXPLICIT_CALL)
	{
		FuncExpr   *f = (FuncExpr *) copyObject(node);
		ListCell   *lc;

		/*
		 * A cast shows only its first argument (a length coercion's typmod
		 * must stay a constant to be printed); SQL syntax shows constant
		 * arguments as keywords.
		 */
		foreach(lc, f->args)
			if (!IsA(lfirst(lc), Const) ||
				(f->funcformat != COERCE_SQL_SYNTAX &&
				 foreach_current_index(lc) == 0))
				lfirst(lc) = keep_params_mutator(lfirst(lc), ctx);
		return (Node *) f;
	}
	return expression_tree_mutator(node, keep_params_mutator, ctx);
}

/*
 * Rename the output columns of q that would capture a column reference of
 * its ORDER BY or DISTINCT ON.
 *
 * With one range table entry, the deparser prints column references
 * unqualified, and ORDER BY / DISTINCT ON resolve a bare name against the
 * output column names first: "SELECT order_id AS price ... ORDER BY price"
 * sorts by order_id on the worker (a wrong result once a LIMIT or DISTINCT
 * ON is pushed down with it), and two output columns of that name make the
 * worker fail with "ORDER BY ... is ambiguous".  An output column whose
 * name is one of the entry's columns and that is not that very column gets
 * a name that is none of them.  The worker's result columns are read by
 * position, so their names do not matter.  Nested queries are printed with
 * qualified names: only the top level needs this.
 */
static void
disambiguate_output_names(Query *q)
{
	RangeTblEntry *rte;
	ListCell   *lc;

	if (q->commandType != CMD_SELECT || list_length(q->rtable) != 1 ||
		(q->sortClause == NIL && q->distinctClause == NIL))
		return;
	rte = linitial_node(RangeTblEntry, q->rtable);

	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		ListCell   *lc2;
		bool		clash = false;
		int			suffix = 0;
		char	   *name;

		if (tle->resjunk || tle->resname == NULL)
			continue;
		foreach(lc2, rte->eref->colnames)
		{
			if (strcmp(strVal(lfirst(lc2)), tle->resname) == 0)
			{
				clash = true;
				break;
			}
		}
		if (!clash)
			continue;
		/* the column itself under its own name: the same expression */
		if (IsA(tle->expr, Var) &&
			((Var *) tle->expr)->varlevelsup == 0 &&
			((Var *) tle->expr)->varattno > 0 &&
			((Var *) tle->expr)->varattno <= list_length(rte->eref->colnames) &&
			strcmp(strVal(list_nth(rte->eref->colnames,
								   ((Var *) tle->expr)->varattno - 1)),
				   tle->resname) == 0)
			continue;
		/* a name that is none of the entry's columns */
		for (;;)
		{
			name = psprintf("sf_out_%d%s", tle->resno,
							suffix > 0 ? psprintf("_%d", suffix) : "");
			clash = false;
			foreach(lc2, rte->eref->colnames)
			{
				if (strcmp(strVal(lfirst(lc2)), name) == 0)
				{
					clash = true;
					break;
				}
			}
			if (!clash)
				break;
			suffix++;
		}
		tle->resname = name;
	}
}

/*
 * Register the GUC of this file (called by sf_planner_init).
 */
void
sf_shard_query_init(void)
{
	DefineCustomIntVariable("shardfdw.large_array_threshold",
							"Arrays of more elements in x = ANY (array) conditions are sent to workers as a semi join with unnest().",
							"A worker's planner estimates x = ANY (array) element by element; above this many elements, a WHERE condition x = ANY (array) is sent as x IN (SELECT unnest(array)), which the worker runs as a hash semi join. 0 turns this off.",
							&shardfdw_large_array_threshold,
							10000, 0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/* The number of elements of an array value of type, or -1 for NULL */
static int
array_value_items(Oid type, bool isnull, Datum value)
{
	AnyArrayType *arr;

	if (isnull || !OidIsValid(get_element_type(type)))
		return -1;
	arr = DatumGetAnyArrayP(value);
	return ArrayGetNItems(AARR_NDIM(arr), AARR_DIMS(arr));
}

/*
 * The number of elements of an array operand's value, or -1 for NULL or
 * unknown: a constant, an ARRAY[...] (an IN list), or an external Param
 * with a value in ctx.
 */
static int
array_operand_items(Node *operand, ShardRewriteContext *ctx)
{
	if (IsA(operand, ArrayExpr) && !((ArrayExpr *) operand)->multidims)
	{
		ListCell   *lc;

		/* of constants only: the semi join must stay uncorrelated */
		foreach(lc, ((ArrayExpr *) operand)->elements)
			if (!IsA(lfirst(lc), Const))
				return -1;
		return list_length(((ArrayExpr *) operand)->elements);
	}
	if (IsA(operand, Const))
		return array_value_items(((Const *) operand)->consttype,
								 ((Const *) operand)->constisnull,
								 ((Const *) operand)->constvalue);
	if (IsA(operand, Param) &&
		((Param *) operand)->paramkind == PARAM_EXTERN &&
		ctx->params != NULL)
	{
		ParamExternData workspace;
		ParamExternData *prm = fetch_param((Param *) operand, ctx->params,
										   &workspace);

		return array_value_items(((Param *) operand)->paramtype,
								 prm->isnull, prm->value);
	}
	return -1;
}

/* Position of value in list, or -1 */
static int
list_index_int(List *list, int value)
{
	ListCell   *lc;

	foreach(lc, list)
		if (lfirst_int(lc) == value)
			return foreach_current_index(lc);
	return -1;
}

/* walker: collect the paramids of external Params, at every level */
static bool
extern_params_walker(Node *node, Bitmapset **used)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
		*used = bms_add_member(*used, ((Param *) node)->paramid);
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, extern_params_walker, used,
								 0);
	return expression_tree_walker(node, extern_params_walker, used);
}

/*
 * If conjunct is `x op ANY (array)` of more than
 * shardfdw.large_array_threshold elements (a constant, or a Param with a
 * value in ctx), with op an equality that can hash, return `x op ANY
 * (SELECT unnest(array))`; else conjunct.
 */
static Node *
large_array_semi_join(Node *conjunct, ShardRewriteContext *ctx)
{
	ScalarArrayOpExpr *saop;
	Node	   *left;
	Node	   *array;
	Oid			elemtype;
	Oid			elemcollid;
	FuncExpr   *unnest;
	Query	   *sub;
	Param	   *value;
	OpExpr	   *test;
	SubLink    *sublink;

	if (!IsA(conjunct, ScalarArrayOpExpr))
		return conjunct;
	saop = (ScalarArrayOpExpr *) conjunct;
	left = linitial(saop->args);
	array = lsecond(saop->args);
	/* the collation each side derives on the worker must be the same */
	if (!saop->useOr ||
		(OidIsValid(saop->inputcollid) &&
		 saop->inputcollid != DEFAULT_COLLATION_OID) ||
		!op_hashjoinable(saop->opno, exprType(left)) ||
		expression_returns_set(left) ||
		array_operand_items(array, ctx) <= shardfdw_large_array_threshold)
		return conjunct;
	elemtype = get_element_type(exprType(array));
	elemcollid = exprCollation(array);

	unnest = makeFuncExpr(F_UNNEST_ANYARRAY, elemtype, list_make1(array),
						  InvalidOid, elemcollid, COERCE_EXPLICIT_CALL);
	unnest->funcretset = true;

	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->hasTargetSRFs = true;
	sub->jointree = makeFromExpr(NIL, NULL);
	sub->targetList = list_make1(makeTargetEntry((Expr *) unnest, 1,
												 pstrdup("unnest"), false));

	value = makeNode(Param);
	value->paramkind = PARAM_SUBLINK;
	value->paramid = 1;
	value->paramtype = elemtype;
	value->paramtypmod = -1;
	value->paramcollid = elemcollid;
	value->location = -1;

	test = (OpExpr *) make_opclause(saop->opno, BOOLOID, false,
									(Expr *) left, (Expr *) value,
									InvalidOid, saop->inputcollid);
	test->opfuncid = saop->opfuncid;

	sublink = makeNode(SubLink);
	sublink->subLinkType = ANY_SUBLINK;
	sublink->subLinkId = 0;
	sublink->testexpr = (Node *) test;
	sublink->operName = list_make1(makeString(get_opname(saop->opno)));
	sublink->subselect = (Node *) sub;
	sublink->location = -1;
	return (Node *) sublink;
}

/* large_array_semi_join of each top-level conjunct of a WHERE clause */
static Node *
large_array_conjuncts(Node *quals, ShardRewriteContext *ctx)
{
	if (quals == NULL)
		return NULL;
	if (is_andclause(quals))
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) quals)->args)
			lfirst(lc) = large_array_conjuncts(lfirst(lc), ctx);
		return quals;
	}
	return large_array_semi_join(quals, ctx);
}

/*
 * large_array_conjuncts of the WHERE clause of every level of a Query (in
 * place), before its Params are replaced.
 */
static bool
large_arrays_walker(Node *node, ShardRewriteContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		/* the levels below first: a new SubLink needs no visit */
		(void) query_tree_walker(q, large_arrays_walker, ctx, 0);
		if (q->jointree != NULL)
			q->jointree->quals = large_array_conjuncts(q->jointree->quals,
													   ctx);
		return false;
	}
	return expression_tree_walker(node, large_arrays_walker, ctx);
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
	return shard_query_sql(query, shardindex, params, NIL, serverid,
						   for_plan);
}

/*
 * sf_shard_query_sql, the Params of paramids keep (of built-in types)
 * sent as parameters $1..$n (their position in keep), with a cast to their
 * type, instead of literals: the caller sends their values.  For a value
 * used in many shards' statements of one command string, such as a
 * coordinator subquery's array of values.
 */
char *
sf_shard_query_sql_keep(Query *query, int shardindex, ParamListInfo params,
						List *keep, Oid *serverid)
{
	return shard_query_sql(query, shardindex, params, keep, serverid, false);
}

/*
 * The external Params of query (paramids) whose values in params are
 * arrays of a built-in type of at least SHARED_ARRAY_MIN_ITEMS elements:
 * worth sending once as a parameter (sf_shard_query_sql_keep).
 */
List *
sf_large_array_params(Query *query, ParamListInfo params)
{
	Bitmapset  *used = NULL;
	List	   *keep = NIL;
	int			paramid = -1;

	/* hooks that compute values on demand (PL/pgSQL): left alone */
	if (params == NULL || params->paramFetch != NULL)
		return NIL;
	(void) extern_params_walker((Node *) query, &used);
	while ((paramid = bms_next_member(used, paramid)) >= 0)
	{
		ParamExternData *prm;

		if (paramid < 1 || paramid > params->numParams)
			continue;
		prm = &params->params[paramid - 1];
		if (prm->ptype < FirstGenbkiObjectId &&
			array_value_items(prm->ptype, prm->isnull, prm->value) >=
			SHARED_ARRAY_MIN_ITEMS)
			keep = lappend_int(keep, paramid);
	}
	return keep;
}

static char *
shard_query_sql(Query *query, int shardindex, ParamListInfo params,
				List *keep, Oid *serverid, bool for_plan)
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
	ctx.keep = keep;

	(void) rewrite_rtes_walker((Node *) q, &ctx);
	if (ctx.failed || !OidIsValid(ctx.serverid))
	{
		if (for_plan)
			return NULL;
		elog(ERROR, "no shard found for shard index %d", shardindex);
	}
	if (shardfdw_large_array_threshold > 0)
		(void) large_arrays_walker((Node *) q, &ctx);
	if (!for_plan)
		q = (Query *) replace_params_mutator((Node *) q, &ctx);
	disambiguate_output_names(q);

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

/*
 * The SQL text of query for shard index shardindex with its external
 * Params (and, with literals, its constants: see keep_params_mutator) as
 * parameters $1..$n of the statement sent, for a worker prepared
 * statement: *nparams, *types and *values (text, NULL for NULL, produced
 * under the remote sessions' settings) describe them.  Params of types not
 * built in become literals.  Sets *serverid like sf_shard_query_sql; with
 * for_plan, returns NULL when the shard cannot be used, otherwise that is
 * an ERROR.
 *
 * With origin (not NULL), the Params $1..$maxparam have no values yet
 * (params is ignored; they must be of built-in types without typmod): the
 * parameters made from them get NULL values, and (*origin)[i] gives the
 * original paramid of parameter i + 1 (0 for a constant), for the caller
 * to fill in later.
 */
char *
sf_shard_query_sql_params(Query *query, int shardindex, ParamListInfo params,
						  bool literals, bool for_plan, Oid *serverid,
						  int *nparams, Oid **types, char ***values,
						  int maxparam, int **origin)
{
	ShardRewriteContext ctx;
	KeepParamsContext kctx;
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

	memset(&kctx, 0, sizeof(kctx));
	kctx.shard = &ctx;
	kctx.literals = literals;
	kctx.no_values = (origin != NULL);
	kctx.maxid = origin ? maxparam : params ? params->numParams : 0;
	kctx.newid = palloc0(sizeof(int) * (kctx.maxid + 1));

	nestlevel = sf_set_transmission_modes();
	PG_TRY();
	{
		q = (Query *) keep_params_mutator((Node *) q, &kctx);
		disambiguate_output_names(q);
		sql = pg_get_querydef(q, false);
	}
	PG_FINALLY();
	{
		sf_reset_transmission_modes(nestlevel);
	}
	PG_END_TRY();

	*serverid = ctx.serverid;
	*nparams = kctx.nparams;
	*types = kctx.types;
	*values = kctx.values;
	if (origin)
		*origin = kctx.origin;
	return sql;
}
