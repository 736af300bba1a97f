--
-- citus_compat: the Citus metadata and monitoring statements of the seed
-- documents (shared/seeds/000..004) that test "seeds" does not run:
-- citus_shard_placement, citus_stat_activity(), citus_lock_waits,
-- citus_stat_statements, citus_rebalance_status(), pg_dist_*, and seed 000.
--
-- Each seed statement is run as written inside a count(*) (its full output
-- depends on the run: ports, pids, sizes, timestamps), then the columns that
-- do not are shown, with pids, ports and shard ids masked.
--
\set VERBOSITY terse
CREATE SCHEMA citus_compat;
SET search_path = citus_compat, public;

------------------------------------------------------------------------------
-- Seed 000: sales by country, co-located on id_pais
------------------------------------------------------------------------------
-- (the seed does not show the table definitions)
CREATE TABLE metodo_pago (id_metodo integer PRIMARY KEY, nombre text NOT NULL);
CREATE TABLE sucursal (
    id_sucursal integer,
    id_pais integer NOT NULL,
    pais text NOT NULL,
    CONSTRAINT sucursal_pkey PRIMARY KEY (id_sucursal)
);
CREATE TABLE venta (
    id_venta integer,
    id_sucursal integer NOT NULL,
    id_pais integer NOT NULL,
    canal_venta text NOT NULL,
    id_metodo integer NOT NULL,
    PRIMARY KEY (id_pais, id_venta)
);
CREATE TABLE detalle_venta (
    id_venta integer NOT NULL,
    linea integer NOT NULL,
    id_pais integer NOT NULL,
    importe numeric(10,2) NOT NULL,
    costo numeric(10,2) NOT NULL,
    PRIMARY KEY (id_pais, id_venta, linea)
);
INSERT INTO metodo_pago VALUES (1, 'efectivo'), (2, 'tarjeta');
INSERT INTO sucursal SELECT s, 1 + s % 4, (ARRAY['Mexico', 'Chile', 'Peru', 'Colombia'])[1 + s % 4]
  FROM generate_series(1, 12) s;
INSERT INTO venta SELECT v, 1 + v % 12, 1 + (1 + v % 12) % 4,
       CASE WHEN v % 3 = 0 THEN 'online' ELSE 'tienda' END, 1 + v % 2
  FROM generate_series(1, 120) v;
INSERT INTO detalle_venta SELECT v.id_venta, l, v.id_pais, 10 * l + v.id_venta % 7, 6 * l
  FROM venta v, generate_series(1, 2) l;

-- 1. Modify Primary Keys to include the Distribution Column
ALTER TABLE sucursal DROP CONSTRAINT sucursal_pkey;
ALTER TABLE sucursal ADD CONSTRAINT sucursal_pkey PRIMARY KEY (id_pais, id_sucursal);

-- 2. Distribute the Tables (Co-location)
SELECT create_distributed_table('sucursal', 'id_pais');
SELECT create_distributed_table('venta', 'id_pais', colocate_with => 'sucursal');
SELECT create_distributed_table('detalle_venta', 'id_pais', colocate_with => 'sucursal');

-- 3. Reference Tables
SELECT create_reference_table('metodo_pago');

SELECT c.relname, t.citus_table_type, t.distribution_column,
       dense_rank() OVER (ORDER BY t.colocation_id) AS colocation_group
  FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name
 WHERE c.relnamespace = 'citus_compat'::regnamespace ORDER BY 1;

-- Scenario A: co-located join (profit by country and channel)
SELECT t2.pais, t1.canal_venta, SUM(d.importe - d.costo) AS ganancia
FROM venta t1
INNER JOIN sucursal t2 ON t1.id_sucursal = t2.id_sucursal AND t1.id_pais = t2.id_pais
INNER JOIN detalle_venta d ON d.id_venta = t1.id_venta AND d.id_pais = t1.id_pais
INNER JOIN metodo_pago m ON m.id_metodo = t1.id_metodo
GROUP BY t2.pais, t1.canal_venta
ORDER BY 1, 2;

-- Scenario B: the Citus setting is accepted (a placeholder: shardfdw needs
-- no switch for joins not on the distribution column), same answer
SET citus.enable_repartition_joins = on;
SELECT t2.pais, t1.canal_venta, count(*)
FROM venta t1 INNER JOIN sucursal t2 ON t1.id_sucursal = t2.id_sucursal
GROUP BY 1, 2 ORDER BY 1, 2;
RESET citus.enable_repartition_joins;

------------------------------------------------------------------------------
-- Seed 001: monitoring and management
------------------------------------------------------------------------------
-- View shard distribution
SELECT count(*) > 0 AS has_rows FROM (SELECT * FROM citus_shards) s;

-- View shard placement across workers
SELECT count(*) > 0 AS has_rows FROM (SELECT * FROM citus_shard_placement) s;
SELECT p.table_name, regexp_replace(p.shard_name, '_[0-9]+$', '_N') AS shard_name,
       p.shardstate, p.shardlength, p.server_name,
       p.nodeport = n.port AS port_is_servers, count(*) AS placements
  FROM citus_shard_placement p JOIN shardfdw.nodes n USING (nodeid)
 WHERE p.table_name::text IN ('sucursal', 'metodo_pago')
 GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 5;
-- one placement per shard of a distributed table, one per node of a
-- reference table; placement ids are unique
SELECT (SELECT count(*) FROM citus_shard_placement) =
       (SELECT count(*) FROM shardfdw.placement) AS all_placements,
       (SELECT count(DISTINCT placementid) FROM citus_shard_placement) =
       (SELECT count(*) FROM shardfdw.placement) AS unique_placementid;

-- Monitor rebalancing progress
SELECT count(*) AS running FROM (SELECT * FROM citus_rebalance_status()) s
 WHERE state = 'running';

-- Get cluster statistics
SELECT count(*) > 0 AS has_rows FROM (SELECT * FROM citus_stat_activity()) s;
-- every node is there, the coordinator as node 0
SELECT nodeid = 0 AS coordinator, server_name, bool_or(backend_type = 'checkpointer') AS has_checkpointer,
       nodeid = 0 OR nodeid = (SELECT n.nodeid FROM shardfdw.node n WHERE n.server_name = a.server_name) AS nodeid_ok
  FROM citus_stat_activity() a GROUP BY nodeid, server_name ORDER BY nodeid;
-- global pids: nodeid * 10^10 + pid
SELECT bool_and(global_pid = nodeid * 10000000000::bigint + pid) AS gpid_ok,
       count(DISTINCT global_pid) = count(*) AS gpid_unique
  FROM citus_stat_activity;
SELECT nodeid, is_worker_query, state, query
  FROM citus_stat_activity() WHERE pid = pg_backend_pid() AND nodeid = 0;
-- the sessions shardfdw opened on the workers for this transaction
BEGIN;
SELECT count(*) FROM venta;
SELECT server_name, state, is_worker_query
  FROM citus_stat_activity()
 WHERE nodeid > 0 AND backend_type = 'client backend' AND state = 'idle in transaction'
 ORDER BY 1;
COMMIT;

-- View query execution across workers: needs pg_stat_statements
SELECT query, calls, total_time, mean_time
FROM citus_stat_statements
WHERE query NOT LIKE '%citus_%'
ORDER BY total_time DESC LIMIT 10;

------------------------------------------------------------------------------
-- Seed 003: citus_lock_waits while writes block each other
------------------------------------------------------------------------------
CREATE EXTENSION dblink;
SELECT dblink_connect('holder', format('host=127.0.0.1 port=%s dbname=%s',
                      current_setting('port'), current_database()));
SELECT dblink_connect('waiter', format('host=127.0.0.1 port=%s dbname=%s',
                      current_setting('port'), current_database()));
SELECT dblink_exec('holder', 'SET search_path = citus_compat');
SELECT dblink_exec('waiter', 'SET search_path = citus_compat');

-- Wait until citus_lock_waits has a row for node nodeid (at most 60 s).
CREATE FUNCTION wait_for_lock_wait(nodeid integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..1200 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM citus_lock_waits w WHERE w.waiting_nodeid = nodeid);
    PERFORM pg_sleep(0.05);
  END LOOP;
END
$$;

-- a lock on the coordinator: the waiter's SELECT waits for the LOCK TABLE
SELECT dblink_exec('holder', 'BEGIN');
SELECT dblink_exec('holder', 'LOCK TABLE sucursal IN ACCESS EXCLUSIVE MODE');
SELECT dblink_send_query('waiter', 'SELECT count(*) FROM sucursal');
SELECT wait_for_lock_wait(0);
SELECT waiting_nodeid, blocking_nodeid, blocked_statement,
       current_statement_in_blocking_process, wait_event_type, server_name,
       waiting_gpid = waiting_pid AS waiting_gpid_ok,
       blocking_gpid = blocking_pid AS blocking_gpid_ok
  FROM citus_lock_waits;
SELECT dblink_exec('holder', 'COMMIT');
SELECT * FROM dblink_get_result('waiter') AS r(n bigint);
SELECT * FROM dblink_get_result('waiter') AS r(n bigint);

-- a row lock on a worker: both UPDATEs pass the coordinator, the second
-- waits on the shard for the first one's remote transaction
SELECT seeds_node FROM (SELECT n.nodeid AS seeds_node
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.shard_relid = (SELECT tableoid FROM venta WHERE id_pais = 3 AND id_venta = 1)) x \gset
SELECT dblink_exec('holder', 'BEGIN');
SELECT dblink_exec('holder', 'UPDATE venta SET canal_venta = ''holder'' WHERE id_pais = 3 AND id_venta = 1');
SELECT dblink_send_query('waiter', 'UPDATE venta SET canal_venta = ''waiter'' WHERE id_pais = 3 AND id_venta = 1');
SELECT wait_for_lock_wait(:seeds_node);
SELECT waiting_nodeid = :seeds_node AS on_shard_node, blocking_nodeid = waiting_nodeid AS same_node,
       blocked_statement ~ 'UPDATE citus_compat\.venta_[0-9]+ ' AS blocked_is_shard_update,
       current_statement_in_blocking_process ~ 'UPDATE citus_compat\.venta_[0-9]+ '
         AS blocking_is_shard_update,
       wait_event_type, wait_event,
       server_name = (SELECT server_name FROM shardfdw.node WHERE nodeid = :seeds_node) AS server_ok,
       waiting_gpid = waiting_nodeid * 10000000000::bigint + waiting_pid AS waiting_gpid_ok,
       blocking_gpid = blocking_nodeid * 10000000000::bigint + blocking_pid AS blocking_gpid_ok
  FROM citus_lock_waits;
SELECT dblink_exec('holder', 'COMMIT');
SELECT * FROM dblink_get_result('waiter') AS r(tag text);
SELECT * FROM dblink_get_result('waiter') AS r(tag text);
SELECT canal_venta FROM venta WHERE id_pais = 3 AND id_venta = 1;
SELECT count(*) AS lock_waits_after FROM citus_lock_waits;
SELECT dblink_disconnect('holder'), dblink_disconnect('waiter');
DROP EXTENSION dblink;

-- the seed's per-node shard summary
SELECT table_name, count(*) > 0 AS has_rows
  FROM (SELECT table_name, nodename, COUNT(shardid) AS shard_count, SUM(shard_size) AS size
          FROM citus_shards
         GROUP BY table_name, nodename
         ORDER BY table_name) s
 WHERE table_name::text IN ('sucursal', 'venta')
 GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------------
-- Seed 004: the pg_dist_* metadata tables
------------------------------------------------------------------------------
SELECT count(*) > 0 AS has_rows FROM (select * from pg_dist_partition) s;
SELECT logicalrelid, partmethod, partkey, repmodel
  FROM pg_dist_partition WHERE logicalrelid::text IN ('sucursal', 'metodo_pago') ORDER BY 1;
SELECT count(*) > 0 AS has_rows FROM (select * from pg_dist_shard) s;
SELECT logicalrelid, shardstorage, shardminvalue, shardmaxvalue, count(*) AS shards,
       min(shard_index), max(shard_index), min(shard_modulus)
  FROM pg_dist_shard WHERE logicalrelid::text IN ('sucursal', 'metodo_pago')
 GROUP BY 1, 2, 3, 4 ORDER BY 1;
SELECT count(*) > 0 AS has_rows FROM (select * from pg_dist_placement) s;
SELECT count(*) > 0 AS has_rows FROM (select * from pg_dist_node) s;
SELECT nodeid = groupid AS group_is_node, noderack, hasmetadata, isactive, noderole,
       nodecluster, metadatasynced, shouldhaveshards, server_name
  FROM pg_dist_node ORDER BY nodeid;

-- the seed's query for the node of a shard: the same node as
-- citus_shard_placement says, for every shard of sucursal
SELECT min(shardid) AS a_shard FROM pg_dist_shard WHERE logicalrelid = 'sucursal'::regclass \gset
SELECT count(*) AS rows,
       bool_and((node.nodename, node.nodeport) =
                (SELECT p.nodename, p.nodeport FROM citus_shard_placement p
                  WHERE p.shardid = :a_shard)) AS same_node
FROM (
SELECT
    shardid,
    node.nodename,
    node.nodeport
FROM pg_dist_placement placement
JOIN pg_dist_node node
  ON placement.groupid = node.groupid
 AND node.noderole = 'primary'::noderole
WHERE shardid = :a_shard
) node;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA citus_compat CASCADE;
RESET client_min_messages;
