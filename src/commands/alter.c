/*-------------------------------------------------------------------------
 *
 * alter.c
 *	  ALTER TABLE and RENAME on distributed and reference tables.
 *
 * Every subcommand is checked first: an unsupported one fails before
 * anything changes, with a hint.  Then each subcommand runs on its own:
 * PostgreSQL applies it to the coordinator (the parent and, by recursion,
 * the foreign partitions; or the reference table), and the same change,
 * deparsed from the coordinator's catalog after the fact (every name
 * qualified), is sent to every shard or replica.  Constraint and index
 * names get the suffix _<shardid> on shards and stay as they are on
 * replicas.  Constraints that cannot exist on the parent (PRIMARY KEY,
 * UNIQUE, FOREIGN KEY of a distributed table) are applied to the shards
 * and recorded in the catalog (shard_ddl, pending_fkey) without PostgreSQL.
 *
 * Column defaults stay on the coordinator (as at distribution); ADD COLUMN
 * with a default sends it along so that the existing rows on the workers
 * get it, then drops it there.  Identities stay on the coordinator too
 * (ADD / SET / DROP IDENTITY change nothing on the workers); ADD COLUMN
 * with IDENTITY is refused: the existing rows would need values of the
 * coordinator's sequence.
 *
 * RENAME of a distributed table keeps the shard names (the foreign
 * partitions keep pointing at them); RENAME of a reference table renames
 * the replicas.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "commands.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "metadata.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "operations.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_expr.h"
#include "parser/parse_type.h"
#include "parser/parse_relation.h"
#include "utils/ruleutils.h"
#include "connection.h"
#include "fdw_option.h"
#include "foreign/foreign.h"
#include "shard_transfer.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#define SF_ALTER_HINT "Turn the table back into a local table with undistribute_table, alter it, then distribute it again."

static void
sf_alter_unsupported(Oid relid, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on %s table \"%s\"", what,
					sf_is_reference_table(relid) ? "reference" : "distributed",
					get_rel_name(relid)),
			 errhint(SF_ALTER_HINT)));
}

/* Names of the columns of a key list (of String) contain column name? */
static bool
sf_names_contain(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	return false;
}

/*
 * Check one subcommand before anything changes: unsupported ones error out.
 */
static void
sf_check_alter_cmd(Oid relid, const SfTable *table, AlterTableCmd *cmd)
{
	bool		distributed = table->kind == SF_KIND_HASH;

	switch (cmd->subtype)
	{
		case AT_AddColumn:
			{
				ColumnDef  *def = (ColumnDef *) cmd->def;
				ListCell   *lc;
				bool		identity;

				if (def->generated || def->collClause)
					sf_alter_unsupported(relid, "ADD COLUMN with GENERATED or COLLATE");
				identity = def->identity != '\0';
				foreach(lc, def->constraints)
					identity |= ((Constraint *) lfirst(lc))->contype == CONSTR_IDENTITY;
				if (identity)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("ADD COLUMN with IDENTITY is not supported on %s table \"%s\"",
									distributed ? "distributed" : "reference", get_rel_name(relid)),
							 errdetail("The rows already on the workers would need values from the coordinator's identity sequence."),
							 errhint("Add the column without IDENTITY, give the rows values with UPDATE, SET NOT NULL, then ALTER COLUMN ... ADD GENERATED ... AS IDENTITY.")));
				foreach(lc, def->constraints)
				{
					Constraint *con = lfirst(lc);

					if (con->contype != CONSTR_NOTNULL && con->contype != CONSTR_NULL &&
						con->contype != CONSTR_DEFAULT)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("ADD COLUMN with a constraint is not supported on %s table \"%s\"",
										distributed ? "distributed" : "reference", get_rel_name(relid)),
								 errhint("Add the column first, then the constraint with ALTER TABLE ... ADD CONSTRAINT.")));
				}
			}
			break;
		case AT_AlterColumnType:
			break;
		case AT_SetStatistics:
		case AT_SetOptions:
		case AT_ResetOptions:
			/* a column's planner statistics settings, by name */
			if (cmd->name == NULL)
				sf_alter_unsupported(relid, "this ALTER TABLE subcommand");
			break;
		case AT_DropColumn:
		case AT_ColumnDefault:
		case AT_AddIdentity:
		case AT_SetIdentity:
		case AT_DropIdentity:
		case AT_SetNotNull:
		case AT_DropNotNull:
		case AT_DropConstraint:
		case AT_ChangeOwner:
			break;
		case AT_AddConstraint:
			{
				Constraint *con = (Constraint *) cmd->def;

				if (con->contype == CONSTR_CHECK)
					break;
				if (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE)
				{
					/* USING INDEX: a unique index has the distribution column */
					if (distributed && con->indexname == NULL)
					{
						char	   *distcol = get_attname(relid, table->distattnum, false);

						if (!sf_names_contain(con->keys, distcol))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("cannot create constraint on distributed table \"%s\" without its distribution column",
											get_rel_name(relid)),
									 errdetail("Each shard enforces PRIMARY KEY and UNIQUE constraints for its own rows only, so they must contain the distribution column \"%s\".",
											   distcol),
									 errhint("Add column \"%s\" to the constraint.", distcol)));
					}
					break;
				}
				if (con->contype == CONSTR_FOREIGN)
				{
					Oid			refrelid = RangeVarGetRelid(con->pktable, NoLock, false);
					const SfTable *ref = sf_lookup_table(refrelid);

					if (ref == NULL)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create foreign key from %s table \"%s\" to local table \"%s\"",
										distributed ? "distributed" : "reference",
										get_rel_name(relid), get_rel_name(refrelid)),
								 errhint("Make \"%s\" a reference table (create_reference_table) or distribute it co-located with \"%s\" first.",
										 get_rel_name(refrelid), get_rel_name(relid))));
					if (!distributed && ref->kind == SF_KIND_HASH)
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create foreign key from reference table \"%s\" to distributed table \"%s\"",
										get_rel_name(relid), get_rel_name(refrelid)),
								 errdetail("A reference table has rows on every node, a distributed table only on one."),
								 errhint("Make \"%s\" a reference table too.", get_rel_name(refrelid))));
					if (con->fk_attrs == NIL)
						elog(ERROR, "foreign key without columns");
					break;
				}
				sf_alter_unsupported(relid, "this kind of constraint");
			}
			break;
		case AT_EnableTrigAll:
		case AT_DisableTrigAll:

			/*
			 * pg_restore --data-only --disable-triggers brackets each
			 * table's rows with these: a reference table's rows then load
			 * on the coordinator only (its replicas are restored or kept on
			 * the workers).  By hand, disabling the replication triggers
			 * would let the replicas drift: refused.
			 */
			if (!distributed && sf_restoring())
				break;
			sf_alter_unsupported(relid, "this ALTER TABLE subcommand");
			break;
		default:
			sf_alter_unsupported(relid, "this ALTER TABLE subcommand");
	}
}

/*
 * The USING expression of ALTER COLUMN TYPE, analyzed against relid as it
 * is now and deparsed with every name qualified (column names bare), to be
 * evaluated by the workers on each row.  A volatile expression would give
 * replicas different values: refused for reference tables.
 */
static char *
sf_deparse_using(Oid relid, Node *raw, bool distributed)
{
	ParseState *pstate = make_parsestate(NULL);
	Relation	rel = relation_open(relid, NoLock);
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	char	   *result;
	int			nestlevel;

	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	expr = transformExpr(pstate, copyObject(raw), EXPR_KIND_ALTER_COL_TRANSFORM);
	relation_close(rel, NoLock);
	if (!distributed && contain_volatile_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ALTER COLUMN TYPE with a volatile USING expression is not supported on reference table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Every replica would compute its own values.")));
	nestlevel = sf_push_qualified_search_path();
	result = deparse_expression(expr, deparse_context_for(get_rel_name(relid), relid), false, false);
	sf_pop_search_path(nestlevel);
	return result;
}

/* Run one subcommand through PostgreSQL, as its own ALTER TABLE */
static void
sf_alter_local(SfUtilityCall *call, AlterTableStmt *stmt, AlterTableCmd *cmd)
{
	AlterTableStmt *one = copyObject(stmt);

	one->cmds = list_make1(copyObject(cmd));
	sf_standard_utility(call, (Node *) one);
	CommandCounterIncrement();
}

/*
 * The options of ALTER COLUMN ... SET (n_distinct = -0.5, ...) or RESET
 * (n_distinct, ...), as SQL.
 */
static char *
attribute_options_sql(List *options, bool with_values)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, options)
	{
		DefElem    *opt = lfirst(lc);

		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(opt->defname));
		if (with_values && opt->arg != NULL)
			appendStringInfo(&buf, " = %s", quote_literal_cstr(defGetString(opt)));
	}
	return buf.data;
}

/*
 * ALTER TABLE on a distributed or reference table.  Returns false when the
 * table is neither (after checking a local table's new foreign keys).
 */
bool
sf_process_alter_table(SfUtilityCall *call, AlterTableStmt *stmt)
{
	Oid			relid;
	const SfTable *cached;
	SfTable		table;
	List	   *targets;
	bool		distributed;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	cached = sf_lookup_table(relid);
	if (cached == NULL)
	{
		if (OidIsValid(relid))
			sf_check_local_alter_table(stmt);
		return false;
	}
	table = *cached;
	distributed = table.kind == SF_KIND_HASH;

	foreach(lc, stmt->cmds)
		sf_check_alter_cmd(relid, &table, lfirst(lc));

	LockRelationOid(relid, AccessExclusiveLock);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	SPI_connect();
	targets = sf_targets(relid, &table);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				{
					ColumnDef  *def = (ColumnDef *) cmd->def;
					AttrNumber	attnum;
					const char *col = quote_identifier(def->colname);
					char	   *rest;
					bool		notnull;

					if (get_attnum(relid, def->colname) != InvalidAttrNumber)
					{
						sf_alter_local(call, stmt, cmd);	/* error or notice */
						break;
					}
					sf_alter_local(call, stmt, cmd);
					attnum = get_attnum(relid, def->colname);
					notnull = sf_spi_exec_count(psprintf("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = %u"
														 " AND attnum = %d AND attnotnull", relid, attnum), -1) > 0;
					rest = psprintf("ADD COLUMN %s %s", col, sf_column_type(relid, attnum));
					if (sf_spi_exec_count(psprintf("SELECT d.adbin::text FROM pg_catalog.pg_attrdef d"
												   " WHERE d.adrelid = %u AND d.adnum = %d", relid, attnum), -1) > 0)
					{
						Node	   *expr = stringToNode(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
						int			nestlevel;

						if (contain_volatile_functions(expr))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("ADD COLUMN with a volatile default is not supported on %s table \"%s\"",
											distributed ? "distributed" : "reference", get_rel_name(relid)),
									 errhint("Add the column without a default, set the default with ALTER COLUMN ... SET DEFAULT, then fill the existing rows with UPDATE.")));
						nestlevel = sf_push_qualified_search_path();
						sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d"
												   " WHERE d.adrelid = %u AND d.adnum = %d", relid, attnum), 1);
						rest = psprintf("%s DEFAULT %s", rest,
										SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
						sf_pop_search_path(nestlevel);
						if (notnull)
							rest = psprintf("%s NOT NULL", rest);
						sf_alter_targets(targets, rest);
						rest = psprintf("ALTER COLUMN %s DROP DEFAULT", col);
					}
					else if (notnull)
						rest = psprintf("%s NOT NULL", rest);
					sf_alter_targets(targets, rest);
				}
				break;
			case AT_DropColumn:
				if (get_attnum(relid, cmd->name) == InvalidAttrNumber)
				{
					sf_alter_local(call, stmt, cmd);	/* error or notice */
					break;
				}
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("DROP COLUMN IF EXISTS %s%s", quote_identifier(cmd->name),
												   cmd->behavior == DROP_CASCADE ? " CASCADE" : ""));
				if (distributed)
					sf_resync_shard_objects(relid);
				break;
			case AT_AlterColumnType:
				{
					Node	   *using = ((ColumnDef *) cmd->def)->raw_default;
					char	   *usingsql = NULL;

					/* deparsed against the old column types, before the change */
					if (using != NULL)
						usingsql = sf_deparse_using(relid, using, distributed);
					if (using != NULL && distributed)
					{
						/*
						 * PostgreSQL refuses USING on foreign partitions:
						 * the parent changes by assignment cast (it has no
						 * rows), the shards with the USING expression.
						 */
						AlterTableCmd *local = copyObject(cmd);
						ColumnDef  *def = (ColumnDef *) local->def;
						Oid			newtype;
						int32		newtypmod;
						AttrNumber	attnum = get_attnum(relid, cmd->name);

						typenameTypeIdAndMod(NULL, def->typeName, &newtype, &newtypmod);
						if (attnum != InvalidAttrNumber &&
							!can_coerce_type(1, (Oid[]) {get_atttype(relid, attnum)}, &newtype, COERCION_ASSIGNMENT))
							ereport(ERROR,
									(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
									 errmsg("ALTER COLUMN TYPE with USING is not supported on distributed table \"%s\" from type %s to type %s",
											get_rel_name(relid), format_type_be(get_atttype(relid, attnum)),
											format_type_be(newtype)),
									 errdetail("Only type changes with an assignment cast between the types can use USING on a distributed table."),
									 errhint("Add a column of the new type, fill it with UPDATE, drop the old column and rename the new one.")));
						def->raw_default = NULL;
						sf_alter_local(call, stmt, local);
					}
					else
						sf_alter_local(call, stmt, cmd);
					sf_alter_targets(targets, psprintf("ALTER COLUMN %s TYPE %s%s%s", quote_identifier(cmd->name),
													   sf_column_type(relid, get_attnum(relid, cmd->name)),
													   usingsql ? " USING " : "", usingsql ? usingsql : ""));
				}
				break;
			case AT_ColumnDefault:
			case AT_EnableTrigAll:
			case AT_DisableTrigAll:
				/* defaults and triggers stay on the coordinator */
				sf_alter_local(call, stmt, cmd);
				break;
			case AT_AddIdentity:
			case AT_SetIdentity:
			case AT_DropIdentity:

				/*
				 * Identities stay on the coordinator, like defaults: the
				 * parent's (PostgreSQL does not recurse to partitions) or
				 * the reference table's.  The shards and replicas have the
				 * column NOT NULL (ADD IDENTITY needs it NOT NULL, DROP
				 * IDENTITY keeps it) and take the values the coordinator
				 * computes.
				 */
				sf_alter_local(call, stmt, cmd);
				break;
			case AT_SetStatistics:
				/* the partitions (foreign tables) follow, as do the shards */
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("ALTER COLUMN %s SET STATISTICS %d",
												   quote_identifier(cmd->name),
												   intVal(cmd->def)));
				break;
			case AT_SetOptions:
			case AT_ResetOptions:
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("ALTER COLUMN %s %s (%s)",
												   quote_identifier(cmd->name),
												   cmd->subtype == AT_SetOptions ? "SET" : "RESET",
												   attribute_options_sql((List *) cmd->def,
																		 cmd->subtype == AT_SetOptions)));
				break;
			case AT_SetNotNull:
			case AT_DropNotNull:
				sf_alter_local(call, stmt, cmd);
				sf_alter_targets(targets, psprintf("ALTER COLUMN %s %s NOT NULL", quote_identifier(cmd->name),
												   cmd->subtype == AT_SetNotNull ? "SET" : "DROP"));
				break;
			case AT_ChangeOwner:
				sf_alter_local(call, stmt, cmd);
				if (distributed)
				{
					ListCell   *ls;

					/* the foreign partitions follow their parent's owner */
					sf_commands_bypass_begin();
					foreach(ls, sf_shard_list(relid))
					{
						SfShard    *s = lfirst(ls);

						sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OWNER TO %s",
											 sf_qualified_relname(s->shardrelid),
											 quote_identifier(get_rolespec_name(cmd->newowner))));
					}
					sf_commands_bypass_end();
				}
				break;
			case AT_AddConstraint:
				{
					Constraint *con = (Constraint *) cmd->def;

					if (distributed && con->indexname != NULL)
						sf_add_shard_key_using_index(relid, con, targets);
					else if (distributed && (con->contype == CONSTR_PRIMARY || con->contype == CONSTR_UNIQUE))
						sf_add_shard_key(relid, con, targets);
					else if (con->indexname != NULL)
					{
						/* reference table: the same statement on the replicas */
						sf_alter_local(call, stmt, cmd);
						sf_alter_targets(targets, psprintf("ADD CONSTRAINT %s %s USING INDEX %s",
														   quote_identifier(con->conname ? con->conname : con->indexname),
														   con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
														   quote_identifier(con->indexname)));
					}
					else if (distributed && con->contype == CONSTR_FOREIGN)
						sf_add_shard_foreign_key(relid, con);
					else
					{
						/* CHECK; PK, UNIQUE, FK of a reference table */
						List	   *before = sf_constraint_oids(relid);

						sf_alter_local(call, stmt, cmd);
						sf_send_new_constraints(relid, before, targets);
					}
				}
				break;
			case AT_DropConstraint:
				if (sf_restoring())
				{
					/* pg_restore --clean: the workers keep theirs */
					char	   *what = psprintf("constraint \"%s\" of the shards or replicas of \"%s\"",
												cmd->name, get_rel_name(relid));
					bool		found = OidIsValid(get_relation_constraint_oid(relid, cmd->name, true));

					if (distributed && sf_drop_shard_constraint(relid, cmd, NIL))
						found = true;
					else
						sf_alter_local(call, stmt, cmd);
					if (found)
						sf_restore_keeps_notice(what);
					break;
				}
				if (distributed && sf_drop_shard_constraint(relid, cmd, targets))
					break;
				if (!OidIsValid(get_relation_constraint_oid(relid, cmd->name, true)))
				{
					sf_alter_local(call, stmt, cmd);	/* error or notice */
					break;
				}
				sf_alter_local(call, stmt, cmd);
				{
					ListCell   *lt;

					foreach(lt, targets)
					{
						SfTarget   *t = lfirst(lt);

						sf_exec_on_server(t->serverid,
										  psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s%s", t->qualname,
												   sf_target_name(t, cmd->name),
												   cmd->behavior == DROP_CASCADE ? " CASCADE" : ""));
					}
				}
				break;
			default:
				elog(ERROR, "unexpected ALTER TABLE subcommand %d", cmd->subtype);
		}
	}
	sf_invalidate_table(relid);
	SPI_finish();
	return true;
}

/*
 * The foreign partition relid of a shard belongs to this distributed table,
 * or InvalidOid.
 */
static Oid
sf_shard_partition_owner(Oid relid)
{
	Oid			result = InvalidOid;
	bool		isnull;

	SPI_connect();
	if (sf_spi_exec_count(psprintf("SELECT relid::pg_catalog.oid FROM shardfdw.shard WHERE shard_relid = %u",
								   relid), -1) > 0)
		result = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return result;
}

/*
 * ALTER SCHEMA ... RENAME of a schema that holds shard tables or reference
 * tables is refused: their tables on the workers have the schema's name,
 * which queries sent there use.
 */
static void
sf_check_rename_schema(RenameStmt *stmt)
{
	Oid			nspid = get_namespace_oid(stmt->subname, true);
	int			count;

	if (!OidIsValid(nspid))
		return;
	SPI_connect();
	count = sf_spi_exec_count(psprintf("SELECT 1 FROM shardfdw.shard s JOIN pg_catalog.pg_class c ON c.oid = s.shard_relid"
									   " WHERE c.relnamespace = %u"
									   " UNION ALL SELECT 1 FROM shardfdw.distributed_table t"
									   " JOIN pg_catalog.pg_class c ON c.oid = t.relid"
									   " WHERE t.kind = 'n' AND c.relnamespace = %u LIMIT 1",
									   nspid, nspid), -1);
	SPI_finish();
	if (count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot rename schema \"%s\" because it holds shards or reference tables",
						stmt->subname),
				 errdetail("The shard tables and replicas on the workers are in a schema of the same name, which queries sent to the workers use."),
				 errhint("Create schema \"%s\", move the tables with ALTER TABLE ... SET SCHEMA (their shards and replicas follow), then drop schema \"%s\".",
						 stmt->newname, stmt->subname)));
}

/*
 * ALTER TABLE ... RENAME [COLUMN | CONSTRAINT] on a distributed or
 * reference table.  Returns false when the statement is about neither.
 */
bool
sf_process_rename(SfUtilityCall *call, RenameStmt *stmt)
{
	Oid			relid;
	const SfTable *cached;
	SfTable		table;
	List	   *targets;

	if (stmt->renameType == OBJECT_SCHEMA)
	{
		sf_check_rename_schema(stmt);
		return false;
	}
	if ((stmt->renameType == OBJECT_TABLE || stmt->renameType == OBJECT_FOREIGN_TABLE) &&
		stmt->relation != NULL)
	{
		Oid			partid = RangeVarGetRelid(stmt->relation, NoLock, true);
		Oid			owner;

		if (OidIsValid(partid) && get_rel_relkind(partid) == RELKIND_FOREIGN_TABLE &&
			OidIsValid(owner = sf_shard_partition_owner(partid)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename shard %s of distributed table %s",
							sf_qualified_relname(partid), sf_qualified_relname(owner)),
					 errdetail("Queries sent to the workers name each shard by its foreign partition's name, which must stay the name of the shard table on its worker."),
					 errhint("Rename the distributed table itself (its shards keep their names).")));
	}
	if (stmt->relation == NULL ||
		(stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN &&
		 stmt->renameType != OBJECT_TABCONSTRAINT))
		return false;
	if (stmt->renameType == OBJECT_COLUMN && stmt->relationType != OBJECT_TABLE)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	cached = sf_lookup_table(relid);
	if (cached == NULL)
		return false;
	table = *cached;

	SPI_connect();
	targets = sf_targets(relid, &table);
	if (stmt->renameType == OBJECT_TABCONSTRAINT && table.kind == SF_KIND_HASH)
	{
		sf_rename_shard_constraint(call, stmt, relid, targets);
		sf_invalidate_table(relid);
		SPI_finish();
		return true;
	}
	sf_standard_utility(call, (Node *) stmt);
	CommandCounterIncrement();
	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
			/* shards keep their names; replicas follow */
			if (table.kind == SF_KIND_REFERENCE)
				sf_alter_targets(targets, psprintf("RENAME TO %s", quote_identifier(stmt->newname)));
			break;
		case OBJECT_COLUMN:
			sf_alter_targets(targets, psprintf("RENAME COLUMN %s TO %s", quote_identifier(stmt->subname),
											   quote_identifier(stmt->newname)));
			sf_refresh_shard_ddl(relid, stmt->subname, stmt->newname);
			break;
		default:
			sf_alter_targets(targets, psprintf("RENAME CONSTRAINT %s TO %s", quote_identifier(stmt->subname),
											   quote_identifier(stmt->newname)));
			break;
	}
	sf_invalidate_table(relid);
	SPI_finish();
	return true;
}

/* The remote table of one shard, read before SET SCHEMA moves anything */
typedef struct SfSchemaShard
{
	Oid			shardrelid;		/* coordinator's foreign partition */
	Oid			serverid;
	char	   *remote_nspname; /* where the worker's table is */
	char	   *remote_relname;
	bool		has_schema_option;	/* the partition names it (schema_name) */
} SfSchemaShard;

/*
 * No move or split of the table's co-location group may run while its
 * shards change schema: those operations read the shards' remote names when
 * they start and use them until they end.  They hold SF_GROUP_LOCK_KEY for
 * the shard indexes they work on (a split also for the index of its new
 * second half, below twice the group's shard count), for their whole job;
 * the transaction-level lock taken here conflicts with theirs and keeps new
 * ones from starting until it ends.
 */
static void
sf_lock_group_for_schema(Oid relid, const SfTable *table)
{
	int			i;

	for (i = 0; i < 2 * table->shardcount; i++)
	{
		sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_try_advisory_xact_lock(" INT64_FORMAT ")",
								   SF_GROUP_LOCK_KEY(table->colocationid, i)), 1);
		if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("cannot change the schema of distributed table \"%s\" while a shard of it is being moved or split",
							get_rel_name(relid)),
					 errdetail("A move or split of shard index %d of co-location group %d is running.",
							   i, table->colocationid),
					 errhint("Wait for the other operation to finish (see shardfdw.jobs), then retry.")));
	}
}

/* The shards of distributed table relid with their remote names */
static List *
sf_schema_shards(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, sf_shard_list(relid))
	{
		SfShard    *s = lfirst(lc);
		SfSchemaShard *ss;
		ForeignTable *ft;

		if (!OidIsValid(s->shardrelid))
			continue;
		ft = GetForeignTable(s->shardrelid);
		ss = palloc0(sizeof(SfSchemaShard));
		ss->shardrelid = s->shardrelid;
		ss->serverid = OidIsValid(s->serverid) ? s->serverid : ft->serverid;
		ss->has_schema_option = sf_option_string(ft->options, "schema_name", NULL) != NULL;
		ss->remote_nspname = pstrdup(sf_option_string(ft->options, "schema_name",
													  get_namespace_name(get_rel_namespace(s->shardrelid))));
		ss->remote_relname = pstrdup(sf_option_string(ft->options, "table_name",
													  get_rel_name(s->shardrelid)));
		result = lappend(result, ss);
	}
	return result;
}

/*
 * ALTER TABLE ... SET SCHEMA of a distributed or reference table moves
 * everything that has the table's schema: PostgreSQL moves the parent (or
 * the reference table) with its indexes, constraints and owned sequences;
 * then a distributed table's foreign partitions follow (their schema_name
 * option too), and on every worker the shard tables or replicas (the schema
 * is created there when missing, as at distribution).  The worker DDL runs
 * in the distributed transaction: a failure anywhere undoes it all.
 * Shards already in the new schema stay (a layout left by older versions,
 * which moved the parent only, is repaired by moving the table back).
 *
 * SET SCHEMA of one shard's foreign partition is refused.  Returns false
 * for other tables.
 */
bool
sf_process_alter_schema(SfUtilityCall *call, AlterObjectSchemaStmt *stmt)
{
	Oid			relid;
	Oid			owner;
	const SfTable *cached;
	SfTable		table;
	List	   *targets = NIL;
	List	   *shards = NIL;
	List	   *servers = NIL;
	Oid			newnspid;
	const char *newschema;
	ListCell   *lc;

	if ((stmt->objectType != OBJECT_TABLE && stmt->objectType != OBJECT_FOREIGN_TABLE) ||
		stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return false;
	if (get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE &&
		OidIsValid(owner = sf_shard_partition_owner(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change the schema of shard %s of distributed table %s",
						sf_qualified_relname(relid), sf_qualified_relname(owner)),
				 errdetail("The foreign partition of a shard has the schema of the shard table on its worker, which shardfdw manages."),
				 errhint("Change the schema of the distributed table itself: ALTER TABLE %s SET SCHEMA %s moves its shards along.",
						 sf_qualified_relname(owner), quote_identifier(stmt->newschema))));
	if (stmt->objectType != OBJECT_TABLE)
		return false;
	cached = sf_lookup_table(relid);
	if (cached == NULL)
		return false;
	table = *cached;

	LockRelationOid(relid, AccessExclusiveLock);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	SPI_connect();
	if (table.kind == SF_KIND_HASH)
	{
		sf_lock_group_for_schema(relid, &table);
		shards = sf_schema_shards(relid);
	}
	else
		targets = sf_targets(relid, &table);

	/* the parent (errors: no such schema, no privilege, already there) */
	sf_standard_utility(call, (Node *) stmt);
	CommandCounterIncrement();
	newnspid = get_rel_namespace(relid);
	newschema = get_namespace_name(newnspid);

	if (table.kind == SF_KIND_REFERENCE)
	{
		foreach(lc, targets)
			servers = list_append_unique_oid(servers, ((SfTarget *) lfirst(lc))->serverid);
		foreach(lc, servers)
			sf_exec_on_server(lfirst_oid(lc), psprintf("CREATE SCHEMA IF NOT EXISTS %s",
													   quote_identifier(newschema)));
		sf_alter_targets(targets, psprintf("SET SCHEMA %s", quote_identifier(newschema)));
	}
	else
	{
		foreach(lc, shards)
		{
			SfSchemaShard *ss = lfirst(lc);

			if (strcmp(ss->remote_nspname, newschema) != 0 &&
				!list_member_oid(servers, ss->serverid))
			{
				servers = lappend_oid(servers, ss->serverid);
				sf_exec_on_server(ss->serverid, psprintf("CREATE SCHEMA IF NOT EXISTS %s",
														 quote_identifier(newschema)));
			}
		}
		sf_commands_bypass_begin();
		foreach(lc, shards)
		{
			SfSchemaShard *ss = lfirst(lc);

			if (get_rel_namespace(ss->shardrelid) != newnspid)
				sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s SET SCHEMA %s",
									 sf_qualified_relname(ss->shardrelid),
									 quote_identifier(newschema)));
			if (strcmp(ss->remote_nspname, newschema) == 0)
				continue;
			sf_exec_on_server(ss->serverid,
							  psprintf("ALTER TABLE %s SET SCHEMA %s",
									   quote_qualified_identifier(ss->remote_nspname, ss->remote_relname),
									   quote_identifier(newschema)));
			if (ss->has_schema_option)
				sf_spi_exec(psprintf("ALTER FOREIGN TABLE %s OPTIONS (SET schema_name %s)",
									 sf_qualified_relname(ss->shardrelid),
									 quote_literal_cstr(newschema)));
		}
		sf_commands_bypass_end();
		CommandCounterIncrement();
	}
	sf_invalidate_table(relid);
	SPI_finish();
	return true;
}
