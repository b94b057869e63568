-- bytebase 0.2 — roles and the helpers every API function uses (identity, role checks, names)
--
-- Security model (README "Security model"): identity is the authenticated session user
-- (bb._caller()), never a role reached with SET ROLE; role checks are C functions on the role
-- caches (no name lookup a caller could shadow); every SQL function pins
-- search_path = pg_catalog, pg_temp (pg_temp last) or bb, pg_catalog, pg_temp.

-- Roles are cluster-wide and outlive the extension; create only the missing ones.
DO $roles$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bytebase_admin', 'bytebase_approver', 'bytebase_developer'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

GRANT USAGE ON SCHEMA bb TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE OR REPLACE FUNCTION bb._caller() RETURNS name
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_caller';
COMMENT ON FUNCTION bb._caller() IS
  'The person calling the API: the authenticated session user (SET ROLE and SECURITY DEFINER do not change it).';

CREATE FUNCTION bb._require(VARIADIC roles text[]) RETURNS void
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_require';
COMMENT ON FUNCTION bb._require(text[]) IS
  'Role check of every API function: raises insufficient_privilege unless the session user is a superuser or a member of one of the roles.';

CREATE FUNCTION bb._has_role(VARIADIC roles text[]) RETURNS boolean
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_has_role';
COMMENT ON FUNCTION bb._has_role(text[]) IS
  'True when the session user is a superuser or a member of one of the roles.';

CREATE FUNCTION bb._is_admin() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT bb._has_role('bytebase_admin')
$$;
COMMENT ON FUNCTION bb._is_admin() IS 'True when the session user is a superuser or a member of bytebase_admin.';

CREATE FUNCTION bb._is_superuser() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT bb._has_role(VARIADIC '{}'::text[])
$$;
COMMENT ON FUNCTION bb._is_superuser() IS 'True when the session user is a superuser.';

CREATE FUNCTION bb._version_key(version text) RETURNS bytea
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'bb_version_key';
COMMENT ON FUNCTION bb._version_key(text) IS
  'Sort key of a change version (Flyway order: numeric segments split at . _ -, 1.10 > 1.9, 1.0 = 1); compare keys bytewise.';

-- User text in messages: a 10 MB name must not be echoed into errors and the log.
CREATE FUNCTION bb._clip(value text, max int DEFAULT 100) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN length(value) > max THEN left(value, max) || '...' ELSE value END
$$;
COMMENT ON FUNCTION bb._clip(text, int) IS 'The value cut to max characters (with ...), for error messages.';

-- Names of environments, instances, projects and groups: short keys usable in 'instance/database'.
CREATE FUNCTION bb._check_name(kind text, name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION '% name must not be NULL', kind USING ERRCODE = 'null_value_not_allowed',
      HINT = 'Give a name.';
  END IF;
  IF length(name) > 63 OR name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' THEN
    RAISE EXCEPTION 'invalid % name "%"', kind, bb._clip(name)
      USING ERRCODE = 'invalid_name',
            HINT = 'Use up to 63 letters, digits, "_", "." or "-", starting with a letter or digit.';
  END IF;
  RETURN name;
END $$;
COMMENT ON FUNCTION bb._check_name(text, text) IS 'Validates a short key name; returns it.';

-- Raises a clear "required" error for a NULL argument.
CREATE FUNCTION bb._not_null(what text, value anyelement) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF value IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', what USING ERRCODE = 'null_value_not_allowed',
      HINT = format('Give a value for %s.', what);
  END IF;
  RETURN value;
END $$;
COMMENT ON FUNCTION bb._not_null(text, anyelement) IS 'Returns value, or raises when it is NULL.';

-- The engines and what they can do (the C engine table; bb.engine holds a copy for joins and
-- foreign keys, refreshed by every install and update).
CREATE OR REPLACE FUNCTION bb._engines(OUT name text, OUT dialect text, OUT transactional_ddl boolean,
                                       OUT resumable boolean, OUT has_driver boolean)
RETURNS SETOF record
    LANGUAGE c IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_engines';
COMMENT ON FUNCTION bb._engines() IS 'The engines linked into the extension and their capabilities (source of bb.engine).';
