/*
 * portal.h — the governed query of the developer portal (issue 11): the read-only checks per
 * engine, the masking analysis of PostgreSQL statements and the masking algorithms.  The SQL
 * side (sql/0.3/50_portal.sql) decides who may query which database under which limits; these
 * functions decide what a statement may do and which result columns are masked.
 */
#ifndef BB_PORTAL_H
#define BB_PORTAL_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/array.h"

/* Masking algorithms, weakest first: combining two takes the stronger. */
typedef enum BBMaskAlg
{
	BB_MASK_NONE = 0,
	BB_MASK_PARTIAL,
	BB_MASK_HASH,
	BB_MASK_FULL
} BBMaskAlg;

/* One masked column of a database (from bb.column_masking). */
typedef struct BBMaskRule
{
	char	   *schema;
	char	   *table;
	char	   *column;
	BBMaskAlg	alg;
} BBMaskRule;

/* A table of the database's schema snapshot. */
typedef struct BBSnapTable
{
	char	   *schema;
	char	   *name;
	List	   *columns;		/* char * in table order */
} BBSnapTable;

/* What the analysis knows about one relation the statement names (see BBRelLookup). */
typedef struct BBRelInfo
{
	char	   *schema;			/* where the target resolves it */
	char		relkind;		/* pg_class.relkind; 0 = no such relation */
	char	   *viewdef;		/* views: their SELECT */
} BBRelInfo;

/* Resolves a relation as the target would (NULL schema: its search_path); false = unknown. */
typedef bool (*BBRelLookup) (void *arg, const char *schema, const char *name, BBRelInfo *out);

/* A result column as the analysis predicts it. */
typedef struct BBOutCol
{
	char	   *name;			/* the name the target will give it; NULL when not predicted */
	BBMaskAlg	alg;
	char	   *origin;			/* masked column it comes from (schema.table.column), or NULL */
} BBOutCol;

/* Read-only checks: refuse (ereport) anything but the allowed statement kinds.
 * bb_portal_check_pg returns true when the statement is a SELECT (a cursor may wrap it). */
extern bool bb_portal_check_pg(const char *sql);
extern void bb_portal_check_mysql(const char *sql);
extern void bb_portal_check_clickhouse(const char *sql);

/* Masking analysis of a PostgreSQL statement: the predicted result columns (BBOutCol *), or
 * an ERROR when the statement filters, sorts, groups or joins on a masked column or reads a
 * relation whose columns cannot be resolved.  lookup may be NULL (snapshot only). */
extern List *bb_portal_mask_pg(const char *sql, List *rules, List *tables,
							   BBRelLookup lookup, void *lookup_arg);

/* The SQL side's arguments: rules as a flat text[] of (schema, table, column, algorithm)
 * quadruples, the snapshot's columns as a flat text[] of (schema, table, column) triples in
 * table order. */
extern List *bb_portal_rules_from_array(ArrayType *flat);
extern List *bb_portal_tables_from_array(ArrayType *flat);
extern BBMaskAlg bb_portal_alg_from_name(const char *name);
extern const char *bb_portal_alg_name(BBMaskAlg alg);

/* The masked text of a value (palloc'd); salt makes hashes stable but not reversible. */
extern char *bb_portal_mask_value(const char *value, BBMaskAlg alg, const char *salt);

/* Parses a PostgreSQL statement with the settings the targets are pinned to. */
extern List *bb_portal_raw_parse(const char *sql);

#endif
