# test/t/001_cluster.pl: a coordinator and two stock workers built with
# PostgreSQL::Test::Cluster, workers registered with scripts/add_worker.sql
# (the file the harness and the Docker init use), then an unreachable node.
#
# Needs: the extension installed, PERL5LIB pointing at PGXS's src/test/perl,
# PG_REGRESS set, pg_config's bindir in PATH (scripts/test.sh sets all three),
# and SHARDFDW_SRCDIR pointing at a copy of the repository readable by the
# user running prove (defaults to the repository holding this file).
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $srcdir = $ENV{SHARDFDW_SRCDIR}
  // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $add_worker = "$srcdir/scripts/add_worker.sql";
ok(-r $add_worker, "scripts/add_worker.sql is readable at $add_worker");

# Cluster.pm's initdb makes the OS user running the test the superuser.
my $user = scalar getpwuid($<);

# Workers: stock PostgreSQL, no shardfdw library.
my @workers;
for my $i (1 .. 2)
{
	my $w = PostgreSQL::Test::Cluster->new("worker$i");
	$w->init;
	$w->append_conf('postgresql.conf',
		"max_prepared_transactions = 20\nwal_level = logical\n");
	$w->start;
	$w->safe_psql('postgres', 'CREATE DATABASE shardfdw');
	push @workers, $w;
}

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->append_conf('postgresql.conf',
	"shared_preload_libraries = 'shardfdw'\nmax_prepared_transactions = 20\n");
$coord->start;
$coord->safe_psql('postgres', 'CREATE DATABASE shardfdw');
$coord->safe_psql('shardfdw', 'CREATE EXTENSION shardfdw');

# add_worker NAME PORT: run scripts/add_worker.sql through psql -v, as the
# harness does.  Returns (exit code, stdout, stderr).
sub add_worker
{
	my ($name, $port) = @_;
	my ($stdout, $stderr);
	my $ret = $coord->psql(
		'shardfdw', undef,
		stdout     => \$stdout,
		stderr     => \$stderr,
		extra_params => [
			'-v', "name=$name",
			'-v', "host=" . $workers[0]->host,
			'-v', "port=$port",
			'-v', 'dbname=shardfdw',
			'-v', "user=$user",
			'-f', $add_worker
		]);
	return ($ret, $stdout, $stderr);
}

for my $i (1 .. 2)
{
	my ($ret, $out, $err) = add_worker("worker$i", $workers[ $i - 1 ]->port);
	is($ret, 0, "worker$i registered with add_worker.sql")
	  or diag("stdout: $out\nstderr: $err");
}

is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.nodes'),
	'2', 'shardfdw.nodes lists both workers');

# A node that cannot be reached: stop worker2 and register a new SERVER
# pointing at its (now dead) port.  shardfdw_add_node must fail and name the
# server.
my $dead_port = $workers[1]->port;
$workers[1]->stop;
my ($ret, $out, $err) = add_worker('deadworker', $dead_port);
isnt($ret, 0, 'shardfdw_add_node on an unreachable server fails');
like($err, qr/ERROR:.*deadworker/s,
	'the error names the unreachable server')
  or diag("stderr: $err");
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.nodes'),
	'2', 'the failed registration left shardfdw.nodes unchanged');
is( $coord->safe_psql(
		'shardfdw',
		"SELECT count(*) FROM pg_foreign_server WHERE srvname = 'deadworker'"),
	'0',
	'add_worker.sql is one transaction: no SERVER is left behind');

$coord->stop;
$workers[0]->stop;
done_testing();
