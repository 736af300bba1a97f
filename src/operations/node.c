/*-------------------------------------------------------------------------
 *
 * node.c
 *	  Worker nodes: shardfdw_add_node, shardfdw_remove_node,
 *	  run_command_on_workers, and helpers shared by the operations layer.
 *
 * A node is a SERVER of the shardfdw foreign-data wrapper plus a row of
 * shardfdw.node.  Registering one checks that the worker can be reached
 * with the caller's user mapping and that its encoding and locale match the
 * coordinator's (otherwise text comparisons and sort orders pushed to
 * workers would differ from local evaluation).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "catalog/pg_user_mapping.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(shardfdw_add_node);
PG_FUNCTION_INFO_V1(shardfdw_remove_node);
PG_FUNCTION_INFO_V1(shardfdw_run_command_on_workers);

/*
 * "schema"."name" of a relation, quoted as needed.
 */
char *
sf_qualified_relname(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  relname);
}

/*
 * Name of the shard shardid of a relation named relname (unquoted):
 * relname_shardid.  Also used for the constraint and index names of
 * shards.  When that exceeds NAMEDATALEN - 1 bytes, relname is clipped (on
 * a character boundary) and a hash of the whole of it is added, so that a
 * long table name and its long constraint names still give distinct names:
 * relname-prefix_hash_shardid.
 */
char *
sf_shard_relname(const char *relname, int64 shardid)
{
	char		suffix[48];
	int			maxlen;
	int			len = strlen(relname);

	snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shardid);
	if (len + strlen(suffix) <= NAMEDATALEN - 1)
		return psprintf("%s%s", relname, suffix);

	snprintf(suffix, sizeof(suffix), "_%08x_" INT64_FORMAT,
			 hash_bytes((const unsigned char *) relname, len), shardid);
	maxlen = NAMEDATALEN - 1 - strlen(suffix);
	len = pg_mbcliplen(relname, len, maxlen);
	return psprintf("%.*s%s", len, relname, suffix);
}

/*
 * Run a utility or DML statement through SPI; the caller has connected.
 * Errors propagate.
 */
void
sf_spi_exec(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
}

/*
 * Run a query through SPI and return the number of rows processed; with
 * expected >= 0, that many rows must come back.
 */
int
sf_spi_exec_count(const char *sql, int expected)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
	if (expected >= 0 && SPI_processed != (uint64) expected)
		elog(ERROR, "unexpected row count " UINT64_FORMAT " for: %s",
			 SPI_processed, sql);
	return (int) SPI_processed;
}

/*
 * Set search_path to pg_catalog until sf_pop_search_path(), so that
 * deparsing functions (pg_get_constraintdef, pg_get_indexdef,
 * format_type) qualify every user-defined name: what they produce then runs
 * unchanged on workers, whose sessions use search_path = pg_catalog.
 */
int
sf_push_qualified_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
sf_pop_search_path(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/* Run a command on a worker inside the current remote transaction. */
void
sf_exec_on_server(Oid serverid, const char *sql)
{
	SfConn	   *conn = sf_get_connection_for_server(serverid);

	sf_exec_command(conn, sql);
}

/*
 * Error out unless at least one active worker node is registered.
 */
void
sf_require_nodes(const char *operation)
{
	if (sf_node_list(true) == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s: no worker nodes are registered", operation),
				 errhint("Create a SERVER with FOREIGN DATA WRAPPER shardfdw and a USER MAPPING for it, then call shardfdw_add_node(server name).")));
}

/* Copy the first column of SPI_tuptable into a List of C strings. */
List *
sf_spi_strings(void)
{
	List	   *result = NIL;
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			result = lappend(result, v);
	}
	return result;
}

/* A name[] literal for a List of String */
char *
sf_name_array(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "ARRAY[");
	foreach(lc, names)
	{
		if (lc != list_head(names))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_literal_cstr(strVal(lfirst(lc))));
	}
	appendStringInfoString(&buf, "]::pg_catalog.name[]");
	return buf.data;
}

/*
 * The registered worker node of the SERVER named servername; an error if
 * there is none.
 */
SfNode *
sf_worker_node_by_name(const char *servername)
{
	ListCell   *lc;

	foreach(lc, sf_node_list(false))
	{
		SfNode	   *n = lfirst(lc);

		if (strcmp(n->servername, servername) == 0)
			return n;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("server \"%s\" is not a worker node", servername),
			 errhint("See the view shardfdw.nodes.")));
	return NULL;				/* keep the compiler quiet */
}

/* The SERVER named servername, which must use the shardfdw wrapper. */
static ForeignServer *
sf_lookup_shardfdw_server(const char *servername)
{
	ForeignServer *server = GetForeignServerByName(servername, false);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(server->fdwid);

	if (strcmp(fdw->fdwname, "shardfdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use the shardfdw foreign-data wrapper",
						servername),
				 errdetail("It uses foreign-data wrapper \"%s\".", fdw->fdwname),
				 errhint("Worker nodes are SERVERs created with CREATE SERVER ... FOREIGN DATA WRAPPER shardfdw OPTIONS (host '...', port '...', dbname '...').")));
	return server;
}

/*
 * shardfdw_add_node(server name) RETURNS int
 *
 * Registers a SERVER as a worker node after checking it, creates the
 * replicas of existing reference tables on it, and returns the node id.
 */
Datum
shardfdw_add_node(PG_FUNCTION_ARGS)
{
	char	   *servername = NameStr(*PG_GETARG_NAME(0));
	ForeignServer *server = sf_lookup_shardfdw_server(servername);
	SfConn	   *conn;
	PGresult   *res;
	int			version;
	const char *encoding;
	const char *collate;
	const char *ctype;
	int			maxprepared;
	char	   *local_collate;
	char	   *local_ctype;
	Oid			argtypes[1] = {NAMEOID};
	Datum		args[1];
	int32		nodeid;
	bool		isnull;
	List	   *refs = NIL;
	uint64		i;

	if (sf_node_by_server(server->serverid) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("server \"%s\" is already a worker node", servername),
				 errhint("See the view shardfdw.nodes.")));

	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER,
							   ObjectIdGetDatum(GetUserId()),
							   ObjectIdGetDatum(server->serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER,
							   ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(server->serverid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("user mapping not found for user \"%s\", server \"%s\"",
						GetUserNameFromId(GetUserId(), false), servername),
				 errhint("Create one with CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (user '...', password '...').",
						 quote_identifier(servername))));

	conn = sf_get_connection_for_server(server->serverid);
	res = sf_exec_query(conn,
						"SELECT pg_catalog.current_setting('server_version_num'),"
						" pg_catalog.current_setting('server_encoding'),"
						" pg_catalog.current_setting('lc_collate'),"
						" pg_catalog.current_setting('lc_ctype'),"
						" pg_catalog.current_setting('max_prepared_transactions')",
						0, NULL);
	version = atoi(PQgetvalue(res, 0, 0));
	encoding = pstrdup(PQgetvalue(res, 0, 1));
	collate = pstrdup(PQgetvalue(res, 0, 2));
	ctype = pstrdup(PQgetvalue(res, 0, 3));
	maxprepared = atoi(PQgetvalue(res, 0, 4));
	PQclear(res);

	if (version < 110000)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("worker \"%s\" runs an unsupported PostgreSQL version", servername),
				 errdetail("Its server_version_num is %d; at least 110000 is required.", version),
				 errhint("Use PostgreSQL 15 or later on workers.")));
	if (version < 150000)
		ereport(WARNING,
				(errmsg("worker \"%s\" runs PostgreSQL older than 15", servername),
				 errdetail("Its server_version_num is %d.", version),
				 errhint("PostgreSQL 15 or later is recommended on workers.")));
	if (strcmp(encoding, GetDatabaseEncodingName()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("worker \"%s\" uses a different server encoding", servername),
				 errdetail("The worker uses \"%s\", the coordinator \"%s\".",
						   encoding, GetDatabaseEncodingName()),
				 errhint("Create the worker's database with the coordinator's encoding.")));
	local_collate = GetConfigOptionByName("lc_collate", NULL, false);
	local_ctype = GetConfigOptionByName("lc_ctype", NULL, false);
	if (strcmp(collate, local_collate) != 0 || strcmp(ctype, local_ctype) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("worker \"%s\" uses a different locale", servername),
				 errdetail("The worker has lc_collate \"%s\" and lc_ctype \"%s\", the coordinator \"%s\" and \"%s\".",
						   collate, ctype, local_collate, local_ctype),
				 errhint("Create the worker's database with the coordinator's LC_COLLATE and LC_CTYPE, so that text compares and sorts the same everywhere.")));
	if (maxprepared == 0)
		ereport(WARNING,
				(errmsg("worker \"%s\" has max_prepared_transactions = 0", servername),
				 errdetail("Transactions that write to several workers will need two-phase commit."),
				 errhint("Set max_prepared_transactions on the worker (for example to max_connections) and restart it.")));

	SPI_connect();
	args[0] = CStringGetDatum(servername);
	args[0] = DirectFunctionCall1(namein, args[0]);
	if (SPI_execute_with_args("INSERT INTO shardfdw.node (server_name) VALUES ($1) RETURNING nodeid",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into shardfdw.node");
	nodeid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										 1, &isnull));

	/* replicas of the reference tables, and their placements */
	sf_spi_exec_count("SELECT relid::pg_catalog.oid FROM shardfdw.distributed_table"
					  " WHERE kind = 'n' ORDER BY relid", -1);
	for (i = 0; i < SPI_processed; i++)
		refs = lappend_oid(refs,
						   DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull)));
	sf_invalidate_nodes();
	CommandCounterIncrement();
	{
		ListCell   *lc;

		foreach(lc, refs)
		{
			Oid			relid = lfirst_oid(lc);

			/*
			 * Writers of the table replicate to the placements they know:
			 * wait for those in progress and keep new ones out until this
			 * placement commits, so the copy (which reads the latest
			 * snapshot) misses no write.
			 */
			LockRelationOid(relid, ShareLock);
			sf_create_reference_replica(relid, server->serverid);
			sf_copy_table_to_server(relid, server->serverid);
			sf_spi_exec(psprintf("INSERT INTO shardfdw.placement (shardid, nodeid)"
								 " SELECT shardid, %d FROM shardfdw.shard WHERE relid = %u",
								 nodeid, relid));
			sf_invalidate_table(relid);
		}
		/* foreign keys between reference tables, once every replica is full */
		foreach(lc, refs)
		{
			List	   *commands = sf_reference_fkey_commands(lfirst_oid(lc), true);
			ListCell   *lc2;

			foreach(lc2, commands)
				sf_exec_on_server(server->serverid, lfirst(lc2));
		}
	}
	SPI_finish();

	PG_RETURN_INT32(nodeid);
}

/*
 * shardfdw_remove_node(server name)
 *
 * Unregisters a node that holds no shard of a distributed table; the
 * replicas of reference tables on it are dropped.
 */
Datum
shardfdw_remove_node(PG_FUNCTION_ARGS)
{
	char	   *servername = NameStr(*PG_GETARG_NAME(0));
	SfNode	   *node = sf_worker_node_by_name(servername);
	ListCell   *lc;
	int			nshards;
	bool		isnull;
	List	   *refs = NIL;
	uint64		i;

	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT pg_catalog.count(*)::integer FROM shardfdw.placement p"
							   " JOIN shardfdw.shard s USING (shardid)"
							   " JOIN shardfdw.distributed_table t USING (relid)"
							   " WHERE t.kind = 'h' AND p.nodeid = %d", node->nodeid), 1);
	nshards = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  1, &isnull));
	if (nshards > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot remove worker node \"%s\": it holds shards", servername),
				 errdetail("The node holds %d shard placements of distributed tables.", nshards),
				 errhint("Move its shards to other nodes first (drain the node), or undistribute the tables.")));

	sf_spi_exec_count(psprintf("SELECT DISTINCT s.relid::pg_catalog.oid FROM shardfdw.placement p"
							   " JOIN shardfdw.shard s USING (shardid)"
							   " WHERE p.nodeid = %d", node->nodeid), -1);
	for (i = 0; i < SPI_processed; i++)
		refs = lappend_oid(refs,
						   DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull)));
	foreach(lc, refs)
	{
		Oid			relid = lfirst_oid(lc);

		/*
		 * Writers replicate to the placements they know: wait for those in
		 * progress (which still write this replica) and keep new ones out
		 * until the placement is gone.
		 */
		LockRelationOid(relid, ShareLock);
		if (OidIsValid(node->serverid))
			sf_drop_reference_replica(relid, node->serverid);
		sf_invalidate_table(relid);
	}
	sf_spi_exec(psprintf("DELETE FROM shardfdw.placement WHERE nodeid = %d", node->nodeid));
	sf_spi_exec(psprintf("DELETE FROM shardfdw.node WHERE nodeid = %d", node->nodeid));
	sf_invalidate_nodes();
	SPI_finish();

	PG_RETURN_VOID();
}

/*
 * run_command_on_workers(command text)
 *	RETURNS TABLE(server_name name, success boolean, result text)
 *
 * One row per registered node, in node id order.
 */
Datum
shardfdw_run_command_on_workers(PG_FUNCTION_ARGS)
{
	char	   *command = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *nodes;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	nodes = sf_node_list(false);
	foreach(lc, nodes)
	{
		SfNode	   *node = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		char	   *result = NULL;
		bool		ok;

		if (OidIsValid(node->serverid))
			ok = sf_run_command_on_server(node->serverid, command, &result);
		else
		{
			ok = false;
			result = psprintf("server \"%s\" does not exist", node->servername);
		}
		values[0] = DirectFunctionCall1(namein, CStringGetDatum(node->servername));
		values[1] = BoolGetDatum(ok);
		if (result)
			values[2] = CStringGetTextDatum(result);
		else
			nulls[2] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
