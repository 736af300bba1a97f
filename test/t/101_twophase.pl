# test/t/101_twophase.pl: two-phase commit of multi-worker transactions,
# with faults injected at every step of the commit protocol.
#
# A coordinator and two workers (PostgreSQL::Test::Cluster).  Every round
# inserts a batch of 100 rows spread over both workers in one transaction
# while shardfdw.test_fault_point stops (error) or pauses (sleep) the commit
# at one step; during a pause the test kills a worker or the coordinator
# with pg_ctl stop -m immediate.  After restarting and running
# recover_prepared_transactions(), every batch must be on the workers
# entirely or not at all, with the outcome the protocol promises for that
# step, and no prepared transaction or commit record may be left.
#
# SHARDFDW_2PC_LOOPS (default 3) sets how many rounds each kill scenario
# runs; error scenarios run 3 times as many (they are fast).
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use ShardfdwCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $loops = $ENV{SHARDFDW_2PC_LOOPS} // 3;

# recovery_interval = 0: the test runs the recovery itself, except at the
# end where the background worker is switched on
my ($coord, @workers) = ShardfdwCluster::start(coordinator_conf => "shardfdw.recovery_interval = 0\n");

$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 4;
CREATE TABLE t (id int PRIMARY KEY, batch int NOT NULL);
SELECT create_distributed_table('t', 'id');
});

# rows of batch $b on worker $w, counted on the worker's shard tables
sub worker_count
{
	my ($w, $b) = @_;
	return $w->safe_psql(
		'shardfdw', qq{
SELECT coalesce(sum((xpath('/row/c/text()',
         query_to_xml(format('SELECT count(*) AS c FROM public.%I WHERE batch = $b',
                             tablename), false, true, '')))[1]::text::int), 0)
  FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t_[0-9]+\$'});
}

sub prepared_count
{
	my ($w) = @_;
	return $w->safe_psql('shardfdw',
		'SELECT count(*) FROM pg_prepared_xacts');
}

sub recover
{
	return $coord->safe_psql('shardfdw',
		'SELECT recover_prepared_transactions()');
}

my $batch = 0;

# The transaction of a round: 100 rows of batch $b, over both workers.
sub batch_sql
{
	my ($b) = @_;
	my $lo = $b * 1000;
	return "BEGIN;\n"
	  . "INSERT INTO t SELECT g, $b FROM generate_series($lo, $lo + 99) g;\n"
	  . "COMMIT;\n";
}

# After a round: restart what was killed, recover, check the batch.
# $expect: 100 (committed), 0 (rolled back) or undef (either; the fault
# may have been passed before the kill landed).
my %outcomes;
sub check_round
{
	my ($name, $b, $expect) = @_;
	recover();
	# a second run deletes the commit records of what the first resolved
	recover();
	my @counts = map { worker_count($_, $b) } @workers;
	my $total = $counts[0] + $counts[1];
	ok($total == 0 || ($total == 100 && $counts[0] > 0 && $counts[1] > 0),
		"$name: batch $b all-or-nothing (worker1 $counts[0], worker2 $counts[1])");
	is($total, $expect, "$name: batch $b outcome") if defined $expect;
	$outcomes{$name}{ $total == 100 ? 'committed' : 'rolled back' }++;
	is(prepared_count($_), '0', "$name: no prepared transaction left on "
		  . $_->name) for @workers;
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.transaction'),
		'0', "$name: no commit record left");
}

# ---------------------------------------------------------------- basics
{
	# a read-only multi-worker transaction and a single-worker write never
	# reach the two-phase steps
	my $ok = $coord->psql(
		'shardfdw', q{
SET shardfdw.test_fault_point = 'before-prepare';
BEGIN; SELECT count(*) FROM t; COMMIT;
BEGIN; INSERT INTO t VALUES (1, 0); COMMIT;
BEGIN; DELETE FROM t WHERE id = 1; SELECT count(*) FROM t; COMMIT;},
		on_error_stop => 1);
	is($ok, 0, 'reads and single-worker writes commit in one phase');

	# distribution itself wrote on both workers: two-phase commit
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.transaction'),
		'2', 'create_distributed_table committed in two phases');
	recover();
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.transaction'),
		'0', 'recovery deletes the records of committed prepared transactions');

	# without the fault, a multi-worker write prepares on both workers
	$batch++;
	$coord->safe_psql('shardfdw',
		"SET shardfdw.test_fault_point = 'skip-commit-prepared';\n"
		  . batch_sql($batch));
	is(prepared_count($_), '1', 'a multi-worker write prepared on ' . $_->name)
	  for @workers;
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.transaction'),
		'2', 'two commit records');
	is(recover(), '2', 'recover_prepared_transactions() commits both');
	check_round('skip-commit-prepared', $batch, 100);

	# one worker wrote, and so did the coordinator (a local table): two
	# phases as well, or a crash between the worker's commit and the
	# coordinator's would keep the worker's row alone (one row, in batch
	# -N: the final check counts positive batches of 100)
	$coord->safe_psql('shardfdw', 'CREATE TABLE local_log (b int)');
	$batch++;
	$coord->safe_psql('shardfdw',
		"SET shardfdw.test_fault_point = 'skip-commit-prepared';\n"
		  . "BEGIN;\nINSERT INTO local_log VALUES ($batch);\n"
		  . "INSERT INTO t VALUES ($batch * 1000, -$batch);\nCOMMIT;\n");
	is(prepared_count($workers[0]) + prepared_count($workers[1]), 1,
		'a single-worker write with a local write prepared on its worker');
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.transaction'),
		'1', 'one commit record');
	is(recover(), '1', 'recover_prepared_transactions() commits it');
	is(worker_count($workers[0], -$batch) + worker_count($workers[1], -$batch), 1,
		'the single-worker write committed');

	# visibility is not atomic across servers: from the coordinator's
	# commit until COMMIT PREPARED on the worker (held off here), another
	# transaction sees the local part and not the worker's; deleting both
	# rows, it deletes only the local one.  Workloads that compare a
	# distributed table with a local mirror (test/t/550_split.pl) must not
	# depend on another client's last commit.
	$batch++;
	$coord->safe_psql('shardfdw',
		"SET shardfdw.test_fault_point = 'skip-commit-prepared';\n"
		  . "BEGIN;\nINSERT INTO local_log VALUES ($batch);\n"
		  . "INSERT INTO t VALUES ($batch * 1000, -$batch);\nCOMMIT;\n");
	is($coord->safe_psql('shardfdw',
			"BEGIN;\nDELETE FROM t WHERE id = $batch * 1000 RETURNING 'distributed';\n"
			  . "DELETE FROM local_log WHERE b = $batch RETURNING 'local';\nCOMMIT;"),
		'local', 'before COMMIT PREPARED, another transaction sees the local part only');
	is(recover(), '1', 'recover_prepared_transactions() commits the worker part');
	is(worker_count($workers[0], -$batch) + worker_count($workers[1], -$batch), 1,
		'the distributed row the DELETE did not see is there');

	# the coordinator dies after the worker prepared: both parts roll back
	$batch++;
	my $offset = -s $coord->logfile;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/local.sql";
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh "SET shardfdw.test_fault_point = 'after-prepare';\n"
	  . "SET shardfdw.test_fault_action = 'sleep';\n"
	  . "SET shardfdw.test_fault_sleep = '3s';\n"
	  . "BEGIN;\nINSERT INTO local_log VALUES ($batch);\n"
	  . "INSERT INTO t VALUES ($batch * 1000, -$batch);\nCOMMIT;\n";
	close($fh);
	my ($kout, $kerr) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $coord->connstr('shardfdw'), '-f', $file ],
		'>' => \$kout, '2>' => \$kerr);
	$coord->wait_for_log(qr/fault point "after-prepare" reached/, $offset);
	$coord->stop('immediate');
	my $late = slurp_file($coord->logfile, $offset) =~ /fault point "after-prepare" passed/;
	$h->finish;
	$coord->start;
	recover();
	recover();
	my $rows = worker_count($workers[0], -$batch) + worker_count($workers[1], -$batch);
	my $local = $coord->safe_psql('shardfdw',
		"SELECT count(*) FROM local_log WHERE b = $batch");
	ok(($rows == 0 && $local == 0) || ($late && $rows == 1 && $local == 1),
		"coordinator killed after the single worker prepared: all or nothing (worker $rows, coordinator $local)");
	is($rows, 0, 'coordinator killed after the single worker prepared: rolled back')
	  unless $late;
	is(prepared_count($_), '0', 'nothing left prepared on ' . $_->name) for @workers;

	# user PREPARE TRANSACTION on the coordinator after touching shards
	my ($ret, $out, $err) = (0, '', '');
	$ret = $coord->psql(
		'shardfdw', "BEGIN; SELECT count(*) FROM t; PREPARE TRANSACTION 'x';",
		stdout => \$out, stderr => \$err);
	like($err, qr/cannot prepare a transaction that has operated on shardfdw shards/,
		'PREPARE TRANSACTION on the coordinator is refused after shard access');
}

# ---------------------------------------------------------------- errors
# An ERROR at each step before the local commit rolls everything back.
for my $point (qw(before-prepare after-prepare))
{
	for my $action (qw(error fatal))
	{
		for (1 .. $loops)
		{
			$batch++;
			my ($out, $err) = ('', '');
			$coord->psql(
				'shardfdw',
				"SET shardfdw.test_fault_point = '$point';\n"
				  . "SET shardfdw.test_fault_action = '$action';\n"
				  . batch_sql($batch),
				stdout => \$out, stderr => \$err);
			like($err, qr/fault injected at "$point"/, "$action at $point: reported");
			check_round("$action at $point", $batch, 0);
		}
	}
}

# ---------------------------------------------------------------- kills
# Pause the commit at $point, kill $victim, restart it, recover.
sub kill_round
{
	my ($point, $victim, $expect) = @_;
	my $name = "kill " . $victim->name . " at $point";
	$batch++;
	my $offset = -s $coord->logfile;
	my $sql = "SET shardfdw.test_fault_point = '$point';\n"
	  . "SET shardfdw.test_fault_action = 'sleep';\n"
	  . "SET shardfdw.test_fault_sleep = '3s';\n"
	  . batch_sql($batch);
	my ($out, $err) = ('', '');
	# psql reads a file: IPC::Run would feed a scalar only while pumped
	my $file = "$PostgreSQL::Test::Utils::tmp_check/round.sql";
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh $sql;
	close($fh);
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $coord->connstr('shardfdw'), '-f', $file ],
		'>' => \$out, '2>' => \$err);
	$coord->wait_for_log(qr/fault point "\Q$point\E" reached/, $offset);
	$victim->stop('immediate');
	# did the pause end before the kill landed?  Then the intended
	# interleaving did not happen: only atomicity is checked.
	my $log = slurp_file($coord->logfile, $offset);
	my $late = $log =~ /fault point "\Q$point\E" passed/;
	$h->finish;
	$victim->start;
	check_round($name, $batch, $late ? undef : $expect);
}

for (1 .. $loops)
{
	# worker2 dies before PREPARE: nothing is prepared there, abort
	kill_round('before-prepare', $workers[1], 0);
	# worker2 dies after its PREPARE: the prepared transaction survives,
	# the coordinator commits, recovery finishes worker2
	kill_round('after-prepare', $workers[1], 100);
	# worker2 dies after the local commit, before COMMIT PREPARED
	kill_round('before-commit-prepared', $workers[1], 100);
	# the coordinator dies before PREPARE, or after PREPARE but before its
	# local commit (which makes the commit records durable): recovery rolls
	# back
	kill_round('before-prepare', $coord, 0);
	kill_round('after-prepare', $coord, 0);
	# the coordinator dies after its local commit: recovery commits
	kill_round('before-commit-prepared', $coord, 100);
}

# ---------------------------------------------------------------- bgworker
# The background worker resolves what is left without anyone calling
# recover_prepared_transactions().
{
	$batch++;
	$coord->safe_psql('shardfdw',
		"SET shardfdw.test_fault_point = 'skip-commit-prepared';\n"
		  . batch_sql($batch));
	is(prepared_count($workers[0]), '1', 'left a prepared transaction for the background worker');
	$coord->safe_psql('shardfdw',
		"ALTER SYSTEM SET shardfdw.recovery_interval = '200ms'; SELECT pg_reload_conf()");
	ok( $workers[0]->poll_query_until('shardfdw',
			'SELECT count(*) = 0 FROM pg_prepared_xacts')
		  && $workers[1]->poll_query_until('shardfdw',
			'SELECT count(*) = 0 FROM pg_prepared_xacts'),
		'the background worker resolved the prepared transactions');
	is(worker_count($workers[0], $batch) + worker_count($workers[1], $batch),
		100, 'and committed them');
	$coord->safe_psql('shardfdw',
		"ALTER SYSTEM SET shardfdw.recovery_interval = 0; SELECT pg_reload_conf()");
}

# every batch, once more, all-or-nothing
my $bad = $coord->safe_psql(
	'shardfdw',
	'SELECT count(*) FROM (SELECT batch FROM t WHERE batch > 0 GROUP BY batch HAVING count(*) <> 100) s');
is($bad, '0', 'every batch in t has 0 or 100 rows');

for my $name (sort keys %outcomes)
{
	diag(sprintf("%-45s committed %d, rolled back %d", $name,
		$outcomes{$name}{committed} // 0, $outcomes{$name}{'rolled back'} // 0));
}

$coord->stop;
$_->stop for @workers;
done_testing();
