--
-- include/prepared_compare.sql: pg_temp.pair_prep, a statement prepared
-- with parameters (decl, the arguments args) and executed with a custom or
-- a generic plan in schema "dist" and in schema "local": the rows
-- compared as pg_temp.pair_check does (include/planner_compare.sql, which
-- must be included first), the strategy of the distributed one first.
--
CREATE FUNCTION pg_temp.pair_prep(label text, decl text, q text, args text, generic boolean,
                                  dist text, local text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d text[] := '{}';
    l text[] := '{}';
    s text;
    r record;
BEGIN
    PERFORM set_config('plan_cache_mode', CASE WHEN generic THEN 'force_generic_plan' ELSE 'force_custom_plan' END, true);
    PERFORM set_config('search_path', dist || ', public', true);
    EXECUTE format('PREPARE pair_prep_d(%s) AS %s', decl, q);
    FOR r IN EXECUTE format('EXECUTE pair_prep_d(%s)', args) LOOP
        d := d || r::text;
    END LOOP;
    s := pg_temp.strategy_tasks(format('EXECUTE pair_prep_d(%s)', args), dist || ', public');
    PERFORM set_config('search_path', local || ', public', true);
    EXECUTE format('PREPARE pair_prep_l(%s) AS %s', decl, q);
    FOR r IN EXECUTE format('EXECUTE pair_prep_l(%s)', args) LOOP
        l := l || r::text;
    END LOOP;
    DEALLOCATE pair_prep_d;
    DEALLOCATE pair_prep_l;
    PERFORM set_config('plan_cache_mode', 'auto', true);
    RETURN public.dt_compare(label || ': ' || s, d, l, false);
END
$$;
