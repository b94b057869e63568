-- bytebase 0.2 — sync: discover an instance's databases and snapshot their schemas;
-- admin diagnostics that talk to an instance (test_connection, remote_query).

-- The C bodies read credentials, so only the extension owner may call them directly; the API
-- wrappers below check roles.  They connect with the session user's rights (password rule).
CREATE FUNCTION bb._sync_instance_c(instance text) RETURNS int
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_sync_instance_c';
COMMENT ON FUNCTION bb._sync_instance_c(text) IS
  'Internal: body of bb.sync_instance (no role check: call bb.sync_instance).';
CREATE FUNCTION bb._test_connection_c(instance text) RETURNS text
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_test_connection_c';
COMMENT ON FUNCTION bb._test_connection_c(text) IS
  'Internal: body of bb.test_connection (no role check: call bb.test_connection).';
CREATE FUNCTION bb._remote_query_c(instance text, database text, sql text) RETURNS SETOF jsonb
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_remote_query_c';
COMMENT ON FUNCTION bb._remote_query_c(text, text, text) IS
  'Internal: body of bb.remote_query (no role check: call bb.remote_query).';
REVOKE ALL ON FUNCTION bb._sync_instance_c(text), bb._test_connection_c(text),
                       bb._remote_query_c(text, text, text) FROM PUBLIC;

CREATE FUNCTION bb.sync_instance(instance text) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('sync_instance', jsonb_build_object('instance', instance));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._instance_id(bb._not_null('instance', instance));
  RETURN bb._sync_instance_c(instance);
END $$;
COMMENT ON FUNCTION bb.sync_instance(text) IS
  'Discovers the instance''s databases (system databases excluded): registers new ones (no project, the '
  'instance''s environment), marks missing ones vanished (revives them when they return), stores each '
  'one''s schema snapshot; a database whose snapshot fails keeps its old snapshot and gets sync_error. '
  'Returns the number of databases found.';

CREATE FUNCTION bb.test_connection(instance text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._instance_id(bb._not_null('instance', instance));
  RETURN bb._test_connection_c(instance);
END $$;
COMMENT ON FUNCTION bb.test_connection(text) IS
  'Connects to the instance with its stored credentials and returns the server''s version (admin only).';

CREATE FUNCTION bb.remote_query(instance text, database text, sql text) RETURNS SETOF jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('remote_query', jsonb_build_object('instance', instance, 'database', database, 'sql', sql));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._instance_id(bb._not_null('instance', instance));
  PERFORM bb._not_null('sql', sql);
  RETURN QUERY SELECT r FROM bb._remote_query_c(instance, database, sql) AS r;
END $$;
COMMENT ON FUNCTION bb.remote_query(text, text, text) IS
  'Admin-only diagnostics: runs one command on the instance (database NULL = its default) with the stored '
  'credentials, bounded by bytebase.statement_timeout and the result caps, and returns its rows as jsonb '
  'objects (column -> text value). Audited, not governed: developers use the governed query API instead.';
