--
-- coordinator_subqueries: an uncorrelated subquery in the WHERE clause
-- over tables the statement's shards cannot join with (a distributed
-- table of another co-location group, one not joined on the distribution
-- column, a local table) is computed once on the coordinator, and its
-- value sent to the workers as a parameter (src/planner/sublink_params.c):
-- the rest of the statement runs on the workers.  Each statement runs on
-- distributed tables (cs_dist) and on the same rows in local tables
-- (cs_local); the rows are compared, and the strategy of the distributed
-- one is shown, with "+ subquery" when a subquery is computed first (the
-- subquery's own strategy: see the EXPLAIN below).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.cscheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_check(label, q, 'cs_dist', 'cs_local', ordered) $$;
-- a DML statement (with RETURNING) on both sides, then the table's rows
CREATE FUNCTION pg_temp.csdml(label text, q text, tbl text) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_dml(label, q, tbl, 'cs_dist', 'cs_local') $$;

CREATE SCHEMA cs_dist;
CREATE SCHEMA cs_local;
CREATE TABLE cs_dist.t (id int, x int, s text);
SELECT create_distributed_table('cs_dist.t', 'id', shard_count => 4);
CREATE TABLE cs_dist.u (id int, w int);
SELECT create_distributed_table('cs_dist.u', 'id', colocate_with => 'cs_dist.t');
-- another co-location group
CREATE TABLE cs_dist.o (oid int, y int, label text);
SELECT create_distributed_table('cs_dist.o', 'oid', shard_count => 3);
CREATE TABLE cs_dist.r (k int, name text);
SELECT create_reference_table('cs_dist.r');
-- a local table of the coordinator, the same in both schemas
CREATE TABLE cs_dist.l (v int);
CREATE TABLE cs_local.t (id int, x int, s text);
CREATE TABLE cs_local.u (id int, w int);
CREATE TABLE cs_local.o (oid int, y int, label text);
CREATE TABLE cs_local.r (k int, name text);
CREATE TABLE cs_local.l (v int);
INSERT INTO cs_local.t SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE g % 9 END, 's' || (g % 5) FROM generate_series(1, 80) g;
INSERT INTO cs_local.t VALUES (NULL, 3, 'null key');
INSERT INTO cs_local.u SELECT g, g * 3 FROM generate_series(1, 80, 4) g;
INSERT INTO cs_local.o SELECT g, g % 7, 'o' || g FROM generate_series(1, 30) g;
INSERT INTO cs_local.o VALUES (31, NULL, 'null y');
INSERT INTO cs_local.r SELECT g, 'n' || g FROM generate_series(0, 8) g;
INSERT INTO cs_local.l VALUES (2), (5), (7);
INSERT INTO cs_dist.t SELECT * FROM cs_local.t;
INSERT INTO cs_dist.u SELECT * FROM cs_local.u;
INSERT INTO cs_dist.o SELECT * FROM cs_local.o;
INSERT INTO cs_dist.r SELECT * FROM cs_local.r;
INSERT INTO cs_dist.l SELECT * FROM cs_local.l;

--
-- IN / NOT IN / ANY / ALL: the array of the subquery's values
--
SELECT pg_temp.cscheck('IN, other group', 'SELECT * FROM t WHERE x IN (SELECT y FROM o WHERE oid < 10)');
SELECT pg_temp.cscheck('IN, other group, count', 'SELECT count(*), sum(x) FROM t WHERE x IN (SELECT y FROM o WHERE oid < 10)');
SELECT pg_temp.cscheck('IN, other group, grouped', 'SELECT s, count(*) FROM t WHERE x IN (SELECT y FROM o) GROUP BY s');
SELECT pg_temp.cscheck('IN on the key prunes shards', 'SELECT * FROM t WHERE id IN (SELECT y FROM o WHERE oid < 4)');
-- NOT IN with a NULL among the values: no row; without: the others
SELECT pg_temp.cscheck('NOT IN, a NULL in the values', 'SELECT count(*) FROM t WHERE x NOT IN (SELECT y FROM o)');
SELECT pg_temp.cscheck('NOT IN, no NULL', 'SELECT * FROM t WHERE x NOT IN (SELECT y FROM o WHERE y IS NOT NULL)');
-- no rows: IN is false, NOT IN true (NULL x included), ALL true
SELECT pg_temp.cscheck('IN, empty subquery', 'SELECT count(*) FROM t WHERE x IN (SELECT y FROM o WHERE oid < 0)');
SELECT pg_temp.cscheck('NOT IN, empty subquery', 'SELECT count(*) FROM t WHERE x NOT IN (SELECT y FROM o WHERE oid < 0)');
SELECT pg_temp.cscheck('ALL, empty subquery', 'SELECT count(*) FROM t WHERE x > ALL (SELECT y FROM o WHERE oid < 0)');
SELECT pg_temp.cscheck('op ANY', 'SELECT * FROM t WHERE x > ANY (SELECT y FROM o WHERE oid BETWEEN 3 AND 5)');
SELECT pg_temp.cscheck('op ALL', 'SELECT * FROM t WHERE x >= ALL (SELECT y FROM o WHERE oid < 20 AND y IS NOT NULL)');
SELECT pg_temp.cscheck('op ALL, a NULL among the values', 'SELECT count(*) FROM t WHERE x >= ALL (SELECT y FROM o WHERE oid > 20)');
SELECT pg_temp.cscheck('IN, duplicates and ORDER BY in the subquery', 'SELECT * FROM t WHERE x IN (SELECT y FROM o ORDER BY label LIMIT 6)');
SELECT pg_temp.cscheck('IN, text values', 'SELECT * FROM t WHERE s IN (SELECT ''s'' || y FROM o WHERE oid < 5)');
SELECT pg_temp.cscheck('IN, a cross-type comparison', 'SELECT * FROM t WHERE x::bigint IN (SELECT y::bigint * 2 FROM o WHERE oid < 6)');
SELECT pg_temp.cscheck('IN over a local table', 'SELECT * FROM t WHERE x IN (SELECT v FROM l)');
SELECT pg_temp.cscheck('IN with a co-located join outside', 'SELECT t.id, u.w FROM t JOIN u ON t.id = u.id WHERE t.x IN (SELECT y FROM o WHERE oid > 15)');
SELECT pg_temp.cscheck('IN and a reference table', 'SELECT t.id, r.name FROM t JOIN r ON r.k = t.x WHERE t.id IN (SELECT y * 5 FROM o)');
SELECT pg_temp.cscheck('IN, subquery joining two groups', 'SELECT * FROM t WHERE x IN (SELECT o.y FROM o JOIN u ON u.id = o.oid)');
SELECT pg_temp.cscheck('IN under OR', 'SELECT * FROM t WHERE id < 3 OR x IN (SELECT y FROM o WHERE oid = 8)');
SELECT pg_temp.cscheck('IN, ORDER BY LIMIT outside', 'SELECT * FROM t WHERE x IN (SELECT y FROM o) ORDER BY id DESC LIMIT 5', true);

--
-- scalar subqueries, EXISTS, ARRAY
--
SELECT pg_temp.cscheck('scalar', 'SELECT * FROM t WHERE x > (SELECT avg(y) FROM o)');
SELECT pg_temp.cscheck('scalar, no row: NULL', 'SELECT count(*) FROM t WHERE x = (SELECT y FROM o WHERE oid = 999) OR x IS NULL');
SELECT pg_temp.cscheck('scalar pins the shard', 'SELECT * FROM t WHERE id = (SELECT max(oid) FROM o WHERE oid < 20)');
SELECT pg_temp.cscheck('scalar, text', 'SELECT id FROM t WHERE s = (SELECT min(''s'' || y) FROM o)');
SELECT pg_temp.cscheck('EXISTS, true', 'SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM o WHERE y = 6)');
SELECT pg_temp.cscheck('EXISTS, false', 'SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM o WHERE y = 60)');
SELECT pg_temp.cscheck('NOT EXISTS', 'SELECT count(*) FROM t WHERE NOT EXISTS (SELECT 1 FROM o WHERE y = 60) AND x < 4');
SELECT pg_temp.cscheck('ARRAY', 'SELECT * FROM t WHERE x = ANY (ARRAY(SELECT y FROM o WHERE oid < 8))');
-- more than one row from a scalar subquery: the same error as PostgreSQL's
\set VERBOSITY terse
SELECT * FROM cs_dist.t WHERE x = (SELECT y FROM cs_dist.o);
SELECT * FROM cs_local.t WHERE x = (SELECT y FROM cs_local.o);
\set VERBOSITY default

--
-- what stays with the standard planner
--
-- correlated
SELECT pg_temp.cscheck('correlated', 'SELECT * FROM t WHERE x IN (SELECT y FROM o WHERE o.oid = t.id)');
-- two such subqueries
SELECT pg_temp.cscheck('two subqueries', 'SELECT count(*) FROM t WHERE x IN (SELECT y FROM o) AND id > (SELECT min(oid) FROM o)');
-- in the target list
SELECT pg_temp.cscheck('in the target list', 'SELECT id, (SELECT max(y) FROM o) FROM t WHERE id < 5');
-- turned off
SET shardfdw.enable_coordinator_subqueries = off;
SELECT pg_temp.cscheck('IN, turned off', 'SELECT count(*) FROM t WHERE x IN (SELECT y FROM o WHERE oid < 10)');
RESET shardfdw.enable_coordinator_subqueries;

--
-- EXPLAIN: the subquery's plan under the scan; plain EXPLAIN does not run
-- it (NULL in the worker SQL), EXPLAIN ANALYZE does
--
SELECT * FROM pg_temp.explain_lines($$EXPLAIN (COSTS OFF) SELECT count(*) FROM cs_dist.t WHERE x IN (SELECT y FROM cs_dist.o WHERE oid < 10)$$);
SELECT * FROM pg_temp.explain_lines($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM cs_dist.t WHERE id IN (SELECT y FROM cs_dist.o WHERE oid < 4)$$) l
 WHERE l ~ 'Strategy|Task Count|ANY|SubPlan';

--
-- parameters: inside the subquery and outside, custom and generic plans
--
PREPARE csp(int, int) AS SELECT count(*), sum(x) FROM cs_dist.t WHERE x IN (SELECT y FROM cs_dist.o WHERE oid < $1) AND id > $2;
PREPARE csl(int, int) AS SELECT count(*), sum(x) FROM cs_local.t WHERE x IN (SELECT y FROM cs_local.o WHERE oid < $1) AND id > $2;
EXECUTE csp(10, 5);
EXECUTE csl(10, 5);
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.strategy_tasks('EXECUTE csp(20, 40)', 'cs_dist, public');
EXECUTE csp(20, 40);
EXECUTE csl(20, 40);
EXECUTE csp(3, 0);
EXECUTE csl(3, 0);
RESET plan_cache_mode;
DEALLOCATE csp;
DEALLOCATE csl;
-- the subquery's own scan computes now() as its parameter $1 while the
-- statement's $1 is unused and $2 used: each scan keeps its parameters
-- (found by the fuzz: "no value found for parameter 2")
PREPARE csq(int, int) AS SELECT count(*) FROM cs_dist.t WHERE id IN ($2, 1, 7) AND x NOT IN (SELECT y FROM cs_dist.o WHERE oid > 2 AND y IS NOT NULL AND now() > '2000-01-01');
PREPARE csql(int, int) AS SELECT count(*) FROM cs_local.t WHERE id IN ($2, 1, 7) AND x NOT IN (SELECT y FROM cs_local.o WHERE oid > 2 AND y IS NOT NULL AND now() > '2000-01-01');
SELECT pg_temp.strategy_tasks('EXECUTE csq(100, 5)', 'cs_dist, public');
EXECUTE csq(100, 5);
EXECUTE csql(100, 5);
DEALLOCATE csq;
DEALLOCATE csql;

--
-- UPDATE / DELETE
--
SELECT pg_temp.csdml('UPDATE ... WHERE IN', 'UPDATE t SET s = s || ''!'' WHERE x IN (SELECT y FROM o WHERE oid BETWEEN 10 AND 12) RETURNING id, s', 't');
SELECT pg_temp.csdml('UPDATE pinned by a scalar', 'UPDATE t SET x = -1 WHERE id = (SELECT min(oid) + 30 FROM o) RETURNING *', 't');
SELECT pg_temp.csdml('DELETE ... WHERE NOT IN', 'DELETE FROM t WHERE x NOT IN (SELECT y FROM o WHERE y IS NOT NULL) RETURNING id', 't');
SELECT pg_temp.csdml('DELETE ... WHERE EXISTS', 'DELETE FROM u WHERE w > 200 AND EXISTS (SELECT 1 FROM o WHERE label = ''o7'') RETURNING *', 'u');
-- in a transaction, the subquery reads the transaction's own writes
BEGIN;
INSERT INTO cs_dist.o VALUES (100, 5, 'new');
INSERT INTO cs_local.o VALUES (100, 5, 'new');
SELECT pg_temp.cscheck('reads its own writes', 'SELECT id, x FROM t WHERE x IN (SELECT y FROM o WHERE oid >= 100)');
ROLLBACK;

DROP SCHEMA cs_dist CASCADE;
DROP SCHEMA cs_local CASCADE;
