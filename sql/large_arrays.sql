--
-- large_arrays: `x = ANY (array)` with many elements in a WHERE clause is
-- sent to workers as `x IN (SELECT unnest(array))` above
-- shardfdw.large_array_threshold elements (the worker's planner estimates a
-- ScalarArrayOpExpr element by element, in every shard's statement), and a
-- multi-shard SELECT sends an array parameter of 100 elements or more once
-- to each worker instead of one literal per shard (src/planner/shard_query.c).
-- Each statement runs on distributed tables (la_dist) and on the same rows
-- in local tables (la_local) and the rows are compared.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.lacheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_check(label, q, 'la_dist', 'la_local', ordered) $$;
CREATE FUNCTION pg_temp.ladml(label text, q text, tbl text) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_dml(label, q, tbl, 'la_dist', 'la_local') $$;
-- the worker SQL of the one task EXPLAIN shows (first line of it and the
-- line with the array condition)
CREATE FUNCTION pg_temp.worker_where(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    PERFORM set_config('search_path', 'la_dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ 'WHERE|AND|Strategy' THEN
            RETURN NEXT regexp_replace(trim(line), '\{[^}]*\}', '{...}', 'g');
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA la_dist;
CREATE SCHEMA la_local;
CREATE TABLE la_dist.t (id int, v int, b bigint, s text, c text COLLATE "C");
SELECT create_distributed_table('la_dist.t', 'id', shard_count => 4);
-- another co-location group
CREATE TABLE la_dist.o (oid int, y int);
SELECT create_distributed_table('la_dist.o', 'oid', shard_count => 3);
CREATE TABLE la_local.t (id int, v int, b bigint, s text, c text COLLATE "C");
CREATE TABLE la_local.o (oid int, y int);
INSERT INTO la_local.t
SELECT g, CASE WHEN g % 13 = 0 THEN NULL ELSE g % 300 END, g * 7, 's' || (g % 40), 'c' || (g % 40)
  FROM generate_series(1, 600) g;
INSERT INTO la_local.t VALUES (NULL, 5, 5, 's5', 'c5');
INSERT INTO la_local.o SELECT g, CASE WHEN g % 50 = 0 THEN NULL ELSE g * 2 END FROM generate_series(1, 400) g;
INSERT INTO la_dist.t SELECT * FROM la_local.t;
INSERT INTO la_dist.o SELECT * FROM la_local.o;

SET shardfdw.large_array_threshold = 3;

--
-- the form sent: top-level conjuncts of WHERE with more elements than the
-- threshold, an equality that can hash, no collation of its own
--
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v = ANY ('{1,2,3,4,5}')$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v = ANY ('{1,2,3}')$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v IN (1, 2, 3, 4, 5) AND b > 10$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE b > 10 AND v = ANY ('{1,2,3,4,5}'::int[])$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v IN (1, 2, 3) AND b > 10$$);
-- not: an IN list with a column, under OR, <> ALL, an ordering operator, a collation of its own
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v IN (1, 2, 3, 4, b) AND b > 10$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v = ANY ('{1,2,3,4,5}') OR b = 7$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v <> ALL ('{1,2,3,4,5}')$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v < ANY ('{1,2,3,4,5}')$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE c = ANY ('{c1,c2,c3,c4,c5}')$$);
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE s = ANY ('{s1,s2,s3,s4,s5}')$$);
-- in a subquery's WHERE too
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.id = t.id AND t2.v = ANY ('{1,2,3,4,5}'))$$);
SET shardfdw.large_array_threshold = 0;
SELECT pg_temp.worker_where($$SELECT count(*) FROM t WHERE v = ANY ('{1,2,3,4,5}')$$);
SET shardfdw.large_array_threshold = 3;

--
-- results: the same as local tables, NULLs included
--
SELECT pg_temp.lacheck('literal', $$SELECT count(*), sum(b) FROM t WHERE v = ANY ('{1,2,3,4,5,17,299}')$$);
SELECT pg_temp.lacheck('literal, NULL element', $$SELECT id, v FROM t WHERE v = ANY ('{1,2,NULL,4,5}')$$);
SELECT pg_temp.lacheck('literal, NULL element, negated', $$SELECT count(*) FROM t WHERE NOT (v = ANY ('{1,2,NULL,4,5}'))$$);
SELECT pg_temp.lacheck('literal, IS NOT TRUE', $$SELECT count(*) FROM t WHERE (v = ANY ('{1,2,NULL,4,5}')) IS NOT TRUE$$);
SELECT pg_temp.lacheck('IN list', $$SELECT id, b FROM t WHERE v IN (1, 2, NULL, 4, 5, 250) AND b > 10$$);
SELECT pg_temp.lacheck('IN list, negated', $$SELECT count(*) FROM t WHERE v NOT IN (1, 2, 4, 5, 250)$$);
SELECT pg_temp.lacheck('literal, no match', $$SELECT count(*) FROM t WHERE v = ANY ('{1001,1002,1003,1004}')$$);
SELECT pg_temp.lacheck('literal, cross-type', $$SELECT count(*) FROM t WHERE v = ANY ('{1,2,3,4,5}'::bigint[])$$);
SELECT pg_temp.lacheck('literal, text', $$SELECT s, count(*) FROM t WHERE s = ANY ('{s1,s2,s3,s4,s39}') GROUP BY s$$);
SELECT pg_temp.lacheck('literal, text C', $$SELECT c, count(*) FROM t WHERE c = ANY ('{c1,c2,c3,c4,c39}') GROUP BY c$$);
SELECT pg_temp.lacheck('literal, key', $$SELECT id, v FROM t WHERE id = ANY ('{1,2,3,4,5,6}')$$);
SELECT pg_temp.lacheck('literal, rows streamed', $$SELECT id, b FROM t WHERE v = ANY ('{1,2,3,4,5,6,7,8,9}') ORDER BY id$$, true);
-- a coordinator subquery's values (398 values and a NULL)
SELECT pg_temp.lacheck('coordinator subquery', $$SELECT count(*), sum(b) FROM t WHERE v IN (SELECT y FROM o)$$);
SELECT pg_temp.lacheck('coordinator subquery, grouped', $$SELECT s, count(*) FROM t WHERE v IN (SELECT y FROM o WHERE oid > 20) GROUP BY s$$);
SELECT pg_temp.lacheck('coordinator subquery, rows', $$SELECT id, v FROM t WHERE v IN (SELECT y FROM o) AND b < 1000$$);
SELECT pg_temp.lacheck('coordinator subquery, rows ordered', $$SELECT id, v FROM t WHERE v IN (SELECT y FROM o) ORDER BY id LIMIT 20$$, true);
SELECT pg_temp.lacheck('coordinator subquery, NOT IN', $$SELECT count(*) FROM t WHERE v NOT IN (SELECT y FROM o)$$);
SELECT pg_temp.lacheck('coordinator subquery, NOT IN without NULL', $$SELECT count(*) FROM t WHERE v NOT IN (SELECT y FROM o WHERE y IS NOT NULL)$$);
SELECT pg_temp.lacheck('coordinator subquery, = ANY', $$SELECT count(*) FROM t WHERE v = ANY (SELECT y FROM o)$$);
SELECT pg_temp.lacheck('coordinator subquery, under OR', $$SELECT count(*) FROM t WHERE v IN (SELECT y FROM o) OR b = 14$$);
-- the same at the default threshold
RESET shardfdw.large_array_threshold;
SELECT pg_temp.lacheck('coordinator subquery, default threshold', $$SELECT count(*), sum(b) FROM t WHERE v IN (SELECT y FROM o)$$);
SET shardfdw.large_array_threshold = 3;

-- the subquery's array goes once to each worker, as a parameter
SET client_min_messages = debug1;
SELECT count(*), sum(b) FROM la_dist.t WHERE v IN (SELECT y FROM la_dist.o);
SELECT count(*) FROM la_dist.t WHERE v IN (SELECT y FROM la_dist.o WHERE oid < 20);
SET client_min_messages = warning;

--
-- prepared statements: an array parameter
--
PREPARE dist_arr(int[]) AS SELECT count(*), sum(b), min(id) FROM la_dist.t WHERE v = ANY ($1);
PREPARE local_arr(int[]) AS SELECT count(*), sum(b), min(id) FROM la_local.t WHERE v = ANY ($1);
PREPARE dist_rows(int[]) AS SELECT id, v FROM la_dist.t WHERE v = ANY ($1) ORDER BY id LIMIT 5;
PREPARE local_rows(int[]) AS SELECT id, v FROM la_local.t WHERE v = ANY ($1) ORDER BY id LIMIT 5;
SET plan_cache_mode = force_generic_plan;
SELECT array_agg(g) AS arr FROM generate_series(0, 598, 2) g \gset
SET client_min_messages = debug1;
EXECUTE dist_arr(:'arr') \gset d_
SET client_min_messages = warning;
EXECUTE local_arr(:'arr') \gset l_
SELECT :'d_count' = :'l_count' AND :'d_sum' = :'l_sum' AND :'d_min' = :'l_min' AS same, :'d_count' AS rows;
SET client_min_messages = debug1;
EXECUTE dist_rows(:'arr');
SET client_min_messages = warning;
EXECUTE local_rows(:'arr');
SELECT array_agg(g) || NULL::int AS arr FROM generate_series(1, 150) g \gset
EXECUTE dist_arr(:'arr') \gset d_
EXECUTE local_arr(:'arr') \gset l_
SELECT :'d_count' = :'l_count' AND :'d_sum' = :'l_sum' AND :'d_min' = :'l_min' AS same, :'d_count' AS rows;
EXECUTE dist_arr('{}') \gset d_
EXECUTE local_arr('{}') \gset l_
SELECT :'d_count' = :'l_count' AS same, :'d_count' AS rows;
EXECUTE dist_arr(NULL) \gset d_
SELECT :'d_count' AS rows_for_null;
RESET plan_cache_mode;
DEALLOCATE ALL;

--
-- DML: statements per shard, the array as a literal
--
SELECT pg_temp.ladml('UPDATE, literal', $$UPDATE t SET b = b + 1 WHERE v = ANY ('{3,6,9,12,15}') RETURNING id, b$$, 't');
SELECT pg_temp.ladml('DELETE, coordinator subquery', $$DELETE FROM t WHERE v IN (SELECT y FROM o WHERE oid BETWEEN 10 AND 40) RETURNING id, v$$, 't');

RESET shardfdw.large_array_threshold;
DROP SCHEMA la_dist CASCADE;
DROP SCHEMA la_local CASCADE;
