--
-- planner_empty: aggregates over empty inputs, single rows and all-NULL
-- columns (and several DISTINCT aggregates), distributed vs. a local copy.  Two-phase plans combine partial
-- rows on the coordinator; when no partial row arrives (workers that group,
-- for count(DISTINCT), over an empty table) the combine must still give what
-- PostgreSQL gives: count 0, sum / avg / min / max / bool_and NULL.
--
SET client_min_messages = warning;
CREATE SCHEMA pe_dist;
CREATE SCHEMA pe_local;
CREATE TABLE pe_dist.t (k int, g int, x int, n numeric(10,2), b boolean);
SELECT create_distributed_table('pe_dist.t', 'k', shard_count => 4);
CREATE TABLE pe_local.t (k int, g int, x int, n numeric(10,2), b boolean);

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
  ('SELECT count(DISTINCT k) FROM t HAVING count(DISTINCT x) >= 0');

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
INSERT INTO pe_dist.t VALUES (1, 1, 5, 2.50, true);
INSERT INTO pe_local.t VALUES (1, 1, 5, 2.50, true);
SELECT * FROM pg_temp.check_all('one row');
-- NULLs only in the aggregated columns
TRUNCATE pe_dist.t;
TRUNCATE pe_local.t;
INSERT INTO pe_dist.t SELECT g, NULL, NULL, NULL, NULL FROM generate_series(1, 20) g;
INSERT INTO pe_local.t SELECT g, NULL, NULL, NULL, NULL FROM generate_series(1, 20) g;
SELECT * FROM pg_temp.check_all('all null');
-- a few rows on some shards only
TRUNCATE pe_dist.t;
TRUNCATE pe_local.t;
INSERT INTO pe_dist.t VALUES (7, 1, 1, 1.25, false), (7, 2, 2, 1.25, true), (8, 1, NULL, NULL, NULL);
INSERT INTO pe_local.t VALUES (7, 1, 1, 1.25, false), (7, 2, 2, 1.25, true), (8, 1, NULL, NULL, NULL);
SELECT * FROM pg_temp.check_all('few rows');
-- many rows: values of k in several groups of g and x
INSERT INTO pe_dist.t SELECT i % 20, i % 7, i % 11, i % 5, i % 2 = 0 FROM generate_series(1, 2000) i;
INSERT INTO pe_local.t SELECT i % 20, i % 7, i % 11, i % 5, i % 2 = 0 FROM generate_series(1, 2000) i;
ANALYZE pe_dist.t;
SELECT * FROM pg_temp.check_all('many rows');

DROP SCHEMA pe_dist CASCADE;
DROP SCHEMA pe_local CASCADE;
