# test/t/106_pg_dump.pl: pg_dump of the coordinator's database, restored
# into another database of the same coordinator.
#
# The dump holds the distributed tables' parents and foreign partitions,
# the reference tables with their rows and triggers, views, SERVERs, user
# mappings and shardfdw's catalog rows (extension configuration tables).
# Restored, the new database reaches the same shards: reads route to them,
# writes go to them, and its reference table replicates to the same
# replicas.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use ShardfdwCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($coord, @workers) = ShardfdwCluster::start();

$coord->safe_psql(
	'shardfdw', q{
CREATE TABLE r (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO r VALUES (1, 'one'), (2, 'two');
SELECT create_reference_table('r');
CREATE TABLE t (id int PRIMARY KEY, rid int NOT NULL REFERENCES r, v text);
SELECT create_distributed_table('t', 'id', shard_count => 4);
INSERT INTO t SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 100) g;
CREATE VIEW tv AS SELECT t.id, r.name FROM t JOIN r ON r.id = t.rid;
CREATE TABLE ti (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100) PRIMARY KEY, v text);
INSERT INTO ti (v) VALUES ('a'), ('b'), ('c');
SELECT create_distributed_table('ti', 'id', shard_count => 4);
});

my $dump = "$PostgreSQL::Test::Utils::tmp_check/coordinator.sql";
my ($out, $err) = PostgreSQL::Test::Utils::run_command(
	[ 'pg_dump', '-d', $coord->connstr('shardfdw'), '-f', $dump ]);
is($err, '', 'pg_dump of the coordinator database succeeds');

$coord->safe_psql('postgres', 'CREATE DATABASE restored');
($out, $err) = PostgreSQL::Test::Utils::run_command(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('restored'), '-f', $dump ]);
unlike($err, qr/ERROR/, 'the dump restores into another database') or diag $err;

is($coord->safe_psql('restored', 'SELECT count(*), sum(id) FROM t'), '100|5050',
	'the restored database reads the shards');
is($coord->safe_psql('restored', 'SELECT count(*) FROM tv WHERE name = \'two\''), '50',
	'and the view over them');
like($coord->safe_psql('restored', 'EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id = 5'),
	qr/Strategy: router/, 'a lookup is routed to one shard');
is($coord->safe_psql('restored', "SELECT table_name || ':' || table_type FROM shardfdw.tables ORDER BY 1"),
	"r:reference\nt:distributed\nti:distributed", 'the catalog came with the dump');

# the identity column of a distributed table: on the parent, with its
# sequence's state
is($coord->safe_psql('restored',
		"SELECT attidentity FROM pg_attribute WHERE attrelid = 'ti'::regclass AND attname = 'id'"),
	'a', 'the restored distributed table has its identity column');
is($coord->safe_psql('restored', "INSERT INTO ti (v) VALUES ('d') RETURNING id"),
	'103', 'and its sequence continues after the dumped rows');
like(($coord->psql('restored', "INSERT INTO ti VALUES (1, 'x')"))[2],
	qr/cannot insert a non-DEFAULT value into column "id"/, 'GENERATED ALWAYS holds');

# writes through the restored database reach the same shards and replicas
$coord->safe_psql('restored',
	"INSERT INTO r VALUES (3, 'three'); INSERT INTO t VALUES (101, 3, 'new')");
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM t WHERE id = 101'), '1',
	'a row written through the restored database is in the shards');
is($_->safe_psql('shardfdw', 'SELECT name FROM r WHERE id = 3'), 'three',
	'the restored reference table replicates to ' . $_->name)
  for @workers;

done_testing();
