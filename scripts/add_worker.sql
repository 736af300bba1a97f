-- scripts/add_worker.sql: register one worker PostgreSQL server as a shardfdw node.
--
-- Run on the coordinator, in a database where CREATE EXTENSION shardfdw was done:
--
--   psql -d shardfdw -v name=worker1 -v host=10.0.0.5 -v port=5432 \
--        -v dbname=shardfdw -v user=postgres [-v password=secret] \
--        -f scripts/add_worker.sql
--
-- A node is a foreign SERVER of the shardfdw FDW plus a USER MAPPING holding
-- the credentials; shardfdw_add_node() checks the connection and registers it.
-- The local harness (test/cluster.sh), the TAP tests and the Docker init
-- (docker/init-cluster.sh) all use this file, so it is tested on every run.
-- Everything happens in one transaction: if the node cannot be registered
-- (unreachable, wrong credentials...), no SERVER or USER MAPPING is left.
\set ON_ERROR_STOP on

BEGIN;

CREATE SERVER :"name" FOREIGN DATA WRAPPER shardfdw
    OPTIONS (host :'host', port :'port', dbname :'dbname');

\if :{?password}
CREATE USER MAPPING FOR CURRENT_USER SERVER :"name"
    OPTIONS (user :'user', password :'password');
\else
CREATE USER MAPPING FOR CURRENT_USER SERVER :"name"
    OPTIONS (user :'user');
\endif

SELECT shardfdw_add_node(:'name');

COMMIT;
