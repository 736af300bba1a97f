--
-- rebalance_plan: get_rebalance_plan shapes and errors
--
-- The harness has two workers.  Two more SERVERs, worker3 and worker4,
-- point at the same two worker servers, in databases of their own
-- (rb_plan_db, created here): the plans below are computed from the
-- catalog and never executed.  Tables of earlier tests may still exist
-- (and take part in the tie-breaks between worker1 and worker2), so the
-- plans are shown for this test's co-location groups only and summed up
-- per node where a tie-break could go either way.
\set VERBOSITY terse

SELECT server_name, success FROM run_command_on_workers('CREATE DATABASE rb_plan_db')
 ORDER BY 1;

CREATE TABLE rb_a (id bigint PRIMARY KEY, v text);
CREATE TABLE rb_b (id bigint PRIMARY KEY, a_id bigint);
CREATE TABLE rb_c (id bigint PRIMARY KEY);
SELECT create_distributed_table('rb_a', 'id', shard_count => 8, colocate_with => 'none');
SELECT create_distributed_table('rb_b', 'id', colocate_with => 'rb_a');
SELECT create_distributed_table('rb_c', 'id', colocate_with => 'none', shard_count => 3);

-- balanced on two nodes: nothing to do
SELECT * FROM get_rebalance_plan('rb_a');
SELECT * FROM get_rebalance_plan('rb_c');

-- two more nodes
SELECT shardfdw.server_option('worker1', 'host') AS h1,
       shardfdw.server_option('worker1', 'port') AS p1,
       shardfdw.server_option('worker2', 'host') AS h2,
       shardfdw.server_option('worker2', 'port') AS p2 \gset
CREATE SERVER worker3 FOREIGN DATA WRAPPER shardfdw
  OPTIONS (host :'h1', port :'p1', dbname 'rb_plan_db');
CREATE USER MAPPING FOR CURRENT_USER SERVER worker3;
CREATE SERVER worker4 FOREIGN DATA WRAPPER shardfdw
  OPTIONS (host :'h2', port :'p2', dbname 'rb_plan_db');
CREATE USER MAPPING FOR CURRENT_USER SERVER worker4;
SELECT shardfdw_add_node('worker3') > 0 AS added;
SELECT shardfdw_add_node('worker4') > 0 AS added;

-- the placements the plans start from (shard index: node)
SELECT t.relid, s.shard_index, n.server_name
  FROM shardfdw.shard s JOIN shardfdw.distributed_table t USING (relid)
  JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE t.relid IN ('rb_a'::regclass, 'rb_c'::regclass)
 ORDER BY 1, 2;

-- a plan summed up per node: shard groups out (-) and in (+), and the
-- shard groups of the co-location group of rel on each node afterwards
CREATE FUNCTION pg_temp.plan_summary(rel regclass, p_threshold float4 DEFAULT 0,
  p_max int DEFAULT 1000000, p_excluded bigint[] DEFAULT '{}',
  p_drain_only boolean DEFAULT false, p_strategy name DEFAULT 'by_shard_count')
RETURNS TABLE (server_name name, moved_out bigint, moved_in bigint, groups_after bigint)
LANGUAGE sql AS $$
  WITH plan AS (
    SELECT DISTINCT s.shard_index, p.sourcename, p.targetname
      FROM get_rebalance_plan(rel, p_threshold, p_max, p_excluded, p_drain_only, p_strategy) p
      JOIN shardfdw.shard s USING (shardid)),
  now AS (
    SELECT n.server_name, count(s.shardid) AS groups
      FROM shardfdw.node n
      LEFT JOIN shardfdw.placement pl ON pl.nodeid = n.nodeid
      LEFT JOIN shardfdw.shard s ON s.shardid = pl.shardid AND s.relid = rel
     GROUP BY n.server_name)
  SELECT now.server_name,
         (SELECT count(*) FROM plan WHERE sourcename = now.server_name),
         (SELECT count(*) FROM plan WHERE targetname = now.server_name),
         now.groups - (SELECT count(*) FROM plan WHERE sourcename = now.server_name)
                    + (SELECT count(*) FROM plan WHERE targetname = now.server_name)
    FROM now ORDER BY 1
$$;

-- one co-location group, named by any of its tables: whole shard groups
-- move (one row per shard: rb_a and rb_b together), 2 + 2 to the new nodes
SELECT p.table_name, s.shard_index, p.shard_size
  FROM get_rebalance_plan('rb_b') WITH ORDINALITY p JOIN shardfdw.shard s USING (shardid)
 ORDER BY s.shard_index, p.table_name;
SELECT * FROM pg_temp.plan_summary('rb_a');
-- Citus's name
SELECT count(*) FROM get_rebalance_table_shards_plan('rb_a');
-- 3 shard groups on 4 nodes: counts differ by at most 1
SELECT * FROM pg_temp.plan_summary('rb_c');
-- every co-location group
SELECT count(*) FROM get_rebalance_plan() WHERE table_name IN ('rb_a'::regclass, 'rb_b', 'rb_c');
-- at most two moves
SELECT count(DISTINCT shardid) FROM get_rebalance_plan('rb_a', max_shard_moves => 2)
 WHERE table_name = 'rb_a'::regclass;
SELECT count(*) FROM get_rebalance_plan(max_shard_moves => 0);
-- an excluded shard keeps its whole group in place
SELECT shardid AS first_a FROM shardfdw.shard
 WHERE relid = 'rb_a'::regclass AND shard_index = 0 \gset
SELECT shardid AS first_b FROM shardfdw.shard
 WHERE relid = 'rb_b'::regclass AND shard_index = 0 \gset
SELECT count(*) FROM get_rebalance_plan('rb_a') WHERE shardid IN (:first_a, :first_b);
SELECT count(*) FROM get_rebalance_plan('rb_a', excluded_shard_list => ARRAY[:first_b])
 WHERE shardid IN (:first_a, :first_b);
SELECT * FROM pg_temp.plan_summary('rb_a', p_excluded => ARRAY[:first_b]);

-- by disk size: rb_a's shard index 0 holds all the bytes of rb_a
INSERT INTO rb_a SELECT i, repeat('x', 200) FROM generate_series(1::bigint, 3000) i
 WHERE satisfies_hash_partition('rb_a'::regclass, 8, 0, i);
SELECT count(*) > 100 AS big_shard_rows FROM rb_a;
SET shardfdw.rebalance_base_cost = 0;
-- the big group gets a node of its own, the small ones spread over the others
SELECT DISTINCT s.shard_index = 0 AS big, p.targetname, p.shard_size > 0 AS has_size
  FROM get_rebalance_plan('rb_a', rebalance_strategy => 'by_disk_size') p
  JOIN shardfdw.shard s USING (shardid)
 WHERE s.shard_index = 0;
-- (which of worker1 and worker2 gives its third group is a tie-break)
SELECT string_agg(groups_after::text, ',' ORDER BY groups_after DESC) AS groups_after,
       sum(moved_out) AS moves
  FROM pg_temp.plan_summary('rb_a', p_strategy => 'by_disk_size');
-- a threshold tolerates a gap of that fraction of the average load
SELECT count(DISTINCT shardid) FROM get_rebalance_plan('rb_a', threshold => 0.9,
                                                       rebalance_strategy => 'by_disk_size');
-- with the default base cost (100MB per group), small groups balance by count
RESET shardfdw.rebalance_base_cost;
SELECT * FROM pg_temp.plan_summary('rb_a', p_strategy => 'by_disk_size');

-- draining: every group of worker1 goes to the least loaded nodes, then
-- the rest is balanced; drain_only stops after the drain
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', false);
SELECT server_name, should_have_shards FROM shardfdw.nodes ORDER BY nodeid;
SELECT * FROM pg_temp.plan_summary('rb_a', p_drain_only => true);
SELECT * FROM pg_temp.plan_summary('rb_a');
SELECT shardfdw_set_node_property('worker3', 'should_have_shards', false);
SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', false);
SELECT * FROM pg_temp.plan_summary('rb_c', p_drain_only => true);
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', false);
-- no node may have shards
SELECT * FROM get_rebalance_plan('rb_c', drain_only => true);
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
SELECT create_reference_table('rb_ref');
SELECT * FROM get_rebalance_plan('rb_ref');
SELECT shardfdw_set_node_property('worker1', 'colour', true);
SELECT shardfdw_set_node_property('nosuchworker', 'shouldhaveshards', true);
\set VERBOSITY terse

-- adding a node gave it a replica of every reference table (worker3 was
-- added before rb_ref existed, so that one came with create_reference_table)
SELECT count(*) AS reference_tables_without_replica_on_worker3
  FROM shardfdw.distributed_table t
 WHERE t.kind = 'n' AND NOT EXISTS (
   SELECT 1 FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid)
     JOIN shardfdw.node n USING (nodeid)
    WHERE s.relid = t.relid AND n.server_name = 'worker3');

-- clean up
DROP TABLE rb_a, rb_b, rb_c, rb_local, rb_ref;
SELECT shardfdw_remove_node('worker3');
SELECT shardfdw_remove_node('worker4');
DROP SERVER worker3 CASCADE;
DROP SERVER worker4 CASCADE;
SELECT server_name, success
  FROM run_command_on_workers('DROP DATABASE rb_plan_db WITH (FORCE)') ORDER BY 1;
SELECT server_name, should_have_shards FROM shardfdw.nodes ORDER BY nodeid;
