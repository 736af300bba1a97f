/* shardfdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION shardfdw" to load this file. \quit

--
-- The foreign-data wrapper
--
CREATE FUNCTION shardfdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_handler()
  IS 'handler of the shardfdw foreign-data wrapper';

CREATE FUNCTION shardfdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_validator(text[], oid)
  IS 'validator of the options of the shardfdw foreign-data wrapper';

CREATE FOREIGN DATA WRAPPER shardfdw
  HANDLER shardfdw_handler
  VALIDATOR shardfdw_validator;
COMMENT ON FOREIGN DATA WRAPPER shardfdw
  IS 'worker nodes of a shardfdw cluster are SERVERs of this wrapper';

--
-- Catalog (schema shardfdw).  The C code (src/metadata/metadata.c) reads these
-- tables by attribute number: keep the column order in sync with the Anum_
-- constants there.
--
CREATE SCHEMA shardfdw;
COMMENT ON SCHEMA shardfdw IS 'catalog and views of the shardfdw extension';
GRANT USAGE ON SCHEMA shardfdw TO PUBLIC;

CREATE TABLE shardfdw.node (
  nodeid serial PRIMARY KEY,
  server_name name NOT NULL UNIQUE,
  active boolean NOT NULL DEFAULT true,
  should_have_shards boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE shardfdw.node
  IS 'worker nodes: SERVERs of the shardfdw wrapper registered by shardfdw_add_node';

CREATE TABLE shardfdw.colocation (
  colocationid serial PRIMARY KEY,
  shard_count integer NOT NULL CHECK (shard_count > 0),
  distribution_type regtype,
  distribution_collation regcollation
);
COMMENT ON TABLE shardfdw.colocation
  IS 'co-location groups: tables of a group have shard i on the same node';

CREATE SEQUENCE shardfdw.shardid_seq START 102008 NO CYCLE;
COMMENT ON SEQUENCE shardfdw.shardid_seq IS 'source of shard ids';

CREATE TABLE shardfdw.distributed_table (
  relid regclass PRIMARY KEY,
  kind "char" NOT NULL CHECK (kind IN ('h', 'n')),
  distribution_attnum smallint NOT NULL,
  colocationid integer REFERENCES shardfdw.colocation
);
COMMENT ON TABLE shardfdw.distributed_table
  IS 'distributed (kind h, hash) and reference (kind n) tables';

CREATE TABLE shardfdw.shard (
  shardid bigint PRIMARY KEY,
  relid regclass NOT NULL REFERENCES shardfdw.distributed_table ON UPDATE CASCADE ON DELETE CASCADE,
  shard_index integer NOT NULL,
  shard_relid regclass,
  modulus integer CHECK (modulus > 0),
  UNIQUE (relid, shard_index)
);
COMMENT ON TABLE shardfdw.shard
  IS 'shards: shard_index is the hash REMAINDER, modulus the hash MODULUS (NULL: the group''s shard_count; differs after a split), shard_relid the coordinator''s foreign partition (NULL for reference tables)';

CREATE TABLE shardfdw.placement (
  shardid bigint NOT NULL REFERENCES shardfdw.shard ON DELETE CASCADE,
  nodeid integer NOT NULL REFERENCES shardfdw.node,
  PRIMARY KEY (shardid, nodeid)
);
COMMENT ON TABLE shardfdw.placement
  IS 'where shards live: one row per shard for distributed tables, one per node for reference tables';

CREATE TABLE shardfdw.shard_ddl (
  relid regclass NOT NULL REFERENCES shardfdw.distributed_table ON UPDATE CASCADE ON DELETE CASCADE,
  name name NOT NULL,
  kind "char" NOT NULL CHECK (kind IN ('c', 'i', 'u')),
  definition text NOT NULL,
  PRIMARY KEY (relid, name)
);
COMMENT ON TABLE shardfdw.shard_ddl
  IS 'constraints (kind c: ALTER TABLE ADD CONSTRAINT text) and indexes (kind i, u for unique: text after ON table) that live on the shards of a distributed table instead of its parent';

CREATE TABLE shardfdw.pending_fkey (
  conname name NOT NULL,
  relid regclass NOT NULL,
  refrelid regclass NOT NULL,
  columns name[] NOT NULL,
  refcolumns name[] NOT NULL,
  actions text NOT NULL,
  created boolean NOT NULL DEFAULT false,
  PRIMARY KEY (relid, conname)
);
COMMENT ON TABLE shardfdw.pending_fkey
  IS 'foreign keys removed from the coordinator: created on the shards once both sides are distributed (created = true)';

SELECT pg_catalog.pg_extension_config_dump('shardfdw.node', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.node_nodeid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.colocation', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.colocation_colocationid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.shardid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.distributed_table', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.shard', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.placement', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.shard_ddl', '');
SELECT pg_catalog.pg_extension_config_dump('shardfdw.pending_fkey', '');

GRANT SELECT ON ALL TABLES IN SCHEMA shardfdw TO PUBLIC;

--
-- Helpers for the views
--
CREATE FUNCTION shardfdw.server_option(server name, option text)
RETURNS text
LANGUAGE sql STABLE STRICT
AS $$
  SELECT pg_catalog.substr(o, pg_catalog.length(option) + 2)
    FROM pg_catalog.pg_foreign_server s,
         pg_catalog.unnest(s.srvoptions) AS o
   WHERE s.srvname = server
     AND pg_catalog.starts_with(o, option OPERATOR(pg_catalog.||) '=')
$$;
COMMENT ON FUNCTION shardfdw.server_option(name, text)
  IS 'value of an option of a foreign server, or NULL';

CREATE FUNCTION shardfdw.relation_size(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_relation_size'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.relation_size(regclass)
  IS 'total size in bytes of a distributed table (sum of its shards on the workers) or of a reference table (the coordinator''s copy)';

CREATE FUNCTION shardfdw.shard_size(bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_shard_size'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.shard_size(bigint)
  IS 'total size in bytes of one shard, as reported by its worker (first placement)';

--
-- Views
--
CREATE VIEW shardfdw.nodes AS
SELECT n.nodeid,
       n.server_name,
       COALESCE(shardfdw.server_option(n.server_name, 'host'),
                           shardfdw.server_option(n.server_name, 'hostaddr'),
                           'localhost') AS host,
       COALESCE(shardfdw.server_option(n.server_name, 'port'),
                           '5432')::integer AS port,
       shardfdw.server_option(n.server_name, 'dbname') AS dbname,
       n.active,
       n.should_have_shards,
       (SELECT pg_catalog.count(*)
          FROM shardfdw.placement p
          JOIN shardfdw.shard s USING (shardid)
          JOIN shardfdw.distributed_table t USING (relid)
         WHERE p.nodeid = n.nodeid AND t.kind = 'h') AS shard_count
  FROM shardfdw.node n;
COMMENT ON VIEW shardfdw.nodes
  IS 'worker nodes with their connection target and number of distributed-table shards';

CREATE VIEW shardfdw.tables AS
SELECT t.relid AS table_name,
       CASE t.kind WHEN 'h' THEN 'distributed' ELSE 'reference' END AS table_type,
       CASE t.kind WHEN 'h'
            THEN pg_catalog.quote_ident(a.attname)
            ELSE '<none>' END AS distribution_column,
       t.colocationid AS colocation_id,
       pg_catalog.pg_size_pretty(shardfdw.relation_size(t.relid)) AS table_size,
       (SELECT pg_catalog.count(*)::integer
          FROM shardfdw.shard s WHERE s.relid = t.relid) AS shard_count,
       pg_catalog.pg_get_userbyid(c.relowner) AS table_owner
  FROM shardfdw.distributed_table t
  JOIN pg_catalog.pg_class c ON c.oid = t.relid
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = t.relid AND a.attnum = t.distribution_attnum
                                 AND t.kind = 'h';
COMMENT ON VIEW shardfdw.tables
  IS 'distributed and reference tables (like citus_tables)';

CREATE VIEW shardfdw.shards AS
SELECT t.relid AS table_name,
       s.shardid,
       CASE t.kind WHEN 'h' THEN s.shard_relid::text ELSE t.relid::text END
         AS shard_name,
       CASE t.kind WHEN 'h' THEN 'distributed' ELSE 'reference' END AS table_type,
       t.colocationid AS colocation_id,
       n.server_name,
       nd.host AS nodename,
       nd.port AS nodeport,
       shardfdw.shard_size(s.shardid) AS shard_size,
       s.shard_index,
       CASE t.kind WHEN 'h' THEN COALESCE(s.modulus, c.shard_count) END
         AS shard_modulus
  FROM shardfdw.shard s
  JOIN shardfdw.distributed_table t USING (relid)
  LEFT JOIN shardfdw.colocation c USING (colocationid)
  JOIN shardfdw.placement p USING (shardid)
  JOIN shardfdw.node n USING (nodeid)
  JOIN shardfdw.nodes nd USING (nodeid);
COMMENT ON VIEW shardfdw.shards
  IS 'shard placements with their node (like citus_shards); a shard of a distributed table holds the rows whose hash is shard_index modulo shard_modulus';

-- Views cannot be created in pg_catalog; the Citus-compatible names live in
-- schema public, which is on the default search_path.
CREATE VIEW public.citus_tables AS
SELECT table_name,
       table_type AS citus_table_type,
       distribution_column,
       colocation_id,
       table_size,
       shard_count::bigint AS shard_count,
       table_owner,
       'heap'::name AS access_method
  FROM shardfdw.tables;
COMMENT ON VIEW public.citus_tables
  IS 'Citus-compatible view of shardfdw.tables';

CREATE VIEW public.citus_shards AS
SELECT table_name,
       shardid,
       shard_name,
       table_type AS citus_table_type,
       colocation_id,
       nodename,
       nodeport,
       shard_size
  FROM shardfdw.shards;
COMMENT ON VIEW public.citus_shards
  IS 'Citus-compatible view of shardfdw.shards (nodename is the SERVER''s host option)';

GRANT SELECT ON shardfdw.nodes, shardfdw.tables, shardfdw.shards,
  public.citus_tables, public.citus_shards TO PUBLIC;

--
-- Nodes
--
CREATE FUNCTION shardfdw_add_node(server name)
RETURNS integer
AS 'MODULE_PATHNAME', 'shardfdw_add_node'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_add_node(name)
  IS 'register a SERVER of the shardfdw wrapper as a worker node; returns its node id';

CREATE FUNCTION shardfdw_remove_node(server name)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_remove_node'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_remove_node(name)
  IS 'unregister a worker node that holds no shards (its reference table replicas are dropped)';

CREATE FUNCTION run_command_on_workers(command text,
  OUT server_name name, OUT success boolean, OUT result text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'shardfdw_run_command_on_workers'
LANGUAGE C STRICT;
COMMENT ON FUNCTION run_command_on_workers(text)
  IS 'run a command on every worker node in its own autocommit session';

--
-- Distributed tables
--
CREATE FUNCTION create_distributed_table(table_name regclass,
  distribution_column text,
  distribution_type text DEFAULT 'hash',
  colocate_with text DEFAULT 'default',
  shard_count integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_create_distributed_table'
LANGUAGE C CALLED ON NULL INPUT;
COMMENT ON FUNCTION create_distributed_table(regclass, text, text, text, integer)
  IS 'turn a table into a hash-partitioned table whose partitions are shards on the worker nodes';

CREATE FUNCTION create_distributed_table_concurrently(table_name regclass,
  distribution_column text,
  distribution_type text DEFAULT 'hash',
  colocate_with text DEFAULT 'default',
  shard_count integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_create_distributed_table_concurrently'
LANGUAGE C CALLED ON NULL INPUT;
COMMENT ON FUNCTION create_distributed_table_concurrently(regclass, text, text, text, integer)
  IS 'distribute a populated table while writes to it go on: a background job copies the rows, replays the changes made meanwhile and switches under a short lock';

CREATE FUNCTION truncate_local_data_after_distributing_table(function_name regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_truncate_local_data_after_distributing_table'
LANGUAGE C STRICT;
COMMENT ON FUNCTION truncate_local_data_after_distributing_table(regclass)
  IS 'no-op kept for Citus compatibility: distribution leaves no local copy';

CREATE FUNCTION undistribute_table(table_name regclass,
  cascade_via_foreign_keys boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_undistribute_table'
LANGUAGE C STRICT;
COMMENT ON FUNCTION undistribute_table(regclass, boolean)
  IS 'turn a distributed or reference table back into a plain local table with all its rows';

--
-- Reference tables
--
CREATE FUNCTION create_reference_table(table_name regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_create_reference_table'
LANGUAGE C STRICT;
COMMENT ON FUNCTION create_reference_table(regclass)
  IS 'replicate a table to every worker node and keep the replicas in sync';

CREATE FUNCTION shardfdw.replicate_reference_table()
RETURNS trigger
AS 'MODULE_PATHNAME', 'shardfdw_replicate_reference_table'
LANGUAGE C;
COMMENT ON FUNCTION shardfdw.replicate_reference_table()
  IS 'statement trigger replicating the changes of a reference table to its replicas';

REVOKE ALL ON FUNCTION shardfdw_add_node(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw_remove_node(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_command_on_workers(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION create_distributed_table(regclass, text, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION create_distributed_table_concurrently(regclass, text, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION undistribute_table(regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION create_reference_table(regclass) FROM PUBLIC;

--
-- Distributed planner and executor (planner layer)
--
-- (planner objects go here)

--
-- Two-phase commit and recovery (connection + transaction layer)
--
-- (transaction objects go here)
-- One row per transaction prepared on a worker by a coordinator
-- transaction that committed: inserted by that transaction itself (so it
-- exists iff the coordinator committed), deleted by recovery once the
-- prepared transaction is resolved.
CREATE TABLE shardfdw.transaction (
    gid text PRIMARY KEY,
    server oid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shardfdw.transaction
  IS 'commit records of two-phase commits: the prepared transaction gid on a worker SERVER whose coordinator transaction committed';

CREATE FUNCTION recover_prepared_transactions()
RETURNS integer
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'recover_prepared_transactions';
COMMENT ON FUNCTION recover_prepared_transactions()
  IS 'commit the prepared transactions on workers whose coordinator transaction committed, roll back the others; returns how many were resolved';
REVOKE ALL ON FUNCTION recover_prepared_transactions() FROM PUBLIC;

--
-- DDL propagation (commands layer)
--
-- (commands objects go here)
CREATE FUNCTION shardfdw.drop_trigger()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'shardfdw_drop_trigger';
COMMENT ON FUNCTION shardfdw.drop_trigger()
  IS 'sql_drop event trigger: drops the shards / replicas of dropped distributed and reference tables and their catalog rows';

CREATE EVENT TRIGGER shardfdw_drop ON sql_drop
  EXECUTE FUNCTION shardfdw.drop_trigger();

CREATE VIEW shardfdw.table_objects AS
SELECT d.relid AS table_name,
       d.name AS object_name,
       CASE d.kind WHEN 'i' THEN 'index' WHEN 'u' THEN 'unique index'
         ELSE CASE pg_catalog.split_part(d.definition, ' ', 1)
           WHEN 'PRIMARY' THEN 'primary key' WHEN 'UNIQUE' THEN 'unique'
           WHEN 'EXCLUDE' THEN 'exclude' WHEN 'CHECK' THEN 'check'
           ELSE 'constraint' END END AS object_type,
       'shards'::text AS lives_on,
       d.definition
  FROM shardfdw.shard_ddl d
UNION ALL
SELECT f.relid, f.conname, 'foreign key',
       CASE WHEN f.created THEN 'shards' ELSE 'pending' END,
       pg_catalog.format('FOREIGN KEY (%s) REFERENCES %s(%s)%s',
         pg_catalog.array_to_string(f.columns, ', '), f.refrelid,
         pg_catalog.array_to_string(f.refcolumns, ', '), f.actions)
  FROM shardfdw.pending_fkey f;
COMMENT ON VIEW shardfdw.table_objects
  IS 'indexes and constraints of distributed tables that live on their shards (not on the coordinator''s parent), and the foreign keys shardfdw manages';
GRANT SELECT ON shardfdw.table_objects TO PUBLIC;

--
-- Background jobs, shard moves, rebalancing, concurrent distribution, splits
-- (issue 6).  Keep each part in its own marked section.
--
-- Jobs: operations that run in background workers (src/operations/job.c)
CREATE TABLE shardfdw.job (
  jobid bigserial PRIMARY KEY,
  kind text NOT NULL,
  args text NOT NULL,
  parent_jobid bigint,
  owner regrole NOT NULL,
  pid integer,
  state text NOT NULL DEFAULT 'running'
    CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
  phase text,
  detail text,
  started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  finished_at timestamptz,
  error_sqlstate text,
  error_message text,
  error_detail text,
  error_hint text
);
COMMENT ON TABLE shardfdw.job
  IS 'operations run by background workers (moves, splits, rebalances, concurrent distribution): one row per job, written by the job itself';
GRANT SELECT ON shardfdw.job TO PUBLIC;

CREATE VIEW shardfdw.jobs AS
SELECT j.jobid, j.kind, j.args, j.parent_jobid, j.owner,
       CASE WHEN j.state = 'running' AND NOT EXISTS
              (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = j.pid)
            THEN 'interrupted' ELSE j.state END AS state,
       j.phase, j.detail, j.pid, j.started_at, j.finished_at,
       COALESCE(j.finished_at, pg_catalog.now()) - j.started_at AS duration,
       j.error_sqlstate, j.error_message
  FROM shardfdw.job j;
COMMENT ON VIEW shardfdw.jobs
  IS 'jobs with their live state: interrupted = the worker exited without recording an outcome (killed or shut down)';
GRANT SELECT ON shardfdw.jobs TO PUBLIC;

CREATE FUNCTION shardfdw.job_wait(job_id bigint)
  RETURNS void
  AS 'MODULE_PATHNAME', 'shardfdw_job_wait'
  LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.job_wait(bigint)
  IS 'waits until a job ends; raises its error if it failed, was cancelled or interrupted';

CREATE FUNCTION shardfdw.job_cancel(job_id bigint)
  RETURNS boolean
  AS 'MODULE_PATHNAME', 'shardfdw_job_cancel'
  LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.job_cancel(bigint)
  IS 'asks a running job to stop (it undoes its unfinished work); false if it was not running';

CREATE FUNCTION shardfdw.run_test_job(args text, wait boolean DEFAULT true)
  RETURNS bigint
  AS 'MODULE_PATHNAME', 'shardfdw_run_test_job'
  LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.run_test_job(text, boolean)
  IS 'for tests of the job runner (superuser only): runs a job that sleeps (sleep=<ms>), fails (fail=1) and reports progress (report=1)';
REVOKE ALL ON FUNCTION shardfdw.run_test_job(text, boolean) FROM PUBLIC;

-- (move objects go here)

-- (rebalance objects go here)

-- (concurrent distribution objects go here)
CREATE FUNCTION shardfdw.concurrent_distribution_log()
RETURNS trigger
AS 'MODULE_PATHNAME', 'shardfdw_concurrent_distribution_log'
LANGUAGE C;
COMMENT ON FUNCTION shardfdw.concurrent_distribution_log()
  IS 'statement trigger logging the keys of changed rows while create_distributed_table_concurrently copies a table';

-- (split objects go here)
CREATE FUNCTION shardfdw_split_shard(shard_id bigint,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'shardfdw_split_shard'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_split_shard(bigint, text)
  IS 'replace the shard (MODULUS m, REMAINDER r) of every table of its co-location group by two shards (MODULUS 2m, REMAINDER r and r + m) on the same node; returns the new shard ids of the shard''s table';

CREATE FUNCTION shardfdw_isolate_tenant(table_name regclass, tenant text,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_isolate_tenant'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_isolate_tenant(regclass, text, text)
  IS 'split the shard holding a distribution column value until no other value shares it; returns that shard''s id';

REVOKE ALL ON FUNCTION shardfdw_split_shard(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw_isolate_tenant(regclass, text, text) FROM PUBLIC;
