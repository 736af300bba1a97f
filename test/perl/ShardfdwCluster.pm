# ShardfdwCluster: a coordinator and workers for shardfdw's TAP tests.
#
#   use lib ...test/perl;  (scripts/test.sh puts it on PERL5LIB)
#   my ($coord, @workers) = ShardfdwCluster::start(
#       workers => 2, coordinator_conf => "shardfdw.recovery_interval = 0\n");
#
# Workers are stock PostgreSQL with max_prepared_transactions = 20 and a
# database shardfdw; the coordinator preloads shardfdw, has the extension in
# its database shardfdw, and every worker registered as worker<i> through
# scripts/add_worker.sql, the file the harness and the Docker init use.
package ShardfdwCluster;

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use Test::More;

# The repository: SHARDFDW_SRCDIR (set by scripts/test.sh), or above test/.
sub srcdir
{
	return $ENV{SHARDFDW_SRCDIR}
	  // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
}

# The placement invariant of the shard move and rebalance tests, as tests:
# on every worker of %$workers (SERVER name => PostgreSQL::Test::Cluster),
# the tables of schema public whose name matches $opts{shard_tables} (a
# regular expression) are exactly the shards the catalog places on that
# SERVER, and no replication slot, publication or subscription is left.
# With cleanup => 1, first: a cleanup pass leaves no shardfdw.cleanup record,
# and every shard's foreign partition points at its placement's SERVER.
sub check_placement_invariant
{
	my ($coord, $workers, $what, %opts) = @_;
	my $pattern = $opts{shard_tables} or die 'shard_tables is required';

	if ($opts{cleanup})
	{
		my $cleaned = $coord->safe_psql('shardfdw',
			'SELECT shardfdw_cleanup_orphaned_resources()');
		is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.cleanup'),
			'0', "$what: no cleanup record left (the pass dropped $cleaned)");
		is($coord->safe_psql('shardfdw', q{
SELECT count(*) FROM shardfdw.shard s
  JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
  JOIN pg_foreign_table ft ON ft.ftrelid = s.shard_relid
  JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
 WHERE fs.srvname <> n.server_name}), '0', "$what: placements match the foreign partitions");
	}

	my %expected;
	for my $row (split /\n/, $coord->safe_psql('shardfdw', q{
SELECT n.server_name, s.shard_relid::regclass::text FROM shardfdw.shard s
  JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)
 WHERE s.shard_relid IS NOT NULL}))
	{
		my ($server, $name) = split /\|/, $row;
		$expected{$server}{$name} = 1;
	}
	for my $server (sort keys %$workers)
	{
		my $w = $workers->{$server};
		is($w->safe_psql('shardfdw',
			"SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables"
			  . " WHERE schemaname = 'public' AND tablename ~ '$pattern'"),
			join(',', sort keys %{ $expected{$server} // {} }),
			"$what: shard tables on $server are exactly the placed ones");
		is($w->safe_psql('shardfdw',
			'SELECT (SELECT count(*) FROM pg_replication_slots)::text || (SELECT count(*) FROM pg_publication)'
			  . ' || (SELECT count(*) FROM pg_subscription)::text'),
			'000', "$what: no slot, publication or subscription left on $server");
	}
	return;
}

# Register worker number $i (1-based) with the coordinator; returns whether
# psql succeeded (a failure is a test failure unless $may_fail).
sub add_worker
{
	my ($coord, $worker, $i, %opts) = @_;
	my @cmd = (
		'psql', '-X', '-d', $coord->connstr('shardfdw'),
		'-v', "name=" . ($opts{name} // "worker$i"),
		'-v', 'host=' . $worker->host,
		'-v', 'port=' . ($opts{port} // $worker->port),
		'-v', 'dbname=shardfdw',
		'-v', 'user=' . scalar getpwuid($<),
		'-v', 'ON_ERROR_STOP=1',
		'-f', srcdir() . '/scripts/add_worker.sql');
	return $coord->command_ok(\@cmd, "worker$i registered");
}

# Start the workers and the coordinator and register the workers.
# Options: workers (default 2), coordinator_conf, worker_conf (appended to
# postgresql.conf).  Returns ($coordinator, @workers).
sub start
{
	my (%opts) = @_;
	my $n = $opts{workers} // 2;
	my @workers;

	for my $i (1 .. $n)
	{
		my $w = PostgreSQL::Test::Cluster->new("worker$i");
		$w->init;
		$w->append_conf('postgresql.conf',
			"max_prepared_transactions = 20\n"
			  # a new subscription's apply worker starts within 200 ms
			  # instead of up to 5 s (shard moves)
			  . "wal_retrieve_retry_interval = '200ms'\n"
			  . ($opts{worker_conf} // ''));
		$w->start;
		$w->safe_psql('postgres', 'CREATE DATABASE shardfdw');
		push @workers, $w;
	}

	my $coord = PostgreSQL::Test::Cluster->new('coordinator');
	$coord->init;
	$coord->append_conf('postgresql.conf',
		"shared_preload_libraries = 'shardfdw'\n"
		  . ($opts{coordinator_conf} // ''));
	$coord->start;
	$coord->safe_psql('postgres', 'CREATE DATABASE shardfdw');
	$coord->safe_psql('shardfdw', 'CREATE EXTENSION shardfdw');
	add_worker($coord, $workers[ $_ - 1 ], $_) for 1 .. $n;

	return ($coord, @workers);
}

1;
