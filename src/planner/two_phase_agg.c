/*-------------------------------------------------------------------------
 *
 * two_phase_agg.c
 *	  Two-phase aggregates: worker partials, a coordinator combine.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "planner.h"
#include "planner_internal.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "access/htup_details.h"

/* Transition type of an aggregate, InvalidOid if polymorphic. */
static Oid
aggregate_transtype(Oid aggfnoid)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Oid			transtype;

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	transtype = ((Form_pg_aggregate) GETSTRUCT(tuple))->aggtranstype;
	ReleaseSysCache(tuple);
	return IsPolymorphicType(transtype) ? InvalidOid : transtype;
}

/* A coordinator aggregate call over one column of the scan. */
static Aggref *
combine_aggref(Oid aggfnoid, Oid aggtype, Oid collid, Oid inputcollid,
			   Var *arg)
{
	Aggref	   *a = makeNode(Aggref);

	a->aggfnoid = aggfnoid;
	a->aggtype = aggtype;
	a->aggcollid = collid;
	a->inputcollid = inputcollid;
	a->aggtranstype = aggregate_transtype(aggfnoid);
	a->aggargtypes = list_make1_oid(arg->vartype);
	a->args = list_make1(makeTargetEntry((Expr *) arg, 1, NULL, false));
	a->aggkind = AGGKIND_NORMAL;
	a->agglevelsup = 0;
	a->aggsplit = AGGSPLIT_SIMPLE;
	a->location = -1;
	return a;
}

/*
 * An aggregate call as the workers compute it, for comparing partials:
 * what the coordinator's own planning fields (transition type, numbering)
 * say does not change the worker SQL.
 */
static Aggref *
partial_key(Aggref *a)
{
	Aggref	   *k = copyObject(a);

	k->aggtranstype = InvalidOid;
	k->aggno = -1;
	k->aggtransno = -1;
	k->aggsplit = AGGSPLIT_SIMPLE;
	return k;
}

/*
 * Append a partial aggregate to the workers' target list; its resno.  An
 * identical partial already there (sum(x) of sum(x) and of avg(x), count(x)
 * of two avg(x)...) is computed once and shared.
 */
static AttrNumber
add_partial(List **wtlist, Expr *expr)
{
	AttrNumber	resno = list_length(*wtlist) + 1;
	ListCell   *lc;

	if (IsA(expr, Aggref))
	{
		Aggref	   *key = partial_key((Aggref *) expr);

		foreach(lc, *wtlist)
		{
			TargetEntry *tle = lfirst(lc);

			if (IsA(tle->expr, Aggref) &&
				equal(partial_key((Aggref *) tle->expr), key))
				return tle->resno;
		}
	}

	*wtlist = lappend(*wtlist,
					  makeTargetEntry(expr, resno,
									  psprintf("partial%d", resno), false));
	return resno;
}

/* A partial appended to the workers' target list, as a Var of the scan */
static Var *
partial_var(List **wtlist, Expr *partial, Oid type)
{
	return makeVar(OUTER_VAR, add_partial(wtlist, partial), type, -1,
				   InvalidOid, 0);
}

/* walker collecting the Aggrefs of an expression */
static bool
collect_aggrefs(Node *node, List **aggs)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		*aggs = lappend(*aggs, node);
		return false;
	}
	return expression_tree_walker(node, collect_aggrefs, aggs);
}

/* numeric sum over a column, as bigint (counts, sums of int2/int4) */
static Expr *
combine_as_int8(Aggref *sum)
{
	return (Expr *) makeFuncExpr(F_INT8_NUMERIC, INT8OID, list_make1(sum),
								 InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

/* A numeric function call of two arguments (numeric_mul, numeric_le...) */
static Expr *
numeric_call(Oid funcid, Oid rettype, Expr *a, Expr *b)
{
	return (Expr *) makeFuncExpr(funcid, rettype, list_make2(a, b),
								 InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

/* The numeric NaN */
static Expr *
numeric_nan(void)
{
	return (Expr *) makeConst(NUMERICOID, -1, InvalidOid, -1,
							  DirectFunctionCall3(numeric_in,
												  CStringGetDatum("NaN"),
												  ObjectIdGetDatum(InvalidOid),
												  Int32GetDatum(-1)),
							  false, false);
}

/* A FILTER of a partial: the aggregate's own FILTER (if any) AND cond */
static Expr *
and_filter(Expr *filter, Expr *cond)
{
	if (filter == NULL)
		return cond;
	return (Expr *) makeBoolExpr(AND_EXPR, list_make2(copyObject(filter), cond),
								 -1);
}

/* A numeric constant of an integer value (display scale 0) */
static Expr *
numeric_const(int64 value)
{
	return (Expr *) makeConst(NUMERICOID, -1, InvalidOid, -1,
							  NumericGetDatum(int64_to_numeric(value)),
							  false, false);
}

/* A numeric function call of one argument and an int4 (round, trunc) */
static Expr *
numeric_int_call(Oid funcid, Expr *a, Expr *i)
{
	return (Expr *) makeFuncExpr(funcid, NUMERICOID, list_make2(a, i),
								 InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

/*
 * The square root of q (numeric, > 0) as the stddev aggregates compute it:
 * sqrt_var(q, r) with r = scale(q), which is sqrt(q) correctly rounded
 * (half up) to r digits.  sqrt() of q * 1.0 gives c = sqrt(q) correctly
 * rounded to R >= r + 1 digits; round(c, r) is the answer except when c is
 * exactly halfway between two r-digit numbers while sqrt(q) < c (c * c > q),
 * where the answer is trunc(c, r).
 */
static Expr *
numeric_sqrt_at_scale(Expr *q)
{
	Expr	   *r = (Expr *) makeFuncExpr(F_SCALE, INT4OID,
										  list_make1(copyObject(q)),
										  InvalidOid, InvalidOid,
										  COERCE_EXPLICIT_CALL);
	Expr	   *one = (Expr *) makeConst(NUMERICOID, -1, InvalidOid, -1,
										 DirectFunctionCall3(numeric_in,
															 CStringGetDatum("1.0"),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)),
										 false, false);
	Expr	   *c = (Expr *) makeFuncExpr(F_SQRT_NUMERIC, NUMERICOID,
										  list_make1(numeric_call(F_NUMERIC_MUL,
																  NUMERICOID,
																  copyObject(q),
																  one)),
										  InvalidOid, InvalidOid,
										  COERCE_EXPLICIT_CALL);
	Expr	   *rounded = numeric_int_call(F_ROUND_NUMERIC_INT4, copyObject(c),
										   copyObject(r));
	Expr	   *truncated = numeric_int_call(F_TRUNC_NUMERIC_INT4,
											 copyObject(c), copyObject(r));
	Expr	   *halfway;
	CaseExpr   *ce = makeNode(CaseExpr);
	CaseWhen   *w = makeNode(CaseWhen);

	/* c * c > q, round(c, r) - c = c - trunc(c, r), round(c, r) <> c */
	halfway = (Expr *) makeBoolExpr(AND_EXPR,
									list_make3(numeric_call(F_NUMERIC_GT, BOOLOID,
															numeric_call(F_NUMERIC_MUL, NUMERICOID,
																		 copyObject(c), copyObject(c)),
															copyObject(q)),
											   numeric_call(F_NUMERIC_EQ, BOOLOID,
															numeric_call(F_NUMERIC_SUB, NUMERICOID,
																		 copyObject(rounded), copyObject(c)),
															numeric_call(F_NUMERIC_SUB, NUMERICOID,
																		 copyObject(c), copyObject(truncated))),
											   numeric_call(F_NUMERIC_NE, BOOLOID,
															copyObject(rounded), copyObject(c))),
									-1);
	w->expr = halfway;
	w->result = truncated;
	w->location = -1;
	ce->casetype = NUMERICOID;
	ce->casecollid = InvalidOid;
	ce->arg = NULL;
	ce->args = list_make1(w);
	ce->defresult = rounded;
	ce->location = -1;
	return (Expr *) ce;
}

/*
 * var_samp / variance / var_pop of an integer column from the sums of the
 * workers' partials count(x), sum(x::numeric) and sum(x::numeric ^ 2),
 * computed with the same numeric operations as numeric_stddev_internal:
 * D = N * SX2 - SX * SX (exact); NULL if N = 0 (or N <= 1 for the sample
 * forms); 0 if D <= 0; else D / (N * (N - 1)) or D / (N * N), numeric_div
 * choosing the result scale exactly as the aggregate's final function does
 * (select_div_scale of the same operands); with stddev, the square root
 * of that quotient at its scale (numeric_sqrt_at_scale).
 */
static Expr *
combine_variance(Expr *n, Expr *sx, Expr *sx2, Expr *nan, bool sample,
				 bool stddev)
{
	Expr	   *d;
	Expr	   *den;
	CaseExpr   *c = makeNode(CaseExpr);
	CaseWhen   *w1 = makeNode(CaseWhen);
	CaseWhen   *w2 = makeNode(CaseWhen);
	NullTest   *nt = makeNode(NullTest);

	d = numeric_call(F_NUMERIC_SUB, NUMERICOID,
					 numeric_call(F_NUMERIC_MUL, NUMERICOID, n, sx2),
					 numeric_call(F_NUMERIC_MUL, NUMERICOID, sx,
								  copyObject(sx)));
	den = sample ?
		numeric_call(F_NUMERIC_MUL, NUMERICOID, copyObject(n),
					 numeric_call(F_NUMERIC_SUB, NUMERICOID, copyObject(n),
								  numeric_const(1))) :
		numeric_call(F_NUMERIC_MUL, NUMERICOID, copyObject(n),
					 copyObject(n));
	nt->arg = copyObject(n);
	nt->nulltesttype = IS_NULL;
	nt->argisrow = false;
	nt->location = -1;
	w1->expr = (Expr *) makeBoolExpr(OR_EXPR,
									 list_make2(nt,
												numeric_call(F_NUMERIC_LE, BOOLOID,
															 copyObject(n),
															 numeric_const(sample ? 1 : 0))),
									 -1);
	w1->result = (Expr *) makeNullConst(NUMERICOID, -1, InvalidOid);
	w1->location = -1;
	w2->expr = numeric_call(F_NUMERIC_LE, BOOLOID, copyObject(d),
							numeric_const(0));
	w2->result = numeric_const(0);
	w2->location = -1;
	c->casetype = NUMERICOID;
	c->casecollid = InvalidOid;
	c->arg = NULL;
	c->args = list_make2(w1, w2);
	if (nan != NULL)
	{
		/*
		 * numeric input: the NULL cases count every row, NaNs included (no
		 * row at all, or at most one for the sample forms), then a NaN
		 * gives NaN, then the finite values as above
		 */
		CaseWhen   *w0 = makeNode(CaseWhen);
		CaseWhen   *wnan = makeNode(CaseWhen);
		NullTest   *nt0 = copyObject(nt);

		w0->expr = (Expr *) makeBoolExpr(OR_EXPR,
										 list_make2(nt0,
													numeric_call(F_NUMERIC_LE, BOOLOID,
																 numeric_call(F_NUMERIC_ADD, NUMERICOID,
																			  copyObject(n), copyObject(nan)),
																 numeric_const(sample ? 1 : 0))),
										 -1);
		w0->result = (Expr *) makeNullConst(NUMERICOID, -1, InvalidOid);
		w0->location = -1;
		wnan->expr = numeric_call(F_NUMERIC_GT, BOOLOID, copyObject(nan),
								  numeric_const(0));
		wnan->result = numeric_nan();
		wnan->location = -1;
		c->args = list_make4(w0, wnan, w1, w2);
	}
	c->defresult = numeric_call(F_NUMERIC_DIV, NUMERICOID, d, den);
	if (stddev)
		c->defresult = numeric_sqrt_at_scale(c->defresult);
	c->location = -1;
	return (Expr *) c;
}

/* Are there outer joins in the join tree? */
static bool
has_outer_join(Node *jtnode)
{
	ListCell   *lc;

	if (jtnode == NULL || IsA(jtnode, RangeTblRef))
		return false;
	if (IsA(jtnode, FromExpr))
	{
		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			if (has_outer_join(lfirst(lc)))
				return true;
		return false;
	}
	if (IsA(jtnode, JoinExpr))
		return ((JoinExpr *) jtnode)->jointype != JOIN_INNER ||
			has_outer_join(((JoinExpr *) jtnode)->larg) ||
			has_outer_join(((JoinExpr *) jtnode)->rarg);
	return true;
}

/*
 * count(x) as count(*) when x can never be NULL: a column with NOT NULL of
 * a table of the statement, which has no outer join that could make it
 * NULL.  So avg(x) and count(x) share count(*) with a count(*) of the
 * statement.
 */
static void
count_star_if_not_null(Aggref *count, Query *parse)
{
	Var		   *v;
	RangeTblEntry *rte;
	HeapTuple	tuple;
	bool		notnull;

	if (parse == NULL || list_length(count->args) != 1)
		return;
	v = (Var *) ((TargetEntry *) linitial(count->args))->expr;
	if (!IsA(v, Var) || v->varlevelsup != 0 || v->varattno <= 0 ||
		v->varno > list_length(parse->rtable))
		return;
	rte = rt_fetch(v->varno, parse->rtable);
	if (rte->rtekind != RTE_RELATION || has_outer_join((Node *) parse->jointree))
		return;
	tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid),
							Int16GetDatum(v->varattno));
	if (!HeapTupleIsValid(tuple))
		return;
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	ReleaseSysCache(tuple);
	if (!notnull)
		return;
	count->aggfnoid = F_COUNT_;
	count->aggstar = true;
	count->args = NIL;
	count->aggargtypes = NIL;
	count->aggtranstype = INT8OID;
}

/* COALESCE(v, 0) of a float8 */
static Expr *
float8_or_zero(Var *v)
{
	CoalesceExpr *c = makeNode(CoalesceExpr);

	c->coalescetype = FLOAT8OID;
	c->coalescecollid = InvalidOid;
	c->args = list_make2(v, makeConst(FLOAT8OID, -1, InvalidOid, sizeof(float8),
									  Float8GetDatum(0.0), false,
									  FLOAT8PASSBYVAL));
	c->location = -1;
	return (Expr *) c;
}

/*
 * var_samp / variance / var_pop / stddev_samp / stddev / stddev_pop of a
 * float4 or float8 x: the aggregate's state is (N, Sx, Sxx) in float8
 * (float8_accum; float4 inputs converted first).  The workers return, per
 * group, count(x), sum(x::float8) and regr_sxx(0, x::float8), whose
 * accumulation (float8_regr_accum) computes Sxx as float8_accum does; the
 * coordinator folds the partial states with float8_combine, as a parallel
 * plan's Gather does, through the aggregate shardfdw.float8_states of the
 * extension script, and applies the aggregate's own final function.  NULL
 * when that aggregate is not there (an older extension script).
 */
static Expr *
float_variance(Aggref *a, List **wtlist, Query *parse)
{
	Oid			argtypes[1] = {FLOAT8ARRAYOID};
	Oid			states = LookupFuncName(list_make2(makeString("shardfdw"),
												   makeString("float8_states")),
										1, argtypes, true);
	TargetEntry *arg = linitial(a->args);
	Expr	   *x = arg->expr;
	Aggref	   *pcount = copyObject(a);
	Aggref	   *psum = copyObject(a);
	Aggref	   *psxx = copyObject(a);
	Aggref	   *state;
	ArrayExpr  *triple;
	Var		   *n;
	Var		   *sx;
	Var		   *sxx;
	Oid			final;

	if (!OidIsValid(states))
		return NULL;
	switch (a->aggfnoid)
	{
		case F_VAR_SAMP_FLOAT4:
		case F_VAR_SAMP_FLOAT8:
		case F_VARIANCE_FLOAT4:
		case F_VARIANCE_FLOAT8:
			final = F_FLOAT8_VAR_SAMP;
			break;
		case F_VAR_POP_FLOAT4:
		case F_VAR_POP_FLOAT8:
			final = F_FLOAT8_VAR_POP;
			break;
		case F_STDDEV_POP_FLOAT4:
		case F_STDDEV_POP_FLOAT8:
			final = F_FLOAT8_STDDEV_POP;
			break;
		default:
			final = F_FLOAT8_STDDEV_SAMP;
			break;
	}
	if (exprType((Node *) x) == FLOAT4OID)
		x = (Expr *) makeFuncExpr(F_FLOAT8_FLOAT4, FLOAT8OID,
								  list_make1(x), InvalidOid, InvalidOid,
								  COERCE_EXPLICIT_CAST);

	pcount->aggfnoid = F_COUNT_ANY;
	pcount->aggtype = INT8OID;
	count_star_if_not_null(pcount, parse);
	psum->aggfnoid = F_SUM_FLOAT8;
	psum->aggtype = FLOAT8OID;
	psum->aggargtypes = list_make1_oid(FLOAT8OID);
	((TargetEntry *) linitial(psum->args))->expr = copyObject(x);
	psxx->aggfnoid = F_REGR_SXX;
	psxx->aggtype = FLOAT8OID;
	psxx->aggargtypes = list_make2_oid(FLOAT8OID, FLOAT8OID);
	psxx->args = list_make2(makeTargetEntry((Expr *) makeConst(FLOAT8OID, -1, InvalidOid,
															   sizeof(float8),
															   Float8GetDatum(0.0),
															   false, FLOAT8PASSBYVAL),
											1, NULL, false),
							makeTargetEntry(copyObject(x), 2, NULL, false));

	/*
	 * ARRAY[N, Sx, Sxx] of each partial row: a group without rows is 0s
	 * (one statement per partial: their order numbers them)
	 */
	n = partial_var(wtlist, (Expr *) pcount, INT8OID);
	sx = partial_var(wtlist, (Expr *) psum, FLOAT8OID);
	sxx = partial_var(wtlist, (Expr *) psxx, FLOAT8OID);
	triple = makeNode(ArrayExpr);
	triple->array_typeid = FLOAT8ARRAYOID;
	triple->element_typeid = FLOAT8OID;
	triple->multidims = false;
	triple->location = -1;
	triple->elements = list_make3(makeFuncExpr(F_FLOAT8_INT8, FLOAT8OID,
											   list_make1(n), InvalidOid,
											   InvalidOid, COERCE_EXPLICIT_CALL),
								  float8_or_zero(sx), float8_or_zero(sxx));

	state = makeNode(Aggref);
	state->aggfnoid = states;
	state->aggtype = FLOAT8ARRAYOID;
	state->aggcollid = InvalidOid;
	state->inputcollid = InvalidOid;
	state->aggtranstype = aggregate_transtype(states);
	state->aggargtypes = list_make1_oid(FLOAT8ARRAYOID);
	state->args = list_make1(makeTargetEntry((Expr *) triple, 1, NULL, false));
	state->aggkind = AGGKIND_NORMAL;
	state->agglevelsup = 0;
	state->aggsplit = AGGSPLIT_SIMPLE;
	state->location = -1;
	return (Expr *) makeFuncExpr(final, FLOAT8OID, list_make1(state),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * The coordinator expression combining the partials of aggregate a, whose
 * partial aggregates are appended to *wtlist (the workers' target list);
 * NULL if a cannot be split.  parse is the query (for NOT NULL columns);
 * ungrouped: it has no GROUP BY (one result row even when no partial row
 * arrives).
 */
static Expr *
two_phase_aggref(Aggref *a, List **wtlist_p, Query *parse, bool ungrouped)
{
	List	   *wtlist = *wtlist_p;
	Expr	   *expr = NULL;
	AttrNumber	resno;
	Aggref	   *partial = copyObject(a);
	Var		   *pvar;

	if (a->aggdistinct != NIL || a->aggorder != NIL ||
		a->aggvariadic || a->aggkind != AGGKIND_NORMAL ||
		a->agglevelsup != 0 || list_length(a->args) > 1)
		return NULL;
	switch (a->aggfnoid)
	{
		case F_COUNT_:
		case F_COUNT_ANY:
			{
				CoalesceExpr *c = makeNode(CoalesceExpr);

				/*
				 * Without GROUP BY, the sum of the partial counts is NULL
				 * when no partial row arrives, which happens when the
				 * workers group (for a count(DISTINCT) next to it) and the
				 * input is empty; count is 0 then.
				 */
				if (a->aggfnoid == F_COUNT_ANY)
					count_star_if_not_null(partial, parse);
				pvar = partial_var(&wtlist, (Expr *) partial, INT8OID);
				if (!ungrouped)
				{
					expr = combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID,
														  InvalidOid, InvalidOid,
														  pvar));
					break;
				}
				c->coalescetype = INT8OID;
				c->coalescecollid = InvalidOid;
				c->args = list_make2(combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID,
																	InvalidOid, InvalidOid,
																	pvar)),
									 makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
											   Int64GetDatum(0), false, FLOAT8PASSBYVAL));
				c->location = -1;
				expr = (Expr *) c;
			}
			break;
		case F_SUM_INT2:
		case F_SUM_INT4:
			pvar = partial_var(&wtlist, (Expr *) partial, INT8OID);
			expr = combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID,
												  InvalidOid, InvalidOid,
												  pvar));
			break;
		case F_SUM_INT8:
		case F_SUM_NUMERIC:
			pvar = partial_var(&wtlist, (Expr *) partial, NUMERICOID);
			expr = (Expr *) combine_aggref(F_SUM_NUMERIC, NUMERICOID,
										   InvalidOid, InvalidOid, pvar);
			break;
		case F_SUM_FLOAT4:
		case F_SUM_FLOAT8:
			{
				Oid			t = a->aggfnoid == F_SUM_FLOAT4 ? FLOAT4OID : FLOAT8OID;

				/* float4pl / float8pl: PostgreSQL's own combine function */
				if (!shardfdw_float_partial_aggregates)
					return NULL;
				expr = (Expr *) combine_aggref(a->aggfnoid, t, InvalidOid,
											   InvalidOid,
											   partial_var(&wtlist, (Expr *) partial, t));
				break;
			}
		case F_AVG_FLOAT4:
		case F_AVG_FLOAT8:
			{
				Aggref	   *psum = partial;
				Aggref	   *pcount = copyObject(a);
				TargetEntry *arg = linitial(psum->args);
				Expr	   *csum;
				Expr	   *ccount;

				/*
				 * The aggregate's state is (N, Sx, Sxx) in float8, a float4
				 * input converted first; the average is Sx / N, and
				 * float8_combine adds the Sx of two partial states: the
				 * partials are sum(x::float8) and count(x).
				 */
				if (!shardfdw_float_partial_aggregates)
					return NULL;
				psum->aggfnoid = F_SUM_FLOAT8;
				psum->aggtype = FLOAT8OID;
				if (a->aggfnoid == F_AVG_FLOAT4)
				{
					arg->expr = (Expr *) makeFuncExpr(F_FLOAT8_FLOAT4, FLOAT8OID,
													  list_make1(arg->expr),
													  InvalidOid, InvalidOid,
													  COERCE_EXPLICIT_CAST);
					psum->aggargtypes = list_make1_oid(FLOAT8OID);
				}
				pcount->aggfnoid = F_COUNT_ANY;
				pcount->aggtype = INT8OID;
				count_star_if_not_null(pcount, parse);
				csum = (Expr *) combine_aggref(F_SUM_FLOAT8, FLOAT8OID,
											   InvalidOid, InvalidOid,
											   partial_var(&wtlist, (Expr *) psum, FLOAT8OID));
				ccount = combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID,
														InvalidOid, InvalidOid,
														partial_var(&wtlist, (Expr *) pcount, INT8OID)));
				ccount = (Expr *) makeFuncExpr(F_FLOAT8_INT8, FLOAT8OID,
											   list_make1(ccount),
											   InvalidOid, InvalidOid,
											   COERCE_EXPLICIT_CALL);
				/*
				 * float8div is strict: no rows gives NULL, as avg; a count
				 * of 0 comes with a NULL sum
				 */
				expr = (Expr *) makeFuncExpr(F_FLOAT8DIV, FLOAT8OID,
											 list_make2(csum, ccount),
											 InvalidOid, InvalidOid,
											 COERCE_EXPLICIT_CALL);
				break;
			}
		case F_VAR_SAMP_FLOAT4:
		case F_VAR_SAMP_FLOAT8:
		case F_VARIANCE_FLOAT4:
		case F_VARIANCE_FLOAT8:
		case F_VAR_POP_FLOAT4:
		case F_VAR_POP_FLOAT8:
		case F_STDDEV_SAMP_FLOAT4:
		case F_STDDEV_SAMP_FLOAT8:
		case F_STDDEV_FLOAT4:
		case F_STDDEV_FLOAT8:
		case F_STDDEV_POP_FLOAT4:
		case F_STDDEV_POP_FLOAT8:
			if (!shardfdw_float_partial_aggregates)
				return NULL;
			expr = float_variance(a, &wtlist, parse);
			if (expr == NULL)
				return NULL;
			break;
		case F_AVG_INT2:
		case F_AVG_INT4:
		case F_AVG_INT8:
		case F_AVG_NUMERIC:
			{
				Aggref	   *psum = partial;
				Aggref	   *pcount = copyObject(a);
				Oid			sumtype;
				Aggref	   *csum;
				Aggref	   *ccount;

				psum->aggfnoid = a->aggfnoid == F_AVG_INT2 ? F_SUM_INT2 :
					a->aggfnoid == F_AVG_INT4 ? F_SUM_INT4 :
					a->aggfnoid == F_AVG_INT8 ? F_SUM_INT8 : F_SUM_NUMERIC;
				sumtype = (a->aggfnoid == F_AVG_INT2 ||
						   a->aggfnoid == F_AVG_INT4) ? INT8OID : NUMERICOID;
				psum->aggtype = sumtype;
				pcount->aggfnoid = F_COUNT_ANY;
				pcount->aggtype = INT8OID;
				count_star_if_not_null(pcount, parse);
				csum = combine_aggref(sumtype == INT8OID ? F_SUM_INT8 : F_SUM_NUMERIC,
									  NUMERICOID, InvalidOid, InvalidOid,
									  partial_var(&wtlist, (Expr *) psum, sumtype));
				ccount = combine_aggref(F_SUM_INT8, NUMERICOID,
										InvalidOid, InvalidOid,
										partial_var(&wtlist, (Expr *) pcount, INT8OID));
				/* numeric_div is strict: no rows gives NULL, as avg */
				expr = (Expr *) makeFuncExpr(F_NUMERIC_DIV, NUMERICOID,
											 list_make2(csum, ccount),
											 InvalidOid, InvalidOid,
											 COERCE_EXPLICIT_CALL);
				break;
			}
		case F_VAR_SAMP_INT2:
		case F_VAR_SAMP_INT4:
		case F_VAR_SAMP_INT8:
		case F_VARIANCE_INT2:
		case F_VARIANCE_INT4:
		case F_VARIANCE_INT8:
		case F_VAR_POP_INT2:
		case F_VAR_POP_INT4:
		case F_VAR_POP_INT8:
		case F_STDDEV_SAMP_INT2:
		case F_STDDEV_SAMP_INT4:
		case F_STDDEV_SAMP_INT8:
		case F_STDDEV_INT2:
		case F_STDDEV_INT4:
		case F_STDDEV_INT8:
		case F_STDDEV_POP_INT2:
		case F_STDDEV_POP_INT4:
		case F_STDDEV_POP_INT8:
		case F_VAR_SAMP_NUMERIC:
		case F_VARIANCE_NUMERIC:
		case F_VAR_POP_NUMERIC:
		case F_STDDEV_SAMP_NUMERIC:
		case F_STDDEV_NUMERIC:
		case F_STDDEV_POP_NUMERIC:
			{
				TargetEntry *arg = linitial(a->args);
				Oid			argtype = exprType((Node *) arg->expr);
				Expr	   *x;
				Aggref	   *pcount = copyObject(a);
				Aggref	   *psum = copyObject(a);
				Aggref	   *psum2 = copyObject(a);
				Expr	   *n;
				Expr	   *sx;
				Expr	   *sx2;
				Expr	   *nan = NULL;
				int32		typmod = exprTypmod((Node *) arg->expr);

				if (argtype == NUMERICOID)
				{
					Aggref	   *pnan = copyObject(a);
					Expr	   *finite;

					/*
					 * A column of numeric(p, s), s <= 400: no infinities (the
					 * typmod refuses them) and result scales far below
					 * NUMERIC_MAX_DISPLAY_SCALE (numeric_sqrt_at_scale needs
					 * one more digit).  The aggregate counts NaNs apart: the
					 * workers return their count, and N, the sums over the
					 * other values.
					 */
					if (typmod < (int32) VARHDRSZ ||
						((((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024) > 400)
						return NULL;
					x = (Expr *) copyObject(arg->expr);
					finite = numeric_call(F_NUMERIC_NE, BOOLOID,
										  copyObject(x), numeric_nan());
					pcount->aggfilter = and_filter(a->aggfilter, finite);
					psum->aggfilter = and_filter(a->aggfilter, copyObject(finite));
					psum2->aggfilter = and_filter(a->aggfilter, copyObject(finite));
					pnan->aggfnoid = F_COUNT_ANY;
					pnan->aggtype = INT8OID;
					pnan->aggfilter = and_filter(a->aggfilter,
												 numeric_call(F_NUMERIC_EQ, BOOLOID,
															  copyObject(x),
															  numeric_nan()));
					nan = (Expr *) combine_aggref(F_SUM_INT8, NUMERICOID,
												  InvalidOid, InvalidOid,
												  partial_var(&wtlist, (Expr *) pnan, INT8OID));
				}
				else if (argtype == INT2OID || argtype == INT4OID ||
						 argtype == INT8OID)
				{
					/* the integer input as numeric, as the aggregate sees it */
					x = (Expr *) makeFuncExpr(argtype == INT2OID ? F_NUMERIC_INT2 :
											  argtype == INT4OID ? F_NUMERIC_INT4 :
											  F_NUMERIC_INT8, NUMERICOID,
											  list_make1(copyObject(arg->expr)),
											  InvalidOid, InvalidOid,
											  COERCE_EXPLICIT_CAST);
				}
				else
					return NULL;
				pcount->aggfnoid = F_COUNT_ANY;
				pcount->aggtype = INT8OID;
				psum->aggfnoid = F_SUM_NUMERIC;
				psum->aggtype = NUMERICOID;
				((TargetEntry *) linitial(psum->args))->expr = x;
				psum2->aggfnoid = F_SUM_NUMERIC;
				psum2->aggtype = NUMERICOID;
				((TargetEntry *) linitial(psum2->args))->expr =
					numeric_call(F_NUMERIC_MUL, NUMERICOID, copyObject(x),
								 copyObject(x));
				n = (Expr *) combine_aggref(F_SUM_INT8, NUMERICOID, InvalidOid,
											InvalidOid,
											partial_var(&wtlist, (Expr *) pcount, INT8OID));
				sx = (Expr *) combine_aggref(F_SUM_NUMERIC, NUMERICOID,
											 InvalidOid, InvalidOid,
											 partial_var(&wtlist, (Expr *) psum, NUMERICOID));
				sx2 = (Expr *) combine_aggref(F_SUM_NUMERIC, NUMERICOID,
											  InvalidOid, InvalidOid,
											  partial_var(&wtlist, (Expr *) psum2, NUMERICOID));
				expr = combine_variance(n, sx, sx2, nan,
										a->aggfnoid != F_VAR_POP_NUMERIC &&
										a->aggfnoid != F_STDDEV_POP_NUMERIC &&
										a->aggfnoid != F_VAR_POP_INT2 &&
										a->aggfnoid != F_VAR_POP_INT4 &&
										a->aggfnoid != F_VAR_POP_INT8 &&
										a->aggfnoid != F_STDDEV_POP_INT2 &&
										a->aggfnoid != F_STDDEV_POP_INT4 &&
										a->aggfnoid != F_STDDEV_POP_INT8,
										a->aggfnoid == F_STDDEV_SAMP_INT2 ||
										a->aggfnoid == F_STDDEV_SAMP_INT4 ||
										a->aggfnoid == F_STDDEV_SAMP_INT8 ||
										a->aggfnoid == F_STDDEV_INT2 ||
										a->aggfnoid == F_STDDEV_INT4 ||
										a->aggfnoid == F_STDDEV_INT8 ||
										a->aggfnoid == F_STDDEV_POP_INT2 ||
										a->aggfnoid == F_STDDEV_POP_INT4 ||
										a->aggfnoid == F_STDDEV_POP_INT8 ||
										a->aggfnoid == F_STDDEV_SAMP_NUMERIC ||
										a->aggfnoid == F_STDDEV_NUMERIC ||
										a->aggfnoid == F_STDDEV_POP_NUMERIC);
				break;
			}
		default:
			{
				char	   *name = get_func_name(a->aggfnoid);
				Oid			argtype;

				/*
				 * Aggregates that combine by themselves (min of mins,
				 * bool_and of bool_ands, ...): result type = input type
				 */
				if (name == NULL ||
					(strcmp(name, "min") != 0 && strcmp(name, "max") != 0 &&
					 strcmp(name, "bool_and") != 0 &&
					 strcmp(name, "bool_or") != 0 &&
					 strcmp(name, "every") != 0 &&
					 strcmp(name, "bit_and") != 0 &&
					 strcmp(name, "bit_or") != 0 &&
					 strcmp(name, "bit_xor") != 0) ||
					!OidIsValid(aggregate_transtype(a->aggfnoid)) ||
					list_length(a->args) != 1)
					return NULL;
				argtype = exprType((Node *) ((TargetEntry *) linitial(a->args))->expr);
				if (argtype != a->aggtype)
					return NULL;
				resno = add_partial(&wtlist, (Expr *) partial);
				pvar = makeVar(OUTER_VAR, resno, a->aggtype, -1,
							   a->aggcollid, 0);
				expr = (Expr *) combine_aggref(a->aggfnoid, a->aggtype,
											   a->aggcollid,
											   a->inputcollid, pvar);
				break;
			}
	}
		*wtlist_p = wtlist;
	return expr;
}

/*
 * State of two_phase_mutator: the workers' target list (grouping columns
 * first) as it grows.
 */
typedef struct TwoPhaseContext
{
	List	   *wtlist;
	int			ngroup;
	bool		failed;
	List	   *distinct_exprs; /* the arguments x of count(DISTINCT x) */
	List	   *distinct_resnos;	/* their columns in the workers' output */
	List	   *distinct_sgcs;	/* the workers' GROUP BY items for them */
	Index		maxref;			/* highest ressortgroupref of the query */
	Query	   *parse;			/* the statement */
	List	   *distclass;		/* Vars equal to the distribution column
								 * in every row (no group spans shards) */
	RouterContext *rctx;		/* the analysis (partition key) */
	bool		no_on_key;		/* do not count DISTINCT per shard */
	bool		used_on_key;	/* some count(DISTINCT) is counted per shard */
	bool		ordered_distinct;	/* an aggregate whose result depends on
									 * the order of its DISTINCT values
									 * (array_agg): no merged streams, whose
									 * order is not the collation's */
} TwoPhaseContext;

/*
 * count(DISTINCT x): the workers group by x too (one row per shard, group
 * and value of x), the coordinator counts the distinct values of that
 * column, so each value counts once however many shards hold it.  Several
 * expressions x, y: the workers group by all of them, which keeps the set of
 * values of each.  FILTER (WHERE cond): the workers also return
 * bool_or(cond) per group, the coordinator counts x when it is true (some
 * row with that x satisfied cond).  sum / avg / min / max (DISTINCT x) of
 * integers and array_agg (DISTINCT x) of types whose equal values are
 * identical the same way.  No ORDER BY; the value's equality and
 * sort operators come from the aggregate's own DISTINCT clause.  NULL when
 * it cannot be done.
 */
static Expr *
two_phase_count_distinct(Aggref *a, TwoPhaseContext *ctx)
{
	TargetEntry *arg;
	SortGroupClause *sgc;
	Aggref	   *c;
	Node	   *x;
	ListCell   *lc;
	AttrNumber	resno = 0;

	if (list_length(a->args) != 1 || list_length(a->aggdistinct) != 1 ||
		a->aggorder != NIL || a->agglevelsup != 0 || a->aggvariadic)
		return NULL;
	arg = linitial(a->args);
	if (a->aggfnoid == F_ARRAY_AGG_ANYNONARRAY)
	{
		/*
		 * array_agg(DISTINCT x): the values in the DISTINCT's order, one of
		 * each; equal values must be identical (integers, bool, date, uuid,
		 * oid; text and varchar under a deterministic collation), so that
		 * the value the coordinator keeps is the one a local aggregate
		 * would show
		 */
		Oid			argtype = exprType((Node *) arg->expr);
		Oid			collation = exprCollation((Node *) arg->expr);

		if (argtype != INT2OID && argtype != INT4OID &&
			argtype != INT8OID && argtype != BOOLOID &&
			argtype != DATEOID && argtype != UUIDOID &&
			argtype != OIDOID && argtype != TEXTOID &&
			argtype != VARCHAROID)
			return NULL;
		if (type_is_collatable(argtype) &&
			(!OidIsValid(collation) ||
			 !get_collation_isdeterministic(collation)))
			return NULL;
		ctx->ordered_distinct = true;
	}
	else if (a->aggfnoid != F_COUNT_ANY)
	{
		/*
		 * sum, avg, min, max (DISTINCT x) of integers: equal integers are
		 * identical, so the distinct values the coordinator sees are exactly
		 * those a local aggregate would use
		 */
		Oid			argtype = exprType((Node *) arg->expr);
		char	   *name = get_func_name(a->aggfnoid);

		if ((argtype != INT2OID && argtype != INT4OID && argtype != INT8OID) ||
			name == NULL ||
			(strcmp(name, "sum") != 0 && strcmp(name, "avg") != 0 &&
			 strcmp(name, "min") != 0 && strcmp(name, "max") != 0))
			return NULL;
	}
	sgc = linitial(a->aggdistinct);
	x = (Node *) arg->expr;
	if (!OidIsValid(sgc->eqop) || !OidIsValid(sgc->sortop) ||
		sgc->tleSortGroupRef != arg->ressortgroupref ||
		contain_agg_clause(x) || contain_window_function(x) ||
		expression_returns_set(x) ||
		(a->aggfilter != NULL &&
		 (contain_agg_clause((Node *) a->aggfilter) ||
		  contain_window_function((Node *) a->aggfilter) ||
		  expression_returns_set((Node *) a->aggfilter))))
		return NULL;
	foreach(lc, ctx->distinct_exprs)
		if (equal(lfirst(lc), x))
			resno = list_nth_int(ctx->distinct_resnos,
								 foreach_current_index(lc));
	if (resno == 0)
	{
		TargetEntry *tle;
		SortGroupClause *wsgc = copyObject(sgc);

		resno = list_length(ctx->wtlist) + 1;
		tle = makeTargetEntry(copyObject((Expr *) x), resno,
							  psprintf("distinct%d", resno), false);
		tle->ressortgroupref = ++ctx->maxref;
		wsgc->tleSortGroupRef = tle->ressortgroupref;
		ctx->wtlist = lappend(ctx->wtlist, tle);
		ctx->distinct_exprs = lappend(ctx->distinct_exprs, copyObject(x));
		ctx->distinct_resnos = lappend_int(ctx->distinct_resnos, resno);
		ctx->distinct_sgcs = lappend(ctx->distinct_sgcs, wsgc);
	}

	c = copyObject(a);
	((TargetEntry *) linitial(c->args))->expr =
		(Expr *) makeVar(OUTER_VAR, resno, exprType(x), exprTypmod(x),
						 exprCollation(x), 0);
	if (a->aggfilter != NULL)
	{
		/* bool_or(cond) over each worker group, the filter of the count */
		Aggref	   *any = makeNode(Aggref);
		AttrNumber	fresno = list_length(ctx->wtlist) + 1;

		any->aggfnoid = F_BOOL_OR;
		any->aggtype = BOOLOID;
		any->aggtranstype = BOOLOID;
		any->aggargtypes = list_make1_oid(BOOLOID);
		any->args = list_make1(makeTargetEntry(copyObject(a->aggfilter), 1,
											   NULL, false));
		any->aggkind = AGGKIND_NORMAL;
		any->aggsplit = AGGSPLIT_SIMPLE;
		any->location = -1;
		ctx->wtlist = lappend(ctx->wtlist,
							  makeTargetEntry((Expr *) any, fresno,
											  psprintf("partial%d", fresno),
											  false));
		c->aggfilter = (Expr *) makeVar(OUTER_VAR, fresno, BOOLOID, -1,
										InvalidOid, 0);
	}
	c->aggsplit = AGGSPLIT_SIMPLE;
	c->aggtranstype = aggregate_transtype(c->aggfnoid);
	return (Expr *) c;
}

/*
 * count(DISTINCT x) [FILTER] of a column equal to the distribution column
 * (x in the class of the distribution columns): a value of x lives in one
 * shard only, so the workers' own count(DISTINCT x) per group are over
 * disjoint sets of values and add up to the exact count.  Equality of the
 * DISTINCT must be the partition key's (its opfamily and collation), so
 * that equal values hash to the same shard.  NULL when it does not apply.
 */
static Expr *
two_phase_distinct_on_key(Aggref *a, TwoPhaseContext *ctx)
{
	TargetEntry *arg;
	SortGroupClause *sgc;
	Var		   *x;
	ListCell   *lc;
	bool		in_class = false;
	AttrNumber	resno;

	if (ctx->rctx == NULL || a->aggfnoid != F_COUNT_ANY ||
		list_length(a->args) != 1 || list_length(a->aggdistinct) != 1 ||
		a->aggorder != NIL || a->agglevelsup != 0 || a->aggvariadic)
		return NULL;
	arg = linitial(a->args);
	sgc = linitial(a->aggdistinct);
	x = (Var *) sf_strip_relabel((Node *) arg->expr);
	if (!IsA(x, Var) || x->varlevelsup != 0 || !OidIsValid(sgc->eqop) ||
		!op_in_opfamily(sgc->eqop, ctx->rctx->opfamily) ||
		get_op_opfamily_strategy(sgc->eqop, ctx->rctx->opfamily) != HTEqualStrategyNumber ||
		(OidIsValid(ctx->rctx->keycollation) &&
		 exprCollation((Node *) arg->expr) != ctx->rctx->keycollation) ||
		(a->aggfilter != NULL &&
		 (contain_agg_clause((Node *) a->aggfilter) ||
		  contain_window_function((Node *) a->aggfilter) ||
		  expression_returns_set((Node *) a->aggfilter))))
		return NULL;
	foreach(lc, ctx->distclass)
	{
		Var		   *v = lfirst(lc);

		if (IsA(v, Var) && v->varno == x->varno &&
			v->varattno == x->varattno)
			in_class = true;
	}
	if (!in_class)
		return NULL;
	resno = add_partial(&ctx->wtlist, (Expr *) copyObject(a));
	return combine_as_int8(combine_aggref(F_SUM_INT8, NUMERICOID, InvalidOid,
										  InvalidOid,
										  makeVar(OUTER_VAR, resno, INT8OID,
												  -1, InvalidOid, 0)));
}

/*
 * Is expr a column of a table of the statement whose statistics (the
 * parent's, from ANALYZE) say that most rows have their own value (at
 * least half as many distinct values as rows)?  Each shard holds a
 * fraction of the rows, so its share of distinct values is higher still:
 * grouping per shard would remove few rows, at the price of a hash table
 * per shard.  (ANALYZE's estimate of an all-distinct column of a
 * distributed table may be well below -1.0: -0.7 was seen.)
 */
static bool
nearly_unique(Query *parse, Node *expr)
{
	Var		   *v = (Var *) sf_strip_relabel(expr);
	RangeTblEntry *rte;
	HeapTuple	tuple;
	float4		stadistinct;
	float4		reltuples;

	if (!IsA(v, Var) || v->varlevelsup != 0 || v->varattno <= 0 ||
		v->varno > list_length(parse->rtable))
		return false;
	rte = rt_fetch(v->varno, parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	tuple = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(rte->relid),
							Int16GetDatum(v->varattno),
							BoolGetDatum(rte->inh));
	if (!HeapTupleIsValid(tuple))
		return false;
	stadistinct = ((Form_pg_statistic) GETSTRUCT(tuple))->stadistinct;
	ReleaseSysCache(tuple);
	if (stadistinct < 0)
		return stadistinct <= -0.5;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
	ReleaseSysCache(tuple);
	return reltuples > 0 && stadistinct >= 0.5 * reltuples;
}

/*
 * Can the DISTINCT values of x (DISTINCT clause sgc) be merged on the
 * coordinator from streams the workers sorted?  The coordinator must
 * reproduce the workers' order exactly and the order must agree with the
 * DISTINCT's equality: built-in types whose default btree order does not
 * depend on settings, the DISTINCT using that default order and equality.
 * Collatable types (text, varchar, char) are sorted and compared under the
 * C collation on both sides, which only agrees with equality under x's own
 * collation when that collation is deterministic (equal means identical
 * bytes).  Values travel in binary form (text types as text), exact for
 * all of them.
 */
static bool
distinct_merge_order(SortGroupClause *sgc, Node *x, SfDistinctMerge *merge)
{
	Oid			type = exprType(x);
	Oid			collation = exprCollation(x);
	TypeCacheEntry *tce;

	switch (type)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case UUIDOID:
		case BYTEAOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			break;
		default:
			return false;
	}
	tce = lookup_type_cache(type, TYPECACHE_LT_OPR | TYPECACHE_EQ_OPR);
	if (!OidIsValid(tce->lt_opr) || sgc->sortop != tce->lt_opr ||
		sgc->eqop != tce->eq_opr || sgc->nulls_first)
		return false;
	if (type_is_collatable(type))
	{
		if (!OidIsValid(collation) || !get_collation_isdeterministic(collation))
			return false;
		merge->collation = C_COLLATION_OID;
	}
	else
		merge->collation = InvalidOid;
	merge->sortop = tce->lt_opr;
	return true;
}

/* walker removing DISTINCT from the Aggrefs of an expression */
static bool
strip_aggdistinct(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		((Aggref *) node)->aggdistinct = NIL;
		return false;
	}
	return expression_tree_walker(node, strip_aggdistinct, context);
}

/*
 * Rewrite an output or HAVING expression for the coordinator's Agg:
 * grouping expressions become the worker's grouping columns, aggregates
 * their combine over the partials; any other column reference fails.
 */
static Node *
two_phase_mutator(Node *node, TwoPhaseContext *ctx)
{
	int			i;

	if (node == NULL || ctx->failed)
		return node;
	for (i = 0; i < ctx->ngroup; i++)
	{
		TargetEntry *w = list_nth(ctx->wtlist, i);

		if (equal(node, w->expr))
			return (Node *) makeVar(OUTER_VAR, w->resno,
									exprType((Node *) w->expr),
									exprTypmod((Node *) w->expr),
									exprCollation((Node *) w->expr), 0);
	}
	if (IsA(node, Aggref))
	{
		Expr	   *e = NULL;

		if (((Aggref *) node)->aggdistinct != NIL)
		{
			if (!ctx->no_on_key)
				e = two_phase_distinct_on_key((Aggref *) node, ctx);
			if (e != NULL)
				ctx->used_on_key = true;
			else
				e = two_phase_count_distinct((Aggref *) node, ctx);
		}
		else
			e = two_phase_aggref((Aggref *) node, &ctx->wtlist, ctx->parse,
								 ctx->ngroup == 0);

		if (e == NULL)
			ctx->failed = true;
		return (Node *) e;
	}
	if (IsA(node, Var) || IsA(node, SubLink) || IsA(node, WindowFunc) ||
		IsA(node, GroupingFunc) || IsA(node, Query))
	{
		ctx->failed = true;
		return node;
	}
	return expression_tree_mutator(node, two_phase_mutator, ctx);
}

/*
 * Two-phase aggregation: the workers group by the statement's GROUP BY and
 * compute partial aggregates, the coordinator's HashAggregate (or plain
 * Aggregate) combines them: count -> sum of counts, sum -> sum of sums
 * (bigint kept bigint), min / max -> min / max, avg -> sum of sums divided
 * by sum of counts (numeric, exactly what avg computes).  Output columns
 * and HAVING may use GROUP BY expressions and these aggregates (without
 * DISTINCT or ORDER BY inside, except count(DISTINCT x), see
 * two_phase_count_distinct; FILTER is kept on the workers), combined by any shippable expression evaluated on the
 * coordinator.  var_samp / variance / var_pop of integers: from count, sum
 * and sum of squares in numeric (combine_variance).
 * Sets *worker_tlist (the partial target list) and *worker_groups (the
 * workers' GROUP BY) and returns the Agg node (with a Sort as its lefttree
 * when its groups must come sorted), or NULL to decline.
 */
static Agg *
plan_two_phase(Query *parse, RouterContext *rctx, List *distclass,
			   List **worker_tlist, List **worker_groups, bool no_on_key,
			   SfDistinctMerge *merge)
{
	Agg		   *agg;
	List	   *wtlist = NIL;
	List	   *final = NIL;
	ListCell   *lc;
	int			ngroup = list_length(parse->groupClause);
	int			i = 0;
	AttrNumber	resno = 0;
	TwoPhaseContext tpc;
	List	   *quals = NIL;

	if (merge != NULL)
		merge->sortop = InvalidOid;
	if (parse->groupingSets != NIL)
		return NULL;
	memset(&tpc, 0, sizeof(tpc));
	tpc.ngroup = ngroup;
	tpc.parse = parse;
	tpc.rctx = rctx;
	tpc.distclass = distclass;
	tpc.no_on_key = no_on_key;
	foreach(lc, parse->targetList)
		tpc.maxref = Max(tpc.maxref,
						 ((TargetEntry *) lfirst(lc))->ressortgroupref);

	agg = makeNode(Agg);
	agg->aggstrategy = ngroup > 0 ? AGG_HASHED : AGG_PLAIN;
	agg->aggsplit = AGGSPLIT_SIMPLE;
	agg->numCols = ngroup;
	agg->grpColIdx = palloc(sizeof(AttrNumber) * Max(ngroup, 1));
	agg->grpOperators = palloc(sizeof(Oid) * Max(ngroup, 1));
	agg->grpCollations = palloc(sizeof(Oid) * Max(ngroup, 1));
	agg->numGroups = 100;

	/* the grouping columns come first in the workers' output */
	foreach(lc, parse->groupClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = copyObject(get_sortgroupclause_tle(sgc, parse->targetList));

		if (!sgc->hashable || !OidIsValid(sgc->eqop))
			return NULL;
		tle->resjunk = false;
		tle->resno = ++resno;
		if (tle->resname == NULL)
			tle->resname = psprintf("group%d", resno);
		wtlist = lappend(wtlist, tle);
		agg->grpColIdx[i] = resno;
		agg->grpOperators[i] = sgc->eqop;
		agg->grpCollations[i] = exprCollation((Node *) tle->expr);
		i++;
	}

	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Expr	   *expr = NULL;

		if (tle->resjunk)
			continue;
		tpc.wtlist = wtlist;
		expr = (Expr *) two_phase_mutator((Node *) tle->expr, &tpc);
		wtlist = tpc.wtlist;
		if (tpc.failed)
			return NULL;
		if (expr == NULL)
			return NULL;
		final = lappend(final, makeTargetEntry(expr, list_length(final) + 1,
											 tle->resname, false));
	}

	/* HAVING: evaluated by the coordinator's Agg over the combined values */
	if (parse->havingQual != NULL)
	{
		Node	   *having;

		tpc.wtlist = wtlist;
		having = two_phase_mutator(parse->havingQual, &tpc);
		wtlist = tpc.wtlist;
		if (tpc.failed || having == NULL)
			return NULL;
		quals = make_ands_implicit((Expr *) having);
	}

	/* aggno / aggtransno, as the planner numbers them */
	i = 0;
	foreach(lc, list_concat(list_copy(final), quals))
	{
		List	   *aggs = NIL;
		ListCell   *lc2;

		(void) collect_aggrefs(lfirst(lc), &aggs);
		foreach(lc2, aggs)
		{
			Aggref	   *a = lfirst(lc2);

			a->aggno = i;
			a->aggtransno = i;
			i++;
		}
	}
	/*
	 * A count(DISTINCT) counted per shard is only right when the workers
	 * group exactly by the statement's GROUP BY: another count(DISTINCT y)
	 * makes them group by y too, and the per-shard counts of x in each
	 * group of y would add up to more than the distinct values of x.  Plan
	 * again with every DISTINCT aggregate grouped on the workers then.
	 */
	if (tpc.used_on_key && tpc.distinct_exprs != NIL)
		return plan_two_phase(parse, rctx, distclass, worker_tlist,
							  worker_groups, true, merge);

	agg->plan.targetlist = final;
	agg->plan.qual = quals;
	agg->plan.startup_cost = 1;
	agg->plan.total_cost = 2;
	agg->plan.plan_rows = 100;
	agg->plan.plan_width = 32;
	*worker_tlist = wtlist;
	*worker_groups = parse->groupClause;

	/*
	 * count(DISTINCT x): the workers also group by x; the coordinator's
	 * DISTINCT aggregate needs sorted groups (a hashed Agg does not do
	 * DISTINCT), so a Sort on the grouping columns goes below the Agg (its
	 * lefttree, whose own input add_top_nodes fills in).
	 */
	if (tpc.distinct_exprs != NIL)
	{
		/*
		 * Only DISTINCT aggregates of one nearly unique column, no GROUP
		 * BY: grouping per shard would remove (almost) nothing, the workers
		 * return the column's values as they are.
		 */
		if (ngroup == 0 && list_length(wtlist) == 1 &&
			nearly_unique(parse, linitial(tpc.distinct_exprs)))
			*worker_groups = NIL;
		else
			*worker_groups = list_concat(list_copy(parse->groupClause),
										 tpc.distinct_sgcs);

		/*
		 * Only DISTINCT aggregates of one expression x (no other partial, no
		 * FILTER), no GROUP BY, and an order of x the coordinator can
		 * reproduce: each worker returns its distinct values of x sorted,
		 * the coordinator merges them (each value once) and the Agg
		 * aggregates them without DISTINCT (distinct_merge.c).
		 */
		if (merge != NULL && ngroup == 0 && list_length(wtlist) == 1 &&
			list_length(tpc.distinct_exprs) == 1 && !tpc.ordered_distinct &&
			distinct_merge_order(linitial(tpc.distinct_sgcs),
								 linitial(tpc.distinct_exprs), merge))
		{
			(void) strip_aggdistinct((Node *) final, NULL);
			(void) strip_aggdistinct((Node *) quals, NULL);
		}
		if (ngroup > 0)
		{
			Sort	   *sort = makeNode(Sort);

			i = 0;
			sort->numCols = ngroup;
			sort->sortColIdx = palloc(sizeof(AttrNumber) * ngroup);
			sort->sortOperators = palloc(sizeof(Oid) * ngroup);
			sort->collations = palloc(sizeof(Oid) * ngroup);
			sort->nullsFirst = palloc(sizeof(bool) * ngroup);
			foreach(lc, parse->groupClause)
			{
				SortGroupClause *sgc = lfirst(lc);

				if (!OidIsValid(sgc->sortop))
					return NULL;
				sort->sortColIdx[i] = agg->grpColIdx[i];
				sort->sortOperators[i] = sgc->sortop;
				sort->collations[i] = agg->grpCollations[i];
				sort->nullsFirst[i] = sgc->nulls_first;
				i++;
			}
			sort->plan.targetlist = NIL;	/* set with its input */
			sort->plan.startup_cost = 1;
			sort->plan.total_cost = 2;
			sort->plan.plan_rows = 100;
			sort->plan.plan_width = 32;
			agg->aggstrategy = AGG_SORTED;
			agg->plan.lefttree = (Plan *) sort;
		}
	}
	return agg;
}

/* see plan_two_phase */
Agg *
sf_plan_two_phase(Query *parse, RouterContext *rctx, List *distclass,
				  List **worker_tlist, List **worker_groups,
				  SfDistinctMerge *merge)
{
	return plan_two_phase(parse, rctx, distclass, worker_tlist, worker_groups,
						  false, merge);
}
