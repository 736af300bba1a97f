--
-- ddl_drop: DROP TABLE / DROP SCHEMA ... CASCADE of distributed and
-- reference tables drop their shards and replicas on the workers and their
-- catalog rows, in the dropping transaction (commands layer, drop.c).
--
-- Output shows no shard ids: worker tables are counted per name prefix.
--
\set VERBOSITY terse
CREATE SCHEMA ddl_drop;
SET search_path = ddl_drop, public;

-- worker tables of schema ddl_drop, as prefix:count per worker
CREATE FUNCTION public.ddl_worker_tables(nsp text)
RETURNS TABLE (server_name name, result text)
LANGUAGE sql AS $f$
  SELECT server_name, result FROM run_command_on_workers(format(
    $$SELECT coalesce(string_agg(p || ':' || n, ' ' ORDER BY p), '-') FROM
        (SELECT regexp_replace(c.relname, '_[0-9]+$', '') AS p, count(*) AS n
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
          WHERE s.nspname = %L AND c.relkind = 'r' GROUP BY 1) x$$, nsp))
   ORDER BY 1
$f$;
-- foreign keys on the workers' tables of a schema, as conname prefix:count
CREATE FUNCTION public.ddl_worker_fkeys(nsp text)
RETURNS TABLE (server_name name, result text)
LANGUAGE sql AS $f$
  SELECT server_name, result FROM run_command_on_workers(format(
    $$SELECT coalesce(string_agg(p || ':' || n, ' ' ORDER BY p), '-') FROM
        (SELECT regexp_replace(k.conname, '_[0-9]+$', '') AS p, count(*) AS n
           FROM pg_constraint k JOIN pg_namespace s ON s.oid = k.connamespace
          WHERE s.nspname = %L AND k.contype = 'f' GROUP BY 1) x$$, nsp))
   ORDER BY 1
$f$;
-- catalog rows about relations that no longer exist
CREATE FUNCTION public.ddl_stale_catalog_rows()
RETURNS TABLE (catalog text, n bigint)
LANGUAGE sql AS $f$
  SELECT 'distributed_table', count(*) FROM shardfdw.distributed_table t
   WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.relid)
  UNION ALL
  SELECT 'shard', count(*) FROM shardfdw.shard s
   WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.relid)
  UNION ALL
  SELECT 'shard_ddl', count(*) FROM shardfdw.shard_ddl d
   WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.relid)
  UNION ALL
  SELECT 'pending_fkey', count(*) FROM shardfdw.pending_fkey f
   WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = f.relid)
      OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = f.refrelid)
  UNION ALL
  SELECT 'colocation', count(*) FROM shardfdw.colocation g
   WHERE NOT EXISTS (SELECT 1 FROM shardfdw.distributed_table t WHERE t.colocationid = g.colocationid)
$f$;

CREATE TABLE companies (id bigint PRIMARY KEY, name text);
CREATE TABLE countries (code text PRIMARY KEY);
CREATE TABLE campaigns (company_id bigint REFERENCES companies, id bigint,
                        country text REFERENCES countries, PRIMARY KEY (company_id, id));
INSERT INTO countries VALUES ('fr'), ('de');
INSERT INTO companies SELECT i, 'c' || i FROM generate_series(1, 10) i;
INSERT INTO campaigns SELECT i, 1, 'fr' FROM generate_series(1, 10) i;
SELECT create_reference_table('countries');
SELECT create_distributed_table('companies', 'id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('campaigns', 'company_id', colocate_with => 'companies');
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT * FROM ddl_worker_fkeys('ddl_drop');
SELECT object_name, object_type, lives_on FROM shardfdw.table_objects
 WHERE table_name = 'campaigns'::regclass ORDER BY 1;
SELECT 'companies'::regclass::oid AS companies_oid \gset

-- RESTRICT: refused because of the foreign keys that live on the workers
\set VERBOSITY default
DROP TABLE companies;
DROP TABLE countries;
\set VERBOSITY terse
SELECT * FROM ddl_worker_tables('ddl_drop');

-- a rolled-back DROP leaves shards, keys and catalog as they were
BEGIN;
DROP TABLE companies CASCADE;
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT count(*) AS catalog_rows FROM shardfdw.distributed_table WHERE relid = :companies_oid;
ROLLBACK;
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT * FROM ddl_worker_fkeys('ddl_drop');
SELECT count(*) AS catalog_rows FROM shardfdw.distributed_table WHERE relid = :companies_oid;
SELECT count(*) FROM companies;

-- dropping one shard's foreign partition is refused
DO $$
BEGIN
  EXECUTE format('DROP FOREIGN TABLE %s', (SELECT shard_relid FROM shardfdw.shard
    WHERE relid = 'companies'::regclass ORDER BY shardid LIMIT 1));
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]+', '_<shardid>');
END $$;

-- CASCADE: the shards go, and so do the keys of the referencing shards
DROP TABLE companies CASCADE;
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT * FROM ddl_worker_fkeys('ddl_drop');
SELECT count(*) AS catalog_rows FROM shardfdw.distributed_table WHERE relid = :companies_oid;
SELECT count(*) AS shard_rows FROM shardfdw.shard WHERE relid = :companies_oid;
SELECT object_name, object_type, lives_on FROM shardfdw.table_objects
 WHERE table_name = 'campaigns'::regclass ORDER BY 1;
-- campaigns still works
INSERT INTO campaigns VALUES (99, 1, 'de');
SELECT count(*) FROM campaigns;

-- both sides in one statement: no CASCADE needed
DROP TABLE campaigns, countries;
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT * FROM ddl_stale_catalog_rows();

-- a local table's pending key to a distributed table keeps a placeholder;
-- DROP ... CASCADE removes it
CREATE TABLE stores (id int PRIMARY KEY);
CREATE TABLE local_orders (store_id int REFERENCES stores, n int);
SELECT create_distributed_table('stores', 'id', shard_count => 2);
\set VERBOSITY default
DROP TABLE stores;
\set VERBOSITY terse
SELECT conname FROM pg_constraint WHERE conrelid = 'local_orders'::regclass;
DROP TABLE stores CASCADE;
SELECT conname FROM pg_constraint WHERE conrelid = 'local_orders'::regclass;
SELECT * FROM ddl_worker_tables('ddl_drop');
DROP TABLE local_orders;

-- a failure on a worker in the middle of the drop rolls everything back:
-- one worker refuses to drop the last shard
CREATE TABLE victim (id int PRIMARY KEY);
SELECT create_distributed_table('victim', 'id', shard_count => 4);
SELECT c.relname AS last_shard FROM shardfdw.shard s JOIN pg_class c ON c.oid = s.shard_relid
 WHERE s.relid = 'victim'::regclass ORDER BY s.shardid DESC LIMIT 1 \gset
SELECT success FROM run_command_on_workers(format($c$
  CREATE FUNCTION public.ddl_refuse_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects()
                WHERE object_name = %L) THEN
      RAISE EXCEPTION 'shard drop refused by test';
    END IF;
  END $$;
  CREATE EVENT TRIGGER ddl_refuse_drop ON sql_drop EXECUTE FUNCTION public.ddl_refuse_drop()$c$,
  :'last_shard'));
DROP TABLE victim;
SELECT * FROM ddl_worker_tables('ddl_drop');
SELECT count(*) AS shards FROM shardfdw.shards WHERE table_name = 'victim'::regclass;
SELECT success FROM run_command_on_workers($c$
  DROP EVENT TRIGGER ddl_refuse_drop; DROP FUNCTION public.ddl_refuse_drop()$c$);
DROP TABLE victim;
SELECT * FROM ddl_worker_tables('ddl_drop');

-- DROP SCHEMA ... CASCADE with a distributed and a reference table inside
CREATE SCHEMA ddl_drop2;
CREATE TABLE ddl_drop2.d (id int PRIMARY KEY, v text);
CREATE TABLE ddl_drop2.r (code int PRIMARY KEY);
SELECT create_distributed_table('ddl_drop2.d', 'id', shard_count => 4);
SELECT create_reference_table('ddl_drop2.r');
SELECT * FROM ddl_worker_tables('ddl_drop2');
SELECT server_name, shard_count > 0 AS has_shards FROM shardfdw.nodes ORDER BY 1;
SET client_min_messages = warning;
DROP SCHEMA ddl_drop2 CASCADE;
RESET client_min_messages;
SELECT * FROM ddl_worker_tables('ddl_drop2');
SELECT * FROM ddl_stale_catalog_rows();

-- adding a node after a reference table was dropped does not try to
-- replicate it (it did before the drop trigger existed)
CREATE TABLE lonely_ref (id int PRIMARY KEY);
SELECT create_reference_table('lonely_ref');
DROP TABLE lonely_ref;
SELECT count(*) FROM shardfdw.shard s WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.relid);

-- a user who is not a superuser still creates, alters and drops local
-- objects (the hook and the drop trigger only read the catalog then)
CREATE ROLE ddl_drop_user;
GRANT CREATE, USAGE ON SCHEMA ddl_drop TO ddl_drop_user;
SET ROLE ddl_drop_user;
CREATE TABLE ddl_drop.mine (id int PRIMARY KEY, v text);
CREATE INDEX mine_v ON ddl_drop.mine (v);
ALTER TABLE ddl_drop.mine ADD COLUMN w int;
DROP INDEX ddl_drop.mine_v;
TRUNCATE ddl_drop.mine;
VACUUM ddl_drop.mine;
DROP TABLE ddl_drop.mine;
RESET ROLE;
REVOKE CREATE, USAGE ON SCHEMA ddl_drop FROM ddl_drop_user;
DROP ROLE ddl_drop_user;

RESET search_path;
DROP SCHEMA ddl_drop CASCADE;
DROP FUNCTION public.ddl_worker_tables(text), public.ddl_worker_fkeys(text),
              public.ddl_stale_catalog_rows();

-- DROP EXTENSION is refused while distributed or reference tables exist
-- (their rows live on the workers), CASCADE or not
CREATE TABLE public.ddl_drop_ext (id int PRIMARY KEY);
SELECT create_distributed_table('public.ddl_drop_ext', 'id', shard_count => 2);
-- (the message counts and names every distributed table of the database)
\set VERBOSITY sqlstate
DROP EXTENSION shardfdw;
DROP EXTENSION shardfdw CASCADE;
DROP EXTENSION IF EXISTS shardfdw, plpgsql CASCADE;
\set VERBOSITY terse
SELECT count(*) AS shards_left FROM shardfdw.shards WHERE table_name = 'public.ddl_drop_ext'::regclass;
DROP TABLE public.ddl_drop_ext;
