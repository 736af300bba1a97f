--
-- rebalance_plan: get_rebalance_plan shapes and errors
--
-- The harness has two workers.  Two more SERVERs, worker3 and worker4,
-- point at the same two databases: the plans below are computed from the
-- catalog and never executed, so no data goes there.  (No reference table
-- may exist while they are added: shardfdw_add_node would create its
-- replica a second time in the same database.)
\set VERBOSITY terse

SELECT count(*) AS reference_tables FROM shardfdw.distributed_table WHERE kind = 'n';

CREATE TABLE rb_a (id bigint PRIMARY KEY, v text);
CREATE TABLE rb_b (id bigint PRIMARY KEY, a_id bigint);
CREATE TABLE rb_c (id bigint PRIMARY KEY);
SELECT create_distributed_table('rb_a', 'id', shard_count => 8);
SELECT create_distributed_table('rb_b', 'id', colocate_with => 'rb_a');
SELECT create_distributed_table('rb_c', 'id', colocate_with => 'none', shard_count => 3);

-- balanced on two nodes: nothing to do
SELECT * FROM get_rebalance_plan();

-- two more nodes
SELECT shardfdw.server_option('worker1', 'host') AS h1,
       shardfdw.server_option('worker1', 'port') AS p1,
       shardfdw.server_option('worker1', 'dbname') AS d1,
       shardfdw.server_option('worker2', 'host') AS h2,
       shardfdw.server_option('worker2', 'port') AS p2,
       shardfdw.server_option('worker2', 'dbname') AS d2 \gset
CREATE SERVER worker3 FOREIGN DATA WRAPPER shardfdw
  OPTIONS (host :'h1', port :'p1', dbname :'d1');
CREATE USER MAPPING FOR CURRENT_USER SERVER worker3;
CREATE SERVER worker4 FOREIGN DATA WRAPPER shardfdw
  OPTIONS (host :'h2', port :'p2', dbname :'d2');
CREATE USER MAPPING FOR CURRENT_USER SERVER worker4;
SELECT shardfdw_add_node('worker3') > 0 AS added;
SELECT shardfdw_add_node('worker4') > 0 AS added;

-- the placements the plans start from (shard index: node)
SELECT t.relid, s.shard_index, n.server_name
  FROM shardfdw.shard s JOIN shardfdw.distributed_table t USING (relid)
  JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE t.relid IN ('rb_a'::regclass, 'rb_c'::regclass)
 ORDER BY 1, 2;

-- every co-location group: whole shard groups move, one row per shard,
-- 2 + 2 groups to the new nodes for rb_a/rb_b, 1 for rb_c (3 shards on 4
-- nodes: counts differ by at most 1)
-- (shard ids vary between runs: show shard indexes)
SELECT p.table_name, s.shard_index, p.shard_size, p.sourcename, p.targetname
  FROM get_rebalance_plan() WITH ORDINALITY p JOIN shardfdw.shard s USING (shardid)
 ORDER BY p.ordinality;
-- Citus's name
SELECT count(*) FROM get_rebalance_table_shards_plan();
-- one co-location group, named by any of its tables
SELECT table_name, sourcename, targetname FROM get_rebalance_plan('rb_b');
SELECT table_name, sourcename, targetname FROM get_rebalance_plan('rb_c');
-- at most two moves
SELECT p.table_name, s.shard_index, p.sourcename, p.targetname
  FROM get_rebalance_plan(max_shard_moves => 2) WITH ORDINALITY p
  JOIN shardfdw.shard s USING (shardid)
 ORDER BY p.ordinality;
SELECT count(*) FROM get_rebalance_plan(max_shard_moves => 0);
-- an excluded shard keeps its whole group in place
SELECT shardid AS first_a FROM shardfdw.shard
 WHERE relid = 'rb_a'::regclass AND shard_index = 0 \gset
SELECT shardid AS first_b FROM shardfdw.shard
 WHERE relid = 'rb_b'::regclass AND shard_index = 0 \gset
SELECT count(*) FROM get_rebalance_plan('rb_a') WHERE shardid IN (:first_a, :first_b);
SELECT count(*) FROM get_rebalance_plan('rb_a', excluded_shard_list => ARRAY[:first_b])
 WHERE shardid IN (:first_a, :first_b);
SELECT table_name, sourcename, targetname
  FROM get_rebalance_plan('rb_a', excluded_shard_list => ARRAY[:first_b]);
-- by disk size: rb_a's shard index 0 holds all the bytes of rb_a
INSERT INTO rb_a SELECT i, repeat('x', 200) FROM generate_series(1::bigint, 3000) i
 WHERE satisfies_hash_partition('rb_a'::regclass, 8, 0, i);
SELECT count(*) > 100 AS big_shard_rows FROM rb_a;
SET shardfdw.rebalance_base_cost = 0;
-- the big group gets a node of its own, the small ones spread over the others
SELECT p.table_name, s.shard_index, p.sourcename, p.targetname,
       p.shard_size > 0 AS has_size
  FROM get_rebalance_plan('rb_a', rebalance_strategy => 'by_disk_size') WITH ORDINALITY p
  JOIN shardfdw.shard s USING (shardid)
 ORDER BY p.ordinality;
-- a threshold tolerates a gap of that fraction of the average load
SELECT count(*) FROM get_rebalance_plan('rb_a', rebalance_strategy => 'by_disk_size',
                                        threshold => 0.9);
-- with the default base cost (100MB per group), small groups balance by count
RESET shardfdw.rebalance_base_cost;
SELECT count(*) FROM get_rebalance_plan('rb_a', rebalance_strategy => 'by_disk_size');

-- draining: every group of worker1 goes to the least loaded nodes, then
-- the rest is balanced; drain_only stops after the drain
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', false);
SELECT server_name, should_have_shards FROM shardfdw.nodes ORDER BY nodeid;
SELECT table_name, sourcename, targetname FROM get_rebalance_plan(drain_only => true);
SELECT table_name, sourcename, targetname FROM get_rebalance_plan();
SELECT shardfdw_set_node_property('worker3', 'should_have_shards', false);
SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', false);
SELECT table_name, sourcename, targetname FROM get_rebalance_plan('rb_c', drain_only => true);
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', false);
-- no node may have shards
SELECT * FROM get_rebalance_plan(drain_only => true);
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', true);
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', true);
SELECT shardfdw_set_node_property('worker3', 'shouldhaveshards', true);
SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', true);

-- errors
\set VERBOSITY default
SELECT * FROM get_rebalance_plan(rebalance_strategy => 'by_luck');
SELECT * FROM get_rebalance_plan(threshold => 1);
SELECT * FROM get_rebalance_plan(threshold => -0.1);
SELECT * FROM get_rebalance_plan(max_shard_moves => -1);
CREATE TABLE rb_local (id int);
SELECT * FROM get_rebalance_plan('rb_local');
CREATE TABLE rb_ref (id int PRIMARY KEY);
SELECT shardfdw_remove_node('worker3');
SELECT shardfdw_remove_node('worker4');
SELECT create_reference_table('rb_ref');
SELECT * FROM get_rebalance_plan('rb_ref');
SELECT shardfdw_set_node_property('worker1', 'colour', true);
SELECT shardfdw_set_node_property('nosuchworker', 'shouldhaveshards', true);
\set VERBOSITY terse

-- clean up
DROP TABLE rb_a, rb_b, rb_c, rb_local, rb_ref;
DROP SERVER worker3 CASCADE;
DROP SERVER worker4 CASCADE;
SELECT server_name, should_have_shards, shard_count FROM shardfdw.nodes ORDER BY nodeid;
