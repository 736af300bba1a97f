/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  The distributed executor (src/executor): the CustomScan methods that
 *	  run the plans of the distributed planner on the workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_EXECUTOR_H
#define SHARDFDW_EXECUTOR_H

#include "nodes/extensible.h"

/* in router.c */
extern bool shardfdw_binary_results;
extern const CustomScanMethods sf_router_scan_methods;
extern void sf_register_router_scan(void);

/* in distinct_merge.c */
extern const CustomScanMethods sf_merge_scan_methods;
extern void sf_register_merge_scan(void);

#endif							/* SHARDFDW_EXECUTOR_H */
