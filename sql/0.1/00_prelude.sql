-- bytebase 0.1 — prelude: guard, database check, roles, internal helpers
\echo Use "CREATE EXTENSION bytebase" to load this file. \quit

CREATE FUNCTION bb._check_database() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'bb_check_database';
COMMENT ON FUNCTION bb._check_database() IS 'Refuses to install outside bytebase.database.';
SELECT bb._check_database();

-- Roles are cluster-wide and outlive the extension; create only the missing ones.
DO $roles$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bytebase_admin', 'bytebase_approver', 'bytebase_developer'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

GRANT USAGE ON SCHEMA bb TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE FUNCTION bb._caller() RETURNS name
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'bb_caller';
COMMENT ON FUNCTION bb._caller() IS
  'The role that called the API (outer user, unaffected by SECURITY DEFINER).';

-- Raises insufficient_privilege unless the caller is a superuser or a member of one of the roles.
CREATE FUNCTION bb._require(VARIADIC roles text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE who name := bb._caller(); r text;
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = who) THEN RETURN; END IF;
  FOREACH r IN ARRAY roles LOOP
    IF pg_has_role(who, r, 'MEMBER') THEN RETURN; END IF;
  END LOOP;
  RAISE EXCEPTION 'permission denied: role "%" may not do this', who
    USING ERRCODE = 'insufficient_privilege',
          HINT = format('Grant one of the roles %s to "%s".', array_to_string(roles, ', '), who);
END $$;
COMMENT ON FUNCTION bb._require(text[]) IS
  'Role check used by every API function: superuser or member of one of the given roles.';

-- Names of environments, instances, projects and groups: short keys usable in 'instance/database'.
CREATE FUNCTION bb._check_name(kind text, name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION '% name must not be NULL', kind USING ERRCODE = 'null_value_not_allowed',
      HINT = 'Give a name.';
  END IF;
  IF name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' OR length(name) > 63 THEN
    RAISE EXCEPTION 'invalid % name "%"', kind, name
      USING ERRCODE = 'invalid_name',
            HINT = 'Use up to 63 letters, digits, "_", "." or "-", starting with a letter or digit.';
  END IF;
  RETURN name;
END $$;
COMMENT ON FUNCTION bb._check_name(text, text) IS 'Validates a short key name; returns it.';

-- Raises a clear "required" error for a NULL argument.
CREATE FUNCTION bb._not_null(what text, value anyelement) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF value IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', what USING ERRCODE = 'null_value_not_allowed',
      HINT = format('Give a value for %s.', what);
  END IF;
  RETURN value;
END $$;
COMMENT ON FUNCTION bb._not_null(text, anyelement) IS 'Returns value, or raises when it is NULL.';

-- The wrapper that holds address and credentials of non-PostgreSQL instances
-- (PostgreSQL instances use postgres_fdw's wrapper when it is installed).
CREATE FUNCTION bb._fdw_validator(text[], oid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'bb_fdw_validator';
COMMENT ON FUNCTION bb._fdw_validator(text[], oid) IS 'Validates options of bytebase foreign servers and user mappings.';
CREATE FOREIGN DATA WRAPPER bytebase VALIDATOR bb._fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER bytebase IS 'Address and credentials of bytebase instances of engines other than PostgreSQL.';
