/*-------------------------------------------------------------------------
 *
 * shardfdw.h
 *	  Entry points of each layer, called once from _PG_init (src/shardfdw.c).
 *
 * Layers (one folder each under src/, see README.md and the layer READMEs):
 *	metadata	 catalog tables in schema shardfdw and their cache
 *	fdw			 the shardfdw foreign-data wrapper
 *	connection	 libpq connections and remote transactions
 *	operations	 distribute / undistribute, nodes, reference tables
 *	commands	 DDL propagation (ProcessUtility hook, drop trigger)
 *	planner		 the planner hook: statements run whole on workers
 *	executor	 custom scans running the planner's plans
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_H
#define SHARDFDW_H

/* in commands/utility.c */
extern void sf_commands_init(void);

/* in connection/connection.c */
extern void sf_connection_init(void);

/* in fdw/fdw.c */
extern void sf_fdw_init(void);

/* in metadata/metadata.c */
extern void sf_metadata_init(void);
extern void sf_transaction_init(void);

/* in operations/concurrent.c: create_distributed_table_concurrently's job */
extern void sf_concurrent_init(void);

/* in planner/planner.c */
extern void sf_planner_init(void);

#endif							/* SHARDFDW_H */
