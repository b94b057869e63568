-- bytebase 0.2 — prelude (fresh installs only): guard, database check, the credentials wrapper
\echo Use "CREATE EXTENSION bytebase" to load this file. \quit

CREATE FUNCTION bb._check_database() RETURNS void
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_check_database';
COMMENT ON FUNCTION bb._check_database() IS 'Refuses to install outside bytebase.database.';
SELECT bb._check_database();

-- The wrapper that holds address and credentials of non-PostgreSQL instances
-- (PostgreSQL instances use postgres_fdw's wrapper when it is installed).
CREATE FUNCTION bb._fdw_validator(text[], oid) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_fdw_validator';
COMMENT ON FUNCTION bb._fdw_validator(text[], oid) IS 'Validates options of bytebase foreign servers and user mappings.';
CREATE FOREIGN DATA WRAPPER bytebase VALIDATOR bb._fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER bytebase IS 'Address and credentials of bytebase instances of engines other than PostgreSQL.';
