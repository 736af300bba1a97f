/*-------------------------------------------------------------------------
 *
 * fdw.c
 *	  The shardfdw foreign-data wrapper's handler and GUCs, plus the
 *	  callbacks that fit no other file: TRUNCATE and ANALYZE.
 *
 * Scans live in scan.c, modifications in modify.c, SQL text in deparse.c.
 * All remote traffic goes through the connection layer (connection.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/vacuum.h"
#include "fdw.h"
#include "fdw_option.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "shardfdw.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

PG_FUNCTION_INFO_V1(shardfdw_handler);

/* shardfdw.enable_async: may scans under Append run asynchronously? */
bool		shardfdw_enable_async = true;

/*
 * sf_fdw_init
 *		Define the FDW's GUCs (called once from _PG_init).
 */
void
sf_fdw_init(void)
{
	DefineCustomBoolVariable("shardfdw.enable_async",
							 "Lets scans of shards on different workers run concurrently.",
							 "When on, foreign scans under an Append are executed asynchronously.",
							 &shardfdw_enable_async,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * sf_user_mapping_for
 *		The user mapping used to reach the server of a foreign table as
 *		"userid" (InvalidOid: the current user).
 */
UserMapping *
sf_user_mapping_for(Relation rel, Oid userid)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));

	if (!OidIsValid(userid))
		userid = GetUserId();
	return GetUserMapping(userid, table->serverid);
}

/*
 * ExecForeignTruncate callback: one TRUNCATE per server for all its
 * tables (the executor calls us once per server).
 */
static void
sf_ExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs)
{
	StringInfoData sql;
	Oid			serverid = InvalidOid;
	ListCell   *lc;

	if (rels == NIL)
		return;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "TRUNCATE ");
	foreach(lc, rels)
	{
		Relation	rel = (Relation) lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&sql, ", ");
		sf_append_remote_table(&sql, rel);
		serverid = GetForeignTable(RelationGetRelid(rel))->serverid;
	}
	if (restart_seqs)
		appendStringInfoString(&sql, " RESTART IDENTITY");
	if (behavior == DROP_CASCADE)
		appendStringInfoString(&sql, " CASCADE");
	sf_exec_command(sf_get_connection_for_server(serverid), sql.data);
	pfree(sql.data);
}

/* Read this many times the rows ANALYZE wants when sampling remotely. */
#define SF_SAMPLE_MARGIN 2.0

/*
 * The worker's estimate of the rows of a table (pg_class.reltuples), or -1
 * if it has none.  "qualified_name" is the quoted, qualified remote name.
 */
static double
remote_reltuples(SfConn *conn, const char *qualified_name)
{
	char	   *sql;
	PGresult   *res;
	double		result = -1;

	sql = psprintf("SELECT reltuples FROM pg_catalog.pg_class WHERE oid = %s::pg_catalog.regclass",
				   quote_literal_cstr(qualified_name));
	res = sf_exec_query(conn, sql, 0, NULL);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		result = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	pfree(sql);
	return result;
}

/*
 * Acquire a random sample of the remote table's rows for ANALYZE: read the
 * table through a cursor (with TABLESAMPLE SYSTEM when the worker thinks it
 * is much bigger than the sample) and keep a reservoir of targrows rows
 * (Vitter's algorithm, utils/sampling.h).  Returns the sample size.
 */
static int
sf_acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows,
					   int targrows, double *totalrows, double *totaldeadrows)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	ForeignServer *server = GetForeignServer(table->serverid);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttInMetadata *attinmeta = TupleDescGetAttInMetadata(tupdesc);
	SfConn	   *conn = sf_get_connection(sf_user_mapping_for(rel, InvalidOid));
	MemoryContext row_cxt;
	MemoryContext caller_cxt = CurrentMemoryContext;
	ReservoirStateData rstate;
	StringInfoData sql;
	List	   *retrieved_attrs;
	Datum	   *values = palloc(sizeof(Datum) * tupdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * tupdesc->natts);
	char		fetch_sql[64];
	char		close_sql[32];
	unsigned int cursor;
	int			fetch_size;
	int			numrows = 0;
	double		seen = 0;
	double		rowstoskip = -1;
	double		reltuples;
	double		sample_percent = 0;

	fetch_size = sf_option_int(server->options, "fetch_size",
							   SF_DEFAULT_FETCH_SIZE);
	fetch_size = sf_option_int(table->options, "fetch_size", fetch_size);

	/* a big table is read through TABLESAMPLE, not in full */
	initStringInfo(&sql);
	sf_append_remote_table(&sql, rel);
	reltuples = remote_reltuples(conn, sql.data);
	if (reltuples > 0 && targrows * SF_SAMPLE_MARGIN < reltuples)
		sample_percent = 100.0 * targrows * SF_SAMPLE_MARGIN / reltuples;

	cursor = sf_conn_next_cursor_number(conn);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "DECLARE c%u CURSOR FOR ", cursor);
	sf_build_select(&sql, rel,
					bms_make_singleton(0 - FirstLowInvalidHeapAttributeNumber),
					&retrieved_attrs);
	if (sample_percent > 0)
		appendStringInfo(&sql, " TABLESAMPLE SYSTEM (%.6f)", sample_percent);
	sf_exec_command(conn, sql.data);
	snprintf(fetch_sql, sizeof(fetch_sql), "FETCH %d FROM c%u",
			 fetch_size, cursor);
	snprintf(close_sql, sizeof(close_sql), "CLOSE c%u", cursor);

	reservoir_init_selection_state(&rstate, targrows);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext,
									"shardfdw analyze row",
									ALLOCSET_SMALL_SIZES);
	for (;;)
	{
		PGresult   *res = sf_exec_query(conn, fetch_sql, 0, NULL);
		int			ntuples;
		int			i;

		sf_check_result(res, conn, PGRES_TUPLES_OK, fetch_sql);
		ntuples = PQntuples(res);
		PG_TRY();
		{
			for (i = 0; i < ntuples; i++)
			{
				int			pos = -1;

				vacuum_delay_point();
				if (numrows < targrows)
					pos = numrows++;
				else
				{
					if (rowstoskip < 0)
						rowstoskip = reservoir_get_next_S(&rstate, seen,
														  targrows);
					if (rowstoskip <= 0)
					{
						pos = (int) (targrows *
									 sampler_random_fract(&rstate.randstate));
						heap_freetuple(rows[pos]);
					}
					rowstoskip -= 1;
				}
				seen += 1;
				if (pos >= 0)
				{
					MemoryContextSwitchTo(row_cxt);
					sf_convert_row(res, i, tupdesc, attinmeta, retrieved_attrs,
								   values, nulls, NULL);
					MemoryContextSwitchTo(caller_cxt);
					rows[pos] = heap_form_tuple(tupdesc, values, nulls);
					MemoryContextReset(row_cxt);
				}
			}
		}
		PG_FINALLY();
		{
			MemoryContextSwitchTo(caller_cxt);
			PQclear(res);
		}
		PG_END_TRY();
		if (ntuples < fetch_size)
			break;
	}
	sf_exec_command(conn, close_sql);
	MemoryContextDelete(row_cxt);

	*totalrows = sample_percent > 0 ? reltuples : seen;
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": table on server \"%s\" has about %.0f rows, %.0f rows read, %d rows in sample",
					RelationGetRelationName(rel), server->servername,
					*totalrows, seen, numrows)));
	return numrows;
}

/*
 * AnalyzeForeignTable callback: sample through sf_acquire_sample_rows.
 */
static bool
sf_AnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
					   BlockNumber *totalpages)
{
	*func = sf_acquire_sample_rows;
	*totalpages = 1;
	return true;
}

/*
 * shardfdw_handler
 *		The FdwRoutine of shardfdw.
 */
Datum
shardfdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	/* scans (scan.c) */
	routine->GetForeignRelSize = sf_GetForeignRelSize;
	routine->GetForeignPaths = sf_GetForeignPaths;
	routine->GetForeignPlan = sf_GetForeignPlan;
	routine->BeginForeignScan = sf_BeginForeignScan;
	routine->IterateForeignScan = sf_IterateForeignScan;
	routine->ReScanForeignScan = sf_ReScanForeignScan;
	routine->EndForeignScan = sf_EndForeignScan;
	routine->ExplainForeignScan = sf_ExplainForeignScan;
	routine->IsForeignPathAsyncCapable = sf_IsForeignPathAsyncCapable;
	routine->ForeignAsyncRequest = sf_ForeignAsyncRequest;
	routine->ForeignAsyncConfigureWait = sf_ForeignAsyncConfigureWait;
	routine->ForeignAsyncNotify = sf_ForeignAsyncNotify;

	/* modifications (modify.c) */
	routine->AddForeignUpdateTargets = sf_AddForeignUpdateTargets;
	routine->PlanForeignModify = sf_PlanForeignModify;
	routine->BeginForeignModify = sf_BeginForeignModify;
	routine->ExecForeignInsert = sf_ExecForeignInsert;
	routine->GetForeignModifyBatchSize = sf_GetForeignModifyBatchSize;
	routine->ExecForeignBatchInsert = sf_ExecForeignBatchInsert;
	routine->ExecForeignUpdate = sf_ExecForeignUpdate;
	routine->ExecForeignDelete = sf_ExecForeignDelete;
	routine->EndForeignModify = sf_EndForeignModify;
	routine->BeginForeignInsert = sf_BeginForeignInsert;
	routine->EndForeignInsert = sf_EndForeignInsert;
	routine->IsForeignRelUpdatable = sf_IsForeignRelUpdatable;
	routine->PlanDirectModify = sf_PlanDirectModify;
	routine->BeginDirectModify = sf_BeginDirectModify;
	routine->IterateDirectModify = sf_IterateDirectModify;
	routine->EndDirectModify = sf_EndDirectModify;
	routine->ExplainForeignModify = sf_ExplainForeignModify;
	routine->ExplainDirectModify = sf_ExplainDirectModify;

	/* TRUNCATE and ANALYZE (here) */
	routine->ExecForeignTruncate = sf_ExecForeignTruncate;
	routine->AnalyzeForeignTable = sf_AnalyzeForeignTable;

	PG_RETURN_POINTER(routine);
}
