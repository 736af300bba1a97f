-- demo/queries.sql: a few of seed 004's queries on the distributed demo data.

\echo '== ads of company 5 ranked by impressions within each campaign (seed 004, exercise 3)'
SELECT a.campaign_id,
       RANK() OVER (
         PARTITION BY a.campaign_id
         ORDER BY a.campaign_id, count(*) desc),
         count(*) as n_impressions, a.id
FROM ads as a
     JOIN impressions as I
     ON i.company_id = a.company_id AND i.ad_id = a.id
WHERE a.company_id = 5
GROUP BY a.campaign_id, a.id
ORDER BY a.campaign_id, n_impressions desc
LIMIT 10;

\echo '== clicks per company (top 5)'
SELECT company_id, count(*) AS clicks, sum(cost_per_click_usd) AS cost_usd
FROM clicks
GROUP BY company_id
ORDER BY clicks DESC, company_id
LIMIT 5;

\echo '== mobile vs. desktop clicks of company 5 (seed 004, exercise 5)'
SELECT
  user_data->>'is_mobile' AS is_mobile,
  count(*) AS count
FROM clicks
WHERE company_id = 5
GROUP BY user_data->>'is_mobile'
ORDER BY count DESC;

\echo '== where the clicks on ad 6404 of company 5 came from: join with the reference table geo_ips (seed 004, exercise 4)'
SELECT c.id, clicked_at, latlon
FROM geo_ips, clicks c
WHERE addrs >> c.user_ip
      AND c.company_id = 5
      AND c.ad_id = 6404
ORDER BY c.id
LIMIT 5;

\echo '== shards per node (seed 004, exercise 7)'
SELECT table_name, nodename, nodeport, count(*) AS shard_count
FROM citus_shards
GROUP BY table_name, nodename, nodeport
ORDER BY table_name, nodename, nodeport;

\echo '== distributed and reference tables'
SELECT table_name, table_type, distribution_column, colocation_id, shard_count
FROM shardfdw.tables
ORDER BY table_name::text;
