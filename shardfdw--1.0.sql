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

-- A restore (pg_restore of a dump made with --inserts) may load these tables
-- in any order: in a restore session, the INSERTs the client sends skip the
-- catalog's foreign key checks (src/commands/copy.c).
CREATE FUNCTION shardfdw.catalog_insert_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'shardfdw_catalog_insert_trigger'
LANGUAGE C;
COMMENT ON FUNCTION shardfdw.catalog_insert_trigger()
  IS 'statement triggers of the catalog tables: a restore''s INSERTs load them in any order';
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['node', 'colocation', 'distributed_table', 'shard',
                           'placement', 'shard_ddl', 'pending_fkey'] LOOP
    EXECUTE pg_catalog.format('CREATE TRIGGER shardfdw_catalog_insert_begin'
      ' BEFORE INSERT ON shardfdw.%I FOR EACH STATEMENT'
      ' EXECUTE FUNCTION shardfdw.catalog_insert_trigger()', t);
    EXECUTE pg_catalog.format('CREATE TRIGGER shardfdw_catalog_insert_end'
      ' AFTER INSERT ON shardfdw.%I FOR EACH STATEMENT'
      ' EXECUTE FUNCTION shardfdw.catalog_insert_trigger()', t);
    EXECUTE pg_catalog.format('ALTER TABLE shardfdw.%I'
      ' ENABLE ALWAYS TRIGGER shardfdw_catalog_insert_end', t);
  END LOOP;
END
$$;

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

CREATE FUNCTION shardfdw.shard_size(shardid bigint, server_name name DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_shard_size'
LANGUAGE C;
COMMENT ON FUNCTION shardfdw.shard_size(bigint, name)
  IS 'total size in bytes of one shard, as reported by its worker (the placement on server_name, or the first one)';

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
       shardfdw.shard_size(s.shardid, n.server_name) AS shard_size,
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
-- More Citus-compatible metadata views (schema public, like citus_tables).
-- shardfdw has no placement ids, node groups, replicas of distributed shards
-- or hash token ranges: those columns are derived or constant, see README.
--
CREATE VIEW public.citus_shard_placement AS
SELECT s.relid AS table_name,
       p.shardid,
       CASE t.kind WHEN 'h' THEN s.shard_relid::text ELSE t.relid::text END
         AS shard_name,
       1 AS shardstate,
       0::bigint AS shardlength,
       p.nodeid,
       nd.server_name,
       nd.host AS nodename,
       nd.port AS nodeport,
       pg_catalog.row_number() OVER (ORDER BY p.shardid, p.nodeid) AS placementid
  FROM shardfdw.placement p
  JOIN shardfdw.shard s USING (shardid)
  JOIN shardfdw.distributed_table t USING (relid)
  JOIN shardfdw.nodes nd USING (nodeid);
COMMENT ON VIEW public.citus_shard_placement
  IS 'Citus-compatible shard placements: one row per shard and node holding it (shardstate 1 = finalized; placementid is a row number, not a stable id)';

CREATE TYPE noderole AS ENUM ('primary', 'secondary', 'unavailable');
COMMENT ON TYPE noderole
  IS 'Citus-compatible node role of pg_dist_node (shardfdw nodes are all primary)';

CREATE VIEW public.pg_dist_node AS
SELECT nd.nodeid,
       nd.nodeid AS groupid,
       nd.host AS nodename,
       nd.port AS nodeport,
       'default'::text AS noderack,
       false AS hasmetadata,
       nd.active AS isactive,
       'primary'::pg_catalog.noderole AS noderole,
       'default'::name AS nodecluster,
       false AS metadatasynced,
       nd.should_have_shards AS shouldhaveshards,
       nd.server_name
  FROM shardfdw.nodes nd;
COMMENT ON VIEW public.pg_dist_node
  IS 'Citus-compatible view of shardfdw.nodes (groupid = nodeid; the coordinator is not a node)';

CREATE VIEW public.pg_dist_partition AS
SELECT t.relid AS logicalrelid,
       t.kind AS partmethod,
       CASE t.kind WHEN 'h' THEN
         pg_catalog.format('{VAR :varno 1 :varattno %s :vartype %s :vartypmod %s :varcollid %s :varlevelsup 0 :varnosyn 1 :varattnosyn %s :location -1}',
                           a.attnum, a.atttypid::oid, a.atttypmod, a.attcollation::oid, a.attnum)
       END AS partkey,
       t.colocationid,
       CASE t.kind WHEN 'h' THEN 's' ELSE 't' END::"char" AS repmodel,
       false AS autoconverted
  FROM shardfdw.distributed_table t
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = t.relid AND a.attnum = t.distribution_attnum AND t.kind = 'h';
COMMENT ON VIEW public.pg_dist_partition
  IS 'Citus-compatible view of shardfdw.distributed_table (partmethod h: hash, n: reference)';

CREATE VIEW public.pg_dist_shard AS
SELECT s.relid AS logicalrelid,
       s.shardid,
       't'::"char" AS shardstorage,
       NULL::text AS shardminvalue,
       NULL::text AS shardmaxvalue,
       s.shard_index,
       CASE t.kind WHEN 'h' THEN COALESCE(s.modulus, c.shard_count) END
         AS shard_modulus
  FROM shardfdw.shard s
  JOIN shardfdw.distributed_table t USING (relid)
  LEFT JOIN shardfdw.colocation c USING (colocationid);
COMMENT ON VIEW public.pg_dist_shard
  IS 'Citus-compatible view of shardfdw.shard; shards are hash partitions (REMAINDER shard_index, MODULUS shard_modulus), not token ranges, so shardminvalue and shardmaxvalue are NULL';

CREATE VIEW public.pg_dist_placement AS
SELECT placementid,
       shardid,
       shardstate,
       shardlength,
       nodeid AS groupid
  FROM public.citus_shard_placement;
COMMENT ON VIEW public.pg_dist_placement
  IS 'Citus-compatible view of shardfdw.placement (groupid = the node id)';

GRANT SELECT ON public.citus_shard_placement, public.pg_dist_node,
  public.pg_dist_partition, public.pg_dist_shard, public.pg_dist_placement
  TO PUBLIC;

--
-- Cluster-wide activity: the coordinator's rows and every worker's, read
-- through run_command_on_workers as one JSON array per worker.  A global pid
-- is nodeid * 10^10 + pid, the coordinator being node 0.
--
CREATE FUNCTION shardfdw.worker_rows(query text,
  OUT nodeid integer, OUT server_name name, OUT rows json)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT n.nodeid, w.server_name, w.success, w.result
      FROM pg_catalog.run_command_on_workers(
             pg_catalog.format('SELECT pg_catalog.json_agg(q) FROM (%s) q', query)) w
      JOIN shardfdw.node n ON n.server_name = w.server_name
     ORDER BY n.nodeid
  LOOP
    IF NOT r.success THEN
      RAISE WARNING 'could not read node "%": %', r.server_name, r.result
        USING ERRCODE = 'connection_failure',
              DETAIL = 'The rows of this node are missing from the result.';
      CONTINUE;
    END IF;
    nodeid := r.nodeid;
    server_name := r.server_name;
    rows := r.result::json;
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION shardfdw.worker_rows(text)
  IS 'the rows of a query run on every worker, as one JSON array per worker (a WARNING for an unreachable worker)';

CREATE FUNCTION citus_stat_activity(
  OUT global_pid bigint, OUT nodeid integer, OUT is_worker_query boolean,
  OUT datid oid, OUT datname name, OUT pid integer, OUT leader_pid integer,
  OUT usesysid oid, OUT usename name, OUT application_name text,
  OUT client_addr inet, OUT client_hostname text, OUT client_port integer,
  OUT backend_start timestamptz, OUT xact_start timestamptz,
  OUT query_start timestamptz, OUT state_change timestamptz,
  OUT wait_event_type text, OUT wait_event text, OUT state text,
  OUT backend_xid xid, OUT backend_xmin xid, OUT query_id bigint,
  OUT query text, OUT backend_type text, OUT server_name name)
RETURNS SETOF record
LANGUAGE sql VOLATILE
AS $$
SELECT a.pid::bigint, 0, false, a.datid, a.datname, a.pid, a.leader_pid,
       a.usesysid, a.usename, a.application_name, a.client_addr,
       a.client_hostname, a.client_port, a.backend_start, a.xact_start,
       a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.state,
       a.backend_xid, a.backend_xmin, a.query_id, a.query, a.backend_type,
       NULL::name
  FROM pg_catalog.pg_stat_activity a
UNION ALL
SELECT w.nodeid * 10000000000::bigint + a.pid, w.nodeid,
       COALESCE(a.application_name =
                COALESCE(shardfdw.server_option(w.server_name, 'application_name'),
                         'shardfdw'), false),
       a.datid, a.datname, a.pid, a.leader_pid,
       a.usesysid, a.usename, a.application_name, a.client_addr,
       a.client_hostname, a.client_port, a.backend_start, a.xact_start,
       a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.state,
       a.backend_xid, a.backend_xmin, a.query_id, a.query, a.backend_type,
       w.server_name
  FROM shardfdw.worker_rows(
         'SELECT * FROM pg_catalog.pg_stat_activity WHERE pid <> pg_catalog.pg_backend_pid()') w,
       pg_catalog.json_populate_recordset(NULL::pg_catalog.pg_stat_activity, w.rows) a
$$;
COMMENT ON FUNCTION citus_stat_activity()
  IS 'pg_stat_activity of the coordinator (node 0) and of every worker; global_pid = nodeid * 10^10 + pid; is_worker_query: a session shardfdw opened on a worker';

CREATE VIEW public.citus_stat_activity AS
SELECT * FROM pg_catalog.citus_stat_activity();
COMMENT ON VIEW public.citus_stat_activity
  IS 'Citus-compatible view of citus_stat_activity()';

-- Lock waits, per node: each waiting backend with each backend it waits
-- for (pg_blocking_pids); a prepared transaction holding the lock shows as
-- blocking pid 0.
CREATE FUNCTION shardfdw.lock_waits(
  OUT waiting_gpid bigint, OUT blocking_gpid bigint,
  OUT blocked_statement text, OUT current_statement_in_blocking_process text,
  OUT waiting_nodeid integer, OUT blocking_nodeid integer,
  OUT waiting_pid integer, OUT blocking_pid integer,
  OUT wait_event_type text, OUT wait_event text, OUT server_name name)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  pairs text := $q$
    SELECT w.pid AS waiting_pid, b.pid AS blocking_pid,
           w.query AS blocked_statement,
           CASE WHEN b.pid = 0 THEN '<prepared transaction>'
                ELSE bs.query END AS blocking_statement,
           w.wait_event_type, w.wait_event
      FROM pg_catalog.pg_stat_activity w
     CROSS JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(w.pid)) AS b(pid)
      LEFT JOIN pg_catalog.pg_stat_activity bs ON bs.pid = b.pid
     WHERE w.pid <> pg_catalog.pg_backend_pid()$q$;
BEGIN
  RETURN QUERY EXECUTE pg_catalog.format($q$
    SELECT p.waiting_pid::bigint, p.blocking_pid::bigint,
           p.blocked_statement, p.blocking_statement, 0, 0,
           p.waiting_pid, p.blocking_pid, p.wait_event_type, p.wait_event,
           NULL::name
      FROM (%s) p
    UNION ALL
    SELECT w.nodeid * 10000000000::bigint + p.waiting_pid,
           w.nodeid * 10000000000::bigint + p.blocking_pid,
           p.blocked_statement, p.blocking_statement, w.nodeid, w.nodeid,
           p.waiting_pid, p.blocking_pid, p.wait_event_type, p.wait_event,
           w.server_name
      FROM shardfdw.worker_rows(%L) w,
           pg_catalog.json_to_recordset(w.rows)
             AS p(waiting_pid integer, blocking_pid integer,
                  blocked_statement text, blocking_statement text,
                  wait_event_type text, wait_event text)$q$, pairs, pairs);
END
$$;
COMMENT ON FUNCTION shardfdw.lock_waits()
  IS 'backends waiting for a lock and the backends they wait for, on the coordinator (node 0) and on every worker';

CREATE VIEW public.citus_lock_waits AS
SELECT * FROM shardfdw.lock_waits();
COMMENT ON VIEW public.citus_lock_waits
  IS 'Citus-compatible view of shardfdw.lock_waits(): blocked / blocking pairs on every node';

-- Statement statistics: pg_stat_statements of the coordinator, when that
-- extension is installed in this database.
CREATE FUNCTION shardfdw.stat_statements(
  OUT queryid bigint, OUT userid oid, OUT dbid oid, OUT query text,
  OUT executor text, OUT partition_key text, OUT calls bigint,
  OUT total_time double precision, OUT mean_time double precision,
  OUT rows bigint)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  pss_schema name;
BEGIN
  SELECT n.nspname INTO pss_schema
    FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_stat_statements';
  IF pss_schema IS NULL THEN
    RAISE EXCEPTION 'citus_stat_statements needs the extension pg_stat_statements'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Add pg_stat_statements to shared_preload_libraries, restart, and run CREATE EXTENSION pg_stat_statements.';
  END IF;
  RETURN QUERY EXECUTE pg_catalog.format($q$
    SELECT s.queryid, s.userid, s.dbid, s.query, NULL::text, NULL::text,
           s.calls, s.total_exec_time, s.mean_exec_time, s.rows
      FROM %I.pg_stat_statements s
     WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                      WHERE datname = pg_catalog.current_database())$q$,
    pss_schema);
END
$$;
COMMENT ON FUNCTION shardfdw.stat_statements()
  IS 'pg_stat_statements rows of this database with Citus''s column names (executor and partition_key are NULL: not recorded by shardfdw)';

CREATE VIEW public.citus_stat_statements AS
SELECT * FROM shardfdw.stat_statements();
COMMENT ON VIEW public.citus_stat_statements
  IS 'Citus-compatible view of shardfdw.stat_statements() (needs pg_stat_statements)';

REVOKE ALL ON FUNCTION shardfdw.worker_rows(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION citus_stat_activity() FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw.lock_waits() FROM PUBLIC;

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
-- The statements this session's worker connections keep prepared for
-- router statements (shardfdw.max_cached_remote_statements).
CREATE FUNCTION shardfdw.cached_remote_statements(
    OUT server_name text, OUT statement_name text, OUT uses bigint,
    OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'shardfdw_cached_remote_statements'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.cached_remote_statements()
  IS 'statements of this session''s worker connections: server, prepared statement name on the worker (NULL: sent once, not prepared yet), times sent, SQL text with $n parameters';

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
  started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
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
-- Objects an operation creates on workers outside the coordinator's
-- transaction, recorded (and committed) before they exist; see
-- src/operations/cleanup.c.
CREATE TABLE shardfdw.cleanup (
  record_id bigserial PRIMARY KEY,
  operation_id bigint NOT NULL,
  object_type text NOT NULL CHECK (object_type IN ('shard', 'subscription', 'slot',
    'sync_slots', 'publication', 'replica_identity', 'session', 'function', 'table')),
  server_name name NOT NULL,
  object_name text NOT NULL,
  shardid bigint,
  policy text NOT NULL CHECK (policy IN ('on_failure', 'on_success', 'always')),
  created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE shardfdw.cleanup
  IS 'objects on workers to drop once their operation (job) is over: on_failure records are deleted when the operation succeeds, on_success records are added then';

-- One row per shard of a group being moved, written by the move job.
CREATE TABLE shardfdw.shard_move_state (
  job_id bigint NOT NULL,
  shardid bigint NOT NULL,
  relid regclass NOT NULL,
  shard_name text NOT NULL,
  source_server name NOT NULL,
  target_server name NOT NULL,
  mode text NOT NULL,
  method text NOT NULL,
  slot_name name,
  phase text NOT NULL,
  detail text,
  started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  phase_changed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  PRIMARY KEY (job_id, shardid)
);
COMMENT ON TABLE shardfdw.shard_move_state
  IS 'progress of running shard moves (see the view shardfdw.shard_moves)';
GRANT SELECT ON shardfdw.cleanup, shardfdw.shard_move_state TO PUBLIC;

CREATE FUNCTION shardfdw.move_remote_size(server name, shard_name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_move_remote_size'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.move_remote_size(name, text)
  IS 'total size in bytes of a table on a worker (0 if it does not exist)';

-- The coordinator's fold of the (N, Sx, Sxx) states of float variance /
-- stddev partials from the workers (two-phase aggregates), as a parallel
-- plan combines them
CREATE AGGREGATE shardfdw.float8_states(pg_catalog.float8[]) (
  SFUNC = pg_catalog.float8_combine,
  STYPE = pg_catalog.float8[],
  INITCOND = '{0,0,0}',
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE shardfdw.float8_states(pg_catalog.float8[])
  IS 'internal: combines (N, Sx, Sxx) states of float variance partials (float8_combine)';

CREATE FUNCTION shardfdw.move_replication_lag(server name, slot name)
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_move_replication_lag'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw.move_replication_lag(name, name)
  IS 'bytes of WAL of a worker not yet confirmed by the subscriber of a replication slot';

CREATE VIEW shardfdw.shard_moves AS
SELECT s.job_id,
       s.relid AS table_name,
       s.shardid,
       s.shard_name,
       s.source_server,
       s.target_server,
       s.mode AS shard_transfer_mode,
       s.method,
       s.phase,
       s.detail,
       shardfdw.move_remote_size(s.target_server, s.shard_name) AS bytes_copied,
       shardfdw.move_remote_size(s.source_server, s.shard_name) AS bytes_total,
       CASE WHEN s.method = 'logical'
            THEN shardfdw.move_replication_lag(s.source_server, s.slot_name) END AS lag_bytes,
       s.started_at,
       s.phase_changed_at
  FROM shardfdw.shard_move_state s
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                  AND ((l.classid::pg_catalog.int8 OPERATOR(pg_catalog.<<) 32)
                       OPERATOR(pg_catalog.|) l.objid::pg_catalog.int8)
                      = ((x'5346'::pg_catalog.int8 OPERATOR(pg_catalog.<<) 48)
                         OPERATOR(pg_catalog.|) s.job_id));
COMMENT ON VIEW shardfdw.shard_moves
  IS 'running shard moves, one row per table of the moved group: phase, bytes copied (target size) of the total (source size), replication lag';
GRANT SELECT ON shardfdw.shard_moves TO PUBLIC;

CREATE FUNCTION shardfdw_move_shard(shard_id bigint, target_server name,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_move_shard'
LANGUAGE C CALLED ON NULL INPUT;
COMMENT ON FUNCTION shardfdw_move_shard(bigint, name, text)
  IS 'move the shard group of a shard (shard i of every co-located table) to another worker node; modes auto, force_logical (online, logical replication) and block_writes';

CREATE FUNCTION citus_move_shard_placement(shard_id bigint,
  source_node_name text, source_node_port integer,
  target_node_name text, target_node_port integer,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_citus_move_shard_placement'
LANGUAGE C CALLED ON NULL INPUT;
COMMENT ON FUNCTION citus_move_shard_placement(bigint, text, integer, text, integer, text)
  IS 'Citus spelling of shardfdw_move_shard: the target node is the SERVER with this host and port';

CREATE FUNCTION shardfdw_cleanup_orphaned_resources()
RETURNS integer
AS 'MODULE_PATHNAME', 'shardfdw_cleanup_orphaned_resources'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_cleanup_orphaned_resources()
  IS 'drop the shard tables, subscriptions, replication slots and publications left on workers by failed or interrupted operations; returns how many were dropped';

CREATE PROCEDURE citus_cleanup_orphaned_resources()
LANGUAGE sql
AS $$ SELECT shardfdw_cleanup_orphaned_resources() $$;
COMMENT ON PROCEDURE citus_cleanup_orphaned_resources()
  IS 'Citus spelling of shardfdw_cleanup_orphaned_resources()';

REVOKE ALL ON FUNCTION shardfdw_move_shard(bigint, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION citus_move_shard_placement(bigint, text, integer, text, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw_cleanup_orphaned_resources() FROM PUBLIC;
REVOKE ALL ON PROCEDURE citus_cleanup_orphaned_resources() FROM PUBLIC;

-- (rebalance objects go here)
CREATE FUNCTION get_rebalance_plan(relation regclass DEFAULT NULL,
  threshold float4 DEFAULT 0,
  max_shard_moves integer DEFAULT 1000000,
  excluded_shard_list bigint[] DEFAULT '{}',
  drain_only boolean DEFAULT false,
  rebalance_strategy name DEFAULT 'by_shard_count',
  OUT table_name regclass, OUT shardid bigint, OUT shard_size bigint,
  OUT sourcename text, OUT targetname text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'shardfdw_get_rebalance_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION get_rebalance_plan(regclass, float4, integer, bigint[], boolean, name)
  IS 'the shard group moves rebalance_table_shards would make, one row per shard, in order (sourcename and targetname are SERVERs)';

CREATE FUNCTION get_rebalance_table_shards_plan(relation regclass DEFAULT NULL,
  threshold float4 DEFAULT 0,
  max_shard_moves integer DEFAULT 1000000,
  excluded_shard_list bigint[] DEFAULT '{}',
  drain_only boolean DEFAULT false,
  rebalance_strategy name DEFAULT 'by_shard_count',
  OUT table_name regclass, OUT shardid bigint, OUT shard_size bigint,
  OUT sourcename text, OUT targetname text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'shardfdw_get_rebalance_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION get_rebalance_table_shards_plan(regclass, float4, integer, bigint[], boolean, name)
  IS 'Citus-compatible name of get_rebalance_plan';

CREATE FUNCTION shardfdw_set_node_property(server name, property text, value boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_set_node_property'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_set_node_property(name, text, boolean)
  IS 'set a property of a worker node; the one property is shouldhaveshards';
REVOKE ALL ON FUNCTION shardfdw_set_node_property(name, text, boolean) FROM PUBLIC;

CREATE FUNCTION rebalance_table_shards(relation regclass DEFAULT NULL,
  threshold float4 DEFAULT NULL,
  max_shard_moves integer DEFAULT 1000000,
  excluded_shard_list bigint[] DEFAULT '{}',
  shard_transfer_mode text DEFAULT 'auto',
  drain_only boolean DEFAULT false,
  rebalance_strategy name DEFAULT 'by_shard_count')
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_rebalance_table_shards'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rebalance_table_shards(regclass, float4, integer, bigint[], text, boolean, name)
  IS 'move shard groups (each move a job committing on its own, in parallel across disjoint node pairs) until the nodes are balanced; not in a transaction block';

CREATE FUNCTION shardfdw_drain_node(server name, shard_transfer_mode text DEFAULT 'auto')
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_drain_node'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION shardfdw_drain_node(name, text)
  IS 'set should_have_shards = false on a node and move every shard group it holds to the other nodes, so that shardfdw_remove_node succeeds';

CREATE FUNCTION citus_drain_node(nodename text, nodeport integer,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_citus_drain_node'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION citus_drain_node(text, integer, text)
  IS 'Citus spelling of shardfdw_drain_node: the node is the SERVER with this host and port';

-- One row per shard group move of a background rebalance, written by the
-- rebalance job.
CREATE TABLE shardfdw.rebalance_move (
  job_id bigint NOT NULL,
  move_no integer NOT NULL,
  shardid bigint NOT NULL,
  table_names text NOT NULL,
  source_server name NOT NULL,
  target_server name NOT NULL,
  shard_size bigint NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'scheduled'
    CHECK (state IN ('scheduled', 'running', 'done', 'failed', 'cancelled')),
  move_job_id bigint,
  started_at timestamptz,
  finished_at timestamptz,
  error text,
  PRIMARY KEY (job_id, move_no)
);
COMMENT ON TABLE shardfdw.rebalance_move
  IS 'the planned shard group moves of background rebalances and their state (see rebalance_status())';
GRANT SELECT ON shardfdw.rebalance_move TO PUBLIC;

CREATE VIEW shardfdw.rebalance_status AS
SELECT j.jobid AS job_id,
       j.state,
       (SELECT pg_catalog.count(*) FROM shardfdw.rebalance_move m
         WHERE m.job_id = j.jobid)::integer AS moves_total,
       (SELECT pg_catalog.count(*) FROM shardfdw.rebalance_move m
         WHERE m.job_id = j.jobid AND m.state = 'done')::integer AS moves_done,
       (SELECT pg_catalog.count(*) FROM shardfdw.rebalance_move m
         WHERE m.job_id = j.jobid AND m.state = 'failed')::integer AS moves_failed,
       (SELECT pg_catalog.string_agg(pg_catalog.format('shard %s %s -> %s: %s',
                 m.shardid, m.source_server, m.target_server,
                 COALESCE(mj.phase, mj.state)), '; ' ORDER BY m.move_no)
          FROM shardfdw.rebalance_move m
          JOIN shardfdw.jobs mj ON mj.jobid = m.move_job_id
         WHERE m.job_id = j.jobid AND mj.state = 'running') AS current_moves,
       j.started_at,
       j.finished_at,
       j.error_message AS error,
       j.args AS options
  FROM shardfdw.jobs j
 WHERE j.kind = 'rebalance';
COMMENT ON VIEW shardfdw.rebalance_status
  IS 'background rebalances: state (running, done, failed, cancelled, interrupted), moves done of the total, the moves running now and their phase, the error';
GRANT SELECT ON shardfdw.rebalance_status TO PUBLIC;

CREATE FUNCTION rebalance_start(relation regclass DEFAULT NULL,
  threshold float4 DEFAULT NULL,
  max_shard_moves integer DEFAULT 1000000,
  excluded_shard_list bigint[] DEFAULT '{}',
  shard_transfer_mode text DEFAULT 'auto',
  drain_only boolean DEFAULT false,
  rebalance_strategy name DEFAULT 'by_shard_count')
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_rebalance_start'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rebalance_start(regclass, float4, integer, bigint[], text, boolean, name)
  IS 'start a rebalance in a background job that survives this session; returns its job id (NULL if nothing needs to move)';

CREATE FUNCTION citus_rebalance_start(rebalance_strategy name DEFAULT 'by_shard_count',
  drain_only boolean DEFAULT false,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS bigint
LANGUAGE sql VOLATILE
AS $$ SELECT pg_catalog.rebalance_start(rebalance_strategy => rebalance_strategy,
       drain_only => drain_only, shard_transfer_mode => shard_transfer_mode) $$;
COMMENT ON FUNCTION citus_rebalance_start(name, boolean, text)
  IS 'Citus spelling of rebalance_start (every co-location group)';

CREATE FUNCTION rebalance_status()
RETURNS SETOF shardfdw.rebalance_status
LANGUAGE sql STABLE
AS $$ SELECT * FROM shardfdw.rebalance_status ORDER BY job_id $$;
COMMENT ON FUNCTION rebalance_status()
  IS 'the rows of the view shardfdw.rebalance_status, oldest job first';

CREATE FUNCTION citus_rebalance_status()
RETURNS SETOF shardfdw.rebalance_status
LANGUAGE sql STABLE
AS $$ SELECT * FROM shardfdw.rebalance_status ORDER BY job_id $$;
COMMENT ON FUNCTION citus_rebalance_status()
  IS 'Citus spelling of rebalance_status() (with shardfdw''s columns)';

CREATE FUNCTION rebalance_wait(job_id bigint DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_rebalance_wait'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rebalance_wait(bigint)
  IS 'wait until a background rebalance (default: the latest) is over; its error if it failed';

CREATE FUNCTION citus_rebalance_wait()
RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT pg_catalog.rebalance_wait() $$;
COMMENT ON FUNCTION citus_rebalance_wait()
  IS 'Citus spelling of rebalance_wait()';

CREATE FUNCTION rebalance_stop(job_id bigint DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'shardfdw_rebalance_stop'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rebalance_stop(bigint)
  IS 'stop the running background rebalance: its running moves are cancelled (each leaves its group moved or where it was), the others not started';

CREATE FUNCTION citus_rebalance_stop()
RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT pg_catalog.rebalance_stop() $$;
COMMENT ON FUNCTION citus_rebalance_stop()
  IS 'Citus spelling of rebalance_stop()';

REVOKE ALL ON FUNCTION rebalance_table_shards(regclass, float4, integer, bigint[], text, boolean, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw_drain_node(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION citus_drain_node(text, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rebalance_start(regclass, float4, integer, bigint[], text, boolean, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION citus_rebalance_start(name, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rebalance_stop(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION citus_rebalance_stop() FROM PUBLIC;

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
  IS 'replace the shard (MODULUS m, REMAINDER r) of every table of its co-location group by two shards (MODULUS 2m, REMAINDER r and r + m) on the same node, as a job (shard_transfer_mode auto and force_logical: online, writes go on during the copy; block_writes: writes wait); returns the new shard ids of the shard''s table';

CREATE FUNCTION shardfdw_isolate_tenant(table_name regclass, tenant text,
  shard_transfer_mode text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'shardfdw_isolate_tenant'
LANGUAGE C STRICT;
COMMENT ON FUNCTION shardfdw_isolate_tenant(regclass, text, text)
  IS 'split the shard holding a distribution column value until no other value shares it (one split job per split, in the given mode); returns that shard''s id';

REVOKE ALL ON FUNCTION shardfdw_split_shard(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION shardfdw_isolate_tenant(regclass, text, text) FROM PUBLIC;
