--
-- router_prepared: router statements go through prepared statements each
-- worker connection keeps (shardfdw.max_cached_remote_statements): a
-- statement text sent a second time is prepared on the worker and then
-- only executed.  Every result is compared with a local copy of the rows;
-- shardfdw.cached_remote_statements() shows what the connections keep.
--
-- shard names and ids depend on the tests that ran before
\set VERBOSITY sqlstate
CREATE SCHEMA rp;
SET search_path = rp, public;
CREATE TABLE rp_t (k int PRIMARY KEY, v text, n numeric, ts timestamptz);
SELECT create_distributed_table('rp_t', 'k', shard_count => 4);
INSERT INTO rp_t SELECT g, 'v' || g, g * 1.5, timestamptz '2026-01-01 12:00+00' + g * interval '1 day'
  FROM generate_series(1, 20) g;
INSERT INTO rp_t VALUES (21, NULL, NULL, NULL);
CREATE TABLE rp_l AS SELECT * FROM rp_t;

-- what this session's connections keep for rp_t, shard names normalised
CREATE FUNCTION stmts() RETURNS TABLE (prepared bool, uses bigint, statement text)
LANGUAGE sql AS $$
  SELECT statement_name IS NOT NULL, uses,
         btrim(regexp_replace(regexp_replace(statement, 'rp_t_[0-9]+', 'rp_t_N', 'g'), '\s+', ' ', 'g'))
    FROM shardfdw.cached_remote_statements()
   WHERE statement LIKE '%rp.rp_t%'
   ORDER BY 3, 1, 2
$$;

-- rows of the distributed table and of the local copy differ?
CREATE FUNCTION differs() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM ((TABLE rp_t EXCEPT ALL TABLE rp_l) UNION ALL
                        (TABLE rp_l EXCEPT ALL TABLE rp_t)) d
$$;

--
-- a prepared lookup: sent once as the unnamed statement, then prepared
--
PREPARE q(int) AS SELECT v, n, ts FROM rp_t WHERE k = $1;
EXECUTE q(3);
EXECUTE q(3);
EXECUTE q(3);
SELECT * FROM stmts();
-- other keys of the same shard use the same statement; other shards have
-- their own (the text names the shard)
EXECUTE q(NULL);
SELECT count(*) AS statements, sum(uses) AS uses FROM stmts();
-- generic plans: the executor hashes the parameter
SET plan_cache_mode = force_generic_plan;
SELECT (SELECT array_agg(v ORDER BY k) FROM rp_t WHERE k = g) IS NOT DISTINCT FROM
       (SELECT array_agg(v ORDER BY k) FROM rp_l WHERE k = g) AS same, count(*)
  FROM generate_series(0, 22) g GROUP BY 1;
PREPARE q2(int) AS SELECT k, v FROM rp_t WHERE k = $1;
EXECUTE q2(5);
EXECUTE q2(5);
EXECUTE q2(5);
RESET plan_cache_mode;

-- parameter values travel as text with their types: time zones, NULLs
SET TimeZone = 'America/New_York';
PREPARE tz(int, timestamptz) AS SELECT k, ts, ts < $2 AS before FROM rp_t WHERE k = $1;
EXECUTE tz(4, '2026-01-05 08:00');
EXECUTE tz(4, '2026-01-05 08:00');
EXECUTE tz(4, NULL);
SELECT k, ts, ts < '2026-01-05 08:00' AS before FROM rp_l WHERE k = 4;
RESET TimeZone;

--
-- DML with parameters, in and out of transaction blocks
--
PREPARE u(int, text, numeric) AS UPDATE rp_t SET v = $2, n = n + $3 WHERE k = $1 RETURNING k, v, n;
PREPARE ul(int, text, numeric) AS UPDATE rp_l SET v = $2, n = n + $3 WHERE k = $1 RETURNING k, v, n;
EXECUTE u(6, 'six', 1);
EXECUTE ul(6, 'six', 1);
EXECUTE u(6, NULL, 1);
EXECUTE ul(6, NULL, 1);
EXECUTE u(6, 'again', NULL);
EXECUTE ul(6, 'again', NULL);
BEGIN;
EXECUTE u(7, 'rolled back', 100);
EXECUTE u(7, 'rolled back', 100);
ROLLBACK;
-- the worker's prepared statements outlive the rolled-back transaction
EXECUTE u(7, 'seven', 0);
EXECUTE ul(7, 'seven', 0);
SELECT differs();
SELECT prepared, uses FROM stmts() WHERE statement LIKE 'UPDATE%' ORDER BY uses;

-- one-row INSERTs whose serial default the coordinator computes: the value
-- is a parameter, so the statement text stays the same
CREATE TABLE rp_s (id bigserial, k int, v text);
SELECT create_distributed_table('rp_s', 'k', shard_count => 4);
INSERT INTO rp_s (k, v) VALUES (1, 'a');
INSERT INTO rp_s (k, v) VALUES (1, 'a');
INSERT INTO rp_s (k, v) VALUES (1, 'a');
BEGIN;
INSERT INTO rp_s (k, v) VALUES (1, 'a');
INSERT INTO rp_s (k, v) VALUES (1, 'a') RETURNING id, k, v;
COMMIT;
SELECT id, k, v FROM rp_s WHERE k = 1 ORDER BY id;
SELECT statement_name IS NOT NULL AS prepared, uses,
       btrim(regexp_replace(regexp_replace(statement, 'rp_s_[0-9]+', 'rp_s_N', 'g'), '\s+', ' ', 'g')) AS statement
  FROM shardfdw.cached_remote_statements() WHERE statement LIKE '%rp.rp_s%' ORDER BY 3;

--
-- ALTER TABLE: the coordinator re-plans; a worker statement of the same
-- text re-plans on the worker; a statement whose result type changed is a
-- new worker statement (not "cached plan must not change result type")
--
PREPARE a(int) AS SELECT k, v FROM rp_t WHERE k = $1;
EXECUTE a(8);
EXECUTE a(8);
SELECT v FROM rp_t WHERE k = 8;
SELECT v FROM rp_t WHERE k = 8;
ALTER TABLE rp_t ADD COLUMN w int DEFAULT 7;
ALTER TABLE rp_l ADD COLUMN w int DEFAULT 7;
EXECUTE a(8);
EXECUTE a(8);
SELECT w FROM rp_t WHERE k = 8;
SELECT w FROM rp_t WHERE k = 8;
ALTER TABLE rp_t DROP COLUMN n;
ALTER TABLE rp_l DROP COLUMN n;
EXECUTE a(8);
SELECT v FROM rp_t WHERE k = 8;
ALTER TABLE rp_t ALTER COLUMN w TYPE bigint USING w * 10;
ALTER TABLE rp_l ALTER COLUMN w TYPE bigint USING w * 10;
SELECT w, pg_typeof(w) FROM rp_t WHERE k = 8;
SELECT w FROM rp_t WHERE k = 8;
SELECT w FROM rp_t WHERE k = 8;
ALTER TABLE rp_t ALTER COLUMN v TYPE varchar(10);
ALTER TABLE rp_l ALTER COLUMN v TYPE varchar(10);
SELECT v FROM rp_t WHERE k = 8;
-- (a prepared statement whose result type changed fails on the
-- coordinator, as it does on a local table)
EXECUTE a(8);
PREPARE al(int) AS SELECT k, v FROM rp_l WHERE k = $1;
ALTER TABLE rp_l ALTER COLUMN v TYPE varchar(12);
EXECUTE al(8);
ALTER TABLE rp_l ALTER COLUMN v TYPE varchar(10);
SELECT differs();
SELECT prepared, uses, statement FROM stmts() WHERE statement ~ '^SELECT [vw] FROM';

--
-- the worker session loses the prepared statements (DISCARD ALL from a
-- pooler, say): alone in its implicit transaction the statement is sent
-- again; in a transaction block the error stands and the connection is
-- replaced afterwards
--
PREPARE d(int) AS SELECT k, v FROM rp_t WHERE k = $1;
EXECUTE d(9);
EXECUTE d(9);
SET shardfdw.test_fault_point = 'discard-remote-statements';
EXECUTE d(9);
RESET shardfdw.test_fault_point;
EXECUTE d(9);
EXECUTE d(9);
EXECUTE d(9);
BEGIN;
SET LOCAL shardfdw.test_fault_point = 'discard-remote-statements';
EXECUTE d(9);
ROLLBACK;
EXECUTE d(9);
-- session settings came back with the new session
SET TimeZone = 'Asia/Tokyo';
EXECUTE tz(4, '2026-01-05 22:00+09');
SELECT k, ts, ts < '2026-01-05 22:00+09' AS before FROM rp_l WHERE k = 4;
RESET TimeZone;

--
-- constants travel as parameters too (shardfdw.parameterize_literals):
-- statements that differ only in constants share a worker statement; the
-- shapes below need equal expressions or real constants on the worker
--
SELECT k, v || 'x' FROM rp_t WHERE k = 12;
SELECT k, v || 'y' FROM rp_t WHERE k = 12;
SELECT k, v || 'z' FROM rp_t WHERE k = 12;
SELECT prepared, uses, statement FROM stmts() WHERE statement LIKE 'SELECT k, %::text || %) AS %' ORDER BY 3;
CREATE FUNCTION rows_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  acc text[] := '{}';
BEGIN
  FOR r IN EXECUTE q LOOP
    acc := acc || r::text;
  END LOOP;
  RETURN array_to_string(ARRAY(SELECT unnest(acc) ORDER BY 1), ' ');
END $$;
CREATE FUNCTION same(q text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN rows_of(q) IS NOT DISTINCT FROM rows_of(replace(q, 'rp_t', 'rp_l'))
              THEN 'same: ' || rows_of(q)
              ELSE 'DIFFERENT: ' || rows_of(q) || ' vs ' || rows_of(replace(q, 'rp_t', 'rp_l')) END
$$;
SELECT same($$SELECT k + 1, count(*) FROM rp_t WHERE k = 12 GROUP BY k + 1 HAVING k + 1 > 5$$);
SELECT same($$SELECT 'x', count(*) FROM rp_t WHERE k = 12 GROUP BY 1$$);
SELECT same($$SELECT k % 5, 'x' || k % 5 FROM rp_t WHERE k = 12 GROUP BY k % 5 ORDER BY k % 5$$);
SELECT same($$SELECT EXTRACT(day FROM ts), date_part('month', ts), ts AT TIME ZONE 'UTC' FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k FROM rp_t WHERE k = 12 AND v IN ('v12', 'v13')$$);
SELECT same($$SELECT v FROM rp_t WHERE k = 12 ORDER BY 1 LIMIT 1 OFFSET 0$$);
SELECT same($$SELECT substring(v FROM 2 FOR 1), trim(both 'v' FROM v), position('1' IN v), overlay(v placing 'Z' from 1 for 1) FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT '1.55'::numeric(5,1), '1.55'::numeric, 'abc'::varchar(2), 'abc'::char(5) || '|' FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k, CASE WHEN w > 10 THEN 'big' ELSE 'small' END, CASE k WHEN 12 THEN 'twelve' END FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k FROM rp_t WHERE k = 12 AND ts > timestamptz '2026-01-01 00:00+05' AND ts < '2026-12-31'::date AND ts - interval '1 day' > '2025-12-31'$$);
SELECT same($$SELECT k, sum(k) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k, v FROM rp_t WHERE k = 12 AND v LIKE 'v1%' AND v IS DISTINCT FROM NULL AND NOT v ~ '^x'$$);
SELECT same($$SELECT k, 1.5 * 2, 7 / 2, 7.0 / 2, 1e300 * 10, -0.0::float8, 'NaN'::float8 FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k, ARRAY[1, 2, k], '{a,b}'::text[], ROW(1, 'a') = ROW(1, 'a') FROM rp_t WHERE k = 12$$);
SELECT same($$SELECT k, '{"a": [1, 2]}'::jsonb -> 'a' ->> 1, '10.1.2.3/24'::inet << '10.1.0.0/16' FROM rp_t WHERE k = 12$$);
SELECT same($$WITH c AS (SELECT k, 'c' AS tag FROM rp_t WHERE k = 12) SELECT tag, count(*) FROM c GROUP BY tag$$);
SELECT same($$SELECT k FROM rp_t WHERE k = 12 AND k IN (SELECT k FROM rp_t WHERE k = 12 AND v <> 'none')$$);
-- parameters and constants together
PREPARE m(int) AS SELECT k, v || '-' || $1, $1 + 1 FROM rp_t WHERE k = $1 AND v <> 'zz';
EXECUTE m(12);
EXECUTE m(12);
EXECUTE m(13);
-- a partial unique index is inferred from the constants of ON CONFLICT
CREATE UNIQUE INDEX rp_t_v_key ON rp_t (k, v) WHERE k > 0;
INSERT INTO rp_t (k, v) VALUES (12, 'v12') ON CONFLICT (k, v) WHERE k > 0 DO UPDATE SET w = 99 RETURNING k, v, w;
INSERT INTO rp_t (k, v) VALUES (12, 'v12') ON CONFLICT (k, v) WHERE k > 0 DO UPDATE SET w = 98 RETURNING k, v, w;
UPDATE rp_l SET w = 98 WHERE k = 12;
SELECT differs();
-- off: constants stay literals
SET shardfdw.parameterize_literals = off;
SELECT k, v || 'q' FROM rp_t WHERE k = 12;
SELECT prepared, uses, statement FROM stmts() WHERE statement LIKE 'SELECT k, %::text || %) AS %' ORDER BY 3;
RESET shardfdw.parameterize_literals;

--
-- many statement texts: at most shardfdw.max_cached_remote_statements per
-- connection, the least recently used deallocated
--
SET shardfdw.max_cached_remote_statements = 3;
SET shardfdw.parameterize_literals = off;
DO $$
DECLARE
  i int;
  r text;
  l text;
BEGIN
  FOR i IN 1..8 LOOP
    EXECUTE format('SELECT string_agg(v || %L, %L || %s) FROM rp.rp_t WHERE k = %s', i, ',', i, i) INTO r;
    EXECUTE format('SELECT string_agg(v || %L, %L || %s) FROM rp.rp_t WHERE k = %s', i, ',', i, i) INTO r;
    EXECUTE format('SELECT string_agg(v || %L, %L || %s) FROM rp.rp_l WHERE k = %s', i, ',', i, i) INTO l;
    IF r IS DISTINCT FROM l THEN
      RAISE EXCEPTION 'differs: % %', r, l;
    END IF;
  END LOOP;
END $$;
RESET shardfdw.parameterize_literals;
SELECT server_name, count(*) <= 3 AS bounded
  FROM shardfdw.cached_remote_statements() GROUP BY 1 ORDER BY 1;
EXECUTE d(10);
EXECUTE d(10);
SET shardfdw.max_cached_remote_statements = 0;
EXECUTE d(10);
RESET shardfdw.max_cached_remote_statements;

--
-- prepared INSERTs and lookups with parameters (the shard picked by a
-- parameter, serial and now() defaults computed here): the executor makes
-- the worker statement once per plan and shard and then only converts the
-- parameter values; results, worker errors and transactions as before
--
CREATE TABLE rp_i (id bigserial, k int, v text, ts timestamptz DEFAULT now(),
                   PRIMARY KEY (k, id));
SELECT create_distributed_table('rp_i', 'k', shard_count => 4);
CREATE FUNCTION istmts() RETURNS TABLE (prepared bool, uses bigint, statement text)
LANGUAGE sql AS $$
  SELECT statement_name IS NOT NULL, uses,
         btrim(regexp_replace(regexp_replace(statement, 'rp_i_[0-9]+', 'rp_i_N', 'g'), '\s+', ' ', 'g'))
    FROM shardfdw.cached_remote_statements()
   WHERE statement LIKE '%rp.rp_i%'
   ORDER BY 3, 1, 2
$$;
SET plan_cache_mode = force_generic_plan;
PREPARE i(int, text) AS
  INSERT INTO rp_i (k, v) VALUES ($1, $2) RETURNING k, v, ts IS NOT NULL AS has_ts;
EXECUTE i(1, 'a');
EXECUTE i(1, 'b');
EXECUTE i(2, 'c');
EXECUTE i(2, NULL);
EXECUTE i(3, 'e');
EXECUTE i(1, 'f');
EXECUTE i(1, 'g');
-- one statement text per shard, prepared on the worker from its second use
SELECT count(*) AS statements, sum(uses) AS uses, bool_and(prepared) AS all_prepared FROM istmts();
SELECT DISTINCT regexp_replace(statement, '\$[0-9]+', '$n', 'g') FROM istmts();
-- explicit ids: a worker error keeps its SQLSTATE; the next execution works
PREPARE ie(bigint, int, text) AS INSERT INTO rp_i (id, k, v) VALUES ($1, $2, $3);
EXECUTE ie(1000, 1, 'x');
EXECUTE ie(1000, 1, 'duplicate');
EXECUTE ie(1001, 1, 'y');
EXECUTE ie(1001, 1, 'duplicate');
-- in a transaction block, rolled back: nothing stays
BEGIN;
EXECUTE ie(1002, 1, 'rolled back');
EXECUTE i(4, 'rolled back');
SELECT count(*) FROM rp_i WHERE v = 'rolled back';
ROLLBACK;
SELECT count(*) FROM rp_i WHERE v = 'rolled back';
-- an error in a block aborts the block
BEGIN;
EXECUTE ie(1003, 1, 'in block');
EXECUTE ie(1003, 1, 'duplicate');
ROLLBACK;
BEGIN;
EXECUTE ie(1004, 2, 'committed');
EXECUTE i(2, 'committed too');
COMMIT;
SELECT k, v FROM rp_i WHERE id >= 1000 OR v LIKE 'committed%' ORDER BY k, v;
-- lookups with parameters, several shards, NULL
PREPARE il(int, bigint) AS SELECT k, v FROM rp_i WHERE k = $1 AND id = $2;
EXECUTE il(1, 1000);
EXECUTE il(1, 1001);
EXECUTE il(2, 1004);
EXECUTE il(1, 1003);
EXECUTE il(NULL, 1000);
EXECUTE il(1, NULL);
-- a parameter of a type workers may not know by OID (a domain) is sent as
-- a literal
CREATE DOMAIN rp_dom AS text CHECK (VALUE <> 'bad');
PREPARE idom(int, rp_dom) AS INSERT INTO rp_i (k, v) VALUES ($1, $2) RETURNING k, v;
EXECUTE idom(3, 'dom');
EXECUTE idom(3, 'dom2');
EXECUTE idom(3, 'bad');
-- shardfdw.parameterize_literals changed between executions of one plan
PREPARE ic(int) AS INSERT INTO rp_i (k, v) VALUES ($1, 'const') RETURNING k, v;
EXECUTE ic(1);
SET shardfdw.parameterize_literals = off;
EXECUTE ic(1);
RESET shardfdw.parameterize_literals;
EXECUTE ic(1);
SELECT count(*) FROM istmts() WHERE statement LIKE '%''const''%';
-- the table changes: a new plan and a new worker statement
ALTER TABLE rp_i ADD COLUMN w int DEFAULT 5;
EXECUTE i(1, 'after alter');
EXECUTE i(1, 'after alter 2');
SELECT k, v, w FROM rp_i WHERE v LIKE 'after alter%' ORDER BY v;
RESET plan_cache_mode;
SELECT k, v, ts IS NOT NULL AS has_ts FROM rp_i ORDER BY k, v;

SET client_min_messages = warning;
DROP SCHEMA rp CASCADE;
