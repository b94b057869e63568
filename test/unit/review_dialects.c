/*
 * review_dialects.c — standalone tests (no server) of the MySQL/TiDB,
 * ClickHouse and Snowflake checkers: for every rule a script that must give
 * the finding at an exact line and one that must not, plus hostile input.
 * Output is TAP ("ok N - ...").  Built with ASan/UBSan by test/unit/run.sh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "review.h"
#include "tap.h"

typedef struct rcase
{
	bb_dialect	d;
	const char *rule;
	const char *bad;			/* must give `rule` at `line` */
	int			line;
	const char *good;			/* must not give `rule` */
} rcase;

#define MY BB_DIALECT_MYSQL
#define TI BB_DIALECT_TIDB
#define CH BB_DIALECT_CLICKHOUSE
#define SF BB_DIALECT_SNOWFLAKE

static const rcase cases[] = {
	/* ---- MySQL / TiDB ---- */
	{MY, "naming.table", "SELECT 1;\nCREATE TABLE Orders (id int PRIMARY KEY);", 2, "CREATE TABLE orders (id int PRIMARY KEY);"},
	{MY, "naming.table", "RENAME TABLE a TO b, c TO BadName;", 1, "RENAME TABLE a TO b, c TO d;"},
	{MY, "naming.column", "CREATE TABLE t (\n  id int PRIMARY KEY,\n  userId int\n);", 3, "CREATE TABLE t (id int PRIMARY KEY, user_id int);"},
	{MY, "naming.column", "ALTER TABLE t CHANGE user_id userId int, RENAME COLUMN a TO B;", 1, "ALTER TABLE t MODIFY userId bigint;"},
	{MY, "naming.index.idx", "CREATE TABLE t (a int);\nCREATE INDEX bad_name ON t (a);", 2, "CREATE INDEX idx_t_a ON t (a);"},
	{MY, "naming.index.uk", "ALTER TABLE t ADD UNIQUE KEY u1 (a, b);", 1, "ALTER TABLE t ADD UNIQUE KEY uk_t_a_b (a, b);"},
	{MY, "naming.index.fk", "CREATE TABLE c (id int PRIMARY KEY, p_id int,\n CONSTRAINT f1 FOREIGN KEY (p_id) REFERENCES p (id));", 2,
	 "CREATE TABLE c (id int PRIMARY KEY, p_id int, CONSTRAINT fk_c_p_id_p_id FOREIGN KEY (p_id) REFERENCES p (id));"},
	{MY, "naming.index.pk", "CREATE TABLE t (id int, CONSTRAINT pkey PRIMARY KEY (id));", 1, "CREATE TABLE t (id int, CONSTRAINT pk_t_id PRIMARY KEY (id));"},
	{MY, "naming.column.auto-increment", "CREATE TABLE t (pk bigint unsigned AUTO_INCREMENT PRIMARY KEY);", 1, "CREATE TABLE t (id bigint unsigned AUTO_INCREMENT PRIMARY KEY);"},
	{MY, "statement.select.no-select-all", "SELECT * FROM t WHERE a = 1;", 1, "SELECT count(*), a * 2 FROM t WHERE a = 1;"},
	{MY, "statement.select.no-select-all", "SELECT a FROM t WHERE a IN (SELECT u.*\n FROM u WHERE b = 1);", 1, "SELECT a FROM t WHERE a = 1;"},
	{MY, "statement.where.require-select", "SELECT a FROM t;", 1, "SELECT a FROM t WHERE a = 1; SELECT 1; SELECT NOW() FROM DUAL;"},
	{MY, "statement.where.require-update-delete", "DELETE FROM t;", 1, "DELETE FROM t WHERE id = 1;"},
	{MY, "statement.where.require-update-delete", "WITH x AS (SELECT id FROM u WHERE a = 1)\nDELETE FROM t;", 1,
	 "WITH x AS (SELECT id FROM u WHERE a = 1) DELETE t FROM t JOIN x ON x.id = t.id WHERE t.b = 2;"},
	{MY, "statement.where.require-update-delete", "UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1);", 1, "UPDATE t SET a = 1 WHERE id = 1;"},
	{MY, "statement.where.no-leading-wildcard-like", "SELECT a FROM t\nWHERE b LIKE '%x';", 2, "SELECT a FROM t WHERE b LIKE 'x%';"},
	{MY, "statement.disallow-commit", "BEGIN;\nCOMMIT;", 2, "BEGIN;"},
	{MY, "statement.insert.must-specify-column", "INSERT INTO t VALUES (1, 2);", 1, "INSERT INTO t (a, b) VALUES (1, 2); INSERT INTO t SET a = 1;"},
	{MY, "statement.insert.disallow-order-by-rand", "INSERT INTO t (a) SELECT a FROM u WHERE a > 0 ORDER BY RAND();", 1, "INSERT INTO t (a) SELECT a FROM u WHERE a > 0 ORDER BY a;"},
	{MY, "statement.disallow-order-by-rand", "SELECT a FROM t WHERE a > 0 ORDER BY RAND() LIMIT 1;", 1, "SELECT a FROM t WHERE a > 0 ORDER BY a;"},
	{MY, "statement.merge-alter-table", "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;", 2, "ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int;"},
	{MY, "statement.disallow-on-delete-cascade", "ALTER TABLE c ADD CONSTRAINT fk_c_p_id_p_id FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE;", 1,
	 "ALTER TABLE c ADD CONSTRAINT fk_c_p_id_p_id FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE RESTRICT ON UPDATE CASCADE;"},
	{MY, "statement.disallow-truncate", "TRUNCATE TABLE t;", 1, "DELETE FROM t WHERE a = 1;"},
	{MY, "statement.disallow-limit", "UPDATE t SET a = 1 WHERE b = 2 LIMIT 10;", 1, "UPDATE t SET a = 1 WHERE b IN (SELECT b FROM u WHERE c = 1 LIMIT 10);"},
	{MY, "statement.disallow-order-by", "DELETE FROM t WHERE a = 1 ORDER BY id;", 1, "DELETE FROM t WHERE a = 1;"},
	{MY, "statement.select.disallow-for-update", "SELECT a FROM t WHERE id = 1 FOR UPDATE;", 1, "SELECT a FROM t WHERE id = 1;"},
	{MY, "statement.disallow-create-table-as-select", "CREATE TABLE t2 AS SELECT a FROM t WHERE a = 1;", 1, "CREATE TABLE t2 LIKE t;"},
	{MY, "statement.disallow-lock-tables", "LOCK TABLES t WRITE;", 1, "UNLOCK TABLES;"},
	{MY, "table.require-pk", "CREATE TABLE t (a int);", 1, "CREATE TABLE t (a int, PRIMARY KEY (a));"},
	{MY, "table.require-pk", "ALTER TABLE t DROP PRIMARY KEY;", 1, "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a, b);"},
	{MY, "table.no-foreign-key", "ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id);", 1, "ALTER TABLE c ADD INDEX idx_c_p_id (p_id);"},
	{MY, "table.drop-naming-convention", "DROP TABLE IF EXISTS orders_del,\n  orders;", 2, "DROP TABLE orders_del;"},
	{MY, "table.comment", "CREATE TABLE t (id int PRIMARY KEY);", 1, "CREATE TABLE t (id int PRIMARY KEY) COMMENT 'orders';"},
	{MY, "table.disallow-partition", "CREATE TABLE t (id int PRIMARY KEY)\nPARTITION BY HASH(id) PARTITIONS 4;", 2, "CREATE TABLE t (id int PRIMARY KEY);"},
	{MY, "table.disallow-partition", "CREATE TABLE t (id int PRIMARY KEY) /*!50100 PARTITION BY HASH(id) */;", 1, "/*!40101 SET NAMES utf8mb4 */;"},
	{MY, "table.disallow-trigger", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;", 1, "SELECT 1;"},
	{MY, "column.required", "CREATE TABLE t (id int PRIMARY KEY);", 1,
	 "CREATE TABLE t (id int PRIMARY KEY, created_ts int, updated_ts int, creator_id int, updater_id int);"},
	{MY, "column.no-null", "CREATE TABLE t (id int PRIMARY KEY,\n a int);", 2, "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 0);"},
	{MY, "column.disallow-change-type", "CREATE TABLE t (id int PRIMARY KEY, a int);\nALTER TABLE t MODIFY a bigint;", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, a int);\nALTER TABLE t MODIFY a int NOT NULL DEFAULT 0;"},
	{MY, "column.disallow-change-type", "ALTER TABLE t MODIFY COLUMN a bigint;", 1, "ALTER TABLE t ADD COLUMN a bigint;"},
	{MY, "column.disallow-change-type", "CREATE TABLE t (id int PRIMARY KEY, a varchar(20));\nALTER TABLE t CHANGE a a VARCHAR(32);", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, a varchar(20));\nALTER TABLE t CHANGE a b VARCHAR(20) NOT NULL;"},
	{MY, "column.set-default-for-not-null", "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL);", 1,
	 "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 0, b text NOT NULL, c int unsigned NOT NULL AUTO_INCREMENT UNIQUE);"},
	{MY, "column.require-default", "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL);", 1, "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 0);"},
	{MY, "column.type-disallow-list", "CREATE TABLE t (id int PRIMARY KEY, doc JSON);", 1, "CREATE TABLE t (id int PRIMARY KEY, doc text);"},
	{MY, "column.maximum-char-length", "ALTER TABLE t ADD COLUMN c char(100);", 1, "ALTER TABLE t ADD COLUMN c char(10);"},
	{MY, "column.maximum-varchar-length", "ALTER TABLE t ADD COLUMN c varchar(3000);", 1, "ALTER TABLE t ADD COLUMN c varchar(255);"},
	{MY, "column.auto-increment-must-integer", "CREATE TABLE t (id varchar(10) AUTO_INCREMENT PRIMARY KEY);", 1, "CREATE TABLE t (id bigint unsigned AUTO_INCREMENT PRIMARY KEY);"},
	{MY, "column.auto-increment-must-unsigned", "CREATE TABLE t (id bigint AUTO_INCREMENT PRIMARY KEY);", 1, "CREATE TABLE t (id serial PRIMARY KEY);"},
	{MY, "column.auto-increment-initial-value", "CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB AUTO_INCREMENT = 100;", 1, "CREATE TABLE t (id int PRIMARY KEY) AUTO_INCREMENT=1;"},
	{MY, "column.comment", "CREATE TABLE t (id int PRIMARY KEY);", 1, "CREATE TABLE t (id int PRIMARY KEY COMMENT 'key');"},
	{MY, "column.disallow-changing-order", "ALTER TABLE t ADD COLUMN c INT FIRST;", 1, "ALTER TABLE t ADD COLUMN c INT;"},
	{MY, "column.disallow-changing-order", "ALTER TABLE t MODIFY c INT NOT NULL DEFAULT 0\n  AFTER b;", 2, "ALTER TABLE t MODIFY c INT NOT NULL DEFAULT 0;"},
	{MY, "column.disallow-drop-in-index", "CREATE TABLE t (id int PRIMARY KEY, a int, b int, INDEX idx_t_a (a));\nALTER TABLE t DROP COLUMN a;", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, a int, b int, INDEX idx_t_a (a));\nALTER TABLE t DROP COLUMN b;"},
	{MY, "column.disallow-drop", "ALTER TABLE t DROP COLUMN a;", 1, "ALTER TABLE t ADD COLUMN a int;"},
	{MY, "column.disallow-change", "ALTER TABLE t CHANGE a b int;", 1, "ALTER TABLE t RENAME COLUMN a TO b;"},
	{MY, "column.current-time-count-limit", "CREATE TABLE t (id int PRIMARY KEY, a datetime DEFAULT CURRENT_TIMESTAMP, b datetime DEFAULT NOW(), c timestamp(3) DEFAULT CURRENT_TIMESTAMP(3));", 1,
	 "CREATE TABLE t (id int PRIMARY KEY, a datetime DEFAULT CURRENT_TIMESTAMP, b datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);"},
	{MY, "column.disallow-set-charset", "ALTER TABLE t ADD COLUMN a varchar(10) CHARACTER SET utf8mb4;", 1, "ALTER TABLE t ADD COLUMN a varchar(10);"},
	{MY, "index.no-duplicate-column", "CREATE INDEX idx_t_a_a ON t (a, a);", 1, "CREATE INDEX idx_t_a_b ON t (a, b);"},
	{MY, "index.key-number-limit", "CREATE INDEX i ON t (a, b, c, d, e, f);", 1, "CREATE INDEX i ON t (a, b(10) DESC);"},
	{MY, "index.type-no-blob", "CREATE TABLE t (id int PRIMARY KEY, b text);\nCREATE INDEX idx_t_b ON t (b(10));", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, b text, FULLTEXT KEY ft (b));\nCREATE INDEX idx_t_id ON t (id);"},
	{MY, "index.primary-key-type-allowlist", "CREATE TABLE t (id varchar(20) PRIMARY KEY);", 1, "CREATE TABLE t (id bigint, PRIMARY KEY (id));"},
	{MY, "index.total-number-limit", "CREATE TABLE t (id int PRIMARY KEY, a int, KEY (a), KEY (id, a), UNIQUE (a, id), KEY (a, a), INDEX ix (id));", 1,
	 "CREATE TABLE t (id int PRIMARY KEY, a int, KEY (a));"},
	{MY, "index.no-duplicate-index", "CREATE TABLE t (id int PRIMARY KEY, a int, INDEX idx_t_a (a));\nCREATE INDEX idx2 ON t (a);", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, a int, b int, INDEX idx_t_a (a));\nCREATE INDEX idx2 ON t (a, b);"},
	{MY, "index.no-duplicate-index", "CREATE TABLE t (id int PRIMARY KEY, a text, FULLTEXT KEY ft (a));\nCREATE FULLTEXT INDEX ft2 ON t (a);", 2,
	 "CREATE TABLE t (id int PRIMARY KEY, a varchar(9), KEY idx_t_a (a));\nCREATE FULLTEXT INDEX ft2 ON t (a);"},
	{MY, "engine.mysql.use-innodb", "CREATE TABLE t (id int PRIMARY KEY) ENGINE=MyISAM;", 1, "CREATE TABLE t (id int PRIMARY KEY) ENGINE = InnoDB;"},
	{MY, "engine.mysql.use-innodb", "ALTER TABLE t ENGINE = MEMORY;", 1, "ALTER TABLE t ENGINE = InnoDB;"},
	{MY, "database.drop-empty-database", "DROP DATABASE shop;", 1, "DROP TABLE x_del;"},
	{MY, "system.charset.allowlist", "CREATE TABLE t (id int PRIMARY KEY) DEFAULT CHARSET=latin1;", 1, "CREATE TABLE t (id int PRIMARY KEY) DEFAULT CHARSET=utf8mb4;"},
	{MY, "system.charset.allowlist", "ALTER TABLE t CONVERT TO CHARACTER SET latin1;", 1, "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"},
	{MY, "system.collation.allowlist", "CREATE TABLE t (id int PRIMARY KEY) COLLATE=latin1_swedish_ci;", 1, "CREATE TABLE t (id int PRIMARY KEY) COLLATE utf8mb4_bin;"},
	{MY, "system.function.disallow-create", "CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 1;", 1, "SELECT 1;"},
	{MY, "system.procedure.disallow-create", "DELIMITER ;;\nCREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND;;\nDELIMITER ;", 2, "SELECT 1;"},
	{MY, "system.event.disallow-create", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE a < 1;", 1, "SELECT 1;"},
	{MY, "system.view.disallow-create", "CREATE OR REPLACE VIEW v AS SELECT a FROM t;", 1, "SELECT 1;"},
	{TI, "tidb.auto-random-on-bigint-pk", "CREATE TABLE t (id int AUTO_RANDOM PRIMARY KEY);", 1, "CREATE TABLE t (id bigint AUTO_RANDOM(5) PRIMARY KEY);"},
	{TI, "tidb.prefer-auto-random", "CREATE TABLE t (id bigint unsigned AUTO_INCREMENT PRIMARY KEY);", 1,
	 "CREATE TABLE t (id bigint unsigned AUTO_INCREMENT, PRIMARY KEY (id) NONCLUSTERED) SHARD_ROW_ID_BITS = 4;"},
	{TI, "tidb.shard-row-id-bits-for-nonclustered", "CREATE TABLE t (id bigint, PRIMARY KEY (id) /*T![clustered_index] NONCLUSTERED */);", 1,
	 "CREATE TABLE t (id bigint, PRIMARY KEY (id) /*T![clustered_index] CLUSTERED */);"},
	{TI, "tidb.shard-row-id-bits-for-nonclustered", "CREATE TABLE t (id varchar(20), PRIMARY KEY (id) NONCLUSTERED);", 1,
	 "CREATE TABLE t (id varchar(20), PRIMARY KEY (id) NONCLUSTERED) SHARD_ROW_ID_BITS = 4;"},
	{TI, "tidb.pre-split-requires-shard", "CREATE TABLE t (a int) PRE_SPLIT_REGIONS = 2;", 1, "CREATE TABLE t (a int) SHARD_ROW_ID_BITS = 4 PRE_SPLIT_REGIONS = 2;"},
	{MY, "syntax-error", "CREATE TABLE t (a int,,);", 1, "CREATE TABLE t (a int, b int);"},
	{MY, "syntax-error", "SELECT 1;\nSELECT 'unterminated", 2, "SELECT 'terminated';"},

	/* ---- ClickHouse ---- */
#include "cases_clickhouse.inc"
	/* ---- Snowflake ---- */
#include "cases_snowflake.inc"
	{0, NULL, NULL, 0, NULL}
};

#include "mysql_valid.inc"

static const bb_payload two_rows = {NULL, 0, 2, NULL, 0, NULL};

/* Every rule of a table has at least one case. */
static void
check_coverage(const bb_rule_def *defs, const char *name)
{
	const bb_rule_def *d;
	int			missing = 0;

	for (d = defs; d && d->id; d++)
	{
		const rcase *c;
		int			found = 0;

		for (c = cases; c->rule; c++)
			if (strcmp(c->rule, d->id) == 0 &&
				((d->engines & BB_ENGINE_BIT(c->d)) != 0))
				found = 1;
		if (strcmp(d->id, "statement.insert.row-limit") == 0)
			found = 1;			/* tested with its own payload below */
		if (!found)
		{
			printf("# no test case for %s rule %s\n", name, d->id);
			missing++;
		}
	}
	ok(missing == 0, "every %s rule has a positive and a negative case", name);
}

/* Hostile and large inputs: only "no crash, sensible result". */
static void
hostile_inputs(void)
{
	size_t		n = 200000,
				k,
				len;
	char	   *s;
	static const bb_dialect all[] = {MY, TI, CH, SF};
	int			di;

	/* deeply nested parentheses */
	s = malloc(2 * n + 32);
	strcpy(s, "SELECT ");
	len = strlen(s);
	for (k = 0; k < n; k++)
		s[len++] = '(';
	s[len++] = '1';
	for (k = 0; k < n; k++)
		s[len++] = ')';
	strcpy(s + len, " FROM t;");
	len += 8;
	run_len(MY, s, len);
	ok(count("syntax-error", 1) == 1, "MySQL: 200k nested parentheses give one syntax-error (depth limit)");
	for (di = 2; di < 4; di++)
	{
		run_len(all[di], s, len);
		ok(count("statement.where.require-select", 1) == 1, "%s: 200k nested parentheses are scanned without recursion",
		   all[di] == CH ? "ClickHouse" : "Snowflake");
	}
	/* unbalanced deep nesting */
	run_len(MY, s, n);
	ok(count("syntax-error", 0) == 1, "MySQL: 200k unclosed parentheses give a syntax-error");
	free(s);

	/* a 10 MB script */
	{
		const char *stmt = "SELECT * FROM t WHERE a = 1;\n";
		size_t		sl = strlen(stmt),
					reps = (10u << 20) / sl;

		s = malloc(reps * sl + 1);
		for (k = 0; k < reps; k++)
			memcpy(s + k * sl, stmt, sl);
		s[reps * sl] = '\0';
		for (di = 0; di < 4; di++)
		{
			run_len(all[di], s, reps * sl);
			ok(T.total == (long) reps && T.n > 0 && T.f[T.n - 1].rule[0] != '\0',
			   "10 MB script (%zu statements) dialect %d: one finding per statement (%ld)", reps, (int) all[di], T.total);
		}
		free(s);
	}

	/* binary garbage and invalid UTF-8 */
	{
		unsigned	seed = 12345;

		s = malloc(1 << 16);
		for (k = 0; k < (1u << 16); k++)
		{
			seed = seed * 1103515245u + 12345u;
			s[k] = (char) (seed >> 16);
		}
		for (di = 0; di < 4; di++)
		{
			run_len(all[di], s, 1 << 16);
			ok(1, "binary garbage (64 KiB) dialect %d: no crash (%ld findings)", (int) all[di], T.total);
		}
		free(s);
	}
	for (di = 0; di < 4; di++)
	{
		run(all[di], "CREATE TABLE \xff\xfe\xc3 (a int);\nUPDATE \xe2\x82 SET a = '\xc3\x28';");
		ok(count("statement.where.require-update-delete", 2) == (all[di] == CH ? 0 : 1),
		   "invalid UTF-8 dialect %d: still checked", (int) all[di]);
	}
	run_len(MY, "", 0);
	ok(T.n == 0, "empty script: no finding");
	run(MY, "-- only a comment\n/* and another */\n# and a hash one");
	ok(T.n == 0, "only comments: no finding");
	run_len(MY, NULL, 0);
	ok(T.n == 0, "NULL script of length 0: no finding");
}

/* Behaviour beyond single rules: positions, continuation, DELIMITER. */
static void
special_cases(void)
{
	int			k,
				col = 0;

	run(MY, "  UPDATE t SET a = 1;");
	for (k = 0; k < T.n; k++)
		if (strcmp(T.f[k].rule, "statement.where.require-update-delete") == 0)
			col = T.f[k].column;
	ok(col == 3, "MySQL: finding column is the byte column of the statement (3)");

	run(MY, "CREATE TABLE (;\nUPDATE t SET a = 1;");
	ok(count("syntax-error", 1) == 1 && count("statement.where.require-update-delete", 2) == 1,
	   "MySQL: a syntax error does not stop the review of the next statement");

	run(MY, "DELIMITER\nSELECT 1;\nUPDATE t SET a = 1;");
	ok(count("syntax-error", 1) == 1, "MySQL: DELIMITER without an argument is a syntax-error at its line");

	run(MY, "DELIMITER //\nCREATE PROCEDURE p() BEGIN UPDATE t SET a = 1; END //\nDELIMITER ;\nUPDATE t SET a = 1;");
	ok(count("statement.where.require-update-delete", 4) == 1 && count("statement.where.require-update-delete", 2) == 0 &&
	   count("system.procedure.disallow-create", 2) == 1,
	   "MySQL: DELIMITER // keeps a procedure body in one statement");

	run(MY, "CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB;");
	ok(count("tidb.prefer-auto-random", 0) == 0 && count("tidb.shard-row-id-bits-for-nonclustered", 0) == 0,
	   "MySQL: TiDB-only rules do not run for MySQL");
	run(TI, "CREATE TABLE t (id int PRIMARY KEY) ENGINE=MyISAM;");
	ok(count("engine.mysql.use-innodb", 0) == 0, "TiDB: the InnoDB rule is MySQL-only");

	T.override_id = "statement.insert.row-limit";
	T.override_pl = &two_rows;
	run(MY, "INSERT INTO t (a) VALUES (1), (2);\nINSERT INTO t (a) VALUES (1), (2), (3);");
	ok(count("statement.insert.row-limit", 2) == 1 && count("statement.insert.row-limit", 1) == 0,
	   "MySQL: statement.insert.row-limit with number 2");
	T.override_id = NULL;

	T.off_id = "statement.where.require-update-delete";
	run(MY, "UPDATE t SET a = 1;");
	ok(count("statement.where.require-update-delete", 0) == 0, "a rule that is off gives no finding");
	T.off_id = NULL;

	{
		static const bb_payload bad_re = {"^([a-z", 0, 0, NULL, 0, NULL};
		static const bb_payload tmpl = {"^idx_{{table}}_{{column_list}}$", 64, 0, NULL, 0, NULL};

		T.override_id = "naming.table";
		T.override_pl = &bad_re;
		run(MY, "CREATE TABLE t (id int PRIMARY KEY);");
		ok(count("naming.table", 0) == 0 && count("table.comment", 1) == 1,
		   "a naming regex that does not compile skips the rule, not the review");
		T.override_id = "naming.index.idx";
		T.override_pl = &tmpl;
		run(MY, "CREATE INDEX idx_a$b_c ON `a$b` (c);\nCREATE INDEX idx_axb_c ON `a$b` (c);");
		ok(count("naming.index.idx", 1) == 0 && count("naming.index.idx", 2) == 1,
		   "template values are regex-escaped (table a$b)");
		T.override_id = NULL;
	}

	run(MY, "select * from `order` where `desc` like '%a%' order by rand();");
	ok(count("statement.select.no-select-all", 1) == 1 && count("statement.where.no-leading-wildcard-like", 1) == 1 &&
	   count("statement.disallow-order-by-rand", 1) == 1, "MySQL: lower-case keywords and quoted names");

	run(MY, "CREATE TABLE `t` (\n`id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'x',\n"
		"`name` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '' COMMENT 'n',\n"
		"`ts` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n"
		"`v` int GENERATED ALWAYS AS (id + 1) VIRTUAL,\n"
		"`b` bit(1) DEFAULT b'0', `e` enum('a','b') DEFAULT 'a', `d` decimal(10,2) DEFAULT -1.5,\n"
		"PRIMARY KEY (`id`), UNIQUE KEY `uk_t_name` (`name`), KEY `idx_t_ts` (`ts`) USING BTREE COMMENT 'c',\n"
		"CONSTRAINT `chk` CHECK (`id` > 0)\n"
		") ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC COMMENT='t';");
	ok(count("syntax-error", 0) == 0 && count("table.require-pk", 0) == 0,
	   "MySQL: a mysqldump-style CREATE TABLE parses");

	run(MY, "ALTER TABLE t ADD COLUMN (a int NOT NULL DEFAULT 0, b int NOT NULL DEFAULT 0), ADD INDEX idx_t_a (a), "
		"DROP INDEX old, RENAME INDEX x TO y, ALTER COLUMN a SET DEFAULT 1, ALTER COLUMN b DROP DEFAULT, "
		"RENAME TO t2, ALGORITHM=INPLACE, LOCK=NONE;");
	ok(count("syntax-error", 0) == 0, "MySQL: a multi-spec ALTER TABLE parses");

	run(MY, mysql_valid_sql);
	ok(count("syntax-error", 0) == 0, "MySQL: valid DDL/DML (MariaDB-executed, MariaDB/TiDB extensions) parses");
	run(TI, mysql_valid_sql);
	ok(count("syntax-error", 0) == 0, "TiDB: the same valid statements parse");

	run(SF, "CREATE FUNCTION f() RETURNS NUMBER AS $$ UPDATE t SET a = 1; SELECT * FROM t $$;\n  UPDATE t SET a = 1;");
	ok(count("statement.where.require-update-delete", 0) == 1 && count("statement.where.require-update-delete", 2) == 1 &&
	   count("statement.select.no-select-all", 0) == 0, "Snowflake: a $$ body is one string, not statements");
	col = 0;
	for (k = 0; k < T.n; k++)
		if (strcmp(T.f[k].rule, "statement.where.require-update-delete") == 0)
			col = T.f[k].column;
	ok(col == 3, "Snowflake: finding column is the byte column (3)");
	run(CH, "SELECT 1;\n\tALTER TABLE t DELETE WHERE 1;");
	col = 0;
	for (k = 0; k < T.n; k++)
		if (strcmp(T.f[k].rule, "clickhouse.mutation.require-where") == 0 && T.f[k].line == 2)
			col = T.f[k].column;
	ok(col == 23, "ClickHouse: finding at the WHERE of the mutation (line 2, byte column 23 after a tab)");
	run(CH, "CREATE TABLE t (id UInt64) ENGINE = ReplicatedMergeTree('/p', 'r', d, (id), 8192);");
	ok(count("clickhouse.mergetree.require-order-by", 0) == 0, "ClickHouse: old replicated MergeTree syntax keeps its key in the arguments");

	run(MY, "ALTER TABLE t ADD COLUMN a int BOGUS;");
	ok(count("syntax-error", 1) == 1, "MySQL: an unknown column attribute is a syntax-error");
	run(MY, "FLUSH PRIVILEGES; SHOW TABLES; GRANT SELECT ON *.* TO 'u'@'%'; EXPLAIN SELECT 1;");
	ok(T.n == 0, "MySQL: statements outside the parsed set give no finding");
}

/* Writes every case's scripts as fuzz seeds: DIR/{mysql,clickhouse,snowflake}/. */
static int
dump_corpus(const char *dir)
{
	const rcase *c;
	int			k = 0;

	for (c = cases; c->rule; c++, k++)
	{
		const char *sub = c->d == CH ? "clickhouse" : c->d == SF ? "snowflake" : "mysql";
		char		path[1024];
		FILE	   *f;

		snprintf(path, sizeof(path), "%s/%s/case%03d_bad.sql", dir, sub, k);
		if ((f = fopen(path, "w")) == NULL)
			return 1;
		fputs(c->bad, f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/%s/case%03d_good.sql", dir, sub, k);
		if ((f = fopen(path, "w")) == NULL)
			return 1;
		fputs(c->good, f);
		fclose(f);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const rcase *c;

	if (argc == 3 && strcmp(argv[1], "--dump-corpus") == 0)
		return dump_corpus(argv[2]);

	for (c = cases; c->rule; c++)
	{
		run(c->d, c->bad);
		ok(count(c->rule, c->line) >= 1, "%s: finds it at line %d in: %.60s", c->rule, c->line, c->bad);
		run(c->d, c->good);
		ok(count(c->rule, 0) == 0, "%s: nothing in: %.60s", c->rule, c->good);
	}
	check_coverage(bb_rules_mysql, "MySQL/TiDB");
	check_coverage(bb_rules_clickhouse, "ClickHouse");
	check_coverage(bb_rules_snowflake, "Snowflake");
	special_cases();
	hostile_inputs();
	return tap_done();
}
