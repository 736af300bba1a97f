--
-- views_pushdown: views and FROM subqueries over distributed tables are
-- pulled up into the statement (src/planner/flatten.c) so that the router,
-- multi-shard and two-phase strategies see their tables at the top level.
-- Each statement runs on distributed tables (schema vp_dist) and on the
-- same rows in local tables with the same views (vp_local); the rows are
-- compared, and the strategy of the distributed one is shown ("standard":
-- the standard planner and the FDW).  What the flattening declines may
-- still run on the workers unflattened, the view being a FROM subquery
-- that keeps the shards apart and returns the key (src/planner/shard_local.c):
-- multi-shard, pruned to one task when pinned.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

-- the rows of q under vp_dist and under vp_local, compared (ordered: the
-- order too), after the strategy of the distributed one
CREATE FUNCTION pg_temp.vcheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_check(label, q, 'vp_dist', 'vp_local', ordered) $$;
-- a DML statement (with RETURNING) on both sides: its strategy, the
-- returned rows, then the table's rows
CREATE FUNCTION pg_temp.vdml(label text, q text, tbl text) RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.pair_dml(label, q, tbl, 'vp_dist', 'vp_local') $$;

CREATE SCHEMA vp_dist;
CREATE SCHEMA vp_local;
CREATE TABLE vp_dist.t (id int, k int, v text);
SELECT create_distributed_table('vp_dist.t', 'id', shard_count => 4);
CREATE TABLE vp_dist.u (id int, w int);
SELECT create_distributed_table('vp_dist.u', 'id', colocate_with => 'vp_dist.t');
CREATE TABLE vp_dist.r (k int, name text);
SELECT create_reference_table('vp_dist.r');
CREATE TABLE vp_local.t (id int, k int, v text);
CREATE TABLE vp_local.u (id int, w int);
CREATE TABLE vp_local.r (k int, name text);
INSERT INTO vp_local.t SELECT g, g % 7, 'v' || g FROM generate_series(1, 60) g;
INSERT INTO vp_local.u SELECT g, g * 10 FROM generate_series(1, 70, 3) g;
INSERT INTO vp_local.r SELECT g, 'n' || g FROM generate_series(0, 4) g;
INSERT INTO vp_dist.t SELECT * FROM vp_local.t;
INSERT INTO vp_dist.u SELECT * FROM vp_local.u;
INSERT INTO vp_dist.r SELECT * FROM vp_local.r;

-- the same views in both schemas
CREATE FUNCTION pg_temp.make_views(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', s, true);
    CREATE VIEW tv AS SELECT id, k, v FROM t WHERE k <> 3;
    CREATE VIEW uv AS SELECT id, w FROM u;
    CREATE VIEW tuv AS SELECT t.id, t.k, u.w FROM t JOIN u ON t.id = u.id;
    CREATE VIEW te AS SELECT id, k * 2 AS k2, v FROM t;
    CREATE VIEW tr AS SELECT t.id, t.k, r.name FROM t JOIN r ON t.k = r.k;
    CREATE VIEW tvv AS SELECT id, v FROM tv WHERE id > 10;
    CREATE VIEW tagg AS SELECT k, count(*) AS c FROM t GROUP BY k;
    CREATE VIEW tdist AS SELECT DISTINCT k FROM t;
    CREATE VIEW tlim AS SELECT id, v FROM t ORDER BY id LIMIT 10;
    CREATE VIEW tsb WITH (security_barrier) AS SELECT id, k, v FROM t WHERE k <> 3;
    CREATE VIEW texists AS SELECT id, k FROM t WHERE EXISTS (SELECT 1 FROM r WHERE r.k = t.k);
    CREATE VIEW tnotexists AS SELECT id, k FROM t WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.k = t.k);
    CREATE VIEW tscalar AS SELECT id, (SELECT name FROM r WHERE r.k = t.k) AS name FROM t;
    CREATE VIEW tin AS SELECT id, k FROM t WHERE id IN (SELECT id FROM u);
    CREATE VIEW tunion AS SELECT id FROM t UNION ALL SELECT id FROM u;
    CREATE VIEW trep AS SELECT id, k, v FROM t;
    CREATE VIEW tren (a, b) AS SELECT id, k FROM t;
    CREATE VIEW tgen AS SELECT t.id, g FROM t, generate_series(1, 2) g WHERE t.k < 4;
    CREATE VIEW tlu AS SELECT t.id, t.k, u.w FROM t LEFT JOIN u ON t.id = u.id WHERE t.k > 1;
    CREATE VIEW uc AS SELECT id, coalesce(w, 0) AS w0, 'x'::text AS tag FROM u;
END
$$;
SELECT pg_temp.make_views('vp_dist');
SELECT pg_temp.make_views('vp_local');

--
-- The router: a pin outside the view, through a FROM subquery, through a
-- join with a view, through nested views
--
SELECT pg_temp.vcheck('view pinned', 'SELECT * FROM tv WHERE id = 5');
SELECT pg_temp.vcheck('view pinned, filtered out', 'SELECT * FROM tv WHERE id = 3');
SELECT pg_temp.vcheck('subquery pinned', 'SELECT * FROM (SELECT id, v FROM t) s WHERE s.id = 5');
SELECT pg_temp.vcheck('subquery with WHERE pinned',
    'SELECT s.v FROM (SELECT id, v FROM t WHERE k > 1) s WHERE s.id IN (5)');
SELECT pg_temp.vcheck('join pinned through a view',
    'SELECT * FROM t JOIN uv ON t.id = uv.id WHERE t.id = 7');
SELECT pg_temp.vcheck('view of a join pinned', 'SELECT * FROM tuv WHERE id = 10');
SELECT pg_temp.vcheck('view of a join joined', 'SELECT * FROM t JOIN tuv ON t.id = tuv.id WHERE t.id = 10');
SELECT pg_temp.vcheck('view with an expression joined',
    'SELECT * FROM t JOIN te ON t.id = te.id WHERE t.id = 12');
SELECT pg_temp.vcheck('view with an expression, USING',
    'SELECT * FROM te JOIN t USING (id) WHERE id = 12');
SELECT pg_temp.vcheck('nested views pinned', 'SELECT * FROM tvv WHERE id = 12');
SELECT pg_temp.vcheck('nested views pinned out', 'SELECT * FROM tvv WHERE id = 9');
SELECT pg_temp.vcheck('view and reference table pinned',
    'SELECT tv.id, r.name FROM tv JOIN r ON tv.k = r.k WHERE tv.id = 8');
SELECT pg_temp.vcheck('view with a reference table pinned', 'SELECT * FROM tr WHERE id = 9');
SELECT pg_temp.vcheck('subquery with a sublink pinned',
    'SELECT * FROM (SELECT id, k FROM t WHERE k IN (SELECT k FROM r)) s WHERE id = 8');
-- the worker SQL: the view's WHERE and the pin, the view's table named
SELECT * FROM pg_temp.explain_lines('EXPLAIN (COSTS OFF) SELECT * FROM vp_dist.tv WHERE id = 5');
SELECT * FROM pg_temp.explain_lines('EXPLAIN (COSTS OFF) SELECT * FROM vp_dist.t JOIN vp_dist.tuv ON t.id = tuv.id WHERE t.id = 10');

--
-- Every shard: multi-shard, two-phase aggregates, ORDER BY / LIMIT
--
SELECT pg_temp.vcheck('view, every shard', 'SELECT * FROM tv');
SELECT pg_temp.vcheck('subquery, every shard', 'SELECT id, v FROM (SELECT * FROM t WHERE k < 3) s');
SELECT pg_temp.vcheck('view count', 'SELECT count(*) FROM tv');
SELECT pg_temp.vcheck('view grouped by k', 'SELECT k, count(*), sum(id), min(v) FROM tv GROUP BY k');
SELECT pg_temp.vcheck('view grouped by id', 'SELECT id, count(*) FROM tv GROUP BY id');
SELECT pg_temp.vcheck('view count distinct', 'SELECT count(DISTINCT k) FROM tv');
SELECT pg_temp.vcheck('view ORDER BY LIMIT', 'SELECT * FROM tv ORDER BY id DESC LIMIT 7', true);
SELECT pg_temp.vcheck('subquery ORDER BY LIMIT',
    'SELECT s.id, s.v FROM (SELECT id, v FROM t WHERE k > 2) s ORDER BY s.v LIMIT 5', true);
SELECT pg_temp.vcheck('view pruned by IN', 'SELECT * FROM tv WHERE id IN (1, 2, 30)');
SELECT pg_temp.vcheck('nested views, every shard', 'SELECT * FROM tvv');
SELECT pg_temp.vcheck('co-located views joined', 'SELECT * FROM tv JOIN uv ON tv.id = uv.id');
SELECT pg_temp.vcheck('co-located views joined, aggregate',
    'SELECT tv.k, sum(uv.w) FROM tv JOIN uv ON tv.id = uv.id GROUP BY tv.k');
SELECT pg_temp.vcheck('view of a join, every shard', 'SELECT * FROM tuv');
SELECT pg_temp.vcheck('view and reference table', 'SELECT tv.id, r.name FROM tv JOIN r ON tv.k = r.k');
SELECT pg_temp.vcheck('view with a reference table', 'SELECT name, count(*) FROM tr GROUP BY name');

--
-- Other shapes: renamed view columns, aliases met twice, nested
-- subqueries, LATERAL, USING and NATURAL joins of views, a named join,
-- grouping and window functions over a view, a function in a view's FROM,
-- a subquery over a CTE, a view over a view that is not pulled up
--
SELECT pg_temp.vcheck('renamed view columns', 'SELECT * FROM tren WHERE a = 5');
SELECT pg_temp.vcheck('renamed view columns, every shard', 'SELECT b, count(*) FROM tren GROUP BY b');
SELECT pg_temp.vcheck('same alias twice',
    'SELECT * FROM t, (SELECT * FROM t) t2 WHERE t.id = t2.id AND t.id = 5');
SELECT pg_temp.vcheck('nested subqueries',
    'SELECT * FROM (SELECT * FROM (SELECT * FROM t WHERE k > 1) a WHERE id < 40) b WHERE id = 5');
SELECT pg_temp.vcheck('nested subqueries, every shard',
    'SELECT count(*), sum(id) FROM (SELECT * FROM (SELECT * FROM t WHERE k > 1) a WHERE id < 40) b');
SELECT pg_temp.vcheck('LATERAL subquery',
    'SELECT * FROM t, LATERAL (SELECT w FROM u WHERE u.id = t.id) s WHERE t.id = 4');
SELECT pg_temp.vcheck('LATERAL subquery, every shard',
    'SELECT * FROM t, LATERAL (SELECT w FROM u WHERE u.id = t.id) s');
SELECT pg_temp.vcheck('views joined with USING', 'SELECT * FROM tv JOIN uv USING (id)');
SELECT pg_temp.vcheck('views joined with USING, pinned', 'SELECT * FROM tv JOIN uv USING (id) WHERE id = 7');
SELECT pg_temp.vcheck('views LEFT JOIN USING', 'SELECT * FROM uv LEFT JOIN tv USING (id)');
SELECT pg_temp.vcheck('views NATURAL JOIN', 'SELECT * FROM tv NATURAL JOIN trep');
SELECT pg_temp.vcheck('named join of views',
    'SELECT j.id, j.w FROM (tv JOIN uv USING (id)) AS j WHERE j.id = 13');
SELECT pg_temp.vcheck('view on the preserved side of a RIGHT JOIN',
    'SELECT * FROM uv RIGHT JOIN tv ON tv.id = uv.id');
SELECT pg_temp.vcheck('grouped by a view''s expression',
    'SELECT k2, count(*) FROM te GROUP BY k2');
SELECT pg_temp.vcheck('ORDER BY a view''s expression', 'SELECT * FROM te ORDER BY k2 DESC, id LIMIT 4', true);
SELECT pg_temp.vcheck('window function over a pinned view',
    'SELECT id, row_number() OVER (ORDER BY id) FROM tv WHERE id = 5');
SELECT pg_temp.vcheck('function in a view''s FROM', 'SELECT * FROM tgen WHERE id = 9');
SELECT pg_temp.vcheck('function in a view''s FROM, every shard', 'SELECT * FROM tgen');
SELECT pg_temp.vcheck('subquery over a CTE',
    'WITH c AS (SELECT id, v FROM t WHERE id = 5) SELECT * FROM (SELECT * FROM c) s');
SELECT pg_temp.vcheck('a view with an aggregate view inside',
    'SELECT * FROM (SELECT a.k, a.c, r.name FROM tagg a JOIN r ON a.k = r.k) s WHERE k = 2');
-- views in nested levels (CTEs, sublinks, subqueries that are not pulled
-- up) are pulled up into their level: pinned there, the router takes them
SELECT pg_temp.vcheck('view in a CTE pinned',
    'WITH c AS (SELECT * FROM tv WHERE id = 5) SELECT * FROM c');
SELECT pg_temp.vcheck('view in a sublink pinned',
    'SELECT * FROM t WHERE id = 2 AND EXISTS (SELECT 1 FROM tv WHERE tv.id = 2)');
SELECT pg_temp.vcheck('view in an IN sublink pinned',
    'SELECT * FROM t WHERE t.id IN (SELECT id FROM tv WHERE id = 5) AND t.id = 5');
SELECT pg_temp.vcheck('view in an aggregated subquery pinned',
    'SELECT * FROM (SELECT k, count(*) AS c FROM tv WHERE id = 6 GROUP BY k) s');
SELECT pg_temp.vcheck('view in an aggregated subquery, every shard',
    'SELECT * FROM (SELECT k, count(*) AS c FROM tv GROUP BY k) s');
SELECT pg_temp.vcheck('view in a scalar sublink of the target list',
    'SELECT id, (SELECT count(*) FROM uv WHERE uv.id = 7) FROM t WHERE id = 7');
SELECT pg_temp.vcheck('views in a UNION ALL, pinned',
    'SELECT id FROM tv WHERE id = 5 UNION ALL SELECT id FROM uv WHERE id = 5');
-- row locks: the pull-up would name the view in FOR UPDATE OF (declined)
SELECT pg_temp.vcheck('FOR UPDATE of a view', 'SELECT * FROM tv WHERE id = 5 FOR UPDATE');
SELECT pg_temp.vcheck('FOR SHARE of a subquery',
    'SELECT * FROM (SELECT id, v FROM t) s WHERE id = 5 FOR SHARE');
SELECT pg_temp.vcheck('self-join of a view',
    'SELECT a.id, b.v FROM tv a JOIN tv b ON a.id = b.id WHERE a.id = 11');

--
-- Outer joins: a view's WHERE on the nullable side goes into the ON, on
-- the preserved side into WHERE; FULL JOIN with a view's WHERE and
-- expressions of a view on the nullable side (PlaceHolderVars) decline
--
SELECT pg_temp.vcheck('view on the nullable side', 'SELECT * FROM uv LEFT JOIN tv ON tv.id = uv.id');
SELECT pg_temp.vcheck('view on the nullable side, RIGHT JOIN', 'SELECT * FROM tv RIGHT JOIN uv ON tv.id = uv.id');
SELECT pg_temp.vcheck('view on the preserved side', 'SELECT * FROM tv LEFT JOIN uv ON tv.id = uv.id');
SELECT pg_temp.vcheck('view on the preserved side, pinned',
    'SELECT * FROM tv LEFT JOIN uv ON tv.id = uv.id WHERE tv.id = 4');
SELECT pg_temp.vcheck('views on both sides, nested joins',
    'SELECT * FROM (tv LEFT JOIN uv ON tv.id = uv.id) LEFT JOIN tvv ON tvv.id = tv.id');
SELECT pg_temp.vcheck('FULL JOIN with a view''s WHERE', 'SELECT * FROM tv FULL JOIN uv ON tv.id = uv.id');
SELECT pg_temp.vcheck('FULL JOIN of plain views', 'SELECT * FROM trep FULL JOIN uv ON trep.id = uv.id');
-- strict expressions of the view's columns are NULL with them: pulled up
SELECT pg_temp.vcheck('strict expression on the nullable side',
    'SELECT * FROM t LEFT JOIN te ON t.id = te.id AND te.k2 > 6');
SELECT pg_temp.vcheck('strict subquery expression on the nullable side',
    'SELECT t.id, s.w1 FROM t LEFT JOIN (SELECT id, w + 1 AS w1 FROM u) s ON t.id = s.id');
-- constants and non-strict expressions need PlaceHolderVars: declined
SELECT pg_temp.vcheck('non-strict expressions on the nullable side',
    'SELECT * FROM t LEFT JOIN uc ON t.id = uc.id');
-- a view of an outer join with a WHERE, inside other joins
SELECT pg_temp.vcheck('view of a LEFT JOIN on the nullable side', 'SELECT * FROM u LEFT JOIN tlu ON u.id = tlu.id');
SELECT pg_temp.vcheck('view of a LEFT JOIN on the preserved side', 'SELECT * FROM u RIGHT JOIN tlu ON u.id = tlu.id');
SELECT pg_temp.vcheck('view of a LEFT JOIN, joined to a view of a join', 'SELECT * FROM tlu JOIN tuv ON tlu.id = tuv.id');
SELECT pg_temp.vcheck('view of a LEFT JOIN, nested outer joins',
    'SELECT * FROM (u LEFT JOIN tv ON u.id = tv.id) LEFT JOIN tlu ON tlu.id = u.id');
SELECT pg_temp.vcheck('view of a LEFT JOIN, aggregate', 'SELECT count(*), sum(w) FROM tlu');
SELECT pg_temp.vcheck('view of a LEFT JOIN under a FULL JOIN', 'SELECT * FROM u FULL JOIN tlu ON u.id = tlu.id');
SELECT pg_temp.vcheck('view of a LEFT JOIN with a reference table', 'SELECT * FROM r JOIN tlu ON r.k = tlu.k');
SELECT pg_temp.vcheck('USING with a view of a join', 'SELECT tlu.k, count(*) FROM tlu JOIN uv USING (id) GROUP BY tlu.k');
SELECT pg_temp.vcheck('join of views on the nullable side',
    'SELECT * FROM uv LEFT JOIN (te JOIN tv ON te.id = tv.id) ON te.id = uv.id');
SELECT pg_temp.vcheck('subquery of views on the nullable side',
    'SELECT * FROM uv LEFT JOIN (SELECT te.id, te.k2, tv.v FROM te JOIN tv ON te.id = tv.id WHERE te.k2 < 10) s ON s.id = uv.id');
SELECT pg_temp.vcheck('expression of the nullable side IS NULL',
    'SELECT * FROM uv LEFT JOIN te ON te.id = uv.id WHERE te.k2 IS NULL');
SELECT pg_temp.vcheck('subquery constant on the nullable side',
    'SELECT t.id, s.one FROM t LEFT JOIN (SELECT id, 1 AS one FROM u) s ON t.id = s.id WHERE t.id < 20');

--
-- Views that are not pulled up (aggregates, DISTINCT, LIMIT,
-- security_barrier, set operations): multi-shard when they keep the shards apart
-- (grouped by the key...), else the standard path (security_barrier views
-- always: the workers would see a plain subquery), still right.  Sublinks
-- inside a view stay sublinks (PostgreSQL's pull-up would make semi-joins):
-- over a reference table they go to the workers, over a distributed table
-- keyed on the view's key they run inside each shard's task
--
SELECT pg_temp.vcheck('aggregate view', 'SELECT * FROM tagg WHERE k = 2');
SELECT pg_temp.vcheck('DISTINCT view', 'SELECT * FROM tdist');
SELECT pg_temp.vcheck('LIMIT view', 'SELECT * FROM tlim WHERE id > 5');
SELECT pg_temp.vcheck('security_barrier view', 'SELECT * FROM tsb WHERE id = 5');
SELECT pg_temp.vcheck('UNION ALL view', 'SELECT count(*) FROM tunion');
SELECT pg_temp.vcheck('EXISTS view', 'SELECT * FROM texists WHERE id = 8');
SELECT pg_temp.vcheck('EXISTS view, every shard', 'SELECT * FROM texists');
SELECT pg_temp.vcheck('NOT EXISTS view', 'SELECT * FROM tnotexists');
SELECT pg_temp.vcheck('scalar sublink in a view''s columns', 'SELECT * FROM tscalar WHERE id IN (3, 4, 5)');
SELECT pg_temp.vcheck('IN view', 'SELECT * FROM tin');
SELECT pg_temp.vcheck('IN view pinned', 'SELECT * FROM tin WHERE id = 10');

--
-- UPDATE / DELETE with a FROM subquery
--
SELECT pg_temp.vdml('UPDATE FROM subquery pinned',
    'UPDATE t SET k = s.w FROM (SELECT id, w FROM u WHERE w > 0) s WHERE t.id = s.id AND t.id = 22 RETURNING t.*',
    't');
SELECT pg_temp.vdml('DELETE USING subquery pinned',
    'DELETE FROM t USING (SELECT id FROM u) s WHERE t.id = s.id AND s.id = 31 RETURNING t.id',
    't');
SELECT pg_temp.vdml('DELETE USING subquery, every shard',
    'DELETE FROM u USING (SELECT id FROM t WHERE k = 1) s WHERE u.id = s.id RETURNING u.*',
    'u');
-- a view in an UPDATE's FROM: not pulled up (the analysis of a write
-- takes no view), but a FROM subquery returning the key: multi-shard
SELECT pg_temp.vdml('UPDATE FROM a view',
    'UPDATE t SET k = s.w FROM (SELECT tuv.id, tuv.w FROM tuv WHERE tuv.w > 400) s WHERE t.id = s.id RETURNING t.id, t.k',
    't');
SELECT pg_temp.vdml('UPDATE FROM subquery, every shard',
    'UPDATE t SET k = t.k + 1 FROM (SELECT id FROM u WHERE w > 300) s WHERE t.id = s.id RETURNING t.id, t.k',
    't');

--
-- Prepared statements: a parameter pinning a view, custom and generic
-- plans; CREATE OR REPLACE VIEW between two executions re-plans
--
PREPARE vp_d(int) AS SELECT * FROM vp_dist.tv WHERE id = $1;
PREPARE vp_l(int) AS SELECT * FROM vp_local.tv WHERE id = $1;
SELECT pg_temp.strategy_tasks('EXECUTE vp_d(6)');
CREATE TEMP TABLE vp_got AS EXECUTE vp_d(6);
CREATE TEMP TABLE vp_want AS EXECUTE vp_l(6);
SELECT (SELECT count(*) FROM vp_got) AS rows,
       (SELECT count(*) FROM (TABLE vp_got EXCEPT ALL TABLE vp_want) x) AS extra,
       (SELECT count(*) FROM (TABLE vp_want EXCEPT ALL TABLE vp_got) x) AS missing;
DROP TABLE vp_got, vp_want;
SET plan_cache_mode = force_generic_plan;
SELECT * FROM pg_temp.explain_lines('EXPLAIN (COSTS OFF) EXECUTE vp_d(6)');
CREATE TEMP TABLE vp_got AS EXECUTE vp_d(13);
CREATE TEMP TABLE vp_want AS EXECUTE vp_l(13);
SELECT (SELECT count(*) FROM vp_got) AS rows,
       (SELECT count(*) FROM (TABLE vp_got EXCEPT ALL TABLE vp_want) x) AS extra,
       (SELECT count(*) FROM (TABLE vp_want EXCEPT ALL TABLE vp_got) x) AS missing;
DROP TABLE vp_got, vp_want;
-- a parameter pinning a FROM subquery, and a view of views
PREPARE vp_d2(int) AS SELECT s.v FROM (SELECT id, v FROM vp_dist.tvv) s WHERE s.id = $1;
SELECT pg_temp.strategy_tasks('EXECUTE vp_d2(20)');
EXECUTE vp_d2(20);
SELECT v FROM vp_local.tvv WHERE id = 20;
RESET plan_cache_mode;
DEALLOCATE vp_d2;
-- the view changes: the prepared statement reads the new definition
EXECUTE vp_d(6);
CREATE OR REPLACE VIEW vp_dist.tv AS SELECT id, k, v || '!' AS v FROM vp_dist.t WHERE k <> 4;
CREATE OR REPLACE VIEW vp_local.tv AS SELECT id, k, v || '!' AS v FROM vp_local.t WHERE k <> 4;
SELECT pg_temp.strategy_tasks('EXECUTE vp_d(6)');
EXECUTE vp_d(6);
EXECUTE vp_l(6);
EXECUTE vp_d(4);
EXECUTE vp_l(4);
SET plan_cache_mode = force_generic_plan;
EXECUTE vp_d(5);
CREATE OR REPLACE VIEW vp_dist.tv AS SELECT id, k, v || '?' AS v FROM vp_dist.t WHERE k <> 4;
CREATE OR REPLACE VIEW vp_local.tv AS SELECT id, k, v || '?' AS v FROM vp_local.t WHERE k <> 4;
EXECUTE vp_d(5);
RESET plan_cache_mode;
DEALLOCATE vp_d;
DEALLOCATE vp_l;

--
-- A view read as its owner: owned by another role, its tables are read on
-- the workers with the owner's user mapping (as the FDW does), so the view
-- is pushed down like any other; a statement that reads tables as two roles
-- (a view of another owner joined with a table read directly) takes the
-- standard path (a user mapping each); a user without SELECT on the view
-- gets the permission error either way
--
CREATE ROLE vp_owner SUPERUSER;
CREATE ROLE vp_reader;
SELECT pg_temp.copy_user_mappings('vp_owner');
GRANT USAGE ON SCHEMA vp_dist, vp_local TO vp_reader;
CREATE VIEW vp_dist.tov AS SELECT id, k FROM vp_dist.t WHERE k > 1;
CREATE VIEW vp_local.tov AS SELECT id, k FROM vp_local.t WHERE k > 1;
ALTER VIEW vp_dist.tov OWNER TO vp_owner;
ALTER VIEW vp_local.tov OWNER TO vp_owner;
SELECT pg_temp.vcheck('view of another owner pinned', 'SELECT * FROM tov WHERE id = 9');
SELECT pg_temp.vcheck('view of another owner', 'SELECT count(*) FROM tov');
SELECT pg_temp.vcheck('view of another owner joined with its table',
                      'SELECT count(*) FROM tov JOIN t USING (id)');
SELECT pg_temp.vcheck('view of another owner joined with its table, pinned',
                      'SELECT * FROM tov JOIN t USING (id) WHERE id = 9');
SET ROLE vp_reader;
\set VERBOSITY terse
SELECT count(*) FROM vp_dist.tov;
SELECT * FROM vp_dist.tov WHERE id = 9;
SELECT count(*) FROM vp_dist.tv;
RESET ROLE;
GRANT SELECT ON vp_dist.tov, vp_local.tov, vp_dist.tv, vp_local.tv TO vp_reader;
-- the reader has no user mapping of its own (nor is there a PUBLIC one):
-- its statements can only have used the owner's
SELECT count(*) FROM pg_user_mappings
 WHERE usename IN ('public', 'vp_reader')
   AND srvname IN (SELECT server_name FROM shardfdw.node);
SET ROLE vp_reader;
SELECT pg_temp.vcheck('view of another owner, as a reader', 'SELECT * FROM tov WHERE id = 9');
SELECT pg_temp.vcheck('view of another owner, as a reader, all shards', 'SELECT k, count(*) FROM tov GROUP BY k');
-- two views of two owners: tables read as two roles
SELECT pg_temp.vcheck('views of two owners', 'SELECT count(*) FROM tov JOIN tv USING (id)');
-- tv belongs to the superuser running the test: read as the reader, its
-- tables are still read as the owner
SELECT pg_temp.strategy_tasks('SELECT count(*) FROM tv', 'vp_dist, public');
SELECT count(*) FROM vp_dist.tv;
-- the reader has no SELECT on the table itself
SELECT count(*) FROM (SELECT id FROM vp_dist.t) s;
RESET ROLE;
-- a view owned by a role without SELECT on the view's table: the plan made
-- for that role (its own view, flattened) still checks the table
CREATE ROLE vp_viewer;
GRANT USAGE ON SCHEMA vp_dist TO vp_viewer;
CREATE VIEW vp_dist.tvo AS SELECT id, v FROM vp_dist.t;
ALTER VIEW vp_dist.tvo OWNER TO vp_viewer;
SET ROLE vp_viewer;
SELECT * FROM vp_dist.tvo WHERE id = 5;
SELECT count(*) FROM vp_dist.tvo;
RESET ROLE;
DROP VIEW vp_dist.tvo;
\set VERBOSITY default

-- a flattened statement that cannot be planned (the test hook makes the
-- planning of every flattened statement fail) keeps its plan as written:
-- multi-shard where the flattened one was routed, the standard planner where
-- only the flattened one qualified; the same rows, and the transaction goes on
SET shardfdw.test_flattened_error = on;
SELECT pg_temp.vcheck('flattening fails, view pinned', 'SELECT * FROM tv WHERE id = 5');
SELECT pg_temp.vcheck('flattening fails, view of a join pinned', 'SELECT * FROM tuv WHERE id = 10');
SELECT pg_temp.vcheck('flattening fails, view of a join joined', 'SELECT * FROM t JOIN tuv ON t.id = tuv.id WHERE t.id = 10');
SELECT pg_temp.vcheck('flattening fails, IN view', 'SELECT * FROM tin');
SELECT pg_temp.vcheck('flattening fails, IN view pinned', 'SELECT * FROM tin WHERE id = 10');
BEGIN;
UPDATE vp_dist.t SET v = 'in transaction' WHERE id = 5;
SELECT * FROM vp_dist.tv WHERE id = 5;
SELECT count(*) FROM vp_dist.tuv;
SELECT v FROM vp_dist.t WHERE id = 5;
ROLLBACK;
SELECT v FROM vp_dist.t WHERE id = 5;
RESET shardfdw.test_flattened_error;

-- with the router and multi-shard strategies off, nothing is flattened
SET shardfdw.enable_router = off;
SET shardfdw.enable_multi_shard = off;
SELECT pg_temp.vcheck('strategies off', 'SELECT * FROM tv WHERE id = 5');
RESET shardfdw.enable_router;
RESET shardfdw.enable_multi_shard;

DROP SCHEMA vp_dist CASCADE;
DROP SCHEMA vp_local CASCADE;
DROP OWNED BY vp_owner, vp_reader, vp_viewer;
DROP ROLE vp_owner;
DROP ROLE vp_reader;
DROP ROLE vp_viewer;
