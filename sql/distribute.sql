--
-- distribute: create_distributed_table and undistribute_table
--
-- Shard ids, co-location ids, hosts, ports and sizes vary between runs and
-- are never printed; tests compare them instead.
\set VERBOSITY terse

-- the ad platform of seed 004: tables with foreign keys, then distributed
-- one by one in the seed's order
CREATE TABLE companies (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  image_url text,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE TABLE campaigns (
  id bigserial,
  company_id bigint REFERENCES companies (id),
  name text NOT NULL,
  cost_model text NOT NULL,
  state text NOT NULL,
  monthly_budget bigint,
  blacklisted_site_urls text[],
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  PRIMARY KEY (company_id, id)
);
CREATE TABLE ads (
  id bigserial,
  company_id bigint,
  campaign_id bigint,
  name text NOT NULL,
  image_url text,
  target_url text,
  impressions_count bigint DEFAULT 0,
  clicks_count bigint DEFAULT 0,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  PRIMARY KEY (company_id, id),
  FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id)
);
CREATE INDEX ads_name_idx ON ads (name) WHERE clicks_count > 0;
COMMENT ON TABLE companies IS 'tenants';
COMMENT ON COLUMN companies.name IS 'display name';
CREATE ROLE regress_sf_reader;
GRANT SELECT ON companies TO regress_sf_reader;
GRANT UPDATE (name) ON companies TO regress_sf_reader;

INSERT INTO companies (name, created_at, updated_at)
SELECT 'company ' || i, '2026-01-01', '2026-01-02' FROM generate_series(1, 100) i;
INSERT INTO campaigns (company_id, name, cost_model, state, created_at, updated_at)
SELECT i % 100 + 1, 'campaign ' || i, 'cpc', 'running', '2026-01-01', '2026-01-02'
  FROM generate_series(1, 300) i;
INSERT INTO ads (company_id, campaign_id, name, created_at, updated_at)
SELECT company_id, id, 'ad ' || id, '2026-01-01', '2026-01-02' FROM campaigns;

SELECT create_distributed_table('companies', 'id');
SELECT create_distributed_table('campaigns', 'company_id');
SELECT create_distributed_table('ads', 'company_id');

-- what users see
SELECT table_name, citus_table_type, distribution_column, shard_count, table_owner, access_method
  FROM citus_tables ORDER BY table_name::text;
SELECT count(DISTINCT colocation_id) AS colocation_groups FROM citus_tables;
SELECT table_name, count(*) AS shards, count(DISTINCT nodename) AS nodes
  FROM citus_shards GROUP BY table_name ORDER BY table_name::text;
SELECT table_name, server_name, count(*) AS shard_count
  FROM shardfdw.shards GROUP BY table_name, server_name ORDER BY table_name::text, server_name;
SELECT server_name, shard_count FROM shardfdw.nodes ORDER BY server_name;
SELECT bool_and(table_size IS NOT NULL) AS sizes_known FROM shardfdw.tables;
SELECT bool_and(shard_size > 0) AS shard_sizes_known FROM citus_shards;
-- co-located: shard i of every table on the same node
SELECT count(*) AS misplaced
  FROM shardfdw.shard a JOIN shardfdw.placement pa USING (shardid),
       shardfdw.shard b JOIN shardfdw.placement pb ON pb.shardid = b.shardid
 WHERE a.relid = 'companies'::regclass AND b.relid <> a.relid
   AND a.shard_index = b.shard_index AND pa.nodeid <> pb.nodeid;
-- foreign keys: all created on the shards now
SELECT conname, relid, refrelid, columns, refcolumns, created
  FROM shardfdw.pending_fkey ORDER BY conname;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text ~ '^(campaigns|ads)_\d+$'$$)
 ORDER BY 1;

-- the rows moved; every row is on the shard its hash says
SELECT count(*) FROM companies;
SELECT count(*) FROM campaigns;
SELECT count(*) FROM ads;
CREATE TABLE local_hash (id bigint) PARTITION BY HASH (id);
SELECT format('CREATE TABLE local_hash_%s PARTITION OF local_hash FOR VALUES WITH (MODULUS 32, REMAINDER %s)', i, i)
  FROM generate_series(0, 31) i \gexec
INSERT INTO local_hash SELECT id FROM companies;
CREATE TEMP TABLE worker_counts AS
SELECT s.shard_index,
       (SELECT r.result::bigint FROM run_command_on_workers(format('SELECT count(*) FROM %s', s.shard_relid)) r
         WHERE r.server_name = n.server_name) AS cnt
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.relid = 'companies'::regclass;
SELECT count(*) AS shards, sum(cnt) AS rows_on_workers,
       count(*) FILTER (WHERE cnt = (SELECT count(*) FROM local_hash
                                      WHERE tableoid = format('local_hash_%s', shard_index)::regclass)) AS matching
  FROM worker_counts;

-- rows inserted through the coordinator land on the right shard too
INSERT INTO companies (name, created_at, updated_at)
SELECT 'late ' || i, '2026-02-01', '2026-02-01' FROM generate_series(1, 50) i;
SELECT max(id) FROM companies;
TRUNCATE local_hash;
INSERT INTO local_hash SELECT id FROM companies;
DROP TABLE worker_counts;
CREATE TEMP TABLE worker_counts AS
SELECT s.shard_index,
       (SELECT r.result::bigint FROM run_command_on_workers(format('SELECT count(*) FROM %s', s.shard_relid)) r
         WHERE r.server_name = n.server_name) AS cnt
  FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.relid = 'companies'::regclass;
SELECT sum(cnt) AS rows_on_workers,
       count(*) FILTER (WHERE cnt = (SELECT count(*) FROM local_hash
                                      WHERE tableoid = format('local_hash_%s', shard_index)::regclass)) AS matching
  FROM worker_counts;

-- defaults, NOT NULL, CHECK, comments, grants and the owner carried over
\d companies
SELECT obj_description('companies'::regclass, 'pg_class') AS table_comment,
       col_description('companies'::regclass, 2) AS column_comment;
SELECT has_table_privilege('regress_sf_reader', 'companies', 'SELECT') AS can_select,
       has_table_privilege('regress_sf_reader', 'companies', 'INSERT') AS can_insert,
       has_column_privilege('regress_sf_reader', 'companies', 'name', 'UPDATE') AS can_update_name;
SELECT pg_get_serial_sequence('companies', 'id') AS owned_sequence;
SELECT * FROM shardfdw.shard_ddl ORDER BY relid::text, name;

-- constraints are enforced by the shards
DO $$
BEGIN
  INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at)
  SELECT id, company_id, 'dup', 'cpc', 'x', now(), now() FROM campaigns WHERE company_id = 7 LIMIT 1;
EXCEPTION WHEN unique_violation THEN RAISE NOTICE 'unique violation on the shard';
END $$;
DO $$
BEGIN
  INSERT INTO ads (company_id, campaign_id, name, created_at, updated_at)
  VALUES (7, -1, 'orphan', now(), now());
EXCEPTION WHEN foreign_key_violation THEN RAISE NOTICE 'foreign key violation on the shard';
END $$;
DO $$
BEGIN
  INSERT INTO companies (name, created_at, updated_at) VALUES (NULL, now(), now());
EXCEPTION WHEN not_null_violation THEN RAISE NOTICE 'not-null violation';
END $$;

-- the primary key is known to the coordinator (without an index), so
-- GROUP BY the key may select the other columns, as on a local table
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'companies'::regclass ORDER BY 1;
SELECT c.id, c.name, count(*) AS campaigns
  FROM companies c JOIN campaigns p ON p.company_id = c.id
 WHERE c.id IN (3, 4) GROUP BY c.id ORDER BY c.id;

-- a foreign key of a local table to a distributed table waits in the
-- catalog; a placeholder constraint of the same name lets users drop it,
-- as seed 003 does before distributing
CREATE TABLE stores (store_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (store_id bigint REFERENCES stores, id bigint, PRIMARY KEY (store_id, id));
CREATE TABLE order_lines (store_id bigint REFERENCES stores, id bigint, PRIMARY KEY (store_id, id));
SELECT create_distributed_table('stores', 'store_id', shard_count => 4);
\d orders
ALTER TABLE orders DROP CONSTRAINT orders_store_id_fkey;
SELECT create_distributed_table('orders', 'store_id', colocate_with => 'stores');
SELECT create_distributed_table('order_lines', 'store_id', colocate_with => 'stores');
SELECT conname, relid, refrelid, created FROM shardfdw.pending_fkey
 WHERE refrelid = 'stores'::regclass ORDER BY 1;
SELECT undistribute_table('orders');
SELECT undistribute_table('order_lines');
\d order_lines
SELECT undistribute_table('stores');
\d order_lines
DROP TABLE order_lines, orders, stores;

-- CHECK constraints, enums and colocate_with / shard_count
CREATE TYPE regress_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE moods (
  company_id bigint NOT NULL,
  mood regress_mood NOT NULL DEFAULT 'ok',
  score int CHECK (score BETWEEN 0 AND 10),
  note varchar(20) COLLATE "C"
);
INSERT INTO moods VALUES (1, 'happy', 9, 'x'), (2, 'sad', 1, 'y');
SELECT create_distributed_table('moods', 'company_id', colocate_with => 'companies');
SELECT (SELECT colocation_id FROM citus_tables WHERE table_name = 'moods'::regclass) =
       (SELECT colocation_id FROM citus_tables WHERE table_name = 'companies'::regclass) AS colocated;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT pg_catalog.format_type(atttypid, atttypmod) || ' ' || (SELECT collname FROM pg_collation WHERE oid = attcollation)
      FROM pg_attribute WHERE attrelid = (SELECT min(oid) FROM pg_class WHERE relname ~ '^moods_\d+$') AND attname = 'note'$$)
 ORDER BY 1;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'public.regress_mood'::regtype$$)
 ORDER BY 1;
SELECT * FROM moods ORDER BY company_id;
DO $$
BEGIN
  INSERT INTO moods VALUES (3, 'ok', 11, 'z');
EXCEPTION WHEN check_violation THEN RAISE NOTICE 'check violation';
END $$;
SELECT create_distributed_table('moods2', 'company_id');
CREATE TABLE moods2 (LIKE moods);
SELECT create_distributed_table('moods2', 'company_id', colocate_with => 'none', shard_count => 4);
SELECT table_name, shard_count FROM citus_tables WHERE table_name::text LIKE 'moods%' ORDER BY table_name::text;
SELECT (SELECT colocation_id FROM citus_tables WHERE table_name = 'moods2'::regclass) <>
       (SELECT colocation_id FROM citus_tables WHERE table_name = 'moods'::regclass) AS separate_group;

-- long names: shard names are clipped to 63 bytes
CREATE TABLE this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes (id int PRIMARY KEY);
SELECT create_distributed_table('this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes', 'id', shard_count => 2);
SELECT bool_and(length(shard_name) <= 63) AS short_enough, count(*)
  FROM citus_shards WHERE table_name::text LIKE 'this_is_a_rather%';
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relname ~ '^this_is_a_rather_long.*_[0-9a-f]{8}_\d+$' AND relkind = 'r'$$)
 ORDER BY 1;
INSERT INTO this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes VALUES (1), (2), (3);
SELECT count(*) FROM this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes;

-- Citus compatibility functions
CREATE TABLE conc (id int PRIMARY KEY, v text);
INSERT INTO conc VALUES (1, 'one');
SELECT create_distributed_table_concurrently('conc', 'id', shard_count => 2);
SELECT truncate_local_data_after_distributing_table('conc');
SELECT * FROM conc;

-- undistribute: back to plain tables with rows, constraints, indexes, keys
SELECT undistribute_table('companies');
SELECT undistribute_table('ads');
SELECT undistribute_table('campaigns');
SELECT undistribute_table('companies');
\d ads
\d companies
SELECT count(*) FROM companies;
SELECT count(*) FROM campaigns;
SELECT count(*) FROM ads;
INSERT INTO companies (name, created_at, updated_at) VALUES ('after', now(), now()) RETURNING id;
SELECT has_table_privilege('regress_sf_reader', 'companies', 'SELECT') AS can_select;
SELECT obj_description('companies'::regclass, 'pg_class') AS table_comment;
SELECT undistribute_table('moods');
SELECT undistribute_table('moods2');
SELECT undistribute_table('this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes');
SELECT undistribute_table('conc');
SELECT * FROM moods ORDER BY company_id;
SELECT undistribute_table('moods');

-- nothing left behind
SELECT count(*) FROM shardfdw.distributed_table;
SELECT count(*) FROM shardfdw.shard;
SELECT count(*) FROM shardfdw.colocation;
SELECT count(*) FROM shardfdw.pending_fkey;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relname ~ '_\d{6,}$'$$) ORDER BY 1;

DROP TABLE ads, campaigns, companies, moods, moods2, conc, local_hash,
  this_is_a_rather_long_table_name_that_fills_up_most_of_63_bytes;
DROP TYPE regress_mood;
DROP ROLE regress_sf_reader;
