/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  COPY ... TO from a distributed or reference table; how a restore
 *	  loads the catalog tables and reference tables.
 *
 * PostgreSQL refuses COPY TO from a partitioned table (a distributed table
 * is one) and from a foreign table.  The utility hook hands such a COPY
 * here, and it runs as "COPY (SELECT cols FROM tbl) TO ..." with the same
 * options, so the rows come through the planner (and the FDW).  COPY FROM
 * is untouched: the FDW's insert path already streams it to the shards in
 * batches (see src/fdw/modify.c and src/transaction).
 *
 * The catalog tables are extension configuration tables, so pg_dump dumps
 * their rows, and a restore loads them with COPY ... FROM stdin.  pg_dump
 * orders them along their foreign keys, but a parallel pg_restore (-j)
 * loads table data in any order (a TOC entry of table data only depends on
 * its table), so the foreign keys between catalog tables would reject rows
 * whose referenced rows another job has not loaded yet.  When a restore
 * (sf_restoring in utility.c) loads a catalog table, the COPY runs with
 * session_replication_role = replica, which turns off the foreign key
 * triggers for that statement; the dump is consistent, so the catalog is
 * once every table is loaded.  Other COPYs into the catalog are checked as
 * usual.  After any COPY into a catalog table, every backend's catalog
 * cache is flushed: the restoring session has looked the tables up before
 * their catalog rows existed.
 *
 * A dump made with pg_dump --inserts loads the catalog with INSERT, which
 * the utility hook does not see.  Each catalog table has two statement
 * triggers running shardfdw.catalog_insert_trigger(): BEFORE INSERT, in a
 * restore session, for an INSERT the client sent (the active portal's
 * command is an INSERT: the operations layer's own INSERTs, run through SPI
 * from a function, are left alone), it sets session_replication_role to
 * replica for the rest of the transaction (SET LOCAL), which keeps the
 * foreign key triggers from queueing checks of the rows; AFTER INSERT
 * (ENABLE ALWAYS, so that it fires in replica mode) puts the previous role
 * back and, after any INSERT the client sent, flushes the catalog caches as
 * after COPY.  Only when the AFTER trigger is ENABLE ALWAYS does the BEFORE
 * trigger change anything (otherwise the rows are checked); ALTER TABLE
 * ... ENABLE TRIGGER ALL, which pg_restore --disable-triggers runs after
 * loading each table, would make it ENABLE ORIGIN, so the hook puts it
 * back (sf_catalog_insert_end_keep_always).
 *
 * A data-only restore without --disable-triggers loads the rows of a
 * reference table whose replication triggers are there: in a restore
 * session, that COPY runs with session_replication_role = replica too, so
 * the rows stay on the coordinator (sf_copy_into_reference_table).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(shardfdw_catalog_insert_trigger);

/* name of the AFTER INSERT trigger of the catalog tables */
#define SF_CATALOG_INSERT_END "shardfdw_catalog_insert_end"

/*
 * session_replication_role before the BEFORE INSERT trigger of a catalog
 * table set it to replica, or -1 (reset at (sub)transaction abort)
 */
static int	sf_catalog_insert_saved_role = -1;

/*
 * The SELECT list of the rewritten COPY: the COPY's column list, or *.
 */
static List *
copy_target_list(List *attlist)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (attlist == NIL)
	{
		ResTarget  *rt = makeNode(ResTarget);
		ColumnRef  *cr = makeNode(ColumnRef);

		cr->fields = list_make1(makeNode(A_Star));
		cr->location = -1;
		rt->val = (Node *) cr;
		rt->location = -1;
		return list_make1(rt);
	}
	foreach(lc, attlist)
	{
		ResTarget  *rt = makeNode(ResTarget);
		ColumnRef  *cr = makeNode(ColumnRef);

		cr->fields = list_make1(makeString(strVal(lfirst(lc))));
		cr->location = -1;
		rt->val = (Node *) cr;
		rt->location = -1;
		result = lappend(result, rt);
	}
	return result;
}

/*
 * COPY ... FROM into a table of schema shardfdw (see the file header).
 * Returns false for other tables.
 */
static bool
sf_copy_into_catalog(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			nspid = get_namespace_oid("shardfdw", true);
	int			nestlevel = -1;

	if (!OidIsValid(relid) || !OidIsValid(nspid) || get_rel_namespace(relid) != nspid)
		return false;
	if (sf_restoring())
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("session_replication_role", "replica",
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	sf_standard_utility(call, (Node *) stmt);
	if (nestlevel >= 0)
		AtEOXact_GUC(true, nestlevel);
	sf_invalidate_nodes();
	return true;
}

/*
 * Would the replication trigger of reference table relid fire for an
 * INSERT in this session?  (A restore creates the triggers after loading
 * the rows, so they are there only in a data-only restore, and
 * pg_restore --disable-triggers disables them.)
 */
static bool
sf_replicate_insert_enabled(Oid relid)
{
	Relation	rel;
	bool		result = false;

	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return false;
	rel = table_open(relid, AccessShareLock);
	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *trigger = &rel->trigdesc->triggers[i];

			if (strcmp(trigger->tgname, "shardfdw_replicate_insert") == 0)
				result = trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN;
		}
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * COPY ... FROM into a reference table whose replication triggers are there
 * (a data-only restore without --disable-triggers), in a restore session:
 * the rows stay on the coordinator, as with --disable-triggers
 * (session_replication_role = replica for the statement, which turns off
 * the table's other triggers and foreign key checks too).  A restore never
 * changes the workers: their replicas hold the rows already, restored from
 * their own dumps or kept, and sending them again would duplicate them (or
 * fail on a key).  Returns false when the COPY is not such a COPY.
 */
static bool
sf_copy_into_reference_table(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	int			nestlevel;

	if (!OidIsValid(relid) || !sf_restoring() ||
		get_rel_relkind(relid) != RELKIND_RELATION ||
		!sf_replicate_insert_enabled(relid))
		return false;

	ereport(NOTICE,
			(errmsg("rows loaded into reference table \"%s\" stay on the coordinator",
					get_rel_name(relid)),
			 errdetail("This session restores a dump (check_function_bodies is off, and row_security is off or the session is pg_restore's): the replicas on the workers keep the rows they have, and the table's triggers and foreign keys are not checked, as with --disable-triggers."),
			 errhint("To send rows to the replicas, load them in a session with check_function_bodies on.")));
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("session_replication_role", "replica",
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	sf_standard_utility(call, (Node *) stmt);
	AtEOXact_GUC(true, nestlevel);
	return true;
}

/*
 * COPY tbl [(cols)] TO ... on a distributed or reference table: run it as a
 * COPY of a query.  COPY ... FROM into a catalog table or, in a restore
 * session, into a reference table: see above.  Returns false (not handled)
 * for anything else.
 */
bool
sf_process_copy(SfUtilityCall *call, CopyStmt *stmt)
{
	Oid			relid;
	SelectStmt *select;
	CopyStmt   *copy;

	if (stmt->is_from && stmt->relation != NULL)
		return sf_copy_into_catalog(call, stmt) ||
			sf_copy_into_reference_table(call, stmt);
	if (stmt->is_from || stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) ||
		!(sf_is_distributed_table(relid) || sf_is_reference_table(relid)))
		return false;

	select = makeNode(SelectStmt);
	select->targetList = copy_target_list(stmt->attlist);
	select->fromClause = list_make1(copyObject(stmt->relation));
	copy = copyObject(stmt);
	copy->relation = NULL;
	copy->attlist = NIL;
	copy->query = (Node *) select;
	sf_standard_utility(call, (Node *) copy);
	return true;
}

/*
 * ALTER TABLE shardfdw.<table> ENABLE TRIGGER ALL / USER (pg_restore
 * --disable-triggers runs it after loading each table) turns every trigger
 * into ENABLE ORIGIN, the AFTER INSERT trigger of the catalog tables
 * included, which must stay ENABLE ALWAYS.  Returns the table such a
 * statement alters (sf_catalog_insert_end_keep_always puts the trigger back
 * once it ran), InvalidOid for any other statement.
 */
Oid
sf_catalog_enable_all_target(AlterTableStmt *stmt)
{
	Oid			relid;
	Oid			nspid;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return InvalidOid;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_EnableTrigAll || cmd->subtype == AT_EnableTrigUser)
			break;
	}
	if (lc == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	nspid = get_namespace_oid("shardfdw", true);
	if (!OidIsValid(relid) || !OidIsValid(nspid) || get_rel_namespace(relid) != nspid)
		return InvalidOid;
	return relid;
}

/* See sf_catalog_enable_all_target. */
void
sf_catalog_insert_end_keep_always(Oid relid)
{
	Relation	rel = table_open(relid, ShareRowExclusiveLock);
	bool		reset = false;

	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			if (strcmp(rel->trigdesc->triggers[i].tgname, SF_CATALOG_INSERT_END) == 0)
				reset = rel->trigdesc->triggers[i].tgenabled != TRIGGER_FIRES_ALWAYS;
	}
	if (reset)
	{
		EnableDisableTrigger(rel, SF_CATALOG_INSERT_END, TRIGGER_FIRES_ALWAYS,
							 false, ShareRowExclusiveLock);
		CommandCounterIncrement();
	}
	table_close(rel, NoLock);
}

/* Forget a role saved by a statement that did not finish. */
void
sf_catalog_insert_reset(void)
{
	sf_catalog_insert_saved_role = -1;
}

/* Is the statement the client sent an INSERT? */
static bool
sf_client_insert(void)
{
	return ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_INSERT;
}

/* Is rel's AFTER INSERT trigger there, and ENABLE ALWAYS? */
static bool
sf_catalog_insert_end_always(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;

	if (trigdesc == NULL)
		return false;
	for (int i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, SF_CATALOG_INSERT_END) == 0)
			return trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
	}
	return false;
}

/*
 * Trigger function shardfdw.catalog_insert_trigger(): BEFORE and AFTER
 * INSERT ... FOR EACH STATEMENT on the catalog tables (see the file
 * header).
 */
Datum
shardfdw_catalog_insert_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("catalog_insert_trigger must be called as a trigger")));
	event = trigdata->tg_event;
	if (!TRIGGER_FIRED_BY_INSERT(event) || !TRIGGER_FIRED_FOR_STATEMENT(event) ||
		TRIGGER_FIRED_INSTEAD(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("catalog_insert_trigger must be fired BEFORE or AFTER INSERT ... FOR EACH STATEMENT")));

	if (TRIGGER_FIRED_BEFORE(event))
	{
		if (SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA &&
			sf_client_insert() && sf_restoring() &&
			sf_catalog_insert_end_always(trigdata->tg_relation))
		{
			sf_catalog_insert_saved_role = SessionReplicationRole;
			(void) set_config_option("session_replication_role", "replica",
									 PGC_SUSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, 0, false);
		}
		return PointerGetDatum(NULL);
	}

	if (sf_catalog_insert_saved_role >= 0)
	{
		const char *role =
			sf_catalog_insert_saved_role == SESSION_REPLICATION_ROLE_LOCAL ? "local" : "origin";

		sf_catalog_insert_saved_role = -1;
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
			(void) set_config_option("session_replication_role", role,
									 PGC_SUSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, 0, false);
	}
	if (sf_client_insert())
		sf_invalidate_nodes();
	return PointerGetDatum(NULL);
}
