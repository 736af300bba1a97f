# test/t/203_durable_commits.pl: cleanup records and cutovers are durable
# when the caller's session has synchronous_commit = off.
#
# A move, a split and a concurrent distribution run from a session with
# synchronous_commit = off (their jobs take that setting).  The
# coordinator transactions that commit what records the objects about to
# be created on workers (cleanup records; the new parent of a concurrent
# distribution), and those that switch the shards (the cutovers), must
# still commit synchronously: their commit record must be in the flushed
# WAL when the operation goes on.  Checked with pg_walinspect, which reads
# the WAL up to the flush position only:
#   - while the operation pauses at a fault point after that commit (the
#     objects it records are created next);
#   - after the operation, for the commit of its cutover.
# The coordinator's WAL writer runs every 10 s only (wal_writer_delay), so
# an asynchronous commit would mostly not be flushed yet when checked: the
# check passes whatever the timing when the commit is synchronous.
# A transaction that wrote on two workers (two-phase commit) from such a
# session: its local commit is the decision, flushed before any COMMIT
# PREPARED is sent.
# Skipped without pg_walinspect (contrib).
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
	coordinator_conf => "shardfdw.recovery_interval = 0\n"
	  . "wal_writer_delay = '10s'\nautovacuum = off\n");

if ($coord->safe_psql('shardfdw',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'") ne '1')
{
	plan skip_all => 'pg_walinspect is not installed';
}

$coord->safe_psql(
	'shardfdw', q{
CREATE EXTENSION pg_walinspect;
SET shardfdw.shard_count = 4;
CREATE TABLE t (id int PRIMARY KEY, v int);
SELECT create_distributed_table('t', 'id');
INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE c (id int PRIMARY KEY, v int);
INSERT INTO c SELECT g, g FROM generate_series(1, 1000) g;
});

# Is the commit record of transaction $xid (text) in the flushed WAL after
# LSN $start?
sub commit_flushed
{
	my ($start, $xid) = @_;
	return $coord->safe_psql('shardfdw',
		"SELECT count(*) FROM pg_get_wal_records_info_till_end_of_wal('$start')"
		  . " WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%'"
		  . " AND xid = '$xid'::xid");
}

# Run $sql in a session with synchronous_commit = off, paused for a while at
# fault point $point; call $check once the point is reached, then wait for
# the end.  Returns (exit code, stderr).
sub run_paused
{
	my ($sql, $point, $check) = @_;
	my $offset = -s $coord->logfile;
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('shardfdw'),
			'-c', "SET synchronous_commit = off; SET shardfdw.test_fault_point = '$point';"
			  . " SET shardfdw.test_fault_action = 'sleep'; SET shardfdw.test_fault_sleep = '5s'",
			'-c', $sql
		],
		'>', \$o, '2>', \$e);
	$coord->wait_for_log(qr/fault point "$point" reached/, $offset);
	$check->();
	$h->finish;
	return ($h->result(0), $e);
}

sub insert_lsn
{
	return $coord->safe_psql('shardfdw', 'SELECT pg_current_wal_insert_lsn()');
}

# ---------------------------------------------------------------- move
my ($shardid, $from) = split /\|/, $coord->safe_psql('shardfdw',
	"SELECT shardid, server_name FROM shardfdw.shards WHERE table_name = 't'::regclass ORDER BY shardid LIMIT 1");
my $to = $from eq 'worker1' ? 'worker2' : 'worker1';
my $start = insert_lsn();
my ($ret, $err) = run_paused(
	"SELECT shardfdw_move_shard($shardid, '$to', 'block_writes')",
	'move-after-cleanup-records',
	sub {
		my $xid = $coord->safe_psql('shardfdw', 'SELECT xmin FROM shardfdw.cleanup LIMIT 1');
		isnt($xid, '', 'move: its cleanup records are committed at the fault point');
		is(commit_flushed($start, $xid), '1',
			'move: the commit of its cleanup records is flushed before the shard tables are created');
	});
is($ret, 0, 'move: succeeds') or diag $err;
my $xid = $coord->safe_psql('shardfdw', "SELECT xmin FROM shardfdw.placement WHERE shardid = $shardid");
is(commit_flushed($start, $xid), '1', 'move: the commit of its cutover is flushed');
is($coord->safe_psql('shardfdw', 'SHOW synchronous_commit'), 'on',
	'(the coordinator defaults to synchronous_commit = on)');

# ---------------------------------------------------------------- split
$start = insert_lsn();
($ret, $err) = run_paused(
	"SELECT shardfdw_split_shard($shardid, 'block_writes')",
	'split-after-create',
	sub {
		my $xid = $coord->safe_psql('shardfdw', 'SELECT xmin FROM shardfdw.cleanup LIMIT 1');
		isnt($xid, '', 'split: its cleanup records are committed at the fault point');
		is(commit_flushed($start, $xid), '1',
			'split: the commit of its cleanup records is flushed before the new shards are created');
	});
is($ret, 0, 'split: succeeds') or diag $err;
$xid = $coord->safe_psql('shardfdw',
	"SELECT xmin FROM shardfdw.shard WHERE relid = 't'::regclass ORDER BY shardid DESC LIMIT 1");
is(commit_flushed($start, $xid), '1', 'split: the commit of its cutover is flushed');

# ---------------------------------------------------------------- concurrent distribution
$start = insert_lsn();
my $relid = $coord->safe_psql('shardfdw', "SELECT 'c'::regclass::oid");
($ret, $err) = run_paused(
	"SELECT create_distributed_table_concurrently('c', 'id')",
	'concurrent-log',
	sub {
		my $xid = $coord->safe_psql('shardfdw',
			"SELECT xmin FROM pg_class WHERE relname = 'shardfdw_new_$relid'");
		isnt($xid, '', 'concurrent: its new parent is committed at the fault point');
		is(commit_flushed($start, $xid), '1',
			'concurrent: the commit of the new parent (with the shards) is flushed');
	});
is($ret, 0, 'concurrent: succeeds') or diag $err;
$xid = $coord->safe_psql('shardfdw',
	"SELECT xmin FROM shardfdw.distributed_table WHERE relid = 'c'::regclass");
is(commit_flushed($start, $xid), '1', 'concurrent: the commit of its switch is flushed');

# ---------------------------------------------------------------- in the caller's transaction
$start = insert_lsn();
$coord->safe_psql(
	'shardfdw', q{
CREATE TABLE d (id int PRIMARY KEY);
SET synchronous_commit = off;
SELECT create_distributed_table('d', 'id');
});
$xid = $coord->safe_psql('shardfdw',
	"SELECT xmin FROM shardfdw.distributed_table WHERE relid = 'd'::regclass");
is(commit_flushed($start, $xid), '1',
	'create_distributed_table: the commit is flushed before the workers commit the shards');

# ---------------------------------------------------------------- two-phase commit
# a transaction that wrote on both workers: its local commit decides, so it
# must be flushed before COMMIT PREPARED goes to the workers
$start = insert_lsn();
$xid = $coord->safe_psql(
	'shardfdw', q{
BEGIN;
SET LOCAL synchronous_commit = off;
UPDATE t SET v = v + 1;
UPDATE t SET v = v - 1;
SELECT txid_current();
COMMIT;
});
is(commit_flushed($start, $xid), '1',
	'two-phase commit: the local commit is flushed before the workers commit');

is($coord->safe_psql('shardfdw', 'SELECT count(*), sum(v) FROM t'), '1000|500500',
	'the rows of t are all there');
is($coord->safe_psql('shardfdw', 'SELECT count(*), sum(v) FROM c'), '1000|500500',
	'the rows of c are all there');

done_testing();
