/*-------------------------------------------------------------------------
 *
 * job.c
 *	  Operations that run in background workers (see jobs.h).
 *
 * A job is launched by a session: it creates a small dynamic shared memory
 * segment holding the job's kind, arguments, database and role, and starts
 * a dynamic background worker (sf_job_main) that attaches to it.  The
 * worker connects to the database as the role, commits the job's row in
 * shardfdw.job, publishes the job id in the segment and wakes the launcher,
 * then takes on the launching session's settings (job_collect_settings,
 * job_apply_settings) and runs the job function.  When the function
 * returns or throws, the worker records the outcome in the row and in the
 * segment (SQLSTATE, message, detail and hint), wakes the launcher and
 * exits.
 *
 * The launcher keeps its mapping of the segment until it has waited for the
 * job (dsm_pin_mapping), so it can wait across its own transactions; a
 * detached job keeps the segment alive by its own mapping.  Cancelling the
 * waiting session sends the job SIGINT: the job function sees a query
 * cancel at its next CHECK_FOR_INTERRUPTS(), undoes what it must and the
 * job ends 'cancelled'.  SIGTERM (pg_terminate_backend, shutdown) ends the
 * worker with FATAL: its row stays 'running' with a pid that no longer
 * exists, which shardfdw.jobs shows as 'interrupted'; the operations'
 * cleanup records take care of what it left behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "jobs.h"
#include "operations.h"

PG_FUNCTION_INFO_V1(shardfdw_run_test_job);
PG_FUNCTION_INFO_V1(shardfdw_job_wait);
PG_FUNCTION_INFO_V1(shardfdw_job_cancel);

PGDLLEXPORT void sf_job_main(Datum main_arg);

#define SF_JOB_MAX_KINDS	16
#define SF_JOB_KIND_LEN		64
#define SF_JOB_TEXT_LEN		1024
#define SF_JOB_POLL_MS		100
#define SF_JOB_QUEUE_SIZE	65536	/* NOTICEs and WARNINGs of the job */

/* what the worker reports in the segment */
typedef enum SfJobStatus
{
	SF_JOB_STARTING = 0,
	SF_JOB_RUNNING,
	SF_JOB_SUCCEEDED,
	SF_JOB_FAILED
} SfJobStatus;

/* the dynamic shared memory segment of one job */
typedef struct SfJobShared
{
	slock_t		mutex;
	Oid			dboid;
	Oid			roleid;
	int64		parent_jobid;
	Latch	   *launcher_latch; /* NULL once the launcher detached */
	int64		jobid;			/* set once the job's row is committed */
	SfJobStatus status;
	int			sqlerrcode;
	char		kind[SF_JOB_KIND_LEN];
	char		message[SF_JOB_TEXT_LEN];
	char		detail[SF_JOB_TEXT_LEN];
	char		hint[SF_JOB_TEXT_LEN];
	Size		queue_offset;	/* of the message queue, from the start */
	Size		settings_offset;	/* of the launcher's settings */
	Size		settings_len;
	char		args[FLEXIBLE_ARRAY_MEMBER];
} SfJobShared;

/* a launched job, in the launching session */
struct SfJob
{
	dsm_segment *seg;
	SfJobShared *shared;
	BackgroundWorkerHandle *handle;
	shm_mq_handle *queue;		/* the job's notices; NULL once detached */
	int64		jobid;
	bool		detached;
	char		kind[SF_JOB_KIND_LEN];
};

typedef struct SfJobKind
{
	char		name[SF_JOB_KIND_LEN];
	SfJobFunction function;
} SfJobKind;

static SfJobKind job_kinds[SF_JOB_MAX_KINDS];
static int	njob_kinds = 0;

/* in a job's worker */
static int64 current_jobid = 0;
static char *current_kind = NULL;

static void sf_test_job(int64 jobid, const char *args);

/*
 * Register the runner's own kinds.  Called from _PG_init, so it runs in
 * every backend and in the job workers.
 */
void
sf_jobs_init(void)
{
	sf_job_register_kind("test", sf_test_job);
}

void
sf_job_register_kind(const char *kind, SfJobFunction function)
{
	if (njob_kinds >= SF_JOB_MAX_KINDS)
		elog(ERROR, "too many shardfdw job kinds");
	if (strlen(kind) >= SF_JOB_KIND_LEN)
		elog(ERROR, "shardfdw job kind name \"%s\" is too long", kind);
	strlcpy(job_kinds[njob_kinds].name, kind, SF_JOB_KIND_LEN);
	job_kinds[njob_kinds].function = function;
	njob_kinds++;
}

static SfJobFunction
find_kind(const char *kind)
{
	int			i;

	for (i = 0; i < njob_kinds; i++)
		if (strcmp(job_kinds[i].name, kind) == 0)
			return job_kinds[i].function;
	return NULL;
}

static MemoryContext
job_context(void)
{
	static MemoryContext cxt = NULL;

	if (cxt == NULL)
		cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw jobs",
									ALLOCSET_SMALL_SIZES);
	return cxt;
}

void
sf_job_refuse_transaction_block(const char *funcname)
{
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s cannot run inside a transaction block", funcname),
				 errdetail("It runs in a background worker that commits transactions of its own."),
				 errhint("Run it as a statement of its own, outside BEGIN ... COMMIT.")));
}

/*
 * Does this backend hold a lock, in any mode, on relation relid?  A job
 * that needs a strong lock on it would wait for its caller forever.
 */
bool
sf_job_caller_holds_lock(Oid relid)
{
	LOCKTAG		tag;
	LOCKMODE	mode;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (mode = AccessShareLock; mode <= AccessExclusiveLock; mode++)
		if (LockHeldByMe(&tag, mode))
			return true;
	return false;
}

static bool job_wait(SfJob *job, bool rethrow, bool outcome_on_cancel);

/* the worker's pid, or 0 once it has stopped */
static pid_t
job_worker_pid(SfJob *job, bool *postmaster_died)
{
	pid_t		pid = 0;
	BgwHandleStatus st = GetBackgroundWorkerPid(job->handle, &pid);

	*postmaster_died = (st == BGWH_POSTMASTER_DIED);
	if (st == BGWH_STOPPED || st == BGWH_POSTMASTER_DIED)
		return 0;
	if (st == BGWH_NOT_YET_STARTED)
		return -1;
	return pid;
}

/* ask the job's worker to cancel what it does (SIGINT) */
static void
job_signal_cancel(SfJob *job)
{
	bool		dead;
	pid_t		pid = job_worker_pid(job, &dead);

	if (pid > 0)
		(void) kill(pid, SIGINT);
	else if (pid < 0)
		TerminateBackgroundWorker(job->handle);
}

/*
 * Raise the error a job reported in its segment, after releasing the
 * launcher's hold on the job.
 */
static void
job_rethrow(SfJob *job)
{
	SfJobShared *s = job->shared;
	int			sqlerrcode = s->sqlerrcode ? s->sqlerrcode : ERRCODE_INTERNAL_ERROR;
	char	   *message = pstrdup(s->message);
	char	   *detail = s->detail[0] ? pstrdup(s->detail) : NULL;
	char	   *hint = s->hint[0] ? pstrdup(s->hint) : NULL;
	int64		jobid = job->jobid;
	char	   *kind = pstrdup(job->kind);

	dsm_detach(job->seg);
	pfree(job->handle);
	pfree(job);
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 errcontext("shardfdw job " INT64_FORMAT " (%s)", jobid, kind)));
}

/*
 * Re-raise, in the launching session, the notices and warnings the job sent
 * so far (its worker's client messages go to the job's queue): a long
 * operation's NOTICEs reach the user who waits for it.  Errors are not
 * taken from the queue: the job reports its outcome in the segment.
 */
static void
job_forward_messages(SfJob *job)
{
	while (job->queue != NULL)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result r = shm_mq_receive(job->queue, &nbytes, &data, true);
		StringInfoData msg;

		if (r == SHM_MQ_WOULD_BLOCK)
			return;
		if (r == SHM_MQ_DETACHED)
		{
			shm_mq_detach(job->queue);
			job->queue = NULL;
			return;
		}
		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		if (pq_getmsgbyte(&msg) == 'N')
		{
			ErrorData	edata;

			pq_parse_errornotice(&msg, &edata);
			if (edata.elevel < ERROR)
			{
				edata.context = edata.context ?
					psprintf("%s\nshardfdw job " INT64_FORMAT " (%s)",
							 edata.context, job->jobid, job->kind) :
					psprintf("shardfdw job " INT64_FORMAT " (%s)",
							 job->jobid, job->kind);
				ThrowErrorData(&edata);
			}
		}
		pfree(msg.data);
	}
}

/*
 * The launching session's settings, for its job (job_apply_settings).  A
 * job runs what the session asked for, so it runs with the session's
 * settings: every parameter a session can change (context user or
 * superuser) whose current value comes from the session or its connection
 * (ALTER ROLE / DATABASE ... SET, startup options, SET, SET LOCAL, a
 * function's SET clause: source PGC_S_GLOBAL or later), with the context
 * and role that set it, so the job's permission checks are the session's.
 * Left out: what the job's own process already has (postgresql.conf,
 * command line), identity and transaction state (the parameters RESET ALL
 * does not touch: role, session_authorization, transaction_*; the job
 * connects as the launcher's current user), and the connection's own
 * properties: client_encoding (a job's messages go to the launcher in the
 * database encoding) and application_name (a job outlives its session; a
 * tool that ends the session by its application_name must not end the
 * job).
 *
 * PostgreSQL's SerializeGUCState / RestoreGUCState (parallel workers) are
 * not used: they also ship session_authorization, whose restoration in a
 * worker connected as the current user fails or switches the job's user
 * after SET SESSION AUTHORIZATION followed by SET ROLE (a parallel worker
 * connects as the authenticated user and restores the whole identity
 * stack), and client_encoding and application_name, with the effects
 * above; they cannot leave a parameter out.
 *
 * Each entry: "source scontext srole" NUL name NUL value NUL.
 */
static void
job_collect_settings(StringInfo buf)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	for (i = 0; i < n; i++)
	{
		struct config_generic *g = vars[i];
		const char *value;
		char		real[64];

		if (g->context != PGC_USERSET && g->context != PGC_SUSET)
			continue;
		if (g->source < PGC_S_GLOBAL)
			continue;
		if ((g->flags & GUC_NO_RESET_ALL) ||
			strcmp(g->name, "client_encoding") == 0 ||
			strcmp(g->name, "application_name") == 0)
			continue;
		if (g->vartype == PGC_REAL)
		{
			/* GetConfigOption rounds to 6 digits */
			snprintf(real, sizeof(real), "%.17g",
					 *((struct config_real *) g)->variable);
			value = real;
		}
		else
			value = GetConfigOption(g->name, true, false);
		if (value == NULL)
			continue;
		appendStringInfo(buf, "%d %d %u", (int) g->source, (int) g->scontext,
						 g->srole);
		appendStringInfoChar(buf, '\0');
		appendStringInfoString(buf, g->name);
		appendStringInfoChar(buf, '\0');
		appendStringInfoString(buf, value);
		appendStringInfoChar(buf, '\0');
	}
}

/*
 * In the job's worker, inside a transaction (check hooks may read the
 * catalogs): apply the launcher's settings as the launcher had them.  A
 * value that no longer applies (a tablespace dropped since, say) is a
 * WARNING, which reaches the session, not a failure of the job.
 */
static void
job_apply_settings(const char *p, Size len)
{
	const char *end = p + len;

	while (p < end)
	{
		int			source;
		int			scontext;
		Oid			srole;
		const char *name;
		const char *value;

		if (sscanf(p, "%d %d %u", &source, &scontext, &srole) != 3)
			elog(ERROR, "malformed settings of a shardfdw job");
		p += strlen(p) + 1;
		name = p;
		p += strlen(p) + 1;
		value = p;
		p += strlen(p) + 1;
		(void) set_config_option_ext(name, value, (GucContext) scontext,
									 (GucSource) source, srole,
									 GUC_ACTION_SET, true, WARNING, false);
	}
}

SfJob *
sf_job_launch(const char *kind, const char *args, int64 parent_jobid)
{
	BackgroundWorker worker;
	SfJob	   *job;
	SfJobShared *shared;
	Size		size;
	Size		settings_offset;
	StringInfoData settings;
	MemoryContext old;

	if (find_kind(kind) == NULL)
		elog(ERROR, "unknown shardfdw job kind \"%s\"", kind);

	initStringInfo(&settings);
	job_collect_settings(&settings);
	settings_offset = MAXALIGN(offsetof(SfJobShared, args) + strlen(args) + 1);
	size = settings_offset + MAXALIGN(settings.len) + SF_JOB_QUEUE_SIZE;
	old = MemoryContextSwitchTo(job_context());
	job = palloc0(sizeof(SfJob));
	job->seg = dsm_create(size, 0);
	dsm_pin_mapping(job->seg);
	shared = dsm_segment_address(job->seg);
	memset(shared, 0, size);
	SpinLockInit(&shared->mutex);
	shared->dboid = MyDatabaseId;
	shared->roleid = GetUserId();
	shared->parent_jobid = parent_jobid;
	shared->launcher_latch = MyLatch;
	shared->status = SF_JOB_STARTING;
	strlcpy(shared->kind, kind, SF_JOB_KIND_LEN);
	strcpy(shared->args, args);
	shared->settings_offset = settings_offset;
	shared->settings_len = settings.len;
	memcpy((char *) shared + settings_offset, settings.data, settings.len);
	pfree(settings.data);
	shared->queue_offset = settings_offset + MAXALIGN(settings.len);
	job->shared = shared;
	{
		shm_mq	   *mq = shm_mq_create((char *) shared + shared->queue_offset,
									   SF_JOB_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		job->queue = shm_mq_attach(mq, job->seg, NULL);
	}
	strlcpy(job->kind, kind, SF_JOB_KIND_LEN);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "shardfdw");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "sf_job_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "shardfdw job %s", kind);
	snprintf(worker.bgw_type, BGW_MAXLEN, "shardfdw job");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(job->seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &job->handle))
	{
		dsm_detach(job->seg);
		pfree(job);
		MemoryContextSwitchTo(old);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for a shardfdw %s job", kind),
				 errdetail("Every background worker slot of the coordinator is in use."),
				 errhint("Raise max_worker_processes on the coordinator, or run fewer operations at a time.")));
	}
	MemoryContextSwitchTo(old);

	/*
	 * Wait until the worker has committed the job's row.  A cancel stays
	 * pending meanwhile: the job runs from its first moments, so the cancel
	 * is for whoever waits for it next (sf_job_wait_outcome passes it on and
	 * reports what the job did; an error here could report a failure for a
	 * job that completed).  The wait is short; termination still ends it.
	 */
	HOLD_CANCEL_INTERRUPTS();
	PG_TRY();
	{
		for (;;)
		{
			SfJobStatus status;
			bool		dead;

			SpinLockAcquire(&shared->mutex);
			status = shared->status;
			job->jobid = shared->jobid;
			SpinLockRelease(&shared->mutex);
			job_forward_messages(job);
			if (job->jobid != 0 || status == SF_JOB_FAILED)
				break;
			if (job_worker_pid(job, &dead) == 0)
			{
				/* the worker may have finished between both checks */
				SpinLockAcquire(&shared->mutex);
				status = shared->status;
				job->jobid = shared->jobid;
				SpinLockRelease(&shared->mutex);
				if (job->jobid != 0 || status == SF_JOB_FAILED)
					break;
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("background worker of a shardfdw %s job exited before starting the job", kind),
						 errhint("See the coordinator's server log.")));
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 SF_JOB_POLL_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		RESUME_CANCEL_INTERRUPTS();
		job_signal_cancel(job);
		PG_RE_THROW();
	}
	PG_END_TRY();
	RESUME_CANCEL_INTERRUPTS();

	if (job->jobid == 0)
	{
		/* failed before its row existed (e.g. the role cannot log in) */
		job_rethrow(job);
	}
	return job;
}

int64
sf_job_id(SfJob *job)
{
	return job->jobid;
}

bool
sf_job_finished(SfJob *job)
{
	bool		dead;

	job_forward_messages(job);
	return job_worker_pid(job, &dead) == 0;
}

void
sf_job_detach(SfJob *job)
{
	/* a cancel of the launching statement (see sf_job_launch) is the job's */
	if (QueryCancelPending)
		job_signal_cancel(job);
	SpinLockAcquire(&job->shared->mutex);
	job->shared->launcher_latch = NULL;
	SpinLockRelease(&job->shared->mutex);
	job->detached = true;
	/* nobody reads its notices any more: the job's sends stop */
	if (job->queue)
		shm_mq_detach(job->queue);
	job->queue = NULL;
	/* the worker's own mapping keeps the segment alive */
	dsm_detach(job->seg);
	job->seg = NULL;
	job->shared = NULL;
}

bool
sf_job_wait(SfJob *job, bool rethrow)
{
	return job_wait(job, rethrow, false);
}

void
sf_job_wait_outcome(SfJob *job)
{
	(void) job_wait(job, true, true);
}

static bool
job_wait(SfJob *job, bool rethrow, bool outcome_on_cancel)
{
	SfJobStatus status;
	bool		cancel_passed_on = false;
	bool		held = false;

	/*
	 * Waiting for the outcome, a cancel is handled here, not wherever an
	 * interrupt check comes (a forwarded NOTICE is one): the first is passed
	 * on to the job, a second one ends the wait.
	 */
	if (outcome_on_cancel)
	{
		HOLD_CANCEL_INTERRUPTS();
		held = true;
	}
	PG_TRY();
	{
		for (;;)
		{
			bool		dead;

			job_forward_messages(job);
			if (job_worker_pid(job, &dead) == 0)
			{
				/* what it sent before exiting */
				job_forward_messages(job);
				if (dead)
					ereport(FATAL,
							(errcode(ERRCODE_ADMIN_SHUTDOWN),
							 errmsg("postmaster exited during a shardfdw job")));
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 SF_JOB_POLL_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (held && QueryCancelPending)
			{
				if (!cancel_passed_on && !job->detached)
				{
					/* the job decides: it undoes its work, or it is too late */
					QueryCancelPending = false;
					cancel_passed_on = true;
					job_signal_cancel(job);
				}
				else
				{
					held = false;
					RESUME_CANCEL_INTERRUPTS();
				}
			}
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		if (held)
			RESUME_CANCEL_INTERRUPTS();
		if (!job->detached)
			job_signal_cancel(job);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (held)
		RESUME_CANCEL_INTERRUPTS();

	SpinLockAcquire(&job->shared->mutex);
	status = job->shared->status;
	SpinLockRelease(&job->shared->mutex);

	if (status == SF_JOB_SUCCEEDED && cancel_passed_on)
		ereport(WARNING,
				(errmsg("shardfdw %s job " INT64_FORMAT " completed: the cancel request came too late to stop it",
						job->kind, job->jobid),
				 errdetail("The job had already done what cannot be undone (such as the cutover of a move or a split).")));
	if (status == SF_JOB_SUCCEEDED)
	{
		dsm_detach(job->seg);
		pfree(job->handle);
		pfree(job);
		return true;
	}
	if (!rethrow)
	{
		dsm_detach(job->seg);
		pfree(job->handle);
		pfree(job);
		return false;
	}
	if (status == SF_JOB_FAILED)
		job_rethrow(job);
	{
		int64		jobid = job->jobid;
		char	   *kind = pstrdup(job->kind);

		dsm_detach(job->seg);
		pfree(job->handle);
		pfree(job);
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("shardfdw job " INT64_FORMAT " (%s) was terminated", jobid, kind),
				 errdetail("Its background worker exited before the job finished."),
				 errhint("Run shardfdw_cleanup_orphaned_resources() to remove what it left behind, then retry.")));
	}
	return false;				/* keep compiler quiet */
}

/* is pid a live backend (any kind of process with a PGPROC)? */
static bool
pid_alive(int pid)
{
	return pid > 0 && BackendPidGetProc(pid) != NULL;
}

bool
sf_job_wait_id(int64 jobid, bool rethrow)
{
	bool		recheck = false;

	for (;;)
	{
		Datum		arg = Int64GetDatum(jobid);
		Oid			argtype = INT8OID;
		char	   *state;
		int			pid;
		bool		isnull;

		SPI_connect();
		if (SPI_execute_with_args("SELECT state, pid, error_sqlstate, error_message,"
								  " error_detail, error_hint, kind"
								  " FROM shardfdw.job WHERE jobid = $1",
								  1, &argtype, &arg, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read shardfdw.job");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("shardfdw job " INT64_FORMAT " does not exist", jobid)));
		state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		if (isnull)
			pid = 0;
		/*
		 * A job that ended after the row was read and whose worker has
		 * exited since looks interrupted: read the row again (a new
		 * snapshot, taken after the worker's commit) before saying so.
		 */
		if (strcmp(state, "running") == 0 && !pid_alive(pid) && !recheck)
		{
			recheck = true;
			SPI_finish();
			continue;
		}
		recheck = false;
		if (strcmp(state, "running") != 0 || !pid_alive(pid))
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *sqlstate = SPI_getvalue(tup, desc, 3);
			char	   *message = SPI_getvalue(tup, desc, 4);
			char	   *detail = SPI_getvalue(tup, desc, 5);
			char	   *hint = SPI_getvalue(tup, desc, 6);
			char	   *kind = SPI_getvalue(tup, desc, 7);
			bool		ok = strcmp(state, "done") == 0;

			if (ok || !rethrow)
			{
				SPI_finish();
				return ok;
			}
			if (strcmp(state, "running") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_ADMIN_SHUTDOWN),
						 errmsg("shardfdw job " INT64_FORMAT " (%s) was interrupted", jobid, kind),
						 errdetail("Its background worker exited before the job finished."),
						 errhint("Run shardfdw_cleanup_orphaned_resources() to remove what it left behind, then retry.")));
			if (strcmp(state, "cancelled") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("shardfdw job " INT64_FORMAT " (%s) was cancelled", jobid, kind),
						 errdetail("It undid its unfinished work before it stopped.")));
			ereport(ERROR,
					(errcode(sqlstate && strlen(sqlstate) == 5 ?
							 MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
										   sqlstate[3], sqlstate[4]) :
							 ERRCODE_INTERNAL_ERROR),
					 errmsg("%s", message ? message : "shardfdw job failed"),
					 detail ? errdetail("%s", detail) : 0,
					 hint ? errhint("%s", hint) : 0,
					 errcontext("shardfdw job " INT64_FORMAT " (%s), %s", jobid, kind, state)));
		}
		SPI_finish();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 SF_JOB_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

bool
sf_job_cancel(int64 jobid)
{
	Datum		arg = Int64GetDatum(jobid);
	Oid			argtype = INT8OID;
	bool		isnull;
	int			pid = 0;
	bool		sent = false;

	SPI_connect();
	if (SPI_execute_with_args("SELECT pid FROM shardfdw.job"
							  " WHERE jobid = $1 AND state = 'running'",
							  1, &argtype, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read shardfdw.job");
	if (SPI_processed == 1)
	{
		pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			pid = 0;
	}
	if (pid_alive(pid))
	{
		Datum		parg = Int32GetDatum(pid);
		Oid			ptype = INT4OID;

		/* pg_cancel_backend checks that we may signal the job's role */
		if (SPI_execute_with_args("SELECT pg_catalog.pg_cancel_backend($1)",
								  1, &ptype, &parg, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not cancel shardfdw job");
		sent = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return sent;
}

int64
sf_current_job_id(void)
{
	return current_jobid;
}

/*
 * Run sql with arguments on the job's row as the bootstrap superuser: the
 * catalog of shardfdw is writable by its owner only, and a job runs as
 * whoever launched it.
 */
static void
job_row_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	Oid			saved_userid;
	int			saved_sec;

	GetUserIdAndSecContext(&saved_userid, &saved_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	if (SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0) < 0)
		elog(ERROR, "could not update shardfdw.job");
	SPI_finish();
	SetUserIdAndSecContext(saved_userid, saved_sec);
}

void
sf_job_report(const char *phase, const char *detail)
{
	bool		own = !IsTransactionState();
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (current_jobid == 0)
		return;
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("shardfdw job " INT64_FORMAT " %s: %s%s%s",
									current_jobid, current_kind, phase,
									detail ? " " : "", detail ? detail : ""));
	values[0] = Int64GetDatum(current_jobid);
	values[1] = CStringGetTextDatum(phase);
	if (detail)
		values[2] = CStringGetTextDatum(detail);
	else
		nulls[2] = 'n';
	if (own)
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	job_row_exec("UPDATE shardfdw.job SET phase = $2, detail = $3 WHERE jobid = $1",
				 3, types, values, nulls);
	if (own)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
}

/* insert the job's row in a transaction of its own; returns the job id */
static int64
job_insert_row(SfJobShared *shared, const char *kind, const char *args)
{
	Oid			types[5] = {TEXTOID, TEXTOID, INT8OID, OIDOID, INT4OID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	Oid			saved_userid;
	int			saved_sec;
	bool		isnull;
	int64		jobid;

	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(args);
	values[2] = Int64GetDatum(shared->parent_jobid);
	if (shared->parent_jobid == 0)
		nulls[2] = 'n';
	values[3] = ObjectIdGetDatum(shared->roleid);
	values[4] = Int32GetDatum(MyProcPid);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!OidIsValid(get_extension_oid("shardfdw", true)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"shardfdw\" is not installed in this database")));
	GetUserIdAndSecContext(&saved_userid, &saved_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO shardfdw.job (kind, args, parent_jobid, owner, pid)"
							  " VALUES ($1, $2, $3, $4, $5) RETURNING jobid",
							  5, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into shardfdw.job");
	jobid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	SetUserIdAndSecContext(saved_userid, saved_sec);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return jobid;
}

/* record the end of the job in its row, in a transaction of its own */
static void
job_finish_row(int64 jobid, const char *state, ErrorData *edata)
{
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', 'n', 'n', 'n', 'n'};

	values[0] = Int64GetDatum(jobid);
	values[1] = CStringGetTextDatum(state);
	if (edata)
	{
		values[2] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
		nulls[2] = ' ';
		if (edata->message)
		{
			values[3] = CStringGetTextDatum(edata->message);
			nulls[3] = ' ';
		}
		if (edata->detail)
		{
			values[4] = CStringGetTextDatum(edata->detail);
			nulls[4] = ' ';
		}
		if (edata->hint)
		{
			values[5] = CStringGetTextDatum(edata->hint);
			nulls[5] = ' ';
		}
	}
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	job_row_exec("UPDATE shardfdw.job SET state = $2, finished_at = pg_catalog.clock_timestamp(),"
				 " error_sqlstate = $3, error_message = $4, error_detail = $5,"
				 " error_hint = $6 WHERE jobid = $1",
				 6, types, values, nulls);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
job_wake_launcher(SfJobShared *shared)
{
	SpinLockAcquire(&shared->mutex);
	if (shared->launcher_latch)
		SetLatch(shared->launcher_latch);
	SpinLockRelease(&shared->mutex);
}

/*
 * Entry point of a job's background worker.
 */
void
sf_job_main(Datum main_arg)
{
	dsm_segment *seg;
	SfJobShared *shared;
	Oid			dboid;
	Oid			roleid;
	char	   *kind;
	char	   *args;
	SfJobFunction function;
	MemoryContext cxt;
	volatile int64 jobid = 0;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* a mapping without resource owner lives until the process exits */
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of a shardfdw job")));
	shared = dsm_segment_address(seg);

	/* the job's notices go to the launcher (errors travel in the segment) */
	{
		shm_mq	   *mq = (shm_mq *) ((char *) shared + shared->queue_offset);

		shm_mq_set_sender(mq, MyProc);
		pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));
	}

	cxt = AllocSetContextCreate(TopMemoryContext, "shardfdw job",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	dboid = shared->dboid;
	roleid = shared->roleid;
	kind = pstrdup(shared->kind);
	args = pstrdup(shared->args);
	current_kind = kind;

	BackgroundWorkerInitializeConnectionByOid(dboid, roleid, 0);

	PG_TRY();
	{
		function = find_kind(kind);
		if (function == NULL)
			elog(ERROR, "unknown shardfdw job kind \"%s\"", kind);

		jobid = job_insert_row(shared, kind, args);
		current_jobid = jobid;
		SpinLockAcquire(&shared->mutex);
		shared->jobid = jobid;
		shared->status = SF_JOB_RUNNING;
		SpinLockRelease(&shared->mutex);
		job_wake_launcher(shared);

		/* the launching session's settings (job_collect_settings) */
		StartTransactionCommand();
		job_apply_settings((char *) shared + shared->settings_offset,
						   shared->settings_len);
		CommitTransactionCommand();

		pgstat_report_activity(STATE_RUNNING,
							   psprintf("shardfdw job " INT64_FORMAT " %s %s",
										jobid, kind, args));
		MemoryContextSwitchTo(cxt);
		function(jobid, args);

		/*
		 * The job did its work: a cancel arriving now came too late, and
		 * must not make the bookkeeping fail (the launcher would report a
		 * failure for a job that completed).
		 */
		HOLD_CANCEL_INTERRUPTS();
		/* a job that left its transaction open gets it committed */
		if (IsTransactionState())
		{
			if (ActiveSnapshotSet())
				PopActiveSnapshot();
			CommitTransactionCommand();
		}
		job_finish_row(jobid, "done", NULL);
		SpinLockAcquire(&shared->mutex);
		shared->status = SF_JOB_SUCCEEDED;
		SpinLockRelease(&shared->mutex);
		QueryCancelPending = false;
		RESUME_CANCEL_INTERRUPTS();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		ereport(LOG,
				(errmsg("shardfdw job " INT64_FORMAT " (%s %s) failed: %s",
						jobid, kind, args, edata->message)));

		SpinLockAcquire(&shared->mutex);
		shared->sqlerrcode = edata->sqlerrcode;
		strlcpy(shared->message, edata->message ? edata->message : "", SF_JOB_TEXT_LEN);
		strlcpy(shared->detail, edata->detail ? edata->detail : "", SF_JOB_TEXT_LEN);
		strlcpy(shared->hint, edata->hint ? edata->hint : "", SF_JOB_TEXT_LEN);
		shared->status = SF_JOB_FAILED;
		SpinLockRelease(&shared->mutex);

		if (jobid != 0)
			job_finish_row(jobid,
						   edata->sqlerrcode == ERRCODE_QUERY_CANCELED ?
						   "cancelled" : "failed", edata);
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	job_wake_launcher(shared);
	proc_exit(0);
}

/*
 * The "test" kind: args "sleep=<ms> fail=<0|1> report=<0|1> notice=<n>
 * show=<parameter>,<parameter>...".  Exercises the runner in tests: success,
 * errors with detail and hint, cancellation while sleeping, progress
 * reports, the settings a job runs with (a NOTICE per parameter shown).
 */
static void
sf_test_job(int64 jobid, const char *args)
{
	int			sleep_ms = 0;
	int			fail = 0;
	int			report = 0;
	const char *p;

	if ((p = strstr(args, "sleep=")) != NULL)
		sleep_ms = atoi(p + 6);
	if ((p = strstr(args, "fail=")) != NULL)
		fail = atoi(p + 5);
	if ((p = strstr(args, "report=")) != NULL)
		report = atoi(p + 7);

	if ((p = strstr(args, "show=")) != NULL)
	{
		char	   *names = pstrdup(p + 5);
		char	   *name;

		names[strcspn(names, " ")] = '\0';
		for (name = strtok(names, ","); name != NULL; name = strtok(NULL, ","))
		{
			const char *value = GetConfigOption(name, true, false);

			ereport(NOTICE,
					(errmsg("test job setting %s = %s", name,
							value ? value : "(not set)")));
		}
	}
	if (report)
		sf_job_report("sleeping", psprintf("%d ms", sleep_ms));
	while (sleep_ms > 0)
	{
		int			step = Min(sleep_ms, 50);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 step, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		sleep_ms -= step;
	}
	if ((p = strstr(args, "notice=")) != NULL && atoi(p + 7) > 0)
	{
		int			i;

		for (i = 0; i < atoi(p + 7); i++)
			ereport(NOTICE,
					(errmsg("test job notice %d", i + 1),
					 errdetail("Notices of a job reach the session that waits for it.")));
		ereport(WARNING, (errmsg("test job warning")));
	}
	if (fail)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("test job failed as asked"),
				 errdetail("The arguments were \"%s\".", args),
				 errhint("Do not pass fail=1.")));
	if (report)
		sf_job_report("done", NULL);
}

/*
 * shardfdw.run_test_job(args text, wait boolean) RETURNS bigint: launch a
 * "test" job (superuser only; for the runner's own tests).
 */
Datum
shardfdw_run_test_job(PG_FUNCTION_ARGS)
{
	char	   *args = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		wait = PG_GETARG_BOOL(1);
	SfJob	   *job;
	int64		jobid;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may run test jobs")));
	if (wait)
		sf_job_refuse_transaction_block("shardfdw.run_test_job");
	job = sf_job_launch("test", args, 0);
	jobid = sf_job_id(job);
	if (wait)
		(void) sf_job_wait(job, true);
	else
		sf_job_detach(job);
	PG_RETURN_INT64(jobid);
}

/*
 * shardfdw.job_wait(job_id bigint) RETURNS void: wait for a job launched
 * by any session; raises its error if it failed.
 */
Datum
shardfdw_job_wait(PG_FUNCTION_ARGS)
{
	(void) sf_job_wait_id(PG_GETARG_INT64(0), true);
	PG_RETURN_VOID();
}

/*
 * shardfdw.job_cancel(job_id bigint) RETURNS boolean: cancel a running job
 * (same permission as pg_cancel_backend on its worker).
 */
Datum
shardfdw_job_cancel(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(sf_job_cancel(PG_GETARG_INT64(0)));
}
