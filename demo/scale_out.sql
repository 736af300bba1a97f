-- demo/scale_out.sql: the end of seed 004 — two more workers join the
-- cluster and the shards are spread over all four, online (reads and writes
-- keep working; each move's cutover takes milliseconds).
-- worker3 and worker4 are SERVERs with user mappings already (scripts/
-- add_worker.sql); the demo unregistered them before distributing.
SELECT shardfdw_add_node('worker3');
SELECT shardfdw_add_node('worker4');

-- the plan first, then the rebalance (one call per co-location group)
SELECT count(*) AS shard_moves, count(DISTINCT sourcename || '->' || targetname) AS node_pairs
  FROM get_rebalance_plan('companies');
SELECT rebalance_table_shards('companies');

SELECT server_name, count(*) AS shards, pg_size_pretty(sum(shard_size)) AS size
  FROM shardfdw.shards WHERE table_type = 'distributed'
 GROUP BY server_name ORDER BY server_name;

-- the same answers as before
SELECT count(*) AS clicks, count(DISTINCT company_id) AS companies FROM clicks;
SELECT kind, state, count(*), max(duration) AS longest
  FROM shardfdw.jobs GROUP BY kind, state ORDER BY kind, state;
