-- bytebase 0.2 — catalog API: lookups, environments, instances, projects and their members,
-- databases, groups; project visibility (used by the row-level security in 80_security.sql)

-- The engine table follows the C engine table on every install and update.
INSERT INTO bb.engine AS e SELECT * FROM bb._engines()
ON CONFLICT (name) DO UPDATE
   SET dialect = EXCLUDED.dialect, transactional_ddl = EXCLUDED.transactional_ddl,
       resumable = EXCLUDED.resumable, has_driver = EXCLUDED.has_driver;

---------------------------------------------------------------------------
-- Lookups that raise a clear error for unknown names; used by every API function
---------------------------------------------------------------------------

CREATE FUNCTION bb._environment_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.environment e WHERE e.name = _environment_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'environment "%" does not exist', bb._clip(name) USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.environments; create one with bb.create_environment().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._environment_id(text) IS 'Id of an environment by name; raises undefined_object when unknown.';

CREATE FUNCTION bb._instance_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.instance i WHERE i.name = _instance_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'instance "%" does not exist', bb._clip(name) USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.instances; register one with bb.add_instance().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._instance_id(text) IS 'Id of an instance by name; raises undefined_object when unknown.';

CREATE FUNCTION bb._project_id(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bb.project p WHERE p.name = _project_id.name;
  IF r IS NULL THEN
    RAISE EXCEPTION 'project "%" does not exist', bb._clip(name) USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.projects; create one with bb.create_project().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._project_id(text) IS 'Id of a project by name; raises undefined_object when unknown.';

-- Resolves 'instance/database' to bb.database.id.
CREATE FUNCTION bb._database_id(ref text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE inst bigint; r bigint; slash int;
BEGIN
  IF ref IS NULL THEN
    RAISE EXCEPTION 'database must not be NULL' USING ERRCODE = 'null_value_not_allowed',
      HINT = 'Write a database as ''instance/database''.';
  END IF;
  slash := strpos(ref, '/');
  IF slash < 2 OR slash = length(ref) THEN
    RAISE EXCEPTION 'invalid database reference "%"', bb._clip(ref) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Write a database as ''instance/database'', e.g. ''pg-main/shop_db''.';
  END IF;
  inst := bb._instance_id(left(ref, slash - 1));
  SELECT id INTO r FROM bb.database d WHERE d.instance_id = inst AND d.name = substr(ref, slash + 1);
  IF r IS NULL THEN
    RAISE EXCEPTION 'database "%" does not exist', bb._clip(ref) USING ERRCODE = 'undefined_object',
      HINT = 'Run bb.sync_instance() to discover the instance''s databases; see bb.databases.';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._database_id(text) IS 'Id of a database given as ''instance/database''; raises a clear error otherwise.';

---------------------------------------------------------------------------
-- Project visibility: admins and approvers see every project, developers their projects
---------------------------------------------------------------------------

CREATE FUNCTION bb._sees_all() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT bb._has_role('bytebase_admin', 'bytebase_approver')
$$;
COMMENT ON FUNCTION bb._sees_all() IS 'True for superusers, admins and approvers: they see every project.';

-- SECURITY DEFINER: project_member itself is filtered by these very projects.
CREATE FUNCTION bb._my_projects() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT m.project_id), '{}')
    FROM bb.project_member m WHERE bb._has_role(m.role::text)
$$;
COMMENT ON FUNCTION bb._my_projects() IS 'The projects whose member roles the session user belongs to.';

CREATE FUNCTION bb._sees_project(project_id bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT bb._sees_all() OR project_id = ANY (bb._my_projects())
$$;
COMMENT ON FUNCTION bb._sees_project(bigint) IS 'True when the session user may see the project (admin, approver or member).';

-- Developers change only the projects they belong to.
CREATE FUNCTION bb._require_project(project_id bigint, project text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT bb._is_admin() AND NOT (project_id = ANY (bb._my_projects())) THEN
    RAISE EXCEPTION 'permission denied: role "%" is not a member of project "%"', bb._caller(), project
      USING ERRCODE = 'insufficient_privilege',
            HINT = format('An admin adds members with SELECT bb.grant_project(%L, %L);', project, bb._caller());
  END IF;
END $$;
COMMENT ON FUNCTION bb._require_project(bigint, text) IS
  'Raises insufficient_privilege unless the session user is an admin or a member of the project.';

---------------------------------------------------------------------------
-- API
---------------------------------------------------------------------------

CREATE FUNCTION bb.create_environment(name text, protected boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('create_environment', jsonb_build_object('name', name, 'protected', protected));
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

-- Validates the address and options shared by add_instance and alter_instance.
CREATE FUNCTION bb._check_instance_address(engine text, host text, port int, options jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM bb.engine e WHERE e.name = engine) THEN
    RAISE EXCEPTION 'unknown engine "%"', bb._clip(engine) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Engines: ' || (SELECT string_agg(e.name, ', ' ORDER BY e.name) FROM bb.engine e) || '.';
  END IF;
  IF host = '' OR host ~ '[\s,=''"\\]' OR length(host) > 255 THEN
    RAISE EXCEPTION 'invalid host "%"', bb._clip(host) USING ERRCODE = 'invalid_parameter_value',
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
  IF options ? 'password_required' AND jsonb_typeof(options->'password_required') <> 'boolean' THEN
    RAISE EXCEPTION 'option password_required must be true or false' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- as postgres_fdw's password_required: connections that use no password act with the
  -- target server's trust in this machine (trust, peer): only a superuser may allow that
  IF options->'password_required' = 'false'::jsonb AND NOT bb._is_superuser() THEN
    RAISE EXCEPTION 'only a superuser may set password_required to false'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Without a password, a change of any developer would run with the trust the target grants this server.',
            HINT = 'Register the instance with a user that has a password.';
  END IF;
END $$;
COMMENT ON FUNCTION bb._check_instance_address(text, text, int, jsonb) IS
  'Raises a clear error for an unknown engine, a bad host or port, bad options, or password_required = false set by a non-superuser.';

CREATE FUNCTION bb.add_instance(name text, engine text, host text, port int,
                                username text DEFAULT NULL, password text DEFAULT NULL,
                                environment text DEFAULT NULL, options jsonb DEFAULT '{}',
                                verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  env bigint;
  srv name;
  wrapper text;
  opts text;
  saved_log_level text;
  msg text;
  detail text;
BEGIN
  -- the calling statement holds the password: keep it out of the server log if this call fails
  saved_log_level := current_setting('log_min_error_statement');
  PERFORM set_config('log_min_error_statement', 'panic', true);
  PERFORM bb._audit('add_instance', jsonb_build_object('name', name, 'engine', engine, 'host', host,
    'port', port, 'username', username, 'password', CASE WHEN password IS NOT NULL THEN '<redacted>' END,
    'environment', environment, 'options', options, 'verify', verify));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._check_name('instance', name);
  PERFORM bb._not_null('engine', engine);
  PERFORM bb._not_null('host', host);
  PERFORM bb._not_null('port', port);
  PERFORM bb._not_null('verify', verify);
  PERFORM bb._check_instance_address(engine, host, port, options);
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
  PERFORM bb._store_credentials(name, srv, username, password, false);

  INSERT INTO bb.instance (name, engine, host, port, environment_id, options, server_name, created_by)
  VALUES (add_instance.name, engine, host, port, env, options, srv, bb._caller());
  IF verify THEN
    PERFORM bb._verify_instance(name);
  END IF;
  PERFORM set_config('log_min_error_statement', saved_log_level, true);
END $$;
COMMENT ON FUNCTION bb.add_instance(text, text, text, int, text, text, text, jsonb, boolean) IS
  'Registers an instance; its credentials go into the user mapping of a foreign server readable only by the extension owner. '
  'Connects once to check it (verify => false registers an instance that is offline).';

-- Writes the user mapping of an instance's server (create, or replace when rotating).
CREATE FUNCTION bb._store_credentials(instance text, srv name, username text, password text, replace boolean)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE opts text;
BEGIN
  opts := concat_ws(', ', CASE WHEN username IS NOT NULL THEN format('user %L', username) END,
                          CASE WHEN password IS NOT NULL THEN format('password %L', password) END);
  BEGIN  -- the statement holds the password: never let it reach an error context
    IF replace THEN
      EXECUTE format('DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER %I', srv);
    END IF;
    EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I', srv)
            || CASE WHEN opts <> '' THEN ' OPTIONS (' || opts || ')' ELSE '' END;
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'could not store the credentials of instance "%"', instance
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Check the user name and password values.';
  END;
END $$;
COMMENT ON FUNCTION bb._store_credentials(text, name, text, text, boolean) IS
  'Creates (or replaces) the PUBLIC user mapping that holds an instance''s credentials; errors never show the statement.';

-- Connects as the caller would (password rule included); a failure names the cause, never a secret.
CREATE FUNCTION bb._verify_instance(instance text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE msg text; detail text; st text;
BEGIN
  PERFORM bb._test_connection_c(instance);
EXCEPTION WHEN query_canceled OR admin_shutdown THEN RAISE;
WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
  RAISE EXCEPTION 'could not verify instance "%": %', instance, msg
    USING ERRCODE = st, DETAIL = detail,
          HINT = 'Check host, port, user and password; pass verify => false to register an instance that is offline.';
END $$;
COMMENT ON FUNCTION bb._verify_instance(text) IS 'Test connection of bb.add_instance / bb.alter_instance with a clear error.';

CREATE FUNCTION bb.create_project(name text, title text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._audit('create_project', jsonb_build_object('name', name, 'title', title));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._check_name('project', name);
  IF EXISTS (SELECT 1 FROM bb.project p WHERE p.name = create_project.name) THEN
    RAISE EXCEPTION 'project "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Project names are unique; see bb.projects.';
  END IF;
  INSERT INTO bb.project (name, title, created_by) VALUES (create_project.name, title, bb._caller());
END $$;
COMMENT ON FUNCTION bb.create_project(text, text) IS 'Creates a project.';

CREATE FUNCTION bb.grant_project(project text, role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint;
BEGIN
  PERFORM bb._audit('grant_project', jsonb_build_object('project', project, 'role', role));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  IF role IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
    RAISE EXCEPTION 'role "%" does not exist', bb._clip(role) USING ERRCODE = 'undefined_object',
      HINT = 'Grant a project to an existing login or group role.';
  END IF;
  INSERT INTO bb.project_member (project_id, role, granted_by) VALUES (proj, role, bb._caller())
  ON CONFLICT DO NOTHING;
END $$;
COMMENT ON FUNCTION bb.grant_project(text, name) IS
  'Makes a role (and every role that is a member of it) a member of the project: it sees the project and may apply changes to it.';

CREATE FUNCTION bb.revoke_project(project text, role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint;
BEGIN
  PERFORM bb._audit('revoke_project', jsonb_build_object('project', project, 'role', role));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  DELETE FROM bb.project_member m WHERE m.project_id = proj AND m.role = revoke_project.role;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'role "%" is not a member of project "%"', bb._clip(role), project
      USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM bb.project_members;';
  END IF;
END $$;
COMMENT ON FUNCTION bb.revoke_project(text, name) IS 'Removes a role from the project''s members.';

CREATE FUNCTION bb.assign_database(database text, project text, environment text DEFAULT NULL,
                                   labels jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE db bigint; proj bigint; env bigint;
BEGIN
  PERFORM bb._audit('assign_database', jsonb_build_object('database', database, 'project', project,
    'environment', environment, 'labels', labels));
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

-- Validates a group's condition: labels object, a regular expression that compiles (PostgreSQL's
-- engine: bounded and interruptible) and is not absurdly long.
CREATE FUNCTION bb._check_group_condition(labels jsonb, name_pattern text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF labels IS NULL OR jsonb_typeof(labels) <> 'object' THEN
    RAISE EXCEPTION 'labels must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example ''{"tier": "tenant"}''; use ''{}'' for no label condition.';
  END IF;
  IF name_pattern IS NOT NULL THEN
    IF length(name_pattern) > 1000 THEN
      RAISE EXCEPTION 'name_pattern is too long (% characters)', length(name_pattern)
        USING ERRCODE = 'invalid_regular_expression', HINT = 'Keep a name pattern under 1000 characters.';
    END IF;
    BEGIN
      PERFORM '' ~ name_pattern;
    EXCEPTION WHEN invalid_regular_expression OR program_limit_exceeded THEN
      RAISE EXCEPTION 'invalid name_pattern "%": %', bb._clip(name_pattern), SQLERRM
        USING ERRCODE = 'invalid_regular_expression', HINT = 'name_pattern is a POSIX regular expression.';
    END;
  END IF;
END $$;
COMMENT ON FUNCTION bb._check_group_condition(jsonb, text) IS 'Raises a clear error for a group condition that cannot work.';

-- The databases of a group now (vanished ones excluded); shared by apply, previews and views.
CREATE FUNCTION bb._group_members(group_id bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT x.id FROM bb.database_group g JOIN bb.database x ON x.project_id = g.project_id
   WHERE g.id = group_id AND x.vanished_at IS NULL AND x.labels @> g.labels
     AND (g.name_pattern IS NULL OR x.name ~ g.name_pattern)
$$;
COMMENT ON FUNCTION bb._group_members(bigint) IS 'Ids of the databases a group matches now.';

CREATE FUNCTION bb.create_database_group(project text, name text, labels jsonb DEFAULT '{}',
                                         name_pattern text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint; gid bigint;
BEGIN
  PERFORM bb._audit('create_database_group', jsonb_build_object('project', project, 'name', name,
    'labels', labels, 'name_pattern', name_pattern));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._check_name('database group', name);
  PERFORM bb._check_group_condition(labels, name_pattern);
  IF EXISTS (SELECT 1 FROM bb.database_group g WHERE g.project_id = proj AND g.name = create_database_group.name) THEN
    RAISE EXCEPTION 'database group "%" already exists in project "%"', name, project
      USING ERRCODE = 'duplicate_object', HINT = 'Group names are unique within a project; see bb.database_groups.';
  END IF;
  INSERT INTO bb.database_group (project_id, name, labels, name_pattern, created_by)
  VALUES (proj, name, labels, name_pattern, bb._caller())
  RETURNING id INTO gid;
  IF NOT EXISTS (SELECT 1 FROM bb._group_members(gid)) THEN
    RAISE NOTICE 'database group "%" matches no database of project "%" yet', name, project
      USING HINT = 'See bb.databases for the labels and names of the project''s databases.';
  END IF;
END $$;
COMMENT ON FUNCTION bb.create_database_group(text, text, jsonb, text) IS
  'Creates a database group: the project''s databases whose labels contain labels and whose name matches name_pattern.';
