--
-- split: shardfdw_split_shard replaces the shard (MODULUS m, REMAINDER r) of
-- every table of a co-location group by (2m, r) and (2m, r + m) on the same
-- worker.  Split the seed 004 group of the "differential" test ("dist",
-- compared with the plain tables of "local"), check the rows and the
-- layout, run focused planner checks where one shard covers several shard
-- indexes, then the planner corpus's seed 004 part against the split group
-- (its results must equal the local copies', its strategies those of the
-- unsplit run), co-location with a split group, tenant isolation, DDL and
-- undistribute on split tables, and the errors and injected faults that
-- must leave everything as it was.
--
SET client_min_messages = warning;

-- diff_check and check_dml of the differential test, without row counts
-- (earlier tests may change the data; the comparison is what matters)
CREATE FUNCTION pg_temp.dc(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$ SELECT regexp_replace(public.diff_check(label, q, ordered), 'ok, [0-9]+ rows', 'ok', 'g') $$;
CREATE FUNCTION pg_temp.dml(label text, q text, tbl text) RETURNS text
LANGUAGE sql AS $$ SELECT regexp_replace(public.check_dml(label, q, tbl), 'ok, [0-9]+ rows', 'ok', 'g') $$;

-- the shard of table t holding distribution value v
CREATE FUNCTION pg_temp.shard_of(t regclass, v anyelement) RETURNS bigint
LANGUAGE sql AS $$
  SELECT shardid FROM shardfdw.shards
   WHERE table_name = t AND satisfies_hash_partition(t, shard_modulus, shard_index, v)
$$;
-- number of shards and the split ones (index/modulus) of table t
CREATE FUNCTION pg_temp.layout(t regclass) RETURNS text
LANGUAGE sql AS $$
  SELECT count(*) || ' shards; split: ' ||
         coalesce(string_agg(shard_index || '/' || shard_modulus, ' ' ORDER BY shard_modulus, shard_index)
                  FILTER (WHERE shard_modulus <> (SELECT min(shard_modulus) FROM shardfdw.shards WHERE table_name = t)), '-')
    FROM shardfdw.shards WHERE table_name = t
$$;
-- rows of t whose foreign partition's bounds do not hold them (must be 0),
-- and the number of rows
CREATE FUNCTION pg_temp.misplaced(t regclass, col text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
    total bigint;
BEGIN
    EXECUTE format('SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition(%L::regclass, s.shard_modulus, s.shard_index, x.%I)), count(*)'
                   ' FROM %s x JOIN shardfdw.shards s ON s.table_name = %L::regclass AND s.shard_name::regclass = x.tableoid',
                   t, col, t, t) INTO bad, total;
    RETURN format('%s: %s misplaced, %s', t, bad, CASE WHEN total > 0 THEN 'has rows' ELSE 'empty' END);
END
$$;
-- shard tables of the dist group and split helpers on the workers, against
-- the catalog
CREATE FUNCTION pg_temp.worker_tables() RETURNS TABLE (server name, tables_match_catalog boolean, helpers text)
LANGUAGE sql AS $$
  SELECT w.server_name, split_part(w.result, ' ', 1)::bigint =
         (SELECT count(*) FROM shardfdw.shards s JOIN pg_class c ON c.oid = s.table_name
           WHERE c.relnamespace = 'dist'::regnamespace AND s.table_type = 'distributed'
             AND c.relname IN ('companies', 'campaigns', 'ads', 'clicks', 'impressions', 'Odd Table')
             AND s.server_name = w.server_name),
         split_part(w.result, ' ', 4) || ' helpers'
    FROM run_command_on_workers($c$SELECT count(*) FILTER (WHERE tablename ~ '^(companies|campaigns|ads|clicks|impressions|Odd Table)_[0-9]+$') || ' shard tables, ' || count(*) FILTER (WHERE tablename LIKE 'shardfdw_split_key_%') || ' helpers' FROM pg_tables WHERE schemaname = 'dist'$c$) w
   ORDER BY 1
$$;

\pset format unaligned
\pset tuples_only on

--
-- Split the shard of company 5, then one of its halves, then another shard
--
SELECT pg_temp.layout('dist.companies');
-- (the split runs as a job: look the shard up in a statement of its own,
-- since satisfies_hash_partition() locks the table until the statement
-- ends and the job would wait for that lock)
SELECT pg_temp.shard_of('dist.companies', 5::bigint) AS s \gset
SELECT cardinality(shardfdw_split_shard(:s)) AS new_shards;
SELECT pg_temp.layout(t) FROM unnest(ARRAY['dist.companies', 'dist.campaigns', 'dist.ads', 'dist.clicks', 'dist.impressions', 'dist."Odd Table"']::regclass[]) t;
-- the half holding company 5 again, then the shard of company 3
SELECT pg_temp.shard_of('dist.companies', 5::bigint) AS s \gset
SELECT cardinality(shardfdw_split_shard(:s)) AS new_shards;
SELECT pg_temp.shard_of('dist.clicks', 3::bigint) AS s \gset
SELECT cardinality(shardfdw_split_shard(:s)) AS new_shards;
SELECT pg_temp.layout(t) FROM unnest('{dist.companies,dist.clicks}'::regclass[]) t;
-- the group's shard_count is the largest MODULUS
SELECT c.shard_count FROM shardfdw.colocation c JOIN shardfdw.tables t ON t.colocation_id = c.colocationid
 WHERE t.table_name = 'dist.companies'::regclass;
-- co-located shards stay together
SELECT count(DISTINCT (s.shard_index, s.shard_modulus, s.server_name)) AS distinct_placements,
       count(*) / count(DISTINCT s.table_name) AS shards_per_table
  FROM shardfdw.shards s JOIN shardfdw.tables t USING (table_name)
 WHERE t.colocation_id = (SELECT colocation_id FROM shardfdw.tables WHERE table_name = 'dist.companies'::regclass);
-- every row in the partition whose bounds hold it, none lost
SELECT pg_temp.misplaced('dist.companies', 'id');
SELECT pg_temp.misplaced('dist.campaigns', 'company_id');
SELECT pg_temp.misplaced('dist.clicks', 'company_id');
SELECT pg_temp.misplaced('dist."Odd Table"', 'Id');
SELECT pg_temp.dc('split companies', $q$SELECT * FROM companies$q$);
SELECT pg_temp.dc('split campaigns', $q$SELECT * FROM campaigns$q$);
SELECT pg_temp.dc('split ads', $q$SELECT * FROM ads$q$);
SELECT pg_temp.dc('split clicks', $q$SELECT * FROM clicks$q$);
SELECT pg_temp.dc('split impressions', $q$SELECT * FROM impressions$q$);
SELECT pg_temp.dc('split odd table', $q$SELECT * FROM "Odd Table"$q$);
-- old shard tables dropped, helpers gone
SELECT * FROM pg_temp.worker_tables();

--
-- Planner checks where shards cover several shard indexes.  Companies x
-- and y share an unsplit shard (MODULUS 32) but not a shard index (the
-- group has 128): one task, each row once.  a and b are in the two halves
-- of a split shard.  The four get rows in dist and local.
--
SELECT min(shard_index) AS r32 FROM shardfdw.shards WHERE table_name = 'dist.companies'::regclass AND shard_modulus = 32 \gset
SELECT min(shard_index) AS r64 FROM shardfdw.shards WHERE table_name = 'dist.companies'::regclass AND shard_modulus = 64 \gset
SELECT min(g) AS x FROM generate_series(1001, 9999) g WHERE satisfies_hash_partition('dist.companies'::regclass, 128, :r32, g::bigint) \gset
SELECT min(g) AS y FROM generate_series(1001, 9999) g WHERE satisfies_hash_partition('dist.companies'::regclass, 128, :r32 + 64, g::bigint) \gset
SELECT min(g) AS a FROM generate_series(1001, 9999) g WHERE satisfies_hash_partition('dist.companies'::regclass, 64, :r64, g::bigint) \gset
SELECT min(g) AS b FROM generate_series(1001, 9999) g WHERE satisfies_hash_partition('dist.companies'::regclass, 64, (:r64 + 32) % 64, g::bigint) \gset
SELECT pg_temp.shard_of('dist.companies', :x::bigint) = pg_temp.shard_of('dist.companies', :y::bigint) AS x_y_same_shard,
       pg_temp.shard_of('dist.companies', :a::bigint) <> pg_temp.shard_of('dist.companies', :b::bigint) AS a_b_split;
SELECT pg_temp.dml('companies x y a b', format($q$INSERT INTO companies (id, name, created_at, updated_at) SELECT i, 'company ' || i, '2026-01-01', '2026-01-02' FROM unnest(ARRAY[%s, %s, %s, %s]) i RETURNING id$q$, :x, :y, :a, :b), 'companies');
SELECT pg_temp.dml('campaigns x y a b', format($q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) SELECT i * 10 + j, i, 'camp ' || j, 'cpc', 'running', '2026-01-01', '2026-01-02' FROM unnest(ARRAY[%s, %s, %s, %s]) i, generate_series(1, 3) j RETURNING id$q$, :x, :y, :a, :b), 'campaigns');
SELECT pg_temp.dml('ads x y a b', format($q$INSERT INTO ads (id, company_id, campaign_id, name, created_at, updated_at) SELECT i * 100 + j, i, i * 10 + mod(j, 3) + 1, 'ad ' || j, '2026-01-01', '2026-01-02' FROM unnest(ARRAY[%s, %s, %s, %s]) i, generate_series(1, 5) j RETURNING id$q$, :x, :y, :a, :b), 'ads');

CREATE FUNCTION pg_temp.tasks(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    res text := 'standard';
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ '^\s*Strategy: ' THEN
            res := regexp_replace(line, '^\s*Strategy: ', '');
        ELSIF line ~ '^\s*(Task Count|Shards Pruned): ' THEN
            res := res || ', ' || btrim(line);
        END IF;
    END LOOP;
    RETURN res;
END
$$;
SELECT format('SELECT * FROM campaigns WHERE company_id IN (%s, %s)', :x, :y) AS q_xy \gset
SELECT format('SELECT * FROM campaigns WHERE company_id IN (%s, %s)', :a, :b) AS q_ab \gset
SELECT pg_temp.dc('in list x y', :'q_xy'), pg_temp.tasks(:'q_xy');
SELECT pg_temp.dc('in list a b', :'q_ab'), pg_temp.tasks(:'q_ab');
SELECT pg_temp.dc('router a', format('SELECT c.name, count(*) FROM companies c JOIN campaigns p ON p.company_id = c.id WHERE c.id = %s GROUP BY c.name', :a)),
       pg_temp.tasks(format('SELECT * FROM campaigns WHERE company_id = %s', :a));
SELECT pg_temp.dc('router b', format('SELECT * FROM ads WHERE company_id = %s ORDER BY id', :b), true),
       pg_temp.tasks(format('SELECT * FROM ads WHERE company_id = %s', :b));
SELECT pg_temp.dc('router y', format('SELECT * FROM ads WHERE company_id = %s ORDER BY id', :y), true);
SELECT pg_temp.dc('two-phase count', $q$SELECT count(*), sum(cost_per_click_usd), min(clicked_at) FROM clicks$q$),
       pg_temp.tasks($q$SELECT count(*) FROM clicks$q$);
SELECT pg_temp.dc('multi-shard join', $q$SELECT c.id, count(*) FROM companies c JOIN ads a ON a.company_id = c.id GROUP BY c.id$q$),
       pg_temp.tasks($q$SELECT c.id, count(*) FROM companies c JOIN ads a ON a.company_id = c.id GROUP BY c.id$q$);
SELECT pg_temp.dc('order limit', $q$SELECT company_id, id FROM clicks ORDER BY cost_per_click_usd DESC, id LIMIT 7$q$, true);
SELECT pg_temp.dc('any array', format('SELECT id FROM ads WHERE company_id = ANY (ARRAY[%s, %s, %s, %s]::bigint[])', :x, :y, :a, :b)),
       pg_temp.tasks(format('SELECT id FROM ads WHERE company_id = ANY (ARRAY[%s, %s, %s, %s]::bigint[])', :x, :y, :a, :b));
SELECT pg_temp.dc('distinct dist', $q$SELECT DISTINCT company_id FROM impressions$q$);
SELECT pg_temp.dc('count distinct', $q$SELECT count(DISTINCT company_id), count(DISTINCT site_url) FROM clicks$q$);

-- generic plans: the shards are pruned when the scan starts
SET plan_cache_mode = force_generic_plan;
SET search_path = dist, public;
PREPARE p_any(bigint[]) AS SELECT count(*), sum(id) FROM ads WHERE company_id = ANY ($1);
PREPARE p_eq(bigint) AS SELECT count(*), sum(id) FROM campaigns WHERE company_id = $1;
SELECT count(*), sum(id) FROM local.ads WHERE company_id IN (:x, :y, :a, :b);
EXECUTE p_any(ARRAY[:x, :y, :a, :b]::bigint[]);
SELECT count(*), sum(id) FROM local.ads WHERE company_id IN (:x, :y);
EXECUTE p_any(ARRAY[:x, :y]::bigint[]);
SELECT pg_temp.tasks(format('EXECUTE p_any(ARRAY[%s, %s]::bigint[])', :x, :y));
SELECT pg_temp.tasks(format('EXECUTE p_any(ARRAY[%s, %s]::bigint[])', :a, :b));
SELECT count(*), sum(id) FROM local.campaigns WHERE company_id = :b;
EXECUTE p_eq(:b);
SELECT pg_temp.tasks(format('EXECUTE p_eq(%s)', :b));
DEALLOCATE p_any;
DEALLOCATE p_eq;
RESET search_path;
RESET plan_cache_mode;

-- DML over split shards
SELECT pg_temp.dml('insert select co-located', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) SELECT id + 30000, company_id, 'split ' || name, cost_model, state, created_at, updated_at FROM campaigns WHERE id < 6 RETURNING id, company_id$q$, 'campaigns'),
       pg_temp.tasks($q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) SELECT id + 30000, company_id, name, cost_model, state, created_at, updated_at FROM campaigns WHERE id < 6$q$);
SELECT pg_temp.dml('update multi-shard', $q$UPDATE campaigns SET monthly_budget = coalesce(monthly_budget, 0) + 1 WHERE id > 30000 RETURNING company_id, id, monthly_budget$q$, 'campaigns');
SELECT pg_temp.dml('delete multi-shard', $q$DELETE FROM campaigns WHERE id > 30000 RETURNING company_id, id$q$, 'campaigns');
SELECT pg_temp.dml('update both halves', format($q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE company_id IN (%s, %s) RETURNING company_id, id, clicks_count$q$, :a, :b), 'ads'),
       pg_temp.tasks(format($q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE company_id IN (%s, %s)$q$, :a, :b));
SELECT pg_temp.dml('update x y', format($q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE company_id IN (%s, %s) RETURNING company_id, id, clicks_count$q$, :x, :y), 'ads'),
       pg_temp.tasks(format($q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE company_id IN (%s, %s)$q$, :x, :y));

SELECT pg_temp.dml('cleanup ads', format($q$DELETE FROM ads WHERE company_id IN (%s, %s, %s, %s) RETURNING id$q$, :x, :y, :a, :b), 'ads');
SELECT pg_temp.dml('cleanup campaigns', format($q$DELETE FROM campaigns WHERE company_id IN (%s, %s, %s, %s) RETURNING id$q$, :x, :y, :a, :b), 'campaigns');
SELECT pg_temp.dml('cleanup companies', format($q$DELETE FROM companies WHERE id IN (%s, %s, %s, %s) RETURNING id$q$, :x, :y, :a, :b), 'companies');

--
-- The planner corpus's seed 004 part (the seed 001 to 003 schemas are gone
-- by now) against the split group: no result may differ from the local
-- copies', and every statement gets the strategy it gets unsplit (task
-- counts aside).  test/split_corpus.sh filters and compares.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\getenv abs_builddir PG_ABS_BUILDDIR
\set corpus_helper :abs_srcdir '/test/split_corpus.sh'
\set corpus_all :abs_srcdir '/sql/planner_corpus.sql'
\set corpus_expected :abs_srcdir '/expected/planner_corpus.out'
\set corpus_sql :abs_builddir '/results/split_planner_corpus.sql'
\set corpus_out :abs_builddir '/results/split_planner_corpus.out'
\set corpus_filtered `bash :'corpus_helper' filter :'corpus_all' :'corpus_sql' && echo done`
\set ECHO none
\o :corpus_out
-- (as in the unsplit run, where the tables have no statistics yet: with
-- them, query 082 becomes a broadcast join)
SET shardfdw.broadcast_join_limit = 0;
\i :corpus_sql
RESET shardfdw.broadcast_join_limit;
\o
\set ECHO all
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;
RESET search_path;
\set corpus_result `bash :'corpus_helper' compare :'corpus_expected' :'corpus_out'`
SELECT split_part(:'corpus_result', '|', 1)::int > 150 AS corpus_ran,
       split_part(:'corpus_result', '|', 2) AS corpus_mismatches,
       split_part(:'corpus_result', '|', 3) AS lines_differing_from_unsplit_run;

--
-- A table co-located with a split group gets the same shards
--
CREATE TABLE dist.notes (company_id bigint NOT NULL, note text);
INSERT INTO dist.notes SELECT id, 'note ' || id FROM local.companies;
CREATE TABLE local.notes AS TABLE dist.notes;
SELECT create_distributed_table('dist.notes', 'company_id', colocate_with => 'dist.companies');
SELECT (SELECT string_agg(shard_index || '/' || shard_modulus || '@' || server_name, ' ' ORDER BY shard_index) FROM shardfdw.shards WHERE table_name = 'dist.notes'::regclass)
     = (SELECT string_agg(shard_index || '/' || shard_modulus || '@' || server_name, ' ' ORDER BY shard_index) FROM shardfdw.shards WHERE table_name = 'dist.companies'::regclass) AS same_layout;
SELECT pg_temp.misplaced('dist.notes', 'company_id');
SELECT pg_temp.dc('notes join', $q$SELECT c.id, n.note FROM companies c JOIN notes n ON n.company_id = c.id$q$),
       pg_temp.tasks($q$SELECT c.id, n.note FROM companies c JOIN notes n ON n.company_id = c.id$q$);
-- the same with create_distributed_table_concurrently
CREATE TABLE dist.memos (company_id bigint NOT NULL, id int NOT NULL, memo text, PRIMARY KEY (company_id, id));
INSERT INTO dist.memos SELECT c, g, 'memo ' || g FROM generate_series(1, 20) c, generate_series(1, 5) g;
CREATE TABLE local.memos AS TABLE dist.memos;
SELECT count(*) AS distributed FROM (SELECT create_distributed_table_concurrently('dist.memos', 'company_id', colocate_with => 'dist.companies')) d;
SELECT (SELECT string_agg(shard_index || '/' || shard_modulus || '@' || server_name, ' ' ORDER BY shard_index) FROM shardfdw.shards WHERE table_name = 'dist.memos'::regclass)
     = (SELECT string_agg(shard_index || '/' || shard_modulus || '@' || server_name, ' ' ORDER BY shard_index) FROM shardfdw.shards WHERE table_name = 'dist.companies'::regclass) AS same_layout;
SELECT pg_temp.misplaced('dist.memos', 'company_id');
SELECT pg_temp.dc('memos', $q$SELECT * FROM memos$q$);
SELECT pg_temp.dc('memos join', $q$SELECT c.id, count(m.id) FROM companies c JOIN memos m ON m.company_id = c.id GROUP BY c.id$q$),
       pg_temp.tasks($q$SELECT c.id, count(m.id) FROM companies c JOIN memos m ON m.company_id = c.id GROUP BY c.id$q$);
DROP TABLE dist.memos, local.memos;
-- a split group is no default: a table with its shard_count gets a new group
CREATE TABLE dist.other (id bigint);
SELECT create_distributed_table('dist.other', 'id', shard_count => 128);
SELECT (SELECT colocation_id FROM shardfdw.tables WHERE table_name = 'dist.other'::regclass)
    <> (SELECT colocation_id FROM shardfdw.tables WHERE table_name = 'dist.companies'::regclass) AS own_group;
DROP TABLE dist.other, dist.notes, local.notes;

--
-- Tenant isolation
--
CREATE SCHEMA split_t;
CREATE TABLE split_t.kinds (kind int PRIMARY KEY, label text);
INSERT INTO split_t.kinds SELECT g, 'kind ' || g FROM generate_series(0, 4) g;
SELECT create_reference_table('split_t.kinds');
CREATE TABLE split_t.tenants (tenant_id int, seq int, payload text, kind int REFERENCES split_t.kinds,
    PRIMARY KEY (tenant_id, seq));
INSERT INTO split_t.tenants SELECT CASE WHEN g % 3 = 0 THEN 42 ELSE g % 50 END, g, 'p' || g, g % 5 FROM generate_series(1, 3000) g;
CREATE TABLE split_t.local_tenants AS TABLE split_t.tenants;
SELECT create_distributed_table('split_t.tenants', 'tenant_id', colocate_with => 'none', shard_count => 4);
SELECT shardfdw_isolate_tenant('split_t.tenants', '42') AS isolated \gset
SELECT shard_modulus > 4 AS was_split, shard_name::regclass = (SELECT tableoid FROM split_t.tenants WHERE tenant_id = 42 LIMIT 1) AS holds_tenant
  FROM shardfdw.shards WHERE shardid = :isolated;
SELECT count(*) AS rows_in_isolated_shard, count(DISTINCT tenant_id) AS tenants_in_it
  FROM split_t.tenants t JOIN shardfdw.shards s ON s.shard_name::regclass = t.tableoid WHERE s.shardid = :isolated;
SELECT shardfdw_isolate_tenant('split_t.tenants', '42') = :isolated AS already_alone;
SELECT (SELECT count(*) FROM (SELECT * FROM split_t.tenants EXCEPT ALL SELECT * FROM split_t.local_tenants) a) +
       (SELECT count(*) FROM (SELECT * FROM split_t.local_tenants EXCEPT ALL SELECT * FROM split_t.tenants) b) AS rows_differing;
SELECT pg_temp.misplaced('split_t.tenants', 'tenant_id');
-- the new shards have the key, the foreign key to the reference table, and
-- take DDL like the others
SELECT count(*) AS constraints_per_shard FROM run_command_on_workers(format(
  $c$SELECT 1 FROM pg_constraint WHERE conrelid = 'split_t.%I'::regclass AND contype IN ('p', 'f') HAVING count(*) = 2$c$,
  (SELECT c.relname FROM shardfdw.shards s JOIN pg_class c ON c.oid = s.shard_name::regclass WHERE s.shardid = :isolated))) WHERE result = '1';
\set VERBOSITY terse
INSERT INTO split_t.tenants VALUES (42, 100000, 'bad kind', 99);
\set VERBOSITY default
ALTER TABLE split_t.tenants ADD COLUMN extra int DEFAULT 7;
CREATE INDEX ON split_t.tenants (payload);
UPDATE split_t.tenants SET extra = seq WHERE tenant_id IN (42, 1, 2);
SELECT count(*), sum(extra) FROM split_t.tenants;
SELECT count(*) FROM split_t.local_tenants l JOIN split_t.kinds k USING (kind);
SELECT count(*) FROM split_t.tenants t JOIN split_t.kinds k USING (kind);
SELECT undistribute_table('split_t.tenants');
SELECT (SELECT count(*) FROM (SELECT tenant_id, seq, payload, kind FROM split_t.tenants EXCEPT ALL SELECT * FROM split_t.local_tenants) a) +
       (SELECT count(*) FROM (SELECT * FROM split_t.local_tenants EXCEPT ALL SELECT tenant_id, seq, payload, kind FROM split_t.tenants) b) AS rows_differing_after_undistribute;
SELECT create_distributed_table('split_t.tenants', 'tenant_id', colocate_with => 'none', shard_count => 4);
SELECT min(shardid) AS isolated FROM shardfdw.shards WHERE table_name = 'split_t.tenants'::regclass \gset
SELECT cardinality(shardfdw_split_shard(:isolated)) AS new_shards;
SELECT min(shardid) AS isolated FROM shardfdw.shards WHERE table_name = 'split_t.tenants'::regclass AND shard_modulus = 8 \gset

-- a table moved to another schema takes its shards along: the new shards
-- go there too
CREATE SCHEMA split_s;
CREATE TABLE split_s.moved (id int PRIMARY KEY, v text);
INSERT INTO split_s.moved SELECT g, 'v' || g FROM generate_series(1, 500) g;
CREATE TABLE split_t.local_moved AS TABLE split_s.moved;
SELECT create_distributed_table('split_s.moved', 'id', colocate_with => 'none', shard_count => 2);
ALTER TABLE split_s.moved SET SCHEMA split_t;
-- (in the block_writes mode: the same result)
SELECT cardinality(shardfdw_split_shard((SELECT min(shardid) FROM shardfdw.shards WHERE table_name = 'split_t.moved'::regclass), 'block_writes')) AS new_shards;
SELECT shard_modulus, count(*), bool_and(shard_name LIKE 'split_t.%') AS in_new_schema
  FROM shardfdw.shards WHERE table_name = 'split_t.moved'::regclass GROUP BY 1 ORDER BY 1;
SELECT sum(result::int) AS shard_tables_on_workers FROM run_command_on_workers($c$SELECT count(*) FROM pg_tables WHERE schemaname = 'split_t' AND tablename LIKE 'moved%'$c$);
SELECT pg_temp.misplaced('split_t.moved', 'id');
SELECT (SELECT count(*) FROM (SELECT * FROM split_t.moved EXCEPT ALL SELECT * FROM split_t.local_moved) a) +
       (SELECT count(*) FROM (SELECT * FROM split_t.local_moved EXCEPT ALL SELECT * FROM split_t.moved) b) AS rows_differing;
DROP TABLE split_t.moved;
DROP SCHEMA split_s;

-- the online mode: the same result, rows written between its steps included
SELECT max(shardid) AS online FROM shardfdw.shards WHERE table_name = 'split_t.tenants'::regclass \gset
SELECT cardinality(shardfdw_split_shard(:online, 'force_logical')) AS new_shards;
SELECT pg_temp.misplaced('split_t.tenants', 'tenant_id');
SELECT (SELECT count(*) FROM (SELECT tenant_id, seq, payload, kind FROM split_t.tenants EXCEPT ALL SELECT * FROM split_t.local_tenants) a) +
       (SELECT count(*) FROM (SELECT * FROM split_t.local_tenants EXCEPT ALL SELECT tenant_id, seq, payload, kind FROM split_t.tenants) b) AS rows_differing_online;
SELECT sum(split_part(result, ' ', 1)::int) AS capture_triggers, sum(split_part(result, ' ', 2)::int) AS split_tables
  FROM run_command_on_workers($c$SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = 'shardfdw_split_capture') || ' ' || (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'shardfdw_split%')$c$);

--
-- Errors: nothing changes
--
\set VERBOSITY default
SELECT shardfdw_split_shard(1);
SELECT shardfdw_split_shard((SELECT min(shardid) FROM shardfdw.shards WHERE table_name = 'dist.geo_ips'::regclass));
SELECT shardfdw_split_shard(:isolated, 'logical');
-- the shard looked up in the same statement (satisfies_hash_partition()
-- locks the table, the split's job would wait for that lock)
\set VERBOSITY terse
SELECT shardfdw_split_shard(pg_temp.shard_of('split_t.tenants', 42));
\set VERBOSITY default
BEGIN;
SELECT shardfdw_split_shard(:isolated, 'force_logical');
ROLLBACK;
BEGIN;
SELECT shardfdw_split_shard(:isolated);
ROLLBACK;
BEGIN;
SELECT shardfdw_isolate_tenant('split_t.tenants', '42');
ROLLBACK;
SELECT shardfdw_isolate_tenant('local.companies', '1');
CREATE TYPE split_t.color AS ENUM ('red', 'green');
CREATE TABLE split_t.by_enum (c split_t.color, v int);
SELECT create_distributed_table('split_t.by_enum', 'c', shard_count => 2);
SELECT pg_temp.shard_of('split_t.by_enum', 'red'::split_t.color) AS s \gset
SELECT shardfdw_split_shard(:s);
CREATE TABLE split_t.dropped (id int, gone int, v int);
SELECT create_distributed_table('split_t.dropped', 'id', shard_count => 2);
ALTER TABLE split_t.dropped DROP COLUMN gone;
SELECT pg_temp.shard_of('split_t.dropped', 1) AS s \gset
SELECT shardfdw_split_shard(:s);
\set VERBOSITY terse

-- injected faults at each step: the error rolls everything back
SELECT pg_temp.layout('split_t.tenants') AS before \gset
SELECT min(shardid) AS victim FROM shardfdw.shards WHERE table_name = 'split_t.tenants'::regclass AND shardid <> :isolated \gset
SET shardfdw.test_fault_point = 'split-after-create';
SELECT shardfdw_split_shard(:victim, 'block_writes');
SET shardfdw.test_fault_point = 'split-after-copy';
SELECT shardfdw_split_shard(:victim, 'block_writes');
SET shardfdw.test_fault_point = 'split-before-cutover';
SELECT shardfdw_split_shard(:victim, 'block_writes');
SET shardfdw.test_fault_point = 'split-after-cutover';
SELECT shardfdw_split_shard(:victim, 'block_writes');
SET shardfdw.test_fault_point = 'split-after-create';
SELECT shardfdw_split_shard(:victim);
SET shardfdw.test_fault_point = 'split-after-copy';
SELECT shardfdw_split_shard(:victim);
SET shardfdw.test_fault_point = 'split-before-cutover';
SELECT shardfdw_split_shard(:victim, 'force_logical');
SET shardfdw.test_fault_point = 'split-after-cutover';
SELECT shardfdw_split_shard(:victim, 'auto');
-- an isolation in the online mode fails the same way
SELECT shardfdw_isolate_tenant('split_t.tenants', '7');
RESET shardfdw.test_fault_point;
-- the failed jobs dropped what they had created: no record is left
SELECT count(*) AS cleanup_records FROM shardfdw.cleanup;
SELECT kind, state, count(*) FROM shardfdw.jobs WHERE kind = 'split' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pg_temp.layout('split_t.tenants') = :'before' AS layout_unchanged;
SELECT w.server_name, split_part(w.result, ' ', 1)::bigint =
       (SELECT count(*) FROM shardfdw.shards s WHERE s.table_name = 'split_t.tenants'::regclass AND s.server_name = w.server_name)
         AS tenant_tables_match_catalog,
       split_part(w.result, ' ', 2) AS helpers
  FROM run_command_on_workers($c$SELECT count(*) FILTER (WHERE tablename LIKE 'tenants%') || ' ' || count(*) FILTER (WHERE tablename LIKE 'shardfdw_split%') + (SELECT count(*) FROM pg_trigger WHERE tgname = 'shardfdw_split_capture') FROM pg_tables WHERE schemaname = 'split_t'$c$) w
 ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT tenant_id, seq, payload, kind FROM split_t.tenants EXCEPT ALL SELECT * FROM split_t.local_tenants) a) +
       (SELECT count(*) FROM (SELECT * FROM split_t.local_tenants EXCEPT ALL SELECT tenant_id, seq, payload, kind FROM split_t.tenants) b) AS rows_differing;

-- A correlated subquery in the output of the foreign scans of a table with
-- isolated tenants (the FDW path): those scans run synchronously, so the
-- subquery's own scans do not use the connections in the middle of the
-- asynchronous Append's wait (it failed with "epoll_ctl() failed: File
-- exists" most of the time)
CREATE TABLE split_t.sq_t (k int PRIMARY KEY, tier int);
CREATE TABLE split_t.sq_o (k int, qty int);
SELECT create_distributed_table('split_t.sq_t', 'k', shard_count => 8);
SELECT create_distributed_table('split_t.sq_o', 'k', colocate_with => 'split_t.sq_t');
INSERT INTO split_t.sq_t SELECT g, g % 3 FROM generate_series(1, 14) g;
INSERT INTO split_t.sq_o SELECT g % 16 + 1, g % 7 FROM generate_series(1, 200) g;
SELECT shardfdw_isolate_tenant('split_t.sq_t', '3') > 0 AS isolated;
SELECT shardfdw_isolate_tenant('split_t.sq_t', '11') > 0 AS isolated;
CREATE FUNCTION pg_temp.rows_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN EXECUTE q LOOP RETURN NEXT r::text; END LOOP;
END
$$;
SELECT count(*) FILTER (WHERE line ~ 'Async Foreign Scan on sq_t') AS async_outer_scans,
       count(*) FILTER (WHERE line ~ 'Foreign Scan on sq_t') AS outer_scans,
       count(*) FILTER (WHERE line ~ 'Async Foreign Scan on sq_o') AS async_subquery_scans
  FROM pg_temp.rows_of($$EXPLAIN (COSTS OFF) SELECT t.k, (SELECT count(*) FROM split_t.sq_o o WHERE o.qty = t.tier) FROM split_t.sq_t t$$) AS line;
SELECT i, string_agg(line, ' ' ORDER BY line) AS rows
  FROM generate_series(1, 3) i,
       LATERAL pg_temp.rows_of($$SELECT t.k, (SELECT count(*) FROM split_t.sq_o o WHERE o.qty = t.tier) FROM split_t.sq_t t$$) AS line
 GROUP BY i ORDER BY i;

SET client_min_messages = warning;
DROP SCHEMA split_t CASCADE;
