CREATE TABLE t (id int PRIMARY KEY, a varchar(9), KEY idx_t_a (a));
CREATE FULLTEXT INDEX ft2 ON t (a);