/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  The ProcessUtility hook of the commands layer: dispatch of the utility
 *	  statements that concern distributed and reference tables.
 *
 * Statements that name no distributed or reference table, and every
 * statement run while the operations layer has bypassed the layer, go
 * straight to the previous hook or to standard_ProcessUtility.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands.h"
#include "commands/extension.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "shardfdw.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/rls.h"

static ProcessUtility_hook_type sf_prev_utility_hook = NULL;

/* > 0 while the operations layer runs DDL it propagates itself */
static int	sf_bypass_level = 0;

static void sf_process_utility(PlannedStmt *pstmt, const char *queryString,
							   bool readOnlyTree, ProcessUtilityContext context,
							   ParamListInfo params, QueryEnvironment *queryEnv,
							   DestReceiver *dest, QueryCompletion *qc);

/* The bypass level never outlives a transaction (errors skip the _end) */
static void
sf_commands_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
	{
		sf_bypass_level = 0;
		sf_catalog_insert_reset();
	}
}

/* A catalog INSERT that fails in a subtransaction does not finish (copy.c) */
static void
sf_commands_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		sf_catalog_insert_reset();
}

/* Install the utility hook; called once from _PG_init. */
void
sf_commands_init(void)
{
	sf_prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = sf_process_utility;
	RegisterXactCallback(sf_commands_xact_callback, NULL);
	RegisterSubXactCallback(sf_commands_subxact_callback, NULL);
}

/*
 * Bracket DDL that the operations layer applies to shards itself: inside,
 * the hook and the drop trigger leave statements alone.  Nesting is allowed;
 * an error between begin and end is fine (the level resets at transaction
 * end).
 */
void
sf_commands_bypass_begin(void)
{
	sf_bypass_level++;
}

void
sf_commands_bypass_end(void)
{
	if (sf_bypass_level > 0)
		sf_bypass_level--;
}

bool
sf_commands_bypassed(void)
{
	return sf_bypass_level > 0;
}

/*
 * Is this session restoring a dump?  pg_restore and pg_dump's SQL scripts
 * turn check_function_bodies and row_security off first thing (whatever the
 * client's application_name), and shardfdw's DDL needs a superuser.  A
 * session typed by hand rarely has both off.  pg_restore
 * --enable-row-security leaves row_security on, but pg_restore connects
 * with application_name pg_restore (its fallback_application_name, unless
 * PGAPPNAME or the connection string names another) and turns
 * check_function_bodies off in every run: that pair is a restore too.  A
 * restore rebuilds the coordinator's description of shards and replicas
 * that the workers keep, or get back from their own dumps: it may load the
 * catalog in any order (copy.c), the rows it loads into a reference table
 * stay on the coordinator (copy.c), and what it drops (pg_restore --clean)
 * stays on the workers (DROP TABLE, DROP INDEX, ALTER TABLE ... DROP
 * CONSTRAINT), with a NOTICE.  What it creates again is skipped on the
 * workers that have it already, in any session (sf_target_has_object).
 */
bool
sf_restoring(void)
{
	if (check_function_bodies || !superuser())
		return false;
	return !row_security ||
		(application_name != NULL && strcmp(application_name, "pg_restore") == 0);
}

/* The NOTICE of a restore's drop that leaves the workers alone */
void
sf_restore_keeps_notice(const char *what)
{
	ereport(NOTICE,
			(errmsg("%s stays on the workers", what),
			 errdetail("This session restores a dump (check_function_bodies is off, and row_security is off or the session is pg_restore's), which leaves the objects on the workers as they are."),
			 errhint("Set check_function_bodies to on to drop it on the workers too.")));
}

/*
 * Run stmt (the call's own statement, or a modified copy of it) through the
 * previous hook or standard_ProcessUtility, with the call's other
 * arguments.
 */
void
sf_standard_utility(SfUtilityCall *call, Node *stmt)
{
	PlannedStmt *pstmt = call->pstmt;
	bool		readOnlyTree = call->readOnlyTree;

	if (stmt != pstmt->utilityStmt)
	{
		pstmt = copyObject(call->pstmt);
		pstmt->utilityStmt = stmt;
		readOnlyTree = false;
	}
	if (sf_prev_utility_hook)
		sf_prev_utility_hook(pstmt, call->queryString, readOnlyTree,
							 call->context, call->params, call->queryEnv,
							 call->dest, call->qc);
	else
		standard_ProcessUtility(pstmt, call->queryString, readOnlyTree,
								call->context, call->params, call->queryEnv,
								call->dest, call->qc);
}

/*
 * The servers holding the shards or replicas of relid, without duplicates,
 * in placement order (placements whose SERVER was dropped are skipped).
 */
List *
sf_table_servers(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, sf_shard_list(relid))
	{
		SfShard    *s = lfirst(lc);

		if (OidIsValid(s->serverid))
			result = list_append_unique_oid(result, s->serverid);
	}
	return result;
}

static void
sf_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	SfUtilityCall call;
	Node	   *parsetree = pstmt->utilityStmt;
	bool		done = false;
	Oid			catalog_relid = InvalidOid;

	call.pstmt = pstmt;
	call.queryString = queryString;
	call.readOnlyTree = readOnlyTree;
	call.context = context;
	call.params = params;
	call.queryEnv = queryEnv;
	call.dest = dest;
	call.qc = qc;

	/*
	 * Subcommands (the index of a new table's PRIMARY KEY, ...) belong to a
	 * statement that was looked at already; extension scripts (ours creates
	 * the catalog) are left alone.
	 */
	if (sf_bypass_level == 0 && context != PROCESS_UTILITY_SUBCOMMAND &&
		!creating_extension && IsTransactionState() && sf_extension_present())
	{
		switch (nodeTag(parsetree))
		{
			case T_IndexStmt:
				done = sf_process_index_stmt(&call, (IndexStmt *) parsetree);
				break;
			case T_ReindexStmt:
				done = sf_process_reindex(&call, (ReindexStmt *) parsetree);
				break;
			case T_CreateStmt:
				sf_check_create_table((CreateStmt *) parsetree);
				break;
			case T_AlterTableStmt:
				catalog_relid = sf_catalog_enable_all_target((AlterTableStmt *) parsetree);
				done = sf_process_alter_table(&call, (AlterTableStmt *) parsetree);
				break;
			case T_RenameStmt:
				done = sf_process_rename_index(&call, (RenameStmt *) parsetree) ||
					sf_process_rename(&call, (RenameStmt *) parsetree);
				break;
			case T_AlterObjectSchemaStmt:
				done = sf_process_alter_schema(&call, (AlterObjectSchemaStmt *) parsetree);
				break;
			case T_VacuumStmt:
				done = sf_process_vacuum(&call, (VacuumStmt *) parsetree);
				break;
			case T_TruncateStmt:
				done = sf_process_truncate(&call, (TruncateStmt *) parsetree);
				break;
			case T_CopyStmt:
				done = sf_process_copy(&call, (CopyStmt *) parsetree);
				break;
			case T_DropStmt:
				{
					DropStmt   *drop = (DropStmt *) parsetree;

					/*
					 * A restore's drops stay on the coordinator: the index
					 * of a reference table is a local index there, and the
					 * keys on the workers are not touched.
					 */
					if (drop->removeType == OBJECT_INDEX && !sf_restoring())
						done = sf_process_drop_index(&call, drop);
					else if ((drop->removeType == OBJECT_TABLE ||
							  drop->removeType == OBJECT_FOREIGN_TABLE) &&
							 !sf_restoring())
						sf_check_drop_table(drop);
					else if (drop->removeType == OBJECT_EXTENSION)
						sf_check_drop_extension(drop);
				}
				break;
			default:
				break;
		}
	}
	if (!done)
		sf_standard_utility(&call, parsetree);
	if (OidIsValid(catalog_relid))
		sf_catalog_insert_end_keep_always(catalog_relid);
}
