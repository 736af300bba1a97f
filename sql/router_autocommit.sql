--
-- router_autocommit: a top-level autocommit statement pinned to one shard
-- runs in the worker's own implicit transaction (one round trip); every
-- other case keeps a remote transaction that commits or aborts with the
-- local one.  Each case checks what the workers really hold.
--
-- shard ids depend on the tests that ran before: show error codes only
\set VERBOSITY sqlstate
CREATE SCHEMA ac;
SET search_path = ac, public;
CREATE TABLE ac_t (k int PRIMARY KEY, v int NOT NULL);
SELECT create_distributed_table('ac_t', 'k', shard_count => 4);

-- rows of ac_t as the workers see them (outside this session's transaction)
CREATE FUNCTION worker_rows() RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(result::bigint) FROM run_command_on_workers($q$
    SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM ac.%I', tablename),
             false, true, '')))[1]::text::int), 0)
      FROM pg_tables WHERE schemaname = 'ac' AND tablename ~ '^ac_t_[0-9]+$'$q$)
$$;

-- the single-statement path: committed on the worker at once
INSERT INTO ac_t VALUES (1, 1);
SELECT worker_rows();
SELECT * FROM ac_t WHERE k = 1;

-- a function running two routed statements: the second fails, so the
-- first must not survive on the worker
CREATE FUNCTION two_inserts(key int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ac_t VALUES (key, 1);
  INSERT INTO ac_t VALUES (key, 2);
END $$;
SELECT two_inserts(2);
SELECT worker_rows();

-- a multi-statement query string is one implicit transaction
INSERT INTO ac_t VALUES (3, 1) \; INSERT INTO ac_t VALUES (3, 2);
SELECT worker_rows();

-- an explicit transaction block, rolled back
BEGIN;
INSERT INTO ac_t VALUES (4, 1);
SELECT * FROM ac_t WHERE k = 4;
ROLLBACK;
SELECT worker_rows();

-- a failing autocommit statement leaves nothing
INSERT INTO ac_t VALUES (1, 9);
UPDATE ac_t SET v = NULL WHERE k = 1;
SELECT * FROM ac_t WHERE k = 1;

-- the connection stays usable after those errors, in and out of blocks
BEGIN;
UPDATE ac_t SET v = v + 1 WHERE k = 1;
SELECT * FROM ac_t WHERE k = 1;
COMMIT;
SELECT * FROM ac_t WHERE k = 1;

-- a statement cancelled by statement_timeout (pg_sleep is volatile, so this
-- one runs on the FDW path) leaves nothing running on the worker, and the
-- next statement works
SET statement_timeout = '200ms';
SELECT count(*) FROM ac_t WHERE k = 1 AND pg_catalog.pg_sleep(2) IS NOT NULL;
RESET statement_timeout;
SELECT count(*) FROM run_command_on_workers($$SELECT count(*) FROM pg_stat_activity
  WHERE query LIKE '%pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()$$)
 WHERE result <> '0';
SELECT * FROM ac_t WHERE k = 1;

-- upserts run whole on the shard that holds the unique index
INSERT INTO ac_t VALUES (1, 5) ON CONFLICT (k) DO UPDATE SET v = ac_t.v + excluded.v RETURNING *;
INSERT INTO ac_t VALUES (7, 5) ON CONFLICT (k) DO UPDATE SET v = ac_t.v + excluded.v RETURNING *;
INSERT INTO ac_t VALUES (7, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE ac_t.v > 100;
PREPARE upsert(int, int) AS
  INSERT INTO ac_t VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
EXECUTE upsert(7, 70);
EXECUTE upsert(8, 80);
SELECT * FROM ac_t WHERE k IN (1, 7, 8) ORDER BY k;
-- rows for several shards: one statement per shard, each checked against
-- its shard's index (test insert_multi_shard); RETURNING in VALUES order
-- (DO NOTHING: a statement per row, conflicting ones return nothing)
INSERT INTO ac_t VALUES (1, 0), (2, 0) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
INSERT INTO ac_t VALUES (1, 0), (2, 0) ON CONFLICT (k) DO NOTHING;
INSERT INTO ac_t VALUES (1, 0), (2, 0) ON CONFLICT (k) DO NOTHING RETURNING k;
INSERT INTO ac_t VALUES (9, 0), (2, 0), (10, 0) ON CONFLICT (k) DO NOTHING RETURNING k;
INSERT INTO ac_t VALUES (10, 1), (2, 1), (9, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING k, v;
-- without a conflict target the FDW path handles several shards
INSERT INTO ac_t VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING;
SELECT * FROM ac_t WHERE k IN (1, 2) ORDER BY k;

SET client_min_messages = warning;
DROP SCHEMA ac CASCADE;
