# test/t/102_failures.pl: worker failures and cancellation.
#
# - a statement touching a stopped worker fails with an error naming its
#   SERVER, while statements touching only the healthy worker still run;
# - a worker dying in the middle of a transaction aborts it everywhere;
# - statement_timeout and pg_cancel_backend on the coordinator cancel the
#   remote statement: nothing is left running or waiting on the worker.
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

my $srcdir = $ENV{SHARDFDW_SRCDIR}
  // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $add_worker = "$srcdir/scripts/add_worker.sql";
my $user = scalar getpwuid($<);

my ($coord, @workers) = ShardfdwCluster::start(coordinator_conf => "shardfdw.recovery_interval = 0\n");
$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 4;
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
SELECT create_distributed_table('t', 'id');
INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g;
});

# an id stored on worker1 and one on worker2
my %id_on;
for my $id (1 .. 100)
{
	my $server = $coord->safe_psql(
		'shardfdw', qq{
SELECT s.server_name FROM shardfdw.shards s
 WHERE s.shard_name = (SELECT tableoid::regclass::text FROM t WHERE id = $id)});
	$id_on{$server} //= $id;
}
ok(defined $id_on{worker1} && defined $id_on{worker2}, 'rows on both workers');
my $shard1 = $coord->safe_psql('shardfdw',
	"SELECT shard_name FROM shardfdw.shards WHERE server_name = 'worker1' ORDER BY 1 LIMIT 1");

# rows of worker1's shards with v = $v, counted on worker1 itself
sub worker1_count
{
	my ($v) = @_;
	return $workers[0]->safe_psql(
		'shardfdw', qq{
SELECT coalesce(sum((xpath('/row/c/text()',
         query_to_xml(format('SELECT count(*) AS c FROM public.%I WHERE v = $v',
                             tablename), false, true, '')))[1]::text::int), 0)
  FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t_[0-9]+\$'});
}

# shardfdw sessions on worker1 that are not idle (running or waiting)
sub worker1_busy
{
	return $workers[0]->safe_psql('shardfdw',
		    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shardfdw'"
		  . " AND state <> 'idle'");
}

# ---------------------------------------------------------------- down worker
$workers[1]->stop('immediate');
my ($ret, $out, $err) = (0, '', '');
$ret = $coord->psql('shardfdw', 'SELECT count(*) FROM t',
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'a query touching a down worker fails');
like($err, qr/could not connect to server "worker2"/,
	'the error names the SERVER of the down worker');
is($coord->safe_psql('shardfdw', "SELECT v FROM t WHERE id = $id_on{worker1}"),
	'0', 'a query touching only the healthy worker still runs');
$coord->safe_psql('shardfdw', "UPDATE t SET v = 1 WHERE id = $id_on{worker1}");
is(worker1_count(1), '1', 'and so does a write on the healthy worker');
$ret = $coord->psql('shardfdw', 'UPDATE t SET v = 2',
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'a write touching the down worker fails');
is(worker1_count(2), '0', 'and leaves nothing on the healthy worker');
$workers[1]->start;
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM t'), '100',
	'the restarted worker is used again');

# ---------------------------------------------------------------- mid-transaction
# worker2 dies after both workers took writes: the transaction aborts and
# worker1 keeps nothing
my $pgdata2 = $workers[1]->data_dir;
$ret = $coord->psql(
	'shardfdw', qq{
BEGIN;
UPDATE t SET v = 3;
\\! pg_ctl -D $pgdata2 -m immediate stop >/dev/null
UPDATE t SET v = 4;
COMMIT;},
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'a worker dying mid-transaction makes the transaction fail');
like($err, qr/worker2/, 'the error names the dead worker') or diag($err);
$workers[1]->_update_pid(0);	# stopped behind Cluster.pm's back
$workers[1]->start;
is(worker1_count(3) + worker1_count(4), 0,
	'the healthy worker kept none of the aborted transaction');
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM t WHERE v IN (3, 4)'),
	'0', 'nothing of it anywhere');
is($workers[0]->safe_psql('shardfdw', 'SELECT count(*) FROM pg_prepared_xacts'),
	'0', 'no prepared transaction left on worker1');
is(worker1_busy(), '0', 'no shardfdw session left busy on worker1');

# ---------------------------------------------------------------- cancellation
# a prepared transaction on worker1 holds a lock on one of its shards, so a
# scan of that shard waits on the worker until cancelled
$workers[0]->safe_psql('shardfdw',
	"BEGIN; LOCK TABLE public.$shard1 IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION 'locker'");

$ret = $coord->psql('shardfdw',
	"SET statement_timeout = '1s'; SELECT count(*) FROM t",
	stdout => \$out, stderr => \$err);
like($err, qr/canceling statement due to statement timeout/,
	'statement_timeout fires while the worker waits');
ok($workers[0]->poll_query_until('shardfdw', "SELECT " . 'count(*) = 0'
		  . " FROM pg_stat_activity WHERE application_name = 'shardfdw'"
		  . " AND wait_event_type = 'Lock'"),
	'statement_timeout cancelled the remote statement');

my $file = "$PostgreSQL::Test::Utils::tmp_check/cancel.sql";
open(my $fh, '>', $file) or die;
print $fh "SELECT count(*) FROM t;\n";
close($fh);
my ($bout, $berr) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $coord->connstr('shardfdw'), '-f', $file ],
	'>' => \$bout, '2>' => \$berr);
ok($workers[0]->poll_query_until('shardfdw', "SELECT " . 'count(*) = 1'
		  . " FROM pg_stat_activity WHERE application_name = 'shardfdw'"
		  . " AND wait_event_type = 'Lock'"),
	'the scan waits on the worker');
$coord->safe_psql('shardfdw',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT count(*) FROM t;'");
$h->finish;
like($berr, qr/canceling statement due to user request/,
	'pg_cancel_backend cancels the distributed statement');
ok($workers[0]->poll_query_until('shardfdw', "SELECT " . 'count(*) = 0'
		  . " FROM pg_stat_activity WHERE application_name = 'shardfdw'"
		  . " AND wait_event_type = 'Lock'"),
	'and the remote statement');

$workers[0]->safe_psql('shardfdw', "ROLLBACK PREPARED 'locker'");
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM t'), '100',
	'the table works after the cancellations');
is(worker1_busy(), '0', 'no shardfdw session left busy on worker1');

# ---------------------------------------------------------------- no 2PC
# a worker with max_prepared_transactions = 0: registering it warns, a
# write on it and on another worker fails at commit naming it and leaves
# nothing anywhere
my $w3 = PostgreSQL::Test::Cluster->new('worker3');
$w3->init;
$w3->append_conf('postgresql.conf', "max_prepared_transactions = 0\n");
$w3->start;
$w3->safe_psql('postgres', 'CREATE DATABASE shardfdw');
$ret = $coord->psql(
	'shardfdw', undef,
	stdout => \$out,
	stderr => \$err,
	extra_params => [
		'-v', 'name=worker3',
		'-v', 'host=' . $w3->host,
		'-v', 'port=' . $w3->port,
		'-v', 'dbname=shardfdw',
		'-v', "user=$user",
		'-f', $add_worker
	]);
is($ret, 0, 'a worker without prepared transactions can be registered');
like($err, qr/WARNING:.*max_prepared_transactions = 0/, 'with a warning');
$coord->safe_psql('shardfdw',
	'CREATE TABLE n (id int PRIMARY KEY); INSERT INTO n SELECT generate_series(1, 100)');
$ret = $coord->psql('shardfdw',
	"SET shardfdw.shard_count = 6; SELECT create_distributed_table('n', 'id')",
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'distributing onto it and other workers fails');
like($err, qr/prepared transactions are disabled.*worker3/s,
	'naming the worker without prepared transactions') or diag($err);
is($coord->safe_psql('shardfdw',
		"SELECT count(*) FROM shardfdw.shards WHERE table_name = 'n'::regclass"),
	'0', 'the table was not distributed');
is($coord->safe_psql('shardfdw', 'SELECT count(*) FROM n'), '100',
	'its rows are still local');
is($_->safe_psql('shardfdw',
		"SELECT count(*) FROM pg_tables WHERE tablename ~ '^n_[0-9]+\$'"),
	'0', 'no shard table left on ' . $_->name) for @workers, $w3;
is($_->safe_psql('shardfdw', 'SELECT count(*) FROM pg_prepared_xacts'),
	'0', 'no prepared transaction left on ' . $_->name) for @workers;

$coord->stop;
$_->stop for @workers, $w3;
done_testing();
