/*-------------------------------------------------------------------------
 *
 * index.c
 *	  CREATE INDEX, DROP INDEX and REINDEX on distributed and reference
 *	  tables.
 *
 * Distributed tables: a partitioned table whose partitions are foreign
 * tables cannot have (unique) indexes, so a distributed table's indexes
 * live on its shards only, named <index>_<shardid> there, and are recorded
 * in shardfdw.shard_ddl (kind i, or u for unique), where
 * shardfdw.table_objects shows them and undistribute_table finds them.  To
 * validate the statement and get its exact definition, CREATE INDEX builds
 * the index (without UNIQUE) on the coordinator's parent, which PostgreSQL
 * allows for non-unique indexes and which stores nothing, reads it back with
 * pg_get_indexdef (every name qualified), and drops it again.
 *
 * Reference tables: the coordinator's table is a plain table that keeps
 * its indexes; the same index (same name) is created on every replica.
 *
 * CREATE INDEX CONCURRENTLY on a distributed table commits the catalog row,
 * then builds the index concurrently on each shard over autocommit
 * connections, with PostgreSQL's failure semantics (sf_build_concurrently).
 * On reference tables, and for DROP INDEX, CONCURRENTLY runs a plain
 * statement (NOTICE) inside the distributed transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "connection.h"
#include "foreign/foreign.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands.h"
#include "executor/spi.h"
#include "metadata.h"
#include "nodes/makefuncs.h"
#include "operations.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* An index that lives on the shards of a distributed table */
typedef struct SfShardIndex
{
	Oid			relid;			/* the distributed table */
	char	   *nspname;		/* its schema (and the shards') */
	char	   *name;			/* index name, without shard suffix */
	char		kind;			/* SF_DDL_* of its shard_ddl row */
} SfShardIndex;

/*
 * The shard_ddl row named name of a table in namespace nspid, or NULL.
 * The caller has connected to SPI.
 */
static SfShardIndex *
sf_find_shard_ddl_in(Oid nspid, const char *name)
{
	SfShardIndex *result;

	if (sf_spi_exec_count(psprintf("SELECT d.relid::pg_catalog.oid, d.kind FROM shardfdw.shard_ddl d"
								   " JOIN pg_catalog.pg_class c ON c.oid = d.relid::pg_catalog.oid"
								   " WHERE d.name = %s AND c.relnamespace = %u",
								   quote_literal_cstr(name), nspid), -1) == 0)
		return NULL;
	result = palloc(sizeof(SfShardIndex));
	result->relid = atooid(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	result->kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)[0];
	result->nspname = get_namespace_name(nspid);
	result->name = pstrdup(name);
	return result;
}

/*
 * The shard index (or constraint) named by a possibly qualified name list,
 * looked up like a relation: in the given schema, else along search_path.
 * NULL if there is none.  The caller has connected to SPI.
 */
static SfShardIndex *
sf_find_shard_ddl(List *names)
{
	char	   *nspname;
	char	   *name;
	ListCell   *lc;

	DeconstructQualifiedName(names, &nspname, &name);
	if (nspname != NULL)
	{
		Oid			nspid = get_namespace_oid(nspname, true);

		return OidIsValid(nspid) ? sf_find_shard_ddl_in(nspid, name) : NULL;
	}
	foreach(lc, fetch_search_path(false))
	{
		SfShardIndex *found = sf_find_shard_ddl_in(lfirst_oid(lc), name);

		if (found != NULL)
			return found;
	}
	return NULL;
}

/* sf_find_shard_ddl for a RangeVar */
static SfShardIndex *
sf_find_shard_ddl_rv(RangeVar *rv)
{
	List	   *names = NIL;

	if (rv->schemaname != NULL)
		names = lappend(names, makeString(rv->schemaname));
	names = lappend(names, makeString(rv->relname));
	return sf_find_shard_ddl(names);
}

/* Run sql on every server holding shards / replicas of relid */
static void
sf_exec_on_table_servers(Oid relid, const char *sql)
{
	ListCell   *lc;

	foreach(lc, sf_table_servers(relid))
		sf_exec_on_server(lfirst_oid(lc), sql);
}

/*
 * Run "<prefix> <index>_<shardid> ON <shard> <suffix>" (with on_shard) or
 * "<prefix> <schema>.<index>_<shardid> <suffix>" on every shard of relid.
 * A shard's indexes are in the shard's schema, which stays the table's
 * schema at distribution time when the table moves (SET SCHEMA).
 */
static void
sf_exec_per_shard(Oid relid, const char *prefix,
				  const char *index_name, bool on_shard, const char *suffix)
{
	ListCell   *lc;

	foreach(lc, sf_shard_list(relid))
	{
		SfShard    *s = lfirst(lc);
		char	   *shardindex = sf_shard_relname(index_name, s->shardid);

		if (!OidIsValid(s->serverid))
			continue;
		if (on_shard)
			sf_exec_on_server(s->serverid,
							  psprintf("%s %s ON %s %s", prefix,
									   quote_identifier(shardindex),
									   sf_qualified_relname(s->shardrelid), suffix));
		else
			sf_exec_on_server(s->serverid,
							  psprintf("%s %s %s", prefix,
									   quote_qualified_identifier(get_namespace_name(get_rel_namespace(s->shardrelid)),
																  shardindex),
									   suffix));
	}
}

/* The index of relid that is in after but not in before, or InvalidOid */
static Oid
sf_new_index(Oid relid, List *before)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *after = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			result = InvalidOid;

	table_close(rel, AccessShareLock);
	foreach(lc, after)
		if (!list_member_oid(before, lfirst_oid(lc)))
			result = lfirst_oid(lc);
	return result;
}

static List *
sf_index_list(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *result = list_copy(RelationGetIndexList(rel));

	table_close(rel, AccessShareLock);
	return result;
}

/* pg_get_indexdef(indexoid) with every name qualified */
static char *
sf_qualified_indexdef(Oid indexoid)
{
	int			nestlevel = sf_push_qualified_search_path();
	char	   *def;

	def = TextDatumGetCString(DirectFunctionCall1(pg_get_indexdef,
												  ObjectIdGetDatum(indexoid)));
	sf_pop_search_path(nestlevel);
	return def;
}

static void
sf_concurrently_notice(const char *what)
{
	ereport(NOTICE,
			(errmsg("%s on a distributed or reference table runs without CONCURRENTLY", what),
			 errdetail("The workers run it inside the distributed transaction, which blocks writes to each shard while it runs.")));
}

/* One remote statement of CREATE INDEX CONCURRENTLY */
typedef struct SfShardCommand
{
	Oid			serverid;
	char	   *servername;
	char	   *sql;
} SfShardCommand;

/*
 * The second half of CREATE INDEX CONCURRENTLY on a distributed table, as
 * PostgreSQL does it: the catalog row is committed first (so that a
 * failure leaves an index that DROP INDEX finds), then each shard builds
 * its index concurrently over an autocommit connection, while a session
 * lock keeps the table from being dropped or altered.  A shard that fails
 * is reported, with the index left invalid there and valid on the shards
 * before it.
 */
static void
sf_build_concurrently(Oid relid, const char *name, List *commands)
{
	Relation	rel = table_open(relid, ShareUpdateExclusiveLock);
	LockRelId	lockrelid = rel->rd_lockInfo.lockRelId;
	ListCell   *lc;

	table_close(rel, NoLock);
	LockRelationIdForSession(&lockrelid, ShareUpdateExclusiveLock);
	if (ActiveSnapshotSet())
		PopActiveSnapshot();
	CommitTransactionCommand();
	StartTransactionCommand();

	PG_TRY();
	{
		foreach(lc, commands)
		{
			SfShardCommand *c = lfirst(lc);
			char	   *result = NULL;

			if (!sf_run_command_on_server(c->serverid, c->sql, &result))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("could not create index \"%s\" concurrently on server \"%s\"",
								name, c->servername),
						 errdetail("%s", result ? result : "no message"),
						 errhint("The index may be invalid or missing on some shards: drop it with DROP INDEX and create it again."),
						 errcontext("while executing \"%s\"", c->sql)));
		}
	}
	PG_FINALLY();
	{
		UnlockRelationIdForSession(&lockrelid, ShareUpdateExclusiveLock);
	}
	PG_END_TRY();
}

/*
 * CREATE INDEX on a distributed table: see the file header.  Errors
 * (unique index without the distribution column, name conflicts, invalid
 * definitions) happen before any worker is contacted.
 */
static void
sf_create_shard_index(SfUtilityCall *call, IndexStmt *stmt, Oid relid)
{
	MemoryContext outer;
	const SfTable *table = sf_lookup_table(relid);
	char	   *distcol = get_attname(relid, table->distattnum, false);
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));
	IndexStmt  *copy;
	List	   *before;
	Oid			indexoid;
	char	   *name;
	char	   *def;
	char	   *using;
	ObjectAddress obj;
	ListCell   *lc;

	if (stmt->unique)
	{
		bool		found = false;

		foreach(lc, stmt->indexParams)
		{
			IndexElem  *elem = lfirst(lc);

			if (elem->name != NULL && strcmp(elem->name, distcol) == 0)
				found = true;
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot create a unique index on distributed table \"%s\" without its distribution column",
							get_rel_name(relid)),
					 errdetail("Each shard enforces uniqueness for its own rows only, so a unique index must contain the distribution column \"%s\".",
							   distcol),
					 errhint("Add column \"%s\" to the index, or create a non-unique index.",
							 distcol)));
	}
	outer = CurrentMemoryContext;
	if (stmt->nulls_not_distinct)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("NULLS NOT DISTINCT is not supported on distributed tables"),
				 errhint("Create the unique index without NULLS NOT DISTINCT, and declare its columns NOT NULL.")));
	if (stmt->concurrent)
		PreventInTransactionBlock(call->context == PROCESS_UTILITY_TOPLEVEL,
								  "CREATE INDEX CONCURRENTLY");

	SPI_connect();
	if (stmt->idxname != NULL &&
		sf_find_shard_ddl_in(get_rel_namespace(relid), stmt->idxname) != NULL)
	{
		if (stmt->if_not_exists)
		{
			ereport(NOTICE,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation \"%s\" already exists, skipping", stmt->idxname)));
			SPI_finish();
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", stmt->idxname),
				 errdetail("An index or constraint of that name exists on the shards of a distributed table in schema \"%s\".",
						   nspname)));
	}

	/* build it on the parent (no storage) to validate it and deparse it */
	copy = copyObject(stmt);
	copy->unique = false;
	copy->concurrent = false;
	before = sf_index_list(relid);
	sf_standard_utility(call, (Node *) copy);
	CommandCounterIncrement();
	indexoid = sf_new_index(relid, before);
	if (!OidIsValid(indexoid))
	{
		/* IF NOT EXISTS met a coordinator relation of that name */
		SPI_finish();
		return;
	}
	name = get_rel_name(indexoid);
	def = sf_qualified_indexdef(indexoid);
	using = strstr(def, " USING ");
	if (using == NULL)
		elog(ERROR, "unexpected index definition: %s", def);
	def = pstrdup(using + 1);
	ObjectAddressSet(obj, RelationRelationId, indexoid);
	performDeletion(&obj, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();

	/* the shards, then the catalog */
	if (!stmt->concurrent)
		sf_exec_per_shard(relid,
						  stmt->unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX",
						  name, true, def);
	sf_spi_exec(psprintf("INSERT INTO shardfdw.shard_ddl (relid, name, kind, definition)"
						 " VALUES (%u, %s, %s, %s)", relid, quote_literal_cstr(name),
						 quote_literal_cstr(stmt->unique ? "u" : "i"),
						 quote_literal_cstr(def)));
	sf_invalidate_table(relid);
	if (stmt->concurrent)
	{
		List	   *commands = NIL;
		ListCell   *lc2;
		MemoryContext spicxt = MemoryContextSwitchTo(outer);

		/* the per-shard commands, built while the catalog is at hand */
		foreach(lc2, sf_shard_list(relid))
		{
			SfShard    *s = lfirst(lc2);
			SfShardCommand *c;

			if (!OidIsValid(s->serverid))
				continue;
			c = palloc(sizeof(SfShardCommand));
			c->serverid = s->serverid;
			c->servername = pstrdup(GetForeignServer(s->serverid)->servername);
			c->sql = psprintf("CREATE %sINDEX CONCURRENTLY %s ON %s %s",
							  stmt->unique ? "UNIQUE " : "",
							  quote_identifier(sf_shard_relname(name, s->shardid)),
							  sf_qualified_relname(s->shardrelid), def);
			commands = lappend(commands, c);
		}
		name = pstrdup(name);
		MemoryContextSwitchTo(spicxt);
		SPI_finish();
		sf_build_concurrently(relid, name, commands);
		return;
	}
	SPI_finish();
}

/*
 * CREATE INDEX on a reference table: the coordinator's table gets the
 * index as usual, then every replica gets the same definition.
 */
static void
sf_create_reference_index(SfUtilityCall *call, IndexStmt *stmt, Oid relid)
{
	IndexStmt  *copy = stmt;
	List	   *before = sf_index_list(relid);
	Oid			indexoid;

	if (stmt->concurrent)
	{
		sf_concurrently_notice("CREATE INDEX CONCURRENTLY");
		copy = copyObject(stmt);
		copy->concurrent = false;
	}
	sf_standard_utility(call, (Node *) copy);
	CommandCounterIncrement();
	indexoid = sf_new_index(relid, before);
	if (OidIsValid(indexoid))
	{
		char	   *def = sf_qualified_indexdef(indexoid);
		char	   *name = get_rel_name(indexoid);
		SfTable		table = *sf_lookup_table(relid);
		ListCell   *lc;

		/* a restore replays CREATE INDEX: replicas may have it already */
		foreach(lc, sf_targets(relid, &table))
		{
			SfTarget   *t = lfirst(lc);

			if (!sf_target_has_object(t, SF_DDL_INDEX, name, def))
				sf_exec_on_server(t->serverid, def);
		}
	}
}

/*
 * CREATE INDEX: handled here when its table is distributed or a reference
 * table.
 */
bool
sf_process_index_stmt(SfUtilityCall *call, IndexStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const SfTable *table = sf_lookup_table(relid);

	if (table == NULL)
		return false;
	if (table->kind == SF_KIND_REFERENCE)
		sf_create_reference_index(call, stmt, relid);
	else
		sf_create_shard_index(call, stmt, relid);
	return true;
}

/* Owner check of a distributed table, for statements on its shard indexes */
static void
sf_check_table_owner(Oid relid, ObjectType objtype, const char *name)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, objtype, name);
}

/*
 * DROP INDEX: indexes that live on shards are dropped there and forgotten
 * by the catalog; indexes of reference tables are dropped on the
 * coordinator and on every replica; the rest goes to PostgreSQL.  Handled
 * here when at least one index of the statement is one of the first two
 * kinds.
 */
bool
sf_process_drop_index(SfUtilityCall *call, DropStmt *stmt)
{
	List	   *remaining = NIL;
	List	   *shard_indexes = NIL;
	List	   *ref_tables = NIL;
	List	   *ref_indexes = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	SPI_connect();
	foreach(lc, stmt->objects)
	{
		List	   *names = lfirst(lc);
		Oid			indexoid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

		if (OidIsValid(indexoid))
		{
			Oid			relid = IndexGetRelation(indexoid, true);

			remaining = lappend(remaining, names);
			if (sf_is_reference_table(relid))
			{
				ref_tables = lappend_oid(ref_tables, relid);
				ref_indexes = lappend(ref_indexes,
									  quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
																 get_rel_name(indexoid)));
			}
		}
		else
		{
			SfShardIndex *found = sf_find_shard_ddl(names);

			if (found == NULL)
			{
				remaining = lappend(remaining, names);
				continue;
			}
			if (found->kind == SF_DDL_CONSTRAINT)
				ereport(ERROR,
						(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
						 errmsg("cannot drop index %s because constraint %s on table %s requires it",
								found->name, found->name, get_rel_name(found->relid)),
						 errhint("You can drop constraint %s on table %s instead.",
								 found->name, get_rel_name(found->relid))));
			sf_check_table_owner(found->relid, OBJECT_INDEX, found->name);
			shard_indexes = lappend(shard_indexes, found);
		}
	}
	if (shard_indexes == NIL && ref_tables == NIL)
	{
		SPI_finish();
		return false;
	}
	if (stmt->concurrent)
		sf_concurrently_notice("DROP INDEX CONCURRENTLY");

	/* PostgreSQL's own checks and drops first: they may still fail */
	if (remaining != NIL)
	{
		DropStmt   *copy = copyObject(stmt);

		copy->objects = remaining;
		copy->concurrent = false;
		sf_standard_utility(call, (Node *) copy);
	}

	foreach(lc, shard_indexes)
	{
		SfShardIndex *idx = lfirst(lc);

		sf_exec_per_shard(idx->relid, "DROP INDEX IF EXISTS",
						  idx->name, false, "");
		sf_spi_exec(psprintf("DELETE FROM shardfdw.shard_ddl WHERE relid = %u AND name = %s",
							 idx->relid, quote_literal_cstr(idx->name)));
		sf_invalidate_table(idx->relid);
	}
	forboth(lc, ref_tables, lc2, ref_indexes)
		sf_exec_on_table_servers(lfirst_oid(lc),
								 psprintf("DROP INDEX IF EXISTS %s", (char *) lfirst(lc2)));
	SPI_finish();
	return true;
}

/*
 * REINDEX TABLE / REINDEX INDEX on a distributed table (run on every
 * shard) or a reference table (run on the coordinator and every replica).
 */
bool
sf_process_reindex(SfUtilityCall *call, ReindexStmt *stmt)
{
	Oid			relid;
	const SfTable *table;
	ListCell   *lc;

	if (stmt->kind != REINDEX_OBJECT_TABLE && stmt->kind != REINDEX_OBJECT_INDEX)
		return false;

	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (stmt->kind == REINDEX_OBJECT_INDEX && OidIsValid(relid))
	{
		Oid			indexoid = relid;

		relid = IndexGetRelation(indexoid, true);
		if (!sf_is_reference_table(relid))
			return false;
		sf_standard_utility(call, (Node *) stmt);
		sf_exec_on_table_servers(relid,
								 psprintf("REINDEX INDEX %s",
										  quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
																	 get_rel_name(indexoid))));
		return true;
	}
	if (stmt->kind == REINDEX_OBJECT_INDEX)
	{
		SfShardIndex *found;

		SPI_connect();
		found = sf_find_shard_ddl_rv(stmt->relation);
		if (found == NULL)
		{
			SPI_finish();
			return false;
		}
		sf_check_table_owner(found->relid, OBJECT_INDEX, found->name);
		sf_exec_per_shard(found->relid, "REINDEX INDEX",
						  found->name, false, "");
		SPI_finish();
		return true;
	}

	table = sf_lookup_table(relid);
	if (table == NULL)
		return false;
	if (table->kind == SF_KIND_REFERENCE)
	{
		sf_standard_utility(call, (Node *) stmt);
		sf_exec_on_table_servers(relid, psprintf("REINDEX TABLE %s",
												 sf_qualified_relname(relid)));
		return true;
	}
	sf_check_table_owner(relid, OBJECT_TABLE, get_rel_name(relid));
	foreach(lc, sf_shard_list(relid))
	{
		SfShard    *s = lfirst(lc);

		if (OidIsValid(s->serverid))
			sf_exec_on_server(s->serverid, psprintf("REINDEX TABLE %s",
													sf_qualified_relname(s->shardrelid)));
	}
	return true;
}

/*
 * ALTER INDEX ... RENAME TO of an index that lives on the shards of a
 * distributed table: renamed on every shard and in the catalog.  Returns
 * false for any other index.
 */
bool
sf_process_rename_index(SfUtilityCall *call, RenameStmt *stmt)
{
	SfShardIndex *found;
	Oid			nspid;
	ListCell   *lc;

	if (stmt->renameType != OBJECT_INDEX || stmt->relation == NULL ||
		OidIsValid(RangeVarGetRelid(stmt->relation, NoLock, true)))
		return false;
	SPI_connect();
	found = sf_find_shard_ddl_rv(stmt->relation);
	if (found == NULL)
	{
		SPI_finish();
		return false;
	}
	if (found->kind == SF_DDL_CONSTRAINT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot rename index %s of constraint %s on distributed table %s",
						found->name, found->name, get_rel_name(found->relid)),
				 errhint("Rename the constraint with ALTER TABLE ... RENAME CONSTRAINT.")));
	sf_check_table_owner(found->relid, OBJECT_INDEX, found->name);
	nspid = get_rel_namespace(found->relid);
	if (sf_find_shard_ddl_in(nspid, stmt->newname) != NULL ||
		OidIsValid(get_relname_relid(stmt->newname, nspid)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", stmt->newname)));
	foreach(lc, sf_shard_list(found->relid))
	{
		SfShard    *s = lfirst(lc);

		if (!OidIsValid(s->serverid))
			continue;
		sf_exec_on_server(s->serverid,
						  psprintf("ALTER INDEX %s RENAME TO %s",
								   quote_qualified_identifier(get_namespace_name(get_rel_namespace(s->shardrelid)),
															  sf_shard_relname(found->name, s->shardid)),
								   quote_identifier(sf_shard_relname(stmt->newname, s->shardid))));
	}
	sf_spi_exec(psprintf("UPDATE shardfdw.shard_ddl SET name = %s WHERE relid = %u AND name = %s",
						 quote_literal_cstr(stmt->newname), found->relid,
						 quote_literal_cstr(found->name)));
	sf_invalidate_table(found->relid);
	SPI_finish();
	return true;
}
