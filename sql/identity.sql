--
-- identity: identity columns (GENERATED ALWAYS / BY DEFAULT AS IDENTITY) on
-- distributed and reference tables.  The identity stays on the
-- coordinator's table with its sequence (name, options, state and grants
-- kept by create_distributed_table and undistribute_table); shards and
-- replicas have a plain NOT NULL column and take the values the coordinator
-- computes.  Every statement runs on a distributed table (schema idt_dist)
-- and on the same local table (idt_local): same ids, same errors, same
-- rows.  (Last in the schedule: creates shards.)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
CREATE SCHEMA idt_dist;
CREATE SCHEMA idt_local;

-- run q under both schemas: the rows it returns (in order unless ordered is
-- false), its errors, then the contents of table tbl in both
CREATE FUNCTION pg_temp.both(q text, tbl text, ordered boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    err text[] := ARRAY['', ''];
    ret text[] := ARRAY['', ''];
    rows text[];
    r record;
    extra bigint;
    missing bigint;
BEGIN
    FOR i IN 1 .. 2 LOOP
        rows := '{}';
        BEGIN
            PERFORM set_config('search_path', (ARRAY['idt_dist', 'idt_local'])[i] || ', public', true);
            IF q ~* '\mRETURNING\M' THEN
                FOR r IN EXECUTE q LOOP
                    rows := rows || r::text;
                END LOOP;
            ELSE
                EXECUTE q;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            err[i] := SQLERRM;
        END;
        IF NOT ordered THEN
            rows := ARRAY(SELECT x FROM unnest(rows) x ORDER BY x);
        END IF;
        ret[i] := array_to_string(rows, ' ');
    END LOOP;
    PERFORM set_config('search_path', 'public', true);
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM idt_dist.%1$I EXCEPT ALL SELECT * FROM idt_local.%1$I) x', tbl)
        INTO extra;
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM idt_local.%1$I EXCEPT ALL SELECT * FROM idt_dist.%1$I) x', tbl)
        INTO missing;
    RETURN CASE WHEN ret[1] = ret[2] THEN CASE WHEN ret[1] = '' THEN '' ELSE 'returned ' || ret[1] || '; ' END
                ELSE format('RETURNING differs: dist %s, local %s; ', ret[1], ret[2]) END
        || CASE WHEN err[1] = err[2] AND err[1] = '' THEN ''
                WHEN err[1] = err[2] THEN 'both failed: ' || err[1] || '; '
                ELSE format('errors differ: dist "%s", local "%s"; ', err[1], err[2]) END
        || format('%s extra, %s missing', extra, missing);
END
$$;
-- the worker tables of idt_dist.tbl (shards or replicas): distinct column
-- lists, with the number of worker tables that have each
CREATE FUNCTION pg_temp.worker_columns(tbl text) RETURNS TABLE (columns text, tables bigint)
LANGUAGE sql AS $f$
  SELECT r, count(*) FROM (
    SELECT regexp_split_to_table(result, E'\n') AS r FROM run_command_on_workers(format(
      $$SELECT string_agg(cols, E'\n') FROM (
          SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                            || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
                            || CASE WHEN a.atthasdef THEN ' default' ELSE '' END, ', ' ORDER BY a.attnum) AS cols
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = 'idt_dist' AND c.relkind = 'r'
             AND regexp_replace(c.relname, '_[0-9]{6,}$', '') = %L
           GROUP BY c.oid) x$$, tbl))) y
  GROUP BY r ORDER BY r
$f$;
-- the identity columns of a table and their sequences
CREATE FUNCTION pg_temp.identities(tbl regclass) RETURNS TABLE (col name, kind "char", seq text, start bigint,
                                                                 incr bigint, last_value bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attname, a.attidentity, pg_get_serial_sequence(tbl::text, a.attname) AS s
               FROM pg_attribute a WHERE a.attrelid = tbl AND a.attidentity <> '' AND NOT a.attisdropped
              ORDER BY a.attnum LOOP
        col := r.attname;
        kind := r.attidentity;
        seq := r.s;
        SELECT q.seqstart, q.seqincrement INTO start, incr FROM pg_sequence q WHERE q.seqrelid = r.s::regclass;
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value END FROM %s', r.s) INTO last_value;
        RETURN NEXT;
    END LOOP;
END
$$;

-- ===================================================================
-- create_distributed_table with identity columns, empty and with rows
-- ===================================================================
-- ga: GENERATED ALWAYS, the distribution column; bd: BY DEFAULT, in the
-- primary key with distribution column k; em: empty, co-located with bd
CREATE TABLE idt_dist.ga (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 3) PRIMARY KEY, v text);
CREATE TABLE idt_dist.bd (id int GENERATED BY DEFAULT AS IDENTITY, k int NOT NULL, v text, PRIMARY KEY (k, id));
CREATE TABLE idt_dist.em (id bigint GENERATED ALWAYS AS IDENTITY, k int, v text);
CREATE TABLE idt_local.ga (LIKE idt_dist.ga INCLUDING IDENTITY INCLUDING INDEXES);
CREATE TABLE idt_local.bd (LIKE idt_dist.bd INCLUDING IDENTITY INCLUDING INDEXES);
CREATE TABLE idt_local.em (LIKE idt_dist.em INCLUDING IDENTITY);
CREATE ROLE idt_reader;
GRANT USAGE ON SEQUENCE idt_dist.ga_id_seq TO idt_reader;
SELECT pg_temp.both($q$INSERT INTO ga (v) SELECT 'r' || g FROM generate_series(1, 5) g$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) SELECT g % 3, 'r' || g FROM generate_series(1, 4) g$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd VALUES (100, 1, 'explicit')$q$, 'bd');
SELECT * FROM pg_temp.identities('idt_dist.ga');
SELECT create_distributed_table('idt_dist.ga', 'id', shard_count => 4);
SELECT create_distributed_table('idt_dist.bd', 'k', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('idt_dist.em', 'k', colocate_with => 'idt_dist.bd');
-- the identity and its sequence (name, options, state, grants) are the
-- parent's; partitions and shards have plain NOT NULL columns
SELECT * FROM pg_temp.identities('idt_dist.ga');
SELECT * FROM pg_temp.identities('idt_dist.bd');
SELECT * FROM pg_temp.identities('idt_dist.em');
SELECT has_sequence_privilege('idt_reader', 'idt_dist.ga_id_seq', 'USAGE');
SELECT pg_get_userbyid(relowner) = pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = 'idt_dist.ga'::regclass))
  AS same_owner FROM pg_class WHERE oid = 'idt_dist.ga_id_seq'::regclass;
SELECT count(*) AS partitions_with_identity FROM pg_inherits i JOIN pg_attribute a ON a.attrelid = i.inhrelid
 WHERE i.inhparent IN ('idt_dist.ga'::regclass, 'idt_dist.bd'::regclass, 'idt_dist.em'::regclass)
   AND a.attidentity <> '';
SELECT * FROM pg_temp.worker_columns('ga');
SELECT * FROM pg_temp.worker_columns('bd');
SELECT * FROM pg_temp.worker_columns('em');
SELECT pg_temp.both('SELECT 1', 'ga');
SELECT pg_temp.both('SELECT 1', 'bd');

-- ===================================================================
-- INSERT: the coordinator's sequence gives the ids
-- ===================================================================
-- router (bd is distributed on k): one row, simple and with RETURNING
SELECT pg_temp.strategy_tasks($q$INSERT INTO bd (k, v) VALUES (1, 'a')$q$, 'idt_dist, public');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (1, 'a') RETURNING id, k, v$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (id, k, v) VALUES (DEFAULT, 2, 'b') RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO em (k, v) VALUES (1, 'first') RETURNING *$q$, 'em');
-- the distribution column is the identity: the standard path (FDW)
SELECT pg_temp.strategy_tasks($q$INSERT INTO ga (v) VALUES ('a')$q$, 'idt_dist, public');
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('a') RETURNING *$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO ga VALUES (DEFAULT, 'b') RETURNING id$q$, 'ga');
-- multi-row, one shard and several
SELECT pg_temp.strategy_tasks($q$INSERT INTO bd (k, v) VALUES (1, 'm1'), (1, 'm2')$q$, 'idt_dist, public');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (1, 'm1'), (1, 'm2') RETURNING *$q$, 'bd');
SELECT pg_temp.strategy_tasks($q$INSERT INTO bd (k, v) VALUES (1, 'm3'), (2, 'm4'), (3, 'm5'), (4, 'm6')$q$, 'idt_dist, public');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (1, 'm3'), (2, 'm4'), (3, 'm5'), (4, 'm6') RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (5, 'm7'), (6, 'm8'), (7, 'm9')$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('m1'), ('m2'), ('m3') RETURNING *$q$, 'ga');
-- GENERATED ALWAYS: explicit values refused, unless OVERRIDING SYSTEM VALUE
SELECT pg_temp.both($q$INSERT INTO ga VALUES (1, 'x')$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO ga VALUES (DEFAULT, 'x'), (2, 'y')$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO em (id, k) VALUES (1, 1)$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO ga OVERRIDING SYSTEM VALUE VALUES (1, 'x'), (2, 'y') RETURNING *$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO em OVERRIDING SYSTEM VALUE VALUES (1000, 2, 'x') RETURNING *$q$, 'em');
-- BY DEFAULT: explicit values taken; OVERRIDING USER VALUE ignores them
SELECT pg_temp.both($q$INSERT INTO bd VALUES (500, 2, 'explicit') RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd OVERRIDING USER VALUE VALUES (999, 3, 'user value') RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (id, k, v) VALUES (600, 1, 'e1'), (DEFAULT, 2, 'e2'), (601, 3, 'e3') RETURNING *$q$, 'bd');

-- ===================================================================
-- prepared INSERTs (generic plans after five executions)
-- ===================================================================
PREPARE d_bd(int, text) AS INSERT INTO idt_dist.bd (k, v) VALUES ($1, $2) RETURNING id;
PREPARE l_bd(int, text) AS INSERT INTO idt_local.bd (k, v) VALUES ($1, $2) RETURNING id;
PREPARE d_ga(text) AS INSERT INTO idt_dist.ga (v) VALUES ($1) RETURNING id;
PREPARE l_ga(text) AS INSERT INTO idt_local.ga (v) VALUES ($1) RETURNING id;
SELECT format('EXECUTE %s_bd(%s, %L)', s, g % 4, 'p' || g) AS cmd
  FROM generate_series(1, 7) g, unnest(ARRAY['d', 'l']) s ORDER BY g, s \gexec
SELECT format('EXECUTE %s_ga(%L)', s, 'p' || g) AS cmd
  FROM generate_series(1, 7) g, unnest(ARRAY['d', 'l']) s ORDER BY g, s \gexec
SET plan_cache_mode = force_generic_plan;
EXECUTE d_bd(2, 'generic');
EXECUTE l_bd(2, 'generic');
EXECUTE d_ga('generic');
EXECUTE l_ga('generic');
SELECT pg_temp.strategy_tasks($q$EXECUTE d_bd(1, 'x')$q$, 'idt_dist, public');
RESET plan_cache_mode;
SELECT pg_temp.both('SELECT 1', 'bd');
SELECT pg_temp.both('SELECT 1', 'ga');
DEALLOCATE d_bd;
DEALLOCATE l_bd;
DEALLOCATE d_ga;
DEALLOCATE l_ga;

-- ===================================================================
-- INSERT ... SELECT: co-located, from a local table, from another table
-- ===================================================================
CREATE TABLE idt_dist.src (k int, v text);
INSERT INTO idt_dist.src SELECT g, 's' || g FROM generate_series(1, 6) g;
CREATE TABLE idt_local.src AS SELECT * FROM idt_dist.src;
SELECT create_distributed_table('idt_dist.src', 'k', colocate_with => 'idt_dist.bd');
CREATE TABLE idt_local.plain AS SELECT g AS k, 'l' || g AS v FROM generate_series(1, 4) g;
CREATE TABLE idt_dist.plain AS SELECT * FROM idt_local.plain;
-- nextval is not sent to the workers: the coordinator inserts the rows
SELECT pg_temp.strategy_tasks($q$INSERT INTO bd (k, v) SELECT k, v FROM src$q$, 'idt_dist, public');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) SELECT k, v FROM src ORDER BY k RETURNING *$q$, 'bd', false);
SELECT pg_temp.both($q$INSERT INTO bd (k, v) SELECT k, v FROM plain ORDER BY k RETURNING *$q$, 'bd', false);
SELECT pg_temp.both($q$INSERT INTO ga (v) SELECT v FROM src ORDER BY k RETURNING *$q$, 'ga', false);
SELECT pg_temp.both($q$INSERT INTO ga SELECT k, v FROM src$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO ga OVERRIDING SYSTEM VALUE SELECT k + 2000, v FROM src RETURNING *$q$, 'ga', false);
SELECT pg_temp.both($q$INSERT INTO em (k, v) SELECT k, v FROM bd WHERE k = 1 ORDER BY id RETURNING *$q$, 'em', false);

-- ===================================================================
-- COPY FROM
-- ===================================================================
COPY idt_dist.ga (v) FROM stdin;
c1
c2
\.
COPY idt_local.ga (v) FROM stdin;
c1
c2
\.
COPY idt_dist.bd (k, v) FROM stdin;
1	c1
2	c2
3	c3
\.
COPY idt_local.bd (k, v) FROM stdin;
1	c1
2	c2
3	c3
\.
-- explicit values: taken for BY DEFAULT and, as in PostgreSQL, by COPY for
-- GENERATED ALWAYS
COPY idt_dist.bd FROM stdin;
700	1	c4
\.
COPY idt_local.bd FROM stdin;
700	1	c4
\.
COPY idt_dist.ga FROM stdin;
3000	c5
\.
COPY idt_local.ga FROM stdin;
3000	c5
\.
SELECT pg_temp.both('SELECT 1', 'bd');
SELECT pg_temp.both('SELECT 1', 'ga');
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('after copy') RETURNING *$q$, 'ga');

-- ===================================================================
-- INSERT ... ON CONFLICT
-- ===================================================================
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (1, 'oc') ON CONFLICT (k, id) DO UPDATE SET v = excluded.v RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (id, k, v) VALUES (100, 1, 'oc2') ON CONFLICT (k, id) DO UPDATE SET v = excluded.v RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (id, k, v) VALUES (100, 1, 'x'), (DEFAULT, 2, 'oc3'), (500, 2, 'x') ON CONFLICT DO NOTHING RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) VALUES (1, 'oc4'), (2, 'oc5'), (3, 'oc6') ON CONFLICT DO NOTHING RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$INSERT INTO ga OVERRIDING SYSTEM VALUE VALUES (10, 'oc') ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING *$q$, 'ga');
-- as with serial columns, an ON CONFLICT with a conflict target needs the
-- shard of its rows known when planning, and values the workers can
-- compute: refused (before any value is taken) when the identity is the
-- distribution column, or for identity values of several rows
\set VERBOSITY default
INSERT INTO idt_dist.ga (v) VALUES ('oc') ON CONFLICT (id) DO NOTHING;
\set VERBOSITY terse
INSERT INTO idt_dist.bd (k, v) VALUES (1, 'oc'), (2, 'oc') ON CONFLICT (k, id) DO UPDATE SET v = excluded.v;

-- ===================================================================
-- UPDATE of an identity column
-- ===================================================================
SELECT pg_temp.both($q$UPDATE ga SET id = 5 WHERE id = 13$q$, 'ga');
SELECT pg_temp.both($q$UPDATE ga SET id = DEFAULT WHERE id = 13 RETURNING *$q$, 'ga');
SELECT pg_temp.both($q$UPDATE em SET id = 5$q$, 'em');
SELECT pg_temp.both($q$UPDATE bd SET id = id + 1000 WHERE k = 3 AND id = 999 RETURNING *$q$, 'bd');
SELECT pg_temp.both($q$UPDATE bd SET id = DEFAULT WHERE k = 2 AND v = 'b' RETURNING *$q$, 'bd');

-- ===================================================================
-- ALTER TABLE: identities change on the coordinator only
-- ===================================================================
\set VERBOSITY default
ALTER TABLE idt_dist.em ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;
\set VERBOSITY terse
SELECT pg_temp.both($q$ALTER TABLE em ADD COLUMN n bigint$q$, 'em');
SELECT pg_temp.both($q$UPDATE em SET n = k * 10$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n ADD GENERATED BY DEFAULT AS IDENTITY$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n SET NOT NULL$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 100)$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v) VALUES (3, 'n') RETURNING *$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n SET GENERATED ALWAYS, ALTER COLUMN n SET INCREMENT BY 5$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v, n) VALUES (3, 'n', 1)$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v) VALUES (3, 'n2'), (4, 'n3') RETURNING *$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n RESTART WITH 1000$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v) VALUES (5, 'n4') RETURNING *$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN id SET GENERATED BY DEFAULT$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (id, k, v) VALUES (7, 6, 'by default now') RETURNING *$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n DROP IDENTITY$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n DROP IDENTITY$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN n DROP IDENTITY IF EXISTS$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v) VALUES (8, 'no identity')$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v, n) VALUES (8, 'no identity', 1) RETURNING *$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN id DROP NOT NULL$q$, 'em');
SELECT pg_temp.both($q$ALTER TABLE em ALTER COLUMN id SET DEFAULT 1$q$, 'em');
SELECT * FROM pg_temp.identities('idt_dist.em');
SELECT * FROM pg_temp.identities('idt_local.em');
SELECT * FROM pg_temp.worker_columns('em');
-- TRUNCATE ... RESTART IDENTITY restarts the coordinator's sequence
SELECT pg_temp.both($q$TRUNCATE em$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v, n) VALUES (1, 'truncated', 1) RETURNING *$q$, 'em');
SELECT pg_temp.both($q$TRUNCATE em RESTART IDENTITY$q$, 'em');
SELECT pg_temp.both($q$INSERT INTO em (k, v, n) VALUES (1, 'restarted', 1) RETURNING *$q$, 'em');

-- ===================================================================
-- shard moves and splits: the new shards have the plain NOT NULL column
-- ===================================================================
SET client_min_messages = warning;
SELECT shardfdw_move_shard(shardid, CASE server_name WHEN 'worker1' THEN 'worker2' ELSE 'worker1' END, 'block_writes')
  FROM shardfdw.shards WHERE table_name = 'idt_dist.bd'::regclass AND shard_index = 0;
SELECT cardinality(shardfdw_split_shard(shardid, 'block_writes')) AS new_shards
  FROM shardfdw.shards WHERE table_name = 'idt_dist.ga'::regclass AND shard_index = 1;
RESET client_min_messages;
SELECT * FROM pg_temp.worker_columns('ga');
SELECT * FROM pg_temp.worker_columns('bd');
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('s1'), ('s2'), ('s3'), ('s4') RETURNING *$q$, 'ga');
SELECT pg_temp.both($q$INSERT INTO bd (k, v) SELECT g, 'moved' FROM generate_series(1, 8) g ORDER BY g RETURNING *$q$, 'bd', false);

-- ===================================================================
-- undistribute_table and distributing again: the sequence continues
-- ===================================================================
SELECT undistribute_table('idt_dist.ga');
SELECT * FROM pg_temp.identities('idt_dist.ga');
SELECT has_sequence_privilege('idt_reader', 'idt_dist.ga_id_seq', 'USAGE');
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('undistributed') RETURNING *$q$, 'ga');
SELECT create_distributed_table('idt_dist.ga', 'id', shard_count => 2);
SELECT pg_temp.both($q$INSERT INTO ga (v) VALUES ('distributed again') RETURNING *$q$, 'ga');
SELECT * FROM pg_temp.identities('idt_dist.ga');

-- ===================================================================
-- reference tables
-- ===================================================================
CREATE TABLE idt_dist.rf (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE TABLE idt_local.rf (LIKE idt_dist.rf INCLUDING IDENTITY INCLUDING INDEXES);
SELECT pg_temp.both($q$INSERT INTO rf (v) VALUES ('a'), ('b')$q$, 'rf');
SELECT create_reference_table('idt_dist.rf');
SELECT * FROM pg_temp.identities('idt_dist.rf');
SELECT * FROM pg_temp.worker_columns('rf');
SELECT pg_temp.both($q$INSERT INTO rf (v) VALUES ('c') RETURNING *$q$, 'rf');
SELECT pg_temp.both($q$INSERT INTO rf VALUES (100, 'x')$q$, 'rf');
SELECT pg_temp.both($q$INSERT INTO rf OVERRIDING SYSTEM VALUE VALUES (100, 'x') RETURNING *$q$, 'rf');
SELECT pg_temp.both($q$UPDATE rf SET id = 101 WHERE id = 100$q$, 'rf');
SELECT pg_temp.both($q$UPDATE rf SET id = DEFAULT, v = v || '!' WHERE id = 100 RETURNING *$q$, 'rf');
SELECT pg_temp.both($q$INSERT INTO rf (v) SELECT v FROM src ORDER BY k RETURNING *$q$, 'rf', false);
COPY idt_dist.rf (v) FROM stdin;
copied
\.
COPY idt_local.rf (v) FROM stdin;
copied
\.
SELECT pg_temp.both($q$ALTER TABLE rf ALTER COLUMN id SET GENERATED BY DEFAULT$q$, 'rf');
SELECT pg_temp.both($q$INSERT INTO rf VALUES (200, 'explicit') RETURNING *$q$, 'rf');
ALTER TABLE idt_dist.rf ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;
-- the replicas have the coordinator's ids
SELECT server_name, result FROM run_command_on_workers(
  $$SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM idt_dist.rf$$) ORDER BY 1;
SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM idt_dist.rf;
SELECT undistribute_table('idt_dist.rf');
SELECT pg_temp.both($q$INSERT INTO rf (v) VALUES ('local again') RETURNING *$q$, 'rf');
SELECT * FROM pg_temp.identities('idt_dist.rf');

-- ===================================================================
-- quoted names, a dropped column before the identity, a renamed sequence
-- ===================================================================
CREATE TABLE idt_dist."Mixed Case" (junk int, "Id" bigint GENERATED BY DEFAULT AS IDENTITY,
                                    "K" int NOT NULL, PRIMARY KEY ("K", "Id"));
ALTER TABLE idt_dist."Mixed Case" DROP COLUMN junk;
INSERT INTO idt_dist."Mixed Case" ("K") VALUES (1), (2);
ALTER SEQUENCE idt_dist."Mixed Case_Id_seq" RENAME TO "Custom Seq";
SELECT create_distributed_table('idt_dist."Mixed Case"', 'K', shard_count => 2);
SELECT * FROM pg_temp.identities('idt_dist."Mixed Case"');
INSERT INTO idt_dist."Mixed Case" ("K") VALUES (3) RETURNING *;
SELECT undistribute_table('idt_dist."Mixed Case"');
SELECT * FROM pg_temp.identities('idt_dist."Mixed Case"');
INSERT INTO idt_dist."Mixed Case" ("K") VALUES (4) RETURNING *;
SELECT * FROM idt_dist."Mixed Case" ORDER BY "Id";

-- ===================================================================
-- create_distributed_table_concurrently
-- ===================================================================
CREATE TABLE idt_dist.cc (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text);
CREATE TABLE idt_local.cc (LIKE idt_dist.cc INCLUDING IDENTITY INCLUDING INDEXES);
SELECT pg_temp.both($q$INSERT INTO cc (v) SELECT 'c' || g FROM generate_series(1, 20) g$q$, 'cc');
SELECT create_distributed_table_concurrently('idt_dist.cc', 'id', shard_count => 2);
SELECT * FROM pg_temp.identities('idt_dist.cc');
SELECT pg_temp.both($q$INSERT INTO cc (v) VALUES ('after') RETURNING *$q$, 'cc');

DROP TABLE idt_dist.ga, idt_dist.bd, idt_dist.em, idt_dist.src, idt_dist.cc;
DROP SCHEMA idt_dist CASCADE;
DROP SCHEMA idt_local CASCADE;
DROP ROLE idt_reader;
