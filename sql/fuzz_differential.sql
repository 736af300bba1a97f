--
-- fuzz_differential: generated queries (sql/include/fuzz_generator.sql),
-- each run on distributed tables and on an identical local copy, results
-- compared.  Deterministic: setseed() fixes the statements, so a new line
-- in the output is a statement whose results differ (or that fails on the
-- distributed side only), printed with its text.  scripts/fuzz.sh runs the
-- same generator with other seeds and more statements.
--
SET client_min_messages = warning;
-- the coordinator's time zone differs from the workers' (timestamptz
-- output, date_trunc / to_char / ::date in their own time zone)
SET timezone = 'America/Santiago';

\getenv abs_srcdir PG_ABS_SRCDIR
\set fuzz_generator :abs_srcdir '/sql/include/fuzz_generator.sql'
\i :fuzz_generator

SELECT fz.setup();
-- statistics: the planner broadcasts small distributed tables
ANALYZE fz_local.tenants, fz_local.orders, fz_local.items, fz_local.products, fz_local.codes;
ANALYZE fz_dist.tenants, fz_dist.orders, fz_dist.items, fz_dist.products, fz_dist.codes;
SELECT fz.generate(0.4242, 400);

\pset tuples_only on
\pset format unaligned
-- one statement per query, each in its own transaction (not echoed); prints
-- nothing when the results agree
\set ECHO none
SELECT format('SELECT * FROM fz.check(%s)', id) FROM fz.queries ORDER BY id
\gexec
\set ECHO all
\pset tuples_only off
\pset format aligned

-- the outcomes (ok, or both sides failed with the same SQLSTATE)
SELECT status, count(*) FROM fz.log GROUP BY status ORDER BY status;
-- every kind of statement and every strategy was exercised
SELECT kind, count(*) >= 10 AS exercised FROM fz.log GROUP BY kind ORDER BY kind;
SELECT strategy, statements >= 5 AS exercised FROM fz.coverage ORDER BY strategy;

-- regressions found by the generator (minimized)
\pset tuples_only on
\pset format unaligned
-- a reference table preserved by an outer join, joined on the
-- distribution column and grouped by it: still one group per reference
-- row over all shards (two-phase), not per shard
SELECT fz.diff('reference table preserved, joined on the key', $q$SELECT r.code, count(t.tenant_id), count(t.*), sum(t.tier), max(t.name) FROM codes r LEFT JOIN tenants t ON t.tenant_id = r.code GROUP BY r.code$q$);
SELECT fz.diff('the same, RIGHT JOIN, not grouped', $q$SELECT count(o.order_id), avg(o.qty), min(o.amount) FROM orders o RIGHT JOIN codes r ON o.tenant_id = r.code AND o.status_code = r.grp$q$);
SELECT fz.diff('the same, count(*) (declined)', $q$SELECT r.code, count(*) FROM codes r LEFT JOIN tenants t ON t.tenant_id = r.code GROUP BY r.code$q$);
-- sort keys not returned (sent by the workers, dropped on the
-- coordinator), one named like an output column
SELECT fz.diff('ORDER BY a column not returned, named like an output column', $q$SELECT o.order_id AS price FROM orders o ORDER BY o.price DESC NULLS LAST, o.order_id LIMIT 4$q$, true);
SELECT fz.diff('DISTINCT ON a column not returned, ORDER BY another', $q$SELECT DISTINCT ON (o.price) o.order_id AS price FROM orders o ORDER BY o.price, o.placed_at, o.order_id$q$, true);
-- an output column named like another column of the only table: the
-- worker resolved ORDER BY / DISTINCT ON price to the output column
SELECT fz.diff('ORDER BY a column another output column is named after', $q$SELECT o.order_id AS price, o.price AS x, o.tenant_id FROM orders o ORDER BY 2 DESC NULLS LAST, 1, 3 LIMIT 3$q$, true);
SELECT fz.diff('DISTINCT ON a column another output column is named after', $q$SELECT DISTINCT ON (o.price) o.order_id AS price FROM orders o WHERE o.tenant_id = 3 ORDER BY o.price, o.order_id$q$, true);
SELECT fz.diff('two output columns named after the ORDER BY column', $q$SELECT o.status_code::text, o.status_code FROM orders o ORDER BY 2, 1 LIMIT 4$q$, true);
SELECT fz.diff('the same, one shard', $q$SELECT o.status_code::text, o.status_code FROM orders o WHERE o.tenant_id = 5 ORDER BY 2, 1 LIMIT 4$q$, true);
SELECT fz.diff('the column itself under its name', $q$SELECT o.price, o.order_id AS qty, o.tenant_id FROM orders o ORDER BY 1, 2, 3 LIMIT 5$q$, true);
-- the same, prepared (worker statements with parameters), generic plan
PREPARE fzr_d(int) AS SELECT o.status_code::text, o.status_code FROM fz_dist.orders o WHERE o.tenant_id = ANY (ARRAY[$1, 8]) ORDER BY 2, 1 LIMIT 4;
PREPARE fzr_l(int) AS SELECT o.status_code::text, o.status_code FROM fz_local.orders o WHERE o.tenant_id = ANY (ARRAY[$1, 8]) ORDER BY 2, 1 LIMIT 4;
SET plan_cache_mode = force_generic_plan;
SELECT 'prepared, tenant ' || k || ': ' || c.status || coalesce(' ' || c.detail, '')
  FROM generate_series(1, 3) k,
       LATERAL fz.rows(format('EXECUTE fzr_d(%s)', k), 'fz_dist, fz') d,
       LATERAL fz.rows(format('EXECUTE fzr_l(%s)', k), 'fz_local, fz') l,
       LATERAL fz.compare(d.res, d.err, l.res, l.err, true) c
 ORDER BY k;
RESET plan_cache_mode;
DEALLOCATE fzr_d;
DEALLOCATE fzr_l;
SELECT * FROM fz.explain_worker_sql($q$SELECT o.order_id AS price, o.price AS x, o.tenant_id FROM orders o ORDER BY 2 DESC NULLS LAST, 1, 3 LIMIT 3$q$);
-- GROUP BY the distribution column of the nullable side of an outer join:
-- its NULL group has rows in every shard (two-phase aggregate, not whole
-- on the workers)
SELECT fz.diff('GROUP BY the nullable side of a LEFT JOIN', $q$SELECT o.tenant_id, count(*) FROM tenants t LEFT JOIN orders o ON o.tenant_id = t.tenant_id AND o.qty = 99 GROUP BY o.tenant_id$q$);
SELECT fz.diff('GROUP BY the nullable side of a LEFT JOIN, top 2', $q$SELECT t.tenant_id, count(*) FROM orders o LEFT JOIN tenants t ON o.tenant_id = t.tenant_id GROUP BY t.tenant_id ORDER BY 1 NULLS FIRST, 2 LIMIT 2$q$, true);
SELECT fz.diff('GROUP BY the nullable side of a RIGHT JOIN', $q$SELECT o.tenant_id, sum(o.qty) FROM orders o RIGHT JOIN tenants t ON t.tenant_id = o.tenant_id AND o.flag GROUP BY o.tenant_id$q$);
SELECT fz.diff('GROUP BY a side of a FULL JOIN', $q$SELECT t.tenant_id, var_samp(t.score), variance(o.amount) FROM orders o FULL JOIN tenants t ON t.tenant_id = o.tenant_id WHERE o.tenant_id BETWEEN 15 AND 17 GROUP BY t.tenant_id$q$);
SELECT fz.diff('GROUP BY the preserved side (whole on the workers)', $q$SELECT t.tenant_id, count(o.order_id) FROM tenants t LEFT JOIN orders o ON o.tenant_id = t.tenant_id AND o.qty = 99 GROUP BY t.tenant_id$q$);
SELECT fz.diff('GROUP BY the merged column of FULL JOIN USING', $q$SELECT tenant_id, count(*) FROM orders o FULL JOIN tenants t USING (tenant_id) GROUP BY tenant_id$q$);
-- the FDW path: a Var of the outer side of a nested loop goes to the inner
-- foreign scan as a parameter, which has the default collation on the
-- worker: an expression using its column's collation (note is en-x-icu:
-- 'é' ILIKE 'É') was evaluated there under the default one (C: no match)
SET shardfdw.enable_router = off;
SET shardfdw.enable_multi_shard = off;
SELECT fz.diff('ILIKE of an ICU column of the outer side of a nested loop', $q$SELECT o.order_id, p.sku FROM orders o JOIN products p ON p.sku = o.tenant_id WHERE o.tenant_id = 11 AND (o.note ILIKE '%É%' OR p.weight > 46.75)$q$);
SELECT fz.diff('the same, grouped (as the generator found it)', $q$SELECT o.tenant_id, o.amount, round(sum(p.weight)::numeric, 4), count(DISTINCT o.note), bit_or(p.sku) FROM orders o JOIN products p ON p.sku = o.tenant_id WHERE o.tenant_id = 11 AND o.tenant_id IS NOT NULL AND date_trunc('day', o.placed_at) = date_trunc('day', '2026-03-22 02:10:00-03'::timestamptz) AND (o.note ILIKE '%É%' OR p.weight > 46.7500000000000000) GROUP BY o.tenant_id, o.amount$q$);
RESET shardfdw.enable_router;
RESET shardfdw.enable_multi_shard;
-- extra_float_digits <= 0: float4 / float8 converted to text on a worker
-- (whose session has extra_float_digits = 3) had more digits than here, in
-- every strategy (the FDW path too: the conversion is immutable); such a
-- conversion is now evaluated on the coordinator
SET extra_float_digits = 0;
SELECT fz.diff('float to text in WHERE, all shards', $q$SELECT count(*) FROM orders o WHERE o.price::text LIKE '%.571428571428571'$q$);
SELECT fz.diff('float to text in WHERE, one shard', $q$SELECT count(*) FROM orders o WHERE o.tenant_id = 3 AND o.price::text = '10.5714285714286'$q$);
SELECT fz.diff('float to text in the output, one shard', $q$SELECT o.price::text, (o.price / 3)::text FROM orders o WHERE o.tenant_id = 3 ORDER BY 1 LIMIT 3$q$, true);
SELECT fz.diff('float array to text', $q$SELECT ARRAY[o.price]::text[] FROM orders o WHERE o.tenant_id = 3 ORDER BY 1 LIMIT 2$q$, true);
RESET extra_float_digits;
SELECT fz.diff('float to text, default setting (shipped)', $q$SELECT count(*) FROM orders o WHERE o.tenant_id = 3 AND o.price::text = '10.571428571428571'$q$);
-- Not generated: a multi-row INSERT ... ON CONFLICT whose rows go to several
-- shards (test insert_multi_shard: RETURNING rows in VALUES order, DO
-- UPDATE ... WHERE with RETURNING one statement per row, parameters), e.g.
-- INSERT INTO orders AS o (tenant_id, order_id, qty) VALUES (1, 3, 5), (2, 4, NULL)
--   ON CONFLICT (tenant_id, order_id) DO UPDATE SET qty = EXCLUDED.qty
--   WHERE o.qty IS NULL RETURNING *;
\pset tuples_only off
\pset format aligned

DROP SCHEMA fz_dist CASCADE;
DROP SCHEMA fz_local CASCADE;
DROP SCHEMA fz CASCADE;
