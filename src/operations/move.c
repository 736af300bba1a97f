/*-------------------------------------------------------------------------
 *
 * move.c
 *	  Moving a shard group to another worker node:
 *	  shardfdw_move_shard(shard_id, target_server, shard_transfer_mode),
 *	  citus_move_shard_placement(...), the "move" job and the progress
 *	  functions behind the view shardfdw.shard_moves.
 *
 * Shard index i of every table of a co-location group moves together, so
 * co-located joins stay on one worker.  The move runs as a job (jobs.h),
 * in these phases, each recorded in shardfdw.shard_move_state:
 *
 *	1. setting up: clean up after earlier operations, validate again, take
 *	   the group's advisory lock, choose the method, and commit one cleanup
 *	   record per object about to be created (cleanup.c);
 *	2. creating: the shard tables on the target, with the same qualified
 *	   names, columns, constraints and indexes (shard_ddl.c), committed;
 *	3. copying:
 *	   - logical (modes auto and force_logical): a publication of the
 *	     group's shard tables and a pgoutput slot on the source, a
 *	     subscription on the target (copy_data, synchronous_commit on);
 *	     wait until every table is ready, add the foreign keys, catch up;
 *	   - block_writes: inside the cutover transaction, with the parents
 *	     locked IN EXCLUSIVE MODE (writes wait, reads do not), each shard is
 *	     streamed with COPY TO STDOUT / COPY FROM STDIN through the
 *	     coordinator (binary when the types allow it);
 *	4. cutover, one short coordinator transaction: the parents are locked
 *	   IN ACCESS EXCLUSIVE MODE with lock_timeout
 *	   (shardfdw.move_lock_timeout; on timeout the transaction is rolled
 *	   back and retried, shardfdw.move_cutover_retries times, so a long
 *	   reader never queues everybody for long), the target is given time to
 *	   replay the source's WAL up to the position read after the lock, row
 *	   counts are compared, and each foreign partition is switched to the
 *	   target SERVER in place (pg_foreign_table.ftserver and its dependency:
 *	   the partition keeps its OID, bounds, options, owner and grants), the
 *	   placements are updated, the on_failure cleanup records deleted and
 *	   the source tables recorded for dropping;
 *	5. cleaning up: subscription, slots, publication and source tables are
 *	   dropped; what fails stays recorded for the cleanup pass.
 *
 * Every query of the group's tables takes a lock on the parent (the
 * planner's pushdown paths do not lock the partitions for writes), so the
 * locks are taken on the parents.
 *
 * Fault points (shardfdw.test_fault_point, see sf_transaction.h):
 * move-after-cleanup-records, move-after-create, move-after-copy,
 * move-before-cutover, move-after-cutover.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "connection.h"
#include "executor/spi.h"
#include "fdw_option.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "jobs.h"
#include "metadata.h"
#include "miscadmin.h"
#include "operations.h"
#include "pgstat.h"
#include "sf_transaction.h"
#include "shard_transfer.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(shardfdw_move_shard);
PG_FUNCTION_INFO_V1(shardfdw_citus_move_shard_placement);
PG_FUNCTION_INFO_V1(shardfdw_move_remote_size);
PG_FUNCTION_INFO_V1(shardfdw_move_replication_lag);

int			shardfdw_move_lock_timeout = 500;
int			shardfdw_move_cutover_retries = 30;
int			shardfdw_move_catchup_timeout = 600;
int			shardfdw_move_slot_timeout = 600;

typedef enum SfMoveMethod
{
	SF_MOVE_LOGICAL,
	SF_MOVE_BLOCK_WRITES
} SfMoveMethod;

/* One shard of the group */
typedef struct SfMoveShard
{
	Oid			relid;			/* the distributed table */
	int64		shardid;
	Oid			shardrelid;		/* its foreign partition */
	char	   *qualname;		/* the worker table, quoted and qualified */
	char	   *nspname;		/* its schema (unquoted) */
	char	   *relname;		/* its name (unquoted) */
	bool		needs_identity; /* no primary key / replica identity on the
								 * source: REPLICA IDENTITY FULL needed */
} SfMoveShard;

/* A move, as the job sees it (allocated in cxt) */
typedef struct SfMove
{
	MemoryContext cxt;
	int64		jobid;
	int64		shardid;		/* as given */
	char	   *mode;			/* auto, force_logical, block_writes */
	SfMoveMethod method;
	int32		colocationid;
	int			shardindex;
	int			shardcount;
	char	   *source_server;
	char	   *target_server;
	Oid			source_serverid;
	Oid			target_serverid;
	int32		source_nodeid;
	int32		target_nodeid;
	List	   *shards;			/* of SfMoveShard, by relid */
	char	   *objname;		/* publication, slot and subscription name */
	PGconn	   *src;			/* raw autocommit connections */
	PGconn	   *tgt;
	bool		cutover_done;	/* the shards are on the target now */
} SfMove;

static void sf_move_job(int64 jobid, const char *args);

/* ---------------------------------------------------------------- helpers */

void
sf_transfer_xact_begin(void)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
}

void
sf_transfer_xact_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Workers' notices (NOTICE: schema exists, ...) are of no interest */
void
sf_transfer_ignore_notice(void *arg, const char *message)
{
}

void
sf_transfer_cleanup_after_failure(int64 jobid, const char *kind,
								  const char *extra_sql)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		sf_transfer_xact_begin();
		SPI_finish();
		(void) sf_cleanup_pass(jobid);
		SPI_connect();
		if (extra_sql)
			sf_spi_exec(extra_sql);
		sf_transfer_xact_commit();
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		ereport(LOG,
				(errmsg("shardfdw %s job " INT64_FORMAT ": cleanup after failure failed: %s",
						kind, jobid, e->message)));
	}
	PG_END_TRY();
}

/* A raw connection to a server or an ERROR naming it */
static PGconn *
move_connect(Oid serverid)
{
	char	   *why = NULL;
	PGconn	   *conn = sf_connect_raw(serverid, &why);

	if (conn != NULL)
		PQsetNoticeProcessor(conn, sf_transfer_ignore_notice, NULL);

	if (conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"",
						GetForeignServer(serverid)->servername),
				 errdetail("%s", why ? why : "unknown reason")));
	return conn;
}

/*
 * The result of sql on a raw connection (NULL: the connection broke); ERROR
 * (with the worker's message) unless it succeeded.  Returns it (caller
 * clears) for queries, NULL else.  move_exec runs sql and checks it.
 */
static PGresult *
move_result(PGresult *res, const char *server, const char *sql)
{
	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("lost connection to server \"%s\"", server),
				 errdetail("Command: %s", sql)));
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		char	   *msg = pchomp(PQresultErrorMessage(res));
		char	   *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		int			code = state ? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
			: ERRCODE_INTERNAL_ERROR;

		PQclear(res);
		ereport(ERROR,
				(errcode(code),
				 errmsg("command failed on server \"%s\": %s", server, msg),
				 errdetail("Command: %s", sql)));
	}
	PQclear(res);
	return NULL;
}

/* Run sql on a raw connection: move_result */
static PGresult *
move_exec(PGconn *conn, const char *server, const char *sql)
{
	return move_result(sf_raw_exec(conn, sql), server, sql);
}

/* The first value of a one-row query, palloc'd (NULL if NULL or no row) */
static char *
move_query_value(PGconn *conn, const char *server, const char *sql)
{
	PGresult   *res = move_exec(conn, server, sql);
	char	   *v = NULL;

	if (res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = pstrdup(PQgetvalue(res, 0, 0));
	if (res)
		PQclear(res);
	return v;
}

/* Sleep ms milliseconds, interruptibly */
static void
move_sleep(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/* quote a conninfo value */
static void
append_conninfo(StringInfo buf, const char *key, const char *value)
{
	const char *p;

	appendStringInfo(buf, "%s%s='", buf->len > 0 ? " " : "", key);
	for (p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/*
 * The conninfo with which the target's subscription reaches the source:
 * the source SERVER's libpq options and the job user's user mapping.  No
 * application_name: the subscription's workers then connect under their
 * slot's name (the subscription's for the apply worker, the table
 * synchronization slot's for the others), by which the cleanup pass finds
 * a walsender caught creating a slot.
 */
static char *
move_source_conninfo(SfMove *m)
{
	ForeignServer *server = GetForeignServer(m->source_serverid);
	UserMapping *user = GetUserMapping(GetUserId(), m->source_serverid);
	const char *keywords[64];
	const char *values[64];
	int			n = sf_libpq_params(server->options, user->options, keywords, values, 64);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		append_conninfo(&buf, keywords[i], values[i]);
	return buf.data;
}

/* ---------------------------------------------------------------- validation */

/*
 * Load and check the move of shardid's group to target_server (see
 * sf_move_launch for the errors).  SPI is connected; strings are allocated
 * in m->cxt.
 */
/*
 * The worker-side names of a shard table (its foreign table's schema_name
 * and table_name options, or its own names), in the current memory context.
 */
static void
move_shard_names(SfMoveShard *s)
{
	ForeignTable *ft = GetForeignTable(s->shardrelid);
	const char *nsp = sf_option_string(ft->options, "schema_name",
									   get_namespace_name(get_rel_namespace(s->shardrelid)));
	const char *rel = sf_option_string(ft->options, "table_name",
									   get_rel_name(s->shardrelid));

	s->nspname = pstrdup(nsp);
	s->relname = pstrdup(rel);
	s->qualname = pstrdup(quote_qualified_identifier(nsp, rel));
}

static void
move_load(SfMove *m, int64 shardid, const char *target, const char *mode)
{
	ForeignServer *fs;
	SfNode	   *node;
	MemoryContext old;
	uint64		i;
	char		kind;

	if (strcmp(mode, "auto") != 0 && strcmp(mode, "force_logical") != 0 &&
		strcmp(mode, "block_writes") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid shard_transfer_mode \"%s\"", mode),
				 errhint("Valid modes are auto, force_logical and block_writes.")));

	sf_spi_exec_count(psprintf("SELECT s.relid::pg_catalog.oid, s.shard_index, t.kind, t.colocationid,"
							   "  p.nodeid, n.server_name, c.shard_count"
							   " FROM shardfdw.shard s JOIN shardfdw.distributed_table t USING (relid)"
							   " JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)"
							   " LEFT JOIN shardfdw.colocation c USING (colocationid)"
							   " WHERE s.shardid = " INT64_FORMAT, shardid), -1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("shard " INT64_FORMAT " does not exist", shardid),
				 errhint("See shardfdw.shards for the shards and their servers.")));
	kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3)[0];
	if (kind != SF_KIND_HASH)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot move shard " INT64_FORMAT " of reference table \"%s\"", shardid,
						get_rel_name(atooid(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)))),
				 errdetail("Reference tables have a replica on every node.")));

	old = MemoryContextSwitchTo(m->cxt);
	m->shardid = shardid;
	m->mode = pstrdup(mode);
	m->shardindex = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	m->colocationid = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4));
	m->source_nodeid = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5));
	m->source_server = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	m->shardcount = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7));
	MemoryContextSwitchTo(old);

	fs = GetForeignServerByName(target, true);
	if (fs == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("server \"%s\" does not exist", target),
				 errhint("Target servers are SERVERs of the shardfdw wrapper registered with shardfdw_add_node.")));
	node = sf_node_by_server(fs->serverid);
	if (node == NULL || !node->active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("server \"%s\" is not an active shardfdw node", target),
				 errhint("Register it with shardfdw_add_node('%s') first.", target)));
	if (node->nodeid == m->source_nodeid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard " INT64_FORMAT " is already on server \"%s\"", shardid, target),
				 errhint("Choose another target server.")));
	m->target_serverid = fs->serverid;
	m->target_nodeid = node->nodeid;
	m->target_server = MemoryContextStrdup(m->cxt, fs->servername);
	fs = GetForeignServerByName(m->source_server, true);
	if (fs == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("server \"%s\" of shard " INT64_FORMAT " does not exist",
						m->source_server, shardid)));
	m->source_serverid = fs->serverid;

	/* the group */
	sf_spi_exec_count(psprintf("SELECT s.relid::pg_catalog.oid, s.shardid, s.shard_relid::pg_catalog.oid, p.nodeid"
							   " FROM shardfdw.shard s JOIN shardfdw.distributed_table t USING (relid)"
							   " JOIN shardfdw.placement p USING (shardid)"
							   " WHERE t.colocationid = %d AND s.shard_index = %d AND t.kind = 'h'"
							   " ORDER BY s.relid::pg_catalog.oid",
							   m->colocationid, m->shardindex), -1);
	m->shards = NIL;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		SfMoveShard *s;

		old = MemoryContextSwitchTo(m->cxt);
		s = palloc0(sizeof(SfMoveShard));
		s->relid = atooid(SPI_getvalue(t, d, 1));
		s->shardid = pg_strtoint64(SPI_getvalue(t, d, 2));
		s->shardrelid = atooid(SPI_getvalue(t, d, 3));
		if (atoi(SPI_getvalue(t, d, 4)) != m->source_nodeid)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("shard " INT64_FORMAT " of table \"%s\" is not on the same node as shard " INT64_FORMAT,
							s->shardid, get_rel_name(s->relid), shardid),
					 errdetail("The shards of a co-location group must be on the same node.")));
		if (!pg_class_ownercheck(s->relid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(s->relid));
		move_shard_names(s);
		m->shards = lappend(m->shards, s);
		MemoryContextSwitchTo(old);
	}
	/* unique on the worker servers, whatever other coordinators use them */
	m->objname = psprintf("shardfdw_move_" INT64_FORMAT "_%s", m->jobid, sf_coordinator_tag());
	m->objname = MemoryContextStrdup(m->cxt, m->objname);
}

/*
 * Validate a move (errors as listed for sf_move_launch) and return the
 * arguments of its job.
 */
static char *
move_validate(int64 shardid, const char *target_server, const char *mode)
{
	SfMove		m;

	if (!sf_extension_present())
		elog(ERROR, "shardfdw catalog not found");
	memset(&m, 0, sizeof(m));
	m.cxt = CurrentMemoryContext;
	SPI_connect();
	move_load(&m, shardid, target_server, mode);
	SPI_finish();

	/*
	 * The move GUCs (shardfdw.move_*) and the fault injection settings
	 * reach the job with the rest of the caller's settings (job.c).
	 */
	return psprintf(INT64_FORMAT "\n%s\n%s", shardid, mode, target_server);
}

/*
 * Validate a move and start its job (see shard_transfer.h).
 */
SfJob *
sf_move_launch(int64 shardid, const char *target_server, const char *mode,
			   int64 parent_jobid)
{
	return sf_job_launch("move", move_validate(shardid, target_server, mode),
						 parent_jobid);
}

/* ---------------------------------------------------------------- progress */

static void
move_set_phase(SfMove *m, const char *phase, const char *detail)
{
	sf_transfer_xact_begin();
	sf_spi_exec(psprintf("UPDATE shardfdw.shard_move_state SET phase = %s, detail = %s,"
						 " method = %s, phase_changed_at = pg_catalog.clock_timestamp() WHERE job_id = " INT64_FORMAT,
						 quote_literal_cstr(phase),
						 detail ? quote_literal_cstr(detail) : "NULL",
						 m->method == SF_MOVE_LOGICAL ? "'logical'" : "'block_writes'",
						 m->jobid));
	sf_transfer_xact_commit();
	sf_job_report(phase, detail);
	ereport(DEBUG1,
			(errmsg("shardfdw move job " INT64_FORMAT ": %s", m->jobid, phase)));
}

/* ---------------------------------------------------------------- steps */

/*
 * Phase 1, in a transaction: choose the method, record the cleanup
 * records and the progress rows.
 */
static void
move_setup(SfMove *m)
{
	ListCell   *lc;
	bool		need_identity = false;
	char	   *fallback = NULL;
	char	   *wal_level;
	bool		got;

	/* the group must not be moved twice at the same time */
	sf_spi_exec_count(psprintf("SELECT pg_catalog.pg_try_advisory_lock(" INT64_FORMAT ")",
							   SF_GROUP_LOCK_KEY(m->colocationid, m->shardindex)), 1);
	got = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0;
	if (!got)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("shard " INT64_FORMAT " is already being moved or split", m->shardid),
				 errdetail("Another move or split of shard index %d of co-location group %d is running.",
						   m->shardindex, m->colocationid),
				 errhint("Wait for the other operation to finish (see shardfdw.jobs), then retry.")));

	/*
	 * The group was read before the lock: a split or move of it may have
	 * committed in between.  With the lock held, nothing changes it any
	 * more; check that its shards are still where they were read.
	 */
	{
		StringInfoData ids;

		initStringInfo(&ids);
		foreach(lc, m->shards)
			appendStringInfo(&ids, "%s" INT64_FORMAT, ids.len > 0 ? "," : "",
							 ((SfMoveShard *) lfirst(lc))->shardid);
		sf_spi_exec_count(psprintf("SELECT pg_catalog.count(*) FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)"
								   " JOIN shardfdw.distributed_table t USING (relid)"
								   " WHERE t.colocationid = %d AND s.shard_index = %d AND t.kind = 'h'",
								   m->colocationid, m->shardindex), 1);
		got = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
					 psprintf("%d", list_length(m->shards))) == 0;
		if (got)
		{
			sf_spi_exec_count(psprintf("SELECT pg_catalog.count(*) FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)"
									   " WHERE s.shardid IN (%s) AND s.shard_index = %d AND p.nodeid = %d",
									   ids.data, m->shardindex, m->source_nodeid), 1);
			got = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						 psprintf("%d", list_length(m->shards))) == 0;
		}
		if (!got)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the shards of the group of shard " INT64_FORMAT " changed while the move started",
							m->shardid),
					 errdetail("A split or move of the group committed meanwhile."),
					 errhint("Look the shard up again and retry.")));

		/*
		 * ALTER TABLE ... SET SCHEMA of a table of the group may have
		 * committed meanwhile as well (it takes the group's lock too): read
		 * the shard tables' names again
		 */
		AcceptInvalidationMessages();
		foreach(lc, m->shards)
		{
			MemoryContext old = MemoryContextSwitchTo(m->cxt);

			move_shard_names(lfirst(lc));
			MemoryContextSwitchTo(old);
		}
	}

	m->src = move_connect(m->source_serverid);
	m->tgt = move_connect(m->target_serverid);

	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);
		char	   *lit = quote_literal_cstr(s->qualname);
		char	   *v;

		v = move_query_value(m->tgt, m->target_server,
							 psprintf("SELECT pg_catalog.to_regclass(%s) IS NOT NULL", lit));
		if (v && strcmp(v, "t") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("table %s already exists on server \"%s\"", s->qualname, m->target_server),
					 errdetail("It is not a shard placed there by shardfdw."),
					 errhint("Run shardfdw_cleanup_orphaned_resources() or drop it on the worker, then retry.")));
		v = move_query_value(m->src, m->source_server,
							 psprintf("SELECT c.relreplident = 'f' OR EXISTS (SELECT 1 FROM pg_catalog.pg_index i"
									  " WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary)"
									  "  OR (c.relreplident = 'i' AND i.indisreplident)))"
									  " FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)", lit));
		if (v == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("shard table %s does not exist on server \"%s\"", s->qualname, m->source_server)));
		s->needs_identity = strcmp(v, "t") != 0;
		if (s->needs_identity && fallback == NULL)
			fallback = psprintf("table \"%s\" has no primary key or replica identity", get_rel_name(s->relid));
		need_identity |= s->needs_identity;
	}

	m->method = strcmp(m->mode, "block_writes") == 0 ? SF_MOVE_BLOCK_WRITES : SF_MOVE_LOGICAL;
	if (m->method == SF_MOVE_LOGICAL)
	{
		wal_level = move_query_value(m->src, m->source_server, "SHOW wal_level");
		if (wal_level == NULL || strcmp(wal_level, "logical") != 0)
		{
			if (strcmp(m->mode, "force_logical") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot move shard " INT64_FORMAT " with logical replication", m->shardid),
						 errdetail("Server \"%s\" has wal_level = %s.", m->source_server,
								   wal_level ? wal_level : "unknown"),
						 errhint("Set wal_level = logical on the worker and restart it, or use shard_transfer_mode => 'block_writes'.")));
			fallback = psprintf("server \"%s\" has wal_level = %s", m->source_server,
								wal_level ? wal_level : "unknown");
			m->method = SF_MOVE_BLOCK_WRITES;
		}
		else if (need_identity && strcmp(m->mode, "auto") == 0)
			m->method = SF_MOVE_BLOCK_WRITES;
		else
			fallback = NULL;
	}
	else
		fallback = NULL;

	/* progress rows */
	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);

		sf_spi_exec(psprintf("INSERT INTO shardfdw.shard_move_state (job_id, shardid, relid, shard_name,"
							 " source_server, target_server, mode, method, slot_name, phase, detail)"
							 " VALUES (" INT64_FORMAT ", " INT64_FORMAT ", %u, %s, %s, %s, %s, %s, %s, 'setting up', NULL)",
							 m->jobid, s->shardid, s->relid, quote_literal_cstr(s->qualname),
							 quote_literal_cstr(m->source_server), quote_literal_cstr(m->target_server),
							 quote_literal_cstr(m->mode),
							 m->method == SF_MOVE_LOGICAL ? "'logical'" : "'block_writes'",
							 m->method == SF_MOVE_LOGICAL ? quote_literal_cstr(m->objname) : "NULL"));
	}
	if (fallback)
		ereport(NOTICE,
				(errmsg("shard " INT64_FORMAT " moves with shard_transfer_mode block_writes: %s",
						m->shardid, fallback),
				 errdetail("Writes to the tables of the group wait while the shards are copied."),
				 errhint("Give every table a primary key (or a replica identity) and set wal_level = logical on the workers for online moves.")));

	/* cleanup records, committed before anything exists */
	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);

		sf_cleanup_record(m->jobid, "shard", m->target_server, s->qualname, s->shardid, "on_failure");
		if (m->method == SF_MOVE_LOGICAL && s->needs_identity)
			sf_cleanup_record(m->jobid, "replica_identity", m->source_server, s->qualname, s->shardid, "always");
	}
	if (m->method == SF_MOVE_LOGICAL)
	{
		sf_cleanup_record(m->jobid, "subscription", m->target_server, m->objname, 0, "always");
		sf_cleanup_record(m->jobid, "slot", m->source_server, m->objname, 0, "always");
		sf_cleanup_record(m->jobid, "publication", m->source_server, m->objname, 0, "always");
	}
}

/* Phase 2, in a transaction: the shard tables on the target */
static void
move_create_tables(SfMove *m)
{
	ListCell   *lc;

	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);
		List	   *ddl = sf_stored_shard_ddl(s->relid);
		List	   *commands;
		ListCell   *lc2;

		sf_exec_on_server(m->target_serverid,
						  psprintf("CREATE SCHEMA IF NOT EXISTS %s", quote_identifier(s->nspname)));
		sf_ensure_column_types(s->relid, m->target_serverid);
		commands = sf_shard_create_commands(s->relid, ddl, s->nspname, s->relname, s->shardid);
		foreach(lc2, commands)
			sf_exec_on_server(m->target_serverid, lfirst(lc2));
	}
}

/*
 * The commands creating on the target the foreign keys of the group's
 * shards (towards co-located shards or reference table replicas).  In a
 * transaction with SPI connected.
 */
static List *
move_fkey_commands(SfMove *m)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);
		List	   *fkeys = sf_load_foreign_keys(s->relid);
		ListCell   *lc2;

		foreach(lc2, fkeys)
		{
			SfForeignKey *fk = lfirst(lc2);
			const SfTable *to;
			char	   *refname = NULL;
			ListCell   *lc3;

			if (fk->relid != s->relid || !fk->created)
				continue;
			to = sf_lookup_table(fk->refrelid);
			if (to == NULL)
				continue;
			if (to->kind == SF_KIND_REFERENCE)
				refname = sf_qualified_relname(fk->refrelid);
			else
				foreach(lc3, m->shards)
				{
					SfMoveShard *r = lfirst(lc3);

					if (r->relid == fk->refrelid)
						refname = r->qualname;
				}
			if (refname == NULL)
				elog(ERROR, "no shard of table %u in the moved group", fk->refrelid);
			result = lappend(result, sf_foreign_key_shard_command(fk, s->qualname, refname, s->shardid));
		}
	}
	return result;
}

static void
move_create_fkeys(SfMove *m, List *commands)
{
	ListCell   *lc;

	foreach(lc, commands)
		(void) move_exec(m->tgt, m->target_server, lfirst(lc));
}

/* Wait until a raw connection's socket is readable, interruptibly */
static void
move_wait_readable(PGconn *conn)
{
	int			rc = WaitLatchOrSocket(MyLatch,
									   WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
									   PQsocket(conn), -1L, PG_WAIT_EXTENSION);

	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Stream one shard from the source to the target with COPY, binary when
 * the source can send it.  Returns the bytes streamed.
 */
static int64
move_copy_shard(SfMove *m, SfMoveShard *s)
{
	char	   *cols = sf_insertable_columns(s->relid);
	const char *formats[2] = {" (FORMAT binary)", ""};
	int			f;
	int64		bytes = 0;
	PGresult   *res = NULL;

	for (f = 0; f < 2; f++)
	{
		char	   *sql = psprintf("COPY %s (%s) TO STDOUT%s", s->qualname, cols, formats[f]);

		if (!PQsendQuery(m->src, sql))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost connection to server \"%s\"", m->source_server)));
		for (;;)
		{
			while (PQisBusy(m->src))
			{
				move_wait_readable(m->src);
				if (!PQconsumeInput(m->src))
					break;
			}
			res = PQgetResult(m->src);
			if (res == NULL || PQresultStatus(res) == PGRES_COPY_OUT)
				break;
			if (PQresultStatus(res) == PGRES_FATAL_ERROR && f == 0)
			{
				/* no binary format for some type: drain and try text */
				PQclear(res);
				while ((res = PQgetResult(m->src)) != NULL)
					PQclear(res);
				break;
			}
			if (PQresultStatus(res) == PGRES_FATAL_ERROR)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not copy shard %s from server \"%s\": %s", s->qualname,
								m->source_server, pchomp(PQresultErrorMessage(res)))));
			PQclear(res);
		}
		if (res != NULL && PQresultStatus(res) == PGRES_COPY_OUT)
			break;
		if (res == NULL && f == 1)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not copy shard %s from server \"%s\"", s->qualname, m->source_server)));
	}
	PQclear(res);

	res = sf_raw_exec(m->tgt, psprintf("COPY %s (%s) FROM STDIN%s", s->qualname, cols, formats[f]));
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not copy shard %s to server \"%s\": %s", s->qualname,
						m->target_server, res ? pchomp(PQresultErrorMessage(res)) : "connection lost")));
	PQclear(res);

	for (;;)
	{
		char	   *buf = NULL;
		int			n = PQgetCopyData(m->src, &buf, 1);

		if (n > 0)
		{
			if (PQputCopyData(m->tgt, buf, n) != 1)
			{
				PQfreemem(buf);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not send data to server \"%s\": %s", m->target_server,
								pchomp(PQerrorMessage(m->tgt)))));
			}
			PQfreemem(buf);
			bytes += n;
			continue;
		}
		if (n == 0)
		{
			move_wait_readable(m->src);
			if (!PQconsumeInput(m->src))
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("lost connection to server \"%s\"", m->source_server)));
			continue;
		}
		break;					/* -1: done, -2: error (result says) */
	}
	res = PQgetResult(m->src);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not copy shard %s from server \"%s\": %s", s->qualname,
						m->source_server, res ? pchomp(PQresultErrorMessage(res)) : "connection lost")));
	PQclear(res);
	while ((res = PQgetResult(m->src)) != NULL)
		PQclear(res);

	if (PQputCopyEnd(m->tgt, NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not finish copy to server \"%s\"", m->target_server)));
	/* the COPY's result */
	for (;;)
	{
		while (PQisBusy(m->tgt))
		{
			move_wait_readable(m->tgt);
			if (!PQconsumeInput(m->tgt))
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("lost connection to server \"%s\"", m->target_server)));
		}
		res = PQgetResult(m->tgt);
		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			char	   *msg = pchomp(PQresultErrorMessage(res));

			PQclear(res);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not copy shard %s to server \"%s\": %s", s->qualname,
							m->target_server, msg)));
		}
		PQclear(res);
	}
	return bytes;
}

/*
 * The transactions on the source that creating the move's replication slot
 * may wait for: those with a transaction ID, other than the slot's own
 * session, and the prepared ones; one line each, or NULL if none is left.
 * Asked on a connection of its own (the move's is busy creating the slot).
 */
static char *
move_slot_blockers(SfMove *m)
{
	PGconn	   *side;
	char	   *list = NULL;

	/* the job runs the move between transactions; the lookups need one */
	sf_transfer_xact_begin();
	side = move_connect(m->source_serverid);
	sf_transfer_xact_commit();

	PG_TRY();
	{
		list = move_query_value(side, m->source_server,
								psprintf("SELECT pg_catalog.string_agg(d, '; ' ORDER BY d) FROM ("
										 " SELECT pg_catalog.format('process %%s (database %%s, application %%L, %%s, transaction started %%s ago)',"
										 "   a.pid, a.datname, a.application_name, a.state,"
										 "   pg_catalog.date_trunc('second', pg_catalog.now() - a.xact_start)) AS d"
										 " FROM pg_catalog.pg_stat_activity a"
										 " WHERE a.backend_xid IS NOT NULL AND a.pid <> %d"
										 " UNION ALL"
										 " SELECT pg_catalog.format('prepared transaction %%L (database %%s, prepared %%s ago)',"
										 "   p.gid, p.database, pg_catalog.date_trunc('second', pg_catalog.now() - p.prepared))"
										 " FROM pg_catalog.pg_prepared_xacts p) s",
										 PQbackendPID(m->src)));
	}
	PG_FINALLY();
	{
		PQfinish(side);
	}
	PG_END_TRY();
	return list;
}

/*
 * Create the move's logical replication slot on the source.  PostgreSQL
 * makes it only once every transaction running there (with a transaction
 * ID, in any database, prepared ones included) has ended, so a long
 * transaction or a forgotten prepared one holds the move here: after a few
 * seconds the job's progress detail (shardfdw.shard_moves, and the NOTICE
 * the caller of a move gets for each phase) says which transactions it
 * waits for, and after shardfdw.move_slot_timeout the move fails, naming
 * them.
 */
static void
move_create_slot(SfMove *m)
{
	char	   *sql = psprintf("SELECT pg_catalog.pg_create_logical_replication_slot(%s, 'pgoutput')",
							   quote_literal_cstr(m->objname));
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz deadline = shardfdw_move_slot_timeout > 0 ?
		TimestampTzPlusMilliseconds(start, shardfdw_move_slot_timeout * 1000L) : 0;
	TimestampTz next_report = TimestampTzPlusMilliseconds(start, 5000);
	bool		told = false;
	PGresult   *res;

	if (!PQsendQuery(m->src, sql))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("lost connection to server \"%s\"", m->source_server),
				 errdetail("Command: %s", sql)));
	while (PQisBusy(m->src))
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz until = next_report;
		int			rc;

		if (deadline != 0 && deadline < until)
			until = deadline;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT |
							   WL_EXIT_ON_PM_DEATH,
							   PQsocket(m->src),
							   Max(TimestampDifferenceMilliseconds(now, until), 1),
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(m->src))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost connection to server \"%s\"", m->source_server),
					 errdetail("Command: %s", sql)));
		if (!PQisBusy(m->src))
			break;
		now = GetCurrentTimestamp();
		if (deadline != 0 && now >= deadline)
		{
			char	   *blockers = move_slot_blockers(m);
			char		errbuf[256];
			PGcancel   *cancel = PQgetCancel(m->src);

			/* the move's failure path drops the connection and cleans up */
			if (cancel != NULL)
			{
				(void) PQcancel(cancel, errbuf, sizeof(errbuf));
				PQfreeCancel(cancel);
			}
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("shard move could not start replication from server \"%s\" within shardfdw.move_slot_timeout",
							m->source_server),
					 blockers ?
					 errdetail("Creating its replication slot waits for these transactions to end: %s.",
							   blockers) :
					 errdetail("Creating its replication slot waited for transactions that have ended since."),
					 errhint("End those transactions (COMMIT PREPARED or ROLLBACK PREPARED for prepared ones) or raise shardfdw.move_slot_timeout, and run the move again; shard_transfer_mode 'block_writes' does not wait for them.")));
		}
		if (now >= next_report)
		{
			char	   *blockers = move_slot_blockers(m);

			if (blockers != NULL)
			{
				move_set_phase(m, "copying",
							   psprintf("waiting for transactions on the source to end before replication can start (shardfdw.move_slot_timeout): %s",
										blockers));
				told = true;
			}
			next_report = TimestampTzPlusMilliseconds(now, 30000);
		}
	}
	/* its one result, then the end of the command */
	res = move_result(PQgetResult(m->src), m->source_server, sql);
	if (res != NULL)
		PQclear(res);
	while ((res = PQgetResult(m->src)) != NULL)
		PQclear(res);
	if (told)
		move_set_phase(m, "copying", "initial copy by logical replication");
}

/* Phase 3 (logical): publication, slot, subscription, initial sync */
static void
move_start_replication(SfMove *m)
{
	StringInfoData tables;
	ListCell   *lc;
	PGresult   *res;
	char	   *pattern;
	char	   *conninfo;

	initStringInfo(&tables);
	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);

		if (s->needs_identity)
			(void) move_exec(m->src, m->source_server,
							 psprintf("ALTER TABLE %s REPLICA IDENTITY FULL", s->qualname));
		appendStringInfo(&tables, "%s%s", tables.len > 0 ? ", " : "", s->qualname);
	}
	(void) move_exec(m->src, m->source_server,
					 psprintf("CREATE PUBLICATION %s FOR TABLE %s",
							  quote_identifier(m->objname), tables.data));
	move_create_slot(m);
	sf_transfer_xact_begin();
	conninfo = move_source_conninfo(m);
	sf_transfer_xact_commit();
	(void) move_exec(m->tgt, m->target_server,
					 psprintf("CREATE SUBSCRIPTION %s CONNECTION %s PUBLICATION %s"
							  " WITH (create_slot = false, slot_name = %s, enabled = false,"
							  " copy_data = true, synchronous_commit = 'on')",
							  quote_identifier(m->objname), quote_literal_cstr(conninfo),
							  quote_identifier(m->objname), quote_literal_cstr(m->objname)));
	/*
	 * The table synchronization slots are named pg_<suboid>_sync_<relid>_<the
	 * target's system identifier> (unsigned; pg_control_system() shows it
	 * as a bigint): with both, the pattern cannot match the slots of another
	 * target's subscription of the same OID.
	 */
	res = move_exec(m->tgt, m->target_server,
					psprintf("SELECT s.oid, (SELECT CASE WHEN c.system_identifier < 0"
							 "   THEN c.system_identifier::pg_catalog.numeric + 18446744073709551616"
							 "   ELSE c.system_identifier END FROM pg_catalog.pg_control_system() c)"
							 " FROM pg_catalog.pg_subscription s WHERE s.subname = %s",
							 quote_literal_cstr(m->objname)));
	if (res == NULL || PQntuples(res) != 1)
		elog(ERROR, "subscription %s not found after creation", m->objname);
	pattern = psprintf("pg\\_%s\\_sync\\_%%\\_%s", PQgetvalue(res, 0, 0),
					   PQgetvalue(res, 0, 1));
	PQclear(res);
	sf_transfer_xact_begin();
	sf_cleanup_record(m->jobid, "sync_slots", m->source_server, pattern, 0,
					  "always");
	sf_transfer_xact_commit();
	(void) move_exec(m->tgt, m->target_server,
					 psprintf("ALTER SUBSCRIPTION %s ENABLE", quote_identifier(m->objname)));
}

/* Wait until every table of the subscription is ready */
static void
move_wait_sync(SfMove *m)
{
	int			n = list_length(m->shards);
	char	   *lit = quote_literal_cstr(m->objname);

	for (;;)
	{
		PGresult   *res = move_exec(m->tgt, m->target_server,
									psprintf("SELECT pg_catalog.count(*) FILTER (WHERE r.srsubstate = 'r'),"
											 " (SELECT COALESCE(pg_catalog.max(st.sync_error_count + st.apply_error_count), 0)"
											 "   FROM pg_catalog.pg_stat_subscription_stats st WHERE st.subname = %s)"
											 " FROM pg_catalog.pg_subscription_rel r"
											 " JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid"
											 " WHERE s.subname = %s", lit, lit));
		int			ready = atoi(PQgetvalue(res, 0, 0));
		int64		errors = pg_strtoint64(PQgetvalue(res, 0, 1));

		PQclear(res);
		if (ready >= n)
			return;
		if (errors > 20)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("logical replication of shard " INT64_FORMAT " to server \"%s\" keeps failing",
							m->shardid, m->target_server),
					 errhint("See the log of the target worker.")));
		move_sleep(20);
	}
}

/*
 * A source LSN, as text, that covers every transaction committed on the
 * source so far.  The WAL write position is not enough: a transaction
 * committed with synchronous_commit = off may not be written yet, and the
 * walsender sends only flushed WAL, so waiting for the write position could
 * end before the last commits reached the target (rows missing at the
 * cutover).  A transaction that wrote WAL, committed with synchronous_commit
 * on, flushes the WAL up to its commit record, hence past every earlier
 * commit; the flush position after it is the one to wait for.  It must
 * write a WAL record before its commit record: a transaction that only has
 * an xid commits asynchronously whatever synchronous_commit says (then the
 * flush position read afterwards can be behind commits already visible,
 * which is what made moves under writes fail their row count check).  A
 * transactional logical decoding message is such a record, needs no table
 * and no privilege, and pgoutput does not send it to the subscriber.
 */
static char *
move_source_lsn(SfMove *m)
{
	return move_query_value(m->src, m->source_server,
							"BEGIN; SET LOCAL synchronous_commit = on;"
							" SELECT pg_catalog.pg_logical_emit_message(true, 'shardfdw_move', '');"
							" COMMIT; SELECT pg_catalog.pg_current_wal_flush_lsn()");
}

/*
 * Wait until the subscription has confirmed (applied and flushed) the
 * source's WAL up to lsn; false after timeout_ms.
 */
static bool
move_wait_lsn(SfMove *m, const char *lsn, long timeout_ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	char	   *sql = psprintf("SELECT confirmed_flush_lsn >= %s::pg_catalog.pg_lsn"
							   " FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
							   quote_literal_cstr(lsn), quote_literal_cstr(m->objname));

	for (;;)
	{
		char	   *v = move_query_value(m->src, m->source_server, sql);

		if (v && strcmp(v, "t") == 0)
			return true;
		if (GetCurrentTimestamp() >= end)
			return false;
		move_sleep(5);
	}
}

/*
 * Before the cutover: catch up until one round (source LSN now, wait for
 * the target to confirm it) takes less than half a second.
 */
static void
move_catch_up(SfMove *m)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  shardfdw_move_catchup_timeout * 1000L);

	for (;;)
	{
		TimestampTz start = GetCurrentTimestamp();

		if (!move_wait_lsn(m, move_source_lsn(m), shardfdw_move_catchup_timeout * 1000L))
			break;
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), 500) == false)
			return;
		if (GetCurrentTimestamp() >= end)
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("shard " INT64_FORMAT " did not catch up within shardfdw.move_catchup_timeout", m->shardid),
			 errhint("The source receives writes faster than the target applies them; retry later, or use shard_transfer_mode => 'block_writes'.")));
}

/* Point foreign partition ftrelid at another server, in place */
static void
move_set_foreign_server(Oid ftrelid, Oid oldserver, Oid newserver)
{
	Relation	rel = table_open(ForeignTableRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCacheCopy1(FOREIGNTABLEREL, ObjectIdGetDatum(ftrelid));

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "foreign table %u not found", ftrelid);
	((Form_pg_foreign_table) GETSTRUCT(tup))->ftserver = newserver;
	CatalogTupleUpdate(rel, &tup->t_self, tup);
	heap_freetuple(tup);
	table_close(rel, RowExclusiveLock);
	(void) changeDependencyFor(RelationRelationId, ftrelid, ForeignServerRelationId,
							   oldserver, newserver);
	CacheInvalidateRelcacheByRelid(ftrelid);
}

/* Row count of a shard table on a raw connection */
static int64
move_count(PGconn *conn, const char *server, const char *qualname)
{
	char	   *v = move_query_value(conn, server, psprintf("SELECT pg_catalog.count(*) FROM %s", qualname));

	return v ? pg_strtoint64(v) : -1;
}

/*
 * With the writes locked out: a transaction prepared on the source that
 * touched one of the moved shard tables (its coordinator transaction
 * committed or aborted, COMMIT PREPARED not yet done) would change the
 * source's table later, after the copy.  Retryable error naming it until the
 * recovery resolves it.  Prepared transactions that touch no moved table
 * (another shard group, another table) do not matter: their COMMIT PREPARED
 * changes nothing the move copies.
 *
 * "Touched" is read from the relation locks the prepared transaction holds.
 * Every write (INSERT, UPDATE, DELETE, COPY, TRUNCATE, a trigger's or a
 * foreign key action's) and every row lock takes a lock on the table that
 * lasts until the end of the transaction; PREPARE TRANSACTION hands those
 * locks to the prepared transaction, which keeps them until COMMIT / ROLLBACK
 * PREPARED (a transaction holding session-level locks cannot be prepared,
 * and a rolled back subtransaction releases its locks with its changes).  So
 * a prepared transaction that changed a moved table still holds a lock on
 * it; any mode counts (a row lock, RowShareLock, would be lost too).
 *
 * A prepared transaction's locks show in pg_locks with a NULL pid, under the
 * virtual transaction of its ExclusiveLock on its own xid: relation locks
 * are matched through that row, not through a format of the virtual
 * transaction id (PostgreSQL 15.20 shows the one of the backend that
 * prepared the transaction, e.g. '3/8', not '-1/<xid>').
 */
static void
move_check_prepared(SfMove *m)
{
	StringInfoData rels;
	ListCell   *lc;
	PGresult   *res;

	initStringInfo(&rels);
	foreach(lc, m->shards)
	{
		SfMoveShard *s = lfirst(lc);

		appendStringInfo(&rels, "%spg_catalog.to_regclass(%s)",
						 rels.len > 0 ? ", " : "", quote_literal_cstr(s->qualname));
	}
	res = move_exec(m->src, m->source_server,
					psprintf("SELECT p.gid, r.relation::pg_catalog.regclass::pg_catalog.text,"
							 "  pg_catalog.count(*) OVER ()"
							 " FROM pg_catalog.pg_prepared_xacts p"
							 " JOIN pg_catalog.pg_locks x ON x.locktype = 'transactionid'"
							 "  AND x.transactionid = p.transaction AND x.pid IS NULL"
							 " JOIN pg_catalog.pg_locks r ON r.virtualtransaction = x.virtualtransaction"
							 "  AND r.pid IS NULL AND r.locktype = 'relation'"
							 " WHERE p.database = pg_catalog.current_database()"
							 " AND r.database = (SELECT oid FROM pg_catalog.pg_database"
							 "  WHERE datname = pg_catalog.current_database())"
							 " AND r.relation IN (%s)"
							 " ORDER BY p.prepared, p.gid, 2", rels.data));
	if (res != NULL && PQntuples(res) > 0)
	{
		char	   *gid = pstrdup(PQgetvalue(res, 0, 0));
		char	   *rel = pstrdup(PQgetvalue(res, 0, 1));
		int			n = atoi(PQgetvalue(res, 0, 2));

		PQclear(res);
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("a prepared transaction on server \"%s\" holds a lock on shard %s",
						m->source_server, rel),
				 n > 1 ?
				 errdetail("Prepared transaction \"%s\" holds a lock on %s (and %d more locks of prepared transactions on the moved shards).",
						   gid, rel, n - 1) :
				 errdetail("Prepared transaction \"%s\" holds a lock on %s.", gid, rel),
				 errhint("recover_prepared_transactions() resolves prepared transactions left by shardfdw; others need COMMIT PREPARED or ROLLBACK PREPARED on the worker.")));
	}
	if (res != NULL)
		PQclear(res);
}

/*
 * Phase 4 (and the copy of block_writes): the cutover transaction, retried
 * when a lock cannot be had within shardfdw.move_lock_timeout.
 */
static void
move_cutover(SfMove *m)
{
	int			attempt;

	for (attempt = 0;; attempt++)
	{
		bool		retry = false;
		ErrorData  *edata = NULL;

		sf_transfer_xact_begin();
		PG_TRY();
		{
			ListCell   *lc;
			List	   *fkeys;
			List	   *parents = NIL;

			(void) set_config_option("lock_timeout", psprintf("%d", shardfdw_move_lock_timeout),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
			/* the switch is durable before anybody uses the target */
			sf_require_durable_commit();
			foreach(lc, m->shards)
				parents = lappend_oid(parents, ((SfMoveShard *) lfirst(lc))->relid);

			if (m->method == SF_MOVE_BLOCK_WRITES)
			{
				int64		bytes = 0;

				foreach(lc, parents)
					LockRelationOid(lfirst_oid(lc), ExclusiveLock);
				move_check_prepared(m);
				foreach(lc, m->shards)
				{
					SfMoveShard *s = lfirst(lc);

					(void) move_exec(m->tgt, m->target_server,
									 psprintf("TRUNCATE %s CASCADE", s->qualname));
				}
				foreach(lc, m->shards)
					bytes += move_copy_shard(m, lfirst(lc));
				ereport(DEBUG1,
						(errmsg("shardfdw move job " INT64_FORMAT ": copied " INT64_FORMAT " bytes",
								m->jobid, bytes)));
				sf_fault_point("move-after-copy", true);
			}
			sf_fault_point("move-before-cutover", true);

			foreach(lc, parents)
				LockRelationOid(lfirst_oid(lc), AccessExclusiveLock);

			move_check_prepared(m);

			if (m->method == SF_MOVE_LOGICAL)
			{
				char	   *lsn = move_source_lsn(m);

				if (!move_wait_lsn(m, lsn, Max(shardfdw_move_lock_timeout, 1000) * 10L))
					ereport(ERROR,
							(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
							 errmsg("target server \"%s\" did not replay up to %s in time",
									m->target_server, lsn)));
			}
			else
			{
				fkeys = move_fkey_commands(m);
				move_create_fkeys(m, fkeys);
			}

			/* nothing lost, nothing duplicated */
			foreach(lc, m->shards)
			{
				SfMoveShard *s = lfirst(lc);
				int64		a = move_count(m->src, m->source_server, s->qualname);
				int64		b = move_count(m->tgt, m->target_server, s->qualname);

				if (a != b)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("shard %s has " INT64_FORMAT " rows on server \"%s\" but " INT64_FORMAT " on server \"%s\"",
									s->qualname, a, m->source_server, b, m->target_server),
							 errdetail("The move was abandoned; the data stays on the source.")));
			}

			/* the switch */
			foreach(lc, m->shards)
			{
				SfMoveShard *s = lfirst(lc);

				move_set_foreign_server(s->shardrelid, m->source_serverid, m->target_serverid);
				sf_spi_exec_count(psprintf("UPDATE shardfdw.placement SET nodeid = %d"
										   " WHERE shardid = " INT64_FORMAT " AND nodeid = %d",
										   m->target_nodeid, s->shardid, m->source_nodeid), 1);
				sf_invalidate_table(s->relid);
			}
			sf_spi_exec(psprintf("DELETE FROM shardfdw.cleanup WHERE operation_id = " INT64_FORMAT
								 " AND policy = 'on_failure'", m->jobid));
			foreach(lc, m->shards)
			{
				SfMoveShard *s = lfirst(lc);

				sf_cleanup_record(m->jobid, "shard", m->source_server, s->qualname, s->shardid, "on_success");
			}
			sf_spi_exec(psprintf("UPDATE shardfdw.shard_move_state SET phase = 'cleaning up',"
								 " phase_changed_at = pg_catalog.clock_timestamp() WHERE job_id = " INT64_FORMAT, m->jobid));
			sf_transfer_xact_commit();
			m->cutover_done = true;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(m->cxt);
			edata = CopyErrorData();
			if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
				attempt < shardfdw_move_cutover_retries)
			{
				FlushErrorState();
				AbortCurrentTransaction();
				retry = true;
			}
			else
				PG_RE_THROW();
		}
		PG_END_TRY();
		if (!retry)
			return;
		ereport(LOG,
				(errmsg("shardfdw move job " INT64_FORMAT ": cutover attempt %d failed, retrying: %s",
						m->jobid, attempt + 1, edata->message)));
		move_sleep(Min(100L * (attempt + 1), 2000L));
	}
}

/*
 * Close a raw connection.  A command still running on it (the job was
 * cancelled while it waited, say during CREATE SUBSCRIPTION) is cancelled
 * and waited for, at most 30 s: closing the connection would not stop it,
 * and a command that commits on the worker after the cleanup pass looked
 * for its object would leave that object behind.  Called in error
 * recovery: no interrupt is processed here.
 */
void
sf_transfer_close_conn(PGconn *conn)
{
	if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
	{
		PGcancel   *cancel = PQgetCancel(conn);
		char		errbuf[256];
		TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 30000);
		PGresult   *res;

		if (cancel != NULL)
		{
			(void) PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
		while (PQisBusy(conn) && GetCurrentTimestamp() < end)
		{
			(void) WaitLatchOrSocket(MyLatch,
									 WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
									 PQsocket(conn), 100L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (!PQconsumeInput(conn))
				break;
		}
		if (PQisBusy(conn))
			ereport(LOG,
					(errmsg("shardfdw move: a command on a worker did not end within 30 s of its cancellation")));
		else
			while ((res = PQgetResult(conn)) != NULL)
			{
				ExecStatusType st = PQresultStatus(res);

				PQclear(res);
				/* a COPY ends with the connection; it creates nothing */
				if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
					break;
			}
	}
	PQfinish(conn);
}

/* Close the raw connections (see sf_transfer_close_conn) */
static void
move_disconnect(SfMove *m)
{
	if (m->src)
		sf_transfer_close_conn(m->src);
	if (m->tgt)
		sf_transfer_close_conn(m->tgt);
	m->src = m->tgt = NULL;
}

/* The whole move (in the job) */
static void
move_run(SfMove *m, int64 shardid, const char *mode, const char *target)
{
	List	   *fkeys;

	/* 1. setting up */
	sf_transfer_xact_begin();
	sf_spi_exec(psprintf("SELECT pg_catalog.pg_advisory_lock(" INT64_FORMAT ")",
						 SF_OPERATION_LOCK_KEY(m->jobid)));
	SPI_finish();
	(void) sf_cleanup_pass(0);
	SPI_connect();
	move_load(m, shardid, target, mode);
	move_setup(m);
	sf_transfer_xact_commit();
	sf_fault_point("move-after-cleanup-records", true);

	/* 2. creating */
	move_set_phase(m, "creating shard tables", NULL);
	sf_transfer_xact_begin();
	move_create_tables(m);
	sf_transfer_xact_commit();
	sf_fault_point("move-after-create", true);

	/* 3. copying */
	if (m->method == SF_MOVE_LOGICAL)
	{
		move_set_phase(m, "copying", "initial copy by logical replication");
		move_start_replication(m);
		move_wait_sync(m);
		sf_transfer_xact_begin();
		fkeys = move_fkey_commands(m);
		sf_transfer_xact_commit();
		move_create_fkeys(m, fkeys);
		sf_fault_point("move-after-copy", true);
		move_set_phase(m, "catching up", NULL);
		move_catch_up(m);
		move_set_phase(m, "cutover", NULL);
	}
	else
		move_set_phase(m, "copying", "COPY through the coordinator, writes blocked");

	/* 4. cutover */
	move_cutover(m);
	sf_fault_point("move-after-cutover", true);

	/* 5. cleaning up */
	move_disconnect(m);
	move_set_phase(m, "cleaning up", NULL);
	sf_transfer_xact_begin();
	SPI_finish();
	(void) sf_cleanup_pass(m->jobid);
	SPI_connect();
	sf_spi_exec(psprintf("DELETE FROM shardfdw.shard_move_state WHERE job_id = " INT64_FORMAT, m->jobid));
	sf_transfer_xact_commit();
}

/*
 * The "move" job: args is "shardid\nmode\ntarget server"; the move GUCs
 * are the caller's (the job runs with its settings).  On failure the job
 * drops what it created before re-raising the error (the cleanup pass
 * retries what it cannot drop).  A failure (or cancel) after the cutover
 * committed is not one: the shards moved, so the job succeeds with a
 * WARNING, leaving what it could not drop to the cleanup pass.
 */
static void
sf_move_job(int64 jobid, const char *args)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw move",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SfMove	   *m = palloc0(sizeof(SfMove));
	char	   *fields[3];
	char	   *p = pstrdup(args);
	char	   *mode;
	char	   *target;
	int64		shardid;
	int			i;

	for (i = 0; i < 3; i++)
	{
		fields[i] = p;
		if (i < 2)
		{
			p = strchr(p, '\n');
			if (p == NULL)
				elog(ERROR, "invalid move job arguments: %s", args);
			*p++ = '\0';
		}
	}
	shardid = pg_strtoint64(fields[0]);
	mode = fields[1];
	target = fields[2];
	m->cxt = cxt;
	m->jobid = jobid;
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		move_run(m, shardid, mode, target);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();

		/*
		 * A second cancel must not interrupt the undoing (it would leave
		 * more for the cleanup pass); termination still does.
		 */
		HOLD_CANCEL_INTERRUPTS();
		move_disconnect(m);
		/* undo what can be undone now; the cleanup pass does the rest */
		sf_transfer_cleanup_after_failure(jobid, "move",
										  psprintf("DELETE FROM shardfdw.shard_move_state WHERE job_id = " INT64_FORMAT, jobid));
		RESUME_CANCEL_INTERRUPTS();
		if (!m->cutover_done)
			ReThrowError(edata);

		/*
		 * The move committed: it succeeded.  What was not dropped stays
		 * recorded for the cleanup pass; a cancel that came too late is
		 * forgotten.
		 */
		QueryCancelPending = false;
		ereport(WARNING,
				(errmsg("shard " INT64_FORMAT " moved to server \"%s\", but what it left on the workers is not all dropped yet",
						shardid, target),
				 errdetail("Cleaning up after the move failed: %s", edata->message),
				 errhint("The cleanup pass drops the rest later; shardfdw_cleanup_orphaned_resources() runs it now.")));
	}
	PG_END_TRY();
	MemoryContextDelete(cxt);
}

/* ---------------------------------------------------------------- SQL */

/*
 * Run a move and wait for it, turning its phase changes into NOTICEs.
 */
static void
move_and_wait(int64 shardid, const char *target, const char *mode)
{
	SfJob	   *job;
	int64		jobid;
	char	   *last = NULL;

	char	   *args = move_validate(shardid, target, mode);

	sf_job_refuse_transaction_block("shardfdw_move_shard");
	job = sf_job_launch("move", args, 0);
	jobid = sf_job_id(job);

	/*
	 * Report phase changes until the job ends; a cancel or termination of
	 * this session leaves the loop without being processed here, so that
	 * sf_job_wait_outcome sees it and passes it on to the job.
	 */
	while (!sf_job_finished(job) && !QueryCancelPending && !ProcDiePending)
	{
		/* a cancel during the NOTICE or the query is left to the wait */
		HOLD_CANCEL_INTERRUPTS();
		SPI_connect();
		sf_spi_exec_count(psprintf("SELECT phase, detail, source_server FROM shardfdw.shard_move_state"
								   " WHERE job_id = " INT64_FORMAT " LIMIT 1", jobid), -1);
		if (SPI_processed > 0)
		{
			char	   *phase = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			char	   *detail = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			char	   *source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
			char	   *line = psprintf("%s|%s", phase, detail ? detail : "");

			if (last == NULL || strcmp(last, line) != 0)
			{
				last = MemoryContextStrdup(TopTransactionContext, line);
				ereport(NOTICE,
						(errmsg("moving shard " INT64_FORMAT " from \"%s\" to \"%s\": %s",
								shardid, source, target, phase),
						 detail ? errdetail("%s.", detail) : 0));
			}
		}
		SPI_finish();
		RESUME_CANCEL_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	sf_job_wait_outcome(job);
}

/*
 * shardfdw_move_shard(shard_id bigint, target_server name,
 *	 shard_transfer_mode text DEFAULT 'auto') returns void
 */
Datum
shardfdw_move_shard(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("shard_id, target_server and shard_transfer_mode must not be NULL")));
	move_and_wait(PG_GETARG_INT64(0), NameStr(*PG_GETARG_NAME(1)),
				  text_to_cstring(PG_GETARG_TEXT_PP(2)));
	PG_RETURN_VOID();
}

/* The registered node whose SERVER has this host and port */
static char *
move_server_by_host(const char *host, int port)
{
	char	   *result = NULL;

	SPI_connect();
	sf_spi_exec_count(psprintf("SELECT server_name FROM shardfdw.nodes WHERE host = %s AND port = %d",
							   quote_literal_cstr(host), port), -1);
	if (SPI_processed == 1)
		result = MemoryContextStrdup(TopTransactionContext,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no shardfdw node has host \"%s\" and port %d", host, port),
				 errhint("shardfdw nodes are SERVERs: see shardfdw.nodes, or call shardfdw_move_shard(shard_id, target_server).")));
	return result;
}

/*
 * citus_move_shard_placement(shard_id bigint, source_node_name text,
 *	 source_node_port integer, target_node_name text, target_node_port
 *	 integer, shard_transfer_mode text DEFAULT 'auto'): the Citus spelling,
 *	 nodes given by the host and port of their SERVER.
 */
Datum
shardfdw_citus_move_shard_placement(PG_FUNCTION_ARGS)
{
	char	   *target;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("shard_id, target_node_name, target_node_port and shard_transfer_mode must not be NULL")));
	target = move_server_by_host(text_to_cstring(PG_GETARG_TEXT_PP(3)), PG_GETARG_INT32(4));
	move_and_wait(PG_GETARG_INT64(0), target, text_to_cstring(PG_GETARG_TEXT_PP(5)));
	PG_RETURN_VOID();
}

/*
 * shardfdw.move_remote_size(server name, shard_name text): bytes of a
 * worker table (0 if it does not exist), NULL if the server is unknown or
 * (with a WARNING) cannot be reached.
 */
Datum
shardfdw_move_remote_size(PG_FUNCTION_ARGS)
{
	ForeignServer *fs = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), true);
	int64		size;

	if (fs == NULL)
		PG_RETURN_NULL();
	if (!sf_monitor_relation_size(fs->serverid,
								  list_make1(text_to_cstring(PG_GETARG_TEXT_PP(1))), &size))
		PG_RETURN_NULL();
	PG_RETURN_INT64(size);
}

typedef struct SfLagProbe
{
	const char *slot;
	int64		lag;			/* -1: no such slot */
} SfLagProbe;

static void
move_lag_probe(Oid serverid, void *arg)
{
	SfLagProbe *probe = arg;
	const char *values[1];
	SfConn	   *conn;
	PGresult   *res;

	values[0] = probe->slot;
	conn = sf_get_connection_for_server(serverid);
	res = sf_exec_query(conn,
						"SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::pg_catalog.int8"
						" FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
						1, values);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		probe->lag = pg_strtoint64(PQgetvalue(res, 0, 0));
	PQclear(res);
}

/*
 * shardfdw.move_replication_lag(server name, slot name): bytes of WAL the
 * slot's subscriber has not confirmed yet, NULL if there is no such slot
 * or (with a WARNING) the server cannot be reached.
 */
Datum
shardfdw_move_replication_lag(PG_FUNCTION_ARGS)
{
	ForeignServer *fs = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), true);
	SfLagProbe	probe;

	if (fs == NULL)
		PG_RETURN_NULL();
	probe.slot = NameStr(*PG_GETARG_NAME(1));
	probe.lag = -1;
	if (!sf_monitor_remote(fs->serverid, "replication lags", move_lag_probe, &probe) ||
		probe.lag < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(probe.lag);
}

/*
 * GUCs and the job kind; called from _PG_init.
 */
void
sf_move_init(void)
{
	DefineCustomIntVariable("shardfdw.move_lock_timeout",
							"How long the cutover of a shard move waits for its locks before it retries.",
							"While the cutover waits, new queries on the moved tables queue behind it.",
							&shardfdw_move_lock_timeout,
							500, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("shardfdw.move_cutover_retries",
							"How many times the cutover of a shard move is retried after a lock timeout.",
							NULL,
							&shardfdw_move_cutover_retries,
							30, 0, 10000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("shardfdw.move_catchup_timeout",
							"How long an online shard move waits for the target to catch up with the source.",
							NULL,
							&shardfdw_move_catchup_timeout,
							600, 1, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("shardfdw.move_slot_timeout",
							"How long an online shard move waits for the transactions running on the source to end before it can start replication (0: no limit).",
							"Creating a logical replication slot waits for every transaction with a transaction ID running on the server, prepared ones included.",
							&shardfdw_move_slot_timeout,
							600, 0, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	sf_job_register_kind("move", sf_move_job);
}
