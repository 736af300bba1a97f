/*-------------------------------------------------------------------------
 *
 * flatten.c
 *	  Views and FROM subqueries pulled up into the statement, so that their
 *	  distributed tables sit at the top query level.
 *
 * The planner hook sees the Query before PostgreSQL's own subquery pull-up:
 * a view (an RTE_SUBQUERY once the rewriter expanded it) or a subquery in
 * FROM keeps its tables in a nested query level, where the analysis wants
 * every distributed table pinned and the multi-shard strategy wants none.
 * sf_flatten_subqueries runs PostgreSQL's pull_up_subqueries on a copy and
 * keeps the result only when the deparser (pg_get_querydef) and the
 * analysis can take it as they take a statement written flat; otherwise the
 * statement stays as it was (and declining is always safe).  Nested SELECT
 * levels (CTEs, sublinks, subqueries that are not pulled up) are flattened
 * the same way, each on its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "planner_internal.h"
#include "rewrite/rewriteManip.h"

/* State of check_tree_walker */
typedef struct FlattenCheck
{
	Bitmapset  *dead;			/* top-level RTEs of pulled-up subqueries */
	int			depth;			/* query level below the top */
	bool		bad;			/* found something the deparser cannot take */
} FlattenCheck;

/* does the jointree reference a subquery RTE? */
static bool
jointree_has_subquery(Query *q, Node *jtnode)
{
	if (jtnode == NULL)
		return false;
	if (IsA(jtnode, RangeTblRef))
		return rt_fetch(((RangeTblRef *) jtnode)->rtindex,
						q->rtable)->rtekind == RTE_SUBQUERY;
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (jointree_has_subquery(q, lfirst(lc)))
				return true;
		}
		return false;
	}
	if (IsA(jtnode, JoinExpr))
		return jointree_has_subquery(q, ((JoinExpr *) jtnode)->larg) ||
			jointree_has_subquery(q, ((JoinExpr *) jtnode)->rarg);
	return false;
}

/* the range table index a JoinExpr's input is known by (0: none) */
static Index
jointree_rtindex(Node *jtnode)
{
	if (IsA(jtnode, RangeTblRef))
		return ((RangeTblRef *) jtnode)->rtindex;
	if (IsA(jtnode, JoinExpr))
		return ((JoinExpr *) jtnode)->rtindex;
	return 0;
}

/* State of join_column_walker */
typedef struct JoinColumnRef
{
	Index		rtindex;		/* the join */
	AttrNumber	attno;			/* its column */
	int			depth;			/* query level below the top */
} JoinColumnRef;

static bool
join_column_walker(Node *node, JoinColumnRef *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		return var->varlevelsup == ctx->depth &&
			((var->varno == ctx->rtindex && var->varattno == ctx->attno) ||
			 (var->varnosyn == ctx->rtindex && var->varattnosyn == ctx->attno));
	}
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, join_column_walker, ctx, 0);
		ctx->depth--;
		return result;
	}
	return expression_tree_walker(node, join_column_walker, ctx);
}

/* does a Var of the statement name column attno of join rtindex? */
static bool
join_column_used(Query *q, Index rtindex, AttrNumber attno)
{
	JoinColumnRef ctx;

	ctx.rtindex = rtindex;
	ctx.attno = attno;
	ctx.depth = 0;
	return query_tree_walker(q, join_column_walker, &ctx, 0);
}

/*
 * Make a join's alias columns what the deparser expects of a parsed
 * statement (identify_join_columns in ruleutils.c): each a Var of its left
 * or right input (NULL for a dropped column, COALESCE for a merged column
 * of FULL JOIN USING).  After a pull-up they are the subquery's output
 * expressions: a Var of a table inside a joined input is mapped to that
 * input join's column holding it; anything else declines.  A USING join's
 * quals must still be equalities of the inputs' Vars (that is how the
 * deparser finds the merged columns).
 */
static bool
check_join_columns(Query *q, JoinExpr *j)
{
	RangeTblEntry *jrte = rt_fetch(j->rtindex, q->rtable);
	Index		lrti = jointree_rtindex(j->larg);
	Index		rrti = jointree_rtindex(j->rarg);
	ListCell   *lc;

	foreach(lc, jrte->joinaliasvars)
	{
		Node	   *alias = strip_implicit_coercions(lfirst(lc));
		Var		   *var;
		int			side;

		if (alias == NULL || IsA(alias, CoalesceExpr))
			continue;
		if (!IsA(alias, Var) || ((Var *) alias)->varlevelsup != 0)
		{
			/*
			 * An expression of a pulled-up subquery: the deparser can treat
			 * the column as dropped when nothing names it (not a merged
			 * column, no Var of the join's column: a Var of the
			 * expression's own tables replaced the subquery's; named joins
			 * were declined).
			 */
			if (foreach_current_index(lc) < jrte->joinmergedcols ||
				join_column_used(q, j->rtindex,
								 foreach_current_index(lc) + 1))
				return false;
			lfirst(lc) = NULL;
			continue;
		}
		var = (Var *) alias;
		if (var->varno == lrti || var->varno == rrti)
			continue;
		/* a column of a table inside a joined input: that join's column */
		if (alias != lfirst(lc))
			return false;
		for (side = 0; side < 2; side++)
		{
			Node	   *input = side == 0 ? j->larg : j->rarg;
			RangeTblEntry *irte;
			ListCell   *lc2;

			if (!IsA(input, JoinExpr))
				continue;
			irte = rt_fetch(((JoinExpr *) input)->rtindex, q->rtable);
			foreach(lc2, irte->joinaliasvars)
			{
				Var		   *ivar = lfirst(lc2);

				if (ivar != NULL && IsA(ivar, Var) &&
					ivar->varlevelsup == 0 &&
					ivar->varno == var->varno &&
					ivar->varattno == var->varattno)
				{
					Var		   *jvar = makeVar(((JoinExpr *) input)->rtindex,
											   foreach_current_index(lc2) + 1,
											   var->vartype, var->vartypmod,
											   var->varcollid, 0);

					lfirst(lc) = jvar;
					break;
				}
			}
			if (lfirst(lc) != alias)
				break;
		}
		if (lfirst(lc) == alias)
			return false;
	}

	if (j->usingClause != NIL)
	{
		foreach(lc, make_ands_implicit((Expr *) j->quals))
		{
			OpExpr	   *op = lfirst(lc);
			ListCell   *lc2;

			if (!IsA(op, OpExpr) || list_length(op->args) != 2)
				return false;
			foreach(lc2, op->args)
			{
				Var		   *var = (Var *) strip_implicit_coercions(lfirst(lc2));

				if (!IsA(var, Var) || var->varlevelsup != 0 ||
					(var->varno != lrti && var->varno != rrti))
					return false;
			}
		}
	}
	return true;
}

/*
 * A jointree node below a JoinExpr (or an item of the top FROM list):
 * replace the one-item FromExprs the pull-up left (the deparser prints no
 * FromExpr there) by their item, and put their quals where they mean the
 * same: the ON of an inner join, or of the outer join whose nullable side
 * they restrict; quals of a preserved side go to *above (the next join up,
 * finally WHERE).  Returns false to decline.
 */
static bool
flatten_node(Query *q, Node **node, List **above)
{
	Node	   *n = *node;

	if (IsA(n, RangeTblRef))
		return rt_fetch(((RangeTblRef *) n)->rtindex,
						q->rtable)->rtekind != RTE_RESULT;
	if (IsA(n, FromExpr))
	{
		FromExpr   *f = (FromExpr *) n;

		if (list_length(f->fromlist) != 1)
			return false;
		*node = linitial(f->fromlist);
		if (!flatten_node(q, node, above))
			return false;
		*above = list_concat(*above, make_ands_implicit((Expr *) f->quals));
		return true;
	}
	if (IsA(n, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) n;
		List	   *lq = NIL;
		List	   *rq = NIL;
		List	   *on = NIL;

		/*
		 * A named join hides its inputs' tables: pulled-up expressions and
		 * quals naming them could not be printed.
		 */
		if (j->alias != NULL || j->join_using_alias != NULL)
			return false;
		if (!flatten_node(q, &j->larg, &lq) ||
			!flatten_node(q, &j->rarg, &rq))
			return false;
		switch (j->jointype)
		{
			case JOIN_INNER:
				on = list_concat(lq, rq);
				break;
			case JOIN_LEFT:
				on = rq;
				*above = list_concat(*above, lq);
				break;
			case JOIN_RIGHT:
				on = lq;
				*above = list_concat(*above, rq);
				break;
			case JOIN_FULL:
				/* both sides preserved: a side's quals have no place */
				if (lq != NIL || rq != NIL)
					return false;
				break;
			default:
				/* SEMI / ANTI joins of pulled-up sublinks: no SQL for them */
				return false;
		}
		if (on != NIL)
		{
			/* the deparser prints USING, not the quals, of a USING join */
			if (j->usingClause != NIL)
			{
				if (j->jointype != JOIN_INNER)
					return false;
				*above = list_concat(*above, on);
			}
			else
				j->quals = (Node *)
					make_ands_explicit(list_concat(make_ands_implicit((Expr *) j->quals),
												   on));
		}
		return check_join_columns(q, j);
	}
	return false;
}

/*
 * The top FROM list: nested FromExprs spliced in (their items into *items,
 * their quals into *where).
 */
static bool
flatten_top(Query *q, FromExpr *f, List **items, List **where)
{
	ListCell   *lc;

	foreach(lc, f->fromlist)
	{
		Node	   *item = lfirst(lc);

		if (IsA(item, FromExpr))
		{
			if (!flatten_top(q, (FromExpr *) item, items, where))
				return false;
			continue;
		}
		if (!flatten_node(q, &item, where))
			return false;
		*items = lappend(*items, item);
	}
	*where = list_concat(*where, make_ands_implicit((Expr *) f->quals));
	return true;
}

/* range table indexes of the jointree's RangeTblRefs */
static Bitmapset *
jointree_refs(Node *jtnode, Bitmapset *refs)
{
	ListCell   *lc;

	if (jtnode == NULL)
		return refs;
	if (IsA(jtnode, RangeTblRef))
		return bms_add_member(refs, ((RangeTblRef *) jtnode)->rtindex);
	if (IsA(jtnode, FromExpr))
	{
		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			refs = jointree_refs(lfirst(lc), refs);
		return refs;
	}
	if (IsA(jtnode, JoinExpr))
	{
		refs = jointree_refs(((JoinExpr *) jtnode)->larg, refs);
		return jointree_refs(((JoinExpr *) jtnode)->rarg, refs);
	}
	return refs;
}

/*
 * Anything in the flattened statement the deparser cannot print: a
 * PlaceHolderVar (an expression output of a subquery on the nullable side
 * of an outer join), or a Var of a pulled-up subquery's RTE.
 */
static bool
check_tree_walker(Node *node, FlattenCheck *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, PlaceHolderVar))
	{
		ctx->bad = true;
		return true;
	}
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varlevelsup == ctx->depth &&
			(bms_is_member(var->varno, ctx->dead) ||
			 bms_is_member(var->varnosyn, ctx->dead)))
		{
			ctx->bad = true;
			return true;
		}
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, check_tree_walker, ctx, 0);
		ctx->depth--;
		return result;
	}
	return expression_tree_walker(node, check_tree_walker, ctx);
}

/* does a join's alias column name a later range table entry? */
static bool
join_refs_later(Query *q, Node *jtnode)
{
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (join_refs_later(q, lfirst(lc)))
				return true;
		}
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		ListCell   *lc;

		if (join_refs_later(q, j->larg) || join_refs_later(q, j->rarg))
			return true;
		foreach(lc, rt_fetch(j->rtindex, q->rtable)->joinaliasvars)
		{
			Var		   *var = (Var *) strip_implicit_coercions(lfirst(lc));

			if (var != NULL && IsA(var, Var) && var->varno >= j->rtindex)
				return true;
		}
	}
	return false;
}

/* State of varnosyn_walker */
typedef struct VarnosynFix
{
	Index		old;
	Index		new;
	int			depth;
} VarnosynFix;

static bool
varnosyn_walker(Node *node, VarnosynFix *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varlevelsup == ctx->depth && var->varnosyn == ctx->old)
			var->varnosyn = ctx->new;
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		ctx->depth++;
		result = query_tree_walker((Query *) node, varnosyn_walker, ctx, 0);
		ctx->depth--;
		return result;
	}
	return expression_tree_walker(node, varnosyn_walker, ctx);
}

/*
 * Vars whose syntactic referent is a moved join (ChangeVarNodes changes
 * varnosyn only together with varno).
 */
static void
fix_varnosyn(Query *q, Index old, Index new)
{
	VarnosynFix ctx;

	ctx.old = old;
	ctx.new = new;
	ctx.depth = 0;
	(void) query_tree_walker(q, varnosyn_walker, &ctx, 0);
}

/*
 * Move the join RTEs of the jointree to the end of the range table, inner
 * joins first: the rewriter's AcquireRewriteLocks (which pg_get_querydef
 * runs) wants a join's alias columns to name earlier entries, and the
 * pulled-up tables were appended after the joins above them.  The old
 * entries become unreferenced RTE_RESULTs (added to *dead).
 */
static void
move_join_rtes(Query *q, Node *jtnode, Bitmapset **dead)
{
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			move_join_rtes(q, lfirst(lc), dead);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		int			old = j->rtindex;
		RangeTblEntry *rte = rt_fetch(old, q->rtable);

		move_join_rtes(q, j->larg, dead);
		move_join_rtes(q, j->rarg, dead);
		q->rtable = lappend(q->rtable, copyObject(rte));
		ChangeVarNodes((Node *) q, old, list_length(q->rtable), 0);
		fix_varnosyn(q, old, list_length(q->rtable));
		rte->rtekind = RTE_RESULT;
		rte->jointype = JOIN_INNER;
		rte->joinmergedcols = 0;
		rte->joinaliasvars = NIL;
		rte->joinleftcols = NIL;
		rte->joinrightcols = NIL;
		rte->join_using_alias = NULL;
		*dead = bms_add_member(*dead, old);
	}
}

/*
 * Clear hasSubLinks of the subqueries in FROM (at any depth), so that
 * pull_up_subqueries does not run pull_up_sublinks on them; mark_sublinks
 * sets the flags right afterwards.
 */
static void
hide_sublinks(List *rtable)
{
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind != RTE_SUBQUERY || rte->subquery == NULL)
			continue;
		rte->subquery->hasSubLinks = false;
		hide_sublinks(rte->subquery->rtable);
	}
}

/* walker of mark_sublinks: a SubLink of this query level? */
static bool
sublink_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
		return true;
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, sublink_walker, context);
}

/*
 * Set hasSubLinks of every query level from what the level holds (the
 * standard planner, which strategies call on parts of a statement, relies
 * on it).
 */
static bool
mark_sublinks(Node *node)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		q->hasSubLinks = query_tree_walker(q, sublink_walker, NULL,
										   QTW_IGNORE_RC_SUBQUERIES);
		return query_tree_walker(q, mark_sublinks, NULL, 0);
	}
	return expression_tree_walker(node, mark_sublinks, NULL);
}

/*
 * Pull up the simple views and FROM subqueries of one query level q (a
 * copy: changed in place, to be dropped when this returns false), and make
 * it a level the deparser prints as SQL of the same meaning.  False when
 * nothing was pulled up or the result cannot be taken.
 */
static bool
flatten_level(Query *q)
{
	PlannerInfo *root;
	List	   *items = NIL;
	List	   *where = NIL;
	Bitmapset  *refs;
	FlattenCheck check;
	ListCell   *lc;

	root = makeNode(PlannerInfo);
	root->parse = q;
	root->glob = makeNode(PlannerGlobal);
	root->query_level = 1;
	root->planner_cxt = CurrentMemoryContext;
	root->wt_param_id = -1;

	/*
	 * Sublinks inside a pulled-up subquery stay sublinks: the pull-up would
	 * turn them into semi- and anti-joins, which have no SQL.
	 */
	hide_sublinks(q->rtable);
	pull_up_subqueries(root);
	(void) mark_sublinks((Node *) q);

	/*
	 * UNION ALL subqueries become append relations, and an inlined SQL
	 * function would be a dependency our PlannedStmt does not record.
	 */
	if (root->append_rel_list != NIL || root->glob->invalItems != NIL)
		return false;

	/* nothing pulled up: the level as it was */
	refs = jointree_refs((Node *) q->jointree, NULL);
	memset(&check, 0, sizeof(check));
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		int			rti = foreach_current_index(lc) + 1;

		if (rte->rtekind == RTE_SUBQUERY && !bms_is_member(rti, refs))
			check.dead = bms_add_member(check.dead, rti);
	}
	if (bms_is_empty(check.dead))
		return false;

	if (!flatten_top(q, q->jointree, &items, &where))
		return false;
	q->jointree->fromlist = items;
	q->jointree->quals = where == NIL ? NULL :
		(Node *) make_ands_explicit(where);

	/*
	 * The pulled-up subqueries' RTEs stay in the range table, referenced by
	 * nothing: without their subqueries, so that the analysis sees no
	 * nested level (their tables are in the range table now, with the
	 * permissions to check).  RTE_RESULT keeps the name for the deparser.
	 */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (!bms_is_member(foreach_current_index(lc) + 1, check.dead))
			continue;
		rte->rtekind = RTE_RESULT;
		rte->subquery = NULL;
		rte->security_barrier = false;
		rte->lateral = false;
	}
	if (join_refs_later(q, (Node *) q->jointree))
		move_join_rtes(q, (Node *) q->jointree, &check.dead);

	return !query_tree_walker(q, check_tree_walker, &check, 0) && !check.bad;
}

/*
 * May the level q be flattened: a SELECT (or, at the top, an UPDATE /
 * DELETE; never INSERT: INSERT ... SELECT keeps its subquery, see
 * insert_select.c) whose FROM references a subquery.  Row locks decline:
 * the pull-up moves a locked subquery's marks up, naming the subquery's
 * RTE, which the worker statement would not have.
 */
static bool
level_wants_flattening(Query *q, bool top)
{
	return (q->commandType == CMD_SELECT ||
			(top && (q->commandType == CMD_UPDATE ||
					 q->commandType == CMD_DELETE))) &&
		q->utilityStmt == NULL && q->setOperations == NULL &&
		q->rowMarks == NIL && q->jointree != NULL &&
		jointree_has_subquery(q, (Node *) q->jointree);
}

/* a nested level flattened (a new Query, *changed set), or q itself */
static Query *
flatten_nested(Query *q, bool *changed)
{
	Query	   *copy;

	if (!level_wants_flattening(q, false))
		return q;
	copy = copyObject(q);
	if (!flatten_level(copy))
		return q;
	*changed = true;
	return copy;
}

/*
 * Flatten every nested level below node that qualifies: subqueries that
 * were not pulled up (an aggregate over a view), CTEs, sublinks.
 */
static bool
flatten_nested_walker(Node *node, bool *changed)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			rte->subquery = flatten_nested(rte->subquery, changed);
		return false;
	}
	if (IsA(node, CommonTableExpr))
	{
		CommonTableExpr *cte = (CommonTableExpr *) node;

		if (IsA(cte->ctequery, Query))
			cte->ctequery = (Node *) flatten_nested((Query *) cte->ctequery,
													changed);
	}
	else if (IsA(node, SubLink))
	{
		SubLink    *sublink = (SubLink *) node;

		if (IsA(sublink->subselect, Query))
			sublink->subselect = (Node *)
				flatten_nested((Query *) sublink->subselect, changed);
	}
	else if (IsA(node, Query))
		return query_tree_walker((Query *) node, flatten_nested_walker,
								 changed, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, flatten_nested_walker, changed);
}

/* does a level of node qualify for flattening (nothing copied yet)? */
static bool
any_level_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (level_wants_flattening(q, false))
			return true;
		return query_tree_walker(q, any_level_walker, context, 0);
	}
	return expression_tree_walker(node, any_level_walker, context);
}

/*
 * A copy of parse with the simple views and FROM subqueries of its levels
 * pulled up, or NULL when there is none or no level's result is a
 * statement the strategies can deparse (each level is flattened or left as
 * it was on its own).  parse is not changed.
 */
Query *
sf_flatten_subqueries(Query *parse)
{
	Query	   *q;
	bool		changed = false;

	if ((parse->commandType != CMD_SELECT &&
		 parse->commandType != CMD_UPDATE &&
		 parse->commandType != CMD_DELETE) ||
		parse->utilityStmt != NULL || parse->rowMarks != NIL)
		return NULL;
	if (!level_wants_flattening(parse, true) &&
		!query_tree_walker(parse, any_level_walker, NULL, 0))
		return NULL;

	q = parse;
	if (level_wants_flattening(parse, true))
	{
		q = copyObject(parse);
		if (flatten_level(q))
			changed = true;
		else
			q = parse;
	}
	if (q == parse)
		q = copyObject(parse);

	/* then the nested levels, those pulled up included */
	(void) query_tree_walker(q, flatten_nested_walker, &changed,
							 QTW_EXAMINE_RTES_BEFORE);
	return changed ? q : NULL;
}
