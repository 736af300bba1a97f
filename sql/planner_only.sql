--
-- planner_only: ONLY on a distributed table reads the partitioned parent
-- alone, which holds no rows, as on a local partitioned table: no strategy
-- may send such a statement to the shards.
--
CREATE SCHEMA po;
SET search_path = po, public;
CREATE TABLE po_t (k int NOT NULL, v int);
SELECT create_distributed_table('po_t', 'k', shard_count => 4);
CREATE TABLE po_local (k int NOT NULL, v int) PARTITION BY HASH (k);
CREATE TABLE po_local_0 PARTITION OF po_local FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE po_local_1 PARTITION OF po_local FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO po_t SELECT i % 10, i FROM generate_series(1, 100) i;
INSERT INTO po_local SELECT i % 10, i FROM generate_series(1, 100) i;

-- both sides the same: a pinned lookup, all shards, an aggregate, a join
SELECT (SELECT count(*) FROM ONLY po_t WHERE k = 1) AS dist,
       (SELECT count(*) FROM ONLY po_local WHERE k = 1) AS local;
SELECT (SELECT count(*) FROM ONLY po_t) AS dist,
       (SELECT count(*) FROM ONLY po_local) AS local;
SELECT (SELECT sum(v) FROM ONLY po_t GROUP BY k ORDER BY k LIMIT 1) AS dist,
       (SELECT sum(v) FROM ONLY po_local GROUP BY k ORDER BY k LIMIT 1) AS local;
SELECT (SELECT count(*) FROM po_t a JOIN ONLY po_t b USING (k) WHERE k = 2) AS dist,
       (SELECT count(*) FROM po_local a JOIN ONLY po_local b USING (k) WHERE k = 2) AS local;
UPDATE ONLY po_t SET v = 0 WHERE k = 3;
UPDATE ONLY po_local SET v = 0 WHERE k = 3;
DELETE FROM ONLY po_t WHERE k = 4;
DELETE FROM ONLY po_local WHERE k = 4;
SELECT count(*), sum(v) FROM po_t;
SELECT count(*), sum(v) FROM po_local;
-- the strategies: none with ONLY; the router without it
CREATE FUNCTION pg_temp.strategy(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF l ~ 'Strategy:' THEN RETURN trim(l); END IF;
  END LOOP;
  RETURN 'standard plan';
END $$;
SELECT pg_temp.strategy('SELECT count(*) FROM ONLY po_t WHERE k = 1'),
       pg_temp.strategy('SELECT count(*) FROM po_t WHERE k = 1'),
       pg_temp.strategy('UPDATE ONLY po_t SET v = 1 WHERE k = 1'),
       pg_temp.strategy('UPDATE po_t SET v = 1 WHERE k = 1');
SELECT count(*) FROM po_t WHERE k = 1;

DROP SCHEMA po CASCADE;
