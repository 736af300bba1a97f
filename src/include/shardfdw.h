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
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_H
#define SHARDFDW_H

/* in connection/connection.c */
extern void sf_connection_init(void);

/* in fdw/fdw.c */
extern void sf_fdw_init(void);

/* in metadata/metadata.c */
extern void sf_metadata_init(void);
extern void sf_transaction_init(void);

#endif							/* SHARDFDW_H */
