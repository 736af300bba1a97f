--
-- planner_corpus: 303 queries, each run on the distributed tables and on an
-- identical local copy with identical results, and the strategy it got
-- (router / multi-shard / two-phase aggregate with task counts, or
-- "standard" for the FDW path) asserted in the expected output.
--
-- Workloads: the four seeds (001 SaaS events, 002 IoT events, 003
-- e-commerce, 004 ad analytics; the schemas seed001..seed003 built by the
-- "seeds" test, copied here into local001..local003, and "dist" / "local"
-- of the "differential" test) and generated variants: joins, subqueries,
-- CTEs, window functions, GROUP BY / HAVING, DISTINCT, ORDER BY / LIMIT /
-- OFFSET, NULLs, expressions, set operations, pruning, prepared statements
-- with parameters (custom and generic plans) and DML with RETURNING
-- (returned rows and the whole table compared).
--
SET client_min_messages = warning;

CREATE SCHEMA local001;
CREATE TABLE local001.users AS TABLE seed001.users;
CREATE TABLE local001.events AS TABLE seed001.events;
CREATE TABLE local001.user_sessions AS TABLE seed001.user_sessions;
CREATE TABLE local001.event_types AS TABLE seed001.event_types;
CREATE TABLE local001.countries AS TABLE seed001.countries;
CREATE SCHEMA local002;
CREATE TABLE local002.device_types AS TABLE seed002.device_types;
CREATE TABLE local002.devices AS TABLE seed002.devices;
CREATE TABLE local002.events AS TABLE seed002.events;
CREATE SCHEMA local003;
CREATE TABLE local003.stores AS TABLE seed003.stores;
CREATE TABLE local003.products AS TABLE seed003.products;
CREATE TABLE local003.orders AS TABLE seed003.orders;
CREATE TABLE local003.line_items AS TABLE seed003.line_items;
ALTER TABLE local003.stores ADD PRIMARY KEY (store_id);
ALTER TABLE local003.products ADD PRIMARY KEY (store_id, product_id);
ALTER TABLE local003.orders ADD PRIMARY KEY (store_id, order_id);

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

CREATE FUNCTION pg_temp.c_paths(ws text, OUT dpath text, OUT lpath text)
LANGUAGE sql AS $$
    SELECT CASE ws WHEN '004' THEN 'dist, public' ELSE 'seed' || ws || ', public' END,
           CASE ws WHEN '004' THEN 'local, public' ELSE 'local' || ws || ', public' END
$$;
-- a query: results compared (as multisets, or in order), and its strategy
CREATE FUNCTION pg_temp.cq(label text, q text, ordered boolean, ws text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    p record := pg_temp.c_paths(ws);
    s text := pg_temp.strategy_tasks(q, p.dpath);
BEGIN
    RETURN public.dt_compare(label, pg_temp.top_rows(q, p.dpath), pg_temp.top_rows(q, p.lpath), ordered)
        || ' [' || s || ']';
END
$$;
-- DML with RETURNING (seed 004 tables): strategy, returned rows, the table
CREATE FUNCTION pg_temp.cdml(label text, q text, tbl text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s text := pg_temp.strategy_tasks(q, 'dist, public');
BEGIN
    RETURN pg_temp.check_dml(label, q, tbl) || ' [' || s || ']';
END
$$;
-- rows of a statement that cannot be a subquery (EXECUTE)
CREATE FUNCTION pg_temp.c_exec_rows(q text, path text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    res text[] := '{}';
BEGIN
    PERFORM set_config('search_path', path, true);
    FOR r IN EXECUTE q LOOP
        res := res || r::text;
    END LOOP;
    RETURN res;
END
$$;
-- a prepared statement, custom or generic plan (a prepared statement is
-- analysed again under another search_path: each runs under its own)
CREATE FUNCTION pg_temp.cprep(label text, decl text, q text, args text, generic boolean, ws text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    p record := pg_temp.c_paths(ws);
    d text[];
    l text[];
    s text;
BEGIN
    PERFORM set_config('plan_cache_mode', CASE WHEN generic THEN 'force_generic_plan' ELSE 'force_custom_plan' END, true);
    PERFORM set_config('search_path', p.dpath, true);
    EXECUTE format('PREPARE c_d(%s) AS %s', decl, q);
    PERFORM set_config('search_path', p.lpath, true);
    EXECUTE format('PREPARE c_l(%s) AS %s', decl, q);
    l := pg_temp.c_exec_rows(format('EXECUTE c_l(%s)', args), p.lpath);
    d := pg_temp.c_exec_rows(format('EXECUTE c_d(%s)', args), p.dpath);
    s := pg_temp.strategy_tasks(format('EXECUTE c_d(%s)', args), p.dpath);
    DEALLOCATE c_d;
    DEALLOCATE c_l;
    PERFORM set_config('plan_cache_mode', 'auto', true);
    RETURN public.dt_compare(label, d, l, false) || ' [' || s || ']';
END
$$;

\pset tuples_only on
\pset format unaligned


-- seed 001: multi-tenant SaaS (users, events, sessions; event_types, countries reference)
SELECT pg_temp.cq('001 s1 events of owner 123', $q$SELECT id, owner_id, event_type, properties FROM events WHERE owner_id = 123$q$, false, '001');
SELECT pg_temp.cq('002 s1 events per type (reference join)', $q$SELECT et.name, count(*) FROM events e JOIN event_types et ON e.event_type = et.name GROUP BY et.name ORDER BY et.name$q$, true, '001');
SELECT pg_temp.cq('003 s1 user 7, two left joins', $q$SELECT u.email, count(e.*) AS event_count, count(s.*) AS session_count FROM users u LEFT JOIN events e ON u.id = e.owner_id LEFT JOIN user_sessions s ON u.id = s.owner_id WHERE u.id = 7 GROUP BY u.email$q$, false, '001');
SELECT pg_temp.cq('004 s1 user 7 events, ordered', $q$SELECT e.id, e.event_type, e.created_at FROM users u JOIN events e ON e.owner_id = u.id WHERE u.id = 7 ORDER BY e.created_at, e.id$q$, true, '001');
SELECT pg_temp.cq('005 s1 events per owner', $q$SELECT owner_id, count(*), min(created_at), max(created_at) FROM events GROUP BY owner_id$q$, false, '001');
SELECT pg_temp.cq('006 s1 event types count', $q$SELECT event_type, count(*), count(DISTINCT owner_id) FROM events GROUP BY event_type$q$, false, '001');
SELECT pg_temp.cq('007 s1 sessions joined to users', $q$SELECT u.id, u.email, s.session_token FROM users u JOIN user_sessions s ON s.owner_id = u.id WHERE s.expires_at < '2026-03-01'$q$, false, '001');
SELECT pg_temp.cq('008 s1 users without events', $q$SELECT u.id FROM users u LEFT JOIN events e ON e.owner_id = u.id WHERE e.id IS NULL$q$, false, '001');
SELECT pg_temp.cq('009 s1 top owners', $q$SELECT owner_id, count(*) AS n FROM events GROUP BY owner_id ORDER BY n DESC, owner_id LIMIT 5$q$, true, '001');
SELECT pg_temp.cq('010 s1 purchases per user email', $q$SELECT u.email, count(*) FROM users u JOIN events e ON e.owner_id = u.id WHERE e.event_type = 'purchase' GROUP BY u.email HAVING count(*) > 1$q$, false, '001');
SELECT pg_temp.cq('011 s1 jsonb property', $q$SELECT owner_id, (properties->>'i')::int AS i FROM events WHERE (properties->>'i')::int % 50 = 0$q$, false, '001');
SELECT pg_temp.cq('012 s1 reference table only through a join', $q$SELECT e.id, et.description FROM events e JOIN event_types et ON et.name = e.event_type WHERE e.owner_id = 3$q$, false, '001');
SELECT pg_temp.cq('013 s1 countries (reference only)', $q$SELECT code, name FROM countries ORDER BY code$q$, true, '001');
SELECT pg_temp.cq('014 s1 user 9 CTE', $q$WITH mine AS (SELECT * FROM events WHERE owner_id = 9) SELECT event_type, count(*) FROM mine GROUP BY event_type$q$, false, '001');
SELECT pg_temp.cq('015 s1 sessions per user, ranked', $q$SELECT owner_id, id, rank() OVER (PARTITION BY owner_id ORDER BY expires_at DESC) FROM user_sessions WHERE owner_id = 5$q$, false, '001');
SELECT pg_temp.cq('016 s1 avg events per user', $q$SELECT avg(n), max(n), min(n) FROM (SELECT owner_id, count(*) AS n FROM events GROUP BY owner_id) s$q$, false, '001');
SELECT pg_temp.cq('017 s1 EXISTS sessions', $q$SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM user_sessions s WHERE s.owner_id = u.id AND s.owner_id = 11) AND u.id = 11$q$, false, '001');
SELECT pg_temp.cq('018 s1 count users', $q$SELECT count(*), count(email), count(DISTINCT email) FROM users$q$, false, '001');
SELECT pg_temp.cq('019 s1 stddev of event ids per type', $q$SELECT event_type, stddev(id), variance(owner_id) FROM events GROUP BY event_type$q$, false, '001');
SELECT pg_temp.cq('020 s1 OFFSET page of emails', $q$SELECT id, email FROM users ORDER BY email, id LIMIT 10 OFFSET 5$q$, true, '001');

-- seed 002: IoT events (devices, events by device_id; device_types reference)
SELECT pg_temp.cq('021 s2 device 42 outliers', $q$SELECT device_id, COUNT((CASE WHEN (payload ->> 'humidity')::decimal < 60 THEN 1 ELSE NULL END)) AS LowHumidity FROM events WHERE device_id = 42 GROUP BY device_id$q$, false, '002');
SELECT pg_temp.cq('022 s2 device 42 first events', $q$SELECT event_id FROM events WHERE device_id = 42 ORDER BY event_id LIMIT 5$q$, true, '002');
SELECT pg_temp.cq('023 s2 event 7 without the key', $q$SELECT event_id, device_id FROM events WHERE event_id = 7$q$, false, '002');
SELECT pg_temp.cq('024 s2 all devices low humidity', $q$SELECT device_id, count(*) FILTER (WHERE (payload->>'humidity')::int < 50) FROM events GROUP BY device_id$q$, false, '002');
SELECT pg_temp.cq('025 s2 average temperature per type', $q$SELECT dt.name, avg((e.payload->>'temperature')::numeric), count(*) FROM events e JOIN devices d ON d.device_id = e.device_id JOIN device_types dt ON dt.device_type_id = d.device_type_id GROUP BY dt.name$q$, false, '002');
SELECT pg_temp.cq('026 s2 devices with events', $q$SELECT d.device_id, d.name, count(e.event_id) FROM devices d JOIN events e ON e.device_id = d.device_id GROUP BY d.device_id, d.name$q$, false, '002');
SELECT pg_temp.cq('027 s2 devices left join events', $q$SELECT d.device_id, count(e.event_id) FROM devices d LEFT JOIN events e ON e.device_id = d.device_id AND (e.payload->>'temperature')::int > 60 GROUP BY d.device_id$q$, false, '002');
SELECT pg_temp.cq('028 s2 max humidity overall', $q$SELECT max((payload->>'humidity')::int), min((payload->>'humidity')::int), count(*) FROM events$q$, false, '002');
SELECT pg_temp.cq('029 s2 humidity histogram', $q$SELECT (payload->>'humidity')::int / 10 AS bucket, count(*) FROM events GROUP BY 1$q$, false, '002');
SELECT pg_temp.cq('030 s2 latest event per device window', $q$SELECT device_id, event_id, row_number() OVER (ORDER BY event_id DESC) FROM events WHERE device_id = 17$q$, false, '002');
SELECT pg_temp.cq('031 s2 device IN list', $q$SELECT device_id, count(*) FROM events WHERE device_id IN (1, 2, 3, 40) GROUP BY device_id$q$, false, '002');
SELECT pg_temp.cq('032 s2 top devices by events', $q$SELECT device_id, count(*) AS n FROM events GROUP BY device_id ORDER BY n DESC, device_id LIMIT 3$q$, true, '002');
SELECT pg_temp.cq('033 s2 distinct humidity values', $q$SELECT count(DISTINCT payload->>'humidity') FROM events$q$, false, '002');
SELECT pg_temp.cq('034 s2 containment query', $q$SELECT event_id FROM events WHERE payload @> '{"humidity": 44}'$q$, false, '002');
SELECT pg_temp.cq('035 s2 device types (reference)', $q$SELECT * FROM device_types$q$, false, '002');
SELECT pg_temp.cq('036 s2 variance of humidity per device type', $q$SELECT d.device_type_id, variance((e.payload->>'humidity')::int), stddev_pop((e.payload->>'temperature')::int) FROM events e JOIN devices d ON d.device_id = e.device_id GROUP BY d.device_type_id$q$, false, '002');
SELECT pg_temp.cq('037 s2 subquery on one device', $q$SELECT event_id FROM events WHERE device_id = 5 AND event_id > (SELECT min(event_id) FROM events WHERE device_id = 5)$q$, false, '002');
SELECT pg_temp.cq('038 s2 events with NULL payload key', $q$SELECT count(*) FROM events WHERE payload->>'pressure' IS NULL$q$, false, '002');

-- seed 003: multi-tenant e-commerce (stores, products, orders, line_items by store_id)
SELECT pg_temp.cq('039 s3 products of store 336', $q$SELECT p.product_id, p.name FROM stores AS s INNER JOIN products AS p ON s.store_id = p.store_id WHERE s.store_id = 336 ORDER BY p.product_id$q$, true, '003');
SELECT pg_temp.cq('040 s3 top products of store 5', $q$SELECT p.product_id, p.name, SUM(l.quantity) AS total_ordered, COUNT(p.product_id) FROM products AS p INNER JOIN line_items AS l ON p.store_id = l.store_id AND p.product_id = l.product_id WHERE p.store_id = 5 GROUP BY p.store_id, p.product_id ORDER BY total_ordered DESC, p.product_id LIMIT 5$q$, true, '003');
SELECT pg_temp.cq('041 s3 average order amounts (CTE)', $q$WITH order_amounts AS (SELECT store_id, order_id, SUM(quantity) AS total_quantity, COUNT(*) AS order_lines, SUM(line_amount) AS order_amount FROM line_items WHERE store_id = 5 GROUP BY store_id, order_id) SELECT s.name, AVG(o.total_quantity), AVG(o.order_lines), AVG(o.order_amount) FROM stores AS s INNER JOIN order_amounts AS o ON s.store_id = o.store_id WHERE s.store_id = 5 GROUP BY s.store_id$q$, false, '003');
SELECT pg_temp.cq('042 s3 cross-tenant top sales', $q$SELECT s.store_id, s.name, COUNT(l.order_id) AS order_count, AVG(line_amount) AS avg_order_amount, SUM(l.line_amount) AS total_sales FROM line_items AS l INNER JOIN stores AS s ON l.store_id = s.store_id GROUP BY s.store_id ORDER BY total_sales DESC, s.store_id LIMIT 5$q$, true, '003');
SELECT pg_temp.cq('043 s3 sales per store', $q$SELECT store_id, sum(line_amount), count(*) FROM line_items GROUP BY store_id$q$, false, '003');
SELECT pg_temp.cq('044 s3 total sales', $q$SELECT sum(line_amount), avg(line_amount), count(DISTINCT product_id), max(quantity) FROM line_items$q$, false, '003');
SELECT pg_temp.cq('045 s3 orders with lines', $q$SELECT o.store_id, o.order_id, count(l.line_item_id) FROM orders o JOIN line_items l ON l.store_id = o.store_id AND l.order_id = o.order_id GROUP BY o.store_id, o.order_id HAVING count(*) > 2$q$, false, '003');
SELECT pg_temp.cq('046 s3 orders without lines', $q$SELECT o.store_id, o.order_id FROM orders o LEFT JOIN line_items l ON l.store_id = o.store_id AND l.order_id = o.order_id WHERE l.line_item_id IS NULL$q$, false, '003');
SELECT pg_temp.cq('047 s3 price stats per store', $q$SELECT store_id, min(price), max(price), avg(price) FROM products GROUP BY store_id$q$, false, '003');
SELECT pg_temp.cq('048 s3 expensive products', $q$SELECT store_id, product_id, price FROM products WHERE price > 50 ORDER BY price DESC, store_id, product_id LIMIT 10$q$, true, '003');
SELECT pg_temp.cq('049 s3 quantity variance', $q$SELECT variance(quantity), stddev(quantity), var_pop(quantity), stddev_samp(quantity) FROM line_items$q$, false, '003');
SELECT pg_temp.cq('050 s3 quantity variance per product', $q$SELECT product_id, variance(quantity), stddev(quantity) FROM line_items GROUP BY product_id$q$, false, '003');
SELECT pg_temp.cq('051 s3 orders per day', $q$SELECT date_trunc('day', ordered_at), count(*) FROM orders GROUP BY 1$q$, false, '003');
SELECT pg_temp.cq('052 s3 store 5 product ranking', $q$SELECT product_id, sum(quantity), rank() OVER (ORDER BY sum(quantity) DESC, product_id) FROM line_items WHERE store_id = 5 GROUP BY product_id$q$, false, '003');
SELECT pg_temp.cq('053 s3 store 7 line details', $q$SELECT l.order_id, l.line_item_id, p.name, l.quantity * p.price FROM line_items l JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id WHERE l.store_id = 7$q$, false, '003');
SELECT pg_temp.cq('054 s3 stores IN list', $q$SELECT s.store_id, count(o.order_id) FROM stores s JOIN orders o ON o.store_id = s.store_id WHERE s.store_id IN (1, 2, 3) GROUP BY s.store_id$q$, false, '003');
SELECT pg_temp.cq('055 s3 count distinct orders', $q$SELECT count(DISTINCT order_id), count(*) FROM line_items WHERE quantity > 2$q$, false, '003');
SELECT pg_temp.cq('056 s3 products never ordered', $q$SELECT p.store_id, p.product_id FROM products p WHERE NOT EXISTS (SELECT 1 FROM line_items l WHERE l.store_id = p.store_id AND l.product_id = p.product_id AND l.store_id = 4) AND p.store_id = 4$q$, false, '003');
SELECT pg_temp.cq('057 s3 store names DISTINCT', $q$SELECT DISTINCT name FROM stores WHERE store_id < 20$q$, false, '003');
SELECT pg_temp.cq('058 s3 line amount NULL-safe sum', $q$SELECT store_id, coalesce(sum(line_amount) FILTER (WHERE quantity > 100), 0) FROM line_items GROUP BY store_id$q$, false, '003');

-- seed 004: ad analytics (companies, campaigns, ads, clicks, impressions; geo_ips reference)
SELECT pg_temp.cq('059 s4 per-campaign RANK()', $q$SELECT a.campaign_id, RANK() OVER (PARTITION BY a.campaign_id ORDER BY a.campaign_id, count(*) desc), count(*) as n_impressions, a.id FROM ads as a JOIN impressions as I ON i.company_id = a.company_id AND i.ad_id = a.id WHERE a.company_id = 5 GROUP BY a.campaign_id, a.id ORDER BY a.campaign_id, n_impressions desc, a.id LIMIT 8$q$, true, '004');
SELECT pg_temp.cq('060 s4 clicks with geo (reference)', $q$SELECT c.id, clicked_at, latlon FROM geo_ips, clicks c WHERE addrs >> c.user_ip AND c.company_id = 5 AND c.ad_id = 290 ORDER BY c.id$q$, true, '004');
SELECT pg_temp.cq('061 s4 mobile clicks', $q$SELECT user_data->>'is_mobile' AS is_mobile, count(*) AS count FROM clicks WHERE company_id = 5 GROUP BY user_data->>'is_mobile' ORDER BY count DESC, is_mobile$q$, true, '004');
SELECT pg_temp.cq('062 s4 campaigns of company 3', $q$SELECT id, name, monthly_budget FROM campaigns WHERE company_id = 3$q$, false, '004');
SELECT pg_temp.cq('063 s4 ads with click counts', $q$SELECT a.id, a.name, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = 4 GROUP BY a.id, a.name$q$, false, '004');
SELECT pg_temp.cq('064 s4 impressions per company', $q$SELECT company_id, count(*), sum(cost_per_impression_usd) FROM impressions GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('065 s4 click-through per ad', $q$SELECT a.company_id, a.id, count(DISTINCT c.id) AS clicks, count(DISTINCT i.id) AS impressions FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id LEFT JOIN impressions i ON i.company_id = a.company_id AND i.ad_id = a.id WHERE a.company_id = 2 GROUP BY a.company_id, a.id$q$, false, '004');
SELECT pg_temp.cq('066 s4 total cost per campaign state', $q$SELECT cp.state, sum(c.cost_per_click_usd), count(*) FROM campaigns cp JOIN ads a ON a.company_id = cp.company_id AND a.campaign_id = cp.id JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY cp.state$q$, false, '004');
SELECT pg_temp.cq('067 s4 budget per cost model', $q$SELECT cost_model, sum(monthly_budget), avg(monthly_budget), count(monthly_budget), count(*) FROM campaigns GROUP BY cost_model$q$, false, '004');
SELECT pg_temp.cq('068 s4 top clicked ads', $q$SELECT company_id, ad_id, count(*) AS n FROM clicks GROUP BY company_id, ad_id ORDER BY n DESC, company_id, ad_id LIMIT 10$q$, true, '004');
SELECT pg_temp.cq('069 s4 impressions by site', $q$SELECT site_url, count(*) FROM impressions GROUP BY site_url HAVING count(*) > 5$q$, false, '004');
SELECT pg_temp.cq('070 s4 ad names for company 6', $q$SELECT name FROM ads WHERE company_id = 6 ORDER BY name, id$q$, true, '004');
SELECT pg_temp.cq('071 s4 clicks per hour of day', $q$SELECT extract(hour FROM clicked_at) AS h, count(*) FROM clicks GROUP BY 1$q$, false, '004');
SELECT pg_temp.cq('072 s4 companies with campaigns', $q$SELECT co.id, co.name, count(cp.id) FROM companies co JOIN campaigns cp ON cp.company_id = co.id GROUP BY co.id, co.name$q$, false, '004');
SELECT pg_temp.cq('073 s4 companies left join campaigns', $q$SELECT co.id, count(cp.id) FROM companies co LEFT JOIN campaigns cp ON cp.company_id = co.id AND cp.state = 'running' GROUP BY co.id$q$, false, '004');

-- joins
SELECT pg_temp.cq('074 j inner join on key and id', $q$SELECT a.id, cp.name FROM ads a JOIN campaigns cp ON cp.company_id = a.company_id AND cp.id = a.campaign_id WHERE a.id < 50$q$, false, '004');
SELECT pg_temp.cq('075 j join via WHERE', $q$SELECT a.id, c.id FROM ads a, clicks c WHERE a.company_id = c.company_id AND a.id = c.ad_id AND c.company_id = 3$q$, false, '004');
SELECT pg_temp.cq('076 j three tables pinned', $q$SELECT co.name, a.name, c.site_url FROM companies co JOIN ads a ON a.company_id = co.id JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE co.id = 8$q$, false, '004');
SELECT pg_temp.cq('077 j right join', $q$SELECT c.id, a.id FROM clicks c RIGHT JOIN ads a ON a.company_id = c.company_id AND a.id = c.ad_id WHERE a.company_id = 9$q$, false, '004');
SELECT pg_temp.cq('078 j full join on key', $q$SELECT a.id, i.id FROM ads a FULL JOIN impressions i ON i.company_id = a.company_id AND i.ad_id = a.id AND i.cost_per_impression_usd > 0.5$q$, false, '004');
SELECT pg_temp.cq('079 j semi join IN on key', $q$SELECT id FROM ads a WHERE (a.company_id, a.id) IN (SELECT company_id, ad_id FROM clicks WHERE company_id = 4) AND a.company_id = 4$q$, false, '004');
SELECT pg_temp.cq('080 j anti join NOT EXISTS pinned', $q$SELECT id FROM ads a WHERE a.company_id = 7 AND NOT EXISTS (SELECT 1 FROM impressions i WHERE i.company_id = a.company_id AND i.ad_id = a.id)$q$, false, '004');
SELECT pg_temp.cq('081 j self join on key', $q$SELECT a1.id, a2.id FROM ads a1 JOIN ads a2 ON a2.company_id = a1.company_id AND a2.campaign_id = a1.campaign_id AND a2.id > a1.id$q$, false, '004');
SELECT pg_temp.cq('082 j join not on key (FDW)', $q$SELECT a.id, cp.id FROM ads a JOIN campaigns cp ON cp.id = a.campaign_id WHERE a.id < 30$q$, false, '004');
SELECT pg_temp.cq('083 j cross join reference', $q$SELECT count(*) FROM campaigns cp CROSS JOIN geo_ips g WHERE cp.company_id = 2$q$, false, '004');
SELECT pg_temp.cq('084 j reference join multi-shard', $q$SELECT i.id, g.latlon FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip WHERE i.cost_per_impression_usd > 0.8$q$, false, '004');
SELECT pg_temp.cq('085 j lateral pinned', $q$SELECT a.id, l.n FROM ads a, LATERAL (SELECT count(*) AS n FROM clicks c WHERE c.company_id = a.company_id AND c.ad_id = a.id) l WHERE a.company_id = 3$q$, false, '004');
SELECT pg_temp.cq('086 j USING clause', $q$SELECT company_id, count(*) FROM ads JOIN campaigns USING (company_id) GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('087 j join with extra filter both sides', $q$SELECT a.id, c.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.clicks_count > 1 AND c.cost_per_click_usd < 2$q$, false, '004');
SELECT pg_temp.cq('088 j left join with IS NULL', $q$SELECT a.id FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.id IS NULL$q$, false, '004');
SELECT pg_temp.cq('089 j two keys equal transitively', $q$SELECT a.id, cp.id FROM ads a JOIN campaigns cp ON cp.company_id = a.company_id JOIN companies co ON co.id = cp.company_id WHERE co.id = 1 AND cp.id = a.campaign_id$q$, false, '004');

-- subqueries
SELECT pg_temp.cq('090 sq scalar subquery pinned', $q$SELECT id, (SELECT count(*) FROM clicks c WHERE c.company_id = 5 AND c.ad_id = a.id) FROM ads a WHERE a.company_id = 5$q$, false, '004');
SELECT pg_temp.cq('091 sq IN subquery pinned', $q$SELECT id FROM campaigns WHERE company_id = 2 AND id IN (SELECT campaign_id FROM ads WHERE company_id = 2 AND clicks_count > 0)$q$, false, '004');
SELECT pg_temp.cq('092 sq EXISTS pinned', $q$SELECT id FROM companies co WHERE co.id = 3 AND EXISTS (SELECT 1 FROM campaigns cp WHERE cp.company_id = 3)$q$, false, '004');
SELECT pg_temp.cq('093 sq derived table multi-shard', $q$SELECT s.company_id, s.n FROM (SELECT company_id, count(*) AS n FROM clicks GROUP BY company_id) s WHERE s.n > 50$q$, false, '004');
SELECT pg_temp.cq('094 sq derived table with aggregate on top', $q$SELECT max(n) FROM (SELECT company_id, count(*) AS n FROM clicks GROUP BY company_id) s$q$, false, '004');
SELECT pg_temp.cq('095 sq ANY subquery reference', $q$SELECT id FROM impressions WHERE user_ip <<= ANY (SELECT addrs FROM geo_ips)$q$, false, '004');
SELECT pg_temp.cq('096 sq NOT IN distributed subquery', $q$SELECT id FROM ads WHERE campaign_id NOT IN (SELECT id FROM campaigns WHERE state = 'paused')$q$, false, '004');
SELECT pg_temp.cq('097 sq comparison with subquery avg', $q$SELECT id, cost_per_click_usd FROM clicks WHERE company_id = 6 AND cost_per_click_usd > (SELECT avg(cost_per_click_usd) FROM clicks WHERE company_id = 6)$q$, false, '004');
SELECT pg_temp.cq('098 sq nested derived tables', $q$SELECT x.company_id, x.m FROM (SELECT company_id, max(cost) AS m FROM (SELECT company_id, cost_per_impression_usd AS cost FROM impressions) y GROUP BY company_id) x$q$, false, '004');
SELECT pg_temp.cq('099 sq subquery in SELECT over reference', $q$SELECT id, (SELECT min(latlon[0]) FROM geo_ips) FROM campaigns WHERE company_id IN (1, 2)$q$, false, '004');
SELECT pg_temp.cq('257 sq correlated EXISTS on the key', $q$SELECT a.company_id, a.id FROM ads a WHERE EXISTS (SELECT 1 FROM clicks c WHERE c.company_id = a.company_id AND c.ad_id = a.id AND c.cost_per_click_usd > 1.5)$q$, false, '004');
SELECT pg_temp.cq('258 sq correlated NOT EXISTS, ORDER BY LIMIT', $q$SELECT a.company_id, a.id FROM ads a WHERE NOT EXISTS (SELECT 1 FROM impressions i WHERE i.company_id = a.company_id AND i.ad_id = a.id) ORDER BY a.id DESC LIMIT 6$q$, true, '004');
SELECT pg_temp.cq('259 sq correlated scalar subquery in the target list', $q$SELECT cp.company_id, cp.id, (SELECT count(*) FROM ads a WHERE a.company_id = cp.company_id AND a.campaign_id = cp.id) AS n FROM campaigns cp$q$, false, '004');
SELECT pg_temp.cq('260 sq correlated subquery with LIMIT and aggregate on top', $q$SELECT count(*), sum((SELECT c.id FROM clicks c WHERE c.company_id = a.company_id ORDER BY c.id LIMIT 1)) FROM ads a$q$, false, '004');
SELECT pg_temp.cq('261 sq two correlated levels', $q$SELECT co.id FROM companies co WHERE EXISTS (SELECT 1 FROM campaigns cp WHERE cp.company_id = co.id AND EXISTS (SELECT 1 FROM ads a WHERE a.company_id = cp.company_id AND a.campaign_id = cp.id AND a.clicks_count > 3))$q$, false, '004');
SELECT pg_temp.cq('262 sq correlated to the top from two levels down', $q$SELECT co.id FROM companies co WHERE co.id IN (SELECT cp.company_id FROM campaigns cp WHERE EXISTS (SELECT 1 FROM ads a WHERE a.company_id = co.id AND a.campaign_id = cp.id))$q$, false, '004');
SELECT pg_temp.cq('263 sq correlated on another column (FDW)', $q$SELECT a.id FROM ads a WHERE EXISTS (SELECT 1 FROM campaigns cp WHERE cp.id = a.campaign_id AND cp.state = 'paused')$q$, false, '004');
SELECT pg_temp.cq('264 sq key IN (SELECT key)', $q$SELECT count(*), sum(cost_per_impression_usd) FROM impressions WHERE company_id IN (SELECT company_id FROM campaigns WHERE state = 'paused')$q$, false, '004');
SELECT pg_temp.cq('265 sq key IN (SELECT key) with GROUP BY key inside', $q$SELECT id FROM campaigns WHERE company_id IN (SELECT company_id FROM clicks GROUP BY company_id HAVING count(*) > 40) AND monthly_budget > 100$q$, false, '004');
SELECT pg_temp.cq('266 sq key NOT IN (SELECT key) (coordinator subquery)', $q$SELECT count(*) FROM campaigns WHERE company_id NOT IN (SELECT company_id FROM ads WHERE clicks_count > 100)$q$, false, '004');
SELECT pg_temp.cq('267 sq key IN (SELECT key) under OR (coordinator subquery)', $q$SELECT count(*) FROM campaigns WHERE company_id IN (SELECT company_id FROM ads WHERE clicks_count > 100) OR state = 'paused'$q$, false, '004');
SELECT pg_temp.cq('268 sq key IN (SELECT non-key) (coordinator subquery)', $q$SELECT count(*) FROM campaigns WHERE company_id IN (SELECT campaign_id FROM ads)$q$, false, '004');
SELECT pg_temp.cq('269 sq derived table joined on the key', $q$SELECT cp.company_id, cp.id, s.n FROM campaigns cp JOIN (SELECT company_id, campaign_id, count(*) AS n FROM ads GROUP BY company_id, campaign_id) s ON s.company_id = cp.company_id AND s.campaign_id = cp.id ORDER BY s.n DESC, cp.id LIMIT 8$q$, true, '004');
SELECT pg_temp.cq('270 sq derived table with a window by key, two-phase on top', $q$SELECT r, count(*) FROM (SELECT company_id, rank() OVER (PARTITION BY company_id ORDER BY monthly_budget NULLS LAST, id) AS r FROM campaigns) s GROUP BY r$q$, false, '004');
SELECT pg_temp.cq('271 sq derived table grouped by another column', $q$SELECT count(*) FROM (SELECT state, count(*) FROM campaigns GROUP BY state) s$q$, false, '004');
SELECT pg_temp.cq('272 sq derived table with LIMIT', $q$SELECT count(*) FROM (SELECT company_id FROM ads ORDER BY id LIMIT 10) s$q$, false, '004');
SELECT pg_temp.cq('273 sq derived table DISTINCT without the key', $q$SELECT count(*) FROM (SELECT DISTINCT state, company_id % 1 AS z FROM campaigns) s$q$, false, '004');
SELECT pg_temp.cq('274 sq derived table, key of the nullable side (pulled up: two-phase)', $q$SELECT s.k, count(*) FROM (SELECT ca.company_id AS k FROM companies co LEFT JOIN campaigns ca ON ca.company_id = co.id AND ca.state = 'nope') s GROUP BY s.k$q$, false, '004');
SELECT pg_temp.cq('275 sq derived table, key of the preserved side', $q$SELECT s.k, count(*), count(s.cid) FROM (SELECT co.id AS k, ca.id AS cid FROM companies co LEFT JOIN campaigns ca ON ca.company_id = co.id AND ca.state = 'paused') s GROUP BY s.k$q$, false, '004');
SELECT pg_temp.cq('276 sq derived table not joined on the key', $q$SELECT count(*) FROM campaigns cp JOIN (SELECT company_id, campaign_id FROM ads GROUP BY company_id, campaign_id) s ON s.campaign_id = cp.id$q$, false, '004');
SELECT pg_temp.cq('277 sq lateral correlated on the key', $q$SELECT a.company_id, a.id, l.last FROM ads a CROSS JOIN LATERAL (SELECT max(c.clicked_at) AS last FROM clicks c WHERE c.company_id = a.company_id AND c.ad_id = a.id) l WHERE a.clicks_count > 2$q$, false, '004');
SELECT pg_temp.cq('278 sq correlated with NULL keys in the subquery', $q$SELECT co.id, (SELECT count(*) FROM campaigns cp WHERE cp.company_id = co.id AND cp.monthly_budget IS NULL) FROM companies co$q$, false, '004');
SELECT pg_temp.cq('279 sq derived table pinned by the key it returns', $q$SELECT s.company_id, s.n FROM (SELECT company_id, ad_id, count(*) AS n FROM clicks GROUP BY company_id, ad_id) s WHERE s.company_id = 5$q$, false, '004');

-- CTEs
SELECT pg_temp.cq('100 cte pinned', $q$WITH c AS (SELECT * FROM clicks WHERE company_id = 2) SELECT ad_id, count(*) FROM c GROUP BY ad_id$q$, false, '004');
SELECT pg_temp.cq('101 cte two pinned', $q$WITH a AS (SELECT id FROM ads WHERE company_id = 4), c AS (SELECT ad_id FROM clicks WHERE company_id = 4) SELECT a.id, count(c.ad_id) FROM a LEFT JOIN c ON c.ad_id = a.id GROUP BY a.id$q$, false, '004');
SELECT pg_temp.cq('102 cte multi-shard', $q$WITH c AS (SELECT company_id, count(*) AS n FROM clicks GROUP BY company_id) SELECT sum(n) FROM c$q$, false, '004');
SELECT pg_temp.cq('103 cte MATERIALIZED pinned', $q$WITH c AS MATERIALIZED (SELECT id, name FROM campaigns WHERE company_id = 5) SELECT * FROM c WHERE name LIKE '%1%'$q$, false, '004');
SELECT pg_temp.cq('104 cte recursive constant', $q$WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT a.id, r.n FROM ads a JOIN r ON r.n = a.id WHERE a.company_id = 1$q$, false, '004');
SELECT pg_temp.cq('105 cte referenced twice', $q$WITH c AS (SELECT ad_id, cost_per_click_usd FROM clicks WHERE company_id = 3) SELECT (SELECT count(*) FROM c), (SELECT max(cost_per_click_usd) FROM c)$q$, false, '004');
SELECT pg_temp.cq('284 cte grouped by the key, joined on it', $q$WITH n AS (SELECT company_id, ad_id, count(*) AS clicks FROM clicks GROUP BY company_id, ad_id) SELECT a.company_id, a.id, n.clicks FROM ads a JOIN n ON n.company_id = a.company_id AND n.ad_id = a.id ORDER BY n.clicks DESC, a.id LIMIT 7$q$, true, '004');
SELECT pg_temp.cq('285 cte with column names, two-phase on top', $q$WITH c (co, spend) AS (SELECT company_id, sum(cost_per_click_usd) FROM clicks GROUP BY company_id) SELECT count(*), round(sum(spend), 4), max(co) FROM c$q$, false, '004');
SELECT pg_temp.cq('286 cte referenced from a correlated subquery', $q$WITH hot AS (SELECT company_id, ad_id FROM clicks WHERE cost_per_click_usd > 2) SELECT a.company_id, a.id FROM ads a WHERE EXISTS (SELECT 1 FROM hot h WHERE h.company_id = a.company_id AND h.ad_id = a.id)$q$, false, '004');
SELECT pg_temp.cq('287 cte NOT MATERIALIZED referenced twice', $q$WITH c AS NOT MATERIALIZED (SELECT company_id, id FROM campaigns WHERE state = 'paused') SELECT x.company_id, x.id, y.id FROM c x JOIN c y ON y.company_id = x.company_id AND y.id > x.id$q$, false, '004');
SELECT pg_temp.cq('288 cte MATERIALIZED multi-shard', $q$WITH c AS MATERIALIZED (SELECT company_id, count(*) AS n FROM ads GROUP BY company_id) SELECT sum(n) FROM c$q$, false, '004');
SELECT pg_temp.cq('289 cte using another cte', $q$WITH a AS (SELECT company_id, id, campaign_id FROM ads WHERE clicks_count > 1), b AS (SELECT a.company_id, count(*) AS n FROM a GROUP BY a.company_id) SELECT b.company_id, b.n FROM b WHERE b.n > 3$q$, false, '004');
SELECT pg_temp.cq('290 cte not on the key, all of it returned', $q$WITH s AS (SELECT state, count(*) AS n FROM campaigns GROUP BY state) SELECT * FROM s$q$, false, '004');
SELECT pg_temp.cq('291 sq reference table preserved by an outer join with a derived table', $q$SELECT g.addrs, s.n FROM geo_ips g LEFT JOIN (SELECT company_id, user_ip, count(*) AS n FROM clicks GROUP BY company_id, user_ip) s ON g.addrs >>= s.user_ip$q$, false, '004');
SELECT pg_temp.cq('292 sq reference table joined with a derived table', $q$SELECT g.addrs, sum(s.n) FROM geo_ips g JOIN (SELECT company_id, user_ip, count(*) AS n FROM clicks GROUP BY company_id, user_ip) s ON g.addrs >>= s.user_ip GROUP BY g.addrs$q$, false, '004');

-- window functions
SELECT pg_temp.cq('106 w rank pinned', $q$SELECT id, campaign_id, rank() OVER (PARTITION BY campaign_id ORDER BY id) FROM ads WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('107 w running sum pinned', $q$SELECT id, sum(cost_per_click_usd) OVER (ORDER BY clicked_at, id) FROM clicks WHERE company_id = 8$q$, false, '004');
SELECT pg_temp.cq('108 w lag lead pinned', $q$SELECT id, lag(id) OVER w, lead(id) OVER w FROM impressions WHERE company_id = 3 WINDOW w AS (ORDER BY seen_at, id)$q$, false, '004');
SELECT pg_temp.cq('109 w row_number over key partition', $q$SELECT company_id, id, row_number() OVER (PARTITION BY company_id ORDER BY id) FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('110 w ntile pinned', $q$SELECT id, ntile(3) OVER (ORDER BY id) FROM campaigns WHERE company_id = 4$q$, false, '004');
SELECT pg_temp.cq('111 w window over aggregate pinned', $q$SELECT ad_id, count(*), sum(count(*)) OVER () FROM clicks WHERE company_id = 1 GROUP BY ad_id$q$, false, '004');
SELECT pg_temp.cq('112 w first_value range frame pinned', $q$SELECT id, first_value(clicked_at) OVER (ORDER BY clicked_at RANGE BETWEEN interval '1 day' PRECEDING AND CURRENT ROW) FROM clicks WHERE company_id = 7$q$, false, '004');
SELECT pg_temp.cq('113 w dense_rank global (FDW)', $q$SELECT id, dense_rank() OVER (ORDER BY monthly_budget NULLS FIRST) FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('239 w rank per company, top-N', $q$SELECT company_id, id, rank() OVER (PARTITION BY company_id ORDER BY monthly_budget DESC NULLS LAST, id) AS r FROM campaigns ORDER BY r, company_id, id LIMIT 12$q$, true, '004');
SELECT pg_temp.cq('240 w partition by key and another column', $q$SELECT company_id, campaign_id, id, count(*) OVER (PARTITION BY campaign_id, company_id) FROM ads$q$, false, '004');
SELECT pg_temp.cq('241 w over aggregates grouped by key', $q$SELECT company_id, ad_id, count(*) AS n, rank() OVER (PARTITION BY company_id ORDER BY count(*) DESC, ad_id) FROM clicks GROUP BY company_id, ad_id ORDER BY 4, 1, 2 LIMIT 9$q$, true, '004');
SELECT pg_temp.cq('242 w two windows, one not by key (FDW)', $q$SELECT company_id, id, row_number() OVER (PARTITION BY company_id ORDER BY id), sum(monthly_budget) OVER (PARTITION BY state) FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('243 w key of the nullable side (FDW)', $q$SELECT co.id, ca.id, count(*) OVER (PARTITION BY ca.company_id) FROM companies co LEFT JOIN campaigns ca ON ca.company_id = co.id AND ca.state = 'paused'$q$, false, '004');
SELECT pg_temp.cq('244 w partition by key of a co-located join', $q$SELECT a.company_id, a.id, sum(c.cost_per_click_usd) OVER (PARTITION BY c.company_id ORDER BY c.id) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.id % 7 = 0$q$, false, '004');
SELECT pg_temp.cq('245 w windows with aggregates not by key (FDW)', $q$SELECT state, count(*), rank() OVER (ORDER BY count(*)) FROM campaigns GROUP BY state$q$, false, '004');

-- GROUP BY / HAVING
SELECT pg_temp.cq('114 g by key', $q$SELECT company_id, count(*), avg(cost_per_impression_usd) FROM impressions GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('115 g by key HAVING', $q$SELECT company_id, sum(clicks_count) FROM ads GROUP BY company_id HAVING sum(clicks_count) > 10$q$, false, '004');
SELECT pg_temp.cq('116 g by non-key two-phase', $q$SELECT campaign_id, count(*), max(name) FROM ads GROUP BY campaign_id$q$, false, '004');
SELECT pg_temp.cq('117 g by expression two-phase', $q$SELECT lower(state), count(*) FROM campaigns GROUP BY lower(state)$q$, false, '004');
SELECT pg_temp.cq('118 g by two non-key columns', $q$SELECT state, cost_model, count(*), min(created_at) FROM campaigns GROUP BY state, cost_model$q$, false, '004');
SELECT pg_temp.cq('119 g HAVING on count', $q$SELECT site_url, count(*) FROM clicks GROUP BY site_url HAVING count(*) >= 3$q$, false, '004');
SELECT pg_temp.cq('120 g HAVING with avg', $q$SELECT ad_id FROM impressions GROUP BY ad_id HAVING avg(cost_per_impression_usd) > 0.5$q$, false, '004');
SELECT pg_temp.cq('121 g HAVING bool_or', $q$SELECT campaign_id FROM ads GROUP BY campaign_id HAVING bool_or(clicks_count > 2)$q$, false, '004');
SELECT pg_temp.cq('122 g without GROUP BY', $q$SELECT count(*), sum(clicks_count), avg(impressions_count), min(created_at), max(updated_at) FROM ads$q$, false, '004');
SELECT pg_temp.cq('123 g grouped by key, ordered', $q$SELECT company_id, count(*) AS n FROM impressions GROUP BY company_id ORDER BY n DESC, company_id$q$, true, '004');
SELECT pg_temp.cq('124 g GROUPING SETS (FDW)', $q$SELECT state, cost_model, count(*) FROM campaigns GROUP BY GROUPING SETS ((state), (cost_model))$q$, false, '004');
SELECT pg_temp.cq('125 g ROLLUP (FDW)', $q$SELECT company_id, state, count(*) FROM campaigns GROUP BY ROLLUP (company_id, state)$q$, false, '004');
SELECT pg_temp.cq('126 g bit and bool aggregates', $q$SELECT state, bit_or(id::int), bool_and(monthly_budget > 0), every(name <> '') FROM campaigns GROUP BY state$q$, false, '004');
SELECT pg_temp.cq('127 g sum int4 and int8', $q$SELECT sum(impressions_count), sum(id), avg(id) FROM ads$q$, false, '004');
SELECT pg_temp.cq('128 g count(DISTINCT) grouped', $q$SELECT state, count(DISTINCT cost_model), count(*) FROM campaigns GROUP BY state$q$, false, '004');
SELECT pg_temp.cq('129 g count(DISTINCT) with HAVING', $q$SELECT campaign_id, count(DISTINCT name) FROM ads GROUP BY campaign_id HAVING count(DISTINCT name) > 1$q$, false, '004');
SELECT pg_temp.cq('130 g variance of ints grouped', $q$SELECT state, variance(id), stddev(id) FROM campaigns GROUP BY state$q$, false, '004');
SELECT pg_temp.cq('131 g stddev of clicks per ad', $q$SELECT ad_id, stddev_pop(length(site_url)), var_samp(length(site_url)) FROM clicks GROUP BY ad_id$q$, false, '004');
SELECT pg_temp.cq('132 g numeric stddev', $q$SELECT stddev(cost_per_click_usd) FROM clicks$q$, false, '004');
SELECT pg_temp.cq('133 g string_agg ordered (FDW)', $q$SELECT company_id, string_agg(name, ',' ORDER BY name) FROM campaigns GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('134 g array_agg by key', $q$SELECT company_id, array_length(array_agg(id), 1) FROM ads GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('135 g json aggregate pinned', $q$SELECT jsonb_object_agg(id, name) FROM campaigns WHERE company_id = 1$q$, false, '004');

-- DISTINCT
SELECT pg_temp.cq('136 d DISTINCT', $q$SELECT DISTINCT state FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('137 d DISTINCT pinned', $q$SELECT DISTINCT site_url FROM clicks WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('138 d DISTINCT ON pinned', $q$SELECT DISTINCT ON (ad_id) ad_id, id FROM clicks WHERE company_id = 3 ORDER BY ad_id, id$q$, true, '004');
SELECT pg_temp.cq('139 d DISTINCT in derived table', $q$SELECT count(*) FROM (SELECT DISTINCT company_id, ad_id FROM clicks) s$q$, false, '004');
SELECT pg_temp.cq('140 d count(DISTINCT) of key', $q$SELECT count(DISTINCT company_id) FROM impressions$q$, false, '004');
SELECT pg_temp.cq('141 d count(DISTINCT) pinned', $q$SELECT count(DISTINCT ad_id) FROM clicks WHERE company_id = 4$q$, false, '004');
SELECT pg_temp.cq('246 d DISTINCT with the key', $q$SELECT DISTINCT company_id, ad_id FROM clicks WHERE id % 3 = 0$q$, false, '004');
SELECT pg_temp.cq('247 d DISTINCT with the key, ORDER BY LIMIT', $q$SELECT DISTINCT company_id, state FROM campaigns ORDER BY state, company_id LIMIT 7$q$, true, '004');
SELECT pg_temp.cq('248 d DISTINCT of NULLs and text', $q$SELECT DISTINCT monthly_budget IS NULL AS nobudget, state FROM campaigns ORDER BY 1, 2$q$, true, '004');
SELECT pg_temp.cq('249 d DISTINCT ORDER BY LIMIT OFFSET', $q$SELECT DISTINCT ad_id FROM clicks ORDER BY ad_id DESC LIMIT 5 OFFSET 3$q$, true, '004');
SELECT pg_temp.cq('250 d DISTINCT ON the key', $q$SELECT DISTINCT ON (company_id) company_id, id, monthly_budget FROM campaigns ORDER BY company_id, monthly_budget DESC NULLS LAST, id$q$, true, '004');
SELECT pg_temp.cq('251 d DISTINCT ON the key, LIMIT', $q$SELECT DISTINCT ON (company_id) company_id, id, clicked_at FROM clicks ORDER BY company_id, clicked_at, id LIMIT 4$q$, true, '004');
SELECT pg_temp.cq('252 d DISTINCT ON another column', $q$SELECT DISTINCT ON (state) state, id FROM campaigns ORDER BY state, id$q$, true, '004');
SELECT pg_temp.cq('253 d DISTINCT of aggregates by key (FDW)', $q$SELECT DISTINCT count(*) FROM campaigns GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('254 d DISTINCT over a co-located join', $q$SELECT DISTINCT a.campaign_id % 3 AS m, c.site_url FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id$q$, false, '004');
SELECT pg_temp.cq('255 d DISTINCT with a reference table', $q$SELECT DISTINCT g.addrs FROM clicks c JOIN geo_ips g ON g.addrs >> c.user_ip ORDER BY 1 LIMIT 5$q$, true, '004');
SELECT pg_temp.cq('256 d DISTINCT of an expression, key on the nullable side', $q$SELECT DISTINCT ca.company_id, co.id % 2 FROM companies co LEFT JOIN campaigns ca ON ca.company_id = co.id AND ca.state = 'nope'$q$, false, '004');

-- ORDER BY / LIMIT / OFFSET
SELECT pg_temp.cq('142 o order by key', $q$SELECT company_id, id FROM campaigns ORDER BY company_id, id$q$, true, '004');
SELECT pg_temp.cq('143 o order by desc nulls last', $q$SELECT monthly_budget, company_id, id FROM campaigns ORDER BY monthly_budget DESC NULLS LAST, company_id, id$q$, true, '004');
SELECT pg_temp.cq('144 o top-N', $q$SELECT company_id, id, cost_per_impression_usd FROM impressions ORDER BY cost_per_impression_usd DESC, company_id, id LIMIT 5$q$, true, '004');
SELECT pg_temp.cq('145 o top-N with offset', $q$SELECT company_id, id FROM impressions ORDER BY seen_at, company_id, id LIMIT 7 OFFSET 3$q$, true, '004');
SELECT pg_temp.cq('146 o offset only', $q$SELECT company_id, id FROM ads ORDER BY id, company_id OFFSET 230$q$, true, '004');
SELECT pg_temp.cq('147 o limit 0', $q$SELECT id FROM ads ORDER BY id LIMIT 0$q$, true, '004');
SELECT pg_temp.cq('148 o limit pinned', $q$SELECT id FROM clicks WHERE company_id = 5 ORDER BY clicked_at DESC, id LIMIT 3$q$, true, '004');
SELECT pg_temp.cq('149 o order by text collation', $q$SELECT name, company_id, id FROM campaigns ORDER BY name COLLATE "C", company_id, id LIMIT 10$q$, true, '004');
SELECT pg_temp.cq('150 o order by expression not selected', $q$SELECT id FROM ads ORDER BY company_id * 2, id LIMIT 5$q$, true, '004');
SELECT pg_temp.cq('151 o order by aggregate', $q$SELECT campaign_id, count(*) AS n FROM ads GROUP BY campaign_id ORDER BY n DESC, campaign_id LIMIT 4$q$, true, '004');
SELECT pg_temp.cq('152 o order by position', $q$SELECT company_id, count(*) FROM clicks GROUP BY 1 ORDER BY 2 DESC, 1$q$, true, '004');
SELECT pg_temp.cq('153 o limit with parameter-free expression', $q$SELECT id FROM ads ORDER BY id LIMIT 2 + 3$q$, true, '004');
SELECT pg_temp.cq('154 o FETCH FIRST WITH TIES (FDW)', $q$SELECT company_id, id FROM ads ORDER BY company_id FETCH FIRST 3 ROWS WITH TIES$q$, false, '004');

-- NULLs
SELECT pg_temp.cq('155 n IS NULL filter', $q$SELECT id FROM campaigns WHERE monthly_budget IS NULL$q$, false, '004');
SELECT pg_temp.cq('156 n NULL in aggregates', $q$SELECT count(monthly_budget), sum(monthly_budget), avg(monthly_budget), max(monthly_budget) FROM campaigns WHERE company_id = 3$q$, false, '004');
SELECT pg_temp.cq('157 n NULL group', $q$SELECT monthly_budget IS NULL, count(*) FROM campaigns GROUP BY 1$q$, false, '004');
SELECT pg_temp.cq('158 n coalesce', $q$SELECT id, coalesce(monthly_budget, -1) FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('159 n NULLIF', $q$SELECT id, nullif(clicks_count, 0) FROM ads WHERE company_id = 4$q$, false, '004');
SELECT pg_temp.cq('160 n NULL key never pins', $q$SELECT id FROM ads WHERE company_id = NULL$q$, false, '004');
SELECT pg_temp.cq('161 n IS NOT DISTINCT FROM NULL', $q$SELECT id FROM campaigns WHERE monthly_budget IS NOT DISTINCT FROM NULL$q$, false, '004');
SELECT pg_temp.cq('162 n NULL array elements', $q$SELECT id, blacklisted_site_urls IS NULL FROM campaigns WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('163 n NULLs sort first', $q$SELECT monthly_budget, id, company_id FROM campaigns ORDER BY monthly_budget NULLS FIRST, id, company_id LIMIT 8$q$, true, '004');
SELECT pg_temp.cq('164 n count(*) vs count(col) grouped', $q$SELECT state, count(*), count(monthly_budget) FROM campaigns GROUP BY state$q$, false, '004');
SELECT pg_temp.cq('165 n min of all-NULL group', $q$SELECT company_id, min(monthly_budget) FROM campaigns GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('166 n NOT IN with NULL', $q$SELECT id FROM ads WHERE company_id = 3 AND campaign_id NOT IN (1, NULL)$q$, false, '004');

-- expressions and types
SELECT pg_temp.cq('167 e date arithmetic', $q$SELECT id, seen_at + interval '1 day', date_trunc('week', seen_at) FROM impressions WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('168 e to_char', $q$SELECT id, to_char(clicked_at, 'YYYY-MM-DD HH24:MI') FROM clicks WHERE company_id = 9$q$, false, '004');
SELECT pg_temp.cq('169 e CASE', $q$SELECT id, CASE WHEN clicks_count = 0 THEN 'none' WHEN clicks_count < 3 THEN 'few' ELSE 'many' END FROM ads$q$, false, '004');
SELECT pg_temp.cq('170 e string functions', $q$SELECT id, split_part(name, ' ', 1), reverse(name), initcap(name) FROM campaigns WHERE company_id < 4$q$, false, '004');
SELECT pg_temp.cq('171 e regexp match', $q$SELECT id, regexp_matches(site_url, '[a-z]+\.com') FROM clicks WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('172 e jsonb path', $q$SELECT id, user_data #>> '{browser}', jsonb_exists(user_data, 'is_mobile') FROM impressions WHERE company_id = 5$q$, false, '004');
SELECT pg_temp.cq('173 e inet functions', $q$SELECT id, network(set_masklen(user_ip, 16)) FROM clicks WHERE company_id = 6$q$, false, '004');
SELECT pg_temp.cq('174 e numeric rounding', $q$SELECT id, round(cost_per_impression_usd, 2), ceil(cost_per_impression_usd * 100) FROM impressions WHERE company_id = 1$q$, false, '004');
SELECT pg_temp.cq('175 e array functions', $q$SELECT id, array_to_string(blacklisted_site_urls, '|'), cardinality(blacklisted_site_urls) FROM campaigns$q$, false, '004');
SELECT pg_temp.cq('176 e now() on coordinator', $q$SELECT count(*) FROM clicks WHERE company_id = 2 AND clicked_at < now()$q$, false, '004');
SELECT pg_temp.cq('177 e random() (FDW)', $q$SELECT count(*) FROM ads WHERE random() >= 0$q$, false, '004');
SELECT pg_temp.cq('178 e generate_series in FROM pinned', $q$SELECT g, a.id FROM ads a, generate_series(1, 2) g WHERE a.company_id = 1$q$, false, '004');
SELECT pg_temp.cq('179 e SRF in target list pinned', $q$SELECT id, unnest(blacklisted_site_urls) FROM campaigns WHERE company_id = 3$q$, false, '004');
SELECT pg_temp.cq('180 e boolean expressions', $q$SELECT id FROM ads WHERE (clicks_count > 1) IS TRUE AND NOT (impressions_count < 0)$q$, false, '004');
SELECT pg_temp.cq('181 e UNION ALL of pinned', $q$SELECT id FROM ads WHERE company_id = 1 UNION ALL SELECT id FROM ads WHERE company_id = 2$q$, false, '004');
SELECT pg_temp.cq('182 e INTERSECT pinned', $q$SELECT ad_id FROM clicks WHERE company_id = 3 INTERSECT SELECT ad_id FROM impressions WHERE company_id = 3$q$, false, '004');
SELECT pg_temp.cq('183 e EXCEPT pinned', $q$SELECT id FROM ads WHERE company_id = 4 EXCEPT SELECT ad_id FROM clicks WHERE company_id = 4$q$, false, '004');
SELECT pg_temp.cq('184 e VALUES join pinned', $q$SELECT a.id, v.label FROM ads a JOIN (VALUES (1, 'one'), (2, 'two')) v(n, label) ON v.n = a.campaign_id % 3 WHERE a.company_id = 2$q$, false, '004');

-- pruning by IN / = ANY
SELECT pg_temp.cq('185 p IN list two-phase', $q$SELECT count(*), max(id) FROM impressions WHERE company_id IN (1, 3, 5)$q$, false, '004');
SELECT pg_temp.cq('186 p = ANY array grouped', $q$SELECT company_id, count(*) FROM clicks WHERE company_id = ANY ('{2,4,6}') GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('187 p IN list join', $q$SELECT a.id, cp.name FROM ads a JOIN campaigns cp ON cp.company_id = a.company_id AND cp.id = a.campaign_id WHERE a.company_id IN (7, 8)$q$, false, '004');
SELECT pg_temp.cq('188 p IN single value = router', $q$SELECT id FROM ads WHERE company_id IN (9)$q$, false, '004');
SELECT pg_temp.cq('189 p OR of keys (not pruned)', $q$SELECT count(*) FROM ads WHERE company_id = 1 OR company_id = 2$q$, false, '004');
SELECT pg_temp.cq('190 p IN below the nullable side: not pruned', $q$SELECT count(*), count(c.id) FROM ads a LEFT JOIN (clicks c JOIN impressions i ON i.company_id = c.company_id AND i.ad_id = c.ad_id AND i.company_id IN (1, 2)) ON c.company_id = a.company_id AND c.ad_id = a.id$q$, false, '004');
SELECT pg_temp.cq('191 p = below the nullable side: not pruned', $q$SELECT a.company_id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id AND c.company_id = 3 GROUP BY a.company_id$q$, false, '004');
SELECT pg_temp.cq('192 p = constant with an outer join', $q$SELECT a.id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = 4 GROUP BY a.id$q$, false, '004');
SELECT pg_temp.cq('193 p = constant on the nullable side in WHERE', $q$SELECT a.id, c.id FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.company_id = 6$q$, false, '004');
SELECT pg_temp.cq('194 p = NULL with an outer join', $q$SELECT a.id, c.id FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = NULL$q$, false, '004');
SELECT pg_temp.cq('195 p = and IN intersect', $q$SELECT a.id, c.id FROM ads a FULL JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = 5 AND a.company_id IN (5, 6)$q$, false, '004');

-- prepared statements (parameters): custom and generic plans
SELECT pg_temp.cprep('196 pp router by key, custom', 'bigint', $q$SELECT id, name FROM campaigns WHERE company_id = $1$q$, $a$3$a$, false, '004');
SELECT pg_temp.cprep('197 pp router by key, generic', 'bigint', $q$SELECT id, name FROM campaigns WHERE company_id = $1$q$, $a$3$a$, true, '004');
SELECT pg_temp.cprep('198 pp router join, generic', 'bigint', $q$SELECT a.id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = $1 GROUP BY a.id$q$, $a$5$a$, true, '004');
SELECT pg_temp.cprep('199 pp router NULL key', 'bigint', $q$SELECT id FROM ads WHERE company_id = $1$q$, $a$NULL$a$, true, '004');
SELECT pg_temp.cprep('200 pp router with limit param', 'bigint, int', $q$SELECT id FROM clicks WHERE company_id = $1 ORDER BY id LIMIT $2$q$, $a$2, 3$a$, true, '004');
SELECT pg_temp.cprep('201 pp multi-shard filter param', 'numeric', $q$SELECT company_id, id FROM clicks WHERE cost_per_click_usd > $1$q$, $a$4.5$a$, true, '004');
SELECT pg_temp.cprep('202 pp two-phase with param', 'text', $q$SELECT count(*), avg(monthly_budget) FROM campaigns WHERE state = $1$q$, $a$'running'$a$, true, '004');
SELECT pg_temp.cprep('203 pp count(DISTINCT) with param', 'numeric', $q$SELECT count(DISTINCT ad_id) FROM clicks WHERE cost_per_click_usd < $1$q$, $a$2$a$, true, '004');
SELECT pg_temp.cprep('204 pp = ANY param', 'bigint[]', $q$SELECT company_id, id FROM ads WHERE company_id = ANY ($1)$q$, $a$'{2,3}'$a$, true, '004');
SELECT pg_temp.cprep('205 pp IN params', 'bigint, bigint, bigint', $q$SELECT count(*) FROM clicks WHERE company_id IN ($1, $2, $3)$q$, $a$1, 4, 7$a$, true, '004');
SELECT pg_temp.cprep('206 pp param in expression', 'int', $q$SELECT id FROM ads WHERE company_id = $1 + 1$q$, $a$2$a$, true, '004');
SELECT pg_temp.cprep('207 pp param text key seed002', 'int', $q$SELECT event_id FROM events WHERE device_id = $1$q$, $a$42$a$, true, '002');
SELECT pg_temp.cprep('208 pp seed003 store param', 'int', $q$SELECT p.product_id, sum(l.quantity) FROM products p JOIN line_items l ON l.store_id = p.store_id AND l.product_id = p.product_id WHERE p.store_id = $1 GROUP BY p.product_id$q$, $a$5$a$, true, '003');
SELECT pg_temp.cprep('209 pp seed001 owner param custom', 'bigint', $q$SELECT event_type, count(*) FROM events WHERE owner_id = $1 GROUP BY event_type$q$, $a$7$a$, false, '001');
SELECT pg_temp.cprep('210 pp two params both keys', 'bigint, bigint', $q$SELECT a.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = $1 AND c.company_id = $2$q$, $a$4, 4$a$, true, '004');
SELECT pg_temp.cprep('211 pp = $1 with an outer join', 'bigint', $q$SELECT a.id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = $1 GROUP BY a.id$q$, $a$4$a$, true, '004');
SELECT pg_temp.cprep('212 pp = $1 NULL with an outer join', 'bigint', $q$SELECT a.id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = $1 GROUP BY a.id$q$, $a$NULL$a$, true, '004');
SELECT pg_temp.cprep('213 pp window with param', 'bigint', $q$SELECT id, rank() OVER (ORDER BY clicks_count DESC, id) FROM ads WHERE company_id = $1$q$, $a$6$a$, true, '004');

-- DML with RETURNING
SELECT pg_temp.cdml('214 m insert one row', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, monthly_budget, created_at, updated_at) VALUES (9001, 3, 'corpus one', 'cpc', 'running', 10, '2026-03-01', '2026-03-01') RETURNING id, company_id, name$q$, 'campaigns');
SELECT pg_temp.cdml('215 m insert multi-row one shard', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9002, 3, 'c2', 'cpm', 'paused', '2026-03-01', '2026-03-01'), (9003, 3, 'c3', 'cpm', 'paused', '2026-03-01', '2026-03-01') RETURNING *$q$, 'campaigns');
SELECT pg_temp.cdml('216 m insert multi-row several shards', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9004, 1, 'c4', 'cpc', 'running', '2026-03-01', '2026-03-01'), (9005, 2, 'c5', 'cpc', 'running', '2026-03-01', '2026-03-01') RETURNING id, company_id$q$, 'campaigns');
SELECT pg_temp.cdml('217 m update pinned', $q$UPDATE campaigns SET monthly_budget = 99 WHERE company_id = 3 AND id = 9001 RETURNING id, monthly_budget$q$, 'campaigns');
SELECT pg_temp.cdml('218 m update pinned expression', $q$UPDATE ads SET clicks_count = clicks_count * 2 WHERE company_id = 2 RETURNING id, clicks_count$q$, 'ads');
SELECT pg_temp.cdml('219 m update multi-shard', $q$UPDATE campaigns SET name = name || '!' WHERE id >= 9001 RETURNING company_id, id, name$q$, 'campaigns');
SELECT pg_temp.cdml('220 m update with co-located join', $q$UPDATE ads a SET impressions_count = a.impressions_count + 1 FROM campaigns cp WHERE cp.company_id = a.company_id AND cp.id = a.campaign_id AND cp.state = 'running' AND a.company_id = 5 RETURNING a.id, a.impressions_count$q$, 'ads');
SELECT pg_temp.cdml('221 m update IN list', $q$UPDATE impressions SET cost_per_impression_usd = cost_per_impression_usd + 0.01 WHERE company_id IN (1, 2) AND id % 10 = 0 RETURNING company_id, id, cost_per_impression_usd$q$, 'impressions');
SELECT pg_temp.cdml('222 m update not on key (FDW)', $q$UPDATE ads a SET name = cp.name FROM campaigns cp WHERE cp.id = a.campaign_id AND cp.id = 9001 RETURNING a.id$q$, 'ads');
SELECT pg_temp.cdml('223 m delete pinned', $q$DELETE FROM campaigns WHERE company_id = 3 AND id = 9003 RETURNING id$q$, 'campaigns');
SELECT pg_temp.cdml('224 m delete multi-shard', $q$DELETE FROM campaigns WHERE id IN (9002, 9004, 9005) RETURNING company_id, id$q$, 'campaigns');
SELECT pg_temp.cdml('225 m delete with subquery pinned', $q$DELETE FROM clicks WHERE company_id = 8 AND ad_id IN (SELECT id FROM ads WHERE company_id = 8 AND clicks_count = 0) RETURNING id$q$, 'clicks');
SELECT pg_temp.cdml('226 m insert select co-located', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) SELECT id + 10000, company_id, 'copy ' || name, cost_model, state, created_at, updated_at FROM campaigns WHERE id < 5 RETURNING id, company_id$q$, 'campaigns');
SELECT pg_temp.cdml('227 m insert select pinned', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) SELECT id + 20000, company_id, name, cost_model, state, created_at, updated_at FROM campaigns WHERE company_id = 4 RETURNING id$q$, 'campaigns');
SELECT pg_temp.cdml('228 m insert ON CONFLICT DO NOTHING', $q$INSERT INTO campaigns (id, company_id, name, cost_model, state, created_at, updated_at) VALUES (9001, 3, 'dup', 'cpc', 'running', '2026-03-01', '2026-03-01') ON CONFLICT DO NOTHING RETURNING id$q$, 'campaigns');
SELECT pg_temp.cdml('229 m delete cleanup', $q$DELETE FROM campaigns WHERE id > 9000 RETURNING company_id, id$q$, 'campaigns');
SELECT pg_temp.cdml('280 m update where correlated EXISTS on the key', $q$UPDATE ads SET updated_at = updated_at WHERE EXISTS (SELECT 1 FROM clicks c WHERE c.company_id = ads.company_id AND c.ad_id = ads.id AND c.cost_per_click_usd > 2) RETURNING company_id, id, clicks_count$q$, 'ads');
SELECT pg_temp.cdml('281 m update from a derived table joined on the key', $q$UPDATE ads SET updated_at = ads.updated_at FROM (SELECT company_id, ad_id, count(*) AS n FROM impressions GROUP BY company_id, ad_id) s WHERE s.company_id = ads.company_id AND s.ad_id = ads.id RETURNING ads.company_id, ads.id, s.n$q$, 'ads');
SELECT pg_temp.cdml('282 m update where key IN (SELECT key)', $q$UPDATE clicks SET site_url = site_url WHERE company_id IN (SELECT company_id FROM campaigns WHERE state = 'paused' AND monthly_budget > 1000) AND cost_per_click_usd > 3 RETURNING company_id, id$q$, 'clicks');
SELECT pg_temp.cdml('283 m delete where uncorrelated subquery (coordinator subquery)', $q$DELETE FROM clicks WHERE ad_id IN (SELECT id FROM ads WHERE clicks_count > 2000) RETURNING id$q$, 'clicks');

-- DISTINCT aggregates merged from the workers' sorted values, and their
-- fallbacks (grouped two-phase plan)
SELECT pg_temp.cq('230 md count(DISTINCT) inet', $q$SELECT count(DISTINCT user_ip) FROM clicks$q$, false, '004');
SELECT pg_temp.cq('231 md count(DISTINCT) text with WHERE', $q$SELECT count(DISTINCT site_url) FROM impressions WHERE cost_per_impression_usd > 0.5$q$, false, '004');
SELECT pg_temp.cq('232 md count(DISTINCT) date HAVING', $q$SELECT count(DISTINCT seen_at::date) AS days FROM impressions HAVING count(DISTINCT seen_at::date) > 1$q$, false, '004');
SELECT pg_temp.cq('233 md numeric and expressions', $q$SELECT count(DISTINCT cost_per_click_usd), count(DISTINCT cost_per_click_usd) * 10 FROM clicks$q$, false, '004');
SELECT pg_temp.cq('234 md sum / max (DISTINCT) bigint', $q$SELECT count(DISTINCT ad_id), sum(DISTINCT ad_id), avg(DISTINCT ad_id), max(DISTINCT ad_id) FROM clicks WHERE company_id IN (1, 2, 3, 5, 8)$q$, false, '004');
SELECT pg_temp.cq('235 md timestamp of a co-located join', $q$SELECT count(DISTINCT c.clicked_at) FROM clicks c JOIN ads a ON a.company_id = c.company_id AND a.id = c.ad_id$q$, false, '004');
SELECT pg_temp.cq('236 md fallback: next to count(*)', $q$SELECT count(DISTINCT user_ip), count(*) FROM clicks$q$, false, '004');
SELECT pg_temp.cq('237 md fallback: jsonb', $q$SELECT count(DISTINCT user_data) FROM clicks$q$, false, '004');
SELECT pg_temp.cq('238 md fallback: GROUP BY', $q$SELECT ad_id, count(DISTINCT user_ip) FROM clicks GROUP BY ad_id$q$, false, '004');

-- set operations over all shards (each branch runs in the shard's task)
SELECT pg_temp.cq('293 u UNION ALL of clicks and impressions', $q$SELECT company_id, ad_id, 'click' AS kind FROM clicks UNION ALL SELECT company_id, ad_id, 'impression' FROM impressions$q$, false, '004');
SELECT pg_temp.cq('294 u UNION with the key first', $q$SELECT company_id, ad_id FROM clicks UNION SELECT company_id, ad_id FROM impressions$q$, false, '004');
SELECT pg_temp.cq('295 u ads never clicked (EXCEPT)', $q$SELECT company_id, id FROM ads EXCEPT SELECT company_id, ad_id FROM clicks$q$, false, '004');
SELECT pg_temp.cq('296 u INTERSECT ALL of sites', $q$SELECT company_id, site_url FROM clicks INTERSECT ALL SELECT company_id, site_url FROM impressions$q$, false, '004');
SELECT pg_temp.cq('297 u events per company over UNION ALL', $q$SELECT company_id, count(*) FROM (SELECT company_id FROM clicks UNION ALL SELECT company_id FROM impressions) e GROUP BY company_id$q$, false, '004');
SELECT pg_temp.cq('298 u count over UNION ALL (two-phase)', $q$SELECT count(*), count(DISTINCT ad_id), max(at) FROM (SELECT company_id, ad_id, clicked_at AS at FROM clicks UNION ALL SELECT company_id, ad_id, seen_at FROM impressions) e$q$, false, '004');
SELECT pg_temp.cq('299 u latest events ORDER BY LIMIT', $q$SELECT company_id, ad_id, clicked_at AS at FROM clicks UNION ALL SELECT company_id, ad_id, seen_at FROM impressions ORDER BY 3 DESC, 1, 2 LIMIT 10$q$, true, '004');
SELECT pg_temp.cq('300 u ads joined to their events', $q$SELECT a.company_id, a.name, count(*) FROM ads a JOIN (SELECT company_id, ad_id FROM clicks UNION ALL SELECT company_id, ad_id FROM impressions) e ON e.company_id = a.company_id AND e.ad_id = a.id GROUP BY a.company_id, a.name$q$, false, '004');
SELECT pg_temp.cq('301 u key IN (INTERSECT)', $q$SELECT company_id, id, name FROM campaigns WHERE company_id IN (SELECT company_id FROM ads WHERE clicks_count > 90 INTERSECT SELECT company_id FROM clicks WHERE cost_per_click_usd > 4)$q$, false, '004');
SELECT pg_temp.cq('302 u UNION of a non-key column', $q$SELECT ad_id FROM clicks UNION SELECT ad_id FROM impressions$q$, false, '004');
SELECT pg_temp.cq('303 u UNION ALL with a reference table branch', $q$SELECT company_id::text FROM ads UNION ALL SELECT addrs::text FROM geo_ips$q$, false, '004');

-- nothing left behind
SELECT count(*) AS leftover_prepared FROM pg_prepared_statements;
DROP SCHEMA local001, local002, local003 CASCADE;

