# test/t/104_down_monitoring.pl: size and placement views with a worker down.
#
# With worker2 stopped, the monitoring views and functions that read sizes
# from the workers (shardfdw.tables, shardfdw.shards, citus_tables,
# citus_shards, shardfdw.relation_size, shardfdw.shard_size, and the
# functions behind shardfdw.shard_moves) still answer: what lives on worker2
# is NULL, everything else is there, and each statement gives one WARNING
# naming worker2 (however many of its shards the statement reads).  The
# rebalance plan by disk size fails with an error naming worker2 (a plan
# without its sizes would be wrong).  Once worker2 is back, the sizes are
# back and no WARNING is given.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardfdwCluster;
use Test::More;

my ($coord, @workers) = ShardfdwCluster::start(
	coordinator_conf => "shardfdw.recovery_interval = 0\n");
$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 4;
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT create_distributed_table('t', 'id');
INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g;
CREATE TABLE r (id int PRIMARY KEY);
SELECT create_reference_table('r');
INSERT INTO r SELECT generate_series(1, 10);
});

# psql as a list: return code, stdout, stderr
sub query
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $coord->psql('shardfdw', $sql);
	return ($ret, $out, $err // '');
}

# how many times the WARNING for worker2 appears in $err
sub warnings_for_worker2
{
	my ($err) = @_;
	my @w = $err =~ /WARNING:  could not read \w+ \w+ from server "worker2"/g;
	return scalar @w;
}

my $shard1 = $coord->safe_psql('shardfdw',
	"SELECT shardid FROM shardfdw.shards WHERE table_name = 't'::regclass AND server_name = 'worker1' ORDER BY shardid LIMIT 1");
my $shard2 = $coord->safe_psql('shardfdw',
	"SELECT shardid FROM shardfdw.shards WHERE table_name = 't'::regclass AND server_name = 'worker2' ORDER BY shardid LIMIT 1");
ok($shard1 ne '' && $shard2 ne '', 'shards on both workers');
my $name2 = $coord->safe_psql('shardfdw',
	"SELECT shard_name FROM shardfdw.shards WHERE shardid = $shard2");

# ---------------------------------------------------------------- all up
my ($ret, $out, $err) = query(
	"SELECT count(*) FILTER (WHERE shard_size IS NULL), count(*) FROM shardfdw.shards");
is($out, '0|6', 'all up: every shard has a size (4 shards of t, 2 replicas of r)');
is($err, '', 'all up: no WARNING');

# a placement asked for on a server that holds none, or that does not exist
is($coord->safe_psql('shardfdw',
		"SELECT shardfdw.shard_size($shard1, 'worker2') IS NULL, shardfdw.shard_size($shard1, 'no_such_server') IS NULL,"
		  . " shardfdw.shard_size($shard1, 'worker1') > 0"),
	't|t|t', 'shard_size of a server without the placement, or unknown, is NULL');

# ---------------------------------------------------------------- worker2 down
$workers[1]->stop('fast');

($ret, $out, $err) = query(
	q{SELECT table_name, table_size IS NULL FROM shardfdw.tables ORDER BY 1});
is($ret, 0, 'down: shardfdw.tables answers') or diag $err;
is($out, "t|t\nr|f", 'down: the size of t is NULL, that of the reference table is there');
is(warnings_for_worker2($err), 1, 'down: shardfdw.tables gives one WARNING naming worker2')
  or diag $err;
like($err, qr/HINT:  .*shardfdw\.connect_timeout/, 'down: the hint names shardfdw.connect_timeout');

($ret, $out, $err) = query(
	q{SELECT server_name, count(*), count(shard_size) FROM shardfdw.shards
 WHERE table_name = 't'::regclass GROUP BY 1 ORDER BY 1});
is($ret, 0, 'down: shardfdw.shards answers') or diag $err;
is($out, "worker1|2|2\nworker2|2|0",
	'down: shards on worker1 have sizes, those on worker2 are NULL');
is(warnings_for_worker2($err), 1,
	'down: one WARNING for the statement, not one per shard') or diag $err;

# a reference table has one placement per node: each shows its own node's
# size (the replica on worker2 used to show worker1's)
($ret, $out, $err) = query(
	q{SELECT server_name, shard_size IS NULL FROM shardfdw.shards
 WHERE table_name = 'r'::regclass ORDER BY 1});
is($out, "worker1|f\nworker2|t",
	'down: the reference table replica on worker2 has no size, that on worker1 has');
is(warnings_for_worker2($err), 1, 'down: one WARNING') or diag $err;

($ret, $out, $err) = query(
	q{SELECT count(*), count(table_size) FROM citus_tables});
is($out, '2|1', 'down: citus_tables answers, NULL size for t');
is(warnings_for_worker2($err), 1, 'down: citus_tables gives one WARNING') or diag $err;

($ret, $out, $err) = query(
	q{SELECT count(*), count(shard_size) FROM citus_shards WHERE table_name = 't'::regclass});
is($out, '4|2', 'down: citus_shards answers, NULL sizes on worker2');
is(warnings_for_worker2($err), 1, 'down: citus_shards gives one WARNING') or diag $err;

($ret, $out, $err) = query(
	"SELECT shardfdw.relation_size('t') IS NULL, shardfdw.shard_size($shard1) > 0,"
	  . " shardfdw.shard_size($shard2) IS NULL");
is($out, 't|t|t', 'down: relation_size NULL, shard_size NULL on worker2 only');
is(warnings_for_worker2($err), 1, 'down: one WARNING') or diag $err;

($ret, $out, $err) = query("SELECT shardfdw.shard_size($shard1) > 0");
is($out, 't', 'down: a shard on worker1 has its size');
is($err, '', 'down: and no WARNING when worker2 is not asked');

# each statement of a transaction warns once
($ret, $out, $err) = query(
	"BEGIN; SELECT shardfdw.shard_size($shard2); SELECT shardfdw.shard_size($shard2); COMMIT");
is($ret, 0, 'down: two statements in a transaction') or diag $err;
is(warnings_for_worker2($err), 2, 'down: one WARNING per statement') or diag $err;

# the functions behind shardfdw.shard_moves
($ret, $out, $err) = query(
	"SELECT shardfdw.move_remote_size('worker2', '$name2') IS NULL,"
	  . " shardfdw.move_remote_size('worker1', '$name2') IS NOT NULL");
is($out, 't|t', 'down: move_remote_size is NULL for worker2 only');
like($err, qr/could not read shard sizes from server "worker2"/,
	'down: move_remote_size warns');
($ret, $out, $err) = query(
	"SELECT shardfdw.move_replication_lag('worker2', 'no_such_slot') IS NULL");
is($out, 't', 'down: move_replication_lag is NULL for worker2');
like($err, qr/could not read replication lags from server "worker2"/,
	'down: move_replication_lag warns');

# the rebalance plan by disk size needs every node: a clear error
($ret, $out, $err) = query(
	"SELECT * FROM get_rebalance_plan(rebalance_strategy => 'by_disk_size')");
isnt($ret, 0, 'down: the plan by disk size fails');
like($err, qr/ERROR:  could not connect to server "worker2" to read its shard sizes/,
	'down: its error names worker2');
like($err, qr/HINT:  .*by_shard_count/, 'down: its hint says what to do');

# a query that reads worker2's rows is still an error
($ret, $out, $err) = query('SELECT count(*) FROM t');
isnt($ret, 0, 'down: reading t still fails');

# ---------------------------------------------------------------- back
$workers[1]->start;
($ret, $out, $err) = query(
	q{SELECT count(*) FILTER (WHERE shard_size IS NULL), count(*) FROM shardfdw.shards});
is($out, '0|6', 'back: every shard has its size again');
is($err, '', 'back: no WARNING');
($ret, $out, $err) = query(
	q{SELECT count(*) FROM shardfdw.tables WHERE table_size IS NULL});
is($out, '0', 'back: every table has its size again');
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM t'), '2000', 'back: t is readable');

done_testing();
