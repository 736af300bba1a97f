/*-------------------------------------------------------------------------
 *
 * shape_cache.c
 *	  The worker SQL of simple router statements, by shape.
 *
 * A router statement with constants sent with the simple protocol is
 * planned from scratch each time, and making its worker statement (a copy
 * of the Query, constants turned into parameters, pg_get_querydef under
 * the remote sessions' settings) was most of the router planner's work.
 * Statements that differ only in the values of their constants get the
 * same worker SQL, with other parameter values.  So, for two common kinds
 * of statement, the SQL is kept in a backend-local cache whose key is the
 * statement's shape:
 *
 * - a one-row INSERT ... VALUES (optionally RETURNING columns of the row):
 *   the target table, its alias, and for each target column its number
 *   and value expression, which values the coordinator computes when the
 *   scan starts (preeval), the RETURNING columns and their names;
 * - a SELECT from one table (a point lookup): its alias, the output
 *   expressions and their names, the WHERE clause, and nothing else
 *   (no joins, grouping, ordering, limits, locking...);
 *
 * with, for each expression, its tree (node kinds, operator and function
 * OIDs, display formats, types, typmods, collations, columns, the literal
 * arguments of casts such as a typmod) and which constants are equal
 * (equal constants share one parameter), plus the shard index.
 *
 * A shape the key cannot describe exactly (any other node, a literal that
 * is not a by-value constant) is not cached.  On a miss the SQL is made as
 * before; it is kept only when the parameters the shape numbers by itself
 * (in order of first appearance, as keep_params_mutator does) have the
 * types, origins and text values the deparser gave, so a hit can only
 * return what the deparser would have.  shardfdw.verify_shape_cache (for
 * tests) deparses on every hit as well and reports any difference.
 *
 * Every relcache invalidation (a renamed column, a shard moved or split,
 * a renamed foreign table, ANALYZE...) empties the cache: the invalidation
 * callback only bumps a generation number, and the next lookup drops the
 * entries, so no entry goes away while a lookup is using it.  A hit locks
 * the shard's foreign table as deparsing does, and is dropped if that lock
 * brought an invalidation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "connection.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/builtins.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

/* entries kept at most; the cache is emptied when it is full */
#define SF_SHAPE_CACHE_SIZE 256

bool		shardfdw_verify_shape_cache = false;

/* One parameter of the worker statement, as the shape numbers them */
typedef struct ShapeParam
{
	Oid			type;
	int			origin;			/* preeval value number (1..k), or 0 */
	Const	   *value;			/* the constant giving the value, or NULL */
} ShapeParam;

/* The shape of one statement, while it is being described */
typedef struct Shape
{
	StringInfoData key;
	int			shardindex;
	ShapeParam *params;
	int			nparams;
	int			size;
} Shape;

typedef struct ShapeCacheEntry
{
	uint32		hash;			/* hash key: hash of the shape's bytes */
	char	   *key;			/* the shape's bytes */
	int			keylen;
	char	   *sql;			/* the worker statement */
	Oid			serverid;		/* its server */
	Oid			shardrelid;		/* the shard's foreign table */
} ShapeCacheEntry;

static HTAB *shape_cache = NULL;
static MemoryContext shape_cache_cxt = NULL;
static uint64 shape_cache_generation = 0;	/* bumped by invalidations */
static uint64 shape_cache_built = 0;	/* generation the cache holds */
static bool shape_cache_callback_set = false;

static void
shape_cache_inval(Datum arg, Oid relid)
{
	shape_cache_generation++;
}

/* append a field to the key (many per statement: no function call) */
static inline void
key_append(Shape *s, const void *data, int len)
{
	StringInfo	key = &s->key;

	if (key->len + len >= key->maxlen)
		enlargeStringInfo(key, len);
	memcpy(key->data + key->len, data, len);
	key->len += len;
}

#define KEY_APPEND(s, v) key_append((s), &(v), sizeof(v))

/* a literal of the statement: only by-value constants are described */
static bool
shape_literal(Shape *s, Const *c)
{
	char		tag = 'L';

	if (!c->constbyval)
		return false;
	KEY_APPEND(s, tag);
	KEY_APPEND(s, c->consttype);
	KEY_APPEND(s, c->consttypmod);
	KEY_APPEND(s, c->constcollid);
	KEY_APPEND(s, c->constisnull);
	if (!c->constisnull)
	{
		Datum		v = c->constvalue;

		/* only the bytes that are the value: the rest may be garbage */
		if (c->constlen < (int) sizeof(Datum))
			v = (Datum) (v & ((((Datum) 1) << (8 * c->constlen)) - 1));
		KEY_APPEND(s, v);
	}
	return true;
}

static int
shape_add_param(Shape *s, Oid type, int origin, Const *value)
{
	if (s->nparams == s->size)
	{
		s->size = Max(16, s->size * 2);
		s->params = s->params ? repalloc(s->params, sizeof(ShapeParam) * s->size) :
			palloc(sizeof(ShapeParam) * s->size);
	}
	s->params[s->nparams].type = type;
	s->params[s->nparams].origin = origin;
	s->params[s->nparams].value = value;
	return ++s->nparams;
}

static bool shape_expr(Shape *s, Node *node);

/* Describe the arguments of an expression, in order */
static bool
shape_list(Shape *s, List *args)
{
	ListCell   *lc;

	foreach(lc, args)
		if (!shape_expr(s, lfirst(lc)))
			return false;
	return true;
}

/*
 * Describe one value expression; false when the key cannot describe it.
 * Mirrors keep_params_mutator (shard_query.c) with literals on.
 */
static bool
shape_expr(Shape *s, Node *node)
{
	char		tag;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Const:
			{
				Const	   *c = (Const *) node;
				int			i;
				int			id = 0;

				if (!sf_const_as_param(c))
					return shape_literal(s, c);
				/* equal constants share a parameter */
				for (i = 0; i < s->nparams && id == 0; i++)
					if (s->params[i].value != NULL &&
						s->params[i].type == c->consttype &&
						equal(s->params[i].value, c))
						id = i + 1;
				if (id == 0)
					id = shape_add_param(s, c->consttype, 0, c);
				tag = 'C';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, id);
				KEY_APPEND(s, c->consttype);
				KEY_APPEND(s, c->constcollid);
				return true;
			}
		case T_FuncExpr:
			{
				FuncExpr   *f = (FuncExpr *) node;
				ListCell   *lc;
				int			nargs = list_length(f->args);

				tag = 'F';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, f->funcid);
				KEY_APPEND(s, f->funcresulttype);
				KEY_APPEND(s, f->funcretset);
				KEY_APPEND(s, f->funcvariadic);
				KEY_APPEND(s, f->funcformat);
				KEY_APPEND(s, f->funccollid);
				KEY_APPEND(s, f->inputcollid);
				KEY_APPEND(s, nargs);
				foreach(lc, f->args)
				{
					Node	   *arg = lfirst(lc);

					/* the arguments keep_params_mutator leaves alone */
					if (f->funcformat != COERCE_EXPLICIT_CALL &&
						IsA(arg, Const) &&
						(f->funcformat == COERCE_SQL_SYNTAX ||
						 foreach_current_index(lc) > 0))
					{
						if (!shape_literal(s, (Const *) arg))
							return false;
					}
					else if (!shape_expr(s, arg))
						return false;
				}
				return true;
			}
		case T_RelabelType:
			{
				RelabelType *r = (RelabelType *) node;

				tag = 'R';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, r->resulttype);
				KEY_APPEND(s, r->resulttypmod);
				KEY_APPEND(s, r->resultcollid);
				KEY_APPEND(s, r->relabelformat);
				return shape_expr(s, (Node *) r->arg);
			}
		case T_CoerceViaIO:
			{
				CoerceViaIO *v = (CoerceViaIO *) node;

				tag = 'V';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, v->resulttype);
				KEY_APPEND(s, v->resultcollid);
				KEY_APPEND(s, v->coerceformat);
				return shape_expr(s, (Node *) v->arg);
			}
		case T_Var:
			{
				Var		   *v = (Var *) node;

				/* a column of the statement's one table */
				if (v->varno != 1 || v->varlevelsup != 0 || v->varattno <= 0 ||
					v->varnosyn != v->varno || v->varattnosyn != v->varattno)
					return false;
				tag = 'v';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, v->varattno);
				KEY_APPEND(s, v->vartype);
				KEY_APPEND(s, v->vartypmod);
				KEY_APPEND(s, v->varcollid);
				return true;
			}
		case T_OpExpr:
			{
				OpExpr	   *o = (OpExpr *) node;
				int			nargs = list_length(o->args);

				tag = 'O';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, o->opno);
				KEY_APPEND(s, o->opfuncid);
				KEY_APPEND(s, o->opresulttype);
				KEY_APPEND(s, o->opretset);
				KEY_APPEND(s, o->opcollid);
				KEY_APPEND(s, o->inputcollid);
				KEY_APPEND(s, nargs);
				return shape_list(s, o->args);
			}
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *o = (ScalarArrayOpExpr *) node;
				int			nargs = list_length(o->args);

				tag = 'S';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, o->opno);
				KEY_APPEND(s, o->opfuncid);
				KEY_APPEND(s, o->hashfuncid);
				KEY_APPEND(s, o->negfuncid);
				KEY_APPEND(s, o->useOr);
				KEY_APPEND(s, o->inputcollid);
				KEY_APPEND(s, nargs);
				return shape_list(s, o->args);
			}
		case T_BoolExpr:
			{
				BoolExpr   *b = (BoolExpr *) node;
				int			nargs = list_length(b->args);

				tag = 'b';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, b->boolop);
				KEY_APPEND(s, nargs);
				return shape_list(s, b->args);
			}
		case T_NullTest:
			{
				NullTest   *n = (NullTest *) node;

				tag = 'N';
				KEY_APPEND(s, tag);
				KEY_APPEND(s, n->nulltesttype);
				KEY_APPEND(s, n->argisrow);
				return shape_expr(s, (Node *) n->arg);
			}
		default:
			return false;
	}
}

/* the output names of a target list are part of the SQL */
static void
shape_name(Shape *s, const char *name)
{
	if (name != NULL)
		appendStringInfoString(&s->key, name);
	appendStringInfoChar(&s->key, '\0');
}

/* Describe the table of the statement (range table entry 1) */
static bool
shape_table(Query *parse, Shape *s)
{
	RangeTblEntry *rte;
	char		tag;

	if (list_length(parse->rtable) != 1)
		return false;
	rte = rt_fetch(1, parse->rtable);
	if (rte->rtekind != RTE_RELATION || rte->tablesample != NULL)
		return false;
	KEY_APPEND(s, rte->relid);
	KEY_APPEND(s, s->shardindex);
	KEY_APPEND(s, parse->commandType);
	if (rte->alias != NULL)
	{
		if (rte->alias->colnames != NIL)
			return false;
		tag = 'A';
		KEY_APPEND(s, tag);
		shape_name(s, rte->alias->aliasname);
	}
	return true;
}

/*
 * Is parse a statement whose SQL only its table, target list (and for a
 * SELECT, its WHERE clause; for an INSERT, its RETURNING list) make?
 */
static bool
plain_statement(Query *parse)
{
	return parse->utilityStmt == NULL && parse->cteList == NIL &&
		!parse->hasAggs && !parse->hasWindowFuncs && !parse->hasTargetSRFs &&
		!parse->hasSubLinks && !parse->hasDistinctOn && !parse->hasRecursive &&
		!parse->hasModifyingCTE && !parse->hasForUpdate &&
		!parse->hasRowSecurity && !parse->isReturn &&
		parse->onConflict == NULL && parse->mergeActionList == NIL &&
		parse->override == OVERRIDING_NOT_SET &&
		parse->groupClause == NIL && parse->groupingSets == NIL &&
		parse->havingQual == NULL && parse->windowClause == NIL &&
		parse->distinctClause == NIL && parse->sortClause == NIL &&
		parse->limitOffset == NULL && parse->limitCount == NULL &&
		parse->rowMarks == NIL && parse->setOperations == NULL &&
		parse->withCheckOptions == NIL && parse->jointree != NULL;
}

/*
 * Describe a one-row INSERT ... VALUES (parse, with its preeval values
 * replaced by placeholders) or a one-table SELECT for shard index
 * shardindex.  False when it is neither or its key could not say
 * everything the worker SQL depends on.
 */
static bool
shape_of(Query *parse, List *preeval, int shardindex, Shape *s)
{
	ListCell   *lc;
	char		tag;

	memset(s, 0, sizeof(*s));
	s->shardindex = shardindex;
	if (!plain_statement(parse))
		return false;
	if (parse->commandType == CMD_SELECT)
	{
		FromExpr   *from = parse->jointree;

		if (parse->returningList != NIL ||
			list_length(from->fromlist) != 1 ||
			!IsA(linitial(from->fromlist), RangeTblRef) ||
			((RangeTblRef *) linitial(from->fromlist))->rtindex != 1)
			return false;
	}
	else if (parse->commandType != CMD_INSERT || parse->resultRelation != 1 ||
			 parse->jointree->fromlist != NIL ||
			 parse->jointree->quals != NULL)
		return false;

	initStringInfo(&s->key);
	if (!shape_table(parse, s))
		return false;

	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		ListCell   *lc2;
		int			k = 0;

		if (tle->resjunk)
			return false;
		KEY_APPEND(s, tle->resno);
		if (parse->commandType == CMD_SELECT)
			shape_name(s, tle->resname);
		foreach(lc2, preeval)
			if (((TargetEntry *) lfirst(lc2))->resno == tle->resno)
				k = foreach_current_index(lc2) + 1;
		if (k > 0)
		{
			TargetEntry *pe = list_nth(preeval, k - 1);
			Oid			type = exprType((Node *) pe->expr);
			int			id = shape_add_param(s, type, k, NULL);

			tag = 'E';
			KEY_APPEND(s, tag);
			KEY_APPEND(s, id);
			KEY_APPEND(s, type);
			KEY_APPEND(s, k);
		}
		else if (!shape_expr(s, (Node *) tle->expr))
			return false;
	}

	/* the WHERE clause of a SELECT (after the target list, as mutated) */
	tag = 'W';
	KEY_APPEND(s, tag);
	if (parse->jointree->quals != NULL &&
		!shape_expr(s, parse->jointree->quals))
		return false;

	/* RETURNING columns of the row, by number and output name */
	tag = 'T';
	KEY_APPEND(s, tag);
	foreach(lc, parse->returningList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk || !IsA(tle->expr, Var) ||
			!shape_expr(s, (Node *) tle->expr))
			return false;
		KEY_APPEND(s, tle->resno);
		shape_name(s, tle->resname);
	}
	return true;
}

/*
 * Could a type's text form depend on the settings sf_set_transmission_modes
 * fixes?  (Date and time types print by DateStyle, intervals by
 * IntervalStyle, floats by extra_float_digits, reg* types by search_path;
 * containers like arrays or ranges may hold any of them.)
 */
static bool
output_needs_modes(Oid type)
{
	switch (type)
	{
		case BOOLOID:
		case CHAROID:
		case NAMEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case BYTEAOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
			return false;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return DateStyle != USE_ISO_DATES;
		case INTERVALOID:
			return IntervalStyle != INTSTYLE_POSTGRES;
		default:
			return true;
	}
}

/* The text of each constant parameter (NULL for NULL or preeval values). */
static char **
shape_values(Shape *s)
{
	char	  **values = palloc0(sizeof(char *) * Max(s->nparams, 1));
	bool		modes = false;
	int			nestlevel = 0;
	int			i;

	for (i = 0; i < s->nparams; i++)
		if (s->params[i].value != NULL && output_needs_modes(s->params[i].type))
			modes = true;
	if (modes)
		nestlevel = sf_set_transmission_modes();
	PG_TRY();
	{
		for (i = 0; i < s->nparams; i++)
		{
			Const	   *c = s->params[i].value;

			if (c == NULL || c->constisnull)
				continue;
			values[i] = sf_output_text(c->consttype, c->constvalue);
		}
	}
	PG_FINALLY();
	{
		if (modes)
			sf_reset_transmission_modes(nestlevel);
	}
	PG_END_TRY();
	return values;
}

/* The parameters of a shape: types, and preeval numbers (0: a constant). */
static void
shape_params(Shape *s, Oid **types, int **origin)
{
	int			i;

	*types = palloc(sizeof(Oid) * Max(s->nparams, 1));
	*origin = palloc(sizeof(int) * Max(s->nparams, 1));
	for (i = 0; i < s->nparams; i++)
	{
		(*types)[i] = s->params[i].type;
		(*origin)[i] = s->params[i].origin;
	}
}

/* Drop every entry when invalidated or full; make the cache if needed. */
static void
shape_cache_prepare(void)
{
	HASHCTL		ctl;

	if (!shape_cache_callback_set)
	{
		CacheRegisterRelcacheCallback(shape_cache_inval, (Datum) 0);
		shape_cache_callback_set = true;
	}
	if (shape_cache != NULL &&
		(shape_cache_built != shape_cache_generation ||
		 hash_get_num_entries(shape_cache) >= SF_SHAPE_CACHE_SIZE))
	{
		MemoryContextDelete(shape_cache_cxt);
		shape_cache = NULL;
		shape_cache_cxt = NULL;
	}
	if (shape_cache != NULL)
		return;
	shape_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											 "shardfdw router statement shapes",
											 ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(ShapeCacheEntry);
	ctl.hcxt = shape_cache_cxt;
	shape_cache = hash_create("shardfdw router statement shapes", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	shape_cache_built = shape_cache_generation;
}

/*
 * The worker statement of a one-row INSERT from the cache: the SQL, its
 * server, and the parameters (types, text values of the constants, and
 * for the values computed when the scan starts their preeval numbers in
 * *origin) as sf_shard_query_sql_params gives them.  parse has its
 * preeval values replaced by placeholders.  *shape gets the statement's
 * shape for sf_shape_cache_remember (NULL when it has none); returns
 * NULL on a miss.
 */
char *
sf_shape_cache_lookup(Query *parse, List *preeval, int shardindex,
					   void **shape, Oid *serverid, int *nparams,
					   Oid **types, char ***values, int **origin)
{
	Shape *s = palloc(sizeof(Shape));
	ShapeCacheEntry *entry;
	uint32		hash;
	char	   *sql;
	uint64		generation;

	*shape = NULL;
	if (!shape_of(parse, preeval, shardindex, s))
		return NULL;
	*shape = s;
	shape_cache_prepare();
	hash = hash_bytes((const unsigned char *) s->key.data, s->key.len);
	entry = hash_search(shape_cache, &hash, HASH_FIND, NULL);
	if (entry == NULL || entry->sql == NULL || entry->keylen != s->key.len ||
		memcmp(entry->key, s->key.data, s->key.len) != 0)
		return NULL;

	/*
	 * Lock the shard's foreign table as deparsing would have (a cutover
	 * waits for it), and let that lock's invalidations tell whether the
	 * entry is still good.  Copy out first: the entry may go away.
	 */
	sql = pstrdup(entry->sql);
	*serverid = entry->serverid;
	generation = shape_cache_generation;
	LockRelationOid(entry->shardrelid, AccessShareLock);
	if (shape_cache_generation != generation)
		return NULL;
	*nparams = s->nparams;
	shape_params(s, types, origin);
	*values = shape_values(s);
	return sql;
}

/*
 * Does what the deparser made for a shape (sf_shard_query_sql_params'
 * results) have the parameters the shape numbers by itself?
 */
bool
sf_shape_cache_agrees(void *shape, int nparams, const Oid *types,
					   char *const *values, const int *origin)
{
	Shape *s = shape;
	char	  **mine;
	int			i;

	if (s == NULL || nparams != s->nparams)
		return false;
	for (i = 0; i < nparams; i++)
		if (types[i] != s->params[i].type ||
			(origin ? origin[i] : 0) != s->params[i].origin)
			return false;
	mine = shape_values(s);
	for (i = 0; i < nparams; i++)
	{
		if (s->params[i].origin > 0)
			continue;
		if ((mine[i] == NULL) != (values[i] == NULL) ||
			(mine[i] != NULL && strcmp(mine[i], values[i]) != 0))
			return false;
	}
	return true;
}

/* The foreign table of the shard holding shard index shardindex of relid */
static Oid
shard_relid(Oid relid, int shardindex)
{
	const SfTable *table = sf_lookup_table(relid);
	int			owner;
	int			i;

	if (table == NULL)
		return InvalidOid;
	owner = sf_shard_index_owner(table, shardindex);
	for (i = 0; i < table->nplacements; i++)
		if (table->placements[i].shardindex == owner)
			return table->placements[i].shardrelid;
	return InvalidOid;
}

/*
 * Keep the worker statement the deparser made for a shape (from
 * sf_shape_cache_lookup) whose parameters agree with it
 * (sf_shape_cache_agrees).
 */
void
sf_shape_cache_remember(void *shape, const char *sql, Oid serverid)
{
	Shape *s = shape;
	ShapeCacheEntry *entry;
	uint32		hash;
	bool		found;
	Oid			relid;
	Oid			shardrelid;
	char	   *key;
	char	   *sqlcopy;

	memcpy(&relid, s->key.data, sizeof(Oid));	/* shape_of put it first */
	shardrelid = shard_relid(relid, s->shardindex);
	if (!OidIsValid(shardrelid))
		return;
	shape_cache_prepare();
	key = MemoryContextAlloc(shape_cache_cxt, s->key.len);
	memcpy(key, s->key.data, s->key.len);
	sqlcopy = MemoryContextStrdup(shape_cache_cxt, sql);
	hash = hash_bytes((const unsigned char *) s->key.data, s->key.len);
	entry = hash_search(shape_cache, &hash, HASH_ENTER, &found);
	if (found)
	{
		/* another shape with the same hash: the newest wins */
		pfree(entry->key);
		pfree(entry->sql);
	}
	entry->key = key;
	entry->keylen = s->key.len;
	entry->sql = sqlcopy;
	entry->serverid = serverid;
	entry->shardrelid = shardrelid;
}
