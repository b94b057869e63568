CREATE TABLE t (id int PRIMARY KEY, a int, INDEX idx_t_a (a));
CREATE INDEX idx2 ON t (a);