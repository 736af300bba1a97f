# test/t/301_rebalance.pl: rebalancing, background rebalancing and draining
# under continuous writes.
#
# A coordinator and four workers (wal_level = logical); worker3 and worker4
# are registered only later.  Three co-located tables a, b (references a)
# and c, 8 shards each on worker1 and worker2, a reference table r, and
# local copies la, lb, lc, lr that every write also changes, in the same
# transaction.  While pgbench clients write through the coordinator
# (INSERT / UPDATE / DELETE on a, b, c, and UPDATE of r):
#
# 1. worker3 and worker4 are added (each gets a full replica of r);
# 2. rebalance_table_shards('a') spreads the shard groups over the 4 nodes;
# 3. worker4 stops taking shards and a background rebalance (rebalance_start)
#    empties it; the session that started it is terminated, another session
#    waits for it (rebalance_wait) and sees it done in rebalance_status();
# 4. worker4 takes shards again; a background rebalance is started and
#    stopped (rebalance_stop); it ends stopped or done; a foreground
#    rebalance is cancelled while a move runs: no move is left running;
# 5. shardfdw_drain_node('worker3'), then shardfdw_remove_node('worker3').
#
# Afterwards: no write failed; a, b, c, r equal their local copies
# (checksums); every replica of r equals lr; every shard is on exactly the
# worker the catalog and its foreign partition name, and nowhere else; no
# replication slot, publication, subscription or cleanup record is left;
# co-located joins are still pushed down.  The longest write stall (the
# longest pgbench transaction) is printed.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardfdwCluster;
use Test::More;
use Time::HiRes qw(time usleep);

my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my ($coord, @workers) = ShardfdwCluster::start(
	workers => 4,
	worker_conf => "wal_level = logical\nmax_replication_slots = 20\nmax_wal_senders = 20\n",
	coordinator_conf => "shardfdw.recovery_interval = 0\nmax_worker_processes = 32\n");
my %worker_by_server = map { ("worker$_" => $workers[ $_ - 1 ]) } 1 .. 4;

# worker3 and worker4 join later
$coord->safe_psql('shardfdw', q{
SELECT shardfdw_remove_node('worker3');
SELECT shardfdw_remove_node('worker4');
DROP SERVER worker3 CASCADE;
DROP SERVER worker4 CASCADE;
});

$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 8;
CREATE TABLE a (id bigint PRIMARY KEY, v bigint NOT NULL);
CREATE TABLE b (id bigint NOT NULL, x int NOT NULL, PRIMARY KEY (id, x),
                FOREIGN KEY (id) REFERENCES a (id));
CREATE TABLE c (id bigint PRIMARY KEY, t text NOT NULL);
CREATE TABLE r (id int PRIMARY KEY, name text NOT NULL);
SELECT create_distributed_table('a', 'id');
SELECT create_distributed_table('b', 'id', colocate_with => 'a');
SELECT create_distributed_table('c', 'id', colocate_with => 'a');
SELECT create_reference_table('r');
CREATE TABLE la (id bigint PRIMARY KEY, v bigint NOT NULL);
CREATE TABLE lb (id bigint NOT NULL, x int NOT NULL, PRIMARY KEY (id, x));
CREATE TABLE lc (id bigint PRIMARY KEY, t text NOT NULL);
CREATE TABLE lr (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO a SELECT g, g FROM generate_series(1, 5000) g;
INSERT INTO la SELECT g, g FROM generate_series(1, 5000) g;
INSERT INTO b SELECT g, 1 FROM generate_series(1, 5000) g;
INSERT INTO lb SELECT g, 1 FROM generate_series(1, 5000) g;
INSERT INTO c SELECT g, 'c' || g FROM generate_series(1, 5000) g;
INSERT INTO lc SELECT g, 'c' || g FROM generate_series(1, 5000) g;
INSERT INTO r SELECT g, 'r' || g FROM generate_series(1, 100) g;
INSERT INTO lr SELECT g, 'r' || g FROM generate_series(1, 100) g;
});

sub groups_per_node
{
	return $coord->safe_psql('shardfdw',
		"SELECT string_agg(server_name || ':' || shard_count / 3, ' ' ORDER BY nodeid) FROM shardfdw.nodes");
}
is(groups_per_node(), 'worker1:4 worker2:4', 'the shard groups start on worker1 and worker2');

sub checksum
{
	my ($node, $table, $cols) = @_;
	return $node->safe_psql('shardfdw',
		"SELECT count(*) || '/' || md5(coalesce(string_agg($cols, ',' ORDER BY $cols), '')) FROM $table");
}

my %cols = (a => "id || ':' || v", b => "id || ':' || x", c => "id || ':' || t",
	r => "id || ':' || name");

# The invariant after the operations.
sub check_invariant
{
	my ($what) = @_;
	for my $t (qw(a b c r))
	{
		my $dist = checksum($coord, $t, $cols{$t});
		is($dist, checksum($coord, "l$t", $cols{$t}), "$what: $t equals its local copy ($dist)");
	}
	my $lr = checksum($coord, 'lr', $cols{r});
	my @servers = split /\n/, $coord->safe_psql('shardfdw',
		'SELECT server_name FROM shardfdw.node ORDER BY nodeid');
	for my $server (@servers)
	{
		is(checksum($worker_by_server{$server}, 'public.r', $cols{r}), $lr,
			"$what: the replica of r on $server equals lr");
	}

	ShardfdwCluster::check_placement_invariant($coord, \%worker_by_server, $what,
		cleanup => 1, shard_tables => '^[abc]_[0-9]+$');
}

# ---------------------------------------------------------------- writers
# pgbench in chunks of a few seconds until the stop file exists (pgbench
# cannot be stopped cleanly in the middle of a run); each chunk's exit
# status goes to a file, its per-transaction log to its own files.
my $script = "$tmp/writes.sql";
PostgreSQL::Test::Utils::append_to_file($script, q{
\set i :i + 1
\set id 100000000 * (:client_id + 1) + :i
BEGIN;
INSERT INTO a VALUES (:id, :i);
INSERT INTO la VALUES (:id, :i);
INSERT INTO b VALUES (:id, 1), (:id, 2);
INSERT INTO lb VALUES (:id, 1), (:id, 2);
INSERT INTO c VALUES (:id, 'c' || :i);
INSERT INTO lc VALUES (:id, 'c' || :i);
UPDATE a SET v = v + 1 WHERE id = (:i % 5000) + 1;
UPDATE la SET v = v + 1 WHERE id = (:i % 5000) + 1;
DELETE FROM b WHERE id = :id - 7 AND x = 2;
DELETE FROM lb WHERE id = :id - 7 AND x = 2;
UPDATE c SET t = t || '.' WHERE id = :id - 3;
UPDATE lc SET t = t || '.' WHERE id = :id - 3;
DELETE FROM c WHERE id = :id - 11;
DELETE FROM lc WHERE id = :id - 11;
END;
\if :i % 10 = 0
BEGIN;
UPDATE r SET name = name || '.' WHERE id = (:i / 10) % 100 + 1;
UPDATE lr SET name = name || '.' WHERE id = (:i / 10) % 100 + 1;
END;
\endif
});
my $logdir = "$tmp/pgbench";
mkdir $logdir;
my $stop = "$tmp/stop";
my $connstr = $coord->connstr('shardfdw');
my $writers = IPC::Run::start(
	[
		'bash', '-c', qq{
n=0
while [ ! -e '$stop' ]; do
	pgbench -n -c 2 -j 2 -T 4 -D i=\$((n * 10000000)) -f '$script' -l --log-prefix="$logdir/tx\$n" '$connstr' > "$logdir/out\$n" 2>&1
	echo "\$n \$?" >> '$logdir/status'
	n=\$((n + 1))
done
}
	]);
# a test that dies stops the writers too (they would outlive the clusters)
END { PostgreSQL::Test::Utils::append_to_file($stop, '') if defined $stop && -d $tmp; }

sleep 2;

# ---------------------------------------------------------------- 1. add nodes
ShardfdwCluster::add_worker($coord, $workers[2], 3);
ShardfdwCluster::add_worker($coord, $workers[3], 4);
is($coord->safe_psql('shardfdw',
	"SELECT string_agg(server_name, ',' ORDER BY server_name) FROM shardfdw.shards WHERE table_name = 'r'::regclass"),
	'worker1,worker2,worker3,worker4', 'the new nodes have a placement of the reference table');

# ---------------------------------------------------------------- 2. foreground
my ($ret, $out, $err) = $coord->psql('shardfdw', "SELECT rebalance_table_shards('a')");
is($ret, 0, "rebalance_table_shards('a') under load (seed 004's call)") or diag $err;
my @notices = $err =~ /NOTICE:  moving shard group/g;
is(scalar @notices, 4, 'a NOTICE per move (4 moves)');
like($err, qr/rebalance done: 4 shard group moves/, 'and a summary NOTICE');
note $err;
is(groups_per_node(), 'worker1:2 worker2:2 worker3:2 worker4:2', 'two shard groups on each node');

# ---------------------------------------------------------------- 3. background
$coord->safe_psql('shardfdw', "SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', false)");
my ($sout, $serr) = ('', '');
my $starter = IPC::Run::start(
	[
		'psql', '-X', '-At', '-d', $connstr,
		'-c', "SET application_name = 'rebalance_starter'",
		'-c', 'SELECT rebalance_start()',
		'-c', 'SELECT pg_sleep(60)'
	],
	'>', \$sout, '2>', \$serr);
my $jobid;
for (1 .. 300)
{
	$jobid = $coord->safe_psql('shardfdw',
		"SELECT max(jobid) FROM shardfdw.job WHERE kind = 'rebalance'");
	last if $jobid ne '';
	usleep(100_000);
}
ok($jobid ne '', "rebalance_start() started job $jobid");
is($coord->safe_psql('shardfdw',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rebalance_starter'"),
	't', 'the session that started it is terminated');
$starter->finish;
($ret, $out, $err) = $coord->psql('shardfdw', 'SELECT rebalance_start()');
isnt($ret, 0, 'a second rebalance cannot start meanwhile')
  if $coord->safe_psql('shardfdw', "SELECT state FROM shardfdw.jobs WHERE jobid = $jobid") eq 'running';
($ret, $out, $err) = $coord->psql('shardfdw', "SELECT rebalance_wait($jobid)");
is($ret, 0, 'another session waits for the background rebalance') or diag $err;
is($coord->safe_psql('shardfdw',
	"SELECT state || ' ' || moves_done || '/' || moves_total FROM rebalance_status() WHERE job_id = $jobid"),
	'done 2/2', 'rebalance_status(): done, 2 of 2 moves');
like(groups_per_node(), qr/^worker1:[23] worker2:[23] worker3:[23] worker4:0$/,
	'worker4 is empty, the others have 2 or 3 shard groups each');

# ---------------------------------------------------------------- 4. stop
$coord->safe_psql('shardfdw', "SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', true)");
$jobid = $coord->safe_psql('shardfdw', 'SELECT rebalance_start()');
($ret, $out, $err) = $coord->psql('shardfdw', "SELECT rebalance_stop($jobid)");
my $state = $coord->safe_psql('shardfdw', "SELECT state FROM rebalance_status() WHERE job_id = $jobid");
ok($state eq 'cancelled' || $state eq 'done', "a stopped rebalance ends stopped or done ($state)");
note "rebalance_stop: $err";
($ret, $out, $err) = $coord->psql('shardfdw', "SELECT rebalance_wait($jobid)");
is($ret, 0, 'rebalance_wait() on a stopped rebalance returns');
like($err, qr/was stopped/, 'with a WARNING') if $state eq 'cancelled';
($ret, $out, $err) = $coord->psql('shardfdw', 'SELECT rebalance_table_shards()');
is($ret, 0, 'rebalancing again finishes the job') or diag $err;
is(groups_per_node(), 'worker1:2 worker2:2 worker3:2 worker4:2', 'two shard groups on each node again');

# ---------------------------------------------------------------- 4b. cancel
# a foreground rebalance cancelled while a move runs (held at the move's
# fault point after its copy): the running moves are cancelled with it and
# none is left running
$coord->safe_psql('shardfdw', "SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', false)");
$coord->safe_psql('shardfdw',
	"ALTER DATABASE shardfdw SET shardfdw.test_fault_point = 'move-after-copy';"
	  . "ALTER DATABASE shardfdw SET shardfdw.test_fault_action = 'sleep';"
	  . "ALTER DATABASE shardfdw SET shardfdw.test_fault_sleep = '60s'");
my $offset = -s $coord->logfile;
my ($fout, $ferr) = ('', '');
my $fg = IPC::Run::start(
	[
		'psql', '-X', '-d', $connstr,
		'-c', "SET application_name = 'fg_rebalance'",
		'-c', 'SELECT rebalance_table_shards()'
	],
	'>', \$fout, '2>', \$ferr);
# the rebalance reaches the fault point, or fails first (then say why)
my $reached = 0;
for (my $t = 0; $t < 1800 && !$reached && $fg->pumpable; $t++)
{
	$fg->pump_nb;
	$reached = PostgreSQL::Test::Utils::slurp_file($coord->logfile, $offset)
	  =~ /fault point "move-after-copy" reached/;
	usleep(100_000) unless $reached;
}
ok($reached, 'the foreground rebalance reaches the move fault point')
  or diag "rebalance output: $fout\nerrors: $ferr";
$coord->safe_psql('shardfdw',
	'ALTER DATABASE shardfdw RESET shardfdw.test_fault_point;'
	  . 'ALTER DATABASE shardfdw RESET shardfdw.test_fault_action;'
	  . 'ALTER DATABASE shardfdw RESET shardfdw.test_fault_sleep');
ok($coord->safe_psql('shardfdw',
	"SELECT count(*) FROM shardfdw.jobs WHERE kind = 'move' AND state = 'running'") > 0,
	'the foreground rebalance runs a move');
$coord->safe_psql('shardfdw',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'fg_rebalance'");
$fg->finish;
like($ferr, qr/canceling statement due to user request/, 'the rebalance is cancelled');
note $ferr;
is($coord->safe_psql('shardfdw',
	"SELECT count(*) FROM shardfdw.jobs WHERE kind = 'move' AND state = 'running'"),
	'0', 'no move is left running after the cancel');
$coord->safe_psql('shardfdw', "SELECT shardfdw_set_node_property('worker1', 'shouldhaveshards', true)");
($ret, $out, $err) = $coord->psql('shardfdw', 'SELECT rebalance_table_shards()');
is($ret, 0, 'rebalancing after the cancel') or diag $err;
is(groups_per_node(), 'worker1:2 worker2:2 worker3:2 worker4:2', 'two shard groups on each node again');

# ---------------------------------------------------------------- 5. drain
($ret, $out, $err) = $coord->psql('shardfdw', "SELECT shardfdw_drain_node('worker3')");
is($ret, 0, 'shardfdw_drain_node(worker3) under load') or diag $err;
like(groups_per_node(), qr/^worker1:[23] worker2:[23] worker3:0 worker4:[23]$/,
	'worker3 is empty, the others have 2 or 3 shard groups each');
($ret, $out, $err) = $coord->psql('shardfdw', "SELECT shardfdw_remove_node('worker3')");
is($ret, 0, 'worker3 can be removed') or diag $err;

# ---------------------------------------------------------------- writers done
sleep 1;
PostgreSQL::Test::Utils::append_to_file($stop, '');
$writers->finish;
my @status = split /\n/, PostgreSQL::Test::Utils::slurp_file("$logdir/status");
my @bad = grep { !/ 0$/ } @status;
is(scalar @bad, 0, 'no write failed (' . scalar(@status) . ' pgbench runs)')
  or diag join("\n", map { PostgreSQL::Test::Utils::slurp_file("$logdir/out" . (split / /)[0]) } @bad);
my ($max, $ntx) = (0, 0);
opendir(my $dh, $logdir);
for my $f (grep { /^tx/ } readdir $dh)
{
	open my $fh, '<', "$logdir/$f" or die;
	while (<$fh>)
	{
		my @c = split;
		$ntx++;
		$max = $c[2] if $c[2] > $max;
	}
	close $fh;
}
closedir $dh;
ok($ntx > 0, "the writers committed $ntx transactions");
diag sprintf("rebalance under load: %d write transactions, longest write stall %.3f s", $ntx, $max / 1e6);

check_invariant('after adding nodes, rebalancing, draining and removing a node');

# co-located joins still run on the workers
like($coord->safe_psql('shardfdw',
	'EXPLAIN (COSTS OFF) SELECT a.id, b.x, c.t, r.name FROM a JOIN b ON a.id = b.id JOIN c ON c.id = a.id JOIN r ON r.id = b.x WHERE a.v > 10'),
	qr/Strategy: multi-shard.*JOIN public\.b_\d+ b.*JOIN public\.c_\d+ c.*JOIN public\.r/s,
	'a co-located join with the reference table is pushed down');
is($coord->safe_psql('shardfdw',
	'SELECT count(*) FROM a JOIN b ON a.id = b.id JOIN c ON c.id = a.id'),
	$coord->safe_psql('shardfdw',
	'SELECT count(*) FROM la JOIN lb ON la.id = lb.id JOIN lc ON lc.id = la.id'),
	'and gives the same answer as the local copies');

done_testing();
