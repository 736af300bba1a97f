--
-- errors: every failed distribution leaves the table, the catalog and the
-- workers exactly as they were
--
-- After each error, clean_state() shows: the table is still a plain table
-- with its rows, the catalog knows nothing about it, and no worker has a
-- shard table of it.
\set VERBOSITY default

CREATE TABLE err_t (id int PRIMARY KEY, pt point, note text);
INSERT INTO err_t SELECT i, point(i, i), 'n' || i FROM generate_series(1, 10) i;

CREATE FUNCTION clean_state(tbl regclass, OUT relkind "char", OUT nrows bigint,
                            OUT in_catalog bigint, OUT worker_shards text)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT c.relkind INTO relkind FROM pg_class c WHERE c.oid = tbl;
  EXECUTE format('SELECT count(*) FROM %s', tbl) INTO nrows;
  SELECT (SELECT count(*) FROM shardfdw.distributed_table WHERE relid = tbl)
       + (SELECT count(*) FROM shardfdw.shard WHERE relid = tbl)
       + (SELECT count(*) FROM shardfdw.pending_fkey WHERE relid = tbl OR refrelid = tbl)
    INTO in_catalog;
  SELECT string_agg(r.server_name || '=' || r.result, ' ' ORDER BY r.server_name) INTO worker_shards
    FROM run_command_on_workers(format(
      $q$SELECT count(*) FROM pg_class WHERE relname ~ '^%s_\d+$'$q$, tbl::text)) r;
END $$;
SELECT * FROM clean_state('err_t');

-- unknown column
SELECT create_distributed_table('err_t', 'nope');
SELECT * FROM clean_state('err_t');

-- a type without a hash operator class
SELECT create_distributed_table('err_t', 'pt');
SELECT * FROM clean_state('err_t');

-- unsupported distribution type, bad shard count
SELECT create_distributed_table('err_t', 'id', 'range');
SELECT create_distributed_table('err_t', 'id', shard_count => 0);
SELECT * FROM clean_state('err_t');

-- a primary key or unique constraint without the distribution column
CREATE UNIQUE INDEX err_t_note_key ON err_t (note);
SELECT create_distributed_table('err_t', 'id');
SELECT * FROM clean_state('err_t');
DROP INDEX err_t_note_key;
SELECT create_distributed_table('err_t', 'note');
SELECT * FROM clean_state('err_t');

-- dependent objects that cannot be carried over
CREATE MATERIALIZED VIEW err_v AS SELECT id FROM err_t;
SELECT create_distributed_table('err_t', 'id');
SELECT * FROM clean_state('err_t');
DROP MATERIALIZED VIEW err_v;
CREATE FUNCTION err_trig() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER err_tg BEFORE INSERT ON err_t FOR EACH ROW EXECUTE FUNCTION err_trig();
SELECT create_distributed_table('err_t', 'id');
SELECT * FROM clean_state('err_t');
DROP TRIGGER err_tg ON err_t;
DROP FUNCTION err_trig();
CREATE POLICY err_p ON err_t USING (id > 0);
SELECT create_distributed_table('err_t', 'id');
DROP POLICY err_p ON err_t;
CREATE TABLE err_child () INHERITS (err_t);
SELECT create_distributed_table('err_t', 'id');
DROP TABLE err_child;
SELECT * FROM clean_state('err_t');

-- not a plain table
CREATE TABLE err_parted (id int) PARTITION BY HASH (id);
SELECT create_distributed_table('err_parted', 'id');
SELECT create_reference_table('err_parted');
DROP TABLE err_parted;
CREATE VIEW err_v2 AS SELECT 1 AS id;
SELECT create_distributed_table('err_v2', 'id');
DROP VIEW err_v2;

-- colocate_with mismatches
CREATE TABLE err_other (id bigint PRIMARY KEY);
SELECT create_distributed_table('err_t', 'id', colocate_with => 'err_other');
SELECT create_distributed_table('err_other', 'id', shard_count => 4);
SELECT create_distributed_table('err_t', 'id', colocate_with => 'err_other');
SELECT * FROM clean_state('err_t');

-- already distributed
SELECT create_distributed_table('err_other', 'id');
SELECT create_reference_table('err_other');
SELECT undistribute_table('err_t');
SELECT truncate_local_data_after_distributing_table('err_t');
SELECT undistribute_table('err_other');

-- a foreign key that can never be created on the shards
CREATE TABLE err_ref (id bigint, k int, PRIMARY KEY (id, k));
CREATE TABLE err_fk (id bigint, k int, o bigint, PRIMARY KEY (id, k, o),
                     FOREIGN KEY (id, k) REFERENCES err_ref (id, k));
INSERT INTO err_ref VALUES (1, 1);
INSERT INTO err_fk VALUES (1, 1, 1);
SELECT create_distributed_table('err_ref', 'id', colocate_with => 'none', shard_count => 2);
SELECT create_distributed_table('err_fk', 'id', colocate_with => 'none', shard_count => 2);
-- (in_catalog = 1: the pending foreign key recorded when err_ref was distributed)
SELECT * FROM clean_state('err_fk');
SELECT create_distributed_table('err_fk', 'o', colocate_with => 'err_ref');
SELECT * FROM clean_state('err_fk');
-- the right way works
SELECT create_distributed_table('err_fk', 'id', colocate_with => 'err_ref');
SELECT conname, created FROM shardfdw.pending_fkey WHERE relid = 'err_fk'::regclass;
SELECT undistribute_table('err_fk');
SELECT undistribute_table('err_ref');
\d err_fk

-- no worker nodes (removed inside a transaction that is rolled back)
BEGIN;
SELECT shardfdw_remove_node('worker1');
SELECT shardfdw_remove_node('worker2');
SELECT create_distributed_table('err_t', 'id');
ROLLBACK;
SELECT server_name FROM shardfdw.nodes ORDER BY nodeid;
SELECT * FROM clean_state('err_t');

-- an unreachable worker: the error comes before any change, and the
-- remote transactions roll back with the local one
\set VERBOSITY terse
BEGIN;
ALTER SERVER worker2 OPTIONS (SET port '1');
SELECT create_distributed_table('err_t', 'id');
ROLLBACK;
SELECT * FROM clean_state('err_t');
BEGIN;
ALTER SERVER worker2 OPTIONS (SET port '1');
SELECT create_reference_table('err_t');
ROLLBACK;
SELECT * FROM clean_state('err_t');
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_tables WHERE tablename = 'err_t'$$) ORDER BY 1;

-- a failure late in the conversion (a row a worker rejects while the rows
-- move) also leaves nothing behind: the worker has a stricter domain
CREATE DOMAIN err_dom AS text;
SELECT server_name, result FROM run_command_on_workers(
  $$CREATE DOMAIN public.err_dom AS text CHECK (length(VALUE) < 5)$$) ORDER BY 1;
CREATE TABLE err_late (id int PRIMARY KEY, v err_dom);
INSERT INTO err_late SELECT i, repeat('x', i) FROM generate_series(1, 8) i;
SELECT create_distributed_table('err_late', 'id', shard_count => 2);
SELECT * FROM clean_state('err_late');
SELECT server_name, result FROM run_command_on_workers(
  $$DROP DOMAIN public.err_dom$$) ORDER BY 1;

-- the table still works as a distributed table after all that
SELECT create_distributed_table('err_t', 'id', shard_count => 4);
SELECT count(*) FROM err_t;
SELECT undistribute_table('err_t');
SELECT * FROM clean_state('err_t');

DROP TABLE err_t, err_other, err_fk, err_ref, err_late;
DROP DOMAIN err_dom;
DROP FUNCTION clean_state(regclass);
