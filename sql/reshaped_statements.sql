--
-- reshaped_statements: statements the strategies declined as written,
-- rewritten on a copy into equivalent ones they take
-- (src/planner/reshape.c): outer joins whose NULL-extended rows WHERE
-- rejects planned as inner joins (a reference table preserved by a LEFT
-- JOIN no longer keeps the statement off the workers), a SELECT that only
-- returns its one FROM subquery's columns planned as that subquery
-- (SELECT * FROM an aggregated view, subquery or CTE), a MATERIALIZED
-- CTE referenced once inlined like any other; and when the statement is
-- still declined, its self-contained subqueries that the strategies take
-- run as distributed plans under PostgreSQL's plan of the rest
-- (src/planner/subquery_graft.c).  Each statement runs on
-- distributed tables (schema rs_dist) and on the same rows in local tables
-- (rs_local); the rows are compared (as multisets, or in order) and the
-- strategy of the distributed one is shown ("standard": the standard
-- planner and the FDW, which must still give the right rows).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.rcheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_check(label, q, 'rs_dist', 'rs_local', ordered) $$;
-- the same with a prepared statement (custom or generic plan)
\set f :abs_srcdir '/sql/include/prepared_compare.sql'
\i :f
CREATE FUNCTION pg_temp.rprep(label text, decl text, q text, args text, generic boolean) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_prep(label, decl, q, args, generic, 'rs_dist', 'rs_local') $$;

CREATE SCHEMA rs_dist;
CREATE SCHEMA rs_local;
CREATE TABLE rs_dist.a (k int, x int, s text, n numeric);
SELECT create_distributed_table('rs_dist.a', 'k', shard_count => 4);
CREATE TABLE rs_dist.b (k int, y int, s text);
SELECT create_distributed_table('rs_dist.b', 'k', colocate_with => 'rs_dist.a');
CREATE TABLE rs_dist.r (k int, name text);
SELECT create_reference_table('rs_dist.r');
CREATE TABLE rs_local.a (k int, x int, s text, n numeric);
CREATE TABLE rs_local.b (k int, y int, s text);
CREATE TABLE rs_local.r (k int, name text);
-- x repeats across shards and matches some reference rows in several
-- shards, some in none; NULL keys and NULL values
INSERT INTO rs_local.a SELECT g, g % 5, 's' || (g % 3), g * 1.5 FROM generate_series(1, 30) g;
INSERT INTO rs_local.a VALUES (NULL, 1, 's1', NULL), (NULL, NULL, NULL, 2), (5, NULL, 's2', 0), (7, 3, NULL, 1.50);
INSERT INTO rs_local.b SELECT g, g % 4, 's' || (g % 2) FROM generate_series(3, 40, 3) g;
INSERT INTO rs_local.b VALUES (NULL, 1, 's1'), (5, NULL, NULL);
INSERT INTO rs_local.r SELECT g, 'n' || (g % 4) FROM generate_series(0, 8) g;
INSERT INTO rs_local.r VALUES (NULL, 'none');
INSERT INTO rs_dist.a SELECT * FROM rs_local.a;
INSERT INTO rs_dist.b SELECT * FROM rs_local.b;
INSERT INTO rs_dist.r SELECT * FROM rs_local.r;
-- aggregated views over each side
CREATE VIEW rs_dist.v AS SELECT x, count(*) AS c, sum(n) AS total FROM rs_dist.a GROUP BY x;
CREATE VIEW rs_local.v AS SELECT x, count(*) AS c, sum(n) AS total FROM rs_local.a GROUP BY x;

\pset tuples_only on
\pset format unaligned

-- outer joins reduced to inner joins by a strict WHERE condition on the
-- nullable side: a preserved reference table no longer keeps the
-- statement off the workers
SELECT pg_temp.rcheck('left join, reference preserved, strict WHERE', $q$SELECT r.k, r.name, a.k, a.x FROM r LEFT JOIN a ON a.x = r.k WHERE a.s <> 's0'$q$);
SELECT pg_temp.rcheck('right join, reference preserved, IS NOT NULL', $q$SELECT r.name, a.k FROM a RIGHT JOIN r ON r.k = a.x WHERE a.s IS NOT NULL$q$);
SELECT pg_temp.rcheck('left join, OR of strict conditions on the nullable side', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE (a.x = 1 OR a.n > 20)$q$);
SELECT pg_temp.rcheck('left join, strict condition through an inner join above', $q$SELECT r.k, a.k, b.y FROM (r LEFT JOIN a ON a.x = r.k) JOIN b ON b.k = a.k$q$);
SELECT pg_temp.rcheck('count(*) grouped by the reference table, strict WHERE', $q$SELECT r.name, count(*), sum(a.n) FROM r LEFT JOIN a ON a.x = r.k WHERE a.k > 3 GROUP BY r.name$q$);
SELECT pg_temp.rcheck('count(*) without GROUP BY, strict WHERE', $q$SELECT count(*), count(r.name) FROM a RIGHT JOIN r ON r.k = a.x WHERE a.x BETWEEN 1 AND 3$q$);
SELECT pg_temp.rcheck('full join, strict on the distributed side: right join', $q$SELECT r.k, a.k FROM r FULL JOIN a ON a.x = r.k WHERE a.k IS NOT NULL$q$);
SELECT pg_temp.rcheck('full join, strict on both sides: inner join', $q$SELECT r.k, a.k FROM r FULL JOIN a ON a.x = r.k WHERE a.k > 0 AND r.name > 'n1'$q$);
SELECT pg_temp.rcheck('ordered with LIMIT', $q$SELECT r.name, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE a.n < 30 ORDER BY a.k DESC, r.name LIMIT 6$q$, true);
SELECT pg_temp.rcheck('two outer joins, the lower one reduced', $q$SELECT r.k, a.k, b.k FROM r LEFT JOIN (a LEFT JOIN b ON b.k = a.k) ON a.x = r.k WHERE b.y IS NOT NULL$q$);
SELECT pg_temp.rcheck('in a FROM subquery (its own WHERE), pinned', $q$SELECT count(*), max(s.y) FROM (SELECT DISTINCT a.x, b.y FROM a LEFT JOIN b ON b.k = a.k WHERE a.k = 9 AND b.y > 0) s$q$);
-- not rejected: declined, still right
SELECT pg_temp.rcheck('left join, IS NULL on the nullable side', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE a.k IS NULL$q$);
SELECT pg_temp.rcheck('left join, coalesce on the nullable side', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE coalesce(a.s, 'z') <> 's1'$q$);
SELECT pg_temp.rcheck('left join, OR with the preserved side', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE (a.x = 1 OR r.k = 7)$q$);
SELECT pg_temp.rcheck('left join, IS DISTINCT FROM', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE a.s IS DISTINCT FROM 's1'$q$);
SELECT pg_temp.rcheck('left join, condition only in ON', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k AND a.s <> 's0'$q$);
SELECT pg_temp.rcheck('left join, condition in the ON of an outer join above', $q$SELECT b.k, r.k, a.k FROM b LEFT JOIN (r LEFT JOIN a ON a.x = r.k) ON a.k = b.k$q$);
SELECT pg_temp.rcheck('right join USING (its merged column is the right one)', $q$SELECT k, r.name FROM a RIGHT JOIN r USING (k) WHERE a.x > 0$q$);
SELECT pg_temp.rcheck('count(*) grouped by the reference table, no WHERE', $q$SELECT r.name, count(*) FROM r LEFT JOIN a ON a.x = r.k GROUP BY r.name$q$);
-- parameters
SELECT pg_temp.rprep('left join, strict parameter condition, generic', 'int', $q$SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE a.k > $1$q$, '10', true);
SELECT pg_temp.rprep('left join, strict parameter condition, custom', 'int', $q$SELECT r.name, count(*) FROM r LEFT JOIN a ON a.x = r.k WHERE a.x <> $1 GROUP BY r.name$q$, '2', false);

-- a SELECT that only returns its FROM subquery's columns: the subquery
SELECT pg_temp.rcheck('select * from an aggregated subquery', $q$SELECT * FROM (SELECT x, count(*), sum(n) FROM a GROUP BY x) s$q$);
SELECT pg_temp.rcheck('select * from an aggregated view', $q$SELECT * FROM v$q$);
SELECT pg_temp.rcheck('its columns by name, in order', $q$SELECT v.x, v.c, v.total FROM v$q$);
SELECT pg_temp.rcheck('select * from a CTE', $q$WITH c AS (SELECT s, count(DISTINCT x) AS d FROM a GROUP BY s) SELECT * FROM c$q$);
SELECT pg_temp.rcheck('select * from a MATERIALIZED CTE', $q$WITH c AS MATERIALIZED (SELECT s, max(k) FROM a GROUP BY s) SELECT * FROM c$q$);
SELECT pg_temp.rcheck('select * from a DISTINCT subquery', $q$SELECT * FROM (SELECT DISTINCT x, s FROM a) s$q$);
SELECT pg_temp.rcheck('select * from an ordered, limited subquery', $q$SELECT * FROM (SELECT k, x FROM a ORDER BY x DESC NULLS LAST, k NULLS LAST LIMIT 7) s$q$, true);
SELECT pg_temp.rcheck('two levels of it', $q$SELECT * FROM (SELECT * FROM (SELECT x, count(*) FROM a GROUP BY x) s1) s2$q$);
SELECT pg_temp.rcheck('over a reduced outer join', $q$SELECT * FROM (SELECT r.name, count(*) FROM r LEFT JOIN a ON a.x = r.k WHERE a.k < 20 GROUP BY r.name) s$q$);
-- not only its columns in order: not the subquery itself (a grafted
-- subquery below, or with a condition on it the standard path)
SELECT pg_temp.rcheck('some of its columns', $q$SELECT c FROM v$q$);
SELECT pg_temp.rcheck('its columns in another order', $q$SELECT total, x, c FROM v$q$);
SELECT pg_temp.rcheck('with WHERE', $q$SELECT * FROM v WHERE c > 1$q$);
SELECT pg_temp.rcheck('with ORDER BY', $q$SELECT * FROM v ORDER BY x NULLS FIRST$q$, true);
SELECT pg_temp.rcheck('a window not partitioned by the key', $q$SELECT * FROM (SELECT k, rank() OVER (ORDER BY x, k) FROM a) s$q$);
SELECT pg_temp.rprep('select * from an aggregated subquery with a parameter, generic', 'int', $q$SELECT * FROM (SELECT x, count(*) FROM a WHERE k > $1 GROUP BY x) s$q$, '4', true);

-- self-contained subqueries (and CTEs PostgreSQL materializes) that the
-- strategies take, run as distributed plans under the standard planner's
-- plan of the rest (subquery_graft.c)
SELECT pg_temp.rcheck('count(*) over an ordered, limited subquery', $q$SELECT count(*), max(k), sum(x) FROM (SELECT k, x FROM a ORDER BY x NULLS LAST, k NULLS LAST LIMIT 7) s$q$);
SELECT pg_temp.rcheck('WHERE over a limited subquery', $q$SELECT s.k, s.x FROM (SELECT k, x FROM a ORDER BY k NULLS LAST LIMIT 12) s WHERE s.x > 1$q$);
SELECT pg_temp.rcheck('a CTE referenced twice', $q$WITH c AS (SELECT x, count(*) AS n FROM a GROUP BY x) SELECT * FROM c WHERE (SELECT count(*) FROM c) > 2$q$);
SELECT pg_temp.rcheck('a MATERIALIZED CTE referenced twice', $q$WITH c AS MATERIALIZED (SELECT x, count(*) AS n FROM a GROUP BY x) SELECT c1.x, c2.n FROM c c1 JOIN c c2 ON c2.x = c1.x$q$);
SELECT pg_temp.rcheck('count(DISTINCT whole row) of a MATERIALIZED CTE', $q$WITH c AS MATERIALIZED (SELECT DISTINCT x, s FROM a) SELECT count(*), count(DISTINCT c) FROM c$q$);
SELECT pg_temp.rcheck('count(DISTINCT whole row) of a CTE referenced once', $q$WITH c AS (SELECT DISTINCT x, s FROM a) SELECT count(*), count(DISTINCT c) FROM c$q$);
SELECT pg_temp.rcheck('whole rows of subqueries as text, UNION', $q$(SELECT t::text FROM (SELECT x, count(*) FROM a GROUP BY x) t) UNION (SELECT u::text FROM (SELECT DISTINCT s FROM b) u)$q$);
SELECT pg_temp.rcheck('aggregated subquery joined with a table read by the FDW', $q$SELECT b.k, s.n FROM (SELECT x, count(*) AS n FROM a GROUP BY x) s JOIN b ON b.y = s.x$q$);
SELECT pg_temp.rprep('over a DISTINCT subquery with a parameter, generic', 'int', $q$SELECT count(*) FROM (SELECT DISTINCT s FROM a WHERE k > $1) q$q$, '3', true);
SELECT pg_temp.rprep('over a DISTINCT subquery with a parameter, custom', 'int', $q$SELECT count(*) FROM (SELECT DISTINCT s FROM a WHERE k > $1) q$q$, '3', false);
-- not grafted: declined, still right
SELECT pg_temp.rcheck('a condition on an aggregated subquery alone (pushed into it)', $q$SELECT * FROM (SELECT x, count(*) AS n FROM a GROUP BY x) s WHERE s.x = 2$q$);
SELECT pg_temp.rcheck('a condition on a CTE referenced once (pushed into it)', $q$WITH c AS (SELECT x, count(*) AS n FROM a GROUP BY x) SELECT c.n FROM c WHERE c.x = 2$q$);
SELECT pg_temp.rcheck('LATERAL', $q$SELECT a.k, l.c FROM a, LATERAL (SELECT count(*) AS c FROM b WHERE b.y = a.x) l$q$);
SELECT pg_temp.rcheck('a subquery the strategies decline', $q$SELECT count(*) FROM (SELECT k, rank() OVER (ORDER BY x, k) FROM a) s$q$);

\pset tuples_only off
\pset format aligned
SET search_path = rs_dist, public;
-- the output columns keep the names the SELECT gives them
SELECT pg_temp.strategy_tasks($q$SELECT * FROM (SELECT x, count(*), sum(n) FROM a WHERE x = 2 GROUP BY x) s (p, q)$q$, 'rs_dist, public');
SELECT * FROM (SELECT x, count(*), sum(n) FROM a WHERE x = 2 GROUP BY x) s (p, q);
WITH c (p, q) AS (SELECT x, count(*) FROM a WHERE x = 2 GROUP BY x) SELECT * FROM c;
-- the worker statement: the inner join
SELECT * FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF, VERBOSE) SELECT r.k, a.k FROM r LEFT JOIN a ON a.x = r.k WHERE a.s <> 's0' AND a.k IN (3, 4)$q$);
-- a grafted subquery: a CTE of the standard planner's plan
SELECT * FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF) SELECT count(*), max(k) FROM (SELECT k, x FROM a ORDER BY x NULLS LAST, k NULLS LAST LIMIT 7) s$q$);
RESET search_path;

DROP SCHEMA rs_dist, rs_local CASCADE;
