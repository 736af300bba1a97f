/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  The commands layer: DDL propagation to the shards of distributed
 *	  tables and the replicas of reference tables.
 *
 * A ProcessUtility hook (utility.c) looks at every utility statement; the
 * ones that touch a distributed or reference table are checked (unsupported
 * ones fail before anything changes) and applied to the coordinator, the
 * catalog and, through the connection layer, the workers, all inside the
 * current transaction: the remote DDL runs in the remote transactions that
 * commit or abort with the local one.  Drops are caught by an sql_drop
 * event trigger (drop.c), which sees every way a table can go (DROP TABLE,
 * DROP SCHEMA ... CASCADE, DROP OWNED).
 *
 * The operations layer runs its own DDL on distributed tables (for example
 * undistribute_table drops the old parent); it brackets such statements
 * with sf_commands_bypass_begin/end so that they are not propagated again.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_COMMANDS_H
#define SHARDFDW_COMMANDS_H

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/utility.h"

/* The arguments of one ProcessUtility call, passed along as a unit */
typedef struct SfUtilityCall
{
	PlannedStmt *pstmt;
	const char *queryString;
	bool		readOnlyTree;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *queryEnv;
	DestReceiver *dest;
	QueryCompletion *qc;
} SfUtilityCall;

/* A shard or replica: where to send the DDL, and the names to use */
typedef struct SfTarget
{
	Oid			serverid;
	char	   *qualname;		/* the worker table */
	int64		shardid;		/* 0 for replicas: names unchanged */
} SfTarget;

/* in utility.c */
extern void sf_commands_bypass_begin(void);
extern void sf_commands_bypass_end(void);
extern bool sf_commands_bypassed(void);
extern bool sf_restoring(void);
extern void sf_restore_keeps_notice(const char *what);
extern void sf_standard_utility(SfUtilityCall *call, Node *stmt);
extern List *sf_table_servers(Oid relid);

/* in drop.c */
extern void sf_check_drop_table(DropStmt *stmt);
extern void sf_check_drop_extension(DropStmt *stmt);

/* in index.c: each returns true when it handled the statement completely */
extern bool sf_process_index_stmt(SfUtilityCall *call, IndexStmt *stmt);
extern bool sf_process_drop_index(SfUtilityCall *call, DropStmt *stmt);
extern bool sf_process_reindex(SfUtilityCall *call, ReindexStmt *stmt);
extern bool sf_process_rename_index(SfUtilityCall *call, RenameStmt *stmt);

/* in targets.c */
struct SfTable;
extern List *sf_targets(Oid relid, const struct SfTable *table);
extern SfTarget *sf_first_target(Oid relid);
extern const char *sf_target_name(SfTarget *t, const char *name);
extern void sf_alter_targets(List *targets, const char *rest);
extern char *sf_column_type(Oid relid, AttrNumber attnum);
extern List *sf_target_objects(SfTarget *t);
extern bool sf_string_member(List *list, const char *s);
extern bool sf_target_has_object(SfTarget *t, char kind, const char *name,
								 const char *def);

/* in constraints.c */
extern List *sf_constraint_oids(Oid relid);
extern void sf_send_new_constraints(Oid relid, List *before, List *targets);
extern void sf_resync_shard_objects(Oid relid);
extern void sf_refresh_shard_ddl(Oid relid, const char *oldname, const char *newname);
extern void sf_add_shard_key(Oid relid, Constraint *con, List *targets);
extern void sf_add_shard_key_using_index(Oid relid, Constraint *con, List *targets);
extern void sf_add_shard_foreign_key(Oid relid, Constraint *con);
extern bool sf_drop_shard_constraint(Oid relid, AlterTableCmd *cmd, List *targets);
extern void sf_rename_shard_constraint(SfUtilityCall *call, RenameStmt *stmt, Oid relid,
									   List *targets);
extern void sf_check_local_alter_table(AlterTableStmt *stmt);

/* in alter.c */
extern bool sf_process_alter_table(SfUtilityCall *call, AlterTableStmt *stmt);
extern bool sf_process_rename(SfUtilityCall *call, RenameStmt *stmt);
extern bool sf_process_alter_schema(SfUtilityCall *call, AlterObjectSchemaStmt *stmt);
extern void sf_check_create_table(CreateStmt *stmt);

/* in maintenance.c */
extern bool sf_process_vacuum(SfUtilityCall *call, VacuumStmt *stmt);
extern bool sf_process_truncate(SfUtilityCall *call, TruncateStmt *stmt);

/* in copy.c */
extern bool sf_process_copy(SfUtilityCall *call, CopyStmt *stmt);
extern void sf_catalog_insert_reset(void);
extern Oid	sf_catalog_enable_all_target(AlterTableStmt *stmt);
extern void sf_catalog_insert_end_keep_always(Oid relid);

#endif							/* SHARDFDW_COMMANDS_H */
