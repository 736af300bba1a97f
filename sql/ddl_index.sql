--
-- ddl_index: CREATE INDEX / DROP INDEX / REINDEX on distributed and
-- reference tables (commands layer, index.c).  Indexes of a distributed
-- table live on its shards as <index>_<shardid>; output replaces shard ids
-- with N.
--
\set VERBOSITY terse
CREATE SCHEMA ddl_index;
SET search_path = ddl_index, public;

-- index definitions on the workers' tables of schema ddl_index, shard ids
-- replaced by N, with the number of shards / replicas having each
CREATE FUNCTION public.ddl_worker_indexes(tbl text)
RETURNS TABLE (indexdef text, placements bigint)
LANGUAGE sql AS $f$
  SELECT d, sum(n)::bigint FROM (
    SELECT split_part(r, '|', 1) AS d, split_part(r, '|', 2)::bigint AS n
      FROM run_command_on_workers(format(
        $$SELECT string_agg(d || '|' || n, E'\n') FROM
           (SELECT regexp_replace(indexdef, '_[0-9]{6,}', '_N', 'g') AS d, count(*) AS n
              FROM pg_indexes WHERE schemaname = 'ddl_index'
               AND regexp_replace(tablename, '_[0-9]{6,}$', '') = %L GROUP BY 1) x$$, tbl)) w,
           regexp_split_to_table(w.result, E'\n') r
     WHERE w.result IS NOT NULL) y
  GROUP BY d ORDER BY d
$f$;

-- seed 001's tables and its post-distribution CREATE INDEX, unchanged
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE events (
    id bigserial,
    owner_id bigint NOT NULL,
    event_type text NOT NULL,
    payload jsonb,
    created_at timestamptz DEFAULT now(),
    PRIMARY KEY (owner_id, id)
);
SELECT create_distributed_table('users', 'id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('events', 'owner_id', colocate_with => 'users');
INSERT INTO users (id, email) SELECT i, 'u' || i || '@x' FROM generate_series(1, 20) i;
INSERT INTO events (owner_id, event_type, payload)
  SELECT i % 20 + 1, 't' || i % 3, jsonb_build_object('k', i, 'is_mobile', i % 2 = 0)
    FROM generate_series(1, 200) i;

CREATE INDEX events_owner_created_idx ON events(owner_id, created_at);
CREATE INDEX events_owner_type_idx ON events(owner_id, event_type);
CREATE INDEX users_id_email_idx ON users(id, email);

SELECT * FROM ddl_worker_indexes('events');
SELECT * FROM ddl_worker_indexes('users');
-- the coordinator's parent has no index; the catalog and the view know them
SELECT count(*) AS parent_indexes FROM pg_indexes WHERE schemaname = 'ddl_index';
SELECT table_name, object_name, object_type, lives_on, definition
  FROM shardfdw.table_objects WHERE table_name IN ('events'::regclass, 'users'::regclass)
 ORDER BY 1::text, 2;

-- every index kind, with and without a name
CREATE INDEX events_type_hash ON events USING hash (event_type);
CREATE INDEX ON events USING gin (payload);
CREATE INDEX events_payload_path ON events USING gin (payload jsonb_path_ops);
CREATE INDEX events_created_brin ON events USING brin (created_at);
CREATE INDEX events_lower_type ON events (lower(event_type)) INCLUDE (payload);
CREATE INDEX events_mobile ON events ((payload->>'is_mobile')) WHERE owner_id = 5;
CREATE INDEX events_desc ON events (owner_id DESC NULLS LAST, id) WITH (fillfactor = 70);
CREATE TABLE ips (owner_id int, net inet);
SELECT create_distributed_table('ips', 'owner_id', shard_count => 2);
CREATE INDEX ips_net ON ips USING gist (net inet_ops);
CREATE UNIQUE INDEX events_owner_id_uniq ON events (id, owner_id);
CREATE UNIQUE INDEX CONCURRENTLY events_owner_id_uniq2 ON events (owner_id, id);
SELECT * FROM ddl_worker_indexes('events');
SELECT * FROM ddl_worker_indexes('ips');
SELECT count(*) AS parent_indexes FROM pg_indexes WHERE schemaname = 'ddl_index';

-- the unique index is enforced (on the shard of the row)
DO $$
BEGIN
  INSERT INTO events (id, owner_id, event_type) VALUES (1, 2, 'dup');
  INSERT INTO events (id, owner_id, event_type) VALUES (1, 2, 'dup');
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;
-- errors, before anything changes
\set VERBOSITY default
CREATE UNIQUE INDEX events_id_uniq ON events (id);
CREATE UNIQUE INDEX events_expr_uniq ON events ((owner_id + 0), id);
CREATE UNIQUE INDEX events_nnd ON events (owner_id, id) NULLS NOT DISTINCT;
CREATE INDEX events_owner_type_idx ON events (event_type);
\set VERBOSITY terse
CREATE INDEX IF NOT EXISTS events_owner_type_idx ON events (event_type);
CREATE INDEX events_bad ON events (no_such_column);
CREATE INDEX events_bad ON events USING no_such_am (id);
SELECT count(*) AS catalog_rows FROM shardfdw.shard_ddl WHERE relid = 'events'::regclass;

-- CREATE INDEX CONCURRENTLY builds on the shards concurrently, outside any
-- transaction block; a failure leaves an invalid index that DROP INDEX
-- removes, as in PostgreSQL
BEGIN;
CREATE INDEX CONCURRENTLY events_in_block ON events (event_type);
ROLLBACK;
CREATE INDEX CONCURRENTLY events_conc ON events (created_at);
SELECT * FROM ddl_worker_indexes('events') WHERE indexdef LIKE '%events_conc%';
CREATE UNIQUE INDEX CONCURRENTLY events_dup ON events (owner_id, event_type);
SELECT name, kind FROM shardfdw.shard_ddl WHERE name = 'events_dup';
SELECT server_name, result FROM run_command_on_workers($$
  SELECT count(*) FILTER (WHERE i.indisvalid) || ' valid, ' || count(*) FILTER (WHERE NOT i.indisvalid) || ' invalid'
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relnamespace = 'ddl_index'::regnamespace AND c.relname LIKE 'events\_dup\_%'$$) ORDER BY 1;
DROP INDEX events_dup;
SELECT server_name, result FROM run_command_on_workers($$
  SELECT count(*) FROM pg_class c
   WHERE c.relnamespace = 'ddl_index'::regnamespace AND c.relname LIKE 'events\_dup\_%'$$) ORDER BY 1;
DROP INDEX events_conc;

-- rolled back: nothing left on the shards or in the catalog
BEGIN;
CREATE INDEX events_rolled_back ON events (event_type);
SELECT count(*) AS in_catalog FROM shardfdw.shard_ddl WHERE name = 'events_rolled_back';
ROLLBACK;
SELECT count(*) AS in_catalog FROM shardfdw.shard_ddl WHERE name = 'events_rolled_back';
SELECT count(*) AS on_workers FROM ddl_worker_indexes('events') WHERE indexdef LIKE '%rolled_back%';

-- a worker rejects the index of the last shard: every shard and the
-- catalog are unchanged
SELECT 'events_conflict_' || max(shardid) AS conflict FROM shardfdw.shard
 WHERE relid = 'events'::regclass \gset
SELECT success FROM run_command_on_workers(format(
  'CREATE TABLE ddl_index.%I (x int)', :'conflict'));
DO $$
BEGIN
  CREATE INDEX events_conflict ON events (created_at);
EXCEPTION WHEN duplicate_table THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;
SELECT count(*) AS in_catalog FROM shardfdw.shard_ddl WHERE name = 'events_conflict';
SELECT count(*) AS on_workers FROM ddl_worker_indexes('events') WHERE indexdef LIKE '%events_conflict%';
SELECT success FROM run_command_on_workers(format('DROP TABLE ddl_index.%I', :'conflict'));

-- DROP INDEX
DROP INDEX events_type_hash;
DROP INDEX ddl_index.events_desc, events_payload_path;
DROP INDEX IF EXISTS events_no_such_index;
DROP INDEX events_no_such_index;
\set VERBOSITY default
DROP INDEX events_pkey;
\set VERBOSITY terse
-- a list mixing a local index and a shard index
CREATE TABLE plain (a int);
CREATE INDEX plain_a ON plain (a);
DROP INDEX plain_a, events_created_brin;
DROP TABLE plain;
SELECT * FROM ddl_worker_indexes('events');
SELECT object_name FROM shardfdw.table_objects WHERE table_name = 'events'::regclass ORDER BY 1;
-- the name is free again
CREATE INDEX events_type_hash ON events (event_type);
DROP INDEX events_type_hash;

-- seed 002's primary key swap, after distribution: the unique index
-- becomes the primary key on every shard
BEGIN;
ALTER TABLE events
    DROP CONSTRAINT events_pkey CASCADE,
    ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_owner_id_uniq2;
COMMIT;
SELECT object_name, object_type, definition FROM shardfdw.table_objects
 WHERE table_name = 'events'::regclass AND object_name LIKE 'events\_p%' ORDER BY 1;
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'events'::regclass;
SELECT * FROM ddl_worker_indexes('events') WHERE indexdef LIKE '%UNIQUE%';
\set VERBOSITY default
ALTER TABLE events ADD CONSTRAINT events_pk2 PRIMARY KEY USING INDEX events_owner_id_uniq;
ALTER TABLE events ADD CONSTRAINT events_u UNIQUE USING INDEX events_owner_created_idx;
\set VERBOSITY terse

-- REINDEX
REINDEX TABLE events;
REINDEX INDEX events_owner_created_idx;
REINDEX INDEX events_pk;

-- seed 004: a partial index and a GIN index on clicks, unchanged
CREATE TABLE clicks (
  id bigserial,
  company_id bigint,
  ad_id bigint,
  clicked_at timestamp without time zone NOT NULL,
  site_url text NOT NULL,
  cost_per_click_usd numeric(20,10),
  user_ip inet NOT NULL,
  user_data jsonb NOT NULL,
  PRIMARY KEY (company_id, id)
);
SELECT create_distributed_table('clicks', 'company_id', shard_count => 4);
CREATE INDEX click_user_data_is_mobile
ON clicks ((user_data->>'is_mobile'))
WHERE company_id = 5;
CREATE INDEX click_user_data
ON clicks USING gin (user_data);
SELECT * FROM ddl_worker_indexes('clicks');

-- reference table: the coordinator's table and every replica
CREATE TABLE geo_ips (addrs cidr PRIMARY KEY, country text);
SELECT create_reference_table('geo_ips');
CREATE INDEX ON geo_ips USING gist (addrs inet_ops);
CREATE UNIQUE INDEX CONCURRENTLY geo_country ON geo_ips (country);
SELECT indexdef FROM pg_indexes WHERE schemaname = 'ddl_index' AND tablename = 'geo_ips' ORDER BY 1;
SELECT * FROM ddl_worker_indexes('geo_ips');
REINDEX TABLE geo_ips;
REINDEX INDEX geo_country;
DROP INDEX geo_country;
SELECT * FROM ddl_worker_indexes('geo_ips');

-- dropping the table takes its shard indexes along
DROP TABLE events;
SELECT count(*) AS catalog_rows FROM shardfdw.shard_ddl d
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.relid);
SELECT * FROM ddl_worker_indexes('events');

RESET search_path;
DROP SCHEMA ddl_index CASCADE;
DROP FUNCTION public.ddl_worker_indexes(text);
