--
-- timezone_functions: built-in stable functions whose result depends on
-- TimeZone alone (timestamptz compared with timestamp or date, converted
-- to them, truncated, split into fields, moved by intervals, series and
-- window ranges, to_char with a constant format without TM) run on the
-- workers: their sessions get the coordinator's
-- TimeZone before each statement, also when it changes in the middle of a
-- transaction and again after a rollback undid it (src/connection).
-- Each statement runs on distributed tables (tz_dist) and on the same rows
-- in local tables (tz_local), under several time zones; the rows are
-- compared and the strategy of the distributed one is shown.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set f :abs_srcdir '/sql/include/planner_compare.sql'
\i :f
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.tzcheck(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
    SELECT pg_temp.pair_check(label || ' [' || current_setting('TimeZone') || ']', q,
                              'tz_dist', 'tz_local', ordered)
$$;

CREATE SCHEMA tz_dist;
CREATE SCHEMA tz_local;
CREATE TABLE tz_dist.e (id int, ts timestamptz, lts timestamp, d date);
SELECT create_distributed_table('tz_dist.e', 'id', shard_count => 4);
CREATE TABLE tz_dist.f (id int, until timestamptz);
SELECT create_distributed_table('tz_dist.f', 'id', colocate_with => 'tz_dist.e');
CREATE TABLE tz_local.e (id int, ts timestamptz, lts timestamp, d date);
CREATE TABLE tz_local.f (id int, until timestamptz);
-- every 97 minutes from 2024-03-08 (UTC) for 9 days: around midnight in
-- every zone, and the DST changes of 2024-03-10 (US) and 2024-03-31
-- (Europe, not reached) / Lord Howe's half hour
INSERT INTO tz_local.e
    SELECT g % 20, '2024-03-08 00:00+00'::timestamptz + g * interval '97 minutes',
           '2024-03-08 00:00'::timestamp + g * interval '89 minutes',
           '2024-03-08'::date + g / 15
    FROM generate_series(0, 130) g;
INSERT INTO tz_local.e VALUES (20, NULL, NULL, NULL);
INSERT INTO tz_local.f SELECT g, '2024-03-10 12:00+00'::timestamptz + g * interval '5 hours' FROM generate_series(0, 19) g;
INSERT INTO tz_dist.e SELECT * FROM tz_local.e;
INSERT INTO tz_dist.f SELECT * FROM tz_local.f;

-- the statements, each under each time zone
CREATE TEMP TABLE queries (n int, label text, q text, ordered boolean DEFAULT false);
INSERT INTO queries VALUES
 (1, 'pinned: conversions and comparisons',
  'SELECT id, ts::date, ts::timestamp, lts::timestamptz, d::timestamptz, ts > lts, ts::date = d, lts < ts - interval ''2 hours'' FROM e WHERE id = 5', false),
 (2, 'pinned: truncation and fields',
  'SELECT date_trunc(''day'', ts), date_trunc(''hour'', ts + interval ''1 month''), date_trunc(''day'', ts, ''Asia/Tokyo''), extract(hour FROM ts), date_part(''dow'', ts) FROM e WHERE id = 7', false),
 (3, 'pinned: series',
  'SELECT g FROM e, generate_series(ts, ts + interval ''1 day'', interval ''7 hours'') g WHERE id = 3 ORDER BY 1', true),
 (4, 'pinned: a stable filter',
  'SELECT id, ts FROM e WHERE id = 11 AND ts >= ''2024-03-10''::date AND lts < ts', false),
 (5, 'grouped by day',
  'SELECT date_trunc(''day'', ts) AS day, count(*), min(lts) FROM e GROUP BY 1', false),
 (6, 'grouped by the key, by day',
  'SELECT id, ts::date, count(*) FROM e GROUP BY 1, 2', false),
 (7, 'filtered by a date and a timestamp',
  'SELECT count(*), min(ts) FROM e WHERE ts >= ''2024-03-10''::date AND ts < ''2024-03-12 00:00''::timestamp', false),
 (8, 'hour of day',
  'SELECT extract(hour FROM ts) AS h, count(*) FROM e GROUP BY 1', false),
 (9, 'window over a range of a day',
  'SELECT id, ts, count(*) OVER (PARTITION BY id ORDER BY ts RANGE BETWEEN interval ''1 day'' PRECEDING AND CURRENT ROW) FROM e', false),
 (10, 'co-located join on a stable condition',
  'SELECT e.id, count(*) FROM e JOIN f ON e.id = f.id AND e.ts < f.until - interval ''1 day'' AND e.lts::date <= f.until GROUP BY 1', false),
 (11, 'top-N by a conversion',
  'SELECT id, ts::timestamp AS local_ts FROM e WHERE ts IS NOT NULL ORDER BY ts::timestamp DESC, id LIMIT 5', true),
 (12, 'OVERLAPS',
  'SELECT count(*) FROM e WHERE (ts, interval ''3 hours'') OVERLAPS (''2024-03-10 01:00''::timestamp, ''2024-03-10 04:00''::timestamp)', false);

CREATE FUNCTION pg_temp.run_all() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    z text;
    r record;
BEGIN
    FOREACH z IN ARRAY ARRAY['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'] LOOP
        -- changes the TimeZone between statements of one transaction
        PERFORM set_config('TimeZone', z, true);
        FOR r IN SELECT * FROM queries ORDER BY n LOOP
            RETURN NEXT pg_temp.tzcheck(r.label, r.q, r.ordered);
        END LOOP;
    END LOOP;
END
$$;
SELECT * FROM pg_temp.run_all();

-- the same in autocommit statements (one implicit remote transaction each)
SET TimeZone = 'America/New_York';
SELECT pg_temp.tzcheck(label, q, ordered) FROM queries WHERE n IN (1, 2, 5);
SET TimeZone = 'Asia/Kolkata';
SELECT id, date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 3;

-- in an explicit transaction: the remote transaction started under one
-- zone, the next statements run under the next ones; a SET undone by
-- ROLLBACK TO SAVEPOINT is undone on the workers too
BEGIN;
SET TimeZone = 'UTC';
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
SET TimeZone = 'Asia/Tokyo';
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
SELECT pg_temp.tzcheck('in a transaction', 'SELECT date_trunc(''day'', ts) AS day, count(*) FROM e GROUP BY 1');
SAVEPOINT a;
SET TimeZone = 'America/New_York';
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
ROLLBACK TO SAVEPOINT a;
SHOW TimeZone;
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
SELECT pg_temp.tzcheck('after ROLLBACK TO SAVEPOINT', 'SELECT date_trunc(''day'', ts) AS day, count(*) FROM e GROUP BY 1');
SET LOCAL TimeZone = 'Asia/Kolkata';
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
COMMIT;
-- SET LOCAL ended with the transaction: back to Tokyo
SHOW TimeZone;
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;

-- a SET made before a savepoint reaches the workers with the first
-- statement after it, before their own savepoint: ROLLBACK TO SAVEPOINT
-- keeps it on both sides
BEGIN;
SET TimeZone = 'UTC';
SELECT count(*) FROM tz_dist.e WHERE id = 7;
SET TimeZone = 'Asia/Kolkata';
SAVEPOINT b;
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
ROLLBACK TO SAVEPOINT b;
SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 2;
SELECT pg_temp.tzcheck('SET before a savepoint rolled back to', 'SELECT date_trunc(''day'', ts), ts::date FROM e WHERE id = 7');
COMMIT;
SET TimeZone = 'Asia/Tokyo';

-- a transaction that rolls back a SET sent inside it
BEGIN;
SELECT count(*) FROM tz_dist.e WHERE id = 7;
SET TimeZone = 'Pacific/Chatham';
SELECT date_trunc('day', ts) FROM tz_dist.e WHERE id = 7 ORDER BY ts LIMIT 1;
ROLLBACK;
SHOW TimeZone;
SELECT pg_temp.tzcheck('after ROLLBACK', 'SELECT date_trunc(''day'', ts) AS day, count(*) FROM e GROUP BY 1');
SELECT pg_temp.tzcheck('after ROLLBACK, pinned', 'SELECT date_trunc(''day'', ts), ts::date FROM e WHERE id = 7');

-- prepared statements (the worker's own prepared statement is reused)
-- follow the zone of each execution
PREPARE daily(int) AS SELECT date_trunc('day', ts), ts::date FROM tz_dist.e WHERE id = $1 ORDER BY ts LIMIT 1;
SET TimeZone = 'UTC';
EXECUTE daily(7);
SET TimeZone = 'Pacific/Chatham';
EXECUTE daily(7);
SET plan_cache_mode = force_generic_plan;
EXECUTE daily(7);
SET TimeZone = 'America/New_York';
EXECUTE daily(7);
RESET plan_cache_mode;
DEALLOCATE daily;

-- a UPDATE with a stable condition runs on the workers too
SET TimeZone = 'Asia/Kolkata';
SELECT pg_temp.strategy_tasks('UPDATE e SET d = ts::date WHERE ts::date <> d', 'tz_dist, public');
UPDATE tz_dist.e SET d = ts::date WHERE ts::date <> d;
UPDATE tz_local.e SET d = ts::date WHERE ts::date <> d;
SELECT pg_temp.tzcheck('after UPDATE', 'SELECT * FROM e');

-- the FDW path sends such conditions in its remote SQL too
SET shardfdw.enable_router = off;
SET shardfdw.enable_multi_shard = off;
SELECT l FROM pg_temp.explain_lines($$EXPLAIN (VERBOSE, COSTS OFF) SELECT id, ts FROM tz_dist.e WHERE id = 11 AND ts >= '2024-03-10'::date AND lts < ts$$) l
 WHERE l ~ 'Remote SQL';
BEGIN;
SELECT pg_temp.tzcheck(label, q, ordered) FROM queries WHERE n IN (4, 7) ORDER BY n;
SET TimeZone = 'America/New_York';
SELECT pg_temp.tzcheck(label, q, ordered) FROM queries WHERE n IN (4, 7) ORDER BY n;
COMMIT;
RESET shardfdw.enable_router;
RESET shardfdw.enable_multi_shard;

-- to_char of timestamptz, timestamp and interval with a constant format
-- without TM: English names, the session's time zone (abbreviation and
-- offset too): shipped, grouped by in two-phase aggregates
SET TimeZone = 'America/New_York';
SELECT pg_temp.tzcheck('to_char', 'SELECT id, to_char(ts, ''Day DD Mon YYYY HH24:MI TZ OF''), to_char(lts, ''FMMonth ddd IW "tz" Q''), to_char(ts - lts, ''HH24 MI DD'') FROM e WHERE id = 4');
SELECT pg_temp.tzcheck('to_char, all shards', 'SELECT to_char(ts, ''YYYY-MM-DD''), count(*) FROM e GROUP BY 1');
SET TimeZone = 'Australia/Lord_Howe';
SELECT pg_temp.tzcheck('to_char, all shards', 'SELECT to_char(ts, ''YYYY-MM-DD''), count(*) FROM e GROUP BY 1');
SELECT pg_temp.tzcheck('to_char in WHERE', 'SELECT id, ts FROM e WHERE to_char(ts, ''HH24'') = ''00''');
-- not shipped: text output of timestamptz (DateStyle), to_char with TM
-- (lc_time names), "tm" anywhere in the format, a format that is not a
-- constant, to_char of numbers (lc_numeric), age(timestamptz) (the current
-- date)
SELECT pg_temp.tzcheck('text output', 'SELECT id, ts::text FROM e WHERE id = 4');
SELECT pg_temp.tzcheck('to_char TM', 'SELECT id, to_char(ts, ''TMDay DD'') FROM e WHERE id = 4');
SELECT pg_temp.tzcheck('to_char quoted tm', 'SELECT id, to_char(ts, ''"atm" DD'') FROM e WHERE id = 4');
SELECT pg_temp.tzcheck('to_char format of a column', 'SELECT id, to_char(ts, id::text) FROM e WHERE id = 4');
SELECT pg_temp.tzcheck('to_char of a number', 'SELECT id, to_char(id, ''999D9'') FROM e WHERE id = 4');

RESET TimeZone;
DROP SCHEMA tz_dist CASCADE;
DROP SCHEMA tz_local CASCADE;
