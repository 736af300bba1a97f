# test/t/430_concurrent.pl: create_distributed_table_concurrently under
# continuous writes, and interrupted at every phase.
#
# - pgbench clients run INSERT / UPDATE / DELETE transactions, each applied
#   to the table being distributed and to a plain local copy, while the
#   table is distributed concurrently: no write fails, the table equals the
#   copy afterwards, the longest write (transaction latency) is printed;
# - with writers still running, the distribution is interrupted in every
#   phase of its job (fault points concurrent-setup, -log, -copy, -catch-up,
#   -switch), SHARDFDW_CONCURRENT_LOOPS times each (default 10): odd loops
#   by an injected error, even loops by cancelling the calling session while
#   the job sleeps there; every loop also terminates the job's process
#   (SIGTERM, FATAL) in one phase, in turn.  After each, the table is still
#   a plain local table equal to its copy, it takes writes, and nothing is
#   left on the coordinator (new parent, change log, triggers, catalog rows)
#   or on the workers (shard tables, prepared transactions);
# - finally it distributes under the same writes;
# - after a coordinator crash in the middle (nothing could clean up), the
#   table still works and the next attempt drops the leftovers first.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use ShardfdwCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $loops = $ENV{SHARDFDW_CONCURRENT_LOOPS} // 10;
my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my @points = qw(concurrent-setup concurrent-log concurrent-copy
  concurrent-catch-up concurrent-switch);

my ($coord, @workers) = ShardfdwCluster::start(
	coordinator_conf => "shardfdw.recovery_interval = 0\nmax_worker_processes = 16\n");

# ---------------------------------------------------------------- writers
# One transaction: the same change to table T and to its local copy T_local
# (insert, update, update of the key, which is the distribution column, or
# delete).
sub write_script
{
	my ($t, $ids) = @_;
	my $file = "$tmp/$t.pgbench";
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh <<"EOS";
\\set id random(1, $ids)
\\set v random(1, 1000000)
\\set op random(1, 4)
BEGIN;
\\if :op = 1
SELECT nextval('${t}_seq') AS nid \\gset
INSERT INTO $t VALUES (:nid, :v, 'w');
INSERT INTO ${t}_local VALUES (:nid, :v, 'w');
\\elif :op = 2
UPDATE $t SET v = v + 1, note = 'u' WHERE id = :id;
UPDATE ${t}_local SET v = v + 1, note = 'u' WHERE id = :id;
\\elif :op = 3
SELECT nextval('${t}_seq') AS nid \\gset
UPDATE $t SET id = :nid, note = 'k' WHERE id = :id;
UPDATE ${t}_local SET id = :nid, note = 'k' WHERE id = :id;
\\else
DELETE FROM $t WHERE id = :id;
DELETE FROM ${t}_local WHERE id = :id;
\\endif
COMMIT;
EOS
	close($fh);
	return $file;
}

sub create_tables
{
	my ($t, $rows) = @_;
	$coord->safe_psql(
		'shardfdw', qq{
CREATE TABLE $t (id bigint PRIMARY KEY, v int NOT NULL, note text);
INSERT INTO $t SELECT i, i, 'n' || i FROM generate_series(1, $rows) i;
CREATE TABLE ${t}_local (id bigint PRIMARY KEY, v int NOT NULL, note text);
INSERT INTO ${t}_local SELECT * FROM $t;
CREATE SEQUENCE ${t}_seq START 100000000;
});
}

# start pgbench clients writing $t for $secs seconds, logging each transaction
sub start_writers
{
	my ($t, $ids, $clients, $secs) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'pgbench', '-n', '-h', $coord->host, '-p', $coord->port,
			'-c', $clients, '-T', $secs, '-f', write_script($t, $ids),
			'-l', "--log-prefix=$tmp/$t-log", 'shardfdw'
		],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err, t => $t };
}

# wait for the writers; returns (exit code, transactions, longest in ms)
sub finish_writers
{
	my ($w) = @_;
	$w->{h}->finish;
	my $rc = $w->{h}->result(0);
	my ($n) = ${ $w->{out} } =~ /number of transactions actually processed: (\d+)/;
	my $max = 0;
	for my $f (glob("$tmp/$w->{t}-log.*"))
	{
		open(my $fh, '<', $f) or next;
		while (<$fh>)
		{
			my @f = split;
			$max = $f[2] if defined $f[2] && $f[2] > $max;
		}
		close($fh);
	}
	return ($rc, $n // 0, $max / 1000.0);
}

# rows of $t that differ from ${t}_local (both directions)
sub diff_count
{
	my ($t) = @_;
	return $coord->safe_psql('shardfdw',
		"SELECT count(*) FROM ((SELECT * FROM $t EXCEPT ALL SELECT * FROM ${t}_local)"
		  . " UNION ALL (SELECT * FROM ${t}_local EXCEPT ALL SELECT * FROM $t)) d");
}

# the job's summary line for table $t in the coordinator's log
sub job_summary
{
	my ($t) = @_;
	my $log = slurp_file($coord->logfile);
	my @m = $log =~ /distributed table "$t" (in \d+ ms: [^\n]*)/g;
	return $m[-1] // '(no summary in the log)';
}

# ---------------------------------------------------------------- online
create_tables('busy', 100000);
my $w = start_writers('busy', 100000, 3, 6);
usleep(1_000_000);
my $t0 = time;
my ($ret, $out, $err) = (0, '', '');
$ret = $coord->psql('shardfdw',
	"SELECT create_distributed_table_concurrently('busy', 'id', shard_count => 8)",
	stdout => \$out, stderr => \$err);
my $took = time - $t0;
is($ret, 0, 'the table is distributed while writers run') or diag($err);
my ($rc, $ntx, $stall) = finish_writers($w);
is($rc, 0, 'no write failed') or diag(${ $w->{err} });
is($coord->safe_psql('shardfdw',
		"SELECT count(*) FROM shardfdw.distributed_table WHERE relid = 'busy'::regclass"),
	'1', 'busy is a distributed table');
is(diff_count('busy'), '0', 'busy equals the local copy that got the same writes');
is($coord->safe_psql('shardfdw',
		"SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_'"),
	'0', 'no new parent or change log left');
diag(sprintf(
		"online distribution of 100000 rows took %.2f s; %d write transactions in %d s,"
		  . " the longest took %.1f ms",
		$took, $ntx, 6, $stall));
diag('job: ' . job_summary('busy'));

# ---------------------------------------------------------------- long reader
# A transaction reading the table for 3 s: the switch waits for it in
# short attempts, and short reads are not queued behind the switch for all
# that time.
create_tables('lr', 2000);
{
	my ($rin, $rout, $rerr) = ('', '', '');
	my $reader = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr('shardfdw'),
			'-c', 'BEGIN', '-c', 'SELECT count(*) FROM lr', '-c', 'SELECT pg_sleep(3)',
			'-c', 'COMMIT'
		],
		'<', \$rin, '>', \$rout, '2>', \$rerr);
	$coord->poll_query_until('shardfdw',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)'");
	my ($cin, $cout, $cerr) = ('', '', '');
	my $caller = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr('shardfdw'),
			'-c', "SELECT create_distributed_table_concurrently('lr', 'id', shard_count => 2)"
		],
		'<', \$cin, '>', \$cout, '2>', \$cerr);
	my $longest = 0;
	while ($caller->pumpable)
	{
		my $t = time;
		$coord->safe_psql('shardfdw', 'SELECT count(*) FROM lr WHERE id = 7');
		$longest = time - $t if time - $t > $longest;
		$caller->pump_nb;
		usleep(50_000);
	}
	$caller->finish;
	$reader->finish;
	is($caller->result(0), 0, 'distributed while a long transaction read the table') or diag($cerr);
	is(diff_count('lr'), '0', 'lr equals its local copy');
	diag(sprintf("short reads during the wait for a 3 s reader: longest %.0f ms", $longest * 1000));
	diag('job: ' . job_summary('lr'));
}

# ---------------------------------------------------------------- faults
create_tables('ft', 3000);

my $expect_clean = 'r|0|0|0|0|0,0|0,0';
my $state_sql = q{
SELECT concat_ws('|',
  (SELECT relkind FROM pg_class WHERE oid = 'ft'::regclass),
  (SELECT count(*) FROM ((SELECT * FROM ft EXCEPT ALL SELECT * FROM ft_local)
                         UNION ALL (SELECT * FROM ft_local EXCEPT ALL SELECT * FROM ft)) d),
  (SELECT count(*) FROM shardfdw.distributed_table WHERE relid = 'ft'::regclass),
  (SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_'),
  (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ft'::regclass),
  (SELECT string_agg(result, ',' ORDER BY server_name) FROM run_command_on_workers(
     $$SELECT count(*) FROM pg_class WHERE relname ~ '^ft_\d+$'$$)),
  (SELECT string_agg(result, ',' ORDER BY server_name) FROM run_command_on_workers(
     $$SELECT count(*) FROM pg_prepared_xacts$$)))};
# the job's worker has exited
sub wait_job_gone
{
	$coord->poll_query_until('shardfdw',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'shardfdw job'")
	  or die 'a shardfdw job is still running';
}

# cancelled while the switch waits for its lock (in a subtransaction)
{
	my ($rin, $rout, $rerr) = ('', '', '');
	my $reader = IPC::Run::start(
		[
			'psql', '-X', '-d', $coord->connstr('shardfdw'),
			'-c', 'BEGIN', '-c', 'SELECT count(*) FROM ft', '-c', 'SELECT pg_sleep(30)',
			'-c', 'COMMIT'
		],
		'<', \$rin, '>', \$rout, '2>', \$rerr);
	$coord->poll_query_until('shardfdw',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'");
	my ($cin, $cout, $cerr) = ('', '', '');
	my $caller = IPC::Run::start(
		[
			'psql', '-X', '-d',
			$coord->connstr('shardfdw') . ' application_name=cdc_caller',
			'-c', "SELECT create_distributed_table_concurrently('ft', 'id', shard_count => 2)"
		],
		'<', \$cin, '>', \$cout, '2>', \$cerr);
	$coord->poll_query_until('shardfdw',
		"SELECT count(*) > 0 FROM shardfdw.jobs WHERE state = 'running' AND phase = 'waiting'");
	$coord->safe_psql('shardfdw',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdc_caller'");
	$caller->finish;
	like($cerr, qr/canceling statement due to user request/, 'cancelled while the switch waits for its lock');
	$coord->safe_psql('shardfdw',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'");
	$reader->finish;
	wait_job_gone();
	is($coord->safe_psql('shardfdw', $state_sql), $expect_clean,
		'and the table is intact, nothing left behind');
}
my $fw = start_writers('ft', 3000, 1, 3600);

my $usable_sql = q{
BEGIN;
SELECT nextval('ft_seq') AS nid \gset
INSERT INTO ft VALUES (:nid, 1, 'check');
INSERT INTO ft_local VALUES (:nid, 1, 'check');
UPDATE ft SET v = v + 1 WHERE id = :nid;
UPDATE ft_local SET v = v + 1 WHERE id = :nid;
COMMIT;
SELECT count(*) FROM ft WHERE note = 'check';};

my %bad;
my $checks = 0;
my $nchecked_usable = 0;

# after an interruption (once the job's worker has exited, when $wait):
# the state is clean and the table takes writes
sub check_clean
{
	my ($what, $wait) = @_;
	wait_job_gone() if $wait;
	my ($state, $n) = split /\n/,
	  $coord->safe_psql('shardfdw', "$state_sql;\n$usable_sql");
	$checks++;
	$bad{$what} = $state if $state ne $expect_clean;
	$nchecked_usable++ if defined $n && $n > 0;
}

my $t_faults = time;
my %kinds;

# the caller sleeping in the job's fault point $point, in the background
sub start_sleeping_caller
{
	my ($point, $appname, $table) = @_;
	$table //= 'ft';
	my ($cin, $cout, $cerr) = ('', '', '');
	my $offset = -s $coord->logfile;
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-d',
			$coord->connstr('shardfdw') . " application_name=$appname",
			'-c', "SET shardfdw.test_fault_point = '$point'",
			'-c', "SET shardfdw.test_fault_action = 'sleep'",
			'-c', "SET shardfdw.test_fault_sleep = '60s'",
			'-c', "SELECT create_distributed_table_concurrently('$table', 'id', shard_count => 2)"
		],
		'<', \$cin, '>', \$cout, '2>', \$cerr);
	$coord->wait_for_log(qr/fault point "\Q$point\E" reached/, $offset);
	return ($h, \$cerr);
}

# Every loop interrupts every phase once: odd loops with an injected error,
# even loops by cancelling the calling session; and terminates the job's
# process in one phase (in turn).
for my $loop (1 .. $loops)
{
	for my $point (@points)
	{
		if ($loop % 2 == 1)
		{
			($ret, $out, $err) = $coord->psql(
				'shardfdw', qq{
SET shardfdw.test_fault_point = '$point';
SELECT create_distributed_table_concurrently('ft', 'id', shard_count => 2)},
				stdout => \$out, stderr => \$err);
			$bad{"error at $point: $err"} = 'no error'
			  unless $ret != 0 && $err =~ /fault injected at "\Q$point\E"/;
			check_clean("error at $point", 0);
			$kinds{"error at $point"}++;
		}
		else
		{
			my ($caller, $cerr) = start_sleeping_caller($point, 'cdc_caller');
			$coord->safe_psql('shardfdw',
				"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdc_caller'");
			$caller->finish;
			$bad{"cancel at $point: $$cerr"} = 'not cancelled'
			  unless $$cerr =~ /canceling statement due to user request/;
			check_clean("cancel at $point", 1);
			$kinds{"cancel at $point"}++;
		}
	}

	my $point = $points[ $loop % scalar(@points) ];
	my ($caller, $cerr) = start_sleeping_caller($point, 'cdc_caller');
	$coord->safe_psql('shardfdw',
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'shardfdw job'");
	$caller->finish;
	$bad{"terminate at $point: $$cerr"} = 'not terminated'
	  unless $$cerr =~ /was terminated/;
	check_clean("terminate at $point", 1);
	$kinds{"terminate at $point"}++;
}
my $faults_took = time - $t_faults;
is(scalar(keys %bad), 0, "every interruption left the table intact ($checks checks)")
  or diag(join("\n", map { "$_ => $bad{$_}" } sort keys %bad));
is($nchecked_usable, $checks, 'the table stayed writable after every interruption');
diag(sprintf("%d interruptions (%d loops) took %.1f s: %s", $checks, $loops, $faults_took,
		join(', ', map { "$_ x$kinds{$_}" } sort keys %kinds)));

# and it distributes under the same writes
($ret, $out, $err) = $coord->psql('shardfdw',
	"SELECT create_distributed_table_concurrently('ft', 'id', shard_count => 2)",
	stdout => \$out, stderr => \$err);
is($ret, 0, 'ft is distributed after all that') or diag($err);
$fw->{h}->signal('INT');
$fw->{h}->finish;
unlike(${ $fw->{err} }, qr/aborted/, 'no write of the fault loop failed');
unlike(${ $fw->{err} }, qr/ERROR/, 'no error reported by the writers');
is(diff_count('ft'), '0', 'ft equals its local copy');

# ---------------------------------------------------------------- crash
# The coordinator crashes while the job catches up: nothing could clean up,
# so the triggers, the change log, the new parent and the shards stay; the
# table keeps working, and the next attempt drops them first.
create_tables('cr', 1000);
{
	my ($caller, $cerr) = start_sleeping_caller('concurrent-catch-up', 'cdc_caller', 'cr');
	$coord->stop('immediate');
	$caller->finish;
	$coord->start;
	my $left = $coord->safe_psql(
		'shardfdw', q{
SELECT (SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_')
     + (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cr'::regclass)});
	ok($left > 0, "the crash left the concurrent distribution's objects ($left)");
	$coord->safe_psql(
		'shardfdw', q{
UPDATE cr SET v = v + 1 WHERE id < 10;
UPDATE cr_local SET v = v + 1 WHERE id < 10;
DELETE FROM cr WHERE id = 20;
DELETE FROM cr_local WHERE id = 20;});
	is(diff_count('cr'), '0', 'the table still takes writes');
	($ret, $out, $err) = $coord->psql('shardfdw',
		"SELECT create_distributed_table_concurrently('cr', 'id', shard_count => 2)",
		stdout => \$out, stderr => \$err);
	is($ret, 0, 'the next attempt distributes the table') or diag($err);
	is($coord->safe_psql(
			'shardfdw', q{
SELECT concat_ws('|',
  (SELECT count(*) FROM pg_class WHERE relname ~ '^shardfdw_(new|changes)_'),
  (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cr'::regclass),
  (SELECT string_agg(result, ',' ORDER BY server_name) FROM run_command_on_workers(
     $$SELECT count(*) FROM pg_class WHERE relname ~ '^cr_\d+$' AND relkind = 'r'$$)))}),
		'0|0|1,1', 'after dropping what the crash left: no leftovers, one table per shard');
	is(diff_count('cr'), '0', 'cr equals its local copy');
}

done_testing();
