-- bench/gen.sql: the seed 004 ad platform, deterministic (no random()).
--
--   psql -v nco=100 -v ncl=300000 -v nim=700000 -f bench/gen.sql
--
-- Fills companies (nco rows), campaigns (10 per company), ads (10 per
-- campaign), clicks (ncl rows) and impressions (nim rows) of the current
-- search_path.  Every value is a function of the row number, so each system
-- of bench/run.sh gets exactly the same rows.  geo_ips is in gen_geo.sql.
\set ON_ERROR_STOP on

INSERT INTO companies (id, name, image_url, created_at, updated_at)
SELECT i, 'company ' || i, 'http://img.example.com/c' || i || '.png',
       timestamp '2025-01-01' + i * interval '1 hour',
       timestamp '2025-06-01' + i * interval '1 hour'
  FROM generate_series(1::bigint, :nco) i;

INSERT INTO campaigns (id, company_id, name, cost_model, state, monthly_budget,
                       blacklisted_site_urls, created_at, updated_at)
SELECT i, (i - 1) / 10 + 1, 'campaign ' || i,
       (ARRAY['cost_per_click', 'cost_per_impression'])[i % 2 + 1],
       (ARRAY['running', 'paused', 'archived'])[i % 3 + 1],
       1000 + (i * 7919) % 100000,
       ARRAY['http://bad' || i % 7 || '.example.com'],
       timestamp '2025-02-01' + i * interval '1 minute',
       timestamp '2025-07-01' + i * interval '1 minute'
  FROM generate_series(1::bigint, :nco * 10) i;

INSERT INTO ads (id, company_id, campaign_id, name, image_url, target_url,
                 impressions_count, clicks_count, created_at, updated_at)
SELECT i, (i - 1) / 100 + 1, (i - 1) / 10 + 1, 'ad ' || i,
       'http://img.example.com/a' || i || '.png',
       'http://shop' || i % 97 || '.example.com/landing',
       (i * 7919) % 10000, (i * 104729) % 1000,
       timestamp '2025-03-01' + i * interval '1 second',
       timestamp '2025-08-01' + i * interval '1 second'
  FROM generate_series(1::bigint, :nco * 100) i;

INSERT INTO clicks (id, company_id, ad_id, clicked_at, site_url,
                    cost_per_click_usd, user_ip, user_data)
SELECT i, (a - 1) / 100 + 1, a,
       timestamp '2026-01-01' + ((i * 37) % 2592000) * interval '1 second',
       'http://site' || (i * 31) % 1000 || '.example.com/',
       ((i * 7919) % 100000) / 10000.0,
       '10.0.0.0'::inet + (i * 40503) % 1048576,
       jsonb_build_object('is_mobile', i % 3 = 0,
                          'browser', (ARRAY['firefox', 'chrome', 'safari', 'edge', 'other'])[i % 5 + 1])
  FROM generate_series(1::bigint, :ncl) i,
       LATERAL (SELECT 1 + (i * 2654435761) % (:nco * 100) AS a) x;

INSERT INTO impressions (id, company_id, ad_id, seen_at, site_url,
                         cost_per_impression_usd, user_ip, user_data)
SELECT i, (a - 1) / 100 + 1, a,
       timestamp '2026-01-01' + ((i * 53) % 2592000) * interval '1 second',
       'http://site' || (i * 17) % 1000 || '.example.com/',
       ((i * 104729) % 100000) / 100000.0,
       '10.0.0.0'::inet + (i * 69069) % 1048576,
       jsonb_build_object('is_mobile', i % 4 = 0,
                          'browser', (ARRAY['firefox', 'chrome', 'safari', 'edge', 'other'])[i % 5 + 1])
  FROM generate_series(1::bigint, :nim) i,
       LATERAL (SELECT 1 + (i * 2246822519) % (:nco * 100) AS a) x;
