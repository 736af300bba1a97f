--
-- reference: create_reference_table and the replication triggers
--
\set VERBOSITY terse

-- seed 004's geo_ips
CREATE TABLE geo_ips (
  addrs cidr NOT NULL PRIMARY KEY,
  latlon point NOT NULL
    CHECK (-90  <= latlon[0] AND latlon[0] <= 90 AND
           -180 <= latlon[1] AND latlon[1] <= 180)
);
CREATE INDEX ON geo_ips USING gist (addrs inet_ops);
INSERT INTO geo_ips VALUES ('10.0.0.0/8', '(1,2)'), ('192.168.0.0/16', '(3,4)');
SELECT create_reference_table('geo_ips');

SELECT table_name, citus_table_type, distribution_column, shard_count
  FROM citus_tables WHERE table_name = 'geo_ips'::regclass;
SELECT shard_name, citus_table_type, count(*) AS placements
  FROM citus_shards WHERE table_name = 'geo_ips'::regclass GROUP BY 1, 2;

-- the replicas: same name, rows, constraints and indexes
CREATE FUNCTION replica_rows() RETURNS TABLE (server_name name, result text)
LANGUAGE sql AS $f$
  SELECT server_name, result FROM run_command_on_workers(
    $$SELECT string_agg(addrs::text || ' ' || latlon::text, ', ' ORDER BY addrs) FROM public.geo_ips$$)
   ORDER BY 1
$f$;
SELECT * FROM replica_rows();
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'geo_ips'$$)
 ORDER BY 1;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(conname || ' ' || contype::text, ', ' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.geo_ips'::regclass$$)
 ORDER BY 1;

-- every statement is replicated, in the same transaction
INSERT INTO geo_ips VALUES ('172.16.0.0/12', '(5,6)'), ('11.0.0.0/8', '(0,0)');
SELECT * FROM replica_rows();
UPDATE geo_ips SET latlon = '(7,8)' WHERE addrs = '10.0.0.0/8';
SELECT * FROM replica_rows();
UPDATE geo_ips SET addrs = '12.0.0.0/8' WHERE addrs = '11.0.0.0/8';
SELECT * FROM replica_rows();
DELETE FROM geo_ips WHERE addrs = '192.168.0.0/16';
SELECT * FROM replica_rows();
COPY geo_ips FROM stdin;
13.0.0.0/8	(1,1)
14.0.0.0/8	(2,2)
\.
SELECT * FROM replica_rows();
INSERT INTO geo_ips VALUES ('13.0.0.0/8', '(9,9)')
  ON CONFLICT (addrs) DO UPDATE SET latlon = excluded.latlon;
SELECT * FROM replica_rows();
BEGIN;
INSERT INTO geo_ips VALUES ('15.0.0.0/8', '(0,0)');
DELETE FROM geo_ips WHERE addrs = '14.0.0.0/8';
ROLLBACK;
SELECT * FROM replica_rows();
BEGIN;
DELETE FROM geo_ips WHERE addrs = '14.0.0.0/8';
SAVEPOINT s1;
INSERT INTO geo_ips VALUES ('16.0.0.0/8', '(0,0)');
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT * FROM replica_rows();
-- a failing statement leaves the replicas unchanged
INSERT INTO geo_ips VALUES ('99.0.0.0/8', '(0,500)');
SELECT count(*) FROM geo_ips;

-- many rows: batched deletes
INSERT INTO geo_ips SELECT format('%s.%s.0.0/16', 100 + i / 250, i % 250)::cidr, '(0,0)'
  FROM generate_series(0, 2499) i;
SELECT server_name, result FROM run_command_on_workers('SELECT count(*) FROM public.geo_ips') ORDER BY 1;
DELETE FROM geo_ips WHERE addrs << '100.0.0.0/6';
SELECT count(*) FROM geo_ips;
SELECT server_name, result FROM run_command_on_workers('SELECT count(*) FROM public.geo_ips') ORDER BY 1;

-- a table without a key: UPDATE and DELETE resynchronise the replicas
CREATE TABLE ref_nokey (a int, b text);
INSERT INTO ref_nokey VALUES (1, 'a'), (2, 'b'), (2, 'b');
SELECT create_reference_table('ref_nokey');
UPDATE ref_nokey SET b = 'z' WHERE a = 1;
DELETE FROM ref_nokey WHERE a = 2;
INSERT INTO ref_nokey VALUES (3, 'c');
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(a || b, ',' ORDER BY a) FROM public.ref_nokey$$) ORDER BY 1;
TRUNCATE ref_nokey;
SELECT server_name, result FROM run_command_on_workers('SELECT count(*) FROM public.ref_nokey') ORDER BY 1;

-- schemas, enums and foreign keys between reference tables
CREATE SCHEMA refs;
CREATE TYPE refs.kind AS ENUM ('x', 'y');
CREATE TABLE refs.kinds (k refs.kind PRIMARY KEY, label text);
CREATE TABLE refs.items (id int PRIMARY KEY, k refs.kind REFERENCES refs.kinds (k));
INSERT INTO refs.kinds VALUES ('x', 'ex'), ('y', 'why');
INSERT INTO refs.items VALUES (1, 'x'), (2, 'y');
SELECT create_reference_table('refs.kinds');
SELECT create_reference_table('refs.items');
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(id || ':' || k, ',' ORDER BY id) FROM refs.items$$) ORDER BY 1;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_constraint WHERE conrelid = 'refs.items'::regclass AND contype = 'f'$$) ORDER BY 1;

-- a distributed table referencing a reference table: checked on the shards
CREATE TABLE clicks (
  id bigserial,
  company_id bigint NOT NULL,
  net cidr REFERENCES geo_ips (addrs),
  PRIMARY KEY (company_id, id)
);
INSERT INTO clicks (company_id, net) VALUES (1, '10.0.0.0/8'), (2, '12.0.0.0/8');
SELECT create_distributed_table('clicks', 'company_id', shard_count => 4);
SELECT conname, relid, refrelid, created FROM shardfdw.pending_fkey;
DO $$
BEGIN
  INSERT INTO clicks (company_id, net) VALUES (3, '99.0.0.0/8');
EXCEPTION WHEN foreign_key_violation THEN RAISE NOTICE 'foreign key violation on the shard';
END $$;
INSERT INTO clicks (company_id, net) VALUES (3, '13.0.0.0/8');
SELECT count(*) FROM clicks;
-- the replica refuses to lose a referenced row
DO $$
BEGIN
  DELETE FROM geo_ips WHERE addrs = '10.0.0.0/8';
EXCEPTION WHEN foreign_key_violation THEN RAISE NOTICE 'foreign key violation on the replica';
END $$;
SELECT count(*) FROM geo_ips WHERE addrs = '10.0.0.0/8';
-- a reference table cannot be undistributed while shards reference it
SELECT undistribute_table('geo_ips');

-- cleanup; undistribute restores plain tables
SELECT undistribute_table('clicks');
\d clicks
SELECT undistribute_table('geo_ips');
\d geo_ips
SELECT count(*) FROM geo_ips;
SELECT undistribute_table('refs.items');
SELECT undistribute_table('refs.kinds');
SELECT undistribute_table('ref_nokey');
SELECT count(*) FROM shardfdw.distributed_table;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_tables WHERE tablename IN ('geo_ips', 'ref_nokey', 'kinds', 'items')$$) ORDER BY 1;
DROP TABLE clicks, geo_ips, ref_nokey;
DROP FUNCTION replica_rows();
DROP SCHEMA refs CASCADE;
