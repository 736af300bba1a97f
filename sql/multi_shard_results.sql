--
-- multi_shard_results: the rows and row counts of multi-shard statements
-- (router.c), compared with a local copy of the same table: a result of
-- several megabytes from each worker (the workers' results are read as
-- they arrive, from all of them at once), a worker's error in the middle
-- of its rows (the statement fails with the worker's message; the other
-- connections stay usable, in and out of transaction blocks), multi-shard
-- DML (one statement per shard, in rounds per worker) and its row counts,
-- LIMIT and a cursor read in parts with other statements on the same
-- connections in between.
-- Results are captured with CREATE TABLE AS (the SELECT is planned as at
-- the top level) and compared with EXCEPT ALL both ways.
--
SET client_min_messages = warning;
CREATE SCHEMA msr_dist;
CREATE SCHEMA msr_local;
CREATE TABLE msr_dist.t (id bigint PRIMARY KEY, k int, v text, n numeric);
SELECT create_distributed_table('msr_dist.t', 'id', shard_count => 8);
CREATE TABLE msr_local.t (id bigint PRIMARY KEY, k int, v text, n numeric);
INSERT INTO msr_local.t
SELECT g, g % 100, repeat(md5(g::text), 3),
       CASE WHEN g % 7 = 0 THEN NULL ELSE g / 3.0 END
FROM generate_series(1, 100000) g;
INSERT INTO msr_dist.t SELECT * FROM msr_local.t;

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

-- rows of got missing from want, and rows of want missing from got
CREATE FUNCTION pg_temp.differences(got text, want text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    extra bigint;
    missing bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d', got, want)
        INTO extra;
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d', want, got)
        INTO missing;
    RETURN format('%s extra, %s missing', extra, missing);
END
$$;

-- the row count of a statement
CREATE FUNCTION pg_temp.row_count(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE q;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- fetch up to n rows of cursor c into msr_fetched; the number fetched
CREATE TEMP TABLE msr_fetched (id bigint, v text);
CREATE FUNCTION pg_temp.fetch_into(c refcursor, n int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    got int := 0;
BEGIN
    WHILE got < n LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        INSERT INTO msr_fetched VALUES (r.id, r.v);
        got := got + 1;
    END LOOP;
    RETURN got;
END
$$;

--
-- A large result from every worker (100000 rows, about 12 MB)
--
SELECT pg_temp.strategy_tasks('SELECT * FROM t', 'msr_dist, public');
SELECT pg_temp.row_count('CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t');
SELECT count(*) FROM msr_got;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- expressions, a filter
CREATE TEMP TABLE msr_got AS SELECT id, v || v AS vv, n * 2 AS n2 FROM msr_dist.t WHERE k < 50;
CREATE TEMP TABLE msr_want AS SELECT id, v || v AS vv, n * 2 AS n2 FROM msr_local.t WHERE k < 50;
SELECT count(*) FROM msr_got;
SELECT pg_temp.differences('msr_got', 'msr_want');
DROP TABLE msr_got, msr_want;
-- inside a transaction block (a remote transaction on every worker)
BEGIN;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
COMMIT;
DROP TABLE msr_got;

--
-- A worker's error in the middle of its rows
--
\set VERBOSITY terse
SELECT id, 1 / (id - 77777) FROM msr_dist.t;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- in a transaction block: the block fails, the connections stay usable
BEGIN;
SELECT count(*) FROM msr_dist.t WHERE k = 1;
SELECT id, 1 / (id - 77777) FROM msr_dist.t;
SELECT 1;
ROLLBACK;
SELECT count(*) FROM msr_dist.t WHERE k = 1;
-- in a savepoint: rolled back to it, the transaction's writes stay
BEGIN;
UPDATE msr_dist.t SET k = -1 WHERE id = 5;
SAVEPOINT s;
SELECT id, 1 / (id - 77777) FROM msr_dist.t;
ROLLBACK TO SAVEPOINT s;
SELECT k FROM msr_dist.t WHERE id = 5;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t WHERE id <> 5;
SELECT count(*) FROM msr_got;
ROLLBACK;
SELECT k FROM msr_dist.t WHERE id = 5;
DROP TABLE IF EXISTS msr_got;
\set VERBOSITY default

--
-- Multi-shard DML: one statement per shard, in rounds (4 shards per
-- worker); the row counts add up
--
SELECT pg_temp.strategy_tasks('UPDATE t SET n = n + 1 WHERE k = 3', 'msr_dist, public');
SELECT pg_temp.row_count('UPDATE msr_dist.t SET n = n + 1 WHERE k = 3');
SELECT pg_temp.row_count('UPDATE msr_local.t SET n = n + 1 WHERE k = 3');
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- RETURNING many rows
CREATE TEMP TABLE msr_ret_dist (id bigint, k int, v text, n numeric);
CREATE TEMP TABLE msr_ret_local (id bigint, k int, v text, n numeric);
WITH d AS (DELETE FROM msr_local.t WHERE k IN (4, 5) RETURNING *)
INSERT INTO msr_ret_local SELECT * FROM d;
CREATE FUNCTION pg_temp.delete_returning() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint := 0;
BEGIN
    FOR r IN DELETE FROM msr_dist.t WHERE k IN (4, 5) RETURNING * LOOP
        INSERT INTO msr_ret_dist VALUES (r.id, r.k, r.v, r.n);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
SELECT pg_temp.strategy_tasks('DELETE FROM t WHERE k IN (4, 5) RETURNING *', 'msr_dist, public');
SELECT pg_temp.delete_returning();
SELECT pg_temp.differences('msr_ret_dist', 'msr_ret_local');
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- a DML error in some shard: nothing changes anywhere
\set VERBOSITY terse
UPDATE msr_dist.t SET k = 1 / (id - 77777);
\set VERBOSITY default
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- in a transaction block, with a read in between
BEGIN;
SELECT pg_temp.row_count('UPDATE msr_dist.t SET v = upper(v) WHERE k BETWEEN 10 AND 19');
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.row_count('DELETE FROM msr_dist.t WHERE k = 11');
COMMIT;
BEGIN;
SELECT pg_temp.row_count('UPDATE msr_local.t SET v = upper(v) WHERE k BETWEEN 10 AND 19');
CREATE TEMP TABLE msr_want AS SELECT * FROM msr_local.t;
SELECT pg_temp.row_count('DELETE FROM msr_local.t WHERE k = 11');
COMMIT;
SELECT pg_temp.differences('msr_got', 'msr_want');
DROP TABLE msr_got, msr_want;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;

--
-- LIMIT: the scan ends before its last row
--
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t LIMIT 10;
SELECT count(*) FROM msr_got;
SELECT pg_temp.differences('msr_got', '(SELECT * FROM msr_local.t WHERE id IN (SELECT id FROM msr_got)) l');
DROP TABLE msr_got;
SELECT id, k, n FROM msr_dist.t ORDER BY v DESC, id LIMIT 3;
SELECT id, k, n FROM msr_local.t ORDER BY v DESC, id LIMIT 3;
-- a multi-shard statement on one worker, the whole transaction there
-- (the worker's implicit transaction): ids of two shards of one worker
CREATE FUNCTION pg_temp.one_worker_ids() RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    node text;
    shard text;
    first_id bigint;
    first_node text;
    first_shard text;
BEGIN
    FOR i IN 1..1000 LOOP
        FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT * FROM msr_dist.t WHERE id = %s', i) LOOP
            IF line ~ 'Node: ' THEN
                node := substring(line from 'Node: (\S+)');
            ELSIF line ~ 'FROM msr_dist\.t_' THEN
                shard := substring(line from 'FROM msr_dist\.(t_\d+)');
            END IF;
        END LOOP;
        IF first_id IS NULL THEN
            first_id := i;
            first_node := node;
            first_shard := shard;
        ELSIF node = first_node AND shard <> first_shard THEN
            RETURN ARRAY[first_id, i];
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
SELECT pg_temp.one_worker_ids() AS ids \gset
SELECT pg_temp.strategy_tasks(format('SELECT * FROM t WHERE id = ANY (%L)', :'ids'), 'msr_dist, public');
SELECT id = ANY (:'ids') AS listed FROM msr_dist.t WHERE id = ANY (:'ids') LIMIT 1;
SELECT count(*) FROM msr_dist.t WHERE id = ANY (:'ids');
SELECT id = ANY (:'ids') AS listed, length(v) FROM msr_dist.t WHERE id = ANY (:'ids') LIMIT 1;
BEGIN;
SELECT id = ANY (:'ids') AS listed FROM msr_dist.t WHERE id = ANY (:'ids') LIMIT 1;
SELECT count(*) FROM msr_dist.t WHERE id = ANY (:'ids');
COMMIT;
-- the following statements use the same connections
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
BEGIN;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t LIMIT 1;
UPDATE msr_dist.t SET n = 0 WHERE k = 7;
SELECT count(*) FROM msr_dist.t WHERE n = 0;
ROLLBACK;

--
-- A cursor read in parts, other statements on the same connections in
-- between
--
-- (rows kept meanwhile spill to disk beyond work_mem)
SET work_mem = '64kB';
BEGIN;
DECLARE msr_c CURSOR FOR SELECT id, v FROM msr_dist.t WHERE k < 30;
SELECT pg_temp.fetch_into('msr_c', 5);
SELECT count(*) FROM msr_dist.t WHERE k < 30;
UPDATE msr_dist.t SET v = 'changed' WHERE id = 1;
SELECT pg_temp.fetch_into('msr_c', 1000);
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t WHERE k < 30;
SELECT pg_temp.fetch_into('msr_c', 100000);
SELECT pg_temp.fetch_into('msr_c', 1);
CLOSE msr_c;
-- the cursor's rows are those of before the UPDATE
SELECT count(*) FROM msr_fetched;
SELECT pg_temp.differences('msr_fetched', '(SELECT id, v FROM msr_local.t WHERE k < 30) l');
ROLLBACK;
RESET work_mem;
-- a cursor closed early
TRUNCATE msr_fetched;
BEGIN;
DECLARE msr_c CURSOR FOR SELECT id, v FROM msr_dist.t;
SELECT pg_temp.fetch_into('msr_c', 3);
CLOSE msr_c;
SELECT pg_temp.differences('msr_fetched', '(SELECT id, v FROM msr_local.t WHERE id IN (SELECT id FROM msr_fetched)) l');
TRUNCATE msr_fetched;
SELECT count(*) FROM msr_dist.t;
DECLARE msr_c2 CURSOR FOR SELECT id, v FROM msr_dist.t WHERE k = 8;
SELECT pg_temp.fetch_into('msr_c2', 100000);
COMMIT;
SELECT pg_temp.differences('msr_fetched', '(SELECT id, v FROM msr_local.t WHERE k = 8) l');

-- a WITH HOLD cursor, kept at commit after a few rows
TRUNCATE msr_fetched;
BEGIN;
DECLARE msr_h CURSOR WITH HOLD FOR SELECT id, v FROM msr_dist.t WHERE k < 20;
SELECT pg_temp.fetch_into('msr_h', 10);
UPDATE msr_dist.t SET v = v || '+' WHERE k < 20;
COMMIT;
SELECT pg_temp.fetch_into('msr_h', 100000);
CLOSE msr_h;
-- the rows of before the UPDATE
SELECT count(*) FROM msr_fetched;
SELECT pg_temp.differences('msr_fetched', '(SELECT id, v FROM msr_local.t WHERE k < 20) l');
SELECT count(*) FROM msr_dist.t WHERE v LIKE '%+';
UPDATE msr_dist.t SET v = left(v, -1) WHERE k < 20;
-- two cursors over the same workers, read in turns
TRUNCATE msr_fetched;
BEGIN;
DECLARE msr_a CURSOR FOR SELECT id, v FROM msr_dist.t WHERE k < 25;
DECLARE msr_b CURSOR FOR SELECT id, v FROM msr_dist.t WHERE k >= 25;
SELECT pg_temp.fetch_into('msr_a', 100);
SELECT pg_temp.fetch_into('msr_b', 100);
SELECT pg_temp.fetch_into('msr_a', 100000);
SELECT pg_temp.fetch_into('msr_b', 100000);
COMMIT;
SELECT pg_temp.differences('msr_fetched', '(SELECT id, v FROM msr_local.t) l');
-- a plpgsql loop left after its first rows, then the same connections
CREATE FUNCTION pg_temp.first_rows(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    seen int := 0;
    total bigint;
BEGIN
    FOR r IN SELECT id FROM msr_dist.t LOOP
        seen := seen + 1;
        EXIT WHEN seen >= n;
    END LOOP;
    SELECT count(*) INTO total FROM msr_dist.t;
    RETURN seen + total;
END
$$;
SELECT pg_temp.first_rows(5);
BEGIN;
SELECT pg_temp.first_rows(3);
UPDATE msr_dist.t SET n = n WHERE k = 1;
SELECT pg_temp.first_rows(2);
COMMIT;
-- a worker's error while a cursor is read (in a subtransaction)
CREATE FUNCTION pg_temp.fetch_error() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    r record;
BEGIN
    OPEN c FOR SELECT id, 1 / (id - 77777) AS x FROM msr_dist.t;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
    END LOOP;
    RETURN 'no error';
EXCEPTION WHEN division_by_zero THEN
    RETURN SQLERRM;
END
$$;
SELECT pg_temp.fetch_error();
BEGIN;
SELECT count(*) FROM msr_dist.t WHERE k = 2;
SELECT pg_temp.fetch_error();
SELECT count(*) FROM msr_dist.t WHERE k = 2;
COMMIT;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;
-- a cursor that fails in a subtransaction, outside the scan (an error of
-- the node above: fault point router-row), its rows not all read; the
-- transaction goes on with the same connections
BEGIN;
DECLARE msr_f CURSOR FOR SELECT id, v FROM msr_dist.t;
FETCH 1 FROM msr_f \g /dev/null
SAVEPOINT s;
SET LOCAL shardfdw.test_fault_point = 'router-row';
SET LOCAL shardfdw.test_fault_action = 'error';
\set VERBOSITY terse
FETCH 5 FROM msr_f;
ROLLBACK TO SAVEPOINT s;
SET LOCAL work_mem = '64kB';
SELECT count(*) FROM msr_dist.t WHERE k < 30;
SELECT pg_temp.row_count('UPDATE msr_dist.t SET n = n WHERE k = 1');
FETCH 1 FROM msr_f;
ROLLBACK;
-- the same after some rows were read ahead (to disk: work_mem), then closed
BEGIN;
SET LOCAL work_mem = '64kB';
DECLARE msr_f CURSOR FOR SELECT id, v FROM msr_dist.t;
FETCH 1 FROM msr_f \g /dev/null
SELECT count(*) FROM msr_dist.t WHERE k = 1;
SAVEPOINT s;
SET LOCAL shardfdw.test_fault_point = 'router-row';
SET LOCAL shardfdw.test_fault_action = 'error';
FETCH 5 FROM msr_f;
ROLLBACK TO SAVEPOINT s;
\set VERBOSITY default
CLOSE msr_f;
SELECT count(*) FROM msr_dist.t;
SELECT pg_temp.row_count('UPDATE msr_dist.t SET n = n WHERE k = 1');
COMMIT;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;

--
-- A multi-shard UPDATE sends each worker its shards' statements in one
-- command string; a failure in any shard is reported with that shard's own
-- statement (not the whole string), and nothing changes anywhere
--
CREATE FUNCTION pg_temp.failure_named(bad_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    ctx text;
    shard text;
BEGIN
    SELECT tableoid::regclass::text INTO shard FROM msr_dist.t WHERE id = bad_id;
    BEGIN
        EXECUTE format('UPDATE msr_dist.t SET n = n + 1 / (id - %s)', bad_id);
        RETURN false;
    EXCEPTION WHEN division_by_zero THEN
        GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    END;
    RETURN position(shard || ' ' IN ctx) > 0
       AND (SELECT count(*) FROM regexp_matches(ctx, 'UPDATE msr_dist\.t_', 'g')) = 1;
END
$$;
SELECT count(*) AS shards,
       count(*) FILTER (WHERE pg_temp.failure_named(first_id)) AS failures_naming_their_statement
  FROM (SELECT min(id) AS first_id FROM msr_dist.t GROUP BY tableoid) s;
CREATE TEMP TABLE msr_got AS SELECT * FROM msr_dist.t;
SELECT pg_temp.differences('msr_got', 'msr_local.t');
DROP TABLE msr_got;

DROP SCHEMA msr_dist CASCADE;
DROP SCHEMA msr_local CASCADE;
