--
-- ddl_alter: ALTER TABLE and RENAME on distributed and reference tables
-- (commands layer, alter.c): the coordinator, every shard / replica and the
-- catalog change together, or not at all.  Shard ids are shown as N.
--
\set VERBOSITY terse
CREATE SCHEMA ddl_alter;
SET search_path = ddl_alter, public;

-- distinct column lists and constraints of the worker tables of a table,
-- with the number of shards / replicas that have them
CREATE FUNCTION public.ddl_worker_columns(tbl text)
RETURNS TABLE (columns text, placements bigint)
LANGUAGE sql AS $f$
  SELECT r, count(*) FROM (
    SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(format(
      $$SELECT string_agg(cols, E'\n') FROM (
          SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                            || CASE WHEN a.atthasdef THEN ' default' ELSE '' END, ', ' ORDER BY a.attnum) AS cols
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = 'ddl_alter' AND c.relkind = 'r'
             AND regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L
           GROUP BY c.oid) x$$, tbl))) y
  GROUP BY r ORDER BY r
$f$;
CREATE FUNCTION public.ddl_worker_constraints(tbl text)
RETURNS TABLE (con text, placements bigint)
LANGUAGE sql AS $f$
  SELECT r, count(*) FROM (
    SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(format(
      $$SELECT string_agg(cons, E'\n') FROM (
          SELECT coalesce(string_agg(regexp_replace(k.conname || ' ' || pg_get_constraintdef(k.oid), '_[0-9]{6,}', '_N', 'g'),
                            '; ' ORDER BY k.conname), '-') AS cons
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_constraint k ON k.conrelid = c.oid
           WHERE n.nspname = 'ddl_alter' AND c.relkind = 'r'
             AND regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L
           GROUP BY c.oid) x$$, tbl))) y
  GROUP BY r ORDER BY r
$f$;

CREATE TABLE companies (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE campaigns (company_id bigint NOT NULL, id bigint NOT NULL, name text, budget int);
CREATE TABLE countries (code text PRIMARY KEY, label text);
INSERT INTO companies SELECT i, 'c' || i FROM generate_series(1, 8) i;
INSERT INTO campaigns SELECT i % 8 + 1, i, 'k' || i, i * 10 FROM generate_series(1, 40) i;
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany');
SELECT create_distributed_table('companies', 'id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('campaigns', 'company_id', colocate_with => 'companies');
SELECT create_reference_table('countries');

-- columns
ALTER TABLE campaigns ADD COLUMN country text;
ALTER TABLE campaigns ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS status text;
ALTER TABLE campaigns ALTER COLUMN budget TYPE bigint;
-- USING runs on the workers, row by row
ALTER TABLE campaigns ADD COLUMN code int DEFAULT 7;
ALTER TABLE campaigns ALTER COLUMN code TYPE bigint USING (code * 2 + length(id::text));
\set VERBOSITY default
ALTER TABLE campaigns ALTER COLUMN code TYPE point USING point(code, code);
\set VERBOSITY terse
SELECT code, count(*) FROM campaigns GROUP BY 1 ORDER BY 1;
ALTER TABLE campaigns DROP COLUMN code;
ALTER TABLE campaigns ALTER COLUMN name SET NOT NULL;
ALTER TABLE campaigns ALTER COLUMN name DROP NOT NULL, ALTER COLUMN budget SET DEFAULT 100;
ALTER TABLE campaigns RENAME COLUMN name TO title;
ALTER TABLE campaigns ADD COLUMN dropme int;
ALTER TABLE campaigns DROP COLUMN dropme;
SELECT * FROM ddl_worker_columns('campaigns');
-- existing rows got the default on the workers, new rows get the
-- coordinator's defaults
SELECT status, count(*) FROM campaigns GROUP BY 1;
INSERT INTO campaigns (company_id, id, title) VALUES (1, 100, 'new');
SELECT title, budget, status, country FROM campaigns WHERE id = 100;

-- constraints: PRIMARY KEY / UNIQUE with the distribution column, CHECK,
-- foreign keys to a co-located table and to a reference table
ALTER TABLE campaigns ADD PRIMARY KEY (company_id, id);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_title_key UNIQUE (company_id, title);
ALTER TABLE campaigns ADD CONSTRAINT budget_positive CHECK (budget > 0);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_company_fk FOREIGN KEY (company_id) REFERENCES companies (id);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_country_fk FOREIGN KEY (country) REFERENCES countries;
SELECT * FROM ddl_worker_constraints('campaigns');
SELECT object_name, object_type, lives_on, definition FROM shardfdw.table_objects
 WHERE table_name = 'campaigns'::regclass ORDER BY 1;
-- the primary key is known to the coordinator's planner (functional dependency)
SELECT company_id, id, title FROM campaigns WHERE id = 100 GROUP BY company_id, id;
-- enforced on the workers
DO $$
BEGIN
  INSERT INTO campaigns (company_id, id, title, budget) VALUES (1, 101, 'neg', -1);
EXCEPTION WHEN check_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;
DO $$
BEGIN
  INSERT INTO campaigns (company_id, id, title) VALUES (1, 100, 'dup');
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;
DO $$
BEGIN
  INSERT INTO campaigns (company_id, id, title) VALUES (99, 102, 'orphan');
EXCEPTION WHEN foreign_key_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;
DO $$
BEGIN
  INSERT INTO campaigns (company_id, id, title, country) VALUES (1, 103, 'x', 'zz');
EXCEPTION WHEN foreign_key_violation THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '_[0-9]{6,}', '_N', 'g');
END $$;

-- planner statistics settings of columns: the coordinator's table, its
-- foreign partitions and every shard / replica
CREATE FUNCTION pg_temp.stat_settings() RETURNS TABLE (setting text, tables bigint)
LANGUAGE sql AS $f$
  SELECT r, count(*) FROM (
    SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(
      $$SELECT string_agg(regexp_replace(c.relname, '_[0-9]{6,}$', '') || '.' || a.attname || ' ' || a.attstattarget
                          || ' ' || ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%')::text, E'\n')
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'ddl_alter'::regnamespace AND c.relkind = 'r'
           AND regexp_replace(c.relname, '_[0-9]{6,}$', '') IN ('campaigns', 'countries')
           AND a.attname IN ('title', 'country', 'code')$$)) x
  GROUP BY r ORDER BY r
$f$;
ALTER TABLE campaigns ALTER COLUMN title SET STATISTICS 500,
  ALTER COLUMN country SET (n_distinct = -0.25, n_distinct_inherited = 40);
ALTER TABLE countries ALTER COLUMN code SET (n_distinct = 20);
-- (PostgreSQL keeps a pg_attver option of its own on every column)
SELECT c.relkind, a.attname, a.attstattarget,
       ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%') AS options, count(*)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE (c.oid IN ('campaigns'::regclass, 'countries'::regclass) OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'campaigns'::regclass))
   AND a.attname IN ('title', 'country', 'code')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2;
SELECT * FROM pg_temp.stat_settings();
ALTER TABLE campaigns ALTER COLUMN country RESET (n_distinct_inherited), ALTER COLUMN title SET STATISTICS -1;
ALTER TABLE countries ALTER COLUMN code RESET (n_distinct);
SELECT * FROM pg_temp.stat_settings();
-- new shards (here: of a table distributed with its settings) get them too
CREATE TABLE stat_new (id int, v text);
ALTER TABLE stat_new ALTER COLUMN v SET STATISTICS 250, ALTER COLUMN v SET (n_distinct = -0.5);
SELECT create_distributed_table('stat_new', 'id', shard_count => 3);
SELECT r, count(*) FROM (
  SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(
    $$SELECT string_agg(a.attname || ' ' || a.attstattarget || ' ' ||
                        ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%')::text, E'\n')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = 'ddl_alter'::regnamespace AND c.relname ~ '^stat_new_[0-9]+$' AND a.attname = 'v'$$)) x
 WHERE r <> '' GROUP BY r ORDER BY r;
DROP TABLE stat_new;
-- an option PostgreSQL does not know: refused on the coordinator first;
-- a column by number (for indexes only): refused before anything changes
ALTER TABLE campaigns ALTER COLUMN country SET (no_such_option = 1);
ALTER TABLE campaigns ALTER COLUMN title SET STATISTICS 300, ALTER COLUMN 2 SET STATISTICS 100;
SELECT * FROM pg_temp.stat_settings();

-- unsupported: refused before anything changes, with a hint
\set VERBOSITY default
ALTER TABLE campaigns ADD COLUMN ok int, ADD CONSTRAINT id_key UNIQUE (id);
ALTER TABLE campaigns ADD COLUMN c2 int REFERENCES companies (id);
ALTER TABLE campaigns ADD COLUMN c3 timestamptz DEFAULT clock_timestamp();
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE countries ADD CONSTRAINT countries_fk FOREIGN KEY (code) REFERENCES campaigns (title);
CREATE TABLE local_t (id int PRIMARY KEY);
ALTER TABLE campaigns ADD CONSTRAINT local_fk FOREIGN KEY (budget) REFERENCES local_t;
CREATE TABLE other (id bigint PRIMARY KEY);
SELECT create_distributed_table('other', 'id', shard_count => 2, colocate_with => 'none');
ALTER TABLE campaigns ADD CONSTRAINT other_fk FOREIGN KEY (company_id) REFERENCES other;
ALTER TABLE local_t ADD COLUMN c bigint REFERENCES companies (id);
CREATE TABLE local_ref (c bigint, FOREIGN KEY (c) REFERENCES companies (id));
\set VERBOSITY terse
SELECT count(*) AS ok_column FROM pg_attribute WHERE attrelid = 'campaigns'::regclass AND attname = 'ok';
SELECT * FROM ddl_worker_columns('campaigns');

-- a worker rejects the change on one shard: nothing changes anywhere
SELECT 'campaigns_' || max(shardid) AS last_shard FROM shardfdw.shard
 WHERE relid = 'campaigns'::regclass \gset
SELECT success FROM run_command_on_workers(format(
  'CREATE VIEW ddl_alter.blocker AS SELECT budget FROM ddl_alter.%I', :'last_shard'))
 ORDER BY 1;
ALTER TABLE campaigns ALTER COLUMN budget TYPE int, ADD COLUMN extra int;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'campaigns'::regclass AND attname = 'budget';
SELECT count(*) AS extra_column FROM pg_attribute WHERE attrelid = 'campaigns'::regclass AND attname = 'extra';
SELECT * FROM ddl_worker_columns('campaigns');
SELECT success FROM run_command_on_workers('DROP VIEW IF EXISTS ddl_alter.blocker') ORDER BY 1;
-- rolled back
BEGIN;
ALTER TABLE campaigns DROP CONSTRAINT budget_positive, ADD COLUMN rolled int;
ROLLBACK;
SELECT * FROM ddl_worker_columns('campaigns');
SELECT * FROM ddl_worker_constraints('campaigns');

-- RENAME CONSTRAINT of each kind, and back; ALTER INDEX ... RENAME
ALTER TABLE campaigns RENAME CONSTRAINT budget_positive TO budget_pos;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_title_key TO campaigns_title_uniq;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_country_fk TO campaigns_country_ref;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_pkey TO campaigns_pk;
\set VERBOSITY default
ALTER TABLE campaigns RENAME CONSTRAINT budget_pos TO campaigns_pk;
ALTER TABLE campaigns RENAME CONSTRAINT no_such_constraint TO x;
\set VERBOSITY terse
SELECT * FROM ddl_worker_constraints('campaigns');
SELECT object_name, object_type FROM shardfdw.table_objects WHERE table_name = 'campaigns'::regclass ORDER BY 1;
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'campaigns'::regclass ORDER BY 1;
ALTER TABLE campaigns RENAME CONSTRAINT budget_pos TO budget_positive;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_title_uniq TO campaigns_title_key;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_country_ref TO campaigns_country_fk;
ALTER TABLE campaigns RENAME CONSTRAINT campaigns_pk TO campaigns_pkey;
CREATE INDEX campaigns_country_idx ON campaigns (country);
ALTER INDEX campaigns_country_idx RENAME TO campaigns_country_ix;
\set VERBOSITY default
ALTER INDEX campaigns_pkey RENAME TO campaigns_pk;
\set VERBOSITY terse
SELECT count(*) AS renamed FROM shardfdw.shard_ddl WHERE name = 'campaigns_country_ix';
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'ddl_alter'::regnamespace AND relname LIKE 'campaigns\_country\_ix\_%'$$)
 ORDER BY 1;
DROP INDEX campaigns_country_ix;

-- DROP CONSTRAINT of each kind
ALTER TABLE campaigns DROP CONSTRAINT campaigns_country_fk;
ALTER TABLE campaigns DROP CONSTRAINT campaigns_title_key;
ALTER TABLE campaigns DROP CONSTRAINT budget_positive;
ALTER TABLE campaigns DROP CONSTRAINT IF EXISTS no_such_constraint;
ALTER TABLE campaigns DROP CONSTRAINT no_such_constraint;
\set VERBOSITY default
ALTER TABLE companies DROP CONSTRAINT companies_pkey;
\set VERBOSITY terse
ALTER TABLE companies DROP CONSTRAINT companies_pkey CASCADE;
SELECT * FROM ddl_worker_constraints('campaigns');
SELECT * FROM ddl_worker_constraints('companies');
SELECT object_name, object_type, lives_on FROM shardfdw.table_objects
 WHERE table_name IN ('campaigns'::regclass, 'companies'::regclass) ORDER BY 1;
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'companies'::regclass ORDER BY 1;
-- dropping a column drops the shard constraints that use it
ALTER TABLE campaigns DROP COLUMN title;
SELECT object_name FROM shardfdw.table_objects WHERE table_name = 'campaigns'::regclass ORDER BY 1;
-- renaming a column rewrites the recorded definitions: undistribute_table
-- restores the constraints and indexes under the new names
CREATE INDEX campaigns_budget ON campaigns (budget) WHERE budget > 10;
ALTER TABLE campaigns RENAME COLUMN id TO cid;
ALTER TABLE campaigns RENAME COLUMN budget TO amount;
SELECT object_name, definition FROM shardfdw.table_objects WHERE table_name = 'campaigns'::regclass ORDER BY 1;
SELECT undistribute_table('campaigns');
SELECT indexdef FROM pg_indexes WHERE schemaname = 'ddl_alter' AND tablename = 'campaigns' ORDER BY 1;
SELECT count(*) FROM campaigns;

-- reference table: the same on every replica
ALTER TABLE countries ADD COLUMN population bigint DEFAULT 0;
ALTER TABLE countries ALTER COLUMN label SET NOT NULL;
ALTER TABLE countries ADD CONSTRAINT label_len CHECK (length(label) > 1);
ALTER TABLE countries RENAME COLUMN label TO country_name;
ALTER TABLE countries RENAME CONSTRAINT label_len TO name_len;
SELECT * FROM ddl_worker_columns('countries');
SELECT * FROM ddl_worker_constraints('countries');
\set VERBOSITY default
ALTER TABLE countries ALTER COLUMN population TYPE numeric USING random();
\set VERBOSITY terse
ALTER TABLE countries ALTER COLUMN population TYPE numeric USING population * 1.5;
ALTER TABLE countries RENAME TO nations;
SELECT * FROM ddl_worker_columns('nations');
SELECT * FROM ddl_worker_columns('countries');
INSERT INTO nations (code, country_name) VALUES ('it', 'Italy');
SELECT server_name, result FROM run_command_on_workers(
  'SELECT string_agg(code || '' '' || population, '', '' ORDER BY code) FROM ddl_alter.nations') ORDER BY 1;

-- RENAME of a distributed table: the shards keep their names
ALTER TABLE companies RENAME TO firms;
SELECT count(*) FROM firms;
SELECT * FROM ddl_worker_columns('companies');

-- SET SCHEMA: a distributed table's foreign partitions and shards move with
-- it (sql/alter_schema.sql has more); a reference table's replicas too
CREATE SCHEMA ddl_alter2;
ALTER TABLE firms SET SCHEMA ddl_alter2;
ALTER TABLE nations SET SCHEMA ddl_alter2;
SELECT count(*) FROM ddl_alter2.firms;
CREATE INDEX firms_name ON ddl_alter2.firms (name);
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'ddl_alter2'::regnamespace AND relname LIKE 'firms\_name%'$$)
 ORDER BY 1;
REINDEX INDEX ddl_alter2.firms_name;
ALTER INDEX ddl_alter2.firms_name RENAME TO firms_name2;
DROP INDEX ddl_alter2.firms_name2;
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relnamespace = 'ddl_alter2'::regnamespace AND relname LIKE 'firms\_name%'$$)
 ORDER BY 1;
SELECT server_name, result FROM run_command_on_workers(
  'SELECT string_agg(code, '','' ORDER BY code) FROM ddl_alter2.nations') ORDER BY 1;
INSERT INTO ddl_alter2.nations (code, country_name) VALUES ('es', 'Spain');
SELECT server_name, result FROM run_command_on_workers(
  'SELECT string_agg(code, '','' ORDER BY code) FROM ddl_alter2.nations') ORDER BY 1;
ALTER TABLE ddl_alter2.firms SET SCHEMA ddl_alter;
ALTER TABLE ddl_alter2.nations SET SCHEMA ddl_alter;
DROP SCHEMA ddl_alter2;
SELECT success FROM run_command_on_workers('DROP SCHEMA ddl_alter2') ORDER BY 1;

-- OWNER TO: the parent and its foreign partitions
CREATE ROLE ddl_alter_owner;
ALTER TABLE firms OWNER TO ddl_alter_owner;
SELECT count(*) FILTER (WHERE pg_get_userbyid(c.relowner) = 'ddl_alter_owner') AS owned,
       count(*) AS total
  FROM pg_class c WHERE c.oid = 'firms'::regclass
     OR c.oid IN (SELECT shard_relid FROM shardfdw.shard WHERE relid = 'firms'::regclass);
ALTER TABLE firms OWNER TO CURRENT_USER;

RESET search_path;
DROP SCHEMA ddl_alter CASCADE;
-- the renamed table's shards went with it
SELECT * FROM ddl_worker_columns('companies');
SELECT * FROM ddl_worker_columns('nations');
DROP ROLE ddl_alter_owner;
DROP FUNCTION public.ddl_worker_columns(text), public.ddl_worker_constraints(text);
