--
-- Shard moves: errors, and moves of a co-location group in both modes.
--
\set SHOW_CONTEXT never
CREATE SCHEMA move_test;
SET search_path = move_test, public;
SET shardfdw.shard_count = 4;

-- shard ids depend on earlier tests: masked in errors and plans
CREATE FUNCTION try_move(shard bigint, target name, mode text DEFAULT 'auto')
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM shardfdw_move_shard(shard, target, mode);
  RETURN 'moved';
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR:  ' || regexp_replace(SQLERRM, '[0-9]{6,}', 'N', 'g');
END $$;
CREATE FUNCTION masked_plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    RETURN NEXT regexp_replace(line, '_[0-9]{6,}', '_N', 'g');
  END LOOP;
END $$;

CREATE TABLE countries (code text PRIMARY KEY, name text);
SELECT create_reference_table('countries');
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany');

CREATE TABLE accounts (id bigint PRIMARY KEY, country text REFERENCES countries (code));
CREATE TABLE orders (id bigint, account_id bigint REFERENCES accounts (id),
                     amount numeric, PRIMARY KEY (account_id, id));
CREATE INDEX orders_amount ON orders (amount);
SELECT create_distributed_table('accounts', 'id', colocate_with => 'none');
SELECT create_distributed_table('orders', 'account_id', colocate_with => 'accounts');
INSERT INTO accounts SELECT g, CASE WHEN g % 2 = 0 THEN 'fr' ELSE 'de' END
  FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, g % 1000 + 1, g FROM generate_series(1, 5000) g;

-- the shard holding account 7 and its group
SELECT s.shardid AS shard, s.shard_index AS idx, n.server_name AS source
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)
  JOIN shardfdw.node n USING (nodeid)
 WHERE s.relid = 'accounts'::regclass
   AND s.shard_relid = (SELECT tableoid FROM accounts WHERE id = 7)::regclass \gset
SELECT CASE WHEN :'source' = 'worker1' THEN 'worker2' ELSE 'worker1' END AS target \gset

-- errors
SELECT shardfdw_move_shard(1, 'worker1');
SELECT try_move(:shard, :'source');
SELECT shardfdw_move_shard(:shard, 'no_such_server');
CREATE SERVER move_unregistered FOREIGN DATA WRAPPER shardfdw OPTIONS (host 'localhost');
SELECT shardfdw_move_shard(:shard, 'move_unregistered');
DROP SERVER move_unregistered;
SELECT shardfdw_move_shard(:shard, :'target', 'fast');
SELECT shardfdw_move_shard(:shard, NULL);
SELECT try_move(s.shardid, :'target') FROM shardfdw.shard s
 WHERE s.relid = 'countries'::regclass LIMIT 1;
BEGIN;
SELECT shardfdw_move_shard(:shard, :'target');
ROLLBACK;
SELECT citus_move_shard_placement(:shard, 'nohost', 1, 'nohost', 2);

-- an online move (phase NOTICEs depend on timing: hidden)
SET client_min_messages = warning;
SELECT shardfdw_move_shard(:shard, :'target', 'force_logical');
RESET client_min_messages;

-- both tables of the group moved, the other shards stayed
SELECT t.relid, s.shard_index = :idx AS moved_group, n.server_name = :'target' AS on_target
  FROM shardfdw.shard s JOIN shardfdw.distributed_table t USING (relid)
  JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE t.relid IN ('accounts'::regclass, 'orders'::regclass)
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- the foreign partition kept its name, bounds and OID and points at the target
SELECT c.relname ~ '^accounts_[0-9]+$' AS same_name, pg_get_expr(c.relpartbound, c.oid) AS bound, fs.srvname = :'target' AS on_target
  FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
  JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
 WHERE c.oid = (SELECT shard_relid FROM shardfdw.shard WHERE shardid = :shard);
SELECT count(*), sum(amount) FROM orders;
SELECT a.id, a.country, count(o.id), sum(o.amount)
  FROM accounts a JOIN orders o ON o.account_id = a.id
 WHERE a.id = 7 GROUP BY 1, 2;

-- the co-located join is still pushed down, to the new server
SELECT masked_plan($$SELECT a.id, count(*) FROM accounts a JOIN orders o ON o.account_id = a.id
 WHERE a.id = 7 GROUP BY 1$$);
SELECT :'target' AS expected_node;

-- writes go to the target, constraints moved along
INSERT INTO orders VALUES (100000, 7, 1);
INSERT INTO orders VALUES (100001, 7, 1), (100001, 7, 2);
INSERT INTO accounts VALUES (7, 'fr');
UPDATE accounts SET country = 'xx' WHERE id = 7;
DELETE FROM accounts WHERE id = 7;
SELECT count(*) FROM orders WHERE account_id = 7;

-- back with block_writes
SET client_min_messages = warning;
SELECT shardfdw_move_shard(:shard, :'source', 'block_writes');
RESET client_min_messages;
SELECT n.server_name = :'source' AS back_on_source
  FROM shardfdw.placement p JOIN shardfdw.node n USING (nodeid) WHERE p.shardid = :shard;
SELECT count(*), sum(amount) FROM orders;
INSERT INTO orders VALUES (100001, 7, 1), (100001, 7, 2);

-- nothing left behind on the workers
SELECT count(*) AS cleanup_records FROM shardfdw.cleanup;
SELECT count(*) AS moves_running FROM shardfdw.shard_moves;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT (SELECT count(*) FROM pg_replication_slots) || ' slots, '
        || (SELECT count(*) FROM pg_publication) || ' publications, '
        || (SELECT count(*) FROM pg_subscription) || ' subscriptions, '
        || (SELECT count(*) FROM pg_tables WHERE schemaname = 'move_test') || ' shard tables'$$)
 ORDER BY 1;
SELECT shardfdw_cleanup_orphaned_resources();
CALL citus_cleanup_orphaned_resources();

DROP SCHEMA move_test CASCADE;
