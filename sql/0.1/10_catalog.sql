-- bytebase 0.1 — catalog: environments, instances, projects, databases, groups

CREATE TABLE bb.environment (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  position    int  NOT NULL UNIQUE,
  protected   boolean NOT NULL DEFAULT false,
  created_by  name NOT NULL DEFAULT bb._caller(),
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.environment IS 'Pipeline of environments (dev -> staging -> prod), ordered by position; changes to a protected one need approval.';

CREATE TABLE bb.instance (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  engine         text NOT NULL CHECK (engine IN ('postgres', 'mysql', 'tidb', 'clickhouse', 'snowflake')),
  host           text NOT NULL CHECK (host <> ''),
  port           int  NOT NULL CHECK (port BETWEEN 1 AND 65535),
  environment_id bigint REFERENCES bb.environment,
  options        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
  server_name    name NOT NULL UNIQUE,
  created_by     name NOT NULL DEFAULT bb._caller(),
  created_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.instance IS 'Registered database servers. Credentials are not here: they live in the user mapping of the foreign server named server_name.';

CREATE TABLE bb.project (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  title       text,
  created_by  name NOT NULL DEFAULT bb._caller(),
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.project IS 'Projects group databases that change together.';

CREATE TABLE bb.database (
  id              bigserial PRIMARY KEY,
  instance_id     bigint NOT NULL REFERENCES bb.instance ON DELETE CASCADE,
  name            text NOT NULL,
  project_id      bigint REFERENCES bb.project,
  environment_id  bigint REFERENCES bb.environment,
  labels          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  schema_snapshot jsonb,
  synced_at       timestamptz,
  sync_error      text,
  vanished_at     timestamptz,
  created_by      name NOT NULL DEFAULT bb._caller(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (instance_id, name)
);
COMMENT ON TABLE bb.database IS 'Databases discovered on instances by sync_instance; vanished_at is set when a sync no longer finds one.';

CREATE TABLE bb.database_group (
  id           bigserial PRIMARY KEY,
  project_id   bigint NOT NULL REFERENCES bb.project ON DELETE CASCADE,
  name         text NOT NULL,
  labels       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  name_pattern text,
  created_by   name NOT NULL DEFAULT bb._caller(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
COMMENT ON TABLE bb.database_group IS 'A group: the project''s databases whose labels contain labels and whose name matches name_pattern (a regular expression).';

SELECT pg_catalog.pg_extension_config_dump('bb.environment', '');
SELECT pg_catalog.pg_extension_config_dump('bb.environment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.instance', '');
SELECT pg_catalog.pg_extension_config_dump('bb.instance_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.project', '');
SELECT pg_catalog.pg_extension_config_dump('bb.project_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_group', '');
SELECT pg_catalog.pg_extension_config_dump('bb.database_group_id_seq', '');

-- Lookups that raise a clear error for unknown names; used by every API function.
CREATE FUNCTION bb._environment_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.environment e WHERE e.name = _environment_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'environment "%" does not exist', name USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.environments; create one with bb.create_environment().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._environment_id(text) IS 'Id of an environment by name; raises undefined_object when unknown.';

CREATE FUNCTION bb._instance_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.instance i WHERE i.name = _instance_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'instance "%" does not exist', name USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.instances; register one with bb.add_instance().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._instance_id(text) IS 'Id of an instance by name; raises undefined_object when unknown.';

CREATE FUNCTION bb._project_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.project p WHERE p.name = _project_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'project "%" does not exist', name USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.projects; create one with bb.create_project().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._project_id(text) IS 'Id of a project by name; raises undefined_object when unknown.';

-- Resolves 'instance/database' to bb.database.id.
CREATE FUNCTION bb._database_id(ref text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = bb, pg_catalog AS $$
DECLARE inst bigint; r bigint; slash int;
BEGIN
  IF ref IS NULL THEN
    RAISE EXCEPTION 'database must not be NULL' USING ERRCODE = 'null_value_not_allowed',
      HINT = 'Write a database as ''instance/database''.';
  END IF;
  slash := strpos(ref, '/');
  IF slash < 2 OR slash = length(ref) THEN
    RAISE EXCEPTION 'invalid database reference "%"', ref USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Write a database as ''instance/database'', e.g. ''pg-main/shop_db''.';
  END IF;
  inst := bb._instance_id(left(ref, slash - 1));
  SELECT id INTO r FROM bb.database d WHERE d.instance_id = inst AND d.name = substr(ref, slash + 1);
  IF r IS NULL THEN
    RAISE EXCEPTION 'database "%" does not exist', ref USING ERRCODE = 'undefined_object',
      HINT = 'Run bb.sync_instance() to discover the instance''s databases; see bb.databases.';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._database_id(text) IS 'Id of a database given as ''instance/database''; raises a clear error otherwise.';

---------------------------------------------------------------------------
-- API
---------------------------------------------------------------------------

CREATE FUNCTION bb.create_environment(name text, protected boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._check_name('environment', name);
  IF EXISTS (SELECT 1 FROM bb.environment e WHERE e.name = create_environment.name) THEN
    RAISE EXCEPTION 'environment "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Environment names are unique; see bb.environments.';
  END IF;
  LOCK TABLE bb.environment IN SHARE ROW EXCLUSIVE MODE;  -- positions stay dense under concurrency
  INSERT INTO bb.environment (name, position, protected, created_by)
  SELECT create_environment.name, coalesce(max(position), 0) + 1,
         bb._not_null('protected', create_environment.protected), bb._caller()
    FROM bb.environment;
END $$;
COMMENT ON FUNCTION bb.create_environment(text, boolean) IS
  'Appends an environment to the end of the pipeline; changes to a protected environment need approval.';

CREATE FUNCTION bb.add_instance(name text, engine text, host text, port int,
                                username text DEFAULT NULL, password text DEFAULT NULL,
                                environment text DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE
  env bigint;
  srv name;
  wrapper text;
  opts text;
  saved_log_level text;
BEGIN
  -- the calling statement holds the password: keep it out of the server log if this call fails
  saved_log_level := current_setting('log_min_error_statement');
  PERFORM set_config('log_min_error_statement', 'panic', true);
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._check_name('instance', name);
  PERFORM bb._not_null('engine', engine);
  PERFORM bb._not_null('host', host);
  PERFORM bb._not_null('port', port);
  IF engine NOT IN ('postgres', 'mysql', 'tidb', 'clickhouse', 'snowflake') THEN
    RAISE EXCEPTION 'unknown engine "%"', engine USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Engines: postgres, mysql, tidb, clickhouse, snowflake.';
  END IF;
  IF host = '' OR host ~ '[\s,=''"\\]' THEN
    RAISE EXCEPTION 'invalid host "%"', host USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give a host name or an IP address.';
  END IF;
  IF port NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'port % is out of range', port USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A port is between 1 and 65535.';
  END IF;
  IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example ''{"database": "postgres"}''.';
  END IF;
  IF EXISTS (SELECT 1 FROM bb.instance i WHERE i.name = add_instance.name) THEN
    RAISE EXCEPTION 'instance "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Instance names are unique; see bb.instances.';
  END IF;
  IF environment IS NOT NULL THEN
    env := bb._environment_id(environment);
  END IF;

  srv := 'bytebase_' || name;
  IF EXISTS (SELECT 1 FROM pg_foreign_server WHERE srvname = srv) THEN
    -- left behind by DROP EXTENSION (postgres_fdw servers do not depend on bytebase):
    -- adopt the name; a server that still has foreign tables refuses to be dropped.
    BEGIN
      EXECUTE format('DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER %I', srv);
      EXECUTE format('DROP SERVER %I', srv);
    EXCEPTION WHEN dependent_objects_still_exist THEN
      RAISE EXCEPTION 'foreign server "%" already exists and is in use', srv USING ERRCODE = 'duplicate_object',
        HINT = 'Drop that server''s foreign tables or choose another instance name.';
    END;
  END IF;
  wrapper := CASE WHEN engine = 'postgres'
                   AND EXISTS (SELECT 1 FROM pg_foreign_data_wrapper WHERE fdwname = 'postgres_fdw')
                  THEN 'postgres_fdw' ELSE 'bytebase' END;
  opts := format('host %L, port %L', host, port::text);
  IF wrapper = 'postgres_fdw' THEN
    opts := opts || format(', dbname %L', coalesce(options->>'database', 'postgres'));
  ELSE
    opts := opts || format(', engine %L', engine);
  END IF;
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER %I OPTIONS (%s)', srv, wrapper, opts);
  opts := concat_ws(', ', CASE WHEN username IS NOT NULL THEN format('user %L', username) END,
                          CASE WHEN password IS NOT NULL THEN format('password %L', password) END);
  BEGIN  -- the statement holds the password: never let it reach an error context
    EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I', srv)
            || CASE WHEN opts <> '' THEN ' OPTIONS (' || opts || ')' ELSE '' END;
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'could not store the credentials of instance "%"', name
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Check the user name and password values.';
  END;

  INSERT INTO bb.instance (name, engine, host, port, environment_id, options, server_name, created_by)
  VALUES (add_instance.name, engine, host, port, env, options, srv, bb._caller());
  PERFORM set_config('log_min_error_statement', saved_log_level, true);
END $$;
COMMENT ON FUNCTION bb.add_instance(text, text, text, int, text, text, text, jsonb) IS
  'Registers an instance; its credentials go into the user mapping of a foreign server readable only by the extension owner.';

CREATE FUNCTION bb.create_project(name text, title text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._check_name('project', name);
  IF EXISTS (SELECT 1 FROM bb.project p WHERE p.name = create_project.name) THEN
    RAISE EXCEPTION 'project "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Project names are unique; see bb.projects.';
  END IF;
  INSERT INTO bb.project (name, title, created_by) VALUES (create_project.name, title, bb._caller());
END $$;
COMMENT ON FUNCTION bb.create_project(text, text) IS 'Creates a project.';

CREATE FUNCTION bb.assign_database(database text, project text, environment text DEFAULT NULL,
                                   labels jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE db bigint; proj bigint; env bigint;
BEGIN
  PERFORM bb._require('bytebase_admin');
  db := bb._database_id(database);
  proj := bb._project_id(bb._not_null('project', project));
  IF environment IS NOT NULL THEN
    env := bb._environment_id(environment);
  END IF;
  IF labels IS NOT NULL AND jsonb_typeof(labels) <> 'object' THEN
    RAISE EXCEPTION 'labels must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example ''{"tenant": "acme"}''.';
  END IF;
  UPDATE bb.database d
     SET project_id = proj,
         environment_id = coalesce(env, d.environment_id),
         labels = coalesce(assign_database.labels, d.labels)
   WHERE d.id = db;
END $$;
COMMENT ON FUNCTION bb.assign_database(text, text, text, jsonb) IS
  'Moves a database (''instance/database'') into a project and optionally an environment; sets its labels when given.';

CREATE FUNCTION bb.create_database_group(project text, name text, labels jsonb DEFAULT '{}',
                                         name_pattern text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE proj bigint;
BEGIN
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._check_name('database group', name);
  IF labels IS NULL OR jsonb_typeof(labels) <> 'object' THEN
    RAISE EXCEPTION 'labels must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example ''{"tier": "tenant"}''; use ''{}'' for no label condition.';
  END IF;
  IF name_pattern IS NOT NULL THEN
    BEGIN
      PERFORM '' ~ name_pattern;
    EXCEPTION WHEN invalid_regular_expression THEN
      RAISE EXCEPTION 'invalid name_pattern "%": %', name_pattern, SQLERRM
        USING ERRCODE = 'invalid_regular_expression', HINT = 'name_pattern is a POSIX regular expression.';
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM bb.database_group g WHERE g.project_id = proj AND g.name = create_database_group.name) THEN
    RAISE EXCEPTION 'database group "%" already exists in project "%"', name, project
      USING ERRCODE = 'duplicate_object', HINT = 'Group names are unique within a project; see bb.database_groups.';
  END IF;
  INSERT INTO bb.database_group (project_id, name, labels, name_pattern, created_by)
  VALUES (proj, name, labels, name_pattern, bb._caller());
END $$;
COMMENT ON FUNCTION bb.create_database_group(text, text, jsonb, text) IS
  'Creates a database group: the project''s databases whose labels contain labels and whose name matches name_pattern.';

---------------------------------------------------------------------------
-- Views for psql
---------------------------------------------------------------------------

CREATE VIEW bb.environments AS
  SELECT name, position, protected, created_by, created_at FROM bb.environment ORDER BY position;
COMMENT ON VIEW bb.environments IS 'The pipeline, in order.';

CREATE VIEW bb.instances AS
  SELECT i.name, i.engine, i.host, i.port, e.name AS environment, i.options, i.server_name,
         (SELECT count(*) FROM bb.database d WHERE d.instance_id = i.id AND d.vanished_at IS NULL) AS databases,
         i.created_by, i.created_at
    FROM bb.instance i LEFT JOIN bb.environment e ON e.id = i.environment_id
   ORDER BY i.name;
COMMENT ON VIEW bb.instances IS 'Registered instances (credentials are never shown).';

CREATE VIEW bb.projects AS
  SELECT p.name, p.title,
         (SELECT count(*) FROM bb.database d WHERE d.project_id = p.id) AS databases,
         p.created_by, p.created_at
    FROM bb.project p ORDER BY p.name;
COMMENT ON VIEW bb.projects IS 'Projects and how many databases each holds.';

CREATE VIEW bb.databases AS
  SELECT i.name || '/' || d.name AS ref, i.name AS instance, i.engine, d.name AS database,
         p.name AS project, e.name AS environment, d.labels,
         d.synced_at AS last_sync, d.sync_error,
         CASE WHEN d.vanished_at IS NOT NULL THEN 'vanished' WHEN d.sync_error IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
         (SELECT count(*) FROM jsonb_array_elements(d.schema_snapshot->'tables')) AS tables
    FROM bb.database d
    JOIN bb.instance i ON i.id = d.instance_id
    LEFT JOIN bb.project p ON p.id = d.project_id
    LEFT JOIN bb.environment e ON e.id = d.environment_id
   ORDER BY i.name, d.name;
COMMENT ON VIEW bb.databases IS 'Databases by instance: project, environment, labels, last sync and its error.';

CREATE VIEW bb.database_groups AS
  SELECT p.name AS project, g.name, g.labels, g.name_pattern, g.created_by, g.created_at
    FROM bb.database_group g JOIN bb.project p ON p.id = g.project_id
   ORDER BY p.name, g.name;
COMMENT ON VIEW bb.database_groups IS 'Database groups by project.';

GRANT SELECT ON bb.environments, bb.instances, bb.projects, bb.databases, bb.database_groups
  TO bytebase_admin, bytebase_approver, bytebase_developer;
GRANT SELECT ON bb.environment, bb.instance, bb.project, bb.database, bb.database_group TO bytebase_admin;
