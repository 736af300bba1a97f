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
