/*-------------------------------------------------------------------------
 *
 * deparse.c
 *	  Which expressions may be evaluated by a worker, and the SQL text sent
 *	  to workers by the shardfdw foreign-data wrapper.
 *
 * Assumptions:
 *	- The remote session's search_path is exactly pg_catalog, so every name
 *	  sent is schema-qualified unless it lives in pg_catalog.  Expressions
 *	  are printed by PostgreSQL's own deparser (ruleutils.c) while the local
 *	  search_path is temporarily pg_catalog alone, which makes it qualify
 *	  everything else.
 *	- Only built-in (OID < FirstGenbkiObjectId), IMMUTABLE functions and
 *	  operators are shipped: they exist and behave the same on a worker of
 *	  the same major version; and the STABLE ones whose only setting is
 *	  TimeZone, which the connection layer keeps equal to the coordinator's
 *	  (sf_timezone_only_function; the planner strategies use it too).
 *	- The worker's database has the coordinator's encoding and default
 *	  collation (checked when a node is added), and the remote table has the
 *	  same column collations as the foreign table.  So an expression may use
 *	  the default collation, no collation, or a collation that comes from a
 *	  column of the scanned table.  COLLATE clauses are never shipped.
 *	- Constants are printed with the transmission modes of the connection
 *	  layer (DateStyle ISO, IntervalStyle postgres, extra_float_digits 3).
 *	- A column whose column_name option differs from its local name makes
 *	  every expression that uses it non-shippable (the remote table's column
 *	  names are the local ones in everything shardfdw creates).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/transam.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fdw.h"
#include "fdw_option.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

/* Walker state of sf_is_shippable. */
typedef struct ShipContext
{
	Index		varno;			/* range-table index of the scanned rel */
	Oid			reloid;			/* OID of the scanned foreign table */
	Relids		outer_relids;	/* rels whose Vars may be sent as parameters */
	Node	   *root;			/* the whole expression being checked */
} ShipContext;

/* Mutator state of sf_deparse_expr. */
typedef struct DeparseContext
{
	Index		varno;			/* Vars with this varno become varno 1 */
	List	   *params;			/* Params found so far: $1 is the first */
} DeparseContext;

/*
 * Is this object built into PostgreSQL (so it exists on every worker)?
 */
static inline bool
is_builtin(Oid objectid)
{
	return objectid < FirstGenbkiObjectId;
}

/*
 * May a value of this type be sent to a worker?  Built-in types always;
 * enums and domains too, since the shard table on the worker was created
 * with the same types (their names are printed schema-qualified).
 */
static bool
type_is_shippable(Oid typid)
{
	char		typtype;

	if (is_builtin(typid))
		return true;
	typtype = get_typtype(typid);
	return typtype == TYPTYPE_ENUM || typtype == TYPTYPE_DOMAIN;
}

/*
 * Would a value of type typid converted to text on a worker differ from the
 * same conversion here?  The output of float4 / float8 depends on
 * extra_float_digits, which the remote sessions set to 3 (values travel
 * exactly); any setting above 0 gives the same shortest exact text, but 0
 * or less rounds.  Arrays of them and row types (whose fields may be
 * floats) too.  The conversion is immutable, so it would be shipped.
 */
bool
sf_text_output_differs_remotely(Oid typid)
{
	Oid			elemtype;

	if (extra_float_digits > 0)
		return false;
	typid = getBaseType(typid);
	if (typid == FLOAT4OID || typid == FLOAT8OID)
		return true;
	elemtype = get_element_type(typid);
	if (OidIsValid(elemtype))
		return sf_text_output_differs_remotely(elemtype);
	return type_is_rowtype(typid);
}

/*
 * Built-in stable functions that depend on no setting but TimeZone:
 * conversions and comparisons between timestamptz and date or timestamp,
 * timestamptz arithmetic, fields, truncation, series and window ranges.
 * The workers' sessions have the coordinator's TimeZone for every
 * statement (src/connection), so they compute what the coordinator would.
 * Not among them: text input and output and to_char (DateStyle, lc_time),
 * functions of the current date (age(timestamptz), timezone(text, timetz)).
 */
bool
sf_timezone_only_function(Oid funcid)
{
	switch (funcid)
	{
		case F_TIMESTAMPTZ_DATE:
		case F_TIMESTAMPTZ_DATE_TIME:
		case F_DATE_TIMESTAMPTZ:
		case F_TIMESTAMPTZ_TIMESTAMP:
		case F_TIMESTAMP_TIMESTAMPTZ:
		case F_TIMETZ_TIMESTAMPTZ:
		case F_TIME_TIMESTAMPTZ:
		case F_TIMESTAMPTZ_PL_INTERVAL:
		case F_TIMESTAMPTZ_MI_INTERVAL:
		case F_INTERVAL_PL_TIMESTAMPTZ:
		case F_DATE_PART_TEXT_TIMESTAMPTZ:
		case F_EXTRACT_TEXT_TIMESTAMPTZ:
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ:
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT:
		case F_GENERATE_SERIES_TIMESTAMPTZ_TIMESTAMPTZ_INTERVAL:
		case F_IN_RANGE_TIMESTAMPTZ_TIMESTAMPTZ_INTERVAL_BOOL_BOOL:
		case F_OVERLAPS_TIMESTAMPTZ_TIMESTAMPTZ_TIMESTAMPTZ_INTERVAL:
		case F_OVERLAPS_TIMESTAMPTZ_INTERVAL_TIMESTAMPTZ_INTERVAL:
		case F_OVERLAPS_TIMESTAMPTZ_INTERVAL_TIMESTAMPTZ_TIMESTAMPTZ:
		case F_DATE_LT_TIMESTAMPTZ:
		case F_DATE_LE_TIMESTAMPTZ:
		case F_DATE_EQ_TIMESTAMPTZ:
		case F_DATE_GT_TIMESTAMPTZ:
		case F_DATE_GE_TIMESTAMPTZ:
		case F_DATE_NE_TIMESTAMPTZ:
		case F_DATE_CMP_TIMESTAMPTZ:
		case F_TIMESTAMPTZ_LT_DATE:
		case F_TIMESTAMPTZ_LE_DATE:
		case F_TIMESTAMPTZ_EQ_DATE:
		case F_TIMESTAMPTZ_GT_DATE:
		case F_TIMESTAMPTZ_GE_DATE:
		case F_TIMESTAMPTZ_NE_DATE:
		case F_TIMESTAMPTZ_CMP_DATE:
		case F_TIMESTAMP_LT_TIMESTAMPTZ:
		case F_TIMESTAMP_LE_TIMESTAMPTZ:
		case F_TIMESTAMP_EQ_TIMESTAMPTZ:
		case F_TIMESTAMP_GT_TIMESTAMPTZ:
		case F_TIMESTAMP_GE_TIMESTAMPTZ:
		case F_TIMESTAMP_NE_TIMESTAMPTZ:
		case F_TIMESTAMP_CMP_TIMESTAMPTZ:
		case F_TIMESTAMPTZ_LT_TIMESTAMP:
		case F_TIMESTAMPTZ_LE_TIMESTAMP:
		case F_TIMESTAMPTZ_EQ_TIMESTAMP:
		case F_TIMESTAMPTZ_GT_TIMESTAMP:
		case F_TIMESTAMPTZ_GE_TIMESTAMP:
		case F_TIMESTAMPTZ_NE_TIMESTAMP:
		case F_TIMESTAMPTZ_CMP_TIMESTAMP:
			return true;
		default:
			return false;
	}
}

/*
 * Is this function built-in and immutable, or stable of TimeZone alone?
 */
static bool
func_is_shippable(Oid funcid)
{
	return is_builtin(funcid) &&
		(func_volatile(funcid) == PROVOLATILE_IMMUTABLE ||
		 sf_timezone_only_function(funcid));
}

/* State of has_var_with_collation_walker */
typedef struct CollationContext
{
	Oid			collid;
	Index		varno;			/* the scanned rel */
} CollationContext;

/* Walker: does the expression contain a Var of our rel with this collation? */
static bool
has_var_with_collation_walker(Node *node, CollationContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varno == context->varno &&
			((Var *) node)->varlevelsup == 0 &&
			((Var *) node)->varcollid == context->collid;
	return expression_tree_walker(node, has_var_with_collation_walker,
								  context);
}

/*
 * A collation may be used remotely if it is none, the default, or one that
 * a column of the scanned table (appearing below "node") brings.  A Var of
 * an outer rel brings none: it is sent as a parameter, which has the
 * default collation on the worker.
 */
static bool
collation_is_shippable(Oid collid, Node *node, ShipContext *ship)
{
	CollationContext context;

	if (!OidIsValid(collid) || collid == DEFAULT_COLLATION_OID)
		return true;
	context.collid = collid;
	context.varno = ship->varno;
	return has_var_with_collation_walker(node, &context);
}

/*
 * Does the column have a column_name option that renames it remotely?
 */
static bool
column_is_renamed(Oid reloid, AttrNumber attnum)
{
	List	   *options = GetForeignColumnOptions(reloid, attnum);
	const char *remote = sf_option_string(options, "column_name", NULL);

	return remote != NULL && strcmp(remote, get_attname(reloid, attnum, false)) != 0;
}

static bool
ship_walker(Node *node, ShipContext *context)
{
	if (node == NULL)
		return false;

	switch (nodeTag(node))
	{
		case T_Var:
			{
				Var		   *var = (Var *) node;

				if (var->varlevelsup != 0)
					return true;
				if (var->varno != context->varno)
				{
					/*
					 * a Var of an outer rel of a nested loop: a parameter
					 * ("$n::type", the default collation remotely)
					 */
					return !bms_is_member(var->varno, context->outer_relids) ||
						!type_is_shippable(var->vartype) ||
						(OidIsValid(var->varcollid) &&
						 var->varcollid != DEFAULT_COLLATION_OID);
				}
				if (var->varattno <= 0 ||
					column_is_renamed(context->reloid, var->varattno))
					return true;
				return false;
			}
		case T_Const:
			{
				Const	   *c = (Const *) node;

				if (!type_is_shippable(c->consttype) ||
					!collation_is_shippable(c->constcollid, context->root, context))
					return true;
				return false;
			}
		case T_Param:
			{
				Param	   *p = (Param *) node;

				if (p->paramkind != PARAM_EXTERN && p->paramkind != PARAM_EXEC)
					return true;
				/* sent as "$n::type": the default collation remotely */
				if (!type_is_shippable(p->paramtype) ||
					(OidIsValid(p->paramcollid) &&
					 p->paramcollid != DEFAULT_COLLATION_OID))
					return true;
				break;
			}
		case T_FuncExpr:
			{
				FuncExpr   *f = (FuncExpr *) node;

				if (f->funcretset || !func_is_shippable(f->funcid) ||
					!collation_is_shippable(f->inputcollid, node, context) ||
					!collation_is_shippable(f->funccollid, node, context))
					return true;
				break;
			}
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			{
				OpExpr	   *op = (OpExpr *) node;

				set_opfuncid(op);
				if (op->opretset || !is_builtin(op->opno) ||
					!func_is_shippable(op->opfuncid) ||
					!collation_is_shippable(op->inputcollid, node, context) ||
					!collation_is_shippable(op->opcollid, node, context))
					return true;
				break;
			}
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) node;

				set_sa_opfuncid(op);
				if (!is_builtin(op->opno) || !func_is_shippable(op->opfuncid) ||
					!collation_is_shippable(op->inputcollid, node, context))
					return true;
				break;
			}
		case T_BoolExpr:
		case T_BooleanTest:
		case T_CaseTestExpr:
		case T_CaseWhen:
		case T_List:
			break;
		case T_NullTest:
			if (((NullTest *) node)->argisrow)
				return true;
			break;
		case T_RelabelType:
			{
				RelabelType *r = (RelabelType *) node;

				if (!type_is_shippable(r->resulttype) ||
					!collation_is_shippable(r->resultcollid, node, context))
					return true;
				break;
			}
		case T_CoerceViaIO:
			{
				CoerceViaIO *c = (CoerceViaIO *) node;
				Oid			argtype = exprType((Node *) c->arg);
				Oid			outfunc;
				Oid			infunc;
				Oid			ioparam;
				bool		isvarlena;

				if (!type_is_shippable(c->resulttype) ||
					!collation_is_shippable(c->resultcollid, node, context) ||
					sf_text_output_differs_remotely(argtype))
					return true;
				getTypeOutputInfo(argtype, &outfunc, &isvarlena);
				getTypeInputInfo(c->resulttype, &infunc, &ioparam);
				if (!func_is_shippable(outfunc) || !func_is_shippable(infunc))
					return true;
				break;
			}
		case T_ArrayExpr:
			{
				ArrayExpr  *a = (ArrayExpr *) node;

				if (!type_is_shippable(a->array_typeid) ||
					!collation_is_shippable(a->array_collid, node, context))
					return true;
				break;
			}
		case T_CaseExpr:
			{
				CaseExpr   *c = (CaseExpr *) node;

				if (!type_is_shippable(c->casetype) ||
					!collation_is_shippable(c->casecollid, node, context))
					return true;
				break;
			}
		default:
			return true;
	}

	return expression_tree_walker(node, ship_walker, (void *) context);
}

/*
 * sf_is_shippable
 *		May "expr", a clause on the foreign table "reloid" scanned as range
 *		table entry "varno", be evaluated by the worker with the same
 *		result as locally?  Vars of the rels in outer_relids (the outer side
 *		of a parameterized path) are allowed: they are sent as parameters.
 */
bool
sf_is_shippable(Index varno, Oid reloid, Expr *expr, Relids outer_relids)
{
	ShipContext context;

	context.varno = varno;
	context.reloid = reloid;
	context.outer_relids = outer_relids;
	context.root = (Node *) expr;
	return !ship_walker((Node *) expr, &context);
}

/*
 * The Param standing for "node" (a Param, or a Var of an outer rel) in the
 * remote SQL: $n, n being its position in context->params.
 */
static Node *
make_remote_param(Node *node, Oid type, int32 typmod, Oid collid,
				  DeparseContext *context)
{
	Param	   *ext;
	int			paramno = 0;
	ListCell   *lc;

	foreach(lc, context->params)
	{
		if (equal(lfirst(lc), node))
		{
			paramno = foreach_current_index(lc) + 1;
			break;
		}
	}
	if (paramno == 0)
	{
		context->params = lappend(context->params, copyObject(node));
		paramno = list_length(context->params);
	}

	ext = makeNode(Param);
	ext->paramkind = PARAM_EXTERN;
	ext->paramid = paramno;
	ext->paramtype = type;
	ext->paramtypmod = -1;
	ext->paramcollid = collid;
	ext->location = -1;
	/* an explicit cast prints as ($n)::type, so the worker knows it */
	return (Node *) makeRelabelType((Expr *) ext, type, typmod, collid,
									COERCE_EXPLICIT_CAST);
}

/*
 * Mutator: renumber the scanned rel's Vars to 1 (the single entry of the
 * deparse context) and replace every Param, and every Var of another rel,
 * by an explicitly cast PARAM_EXTERN Param numbered in our own parameter
 * list.
 */
static Node *
deparse_mutator(Node *node, DeparseContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varno != context->varno)
			return make_remote_param(node, var->vartype, var->vartypmod,
									 var->varcollid, context);
		var = (Var *) copyObject(node);
		var->varno = 1;
		var->varnosyn = 1;
		var->varattnosyn = var->varattno;
		return (Node *) var;
	}
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		return make_remote_param(node, p->paramtype, p->paramtypmod,
								 p->paramcollid, context);
	}
	return expression_tree_mutator(node, deparse_mutator, (void *) context);
}

/*
 * sf_deparse_expr
 *		SQL text of a shippable expression (see sf_is_shippable) on the
 *		foreign table "reloid" scanned as range table entry "varno".
 *
 * Params, and Vars of rels other than varno, become $n, where n is their
 * position in *params (those already in the list are reused; new ones are
 * appended).  The caller evaluates the expressions of *params at execution
 * time and sends them as text.
 */
char *
sf_deparse_expr(Node *expr, Index varno, Oid reloid, List **params)
{
	DeparseContext context;
	Node	   *mutated;
	List	   *dpcontext;
	char	   *result;
	int			guc_level;
	int			modes_level;

	context.varno = varno;
	context.params = *params;
	mutated = deparse_mutator(expr, &context);
	*params = context.params;

	dpcontext = deparse_context_for(get_rel_name(reloid), reloid);

	guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	modes_level = sf_set_transmission_modes();
	PG_TRY();
	{
		result = deparse_expression(mutated, dpcontext, false, true);
	}
	PG_FINALLY();
	{
		sf_reset_transmission_modes(modes_level);
		AtEOXact_GUC(true, guc_level);
	}
	PG_END_TRY();

	return result;
}

/*
 * sf_append_remote_table
 *		Append the schema-qualified remote name of a foreign table: options
 *		schema_name / table_name, defaulting to the local names.
 */
void
sf_append_remote_table(StringInfo buf, Relation rel)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	const char *nspname;
	const char *relname;

	nspname = sf_option_string(table->options, "schema_name",
							   get_namespace_name(RelationGetNamespace(rel)));
	relname = sf_option_string(table->options, "table_name",
							   RelationGetRelationName(rel));
	appendStringInfoString(buf, quote_qualified_identifier(nspname, relname));
}

/*
 * sf_remote_column
 *		Quoted remote name of a column (option column_name, else the local
 *		name); "ctid" for the system column.
 */
const char *
sf_remote_column(Relation rel, AttrNumber attnum)
{
	if (attnum == SelfItemPointerAttributeNumber)
		return "ctid";
	return quote_identifier(sf_remote_column_name(rel, attnum));
}

/*
 * sf_remote_column_name
 *		Unquoted remote name of a user column (option column_name, else the
 *		local name).
 */
const char *
sf_remote_column_name(Relation rel, AttrNumber attnum)
{
	List	   *options = GetForeignColumnOptions(RelationGetRelid(rel), attnum);

	return sf_option_string(options, "column_name",
							NameStr(TupleDescAttr(rel->rd_att, attnum - 1)->attname));
}

/*
 * sf_build_select
 *		"SELECT cols FROM remote_table" for the columns in attrs_used (attnos
 *		offset by FirstLowInvalidHeapAttributeNumber; a whole-row reference
 *		means every column, ctid is fetched when listed).  *retrieved_attrs
 *		receives the attnos of the output columns, in order.  The caller
 *		appends the WHERE clause.
 */
void
sf_build_select(StringInfo buf, Relation rel, Bitmapset *attrs_used,
				List **retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		all = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
									attrs_used);
	bool		first = true;
	int			i;

	*retrieved_attrs = NIL;
	appendStringInfoString(buf, "SELECT ");
	for (i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		if (!all && !bms_is_member(i - FirstLowInvalidHeapAttributeNumber,
								   attrs_used))
			continue;
		appendStringInfo(buf, "%s%s", first ? "" : ", ",
						 sf_remote_column(rel, i));
		*retrieved_attrs = lappend_int(*retrieved_attrs, i);
		first = false;
	}
	if (bms_is_member(SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber,
					  attrs_used))
	{
		appendStringInfo(buf, "%sctid", first ? "" : ", ");
		*retrieved_attrs = lappend_int(*retrieved_attrs,
									   SelfItemPointerAttributeNumber);
		first = false;
	}
	if (first)
		appendStringInfoString(buf, "NULL");
	appendStringInfoString(buf, " FROM ");
	sf_append_remote_table(buf, rel);
}

/*
 * sf_append_returning
 *		Append " RETURNING <every column>" and set *retrieved_attrs.
 */
void
sf_append_returning(StringInfo buf, Relation rel, List **retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		first = true;
	int			i;

	*retrieved_attrs = NIL;
	for (i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		appendStringInfo(buf, "%s%s", first ? " RETURNING " : ", ",
						 sf_remote_column(rel, i));
		*retrieved_attrs = lappend_int(*retrieved_attrs, i);
		first = false;
	}
	if (first)
		appendStringInfoString(buf, " RETURNING NULL");
}

/* Append "$n::type" for column attnum. */
static void
append_param(StringInfo buf, Relation rel, int paramno, AttrNumber attnum)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	int			guc_level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	appendStringInfo(buf, "$%d::%s", paramno,
					 format_type_with_typemod(att->atttypid, att->atttypmod));
	AtEOXact_GUC(true, guc_level);
}

/*
 * sf_build_insert
 *		"INSERT INTO remote (cols) VALUES ($1::t1, ...)" for target_attrs,
 *		with nrows rows of parameters ($1..$k for the first row, and so on),
 *		optionally with ON CONFLICT DO NOTHING and RETURNING every column.
 */
void
sf_build_insert(StringInfo buf, Relation rel, List *target_attrs, int nrows,
				bool on_conflict_nothing, bool returning,
				List **retrieved_attrs)
{
	ListCell   *lc;
	int			ncols = list_length(target_attrs);
	int			row;

	appendStringInfoString(buf, "INSERT INTO ");
	sf_append_remote_table(buf, rel);
	if (target_attrs == NIL)
		appendStringInfoString(buf, " DEFAULT VALUES");
	else
	{
		appendStringInfoString(buf, " (");
		foreach(lc, target_attrs)
			appendStringInfo(buf, "%s%s", foreach_current_index(lc) ? ", " : "",
							 sf_remote_column(rel, lfirst_int(lc)));
		appendStringInfoString(buf, ") VALUES ");
		for (row = 0; row < nrows; row++)
		{
			appendStringInfoString(buf, row > 0 ? ", (" : "(");
			foreach(lc, target_attrs)
			{
				if (foreach_current_index(lc))
					appendStringInfoString(buf, ", ");
				append_param(buf, rel, row * ncols + foreach_current_index(lc) + 1,
							 lfirst_int(lc));
			}
			appendStringInfoChar(buf, ')');
		}
	}
	if (on_conflict_nothing)
		appendStringInfoString(buf, " ON CONFLICT DO NOTHING");
	*retrieved_attrs = NIL;
	if (returning)
		sf_append_returning(buf, rel, retrieved_attrs);
}

/*
 * sf_build_copy
 *		"COPY remote (cols) FROM STDIN" for target_attrs.
 */
void
sf_build_copy(StringInfo buf, Relation rel, List *target_attrs)
{
	ListCell   *lc;

	appendStringInfoString(buf, "COPY ");
	sf_append_remote_table(buf, rel);
	appendStringInfoString(buf, " (");
	foreach(lc, target_attrs)
		appendStringInfo(buf, "%s%s", foreach_current_index(lc) ? ", " : "",
						 sf_remote_column(rel, lfirst_int(lc)));
	appendStringInfoString(buf, ") FROM STDIN");
}

/*
 * sf_build_update
 *		"UPDATE remote SET c = $1::t, ... WHERE ctid = $n::tid" where $n
 *		follows the values of target_attrs; optionally RETURNING.
 */
void
sf_build_update(StringInfo buf, Relation rel, List *target_attrs,
				bool returning, List **retrieved_attrs)
{
	ListCell   *lc;

	appendStringInfoString(buf, "UPDATE ");
	sf_append_remote_table(buf, rel);
	appendStringInfoString(buf, " SET ");
	foreach(lc, target_attrs)
	{
		appendStringInfo(buf, "%s%s = ", foreach_current_index(lc) ? ", " : "",
						 sf_remote_column(rel, lfirst_int(lc)));
		append_param(buf, rel, foreach_current_index(lc) + 1, lfirst_int(lc));
	}
	appendStringInfo(buf, " WHERE ctid = $%d::pg_catalog.tid",
					 list_length(target_attrs) + 1);
	*retrieved_attrs = NIL;
	if (returning)
		sf_append_returning(buf, rel, retrieved_attrs);
}

/*
 * sf_build_delete
 *		"DELETE FROM remote WHERE ctid = $1::tid", optionally RETURNING.
 */
void
sf_build_delete(StringInfo buf, Relation rel, bool returning,
				List **retrieved_attrs)
{
	appendStringInfoString(buf, "DELETE FROM ");
	sf_append_remote_table(buf, rel);
	appendStringInfoString(buf, " WHERE ctid = $1::pg_catalog.tid");
	*retrieved_attrs = NIL;
	if (returning)
		sf_append_returning(buf, rel, retrieved_attrs);
}
