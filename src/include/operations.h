/*-------------------------------------------------------------------------
 *
 * operations.h
 *	  The operations layer: nodes (node.c), distributed tables
 *	  (distribute.c, undistribute.c), reference tables (reference.c), shard
 *	  splits (split.c), the shard definitions (shard_ddl.c) and foreign
 *	  keys (foreign_keys.c) they share, plus common helpers (node.c).
 *
 * Every operation runs in the caller's transaction: local DDL and catalog
 * changes go through SPI, remote DDL and data through the connection layer
 * inside the remote transactions that commit or abort with the local one.
 * An operation validates everything it can before it changes anything, so
 * that most errors leave nothing to roll back; the others rely on that
 * rollback.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_OPERATIONS_H
#define SHARDFDW_OPERATIONS_H

#include "nodes/pg_list.h"

/* A constraint or index that lives on shards / replicas (shardfdw.shard_ddl) */
typedef struct SfShardDdl
{
	char	   *name;			/* constraint or index name on the coordinator */
	char		kind;			/* SF_DDL_CONSTRAINT, SF_DDL_INDEX or
								 * SF_DDL_UNIQUE_INDEX */
	char	   *definition;		/* see shardfdw.shard_ddl */
} SfShardDdl;

/* A foreign key between two tables (a row of shardfdw.pending_fkey) */
typedef struct SfForeignKey
{
	char	   *conname;
	Oid			relid;			/* referencing table */
	Oid			refrelid;		/* referenced table */
	List	   *columns;		/* of String: referencing column names */
	List	   *refcolumns;		/* of String: referenced column names */
	char	   *actions;		/* " ON UPDATE ... ON DELETE ... MATCH ..." */
	bool		created;		/* exists on the shards / replicas */
} SfForeignKey;

/* in node.c: shared helpers */
extern char *sf_qualified_relname(Oid relid);
extern char *sf_shard_relname(const char *relname, int64 shardid);
extern void sf_spi_exec(const char *sql);
extern int	sf_spi_exec_count(const char *sql, int expected);
extern int	sf_push_qualified_search_path(void);
extern void sf_pop_search_path(int nestlevel);
extern void sf_exec_on_server(Oid serverid, const char *sql);
extern void sf_require_nodes(const char *operation);

/* in node.c: more shared helpers */
extern List *sf_spi_strings(void);

/* distribute.c */
extern char *sf_grant_commands_query(Oid from, const char *toname);

/* views.c */
extern void sf_check_views(Oid relid, const char *operation);
extern List *sf_detach_views(Oid relid, const char *operation);
extern void sf_reattach_views(List *views);
extern char *sf_name_array(List *names);
extern struct SfNode *sf_worker_node_by_name(const char *servername);

/* in distribute.c */
extern void sf_check_not_distributed(Oid relid);
extern char *sf_insertable_columns(Oid relid);
extern void sf_carry_over_table_properties(Oid from, Oid to, const char *toname);
extern void sf_add_primary_key_marker(Oid relid, const char *name, List *columns);
extern List *sf_identity_save(Oid relid);
extern void sf_identity_restore(Oid relid, List *saved);

/* in shard_ddl.c: shard definitions (also used for reference replicas) */
extern List *sf_collect_shard_ddl(Oid relid);
extern List *sf_stored_shard_ddl(Oid relid);
extern List *sf_shard_create_commands(Oid relid, List *ddl,
									  const char *nspname,
									  const char *shard_relname,
									  int64 shardid);
extern void sf_ensure_column_types(Oid relid, Oid serverid);

/* in foreign_keys.c */
extern List *sf_constraint_foreign_keys(Oid relid);
extern void sf_check_fkey_pair(SfForeignKey *fk, int32 colocationid,
							   Oid relid, AttrNumber attnum,
							   Oid refrelid, AttrNumber refattnum);
extern void sf_add_fkey_placeholder(Oid relid, const char *conname, const char *refname);
extern bool sf_fkey_placeholder_exists(Oid relid, const char *conname);
extern void sf_drop_fkey_placeholders(Oid relid);
extern List *sf_load_foreign_keys(Oid relid);
extern void sf_create_ready_foreign_keys(Oid relid);
extern void sf_forget_dropped_pending_fkeys(Oid relid);
extern char *sf_foreign_key_actions(char matchtype, char updaction, char delaction,
									 bool deferrable, bool deferred);
extern char *sf_foreign_key_shard_command(SfForeignKey *fk,
										  const char *shard,
										  const char *refshard,
										  int64 shardid);

/*
 * In split.c: split shard shardid (and the shard at its place in every
 * co-located table) with shard_transfer_mode mode ('auto' and
 * 'force_logical': online; 'block_writes'), as a job this session waits
 * for; returns the two new shard ids of shardid's table.  Not inside a
 * transaction block, nor after the statement locked one of the group's
 * tables (errors say so).
 */
extern int64 *sf_split_shard(int64 shardid, const char *mode);

/* in reference.c */
extern void sf_create_reference_replica(Oid relid, Oid serverid);
extern void sf_drop_reference_replica(Oid relid, Oid serverid);
extern void sf_undistribute_reference_table(Oid relid);
extern void sf_copy_table_to_server(Oid relid, Oid serverid);
extern List *sf_reference_fkey_commands(Oid relid, bool outgoing_only);

/*
 * in cleanup.c: make the current transaction's commit durable (its WAL
 * flushed, and confirmed by synchronous standbys if any) before it returns
 * or becomes visible, whatever the session's synchronous_commit.  For every
 * coordinator transaction that commits a cleanup record, switches shards
 * (a cutover) or has workers commit their part after it (objects created
 * or dropped on workers in the caller's transaction).
 */
extern void sf_require_durable_commit(void);

#endif							/* SHARDFDW_OPERATIONS_H */
