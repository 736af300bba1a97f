--
-- transactions: one-phase and two-phase commit of remote transactions
--
-- The commit-protocol fault points (shardfdw.test_fault_*) stop a commit at
-- a step; killing servers at those points is in test/t/101_twophase.pl.
\set VERBOSITY terse

CREATE SCHEMA tx;
SET search_path = tx, public;
SET shardfdw.shard_count = 4;
CREATE TABLE tx_t (id int PRIMARY KEY, v int NOT NULL);
SELECT create_distributed_table('tx_t', 'id');

-- rows of tx_t and prepared transactions, as the workers see them
CREATE FUNCTION worker_state(OUT server_name text, OUT nrows bigint, OUT nprepared bigint)
RETURNS SETOF record LANGUAGE sql AS $$
  SELECT r.server_name::text, r.result::bigint, p.result::bigint
    FROM run_command_on_workers($q$SELECT (SELECT coalesce(sum((xpath('/row/c/text()',
           query_to_xml(format('SELECT count(*) AS c FROM tx.%I', tablename),
                        false, true, '')))[1]::text::int), 0)
           FROM pg_tables WHERE schemaname = 'tx' AND tablename ~ '^tx_t_[0-9]+$')$q$) r
    JOIN run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts') p USING (server_name)
   ORDER BY 1
$$;

-- reads and single-worker writes never reach the two-phase steps
SET shardfdw.test_fault_point = 'before-prepare';
BEGIN;
SELECT count(*) FROM tx_t;
COMMIT;
INSERT INTO tx_t VALUES (1, 1);
BEGIN;
UPDATE tx_t SET v = 2 WHERE id = 1;
SELECT count(*) FROM tx_t;
COMMIT;
SELECT * FROM tx_t;

-- a multi-worker write stopped before PREPARE, or after it, leaves nothing
INSERT INTO tx_t SELECT g, 0 FROM generate_series(10, 59) g;
SET shardfdw.test_fault_point = 'after-prepare';
INSERT INTO tx_t SELECT g, 0 FROM generate_series(10, 59) g;
RESET shardfdw.test_fault_point;
SELECT count(*) FROM tx_t;
SELECT * FROM worker_state();

-- without faults it commits on both workers, and recovery finds nothing
-- in doubt
INSERT INTO tx_t SELECT g, 0 FROM generate_series(10, 59) g;
SELECT count(*) FROM tx_t;
SELECT * FROM worker_state();
SELECT recover_prepared_transactions();
SELECT count(*) FROM shardfdw.transaction;

-- the same in an explicit transaction with a savepoint rolled back
BEGIN;
DELETE FROM tx_t WHERE id >= 10;
SAVEPOINT s;
INSERT INTO tx_t VALUES (100, 1), (101, 1), (102, 1), (103, 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO tx_t SELECT g, 3 FROM generate_series(200, 219) g;
COMMIT;
SELECT v, count(*) FROM tx_t GROUP BY v ORDER BY v;
SELECT * FROM worker_state();

-- an error on one worker at PREPARE time (a deferred constraint) aborts
-- everything
CREATE TABLE tx_u (id int PRIMARY KEY, v int);
SELECT create_distributed_table('tx_u', 'id');
SELECT count(*) FROM run_command_on_workers($o$
  DO $d$ DECLARE r record; BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'tx' AND tablename ~ '^tx_u_[0-9]+$' LOOP
      EXECUTE format('ALTER TABLE tx.%I ADD CONSTRAINT %I UNIQUE (v) DEFERRABLE INITIALLY DEFERRED', r.tablename, r.tablename || '_v');
    END LOOP; END $d$$o$) WHERE success;
\set VERBOSITY sqlstate
INSERT INTO tx_u SELECT g, 1 FROM generate_series(1, 40) g;
\set VERBOSITY terse
SELECT count(*) FROM tx_u;
SELECT * FROM worker_state();

-- PREPARE TRANSACTION on the coordinator is refused once shards were used
BEGIN;
SELECT count(*) FROM tx_t;
PREPARE TRANSACTION 'tx_user';
SELECT count(*) FROM pg_prepared_xacts;

-- the fault GUCs are for superusers only
CREATE ROLE tx_plain;
SET ROLE tx_plain;
SET shardfdw.test_fault_point = 'before-prepare';
RESET ROLE;
DROP ROLE tx_plain;

DROP SCHEMA tx CASCADE;
