/*-------------------------------------------------------------------------
 *
 * connection.h
 *	  The connection + transaction layer: the only code that talks to libpq.
 *
 * One libpq connection per (foreign server, user mapping) per backend.  The
 * first use of a connection inside a local transaction opens a remote
 * transaction (with the same isolation level) and, inside subtransactions,
 * the matching savepoints; the remote transaction commits or aborts with the
 * local one (in two phases when two or more connections wrote, see
 * sf_transaction.h; commands are classified as writes by their first
 * keyword, sf_command_is_read_only, or by sf_conn_mark_written).  Every
 * remote statement of a local transaction (FDW scans, modifications, DDL
 * sent by the operations layer) goes through the same connection, so a transaction always reads its own writes.
 *
 * Remote sessions run with search_path = pg_catalog and with TimeZone,
 * DateStyle, IntervalStyle and extra_float_digits chosen so that values
 * travel in text form without changing meaning.  Everything sent to a worker
 * must therefore schema-qualify its names.
 *
 * A connection may carry at most one command "in flight" (sent, result not
 * yet read).  Asynchronous FDW scans register themselves as the pending
 * request of the connection with sf_conn_set_pending(); any other user of the
 * connection first calls the drain callback, which must read the result into
 * its owner's buffers.  Every function below that sends something drains
 * first, so callers only need to care when they use the raw PGconn.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_CONNECTION_H
#define SHARDFDW_CONNECTION_H

#include "libpq-fe.h"
#include "foreign/foreign.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/relcache.h"

typedef struct SfConn SfConn;

typedef void (*SfDrainCallback) (void *arg);
typedef char *(*SfErrorRewriter) (char *text);

/* GUCs (connection.c) */
extern int	shardfdw_connect_timeout;
extern int	shardfdw_max_cached_remote_statements;

/* in connection.c */
extern SfConn *sf_get_connection(UserMapping *user);
extern SfConn *sf_get_connection_for_server(Oid serverid);
extern SfConn *sf_get_connection_for_user(Oid serverid, Oid userid);
extern SfConn *sf_get_connection_single_statement(Oid serverid, Oid userid,
														  bool *autocommit);
extern PGconn *sf_conn_pgconn(SfConn *conn);
extern const char *sf_conn_server_name(SfConn *conn);
extern unsigned int sf_conn_next_cursor_number(SfConn *conn);
extern unsigned int sf_conn_next_statement_number(SfConn *conn);
extern void sf_conn_set_pending(SfConn *conn, SfDrainCallback callback, void *arg);
extern void sf_conn_clear_pending(SfConn *conn, void *arg);
extern void *sf_conn_pending_owner(SfConn *conn);
extern void sf_conn_drain(SfConn *conn);
extern void sf_conn_set_in_copy(SfConn *conn, bool in_copy);
extern void sf_conn_mark_written(SfConn *conn);
extern PGconn *sf_connect_raw(Oid serverid, char **why);
extern PGresult *sf_raw_exec(PGconn *pgconn, const char *sql);

extern void sf_exec_command(SfConn *conn, const char *sql);
extern PGresult *sf_exec_query(SfConn *conn, const char *sql,
							   int nparams, const char *const *values);
extern PGresult *sf_get_result(SfConn *conn, const char *sql);
extern List *sf_get_all_results(SfConn *conn, const char *sql);
extern void sf_send_query_binary(SfConn *conn, const char *sql);
extern void sf_wait_results(SfConn **conns, int n);
extern void sf_send_query_rows(SfConn *conn, const char *sql, int nparams,
							   const char *const *values,
							   int result_format);
extern PGresult *sf_stream_next(SfConn **conns, const char *const *sqls,
								int n, bool *done, int *which, int *next);
extern void sf_stream_finish(SfConn *conn, bool cancel, const char *sql);
extern void sf_stream_abandon(SfConn *conn, void *owner);
extern void sf_send_query(SfConn *conn, const char *sql,
						  int nparams, const char *const *values);
extern void sf_send_statement(SfConn *conn, const char *sql, int nparams,
							  const Oid *types, const char *const *values,
							  const void *variant, int variant_len,
							  int result_format);
extern PGresult *sf_get_statement_result(SfConn *conn, const char *sql,
										 int nparams, const Oid *types,
										 const char *const *values,
										 const void *variant,
										 int variant_len, int result_format);
extern bool sf_run_command_on_server(Oid serverid, const char *command,
									 char **result);
extern void sf_set_error_rewriter(SfErrorRewriter rewriter);
extern void sf_report_error(int elevel, PGresult *res, SfConn *conn,
							bool clear, const char *sql);
extern const char *sf_last_remote_error_context(void);

/*
 * in copy.c: streaming rows with COPY ... FROM STDIN in text format.
 * sf_copy_append_row formats the slot's attributes listed in attnums (1-based
 * attribute numbers; outfuncs is indexed by attnum - 1) as one text COPY
 * line; the slot must be fully deformed (slot_getallattrs).  It switches to
 * the transmission modes itself when the session's DateStyle etc. differ.
 */
extern void sf_copy_begin(SfConn *conn, const char *copy_sql);
extern void sf_copy_send(SfConn *conn, const char *data, int len);
extern void sf_copy_end(SfConn *conn, const char *copy_sql);
extern void sf_copy_end_async(SfConn *conn);
extern void sf_copy_check_result(SfConn *conn, const char *copy_sql);
extern void sf_copy_append_value(StringInfo buf, const char *value);
extern void sf_copy_append_row(StringInfo buf, TupleTableSlot *slot,
							   FmgrInfo *outfuncs, List *attnums);

/*
 * in copy.c: the local COPY FROM being executed (its CopyFromState, found
 * on the error context stack; NULL outside COPY FROM), its current input
 * line, and the line number a worker's COPY error context names (0 if
 * none).  sf_copy_input_blame makes the local COPY's own error context
 * report the given input line.
 */
extern void *sf_copy_input_state(void);
extern uint64 sf_copy_input_line(void *cstate);
extern char *sf_copy_passthrough_options(void *cstate, Relation rel,
										 List *target_attrs);
extern void sf_copy_append_input_line(StringInfo buf, void *cstate);
extern void sf_copy_input_blame(void *cstate, uint64 lineno);
extern int64 sf_copy_remote_error_line(const char *context);

/* in connection.c: text transmission of values (see set_transmission_modes) */
extern int	sf_set_transmission_modes(void);
extern void sf_reset_transmission_modes(int nestlevel);

#endif							/* SHARDFDW_CONNECTION_H */
