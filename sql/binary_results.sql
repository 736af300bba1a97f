--
-- binary_results: a router SELECT, or a streamed multi-shard SELECT, whose
-- output columns all have built-in types with a setting-free binary form
-- (or whose binary form is their text) reads its rows from the workers in
-- binary (shardfdw.binary_results, src/executor/router.c).  Every row of
-- a table with such columns, edge values included, is read back with
-- binary on and off and compared with the same rows in a local table;
-- columns of other types keep text.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE SCHEMA br_dist;
CREATE SCHEMA br_local;
CREATE TYPE br_mood AS ENUM ('sad', 'ok');
CREATE TABLE br_local.t (
    id int, b bool, i2 int2, i8 int8, o oid, f4 float4, f8 float8,
    n numeric, n2 numeric(8,2), m money, d date, tm time(3), tz timetz,
    ts timestamp, tst timestamptz, tsp timestamp(0), iv interval, u uuid,
    ip inet, cn cidr, mc macaddr, m8 macaddr8, by bytea, tx text,
    vc varchar(5), bc char(4), nm name, js json, jb jsonb,
    arr int[], mood br_mood);
CREATE TABLE br_dist.t (LIKE br_local.t);
SELECT create_distributed_table('br_dist.t', 'id', shard_count => 4);
INSERT INTO br_local.t VALUES
 (1, true, 1, 1, 1, 1.5, 1.5, 1.5, 1.5, 1.5, '2026-01-01', '01:02:03.456', '01:02:03+05:30',
  '2026-01-01 01:02:03.123456', '2026-01-01 01:02:03.123456+00', '2026-01-01 01:02:03',
  '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '10.1.2.3/24', '10.1.0.0/16', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
  '\x00ff10', 'ä text', 'abc', 'ab', 'name', '{"a": [1, 2.50]}', '{"a": [1, 2.50]}',
  '{1,NULL,3}', 'ok'),
 (2, false, -32768, -9223372036854775808, 4294967295, 'NaN', 'Infinity',
  'NaN', -999999.99, -92233720368547758.08, '-infinity', '24:00:00', '00:00:00-15:59',
  'infinity', '-infinity', '4713-01-01 BC 00:00:00', '-178000000 years',
  '00000000-0000-0000-0000-000000000000', '::1', '2001:db8::/32', '00:00:00:00:00:00',
  'ff:ff:ff:ff:ff:ff:ff:ff', '\x', '', '', '', '', '[]', '{}', '{}', 'sad'),
 (3, NULL, 32767, 9223372036854775807, 0, '-Infinity', 1e-308,
  '0.000000000000000000000000000001', 0, 0, 'infinity', '00:00:00', NULL,
  '294276-12-31 23:59:59.999999', 'infinity', NULL, '0', NULL,
  '255.255.255.255', '0.0.0.0/0', NULL, NULL, NULL, 'line
break', NULL, 'x', NULL, 'null', 'null', NULL, NULL),
 (4, true, 0, 0, 0, 3.4028235e38, 0.1, 12345678901234567890.123456789, 12.345, 0.01,
  '2000-02-29', '23:59:59.999', '23:59:59.999999+15:59', '2000-02-29 12:00:00',
  '2000-02-29 12:00:00+14', '2000-02-29 12:00:00.6', '-1 days +00:00:00.000001',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '1.2.3.4', '1.2.3.4/32', '01:02:03:04:05:06',
  '01:02:03:04:05:06:07:08', decode(repeat('01', 300), 'hex'), repeat('long ', 500), 'ééééé',
  'é', repeat('n', 63), '"\u00e9"', '{"k": "\u00e9", "n": 1.000}', '{}', 'ok'),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL);
INSERT INTO br_dist.t SELECT * FROM br_local.t;

-- the columns read in binary form, every row, binary on and off, with
-- settings that change text forms (not binary ones) on the coordinator
SET extra_float_digits = 0;
SET IntervalStyle = 'sql_standard';
SET bytea_output = 'escape';
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kolkata';
CREATE FUNCTION pg_temp.all_rows(cols text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    k int;
BEGIN
    FOR k IN 1..6 LOOP
        RETURN NEXT pg_temp.pair_check('row ' || k,
            format('SELECT %s FROM t WHERE id = %s', cols, k), 'br_dist', 'br_local');
    END LOOP;
END
$$;
SET shardfdw.binary_results = on;
SELECT pg_temp.all_rows('id, b, i2, i8, o, f4, f8, n, n2, m, d, tm, tz, ts, tst, tsp, iv, u, ip, cn, mc, m8, by, tx, vc, bc, nm, js, jb');
SELECT pg_temp.all_rows('f8 * 3, n / 7, iv / 2, tst + iv / 1000, length(by), upper(tx), js::text, jb -> ''a''');
SET shardfdw.binary_results = off;
SELECT pg_temp.all_rows('id, b, i2, i8, o, f4, f8, n, n2, m, d, tm, tz, ts, tst, tsp, iv, u, ip, cn, mc, m8, by, tx, vc, bc, nm, js, jb');
SET shardfdw.binary_results = on;
-- arrays and user-defined types keep text
SELECT pg_temp.all_rows('id, arr, mood');
-- all shards: rows streamed, and two-phase aggregates' partial values
SELECT pg_temp.pair_check('all rows', 'SELECT id, b, i2, i8, o, f4, f8, n, n2, m, d, tm, tz, ts, tst, tsp, iv, u, ip, cn, mc, m8, by, tx, vc, bc, nm, js, jb FROM t', 'br_dist', 'br_local');
SELECT pg_temp.pair_check('all rows, ordered', 'SELECT id, n, ts, tx FROM t ORDER BY n NULLS FIRST, id', 'br_dist', 'br_local', true);
SELECT pg_temp.pair_check('aggregates', 'SELECT b, count(*), sum(i8), max(ts), min(tx), sum(n2) FROM t GROUP BY b', 'br_dist', 'br_local');
SELECT pg_temp.pair_check('all rows, with an array', 'SELECT id, arr, tst FROM t', 'br_dist', 'br_local');

-- which statements read binary rows (DEBUG2 of the router)
SET search_path = br_dist, public;
SET client_min_messages = debug2;
SELECT f8, tst, by FROM t WHERE id = 1;
SELECT f8, arr FROM t WHERE id = 1;
SELECT mood FROM t WHERE id = 2;
PREPARE br_p(int) AS SELECT n, iv, tx FROM t WHERE id = $1;
EXECUTE br_p(2);
EXECUTE br_p(3);
SET shardfdw.binary_results = off;
EXECUTE br_p(1);
SET shardfdw.binary_results = on;
-- multi-shard SELECTs whose rows are streamed: binary unless a column
-- is not; DML with RETURNING: text
SELECT count(*) FROM t;
SELECT id, arr FROM t ORDER BY id LIMIT 1;
UPDATE t SET i2 = i2 WHERE id = 1 RETURNING f8;
SET client_min_messages = warning;

-- a shard whose column's type differs from the coordinator's (changed on
-- the worker behind the coordinator's back): the binary form is never read
-- as another type's; text reads it
SELECT result FROM run_command_on_workers(format(
    'DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = %L AND c.relkind = %L LOOP EXECUTE format(%L, r.relname); END LOOP; END $$',
    'br_dist', 'r', 'ALTER TABLE br_dist.%I ALTER COLUMN i2 TYPE int4'));
SELECT i2 FROM t WHERE id = 3;
SET shardfdw.binary_results = off;
SELECT i2 FROM t WHERE id = 3;
RESET ALL;

DROP SCHEMA br_dist CASCADE;
DROP SCHEMA br_local CASCADE;
DROP TYPE br_mood;
