# test/t/205_two_coordinators.pl: two coordinator databases whose workers
# are databases of the same two PostgreSQL servers move shards at the same
# time, with the same job ids.
#
# Job ids come from each coordinator database's own shardfdw.job sequence;
# the objects a move creates on the workers are named after the job id, and
# replication slot names and application_names are server-wide.  The names
# end with the coordinator's tag (sf_coordinator_tag: system identifier and
# database OID), so:
#
# 1. while coordinator database c1's online move (job 1) waits at its
#    cutover, c2's online move (also job 1) from the same worker server
#    succeeds (without the tag its replication slot already existed), and
#    neither its own cleanup nor an explicit cleanup pass in c2 touches c1's
#    slot, publication, subscription or walsender;
# 2. c1's move then succeeds; both databases have all their rows, and no
#    slot, publication or subscription is left on the workers.
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
my $user = scalar getpwuid($<);

for my $db (qw(c1 c2))
{
	$coord->safe_psql('postgres', "CREATE DATABASE $db");
	$coord->safe_psql($db, 'CREATE EXTENSION shardfdw');
	for my $i (1 .. 2)
	{
		my $w = $workers[ $i - 1 ];
		$w->safe_psql('postgres', "CREATE DATABASE $db");
		$coord->safe_psql($db,
			"CREATE SERVER worker$i FOREIGN DATA WRAPPER shardfdw"
			  . " OPTIONS (host '" . $w->host . "', port '" . $w->port . "', dbname '$db');"
			  . "CREATE USER MAPPING FOR CURRENT_USER SERVER worker$i OPTIONS (user '$user');"
			  . "SELECT shardfdw_add_node('worker$i')");
	}
	$coord->safe_psql($db, q{
CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL);
SELECT create_distributed_table('t', 'id', shard_count => 2);
INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
});
}

# shard of t at index 0 in $db, and its server
sub shard0
{
	my ($db) = @_;
	return split /\|/, $coord->safe_psql($db,
		"SELECT s.shardid, n.server_name FROM shardfdw.shard s"
		  . " JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid)"
		  . " WHERE s.relid = 't'::regclass AND s.shard_index = 0");
}

# the move objects (slots server-wide, publications and subscriptions of
# worker database $db) on every worker
sub move_objects
{
	my ($db) = @_;
	return join ' ', map {
		$_->safe_psql($db,
			q{SELECT coalesce(string_agg(n, ',' ORDER BY n), '-') FROM (
			    SELECT 'slot:' || slot_name AS n FROM pg_replication_slots
			     WHERE database = current_database()
			    UNION ALL SELECT 'pub:' || pubname FROM pg_publication
			    UNION ALL SELECT 'sub:' || subname FROM pg_subscription
			     WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())) o})
	} @workers;
}

my ($s1, $from1) = shard0('c1');
my ($s2, $from2) = shard0('c2');
is($from2, $from1, 'shard index 0 is on the same worker server in both databases');
my $to = $from1 eq 'worker1' ? 'worker2' : 'worker1';

# 1. c1's move waits at its cutover (the 'wait' fault action waits for the
# advisory lock the blocker holds in c1)
my $blocker = $coord->background_psql('c1');
$blocker->query_safe('SELECT pg_advisory_lock(1397114452)');
my $offset = -s $coord->logfile;
my ($out1, $err1) = ('', '');
my $h1 = IPC::Run::start(
	[
		'psql', '-X', '-d', $coord->connstr('c1'),
		'-c', "SET shardfdw.test_fault_point = 'move-before-cutover'",
		'-c', "SET shardfdw.test_fault_action = 'wait'",
		'-c', "SELECT shardfdw_move_shard($s1, '$to', 'force_logical')"
	],
	'>', \$out1, '2>', \$err1);
$coord->wait_for_log(qr/fault point "move-before-cutover" reached/, $offset);
my $c1_objects = move_objects('c1');
like($c1_objects, qr/slot:shardfdw_move_1_[0-9a-f]{8}\b/,
	"c1's move (job 1) has its slot on the source ($c1_objects)");

my ($ret, $out, $err) = $coord->psql('c2',
	"SELECT shardfdw_move_shard($s2, '$to', 'force_logical')");
is($ret, 0, "c2's move succeeds while c1's runs") or diag $err;
is($coord->safe_psql('c2', "SELECT string_agg(jobid::text, ',') FROM shardfdw.job WHERE kind = 'move'"),
	$coord->safe_psql('c1', "SELECT string_agg(jobid::text, ',') FROM shardfdw.job WHERE kind = 'move'"),
	'both moves have the same job id');
$coord->safe_psql('c2', 'SELECT shardfdw_cleanup_orphaned_resources()');
is(move_objects('c1'), $c1_objects,
	"c2's move and cleanup pass left c1's slot, publication and subscription alone");
is(move_objects('c2'), '- -', "c2's move left nothing behind");

# 2. c1's move goes on
$blocker->query_safe('SELECT pg_advisory_unlock(1397114452)');
$blocker->quit;
$h1->finish;
is($h1->result(0), 0, "c1's move succeeds") or diag $err1;
for my $db (qw(c1 c2))
{
	my (undef, $now) = shard0($db);
	is($now, $to, "$db: the shard moved");
	is($coord->safe_psql($db, 'SELECT count(*) || \'/\' || sum(v) FROM t'), '1000/500500',
		"$db: every row is there");
	$coord->safe_psql($db, 'SELECT shardfdw_cleanup_orphaned_resources()');
	is(move_objects($db), '- -', "$db: no slot, publication or subscription left");
	is($coord->safe_psql($db, 'SELECT count(*) FROM shardfdw.cleanup'), '0',
		"$db: no cleanup record left");
}

$_->stop for ($coord, @workers);
done_testing();
