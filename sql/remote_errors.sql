--
-- remote_errors: errors raised by workers are re-raised on the coordinator
-- with the worker's SQLSTATE, and speak of the coordinator's tables and
-- constraints, not of their shards ("companies", not "companies_102033").
--
\set SHOW_CONTEXT never
\set VERBOSITY default
CREATE SCHEMA rerr;
SET search_path = rerr, public;
CREATE TABLE companies (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE campaigns (company_id bigint REFERENCES companies (id),
                        id bigint, budget int CHECK (budget > 0),
                        PRIMARY KEY (company_id, id));
SELECT create_distributed_table('companies', 'id', shard_count => 4);
SELECT create_distributed_table('campaigns', 'company_id', colocate_with => 'companies');
INSERT INTO companies VALUES (1, 'one'), (2, 'two');
INSERT INTO campaigns VALUES (1, 1, 10);

-- each through the router (one shard) and through the FDW path
INSERT INTO campaigns VALUES (3, 1, 10);
SET shardfdw.enable_router = off;
INSERT INTO campaigns VALUES (3, 1, 10);
RESET shardfdw.enable_router;
INSERT INTO campaigns VALUES (1, 1, 10);
INSERT INTO campaigns VALUES (1, 2, -5);
UPDATE companies SET name = NULL WHERE id = 1;
DELETE FROM companies WHERE id = 1;

SET client_min_messages = warning;
DROP SCHEMA rerr CASCADE;
