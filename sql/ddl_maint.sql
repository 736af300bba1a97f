--
-- ddl_maint: VACUUM, ANALYZE and TRUNCATE of distributed and reference
-- tables (commands layer, maintenance.c); GRANT and COMMENT stay on the
-- coordinator, which checks permissions for the whole table.
--
\set VERBOSITY terse
CREATE SCHEMA ddl_maint;
SET search_path = ddl_maint, public;

-- reltuples of the worker tables of a table (-1: never vacuumed/analyzed)
CREATE FUNCTION public.ddl_worker_reltuples(tbl text)
RETURNS TABLE (reltuples text, placements bigint)
LANGUAGE sql AS $f$
  SELECT r, count(*) FROM (
    SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(format(
      $$SELECT string_agg(CASE WHEN c.reltuples < 0 THEN 'never' ELSE 'counted' END, E'\n')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'ddl_maint' AND c.relkind = 'r'
           AND regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L$$, tbl))) y
   WHERE r IS NOT NULL
  GROUP BY r ORDER BY r
$f$;
CREATE FUNCTION public.ddl_worker_count(tbl text)
RETURNS bigint
LANGUAGE sql AS $f$
  SELECT sum(result::bigint)::bigint FROM run_command_on_workers(format(
    $$SELECT coalesce(sum((xpath('/row/c/text()',
               query_to_xml(format('SELECT count(*) AS c FROM ddl_maint.%%I', c.relname), false, true, '')))[1]::text::bigint), 0)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'ddl_maint' AND c.relkind = 'r'
         AND regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L$$, tbl))
$f$;

CREATE TABLE companies (id bigint PRIMARY KEY, name text);
CREATE TABLE campaigns (company_id bigint REFERENCES companies, id bigint, PRIMARY KEY (company_id, id));
CREATE TABLE kinds (k int PRIMARY KEY);
INSERT INTO companies SELECT i, 'c' || i FROM generate_series(1, 50) i;
INSERT INTO campaigns SELECT i % 50 + 1, i FROM generate_series(1, 100) i;
INSERT INTO kinds VALUES (1), (2);
SELECT create_distributed_table('companies', 'id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('campaigns', 'company_id', colocate_with => 'companies');
SELECT create_reference_table('kinds');
-- workers may have autovacuum: start from a known state
SELECT success FROM run_command_on_workers(
  $$UPDATE pg_class SET reltuples = -1 WHERE relnamespace = 'ddl_maint'::regnamespace AND relkind = 'r'$$);

-- VACUUM of a distributed table: forwarded to its shards, no warnings
VACUUM companies;
SELECT * FROM ddl_worker_reltuples('companies');
SELECT * FROM ddl_worker_reltuples('campaigns');
-- with options and a column list; ANALYZE also gives the coordinator
-- statistics for the parent
VACUUM (ANALYZE, FREEZE) campaigns (id);
SELECT * FROM ddl_worker_reltuples('campaigns');
SELECT count(*) > 0 AS parent_stats FROM pg_stats WHERE schemaname = 'ddl_maint' AND tablename = 'campaigns';
ANALYZE kinds;
SELECT * FROM ddl_worker_reltuples('kinds');
-- database-wide
SELECT success FROM run_command_on_workers(
  $$UPDATE pg_class SET reltuples = -1 WHERE relnamespace = 'ddl_maint'::regnamespace AND relkind = 'r'$$);
VACUUM;
SELECT * FROM ddl_worker_reltuples('companies');
SELECT * FROM ddl_worker_reltuples('kinds');
ANALYZE;

-- errors
\set VERBOSITY default
BEGIN;
VACUUM companies;
ROLLBACK;
ANALYZE companies (no_such_column);
\set VERBOSITY terse

-- TRUNCATE follows the foreign keys that live on the workers
\set VERBOSITY default
TRUNCATE companies;
\set VERBOSITY terse
SELECT ddl_worker_count('companies') AS companies, ddl_worker_count('campaigns') AS campaigns;
BEGIN;
TRUNCATE companies CASCADE;
SELECT (SELECT count(*) FROM companies) AS companies, (SELECT count(*) FROM campaigns) AS campaigns;
ROLLBACK;
SELECT ddl_worker_count('companies') AS companies, ddl_worker_count('campaigns') AS campaigns;
TRUNCATE campaigns, companies;
SELECT ddl_worker_count('companies') AS companies, ddl_worker_count('campaigns') AS campaigns;
TRUNCATE kinds;
SELECT ddl_worker_count('kinds') AS kinds;
-- a reference table referenced by a distributed table
INSERT INTO kinds VALUES (1), (2);
ALTER TABLE campaigns ADD COLUMN kind int;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_kind_fk FOREIGN KEY (kind) REFERENCES kinds;
INSERT INTO companies VALUES (1, 'a');
INSERT INTO campaigns VALUES (1, 1, 1), (1, 2, 2);
\set VERBOSITY default
TRUNCATE kinds;
\set VERBOSITY terse
TRUNCATE kinds CASCADE;
SELECT ddl_worker_count('kinds') AS kinds, ddl_worker_count('campaigns') AS campaigns,
       ddl_worker_count('companies') AS companies;

-- GRANT and COMMENT: the coordinator's parent is checked for every access
CREATE ROLE ddl_maint_reader;
GRANT USAGE ON SCHEMA ddl_maint TO ddl_maint_reader;
GRANT SELECT ON companies TO ddl_maint_reader;
COMMENT ON TABLE companies IS 'distributed';
SELECT obj_description('companies'::regclass, 'pg_class');
SET ROLE ddl_maint_reader;
SELECT has_table_privilege('companies', 'SELECT') AS can_select,
       has_table_privilege('companies', 'INSERT') AS can_insert;
INSERT INTO companies VALUES (1, 'x');
RESET ROLE;
REVOKE SELECT ON companies FROM ddl_maint_reader;
REVOKE USAGE ON SCHEMA ddl_maint FROM ddl_maint_reader;
DROP ROLE ddl_maint_reader;

RESET search_path;
DROP SCHEMA ddl_maint CASCADE;
DROP FUNCTION public.ddl_worker_reltuples(text), public.ddl_worker_count(text);
