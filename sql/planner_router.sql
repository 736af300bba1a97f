--
-- planner_router: the router strategy of the distributed planner.
--
-- Runs after "differential" and "seeds", and reuses what they leave behind:
-- the ad platform of seed 004 in schemas "dist" (distributed, co-located on
-- company_id, geo_ips a reference table) and "local" (plain tables, same
-- rows), the comparison helper dt_compare, and seed 002's tables in schema
-- seed002.  Every query is checked twice: its result, run at the top level,
-- against the local copy (pg_temp.diff_check: "label: ok, N rows") and the
-- strategy the planner chose (rt_strategy: "router, 1 task" or "standard").
--
SET client_min_messages = warning;

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

-- The strategy of a statement and its task count (pg_temp.strategy_tasks),
-- callable as public.rt_strategy
CREATE FUNCTION public.rt_strategy(q text, path text DEFAULT 'dist, public')
RETURNS text
LANGUAGE sql AS $$ SELECT pg_temp.strategy_tasks(q, path) $$;

-- both checks in one line
CREATE FUNCTION public.rt_check(label text, q text, ordered boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pg_temp.diff_check(label, q, ordered) || ' [' || public.rt_strategy(q) || ']';
END
$$;

\pset tuples_only on
\pset format unaligned

--
-- Routed SELECTs: one shard pinned by a constant
--
SELECT rt_check('pk lookup', $q$SELECT * FROM companies WHERE id = 5$q$);
SELECT rt_check('const on the left', $q$SELECT name FROM companies WHERE 7 = id$q$);
SELECT rt_check('int4 const on bigint key', $q$SELECT name FROM companies WHERE id = 7::int4$q$);
SELECT rt_check('missing key', $q$SELECT * FROM companies WHERE id = 100000$q$);
SELECT rt_check('filter and order', $q$SELECT id, name, monthly_budget FROM campaigns WHERE company_id = 3 AND monthly_budget > 100 ORDER BY id$q$, true);
SELECT rt_check('limit offset', $q$SELECT id FROM ads WHERE company_id = 4 ORDER BY id LIMIT 5 OFFSET 2$q$, true);
SELECT rt_check('aggregates', $q$SELECT count(*), sum(cost_per_click_usd), avg(cost_per_click_usd), min(clicked_at), max(site_url) FROM clicks WHERE company_id = 3$q$);
SELECT rt_check('group by having', $q$SELECT ad_id, count(*) FROM clicks WHERE company_id = 2 GROUP BY ad_id HAVING count(*) > 1$q$);
SELECT rt_check('distinct', $q$SELECT DISTINCT site_url FROM clicks WHERE company_id = 6$q$);
SELECT rt_check('count distinct', $q$SELECT count(DISTINCT ad_id) FROM clicks WHERE company_id = 6$q$);
SELECT rt_check('join on the key', $q$SELECT a.id, a.name, c.name FROM ads a JOIN campaigns c ON c.company_id = a.company_id AND c.id = a.campaign_id WHERE a.company_id = 5$q$);
SELECT rt_check('join pinned on the other side', $q$SELECT a.id, c.name FROM ads a JOIN campaigns c ON c.company_id = a.company_id AND c.id = a.campaign_id WHERE c.company_id = 5$q$);
SELECT rt_check('three tables', $q$SELECT co.name, count(*) FROM companies co JOIN ads a ON a.company_id = co.id JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id WHERE co.id = 8 GROUP BY co.name$q$);
SELECT rt_check('both pinned', $q$SELECT a.id, c.id FROM ads a, campaigns c WHERE a.company_id = 2 AND c.company_id = 2 AND a.campaign_id = c.id$q$);
SELECT rt_check('left join', $q$SELECT a.id, count(cl.id) FROM ads a LEFT JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id WHERE a.company_id = 9 AND cl.company_id = 9 GROUP BY a.id$q$);
SELECT rt_check('reference table join', $q$SELECT i.id, g.addrs FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip WHERE i.company_id = 4$q$);
SELECT rt_check('subquery in FROM', $q$SELECT s.ad_id, s.n FROM (SELECT ad_id, count(*) AS n FROM clicks WHERE company_id = 3 GROUP BY ad_id) s WHERE s.n > 0$q$);
SELECT rt_check('IN subquery', $q$SELECT id FROM ads WHERE company_id = 3 AND id IN (SELECT ad_id FROM clicks WHERE company_id = 3)$q$);
SELECT rt_check('correlated EXISTS', $q$SELECT id FROM ads a WHERE company_id = 3 AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.company_id = 3 AND c.ad_id = a.id)$q$);
SELECT rt_check('scalar subquery', $q$SELECT id, (SELECT max(clicked_at) FROM clicks c WHERE c.company_id = 2 AND c.ad_id = a.id) FROM ads a WHERE a.company_id = 2$q$);
SELECT rt_check('CTE', $q$WITH t AS (SELECT ad_id, count(*) AS n FROM clicks WHERE company_id = 7 GROUP BY ad_id) SELECT a.name, t.n FROM t JOIN ads a ON a.id = t.ad_id AND a.company_id = 7$q$);
SELECT rt_check('window rank (seed 004)', $q$SELECT a.campaign_id, RANK() OVER (PARTITION BY a.campaign_id ORDER BY a.campaign_id, count(*) DESC), count(*) AS n_impressions, a.id FROM ads AS a JOIN impressions AS i ON i.company_id = a.company_id AND i.ad_id = a.id WHERE a.company_id = 5 GROUP BY a.campaign_id, a.id ORDER BY a.campaign_id, n_impressions DESC, a.id$q$, true);
SELECT rt_check('window frame', $q$SELECT id, sum(cost_per_click_usd) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM clicks WHERE company_id = 1 ORDER BY id$q$, true);
SELECT rt_check('union', $q$SELECT id FROM ads WHERE company_id = 2 UNION SELECT ad_id FROM clicks WHERE company_id = 2$q$);
SELECT rt_check('jsonb and inet', $q$SELECT id, user_data->>'browser', host(user_ip) FROM clicks WHERE company_id = 4 AND user_data ? 'browser'$q$);
SELECT rt_check('NULLs', $q$SELECT id, monthly_budget IS NULL, coalesce(monthly_budget, -1) FROM campaigns WHERE company_id = 1$q$);
SELECT rt_check('array column', $q$SELECT id, blacklisted_site_urls, cardinality(blacklisted_site_urls) FROM campaigns WHERE company_id = 2$q$);
SELECT rt_check('numeric precision', $q$SELECT sum(cost_per_click_usd) / 3, stddev(cost_per_click_usd) FROM clicks WHERE company_id = 5$q$);
SELECT rt_check('timestamps', $q$SELECT id, clicked_at, date_trunc('hour', clicked_at), clicked_at + interval '1 day' FROM clicks WHERE company_id = 6$q$);
SELECT rt_check('quoted text', $q$SELECT name, name || ' – ☀' FROM companies WHERE id = 5 AND name LIKE '%''Reilly%'$q$);
SELECT rt_check('same shard twice', $q$SELECT id FROM ads WHERE company_id = 5 AND company_id = 5$q$);
SELECT rt_check('FOR UPDATE', $q$SELECT id FROM ads WHERE company_id = 5 ORDER BY id LIMIT 1 FOR UPDATE$q$);

--
-- Statements the router must not take (several shards, unshippable or
-- unknown expressions): still correct, through the multi-shard strategy
-- when it applies (planner_multi_shard), else the standard planner (FDW)
--
SELECT rt_check('no pin', $q$SELECT count(*) FROM ads$q$);
SELECT rt_check('two shards', $q$SELECT id FROM ads WHERE company_id = 1 OR company_id = 2$q$);
SELECT rt_check('IN list', $q$SELECT id FROM ads WHERE company_id IN (1, 2)$q$);
SELECT rt_check('two different keys', $q$SELECT a.id FROM ads a, campaigns c WHERE a.company_id = 1 AND c.company_id = 2 AND c.id = a.campaign_id$q$);
SELECT rt_check('unpinned join side', $q$SELECT a.id FROM ads a JOIN campaigns c ON c.id = a.campaign_id WHERE a.company_id = 3$q$);
SELECT rt_check('unpinned subquery', $q$SELECT id FROM ads WHERE company_id = 3 AND campaign_id IN (SELECT id FROM campaigns)$q$);
SELECT rt_check('outer join pin only in ON', $q$SELECT a.id, cl.id FROM ads a LEFT JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id WHERE a.company_id = 9$q$);
SELECT rt_check('volatile function', $q$SELECT id FROM ads WHERE company_id = 3 AND random() >= 0$q$);
SELECT rt_check('user function of a column', $q$SELECT id FROM ads WHERE company_id = 3 AND dt_is_even(id)$q$);
SELECT rt_check('system column', $q$SELECT count(DISTINCT tableoid) FROM ads WHERE company_id = 3$q$);
SELECT rt_check('whole row', $q$SELECT a FROM ads a WHERE company_id = 3$q$);
SELECT rt_check('local table', $q$SELECT a.id FROM ads a JOIN local.companies c ON c.id = a.company_id WHERE a.company_id = 3$q$);
SELECT rt_check('reference only', $q$SELECT count(*) FROM geo_ips$q$);
SELECT rt_check('non-equality', $q$SELECT id FROM ads WHERE company_id < 2$q$);
SELECT rt_check('pin through an expression', $q$SELECT id FROM ads WHERE company_id + 0 = 3$q$);

-- stable expressions without columns (now(), CURRENT_DATE, user functions
-- of constants): computed once on the coordinator, sent as literals
SELECT rt_check('now()', $q$SELECT id FROM clicks WHERE company_id = 3 AND clicked_at < now()$q$);
SELECT rt_check('CURRENT_DATE and intervals', $q$SELECT id FROM clicks WHERE company_id = 3 AND clicked_at < CURRENT_DATE - interval '1 day' AND clicked_at > timestamp '2020-01-01' + (now() - now())$q$);
SELECT rt_check('user function of a constant', $q$SELECT id FROM ads WHERE company_id = 3 AND dt_is_even(4)$q$);
SELECT rt_check('now() over all shards', $q$SELECT count(*), max(clicked_at) FROM clicks WHERE clicked_at < now()$q$);
SELECT rt_check('now() in the output of a combine', $q$SELECT count(*), now() IS NOT NULL FROM clicks$q$);
SELECT rt_check('stable expression in the pin', $q$SELECT name FROM companies WHERE id = length(to_char(now(), 'YYYY'))$q$);
SET search_path = dist, public;
PREPARE rt_p3(bigint, int) AS SELECT count(*) FROM clicks WHERE company_id = $1 AND clicked_at < now() - $2 * interval '1 day';
SET plan_cache_mode = force_generic_plan;
EXECUTE rt_p3(3, 1);
SELECT pg_temp.explain_lines('EXPLAIN (COSTS OFF) EXECUTE rt_p3(3, 1)') l LIMIT 3;
RESET plan_cache_mode;
SELECT count(*) FROM local.clicks WHERE company_id = 3 AND clicked_at < now() - 1 * interval '1 day';
RESET search_path;

-- the switch
SET shardfdw.enable_router = off;
SELECT rt_check('router off', $q$SELECT * FROM companies WHERE id = 5$q$);
RESET shardfdw.enable_router;

--
-- Shard routing is PostgreSQL's own hash partition routing: every key of
-- every table finds its row through the router (bigint, int4 and text keys)
--
CREATE TABLE dist.rt_int (k int PRIMARY KEY, v text);
CREATE TABLE dist.rt_text (k text PRIMARY KEY, v int);
SELECT create_distributed_table('dist.rt_int', 'k', shard_count => 7);
SELECT create_distributed_table('dist.rt_text', 'k', shard_count => 5);
INSERT INTO dist.rt_int SELECT i, 'v' || i FROM generate_series(-50, 150) i;
INSERT INTO dist.rt_text SELECT 'key ' || i, i FROM generate_series(1, 150) i;

CREATE FUNCTION public.rt_routing_misses(rel regclass, col text, keys text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k text;
    misses bigint := 0;
    n bigint;
BEGIN
    FOR k IN EXECUTE format('SELECT %I::text FROM %s', col, keys) LOOP
        -- a constant (planned router) and a parameter (routed at run time)
        EXECUTE format('SELECT count(*) FROM %s WHERE %I = %L', rel, col, k) INTO n;
        IF n <> 1 THEN misses := misses + 1; END IF;
        EXECUTE format('SELECT count(*) FROM %s WHERE %I = $1::%s', rel, col,
                       (SELECT format_type(atttypid, NULL) FROM pg_attribute
                         WHERE attrelid = rel AND attname = col)) INTO n USING k;
        IF n <> 1 THEN misses := misses + 1; END IF;
    END LOOP;
    RETURN misses;
END
$$;
SELECT 'companies' AS t, rt_routing_misses('dist.companies', 'id', 'local.companies');
SELECT 'rt_int' AS t, rt_routing_misses('dist.rt_int', 'k', 'dist.rt_int');
SELECT 'rt_text' AS t, rt_routing_misses('dist.rt_text', 'k', 'dist.rt_text');
SELECT rt_strategy($q$SELECT v FROM rt_int WHERE k = -3$q$);
SELECT rt_strategy($q$SELECT v FROM rt_text WHERE k = 'key 9'$q$);
-- a bigint constant against the int4 key: same hash opfamily
SELECT v, rt_strategy($q$SELECT v FROM rt_int WHERE k = 42::bigint$q$) FROM dist.rt_int WHERE k = 42::bigint;
-- collation-sensitive equality on another collation: not pinned (all shards)
SELECT rt_strategy($q$SELECT v FROM rt_text WHERE k = 'key 9' COLLATE "C"$q$);

--
-- The seeds' queries (their results are checked against plain PostgreSQL by
-- the "seeds" test, which runs before this one): the strategy each gets
--
SELECT 'seed001 owner 123, created_at > now()' AS q, rt_strategy($q$SELECT id, owner_id, event_type, properties FROM events WHERE owner_id = 123 AND created_at > now() - interval '1 day'$q$, 'seed001, public');
SELECT 'seed001 events per type (reference join)' AS q, rt_strategy($q$SELECT et.name, count(*) FROM events e JOIN event_types et ON e.event_type = et.name GROUP BY et.name ORDER BY et.name$q$, 'seed001, public');
SELECT 'seed001 user 7, two left joins' AS q, rt_strategy($q$SELECT u.email, count(e.*) as event_count, count(s.*) as session_count FROM users u LEFT JOIN events e ON u.id = e.owner_id LEFT JOIN user_sessions s ON u.id = s.owner_id WHERE u.id = 7 GROUP BY u.email$q$, 'seed001, public');
SELECT 'seed002 device 42 outliers' AS q, rt_strategy($q$SELECT device_id, COUNT((CASE WHEN (payload ->> 'humidity')::decimal < 60 THEN 1 ELSE NULL END)) AS LowHumidity FROM events WHERE device_id = 42 GROUP BY device_id$q$, 'seed002, public');
SELECT 'seed002 device 42 top 5' AS q, rt_strategy($q$SELECT event_id FROM events WHERE device_id = 42 ORDER BY event_id LIMIT 5$q$, 'seed002, public');
SELECT 'seed002 event 7 (no key)' AS q, rt_strategy($q$SELECT event_id, device_id FROM events WHERE event_id = 7$q$, 'seed002, public');
SELECT 'seed003 products of store 336' AS q, rt_strategy($q$SELECT p.product_id, p.name FROM stores AS s INNER JOIN products AS p ON s.store_id = p.store_id WHERE s.store_id = 336 ORDER BY p.product_id$q$, 'seed003, public');
SELECT 'seed003 top products of store 5' AS q, rt_strategy($q$SELECT p.product_id, p.name, SUM(l.quantity) AS total_ordered, COUNT(p.product_id) FROM products AS p INNER JOIN line_items AS l ON p.store_id = l.store_id AND p.product_id = l.product_id WHERE p.store_id = 5 GROUP BY p.store_id, p.product_id ORDER BY total_ordered DESC, p.product_id LIMIT 5$q$, 'seed003, public');
SELECT 'seed003 average order amounts (CTE)' AS q, rt_strategy($q$WITH order_amounts AS (SELECT store_id, order_id, SUM(quantity) AS total_quantity, COUNT(*) AS order_lines, SUM(line_amount) AS order_amount FROM line_items WHERE store_id = 5 GROUP BY store_id, order_id) SELECT s.name, AVG(o.total_quantity), AVG(o.order_lines), AVG(o.order_amount) FROM stores AS s INNER JOIN order_amounts AS o ON s.store_id = o.store_id WHERE s.store_id = 5 GROUP BY s.store_id$q$, 'seed003, public');
SELECT 'seed003 cross-tenant top sales' AS q, rt_strategy($q$SELECT s.store_id, s.name, COUNT(l.order_id) AS order_count, AVG(line_amount) AS avg_order_amount, SUM(l.line_amount) AS total_sales FROM line_items AS l INNER JOIN stores AS s ON l.store_id = s.store_id GROUP BY s.store_id ORDER BY total_sales DESC, s.store_id LIMIT 5$q$, 'seed003, public');
SELECT 'seed004 per-campaign RANK()' AS q, rt_strategy($q$SELECT a.campaign_id, RANK() OVER (PARTITION BY a.campaign_id ORDER BY a.campaign_id, count(*) desc), count(*) as n_impressions, a.id FROM ads as a JOIN impressions as I ON i.company_id = a.company_id AND i.ad_id = a.id WHERE a.company_id = 5 GROUP BY a.campaign_id, a.id ORDER BY a.campaign_id, n_impressions desc, a.id LIMIT 8$q$, 'seed004, public');
SELECT 'seed004 clicks with geo (reference)' AS q, rt_strategy($q$SELECT c.id, clicked_at, latlon FROM geo_ips, clicks c WHERE addrs >> c.user_ip AND c.company_id = 5 AND c.ad_id = 290 ORDER BY c.id$q$, 'seed004, public');
SELECT 'seed004 mobile clicks' AS q, rt_strategy($q$SELECT user_data->>'is_mobile' AS is_mobile, count(*) AS count FROM clicks WHERE company_id = 5 GROUP BY user_data->>'is_mobile' ORDER BY count DESC$q$, 'seed004, public');

--
-- Prepared statements: the parameter picks the shard at execution, with
-- custom and generic plans
--
SET search_path = dist, public;
PREPARE rt_p(bigint) AS SELECT id, name FROM campaigns WHERE company_id = $1 ORDER BY id;
SET plan_cache_mode = force_generic_plan;
EXECUTE rt_p(1);
EXECUTE rt_p(7);
EXECUTE rt_p(NULL);
SET plan_cache_mode = force_custom_plan;
EXECUTE rt_p(7);
RESET plan_cache_mode;
SELECT id, name FROM local.campaigns WHERE company_id = 7 ORDER BY id;
SELECT pg_temp.explain_lines('EXPLAIN (COSTS OFF) EXECUTE rt_p(7)');
PREPARE rt_p2(bigint, text) AS SELECT count(*) FROM clicks WHERE company_id = $1 AND site_url <> $2;
SET plan_cache_mode = force_generic_plan;
EXECUTE rt_p2(3, 'http://nowhere');
RESET plan_cache_mode;
SELECT count(*) FROM local.clicks WHERE company_id = 3 AND site_url <> 'http://nowhere';
RESET search_path;

--
-- DML through the router, compared with the same DML on the local copy
--
SELECT pg_temp.check_dml('insert one row', $q$INSERT INTO companies VALUES (9001, 'Router Co', NULL, '2026-01-01', '2026-01-02') RETURNING *$q$, 'companies');
SELECT rt_strategy($q$INSERT INTO companies VALUES (9002, 'Router Co', NULL, '2026-01-01', '2026-01-02')$q$);
SELECT pg_temp.check_dml('insert two rows, one shard', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9001, 9001, 'c1', 'cpc', 'on', '2026-01-01', '2026-01-01'), (9002, 9001, 'c2', 'cpm', 'off', '2026-01-01', '2026-01-01') RETURNING id, company_id, name$q$, 'campaigns');
SELECT rt_strategy($q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9003, 9001, 'c1', 'cpc', 'on', '2026-01-01', '2026-01-01'), (9004, 9001, 'c2', 'cpm', 'off', '2026-01-01', '2026-01-01')$q$);
SELECT rt_strategy($q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9003, 1, 'c1', 'cpc', 'on', '2026-01-01', '2026-01-01'), (9004, 2, 'c2', 'cpm', 'off', '2026-01-01', '2026-01-01')$q$);
-- (ON CONFLICT (col) DO UPDATE needs a unique index on the coordinator's
-- parent table, which distributed tables do not have yet: not tested here)
SELECT pg_temp.check_dml('upsert DO NOTHING', $q$INSERT INTO companies VALUES (9001, 'ignored', NULL, '2026-01-01', '2026-01-01') ON CONFLICT DO NOTHING RETURNING *$q$, 'companies');
SELECT pg_temp.check_dml('update', $q$UPDATE campaigns SET monthly_budget = coalesce(monthly_budget, 0) + 7 WHERE company_id = 4 RETURNING id, monthly_budget$q$, 'campaigns');
SELECT rt_strategy($q$UPDATE campaigns SET monthly_budget = 1 WHERE company_id = 4$q$);
SELECT pg_temp.check_dml('update with join', $q$UPDATE ads a SET clicks_count = a.clicks_count + 1 FROM campaigns c WHERE a.company_id = 4 AND c.company_id = a.company_id AND c.id = a.campaign_id AND c.cost_model IS NOT NULL RETURNING a.id, a.clicks_count$q$, 'ads');
SELECT pg_temp.check_dml('delete', $q$DELETE FROM campaigns WHERE company_id = 9001 AND id = 9002 RETURNING id$q$, 'campaigns');
SELECT rt_strategy($q$DELETE FROM campaigns WHERE company_id = 9001 AND id = 9002$q$);
-- a one-row INSERT with a serial default and now(): computed on the
-- coordinator (the sequence advances once, as locally), sent as literals
SELECT rt_strategy($q$INSERT INTO clicks (company_id, ad_id, clicked_at, site_url, user_ip, user_data) VALUES (1, 1, '2026-01-01', 'x', '1.2.3.4', '{}')$q$);
SELECT last_value AS clicks_seq_before FROM dist.clicks_id_seq \gset
SELECT pg_temp.check_dml('insert with serial and now()', $q$INSERT INTO clicks (company_id, ad_id, clicked_at, site_url, user_ip, user_data) VALUES (1, 1, '2026-01-01'::timestamp + (now() - now()), 'x' || (1 + 1), '1.2.3.4', jsonb_build_object('k', 1)) RETURNING company_id, ad_id, clicked_at, site_url, user_data$q$, '(SELECT company_id, ad_id, clicked_at, site_url, user_data FROM clicks) c');
SELECT last_value - :clicks_seq_before AS clicks_seq_advanced_by FROM dist.clicks_id_seq;
SELECT last_value AS clicks_seq_before FROM dist.clicks_id_seq \gset
-- (the ids differ between the copies: remove the row again)
SELECT pg_temp.check_dml('delete it again', $q$DELETE FROM clicks WHERE company_id = 1 AND site_url = 'x2' RETURNING site_url$q$, 'clicks');
SET search_path = dist, public;
-- (plain EXPLAIN evaluates nothing: it shows the expressions)
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF) INSERT INTO clicks (company_id, ad_id, clicked_at, site_url, user_ip, user_data) VALUES (1, 1, '2026-01-01', 'x', '1.2.3.4', '{}')$q$) l
 WHERE l ~ 'Strategy|INSERT INTO|VALUES';
RESET search_path;
SELECT last_value - :clicks_seq_before AS clicks_seq_advanced_by_explain FROM dist.clicks_id_seq;
-- not routed: the key moves, or several shards, or a volatile key
SELECT rt_strategy($q$UPDATE companies SET id = 9003 WHERE id = 9001$q$);
SELECT rt_strategy($q$DELETE FROM ads WHERE id = 1$q$);
SELECT rt_strategy($q$INSERT INTO companies VALUES ((random() * 0 + 5)::int, 'x', NULL, '2026-01-01', '2026-01-01')$q$);
SELECT rt_strategy($q$INSERT INTO companies SELECT * FROM companies WHERE id = 5$q$);
SELECT rt_strategy($q$UPDATE geo_ips SET latlon = latlon WHERE addrs = '1.2.3.0/24'$q$);
-- row counts of routed DML without RETURNING (the command tag's count)
CREATE FUNCTION pg_temp.row_count(q text, path text DEFAULT 'dist, public')
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM set_config('search_path', path, true);
    EXECUTE q;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
SELECT pg_temp.row_count($q$UPDATE campaigns SET state = state WHERE company_id = 3$q$) AS updated,
       rt_strategy($q$UPDATE campaigns SET state = state WHERE company_id = 3$q$);
SELECT pg_temp.row_count($q$DELETE FROM campaigns WHERE company_id = 9001$q$) AS deleted;
SELECT pg_temp.row_count($q$DELETE FROM campaigns WHERE company_id = 9001$q$, 'local, public') AS deleted_locally;
SELECT pg_temp.row_count($q$INSERT INTO companies VALUES (9002, 'Router Co', NULL, '2026-01-01', '2026-01-02')$q$) AS inserted;
SELECT pg_temp.row_count($q$DELETE FROM companies WHERE id = 9002$q$) AS deleted;
RESET search_path;
SELECT pg_temp.diff_check('campaigns after DML', $q$SELECT * FROM campaigns$q$);
SELECT pg_temp.diff_check('companies after DML', $q$SELECT * FROM companies$q$);

-- errors come back from the worker with their SQLSTATE
SELECT check_error('duplicate key', $q$INSERT INTO companies VALUES (5, 'dup', NULL, '2026-01-01', '2026-01-01')$q$);
SELECT check_error('division by zero', $q$SELECT 1 / (id - id) FROM companies WHERE id = 5$q$);

--
-- A transaction reads its own writes across the router and the FDW path
--
SET search_path = dist, public;
BEGIN;
INSERT INTO companies VALUES (9100, 'In Xact', NULL, '2026-01-01', '2026-01-01');
SELECT name FROM companies WHERE id = 9100;
SELECT count(*) FROM companies WHERE name = 'In Xact';
UPDATE companies SET name = 'In Xact 2' WHERE name = 'In Xact';
SELECT name FROM companies WHERE id = 9100;
ROLLBACK;
SELECT count(*) FROM companies WHERE id = 9100;

--
-- EXPLAIN: strategy, tasks, pruned shards, node and worker SQL; seed 002's
-- device 42 query runs one task, the unpinned one a task on every shard
--
\pset tuples_only off
\pset format aligned
SET search_path = seed002, public;
SELECT pg_temp.explain_lines($q$EXPLAIN (COSTS OFF)
SELECT device_id, count(*) FROM events WHERE device_id = 42 GROUP BY device_id$q$);
SELECT pg_temp.explain_lines($q$EXPLAIN (COSTS OFF)
SELECT device_id, count(*) FROM events GROUP BY device_id$q$);
-- ANALYZE adds the worker's plan (its shape depends on the worker's
-- statistics, so only its presence and the top node's row count are shown)
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM events WHERE device_id = 42$q$) l
 WHERE l !~ '^\s{5,}' OR l ~ '^\s*Aggregate';
SELECT device_id, count(*) FROM events WHERE device_id = 42 GROUP BY device_id;
RESET search_path;

DROP FUNCTION public.rt_routing_misses(regclass, text, text);
DROP TABLE dist.rt_int, dist.rt_text;

DROP FUNCTION public.rt_check(text, text, boolean), public.rt_strategy(text, text);
