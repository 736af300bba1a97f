-- demo/distribute.sql: seed 004's distribution calls, in the seed's order.
-- Every tenant table is distributed by the tenant id, so they are co-located
-- (shard i of each lives on the same worker); geo_ips is replicated to every
-- worker as a reference table.
SELECT create_distributed_table('companies', 'id');
SELECT create_distributed_table('campaigns', 'company_id');
SELECT create_distributed_table('ads', 'company_id');
SELECT create_distributed_table('clicks', 'company_id');
SELECT create_distributed_table('impressions', 'company_id');

SELECT create_reference_table('geo_ips');
