# test/t/000_layout.pl: static checks that need no server.
#
# Docker cannot run in CI, so this checks that the compose cluster is wired
# the way the local harness is: the init service mounts and runs the very
# scripts/add_worker.sql that test/cluster.sh and the TAP tests use
# (test/t/002_docker_init.pl then runs docker/init-cluster.sh for real
# against local servers).  Also checks .ci/run and the shell scripts' syntax.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use Test::More;

my $src = $ENV{SHARDFDW_SRCDIR}
  // File::Spec->rel2abs(dirname(__FILE__) . '/../..');

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', "$src/$path" or return '';
	local $/;
	return <$fh>;
}

my $compose    = slurp('docker/docker-compose.yml');
my $dockerfile = slurp('docker/Dockerfile');
my $init       = slurp('docker/init-cluster.sh');
my $cluster    = slurp('test/cluster.sh');
my $tap        = slurp('test/t/001_cluster.pl');
my $addworker  = slurp('scripts/add_worker.sql');
my $ci         = slurp('.ci/run');

ok($addworker ne '', 'scripts/add_worker.sql exists');
for my $var (qw(name host port dbname user password))
{
	like($addworker, qr/:['"]$var['"]|:\{\?$var\}/,
		"add_worker.sql uses psql variable :$var");
}
like($addworker, qr/shardfdw_add_node\(:'name'\)/,
	'add_worker.sql calls shardfdw_add_node');

# The same file everywhere.
like($compose, qr{\.\./scripts/add_worker\.sql:/shardfdw/add_worker\.sql},
	'compose mounts scripts/add_worker.sql into the init service');
like($init, qr{/shardfdw/add_worker\.sql}, 'init-cluster.sh defaults to the mounted add_worker.sql');
like($init, qr{-f "\$ADD_WORKER_SQL"}, 'init-cluster.sh runs add_worker.sql with psql -f');
like($compose, qr{\./init-cluster\.sh:/shardfdw/init-cluster\.sh}, 'compose mounts init-cluster.sh');
like($cluster, qr{scripts/add_worker\.sql}, 'test/cluster.sh registers workers with scripts/add_worker.sql');
like($tap, qr{scripts/add_worker\.sql}, '001_cluster.pl registers workers with scripts/add_worker.sql');

# Compose shape: a coordinator with the library, four stock workers, health
# checks, an init service gated on service_healthy.
like($compose, qr/shared_preload_libraries=shardfdw/, 'coordinator preloads shardfdw');
like($compose, qr/POSTGRES_PASSWORD/, 'POSTGRES_PASSWORD is set');
like($compose, qr/healthcheck:/, 'services have health checks');
like($compose, qr/max_prepared_transactions=\d+/, 'workers set max_prepared_transactions');
for my $i (1 .. 4)
{
	like($compose, qr/^  worker$i:/m, "compose defines worker$i");
	like($compose, qr/worker$i: \{condition: service_healthy\}/,
		"init waits for worker$i to be healthy");
	like($compose, qr/WORKERS:.*\bworker$i\b/, "init registers worker$i");
}
like($compose, qr/coordinator: \{condition: service_healthy\}/, 'init waits for the coordinator');
like($compose, qr{dockerfile: docker/Dockerfile}, 'coordinator is built from docker/Dockerfile');
like($dockerfile, qr/^FROM postgres:15\s*$/m, 'Dockerfile builds on the official postgres:15 image');
like($dockerfile, qr/postgresql-server-dev-15/, 'Dockerfile installs the server headers');
like($dockerfile, qr/make .*install/, 'Dockerfile installs the extension');

# If a YAML parser is at hand, the compose file must parse.
SKIP:
{
	skip 'python3 with yaml not available', 1
	  unless system('python3 -c "import yaml" >/dev/null 2>&1') == 0;
	is(system('python3', '-c',
		"import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); assert len([s for s in d['services'] if s.startswith('worker')])==4",
		"$src/docker/docker-compose.yml"), 0, 'compose file parses as YAML with 4 workers');
}

# CI runs the README's test command.
like($ci, qr/^#!\/usr\/bin\/env bash/, '.ci/run is a bash script');
like($ci, qr/set -euo pipefail/, '.ci/run uses strict mode');
like($ci, qr/exec bash scripts\/test\.sh/, '.ci/run execs scripts/test.sh');

# Shell syntax.
for my $f (qw(test/cluster.sh test/lib/common.sh scripts/test.sh scripts/demo.sh
	scripts/install-deps.sh .ci/run))
{
	is(system('bash', '-n', "$src/$f"), 0, "bash -n $f");
}
is(system('sh', '-n', "$src/docker/init-cluster.sh"), 0, 'sh -n docker/init-cluster.sh');

done_testing();
