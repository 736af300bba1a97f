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

\getenv abs_srcdir PG_ABS_SRCDIR
\set planner_compare :abs_srcdir '/sql/include/planner_compare.sql'
\i :planner_compare

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

-- nested levels that run inside each shard's task, with the small side
-- shipped: correlated on the key, a FROM subquery grouped by it
SELECT pg_temp.check('scalar subquery correlated on the key', $q$SELECT c.id, a.name, (SELECT count(*) FROM impressions i WHERE i.company_id = c.company_id AND i.ad_id = c.ad_id) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 20$q$);
SELECT pg_temp.check('EXISTS correlated on the key, aggregated', $q$SELECT a.campaign_id, count(*) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 30 AND EXISTS (SELECT 1 FROM impressions i WHERE i.company_id = c.company_id AND i.ad_id = c.ad_id) GROUP BY a.campaign_id$q$);
SELECT pg_temp.check('FROM subquery grouped by the key', $q$SELECT s.company_id, s.n, a.name FROM (SELECT company_id, ad_id, count(*) AS n FROM clicks GROUP BY company_id, ad_id) s JOIN ads a ON a.id = s.ad_id WHERE a.clicks_count < 20$q$);
-- (a nested level not correlated on the key: not broadcast, still right)
SELECT pg_temp.check('subquery correlated on another column', $q$SELECT c.id, a.name, (SELECT count(*) FROM impressions i WHERE i.ad_id = c.ad_id) FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.clicks_count < 20$q$);
SELECT pg_temp.check('small side pinned to one shard (router)', $q$SELECT c.id, a.name FROM clicks c JOIN ads a ON a.id = c.ad_id WHERE a.company_id = 5 AND a.clicks_count < 60$q$);
SELECT pg_temp.check('column aliases of the small side', $q$SELECT c.id, a.aname FROM clicks c JOIN ads AS a(aid, acompany, acampaign, aname) ON a.aid = c.ad_id WHERE a.acampaign < 5$q$);

-- tables of another co-location group (distributed on id, 8 shards)
CREATE TABLE local.ads_by_id AS SELECT * FROM local.ads;
CREATE TABLE dist.ads_by_id AS SELECT * FROM local.ads;
SELECT create_distributed_table('dist.ads_by_id', 'id', shard_count => 8);
ANALYZE dist.ads_by_id, local.ads_by_id;
SELECT pg_temp.check('other group, small', $q$SELECT a.campaign_id, count(*) AS n FROM clicks c JOIN ads_by_id a ON a.id = c.ad_id WHERE a.clicks_count < 30 GROUP BY a.campaign_id ORDER BY n DESC, a.campaign_id LIMIT 10$q$, true);
SELECT pg_temp.check('other group, big', $q$SELECT ca.state, count(*) FROM ads_by_id a JOIN campaigns ca ON ca.company_id = a.company_id AND ca.id = a.campaign_id WHERE ca.cost_model = 'cost_per_click' GROUP BY ca.state$q$);
-- both joined on their distribution columns, yet not co-located
SELECT pg_temp.check('other group, on both keys', $q$SELECT count(*), sum(c.cost_per_click_usd) FROM clicks c JOIN ads_by_id b ON b.id = c.company_id$q$);
SELECT pg_temp.check('other group, scalar subquery correlated on the key', $q$SELECT c.id, a.name, (SELECT count(*) FROM impressions i WHERE i.company_id = c.company_id AND i.ad_id = c.ad_id) FROM clicks c JOIN ads_by_id a ON a.id = c.ad_id WHERE a.clicks_count < 15$q$);
SELECT pg_temp.check('other group, also in a correlated subquery', $q$SELECT c.id, a.name FROM clicks c JOIN ads_by_id a ON a.id = c.ad_id WHERE a.clicks_count < 15 AND EXISTS (SELECT 1 FROM ads_by_id b WHERE b.id = c.ad_id AND b.company_id = c.company_id)$q$);
SET shardfdw.broadcast_join_limit = 0;
SELECT pg_temp.check('other group, on both keys, no broadcast', $q$SELECT count(*), sum(c.cost_per_click_usd) FROM clicks c JOIN ads_by_id b ON b.id = c.company_id$q$);
RESET shardfdw.broadcast_join_limit;
SELECT pg_temp.check('other group in a subquery', $q$SELECT count(*) FROM clicks c WHERE c.ad_id IN (SELECT id FROM ads_by_id WHERE clicks_count < 10)$q$);
DROP TABLE dist.ads_by_id, local.ads_by_id;

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

--
-- Two-phase aggregates share identical partials: sum(x) of sum and avg,
-- count(x) of avg and count, and count(*) for count(x) / avg(x) of a NOT
-- NULL column without outer joins.  (partials: columns the workers return)
--
CREATE FUNCTION pg_temp.partials(q text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    n int := 0;
    in_sql boolean := false;
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ 'Worker SQL: ' THEN
            in_sql := true;
        ELSIF line ~ '^\s*FROM ' THEN
            in_sql := false;
        END IF;
        IF in_sql AND line ~ ' AS partial\d+' THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
CREATE FUNCTION pg_temp.pcheck(label text, q text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pg_temp.check(label, q) || ' partials: ' || pg_temp.partials(q);
END
$$;
SELECT pg_temp.pcheck('sum and avg share sum', $q$SELECT count(*), sum(cost_per_click_usd), avg(cost_per_click_usd), count(cost_per_click_usd), round(avg(cost_per_click_usd), 3) FROM clicks$q$);
SELECT pg_temp.pcheck('NOT NULL column: count(*)', $q$SELECT count(*), avg(id), count(id), sum(id), max(id) FROM clicks$q$);
SELECT pg_temp.pcheck('nullable column', $q$SELECT count(*), count(monthly_budget), avg(monthly_budget), sum(monthly_budget) FROM campaigns$q$);
SELECT pg_temp.pcheck('NOT NULL column below an outer join', $q$SELECT count(*), count(c.id), avg(c.id) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id$q$);
SELECT pg_temp.pcheck('FILTER keeps partials apart', $q$SELECT count(*) FILTER (WHERE id > 100), avg(id) FILTER (WHERE id > 100), avg(id), sum(id) FILTER (WHERE id > 100) FROM clicks$q$);
SELECT pg_temp.pcheck('grouped, shared', $q$SELECT site_url, sum(cost_per_click_usd), avg(cost_per_click_usd), count(ad_id), avg(ad_id) FROM clicks GROUP BY site_url$q$);
SELECT pg_temp.pcheck('no rows', $q$SELECT count(*), sum(cost_per_click_usd), avg(cost_per_click_usd), avg(id) FROM clicks WHERE id < 0$q$);

--
-- count(DISTINCT x): on the distribution column, per shard and summed (a
-- value lives in one shard); of a nearly unique column, the workers return
-- the values as they are (grouping per shard would remove nothing); else
-- the workers group by x.  (workers: what the worker SQL does with x)
--
CREATE FUNCTION pg_temp.distinct_way(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    in_sql boolean := false;
    way text := 'raw';
BEGIN
    PERFORM set_config('search_path', 'dist, public', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ 'Worker SQL: ' THEN
            in_sql := true;
        ELSIF line ~ '^\s*(Worker Plan|SubPlan)' THEN
            in_sql := false;
        END IF;
        IF in_sql AND line ~ 'count\(DISTINCT' THEN
            way := 'per shard';
        ELSIF in_sql AND line ~ 'GROUP BY' AND way = 'raw' THEN
            way := 'grouped';
        END IF;
    END LOOP;
    RETURN way;
END
$$;
CREATE FUNCTION pg_temp.dcheck(label text, q text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pg_temp.check(label, q) || ' workers: ' || pg_temp.distinct_way(q);
END
$$;
SELECT pg_temp.dcheck('distribution column', $q$SELECT count(DISTINCT company_id) FROM clicks$q$);
SELECT pg_temp.dcheck('distribution column, grouped', $q$SELECT ad_id % 5, count(DISTINCT company_id) FROM clicks GROUP BY 1$q$);
SELECT pg_temp.dcheck('distribution column, FILTER', $q$SELECT count(DISTINCT company_id) FILTER (WHERE cost_per_click_usd > 3), count(DISTINCT company_id) FROM clicks$q$);
SELECT pg_temp.dcheck('distribution column, HAVING', $q$SELECT site_url, count(DISTINCT company_id) FROM clicks GROUP BY site_url HAVING count(DISTINCT company_id) > 15$q$);
SELECT pg_temp.dcheck('joined key column', $q$SELECT count(DISTINCT a.company_id), count(DISTINCT c.company_id) FROM ads a JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id WHERE c.cost_per_click_usd > 4$q$);
SELECT pg_temp.dcheck('key of the nullable side', $q$SELECT count(DISTINCT c.company_id), count(*) FROM ads a LEFT JOIN clicks c ON c.company_id = a.company_id AND c.ad_id = a.id AND c.id < 100$q$);
SELECT pg_temp.dcheck('distribution column, no rows', $q$SELECT count(DISTINCT company_id) FROM clicks WHERE id < 0$q$);
SELECT pg_temp.dcheck('nearly unique column', $q$SELECT count(DISTINCT id) FROM clicks$q$);
SELECT pg_temp.dcheck('nearly unique, sum and count', $q$SELECT count(DISTINCT id), sum(DISTINCT id), max(DISTINCT id) FROM clicks WHERE cost_per_click_usd IS NOT NULL$q$);
SELECT pg_temp.dcheck('nearly unique, no rows', $q$SELECT count(DISTINCT id) FROM clicks WHERE id < 0$q$);
SELECT pg_temp.dcheck('nearly unique with count(*)', $q$SELECT count(DISTINCT id), count(*) FROM clicks$q$);
SELECT pg_temp.dcheck('low cardinality', $q$SELECT count(DISTINCT site_url) FROM clicks$q$);
SELECT pg_temp.dcheck('low cardinality with NULLs', $q$SELECT count(DISTINCT cost_per_click_usd) FROM clicks$q$);
