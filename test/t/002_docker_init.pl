# test/t/002_docker_init.pl: run docker/init-cluster.sh (the compose init
# service's script) against local servers, so the Docker registration path -
# environment, password branch of scripts/add_worker.sql, idempotence - is
# exercised without a Docker engine.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SHARDFDW_SRCDIR}
  // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $user = scalar getpwuid($<);

my @workers;
for my $i (1 .. 2)
{
	my $w = PostgreSQL::Test::Cluster->new("dworker$i");
	$w->init;
	$w->append_conf('postgresql.conf', "max_prepared_transactions = 20\n");
	$w->start;
	$w->safe_psql('postgres', 'CREATE DATABASE shardfdw');
	push @workers, $w;
}
my $coord = PostgreSQL::Test::Cluster->new('dcoordinator');
$coord->init;
$coord->append_conf('postgresql.conf', "shared_preload_libraries = 'shardfdw'\n");
$coord->start;
$coord->safe_psql('postgres', 'CREATE DATABASE shardfdw');

my %env = (
	PGHOST          => $coord->host,
	PGPORT          => $coord->port,
	PGUSER          => $user,
	PGPASSWORD      => 'unused-with-trust',
	PGDATABASE      => 'shardfdw',
	WORKERS         => join(' ', map { "worker$_=" . $workers[ $_ - 1 ]->host . ':' . $workers[ $_ - 1 ]->port } 1 .. 2),
	WORKER_DBNAME   => 'shardfdw',
	WORKER_USER     => $user,
	WORKER_PASSWORD => 'secret',
	ADD_WORKER_SQL  => "$src/scripts/add_worker.sql");

sub run_init
{
	local %ENV = (%ENV, %env);
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'sh', "$src/docker/init-cluster.sh" ], '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

my ($ok, $out, $err) = run_init();
ok($ok, 'init-cluster.sh succeeds') or diag("stdout: $out\nstderr: $err");
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.nodes'),
	'2', 'both workers registered');
is( $coord->safe_psql(
		'shardfdw',
		"SELECT count(*) FROM pg_user_mappings WHERE srvname LIKE 'worker%' AND 'password=secret' = ANY (umoptions)"
	),
	'2',
	'user mappings carry the password (add_worker.sql password branch)');

($ok, $out, $err) = run_init();
ok($ok, 'init-cluster.sh is safe to re-run') or diag("stdout: $out\nstderr: $err");
like($out, qr/worker1 is already registered/, 're-run skips registered workers');
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.nodes'),
	'2', 'still two nodes');

$_->stop for ($coord, @workers);
done_testing();
