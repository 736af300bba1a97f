--
-- ddl_transaction: maintenance commands in the transaction block that
-- distributed the table (last in the schedule: it creates shards)
--
CREATE SCHEMA ddl_tx;
SET search_path = ddl_tx, public;
-- ANALYZE reaches the new shards: it runs in the remote transactions,
-- which see them (an autocommit connection would not, and failed with
-- "relation ... does not exist")
BEGIN;
CREATE TABLE az (id int PRIMARY KEY, v int);
INSERT INTO az SELECT g, g % 7 FROM generate_series(1, 500) g;
SELECT create_distributed_table('az', 'id', shard_count => 2);
ANALYZE az;
ANALYZE az (v);
COMMIT;
SELECT server_name, success, result
  FROM run_command_on_workers($$SELECT string_agg(CASE WHEN c.reltuples < 0 THEN 'never' ELSE 'counted' END, ',')
                                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname = 'ddl_tx' AND c.relname LIKE 'az\_%' AND c.relkind = 'r'$$)
 ORDER BY 1;
-- VACUUM still cannot run in a transaction block
BEGIN;
VACUUM az;
ROLLBACK;
DROP SCHEMA ddl_tx CASCADE;
RESET search_path;
