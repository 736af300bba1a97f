# test/t/204_move_prepared.pl: shard moves next to prepared transactions on
# the source worker.
#
# A coordinator and two workers (wal_level = logical).  Co-located tables a
# and b, 4 shards (indexes 0 and 2 on worker1, 1 and 3 on worker2), and a
# plain table unrel on every worker that shardfdw does not know.  The
# transactions are prepared directly on the workers (what an in-doubt
# coordinator transaction leaves behind), with gids the recovery does not
# know (and shardfdw.recovery_interval = 0), so they stay until the test
# ends them.
#
# 1. block_writes, with prepared transactions pending on the source that
#    touch no moved table (one on unrel, one on the shard of a of another
#    shard group on the same worker): the move succeeds, nothing is lost,
#    the prepared transactions are still there.
# 2. block_writes, with a prepared transaction that inserted into the shard
#    of b of the group being moved: the move fails with an error naming the
#    transaction, the shards stay on the source; after ROLLBACK PREPARED the
#    move succeeds.
# 3. force_logical, with the prepared transaction made while the move waits
#    at the fault point move-before-cutover (after the initial copy and the
#    catch-up: creating the replication slot waits for every transaction
#    running on the source, prepared ones included, so one prepared before
#    the move would hold up the slot until it ends): on unrel, the move
#    succeeds; on the moved shard of a, it fails with the error.
# 4. force_logical with a transaction prepared on the source before the
#    move: shardfdw.move_slot_timeout ends the wait for the replication
#    slot with an error naming it; without a short timeout the move says
#    what it waits for and goes on after ROLLBACK PREPARED.
# After each: the placement invariant (cleanup pass, no slot, publication
# or subscription left, shard tables only where the catalog places them)
# and the row counts.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardfdwCluster;
use Test::More;

my ($coord, @workers) = ShardfdwCluster::start(
	workers => 2,
	worker_conf => "wal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\n",
	coordinator_conf => "shardfdw.recovery_interval = 0\n");
my %worker_by_server = map { ("worker$_" => $workers[ $_ - 1 ]) } 1 .. 2;

$coord->safe_psql(
	'shardfdw', q{
CREATE TABLE a (id bigint PRIMARY KEY, v bigint NOT NULL);
CREATE TABLE b (id bigint NOT NULL, x int NOT NULL, PRIMARY KEY (id, x));
SELECT create_distributed_table('a', 'id', shard_count => 4);
SELECT create_distributed_table('b', 'id', colocate_with => 'a');
INSERT INTO a SELECT g, g FROM generate_series(1, 2000) g;
INSERT INTO b SELECT g, 1 FROM generate_series(1, 2000) g;
});
$_->safe_psql('shardfdw', 'CREATE TABLE unrel (id int)') for @workers;

# shard ids of a and b at index $i, and their server
sub group_of
{
	my ($i) = @_;
	my $row = $coord->safe_psql('shardfdw',
		"SELECT sa.shardid, sb.shardid, n.server_name FROM shardfdw.shard sa"
		  . " JOIN shardfdw.shard sb ON sb.relid = 'b'::regclass AND sb.shard_index = sa.shard_index"
		  . " JOIN shardfdw.placement p ON p.shardid = sa.shardid JOIN shardfdw.node n USING (nodeid)"
		  . " WHERE sa.relid = 'a'::regclass AND sa.shard_index = $i");
	return split /\|/, $row;
}

sub other
{
	my ($server) = @_;
	return $server eq 'worker1' ? 'worker2' : 'worker1';
}

sub check_all
{
	my ($what) = @_;
	ShardfdwCluster::check_placement_invariant($coord, \%worker_by_server, $what,
		cleanup => 1, shard_tables => '^[ab]_[0-9]+$');
	is($coord->safe_psql('shardfdw', 'SELECT (SELECT count(*) FROM a) || \'/\' || (SELECT count(*) FROM b)'),
		'2000/2000', "$what: every row of a and b is there");
}

sub prepare_on
{
	my ($server, $gid, $sql) = @_;
	$worker_by_server{$server}->safe_psql('shardfdw',
		"BEGIN; $sql; PREPARE TRANSACTION '$gid'");
}

sub finish_prepared
{
	my ($server, $how, $gid) = @_;
	$worker_by_server{$server}->safe_psql('shardfdw', "$how PREPARED '$gid'");
}

sub move
{
	my ($shardid, $to, $mode) = @_;
	return $coord->psql('shardfdw',
		"SET shardfdw.move_cutover_retries = 0;\n"
		  . "SELECT shardfdw_move_shard($shardid, '$to', '$mode')");
}

# ---------------------------------------------------------------- 1.
{
	my ($sa, $sb, $from) = group_of(0);
	my ($other_sa, undef, $other_from) = group_of(2);
	is($other_from, $from, 'shard groups 0 and 2 are on the same worker');
	prepare_on($from, 'unrelated_table', 'INSERT INTO unrel VALUES (1)');
	prepare_on($from, 'other_group', "UPDATE a_$other_sa SET v = v WHERE id IN (SELECT id FROM a_$other_sa LIMIT 5)");
	my $to = other($from);
	my ($ret, $out, $err) = move($sa, $to, 'block_writes');
	is($ret, 0, 'block_writes: prepared transactions on other tables do not block the move')
	  or diag $err;
	my (undef, undef, $now) = group_of(0);
	is($now, $to, 'block_writes: the group moved');
	is($worker_by_server{$from}->safe_psql('shardfdw',
			'SELECT string_agg(gid, \',\' ORDER BY gid) FROM pg_prepared_xacts'),
		'other_group,unrelated_table', 'block_writes: the prepared transactions are still pending');
	finish_prepared($from, 'COMMIT', 'unrelated_table');
	finish_prepared($from, 'ROLLBACK', 'other_group');
	check_all('block_writes next to unrelated prepared transactions');
}

# ---------------------------------------------------------------- 2.
{
	my ($sa, $sb, $from) = group_of(1);
	my $to = other($from);
	prepare_on($from, 'touches_b', "INSERT INTO b_$sb VALUES (-1, -1)");
	my ($ret, $out, $err) = move($sa, $to, 'block_writes');
	isnt($ret, 0, 'block_writes: a prepared transaction on a moved shard blocks the move');
	like($err, qr/ERROR:  a prepared transaction on server "$from" holds a lock on shard (public\.)?b_$sb\b/,
		'block_writes: the error names the server and the shard');
	like($err, qr/DETAIL:  Prepared transaction "touches_b" holds a lock on (public\.)?b_$sb\./,
		'block_writes: the detail names the prepared transaction');
	my (undef, undef, $now) = group_of(1);
	is($now, $from, 'block_writes: the group stayed on the source');
	finish_prepared($from, 'ROLLBACK', 'touches_b');
	check_all('block_writes refused by a prepared transaction on a moved shard');
	($ret, $out, $err) = move($sa, $to, 'block_writes');
	is($ret, 0, 'block_writes: the move succeeds once the prepared transaction ended') or diag $err;
	(undef, undef, $now) = group_of(1);
	is($now, $to, 'block_writes: the group moved after ROLLBACK PREPARED');
	check_all('block_writes after ROLLBACK PREPARED');
}

# ---------------------------------------------------------------- 3.
# An online move held at move-before-cutover (the 'wait' fault action waits
# for the advisory lock the blocker holds), a transaction prepared on the
# source meanwhile, then the move released.
sub logical_move_with_prepared
{
	my ($sa, $to, $from, $gid, $sql) = @_;
	my $blocker = $coord->background_psql('shardfdw');
	$blocker->query_safe('SELECT pg_advisory_lock(1397114452)');
	my $offset = -s $coord->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr('shardfdw'),
			'-c', 'SET shardfdw.move_cutover_retries = 0',
			'-c', "SET shardfdw.test_fault_point = 'move-before-cutover'",
			'-c', "SET shardfdw.test_fault_action = 'wait'",
			'-c', "SELECT shardfdw_move_shard($sa, '$to', 'force_logical')"
		],
		'>', \$out, '2>', \$err);
	$coord->wait_for_log(qr/fault point "move-before-cutover" reached/, $offset);
	prepare_on($from, $gid, $sql);
	$blocker->query_safe('SELECT pg_advisory_unlock(1397114452)');
	$blocker->quit;
	$h->finish;
	return ($h->result(0), $err);
}

{
	my ($sa, $sb, $from) = group_of(3);
	my $to = other($from);
	my ($ret, $err) = logical_move_with_prepared($sa, $to, $from, 'unrelated_online',
		'INSERT INTO unrel VALUES (2)');
	is($ret, 0, 'force_logical: a prepared transaction on another table does not block the cutover')
	  or diag $err;
	my (undef, undef, $now) = group_of(3);
	is($now, $to, 'force_logical: the group moved');
	finish_prepared($from, 'COMMIT', 'unrelated_online');
	check_all('force_logical next to an unrelated prepared transaction');

	($ret, $err) = logical_move_with_prepared($sa, $from, $to, 'touches_a',
		"INSERT INTO a_$sa VALUES (-1, -1)");
	isnt($ret, 0, 'force_logical: a prepared transaction on a moved shard blocks the cutover');
	like($err, qr/ERROR:  a prepared transaction on server "$to" holds a lock on shard (public\.)?a_$sa\b/,
		'force_logical: the error names the server and the shard');
	like($err, qr/DETAIL:  Prepared transaction "touches_a" holds a lock on (public\.)?a_$sa\./,
		'force_logical: the detail names the prepared transaction');
	(undef, undef, $now) = group_of(3);
	is($now, $to, 'force_logical: the group stayed on its source');
	finish_prepared($to, 'ROLLBACK', 'touches_a');
	check_all('force_logical refused by a prepared transaction on a moved shard');
}

# ---------------------------------------------------------------- 4.
# force_logical with a transaction prepared on the source before the move
# (on a table shardfdw does not know): creating the replication slot waits
# for it.  With a short shardfdw.move_slot_timeout the move fails naming
# it; with a long one the move says what it waits for (its progress
# NOTICE, and the detail of shardfdw.shard_moves) and goes on once it ends.
{
	my ($sa, $sb, $from) = group_of(0);
	my $to = other($from);
	prepare_on($from, 'before_move', 'INSERT INTO unrel VALUES (3)');
	my ($ret, $out, $err) = $coord->psql('shardfdw',
		"SET shardfdw.move_slot_timeout = '3s';\n"
		  . "SELECT shardfdw_move_shard($sa, '$to', 'force_logical')");
	isnt($ret, 0, 'slot timeout: the move fails while a prepared transaction is pending on the source');
	like($err, qr/ERROR:  shard move could not start replication from server "$from" within shardfdw.move_slot_timeout/,
		'slot timeout: the error says why');
	like($err, qr/DETAIL:  Creating its replication slot waits for these transactions to end: .*prepared transaction 'before_move' \(database shardfdw, prepared/,
		'slot timeout: the detail names the prepared transaction');
	my (undef, undef, $now) = group_of(0);
	is($now, $from, 'slot timeout: the group stayed on the source');
	check_all('force_logical after the slot timeout');

	my $h = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr('shardfdw'),
			'-c', "SELECT shardfdw_move_shard($sa, '$to', 'force_logical')"
		],
		'>', \$out, '2>', \$err);
	($out, $err) = ('', '');
	ok( $coord->poll_query_until('shardfdw',
			"SELECT count(*) > 0 FROM shardfdw.shard_moves WHERE detail LIKE '%waiting for transactions%before_move%'"),
		'slot wait: shardfdw.shard_moves says what the move waits for');
	finish_prepared($from, 'ROLLBACK', 'before_move');
	$h->finish;
	is($h->result(0), 0, 'slot wait: the move succeeds once the prepared transaction ended')
	  or diag $err;
	like($err, qr/NOTICE:  moving shard $sa from "$from" to "$to": copying\nDETAIL:  waiting for transactions on the source to end before replication can start \(shardfdw.move_slot_timeout\): .*prepared transaction 'before_move'/,
		'slot wait: the progress NOTICE names the transaction');
	(undef, undef, $now) = group_of(0);
	is($now, $to, 'slot wait: the group moved');
	check_all('force_logical after waiting for the slot');
}

$_->stop for ($coord, @workers);
done_testing();
