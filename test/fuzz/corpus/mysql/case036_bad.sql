CREATE TABLE t (id int PRIMARY KEY, a int);
ALTER TABLE t MODIFY a bigint;