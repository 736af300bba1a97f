--
-- ddl_seeds: the post-distribution DDL of the seed documents
-- (shared/seeds/001..004), run unchanged against the schemas that test
-- "seeds" leaves in place (this test runs after it in test/schedule), then
-- checked on the workers.  Finally the seed schemas are dropped, which
-- must remove every shard and replica they had.
--
\set VERBOSITY terse
CREATE FUNCTION public.ddl_seed_objects(nsp text)
RETURNS TABLE (table_name text, object_name name, object_type text, lives_on text)
LANGUAGE sql AS $f$
  SELECT c.relname::text, o.object_name, o.object_type, o.lives_on
    FROM shardfdw.table_objects o JOIN pg_class c ON c.oid = o.table_name
   WHERE c.relnamespace = nsp::regnamespace ORDER BY 1, 2
$f$;
-- number of worker indexes / constraints whose name starts with prefix
CREATE FUNCTION public.ddl_seed_worker_count(nsp text, prefix text)
RETURNS TABLE (server_name name, result text)
LANGUAGE sql AS $f$
  SELECT server_name, result FROM run_command_on_workers(format(
    $$SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = %1$L::regnamespace
               AND c.relkind = 'i' AND c.relname LIKE %2$L || '\_%%')
           + (SELECT count(*) FROM pg_constraint k WHERE k.connamespace = %1$L::regnamespace
               AND k.contype = 'f' AND k.conname LIKE %2$L || '\_%%')$$, nsp, prefix))
   ORDER BY 1
$f$;

-- Seed 001
SET search_path = seed001, public;
CREATE INDEX events_owner_created_idx ON events(owner_id, created_at);
CREATE INDEX events_owner_type_idx ON events(owner_id, event_type);
CREATE INDEX users_id_email_idx ON users(id, email);
SELECT * FROM ddl_seed_objects('seed001');
SELECT * FROM ddl_seed_worker_count('seed001', 'events_owner_created_idx');

-- Seed 002
SET search_path = seed002, public;
ALTER TABLE events ADD CONSTRAINT FK_events_devices FOREIGN KEY (device_id) REFERENCES devices(device_id);
SELECT * FROM ddl_seed_objects('seed002');
SELECT * FROM ddl_seed_worker_count('seed002', 'fk_events_devices');
DO $$
BEGIN
  INSERT INTO events (device_id, payload) VALUES (100000, '{}');
EXCEPTION WHEN foreign_key_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;

-- Seed 003
SET search_path = seed003, public;
ALTER TABLE orders
    ADD CONSTRAINT orders_store_id_fkey FOREIGN KEY (store_id) REFERENCES stores (store_id);
-- Re-create a foreign key to the stores table
ALTER TABLE line_items
    ADD CONSTRAINT line_items_store_id_fkey FOREIGN KEY (store_id) REFERENCES stores (store_id);
-- Re-create the foreign key to the orders table
ALTER TABLE line_items
    ADD CONSTRAINT line_items_orders_fkey FOREIGN KEY (store_id, order_id) REFERENCES orders (store_id, order_id);
-- Re-create the foreign key to the products table
ALTER TABLE line_items
    ADD CONSTRAINT line_items_products_fkey FOREIGN KEY (store_id, product_id) REFERENCES products (store_id, product_id);
SELECT * FROM ddl_seed_objects('seed003');

-- Seed 004
SET search_path = seed004, public;
CREATE INDEX click_user_data_is_mobile
ON clicks ((user_data->>'is_mobile'))
WHERE company_id = 5;
CREATE INDEX click_user_data
ON clicks USING gin (user_data);
SELECT * FROM ddl_seed_objects('seed004');
SELECT * FROM ddl_seed_worker_count('seed004', 'click_user_data');

-- dropping the seed schemas removes every shard, replica and catalog row
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA seed001, seed002, seed003, seed004 CASCADE;
RESET client_min_messages;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text IN ('seed001', 'seed002', 'seed003', 'seed004')$$)
 ORDER BY 1;
SELECT count(*) AS stale_catalog_rows FROM shardfdw.distributed_table t
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.relid);
DROP FUNCTION public.ddl_seed_objects(text), public.ddl_seed_worker_count(text, text);
