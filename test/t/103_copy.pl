# test/t/103_copy.pl: COPY into and out of a distributed table.
#
# - a 1M-row CSV loads, and the workers hold every row;
# - a CSV whose line 777,777 is rejected (by a CHECK constraint on the
#   worker, or by the coordinator's input function) fails naming that line
#   (and, when a worker rejected it, the shard and server); no shard keeps
#   any row of it;
# - binary COPY FROM, and COPY (SELECT ...) TO round-trips the data exactly.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Compare;
use File::Spec;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use ShardfdwCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my $nrows = 1_000_000;
my $badline = 777_777;

my ($coord, @workers) = ShardfdwCluster::start();
$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 8;
CREATE TABLE c (id bigint PRIMARY KEY, k int CHECK (k >= 0), name text, x numeric);
SELECT create_distributed_table('c', 'id');
});

# the CSV files: good, bad for the worker, bad for the coordinator
sub write_csv
{
	my ($file, $from, $to, $bad) = @_;
	open(my $fh, '>', $file) or die "could not write $file: $!";
	for my $i ($from .. $to)
	{
		if (defined $bad && $i - $from + 1 == $badline)
		{
			print $fh "$i,$bad,name $i,$i.5\n";
		}
		else
		{
			print $fh "$i," . ($i % 1000) . ",name $i,$i.5\n";
		}
	}
	close($fh);
}
write_csv("$tmp/good.csv", 1, $nrows);
write_csv("$tmp/bad_worker.csv", $nrows + 1, 2 * $nrows, '-1');
write_csv("$tmp/bad_coord.csv", $nrows + 1, 2 * $nrows, 'notanint');

# rows per shard table, counted on the workers themselves
sub shard_counts
{
	my @counts;
	for my $w (@workers)
	{
		push @counts,
		  split /\n/,
		  $w->safe_psql(
			'shardfdw', q{
SELECT tablename || ' ' || (xpath('/row/c/text()',
         query_to_xml(format('SELECT count(*) AS c FROM public.%I', tablename),
                      false, true, '')))[1]::text
  FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^c_[0-9]+$'
 ORDER BY 1});
	}
	return join(', ', @counts);
}
sub total
{
	my $sum = 0;
	$sum += (split / /)[1] for split /, /, $_[0];
	return $sum;
}

$coord->command_ok(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('shardfdw'),
		'-c', "\\copy c FROM '$tmp/good.csv' WITH (FORMAT csv)"
	],
	'1M-row CSV loads');
my $after_good = shard_counts();
is(total($after_good), $nrows, "the shards on the workers hold $nrows rows");
note("per shard: $after_good");

# a row the worker rejects
my ($ret, $out, $err) = (0, '', '');
$ret = $coord->psql('shardfdw',
	"\\copy c FROM '$tmp/bad_worker.csv' WITH (FORMAT csv)",
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'a CSV with a row the worker rejects fails');
like($err, qr/violates check constraint/, 'with the worker\'s error');
like($err, qr/COPY c, line $badline\b/, "naming input line $badline");
like($err, qr/input line $badline, row \d+ of \d+ sent by COPY to shard table "public\.c_\d+" on server "worker\d"/,
	'and the shard and server');
is(shard_counts(), $after_good, 'no shard kept any row of the failed COPY');

# a row the coordinator rejects
$ret = $coord->psql('shardfdw',
	"\\copy c FROM '$tmp/bad_coord.csv' WITH (FORMAT csv)",
	stdout => \$out, stderr => \$err);
isnt($ret, 0, 'a CSV with a malformed row fails');
like($err, qr/invalid input syntax for type integer.*COPY c, line $badline, column k/s,
	"naming input line $badline");
is(shard_counts(), $after_good, 'no shard kept any row of the failed COPY');

is($workers[$_]->safe_psql('shardfdw', 'SELECT count(*) FROM pg_prepared_xacts'),
	'0', 'no prepared transaction left on worker' . ($_ + 1))
  for 0 .. 1;

# COPY TO round-trips the data exactly
$coord->command_ok(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('shardfdw'),
		'-c', "\\copy (SELECT * FROM c ORDER BY id) TO '$tmp/out.csv' WITH (FORMAT csv)"
	],
	'COPY (SELECT ...) TO from the distributed table');
is(compare("$tmp/good.csv", "$tmp/out.csv"), 0,
	'COPY TO returns exactly the rows loaded');

# plain COPY tbl TO (rewritten into COPY (SELECT ...) TO by the hook)
$coord->command_ok(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('shardfdw'),
		'-c', "\\copy c TO '$tmp/out2.csv' WITH (FORMAT csv)"
	],
	'COPY TO straight from the distributed table');
{
	open(my $fh, '<', "$tmp/out2.csv") or die;
	my @lines = <$fh>;
	close($fh);
	@lines = sort { (split /,/, $a)[0] <=> (split /,/, $b)[0] } @lines;
	open($fh, '>', "$tmp/out2.sorted.csv") or die;
	print $fh @lines;
	close($fh);
	is(compare("$tmp/good.csv", "$tmp/out2.sorted.csv"), 0,
		'COPY tbl TO returns exactly the rows loaded');
}
$coord->safe_psql('shardfdw',
	"CREATE TABLE r (id int PRIMARY KEY, name text); INSERT INTO r VALUES (1, 'a'), (2, 'b'); SELECT create_reference_table('r')");
is($coord->safe_psql('shardfdw', 'COPY r (name) TO STDOUT'),
	"a\nb", 'COPY TO from a reference table, with a column list');

# binary COPY FROM: the same rows through the binary format
$coord->safe_psql(
	'shardfdw', q{
SET shardfdw.shard_count = 4;
CREATE TABLE cb (id bigint PRIMARY KEY, k int CHECK (k >= 0), name text, x numeric);
SELECT create_distributed_table('cb', 'id');
});
$coord->command_ok(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('shardfdw'),
		'-c', "\\copy (SELECT * FROM c WHERE id <= 100000 ORDER BY id) TO '$tmp/c.bin' WITH (FORMAT binary)",
		'-c', "\\copy cb FROM '$tmp/c.bin' WITH (FORMAT binary)"
	],
	'binary COPY out of and into distributed tables');
is( $coord->safe_psql(
		'shardfdw', q{
SELECT count(*) FROM (
  (SELECT * FROM c WHERE id <= 100000 EXCEPT ALL SELECT * FROM cb)
  UNION ALL
  (SELECT * FROM cb EXCEPT ALL SELECT * FROM c WHERE id <= 100000)) d}),
	'0', 'binary COPY loaded exactly the same rows');

$coord->stop;
$_->stop for @workers;
done_testing();
