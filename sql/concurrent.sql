--
-- concurrent: create_distributed_table_concurrently
--
-- The same validation and errors as create_distributed_table (each error
-- case below calls both), a successful distribution compared with a local
-- copy, colocate_with, shard_count, a table without a key (blocking
-- conversion with a NOTICE), and failures injected at every phase of the
-- background job: the table stays as it was and nothing is left behind.
-- test/t/430_concurrent.pl runs it under continuous writes.
\set VERBOSITY default
-- (errors of the job come with a CONTEXT line naming the job's id)
\set SHOW_CONTEXT never

-- the table is plain with its rows, unknown to the catalog, and nothing
-- of a concurrent distribution is left on the coordinator or the workers
CREATE FUNCTION cdc_state(tbl regclass, OUT relkind "char", OUT nrows bigint,
                          OUT in_catalog bigint, OUT leftovers bigint,
                          OUT worker_tables text)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT c.relkind INTO relkind FROM pg_class c WHERE c.oid = tbl;
  EXECUTE format('SELECT count(*) FROM %s', tbl) INTO nrows;
  SELECT (SELECT count(*) FROM shardfdw.distributed_table WHERE relid = tbl)
       + (SELECT count(*) FROM shardfdw.shard WHERE relid = tbl)
    INTO in_catalog;
  SELECT (SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_')
       + (SELECT count(*) FROM pg_trigger WHERE tgrelid = tbl)
    INTO leftovers;
  SELECT string_agg(r.server_name || '=' || r.result, ' ' ORDER BY r.server_name) INTO worker_tables
    FROM run_command_on_workers(format(
      $q$SELECT count(*) FROM pg_class WHERE relname ~ '^%s_\d+$'$q$, tbl::text)) r;
END $$;

CREATE TABLE cdc_t (id int PRIMARY KEY, pt point, note text);
INSERT INTO cdc_t SELECT i, point(i, i), 'n' || i FROM generate_series(1, 10) i;

-- errors: create_distributed_table first, then the concurrent variant
SELECT create_distributed_table(NULL, 'id');
SELECT create_distributed_table_concurrently(NULL, 'id');
SELECT create_distributed_table('cdc_t', 'nope');
SELECT create_distributed_table_concurrently('cdc_t', 'nope');
SELECT create_distributed_table('cdc_t', 'pt');
SELECT create_distributed_table_concurrently('cdc_t', 'pt');
SELECT create_distributed_table('cdc_t', 'id', 'range');
SELECT create_distributed_table_concurrently('cdc_t', 'id', 'range');
SELECT create_distributed_table('cdc_t', 'id', shard_count => 0);
SELECT create_distributed_table_concurrently('cdc_t', 'id', shard_count => 0);
SELECT create_distributed_table('cdc_t', 'note');
SELECT create_distributed_table_concurrently('cdc_t', 'note');
CREATE MATERIALIZED VIEW cdc_v AS SELECT id FROM cdc_t;
SELECT create_distributed_table('cdc_t', 'id');
SELECT create_distributed_table_concurrently('cdc_t', 'id');
DROP MATERIALIZED VIEW cdc_v;
CREATE FUNCTION cdc_trig() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER cdc_tg BEFORE INSERT ON cdc_t FOR EACH ROW EXECUTE FUNCTION cdc_trig();
SELECT create_distributed_table('cdc_t', 'id');
SELECT create_distributed_table_concurrently('cdc_t', 'id');
DROP TRIGGER cdc_tg ON cdc_t;
DROP FUNCTION cdc_trig();
CREATE TABLE cdc_other (id bigint PRIMARY KEY);
SELECT create_distributed_table('cdc_t', 'id', colocate_with => 'cdc_other');
SELECT create_distributed_table_concurrently('cdc_t', 'id', colocate_with => 'cdc_other');
SELECT create_distributed_table('cdc_other', 'id', shard_count => 4);
SELECT create_distributed_table('cdc_t', 'id', colocate_with => 'cdc_other');
SELECT create_distributed_table_concurrently('cdc_t', 'id', colocate_with => 'cdc_other');
SELECT create_distributed_table('cdc_other', 'id');
SELECT create_distributed_table_concurrently('cdc_other', 'id');
CREATE TABLE cdc_parted (id int PRIMARY KEY) PARTITION BY HASH (id);
SELECT create_distributed_table('cdc_parted', 'id');
SELECT create_distributed_table_concurrently('cdc_parted', 'id');
DROP TABLE cdc_parted;
SELECT * FROM cdc_state('cdc_t');

-- not inside a transaction block
BEGIN;
SELECT create_distributed_table_concurrently('cdc_t', 'id');
ROLLBACK;

-- success: the rows equal a local copy, and the table works afterwards
CREATE TABLE cdc_big (id bigint, k int, v text, d numeric, ts timestamptz,
                      PRIMARY KEY (k, id));
INSERT INTO cdc_big
SELECT i, i % 97, md5(i::text), i / 7.0, '2026-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 5000) i;
CREATE TABLE cdc_big_local AS SELECT * FROM cdc_big;
SELECT create_distributed_table_concurrently('cdc_big', 'k', shard_count => 6);
SELECT table_name, citus_table_type, distribution_column, shard_count
  FROM citus_tables WHERE table_name = 'cdc_big'::regclass;
(SELECT * FROM cdc_big EXCEPT ALL SELECT * FROM cdc_big_local)
UNION ALL
(SELECT * FROM cdc_big_local EXCEPT ALL SELECT * FROM cdc_big);
SELECT count(*) FROM cdc_big;
SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'cdc_big'::regclass;
UPDATE cdc_big SET v = 'x' WHERE k = 5;
SELECT count(*) FROM cdc_big WHERE v = 'x';
\d cdc_big

-- colocate_with and shard_count
CREATE TABLE cdc_col (k int, n int, PRIMARY KEY (k, n));
INSERT INTO cdc_col SELECT i % 97, i FROM generate_series(1, 300) i;
SELECT create_distributed_table_concurrently('cdc_col', 'k', colocate_with => 'cdc_big');
SELECT a.colocationid = b.colocationid AS colocated
  FROM shardfdw.distributed_table a, shardfdw.distributed_table b
 WHERE a.relid = 'cdc_col'::regclass AND b.relid = 'cdc_big'::regclass;
SELECT count(*) FROM cdc_big b JOIN cdc_col c ON b.k = c.k AND b.id = c.n;
SELECT count(*) FROM cdc_col;

-- a table without a key: blocking conversion, with a NOTICE
CREATE TABLE cdc_nokey (a int, b text);
INSERT INTO cdc_nokey SELECT i, 'b' || i FROM generate_series(1, 50) i;
SELECT create_distributed_table_concurrently('cdc_nokey', 'a', shard_count => 3);
SELECT table_name, shard_count FROM citus_tables WHERE table_name = 'cdc_nokey'::regclass;
SELECT count(*), sum(a) FROM cdc_nokey;

-- a replica identity index is a key too
CREATE TABLE cdc_ri (a int NOT NULL, b int NOT NULL, c text);
CREATE UNIQUE INDEX cdc_ri_ab ON cdc_ri (a, b);
ALTER TABLE cdc_ri REPLICA IDENTITY USING INDEX cdc_ri_ab;
INSERT INTO cdc_ri SELECT i, i, 'c' FROM generate_series(1, 40) i;
SELECT create_distributed_table_concurrently('cdc_ri', 'a', shard_count => 2);
SELECT count(*) FROM cdc_ri;

-- a row a worker rejects during the copy: the same clean failure as
-- create_distributed_table (the workers have a stricter domain)
CREATE DOMAIN cdc_dom AS text;
SELECT server_name, result FROM run_command_on_workers(
  $$CREATE DOMAIN public.cdc_dom AS text CHECK (length(VALUE) < 5)$$) ORDER BY 1;
CREATE TABLE cdc_late (id int PRIMARY KEY, v cdc_dom);
INSERT INTO cdc_late SELECT i, repeat('x', i) FROM generate_series(1, 8) i;
\set VERBOSITY terse
SELECT create_distributed_table('cdc_late', 'id', shard_count => 2);
SELECT create_distributed_table_concurrently('cdc_late', 'id', shard_count => 2);
\set VERBOSITY default
SELECT * FROM cdc_state('cdc_late');
SELECT server_name, result FROM run_command_on_workers(
  $$DROP DOMAIN public.cdc_dom$$) ORDER BY 1;
DROP TABLE cdc_late;
DROP DOMAIN cdc_dom;

-- failures injected in every phase of the job: the table is unchanged
CREATE TABLE cdc_f (id int PRIMARY KEY, v text);
INSERT INTO cdc_f SELECT i, 'v' || i FROM generate_series(1, 100) i;
\set VERBOSITY terse
SET shardfdw.test_fault_point = 'concurrent-setup';
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT * FROM cdc_state('cdc_f');
SET shardfdw.test_fault_point = 'concurrent-log';
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT * FROM cdc_state('cdc_f');
SET shardfdw.test_fault_point = 'concurrent-copy';
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT * FROM cdc_state('cdc_f');
SET shardfdw.test_fault_point = 'concurrent-catch-up';
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT * FROM cdc_state('cdc_f');
SET shardfdw.test_fault_point = 'concurrent-switch';
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT * FROM cdc_state('cdc_f');
RESET shardfdw.test_fault_point;
\set VERBOSITY default
-- still usable, and distributes afterwards
INSERT INTO cdc_f VALUES (101, 'v101');
SELECT create_distributed_table_concurrently('cdc_f', 'id', shard_count => 4);
SELECT count(*) FROM cdc_f;

-- leftovers of an interrupted attempt (as a coordinator crash would leave
-- them) are dropped by the next attempt
CREATE TABLE cdc_l (id int PRIMARY KEY);
INSERT INTO cdc_l SELECT generate_series(1, 20);
DO $$BEGIN
  EXECUTE format('CREATE TABLE shardfdw_new_%s (id int) PARTITION BY HASH (id)', 'cdc_l'::regclass::oid);
  EXECUTE format('CREATE UNLOGGED TABLE shardfdw_changes_%s (id int)', 'cdc_l'::regclass::oid);
END$$;
SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_';
SELECT create_distributed_table_concurrently('cdc_l', 'id', shard_count => 2);
SELECT count(*) FROM cdc_l;
SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_';
-- ... and by create_distributed_table, whose validation would refuse the
-- leftover triggers
CREATE TABLE cdc_l2 (id int PRIMARY KEY);
INSERT INTO cdc_l2 SELECT generate_series(1, 20);
DO $$BEGIN
  EXECUTE format('CREATE UNLOGGED TABLE shardfdw_changes_%s (id int)', 'cdc_l2'::regclass::oid);
  EXECUTE format('CREATE TRIGGER shardfdw_changes_%s_i AFTER INSERT ON cdc_l2'
                 ' REFERENCING NEW TABLE AS sf_new FOR EACH STATEMENT'
                 ' EXECUTE FUNCTION shardfdw.concurrent_distribution_log(%L, %L)',
                 'cdc_l2'::regclass::oid,
                 format('public.shardfdw_changes_%s', 'cdc_l2'::regclass::oid), 'id');
END$$;
INSERT INTO cdc_l2 VALUES (21);
SELECT create_distributed_table('cdc_l2', 'id', shard_count => 2);
SELECT count(*) FROM cdc_l2;
SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_';

-- clean up
SELECT undistribute_table('cdc_col');
SELECT undistribute_table('cdc_big');
SELECT undistribute_table('cdc_other');
SELECT undistribute_table('cdc_nokey');
SELECT undistribute_table('cdc_ri');
SELECT undistribute_table('cdc_f');
SELECT undistribute_table('cdc_l');
SELECT undistribute_table('cdc_l2');
DROP TABLE cdc_t, cdc_big, cdc_big_local, cdc_col, cdc_other, cdc_nokey, cdc_ri, cdc_f, cdc_l, cdc_l2;
DROP FUNCTION cdc_state(regclass);
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relname ~ '^cdc_'$$) ORDER BY 1;
