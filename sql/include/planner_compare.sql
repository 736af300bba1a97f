--
-- include/planner_compare.sql: comparison helpers of the planner_* tests,
-- included with \i by path (PG_ABS_SRCDIR, set by pg_regress: it feeds a
-- test on standard input, so \ir would resolve from its working directory);
-- pg_temp: each test's session gets its own.
--
-- pg_temp.top_rows: the rows of a statement run at the top level under
-- search_path path (not wrapped in a subquery or a CTE, as public.dt_rows
-- does: a wrapped statement is a nested level, planned differently, and
-- would not show the strategy being tested).  pg_temp.diff_check /
-- pg_temp.check_dml compare them between "dist" and "local" as
-- public.diff_check / check_dml do (public.dt_compare: test "differential");
-- pg_temp.pair_check / pg_temp.pair_dml do the same for a pair of schemas
-- (distributed, local), the strategy of the distributed one first, and
-- for DML the returned rows, then the table's.
-- pg_temp.strategy_tasks: the strategy of a statement under search_path path
-- and its task count (its own: not those of subqueries run first), or
-- "standard" when the standard planner (FDW path) took it; "+ subquery"
-- when an uncorrelated subquery is computed first on the coordinator.
-- pg_temp.explain_lines: the lines of an EXPLAIN statement with shard
-- numbers and worker names normalised.  pg_temp.copy_user_mappings: the
-- current user's user mappings of the workers' servers, for another role
-- (a view's owner).
--
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
CREATE FUNCTION pg_temp.diff_check(label text, q text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN public.dt_compare(label, pg_temp.top_rows(q, 'dist, public'),
                             pg_temp.top_rows(q, 'local, public'), ordered);
END
$$;
CREATE FUNCTION pg_temp.pair_check(label text, q text, dist text, local text, ordered boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN public.dt_compare(label || ': ' || pg_temp.strategy_tasks(q, dist || ', public'),
                             pg_temp.top_rows(q, dist || ', public'),
                             pg_temp.top_rows(q, local || ', public'), ordered);
END
$$;
CREATE FUNCTION pg_temp.pair_dml(label text, q text, tbl text, dist text, local text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    strategy text := pg_temp.strategy_tasks(q, dist || ', public');
    d text[] := pg_temp.top_rows(q, dist || ', public');
    l text[] := pg_temp.top_rows(q, local || ', public');
BEGIN
    SELECT coalesce(array_agg(x ORDER BY x COLLATE "C"), '{}') INTO d FROM unnest(d) x;
    SELECT coalesce(array_agg(x ORDER BY x COLLATE "C"), '{}') INTO l FROM unnest(l) x;
    RETURN format('%s: %s: returning %s, %s rows', label, strategy,
                  CASE WHEN d = l THEN 'ok' ELSE 'MISMATCH ' || d::text || ' / ' || l::text END,
                  cardinality(d)) || E'\n' ||
           pg_temp.pair_check(label || ', table', 'SELECT * FROM ' || tbl, dist, local);
END
$$;
CREATE FUNCTION pg_temp.check_dml(label text, q text, tbl text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pg_temp.diff_check(label || ' returning', q) || E'\n' ||
           pg_temp.diff_check(label || CASE WHEN tbl LIKE '(%' THEN ' table' ELSE ' table ' || tbl END,
                              'SELECT * FROM ' || tbl);
END
$$;
CREATE FUNCTION pg_temp.strategy_tasks(q text, path text DEFAULT 'dist, public') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    strategy text;
    tasks text := '';
    sub text := '';
BEGIN
    PERFORM set_config('search_path', path, true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ '^\s*Strategy: ' AND strategy IS NULL THEN
            strategy := regexp_replace(line, '^\s*Strategy: ', '');
        ELSIF line ~ '^\s*Task Count: ' AND tasks = '' THEN
            tasks := ', ' || regexp_replace(line, '^\s*Task Count: ', '') || ' task(s)';
        ELSIF line ~ '^\s*SubPlan \d+ \(uncorrelated subquery\)' THEN
            sub := ' + subquery';
        END IF;
    END LOOP;
    RETURN coalesce(strategy, 'standard') || tasks || sub;
END
$$;
CREATE FUNCTION pg_temp.explain_lines(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    FOR line IN EXECUTE q LOOP
        RETURN NEXT regexp_replace(regexp_replace(line, '([a-z]+)_[0-9]+\M', '\1_N', 'g'),
                                   'Node: worker[0-9]+', 'Node: worker?');
    END LOOP;
END
$$;
CREATE FUNCTION pg_temp.copy_user_mappings(role name) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT m.srvname, m.umoptions FROM pg_user_mappings m
              WHERE m.usename = current_user AND m.srvname IN (SELECT server_name FROM shardfdw.node)
    LOOP
        EXECUTE format('CREATE USER MAPPING FOR %I SERVER %I OPTIONS (%s)', role, r.srvname,
                       (SELECT string_agg(format('%I %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ')
                          FROM unnest(r.umoptions) o));
    END LOOP;
END
$$;
