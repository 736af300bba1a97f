--
-- fdw: the shardfdw foreign-data wrapper on its own.
--
-- A hash-partitioned table whose partitions are foreign tables on worker1
-- and worker2 (shard tables created by hand through run_command_on_workers)
-- is compared with the same data in a local hash-partitioned table.
-- Pushdown is asserted through the "Remote SQL:" lines of EXPLAIN VERBOSE.
--
\set VERBOSITY terse

-- ===================================================================
-- setup
-- ===================================================================
SELECT server_name, success FROM run_command_on_workers($$
  CREATE SCHEMA fdw_test;
  CREATE TABLE fdw_test.ft_0 (id int PRIMARY KEY, val text, n numeric, d date,
                              CHECK (n >= 0));
  CREATE TABLE fdw_test.ft_1 (LIKE fdw_test.ft_0 INCLUDING ALL);
  CREATE TABLE fdw_test.ft_2 (LIKE fdw_test.ft_0 INCLUDING ALL);
  CREATE TABLE fdw_test.ft_3 (LIKE fdw_test.ft_0 INCLUDING ALL);
  CREATE TABLE fdw_test.gen_0 (id int, k int,
                               g int GENERATED ALWAYS AS (k * 2) STORED);
  CREATE TABLE fdw_test.gen_1 (id int, k int, g int)
$$) ORDER BY 1;

CREATE SCHEMA fdw_test;
SET search_path TO fdw_test, public;
CREATE TABLE ft (id int, val text, n numeric, d date) PARTITION BY HASH (id);
CREATE FOREIGN TABLE ft_0 PARTITION OF ft
  FOR VALUES WITH (MODULUS 4, REMAINDER 0) SERVER worker1;
CREATE FOREIGN TABLE ft_1 PARTITION OF ft
  FOR VALUES WITH (MODULUS 4, REMAINDER 1) SERVER worker2;
CREATE FOREIGN TABLE ft_2 PARTITION OF ft
  FOR VALUES WITH (MODULUS 4, REMAINDER 2) SERVER worker1;
CREATE FOREIGN TABLE ft_3 PARTITION OF ft
  FOR VALUES WITH (MODULUS 4, REMAINDER 3) SERVER worker2;
CREATE TABLE lt (id int, val text, n numeric, d date) PARTITION BY HASH (id);
CREATE TABLE lt_0 PARTITION OF lt FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE lt_1 PARTITION OF lt FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE lt_2 PARTITION OF lt FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE lt_3 PARTITION OF lt FOR VALUES WITH (MODULUS 4, REMAINDER 3);

-- ===================================================================
-- INSERT: routed rows are COPY-batched
-- ===================================================================
INSERT INTO ft SELECT g, 'v' || g, g * 1.5, date '2020-01-01' + g
  FROM generate_series(1, 3000) g;
INSERT INTO lt SELECT g, 'v' || g, g * 1.5, date '2020-01-01' + g
  FROM generate_series(1, 3000) g;
-- every row is in the shard that local partitioning picks
SELECT f.shard, f.rows, l.rows AS local_rows
  FROM (SELECT right(tableoid::regclass::text, 1) AS shard, count(*) AS rows
          FROM ft GROUP BY 1) f
  JOIN (SELECT right(tableoid::regclass::text, 1) AS shard, count(*) AS rows
          FROM lt GROUP BY 1) l USING (shard)
 ORDER BY 1;
-- and the rows are on the worker of their shard only
SELECT server_name, success, result FROM run_command_on_workers($$
  SELECT (SELECT count(*) FROM fdw_test.ft_0) || ' ' ||
         (SELECT count(*) FROM fdw_test.ft_1) || ' ' ||
         (SELECT count(*) FROM fdw_test.ft_2) || ' ' ||
         (SELECT count(*) FROM fdw_test.ft_3)
$$) ORDER BY 1;
-- no round trip per row: one COPY per shard
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO ft_0 VALUES (4);

-- ===================================================================
-- scans: column and WHERE pushdown
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, val FROM ft WHERE id IN (1, 2) AND val LIKE 'v%' AND n > 1.0;
SELECT id, val FROM ft WHERE id IN (1, 2) AND val LIKE 'v%' AND n > 1.0
 ORDER BY id;
-- not shippable: volatile and stable functions stay local
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM ft_0 WHERE d > now() - interval '100 years' AND random() >= 0;
-- no column needed at all
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM ft_1;
-- a shard pinned by the partition key is the only one scanned
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM ft WHERE id = 42;
SELECT * FROM ft WHERE id = 42;
-- expressions of many kinds
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM ft_2
 WHERE CASE WHEN id > 10 THEN upper(val) ELSE 'x' END = 'V100'
   AND id IS DISTINCT FROM 7 AND nullif(id, 5) IS NOT NULL
   AND (n > 1) IS TRUE AND id::text = '100' AND val = ANY (ARRAY['v100', 'w']);
-- differential checks: every query gives the local answer
SELECT (SELECT count(*) || '/' || sum(id) || '/' || sum(n) FROM ft) AS fdw,
       (SELECT count(*) || '/' || sum(id) || '/' || sum(n) FROM lt) AS local;
SELECT count(*) FROM (
  (SELECT * FROM ft WHERE val LIKE 'v1%' OR d < '2020-02-01' EXCEPT ALL
   SELECT * FROM lt WHERE val LIKE 'v1%' OR d < '2020-02-01')
  UNION ALL
  (SELECT * FROM lt WHERE val LIKE 'v1%' OR d < '2020-02-01' EXCEPT ALL
   SELECT * FROM ft WHERE val LIKE 'v1%' OR d < '2020-02-01')) diff;

-- ===================================================================
-- asynchronous Append
-- ===================================================================
EXPLAIN (COSTS OFF) SELECT * FROM ft;
SET shardfdw.enable_async = off;
EXPLAIN (COSTS OFF) SELECT * FROM ft;
SELECT count(*), sum(id) FROM ft;
RESET shardfdw.enable_async;
SELECT count(*), sum(id) FROM ft;

-- ===================================================================
-- parameters and rescans
-- ===================================================================
SET plan_cache_mode = force_generic_plan;
PREPARE q(int, text) AS SELECT id, val FROM ft WHERE id = $1 OR val = $2;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE q(3, 'v5');
EXECUTE q(3, 'v5');
EXECUTE q(7, NULL);
DEALLOCATE q;
RESET plan_cache_mode;
-- initplan parameter
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM ft_3 WHERE id = (SELECT max(id) FROM lt);
-- correlated subquery: rescans with changing parameters
SELECT a.id, (SELECT count(*) FROM ft b WHERE b.id BETWEEN a.id AND a.id + 3)
  FROM ft a WHERE a.id < 8 ORDER BY 1;
-- nested loop with both sides on the same connections
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM ft a JOIN ft b ON a.val = b.val WHERE a.id < 50;
SELECT count(*) FROM ft a JOIN ft b ON a.val = b.val WHERE a.id < 50;
SET shardfdw.enable_async = off;
SELECT count(*) FROM ft a JOIN ft b ON a.val = b.val WHERE a.id < 50;
RESET shardfdw.enable_async;
-- parameterized scans: the outer value is sent as $1
CREATE TABLE few (id int);
INSERT INTO few VALUES (1), (2), (3), (42);
ANALYZE few;
EXPLAIN (VERBOSE, COSTS OFF) SELECT f.id, t.val FROM few f JOIN ft t USING (id);
SELECT f.id, t.val FROM few f JOIN ft t USING (id) ORDER BY 1;
SELECT count(*) FROM few f JOIN ft t ON t.id = f.id + 1 AND t.val <> 'v3';
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
SELECT count(*) FROM ft a JOIN lt b ON a.id = b.id + 1 AND a.val = 'v' || (b.id + 1);

-- ===================================================================
-- INSERT with RETURNING, ON CONFLICT DO NOTHING, remote errors
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO ft_0 VALUES (4) RETURNING *;
INSERT INTO ft VALUES (5001, 'r1', 1, NULL), (5002, 'r2', 2, '2020-02-02')
  RETURNING *;
INSERT INTO ft VALUES (5001, 'dup'), (5003, 'r3') ON CONFLICT DO NOTHING;
-- multi-row batches, and the row count is what the workers inserted
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO ft_0 VALUES (4) ON CONFLICT DO NOTHING;
DO $$
DECLARE
  n bigint;
BEGIN
  INSERT INTO ft SELECT g, 'oc' || g FROM generate_series(2990, 3010) g
    ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RAISE NOTICE 'inserted % rows', n;
END $$;
INSERT INTO lt SELECT g, 'oc' || g FROM generate_series(3001, 3010) g;
SELECT * FROM ft WHERE id > 5000 ORDER BY id;
INSERT INTO ft VALUES (5001, 'dup');
INSERT INTO ft VALUES (5004, 'neg', -1);
SELECT count(*) FROM ft WHERE id > 5000;
INSERT INTO lt SELECT * FROM ft WHERE id > 5000;
-- generated columns are computed by the worker when its table does so
CREATE FOREIGN TABLE gen_0 (id int, k int,
                            g int GENERATED ALWAYS AS (k * 2) STORED)
  SERVER worker1;
INSERT INTO gen_0 (id, k) VALUES (1, 10), (2, 20);
INSERT INTO gen_0 (id, k) VALUES (3, 30) RETURNING *;
UPDATE gen_0 SET k = k + 1 WHERE id = 1;
SELECT * FROM gen_0 ORDER BY id;
-- and sent by the coordinator when the remote column is a plain one (shards)
CREATE FOREIGN TABLE gen_1 (id int, k int,
                            g int GENERATED ALWAYS AS (k * 2) STORED)
  SERVER worker1;
INSERT INTO gen_1 (id, k) VALUES (1, 10), (2, 20);
INSERT INTO gen_1 (id, k) VALUES (3, 30) RETURNING *;
EXPLAIN (VERBOSE, COSTS OFF) UPDATE gen_1 SET k = k + 1 WHERE id = 1;
UPDATE gen_1 SET k = k + 1 WHERE id = 1;
SELECT * FROM gen_1 ORDER BY id;

-- ===================================================================
-- UPDATE and DELETE
-- ===================================================================
-- pushed down: one statement per shard
EXPLAIN (VERBOSE, COSTS OFF)
UPDATE ft SET val = val || 'u', n = n + 1 WHERE id < 100;
UPDATE ft SET val = val || 'u', n = n + 1 WHERE id < 100;
UPDATE lt SET val = val || 'u', n = n + 1 WHERE id < 100;
EXPLAIN (VERBOSE, COSTS OFF) DELETE FROM ft WHERE id > 2900;
DELETE FROM ft WHERE id > 2900;
DELETE FROM lt WHERE id > 2900;
-- row by row through the remote ctid (volatile qual, RETURNING)
EXPLAIN (VERBOSE, COSTS OFF)
UPDATE ft_1 SET n = n * 2 WHERE id < 20 AND random() >= 0 RETURNING id, n;
WITH u AS (UPDATE ft SET n = n * 2 WHERE id < 20 AND random() >= 0
           RETURNING id, n)
SELECT * FROM u ORDER BY id;
UPDATE lt SET n = n * 2 WHERE id < 20 AND random() >= 0;
WITH d AS (DELETE FROM ft WHERE id BETWEEN 200 AND 205 AND random() >= 0
           RETURNING id)
SELECT * FROM d ORDER BY id;
DELETE FROM lt WHERE id BETWEEN 200 AND 205 AND random() >= 0;
-- a remote error inside a pushed-down statement
UPDATE ft SET n = -1 WHERE id = 1;
-- a new partition key moves the row to its shard (8 is in shard 1, 1000007
-- belongs in shard 3), also when the statement also updates the target shard
UPDATE ft SET id = 1000007 WHERE id = 8;
UPDATE lt SET id = 1000007 WHERE id = 8;
SELECT right(tableoid::regclass::text, 1) AS shard, id FROM ft
 WHERE id IN (8, 1000007);
UPDATE ft SET id = id + 100000 WHERE id % 5 = 0 AND id < 1000;
UPDATE lt SET id = id + 100000 WHERE id % 5 = 0 AND id < 1000;
-- but not when the UPDATE names the partition itself
UPDATE ft_3 SET id = 8 WHERE id = 1000007;
SELECT count(*) FROM (
  (SELECT right(tableoid::regclass::text, 1), * FROM ft EXCEPT ALL
   SELECT right(tableoid::regclass::text, 1), * FROM lt)
  UNION ALL
  (SELECT right(tableoid::regclass::text, 1), * FROM lt EXCEPT ALL
   SELECT right(tableoid::regclass::text, 1), * FROM ft)) diff;

-- a statement does not see its own changes, even with batches sent early
ALTER FOREIGN TABLE ft_0 OPTIONS (ADD batch_size '10');
ALTER FOREIGN TABLE ft_2 OPTIONS (ADD batch_size '10');
SET shardfdw.enable_async = off;
INSERT INTO ft SELECT id + 10000, val, n, d FROM ft;
INSERT INTO lt SELECT id + 10000, val, n, d FROM lt;
RESET shardfdw.enable_async;
INSERT INTO ft SELECT id + 20000, val, n, d FROM ft WHERE id > 10000;
INSERT INTO lt SELECT id + 20000, val, n, d FROM lt WHERE id > 10000;
WITH ins AS (INSERT INTO ft SELECT id + 100000, val FROM ft WHERE id < 50
             RETURNING id)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM ft) AS seen;
WITH ins AS (INSERT INTO lt SELECT id + 100000, val FROM lt WHERE id < 50
             RETURNING id)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM lt) AS seen;
UPDATE ft SET n = ft.n + t2.n FROM ft t2 WHERE t2.id = ft.id + 1 AND ft.id < 100;
UPDATE lt SET n = lt.n + t2.n FROM lt t2 WHERE t2.id = lt.id + 1 AND lt.id < 100;
SELECT count(*) FROM (
  (SELECT right(tableoid::regclass::text, 1), * FROM ft EXCEPT ALL
   SELECT right(tableoid::regclass::text, 1), * FROM lt)
  UNION ALL
  (SELECT right(tableoid::regclass::text, 1), * FROM lt EXCEPT ALL
   SELECT right(tableoid::regclass::text, 1), * FROM ft)) diff;

-- ===================================================================
-- transactions read their own writes
-- ===================================================================
BEGIN;
INSERT INTO ft VALUES (7777, 'mine');
SELECT * FROM ft WHERE id = 7777;
UPDATE ft SET val = 'mine2' WHERE id = 7777;
SELECT * FROM ft WHERE id = 7777;
DELETE FROM ft WHERE id = 7777;
SELECT count(*) FROM ft WHERE id = 7777;
INSERT INTO ft VALUES (7778, 'gone');
ROLLBACK;
SELECT count(*) FROM ft WHERE id IN (7777, 7778);

-- ===================================================================
-- ANALYZE samples the remote tables
-- ===================================================================
ANALYZE ft;
SELECT relname, reltuples FROM pg_class
 WHERE relnamespace = 'fdw_test'::regnamespace AND relname LIKE 'ft\__'
 ORDER BY 1;

-- ===================================================================
-- TRUNCATE reaches every shard
-- ===================================================================
TRUNCATE ft;
SELECT count(*) FROM ft;
SELECT server_name, success, result FROM run_command_on_workers($$
  SELECT (SELECT count(*) FROM fdw_test.ft_0) + (SELECT count(*) FROM fdw_test.ft_1) +
         (SELECT count(*) FROM fdw_test.ft_2) + (SELECT count(*) FROM fdw_test.ft_3)
$$) ORDER BY 1;

-- ===================================================================
-- row locks: a scan feeding UPDATE through the ctid reads FOR UPDATE; when
-- a nested loop rescans it (fetch_size 1: many FETCHes), the rescan rereads
-- the first result and never sees the statement's own changes: each row is
-- updated once
-- ===================================================================
CREATE TABLE acc (id int PRIMARY KEY, tenant int, bal int);
SELECT create_distributed_table('acc', 'id', shard_count => 4);
INSERT INTO acc SELECT g, g % 3, 100 FROM generate_series(1, 12) g;
CREATE FUNCTION plus2(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS 'BEGIN RETURN $1 + 2; END';
-- EXPLAIN lines, shard numbers masked; only the worker SQL if remote
CREATE FUNCTION pg_temp.plan(q text, remote bool DEFAULT true) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    IF NOT remote THEN
      RETURN NEXT regexp_replace(l, '_[0-9]+', '_N', 'g');
    ELSIF l LIKE '%Remote SQL:%' THEN
      RETURN NEXT regexp_replace(trim(l), '_[0-9]+', '_N', 'g');
    END IF;
  END LOOP;
END $$;
ALTER SERVER worker1 OPTIONS (ADD fetch_size '1');
ALTER SERVER worker2 OPTIONS (ADD fetch_size '1');
BEGIN;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_material = off;
SELECT pg_temp.plan('UPDATE acc SET bal = plus2(bal) FROM generate_series(1, 3) g WHERE tenant = 1 AND g > 0', false);
UPDATE acc SET bal = plus2(bal) FROM generate_series(1, 3) g WHERE tenant = 1 AND g > 0;
SELECT tenant, count(*), sum(bal) FROM acc GROUP BY tenant ORDER BY tenant;
ROLLBACK;
ALTER SERVER worker1 OPTIONS (DROP fetch_size);
ALTER SERVER worker2 OPTIONS (DROP fetch_size);
-- the worker SQL of the scans
SELECT pg_temp.plan('SELECT id FROM acc WHERE id IN (1, 2) FOR NO KEY UPDATE SKIP LOCKED');
SELECT pg_temp.plan('SELECT id FROM acc WHERE tenant = 1 FOR KEY SHARE NOWAIT');
SELECT pg_temp.plan('SELECT a.id FROM acc a JOIN acc b ON a.bal = b.id WHERE a.tenant = 1 FOR UPDATE OF a');
SELECT pg_temp.plan('UPDATE acc SET bal = plus2(bal) WHERE tenant = 2');
SELECT pg_temp.plan('DELETE FROM acc WHERE plus2(bal) = 0');
SELECT id FROM acc WHERE tenant = 1 ORDER BY id FOR SHARE;
DROP TABLE acc;
DROP FUNCTION plus2(int);

-- ===================================================================
-- cleanup
-- ===================================================================
RESET search_path;
DROP SCHEMA fdw_test CASCADE;
SELECT server_name, success FROM run_command_on_workers($$
  DROP SCHEMA fdw_test CASCADE
$$) ORDER BY 1;
