--
-- planner_empty: aggregates over empty inputs, single rows and all-NULL
-- columns (and several DISTINCT aggregates), distributed vs. a local copy.  Two-phase plans combine partial
-- rows on the coordinator; when no partial row arrives (workers that group,
-- for count(DISTINCT), over an empty table) the combine must still give what
-- PostgreSQL gives: count 0, sum / avg / min / max / bool_and NULL.
-- DISTINCT aggregates of one expression alone are counted by merging the
-- workers' sorted values ("merged distinct values"): with NULLs, values
-- repeated within and across workers, text under a collation whose order
-- differs from C, numerics equal but printed differently, HAVING, and the
-- cases that keep the grouped two-phase plan (FILTER, other aggregates,
-- GROUP BY, types whose order the coordinator cannot reproduce).
--
SET client_min_messages = warning;
CREATE SCHEMA pe_dist;
CREATE SCHEMA pe_local;
-- a case-insensitive (nondeterministic) collation, on the workers too
CREATE COLLATION public.pe_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT bool_and(success) FROM run_command_on_workers(
  $$CREATE COLLATION public.pe_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)$$);
CREATE TABLE pe_dist.t (k int, g int, x int, n numeric(10,2), b boolean,
                        s text, u int, p point,
                        e text COLLATE "en-x-icu", ci text COLLATE public.pe_ci);
SELECT create_distributed_table('pe_dist.t', 'k', shard_count => 4);
CREATE TABLE pe_local.t (k int, g int, x int, n numeric(10,2), b boolean,
                         s text, u int, p point,
                         e text COLLATE "en-x-icu", ci text COLLATE public.pe_ci);

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

CREATE FUNCTION pg_temp.strategy(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    PERFORM set_config('search_path', 'pe_dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ '^\s*Strategy: ' THEN
            RETURN regexp_replace(line, '^\s*Strategy: ', '');
        END IF;
    END LOOP;
    RETURN 'standard';
END
$$;

CREATE TABLE pg_temp.queries (id serial, q text);
INSERT INTO pg_temp.queries (q) VALUES
  ('SELECT count(*), count(DISTINCT g) FROM t'),
  ('SELECT count(*), count(x), count(DISTINCT x) FROM t'),
  ('SELECT count(*), count(DISTINCT k) FROM t'),
  ('SELECT sum(x), avg(x), min(x), max(x), count(DISTINCT g) FROM t'),
  ('SELECT sum(n), avg(n), variance(n), stddev(n), count(DISTINCT g) FROM t'),
  ('SELECT var_pop(x), stddev_samp(x), count(DISTINCT x) FROM t'),
  ('SELECT bool_and(b), bool_or(b), every(b), count(DISTINCT b) FROM t'),
  ('SELECT count(*) FILTER (WHERE x > 0), count(DISTINCT g) FROM t'),
  ('SELECT count(*) + 1 AS c1, coalesce(sum(x), -1), count(DISTINCT g) FROM t'),
  ('SELECT count(*), sum(x) FROM t'),
  ('SELECT count(*), count(DISTINCT g) FROM t WHERE k = 1'),
  ('SELECT count(*), count(DISTINCT g) FROM t WHERE x > 100'),
  ('SELECT count(*), count(DISTINCT g) FROM t HAVING count(*) = 0'),
  ('SELECT count(*), count(DISTINCT g) FROM t HAVING count(*) > 0'),
  ('SELECT g, count(*), count(DISTINCT x) FROM t GROUP BY g ORDER BY g'),
  ('SELECT k, count(*), sum(x) FROM t GROUP BY k ORDER BY k'),
  ('SELECT max(x) FROM t'),
  ('SELECT count(*) FROM (SELECT DISTINCT g FROM t) s'),
  -- several DISTINCT aggregates, one of them on the distribution column
  ('SELECT count(DISTINCT k), count(DISTINCT g) FROM t'),
  ('SELECT count(DISTINCT g), count(DISTINCT k), count(*) FROM t'),
  ('SELECT g, count(DISTINCT k), count(DISTINCT x) FROM t GROUP BY g ORDER BY g'),
  ('SELECT count(DISTINCT k) FROM t HAVING count(DISTINCT x) >= 0'),
  -- merged distinct values
  ('SELECT count(DISTINCT x) FROM t'),
  ('SELECT count(DISTINCT x), sum(DISTINCT x), avg(DISTINCT x), min(DISTINCT x), max(DISTINCT x) FROM t'),
  ('SELECT count(DISTINCT x) * 2 + 1 AS c, count(DISTINCT x) = 0 AS none FROM t'),
  ('SELECT count(DISTINCT x) FROM t HAVING count(DISTINCT x) > 1'),
  ('SELECT count(DISTINCT x) FROM t WHERE k = 7'),
  ('SELECT count(DISTINCT x % 3) FROM t WHERE g > 0'),
  ('SELECT count(DISTINCT n) FROM t'),
  ('SELECT count(DISTINCT n::text) FROM t'),
  ('SELECT count(DISTINCT b) FROM t'),
  ('SELECT count(DISTINCT s) FROM t'),
  ('SELECT count(DISTINCT upper(s)) FROM t'),
  ('SELECT count(DISTINCT s COLLATE "C") FROM t'),
  ('SELECT count(DISTINCT u) FROM t'),
  ('SELECT count(DISTINCT u) FROM t WHERE u < 50'),
  ('SELECT count(DISTINCT e) FROM t'),
  ('SELECT count(DISTINCT ci COLLATE "C") FROM t'),
  ('SELECT count(DISTINCT p::text) FROM t'),
  -- grouped two-phase plan: FILTER, other aggregates, two expressions,
  -- GROUP BY, a type the merge does not handle (arrays), a
  -- nondeterministic collation
  ('SELECT count(DISTINCT x) FILTER (WHERE g > 2) FROM t'),
  ('SELECT count(DISTINCT u), count(*) FROM t'),
  ('SELECT count(DISTINCT s), count(DISTINCT x) FROM t'),
  ('SELECT g, count(DISTINCT s) FROM t GROUP BY g ORDER BY g'),
  ('SELECT count(DISTINCT ARRAY[x, g]) FROM t'),
  ('SELECT count(DISTINCT ci) FROM t'),
  ('SELECT count(DISTINCT (x, g)) FROM t');

CREATE FUNCTION pg_temp.check_all(label text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    d text[];
    l text[];
BEGIN
    FOR r IN SELECT id, q FROM pg_temp.queries ORDER BY id LOOP
        d := pg_temp.top_rows(r.q, 'pe_dist, public');
        l := pg_temp.top_rows(r.q, 'pe_local, public');
        RETURN NEXT format('%s q%s %s (%s)%s', label, r.id,
                           CASE WHEN d IS NOT DISTINCT FROM l THEN 'ok' ELSE 'DIFFERENT' END,
                           pg_temp.strategy(r.q),
                           CASE WHEN d IS NOT DISTINCT FROM l THEN ''
                                ELSE format(' dist=%s local=%s', d, l) END);
    END LOOP;
END
$$;

-- empty
SELECT * FROM pg_temp.check_all('empty');
-- one row
INSERT INTO pe_dist.t VALUES (1, 1, 5, 2.50, true, 'a', 1, '(1,2)');
INSERT INTO pe_local.t VALUES (1, 1, 5, 2.50, true, 'a', 1, '(1,2)');
SELECT * FROM pg_temp.check_all('one row');
-- NULLs only in the aggregated columns
TRUNCATE pe_dist.t;
TRUNCATE pe_local.t;
INSERT INTO pe_dist.t (k) SELECT g FROM generate_series(1, 20) g;
INSERT INTO pe_local.t (k) SELECT g FROM generate_series(1, 20) g;
SELECT * FROM pg_temp.check_all('all null');
-- a few rows on some shards only
TRUNCATE pe_dist.t;
TRUNCATE pe_local.t;
INSERT INTO pe_dist.t VALUES (7, 1, 1, 1.25, false, 'b', 3, '(0,0)', 'b', 'b'), (7, 2, 2, 1.25, true, 'B', 3, '(0,0)', 'B', 'B'), (8, 1, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO pe_local.t VALUES (7, 1, 1, 1.25, false, 'b', 3, '(0,0)', 'b', 'b'), (7, 2, 2, 1.25, true, 'B', 3, '(0,0)', 'B', 'B'), (8, 1, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM pg_temp.check_all('few rows');
-- many rows: values of k in several groups of g and x; s, e and ci in
-- mixed case with accents and spaces (C order differs from en-x-icu's;
-- pe_ci finds 'a' and 'A' equal), n with equal values of different scales (1.0 and
-- 1.00), u mostly unique (each worker's values unsorted across shards,
-- value 1 on every shard: the workers do not group it)
INSERT INTO pe_dist.t SELECT i % 20, i % 7, i % 11, CASE WHEN i % 9 = 0 THEN 1.0 ELSE (i % 5)::numeric / 2 END, i % 2 = 0,
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 9 + 1] || (i % 4)::text,
       CASE WHEN i % 10 = 0 THEN 1 ELSE i END, point(i % 3, 0),
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 7 + 1],
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 8 + 1]
  FROM generate_series(1, 2000) i;
INSERT INTO pe_local.t SELECT i % 20, i % 7, i % 11, CASE WHEN i % 9 = 0 THEN 1.0 ELSE (i % 5)::numeric / 2 END, i % 2 = 0,
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 9 + 1] || (i % 4)::text,
       CASE WHEN i % 10 = 0 THEN 1 ELSE i END, point(i % 3, 0),
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 7 + 1],
       (ARRAY['a', 'B', 'b', 'A', 'é', 'E', 'a ', ' a', ''])[i % 8 + 1]
  FROM generate_series(1, 2000) i;
ANALYZE pe_dist.t;
SELECT * FROM pg_temp.check_all('many rows');
-- the same with the merge off: the grouped two-phase plan
SET shardfdw.enable_distinct_merge = off;
SELECT pg_temp.strategy('SELECT count(DISTINCT x) FROM t');
SELECT (pg_temp.top_rows('SELECT count(DISTINCT u), count(DISTINCT s) FROM t', 'pe_dist, public') =
        pg_temp.top_rows('SELECT count(DISTINCT u), count(DISTINCT s) FROM t', 'pe_local, public')) AS same;
RESET shardfdw.enable_distinct_merge;
-- a prepared statement with a parameter keeps the grouped plan
PREPARE pe_q(int) AS SELECT count(DISTINCT u) FROM pe_dist.t WHERE g = $1;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.explain_lines('EXPLAIN (COSTS OFF) EXECUTE pe_q(3)');
EXECUTE pe_q(3);
SELECT count(DISTINCT u) FROM pe_local.t WHERE g = 3;
RESET plan_cache_mode;
DEALLOCATE pe_q;
-- a scrollable cursor
BEGIN;
DECLARE pe_c SCROLL CURSOR FOR SELECT count(DISTINCT u) FROM pe_dist.t;
FETCH pe_c;
FETCH ABSOLUTE 1 FROM pe_c;
FETCH BACKWARD 1 FROM pe_c;
COMMIT;
SELECT count(DISTINCT u) FROM pe_local.t;
-- EXPLAIN of the merge: one statement per worker, sorted, NULLs out
SELECT pg_temp.explain_lines('EXPLAIN (COSTS OFF) SELECT count(DISTINCT s) FROM pe_dist.t WHERE k IN (1, 2)');

-- a worker's error ends the statement; the connections stay usable
\set VERBOSITY terse
SELECT count(DISTINCT 10 / (x - 5)) FROM pe_dist.t;
SELECT count(DISTINCT x) FROM pe_dist.t;
BEGIN;
SELECT count(DISTINCT 10 / (x - 5)) FROM pe_dist.t;
ROLLBACK;
\set VERBOSITY default
SELECT count(DISTINCT u) FROM pe_dist.t;
DROP SCHEMA pe_dist CASCADE;
DROP SCHEMA pe_local CASCADE;
DROP COLLATION public.pe_ci;
SELECT bool_and(success) FROM run_command_on_workers($$DROP COLLATION public.pe_ci$$);
