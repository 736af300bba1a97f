--
-- rebalance: rebalance_table_shards, draining and the background rebalance
-- on the harness's two workers, and their errors
--
-- Tables of earlier tests may still exist: every rebalance here names this
-- test's table (shardfdw_drain_node, which moves every co-location group,
-- runs in test/t/301_rebalance.pl).
\set VERBOSITY terse

CREATE TABLE rbx_a (id bigint PRIMARY KEY, v text);
CREATE TABLE rbx_b (id bigint PRIMARY KEY, a_id bigint);
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', false);
SELECT create_distributed_table('rbx_a', 'id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('rbx_b', 'id', colocate_with => 'rbx_a');
INSERT INTO rbx_a SELECT i, 'v' || i FROM generate_series(1, 1000) i;
INSERT INTO rbx_b SELECT i, i FROM generate_series(1, 1000) i;
CREATE VIEW rbx_nodes AS
SELECT n.server_name, n.should_have_shards, count(s.shardid) AS rbx_shards
  FROM shardfdw.node n
  LEFT JOIN shardfdw.placement p ON p.nodeid = n.nodeid
  LEFT JOIN shardfdw.shard s ON s.shardid = p.shardid
   AND s.relid IN ('rbx_a'::regclass, 'rbx_b'::regclass)
 GROUP BY n.nodeid, n.server_name, n.should_have_shards ORDER BY n.nodeid;
SELECT * FROM rbx_nodes;

-- nothing to do while worker2 may not have shards
SELECT rebalance_table_shards('rbx_a');
SELECT rebalance_start('rbx_a');
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', true);

-- errors
\set VERBOSITY default
BEGIN;
SELECT rebalance_table_shards();
ROLLBACK;
BEGIN;
SELECT rebalance_start();
ROLLBACK;
BEGIN;
SELECT shardfdw_drain_node('worker1');
ROLLBACK;
SELECT rebalance_table_shards(shard_transfer_mode => 'carefully');
SELECT rebalance_start(rebalance_strategy => 'by_luck');
SELECT shardfdw_drain_node('nosuchworker');
SELECT shardfdw_drain_node(NULL);
SELECT citus_drain_node('nosuchhost', 5432);
SELECT rebalance_wait(123456789);
SELECT rebalance_stop();
\set VERBOSITY terse
-- foreground: two of the four shard groups move to worker2 (the NOTICEs
-- carry timings, hence client_min_messages).  Mode block_writes keeps this
-- test quick: a new subscription on a worker waits for its
-- wal_retrieve_retry_interval (5 s by default) after the previous one;
-- test/t/301_rebalance.pl rebalances online.
SET client_min_messages = warning;
SELECT rebalance_table_shards('rbx_b', shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT * FROM rbx_nodes;
SELECT count(*), sum(length(v)) FROM rbx_a;
SELECT count(*) FROM rbx_a JOIN rbx_b ON rbx_a.id = rbx_b.id;
-- every worker holds exactly its 2 groups: no shard table left behind
SELECT server_name, result AS rbx_shard_tables FROM run_command_on_workers(
  'SELECT count(*) FROM pg_tables WHERE tablename ~ ''^rbx_[ab]_[0-9]+$''')
 ORDER BY 1;

-- drain worker2 (of this test's table), then balance again in the background
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', false);
SET client_min_messages = warning;
SELECT rebalance_table_shards('rbx_a', drain_only => true, shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT * FROM rbx_nodes;
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', true);
SELECT rebalance_start('rbx_a', shard_transfer_mode => 'block_writes') AS jobid \gset
SELECT rebalance_wait(:jobid);
SELECT state, moves_done, moves_total, moves_failed, current_moves, error
  FROM shardfdw.rebalance_status WHERE job_id = :jobid;
SELECT move_no, table_names, source_server, target_server, state
  FROM shardfdw.rebalance_move WHERE job_id = :jobid ORDER BY move_no;
SELECT count(*) = 1 AS also_citus_status FROM citus_rebalance_status() WHERE job_id = :jobid;
SELECT * FROM rbx_nodes;
SELECT count(*), sum(length(v)) FROM rbx_a;
-- a finished rebalance cannot be stopped; waiting for it again is fine
SELECT rebalance_stop(:jobid);
SELECT rebalance_wait();

-- a failing move stops the rebalance with its error; the moves done stay
-- done (fault injection: every move fails just before its cutover)
SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET shardfdw.test_fault_point = 'move-before-cutover';
ALTER DATABASE :"db" SET shardfdw.test_fault_action = 'error';
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', false);
SET client_min_messages = warning;
SELECT rebalance_table_shards('rbx_a', shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT rebalance_start('rbx_a', shard_transfer_mode => 'block_writes') AS jobid \gset
SELECT rebalance_wait(:jobid);
SELECT state, moves_done, moves_total, moves_failed, error
  FROM shardfdw.rebalance_status WHERE job_id = :jobid;
SELECT move_no, state FROM shardfdw.rebalance_move WHERE job_id = :jobid ORDER BY move_no;
ALTER DATABASE :"db" RESET shardfdw.test_fault_point;
ALTER DATABASE :"db" RESET shardfdw.test_fault_action;
SELECT * FROM rbx_nodes;
SELECT count(*), sum(length(v)) FROM rbx_a;
SELECT shardfdw_cleanup_orphaned_resources() >= 0 AS cleaned;
SELECT count(*) AS cleanup_records FROM shardfdw.cleanup;
-- without the fault the same rebalance drains worker1; then it may have shards again
SET client_min_messages = warning;
SELECT rebalance_table_shards('rbx_a', shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT * FROM rbx_nodes;
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', true);

DROP VIEW rbx_nodes;
DROP TABLE rbx_b, rbx_a;
