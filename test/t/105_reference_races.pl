# test/t/105_reference_races.pl: two transactions writing the same rows
# of a reference table, the second one arriving while the first one's
# workers have not yet committed their part.
#
# A reference table's replicas are written in the writer's transaction and
# committed with two-phase commit: the coordinator commits, then sends
# COMMIT PREPARED.  The first transaction pauses between the two
# (shardfdw.test_fault_point = 'before-commit-prepared', action sleep); the
# second one's statement then runs.  PostgreSQL alone would run both; the
# replicas must end up equal to the coordinator's table.  Before the
# writer lock (src/operations/reference.c), the second UPDATE failed with
# a duplicate key on a replica and the second DELETE left the row on the
# replicas.
use strict;
use warnings;

use IPC::Run;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use ShardfdwCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my ($coord, @workers) = ShardfdwCluster::start();

$coord->safe_psql(
	'shardfdw', q{
CREATE TABLE r (k int PRIMARY KEY, v int NOT NULL);
INSERT INTO r SELECT g, 0 FROM generate_series(1, 20) g;
SELECT create_reference_table('r');
});

my $rows_sql = "SELECT string_agg(k || ':' || v, ' ' ORDER BY k) FROM r";

# Run $sql in psql in the background with application_name $app; returns
# the harness and references to its stdout and stderr.
my $n = 0;
sub start_psql
{
	my ($app, $sql) = @_;
	my ($out, $err) = ('', '');
	my $file = "$PostgreSQL::Test::Utils::tmp_check/race" . ++$n . ".sql";
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh $sql;
	close($fh);
	my $connstr = $coord->connstr('shardfdw') . " application_name=$app";
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', $file ],
		'>' => \$out, '2>' => \$err);
	return ($h, \$out, \$err);
}

# $first pauses after its local commit; $second runs during the pause.
sub race
{
	my ($name, $first, $second) = @_;
	my $offset = -s $coord->logfile;
	my ($h1, $out1, $err1) = start_psql(
		'race1',
		"SET shardfdw.test_fault_point = 'before-commit-prepared';\n"
		  . "SET shardfdw.test_fault_action = 'sleep';\n"
		  . "SET shardfdw.test_fault_sleep = '4s';\n"
		  . "$first;\n");
	$coord->wait_for_log(qr/fault point "before-commit-prepared" reached/,
		$offset);
	my ($h2, $out2, $err2) = start_psql('race2', "$second;\n");

	# Until the first one's pause ends: is the second one running, and
	# waiting for the table's writer lock?
	my ($seen, $waited) = (0, 0);
	for (;;)
	{
		my $state = $coord->safe_psql(
			'shardfdw', q{
SELECT count(*), count(*) FILTER (WHERE EXISTS (
         SELECT FROM pg_locks l
          WHERE l.pid = a.pid AND NOT l.granted AND l.locktype = 'advisory'
            AND l.objid = 'r'::regclass::oid AND l.objsubid = 21318))
  FROM pg_stat_activity a
 WHERE application_name = 'race2' AND state = 'active'});
		my $passed = slurp_file($coord->logfile, $offset) =~
		  /fault point "before-commit-prepared" passed/;
		my ($active, $locked) = split /\|/, $state;
		# a state read before the pause ended shows the interleaving
		if (!$passed)
		{
			$seen ||= $active > 0;
			$waited ||= $locked > 0;
		}
		last if $passed || $waited;
		usleep(20_000);
	}
	$h1->finish;
	$h2->finish;
	is($$err1, '', "$name: the first transaction commits");
	is($$err2, '', "$name: the second transaction succeeds");
	if ($seen || $waited)
	{
		ok($waited, "$name: the second one waits for the first one's writer lock");
	}
	else
	{
		note("$name: the second statement started after the pause; only the outcome is checked");
	}

	my $expect = $coord->safe_psql('shardfdw', $rows_sql);
	is($_->safe_psql('shardfdw', $rows_sql), $expect,
		"$name: the replica on " . $_->name . " equals the coordinator's table")
	  for @workers;
	is($_->safe_psql('shardfdw', 'SELECT count(*) FROM pg_prepared_xacts'),
		'0', "$name: nothing left prepared on " . $_->name)
	  for @workers;
	return $expect;
}

# an UPDATE is replicated as DELETE + COPY of the row: the second UPDATE's
# COPY used to collide with the first one's row
my $rows = race('update, update', 'UPDATE r SET v = v + 1 WHERE k = 1',
	'UPDATE r SET v = v + 10 WHERE k = 1');
like($rows, qr/(^| )1:11( |$)/, 'update, update: both updates applied');

# the second DELETE used to find nothing on the replicas
$rows = race('update, delete', 'UPDATE r SET v = v + 1 WHERE k = 2',
	'DELETE FROM r WHERE k = 2');
unlike($rows, qr/(^| )2:/, 'update, delete: the row is gone');

# rows inserted by the first one, changed by the second one
$rows = race('insert, update', 'INSERT INTO r VALUES (21, 0)',
	'UPDATE r SET v = 5 WHERE k = 21');
like($rows, qr/(^| )21:5( |$)/, 'insert, update: the update applied');
$rows = race('insert, delete', 'INSERT INTO r VALUES (22, 0)',
	'DELETE FROM r WHERE k = 22');
unlike($rows, qr/(^| )22:/, 'insert, delete: the row is gone');

# a key change and a multi-row statement
$rows = race('key change, update', 'UPDATE r SET k = 30 WHERE k = 3',
	'UPDATE r SET v = v + 7 WHERE k IN (30, 4)');
like($rows, qr/(^| )30:7( |$)/, 'key change, update: the moved row updated');

# COPY into the table is a writer too
$rows = race('update, copy',
	'UPDATE r SET v = 1 WHERE k BETWEEN 5 AND 8',
	"DELETE FROM r WHERE k = 5;\nCOPY r FROM STDIN;\n5\t9\n\\.\n");
like($rows, qr/(^| )5:9( |$)/, 'update, copy: the copied row replaces it');

# A transaction that wrote, then rolled back to a savepoint, releases the
# lock with its changes; one that keeps writing holds it.
$coord->safe_psql(
	'shardfdw', q{
BEGIN;
SAVEPOINT s;
UPDATE r SET v = 100 WHERE k = 6;
ROLLBACK TO SAVEPOINT s;
UPDATE r SET v = v + 1 WHERE k = 7;
COMMIT;
});
my $expect = $coord->safe_psql('shardfdw', $rows_sql);
like($expect, qr/(^| )6:1 7:2( |$)/, 'savepoint: rolled-back change gone');
is($_->safe_psql('shardfdw', $rows_sql), $expect,
	'savepoint: the replica on ' . $_->name . " equals the coordinator's table")
  for @workers;

done_testing();
