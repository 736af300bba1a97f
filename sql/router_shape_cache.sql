--
-- router_shape_cache: one-row INSERT ... VALUES statements and one-table
-- SELECTs that differ only in their constants reuse the worker statement
-- made for the first (src/planner/shape_cache.c).  With
-- shardfdw.verify_shape_cache every statement taken from the cache is also
-- deparsed and compared (an ERROR if they differ); DEBUG1 says when the
-- cache gave it.  The rows are compared with the same statements on a
-- local table.
--
\set VERBOSITY terse
CREATE SCHEMA ic;
SET search_path = ic, public;
SET shardfdw.verify_shape_cache = on;
CREATE TABLE ic_t (k bigint NOT NULL, id bigserial, a int, b numeric(12,3),
                   c varchar(8), d bool, e text, f timestamptz, g float8,
                   h interval, j jsonb DEFAULT '{}', PRIMARY KEY (k, id));
CREATE TABLE ic_local (LIKE ic_t INCLUDING DEFAULTS);
ALTER TABLE ic_local ALTER id SET DEFAULT nextval('ic_t_id_seq');
SELECT create_distributed_table('ic_t', 'k', shard_count => 4);

-- rows of both, with the distributed table's ids
CREATE FUNCTION same_rows() RETURNS TABLE (only_in text, k bigint, a int)
LANGUAGE sql AS $$
  (SELECT 'distributed', k, a FROM (SELECT k, a, b, c, d, e, f, g, h, j FROM ic_t
     EXCEPT ALL SELECT k, a, b, c, d, e, f, g, h, j FROM ic_local) x)
  UNION ALL
  (SELECT 'local', k, a FROM (SELECT k, a, b, c, d, e, f, g, h, j FROM ic_local
     EXCEPT ALL SELECT k, a, b, c, d, e, f, g, h, j FROM ic_t) y)
$$;

SET client_min_messages = debug1;
-- the first of a shape is deparsed; later ones come from the cache
INSERT INTO ic_t (k, a, b, e) VALUES (1, 10, 1.5, 'one');
INSERT INTO ic_t (k, a, b, e) VALUES (1, 11, 2.25, 'two');
INSERT INTO ic_t (k, a, b, e) VALUES (1, 12, NULL, 'three');
INSERT INTO ic_t (k, a, b, e) VALUES (1, NULL, 3, NULL);
-- equal constants share one parameter (here k = 1 and b = 1, both int4
-- literals below their casts): another shape, and back
INSERT INTO ic_t (k, a, b, e) VALUES (1, 1, 1, '1');
INSERT INTO ic_t (k, a, b, e) VALUES (1, 2, 2, '2');
INSERT INTO ic_t (k, a, b, e) VALUES (1, 13, 4, 'four');
-- booleans are literals: each value its own shape
INSERT INTO ic_t (k, a, d) VALUES (1, 20, true);
INSERT INTO ic_t (k, a, d) VALUES (1, 21, true);
INSERT INTO ic_t (k, a, d) VALUES (1, 22, false);
-- values whose text depends on the session's settings
SET datestyle = 'SQL, DMY';
SET intervalstyle = 'sql_standard';
SET extra_float_digits = 0;
SET timezone = 'Asia/Kolkata';
INSERT INTO ic_t (k, a, f, g, h) VALUES (1, 30, '2026-01-02 03:04:05+00', 0.1, '1 day 2 hours');
INSERT INTO ic_t (k, a, f, g, h) VALUES (1, 31, '2026-02-03 04:05:06+00', 1e-300, '-3 mons');
RESET datestyle;
RESET intervalstyle;
RESET extra_float_digits;
INSERT INTO ic_t (k, a, f, g, h) VALUES (1, 32, '2026-03-04 05:06:07+00', 3.14159265358979, '5 years');
-- a varchar(8) column: a length coercion (its typmod argument is part of
-- the shape) around the string
INSERT INTO ic_t (k, a, c) VALUES (1, 40, 'abc');
INSERT INTO ic_t (k, a, c) VALUES (1, 41, 'abcd');
-- an alias is part of the shape
INSERT INTO ic_t AS x (k, a) VALUES (1, 50);
INSERT INTO ic_t AS x (k, a) VALUES (1, 51);
INSERT INTO ic_t AS y (k, a) VALUES (1, 52);
-- RETURNING columns of the row
INSERT INTO ic_t (k, a, e) VALUES (1, 55, 'r1') RETURNING a, e AS text_value, k;
INSERT INTO ic_t (k, a, e) VALUES (1, 56, 'r2') RETURNING a, e AS text_value, k;
INSERT INTO ic_t (k, a, e) VALUES (1, 57, 'r3') RETURNING a, e AS other_name, k;
INSERT INTO ic_t (k, a, e) VALUES (1, 58, 'r4') RETURNING a + 1, k;
INSERT INTO ic_t (k, a, e) VALUES (1, 59, 'r5') RETURNING a + 1, k;
-- other shards
INSERT INTO ic_t (k, a, b, e) VALUES (2, 60, 1.5, 'one');
INSERT INTO ic_t (k, a, b, e) VALUES (3, 61, 1.5, 'one');
INSERT INTO ic_t (k, a, b, e) VALUES (2, 62, 7, 'seven');
-- inside a transaction block, and prepared-free multi-statement strings
BEGIN;
INSERT INTO ic_t (k, a, b, e) VALUES (1, 70, 7, 'seven');
INSERT INTO ic_t (k, a, b, e) VALUES (2, 71, 7, 'seven');
COMMIT;
INSERT INTO ic_t (k, a, b, e) VALUES (1, 72, 8, 'x') \; INSERT INTO ic_t (k, a, b, e) VALUES (2, 73, 9, 'y');
-- an error from the worker (duplicate key) through a cached statement
INSERT INTO ic_t (k, id, a) VALUES (1, 1000000, 0);
INSERT INTO ic_t (k, id, a) VALUES (1, 1000000, 0);
-- a renamed column: the cache is emptied, the new name is used
INSERT INTO ic_t (k, a, b, e) VALUES (1, 79, 5, 'before');
ALTER TABLE ic_t RENAME COLUMN e TO e2;
INSERT INTO ic_t (k, a, b, e2) VALUES (1, 80, 5, 'renamed');
INSERT INTO ic_t (k, a, b, e2) VALUES (1, 81, 6, 'renamed too');
ALTER TABLE ic_t RENAME COLUMN e2 TO e;
INSERT INTO ic_t (k, a, b, e) VALUES (1, 82, 5, 'back');
RESET client_min_messages;

-- the same statements into the local table
INSERT INTO ic_local (k, a, b, e) VALUES (1, 10, 1.5, 'one');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 11, 2.25, 'two');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 12, NULL, 'three');
INSERT INTO ic_local (k, a, b, e) VALUES (1, NULL, 3, NULL);
INSERT INTO ic_local (k, a, b, e) VALUES (1, 1, 1, '1');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 2, 2, '2');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 13, 4, 'four');
INSERT INTO ic_local (k, a, d) VALUES (1, 20, true);
INSERT INTO ic_local (k, a, d) VALUES (1, 21, true);
INSERT INTO ic_local (k, a, d) VALUES (1, 22, false);
SET datestyle = 'SQL, DMY';
SET intervalstyle = 'sql_standard';
SET extra_float_digits = 0;
INSERT INTO ic_local (k, a, f, g, h) VALUES (1, 30, '2026-01-02 03:04:05+00', 0.1, '1 day 2 hours');
INSERT INTO ic_local (k, a, f, g, h) VALUES (1, 31, '2026-02-03 04:05:06+00', 1e-300, '-3 mons');
RESET datestyle;
RESET intervalstyle;
RESET extra_float_digits;
INSERT INTO ic_local (k, a, f, g, h) VALUES (1, 32, '2026-03-04 05:06:07+00', 3.14159265358979, '5 years');
INSERT INTO ic_local (k, a, c) VALUES (1, 40, 'abc');
INSERT INTO ic_local (k, a, c) VALUES (1, 41, 'abcd');
INSERT INTO ic_local AS x (k, a) VALUES (1, 50);
INSERT INTO ic_local AS x (k, a) VALUES (1, 51);
INSERT INTO ic_local AS y (k, a) VALUES (1, 52);
INSERT INTO ic_local (k, a, e) VALUES (1, 55, 'r1'), (1, 56, 'r2'), (1, 57, 'r3'), (1, 58, 'r4'), (1, 59, 'r5');
INSERT INTO ic_local (k, a, b, e) VALUES (2, 60, 1.5, 'one');
INSERT INTO ic_local (k, a, b, e) VALUES (3, 61, 1.5, 'one');
INSERT INTO ic_local (k, a, b, e) VALUES (2, 62, 7, 'seven');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 70, 7, 'seven');
INSERT INTO ic_local (k, a, b, e) VALUES (2, 71, 7, 'seven');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 72, 8, 'x');
INSERT INTO ic_local (k, a, b, e) VALUES (2, 73, 9, 'y');
INSERT INTO ic_local (k, id, a) VALUES (1, 1000000, 0);
INSERT INTO ic_local (k, a, b, e) VALUES (1, 79, 5, 'before');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 80, 5, 'renamed');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 81, 6, 'renamed too');
INSERT INTO ic_local (k, a, b, e) VALUES (1, 82, 5, 'back');
RESET timezone;

SELECT count(*) FROM ic_t;
SELECT * FROM same_rows();

-- point lookups: the same shapes, other constants
SET client_min_messages = debug1;
SELECT a, e FROM ic_t WHERE k = 1 AND a = 10;
SELECT a, e FROM ic_t WHERE k = 1 AND a = 11;
SELECT a, e FROM ic_t WHERE k = 2 AND a = 60;
SELECT a AS x, e FROM ic_t WHERE k = 1 AND a = 12;
SELECT a AS y, e FROM ic_t WHERE k = 1 AND a = 12;
SELECT a, b * 2, e || '!' FROM ic_t t WHERE k = 1 AND (a = 13 OR e = 'two') AND b IS NOT NULL;
SELECT a, b * 2, e || '!' FROM ic_t t WHERE k = 1 AND (a = 20 OR e = 'one') AND b IS NOT NULL;
SELECT a, d FROM ic_t WHERE k = 1 AND d AND a IN (20, 21, 22);
SELECT a, d FROM ic_t WHERE k = 1 AND d AND a IN (21, 22, 23);
SELECT a, d FROM ic_t WHERE k = 1 AND NOT d AND a = ANY ('{20,22}');
SELECT a, f, g, h FROM ic_t WHERE k = 1 AND f > '2026-01-01' AND g < 3.2 AND h <> '1 hour';
SELECT a, f, g, h FROM ic_t WHERE k = 1 AND f > '2026-02-01' AND g < 3.2 AND h <> '1 hour';
-- equal constants: k = 1 and a = 1 share a parameter
SELECT a, e FROM ic_t WHERE k = 1 AND a = 1;
SELECT a, e FROM ic_t WHERE k = 1 AND a = 2;
-- not cached: ordering, limits, aggregates
SELECT a FROM ic_t WHERE k = 1 AND a < 20 ORDER BY a LIMIT 2;
SELECT a FROM ic_t WHERE k = 1 AND a < 20 ORDER BY a LIMIT 3;
SELECT count(*) FROM ic_t WHERE k = 1;
SELECT count(*) FROM ic_t WHERE k = 2;
RESET client_min_messages;
-- the same lookups on the local table
SELECT a, e FROM ic_local WHERE k = 1 AND a = 10;
SELECT a, e FROM ic_local WHERE k = 1 AND a = 11;
SELECT a, e FROM ic_local WHERE k = 2 AND a = 60;
SELECT a, b * 2, e || '!' FROM ic_local t WHERE k = 1 AND (a = 13 OR e = 'two') AND b IS NOT NULL;
SELECT a, b * 2, e || '!' FROM ic_local t WHERE k = 1 AND (a = 20 OR e = 'one') AND b IS NOT NULL;
SELECT a, d FROM ic_local WHERE k = 1 AND d AND a IN (20, 21, 22);
SELECT a, d FROM ic_local WHERE k = 1 AND d AND a IN (21, 22, 23);
SELECT a, d FROM ic_local WHERE k = 1 AND NOT d AND a = ANY ('{20,22}');
SELECT a, f, g, h FROM ic_local WHERE k = 1 AND f > '2026-01-01' AND g < 3.2 AND h <> '1 hour';
SELECT a, f, g, h FROM ic_local WHERE k = 1 AND f > '2026-02-01' AND g < 3.2 AND h <> '1 hour';
SELECT k, a, b, c, d, e, f, g, h, j FROM ic_t WHERE k = 1 AND a >= 30 AND a < 40 ORDER BY a;

-- a shard moved to the other worker: the cached statement follows it
SELECT shardid AS moved_shard, n.server_name AS from_server
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)
  JOIN shardfdw.node n USING (nodeid)
 WHERE s.shard_relid = (SELECT tableoid FROM ic_t WHERE k = 1 LIMIT 1) \gset
SET client_min_messages = debug1;
INSERT INTO ic_t (k, a, b, e) VALUES (1, 90, 7, 'before the move');
SET client_min_messages = warning;
SELECT shardfdw_move_shard(:moved_shard,
         CASE WHEN :'from_server' = 'worker1' THEN 'worker2' ELSE 'worker1' END,
         shard_transfer_mode => 'block_writes');
SET client_min_messages = debug1;
INSERT INTO ic_t (k, a, b, e) VALUES (1, 91, 8, 'after the move');
INSERT INTO ic_t (k, a, b, e) VALUES (1, 92, 9, 'after the move');
RESET client_min_messages;
SELECT a, e FROM ic_t WHERE k = 1 AND a >= 90 ORDER BY a;
SELECT n.server_name <> :'from_server' AS on_the_other_worker
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)
  JOIN shardfdw.node n USING (nodeid) WHERE s.shardid = :moved_shard;

DROP SCHEMA ic CASCADE;
