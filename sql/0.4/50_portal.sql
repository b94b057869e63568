-- bytebase 0.4 — developer portal (issue 11): governed queries with limits, masking, access
-- grants and a query log.  Runs after the 0.3 install script and as the 0.3 -> 0.4 update.
--
-- Who may query what: admins every database; everyone else (developers, approvers) only the
-- databases of projects they are members of, where the environment's query policy allows it —
-- by default unprotected environments allow it and protected ones (and databases without an
-- environment) need an access grant by an approver who is not the requester.
-- What runs: one reading statement, checked on the control server before any connection
-- (src/portal/readonly.c), then run in the target's read-only mode and rolled back.

---------------------------------------------------------------------------
-- Catalog
---------------------------------------------------------------------------

CREATE TABLE bb.query_policy (
  environment_id  bigint PRIMARY KEY REFERENCES bb.environment ON DELETE CASCADE,
  access          text NOT NULL CHECK (access IN ('allowed', 'grant', 'denied')),
  max_rows        int CHECK (max_rows > 0),
  max_bytes       int CHECK (max_bytes >= 1024),
  timeout         interval CHECK (timeout > '0'),
  export_max_rows int CHECK (export_max_rows > 0),
  set_by          name NOT NULL DEFAULT bb._caller(),
  set_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.query_policy IS
  'Query policy of an environment: access (allowed, grant = needs an access grant, denied) for non-admins, and the caps of bb.query (NULL = the defaults: 1000 rows, 10 MiB, 30 s) and of bb.export (10000 rows).';

CREATE TABLE bb.access_request (
  id            bigserial PRIMARY KEY,
  database_id   bigint NOT NULL REFERENCES bb.database ON DELETE CASCADE,
  requested_by  name NOT NULL DEFAULT bb._caller(),
  reason        text NOT NULL CHECK (reason <> ''),
  duration      interval NOT NULL CHECK (duration > '0'),
  requested_at  timestamptz NOT NULL DEFAULT now(),
  granted_by    name,
  granted_at    timestamptz,
  expires_at    timestamptz,
  revoked_at    timestamptz,
  CHECK ((granted_by IS NULL) = (granted_at IS NULL) AND (granted_at IS NULL) = (expires_at IS NULL))
);
COMMENT ON TABLE bb.access_request IS
  'Just-in-time query access to one database: requested with a reason and a duration, granted by an approver who is not the requester; valid until expires_at.';
CREATE INDEX access_request_database ON bb.access_request (database_id, requested_by);

CREATE TABLE bb.column_masking (
  database_id  bigint NOT NULL REFERENCES bb.database ON DELETE CASCADE,
  schema_name  text NOT NULL,
  table_name   text NOT NULL,
  column_name  text NOT NULL,
  algorithm    text NOT NULL CHECK (algorithm IN ('full', 'partial', 'hash', 'none')),
  set_by       name NOT NULL DEFAULT bb._caller(),
  set_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (database_id, schema_name, table_name, column_name)
);
COMMENT ON TABLE bb.column_masking IS
  'Masked columns of a database (schema = the database itself on MySQL): full (******), partial (ends kept), hash (salted SHA-256, stable), none.';

CREATE TABLE bb.masking_exemption (
  database_id  bigint NOT NULL REFERENCES bb.database ON DELETE CASCADE,
  role         name NOT NULL,
  granted_by   name NOT NULL DEFAULT bb._caller(),
  granted_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (database_id, role)
);
COMMENT ON TABLE bb.masking_exemption IS 'Members of role see the database''s masked columns unmasked (granted by admins, audited).';

-- The salt of the hash algorithm: readable by the extension owner only.
CREATE TABLE bb.masking_salt (
  id    int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  salt  text NOT NULL
);
COMMENT ON TABLE bb.masking_salt IS 'Salt of the hash masking algorithm (one row; only the extension owner reads it).';
INSERT INTO bb.masking_salt (salt)
  SELECT pg_catalog.md5(pg_catalog.gen_random_uuid()::text) || pg_catalog.md5(pg_catalog.gen_random_uuid()::text);

CREATE TABLE bb.query_entry (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL DEFAULT 'query' CHECK (kind IN ('query', 'export')),
  at           timestamptz NOT NULL DEFAULT now(),
  who          name NOT NULL DEFAULT bb._caller(),
  database_id  bigint REFERENCES bb.database ON DELETE SET NULL,
  database     text NOT NULL,
  project_id   bigint,
  statement    text NOT NULL,
  rows         int NOT NULL,
  bytes        bigint NOT NULL,
  duration     interval NOT NULL,
  truncated    text,
  masked       jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE bb.query_entry IS
  'Queries that ran (bb.query): who, when, where, the statement, counts and masked columns — never a value. Refused and failed ones are in the audit log.';
CREATE INDEX query_entry_at ON bb.query_entry (at);

SELECT pg_catalog.pg_extension_config_dump('bb.query_policy', '');
SELECT pg_catalog.pg_extension_config_dump('bb.access_request', '');
SELECT pg_catalog.pg_extension_config_dump('bb.access_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.column_masking', '');
SELECT pg_catalog.pg_extension_config_dump('bb.masking_exemption', '');
SELECT pg_catalog.pg_extension_config_dump('bb.query_entry', '');
SELECT pg_catalog.pg_extension_config_dump('bb.query_entry_id_seq', '');

---------------------------------------------------------------------------
-- C bodies (no role checks: bb.query calls them)
---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bb._query_c(instance text, database text, engine text, statement text,
                                       max_rows int, max_bytes int, timeout_ms int,
                                       rules text[], columns text[], salt text) RETURNS jsonb
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_query_c';
COMMENT ON FUNCTION bb._query_c(text, text, text, text, int, int, int, text[], text[], text) IS
  'Internal: body of bb.query (checks, masking analysis, read-only run, cut, masks; no role check).';
REVOKE ALL ON FUNCTION bb._query_c(text, text, text, text, int, int, int, text[], text[], text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION bb._query_check(engine text, statement text, rules text[] DEFAULT '{}',
                                           columns text[] DEFAULT '{}') RETURNS jsonb
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_query_check';
COMMENT ON FUNCTION bb._query_check(text, text, text[], text[]) IS
  'The checks bb.query makes before running a statement, without a target: the read-only check, and for '
  'PostgreSQL the masking analysis on the given rules (schema, table, column, algorithm quadruples) and '
  'snapshot columns (schema, table, column triples): the predicted result columns with their masking, or the refusal.';

---------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------

-- The query policy of a database's environment, with the defaults filled in.
CREATE OR REPLACE FUNCTION bb._query_policy(database_id bigint, OUT access text, OUT max_rows int,
                                            OUT max_bytes int, OUT timeout_ms int, OUT export_max_rows int)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(p.access, CASE WHEN e.id IS NULL OR e.protected THEN 'grant' ELSE 'allowed' END),
         coalesce(p.max_rows, 1000), coalesce(p.max_bytes, 10 * 1024 * 1024),
         coalesce((extract(epoch FROM p.timeout) * 1000)::int, 30000), coalesce(p.export_max_rows, 10000)
    FROM bb.database d
    LEFT JOIN bb.environment e ON e.id = d.environment_id
    LEFT JOIN bb.query_policy p ON p.environment_id = e.id
   WHERE d.id = database_id
$$;
COMMENT ON FUNCTION bb._query_policy(bigint) IS
  'Access and caps of bb.query on a database: its environment''s policy, else allowed in unprotected and grant in protected environments (or none), 1000 rows, 10 MiB, 30 s.';

-- True when the session user holds a granted, unexpired, unrevoked access grant.
CREATE OR REPLACE FUNCTION bb._has_access_grant(database_id bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM bb.access_request r
                  WHERE r.database_id = _has_access_grant.database_id AND r.requested_by = bb._caller()
                    AND r.granted_at IS NOT NULL AND r.revoked_at IS NULL AND r.expires_at > pg_catalog.now())
$$;
COMMENT ON FUNCTION bb._has_access_grant(bigint) IS 'True when the session user has an active access grant on the database.';

-- 'schema.table.column' (quoted identifiers allowed) -> its three parts.
CREATE OR REPLACE FUNCTION bb._column_path(path text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE parts text[];
BEGIN
  BEGIN
    parts := pg_catalog.parse_ident(bb._not_null('column', path));
  EXCEPTION WHEN invalid_parameter_value THEN
    parts := NULL;
  END;
  IF parts IS NULL OR cardinality(parts) <> 3 THEN
    RAISE EXCEPTION 'invalid column "%"', bb._clip(path) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Write a column as ''schema.table.column'' (on MySQL the schema is the database name).';
  END IF;
  RETURN parts;
END $$;
COMMENT ON FUNCTION bb._column_path(text) IS 'Splits ''schema.table.column'' into its parts, or raises a clear error.';

---------------------------------------------------------------------------
-- API: policy, masking, exemptions, access grants
---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bb.set_query_policy(environment text, access text, max_rows int DEFAULT NULL,
                                               max_bytes int DEFAULT NULL, timeout interval DEFAULT NULL,
                                               export_max_rows int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE env bigint;
BEGIN
  PERFORM bb._audit('set_query_policy', jsonb_build_object('environment', environment, 'access', access,
          'max_rows', max_rows, 'max_bytes', max_bytes, 'timeout', timeout, 'export_max_rows', export_max_rows));
  PERFORM bb._require('bytebase_admin');
  env := bb._environment_id(bb._not_null('environment', environment));
  IF access IS NULL OR access NOT IN ('allowed', 'grant', 'denied') THEN
    RAISE EXCEPTION 'invalid query access "%"', bb._clip(access) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use allowed, grant (an access grant is needed) or denied.';
  END IF;
  IF max_rows <= 0 OR max_bytes < 1024 OR timeout <= '0' OR export_max_rows <= 0 THEN
    RAISE EXCEPTION 'query limits must be positive (max_bytes at least 1024)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO bb.query_policy AS p (environment_id, access, max_rows, max_bytes, timeout, export_max_rows)
  VALUES (env, set_query_policy.access, set_query_policy.max_rows, set_query_policy.max_bytes, set_query_policy.timeout,
          set_query_policy.export_max_rows)
  ON CONFLICT (environment_id) DO UPDATE
    SET access = EXCLUDED.access, max_rows = EXCLUDED.max_rows, max_bytes = EXCLUDED.max_bytes,
        timeout = EXCLUDED.timeout, export_max_rows = EXCLUDED.export_max_rows, set_by = bb._caller(), set_at = now();
END $$;
COMMENT ON FUNCTION bb.set_query_policy(text, text, int, int, interval, int) IS
  'Admins: the query policy of an environment (access allowed / grant / denied for non-admins; caps of bb.query and bb.export, NULL = default).';

CREATE OR REPLACE FUNCTION bb.set_column_masking(database text, "column" text, algorithm text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE db bigint; parts text[];
BEGIN
  PERFORM bb._audit('set_column_masking', jsonb_build_object('database', database, 'column', "column", 'algorithm', algorithm));
  PERFORM bb._require('bytebase_admin');
  db := bb._database_id(database);
  parts := bb._column_path("column");
  IF algorithm IS NULL OR algorithm NOT IN ('full', 'partial', 'hash', 'none') THEN
    RAISE EXCEPTION 'unknown masking algorithm "%"', bb._clip(algorithm) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use full, partial, hash or none.';
  END IF;
  INSERT INTO bb.column_masking AS m (database_id, schema_name, table_name, column_name, algorithm)
  VALUES (db, parts[1], parts[2], parts[3], set_column_masking.algorithm)
  ON CONFLICT (database_id, schema_name, table_name, column_name) DO UPDATE
    SET algorithm = EXCLUDED.algorithm, set_by = bb._caller(), set_at = now();
END $$;
COMMENT ON FUNCTION bb.set_column_masking(text, text, text) IS
  'Admins: masks a column of a database in bb.query results (full, partial, hash; none lifts it).';

CREATE OR REPLACE FUNCTION bb.grant_masking_exemption(database text, role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE db bigint;
BEGIN
  PERFORM bb._audit('grant_masking_exemption', jsonb_build_object('database', database, 'role', role));
  PERFORM bb._require('bytebase_admin');
  db := bb._database_id(database);
  IF role IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) grant_masking_exemption.role) THEN
    RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = 'undefined_object';
  END IF;
  INSERT INTO bb.masking_exemption (database_id, role) VALUES (db, role) ON CONFLICT DO NOTHING;
END $$;
COMMENT ON FUNCTION bb.grant_masking_exemption(text, name) IS 'Admins: members of role see the database''s masked columns unmasked.';

CREATE OR REPLACE FUNCTION bb.revoke_masking_exemption(database text, role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('revoke_masking_exemption', jsonb_build_object('database', database, 'role', role));
  PERFORM bb._require('bytebase_admin');
  DELETE FROM bb.masking_exemption e WHERE e.database_id = bb._database_id(database) AND e.role = revoke_masking_exemption.role;
END $$;
COMMENT ON FUNCTION bb.revoke_masking_exemption(text, name) IS 'Admins: ends a masking exemption.';

CREATE OR REPLACE FUNCTION bb.request_access(database text, reason text, expires interval DEFAULT '1 hour') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE db bb.database; r bigint;
BEGIN
  PERFORM bb._audit('request_access', jsonb_build_object('database', database, 'reason', reason, 'expires', expires));
  PERFORM bb._require('bytebase_admin', 'bytebase_approver', 'bytebase_developer');
  SELECT * INTO db FROM bb.database d WHERE d.id = bb._database_id(database);
  IF NOT bb._is_admin() AND (db.project_id IS NULL OR NOT (db.project_id = ANY (bb._my_projects()))) THEN
    RAISE EXCEPTION 'permission denied: database "%" is not in a project of role "%"', database, bb._caller()
      USING ERRCODE = 'insufficient_privilege', HINT = 'An admin adds project members with bb.grant_project.';
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'an access request needs a reason' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF expires IS NULL OR expires <= '0' OR expires > '30 days' THEN
    RAISE EXCEPTION 'invalid access duration %', expires USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give a duration above zero and at most 30 days.';
  END IF;
  INSERT INTO bb.access_request (database_id, reason, duration) VALUES (db.id, left(reason, 1000), expires)
  RETURNING id INTO r;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb.request_access(text, text, interval) IS
  'Asks for query access to a database of one''s projects (needed where the environment''s policy says grant); returns the request id.';

CREATE OR REPLACE FUNCTION bb.grant_access(request bigint) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.access_request; until timestamptz;
BEGIN
  PERFORM bb._audit('grant_access', jsonb_build_object('request', request));
  PERFORM bb._require('bytebase_admin', 'bytebase_approver');
  SELECT * INTO r FROM bb.access_request a WHERE a.id = bb._not_null('request', request) FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'access request % does not exist', request USING ERRCODE = 'undefined_object';
  END IF;
  IF r.requested_by = bb._caller() THEN
    RAISE EXCEPTION 'permission denied: role "%" cannot grant their own access request', bb._caller()
      USING ERRCODE = 'insufficient_privilege', HINT = 'Another approver grants it.';
  END IF;
  IF r.granted_at IS NOT NULL OR r.revoked_at IS NOT NULL THEN
    RAISE EXCEPTION 'access request % was already decided', request USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  until := now() + r.duration;
  UPDATE bb.access_request a SET granted_by = bb._caller(), granted_at = now(), expires_at = until WHERE a.id = r.id;
  RETURN until;
END $$;
COMMENT ON FUNCTION bb.grant_access(bigint) IS
  'Approvers and admins (never the requester): grants an access request for its duration from now; returns when it expires.';

CREATE OR REPLACE FUNCTION bb.revoke_access(request bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('revoke_access', jsonb_build_object('request', request));
  PERFORM bb._require('bytebase_admin', 'bytebase_approver');
  UPDATE bb.access_request a SET revoked_at = now() WHERE a.id = bb._not_null('request', request) AND a.revoked_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'access request % does not exist or is revoked', request USING ERRCODE = 'undefined_object';
  END IF;
END $$;
COMMENT ON FUNCTION bb.revoke_access(bigint) IS 'Approvers and admins: ends an access grant (or refuses a pending request) now.';

---------------------------------------------------------------------------
-- API: the governed query
---------------------------------------------------------------------------

-- The governed run shared by bb.query and bb.export (their callers audit first): access,
-- policy, masking rules, the C body, the log entry.  Returns _query_c's document.
CREATE OR REPLACE FUNCTION bb._governed(kind text, database text, statement text, max_rows int) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  db bb.database; inst bb.instance; pol record; cap int; doc jsonb;
  started timestamptz := clock_timestamp(); rules text[]; cols text[]; kept int;
BEGIN
  PERFORM bb._require('bytebase_admin', 'bytebase_approver', 'bytebase_developer');
  PERFORM bb._not_null('statement', statement);
  SELECT * INTO db FROM bb.database d WHERE d.id = bb._database_id(database);
  IF db.vanished_at IS NOT NULL THEN
    RAISE EXCEPTION 'database "%" has vanished from its instance', database USING ERRCODE = 'undefined_object';
  END IF;
  SELECT * INTO inst FROM bb.instance i WHERE i.id = db.instance_id;
  pol := bb._query_policy(db.id);
  IF NOT bb._is_admin() THEN
    IF db.project_id IS NULL OR NOT (db.project_id = ANY (bb._my_projects())) THEN
      RAISE EXCEPTION 'permission denied: database "%" is not in a project of role "%"', database, bb._caller()
        USING ERRCODE = 'insufficient_privilege', HINT = 'An admin adds project members with bb.grant_project.';
    END IF;
    IF pol.access = 'denied' THEN
      RAISE EXCEPTION 'permission denied: the query policy of this environment allows admins only'
        USING ERRCODE = 'insufficient_privilege';
    ELSIF pol.access = 'grant' AND NOT bb._has_access_grant(db.id) THEN
      RAISE EXCEPTION 'permission denied: querying "%" needs an access grant', database
        USING ERRCODE = 'insufficient_privilege',
              HINT = format('Request one with SELECT bb.request_access(%L, ''reason'', ''1 hour''); an approver grants it.', database);
    END IF;
  END IF;
  IF max_rows IS NOT NULL AND max_rows < 1 THEN
    RAISE EXCEPTION 'max_rows must be positive' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  cap := CASE kind WHEN 'export' THEN pol.export_max_rows ELSE least(coalesce(max_rows, pol.max_rows), pol.max_rows) END;
  -- masking rules, unless an exemption covers the session user
  IF NOT EXISTS (SELECT 1 FROM bb.masking_exemption e WHERE e.database_id = db.id AND bb._has_role(e.role::text)) THEN
    SELECT coalesce(array_agg(x ORDER BY m.schema_name, m.table_name, m.column_name, k), '{}') INTO rules
      FROM bb.column_masking m,
           unnest(ARRAY[m.schema_name, m.table_name, m.column_name, m.algorithm]) WITH ORDINALITY AS u(x, k)
     WHERE m.database_id = db.id AND m.algorithm <> 'none';
  ELSE
    rules := '{}';
  END IF;
  IF rules <> '{}' THEN
    SELECT coalesce(array_agg(x ORDER BY ti, ci, k), '{}') INTO cols
      FROM jsonb_array_elements(coalesce(db.schema_snapshot -> 'tables', '[]')) WITH ORDINALITY AS t(tbl, ti),
           jsonb_array_elements(coalesce(t.tbl -> 'columns', '[]')) WITH ORDINALITY AS c(col, ci),
           unnest(ARRAY[t.tbl ->> 'schema', t.tbl ->> 'name', c.col ->> 'name']) WITH ORDINALITY AS u(x, k);
  END IF;
  doc := bb._query_c(inst.name, db.name, inst.engine, statement, cap,
                     CASE kind WHEN 'export' THEN 2147483647 ELSE pol.max_bytes END, pol.timeout_ms,
                     rules, coalesce(cols, '{}'), (SELECT s.salt FROM bb.masking_salt s));
  IF kind = 'export' AND (doc ->> 'truncated')::boolean THEN
    RAISE EXCEPTION 'the export has more than % rows (the export cap of this environment)', cap
      USING ERRCODE = 'program_limit_exceeded',
            HINT = 'Export fewer rows (WHERE, LIMIT), or have an admin raise export_max_rows with bb.set_query_policy.';
  END IF;
  kept := jsonb_array_length(doc -> 'rows');
  INSERT INTO bb.query_entry (kind, database_id, database, project_id, statement, rows, bytes, duration, truncated, masked)
  VALUES (kind, db.id, _governed.database, db.project_id, bb._clip(statement, 4000), kept, (doc ->> 'bytes')::bigint,
          clock_timestamp() - started, doc ->> 'cut_by', doc -> 'masked');
  RETURN doc;
END $$;
COMMENT ON FUNCTION bb._governed(text, text, text, int) IS
  'Internal: the governed run of bb.query and bb.export (access, policy, masking, C body, log entry).';
REVOKE ALL ON FUNCTION bb._governed(text, text, text, int) FROM PUBLIC;

DROP FUNCTION IF EXISTS bb.query(text, text, int);
CREATE FUNCTION bb.query(database text, statement text, max_rows int DEFAULT NULL)
RETURNS TABLE (n int, "row" jsonb, truncated boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE doc jsonb;
BEGIN
  PERFORM bb._audit('query', jsonb_build_object('database', database, 'statement', bb._clip(statement, 4000), 'max_rows', max_rows));
  doc := bb._governed('query', database, statement, max_rows);
  IF (doc ->> 'truncated')::boolean THEN
    RAISE NOTICE 'result cut at % rows (%)', jsonb_array_length(doc -> 'rows'), doc ->> 'cut_by';
  END IF;
  RETURN QUERY SELECT r.i::int, r.v, (doc ->> 'truncated')::boolean
                 FROM jsonb_array_elements(doc -> 'rows') WITH ORDINALITY AS r(v, i);
END $$;
COMMENT ON FUNCTION bb.query(text, text, int) IS
  'Governed query: one reading statement on a database (admins: any; others: their projects'' databases as the '
  'environment''s query policy allows), read-only on the target, masked, capped (max_rows up to the policy''s, bytes, '
  'timeout) and logged in bb.query_log. One output row per result row: n (1-based), row (jsonb object column -> text '
  'or null; duplicate column names get _2, _3), truncated (true on every row when the result was cut).';

-- A CSV field: quoted when it holds a separator, a quote or a line break; NULL is empty.
CREATE OR REPLACE FUNCTION bb._csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN value IS NULL THEN ''
              WHEN value ~ '[",\r\n]' OR value = '' THEN '"' || replace(value, '"', '""') || '"'
              ELSE value END
$$;
COMMENT ON FUNCTION bb._csv_field(text) IS 'One CSV field (RFC 4180 quoting; NULL is an empty unquoted field, an empty string a quoted one).';

CREATE OR REPLACE FUNCTION bb.export(database text, statement text, format text DEFAULT 'csv') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE doc jsonb; cols text[]; out text;
BEGIN
  PERFORM bb._audit('export', jsonb_build_object('database', database, 'statement', bb._clip(statement, 4000), 'format', format));
  IF format IS NULL OR format NOT IN ('csv', 'json', 'sql') THEN
    RAISE EXCEPTION 'unknown export format "%"', bb._clip(format) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use csv, json or sql.';
  END IF;
  doc := bb._governed('export', database, statement, NULL);
  cols := ARRAY(SELECT jsonb_array_elements_text(doc -> 'columns'));
  IF format = 'json' THEN
    RETURN (doc -> 'rows')::text;
  ELSIF format = 'csv' THEN
    SELECT string_agg(line, E'\r\n' ORDER BY i) || E'\r\n' INTO out
      FROM (SELECT 0::bigint AS i, (SELECT string_agg(bb._csv_field(c), ',' ORDER BY k) FROM unnest(cols) WITH ORDINALITY AS u(c, k)) AS line
            UNION ALL
            SELECT r.i, (SELECT string_agg(bb._csv_field(r.v ->> c), ',' ORDER BY k) FROM unnest(cols) WITH ORDINALITY AS u(c, k))
              FROM jsonb_array_elements(doc -> 'rows') WITH ORDINALITY AS r(v, i)) l;
    RETURN out;
  ELSE
    SELECT coalesce(string_agg(pg_catalog.format('INSERT INTO exported (%s) VALUES (%s);',
             (SELECT string_agg(quote_ident(c), ', ' ORDER BY k) FROM unnest(cols) WITH ORDINALITY AS u(c, k)),
             (SELECT string_agg(quote_nullable(r.v ->> c), ', ' ORDER BY k) FROM unnest(cols) WITH ORDINALITY AS u(c, k))),
             E'\n' ORDER BY r.i) || E'\n', '') INTO out
      FROM jsonb_array_elements(doc -> 'rows') WITH ORDINALITY AS r(v, i);
    RETURN out;
  END IF;
END $$;
COMMENT ON FUNCTION bb.export(text, text, text) IS
  'Export of one reading statement''s result as text: csv (header line, RFC 4180, CRLF), json (array of row objects) '
  'or sql (INSERT INTO exported ... statements). Same access, read-only and masking rules as bb.query, logged '
  'in bb.query_log (kind export); its row cap is the environment''s export_max_rows (default 10000): a bigger result '
  'is refused, never cut.';

---------------------------------------------------------------------------
-- Views
---------------------------------------------------------------------------

-- Owner's rights with an explicit filter: developers see their own queries, admins and
-- approvers all; refused and failed calls come from the audit log.
CREATE OR REPLACE VIEW bb.query_log AS
  SELECT q.kind, q.at, q.who, q.database, q.statement, 'ok'::text AS outcome, q.rows, q.bytes, q.duration,
         q.truncated, q.masked, NULL::text AS sqlstate, NULL::text AS error
    FROM bb.query_entry q
   WHERE bb._sees_all() OR q.who = bb._caller()
  UNION ALL
  SELECT a."function", a.at, a.who, a.arguments ->> 'database', a.arguments ->> 'statement', a.outcome, NULL, NULL, NULL,
         NULL, NULL, a.sqlstate, a.error
    FROM bb.audit_entry a
   WHERE a."function" IN ('query', 'export') AND a.outcome <> 'ok' AND (bb._sees_all() OR a.who = bb._caller());
COMMENT ON VIEW bb.query_log IS
  'Every bb.query and bb.export call (kind): when, who, database, statement; for ok ones rows, bytes, duration, truncated (max_rows / '
  'max_bytes) and the masked columns; for refused or failed ones the SQLSTATE and the reason. Never a value. '
  'Developers see their own calls, admins and approvers all.';

CREATE OR REPLACE VIEW bb.access_grants AS
  SELECT r.id, i.name || '/' || d.name AS database, r.requested_by, r.reason, r.requested_at, r.duration,
         r.granted_by, r.granted_at, r.expires_at, r.revoked_at,
         CASE WHEN r.revoked_at IS NOT NULL THEN 'revoked' WHEN r.granted_at IS NULL THEN 'pending'
              WHEN r.expires_at > now() THEN 'active' ELSE 'expired' END AS status
    FROM bb.access_request r
    JOIN bb.database d ON d.id = r.database_id
    JOIN bb.instance i ON i.id = d.instance_id
   WHERE bb._sees_all() OR r.requested_by = bb._caller();
COMMENT ON VIEW bb.access_grants IS
  'Access requests and grants (pending, active, expired, revoked); developers see their own, approvers and admins all.';

CREATE OR REPLACE VIEW bb.column_maskings AS
  SELECT i.name || '/' || d.name AS database, m.schema_name, m.table_name, m.column_name, m.algorithm, m.set_by, m.set_at
    FROM bb.column_masking m
    JOIN bb.database d ON d.id = m.database_id
    JOIN bb.instance i ON i.id = d.instance_id
   WHERE bb._sees_all() OR d.project_id = ANY (bb._my_projects());
COMMENT ON VIEW bb.column_maskings IS 'Masked columns of the databases one may see.';

CREATE OR REPLACE VIEW bb.masking_exemptions AS
  SELECT i.name || '/' || d.name AS database, e.role, e.granted_by, e.granted_at
    FROM bb.masking_exemption e
    JOIN bb.database d ON d.id = e.database_id
    JOIN bb.instance i ON i.id = d.instance_id
   WHERE bb._sees_all() OR d.project_id = ANY (bb._my_projects());
COMMENT ON VIEW bb.masking_exemptions IS 'Roles that see a database''s masked columns unmasked.';

GRANT SELECT ON bb.query_log, bb.access_grants, bb.column_maskings, bb.masking_exemptions
  TO bytebase_admin, bytebase_approver, bytebase_developer;
GRANT SELECT ON bb.query_policy TO bytebase_admin, bytebase_approver, bytebase_developer;
