# test/t/550_split.pl: shardfdw_split_shard under load and under failures.
#
# - pgbench writes continuously through the coordinator (UPDATE, INSERT,
#   DELETE on two co-located tables, each mirrored into plain local tables
#   in the same transaction) while shards are split (online, the default
#   'auto' mode), split again and a tenant isolated: no write fails, the
#   tables equal their local mirrors afterwards, and the longest write stall
#   is printed;
# - an online split of a 200k-row shard under pgbench writes;
# - a move and a split, or two splits, of the same shard group: the second
#   fails at once with a clear error, nothing changes;
# - fault loops, each SHARDFDW_SPLIT_FAULT_ITERATIONS times (default 10),
#   cycling over the split's fault points and both modes: an ERROR or FATAL
#   in the split's job, the caller cancelled while the split waits at a
#   point, the coordinator stopped (immediate) while it waits, the source
#   worker stopped (immediate) while it waits.  After each, once
#   shardfdw_cleanup_orphaned_resources() ran: the shards are as before (or
#   split, when the cutover had committed), the worker tables are exactly
#   the catalog's, no split table, function, trigger, session or prepared
#   transaction is left on any worker, and the tables equal their mirrors
#   (with a write made between the failure and the cleanup).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardfdwCluster;
use Test::More;
use Time::HiRes qw(time);

my ($coord, @workers) = ShardfdwCluster::start(
	coordinator_conf => "shardfdw.recovery_interval = 0\n");
my $db = 'shardfdw';

$coord->safe_psql(
	$db, q{
CREATE TABLE acct (id int PRIMARY KEY, v bigint NOT NULL, note text);
CREATE TABLE item (acct_id int NOT NULL, seq bigint NOT NULL, v int, PRIMARY KEY (acct_id, seq));
INSERT INTO acct SELECT g, 0, 'a' || g FROM generate_series(1, 200) g;
INSERT INTO item SELECT g % 200 + 1, g, g FROM generate_series(1, 4000) g;
CREATE TABLE acct_local AS TABLE acct;
CREATE TABLE item_local AS TABLE item;
CREATE SEQUENCE item_seq START 100000;
SELECT create_distributed_table('acct', 'id', shard_count => 4);
SELECT create_distributed_table('item', 'acct_id', colocate_with => 'acct');
});

# the tables equal their local mirrors (whole-table checksums)
sub same_as_local
{
	my ($what) = @_;
	my $res = $coord->safe_psql(
		$db, q{
SELECT (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM acct a)
     = (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM acct_local a),
       (SELECT md5(string_agg(i::text, ',' ORDER BY acct_id, seq)) FROM item i)
     = (SELECT md5(string_agg(i::text, ',' ORDER BY acct_id, seq)) FROM item_local i)});
	is($res, 't|t', "$what: tables equal their local mirrors");
}

# shards in the catalog: "index/modulus@server" of both tables
sub layout
{
	return $coord->safe_psql(
		$db, q{
SELECT string_agg(table_name || ':' || shard_index || '/' || shard_modulus || '@' || server_name, ' '
                  ORDER BY table_name::text, shard_index)
  FROM shardfdw.shards WHERE table_name IN ('acct'::regclass, 'item'::regclass)});
}

# tables of acct / item and split helpers on the workers, prepared
# transactions there, against the catalog
sub worker_state
{
	my @res;
	for my $i (0 .. $#workers)
	{
		push @res, $workers[$i]->safe_psql(
			$db, q{
SELECT count(*) FILTER (WHERE tablename ~ '^(acct|item)_[0-9]+$') || ' tables '
       || count(*) FILTER (WHERE tablename LIKE 'shardfdw_split_%') || ' helpers '
       || (SELECT count(*) FROM pg_prepared_xacts) || ' prepared '
       || (SELECT count(*) FROM pg_trigger WHERE tgname = 'shardfdw_split_capture') || ' triggers '
       || (SELECT count(*) FROM pg_proc WHERE proname LIKE 'shardfdw_split_%') || ' functions '
       || (SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'shardfdw_split_%') || ' sessions'
  FROM pg_tables WHERE schemaname = 'public'});
	}
	my $catalog = $coord->safe_psql(
		$db, q{
SELECT string_agg(n || ' tables 0 helpers 0 prepared 0 triggers 0 functions 0 sessions', ',' ORDER BY server_name)
  FROM (SELECT server_name, count(*) n FROM shardfdw.shards
         WHERE table_name IN ('acct'::regclass, 'item'::regclass) GROUP BY 1) s});
	return (join(',', @res), $catalog);
}

sub check_invariant
{
	my ($what, $layout) = @_;
	is(layout(), $layout, "$what: same shards") if defined $layout;
	my ($workers, $catalog) = worker_state();
	is($workers, $catalog, "$what: nothing left behind on the workers");
	same_as_local($what);
}

sub shard_of
{
	my ($id) = @_;
	return $coord->safe_psql(
		$db, qq{
SELECT shardid FROM shardfdw.shards
 WHERE table_name = 'acct'::regclass
   AND satisfies_hash_partition('acct'::regclass, shard_modulus, shard_index, $id)});
}

# ---------------------------------------------------------------- under load
my $script = PostgreSQL::Test::Utils::tempdir() . '/writes.sql';
open(my $fh, '>', $script) or die;
print $fh q{\set id random(1, 200)
BEGIN;
UPDATE acct SET v = v + 1 WHERE id = :id;
UPDATE acct_local SET v = v + 1 WHERE id = :id;
SELECT nextval('item_seq') AS s \gset
INSERT INTO item VALUES (:id, :s, :id * 7);
INSERT INTO item_local VALUES (:id, :s, :id * 7);
DELETE FROM item WHERE acct_id = :id AND seq = :s - 40;
DELETE FROM item_local WHERE acct_id = :id AND seq = :s - 40;
COMMIT;
};
close $fh;

my $logdir = PostgreSQL::Test::Utils::tempdir();
my ($pgb_out, $pgb_err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '10', '-l',
		"--log-prefix=$logdir/pgb", '-f', $script,
		'-h', $coord->host, '-p', $coord->port, $db
	],
	'>', \$pgb_out, '2>', \$pgb_err);

sleep 2;
my $split_ms = '';
for my $step (
	[ 'split the shard of acct 7', sub { 'SELECT shardfdw_split_shard(' . shard_of(7) . ')' } ],
	[ 'split its half again', sub { 'SELECT shardfdw_split_shard(' . shard_of(7) . ')' } ],
	[ 'split the shard of acct 100', sub { 'SELECT shardfdw_split_shard(' . shard_of(100) . ')' } ],
	[ 'isolate acct 150', sub { q{SELECT shardfdw_isolate_tenant('acct', '150')} } ])
{
	my ($name, $sql) = @$step;
	my $t0 = time;
	my ($ret, $out, $err) = $coord->psql($db, $sql->());
	is($ret, 0, "$name under load") or diag($err);
	$split_ms .= sprintf(' %s: %.0f ms;', $name, (time - $t0) * 1000);
	sleep 1;
}
$pgbench->finish;
is($?, 0, 'pgbench: no write failed') or diag($pgb_err);
my ($txns) = $pgb_out =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $pgb_out =~ /number of failed transactions: (\d+)/;
ok($txns && $txns > 0, "pgbench wrote during the splits");
is($failed // 0, 0, 'no failed transactions');

# longest write stall: the slowest transaction in pgbench's logs
my $max_us = 0;
for my $log (glob("$logdir/pgb*"))
{
	open(my $lf, '<', $log) or die;
	while (<$lf>)
	{
		my @f = split;
		$max_us = $f[2] if @f >= 3 && $f[2] > $max_us;
	}
	close $lf;
}
note(sprintf('under load: %s transactions; longest write stall %.0f ms;%s',
		$txns // 0, $max_us / 1000, $split_ms));
diag(sprintf('split under load: %s write transactions, longest write stall %.0f ms;%s',
		$txns // 0, $max_us / 1000, $split_ms));

check_invariant('after the splits under load');
is($coord->safe_psql($db, q{
SELECT count(DISTINCT acct_id) FROM item i JOIN shardfdw.shards s ON s.shard_name::regclass = i.tableoid
 WHERE s.shardid = (SELECT shardid FROM shardfdw.shards WHERE table_name = 'item'::regclass
                      AND satisfies_hash_partition('item'::regclass, shard_modulus, shard_index, 150))}),
	'1', 'acct 150 is alone in its shard');

# ---------------------------------------------------------------- online
# a 200k-row shard split in the online mode (the default, 'auto') while pgbench
# updates, inserts and deletes its rows: no write fails, the table equals
# its mirror, writes went on during the copy
$coord->safe_psql(
	$db, q{
CREATE TABLE big (id int PRIMARY KEY, v bigint NOT NULL, pad text);
INSERT INTO big SELECT g, 0, repeat('x', 40) FROM generate_series(1, 200000) g;
CREATE TABLE big_local AS TABLE big;
ALTER TABLE big_local ADD PRIMARY KEY (id);
CREATE SEQUENCE big_seq START 300000;
SELECT create_distributed_table('big', 'id', colocate_with => 'none', shard_count => 1);
});
# Each client deletes only a row it inserted itself (pad = its client id),
# some transactions earlier, so committed everywhere before it is deleted.
# A row of the other client could still be between the two halves of its
# commit (COMMIT PREPARED on the worker comes after the coordinator's
# commit): the DELETE on the worker would not see it, the one of the local
# mirror would, and the two tables would differ without any split (it did,
# under heavy machine load; see "Visibility" in README.md).
my $bigscript = PostgreSQL::Test::Utils::tempdir() . '/big.sql';
open($fh, '>', $bigscript) or die;
print $fh q{\set id random(1, 200000)
BEGIN;
UPDATE big SET v = v + 1 WHERE id = :id;
UPDATE big_local SET v = v + 1 WHERE id = :id;
SELECT nextval('big_seq') AS s \gset
INSERT INTO big VALUES (:s, :id, 'c:client_id');
INSERT INTO big_local VALUES (:s, :id, 'c:client_id');
DELETE FROM big WHERE id = :s - 30 AND pad = 'c:client_id';
DELETE FROM big_local WHERE id = :s - 30 AND pad = 'c:client_id';
COMMIT;
};
close $fh;
my $biglog = PostgreSQL::Test::Utils::tempdir();
($pgb_out, $pgb_err) = ('', '');
$pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '8', '-l',
		"--log-prefix=$biglog/pgb", '-f', $bigscript,
		'-h', $coord->host, '-p', $coord->port, $db
	],
	'>', \$pgb_out, '2>', \$pgb_err);
sleep 2;
my $bigshard = $coord->safe_psql($db, q{SELECT shardid FROM shardfdw.shards WHERE table_name = 'big'::regclass});
my $t0 = time;
my $biglogpos = -s $coord->logfile;
my ($sret, $sout, $serr) = $coord->psql($db, "SELECT shardfdw_split_shard($bigshard)");
my $t1 = time;
is($sret, 0, 'online split of a 200k-row shard under load') or diag($serr);
$pgbench->finish;
is($?, 0, 'online split: no write failed') or diag($pgb_err);
my ($stats) = slurp_file($coord->logfile, $biglogpos) =~ /(online split of shard \d+: [^\n]*)/;
my ($bigmax, $during, $bigtxns) = (0, 0, 0);
for my $log (glob("$biglog/pgb*"))
{
	open(my $lf, '<', $log) or die;
	while (<$lf>)
	{
		my @f = split;
		next if @f < 6;
		$bigtxns++;
		$bigmax = $f[2] if $f[2] > $bigmax;
		my $end = $f[4] + $f[5] / 1e6;
		$during++ if $end > $t0 && $end < $t1;
	}
	close $lf;
}
ok($bigtxns > 0, 'online split: pgbench wrote');
diag(sprintf('online split of 200k rows: %.0f ms; %s write transactions, %d of them committed during the split; longest write stall %.0f ms; %s',
		($t1 - $t0) * 1000, $bigtxns, $during, $bigmax / 1000, $stats // 'no statistics'));
is($coord->safe_psql(
		$db, q{
SELECT (SELECT md5(string_agg(b::text, ',' ORDER BY id)) FROM big b)
     = (SELECT md5(string_agg(b::text, ',' ORDER BY id)) FROM big_local b),
       (SELECT count(*) FROM shardfdw.shards WHERE table_name = 'big'::regclass)}),
	't|2', 'online split: the table equals its mirror, in two shards')
  or diag("rows that differ (side, row; at most 20):\n"
	  . $coord->safe_psql(
		$db, q{
(SELECT 'only distributed', d.* FROM (SELECT * FROM big EXCEPT ALL SELECT * FROM big_local) d ORDER BY id LIMIT 10)
UNION ALL
(SELECT 'only mirror', m.* FROM (SELECT * FROM big_local EXCEPT ALL SELECT * FROM big) m ORDER BY id LIMIT 10)})
	  . "\nsplit job:\n"
	  . $coord->safe_psql($db, q{SELECT * FROM shardfdw.jobs ORDER BY 1 DESC LIMIT 1}));
my $bigtables = 0;
$bigtables += $_->safe_psql($db, q{SELECT count(*) FROM pg_tables WHERE tablename ~ '^big_[0-9]+$'})
  for @workers;
is($bigtables, 2, 'online split: the old shard table is gone, the two new ones are there');
$coord->safe_psql($db, 'DROP TABLE big, big_local; DROP SEQUENCE big_seq');
check_invariant('after the online split');


# ---------------------------------------------------------------- helpers
# wait until no split job runs, then run the cleanup pass
sub cleanup
{
	$coord->poll_query_until($db,
		q{SELECT count(*) = 0 FROM shardfdw.jobs WHERE kind IN ('split', 'move') AND state = 'running'})
	  or die 'a job did not end';
	$coord->safe_psql($db, 'SELECT shardfdw_cleanup_orphaned_resources()');
}

# a write through the coordinator to the group, mirrored locally
sub write_one
{
	my ($id) = @_;
	my $seq = $coord->safe_psql($db, q{SELECT nextval('item_seq')});
	$coord->safe_psql($db,
		"BEGIN; UPDATE acct SET v = v + 1 WHERE id = $id; UPDATE acct_local SET v = v + 1 WHERE id = $id;"
		  . " INSERT INTO item VALUES ($id, $seq, 1); INSERT INTO item_local VALUES ($id, $seq, 1); COMMIT");
}

sub server_of
{
	my ($shard) = @_;
	return $coord->safe_psql($db, "SELECT server_name FROM shardfdw.shards WHERE shardid = $shard");
}

# start psql running a split that waits at point for sleep_ms; returns the
# handle once the job reached the point
sub start_paused_split
{
	my ($shard, $mode, $point, $sleep_ms, $out, $err) = @_;
	my $logpos = -s $coord->logfile;
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr($db),
			'-c', "SET shardfdw.test_fault_point = '$point'",
			'-c', "SET shardfdw.test_fault_action = 'sleep'",
			'-c', "SET shardfdw.test_fault_sleep = $sleep_ms",
			'-c', "SELECT shardfdw_split_shard($shard, '$mode')"
		],
		'>', $out, '2>', $err);
	$coord->wait_for_log(qr/fault point "\Q$point\E" reached/, $logpos);
	return $h;
}

# ---------------------------------------------------------------- exclusion
# a split holds its shard group: a second split or a move of the group
# fails at once; a move holds it too: a split fails at once
{
	my $shard = shard_of(42);
	my $source = server_of($shard);
	my $target = $source eq 'worker1' ? 'worker2' : 'worker1';
	my ($out, $err) = ('', '');
	my $h = start_paused_split($shard, 'auto', 'split-after-copy', 3000, \$out, \$err);
	my ($ret, $o, $e) = $coord->psql($db, "SELECT shardfdw_split_shard($shard)");
	like($e, qr/shard $shard is already being moved or split/,
		'a second split of a shard being split fails at once');
	my $item = $coord->safe_psql($db,
		"SELECT shardid FROM shardfdw.shards WHERE table_name = 'item'::regclass"
		  . " AND shard_index = (SELECT shard_index FROM shardfdw.shards WHERE shardid = $shard)");
	($ret, $o, $e) = $coord->psql($db, "SELECT shardfdw_move_shard($item, '$target', 'block_writes')");
	like($e, qr/shard $item is already being moved or split/,
		'a move of the group being split fails at once');
	$h->finish;
	is($?, 0, 'the split holding the group succeeds') or diag($err);
	check_invariant('a split with a refused split and move');

	$shard = shard_of(42);
	$coord->safe_psql($db,
		"ALTER DATABASE $db SET shardfdw.test_fault_point = 'move-after-create';"
		  . " ALTER DATABASE $db SET shardfdw.test_fault_action = 'sleep';"
		  . " ALTER DATABASE $db SET shardfdw.test_fault_sleep = 3000");
	my $logpos = -s $coord->logfile;
	($out, $err) = ('', '');
	$h = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr($db),
			'-c', "SELECT shardfdw_move_shard($shard, '$target', 'block_writes')"
		],
		'>', \$out, '2>', \$err);
	$coord->wait_for_log(qr/fault point "move-after-create" reached/, $logpos);
	$coord->safe_psql($db,
		"ALTER DATABASE $db RESET shardfdw.test_fault_point;"
		  . " ALTER DATABASE $db RESET shardfdw.test_fault_action;"
		  . " ALTER DATABASE $db RESET shardfdw.test_fault_sleep");
	($ret, $o, $e) = $coord->psql($db, "SELECT shardfdw_split_shard($shard)");
	like($e, qr/shard $shard is already being moved or split/,
		'a split of a group being moved fails at once');
	$h->finish;
	is($?, 0, 'the move holding the group succeeds') or diag($err);
	is(server_of($shard), $target, 'the group moved');
	check_invariant('a move with a refused split');
}

# an online split cancelled while the worker runs one of its commands
# (CREATE TRIGGER, waiting for a lock held on the worker): the command is
# cancelled too, and nothing is left behind
{
	my $shard = shard_of(42);
	my $worker = $workers[ server_of($shard) eq 'worker1' ? 0 : 1 ];
	my $before = layout();
	my $blocker = $worker->background_psql($db);
	$blocker->query_safe("BEGIN; LOCK TABLE acct_$shard IN SHARE MODE");
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $coord->connstr($db), '-c', "SELECT shardfdw_split_shard($shard)" ],
		'>', \$out, '2>', \$err);
	$worker->poll_query_until($db,
		q{SELECT EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE 'CREATE TRIGGER shardfdw_split_capture%' AND wait_event_type = 'Lock')})
	  or die 'the split did not wait for the lock';
	$coord->safe_psql($db,
		q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		   WHERE query LIKE '%shardfdw_split_shard%' AND backend_type = 'client backend' AND pid <> pg_backend_pid()});
	$h->finish;
	like($err, qr/cancel/, 'online split cancelled while the worker waits: the split fails');
	cleanup();
	is($worker->safe_psql($db,
			q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE TRIGGER shardfdw_split_capture%'}),
		'0', 'online split cancelled while the worker waits: the worker command is cancelled too');
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	check_invariant('online split cancelled while the worker waits', $before);
}

# ---------------------------------------------------------------- faults
my $iterations = $ENV{SHARDFDW_SPLIT_FAULT_ITERATIONS} // 10;
my @points = ('split-after-create', 'split-after-copy', 'split-before-cutover', 'split-after-cutover');
my @modes = ('auto', 'auto', 'block_writes');

# an ERROR or FATAL in the job at each point
for my $i (1 .. $iterations)
{
	my $point = $points[ ($i - 1) % @points ];
	my $mode = $modes[ ($i - 1) % @modes ];
	my $kind = $i % 2 ? 'error' : 'fatal';
	my $id = 1 + ($i * 37) % 200;
	my $shard = shard_of($id);
	my $before = layout();
	my $what = "fault $i: $kind at $point ($mode)";
	my ($ret, $out, $err) = $coord->psql($db,
		"SET shardfdw.test_fault_point = '$point'; SET shardfdw.test_fault_action = '$kind';"
		  . " SELECT shardfdw_split_shard($shard, '$mode')");
	like($err, qr/fault injected at "\Q$point\E"|terminat|died|interrupted/, "$what: the split fails");
	write_one($id);
	cleanup();
	check_invariant($what, $before);
}

# the caller cancelled while the split waits at a point (online writes go
# on meanwhile before the cutover)
for my $i (1 .. $iterations)
{
	my $point = $points[ ($i - 1) % @points ];
	my $mode = $modes[ ($i - 1) % @modes ];
	my $id = 1 + ($i * 53) % 200;
	my $shard = shard_of($id);
	my $before = layout();
	my $what = "cancel $i at $point ($mode)";
	my ($out, $err) = ('', '');
	my $h = start_paused_split($shard, $mode, $point, 60000, \$out, \$err);
	write_one($id) if $mode eq 'auto' && $point =~ /after-(create|copy)/;
	$coord->safe_psql($db,
		q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		   WHERE query LIKE '%shardfdw_split_shard%' AND backend_type = 'client backend' AND pid <> pg_backend_pid()});
	$h->finish;
	like($err, qr/cancel/, "$what: the split fails");
	write_one($id);
	cleanup();
	check_invariant($what, $before);
}

# the coordinator stopped (immediate) while the split waits at a point;
# after split-before-drop-old the split has committed: the cleanup pass
# drops the old shard tables
my @crash_points = (@points, 'split-before-drop-old');
for my $i (1 .. $iterations)
{
	my $point = $crash_points[ ($i - 1) % @crash_points ];
	my $mode = $modes[ ($i - 1) % @modes ];
	my $id = 1 + ($i * 71) % 200;
	my $shard = shard_of($id);
	my $before = layout();
	my $what = "coordinator stopped $i at $point ($mode)";
	my ($out, $err) = ('', '');
	my $h = start_paused_split($shard, $mode, $point, 60000, \$out, \$err);
	$coord->stop('immediate');
	$h->finish;
	isnt($?, 0, "$what: the split's caller fails");
	$coord->start;
	ok($coord->safe_psql($db, 'SELECT count(*) FROM shardfdw.cleanup') > 0,
		"$what: the split's cleanup records are left for the cleanup pass");
	write_one($id);
	cleanup();
	check_invariant($what, $point eq 'split-before-drop-old' ? undef : $before);
	isnt(layout(), $before, "$what: the shard is split") if $point eq 'split-before-drop-old';
}

# the source worker stopped (immediate) while the split waits at a point,
# started again once the split is over: a split whose cutover committed
# before the split noticed stays split, any other is undone
for my $i (1 .. $iterations)
{
	my $point = $crash_points[ ($i - 1) % @crash_points ];
	my $mode = $modes[ ($i - 1) % @modes ];
	my $id = 1 + ($i * 89) % 200;
	my $shard = shard_of($id);
	my $worker = $workers[ server_of($shard) eq 'worker1' ? 0 : 1 ];
	my $before = layout();
	my $what = "worker stopped $i at $point ($mode)";
	my ($out, $err) = ('', '');
	my $h = start_paused_split($shard, $mode, $point, 1000, \$out, \$err);
	$worker->stop('immediate');
	$h->finish;
	my $rc = $?;
	$worker->start;
	write_one($id);
	cleanup();
	check_invariant($what);
	if ($rc != 0)
	{
		is(layout(), $before, "$what: the split failed, the shards are as before");
	}
	else
	{
		isnt(layout(), $before, "$what: the split succeeded, the shard is split");
	}
}

# a split after all that still works
my ($ret, $out, $err) = $coord->psql($db, 'SELECT shardfdw_split_shard(' . shard_of(11) . ')');
is($ret, 0, 'a split after the faults succeeds') or diag($err);
check_invariant('after the last split');
is($coord->safe_psql($db, 'SELECT count(*) FROM shardfdw.cleanup'), '0', 'no cleanup record is left');

done_testing();
