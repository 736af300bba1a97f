/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  Connection cache and remote transaction management.
 *
 * Assumptions (see connection.h for the contract):
 *	- one SfConn per user mapping (that is, per server and user) per backend,
 *	  kept across transactions and dropped when its SERVER or USER MAPPING
 *	  changes;
 *	- a remote transaction is opened on first use inside a local transaction
 *	  with the local isolation level, and savepoints follow the local
 *	  subtransaction nesting lazily (only levels at which the connection is
 *	  used get a savepoint);
 *	- at most one command is in flight per connection; whoever left one in
 *	  flight registers a drain callback (asynchronous scans do);
 *	- remote sessions run with search_path = pg_catalog, DateStyle ISO,
 *	  IntervalStyle postgres, extra_float_digits 3 and the local TimeZone
 *	  (re-sent when it changes), so text values mean the same on both sides.
 *
 * Commit: a transaction that wrote on at most one connection, and nothing
 * on the coordinator, commits every remote transaction with COMMIT at the
 * local PRE_COMMIT event.  One that wrote on two or more, or on one and on
 * the coordinator, commits with two-phase commit (see
 * src/transaction/README.md): PREPARE TRANSACTION on each written
 * connection and a commit record per prepared transaction in the local
 * transaction at PRE_COMMIT, COMMIT PREPARED at the local COMMIT event,
 * ROLLBACK PREPARED at local abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "connection.h"
#include "fdw_option.h"
#include "funcapi.h"
#include "shardfdw.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "sf_transaction.h"

/* how long cleanup after an error may wait for a worker, in milliseconds */
#define SF_CLEANUP_TIMEOUT_MS 30000

/* the most libpq parameters we pass */
#define SF_MAX_CONN_PARAMS 64

struct SfConn
{
	Oid			umid;			/* hash key: user mapping OID */
	PGconn	   *pgconn;			/* libpq connection, NULL if not connected */
	Oid			serverid;		/* the foreign server */
	char	   *server_name;	/* its name, for messages (TopMemoryContext) */
	int			xact_depth;		/* 0: no remote transaction; 1: in one;
								 * n > 1: savepoints s2..sn are open */
	bool		in_flight;		/* a command was sent, result not consumed */
	bool		in_copy;		/* a COPY FROM STDIN is in progress */
	bool		broken;			/* remote transaction state is unknown */
	bool		invalidated;	/* server or user mapping changed */
	unsigned int cursor_number; /* last cursor number handed out */
	unsigned int statement_number;	/* last prepared statement number */
	char	   *sent_timezone;	/* TimeZone the session has (malloc'd) */
	bool		timezone_in_xact;	/* a SET TimeZone was sent inside the
									 * remote transaction (undone if it
									 * rolls back) */
	uint32		server_hashvalue;	/* syscache hash of the server */
	uint32		mapping_hashvalue;	/* syscache hash of the user mapping */
	SfDrainCallback pending_callback;	/* reads the in-flight result */
	void	   *pending_arg;	/* its owner */
	bool		wrote;			/* the remote transaction may have written */
	bool		prepared;		/* PREPARE TRANSACTION prepared_gid done,
								 * COMMIT/ROLLBACK PREPARED still to send */
	char		prepared_gid[SF_GID_MAX];	/* valid while prepared */
	WaitEventSet *wait_set;		/* latch, postmaster death and the socket
								 * (kept while connected) */
	int			wait_socket_pos;	/* position of the socket event in it */
	HTAB	   *stmts;			/* SfRemoteStmt by key hash, NULL until used */
	MemoryContext stmt_cxt;		/* memory of stmts and their keys */
	dlist_head	stmt_lru;		/* stmts, most recently used first */
	int			nstmts;			/* entries in stmts */
	struct SfRemoteStmt *sent_stmt; /* entry of the statement in flight sent
									 * by sf_send_statement, or NULL */
};

/*
 * A statement the connection sent with sf_send_statement: seen once (sent
 * as the unnamed statement), or prepared on the worker under "name".
 */
typedef struct SfRemoteStmt
{
	uint64		hash;			/* hash key: hash of key */
	char	   *key;			/* SQL text, NUL, parameter types and variant */
	Size		keylen;
	char	   *name;			/* worker statement name, NULL if not
								 * prepared (yet) */
	uint64		uses;			/* times sent */
	bool		read_only;		/* sf_command_is_read_only of the SQL */
	dlist_node	lru_node;		/* in SfConn.stmt_lru */
} SfRemoteStmt;

int			shardfdw_connect_timeout = 10;
int			shardfdw_max_cached_remote_statements = 256;

/* maps shard names in workers' messages to the coordinator's (metadata) */
static SfErrorRewriter sf_error_rewriter = NULL;

static HTAB *sf_connections = NULL;

/* user_mapping's cache: (user, server) -> a copy of the mapping */
typedef struct SfUserMappingCacheEntry
{
	Oid			userid;
	Oid			serverid;
	UserMapping *user;
} SfUserMappingCacheEntry;

static List *sf_user_mappings = NIL;	/* in sf_user_mapping_cxt */
static MemoryContext sf_user_mapping_cxt = NULL;

/* PG_DIAG_CONTEXT of the last error re-raised by sf_report_error */
static char sf_remote_error_context[1024];
static bool sf_xact_registered = false;

static void session_setup(SfConn *conn);
static PGresult *read_results(PGconn *pgconn, SfConn *conn, bool *lost);
static PGresult *read_results_all(PGconn *pgconn, SfConn *conn, bool *lost,
								  List **all);
static void clear_results(List **results);
static char *timezone_sync_command(SfConn *conn);
static void forget_timezone(SfConn *conn);
static void sf_xact_callback(XactEvent event, void *arg);
static void sf_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg);
static void sf_inval_callback(Datum arg, int cacheid, uint32 hashvalue);

/*
 * Define the GUCs of the connection layer.
 */
void
sf_connection_init(void)
{
	DefineCustomIntVariable("shardfdw.connect_timeout",
							"Seconds to wait for a connection to a worker.",
							"Used when the SERVER has no connect_timeout option; 0 waits forever.",
							&shardfdw_connect_timeout,
							10, 0, 3600,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("shardfdw.max_cached_remote_statements",
							"Statements each worker connection keeps prepared for router statements.",
							"A statement text sent a second time on a connection is prepared on the worker and reused, so the worker plans it once; the least recently used ones are deallocated beyond this number.  0 prepares nothing.",
							&shardfdw_max_cached_remote_statements,
							256, 0, 100000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* Forget the connection's prepared statements (the worker's are gone). */
static void
forget_statements(SfConn *conn)
{
	if (conn->stmt_cxt)
		MemoryContextDelete(conn->stmt_cxt);
	conn->stmt_cxt = NULL;
	conn->stmts = NULL;
	dlist_init(&conn->stmt_lru);
	conn->nstmts = 0;
	conn->sent_stmt = NULL;
}

static void
disconnect(SfConn *conn)
{
	if (conn->wait_set)
		FreeWaitEventSet(conn->wait_set);
	conn->wait_set = NULL;
	forget_statements(conn);
	if (conn->pgconn)
		PQfinish(conn->pgconn);
	conn->pgconn = NULL;
	conn->xact_depth = 0;
	conn->in_flight = false;
	conn->in_copy = false;
	conn->broken = false;
	conn->pending_callback = NULL;
	conn->pending_arg = NULL;
	conn->wrote = false;
	conn->prepared = false;
	forget_timezone(conn);
}

/*
 * Wait until the socket is readable (or writable), reacting to interrupts.
 * Returns false on timeout (timeout_ms < 0 waits forever).
 */
static bool
wait_for_socket(PGconn *pgconn, bool for_write, long timeout_ms)
{
	int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH |
		(for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE);
	int			rc;

	if (timeout_ms >= 0)
		events |= WL_TIMEOUT;
	rc = WaitLatchOrSocket(MyLatch, events, PQsocket(pgconn), timeout_ms,
						   PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return !(rc & WL_TIMEOUT);
}

/*
 * Wait until the connection's socket is readable, reacting to interrupts,
 * with a wait event set kept for the life of the connection (creating one
 * per wait costs three system calls more than the wait itself).
 */
static void
conn_wait_readable(SfConn *conn)
{
	WaitEvent	event;

	if (conn->wait_set == NULL)
	{
		WaitEventSet *set = CreateWaitEventSet(TopMemoryContext, 3);

		PG_TRY();
		{
			(void) AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET,
									 MyLatch, NULL);
			(void) AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH,
									 PGINVALID_SOCKET, NULL, NULL);
			conn->wait_socket_pos =
				AddWaitEventToSet(set, WL_SOCKET_READABLE,
								  PQsocket(conn->pgconn), NULL, NULL);
		}
		PG_CATCH();
		{
			FreeWaitEventSet(set);
			PG_RE_THROW();
		}
		PG_END_TRY();
		conn->wait_set = set;
	}
	if (WaitEventSetWait(conn->wait_set, -1, &event, 1,
						 PG_WAIT_EXTENSION) > 0 &&
		(event.events & WL_LATCH_SET))
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Open a libpq connection for a user mapping, interruptibly and bounded by
 * shardfdw.connect_timeout (unless the SERVER sets connect_timeout itself).
 * Returns NULL and a message in *why (palloc'd) if the connection could
 * not be made; throws only on interrupts and out-of-memory.
 */
static PGconn *
try_connect(ForeignServer *server, UserMapping *user, char **why)
{
	const char *keywords[SF_MAX_CONN_PARAMS + 4];
	const char *values[SF_MAX_CONN_PARAMS + 4];
	char		timeout[32];
	int			n;
	PGconn	   *pgconn;
	TimestampTz deadline = 0;

	n = sf_libpq_params(server->options, user->options, keywords, values,
						SF_MAX_CONN_PARAMS);
	keywords[n] = "fallback_application_name";
	values[n++] = "shardfdw";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();
	if (sf_option_string(server->options, "connect_timeout", NULL) == NULL &&
		shardfdw_connect_timeout > 0)
	{
		snprintf(timeout, sizeof(timeout), "%d", shardfdw_connect_timeout);
		keywords[n] = "connect_timeout";
		values[n++] = timeout;
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   shardfdw_connect_timeout * 1000L);
	}
	keywords[n] = NULL;
	values[n] = NULL;

	pgconn = PQconnectStartParams(keywords, values, false);
	if (pgconn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while connecting to server \"%s\"",
						server->servername)));

	PG_TRY();
	{
		PostgresPollingStatusType status = PGRES_POLLING_WRITING;

		while (PQstatus(pgconn) != CONNECTION_BAD &&
			   status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
		{
			long		wait_ms = -1;

			if (deadline != 0)
			{
				wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														  deadline);
				if (wait_ms <= 0)
				{
					*why = psprintf("timeout expired after %d seconds (shardfdw.connect_timeout)",
									   shardfdw_connect_timeout);
					PQfinish(pgconn);
					pgconn = NULL;
					break;
				}
			}
			(void) wait_for_socket(pgconn, status == PGRES_POLLING_WRITING,
								   wait_ms);
			status = PQconnectPoll(pgconn);
		}
	}
	PG_CATCH();
	{
		PQfinish(pgconn);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (pgconn && PQstatus(pgconn) != CONNECTION_OK)
	{
		*why = pchomp(PQerrorMessage(pgconn));
		PQfinish(pgconn);
		pgconn = NULL;
	}
	return pgconn;
}

/*
 * Open a connection for a user mapping or fail with an ERROR naming the
 * server.
 */
static PGconn *
open_connection(ForeignServer *server, UserMapping *user)
{
	char	   *why = NULL;
	PGconn	   *pgconn = try_connect(server, user, &why);

	if (pgconn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"",
						server->servername),
				 errdetail_internal("%s", why),
				 errhint("Check that the worker behind SERVER \"%s\" is running and that the SERVER options (host, port, dbname) and the USER MAPPING are correct.",
						 server->servername)));

	if (!superuser_arg(user->userid) && !PQconnectionUsedPassword(pgconn))
	{
		PQfinish(pgconn);
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required to connect to server \"%s\"",
						server->servername),
				 errdetail("Non-superusers must authenticate to workers with a password."),
				 errhint("Add a password option to the user mapping, and make the worker require password authentication.")));
	}
	return pgconn;
}

/* Register the transaction and invalidation callbacks, once. */
static void
register_callbacks(void)
{
	if (!sf_xact_registered)
	{
		RegisterXactCallback(sf_xact_callback, NULL);
		RegisterSubXactCallback(sf_subxact_callback, NULL);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, sf_inval_callback, 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, sf_inval_callback, 0);
		sf_xact_registered = true;
	}
}

/*
 * Give a new remote session the settings every command relies on.
 */
static void
session_setup(SfConn *conn)
{
	sf_exec_command(conn,
					"SET search_path = pg_catalog; SET DateStyle = ISO; "
					"SET IntervalStyle = postgres; SET extra_float_digits = 3; "
					"SET default_transaction_isolation = 'read committed'");
}

/*
 * The cache entry of a user mapping, connected and idle (anything in flight
 * drained), with or without a remote transaction.
 */
static SfConn *
connection_entry(UserMapping *user)
{
	SfConn	   *conn;
	bool		found;

	if (sf_connections == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(SfConn);
		sf_connections = hash_create("shardfdw connections", 8, &ctl,
									 HASH_ELEM | HASH_BLOBS);
	}
	register_callbacks();

	conn = hash_search(sf_connections, &user->umid, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) conn) + sizeof(Oid), 0, sizeof(SfConn) - sizeof(Oid));
		conn->pgconn = NULL;
	}

	if (conn->pgconn && conn->broken)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("connection to server \"%s\" is in an unknown state",
						conn->server_name),
				 errdetail("An earlier error left the remote transaction unusable."),
				 errhint("Roll back the current transaction.")));

	/* a changed SERVER or USER MAPPING takes effect between transactions */
	if (conn->pgconn && conn->invalidated && conn->xact_depth == 0)
		disconnect(conn);

	/* a connection lost between transactions is silently re-opened */
	if (conn->pgconn && conn->xact_depth == 0 &&
		PQstatus(conn->pgconn) != CONNECTION_OK)
		disconnect(conn);

	if (conn->pgconn == NULL)
	{
		ForeignServer *server = GetForeignServer(user->serverid);

		conn->serverid = user->serverid;
		if (conn->server_name)
			pfree(conn->server_name);
		conn->server_name = MemoryContextStrdup(TopMemoryContext,
												server->servername);
		conn->invalidated = false;
		conn->server_hashvalue =
			GetSysCacheHashValue1(FOREIGNSERVEROID,
								  ObjectIdGetDatum(server->serverid));
		conn->mapping_hashvalue =
			GetSysCacheHashValue1(USERMAPPINGOID,
								  ObjectIdGetDatum(user->umid));
		conn->pgconn = open_connection(server, user);
		conn->xact_depth = 0;
		session_setup(conn);
	}

	sf_conn_drain(conn);
	return conn;
}

/*
 * The remote session's TimeZone is not known (a new session, or a SET
 * TimeZone rolled back): the next timezone_sync_command sends it.
 */
static void
forget_timezone(SfConn *conn)
{
	if (conn->sent_timezone)
		free(conn->sent_timezone);
	conn->sent_timezone = NULL;
	conn->timezone_in_xact = false;
}

/*
 * "SET TimeZone = ...; " if the session's TimeZone differs from the one the
 * remote session has, else "".  Remembers tz as sent.
 */
static char *
timezone_sync_command(SfConn *conn)
{
	const char *tz = pg_get_timezone_name(session_timezone);

	if (conn->sent_timezone != NULL && strcmp(conn->sent_timezone, tz) == 0)
		return "";
	if (conn->sent_timezone)
		free(conn->sent_timezone);
	conn->sent_timezone = strdup(tz);
	return psprintf("SET TimeZone = %s; ", quote_literal_cstr(tz));
}

/*
 * Hand out the connection of a user mapping, connected, with its remote
 * transaction (and savepoints up to the current subtransaction level) open.
 * Anything in flight on it is drained first.
 */
SfConn *
sf_get_connection(UserMapping *user)
{
	SfConn	   *conn = connection_entry(user);
	int			level = GetCurrentTransactionNestLevel();

	if (conn->xact_depth <= 0)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfoString(&sql, timezone_sync_command(conn));
		appendStringInfoString(&sql, "START TRANSACTION ISOLATION LEVEL ");
		appendStringInfoString(&sql,
							   IsolationIsSerializable() ? "SERIALIZABLE" :
							   IsolationUsesXactSnapshot() ? "REPEATABLE READ" :
							   "READ COMMITTED");
		sf_exec_command(conn, sql.data);
		pfree(sql.data);
		conn->xact_depth = 1;
		conn->cursor_number = 0;
	}
	else
	{
		/*
		 * The TimeZone changed since the remote transaction started: the
		 * statements sent now may compute with it (date_trunc of a
		 * timestamptz, timestamp compared with timestamptz...).  Sent
		 * before the savepoints of the current level are opened, so a
		 * ROLLBACK TO SAVEPOINT undoes it remotely only where it undoes
		 * the SET locally.
		 */
		char	   *tzsync = timezone_sync_command(conn);

		if (tzsync[0] != '\0')
		{
			conn->timezone_in_xact = true;
			sf_exec_command(conn, tzsync);
		}
	}

	while (conn->xact_depth < level)
	{
		char		sql[64];

		snprintf(sql, sizeof(sql), "SAVEPOINT s%d", conn->xact_depth + 1);
		sf_exec_command(conn, sql);
		conn->xact_depth++;
	}

	return conn;
}

/*
 * The user mapping of a role (InvalidOid: the current user; or PUBLIC) for
 * a server, from a small cache in front of GetUserMapping (which reads two catalogs and
 * rebuilds the options list each time); the cache is emptied when any
 * SERVER or USER MAPPING changes (sf_inval_callback).  The result belongs
 * to the cache: valid until the next invalidation.
 */
static UserMapping *
user_mapping(Oid serverid, Oid userid)
{
	ListCell   *lc;
	UserMapping *user;
	MemoryContext old;

	if (!OidIsValid(userid))
		userid = GetUserId();
	foreach(lc, sf_user_mappings)
	{
		SfUserMappingCacheEntry *e = lfirst(lc);

		if (e->userid == userid && e->serverid == serverid)
			return e->user;
	}
	register_callbacks();
	if (sf_user_mapping_cxt == NULL)
		sf_user_mapping_cxt = AllocSetContextCreate(TopMemoryContext,
													"shardfdw user mappings",
													ALLOCSET_SMALL_SIZES);
	user = GetUserMapping(userid, serverid);
	old = MemoryContextSwitchTo(sf_user_mapping_cxt);
	{
		SfUserMappingCacheEntry *e = palloc(sizeof(SfUserMappingCacheEntry));

		e->userid = userid;
		e->serverid = serverid;
		e->user = palloc(sizeof(UserMapping));
		*e->user = *user;
		e->user->options = copyObject(user->options);
		sf_user_mappings = lappend(sf_user_mappings, e);
		user = e->user;
	}
	MemoryContextSwitchTo(old);
	return user;
}

/*
 * The connection to a server for the current user (or PUBLIC mapping).
 */
SfConn *
sf_get_connection_for_server(Oid serverid)
{
	return sf_get_connection(user_mapping(serverid, InvalidOid));
}

/*
 * The connection to a server for a role's user mapping (InvalidOid: the
 * current user's), as the FDW reads a view's relations with its owner's.
 */
SfConn *
sf_get_connection_for_user(Oid serverid, Oid userid)
{
	return sf_get_connection(user_mapping(serverid, userid));
}

/*
 * The connection for a statement that is, by itself, all the remote work of
 * the current local transaction: the caller guarantees that this top-level
 * autocommit statement sends exactly this one command to exactly this one
 * server and writes nothing locally.  If the local transaction is such an
 * autocommit READ COMMITTED transaction and no remote transaction is open
 * on the connection yet, no remote transaction is opened: the worker runs
 * the command in its own implicit transaction, one round trip with nothing
 * to commit afterwards, and *autocommit is set.  Otherwise this is
 * sf_get_connection_for_user and *autocommit is false.  userid: as for
 * sf_get_connection_for_user.
 *
 * The worker commits when the command completes: if the coordinator fails
 * after that (say, while returning rows to the client), the command stays
 * done, exactly as when an autocommit statement's acknowledgement is lost.
 */
SfConn *
sf_get_connection_single_statement(Oid serverid, Oid userid, bool *autocommit)
{
	UserMapping *user = user_mapping(serverid, userid);
	SfConn	   *conn;
	char	   *tzsync;

	*autocommit = false;
	if (IsTransactionBlock() || GetCurrentTransactionNestLevel() != 1 ||
		XactIsoLevel != XACT_READ_COMMITTED)
		return sf_get_connection(user);

	conn = connection_entry(user);
	if (conn->xact_depth > 0)
		return sf_get_connection(user);

	tzsync = timezone_sync_command(conn);
	if (tzsync[0] != '\0')
		sf_exec_command(conn, tzsync);
	*autocommit = true;
	return conn;
}

PGconn *
sf_conn_pgconn(SfConn *conn)
{
	return conn->pgconn;
}

const char *
sf_conn_server_name(SfConn *conn)
{
	return conn->server_name;
}

/*
 * Cursor numbers are unique within a remote transaction.
 */
unsigned int
sf_conn_next_cursor_number(SfConn *conn)
{
	return ++conn->cursor_number;
}

/*
 * Prepared statement numbers are unique for the life of the connection.
 */
unsigned int
sf_conn_next_statement_number(SfConn *conn)
{
	return ++conn->statement_number;
}

/*
 * Register the owner of the command in flight.  callback(arg) must consume
 * the command's result (sf_get_result) and call sf_conn_clear_pending.
 */
void
sf_conn_set_pending(SfConn *conn, SfDrainCallback callback, void *arg)
{
	Assert(conn->pending_callback == NULL);
	conn->pending_callback = callback;
	conn->pending_arg = arg;
}

/*
 * Forget the pending owner, if it is arg (NULL: whoever it is).
 */
void
sf_conn_clear_pending(SfConn *conn, void *arg)
{
	if (arg == NULL || conn->pending_arg == arg)
	{
		conn->pending_callback = NULL;
		conn->pending_arg = NULL;
	}
}

void *
sf_conn_pending_owner(SfConn *conn)
{
	return conn->pending_arg;
}

/*
 * Make the connection free for a new command: let the owner of the command
 * in flight read its result.
 */
void
sf_conn_drain(SfConn *conn)
{
	if (conn->pending_callback)
	{
		SfDrainCallback callback = conn->pending_callback;
		void	   *arg = conn->pending_arg;

		callback(arg);
		sf_conn_clear_pending(conn, arg);
	}
}

/*
 * Fail because the connection itself is unusable.
 */
static void
report_connection_failure(SfConn *conn, const char *sql)
{
	char	   *msg = pchomp(PQerrorMessage(conn->pgconn));

	conn->broken = true;
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to server \"%s\"", conn->server_name),
			 errdetail_internal("%s", msg),
			 sql ? errcontext("remote SQL command: %s", sql) : 0,
			 errhint("Check that the worker behind SERVER \"%s\" is running.",
					 conn->server_name)));
}

/*
 * Send a command (with text parameters when nparams > 0; its rows in text
 * form, or binary: result_format 1) without waiting.  Only the extended
 * protocol has parameters and binary rows; the simple one takes several
 * commands in one string.
 */
static void
send_query(SfConn *conn, const char *sql, int nparams,
		   const char *const *values, int result_format)
{
	int			ok;

	sf_conn_drain(conn);
	sf_remote_error_context[0] = '\0';
	if (!conn->wrote && !sf_command_is_read_only(sql))
		conn->wrote = true;
	if (nparams > 0 || result_format != 0)
		ok = PQsendQueryParams(conn->pgconn, sql, nparams, NULL, values,
							   NULL, NULL, result_format);
	else
		ok = PQsendQuery(conn->pgconn, sql);
	if (!ok)
		report_connection_failure(conn, sql);
	conn->in_flight = true;
}

/*
 * Send a command (with text parameters when nparams > 0) without waiting.
 */
void
sf_send_query(SfConn *conn, const char *sql, int nparams,
			  const char *const *values)
{
	send_query(conn, sql, nparams, values, 0);
}

/*
 * Send a query (no parameters) whose rows come back in binary format, for
 * callers that convert values with the types' receive functions (same
 * major version everywhere, so the formats agree).  Read the result with
 * sf_get_result.  Not for types whose binary form depends on the session
 * (text types are converted with the local client_encoding).
 */
void
sf_send_query_binary(SfConn *conn, const char *sql)
{
	send_query(conn, sql, 0, NULL, 1);
}

/*
 * Wait until the command in flight on each of the n connections has its
 * result complete, reading from all of them as data arrives, so that
 * sf_get_result on each then reads without waiting.  Reading one
 * connection's result to its end before the next would leave the other
 * workers blocked on full socket buffers meanwhile: large results would
 * arrive one worker after the other.  A connection that breaks stops being
 * waited for (sf_get_result reports it).  Interruptible.
 */
void
sf_wait_results(SfConn **conns, int n)
{
	WaitEventSet *set;
	WaitEvent  *events;
	bool	   *lost;
	int			i;

	for (i = 0; i < n; i++)
		if (PQisBusy(conns[i]->pgconn))
			break;
	if (i == n)
		return;

	lost = palloc0(sizeof(bool) * n);
	events = palloc(sizeof(WaitEvent) * (n + 2));
	set = CreateWaitEventSet(CurrentMemoryContext, n + 2);
	PG_TRY();
	{
		(void) AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET,
								 MyLatch, NULL);
		(void) AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET,
								 NULL, NULL);
		for (i = 0; i < n; i++)
			(void) AddWaitEventToSet(set, WL_SOCKET_READABLE,
									 PQsocket(conns[i]->pgconn), NULL,
									 &lost[i]);
		for (;;)
		{
			bool		busy = false;
			int			nevents;
			int			j;

			for (i = 0; i < n; i++)
				if (!lost[i] && PQisBusy(conns[i]->pgconn))
					busy = true;
			if (!busy)
				break;
			nevents = WaitEventSetWait(set, -1, events, n + 2,
									   PG_WAIT_EXTENSION);
			for (j = 0; j < nevents; j++)
			{
				if (events[j].events & WL_LATCH_SET)
				{
					ResetLatch(MyLatch);
					CHECK_FOR_INTERRUPTS();
				}
				else if (events[j].events & WL_SOCKET_READABLE)
				{
					bool	   *l = events[j].user_data;

					i = l - lost;
					if (!*l && !PQconsumeInput(conns[i]->pgconn))
						*l = true;
				}
			}
		}
	}
	PG_FINALLY();
	{
		FreeWaitEventSet(set);
	}
	PG_END_TRY();
	pfree(events);
	pfree(lost);
}

/*
 * Wait until the socket of one of the connections whose done[i] is false is
 * readable, reacting to interrupts.
 */
static void
wait_any_readable(SfConn **conns, int n, bool *done)
{
	WaitEventSet *set = CreateWaitEventSet(CurrentMemoryContext, n + 2);
	WaitEvent	event;
	int			i;

	PG_TRY();
	{
		(void) AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET,
								 MyLatch, NULL);
		(void) AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH,
								 PGINVALID_SOCKET, NULL, NULL);
		for (i = 0; i < n; i++)
			if (!done[i])
				(void) AddWaitEventToSet(set, WL_SOCKET_READABLE,
										 PQsocket(conns[i]->pgconn),
										 NULL, NULL);
		if (WaitEventSetWait(set, -1, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		FreeWaitEventSet(set);
	}
	PG_END_TRY();
}

/*
 * Send a query (with nparams text parameters values, typed by the query)
 * whose rows come back one by one (libpq's single-row mode), in text form
 * or binary (result_format 1), to be read with sf_stream_next: the caller
 * never holds more than the rows it has not converted yet.
 */
void
sf_send_query_rows(SfConn *conn, const char *sql, int nparams,
				   const char *const *values, int result_format)
{
	send_query(conn, sql, nparams, values, result_format);
	if (!PQsetSingleRowMode(conn->pgconn))
		report_connection_failure(conn, sql);
}

/*
 * The next row of the queries sent with sf_send_query_rows on conns[0..n-1]
 * (sqls[i], for messages; the streams whose done[i] is false), from whichever connection has one,
 * reading every connection as its data arrives.  *next is where the search
 * starts (the caller keeps it between calls: a connection's rows are
 * returned while libpq has some buffered, then, after one more read from
 * its socket, the next connection's).  Returns a PGRES_SINGLE_TUPLE
 * result (the caller clears it) and sets *which; when a query ends, its
 * connection is idle again and done[i] is set.  A query that fails returns
 * its error result (done[i] set, the connection idle: the caller reports
 * it).  Returns NULL when every stream is done.  Interruptible; a lost
 * connection is an ERROR.
 */
PGresult *
sf_stream_next(SfConn **conns, const char *const *sqls, int n, bool *done,
			   int *which, int *next)
{
	for (;;)
	{
		bool		waiting = false;
		int			k;

		for (k = 0; k < n; k++)
		{
			int			i = (*next + k) % n;
			SfConn	   *conn = conns[i];
			PGresult   *res;
			PGresult   *rest;
			bool		lost;
			bool		read = false;

			if (done[i])
				continue;
			if (PQisBusy(conn->pgconn))
			{
				if (!PQconsumeInput(conn->pgconn))
					report_connection_failure(conn, sqls[i]);
				read = true;
			}
			if (PQisBusy(conn->pgconn))
			{
				waiting = true;
				continue;
			}
			res = PQgetResult(conn->pgconn);
			if (res == NULL)
			{
				/* no result at all (not sent by sf_send_query_rows?) */
				conn->in_flight = false;
				done[i] = true;
				continue;
			}
			if (PQresultStatus(res) == PGRES_SINGLE_TUPLE)
			{
				/* the rows of one socket read, then the next connection's */
				*which = i;
				*next = read ? (i + 1) % n : i;
				return res;
			}
			/* the query's last result: read up to the end */
			PG_TRY();
			{
				rest = read_results(conn->pgconn, conn, &lost);
			}
			PG_CATCH();
			{
				PQclear(res);
				PG_RE_THROW();
			}
			PG_END_TRY();
			if (rest)
				PQclear(rest);
			if (lost)
			{
				PQclear(res);
				report_connection_failure(conn, sqls[i]);
			}
			conn->in_flight = false;
			done[i] = true;
			if (PQresultStatus(res) == PGRES_TUPLES_OK)
			{
				PQclear(res);
				continue;
			}
			*which = i;
			*next = (i + 1) % n;
			return res;
		}
		if (!waiting)
			return NULL;

		/* nothing complete anywhere: wait for any of the sockets */
		wait_any_readable(conns, n, done);
	}
}

/* drain callback of an abandoned stream: its remaining rows are discarded */
static void
stream_discard(void *arg)
{
	SfConn	   *conn = arg;
	PGresult   *res;

	sf_conn_clear_pending(conn, arg);
	if (!conn->in_flight)
		return;
	res = sf_get_result(conn, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		PQresultStatus(res) != PGRES_COMMAND_OK)
		sf_report_error(ERROR, res, conn, true, NULL);
	PQclear(res);
}

/*
 * The owner of a query sent with sf_send_query_rows (registered with
 * sf_conn_set_pending) is gone before reading all its rows (its scan
 * failed, or its memory is being freed): whoever uses the connection next
 * first reads and discards the rest; the end of the transaction cancels it.
 * Only memory is touched (memory context reset callbacks may call this).
 */
void
sf_stream_abandon(SfConn *conn, void *owner)
{
	if (conn->pending_arg != owner)
		return;
	conn->pending_callback = NULL;
	conn->pending_arg = NULL;
	if (conn->in_flight && conn->pgconn != NULL)
	{
		conn->pending_callback = stream_discard;
		conn->pending_arg = conn;
	}
}

/*
 * End a query sent with sf_send_query_rows before its last row: with
 * cancel, ask the worker to stop it (only for a statement that is the
 * worker's whole implicit transaction: a cancelled statement inside a
 * remote transaction would abort that transaction), then read and discard
 * its remaining rows, leaving the connection idle.  Without cancel, an
 * error of the query (in rows not read yet) is an ERROR.
 */
void
sf_stream_finish(SfConn *conn, bool cancel, const char *sql)
{
	PGresult   *res;

	if (!conn->in_flight)
		return;
	if (cancel)
	{
		PGcancel   *pgcancel = PQgetCancel(conn->pgconn);
		char		errbuf[256];

		if (pgcancel)
		{
			(void) PQcancel(pgcancel, errbuf, sizeof(errbuf));
			PQfreeCancel(pgcancel);
		}
	}
	res = sf_get_result(conn, sql);
	if (!cancel && PQresultStatus(res) != PGRES_TUPLES_OK &&
		PQresultStatus(res) != PGRES_COMMAND_OK)
		sf_report_error(ERROR, res, conn, true, sql);
	PQclear(res);
}

/*
 * Read the results of the command in flight on a raw connection (conn, its
 * cache entry, when it has one), waiting interruptibly; stops early at a
 * COPY result.  Returns the last result (caller clears) or NULL if there
 * was none; *lost is set when the connection broke.  Throws only on
 * interrupts, freeing what it holds.
 */
static PGresult *
read_results(PGconn *pgconn, SfConn *conn, bool *lost)
{
	return read_results_all(pgconn, conn, lost, NULL);
}

/*
 * read_results, keeping in *all (when not NULL) every result before the
 * last one, in order (a command string of several statements has one
 * result per statement run).  On an interrupt they are cleared too.
 */
static PGresult *
read_results_all(PGconn *pgconn, SfConn *conn, bool *lost, List **all)
{
	PGresult   *last = NULL;

	*lost = false;
	PG_TRY();
	{
		for (;;)
		{
			PGresult   *res;

			while (PQisBusy(pgconn) && !*lost)
			{
				if (conn != NULL)
					conn_wait_readable(conn);
				else
					(void) wait_for_socket(pgconn, false, -1);
				if (!PQconsumeInput(pgconn))
					*lost = true;
			}
			if (*lost)
				break;
			res = PQgetResult(pgconn);
			if (res == NULL)
				break;
			if (last && all != NULL)
				*all = lappend(*all, last);
			else if (last)
				PQclear(last);
			last = res;
			if (PQresultStatus(res) == PGRES_COPY_IN ||
				PQresultStatus(res) == PGRES_COPY_OUT ||
				PQstatus(pgconn) == CONNECTION_BAD)
				break;
		}
	}
	PG_CATCH();
	{
		if (last)
			PQclear(last);
		if (all != NULL)
			clear_results(all);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (PQstatus(pgconn) == CONNECTION_BAD)
		*lost = true;
	return last;
}

/* PQclear every result of a list and free the list */
static void
clear_results(List **results)
{
	ListCell   *lc;

	foreach(lc, *results)
		PQclear(lfirst(lc));
	list_free(*results);
	*results = NIL;
}

/*
 * Wait for the result of the command in flight, reacting to interrupts.
 * Returns the last result (the caller must PQclear it), or a COPY result
 * as soon as one arrives.  Connection loss is reported as an ERROR.
 */
PGresult *
sf_get_result(SfConn *conn, const char *sql)
{
	bool		lost;
	PGresult   *last = read_results(conn->pgconn, conn, &lost);

	if (last == NULL || lost)
	{
		if (last)
			PQclear(last);
		report_connection_failure(conn, sql);
	}
	if (PQresultStatus(last) != PGRES_COPY_IN &&
		PQresultStatus(last) != PGRES_COPY_OUT)
		conn->in_flight = false;
	return last;
}

/*
 * Wait for every result of the command string in flight (several
 * statements separated by semicolons, sent with sf_send_query without
 * parameters): one result per statement the worker ran, in order, in a
 * list the caller frees (PQclear each).  After a failed statement the
 * worker runs none of the rest, so the list ends with the failure.
 * Connection loss is reported as an ERROR.
 */
List *
sf_get_all_results(SfConn *conn, const char *sql)
{
	bool		lost;
	List	   *all = NIL;
	PGresult   *last = read_results_all(conn->pgconn, conn, &lost, &all);

	if (last == NULL || lost ||
		PQresultStatus(last) == PGRES_COPY_IN ||
		PQresultStatus(last) == PGRES_COPY_OUT)
	{
		if (last)
			PQclear(last);
		clear_results(&all);
		report_connection_failure(conn, sql);
	}
	conn->in_flight = false;
	return lappend(all, last);
}

/*
 * Run a command and wait for it to succeed; anything else is an ERROR.
 */
void
sf_exec_command(SfConn *conn, const char *sql)
{
	PGresult   *res;

	sf_send_query(conn, sql, 0, NULL);
	res = sf_get_result(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		sf_report_error(ERROR, res, conn, true, sql);
	PQclear(res);
}

/*
 * Run a query (text parameters when nparams > 0) and return its successful
 * result; the caller must PQclear it.  Failures are ERRORs.
 */
PGresult *
sf_exec_query(SfConn *conn, const char *sql, int nparams,
			  const char *const *values)
{
	PGresult   *res;

	sf_send_query(conn, sql, nparams, values);
	res = sf_get_result(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		sf_report_error(ERROR, res, conn, true, sql);
	return res;
}

/*
 * Prepared statements of a connection (sf_send_statement).
 *
 * A statement is identified by its text, its parameter types and the
 * caller's variant bytes (the router passes its result types, so that a
 * statement whose result changed type after ALTER TABLE is a new one
 * instead of a "cached plan must not change result type" error).  The first
 * time a statement is sent it goes as the unnamed statement (one round
 * trip, parsed and planned by the worker as a literal statement would be);
 * the second time it is prepared under a name first (one extra round trip,
 * once), and from then on only executed: the worker parses it once and
 * plans it as it plans any prepared statement (custom plans first, then a
 * generic plan when that is no worse).  Prepared statements outlive remote
 * transactions, committed or not, and are forgotten with the connection.
 * At most shardfdw.max_cached_remote_statements entries are kept per
 * connection; the least recently used one is deallocated beyond that.
 *
 * Statement names ("sf_stmt_N") come from the connection's statement
 * counter, unique for the life of the connection.  A worker session that
 * lost them (DISCARD ALL, DEALLOCATE ALL behind our back) answers
 * "prepared statement does not exist": sf_get_statement_result then runs
 * the session setup again and, when no remote transaction was open (the
 * failed statement was alone in its implicit transaction: nothing ran),
 * sends the statement again; inside a remote transaction the error stands
 * and the connection is closed at the end of the transaction.
 */

/* The cache key of a statement, in buf. */
static void
statement_key(StringInfo buf, const char *sql, int nparams, const Oid *types,
			  const void *variant, int variant_len)
{
	appendBinaryStringInfo(buf, sql, strlen(sql) + 1);
	appendBinaryStringInfo(buf, (const char *) &nparams, sizeof(int));
	if (nparams > 0)
		appendBinaryStringInfo(buf, (const char *) types,
							   sizeof(Oid) * nparams);
	if (variant_len > 0)
		appendBinaryStringInfo(buf, variant, variant_len);
}

/*
 * Run a command of the statement cache itself (DEALLOCATE), which neither
 * reads nor writes data.  Failures are ERRORs.
 */
static void
statement_command(SfConn *conn, const char *sql)
{
	PGresult   *res;

	sf_conn_drain(conn);
	if (!PQsendQuery(conn->pgconn, sql))
		report_connection_failure(conn, sql);
	conn->in_flight = true;
	res = sf_get_result(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		sf_report_error(ERROR, res, conn, true, sql);
	PQclear(res);
}

/*
 * Remove an entry from the cache; deallocate: also drop the worker's
 * prepared statement (a round trip).
 */
static void
statement_remove(SfConn *conn, SfRemoteStmt *entry, bool deallocate)
{
	char	   *name = entry->name;

	if (conn->sent_stmt == entry)
		conn->sent_stmt = NULL;
	dlist_delete(&entry->lru_node);
	pfree(entry->key);
	(void) hash_search(conn->stmts, &entry->hash, HASH_REMOVE, NULL);
	conn->nstmts--;
	if (name != NULL && deallocate)
	{
		char		sql[NAMEDATALEN + 16];

		snprintf(sql, sizeof(sql), "DEALLOCATE %s", name);
		pfree(name);
		statement_command(conn, sql);
	}
	else if (name != NULL)
		pfree(name);
}

/*
 * The cache entry of a statement, created (as "seen", not prepared) if
 * new, made the most recently used; evicts the least recently used
 * entries beyond the limit.  The connection is idle.
 */
static SfRemoteStmt *
statement_lookup(SfConn *conn, const char *sql, int nparams, const Oid *types,
				 const void *variant, int variant_len)
{
	StringInfoData key;
	uint64		hash;
	SfRemoteStmt *entry;
	bool		found;

	if (conn->stmts == NULL)
	{
		HASHCTL		ctl;

		conn->stmt_cxt = AllocSetContextCreate(TopMemoryContext,
											   "shardfdw remote statements",
											   ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(SfRemoteStmt);
		ctl.hcxt = conn->stmt_cxt;
		conn->stmts = hash_create("shardfdw remote statements", 64, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		dlist_init(&conn->stmt_lru);
		conn->nstmts = 0;
	}

	initStringInfo(&key);
	statement_key(&key, sql, nparams, types, variant, variant_len);
	hash = DatumGetUInt64(hash_any_extended((unsigned char *) key.data,
											key.len, 0));
	entry = hash_search(conn->stmts, &hash, HASH_FIND, NULL);
	if (entry != NULL &&
		(entry->keylen != (Size) key.len ||
		 memcmp(entry->key, key.data, key.len) != 0))
	{
		/* another statement with the same hash: it makes room */
		statement_remove(conn, entry, true);
		entry = NULL;
	}
	if (entry == NULL)
	{
		while (conn->nstmts >= Max(shardfdw_max_cached_remote_statements, 1) &&
			   !dlist_is_empty(&conn->stmt_lru))
			statement_remove(conn,
							 dlist_tail_element(SfRemoteStmt, lru_node,
												&conn->stmt_lru),
							 true);
		entry = hash_search(conn->stmts, &hash, HASH_ENTER, &found);
		entry->key = MemoryContextAlloc(conn->stmt_cxt, key.len);
		memcpy(entry->key, key.data, key.len);
		entry->keylen = key.len;
		entry->name = NULL;
		entry->uses = 0;
		entry->read_only = sf_command_is_read_only(sql);
		conn->nstmts++;
	}
	else
		dlist_delete(&entry->lru_node);
	dlist_push_head(&conn->stmt_lru, &entry->lru_node);
	pfree(key.data);
	return entry;
}

/*
 * Send a statement with parameters (text values, NULL for SQL NULL) of the
 * given types (built-in type OIDs: the worker must know them), through the
 * connection's prepared statements (see above); variant (variant_len bytes,
 * may be 0) distinguishes statements of the same text.  With
 * shardfdw.max_cached_remote_statements = 0 this is a plain
 * parameterized query.  The rows come back in text form (result_format
 * 0) or binary (1; see router_binary_value).  Read the result with
 * sf_get_statement_result, with the same arguments.
 */
void
sf_send_statement(SfConn *conn, const char *sql, int nparams,
				  const Oid *types, const char *const *values,
				  const void *variant, int variant_len, int result_format)
{
	SfRemoteStmt *entry = NULL;
	int			ok;

	sf_conn_drain(conn);
	conn->sent_stmt = NULL;
	if (shardfdw_max_cached_remote_statements > 0)
	{
		entry = statement_lookup(conn, sql, nparams, types, variant,
								 variant_len);
		if (entry->name == NULL && entry->uses > 0)
		{
			char		name[NAMEDATALEN];
			PGresult   *res;

			snprintf(name, sizeof(name), "sf_stmt_%u",
					 sf_conn_next_statement_number(conn));
			if (!PQsendPrepare(conn->pgconn, name, sql, nparams, types))
				report_connection_failure(conn, sql);
			conn->in_flight = true;
			res = sf_get_result(conn, sql);
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
			{
				statement_remove(conn, entry, false);
				sf_report_error(ERROR, res, conn, true, sql);
			}
			PQclear(res);
			entry->name = MemoryContextStrdup(conn->stmt_cxt, name);
		}
		entry->uses++;
	}

	/* tests: the worker session loses its statements behind our back */
	if (entry != NULL && entry->name != NULL &&
		shardfdw_test_fault_point != NULL &&
		strcmp(shardfdw_test_fault_point, "discard-remote-statements") == 0)
		statement_command(conn, conn->xact_depth > 0 ? "DEALLOCATE ALL" :
						  "DISCARD ALL");

	sf_remote_error_context[0] = '\0';
	if (!conn->wrote &&
		!(entry != NULL ? entry->read_only : sf_command_is_read_only(sql)))
		conn->wrote = true;
	if (entry != NULL && entry->name != NULL)
		ok = PQsendQueryPrepared(conn->pgconn, entry->name, nparams, values,
								 NULL, NULL, result_format);
	else
		ok = PQsendQueryParams(conn->pgconn, sql, nparams, types, values,
							   NULL, NULL, result_format);
	if (!ok)
		report_connection_failure(conn, sql);
	conn->in_flight = true;
	conn->sent_stmt = entry;
}

/*
 * Is res the error of a worker session that lost our prepared statement
 * (*gone) or whose prepared statement's result changed type?
 */
static bool
statement_error_is_stale(PGresult *res, bool *gone)
{
	const char *state;
	const char *msg;

	*gone = false;
	if (PQresultStatus(res) != PGRES_FATAL_ERROR)
		return false;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (state == NULL)
		return false;
	if (strcmp(state, "26000") == 0)
	{
		*gone = true;
		return true;
	}
	return strcmp(state, "0A000") == 0 && msg != NULL &&
		strcmp(msg, "cached plan must not change result type") == 0;
}

/*
 * The result of the statement sf_send_statement sent (the caller checks
 * its status and must PQclear it).  A prepared statement the worker lost or
 * must re-plan with another result type is forgotten and, when the failed
 * statement ran alone in the worker's implicit transaction, sent once more
 * (nothing ran the first time).
 */
PGresult *
sf_get_statement_result(SfConn *conn, const char *sql, int nparams,
						const Oid *types, const char *const *values,
						const void *variant, int variant_len,
						int result_format)
{
	SfRemoteStmt *entry = conn->sent_stmt;
	PGresult   *res = sf_get_result(conn, sql);
	bool		gone;
	char	   *stale = NULL;

	conn->sent_stmt = NULL;
	if (entry == NULL || entry->name == NULL ||
		!statement_error_is_stale(res, &gone))
		return res;

	/* a prepared statement that still exists must be deallocated */
	if (!gone)
		stale = pstrdup(entry->name);
	statement_remove(conn, entry, false);
	if (conn->xact_depth > 0)
	{
		/* the remote transaction failed: start afresh after it */
		conn->invalidated = true;
		return res;
	}
	PQclear(res);
	if (gone)
	{
		/* the session was reset: settings and statements */
		forget_statements(conn);
		forget_timezone(conn);
		session_setup(conn);
		{
			char	   *tz = timezone_sync_command(conn);

			if (tz[0] != '\0')
				sf_exec_command(conn, tz);
		}
	}
	else
	{
		char	   *cmd = psprintf("DEALLOCATE %s", stale);

		statement_command(conn, cmd);
		pfree(cmd);
	}
	sf_send_statement(conn, sql, nparams, types, values, variant,
					  variant_len, result_format);
	return sf_get_result(conn, sql);
}

/*
 * Re-raise a worker's error on the coordinator: the worker's SQLSTATE,
 * message, detail and hint, with a context line naming the server and the
 * remote command.  "clear" frees res.
 */
void
sf_report_error(int elevel, PGresult *res, SfConn *conn, bool clear,
				const char *sql)
{
	PG_TRY();
	{
		char	   *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		char	   *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		char	   *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
		char	   *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
		char	   *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
		int			code = ERRCODE_CONNECTION_FAILURE;

		if (sqlstate && strlen(sqlstate) == 5)
			code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
								 sqlstate[3], sqlstate[4]);
		strlcpy(sf_remote_error_context, context ? context : "",
				sizeof(sf_remote_error_context));
		if (primary == NULL)
			primary = pchomp(PQerrorMessage(conn->pgconn));
		if (primary == NULL || primary[0] == '\0')
			primary = psprintf("unexpected result from server \"%s\"",
							   conn->server_name);

		/* speak of the coordinator's tables, not of their shards */
		if (sf_error_rewriter != NULL && IsTransactionState())
		{
			primary = sf_error_rewriter(primary);
			if (detail)
				detail = sf_error_rewriter(detail);
			if (hint)
				hint = sf_error_rewriter(hint);
		}

		ereport(elevel,
				(errcode(code),
				 errmsg_internal("%s", primary),
				 detail ? errdetail_internal("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0,
				 context ? errcontext("%s", context) : 0,
				 errcontext("while executing on server \"%s\": %s",
							conn->server_name, sql ? sql : "(no command)")));
	}
	PG_FINALLY();
	{
		if (clear && res)
			PQclear(res);
	}
	PG_END_TRY();
}

/*
 * Set the GUCs that make locally produced text (query literals, COPY data,
 * parameters) mean the same on workers: DateStyle ISO, IntervalStyle
 * postgres, extra_float_digits 3, search_path pg_catalog (so reg* values and
 * deparsed names come out qualified).  Returns the nesting level to pass to
 * sf_reset_transmission_modes.
 */
int
sf_set_transmission_modes(void)
{
	int			nestlevel = NewGUCNestLevel();

	if (DateStyle != USE_ISO_DATES)
		(void) set_config_option("datestyle", "ISO", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (IntervalStyle != INTSTYLE_POSTGRES)
		(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (extra_float_digits < 3)
		(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
sf_reset_transmission_modes(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Read every result of the command in flight within the cleanup timeout,
 * ending a COPY FROM STDIN if the worker is waiting for data.  *last gets
 * the last result (caller clears) or NULL.  Never throws; returns false if
 * the connection could not be brought back to idle in time.
 */
static bool
drain_with_timeout(SfConn *conn, PGresult **last)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   SF_CLEANUP_TIMEOUT_MS);

	*last = NULL;
	for (;;)
	{
		PGresult   *res;

		while (PQisBusy(conn->pgconn))
		{
			long		wait_ms;
			int			rc;

			wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													  deadline);
			if (wait_ms <= 0)
				return false;
			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_SOCKET_READABLE |
								   WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								   PQsocket(conn->pgconn), wait_ms,
								   PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
				ResetLatch(MyLatch);
			if (!PQconsumeInput(conn->pgconn))
				return false;
		}
		res = PQgetResult(conn->pgconn);
		if (res == NULL)
			break;
		if (PQresultStatus(res) == PGRES_COPY_IN)
		{
			PQclear(res);
			if (PQputCopyEnd(conn->pgconn,
							 "transaction aborted on the coordinator") != 1)
				return false;
			continue;
		}
		if (PQresultStatus(res) == PGRES_COPY_OUT)
		{
			PQclear(res);
			return false;
		}
		if (*last)
			PQclear(*last);
		*last = res;
	}
	conn->in_flight = false;
	conn->in_copy = false;
	return PQstatus(conn->pgconn) == CONNECTION_OK;
}

/*
 * Bring a connection back to idle after an error: end a COPY, cancel a
 * command in flight and discard its results.  Never throws; returns false
 * if that failed (the caller disconnects).
 */
static bool
cleanup_in_flight(SfConn *conn)
{
	PGresult   *res;
	bool		ok;

	conn->pending_callback = NULL;
	conn->pending_arg = NULL;
	if (PQstatus(conn->pgconn) != CONNECTION_OK)
		return false;
	if (conn->in_copy)
	{
		if (PQputCopyEnd(conn->pgconn,
						 "transaction aborted on the coordinator") != 1)
			return false;
		conn->in_copy = false;
	}
	else if (conn->in_flight)
	{
		PGcancel   *cancel = PQgetCancel(conn->pgconn);
		char		errbuf[256];

		if (cancel)
		{
			(void) PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
	}
	if (!conn->in_flight && !PQisBusy(conn->pgconn))
		return true;
	ok = drain_with_timeout(conn, &res);
	if (res)
		PQclear(res);
	return ok;
}

/*
 * Run a transaction-control command during cleanup.  Never throws (a
 * failure is a WARNING); returns false if the connection should be dropped.
 */
static bool
cleanup_command(SfConn *conn, const char *sql)
{
	PGresult   *res;
	bool		ok;

	if (!PQsendQuery(conn->pgconn, sql))
		return false;
	conn->in_flight = true;
	if (!drain_with_timeout(conn, &res))
	{
		if (res)
			PQclear(res);
		return false;
	}
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("could not run \"%s\" on server \"%s\"",
						sql, conn->server_name),
				 errdetail_internal("%s", res ? PQresultErrorMessage(res) :
									PQerrorMessage(conn->pgconn))));
	if (res)
		PQclear(res);
	return ok;
}

/*
 * Send COMMIT PREPARED or ROLLBACK PREPARED (verb) for the connection's
 * prepared transaction, without waiting; finish_prepared_wait reads the
 * result.  These run when the local transaction is already decided
 * (COMMIT PREPARED after the local commit, ROLLBACK PREPARED at abort), so
 * they never throw.  Returns false if it could not be sent.
 */
static bool
finish_prepared_send(SfConn *conn, const char *verb)
{
	char		sql[SF_GID_MAX + 64];

	snprintf(sql, sizeof(sql), "%s '%s'", verb, conn->prepared_gid);
	if (PQstatus(conn->pgconn) != CONNECTION_OK || !PQsendQuery(conn->pgconn, sql))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("could not run \"%s\" on server \"%s\"",
						sql, conn->server_name),
				 errdetail_internal("%s", pchomp(PQerrorMessage(conn->pgconn))),
				 errhint("recover_prepared_transactions() will finish it.")));
		conn->prepared = false;
		return false;
	}
	conn->in_flight = true;
	return true;
}

/*
 * Read the result of finish_prepared_send.  Failure is a WARNING (recovery
 * finishes the job); a prepared transaction that no longer exists
 * (recovery resolved it first, or the PREPARE never happened) or that a
 * recovery pass is finishing right now ("is busy") is not a failure.  Returns false if the connection should be dropped.
 */
static bool
finish_prepared_wait(SfConn *conn, const char *verb)
{
	char		sql[SF_GID_MAX + 64];
	PGresult   *res = NULL;
	bool		ok;

	snprintf(sql, sizeof(sql), "%s '%s'", verb, conn->prepared_gid);
	conn->prepared = false;
	ok = drain_with_timeout(conn, &res);
	if (ok && res != NULL && PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state != NULL && strcmp(state, "55000") == 0)
		{
			/*
			 * "is busy": a recovery pass holds it and is finishing it the
			 * same way (it decides by the commit log once the local
			 * transaction is over, and that is decided here).
			 */
			ereport(LOG,
					(errmsg("\"%s\" on server \"%s\" left to the recovery pass finishing it",
							sql, conn->server_name),
					 errdetail_internal("%s", pchomp(PQresultErrorMessage(res)))));
		}
		else if (state == NULL || strcmp(state, "42704") != 0)
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_EXCEPTION),
					 errmsg("could not run \"%s\" on server \"%s\"",
							sql, conn->server_name),
					 errdetail_internal("%s", PQresultErrorMessage(res)),
					 errhint("recover_prepared_transactions() will finish it.")));
	}
	else if (!ok)
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("could not run \"%s\" on server \"%s\"",
						sql, conn->server_name),
				 errdetail_internal("%s", pchomp(PQerrorMessage(conn->pgconn))),
				 errhint("recover_prepared_transactions() will finish it.")));
	if (res)
		PQclear(res);
	return ok;
}

/* Both halves, for one connection. */
static bool
finish_prepared(SfConn *conn, const char *verb)
{
	if (!finish_prepared_send(conn, verb))
		return false;
	return finish_prepared_wait(conn, verb);
}

/*
 * PRE_COMMIT: commit every remote transaction, in one phase if at most one
 * connection wrote, else in two phases (PREPARE TRANSACTION on each written
 * connection plus a commit record per prepared transaction in the local
 * transaction; COMMIT PREPARED follows at the COMMIT event).  Throws on
 * failure, which aborts the local transaction and, through the ABORT event,
 * rolls back everything, the prepared transactions included.
 */
static void
pre_commit_all(void)
{
	HASH_SEQ_STATUS scan;
	SfConn	   *conn;
	int			nwritten = 0;

	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		if (conn->pgconn == NULL || conn->xact_depth <= 0)
			continue;
		sf_conn_drain(conn);
		if (conn->broken)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_EXCEPTION),
					 errmsg("cannot commit: connection to server \"%s\" is in an unknown state",
							conn->server_name)));
		if (conn->wrote)
			nwritten++;
	}

	/*
	 * Two-phase when two or more workers wrote, or one worker and the
	 * coordinator itself (it has an xid: catalogs, a reference table, a
	 * local table): committing that worker first and the coordinator after
	 * would leave the worker's change alone if the coordinator crashed in
	 * between.  (A sequence's nextval can give the transaction an xid too;
	 * it then commits in two phases for nothing.)
	 */
	if (nwritten >= 2 ||
		(nwritten == 1 && TransactionIdIsValid(GetTopTransactionIdIfAny())))
	{
		/*
		 * The commit records go in first: they give the local transaction
		 * its xid (named in the gids) and, once flushed, make that xid
		 * durable, so a coordinator restarting after a crash never hands
		 * it out again while prepared transactions naming it exist.  They
		 * become visible only if the local transaction commits.
		 */
		hash_seq_init(&scan, sf_connections);
		while ((conn = (SfConn *) hash_seq_search(&scan)))
		{
			if (conn->pgconn == NULL || conn->xact_depth <= 0 || !conn->wrote)
				continue;
			sf_make_gid(conn->prepared_gid, conn->serverid);
			sf_insert_commit_record(conn->prepared_gid, conn->serverid);
		}
		XLogFlush(XactLastRecEnd);

		/*
		 * The local commit is the decision: it must be on disk before any
		 * COMMIT PREPARED goes out (after the commit), whatever the
		 * session's synchronous_commit, or a crash could leave some
		 * workers committed and the recovery rolling back the others.
		 */
		ForceSyncCommit();

		sf_fault_point("before-prepare", true);

		/*
		 * Send every PREPARE, then read every result, so that the workers
		 * write their prepared state to disk at the same time.  From the
		 * moment a PREPARE is sent, the worker may have prepared: an error
		 * anywhere makes the abort path send ROLLBACK PREPARED (a missing
		 * prepared transaction is not an error there).
		 */
		hash_seq_init(&scan, sf_connections);
		while ((conn = (SfConn *) hash_seq_search(&scan)))
		{
			char		sql[SF_GID_MAX + 64];

			if (conn->pgconn == NULL || conn->xact_depth <= 0 || !conn->wrote)
				continue;
			snprintf(sql, sizeof(sql), "PREPARE TRANSACTION '%s'",
					 conn->prepared_gid);
			conn->prepared = true;
			sf_send_query(conn, sql, 0, NULL);
		}
		hash_seq_init(&scan, sf_connections);
		while ((conn = (SfConn *) hash_seq_search(&scan)))
		{
			char		sql[SF_GID_MAX + 64];
			PGresult   *res;

			if (conn->pgconn == NULL || !conn->prepared || conn->xact_depth <= 0)
				continue;
			snprintf(sql, sizeof(sql), "PREPARE TRANSACTION '%s'",
					 conn->prepared_gid);
			res = sf_get_result(conn, sql);
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				sf_report_error(ERROR, res, conn, true, sql);
			PQclear(res);
			conn->xact_depth = 0;
		}
		sf_fault_point("after-prepare", true);
	}

	/* one-phase: read-only connections, or the only written one when the coordinator wrote nothing */
	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		if (conn->pgconn == NULL || conn->xact_depth <= 0)
			continue;
		sf_exec_command(conn, "COMMIT TRANSACTION");
		conn->xact_depth = 0;
	}
}

/*
 * Local transaction end: commit (at PRE_COMMIT, so a failure still aborts
 * the local transaction; see pre_commit_all) or roll back every remote
 * transaction.
 */
static void
sf_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	SfConn	   *conn;
	bool		fault_done = false;

	if (sf_connections == NULL)
		return;

	if (event == XACT_EVENT_PRE_COMMIT ||
		event == XACT_EVENT_PARALLEL_PRE_COMMIT)
	{
		pre_commit_all();
		return;
	}

	/*
	 * After the local commit, the commit records are durable: send every
	 * COMMIT PREPARED first, then read the results below, so the workers
	 * commit at the same time.
	 */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		bool		skip;

		hash_seq_init(&scan, sf_connections);
		while ((conn = (SfConn *) hash_seq_search(&scan)))
		{
			if (conn->pgconn == NULL || !conn->prepared)
				continue;
			if (!fault_done)
				sf_fault_point("before-commit-prepared", false);
			fault_done = true;
			skip = shardfdw_test_fault_point != NULL &&
				strcmp(shardfdw_test_fault_point, "skip-commit-prepared") == 0;
			if (skip)
				conn->prepared = false;
			else if (!finish_prepared_send(conn, "COMMIT PREPARED"))
				disconnect(conn);
		}
	}

	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		if (conn->pgconn == NULL)
			continue;

		if (conn->prepared)
		{
			if (event == XACT_EVENT_COMMIT ||
				event == XACT_EVENT_PARALLEL_COMMIT)
			{
				if (!finish_prepared_wait(conn, "COMMIT PREPARED"))
					disconnect(conn);
			}
			else if (event == XACT_EVENT_ABORT ||
					 event == XACT_EVENT_PARALLEL_ABORT)
			{
				if (!cleanup_in_flight(conn) ||
					!finish_prepared(conn, "ROLLBACK PREPARED"))
					disconnect(conn);
			}
		}

		if (conn->xact_depth > 0)
		{
			switch (event)
			{
				case XACT_EVENT_PARALLEL_PRE_COMMIT:
				case XACT_EVENT_PRE_COMMIT:
					/* handled by pre_commit_all */
					break;
				case XACT_EVENT_PRE_PREPARE:
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot prepare a transaction that has operated on shardfdw shards"),
							 errdetail("The transaction used server \"%s\".",
									   conn->server_name),
							 errhint("shardfdw commits distributed transactions with two-phase commit itself; commit the transaction instead.")));
					break;
				case XACT_EVENT_PARALLEL_COMMIT:
				case XACT_EVENT_COMMIT:
				case XACT_EVENT_PREPARE:
					/* PRE_COMMIT did the work; nothing may fail here */
					break;
				case XACT_EVENT_PARALLEL_ABORT:
				case XACT_EVENT_ABORT:
					if (!cleanup_in_flight(conn) ||
						!cleanup_command(conn, "ABORT TRANSACTION"))
					{
						ereport(WARNING,
								(errcode(ERRCODE_CONNECTION_EXCEPTION),
								 errmsg("closing connection to server \"%s\" after a failed rollback",
										conn->server_name)));
						disconnect(conn);
					}
					break;
			}
		}
		else if ((event == XACT_EVENT_ABORT ||
				  event == XACT_EVENT_PARALLEL_ABORT) && conn->in_flight)
		{
			/* a single-statement command interrupted: cancel it remotely */
			if (!cleanup_in_flight(conn))
				disconnect(conn);
		}

		if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			event == XACT_EVENT_PARALLEL_COMMIT ||
			event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		{
			if (conn->timezone_in_xact)
			{
				if (event == XACT_EVENT_COMMIT ||
					event == XACT_EVENT_PARALLEL_COMMIT)
					conn->timezone_in_xact = false;
				else
					forget_timezone(conn);
			}
			conn->xact_depth = 0;
			conn->cursor_number = 0;
			conn->pending_callback = NULL;
			conn->pending_arg = NULL;
			conn->wrote = false;
			if (conn->pgconn &&
				(conn->broken || conn->invalidated || conn->in_flight ||
				 PQstatus(conn->pgconn) != CONNECTION_OK ||
				 PQtransactionStatus(conn->pgconn) != PQTRANS_IDLE))
				disconnect(conn);
		}
	}
}

/*
 * Subtransaction end: release or roll back the savepoints opened at this
 * level.
 */
static void
sf_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS scan;
	SfConn	   *conn;
	int			level;

	if (sf_connections == NULL)
		return;
	if (event != SUBXACT_EVENT_PRE_COMMIT_SUB &&
		event != SUBXACT_EVENT_ABORT_SUB)
		return;

	level = GetCurrentTransactionNestLevel();
	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		char		sql[100];

		if (conn->pgconn == NULL || conn->xact_depth < level)
			continue;

		if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
		{
			sf_conn_drain(conn);
			snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT s%d", level);
			sf_exec_command(conn, sql);
		}
		else if (!conn->broken)
		{
			/* a SET TimeZone after the savepoint is undone with it */
			if (conn->timezone_in_xact)
			{
				forget_timezone(conn);
				conn->timezone_in_xact = true;
			}
			snprintf(sql, sizeof(sql),
					 "ROLLBACK TO SAVEPOINT s%d; RELEASE SAVEPOINT s%d",
					 level, level);
			if (!cleanup_in_flight(conn) || !cleanup_command(conn, sql))
				conn->broken = true;
		}
		conn->xact_depth = level - 1;
	}
}

/*
 * A SERVER or USER MAPPING changed: drop the affected connections at the
 * next transaction boundary.
 */
static void
sf_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	SfConn	   *conn;

	/* any change may change which mapping applies to whom */
	if (sf_user_mapping_cxt != NULL)
		MemoryContextReset(sf_user_mapping_cxt);
	sf_user_mappings = NIL;

	if (sf_connections == NULL)
		return;
	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		if (conn->pgconn == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && conn->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID && conn->mapping_hashvalue == hashvalue))
		{
			conn->invalidated = true;
			if (conn->xact_depth == 0)
				disconnect(conn);
		}
	}
}

/*
 * For copy.c: a COPY FROM STDIN starts (in_copy) or its data ends (!in_copy).
 * Either way the COPY command's result is still to be read.
 */
void
sf_conn_set_in_copy(SfConn *conn, bool in_copy)
{
	conn->in_copy = in_copy;
	conn->in_flight = true;
}

/*
 * Run one command on a server over a new, short-lived connection, in
 * autocommit mode and outside the current transaction (for
 * run_command_on_workers and health checks).  Never throws for remote
 * failures: returns whether the command succeeded and, in *result, the
 * first column of the first row (NULL if that is NULL), else the command
 * status, or the error message.
 */
bool
sf_run_command_on_server(Oid serverid, const char *command, char **result)
{
	ForeignServer *server = GetForeignServer(serverid);
	UserMapping *user = GetUserMapping(GetUserId(), serverid);
	char	   *why = NULL;
	PGconn	   *pgconn;
	PGresult   *res = NULL;
	bool		ok = false;

	pgconn = try_connect(server, user, &why);
	if (pgconn == NULL)
	{
		*result = why;
		return false;
	}

	PG_TRY();
	{
		bool		lost = false;
		ExecStatusType status = PGRES_FATAL_ERROR;

		if (PQsendQuery(pgconn, command))
			res = read_results(pgconn, NULL, &lost);
		if (res && !lost)
			status = PQresultStatus(res);

		if (status == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0)
			*result = PQgetisnull(res, 0, 0) ? NULL :
				pstrdup(PQgetvalue(res, 0, 0));
		else if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK ||
				 status == PGRES_EMPTY_QUERY)
			*result = pstrdup(PQcmdStatus(res));
		else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT)
			*result = pstrdup("COPY to or from the client is not supported here");
		else
			*result = pchomp(res && PQresultErrorMessage(res)[0] ?
							 PQresultErrorMessage(res) : PQerrorMessage(pgconn));
		ok = (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK ||
			  status == PGRES_EMPTY_QUERY);
	}
	PG_FINALLY();
	{
		if (res)
			PQclear(res);
		PQfinish(pgconn);
	}
	PG_END_TRY();
	return ok;
}

/*
 * Open a short-lived autocommit connection to a server for the current
 * user (or PUBLIC mapping), outside any transaction (for recovery).
 * Returns NULL with the reason in *why if it could not be made.
 */
PGconn *
sf_connect_raw(Oid serverid, char **why)
{
	ForeignServer *server = GetForeignServer(serverid);
	UserMapping *user = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	/* a missing user mapping is a reason, not an error, here */
	PG_TRY();
	{
		user = GetUserMapping(GetUserId(), serverid);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		*why = edata->message;
		return NULL;
	}
	PG_END_TRY();
	return try_connect(server, user, why);
}

/*
 * Run one command on a raw connection (sf_connect_raw) and return its last
 * result (caller clears), or NULL if the connection broke.  Throws only on
 * interrupts.
 */
PGresult *
sf_raw_exec(PGconn *pgconn, const char *sql)
{
	bool		lost = false;
	PGresult   *res;

	if (!PQsendQuery(pgconn, sql))
		return NULL;
	res = read_results(pgconn, NULL, &lost);
	if (lost && res)
	{
		PQclear(res);
		res = NULL;
	}
	return res;
}

/*
 * Record that the remote transaction of a connection wrote (or may have
 * written) something, for commands sf_command_is_read_only cannot
 * classify, e.g. a SELECT of a function with side effects.  Two or more
 * written connections make the local commit a two-phase commit.
 */
void
sf_conn_mark_written(SfConn *conn)
{
	conn->wrote = true;
}

/*
 * The worker's context lines (PG_DIAG_CONTEXT) of the error being raised by
 * sf_report_error ("" if it had none), for error context callbacks that
 * want to translate it (the COPY path maps the worker's COPY line to the
 * coordinator's input line).
 */
const char *
sf_last_remote_error_context(void)
{
	return sf_remote_error_context;
}

/*
 * Install the function that rewrites the text of workers' errors (message,
 * detail, hint) before they are re-raised; the metadata layer maps shard
 * names back to the coordinator's table names with it.  It runs inside a
 * valid transaction only and must return its input when nothing changes.
 */
void
sf_set_error_rewriter(SfErrorRewriter rewriter)
{
	sf_error_rewriter = rewriter;
}

/*
 * shardfdw.cached_remote_statements(): the statements this backend's worker
 * connections keep (sf_send_statement), most recently used first per
 * connection: server, worker statement name (NULL: seen once, not
 * prepared), times sent, SQL text.
 */
PG_FUNCTION_INFO_V1(shardfdw_cached_remote_statements);

Datum
shardfdw_cached_remote_statements(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	SfConn	   *conn;

	InitMaterializedSRF(fcinfo, 0);
	if (sf_connections == NULL)
		return (Datum) 0;
	hash_seq_init(&scan, sf_connections);
	while ((conn = (SfConn *) hash_seq_search(&scan)))
	{
		dlist_iter	iter;

		if (conn->pgconn == NULL || conn->stmts == NULL)
			continue;
		dlist_foreach(iter, &conn->stmt_lru)
		{
			SfRemoteStmt *entry = dlist_container(SfRemoteStmt, lru_node,
												  iter.cur);
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = CStringGetTextDatum(conn->server_name);
			if (entry->name)
				values[1] = CStringGetTextDatum(entry->name);
			else
				nulls[1] = true;
			values[2] = Int64GetDatum((int64) entry->uses);
			values[3] = CStringGetTextDatum(entry->key);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	return (Datum) 0;
}
