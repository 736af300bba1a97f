/*-------------------------------------------------------------------------
 *
 * views.c
 *	  Views over a table that create_distributed_table or
 *	  undistribute_table replaces by a new one: dropped before the swap and
 *	  created again, the same, over the new table after it.
 *
 * A view refers to its tables by OID, so it cannot follow a table to the
 * new relation that takes its name.  sf_detach_views collects every view
 * that depends on the table, directly or through other views, records
 * what creates each one again (its definition with every name qualified,
 * its options, owner, grants, comments and column defaults) and drops
 * them, most dependent first; sf_reattach_views runs the recorded
 * commands, least dependent first, once the new table has the old name.
 * Everything happens in the caller's transaction.
 *
 * Refused, with the view named: materialized views (their rows would need
 * a refresh), and views with triggers or rules of their own besides the
 * view's query.  Any other object depending on a view (a function
 * returning its row type, say) makes DROP VIEW fail with PostgreSQL's own
 * error, and nothing is changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

/*
 * The views depending on relid, directly or through each other, with the
 * depth of their longest dependency chain: "oid, depth, relkind,
 * relpersistence".
 */
#define SF_VIEW_CLOSURE_SQL \
	"WITH RECURSIVE v (oid, depth) AS (" \
	" SELECT r.ev_class, 1 FROM pg_catalog.pg_depend d" \
	"   JOIN pg_catalog.pg_rewrite r" \
	"     ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid" \
	"  WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass" \
	"    AND d.refobjid = %u AND r.ev_class <> %u" \
	" UNION" \
	" SELECT r.ev_class, v.depth + 1 FROM v" \
	"   JOIN pg_catalog.pg_depend d" \
	"     ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = v.oid" \
	"   JOIN pg_catalog.pg_rewrite r" \
	"     ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid" \
	"  WHERE r.ev_class <> v.oid AND v.depth < 100)" \
	" SELECT v.oid, pg_catalog.max(v.depth), c.relkind, c.relpersistence" \
	"   FROM v JOIN pg_catalog.pg_class c ON c.oid = v.oid" \
	"  GROUP BY v.oid, c.relkind, c.relpersistence" \
	"  ORDER BY 2, 1"

/* A view to create again */
typedef struct SfView
{
	Oid			oid;
	char	   *qualname;
	List	   *commands;		/* CREATE VIEW, then its properties */
} SfView;

/*
 * Refuse what cannot be carried over: a materialized view, a temporary
 * view of another session (create_distributed_table_concurrently's job is
 * another session too), a trigger or a rule (other than its query) on a
 * view.
 */
static void
sf_check_view(Oid relid, Oid viewoid, char relkind, char persistence,
			  const char *operation)
{
	char	   *relname = get_rel_name(relid);
	char	   *viewname = get_rel_name(viewoid);

	if (persistence == RELPERSISTENCE_TEMP &&
		!isTempNamespace(get_rel_namespace(viewoid)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s table \"%s\": temporary view \"%s\" of another session depends on it",
						operation, relname, viewname),
				 errdetail("The table is replaced by a new one; views are created again over it, but only in the session that owns them."),
				 errhint("Drop the temporary view, or call create_distributed_table from the session that owns it.")));

	if (relkind == RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s table \"%s\": materialized view \"%s\" depends on it",
						operation, relname, viewname),
				 errdetail("The table is replaced by a new one; views are created again over it, materialized views are not."),
				 errhint("Drop the materialized view, %s the table, then create the materialized view again.",
						 operation)));
	if (sf_spi_exec_count(psprintf("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = %u"
								   " UNION ALL SELECT 1 FROM pg_catalog.pg_rewrite"
								   " WHERE ev_class = %u AND rulename <> '_RETURN'",
								   viewoid, viewoid), -1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s table \"%s\": view \"%s\" depends on it and has triggers or rules",
						operation, relname, viewname),
				 errdetail("The table is replaced by a new one; its views are created again over it, but not their triggers and rules."),
				 errhint("Drop the view's triggers and rules, %s the table, then create them again.",
						 operation)));
}

/*
 * The commands that create view viewoid again as it is: definition (names
 * qualified: the caller pins search_path), options, owner, grants,
 * comments, column defaults.
 */
static List *
sf_view_commands(Oid viewoid, char persistence, const char *qualname)
{
	List	   *commands;
	char	   *create;
	bool		isnull;
	Datum		d;

	sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_get_viewdef(%u),"
							   " pg_catalog.array_to_string(c.reloptions, ', ')"
							   " FROM pg_catalog.pg_class c WHERE c.oid = %u",
							   viewoid, viewoid), 1);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	create = psprintf("CREATE %sVIEW %s%s%s%s AS %s",
					  persistence == RELPERSISTENCE_TEMP ? "TEMPORARY " : "",
					  persistence == RELPERSISTENCE_TEMP
					  ? quote_identifier(get_rel_name(viewoid)) : qualname,
					  isnull ? "" : " WITH (",
					  isnull ? "" : TextDatumGetCString(d),
					  isnull ? "" : ")",
					  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));

	sf_spi_exec_count(psprintf(
							   "SELECT pg_catalog.format('ALTER VIEW %%s OWNER TO %%I', %s, pg_catalog.pg_get_userbyid(relowner))"
							   "  FROM pg_catalog.pg_class WHERE oid = %u"
							   " UNION ALL %s UNION ALL "
							   "SELECT CASE d.objsubid WHEN 0"
							   "  THEN pg_catalog.format('COMMENT ON VIEW %%s IS %%L', %s, d.description)"
							   "  ELSE pg_catalog.format('COMMENT ON COLUMN %%s.%%I IS %%L', %s, t.attname, d.description) END"
							   "  FROM pg_catalog.pg_description d"
							   "  LEFT JOIN pg_catalog.pg_attribute t ON t.attrelid = d.objoid AND t.attnum = d.objsubid"
							   "  WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid = %u"
							   " UNION ALL "
							   "SELECT pg_catalog.format('ALTER VIEW %%s ALTER COLUMN %%I SET DEFAULT %%s', %s, t.attname,"
							   "  pg_catalog.pg_get_expr(a.adbin, a.adrelid))"
							   "  FROM pg_catalog.pg_attrdef a JOIN pg_catalog.pg_attribute t"
							   "    ON t.attrelid = a.adrelid AND t.attnum = a.adnum"
							   "  WHERE a.adrelid = %u",
							   quote_literal_cstr(qualname), viewoid,
							   sf_grant_commands_query(viewoid, qualname),
							   quote_literal_cstr(qualname), quote_literal_cstr(qualname), viewoid,
							   quote_literal_cstr(qualname), viewoid), -1);
	commands = sf_spi_strings();
	return lcons(create, commands);
}

/* The view closure of relid: a List of (oid, relkind, relpersistence) */
static List *
sf_view_closure(Oid relid)
{
	List	   *closure = NIL;
	uint64		i;

	sf_spi_exec_count(psprintf(SF_VIEW_CLOSURE_SQL, relid, relid), -1);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1, &isnull));
		char		relkind = DatumGetChar(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 3, &isnull));
		char		persistence = DatumGetChar(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 4, &isnull));

		closure = lappend(closure, list_make3_oid(oid, (Oid) relkind, (Oid) persistence));
	}
	return closure;
}

/*
 * Error out, before anything changes, if a view depending on relid could
 * not be carried over (see sf_check_view).  The caller has connected to
 * SPI.
 */
void
sf_check_views(Oid relid, const char *operation)
{
	ListCell   *lc;

	foreach(lc, sf_view_closure(relid))
	{
		List	   *entry = lfirst(lc);

		sf_check_view(relid, linitial_oid(entry), (char) lsecond_oid(entry),
					  (char) lthird_oid(entry), operation);
	}
}

/*
 * Drop the views that depend on relid (see the file header) and return
 * what creates them again, for sf_reattach_views.  operation names the
 * caller's operation in errors ("distribute").  The caller has connected
 * to SPI.
 */
List *
sf_detach_views(Oid relid, const char *operation)
{
	List	   *views = NIL;
	List	   *closure = sf_view_closure(relid);
	ListCell   *lc;
	int			nestlevel;
	int			i;

	if (closure == NIL)
		return NIL;

	/* definitions with every name qualified */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, closure)
	{
		List	   *entry = lfirst(lc);
		Oid			oid = linitial_oid(entry);
		SfView	   *view = palloc(sizeof(SfView));

		sf_check_view(relid, oid, (char) lsecond_oid(entry),
					  (char) lthird_oid(entry), operation);
		view->oid = oid;
		view->qualname = sf_qualified_relname(oid);
		view->commands = sf_view_commands(oid, (char) lthird_oid(entry),
										  view->qualname);
		views = lappend(views, view);
	}
	AtEOXact_GUC(true, nestlevel);

	/* most dependent first */
	for (i = list_length(views); i > 0; i--)
	{
		SfView	   *view = list_nth(views, i - 1);

		sf_spi_exec(psprintf("DROP VIEW %s", view->qualname));
	}
	CommandCounterIncrement();
	return views;
}

/* Create again the views sf_detach_views dropped, least dependent first. */
void
sf_reattach_views(List *views)
{
	ListCell   *lc;

	foreach(lc, views)
	{
		SfView	   *view = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, view->commands)
			sf_spi_exec(lfirst(lc2));
	}
	if (views != NIL)
		CommandCounterIncrement();
}
