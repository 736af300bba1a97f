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
-- DO UPDATE ... WHERE with RETURNING: one statement per row (a row whose
-- conflict fails the WHERE returns nothing), VALUES order
SELECT pg_temp.strategy_tasks('INSERT INTO kv (k, v) VALUES (1, ''a''), (2, ''b''), (9, ''c'') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.k > 1 RETURNING k', 'ims_dist, public');
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (1, 'w1'), (2, 'w2'), (9, 'w3'), (80, 'w4'), (3, 'w5') ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + 1 WHERE kv.k > 1 RETURNING k, v, n$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv AS t (k, v) VALUES (81, 'a'), (2, 'w2'), (5, 'x'), (82, NULL) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE t.v IS DISTINCT FROM excluded.v RETURNING *$q$);
-- the same key twice: PostgreSQL fails when the first row inserted or
-- updated the row, not when its WHERE was false
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (83, 'a'), (1, 'b'), (83, 'c') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.v <> excluded.v RETURNING k, v$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (2, 'w9'), (1, 'b'), (2, 'w8') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.v <> excluded.v RETURNING k, v$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (2, 'w2'), (1, 'b'), (2, 'w7'), (9, 'w3'), (2, 'w6') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.v <> 'w2' RETURNING k, v$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (2, 'w2'), (1, 'b'), (2, 'w7'), (9, 'w3'), (2, 'w6') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.v <> excluded.v RETURNING k, v$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v) VALUES (84, 'a'), (NULL, 'b') ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.v <> excluded.v RETURNING k, v$q$);
-- a failure on one shard undoes the rows of the others (the CHECK fails
-- for one row; the others are on other shards and workers)
ALTER TABLE ims_dist.kv ADD CONSTRAINT n_not_negative CHECK (n >= 0);
ALTER TABLE ims_local.kv ADD CONSTRAINT n_not_negative CHECK (n >= 0);
SELECT pg_temp.both($q$INSERT INTO kv (k, v, n) VALUES (90, 'a', 0), (91, 'b', 0), (92, 'c', 0), (93, 'd', -1), (94, 'e', 0), (1, 'f', 0) ON CONFLICT (k) DO UPDATE SET n = excluded.n$q$);
SELECT pg_temp.both_returning($q$INSERT INTO kv (k, v, n) VALUES (90, 'a', 0), (91, 'b', 0), (92, 'c', -1), (93, 'd', 0) ON CONFLICT (k) DO UPDATE SET n = excluded.n WHERE kv.n = 0 RETURNING k$q$);
\set VERBOSITY terse
INSERT INTO ims_dist.kv (k, v, n) VALUES (90, 'a', 0), (91, 'b', 0), (92, 'c', 0), (93, 'd', -1), (94, 'e', 0) ON CONFLICT (k) DO NOTHING;
\set VERBOSITY default
SELECT count(*) FROM ims_dist.kv WHERE k BETWEEN 90 AND 94;

-- Parameters (prepared statements, as drivers send a batch upsert): the
-- rows are grouped by shard when the scan starts.  Each upsert below is a
-- plpgsql statement whose values are parameters (custom plans for the
-- first five calls, then the generic plan), one function per table.
CREATE FUNCTION pg_temp.make_upsert(name text, body text) RETURNS void
LANGUAGE plpgsql AS $mk$
DECLARE
    s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['ims_dist', 'ims_local'] LOOP
        EXECUTE format($f$
            CREATE FUNCTION pg_temp.%s_%s(k1 int, v1 text, k2 int, v2 text, k3 int, v3 text)
            RETURNS text LANGUAGE plpgsql AS $b$
            DECLARE
                r record;
                got text := '';
                cnt bigint;
            BEGIN
                %s
                RETURN got;
            END
            $b$$f$, name, s, replace(body, 'TBL', s || '.kv'));
    END LOOP;
END
$mk$;
CREATE FUNCTION pg_temp.both_params(name text, args text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    got text[] := ARRAY['', ''];
    err text[] := ARRAY['', ''];
    one text;
BEGIN
    FOR i IN 1 .. 2 LOOP
        BEGIN
            EXECUTE format('SELECT pg_temp.%s_%s(%s)', name,
                           (ARRAY['ims_dist', 'ims_local'])[i], args) INTO one;
            got[i] := one;
        EXCEPTION WHEN OTHERS THEN
            err[i] := SQLERRM;
        END;
    END LOOP;
    RETURN CASE WHEN got[1] = got[2] AND err[1] = err[2]
                THEN 'same: ' || got[1] || err[1]
                ELSE format('DIFFER: dist %s%s, local %s%s', got[1], err[1], got[2], err[2]) END
        || E'\n  tables: ' || pg_temp.both('SELECT 1');
END
$$;
SELECT pg_temp.make_upsert('up', $b$
    FOR r IN INSERT INTO TBL AS t (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
             ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = t.n + 1 RETURNING k, v, n LOOP
        got := got || r::text || ' ';
    END LOOP;$b$);
SELECT pg_temp.make_upsert('upw', $b$
    FOR r IN INSERT INTO TBL AS t (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
             ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = t.n + 1
             WHERE t.v IS DISTINCT FROM excluded.v RETURNING k, v, n LOOP
        got := got || r::text || ' ';
    END LOOP;$b$);
SELECT pg_temp.make_upsert('upn', $b$
    INSERT INTO TBL AS t (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = t.n + 1
    WHERE t.v IS DISTINCT FROM excluded.v;
    GET DIAGNOSTICS cnt = ROW_COUNT;
    got := cnt || ' rows';$b$);
SELECT pg_temp.make_upsert('nothing', $b$
    FOR r IN INSERT INTO TBL (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
             ON CONFLICT (k) DO NOTHING RETURNING k, v LOOP
        got := got || r::text || ' ';
    END LOOP;$b$);
SELECT pg_temp.make_upsert('nothingn', $b$
    INSERT INTO TBL (k, v) VALUES (k1, v1), (k2, v2), (k3, v3) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS cnt = ROW_COUNT;
    got := cnt || ' rows';$b$);
-- each function from fresh rows: one shard (3 and 5 share one), several
-- shards, the same key twice, a NULL key; called more than five times
-- (then the generic plan)
CREATE FUNCTION pg_temp.run_params(f text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    a text;
BEGIN
    PERFORM pg_temp.both('DELETE FROM kv WHERE k IN (3, 5, 100, 101, 102, 103, 104)');
    FOREACH a IN ARRAY ARRAY[
        $a$3, 'p1', 5, 'p2', 3, 'p3'$a$,
        $a$3, 'p1', 5, 'p2', 5, 'p3'$a$,
        $a$100, 'p1', 1, 'p2', 101, 'p3'$a$,
        $a$100, 'p1', 1, 'p4', 101, 'p3'$a$,
        $a$102, 'p5', 102, 'p6', 2, 'p7'$a$,
        $a$1, 'p4', 2, 'p8', 1, 'p9'$a$,
        $a$9, 'p1', 103, 'p2', 104, 'p3'$a$,
        $a$3, 'p1', 5, 'p2', 9, 'p1'$a$,
        $a$NULL, 'p1', 1, 'p2', 2, 'p3'$a$] LOOP
        RETURN NEXT format('%s(%s): %s', f, a, pg_temp.both_params(f, a));
    END LOOP;
END
$$;
SELECT pg_temp.run_params('up');
SELECT pg_temp.run_params('upw');
SELECT pg_temp.run_params('upn');
SELECT pg_temp.run_params('nothing');
SELECT pg_temp.run_params('nothingn');
-- the same under the generic plan from the start, and under custom plans
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.make_upsert('gup', $b$
    FOR r IN INSERT INTO TBL AS t (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
             ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = t.n + 1 RETURNING k, v, n LOOP
        got := got || r::text || ' ';
    END LOOP;$b$);
SELECT pg_temp.make_upsert('gupw', $b$
    FOR r IN INSERT INTO TBL AS t (k, v) VALUES (k1, v1), (k2, v2), (k3, v3)
             ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = t.n + 1
             WHERE t.v IS DISTINCT FROM excluded.v RETURNING k, v, n LOOP
        got := got || r::text || ' ';
    END LOOP;$b$);
SELECT pg_temp.both_params('gup', $$110, 'g1', 3, 'g2', 111, 'g3'$$);
SELECT pg_temp.both_params('gup', $$3, 'g4', 5, 'g5', 3, 'g6'$$);
SELECT pg_temp.both_params('gupw', $$110, 'g1', 3, 'g7', 112, 'g3'$$);
SELECT pg_temp.both_params('gupw', $$113, 'g1', 113, 'g7', 112, 'g3'$$);
SET plan_cache_mode = force_custom_plan;
SELECT pg_temp.both_params('gupw', $$110, 'g8', 3, 'g7', 114, 'g3'$$);
SELECT pg_temp.both_params('nothing', $$110, 'g8', 115, 'g7', 115, 'g3'$$);
RESET plan_cache_mode;

-- PREPARE / EXECUTE, what a driver sends for a batch upsert: the rows of
-- one shard, of several, generic plan and custom plans
PREPARE ims_p_ims_dist(int, text, int, text) AS INSERT INTO ims_dist.kv VALUES ($1, $2), ($3, $4) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
PREPARE ims_p_ims_local(int, text, int, text) AS INSERT INTO ims_local.kv VALUES ($1, $2), ($3, $4) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
-- EXECUTE the statement of the table search_path names first
CREATE FUNCTION pg_temp.execute_prepared(args text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('EXECUTE ims_p_%s(%s)', split_part(current_setting('search_path'), ',', 1), args);
END
$$;
CREATE FUNCTION pg_temp.both_execute(args text) RETURNS text
LANGUAGE sql AS $$
    SELECT pg_temp.both(format('SELECT pg_temp.execute_prepared(%L)', args))
$$;
SELECT pg_temp.strategy_tasks($$EXECUTE ims_p_ims_dist(3, 'e1', 5, 'e2')$$);
SELECT pg_temp.strategy_tasks($$EXECUTE ims_p_ims_dist(1, 'e1', 2, 'e2')$$);
SELECT pg_temp.both_execute(a) FROM unnest(ARRAY[
    $$3, 'e1', 5, 'e2'$$, $$1, 'e3', 2, 'e4'$$, $$120, 'e5', 121, 'e6'$$,
    $$1, 'e7', 1, 'e8'$$, $$122, 'e9', 9, 'e10'$$, $$3, 'e11', 123, 'e12'$$,
    $$2, 'e13', 124, 'e14'$$]) AS a;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.strategy_tasks($$EXECUTE ims_p_ims_dist(3, 'e1', 5, 'e2')$$);
SELECT pg_temp.both_execute(a) FROM unnest(ARRAY[
    $$3, 'e21', 5, 'e22'$$, $$1, 'e23', 2, 'e24'$$, $$125, 'e25', 125, 'e26'$$]) AS a;
-- a failure on one shard, at the top level: nothing done on the others
PREPARE ims_chk(int, int, int, int) AS INSERT INTO ims_dist.kv (k, v, n) VALUES ($1, 'c', $2), ($3, 'c', $4) ON CONFLICT (k) DO UPDATE SET n = excluded.n;
SELECT pg_temp.strategy_tasks('EXECUTE ims_chk(130, 0, 131, -1)');
\set VERBOSITY terse
EXECUTE ims_chk(130, 0, 131, -1);
EXECUTE ims_chk(131, -1, 130, 0);
\set VERBOSITY default
SELECT count(*) FROM ims_dist.kv WHERE k IN (130, 131);
DEALLOCATE ims_chk;
RESET plan_cache_mode;
DEALLOCATE ims_p_ims_dist;
DEALLOCATE ims_p_ims_local;
-- a text distribution column in a two-column conflict target, values as
-- parameters of dynamic SQL (EXECUTE ... USING)
CREATE TABLE ims_dist.o (tenant text, id int, qty int, PRIMARY KEY (tenant, id));
SELECT create_distributed_table('ims_dist.o', 'tenant', shard_count => 4);
CREATE TABLE ims_local.o (tenant text, id int, qty int, PRIMARY KEY (tenant, id));
CREATE FUNCTION pg_temp.both_o(q text, a text, b text, c int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    got text[] := ARRAY['', ''];
    err text[] := ARRAY['', ''];
    r record;
    diff bigint;
BEGIN
    FOR i IN 1 .. 2 LOOP
        BEGIN
            PERFORM set_config('search_path', (ARRAY['ims_dist', 'ims_local'])[i] || ', public', true);
            FOR r IN EXECUTE q USING a, b, c LOOP
                got[i] := got[i] || r::text || ' ';
            END LOOP;
        EXCEPTION WHEN OTHERS THEN
            err[i] := SQLERRM;
        END;
    END LOOP;
    PERFORM set_config('search_path', 'public', true);
    SELECT count(*) INTO diff FROM ((SELECT * FROM ims_dist.o EXCEPT ALL SELECT * FROM ims_local.o)
                                    UNION ALL (SELECT * FROM ims_local.o EXCEPT ALL SELECT * FROM ims_dist.o)) x;
    RETURN CASE WHEN got[1] = got[2] AND err[1] = err[2]
                THEN 'same: ' || got[1] || err[1]
                ELSE format('DIFFER: dist %s%s, local %s%s', got[1], err[1], got[2], err[2]) END
        || format(' (%s rows, %s differ)', (SELECT count(*) FROM ims_local.o), diff);
END
$$;
SELECT pg_temp.both_o($q$INSERT INTO o VALUES ($1, 1, NULL), ($2, 1, 5), ('c', 1, $3) ON CONFLICT (tenant, id) DO NOTHING RETURNING *$q$, 'a', 'b', 7);
SELECT pg_temp.both_o(q, a, b, c) FROM (VALUES
    ($q$INSERT INTO o AS o VALUES ($1, 1, 2), ($2, 1, $3), ($1, 2, 3), ($1, 1, 4) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty WHERE o.qty IS NULL RETURNING *$q$, 'a', 'b', 6),
    ($q$INSERT INTO o AS o VALUES ($1, 1, 2), ($2, 1, $3), ($1, 2, 3), ($1, 1, 4) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty WHERE o.qty IS NULL RETURNING *$q$, 'a', 'b', 6),
    ($q$INSERT INTO o AS o VALUES ($1, 1, 2), ($2, 1, $3), ($1, 2, 3), ($1, 1, 4) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty WHERE o.qty < excluded.qty RETURNING *$q$, 'a', 'c', 9),
    ($q$INSERT INTO o AS o VALUES ($1, 3, 2), ($2, 3, $3), ('d', 3, 3), ($1, 3, 4) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty WHERE o.qty < excluded.qty RETURNING *$q$, 'A', 'a', 1),
    ($q$INSERT INTO o AS o VALUES ($1, 3, 2), ($2, 3, $3), ('d', 3, 3), ($1, 3, 4) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty + o.qty RETURNING *$q$, 'e', 'f', 1),
    ($q$INSERT INTO o AS o VALUES ($1, 3, 2), ($2, 3, $3), ('d', 3, 3) ON CONFLICT (tenant, id) DO UPDATE SET qty = excluded.qty + o.qty RETURNING *$q$, 'e', 'e', 1)) AS x(q, a, b, c);
-- a subquery reading another distributed table in the rows of an upsert
-- over several shards: each shard's statement would read that table's
-- shard of its own rows (standard planner: DO NOTHING through the FDW, DO
-- UPDATE refused below)
CREATE TABLE ims_dist.kv2 (k int PRIMARY KEY, v text);
SELECT create_distributed_table('ims_dist.kv2', 'k', colocate_with => 'ims_dist.kv');
CREATE TABLE ims_local.kv2 (k int PRIMARY KEY, v text);
INSERT INTO ims_dist.kv2 VALUES (5, 'five');
INSERT INTO ims_local.kv2 VALUES (5, 'five');
SELECT pg_temp.both('DELETE FROM kv WHERE k IN (140, 141)');
SELECT pg_temp.strategy_tasks($$INSERT INTO kv (k, v) VALUES (140, (SELECT v FROM kv2 WHERE k = 5)), (141, 'x') ON CONFLICT DO NOTHING$$, 'ims_dist, public');
SELECT pg_temp.both($q$INSERT INTO kv (k, v) VALUES (140, (SELECT v FROM kv2 WHERE k = 5)), (141, 'x') ON CONFLICT DO NOTHING$q$);
SELECT v FROM ims_dist.kv WHERE k = 140;
-- still refused: DO UPDATE ... WHERE with RETURNING whose conflict target
-- rows cannot be compared on the coordinator (a partial index's predicate)
\set VERBOSITY terse
INSERT INTO ims_dist.kv (k, v) VALUES (1, 'a'), (2, 'b') ON CONFLICT (k) WHERE k > 0 DO UPDATE SET v = excluded.v WHERE kv.k > 1 RETURNING k;
INSERT INTO ims_dist.kv (k, v) VALUES (140, (SELECT v FROM ims_dist.kv2 WHERE k = 5)), (141, 'x') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
SET shardfdw.enable_multi_shard_dml = off;
PREPARE ims_off(int, int) AS INSERT INTO ims_dist.kv (k, v) VALUES ($1, 'a'), ($2, 'b') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
EXECUTE ims_off(1, 2);
DEALLOCATE ims_off;
RESET shardfdw.enable_multi_shard_dml;
\set VERBOSITY default
SELECT pg_temp.both('SELECT 1');

DROP SCHEMA ims_dist CASCADE;
DROP SCHEMA ims_local CASCADE;
