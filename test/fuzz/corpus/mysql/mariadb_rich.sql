CREATE DATABASE IF NOT EXISTS shop DEFAULT CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE customer (
  id bigint unsigned NOT NULL AUTO_INCREMENT COMMENT 'pk',
  email varchar(255) NOT NULL DEFAULT '' COMMENT 'mail',
  name varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  balance decimal(12,2) NOT NULL DEFAULT 0.00,
  flags set('a','b','c') DEFAULT 'a',
  kind enum('x','y') NOT NULL DEFAULT 'x',
  data json DEFAULT NULL CHECK (json_valid(data)),
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  score double precision DEFAULT -1.5e3,
  bits bit(8) DEFAULT b'00000001',
  blobby mediumblob,
  full_name varchar(201) GENERATED ALWAYS AS (concat(name, ' ', email)) VIRTUAL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_customer_email (email),
  KEY idx_customer_name (name(20)),
  FULLTEXT KEY ft_customer_name (name),
  CONSTRAINT chk_balance CHECK (balance >= 0)
) ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC COMMENT='customers';
CREATE TABLE orders (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  customer_id bigint unsigned NOT NULL,
  day date NOT NULL,
  total decimal(10,2) NOT NULL DEFAULT 0,
  PRIMARY KEY (id, day),
  KEY idx_orders_customer_id (customer_id)
) ENGINE=InnoDB PARTITION BY RANGE (YEAR(day)) (PARTITION p2023 VALUES LESS THAN (2024), PARTITION pmax VALUES LESS THAN MAXVALUE);
CREATE TABLE line (
  id int NOT NULL PRIMARY KEY,
  customer_id bigint unsigned NOT NULL,
  CONSTRAINT fk_line_customer_id_customer_id FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE ON UPDATE NO ACTION
);
CREATE TABLE copy1 LIKE customer;
CREATE TABLE copy2 AS SELECT id, email FROM customer WHERE id > 10;
CREATE TEMPORARY TABLE IF NOT EXISTS tmp (a int);
ALTER TABLE customer ADD COLUMN phone varchar(20) NULL AFTER email, ADD INDEX idx_customer_phone (phone);
ALTER TABLE customer MODIFY COLUMN phone varchar(32) NOT NULL DEFAULT '' COMMENT 'phone';
ALTER TABLE customer CHANGE COLUMN phone phone_no varchar(32) NOT NULL DEFAULT '';
ALTER TABLE customer RENAME COLUMN phone_no TO phone;
ALTER TABLE customer ALTER COLUMN phone SET DEFAULT 'n/a';
ALTER TABLE customer ALTER COLUMN phone DROP DEFAULT;
ALTER TABLE customer DROP INDEX idx_customer_phone, DROP COLUMN phone;
ALTER TABLE copy1 ENGINE = InnoDB, COMMENT = 'copy';
ALTER TABLE copy1 CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE copy1 RENAME TO copy3;
ALTER TABLE line DROP FOREIGN KEY fk_line_customer_id_customer_id;
ALTER TABLE line ADD CONSTRAINT fk_line_customer_id_customer_id FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE copy2 ADD PRIMARY KEY (id);
ALTER TABLE copy2 DROP PRIMARY KEY, ADD PRIMARY KEY (id, email);
CREATE UNIQUE INDEX uk_copy2_email ON copy2 (email) USING BTREE;
DROP INDEX uk_copy2_email ON copy2;
RENAME TABLE copy2 TO copy4, copy3 TO copy5;
INSERT INTO customer (email, name) VALUES ('a@x', 'a'), ('b@x', 'b');
INSERT IGNORE INTO customer SET email = 'c@x', name = 'c';
INSERT INTO copy4 (id, email) SELECT id, email FROM customer WHERE id > 1 ON DUPLICATE KEY UPDATE email = VALUES(email);
REPLACE INTO customer (id, email) VALUES (1, 'z@x');
UPDATE customer c JOIN line l ON l.customer_id = c.id SET c.balance = c.balance + 1 WHERE l.id > 0;
UPDATE customer SET balance = 0 WHERE id = 1 ORDER BY id LIMIT 1;
DELETE FROM line WHERE id IN (SELECT id FROM (SELECT id FROM line WHERE id > 5) x);
DELETE l FROM line l JOIN customer c ON c.id = l.customer_id WHERE c.id = 3;
SELECT c.*, (SELECT COUNT(*) FROM line WHERE line.customer_id = c.id) AS n FROM customer c WHERE c.name LIKE '%a' ORDER BY RAND() LIMIT 5;
SELECT id FROM customer WHERE id = 1 FOR UPDATE;
WITH x AS (SELECT id FROM customer WHERE id > 0) SELECT id FROM x WHERE id < 10;
CREATE OR REPLACE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW v_customer AS SELECT id, email FROM customer;
DELIMITER ;;
CREATE DEFINER=root@localhost PROCEDURE p_touch(IN x INT)
BEGIN
  DECLARE y INT DEFAULT 0;
  UPDATE customer SET balance = balance + x WHERE id = y;
  IF x > 0 THEN SELECT 1; END IF;
END;;
CREATE FUNCTION f_one() RETURNS int DETERMINISTIC
BEGIN
  RETURN 1;
END;;
CREATE TRIGGER tr_customer BEFORE INSERT ON customer FOR EACH ROW
BEGIN
  SET NEW.balance = 0;
END;;
CREATE EVENT ev_clean ON SCHEDULE EVERY 1 DAY DO DELETE FROM line WHERE id < 0;;
DELIMITER ;
LOCK TABLES customer WRITE;
UNLOCK TABLES;
BEGIN;
COMMIT;
START TRANSACTION;
ROLLBACK;
SET @a = 1, sql_mode = 'STRICT_TRANS_TABLES';
TRUNCATE TABLE tmp;
DROP TEMPORARY TABLE IF EXISTS tmp;
DROP TABLE IF EXISTS copy4, copy5;
DROP VIEW v_customer;
