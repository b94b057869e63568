/*
 * pg_rules_defs.c — the PostgreSQL rule catalog: stable ids, categories,
 * template levels (basic = non-protected environments, strict = protected)
 * and default payloads.  The checks live in pg_review.c and pg_rules_*.c.
 */
#include "review.h"

#define PG BB_ENGINE_BIT(BB_DIALECT_POSTGRES)
#define OFF BB_LEVEL_OFF
#define WARN BB_LEVEL_WARNING
#define ERR BB_LEVEL_ERROR

#define NAMING(fmt, maxlen) {(fmt), (maxlen), 0, 0, 0, 0}
#define NUMBER(n) {0, 0, (n), 0, 0, 0}
#define LIST(arr) {0, 0, 0, (arr), (int) (sizeof(arr) / sizeof((arr)[0])), 0}
#define STRING(s) {0, 0, 0, 0, 0, (s)}

static const char *const required_columns[] = {"id", "created_at", "updated_at"};
static const char *const type_denylist[] = {"json", "money", "serial4"};
static const char *const pk_types[] = {"bigint", "bigserial", "integer", "serial", "uuid"};
static const char *const index_types[] = {"btree", "gin", "gist", "brin", "hash", "spgist"};
static const char *const charsets[] = {"UTF8"};
static const char *const collations[] = {"C", "C.UTF-8", "en_US.UTF-8", "und-x-icu"};

const bb_rule_def bb_rules_postgres[] = {
	/* naming */
	{"naming.table", PG, "naming", "Table names match a format (regex) and a maximum length.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z]+(_[a-z]+)*$", 63)},
	{"naming.column", PG, "naming", "Column names match a format (regex) and a maximum length.",
	WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z]+(_[a-z]+)*$", 63)},
	{"naming.index.idx", PG, "naming", "Index names match a template ({{table}}, {{column_list}}).",
	OFF, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^idx_{{table}}_{{column_list}}$", 63)},
	{"naming.index.uk", PG, "naming", "Unique key / unique index names match a template ({{table}}, {{column_list}}).",
	OFF, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^uk_{{table}}_{{column_list}}$", 63)},
	{"naming.index.fk", PG, "naming", "Foreign key names match a template ({{referencing_table}}, {{referencing_column}}, {{referenced_table}}, {{referenced_column}}).",
	OFF, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^fk_{{referencing_table}}_{{referencing_column}}_{{referenced_table}}_{{referenced_column}}$", 63)},
	{"naming.index.pk", PG, "naming", "Primary key names match a template ({{table}}, {{column_list}}).",
	OFF, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^pk_{{table}}_{{column_list}}$", 63)},

	/* statement */
	{"statement.select.no-select-all", PG, "statement", "No SELECT * (list the columns).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.where.require-update-delete", PG, "statement", "UPDATE and DELETE have a WHERE clause.",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"statement.where.require-select", PG, "statement", "SELECT from a table has a WHERE clause.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"statement.where.no-leading-wildcard-like", PG, "statement", "No LIKE/ILIKE pattern starting with % (cannot use an index).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.where.no-equal-null", PG, "statement", "No \"= NULL\" / \"<> NULL\" comparison (always NULL; use IS NULL).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.disallow-commit", PG, "statement", "No COMMIT in a change script (the rollout controls transactions).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.disallow-truncate", PG, "statement", "No TRUNCATE.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"statement.insert.must-specify-column", PG, "statement", "INSERT lists its target columns.",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.insert.row-limit", PG, "statement", "INSERT ... VALUES inserts at most \"number\" rows.",
	OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(1000)},
	{"statement.insert.disallow-order-by-rand", PG, "statement", "No INSERT ... SELECT ... ORDER BY random().",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.merge-alter-table", PG, "statement", "Several ALTER TABLE statements on one table are merged into one.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"statement.disallow-on-delete-cascade", PG, "statement", "No foreign key with ON DELETE CASCADE.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"statement.disallow-cascade", PG, "statement", "No DROP/ALTER ... CASCADE (drops dependent objects silently).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"statement.create-specify-schema", PG, "statement", "CREATE TABLE names its schema.",
	OFF, OFF, BB_PAYLOAD_NONE},
	{"statement.disallow-mix-ddl-dml", PG, "statement", "A script does not mix DDL and DML.",
	OFF, WARN, BB_PAYLOAD_NONE},

	/* table */
	{"table.require-pk", PG, "table", "A created table has a primary key (also added later in the script).",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"table.no-foreign-key", PG, "table", "No foreign keys.",
	OFF, OFF, BB_PAYLOAD_NONE},
	{"table.drop-naming-convention", PG, "table", "Only tables whose name matches the format may be dropped (e.g. renamed to *_del first).",
	OFF, WARN, BB_PAYLOAD_NAMING, NAMING("_del$", 0)},
	{"table.comment", PG, "table", "A created table gets a COMMENT in the script; \"number\" is the maximum comment length (0 = any).",
	OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(256)},
	{"table.disallow-partition", PG, "table", "No partitioned tables / partitions.",
	OFF, OFF, BB_PAYLOAD_NONE},
	{"table.disallow-trigger", PG, "table", "No triggers.",
	OFF, WARN, BB_PAYLOAD_NONE},

	/* column */
	{"column.required", PG, "column", "A created table has every column of the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(required_columns)},
	{"column.no-null", PG, "column", "Columns are NOT NULL.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"column.require-default", PG, "column", "Columns have a DEFAULT (primary keys, identity and serial excepted).",
	OFF, OFF, BB_PAYLOAD_NONE},
	{"column.disallow-change-type", PG, "column", "No ALTER COLUMN ... TYPE.",
	OFF, ERR, BB_PAYLOAD_NONE},
	{"column.set-default-for-not-null", PG, "column", "NOT NULL columns have a DEFAULT (primary keys, identity and serial excepted).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"column.type-disallow-list", PG, "column", "Column types not in the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(type_denylist)},
	{"column.maximum-varchar-length", PG, "column", "varchar(n)/char(n) with n at most \"number\".",
	WARN, ERR, BB_PAYLOAD_NUMBER, NUMBER(2560)},
	{"column.comment", PG, "column", "Created columns get a COMMENT in the script; \"number\" is the maximum comment length (0 = any).",
	OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(256)},
	{"column.default-disallow-volatile", PG, "column", "No volatile column DEFAULT (random(), clock_timestamp(), gen_random_uuid() ...).",
	OFF, ERR, BB_PAYLOAD_NONE},

	/* index */
	{"index.no-duplicate-column", PG, "index", "An index or key does not list a column twice.",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"index.key-number-limit", PG, "index", "An index or key has at most \"number\" columns.",
	WARN, ERR, BB_PAYLOAD_NUMBER, NUMBER(5)},
	{"index.primary-key-type-allowlist", PG, "index", "Primary key columns have a type of the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(pk_types)},
	{"index.type-allow-list", PG, "index", "Indexes use an access method of the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(index_types)},
	{"index.total-number-limit", PG, "index", "At most \"number\" indexes per table created in one script.",
	OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(5)},

	/* database and system */
	{"database.drop-empty-database", PG, "database", "DROP DATABASE only for an empty database (cannot be verified offline: always reported).",
	OFF, ERR, BB_PAYLOAD_NONE},
	{"system.function.disallow-create", PG, "system", "No CREATE FUNCTION.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"system.procedure.disallow-create", PG, "system", "No CREATE PROCEDURE.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"system.view.disallow-create", PG, "system", "No CREATE VIEW / MATERIALIZED VIEW.",
	OFF, OFF, BB_PAYLOAD_NONE},
	{"system.charset.allowlist", PG, "system", "CREATE DATABASE uses an encoding of the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(charsets)},
	{"system.collation.allowlist", PG, "system", "COLLATE clauses and database collations come from the list.",
	OFF, WARN, BB_PAYLOAD_LIST, LIST(collations)},

	/* migration safety (the rules Squawk is known for) */
	{"migration.create-index-concurrently", PG, "migration", "CREATE INDEX uses CONCURRENTLY (a plain build blocks writes).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.drop-index-concurrently", PG, "migration", "DROP INDEX uses CONCURRENTLY (a plain drop blocks reads and writes).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.concurrently-in-transaction", PG, "migration", "No CONCURRENTLY inside BEGIN ... COMMIT (it fails there).",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"migration.constraint-not-valid", PG, "migration", "ALTER TABLE ADD CHECK uses NOT VALID, validated later (avoids a long lock).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.foreign-key-not-valid", PG, "migration", "ALTER TABLE ADD FOREIGN KEY uses NOT VALID, validated later (avoids a long lock on both tables).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.add-not-null-column-without-default", PG, "migration", "ADD COLUMN ... NOT NULL has a DEFAULT (fails on a non-empty table).",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"migration.add-column-volatile-default", PG, "migration", "ADD COLUMN with a volatile DEFAULT or a stored generated column rewrites the table.",
	WARN, OFF, BB_PAYLOAD_NONE},
	{"migration.column-type-change", PG, "migration", "ALTER COLUMN ... TYPE usually rewrites the table under an exclusive lock.",
	WARN, OFF, BB_PAYLOAD_NONE},
	{"migration.set-not-null", PG, "migration", "ALTER COLUMN SET NOT NULL scans the table under an exclusive lock (add a NOT VALID CHECK first).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.drop-not-null", PG, "migration", "ALTER COLUMN DROP NOT NULL may break readers that rely on it.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.rename-column", PG, "migration", "Renaming a column breaks running clients.",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.rename-table", PG, "migration", "Renaming a table breaks running clients.",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.unique-constraint-use-index", PG, "migration", "ADD UNIQUE / PRIMARY KEY uses an index built CONCURRENTLY (USING INDEX).",
	WARN, ERR, BB_PAYLOAD_NONE},
	{"migration.prefer-bigint", PG, "migration", "Integer columns are bigint (int/smallint/serial overflow).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.prefer-identity", PG, "migration", "Use GENERATED ... AS IDENTITY instead of serial types.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.prefer-text", PG, "migration", "Use text (with a CHECK on length) instead of varchar(n).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.prefer-timestamptz", PG, "migration", "Use timestamptz instead of timestamp without time zone.",
	WARN, WARN, BB_PAYLOAD_NONE},
	{"migration.ban-char", PG, "migration", "No char(n) columns (padded; use text).",
	WARN, WARN, BB_PAYLOAD_NONE},
	{"migration.require-lock-timeout", PG, "migration", "SET lock_timeout before the first DDL that locks an existing table.",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.identifier-too-long", PG, "migration", "Identifiers are at most 63 bytes (longer ones are silently truncated).",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"migration.truncate-cascade", PG, "migration", "No TRUNCATE ... CASCADE (empties every referencing table).",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"migration.ban-drop-database", PG, "migration", "No DROP DATABASE.",
	ERR, ERR, BB_PAYLOAD_NONE},
	{"migration.ban-drop-column", PG, "migration", "No DROP COLUMN (data loss; breaks running clients).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.ban-drop-table", PG, "migration", "No DROP TABLE (data loss).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.ban-create-domain-with-constraint", PG, "migration", "No CREATE DOMAIN with a constraint (cannot be added safely later).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{"migration.ban-alter-domain-with-add-constraint", PG, "migration", "No ALTER DOMAIN ADD CONSTRAINT (validates every column of the domain under lock).",
	OFF, WARN, BB_PAYLOAD_NONE},
	{0}
};
