CREATE TABLE t (
  id UInt64,
  note LowCardinality(Nullable(String))
) ENGINE = Log;