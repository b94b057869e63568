CREATE TABLE t (id int PRIMARY KEY, a int, b int, INDEX idx_t_a (a));
ALTER TABLE t DROP COLUMN b;