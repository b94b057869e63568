CREATE TABLE t (a int);
CREATE INDEX bad_name ON t (a);