/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  Streaming rows to workers with COPY ... FROM STDIN (text format).
 *
 * Rows are formatted on the coordinator with the types' output functions
 * under the transmission modes (see sf_set_transmission_modes), escaped as
 * COPY text, and sent in large chunks: one COPY per batch, never a round
 * trip per row.  While a COPY is open its connection can run nothing else,
 * so callers open, fill and close it without interleaving other commands on
 * the same connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "connection.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/guc.h"

/*
 * Start "COPY ... FROM STDIN" on a connection.
 */
void
sf_copy_begin(SfConn *conn, const char *copy_sql)
{
	PGresult   *res;

	sf_send_query(conn, copy_sql, 0, NULL);
	res = sf_get_result(conn, copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		sf_report_error(ERROR, res, conn, true, copy_sql);
	PQclear(res);
	sf_conn_set_in_copy(conn, true);
}

/*
 * Send a chunk of COPY data (whole lines).
 */
void
sf_copy_send(SfConn *conn, const char *data, int len)
{
	if (len > 0 && PQputCopyData(sf_conn_pgconn(conn), data, len) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not send COPY data to server \"%s\"",
						sf_conn_server_name(conn)),
				 errdetail_internal("%s",
									pchomp(PQerrorMessage(sf_conn_pgconn(conn))))));
	CHECK_FOR_INTERRUPTS();
}

/*
 * Finish the COPY and check that the worker accepted every row.
 */
void
sf_copy_end(SfConn *conn, const char *copy_sql)
{
	sf_copy_end_async(conn);
	sf_copy_check_result(conn, copy_sql);
}

/*
 * Finish the COPY's data without waiting for the worker's verdict: the
 * COPY stays in flight (the caller registers a drain callback that calls
 * sf_copy_check_result), so the worker stores the rows while the
 * coordinator prepares the next batch.
 */
void
sf_copy_end_async(SfConn *conn)
{
	if (PQputCopyEnd(sf_conn_pgconn(conn), NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not end COPY on server \"%s\"",
						sf_conn_server_name(conn)),
				 errdetail_internal("%s",
									pchomp(PQerrorMessage(sf_conn_pgconn(conn))))));
	sf_conn_set_in_copy(conn, false);
}

/*
 * Read the result of a COPY ended by sf_copy_end_async: an ERROR (the
 * worker's) unless the worker accepted every row.
 */
void
sf_copy_check_result(SfConn *conn, const char *copy_sql)
{
	PGresult   *res = sf_get_result(conn, copy_sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		sf_report_error(ERROR, res, conn, true, copy_sql);
	PQclear(res);
}

/*
 * Append one value in COPY text format: backslash escapes for the
 * characters COPY treats specially.
 */
void
sf_copy_append_value(StringInfo buf, const char *value)
{
	const char *p;
	const char *start = value;

	for (p = value; *p; p++)
	{
		char		esc = 0;

		switch (*p)
		{
			case '\\':
				esc = '\\';
				break;
			case '\n':
				esc = 'n';
				break;
			case '\r':
				esc = 'r';
				break;
			case '\t':
				esc = 't';
				break;
			case '\b':
				esc = 'b';
				break;
			case '\f':
				esc = 'f';
				break;
			case '\v':
				esc = 'v';
				break;
			default:
				continue;
		}
		appendBinaryStringInfo(buf, start, p - start);
		appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, esc);
		start = p + 1;
	}
	appendBinaryStringInfo(buf, start, p - start);
}

/*
 * Append one row as a COPY text line (see connection.h).
 */
void
sf_copy_append_row(StringInfo buf, TupleTableSlot *slot, FmgrInfo *outfuncs,
				   List *attnums)
{
	bool		need_modes;
	int			nestlevel = 0;
	ListCell   *lc;
	bool		first = true;

	need_modes = (DateStyle != USE_ISO_DATES ||
				  IntervalStyle != INTSTYLE_POSTGRES ||
				  extra_float_digits < 3);
	if (need_modes)
		nestlevel = sf_set_transmission_modes();

	foreach(lc, attnums)
	{
		int			attnum = lfirst_int(lc);

		if (!first)
			appendStringInfoChar(buf, '\t');
		first = false;
		if (slot->tts_isnull[attnum - 1])
			appendStringInfoString(buf, "\\N");
		else
		{
			char	   *value = OutputFunctionCall(&outfuncs[attnum - 1],
												   slot->tts_values[attnum - 1]);

			sf_copy_append_value(buf, value);
			pfree(value);
		}
	}
	appendStringInfoChar(buf, '\n');

	if (need_modes)
		sf_reset_transmission_modes(nestlevel);
}

/*
 * The CopyFromState of the COPY FROM running in this backend, if the
 * current code runs under it (its error context callback is on the
 * stack), else NULL.
 */
void *
sf_copy_input_state(void)
{
	ErrorContextCallback *cb;

	for (cb = error_context_stack; cb != NULL; cb = cb->previous)
		if (cb->callback == CopyFromErrorCallback)
			return cb->arg;
	return NULL;
}

/* The input line COPY FROM is at (the row being routed). */
uint64
sf_copy_input_line(void *cstate)
{
	return cstate ? ((CopyFromState) cstate)->cur_lineno : 0;
}

/*
 * Make the local COPY's error context name input line lineno (not the
 * line being read when a batch fails).  Only for an error being raised.
 */
void
sf_copy_input_blame(void *cstate, uint64 lineno)
{
	CopyFromState cs = (CopyFromState) cstate;

	if (cs == NULL || lineno == 0)
		return;
	cs->cur_lineno = lineno;
	cs->line_buf_valid = false;
	cs->cur_attname = NULL;
	cs->cur_attval = NULL;
}

/*
 * The line number in a worker's COPY error context ("COPY name, line N..."),
 * 0 if there is none.
 */
int64
sf_copy_remote_error_line(const char *context)
{
	const char *p;

	if (context == NULL || strncmp(context, "COPY ", 5) != 0)
		return 0;
	p = strstr(context, ", line ");
	if (p == NULL)
		return 0;
	return strtoll(p + 7, NULL, 10);
}
