CREATE TABLE t (id int PRIMARY KEY, b text);
CREATE INDEX idx_t_b ON t (b(10));