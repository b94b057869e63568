/*
 * mysql_rules_def.c — the MySQL/TiDB rule catalog: stable ids, engines,
 * descriptions, default levels (basic / strict template) and payloads.
 * The checks themselves are in mysql_rules.c.
 */
#include "review.h"

#define MY  BB_ENGINES_MYSQL_LIKE
#define MYO BB_ENGINE_BIT(BB_DIALECT_MYSQL)
#define TI  BB_ENGINE_BIT(BB_DIALECT_TIDB)
#define OFF BB_LEVEL_OFF
#define WARN BB_LEVEL_WARNING
#define ERR BB_LEVEL_ERROR

#define NONE_PL {0}
#define NAMING(fmt, len) {(fmt), (len), 0, 0, 0, 0}
#define NUMBER(n) {0, 0, (n), 0, 0, 0}
#define LIST(arr) {0, 0, 0, (arr), (int) (sizeof(arr) / sizeof((arr)[0])), 0}

static const char *const required_columns[] = {"id", "created_ts", "updated_ts", "creator_id", "updater_id"};
static const char *const type_deny[] = {"json", "binary_float"};
static const char *const pk_types[] = {"int", "bigint"};
static const char *const charsets[] = {"utf8mb4"};
static const char *const collations[] = {"utf8mb4_general_ci", "utf8mb4_0900_ai_ci", "utf8mb4_bin", "utf8mb4_unicode_ci"};

const bb_rule_def bb_rules_mysql[] = {
	/* naming */
	{"naming.table", MY, "naming", "Table names (CREATE, RENAME) match the format and are at most max_length characters.",
	 WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z]+(_[a-z]+)*$", 64)},
	{"naming.column", MY, "naming", "Column names (CREATE TABLE, ADD/CHANGE/RENAME COLUMN) match the format and length.",
	 WARN, ERR, BB_PAYLOAD_NAMING, NAMING("^[a-z]+(_[a-z]+)*$", 64)},
	{"naming.index.idx", MY, "naming", "Plain index names match the template, e.g. ^idx_{{table}}_{{column_list}}$ (unnamed indexes match ^$).",
	 WARN, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^idx_{{table}}_{{column_list}}$", 64)},
	{"naming.index.uk", MY, "naming", "Unique key names match the template, e.g. ^uk_{{table}}_{{column_list}}$.",
	 WARN, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^uk_{{table}}_{{column_list}}$", 64)},
	{"naming.index.fk", MY, "naming", "Foreign key names match the template ^fk_{{referencing_table}}_{{referencing_column}}_{{referenced_table}}_{{referenced_column}}$.",
	 WARN, WARN, BB_PAYLOAD_NAMING, NAMING("^$|^fk_{{referencing_table}}_{{referencing_column}}_{{referenced_table}}_{{referenced_column}}$", 64)},
	{"naming.index.pk", MY, "naming", "Primary key constraint names match the template ^pk_{{table}}_{{column_list}}$ (MySQL ignores them).",
	 OFF, OFF, BB_PAYLOAD_NAMING, NAMING("^$|^pk_{{table}}_{{column_list}}$", 64)},
	{"naming.column.auto-increment", MY, "naming", "An AUTO_INCREMENT column is named by the format (default: id).",
	 OFF, WARN, BB_PAYLOAD_NAMING, NAMING("^id$", 64)},

	/* statement */
	{"statement.select.no-select-all", MY, "statement", "No SELECT * (or t.*): list the columns, so schema changes do not change results.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.require-select", MY, "statement", "A SELECT that reads a table has a WHERE clause.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.require-update-delete", MY, "statement", "UPDATE and DELETE have a WHERE clause (else every row changes).",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.where.no-leading-wildcard-like", MY, "statement", "No LIKE '%...' (a leading wildcard cannot use an index).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-commit", MY, "statement", "No COMMIT in a change script (the rollout manages transactions).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.insert.must-specify-column", MY, "statement", "INSERT lists its target columns.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.insert.row-limit", MY, "statement", "INSERT ... VALUES inserts at most {number} rows per statement.",
	 WARN, WARN, BB_PAYLOAD_NUMBER, NUMBER(1000)},
	{"statement.insert.disallow-order-by-rand", MY, "statement", "No INSERT ... SELECT ... ORDER BY RAND().",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-order-by-rand", MY, "statement", "No SELECT ... ORDER BY RAND() (sorts the whole result).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.merge-alter-table", MY, "statement", "One ALTER TABLE per table per script (each one may copy the table).",
	 WARN, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-on-delete-cascade", MY, "statement", "No ON DELETE CASCADE foreign keys.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-truncate", MY, "statement", "No TRUNCATE TABLE (cannot be rolled back).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-limit", MY, "statement", "No LIMIT in UPDATE/DELETE (non-deterministic under replication).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-order-by", MY, "statement", "No ORDER BY in UPDATE/DELETE.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.select.disallow-for-update", MY, "statement", "No SELECT ... FOR UPDATE in a change script (locks rows).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-create-table-as-select", MY, "statement", "No CREATE TABLE ... AS SELECT (unsafe with GTID replication, copies no keys).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"statement.disallow-lock-tables", MY, "statement", "No LOCK TABLES in a change script.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},

	/* table */
	{"table.require-pk", MY, "table", "Every table has a primary key (also: no DROP PRIMARY KEY without a new one).",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"table.no-foreign-key", MY, "table", "No foreign keys (enforce relations in the application).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"table.drop-naming-convention", MY, "table", "Only tables whose name matches the format (e.g. _del$, renamed first) may be dropped.",
	 WARN, ERR, BB_PAYLOAD_NAMING, NAMING("_del$", 0)},
	{"table.comment", MY, "table", "A new table has a COMMENT of at most {number} characters.",
	 OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(64)},
	{"table.disallow-partition", MY, "table", "No partitioned tables (PARTITION BY).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"table.disallow-trigger", MY, "table", "No CREATE TRIGGER.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},

	/* column */
	{"column.required", MY, "column", "A new table has every column of the list.",
	 OFF, WARN, BB_PAYLOAD_LIST, LIST(required_columns)},
	{"column.no-null", MY, "column", "Columns are NOT NULL.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"column.disallow-change-type", MY, "column", "MODIFY/CHANGE COLUMN does not change a column's type (rewrites the table, may lose data).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.set-default-for-not-null", MY, "column", "A NOT NULL column has a DEFAULT (except keys, AUTO_INCREMENT and BLOB/TEXT/JSON).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.require-default", MY, "column", "Every column has a DEFAULT (except keys, AUTO_INCREMENT and BLOB/TEXT/JSON).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"column.type-disallow-list", MY, "column", "Columns do not use a type of the list.",
	 OFF, WARN, BB_PAYLOAD_LIST, LIST(type_deny)},
	{"column.maximum-char-length", MY, "column", "CHAR(n) has n <= {number} (use VARCHAR above).",
	 WARN, WARN, BB_PAYLOAD_NUMBER, NUMBER(20)},
	{"column.maximum-varchar-length", MY, "column", "VARCHAR(n) has n <= {number} (use TEXT above).",
	 WARN, WARN, BB_PAYLOAD_NUMBER, NUMBER(2560)},
	{"column.auto-increment-must-integer", MY, "column", "AUTO_INCREMENT columns have an integer type.",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.auto-increment-must-unsigned", MY, "column", "AUTO_INCREMENT columns are UNSIGNED.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.auto-increment-initial-value", MY, "column", "The table option AUTO_INCREMENT=n, when given, equals {number}.",
	 OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(1)},
	{"column.comment", MY, "column", "Every new column has a COMMENT of at most {number} characters.",
	 OFF, WARN, BB_PAYLOAD_NUMBER, NUMBER(64)},
	{"column.disallow-changing-order", MY, "column", "No FIRST / AFTER in ADD/MODIFY/CHANGE COLUMN (forces a table copy).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.disallow-drop-in-index", MY, "column", "No DROP COLUMN of a column used by an index of a table created in the script.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.disallow-drop", MY, "column", "No DROP COLUMN (breaks readers; loses data).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"column.disallow-change", MY, "column", "No CHANGE COLUMN (use RENAME COLUMN or MODIFY COLUMN).",
	 WARN, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"column.current-time-count-limit", MY, "column", "A table has at most two DEFAULT CURRENT_TIMESTAMP and one ON UPDATE CURRENT_TIMESTAMP column.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"column.disallow-set-charset", MY, "column", "Columns do not set their own CHARACTER SET (use the table's).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},

	/* index */
	{"index.no-duplicate-column", MY, "index", "An index does not name the same column twice.",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"index.key-number-limit", MY, "index", "An index has at most {number} columns.",
	 WARN, WARN, BB_PAYLOAD_NUMBER, NUMBER(5)},
	{"index.type-no-blob", MY, "index", "No index on a BLOB/TEXT/JSON column (known from the script).",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"index.primary-key-type-allowlist", MY, "index", "Primary key columns have a type of the list.",
	 WARN, WARN, BB_PAYLOAD_LIST, LIST(pk_types)},
	{"index.total-number-limit", MY, "index", "A table has at most {number} indexes (counted over the script).",
	 WARN, WARN, BB_PAYLOAD_NUMBER, NUMBER(5)},
	{"index.no-duplicate-index", MY, "index", "No two indexes of a table have the same column list.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},

	/* engine, database, system */
	{"engine.mysql.use-innodb", MYO, "engine", "Tables use the InnoDB engine.",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"database.drop-empty-database", MY, "database", "DROP DATABASE only of an empty database: the review cannot see the database, so every DROP DATABASE is reported for a human check.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"system.charset.allowlist", MY, "system", "Table/column character sets are in the list.",
	 WARN, WARN, BB_PAYLOAD_LIST, LIST(charsets)},
	{"system.collation.allowlist", MY, "system", "Table/column collations are in the list.",
	 OFF, WARN, BB_PAYLOAD_LIST, LIST(collations)},
	{"system.function.disallow-create", MY, "system", "No CREATE FUNCTION.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"system.procedure.disallow-create", MY, "system", "No CREATE PROCEDURE.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"system.event.disallow-create", MY, "system", "No CREATE EVENT.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"system.view.disallow-create", MY, "system", "No CREATE VIEW.",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},

	/* TiDB */
	{"tidb.auto-random-on-bigint-pk", TI, "table", "AUTO_RANDOM only on a BIGINT column that is the whole primary key (else TiDB rejects it).",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.prefer-auto-random", TI, "table", "An AUTO_INCREMENT clustered primary key writes to one region (hotspot): use AUTO_RANDOM.",
	 WARN, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.shard-row-id-bits-for-nonclustered", TI, "table", "A table without a clustered integer primary key sets SHARD_ROW_ID_BITS (spreads _tidb_rowid writes).",
	 OFF, WARN, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.pre-split-requires-shard", TI, "table", "PRE_SPLIT_REGIONS needs SHARD_ROW_ID_BITS or an AUTO_RANDOM key.",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.unsupported-statement", TI, "statement", "What TiDB refuses: stored procedures and functions, triggers, events, FULLTEXT/SPATIAL indexes, CREATE TABLE ... AS SELECT.",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.multi-schema-change", TI, "statement", "One change per ALTER TABLE on TiDB before v6.2 (earlier versions refuse several).",
	 ERR, ERR, BB_PAYLOAD_NONE, NONE_PL},
	{"tidb.foreign-key-unenforced", TI, "table", "Foreign keys on TiDB before v6.6 are parsed but not enforced.",
	 WARN, ERR, BB_PAYLOAD_NONE, NONE_PL},

	{0}
};
