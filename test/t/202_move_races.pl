# test/t/202_move_races.pl: shard moves racing with writes and cancels.
#
# A coordinator and three workers (wal_level = logical, synchronous_commit
# = off as in test/cluster.sh: asynchronous commits on the source are what
# the cutover must not miss).  Table t (cid, id, v) distributed on cid,
# 4 shards.
#
# 1. Single-row INSERTs (autocommit, the router's one-round-trip path) run
#    nonstop through the coordinator while the first shard moves back and
#    forth online (force_logical), SHARDFDW_MOVE_RACE_MOVES times (default
#    6).  Every move must succeed (the cutover's row count check used to
#    fail when the last asynchronous commits had not reached the target),
#    no INSERT may fail, and t must hold exactly the rows inserted.
#
# 2. SHARDFDW_MOVE_CANCEL_LOOPS times (default 10), under the same INSERT
#    load, a move (force_logical, every third one block_writes) is
#    cancelled at a random moment (a random delay, not a fault point: up to
#    0.6 s, about a move's length).  After each: the caller got an error
#    if and only if the shard stayed where it was (a cancel that comes
#    after the cutover cannot stop the move: the caller gets a WARNING and
#    success), the cleanup pass, then no cleanup record, subscription, slot or
#    publication left on any worker, no shard table outside its placement;
#    at the end t holds exactly the rows inserted.
#    SHARDFDW_MOVE_CANCEL_SEED replays the delays of a run.
#
# 3. A move cancelled while its CREATE SUBSCRIPTION waits on the target
#    (for a lock held by another session there): the same invariant.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardfdwCluster;
use Test::More;
use Time::HiRes qw(time sleep);

my $race_moves = $ENV{SHARDFDW_MOVE_RACE_MOVES} // 6;
my $cancel_loops = $ENV{SHARDFDW_MOVE_CANCEL_LOOPS} // 10;

my ($coord, @workers) = ShardfdwCluster::start(
	workers => 3,
	worker_conf => "wal_level = logical\nmax_replication_slots = 20\nmax_wal_senders = 20\n"
	  . "synchronous_commit = off\n",
	coordinator_conf => "shardfdw.recovery_interval = 0\nmax_worker_processes = 32\n");
my %worker_by_server = map { ("worker$_" => $workers[ $_ - 1 ]) } 1 .. 3;

$coord->safe_psql(
	'shardfdw', q{
CREATE TABLE t (cid int, id int, v int, PRIMARY KEY (cid, id));
SELECT create_distributed_table('t', 'cid', shard_count => 4);
INSERT INTO t SELECT g % 1000, g, g FROM generate_series(1, 20000) g;
CREATE SEQUENCE tseq START 20001;
});

# the first shard of t and its server
sub first_shard
{
	return split /\|/, $coord->safe_psql('shardfdw',
		"SELECT s.shardid, n.server_name FROM shardfdw.shard s"
		  . " JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)"
		  . " WHERE s.relid = 't'::regclass AND s.shard_index = 0");
}

my $turn = 0;
sub other_server
{
	my ($server) = @_;
	my @others = grep { $_ ne $server } sort keys %worker_by_server;
	return $others[ $turn++ % 2 ];
}

# Single-row INSERTs through the coordinator until stopped; each takes the
# next value of tseq, so t must hold ids 1 .. last value, once each.
my $script = "${PostgreSQL::Test::Utils::tmp_check}/inserts.sql";
PostgreSQL::Test::Utils::append_to_file($script, q{
\set c random(0, 999)
INSERT INTO t VALUES (:c, nextval('tseq'), 1);
});

sub start_inserts
{
	my ($seconds) = @_;
	my %h = (out => '', err => '');
	$h{run} = IPC::Run::start(
		[ 'pgbench', '-n', '-c', 2, '-j', 1, '-T', $seconds, '-f', $script,
		  $coord->connstr('shardfdw') ],
		'>', \$h{out}, '2>', \$h{err});
	return \%h;
}

sub stop_inserts
{
	my ($h, $what) = @_;
	$h->{run}->signal('TERM');
	$h->{run}->finish;
	unlike($h->{out} . $h->{err}, qr/error|aborted/i, "$what: no INSERT failed")
	  or diag "$h->{out}\n$h->{err}";
	return $coord->safe_psql('shardfdw', 'SELECT last_value - 20000 FROM tseq');
}

# t holds ids 1 .. tseq's last value exactly once each
sub check_rows
{
	my ($what) = @_;
	is($coord->safe_psql('shardfdw',
		q{SELECT count(*) = (SELECT last_value FROM tseq) AND count(DISTINCT id) = count(*)
		     AND min(id) = 1 AND max(id) = (SELECT last_value FROM tseq) FROM t}),
		't', "$what: t holds every inserted row once");
}

# no replication object left, each shard table on its server only
sub check_workers
{
	my ($what) = @_;
	ShardfdwCluster::check_placement_invariant($coord, \%worker_by_server, $what,
		shard_tables => '^t_[0-9]+$');
}

# ---------------------------------------------------------------- moves under INSERTs
{
	my $h = start_inserts(600);
	sleep 1;
	my ($ok, @times) = (0);
	for my $k (1 .. $race_moves)
	{
		my ($shardid, $from) = first_shard();
		my $to = other_server($from);
		my $t0 = time;
		my ($ret, $o, $e) = $coord->psql('shardfdw',
			"SELECT shardfdw_move_shard($shardid, '$to', 'force_logical')");
		push @times, sprintf('%.2f', time - $t0);
		is($ret, 0, "move $k of shard $shardid from $from to $to under single-row INSERTs")
		  or diag $e;
		$ok++ if $ret == 0;
	}
	my $tx = stop_inserts($h, 'moves under INSERTs');
	diag sprintf('%d of %d moves under single-row INSERTs succeeded (%s s), %d INSERTs in all',
		$ok, $race_moves, join(' ', @times), $tx);
	check_rows('after the moves under INSERTs');
	$coord->safe_psql('shardfdw', 'SELECT shardfdw_cleanup_orphaned_resources()');
	check_workers('after the moves under INSERTs');
}

# ---------------------------------------------------------------- cancels at random moments
{
	my $seed = $ENV{SHARDFDW_MOVE_CANCEL_SEED} // int(rand(1e6));
	srand($seed);
	note "cancel delays from seed $seed (SHARDFDW_MOVE_CANCEL_SEED)";
	my $h = start_inserts(600);
	sleep 0.5;
	my %outcome = (cancelled => 0, moved => 0);
	for my $k (1 .. $cancel_loops)
	{
		my ($shardid, $from) = first_shard();
		my $to = other_server($from);
		my $delay = rand(0.6);
		my $mode = $k % 3 == 0 ? 'block_writes' : 'force_logical';
		my ($o, $e) = ('', '');
		my $move = IPC::Run::start(
			[ 'psql', '-X', '-d', $coord->connstr('shardfdw'),
			  '-c', "SELECT shardfdw_move_shard($shardid, '$to', '$mode')" ],
			'>', \$o, '2>', \$e);
		sleep $delay;
		$coord->safe_psql('shardfdw',
			"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT shardfdw_move_shard%'");
		$move->finish;
		$coord->poll_query_until('shardfdw',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type LIKE 'shardfdw job%'")
		  or diag 'job still running';
		my (undef, $now) = first_shard();
		my $what = sprintf('cancel after %.2f s (%s, round %d)', $delay, $mode, $k);
		ok($now eq $from || $now eq $to, "$what: shard $shardid on $now");
		# the caller reports what happened: an error if and only if the
		# shard stayed (a cancel that came too late gives a WARNING)
		is($e =~ /ERROR:/ ? 'error' : 'success', $now eq $to ? 'success' : 'error',
			"$what: the caller's outcome matches") or diag "stderr: $e";
		$outcome{ $now eq $to ? 'moved' : 'cancelled' }++;
		$coord->safe_psql('shardfdw', 'SELECT shardfdw_cleanup_orphaned_resources()');
		is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.cleanup'),
			'0', "$what: no cleanup record left");
		check_workers($what);
	}
	my $tx = stop_inserts($h, 'cancels');
	check_rows('after the cancels');
	$coord->safe_psql('shardfdw', 'SELECT shardfdw_cleanup_orphaned_resources()');
	check_workers('after the cancels');
	diag sprintf('%d moves cancelled at random moments: %d stayed on the source, %d completed first; %d INSERTs in all',
		$cancel_loops, $outcome{cancelled}, $outcome{moved}, $tx);
}

# ---------------------------------------------------------------- a cancel during CREATE SUBSCRIPTION
# Deterministically: the move pauses after creating the target tables, a
# session on the target locks the target table, so the move's CREATE
# SUBSCRIPTION (which locks the tables it subscribes) waits; the move is
# cancelled then.  The job must cancel the CREATE and wait for it: left
# running, it committed after the cleanup pass had found no subscription,
# and the pass then failed forever to drop the target table ("could not
# drop relation mapping for subscription ...").
{
	my ($shardid, $from) = first_shard();
	my $to = other_server($from);
	my $target = $worker_by_server{$to};
	my $shard_name = "public.t_$shardid";
	$coord->safe_psql('shardfdw',
		"ALTER DATABASE shardfdw SET shardfdw.test_fault_point = 'move-after-create';"
		  . "ALTER DATABASE shardfdw SET shardfdw.test_fault_action = 'sleep';"
		  . "ALTER DATABASE shardfdw SET shardfdw.test_fault_sleep = '2s'");
	my $offset = -s $coord->logfile;
	my ($o, $e) = ('', '');
	my $move = IPC::Run::start(
		[ 'psql', '-X', '-d', $coord->connstr('shardfdw'),
		  '-c', "SELECT shardfdw_move_shard($shardid, '$to', 'force_logical')" ],
		'>', \$o, '2>', \$e);
	$coord->wait_for_log(qr/fault point "move-after-create" reached/, $offset);
	$coord->safe_psql('shardfdw',
		'ALTER DATABASE shardfdw RESET shardfdw.test_fault_point;'
		  . 'ALTER DATABASE shardfdw RESET shardfdw.test_fault_action;'
		  . 'ALTER DATABASE shardfdw RESET shardfdw.test_fault_sleep');
	my ($lo, $le) = ('', '');
	my $locker = IPC::Run::start(
		[ 'psql', '-X', '-d', $target->connstr('shardfdw'), '-c',
		  "BEGIN; LOCK TABLE $shard_name IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" ],
		'>', \$lo, '2>', \$le);
	ok($target->poll_query_until('shardfdw',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'CREATE SUBSCRIPTION%' AND wait_event_type = 'Lock'"),
		'the move waits in CREATE SUBSCRIPTION');
	$coord->safe_psql('shardfdw',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT shardfdw_move_shard%'");
	$move->finish;
	like($e, qr/cancel/, 'the move was cancelled');
	$coord->poll_query_until('shardfdw',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type LIKE 'shardfdw job%'");
	$locker->finish;
	$coord->safe_psql('shardfdw', 'SELECT shardfdw_cleanup_orphaned_resources()');
	is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM shardfdw.cleanup'),
		'0', 'cancel during CREATE SUBSCRIPTION: no cleanup record left');
	is((first_shard())[1], $from, "cancel during CREATE SUBSCRIPTION: shard $shardid stays on $from");
	check_workers('cancel during CREATE SUBSCRIPTION');
	check_rows('cancel during CREATE SUBSCRIPTION');
}

done_testing();
