--
-- Views over a table that create_distributed_table or undistribute_table
-- replaces: created again over the new table, the same (definition,
-- options, owner, grants, comments, column defaults), views over views
-- included; materialized views and views with triggers or rules refused
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
CREATE SCHEMA dv;
SET search_path = dv, public;
-- a view's owner reaches the shards with its own user mapping (non-superusers
-- would need a password)
CREATE ROLE dv_owner SUPERUSER;
CREATE ROLE dv_reader;
SELECT pg_temp.copy_user_mappings('dv_owner');
GRANT USAGE ON SCHEMA dv TO dv_reader;
CREATE TABLE t (id int PRIMARY KEY, v text, n int);
INSERT INTO t SELECT g, 'v' || g, g % 3 FROM generate_series(1, 30) g;
CREATE TABLE other (n int PRIMARY KEY, label text);
INSERT INTO other VALUES (0, 'zero'), (1, 'one'), (2, 'two');
GRANT SELECT ON t, other TO dv_owner;
CREATE VIEW v1 AS SELECT id, v FROM t WHERE n <> 0;
GRANT SELECT ON v1 TO dv_owner, dv_reader;
GRANT UPDATE (v) ON v1 TO dv_reader;
COMMENT ON VIEW v1 IS 'the nonzero rows';
COMMENT ON COLUMN v1.v IS 'a value';
CREATE VIEW v2 WITH (security_barrier) AS
    SELECT v1.id, o.label FROM v1 JOIN t USING (id) JOIN other o ON o.n = t.n;
ALTER VIEW v2 OWNER TO dv_owner;
CREATE VIEW v3 AS SELECT id, n FROM t WHERE n = 1 WITH LOCAL CHECK OPTION;
ALTER VIEW v3 ALTER COLUMN n SET DEFAULT 1;
-- in another schema, over two of the views
CREATE SCHEMA dv_other;
CREATE VIEW dv_other.v4 AS SELECT count(*) AS c FROM dv.v2 JOIN dv.v3 USING (id);
CREATE TEMP VIEW tv AS SELECT count(*) AS c FROM v2;

-- what describes the views, to compare after each swap
CREATE FUNCTION pg_temp.view_rows()
RETURNS TABLE (view text, def text, reloptions text[], relacl aclitem[], owner name,
               comment text, columns text[])
LANGUAGE sql AS $$
SELECT c.oid::regclass::text, pg_get_viewdef(c.oid), c.reloptions, c.relacl,
       pg_get_userbyid(c.relowner), obj_description(c.oid),
       (SELECT array_agg(a.attname || ':' || coalesce(col_description(c.oid, a.attnum), '') || ':' ||
                         coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || coalesce(a.attacl::text, '')
                         ORDER BY a.attnum)
          FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0)
  FROM pg_class c
 WHERE c.relname IN ('v1', 'v2', 'v3', 'v4', 'tv') AND c.relkind = 'v'
$$;
CREATE TEMP TABLE view_state AS SELECT * FROM pg_temp.view_rows();
CREATE FUNCTION pg_temp.views_unchanged() RETURNS text
LANGUAGE sql AS $$
SELECT format('%s views, %s differ', (SELECT count(*) FROM view_state), count(*))
  FROM (SELECT * FROM pg_temp.view_rows() EXCEPT SELECT * FROM view_state) x
$$;
SELECT (SELECT c FROM dv_other.v4) AS v4, (SELECT c FROM tv) AS tv, (SELECT count(*) FROM v1) AS v1;

SELECT create_distributed_table('t', 'id', shard_count => 4);
SELECT pg_temp.views_unchanged();
SELECT relkind FROM pg_class WHERE oid = 't'::regclass;
SELECT (SELECT c FROM dv_other.v4) AS v4, (SELECT c FROM tv) AS tv, (SELECT count(*) FROM v1) AS v1;
-- the views read the shards; a lookup through v1 is routed: the view's
-- subquery is pulled up into the statement (src/planner/flatten.c), so the
-- pin and the view's WHERE are on one level
SELECT pg_temp.strategy_tasks('SELECT * FROM v1 WHERE id = 5', 'dv, public');
SELECT * FROM v1 WHERE id = 5;
-- writes through the views reach the shards on the standard path (the
-- coordinator's executor checks WITH CHECK OPTION); the router used to
-- insert a row violating v3's check option, and to send an UPDATE through
-- v1 naming the shard twice
SELECT pg_temp.strategy_tasks('INSERT INTO v3 (id) VALUES (102)', 'dv, public');
SELECT pg_temp.strategy_tasks('UPDATE v1 SET v = ''x'' WHERE id = 7', 'dv, public');
INSERT INTO v3 (id) VALUES (100);
INSERT INTO v3 VALUES (101, 2);
UPDATE v1 SET v = 'changed' WHERE id = 7;
SELECT * FROM v2 WHERE id = 7;
SELECT * FROM t WHERE id IN (7, 100, 101) ORDER BY id;
-- a view reads its tables as its owner. v1's owner (the test's user)
-- reads it on the workers (two-phase aggregate); v2 is a security_barrier
-- view (not pulled up) of another owner: the standard path, where the FDW
-- connects with the owner's user mapping.  dv_reader, who has none, reads
-- through v1 on the standard path too (the owner's plan depends on the
-- role: re-planned), also with a plan prepared by v1's owner
SELECT pg_temp.strategy_tasks('SELECT count(*) FROM v1', 'dv, public');
SELECT pg_temp.strategy_tasks('SELECT count(*) FROM v2', 'dv, public');
PREPARE v1_count AS SELECT count(*) FROM v1;
EXECUTE v1_count;
SET ROLE dv_reader;
EXECUTE v1_count;
SELECT count(*) FROM v1;
RESET ROLE;
EXECUTE v1_count;
DEALLOCATE v1_count;

-- and back
SELECT undistribute_table('t');
SELECT pg_temp.views_unchanged();
SELECT relkind FROM pg_class WHERE oid = 't'::regclass;
SELECT (SELECT c FROM dv_other.v4) AS v4, (SELECT c FROM tv) AS tv, (SELECT count(*) FROM v1) AS v1;

-- refused, before anything changes
CREATE MATERIALIZED VIEW mv AS SELECT * FROM v1;
SELECT create_distributed_table('t', 'id');
DROP MATERIALIZED VIEW mv;
CREATE FUNCTION pg_temp.ignore() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER ignore INSTEAD OF INSERT ON v3 FOR EACH ROW EXECUTE FUNCTION pg_temp.ignore();
SELECT create_distributed_table('t', 'id');
DROP TRIGGER ignore ON v3;
CREATE RULE nothing AS ON DELETE TO v1 DO INSTEAD NOTHING;
SELECT create_distributed_table('t', 'id');
DROP RULE nothing ON v1;
-- another object on a view's row type: PostgreSQL's own error, nothing changed
CREATE FUNCTION dv.first_v1() RETURNS v1 LANGUAGE sql AS $$SELECT * FROM v1 ORDER BY id LIMIT 1$$;
SELECT create_distributed_table('t', 'id');
DROP FUNCTION dv.first_v1();
SELECT relkind FROM pg_class WHERE oid = 't'::regclass;
SELECT pg_temp.views_unchanged();

-- create_distributed_table_concurrently carries them over too, but its job
-- is another session: not this session's temporary view (terse: the
-- context names the job's id)
\set VERBOSITY terse
SELECT create_distributed_table_concurrently('t', 'id', shard_count => 4);
\set VERBOSITY default
SELECT relkind FROM pg_class WHERE oid = 't'::regclass;
DROP VIEW tv;
DELETE FROM view_state WHERE view = 'tv';
SELECT create_distributed_table_concurrently('t', 'id', shard_count => 4);
SELECT pg_temp.views_unchanged();
SELECT (SELECT c FROM dv_other.v4) AS v4, (SELECT count(*) FROM v1) AS v1;

DROP SCHEMA dv_other CASCADE;
DROP SCHEMA dv CASCADE;
DROP OWNED BY dv_owner, dv_reader;
DROP ROLE dv_owner;
DROP ROLE dv_reader;
RESET search_path;
