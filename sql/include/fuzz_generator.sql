--
-- include/fuzz_generator.sql: the randomized differential test of the
-- planner (test "fuzz_differential", scripts/fuzz.sh).
--
-- Schemas: fz (the generator, the runner, the generated queries fz.queries
-- and what each gave, fz.log), fz_local (plain tables) and fz_dist (the
-- same tables and rows, distributed: tenants / orders / items co-located on
-- tenant_id, products distributed on sku in another co-location group,
-- codes a reference table).
--
--   SELECT fz.setup([shards]);       -- (re)build fz_local and fz_dist
--   ANALYZE fz_local.*, fz_dist.*    -- (broadcast joins need statistics)
--   SELECT fz.generate(seed, n);     -- n queries from setseed(seed)
--   SELECT fz.check(id) ...          -- run one on both sides, compare
--
-- fz.check returns nothing when the two sides agree, else one line with the
-- query; it records the outcome and the strategy EXPLAIN shows on the
-- distributed side in fz.log.  Queries use unqualified table names and run
-- under search_path "fz_dist, fz" and "fz_local, fz".  Floats that
-- aggregates compute are rounded (the order of the additions differs);
-- ORDER BY lists every output column (a total order of the output rows),
-- otherwise results are compared as multisets.
--
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS fz CASCADE;
CREATE SCHEMA fz;

CREATE TABLE fz.queries (id int PRIMARY KEY, kind text NOT NULL, q text NOT NULL,
                         ordered boolean NOT NULL DEFAULT false, args text[], tbl text);
CREATE TABLE fz.log (id int PRIMARY KEY, kind text, strategy text, status text, detail text);

--
-- The data set
--
CREATE FUNCTION fz.setup(shards int DEFAULT 8) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    coll text;
    sch text;
BEGIN
    -- a non-C collation where the workers have it too (ICU builds)
    SELECT CASE WHEN EXISTS (SELECT FROM pg_collation WHERE collname = 'en-x-icu')
                THEN '"en-x-icu"' ELSE '"POSIX"' END INTO coll;
    DROP SCHEMA IF EXISTS fz_dist CASCADE;
    DROP SCHEMA IF EXISTS fz_local CASCADE;
    CREATE SCHEMA fz_local;
    CREATE SCHEMA fz_dist;
    FOREACH sch IN ARRAY ARRAY['fz_local', 'fz_dist'] LOOP
        EXECUTE format('CREATE TABLE %I.tenants (tenant_id int PRIMARY KEY, name text COLLATE %s, tier int,
                            score numeric(40,20), rating float8, created timestamptz, active boolean)', sch, coll);
        EXECUTE format('CREATE TABLE %I.orders (tenant_id int NOT NULL, order_id int NOT NULL, status text COLLATE "C",
                            status_code int, amount numeric(30,10), qty int, price float8, placed_at timestamptz,
                            flag boolean, note text COLLATE %s, PRIMARY KEY (tenant_id, order_id))', sch, coll);
        EXECUTE format('CREATE TABLE %I.items (tenant_id int NOT NULL, order_id int NOT NULL, item_id int NOT NULL,
                            sku int, qty int, unit numeric(12,4), tag text COLLATE "POSIX",
                            PRIMARY KEY (tenant_id, order_id, item_id))', sch);
        EXECUTE format('CREATE TABLE %I.products (sku int PRIMARY KEY, pname text COLLATE %s, cat int,
                            weight float8, pprice numeric)', sch, coll);
        EXECUTE format('CREATE TABLE %I.codes (code int PRIMARY KEY, label text, grp int, w float8)', sch);
    END LOOP;

    INSERT INTO fz_local.tenants
    SELECT i,
           CASE WHEN i % 7 = 3 THEN NULL
                ELSE (ARRAY['alpha', 'Alpha', 'ÄBC', 'abc', 'Zeta', 'zeta', 'éclair', 'eclair', 'b', 'B-2', 'x y', ''])[i % 12 + 1] END,
           CASE WHEN i % 5 = 4 THEN NULL ELSE i % 3 END,
           CASE WHEN i % 6 = 5 THEN NULL WHEN i = 13 THEN 12345678901234567890.12345678901234567890
                WHEN i = 2 THEN 0.00000000000000000001 ELSE round(i * 12345.678901234567890123 / 7, 20) END,
           CASE WHEN i % 4 = 2 THEN NULL ELSE i * 1.1 / 3 END,
           timestamptz '2026-03-07 22:00:00+00' + i * interval '5 hours 17 minutes',
           CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 = 0 END
      FROM generate_series(1, 14) i;

    INSERT INTO fz_local.orders
    SELECT t, o,
           CASE WHEN o % 9 = 0 THEN NULL ELSE (ARRAY['new', 'paid', 'shipped', 'Paid', 'cancelled'])[o % 5 + 1] END,
           CASE WHEN o % 8 = 0 THEN NULL ELSE o % 10 END,
           CASE WHEN o % 11 = 0 THEN NULL WHEN t = 7 AND o = 5 THEN 'NaN'
                WHEN o = 17 THEN -98765432109876543.21 ELSE round((o * 7919 % 10007) / 13.0, 10) END,
           CASE WHEN o % 13 = 0 THEN NULL ELSE (o * 31) % 7 END,
           CASE WHEN o % 10 = 0 THEN NULL WHEN t = 4 AND o = 7 THEN 'Infinity' ELSE (o * 37 % 1000) / 7.0 END,
           timestamptz '2026-03-01 00:00:00+00' + (o * 97 % 600) * interval '1 hour 3 minutes',
           CASE WHEN o % 6 = 0 THEN NULL ELSE o % 4 < 2 END,
           CASE WHEN o % 4 = 0 THEN NULL
                WHEN o = 19 THEN (ARRAY['NULL', 'a,b', '{x}', 'q"uote', 'back\slash', ' ', 'it''s', '(1,2)'])[t % 8 + 1]
                ELSE (ARRAY['alpha', 'Alpha', 'ÄBC', 'abc', 'Zeta', 'éclair', 'eclair', 'b'])[o % 8 + 1] || ' ' || o % 3 END
      FROM generate_series(1, 16) t, generate_series(1, 20) o
     WHERE (t * 7 + o) % 3 <> 0;

    INSERT INTO fz_local.items
    SELECT o.tenant_id, o.order_id, k,
           CASE WHEN k = 3 THEN NULL ELSE (o.order_id * 7 + k * 3) % 45 END,
           (o.order_id + k) % 4,
           CASE WHEN (o.order_id + k) % 7 = 0 THEN NULL ELSE round((o.order_id * k) / 3.0, 4) END,
           CASE WHEN k = 2 THEN NULL ELSE (ARRAY['red', 'Red', 'blue', 'green'])[(o.order_id + k) % 4 + 1] END
      FROM fz_local.orders o, generate_series(1, 3) k
     WHERE (o.order_id + k + o.tenant_id) % 4 <> 0;

    INSERT INTO fz_local.products
    SELECT s, CASE WHEN s % 9 = 0 THEN NULL WHEN s % 8 = 1 THEN (ARRAY['NULL', 'a,b', '{x}', 'q"uote', 'back\slash', ' spaced ', '', 'it''s'])[s / 8 + 1]
                   ELSE (ARRAY['widget', 'Widget', 'gadget', 'Ölkanne', 'zap'])[s % 5 + 1] || s END,
           CASE WHEN s % 7 = 0 THEN NULL ELSE s % 6 END,
           CASE WHEN s % 5 = 0 THEN NULL ELSE s * 0.7 END,
           round(s * 1.25 / 3, 8)
      FROM generate_series(1, 40) s;

    INSERT INTO fz_local.codes
    SELECT c, 'code ' || c, c % 3, CASE WHEN c = 4 THEN NULL ELSE c / 4.0 END
      FROM generate_series(0, 7) c;

    -- the distributed copy: tenants and products loaded before distribution
    -- (rows moved to the shards), the rest inserted afterwards
    INSERT INTO fz_dist.tenants SELECT * FROM fz_local.tenants;
    INSERT INTO fz_dist.products SELECT * FROM fz_local.products;
    PERFORM create_distributed_table('fz_dist.tenants', 'tenant_id', shard_count => shards);
    PERFORM create_distributed_table('fz_dist.orders', 'tenant_id', colocate_with => 'fz_dist.tenants');
    PERFORM create_distributed_table('fz_dist.items', 'tenant_id', colocate_with => 'fz_dist.tenants');
    PERFORM create_distributed_table('fz_dist.products', 'sku', shard_count => 3, colocate_with => 'none');
    PERFORM create_reference_table('fz_dist.codes');
    INSERT INTO fz_dist.orders SELECT * FROM fz_local.orders;
    INSERT INTO fz_dist.items SELECT * FROM fz_local.items;
    INSERT INTO fz_dist.codes SELECT * FROM fz_local.codes;
END
$fn$;

--
-- Random choices (random() after setseed(): the same sequence every run)
--
CREATE FUNCTION fz.ri(n int) RETURNS int LANGUAGE sql AS $$ SELECT floor(random() * n)::int $$;
CREATE FUNCTION fz.pick(a text[]) RETURNS text LANGUAGE sql AS $$ SELECT a[1 + floor(random() * cardinality(a))::int] $$;
CREATE FUNCTION fz.chance(p float8) RETURNS boolean LANGUAGE sql AS $$ SELECT random() < p $$;

-- the columns of each alias: name and type class (key int num float text ts bool)
CREATE TABLE fz.cols (alias text, col text, typ text, ord int);
INSERT INTO fz.cols (alias, col, typ, ord) VALUES
  ('t', 'tenant_id', 'key', 1), ('t', 'name', 'text', 2), ('t', 'tier', 'int', 3), ('t', 'score', 'num', 4),
  ('t', 'rating', 'float', 5), ('t', 'created', 'ts', 6), ('t', 'active', 'bool', 7),
  ('o', 'tenant_id', 'key', 1), ('o', 'order_id', 'int', 2), ('o', 'status', 'text', 3), ('o', 'status_code', 'int', 4),
  ('o', 'amount', 'num', 5), ('o', 'qty', 'int', 6), ('o', 'price', 'float', 7), ('o', 'placed_at', 'ts', 8),
  ('o', 'flag', 'bool', 9), ('o', 'note', 'text', 10),
  ('i', 'tenant_id', 'key', 1), ('i', 'order_id', 'int', 2), ('i', 'item_id', 'int', 3), ('i', 'sku', 'int', 4),
  ('i', 'qty', 'int', 5), ('i', 'unit', 'num', 6), ('i', 'tag', 'text', 7),
  ('p', 'sku', 'int', 1), ('p', 'pname', 'text', 2), ('p', 'cat', 'int', 3), ('p', 'weight', 'float', 4),
  ('p', 'pprice', 'num', 5),
  ('r', 'code', 'int', 1), ('r', 'label', 'text', 2), ('r', 'grp', 'int', 3), ('r', 'w', 'float', 4),
  ('ia', 'tenant_id', 'key', 1), ('ia', 'order_id', 'int', 2), ('ia', 'qty', 'int', 3);

-- FROM clauses: the text, its aliases, the distribution column to filter on
CREATE TABLE fz.froms (n int, f text, aliases text[], keycol text);
INSERT INTO fz.froms VALUES
  (1, 'orders o', '{o}', 'o.tenant_id'),
  (2, 'tenants t', '{t}', 't.tenant_id'),
  (3, 'items i', '{i}', 'i.tenant_id'),
  (4, 'orders o JOIN items i ON i.tenant_id = o.tenant_id AND i.order_id = o.order_id', '{o,i}', 'o.tenant_id'),
  (5, 'orders o LEFT JOIN items i ON i.tenant_id = o.tenant_id AND i.order_id = o.order_id', '{o,i}', 'o.tenant_id'),
  (6, 'tenants t JOIN orders o ON o.tenant_id = t.tenant_id', '{t,o}', 't.tenant_id'),
  (7, 'tenants t LEFT JOIN orders o ON o.tenant_id = t.tenant_id', '{t,o}', 't.tenant_id'),
  (8, 'orders o JOIN codes r ON r.code = o.status_code', '{o,r}', 'o.tenant_id'),
  (9, 'orders o LEFT JOIN codes r ON r.code = o.status_code', '{o,r}', 'o.tenant_id'),
  (10, 'items i JOIN products p ON p.sku = i.sku', '{i,p}', 'i.tenant_id'),
  (11, 'codes r', '{r}', NULL),
  (12, 'products p', '{p}', NULL),
  (13, 'tenants t JOIN orders o ON o.tenant_id = t.tenant_id JOIN items i ON i.tenant_id = o.tenant_id AND i.order_id = o.order_id', '{t,o,i}', 'o.tenant_id'),
  (14, 'orders o JOIN items i ON i.tenant_id = o.tenant_id', '{o,i}', 'i.tenant_id'),
  (15, 'items i JOIN products p ON p.sku = i.sku JOIN codes r ON r.code = p.cat', '{i,p,r}', 'i.tenant_id'),
  (16, 'orders o RIGHT JOIN tenants t ON t.tenant_id = o.tenant_id', '{o,t}', 't.tenant_id'),
  (17, 'orders o FULL JOIN tenants t ON t.tenant_id = o.tenant_id', '{o,t}', 'o.tenant_id'),
  (18, 'items i JOIN orders o ON o.tenant_id = i.tenant_id AND o.order_id = i.order_id LEFT JOIN codes r ON r.code = o.status_code', '{i,o,r}', 'i.tenant_id'),
  (19, 'orders o JOIN products p ON p.sku = o.order_id', '{o,p}', 'o.tenant_id'),
  (20, 'tenants t JOIN orders o USING (tenant_id)', '{t,o}', 'tenant_id'),
  (21, '(SELECT * FROM orders WHERE qty IS NOT NULL) o JOIN tenants t ON t.tenant_id = o.tenant_id', '{o,t}', 'o.tenant_id'),
  (22, 'tenants t JOIN (SELECT tenant_id, order_id, count(*) AS qty FROM items GROUP BY tenant_id, order_id) ia ON ia.tenant_id = t.tenant_id', '{t,ia}', 't.tenant_id'),
  (23, 'orders o JOIN LATERAL (SELECT * FROM items i2 WHERE i2.tenant_id = o.tenant_id AND i2.order_id = o.order_id LIMIT 2) i ON true', '{o,i}', 'o.tenant_id'),
  (24, '(SELECT * FROM orders ORDER BY tenant_id, order_id LIMIT 50) o', '{o}', 'o.tenant_id'),
  (25, 'orders o JOIN products p ON p.sku = o.tenant_id', '{o,p}', 'o.tenant_id'),
  (26, 'tenants t LEFT JOIN items i ON i.tenant_id = t.tenant_id AND i.qty > 1 LEFT JOIN codes r ON r.code = i.qty', '{t,i,r}', 't.tenant_id'),
  -- a reference table preserved by an outer join (aggregated: see select_query)
  (27, 'codes r LEFT JOIN orders o ON o.status_code = r.code', '{r,o}', NULL),
  (28, 'items i RIGHT JOIN codes r ON r.code = i.qty AND i.tenant_id < 9', '{i,r}', NULL),
  (29, 'codes r LEFT JOIN tenants t ON t.tenant_id = r.code', '{r,t}', NULL);

-- a random column of the aliases (of type class typ, or any when NULL)
CREATE FUNCTION fz.col(aliases text[], want text DEFAULT NULL, OUT expr text, OUT t text)
LANGUAGE plpgsql AS $$
DECLARE
    a text[];
    b text[];
    k int;
BEGIN
    SELECT array_agg(c.alias || '.' || c.col ORDER BY c.alias, c.ord), array_agg(c.typ ORDER BY c.alias, c.ord) INTO a, b
      FROM fz.cols c
     WHERE c.alias = ANY (aliases) AND (want IS NULL OR c.typ = want OR (want = 'int' AND c.typ = 'key'));
    IF a IS NULL THEN
        RETURN;
    END IF;
    k := 1 + fz.ri(cardinality(a));
    expr := a[k];
    t := b[k];
END
$$;

-- a literal of type class typ
CREATE FUNCTION fz.lit(typ text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE typ
        WHEN 'key' THEN (1 + fz.ri(17))::text
        WHEN 'int' THEN (fz.ri(25) - 2)::text
        WHEN 'num' THEN (fz.ri(40000) / 7.0)::numeric(20,6)::text
        WHEN 'float' THEN (fz.ri(300) / 4.0)::text
        WHEN 'text' THEN quote_literal(fz.pick(ARRAY['alpha', 'Alpha', 'ÄBC', 'abc', 'b', 'm', 'Zeta', 'zeta 1', 'éclair',
                                                   'eclair 2', '', 'x y', 'paid', 'Paid', 'red', 'widget7', 'code 3']))
        WHEN 'ts' THEN quote_literal((timestamptz '2026-03-01 00:00:00+00' + fz.ri(800) * interval '47 minutes')::text) || '::timestamptz'
        WHEN 'bool' THEN fz.pick(ARRAY['true', 'false'])
        ELSE 'NULL' END;
END
$$;

-- a predicate over one column
CREATE FUNCTION fz.pred1(aliases text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c record := fz.col(aliases);
    e text := c.expr;
BEGIN
    IF fz.chance(0.1) THEN
        RETURN e || fz.pick(ARRAY[' IS NULL', ' IS NOT NULL']);
    END IF;
    IF fz.chance(0.03) THEN
        -- a whole row (NULL, or all of its columns NULL / not NULL)
        RETURN fz.pick(ARRAY['', 'NOT ']) || aliases[1 + fz.ri(cardinality(aliases))]
               || fz.pick(ARRAY['.* IS NULL', '.* IS NOT NULL', '.* IS DISTINCT FROM NULL']);
    END IF;
    CASE c.t
    WHEN 'key', 'int' THEN
        RETURN CASE fz.ri(7)
            WHEN 0 THEN e || ' = ' || fz.lit(c.t)
            WHEN 1 THEN e || ' IN (' || fz.lit(c.t) || ', ' || fz.lit(c.t) || ', ' || fz.lit(c.t) || ')'
            WHEN 2 THEN e || ' = ANY (''{' || fz.lit(c.t) || ',' || fz.lit(c.t) || '}''::int[])'
            WHEN 3 THEN e || ' BETWEEN ' || fz.lit(c.t) || ' AND ' || fz.lit(c.t)
            WHEN 4 THEN '(' || e || ' = ' || fz.lit(c.t) || ' OR ' || e || ' > ' || fz.lit(c.t) || ')'
            WHEN 5 THEN e || ' % 3 = ' || fz.ri(3)
            ELSE e || ' <> ' || fz.lit(c.t) END;
    WHEN 'num', 'float' THEN
        RETURN e || fz.pick(ARRAY[' < ', ' > ', ' >= ']) || fz.lit(c.t);
    WHEN 'text' THEN
        RETURN CASE fz.ri(7)
            WHEN 0 THEN e || ' = ' || fz.lit(c.t)
            WHEN 1 THEN e || ' < ' || fz.lit(c.t)
            WHEN 2 THEN e || ' LIKE ' || quote_literal(fz.pick(ARRAY['a%', '%a%', 'A%', '_e%', 'Z%', '%1']))
            WHEN 3 THEN 'lower(' || e || ') = ' || fz.lit(c.t)
            WHEN 4 THEN e || ' COLLATE "C" > ' || fz.lit(c.t)
            WHEN 5 THEN e || ' ILIKE ' || quote_literal(fz.pick(ARRAY['a%', '%É%', 'z%']))
            ELSE e || ' IN (' || fz.lit(c.t) || ', ' || fz.lit(c.t) || ')' END;
    WHEN 'ts' THEN
        RETURN CASE fz.ri(6)
            WHEN 4 THEN e || ' < now()'
            WHEN 5 THEN e || ' > now() - interval ''3000 days'' - ' || fz.ri(9) || ' * interval ''1 hour'''
            WHEN 0 THEN e || ' >= ' || fz.lit(c.t)
            WHEN 1 THEN 'date_trunc(''day'', ' || e || ') = date_trunc(''day'', ' || fz.lit(c.t) || ')'
            WHEN 2 THEN 'extract(hour from ' || e || ') < ' || fz.ri(24)
            ELSE e || '::date = ' || fz.lit(c.t) || '::date' END;
    WHEN 'bool' THEN
        RETURN fz.pick(ARRAY[e, 'NOT ' || e, e || ' IS NOT TRUE', e || ' IS FALSE']);
    END CASE;
    RETURN 'true';
END
$$;

-- a predicate on the distribution column
CREATE FUNCTION fz.keypred(keycol text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    IF fz.chance(0.25) THEN
        -- other types and NULLs around the distribution column
        RETURN CASE fz.ri(10)
            WHEN 0 THEN keycol || ' = ' || fz.lit('key') || '::bigint'
            WHEN 1 THEN keycol || ' = ' || fz.lit('key') || '::smallint'
            WHEN 2 THEN keycol || ' = ' || fz.lit('key') || '.0'
            WHEN 3 THEN keycol || ' = ''' || fz.lit('key') || ''''
            WHEN 4 THEN keycol || '::bigint = ' || fz.lit('key')
            WHEN 5 THEN keycol || ' IN (' || fz.lit('key') || ', NULL)'
            WHEN 6 THEN keycol || ' = ANY (''{' || fz.lit('key') || ',NULL}''::int[])'
            WHEN 7 THEN '(' || keycol || ' = ' || fz.lit('key') || ' OR ' || keycol || ' IS NULL)'
            WHEN 8 THEN keycol || ' = ANY (ARRAY[' || fz.lit('key') || ', ' || fz.lit('key') || ']::bigint[])'
            ELSE keycol || ' NOT IN (' || fz.lit('key') || ', ' || fz.lit('key') || ')' END;
    END IF;
    RETURN CASE fz.ri(7)
        WHEN 0 THEN keycol || ' = ' || fz.lit('key')
        WHEN 1 THEN keycol || ' IN (' || fz.lit('key') || ', ' || fz.lit('key') || ')'
        WHEN 2 THEN keycol || ' = ANY (ARRAY[' || fz.lit('key') || ', ' || fz.lit('key') || ', ' || fz.lit('key') || '])'
        WHEN 3 THEN keycol || ' BETWEEN ' || fz.lit('key') || ' AND ' || fz.lit('key')
        WHEN 4 THEN '(' || keycol || ' = ' || fz.lit('key') || ' OR ' || keycol || ' = ' || fz.lit('key') || ')'
        WHEN 5 THEN keycol || ' = ' || fz.lit('key') || ' AND ' || keycol || ' IS NOT NULL'
        ELSE keycol || ' < ' || fz.lit('key') END;
END
$$;

-- a subquery predicate (IN / EXISTS / NOT IN / scalar)
CREATE FUNCTION fz.subpred(aliases text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    a text := aliases[1 + fz.ri(cardinality(aliases))];
BEGIN
    IF a IN ('o', 'i', 't') THEN
        RETURN CASE fz.ri(9)
            WHEN 0 THEN a || '.tenant_id IN (SELECT tenant_id FROM tenants t WHERE ' || fz.pred1('{t}') || ')'
            WHEN 1 THEN 'EXISTS (SELECT 1 FROM items i2 WHERE i2.tenant_id = ' || a || '.tenant_id AND ' || replace(fz.pred1('{i}'), 'i.', 'i2.') || ')'
            WHEN 2 THEN 'NOT EXISTS (SELECT 1 FROM orders o2 WHERE o2.tenant_id = ' || a || '.tenant_id AND ' || replace(fz.pred1('{o}'), 'o.', 'o2.') || ')'
            WHEN 3 THEN a || '.tenant_id NOT IN (SELECT o3.tenant_id FROM orders o3 WHERE ' || replace(fz.pred1('{o}'), 'o.', 'o3.') || ')'
            WHEN 4 THEN a || '.tenant_id IN (SELECT code FROM codes r WHERE ' || fz.pred1('{r}') || ')'
            WHEN 5 THEN a || '.tenant_id IN (SELECT cat FROM products p2 WHERE ' || replace(fz.pred1('{p}'), 'p.', 'p2.') || ')'
            WHEN 6 THEN '(SELECT count(*) FROM orders o4 WHERE o4.tenant_id = ' || a || '.tenant_id) > ' || fz.ri(20)
            WHEN 7 THEN 'EXISTS (SELECT 1 FROM codes r3 WHERE r3.code = ' || fz.ri(9) || ')'
            ELSE a || '.tenant_id > (SELECT min(tier) FROM tenants)' END;
    END IF;
    RETURN CASE fz.ri(3)
        WHEN 0 THEN (fz.col(ARRAY[a], 'int')).expr || ' IN (SELECT qty FROM orders o WHERE ' || fz.pred1('{o}') || ')'
        WHEN 1 THEN 'EXISTS (SELECT 1 FROM codes r2 WHERE r2.grp = ' || (fz.col(ARRAY[a], 'int')).expr || ')'
        ELSE (fz.col(ARRAY[a], 'int')).expr || ' NOT IN (SELECT status_code FROM orders WHERE ' || fz.keypred('tenant_id') || ')' END;
END
$$;

-- a WHERE clause (may be empty)
CREATE FUNCTION fz.where_clause(aliases text[], keycol text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    conj text[] := '{}';
    n int := fz.ri(3);
BEGIN
    IF keycol IS NOT NULL AND fz.chance(0.55) THEN
        conj := conj || fz.keypred(keycol);
    END IF;
    FOR k IN 1 .. n LOOP
        IF fz.chance(0.2) THEN
            conj := conj || ('(' || fz.pred1(aliases) || ' OR ' || fz.pred1(aliases) || ')');
        ELSE
            conj := conj || fz.pred1(aliases);
        END IF;
    END LOOP;
    IF fz.chance(0.15) THEN
        conj := conj || fz.subpred(aliases);
    END IF;
    IF cardinality(conj) = 0 THEN
        RETURN '';
    END IF;
    RETURN ' WHERE ' || array_to_string(conj, ' AND ');
END
$$;

-- an output expression over a column (plain rows)
CREATE FUNCTION fz.outexpr(aliases text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c record := fz.col(aliases);
    e text := c.expr;
BEGIN
    IF fz.chance(0.55) THEN
        RETURN e;
    END IF;
    CASE c.t
    WHEN 'key', 'int' THEN
        RETURN fz.pick(ARRAY['coalesce(' || e || ', -1)', e || ' * 3 - 1', 'nullif(' || e || ', 1)',
                             e || '::numeric / 7', 'CASE WHEN ' || e || ' > 3 THEN ''big'' WHEN ' || e || ' IS NULL THEN ''none'' ELSE ''small'' END',
                             e || '::text']);
    WHEN 'num' THEN
        RETURN fz.pick(ARRAY[e || ' * 2', 'round(' || e || ', 2)', 'coalesce(' || e || ', 0)', e || '::float8 > 100', '-' || e]);
    WHEN 'float' THEN
        RETURN fz.pick(ARRAY[e || ' * 2', 'round(' || e || '::numeric, 3)', 'coalesce(' || e || ', -0.5)', 'floor(' || e || ')']);
    WHEN 'text' THEN
        RETURN fz.pick(ARRAY['upper(' || e || ')', e || ' || ''-''', 'coalesce(' || e || ', ''?'')', 'length(' || e || ')',
                             'substr(' || e || ', 2)', e || ' < ''m''']);
    WHEN 'ts' THEN
        RETURN fz.pick(ARRAY['date_trunc(''day'', ' || e || ')', 'date_trunc(''hour'', ' || e || ', ''Asia/Kathmandu'')',
                             e || ' AT TIME ZONE ''America/New_York''', 'to_char(' || e || ', ''YYYY-MM-DD HH24:MI TZ'')',
                             e || '::date', 'extract(epoch from ' || e || ')', e || ' + interval ''1 day''',
                             e || '::text']);
    WHEN 'bool' THEN
        RETURN fz.pick(ARRAY['coalesce(' || e || ', false)', 'NOT ' || e, e || '::int']);
    END CASE;
    RETURN e;
END
$$;

-- an aggregate (floats rounded)
CREATE FUNCTION fz.agg(aliases text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c record := fz.col(aliases);
    e text := c.expr;
    a text;
    filt text := '';
BEGIN
    IF fz.chance(0.15) THEN
        filt := ' FILTER (WHERE ' || fz.pred1(aliases) || ')';
    END IF;
    IF fz.chance(0.15) THEN
        RETURN 'count(*)' || filt;
    END IF;
    IF fz.chance(0.08) THEN
        -- a whole row: NULL only on the nullable side of an outer join
        RETURN 'count(' || aliases[1 + fz.ri(cardinality(aliases))] || '.*)' || filt;
    END IF;
    CASE c.t
    WHEN 'key', 'int' THEN
        a := fz.pick(ARRAY['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'stddev', 'variance', 'sum_distinct', 'bit_or']);
    WHEN 'num' THEN
        a := fz.pick(ARRAY['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'stddev', 'variance', 'stddev_pop']);
    WHEN 'float' THEN
        a := fz.pick(ARRAY['count', 'count_distinct', 'fsum', 'favg', 'min', 'max', 'fstddev', 'fvariance']);
    WHEN 'text' THEN
        a := fz.pick(ARRAY['count', 'count_distinct', 'min', 'max', 'string_agg']);
    WHEN 'ts' THEN
        a := fz.pick(ARRAY['count', 'count_distinct', 'min', 'max']);
    WHEN 'bool' THEN
        a := fz.pick(ARRAY['count', 'bool_and', 'bool_or', 'count_distinct']);
    END CASE;
    IF c.t IN ('int', 'key', 'num') AND a IN ('sum', 'avg', 'min', 'max', 'count') AND fz.chance(0.25) THEN
        e := fz.pick(ARRAY[e || ' * 2', 'coalesce(' || e || ', 0)', 'CASE WHEN ' || e || ' > 2 THEN ' || e || ' END', e || ' + ' || e]);
    END IF;
    RETURN CASE a
        WHEN 'count_distinct' THEN 'count(DISTINCT ' || e || ')'
        WHEN 'sum_distinct' THEN 'sum(DISTINCT ' || e || ')'
        WHEN 'fsum' THEN 'round(sum(' || e || ')' || filt || '::numeric, 4)'
        WHEN 'favg' THEN 'round(avg(' || e || ')' || filt || '::numeric, 4)'
        WHEN 'fstddev' THEN 'round(stddev(' || e || ')' || filt || '::numeric, 4)'
        WHEN 'fvariance' THEN 'round(variance(' || e || ')' || filt || '::numeric, 4)'
        WHEN 'string_agg' THEN 'string_agg(' || e || ', '','' ORDER BY ' || e || ')'
        ELSE a || '(' || e || ')' || filt END;
END
$$;

-- ORDER BY over the n output columns (a total order of the output rows)
CREATE FUNCTION fz.order_all(n int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    parts text[] := '{}';
BEGIN
    FOR k IN 1 .. n LOOP
        parts := parts || (k || fz.pick(ARRAY['', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST']));
    END LOOP;
    RETURN ' ORDER BY ' || array_to_string(parts, ', ');
END
$$;

CREATE FUNCTION fz.limit_clause() RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    IF fz.chance(0.6) THEN
        RETURN ' LIMIT ' || fz.pick(ARRAY[(1 + fz.ri(12))::text, (1 + fz.ri(12))::text, (1 + fz.ri(12))::text, '0', 'ALL', 'NULL', '1000'])
               || CASE WHEN fz.chance(0.4) THEN ' OFFSET ' || fz.pick(ARRAY[fz.ri(6)::text, fz.ri(6)::text, '0', '500']) ELSE '' END;
    END IF;
    RETURN '';
END
$$;

-- a set operation of two or three branches over co-located FROM clauses,
-- each returning ncols (1 or 2) int columns named k [, v]: mostly the
-- distribution column first, sometimes after the other column, cast, or
-- absent (UNION ALL runs on the workers anyway, the other operations only
-- with the key in the same column of every branch)
CREATE FUNCTION fz.setop_text(ncols int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    q text := '';
    cols text[];
    kexpr text;
    vexpr text;
    shape text;
BEGIN
    FOR b IN 1 .. 2 + CASE WHEN fz.chance(0.25) THEN 1 ELSE 0 END LOOP
        SELECT * INTO f FROM fz.froms WHERE keycol IS NOT NULL
         ORDER BY n OFFSET fz.ri((SELECT count(*)::int FROM fz.froms WHERE keycol IS NOT NULL)) LIMIT 1;
        shape := fz.pick(ARRAY['key', 'key', 'key', 'key', 'key', 'key', 'swap', 'cast', 'nokey']);
        kexpr := CASE shape WHEN 'cast' THEN f.keycol || '::bigint'
                            WHEN 'nokey' THEN (fz.col(f.aliases, 'int')).expr
                            ELSE f.keycol END;
        vexpr := (fz.col(f.aliases, 'int')).expr;
        cols := CASE WHEN ncols = 1 THEN ARRAY[kexpr]
                     WHEN shape = 'swap' THEN ARRAY[vexpr, kexpr]
                     ELSE ARRAY[kexpr, vexpr] END;
        IF b = 1 THEN
            cols[1] := cols[1] || ' AS k';
            IF ncols = 2 THEN
                cols[2] := cols[2] || ' AS v';
            END IF;
        ELSE
            q := q || fz.pick(ARRAY[' UNION ', ' UNION ALL ', ' UNION ALL ', ' INTERSECT ', ' INTERSECT ALL ',
                                    ' EXCEPT ', ' EXCEPT ALL ']);
        END IF;
        q := q || 'SELECT ' || array_to_string(cols, ', ') || ' FROM ' || f.f || fz.where_clause(f.aliases, f.keycol);
    END LOOP;
    RETURN q;
END
$$;

-- a plain table of the coordinator (the same under both search paths): a
-- local branch of a set operation
CREATE TABLE fz.lk (k int, v int);
INSERT INTO fz.lk VALUES (1, 3), (2, NULL), (3, 0), (5, 5), (5, 5), (11, 2), (16, NULL), (NULL, 1);

-- one branch of a set operation returning two columns k, v (int, bigint or
-- numeric of scale 0: equal values of another scale would show as either
-- one): grouped by the distribution column or another one, aggregated
-- without GROUP BY, with HAVING, DISTINCT, ORDER BY / LIMIT (in
-- parentheses), a plain scan, a reference table, the table of another
-- co-location group or a local table / function / VALUES
CREATE FUNCTION fz.setagg_branch(first boolean, aligned boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    w text;
    ic text;
    ic2 text;
    av text;
    av2 text;
    hv text := '';
    -- aligned: mostly shapes that return the key first, one shard's rows
    how int := CASE WHEN aligned AND fz.chance(0.85) THEN (ARRAY[0, 1, 4, 8, 9])[1 + fz.ri(5)] ELSE fz.ri(14) END;
BEGIN
    SELECT * INTO f FROM fz.froms WHERE keycol IS NOT NULL
     ORDER BY n OFFSET fz.ri((SELECT count(*)::int FROM fz.froms WHERE keycol IS NOT NULL)) LIMIT 1;
    w := fz.where_clause(f.aliases, f.keycol);
    ic := (fz.col(f.aliases, 'int')).expr;
    ic2 := (fz.col(f.aliases, 'int')).expr;
    av := fz.pick(ARRAY['count(*)', 'count(DISTINCT ' || ic2 || ')', 'sum(' || ic2 || ')', 'min(' || ic2 || ')',
                        'max(' || ic2 || ')', 'round(avg(' || ic2 || '))', 'count(' || ic2 || ')']);
    av2 := fz.pick(ARRAY['count(*)', 'sum(' || ic || ')', 'max(' || ic2 || ')', 'count(DISTINCT ' || f.keycol || ')']);
    IF fz.chance(0.3) THEN
        hv := ' HAVING ' || fz.pick(ARRAY['count(*) > ' || fz.ri(4), 'min(' || ic2 || ') < ' || fz.ri(8),
                                          'sum(' || ic2 || ') IS NOT NULL', 'count(DISTINCT ' || ic2 || ') > 1']);
    END IF;
    RETURN CASE how
        WHEN 0 THEN 'SELECT ' || f.keycol || ' AS k, ' || av || ' AS v FROM ' || f.f || w || ' GROUP BY ' || f.keycol || hv
        WHEN 1 THEN 'SELECT ' || f.keycol || ' AS k, ' || av || ' AS v FROM ' || f.f || w || ' GROUP BY ' || f.keycol || hv
        WHEN 2 THEN 'SELECT ' || ic || ' AS k, ' || av || ' AS v FROM ' || f.f || w || ' GROUP BY ' || ic || hv
        WHEN 3 THEN 'SELECT ' || av2 || ' AS k, ' || av || ' AS v FROM ' || f.f || w
                    || CASE WHEN fz.chance(0.3) THEN ' HAVING count(*) > ' || fz.ri(30) ELSE '' END
        WHEN 4 THEN 'SELECT DISTINCT ' || f.keycol || ' AS k, ' || ic || ' AS v FROM ' || f.f || w
        WHEN 5 THEN 'SELECT DISTINCT ' || ic || ' AS k, ' || ic2 || ' AS v FROM ' || f.f || w
        WHEN 6 THEN '(SELECT ' || f.keycol || ' AS k, ' || ic || ' AS v FROM ' || f.f || w || fz.order_all(2) || fz.limit_clause() || ')'
        WHEN 7 THEN '(SELECT ' || f.keycol || ' AS k, ' || av || ' AS v FROM ' || f.f || w || ' GROUP BY ' || f.keycol || hv
                    || fz.order_all(2) || fz.limit_clause() || ')'
        WHEN 8 THEN 'SELECT ' || f.keycol || ' AS k, ' || ic || ' AS v FROM ' || f.f || w
        WHEN 9 THEN 'SELECT ' || f.keycol || ' AS k, ' || ic || ' AS v FROM ' || f.f || w
        WHEN 10 THEN fz.pick(ARRAY['SELECT r.code AS k, r.grp AS v FROM codes r' || fz.where_clause('{r}', NULL),
                                   'SELECT r.grp AS k, count(*) AS v FROM codes r' || fz.where_clause('{r}', NULL) || ' GROUP BY r.grp',
                                   '(SELECT r.code AS k, r.grp AS v FROM codes r ORDER BY 1 DESC, 2 LIMIT ' || (1 + fz.ri(5)) || ')'])
        WHEN 11 THEN fz.pick(ARRAY['SELECT p.sku AS k, p.cat AS v FROM products p' || fz.where_clause('{p}', NULL),
                                   'SELECT p.cat AS k, count(*) AS v FROM products p' || fz.where_clause('{p}', NULL) || ' GROUP BY p.cat'])
        ELSE fz.pick(ARRAY['SELECT lk.k, lk.v FROM lk', 'SELECT lk.k, count(*) AS v FROM lk GROUP BY lk.k',
                           'SELECT g AS k, g % 3 AS v FROM generate_series(1, ' || (2 + fz.ri(8)) || ') g',
                           -- (a VALUES list names its columns column1, column2)
                           CASE WHEN first THEN 'SELECT x.k, x.v FROM (VALUES (1, 2), (3, NULL), (' || fz.lit('key') || ', 5)) x(k, v)'
                                ELSE 'VALUES (1, 2), (3, NULL), (' || fz.lit('key') || ', 5)' END]) END;
END
$$;

-- a set operation of two or three such branches (the first one named k, v;
-- half of the time mostly branches the workers could run whole)
CREATE FUNCTION fz.setagg_setop() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    aligned boolean := fz.chance(0.5);
    q text;
BEGIN
    q := fz.setagg_branch(true, aligned);
    FOR b IN 2 .. 2 + CASE WHEN fz.chance(0.25) THEN 1 ELSE 0 END LOOP
        q := q || fz.pick(ARRAY[' UNION ', ' UNION ', ' UNION ALL ', ' UNION ALL ', ' INTERSECT ', ' INTERSECT ALL ',
                                ' EXCEPT ', ' EXCEPT ALL ']);
        IF b = 2 AND fz.chance(0.15) THEN
            -- a nested set operation as the second branch
            q := q || '(' || fz.setagg_branch(false, aligned)
                 || fz.pick(ARRAY[' UNION ', ' UNION ALL ', ' INTERSECT ', ' EXCEPT ', ' EXCEPT ALL '])
                 || fz.setagg_branch(false, aligned) || ')';
        ELSE
            q := q || fz.setagg_branch(false, aligned);
        END IF;
    END LOOP;
    RETURN q;
END
$$;

-- such a set operation alone, sorted and limited, in FROM or a CTE that is
-- aggregated, grouped, joined (also with another set operation, the table
-- of another co-location group, itself) or filtered, in key IN (...),
-- EXISTS (...) or a scalar subquery correlated on the key, in x [NOT] IN
-- (...); returns its text and whether its order is total
CREATE FUNCTION fz.setagg_query(OUT q text, OUT ordered boolean)
LANGUAGE plpgsql AS $$
DECLARE
    how int := fz.ri(17);
    cte boolean := fz.chance(0.4);
    src text;
BEGIN
    q := fz.setagg_setop();
    ordered := false;
    IF how <= 1 THEN
        IF how = 1 THEN
            q := q || fz.order_all(2) || fz.limit_clause();
            ordered := true;
        END IF;
        RETURN;
    END IF;
    -- s: the set operation in FROM or as a CTE
    IF cte OR how = 15 THEN
        src := 's';
        q := 'WITH s AS ' || CASE WHEN fz.chance(0.3) THEN 'MATERIALIZED ' ELSE '' END || '(' || q || ') ';
    ELSE
        src := '(' || q || ') s';
        q := '';
    END IF;
    q := q || CASE how
        WHEN 2 THEN 'SELECT count(*), count(DISTINCT s.k), sum(s.v), max(s.k) FROM ' || src
        WHEN 3 THEN 'SELECT s.k, count(*), sum(s.v) FROM ' || src || ' GROUP BY s.k'
                    || CASE WHEN fz.chance(0.3) THEN ' HAVING count(*) > 1' ELSE '' END
        WHEN 4 THEN 'SELECT t.tenant_id, t.tier, s.v FROM tenants t ' || fz.pick(ARRAY['JOIN', 'LEFT JOIN'])
                    || ' ' || src || ' ON s.k = t.tenant_id'
        WHEN 5 THEN 'SELECT t.tier, count(*), sum(s.v), count(s.k) FROM tenants t ' || fz.pick(ARRAY['JOIN', 'LEFT JOIN'])
                    || ' ' || src || ' ON s.k = t.tenant_id GROUP BY t.tier'
        WHEN 6 THEN 'SELECT o.tenant_id, count(*), max(o.order_id) FROM orders o JOIN ' || src
                    || ' ON s.k = o.tenant_id' || fz.pick(ARRAY['', ' AND s.v = o.qty']) || ' GROUP BY o.tenant_id'
        WHEN 7 THEN 'SELECT DISTINCT s.v FROM ' || src
        WHEN 8 THEN 'SELECT o.tenant_id, o.order_id FROM orders o WHERE o.tenant_id IN (SELECT s.k FROM ' || src || ')'
                    || CASE WHEN fz.chance(0.5) THEN ' AND ' || fz.keypred('o.tenant_id') ELSE '' END
        WHEN 9 THEN 'SELECT s.k, s.v FROM ' || src || ' WHERE ' || fz.keypred('s.k')
        WHEN 11 THEN 'SELECT t.tenant_id, t.name FROM tenants t WHERE ' || fz.pick(ARRAY['', 'NOT ']) || 'EXISTS (SELECT 1 FROM '
                     || src || ' WHERE s.k = t.tenant_id' || fz.pick(ARRAY['', ' AND s.v > ' || fz.ri(5)]) || ')'
        WHEN 12 THEN 'SELECT s.k, s.v, s2.v FROM ' || src || ' JOIN (' || fz.setagg_setop() || ') s2 ON s2.k = s.k'
        WHEN 13 THEN 'SELECT p.sku, p.pname, s.v FROM products p JOIN ' || src || ' ON s.k = p.sku'
        WHEN 14 THEN 'SELECT t.tenant_id, (SELECT count(*) FROM ' || src || ' WHERE s.k = t.tenant_id) FROM tenants t'
        WHEN 15 THEN 'SELECT a.k, a.v, b.v FROM s a JOIN s b ON b.k = a.k' || fz.pick(ARRAY['', ' AND b.v <> a.v'])
        WHEN 16 THEN 'SELECT o.tenant_id, o.order_id FROM orders o WHERE o.qty ' || fz.pick(ARRAY['NOT IN', 'IN'])
                     || ' (SELECT s.v FROM ' || src || ' WHERE s.v IS NOT NULL)'
        ELSE 'SELECT s.k, s.v, r.label FROM ' || src || ' JOIN codes r ON r.code = s.v' END;
    IF how IN (3, 5) AND fz.chance(0.3) THEN
        q := q || fz.order_all(CASE how WHEN 3 THEN 3 ELSE 4 END) || fz.limit_clause();
        ordered := true;
    END IF;
END
$$;

-- one SELECT: returns the text, whether its order is total, its output width
CREATE FUNCTION fz.select_query(OUT q text, OUT ordered boolean, OUT width int)
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    shape int := fz.ri(12);
    outs text[] := '{}';
    groups text[] := '{}';
    w text;
BEGIN
    SELECT * INTO f FROM fz.froms ORDER BY n OFFSET fz.ri((SELECT count(*)::int FROM fz.froms)) LIMIT 1;
    w := fz.where_clause(f.aliases, f.keycol);
    ordered := false;
    IF shape <= 3 THEN
        -- plain rows, maybe DISTINCT, maybe ordered with LIMIT
        FOR k IN 1 .. 1 + fz.ri(4) LOOP
            outs := outs || fz.outexpr(f.aliases);
        END LOOP;
        IF fz.chance(0.1) THEN
            outs := outs || ('(SELECT count(*) FROM items i9 WHERE i9.tenant_id = ' || coalesce(f.keycol, '1') || ')');
        END IF;
        q := 'SELECT ' || CASE WHEN fz.chance(0.2) THEN 'DISTINCT ' ELSE '' END || array_to_string(outs, ', ')
             || ' FROM ' || f.f || w;
        IF fz.chance(0.5) THEN
            IF q !~ '^SELECT DISTINCT' AND fz.chance(0.3) THEN
                -- first by a column not returned, then by every output
                -- column (still a total order of the output rows)
                q := q || ' ORDER BY ' || (fz.col(f.aliases)).expr || fz.pick(ARRAY['', ' DESC', ' NULLS FIRST'])
                     || ', ' || substr(fz.order_all(cardinality(outs)), 11) || fz.limit_clause();
            ELSE
                q := q || fz.order_all(cardinality(outs)) || fz.limit_clause();
            END IF;
            ordered := true;
        END IF;
    ELSIF shape <= 6 AND f.n IN (27, 28, 29) AND fz.chance(0.7) THEN
        -- a reference table preserved by an outer join: grouped by its
        -- columns (or not grouped), aggregates of the other side, WHERE on
        -- the reference table
        DECLARE
            other text[] := array_remove(f.aliases, 'r');
        BEGIN
            w := fz.where_clause('{r}', NULL);
            IF fz.chance(0.8) THEN
                groups := groups || (fz.col('{r}')).expr;
            END IF;
            outs := groups;
            FOR k IN 1 .. 1 + fz.ri(3) LOOP
                outs := outs || fz.agg(other);
            END LOOP;
            q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w
                 || CASE WHEN cardinality(groups) > 0 THEN ' GROUP BY ' || array_to_string(groups, ', ') ELSE '' END;
            IF fz.chance(0.2) THEN
                q := q || ' HAVING ' || fz.agg(other) || ' IS NOT NULL';
            END IF;
            IF fz.chance(0.4) THEN
                q := q || fz.order_all(cardinality(outs)) || fz.limit_clause();
                ordered := true;
            END IF;
        END;
    ELSIF shape <= 6 THEN
        -- GROUP BY the distribution column or other columns
        IF f.keycol IS NOT NULL AND fz.chance(0.5) THEN
            groups := groups || f.keycol;
        END IF;
        FOR k IN 1 .. fz.ri(2) + CASE WHEN cardinality(groups) = 0 THEN 1 ELSE 0 END LOOP
            groups := groups || CASE WHEN fz.chance(0.8) THEN (fz.col(f.aliases)).expr ELSE fz.outexpr(f.aliases) END;
        END LOOP;
        outs := groups;
        FOR k IN 1 .. 1 + fz.ri(3) LOOP
            outs := outs || fz.agg(f.aliases);
        END LOOP;
        q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w
             || ' GROUP BY ' || array_to_string(groups, ', ');
        IF fz.chance(0.3) THEN
            q := q || ' HAVING ' || fz.pick(ARRAY['count(*) > ' || fz.ri(4), 'count(*) = 1',
                                                  'min(' || (fz.col(f.aliases, 'int')).expr || ') < ' || fz.ri(8),
                                                  'max(' || (fz.col(f.aliases, 'text')).expr || ') > ''b''',
                                                  'sum(' || (fz.col(f.aliases, 'num')).expr || ') > 500']);
            -- a missing column class yields NULL: drop the HAVING
            q := coalesce(q, 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w
                             || ' GROUP BY ' || array_to_string(groups, ', '));
        END IF;
        IF fz.chance(0.4) THEN
            q := q || fz.order_all(cardinality(outs)) || fz.limit_clause();
            ordered := true;
        END IF;
    ELSIF shape = 10 THEN
        -- DISTINCT aggregates of one expression (merged distinct values)
        DECLARE
            c record := fz.col(f.aliases);
            x text := CASE WHEN fz.chance(0.2) THEN fz.outexpr(f.aliases) ELSE c.expr END;
        BEGIN
            outs := outs || ('count(DISTINCT ' || x || ')');
            IF c.t IN ('int', 'key') AND x = c.expr THEN
                FOR k IN 1 .. fz.ri(3) LOOP
                    outs := outs || (fz.pick(ARRAY['sum', 'avg', 'min', 'max']) || '(DISTINCT ' || x || ')');
                END LOOP;
            END IF;
        END;
        q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w;
    ELSIF shape = 11 THEN
        -- numeric statistics, grouped by another column
        DECLARE
            g text := (fz.col(f.aliases)).expr;
        BEGIN
            outs := outs || g;
            FOR k IN 1 .. 1 + fz.ri(4) LOOP
                DECLARE
                    c record := fz.col(f.aliases, fz.pick(ARRAY['num', 'int']));
                BEGIN
                    outs := outs || (fz.pick(ARRAY['stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'avg', 'sum'])
                                     || '(' || coalesce(c.expr, '1') || ')');
                END;
            END LOOP;
            q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w || ' GROUP BY ' || g;
        END;
    ELSIF shape = 7 THEN
        -- aggregates without GROUP BY
        FOR k IN 1 .. 1 + fz.ri(4) LOOP
            outs := outs || fz.agg(f.aliases);
        END LOOP;
        q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w
             || CASE WHEN fz.chance(0.15) THEN ' HAVING count(*) > ' || fz.ri(30) ELSE '' END;
    ELSIF shape = 8 THEN
        -- DISTINCT ON one or two columns (or an expression) with an ORDER
        -- BY of every output column; sometimes with an ORDER BY shorter
        -- than the DISTINCT ON or none, returning only the DISTINCT ON
        -- columns (any row of a group may come first)
        DECLARE
            nd int := CASE WHEN fz.chance(0.25) THEN 2 ELSE 1 END;
            how int := fz.ri(8);
        BEGIN
            FOR k IN 1 .. 2 + fz.ri(3) LOOP
                outs := outs || CASE WHEN k = 1 AND fz.chance(0.2) THEN fz.outexpr(f.aliases)
                                     ELSE (fz.col(f.aliases)).expr END;
            END LOOP;
            IF how = 0 THEN
                outs := outs[1:nd];
                q := 'SELECT DISTINCT ON (' || array_to_string(outs, ', ') || ') ' || array_to_string(outs, ', ')
                     || ' FROM ' || f.f || w;
            ELSIF how = 1 AND nd = 2 THEN
                outs := outs[1:nd];
                q := 'SELECT DISTINCT ON (' || array_to_string(outs, ', ') || ') ' || array_to_string(outs, ', ')
                     || ' FROM ' || f.f || w || fz.order_all(1);
            ELSE
                DECLARE
                    ob text[] := string_to_array(substr(fz.order_all(cardinality(outs)), 11), ', ');
                BEGIN
                    IF fz.chance(0.3) THEN
                        -- the latest row of each group: a column not returned
                        -- after the DISTINCT ON ones
                        ob := ob[1:nd] || ((fz.col(f.aliases)).expr || fz.pick(ARRAY['', ' DESC', ' DESC NULLS LAST']))
                              || ob[nd + 1:];
                    END IF;
                    q := 'SELECT DISTINCT ON (' || array_to_string(outs[1:nd], ', ') || ') ' || array_to_string(outs, ', ')
                         || ' FROM ' || f.f || w || ' ORDER BY ' || array_to_string(ob, ', ');
                END;
                IF fz.chance(0.4) THEN
                    q := q || fz.limit_clause();
                END IF;
                ordered := true;
            END IF;
        END;
    ELSE
        -- window functions (tie-insensitive ones)
        FOR k IN 1 .. 1 + fz.ri(3) LOOP
            outs := outs || (fz.col(f.aliases)).expr;
        END LOOP;
        DECLARE
            part text := CASE WHEN f.keycol IS NOT NULL AND fz.chance(0.7) THEN f.keycol ELSE (fz.col(f.aliases)).expr END;
            oc text := (fz.col(f.aliases)).expr;
        BEGIN
            outs := outs || fz.pick(ARRAY[
                'rank() OVER (PARTITION BY ' || part || ' ORDER BY ' || oc || ')',
                'dense_rank() OVER (PARTITION BY ' || part || ' ORDER BY ' || oc || ' DESC)',
                'count(*) OVER (PARTITION BY ' || part || ')',
                'sum(' || (fz.col(f.aliases, 'int')).expr || ') OVER (PARTITION BY ' || part || ' ORDER BY ' || oc || ')',
                'max(' || (fz.col(f.aliases, 'int')).expr || ') OVER (PARTITION BY ' || part || ')',
                'count(*) OVER ()']);
        END;
        q := 'SELECT ' || array_to_string(outs, ', ') || ' FROM ' || f.f || w;
    END IF;
    width := cardinality(outs);
END
$$;

--
-- The generator: n statements from setseed(seed), in fz.queries
--
CREATE FUNCTION fz.generate(seed float8, n int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    s2 record;
    q text;
    kind text;
    k int := 0;
    tries int := 0;
    args text[];
    ord boolean;
BEGIN
    TRUNCATE fz.queries, fz.log;
    PERFORM setseed(seed);
    WHILE k < n AND tries < 10 * n LOOP
        tries := tries + 1;
        kind := fz.pick(ARRAY['select', 'select', 'select', 'select', 'select', 'select', 'cte', 'union',
                              'setagg', 'prepared', 'dml']);
        args := NULL;
        ord := false;
        CASE kind
        WHEN 'select' THEN
            s := fz.select_query();
            q := s.q;
            ord := s.ordered;
        WHEN 'cte' THEN
            s := fz.select_query();
            IF s.q IS NULL THEN CONTINUE; END IF;
            q := 'WITH c AS ' || CASE WHEN fz.chance(0.3) THEN 'MATERIALIZED ' ELSE '' END || '(' || s.q || ') '
                 || fz.pick(ARRAY['SELECT * FROM c',
                                  'SELECT count(*) FROM c',
                                  'SELECT c.*, t.name FROM c, tenants t WHERE t.tenant_id = ' || fz.lit('key'),
                                  'SELECT * FROM c WHERE (SELECT count(*) FROM c) > 2',
                                  'SELECT count(*), count(DISTINCT c) FROM c']);
        WHEN 'setagg' THEN
            -- set operations of aggregated / mixed branches, sometimes as
            -- the rows a DML statement reads (rolled back like the others)
            s := fz.setagg_query();
            q := s.q;
            ord := s.ordered;
            IF fz.chance(0.12) THEN
                q := fz.setagg_setop();
                q := CASE fz.ri(3)
                    WHEN 0 THEN 'UPDATE orders o SET qty = coalesce(o.qty, 0) + 1 WHERE o.tenant_id IN (SELECT s.k FROM ('
                                || q || ') s)' || CASE WHEN fz.chance(0.5) THEN ' AND ' || fz.keypred('o.tenant_id') ELSE '' END
                                || ' RETURNING o.tenant_id, o.order_id, o.qty'
                    WHEN 1 THEN 'DELETE FROM orders o USING (' || q || ') s WHERE s.k = o.tenant_id AND s.v = o.qty RETURNING o.*'
                    ELSE 'INSERT INTO orders (tenant_id, order_id, qty) SELECT s.k::int, 1000 + row_number() OVER (ORDER BY s.k, s.v), s.v::int FROM ('
                         || q || ') s WHERE s.k IS NOT NULL RETURNING *' END;
                kind := 'dml';
                ord := false;
                args := ARRAY['orders'];
            END IF;
        WHEN 'union' THEN
            IF fz.chance(0.5) THEN
                -- whole rows of two generated queries, as text
                s := fz.select_query();
                s2 := fz.select_query();
                q := '(SELECT a::text AS x FROM (' || s.q || ') a) '
                     || fz.pick(ARRAY['UNION', 'UNION ALL', 'EXCEPT', 'INTERSECT ALL'])
                     || ' (SELECT b::text FROM (' || s2.q || ') b)';
            ELSIF fz.chance(0.4) THEN
                -- a set operation of co-located scans: sorted and limited,
                -- in FROM (aggregated, grouped by its key, joined on it) or
                -- in key IN (...)
                DECLARE
                    nc int := CASE WHEN fz.chance(0.15) THEN 1 ELSE 2 END;
                    how int := fz.ri(6);
                BEGIN
                    q := fz.setop_text(nc);
                    q := CASE how
                        WHEN 0 THEN q || fz.order_all(nc) || fz.limit_clause()
                        WHEN 1 THEN 'SELECT count(*), count(DISTINCT s.k), max(s.k) FROM (' || q || ') s'
                        WHEN 2 THEN 'SELECT s.k, count(*), min(s.k) FROM (' || q || ') s GROUP BY s.k'
                        WHEN 3 THEN 'SELECT t.tenant_id, t.tier, s.k FROM tenants t ' || fz.pick(ARRAY['JOIN', 'LEFT JOIN'])
                                    || ' (' || q || ') s ON s.k = t.tenant_id'
                        WHEN 4 THEN 'SELECT o.tenant_id, o.order_id FROM orders o WHERE o.tenant_id IN (' || fz.setop_text(1) || ')'
                        ELSE q END;
                    ord := (how = 0);
                END;
            ELSE
                -- two filtered scans of the same shape
                DECLARE
                    f1 record;
                    f2 record;
                BEGIN
                    SELECT * INTO f1 FROM fz.froms WHERE keycol IS NOT NULL ORDER BY n OFFSET fz.ri(10) LIMIT 1;
                    SELECT * INTO f2 FROM fz.froms WHERE keycol IS NOT NULL ORDER BY n OFFSET fz.ri(10) LIMIT 1;
                    q := 'SELECT ' || f1.keycol || ' AS k, ' || (fz.col(f1.aliases, 'int')).expr || ' AS v FROM ' || f1.f
                         || fz.where_clause(f1.aliases, f1.keycol)
                         || fz.pick(ARRAY[' UNION ', ' UNION ALL ', ' EXCEPT ', ' INTERSECT '])
                         || 'SELECT ' || f2.keycol || ', ' || (fz.col(f2.aliases, 'int')).expr || ' FROM ' || f2.f
                         || fz.where_clause(f2.aliases, f2.keycol);
                END;
            END IF;
        WHEN 'prepared' THEN
            -- constants compared with the distribution column become
            -- parameters (a few tries for a statement that has some)
            FOR j IN 1 .. 5 LOOP
                IF fz.chance(0.2) THEN
                    s := fz.setagg_query();
                ELSE
                    s := fz.select_query();
                END IF;
                q := regexp_replace(s.q, '(tenant_id (=|<|<>) )[0-9]+(?![0-9.:])', '\1$1', 'g');
                q := regexp_replace(q, '(tenant_id = ANY )\(ARRAY\[[0-9, ]+\]\)', '\1($3)');
                q := regexp_replace(q, '(tenant_id (IN \(|= ANY \(ARRAY\[))[0-9]+(?![0-9.:])', '\1$2');
                EXIT WHEN q ~ '\$[123]';
            END LOOP;
            IF q !~ '\$[123]' THEN
                CONTINUE;
            END IF;
            ord := s.ordered;
            args := ARRAY[]::text[];
            FOR j IN 1 .. 8 LOOP
                args := args || (CASE WHEN fz.chance(0.1) THEN 'NULL' ELSE fz.lit('key') END || ', ' || fz.lit('key')
                                 || ', ''{' || fz.lit('key') || ',' || CASE WHEN fz.chance(0.2) THEN 'NULL' ELSE fz.lit('key') END || '}''');
            END LOOP;
        WHEN 'dml' THEN
            DECLARE
                which int := fz.ri(15);
                okey text := fz.keypred('o.tenant_id');
                k text := fz.lit('key');
            BEGIN
                q := CASE which
                    WHEN 0 THEN 'INSERT INTO orders AS o SELECT tenant_id, order_id + 100, status, status_code, amount, qty, price, placed_at, flag, note FROM orders o WHERE '
                                || CASE WHEN fz.chance(0.6) THEN okey ELSE fz.pred1('{o}') END || ' RETURNING *'
                    WHEN 1 THEN 'UPDATE orders o SET qty = coalesce(qty, 0) + 1, note = note || ''!'', amount = amount * 1.5 WHERE '
                                || CASE WHEN fz.chance(0.6) THEN okey || ' AND ' ELSE '' END || fz.pred1('{o}') || ' RETURNING o.*'
                    WHEN 2 THEN 'DELETE FROM items i WHERE ' || CASE WHEN fz.chance(0.6) THEN fz.keypred('i.tenant_id') || ' AND ' ELSE '' END
                                || fz.pred1('{i}') || ' RETURNING *'
                    WHEN 3 THEN 'UPDATE orders o SET status = r.label FROM codes r WHERE r.code = o.status_code AND '
                                || okey || ' RETURNING o.tenant_id, o.order_id, o.status, r.code'
                    WHEN 4 THEN 'DELETE FROM orders o WHERE ' || okey || ' AND NOT EXISTS (SELECT 1 FROM items i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.order_id) RETURNING o.tenant_id, o.order_id'
                    WHEN 5 THEN 'INSERT INTO items (tenant_id, order_id, item_id, sku, qty, unit, tag) SELECT o.tenant_id, o.order_id, 10 + coalesce(o.qty, 0), o.status_code, o.qty, round(o.qty / 3.0, 4), o.status FROM orders o WHERE '
                                || CASE WHEN fz.chance(0.5) THEN okey ELSE fz.pred1('{o}') END || ' ON CONFLICT DO NOTHING RETURNING *'
                    -- (rows of one shard: a multi-row INSERT ... ON CONFLICT over
                    -- several shards is not supported)
                    WHEN 7 THEN 'INSERT INTO orders AS o (tenant_id, order_id, qty, note) VALUES (' || k || ', ' || (2 * fz.ri(12)) || ', 5, ''v1''), ('
                                || k || ', ' || (1 + 2 * fz.ri(12)) || ', NULL, NULL) ON CONFLICT (tenant_id, order_id) DO UPDATE SET qty = coalesce(o.qty, 0) + coalesce(EXCLUDED.qty, 100), note = EXCLUDED.note RETURNING *'
                    WHEN 8 THEN 'UPDATE items i SET qty = qty * 2, tag = upper(tag) WHERE ' || fz.keypred('i.tenant_id')
                                || ' AND i.order_id IN (SELECT o.order_id FROM orders o WHERE o.tenant_id = i.tenant_id AND ' || fz.pred1('{o}') || ') RETURNING *'
                    WHEN 9 THEN 'DELETE FROM orders o USING tenants t WHERE t.tenant_id = o.tenant_id AND ' || fz.pred1('{t}')
                                || CASE WHEN fz.chance(0.5) THEN ' AND ' || okey ELSE '' END || ' RETURNING o.*, t.name'
                    WHEN 10 THEN 'UPDATE tenants t SET score = score * 3 + 0.000000000000000001, rating = rating / 3, active = NOT active WHERE '
                                || fz.pred1('{t}') || ' RETURNING *'
                    WHEN 11 THEN 'UPDATE codes r SET w = coalesce(w, 1) * 2, label = label || ''*'' WHERE ' || fz.pred1('{r}') || ' RETURNING *'
                    WHEN 12 THEN 'DELETE FROM products p WHERE ' || fz.pred1('{p}') || ' RETURNING *'
                    WHEN 13 THEN 'UPDATE orders o SET tenant_id = ' || fz.lit('key') || ', order_id = order_id + 1000 WHERE ' || okey || ' AND ' || fz.pred1('{o}') || ' RETURNING *'
                    ELSE 'INSERT INTO tenants VALUES (' || (20 + fz.ri(10)) || ', ' || fz.lit('text') || ', ' || fz.lit('int') || ', '
                         || fz.lit('num') || ', ' || fz.lit('float') || ', ' || fz.lit('ts') || ', ' || fz.lit('bool') || '), ('
                         || (30 + fz.ri(10)) || ', NULL, NULL, NULL, NULL, NULL, NULL) RETURNING *' END;
                    args := ARRAY[CASE WHEN which IN (2, 5, 8) THEN 'items' WHEN which IN (6, 10, 14) THEN 'tenants'
                                   WHEN which = 11 THEN 'codes' WHEN which = 12 THEN 'products' ELSE 'orders' END];
            END;
        END CASE;
        IF q IS NULL THEN
            CONTINUE;
        END IF;
        k := k + 1;
        INSERT INTO fz.queries (id, kind, q, ordered, args, tbl)
        VALUES (k, kind, q, ord,
                CASE WHEN kind = 'prepared' THEN args END,
                CASE WHEN kind = 'dml' THEN args[1] END);
    END LOOP;
    RETURN k;
END
$$;

--
-- The runner
--

-- rows of a statement as text under search_path path, or its error
CREATE FUNCTION fz.rows(q text, path text, OUT res text[], OUT err text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    old text := current_setting('search_path');
BEGIN
    res := '{}';
    BEGIN
        PERFORM set_config('search_path', path, false);
        FOR r IN EXECUTE q LOOP
            res := res || r::text;
        END LOOP;
        PERFORM set_config('search_path', old, false);
    EXCEPTION WHEN OTHERS THEN
        res := NULL;
        err := SQLSTATE || ': ' || SQLERRM;
    END;
END
$$;

-- the strategy of a statement on the distributed side
CREATE FUNCTION fz.strategy(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    strategy text := NULL;
    broadcast boolean := false;
    old text := current_setting('search_path');
BEGIN
    BEGIN
        PERFORM set_config('search_path', 'fz_dist, fz', false);
        FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
            IF line ~ '^\s*Strategy: ' AND strategy IS NULL THEN
                strategy := regexp_replace(line, '^\s*Strategy: ', '');
            ELSIF line ~ '^\s*SubPlan \d+ \(broadcast of ' THEN
                broadcast := true;
            END IF;
        END LOOP;
        PERFORM set_config('search_path', old, false);
    EXCEPTION WHEN OTHERS THEN
        RETURN 'explain error';
    END;
    RETURN coalesce(strategy, 'standard') || CASE WHEN broadcast THEN ', broadcast' ELSE '' END;
END
$$;

-- compare two results: NULL when equal, else what differs
CREATE FUNCTION fz.compare(d text[], de text, l text[], le text, ordered boolean, OUT status text, OUT detail text)
LANGUAGE plpgsql AS $$
DECLARE
    only_d text[];
    only_l text[];
BEGIN
    IF de IS NOT NULL OR le IS NOT NULL THEN
        IF de IS NOT NULL AND le IS NOT NULL THEN
            status := CASE WHEN left(de, 5) = left(le, 5) THEN 'both error' ELSE 'error mismatch' END;
        ELSIF de IS NOT NULL THEN
            status := CASE WHEN de LIKE '0A000%' THEN 'unsupported' ELSE 'dist error' END;
        ELSE
            status := 'local error';
        END IF;
        detail := format('dist: %s; local: %s', coalesce(de, 'ok'), coalesce(le, 'ok'));
        RETURN;
    END IF;
    IF NOT ordered THEN
        SELECT coalesce(array_agg(x ORDER BY x COLLATE "C"), '{}') INTO d FROM unnest(d) x;
        SELECT coalesce(array_agg(x ORDER BY x COLLATE "C"), '{}') INTO l FROM unnest(l) x;
    END IF;
    IF d = l THEN
        status := 'ok';
        RETURN;
    END IF;
    SELECT array_agg(x ORDER BY x COLLATE "C") INTO only_d FROM (SELECT unnest(d) EXCEPT ALL SELECT unnest(l)) s(x);
    SELECT array_agg(x ORDER BY x COLLATE "C") INTO only_l FROM (SELECT unnest(l) EXCEPT ALL SELECT unnest(d)) s(x);
    IF only_d IS NULL AND only_l IS NULL THEN
        status := 'order mismatch';
    ELSE
        status := 'mismatch';
    END IF;
    detail := format('dist %s rows, local %s rows; only in dist: %s; only in local: %s',
                     cardinality(d), cardinality(l), coalesce(only_d[1:5]::text, '{}'), coalesce(only_l[1:5]::text, '{}'));
END
$$;

-- run statement id on both sides and compare; a line when they differ
CREATE FUNCTION fz.check(qid int) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    qq fz.queries;
    strategy text;
    d record;
    l record;
    c record;
    st text := 'ok';
    det text := NULL;
BEGIN
    SELECT * INTO qq FROM fz.queries WHERE id = qid;
    IF qq.kind = 'prepared' THEN
        DECLARE
            de text;
            le text;
        BEGIN
            BEGIN
                PERFORM set_config('search_path', 'fz_dist, fz', true);
                EXECUTE 'PREPARE fz_d(int, int, int[]) AS ' || qq.q;
            EXCEPTION WHEN OTHERS THEN
                de := SQLSTATE || ': ' || SQLERRM;
            END;
            BEGIN
                PERFORM set_config('search_path', 'fz_local, fz', true);
                EXECUTE 'PREPARE fz_l(int, int, int[]) AS ' || qq.q;
            EXCEPTION WHEN OTHERS THEN
                le := SQLSTATE || ': ' || SQLERRM;
            END;
            IF de IS NOT NULL OR le IS NOT NULL THEN
                c := fz.compare(NULL, de, NULL, le, false);
                st := c.status;
                det := 'PREPARE: ' || c.detail;
                RAISE EXCEPTION USING ERRCODE = 'FZRBK';
            END IF;
            FOR j IN 1 .. cardinality(qq.args) LOOP
                -- the last three with the generic plan
                PERFORM set_config('plan_cache_mode',
                                   CASE WHEN j > cardinality(qq.args) - 3 THEN 'force_generic_plan' ELSE 'auto' END, true);
                d := fz.rows(format('EXECUTE fz_d(%s)', qq.args[j]), 'fz_dist, fz');
                l := fz.rows(format('EXECUTE fz_l(%s)', qq.args[j]), 'fz_local, fz');
                c := fz.compare(d.res, d.err, l.res, l.err, qq.ordered);
                IF c.status <> 'ok' AND st = 'ok' THEN
                    st := c.status;
                    det := format('execution %s (%s): %s', j, qq.args[j], c.detail);
                END IF;
            END LOOP;
            strategy := fz.strategy(format('EXECUTE fz_d(%s)', qq.args[1]));
            PERFORM set_config('plan_cache_mode', 'auto', true);
        EXCEPTION WHEN SQLSTATE 'FZRBK' THEN
            NULL;
        WHEN OTHERS THEN
            st := 'prepare error';
            det := SQLSTATE || ': ' || SQLERRM;
        END;
        BEGIN DEALLOCATE fz_d; EXCEPTION WHEN OTHERS THEN NULL; END;
        BEGIN DEALLOCATE fz_l; EXCEPTION WHEN OTHERS THEN NULL; END;
    ELSIF qq.kind = 'dml' THEN
        strategy := fz.strategy(qq.q);
        BEGIN
            -- both sides in one subtransaction, rolled back at the end
            d := fz.rows(qq.q, 'fz_dist, fz');
            l := fz.rows(qq.q, 'fz_local, fz');
            c := fz.compare(d.res, d.err, l.res, l.err, false);
            st := c.status;
            det := c.detail;
            IF st IN ('ok', 'both error') THEN
                d := fz.rows('SELECT * FROM ' || qq.tbl, 'fz_dist, fz');
                l := fz.rows('SELECT * FROM ' || qq.tbl, 'fz_local, fz');
                c := fz.compare(d.res, d.err, l.res, l.err, false);
                IF c.status <> 'ok' THEN
                    st := c.status;
                    det := 'table ' || qq.tbl || ' afterwards: ' || c.detail;
                END IF;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'FZRBK';
        EXCEPTION WHEN SQLSTATE 'FZRBK' THEN
            NULL;
        END;
    ELSE
        strategy := fz.strategy(qq.q);
        d := fz.rows(qq.q, 'fz_dist, fz');
        l := fz.rows(qq.q, 'fz_local, fz');
        c := fz.compare(d.res, d.err, l.res, l.err, qq.ordered);
        st := c.status;
        det := c.detail;
    END IF;
    INSERT INTO fz.log VALUES (qid, qq.kind, strategy, st, det);
    IF st NOT IN ('ok', 'both error') THEN
        RETURN NEXT format('#%s %s [%s] %s: %s', qid, qq.kind, strategy, upper(st), det)
                    || E'\n    ' || qq.q
                    || CASE WHEN qq.args IS NOT NULL THEN E'\n    args: ' || qq.args::text ELSE '' END;
    END IF;
END
$$;

-- the strategies the statements got (every one should be exercised)
CREATE VIEW fz.coverage AS
SELECT s.strategy, count(l.id) AS statements
  FROM (VALUES ('router'), ('multi-shard'), ('two-phase aggregate'),
               ('two-phase aggregate, merged distinct values'), ('broadcast'), ('standard')) s(strategy)
  LEFT JOIN fz.log l ON l.strategy = s.strategy OR l.strategy LIKE s.strategy || ', broadcast'
                        OR (s.strategy = 'broadcast' AND l.strategy LIKE '%, broadcast')
 GROUP BY s.strategy;

-- a fixed statement (the test's regression cases): label, outcome, strategy
CREATE FUNCTION fz.diff(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d record := fz.rows(q, 'fz_dist, fz');
    l record := fz.rows(q, 'fz_local, fz');
    c record := fz.compare(d.res, d.err, l.res, l.err, ordered);
BEGIN
    RETURN label || ': ' || CASE WHEN c.status = 'ok' THEN 'ok, ' || cardinality(d.res) || ' rows'
                                 ELSE upper(c.status) || ': ' || c.detail END
           || ' [' || fz.strategy(q) || ']';
END
$$;

-- the EXPLAIN lines of a statement on the distributed side from its
-- first "Worker SQL" on, shard numbers replaced by N
CREATE FUNCTION fz.explain_worker_sql(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    inside boolean := false;
BEGIN
    PERFORM set_config('search_path', 'fz_dist, fz', true);
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        inside := inside OR line ~ '^\s*Worker SQL: ';
        IF inside THEN
            RETURN NEXT regexp_replace(btrim(line), '([a-z]+)_[0-9]+\M', '\1_N', 'g');
        END IF;
    END LOOP;
END
$$;
