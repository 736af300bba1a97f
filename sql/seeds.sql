--
-- seeds: the table definitions and distribution calls of the users' workflows
-- (shared/seeds/001..004), run unchanged where the concept maps, then rows
-- inserted through the coordinator are checked on the worker that holds them.
--
-- Each seed lives in its own schema (seeds 001 and 002 both have "events").
-- Post-distribution CREATE INDEX / ALTER TABLE ... ADD CONSTRAINT statements
-- of the seeds are DDL propagation (a later issue) and are left out here.
--
-- Output avoids anything that depends on the run: no sizes, ports, hosts,
-- shard ids or colocation ids (colocation ids are shown renumbered per seed).
--
SET client_min_messages = notice;

-- Helper: for rows of a distributed table matching cond, check that exactly
-- the worker named by shardfdw.shards for the row's partition holds the rows
-- in the shard table (same qualified name on coordinator and worker).
CREATE FUNCTION public.seeds_placement_check(rel regclass, cond text)
RETURNS TABLE (n_rows bigint, n_partitions bigint, holder_is_catalog_server boolean, n_workers_with_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    part oid;
    qname text;
    srv name;
    holders name[];
BEGIN
    EXECUTE format('SELECT count(*), count(DISTINCT tableoid), min(tableoid::oid) FROM %s WHERE %s', rel, cond)
        INTO n_rows, n_partitions, part;
    SELECT format('%I.%I', n.nspname, c.relname) INTO qname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = part;
    SELECT n.server_name INTO srv
      FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
     WHERE s.shard_relid = part;
    SELECT array_agg(w.server_name ORDER BY w.server_name) INTO holders
      FROM run_command_on_workers(format('SELECT count(*) FROM %s WHERE %s', qname, cond)) w
     WHERE w.success AND w.result::bigint > 0;
    holder_is_catalog_server := holders = ARRAY[srv];
    n_workers_with_rows := coalesce(cardinality(holders), 0);
    -- the worker's count must equal the coordinator's
    IF NOT EXISTS (SELECT 1 FROM run_command_on_workers(format('SELECT count(*) FROM %s WHERE %s', qname, cond)) w
                    WHERE w.server_name = srv AND w.success AND w.result::bigint = n_rows) THEN
        holder_is_catalog_server := false;
    END IF;
    RETURN NEXT;
END
$$;

-- Helper: the server holding a shard (a partition of a distributed table)
CREATE FUNCTION public.seeds_server(part oid) RETURNS name
LANGUAGE sql STABLE AS $$
    SELECT n.server_name
      FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
     WHERE s.shard_relid = part
$$;

-- Helper: for a reference table, the row count of the replica on every worker.
CREATE FUNCTION public.seeds_replica_counts(rel regclass)
RETURNS TABLE (server_name name, success boolean, replica_rows text)
LANGUAGE sql AS $$
    SELECT w.server_name, w.success, w.result
      FROM run_command_on_workers(format('SELECT count(*) FROM %s',
             (SELECT format('%I.%I', n.nspname, c.relname)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.oid = rel))) w
     ORDER BY 1
$$;

-- Helper: shards per worker of the tables of one schema
CREATE FUNCTION public.seeds_shards_per_node(sch name)
RETURNS TABLE (table_name text, server_name name, shards bigint)
LANGUAGE sql AS $$
    SELECT c.relname::text, s.server_name, count(*)
      FROM shardfdw.shards s
      JOIN pg_class c ON c.oid = s.table_name
     WHERE c.relnamespace = sch::regnamespace
     GROUP BY 1, 2 ORDER BY 1, 2
$$;

-- Helper: citus_tables for one schema, colocation ids renumbered 1, 2, ...
CREATE FUNCTION public.seeds_tables(sch name)
RETURNS TABLE (table_name text, citus_table_type text, distribution_column text,
               colocation_group bigint, shard_count bigint)
LANGUAGE sql AS $$
    SELECT c.relname::text, t.citus_table_type, t.distribution_column,
           dense_rank() OVER (ORDER BY t.colocation_id), t.shard_count
      FROM citus_tables t
      JOIN pg_class c ON c.oid = t.table_name
     WHERE c.relnamespace = sch::regnamespace
     ORDER BY 1
$$;

SELECT count(*) AS workers FROM shardfdw.nodes;

------------------------------------------------------------------------------
-- Seed 001: multi-tenant application with owner_id
------------------------------------------------------------------------------
CREATE SCHEMA seed001;
SET search_path = seed001, public;

-- 1. The anchor table, exactly as in the seed.  Its UNIQUE (email) does not
-- include the distribution column, which no sharded database can enforce:
-- Citus rejects it as well.  Expect a clean error and nothing left behind.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text UNIQUE,
    created_at timestamp DEFAULT now()
);

SELECT create_distributed_table('users', 'id');
SELECT count(*) AS catalog_rows FROM shardfdw.tables WHERE table_name = 'users'::regclass;
SELECT relkind FROM pg_class WHERE oid = 'users'::regclass;

-- what a user does next: drop the global uniqueness of email
ALTER TABLE users DROP CONSTRAINT users_email_key;
SELECT create_distributed_table('users', 'id');

-- 2. events as in the seed: its primary key (id) lacks owner_id -> clean error
CREATE TABLE events (
    id bigserial PRIMARY KEY,
    owner_id bigint NOT NULL,  -- Same distribution key as users
    event_type text,
    properties jsonb,
    created_at timestamp DEFAULT now()
);

SELECT create_distributed_table('events', 'owner_id', colocate_with => 'users');
SELECT count(*) AS catalog_rows FROM shardfdw.tables WHERE table_name = 'events'::regclass;

-- the fix a Citus user applies: the primary key includes the distribution column
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (owner_id, id);
SELECT create_distributed_table('events', 'owner_id', colocate_with => 'users');

-- 3. Another colocated table (same fix for its primary key)
CREATE TABLE user_sessions (
    id bigserial,
    owner_id bigint NOT NULL,  -- Same distribution key
    session_token text,
    expires_at timestamp,
    PRIMARY KEY (owner_id, id)
);

SELECT create_distributed_table('user_sessions', 'owner_id', colocate_with => 'users');

-- 4. Reference table for lookups (replicated to all workers), unchanged
CREATE TABLE event_types (
    id bigserial PRIMARY KEY,
    name text UNIQUE,
    description text
);

SELECT create_reference_table('event_types');

-- Reference table countries, unchanged
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL
);

SELECT create_reference_table('countries');

-- Insert reference data
INSERT INTO countries VALUES ('US', 'United States'), ('CA', 'Canada');

SELECT * FROM seeds_replica_counts('countries');
SELECT * FROM countries ORDER BY code;

INSERT INTO event_types (name, description)
VALUES ('login', 'user logged in'), ('purchase', 'user bought something'), ('rare_event', 'seldom');
SELECT * FROM seeds_replica_counts('event_types');

-- rows through the coordinator: bigserial defaults keep working
INSERT INTO users (email, created_at)
SELECT 'user' || i || '@company.com', '2026-01-01'::timestamp + i * interval '1 hour'
  FROM generate_series(1, 40) i;
SELECT count(*), min(id), max(id) FROM users;

-- Insert routed to specific worker (seed statement, with a fixed owner)
INSERT INTO events (owner_id, event_type, properties)
VALUES (123, 'login', '{"ip": "192.168.1.1"}');
INSERT INTO events (owner_id, event_type, properties, created_at)
SELECT 1 + i % 40, CASE WHEN i % 3 = 0 THEN 'purchase' ELSE 'login' END,
       jsonb_build_object('i', i), '2026-01-02'::timestamp + i * interval '1 minute'
  FROM generate_series(1, 200) i;
INSERT INTO user_sessions (owner_id, session_token, expires_at)
SELECT 1 + i % 40, md5(i::text), '2026-02-01'::timestamp + i * interval '1 day'
  FROM generate_series(1, 80) i;

-- each row is on exactly the worker the catalog says, and nowhere else
SELECT 'users id=7' AS rows, * FROM seeds_placement_check('users', 'id = 7');
SELECT 'users id=8' AS rows, * FROM seeds_placement_check('users', 'id = 8');
SELECT 'users id=31' AS rows, * FROM seeds_placement_check('users', 'id = 31');
SELECT 'events owner=123' AS rows, * FROM seeds_placement_check('events', 'owner_id = 123');
SELECT 'events owner=7' AS rows, * FROM seeds_placement_check('events', 'owner_id = 7');
SELECT 'sessions owner=7' AS rows, * FROM seeds_placement_check('user_sessions', 'owner_id = 7');

-- co-location: a tenant's users, events and sessions are on the same worker
SELECT count(*) AS rows, count(DISTINCT seeds_server(t)) AS servers_for_tenant_7
  FROM (SELECT tableoid FROM users WHERE id = 7
        UNION ALL SELECT tableoid FROM events WHERE owner_id = 7
        UNION ALL SELECT tableoid FROM user_sessions WHERE owner_id = 7) s(t);

-- rows are spread over both workers, and nothing is lost
SELECT count(DISTINCT seeds_server(tableoid)) AS servers_holding_users FROM users;
SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM user_sessions) AS sessions;

-- the seed's queries (created_at defaulted to now(), so it is not shown)
SELECT id, owner_id, event_type, properties FROM events
WHERE owner_id = 123 AND created_at > now() - interval '1 day';

SELECT et.name, count(*)
FROM events e
JOIN event_types et ON e.event_type = et.name
GROUP BY et.name
ORDER BY et.name;

SELECT
    u.email,
    count(e.*) as event_count,
    count(s.*) as session_count
FROM users u
LEFT JOIN events e ON u.id = e.owner_id
LEFT JOIN user_sessions s ON u.id = s.owner_id
WHERE u.id = 7  -- Single worker execution
GROUP BY u.email;

SELECT * FROM seeds_tables('seed001');
SELECT * FROM seeds_shards_per_node('seed001');

------------------------------------------------------------------------------
-- Seed 002: IoT devices, distributed "concurrently" after loading
------------------------------------------------------------------------------
CREATE SCHEMA seed002;
SET search_path = seed002, public;

-- (the seed does not show these definitions; they follow its \d output)
CREATE TABLE device_types (
    device_type_id integer PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE devices (
    device_id integer PRIMARY KEY,
    device_type_id integer REFERENCES device_types (device_type_id),
    name text NOT NULL
);
CREATE TABLE events (
    event_id bigserial PRIMARY KEY,
    device_id integer NOT NULL REFERENCES devices (device_id),
    payload jsonb,
    created_at timestamp
);
CREATE INDEX events_payload_idx ON events USING gin (payload);

INSERT INTO device_types VALUES (1, 'thermometer'), (2, 'hygrometer');
INSERT INTO devices SELECT i, 1 + i % 2, 'device ' || i FROM generate_series(1, 60) i;
INSERT INTO events (device_id, payload, created_at)
SELECT 1 + i % 60,
       jsonb_build_object('humidity', 40 + i % 45, 'temperature', 50 + i % 15),
       '2026-11-01'::timestamp + i * interval '1 minute'
  FROM generate_series(1, 600) i;

-- Update the primary key on events to include the distribution column
CREATE UNIQUE INDEX CONCURRENTLY events_devices_idx ON events (event_id,device_id);

BEGIN;

-- Swap out the primary key for the index
ALTER TABLE events
    DROP CONSTRAINT events_pkey CASCADE,
    ADD CONSTRAINT events_pk PRIMARY KEY USING INDEX events_devices_idx;

-- Create any foreign keys impacted by the CASCADE.
-- For this example, we don't have any.

COMMIT;

SELECT create_reference_table('device_types');
SELECT * FROM seeds_tables('seed002');

ALTER TABLE events DROP CONSTRAINT events_device_id_fkey;

SELECT create_distributed_table_concurrently('devices','device_id');
SELECT * FROM seeds_tables('seed002');

SELECT create_distributed_table_concurrently('events','device_id');
SELECT * FROM seeds_tables('seed002');

-- (ALTER TABLE events ADD CONSTRAINT FK_events_devices ... is DDL
-- propagation, a later issue)

-- (the seed names public.device_types; here it lives in seed002)
SELECT truncate_local_data_after_distributing_table('seed002.device_types');

-- all rows survived distribution, and are on the right worker
SELECT (SELECT count(*) FROM device_types) AS device_types, (SELECT count(*) FROM devices) AS devices,
       (SELECT count(*) FROM events) AS events;
SELECT * FROM seeds_replica_counts('device_types');
SELECT 'devices 42' AS rows, * FROM seeds_placement_check('devices', 'device_id = 42');
SELECT 'events device 42' AS rows, * FROM seeds_placement_check('events', 'device_id = 42');
SELECT 'events device 5' AS rows, * FROM seeds_placement_check('events', 'device_id = 5');

INSERT INTO events (device_id, payload, created_at)
VALUES (42, '{"humidity": 99, "temperature": 70}', '2026-11-21 08:00');
SELECT 'events device 42 after insert' AS rows, * FROM seeds_placement_check('events', 'device_id = 42');

-- the seed's outlier query for device 42
SELECT device_id, COUNT((CASE WHEN (payload ->> 'humidity')::decimal < 60 THEN 1 ELSE NULL END)) AS LowHumidity,
COUNT((CASE WHEN (payload ->> 'humidity')::decimal > 70 THEN 1 ELSE NULL END)) AS HighHumidity,
COUNT((CASE WHEN (payload ->> 'temperature')::decimal < 55 THEN 1 ELSE NULL END)) AS LowTemperature,
COUNT((CASE WHEN (payload ->> 'temperature')::decimal > 60 THEN 1 ELSE NULL END)) AS HighTemperature,
COUNT((CASE WHEN (payload ->> 'humidity')::decimal BETWEEN 60 AND 70 THEN 1 ELSE NULL END)) AS RegularHumidity,
COUNT((CASE WHEN (payload ->> 'temperature')::decimal BETWEEN 55 AND 60 THEN 1 ELSE NULL END)) AS RegularTemperature
FROM events
WHERE device_id = 42
GROUP BY device_id;

SELECT event_id FROM events WHERE device_id = 42 ORDER BY event_id LIMIT 5;
SELECT event_id, device_id FROM events WHERE event_id = 7;

SELECT * FROM seeds_shards_per_node('seed002');

------------------------------------------------------------------------------
-- Seed 003: Tailspin Toys stores
------------------------------------------------------------------------------
CREATE SCHEMA seed003;
SET search_path = seed003, public;

-- (the seed does not show these definitions; they follow its queries and
-- constraint names)
CREATE TABLE stores (
    store_id integer PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE products (
    store_id integer NOT NULL REFERENCES stores (store_id),
    product_id integer NOT NULL,
    name text NOT NULL,
    price numeric(10,2) NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
CREATE TABLE orders (
    store_id integer NOT NULL,
    order_id integer NOT NULL,
    ordered_at timestamp NOT NULL,
    PRIMARY KEY (store_id, order_id),
    CONSTRAINT orders_store_id_fkey FOREIGN KEY (store_id) REFERENCES stores (store_id)
);
CREATE TABLE line_items (
    store_id integer NOT NULL,
    order_id integer NOT NULL,
    line_item_id integer NOT NULL,
    product_id integer NOT NULL,
    quantity integer NOT NULL,
    line_amount numeric(12,2) NOT NULL,
    PRIMARY KEY (store_id, order_id, line_item_id),
    CONSTRAINT line_items_store_id_fkey FOREIGN KEY (store_id) REFERENCES stores (store_id),
    CONSTRAINT line_items_orders_fkey FOREIGN KEY (store_id, order_id) REFERENCES orders (store_id, order_id),
    CONSTRAINT line_items_products_fkey FOREIGN KEY (store_id, product_id) REFERENCES products (store_id, product_id)
);

INSERT INTO stores SELECT i, 'Store #' || i FROM generate_series(1, 400) i;
INSERT INTO products SELECT s, p, 'toy ' || s || '/' || p, 1 + (s * p) % 50
  FROM generate_series(1, 400) s, generate_series(1, 5) p;
INSERT INTO orders SELECT s, o, '2026-10-01'::timestamp + (s * o) * interval '1 hour'
  FROM generate_series(1, 400) s, generate_series(1, 4) o;
INSERT INTO line_items SELECT s, o, l, 1 + (s + o + l) % 5, 1 + (s * l) % 4, (1 + (s * l) % 4) * 2.5
  FROM generate_series(1, 400) s, generate_series(1, 4) o, generate_series(1, 3) l;

SELECT create_distributed_table('stores', 'store_id');

SELECT create_distributed_table('products', 'store_id', colocate_with => 'stores');

-- List products by store (mid-distribution)
SELECT p.product_id, p.name FROM stores AS s
INNER JOIN products AS p ON s.store_id = p.store_id
WHERE s.store_id = 336
ORDER BY p.product_id;

-- Distributing stores moved orders_store_id_fkey from the coordinator to
-- shardfdw.pending_fkey; the seed's DROP CONSTRAINT must still find it.
BEGIN;

-- Drop the foreign key to the stores table
ALTER TABLE orders
    DROP CONSTRAINT orders_store_id_fkey;

-- Drop the foreign key reference in the line_items table
ALTER TABLE line_items
    DROP CONSTRAINT line_items_orders_fkey;

COMMIT;

SELECT create_distributed_table_concurrently('orders', 'store_id');

-- (ALTER TABLE orders ADD CONSTRAINT orders_store_id_fkey ... is DDL
-- propagation, a later issue)

-- (same, for the foreign keys to products and stores)
ALTER TABLE line_items
    DROP CONSTRAINT line_items_products_fkey,
    DROP CONSTRAINT line_items_store_id_fkey;

SELECT create_distributed_table_concurrently('line_items', 'store_id');

SELECT * FROM seeds_tables('seed003');

-- the dropped foreign keys are gone for good; products -> stores remains, on
-- every co-located shard
SELECT server_name, success, result AS foreign_keys_on_shards
  FROM run_command_on_workers($$SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'seed003'::regnamespace$$)
 ORDER BY 1;

SELECT c.relname AS table_name, count(*) AS shard_count
  FROM citus_shards s JOIN pg_class c ON c.oid = s.table_name
 WHERE c.relnamespace = 'seed003'::regnamespace
 GROUP BY 1 ORDER BY 1;
SELECT * FROM seeds_shards_per_node('seed003');

SELECT (SELECT count(*) FROM stores) AS stores, (SELECT count(*) FROM products) AS products,
       (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM line_items) AS line_items;
SELECT 'stores 5' AS rows, * FROM seeds_placement_check('stores', 'store_id = 5');
SELECT 'line_items 5' AS rows, * FROM seeds_placement_check('line_items', 'store_id = 5');
SELECT 'line_items 336' AS rows, * FROM seeds_placement_check('line_items', 'store_id = 336');

-- The next three seed queries select columns functionally dependent on the
-- primary key (GROUP BY s.store_id, then s.name): this needs the distributed
-- parent to keep knowing its primary key.  Expected output is the result of
-- plain PostgreSQL.
-- 5 most ordered products by store
SELECT p.product_id,
    p.name,
    SUM(l.quantity) AS total_ordered,
    COUNT(p.product_id) AS count_of_orders_containing_product
FROM products AS p
INNER JOIN line_items AS l ON p.store_id = l.store_id AND p.product_id = l.product_id
WHERE p.store_id = 5
GROUP BY p.store_id, p.product_id
ORDER BY total_ordered DESC, p.product_id
LIMIT 5;

-- Average order amounts by store
WITH order_amounts AS (
    SELECT store_id, order_id, SUM(quantity) AS total_quantity, COUNT(*) AS order_lines, SUM(line_amount) AS order_amount
    FROM line_items
    WHERE store_id = 5
    GROUP BY store_id, order_id
)
SELECT s.name,
    AVG(o.total_quantity) AS avg_quantity,
    AVG(o.order_lines) AS avg_order_lines,
    AVG(o.order_amount) AS avg_order_amount
FROM stores AS s
INNER JOIN order_amounts AS o ON s.store_id = o.store_id
WHERE s.store_id = 5
GROUP BY s.store_id;

-- Internal cross-tenant aggregation
SELECT s.store_id,
    s.name,
    COUNT(l.order_id) AS order_count,
    AVG(line_amount) AS avg_order_amount,
    SUM(l.line_amount) AS total_sales
FROM line_items AS l
INNER JOIN stores AS s ON l.store_id = s.store_id
GROUP BY s.store_id
ORDER BY total_sales DESC, s.store_id
LIMIT 5;

SELECT truncate_local_data_after_distributing_table('stores');
SELECT count(*) AS line_items_after_truncate_local FROM line_items;

------------------------------------------------------------------------------
-- Seed 004: the ad platform, in the seed's own order, foreign keys included
------------------------------------------------------------------------------
CREATE SCHEMA seed004;
SET search_path = seed004, public;

CREATE TABLE companies (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  image_url text,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);

CREATE TABLE campaigns (
  id bigserial,
  company_id bigint REFERENCES companies (id),
  name text NOT NULL,
  cost_model text NOT NULL,
  state text NOT NULL,
  monthly_budget bigint,
  blacklisted_site_urls text[],
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  PRIMARY KEY (company_id, id)
);

CREATE TABLE ads (
 id bigserial,
 company_id bigint,
 campaign_id bigint,
 name text NOT NULL,
 image_url text,
 target_url text,
 impressions_count bigint DEFAULT 0,
 clicks_count bigint DEFAULT 0,
 created_at timestamp without time zone NOT NULL,
 updated_at timestamp without time zone NOT NULL,
 PRIMARY KEY (company_id, id),
 FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id)
);

CREATE TABLE clicks (
  id bigserial,
  company_id bigint,
  ad_id bigint,
  clicked_at timestamp without time zone NOT NULL,
  site_url text NOT NULL,
  cost_per_click_usd numeric(20,10),
  user_ip inet NOT NULL,
  user_data jsonb NOT NULL,
  PRIMARY KEY (company_id, id),
  FOREIGN KEY (company_id, ad_id) REFERENCES ads (company_id, id)
 );

 CREATE TABLE impressions (
   id bigserial,
   company_id bigint,
   ad_id bigint,
   seen_at timestamp without time zone NOT NULL,
   site_url text NOT NULL,
   cost_per_impression_usd numeric(20,10),
   user_ip inet NOT NULL,
   user_data jsonb NOT NULL,
   PRIMARY KEY (company_id, id),
   FOREIGN KEY (company_id, ad_id) REFERENCES ads (company_id, id));

SELECT create_distributed_table('companies', 'id');

SELECT create_distributed_table('campaigns', 'company_id');

SELECT create_distributed_table('ads', 'company_id');

SELECT create_distributed_table('clicks', 'company_id');

SELECT create_distributed_table('impressions', 'company_id');

SELECT * FROM seeds_tables('seed004');

CREATE TABLE geo_ips (
  addrs cidr NOT NULL PRIMARY KEY,
  latlon point NOT NULL
    CHECK (-90  <= latlon[0] AND latlon[0] <= 90 AND
           -180 <= latlon[1] AND latlon[1] <= 180)
);
CREATE INDEX ON geo_ips USING gist (addrs inet_ops);

SELECT create_reference_table('geo_ips');

-- load (the seed uses \copy of CSV files; COPY FROM STDIN is the same path)
COPY companies (id, name, image_url, created_at, updated_at) FROM STDIN WITH (FORMAT csv);
1,Acme Corp,http://img.example.com/1.png,2026-01-01 10:00:00,2026-01-02 10:00:00
2,"O'Reilly ""Ads""",,2026-01-01 11:00:00,2026-01-02 11:00:00
3,Café Ünïcode 日本,http://img.example.com/3.png,2026-01-01 12:00:00,2026-01-02 12:00:00
4,Globex,http://img.example.com/4.png,2026-01-01 13:00:00,2026-01-02 13:00:00
5,Initech,http://img.example.com/5.png,2026-01-01 14:00:00,2026-01-02 14:00:00
6,Umbrella,,2026-01-01 15:00:00,2026-01-02 15:00:00
\.
INSERT INTO campaigns (id, company_id, name, cost_model, state, monthly_budget, blacklisted_site_urls, created_at, updated_at)
SELECT i, 1 + i % 6, 'campaign ' || i, CASE WHEN i % 2 = 0 THEN 'cost_per_click' ELSE 'cost_per_impression' END,
       'running', 1000 * i, ARRAY['http://bad.example.com/' || i], '2026-02-01', '2026-02-02'
  FROM generate_series(1, 12) i;
INSERT INTO ads (id, company_id, campaign_id, name, image_url, target_url, created_at, updated_at)
SELECT i, 1 + (1 + (i + 1) % 12) % 6, 1 + (i + 1) % 12, 'ad ' || i, NULL, 'http://target.example.com/' || i, '2026-02-03', '2026-02-04'
  FROM generate_series(1, 300) i;
INSERT INTO clicks (id, company_id, ad_id, clicked_at, site_url, cost_per_click_usd, user_ip, user_data)
SELECT a.id * 10 + k, a.company_id, a.id, '2026-03-01'::timestamp + (a.id * k) * interval '1 minute',
       'http://site.example.com/' || k, 0.25 * k, ('10.0.' || k || '.' || a.id % 250)::inet,
       jsonb_build_object('is_mobile', (a.id + k) % 3 = 0)
  FROM ads a, generate_series(1, 3) k;
INSERT INTO impressions (id, company_id, ad_id, seen_at, site_url, cost_per_impression_usd, user_ip, user_data)
SELECT a.id * 10 + k, a.company_id, a.id, '2026-03-01'::timestamp + (a.id * k) * interval '1 minute',
       'http://site.example.com/' || k, 0.01 * k, ('10.1.' || k || '.' || a.id % 250)::inet,
       jsonb_build_object('is_mobile', (a.id + k) % 2 = 0)
  FROM ads a, generate_series(1, 5) k;
INSERT INTO geo_ips VALUES ('10.0.0.0/16', '(40.7,-74.0)'), ('10.1.0.0/16', '(48.8,2.3)'),
                           ('192.168.0.0/16', '(-33.9,151.2)');

SELECT (SELECT count(*) FROM companies) AS companies, (SELECT count(*) FROM campaigns) AS campaigns,
       (SELECT count(*) FROM ads) AS ads, (SELECT count(*) FROM clicks) AS clicks,
       (SELECT count(*) FROM impressions) AS impressions;
SELECT id, name FROM companies ORDER BY id;

SELECT * FROM seeds_replica_counts('geo_ips');
SELECT 'companies 5' AS rows, * FROM seeds_placement_check('companies', 'id = 5');
SELECT 'companies 3' AS rows, * FROM seeds_placement_check('companies', 'id = 3');
SELECT 'ads company 5' AS rows, * FROM seeds_placement_check('ads', 'company_id = 5');
SELECT 'clicks company 5' AS rows, * FROM seeds_placement_check('clicks', 'company_id = 5');
SELECT 'impressions company 2' AS rows, * FROM seeds_placement_check('impressions', 'company_id = 2');
-- the foreign keys, with their referenced rows on the same worker
SELECT count(*) AS rows, count(DISTINCT seeds_server(t)) AS servers_for_company_5
  FROM (SELECT tableoid FROM companies WHERE id = 5
        UNION ALL SELECT tableoid FROM campaigns WHERE company_id = 5
        UNION ALL SELECT tableoid FROM ads WHERE company_id = 5
        UNION ALL SELECT tableoid FROM clicks WHERE company_id = 5
        UNION ALL SELECT tableoid FROM impressions WHERE company_id = 5) s(t);

-- the seed's queries
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
ORDER BY a.campaign_id, n_impressions desc, a.id
LIMIT 8;

SELECT c.id, clicked_at, latlon
FROM geo_ips, clicks c
WHERE addrs >> c.user_ip
      AND c.company_id = 5
      AND c.ad_id = 290
ORDER BY c.id;

SELECT
  user_data->>'is_mobile' AS is_mobile,
  count(*) AS count
FROM clicks
WHERE company_id = 5
GROUP BY user_data->>'is_mobile'
ORDER BY count DESC;

SELECT * FROM seeds_shards_per_node('seed004');
-- the four foreign keys exist on every co-located shard (16 shards per worker)
SELECT server_name, success, result AS foreign_keys_on_shards
  FROM run_command_on_workers($$SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'seed004'::regnamespace$$)
 ORDER BY 1;
-- sizes are reported (values depend on the run, so only their sign is shown)
SELECT bool_and(shard_size >= 0) AS shard_sizes_known FROM citus_shards s JOIN pg_class c ON c.oid = s.table_name
 WHERE c.relnamespace = 'seed004'::regnamespace;
SELECT c.relname, pg_size_bytes(t.table_size) > 0 AS has_size FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name
 WHERE c.relnamespace = 'seed004'::regnamespace ORDER BY 1;
SELECT server_name, count(*) AS placements
  FROM shardfdw.shards s JOIN pg_class c ON c.oid = s.table_name
 WHERE c.relnamespace = 'seed004'::regnamespace
 GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------------
-- undistribute_table brings all rows back
------------------------------------------------------------------------------
SET search_path = seed001, public;
SELECT undistribute_table('user_sessions');
SELECT relkind, (SELECT count(*) FROM user_sessions) AS n FROM pg_class WHERE oid = 'user_sessions'::regclass;
SELECT count(*) AS catalog_rows FROM shardfdw.tables WHERE table_name = 'user_sessions'::regclass;

-- The seed schemas are left in place (DROP of distributed tables is DDL
-- propagation, a later issue); only the helpers go.
RESET search_path;
DROP FUNCTION seeds_placement_check(regclass, text), seeds_replica_counts(regclass), seeds_server(oid),
              seeds_shards_per_node(name), seeds_tables(name);
