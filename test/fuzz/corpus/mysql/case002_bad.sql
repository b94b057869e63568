CREATE TABLE t (
  id int PRIMARY KEY,
  userId int
);