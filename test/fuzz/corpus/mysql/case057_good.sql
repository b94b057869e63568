CREATE TABLE t (id int PRIMARY KEY, b text, FULLTEXT KEY ft (b));
CREATE INDEX idx_t_id ON t (id);