/*-------------------------------------------------------------------------
 *
 * fdw_option.h
 *	  Options of the shardfdw foreign-data wrapper (src/fdw/option.c).
 *
 * SERVER options: the libpq connection options (host, hostaddr, port,
 * dbname, sslmode, ...) except user and password, plus fetch_size and
 * batch_size.  USER MAPPING options: user, password and the other libpq
 * options that are user-specific (sslkey, sslcert, sslpassword).  FOREIGN
 * TABLE options: schema_name, table_name, fetch_size, batch_size.  Column
 * option: column_name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDFDW_FDW_OPTION_H
#define SHARDFDW_FDW_OPTION_H

#include "nodes/pg_list.h"

#define SF_DEFAULT_FETCH_SIZE 1000
#define SF_DEFAULT_BATCH_SIZE 1000

extern int	sf_libpq_params(List *server_options, List *user_options,
							const char **keywords, const char **values,
							int max_params);
extern int	sf_option_int(List *options, const char *name, int default_value);
extern const char *sf_option_string(List *options, const char *name,
									const char *default_value);

#endif							/* SHARDFDW_FDW_OPTION_H */
