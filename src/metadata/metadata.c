/*-------------------------------------------------------------------------
 *
 * metadata.c
 *	  Backend-local cache of the shardfdw catalog, its invalidation, the
 *	  GUCs of the metadata and operations layers and the size functions
 *	  behind the views.
 *
 * The catalog tables live in schema shardfdw and are created by the
 * extension script; their column order is mirrored by the Anum_ constants
 * below.  They are read with plain heap scans (they are small), never with
 * SPI, so that the lookups may be called from the planner.
 *
 * Cache invalidation: whoever changes the catalog rows of a table calls
 * sf_invalidate_table(relid), which sends a relcache invalidation for that
 * relation; every backend's callback then drops its cache entry.  Changes
 * to nodes invalidate the relcache entry of the shardfdw.node catalog
 * table, which drops the whole cache (placements name nodes).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "connection.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "metadata.h"
#include "operations.h"
#include "shardfdw.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* shardfdw.node */
#define Anum_sf_node_nodeid				1
#define Anum_sf_node_server_name		2
#define Anum_sf_node_active				3
#define Anum_sf_node_should_have_shards 4

/* shardfdw.colocation */
#define Anum_sf_colocation_id			1
#define Anum_sf_colocation_shard_count	2

/* shardfdw.distributed_table */
#define Anum_sf_dt_relid				1
#define Anum_sf_dt_kind					2
#define Anum_sf_dt_attnum				3
#define Anum_sf_dt_colocationid			4

/* shardfdw.shard */
#define Anum_sf_shard_shardid			1
#define Anum_sf_shard_relid				2
#define Anum_sf_shard_index				3
#define Anum_sf_shard_shard_relid		4
#define Anum_sf_shard_modulus			5

/* shardfdw.placement */
#define Anum_sf_placement_shardid		1
#define Anum_sf_placement_nodeid		2

int			shardfdw_shard_count = 32;

/* Cache entry: a distributed table, or the knowledge that relid is not one */
typedef struct SfTableCacheEntry
{
	Oid			relid;			/* hash key */
	bool		valid;			/* false after an invalidation */
	SfTable    *table;			/* NULL when relid is not in the catalog */
} SfTableCacheEntry;

static HTAB *sf_table_cache = NULL;
static List *sf_node_cache = NIL;	/* of SfNode *, in CacheMemoryContext */
static bool sf_node_cache_valid = false;
static Oid	sf_node_catalog_oid = InvalidOid;

/*
 * Whether the extension's catalog is present in this database, as last
 * looked up (sf_extension_present runs several times per statement).
 * Creating or dropping the catalog table invalidates its relcache entry
 * (any relcache invalidation resets an "absent" answer, the node table's or
 * a full reset a "present" one), and renaming or dropping the schema its
 * pg_namespace row.
 */
typedef enum SfExtensionState
{
	SF_EXTENSION_UNKNOWN,
	SF_EXTENSION_PRESENT,
	SF_EXTENSION_ABSENT
} SfExtensionState;

static SfExtensionState sf_extension_state = SF_EXTENSION_UNKNOWN;

PG_FUNCTION_INFO_V1(shardfdw_relation_size);
PG_FUNCTION_INFO_V1(shardfdw_shard_size);

static void sf_relcache_callback(Datum arg, Oid relid);
static void sf_namespace_callback(Datum arg, int cacheid, uint32 hashvalue);
static char *unshard_names(char *text);
static void sf_flush_cache(void);
static SfTable *sf_load_table(Oid relid);
static void sf_load_nodes(void);
static void sf_free_table(SfTable *table);
static void sf_load_index_owners(SfTable *table);

/*
 * Register the GUCs of the metadata and operations layers and the
 * invalidation callback.  Called once from _PG_init.
 */
void
sf_metadata_init(void)
{
	DefineCustomIntVariable("shardfdw.shard_count",
							"Number of shards of a new distributed table.",
							"Used by create_distributed_table when shard_count is not given.",
							&shardfdw_shard_count,
							32, 1, 64000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	CacheRegisterRelcacheCallback(sf_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, sf_namespace_callback,
								  (Datum) 0);
	sf_set_error_rewriter(unshard_names);
}

/*
 * Relcache invalidation: drop what may have changed.  Must not access the
 * catalog (it may run while a transaction is aborting).
 */
static void
sf_relcache_callback(Datum arg, Oid relid)
{
	if (sf_extension_state == SF_EXTENSION_ABSENT)
		sf_extension_state = SF_EXTENSION_UNKNOWN;
	if (relid == InvalidOid ||
		(OidIsValid(sf_node_catalog_oid) && relid == sf_node_catalog_oid))
	{
		sf_extension_state = SF_EXTENSION_UNKNOWN;
		sf_flush_cache();
		return;
	}

	if (sf_table_cache != NULL)
	{
		SfTableCacheEntry *entry;

		entry = hash_search(sf_table_cache, &relid, HASH_FIND, NULL);
		if (entry != NULL)
			entry->valid = false;
	}
}

/* A schema was created, renamed or dropped: look the catalog up again. */
static void
sf_namespace_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	sf_extension_state = SF_EXTENSION_UNKNOWN;
}

/* Mark every cache entry and the node list invalid. */
static void
sf_flush_cache(void)
{
	sf_node_cache_valid = false;
	if (sf_table_cache != NULL)
	{
		HASH_SEQ_STATUS status;
		SfTableCacheEntry *entry;

		hash_seq_init(&status, sf_table_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
			entry->valid = false;
	}
}

/*
 * OID of the catalog table shardfdw.<name>, or InvalidOid when the
 * extension is not installed in this database.
 */
Oid
sf_catalog_relid(const char *name)
{
	Oid			nspid = get_namespace_oid("shardfdw", true);

	if (!OidIsValid(nspid))
		return InvalidOid;
	return get_relname_relid(name, nspid);
}

/* Is the extension's catalog present in this database? */
bool
sf_extension_present(void)
{
	Oid			nodeoid;

	if (sf_extension_state != SF_EXTENSION_UNKNOWN)
		return sf_extension_state == SF_EXTENSION_PRESENT;
	nodeoid = sf_catalog_relid("node");
	if (OidIsValid(nodeoid))
		sf_node_catalog_oid = nodeoid;
	sf_extension_state = OidIsValid(nodeoid) ? SF_EXTENSION_PRESENT :
		SF_EXTENSION_ABSENT;
	return OidIsValid(nodeoid);
}

/*
 * Tell every backend (this one included, at the next command) that the
 * catalog rows of relation relid changed.
 */
void
sf_invalidate_table(Oid relid)
{
	/* a dropped relation has already been invalidated by DROP */
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		CacheInvalidateRelcacheByRelid(relid);
	if (sf_table_cache != NULL)
	{
		SfTableCacheEntry *entry;

		entry = hash_search(sf_table_cache, &relid, HASH_FIND, NULL);
		if (entry != NULL)
			entry->valid = false;
	}
}

/* Tell every backend that the node list (and so placements) changed. */
void
sf_invalidate_nodes(void)
{
	Oid			nodeoid = sf_catalog_relid("node");

	if (OidIsValid(nodeoid))
		CacheInvalidateRelcacheByRelid(nodeoid);
	sf_flush_cache();
}

/*
 * The cached description of a distributed or reference table, or NULL if
 * relid is neither.  The result is owned by the cache and stays valid until
 * the next invalidation is processed: copy what must live longer.
 */
const SfTable *
sf_lookup_table(Oid relid)
{
	SfTableCacheEntry *entry;
	bool		found;

	if (!OidIsValid(relid) || !sf_extension_present())
		return NULL;

	if (sf_table_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(SfTableCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		sf_table_cache = hash_create("shardfdw table cache", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	entry = hash_search(sf_table_cache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->valid = false;
		entry->table = NULL;
	}
	if (!entry->valid)
	{
		SfTable    *table;

		if (entry->table != NULL)
			sf_free_table(entry->table);
		entry->table = NULL;
		table = sf_load_table(relid);
		/* the load may have processed invalidations: look the entry up again */
		entry = hash_search(sf_table_cache, &relid, HASH_ENTER, &found);
		entry->table = table;
		entry->valid = true;
	}
	return entry->table;
}

static void
sf_free_table(SfTable *table)
{
	if (table->placements != NULL)
		pfree(table->placements);
	if (table->index_owner != NULL)
		pfree(table->index_owner);
	pfree(table);
}

/* Is relid a hash-distributed table? */
bool
sf_is_distributed_table(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);

	return table != NULL && table->kind == SF_KIND_HASH;
}

/* Is relid a reference table? */
bool
sf_is_reference_table(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);

	return table != NULL && table->kind == SF_KIND_REFERENCE;
}

/* Distribution column of a distributed table, or InvalidAttrNumber. */
AttrNumber
sf_distribution_attnum(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);

	return table != NULL ? table->distattnum : InvalidAttrNumber;
}

/* Co-location group of a distributed table, or 0. */
int32
sf_colocation_id(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);

	return table != NULL ? table->colocationid : 0;
}

/*
 * The placements of a distributed or reference table as a List of palloc'd
 * SfShard copies in the current memory context, ordered by shard index
 * (then node id); NIL if relid is neither.
 */
List *
sf_shard_list(Oid relid)
{
	const SfTable *table = sf_lookup_table(relid);
	List	   *result = NIL;
	int			i;

	if (table == NULL)
		return NIL;
	for (i = 0; i < table->nplacements; i++)
	{
		SfShard    *shard = palloc(sizeof(SfShard));

		*shard = table->placements[i];
		result = lappend(result, shard);
	}
	return result;
}

/*
 * The worker nodes, ordered by node id, as palloc'd copies in the current
 * memory context.  With active_only, only active nodes whose SERVER exists.
 */
List *
sf_node_list(bool active_only)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (!sf_extension_present())
		return NIL;
	if (!sf_node_cache_valid)
		sf_load_nodes();

	foreach(lc, sf_node_cache)
	{
		SfNode	   *node = (SfNode *) lfirst(lc);
		SfNode	   *copy;

		if (active_only && (!node->active || !OidIsValid(node->serverid)))
			continue;
		copy = palloc(sizeof(SfNode));
		*copy = *node;
		copy->servername = pstrdup(node->servername);
		result = lappend(result, copy);
	}
	return result;
}

/* The node registered for a SERVER (a palloc'd copy), or NULL. */
SfNode *
sf_node_by_server(Oid serverid)
{
	List	   *nodes = sf_node_list(false);
	ListCell   *lc;

	foreach(lc, nodes)
	{
		SfNode	   *node = (SfNode *) lfirst(lc);

		if (node->serverid == serverid)
			return node;
	}
	return NULL;
}

/* Node list comparator: by node id */
static int
sf_node_cmp(const ListCell *a, const ListCell *b)
{
	const SfNode *na = lfirst(a);
	const SfNode *nb = lfirst(b);

	return (na->nodeid > nb->nodeid) - (na->nodeid < nb->nodeid);
}

/* (Re)load the node list into CacheMemoryContext. */
static void
sf_load_nodes(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *nodes = NIL;
	MemoryContext oldcxt;
	ListCell   *lc;

	foreach(lc, sf_node_cache)
	{
		SfNode	   *node = lfirst(lc);

		pfree(node->servername);
		pfree(node);
	}
	list_free(sf_node_cache);
	sf_node_cache = NIL;

	rel = table_open(sf_catalog_relid("node"), AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	oldcxt = MemoryContextSwitchTo(CacheMemoryContext);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		SfNode	   *node = palloc0(sizeof(SfNode));
		bool		isnull;
		ForeignServer *server;

		node->nodeid = DatumGetInt32(heap_getattr(tuple, Anum_sf_node_nodeid,
												  RelationGetDescr(rel), &isnull));
		node->servername = pstrdup(NameStr(*DatumGetName(heap_getattr(tuple, Anum_sf_node_server_name,
																	   RelationGetDescr(rel), &isnull))));
		node->active = DatumGetBool(heap_getattr(tuple, Anum_sf_node_active,
												 RelationGetDescr(rel), &isnull));
		node->shouldhaveshards = DatumGetBool(heap_getattr(tuple, Anum_sf_node_should_have_shards,
														   RelationGetDescr(rel), &isnull));
		server = GetForeignServerByName(node->servername, true);
		node->serverid = server != NULL ? server->serverid : InvalidOid;
		nodes = lappend(nodes, node);
	}
	list_sort(nodes, sf_node_cmp);
	MemoryContextSwitchTo(oldcxt);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	sf_node_cache = nodes;
	sf_node_cache_valid = true;
}

/* Placement comparator: by shard index, then node id */
static int
sf_placement_cmp(const void *a, const void *b)
{
	const SfShard *sa = a;
	const SfShard *sb = b;

	if (sa->shardindex != sb->shardindex)
		return (sa->shardindex > sb->shardindex) ? 1 : -1;
	return (sa->nodeid > sb->nodeid) - (sa->nodeid < sb->nodeid);
}

/*
 * Read the catalog rows of relid into a new SfTable in CacheMemoryContext,
 * or return NULL if relid is not in shardfdw.distributed_table.
 */
static SfTable *
sf_load_table(Oid relid)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	ScanKeyData key;
	SfTable    *table = NULL;
	List	   *shards = NIL;	/* of SfShard * without node: palloc'd */
	List	   *nodes;
	ListCell   *lc;
	int			n;
	bool		isnull;

	rel = table_open(sf_catalog_relid("distributed_table"), AccessShareLock);
	ScanKeyInit(&key, Anum_sf_dt_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		Datum		d;

		table = MemoryContextAllocZero(CacheMemoryContext, sizeof(SfTable));
		table->relid = relid;
		table->kind = DatumGetChar(heap_getattr(tuple, Anum_sf_dt_kind, desc, &isnull));
		table->distattnum = DatumGetInt16(heap_getattr(tuple, Anum_sf_dt_attnum, desc, &isnull));
		d = heap_getattr(tuple, Anum_sf_dt_colocationid, desc, &isnull);
		table->colocationid = isnull ? 0 : DatumGetInt32(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (table == NULL)
		return NULL;

	/* shard count of the co-location group */
	table->shardcount = 1;
	if (table->colocationid != 0)
	{
		rel = table_open(sf_catalog_relid("colocation"), AccessShareLock);
		ScanKeyInit(&key, Anum_sf_colocation_id, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(table->colocationid));
		scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
		tuple = systable_getnext(scan);
		if (HeapTupleIsValid(tuple))
			table->shardcount = DatumGetInt32(heap_getattr(tuple, Anum_sf_colocation_shard_count,
														   RelationGetDescr(rel), &isnull));
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
	}

	/* shards */
	rel = table_open(sf_catalog_relid("shard"), AccessShareLock);
	ScanKeyInit(&key, Anum_sf_shard_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		SfShard    *shard = palloc0(sizeof(SfShard));
		Datum		d;

		shard->shardid = DatumGetInt64(heap_getattr(tuple, Anum_sf_shard_shardid, desc, &isnull));
		shard->shardindex = DatumGetInt32(heap_getattr(tuple, Anum_sf_shard_index, desc, &isnull));
		d = heap_getattr(tuple, Anum_sf_shard_shard_relid, desc, &isnull);
		shard->shardrelid = isnull ? InvalidOid : DatumGetObjectId(d);
		d = heap_getattr(tuple, Anum_sf_shard_modulus, desc, &isnull);
		shard->modulus = isnull ? table->shardcount : DatumGetInt32(d);
		shards = lappend(shards, shard);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/* placements: one pass over the placement catalog */
	nodes = sf_node_list(false);
	rel = table_open(sf_catalog_relid("placement"), AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	{
		List	   *placements = NIL;

		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			TupleDesc	desc = RelationGetDescr(rel);
			int64		shardid = DatumGetInt64(heap_getattr(tuple, Anum_sf_placement_shardid, desc, &isnull));
			int32		nodeid = DatumGetInt32(heap_getattr(tuple, Anum_sf_placement_nodeid, desc, &isnull));

			foreach(lc, shards)
			{
				SfShard    *shard = lfirst(lc);

				if (shard->shardid == shardid)
				{
					SfShard    *p = palloc(sizeof(SfShard));
					ListCell   *lc2;

					*p = *shard;
					p->nodeid = nodeid;
					p->serverid = InvalidOid;
					foreach(lc2, nodes)
					{
						SfNode	   *node = lfirst(lc2);

						if (node->nodeid == nodeid)
							p->serverid = node->serverid;
					}
					placements = lappend(placements, p);
					break;
				}
			}
		}
		table->nplacements = list_length(placements);
		table->placements = MemoryContextAllocZero(CacheMemoryContext,
												   sizeof(SfShard) * Max(1, table->nplacements));
		n = 0;
		foreach(lc, placements)
			table->placements[n++] = *(SfShard *) lfirst(lc);
		qsort(table->placements, n, sizeof(SfShard), sf_placement_cmp);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	table->nshards = list_length(shards);
	sf_load_index_owners(table);
	return table;
}

/*
 * Fill table->index_owner when some shard's MODULUS is smaller than the
 * table's shardcount (it was split): shard index i belongs to the shard
 * whose REMAINDER is i % its MODULUS.  Indexes no shard covers (a broken
 * catalog) map to themselves, so that the lookup of their shard fails as it
 * does without splits.
 */
static void
sf_load_index_owners(SfTable *table)
{
	int			i;
	bool		split = false;

	for (i = 0; i < table->nplacements; i++)
		if (table->placements[i].modulus != table->shardcount)
			split = true;
	if (!split || table->kind != SF_KIND_HASH)
		return;

	table->index_owner = MemoryContextAlloc(CacheMemoryContext,
											sizeof(int) * table->shardcount);
	for (i = 0; i < table->shardcount; i++)
		table->index_owner[i] = i;
	for (i = 0; i < table->nplacements; i++)
	{
		const SfShard *shard = &table->placements[i];
		int			v;

		if (shard->modulus <= 0 || table->shardcount % shard->modulus != 0)
			continue;
		for (v = shard->shardindex; v < table->shardcount; v += shard->modulus)
			table->index_owner[v] = shard->shardindex;
	}
}

/*
 * The shard index of the shard that holds shard index shardindex (see
 * metadata.h): shardindex itself unless the group was split.
 */
int
sf_shard_index_owner(const SfTable *table, int shardindex)
{
	if (table == NULL || table->index_owner == NULL ||
		shardindex < 0 || shardindex >= table->shardcount)
		return shardindex;
	return table->index_owner[shardindex];
}

/*
 * Map a list of shard indexes of distributed table relid to the distinct
 * indexes of the shards holding them, ascending: one entry per shard, for
 * code that runs one task per shard.  Returns the list itself when the
 * table was never split.
 */
List *
sf_shard_index_owners(Oid relid, List *shardindexes)
{
	const SfTable *table = sf_lookup_table(relid);
	bool	   *seen;
	List	   *result = NIL;
	ListCell   *lc;
	int			i;

	if (table == NULL || table->index_owner == NULL)
		return shardindexes;
	seen = palloc0(sizeof(bool) * table->shardcount);
	foreach(lc, shardindexes)
	{
		int			owner = sf_shard_index_owner(table, lfirst_int(lc));

		if (owner >= 0 && owner < table->shardcount)
			seen[owner] = true;
	}
	for (i = 0; i < table->shardcount; i++)
		if (seen[i])
			result = lappend_int(result, i);
	pfree(seen);
	return result;
}

/*
 * Sum of pg_total_relation_size of the given relations (qualified, quoted
 * names, as strings) on one worker, in the current remote transaction.
 * Relations missing on the worker count as 0.
 */
int64
sf_remote_relation_size(Oid serverid, List *qualified_names)
{
	StringInfoData arr;
	ListCell   *lc;
	SfConn	   *conn;
	PGresult   *res;
	const char *values[1];
	int64		size = 0;

	initStringInfo(&arr);
	appendStringInfoChar(&arr, '{');
	foreach(lc, qualified_names)
	{
		const char *p;

		if (lc != list_head(qualified_names))
			appendStringInfoChar(&arr, ',');
		appendStringInfoChar(&arr, '"');
		for (p = lfirst(lc); *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&arr, '\\');
			appendStringInfoChar(&arr, *p);
		}
		appendStringInfoChar(&arr, '"');
	}
	appendStringInfoChar(&arr, '}');
	values[0] = arr.data;

	conn = sf_get_connection_for_server(serverid);
	res = sf_exec_query(conn,
						"SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(pg_catalog.to_regclass(n))), 0)"
						" FROM pg_catalog.unnest($1::pg_catalog.text[]) AS n",
						1, values);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		size = pg_strtoint64(PQgetvalue(res, 0, 0));
	PQclear(res);
	return size;
}

/*
 * The servers found unreachable by sf_monitor_remote in the current
 * statement (of the current transaction), in TopMemoryContext.
 */
static List *unreachable_servers = NIL;
static LocalTransactionId unreachable_lxid = InvalidLocalTransactionId;
static TimestampTz unreachable_stmt = 0;

/*
 * Run fn(serverid, arg) for a monitoring function (see metadata.h).  fn
 * runs in an internal subtransaction, so that a connection error rolls
 * back only what fn started (the connection layer rolls its remote
 * savepoint back or marks the connection broken) and the statement goes
 * on.  Other errors (a cancel, a failing query) are re-raised.
 */
bool
sf_monitor_remote(Oid serverid, const char *what, SfRemoteProbe fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;
	ForeignServer *fs;

	if (unreachable_lxid != MyProc->lxid ||
		unreachable_stmt != GetCurrentStatementStartTimestamp())
	{
		list_free(unreachable_servers);
		unreachable_servers = NIL;
		unreachable_lxid = MyProc->lxid;
		unreachable_stmt = GetCurrentStatementStartTimestamp();
	}
	if (list_member_oid(unreachable_servers, serverid))
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(serverid, arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_CONNECTION_EXCEPTION &&
			edata->sqlerrcode != ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION)
			ReThrowError(edata);
	}
	PG_END_TRY();
	if (edata == NULL)
		return true;

	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		unreachable_servers = lappend_oid(unreachable_servers, serverid);
		MemoryContextSwitchTo(old);
	}
	fs = GetForeignServer(serverid);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("could not read %s from server \"%s\"; they are NULL in the result",
					what, fs->servername),
			 edata->detail ? errdetail("%s: %s", edata->message, edata->detail)
			 : errdetail("%s", edata->message),
			 errhint("An unreachable server is tried once per statement; each attempt waits up to shardfdw.connect_timeout (%d s) unless the SERVER sets connect_timeout.",
					 shardfdw_connect_timeout)));
	FreeErrorData(edata);
	return false;
}

typedef struct SfSizeProbe
{
	List	   *names;
	int64		size;
} SfSizeProbe;

static void
size_probe(Oid serverid, void *arg)
{
	SfSizeProbe *probe = arg;

	probe->size = sf_remote_relation_size(serverid, probe->names);
}

/*
 * sf_remote_relation_size for a monitoring function: false (and a WARNING,
 * see sf_monitor_remote) if the server cannot be reached.
 */
bool
sf_monitor_relation_size(Oid serverid, List *qualified_names, int64 *size)
{
	SfSizeProbe probe;

	probe.names = qualified_names;
	probe.size = 0;
	if (!sf_monitor_remote(serverid, "shard sizes", size_probe, &probe))
		return false;
	*size = probe.size;
	return true;
}

/*
 * shardfdw.relation_size(regclass): bytes of a distributed table on the
 * workers, of a reference table on the coordinator; NULL for other tables,
 * and (with a WARNING) when a server holding shards of it cannot be
 * reached.
 */
Datum
shardfdw_relation_size(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	const SfTable *table = sf_lookup_table(relid);
	List	   *shards;
	List	   *servers = NIL;
	ListCell   *lc;
	int64		total = 0;
	bool		complete = true;

	if (table == NULL)
		PG_RETURN_NULL();
	if (table->kind == SF_KIND_REFERENCE)
		return DirectFunctionCall1(pg_total_relation_size, ObjectIdGetDatum(relid));

	shards = sf_shard_list(relid);
	foreach(lc, shards)
	{
		SfShard    *shard = lfirst(lc);

		servers = list_append_unique_oid(servers, shard->serverid);
	}
	foreach(lc, servers)
	{
		Oid			serverid = lfirst_oid(lc);
		List	   *names = NIL;
		ListCell   *lc2;
		int64		size;

		if (!OidIsValid(serverid))
			continue;
		foreach(lc2, shards)
		{
			SfShard    *shard = lfirst(lc2);

			if (shard->serverid == serverid && OidIsValid(shard->shardrelid))
				names = lappend(names, sf_qualified_relname(shard->shardrelid));
		}
		if (sf_monitor_relation_size(serverid, names, &size))
			total += size;
		else
			complete = false;	/* go on: one WARNING per server */
	}
	if (!complete)
		PG_RETURN_NULL();
	PG_RETURN_INT64(total);
}

/*
 * shardfdw.shard_size(shardid, server_name DEFAULT NULL): bytes of a shard
 * on the worker of its placement on that server (a reference table has one
 * per node), or of its first placement; NULL for an unknown shard or
 * placement, and (with a WARNING) when the worker cannot be reached.
 */
Datum
shardfdw_shard_size(PG_FUNCTION_ARGS)
{
	int64		shardid;
	Oid			serverid = InvalidOid;
	Oid			relid;
	List	   *shards;
	ListCell   *lc;

	if (PG_ARGISNULL(0) || !sf_extension_present())
		PG_RETURN_NULL();
	shardid = PG_GETARG_INT64(0);
	if (!PG_ARGISNULL(1))
	{
		ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(1)), true);

		if (server == NULL)
			PG_RETURN_NULL();
		serverid = server->serverid;
	}
	relid = sf_shard_owner(shardid);
	shards = sf_shard_list(relid);
	foreach(lc, shards)
	{
		SfShard    *shard = lfirst(lc);
		Oid			named;
		int64		size;

		if (shard->shardid != shardid || !OidIsValid(shard->serverid) ||
			(OidIsValid(serverid) && shard->serverid != serverid))
			continue;
		named = OidIsValid(shard->shardrelid) ? shard->shardrelid : relid;
		if (!sf_monitor_relation_size(shard->serverid,
									  list_make1(sf_qualified_relname(named)), &size))
			PG_RETURN_NULL();
		PG_RETURN_INT64(size);
	}
	PG_RETURN_NULL();
}

/*
 * The distributed or reference table a shard id belongs to, or InvalidOid.
 */
Oid
sf_shard_owner(int64 shardid)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	ScanKeyData key;
	Oid			relid = InvalidOid;
	bool		isnull;

	if (!sf_extension_present())
		return InvalidOid;
	rel = table_open(sf_catalog_relid("shard"), AccessShareLock);
	ScanKeyInit(&key, Anum_sf_shard_shardid, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(shardid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		relid = DatumGetObjectId(heap_getattr(tuple, Anum_sf_shard_relid,
											  RelationGetDescr(rel), &isnull));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

/*
 * Is name (len bytes, not terminated) the name of shard shardid's table?
 */
static bool
is_shard_table_name(Oid relid, int64 shardid, const char *name, int len)
{
	const SfTable *table = sf_lookup_table(relid);
	int			i;

	if (table == NULL)
		return false;
	for (i = 0; i < table->nplacements; i++)
	{
		const SfShard *shard = &table->placements[i];
		char	   *shardname;

		if (shard->shardid != shardid)
			continue;
		if (!OidIsValid(shard->shardrelid))
			return false;
		shardname = get_rel_name(shard->shardrelid);
		return shardname != NULL && strlen(shardname) == len &&
			strncmp(shardname, name, len) == 0;
	}
	return false;
}

/*
 * Rewrite a worker's message in the coordinator's terms (installed with
 * sf_set_error_rewriter): every identifier that ends in "_<shardid>" of a
 * known shard loses that suffix ("campaigns_102012" -> "campaigns",
 * "campaigns_pkey_102012" -> "campaigns_pkey"), and a shard table whose name
 * was shortened to fit 63 bytes becomes its table's name.  Returns text
 * itself when nothing matched.
 */
static char *
unshard_names(char *text)
{
	StringInfoData out;
	const char *p = text;
	const char *copied = text;
	bool		changed = false;

	if (!sf_extension_present())
		return text;
	initStringInfo(&out);
	while (*p)
	{
		const char *start = p;
		const char *digits;
		int64		shardid;
		Oid			relid;

		if (!(isalnum((unsigned char) *p) || *p == '_'))
		{
			p++;
			continue;
		}
		while (isalnum((unsigned char) *p) || *p == '_' || *p == '$')
			p++;
		/* an identifier ending in "_<digits>", with something before */
		digits = p;
		while (digits > start && isdigit((unsigned char) digits[-1]))
			digits--;
		if (p - digits < 6 || p - digits > 18 || digits - start < 2 ||
			digits[-1] != '_')
			continue;
		shardid = strtoi64(digits, NULL, 10);
		relid = sf_shard_owner(shardid);
		if (!OidIsValid(relid))
			continue;

		appendBinaryStringInfo(&out, copied, start - copied);
		if (is_shard_table_name(relid, shardid, start, p - start))
			appendStringInfoString(&out, get_rel_name(relid));
		else
			appendBinaryStringInfo(&out, start, digits - 1 - start);
		copied = p;
		changed = true;
	}
	if (!changed)
		return text;
	appendStringInfoString(&out, copied);
	return out.data;
}
