--
-- insert_multi_shard: a multi-row INSERT ... VALUES ... ON CONFLICT whose
-- rows go to several shards runs as one statement per shard (the rows of
-- that shard, the same ON CONFLICT clause); multi-row INSERTs with defaults
-- of unnamed columns reach the shards with those defaults in their VALUES.
-- Each statement runs on a distributed table and on a local copy, compared
-- with EXCEPT ALL both ways, RETURNING rows in order. (Last in the
-- schedule: creates shards.)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
CREATE SCHEMA ims_dist;
CREATE SCHEMA ims_local;
CREATE TABLE ims_dist.kv (k int PRIMARY KEY, v text, n int DEFAULT 0, d numeric DEFAULT 1.5);
SELECT create_distributed_table('ims_dist.kv', 'k', shard_count => 4);
CREATE TABLE ims_local.kv (k int PRIMARY KEY, v text, n int DEFAULT 0, d numeric DEFAULT 1.5);
-- run q on both, then compare the tables
CREATE FUNCTION pg_temp.both(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    err text[] := ARRAY['', ''];
    extra bigint;
    missing bigint;
BEGIN
    FOR i IN 1 .. 2 LOOP
        BEGIN
            PERFORM set_config('search_path', (ARRAY['ims_dist', 'ims_local'])[i] || ', public', true);
            EXECUTE q;
        EXCEPTION WHEN OTHERS THEN
            err[i] := SQLERRM;
        END;
    END LOOP;
    PERFORM set_config('search_path', 'public', true);
    SELECT count(*) INTO extra FROM (SELECT * FROM ims_dist.kv EXCEPT ALL SELECT * FROM ims_local.kv) x;
    SELECT count(*) INTO missing FROM (SELECT * FROM ims_local.kv EXCEPT ALL SELECT * FROM ims_dist.kv) x;
    RETURN format('%s extra, %s missing, %s rows%s', extra, missing,
                  (SELECT count(*) FROM ims_local.kv),
                  CASE WHEN err[1] = err[2] AND err[1] = '' THEN ''
                       WHEN err[1] = err[2] THEN ', both failed: ' || err[1]
                       ELSE format(', errors differ: dist "%s", local "%s"', err[1], err[2]) END);
END
$$;

-- multi-row INSERT with defaults of unnamed columns, one shard and several
-- (keys 3 and 5 share a shard; they used to fail with "INSERT has more
-- target columns than expressions")
SELECT pg_temp.strategy_tasks('INSERT INTO kv (k, v) VALUES (3, ''a''), (5, ''b'')', 'ims_dist, public');
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (3, 'a'), (5, 'b')$q$);
SELECT pg_temp.both($q$INSERT INTO kv (k, v, n) VALUES (12, 'c', DEFAULT), (13, DEFAULT, 7), (14, 'e', NULL)$q$);

-- upserts over several shards
SELECT pg_temp.strategy_tasks('INSERT INTO kv VALUES (1, ''x''), (2, ''y''), (5, ''z'') ON CONFLICT (k) DO UPDATE SET v = excluded.v', 'ims_dist, public');
SELECT pg_temp.both($q$INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (3, 'c') ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + 1$q$);
SELECT pg_temp.both($q$INSERT INTO kv AS t (k, v) VALUES (1, 'x'), (2, 'y'), (5, 'z'), (6, NULL) ON CONFLICT (k) DO UPDATE SET v = coalesce(excluded.v, t.v) || '!', n = t.n + 1 WHERE t.k <> 2$q$);
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (1, 'q'), (7, 'y'), (8, 'z'), (9, 'w') ON CONFLICT DO NOTHING$q$);
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (1, 'q'), (7, 'y'), (8, 'z'), (10, 'w') ON CONFLICT (k) DO NOTHING$q$);
SELECT pg_temp.both($q$INSERT INTO kv (k, v, n) VALUES (11, 'q', DEFAULT), (12, DEFAULT, 5), (13, DEFAULT, DEFAULT) ON CONFLICT (k) DO UPDATE SET n = excluded.n, d = kv.d * 2$q$);
-- errors, and nothing done anywhere
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (20, 'q'), (1, 'y'), (1, 'z') ON CONFLICT (k) DO UPDATE SET v = excluded.v$q$);
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (21, 'q'), (NULL, 'y') ON CONFLICT (k) DO UPDATE SET v = excluded.v$q$);
-- in a transaction block, rolled back
BEGIN;
SET LOCAL search_path = ims_dist, public;
INSERT INTO kv (k, v) VALUES (30, 'a'), (31, 'b'), (32, 'c') ON CONFLICT (k) DO NOTHING;
SELECT count(*) FROM kv WHERE k >= 30;
ROLLBACK;
SELECT count(*) FROM ims_dist.kv WHERE k >= 30;
-- RETURNING: the rows come back in the order of the VALUES rows, as
-- locally (DO UPDATE: each shard's rows interleaved; DO NOTHING: one
-- statement per row, rows that conflict return nothing)
CREATE FUNCTION pg_temp.both_returning(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    got text[] := ARRAY['', ''];
    err text[] := ARRAY['', ''];
    r record;
BEGIN
    FOR i IN 1 .. 2 LOOP
        BEGIN
            PERFORM set_config('search_path', (ARRAY['ims_dist', 'ims_local'])[i] || ', public', true);
            FOR r IN EXECUTE q LOOP
                got[i] := got[i] || r::text || ' ';
            END LOOP;
        EXCEPTION WHEN OTHERS THEN
            err[i] := SQLERRM;
        END;
    END LOOP;
    PERFORM set_config('search_path', 'public', true);
    RETURN CASE WHEN got[1] = got[2] AND err[1] = err[2]
                THEN 'same RETURNING rows in the same order: ' || got[1] || err[1]
                ELSE format('DIFFER: dist %s%s, local %s%s', got[1], err[1], got[2], err[2]) END
        || E'\n  tables: ' || pg_temp.both('SELECT 1');
END
$$;
SELECT pg_temp.strategy_tasks('INSERT INTO kv (k, v) VALUES (5, ''r1''), (1, ''r2'') ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING k', 'ims_dist, public');
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (5, 'r1'), (1, 'r2'), (9, 'r3'), (2, 'r4'), (7, 'r5'), (3, 'r6'), (50, 'r7') ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + 1 RETURNING k, v, n$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv AS t VALUES (51, 'new', DEFAULT), (5, 'again', 3), (52, NULL, DEFAULT) ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n RETURNING *, t.n * 10 AS n10$q$);
SELECT pg_temp.strategy_tasks('INSERT INTO kv (k, v) VALUES (60, ''a''), (1, ''x''), (61, ''b''), (60, ''c''), (62, ''d''), (2, ''y'') ON CONFLICT DO NOTHING RETURNING k', 'ims_dist, public');
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (60, 'a'), (1, 'x'), (61, 'b'), (60, 'c'), (62, 'd'), (2, 'y') ON CONFLICT DO NOTHING RETURNING k, v$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (1, 'x'), (2, 'y') ON CONFLICT (k) DO NOTHING RETURNING k$q$);
-- in a transaction block, with a savepoint rolled back
BEGIN;
SET LOCAL search_path = ims_dist, public;
SAVEPOINT s;
INSERT INTO kv (k, v) VALUES (70, 'a'), (71, 'b'), (72, 'c') ON CONFLICT (k) DO NOTHING RETURNING k;
ROLLBACK TO SAVEPOINT s;
INSERT INTO kv (k, v) VALUES (73, 'a'), (1, 'b'), (74, 'c') ON CONFLICT (k) DO UPDATE SET v = kv.v RETURNING k, v;
SELECT count(*) FROM kv WHERE k >= 70;
ROLLBACK;
-- still refused: DO UPDATE ... WHERE with RETURNING (rows may return
-- nothing, and statements of their own would update a row twice where one
-- statement fails) and parameters
\set VERBOSITY terse
INSERT INTO ims_dist.kv (k, v) VALUES (1, 'a'), (2, 'b') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.k > 1 RETURNING k;
PREPARE ims_up(int, int) AS INSERT INTO ims_dist.kv (k, v) VALUES ($1, 'p'), ($2, 'p') ON CONFLICT (k) DO UPDATE SET v = 'pp';
EXECUTE ims_up(1, 2);
DEALLOCATE ims_up;
\set VERBOSITY default
SELECT pg_temp.both('SELECT 1');

DROP SCHEMA ims_dist CASCADE;
DROP SCHEMA ims_local CASCADE;
