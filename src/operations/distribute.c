/*-------------------------------------------------------------------------
 *
 * distribute.c
 *	  create_distributed_table and truncate_local_data_after_distributing_
 *	  table (create_distributed_table_concurrently, which runs the same
 *	  steps in several transactions, is in concurrent.c; undistribute_table
 *	  in undistribute.c, shard definitions in shard_ddl.c, foreign keys in
 *	  foreign_keys.c).
 *
 * Distributing table t (all in the caller's transaction):
 *	1. validate everything (nothing has been changed when an error is raised
 *	   here);
 *	2. create a new parent "PARTITION BY HASH (col)" LIKE t (columns,
 *	   defaults, NOT NULL, CHECK, comments), with t's owner and grants, and
 *	   move the ownership of t's sequences to it;
 *	3. create one foreign partition per shard, "t_<shardid>", and the shard
 *	   tables of the same name on the workers (columns, NOT NULL, CHECK,
 *	   primary keys, unique constraints and indexes renamed per shard);
 *	4. move the rows with INSERT INTO parent SELECT FROM t (the FDW streams
 *	   them to the shards with COPY);
 *	5. drop t, rename the parent to t's name, record the catalog rows, and
 *	   create the foreign keys that have become possible.
 *
 * A failure at any step aborts the transaction; the remote DDL and COPYs
 * ran in the remote transactions, which abort with it.
 *
 * Primary keys, unique constraints, exclusion constraints and indexes cannot
 * exist on a partitioned table whose partitions are foreign tables, so they
 * live only on the shards; shardfdw.shard_ddl remembers them (for new
 * shards, and to restore them in undistribute_table).  Foreign keys are
 * removed from the coordinator too and kept in shardfdw.pending_fkey; they
 * are created between co-located shards (or from shards to the replicas of
 * a reference table) once both sides are distributed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "utils/inval.h"
#include "catalog/pg_type.h"
#include "catalog/pg_am.h"
#include "commands.h"
#include "commands/defrem.h"
#include "connection.h"
#include "distribute_internal.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(shardfdw_create_distributed_table);
PG_FUNCTION_INFO_V1(shardfdw_truncate_local_data_after_distributing_table);


static void sf_check_plain_table(Oid relid, const char *operation);
static void sf_check_dependents(Oid relid);

/* ----------------------------------------------------------------
 * Shared helpers
 * ----------------------------------------------------------------
 */

/* Error out if relid is already a distributed or reference table */
void
sf_check_not_distributed(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);

	if (table != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already %s", get_rel_name(relid),
						table->kind == SF_KIND_HASH ? "distributed" : "a reference table"),
				 errhint("Call undistribute_table('%s') first to change how it is distributed.",
						 sf_qualified_relname(relid))));
}

/*
 * Error out unless relid is a plain table that is neither distributed nor
 * a reference table, nor part of a partitioning or inheritance tree.
 */
static void
sf_check_plain_table(Oid relid, const char *operation)
{
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));

	sf_check_not_distributed(relid);
	if (relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s \"%s\": it is a partitioned table", operation, relname),
				 errhint("Only plain tables can be distributed.")));
	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s \"%s\": it is not a table", operation, relname),
				 errhint("Only plain tables can be distributed.")));
	if (get_rel_relispartition(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s \"%s\": it is a partition", operation, relname),
				 errhint("Only plain tables can be distributed.")));
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s \"%s\": it is a temporary table", operation, relname),
				 errhint("Only permanent tables can be distributed.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, relname);
}

/*
 * Error out when an object depends on relid that create_distributed_table
 * cannot carry over to the new partitioned table.  The caller has connected
 * to SPI.
 */
static void
sf_check_dependents(Oid relid)
{
	char	   *sql;
	char	   *kind;
	char	   *name;
	char	   *relname = get_rel_name(relid);

	/* views are created again over the new table (views.c) */
	sf_check_views(relid, "distribute");

	sql = psprintf("SELECT k, n FROM ("
				   " SELECT 2 AS o, 'rule' AS k, rulename::pg_catalog.text AS n FROM pg_catalog.pg_rewrite WHERE ev_class = %u"
				   " UNION ALL SELECT 3, 'trigger', tgname::pg_catalog.text FROM pg_catalog.pg_trigger"
				   "  WHERE tgrelid = %u AND NOT tgisinternal"
				   " UNION ALL SELECT 4, 'policy', polname::pg_catalog.text FROM pg_catalog.pg_policy WHERE polrelid = %u"
				   " UNION ALL SELECT 5, 'publication', p.pubname::pg_catalog.text"
				   "  FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid"
				   "  WHERE pr.prrelid = %u"
				   " UNION ALL SELECT 6, 'statistics object', stxname::pg_catalog.text FROM pg_catalog.pg_statistic_ext"
				   "  WHERE stxrelid = %u"
				   " UNION ALL SELECT 7, 'inheritance child', inhrelid::pg_catalog.regclass::pg_catalog.text"
				   "  FROM pg_catalog.pg_inherits WHERE inhparent = %u"
				   " UNION ALL SELECT 8, 'inheritance parent', inhparent::pg_catalog.regclass::pg_catalog.text"
				   "  FROM pg_catalog.pg_inherits WHERE inhrelid = %u"
				   ") AS x ORDER BY o, n LIMIT 1",
				   relid, relid, relid, relid, relid, relid, relid);
	if (sf_spi_exec_count(sql, -1) == 0)
		return;

	kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	if (strncmp(kind, "inheritance", 11) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\": it has %s %s", relname, kind, name),
				 errdetail("Tables in an inheritance tree cannot be distributed."),
				 errhint("Remove the table from the inheritance tree (ALTER TABLE ... NO INHERIT) first.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot distribute table \"%s\": it has %s \"%s\"", relname, kind, name),
				 errdetail("The table is replaced by a new partitioned table, and this %s cannot be carried over yet.", kind),
				 errhint("Drop the %s, distribute the table, then create it again if it still applies.", kind)));
}

/*
 * Names of the primary key columns of plain table relid (NIL if none), and
 * in *name the constraint's name.
 */
static List *
sf_primary_key_columns(Oid relid, char **name)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			pkoid = RelationGetPrimaryKeyIndex(rel);
	List	   *result = NIL;

	if (OidIsValid(pkoid))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);
		int			i;

		for (i = 0; i < idx->indnkeyatts; i++)
			result = lappend(result,
							 makeString(get_attname(relid, idx->indkey.values[i], false)));
		ReleaseSysCache(tup);
		*name = get_rel_name(pkoid);
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * Record on the partitioned parent relid a PRIMARY KEY constraint without an
 * index (a partitioned table with foreign partitions cannot have a unique
 * index).  The key is enforced by every shard, and it contains the
 * distribution column, so it holds for the whole table; the marker lets
 * PostgreSQL use it as it would a local primary key: GROUP BY the key and
 * select other columns of the table (functional dependency), and the
 * planner's removal of redundant GROUP BY columns.  pg_dump ignores primary
 * keys without an index.
 */
void
sf_add_primary_key_marker(Oid relid, const char *name, List *columns)
{
	int16	   *keys = palloc(sizeof(int16) * list_length(columns));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, columns)
	{
		AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc)));

		if (attnum == InvalidAttrNumber)
			return;
		keys[n++] = attnum;
	}
	(void) CreateConstraintEntry(name, get_rel_namespace(relid), CONSTRAINT_PRIMARY,
								 false, false, true, InvalidOid, relid,
								 keys, n, n, InvalidOid, InvalidOid, InvalidOid,
								 NULL, NULL, NULL, NULL, 0, ' ', ' ', NULL, 0, ' ',
								 NULL, NULL, NULL, true, 0, false, true);
	CacheInvalidateRelcacheByRelid(relid);
	CommandCounterIncrement();
}

/* ----------------------------------------------------------------
 * create_distributed_table
 * ----------------------------------------------------------------
 */

/* Fill plan->colocationid and plan->shardcount from colocate_with. */
static void
sf_choose_colocation(SfDistributePlan *plan, const char *colocate_with,
					 bool shardcount_given, int shardcount)
{
	bool		isnull;

	plan->colocationid = 0;
	plan->shardcount = shardcount_given ? shardcount : shardfdw_shard_count;

	if (pg_strcasecmp(colocate_with, "none") == 0)
		return;
	if (pg_strcasecmp(colocate_with, "default") == 0)
	{
		/* groups whose shards were split do not have shard_count shards */
		if (sf_spi_exec_count(psprintf("SELECT colocationid FROM shardfdw.colocation c"
									   " WHERE shard_count = %d AND distribution_type = %u"
									   " AND distribution_collation IS NOT DISTINCT FROM %s"
									   " AND NOT EXISTS (SELECT FROM shardfdw.shard s"
									   "  JOIN shardfdw.distributed_table t USING (relid)"
									   "  WHERE t.colocationid = c.colocationid AND s.modulus <> c.shard_count)"
									   " ORDER BY colocationid LIMIT 1",
									   plan->shardcount, plan->disttype,
									   OidIsValid(plan->distcollation)
									   ? psprintf("%u::pg_catalog.regcollation", plan->distcollation)
									   : "NULL"), -1) == 1)
			plan->colocationid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 1, &isnull));
		return;
	}
	else
	{
		List	   *names = stringToQualifiedNameList(colocate_with);
		Oid			other = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, false);
		const SfTable *table = sf_lookup_table(other);
		Oid			othertype;
		Oid			othercoll;
		int32		typmod;

		if (table == NULL || table->kind != SF_KIND_HASH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot colocate with table \"%s\": it is not a distributed table",
							colocate_with),
					 errhint("Distribute \"%s\" first, or use colocate_with => 'default' or 'none'.",
							 colocate_with)));
		get_atttypetypmodcoll(other, table->distattnum, &othertype, &typmod, &othercoll);
		if (othertype != plan->disttype || othercoll != plan->distcollation)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot colocate table \"%s\" with table \"%s\"", plan->relname, colocate_with),
					 errdetail("Distribution column types don't match: %s versus %s.",
							   format_type_be(plan->disttype), format_type_be(othertype)),
					 errhint("Distribute both tables on columns of the same type and collation.")));
		if (shardcount_given && shardcount != table->shardcount)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot colocate table \"%s\" with table \"%s\"", plan->relname, colocate_with),
					 errdetail("Table \"%s\" has %d shards, but shard_count is %d.",
							   colocate_with, table->shardcount, shardcount),
					 errhint("Omit shard_count, or pass %d.", table->shardcount)));
		plan->colocationid = table->colocationid;
		plan->shardcount = table->shardcount;
	}
}

/*
 * The shard index of the shard holding shard index i of the plan: i itself,
 * unless the group was split (see metadata.h).
 */
static int
sf_plan_index_owner(SfDistributePlan *plan, int i)
{
	int			j;

	if (plan->moduli[i] != 0)
		return i;
	for (j = 0; j < i; j++)
		if (plan->moduli[j] != 0 && i % plan->moduli[j] == j)
			return j;
	return i;
}

/*
 * Fill plan->serverids / nodeids / moduli: the placements of the co-location group
 * if it already has tables, else round robin over the nodes that should
 * have shards.
 */
static void
sf_choose_placements(SfDistributePlan *plan)
{
	List	   *nodes;
	int			n;
	int			i;
	bool		isnull;

	plan->serverids = palloc0(sizeof(Oid) * plan->shardcount);
	plan->nodeids = palloc0(sizeof(int32) * plan->shardcount);
	plan->moduli = palloc0(sizeof(int) * plan->shardcount);

	if (plan->colocationid != 0 &&
		sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid FROM shardfdw.distributed_table"
								   " WHERE colocationid = %d ORDER BY relid LIMIT 1",
								   plan->colocationid), -1) == 1)
	{
		Oid			other = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));
		List	   *shards = sf_shard_list(other);
		ListCell   *lc;

		foreach(lc, shards)
		{
			SfShard    *s = lfirst(lc);

			if (s->shardindex < plan->shardcount)
			{
				if (!OidIsValid(s->serverid))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("the server of shard %lld does not exist", (long long) s->shardid),
							 errhint("Recreate the SERVER of node %d.", s->nodeid)));
				plan->serverids[s->shardindex] = s->serverid;
				plan->nodeids[s->shardindex] = s->nodeid;
				plan->moduli[s->shardindex] = s->modulus;
			}
		}
		/* indexes held by a split shard: that shard's placement */
		for (i = 0; i < plan->shardcount; i++)
		{
			int			owner = sf_plan_index_owner(plan, i);

			plan->serverids[i] = plan->serverids[owner];
			plan->nodeids[i] = plan->nodeids[owner];
		}
		return;
	}

	nodes = NIL;
	{
		List	   *all = sf_node_list(true);
		ListCell   *lc;

		foreach(lc, all)
		{
			SfNode	   *node = lfirst(lc);

			if (node->shouldhaveshards)
				nodes = lappend(nodes, node);
		}
	}
	n = list_length(nodes);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot distribute table \"%s\": no worker node accepts shards", plan->relname),
				 errhint("Register a worker with shardfdw_add_node(server name).")));
	for (i = 0; i < plan->shardcount; i++)
	{
		SfNode	   *node = list_nth(nodes, i % n);

		plan->serverids[i] = node->serverid;
		plan->nodeids[i] = node->nodeid;
		plan->moduli[i] = plan->shardcount;
	}
}

/* Comma-separated quoted names of the non-dropped, non-generated columns */
char *
sf_insertable_columns(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	table_close(rel, AccessShareLock);
	return buf.data;
}

/*
 * A query whose rows are the GRANT commands giving relation toname
 * (qualified) the privileges relation from grants to roles other than its
 * owner, on the relation and on its columns.
 */
char *
sf_grant_commands_query(Oid from, const char *toname)
{
	const char *grantee =
		"CASE a.grantee WHEN 0 THEN 'PUBLIC'"
		" ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
		" CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)";

	return psprintf("SELECT pg_catalog.format('GRANT %%s ON %%s TO %%s%%s', a.privilege_type, %s, %s"
					" FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a"
					" WHERE c.oid = %u AND a.grantee <> c.relowner"
					" UNION ALL "
					"SELECT pg_catalog.format('GRANT %%s (%%I) ON %%s TO %%s%%s', a.privilege_type, t.attname, %s, %s"
					" FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a"
					" WHERE t.attrelid = %u AND NOT t.attisdropped",
					quote_literal_cstr(toname), grantee, from,
					quote_literal_cstr(toname), grantee, from);
}

/*
 * Carry owner, grants, table comment and owned sequences of table from
 * over to table to (both qualified names; relids given for the catalogs).
 */
void
sf_carry_over_table_properties(Oid from, Oid to, const char *toname)
{
	List	   *commands;
	ListCell   *lc;

	sf_spi_exec_count(psprintf(
							   "SELECT pg_catalog.format('ALTER TABLE %%s OWNER TO %%I', %s, pg_catalog.pg_get_userbyid(relowner))"
							   "  FROM pg_catalog.pg_class WHERE oid = %u"
							   " UNION ALL %s UNION ALL "
							   "SELECT pg_catalog.format('COMMENT ON TABLE %%s IS %%L', %s, d.description)"
							   "  FROM pg_catalog.pg_description d"
							   "  WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid = %u AND d.objsubid = 0"
							   " UNION ALL "
							   "SELECT pg_catalog.format('ALTER SEQUENCE %%s OWNED BY %%s.%%I', d.objid::pg_catalog.regclass, %s, a.attname)"
							   "  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
							   "  JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
							   "  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
							   "    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
							   "    AND d.refobjid = %u AND d.deptype = 'a'",
							   quote_literal_cstr(toname), from,
							   sf_grant_commands_query(from, toname),
							   quote_literal_cstr(toname), from,
							   quote_literal_cstr(toname), from), -1);
	commands = sf_spi_strings();
	foreach(lc, commands)
		sf_spi_exec(lfirst(lc));
	(void) to;
}

/* An identity column's sequence, saved before its table is dropped */
typedef struct SfIdentitySeq
{
	char	   *column;			/* the identity column */
	char	   *seqname;		/* its sequence's name (unqualified) */
	char	   *last_value;		/* the sequence's state, as text */
	bool		is_called;
	List	   *grants;			/* GRANT commands on the sequence, by name */
} SfIdentitySeq;

/*
 * The identity columns of relid, with the name, state and grants of their
 * sequences, as SfIdentitySeq.  create_distributed_table and
 * undistribute_table replace a table by a new one made LIKE it INCLUDING
 * IDENTITY, which has new sequences with the same options; the caller
 * saves the old sequences before dropping the old table (they are dropped
 * with it) and passes the list to sf_identity_restore once the new table
 * has the old one's name.  The caller has connected to SPI.
 */
List *
sf_identity_save(Oid relid)
{
	List	   *result = NIL;
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		SfIdentitySeq *seq;
		Oid			seqid;
		char	   *seqqual;

		if (att->attisdropped || att->attidentity == '\0')
			continue;
		seqid = getIdentitySequence(relid, att->attnum, false);
		seqqual = sf_qualified_relname(seqid);
		seq = palloc0(sizeof(SfIdentitySeq));
		seq->column = pstrdup(NameStr(att->attname));
		seq->seqname = get_rel_name(seqid);
		sf_spi_exec_count(psprintf("SELECT last_value::pg_catalog.text, is_called FROM %s",
								   seqqual), 1);
		seq->last_value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		seq->is_called = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), "t") == 0;
		sf_spi_exec_count(psprintf("SELECT pg_catalog.format('GRANT %%s ON SEQUENCE %%s TO %%s%%s',"
								   " a.privilege_type, %s,"
								   " CASE a.grantee WHEN 0 THEN 'PUBLIC'"
								   " ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
								   " CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
								   " FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a"
								   " WHERE c.oid = %u AND a.grantee <> c.relowner",
								   quote_literal_cstr(seqqual), seqid), -1);
		seq->grants = sf_spi_strings();
		result = lappend(result, seq);
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * Give the identity sequences of relid (the table that replaced the one
 * sf_identity_save saw, now under its name) the saved names, states and
 * grants: the identities continue where they were.  The caller has
 * connected to SPI.
 */
void
sf_identity_restore(Oid relid, List *saved)
{
	ListCell   *lc;

	foreach(lc, saved)
	{
		SfIdentitySeq *seq = lfirst(lc);
		AttrNumber	attnum = get_attnum(relid, seq->column);
		Oid			seqid;
		ListCell   *lc2;

		if (attnum == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" of relation %u not found", seq->column, relid);
		seqid = getIdentitySequence(relid, attnum, false);
		if (strcmp(get_rel_name(seqid), seq->seqname) != 0)
		{
			sf_spi_exec(psprintf("ALTER SEQUENCE %s RENAME TO %s", sf_qualified_relname(seqid),
								 quote_identifier(seq->seqname)));
			CommandCounterIncrement();
		}
		sf_spi_exec_count(psprintf("SELECT pg_catalog.setval(%u::pg_catalog.regclass, %s, %s)",
								   seqid, quote_literal_cstr(seq->last_value),
								   seq->is_called ? "true" : "false"), 1);
		foreach(lc2, seq->grants)
			sf_spi_exec(lfirst(lc2));
	}
}

/*
 * Validate everything create_distributed_table needs, before changing
 * anything; fills plan.  The caller has connected to SPI.
 */
void
sf_plan_distribution(SfDistributePlan *plan, Oid relid, const char *column,
					 const char *method, const char *colocate_with,
					 bool shardcount_given, int shardcount)
{
	Oid			opclass;
	int32		typmod;
	List	   *pending;
	ListCell   *lc;
	char	   *badindex;

	memset(plan, 0, sizeof(*plan));
	plan->relid = relid;
	sf_check_plain_table(relid, "distribute");
	plan->relname = get_rel_name(relid);
	plan->nspname = get_namespace_name(get_rel_namespace(relid));
	plan->qualname = sf_qualified_relname(relid);

	if (pg_strcasecmp(method, "hash") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("distribution type \"%s\" is not supported", method),
				 errhint("Use distribution_type => 'hash', or create_reference_table().")));
	if (shardcount_given && (shardcount < 1 || shardcount > 64000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard_count must be between 1 and 64000"),
				 errdetail("The value given is %d.", shardcount)));

	plan->distattnum = get_attnum(relid, column);
	if (plan->distattnum == InvalidAttrNumber || plan->distattnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", column, plan->relname),
				 errhint("Pass the name of a column of the table as distribution_column.")));
	plan->distcolumn = get_attname(relid, plan->distattnum, false);
	get_atttypetypmodcoll(relid, plan->distattnum, &plan->disttype, &typmod,
						  &plan->distcollation);
	opclass = GetDefaultOpClass(plan->disttype, HASH_AM_OID);
	if (!OidIsValid(opclass))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("cannot distribute table \"%s\" on column \"%s\": type %s has no default hash operator class",
						plan->relname, column, format_type_be(plan->disttype)),
				 errdetail("Rows are placed on shards by hashing the distribution column."),
				 errhint("Choose another distribution column, or create a default hash operator class for the type.")));

	sf_require_nodes("distribute table");

	/* unique constraints and indexes must contain the distribution column */
	if (sf_spi_exec_count(psprintf("SELECT c.relname FROM pg_catalog.pg_index i"
								   " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
								   " WHERE i.indrelid = %u AND i.indisunique"
								   " AND NOT (%d::pg_catalog.int2 = ANY (i.indkey::pg_catalog.int2[]))"
								   " ORDER BY c.relname LIMIT 1", relid, plan->distattnum), -1) == 1)
	{
		badindex = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\": unique constraint or index \"%s\" does not include distribution column \"%s\"",
						plan->relname, badindex, plan->distcolumn),
				 errdetail("Uniqueness can only be enforced within a shard, so every primary key, unique constraint and unique index must contain the distribution column."),
				 errhint("Add \"%s\" to the primary key or unique constraint, or distribute on a column it contains.",
						 plan->distcolumn)));
	}

	sf_check_dependents(relid);
	sf_choose_colocation(plan, colocate_with, shardcount_given, shardcount);
	sf_choose_placements(plan);

	/* connect to every worker now: an unreachable one fails before changes */
	{
		int			i;

		for (i = 0; i < plan->shardcount; i++)
			(void) sf_get_connection_for_server(plan->serverids[i]);
	}

	/* foreign keys now on the coordinator */
	plan->fkeys = sf_constraint_foreign_keys(relid);
	foreach(lc, plan->fkeys)
	{
		SfForeignKey *fk = lfirst(lc);

		if (fk->relid == relid && fk->refrelid == relid)
			sf_check_fkey_pair(fk, plan->colocationid, relid, plan->distattnum,
							   relid, plan->distattnum);
		else if (fk->refrelid == relid && sf_is_reference_table(fk->relid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot distribute table \"%s\": reference table \"%s\" has foreign key \"%s\" to it",
							plan->relname, get_rel_name(fk->relid), fk->conname),
					 errdetail("A reference table has rows on every node, a distributed table only on one."),
					 errhint("Drop the foreign key, or make \"%s\" a reference table instead.", plan->relname)));
	}

	/* pending foreign keys whose other side is already distributed */
	sf_forget_dropped_pending_fkeys(relid);
	pending = sf_load_foreign_keys(relid);
	foreach(lc, pending)
	{
		SfForeignKey *fk = lfirst(lc);
		Oid			other = fk->relid == relid ? fk->refrelid : fk->relid;
		const SfTable *ot = sf_lookup_table(other);

		if (ot == NULL)
			continue;
		if (ot->kind == SF_KIND_HASH)
		{
			if (fk->relid == relid)
				sf_check_fkey_pair(fk, plan->colocationid == 0 ? -1 : plan->colocationid,
								   relid, plan->distattnum, other, ot->distattnum);
			else
			{
				/* other references us: same group, distribution columns mapped */
				if (plan->colocationid != ot->colocationid)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
									fk->conname, get_rel_name(fk->relid)),
							 errdetail("Table \"%s\" would not be co-located with table \"%s\".",
									   get_rel_name(fk->relid), plan->relname),
							 errhint("Pass colocate_with => '%s'.", get_rel_name(fk->relid))));
				{
					char	   *odist = get_attname(other, ot->distattnum, false);
					ListCell   *l1;
					ListCell   *l2;
					bool		ok = false;

					forboth(l1, fk->columns, l2, fk->refcolumns)
					{
						if (strcmp(strVal(lfirst(l1)), odist) == 0 &&
							strcmp(strVal(lfirst(l2)), plan->distcolumn) == 0)
							ok = true;
					}
					if (!ok)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
										fk->conname, get_rel_name(fk->relid)),
								 errdetail("Foreign keys between distributed tables must map distribution column \"%s\" to distribution column \"%s\".",
										   odist, plan->distcolumn),
								 errhint("Distribute \"%s\" on the column that \"%s\" references.",
										 plan->relname, odist)));
				}
			}
		}
		else if (fk->refrelid == relid)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot distribute table \"%s\": reference table \"%s\" has foreign key \"%s\" to it",
							plan->relname, get_rel_name(fk->relid), fk->conname),
					 errhint("Drop the foreign key, or make \"%s\" a reference table instead.", plan->relname)));
	}
}

/*
 * Things create_distributed_table needs before it changes anything: the
 * shard definitions, the owner's name and the new parent's name.
 */
void
sf_distribution_prepare(SfDistributePlan *plan)
{
	HeapTuple	tup;

	plan->ddl = sf_collect_shard_ddl(plan->relid);
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(plan->relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", plan->relid);
	plan->ownername = GetUserNameFromId(((Form_pg_class) GETSTRUCT(tup))->relowner, false);
	ReleaseSysCache(tup);

	plan->tmpname = psprintf("shardfdw_new_%u", plan->relid);
	plan->tmpqual = quote_qualified_identifier(plan->nspname, plan->tmpname);
}

/*
 * Create the new partitioned parent "shardfdw_new_<relid>" LIKE the table
 * (without its properties: see sf_carry_over_table_properties).
 */
void
sf_distribution_create_parent(SfDistributePlan *plan)
{
	sf_spi_exec(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
						 " INCLUDING COMMENTS INCLUDING GENERATED INCLUDING IDENTITY"
						 " INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY HASH (%s)",
						 plan->tmpqual, plan->qualname, quote_identifier(plan->distcolumn)));
	CommandCounterIncrement();
	plan->newrelid = get_relname_relid(plan->tmpname, get_rel_namespace(plan->relid));
}

/* Record a new co-location group if the plan needs one. */
void
sf_distribution_create_colocation(SfDistributePlan *plan)
{
	bool		isnull;

	if (plan->colocationid != 0)
		return;
	sf_spi_exec_count(psprintf("INSERT INTO shardfdw.colocation (shard_count, distribution_type,"
							   " distribution_collation) VALUES (%d, %u, %s) RETURNING colocationid",
							   plan->shardcount, plan->disttype,
							   OidIsValid(plan->distcollation)
							   ? psprintf("%u", plan->distcollation) : "NULL"), 1);
	plan->colocationid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The shards: schema and types on every worker involved, then per shard
 * the worker's table and the foreign partition of the new parent.
 */
void
sf_distribution_create_shards(SfDistributePlan *plan)
{
	List	   *servers = NIL;
	ListCell   *lc;
	int			i;
	bool		isnull;

	/*
	 * The new parent (committed with the shards) is what records them: it
	 * must be durable before the workers commit them
	 */
	sf_require_durable_commit();
	for (i = 0; i < plan->shardcount; i++)
		servers = list_append_unique_oid(servers, plan->serverids[i]);
	foreach(lc, servers)
	{
		Oid			serverid = lfirst_oid(lc);

		sf_exec_on_server(serverid, psprintf("CREATE SCHEMA IF NOT EXISTS %s",
											 quote_identifier(plan->nspname)));
		sf_ensure_column_types(plan->relid, serverid);
	}

	plan->shardids = palloc(sizeof(int64) * plan->shardcount);
	plan->shardnames = palloc(sizeof(char *) * plan->shardcount);
	for (i = 0; i < plan->shardcount; i++)
	{
		char	   *shardqual;
		List	   *commands;
		ListCell   *lc2;

		if (plan->moduli[i] == 0)
			continue;
		sf_spi_exec_count("SELECT pg_catalog.nextval('shardfdw.shardid_seq')", 1);
		plan->shardids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
		plan->shardnames[i] = sf_shard_relname(plan->relname, plan->shardids[i]);
		shardqual = quote_qualified_identifier(plan->nspname, plan->shardnames[i]);

		commands = sf_shard_create_commands(plan->relid, plan->ddl, plan->nspname,
											plan->shardnames[i], plan->shardids[i]);
		foreach(lc2, commands)
			sf_exec_on_server(plan->serverids[i], lfirst(lc2));

		sf_spi_exec(psprintf("CREATE FOREIGN TABLE %s PARTITION OF %s"
							 " FOR VALUES WITH (MODULUS %d, REMAINDER %d)"
							 " SERVER %s OPTIONS (schema_name %s, table_name %s)",
							 shardqual, plan->tmpqual, plan->moduli[i], i,
							 quote_identifier(GetForeignServer(plan->serverids[i])->servername),
							 quote_literal_cstr(plan->nspname),
							 quote_literal_cstr(plan->shardnames[i])));
		sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OWNER TO %s", shardqual,
							 quote_identifier(plan->ownername)));
	}
	/* indexes held by a split shard name that shard */
	for (i = 0; i < plan->shardcount; i++)
	{
		int			owner = sf_plan_index_owner(plan, i);

		plan->shardids[i] = plan->shardids[owner];
		plan->shardnames[i] = plan->shardnames[owner];
	}
	CommandCounterIncrement();
}

/* Copy the table's rows into the new parent (the FDW streams them). */
void
sf_distribution_copy_rows(SfDistributePlan *plan)
{
	char	   *columns = sf_insertable_columns(plan->relid);

	sf_spi_exec(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM ONLY %s",
						 plan->tmpqual, columns, columns, plan->qualname));
}

/*
 * The switch: foreign keys leave the coordinator, the table is dropped and
 * the new parent takes its name, the catalog rows are recorded and the
 * foreign keys that became possible are created.  The new parent has the
 * table's properties already (sf_carry_over_table_properties).
 */
void
sf_distribution_switch(SfDistributePlan *plan)
{
	Oid			relid = plan->relid;
	Oid			newrelid = plan->newrelid;
	ListCell   *lc;
	int			i;
	List	   *pkey;
	char	   *pkeyname = NULL;
	List	   *views;
	List	   *identities;

	/* foreign keys leave the coordinator */
	foreach(lc, plan->fkeys)
	{
		SfForeignKey *fk = lfirst(lc);

		if (fk->relid != relid)
		{
			char	   *other = sf_qualified_relname(fk->relid);

			sf_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
								 other, quote_identifier(fk->conname)));
			sf_add_fkey_placeholder(fk->relid, fk->conname, plan->relname);
		}
	}

	/* swap; the views over the table follow it */
	pkey = sf_primary_key_columns(relid, &pkeyname);
	views = sf_detach_views(relid, "distribute");
	identities = sf_identity_save(relid);
	sf_spi_exec(psprintf("DROP TABLE %s", plan->qualname));
	sf_spi_exec(psprintf("ALTER TABLE %s RENAME TO %s", plan->tmpqual,
						 quote_identifier(plan->relname)));
	CommandCounterIncrement();
	sf_identity_restore(newrelid, identities);
	sf_reattach_views(views);
	if (pkey != NIL)
		sf_add_primary_key_marker(newrelid, pkeyname, pkey);

	/* catalog */
	sf_spi_exec(psprintf("INSERT INTO shardfdw.distributed_table VALUES (%u, 'h', %d, %d)",
						 newrelid, plan->distattnum, plan->colocationid));
	for (i = 0; i < plan->shardcount; i++)
	{
		if (plan->moduli[i] == 0)
			continue;
		sf_spi_exec(psprintf("INSERT INTO shardfdw.shard VALUES (" INT64_FORMAT ", %u, %d, %s::pg_catalog.regclass, %d)",
							 plan->shardids[i], newrelid, i,
							 quote_literal_cstr(quote_qualified_identifier(plan->nspname,
																		   plan->shardnames[i])),
							 plan->moduli[i]));
		sf_spi_exec(psprintf("INSERT INTO shardfdw.placement VALUES (" INT64_FORMAT ", %d)",
							 plan->shardids[i], plan->nodeids[i]));
	}
	foreach(lc, plan->ddl)
	{
		SfShardDdl *d = lfirst(lc);

		sf_spi_exec(psprintf("INSERT INTO shardfdw.shard_ddl VALUES (%u, %s, '%c', %s)",
							 newrelid, quote_literal_cstr(d->name), d->kind,
							 quote_literal_cstr(d->definition)));
	}
	sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET relid = %u WHERE relid = %u", newrelid, relid));
	sf_spi_exec(psprintf("UPDATE shardfdw.pending_fkey SET refrelid = %u WHERE refrelid = %u", newrelid, relid));
	foreach(lc, plan->fkeys)
	{
		SfForeignKey *fk = lfirst(lc);
		Oid			from = fk->relid == relid ? newrelid : fk->relid;
		Oid			to = fk->refrelid == relid ? newrelid : fk->refrelid;

		sf_spi_exec(psprintf("INSERT INTO shardfdw.pending_fkey VALUES (%s, %u, %u, %s, %s, %s, false)",
							 quote_literal_cstr(fk->conname), from, to,
							 sf_name_array(fk->columns), sf_name_array(fk->refcolumns),
							 quote_literal_cstr(fk->actions)));
		if (!sf_lookup_table(from == newrelid ? to : from) && from != to)
			ereport(NOTICE,
					(errmsg("foreign key \"%s\" of table \"%s\" is removed from the coordinator until table \"%s\" is distributed",
							fk->conname, get_rel_name(from),
							get_rel_name(from == newrelid ? to : from)),
					 from != newrelid
					 ? errdetail("It will be created on the shards when both tables are distributed.  Until then, constraint \"%s\" CHECK (true) stands for it on table \"%s\": dropping that constraint drops the foreign key.",
								 fk->conname, get_rel_name(from))
					 : errdetail("It will be created on the shards when table \"%s\" is distributed or made a reference table.",
								 get_rel_name(to))));
	}
	sf_invalidate_table(newrelid);
	sf_invalidate_table(relid);
	CommandCounterIncrement();

	sf_create_ready_foreign_keys(newrelid);
}

/*
 * The work of create_distributed_table, in the caller's transaction.
 * concurrent_fallback: called by create_distributed_table_concurrently for
 * a table it cannot distribute online; says so once validation passed.
 */
void
sf_create_distributed_table(FunctionCallInfo fcinfo, bool concurrent_fallback)
{
	Oid			relid;
	char	   *column;
	char	   *method;
	char	   *colocate_with;
	bool		shardcount_given = !PG_ARGISNULL(4);
	int			shardcount = shardcount_given ? PG_GETARG_INT32(4) : 0;
	SfDistributePlan plan;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name and distribution_column must not be NULL")));
	relid = PG_GETARG_OID(0);
	column = text_to_cstring(PG_GETARG_TEXT_PP(1));
	method = PG_ARGISNULL(2) ? "hash" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	colocate_with = PG_ARGISNULL(3) ? "default" : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");

	LockRelationOid(relid, AccessExclusiveLock);

	SPI_connect();
	/* (the triggers of an interrupted concurrent attempt would be refused) */
	if (sf_concurrent_drop_leftovers(relid))
		ereport(NOTICE,
				(errmsg("dropped what an interrupted create_distributed_table_concurrently of table \"%s\" left behind",
						get_rel_name(relid))));
	sf_plan_distribution(&plan, relid, column, method, colocate_with,
						 shardcount_given, shardcount);
	if (concurrent_fallback)
		ereport(NOTICE,
				(errmsg("table \"%s\" has no primary key or replica identity index: create_distributed_table_concurrently blocks writes to it",
						plan.relname),
				 errdetail("Without a key, changes made during the copy cannot be replayed on the shards, so the table is distributed under an exclusive lock, as create_distributed_table does."),
				 errhint("Add a primary key containing column \"%s\" to distribute the table without blocking writes.",
						 plan.distcolumn)));

	/* --- from here on, things change --- */
	sf_distribution_prepare(&plan);

	/* placeholders of our pending foreign keys must not be copied */
	sf_drop_fkey_placeholders(relid);

	sf_distribution_create_parent(&plan);
	sf_carry_over_table_properties(relid, plan.newrelid, plan.tmpqual);
	sf_distribution_create_colocation(&plan);
	sf_distribution_create_shards(&plan);
	sf_distribution_copy_rows(&plan);
	sf_distribution_switch(&plan);
	SPI_finish();
}

/*
 * create_distributed_table(table_name regclass, distribution_column text,
 *	 distribution_type text, colocate_with text, shard_count int)
 */
Datum
shardfdw_create_distributed_table(PG_FUNCTION_ARGS)
{
	sf_create_distributed_table(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * truncate_local_data_after_distributing_table(regclass): distribution
 * moves the rows, so there is nothing left to truncate.
 */
Datum
shardfdw_truncate_local_data_after_distributing_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (sf_lookup_table(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is not distributed", get_rel_name(relid)),
				 errhint("Call create_distributed_table or create_reference_table first.")));
	ereport(NOTICE,
			(errmsg("table \"%s\" has no local data left to truncate", get_rel_name(relid)),
			 errdetail("shardfdw moves the rows to the workers when it distributes a table.")));
	PG_RETURN_VOID();
}

