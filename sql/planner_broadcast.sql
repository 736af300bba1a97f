--
-- planner_broadcast: joins of distributed tables that are not joined on
-- the distribution column (broadcast joins), and the sharing of two-phase
-- partial aggregates.
--
-- Runs after "differential" and reuses its schemas "dist" (distributed,
-- co-located on company_id) and "local" (the same rows in plain tables).
-- Each line: the result, run at the top level, compared with the local
-- copy, and the strategy (with "broadcast of X" when the small side X is
-- computed on the coordinator and shipped to every task).
--
SET client_min_messages = warning;

-- the row estimates of the small side come from the parents' statistics
ANALYZE dist.companies, dist.campaigns, dist.ads, dist.clicks, dist.impressions;
ANALYZE local.companies, local.campaigns, local.ads, local.clicks, local.impressions;

CREATE FUNCTION pg_temp.top_rows(q text, path text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    res text[] := '{}';
    old text := current_setting('search_path');
BEGIN
    PERFORM set_config('search_path', path, false);
    FOR r IN EXECUTE q LOOP
        res := res || r::text;
    END LOOP;
    PERFORM set_config('search_path', old, false);
    RETURN res;
END
$$;
CREATE FUNCTION pg_temp.strategy(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    strategy text := NULL;
    tasks text := '';
    broadcast text := '';
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ '^\s*Strategy: ' AND strategy IS NULL THEN
            strategy := regexp_replace(line, '^\s*Strategy: ', '');
        ELSIF line ~ '^\s*Task Count: ' AND tasks = '' THEN
            tasks := ', ' || regexp_replace(line, '^\s*Task Count: ', '') || ' task(s)';
        ELSIF line ~ '^\s*SubPlan \d+ \(broadcast of ' THEN
            broadcast := broadcast || ', broadcast of ' ||
                regexp_replace(line, '^\s*SubPlan \d+ \(broadcast of (.*)\)$', '\1');
        END IF;
    END LOOP;
    RETURN coalesce(strategy, 'standard') || tasks || broadcast;
END
$$;
CREATE FUNCTION pg_temp.check(label text, q text, ordered boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN public.dt_compare(label, pg_temp.top_rows(q, 'dist, public'),
                             pg_temp.top_rows(q, 'local, public'), ordered)
           || ' [' || pg_temp.strategy(q) || ']';
END
$$;

\pset tuples_only on
\pset format unaligned

--
-- Broadcast joins: the small side is read once, shipped to every task
--
-- the shape of bench/run.sh's non_colocated query
SELECT pg_temp.check('grouped top-N', $q$SELECT a.campaign_id, count(*) AS n FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 30 GROUP BY a.campaign_id ORDER BY n DESC, a.campaign_id LIMIT 10$q$, true);
SELECT pg_temp.check('rows, text with quotes and unicode', $q$SELECT c.id, a.name, a.target_url FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 20$q$);
SELECT pg_temp.check('NULLs in shipped columns', $q$SELECT c.id, a.image_url, a.impressions_count FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.impressions_count < 300$q$);
SELECT pg_temp.check('numeric, timestamp, inet, jsonb shipped', $q$SELECT i.id, c.cost_per_click_usd, c.clicked_at, c.user_ip, c.user_data FROM impressions i JOIN clicks c ON c.ad_id = i.ad_id WHERE c.id < 40$q$);
SELECT pg_temp.check('numeric aggregates over both sides', $q$SELECT c.site_url, count(*), sum(c.cost_per_click_usd), avg(i.cost_per_impression_usd), min(i.seen_at) FROM impressions i JOIN clicks c ON c.ad_id = i.ad_id WHERE c.id < 60 GROUP BY c.site_url$q$);
SELECT pg_temp.check('empty small side, rows', $q$SELECT c.id, a.name FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 0$q$);
SELECT pg_temp.check('empty small side, count', $q$SELECT count(*), sum(c.cost_per_click_usd), max(a.name) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 0$q$);
SELECT pg_temp.check('no column of the small side used', $q$SELECT count(*) FROM clicks c, ads a WHERE a.id = 5$q$);
SELECT pg_temp.check('join condition in WHERE, small side without filter', $q$SELECT ca.state, count(*) FROM ads a, campaigns ca WHERE ca.id = a.campaign_id GROUP BY ca.state$q$);
SELECT pg_temp.check('USING (merged column)', $q$SELECT id, a.name, c.name, c.monthly_budget FROM ads a JOIN campaigns c USING (id) WHERE c.state = 'paused'$q$);
SELECT pg_temp.check('co-located pair joined to a third table', $q$SELECT ca.cost_model, count(*), sum(c.cost_per_click_usd) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id JOIN campaigns ca ON ca.id = a.campaign_id WHERE ca.state = 'paused' GROUP BY ca.cost_model$q$);
SELECT pg_temp.check('reference table too', $q$SELECT g.addrs, count(*) FROM impressions i JOIN geo_ips g ON g.addrs >>= i.user_ip JOIN ads a ON a.id = i.ad_id WHERE a.clicks_count < 25 GROUP BY g.addrs$q$);
SELECT pg_temp.check('join on a non-key expression', $q$SELECT c.id, a.id FROM clicks c JOIN ads a ON a.id = c.ad_id + 1 AND a.company_id <> c.company_id WHERE a.clicks_count BETWEEN 10 AND 20$q$);
SELECT pg_temp.check('ORDER BY LIMIT with ties', $q$SELECT a.clicks_count, c.company_id, c.id FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 30 ORDER BY a.clicks_count, c.company_id, c.id LIMIT 12$q$, true);
SELECT pg_temp.check('big side pruned to one shard', $q$SELECT c.id, a.name FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE c.company_id = 3 AND a.clicks_count < 50$q$);
SELECT pg_temp.check('count(DISTINCT) over the join', $q$SELECT count(DISTINCT c.site_url), count(DISTINCT a.campaign_id) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 40$q$);

-- parameters: the small side is computed again at each execution
SET search_path = dist, public;
PREPARE bj(bigint, numeric) AS SELECT count(*), sum(c.cost_per_click_usd), max(a.name) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < $1 AND c.cost_per_click_usd > $2;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.strategy('EXECUTE bj(10, 1)');
EXECUTE bj(10, 1);
EXECUTE bj(60, 2.5);
RESET plan_cache_mode;
SELECT count(*), sum(c.cost_per_click_usd), max(a.name) FROM local.clicks c JOIN local.ads a ON a.id = c.ad_id WHERE a.clicks_count < 10 AND c.cost_per_click_usd > 1;
SELECT count(*), sum(c.cost_per_click_usd), max(a.name) FROM local.clicks c JOIN local.ads a ON a.id = c.ad_id WHERE a.clicks_count < 60 AND c.cost_per_click_usd > 2.5;
DEALLOCATE bj;
RESET search_path;

-- a transaction reads its own writes on both sides
BEGIN;
UPDATE dist.ads SET clicks_count = 0 WHERE id IN (7, 8, 9);
UPDATE local.ads SET clicks_count = 0 WHERE id IN (7, 8, 9);
SELECT pg_temp.check('own writes', $q$SELECT a.id, count(*) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count = 0 GROUP BY a.id$q$);
ROLLBACK;

--
-- Not broadcast: the standard planner (FDW path) takes them, correctly
--
-- the small side on the preserved side of an outer join would repeat per shard
SELECT pg_temp.check('small side preserved by a left join', $q$SELECT a.id, count(c.id) FROM ads a LEFT JOIN clicks c ON c.ad_id = a.id WHERE a.clicks_count < 5 GROUP BY a.id$q$);
SELECT pg_temp.check('small side below a full join', $q$SELECT a.id, c.id FROM ads a FULL JOIN clicks c ON c.ad_id = a.id AND a.clicks_count < 3 WHERE c.id < 50 OR c.id IS NULL$q$);
SELECT pg_temp.check('small side referenced by a subquery', $q$SELECT c.id FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 5 AND EXISTS (SELECT 1 FROM geo_ips g WHERE g.addrs >>= c.user_ip AND a.id > 0)$q$);
SET shardfdw.broadcast_join_limit = 0;
SELECT pg_temp.check('broadcast_join_limit = 0', $q$SELECT a.campaign_id, count(*) AS n FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 30 GROUP BY a.campaign_id ORDER BY n DESC, a.campaign_id LIMIT 10$q$, true);
SET shardfdw.broadcast_join_limit = 5;
SELECT pg_temp.check('estimate above the limit', $q$SELECT count(*) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 50$q$);
RESET shardfdw.broadcast_join_limit;
