--
-- rebalance: rebalance_table_shards, shardfdw_drain_node and the background
-- rebalance on the harness's two workers, and their errors
--
\set VERBOSITY terse

CREATE TABLE rbx_a (id bigint PRIMARY KEY, v text);
CREATE TABLE rbx_b (id bigint PRIMARY KEY, a_id bigint);
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', false);
SELECT create_distributed_table('rbx_a', 'id', shard_count => 4);
SELECT create_distributed_table('rbx_b', 'id', colocate_with => 'rbx_a');
INSERT INTO rbx_a SELECT i, 'v' || i FROM generate_series(1, 1000) i;
INSERT INTO rbx_b SELECT i, i FROM generate_series(1, 1000) i;
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;

-- nothing to do while worker2 may not have shards
SELECT rebalance_table_shards();
SELECT rebalance_start();
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
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;
SELECT count(*), sum(length(v)) FROM rbx_a;
SELECT count(*) FROM rbx_a JOIN rbx_b ON rbx_a.id = rbx_b.id;
-- every worker holds exactly its 2 groups: no shard table left behind
SELECT count(*) AS workers_with_other_tables FROM run_command_on_workers(
  'SELECT count(*) FROM pg_tables WHERE tablename ~ ''^rbx_[ab]_[0-9]+$''')
 WHERE result::int <> 4;

-- drain worker2 (in the foreground), then balance again in the background
SET client_min_messages = warning;
SELECT shardfdw_drain_node('worker2', 'block_writes');
RESET client_min_messages;
SELECT server_name, should_have_shards, shard_count FROM shardfdw.nodes ORDER BY nodeid;
SELECT shardfdw_set_node_property('worker2', 'shouldhaveshards', true);
SELECT rebalance_start(shard_transfer_mode => 'block_writes') AS jobid \gset
SELECT rebalance_wait(:jobid);
SELECT state, moves_done, moves_total, moves_failed, current_moves, error
  FROM shardfdw.rebalance_status WHERE job_id = :jobid;
SELECT move_no, table_names, source_server, target_server, state
  FROM shardfdw.rebalance_move WHERE job_id = :jobid ORDER BY move_no;
SELECT count(*) = 1 AS also_citus_status FROM citus_rebalance_status() WHERE job_id = :jobid;
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;
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
SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT rebalance_start(shard_transfer_mode => 'block_writes') AS jobid \gset
SELECT rebalance_wait(:jobid);
SELECT state, moves_done, moves_total, moves_failed, error
  FROM shardfdw.rebalance_status WHERE job_id = :jobid;
SELECT move_no, state FROM shardfdw.rebalance_move WHERE job_id = :jobid ORDER BY move_no;
ALTER DATABASE :"db" RESET shardfdw.test_fault_point;
ALTER DATABASE :"db" RESET shardfdw.test_fault_action;
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;
SELECT count(*), sum(length(v)) FROM rbx_a;
SELECT shardfdw_cleanup_orphaned_resources() >= 0 AS cleaned;
SELECT count(*) AS cleanup_records FROM shardfdw.cleanup;
-- without the fault the same rebalance drains worker1; then it may have shards again
SET client_min_messages = warning;
SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;
SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', true);

DROP TABLE rbx_b, rbx_a;
