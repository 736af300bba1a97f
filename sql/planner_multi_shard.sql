--
-- planner_multi_shard: the multi-shard strategy of the distributed planner.
--
-- Like planner_router, runs after "differential" and reuses its schemas
-- "dist" (distributed, co-located on company_id; geo_ips a reference table)
-- and "local" (the same rows in plain tables) and its dt_compare helper.
-- Each line: the result, run at the top level, compared with the local
-- copy, and the strategy.
--
SET client_min_messages = warning;

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

CREATE FUNCTION pg_temp.ms_check(label text, q text, ordered boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pg_temp.diff_check(label, q, ordered) || ' [' || pg_temp.strategy_tasks(q) || ']';
END
$$;

CREATE FUNCTION pg_temp.ms_row_count(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    EXECUTE q;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

\pset tuples_only on
\pset format unaligned

--
-- One task per shard, rows concatenated on the coordinator
--
SELECT pg_temp.ms_check('whole table', $q$SELECT * FROM companies$q$);
SELECT pg_temp.ms_check('filter', $q$SELECT id, name FROM campaigns WHERE monthly_budget > 500$q$);
SELECT pg_temp.ms_check('OR of keys', $q$SELECT id FROM ads WHERE company_id = 1 OR company_id = 2$q$);
SELECT pg_temp.ms_check('jsonb filter', $q$SELECT id, user_data->>'browser' FROM clicks WHERE user_data->>'browser' = 'safari'$q$);
SELECT pg_temp.ms_check('NULLs', $q$SELECT id, company_id, monthly_budget FROM campaigns WHERE monthly_budget IS NULL$q$);
SELECT pg_temp.ms_check('co-located join', $q$SELECT a.id, c.name FROM ads a JOIN campaigns c ON c.company_id = a.company_id AND c.id = a.campaign_id$q$);
SELECT pg_temp.ms_check('join in WHERE', $q$SELECT a.id, c.id FROM ads a, clicks c WHERE a.company_id = c.company_id AND a.id = c.ad_id AND c.cost_per_click_usd > 2$q$);
SELECT pg_temp.ms_check('three tables', $q$SELECT co.name, a.id, cl.id FROM companies co JOIN ads a ON a.company_id = co.id JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id$q$);
SELECT pg_temp.ms_check('co-located left join', $q$SELECT a.id, cl.id FROM ads a LEFT JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id$q$);
SELECT pg_temp.ms_check('co-located full join', $q$SELECT a.id, cl.id FROM ads a FULL JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id AND cl.cost_per_click_usd > 3$q$);
SELECT pg_temp.ms_check('reference table join', $q$SELECT i.id, g.addrs FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip$q$);
SELECT pg_temp.ms_check('reference table sublink', $q$SELECT i.id FROM impressions i WHERE EXISTS (SELECT 1 FROM geo_ips g WHERE g.addrs >>= i.user_ip)$q$);
SELECT pg_temp.ms_check('grouped by the key', $q$SELECT company_id, count(*), sum(cost_per_click_usd), avg(cost_per_click_usd), min(clicked_at), max(site_url) FROM clicks GROUP BY company_id$q$);
SELECT pg_temp.ms_check('grouped by key and more', $q$SELECT company_id, ad_id, count(*) FROM clicks GROUP BY company_id, ad_id HAVING count(*) > 2$q$);
SELECT pg_temp.ms_check('grouped by the join key', $q$SELECT c.company_id, count(DISTINCT a.id) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY c.company_id$q$);
SELECT pg_temp.ms_check('grouped by the other side', $q$SELECT a.company_id, count(*) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY a.company_id$q$);
SELECT pg_temp.ms_check('ORDER BY', $q$SELECT company_id, id, name FROM campaigns ORDER BY company_id DESC, id$q$, true);
SELECT pg_temp.ms_check('ORDER BY text', $q$SELECT name, id, company_id FROM campaigns ORDER BY name, company_id, id$q$, true);
SELECT pg_temp.ms_check('ORDER BY NULLS FIRST', $q$SELECT monthly_budget, company_id, id FROM campaigns ORDER BY monthly_budget NULLS FIRST, company_id, id$q$, true);
SELECT pg_temp.ms_check('top-N', $q$SELECT company_id, id, cost_per_click_usd FROM clicks ORDER BY cost_per_click_usd DESC, company_id, id LIMIT 7$q$, true);
SELECT pg_temp.ms_check('top-N with OFFSET', $q$SELECT clicked_at, company_id, id FROM clicks ORDER BY clicked_at, company_id, id LIMIT 5 OFFSET 10$q$, true);
SELECT pg_temp.ms_check('grouped top-N', $q$SELECT a.company_id, a.id, count(*) AS n FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY a.company_id, a.id ORDER BY n DESC, a.company_id, a.id LIMIT 5$q$, true);
-- LIMIT without ORDER BY: any 10 rows (their number is compared)
SELECT pg_temp.ms_row_count($q$SELECT id FROM clicks LIMIT 10$q$), pg_temp.strategy_tasks($q$SELECT id FROM clicks LIMIT 10$q$);
SELECT pg_temp.ms_check('OFFSET beyond the rows', $q$SELECT company_id, id FROM ads ORDER BY company_id, id OFFSET 100000$q$, true);

-- expressions of all kinds, shipped as they are
SELECT pg_temp.ms_check('CASE and COALESCE', $q$SELECT id, CASE WHEN monthly_budget > 500 THEN 'big' WHEN monthly_budget IS NULL THEN 'none' ELSE 'small' END, coalesce(monthly_budget, 0) FROM campaigns$q$);
SELECT pg_temp.ms_check('string functions', $q$SELECT id, upper(name), length(name), substr(name, 2, 4), position('#' IN name), replace(name, ' ', '_') FROM campaigns$q$);
SELECT pg_temp.ms_check('LIKE and ILIKE', $q$SELECT id FROM campaigns WHERE name LIKE 'Campaign #1%' OR name ILIKE '%SPRING%'$q$);
SELECT pg_temp.ms_check('regular expression', $q$SELECT id, regexp_replace(name, '[0-9]+', 'N') FROM campaigns WHERE name ~ '#[0-9]{2}$'$q$);
SELECT pg_temp.ms_check('BETWEEN on timestamps', $q$SELECT id FROM clicks WHERE clicked_at BETWEEN '2026-03-02' AND '2026-03-05 12:00'$q$);
SELECT pg_temp.ms_check('timestamp arithmetic', $q$SELECT id, clicked_at - interval '90 minutes', date_part('dow', clicked_at), extract(epoch FROM clicked_at) FROM clicks WHERE company_id < 4$q$);
SELECT pg_temp.ms_check('numeric arithmetic', $q$SELECT id, round(cost_per_click_usd * 3, 4), cost_per_click_usd / 7, trunc(cost_per_click_usd) FROM clicks$q$);
SELECT pg_temp.ms_check('arrays', $q$SELECT id, blacklisted_site_urls[1], array_length(blacklisted_site_urls, 1) FROM campaigns WHERE 'http://bad.example.com' = ANY (blacklisted_site_urls) OR blacklisted_site_urls IS NULL$q$);
SELECT pg_temp.ms_check('jsonb operators', $q$SELECT id, user_data -> 'browser', user_data ? 'is_mobile', jsonb_typeof(user_data) FROM clicks WHERE user_data @> '{"is_mobile": true}'$q$);
SELECT pg_temp.ms_check('inet operators', $q$SELECT id, host(user_ip), masklen(user_ip), user_ip << '10.0.0.0/8' FROM impressions WHERE family(user_ip) = 4$q$);
SELECT pg_temp.ms_check('IS DISTINCT FROM', $q$SELECT id FROM campaigns WHERE monthly_budget IS DISTINCT FROM 100$q$);
SELECT pg_temp.ms_check('NOT IN constants', $q$SELECT id FROM ads WHERE company_id NOT IN (1, 2, 3)$q$);
SELECT pg_temp.ms_check('IN (reference subquery)', $q$SELECT id FROM impressions WHERE user_ip IN (SELECT host(addrs)::inet FROM geo_ips)$q$);
SELECT pg_temp.ms_check('scalar subquery on reference table', $q$SELECT id, (SELECT count(*) FROM geo_ips) FROM ads WHERE id < 20$q$);
SELECT pg_temp.ms_check('grouped by key, ORDER BY aggregate', $q$SELECT company_id, max(clicked_at) AS last FROM clicks GROUP BY company_id ORDER BY last DESC, company_id$q$, true);
SELECT pg_temp.ms_check('grouped by key, HAVING', $q$SELECT company_id, count(*) FROM clicks GROUP BY company_id HAVING sum(cost_per_click_usd) > 100$q$);
SELECT pg_temp.ms_check('two-phase, grouped by text', $q$SELECT cost_model, count(*), min(name), max(name) FROM campaigns GROUP BY cost_model$q$);
SELECT pg_temp.ms_check('two-phase, NULL group', $q$SELECT monthly_budget, count(*) FROM campaigns GROUP BY monthly_budget$q$);
SELECT pg_temp.ms_check('two-phase with WHERE on key', $q$SELECT count(*), avg(cost_per_click_usd) FROM clicks WHERE company_id IN (2, 4, 6)$q$);
SELECT pg_temp.ms_check('two-phase, three tables', $q$SELECT co.name, count(*) FROM companies co JOIN ads a ON a.company_id = co.id JOIN impressions i ON i.company_id = a.company_id AND i.ad_id = a.id GROUP BY co.name$q$);

-- pruning: IN lists and = ANY (constant arrays) on the distribution column
-- keep only the shards their values hash to (task counts are deterministic)
SELECT pg_temp.ms_check('IN list', $q$SELECT id, company_id FROM ads WHERE company_id IN (1, 2, 3)$q$);
SELECT pg_temp.ms_check('= ANY array', $q$SELECT id FROM clicks WHERE company_id = ANY ('{4,5}'::bigint[]) AND cost_per_click_usd > 1$q$);
SELECT pg_temp.ms_check('IN with NULL', $q$SELECT id FROM ads WHERE company_id IN (2, NULL)$q$);
SELECT pg_temp.ms_check('two IN lists intersect', $q$SELECT id FROM ads WHERE company_id IN (1, 2, 3) AND company_id IN (3, 4)$q$);
SELECT pg_temp.ms_check('IN on a joined table', $q$SELECT a.id, c.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.company_id IN (6, 7)$q$);
SELECT pg_temp.ms_check('IN, two-phase count', $q$SELECT count(*), avg(cost_per_click_usd) FROM clicks WHERE company_id IN (8, 9, 10)$q$);
SELECT pg_temp.ms_check('empty array, count', $q$SELECT count(*), sum(cost_per_click_usd) FROM clicks WHERE company_id = ANY ('{}'::bigint[])$q$);
SELECT pg_temp.ms_check('IN, ORDER BY LIMIT', $q$SELECT company_id, id FROM clicks WHERE company_id IN (3, 4) ORDER BY company_id DESC, id LIMIT 3$q$, true);
SELECT pg_temp.ms_check('NOT IN: all shards', $q$SELECT count(*) FROM clicks WHERE company_id NOT IN (1, 2)$q$);

-- a parameter in a multi-shard statement (generic plan)
SET search_path = dist, public;
PREPARE ms_p(numeric) AS SELECT company_id, id FROM clicks WHERE cost_per_click_usd > $1 ORDER BY company_id, id LIMIT 4;
SET plan_cache_mode = force_generic_plan;
EXECUTE ms_p(3.5);
RESET plan_cache_mode;
SELECT company_id, id FROM local.clicks WHERE cost_per_click_usd > 3.5 ORDER BY company_id, id LIMIT 4;
RESET search_path;

--
-- Two-phase aggregates: partials per shard, combined on the coordinator
--
SELECT pg_temp.ms_check('count(*)', $q$SELECT count(*) FROM clicks$q$);
SELECT pg_temp.ms_check('all of them', $q$SELECT count(*), count(cost_per_click_usd), sum(cost_per_click_usd), avg(cost_per_click_usd), min(cost_per_click_usd), max(cost_per_click_usd) FROM clicks$q$);
SELECT pg_temp.ms_check('bigint columns', $q$SELECT sum(ad_id), avg(ad_id), min(ad_id), max(id) FROM clicks$q$);
SELECT pg_temp.ms_check('int4 expressions', $q$SELECT sum(length(site_url)), avg(length(site_url)), sum(length(site_url)::int2), avg(length(site_url)::int2) FROM clicks$q$);
SELECT pg_temp.ms_check('text and timestamps', $q$SELECT min(site_url), max(site_url), min(clicked_at), max(clicked_at) FROM clicks$q$);
SELECT pg_temp.ms_check('no rows', $q$SELECT count(*), sum(cost_per_click_usd), avg(cost_per_click_usd), min(site_url) FROM clicks WHERE id < 0$q$);
SELECT pg_temp.ms_check('NULL inputs', $q$SELECT count(monthly_budget), sum(monthly_budget), avg(monthly_budget), min(monthly_budget) FROM campaigns$q$);
SELECT pg_temp.ms_check('grouped by another column', $q$SELECT ad_id, count(*), sum(cost_per_click_usd) FROM clicks GROUP BY ad_id$q$);
SELECT pg_temp.ms_check('grouped, column not selected', $q$SELECT count(*), avg(cost_per_click_usd) FROM clicks GROUP BY site_url$q$);
SELECT pg_temp.ms_check('grouped by an expression', $q$SELECT date_trunc('day', clicked_at), count(*) FROM clicks GROUP BY 1$q$);
SELECT pg_temp.ms_check('grouped by two columns', $q$SELECT state, cost_model, count(*), max(monthly_budget) FROM campaigns GROUP BY state, cost_model$q$);
SELECT pg_temp.ms_check('bool and bit aggregates', $q$SELECT bool_and(cost_per_click_usd > 0), bool_or(cost_per_click_usd > 4), every(site_url <> ''), bit_and(ad_id::int4), bit_or(ad_id::int4), bit_xor(ad_id::int4) FROM clicks$q$);
SELECT pg_temp.ms_check('bool_or grouped', $q$SELECT ad_id, bool_or(cost_per_click_usd > 3) FROM clicks GROUP BY ad_id$q$);
SELECT pg_temp.ms_check('FILTER', $q$SELECT count(*) FILTER (WHERE cost_per_click_usd > 2), sum(cost_per_click_usd) FILTER (WHERE site_url LIKE '%a%') FROM clicks$q$);
SELECT pg_temp.ms_check('co-located join', $q$SELECT a.campaign_id, count(*), avg(c.cost_per_click_usd) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY a.campaign_id$q$);
SELECT pg_temp.ms_check('reference table join', $q$SELECT g.addrs, count(*) FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('ORDER BY LIMIT', $q$SELECT ad_id, count(*) AS n FROM clicks GROUP BY ad_id ORDER BY n DESC, ad_id LIMIT 5$q$, true);
SELECT pg_temp.ms_check('HAVING', $q$SELECT ad_id, count(*) FROM clicks GROUP BY ad_id HAVING count(*) > 3$q$);
SELECT pg_temp.ms_check('HAVING on aggregates not selected', $q$SELECT ad_id FROM clicks GROUP BY ad_id HAVING avg(cost_per_click_usd) > 2 AND max(clicked_at) > '2026-03-01'$q$);
SELECT pg_temp.ms_check('HAVING on a grouping column', $q$SELECT ad_id, sum(cost_per_click_usd) FROM clicks GROUP BY ad_id HAVING ad_id % 3 = 0$q$);
SELECT pg_temp.ms_check('HAVING without GROUP BY', $q$SELECT count(*) FROM clicks HAVING count(*) > 1000000$q$);
SELECT pg_temp.ms_check('expression over aggregates', $q$SELECT sum(cost_per_click_usd) / count(*), count(*) * 2 + 1, round(avg(cost_per_click_usd), 3) FROM clicks$q$);
SELECT pg_temp.ms_check('expression over a grouping column', $q$SELECT site_url || '!', upper(site_url), count(*) FROM clicks GROUP BY site_url$q$);
SELECT pg_temp.ms_check('ORDER BY an aggregate', $q$SELECT site_url, sum(cost_per_click_usd) AS s FROM clicks GROUP BY site_url ORDER BY s DESC NULLS LAST, site_url LIMIT 3$q$, true);

--
-- sum / avg / variance / stddev of float4 and float8: two-phase
-- (shardfdw.float_partial_aggregates): worker partials sum(x) (avg:
-- sum(x::float8) and count(x); variance, stddev: those and
-- regr_sxx(0, x::float8)), combined as PostgreSQL's parallel plans combine
-- them.  Floating-point addition is not
-- associative, so a plan adding the rows in another order may differ in the
-- last digits: each value (column v, in the order of column k) is compared
-- with the local copy's within a relative tolerance (a float4 result as
-- float8: the comparison's record variable keeps one type).
--
CREATE FUNCTION pg_temp.float_close(label text, q text, tol float8) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d float8[] := '{}';
    l float8[] := '{}';
    r record;
    i int;
    bad text := '';
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    FOR r IN EXECUTE q LOOP d := d || r.v::float8; END LOOP;
    PERFORM set_config('search_path', 'local, public', true);
    FOR r IN EXECUTE q LOOP l := l || r.v::float8; END LOOP;
    IF cardinality(d) <> cardinality(l) THEN
        bad := format('%s rows, local %s', cardinality(d), cardinality(l));
    ELSE
        FOR i IN 1 .. cardinality(d) LOOP
            IF NOT ((d[i] IS NULL AND l[i] IS NULL) OR d[i] = l[i] OR
                    abs(d[i] - l[i]) <= tol * greatest(abs(l[i]), 1)) THEN
                bad := format('row %s: %s, local %s', i, d[i], l[i]);
            END IF;
        END LOOP;
    END IF;
    RETURN label || ': ' || CASE WHEN bad = '' THEN format('close, %s rows', cardinality(d))
                                 ELSE 'DIFFERENT ' || bad END
        || ' [' || pg_temp.strategy_tasks(q) || ']';
END
$$;
SELECT pg_temp.float_close('float8 sum', $q$SELECT 1 AS k, sum(cost_per_click_usd::float8) AS v FROM clicks$q$, 1e-12);
SELECT pg_temp.float_close('float8 avg per group', $q$SELECT ad_id % 7 AS k, avg(cost_per_click_usd::float8) AS v FROM clicks GROUP BY 1 ORDER BY 1$q$, 1e-12);
SELECT pg_temp.float_close('float4 sum per group', $q$SELECT company_id % 5 AS k, sum(cost_per_click_usd::float4)::float8 AS v FROM clicks GROUP BY 1 ORDER BY 1$q$, 1e-5);
SELECT pg_temp.float_close('float4 avg with FILTER', $q$SELECT 1 AS k, avg((user_data->>'age')::float4) FILTER (WHERE id % 3 = 0) AS v FROM clicks$q$, 1e-12);
SELECT pg_temp.float_close('float8 avg and sum, HAVING', $q$SELECT ad_id AS k, avg(cost_per_click_usd::float8) + sum(cost_per_click_usd::float8) AS v FROM clicks GROUP BY ad_id HAVING sum(cost_per_click_usd::float8) > 10 ORDER BY 1$q$, 1e-12);
SELECT pg_temp.float_close('float8 avg of no rows', $q$SELECT 1 AS k, avg(cost_per_click_usd::float8) AS v FROM clicks WHERE company_id < 0$q$, 0);
SELECT pg_temp.float_close('float4 sum of no rows', $q$SELECT 1 AS k, sum(cost_per_click_usd::float4)::float8 AS v FROM clicks WHERE company_id < 0$q$, 0);
SELECT pg_temp.float_close('float8 sum with an infinity', $q$SELECT 1 AS k, sum(CASE WHEN id % 1000 = 7 THEN 'Infinity'::float8 ELSE cost_per_click_usd::float8 END) AS v FROM clicks$q$, 0);
SELECT pg_temp.float_close('float8 avg of infinities of both signs', $q$SELECT 1 AS k, avg(CASE id % 1000 WHEN 7 THEN 'Infinity'::float8 WHEN 8 THEN '-Infinity' ELSE 1 END) AS v FROM clicks$q$, 0);
-- variance / stddev: the workers' (N, Sx, Sxx) states folded with float8_combine
SELECT pg_temp.float_close('float8 variance family', $q$SELECT 1 AS k, variance(cost_per_click_usd::float8) + var_pop(cost_per_click_usd::float8) * 10 + stddev(cost_per_click_usd::float8) * 100 + stddev_pop(cost_per_click_usd::float8) * 1000 AS v FROM clicks$q$, 1e-10);
SELECT pg_temp.float_close('float4 var_samp and stddev_samp per group', $q$SELECT ad_id % 11 AS k, var_samp(cost_per_click_usd::float4) * 1000 + stddev_samp(cost_per_click_usd::float4) AS v FROM clicks GROUP BY 1 ORDER BY 1$q$, 1e-10);
SELECT pg_temp.float_close('float8 stddev of one row per group', $q$SELECT id AS k, stddev(cost_per_click_usd::float8) AS v FROM clicks WHERE id % 3000 = 1 GROUP BY id ORDER BY 1$q$, 0);
SELECT pg_temp.float_close('float8 var_pop of one row per group', $q$SELECT id AS k, var_pop(cost_per_click_usd::float8) AS v FROM clicks WHERE id % 3000 = 1 GROUP BY id ORDER BY 1$q$, 0);
SELECT pg_temp.float_close('float8 stddev of no rows', $q$SELECT 1 AS k, stddev(cost_per_click_usd::float8) AS v FROM clicks WHERE company_id < 0$q$, 0);
SELECT pg_temp.float_close('float8 variance with FILTER and HAVING', $q$SELECT ad_id % 5 AS k, variance(cost_per_click_usd::float8) FILTER (WHERE id % 2 = 0) AS v FROM clicks GROUP BY 1 HAVING stddev_pop(cost_per_click_usd::float8) > 0 ORDER BY 1$q$, 1e-10);
SELECT pg_temp.float_close('float8 variance with an infinity', $q$SELECT 1 AS k, variance(CASE WHEN id % 1000 = 7 THEN 'Infinity'::float8 ELSE cost_per_click_usd::float8 END) AS v FROM clicks$q$, 0);
-- overflow of finite values is an error either way (here on the workers)
\set VERBOSITY terse
SELECT sum(1.5e308::float8) FROM dist.clicks;
SELECT sum(1.5e308::float8) FROM local.clicks;
-- (here in the coordinator's combine, or on a worker whose shard has two)
SELECT sum(CASE WHEN id % 5000 = 7 THEN 1.7e308::float8 ELSE 0 END) FROM dist.clicks;
SELECT sum(CASE WHEN id % 5000 = 7 THEN 1.7e308::float8 ELSE 0 END) FROM local.clicks;
\set VERBOSITY default
SET shardfdw.float_partial_aggregates = off;
SELECT pg_temp.float_close('float8 avg, float_partial_aggregates off', $q$SELECT ad_id % 7 AS k, avg(cost_per_click_usd::float8) AS v FROM clicks GROUP BY 1 ORDER BY 1$q$, 1e-12);
RESET shardfdw.float_partial_aggregates;

--
-- Not for multi-shard: the standard planner (FDW path) takes them, correctly
--
SELECT pg_temp.ms_check('sum(DISTINCT numeric)', $q$SELECT sum(DISTINCT cost_per_click_usd) FROM clicks$q$);
SELECT pg_temp.ms_check('stddev of unconstrained numeric', $q$SELECT stddev(cost_per_click_usd / 3) FROM clicks$q$);
SELECT pg_temp.ms_check('string_agg', $q$SELECT string_agg(site_url, ',' ORDER BY site_url) IS NOT NULL FROM clicks$q$);
SELECT pg_temp.ms_check('join not on the key', $q$SELECT a.id, c.id FROM ads a JOIN campaigns c ON c.id = a.campaign_id$q$);
SELECT pg_temp.ms_check('DISTINCT', $q$SELECT DISTINCT site_url FROM clicks$q$);
SELECT pg_temp.ms_check('window function', $q$SELECT company_id, id, rank() OVER (PARTITION BY company_id ORDER BY id) FROM ads$q$);
SELECT pg_temp.ms_check('reference table outer join', $q$SELECT g.addrs, i.id FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip$q$);
-- outer joins with a reference table on the nullable side run shard by
-- shard (each distributed row meets the whole reference table in its
-- shard); a reference table on a preserved side does not
SELECT pg_temp.ms_check('LEFT JOIN reference table', $q$SELECT i.id, g.addrs FROM impressions i LEFT JOIN geo_ips g ON g.addrs >>= i.user_ip AND i.id % 3 = 0$q$);
SELECT pg_temp.ms_check('LEFT JOIN reference table, grouped by its column', $q$SELECT g.addrs, count(*), count(i.id) FROM impressions i LEFT JOIN geo_ips g ON g.addrs >>= i.user_ip AND i.id % 5 = 0 GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('RIGHT JOIN, reference table nullable', $q$SELECT i.id, g.addrs FROM geo_ips g RIGHT JOIN impressions i ON g.addrs >>= i.user_ip AND i.id % 4 = 1$q$);
SELECT pg_temp.ms_check('co-located join, then LEFT JOIN reference table', $q$SELECT a.id, cl.id, g.addrs FROM ads a JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id LEFT JOIN geo_ips g ON g.addrs >>= cl.user_ip$q$);
SELECT pg_temp.ms_check('reference joined inside the preserved side', $q$SELECT i.id, g.addrs, a.id FROM (impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip) LEFT JOIN ads a ON a.company_id = i.company_id AND a.id = i.ad_id AND a.id % 2 = 0$q$);
SELECT pg_temp.ms_check('LEFT JOIN reference table, then a co-located LEFT JOIN', $q$SELECT a.id, g.addrs, cl.id FROM ads a LEFT JOIN geo_ips g ON g.addrs >>= '10.0.0.1'::inet AND a.id % 7 = 0 LEFT JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id$q$);
SELECT pg_temp.ms_check('reference table preserved inside a nullable side', $q$SELECT a.id, g.addrs, i.id FROM ads a LEFT JOIN (geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip) ON i.company_id = a.company_id AND i.ad_id = a.id$q$);
SELECT pg_temp.ms_check('FULL JOIN reference table', $q$SELECT i.id, g.addrs FROM impressions i FULL JOIN geo_ips g ON host(g.addrs) = host(i.user_ip)$q$);
SELECT pg_temp.ms_check('LEFT JOIN reference table with a reference subquery', $q$SELECT i.id, g.addrs FROM impressions i LEFT JOIN geo_ips g ON g.addrs >>= i.user_ip WHERE EXISTS (SELECT 1 FROM geo_ips g2 WHERE g2.addrs = g.addrs)$q$);
-- a reference table preserved by an outer join, aggregated: each shard
-- NULL-extends the reference rows it does not match, which aggregates of
-- the nullable side's columns skip (two-phase); the groups are the
-- reference table's (every row comes from every shard)
SELECT pg_temp.ms_check('reference table preserved, aggregates of the other side', $q$SELECT g.addrs, count(i.id), count(i.*), sum(i.cost_per_impression_usd), avg(i.cost_per_impression_usd), min(i.seen_at), max(i.site_url) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('reference table preserved, not grouped', $q$SELECT count(i.id), count(DISTINCT i.site_url), bool_or(i.cost_per_impression_usd > 0.05), sum(i.cost_per_impression_usd * 2) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip AND i.id % 2 = 0$q$);
SELECT pg_temp.ms_check('reference table preserved, WHERE on it, HAVING, ORDER BY LIMIT', $q$SELECT g.addrs, count(i.id) AS n, max(i.id) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip AND i.cost_per_impression_usd > 0.03 WHERE masklen(g.addrs) < 32 GROUP BY g.addrs HAVING count(i.id) < 1000 ORDER BY n DESC, g.addrs LIMIT 4$q$, true);
SELECT pg_temp.ms_check('reference table preserved, RIGHT JOIN, join of distributed tables', $q$SELECT masklen(g.addrs), count(a.id), count(DISTINCT i.ad_id), min(a.name) FROM impressions i JOIN ads a ON a.company_id = i.company_id AND a.id = i.ad_id RIGHT JOIN geo_ips g ON g.addrs >>= i.user_ip GROUP BY 1$q$);
SELECT pg_temp.ms_check('reference table preserved, nothing matches', $q$SELECT g.addrs, count(i.id), sum(i.cost_per_impression_usd) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip AND i.id < 0 GROUP BY g.addrs$q$);
-- declined: count(*), a non-strict argument, WHERE or GROUP BY on the
-- nullable side, an aggregate of the reference table, plain rows
SELECT pg_temp.ms_check('reference table preserved, count(*)', $q$SELECT g.addrs, count(*) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('reference table preserved, coalesce', $q$SELECT g.addrs, sum(coalesce(i.cost_per_impression_usd, 1)) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('reference table preserved, WHERE on the other side', $q$SELECT g.addrs, count(i.id) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip WHERE i.id IS NULL OR i.id > 5 GROUP BY g.addrs$q$);
SELECT pg_temp.ms_check('reference table preserved, grouped by the other side', $q$SELECT i.ad_id, count(i.id) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip GROUP BY i.ad_id$q$);
SELECT pg_temp.ms_check('reference table preserved, aggregate of its column', $q$SELECT count(g.latlon[0]), count(i.id) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip$q$);
SET search_path = dist, public;
PREPARE ms_pref(numeric) AS SELECT g.addrs, count(i.id), max(i.cost_per_impression_usd) FROM geo_ips g LEFT JOIN impressions i ON g.addrs >>= i.user_ip AND i.cost_per_impression_usd > $1 GROUP BY g.addrs ORDER BY g.addrs;
SET plan_cache_mode = force_generic_plan;
EXECUTE ms_pref(0.04);
RESET plan_cache_mode;
DEALLOCATE ms_pref;
SELECT g.addrs, count(i.id), max(i.cost_per_impression_usd) FROM local.geo_ips g LEFT JOIN local.impressions i ON g.addrs >>= i.user_ip AND i.cost_per_impression_usd > 0.04 GROUP BY g.addrs ORDER BY g.addrs;
RESET search_path;
SELECT pg_temp.ms_check('distributed subquery', $q$SELECT id FROM ads WHERE campaign_id IN (SELECT id FROM campaigns WHERE state = 'paused')$q$);
SELECT pg_temp.ms_check('UNION', $q$SELECT id FROM ads UNION SELECT ad_id FROM clicks$q$);
SELECT pg_temp.ms_check('volatile', $q$SELECT id FROM ads WHERE random() < 2$q$);

--
-- DISTINCT ON other columns than the key: each shard keeps the first row
-- of its groups, the coordinator sorts them and keeps the first again
--
SELECT pg_temp.ms_check('DISTINCT ON another column', $q$SELECT DISTINCT ON (state) state, company_id, id FROM campaigns ORDER BY state, company_id DESC, id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, NULL groups', $q$SELECT DISTINCT ON (monthly_budget) monthly_budget, company_id, id FROM campaigns ORDER BY monthly_budget NULLS FIRST, company_id DESC, id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, DESC NULLS LAST', $q$SELECT DISTINCT ON (monthly_budget) monthly_budget, state, id, company_id FROM campaigns ORDER BY monthly_budget DESC NULLS LAST, state, id DESC, company_id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, LIMIT OFFSET', $q$SELECT DISTINCT ON (ad_id) ad_id, cost_per_click_usd, company_id, id FROM clicks ORDER BY ad_id DESC, cost_per_click_usd DESC NULLS LAST, company_id, id LIMIT 4 OFFSET 3$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON two columns', $q$SELECT DISTINCT ON (cost_model, state) cost_model, state, monthly_budget, company_id, id FROM campaigns ORDER BY cost_model, state DESC, monthly_budget NULLS FIRST, company_id, id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON more columns than ORDER BY', $q$SELECT DISTINCT ON (cost_model, state) cost_model, state FROM campaigns ORDER BY cost_model DESC$q$);
SELECT pg_temp.ms_check('DISTINCT ON without ORDER BY', $q$SELECT DISTINCT ON (site_url) site_url FROM clicks$q$);
SELECT pg_temp.ms_check('DISTINCT ON an expression', $q$SELECT DISTINCT ON (lower(name)) lower(name), company_id, id FROM campaigns ORDER BY lower(name) DESC, company_id, id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, co-located join', $q$SELECT DISTINCT ON (c.site_url) c.site_url, a.name, c.company_id, c.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id ORDER BY c.site_url, a.name DESC, c.company_id, c.id LIMIT 5$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON the key on the nullable side', $q$SELECT DISTINCT ON (cl.company_id) cl.company_id, a.company_id, a.id FROM ads a LEFT JOIN clicks cl ON cl.company_id = a.company_id AND cl.ad_id = a.id AND cl.cost_per_click_usd > 4 ORDER BY cl.company_id NULLS FIRST, a.company_id DESC, a.id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON over groups of the key', $q$SELECT DISTINCT ON (count(*)) count(*) AS n, company_id FROM clicks GROUP BY company_id ORDER BY count(*) DESC, company_id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, window by the key', $q$SELECT DISTINCT ON (r) rank() OVER (PARTITION BY company_id ORDER BY id) AS r, company_id, id FROM ads ORDER BY r, company_id DESC, id$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON a hidden column', $q$SELECT DISTINCT ON (state) company_id, id FROM campaigns ORDER BY state, company_id, id$q$, true);
-- declined: over two-phase groups
SELECT pg_temp.ms_check('DISTINCT ON two-phase groups', $q$SELECT DISTINCT ON (count(*)) count(*), site_url FROM clicks GROUP BY site_url ORDER BY count(*), site_url$q$, true);

-- sort keys the statement does not return: the workers return them too,
-- the coordinator sorts on them and drops them
SELECT pg_temp.ms_check('ORDER BY a hidden column', $q$SELECT id FROM ads ORDER BY company_id, id$q$, true);
SELECT pg_temp.ms_check('ORDER BY hidden columns, LIMIT', $q$SELECT id, site_url FROM clicks ORDER BY clicked_at DESC, company_id, id LIMIT 7$q$, true);
SELECT pg_temp.ms_check('ORDER BY hidden expressions, NULLs', $q$SELECT company_id, id FROM campaigns ORDER BY lower(name), monthly_budget DESC NULLS FIRST, company_id, id LIMIT 10 OFFSET 2$q$, true);
SELECT pg_temp.ms_check('ORDER BY a hidden column, co-located join', $q$SELECT a.name, c.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id ORDER BY c.cost_per_click_usd DESC NULLS LAST, c.company_id, c.id LIMIT 5$q$, true);
SELECT pg_temp.ms_check('latest row per group, DISTINCT ON another column', $q$SELECT DISTINCT ON (ad_id) ad_id, id, company_id FROM clicks ORDER BY ad_id, clicked_at DESC, company_id, id$q$, true);
SELECT pg_temp.ms_check('latest row per key, DISTINCT ON the key', $q$SELECT DISTINCT ON (company_id) company_id, site_url FROM clicks ORDER BY company_id, clicked_at DESC, id LIMIT 5$q$, true);
SELECT pg_temp.ms_check('ORDER BY an aggregate grouped by the key, hidden', $q$SELECT company_id FROM clicks GROUP BY company_id ORDER BY count(*) DESC, company_id LIMIT 3$q$, true);
-- declined: a hidden aggregate of a two-phase aggregate
SELECT pg_temp.ms_check('ORDER BY a hidden two-phase aggregate', $q$SELECT site_url FROM clicks GROUP BY site_url ORDER BY count(*) DESC, site_url LIMIT 3$q$, true);
SET search_path = dist, public;
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF, VERBOSE)
SELECT id FROM clicks ORDER BY clicked_at DESC, company_id, id LIMIT 2$q$) l WHERE l ~ '^\s*(->\s*)?(Limit|Sort|Custom Scan)|Output|Strategy';
-- a cursor, forward and backward
BEGIN;
DECLARE ms_cur SCROLL CURSOR FOR SELECT id, company_id FROM clicks ORDER BY clicked_at, company_id, id;
FETCH 3 FROM ms_cur;
FETCH BACKWARD 2 FROM ms_cur;
COMMIT;
SELECT id, company_id FROM local.clicks ORDER BY clicked_at, company_id, id LIMIT 3;
PREPARE ms_hidden(numeric) AS SELECT id FROM clicks WHERE cost_per_click_usd > $1 ORDER BY clicked_at DESC, company_id, id LIMIT 3;
SET plan_cache_mode = force_generic_plan;
EXECUTE ms_hidden(1.5);
RESET plan_cache_mode;
DEALLOCATE ms_hidden;
SELECT id FROM local.clicks WHERE cost_per_click_usd > 1.5 ORDER BY clicked_at DESC, company_id, id LIMIT 3;
RESET search_path;

-- LIMIT ALL / NULL and OFFSET NULL: no limit, no offset
SELECT pg_temp.ms_check('LIMIT ALL OFFSET', $q$SELECT company_id, id FROM clicks ORDER BY company_id DESC, id LIMIT ALL OFFSET 5$q$, true);
SELECT pg_temp.ms_check('LIMIT NULL OFFSET NULL', $q$SELECT company_id, id FROM ads ORDER BY id, company_id LIMIT NULL OFFSET NULL$q$, true);
SELECT pg_temp.ms_check('LIMIT OFFSET NULL', $q$SELECT site_url, count(*) FROM clicks GROUP BY site_url ORDER BY 2 DESC, 1 LIMIT 3 OFFSET NULL$q$, true);
SELECT pg_temp.ms_check('DISTINCT ON, LIMIT ALL', $q$SELECT DISTINCT ON (state) state, id, company_id FROM campaigns ORDER BY state DESC, id, company_id LIMIT ALL$q$, true);

-- a generic plan
SET search_path = dist, public;
PREPARE ms_don(numeric) AS SELECT DISTINCT ON (ad_id) ad_id, cost_per_click_usd, company_id, id FROM clicks WHERE cost_per_click_usd > $1 ORDER BY ad_id, cost_per_click_usd, company_id, id LIMIT 5;
SET plan_cache_mode = force_generic_plan;
EXECUTE ms_don(2.5);
RESET plan_cache_mode;
DEALLOCATE ms_don;
SELECT DISTINCT ON (ad_id) ad_id, cost_per_click_usd, company_id, id FROM local.clicks WHERE cost_per_click_usd > 2.5 ORDER BY ad_id, cost_per_click_usd, company_id, id LIMIT 5;
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF)
SELECT DISTINCT ON (state) state, id FROM campaigns ORDER BY state, id LIMIT 3$q$) l WHERE l ~ '^\s*(->\s*)?(Limit|Unique|Sort|Custom Scan)|Strategy';
RESET search_path;

--
-- count(DISTINCT x): the workers group by x too, the coordinator counts
--
SELECT pg_temp.ms_check('count(DISTINCT)', $q$SELECT count(DISTINCT ad_id) FROM clicks$q$);
SELECT pg_temp.ms_check('count(DISTINCT) text', $q$SELECT count(DISTINCT site_url), count(*) FROM clicks$q$);
SELECT pg_temp.ms_check('count(DISTINCT) grouped', $q$SELECT site_url, count(DISTINCT ad_id), count(*), sum(cost_per_click_usd), avg(cost_per_click_usd) FROM clicks GROUP BY site_url$q$);
SELECT pg_temp.ms_check('count(DISTINCT) in HAVING', $q$SELECT ad_id, count(*) FROM clicks GROUP BY ad_id HAVING count(DISTINCT site_url) > 1$q$);
SELECT pg_temp.ms_check('count(DISTINCT) twice, NULLs', $q$SELECT cost_model, count(DISTINCT monthly_budget), count(DISTINCT monthly_budget) + 1, count(monthly_budget) FROM campaigns GROUP BY cost_model$q$);
SELECT pg_temp.ms_check('count(DISTINCT expression)', $q$SELECT count(DISTINCT date_trunc('day', clicked_at)), min(clicked_at) FROM clicks$q$);
SELECT pg_temp.ms_check('count(DISTINCT) ORDER BY LIMIT', $q$SELECT ad_id, count(DISTINCT site_url) AS n FROM clicks GROUP BY ad_id ORDER BY n DESC, ad_id LIMIT 5$q$, true);
SELECT pg_temp.ms_check('count(DISTINCT) co-located join', $q$SELECT a.campaign_id, count(DISTINCT c.site_url) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY a.campaign_id$q$);
SELECT pg_temp.ms_check('count(DISTINCT) of the key', $q$SELECT count(DISTINCT company_id) FROM clicks WHERE cost_per_click_usd > 2$q$);
SELECT pg_temp.ms_check('count(DISTINCT) by the key: whole on workers', $q$SELECT company_id, count(DISTINCT ad_id) FROM clicks GROUP BY company_id$q$);
SELECT pg_temp.ms_check('count(DISTINCT) no rows', $q$SELECT count(DISTINCT ad_id) FROM clicks WHERE id < 0$q$);
SELECT pg_temp.ms_check('count(DISTINCT) of two columns', $q$SELECT count(DISTINCT ad_id), count(DISTINCT site_url), count(*) FROM clicks$q$);
SELECT pg_temp.ms_check('count(DISTINCT) of three, grouped', $q$SELECT state, count(DISTINCT cost_model), count(DISTINCT monthly_budget), count(DISTINCT name), max(id) FROM campaigns GROUP BY state$q$);
SELECT pg_temp.ms_check('count(DISTINCT) with FILTER', $q$SELECT count(DISTINCT ad_id) FILTER (WHERE cost_per_click_usd > 1), count(DISTINCT ad_id) FROM clicks$q$);
SELECT pg_temp.ms_check('count(DISTINCT) with FILTER, NULLs, grouped', $q$SELECT cost_model, count(DISTINCT state) FILTER (WHERE monthly_budget > 300), count(DISTINCT state) FILTER (WHERE monthly_budget IS NULL) FROM campaigns GROUP BY cost_model$q$);
SELECT pg_temp.ms_check('sum, avg, min, max (DISTINCT) of integers', $q$SELECT sum(DISTINCT ad_id), avg(DISTINCT ad_id), min(DISTINCT ad_id), max(DISTINCT id), count(DISTINCT ad_id), sum(ad_id) FROM clicks$q$);
-- array_agg(DISTINCT x): the distinct values in x's order (its collation),
-- never merged streams (their order is C's)
SELECT pg_temp.ms_check('array_agg(DISTINCT) of bigint', $q$SELECT array_agg(DISTINCT ad_id) FROM clicks$q$);
SELECT pg_temp.ms_check('array_agg(DISTINCT) with NULL, FILTER, grouped', $q$SELECT company_id, array_agg(DISTINCT nullif(ad_id % 5, 0)) FILTER (WHERE cost_per_click_usd > 1), count(*) FROM clicks GROUP BY company_id$q$);
SELECT pg_temp.ms_check('array_agg(DISTINCT) of text, ICU order', $q$SELECT array_agg(DISTINCT (CASE WHEN id % 2 = 0 THEN upper(site_url) ELSE site_url END) COLLATE "en-x-icu") FROM clicks$q$);
SELECT pg_temp.ms_check('array_agg(DISTINCT) of text, C order', $q$SELECT array_agg(DISTINCT (CASE WHEN id % 2 = 0 THEN upper(site_url) ELSE site_url END) COLLATE "C") FROM clicks WHERE ad_id < 30$q$);
SELECT pg_temp.ms_check('array_agg(DISTINCT) grouped, not by the key', $q$SELECT ad_id % 3, array_agg(DISTINCT company_id), array_agg(DISTINCT site_url) FROM clicks GROUP BY 1$q$);
SELECT pg_temp.ms_check('array_agg(DISTINCT) of numeric: FDW', $q$SELECT array_agg(DISTINCT cost_per_click_usd) FROM clicks WHERE ad_id < 5$q$);
SELECT pg_temp.ms_check('sum(DISTINCT) grouped, FILTER', $q$SELECT site_url, sum(DISTINCT ad_id) FILTER (WHERE cost_per_click_usd > 2), avg(DISTINCT length(site_url)), count(*) FROM clicks GROUP BY site_url$q$);
SELECT pg_temp.ms_check('count(DISTINCT) FILTER in HAVING', $q$SELECT ad_id FROM clicks GROUP BY ad_id HAVING count(DISTINCT site_url) FILTER (WHERE cost_per_click_usd < 2) > 1$q$);

--
-- variance / stddev of integers: count, sum, sum of squares in numeric
--
CREATE TABLE dist.ms_vals (k bigint, g int, i2 smallint, i4 int, i8 bigint);
SELECT create_distributed_table('dist.ms_vals', 'k');
CREATE TABLE local.ms_vals (k bigint, g int, i2 smallint, i4 int, i8 bigint);
INSERT INTO dist.ms_vals SELECT i, i % 37, (i * 7919 % 2000 - 1000)::int2, i * 104729 % 1000003, (i::bigint * 2147483647) % 99999999977
  FROM generate_series(1, 3000) i;
INSERT INTO dist.ms_vals VALUES (4000, 37, NULL, NULL, NULL), (4001, 38, 5, 5, 5), (4002, 39, 1, 1, 1), (4003, 39, 1, 1, 1);
INSERT INTO local.ms_vals SELECT * FROM dist.ms_vals;
SELECT pg_temp.ms_check('variance family', $q$SELECT variance(i2), var_samp(i4), var_pop(i8), variance(i8), var_pop(i2) FROM ms_vals$q$);
SELECT pg_temp.ms_check('stddev family', $q$SELECT stddev(i2), stddev_samp(i4), stddev_pop(i8), stddev(i8), stddev_pop(i2) FROM ms_vals$q$);
SELECT pg_temp.ms_check('variance and stddev per group', $q$SELECT g, variance(i4), stddev(i4), var_pop(i8), stddev_pop(i8), stddev_samp(i2), var_samp(i2), count(*) FROM ms_vals GROUP BY g$q$);
SELECT pg_temp.ms_check('stddev, HAVING', $q$SELECT g, stddev(i8) FROM ms_vals GROUP BY g HAVING stddev(i8) > 1000 AND variance(i2) IS NOT NULL$q$);
SELECT pg_temp.ms_check('stddev of an expression', $q$SELECT g % 5, stddev(i4 % 1000), variance(i2 * 3) FROM ms_vals GROUP BY g % 5$q$);

--
-- Whole-row references of a table (count(v.*), v IS NULL, v = w) ship as
-- "v.*"; not as an output column (the coordinator's row type)
--
INSERT INTO dist.ms_vals VALUES (NULL, NULL, NULL, NULL, NULL), (4005, NULL, NULL, NULL, NULL);
INSERT INTO local.ms_vals VALUES (NULL, NULL, NULL, NULL, NULL), (4005, NULL, NULL, NULL, NULL);
SELECT pg_temp.ms_check('count(v.*): a row of NULLs counts', $q$SELECT count(v.*), count(*), count(v.g), count(v.k) FROM ms_vals v$q$);
SELECT pg_temp.ms_check('v IS NULL, v IS NOT NULL', $q$SELECT count(*) FILTER (WHERE v IS NULL), count(*) FILTER (WHERE v IS NOT NULL), count(*) FILTER (WHERE NOT v IS NULL) FROM ms_vals v$q$);
SELECT pg_temp.ms_check('count(w.*) of the nullable side, by the key', $q$SELECT v.k, count(w.*), count(w.i2), count(*) FROM ms_vals v LEFT JOIN ms_vals w ON w.k = v.k AND w.g > 30 GROUP BY v.k$q$);
SELECT pg_temp.ms_check('count(w.*) of the nullable side, two-phase', $q$SELECT v.g % 3, count(w.*), count(w), count(w.i2) FROM ms_vals v LEFT JOIN ms_vals w ON w.k = v.k AND w.g > 30 GROUP BY 1$q$);
SELECT pg_temp.ms_check('w IS NULL of the nullable side', $q$SELECT v.k, w.i2, w IS NULL, w IS NOT NULL FROM ms_vals v LEFT JOIN ms_vals w ON w.k = v.k AND w.g > 35$q$);
SELECT pg_temp.ms_check('whole rows, FULL JOIN', $q$SELECT v.k, w.k, v IS NULL, w IS NULL FROM ms_vals v FULL JOIN ms_vals w ON w.k = v.k AND w.g > 35 AND v.g < 2$q$);
SELECT pg_temp.ms_check('anti-join on a whole row', $q$SELECT a.company_id, a.id FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c IS NULL$q$);
SELECT pg_temp.ms_check('rows compared (NULL fields)', $q$SELECT v.k, v = w, v IS DISTINCT FROM w FROM ms_vals v JOIN ms_vals w ON w.k = v.k WHERE v.g IS NULL OR v.g > 36$q$);
SELECT pg_temp.ms_check('count(v.*) in HAVING, FILTER', $q$SELECT v.g, count(v.*) FILTER (WHERE v.i2 IS NULL) FROM ms_vals v GROUP BY v.g HAVING count(v.*) > 50$q$);
SELECT pg_temp.ms_check('count(c.*) OVER by the key', $q$SELECT a.company_id, a.id, count(c.*) OVER (PARTITION BY a.company_id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id$q$);
SELECT pg_temp.ms_check('count(c.*), one shard', $q$SELECT count(c.*), count(*) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id AND c.cost_per_click_usd > 3 WHERE a.company_id = 3$q$);
SELECT pg_temp.ms_check('reference table whole row', $q$SELECT count(g.*), count(*) FILTER (WHERE g IS NOT NULL) FROM impressions i LEFT JOIN geo_ips g ON g.addrs >>= i.user_ip AND i.id % 3 = 0$q$);
-- declined: a whole row as an output column, in ROW(), counted DISTINCT, grouped
SELECT pg_temp.ms_check('whole row output', $q$SELECT v FROM ms_vals v WHERE v.g IS NULL OR v.g = 38$q$);
SELECT pg_temp.ms_check('whole row in ROW()', $q$SELECT ROW(v, 1) IS NULL FROM ms_vals v$q$);
SELECT pg_temp.ms_check('count(DISTINCT v)', $q$SELECT count(DISTINCT v) FROM ms_vals v$q$);
SELECT pg_temp.ms_check('GROUP BY a whole row', $q$SELECT count(*) FROM ms_vals v GROUP BY v$q$);
-- DML: the row in WHERE ships, RETURNING the row does not
SELECT pg_temp.check_dml('delete where v IS NOT NULL', $q$DELETE FROM ms_vals v WHERE v IS NOT NULL AND v.g = 39 RETURNING v.k, v.g$q$, 'ms_vals') || ' [' || pg_temp.strategy_tasks($q$DELETE FROM ms_vals v WHERE v IS NOT NULL AND v.g = 39$q$) || ']';
SELECT pg_temp.strategy_tasks($q$UPDATE ms_vals v SET g = g WHERE v.k = 1 RETURNING v$q$);
-- a generic plan
SET search_path = dist, public;
PREPARE ms_whole(int) AS SELECT v.g, count(w.*) FROM ms_vals v LEFT JOIN ms_vals w ON w.k = v.k AND w.i2 > $1 GROUP BY v.g ORDER BY v.g LIMIT 6;
SET plan_cache_mode = force_generic_plan;
EXECUTE ms_whole(100);
RESET plan_cache_mode;
DEALLOCATE ms_whole;
SELECT v.g, count(w.*) FROM local.ms_vals v LEFT JOIN local.ms_vals w ON w.k = v.k AND w.i2 > 100 GROUP BY v.g ORDER BY v.g LIMIT 6;
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF, VERBOSE)
SELECT count(w.*), count(*) FILTER (WHERE w IS NULL) FROM ms_vals v LEFT JOIN ms_vals w ON w.k = v.k AND w.g > 30$q$) l WHERE l ~ 'Strategy|count';
RESET search_path;
SELECT pg_temp.ms_check('stddev on clicks', $q$SELECT ad_id, stddev(length(site_url)), variance(id) FROM clicks GROUP BY ad_id$q$);
CREATE TABLE dist.ms_nums (k bigint, g int, n numeric(12,3), u numeric);
SELECT create_distributed_table('dist.ms_nums', 'k');
CREATE TABLE local.ms_nums (k bigint, g int, n numeric(12,3), u numeric);
INSERT INTO dist.ms_nums SELECT i, i % 23, (i * 7919 % 20000 - 10000) / 1000.0, i / 7.0 FROM generate_series(1, 2000) i;
INSERT INTO dist.ms_nums VALUES (3001, 0, 'NaN', 'NaN'), (3002, 1, 'NaN', 1), (3003, 30, 'NaN', 1), (3004, 31, 'NaN', 1), (3005, 31, 2.5, 1),
  (3006, 32, 1.5, 1), (3007, 33, NULL, NULL), (3008, 34, 1.25, 1), (3009, 34, 1.25, 1), (3010, 35, 0.001, 1), (3011, 35, 0.002, 1);
INSERT INTO local.ms_nums SELECT * FROM dist.ms_nums;
SELECT pg_temp.ms_check('numeric variance family', $q$SELECT variance(n), var_samp(n), var_pop(n), stddev(n), stddev_samp(n), stddev_pop(n) FROM ms_nums WHERE n <> 'NaN'$q$);
SELECT pg_temp.ms_check('numeric variance per group, NaNs', $q$SELECT g, variance(n), var_pop(n), stddev(n), stddev_pop(n), count(n) FROM ms_nums GROUP BY g$q$);
SELECT pg_temp.ms_check('numeric variance with FILTER', $q$SELECT g, variance(n) FILTER (WHERE k % 2 = 0), stddev_pop(n) FILTER (WHERE n > 0) FROM ms_nums GROUP BY g$q$);
SELECT pg_temp.ms_check('numeric stddev of a NaN', $q$SELECT stddev(n), stddev_pop(n), var_samp(n) FROM ms_nums WHERE k IN (3001, 3003)$q$);
SELECT pg_temp.ms_check('numeric stddev of one row', $q$SELECT stddev(n), stddev_pop(n), var_samp(n), var_pop(n) FROM ms_nums WHERE k = 3006 OR k = 3007$q$);
SELECT pg_temp.ms_check('numeric stddev unconstrained: FDW', $q$SELECT stddev(u) FROM ms_nums$q$);
SELECT pg_temp.ms_check('numeric stddev of an expression: FDW', $q$SELECT stddev(n * 2) FROM ms_nums$q$);
SELECT pg_temp.ms_check('stddev no rows', $q$SELECT stddev(i4), variance(i4), stddev_pop(i4), var_pop(i4) FROM ms_vals WHERE k < 0$q$);
SELECT pg_temp.ms_check('sum(DISTINCT) of int2 and int4', $q$SELECT g, sum(DISTINCT i2), avg(DISTINCT i4), sum(DISTINCT i8) FROM ms_vals GROUP BY g$q$);

--
-- = ANY ($1): the parameter's values prune the shards when the scan starts
--
CREATE FUNCTION pg_temp.ms_exec_rows(q text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    res text[] := '{}';
BEGIN
    FOR r IN EXECUTE q LOOP
        res := res || r::text;
    END LOOP;
    RETURN res;
END
$$;
CREATE FUNCTION pg_temp.ms_prepared(label text, decl text, q text, args text, generic boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d text[];
    l text[];
    s text;
BEGIN
    PERFORM set_config('plan_cache_mode', CASE WHEN generic THEN 'force_generic_plan' ELSE 'force_custom_plan' END, true);
    PERFORM set_config('search_path', 'dist, public', true);
    EXECUTE format('PREPARE ms_pd(%s) AS %s', decl, q);
    PERFORM set_config('search_path', 'local, public', true);
    EXECUTE format('PREPARE ms_pl(%s) AS %s', decl, q);
    -- (a prepared statement is analysed again under another search_path)
    PERFORM set_config('search_path', 'local, public', true);
    l := pg_temp.ms_exec_rows(format('EXECUTE ms_pl(%s)', args));
    PERFORM set_config('search_path', 'dist, public', true);
    d := pg_temp.ms_exec_rows(format('EXECUTE ms_pd(%s)', args));
    s := pg_temp.strategy_tasks(format('EXECUTE ms_pd(%s)', args));
    DEALLOCATE ms_pd;
    DEALLOCATE ms_pl;
    PERFORM set_config('plan_cache_mode', 'auto', true);
    RETURN public.dt_compare(label, d, l, false) || ' [' || s || ']';
END
$$;
SELECT pg_temp.ms_prepared('= ANY ($1) generic', 'bigint[]', $q$SELECT company_id, count(*) FROM clicks WHERE company_id = ANY ($1) GROUP BY company_id$q$, $a$'{1,2,3}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY ($1) custom', 'bigint[]', $q$SELECT company_id, count(*) FROM clicks WHERE company_id = ANY ($1) GROUP BY company_id$q$, $a$'{1,2,3}'$a$, false);
SELECT pg_temp.ms_prepared('= ANY ($1) two-phase', 'bigint[]', $q$SELECT count(*), sum(cost_per_click_usd) FROM clicks WHERE company_id = ANY ($1)$q$, $a$'{4}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY (NULL)', 'bigint[]', $q$SELECT count(*), sum(cost_per_click_usd) FROM clicks WHERE company_id = ANY ($1)$q$, $a$NULL$a$, true);
SELECT pg_temp.ms_prepared('= ANY (empty)', 'bigint[]', $q$SELECT count(*), max(id) FROM clicks WHERE company_id = ANY ($1)$q$, $a$'{}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY (NULL element)', 'bigint[]', $q$SELECT id FROM ads WHERE company_id = ANY ($1)$q$, $a$'{NULL,5}'$a$, true);
SELECT pg_temp.ms_prepared('IN ($1, $2)', 'bigint, bigint', $q$SELECT id FROM ads WHERE company_id IN ($1, $2) ORDER BY id LIMIT 3$q$, $a$1, 2$a$, true);
SELECT pg_temp.ms_prepared('= ANY ($1) and IN intersect', 'bigint[]', $q$SELECT id FROM ads WHERE company_id = ANY ($1) AND company_id IN (2, 3, 9)$q$, $a$'{1,2,3}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY ($1) join', 'bigint[]', $q$SELECT a.id, c.id FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE a.company_id = ANY ($1)$q$, $a$'{6,7}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY ($1) int4 array', 'int[]', $q$SELECT id FROM ads WHERE company_id = ANY ($1)$q$, $a$'{3,8}'$a$, true);
SELECT pg_temp.ms_prepared('= ANY ($1) count(DISTINCT)', 'bigint[]', $q$SELECT count(DISTINCT ad_id) FROM clicks WHERE company_id = ANY ($1)$q$, $a$'{1,5,9}'$a$, true);
SELECT pg_temp.check_dml('update = ANY (array)', $q$UPDATE campaigns SET monthly_budget = coalesce(monthly_budget, 0) + 1 WHERE company_id = ANY ('{3,4}'::bigint[]) RETURNING company_id, id, monthly_budget$q$, 'campaigns');
SET search_path = dist, public;
PREPARE ms_upd(bigint[]) AS UPDATE campaigns SET monthly_budget = 7 WHERE company_id = ANY ($1);
SET plan_cache_mode = force_generic_plan;
CREATE FUNCTION pg_temp.ms_explain(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    FOR line IN EXECUTE q LOOP
        RETURN NEXT line;
    END LOOP;
END
$$;
SELECT l FROM pg_temp.ms_explain('EXPLAIN (COSTS OFF) EXECUTE ms_upd(''{5}'')') l WHERE l ~ 'Strategy|Task Count|Pruned';
RESET plan_cache_mode;
DEALLOCATE ms_upd;
RESET search_path;

--
-- INSERT ... SELECT between co-located tables: one statement per shard
--
CREATE TABLE dist.ms_summary (company_id bigint, ad_id bigint, n bigint, total numeric, last timestamp);
SELECT create_distributed_table('dist.ms_summary', 'company_id', colocate_with => 'dist.clicks');
CREATE TABLE local.ms_summary (company_id bigint, ad_id bigint, n bigint, total numeric, last timestamp);
CREATE FUNCTION pg_temp.ms_dml(label text, q text, tbl text) RETURNS text
LANGUAGE sql AS $$
    SELECT pg_temp.check_dml(label, q, tbl) || ' [' || s || ']'
      FROM pg_temp.strategy_tasks(q) s  -- the plan before the statement runs
$$;
SELECT pg_temp.ms_dml('insert select grouped by the key', $q$INSERT INTO ms_summary SELECT company_id, ad_id, count(*), sum(cost_per_click_usd), max(clicked_at) FROM clicks GROUP BY company_id, ad_id RETURNING company_id, ad_id, n$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select rows, column list', $q$INSERT INTO ms_summary (ad_id, company_id, last) SELECT id, company_id, clicked_at FROM clicks WHERE cost_per_click_usd > 4 RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select co-located join', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT a.company_id, a.id, count(*) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id GROUP BY a.company_id, a.id RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select from itself', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT company_id, ad_id, n * 2 FROM ms_summary WHERE n > 3 RETURNING *$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select with reference table', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT i.company_id, i.id FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select pinned to one shard', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT company_id, id, 1::bigint FROM ads WHERE company_id = 3 RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_prepared('insert select with a parameter', 'numeric', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT company_id, ad_id, count(*) FROM clicks WHERE cost_per_click_usd > $1 GROUP BY company_id, ad_id RETURNING company_id, ad_id, n$q$, '3.5', true);
SELECT pg_temp.diff_check('insert select with a parameter: table', $q$SELECT * FROM ms_summary$q$);
-- not per shard: the FDW path inserts them, correctly
SELECT pg_temp.ms_dml('insert select: key from another column', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT ad_id, company_id FROM clicks WHERE ad_id IS NOT NULL RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: not grouped by the key', $q$INSERT INTO ms_summary (company_id, n) SELECT min(company_id), count(*) FROM clicks GROUP BY ad_id RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: LIMIT', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT company_id, id FROM clicks ORDER BY id LIMIT 5 RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: outer join', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT c.company_id, a.id FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.company_id IS NOT NULL RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: not co-located join', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT a.company_id, c.id FROM ads a JOIN campaigns c ON c.id = a.campaign_id RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: columns in another order', $q$INSERT INTO ms_summary (ad_id, company_id, last) SELECT id, company_id, clicked_at FROM clicks WHERE cost_per_click_usd > 4.5 RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: a value cast', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT company_id, id, 1 FROM ads WHERE company_id = 3 RETURNING company_id, ad_id$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: values cast', $q$INSERT INTO ms_summary (company_id, ad_id, n, total) SELECT company_id, id, campaign_id::int, (id * 1.25)::float8 FROM ads WHERE id < 60 RETURNING *$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: timestamptz into timestamp', $q$INSERT INTO ms_summary (company_id, ad_id, last) SELECT company_id, id, clicked_at::timestamptz + interval '1 hour' FROM clicks WHERE id % 97 = 0 RETURNING *$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: cast of an aggregate', $q$INSERT INTO ms_summary (company_id, ad_id, n, total) SELECT company_id, ad_id, count(*)::int, avg(cost_per_click_usd)::float4 FROM clicks GROUP BY company_id, ad_id RETURNING company_id, ad_id, n$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: reordered, grouped, ORDER BY a hidden column', $q$INSERT INTO ms_summary (n, company_id, ad_id) SELECT count(*), company_id, ad_id FROM clicks GROUP BY company_id, ad_id ORDER BY max(clicked_at) RETURNING company_id, ad_id, n$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: reordered and cast', $q$INSERT INTO ms_summary (total, last, company_id, ad_id) SELECT 1, '2024-01-02 03:04:05', company_id, id FROM ads WHERE id % 7 = 0 RETURNING *$q$, 'ms_summary');
SELECT pg_temp.ms_dml('insert select: a column twice', $q$INSERT INTO ms_summary (company_id, ad_id, n) SELECT company_id, company_id, company_id FROM ads WHERE id < 5 RETURNING *$q$, 'ms_summary');
-- columns filled by defaults: constants and now() (computed once, on the
-- coordinator) go into the SELECT; a volatile default keeps the FDW path
CREATE TABLE dist.ms_defaults (company_id bigint, ad_id bigint, note text DEFAULT 'n', created timestamptz DEFAULT now(), k bigint DEFAULT 7, u uuid DEFAULT gen_random_uuid());
SELECT create_distributed_table('dist.ms_defaults', 'company_id', colocate_with => 'dist.clicks');
CREATE TABLE local.ms_defaults (company_id bigint, ad_id bigint, note text DEFAULT 'n', created timestamptz DEFAULT now(), k bigint DEFAULT 7, u uuid DEFAULT gen_random_uuid());
SELECT pg_temp.ms_dml('insert select: defaults', $q$INSERT INTO ms_defaults (company_id, ad_id, u) SELECT company_id, id, NULL FROM ads WHERE id < 30 RETURNING company_id, ad_id, note, created = now(), k$q$, '(SELECT company_id, ad_id, note, created = now(), k, u FROM ms_defaults) t');
SELECT pg_temp.ms_dml('insert select: defaults, reordered, literals', $q$INSERT INTO ms_defaults (note, ad_id, u, company_id) SELECT 'x', id, NULL, company_id FROM ads WHERE id % 5 = 0 RETURNING *, created = now()$q$, '(SELECT company_id, ad_id, note, created = now(), k, u FROM ms_defaults) t');
SELECT pg_temp.ms_dml('insert select: volatile default', $q$INSERT INTO ms_defaults (company_id, ad_id) SELECT company_id, id FROM ads WHERE id < 3 RETURNING company_id, ad_id, u IS NOT NULL$q$, '(SELECT company_id, ad_id, note, created = now(), k, u IS NULL FROM ms_defaults) t');
-- a prepared statement: now() of each execution's own transaction
PREPARE ins_defaults AS INSERT INTO dist.ms_defaults (company_id, ad_id, u) SELECT company_id, id, NULL FROM dist.ads WHERE id = 1 RETURNING created = now() AS created_now;
EXECUTE ins_defaults;
SELECT pg_sleep(0.01);
EXECUTE ins_defaults;
SELECT count(*), count(DISTINCT created) FROM dist.ms_defaults WHERE ad_id = 1;
DEALLOCATE ins_defaults;
SELECT pg_temp.ms_dml('insert select: type cast of the key', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT company_id::int, id FROM ads WHERE id < 10 RETURNING company_id, ad_id$q$, 'ms_summary');
-- every row is on the shard its key hashes to: the router (which reads
-- only that shard) finds as many rows per key as the local copy has
CREATE FUNCTION pg_temp.ms_misplaced() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    n bigint;
    m bigint;
    misses bigint := 0;
BEGIN
    FOR k, n IN SELECT company_id, count(*) FROM local.ms_summary GROUP BY company_id LOOP
        EXECUTE 'SELECT count(*) FROM dist.ms_summary WHERE company_id = $1' INTO m USING k;
        IF m <> n THEN misses := misses + 1; END IF;
    END LOOP;
    RETURN misses;
END
$$;
SELECT pg_temp.ms_misplaced() AS misplaced_keys, (SELECT count(DISTINCT company_id) FROM local.ms_summary) AS keys;
SET shardfdw.enable_multi_shard_dml = off;
SELECT pg_temp.ms_dml('insert select: switched off', $q$INSERT INTO ms_summary (company_id, ad_id) SELECT company_id, id FROM ads WHERE id < 10 RETURNING company_id, ad_id$q$, 'ms_summary');
RESET shardfdw.enable_multi_shard_dml;

-- the switch
SET shardfdw.enable_multi_shard = off;
SELECT pg_temp.ms_check('multi-shard off', $q$SELECT * FROM companies$q$);
RESET shardfdw.enable_multi_shard;

--
-- EXPLAIN: strategy, task count, one task's SQL; Sort and Limit above
--
\pset tuples_only off
\pset format aligned
SET search_path = dist, public;
SELECT l FROM pg_temp.explain_lines($q$EXPLAIN (COSTS OFF)
SELECT id FROM ads WHERE company_id IN (1, 2, 3)$q$) l WHERE l ~ 'Strategy|Task|Pruned';
SELECT pg_temp.explain_lines($q$EXPLAIN (COSTS OFF, VERBOSE)
SELECT ad_id, count(*) AS n, avg(cost_per_click_usd) FROM clicks GROUP BY ad_id ORDER BY n DESC, ad_id LIMIT 5$q$);
-- EXPLAIN ANALYZE: one task's worker plan, with its actual rows
SELECT count(*) FILTER (WHERE l ~ '^\s*Worker Plan:$') AS worker_plan,
       count(*) FILTER (WHERE l ~ 'Scan on clicks_N clicks \(actual rows=\d+ loops=1\)') AS worker_scan,
       count(*) FILTER (WHERE l ~ 'Custom Scan \(shardfdw\) \(actual rows=224 loops=1\)') AS scan_rows
  FROM pg_temp.explain_lines($q$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT ad_id, count(*) FROM clicks GROUP BY ad_id ORDER BY 2 DESC, 1 LIMIT 2$q$) l;
SELECT count(*) FILTER (WHERE l ~ '^\s*Worker Plan:$') AS worker_plan,
       count(*) FILTER (WHERE l ~ '^\s+Update on ads_N ads \(actual rows=0 loops=1\)') AS worker_update
  FROM pg_temp.explain_lines($q$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
UPDATE ads SET name = name WHERE company_id IN (1, 2)$q$) l;
SELECT pg_temp.diff_check('ads unchanged by EXPLAIN ANALYZE', $q$SELECT * FROM ads$q$);
SET shardfdw.enable_two_phase_agg = off;
SELECT pg_temp.strategy_tasks($q$SELECT count(*) FROM clicks$q$);
RESET shardfdw.enable_two_phase_agg;
SELECT pg_temp.explain_lines($q$EXPLAIN (COSTS OFF, VERBOSE)
SELECT a.company_id, a.id, count(*) AS n FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id
 GROUP BY a.company_id, a.id ORDER BY n DESC, a.company_id, a.id LIMIT 5$q$);
RESET search_path;

--
-- Multi-shard UPDATE / DELETE: one statement per shard on the workers
--
\pset tuples_only on
\pset format unaligned
SELECT pg_temp.check_dml('update every shard', $q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE name LIKE '%1%' RETURNING company_id, id, clicks_count$q$, 'ads') || ' [' || pg_temp.strategy_tasks($q$UPDATE ads SET clicks_count = clicks_count + 1 WHERE name LIKE '%1%'$q$) || ']';
SELECT pg_temp.check_dml('update with a co-located join', $q$UPDATE ads a SET impressions_count = a.impressions_count + 2 FROM campaigns c WHERE c.company_id = a.company_id AND c.id = a.campaign_id AND c.state = 'paused' RETURNING a.id, a.impressions_count$q$, 'ads') || ' [' || pg_temp.strategy_tasks($q$UPDATE ads a SET impressions_count = 0 FROM campaigns c WHERE c.company_id = a.company_id AND c.id = a.campaign_id$q$) || ']';
SELECT pg_temp.check_dml('update pruned by IN', $q$UPDATE campaigns SET monthly_budget = coalesce(monthly_budget, 0) * 2 WHERE company_id IN (1, 2) RETURNING company_id, id, monthly_budget$q$, 'campaigns') || ' [' || pg_temp.strategy_tasks($q$UPDATE campaigns SET monthly_budget = 1 WHERE company_id IN (1, 2)$q$) || ']';
SELECT pg_temp.check_dml('delete every shard', $q$DELETE FROM impressions WHERE cost_per_impression_usd > 0.9 RETURNING company_id, id$q$, 'impressions') || ' [' || pg_temp.strategy_tasks($q$DELETE FROM impressions WHERE cost_per_impression_usd > 0.9$q$) || ']';
SELECT pg_temp.ms_row_count($q$UPDATE clicks SET site_url = site_url WHERE cost_per_click_usd < 1$q$) AS updated_rows,
       (SELECT count(*) FROM local.clicks WHERE cost_per_click_usd < 1) AS local_rows;
-- not multi-shard: the key changes, a join off the key, a subquery
SELECT pg_temp.strategy_tasks($q$UPDATE ads SET company_id = company_id + 1 WHERE id = 1$q$);
SELECT pg_temp.strategy_tasks($q$UPDATE ads a SET name = c.name FROM campaigns c WHERE c.id = a.campaign_id$q$);
SELECT pg_temp.strategy_tasks($q$DELETE FROM ads WHERE campaign_id IN (SELECT id FROM campaigns)$q$);
SET shardfdw.enable_multi_shard_dml = off;
SELECT pg_temp.strategy_tasks($q$DELETE FROM impressions WHERE cost_per_impression_usd > 0.9$q$);
RESET shardfdw.enable_multi_shard_dml;
SELECT pg_temp.diff_check('ads after DML', $q$SELECT * FROM ads$q$);
SELECT pg_temp.diff_check('impressions after DML', $q$SELECT * FROM impressions$q$);
