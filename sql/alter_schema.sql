--
-- alter_schema: ALTER TABLE ... SET SCHEMA of distributed and reference
-- tables (commands layer, alter.c) moves the parent, its foreign
-- partitions and their schema_name options, and the shard tables or
-- replicas on every worker, in one distributed transaction.  Shard ids are
-- never shown.
--
\set VERBOSITY terse
SET shardfdw.shard_count = 4;
CREATE SCHEMA as_old;
CREATE SCHEMA as_new;
CREATE SCHEMA as_local;

-- where a table's pieces are: the parent, its foreign partitions, their
-- schema_name options, the shard tables / replicas on the workers
CREATE FUNCTION as_local.layout(tbl regclass)
RETURNS TABLE (piece text, schema_name text, n bigint)
LANGUAGE sql AS $f$
  SELECT 'parent', relnamespace::regnamespace::text, 1 FROM pg_class WHERE oid = tbl
  UNION ALL
  SELECT 'partitions', c.relnamespace::regnamespace::text, count(*)
    FROM shardfdw.shard s JOIN pg_class c ON c.oid = s.shard_relid
   WHERE s.relid = tbl GROUP BY 2
  UNION ALL
  SELECT 'schema_name options', split_part(o, '=', 2), count(*)
    FROM shardfdw.shard s JOIN pg_foreign_table f ON f.ftrelid = s.shard_relid,
         unnest(f.ftoptions) o
   WHERE s.relid = tbl AND o LIKE 'schema\_name=%' GROUP BY 2
  UNION ALL
  SELECT 'worker tables', split_part(r, ' ', 1), sum(split_part(r, ' ', 2)::bigint)
    FROM (SELECT regexp_split_to_table(result, E'\n') AS r
            FROM run_command_on_workers(format(
              $$SELECT string_agg(nspname || ' ' || n, E'\n') FROM (
                  SELECT n.nspname, count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind = 'r' AND n.nspname LIKE 'as\_%%'
                     AND (c.relname = %L OR regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L)
                   GROUP BY 1) x$$,
              (SELECT relname FROM pg_class WHERE oid = tbl),
              (SELECT relname FROM pg_class WHERE oid = tbl)))) w
   WHERE r <> '' GROUP BY 2
  ORDER BY 1, 2
$f$;
-- rows of a table that differ from a local copy (both directions)
CREATE FUNCTION as_local.diff(tbl regclass, copy regclass) RETURNS bigint
LANGUAGE plpgsql AS $f$
DECLARE d bigint;
BEGIN
  EXECUTE format('SELECT (SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE %s) a) +'
                 ' (SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE %s) b)', tbl, copy, copy, tbl) INTO d;
  RETURN d;
END $f$;

-- a statement's error with its hint, shard ids masked
CREATE FUNCTION as_local.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE msg text; hint text;
BEGIN
  EXECUTE stmt;
  RETURN 'done';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace('ERROR:  ' || msg || CASE WHEN hint <> '' THEN E'\nHINT:  ' || hint ELSE '' END,
                        '_[0-9]{6,}', '_N', 'g');
END $f$;
-- moves: their phase NOTICEs depend on timing
CREATE FUNCTION as_local.move(shard bigint, target name) RETURNS text
LANGUAGE plpgsql SET client_min_messages = warning AS $f$
BEGIN
  PERFORM shardfdw_move_shard(shard, target, 'block_writes');
  RETURN 'moved';
END $f$;

--
-- A distributed table with data, an owned sequence, an index, a CHECK
-- constraint and a view over it
--
CREATE TABLE as_old.orders (id bigserial, customer int NOT NULL, amount numeric CHECK (amount >= 0),
                            note text, PRIMARY KEY (customer, id));
CREATE INDEX orders_note ON as_old.orders (note);
INSERT INTO as_old.orders (customer, amount, note)
  SELECT g % 37, g * 1.5, 'n' || (g % 11) FROM generate_series(1, 300) g;
SELECT create_distributed_table('as_old.orders', 'customer');
CREATE TABLE as_local.orders AS TABLE as_old.orders;
CREATE VIEW as_local.big_orders AS SELECT customer, sum(amount) AS total FROM as_old.orders GROUP BY customer;
-- a prepared statement that names the table through the search_path
-- (PostgreSQL parses it again after the move)
SET search_path = as_old, as_new;
PREPARE as_router(int) AS SELECT count(*), sum(amount) FROM orders WHERE customer = $1;
EXECUTE as_router(5);
RESET search_path;
SELECT * FROM as_local.layout('as_old.orders');

ALTER TABLE as_old.orders SET SCHEMA as_new;
SELECT * FROM as_local.layout('as_new.orders');
-- PostgreSQL moved the owned sequence along
SELECT pg_get_serial_sequence('as_new.orders', 'id');
-- the shard indexes and constraints went with their tables
SELECT sum(result::int) AS shard_indexes FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'as_new'::regnamespace AND relname LIKE 'orders\_note\_%'$$);
-- router, prepared, multi-shard, FDW path and view: the same rows as the copy
SELECT count(*), sum(amount) FROM as_new.orders WHERE customer = 5;
SELECT count(*), sum(amount) FROM as_local.orders WHERE customer = 5;
SET search_path = as_old, as_new;
EXECUTE as_router(5);
RESET search_path;
SELECT as_local.diff('as_new.orders', 'as_local.orders');
SELECT customer, count(*) FROM as_new.orders GROUP BY customer ORDER BY 2 DESC, 1 LIMIT 3;
SELECT customer, count(*) FROM as_local.orders GROUP BY customer ORDER BY 2 DESC, 1 LIMIT 3;
SET shardfdw.enable_router = off;
SET shardfdw.enable_multi_shard = off;
SELECT count(*), sum(amount) FROM as_new.orders WHERE note = 'n3';
RESET shardfdw.enable_router;
RESET shardfdw.enable_multi_shard;
SELECT count(*), sum(amount) FROM as_local.orders WHERE note = 'n3';
SELECT * FROM as_local.big_orders ORDER BY customer LIMIT 3;
-- writes and DDL
INSERT INTO as_new.orders (customer, amount, note) VALUES (5, 10, 'new'), (6, 20, 'new');
INSERT INTO as_local.orders SELECT * FROM as_new.orders WHERE note = 'new';
UPDATE as_new.orders SET amount = amount + 1 WHERE customer = 6;
UPDATE as_local.orders SET amount = amount + 1 WHERE customer = 6;
INSERT INTO as_new.orders (customer, amount) VALUES (7, -1);
ALTER TABLE as_new.orders ADD COLUMN flag boolean;
ALTER TABLE as_local.orders ADD COLUMN flag boolean;
CREATE INDEX orders_amount ON as_new.orders (amount);
SELECT sum(result::int) AS shard_indexes FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'as_new'::regnamespace AND relname LIKE 'orders\_amount\_%'$$);
SELECT as_local.diff('as_new.orders', 'as_local.orders');
-- a shard move creates the shard in the new schema on its target
SELECT min(shardid) AS shard, (SELECT server_name FROM shardfdw.shards s2 WHERE s2.shardid = min(s.shardid)) AS source
  FROM shardfdw.shards s WHERE table_name = 'as_new.orders'::regclass \gset
SELECT CASE :'source' WHEN 'worker1' THEN 'worker2' ELSE 'worker1' END AS target \gset
SELECT as_local.move(:shard, :'target');
SELECT * FROM as_local.layout('as_new.orders');
SELECT as_local.diff('as_new.orders', 'as_local.orders');
SELECT as_local.move(:shard, :'source');
SELECT as_local.diff('as_new.orders', 'as_local.orders');
-- the old schema is empty everywhere now
DROP SCHEMA as_old;

--
-- Reference table
--
CREATE SCHEMA as_old;
CREATE TABLE as_old.regions (code text PRIMARY KEY, label text);
SELECT create_reference_table('as_old.regions');
INSERT INTO as_old.regions VALUES ('eu', 'Europe'), ('us', 'America');
SELECT * FROM as_local.layout('as_old.regions');
ALTER TABLE as_old.regions SET SCHEMA as_new;
SELECT * FROM as_local.layout('as_new.regions');
INSERT INTO as_new.regions VALUES ('ap', 'Asia');
DELETE FROM as_new.regions WHERE code = 'us';
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(code, ',' ORDER BY code) FROM as_new.regions$$) ORDER BY 1;
DROP SCHEMA as_old;

--
-- A co-located pair with foreign keys (to each other and to the reference
-- table): one table moves, joins and keys keep working
--
CREATE SCHEMA as_old;
CREATE TABLE as_old.customers (id int PRIMARY KEY, region text REFERENCES as_new.regions (code), name text);
CREATE TABLE as_old.visits (customer int REFERENCES as_old.customers (id), seen int, PRIMARY KEY (customer, seen));
SELECT create_distributed_table('as_old.customers', 'id');
SELECT create_distributed_table('as_old.visits', 'customer', colocate_with => 'as_old.customers');
INSERT INTO as_old.customers SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'ap' END, 'c' || g FROM generate_series(1, 20) g;
INSERT INTO as_old.visits SELECT g % 20 + 1, g FROM generate_series(1, 100) g;
ALTER TABLE as_old.visits SET SCHEMA as_new;
SELECT * FROM as_local.layout('as_old.customers');
SELECT * FROM as_local.layout('as_new.visits');
SELECT c.region, count(*) FROM as_old.customers c JOIN as_new.visits v ON v.customer = c.id
 GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM as_old.customers c JOIN as_new.visits v ON v.customer = c.id WHERE c.id = 3;
-- a move takes shard index 0 of the group (orders too), each table's shard
-- into its own schema
SELECT s.shardid AS cshard, n.server_name AS csource
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.relid = 'as_old.customers'::regclass AND s.shard_index = 0 \gset
SELECT as_local.move(:cshard, CASE :'csource' WHEN 'worker1' THEN 'worker2' ELSE 'worker1' END);
SELECT * FROM as_local.layout('as_old.customers');
SELECT * FROM as_local.layout('as_new.visits');
SELECT count(DISTINCT n.server_name) AS servers_of_index_0
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.relid IN ('as_old.customers'::regclass, 'as_new.visits'::regclass) AND s.shard_index = 0;
SELECT c.region, count(*) FROM as_old.customers c JOIN as_new.visits v ON v.customer = c.id
 GROUP BY 1 ORDER BY 1;
INSERT INTO as_new.visits VALUES (999, 1);
INSERT INTO as_old.customers VALUES (21, 'zz', 'x');
ALTER TABLE as_old.customers SET SCHEMA as_new;
SELECT * FROM as_local.layout('as_new.customers');
SELECT count(*) FROM as_new.customers c JOIN as_new.visits v ON v.customer = c.id;
DELETE FROM as_new.customers WHERE id = 3;
DROP SCHEMA as_old;

--
-- Rollback: everything goes back, on the workers too
--
CREATE SCHEMA as_old;
BEGIN;
ALTER TABLE as_new.orders SET SCHEMA as_old;
ALTER TABLE as_new.regions SET SCHEMA as_old;
SELECT count(*) FROM as_old.orders;
SELECT piece, schema_name, n FROM as_local.layout('as_old.orders') WHERE piece <> 'worker tables';
ROLLBACK;
SELECT * FROM as_local.layout('as_new.orders');
SELECT * FROM as_local.layout('as_new.regions');
SELECT as_local.diff('as_new.orders', 'as_local.orders');
-- the same in a subtransaction
BEGIN;
SAVEPOINT s;
ALTER TABLE as_new.orders SET SCHEMA as_old;
ROLLBACK TO SAVEPOINT s;
INSERT INTO as_new.orders (customer, amount, note) VALUES (8, 30, 'sp');
COMMIT;
INSERT INTO as_local.orders SELECT * FROM as_new.orders WHERE note = 'sp';
SELECT * FROM as_local.layout('as_new.orders');
SELECT as_local.diff('as_new.orders', 'as_local.orders');

-- a worker refusing its part (a table of that name in the new schema)
-- changes nothing anywhere
SELECT c.oid::regclass AS conflicting, c.relname AS conflicting_name
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
  JOIN pg_class c ON c.oid = s.shard_relid
 WHERE s.relid = 'as_new.orders'::regclass AND n.server_name = 'worker2'
 ORDER BY s.shardid LIMIT 1 \gset
SELECT success FROM run_command_on_workers(format('CREATE TABLE as_old.%I (x int)', :'conflicting_name'));
ALTER TABLE as_new.orders SET SCHEMA as_old;
SELECT success FROM run_command_on_workers(format('DROP TABLE as_old.%I', :'conflicting_name'));
SELECT * FROM as_local.layout('as_new.orders');
SELECT as_local.diff('as_new.orders', 'as_local.orders');

--
-- Errors
--
-- one shard's foreign partition
SELECT as_local.try(format('ALTER FOREIGN TABLE %s SET SCHEMA as_old', :'conflicting'));
SELECT as_local.try(format('ALTER TABLE %s SET SCHEMA as_old', :'conflicting'));

-- renaming one shard's foreign partition, or a schema holding shards or
-- reference tables (the workers' tables would keep the old names)
SELECT as_local.try(format('ALTER FOREIGN TABLE %s RENAME TO renamed', :'conflicting'));
SELECT as_local.try(format('ALTER TABLE %s RENAME TO renamed', :'conflicting'));
SELECT as_local.try('ALTER SCHEMA as_new RENAME TO as_renamed');
CREATE SCHEMA as_plain;
CREATE TABLE as_plain.t (x int);
ALTER SCHEMA as_plain RENAME TO as_plain2;
DROP SCHEMA as_plain2 CASCADE;
-- PostgreSQL's own checks come first: nothing moved; the same schema is a no-op
ALTER TABLE as_new.orders SET SCHEMA as_nowhere;
ALTER TABLE as_new.orders SET SCHEMA as_new;
SELECT * FROM as_local.layout('as_new.orders');

--
-- RENAME TO: the shards keep their names; queries, moves and SET SCHEMA
-- still work
--
ALTER TABLE as_new.orders RENAME TO purchases;
SELECT as_local.diff('as_new.purchases', 'as_local.orders');
SELECT count(*), sum(amount) FROM as_new.purchases WHERE customer = 5;
-- (the group's move above took this shard along: orders is co-located)
SELECT n.server_name AS source, CASE n.server_name WHEN 'worker1' THEN 'worker2' ELSE 'worker1' END AS target
  FROM shardfdw.placement p JOIN shardfdw.node n USING (nodeid) WHERE p.shardid = :shard \gset
SELECT as_local.move(:shard, :'target');
SELECT as_local.diff('as_new.purchases', 'as_local.orders');
ALTER TABLE as_new.purchases SET SCHEMA as_old;
SELECT piece, schema_name, n FROM as_local.layout('as_old.purchases') WHERE piece <> 'worker tables';
SELECT sum(result::int) AS shard_tables_in_as_old FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'as_old'::regnamespace AND relname LIKE 'orders\_%' AND relkind = 'r'$$);
SELECT as_local.diff('as_old.purchases', 'as_local.orders');
SELECT as_local.move(:shard, :'source');
SELECT as_local.diff('as_old.purchases', 'as_local.orders');
DEALLOCATE as_router;
DROP SCHEMA as_local CASCADE;
DROP TABLE as_old.purchases;
DROP SCHEMA as_new CASCADE;
DROP SCHEMA as_old;
-- nothing was left behind on the workers
SELECT server_name, success, result FROM run_command_on_workers('DROP SCHEMA as_old, as_new') ORDER BY 1;
