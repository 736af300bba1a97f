-- demo/data.sql: deterministic demo data (no random()): 100 companies,
-- 1,000 campaigns, 10,000 ads, 50,000 clicks, 50,000 impressions and 256
-- geo_ips networks.  Loaded through the coordinator after distribute.sql,
-- as seed 004 does with \copy, so rows travel to the workers' shards.
--
-- Tenancy: company c owns campaigns j with j % 100 = c - 1, and ads i with
-- i % 100 = c - 1; every click / impression row's company_id is its ad's.
-- User IPs fall in 10.0.0.0/8, which geo_ips covers with 256 /16 networks.

INSERT INTO companies (id, name, image_url, created_at, updated_at)
SELECT c, 'Company ' || c, 'https://example.com/logo/' || c || '.png',
       timestamp '2025-01-01' + c * interval '1 day',
       timestamp '2025-06-01' + c * interval '1 hour'
  FROM generate_series(1, 100) AS c;

INSERT INTO campaigns (id, company_id, name, cost_model, state, monthly_budget,
                       blacklisted_site_urls, created_at, updated_at)
SELECT j, j % 100 + 1, 'Campaign ' || j,
       (ARRAY['cost_per_click', 'cost_per_impression'])[j % 2 + 1],
       (ARRAY['running', 'paused', 'archived'])[j % 3 + 1],
       1000 * (j % 50 + 1),
       ARRAY['https://spam.example.com/' || j % 7],
       timestamp '2025-02-01' + j * interval '1 hour',
       timestamp '2025-07-01' + j * interval '1 minute'
  FROM generate_series(1, 1000) AS j;

INSERT INTO ads (id, company_id, campaign_id, name, image_url, target_url,
                 impressions_count, clicks_count, created_at, updated_at)
SELECT i, i % 100 + 1, (i - 1) % 1000 + 1, 'Ad ' || i,
       'https://example.com/ads/' || i || '.png',
       'https://shop.example.com/item/' || i,
       0, 0,
       timestamp '2025-03-01' + i * interval '1 minute',
       timestamp '2025-08-01' + i * interval '1 second'
  FROM generate_series(1, 10000) AS i;

-- ad_id = 100 * k + r + 1 with r in 0..99, so the ad's company is ad_id % 100 + 1;
-- r is skewed (low company ids get more traffic) and k varies with n.
INSERT INTO clicks (id, company_id, ad_id, clicked_at, site_url,
                    cost_per_click_usd, user_ip, user_data)
SELECT n, a % 100 + 1, a,
       timestamp '2025-09-01' + n * interval '37 seconds',
       'https://site' || n % 40 || '.example.com/',
       round((n % 97) / 100.0, 4),
       '10.0.0.0'::inet + (n::bigint * 2654435761 % 16777216),
       jsonb_build_object('is_mobile', n % 3 = 0,
                          'browser', (ARRAY['firefox', 'chrome', 'safari'])[n % 3 + 1])
  FROM (SELECT n, 100 * ((n * 7 + n / 13) % 100)
                  + (100 * power((n % 997) / 997.0, 2))::int % 100 + 1 AS a
          FROM generate_series(1, 50000) AS n) AS s;

INSERT INTO impressions (id, company_id, ad_id, seen_at, site_url,
                         cost_per_impression_usd, user_ip, user_data)
SELECT n, a % 100 + 1, a,
       timestamp '2025-09-01' + n * interval '29 seconds',
       'https://site' || n % 40 || '.example.com/',
       round((n % 89) / 1000.0, 5),
       '10.0.0.0'::inet + (n::bigint * 40503 % 16777216),
       jsonb_build_object('is_mobile', n % 4 = 0)
  FROM (SELECT n, 100 * ((n * 11 + n / 17) % 100)
                  + (100 * power((n % 991) / 991.0, 2))::int % 100 + 1 AS a
          FROM generate_series(1, 50000) AS n) AS s;

INSERT INTO geo_ips (addrs, latlon)
SELECT set_masklen(('10.0.0.0'::inet + k * 65536)::cidr, 16),
       point((k * 37) % 181 - 90, (k * 101) % 361 - 180)
  FROM generate_series(0, 255) AS k;

-- The rows above used explicit ids: move the bigserial sequences past them.
SELECT setval(pg_get_serial_sequence('companies', 'id'), 100);
SELECT setval(pg_get_serial_sequence('campaigns', 'id'), 1000);
SELECT setval(pg_get_serial_sequence('ads', 'id'), 10000);
SELECT setval(pg_get_serial_sequence('clicks', 'id'), 50000);
SELECT setval(pg_get_serial_sequence('impressions', 'id'), 50000);
