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
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "catalog/pg_type.h"

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

/*
 * Can the text input of a value of this type be read the same way by a
 * worker whatever the two sessions' settings?  Date/time types depend on
 * DateStyle's field order and IntervalStyle, money on lc_monetary: those,
 * and anything not listed, are not forwarded as raw input.
 */
static bool
input_is_context_free(Oid type)
{
	switch (getBaseType(type))
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case BYTEAOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
			return true;
		default:
			return false;
	}
}

/*
 * The rows of the local COPY FROM cstate, inserted into foreign table rel
 * (a partition of the COPY's table, or that table) with columns
 * target_attrs: can they be forwarded to the worker as their raw input
 * lines?  Only for text and CSV input whose columns are exactly
 * target_attrs, in that order (no column takes a value the coordinator
 * computes), without FORCE_NULL / FORCE_NOT_NULL, and with column types
 * whose text input means the same on the worker.  Returns the options to
 * give the worker's COPY ("WITH (...)" text reproducing the input format),
 * or NULL when rows must be re-formatted.
 */
char *
sf_copy_passthrough_options(void *cstate_arg, Relation rel, List *target_attrs)
{
	CopyFromState cstate = (CopyFromState) cstate_arg;
	TupleDesc	srcdesc = RelationGetDescr(cstate->rel);
	TupleDesc	dstdesc = RelationGetDescr(rel);
	ListCell   *src;
	ListCell   *dst;
	StringInfoData buf;

	if (cstate->opts.binary || cstate->opts.force_notnull != NIL ||
		cstate->opts.force_null != NIL ||
		list_length(cstate->attnumlist) != list_length(target_attrs))
		return NULL;
	forboth(src, cstate->attnumlist, dst, target_attrs)
	{
		Form_pg_attribute sa = TupleDescAttr(srcdesc, lfirst_int(src) - 1);
		Form_pg_attribute da = TupleDescAttr(dstdesc, lfirst_int(dst) - 1);

		if (strcmp(NameStr(sa->attname), NameStr(da->attname)) != 0 ||
			sa->atttypid != da->atttypid || sa->atttypmod != da->atttypmod ||
			!input_is_context_free(da->atttypid))
			return NULL;
	}

	initStringInfo(&buf);
	appendStringInfo(&buf, " WITH (FORMAT %s, DELIMITER %s, NULL %s",
					 cstate->opts.csv_mode ? "csv" : "text",
					 quote_literal_cstr(cstate->opts.delim),
					 quote_literal_cstr(cstate->opts.null_print));
	if (cstate->opts.csv_mode)
		appendStringInfo(&buf, ", QUOTE %s, ESCAPE %s",
						 quote_literal_cstr(cstate->opts.quote),
						 quote_literal_cstr(cstate->opts.escape));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * Append the input line of the row COPY FROM is routing (in the server's
 * encoding, as read) and a newline.
 */
void
sf_copy_append_input_line(StringInfo buf, void *cstate_arg)
{
	CopyFromState cstate = (CopyFromState) cstate_arg;

	if (!cstate->line_buf_valid)
		elog(ERROR, "input line " UINT64_FORMAT " of COPY is not available to forward",
			 cstate->cur_lineno);
	appendBinaryStringInfo(buf, cstate->line_buf.data, cstate->line_buf.len);
	appendStringInfoChar(buf, '\n');
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
