--
-- set_operations: UNION [ALL] / INTERSECT [ALL] / EXCEPT [ALL] whose
-- branches read distributed tables run as one task per shard
-- (src/planner/shard_local.c, set_operation_branches): UNION ALL when
-- every branch keeps the shards apart; the other operations only when the
-- distribution column is the same output column of every branch they
-- compare (equal rows are then rows of one shard); also as a FROM
-- subquery or an IN (...) subquery exposing the key, and correlated on
-- the key in every branch.  Each statement runs on distributed
-- tables (schema so_dist) and on the same rows in local tables (so_local);
-- the rows are compared (as multisets, or in order) and the strategy of
-- the distributed one is shown ("standard": the standard planner and the
-- FDW, which must still give the right rows; a set operation declined as a
-- whole shows the strategy of its first branch that runs as a distributed
-- plan under the standard plan).  The data has NULL keys,
-- rows repeated across branches, and non-key values repeated across
-- shards.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.scheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_check(label, q, 'so_dist', 'so_local', ordered) $$;
-- the same with a prepared statement (custom or generic plan)
\set f :abs_srcdir '/sql/include/prepared_compare.sql'
\i :f
CREATE FUNCTION pg_temp.sprep(label text, decl text, q text, args text, generic boolean) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_prep(label, decl, q, args, generic, 'so_dist', 'so_local') $$;

CREATE SCHEMA so_dist;
CREATE SCHEMA so_local;
CREATE TABLE so_dist.a (k int, x int, s text);
SELECT create_distributed_table('so_dist.a', 'k', shard_count => 4);
CREATE TABLE so_dist.b (k int, y int, s text);
SELECT create_distributed_table('so_dist.b', 'k', colocate_with => 'so_dist.a');
-- co-located, distributed by id: its k is not a distribution column
CREATE TABLE so_dist.c (id int, k int);
SELECT create_distributed_table('so_dist.c', 'id', colocate_with => 'so_dist.a');
CREATE TABLE so_dist.r (k int, name text);
SELECT create_reference_table('so_dist.r');
-- another co-location group (bigint key)
CREATE TABLE so_dist.o (k bigint, z int);
SELECT create_distributed_table('so_dist.o', 'k', shard_count => 3);
CREATE TABLE so_local.a (k int, x int, s text);
CREATE TABLE so_local.b (k int, y int, s text);
CREATE TABLE so_local.c (id int, k int);
CREATE TABLE so_local.r (k int, name text);
CREATE TABLE so_local.o (k bigint, z int);
-- a plain table of the coordinator in both schemas (the same rows)
CREATE TABLE so_dist.l (k int, v int);
CREATE TABLE so_local.l (k int, v int);
-- x repeats across shards; NULL keys and NULL values; b repeats some rows
-- of a (and some of its own), so INTERSECT / EXCEPT have work to do
INSERT INTO so_local.a SELECT g, g % 4, 's' || (g % 3) FROM generate_series(1, 30) g;
INSERT INTO so_local.a VALUES (NULL, 1, 's1'), (NULL, 1, 's1'), (NULL, NULL, NULL), (5, NULL, 's2'), (5, 1, 's1');
INSERT INTO so_local.b SELECT g, g % 4, 's' || (g % 3) FROM generate_series(10, 40, 2) g;
INSERT INTO so_local.b SELECT g, g % 4, 's' || (g % 3) FROM generate_series(10, 20, 5) g;
INSERT INTO so_local.b VALUES (NULL, 1, 's1'), (NULL, 2, NULL), (7, NULL, 's0');
INSERT INTO so_local.c SELECT g, g % 9 FROM generate_series(1, 25) g;
INSERT INTO so_local.c VALUES (NULL, 3), (26, NULL);
INSERT INTO so_local.r SELECT g, 'n' || g FROM generate_series(0, 3) g;
INSERT INTO so_local.o SELECT g, g * 2 FROM generate_series(1, 12) g;
INSERT INTO so_dist.a SELECT * FROM so_local.a;
INSERT INTO so_dist.b SELECT * FROM so_local.b;
INSERT INTO so_dist.c SELECT * FROM so_local.c;
INSERT INTO so_dist.r SELECT * FROM so_local.r;
INSERT INTO so_dist.o SELECT * FROM so_local.o;
INSERT INTO so_local.l VALUES (1, 1), (5, 1), (5, 1), (12, 0), (NULL, 1), (33, NULL);
INSERT INTO so_dist.l SELECT * FROM so_local.l;

\pset tuples_only on
\pset format unaligned

-- UNION ALL: each branch keeps the shards apart, the tasks' rows appended
SELECT pg_temp.scheck('union all, key and values', $q$SELECT k, x FROM a UNION ALL SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union all, no key in the output', $q$SELECT x, s FROM a UNION ALL SELECT y, s FROM b$q$);
SELECT pg_temp.scheck('union all, three branches, key in other places', $q$SELECT k, x FROM a UNION ALL SELECT y, k FROM b UNION ALL SELECT k, id FROM c$q$);
SELECT pg_temp.scheck('union all, co-located join and reference table', $q$SELECT a.k, r.name FROM a JOIN r ON r.k = a.x UNION ALL SELECT b.k, r.name FROM b JOIN b b2 ON b2.k = b.k AND b2.y = b.y JOIN r ON r.k = b.y$q$);
SELECT pg_temp.scheck('union all, branches grouped by the key', $q$SELECT k, count(*) FROM a GROUP BY k UNION ALL SELECT k, sum(y) FROM b GROUP BY k$q$);
SELECT pg_temp.scheck('union all, window partitioned by the key', $q$SELECT k, x, row_number() OVER (PARTITION BY k ORDER BY x, s) FROM a UNION ALL SELECT k, y, 0 FROM b$q$);
SELECT pg_temp.scheck('union all, pinned branch and unpinned branch', $q$SELECT k, x FROM a WHERE k = 5 UNION ALL SELECT k, y FROM b WHERE y = 0$q$);
SELECT pg_temp.scheck('union all, ORDER BY LIMIT OFFSET', $q$SELECT k, x FROM a UNION ALL SELECT k, y FROM b ORDER BY 2 DESC NULLS FIRST, 1 NULLS FIRST LIMIT 7 OFFSET 3$q$, true);
SELECT pg_temp.scheck('union all, ORDER BY text, no LIMIT', $q$SELECT s, k FROM a UNION ALL SELECT s, k FROM b ORDER BY 1 NULLS LAST, 2 NULLS LAST$q$, true);
-- branches that do not keep the shards apart: declined as a whole; the
-- standard plan runs each branch that reads distributed tables as its own
-- distributed plan (subquery_graft.c: the strategy shown is the first
-- such branch's), still right
SELECT pg_temp.scheck('union all, constant branch', $q$SELECT k, x FROM a UNION ALL SELECT 1, 2$q$);
SELECT pg_temp.scheck('union all, reference table branch', $q$SELECT k, x FROM a UNION ALL SELECT k, 0 FROM r$q$);
SELECT pg_temp.scheck('union all, branch grouped by a non-key', $q$SELECT k, x FROM a UNION ALL SELECT y, count(*)::int FROM b GROUP BY y$q$);
SELECT pg_temp.scheck('union all, DISTINCT non-key branch', $q$SELECT x FROM a UNION ALL SELECT DISTINCT y FROM b$q$);
SELECT pg_temp.scheck('union all, branch with LIMIT', $q$SELECT k FROM a UNION ALL (SELECT k FROM b ORDER BY k LIMIT 3)$q$);
SELECT pg_temp.scheck('union all, other co-location group', $q$SELECT k FROM a UNION ALL SELECT k::int FROM o$q$);
SELECT pg_temp.scheck('union all, branch with an uncorrelated IN subquery', $q$SELECT k, x FROM a WHERE k IN (SELECT k FROM b WHERE y = 2) UNION ALL SELECT k, y FROM b WHERE y = 3$q$);
SELECT pg_temp.scheck('union all, reference table preserved by an outer join', $q$SELECT r.k, a.x FROM r LEFT JOIN a ON a.k = r.k UNION ALL SELECT k, y FROM b$q$);

-- UNION / INTERSECT / EXCEPT: the key in the same column of every branch
SELECT pg_temp.scheck('union, key first', $q$SELECT k, x FROM a UNION SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union, key only (NULL keys)', $q$SELECT k FROM a UNION SELECT k FROM b$q$);
SELECT pg_temp.scheck('union, key second', $q$SELECT s, k FROM a UNION SELECT s, k FROM b$q$);
SELECT pg_temp.scheck('intersect', $q$SELECT k, x FROM a INTERSECT SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('intersect all', $q$SELECT k, x, s FROM a INTERSECT ALL SELECT k, y, s FROM b$q$);
SELECT pg_temp.scheck('except', $q$SELECT k, x FROM a EXCEPT SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('except all', $q$SELECT k, s FROM b EXCEPT ALL SELECT k, s FROM a$q$);
SELECT pg_temp.scheck('union of intersect and except', $q$(SELECT k, x FROM a INTERSECT SELECT k, y FROM b) UNION (SELECT k, y FROM b EXCEPT SELECT k, x FROM a)$q$);
SELECT pg_temp.scheck('union, ORDER BY LIMIT', $q$SELECT k, x FROM a UNION SELECT k, y FROM b ORDER BY 1 DESC NULLS LAST, 2 NULLS LAST LIMIT 6$q$, true);
-- a UNION ALL above or below them: the key where rows are compared
SELECT pg_temp.scheck('intersect under union all with a non-key column', $q$(SELECT k, x FROM a INTERSECT SELECT k, y FROM b) UNION ALL SELECT k, id FROM c$q$);
SELECT pg_temp.scheck('union all under except, the key everywhere', $q$(SELECT k, x FROM a UNION ALL SELECT id, k FROM c) EXCEPT SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union, pinned to one shard (router)', $q$SELECT k, x FROM a WHERE k = 12 UNION SELECT k, y FROM b WHERE k = 12$q$);
-- declined as a whole, branches grafted as above, still right
SELECT pg_temp.scheck('union of non-key columns', $q$SELECT x FROM a UNION SELECT y FROM b$q$);
SELECT pg_temp.scheck('union of non-key columns with values repeated across shards', $q$SELECT x, s FROM a UNION SELECT y, s FROM b$q$);
SELECT pg_temp.scheck('intersect of non-key columns', $q$SELECT x FROM a INTERSECT SELECT y FROM b$q$);
SELECT pg_temp.scheck('except, key in different columns', $q$SELECT k, x FROM a EXCEPT SELECT y, k FROM b$q$);
SELECT pg_temp.scheck('union, key of a non-distribution column', $q$SELECT k, x FROM a UNION SELECT k, id FROM c$q$);
SELECT pg_temp.scheck('union, key cast in one branch', $q$SELECT k::bigint, x FROM a UNION SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union, key coerced by the other branch', $q$SELECT k, x FROM a UNION SELECT k::bigint, y FROM b$q$);
SELECT pg_temp.scheck('union, key on the nullable side of an outer join', $q$SELECT a.k, b.y FROM b LEFT JOIN a ON a.k = b.k AND a.x = b.y UNION SELECT k, x FROM a$q$);
SELECT pg_temp.scheck('union all with a non-key column under except', $q$(SELECT k, x FROM a UNION ALL SELECT k, id FROM c) EXCEPT SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('intersect under union all, key in other places', $q$SELECT k, x FROM a UNION ALL (SELECT k, y FROM b INTERSECT SELECT x, k FROM a)$q$);

-- as a FROM subquery exposing the key
SELECT pg_temp.scheck('count(*) over union all', $q$SELECT count(*) FROM (SELECT k FROM a UNION ALL SELECT k FROM b) s$q$);
SELECT pg_temp.scheck('aggregates over union', $q$SELECT count(*), sum(x), count(DISTINCT x) FROM (SELECT k, x FROM a UNION SELECT k, y FROM b) s$q$);
SELECT pg_temp.scheck('grouped by the key over union all', $q$SELECT k, count(*), max(x) FROM (SELECT k, x FROM a UNION ALL SELECT k, y FROM b) s GROUP BY k$q$);
SELECT pg_temp.scheck('grouped by a non-key over except', $q$SELECT x, count(*) FROM (SELECT k, x FROM a EXCEPT SELECT k, y FROM b) s GROUP BY x$q$);
SELECT pg_temp.scheck('joined on the key', $q$SELECT a.k, a.x, s.y FROM a JOIN (SELECT k, y FROM b UNION ALL SELECT k, x FROM a WHERE x = 0) s ON s.k = a.k WHERE a.x < 3$q$);
SELECT pg_temp.scheck('left joined on the key', $q$SELECT a.k, s.y FROM a LEFT JOIN (SELECT k, y FROM b INTERSECT SELECT k, x FROM a) s ON s.k = a.k$q$);
SELECT pg_temp.scheck('key IN intersect', $q$SELECT k, x FROM a WHERE k IN (SELECT k FROM b INTERSECT SELECT k FROM a WHERE x > 0)$q$);
SELECT pg_temp.scheck('ORDER BY LIMIT over a union all subquery', $q$SELECT s.k, s.x FROM (SELECT k, x FROM a UNION ALL SELECT k, y FROM b) s ORDER BY s.x NULLS FIRST, s.k NULLS FIRST LIMIT 5$q$, true);
-- declined, still right
SELECT pg_temp.scheck('count(*) over union all without the key', $q$SELECT count(*) FROM (SELECT x FROM a UNION ALL SELECT y FROM b) s$q$);
SELECT pg_temp.scheck('join on a non-key column of a union', $q$SELECT a.k, s.x FROM a JOIN (SELECT k, x FROM a UNION SELECT k, y FROM b) s ON s.x = a.k$q$);
SELECT pg_temp.scheck('key NOT IN union', $q$SELECT k, x FROM a WHERE k NOT IN (SELECT k FROM b WHERE k IS NOT NULL UNION SELECT k FROM c WHERE k IS NOT NULL)$q$);

-- correlated on the key in every branch (EXISTS, scalar subquery): each
-- branch reads the enclosing row's shard only
SELECT pg_temp.scheck('EXISTS of a correlated union all', $q$SELECT k, x FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.y > 1 UNION ALL SELECT 1 FROM c WHERE c.id = a.k AND c.k = 2)$q$);
SELECT pg_temp.scheck('scalar count over a correlated except', $q$SELECT k, (SELECT count(*) FROM (SELECT y FROM b WHERE b.k = a.k EXCEPT SELECT x FROM a a2 WHERE a2.k = a.k) s) FROM a$q$);
SELECT pg_temp.scheck('NOT EXISTS of a correlated intersect', $q$SELECT k, x FROM a WHERE NOT EXISTS (SELECT y FROM b WHERE b.k = a.k INTERSECT SELECT x FROM a a2 WHERE a2.k = a.k)$q$);
-- declined, still right
SELECT pg_temp.scheck('EXISTS of a union all correlated on a non-key in one branch', $q$SELECT k, x FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k UNION ALL SELECT 1 FROM c WHERE c.k = a.k)$q$);

-- aggregated branches (GROUP BY, HAVING, DISTINCT, aggregates without
-- GROUP BY, ORDER BY / LIMIT in parentheses), branches of reference tables,
-- local tables and VALUES, and such set operations in FROM / CTEs that are
-- aggregated or joined (the shapes of the generator's "setagg" statements)
SELECT pg_temp.scheck('union, branches grouped by the key', $q$SELECT k, count(*) FROM a GROUP BY k UNION SELECT k, count(*) FROM b GROUP BY k$q$);
SELECT pg_temp.scheck('intersect, HAVING in a branch', $q$SELECT k, count(*) FROM a GROUP BY k HAVING count(*) < 3 INTERSECT SELECT k, count(*) FROM b GROUP BY k$q$);
SELECT pg_temp.scheck('except all, DISTINCT branch', $q$SELECT DISTINCT k, x FROM a EXCEPT ALL SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union, branch grouped by the key and a non-key', $q$SELECT k, x FROM a GROUP BY k, x UNION SELECT k, y FROM b$q$);
SELECT pg_temp.scheck('union of a grouped branch and an intersect with HAVING', $q$SELECT k, count(*) FROM a GROUP BY k UNION (SELECT k, count(*) FROM b GROUP BY k HAVING count(*) > 1 INTERSECT SELECT k, count(*) FROM a GROUP BY k)$q$);
SELECT pg_temp.scheck('count over a union of grouped branches', $q$SELECT count(*), sum(n) FROM (SELECT k, count(*) AS n FROM a GROUP BY k UNION SELECT k, count(*) FROM b GROUP BY k) s$q$);
SELECT pg_temp.scheck('CTE of an intersect of grouped branches, joined on the key, grouped', $q$WITH s AS (SELECT k, count(*) AS n FROM a GROUP BY k INTERSECT SELECT k, count(*) FROM b GROUP BY k) SELECT a.x, count(*), sum(s.n) FROM a JOIN s ON s.k = a.k GROUP BY a.x$q$);
SELECT pg_temp.scheck('grouped by the key over an except of DISTINCT branches', $q$SELECT k, count(*) FROM (SELECT DISTINCT k, x FROM a EXCEPT SELECT DISTINCT k, y FROM b) s GROUP BY k$q$);
-- declined as a whole, branches grafted as above, still right
SELECT pg_temp.scheck('union, aggregates without GROUP BY in a branch', $q$SELECT k, x FROM a UNION SELECT count(*)::int, max(y) FROM b$q$);
SELECT pg_temp.scheck('intersect, branch grouped by a non-key', $q$SELECT k, x FROM a INTERSECT SELECT y, count(*)::int FROM b GROUP BY y$q$);
SELECT pg_temp.scheck('union, branches with ORDER BY LIMIT', $q$(SELECT k, x FROM a ORDER BY 1, 2 LIMIT 4) UNION (SELECT k, y FROM b ORDER BY 1 DESC, 2 LIMIT 3)$q$);
SELECT pg_temp.scheck('except a grouped branch with ORDER BY LIMIT', $q$SELECT k, x FROM a EXCEPT (SELECT k, count(*)::int FROM b GROUP BY k ORDER BY 2 DESC, 1 LIMIT 3)$q$);
SELECT pg_temp.scheck('intersect with a reference table branch', $q$SELECT k, x FROM a INTERSECT SELECT k, k FROM r$q$);
SELECT pg_temp.scheck('except a reference table branch', $q$SELECT k, x FROM a EXCEPT SELECT k, 1 FROM r$q$);
SELECT pg_temp.scheck('union with a local table branch', $q$SELECT k, x FROM a UNION SELECT k, v FROM l$q$);
SELECT pg_temp.scheck('except all, local table first', $q$SELECT k, v FROM l EXCEPT ALL SELECT k, x FROM a$q$);
SELECT pg_temp.scheck('union all, grouped branch and VALUES', $q$SELECT k, count(*)::int FROM a GROUP BY k UNION ALL VALUES (1, 2), (NULL, 3)$q$);
SELECT pg_temp.scheck('union, branches pinned to different shards', $q$SELECT k, x FROM a WHERE k = 3 UNION SELECT k, y FROM b WHERE k = 12$q$);
SELECT pg_temp.scheck('grouped by a non-key over a materialized CTE of a union with a reference table', $q$WITH s AS MATERIALIZED (SELECT k, x FROM a UNION SELECT k, 0 FROM r) SELECT x, count(*) FROM s GROUP BY x$q$);
SELECT pg_temp.scheck('joined on the key with a CTE of a union with a reference table branch', $q$WITH s AS (SELECT k, count(*) AS n FROM a GROUP BY k UNION SELECT k, 1 FROM r) SELECT b.k, b.y, s.n FROM b JOIN s ON s.k = b.k$q$);
SELECT pg_temp.scheck('CTE of a union of non-key columns referenced twice', $q$WITH s AS (SELECT x FROM a UNION SELECT y FROM b) SELECT s1.x, s2.x FROM s s1 JOIN s s2 ON s2.x = s1.x + 1$q$);
SELECT pg_temp.scheck('joined on the key with a union all of a grouped branch and a local table', $q$SELECT b.k, b.y, s.n FROM b JOIN (SELECT k, count(*) AS n FROM a GROUP BY k UNION ALL SELECT k, v FROM l) s ON s.k = b.k$q$);
SELECT pg_temp.sprep('intersect of grouped branches pinned by a parameter, generic', 'int', $q$SELECT k, count(*) FROM a WHERE k = $1 GROUP BY k INTERSECT SELECT k, count(*) FROM b WHERE k = $1 GROUP BY k$q$, '15', true);

-- parameters: tasks made when the statement runs
SELECT pg_temp.sprep('union all with a parameter, generic', 'int', $q$SELECT k, x FROM a WHERE x > $1 UNION ALL SELECT k, y FROM b WHERE y > $1$q$, '1', true);
SELECT pg_temp.sprep('union with a parameter, custom', 'int', $q$SELECT k, x FROM a WHERE x > $1 UNION SELECT k, y FROM b WHERE y > $1$q$, '0', false);
SELECT pg_temp.sprep('except with the key as a parameter, generic', 'int', $q$SELECT k, x FROM a WHERE k = $1 EXCEPT SELECT k, y FROM b WHERE k = $1$q$, '11', true);

-- UPDATE / DELETE reading a set operation that exposes the key
SELECT pg_temp.scheck('update where key IN (intersect)', $q$UPDATE a SET s = s || '+' WHERE k IN (SELECT k FROM b INTERSECT SELECT k FROM a WHERE x = 2) RETURNING k, x, s$q$);
SELECT pg_temp.scheck('the table after it', $q$SELECT * FROM a$q$);
SELECT pg_temp.scheck('delete using a union all joined on the key', $q$DELETE FROM b USING (SELECT k, x FROM a WHERE x = 3 UNION ALL SELECT id, k FROM c WHERE k = 0) s WHERE s.k = b.k RETURNING b.k, b.y$q$);
SELECT pg_temp.scheck('the table after it', $q$SELECT * FROM b$q$);

-- the GUC turns it off
SET shardfdw.enable_multi_shard = off;
SELECT pg_temp.scheck('union all, enable_multi_shard off', $q$SELECT k, x FROM a UNION ALL SELECT k, y FROM b$q$);
RESET shardfdw.enable_multi_shard;

\pset tuples_only off
\pset format aligned
SET search_path = so_dist, public;
-- the worker statement of a shard: the set operation over its shards
SELECT * FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF) SELECT k, x FROM a UNION SELECT k, y FROM b ORDER BY 1, 2 LIMIT 4$q$);
SELECT * FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT k FROM a UNION ALL SELECT k FROM b) s$q$);
-- a set operation declined as a whole: its branches' distributed plans
-- are CTEs of the standard plan (each branch reads its CTE)
SELECT * FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF) SELECT k, x FROM a UNION SELECT count(*)::int, max(y) FROM b$q$);
RESET search_path;

DROP SCHEMA so_dist, so_local CASCADE;
