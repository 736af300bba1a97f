/*-------------------------------------------------------------------------
 *
 * option.c
 *	  Validation of the options of the shardfdw foreign-data wrapper, and
 *	  their translation into libpq connection parameters.
 *
 * Which libpq options exist is asked from libpq itself (PQconndefaults), so
 * the set follows the libpq the coordinator is linked with.  Credentials
 * (user, password, client certificates) belong to USER MAPPINGs, everything
 * else about the connection to SERVERs.  A few libpq options are refused
 * because the connection layer owns them (client_encoding, replication,
 * fallback_application_name).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "fdw_option.h"
#include "libpq-fe.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(shardfdw_validator);

/* Options of shardfdw itself (not libpq), with where they may appear. */
typedef struct SfOption
{
	const char *name;
	Oid			context;		/* catalog the option belongs to */
} SfOption;

static const SfOption sf_own_options[] = {
	{"schema_name", ForeignTableRelationId},
	{"table_name", ForeignTableRelationId},
	{"column_name", AttributeRelationId},
	{"fetch_size", ForeignServerRelationId},
	{"fetch_size", ForeignTableRelationId},
	{"batch_size", ForeignServerRelationId},
	{"batch_size", ForeignTableRelationId},
	{NULL, InvalidOid}
};

/* libpq options owned by the connection layer, never set by users */
static const char *const sf_refused_libpq_options[] = {
	"client_encoding", "replication", "fallback_application_name", NULL
};

/* libpq options that are credentials: user mappings only */
static const char *const sf_user_libpq_options[] = {
	"user", "password", "sslkey", "sslcert", "sslpassword", NULL
};

static PQconninfoOption *sf_libpq_defaults = NULL;

static bool
name_in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/*
 * Fetch libpq's option list once per backend.  Debug options ("D" in
 * dispchar) are not offered to users.
 */
static PQconninfoOption *
libpq_defaults(void)
{
	if (sf_libpq_defaults == NULL)
	{
		sf_libpq_defaults = PQconndefaults();
		if (sf_libpq_defaults == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not get libpq's default connection options.")));
	}
	return sf_libpq_defaults;
}

/*
 * Is "name" a libpq option valid in the given catalog?
 */
static bool
is_libpq_option(const char *name, Oid context)
{
	PQconninfoOption *opt;

	if (context != ForeignServerRelationId && context != UserMappingRelationId)
		return false;
	if (name_in_list(name, sf_refused_libpq_options))
		return false;
	for (opt = libpq_defaults(); opt->keyword; opt++)
	{
		if (strchr(opt->dispchar, 'D') != NULL)
			continue;
		if (strcmp(opt->keyword, name) != 0)
			continue;
		if (name_in_list(name, sf_user_libpq_options))
			return context == UserMappingRelationId;
		return context == ForeignServerRelationId;
	}
	return false;
}

static bool
is_own_option(const char *name, Oid context)
{
	const SfOption *opt;

	for (opt = sf_own_options; opt->name; opt++)
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return true;
	return false;
}

/*
 * List the option names valid for a catalog, for the HINT of an error.
 */
static char *
valid_option_names(Oid context)
{
	StringInfoData buf;
	const SfOption *own;
	PQconninfoOption *opt;

	initStringInfo(&buf);
	for (own = sf_own_options; own->name; own++)
		if (own->context == context)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", own->name);
	for (opt = libpq_defaults(); opt->keyword; opt++)
		if (is_libpq_option(opt->keyword, context))
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", opt->keyword);
	return buf.data;
}

static int
parse_positive_int(DefElem *def)
{
	char	   *value = defGetString(def);
	char	   *end;
	long		result;

	errno = 0;
	result = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || result <= 0 || result > INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						def->defname, value),
				 errhint("The value must be a positive integer.")));
	return (int) result;
}

/*
 * Validate the options given to CREATE/ALTER of a FOREIGN DATA WRAPPER,
 * SERVER, USER MAPPING or FOREIGN TABLE that uses shardfdw.
 */
Datum
shardfdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			context = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (!is_own_option(def->defname, context) &&
			!is_libpq_option(def->defname, context))
		{
			char	   *valid = valid_option_names(context);

			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 valid[0] != '\0'
					 ? errhint("Valid options in this context are: %s.", valid)
					 : errhint("There are no valid options in this context.")));
		}

		if (strcmp(def->defname, "fetch_size") == 0 ||
			strcmp(def->defname, "batch_size") == 0)
			(void) parse_positive_int(def);
	}

	PG_RETURN_VOID();
}

/*
 * Fill keywords/values with the libpq parameters of a server and a user
 * mapping; returns how many were filled (the arrays are NOT terminated).
 */
int
sf_libpq_params(List *server_options, List *user_options,
				const char **keywords, const char **values, int max_params)
{
	int			n = 0;
	ListCell   *lc;

	foreach(lc, server_options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (!is_libpq_option(def->defname, ForeignServerRelationId))
			continue;
		if (n >= max_params)
			break;
		keywords[n] = def->defname;
		values[n] = defGetString(def);
		n++;
	}
	foreach(lc, user_options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (!is_libpq_option(def->defname, UserMappingRelationId))
			continue;
		if (n >= max_params)
			break;
		keywords[n] = def->defname;
		values[n] = defGetString(def);
		n++;
	}
	return n;
}

/*
 * Value of an integer option in a DefElem list, or default_value.
 */
int
sf_option_int(List *options, const char *name, int default_value)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return parse_positive_int(def);
	}
	return default_value;
}

/*
 * Value of a string option in a DefElem list, or default_value.
 */
const char *
sf_option_string(List *options, const char *name, const char *default_value)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return default_value;
}
