--
-- nodes: registering worker nodes (SERVERs of the shardfdw wrapper)
--
-- The harness registered worker1 and worker2.  Nothing below prints hosts
-- or ports, which vary from run to run.
\set VERBOSITY terse

SELECT nodeid, server_name, active, should_have_shards, shard_count
  FROM shardfdw.nodes ORDER BY nodeid;

-- every node answers run_command_on_workers, in its own session
SELECT server_name, success, result
  FROM run_command_on_workers('SELECT 1 + 1') ORDER BY server_name;
SELECT server_name, success, result
  FROM run_command_on_workers('SELECT 1 / 0') ORDER BY server_name;
SELECT server_name, success, result
  FROM run_command_on_workers('SET search_path TO public') ORDER BY server_name;

-- a node cannot be registered twice
\set VERBOSITY default
SELECT shardfdw_add_node('worker1');
\set VERBOSITY terse

-- only SERVERs of the shardfdw wrapper are nodes
CREATE FOREIGN DATA WRAPPER regress_other_fdw;
CREATE SERVER regress_other FOREIGN DATA WRAPPER regress_other_fdw;
\set VERBOSITY default
SELECT shardfdw_add_node('regress_other');
\set VERBOSITY terse
SELECT shardfdw_add_node('regress_no_such_server');

-- a user mapping is required
CREATE SERVER regress_nomap FOREIGN DATA WRAPPER shardfdw
  OPTIONS (host 'localhost', port '1', dbname 'nothing');
\set VERBOSITY default
SELECT shardfdw_add_node('regress_nomap');
\set VERBOSITY terse

-- an unreachable server is not registered
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_nomap OPTIONS (user 'nobody');
SELECT shardfdw_add_node('regress_nomap');
SELECT count(*) FROM shardfdw.node WHERE server_name = 'regress_nomap';

DROP SERVER regress_nomap CASCADE;
DROP SERVER regress_other;
DROP FOREIGN DATA WRAPPER regress_other_fdw;

-- unknown node
SELECT shardfdw_remove_node('regress_nomap');

-- a node holding shards cannot be removed
CREATE TABLE node_dist (id bigint PRIMARY KEY, v text);
INSERT INTO node_dist SELECT i, 'v' || i FROM generate_series(1, 20) i;
SELECT create_distributed_table('node_dist', 'id', shard_count => 4);
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY nodeid;
\set VERBOSITY default
SELECT shardfdw_remove_node('worker2');
\set VERBOSITY terse
SELECT undistribute_table('node_dist');
DROP TABLE node_dist;

-- removing a node drops its reference table replicas; adding one creates them
CREATE TABLE node_ref (code text PRIMARY KEY, label text NOT NULL);
INSERT INTO node_ref VALUES ('a', 'alpha'), ('b', 'beta');
SELECT create_reference_table('node_ref');
CREATE TABLE node_ref2 (id int PRIMARY KEY, code text REFERENCES node_ref);
INSERT INTO node_ref2 VALUES (1, 'a');
SELECT create_reference_table('node_ref2');
SELECT server_name, result
  FROM run_command_on_workers('SELECT count(*) FROM public.node_ref') ORDER BY 1;
SELECT shardfdw_remove_node('worker2');
SELECT server_name FROM shardfdw.nodes ORDER BY nodeid;
SELECT count(*) AS placements FROM shardfdw.shards WHERE table_name = 'node_ref'::regclass;
-- written while worker2 is out: the new replica gets it
INSERT INTO node_ref VALUES ('c', 'gamma');
SELECT shardfdw_add_node('worker2') > 0 AS added;
SELECT server_name, result
  FROM run_command_on_workers('SELECT string_agg(code || label, '','' ORDER BY code) FROM public.node_ref')
 ORDER BY 1;
SELECT count(*) AS placements FROM shardfdw.shards WHERE table_name = 'node_ref'::regclass;
SELECT server_name, result
  FROM run_command_on_workers($$SELECT count(*) FROM public.node_ref2 JOIN public.node_ref USING (code)$$)
 ORDER BY 1;
SELECT server_name, result
  FROM run_command_on_workers($$SELECT string_agg(conname, ',') FROM pg_constraint WHERE conrelid = 'public.node_ref2'::regclass AND contype = 'f'$$)
 ORDER BY 1;
SELECT undistribute_table('node_ref2');
SELECT undistribute_table('node_ref');
SELECT server_name, result
  FROM run_command_on_workers('SELECT to_regclass(''public.node_ref'') IS NULL') ORDER BY 1;
DROP TABLE node_ref2, node_ref;

-- state for the next tests: both workers, no shards
SELECT server_name, active, shard_count FROM shardfdw.nodes ORDER BY nodeid;
