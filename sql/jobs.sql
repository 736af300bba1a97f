--
-- The job runner: operations that run in background workers.
--
\set SHOW_CONTEXT never
-- (earlier tests run jobs too: job ids in the messages below start at 1001)
SELECT setval('shardfdw.job_jobid_seq', 1000) AS first_job_id_here_minus_one;

-- a job runs, and its row says so
SELECT shardfdw.run_test_job('sleep=10 report=1') > 0 AS ran;
SELECT kind, args, state, phase, detail, owner = current_user::regrole AS own,
       error_message IS NULL AS no_error, finished_at IS NOT NULL AS finished
  FROM shardfdw.jobs ORDER BY jobid DESC LIMIT 1;

-- its notices and warnings reach the waiting session, also when there are
-- more than its queue holds at once
SELECT shardfdw.run_test_job('notice=2') > 0 AS ran;
SET client_min_messages = warning;
SELECT shardfdw.run_test_job('notice=3') > 0 AS ran;
SELECT shardfdw.run_test_job('notice=3000') > 0 AS ran;
RESET client_min_messages;
SELECT state FROM shardfdw.jobs ORDER BY jobid DESC LIMIT 1;
-- a detached job's notices go nowhere, and do not stop it
SELECT shardfdw.run_test_job('sleep=200 notice=3000', false) AS quiet_job \gset
SELECT shardfdw.job_wait(:quiet_job);

-- its error comes back with SQLSTATE, detail and hint
SELECT shardfdw.run_test_job('fail=1');
SELECT state, error_sqlstate, error_message FROM shardfdw.jobs
 ORDER BY jobid DESC LIMIT 1;

-- jobs that wait cannot run inside a transaction block
BEGIN;
SELECT shardfdw.run_test_job('sleep=1');
ROLLBACK;

-- cancelling the waiting session cancels the job
SET statement_timeout = '300ms';
SELECT shardfdw.run_test_job('sleep=60000');
RESET statement_timeout;
SELECT max(jobid) AS cancelled_job FROM shardfdw.job \gset
SELECT shardfdw.job_wait(:cancelled_job);
SELECT state, error_sqlstate FROM shardfdw.jobs WHERE jobid = :cancelled_job;

-- a detached job outlives the statement; others can wait for it or stop it
SELECT shardfdw.run_test_job('sleep=200', false) AS bg_job \gset
SELECT state FROM shardfdw.jobs WHERE jobid = :bg_job;
SELECT shardfdw.job_wait(:bg_job);
SELECT state FROM shardfdw.jobs WHERE jobid = :bg_job;

SELECT shardfdw.run_test_job('sleep=60000', false) AS long_job \gset
SELECT shardfdw.job_cancel(:long_job) AS cancel_sent;
SELECT shardfdw.job_wait(:long_job);
SELECT state FROM shardfdw.jobs WHERE jobid = :long_job;
SELECT shardfdw.job_cancel(:long_job) AS cancel_sent_again;

-- a failed detached job's error reaches whoever waits
SELECT shardfdw.run_test_job('sleep=10 fail=1', false) AS failing_job \gset
SELECT shardfdw.job_wait(:failing_job);
SELECT shardfdw.job_wait(-1);

-- a terminated job shows as interrupted
SELECT shardfdw.run_test_job('sleep=60000', false) AS killed_job \gset
SELECT pg_terminate_backend(pid) FROM shardfdw.job WHERE jobid = :killed_job;
SELECT shardfdw.job_wait(:killed_job);
SELECT state FROM shardfdw.jobs WHERE jobid = :killed_job;

-- test jobs are for superusers only
CREATE ROLE jobs_user;
SET ROLE jobs_user;
SELECT shardfdw.run_test_job('sleep=1');
RESET ROLE;
DROP ROLE jobs_user;

-- a job runs with the settings of the session that launched it (SET, SET
-- LOCAL, a function's SET clause, custom parameters, units), not
-- with its application_name
SET shardfdw.test_fault_sleep = 1234;
SET search_path = public, shardfdw, pg_catalog;
SET TimeZone = 'Asia/Tokyo';
SET cursor_tuple_fraction = 0.25;
SET work_mem = '7MB';
SET application_name = 'jobs_test';
SELECT shardfdw.run_test_job('show=shardfdw.test_fault_sleep,search_path,TimeZone,cursor_tuple_fraction,work_mem,application_name') > 0 AS ran;
CREATE FUNCTION jobs_show_in_function() RETURNS boolean
  SET shardfdw.test_fault_sleep = 77
  LANGUAGE sql AS $$ SELECT shardfdw.run_test_job('show=shardfdw.test_fault_sleep') > 0 $$;
SELECT jobs_show_in_function() AS ran;
DROP FUNCTION jobs_show_in_function();
RESET shardfdw.test_fault_sleep;
RESET search_path;
RESET TimeZone;
RESET cursor_tuple_fraction;
RESET work_mem;
RESET application_name;
SELECT shardfdw.run_test_job('show=shardfdw.test_fault_sleep,cursor_tuple_fraction') > 0 AS ran;
